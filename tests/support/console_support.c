#include "console_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "console_server.h"
#include "dp_config.h"
#include "dp_security.h"
#include "dp_server.h"

enum { CALL_TIMEOUT_MS = 15000, HTTP_TIMEOUT_MS = 30000 };

/* Where nothing listens: a peer the test leaves out. */
static const char s_nowhere[] = "tcp://127.0.0.1:9";

static const char *const s_peer_settings[TF_SERVICE_COUNT] = {
    "DP_REGISTRY_ENDPOINT", "DP_INTAKE_ENDPOINT", "DP_NOTIFY_ENDPOINT", "DP_REPORT_ENDPOINT"};

/* ---- The console in process ----------------------------------------------------- */

struct _tc_console_t {
    dp_config_t *config;   /* its settings; must outlive the actor */
    char *database_url;    /* the database as dp_console */
    zactor_t *actor;       /* console_actor */
    char *endpoint;        /* its ZeroMQ endpoint */
    int http_port;         /* its web pages */
    dp_client_keys_t keys; /* CURVE keys of the staff client, when used */
    bool with_keys;        /* keys loaded */
    dp_client_t *client;   /* the staff client, made at its first use */
};

/* The dp_report URL with the user dp_console instead: the roles share the
   cluster's authentication. */
static char *s_console_url(const ts_database_t *database)
{
    const char *report = ts_database_url(database, TS_ROLE_REPORT);
    const char *user = strstr(report, "dp_report");
    if (!user)
        return NULL;
    size_t before = (size_t)(user - report);
    char *url = malloc(strlen(report) + 2);
    if (!url)
        return NULL;
    snprintf(url, strlen(report) + 2, "%.*sdp_console%s", (int)before, report,
             user + strlen("dp_report"));
    return url;
}

static bool s_set(tc_console_t *self, const char *name, const char *value)
{
    if (dp_config_set(self->config, name, value) == 0)
        return true;
    fprintf(stderr, "cannot set %s=%s for the console\n", name, value);
    return false;
}

tc_console_t *tc_console_start(const ts_database_t *database, const tc_peers_t *peers,
                               const char *const *settings)
{
    tc_console_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->database_url = s_console_url(database);
    self->config =
        dp_config_new("console", "console under test", console_settings, console_setting_count);
    bool ok = self->database_url && self->config &&
              s_set(self, "DP_DATABASE_URL", self->database_url) &&
              s_set(self, "DP_CONSOLE_ENDPOINT", "tcp://127.0.0.1:*") &&
              s_set(self, "DP_CONSOLE_HTTP_PORT", "0") && s_set(self, "DP_METRICS_PORT", "-1") &&
              s_set(self, "DP_DB_WAIT_MS", "10000");
    for (int peer = 0; ok && peer < TF_SERVICE_COUNT; peer++)
        ok = s_set(self, s_peer_settings[peer],
                   peers && peers->endpoints[peer] ? peers->endpoints[peer] : s_nowhere);
    for (const char *const *pair = settings; ok && pair && pair[0]; pair += 2)
        ok = s_set(self, pair[0], pair[1]);
    if (ok)
        self->actor = dp_server_start(console_actor, self->config, &self->endpoint);
    if (!self->actor) {
        fprintf(stderr, "the console actor did not start\n");
        tc_console_stop(&self);
        return NULL;
    }
    zstr_send(self->actor, "HTTP_PORT");
    char *port = zstr_recv(self->actor);
    self->http_port = port ? atoi(port) : 0;
    zstr_free(&port);
    if (self->http_port <= 0) {
        fprintf(stderr, "the console gave no web port\n");
        tc_console_stop(&self);
        return NULL;
    }
    return self;
}

void tc_console_stop(tc_console_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tc_console_t *self = *self_p;
    dp_client_destroy(&self->client);
    zactor_destroy(&self->actor);
    zstr_free(&self->endpoint);
    if (self->with_keys)
        dp_client_keys_free(&self->keys);
    dp_config_destroy(&self->config);
    free(self->database_url);
    free(self);
    *self_p = NULL;
}

const char *tc_console_endpoint(const tc_console_t *self)
{
    return self->endpoint;
}

int tc_console_port(const tc_console_t *self)
{
    return self->http_port;
}

void tc_console_use_keys(tc_console_t *self, const char *curve_dir, const char *client_cert)
{
    assert_null(self->client);
    assert_int_equal(dp_client_keys_load(&self->keys, curve_dir, client_cert, "console"), 1);
    self->with_keys = true;
}

