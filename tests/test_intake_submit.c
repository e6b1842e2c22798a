/* Submissions one at a time: what is stored, the events, idempotency,
   validation field by field, quarantine (honeypot, sender rate), possible
   duplicates, keyword rules and enquiry kinds as data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intake_support.h"

static ti_fixture_t *fx;

/* Small limits, so that the tests can reach them. */
enum { MAX_BODY_BYTES = 1000, SENDER_LIMIT = 3 };

#define STATUS(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

/* A string of n copies of c (the caller frees). */
static char *s_repeat(char c, size_t n)
{
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, c, n);
    text[n] = 0;
    return text;
}

#define s_expect_invalid(form, field)                                                              \
    ti_expect_error_at(fx, &(form)->request.base, DP__CODE__CODE_INVALID_ARGUMENT, field,          \
                       __FILE__, __LINE__)

/* Each value in turn in the field of a fresh valid form (tagged tag):
   every one refused INVALID_ARGUMENT naming the field, nothing stored. */
static void s_expect_each_invalid(const char *tag, const char *field, const char *const *bad,
                                  size_t count)
{
    for (size_t i = 0; i < count; i++) {
        ti_form_t form;
        ti_form_init(&form, tag);
        ts_set_text(&form.enquiry.base, field, bad[i]);
        s_expect_invalid(&form, field);
    }
}

/* Runs one query about an enquiry ($1 = its id) and returns its first row's
   columns joined by "|" (the caller frees). */
static char *s_enquiry_row(const char *sql, int64_t id)
{
    const char *params[] = {ts_id_text(id)};
    return ts_query_text(fx->admin, sql, 1, params);
}

/* ---- a valid submission ------------------------------------------------------ */

static void test_valid_submission_is_stored_and_triaged(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "valid");
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    assert_true(reply->enquiry_id > 0);
    assert_int_equal(reply->status, STATUS(TRIAGED));
    assert_false(reply->already_submitted);

    char *row = s_enquiry_row(
        "SELECT concat_ws('|', source, idempotency_key, sender_name, email, organisation, "
        "country, kind, subject, body, language, status, quarantine_reason, partner_slug, "
        "coalesce(partner_id, 0), coalesce(possible_duplicate_of, 0), "
        "to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS'), due_on, "
        "(first_response_at IS NULL)::text, (resolved_at IS NULL)::text, (assignee = '')::text) "
        "FROM intake.enquiry WHERE id = $1",
        reply->enquiry_id);
    char *expected =
        zsys_sprintf("website|%s|Ada Lovelace|%s|Analytical Engines Ltd|GB|information-request|%s|"
                     "We would like to learn more about the Digital Partnership.|en|triaged|||0|0|"
                     "2026-11-28T16:30:00|2026-12-03|true|true|true",
                     form.key, form.email, form.subject);
    assert_string_equal(row, expected);
    free(row);
    zstr_free(&expected);
    ts_free(&reply);
}

static void test_valid_submission_has_received_then_triaged_history(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "history");
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    char *history = s_enquiry_row(
        "SELECT string_agg(concat_ws(',', coalesce(from_status, '-'), to_status, actor, note), "
        "';' ORDER BY id) FROM intake.enquiry_transition WHERE enquiry_id = $1",
        reply->enquiry_id);
    /* Received from the submitter (without CURVE, the source it claims,
       marked so); triaged by the intake. */
    assert_string_equal(history,
                        "-,received,website (unauthenticated),;received,triaged,intake,at intake");
    free(history);

    /* The same history through GetEnquiry, with times. */
    Dp__GetEnquiryReply *got = ti_get(fx, reply->enquiry_id);
    Dp__Enquiry *enquiry = got->enquiry;
    assert_int_equal(enquiry->n_history, 2);
    assert_int_equal(enquiry->history[0]->from_status, STATUS(UNSPECIFIED));
    assert_int_equal(enquiry->history[0]->to_status, STATUS(RECEIVED));
    assert_int_equal(enquiry->history[1]->from_status, STATUS(RECEIVED));
    assert_int_equal(enquiry->history[1]->to_status, STATUS(TRIAGED));
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(enquiry->history[i]->actor, i ? "intake" : "website (unauthenticated)");
        assert_int_equal(strlen(enquiry->history[i]->at), strlen("2026-11-28T16:30:00Z"));
    }
    assert_string_equal(enquiry->body, form.enquiry.body);
    assert_string_equal(enquiry->received_at, "2026-11-28T16:30:00Z");
    assert_string_equal(enquiry->due_on, "2026-12-03");
    assert_true(*enquiry->stored_at);
    ts_free(&got);
    ts_free(&reply);
}

