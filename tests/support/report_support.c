#include "report_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "dp_client.h"
#include "dp_config.h"
#include "dp_server.h"

/* ---- The report service in process ------------------------------------------ */

tr_report_t *tr_report_start(const char *database_url)
{
    tr_report_t *self = tf_service_start(TF_REPORT, database_url, NULL);
    if (!self)
        return NULL;
    if (tf_service_http_port(self) <= 0) {
        fprintf(stderr, "the report actor did not tell its HTTP port\n");
        tr_report_stop(&self);
        return NULL;
    }
    return self;
}

void tr_report_stop(tr_report_t **self_p)
{
    tf_service_stop(self_p);
}

const char *tr_report_endpoint(const tr_report_t *self)
{
    return tf_service_endpoint(self);
}

int tr_report_http_port(const tr_report_t *self)
{
    return tf_service_http_port(self);
}

ProtobufCMessage *tr_call(tr_report_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status)
{
    return tf_call(self, request, reply_type, status);
}

Dp__ReportReply *tr_overview(tr_report_t *self, const char *as_of, dp_status_t *status)
{
    Dp__OverviewReportRequest request = DP__OVERVIEW_REPORT_REQUEST__INIT;
    request.as_of = (char *)(as_of ? as_of : "");
    return (Dp__ReportReply *)tr_call(self, &request.base, &dp__report_reply__descriptor, status);
}

Dp__ReportReply *tr_cooperation(tr_report_t *self, const char *as_of, const char *from,
                                const char *to, dp_status_t *status)
{
    Dp__CooperationReportRequest request = DP__COOPERATION_REPORT_REQUEST__INIT;
    request.as_of = (char *)(as_of ? as_of : "");
    request.period_from = (char *)(from ? from : "");
    request.period_to = (char *)(to ? to : "");
    return (Dp__ReportReply *)tr_call(self, &request.base, &dp__report_reply__descriptor, status);
}

Dp__ReportReply *tr_enquiries(tr_report_t *self, const char *from, const char *to,
                              Dp__ReportGranularity granularity, dp_status_t *status)
{
    Dp__EnquiriesReportRequest request = DP__ENQUIRIES_REPORT_REQUEST__INIT;
    request.period_from = (char *)(from ? from : "");
    request.period_to = (char *)(to ? to : "");
    request.granularity = granularity;
    return (Dp__ReportReply *)tr_call(self, &request.base, &dp__report_reply__descriptor, status);
}

static Dp__ReportReply *s_expect_report(Dp__ReportReply *reply, const dp_status_t *status,
                                        const char *file, int line)
{
    ts_assert_status_at(status, DP__CODE__CODE_OK, NULL, file, line);
    if (!reply || !reply->report) {
        print_error("the report service answered OK without a %s\n", reply ? "report" : "reply");
        ts_free(&reply);
        _fail(file, line);
    }
    return reply;
}

Dp__ReportReply *tr_overview_ok_at(tr_report_t *self, const char *as_of, const char *file, int line)
{
    dp_status_t status;
    Dp__ReportReply *reply = tr_overview(self, as_of, &status);
    return s_expect_report(reply, &status, file, line);
}

Dp__ReportReply *tr_cooperation_ok_at(tr_report_t *self, const char *as_of, const char *from,
                                      const char *to, const char *file, int line)
{
    dp_status_t status;
    Dp__ReportReply *reply = tr_cooperation(self, as_of, from, to, &status);
    return s_expect_report(reply, &status, file, line);
}

Dp__ReportReply *tr_enquiries_ok_at(tr_report_t *self, const char *from, const char *to,
                                    Dp__ReportGranularity granularity, const char *file, int line)
{
    dp_status_t status;
    Dp__ReportReply *reply = tr_enquiries(self, from, to, granularity, &status);
    return s_expect_report(reply, &status, file, line);
}

/* ---- Fixture ------------------------------------------------------------------- */

