#include "report_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_db.h"

/* ---- tables ------------------------------------------------------------------- */

static Dp__ReportTable *s_table(dp_arena_t *arena, const char *name, const char *title,
                                size_t columns, size_t rows)
{
    Dp__ReportTable *table = dp_arena_alloc(arena, sizeof *table);
    if (!table)
        return NULL;
    dp__report_table__init(table);
    table->name = dp_arena_strdup(arena, name);
    table->title = dp_arena_strdup(arena, title);
    table->columns = (char **)dp_arena_array(arena, columns);
    table->rows = (Dp__ReportRow **)dp_arena_array(arena, rows);
    return table->columns && table->rows ? table : NULL;
}

static Dp__ReportRow *s_row(dp_arena_t *arena, Dp__ReportTable *table, size_t cells)
{
    Dp__ReportRow *row = dp_arena_alloc(arena, sizeof *row);
    if (!row)
        return NULL;
    dp__report_row__init(row);
    row->cells = (char **)dp_arena_array(arena, cells);
    if (!row->cells)
        return NULL;
    row->n_cells = cells;
    for (size_t i = 0; i < cells; i++)
        row->cells[i] = "";
    table->rows[table->n_rows++] = row;
    return row;
}

/* A table with the result's columns (named by their SQL aliases) and rows. */
static Dp__ReportTable *s_table_from_result(dp_arena_t *arena, const PGresult *result,
                                            const char *name, const char *title)
{
    size_t columns = (size_t)PQnfields(result), rows = (size_t)PQntuples(result);
    Dp__ReportTable *table = s_table(arena, name, title, columns, rows);
    if (!table)
        return NULL;
    for (size_t c = 0; c < columns; c++)
        table->columns[table->n_columns++] = dp_arena_strdup(arena, PQfname(result, (int)c));
    for (size_t r = 0; r < rows; r++) {
        Dp__ReportRow *row = s_row(arena, table, columns);
        if (!row)
            return NULL;
        for (size_t c = 0; c < columns; c++)
            row->cells[c] = dp_arena_strdup(arena, PQgetvalue(result, (int)r, (int)c));
    }
    return table;
}

/* A report under construction. */
typedef struct {
    dp_db_t *db;        /* where the figures come from */
    dp_arena_t *arena;  /* where the report lives */
    Dp__Report *report; /* what is being built */
    size_t capacity;    /* room for tables */
} builder_t;

static int s_start(builder_t *builder, const char *name, const char *title, size_t tables)
{
    Dp__Report *report = dp_arena_alloc(builder->arena, sizeof *report);
    if (!report)
        return -1;
    dp__report__init(report);
    report->name = (char *)name;
    report->title = (char *)title;
    report->tables = (Dp__ReportTable **)dp_arena_array(builder->arena, tables);
    char *now = dp_arena_alloc(builder->arena, 32);
    if (!report->tables || !now)
        return -1;
    time_t seconds = time(NULL);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    strftime(now, 32, "%Y-%m-%dT%H:%M:%SZ", &utc);
    report->generated_at = now;
    builder->report = report;
    builder->capacity = tables;
    return 0;
}

static int s_add(builder_t *builder, Dp__ReportTable *table)
{
    if (!table || builder->report->n_tables >= builder->capacity)
        return -1;
    builder->report->tables[builder->report->n_tables++] = table;
    return 0;
}

/* Runs a query and adds its rows as a table. */
static int s_query_table(builder_t *builder, report_query_t query, const char *const *params,
                         const char *name, const char *title)
{
    PGresult *result = report_db_query(builder->db, query, params);
    if (!result)
        return -1;
    int outcome = s_add(builder, s_table_from_result(builder->arena, result, name, title));
    PQclear(result);
    return outcome;
}

/* A table that one query makes. */
typedef struct {
    report_query_t query; /* its rows */
    const char *name;     /* the table's name */
    const char *title;    /* and title */
} query_table_t;

/* s_query_table for each of `count` tables, with the same parameters. */
static int s_query_tables(builder_t *builder, const query_table_t *tables, size_t count,
                          const char *const *params)
{
    for (size_t i = 0; i < count; i++)
        if (s_query_table(builder, tables[i].query, params, tables[i].name, tables[i].title))
            return -1;
    return 0;
}

/* Stamps the report with its dates (NULL: a date it does not have) and hands it over. */
static int s_finish(builder_t *builder, const char *as_of, const char *from, const char *to,
                    Dp__Report **report)
{
    if (as_of)
        builder->report->as_of = dp_arena_strdup(builder->arena, as_of);
    if (from)
        builder->report->period_from = dp_arena_strdup(builder->arena, from);
    if (to)
        builder->report->period_to = dp_arena_strdup(builder->arena, to);
    *report = builder->report;
    return 0;
}

