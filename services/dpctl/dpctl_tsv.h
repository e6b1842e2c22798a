/* Reading the tab-separated seed files. */
#ifndef DPCTL_TSV_H
#define DPCTL_TSV_H

#include <stddef.h>

enum { DPCTL_TSV_MAX_COLUMNS = 16 };

/* Called for each data row. columns has DPCTL_TSV_MAX_COLUMNS entries, ""
   past the row's last one; count is how many the row had. The strings may
   be changed in place. where is "path:line" for messages. Returns 0 to go on. */
typedef int(dpctl_tsv_row_fn)(void *data, char **columns, size_t count, const char *where);

/* Reads the file row by row, skipping blank lines and lines that start with
   '#'. Returns 0, or -1 when the file cannot be read (said on stderr) or a
   row's function refused. */
int dpctl_tsv_read(const char *path, dpctl_tsv_row_fn *each, void *data);

#endif
