/* dp-bench-report: times the reporting service on a large database.

   1. Load (as the admin, in the bench's own database, never in "dp"): a
      realistic 3 years of enquiries (DP_BENCH_ENQUIRIES, default one
      million, stored in the order they arrive; the rate doubles over the
      years; statuses by age, kinds, sources,
      about 20% from partners with the partner's e-mail domain, first
      responses and resolutions for answered and closed ones, due dates),
      declared areas for every partner and DP_BENCH_ENGAGEMENTS engagements
      over the partners the registry holds (seed them first), each with one
      INSERT ... SELECT FROM generate_series; then VACUUM ANALYZE of what
      autovacuum would analyse in service. A database already loaded with
      the same sizes today is reused.
   2. Time each report request over ZeroMQ (overview, cooperation,
      enquiries for 90 days by week, the dashboard; with DP_BENCH_LONG also
      a year and 3 years by month) and the dashboard page over HTTP, in
      rounds (every request once per round): DP_BENCH_WARMUPS rounds first,
      so that the service's prepared statements have settled on the plans
      PostgreSQL keeps (from a statement's sixth execution on it may keep a
      generic plan), then DP_BENCH_RUNS timed rounds: median and max.
   3. Optionally (DP_BENCH_REPORT_URL) time each SQL query of report_db.c
      alone, as dp_report with the parameters the service would use, with
      custom plans and with the generic plan, and EXPLAIN ANALYZE those
      slower than DP_BENCH_EXPLAIN_MS.

   Prints tables on stdout; what it does on stderr. It reports, it never judges. */
#include <curl/curl.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "dp_client.h"
#include "dp_codec.h"
#include "dp_db.h"
#include "report.pb-c.h"
#include "report_db.h"

#define PROGRAM "dp-bench-report"

