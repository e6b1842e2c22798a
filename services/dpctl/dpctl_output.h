/* Output shared by all commands: aligned text tables for people and JSON
   documents (built with jansson) for programs. */
#ifndef DPCTL_OUTPUT_H
#define DPCTL_OUTPUT_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dpctl.h"

typedef struct _dpctl_table_t dpctl_table_t;

/* A table with the given column headers (copied). NULL when out of memory. */
dpctl_table_t *dpctl_table_new(const char *const *headers, size_t columns);
void dpctl_table_destroy(dpctl_table_t **self_p);
/* Appends a row of `columns` cells (copied; NULL prints as ""; tabs and line
   breaks become spaces, so a row stays one line). 0 or -1. */
int dpctl_table_add(dpctl_table_t *self, const char *const *cells);
/* Prints the headers and rows, each column as wide as its widest cell
   (counted in characters, not bytes). */
void dpctl_table_print(const dpctl_table_t *self, FILE *out);
/* Right-aligns, header included, each column whose filled cells are mostly
   figures ("12", "-3", "4.5", "+50%"), as figures are read. */
void dpctl_table_align_numbers(dpctl_table_t *self);
/* Cuts the cells of one column (ending them with "...") so that a row fits
   in width characters, but never below min_width for that column. */
void dpctl_table_fit(dpctl_table_t *self, size_t column, size_t width, size_t min_width);

/* A list of messages on its way out: a table of chosen cells for people,
   or with --json an array of whole messages. */
typedef struct _dpctl_listing_t dpctl_listing_t;

dpctl_listing_t *dpctl_listing_new(bool json, const char *const *headers, size_t columns);
void dpctl_listing_destroy(dpctl_listing_t **self_p);
/* Adds the item: as a JSON object, or as a row of the given cells. 0 or -1. */
int dpctl_listing_add(dpctl_listing_t *self, const ProtobufCMessage *item,
                      const char *const *cells);
/* As dpctl_listing_add with a ready JSON object (taken, also when the
   listing is a table), for items whose JSON is more than their message's. */
int dpctl_listing_add_object(dpctl_listing_t *self, json_t *object, const char *const *cells);
/* Items added so far. */
size_t dpctl_listing_count(const dpctl_listing_t *self);
/* Prints the table or the JSON array; returns an exit code. */
int dpctl_listing_print(dpctl_listing_t *self);
/* As dpctl_table_fit for the table; JSON is never cut. */
void dpctl_listing_fit(dpctl_listing_t *self, size_t column, size_t width, size_t min_width);
/* As dpctl_table_align_numbers for the table. */
void dpctl_listing_align_numbers(dpctl_listing_t *self);

/* How the items of a list reply (its first repeated message field) are
   shown: a row each, under headers, for people; the whole messages with
   --json. */
typedef struct {
    const char *const *headers; /* the table's column headers */
    size_t columns;             /* how many */
    int (*add_row)(dpctl_listing_t *listing, const ProtobufCMessage *item); /* 0 or -1 */
    bool align_numbers; /* dpctl_listing_align_numbers before printing */
    const char *noun;   /* "webhook": "N webhooks" after the table; NULL: no count */
} dpctl_list_view_t;

/* Calls the service with a list request and prints the items of its reply
   as view says. Returns an exit code. */
int dpctl_call_list(dpctl_t *self, dpctl_service_t service, const ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *reply_type, const dpctl_list_view_t *view);

/* Characters that fit on a line of standard output: the terminal's width,
   else $COLUMNS, else 120. */
size_t dpctl_output_width(void);

/* Prints "label:" padded to a column, then the value; for show commands. */
void dpctl_print_field(const char *label, const char *value);
/* As dpctl_print_field with the value formatted as by printf. */
void dpctl_print_fieldf(const char *label, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the label, then the items joined by ", ", or "(none)". */
void dpctl_print_list(const char *label, char **items, size_t count);

/* Prints the document on stdout and releases it. Returns an exit code:
   failure when the document is NULL (out of memory) or cannot be written. */
int dpctl_json_print(json_t **document_p);
/* Prints the document on one line of stdout and flushes it (JSON Lines, for
   streams); releases it. Returns an exit code, as dpctl_json_print. */
int dpctl_json_print_line(json_t **document_p);
/* Prints one message as a JSON object; returns an exit code. */
int dpctl_json_print_message(const ProtobufCMessage *message);

#endif