static void test_valid_submission_writes_received_and_triaged_events(void **state)
{
    long long last = ti_outbox_last_id(fx->admin);
    ti_form_t form;
    ti_form_init(&form, "events");
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    const char *id = ts_id_text(reply->enquiry_id);

    size_t count = 0;
    ts_event_t **events = ti_events_after(fx->admin, last, &count);
    assert_int_equal(count, 2);
    static const char *types[] = {"enquiry.received", "enquiry.triaged"};
    static const char *statuses[] = {"received", "triaged"};
    static const char *previous[] = {"", "received"};
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(events[i]->event_type, types[i]);
        assert_string_equal(events[i]->aggregate_type, "enquiry");
        assert_string_equal(events[i]->aggregate_id, id);
        Dp__EnquiryEvent *event = ti_enquiry_event(events[i]);
        assert_int_equal(event->enquiry_id, reply->enquiry_id);
        assert_string_equal(event->source, "website");
        assert_string_equal(event->kind, "information-request");
        assert_string_equal(event->status, statuses[i]);
        assert_string_equal(event->previous_status, previous[i]);
        assert_string_equal(event->received_at, "2026-11-28T16:30:00Z");
        assert_int_equal(event->partner_id, 0);
        assert_false(event->possible_duplicate);
        ts_free(&event);
        /* Events carry no personal data and nothing the sender wrote. */
        const char *private_fields[] = {form.enquiry.sender_name,  form.enquiry.email,
                                        form.enquiry.organisation, form.enquiry.subject,
                                        form.enquiry.body,         form.key};
        for (size_t j = 0; j < sizeof private_fields / sizeof *private_fields; j++)
            if (ts_event_mentions(events[i], private_fields[j]))
                fail_msg("%s mentions '%s'", types[i], private_fields[j]);
    }
    ti_events_free(&events, count);
    ts_free(&reply);
}

/* ---- idempotency ----------------------------------------------------------------- */

static void test_resubmission_returns_the_original_and_stores_nothing(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "resubmit");
    Dp__SubmitEnquiryReply *first = ti_submit_ok(fx, &form);
    char *before = ti_fingerprint(fx->admin);

    Dp__SubmitEnquiryReply *again = ti_submit_ok(fx, &form);
    assert_int_equal(again->enquiry_id, first->enquiry_id);
    assert_int_equal(again->status, STATUS(TRIAGED));
    assert_true(again->already_submitted);

    char *after = ti_fingerprint(fx->admin);
    assert_string_equal(before, after);
    free(before);
    free(after);
    ts_free(&first);
    ts_free(&again);
}

static void test_resubmission_after_a_status_change_answers_the_current_status(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "resubmit-moved");
    Dp__SubmitEnquiryReply *first = ti_submit_ok(fx, &form);
    Dp__TransitionEnquiryRequest reject = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    reject.id = first->enquiry_id;
    reject.to_status = STATUS(REJECTED);
    reject.actor = "alice";
    ts_send_ok(fx->intake, &reject, &dp__transition_enquiry_reply__descriptor);

    Dp__SubmitEnquiryReply *again = ti_submit_ok(fx, &form);
    assert_int_equal(again->enquiry_id, first->enquiry_id);
    assert_int_equal(again->status, STATUS(REJECTED));
    assert_true(again->already_submitted);
    ts_free(&first);
    ts_free(&again);
}

static void test_same_key_with_other_content_is_already_exists(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "conflict");
    Dp__SubmitEnquiryReply *first = ti_submit_ok(fx, &form);
    form.enquiry.body = "A different text under the same key.";
    ti_expect_error(fx, &form.request, ALREADY_EXISTS, "idempotency_key");
    ts_free(&first);
}

static void test_same_key_with_other_areas_is_already_exists(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "conflict-areas");
    char *areas[] = {"ai"};
    form.enquiry.areas = areas;
    form.enquiry.n_areas = 1;
    Dp__SubmitEnquiryReply *first = ti_submit_ok(fx, &form);
    char *other[] = {"elections"};
    form.enquiry.areas = other;
    ti_expect_error(fx, &form.request, ALREADY_EXISTS, "idempotency_key");
    ts_free(&first);
}

