#include "dpctl_output.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dpctl.h"
#include "dpctl_proto.h"

struct _dpctl_table_t {
    size_t columns; /* cells in every row */
    char **cells;   /* rows one after the other, the headers first; owned */
    size_t rows;    /* rows stored, the header row included */
    size_t room;    /* rows that fit in cells before it must grow */
    bool *right;    /* right[c]: column c is right-aligned; NULL: none is */
};

dpctl_table_t *dpctl_table_new(const char *const *headers, size_t columns)
{
    dpctl_table_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->columns = columns;
    if (dpctl_table_add(self, headers) != 0)
        dpctl_table_destroy(&self);
    return self;
}

void dpctl_table_destroy(dpctl_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dpctl_table_t *self = *self_p;
    for (size_t i = 0; i < self->rows * self->columns; i++)
        free(self->cells[i]);
    free(self->cells);
    free(self->right);
    free(self);
    *self_p = NULL;
}

int dpctl_table_add(dpctl_table_t *self, const char *const *cells)
{
    if (self->rows == self->room) {
        size_t room = self->room ? self->room * 2 : 16;
        char **grown = realloc(self->cells, room * self->columns * sizeof *grown);
        if (!grown)
            return -1;
        self->cells = grown;
        self->room = room;
    }
    char **row = self->cells + self->rows * self->columns;
    for (size_t i = 0; i < self->columns; i++) {
        row[i] = strdup(cells[i] ? cells[i] : "");
        if (!row[i]) {
            while (i > 0)
                free(row[--i]);
            return -1;
        }
        for (char *p = row[i]; *p; p++)
            if (*p == '\t' || *p == '\r' || *p == '\n')
                *p = ' ';
    }
    self->rows++;
    return 0;
}

/* Characters in UTF-8 text: every byte but continuation bytes. */
static size_t s_width(const char *text)
{
    size_t width = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        width += (*p & 0xc0) != 0x80;
    return width;
}

void dpctl_table_print(const dpctl_table_t *self, FILE *out)
{
    size_t *widths = calloc(self->columns, sizeof *widths);
    if (!widths)
        return;
    for (size_t i = 0; i < self->rows * self->columns; i++) {
        size_t width = s_width(self->cells[i]);
        if (width > widths[i % self->columns])
            widths[i % self->columns] = width;
    }
    for (size_t row = 0; row < self->rows; row++) {
        for (size_t column = 0; column < self->columns; column++) {
            const char *cell = self->cells[row * self->columns + column];
            bool last = column + 1 == self->columns;
            bool right = self->right && self->right[column];
            size_t gap = widths[column] - s_width(cell);
            size_t before = right && !(last && !*cell) ? gap : 0;
            size_t after = last ? 0 : (right ? 0 : gap) + 2;
            fprintf(out, "%*s%s%*s", (int)before, "", cell, (int)after, "");
        }
        fputc('\n', out);
    }
    free(widths);
}

/* "12", "-3", "4.5", "1 234", "+50%": digits with a sign, separators and a unit sign. */
static bool s_is_figure(const char *cell)
{
    const char *p = cell + (*cell == '+' || *cell == '-');
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p) || ((*p == '.' || *p == ',' || *p == ' ') && p[1]))
        p++;
    return *p == '\0' || (*p == '%' && p[1] == '\0');
}

void dpctl_table_align_numbers(dpctl_table_t *self)
{
    if (!self->right)
        self->right = calloc(self->columns, sizeof *self->right);
    for (size_t column = 0; self->right && column < self->columns; column++) {
        size_t filled = 0, figures = 0;
        for (size_t row = 1; row < self->rows; row++) {
            const char *cell = self->cells[row * self->columns + column];
            filled += *cell != '\0';
            figures += s_is_figure(cell);
        }
        self->right[column] = figures > 0 && figures * 2 >= filled;
    }
}

/* Bytes of text's first `characters` characters. */
static size_t s_prefix_bytes(const char *text, size_t characters)
{
    const unsigned char *p = (const unsigned char *)text;
    for (size_t seen = 0; *p; p++)
        if ((*p & 0xc0) != 0x80 && seen++ == characters)
            break;
    return (size_t)(p - (const unsigned char *)text);
}

void dpctl_table_fit(dpctl_table_t *self, size_t column, size_t width, size_t min_width)
{
    size_t others = 0, widest = 0;
    for (size_t i = 0; i < self->rows * self->columns; i++) {
        size_t cell = s_width(self->cells[i]);
        if (i % self->columns == column && cell > widest)
            widest = cell;
    }
    for (size_t c = 0; c < self->columns; c++) {
        size_t column_width = 0;
        for (size_t row = 0; c != column && row < self->rows; row++) {
            size_t cell = s_width(self->cells[row * self->columns + c]);
            if (cell > column_width)
                column_width = cell;
        }
        others += c == column ? 0 : column_width + 2;
    }
    size_t room = width > others + min_width ? width - others : min_width;
    if (widest <= room || room < 4)
        return;
    /* Rows after the header; the header is short enough to stay whole. */
    for (size_t row = 1; row < self->rows; row++) {
        char **cell = &self->cells[row * self->columns + column];
        if (s_width(*cell) <= room)
            continue;
        size_t keep = s_prefix_bytes(*cell, room - 3);
        memcpy(*cell + keep, "...", 4); /* "..." is no longer than what it replaces */
    }
}