ProtobufCMessage *tc_call(tc_console_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status)
{
    if (!self->client) {
        self->client = dp_client_new(self->endpoint, CALL_TIMEOUT_MS, 1);
        if (!self->client)
            fail_msg("cannot connect a client to the console at %s", self->endpoint);
        if (self->with_keys)
            dp_client_set_keys(self->client, &self->keys);
    }
    ProtobufCMessage *reply = NULL;
    if (dp_client_call(self->client, request, reply_type, &reply, status) != 0)
        fail_msg("%s got no reply from the console: %s", request->descriptor->name,
                 status->message);
    if (status->code != DP__CODE__CODE_OK)
        dp_message_free(&reply);
    return reply;
}

/* Sends a staff-account request that must be answered OK with the account. */
static void s_staff_call(tc_console_t *self, const ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *reply_type, const char *login,
                         const char *file, int line)
{
    dp_status_t status;
    ProtobufCMessage *reply = tc_call(self, request, reply_type, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_OK, NULL, file, line);
    /* Every reply of these requests is { StaffAccount account = 1; }. */
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(reply_type, "account");
    const Dp__StaffAccount *account =
        reply && field ? *(Dp__StaffAccount **)((char *)reply + field->offset) : NULL;
    bool right = account && strcmp(account->login, login) == 0;
    dp_message_free(&reply);
    if (!right) {
        print_error("%s answered OK without the account '%s'\n", request->descriptor->name, login);
        _fail(file, line);
    }
}

void tc_add_staff_at(tc_console_t *self, const char *login, const char *name, Dp__StaffRole role,
                     const char *password, const char *file, int line)
{
    Dp__AddStaffRequest request = DP__ADD_STAFF_REQUEST__INIT;
    request.login = (char *)login;
    request.name = (char *)name;
    request.role = role;
    request.password = (char *)password;
    s_staff_call(self, &request.base, &dp__add_staff_reply__descriptor, login, file, line);
}

void tc_disable_staff_at(tc_console_t *self, const char *login, bool enable, const char *file,
                         int line)
{
    Dp__DisableStaffRequest request = DP__DISABLE_STAFF_REQUEST__INIT;
    request.login = (char *)login;
    request.enable = enable;
    s_staff_call(self, &request.base, &dp__disable_staff_reply__descriptor, login, file, line);
}

void tc_reset_password_at(tc_console_t *self, const char *login, const char *password,
                          const char *file, int line)
{
    Dp__ResetStaffPasswordRequest request = DP__RESET_STAFF_PASSWORD_REQUEST__INIT;
    request.login = (char *)login;
    request.password = (char *)password;
    s_staff_call(self, &request.base, &dp__reset_staff_password_reply__descriptor, login, file,
                 line);
}

/* ---- The fixture ------------------------------------------------------------------ */

static void s_fatal(tc_fixture_t **self_p, const char *what)
{
    fprintf(stderr, "FATAL: cannot start the %s\n", what);
    tc_fixture_destroy(self_p);
    exit(1);
}

tc_fixture_t *tc_fixture_new(const char *label, const char *const *settings)
{
    tc_fixture_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->people = zlist_new();
    assert_non_null(self->people);
    self->base = ti_fixture_new(label);
    ti_fixture_start_intake(self->base, NULL);
    const ts_database_t *database = self->base->database;
    self->notify = tf_service_start(TF_NOTIFY, ts_database_url(database, TS_ROLE_NOTIFY), NULL);
    if (!self->notify)
        s_fatal(&self, "notify");
    self->report = tf_service_start(TF_REPORT, ts_database_url(database, TS_ROLE_REPORT), NULL);
    if (!self->report)
        s_fatal(&self, "report service");
    tc_peers_t peers = tc_fixture_peers(self);
    self->console = tc_console_start(database, &peers, settings);
    if (!self->console)
        s_fatal(&self, "console");
    return self;
}

tc_peers_t tc_fixture_peers(const tc_fixture_t *self)
{
    tc_peers_t peers = {{NULL}};
    peers.endpoints[TF_REGISTRY] = ts_registry_endpoint(self->base->registry);
    peers.endpoints[TF_INTAKE] = self->base->intake ? ti_intake_endpoint(self->base->intake) : NULL;
    peers.endpoints[TF_NOTIFY] = tf_service_endpoint(self->notify);
    peers.endpoints[TF_REPORT] = tf_service_endpoint(self->report);
    return peers;
}