static void test_same_key_in_another_source_is_a_new_enquiry(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "two-sources");
    Dp__SubmitEnquiryReply *website = ti_submit_ok(fx, &form);
    form.enquiry.source = "newsletter";
    Dp__SubmitEnquiryReply *newsletter = ti_submit_ok(fx, &form);
    assert_int_not_equal(newsletter->enquiry_id, website->enquiry_id);
    assert_false(newsletter->already_submitted);
    const char *params[] = {form.key};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry WHERE idempotency_key = $1",
                                   1, params),
                     2);
    ts_free(&website);
    ts_free(&newsletter);
}

/* ---- validation, field by field ------------------------------------------------- */

static void test_missing_enquiry_is_invalid(void **state)
{
    Dp__SubmitEnquiryRequest request = DP__SUBMIT_ENQUIRY_REQUEST__INIT;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "enquiry");
}

static void test_source_is_validated(void **state)
{
    char *long_source = s_repeat('s', 64);
    const char *bad[] = {"", "Web Site", "web_site", "-website", long_source};
    s_expect_each_invalid("bad-source", "source", bad, sizeof bad / sizeof *bad);
    free(long_source);
}

static void test_idempotency_key_is_validated(void **state)
{
    char *long_key = s_repeat('k', 129);
    const char *bad[] = {"", "   ", "key\x01with-control", "key\xff", long_key};
    s_expect_each_invalid("bad-key", "idempotency_key", bad, sizeof bad / sizeof *bad);
    free(long_key);
}

static void test_sender_name_is_validated(void **state)
{
    char *long_name = s_repeat('n', 201);
    const char *bad[] = {"", " \t ", "Ada\x07", "Ada \xc3", long_name};
    s_expect_each_invalid("bad-name", "sender_name", bad, sizeof bad / sizeof *bad);
    free(long_name);
}

static void test_email_is_validated(void **state)
{
    char *long_local = s_repeat('e', 250);
    char *long_email = zsys_sprintf("%s@example.org", long_local);
    const char *bad[] = {"",        "no-at-sign", "a@b", "two@@example.org", "a b@example.org",
                         long_email};
    s_expect_each_invalid("bad-email", "email", bad, sizeof bad / sizeof *bad);
    zstr_free(&long_email);
    free(long_local);
}

static void test_organisation_is_validated(void **state)
{
    char *long_organisation = s_repeat('o', 201);
    const char *bad[] = {"Org\x01", "Org \xff", long_organisation};
    s_expect_each_invalid("bad-org", "organisation", bad, sizeof bad / sizeof *bad);
    free(long_organisation);
}

static void test_country_is_validated(void **state)
{
    const char *bad[] = {"fr", "FRA", "F", "F1"};
    s_expect_each_invalid("bad-country", "country", bad, sizeof bad / sizeof *bad);
}

static void test_kind_that_is_no_slug_is_invalid(void **state)
{
    const char *bad[] = {"", "Information Request", "information_request", "-other"};
    s_expect_each_invalid("bad-kind", "kind", bad, sizeof bad / sizeof *bad);
}

static void test_unknown_kind_is_invalid(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "unknown-kind");
    form.enquiry.kind = "no-such-kind";
    s_expect_invalid(&form, "kind");
}

static void test_subject_is_validated(void **state)
{
    char *long_subject = s_repeat('s', 301);
    const char *bad[] = {"", "  ", "Subject\x1b[31m", long_subject};
    s_expect_each_invalid("bad-subject", "subject", bad, sizeof bad / sizeof *bad);
    free(long_subject);
}

static void test_body_is_validated(void **state)
{
    char *long_body = s_repeat('b', MAX_BODY_BYTES + 1);
    const char *bad[] = {"", "\n\n", "Body \xed\xa0\x80 with a surrogate", long_body};
    s_expect_each_invalid("bad-body", "body", bad, sizeof bad / sizeof *bad);
    free(long_body);
}

static void test_body_of_exactly_the_limit_is_accepted(void **state)
{
    char *body = s_repeat('b', MAX_BODY_BYTES);
    ti_form_t form;
    ti_form_init(&form, "body-at-limit");
    form.enquiry.body = body;
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    ts_free(&reply);
    free(body);
}

static void test_language_is_validated(void **state)
{
    const char *bad[] = {"e", "12", "en_GB", "en GB", "en-verylongsubtag"};
    s_expect_each_invalid("bad-language", "language", bad, sizeof bad / sizeof *bad);
}

static void test_too_many_areas_are_invalid(void **state)
{
    char *areas[11];
    for (size_t i = 0; i < 11; i++)
        areas[i] = "ai";
    ti_form_t form;
    ti_form_init(&form, "many-areas");
    form.enquiry.areas = areas;
    form.enquiry.n_areas = 11;
    s_expect_invalid(&form, "areas");
}

