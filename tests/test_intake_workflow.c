/* The staff workflow: every move of the transition table and a selection of
   refused ones, assigning, response and resolution times, history, notes,
   reading one enquiry, and lists with filters and pages. */
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

#define STATUS(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

/* The partner whose domain some enquiries come from. */
#define PARTNER_SLUG "acme"
#define PARTNER_DOMAIN "acme.example"

/* The service's names of the statuses (as in the database and events). */
static const char *s_name(Dp__EnquiryStatus status)
{
    static const char *names[] = {"",         "received", "triaged",  "assigned",
                                  "answered", "closed",   "rejected", "quarantined"};
    assert_true((size_t)status < sizeof names / sizeof *names);
    return names[status];
}

/* ---- moving an enquiry ----------------------------------------------------------- */

static Dp__TransitionEnquiryReply *s_transition(int64_t id, Dp__EnquiryStatus to, const char *actor,
                                                const char *note, dp_status_t *status)
{
    Dp__TransitionEnquiryRequest request = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    request.id = id;
    request.to_status = to;
    request.actor = (char *)actor;
    request.note = (char *)note;
    return ti_transition_enquiry(fx->intake, &request, status);
}

static void s_move(int64_t id, Dp__EnquiryStatus to)
{
    dp_status_t status;
    Dp__TransitionEnquiryReply *reply = s_transition(id, to, "setup", "", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->enquiry->status, to);
    ts_free(&reply);
}

static Dp__AssignEnquiryReply *s_assign_call(int64_t id, const char *assignee, const char *actor,
                                             const char *note, dp_status_t *status)
{
    Dp__AssignEnquiryRequest request = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
    request.id = id;
    request.assignee = (char *)assignee;
    request.actor = (char *)actor;
    request.note = (char *)note;
    return ti_assign_enquiry(fx->intake, &request, status);
}

static void s_assign(int64_t id, const char *assignee)
{
    dp_status_t status;
    Dp__AssignEnquiryReply *reply = s_assign_call(id, assignee, "setup", "", &status);
    ts_assert_ok(&status);
    ts_free(&reply);
}

/* A new enquiry brought to `status` by allowed moves. Submissions never
   rest in RECEIVED (they are triaged at intake), so that one is set in the
   table directly, as for an enquiry stored before triage existed. */
static int64_t s_enquiry_in(Dp__EnquiryStatus status)
{
    int64_t id = ti_new_enquiry(fx, "flow");
    switch (status) {
    case STATUS(RECEIVED): {
        const char *params[] = {ts_id_text(id)};
        PQclear(ts_query(fx->admin, "UPDATE intake.enquiry SET status = 'received' WHERE id = $1",
                         1, params));
        break;
    }
    case STATUS(TRIAGED):
        break;
    case STATUS(QUARANTINED):
    case STATUS(REJECTED):
        s_move(id, status);
        break;
    case STATUS(ASSIGNED):
        s_assign(id, "bob");
        break;
    case STATUS(ANSWERED):
        s_assign(id, "bob");
        s_move(id, STATUS(ANSWERED));
        break;
    case STATUS(CLOSED):
        s_assign(id, "bob");
        s_move(id, STATUS(ANSWERED));
        s_move(id, STATUS(CLOSED));
        break;
    default:
        fail_msg("no way to status %d", status);
    }
    return id;
}

/* A text column of the enquiry, as the superuser reads it (full precision). */
static char *s_column(int64_t id, const char *sql)
{
    const char *params[] = {ts_id_text(id)};
    return ts_query_text(fx->admin, sql, 1, params);
}

/* The opaque id the intake gave a staff member. */
static long long s_staff_id(const char *name)
{
    const char *params[] = {name};
    return ts_query_long(fx->admin, "SELECT id FROM intake.staff WHERE name = $1", 1, params);
}

/* ---- the transition table ------------------------------------------------------------ */

static const struct {
    Dp__EnquiryStatus from; /* status before */
    Dp__EnquiryStatus to;   /* status after */
} s_allowed[] = {
    {STATUS(RECEIVED), STATUS(TRIAGED)},     {STATUS(RECEIVED), STATUS(REJECTED)},
    {STATUS(RECEIVED), STATUS(QUARANTINED)}, {STATUS(TRIAGED), STATUS(REJECTED)},
    {STATUS(TRIAGED), STATUS(QUARANTINED)},  {STATUS(QUARANTINED), STATUS(TRIAGED)},
    {STATUS(QUARANTINED), STATUS(REJECTED)}, {STATUS(ASSIGNED), STATUS(TRIAGED)},
    {STATUS(ASSIGNED), STATUS(ANSWERED)},    {STATUS(ASSIGNED), STATUS(REJECTED)},
    {STATUS(ANSWERED), STATUS(ASSIGNED)},    {STATUS(ANSWERED), STATUS(CLOSED)},
    {STATUS(CLOSED), STATUS(TRIAGED)},       {STATUS(REJECTED), STATUS(TRIAGED)},
};