int tc_fixture_run(tc_fixture_t **self_p, const char *name, const struct CMUnitTest *tests,
                   size_t count, int (*setup)(void **state))
{
    int failed = _cmocka_run_group_tests(name, tests, count, setup, NULL);
    tc_fixture_destroy(self_p);
    return failed;
}

void tc_fixture_destroy(tc_fixture_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tc_fixture_t *self = *self_p;
    for (tc_browser_t *browser = zlist_first(self->people); browser;
         browser = zlist_next(self->people))
        tc_browser_destroy(&browser);
    zlist_destroy(&self->people);
    tc_console_stop(&self->console);
    tf_service_stop(&self->report);
    tf_service_stop(&self->notify);
    ti_fixture_destroy(&self->base);
    free(self);
    *self_p = NULL;
}

/* ---- A person's browser ---------------------------------------------------------- */

struct _tc_browser_t {
    CURL *curl;      /* one handle: its cookie jar is the person's */
    int port;        /* the console's web port */
    char source[64]; /* CURLOPT_INTERFACE: "host!<address>" */
};

tc_browser_t *tc_browser_new(const tc_console_t *console, const char *source_address)
{
    static bool initialised;
    if (!initialised) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        initialised = true;
    }
    tc_browser_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->curl = curl_easy_init();
    assert_non_null(self->curl);
    self->port = console->http_port;
    snprintf(self->source, sizeof self->source, "host!%s",
             source_address ? source_address : "127.0.0.1");
    /* An empty file name turns the cookie engine on without reading a file. */
    curl_easy_setopt(self->curl, CURLOPT_COOKIEFILE, "");
    return self;
}

void tc_browser_destroy(tc_browser_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    curl_easy_cleanup((*self_p)->curl);
    free(*self_p);
    *self_p = NULL;
}

/* A growing text. */
typedef struct {
    char *text;
    size_t length;
} text_t;

static size_t s_collect(char *data, size_t size, size_t count, void *user)
{
    text_t *text = user;
    size_t bytes = size * count;
    char *grown = realloc(text->text, text->length + bytes + 1);
    if (!grown)
        return 0;
    memcpy(grown + text->length, data, bytes);
    text->length += bytes;
    grown[text->length] = '\0';
    text->text = grown;
    return bytes;
}

static void s_append(text_t *text, const char *data)
{
    s_collect((char *)data, 1, strlen(data), text);
}

/* The headers every answer carries (docs/console.md). */
static void s_assert_headers(const tc_response_t *response, const char *what, const char *file,
                             int line)
{
    char *policy = tc_header(response, "Content-Security-Policy");
    char *sniff = tc_header(response, "X-Content-Type-Options");
    bool right = policy && !strstr(policy, "unsafe-inline") && strstr(policy, "default-src") &&
                 sniff && strcmp(sniff, "nosniff") == 0;
    if (!right)
        print_error("%s: answered without its security headers (Content-Security-Policy: %s; "
                    "X-Content-Type-Options: %s)\n",
                    what, policy ? policy : "(none)", sniff ? sniff : "(none)");
    free(policy);
    free(sniff);
    if (!right)
        _fail(file, line);
}

static tc_response_t s_perform(tc_browser_t *self, const char *path, const char *form,
                               const char *file, int line)
{
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", self->port, path);
    text_t body = {calloc(1, 1), 0}, headers = {calloc(1, 1), 0};
    assert_non_null(body.text);
    assert_non_null(headers.text);
    CURL *curl = self->curl;
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_INTERFACE, self->source);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)HTTP_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, s_collect);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
    if (form) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    } else
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    CURLcode outcome = curl_easy_perform(curl);
    tc_response_t response = {0, headers.text, body.text};
    if (outcome != CURLE_OK) {
        print_error("%s %s failed: %s\n", form ? "POST" : "GET", path,
                    *error ? error : curl_easy_strerror(outcome));
        tc_response_free(&response);
        _fail(file, line);
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    char what[2100];
    snprintf(what, sizeof what, "%s %s", form ? "POST" : "GET", path);
    s_assert_headers(&response, what, file, line);
    return response;
}

tc_response_t tc_get_at(tc_browser_t *self, const char *path, const char *file, int line)
{
    return s_perform(self, path, NULL, file, line);
}

