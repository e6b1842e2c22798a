/* Every SQL statement of the reporting service. It connects as dp_report,
   which may only read. Each query returns the rows of one report table
   (PQclear the result), or NULL on a database failure. */
#ifndef REPORT_DB_H
#define REPORT_DB_H

#include "dp_db.h"

extern const dp_statement_t report_statements[];
extern const size_t report_statement_count;

typedef enum {
    /* overview: $1 as of */
    REPORT_PARTNERS_BY_KIND,
    REPORT_PARTNERS_BY_WAVE,
    REPORT_PARTNERS_BY_YEAR,
    /* cooperation: $1 as of, $2 period from, $3 period to */
    REPORT_PARTNER_AREA_CELLS,
    REPORT_AREA_SUMMARY,
    REPORT_ENGAGEMENTS_BY_FORM_AREA,
    REPORT_ENGAGEMENTS_BY_YEAR_FORM,
    REPORT_ENGAGEMENTS_BY_YEAR_AREA,
    /* enquiries: $1 from, $2 to, [$3 'week' | 'month'] */
    REPORT_ENQUIRY_BREAKDOWN,
    REPORT_ENQUIRIES_PER_PERIOD,
    REPORT_RESPONSE_TIMES,
    REPORT_RESPONSE_TIMES_PER_PERIOD,
    REPORT_BACKLOG_BY_AGE,
    REPORT_PAST_DUE,
    REPORT_QUERY_COUNT
} report_query_t;

/* Runs one report query with its parameters. */
PGresult *report_db_query(dp_db_t *db, report_query_t query, const char *const *params);

#endif
