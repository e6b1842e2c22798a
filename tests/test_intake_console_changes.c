/* The staff console's changes to one enquiry, against the real intake over
   its socket and the real PostgreSQL: a new due date with its reason in the
   history and the audit trail, a flagged duplicate merged into its
   original, replies to the enquirer (queued, oldest first, the enquiry
   answered), and a membership application recorded as admitted. Each
   refusal names its field and changes no row; each change writes its event
   (ids only) in the same transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "intake_console_support.h"

static ti_fixture_t *fx;

#define STATUS(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

/* ---- small helpers ---------------------------------------------------------------- */

/* A text of the enquiry as the superuser reads it. */
static char *s_column(int64_t id, const char *sql)
{
    const char *params[] = {ts_id_text(id)};
    return ts_query_text(fx->admin, sql, 1, params);
}

static long long s_history_count(int64_t id)
{
    const char *params[] = {ts_id_text(id)};
    return ts_query_long(fx->admin,
                         "SELECT count(*) FROM intake.enquiry_transition WHERE enquiry_id = $1", 1,
                         params);
}

/* The last history entry of a reply's enquiry. */
static const Dp__EnquiryTransition *s_last_step(const Dp__Enquiry *enquiry)
{
    assert_true(enquiry->n_history > 0);
    return enquiry->history[enquiry->n_history - 1];
}

/* Sends a request that must succeed; returns the reply's enquiry field
   holder (free with ts_free). */
static ProtobufCMessage *s_ok(const ProtobufCMessage *request,
                              const ProtobufCMessageDescriptor *reply_type)
{
    dp_status_t status;
    ProtobufCMessage *reply = ti_call(fx->intake, request, reply_type, &status);
    ts_assert_ok(&status);
    assert_non_null(reply);
    return reply;
}

/* An event's payload must hold no personal data of the form. */
static void s_assert_no_personal_data(const ts_event_t *event, const ti_form_t *form)
{
    assert_false(ts_event_mentions(event, form->email));
    assert_false(ts_event_mentions(event, form->subject));
    assert_false(ts_event_mentions(event, form->enquiry.sender_name));
}

/* The last day the intake accepts as a due date: the end of next year (UTC). */
static void s_last_allowed(char *text, size_t size, int years_after)
{
    time_t now = time(NULL);
    struct tm today;
    gmtime_r(&now, &today);
    snprintf(text, size, "%04d-12-31", today.tm_year + 1900 + years_after);
}

/* ---- ChangeDueDate ------------------------------------------------------------------- */

static Dp__ChangeDueDateRequest s_due_request(int64_t id, const char *due_on, const char *reason)
{
    Dp__ChangeDueDateRequest request = DP__CHANGE_DUE_DATE_REQUEST__INIT;
    request.id = id;
    request.due_on = (char *)due_on;
    request.reason = (char *)reason;
    request.actor = "alice";
    return request;
}

static void test_change_due_date_keeps_the_reason_in_history_and_audit(void **state)
{
    int64_t id = ti_new_enquiry(fx, "due");
    char *before = s_column(id, "SELECT to_char(due_on, 'YYYY-MM-DD') FROM intake.enquiry "
                                "WHERE id = $1");
    const char *params[] = {"change due date"};
    long long audited = ts_query_long(
        fx->admin, "SELECT count(*) FROM intake.audit_log WHERE action = $1", 1, params);
    long long outbox = ti_outbox_last_id(fx->admin);

    Dp__ChangeDueDateRequest request = s_due_request(id, "2026-12-14", "waiting for the minister");
    Dp__ChangeDueDateReply *reply =
        (Dp__ChangeDueDateReply *)s_ok(&request.base, &dp__change_due_date_reply__descriptor);
    assert_string_equal(reply->enquiry->due_on, "2026-12-14");
    assert_int_equal(reply->enquiry->status, STATUS(TRIAGED));
    const Dp__EnquiryTransition *step = s_last_step(reply->enquiry);
    assert_int_equal(step->from_status, STATUS(TRIAGED));
    assert_int_equal(step->to_status, STATUS(TRIAGED));
    assert_non_null(strstr(step->actor, "alice"));
    char expected[200];
    snprintf(expected, sizeof expected, "due date %s -> 2026-12-14: waiting for the minister",
             before);
    assert_string_equal(step->note, expected);
    ts_free(&reply);
    free(before);

    char *stored = s_column(id, "SELECT due_on::text FROM intake.enquiry WHERE id = $1");
    assert_string_equal(stored, "2026-12-14");
    free(stored);
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.audit_log WHERE action = $1", 1,
                                   params),
                     audited + 1);
    /* The history and the audit trail record it; no event (nothing a consumer acts on). */
    assert_int_equal(ti_outbox_count_after(fx->admin, outbox), 0);

    /* The same date again: answered OK and nothing written. */
    char *fingerprint = ti_fingerprint(fx->admin);
    reply = (Dp__ChangeDueDateReply *)s_ok(&request.base, &dp__change_due_date_reply__descriptor);
    assert_string_equal(reply->enquiry->due_on, "2026-12-14");
    ts_free(&reply);
    char *after = ti_fingerprint(fx->admin);
    /* GetEnquiry is not called, so nothing is audited either. */
    assert_string_equal(after, fingerprint);
    free(after);
    free(fingerprint);
}