const Dp__ReportTable *report_find_table(const Dp__Report *report, const char *name)
{
    for (size_t i = 0; i < report->n_tables; i++)
        if (strcmp(report->tables[i]->name, name) == 0)
            return report->tables[i];
    return NULL;
}

/* ---- overview -------------------------------------------------------------------- */

int report_build_overview(dp_db_t *db, dp_arena_t *arena, const char *as_of, Dp__Report **report)
{
    static const query_table_t tables[] = {
        {REPORT_PARTNERS_BY_KIND, "by_kind", "Partners by kind (active and withdrawn)"},
        {REPORT_PARTNERS_BY_WAVE, "by_wave",
         "Partners by joining wave (dates at their known precision)"},
        {REPORT_PARTNERS_BY_YEAR, "by_year", "Growth: partners joining and withdrawing by year"}};
    builder_t builder = {.db = db, .arena = arena};
    const char *params[] = {as_of};
    if (s_start(&builder, "overview", "Partnership overview", 3) ||
        s_query_tables(&builder, tables, 3, params))
        return -1;
    return s_finish(&builder, as_of, NULL, NULL, report);
}

/* ---- cooperation ------------------------------------------------------------------- */

/* Partners down, areas across: "D" for declared, the number of engagements
   in the period, both, or nothing. */
static Dp__ReportTable *s_partner_area_matrix(dp_arena_t *arena, const PGresult *cells)
{
    /* Rows come ordered by partner, then area: the first partner's rows name the areas. */
    int rows = PQntuples(cells);
    size_t areas = 0;
    while ((int)areas < rows &&
           strcmp(PQgetvalue(cells, (int)areas, 0), PQgetvalue(cells, 0, 0)) == 0)
        areas++;
    size_t partners = areas ? (size_t)rows / areas : 0;
    Dp__ReportTable *table =
        s_table(arena, "partners_by_area",
                "Partners x areas (D = declared; a number = engagements in the period)", areas + 2,
                partners);
    if (!table)
        return NULL;
    table->columns[table->n_columns++] = "Partner";
    table->columns[table->n_columns++] = "Name";
    for (size_t a = 0; a < areas; a++)
        table->columns[table->n_columns++] = dp_arena_strdup(arena, PQgetvalue(cells, (int)a, 2));
    for (size_t p = 0; p < partners; p++) {
        Dp__ReportRow *row = s_row(arena, table, areas + 2);
        if (!row)
            return NULL;
        int first = (int)(p * areas);
        row->cells[0] = dp_arena_strdup(arena, PQgetvalue(cells, first, 0));
        row->cells[1] = dp_arena_strdup(arena, PQgetvalue(cells, first, 1));
        for (size_t a = 0; a < areas; a++) {
            bool declared = strcmp(PQgetvalue(cells, first + (int)a, 3), "t") == 0;
            const char *engaged = PQgetvalue(cells, first + (int)a, 4);
            bool any = strcmp(engaged, "0") != 0;
            char cell[32];
            snprintf(cell, sizeof cell, "%s%s%s", declared ? "D" : "", declared && any ? " " : "",
                     any ? engaged : "");
            row->cells[a + 2] = dp_arena_strdup(arena, cell);
        }
    }
    return table;
}

int report_build_cooperation(dp_db_t *db, dp_arena_t *arena, const char *as_of, const char *from,
                             const char *to, Dp__Report **report)
{
    static const query_table_t tables[] = {
        {REPORT_AREA_SUMMARY, "areas", "Areas: partners declaring, partners engaged, engagements"},
        {REPORT_ENGAGEMENTS_BY_FORM_AREA, "engagements_by_form_area",
         "Engagements by form and area"},
        {REPORT_ENGAGEMENTS_BY_YEAR_FORM, "engagements_by_year_form",
         "Engagements by year and form"},
        {REPORT_ENGAGEMENTS_BY_YEAR_AREA, "engagements_by_year_area",
         "Engagements by year and area"}};
    builder_t builder = {.db = db, .arena = arena};
    const char *params[] = {as_of, from, to};
    if (s_start(&builder, "cooperation", "Cooperation", 5))
        return -1;
    PGresult *cells = report_db_query(db, REPORT_PARTNER_AREA_CELLS, params);
    if (!cells)
        return -1;
    int outcome = s_add(&builder, s_partner_area_matrix(arena, cells));
    PQclear(cells);
    if (outcome || s_query_tables(&builder, tables, 4, params))
        return -1;
    return s_finish(&builder, as_of, from, to, report);
}

