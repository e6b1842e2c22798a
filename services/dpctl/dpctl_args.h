/* A command's options as a table: the parser, the checks on values and the
   --help text all come from it, so they cannot drift apart. */
#ifndef DPCTL_ARGS_H
#define DPCTL_ARGS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "dpctl.h"

typedef enum {
    DPCTL_FLAG,   /* takes no value */
    DPCTL_TEXT,   /* any text */
    DPCTL_DATE,   /* a calendar date YYYY-MM-DD */
    DPCTL_NUMBER, /* a whole number >= 0 */
    DPCTL_CHOICE  /* a value of the enum in `choices`, by its short name ("company") */
} dpctl_value_t;

typedef struct {
    const char *name;                       /* long option without the dashes; NULL ends a table */
    dpctl_value_t type;                     /* what the value must look like */
    const char *metavar;                    /* the value's name in --help, e.g. "DATE" */
    const char *help;                       /* one line for --help */
    bool repeated;                          /* may be given more than once */
    bool required;                          /* must be given */
    const ProtobufCEnumDescriptor *choices; /* the enum of a DPCTL_CHOICE option */
} dpctl_option_t;

typedef struct {
    const char *path;              /* words after "dpctl", e.g. "partner add" */
    const char *operands;          /* operands in --help, e.g. "ID|SLUG", or "" */
    const char *summary;           /* one line for --help */
    size_t min_operands;           /* fewest operands accepted */
    size_t max_operands;           /* most operands accepted */
    const dpctl_option_t *options; /* the table, ended by a row with a NULL name */
} dpctl_spec_t;

typedef struct _dpctl_args_t dpctl_args_t;

/* Parses argv (argv[0] is the command's word). Returns the arguments, or
   NULL with *exit_code set: 0 after printing --help, 2 after printing a usage
   error. Values are borrowed from argv. */
dpctl_args_t *dpctl_args_parse(const dpctl_spec_t *spec, int argc, char **argv, int *exit_code);
void dpctl_args_destroy(dpctl_args_t **self_p);

/* The part of a command that runs once its arguments are parsed; returns
   an exit code. */
typedef int(dpctl_body_fn)(dpctl_t *self, dpctl_args_t *args);
/* Parses argv by spec, runs body with the arguments and frees them.
   Returns body's exit code, or the parser's (0 after --help, 2 after a
   usage error) when body did not run. */
int dpctl_args_run(dpctl_t *self, const dpctl_spec_t *spec, int argc, char **argv,
                   dpctl_body_fn *body);

/* True when the option was given. */
bool dpctl_args_has(const dpctl_args_t *self, const char *name);
/* The option's value, or fallback when it was not given. */
const char *dpctl_args_text(const dpctl_args_t *self, const char *name, const char *fallback);
/* Every value of a repeated option, in order (borrowed); *count may be 0. */
char **dpctl_args_list(const dpctl_args_t *self, const char *name, size_t *count);
/* The enum value of a DPCTL_CHOICE option, or fallback. */
int dpctl_args_choice(const dpctl_args_t *self, const char *name, int fallback);
/* The value of a DPCTL_NUMBER option, or fallback. */
long long dpctl_args_number(const dpctl_args_t *self, const char *name, long long fallback);
/* The index-th operand, or NULL. */
const char *dpctl_args_operand(const dpctl_args_t *self, size_t index);

/* True for 1 to 18 decimal digits: a number that fits an int64 id. */
bool dpctl_is_number(const char *text);

/* Prints "dpctl PATH: message" and a hint on stderr; returns DPCTL_EXIT_USAGE. */
int dpctl_usage_error(const char *path, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* As dpctl_usage_error, for the command these arguments belong to. */
int dpctl_args_error(const dpctl_args_t *self, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif
