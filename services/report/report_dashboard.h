/* The dashboard: one self-contained HTML page (inline CSS, SVG charts drawn
   here, no script, nothing fetched) from the three reports. */
#ifndef REPORT_DASHBOARD_H
#define REPORT_DASHBOARD_H

#include "report.pb-c.h"

/* Returns the page (malloc'd, the caller frees) or NULL when out of memory.
   links: whether to add links to the CSV/JSON exports (not in a mailed file). */
char *report_dashboard_html(const Dp__Report *overview, const Dp__Report *cooperation,
                            const Dp__Report *enquiries, int links);

#endif
