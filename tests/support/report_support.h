/* Support for the reporting tests: the report actor started inside the test
   process (connected as dp_report, its dashboard on a free port), typed
   report requests, assertions on report tables, fixture rows written as the
   superuser with constant SQL (so that every figure is known in advance),
   an HTTP client (libcurl) and an RFC 4180 CSV reader.

   As in test_support.h, a helper that cannot do its job fails the current
   test, or exits 1 during setup. Names start with tr_ (test report). */
#ifndef REPORT_SUPPORT_H
#define REPORT_SUPPORT_H

#include <czmq.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "report.pb-c.h"
#include "test_support.h"

/* ---- The report service in process ------------------------------------------ */

/* The report service as the generic fixture starts it (service_support.h). */
typedef tf_service_t tr_report_t;

/* Starts report_actor on tcp://127.0.0.1:* with its dashboard on a free
   port of 127.0.0.1, against database_url (as dp_report). Returns NULL
   after printing why when it cannot start. */
tr_report_t *tr_report_start(const char *database_url);
/* Stops the actor ($TERM) and frees; safe to call twice. */
void tr_report_stop(tr_report_t **self_p);
/* The bound ZeroMQ endpoint (borrowed) and the dashboard's HTTP port. */
const char *tr_report_endpoint(const tr_report_t *self);
int tr_report_http_port(const tr_report_t *self);

/* Sends any request and waits (15 s) for the reply; as ts_call. */
ProtobufCMessage *tr_call(tr_report_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status);

/* The three reports; NULL unless the status is OK. Free with ts_free. */
Dp__ReportReply *tr_overview(tr_report_t *self, const char *as_of, dp_status_t *status);
Dp__ReportReply *tr_cooperation(tr_report_t *self, const char *as_of, const char *from,
                                const char *to, dp_status_t *status);
Dp__ReportReply *tr_enquiries(tr_report_t *self, const char *from, const char *to,
                              Dp__ReportGranularity granularity, dp_status_t *status);

/* The same, failing the test (with the server's message) unless OK and a
   report came back. Free with ts_free. */
Dp__ReportReply *tr_overview_ok_at(tr_report_t *self, const char *as_of, const char *file,
                                   int line);
#define tr_overview_ok(self, as_of) tr_overview_ok_at(self, as_of, __FILE__, __LINE__)
Dp__ReportReply *tr_cooperation_ok_at(tr_report_t *self, const char *as_of, const char *from,
                                      const char *to, const char *file, int line);
#define tr_cooperation_ok(self, as_of, from, to)                                                   \
    tr_cooperation_ok_at(self, as_of, from, to, __FILE__, __LINE__)
Dp__ReportReply *tr_enquiries_ok_at(tr_report_t *self, const char *from, const char *to,
                                    Dp__ReportGranularity granularity, const char *file, int line);
#define tr_enquiries_ok(self, from, to, granularity)                                               \
    tr_enquiries_ok_at(self, from, to, DP__REPORT_GRANULARITY__REPORT_GRANULARITY_##granularity,   \
                       __FILE__, __LINE__)

/* ---- A fixture: database, report service, admin connection ------------------- */

typedef struct {
    ts_database_t *database; /* this program's own database */
    tr_report_t *report;     /* the service under test, as dp_report */
    PGconn *admin;           /* superuser connection to the database */
} tr_fixture_t;

/* Creates and migrates the database and starts the report service on it;
   exits 1 on failure. */
tr_fixture_t *tr_fixture_new(const char *label);
void tr_fixture_destroy(tr_fixture_t **self_p);

struct CMUnitTest;

/* A report test program's run: the seeded tests against a fresh fixture
   that seed fills (its database labelled name), then empty_test alone
   against another fixture left empty (name_empty); *fixture is the
   program's fixture for the tests to use, made and destroyed here per
   group. Returns what main returns (0: every test passed). */
int tr_run(const char *name, tr_fixture_t **fixture, void (*seed)(PGconn *admin),
           const struct CMUnitTest *seeded, size_t seeded_count, void (*empty_test)(void **state));

/* ---- Tables ------------------------------------------------------------------- */

/* The report's table with that name; fails the test when it has none. */
const Dp__ReportTable *tr_table_at(const Dp__Report *report, const char *name, const char *file,
                                   int line);
#define tr_table(report, name) tr_table_at(report, name, __FILE__, __LINE__)

/* Fails the test unless the report was refused INVALID_ARGUMENT naming
   field: no reply, and the status says so (frees a reply that came). */
void tr_assert_refused_at(Dp__ReportReply *reply, const dp_status_t *status, const char *field,
                          const char *file, int line);
#define tr_assert_refused(reply, status, field)                                                    \
    tr_assert_refused_at(reply, status, field, __FILE__, __LINE__)

/* Fails the test unless the table has exactly these column headings
   ("|"-separated, e.g. "Kind|Active|Withdrawn|Joined"). */
void tr_assert_columns_at(const Dp__ReportTable *table, const char *columns, const char *file,
                          int line);