/* ---- enquiries ----------------------------------------------------------------------- */

/* The breakdown rows (dimension, value, now, before) as one table per dimension. */
static int s_breakdowns(builder_t *builder, const PGresult *result)
{
    static const char *dimensions[][3] = {{"status", "by_status", "Status"},
                                          {"kind", "by_kind", "Kind"},
                                          {"source", "by_source", "Source"},
                                          {"sender", "by_sender", "Sender"}};
    for (size_t d = 0; d < sizeof dimensions / sizeof *dimensions; d++) {
        int rows = 0;
        for (int r = 0; r < PQntuples(result); r++)
            rows += strcmp(PQgetvalue(result, r, 0), dimensions[d][0]) == 0;
        char title[96];
        snprintf(title, sizeof title, "Enquiries by %s, with the same period a year earlier",
                 dimensions[d][0]);
        Dp__ReportTable *table = s_table(builder->arena, dimensions[d][1], title, 4, (size_t)rows);
        if (!table)
            return -1;
        const char *columns[] = {dimensions[d][2], "This period", "Year before", "Change"};
        for (size_t c = 0; c < 4; c++)
            table->columns[table->n_columns++] = (char *)columns[c];
        for (int r = 0; r < PQntuples(result); r++) {
            if (strcmp(PQgetvalue(result, r, 0), dimensions[d][0]) != 0)
                continue;
            Dp__ReportRow *row = s_row(builder->arena, table, 4);
            if (!row)
                return -1;
            long now = atol(PQgetvalue(result, r, 2)), before = atol(PQgetvalue(result, r, 3));
            char change[32];
            if (before)
                snprintf(change, sizeof change, "%+.0f%%",
                         100.0 * (double)(now - before) / (double)before);
            else
                snprintf(change, sizeof change, "%s", now ? "new" : "");
            row->cells[0] = dp_arena_strdup(builder->arena, PQgetvalue(result, r, 1));
            row->cells[1] = dp_arena_strdup(builder->arena, PQgetvalue(result, r, 2));
            row->cells[2] = dp_arena_strdup(builder->arena, PQgetvalue(result, r, 3));
            row->cells[3] = dp_arena_strdup(builder->arena, change);
        }
        if (s_add(builder, table))
            return -1;
    }
    return 0;
}

int report_build_enquiries(dp_db_t *db, dp_arena_t *arena, const char *from, const char *to,
                           const char *granularity, Dp__Report **report)
{
    builder_t builder = {.db = db, .arena = arena};
    const char *period[] = {from, to};
    const char *buckets[] = {from, to, granularity};
    if (s_start(&builder, "enquiries", "Enquiries", 10))
        return -1;
    PGresult *breakdown = report_db_query(db, REPORT_ENQUIRY_BREAKDOWN, period);
    if (!breakdown)
        return -1;
    int outcome = s_breakdowns(&builder, breakdown);
    PQclear(breakdown);
    char per_title[64], times_title[80];
    snprintf(per_title, sizeof per_title, "Enquiries received per %s", granularity);
    snprintf(times_title, sizeof times_title, "First-response time per %s", granularity);
    if (outcome ||
        s_query_table(&builder, REPORT_ENQUIRIES_PER_PERIOD, buckets, "per_period", per_title))
        return -1;
    PGresult *times = report_db_query(db, REPORT_RESPONSE_TIMES, period);
    if (!times)
        return -1;
    Dp__ReportTable *table = s_table_from_result(arena, times, "response_times",
                                                 "Response and resolution times (hours), this "
                                                 "period and a year earlier");
    PQclear(times);
    static const char *time_columns[] = {"Measure",      "Count",         "Median",    "p90",
                                         "Count before", "Median before", "p90 before"};
    for (size_t c = 0; table && c < table->n_columns && c < 7; c++)
        table->columns[c] = (char *)time_columns[c];
    static const query_table_t queues[] = {
        {REPORT_BACKLOG_BY_AGE, "backlog", "Backlog: enquiries awaiting a first answer, by age"},
        {REPORT_PAST_DUE, "past_due",
         "Enquiries past their first-response due date (the 500 oldest at most)"}};
    if (s_add(&builder, table) ||
        s_query_table(&builder, REPORT_RESPONSE_TIMES_PER_PERIOD, buckets,
                      "response_times_per_period", times_title) ||
        s_query_tables(&builder, queues, 2, NULL))
        return -1;
    return s_finish(&builder, NULL, from, to, report);
}