static void test_every_allowed_transition(void **state)
{
    for (size_t i = 0; i < sizeof s_allowed / sizeof *s_allowed; i++) {
        Dp__EnquiryStatus from = s_allowed[i].from, to = s_allowed[i].to;
        int64_t id = s_enquiry_in(from);
        long long last = ti_outbox_last_id(fx->admin);
        dp_status_t status;
        Dp__TransitionEnquiryReply *reply = s_transition(id, to, "alice", "table move", &status);
        if (status.code != DP__CODE__CODE_OK)
            fail_msg("%s -> %s refused: %s %s", s_name(from), s_name(to), dp_code_name(status.code),
                     status.message);
        assert_int_equal(reply->enquiry->id, id);
        assert_int_equal(reply->enquiry->status, to);
        /* Back to triage, nobody's; answered -> assigned keeps the assignee. */
        if (to == STATUS(TRIAGED))
            assert_string_equal(reply->enquiry->assignee, "");
        if (from == STATUS(ANSWERED) && to == STATUS(ASSIGNED))
            assert_string_equal(reply->enquiry->assignee, "bob");
        Dp__EnquiryTransition *step = reply->enquiry->history[reply->enquiry->n_history - 1];
        assert_int_equal(step->from_status, from);
        assert_int_equal(step->to_status, to);
        /* Without CURVE the request's actor, marked unauthenticated. */
        assert_string_equal(step->actor, "alice (unauthenticated)");
        assert_string_equal(step->note, "table move");
        assert_true(*step->at);
        ts_free(&reply);

        ts_event_t *event =
            ti_expect_one_event(fx->admin, last, "enquiry.status_changed", ts_id_text(id));
        Dp__EnquiryEvent *payload = ti_enquiry_event(event);
        assert_int_equal(payload->enquiry_id, id);
        assert_string_equal(payload->status, s_name(to));
        assert_string_equal(payload->previous_status, s_name(from));
        assert_string_equal(payload->source, "website");
        ts_free(&payload);
        ts_event_free(&event);
    }
}

static void test_moves_outside_the_table_are_refused(void **state)
{
    static const struct {
        Dp__EnquiryStatus from; /* status before */
        Dp__EnquiryStatus to;   /* refused target */
    } refused[] = {
        {STATUS(RECEIVED), STATUS(ANSWERED)},    {STATUS(RECEIVED), STATUS(CLOSED)},
        {STATUS(TRIAGED), STATUS(ANSWERED)},     {STATUS(TRIAGED), STATUS(CLOSED)},
        {STATUS(TRIAGED), STATUS(TRIAGED)},      {STATUS(QUARANTINED), STATUS(ANSWERED)},
        {STATUS(QUARANTINED), STATUS(CLOSED)},   {STATUS(ASSIGNED), STATUS(CLOSED)},
        {STATUS(ASSIGNED), STATUS(QUARANTINED)}, {STATUS(ANSWERED), STATUS(TRIAGED)},
        {STATUS(ANSWERED), STATUS(REJECTED)},    {STATUS(ANSWERED), STATUS(ANSWERED)},
        {STATUS(CLOSED), STATUS(ANSWERED)},      {STATUS(CLOSED), STATUS(REJECTED)},
        {STATUS(CLOSED), STATUS(CLOSED)},        {STATUS(REJECTED), STATUS(CLOSED)},
        {STATUS(REJECTED), STATUS(ASSIGNED)},    {STATUS(REJECTED), STATUS(REJECTED)},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        int64_t id = s_enquiry_in(refused[i].from);
        Dp__TransitionEnquiryRequest request = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
        request.id = id;
        request.to_status = refused[i].to;
        request.actor = "alice";
        request.note = "";
        print_message("  %s -> %s\n", s_name(refused[i].from), s_name(refused[i].to));
        ti_expect_error(fx, &request, FAILED_PRECONDITION, "to_status");
    }
}

static void test_transition_to_assigned_without_assignee_is_refused(void **state)
{
    Dp__TransitionEnquiryRequest request = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    request.id = ti_new_enquiry(fx, "no-assignee");
    request.to_status = STATUS(ASSIGNED);
    request.actor = "alice";
    ti_expect_error(fx, &request, FAILED_PRECONDITION, "to_status");
}

static void test_transition_to_received_or_unknown_status_is_invalid(void **state)
{
    Dp__TransitionEnquiryRequest request = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    request.id = ti_new_enquiry(fx, "bad-target");
    request.actor = "alice";
    const Dp__EnquiryStatus bad[] = {STATUS(UNSPECIFIED), STATUS(RECEIVED), (Dp__EnquiryStatus)42};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        request.to_status = bad[i];
        ti_expect_error(fx, &request, INVALID_ARGUMENT, "to_status");
    }
}

