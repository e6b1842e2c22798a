/* dp-bench-console: times the staff console's pages on a large database.

   1. Load (as the admin, in the bench's own database, never in "dp"):
      DP_BENCH_ENQUIRIES enquiries over three years (the daily rate doubles
      over them), statuses by age with a small backlog of old open ones,
      assignees among 20 staff names, due dates a few days after receipt
      (so the open ones fall around today), about 15% from partners, and
      subjects and bodies whose words come from a vocabulary of 1,024
      made-up words (five draws an enquiry: one word is in about 0.5% of
      the enquiries) and a few fixed phrases ("workshop" is in one subject
      of eight); two or three history entries each and a note on a few.
      One INSERT ... SELECT FROM generate_series per chunk, the enquiry
      table's own indexes dropped before and built after, all in one
      transaction (an interrupted load leaves the database as it was); then
      VACUUM ANALYZE. A database loaded today with the same size is reused.
   2. Start the registry, the intake, notify, the reporting service and the
      console in this process (their actors, as the tests do; no CURVE),
      make a staff account through the console's AddStaff request and log
      in over HTTP with libcurl, as a browser would.
   3. Time every page (the queue's views, filters, search, sorts, second
      page, one enquiry, the partners), one request at a time, in rounds
      (every page once a round): DP_BENCH_WARMUPS rounds first, then
      DP_BENCH_REQUESTS timed ones. In each round, after the pages, the
      yardstick of each page: the SQL statements the console, the intake
      and the registry run for that page (found by name in their statement
      tables, so they are the very texts the services prepare), run alone
      over libpq with the same parameters, one after the other, as their
      own roles.
   4. Print one table: p50, p95 and p99 of each page, its yardstick's p95
      and their ratio, whether every p95 is under DP_BENCH_TARGET_MS, and
      the peak resident memory of this process (all five services, the
      client and the yardstick). EXPLAIN ANALYZE the statements of each
      page whose p95 misses the target.

   A page that fails (an HTTP status other than 200, or no answer) is
   reported as failed, with what the page said; no number is made up for
   it. Prints the table on stdout, what it does on stderr. It reports, it
   never judges. */
#include <curl/curl.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_common.h"
#include "console.pb-c.h"
#include "console_server.h"
#include "console_service.h"
#include "dp_client.h"
#include "dp_codec.h"
#include "dp_db.h"
#include "dp_log.h"
#include "dp_server.h"
#include "intake_db.h"
#include "intake_server.h"
#include "notify_server.h"
#include "registry_db.h"
#include "registry_server.h"
#include "report_server.h"

#define PROGRAM "dp-bench-console"