static void test_unknown_or_malformed_area_is_invalid(void **state)
{
    const char *bad[] = {"no-such-area", "Data Protection", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *areas[] = {"ai", (char *)bad[i]};
        ti_form_t form;
        ti_form_init(&form, "bad-area");
        form.enquiry.areas = areas;
        form.enquiry.n_areas = 2;
        s_expect_invalid(&form, "areas");
    }
}

static void test_received_at_is_validated(void **state)
{
    const char *bad[] = {"",
                         "yesterday",
                         "2026-11-28",
                         "2026-11-28T16:30:00",
                         "2026-11-28T24:00:00Z",
                         "2026-02-30T10:00:00Z",
                         "2026-11-28T16:30:00+1:00",
                         "28/11/2026 16:30"};
    s_expect_each_invalid("bad-received", "received_at", bad, sizeof bad / sizeof *bad);
}

/* An offset PostgreSQL cannot take (it accepts -15:59 to +15:59) is the
   sender's mistake too: INVALID_ARGUMENT, not a database error. */
static void test_received_at_with_an_offset_out_of_range_is_invalid(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "offset-range");
    form.enquiry.received_at = "2026-11-28T16:30:00+20:00";
    s_expect_invalid(&form, "received_at");
}

static void test_received_at_with_offset_and_fraction_is_accepted(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "offset");
    form.enquiry.received_at = "2026-11-28T17:30:00.250+01:00";
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    Dp__GetEnquiryReply *got = ti_get(fx, reply->enquiry_id);
    assert_string_equal(got->enquiry->received_at, "2026-11-28T16:30:00Z");
    ts_free(&got);
    ts_free(&reply);
}

static void test_honeypot_must_be_text(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "bad-honeypot");
    form.enquiry.honeypot = "\x01\x02";
    s_expect_invalid(&form, "honeypot");
}

/* ---- quarantine -------------------------------------------------------------------- */

static void test_filled_honeypot_is_quarantined(void **state)
{
    long long last = ti_outbox_last_id(fx->admin);
    ti_form_t form;
    ti_form_init(&form, "honeypot");
    form.enquiry.honeypot = "http://cheap-pills.example";
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    assert_int_equal(reply->status, STATUS(QUARANTINED));

    Dp__GetEnquiryReply *got = ti_get(fx, reply->enquiry_id);
    assert_int_equal(got->enquiry->status, STATUS(QUARANTINED));
    assert_string_equal(got->enquiry->quarantine_reason, "honeypot");
    assert_int_equal(got->enquiry->n_history, 2);
    assert_int_equal(got->enquiry->history[1]->to_status, STATUS(QUARANTINED));
    ts_free(&got);

    size_t count = 0;
    ts_event_t **events = ti_events_after(fx->admin, last, &count);
    assert_int_equal(count, 2);
    Dp__EnquiryEvent *triaged = ti_enquiry_event(events[1]);
    assert_string_equal(triaged->status, "quarantined");
    ts_free(&triaged);
    ti_events_free(&events, count);
    ts_free(&reply);
}

static void test_sender_over_the_hourly_limit_is_quarantined(void **state)
{
    /* The address in three spellings: the limit is per address, whatever its case. */
    const char *addresses[] = {"busy.sender@example.net", "Busy.Sender@example.net",
                               "busy.sender@EXAMPLE.NET"};
    int64_t ids[SENDER_LIMIT + 2];
    for (int i = 0; i < SENDER_LIMIT + 2; i++) {
        ti_form_t form;
        ti_form_init(&form, "rate");
        form.enquiry.email = (char *)addresses[i % 3];
        Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
        assert_false(reply->already_submitted);
        assert_int_equal(reply->status, i < SENDER_LIMIT ? STATUS(TRIAGED) : STATUS(QUARANTINED));
        ids[i] = reply->enquiry_id;
        ts_free(&reply);
    }
    for (int i = 0; i < SENDER_LIMIT + 2; i++) {
        Dp__GetEnquiryReply *got = ti_get(fx, ids[i]);
        assert_string_equal(got->enquiry->quarantine_reason, i < SENDER_LIMIT ? "" : "rate");
        ts_free(&got);
    }
    /* Another address is not affected. */
    int64_t other = ti_new_enquiry(fx, "rate-other");
    Dp__GetEnquiryReply *got = ti_get(fx, other);
    assert_int_equal(got->enquiry->status, STATUS(TRIAGED));
    ts_free(&got);
}