static void test_changes_need_an_actor(void **state)
{
    int64_t id = ti_new_enquiry(fx, "no-actor");
    const char *bad[] = {"", "   ", "alice\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        Dp__TransitionEnquiryRequest transition = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
        transition.id = id;
        transition.to_status = STATUS(REJECTED);
        transition.actor = (char *)bad[i];
        ti_expect_error(fx, &transition, INVALID_ARGUMENT, "actor");
        Dp__AssignEnquiryRequest assign = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
        assign.id = id;
        assign.assignee = "bob";
        assign.actor = (char *)bad[i];
        ti_expect_error(fx, &assign, INVALID_ARGUMENT, "actor");
        Dp__AddEnquiryNoteRequest note = DP__ADD_ENQUIRY_NOTE_REQUEST__INIT;
        note.id = id;
        note.actor = (char *)bad[i];
        note.text = "A note.";
        ti_expect_error(fx, &note, INVALID_ARGUMENT, "actor");
    }
}

static void test_changes_to_an_unknown_enquiry_are_not_found(void **state)
{
    Dp__TransitionEnquiryRequest transition = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    transition.id = 987654321;
    transition.to_status = STATUS(REJECTED);
    transition.actor = "alice";
    ti_expect_error(fx, &transition, NOT_FOUND, "id");
    Dp__AssignEnquiryRequest assign = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
    assign.id = 987654321;
    assign.assignee = "bob";
    assign.actor = "alice";
    ti_expect_error(fx, &assign, NOT_FOUND, "id");
    Dp__AddEnquiryNoteRequest note = DP__ADD_ENQUIRY_NOTE_REQUEST__INIT;
    note.id = 987654321;
    note.actor = "alice";
    note.text = "A note.";
    ti_expect_error(fx, &note, NOT_FOUND, "id");
    transition.id = 0;
    ti_expect_error(fx, &transition, INVALID_ARGUMENT, "id");
}

/* ---- assigning ------------------------------------------------------------------------- */

static void test_assign_sets_the_assignee_and_writes_one_event(void **state)
{
    int64_t id = ti_new_enquiry(fx, "assign");
    long long last = ti_outbox_last_id(fx->admin);
    dp_status_t status;
    Dp__AssignEnquiryReply *reply = s_assign_call(id, "bob", "alice", "over to bob", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->enquiry->status, STATUS(ASSIGNED));
    assert_string_equal(reply->enquiry->assignee, "bob");
    Dp__EnquiryTransition *step = reply->enquiry->history[reply->enquiry->n_history - 1];
    assert_int_equal(step->from_status, STATUS(TRIAGED));
    assert_int_equal(step->to_status, STATUS(ASSIGNED));
    assert_string_equal(step->actor, "alice (unauthenticated)");
    assert_string_equal(step->note, "over to bob");
    ts_free(&reply);

    ts_event_t *event = ti_expect_one_event(fx->admin, last, "enquiry.assigned", ts_id_text(id));
    Dp__EnquiryEvent *payload = ti_enquiry_event(event);
    /* The event names bob by his opaque staff id, never by name. */
    assert_string_equal(payload->assignee, "");
    assert_int_equal(payload->assignee_id, s_staff_id("bob"));
    assert_string_equal(payload->status, "assigned");
    assert_string_equal(payload->previous_status, "triaged");
    ts_free(&payload);
    ts_event_free(&event);

    char *assignee = s_column(id, "SELECT assignee FROM intake.enquiry WHERE id = $1");
    assert_string_equal(assignee, "bob");
    free(assignee);
}

static void test_reassign_and_assign_after_answer(void **state)
{
    int64_t id = s_enquiry_in(STATUS(ASSIGNED));
    long long last = ti_outbox_last_id(fx->admin);
    dp_status_t status;
    Dp__AssignEnquiryReply *reply = s_assign_call(id, "carol", "alice", "", &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->enquiry->assignee, "carol");
    ts_free(&reply);
    ts_event_t *event = ti_expect_one_event(fx->admin, last, "enquiry.assigned", ts_id_text(id));
    Dp__EnquiryEvent *payload = ti_enquiry_event(event);
    assert_string_equal(payload->previous_status, "assigned");
    assert_string_equal(payload->assignee, "");
    assert_int_equal(payload->assignee_id, s_staff_id("carol"));
    ts_free(&payload);
    ts_event_free(&event);

    s_move(id, STATUS(ANSWERED));
    reply = s_assign_call(id, "dave", "alice", "follow-up", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->enquiry->status, STATUS(ASSIGNED));
    assert_string_equal(reply->enquiry->assignee, "dave");
    ts_free(&reply);
}

static void test_assign_is_refused_outside_open_statuses(void **state)
{
    const Dp__EnquiryStatus closed_statuses[] = {STATUS(RECEIVED), STATUS(QUARANTINED),
                                                 STATUS(CLOSED), STATUS(REJECTED)};
    for (size_t i = 0; i < sizeof closed_statuses / sizeof *closed_statuses; i++) {
        Dp__AssignEnquiryRequest request = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
        request.id = s_enquiry_in(closed_statuses[i]);
        request.assignee = "bob";
        request.actor = "alice";
        print_message("  assign from %s\n", s_name(closed_statuses[i]));
        ti_expect_error(fx, &request, FAILED_PRECONDITION, "id");
    }
}

static void test_assign_needs_an_assignee(void **state)
{
    Dp__AssignEnquiryRequest request = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
    request.id = ti_new_enquiry(fx, "blank-assignee");
    request.actor = "alice";
    const char *bad[] = {"", "  "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        request.assignee = (char *)bad[i];
        ti_expect_error(fx, &request, INVALID_ARGUMENT, "assignee");
    }
}