static void test_change_due_date_refusals(void **state)
{
    int64_t id = ti_new_enquiry(fx, "due-refused");
    char too_late[24], last[24];
    s_last_allowed(too_late, sizeof too_late, 2);
    s_last_allowed(last, sizeof last, 1);
    too_late[5] = '0', too_late[6] = '1', too_late[8] = '0', too_late[9] = '1'; /* Jan 1st */

    Dp__ChangeDueDateRequest request = s_due_request(id, "2026-12-20", "");
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "reason");
    request.reason = "   ";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "reason");
    request.reason = "why";
    const char *bad_dates[] = {"", "2026-02-30", "14/12/2026", "2016-12-31", too_late};
    for (size_t i = 0; i < sizeof bad_dates / sizeof *bad_dates; i++) {
        request.due_on = (char *)bad_dates[i];
        print_message("  due_on '%s'\n", bad_dates[i]);
        ti_expect_error(fx, &request, INVALID_ARGUMENT, "due_on");
    }
    request.due_on = "2026-12-20";
    request.actor = "";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "actor");
    request.actor = "alice";
    request.id = 0;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "id");
    request.id = 987654321;
    ti_expect_error(fx, &request, NOT_FOUND, "id");

    /* The bounds themselves are accepted. */
    request.id = id;
    const char *bounds[] = {"2017-01-01", last};
    for (size_t i = 0; i < 2; i++) {
        request.due_on = (char *)bounds[i];
        Dp__ChangeDueDateReply *reply =
            (Dp__ChangeDueDateReply *)s_ok(&request.base, &dp__change_due_date_reply__descriptor);
        assert_string_equal(reply->enquiry->due_on, bounds[i]);
        ts_free(&reply);
    }

    /* A resolved enquiry's due date no longer counts: reopen it first. */
    tq_move(fx, id, STATUS(REJECTED));
    request.due_on = "2026-12-21";
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "id");
}

/* ---- MergeEnquiry ---------------------------------------------------------------------- */

/* Submits an original and a duplicate (same sender and subject an hour
   later); the intake flags the second as a possible duplicate of the first. */
static void s_duplicate_pair(const char *tag, ti_form_t *duplicate, int64_t *original_id,
                             int64_t *duplicate_id)
{
    ti_form_t original;
    ti_form_init(&original, tag);
    original.enquiry.received_at = "2026-11-28T10:00:00Z";
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &original);
    *original_id = reply->enquiry_id;
    ts_free(&reply);
    ti_form_init(duplicate, tag);
    memcpy(duplicate->email, original.email, sizeof duplicate->email);
    /* "Re: " and the same words: the same subject once normalised. */
    memcpy(duplicate->subject, "Re: ", 4);
    memcpy(duplicate->subject + 4, original.subject, sizeof duplicate->subject - 4);
    duplicate->subject[sizeof duplicate->subject - 1] = 0;
    duplicate->enquiry.received_at = "2026-11-28T11:00:00Z";
    reply = ti_submit_ok(fx, duplicate);
    *duplicate_id = reply->enquiry_id;
    ts_free(&reply);
    Dp__GetEnquiryReply *got = ti_get(fx, *duplicate_id);
    assert_int_equal(got->enquiry->possible_duplicate_of, *original_id);
    ts_free(&got);
}

