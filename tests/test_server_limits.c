/* Memory per client: each service (registry, intake, notify, report),
   started in this process with requests of up to 4 MiB, is flooded by one
   client that writes 100 requests of almost 4 MiB each as fast as TCP
   takes them and never reads a reply.

   The client speaks ZMTP 3.0 (NULL mechanism) on a plain TCP socket, so
   that it holds one request's bytes and nothing else: this process's
   resident set is the service's. Checked:
   - the peak resident set (VmHWM, reset before the flood) stays below
     FLOOD_BOUND_MB above what it was before: ZeroMQ holds a connection's
     requests up to a byte budget (64 MiB), then stops reading and TCP
     pushes back;
   - once the client has gone, the resident set comes back to within
     RETURN_SLACK_MB of where it was (freed blocks go back to the system);
   - the service answers another client throughout and after. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_server.h"
#include "registry.pb-c.h"
#include "security_support.h"
#include "test_wire.h"

enum {
    MAX_MESSAGE_BYTES = 4 << 20, /* DP_MAX_MESSAGE_BYTES of the service under test */
    REQUESTS = 100,              /* the flood */
    FLOOD_BOUND_MB = 100,        /* 64 MiB of queue at most, a request being read, its decoding */
    RETURN_SLACK_MB = 8,         /* what may stay once the client has gone */
    STALL_MS = 3000,             /* the flood ends when TCP takes nothing for this long */
    ANSWER_MS = 10000
};

static ts_database_t *database;
static tk_service_t *service; /* the service under the flood */

/* A line of /proc/self/status ("VmRSS", "VmHWM") in MiB. */
static long s_status_mb(const char *field)
{
    FILE *file = fopen("/proc/self/status", "r");
    assert_non_null(file);
    char line[256];
    long kb = -1;
    size_t length = strlen(field);
    while (fgets(line, sizeof line, file))
        if (strncmp(line, field, length) == 0 && line[length] == ':')
            kb = atol(line + length + 1);
    fclose(file);
    assert_true(kb >= 0);
    return kb / 1024;
}

/* Makes VmHWM start again from the current resident set. */
static void s_reset_peak(void)
{
    FILE *file = fopen("/proc/self/clear_refs", "w");
    assert_non_null(file);
    assert_true(fputs("5", file) >= 0);
    assert_int_equal(fclose(file), 0);
}

static void s_expect_served(void)
{
    zsock_t *dealer = ts_dealer_new(tk_service_endpoint(service), ANSWER_MS);
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    zmsg_t *request = ts_request_message("other-client", &health.base);
    Dp__Reply *reply = ts_exchange(dealer, &request);
    ts_assert_reply(reply, OK, NULL);
    ts_free(&reply);
    zsock_destroy(&dealer);
}

/* Writes all of `size` bytes or gives up after STALL_MS without progress.
   Returns the bytes written. */
static size_t s_write(int fd, const unsigned char *bytes, size_t size)
{
    size_t done = 0;
    while (done < size) {
        struct pollfd item = {.fd = fd, .events = POLLOUT};
        if (poll(&item, 1, STALL_MS) <= 0)
            break;
        ssize_t wrote = send(fd, bytes + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (wrote < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (wrote <= 0)
            break;
        done += (size_t)wrote;
    }
    return done;
}

/* A TCP connection to tcp://127.0.0.1:PORT that has said, in ZMTP 3.0,
   that it is a DEALER with the NULL mechanism. */
static int s_connect_zmtp(const char *endpoint)
{
    int fd = ts_tcp_connect(endpoint);
    unsigned char greeting[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0, 'N', 'U', 'L', 'L'};
    static const unsigned char ready[] = {0x04, 28,  5,   'R', 'E', 'A', 'D', 'Y', 11,  'S',
                                          'o',  'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e',
                                          0,    0,   0,   6,   'D', 'E', 'A', 'L', 'E', 'R'};
    assert_int_equal(s_write(fd, greeting, sizeof greeting), sizeof greeting);
    /* libzmq reads a greeting in steps: its own comes before anything else is sent. */
    unsigned char theirs[64];
    size_t got = 0;
    while (got < sizeof theirs) {
        struct pollfd item = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&item, 1, ANSWER_MS), 1);
        ssize_t read_now = recv(fd, theirs + got, sizeof theirs - got, 0);
        assert_true(read_now > 0);
        got += (size_t)read_now;
    }
    assert_int_equal(theirs[10], 3); /* ZMTP 3 */
    assert_int_equal(s_write(fd, ready, sizeof ready), sizeof ready);
    return fd;
}

/* One request as ZMTP frames: an empty delimiter, then the envelope of a
   partner whose note makes the message just under the limit. */
static unsigned char *s_flood_message(size_t *size_out)
{
    size_t note_bytes = MAX_MESSAGE_BYTES - 1024;
    char *note = malloc(note_bytes + 1);
    assert_non_null(note);
    memset(note, 'n', note_bytes);
    note[note_bytes] = 0;
    Dp__CreatePartnerRequest create = DP__CREATE_PARTNER_REQUEST__INIT;
    create.slug = "flood";
    create.name = "Flood";
    create.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    create.joined_on = "2020-01-01";
    create.note = note;
    zframe_t *envelope = ts_envelope_for("flood", &create.base);
    free(note);
    size_t length = zframe_size(envelope);
    assert_true(length + 1 < MAX_MESSAGE_BYTES);
    unsigned char *message = malloc(2 + 9 + length);
    assert_non_null(message);
    message[0] = 0x01; /* MORE, short */
    message[1] = 0;
    message[2] = 0x02; /* LONG, last */
    for (int i = 0; i < 8; i++)
        message[3 + i] = (unsigned char)((uint64_t)length >> (56 - 8 * i));
    memcpy(message + 11, zframe_data(envelope), length);
    zframe_destroy(&envelope);
    *size_out = 11 + length;
    return message;
}

/* Starts the service of this kind with requests of up to 4 MiB. */
static void s_start(tk_kind_t kind)
{
    static const ts_role_t roles[TK_SERVICE_COUNT] = {TS_ROLE_REGISTRY, TS_ROLE_INTAKE,
                                                      TS_ROLE_NOTIFY, TS_ROLE_REPORT};
    char limit[32];
    snprintf(limit, sizeof limit, "%d", MAX_MESSAGE_BYTES);
    const char *settings[] = {"DP_MAX_MESSAGE_BYTES", limit, NULL};
    service = tk_service_start(kind, ts_database_url(database, roles[kind]), settings);
    assert_non_null(service);
}

/* The flood against the service of this kind (any request type: the bytes
   are queued before the server reads them). */
static void s_flood(tk_kind_t kind)
{
    s_start(kind);
    print_message("%s:\n", tk_kind_name(kind));
    size_t size = 0;
    unsigned char *message = s_flood_message(&size);
    s_expect_served();
    long before = s_status_mb("VmRSS");
    s_reset_peak();
    int fd = s_connect_zmtp(tk_service_endpoint(service));
    int sent = 0;
    while (sent < REQUESTS && s_write(fd, message, size) == size)
        sent++;
    long peak = s_status_mb("VmHWM");
    print_message("flood: %d of %d requests of %zu bytes taken; resident %ld MiB before, peak "
                  "%ld MiB\n",
                  sent, REQUESTS, size, before, peak);
    s_expect_served();
    close(fd);
    free(message);
    if (peak - before >= FLOOD_BOUND_MB)
        fail_msg("the flood took the resident set from %ld to %ld MiB (bound: +%d MiB)", before,
                 peak, FLOOD_BOUND_MB);
    /* The client has gone: what the service held for it is given back. */
    int64_t deadline = zclock_mono() + 10000;
    long now = s_status_mb("VmRSS");
    while (now - before > RETURN_SLACK_MB && zclock_mono() < deadline) {
        zclock_sleep(200);
        now = s_status_mb("VmRSS");
    }
    print_message("resident %ld MiB after the client left\n", now);
    if (now - before > RETURN_SLACK_MB)
        fail_msg("the resident set stayed at %ld MiB after the client left (before: %ld MiB)", now,
                 before);
    s_expect_served();
    tk_service_stop(&service);
}

static void test_one_client_cannot_make_the_registry_hold_its_flood(void **state)
{
    s_flood(TK_REGISTRY);
}

static void test_one_client_cannot_make_the_intake_hold_its_flood(void **state)
{
    s_flood(TK_INTAKE);
}

static void test_one_client_cannot_make_notify_hold_its_flood(void **state)
{
    s_flood(TK_NOTIFY);
}

static void test_one_client_cannot_make_the_report_service_hold_its_flood(void **state)
{
    s_flood(TK_REPORT);
}

static void test_the_receive_queue_is_counted_in_bytes(void **state)
{
    dp_server_config_t config = {.max_message_bytes = MAX_MESSAGE_BYTES, .queue_limit = 1000};
    int64_t max_message = 0;
    int queue = dp_server_receive_queue(&config, &max_message);
    /* The whole queue fits the default budget of 64 MiB. */
    assert_true((size_t)queue * (size_t)max_message <= DP_SERVER_CONNECTION_BYTES);
    assert_true(max_message < 3 * MAX_MESSAGE_BYTES);
    /* Small messages keep a deep queue (pipelining), within queue_limit. */
    config.max_message_bytes = 1024;
    assert_int_equal(dp_server_receive_queue(&config, NULL), 1000);
}

int main(void)
{
    database = ts_database_new("server_limits");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_client_cannot_make_the_registry_hold_its_flood),
        cmocka_unit_test(test_one_client_cannot_make_the_intake_hold_its_flood),
        cmocka_unit_test(test_one_client_cannot_make_notify_hold_its_flood),
        cmocka_unit_test(test_one_client_cannot_make_the_report_service_hold_its_flood),
        cmocka_unit_test(test_the_receive_queue_is_counted_in_bytes),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tk_service_stop(&service);
    ts_database_destroy(&database);
    return failed;
}