tr_fixture_t *tr_fixture_new(const char *label)
{
    tr_fixture_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->database = ts_database_new(label);
    self->admin = ts_connect_or_exit(ts_database_url(self->database, TS_ROLE_ADMIN));
    /* Fixture timestamps are written in UTC, as the service reads them. */
    PQclear(ts_query(self->admin, "SET TimeZone = 'UTC'", 0, NULL));
    self->report = tr_report_start(ts_database_url(self->database, TS_ROLE_REPORT));
    if (!self->report) {
        fprintf(stderr, "FATAL: cannot start the report service on %s\n",
                ts_database_name(self->database));
        tr_fixture_destroy(&self);
        exit(1);
    }
    return self;
}

void tr_fixture_destroy(tr_fixture_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tr_fixture_t *self = *self_p;
    tr_report_stop(&self->report);
    if (self->admin)
        PQfinish(self->admin);
    ts_database_destroy(&self->database);
    free(self);
    *self_p = NULL;
}

/* What tr_run's group fixtures work on: one run at a time per program. */
static struct {
    tr_fixture_t **fixture;
    void (*seed)(PGconn *admin);
    char label[96];
} s_run;

static int s_run_setup(void **state)
{
    *s_run.fixture = tr_fixture_new(s_run.label);
    if (s_run.seed)
        s_run.seed((*s_run.fixture)->admin);
    return 0;
}

static int s_run_teardown(void **state)
{
    tr_fixture_destroy(s_run.fixture);
    return 0;
}

int tr_run(const char *name, tr_fixture_t **fixture, void (*seed)(PGconn *admin),
           const struct CMUnitTest *seeded, size_t seeded_count, CMUnitTestFunction empty_test)
{
    const struct CMUnitTest empty[] = {{"test_empty_database", empty_test, NULL, NULL, NULL}};
    s_run.fixture = fixture;
    s_run.seed = seed;
    snprintf(s_run.label, sizeof s_run.label, "%s", name);
    int failed = _cmocka_run_group_tests(name, seeded, seeded_count, s_run_setup, s_run_teardown);
    s_run.seed = NULL;
    snprintf(s_run.label, sizeof s_run.label, "%s_empty", name);
    failed += _cmocka_run_group_tests(s_run.label, empty, 1, s_run_setup, s_run_teardown);
    return failed ? 1 : 0;
}

/* ---- Tables ------------------------------------------------------------------- */

const Dp__ReportTable *tr_table_at(const Dp__Report *report, const char *name, const char *file,
                                   int line)
{
    for (size_t t = 0; t < report->n_tables; t++)
        if (strcmp(report->tables[t]->name, name) == 0)
            return report->tables[t];
    print_error("report %s has no table %s; it has:", report->name, name);
    for (size_t t = 0; t < report->n_tables; t++)
        print_error(" %s", report->tables[t]->name);
    print_error("\n");
    _fail(file, line);
    return NULL;
}

/* Cells joined by "|" into a growing buffer; the caller frees. */
static char *s_join(char *const *cells, size_t count)
{
    size_t length = 1;
    for (size_t c = 0; c < count; c++)
        length += strlen(cells[c]) + 1;
    char *text = malloc(length);
    assert_non_null(text);
    text[0] = 0;
    for (size_t c = 0; c < count; c++) {
        if (c)
            strcat(text, "|");
        strcat(text, cells[c]);
    }
    return text;
}

static const char *s_ring(const char *text)
{
    static char *ring[8];
    static unsigned counter;
    char **slot = &ring[counter++ % 8];
    free(*slot);
    *slot = strdup(text);
    assert_non_null(*slot);
    return *slot;
}

const char *tr_row_text(const Dp__ReportTable *table, size_t row)
{
    char *text = s_join(table->rows[row]->cells, table->rows[row]->n_cells);
    const char *kept = s_ring(text);
    free(text);
    return kept;
}

void tr_assert_refused_at(Dp__ReportReply *reply, const dp_status_t *status, const char *field,
                          const char *file, int line)
{
    if (reply) {
        ts_free(&reply);
        print_error("the report was answered; expected a refusal naming %s\n", field);
        _fail(file, line);
    }
    ts_assert_status_at(status, DP__CODE__CODE_INVALID_ARGUMENT, field, file, line);
}