/* A feeding system that retries (the same key and content) sends no new
   enquiry: the retries must not use up the sender's hourly allowance. */
static void test_retries_do_not_count_towards_the_sender_limit(void **state)
{
    ti_form_t first;
    ti_form_init(&first, "retrying");
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &first);
    ts_free(&reply);
    for (int i = 0; i < SENDER_LIMIT; i++) {
        reply = ti_submit_ok(fx, &first);
        assert_true(reply->already_submitted);
        ts_free(&reply);
    }
    ti_form_t second;
    ti_form_init(&second, "retrying");
    second.enquiry.email = first.email;
    reply = ti_submit_ok(fx, &second);
    assert_false(reply->already_submitted);
    if (reply->status != STATUS(TRIAGED))
        fail_msg("the second enquiry from %s came out %s: the %d retries of the first were "
                 "counted as submissions",
                 first.email, ti_status_name(reply->status), SENDER_LIMIT);
    ts_free(&reply);
}

/* ---- possible duplicates ---------------------------------------------------------- */

static int64_t s_submit_as(const char *tag, const char *email, const char *subject,
                           const char *received_at, Dp__SubmitEnquiryReply **reply_p)
{
    ti_form_t form;
    ti_form_init(&form, tag);
    form.enquiry.email = (char *)email;
    form.enquiry.subject = (char *)subject;
    form.enquiry.received_at = (char *)received_at;
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    int64_t id = reply->enquiry_id;
    if (reply_p)
        *reply_p = reply;
    else
        ts_free(&reply);
    return id;
}

static int64_t s_duplicate_of(int64_t id)
{
    Dp__GetEnquiryReply *got = ti_get(fx, id);
    int64_t original = got->enquiry->possible_duplicate_of;
    ts_free(&got);
    return original;
}

static void test_same_sender_and_subject_is_flagged_not_dropped(void **state)
{
    const char *email = "repeat@example.com";
    int64_t first = s_submit_as("dup", email, "Funding for schools", "2026-11-20T10:00:00Z", NULL);
    long long last = ti_outbox_last_id(fx->admin);
    Dp__SubmitEnquiryReply *reply = NULL;
    int64_t second = s_submit_as("dup", "Repeat@Example.com", "Re:  FUNDING   for Schools ",
                                 "2026-11-21T09:00:00Z", &reply);
    assert_int_not_equal(second, first);
    assert_false(reply->already_submitted);
    assert_int_equal(reply->status, STATUS(TRIAGED));
    ts_free(&reply);
    assert_int_equal(s_duplicate_of(second), first);
    assert_int_equal(s_duplicate_of(first), 0);

    size_t count = 0;
    ts_event_t **events = ti_events_after(fx->admin, last, &count);
    assert_int_equal(count, 2);
    for (size_t i = 0; i < count; i++) {
        Dp__EnquiryEvent *event = ti_enquiry_event(events[i]);
        assert_true(event->possible_duplicate);
        ts_free(&event);
    }
    ti_events_free(&events, count);
}

static void test_latest_earlier_enquiry_is_the_one_referred_to(void **state)
{
    const char *email = "thrice@example.com";
    s_submit_as("dup3", email, "Visit in May", "2026-11-20T10:00:00Z", NULL);
    int64_t second = s_submit_as("dup3", email, "RE: visit in may", "2026-11-20T12:00:00Z", NULL);
    int64_t third =
        s_submit_as("dup3", email, "Fwd: Re: Visit  in May", "2026-11-21T08:00:00Z", NULL);
    assert_int_equal(s_duplicate_of(third), second);
}

static void test_same_subject_outside_the_window_is_not_flagged(void **state)
{
    const char *email = "patient@example.com";
    s_submit_as("late", email, "Annual report", "2026-11-01T10:00:00Z", NULL);
    /* 72 hours and one minute later. */
    int64_t later = s_submit_as("late", email, "Re: Annual report", "2026-11-04T10:01:00Z", NULL);
    assert_int_equal(s_duplicate_of(later), 0);
}

static void test_same_subject_from_another_sender_is_not_flagged(void **state)
{
    s_submit_as("other-sender", "first.sender@example.com", "Joint conference",
                "2026-11-10T10:00:00Z", NULL);
    int64_t other = s_submit_as("other-sender", "second.sender@example.com", "Joint conference",
                                "2026-11-10T11:00:00Z", NULL);
    assert_int_equal(s_duplicate_of(other), 0);
}

/* ---- keyword rules ---------------------------------------------------------------- */