static Dp__MergeEnquiryRequest s_merge_request(int64_t id, int64_t into_id)
{
    Dp__MergeEnquiryRequest request = DP__MERGE_ENQUIRY_REQUEST__INIT;
    request.id = id;
    request.into_id = into_id;
    request.actor = "alice";
    request.note = "same question, asked twice";
    return request;
}

static void test_merge_closes_the_duplicate_and_notes_the_original(void **state)
{
    ti_form_t form;
    int64_t original, duplicate;
    s_duplicate_pair("merge", &form, &original, &duplicate);
    long long original_steps = s_history_count(original);
    long long outbox = ti_outbox_last_id(fx->admin);

    Dp__MergeEnquiryRequest request = s_merge_request(duplicate, original);
    Dp__MergeEnquiryReply *reply =
        (Dp__MergeEnquiryReply *)s_ok(&request.base, &dp__merge_enquiry_reply__descriptor);
    const Dp__Enquiry *merged = reply->enquiry;
    assert_int_equal(merged->status, STATUS(CLOSED));
    assert_int_equal(merged->merged_into, original);
    char outcome[64];
    snprintf(outcome, sizeof outcome, "merged into %lld", (long long)original);
    assert_string_equal(merged->outcome, outcome);
    assert_true(*merged->resolved_at);
    const Dp__EnquiryTransition *step = s_last_step(merged);
    assert_int_equal(step->from_status, STATUS(TRIAGED));
    assert_int_equal(step->to_status, STATUS(CLOSED));
    assert_non_null(strstr(step->note, outcome));
    assert_non_null(strstr(step->note, "same question, asked twice"));
    ts_free(&reply);

    /* The original: a history entry and a note naming the duplicate. */
    assert_int_equal(s_history_count(original), original_steps + 1);
    Dp__GetEnquiryReply *got = ti_get(fx, original);
    char named[64];
    snprintf(named, sizeof named, "enquiry %lld merged into this one", (long long)duplicate);
    assert_int_equal(got->enquiry->status, STATUS(TRIAGED));
    assert_int_equal(got->enquiry->merged_into, 0);
    assert_string_equal(s_last_step(got->enquiry)->note, named);
    assert_int_equal(got->enquiry->n_notes, 1);
    assert_non_null(strstr(got->enquiry->notes[0]->text, named));
    ts_free(&got);

    /* One event, about the duplicate, ids only. */
    ts_event_t *event =
        ti_expect_one_event(fx->admin, outbox, "enquiry.merged", ts_id_text(duplicate));
    Dp__EnquiryEvent *payload = ti_enquiry_event(event);
    assert_int_equal(payload->enquiry_id, duplicate);
    assert_string_equal(payload->status, "closed");
    assert_string_equal(payload->previous_status, "triaged");
    assert_true(payload->possible_duplicate);
    s_assert_no_personal_data(event, &form);
    ts_free(&payload);
    ts_event_free(&event);

    /* Asked again (a retry): OK, and nothing more is written. */
    char *fingerprint = ti_fingerprint(fx->admin);
    reply = (Dp__MergeEnquiryReply *)s_ok(&request.base, &dp__merge_enquiry_reply__descriptor);
    assert_int_equal(reply->enquiry->merged_into, original);
    ts_free(&reply);
    char *after = ti_fingerprint(fx->admin);
    assert_string_equal(after, fingerprint);
    free(after);
    free(fingerprint);
}