#define tr_assert_columns(table, columns) tr_assert_columns_at(table, columns, __FILE__, __LINE__)

/* Fails the test unless the table has exactly these rows, in this order;
   each expected row is its cells joined by "|" (an empty cell is empty
   text: "beta|Beta New||2|D 1"). The list ends with NULL. On failure the
   whole table is printed next to what was expected. */
void tr_assert_rows_at(const Dp__ReportTable *table, const char *const *rows, const char *file,
                       int line);
#define tr_assert_rows(table, ...)                                                                 \
    tr_assert_rows_at(table, (const char *const[]){__VA_ARGS__, NULL}, __FILE__, __LINE__)
/* The same for a table that must have no rows. */
#define tr_assert_no_rows(table)                                                                   \
    tr_assert_rows_at(table, (const char *const[]){NULL}, __FILE__, __LINE__)

/* A row's cells joined by "|" (static buffer ring: copy to keep). */
const char *tr_row_text(const Dp__ReportTable *table, size_t row);

/* ---- Fixture rows, written as the superuser ----------------------------------- */

/* Inserts a partner and its first name (valid from joined_on). kind is
   "company" or "association", precision "day", "month" or "year";
   withdrawn_on NULL for an active partner. Returns its id. */
int64_t tr_insert_partner(PGconn *admin, const char *slug, const char *kind, const char *joined_on,
                          const char *precision, const char *name, const char *withdrawn_on);
/* Adds a later name: valid_from NULL when the date of the change is not
   known, in which case it counts from recorded_at (a timestamptz). */
void tr_insert_name(PGconn *admin, int64_t partner_id, int position, const char *name,
                    const char *valid_from, const char *recorded_at);
/* An area or form with a given creation time (which orders them in reports). */
void tr_insert_area(PGconn *admin, const char *slug, const char *label, const char *created_at);
void tr_insert_form(PGconn *admin, const char *slug, const char *label, const char *created_at);
/* The partner declares the area. */
void tr_insert_partner_area(PGconn *admin, int64_t partner_id, const char *area_slug);
/* An engagement starting on starts_on; returns its id. */
int64_t tr_insert_engagement(PGconn *admin, int64_t partner_id, const char *form_slug,
                             const char *area_slug, const char *starts_on);

/* An enquiry as the report sees it. Unset (NULL / 0) fields take the
   defaults named here. */
typedef struct {
    const char *received_at;       /* timestamptz; NULL: now() - received_ago */
    const char *received_ago;      /* interval, e.g. "5 days"; used when received_at is NULL */
    const char *status;            /* default "received" */
    const char *kind;              /* default "other" */
    const char *source;            /* default "web" */
    int64_t partner_id;            /* 0: not from a partner */
    const char *first_response_in; /* interval after receipt, e.g. "4 hours"; NULL: none */
    const char *resolved_in;       /* interval after receipt; NULL: not resolved */
    const char *due_on;            /* date; NULL: due_in_days, or received date + 10 */
    const char *due_in_days;       /* days from current_date (negative: past), as text */
    const char *assignee;          /* default "" */
} tr_enquiry_t;

/* Inserts the enquiry (with placeholder personal data) and returns its id. */
int64_t tr_insert_enquiry(PGconn *admin, const tr_enquiry_t *enquiry);

/* ---- HTTP (libcurl) ----------------------------------------------------------- */

/* A finished HTTP exchange. */
typedef struct {
    long status;        /* HTTP status, 0 when the request failed */
    char *content_type; /* Content-Type header, "" when none */
    char *body;         /* the body (NUL-terminated) */
    size_t size;        /* bytes in body */
} tr_http_t;

/* Sends method ("GET", "HEAD", "POST", ...) to http://127.0.0.1:port<path>
   and waits at most 30 s; fails the test when no answer comes. */
tr_http_t tr_http_at(int port, const char *method, const char *path, const char *file, int line);
#define tr_http(port, method, path) tr_http_at(port, method, path, __FILE__, __LINE__)
void tr_http_free(tr_http_t *response);

/* ---- CSV ------------------------------------------------------------------------ */

/* CSV text split into records and fields (RFC 4180: quoted fields may hold
   commas, doubled quotes and line breaks; records end with CRLF or LF). An
   empty line is a record with no fields. */
typedef struct {
    size_t rows;    /* records */
    size_t *cells;  /* fields per record */
    char ***values; /* values[row][cell], NUL-terminated */
    int malformed;  /* 1 when a quote was left open or stray text followed a quote */
} tr_csv_t;

tr_csv_t *tr_csv_parse(const char *text, size_t size);
void tr_csv_free(tr_csv_t **csv_p);
/* A record's fields joined by "|" (static buffer ring). */
const char *tr_csv_row_text(const tr_csv_t *csv, size_t row);

/* ---- Dates ------------------------------------------------------------------------- */

/* Today's date in UTC as YYYY-MM-DD, shifted by days (static buffer ring). */
const char *tr_today_plus(int days);
/* Whole days from date a to date b (both YYYY-MM-DD): b - a. */
long tr_days_between(const char *a, const char *b);

#endif