static void test_keyword_rules_suggest_areas(void **state)
{
    long long last = ti_outbox_last_id(fx->admin);
    ti_form_t form;
    ti_form_init(&form, "rules");
    form.enquiry.subject = "Cybercrime training";
    form.enquiry.body = "Our members ask about PRIVACY and data protection in schools.";
    char *areas[] = {"elections"};
    form.enquiry.areas = areas;
    form.enquiry.n_areas = 1;
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);

    Dp__GetEnquiryReply *got = ti_get(fx, reply->enquiry_id);
    Dp__Enquiry *enquiry = got->enquiry;
    /* Two rules point at data-protection: it is suggested once. */
    assert_int_equal(enquiry->n_suggested_areas, 2);
    assert_string_equal(enquiry->suggested_areas[0], "cybercrime");
    assert_string_equal(enquiry->suggested_areas[1], "data-protection");
    assert_int_equal(enquiry->n_areas, 1);
    assert_string_equal(enquiry->areas[0], "elections");
    ts_free(&got);

    /* The events carry submitted and suggested areas. */
    size_t count = 0;
    ts_event_t **events = ti_events_after(fx->admin, last, &count);
    assert_int_equal(count, 2);
    Dp__EnquiryEvent *event = ti_enquiry_event(events[1]);
    assert_int_equal(event->n_areas, 3);
    assert_true(ti_contains(event->areas, event->n_areas, "elections"));
    assert_true(ti_contains(event->areas, event->n_areas, "cybercrime"));
    assert_true(ti_contains(event->areas, event->n_areas, "data-protection"));
    ts_free(&event);
    ti_events_free(&events, count);
    ts_free(&reply);
}

static void test_text_without_keywords_gets_no_suggestion(void **state)
{
    int64_t id = ti_new_enquiry(fx, "plain");
    Dp__GetEnquiryReply *got = ti_get(fx, id);
    assert_int_equal(got->enquiry->n_suggested_areas, 0);
    ts_free(&got);
}

static bool s_suggests(const char *tag, const char *body, const char *area)
{
    ti_form_t form;
    ti_form_init(&form, tag);
    form.enquiry.body = (char *)body;
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    Dp__GetEnquiryReply *got = ti_get(fx, reply->enquiry_id);
    bool suggested =
        ti_contains(got->enquiry->suggested_areas, got->enquiry->n_suggested_areas, area);
    ts_free(&got);
    ts_free(&reply);
    return suggested;
}

static int64_t s_add_rule(const char *keyword, const char *area)
{
    Dp__TriageRule rule = DP__TRIAGE_RULE__INIT;
    rule.keyword = (char *)keyword;
    rule.area = (char *)area;
    Dp__AddTriageRuleRequest request = DP__ADD_TRIAGE_RULE_REQUEST__INIT;
    request.rule = &rule;
    dp_status_t status;
    Dp__AddTriageRuleReply *reply = ti_add_triage_rule(fx->intake, &request, &status);
    ts_assert_ok(&status);
    assert_non_null(reply->rule);
    assert_true(reply->rule->id > 0);
    assert_string_equal(reply->rule->keyword, keyword);
    assert_string_equal(reply->rule->area, area);
    int64_t id = reply->rule->id;
    ts_free(&reply);
    return id;
}

static void test_added_rule_takes_effect_for_the_next_submission(void **state)
{
    assert_false(s_suggests("before-rule", "We build blockchain registries.", "ai"));
    long long last = ti_outbox_last_id(fx->admin);
    int64_t rule_id = s_add_rule("blockchain", "ai");

    ts_event_t *added = ti_expect_one_event(fx->admin, last, "enquiry.rule_added", NULL);
    Dp__IntakeReferenceEvent *event = (Dp__IntakeReferenceEvent *)dp_message_decode(
        &dp__intake_reference_event__descriptor, added->payload, added->payload_size, 1 << 16);
    assert_non_null(event);
    assert_string_equal(event->list, "rule");
    assert_string_equal(event->key, ts_id_text(rule_id));
    assert_string_equal(event->value, "ai");
    ts_free(&event);
    ts_event_free(&added);

    Dp__ListTriageRulesRequest list = DP__LIST_TRIAGE_RULES_REQUEST__INIT;
    dp_status_t status;
    Dp__ListTriageRulesReply *rules = ti_list_triage_rules(fx->intake, &list, &status);
    ts_assert_ok(&status);
    bool listed = false;
    for (size_t i = 0; i < rules->n_rules; i++)
        listed = listed || (rules->rules[i]->id == rule_id &&
                            strcmp(rules->rules[i]->keyword, "blockchain") == 0 &&
                            strcmp(rules->rules[i]->area, "ai") == 0);
    assert_true(listed);
    ts_free(&rules);

    assert_true(s_suggests("after-rule", "Our BLOCKCHAIN pilot needs partners.", "ai"));
}