static const dp_setting_t s_settings[] = {
    {"DP_BENCH_ADMIN_URL", "",
     "libpq URL of the superuser on the bench's own database "
     "(its name must start with dp_bench)"},
    {"DP_BENCH_REPORT_URL", "",
     "libpq URL of dp_report on that database: times each SQL query "
     "alone (empty: not)"},
    {"DP_BENCH_ENDPOINT", "tcp://127.0.0.1:7105", "the reporting service (ROUTER)"},
    {"DP_BENCH_HTTP_URL", "http://127.0.0.1:8080/", "its dashboard page"},
    {"DP_BENCH_LOAD", "auto", "auto: load unless loaded today with these sizes; reload; skip"},
    {"DP_BENCH_ENQUIRIES", "1000000", "enquiries to load", true, 1000, 100000000},
    {"DP_BENCH_ENGAGEMENTS", "10000", "engagements to load", true, 0, 10000000},
    {"DP_BENCH_CHUNK", "100000", "enquiries per INSERT statement", true, 1000, 10000000},
    {"DP_BENCH_WARMUPS", "5",
     "warm-up rounds (every request once per round) before the timed "
     "ones: the service's prepared statements settle on their plans",
     true, 0, 1000},
    {"DP_BENCH_RUNS", "5", "timed rounds; each SQL query alone: timed runs after one warm-up", true,
     1, 1000},
    {"DP_BENCH_LONG", "1", "1: also the enquiries of a year and of 3 years (by month)", true, 0, 1},
    {"DP_BENCH_TIMEOUT_MS", "120000", "one request's time-out", true, 1000, 3600000},
    {"DP_BENCH_EXPLAIN_MS", "200",
     "EXPLAIN ANALYZE the queries whose median is above this "
     "(with DP_BENCH_REPORT_URL; 0: all)",
     true, 0, 3600000},
    {"DP_BENCH_EXPLAIN_FILE", "", "where the plans go (empty: stderr)"},
    {"DP_BENCH_RESULTS_FILE", "",
     "appends one line per request: \"report request=SLUG ours_ms=... "
     "sql_alone_ms=...\" (empty: none)"},
    {"DP_BENCH_REPORT_TARGET_MS", "1000", "target of one report, printed beside it", true, 1,
     3600000},
    {"DP_BENCH_PAGE_TARGET_MS", "2000", "target of the dashboard, printed beside it", true, 1,
     3600000},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

/* ---- the load ----------------------------------------------------------------------------- */

static const char *s_guard_sql = "SELECT (current_database() LIKE 'dp\\_bench%')::int";

static const char *s_marker_schema_sql = "CREATE SCHEMA IF NOT EXISTS bench_report";
/* What was loaded, by which version of the load below (raise it when the
   data it makes changes). */
#define LOAD_VERSION "2"
static const char *s_marker_sql =
    "CREATE TABLE IF NOT EXISTS bench_report.load ("
    "  enquiries bigint NOT NULL, engagements bigint NOT NULL, version int NOT NULL,"
    "  loaded_at timestamptz NOT NULL DEFAULT now())";

/* 1 when the database holds exactly this load, made today. */
static const char *s_loaded_sql =
    "SELECT count(*) FROM bench_report.load l WHERE l.enquiries = $1::bigint "
    "AND l.engagements = $2::bigint AND l.version = " LOAD_VERSION " "
    "AND l.loaded_at::date = current_date "
    "AND (SELECT count(*) FROM intake.enquiry) = $1::bigint "
    "AND (SELECT count(*) FROM registry.engagement) = $2::bigint";

static const char *s_clear_sql =
    "TRUNCATE bench_report.load, intake.enquiry_note, intake.enquiry_transition, "
    "intake.enquiry, registry.engagement, registry.partner_area RESTART IDENTITY";

/* Enquiries $1 .. $2 of $3 (ids and keys follow the number). They arrive in
   time order, as in service, so the table's physical order follows
   received_at; the daily rate doubles over the three years (enquiry n of N
   is received at the n/N quantile, give or take ten minutes). Random draws
   come from the session's generator, seeded once: a load is reproducible. */
static const char *s_enquiries_sql =
    "INSERT INTO intake.enquiry (source, idempotency_key, content_hash, sender_name, email, "
    "  organisation, country, kind, subject, subject_key, body, language, areas, received_at, "
    "  stored_at, status, partner_id, partner_slug, suggested_areas, quarantine_reason, assignee, "
    "  due_on, first_response_at, resolved_at, updated_at) "
    "WITH partners AS ("
    "  SELECT array_agg(p.id ORDER BY p.id) AS ids, array_agg(p.slug ORDER BY p.id) AS slugs, "
    "    array_agg((SELECT min(d.domain) FROM registry.partner_domain d "
    "               WHERE d.partner_id = p.id) ORDER BY p.id) AS domains, count(*)::int AS n "
    "  FROM registry.partner p), "
    "areas AS (SELECT array_agg(slug ORDER BY slug) AS slugs, count(*)::int AS n "
    "          FROM registry.area), "
    "subjects AS (SELECT ARRAY["
    "  'Question about the data protection training for municipalities', "
    "  'Proposal: joint workshop on digital literacy in schools', "
    "  'Participation in the conference on artificial intelligence and human rights', "
    "  'Request for materials on online child protection', "
    "  'Interview request about the fight against cybercrime', "
    "  'Membership of the Digital Partnership', "
    "  'Election integrity and disinformation: expert contact', "
    "  'Follow-up on our cooperation proposal'] AS texts), "
    "drawn AS ("
    "  SELECT g, random() AS r_status, random() AS r_kind, random() AS r_partner, "
    "    random() AS r_pick, random() AS r_source, random() AS r_response, "
    "    random() AS r_resolution, random() AS r_area, random() AS r_jitter "
    "  FROM generate_series($1::bigint, $2::bigint) g), "
    /* The inverse of the distribution whose density grows from 1 to 2. */
    "aged AS ("
    "  SELECT d.*, LEAST(now(), now() - interval '3 years' + interval '3 years' * "
    "    (sqrt(1 + 3 * (d.g - 0.5) / $3::float8) - 1) "
    "    + interval '10 minutes' * (d.r_jitter - 0.5)) AS received_at FROM drawn d), "
    "staged AS ("
    "  SELECT a.*, extract(epoch FROM now() - a.received_at) / 86400 AS age_days, "
    "    CASE WHEN a.r_partner < 0.2 THEN 1 + floor(a.r_pick * (SELECT n FROM partners))::int "
    "    END AS partner_index FROM aged a), "
    /* Young enquiries are mostly open; old ones closed, a few left behind. */
    "statused AS ("
    "  SELECT s.*, CASE "
    "    WHEN s.age_days < 2 THEN CASE WHEN s.r_status < 0.30 THEN 'received' "
    "      WHEN s.r_status < 0.50 THEN 'triaged' WHEN s.r_status < 0.75 THEN 'assigned' "
    "      WHEN s.r_status < 0.92 THEN 'answered' WHEN s.r_status < 0.96 THEN 'closed' "
    "      WHEN s.r_status < 0.98 THEN 'quarantined' ELSE 'rejected' END "
    "    WHEN s.age_days < 14 THEN CASE WHEN s.r_status < 0.03 THEN 'received' "
    "      WHEN s.r_status < 0.06 THEN 'triaged' WHEN s.r_status < 0.18 THEN 'assigned' "
    "      WHEN s.r_status < 0.55 THEN 'answered' WHEN s.r_status < 0.93 THEN 'closed' "
    "      WHEN s.r_status < 0.96 THEN 'quarantined' ELSE 'rejected' END "
    "    WHEN s.age_days < 60 THEN CASE WHEN s.r_status < 0.005 THEN 'assigned' "
    "      WHEN s.r_status < 0.12 THEN 'answered' WHEN s.r_status < 0.95 THEN 'closed' "
    "      WHEN s.r_status < 0.975 THEN 'quarantined' ELSE 'rejected' END "
    "    ELSE CASE WHEN s.r_status < 0.0002 THEN 'assigned' "
    "      WHEN s.r_status < 0.03 THEN 'answered' WHEN s.r_status < 0.965 THEN 'closed' "
    "      WHEN s.r_status < 0.98 THEN 'quarantined' ELSE 'rejected' END "
    "  END AS status, "
    "  CASE WHEN s.r_kind < 0.40 THEN 'information-request' "
    "    WHEN s.r_kind < 0.60 THEN 'cooperation-proposal' "
    "    WHEN s.r_kind < 0.75 THEN 'event-participation' "
    "    WHEN s.r_kind < 0.85 THEN 'membership-application' "
    "    WHEN s.r_kind < 0.95 THEN 'media' ELSE 'other' END AS kind, "
    /* A first response after 2 to 240 hours (median about a day), never in the future. */
    "  LEAST(s.received_at + make_interval(secs => 7200 * exp(s.r_response * ln(120))), "
    "        now() - (now() - s.received_at) * 0.1) AS responded_at "
    "  FROM staged s) "
    "SELECT "
    "  CASE WHEN t.r_source < 0.55 THEN 'website' WHEN t.r_source < 0.90 THEN 'email-gateway' "
    "    WHEN t.r_source < 0.97 THEN 'events-portal' ELSE 'dpctl' END, "
    "  'bench-' || t.g, lpad(to_hex(t.g * 2654435761), 40, '0'), 'Sender ' || t.g, "
    "  'sender.' || t.g || '@' || CASE WHEN t.partner_index IS NOT NULL "
    "    THEN (SELECT domains[t.partner_index] FROM partners) "
    "    ELSE (ARRAY['gmail.com', 'example.org', 'uni-wien.ac.at', 'gov.pl', 'web.de', "
    "                'orange.fr', 'outlook.com', 'ngo.example.net'])[1 + t.g % 8] END, "
    "  CASE WHEN t.partner_index IS NOT NULL THEN (SELECT slugs[t.partner_index] FROM partners) "
    "    ELSE (ARRAY['', 'Università di Bologna', 'Fundacja Cyfrowa', 'Stadt Zürich', '', "
    "                'Observatoire du numérique', 'Ministry of Justice'])[1 + t.g % 7] END, "
    "  (ARRAY['FR', 'DE', 'IT', 'ES', 'PL', 'NL', 'BE', 'AT', 'CH', 'IE', 'GR', 'PT', 'SE', "
    "         'FI', 'TR', 'UA', 'RO', 'CZ', 'GB', 'US'])[1 + (t.g * 7) % 20], "
    "  t.kind, "
    "  (SELECT texts[1 + (t.g * 3) % 8] FROM subjects), "
    "  (SELECT lower(texts[1 + (t.g * 3) % 8]) FROM subjects), "
    "  (ARRAY['Dear Sir or Madam, does your programme offer training for local authorities on "
    "the protection of personal data? We would need material in French and German for about "
    "forty officials. Kind regards.', "
    "    'Hello, we work with teachers in twelve schools and would welcome a partnership on "
    "digital literacy. Who should we contact, and is there a call for proposals this year?', "
    "    'Good afternoon, may two colleagues join the next event remotely? They follow the "
    "work on artificial intelligence closely. Thanks in advance.', "
    "    'We are a small association and would like to translate your guide on online child "
    "protection into Romanian. May we? Under which licence is it published?', "
    "    'I am a journalist preparing a feature on cybercrime and the Budapest Convention and "
    "would like to interview someone from the programme next week.'])[1 + t.g % 5], "
    "  (ARRAY['fr', 'de', 'it', 'es', 'pl', 'en', 'en', 'nl'])[1 + t.g % 8], "
    "  CASE WHEN t.r_area < 0.25 THEN ARRAY[(SELECT slugs[1 + t.g % n] FROM areas)] "
    "    ELSE '{}' END, "
    "  t.received_at, t.received_at + interval '2 seconds', t.status, "
    "  CASE WHEN t.partner_index IS NOT NULL THEN (SELECT ids[t.partner_index] FROM partners) END, "
    "  CASE WHEN t.partner_index IS NOT NULL THEN (SELECT slugs[t.partner_index] FROM partners) "
    "    ELSE '' END, "
    "  CASE WHEN t.r_area < 0.40 THEN ARRAY[(SELECT slugs[1 + (t.g * 7) % n] FROM areas)] "
    "    ELSE '{}' END, "
    "  CASE WHEN t.status = 'quarantined' THEN 'sender over its rate limit' ELSE '' END, "
    "  CASE WHEN t.status IN ('assigned', 'answered', 'closed') "
    "    THEN (ARRAY['anna', 'ben', 'clara', 'dmitri', 'eva', 'farid'])[1 + t.g % 6] "
    "    ELSE '' END, "
    "  (t.received_at + CASE t.kind WHEN 'media' THEN interval '3 days' "
    "    WHEN 'membership-application' THEN interval '30 days' "
    "    ELSE interval '10 days' END)::date, "
    "  CASE WHEN t.status IN ('answered', 'closed') THEN t.responded_at END, "
    "  CASE WHEN t.status = 'closed' THEN LEAST(t.responded_at + "
    "      make_interval(secs => 3600 * exp(t.r_resolution * ln(720))), now()) "
    "    WHEN t.status = 'rejected' THEN t.received_at + interval '1 hour' END, "
    "  now() "
    "FROM statused t";

/* Every partner declares three or four areas. */
static const char *s_partner_areas_sql =
    "INSERT INTO registry.partner_area (partner_id, area_slug) "
    "SELECT p.id, a.slug FROM registry.partner p "
    "CROSS JOIN (SELECT slug, row_number() OVER (ORDER BY slug) AS rank FROM registry.area) a "
    "WHERE (p.id * 7 + a.rank * 3) % 10 < 3 + p.id % 2 "
    "ON CONFLICT DO NOTHING";

/* $1 engagements: a partner, a form, mostly one of its declared areas,
   starting between its joining and today; most end within half a year. */
static const char *s_engagements_sql =
    "WITH partners AS ("
    "  SELECT array_agg(id ORDER BY id) AS ids, array_agg(joined_on ORDER BY id) AS joined, "
    "    count(*)::int AS n FROM registry.partner), "
    "forms AS (SELECT array_agg(slug ORDER BY slug) AS slugs, count(*)::int AS n "
    "          FROM registry.form), "
    "areas AS (SELECT array_agg(slug ORDER BY slug) AS slugs, count(*)::int AS n "
    "          FROM registry.area), "
    "drawn AS ("
    "  SELECT g, 1 + floor(random() * (SELECT n FROM partners))::int AS p, random() AS r_form, "
    "    random() AS r_area, random() AS r_start, random() AS r_end "
    "  FROM generate_series(1, $1::int) g), "
    "placed AS ("
    "  SELECT d.*, (SELECT ids[d.p] FROM partners) AS partner_id, "
    "    (SELECT joined[d.p] FROM partners) AS joined_on FROM drawn d) "
    "INSERT INTO registry.engagement (partner_id, form_slug, area_slug, title, starts_on, "
    "  ends_on, note) "
    "SELECT x.partner_id, (SELECT slugs[1 + floor(x.r_form * n)::int] FROM forms), "
    "  COALESCE(CASE WHEN x.r_area < 0.7 THEN (SELECT pa.area_slug FROM registry.partner_area pa "
    "    WHERE pa.partner_id = x.partner_id ORDER BY pa.area_slug "
    "    OFFSET floor(x.r_area / 0.7 * 3)::int LIMIT 1) END, "
    "    (SELECT slugs[1 + floor(x.r_area * n)::int] FROM areas)), "
    "  'Engagement ' || x.g, x.starts_on, "
    "  CASE WHEN x.r_end < 0.6 THEN x.starts_on + floor(x.r_end * 300)::int END, '' "
    "FROM (SELECT p.*, p.joined_on + floor(p.r_start * (current_date - p.joined_on))::int "
    "        AS starts_on FROM placed p) x";

static int s_step(PGconn *admin, const char *what, const char *sql, int count,
                  const char *const *params)
{
    int64_t start = bench_now_us();
    int outcome = bench_pg_exec(PROGRAM, admin, sql, count, params);
    if (outcome == 0)
        fprintf(stderr, PROGRAM ": %s in %.1f s\n", what, (double)(bench_now_us() - start) / 1e6);
    return outcome;
}

/* Loads unless the database holds this load already (mode "auto").
   Returns 0, or -1 after printing why. *seconds is the load's time (0 when reused). */
static int s_load(PGconn *admin, const char *mode, long enquiries, long engagements, long chunk,
                  double *seconds)
{
    *seconds = 0;
    if (bench_pg_int(PROGRAM, admin, s_guard_sql, 0, NULL, 0) != 1) {
        fprintf(stderr, PROGRAM ": the database's name must start with dp_bench: it is emptied\n");
        return -1;
    }
    if (bench_pg_int(PROGRAM, admin, "SELECT count(*) FROM registry.partner", 0, NULL, 0) < 1) {
        fprintf(stderr, PROGRAM ": no partners: seed the registry first (dpctl seed db/seed)\n");
        return -1;
    }
    if (strcmp(mode, "skip") == 0)
        return 0;
    if (bench_pg_exec(PROGRAM, admin, s_marker_schema_sql, 0, NULL) != 0 ||
        bench_pg_exec(PROGRAM, admin, s_marker_sql, 0, NULL) != 0)
        return -1;
    char enquiry_text[32], engagement_text[32];
    snprintf(enquiry_text, sizeof enquiry_text, "%ld", enquiries);
    snprintf(engagement_text, sizeof engagement_text, "%ld", engagements);
    const char *sizes[] = {enquiry_text, engagement_text};
    if (strcmp(mode, "auto") == 0 && bench_pg_int(PROGRAM, admin, s_loaded_sql, 2, sizes, 0) == 1) {
        fprintf(stderr,
                PROGRAM ": reusing the data loaded today (%ld enquiries, %ld engagements)\n",
                enquiries, engagements);
        return 0;
    }
    int64_t start = bench_now_us();
    if (s_step(admin, "emptied the enquiries and engagements", s_clear_sql, 0, NULL) ||
        bench_pg_exec(PROGRAM, admin, "SELECT setseed(0.4211)", 0, NULL))
        return -1;
    for (long from = 1; from <= enquiries; from += chunk) {
        long to = from + chunk - 1 < enquiries ? from + chunk - 1 : enquiries;
        char from_text[32], to_text[32], what[96];
        snprintf(from_text, sizeof from_text, "%ld", from);
        snprintf(to_text, sizeof to_text, "%ld", to);
        snprintf(what, sizeof what, "enquiries %ld to %ld", from, to);
        const char *range[] = {from_text, to_text, enquiry_text};
        if (s_step(admin, what, s_enquiries_sql, 3, range))
            return -1;
    }
    const char *count[] = {engagement_text};
    if (s_step(admin, "declared areas", s_partner_areas_sql, 0, NULL) ||
        (engagements > 0 && s_step(admin, "engagements", s_engagements_sql, 1, count)) ||
        /* What autovacuum would do: the tables with more than 50 changes.
           The small registry tables (partners, names, areas, forms) are
           left without statistics, as in service. */
        s_step(admin, "VACUUM ANALYZE", "VACUUM (ANALYZE) intake.enquiry", 0, NULL) ||
        s_step(admin, "ANALYZE the engagements",
               "ANALYZE registry.engagement, "
               "registry.partner_area",
               0, NULL) ||
        s_step(admin, "CHECKPOINT", "CHECKPOINT", 0, NULL) ||
        bench_pg_exec(PROGRAM, admin,
                      "INSERT INTO bench_report.load (enquiries, engagements, version) "
                      "VALUES ($1::bigint, $2::bigint, " LOAD_VERSION ")",
                      2, sizes))
        return -1;
    *seconds = (double)(bench_now_us() - start) / 1e6;
    fprintf(stderr, PROGRAM ": loaded in %.1f s\n", *seconds);
    return 0;
}

/* ---- dates -------------------------------------------------------------------------------- */

/* Today (UTC, as the service reckons it) shifted by `days`, as YYYY-MM-DD. */
static void s_day(char out[11], int days)
{
    time_t now = time(NULL) + (time_t)days * 86400;
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(out, 11, "%Y-%m-%d", &utc);
}

/* ---- the requests ------------------------------------------------------------------------- */

typedef enum { OVERVIEW, COOPERATION, ENQUIRIES, DASHBOARD, PAGE } kind_t;

/* The report groups of "the queries alone"; a request's yardstick is the
   sum of the medians of its groups' queries, each run alone. */
typedef enum {
    GROUP_OVERVIEW,
    GROUP_COOPERATION,
    GROUP_ENQUIRIES_90D,
    GROUP_ENQUIRIES_1Y,
    GROUP_ENQUIRIES_3Y,
    GROUP_COUNT
} group_t;

typedef struct {
    const char *name; /* in the table */
    const char *slug; /* in the results file */
    kind_t kind;
    int from_days; /* enquiries: period_from = today + from_days (0: the default) */
    Dp__ReportGranularity granularity;
    bench_samples_t times; /* microseconds */
    size_t bytes;          /* of the last reply (the report or the page) */
    bool empty;            /* a reply was OK but held no report */
    double median_ms;      /* of the timed rounds, once they ran */
    unsigned groups;       /* bit g set: group g's queries make up the yardstick */
    char error[800];       /* the first failure */
} request_t;

typedef struct {
    dp_client_t *client;
    CURL *curl;
    char http_url[256];
} target_t;

static size_t s_count_bytes(char *data, size_t size, size_t count, void *arg)
{
    (void)data;
    *(size_t *)arg += size * count;
    return size * count;
}

/* One request; returns 0 with its time (microseconds) and reply size. */
static int s_call(target_t *target, request_t *request, int64_t *elapsed_us)
{
    char from[11] = "";
    if (request->from_days)
        s_day(from, request->from_days);
    Dp__OverviewReportRequest overview = DP__OVERVIEW_REPORT_REQUEST__INIT;
    Dp__CooperationReportRequest cooperation = DP__COOPERATION_REPORT_REQUEST__INIT;
    Dp__EnquiriesReportRequest enquiries = DP__ENQUIRIES_REPORT_REQUEST__INIT;
    Dp__DashboardRequest dashboard = DP__DASHBOARD_REQUEST__INIT;
    enquiries.period_from = from;
    enquiries.granularity = request->granularity;
    const ProtobufCMessage *message = &overview.base;
    const ProtobufCMessageDescriptor *reply_type = &dp__report_reply__descriptor;
    if (request->kind == COOPERATION)
        message = &cooperation.base;
    else if (request->kind == ENQUIRIES)
        message = &enquiries.base;
    else if (request->kind == DASHBOARD) {
        message = &dashboard.base;
        reply_type = &dp__dashboard_reply__descriptor;
    }
    int64_t start = bench_now_us();
    if (request->kind == PAGE) {
        size_t bytes = 0;
        long status = 0;
        curl_easy_setopt(target->curl, CURLOPT_URL, target->http_url);
        curl_easy_setopt(target->curl, CURLOPT_WRITEFUNCTION, s_count_bytes);
        curl_easy_setopt(target->curl, CURLOPT_WRITEDATA, &bytes);
        CURLcode code = curl_easy_perform(target->curl);
        *elapsed_us = bench_now_us() - start;
        curl_easy_getinfo(target->curl, CURLINFO_RESPONSE_CODE, &status);
        if (code != CURLE_OK || status != 200) {
            snprintf(request->error, sizeof request->error, "GET %s: %s, HTTP %ld",
                     target->http_url, curl_easy_strerror(code), status);
            return -1;
        }
        request->bytes = bytes;
        return 0;
    }
    ProtobufCMessage *reply = NULL;
    dp_status_t status;
    int outcome = dp_client_call(target->client, message, reply_type, &reply, &status);
    *elapsed_us = bench_now_us() - start;
    if (outcome != 0 || status.code != DP__CODE__CODE_OK || !reply) {
        snprintf(request->error, sizeof request->error, "%s: %s", dp_code_name(status.code),
                 status.message);
        dp_message_free(&reply);
        return -1;
    }
    request->bytes = protobuf_c_message_get_packed_size(reply);
    /* An OK reply without its report is timed all the same, and flagged. */
    if (request->kind != DASHBOARD && !((Dp__ReportReply *)reply)->report)
        request->empty = true;
    dp_message_free(&reply);
    return 0;
}

/* ---- the queries alone -------------------------------------------------------------------- */

/* A session as the service has one: dp_report, every statement prepared
   with untyped text parameters (as dp_db.c does), plan_cache_mode forced to
   custom plans (planned for the values, as the first five executions of a
   prepared statement are) or to the generic plan (what PostgreSQL may keep
   from the sixth execution on, when its estimated cost looks no worse). */
typedef struct {
    PGconn *conn;
    const char *mode; /* "custom" or "generic" */
} session_t;

static int s_session_open(session_t *session, const char *url, const char *mode)
{
    session->mode = mode;
    session->conn = bench_pg_connect(PROGRAM, url);
    if (!session->conn)
        return -1;
    char set[80];
    snprintf(set, sizeof set, "SET plan_cache_mode = force_%s_plan", mode);
    if (bench_pg_exec(PROGRAM, session->conn, set, 0, NULL) != 0)
        return -1;
    for (size_t q = 0; q < report_statement_count; q++) {
        PGresult *result =
            PQprepare(session->conn, report_statements[q].name, report_statements[q].sql,
                      report_statements[q].param_count, NULL);
        if (PQresultStatus(result) != PGRES_COMMAND_OK) {
            fprintf(stderr, PROGRAM ": cannot prepare %s: %s", report_statements[q].name,
                    PQerrorMessage(session->conn));
            PQclear(result);
            return -1;
        }
        PQclear(result);
    }
    return 0;
}

/* Runs statement q once; returns its time in microseconds (-1 on failure)
   and its row count. */
static int64_t s_session_run(session_t *session, report_query_t q, const char *const *params,
                             int *rows)
{
    int64_t start = bench_now_us();
    PGresult *result = PQexecPrepared(session->conn, report_statements[q].name,
                                      report_statements[q].param_count, params, NULL, NULL, 0);
    int64_t elapsed = bench_now_us() - start;
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        fprintf(stderr, PROGRAM ": %s (%s plan) failed: %s", report_statements[q].name,
                session->mode, PQerrorMessage(session->conn));
        PQclear(result);
        return -1;
    }
    *rows = PQntuples(result);
    PQclear(result);
    return elapsed;
}