void tr_assert_columns_at(const Dp__ReportTable *table, const char *columns, const char *file,
                          int line)
{
    char *actual = s_join(table->columns, table->n_columns);
    bool same = strcmp(actual, columns) == 0;
    if (!same)
        print_error("table %s: columns\n  expected %s\n  got      %s\n", table->name, columns,
                    actual);
    free(actual);
    if (!same)
        _fail(file, line);
}

void tr_assert_rows_at(const Dp__ReportTable *table, const char *const *rows, const char *file,
                       int line)
{
    size_t expected = 0;
    while (rows[expected])
        expected++;
    bool same = expected == table->n_rows;
    for (size_t r = 0; same && r < expected; r++) {
        char *actual = s_join(table->rows[r]->cells, table->rows[r]->n_cells);
        same = strcmp(actual, rows[r]) == 0;
        free(actual);
    }
    if (same)
        return;
    print_error("table %s: rows differ\n  expected (%zu):\n", table->name, expected);
    for (size_t r = 0; r < expected; r++)
        print_error("    %s\n", rows[r]);
    print_error("  got (%zu):\n", table->n_rows);
    for (size_t r = 0; r < table->n_rows; r++) {
        char *actual = s_join(table->rows[r]->cells, table->rows[r]->n_cells);
        print_error("    %s%s\n", actual,
                    r < expected && strcmp(actual, rows[r]) ? "   <-- differs" : "");
        free(actual);
    }
    _fail(file, line);
}

/* ---- Fixture rows ---------------------------------------------------------------- */

int64_t tr_insert_partner(PGconn *admin, const char *slug, const char *kind, const char *joined_on,
                          const char *precision, const char *name, const char *withdrawn_on)
{
    const char *params[] = {slug, kind, joined_on, precision, name, withdrawn_on};
    return ts_query_long(
        admin,
        "WITH p AS (INSERT INTO registry.partner (slug, kind, joined_on, joined_precision,"
        "                                         status, withdrawn_on)"
        "           VALUES ($1, $2, $3::date, $4,"
        "                   CASE WHEN $6::date IS NULL THEN 'active' ELSE 'withdrawn' END,"
        "                   $6::date)"
        "           RETURNING id, joined_on)"
        " INSERT INTO registry.partner_name (partner_id, position, name, valid_from)"
        " SELECT id, 1, $5, joined_on FROM p RETURNING partner_id",
        6, params);
}

void tr_insert_name(PGconn *admin, int64_t partner_id, int position, const char *name,
                    const char *valid_from, const char *recorded_at)
{
    char position_text[16];
    snprintf(position_text, sizeof position_text, "%d", position);
    const char *params[] = {ts_id_text(partner_id), position_text, name, valid_from, recorded_at};
    PQclear(ts_query(admin,
                     "INSERT INTO registry.partner_name (partner_id, position, name, valid_from,"
                     " recorded_at) VALUES ($1::bigint, $2::int, $3, $4::date,"
                     " COALESCE($5::timestamptz, now()))",
                     5, params));
}

/* A row of a reference list: table "area" or "form". */
static void s_insert_reference(PGconn *admin, const char *table, const char *slug,
                               const char *label, const char *created_at)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT INTO registry.%s (slug, label, created_at) VALUES ($1, $2, $3::timestamptz)",
             table);
    const char *params[] = {slug, label, created_at};
    PQclear(ts_query(admin, sql, 3, params));
}

void tr_insert_area(PGconn *admin, const char *slug, const char *label, const char *created_at)
{
    s_insert_reference(admin, "area", slug, label, created_at);
}

void tr_insert_form(PGconn *admin, const char *slug, const char *label, const char *created_at)
{
    s_insert_reference(admin, "form", slug, label, created_at);
}

void tr_insert_partner_area(PGconn *admin, int64_t partner_id, const char *area_slug)
{
    const char *params[] = {ts_id_text(partner_id), area_slug};
    PQclear(ts_query(admin,
                     "INSERT INTO registry.partner_area (partner_id, area_slug)"
                     " VALUES ($1::bigint, $2)",
                     2, params));
}