size_t dpctl_output_width(void)
{
    struct winsize size;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    const char *columns = getenv("COLUMNS");
    long value = columns ? strtol(columns, NULL, 10) : 0;
    return value > 0 ? (size_t)value : 120;
}

struct _dpctl_listing_t {
    dpctl_table_t *table; /* text output, or NULL */
    json_t *array;        /* --json output, or NULL */
    size_t count;         /* items added */
};

dpctl_listing_t *dpctl_listing_new(bool json, const char *const *headers, size_t columns)
{
    dpctl_listing_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (json)
        self->array = json_array();
    else
        self->table = dpctl_table_new(headers, columns);
    if (!self->array && !self->table)
        dpctl_listing_destroy(&self);
    return self;
}

void dpctl_listing_destroy(dpctl_listing_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dpctl_listing_t *self = *self_p;
    dpctl_table_destroy(&self->table);
    json_decref(self->array);
    free(self);
    *self_p = NULL;
}

int dpctl_listing_add(dpctl_listing_t *self, const ProtobufCMessage *item, const char *const *cells)
{
    return dpctl_listing_add_object(self, self->array ? dpctl_json_message(item) : NULL, cells);
}

int dpctl_listing_add_object(dpctl_listing_t *self, json_t *object, const char *const *cells)
{
    int added = -1;
    if (self->array)
        added = object ? json_array_append_new(self->array, object) : -1;
    else {
        json_decref(object);
        added = dpctl_table_add(self->table, cells);
    }
    self->count += added == 0;
    return added;
}

size_t dpctl_listing_count(const dpctl_listing_t *self)
{
    return self->count;
}

int dpctl_listing_print(dpctl_listing_t *self)
{
    if (self->array)
        return dpctl_json_print(&self->array);
    dpctl_table_print(self->table, stdout);
    return DPCTL_EXIT_OK;
}

void dpctl_listing_fit(dpctl_listing_t *self, size_t column, size_t width, size_t min_width)
{
    if (self->table)
        dpctl_table_fit(self->table, column, width, min_width);
}

void dpctl_listing_align_numbers(dpctl_listing_t *self)
{
    if (self->table)
        dpctl_table_align_numbers(self->table);
}

void dpctl_print_field(const char *label, const char *value)
{
    printf("%-13s %s\n", label, value ? value : "");
}

void dpctl_print_fieldf(const char *label, const char *format, ...)
{
    char value[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(value, sizeof value, format, args);
    va_end(args);
    dpctl_print_field(label, value);
}

void dpctl_print_list(const char *label, char **items, size_t count)
{
    printf("%-13s ", label);
    for (size_t i = 0; i < count; i++)
        printf("%s%s", i ? ", " : "", items[i]);
    printf("%s\n", count ? "" : "(none)");
}

/* Writes the document and a line end on stdout with jansson's flags, then
   flushes; releases it. Returns an exit code. */
static int s_json_write(json_t **document_p, size_t flags)
{
    json_t *document = *document_p;
    *document_p = NULL;
    int written = document ? json_dumpf(document, stdout, flags) : -1;
    json_decref(document);
    if (written != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "dpctl: could not write the JSON output\n");
        return DPCTL_EXIT_FAILURE;
    }
    return DPCTL_EXIT_OK;
}

int dpctl_json_print(json_t **document_p)
{
    return s_json_write(document_p, JSON_INDENT(2));
}

int dpctl_json_print_line(json_t **document_p)
{
    return s_json_write(document_p, JSON_COMPACT);
}

int dpctl_json_print_message(const ProtobufCMessage *message)
{
    json_t *document = dpctl_json_message(message);
    return dpctl_json_print(&document);
}

int dpctl_call_list(dpctl_t *self, dpctl_service_t service, const ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *reply_type, const dpctl_list_view_t *view)
{
    ProtobufCMessage *reply = NULL;
    int outcome = dpctl_call(self, service, request, reply_type, &reply);
    dpctl_listing_t *listing = outcome == DPCTL_EXIT_OK
                                   ? dpctl_listing_new(self->json, view->headers, view->columns)
                                   : NULL;
    if (outcome == DPCTL_EXIT_OK && !listing)
        outcome = DPCTL_EXIT_FAILURE;
    size_t count = 0;
    ProtobufCMessage **items = outcome == DPCTL_EXIT_OK ? dpctl_field_items(reply, &count) : NULL;
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < count; i++)
        if (view->add_row(listing, items[i]) != 0)
            outcome = DPCTL_EXIT_FAILURE;
    if (outcome == DPCTL_EXIT_OK && view->align_numbers)
        dpctl_listing_align_numbers(listing);
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_listing_print(listing);
    if (outcome == DPCTL_EXIT_OK && !self->json && view->noun)
        printf("\n%zu %s%s\n", count, view->noun, count == 1 ? "" : "s");
    dpctl_listing_destroy(&listing);
    dp_message_free(&reply);
    return outcome;
}