/* ---- response and resolution times ------------------------------------------------------ */

static void test_first_response_is_set_once_and_reopen_clears_resolution(void **state)
{
    int64_t id = ti_new_enquiry(fx, "response");
    const char *first_response = "SELECT coalesce(first_response_at::text, '') FROM intake.enquiry"
                                 " WHERE id = $1";
    const char *resolved = "SELECT coalesce(resolved_at::text, '') FROM intake.enquiry"
                           " WHERE id = $1";
    s_assign(id, "bob");
    char *none = s_column(id, first_response);
    assert_string_equal(none, "");
    free(none);

    dp_status_t status;
    Dp__TransitionEnquiryReply *reply =
        s_transition(id, STATUS(ANSWERED), "bob", "replied", &status);
    ts_assert_ok(&status);
    assert_true(*reply->enquiry->first_response_at);
    assert_string_equal(reply->enquiry->resolved_at, "");
    ts_free(&reply);
    char *answered_at = s_column(id, first_response);
    assert_true(*answered_at);

    reply = s_transition(id, STATUS(CLOSED), "bob", "", &status);
    ts_assert_ok(&status);
    assert_true(*reply->enquiry->resolved_at);
    ts_free(&reply);
    char *closed_at = s_column(id, resolved);
    assert_true(*closed_at);
    free(closed_at);

    /* Reopening: back to triage, unresolved and unassigned. */
    reply = s_transition(id, STATUS(TRIAGED), "alice", "sender wrote again", &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->enquiry->resolved_at, "");
    assert_string_equal(reply->enquiry->assignee, "");
    ts_free(&reply);
    char *reopened = s_column(id, resolved);
    assert_string_equal(reopened, "");
    free(reopened);

    /* A second answer does not move the first response. */
    s_assign(id, "carol");
    s_move(id, STATUS(ANSWERED));
    char *answered_again = s_column(id, first_response);
    assert_string_equal(answered_again, answered_at);
    free(answered_again);
    free(answered_at);
}

static void test_rejecting_resolves_and_reopening_clears_it(void **state)
{
    int64_t id = ti_new_enquiry(fx, "reject");
    dp_status_t status;
    Dp__TransitionEnquiryReply *reply = s_transition(id, STATUS(REJECTED), "alice", "", &status);
    ts_assert_ok(&status);
    assert_true(*reply->enquiry->resolved_at);
    assert_string_equal(reply->enquiry->first_response_at, "");
    ts_free(&reply);
    reply = s_transition(id, STATUS(TRIAGED), "alice", "", &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->enquiry->resolved_at, "");
    ts_free(&reply);
}

/* ---- history and notes ------------------------------------------------------------------- */

static void test_history_records_actor_time_and_note_of_each_change(void **state)
{
    int64_t id = ti_new_enquiry(fx, "story");
    dp_status_t status;
    Dp__AssignEnquiryReply *assigned = s_assign_call(id, "bob", "alice", "for bob", &status);
    ts_assert_ok(&status);
    ts_free(&assigned);
    Dp__TransitionEnquiryReply *moved = s_transition(id, STATUS(ANSWERED), "bob", "sent", &status);
    ts_assert_ok(&status);
    ts_free(&moved);
    moved = s_transition(id, STATUS(CLOSED), "carol", "done", &status);
    ts_assert_ok(&status);
    ts_free(&moved);

    static const struct {
        Dp__EnquiryStatus from; /* before */
        Dp__EnquiryStatus to;   /* after */
        const char *actor;      /* who */
        const char *note;       /* why */
    } expected[] = {
        {STATUS(UNSPECIFIED), STATUS(RECEIVED), "website (unauthenticated)", ""},
        {STATUS(RECEIVED), STATUS(TRIAGED), "intake", "at intake"},
        {STATUS(TRIAGED), STATUS(ASSIGNED), "alice (unauthenticated)", "for bob"},
        {STATUS(ASSIGNED), STATUS(ANSWERED), "bob (unauthenticated)", "sent"},
        {STATUS(ANSWERED), STATUS(CLOSED), "carol (unauthenticated)", "done"},
    };
    Dp__GetEnquiryReply *got = ti_get(fx, id);
    Dp__Enquiry *enquiry = got->enquiry;
    assert_int_equal(enquiry->n_history, sizeof expected / sizeof *expected);
    for (size_t i = 0; i < enquiry->n_history; i++) {
        Dp__EnquiryTransition *step = enquiry->history[i];
        assert_int_equal(step->from_status, expected[i].from);
        assert_int_equal(step->to_status, expected[i].to);
        assert_string_equal(step->actor, expected[i].actor);
        assert_string_equal(step->note, expected[i].note);
        assert_int_equal(strlen(step->at), strlen("2026-11-28T16:30:00Z"));
        if (i)
            assert_true(strcmp(enquiry->history[i - 1]->at, step->at) <= 0);
    }
    ts_free(&got);
}

