/* The three reports, each built from its queries as a dp.Report of tables. */
#ifndef REPORT_BUILD_H
#define REPORT_BUILD_H

#include "dp_arena.h"
#include "dp_db.h"
#include "report.pb-c.h"

/* Dates are YYYY-MM-DD (validated by the caller). Return 0, or -1 on a
   database failure (see dp_db_failure). The report lives in the arena. */
int report_build_overview(dp_db_t *db, dp_arena_t *arena, const char *as_of, Dp__Report **report);
int report_build_cooperation(dp_db_t *db, dp_arena_t *arena, const char *as_of, const char *from,
                             const char *to, Dp__Report **report);
int report_build_enquiries(dp_db_t *db, dp_arena_t *arena, const char *from, const char *to,
                           const char *granularity, Dp__Report **report);

/* The table of a report with that name, or NULL. */
const Dp__ReportTable *report_find_table(const Dp__Report *report, const char *name);

#endif