/* EXPLAIN ANALYZE of the prepared statement with these values, in the
   session's plan mode. The values are this program's own dates and words. */
static void s_session_explain(session_t *session, report_query_t q, const char *const *params,
                              const char *report, double median, FILE *out)
{
    char sql[512];
    int used = snprintf(sql, sizeof sql, "EXPLAIN (ANALYZE, BUFFERS) EXECUTE %s",
                        report_statements[q].name);
    for (int p = 0; p < report_statements[q].param_count; p++)
        used +=
            snprintf(sql + used, sizeof sql - (size_t)used, "%s'%s'", p ? ", " : "(", params[p]);
    if (report_statements[q].param_count)
        snprintf(sql + used, sizeof sql - (size_t)used, ")");
    fprintf(out, "==== %s: %s, %s plan (median %.1f ms): %s\n", report, report_statements[q].name,
            session->mode, median, sql);
    PGresult *plan = bench_pg_query(PROGRAM, session->conn, sql, 0, NULL);
    for (int r = 0; plan && r < PQntuples(plan); r++)
        fprintf(out, "%s\n", PQgetvalue(plan, r, 0));
    if (!plan)
        fprintf(out, "(EXPLAIN failed)\n");
    fflush(out);
    PQclear(plan);
}

typedef struct {
    char as_of[11], cooperation_from[11], from[11], to[11], granularity[8];
} dates_t;