static void test_notes_are_kept_in_order_and_change_nothing_else(void **state)
{
    int64_t id = ti_new_enquiry(fx, "notes");
    long long last = ti_outbox_last_id(fx->admin);
    const char *texts[] = {"Called the sender.", "Sent the brochure; waiting."};
    int64_t note_ids[2];
    for (size_t i = 0; i < 2; i++) {
        Dp__AddEnquiryNoteRequest request = DP__ADD_ENQUIRY_NOTE_REQUEST__INIT;
        request.id = id;
        request.actor = i ? "bob" : "alice";
        request.text = (char *)texts[i];
        dp_status_t status;
        Dp__AddEnquiryNoteReply *reply = ti_add_enquiry_note(fx->intake, &request, &status);
        ts_assert_ok(&status);
        assert_true(reply->note->id > 0);
        assert_string_equal(reply->note->actor,
                            i ? "bob (unauthenticated)" : "alice (unauthenticated)");
        assert_string_equal(reply->note->text, texts[i]);
        assert_true(*reply->note->at);
        note_ids[i] = reply->note->id;
        ts_free(&reply);
    }
    Dp__GetEnquiryReply *got = ti_get(fx, id);
    assert_int_equal(got->enquiry->n_notes, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(got->enquiry->notes[i]->id, note_ids[i]);
        assert_string_equal(got->enquiry->notes[i]->text, texts[i]);
    }
    assert_int_equal(got->enquiry->status, STATUS(TRIAGED));
    assert_int_equal(got->enquiry->n_history, 2);
    ts_free(&got);
    /* events.proto defines no note event (a note may hold personal data). */
    assert_int_equal(ti_outbox_count_after(fx->admin, last), 0);
}

static void test_note_text_is_validated(void **state)
{
    char *long_text = malloc(5002);
    assert_non_null(long_text);
    memset(long_text, 't', 5001);
    long_text[5001] = 0;
    Dp__AddEnquiryNoteRequest request = DP__ADD_ENQUIRY_NOTE_REQUEST__INIT;
    request.id = ti_new_enquiry(fx, "bad-note");
    request.actor = "alice";
    const char *bad[] = {"", " \n ", "bell\x07", long_text};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        request.text = (char *)bad[i];
        ti_expect_error(fx, &request, INVALID_ARGUMENT, "text");
    }
    free(long_text);
}

/* ---- reading one ------------------------------------------------------------------------ */

static void test_get_unknown_enquiry_is_not_found(void **state)
{
    Dp__GetEnquiryRequest request = DP__GET_ENQUIRY_REQUEST__INIT;
    request.id = 987654321;
    ti_expect_error(fx, &request, NOT_FOUND, "id");
    request.id = 0;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "id");
    request.id = -5;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "id");
}

/* ---- lists ------------------------------------------------------------------------------- */

/* Four enquiries from one source of their own:
     e1  information-request, partner (acme.example), area data-protection,
         received 2026-03-10, assigned to the cohort's first assignee
     e2  media, no partner, "cybercrime" in the body (suggested), 2026-03-15, triaged
     e3  media, partner (mail.acme.example), 2026-04-01, rejected
     e4  other, no partner, 2026-03-12, answered by the cohort's second assignee */
enum { E1, E2, E3, E4, COHORT };

typedef struct {
    char source[64];      /* unique to the cohort */
    char assignee[2][64]; /* unique to the cohort */
    int64_t ids[COHORT];  /* e1..e4 */
} cohort_t;

static int64_t s_cohort_member(cohort_t *cohort, const char *email, const char *kind,
                               const char *received_at, const char *body, char **areas,
                               size_t n_areas)
{
    ti_form_t form;
    ti_form_init(&form, "cohort");
    form.enquiry.source = cohort->source;
    if (email)
        form.enquiry.email = (char *)email;
    form.enquiry.kind = (char *)kind;
    form.enquiry.received_at = (char *)received_at;
    if (body)
        form.enquiry.body = (char *)body;
    form.enquiry.areas = areas;
    form.enquiry.n_areas = n_areas;
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);
    return id;
}

static void s_cohort_init(cohort_t *cohort)
{
    static unsigned counter;
    unsigned n = ++counter;
    snprintf(cohort->source, sizeof cohort->source, "cohort-%u", n);
    snprintf(cohort->assignee[0], sizeof cohort->assignee[0], "bob-%u", n);
    snprintf(cohort->assignee[1], sizeof cohort->assignee[1], "carol-%u", n);
    char *areas[] = {"data-protection"};
    cohort->ids[E1] = s_cohort_member(cohort, "someone@" PARTNER_DOMAIN, "information-request",
                                      "2026-03-10T12:00:00Z", NULL, areas, 1);
    cohort->ids[E2] =
        s_cohort_member(cohort, "x@elsewhere.example", "media", "2026-03-15T12:00:00Z",
                        "Training on cybercrime for journalists.", NULL, 0);
    cohort->ids[E3] = s_cohort_member(cohort, "press@mail." PARTNER_DOMAIN, "media",
                                      "2026-04-01T12:00:00Z", NULL, NULL, 0);
    cohort->ids[E4] = s_cohort_member(cohort, NULL, "other", "2026-03-12T12:00:00Z", NULL, NULL, 0);
    s_assign(cohort->ids[E1], cohort->assignee[0]);
    s_move(cohort->ids[E3], STATUS(REJECTED));
    s_assign(cohort->ids[E4], cohort->assignee[1]);
    s_move(cohort->ids[E4], STATUS(ANSWERED));
}

