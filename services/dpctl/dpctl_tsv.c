#include "dpctl_tsv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits line at tabs into columns; returns the count, or -1 when too many. */
static int s_split(char *line, char **columns)
{
    size_t count = 0;
    for (size_t i = 0; i < DPCTL_TSV_MAX_COLUMNS; i++)
        columns[i] = "";
    char *cursor = line;
    while (cursor) {
        if (count == DPCTL_TSV_MAX_COLUMNS)
            return -1;
        columns[count++] = cursor;
        cursor = strchr(cursor, '\t');
        if (cursor)
            *cursor++ = '\0';
    }
    return (int)count;
}

static int s_read_rows(FILE *file, const char *path, dpctl_tsv_row_fn *each, void *data)
{
    char *line = NULL, where[512];
    size_t room = 0;
    int outcome = 0;
    for (size_t number = 1; outcome == 0 && getline(&line, &room, file) >= 0; number++) {
        line[strcspn(line, "\r\n")] = '\0';
        if (*line == '\0' || *line == '#')
            continue;
        snprintf(where, sizeof where, "%s:%zu", path, number);
        char *columns[DPCTL_TSV_MAX_COLUMNS];
        int count = s_split(line, columns);
        if (count < 0) {
            fprintf(stderr, "dpctl: %s: more than %d columns\n", where, DPCTL_TSV_MAX_COLUMNS);
            outcome = -1;
        } else
            outcome = each(data, columns, (size_t)count, where) == 0 ? 0 : -1;
    }
    if (outcome == 0 && ferror(file)) {
        fprintf(stderr, "dpctl: cannot read %s: %s\n", path, strerror(errno));
        outcome = -1;
    }
    free(line);
    return outcome;
}

int dpctl_tsv_read(const char *path, dpctl_tsv_row_fn *each, void *data)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "dpctl: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    int outcome = s_read_rows(file, path, each, data);
    fclose(file);
    return outcome;
}