int64_t tr_insert_engagement(PGconn *admin, int64_t partner_id, const char *form_slug,
                             const char *area_slug, const char *starts_on)
{
    const char *params[] = {ts_id_text(partner_id), form_slug, area_slug, starts_on};
    return ts_query_long(admin,
                         "INSERT INTO registry.engagement (partner_id, form_slug, area_slug,"
                         " title, starts_on) VALUES ($1::bigint, $2, $3,"
                         " $2 || ' on ' || $3 || ' from ' || $4, $4::date) RETURNING id",
                         4, params);
}

int64_t tr_insert_enquiry(PGconn *admin, const tr_enquiry_t *enquiry)
{
    static unsigned counter;
    char key[48];
    snprintf(key, sizeof key, "report-test-%u", ++counter);
    const char *params[] = {enquiry->received_at,
                            enquiry->received_ago ? enquiry->received_ago : "0 seconds",
                            enquiry->source ? enquiry->source : "web",
                            key,
                            enquiry->kind ? enquiry->kind : "other",
                            enquiry->status ? enquiry->status : "received",
                            enquiry->partner_id ? ts_id_text(enquiry->partner_id) : NULL,
                            enquiry->first_response_in,
                            enquiry->resolved_in,
                            enquiry->due_on,
                            enquiry->due_in_days,
                            enquiry->assignee ? enquiry->assignee : ""};
    return ts_query_long(
        admin,
        "WITH r AS (SELECT COALESCE($1::timestamptz, now() - $2::interval) AS at)"
        " INSERT INTO intake.enquiry (source, idempotency_key, content_hash, sender_name, email,"
        "   kind, subject, subject_key, body, received_at, status, partner_id, partner_slug,"
        "   first_response_at, resolved_at, due_on, assignee)"
        " SELECT $3, $4, md5($4), 'Private Sender', 'private.sender@example.org', $5,"
        "   'Private subject ' || $4, 'private subject ' || $4, 'Private body ' || $4, r.at, $6,"
        "   $7::bigint,"
        "   COALESCE((SELECT p.slug FROM registry.partner p WHERE p.id = $7::bigint), ''),"
        "   r.at + $8::interval, r.at + $9::interval,"
        "   COALESCE($10::date, current_date + $11::int, r.at::date + 10), $12"
        " FROM r RETURNING id",
        12, params);
}

/* ---- HTTP ------------------------------------------------------------------------- */

static size_t s_collect_body(char *data, size_t size, size_t count, void *user)
{
    tr_http_t *response = user;
    size_t bytes = size * count;
    char *grown = realloc(response->body, response->size + bytes + 1);
    if (!grown)
        return 0;
    memcpy(grown + response->size, data, bytes);
    response->size += bytes;
    grown[response->size] = 0;
    response->body = grown;
    return bytes;
}

tr_http_t tr_http_at(int port, const char *method, const char *path, const char *file, int line)
{
    static bool initialised;
    if (!initialised) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        initialised = true;
    }
    tr_http_t response = {.body = calloc(1, 1), .content_type = NULL};
    assert_non_null(response.body);
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "as_of=2021-01-01");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 16L);
    } else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    CURLcode outcome = curl_easy_perform(curl);
    if (outcome != CURLE_OK) {
        print_error("%s %s failed: %s\n", method, url,
                    *error ? error : curl_easy_strerror(outcome));
        curl_easy_cleanup(curl);
        free(response.body);
        _fail(file, line);
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    char *content_type = NULL;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &content_type);
    response.content_type = strdup(content_type ? content_type : "");
    curl_easy_cleanup(curl);
    return response;
}

void tr_http_free(tr_http_t *response)
{
    free(response->body);
    free(response->content_type);
    response->body = response->content_type = NULL;
}

/* ---- CSV ------------------------------------------------------------------------------ */

/* A growing text. */
typedef struct {
    char *text;    /* NUL-terminated */
    size_t length; /* bytes used */
} s_text_t;

static void s_text_add(s_text_t *text, char c)
{
    text->text = realloc(text->text, text->length + 2);
    assert_non_null(text->text);
    text->text[text->length++] = c;
    text->text[text->length] = 0;
}

