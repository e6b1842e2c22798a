/* Reports (proto/report.proto) as CSV and JSON, shared by dpctl and the
   reporting service's HTTP exports. */
#ifndef DP_REPORT_FORMAT_H
#define DP_REPORT_FORMAT_H

#include <jansson.h>
#include <stdio.h>

#include "report.pb-c.h"

/* One table as CSV (RFC 4180: quoted when needed, CRLF line ends), with a
   header row. When with_table_column, every row starts with the table name. */
void dp_report_table_csv(FILE *out, const Dp__ReportTable *table, int with_table_column);
/* Every table of the report as CSV blocks, each with its table column and
   header, separated by an empty line. `only` (or NULL) picks one table by
   name, printed without the table column. Returns -1 when `only` is unknown. */
int dp_report_csv(FILE *out, const Dp__Report *report, const char *only);
/* The report as JSON: its fields and tables, rows as objects keyed by column. */
json_t *dp_report_json(const Dp__Report *report);

#endif
