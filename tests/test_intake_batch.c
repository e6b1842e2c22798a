/* Group commit: submissions that arrive together are stored in one
   transaction. One bad submission in a batch is refused alone; keys
   repeated inside a batch are stored once; a burst from several pipelined
   connections with retries stores exactly the distinct submissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intake_support.h"

static ti_fixture_t *fx;

enum {
    BATCH = 50,             /* submissions pipelined at once */
    BAD_ONE = 17,           /* the one with an unknown kind */
    ONE_BATCH_ATTEMPTS = 5, /* tries to land a pipeline in one batch */
    BURST = 10000,          /* submissions in the burst, retries included */
    BURST_RETRIES = 1000,   /* of which retries of acknowledged keys */
    BURST_CONNECTIONS = 4,  /* DEALER sockets */
    BURST_IN_FLIGHT = 16,   /* requests outstanding per socket */
    BURST_DEADLINE_MS = 150000
};

#define STATUS(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

static zsock_t *s_dealer(void)
{
    return ts_dealer_new(ti_intake_endpoint(fx->intake), 30000);
}

/* How many transactions stored these keys of source "website" (rows
   stored together share stored_at, the transaction's start). */
static long long s_transactions(const char *const *keys_of, size_t count)
{
    char *keys = strdup("{");
    for (size_t i = 0; i < count; i++) {
        char *longer = zsys_sprintf("%s%s\"%s\"", keys, i ? "," : "", keys_of[i]);
        free(keys);
        keys = longer;
    }
    char *array = zsys_sprintf("%s}", keys);
    free(keys);
    const char *params[] = {array};
    long long transactions = ts_query_long(fx->admin,
                                           "SELECT count(DISTINCT stored_at) FROM intake.enquiry"
                                           " WHERE source = 'website'"
                                           " AND idempotency_key = ANY ($1::text[])",
                                           1, params);
    zstr_free(&array);
    return transactions;
}

static long long s_rows_with_key(const char *key)
{
    const char *params[] = {key};
    return ts_query_long(fx->admin,
                         "SELECT count(*) FROM intake.enquiry WHERE source = 'website'"
                         " AND idempotency_key = $1",
                         1, params);
}

static void test_one_unknown_kind_in_a_batch_is_refused_alone(void **state)
{
    ti_form_t *forms = calloc(BATCH, sizeof *forms);
    const ProtobufCMessage *requests[BATCH];
    Dp__Reply *replies[BATCH];
    assert_non_null(forms);
    for (size_t i = 0; i < BATCH; i++) {
        ti_form_init(&forms[i], "mixed");
        requests[i] = &forms[i].request.base;
    }
    forms[BAD_ONE].enquiry.kind = "no-such-kind";
    long long last = ti_outbox_last_id(fx->admin);
    long long before = ti_enquiry_count(fx->admin);

    ti_pipeline_gated(fx, "mixed", requests, BATCH, replies);
    for (size_t i = 0; i < BATCH; i++) {
        if (i == BAD_ONE) {
            ts_assert_reply(replies[i], INVALID_ARGUMENT, "kind");
            assert_int_equal(s_rows_with_key(forms[i].key), 0);
        } else {
            Dp__SubmitEnquiryReply *reply = (Dp__SubmitEnquiryReply *)ts_reply_body(
                replies[i], &dp__submit_enquiry_reply__descriptor);
            assert_true(reply->enquiry_id > 0);
            assert_int_equal(reply->status, STATUS(TRIAGED));
            assert_false(reply->already_submitted);
            ts_free(&reply);
            assert_int_equal(s_rows_with_key(forms[i].key), 1);
        }
        ts_free(&replies[i]);
    }
    /* The gate's own submission, and the 49 good ones: two events each. */
    assert_int_equal(ti_enquiry_count(fx->admin) - before, BATCH);
    assert_int_equal(ti_outbox_count_after(fx->admin, last), 2 * BATCH);
    free(forms);
}

static void test_pipelined_submissions_are_committed_together(void **state)
{
    ti_form_t *forms = calloc(BATCH, sizeof *forms);
    const ProtobufCMessage *requests[BATCH];
    Dp__Reply *replies[BATCH];
    assert_non_null(forms);
    for (size_t i = 0; i < BATCH; i++) {
        ti_form_init(&forms[i], "together");
        requests[i] = &forms[i].request.base;
    }
    ti_pipeline_gated(fx, "together", requests, BATCH, replies);
    for (size_t i = 0; i < BATCH; i++) {
        ts_assert_reply(replies[i], OK, NULL);
        ts_free(&replies[i]);
    }
    const char *keys[BATCH];
    for (size_t i = 0; i < BATCH; i++)
        keys[i] = forms[i].key;
    long long transactions = s_transactions(keys, BATCH);
    if (transactions >= BATCH)
        fail_msg("%d pipelined submissions took %lld transactions: no group commit", BATCH,
                 transactions);
    free(forms);
}