static void test_removed_rule_no_longer_applies(void **state)
{
    int64_t rule_id = s_add_rule("quantum", "digital-literacy");
    assert_true(s_suggests("rule-on", "A quantum course for teachers.", "digital-literacy"));
    long long last = ti_outbox_last_id(fx->admin);
    Dp__RemoveTriageRuleRequest remove = DP__REMOVE_TRIAGE_RULE_REQUEST__INIT;
    remove.id = rule_id;
    ts_send_ok(fx->intake, &remove, &dp__remove_triage_rule_reply__descriptor);
    ts_event_t *event = ti_expect_one_event(fx->admin, last, "enquiry.rule_removed", NULL);
    ts_event_free(&event);
    assert_false(s_suggests("rule-off", "A quantum course for teachers.", "digital-literacy"));
    ti_expect_error(fx, &remove, NOT_FOUND, "id");
}

static void test_rules_are_validated(void **state)
{
    Dp__TriageRule rule = DP__TRIAGE_RULE__INIT;
    Dp__AddTriageRuleRequest request = DP__ADD_TRIAGE_RULE_REQUEST__INIT;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "rule");
    request.rule = &rule;
    rule.area = "ai";
    const char *bad_keywords[] = {"", "x", "Upper Case", "   "};
    for (size_t i = 0; i < sizeof bad_keywords / sizeof *bad_keywords; i++) {
        rule.keyword = (char *)bad_keywords[i];
        ti_expect_error(fx, &request, INVALID_ARGUMENT, "keyword");
    }
    rule.keyword = "robotics";
    const char *bad_areas[] = {"", "no-such-area", "Not A Slug"};
    for (size_t i = 0; i < sizeof bad_areas / sizeof *bad_areas; i++) {
        rule.area = (char *)bad_areas[i];
        ti_expect_error(fx, &request, INVALID_ARGUMENT, "area");
    }
    /* A seeded rule exists already. */
    rule.keyword = "privacy";
    rule.area = "data-protection";
    ti_expect_error(fx, &request, ALREADY_EXISTS, "keyword");
}

/* ---- kinds are data ------------------------------------------------------------------ */

static void test_added_kind_can_be_submitted(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "new-kind");
    form.enquiry.kind = "partnership-renewal";
    s_expect_invalid(&form, "kind");

    long long last = ti_outbox_last_id(fx->admin);
    Dp__EnquiryKind kind = DP__ENQUIRY_KIND__INIT;
    kind.slug = "partnership-renewal";
    kind.label = "Partnership renewal";
    Dp__AddEnquiryKindRequest add = DP__ADD_ENQUIRY_KIND_REQUEST__INIT;
    add.kind = &kind;
    dp_status_t status;
    Dp__AddEnquiryKindReply *added = ti_add_enquiry_kind(fx->intake, &add, &status);
    ts_assert_ok(&status);
    assert_string_equal(added->kind->slug, "partnership-renewal");
    ts_free(&added);
    ts_event_t *event = ti_expect_one_event(fx->admin, last, "enquiry.kind_added", NULL);
    assert_true(ts_event_mentions(event, "partnership-renewal"));
    ts_event_free(&event);

    Dp__ListEnquiryKindsRequest list = DP__LIST_ENQUIRY_KINDS_REQUEST__INIT;
    Dp__ListEnquiryKindsReply *kinds = ti_list_enquiry_kinds(fx->intake, &list, &status);
    ts_assert_ok(&status);
    bool listed = false;
    for (size_t i = 0; i < kinds->n_kinds; i++)
        listed = listed || (strcmp(kinds->kinds[i]->slug, "partnership-renewal") == 0 &&
                            strcmp(kinds->kinds[i]->label, "Partnership renewal") == 0);
    assert_true(listed);
    ts_free(&kinds);

    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    Dp__GetEnquiryReply *got = ti_get(fx, reply->enquiry_id);
    assert_string_equal(got->enquiry->kind, "partnership-renewal");
    ts_free(&got);
    ts_free(&reply);
}