static void test_merge_refusals(void **state)
{
    ti_form_t form;
    int64_t original, duplicate;
    s_duplicate_pair("merge-refused", &form, &original, &duplicate);
    int64_t unrelated = ti_new_enquiry(fx, "merge-unrelated");

    Dp__MergeEnquiryRequest request = s_merge_request(duplicate, unrelated);
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "into_id");
    request = s_merge_request(original, duplicate); /* the other way round */
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "into_id");
    request = s_merge_request(duplicate, duplicate);
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "into_id");
    request = s_merge_request(duplicate, 0);
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "into_id");
    request = s_merge_request(0, original);
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "id");
    request = s_merge_request(987654321, original);
    ti_expect_error(fx, &request, NOT_FOUND, "id");
    request = s_merge_request(duplicate, original);
    request.actor = "";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "actor");

    /* Only while the duplicate is open. */
    tq_assign(fx, duplicate, "bob");
    tq_move(fx, duplicate, STATUS(ANSWERED));
    request = s_merge_request(duplicate, original);
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "id");
    tq_move(fx, duplicate, STATUS(CLOSED));
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "id");
}

static void test_reopening_a_merged_enquiry_clears_its_outcome(void **state)
{
    ti_form_t form;
    int64_t original, duplicate;
    s_duplicate_pair("merge-reopen", &form, &original, &duplicate);
    Dp__MergeEnquiryRequest request = s_merge_request(duplicate, original);
    ProtobufCMessage *reply = s_ok(&request.base, &dp__merge_enquiry_reply__descriptor);
    ts_free(&reply);
    tq_move(fx, duplicate, STATUS(TRIAGED));
    Dp__GetEnquiryReply *got = ti_get(fx, duplicate);
    assert_int_equal(got->enquiry->merged_into, 0);
    assert_string_equal(got->enquiry->outcome, "");
    ts_free(&got);
}

/* ---- ReplyToEnquiry -------------------------------------------------------------------- */

static Dp__ReplyToEnquiryRequest s_reply_request(int64_t id, const char *subject, const char *body)
{
    Dp__ReplyToEnquiryRequest request = DP__REPLY_TO_ENQUIRY_REQUEST__INIT;
    request.id = id;
    request.subject = (char *)subject;
    request.body = (char *)body;
    request.actor = "bob";
    return request;
}

static void test_replies_are_queued_and_answer_the_enquiry(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "reply");
    Dp__SubmitEnquiryReply *submitted = ti_submit_ok(fx, &form);
    int64_t id = submitted->enquiry_id;
    ts_free(&submitted);
    tq_assign(fx, id, "bob");
    long long outbox = ti_outbox_last_id(fx->admin);

    Dp__ReplyToEnquiryRequest request =
        s_reply_request(id, "Your question", "Dear Ada,\nthank you for writing.");
    Dp__ReplyToEnquiryReply *reply =
        (Dp__ReplyToEnquiryReply *)s_ok(&request.base, &dp__reply_to_enquiry_reply__descriptor);
    assert_int_equal(reply->enquiry->status, STATUS(ANSWERED));
    assert_true(*reply->enquiry->first_response_at);
    assert_non_null(reply->message);
    int64_t first = reply->message->id;
    assert_true(first > 0);
    assert_string_equal(reply->message->status, "queued");
    assert_string_equal(reply->message->subject, "Your question");
    assert_string_equal(reply->message->body, "Dear Ada,\nthank you for writing.");
    assert_non_null(strstr(reply->message->author, "bob"));
    assert_true(*reply->message->created_at);
    const Dp__EnquiryTransition *step = s_last_step(reply->enquiry);
    assert_int_equal(step->from_status, STATUS(ASSIGNED));
    assert_int_equal(step->to_status, STATUS(ANSWERED));
    assert_int_equal(reply->enquiry->n_messages, 1);
    char *first_response = zsys_sprintf("%s", reply->enquiry->first_response_at);
    ts_free(&reply);

    /* The event names the enquiry, nothing of the words (the mailer reads
       the queued replies of the enquiry it names). */
    ts_event_t *event =
        ti_expect_one_event(fx->admin, outbox, "enquiry.reply_queued", ts_id_text(id));
    Dp__EnquiryEvent *payload = ti_enquiry_event(event);
    assert_int_equal(payload->enquiry_id, id);
    assert_string_equal(payload->status, "answered");
    assert_string_equal(payload->previous_status, "assigned");
    assert_false(ts_event_mentions(event, "Your question"));
    assert_false(ts_event_mentions(event, "thank you"));
    s_assert_no_personal_data(event, &form);
    ts_free(&payload);
    ts_event_free(&event);

    /* A further reply from answered: it stays answered, the first response stays. */
    outbox = ti_outbox_last_id(fx->admin);
    request = s_reply_request(id, "One more thing", "The meeting is on Tuesday.");
    reply = (Dp__ReplyToEnquiryReply *)s_ok(&request.base, &dp__reply_to_enquiry_reply__descriptor);
    assert_int_equal(reply->enquiry->status, STATUS(ANSWERED));
    assert_string_equal(reply->enquiry->first_response_at, first_response);
    assert_true(reply->message->id > first);
    ts_free(&reply);
    zstr_free(&first_response);
    event = ti_expect_one_event(fx->admin, outbox, "enquiry.reply_queued", ts_id_text(id));
    ts_event_free(&event);

    /* GetEnquiry shows both, oldest first. */
    Dp__GetEnquiryReply *got = ti_get(fx, id);
    assert_int_equal(got->enquiry->n_messages, 2);
    assert_int_equal(got->enquiry->messages[0]->id, first);
    assert_string_equal(got->enquiry->messages[0]->subject, "Your question");
    assert_string_equal(got->enquiry->messages[1]->subject, "One more thing");
    assert_string_equal(got->enquiry->messages[1]->status, "queued");
    ts_free(&got);
}