static void s_csv_end_field(tr_csv_t *csv, s_text_t *field)
{
    size_t row = csv->rows - 1;
    csv->values[row] = realloc(csv->values[row], (csv->cells[row] + 1) * sizeof(char *));
    assert_non_null(csv->values[row]);
    csv->values[row][csv->cells[row]++] = field->text ? field->text : strdup("");
    field->text = NULL;
    field->length = 0;
}

static void s_csv_new_row(tr_csv_t *csv)
{
    csv->rows++;
    csv->cells = realloc(csv->cells, csv->rows * sizeof *csv->cells);
    csv->values = realloc(csv->values, csv->rows * sizeof *csv->values);
    assert_non_null(csv->cells);
    assert_non_null(csv->values);
    csv->cells[csv->rows - 1] = 0;
    csv->values[csv->rows - 1] = NULL;
}

tr_csv_t *tr_csv_parse(const char *text, size_t size)
{
    tr_csv_t *csv = calloc(1, sizeof *csv);
    assert_non_null(csv);
    size_t i = 0;
    while (i < size) {
        s_csv_new_row(csv);
        s_text_t field = {0};
        /* An empty line: a record without fields. */
        if (text[i] == '\n' || (text[i] == '\r' && i + 1 < size && text[i + 1] == '\n')) {
            i += text[i] == '\r' ? 2 : 1;
            continue;
        }
        bool row_done = false;
        while (!row_done) {
            if (i < size && text[i] == '"') {
                i++;
                bool closed = false;
                while (i < size && !closed) {
                    if (text[i] == '"' && i + 1 < size && text[i + 1] == '"') {
                        s_text_add(&field, '"');
                        i += 2;
                    } else if (text[i] == '"') {
                        closed = true;
                        i++;
                    } else
                        s_text_add(&field, text[i++]);
                }
                if (!closed)
                    csv->malformed = 1;
                if (i < size && text[i] != ',' && text[i] != '\r' && text[i] != '\n')
                    csv->malformed = 1;
            }
            while (i < size && text[i] != ',' && text[i] != '\r' && text[i] != '\n')
                s_text_add(&field, text[i++]);
            s_csv_end_field(csv, &field);
            if (i < size && text[i] == ',') {
                i++;
                continue;
            }
            if (i < size && text[i] == '\r')
                i++;
            if (i < size && text[i] == '\n')
                i++;
            row_done = true;
        }
    }
    return csv;
}

void tr_csv_free(tr_csv_t **csv_p)
{
    if (!csv_p || !*csv_p)
        return;
    tr_csv_t *csv = *csv_p;
    for (size_t r = 0; r < csv->rows; r++) {
        for (size_t c = 0; c < csv->cells[r]; c++)
            free(csv->values[r][c]);
        free(csv->values[r]);
    }
    free(csv->values);
    free(csv->cells);
    free(csv);
    *csv_p = NULL;
}

const char *tr_csv_row_text(const tr_csv_t *csv, size_t row)
{
    char *text = s_join(csv->values[row], csv->cells[row]);
    const char *kept = s_ring(text);
    free(text);
    return kept;
}

/* ---- Dates ---------------------------------------------------------------------------- */

const char *tr_today_plus(int days)
{
    static char ring[8][11];
    static unsigned counter;
    char *slot = ring[counter++ % 8];
    time_t moment = time(NULL) + (time_t)days * 86400;
    struct tm utc;
    gmtime_r(&moment, &utc);
    strftime(slot, sizeof ring[0], "%Y-%m-%d", &utc);
    return slot;
}

static time_t s_noon(const char *date)
{
    struct tm day = {0};
    if (sscanf(date, "%d-%d-%d", &day.tm_year, &day.tm_mon, &day.tm_mday) != 3)
        fail_msg("not a date: %s", date);
    day.tm_year -= 1900;
    day.tm_mon -= 1;
    day.tm_hour = 12;
    return timegm(&day);
}

long tr_days_between(const char *a, const char *b)
{
    return (long)((s_noon(b) - s_noon(a)) / 86400);
}
