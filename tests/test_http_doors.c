/* The doors of the two HTTP servers (the dashboard of dp-report and the
   /metrics endpoint every service serves), over raw sockets so that the
   exact bytes are sent: a request target holding %00 or a broken escape
   gets 400 (libmicrohttpd would otherwise cut the path at the NUL and serve
   /reports/overview.csv for /reports/overview.csv%00.html); HTTP/1.1
   without Host gets 400; 64 idle or half-sent connections from one address
   do not keep another client from the dashboard, nor 16 from /metrics; one
   address holds at most DP_REPORT_HTTP_PER_ADDRESS (16) connections to the
   dashboard and 4 to /metrics, the next is closed at once; a
   connection that never finishes its request is closed after the
   configured timeout; dates outside 2017-01-01 .. the end of next year and
   enquiry periods over ten years get 400 (and INVALID_ARGUMENT over
   ZeroMQ); and no page or export names the staff member an enquiry is
   assigned to. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_client.h"
#include "dp_config.h"
#include "dp_metrics.h"
#include "dp_server.h"
#include "report_server.h"
#include "report_support.h"

#define STAFF_NAME "Ann Example"
enum { TIMEOUT_S = 2 };

static ts_database_t *s_database;
static PGconn *s_admin;
static dp_config_t *s_config;
static zactor_t *s_actor;
static char *s_endpoint;
static int s_port;              /* the dashboard */
static dp_metrics_t *s_metrics; /* a /metrics server of its own */
static int s_metrics_port;

static int64_t s_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* A TCP connection to 127.0.0.1:port from the loopback address `source`
   (127.0.0.2 is another client address on Linux); -1 when it fails. */