/* The parameters report_build.c gives query q. */
static int s_params(report_query_t q, const dates_t *dates, const char *out[3])
{
    if (q <= REPORT_PARTNERS_BY_YEAR) {
        out[0] = dates->as_of;
        return 1;
    }
    if (q <= REPORT_ENGAGEMENTS_BY_YEAR_AREA) {
        out[0] = dates->as_of, out[1] = dates->cooperation_from, out[2] = dates->to;
        return 3;
    }
    if (q == REPORT_ENQUIRY_BREAKDOWN || q == REPORT_RESPONSE_TIMES) {
        out[0] = dates->from, out[1] = dates->to;
        return 2;
    }
    if (q == REPORT_ENQUIRIES_PER_PERIOD || q == REPORT_RESPONSE_TIMES_PER_PERIOD) {
        out[0] = dates->from, out[1] = dates->to, out[2] = dates->granularity;
        return 3;
    }
    return 0;
}

/* Times every query of the reports alone with custom and with generic
   plans, and EXPLAINs those slower than explain_ms. Adds each group's
   custom-plan medians into alone_ms[group] (what a client running the same
   SQL itself with its parameters would wait: libpq's unnamed statements are
   planned for their values); -1 where a query failed or did not run. */
static void s_time_queries(const char *url, int runs, bool long_periods, long explain_ms,
                           FILE *explain, double alone_ms[GROUP_COUNT])
{
    for (int g = 0; g < GROUP_COUNT; g++)
        alone_ms[g] = -1;
    session_t sessions[2] = {{0}};
    if (s_session_open(&sessions[0], url, "custom") != 0 ||
        s_session_open(&sessions[1], url, "generic") != 0) {
        for (int i = 0; i < 2; i++)
            if (sessions[i].conn)
                PQfinish(sessions[i].conn);
        return;
    }
    dates_t recent = {.cooperation_from = "2017-11-08", .granularity = "week"};
    s_day(recent.as_of, 0);
    s_day(recent.to, 0);
    s_day(recent.from, -90);
    dates_t year = recent;
    s_day(year.from, -365);
    snprintf(year.granularity, sizeof year.granularity, "month");
    dates_t years = year;
    s_day(years.from, -3 * 365 - 1);
    /* The enquiries report runs every query of its range (past-due and the
       backlog too), as the service does. */
    struct {
        const char *report;
        const dates_t *dates;
        report_query_t first, last;
    } groups[GROUP_COUNT] = {
        [GROUP_OVERVIEW] = {"overview", &recent, REPORT_PARTNERS_BY_KIND, REPORT_PARTNERS_BY_YEAR},
        [GROUP_COOPERATION] = {"cooperation", &recent, REPORT_PARTNER_AREA_CELLS,
                               REPORT_ENGAGEMENTS_BY_YEAR_AREA},
        [GROUP_ENQUIRIES_90D] = {"enquiries 90 d", &recent, REPORT_ENQUIRY_BREAKDOWN,
                                 REPORT_PAST_DUE},
        [GROUP_ENQUIRIES_1Y] = {"enquiries 1 y", &year, REPORT_ENQUIRY_BREAKDOWN, REPORT_PAST_DUE},
        [GROUP_ENQUIRIES_3Y] = {"enquiries 3 y", &years, REPORT_ENQUIRY_BREAKDOWN, REPORT_PAST_DUE},
    };
    size_t group_count = long_periods ? GROUP_COUNT : GROUP_ENQUIRIES_90D + 1;
    printf("\nEach SQL query alone (as dp_report, prepared as the service does; %d runs after a "
           "warm-up)\n",
           runs);
    printf("%-16s  %-26s  %6s  %11s  %9s  %12s  %10s\n", "report", "query", "rows", "custom plan",
           "max ms", "generic plan", "max ms");
    printf("%-16s  %-26s  %6s  %11s  %9s  %12s  %10s\n", "", "", "", "median ms", "", "median ms",
           "");
    for (size_t g = 0; g < group_count; g++)
        for (int q = (int)groups[g].first; q <= (int)groups[g].last; q++) {
            const char *params[3] = {0};
            s_params((report_query_t)q, groups[g].dates, params);
            double median[2] = {0}, max[2] = {0};
            int rows = 0;
            bool failed = false;
            for (int m = 0; m < 2 && !failed; m++) {
                bench_samples_t times = {0};
                for (int run = 0; run <= runs; run++) {
                    int64_t elapsed = s_session_run(&sessions[m], (report_query_t)q, params, &rows);
                    if (elapsed < 0) {
                        failed = true;
                        break;
                    }
                    if (run > 0)
                        bench_samples_add(&times, elapsed);
                }
                bench_samples_sort(&times);
                median[m] = bench_percentile_ms(&times, 50);
                max[m] = bench_percentile_ms(&times, 100);
                bench_samples_free(&times);
            }
            printf("%-16s  %-26s  %6d  %11.1f  %9.1f  %12.1f  %10.1f%s\n", groups[g].report,
                   report_statements[q].name, rows, median[0], max[0], median[1], max[1],
                   failed ? "  FAILED" : "");
            if (q == (int)groups[g].first)
                alone_ms[g] = 0;
            if (failed || alone_ms[g] < 0)
                alone_ms[g] = -1;
            else
                alone_ms[g] += median[0];
            fflush(stdout);
            for (int m = 0; m < 2 && !failed; m++)
                if (median[m] >= (double)explain_ms)
                    s_session_explain(&sessions[m], (report_query_t)q, params, groups[g].report,
                                      median[m], explain);
        }
    for (int i = 0; i < 2; i++)
        PQfinish(sessions[i].conn);
}