static const dp_setting_t s_settings[] = {
    {"DP_BENCH_ADMIN_URL", "",
     "libpq URL of the superuser on the bench's own database (its name must start with "
     "dp_bench)"},
    {"DP_BENCH_REGISTRY_URL", "", "libpq URL of dp_registry on that database"},
    {"DP_BENCH_INTAKE_URL", "", "libpq URL of dp_intake on that database"},
    {"DP_BENCH_NOTIFY_URL", "", "libpq URL of dp_notify on that database"},
    {"DP_BENCH_REPORT_URL", "", "libpq URL of dp_report on that database"},
    {"DP_BENCH_CONSOLE_URL", "", "libpq URL of dp_console on that database"},
    {"DP_BENCH_LOAD", "auto", "auto: load unless loaded today with this size; reload; skip"},
    {"DP_BENCH_ENQUIRIES", "1000000", "enquiries to load", true, 1000, 100000000},
    {"DP_BENCH_CHUNK", "100000", "enquiries per INSERT statement", true, 1000, 10000000},
    {"DP_BENCH_WARMUPS", "5", "warm-up rounds (every page once a round)", true, 0, 10000},
    {"DP_BENCH_REQUESTS", "200", "timed rounds: requests of each page, and runs of its SQL", true,
     1, 100000},
    {"DP_BENCH_TARGET_MS", "100", "the p95 every page should stay under (reported)", true, 1,
     600000},
    {"DP_BENCH_SEED", "1", "seed of the random enquiry ids asked for", true, 0, 2147483647},
    {"DP_BENCH_EXPLAIN_FILE", "", "where the plans of the slow pages go (empty: stderr)"},
    {"DP_BENCH_RESULTS_FILE", "",
     "appends one line per page: \"console page=SLUG p95_ms=... alone_p95_ms=...\" (empty: "
     "none)"},
    {"DP_BENCH_LOG_LEVEL", "warning", "log level of the services started here"},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

/* The bench's account: its name is one of the staff names the load
   assigns enquiries to, so that "mine" is a real view. */
#define BENCH_LOGIN "bench.agent"
#define BENCH_PASSWORD "bench-password-of-the-console"
static const char *s_staff_names[] = {
    "Anna Keller",     "Ben Ortiz",    "Clara Rossi",   "Dmitri Volkov",      "Eva Lindqvist",
    "Farid Haddad",    "Greta Novak",  "Hugo Lambert",  "Ines Duarte",        "Jonas Berg",
    "Katarina Horvat", "Luca Bianchi", "Maja Kowalska", "Nils Jensen",        "Olga Petrova",
    "Pierre Martin",   "Quentin Roux", "Rosa Fischer",  "Sofia Papadopoulou", "Tomas Svoboda"};
enum { STAFF_COUNT = sizeof s_staff_names / sizeof *s_staff_names };
#define BENCH_NAME "Anna Keller"

/* The vocabulary: word k (0..1023) is syllable k / 32 followed by syllable
   k % 32. The load draws five words an enquiry; the rare search word is one
   of them, the common one is in a subject phrase. */
static const char *s_syllables[] = {
    "ba", "be", "bi", "bo", "da", "de", "di", "do", "ka", "ke", "ki", "ko", "la", "le", "li", "lo",
    "ma", "me", "mi", "mo", "na", "ne", "ni", "no", "ra", "re", "ri", "ro", "ta", "te", "ti", "to"};
enum { SYLLABLES = sizeof s_syllables / sizeof *s_syllables, RARE_WORD = 7 * 32 + 19 };
#define COMMON_WORD "workshop"

/* ---- the load ----------------------------------------------------------------------------- */

static const char *s_guard_sql = "SELECT (current_database() LIKE 'dp\\_bench%')::int";
/* What was loaded, by which version of the load below (raise it when the
   data it makes changes). */
#define LOAD_VERSION "2"
static const char *s_marker_schema_sql = "CREATE SCHEMA IF NOT EXISTS bench_console";
static const char *s_marker_sql =
    "CREATE TABLE IF NOT EXISTS bench_console.load (enquiries bigint NOT NULL, "
    "  version int NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())";
/* 1 when the database holds exactly this load, made today (the views "due
   today" and "overdue" depend on the day). */
static const char *s_loaded_sql =
    "SELECT count(*) FROM bench_console.load l WHERE l.enquiries = $1::bigint "
    "AND l.version = " LOAD_VERSION " AND l.loaded_at::date = current_date "
    "AND (SELECT count(*) FROM intake.enquiry) = $1::bigint";
/* Everything that hangs off an enquiry goes with it (history, notes,
   replies), except the append-only audit log, which a trigger keeps. */
static const char *s_clear_sql =
    "TRUNCATE bench_console.load, intake.enquiry RESTART IDENTITY CASCADE";
/* The indexes of intake.enquiry that no constraint owns: dropped before the
   load and built again after it from these very definitions (one build is
   much faster than a million insertions into each). */
static const char *s_indexes_sql =
    "SELECT quote_ident(i.schemaname) || '.' || quote_ident(i.indexname), i.indexdef "
    "FROM pg_indexes i WHERE i.schemaname = 'intake' AND i.tablename = 'enquiry' "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
    "  (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass) "
    "ORDER BY i.indexname";
static const char *s_staff_sql = "INSERT INTO intake.staff (name) SELECT unnest($1::text[]) "
                                 "ON CONFLICT (name) DO NOTHING";

/* Enquiries $1 .. $2 of $3 (ids follow the number, the table being empty
   before); $4 the staff names, $5 the syllables. They arrive in time order,
   the daily rate doubling over the three years (enquiry n of N is received
   at the n/N quantile, give or take ten minutes). */
static const char *s_enquiries_sql =
    "INSERT INTO intake.enquiry (source, idempotency_key, content_hash, sender_name, email, "
    "  email_key, organisation, country, kind, subject, subject_key, body, language, areas, "
    "  received_at, stored_at, status, partner_id, partner_slug, suggested_areas, "
    "  quarantine_reason, assignee, assignee_id, due_on, first_response_at, resolved_at, "
    "  possible_duplicate_of, updated_at) "
    "WITH partners AS ("
    "  SELECT array_agg(p.id ORDER BY p.id) AS ids, array_agg(p.slug ORDER BY p.id) AS slugs, "
    "    count(*)::int AS n FROM registry.partner p), "
    "staff AS ("
    "  SELECT array_agg(s.id ORDER BY s.name) AS ids, array_agg(s.name ORDER BY s.name) AS names, "
    "    count(*)::int AS n FROM intake.staff s WHERE s.name = ANY ($4::text[])), "
    "areas AS (SELECT array_agg(slug ORDER BY slug) AS slugs, count(*)::int AS n "
    "          FROM registry.area), "
    "drawn AS ("
    "  SELECT g, random() AS r_status, random() AS r_kind, random() AS r_partner, "
    "    random() AS r_pick, random() AS r_source, random() AS r_staff, random() AS r_due, "
    "    random() AS r_jitter, random() AS r_area, "
    "    floor(random() * 1024)::int AS w1, floor(random() * 1024)::int AS w2, "
    "    floor(random() * 1024)::int AS w3, floor(random() * 1024)::int AS w4, "
    "    floor(random() * 1024)::int AS w5 "
    "  FROM generate_series($1::bigint, $2::bigint) g), "
    "aged AS ("
    "  SELECT d.*, LEAST(now(), now() - interval '3 years' + interval '3 years' * "
    "    (sqrt(1 + 3 * (d.g - 0.5) / $3::float8) - 1) "
    "    + interval '10 minutes' * (d.r_jitter - 0.5)) AS received_at FROM drawn d), "
    "worded AS ("
    "  SELECT a.*, extract(epoch FROM now() - a.received_at) / 86400 AS age_days, "
    "    $5::text[] AS s FROM aged a), "
    "words AS ("
    "  SELECT w.*, w.s[1 + w.w1 / 32] || w.s[1 + w.w1 % 32] AS word1, "
    "    w.s[1 + w.w2 / 32] || w.s[1 + w.w2 % 32] AS word2, "
    "    w.s[1 + w.w3 / 32] || w.s[1 + w.w3 % 32] AS word3, "
    "    w.s[1 + w.w4 / 32] || w.s[1 + w.w4 % 32] AS word4, "
    "    w.s[1 + w.w5 / 32] || w.s[1 + w.w5 % 32] AS word5 FROM worded w), "
    /* Young enquiries are mostly open; old ones closed, about 1% left behind. */
    "statused AS ("
    "  SELECT x.*, CASE "
    "    WHEN x.age_days < 2 THEN CASE WHEN x.r_status < 0.30 THEN 'received' "
    "      WHEN x.r_status < 0.50 THEN 'triaged' WHEN x.r_status < 0.75 THEN 'assigned' "
    "      WHEN x.r_status < 0.90 THEN 'answered' WHEN x.r_status < 0.95 THEN 'closed' "
    "      WHEN x.r_status < 0.98 THEN 'quarantined' ELSE 'rejected' END "
    "    WHEN x.age_days < 14 THEN CASE WHEN x.r_status < 0.03 THEN 'received' "
    "      WHEN x.r_status < 0.07 THEN 'triaged' WHEN x.r_status < 0.22 THEN 'assigned' "
    "      WHEN x.r_status < 0.57 THEN 'answered' WHEN x.r_status < 0.95 THEN 'closed' "
    "      WHEN x.r_status < 0.97 THEN 'quarantined' ELSE 'rejected' END "
    "    WHEN x.age_days < 60 THEN CASE WHEN x.r_status < 0.005 THEN 'received' "
    "      WHEN x.r_status < 0.01 THEN 'triaged' WHEN x.r_status < 0.04 THEN 'assigned' "
    "      WHEN x.r_status < 0.16 THEN 'answered' WHEN x.r_status < 0.96 THEN 'closed' "
    "      WHEN x.r_status < 0.975 THEN 'quarantined' ELSE 'rejected' END "
    "    ELSE CASE WHEN x.r_status < 0.002 THEN 'received' "
    "      WHEN x.r_status < 0.004 THEN 'triaged' WHEN x.r_status < 0.008 THEN 'assigned' "
    "      WHEN x.r_status < 0.04 THEN 'answered' WHEN x.r_status < 0.968 THEN 'closed' "
    "      WHEN x.r_status < 0.97 THEN 'quarantined' ELSE 'rejected' END "
    "  END AS status, "
    "  CASE WHEN x.r_kind < 0.40 THEN 'information-request' "
    "    WHEN x.r_kind < 0.60 THEN 'cooperation-proposal' "
    "    WHEN x.r_kind < 0.75 THEN 'event-participation' "
    "    WHEN x.r_kind < 0.85 THEN 'membership-application' "
    "    WHEN x.r_kind < 0.95 THEN 'media' ELSE 'other' END AS kind, "
    "  CASE WHEN x.r_partner < 0.15 AND (SELECT n FROM partners) > 0 "
    "    THEN 1 + floor(x.r_pick * (SELECT n FROM partners))::int END AS partner_index, "
    "  1 + floor(x.r_staff * (SELECT n FROM staff))::int AS staff_index "
    "  FROM words x), "
    "shaped AS ("
    "  SELECT t.*, 'sender.' || t.g || '@' || (ARRAY['gmail.com', 'example.org', "
    "    'uni-wien.ac.at', 'gov.pl', 'web.de', 'orange.fr', 'outlook.com', "
    "    'ngo.example.net'])[1 + t.g % 8] AS email, "
    "  format((ARRAY['Question about the %s training for %s', "
    "    'Proposal: joint workshop on %s with %s', 'Participation in the %s conference (%s)', "
    "    'Request for materials on %s and %s', 'Interview request: %s and %s', "
    "    'Membership of the Digital Partnership: %s %s', 'Expert contact on %s in %s', "
    "    'Follow-up on our %s cooperation proposal, %s'])[1 + (t.g * 3) % 8], "
    "    t.word1, t.word2) AS subject, "
    "  (t.received_at AT TIME ZONE 'UTC')::date + CASE t.kind WHEN 'media' THEN 3 "
    "    WHEN 'membership-application' THEN 30 ELSE 5 END "
    "    + CASE WHEN t.r_due < 0.1 THEN floor(t.r_due * 140)::int ELSE 0 END AS due_on, "
    "  t.status IN ('assigned', 'answered', 'closed') AS assigned "
    "  FROM statused t) "
    "SELECT "
    "  CASE WHEN t.r_source < 0.55 THEN 'website' WHEN t.r_source < 0.90 THEN 'email-gateway' "
    "    WHEN t.r_source < 0.97 THEN 'events-portal' ELSE 'dpctl' END, "
    "  'bench-console-' || t.g, lpad(to_hex(t.g * 2654435761), 40, '0'), "
    "  'Sender ' || t.word3 || ' ' || t.g, t.email, "
    "  encode(sha256(convert_to(lower(t.email), 'UTF8')), 'hex'), "
    "  CASE WHEN t.partner_index IS NOT NULL THEN (SELECT slugs[t.partner_index] FROM partners) "
    "    ELSE (ARRAY['', 'Università di Bologna', 'Fundacja Cyfrowa', 'Stadt Zürich', '', "
    "                'Observatoire du numérique', 'Ministry of Justice'])[1 + t.g % 7] END, "
    "  (ARRAY['FR', 'DE', 'IT', 'ES', 'PL', 'NL', 'BE', 'AT', 'CH', 'IE', 'GR', 'PT', 'SE', "
    "         'FI', 'TR', 'UA', 'RO', 'CZ', 'GB', 'US'])[1 + (t.g * 7) % 20], "
    "  t.kind, t.subject, lower(t.subject), "
    "  format((ARRAY['Dear Sir or Madam, we work on %s with %s and would need material on %s "
    "for about forty officials. Kind regards.', "
    "    'Hello, we are teachers in twelve schools working on %s; would %s and %s fit a "
    "partnership? Is there a call for proposals this year?', "
    "    'Good afternoon, may two colleagues join the next event on %s remotely? They follow "
    "%s and %s closely. Thanks in advance.', "
    "    'We are a small association (%s) and would like to translate your guide on %s into "
    "%s. Under which licence is it published?', "
    "    'I am a journalist preparing a feature on %s and would like to interview someone about "
    "%s and %s next week.'])[1 + t.g % 5], t.word3, t.word4, t.word5), "
    "  (ARRAY['fr', 'de', 'it', 'es', 'pl', 'en', 'en', 'nl'])[1 + t.g % 8], "
    "  CASE WHEN t.r_area < 0.25 AND (SELECT n FROM areas) > 0 "
    "    THEN ARRAY[(SELECT slugs[1 + t.g % n] FROM areas)] ELSE '{}' END, "
    "  t.received_at, t.received_at + interval '2 seconds', t.status, "
    "  CASE WHEN t.partner_index IS NOT NULL THEN (SELECT ids[t.partner_index] FROM partners) END, "
    "  CASE WHEN t.partner_index IS NOT NULL THEN (SELECT slugs[t.partner_index] FROM partners) "
    "    ELSE '' END, "
    "  CASE WHEN t.r_area < 0.40 AND (SELECT n FROM areas) > 0 "
    "    THEN ARRAY[(SELECT slugs[1 + (t.g * 7) % n] FROM areas)] ELSE '{}' END, "
    "  CASE WHEN t.status = 'quarantined' THEN 'sender over its rate limit' ELSE '' END, "
    "  CASE WHEN t.assigned THEN (SELECT names[t.staff_index] FROM staff) ELSE '' END, "
    "  CASE WHEN t.assigned THEN (SELECT ids[t.staff_index] FROM staff) END, "
    "  t.due_on, "
    "  CASE WHEN t.status IN ('answered', 'closed') "
    "    THEN LEAST(t.received_at + interval '1 day', now()) END, "
    "  CASE WHEN t.status IN ('closed', 'rejected') "
    "    THEN LEAST(t.received_at + interval '3 days', now()) END, "
    "  CASE WHEN t.g % 97 = 0 AND t.g > 1 THEN t.g - 1 END, now() "
    "FROM shaped t";

/* The history of enquiries $1 .. $2: received from its source, triaged by
   the intake, and a step by the assignee when there is one; a note on one
   assigned enquiry in 33. */
static const char *s_history_sql =
    "INSERT INTO intake.enquiry_transition (enquiry_id, from_status, to_status, actor, at, note) "
    "SELECT e.id, NULL, 'received', e.source, e.received_at, '' FROM intake.enquiry e "
    "  WHERE e.id BETWEEN $1::bigint AND $2::bigint "
    "UNION ALL SELECT e.id, 'received', CASE WHEN e.assignee <> '' THEN 'triaged' "
    "  ELSE e.status END, 'intake', e.received_at + interval '1 second', 'at intake' "
    "  FROM intake.enquiry e WHERE e.id BETWEEN $1::bigint AND $2::bigint "
    "UNION ALL SELECT e.id, 'triaged', e.status, e.assignee || ' via console', "
    "  e.received_at + interval '5 hours', '' FROM intake.enquiry e "
    "  WHERE e.id BETWEEN $1::bigint AND $2::bigint AND e.assignee <> ''";
static const char *s_notes_sql =
    "INSERT INTO intake.enquiry_note (enquiry_id, actor, at, text) "
    "SELECT e.id, e.assignee, e.received_at + interval '6 hours', "
    "  'Called back; waiting for the documents they promised.' FROM intake.enquiry e "
    "WHERE e.id BETWEEN $1::bigint AND $2::bigint AND e.assignee <> '' AND e.id % 33 = 0";

/* Runs a statement, printing what failed; false when it did. */
static bool s_exec(PGconn *admin, const char *sql, int count, const char *const *params)
{
    return bench_pg_exec(PROGRAM, admin, sql, count, params) == 0;
}

static const char *s_text_array(char *out, size_t size, const char *const *items, size_t count)
{
    size_t used = (size_t)snprintf(out, size, "{");
    for (size_t i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s\"%s\"", i ? "," : "", items[i]);
    if (used < size)
        snprintf(out + used, size - used, "}");
    return out;
}

/* The load in one transaction. Returns 0, or -1 after printing why. */
static int s_load_all(PGconn *admin, long enquiries, long chunk)
{
    char staff[1024], syllables[512], total[24];
    s_text_array(staff, sizeof staff, s_staff_names, STAFF_COUNT);
    s_text_array(syllables, sizeof syllables, s_syllables, SYLLABLES);
    snprintf(total, sizeof total, "%ld", enquiries);
    const char *staff_params[] = {staff};
    if (!s_exec(admin, "BEGIN", 0, NULL) || !s_exec(admin, s_clear_sql, 0, NULL) ||
        !s_exec(admin, s_staff_sql, 1, staff_params) ||
        !s_exec(admin, "SET LOCAL maintenance_work_mem = '512MB'", 0, NULL))
        return -1;
    PGresult *indexes = bench_pg_query(PROGRAM, admin, s_indexes_sql, 0, NULL);
    if (!indexes)
        return -1;
    bool ok = true;
    /* Index names come from the catalog, not from a person: safe to paste. */
    for (int i = 0; ok && i < PQntuples(indexes); i++) {
        char drop[300];
        snprintf(drop, sizeof drop, "DROP INDEX %s", PQgetvalue(indexes, i, 0));
        ok = s_exec(admin, drop, 0, NULL);
    }
    for (long from = 1; ok && from <= enquiries; from += chunk) {
        long to = from + chunk - 1 < enquiries ? from + chunk - 1 : enquiries;
        char first[24], last[24];
        snprintf(first, sizeof first, "%ld", from);
        snprintf(last, sizeof last, "%ld", to);
        const char *params[] = {first, last, total, staff, syllables};
        int64_t started = bench_now_us();
        ok = s_exec(admin, s_enquiries_sql, 5, params) && s_exec(admin, s_history_sql, 2, params) &&
             s_exec(admin, s_notes_sql, 2, params);
        fprintf(stderr, PROGRAM ": loaded enquiries %ld to %ld of %ld (%.1f s)\n", from, to,
                enquiries, (double)(bench_now_us() - started) / 1e6);
    }
    for (int i = 0; ok && i < PQntuples(indexes); i++) {
        int64_t started = bench_now_us();
        ok = s_exec(admin, PQgetvalue(indexes, i, 1), 0, NULL);
        fprintf(stderr, PROGRAM ": built %s (%.1f s)\n", PQgetvalue(indexes, i, 0),
                (double)(bench_now_us() - started) / 1e6);
    }
    PQclear(indexes);
    const char *marker[] = {total};
    ok = ok &&
         s_exec(
             admin,
             "INSERT INTO bench_console.load (enquiries, version) VALUES ($1::bigint, " LOAD_VERSION
             ")",
             1, marker) &&
         s_exec(admin, "COMMIT", 0, NULL);
    if (!ok) {
        PGresult *rollback = PQexec(admin, "ROLLBACK");
        PQclear(rollback);
        return -1;
    }
    return 0;
}

/* Loads unless loaded (mode auto), always (reload) or never (skip); then
   analyses. Returns 0, or -1 after printing why. */
static int s_load(PGconn *admin, const char *mode, long enquiries, long chunk, double *seconds)
{
    *seconds = 0;
    if (bench_pg_int(PROGRAM, admin, s_guard_sql, 0, NULL, 0) != 1) {
        fprintf(stderr, PROGRAM ": refusing to load into a database not named dp_bench*\n");
        return -1;
    }
    if (strcmp(mode, "skip") == 0)
        return 0;
    if (!s_exec(admin, s_marker_schema_sql, 0, NULL) || !s_exec(admin, s_marker_sql, 0, NULL))
        return -1;
    char count[24];
    snprintf(count, sizeof count, "%ld", enquiries);
    const char *params[] = {count};
    if (strcmp(mode, "auto") == 0 && bench_pg_int(PROGRAM, admin, s_loaded_sql, 1, params, 0) > 0)
        return 0;
    int64_t started = bench_now_us();
    if (s_load_all(admin, enquiries, chunk) != 0)
        return -1;
    /* What autovacuum would do in service, at once: statistics for the
       planner and the visibility map for index-only scans. */
    if (!s_exec(admin,
                "VACUUM (ANALYZE) intake.enquiry, intake.enquiry_transition, intake.enquiry_note, "
                "intake.staff",
                0, NULL))
        return -1;
    *seconds = (double)(bench_now_us() - started) / 1e6;
    return 0;
}

/* ---- the services, in this process --------------------------------------------------------- */

typedef struct {
    const char *name;
    zactor_fn *actor;
    const dp_setting_t *settings;
    const size_t *setting_count;
    const char *endpoint_setting; /* bound on a free port */
    dp_config_t *config;
    zactor_t *running;
    char *endpoint;
} service_t;

enum { REGISTRY, NOTIFY, INTAKE, REPORT, CONSOLE, SERVICES };

/* The settings every service gets here: a free port, no metrics endpoint
   (its default port may be another run's), and no background job that
   would rewrite the loaded enquiries while they are measured (retention
   would pseudonymise the old ones at the intake's first tick). */
static bool s_configure(service_t *service, const char *database_url, const char *log_level,
                        const char *const *extra)
{
    service->config = dp_config_new(service->name, "service under the console bench",
                                    service->settings, *service->setting_count);
    if (!service->config)
        return false;
    const char *common[] = {"DP_DATABASE_URL",   database_url,      service->endpoint_setting,
                            "tcp://127.0.0.1:*", "DP_METRICS_PORT", "-1",
                            "DP_LOG_LEVEL",      log_level,         NULL};
    for (const char *const *pair = common; *pair; pair += 2)
        if (dp_config_set(service->config, pair[0], pair[1]) != 0)
            return false;
    for (const char *const *pair = extra; pair && *pair; pair += 2)
        if (dp_config_set(service->config, pair[0], pair[1]) != 0) {
            fprintf(stderr, PROGRAM ": cannot set %s=%s for the %s\n", pair[0], pair[1],
                    service->name);
            return false;
        }
    return true;
}

static bool s_start(service_t *service)
{
    service->running = dp_server_start(service->actor, service->config, &service->endpoint);
    if (!service->running)
        fprintf(stderr, PROGRAM ": the %s did not start\n", service->name);
    return service->running != NULL;
}

static char *s_ask(service_t *service, const char *command)
{
    zstr_send(service->running, command);
    return zstr_recv(service->running);
}

static void s_stop_all(service_t *services)
{
    for (int i = SERVICES - 1; i >= 0; i--) {
        zactor_destroy(&services[i].running);
        zstr_free(&services[i].endpoint);
        dp_config_destroy(&services[i].config);
    }
}

/* Starts the five services; the console's web port in *http_port.
   Returns 0, or -1 after printing why. */
static int s_start_all(service_t *services, const dp_config_t *config, int *http_port)
{
    const char *log_level = dp_config_get(config, "DP_BENCH_LOG_LEVEL");
    service_t table[SERVICES] = {
        [REGISTRY] = {"registry", registry_actor, registry_settings, &registry_setting_count,
                      "DP_REGISTRY_ENDPOINT"},
        [NOTIFY] = {"notify", notify_actor, notify_settings, &notify_setting_count,
                    "DP_NOTIFY_ENDPOINT"},
        [INTAKE] = {"intake", intake_actor, intake_settings, &intake_setting_count,
                    "DP_INTAKE_ENDPOINT"},
        [REPORT] = {"report", report_actor, report_settings, &report_setting_count,
                    "DP_REPORT_ENDPOINT"},
        [CONSOLE] = {"console", console_actor, console_settings, &console_setting_count,
                     "DP_CONSOLE_ENDPOINT"},
    };
    memcpy(services, table, sizeof table);
    const char *registry_extra[] = {"DP_REGISTRY_PRIVACY_JOB_MS", "86400000", NULL};
    const char *notify_extra[] = {"DP_NOTIFY_PUB_ENDPOINT", "tcp://127.0.0.1:*", NULL};
    if (!s_configure(&services[REGISTRY], dp_config_get(config, "DP_BENCH_REGISTRY_URL"), log_level,
                     registry_extra) ||
        !s_start(&services[REGISTRY]) ||
        !s_configure(&services[NOTIFY], dp_config_get(config, "DP_BENCH_NOTIFY_URL"), log_level,
                     notify_extra) ||
        !s_start(&services[NOTIFY]))
        return -1;
    char *pub = s_ask(&services[NOTIFY], "PUB_ENDPOINT");
    const char *intake_extra[] = {"DP_REGISTRY_ENDPOINT",
                                  services[REGISTRY].endpoint,
                                  "DP_NOTIFY_ENDPOINT",
                                  services[NOTIFY].endpoint,
                                  "DP_NOTIFY_PUB_ENDPOINT",
                                  pub ? pub : "",
                                  "DP_INTAKE_RETENTION_MONTHS",
                                  "1200",
                                  "DP_INTAKE_PRIVACY_JOB_MS",
                                  "86400000",
                                  NULL};
    const char *report_extra[] = {"DP_REPORT_HTTP_PORT", "0", NULL};
    bool ok = pub && *pub &&
              s_configure(&services[INTAKE], dp_config_get(config, "DP_BENCH_INTAKE_URL"),
                          log_level, intake_extra) &&
              s_start(&services[INTAKE]) &&
              s_configure(&services[REPORT], dp_config_get(config, "DP_BENCH_REPORT_URL"),
                          log_level, report_extra) &&
              s_start(&services[REPORT]);
    zstr_free(&pub);
    if (!ok)
        return -1;
    const char *console_extra[] = {
        "DP_REGISTRY_ENDPOINT", services[REGISTRY].endpoint, "DP_INTAKE_ENDPOINT",
        services[INTAKE].endpoint, "DP_NOTIFY_ENDPOINT", services[NOTIFY].endpoint,
        "DP_REPORT_ENDPOINT", services[REPORT].endpoint, "DP_CONSOLE_HTTP_PORT", "0",
        /* A slow page is timed, not cut off at the
           default 3 s (which would also leave the
           intake busy with it while the next page
           waits). */
        "DP_CONSOLE_CALL_TIMEOUT_MS", "60000", NULL};
    if (!s_configure(&services[CONSOLE], dp_config_get(config, "DP_BENCH_CONSOLE_URL"), log_level,
                     console_extra) ||
        !s_start(&services[CONSOLE]))
        return -1;
    char *port = s_ask(&services[CONSOLE], "HTTP_PORT");
    *http_port = port ? atoi(port) : 0;
    zstr_free(&port);
    if (*http_port <= 0) {
        fprintf(stderr, PROGRAM ": the console named no web port\n");
        return -1;
    }
    return 0;
}

/* The bench's staff account, through the console's own request (as dpctl
   staff add); a password reset when a run before made it. */
static int s_make_account(const char *endpoint)
{
    dp_client_t *client = dp_client_new(endpoint, 15000, 1);
    if (!client)
        return -1;
    Dp__AddStaffRequest add = DP__ADD_STAFF_REQUEST__INIT;
    add.login = BENCH_LOGIN;
    add.name = BENCH_NAME;
    add.role = DP__STAFF_ROLE__STAFF_ROLE_AGENT;
    add.password = BENCH_PASSWORD;
    ProtobufCMessage *reply = NULL;
    dp_status_t status;
    int outcome =
        dp_client_call(client, &add.base, &dp__add_staff_reply__descriptor, &reply, &status);
    dp_message_free(&reply);
    if (outcome == 0 && status.code == DP__CODE__CODE_ALREADY_EXISTS) {
        Dp__ResetStaffPasswordRequest reset = DP__RESET_STAFF_PASSWORD_REQUEST__INIT;
        reset.login = BENCH_LOGIN;
        reset.password = BENCH_PASSWORD;
        outcome = dp_client_call(client, &reset.base, &dp__reset_staff_password_reply__descriptor,
                                 &reply, &status);
        dp_message_free(&reply);
    }
    dp_client_destroy(&client);
    if (outcome != 0 || status.code != DP__CODE__CODE_OK) {
        fprintf(stderr, PROGRAM ": cannot make the staff account: %s %s\n",
                dp_code_name(status.code), status.message);
        return -1;
    }
    return 0;
}

/* ---- HTTP, as a browser ---------------------------------------------------------------------- */

typedef struct {
    CURL *curl;
    char base[64]; /* http://127.0.0.1:<port> */
    char *body;    /* the last answer */
    size_t size;
    size_t capacity;
    long status; /* its HTTP status, 0 when none came */
    char error[CURL_ERROR_SIZE];
} browser_t;

static size_t s_collect(char *data, size_t size, size_t count, void *arg)
{
    browser_t *browser = arg;
    size_t bytes = size * count;
    if (browser->size + bytes + 1 > browser->capacity) {
        size_t capacity = (browser->size + bytes + 1) * 2;
        char *grown = realloc(browser->body, capacity);
        if (!grown)
            return 0;
        browser->body = grown;
        browser->capacity = capacity;
    }
    memcpy(browser->body + browser->size, data, bytes);
    browser->size += bytes;
    browser->body[browser->size] = 0;
    return bytes;
}

/* GET (form NULL) or POST of path; 0 when an answer came (any status). */
static int s_fetch(browser_t *browser, const char *path, const char *form)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", browser->base, path);
    browser->size = 0;
    browser->status = 0;
    browser->error[0] = 0;
    if (browser->body)
        browser->body[0] = 0;
    curl_easy_setopt(browser->curl, CURLOPT_URL, url);
    if (form)
        curl_easy_setopt(browser->curl, CURLOPT_POSTFIELDS, form);
    else
        curl_easy_setopt(browser->curl, CURLOPT_HTTPGET, 1L);
    CURLcode code = curl_easy_perform(browser->curl);
    if (code != CURLE_OK) {
        if (!browser->error[0])
            snprintf(browser->error, sizeof browser->error, "%s", curl_easy_strerror(code));
        return -1;
    }
    curl_easy_getinfo(browser->curl, CURLINFO_RESPONSE_CODE, &browser->status);
    return 0;
}