static void test_reply_refusals(void **state)
{
    int64_t id = ti_new_enquiry(fx, "reply-refused");
    Dp__ReplyToEnquiryRequest request = s_reply_request(id, "Subject", "Body");
    /* Triaged: nobody has taken it yet. */
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "id");
    tq_assign(fx, id, "bob");
    request.subject = "";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "subject");
    char long_subject[302];
    memset(long_subject, 's', 301);
    long_subject[301] = 0;
    request.subject = long_subject;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "subject");
    request.subject = "Subject";
    request.body = " ";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "body");
    char *long_body = malloc(20002);
    assert_non_null(long_body);
    memset(long_body, 'b', 20001);
    long_body[20001] = 0;
    request.body = long_body;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "body");
    free(long_body);
    request.body = "Body";
    request.actor = "";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "actor");
    request.actor = "bob";
    request.id = 987654321;
    ti_expect_error(fx, &request, NOT_FOUND, "id");
    request.id = id;
    tq_move(fx, id, STATUS(REJECTED));
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "id");
}

/* ---- RecordAdmission --------------------------------------------------------------------- */

static int64_t s_application(const char *tag)
{
    ti_form_t form;
    ti_form_init(&form, tag);
    form.enquiry.kind = "membership-application";
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);
    return id;
}

static Dp__RecordAdmissionRequest s_admission_request(int64_t id, int64_t partner_id,
                                                      const char *slug)
{
    Dp__RecordAdmissionRequest request = DP__RECORD_ADMISSION_REQUEST__INIT;
    request.id = id;
    request.partner_id = partner_id;
    request.partner_slug = (char *)slug;
    request.actor = "admin.one";
    return request;
}

static void test_admission_links_the_partner_and_closes_the_application(void **state)
{
    int64_t id = s_application("admit");
    tq_assign(fx, id, "bob");
    tq_move(fx, id, STATUS(ANSWERED));
    long long outbox = ti_outbox_last_id(fx->admin);

    Dp__RecordAdmissionRequest request = s_admission_request(id, 4242, "new-member");
    Dp__RecordAdmissionReply *reply =
        (Dp__RecordAdmissionReply *)s_ok(&request.base, &dp__record_admission_reply__descriptor);
    assert_int_equal(reply->enquiry->status, STATUS(CLOSED));
    assert_int_equal(reply->enquiry->partner_id, 4242);
    assert_string_equal(reply->enquiry->partner_slug, "new-member");
    assert_string_equal(reply->enquiry->outcome, "admitted as partner new-member");
    assert_true(*reply->enquiry->resolved_at);
    const Dp__EnquiryTransition *step = s_last_step(reply->enquiry);
    assert_int_equal(step->from_status, STATUS(ANSWERED));
    assert_int_equal(step->to_status, STATUS(CLOSED));
    assert_string_equal(step->note, "admitted as partner new-member");
    assert_non_null(strstr(step->actor, "admin.one"));
    ts_free(&reply);

    ts_event_t *event = ti_expect_one_event(fx->admin, outbox, "enquiry.admitted", ts_id_text(id));
    Dp__EnquiryEvent *payload = ti_enquiry_event(event);
    assert_int_equal(payload->partner_id, 4242);
    assert_string_equal(payload->status, "closed");
    assert_string_equal(payload->previous_status, "answered");
    assert_string_equal(payload->kind, "membership-application");
    ts_free(&payload);
    ts_event_free(&event);

    /* The same admission again: OK, the enquiry unchanged, nothing written. */
    char *fingerprint = ti_fingerprint(fx->admin);
    reply =
        (Dp__RecordAdmissionReply *)s_ok(&request.base, &dp__record_admission_reply__descriptor);
    assert_int_equal(reply->enquiry->partner_id, 4242);
    assert_int_equal(reply->enquiry->status, STATUS(CLOSED));
    ts_free(&reply);
    char *after = ti_fingerprint(fx->admin);
    assert_string_equal(after, fingerprint);
    free(after);
    free(fingerprint);

    /* Another partner for the same application: it is closed already. */
    request = s_admission_request(id, 4243, "other-member");
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "id");
}