/* Each request beside its yardstick: the same SQL, run alone by a client
   of PostgreSQL (the sum of its queries' medians). The ratio is the
   yardstick's time over ours: 1.00 would be a service that adds nothing. */
static void s_compare(const request_t *requests, size_t count, const double *alone_ms,
                      const char *results_path)
{
    FILE *results = *results_path ? fopen(results_path, "a") : NULL;
    if (*results_path && !results)
        fprintf(stderr, PROGRAM ": cannot append to %s\n", results_path);
    printf("\nEach request against its SQL alone (the sum of its queries' custom-plan medians "
           "above; x = SQL alone / ours)\n");
    printf("%-28s  %10s  %12s  %6s\n", "report", "ours ms", "SQL alone ms", "x");
    for (size_t i = 0; i < count; i++) {
        const request_t *request = &requests[i];
        double alone = 0;
        for (int g = 0; g < GROUP_COUNT && alone >= 0; g++)
            if (request->groups & 1u << g)
                alone = alone_ms[g] < 0 ? -1 : alone + alone_ms[g];
        if (request->median_ms < 0 || alone < 0) {
            printf("%-28s  %10s  %12s  %6s\n", request->name, "-", "-", "-");
            continue;
        }
        printf("%-28s  %10.1f  %12.1f  %6.2f\n", request->name, request->median_ms, alone,
               request->median_ms > 0 ? alone / request->median_ms : 0);
        if (results)
            fprintf(results, "report request=%s ours_ms=%.3f sql_alone_ms=%.3f\n", request->slug,
                    request->median_ms, alone);
    }
    if (results)
        fclose(results);
}

