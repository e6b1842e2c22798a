#include "dpctl_args.h"

#include <assert.h>
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_validate.h"
#include "dpctl.h"
#include "dpctl_proto.h"

/* getopt_long returns this plus the option's row for a table option. */
enum { S_FIRST_OPTION = 256, S_HELP_SHOWN = 1, S_HELP_WIDTH = 30 };

struct _dpctl_args_t {
    const dpctl_spec_t *spec; /* the command's table, borrowed */
    size_t option_count;      /* rows in spec->options */
    char ***values;           /* values[i]: each value given for option i (argv's strings) */
    size_t *counts;           /* counts[i]: how often option i was given */
    char **operands;          /* operands in order (argv's strings) */
    size_t operand_count;     /* how many operands */
};

static size_t s_count_options(const dpctl_option_t *options)
{
    size_t count = 0;
    while (options && options[count].name)
        count++;
    return count;
}

static dpctl_args_t *s_new(const dpctl_spec_t *spec, int argc)
{
    dpctl_args_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->spec = spec;
    self->option_count = s_count_options(spec->options);
    self->values = calloc(self->option_count + 1, sizeof *self->values);
    self->counts = calloc(self->option_count + 1, sizeof *self->counts);
    self->operands = calloc((size_t)argc + 1, sizeof *self->operands);
    bool ready = self->values && self->counts && self->operands;
    for (size_t i = 0; ready && i < self->option_count; i++) {
        self->values[i] = calloc((size_t)argc + 1, sizeof **self->values);
        ready = self->values[i] != NULL;
    }
    if (!ready)
        dpctl_args_destroy(&self);
    return self;
}

void dpctl_args_destroy(dpctl_args_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dpctl_args_t *self = *self_p;
    for (size_t i = 0; self->values && i < self->option_count; i++)
        free(self->values[i]);
    free(self->values);
    free(self->counts);
    free(self->operands);
    free(self);
    *self_p = NULL;
}

int dpctl_usage_error(const char *path, const char *format, ...)
{
    const char *space = path && *path ? " " : "";
    fprintf(stderr, "dpctl%s%s: ", space, path ? path : "");
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fprintf(stderr, "\nTry 'dpctl%s%s --help'.\n", space, path ? path : "");
    return DPCTL_EXIT_USAGE;
}

int dpctl_args_error(const dpctl_args_t *self, const char *format, ...)
{
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return dpctl_usage_error(self->spec->path, "%s", message);
}

static const char *s_metavar(const dpctl_option_t *option, char *buffer, size_t size)
{
    if (option->type == DPCTL_CHOICE)
        return dpctl_enum_choices(option->choices, buffer, size);
    return option->metavar ? option->metavar : "VALUE";
}

static void s_print_option(const char *left, const char *help, const char *note1, const char *note2)
{
    if (strlen(left) > S_HELP_WIDTH)
        printf("  %s\n  %-*s %s%s%s\n", left, S_HELP_WIDTH, "", help, note1, note2);
    else
        printf("  %-*s %s%s%s\n", S_HELP_WIDTH, left, help, note1, note2);
}

static void s_print_help(const dpctl_spec_t *spec)
{
    size_t count = s_count_options(spec->options);
    printf("Usage: dpctl %s%s%s%s\n%s\n", spec->path, *spec->operands ? " " : "", spec->operands,
           count ? " [OPTIONS]" : "", spec->summary);
    if (count)
        printf("\nOptions:\n");
    for (size_t i = 0; i < count; i++) {
        const dpctl_option_t *option = &spec->options[i];
        char metavar[256], left[300];
        if (option->type == DPCTL_FLAG)
            snprintf(left, sizeof left, "--%s", option->name);
        else
            snprintf(left, sizeof left, "--%s %s", option->name,
                     s_metavar(option, metavar, sizeof metavar));
        s_print_option(left, option->help, option->repeated ? " (repeatable)" : "",
                       option->required ? " (required)" : "");
    }
    printf("\nGlobal options:\n");
    s_print_option("--json", "print one JSON document instead of text", "", "");
    s_print_option("--help", "print this help", "", "");
}

bool dpctl_is_number(const char *text)
{
    size_t length = strlen(text);
    if (length == 0 || length > 18)
        return false;
    for (size_t i = 0; i < length; i++)
        if (!isdigit((unsigned char)text[i]))
            return false;
    return true;
}

/* Checks a value against its option's type; returns 0 or a usage error. */
static int s_check_value(const dpctl_args_t *self, const dpctl_option_t *option, const char *value)
{
    int ignored;
    char choices[256];
    switch (option->type) {
    case DPCTL_DATE:
        if (!dp_valid_date(value))
            return dpctl_args_error(self, "--%s: '%s' is not a date (YYYY-MM-DD)", option->name,
                                    value);
        break;
    case DPCTL_NUMBER:
        if (!dpctl_is_number(value))
            return dpctl_args_error(self, "--%s: '%s' is not a whole number", option->name, value);
        break;
    case DPCTL_CHOICE:
        if (dpctl_enum_parse(option->choices, value, &ignored) != 0)
            return dpctl_args_error(self, "--%s must be one of %s, not '%s'", option->name,
                                    dpctl_enum_choices(option->choices, choices, sizeof choices),
                                    value);
        break;
    default:
        break;
    }
    return 0;
}