/* Copies the text after `marker` in the last answer up to `end` (HTML's
   "&amp;" read as "&"); false when the marker is not there. */
static bool s_find(const browser_t *browser, const char *marker, char end, char *out, size_t size)
{
    const char *at = browser->body ? strstr(browser->body, marker) : NULL;
    if (!at)
        return false;
    at += strlen(marker);
    size_t used = 0;
    while (*at && *at != end && used + 1 < size) {
        if (strncmp(at, "&amp;", 5) == 0) {
            out[used++] = '&';
            at += 5;
        } else
            out[used++] = *at++;
    }
    out[used] = 0;
    return true;
}

/* Logs in through the login form; the session id in `token`. */
static int s_login(browser_t *browser, char token[CONSOLE_TOKEN_TEXT])
{
    char csrf[128];
    if (s_fetch(browser, "/login", NULL) != 0 || browser->status != 200 ||
        !s_find(browser, "name=\"csrf\" value=\"", '"', csrf, sizeof csrf)) {
        fprintf(stderr, PROGRAM ": no login form (HTTP %ld %s)\n", browser->status, browser->error);
        return -1;
    }
    char form[512];
    snprintf(form, sizeof form, "login=%s&password=%s&csrf=%s", BENCH_LOGIN, BENCH_PASSWORD, csrf);
    if (s_fetch(browser, "/login", form) != 0 || browser->status != 303) {
        fprintf(stderr, PROGRAM ": the login was refused (HTTP %ld %s)\n", browser->status,
                browser->error);
        return -1;
    }
    struct curl_slist *cookies = NULL;
    curl_easy_getinfo(browser->curl, CURLINFO_COOKIELIST, &cookies);
    token[0] = 0;
    for (struct curl_slist *cookie = cookies; cookie; cookie = cookie->next) {
        /* Netscape format: domain, flag, path, secure, expiry, name, value. */
        const char *field = cookie->data;
        for (int tab = 0; field && tab < 5; tab++)
            field = strchr(field, '\t') ? strchr(field, '\t') + 1 : NULL;
        if (field && strncmp(field, "dp_session\t", 11) == 0)
            snprintf(token, CONSOLE_TOKEN_TEXT, "%s", field + 11);
    }
    curl_slist_free_all(cookies);
    if (!token[0]) {
        fprintf(stderr, PROGRAM ": the login set no session cookie\n");
        return -1;
    }
    return 0;
}