/* ---- main --------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config = bench_config_load(
        PROGRAM, "loads a large database and times every report and the dashboard", s_settings,
        SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    const char *admin_url = dp_config_get(config, "DP_BENCH_ADMIN_URL");
    const char *mode = dp_config_get(config, "DP_BENCH_LOAD");
    long enquiries = dp_config_get_int(config, "DP_BENCH_ENQUIRIES");
    long engagements = dp_config_get_int(config, "DP_BENCH_ENGAGEMENTS");
    int runs = (int)dp_config_get_int(config, "DP_BENCH_RUNS");
    int warmups = (int)dp_config_get_int(config, "DP_BENCH_WARMUPS");
    bool long_periods = dp_config_get_int(config, "DP_BENCH_LONG") == 1;
    long report_target = dp_config_get_int(config, "DP_BENCH_REPORT_TARGET_MS");
    long page_target = dp_config_get_int(config, "DP_BENCH_PAGE_TARGET_MS");
    if (strcmp(mode, "auto") && strcmp(mode, "reload") && strcmp(mode, "skip")) {
        fprintf(stderr, PROGRAM ": DP_BENCH_LOAD must be auto, reload or skip\n");
        dp_config_destroy(&config);
        return 2;
    }
    if (!*admin_url) {
        fprintf(stderr, PROGRAM ": set DP_BENCH_ADMIN_URL (see --help)\n");
        dp_config_destroy(&config);
        return 2;
    }

    /* 1. the data */
    PGconn *admin = bench_pg_connect(PROGRAM, admin_url);
    double load_seconds = 0;
    int outcome = admin ? s_load(admin, mode, enquiries, engagements,
                                 dp_config_get_int(config, "DP_BENCH_CHUNK"), &load_seconds)
                        : -1;
    if (outcome == 0) {
        PGresult *sizes = bench_pg_query(
            PROGRAM, admin,
            "SELECT (SELECT count(*) FROM intake.enquiry), "
            "(SELECT count(*) FROM intake.enquiry WHERE partner_id IS NOT NULL), "
            "(SELECT count(*) FROM intake.enquiry WHERE status IN ('received', 'triaged', "
            "  'assigned')), "
            "(SELECT count(*) FROM intake.enquiry WHERE received_at >= now() - interval '90 "
            "days'), "
            "(SELECT count(*) FROM registry.engagement), (SELECT count(*) FROM registry.partner), "
            "pg_size_pretty(pg_total_relation_size('intake.enquiry')), "
            "(SELECT to_char(min(received_at), 'YYYY-MM-DD') || ' to ' || "
            "  to_char(max(received_at), 'YYYY-MM-DD') FROM intake.enquiry)",
            0, NULL);
        if (sizes)
            printf("data:       %s enquiries (%s from partners, %s open, %s in the last 90 days; "
                   "%s, table and indexes), received %s;\n"
                   "            %s engagements over %s partners%s\n",
                   PQgetvalue(sizes, 0, 0), PQgetvalue(sizes, 0, 1), PQgetvalue(sizes, 0, 2),
                   PQgetvalue(sizes, 0, 3), PQgetvalue(sizes, 0, 6), PQgetvalue(sizes, 0, 7),
                   PQgetvalue(sizes, 0, 4), PQgetvalue(sizes, 0, 5),
                   load_seconds > 0 ? "" : " (loaded before: reused)");
        if (load_seconds > 0)
            printf("load:       %.1f s (INSERT ... SELECT FROM generate_series as the admin, "
                   "then VACUUM ANALYZE)\n",
                   load_seconds);
        PQclear(sizes);
        PGresult *indexes = bench_pg_query(
            PROGRAM, admin,
            "SELECT string_agg(indexname, ', ' ORDER BY indexname) FROM pg_indexes "
            "WHERE schemaname IN ('intake', 'registry') AND tablename IN ('enquiry', 'engagement')",
            0, NULL);
        if (indexes)
            printf("indexes:    %s\n", PQgetvalue(indexes, 0, 0));
        PQclear(indexes);
    }
    if (admin)
        PQfinish(admin);

    /* 2. the requests, round after round: every request once per round */
    /* The dashboard builds the overview, the cooperation report and the
       enquiries of 90 days by week. */
    const unsigned dashboard_groups =
        1u << GROUP_OVERVIEW | 1u << GROUP_COOPERATION | 1u << GROUP_ENQUIRIES_90D;
    request_t requests[] = {
        {"overview", "overview", OVERVIEW, .groups = 1u << GROUP_OVERVIEW},
        {"cooperation", "cooperation", COOPERATION, .groups = 1u << GROUP_COOPERATION},
        {"enquiries 90 days by week", "enquiries-90d", ENQUIRIES,
         .groups = 1u << GROUP_ENQUIRIES_90D},
        {"dashboard (ZeroMQ)", "dashboard-zmq", DASHBOARD, .groups = dashboard_groups},
        {"dashboard page GET / (HTTP)", "dashboard-http", PAGE, .groups = dashboard_groups},
        {"enquiries 1 year by month", "enquiries-1y", ENQUIRIES, -365,
         DP__REPORT_GRANULARITY__REPORT_GRANULARITY_MONTH, .groups = 1u << GROUP_ENQUIRIES_1Y},
        {"enquiries 3 years by month", "enquiries-3y", ENQUIRIES, -3 * 365 - 1,
         DP__REPORT_GRANULARITY__REPORT_GRANULARITY_MONTH, .groups = 1u << GROUP_ENQUIRIES_3Y},
    };
    size_t request_count = sizeof requests / sizeof *requests - (long_periods ? 0 : 2);
    target_t target = {0};
    snprintf(target.http_url, sizeof target.http_url, "%s",
             dp_config_get(config, "DP_BENCH_HTTP_URL"));
    int timeout_ms = (int)dp_config_get_int(config, "DP_BENCH_TIMEOUT_MS");
    if (outcome == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        target.client = dp_client_new(dp_config_get(config, "DP_BENCH_ENDPOINT"), timeout_ms, 1);
        target.curl = curl_easy_init();
        if (!target.client || !target.curl)
            outcome = -1;
        else
            curl_easy_setopt(target.curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    }
    for (int round = 0; outcome == 0 && round < warmups + runs; round++)
        for (size_t i = 0; i < request_count; i++) {
            request_t *request = &requests[i];
            int64_t elapsed = 0;
            if (request->error[0] || s_call(&target, request, &elapsed) != 0)
                continue;
            if (round >= warmups)
                bench_samples_add(&request->times, elapsed);
            fprintf(stderr, PROGRAM ": %s, %s round %d: %.1f ms\n", request->name,
                    round < warmups ? "warm-up" : "timed",
                    round < warmups ? round + 1 : round - warmups + 1, (double)elapsed / 1000);
        }
    if (outcome == 0) {
        printf("\nRequests (%d timed rounds after %d warm-up rounds, every request once per round; "
               "targets reported, not asserted)\n",
               runs, warmups);
        printf("%-28s  %10s  %10s  %10s  %9s  %s\n", "report", "median ms", "max ms", "target ms",
               "bytes", "met?");
        for (size_t i = 0; i < request_count; i++) {
            request_t *request = &requests[i];
            bench_samples_sort(&request->times);
            long target_ms =
                request->kind == DASHBOARD || request->kind == PAGE ? page_target : report_target;
            double median = bench_percentile_ms(&request->times, 50),
                   max = bench_percentile_ms(&request->times, 100);
            request->median_ms = request->error[0] ? -1 : median;
            if (request->error[0])
                printf("%-28s  %10s  %10s  %10ld  %9s  FAILED: %s\n", request->name, "-", "-",
                       target_ms, "-", request->error);
            else
                printf("%-28s  %10.1f  %10.1f  %10ld  %9zu  %s%s\n", request->name, median, max,
                       target_ms, request->bytes,
                       max < (double)target_ms      ? "met"
                       : median < (double)target_ms ? "median met, max NOT"
                                                    : "NOT met",
                       request->empty ? " (the OK reply held no report)" : "");
            bench_samples_free(&request->times);
        }
        fflush(stdout);
    }
    curl_easy_cleanup(target.curl);
    dp_client_destroy(&target.client);
    if (outcome == 0)
        curl_global_cleanup();

    /* 3. the queries alone */
    const char *report_url = dp_config_get(config, "DP_BENCH_REPORT_URL");
    const char *explain_path = dp_config_get(config, "DP_BENCH_EXPLAIN_FILE");
    if (outcome == 0 && *report_url) {
        FILE *explain = *explain_path ? fopen(explain_path, "w") : stderr;
        if (!explain) {
            fprintf(stderr, PROGRAM ": cannot write %s\n", explain_path);
            explain = stderr;
        }
        double alone_ms[GROUP_COUNT];
        s_time_queries(report_url, runs, long_periods,
                       dp_config_get_int(config, "DP_BENCH_EXPLAIN_MS"), explain, alone_ms);
        if (explain != stderr)
            fclose(explain);
        s_compare(requests, request_count, alone_ms,
                  dp_config_get(config, "DP_BENCH_RESULTS_FILE"));
    }
    dp_config_destroy(&config);
    return outcome == 0 ? 0 : 1;
}