/* One round of keys repeated inside one pipeline: A, B, A again, C, A with
   other content, B again. Returns true when A, B and C were stored by one
   transaction (the round was one batch). */
static bool s_repeated_keys_round(void)
{
    enum { A, B, C, FORMS };
    ti_form_t forms[FORMS];
    for (size_t i = 0; i < FORMS; i++)
        ti_form_init(&forms[i], "repeat");
    ti_form_t a_other;
    ti_form_init(&a_other, "repeat");
    a_other.enquiry.idempotency_key = forms[A].key;
    a_other.enquiry.email = forms[A].email;
    a_other.enquiry.subject = forms[A].subject;
    a_other.enquiry.body = "The same key with other content.";

    const ProtobufCMessage *requests[] = {&forms[A].request.base, &forms[B].request.base,
                                          &forms[A].request.base, &forms[C].request.base,
                                          &a_other.request.base,  &forms[B].request.base};
    enum { COUNT = sizeof requests / sizeof *requests };
    Dp__Reply *replies[COUNT];
    long long last = ti_outbox_last_id(fx->admin);
    ti_pipeline_gated(fx, "repeat", requests, COUNT, replies);

    Dp__SubmitEnquiryReply *answers[COUNT] = {NULL};
    for (size_t i = 0; i < COUNT; i++)
        if (i != 4)
            answers[i] = (Dp__SubmitEnquiryReply *)ts_reply_body(
                replies[i], &dp__submit_enquiry_reply__descriptor);
    ts_assert_reply(replies[4], ALREADY_EXISTS, "idempotency_key");
    /* First sightings are new; repeats name the first's id. */
    assert_false(answers[0]->already_submitted);
    assert_false(answers[1]->already_submitted);
    assert_false(answers[3]->already_submitted);
    assert_true(answers[2]->already_submitted);
    assert_int_equal(answers[2]->enquiry_id, answers[0]->enquiry_id);
    assert_true(answers[5]->already_submitted);
    assert_int_equal(answers[5]->enquiry_id, answers[1]->enquiry_id);
    assert_int_equal(answers[2]->status, STATUS(TRIAGED));
    for (size_t i = 0; i < COUNT; i++) {
        ts_free(&answers[i]);
        ts_free(&replies[i]);
    }
    for (size_t i = 0; i < FORMS; i++)
        assert_int_equal(s_rows_with_key(forms[i].key), 1);
    /* Stored once each, with the content first sent under the key. */
    const char *params[] = {forms[A].key};
    char *body = ts_query_text(fx->admin,
                               "SELECT body FROM intake.enquiry WHERE source = 'website'"
                               " AND idempotency_key = $1",
                               1, params);
    assert_string_equal(body, forms[A].enquiry.body);
    free(body);
    /* The gate's submission and A, B, C: two events each. */
    assert_int_equal(ti_outbox_count_after(fx->admin, last), 2 * (FORMS + 1));
    const char *keys[] = {forms[A].key, forms[B].key, forms[C].key};
    return s_transactions(keys, FORMS) == 1;
}

static void test_keys_repeated_inside_one_batch_are_stored_once(void **state)
{
    bool one_batch = false;
    for (int attempt = 0; attempt < ONE_BATCH_ATTEMPTS && !one_batch; attempt++)
        one_batch = s_repeated_keys_round();
    if (!one_batch)
        fail_msg("in %d attempts the pipelined repeats never arrived as one batch",
                 ONE_BATCH_ATTEMPTS);
}

/* One round: the same sender writes twice on the same subject, pipelined.
   Returns true when both were stored by one transaction. */