/* ---- the pages --------------------------------------------------------------------------------
 */

typedef enum { PAGE_QUEUE, PAGE_NEXT, PAGE_ENQUIRY, PAGE_PARTNERS } page_kind_t;

typedef struct {
    const char *slug;     /* for the results file */
    const char *label;    /* for the table */
    page_kind_t kind;     /* what the page is */
    const char *view;     /* the queue's view: all, mine, unassigned, overdue, due-today */
    const char *statuses; /* "a,b" or NULL */
    const char *search;   /* q, or NULL */
    const char *sort;     /* "due", or NULL (newest first) */
    /* Set at run time. */
    char path[512];          /* what is asked for (an enquiry's path is made per request) */
    char after_received[40]; /* second page: the cursor's received_at */
    char after_id[24];       /* and its id */
    bench_samples_t ours;    /* the page over HTTP */
    bench_samples_t alone;   /* its SQL alone */
    char error[256];         /* why the page failed, or "" */
    char alone_error[256];   /* why its SQL failed, or "" */
    bool counts_missing;     /* the navigation's counts showed "?" */
    bool stopped;            /* too slow to ask for every round (see SLOW_*) */
    char page_total[24];     /* the queue's count as the page showed it */
    char alone_total[24];    /* the count its SQL alone gave */
    double p50, p95, p99, alone_p95;
} page_t;

