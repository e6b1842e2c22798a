#include "report_db.h"

/* The name a partner had on $1, and a partner a member on $1: the
   registry's rules (its functions, migration 0010), not written out here. */
#define NAME_AS_OF "(SELECT n.name FROM registry.partner_name_on(p.id, $1::date) n)"
#define ACTIVE_ON_AS_OF "registry.partner_active_on(p.joined_on, p.withdrawn_on, $1::date)"

/* Enquiries received in the period [$1, $2] or in the same period a year earlier. */
#define BOTH_PERIODS                                                                               \
    "((e.received_at >= $1::date AND e.received_at < $2::date + 1) "                               \
    " OR (e.received_at >= $1::date - interval '1 year' "                                          \
    "     AND e.received_at < $2::date + 1 - interval '1 year'))"
#define IN_PERIOD "(e.received_at >= $1::date AND e.received_at < $2::date + 1)"

/* Awaiting a first answer. */
#define OPEN_STATUSES "('received', 'triaged', 'assigned')"

/* Buckets of the period: weeks start on Monday. $3 is 'week' or 'month'. */
#define BUCKETS                                                                                    \
    "generate_series(date_trunc($3, $1::date::timestamptz), $2::date::timestamptz, "               \
    "  ('1 ' || $3)::interval) AS b(bucket)"