static bool s_duplicate_round(void)
{
    ti_form_t first, second;
    ti_form_init(&first, "batch-dup");
    ti_form_init(&second, "batch-dup");
    second.enquiry.email = first.email;
    char *subject = zsys_sprintf("Re: %s", first.subject);
    second.enquiry.subject = subject;
    second.enquiry.received_at = "2026-11-28T17:00:00Z";
    const ProtobufCMessage *requests[] = {&first.request.base, &second.request.base};
    Dp__Reply *replies[2];
    ti_pipeline_gated(fx, "batch-dup", requests, 2, replies);
    int64_t ids[2];
    for (size_t i = 0; i < 2; i++) {
        Dp__SubmitEnquiryReply *answer = (Dp__SubmitEnquiryReply *)ts_reply_body(
            replies[i], &dp__submit_enquiry_reply__descriptor);
        ids[i] = answer->enquiry_id;
        ts_free(&answer);
        ts_free(&replies[i]);
    }
    const char *keys[] = {first.key, second.key};
    bool one_batch = s_transactions(keys, 2) == 1;
    const char *params[] = {ts_id_text(ids[1])};
    long long original = ts_query_long(fx->admin,
                                       "SELECT coalesce(possible_duplicate_of, 0)"
                                       " FROM intake.enquiry WHERE id = $1",
                                       1, params);
    if (original != ids[0])
        fail_msg("the second enquiry from %s on '%s' (%lld) is not marked a possible duplicate of "
                 "%lld (it names %lld); stored %s",
                 first.email, subject, (long long)ids[1], (long long)ids[0], original,
                 one_batch ? "in one transaction with it" : "apart from it");
    zstr_free(&subject);
    return one_batch;
}

/* Whether a repeat is noticed must not depend on whether the two
   submissions happened to arrive in one batch. */
static void test_possible_duplicate_inside_one_batch_is_flagged(void **state)
{
    bool one_batch = false;
    for (int attempt = 0; attempt < ONE_BATCH_ATTEMPTS && !one_batch; attempt++)
        one_batch = s_duplicate_round();
    if (!one_batch)
        fail_msg("in %d attempts the two submissions never arrived as one batch",
                 ONE_BATCH_ATTEMPTS);
}

/* ---- the burst --------------------------------------------------------------------- */

/* One request sent in the burst. */
typedef struct {
    size_t key;    /* the submission's number */
    bool retry;    /* a retry of an acknowledged submission */
    bool answered; /* its reply came */
} burst_op_t;

typedef struct {
    burst_op_t ops[BURST];   /* every request, by sequence number */
    size_t sent;             /* requests sent */
    size_t answered;         /* replies received */
    size_t next_key;         /* next new submission number */
    size_t retries_sent;     /* retries among sent */
    int64_t ids[BURST];      /* by submission number: the id acknowledged, or 0 */
    size_t acked[BURST];     /* submission numbers acknowledged, in order */
    size_t n_acked;          /* entries in acked */
    unsigned seed;           /* for rand_r */
    size_t failures;         /* replies that were wrong */
    char first_failure[512]; /* what the first wrong reply was */
} burst_t;

static void s_burst_failure(burst_t *burst, const char *format, ...)
{
    if (burst->failures++)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(burst->first_failure, sizeof burst->first_failure, format, args);
    va_end(args);
}

/* Sends the next request on the dealer: a retry of an acknowledged
   submission about one time in ten, otherwise a new one. */
static void s_burst_send(burst_t *burst, zsock_t *dealer)
{
    size_t new_left = (BURST - BURST_RETRIES) - burst->next_key;
    size_t retries_left = BURST_RETRIES - burst->retries_sent;
    bool retry =
        retries_left > 0 && burst->n_acked > 0 && (new_left == 0 || rand_r(&burst->seed) % 10 == 0);
    if (!retry && new_left == 0)
        return; /* only retries remain: wait for acknowledgements */
    burst_op_t *op = &burst->ops[burst->sent];
    op->retry = retry;
    op->key =
        retry ? burst->acked[(size_t)rand_r(&burst->seed) % burst->n_acked] : burst->next_key++;
    burst->retries_sent += retry;
    ti_form_t form;
    ti_form_init_numbered(&form, "burst", op->key);
    form.enquiry.source = "burst";
    char id[32];
    snprintf(id, sizeof id, "op-%zu", burst->sent);
    zmsg_t *request = ts_request_message(id, &form.request.base);
    assert_int_equal(zmsg_send(&request, dealer), 0);
    burst->sent++;
}