/* Says whether a listed enquiry satisfies the filter under test. */
typedef bool(match_fn)(const Dp__Enquiry *enquiry, const void *arg);

/* Lists every page (page_size as given, else 500) and returns the ids in
   *ids (the caller frees); fails when a listed enquiry does not match, when
   the order is not the default one (newest received first, then the higher
   id), or when an entry carries body, history or notes. */
static size_t s_list_all(Dp__ListEnquiriesRequest *request, match_fn *match, const void *arg,
                         int64_t **ids)
{
    size_t count = 0, capacity = 64;
    *ids = malloc(capacity * sizeof **ids);
    assert_non_null(*ids);
    if (!request->page_size)
        request->page_size = 500;
    request->page_token = "";
    char token[64] = "", previous[32] = "";
    do {
        request->page_token = token;
        dp_status_t status;
        Dp__ListEnquiriesReply *reply = ti_list_enquiries(fx->intake, request, &status);
        ts_assert_ok(&status);
        assert_true(reply->n_enquiries <= request->page_size);
        for (size_t i = 0; i < reply->n_enquiries; i++) {
            const Dp__Enquiry *enquiry = reply->enquiries[i];
            if (match && !match(enquiry, arg))
                fail_msg("enquiry %lld does not match the filter", (long long)enquiry->id);
            assert_string_equal(enquiry->body, "");
            assert_int_equal(enquiry->n_history, 0);
            assert_int_equal(enquiry->n_notes, 0);
            if (count) {
                int later = strcmp(previous, enquiry->received_at);
                assert_true(later > 0 || (later == 0 && enquiry->id < (*ids)[count - 1]));
            }
            snprintf(previous, sizeof previous, "%s", enquiry->received_at);
            if (count == capacity) {
                capacity *= 2;
                *ids = realloc(*ids, capacity * sizeof **ids);
                assert_non_null(*ids);
            }
            (*ids)[count++] = enquiry->id;
        }
        snprintf(token, sizeof token, "%s", reply->next_page_token);
        ts_free(&reply);
    } while (*token);
    request->page_token = "";
    return count;
}

