/* Logs that a client cannot forge, and that keep row data out:

   - dp_log_escape writes a line feed as "\n" and other control bytes (C0,
     DEL, C1 as UTF-8) as "\xNN", and never cuts an escape in two;
   - a text log line with a line feed or an escape sequence in its
     arguments stays one line, escaped;
   - a JSON log line whose arguments are not UTF-8 still comes, the bad
     bytes as '?' (jansson would refuse the whole line);
   - a request whose type holds a line feed and a fake log line (sent to
     the registry, started in this process) leaves no line that starts
     with the fake text, and the type shows as [A-Za-z0-9._?] only, in the
     log and in the reply;
   - a PostgreSQL failure keeps no DETAIL line (it quotes the row) in the
     message that goes to logs and replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_db.h"
#include "dp_log.h"
#include "security_support.h"
#include "test_wire.h"

enum { ANSWER_MS = 10000 };

static tk_capture_t *capture;
static ts_database_t *database;
static tk_service_t *registry;

/* True when some line of text starts with `start`. */
static bool s_line_starts_with(const char *text, const char *start)
{
    for (const char *line = text; line && *line;) {
        if (strncmp(line, start, strlen(start)) == 0)
            return true;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return false;
}

static void test_the_escape_function(void **state)
{
    char out[128];
    size_t length = dp_log_escape("a\nb\x1b[31m\t\x7f\xc2\x9b z \xc3\xa9", out, sizeof out);
    assert_string_equal(out, "a\\nb\\x1b[31m\\x09\\x7f\\xc2\\x9b z \xc3\xa9");
    assert_int_equal(length, strlen(out));
    /* Too small for the whole escape: stops before it, never half of it. */
    char small[6];
    dp_log_escape("ab\x01zz", small, sizeof small);
    assert_string_equal(small, "ab");
}

static void test_a_log_line_with_a_line_feed_stays_one_line(void **state)
{
    dp_warning("caller said: %s", "first\n2026-01-01T00:00:00.000Z dp warning: audit: forged one");
    char *text = tk_capture_text(capture);
    assert_non_null(strstr(text, "caller said: first\\n2026-01-01T00:00:00.000Z dp warning: audit: "
                                 "forged one"));
    assert_false(
        s_line_starts_with(text, "2026-01-01T00:00:00.000Z dp warning: audit: forged one"));
    free(text);
}

static void test_a_json_line_survives_bytes_that_are_not_utf8(void **state)
{
    /* jansson refuses strings that are not UTF-8: the line must still come,
       the bad bytes as '?', the line feed escaped by JSON. */
    assert_int_equal(dp_log_set_format("json"), 0);
    dp_warning("json check: %s", "bad \xff\xc3 byte\nnext \xe2\x82");
    assert_int_equal(dp_log_set_format("text"), 0);
    char *text = tk_capture_text(capture);
    assert_non_null(strstr(text, "\"message\":\"json check: bad ?? byte\\nnext ??\""));
    assert_false(s_line_starts_with(text, "next"));
    free(text);
}

static void test_a_request_type_cannot_forge_a_line(void **state)
{
    const char *type = "dp.Nothing\n2026-01-01T00:00:00.000Z registry warning: audit: forged two";
    zsock_t *dealer = ts_dealer_new(tk_service_endpoint(registry), ANSWER_MS);
    zmsg_t *request = ts_envelope_message("forge", type, NULL, 0);
    Dp__Reply *reply = ts_exchange(dealer, &request);
    ts_assert_reply(reply, UNIMPLEMENTED, "type");
    /* Echoed only as letters, digits, '.', '_' and '?'. */
    assert_non_null(
        strstr(reply->status->message,
               "'dp.Nothing?2026?01?01T00?00?00.000Z?registry?warning??audit??forged?two'"));
    ts_free(&reply);
    zsock_destroy(&dealer);
    char *text = tk_capture_text(capture);
    assert_false(s_line_starts_with(text, "2026-01-01T00:00:00.000Z registry warning: audit: "));
    assert_null(strstr(text, "audit: forged two"));
    assert_non_null(strstr(text, "dp.Nothing?2026?01?01T00?00?00.000Z"));
    free(text);
}

static void test_postgresql_detail_lines_are_not_kept(void **state)
{
    dp_db_t *db = dp_db_new(ts_database_url(database, TS_ROLE_ADMIN), "log-escape", NULL, 0);
    assert_non_null(db);
    assert_int_equal(dp_db_connect(db, 5000), 0);
    assert_int_equal(dp_db_run_script(db, "CREATE TABLE public.secret_row (email text UNIQUE);"
                                          "INSERT INTO public.secret_row VALUES "
                                          "('ann.person@example.org')"),
                     0);
    assert_int_not_equal(
        dp_db_run_script(db, "INSERT INTO public.secret_row VALUES ('ann.person@example.org')"), 0);
    const char *message = dp_db_failure_message(db);
    print_message("failure message: %s\n", message);
    assert_string_equal(dp_db_failure_sqlstate(db), "23505");
    assert_non_null(strstr(message, "duplicate key"));
    assert_null(strstr(message, "DETAIL"));
    assert_null(strstr(message, "ann.person@example.org"));
    dp_db_destroy(&db);
}

int main(void)
{
    capture = tk_capture_start();
    database = ts_database_new("log_escape");
    registry = tk_service_start(TK_REGISTRY, ts_database_url(database, TS_ROLE_REGISTRY), NULL);
    if (!registry) {
        tk_capture_end(&capture);
        ts_database_destroy(&database);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_escape_function),
        cmocka_unit_test(test_a_log_line_with_a_line_feed_stays_one_line),
        cmocka_unit_test(test_a_json_line_survives_bytes_that_are_not_utf8),
        cmocka_unit_test(test_a_request_type_cannot_forge_a_line),
        cmocka_unit_test(test_postgresql_detail_lines_are_not_kept),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tk_service_stop(&registry);
    tk_capture_end(&capture);
    ts_database_destroy(&database);
    return failed;
}
