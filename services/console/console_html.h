/* Building a page: the layout every page shares (head, skip link,
   navigation with the queue's counts, the person and Log out), escaping of
   every text that is not ours, and the form controls with their labels and
   the CSRF field. Pages write into a memory stream and send it at once. */
#ifndef CONSOLE_HTML_H
#define CONSOLE_HTML_H

#include <stdio.h>

#include "console_service.h"
#include "console_text.h"

typedef struct {
    console_request_t *request;
    FILE *out;
    char *text;
    size_t size;
    char form_id[32]; /* the open form's id: controls' ids start with it */
} console_page_t;

/* Opens a page titled `title` with `nav` ("queue", "partners", "admin" or
   "") marked as the current section; false when out of memory. */
bool console_page_begin(console_page_t *page, console_request_t *request, const char *title,
                        const char *nav);
/* Closes the page and sends it with this status. */
console_result_t console_page_end(console_page_t *page, unsigned status);

/* Writes our own markup (format and arguments are ours: numbers and
   constant texts, never data). */
void console_put(console_page_t *page, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes text from anywhere else, escaped for an element or an attribute. */
void console_esc(console_page_t *page, const char *text);
/* Writes text percent-encoded for a URL's query (then escaped as HTML). */
void console_url_arg(console_page_t *page, const char *text);
/* An RFC 3339 UTC time as <time> in the console's zone, e.g. "2026-12-07 14:05 CET". */
void console_time(console_page_t *page, const char *rfc3339);

/* A POST form to `action` (our path) with its CSRF field; end with console_form_end. */
void console_form_begin(console_page_t *page, const char *action, const char *id);
void console_form_end(console_page_t *page, const char *button);
/* <label> and <input>: type "text", "date", "password", "email"...; value escaped. */
void console_input(console_page_t *page, const char *name, const char *label, const char *type,
                   const char *value, bool required);
void console_textarea(console_page_t *page, const char *name, const char *label, const char *value,
                      bool required);
/* A <select>; values[i] shown as labels[i] (labels NULL: the values). */
void console_select(console_page_t *page, const char *name, const char *label,
                    const char *const *values, const char *const *labels, size_t count,
                    const char *selected);
/* A list <ul id="id"> of messages, each item written as markup[0],
   fields[0], markup[1], ... fields[n-1], markup[n]: fields names text
   fields of the message (escaped; "" written as "-"); a name starting with
   '@' is an RFC 3339 time shown with console_time. With no item, the
   paragraph `empty` comes first. markup is ours. */
void console_items(console_page_t *page, const char *id, const char *empty,
                   ProtobufCMessage *const *items, size_t count, const char *const *fields,
                   const char *const *markup);
/* Opens <table id="id"> with a caption ("<count> <what>", when what is
   not NULL) and a head of columns (a NULL-ended list); rows follow, then
   console_table_end. */
void console_table_begin(console_page_t *page, const char *id, unsigned long long count,
                         const char *what, const char *const *columns);
void console_table_end(console_page_t *page);
/* A message box: role "status" or "alert". */
void console_notice(console_page_t *page, const char *role, const char *text);

#endif