static bool s_listed(const int64_t *ids, size_t count, int64_t id)
{
    for (size_t i = 0; i < count; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* Lists with the filter alone (every entry must match; of the cohort,
   exactly `expected` appear), then with the cohort's source added (exactly
   `expected`). expected: a bit per cohort member. */
static void s_check_filter(cohort_t *cohort, Dp__ListEnquiriesRequest *request, match_fn *match,
                           const void *arg, unsigned expected)
{
    int64_t *ids = NULL;
    size_t count = s_list_all(request, match, arg, &ids);
    for (int member = 0; member < COHORT; member++) {
        bool want = expected & (1u << member);
        if (s_listed(ids, count, cohort->ids[member]) != want)
            fail_msg("e%d (%lld) is %slisted", member + 1, (long long)cohort->ids[member],
                     want ? "not " : "");
    }
    free(ids);
    request->source = cohort->source;
    count = s_list_all(request, match, arg, &ids);
    size_t wanted = 0;
    for (int member = 0; member < COHORT; member++)
        wanted += (expected >> member) & 1u;
    assert_int_equal(count, wanted);
    free(ids);
    request->source = "";
}

#define BIT(member) (1u << (member))

static bool s_match_status(const Dp__Enquiry *enquiry, const void *arg)
{
    return enquiry->status == *(const Dp__EnquiryStatus *)arg;
}

static bool s_match_kind(const Dp__Enquiry *enquiry, const void *arg)
{
    return strcmp(enquiry->kind, arg) == 0;
}

static bool s_match_source(const Dp__Enquiry *enquiry, const void *arg)
{
    return strcmp(enquiry->source, arg) == 0;
}

static bool s_match_partner(const Dp__Enquiry *enquiry, const void *arg)
{
    bool partner_expected = *(const char *)arg != 0;
    return strcmp(enquiry->partner_slug, arg) == 0 &&
           partner_expected == (enquiry->partner_id != 0);
}

static bool s_match_area(const Dp__Enquiry *enquiry, const void *arg)
{
    return ti_contains(enquiry->areas, enquiry->n_areas, arg) ||
           ti_contains(enquiry->suggested_areas, enquiry->n_suggested_areas, arg);
}

static bool s_match_assignee(const Dp__Enquiry *enquiry, const void *arg)
{
    return strcmp(enquiry->assignee, arg) == 0;
}

/* arg: {"from", "to"} dates; received_at is compared by its UTC day. */
static bool s_match_received(const Dp__Enquiry *enquiry, const void *arg)
{
    const char *const *range = arg;
    return strncmp(enquiry->received_at, range[0], 10) >= 0 &&
           strncmp(enquiry->received_at, range[1], 10) <= 0;
}

static void test_list_by_status(void **state)
{
    cohort_t cohort;
    s_cohort_init(&cohort);
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    Dp__EnquiryStatus assigned = STATUS(ASSIGNED);
    request.status = assigned;
    s_check_filter(&cohort, &request, s_match_status, &assigned, BIT(E1));
    Dp__EnquiryStatus rejected = STATUS(REJECTED);
    request.status = rejected;
    s_check_filter(&cohort, &request, s_match_status, &rejected, BIT(E3));
}

static void test_list_by_kind(void **state)
{
    cohort_t cohort;
    s_cohort_init(&cohort);
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.kind = "media";
    s_check_filter(&cohort, &request, s_match_kind, "media", BIT(E2) | BIT(E3));
}

static void test_list_by_source(void **state)
{
    cohort_t cohort;
    s_cohort_init(&cohort);
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.source = cohort.source;
    int64_t *ids = NULL;
    size_t count = s_list_all(&request, s_match_source, cohort.source, &ids);
    assert_int_equal(count, COHORT);
    /* Newest received first: e3 (April 1st), e2 (March 15th), e4, e1. */
    const int newest_first[COHORT] = {E3, E2, E4, E1};
    for (int member = 0; member < COHORT; member++)
        assert_int_equal(ids[member], cohort.ids[newest_first[member]]);
    free(ids);
}

static void test_list_by_partner_and_by_no_partner(void **state)
{
    cohort_t cohort;
    s_cohort_init(&cohort);
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.partner_slug = PARTNER_SLUG;
    s_check_filter(&cohort, &request, s_match_partner, PARTNER_SLUG, BIT(E1) | BIT(E3));
    request.partner_slug = "-";
    s_check_filter(&cohort, &request, s_match_partner, "", BIT(E2) | BIT(E4));
}

static void test_list_by_submitted_or_suggested_area(void **state)
{
    cohort_t cohort;
    s_cohort_init(&cohort);
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.area = "data-protection";
    s_check_filter(&cohort, &request, s_match_area, "data-protection", BIT(E1));
    request.area = "cybercrime";
    s_check_filter(&cohort, &request, s_match_area, "cybercrime", BIT(E2));
}

static void test_list_by_assignee(void **state)
{
    cohort_t cohort;
    s_cohort_init(&cohort);
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.assignee = cohort.assignee[0];
    s_check_filter(&cohort, &request, s_match_assignee, cohort.assignee[0], BIT(E1));
    request.assignee = cohort.assignee[1];
    s_check_filter(&cohort, &request, s_match_assignee, cohort.assignee[1], BIT(E4));
}

static void test_list_by_received_dates_inclusive(void **state)
{
    cohort_t cohort;
    s_cohort_init(&cohort);
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    const char *range[] = {"2026-03-11", "2026-03-15"};
    request.received_from = (char *)range[0];
    request.received_to = (char *)range[1];
    s_check_filter(&cohort, &request, s_match_received, range, BIT(E2) | BIT(E4));
    const char *from_only[] = {"2026-03-15", "2999-12-31"};
    request.received_from = (char *)from_only[0];
    request.received_to = "";
    s_check_filter(&cohort, &request, s_match_received, from_only, BIT(E2) | BIT(E3));
}

/* received_at is a UTC time and the dates of the filter are UTC days (the
   contract's times are UTC), whatever the database's TimeZone: this
   database's is Europe/Paris (see main), an hour ahead in March. */
static void test_list_by_received_dates_uses_utc_days(void **state)
{
    cohort_t cohort;
    snprintf(cohort.source, sizeof cohort.source, "utc-days");
    int64_t late = s_cohort_member(&cohort, NULL, "other", "2026-03-20T23:30:00Z", NULL, NULL, 0);
    int64_t early = s_cohort_member(&cohort, NULL, "other", "2026-03-21T00:30:00Z", NULL, NULL, 0);
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.source = cohort.source;
    request.received_from = "2026-03-21";
    request.received_to = "2026-03-21";
    int64_t *ids = NULL;
    size_t count = s_list_all(&request, NULL, NULL, &ids);
    if (count != 1 || ids[0] != early)
        fail_msg("received 2026-03-21 (UTC) lists %zu enquiries%s; expected only %lld "
                 "(00:30Z), not %lld (23:30Z the day before)",
                 count,
                 s_listed(ids, count, late) ? ", the one of 2026-03-20T23:30Z among them" : "",
                 (long long)early, (long long)late);
    free(ids);
    request.received_from = "2026-03-20";
    request.received_to = "2026-03-20";
    count = s_list_all(&request, NULL, NULL, &ids);
    if (count != 1 || ids[0] != late)
        fail_msg("received 2026-03-20 (UTC) lists %zu enquiries; expected only %lld (23:30Z)",
                 count, (long long)late);
    free(ids);
}

static void test_list_pages_through_more_than_one_page(void **state)
{
    enum { TOTAL = 7, PAGE = 3 };
    char source[64];
    snprintf(source, sizeof source, "pages");
    int64_t created[TOTAL];
    for (size_t i = 0; i < TOTAL; i++) {
        ti_form_t form;
        ti_form_init(&form, "page");
        form.enquiry.source = source;
        Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
        created[i] = reply->enquiry_id;
        ts_free(&reply);
    }
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.source = source;
    request.page_size = PAGE;
    size_t seen = 0, pages = 0;
    char token[64] = "";
    do {
        request.page_token = token;
        dp_status_t status;
        Dp__ListEnquiriesReply *reply = ti_list_enquiries(fx->intake, &request, &status);
        ts_assert_ok(&status);
        pages++;
        size_t expected = seen + PAGE <= TOTAL ? PAGE : TOTAL - seen;
        assert_int_equal(reply->n_enquiries, expected);
        /* All received at the same time: the newest stored first. */
        for (size_t i = 0; i < reply->n_enquiries; i++)
            assert_int_equal(reply->enquiries[i]->id, created[TOTAL - 1 - seen++]);
        /* A page that ends the list says so. */
        if (seen == TOTAL && reply->n_enquiries < PAGE)
            assert_string_equal(reply->next_page_token, "");
        else
            assert_true(*reply->next_page_token);
        snprintf(token, sizeof token, "%s", reply->next_page_token);
        ts_free(&reply);
    } while (*token);
    assert_int_equal(seen, TOTAL);
    assert_int_equal(pages, 3);
}

static void test_list_arguments_are_validated(void **state)
{
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.page_size = 501;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "page_size");
    request.page_size = 0;
    const char *tokens[] = {"abc", "-4", "0", "12x"};
    for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++) {
        request.page_token = (char *)tokens[i];
        ti_expect_error(fx, &request, INVALID_ARGUMENT, "page_token");
    }
    request.page_token = "";
    request.status = (Dp__EnquiryStatus)42;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "status");
    request.status = STATUS(UNSPECIFIED);
    request.received_from = "2026-13-01";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "received_from");
    request.received_from = "";
    request.received_to = "March";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "received_to");
}

