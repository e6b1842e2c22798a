/* dpctl's commands for the staff console's requests, as an operator runs
   them: the dpctl program of this build against the intake (in process,
   over its socket, on the real PostgreSQL). enquiry due, merge, reply
   (text or file), admitted, counts, and enquiry list with the queue's
   filters and orders; what each changed is read back as the superuser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "intake_console_support.h"

static ti_fixture_t *fx;

#define STATUS(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

/* A column of the enquiry or its rows, as the superuser reads it. */
static char *s_value(int64_t id, const char *sql)
{
    const char *params[] = {ts_id_text(id)};
    return ts_query_text(fx->admin, sql, 1, params);
}

static void s_assert_value(int64_t id, const char *sql, const char *expected)
{
    char *value = s_value(id, sql);
    assert_string_equal(value, expected);
    free(value);
}

static void s_assert_output_has(const ts_process_t *process, const char *needle)
{
    if (!strstr(process->out, needle))
        fail_msg("dpctl's output lacks '%s':\n%s", needle, process->out);
}

static void test_due_changes_the_date_with_the_reason(void **state)
{
    int64_t id = ti_new_enquiry(fx, "cli-due");
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    const char *args[] = {"enquiry",   "due",     id_text, "2026-12-20", "--reason",
                          "a holiday", "--actor", "alice", NULL};
    ts_process_t process = tq_dpctl_ok(fx, args);
    s_assert_output_has(&process, "due 2026-12-20");
    ts_process_free(&process);
    s_assert_value(id, "SELECT due_on::text FROM intake.enquiry WHERE id = $1", "2026-12-20");
    s_assert_value(id,
                   "SELECT note FROM intake.enquiry_transition WHERE enquiry_id = $1 "
                   "ORDER BY id DESC LIMIT 1",
                   "due date 2026-12-03 -> 2026-12-20: a holiday");
    /* The reason is required: a usage error, nothing sent. */
    const char *no_reason[] = {"enquiry", "due", id_text, "2026-12-21", NULL};
    process = tq_dpctl(fx, no_reason);
    assert_int_equal(process.exit_code, 2);
    ts_process_free(&process);
    s_assert_value(id, "SELECT due_on::text FROM intake.enquiry WHERE id = $1", "2026-12-20");
}

static void test_merge_closes_the_flagged_duplicate(void **state)
{
    ti_form_t original, duplicate;
    ti_form_init(&original, "cli-merge");
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &original);
    int64_t into = reply->enquiry_id;
    ts_free(&reply);
    ti_form_init(&duplicate, "cli-merge");
    memcpy(duplicate.email, original.email, sizeof duplicate.email);
    memcpy(duplicate.subject, original.subject, sizeof duplicate.subject);
    reply = ti_submit_ok(fx, &duplicate);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);
    char id_text[24], into_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    snprintf(into_text, sizeof into_text, "%lld", (long long)into);

    /* The wrong way round: the intake refuses, dpctl says so and fails. */
    const char *backwards[] = {"enquiry", "merge", into_text, id_text, NULL};
    ts_process_t process = tq_dpctl(fx, backwards);
    assert_int_not_equal(process.exit_code, 0);
    assert_non_null(strstr(process.err, "into_id"));
    ts_process_free(&process);

    const char *args[] = {"enquiry", "merge", id_text, into_text, "--note", "twice", NULL};
    process = tq_dpctl_ok(fx, args);
    char outcome[64];
    snprintf(outcome, sizeof outcome, "merged into %lld", (long long)into);
    s_assert_output_has(&process, "closed");
    s_assert_output_has(&process, outcome);
    ts_process_free(&process);
    char *expected = zsys_sprintf("closed %lld", (long long)into);
    s_assert_value(id, "SELECT status || ' ' || merged_into FROM intake.enquiry WHERE id = $1",
                   expected);
    zstr_free(&expected);
}

static void test_reply_from_text_or_file(void **state)
{
    int64_t id = ti_new_enquiry(fx, "cli-reply");
    tq_assign(fx, id, "bob");
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    char path[] = "/tmp/dp-reply-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "Dear Ada,\n\nthe workshop is on Tuesday.\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    const char *from_file[] = {"enquiry",       "reply",       id_text, "--subject",
                               "Your question", "--body-file", path,    NULL};
    ts_process_t process = tq_dpctl_ok(fx, from_file);
    s_assert_output_has(&process, "queued");
    ts_process_free(&process);
    unlink(path);
    const char *from_text[] = {"enquiry",  "reply",  id_text,          "--subject",
                               "And more", "--body", "See you there.", NULL};
    process = tq_dpctl_ok(fx, from_text);
    ts_process_free(&process);
    s_assert_value(id,
                   "SELECT string_agg(subject || ': ' || body || ' (' || status || ')', '|' "
                   "ORDER BY id) FROM intake.outgoing_message WHERE enquiry_id = $1",
                   "Your question: Dear Ada,\n\nthe workshop is on Tuesday.\n (queued)|"
                   "And more: See you there. (queued)");
    s_assert_value(id, "SELECT status FROM intake.enquiry WHERE id = $1", "answered");
    /* Both --body and --body-file, or neither: a usage error. */
    const char *neither[] = {"enquiry", "reply", id_text, "--subject", "x", NULL};
    process = tq_dpctl(fx, neither);
    assert_int_equal(process.exit_code, 2);
    ts_process_free(&process);
}