/* From triaged too; the partner matcher no longer looks for a partner. */
static void test_admission_from_an_open_application_clears_a_pending_match(void **state)
{
    int64_t id = s_application("admit-open");
    /* As if stored while the intake had no partner map yet. */
    const char *params[] = {ts_id_text(id)};
    PQclear(ts_query(fx->admin, "UPDATE intake.enquiry SET partner_pending = true WHERE id = $1", 1,
                     params));
    Dp__RecordAdmissionRequest request = s_admission_request(id, 77, "fresh-partner");
    Dp__RecordAdmissionReply *reply =
        (Dp__RecordAdmissionReply *)s_ok(&request.base, &dp__record_admission_reply__descriptor);
    assert_int_equal(reply->enquiry->status, STATUS(CLOSED));
    assert_int_equal(s_last_step(reply->enquiry)->from_status, STATUS(TRIAGED));
    ts_free(&reply);
    char *pending = s_column(id, "SELECT partner_pending::text FROM intake.enquiry WHERE id = $1");
    assert_string_equal(pending, "false");
    free(pending);
}

static void test_admission_refusals(void **state)
{
    int64_t other_kind = ti_new_enquiry(fx, "admit-kind");
    Dp__RecordAdmissionRequest request = s_admission_request(other_kind, 5, "some-partner");
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "id");

    int64_t id = s_application("admit-refused");
    request = s_admission_request(id, 0, "some-partner");
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "partner_id");
    request = s_admission_request(id, 5, "Not A Slug");
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "partner_slug");
    request = s_admission_request(id, 5, "");
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "partner_slug");
    request = s_admission_request(id, 5, "some-partner");
    request.actor = "";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "actor");
    request = s_admission_request(987654321, 5, "some-partner");
    ti_expect_error(fx, &request, NOT_FOUND, "id");

    /* Rejected applications are not admitted (reopen first). */
    tq_move(fx, id, STATUS(REJECTED));
    request = s_admission_request(id, 5, "some-partner");
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "id");
}

int main(void)
{
    fx = ti_fixture_new("intake_console_changes");
    const char *settings[] = {"DP_INTAKE_SENDER_LIMIT_PER_HOUR", "0", NULL};
    ti_fixture_start_intake(fx, settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_change_due_date_keeps_the_reason_in_history_and_audit),
        cmocka_unit_test(test_change_due_date_refusals),
        cmocka_unit_test(test_merge_closes_the_duplicate_and_notes_the_original),
        cmocka_unit_test(test_merge_refusals),
        cmocka_unit_test(test_reopening_a_merged_enquiry_clears_its_outcome),
        cmocka_unit_test(test_replies_are_queued_and_answer_the_enquiry),
        cmocka_unit_test(test_reply_refusals),
        cmocka_unit_test(test_admission_links_the_partner_and_closes_the_application),
        cmocka_unit_test(test_admission_from_an_open_application_clears_a_pending_match),
        cmocka_unit_test(test_admission_refusals),
    };
    return ti_fixture_run(&fx, "intake console changes", tests, sizeof tests / sizeof *tests);
}