static int s_store(dpctl_args_t *self, size_t index, char *value)
{
    const dpctl_option_t *option = &self->spec->options[index];
    if (!option->repeated && self->counts[index] > 0)
        return dpctl_args_error(self, "--%s given twice", option->name);
    if (value && s_check_value(self, option, value) != 0)
        return DPCTL_EXIT_USAGE;
    self->values[index][self->counts[index]++] = value;
    return 0;
}

static struct option *s_long_options(const dpctl_args_t *self)
{
    struct option *table = calloc(self->option_count + 2, sizeof *table);
    if (!table)
        return NULL;
    for (size_t i = 0; i < self->option_count; i++) {
        const dpctl_option_t *option = &self->spec->options[i];
        table[i].name = option->name;
        table[i].has_arg = option->type == DPCTL_FLAG ? no_argument : required_argument;
        table[i].val = S_FIRST_OPTION + (int)i;
    }
    table[self->option_count].name = "help";
    table[self->option_count].val = 'h';
    return table;
}

/* Returns 0, S_HELP_SHOWN or DPCTL_EXIT_USAGE. */
static int s_parse(dpctl_args_t *self, int argc, char **argv, const struct option *table)
{
    optind = 0; /* GNU: start afresh, as every command parses its own argv */
    opterr = 0;
    int outcome = 0, code;
    while (outcome == 0 && (code = getopt_long(argc, argv, ":h", table, NULL)) != -1) {
        if (code == 'h') {
            s_print_help(self->spec);
            outcome = S_HELP_SHOWN;
        } else if (code == ':')
            outcome = dpctl_args_error(self, "option '%s' needs a value", argv[optind - 1]);
        else if (code == '?' && optopt)
            outcome = dpctl_args_error(self, "unknown option '-%c'", optopt);
        else if (code == '?')
            outcome = dpctl_args_error(self, "unknown option '%s'", argv[optind - 1]);
        else
            outcome = s_store(self, (size_t)(code - S_FIRST_OPTION), optarg);
    }
    for (int i = optind; outcome == 0 && i < argc; i++)
        self->operands[self->operand_count++] = argv[i];
    return outcome;
}

static int s_check_complete(const dpctl_args_t *self)
{
    const dpctl_spec_t *spec = self->spec;
    for (size_t i = 0; i < self->option_count; i++)
        if (spec->options[i].required && self->counts[i] == 0)
            return dpctl_args_error(self, "--%s is required", spec->options[i].name);
    if (self->operand_count < spec->min_operands)
        return dpctl_args_error(self, "missing operand: %s", spec->operands);
    if (self->operand_count > spec->max_operands)
        return dpctl_args_error(self, "unexpected argument '%s'",
                                self->operands[spec->max_operands]);
    return 0;
}

dpctl_args_t *dpctl_args_parse(const dpctl_spec_t *spec, int argc, char **argv, int *exit_code)
{
    dpctl_args_t *self = s_new(spec, argc);
    struct option *table = self ? s_long_options(self) : NULL;
    if (!table) {
        fprintf(stderr, "dpctl: out of memory\n");
        dpctl_args_destroy(&self);
        *exit_code = DPCTL_EXIT_FAILURE;
        return NULL;
    }
    int outcome = s_parse(self, argc, argv, table);
    free(table);
    if (outcome == 0)
        outcome = s_check_complete(self);
    *exit_code = outcome == S_HELP_SHOWN ? DPCTL_EXIT_OK : outcome;
    if (outcome != 0)
        dpctl_args_destroy(&self);
    return self;
}

static size_t s_index(const dpctl_args_t *self, const char *name)
{
    for (size_t i = 0; i < self->option_count; i++)
        if (strcmp(self->spec->options[i].name, name) == 0)
            return i;
    assert(!"dpctl: an option asked for by name is not in the command's table");
    return 0;
}

bool dpctl_args_has(const dpctl_args_t *self, const char *name)
{
    return self->counts[s_index(self, name)] > 0;
}

const char *dpctl_args_text(const dpctl_args_t *self, const char *name, const char *fallback)
{
    size_t index = s_index(self, name);
    size_t count = self->counts[index];
    return count && self->values[index][count - 1] ? self->values[index][count - 1] : fallback;
}

char **dpctl_args_list(const dpctl_args_t *self, const char *name, size_t *count)
{
    size_t index = s_index(self, name);
    *count = self->counts[index];
    return self->values[index];
}

int dpctl_args_choice(const dpctl_args_t *self, const char *name, int fallback)
{
    size_t index = s_index(self, name);
    const char *text = dpctl_args_text(self, name, NULL);
    int value = fallback;
    if (text && dpctl_enum_parse(self->spec->options[index].choices, text, &value) != 0)
        value = fallback;
    return value;
}

long long dpctl_args_number(const dpctl_args_t *self, const char *name, long long fallback)
{
    const char *text = dpctl_args_text(self, name, NULL);
    return text ? strtoll(text, NULL, 10) : fallback;
}

const char *dpctl_args_operand(const dpctl_args_t *self, size_t index)
{
    return index < self->operand_count ? self->operands[index] : NULL;
}

int dpctl_args_run(dpctl_t *self, const dpctl_spec_t *spec, int argc, char **argv,
                   dpctl_body_fn *body)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    outcome = body(self, args);
    dpctl_args_destroy(&args);
    return outcome;
}