tc_response_t tc_post_at(tc_browser_t *self, const char *path, const char *const *fields,
                         const char *file, int line)
{
    text_t form = {calloc(1, 1), 0};
    assert_non_null(form.text);
    for (const char *const *pair = fields; pair && pair[0]; pair += 2) {
        char *name = curl_easy_escape(self->curl, pair[0], 0);
        char *value = curl_easy_escape(self->curl, pair[1] ? pair[1] : "", 0);
        assert_non_null(name);
        assert_non_null(value);
        if (form.length)
            s_append(&form, "&");
        s_append(&form, name);
        s_append(&form, "=");
        s_append(&form, value);
        curl_free(name);
        curl_free(value);
    }
    tc_response_t response = s_perform(self, path, form.text, file, line);
    free(form.text);
    return response;
}

void tc_response_free(tc_response_t *response)
{
    free(response->headers);
    free(response->body);
    response->headers = response->body = NULL;
}

char *tc_header(const tc_response_t *response, const char *name)
{
    size_t length = strlen(name);
    for (const char *line = response->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t size = end ? (size_t)(end - line) : strlen(line);
        if (size > length && strncasecmp(line, name, length) == 0 && line[length] == ':') {
            const char *value = line + length + 1;
            while (*value == ' ')
                value++;
            return strndup(value, size - (size_t)(value - line));
        }
        line = end ? end + 2 : line + size;
    }
    return NULL;
}

void tc_assert_status_at(const tc_response_t *response, long status, const char *location_prefix,
                         const char *file, int line)
{
    char *location = tc_header(response, "Location");
    bool right = response->status == status &&
                 (!location_prefix ||
                  (location && strncmp(location, location_prefix, strlen(location_prefix)) == 0));
    if (!right)
        print_error("expected %ld%s%s, got %ld (Location: %s); the page said:\n%.3000s\n", status,
                    location_prefix ? " to " : "", location_prefix ? location_prefix : "",
                    response->status, location ? location : "(none)", response->body);
    free(location);
    if (!right)
        _fail(file, line);
}

void tc_assert_body_at(const tc_response_t *response, const char *text, bool present,
                       const char *file, int line)
{
    if ((strstr(response->body, text) != NULL) == present)
        return;
    print_error("the page (%ld) %s '%s':\n%.4000s\n", response->status,
                present ? "lacks" : "contains", text, response->body);
    _fail(file, line);
}