/* Sets the database's TimeZone (for sessions that start later). The name
   is an identifier, so it cannot travel as a parameter: quoted by libpq. */
static void s_set_database_time_zone(const char *zone)
{
    const char *name = ts_database_name(fx->database);
    char *quoted = PQescapeIdentifier(fx->admin, name, strlen(name));
    char *literal = PQescapeLiteral(fx->admin, zone, strlen(zone));
    assert_non_null(quoted);
    assert_non_null(literal);
    char *sql = zsys_sprintf("ALTER DATABASE %s SET timezone = %s", quoted, literal);
    PQclear(ts_query(fx->admin, sql, 0, NULL));
    zstr_free(&sql);
    PQfreemem(quoted);
    PQfreemem(literal);
}

int main(void)
{
    fx = ti_fixture_new("intake_workflow");
    /* A server in Strasbourg may well run on local time. */
    s_set_database_time_zone("Europe/Paris");
    ti_create_partner_with_domain(fx->registry, PARTNER_SLUG, PARTNER_DOMAIN);
    const char *settings[] = {"DP_INTAKE_SENDER_LIMIT_PER_HOUR", "0", NULL};
    ti_fixture_start_intake(fx, settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allowed_transition),
        cmocka_unit_test(test_moves_outside_the_table_are_refused),
        cmocka_unit_test(test_transition_to_assigned_without_assignee_is_refused),
        cmocka_unit_test(test_transition_to_received_or_unknown_status_is_invalid),
        cmocka_unit_test(test_changes_need_an_actor),
        cmocka_unit_test(test_changes_to_an_unknown_enquiry_are_not_found),
        cmocka_unit_test(test_assign_sets_the_assignee_and_writes_one_event),
        cmocka_unit_test(test_reassign_and_assign_after_answer),
        cmocka_unit_test(test_assign_is_refused_outside_open_statuses),
        cmocka_unit_test(test_assign_needs_an_assignee),
        cmocka_unit_test(test_first_response_is_set_once_and_reopen_clears_resolution),
        cmocka_unit_test(test_rejecting_resolves_and_reopening_clears_it),
        cmocka_unit_test(test_history_records_actor_time_and_note_of_each_change),
        cmocka_unit_test(test_notes_are_kept_in_order_and_change_nothing_else),
        cmocka_unit_test(test_note_text_is_validated),
        cmocka_unit_test(test_get_unknown_enquiry_is_not_found),
        cmocka_unit_test(test_list_by_status),
        cmocka_unit_test(test_list_by_kind),
        cmocka_unit_test(test_list_by_source),
        cmocka_unit_test(test_list_by_partner_and_by_no_partner),
        cmocka_unit_test(test_list_by_submitted_or_suggested_area),
        cmocka_unit_test(test_list_by_assignee),
        cmocka_unit_test(test_list_by_received_dates_inclusive),
        cmocka_unit_test(test_list_by_received_dates_uses_utc_days),
        cmocka_unit_test(test_list_pages_through_more_than_one_page),
        cmocka_unit_test(test_list_arguments_are_validated),
    };
    return ti_fixture_run(&fx, "intake workflow", tests, sizeof tests / sizeof *tests);
}