static char s_rare_word[8];

static page_t s_pages[] = {
    {"all", "queue: all, newest first", PAGE_QUEUE, "all"},
    {"mine", "queue: mine", PAGE_QUEUE, "mine"},
    {"unassigned", "queue: unassigned", PAGE_QUEUE, "unassigned"},
    {"overdue", "queue: overdue", PAGE_QUEUE, "overdue"},
    {"due-today", "queue: due today", PAGE_QUEUE, "due-today"},
    {"status-received", "queue: status received", PAGE_QUEUE, "all", "received"},
    {"status-two", "queue: assigned + answered", PAGE_QUEUE, "all", "assigned,answered"},
    {"search-rare", "search: a rare word", PAGE_QUEUE, "all", NULL, s_rare_word},
    {"search-common", "search: \"" COMMON_WORD "\"", PAGE_QUEUE, "all", NULL, COMMON_WORD},
    {"search-open", "search: rare word, open", PAGE_QUEUE, "all",
     "received,triaged,assigned,quarantined", s_rare_word},
    {"sort-due", "queue: all, soonest due", PAGE_QUEUE, "all", NULL, NULL, "due"},
    {"overdue-due", "queue: overdue, soonest due", PAGE_QUEUE, "overdue", NULL, NULL, "due"},
    {"second-page", "queue: all, second page", PAGE_NEXT, "all"},
    {"enquiry", "one enquiry (random id)", PAGE_ENQUIRY},
    {"partners", "partners", PAGE_PARTNERS},
};
enum { PAGES = sizeof s_pages / sizeof *s_pages };

static void s_queue_path(page_t *page)
{
    size_t used = (size_t)snprintf(page->path, sizeof page->path, "/queue?view=%s", page->view);
    if (page->statuses) {
        char copy[128];
        snprintf(copy, sizeof copy, "%s", page->statuses);
        for (char *status = strtok(copy, ","); status; status = strtok(NULL, ","))
            used +=
                (size_t)snprintf(page->path + used, sizeof page->path - used, "&status=%s", status);
    }
    if (page->search)
        used +=
            (size_t)snprintf(page->path + used, sizeof page->path - used, "&q=%s", page->search);
    if (page->sort)
        snprintf(page->path + used, sizeof page->path - used, "&sort=%s", page->sort);
}

/* Times one request of a page; a failure is recorded, never timed. */
static void s_request(browser_t *browser, page_t *page, int64_t enquiry_id, bool timed)
{
    char path[64];
    if (page->kind == PAGE_ENQUIRY)
        snprintf(path, sizeof path, "/enquiries/%" PRId64, enquiry_id);
    int64_t started = bench_now_us();
    int outcome = s_fetch(browser, page->kind == PAGE_ENQUIRY ? path : page->path, NULL);
    int64_t elapsed = bench_now_us() - started;
    if (outcome != 0 || browser->status != 200) {
        if (!page->error[0]) {
            char said[160] = "";
            if (!s_find(browser, "id=\"failure\">", '<', said, sizeof said))
                s_find(browser, "role=\"alert\">", '<', said, sizeof said);
            if (outcome)
                snprintf(page->error, sizeof page->error, "%.200s", browser->error);
            else
                snprintf(page->error, sizeof page->error, "HTTP %ld%s%.160s", browser->status,
                         *said ? ": " : "", said);
        }
        return;
    }
    if (browser->body && strstr(browser->body, "id=\"count-overdue\">?<"))
        page->counts_missing = true;
    if (!page->page_total[0])
        s_find(browser, "<caption>", ' ', page->page_total, sizeof page->page_total);
    if (timed)
        bench_samples_add(&page->ours, elapsed);
}

/* A page far over the target would make the run last as long as it is
   slow: once it has SLOW_SAMPLES timed requests (or failed) and its SQL as
   many runs (or failed), and the median of either is over SLOW_FACTOR times
   the target, neither is asked for again (the table says how many requests
   it had). */
enum { SLOW_SAMPLES = 10, SLOW_FACTOR = 5 };

static double s_median_ms(const bench_samples_t *samples)
{
    bench_samples_t copy = {.count = samples->count};
    copy.values = malloc(samples->count * sizeof *copy.values);
    if (!copy.values)
        return 0;
    memcpy(copy.values, samples->values, samples->count * sizeof *copy.values);
    bench_samples_sort(&copy);
    double median = bench_percentile_ms(&copy, 50);
    free(copy.values);
    return median;
}

static void s_maybe_stop(page_t *page, int target_ms)
{
    bool ours_done = page->error[0] || page->ours.count >= SLOW_SAMPLES;
    bool alone_done = page->alone_error[0] || page->alone.count >= SLOW_SAMPLES;
    if (page->stopped || !ours_done || !alone_done)
        return;
    double limit = (double)target_ms * SLOW_FACTOR;
    page->stopped = (!page->error[0] && s_median_ms(&page->ours) > limit) ||
                    (!page->alone_error[0] && s_median_ms(&page->alone) > limit);
}

/* ---- the yardstick: each page's SQL alone ---------------------------------------------------- */

/* The statements a page runs, by the name under which each service
   prepares it; looked up in the services' own tables (console_db.c,
   intake_db.c, registry_db.c), so the yardstick runs the very texts the
   services run, as they are when this program is built. */
typedef enum {
    Y_SESSION,     /* console session_touch: every signed-in page reads and touches its session */
    Y_STAFF_NAMES, /* console staff_names: the enquiry page's "assign to a colleague" */
    Y_COUNT,       /* intake count_queue: CountEnquiries, the navigation's counts on every page */
    Y_KINDS,       /* intake list_kinds: ListEnquiryKinds, the queue's kind filter */
    Y_PLAN,        /* intake plan_custom: ListEnquiries' first statement, in its transaction */
    Y_NEWEST,      /* intake list_newest: ListEnquiries, newest first */
    Y_DUE,         /* intake list_due: ListEnquiries, soonest due */
    Y_TOTAL,   /* intake list_total: ListEnquiries with_total (the console asks but for a search) */
    Y_AUDIT,   /* intake audit_insert: the read recorded (lists and GetEnquiry) */
    Y_ENQUIRY, /* intake select_enquiry: GetEnquiry */
    Y_HISTORY, /* intake select_transitions */
    Y_NOTES,   /* intake select_notes */
    Y_MESSAGES,    /* intake select_messages */
    Y_SUBJECT_KEY, /* intake subject_key_of: GetEnquiry's audit names the person's key */
    Y_PARTNERS,    /* registry list_partners: ListPartners, the partners page */
    Y_STATEMENTS
} yard_statement_t;

typedef enum { ROLE_CONSOLE, ROLE_INTAKE, ROLE_REGISTRY, ROLES } role_t;