char *tc_element_text(const tc_response_t *response, const char *id)
{
    char needle[160];
    snprintf(needle, sizeof needle, "id=\"%s\"", id);
    const char *at = strstr(response->body, needle);
    const char *start = at ? strchr(at, '>') : NULL;
    if (!start)
        return NULL;
    start++;
    const char *end = strchr(start, '<');
    return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

char *tc_csrf_at(const tc_response_t *response, const char *file, int line)
{
    static const char needle[] = "name=\"csrf\" value=\"";
    const char *at = strstr(response->body, needle);
    const char *end = at ? strchr(at + strlen(needle), '"') : NULL;
    if (!end || end == at + strlen(needle)) {
        print_error("the page (%ld) has no csrf field:\n%.3000s\n", response->status,
                    response->body);
        _fail(file, line);
    }
    at += strlen(needle);
    return strndup(at, (size_t)(end - at));
}

char *tc_cookie(tc_browser_t *self, const char *name)
{
    struct curl_slist *cookies = NULL;
    curl_easy_getinfo(self->curl, CURLINFO_COOKIELIST, &cookies);
    char *value = NULL;
    /* Netscape lines: domain, tailmatch, path, secure, expires, name, value. */
    for (struct curl_slist *one = cookies; one && !value; one = one->next) {
        const char *field = one->data;
        for (int i = 0; i < 5 && field; i++) {
            field = strchr(field, '\t');
            field = field ? field + 1 : NULL;
        }
        const char *tab = field ? strchr(field, '\t') : NULL;
        if (tab && (size_t)(tab - field) == strlen(name) && strncmp(field, name, strlen(name)) == 0)
            value = strdup(tab + 1);
    }
    curl_slist_free_all(cookies);
    return value;
}

void tc_set_cookie(tc_browser_t *self, const char *name, const char *value)
{
    char line[512];
    snprintf(line, sizeof line, "Set-Cookie: %s=%s; Path=/", name, value);
    curl_easy_setopt(self->curl, CURLOPT_COOKIELIST, line);
}

tc_response_t tc_try_login_at(tc_browser_t *self, const char *login, const char *password,
                              const char *file, int line)
{
    tc_response_t form = tc_get_at(self, "/login", file, line);
    tc_assert_status_at(&form, 200, NULL, file, line);
    char *csrf = tc_csrf_at(&form, file, line);
    tc_response_free(&form);
    tc_response_t answer = tc_post_at(
        self, "/login", TC_FIELDS("csrf", csrf, "login", login, "password", password), file, line);
    free(csrf);
    return answer;
}

void tc_login_at(tc_browser_t *self, const char *login, const char *password, const char *file,
                 int line)
{
    tc_response_t answer = tc_try_login_at(self, login, password, file, line);
    tc_assert_status_at(&answer, 303, "/queue?view=mine", file, line);
    tc_response_free(&answer);
}

tc_response_t tc_submit_at(tc_browser_t *self, const char *page, const char *action,
                           const char *const *fields, const char *file, int line)
{
    tc_response_t shown = tc_get_at(self, page, file, line);
    tc_assert_status_at(&shown, 200, NULL, file, line);
    char *csrf = tc_csrf_at(&shown, file, line);
    tc_response_free(&shown);
    size_t count = 0;
    while (fields && fields[count])
        count += 2;
    const char **all = calloc(count + 3, sizeof *all);
    assert_non_null(all);
    all[0] = "csrf";
    all[1] = csrf;
    for (size_t i = 0; i < count; i++)
        all[i + 2] = fields[i];
    tc_response_t answer = tc_post_at(self, action, all, file, line);
    free(all);
    free(csrf);
    return answer;
}

void tc_submit_ok_at(tc_browser_t *self, const char *page, const char *action,
                     const char *const *fields, const char *file, int line)
{
    tc_response_t answer = tc_submit_at(self, page, action, fields, file, line);
    char *path = strndup(page, strcspn(page, "?"));
    assert_non_null(path);
    tc_assert_status_at(&answer, 303, path, file, line);
    free(path);
    tc_response_free(&answer);
}

const char *tc_enquiry_path(int64_t id, const char *action)
{
    static char ring[8][96];
    static unsigned next;
    char *path = ring[next++ % 8];
    if (action && *action)
        snprintf(path, sizeof ring[0], "/enquiries/%lld/%s", (long long)id, action);
    else
        snprintf(path, sizeof ring[0], "/enquiries/%lld", (long long)id);
    return path;
}

tc_browser_t *tc_person_at(tc_fixture_t *fixture, const char *login, const char *name,
                           Dp__StaffRole role, const char *password, const char *source_address,
                           const char *file, int line)
{
    tc_add_staff_at(fixture->console, login, name, role, password, file, line);
    tc_browser_t *browser = tc_browser_new(fixture->console, source_address);
    zlist_append(fixture->people, browser);
    tc_login_at(browser, login, password, file, line);
    return browser;
}

const char *tc_minute_ago(void)
{
    static char text[32];
    time_t then = time(NULL) - 60;
    struct tm utc;
    gmtime_r(&then, &utc);
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

static size_t s_discard(char *data, size_t size, size_t count, void *user)
{
    (void)data, (void)user;
    return size * count;
}

void tc_logins_at_once_at(const tc_console_t *console, const char *source_address,
                          const char *login, const char *password, size_t count, long *statuses,
                          const char *file, int line)
{
    tc_browser_t **browsers = calloc(count, sizeof *browsers);
    char **forms = calloc(count, sizeof *forms);
    CURLM *multi = curl_multi_init();
    assert_non_null(browsers);
    assert_non_null(forms);
    assert_non_null(multi);
    for (size_t i = 0; i < count; i++) {
        browsers[i] = tc_browser_new(console, source_address);
        tc_response_t page = tc_get_at(browsers[i], "/login", file, line);
        char *csrf = tc_csrf_at(&page, file, line);
        tc_response_free(&page);
        char *escaped = curl_easy_escape(browsers[i]->curl, password, 0);
        forms[i] = zsys_sprintf("csrf=%s&login=%s&password=%s", csrf, login, escaped);
        curl_free(escaped);
        free(csrf);
        CURL *curl = browsers[i]->curl;
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/login", browsers[i]->port);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, forms[i]);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(forms[i]));
        /* Only the statuses are read. */
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_discard);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, s_discard);
        curl_multi_add_handle(multi, curl);
    }
    int running = 1;
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        if (running)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    for (size_t i = 0; i < count; i++) {
        statuses[i] = 0;
        curl_easy_getinfo(browsers[i]->curl, CURLINFO_RESPONSE_CODE, &statuses[i]);
        curl_multi_remove_handle(multi, browsers[i]->curl);
        tc_browser_destroy(&browsers[i]);
        free(forms[i]);
    }
    curl_multi_cleanup(multi);
    free(forms);
    free(browsers);
}