static void test_admitted_links_and_closes_the_application(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "cli-admit");
    form.enquiry.kind = "membership-application";
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    const char *args[] = {"enquiry", "admitted", id_text, "31", "fresh-member", NULL};
    for (int round = 0; round < 2; round++) { /* the second: nothing changes */
        ts_process_t process = tq_dpctl_ok(fx, args);
        s_assert_output_has(&process, "admitted as partner fresh-member");
        ts_process_free(&process);
    }
    s_assert_value(id,
                   "SELECT status || ' ' || partner_id || ' ' || partner_slug "
                   "FROM intake.enquiry WHERE id = $1",
                   "closed 31 fresh-member");
    const char *bad[] = {"enquiry", "admitted", id_text, "x1", "fresh-member", NULL};
    ts_process_t process = tq_dpctl(fx, bad);
    assert_int_equal(process.exit_code, 2);
    ts_process_free(&process);
}

/* The first number after `label` in dpctl's output. */
static long long s_number_after(const char *out, const char *label)
{
    const char *at = strstr(out, label);
    if (!at)
        fail_msg("no '%s' in:\n%s", label, out);
    return strtoll(at + strlen(label), NULL, 10);
}

static void test_counts_and_the_queue_filters_of_list(void **state)
{
    const char *source = "cli-queue";
    int64_t ids[3];
    const char *received[] = {"2026-11-20T10:00:00Z", "2026-11-22T10:00:00Z",
                              "2026-11-21T10:00:00Z"};
    for (int i = 0; i < 3; i++) {
        ti_form_t form;
        ti_form_init(&form, "cli-queue");
        form.enquiry.source = (char *)source;
        form.enquiry.received_at = (char *)received[i];
        if (i == 1)
            form.enquiry.body = "A question about the lighthouse archive.";
        Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
        ids[i] = reply->enquiry_id;
        ts_free(&reply);
    }
    tq_assign(fx, ids[2], "dora");

    const char *counts[] = {"enquiry", "counts", "--assignee", "dora", NULL};
    ts_process_t process = tq_dpctl_ok(fx, counts);
    assert_int_equal(s_number_after(process.out, "mine:"), 1);
    assert_true(s_number_after(process.out, "open:") >= 3);
    ts_process_free(&process);

    /* Oldest received first: ids[0] (20th), ids[2] (21st), ids[1] (22nd). */
    const char *oldest[] = {"enquiry",          "list",   "--source", source, "--status",
                            "triaged,assigned", "--sort", "oldest",   NULL};
    process = tq_dpctl_ok(fx, oldest);
    char *expected = zsys_sprintf("\n%lld ", (long long)ids[0]);
    const char *first = strstr(process.out, expected);
    zstr_free(&expected);
    expected = zsys_sprintf("\n%lld ", (long long)ids[2]);
    const char *third = strstr(process.out, expected);
    zstr_free(&expected);
    assert_non_null(first);
    assert_non_null(third);
    assert_true(first < third);
    s_assert_output_has(&process, "3 enquiries");
    ts_process_free(&process);

    const char *unassigned[] = {"enquiry",      "list",     "--source",   source,
                                "--unassigned", "--search", "lighthouse", NULL};
    process = tq_dpctl_ok(fx, unassigned);
    expected = zsys_sprintf("\n%lld ", (long long)ids[1]);
    s_assert_output_has(&process, expected);
    zstr_free(&expected);
    s_assert_output_has(&process, "1 enquiry");
    ts_process_free(&process);

    const char *bad[] = {"enquiry", "list", "--status", "triaged,nonsense", NULL};
    process = tq_dpctl(fx, bad);
    assert_int_equal(process.exit_code, 2);
    ts_process_free(&process);
}

int main(void)
{
    fx = ti_fixture_new("intake_console_dpctl");
    const char *settings[] = {"DP_INTAKE_SENDER_LIMIT_PER_HOUR", "0", NULL};
    ti_fixture_start_intake(fx, settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_changes_the_date_with_the_reason),
        cmocka_unit_test(test_merge_closes_the_flagged_duplicate),
        cmocka_unit_test(test_reply_from_text_or_file),
        cmocka_unit_test(test_admitted_links_and_closes_the_application),
        cmocka_unit_test(test_counts_and_the_queue_filters_of_list),
    };
    return ti_fixture_run(&fx, "intake console through dpctl", tests, sizeof tests / sizeof *tests);
}