static const struct {
    const char *name;
    role_t role;
} s_yard_names[Y_STATEMENTS] = {
    [Y_SESSION] = {"session_touch", ROLE_CONSOLE},
    [Y_STAFF_NAMES] = {"staff_names", ROLE_CONSOLE},
    [Y_COUNT] = {"count_queue", ROLE_INTAKE},
    [Y_KINDS] = {"list_kinds", ROLE_INTAKE},
    [Y_PLAN] = {"plan_custom", ROLE_INTAKE},
    [Y_NEWEST] = {"list_newest", ROLE_INTAKE},
    [Y_DUE] = {"list_due", ROLE_INTAKE},
    [Y_TOTAL] = {"list_total", ROLE_INTAKE},
    [Y_AUDIT] = {"audit_insert", ROLE_INTAKE},
    [Y_ENQUIRY] = {"select_enquiry", ROLE_INTAKE},
    [Y_HISTORY] = {"select_transitions", ROLE_INTAKE},
    [Y_NOTES] = {"select_notes", ROLE_INTAKE},
    [Y_MESSAGES] = {"select_messages", ROLE_INTAKE},
    [Y_SUBJECT_KEY] = {"subject_key_of", ROLE_INTAKE},
    [Y_PARTNERS] = {"list_partners", ROLE_REGISTRY},
};

typedef struct {
    dp_statement_t table[Y_STATEMENTS]; /* the statements, in yard_statement_t order */
    bool found[Y_STATEMENTS];           /* found in its service's table */
    dp_db_t *db[ROLES];                 /* one connection per role */
    char session_hash[CONSOLE_HASH_HEX];
    char actor[160]; /* as the intake records the console's person without CURVE */
} yard_t;