static void s_burst_receive(burst_t *burst, zsock_t *dealer)
{
    Dp__Reply *reply = ts_receive_reply(dealer);
    size_t n = BURST;
    if (strncmp(reply->request_id, "op-", 3) == 0)
        n = strtoul(reply->request_id + 3, NULL, 10);
    if (n >= burst->sent || burst->ops[n].answered) {
        s_burst_failure(burst, "unexpected reply '%s'", reply->request_id);
        ts_free(&reply);
        return;
    }
    burst_op_t *op = &burst->ops[n];
    op->answered = true;
    burst->answered++;
    if (reply->status->code != DP__CODE__CODE_OK) {
        s_burst_failure(burst, "op %zu (key %zu) got %s: %s", n, op->key,
                        dp_code_name(reply->status->code), reply->status->message);
        ts_free(&reply);
        return;
    }
    Dp__SubmitEnquiryReply *answer =
        (Dp__SubmitEnquiryReply *)ts_reply_body(reply, &dp__submit_enquiry_reply__descriptor);
    if (op->retry && (!answer->already_submitted || answer->enquiry_id != burst->ids[op->key]))
        s_burst_failure(burst, "retry of key %zu: id %lld (original %lld), already_submitted %d",
                        op->key, (long long)answer->enquiry_id, (long long)burst->ids[op->key],
                        answer->already_submitted);
    else if (!op->retry && (answer->already_submitted || answer->enquiry_id <= 0))
        s_burst_failure(burst, "new key %zu answered as already submitted (id %lld)", op->key,
                        (long long)answer->enquiry_id);
    else if (!op->retry) {
        burst->ids[op->key] = answer->enquiry_id;
        burst->acked[burst->n_acked++] = op->key;
    }
    ts_free(&answer);
    ts_free(&reply);
}

static void test_burst_with_retries_stores_each_submission_once(void **state)
{
    burst_t *burst = calloc(1, sizeof *burst);
    assert_non_null(burst);
    burst->seed = 20261128;
    zsock_t *dealers[BURST_CONNECTIONS];
    size_t in_flight[BURST_CONNECTIONS] = {0};
    zpoller_t *poller = zpoller_new(NULL);
    assert_non_null(poller);
    for (size_t c = 0; c < BURST_CONNECTIONS; c++) {
        dealers[c] = s_dealer();
        zpoller_add(poller, dealers[c]);
    }
    long long last = ti_outbox_last_id(fx->admin);
    int64_t started = zclock_mono();
    while (burst->answered < BURST) {
        for (size_t c = 0; c < BURST_CONNECTIONS; c++)
            while (in_flight[c] < BURST_IN_FLIGHT && burst->sent < BURST) {
                size_t before = burst->sent;
                s_burst_send(burst, dealers[c]);
                if (burst->sent == before)
                    break;
                in_flight[c]++;
            }
        int64_t left = started + BURST_DEADLINE_MS - zclock_mono();
        if (left <= 0)
            fail_msg("the burst did not finish within %d ms: %zu of %d answered", BURST_DEADLINE_MS,
                     burst->answered, BURST);
        zsock_t *ready = zpoller_wait(poller, (int)left);
        if (!ready)
            continue;
        for (size_t c = 0; c < BURST_CONNECTIONS; c++)
            if (ready == dealers[c]) {
                s_burst_receive(burst, dealers[c]);
                in_flight[c]--;
            }
    }
    int64_t elapsed = zclock_mono() - started;
    print_message("burst: %d submissions (%zu retries) in %lld ms\n", BURST, burst->retries_sent,
                  (long long)elapsed);
    zpoller_destroy(&poller);
    for (size_t c = 0; c < BURST_CONNECTIONS; c++)
        zsock_destroy(&dealers[c]);

    if (burst->failures)
        fail_msg("%zu wrong replies; the first: %s", burst->failures, burst->first_failure);
    assert_int_equal(burst->retries_sent, BURST_RETRIES);
    assert_int_equal(burst->n_acked, BURST - BURST_RETRIES);

    /* Exactly the distinct submissions, each once, under the id acknowledged. */
    ti_assert_stored_once(fx->admin, "burst", BURST - BURST_RETRIES, burst->ids, BURST);
    /* Two events per stored submission, none for a retry. */
    assert_int_equal(ti_outbox_count_after(fx->admin, last), 2 * (BURST - BURST_RETRIES));
    free(burst);
}

int main(void)
{
    /* No sender limit: the burst comes from few addresses. */
    const char *settings[] = {"DP_INTAKE_SENDER_LIMIT_PER_HOUR", "0", NULL};
    fx = ti_fixture_new("intake_batch");
    ti_fixture_start_intake(fx, settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_unknown_kind_in_a_batch_is_refused_alone),
        cmocka_unit_test(test_pipelined_submissions_are_committed_together),
        cmocka_unit_test(test_keys_repeated_inside_one_batch_are_stored_once),
        cmocka_unit_test(test_possible_duplicate_inside_one_batch_is_flagged),
        cmocka_unit_test(test_burst_with_retries_stores_each_submission_once),
    };
    return ti_fixture_run(&fx, "intake group commit", tests, sizeof tests / sizeof *tests);
}