static void test_kinds_are_validated(void **state)
{
    Dp__EnquiryKind kind = DP__ENQUIRY_KIND__INIT;
    Dp__AddEnquiryKindRequest add = DP__ADD_ENQUIRY_KIND_REQUEST__INIT;
    ti_expect_error(fx, &add, INVALID_ARGUMENT, "kind");
    add.kind = &kind;
    kind.label = "Label";
    kind.slug = "Not A Slug";
    ti_expect_error(fx, &add, INVALID_ARGUMENT, "slug");
    kind.slug = "fine-slug";
    kind.label = " ";
    ti_expect_error(fx, &add, INVALID_ARGUMENT, "label");
    kind.slug = "media";
    kind.label = "Media again";
    ti_expect_error(fx, &add, ALREADY_EXISTS, "slug");
}

int main(void)
{
    char body_limit[24], sender_limit[24];
    snprintf(body_limit, sizeof body_limit, "%d", MAX_BODY_BYTES);
    snprintf(sender_limit, sizeof sender_limit, "%d", SENDER_LIMIT);
    const char *settings[] = {"DP_INTAKE_MAX_BODY_BYTES",
                              body_limit,
                              "DP_INTAKE_SENDER_LIMIT_PER_HOUR",
                              sender_limit,
                              "DP_INTAKE_DUPLICATE_WINDOW_HOURS",
                              "72",
                              "DP_INTAKE_RESPONSE_DAYS",
                              "5",
                              NULL};
    fx = ti_fixture_new("intake_submit");
    ti_fixture_start_intake(fx, settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_submission_is_stored_and_triaged),
        cmocka_unit_test(test_valid_submission_has_received_then_triaged_history),
        cmocka_unit_test(test_valid_submission_writes_received_and_triaged_events),
        cmocka_unit_test(test_resubmission_returns_the_original_and_stores_nothing),
        cmocka_unit_test(test_resubmission_after_a_status_change_answers_the_current_status),
        cmocka_unit_test(test_same_key_with_other_content_is_already_exists),
        cmocka_unit_test(test_same_key_with_other_areas_is_already_exists),
        cmocka_unit_test(test_same_key_in_another_source_is_a_new_enquiry),
        cmocka_unit_test(test_missing_enquiry_is_invalid),
        cmocka_unit_test(test_source_is_validated),
        cmocka_unit_test(test_idempotency_key_is_validated),
        cmocka_unit_test(test_sender_name_is_validated),
        cmocka_unit_test(test_email_is_validated),
        cmocka_unit_test(test_organisation_is_validated),
        cmocka_unit_test(test_country_is_validated),
        cmocka_unit_test(test_kind_that_is_no_slug_is_invalid),
        cmocka_unit_test(test_unknown_kind_is_invalid),
        cmocka_unit_test(test_subject_is_validated),
        cmocka_unit_test(test_body_is_validated),
        cmocka_unit_test(test_body_of_exactly_the_limit_is_accepted),
        cmocka_unit_test(test_language_is_validated),
        cmocka_unit_test(test_too_many_areas_are_invalid),
        cmocka_unit_test(test_unknown_or_malformed_area_is_invalid),
        cmocka_unit_test(test_received_at_is_validated),
        cmocka_unit_test(test_received_at_with_an_offset_out_of_range_is_invalid),
        cmocka_unit_test(test_received_at_with_offset_and_fraction_is_accepted),
        cmocka_unit_test(test_honeypot_must_be_text),
        cmocka_unit_test(test_filled_honeypot_is_quarantined),
        cmocka_unit_test(test_sender_over_the_hourly_limit_is_quarantined),
        cmocka_unit_test(test_retries_do_not_count_towards_the_sender_limit),
        cmocka_unit_test(test_same_sender_and_subject_is_flagged_not_dropped),
        cmocka_unit_test(test_latest_earlier_enquiry_is_the_one_referred_to),
        cmocka_unit_test(test_same_subject_outside_the_window_is_not_flagged),
        cmocka_unit_test(test_same_subject_from_another_sender_is_not_flagged),
        cmocka_unit_test(test_keyword_rules_suggest_areas),
        cmocka_unit_test(test_text_without_keywords_gets_no_suggestion),
        cmocka_unit_test(test_added_rule_takes_effect_for_the_next_submission),
        cmocka_unit_test(test_removed_rule_no_longer_applies),
        cmocka_unit_test(test_rules_are_validated),
        cmocka_unit_test(test_added_kind_can_be_submitted),
        cmocka_unit_test(test_kinds_are_validated),
    };
    return ti_fixture_run(&fx, "intake submissions", tests, sizeof tests / sizeof *tests);
}