static const dp_statement_t *s_lookup(const dp_statement_t *table, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (table[i].name && strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* Finds every statement; one a service lacks (not written yet) becomes a
   placeholder that is never run, and the pages that need it say so. */
static void s_yard_tables(yard_t *yard)
{
    for (int i = 0; i < Y_STATEMENTS; i++) {
        const dp_statement_t *found = NULL;
        switch (s_yard_names[i].role) {
        case ROLE_CONSOLE:
            found = s_lookup(console_statements, console_statement_count, s_yard_names[i].name);
            break;
        case ROLE_INTAKE:
            found = s_lookup(intake_statements, intake_statement_count, s_yard_names[i].name);
            break;
        default:
            found = s_lookup(registry_statements, registry_statement_count, s_yard_names[i].name);
        }
        yard->found[i] = found != NULL;
        yard->table[i] = found ? *found : (dp_statement_t){s_yard_names[i].name, "SELECT 1", 0};
    }
}

/* Runs one statement; false (with why in error) when it failed or is missing. */
static bool s_run(yard_t *yard, yard_statement_t statement, const char *const *params,
                  PGresult **result_out, char *error, size_t size)
{
    if (!yard->found[statement]) {
        snprintf(error, size, "the service has no statement %s", s_yard_names[statement].name);
        return false;
    }
    dp_db_t *db = yard->db[s_yard_names[statement].role];
    PGresult *result = dp_db_run(db, (int)statement, params);
    if (!result) {
        snprintf(error, size, "%s: %s", s_yard_names[statement].name, dp_db_failure_message(db));
        return false;
    }
    if (result_out)
        *result_out = result;
    else
        PQclear(result);
    return true;
}

/* The queue's filters as the intake binds them (intake_db.c, QUEUE_FILTERS
   $1..$13), then the cursor and the page size ($14..$17), for what the
   console asks for this page (console_page_queue.c: 50 a page, with the
   total). */
typedef struct {
    const char *params[17];
    char statuses[128];
} queue_params_t;

static void s_queue_params(const page_t *page, queue_params_t *out)
{
    /* Mine and unassigned without chosen statuses are the open enquiries
       (console_page_queue.c, s_read_filters). */
    bool work = strcmp(page->view, "mine") == 0 || strcmp(page->view, "unassigned") == 0;
    const char *statuses = page->statuses ? page->statuses
                           : work         ? "received,triaged,assigned,quarantined"
                                          : NULL;
    bool has_statuses = statuses != NULL;
    if (has_statuses)
        snprintf(out->statuses, sizeof out->statuses, "{%s}", statuses);
    bool next = page->kind == PAGE_NEXT;
    const char *params[17] = {"",
                              has_statuses ? out->statuses : NULL,
                              "",
                              "",
                              "",
                              "",
                              strcmp(page->view, "mine") == 0 ? BENCH_NAME : "",
                              NULL,
                              NULL,
                              strcmp(page->view, "unassigned") == 0 ? "true" : "false",
                              strcmp(page->view, "overdue") == 0 ? "true" : "false",
                              strcmp(page->view, "due-today") == 0 ? "true" : "false",
                              page->search,
                              next ? page->after_received : NULL,
                              next ? page->after_id : "0",
                              "50",
                              NULL};
    memcpy(out->params, params, sizeof params);
}

typedef struct {
    yard_t *yard;
    page_t *page;
    char *error;
    size_t size;
} listing_t;

/* ListEnquiries' transaction (intake_queue.c, s_list_body, with
   intake_db_list_queue and intake_db_count_matches): custom plans, the
   page, the total, and the read recorded when the page holds rows. */
static dp_txn_outcome_t s_list_body(dp_db_t *db, void *arg)
{
    (void)db;
    listing_t *listing = arg;
    queue_params_t queue;
    s_queue_params(listing->page, &queue);
    yard_statement_t order = listing->page->sort ? Y_DUE : Y_NEWEST;
    PGresult *rows = NULL;
    if (!s_run(listing->yard, Y_PLAN, NULL, NULL, listing->error, listing->size) ||
        !s_run(listing->yard, order, queue.params, &rows, listing->error, listing->size))
        return DP_TXN_FAILED;
    int count = PQntuples(rows);
    char detail[96];
    snprintf(detail, sizeof detail, "%d enquiries from id %s", count,
             count ? PQgetvalue(rows, 0, 0) : "0");
    PQclear(rows);
    const char *audit[] = {listing->yard->actor, "list enquiries", "", detail};
    /* The console asks for a total except for a search (console_page_queue.c). */
    page_t *page = listing->page;
    if (!page->search) {
        PGresult *total = NULL;
        if (!s_run(listing->yard, Y_TOTAL, queue.params, &total, listing->error, listing->size))
            return DP_TXN_FAILED;
        if (!page->alone_total[0] && PQntuples(total) == 1)
            snprintf(page->alone_total, sizeof page->alone_total, "%s", PQgetvalue(total, 0, 0));
        PQclear(total);
    }
    if (count && !s_run(listing->yard, Y_AUDIT, audit, NULL, listing->error, listing->size))
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

/* GetEnquiry (intake_workflow.c, intake_get): the enquiry, its history,
   notes and replies, the person's key and the read recorded; each its own
   statement outside a transaction, as the intake runs them. */
static bool s_enquiry_statements(yard_t *yard, int64_t id, char *error, size_t size)
{
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%" PRId64, id);
    const char *full[] = {"true", id_text};
    const char *by_id[] = {id_text};
    PGresult *key = NULL;
    if (!s_run(yard, Y_ENQUIRY, full, NULL, error, size) ||
        !s_run(yard, Y_HISTORY, by_id, NULL, error, size) ||
        !s_run(yard, Y_NOTES, by_id, NULL, error, size) ||
        !s_run(yard, Y_MESSAGES, by_id, NULL, error, size) ||
        !s_run(yard, Y_SUBJECT_KEY, by_id, &key, error, size))
        return false;
    char detail[48];
    snprintf(detail, sizeof detail, "enquiry %s", id_text);
    const char *audit[] = {yard->actor, "read enquiry", PQntuples(key) ? PQgetvalue(key, 0, 0) : "",
                           detail};
    bool ok = s_run(yard, Y_AUDIT, audit, NULL, error, size) &&
              s_run(yard, Y_STAFF_NAMES, NULL, NULL, error, size);
    PQclear(key);
    return ok;
}

/* The SQL of one page view: the session and the counts (every page),
   then what the page itself asks. */
static void s_yardstick(yard_t *yard, page_t *page, int64_t enquiry_id, bool timed)
{
    char error[256] = "";
    const char *session[] = {yard->session_hash, "1800", "43200"};
    const char *count[] = {BENCH_NAME};
    /* The console's default partner listing (console_page_partners.c:
       100 a page, no filter), as registry_db_list_partners binds it. */
    const char *partners[] = {NULL, "0", "", "", "", NULL, NULL, "", "100"};
    int64_t started = bench_now_us();
    bool ok = s_run(yard, Y_SESSION, session, NULL, error, sizeof error) &&
              s_run(yard, Y_COUNT, count, NULL, error, sizeof error);
    if (ok && page->kind == PAGE_ENQUIRY)
        ok = s_enquiry_statements(yard, enquiry_id, error, sizeof error);
    else if (ok && page->kind == PAGE_PARTNERS)
        ok = s_run(yard, Y_PARTNERS, partners, NULL, error, sizeof error);
    else if (ok) {
        listing_t listing = {yard, page, error, sizeof error};
        ok = s_run(yard, Y_KINDS, NULL, NULL, error, sizeof error) &&
             dp_db_transaction(yard->db[ROLE_INTAKE], s_list_body, &listing) == 0;
        if (!ok && !error[0])
            snprintf(error, sizeof error, "%s", dp_db_failure_message(yard->db[ROLE_INTAKE]));
    }
    int64_t elapsed = bench_now_us() - started;
    if (!ok) {
        if (!page->alone_error[0])
            snprintf(page->alone_error, sizeof page->alone_error, "%s", error);
        return;
    }
    if (timed)
        bench_samples_add(&page->alone, elapsed);
}

/* EXPLAIN ANALYZE of the reading statements of a slow page, as its role,
   with the page's parameters (an unnamed statement: a custom plan, as the
   intake forces for its lists). Without per-node timing: on a virtual
   machine its clock calls can make a scan of a million rows ten times
   slower than it is; rows, loops and buffers say where the work goes. */
static void s_explain_one(FILE *out, const char *url, yard_t *yard, yard_statement_t statement,
                          int count, const char *const *params)
{
    if (!yard->found[statement])
        return;
    PGconn *conn = bench_pg_connect(PROGRAM, url);
    if (!conn)
        return;
    size_t size = strlen(yard->table[statement].sql) + 64;
    char *sql = malloc(size);
    if (sql) {
        snprintf(sql, size, "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) %s",
                 yard->table[statement].sql);
        PGresult *plan = bench_pg_query(PROGRAM, conn, sql, count, params);
        fprintf(out, "-- %s\n", s_yard_names[statement].name);
        for (int row = 0; plan && row < PQntuples(plan); row++)
            fprintf(out, "%s\n", PQgetvalue(plan, row, 0));
        fprintf(out, "\n");
        PQclear(plan);
    }
    free(sql);
    PQfinish(conn);
}

static void s_explain(FILE *out, const dp_config_t *config, yard_t *yard, const page_t *page,
                      int64_t enquiry_id)
{
    const char *intake_url = dp_config_get(config, "DP_BENCH_INTAKE_URL");
    fprintf(out, "==== %s (%s): p95 %.1f ms, its SQL alone %.1f ms\n\n", page->label, page->path,
            page->p95, page->alone_p95);
    const char *count[] = {BENCH_NAME};
    s_explain_one(out, intake_url, yard, Y_COUNT, 1, count);
    if (page->kind == PAGE_ENQUIRY) {
        char id[24];
        snprintf(id, sizeof id, "%" PRId64, enquiry_id);
        const char *full[] = {"true", id};
        s_explain_one(out, intake_url, yard, Y_ENQUIRY, 2, full);
    } else if (page->kind == PAGE_PARTNERS) {
        const char *partners[] = {NULL, "0", "", "", "", NULL, NULL, "", "100"};
        s_explain_one(out, dp_config_get(config, "DP_BENCH_REGISTRY_URL"), yard, Y_PARTNERS, 9,
                      partners);
    } else {
        queue_params_t queue;
        s_queue_params(page, &queue);
        s_explain_one(out, intake_url, yard, page->sort ? Y_DUE : Y_NEWEST, page->sort ? 17 : 16,
                      queue.params);
        s_explain_one(out, intake_url, yard, Y_TOTAL, 13, queue.params);
    }
}

/* ---- the run -------------------------------------------------------------------------------- */

/* The second page's path and cursor, from the first page's "next" link. */
static int s_second_page(browser_t *browser, page_t *page)
{
    snprintf(page->path, sizeof page->path, "/queue?view=%s", page->view);
    char link[512], token[128];
    if (s_fetch(browser, page->path, NULL) != 0 || browser->status != 200 ||
        !s_find(browser, "id=\"next-page\" href=\"", '"', link, sizeof link)) {
        snprintf(page->error, sizeof page->error,
                 "the first page had no next-page link (HTTP %ld%s%.160s)", browser->status,
                 *browser->error ? ", " : "", browser->error);
        return -1;
    }
    snprintf(page->path, sizeof page->path, "%s", link);
    /* "n_<received_at, 27 characters>_<id>" (intake_queue.c, s_read_cursor). */
    const char *after = strstr(link, "after=");
    char *decoded = after ? curl_easy_unescape(browser->curl, after + 6, 0, NULL) : NULL;
    snprintf(token, sizeof token, "%s", decoded ? decoded : "");
    curl_free(decoded);
    if (strlen(token) < 31 || strncmp(token, "n_", 2) != 0 || token[29] != '_') {
        snprintf(page->alone_error, sizeof page->alone_error, "a page token not understood: %s",
                 token);
        return 0;
    }
    snprintf(page->after_received, sizeof page->after_received, "%.27s", token + 2);
    snprintf(page->after_id, sizeof page->after_id, "%.20s", token + 30);
    return 0;
}

static void s_print_table(const dp_config_t *config, int runs, int warmups, int target_ms)
{
    printf("\nPages (%d timed requests of each after %d warm-up rounds, one at a time, every page "
           "once a round; its SQL alone in the same rounds; target reported, not asserted)\n",
           runs, warmups);
    printf("%-30s %8s %8s %8s %10s %6s  %s\n", "page", "p50 ms", "p95 ms", "p99 ms", "SQL p95 ms",
           "ratio", "note");
    bool all_under = true;
    char misses[1024] = "";
    const char *results_path = dp_config_get(config, "DP_BENCH_RESULTS_FILE");
    FILE *results = *results_path ? fopen(results_path, "a") : NULL;
    for (int i = 0; i < PAGES; i++) {
        page_t *page = &s_pages[i];
        bench_samples_sort(&page->ours);
        bench_samples_sort(&page->alone);
        bool failed = page->error[0] || page->ours.count == 0;
        page->p50 = bench_percentile_ms(&page->ours, 50);
        page->p95 = bench_percentile_ms(&page->ours, 95);
        page->p99 = bench_percentile_ms(&page->ours, 99);
        bool alone = !page->alone_error[0] && page->alone.count > 0;
        page->alone_p95 = bench_percentile_ms(&page->alone, 95);
        char note[400] = "";
        if (page->counts_missing)
            snprintf(note, sizeof note, "navigation counts missing (CountEnquiries failed); ");
        if (page->stopped)
            snprintf(note + strlen(note), sizeof note - strlen(note),
                     "only %zu requests (median over %d ms); ", page->ours.count,
                     target_ms * SLOW_FACTOR);
        if (!alone)
            snprintf(note + strlen(note), sizeof note - strlen(note), "SQL alone failed: %s",
                     page->alone_error[0] ? page->alone_error : "no sample");
        /* The yardstick must ask what the page asks: the same count, or it says so. */
        if (page->page_total[0] && page->alone_total[0] &&
            strcmp(page->page_total, page->alone_total) != 0)
            snprintf(note + strlen(note), sizeof note - strlen(note),
                     "the page found %s, its SQL alone %s", page->page_total, page->alone_total);
        else if (page->page_total[0])
            snprintf(note + strlen(note), sizeof note - strlen(note), "%s found", page->page_total);
        if (failed) {
            printf("%-30s %8s %8s %8s %10s %6s  FAILED: %s%s%s\n", page->label, "-", "-", "-",
                   alone ? "" : "-", "-", page->error[0] ? page->error : "no answer",
                   *note ? "; " : "", note);
            if (alone)
                printf("%-30s %8s %8s %8s %10.1f\n", "", "", "", "", page->alone_p95);
        } else {
            char ratio[16] = "-", yard[16] = "-";
            if (alone) {
                snprintf(yard, sizeof yard, "%.1f", page->alone_p95);
                snprintf(ratio, sizeof ratio, "%.2f",
                         page->p95 > 0 ? page->alone_p95 / page->p95 : 0);
            }
            printf("%-30s %8.1f %8.1f %8.1f %10s %6s  %s%s\n", page->label, page->p50, page->p95,
                   page->p99, yard, ratio, page->p95 < target_ms ? "" : "OVER TARGET; ", note);
        }
        if (failed || page->p95 >= target_ms) {
            all_under = false;
            snprintf(misses + strlen(misses), sizeof misses - strlen(misses), "%s%s",
                     *misses ? ", " : "", page->slug);
        }
        if (results && !failed)
            fprintf(results, "console page=%s p95_ms=%.3f alone_p95_ms=%.3f\n", page->slug,
                    page->p95, alone ? page->alone_p95 : -1.0);
    }
    if (results)
        fclose(results);
    printf("ratio: its SQL's p95 / the page's p95 (1.00: the page costs no more than its SQL "
           "alone; less: the rest of the way costs the difference)\n");
    if (all_under)
        printf("every page's p95 under %d ms: yes\n", target_ms);
    else
        printf("every page's p95 under %d ms: NO (%s)\n", target_ms, misses);
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) == 0)
        printf("memory:     peak resident set of " PROGRAM " (the five services, the browser and "
               "the yardstick in one process): %.1f MiB\n",
               (double)usage.ru_maxrss / 1024);
}

static void s_print_data(PGconn *admin, double load_seconds)
{
    PGresult *sizes = bench_pg_query(
        PROGRAM, admin,
        "SELECT (SELECT count(*) FROM intake.enquiry), "
        "(SELECT count(*) FROM intake.enquiry WHERE status IN ('received', 'triaged', "
        "  'assigned', 'quarantined')), "
        "(SELECT count(*) FROM intake.enquiry WHERE status IN ('received', 'triaged', "
        "  'assigned', 'quarantined') AND due_on < (now() AT TIME ZONE 'Europe/Paris')::date), "
        "(SELECT count(*) FROM intake.enquiry WHERE status IN ('received', 'triaged', "
        "  'assigned', 'quarantined') AND due_on = (now() AT TIME ZONE 'Europe/Paris')::date), "
        "(SELECT count(*) FROM intake.enquiry WHERE assignee = $1), "
        "(SELECT count(*) FROM intake.enquiry WHERE search @@ websearch_to_tsquery('simple', $2)), "
        "(SELECT count(*) FROM intake.enquiry WHERE search @@ websearch_to_tsquery('simple', $3)), "
        "pg_size_pretty(pg_total_relation_size('intake.enquiry')), "
        "(SELECT count(*) FROM registry.partner)",
        3, (const char *const[]){BENCH_NAME, s_rare_word, COMMON_WORD});
    if (sizes)
        printf("data:       %s enquiries (%s open, %s overdue, %s due today; %s assigned to %s; "
               "\"%s\" in %s, \"%s\" in %s; %s, table and indexes); %s partners%s\n",
               PQgetvalue(sizes, 0, 0), PQgetvalue(sizes, 0, 1), PQgetvalue(sizes, 0, 2),
               PQgetvalue(sizes, 0, 3), PQgetvalue(sizes, 0, 4), BENCH_NAME, s_rare_word,
               PQgetvalue(sizes, 0, 5), COMMON_WORD, PQgetvalue(sizes, 0, 6),
               PQgetvalue(sizes, 0, 7), PQgetvalue(sizes, 0, 8),
               load_seconds > 0 ? "" : " (loaded before: reused)");
    if (load_seconds > 0)
        printf("load:       %.1f s (INSERT ... SELECT FROM generate_series as the admin, the "
               "indexes built after, then VACUUM ANALYZE)\n",
               load_seconds);
    PQclear(sizes);
}

int main(int argc, char **argv)
{
    /* The console shows times in the zone the staff work in, as dp-console
       sets it for its whole process before any thread starts. */
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    int exit_code = 0;
    dp_config_t *config =
        bench_config_load(PROGRAM, "times every page of the staff console against its SQL alone",
                          s_settings, SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    const char *mode = dp_config_get(config, "DP_BENCH_LOAD");
    long enquiries = dp_config_get_int(config, "DP_BENCH_ENQUIRIES");
    int runs = (int)dp_config_get_int(config, "DP_BENCH_REQUESTS");
    int warmups = (int)dp_config_get_int(config, "DP_BENCH_WARMUPS");
    int target_ms = (int)dp_config_get_int(config, "DP_BENCH_TARGET_MS");
    const char *required[] = {"DP_BENCH_ADMIN_URL",  "DP_BENCH_REGISTRY_URL",
                              "DP_BENCH_INTAKE_URL", "DP_BENCH_NOTIFY_URL",
                              "DP_BENCH_REPORT_URL", "DP_BENCH_CONSOLE_URL"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!*dp_config_get(config, required[i])) {
            fprintf(stderr, PROGRAM ": set %s (see --help)\n", required[i]);
            dp_config_destroy(&config);
            return 2;
        }
    if (dp_log_init(PROGRAM, dp_config_get(config, "DP_BENCH_LOG_LEVEL")) != 0) {
        fprintf(stderr, PROGRAM ": DP_BENCH_LOG_LEVEL must be debug, info, warning or error\n");
        dp_config_destroy(&config);
        return 2;
    }
    if (strcmp(mode, "auto") && strcmp(mode, "reload") && strcmp(mode, "skip")) {
        fprintf(stderr, PROGRAM ": DP_BENCH_LOAD must be auto, reload or skip\n");
        dp_config_destroy(&config);
        return 2;
    }
    snprintf(s_rare_word, sizeof s_rare_word, "%s%s", s_syllables[RARE_WORD / SYLLABLES],
             s_syllables[RARE_WORD % SYLLABLES]);

    /* 1. the data */
    PGconn *admin = bench_pg_connect(PROGRAM, dp_config_get(config, "DP_BENCH_ADMIN_URL"));
    double load_seconds = 0;
    int outcome = admin ? s_load(admin, mode, enquiries,
                                 dp_config_get_int(config, "DP_BENCH_CHUNK"), &load_seconds)
                        : -1;
    if (outcome == 0)
        s_print_data(admin, load_seconds);
    if (admin)
        PQfinish(admin);
    fflush(stdout);

    /* 2. the services, the account, the login */
    service_t services[SERVICES];
    memset(services, 0, sizeof services);
    int http_port = 0;
    browser_t browser = {0};
    char token[CONSOLE_TOKEN_TEXT] = "";
    if (outcome == 0)
        outcome = s_start_all(services, config, &http_port);
    if (outcome == 0)
        outcome = s_make_account(services[CONSOLE].endpoint);
    if (outcome == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        browser.curl = curl_easy_init();
        outcome = browser.curl ? 0 : -1;
    }
    if (outcome == 0) {
        snprintf(browser.base, sizeof browser.base, "http://127.0.0.1:%d", http_port);
        curl_easy_setopt(browser.curl, CURLOPT_WRITEFUNCTION, s_collect);
        curl_easy_setopt(browser.curl, CURLOPT_WRITEDATA, &browser);
        curl_easy_setopt(browser.curl, CURLOPT_ERRORBUFFER, browser.error);
        curl_easy_setopt(browser.curl, CURLOPT_COOKIEFILE, "");
        curl_easy_setopt(browser.curl, CURLOPT_TIMEOUT_MS, 60000L);
        curl_easy_setopt(browser.curl, CURLOPT_NOSIGNAL, 1L);
        outcome = s_login(&browser, token);
    }

    /* 3. the pages and their SQL, round after round */
    yard_t yard;
    memset(&yard, 0, sizeof yard);
    if (outcome == 0) {
        s_yard_tables(&yard);
        const char *role_urls[ROLES] = {dp_config_get(config, "DP_BENCH_CONSOLE_URL"),
                                        dp_config_get(config, "DP_BENCH_INTAKE_URL"),
                                        dp_config_get(config, "DP_BENCH_REGISTRY_URL")};
        for (int role = 0; outcome == 0 && role < ROLES; role++) {
            yard.db[role] = dp_db_new(role_urls[role], PROGRAM, yard.table, Y_STATEMENTS);
            if (!yard.db[role] || dp_db_connect(yard.db[role], 10000) != 0)
                outcome = -1;
        }
        console_token_hash(token, yard.session_hash);
        snprintf(yard.actor, sizeof yard.actor, "%s (unauthenticated)", BENCH_NAME);
    }
    int64_t *ids = outcome == 0 ? calloc((size_t)(warmups + runs), sizeof *ids) : NULL;
    if (outcome == 0 && !ids)
        outcome = -1;
    if (outcome == 0) {
        srand((unsigned)dp_config_get_int(config, "DP_BENCH_SEED"));
        for (int i = 0; i < warmups + runs; i++)
            ids[i] = 1 + (int64_t)((double)rand() / ((double)RAND_MAX + 1) * (double)enquiries);
        for (int i = 0; i < PAGES; i++) {
            page_t *page = &s_pages[i];
            if (page->kind == PAGE_QUEUE)
                s_queue_path(page);
            else if (page->kind == PAGE_NEXT)
                s_second_page(&browser, page);
            else if (page->kind == PAGE_PARTNERS)
                snprintf(page->path, sizeof page->path, "/partners");
            else
                snprintf(page->path, sizeof page->path, "/enquiries/<id>");
        }
        for (int round = 0; round < warmups + runs; round++) {
            bool timed = round >= warmups;
            for (int i = 0; i < PAGES; i++)
                if (!s_pages[i].error[0] && !s_pages[i].stopped)
                    s_request(&browser, &s_pages[i], ids[round], timed);
            for (int i = 0; i < PAGES; i++)
                if (!s_pages[i].alone_error[0] && !s_pages[i].stopped)
                    s_yardstick(&yard, &s_pages[i], ids[round], timed);
            for (int i = 0; i < PAGES; i++)
                s_maybe_stop(&s_pages[i], target_ms);
            if ((round + 1) % 20 == 0 || round + 1 == warmups + runs)
                fprintf(stderr, PROGRAM ": round %d of %d (%d warm-up)\n", round + 1,
                        warmups + runs, warmups);
        }
        s_print_table(config, runs, warmups, target_ms);
        const char *explain_path = dp_config_get(config, "DP_BENCH_EXPLAIN_FILE");
        FILE *explain = *explain_path ? fopen(explain_path, "w") : NULL;
        if (!explain)
            explain = stderr;
        for (int i = 0; i < PAGES; i++)
            if (!s_pages[i].error[0] && s_pages[i].p95 >= target_ms)
                s_explain(explain, config, &yard, &s_pages[i], ids[0]);
        if (explain != stderr)
            fclose(explain);
    }

    /* 4. stop everything */
    free(ids);
    for (int role = 0; role < ROLES; role++)
        dp_db_destroy(&yard.db[role]);
    for (int i = 0; i < PAGES; i++) {
        bench_samples_free(&s_pages[i].ours);
        bench_samples_free(&s_pages[i].alone);
    }
    if (browser.curl) {
        curl_easy_cleanup(browser.curl);
        curl_global_cleanup();
    }
    free(browser.body);
    s_stop_all(services);
    dp_config_destroy(&config);
    return outcome == 0 ? 0 : 1;
}