const dp_statement_t report_statements[] = {
    [REPORT_PARTNERS_BY_KIND] =
        {"partners_by_kind",
         "SELECT COALESCE(p.kind, 'total') AS \"Kind\", "
         "  count(*) FILTER (WHERE " ACTIVE_ON_AS_OF ") AS \"Active\", "
         "  count(*) FILTER (WHERE p.withdrawn_on <= $1::date) AS \"Withdrawn\", "
         "  count(*) AS \"Joined\" "
         "FROM registry.partner p WHERE p.joined_on <= $1::date "
         "GROUP BY ROLLUP (p.kind) ORDER BY p.kind NULLS LAST",
         1},
    [REPORT_PARTNERS_BY_WAVE] =
        {"partners_by_wave",
         "SELECT CASE p.joined_precision WHEN 'day' THEN to_char(p.joined_on, 'YYYY-MM-DD') "
         "  WHEN 'month' THEN to_char(p.joined_on, 'YYYY-MM') "
         "  ELSE to_char(p.joined_on, 'YYYY') END AS \"Wave\", "
         "  count(*) AS \"Partners\", "
         "  count(*) FILTER (WHERE p.kind = 'company') AS \"Companies\", "
         "  count(*) FILTER (WHERE p.kind = 'association') AS \"Associations\", "
         "  string_agg(" NAME_AS_OF " || CASE WHEN p.withdrawn_on <= $1::date "
         "    THEN ' (withdrawn)' ELSE '' END, '; ' ORDER BY p.id) AS \"Names then\" "
         "FROM registry.partner p WHERE p.joined_on <= $1::date "
         "GROUP BY p.joined_on, p.joined_precision ORDER BY p.joined_on, p.joined_precision",
         1},
    [REPORT_PARTNERS_BY_YEAR] =
        {"partners_by_year",
         "SELECT y.year AS \"Year\", "
         "  (SELECT count(*) FROM registry.partner p WHERE p.joined_on <= $1::date "
         "    AND extract(year FROM p.joined_on) = y.year) AS \"Joined\", "
         "  (SELECT count(*) FROM registry.partner p WHERE p.withdrawn_on <= $1::date "
         "    AND extract(year FROM p.withdrawn_on) = y.year) AS \"Withdrawn\", "
         "  (SELECT count(*) FROM registry.partner p "
         "    WHERE registry.partner_active_on(p.joined_on, p.withdrawn_on, "
         "      LEAST(make_date(y.year, 12, 31), $1::date))) "
         "    AS \"Partners at year end\" "
         "FROM generate_series((SELECT min(extract(year FROM joined_on))::int "
         "                      FROM registry.partner WHERE joined_on <= $1::date), "
         "                     extract(year FROM $1::date)::int) AS y(year) "
         "ORDER BY y.year",
         1},
    [REPORT_PARTNER_AREA_CELLS] =
        {"partner_area_cells",
         "SELECT p.slug, " NAME_AS_OF ", a.slug, "
         "  EXISTS (SELECT 1 FROM registry.partner_area pa "
         "    WHERE pa.partner_id = p.id AND pa.area_slug = a.slug), "
         "  (SELECT count(*) FROM registry.engagement e WHERE e.partner_id = p.id "
         "    AND e.area_slug = a.slug AND e.starts_on BETWEEN $2::date AND $3::date) "
         "FROM registry.partner p CROSS JOIN registry.area a "
         "WHERE " ACTIVE_ON_AS_OF " ORDER BY p.id, a.created_at, a.slug",
         3},
    [REPORT_AREA_SUMMARY] =
        {"area_summary",
         "SELECT a.slug AS \"Area\", a.label AS \"Label\", "
         "  (SELECT count(*) FROM registry.partner_area pa JOIN registry.partner p "
         "    ON p.id = pa.partner_id WHERE pa.area_slug = a.slug AND " ACTIVE_ON_AS_OF ") "
         "    AS \"Partners declaring\", "
         "  (SELECT count(DISTINCT e.partner_id) FROM registry.engagement e "
         "    WHERE e.area_slug = a.slug AND e.starts_on BETWEEN $2::date AND $3::date) "
         "    AS \"Partners engaged\", "
         "  (SELECT count(*) FROM registry.engagement e "
         "    WHERE e.area_slug = a.slug AND e.starts_on BETWEEN $2::date AND $3::date) "
         "    AS \"Engagements\" "
         "FROM registry.area a WHERE $1::date IS NOT NULL ORDER BY a.created_at, a.slug",
         3},
    [REPORT_ENGAGEMENTS_BY_FORM_AREA] =
        {"engagements_by_form_area",
         "SELECT f.slug AS \"Form\", a.slug AS \"Area\", count(e.id) AS \"Engagements\" "
         "FROM registry.form f CROSS JOIN registry.area a "
         "LEFT JOIN registry.engagement e ON e.form_slug = f.slug AND e.area_slug = a.slug "
         "  AND e.starts_on BETWEEN $2::date AND $3::date "
         "WHERE $1::date IS NOT NULL "
         "GROUP BY f.slug, a.slug, f.created_at, a.created_at "
         "ORDER BY f.created_at, f.slug, a.created_at, a.slug",
         3},
    [REPORT_ENGAGEMENTS_BY_YEAR_FORM] =
        {"engagements_by_year_form",
         "SELECT extract(year FROM e.starts_on)::int AS \"Year\", e.form_slug AS \"Form\", "
         "  count(*) AS \"Engagements\" FROM registry.engagement e "
         "WHERE e.starts_on BETWEEN $2::date AND $3::date AND $1::date IS NOT NULL "
         "GROUP BY 1, 2 ORDER BY 1, 2",
         3},
    [REPORT_ENGAGEMENTS_BY_YEAR_AREA] =
        {"engagements_by_year_area",
         "SELECT extract(year FROM e.starts_on)::int AS \"Year\", e.area_slug AS \"Area\", "
         "  count(*) AS \"Engagements\" FROM registry.engagement e "
         "WHERE e.starts_on BETWEEN $2::date AND $3::date AND $1::date IS NOT NULL "
         "GROUP BY 1, 2 ORDER BY 1, 2",
         3},
    /* One scan gives every breakdown: dimension, value, this period, a year before. */
    /* One hashed pass counts the rows per (status, kind, source, sender)
       cell, a few hundred at most; the grouping sets then add up the cells,
       not the enquiries (2 to 2.5 times faster over a year or more than
       grouping sets over every row). */
    [REPORT_ENQUIRY_BREAKDOWN] =
        {"enquiry_breakdown",
         "WITH cells AS ("
         "  SELECT e.status, e.kind, e.source, "
         "    CASE WHEN e.partner_id IS NULL THEN 'non-partner' ELSE 'partner' END AS sender, "
         "    count(*) FILTER (WHERE " IN_PERIOD ") AS now, "
         "    count(*) FILTER (WHERE NOT " IN_PERIOD ") AS before "
         "  FROM intake.enquiry e WHERE " BOTH_PERIODS " "
         "  GROUP BY 1, 2, 3, 4) "
         "SELECT CASE WHEN GROUPING(status) = 0 THEN 'status' WHEN GROUPING(kind) = 0 THEN 'kind' "
         "  WHEN GROUPING(source) = 0 THEN 'source' ELSE 'sender' END, "
         "  COALESCE(status, kind, source, sender), sum(now)::bigint, sum(before)::bigint "
         "FROM cells GROUP BY GROUPING SETS ((status), (kind), (source), (sender)) "
         "ORDER BY 1, 3 DESC, 2",
         2},
    [REPORT_ENQUIRIES_PER_PERIOD] =
        {"enquiries_per_period",
         "SELECT to_char(b.bucket, 'YYYY-MM-DD') AS \"Period from\", "
         "  count(e.id) AS \"Received\", "
         "  count(e.id) FILTER (WHERE e.partner_id IS NOT NULL) AS \"From partners\", "
         "  count(e.id) FILTER (WHERE e.status = 'quarantined') AS \"Quarantined\" "
         "FROM " BUCKETS " LEFT JOIN intake.enquiry e ON e.received_at >= b.bucket "
         "  AND e.received_at < b.bucket + ('1 ' || $3)::interval AND " IN_PERIOD " "
         "GROUP BY b.bucket ORDER BY b.bucket",
         3},
    /* Both percentiles of a measure come from one sort (an array of
       fractions); FILTER splits the periods without sorting the rows by
       period first. Hours as double precision (date_part): extract()
       computes numeric, several times slower over a year of enquiries. */
    [REPORT_RESPONSE_TIMES] =
        {"response_times",
         "WITH scope AS ("
         "  SELECT " IN_PERIOD " AS current, "
         "    date_part('epoch', e.first_response_at - e.received_at) / 3600 AS response, "
         "    date_part('epoch', e.resolved_at - e.received_at) / 3600 AS resolution "
         "  FROM intake.enquiry e WHERE " BOTH_PERIODS "), "
         "periods AS ("
         "  SELECT count(response) FILTER (WHERE current) AS responses_now, "
         "    percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response) "
         "      FILTER (WHERE current AND response IS NOT NULL) AS response_now, "
         "    count(response) FILTER (WHERE NOT current) AS responses_before, "
         "    percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response) "
         "      FILTER (WHERE NOT current AND response IS NOT NULL) AS response_before, "
         "    count(resolution) FILTER (WHERE current) AS resolutions_now, "
         "    percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution) "
         "      FILTER (WHERE current AND resolution IS NOT NULL) AS resolution_now, "
         "    count(resolution) FILTER (WHERE NOT current) AS resolutions_before, "
         "    percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution) "
         "      FILTER (WHERE NOT current AND resolution IS NOT NULL) AS resolution_before "
         "  FROM scope) "
         "SELECT 'first response (hours)', responses_now, "
         "  round(response_now[1]::numeric, 1), round(response_now[2]::numeric, 1), "
         "  responses_before, "
         "  round(response_before[1]::numeric, 1), round(response_before[2]::numeric, 1) "
         "FROM periods "
         "UNION ALL "
         "SELECT 'resolution (hours)', resolutions_now, "
         "  round(resolution_now[1]::numeric, 1), round(resolution_now[2]::numeric, 1), "
         "  resolutions_before, "
         "  round(resolution_before[1]::numeric, 1), round(resolution_before[2]::numeric, 1) "
         "FROM periods",
         2},
    [REPORT_RESPONSE_TIMES_PER_PERIOD] =
        {"response_times_per_period",
         "SELECT to_char(p.bucket, 'YYYY-MM-DD') AS \"Period from\", p.answered AS \"Answered\", "
         "  COALESCE(round(p.hours[1]::numeric, 1)::text, '') AS \"Median first response (h)\", "
         "  COALESCE(round(p.hours[2]::numeric, 1)::text, '') AS \"p90 first response (h)\" "
         "FROM (SELECT b.bucket, count(e.first_response_at) AS answered, "
         "        percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY "
         "          date_part('epoch', e.first_response_at - e.received_at) / 3600) AS hours "
         "      FROM " BUCKETS " LEFT JOIN intake.enquiry e ON e.received_at >= b.bucket "
         "        AND e.received_at < b.bucket + ('1 ' || $3)::interval AND " IN_PERIOD " "
         "        AND e.first_response_at IS NOT NULL "
         "      GROUP BY b.bucket) p "
         "ORDER BY p.bucket",
         3},
    [REPORT_BACKLOG_BY_AGE] =
        {"backlog_by_age",
         "SELECT a.label AS \"Age\", count(e.id) AS \"Open enquiries\" "
         "FROM (VALUES (1, '0-2 days', 0, 3), (2, '3-7 days', 3, 8), (3, '8-30 days', 8, 31), "
         "             (4, '31-90 days', 31, 91), (5, 'over 90 days', 91, 1000000)) "
         "  AS a(position, label, low, high) "
         "LEFT JOIN intake.enquiry e ON e.status IN " OPEN_STATUSES " "
         "  AND e.received_at <= now() - make_interval(days => a.low) "
         "  AND e.received_at > now() - make_interval(days => a.high) "
         "GROUP BY a.position, a.label ORDER BY a.position",
         0},
    /* No assignee: the reports are figures, served without authentication
       on the dashboard, and dp_report cannot read staff names (0009). At
       most the 500 oldest, so that a backlog cannot make the report grow
       without end. */
    [REPORT_PAST_DUE] =
        {"past_due",
         "SELECT e.id AS \"Enquiry\", to_char(e.received_at, 'YYYY-MM-DD') AS \"Received\", "
         "  e.kind AS \"Kind\", e.status AS \"Status\", "
         "  to_char(e.due_on, 'YYYY-MM-DD') AS \"Due\", current_date - e.due_on AS \"Days late\" "
         "FROM intake.enquiry e WHERE e.status IN " OPEN_STATUSES " AND e.due_on < current_date "
         "ORDER BY e.due_on, e.id LIMIT 500",
         0},
};
const size_t report_statement_count = REPORT_QUERY_COUNT;

PGresult *report_db_query(dp_db_t *db, report_query_t query, const char *const *params)
{
    return dp_db_run(db, (int)query, params);
}
