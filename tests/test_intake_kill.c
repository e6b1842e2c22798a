/* The dp-intake executable killed with SIGKILL, twice, while a retrying
   client (Lazy Pirate: on a timeout it resends the same request, same key
   and content, on a fresh socket) streams submissions with several in
   flight. An acknowledged submission was committed; a retried one is
   stored once; at the end the database holds each key sent exactly once. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_client.h"
#include "intake_support.h"

static ti_fixture_t *fx;
static pid_t child = -1;  /* the running dp-intake, or -1 */
static char endpoint[64]; /* where it listens */

enum {
    TOTAL = 3000,      /* distinct submissions streamed */
    IN_FLIGHT = 8,     /* requests outstanding at once, one per socket */
    KILLS = 2,         /* SIGKILLs during the stream */
    ATTEMPT_MS = 1000, /* Lazy Pirate: wait per attempt before resending */
    STREAM_DEADLINE_MS = 120000,
    START_WAIT_MS = 20000 /* for the executable to answer after a start */
};

/* Starts dp-intake and waits (bounded) until it answers a health request. */
static void s_start_intake(void)
{
    char *program = zsys_sprintf("%s/services/intake/dp-intake", ts_require_env("DP_BUILD_DIR"));
    char *database =
        zsys_sprintf("DP_DATABASE_URL=%s", ts_database_url(fx->database, TS_ROLE_INTAKE));
    char *bind = zsys_sprintf("DP_INTAKE_ENDPOINT=%s", endpoint);
    char *registry = zsys_sprintf("DP_REGISTRY_ENDPOINT=%s", ts_registry_endpoint(fx->registry));
    const char *argv[] = {program, NULL};
    const char *env[] = {
        database, bind, registry, "DP_INTAKE_SENDER_LIMIT_PER_HOUR=0", "DP_LOG_LEVEL=warning",
        NULL};
    child = ts_spawn(argv, env);
    zstr_free(&program);
    zstr_free(&database);
    zstr_free(&bind);
    zstr_free(&registry);
    assert_true(child > 0);

    dp_client_t *client = dp_client_new(endpoint, 500, START_WAIT_MS / 500);
    assert_non_null(client);
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    Dp__HealthReply *reply = NULL;
    dp_status_t status;
    int answered = dp_client_call(client, &health.base, &dp__health_reply__descriptor,
                                  (ProtobufCMessage **)&reply, &status);
    dp_client_destroy(&client);
    if (answered != 0 || status.code != DP__CODE__CODE_OK || !reply->database_ok) {
        ts_free(&reply);
        fail_msg("dp-intake (pid %d) is not serving on %s: %s", (int)child, endpoint,
                 status.message);
    }
    ts_free(&reply);
}

static void s_kill_intake(void)
{
    ts_child_stop(child, SIGKILL, 10000);
    child = -1;
}

/* One Lazy Pirate client: its own socket, one request at a time. */
typedef struct {
    zsock_t *socket;     /* DEALER; replaced after a timeout */
    bool busy;           /* a request is outstanding */
    unsigned long key;   /* its submission number */
    char request_id[32]; /* the same on every attempt */
    int64_t deadline;    /* when to give up on this attempt */
} pirate_t;

typedef struct {
    pirate_t pirates[IN_FLIGHT];  /* the clients */
    unsigned long next_key;       /* next submission to send */
    int64_t ids[TOTAL];           /* acknowledged id by submission, or 0 */
    size_t acknowledged;          /* submissions acknowledged */
    size_t resends;               /* attempts after a timeout */
    size_t already;               /* acknowledged as already submitted */
    size_t refusals;              /* non-OK replies (then resent) */
    char first_refusal[512];      /* the first of them */
    int kills;                    /* SIGKILLs so far */
    int in_flight_at_kill[KILLS]; /* requests outstanding at each kill */
} stream_t;

static void s_connect(pirate_t *pirate)
{
    zsock_destroy(&pirate->socket);
    pirate->socket = zsock_new(ZMQ_DEALER);
    assert_non_null(pirate->socket);
    zsock_set_linger(pirate->socket, 0);
    assert_int_equal(zsock_connect(pirate->socket, "%s", endpoint), 0);
}

static void s_send(pirate_t *pirate)
{
    ti_form_t form;
    ti_form_init_numbered(&form, "kill", pirate->key);
    form.enquiry.source = "kill";
    zmsg_t *request = ts_request_message(pirate->request_id, &form.request.base);
    assert_int_equal(zmsg_send(&request, pirate->socket), 0);
    pirate->deadline = zclock_mono() + ATTEMPT_MS;
}

static void s_receive(stream_t *stream, pirate_t *pirate)
{
    zmsg_t *message = zmsg_recv(pirate->socket);
    if (!message)
        return;
    zframe_t *frame = zmsg_last(message);
    Dp__Reply *reply =
        zmsg_size(message) == 2
            ? (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame),
                                             zframe_size(frame), 1 << 20)
            : NULL;
    zmsg_destroy(&message);
    if (!reply || !reply->status || !pirate->busy ||
        strcmp(reply->request_id, pirate->request_id) != 0) {
        ts_free(&reply); /* not the answer we wait for */
        return;
    }
    if (reply->status->code != DP__CODE__CODE_OK) {
        if (!stream->refusals++)
            snprintf(stream->first_refusal, sizeof stream->first_refusal, "key %lu: %s %s",
                     pirate->key, dp_code_name(reply->status->code), reply->status->message);
        ts_free(&reply);
        s_send(pirate); /* a retrying client tries again */
        return;
    }
    Dp__SubmitEnquiryReply *answer =
        (Dp__SubmitEnquiryReply *)ts_reply_body(reply, &dp__submit_enquiry_reply__descriptor);
    assert_true(answer->enquiry_id > 0);
    assert_int_equal(stream->ids[pirate->key], 0);
    stream->ids[pirate->key] = answer->enquiry_id;
    stream->acknowledged++;
    stream->already += answer->already_submitted;
    pirate->busy = false;
    ts_free(&answer);
    ts_free(&reply);
}