static int s_connect(const char *source, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
    inet_pton(AF_INET, source, &from.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads until the peer closes or timeout_ms pass; returns the bytes read
   (malloc'd, NUL-terminated) and sets *closed when the peer closed. */
static char *s_read_all(int fd, int timeout_ms, bool *closed)
{
    size_t size = 0, capacity = 4096;
    char *text = malloc(capacity);
    assert_non_null(text);
    int64_t deadline = s_now_ms() + timeout_ms;
    *closed = false;
    while (!*closed) {
        int64_t left = deadline - s_now_ms();
        struct pollfd item = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&item, 1, (int)left) <= 0)
            break;
        if (capacity - size < 2048) {
            capacity *= 2;
            text = realloc(text, capacity);
            assert_non_null(text);
        }
        ssize_t got = recv(fd, text + size, capacity - size - 1, 0);
        if (got <= 0)
            *closed = true;
        else
            size += (size_t)got;
    }
    text[size] = '\0';
    return text;
}

/* Sends the raw request from `source` and returns the HTTP status of the
   answer (0 when none came within timeout_ms); the whole answer in *answer
   when asked for (free it). */
static int s_raw(const char *source, int port, const char *request, int timeout_ms, char **answer)
{
    int fd = s_connect(source, port);
    if (fd < 0)
        return 0;
    size_t length = strlen(request);
    if (send(fd, request, length, MSG_NOSIGNAL) != (ssize_t)length) {
        close(fd);
        return 0;
    }
    bool closed = false;
    char *text = s_read_all(fd, timeout_ms, &closed);
    close(fd);
    int status = 0;
    if (sscanf(text, "HTTP/1.%*d %d", &status) != 1)
        status = 0;
    if (answer)
        *answer = text;
    else
        free(text);
    return status;
}

static int s_get(int port, const char *target)
{
    char request[1024];
    snprintf(request, sizeof request,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", target);
    return s_raw("127.0.0.1", port, request, 10000, NULL);
}

/* ---- setup ------------------------------------------------------------------- */

static int s_setup(void **state)
{
    s_database = ts_database_new("http_doors");
    s_admin = ts_connect_or_exit(ts_database_url(s_database, TS_ROLE_ADMIN));
    PQclear(ts_query(s_admin, "SET TimeZone = 'UTC'", 0, NULL));
    /* An enquiry assigned to a named member of staff, ten days late. */
    tr_insert_enquiry(s_admin, &(tr_enquiry_t){.received_ago = "20 days",
                                               .status = "assigned",
                                               .kind = "media",
                                               .due_in_days = "-10",
                                               .assignee = STAFF_NAME});
    char timeout[8];
    snprintf(timeout, sizeof timeout, "%d", TIMEOUT_S);
    s_config = dp_config_new("dp-report", "report service under test", report_settings,
                             report_setting_count);
    if (!s_config ||
        dp_config_set(s_config, "DP_DATABASE_URL", ts_database_url(s_database, TS_ROLE_REPORT)) ||
        dp_config_set(s_config, "DP_REPORT_ENDPOINT", "tcp://127.0.0.1:*") ||
        dp_config_set(s_config, "DP_REPORT_HTTP_PORT", "0") ||
        dp_config_set(s_config, "DP_REPORT_HTTP_TIMEOUT", timeout) ||
        dp_config_set(s_config, "DP_METRICS_PORT", "-1") ||
        dp_config_set(s_config, "DP_DB_WAIT_MS", "10000"))
        return -1;
    s_actor = dp_server_start(report_actor, s_config, &s_endpoint);
    if (!s_actor)
        return -1;
    zstr_send(s_actor, "HTTP_PORT");
    char *port = zstr_recv(s_actor);
    s_port = port ? atoi(port) : 0;
    zstr_free(&port);
    s_metrics = dp_metrics_new("doors");
    s_metrics_port = s_metrics ? dp_metrics_serve(s_metrics, "127.0.0.1", 0) : -1;
    return s_port > 0 && s_metrics_port > 0 ? 0 : -1;
}

static int s_teardown(void **state)
{
    dp_metrics_destroy(&s_metrics);
    zactor_destroy(&s_actor);
    zstr_free(&s_endpoint);
    dp_config_destroy(&s_config);
    if (s_admin)
        PQfinish(s_admin);
    ts_database_destroy(&s_database);
    return 0;
}

/* ---- the request target ------------------------------------------------------ */

static void test_nul_and_broken_escapes_get_400(void **state)
{
    const char *bad[] = {"/reports/overview.csv%00.html",
                         "/reports/overview.csv%00",
                         "/%00",
                         "/reports/overview.csv?table=by_kind%00x",
                         "/reports/%zzx.csv",
                         "/reports/overview.csv%4",
                         "/reports/overview.csv%0a",
                         "/%ff%fe",
                         "/?as_of=2022-12-31%0d%0aX-Injected:%20yes"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int status = s_get(s_port, bad[i]);
        if (status != 400)
            fail_msg("dashboard %s: expected 400, got %d", bad[i], status);
    }
    const char *bad_metrics[] = {"/metrics%00", "/metrics%00.html", "/metrics%g0"};
    for (size_t i = 0; i < sizeof bad_metrics / sizeof *bad_metrics; i++) {
        int status = s_get(s_metrics_port, bad_metrics[i]);
        if (status != 400)
            fail_msg("metrics %s: expected 400, got %d", bad_metrics[i], status);
    }
    /* What is well formed is still served, escapes included. */
    assert_int_equal(s_get(s_port, "/reports/overview.csv"), 200);
    assert_int_equal(s_get(s_port, "/reports/overview.csv?table=by%5Fkind"), 200);
    assert_int_equal(s_get(s_metrics_port, "/metrics"), 200);
}

static void test_http11_without_host_gets_400(void **state)
{
    const int ports[] = {s_port, s_metrics_port};
    const char *paths[] = {"/health", "/metrics"};
    for (size_t i = 0; i < 2; i++) {
        char request[256];
        snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nConnection: close\r\n\r\n", paths[i]);
        char *answer = NULL;
        int status = s_raw("127.0.0.1", ports[i], request, 10000, &answer);
        if (status != 400)
            fail_msg("%s without Host: expected 400, got %d: %.200s", paths[i], status, answer);
        assert_non_null(strstr(answer, "Host"));
        free(answer);
        snprintf(request, sizeof request,
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", paths[i]);
        assert_int_equal(s_raw("127.0.0.1", ports[i], request, 10000, NULL), 200);
        /* HTTP/1.0 has no Host requirement. */
        snprintf(request, sizeof request, "GET %s HTTP/1.0\r\n\r\n", paths[i]);
        assert_int_equal(s_raw("127.0.0.1", ports[i], request, 10000, NULL), 200);
    }
}

/* ---- connections ------------------------------------------------------------- */

/* Opens `count` connections from 127.0.0.1 that never finish a request
   (every other one sends half a request line), then another client asks
   for `path`: it must be answered within 3 s. */
static void s_crowd_then_fetch(int port, int count, const char *path)
{
    int *crowd = calloc((size_t)count, sizeof *crowd);
    assert_non_null(crowd);
    for (int i = 0; i < count; i++) {
        crowd[i] = s_connect("127.0.0.1", port);
        if (crowd[i] >= 0 && i % 2)
            send(crowd[i], "GET / HT", 8, MSG_NOSIGNAL);
    }
    usleep(200 * 1000); /* the server has taken them all */
    char request[256];
    snprintf(request, sizeof request,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    int64_t start = s_now_ms();
    int status = s_raw("127.0.0.2", port, request, 3000, NULL);
    int64_t took = s_now_ms() - start;
    for (int i = 0; i < count; i++)
        if (crowd[i] >= 0)
            close(crowd[i]);
    free(crowd);
    usleep(300 * 1000); /* the server has seen them go */
    if (status != 200)
        fail_msg("%s behind %d idle connections: got %d after %lld ms", path, count, status,
                 (long long)took);
}

static void test_16_idle_connections_do_not_block_metrics(void **state)
{
    s_crowd_then_fetch(s_metrics_port, 16, "/metrics");
}

static void test_64_slow_connections_do_not_block_the_dashboard(void **state)
{
    s_crowd_then_fetch(s_port, 64, "/health");
}

/* One address holds at most `limit` connections: the next one from it is
   closed at once, unanswered, while another address is still served. */
static void s_one_more_is_closed(int port, int limit, const char *source, const char *path)
{
    int *held = calloc((size_t)limit, sizeof *held);
    assert_non_null(held);
    for (int i = 0; i < limit; i++) {
        held[i] = s_connect(source, port);
        assert_true(held[i] >= 0);
    }
    usleep(200 * 1000);
    char request[256];
    snprintf(request, sizeof request,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    int64_t start = s_now_ms();
    char *answer = NULL;
    int status = s_raw(source, port, request, 3000, &answer);
    int64_t took = s_now_ms() - start;
    int other = s_raw("127.0.0.9", port, request, 3000, NULL);
    for (int i = 0; i < limit; i++)
        close(held[i]);
    free(held);
    usleep(300 * 1000);
    if (status != 0 || took >= 2000)
        fail_msg("connection %d from %s: HTTP %d after %lld ms, expected it closed at once",
                 limit + 1, source, status, (long long)took);
    free(answer);
    assert_int_equal(other, 200);
}

static void test_one_address_holds_a_bounded_number_of_connections(void **state)
{
    s_one_more_is_closed(s_port, 16, "127.0.0.4", "/health");
    s_one_more_is_closed(s_metrics_port, DP_METRICS_HTTP_LIMITS.per_address, "127.0.0.5",
                         "/metrics");
}

static void test_an_unfinished_request_is_closed_after_the_timeout(void **state)
{
    int fd = s_connect("127.0.0.3", s_port);
    assert_true(fd >= 0);
    send(fd, "GET / HTTP/1.1\r\nHost: x\r\n", 26, MSG_NOSIGNAL);
    int64_t start = s_now_ms();
    bool closed = false;
    char *text = s_read_all(fd, (TIMEOUT_S + 3) * 1000, &closed);
    int64_t took = s_now_ms() - start;
    free(text);
    close(fd);
    if (!closed)
        fail_msg("the connection was still open after %lld ms (timeout %d s)", (long long)took,
                 TIMEOUT_S);
    assert_true(took >= (TIMEOUT_S - 1) * 1000);
}

/* ---- periods ------------------------------------------------------------------ */

static void test_periods_out_of_bounds_get_400(void **state)
{
    const char *bad[] = {"/reports/enquiries.csv?period_from=1900-01-01&period_to=2999-12-31",
                         "/reports/enquiries.json?period_from=1900-01-01",
                         "/reports/enquiries.csv?period_from=2017-01-01&period_to=2027-12-31",
                         "/reports/enquiries.csv?period_to=2999-12-31",
                         "/reports/cooperation.csv?as_of=2016-12-31",
                         "/reports/overview.json?as_of=2999-01-01",
                         "/?period_from=1900-01-01",
                         "/?period_from=2017-01-01&period_to=2027-12-31"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char request[512], *answer = NULL;
        snprintf(request, sizeof request,
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", bad[i]);
        int status = s_raw("127.0.0.1", s_port, request, 10000, &answer);
        if (status != 400)
            fail_msg("%s: expected 400, got %d", bad[i], status);
        /* The reason is said: the window or the span. */
        if (!strstr(answer, "between") && !strstr(answer, "ten years"))
            fail_msg("%s: no reason in %.300s", bad[i], answer);
        free(answer);
    }
    assert_int_equal(s_get(s_port, "/reports/enquiries.csv?period_from=2018-01-01&period_to="
                                   "2027-12-30"),
                     200);
}

static void test_periods_out_of_bounds_are_invalid_over_zeromq(void **state)
{
    dp_client_t *client = dp_client_new(s_endpoint, 15000, 1);
    assert_non_null(client);
    Dp__EnquiriesReportRequest request = DP__ENQUIRIES_REPORT_REQUEST__INIT;
    request.period_from = "1900-01-01";
    request.period_to = "2999-12-31";
    dp_status_t status;
    ProtobufCMessage *reply = NULL;
    dp_client_call(client, &request.base, &dp__report_reply__descriptor, &reply, &status);
    dp_message_free(&reply);
    assert_int_equal(status.code, DP__CODE__CODE_INVALID_ARGUMENT);
    assert_string_equal(status.field, "period_from");
    request.period_from = "2017-01-01";
    request.period_to = "2027-12-31";
    dp_client_call(client, &request.base, &dp__report_reply__descriptor, &reply, &status);
    dp_message_free(&reply);
    assert_int_equal(status.code, DP__CODE__CODE_INVALID_ARGUMENT);
    assert_non_null(strstr(status.message, "ten years"));
    dp_client_destroy(&client);
}

/* ---- no staff names ------------------------------------------------------------ */

static void test_no_page_or_export_names_staff(void **state)
{
    const char *paths[] = {"/", "/reports/enquiries.csv", "/reports/enquiries.json",
                           "/reports/enquiries.csv?table=past_due"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        char request[512], *answer = NULL;
        snprintf(request, sizeof request,
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", paths[i]);
        int status = s_raw("127.0.0.1", s_port, request, 15000, &answer);
        if (status != 200)
            fail_msg("%s: expected 200, got %d: %.300s", paths[i], status, answer);
        if (strstr(answer, STAFF_NAME) || strstr(answer, "Assignee"))
            fail_msg("%s names the assignee", paths[i]);
        /* The late enquiry is there, only without its assignee. */
        if (i == 3 && !strstr(answer, "media"))
            fail_msg("%s lost the late enquiry: %.600s", paths[i], answer);
        free(answer);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_and_broken_escapes_get_400),
        cmocka_unit_test(test_http11_without_host_gets_400),
        cmocka_unit_test(test_16_idle_connections_do_not_block_metrics),
        cmocka_unit_test(test_64_slow_connections_do_not_block_the_dashboard),
        cmocka_unit_test(test_one_address_holds_a_bounded_number_of_connections),
        cmocka_unit_test(test_an_unfinished_request_is_closed_after_the_timeout),
        cmocka_unit_test(test_periods_out_of_bounds_get_400),
        cmocka_unit_test(test_periods_out_of_bounds_are_invalid_over_zeromq),
        cmocka_unit_test(test_no_page_or_export_names_staff),
    };
    return cmocka_run_group_tests_name("HTTP doors", tests, s_setup, s_teardown);
}