static void s_kill_and_restart(stream_t *stream)
{
    int in_flight = 0;
    for (size_t i = 0; i < IN_FLIGHT; i++)
        in_flight += stream->pirates[i].busy;
    stream->in_flight_at_kill[stream->kills++] = in_flight;
    s_kill_intake();
    s_start_intake();
}

static void test_sigkill_mid_stream_loses_and_doubles_nothing(void **state)
{
    stream_t *stream = calloc(1, sizeof *stream);
    assert_non_null(stream);
    for (size_t i = 0; i < IN_FLIGHT; i++)
        s_connect(&stream->pirates[i]);
    int64_t deadline = zclock_mono() + STREAM_DEADLINE_MS;
    while (stream->acknowledged < TOTAL) {
        if (zclock_mono() > deadline)
            fail_msg("the stream did not finish in %d ms: %zu of %d acknowledged",
                     STREAM_DEADLINE_MS, stream->acknowledged, TOTAL);
        zmq_pollitem_t items[IN_FLIGHT];
        for (size_t i = 0; i < IN_FLIGHT; i++) {
            pirate_t *pirate = &stream->pirates[i];
            if (!pirate->busy && stream->next_key < TOTAL) {
                pirate->key = stream->next_key++;
                snprintf(pirate->request_id, sizeof pirate->request_id, "kill-%lu", pirate->key);
                pirate->busy = true;
                s_send(pirate);
            }
            items[i] = (zmq_pollitem_t){zsock_resolve(pirate->socket), 0, ZMQ_POLLIN, 0};
        }
        /* Kill when a third and two thirds are acknowledged, every client
           waiting for a reply. */
        if (stream->kills < KILLS &&
            stream->acknowledged >= (size_t)(stream->kills + 1) * TOTAL / (KILLS + 1))
            s_kill_and_restart(stream);
        assert_true(zmq_poll(items, IN_FLIGHT, 50) >= 0);
        int64_t now = zclock_mono();
        for (size_t i = 0; i < IN_FLIGHT; i++) {
            pirate_t *pirate = &stream->pirates[i];
            if (items[i].revents & ZMQ_POLLIN)
                s_receive(stream, pirate);
            else if (pirate->busy && now > pirate->deadline) {
                /* Lazy Pirate: a fresh socket, the same request. */
                s_connect(pirate);
                s_send(pirate);
                stream->resends++;
            }
        }
    }
    print_message("%d submissions, %d kills (in flight: %d, %d), %zu resends, %zu answered "
                  "as already submitted, %zu refusals\n",
                  TOTAL, stream->kills, stream->in_flight_at_kill[0], stream->in_flight_at_kill[1],
                  stream->resends, stream->already, stream->refusals);
    for (size_t i = 0; i < IN_FLIGHT; i++)
        zsock_destroy(&stream->pirates[i].socket);

    assert_int_equal(stream->kills, KILLS);
    for (int k = 0; k < KILLS; k++)
        assert_true(stream->in_flight_at_kill[k] > 0);
    if (stream->refusals)
        fail_msg("%zu submissions were refused; the first: %s", stream->refusals,
                 stream->first_refusal);

    /* Every key sent is stored exactly once, under the id acknowledged. */
    ti_assert_stored_once(fx->admin, "kill", TOTAL, stream->ids, TOTAL);
    /* Each enquiry whole: two history rows and two events, never half a batch. */
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry e WHERE e.source = 'kill'"
                                   " AND (SELECT count(*) FROM intake.enquiry_transition t"
                                   "      WHERE t.enquiry_id = e.id) <> 2",
                                   0, NULL),
                     0);
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.outbox o JOIN intake.enquiry e"
                                   " ON o.aggregate_id = e.id::text WHERE e.source = 'kill'",
                                   0, NULL),
                     2 * TOTAL);
    free(stream);
}

static void test_sigterm_stops_the_executable_cleanly(void **state)
{
    int status = ts_child_stop(child, SIGTERM, 10000);
    child = -1;
    assert_true(status >= 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static int s_setup(void **state)
{
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", ts_free_port());
    s_start_intake();
    return 0;
}

/* The child is stopped by pid whatever happened in the tests. */
static int s_teardown(void **state)
{
    if (child > 0)
        s_kill_intake();
    return 0;
}

int main(void)
{
    fx = ti_fixture_new("intake_kill");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_mid_stream_loses_and_doubles_nothing),
        cmocka_unit_test(test_sigterm_stops_the_executable_cleanly),
    };
    int failed =
        cmocka_run_group_tests_name("intake killed mid-stream", tests, s_setup, s_teardown);
    if (child > 0)
        s_kill_intake();
    ti_fixture_destroy(&fx);
    return failed;
}
