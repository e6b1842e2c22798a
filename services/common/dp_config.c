#include "dp_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _dp_config_t {
    const char *program;          /* name shown by --help */
    const char *summary;          /* one line of what the program does */
    const dp_setting_t *settings; /* the table, borrowed */
    size_t count;                 /* rows in the table */
    char **values;                /* current value of each row, owned */
};

static int s_find(const dp_config_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->settings[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int s_parse_long(const char *text, long *out)
{
    if (!text || !*text)
        return -1;
    errno = 0;
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (errno || *end)
        return -1;
    *out = value;
    return 0;
}

dp_config_t *dp_config_new(const char *program, const char *summary, const dp_setting_t *settings,
                           size_t count)
{
    dp_config_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->program = program;
    self->summary = summary;
    self->settings = settings;
    self->count = count;
    self->values = calloc(count ? count : 1, sizeof(char *));
    if (!self->values) {
        free(self);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        self->values[i] = strdup(settings[i].default_value ? settings[i].default_value : "");
        if (!self->values[i]) {
            dp_config_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void dp_config_destroy(dp_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dp_config_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free(self->values[i]);
    free(self->values);
    free(self);
    *self_p = NULL;
}

int dp_config_set(dp_config_t *self, const char *name, const char *value)
{
    int index = s_find(self, name);
    if (index < 0) {
        fprintf(stderr, "%s: unknown setting %s\n", self->program, name);
        return -1;
    }
    const dp_setting_t *setting = &self->settings[index];
    if (setting->is_integer) {
        long number;
        if (s_parse_long(value, &number) || number < setting->min || number > setting->max) {
            fprintf(stderr, "%s: %s must be an integer from %ld to %ld, not '%s'\n", self->program,
                    name, setting->min, setting->max, value ? value : "");
            return -1;
        }
    }
    char *copy = strdup(value ? value : "");
    if (!copy)
        return -1;
    free(self->values[index]);
    self->values[index] = copy;
    return 0;
}

void dp_config_print_help(const dp_config_t *self, const char *usage)
{
    printf("%s - %s\n\nUsage: %s\n\nConfiguration (environment variables):\n", self->program,
           self->summary, usage ? usage : self->program);
    for (size_t i = 0; i < self->count; i++) {
        const dp_setting_t *setting = &self->settings[i];
        printf("  %-26s %s\n", setting->name, setting->help);
        if (setting->is_integer)
            printf("  %-26s (integer %ld..%ld, default %s)\n", "", setting->min, setting->max,
                   setting->default_value);
        else if (setting->default_value && *setting->default_value)
            printf("  %-26s (default %s)\n", "", setting->default_value);
    }
}

int dp_config_load(dp_config_t *self, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            dp_config_print_help(self, NULL);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", self->program, DP_VERSION);
            return 1;
        }
        fprintf(stderr,
                "%s: unknown argument '%s' (settings come from the environment; see --help)\n",
                self->program, argv[i]);
        return -1;
    }
    for (size_t i = 0; i < self->count; i++) {
        const char *value = getenv(self->settings[i].name);
        if (value && *value && dp_config_set(self, self->settings[i].name, value))
            return -1;
    }
    return 0;
}

/* A name missing from the program's own table is a misspelling in the
   code, not something a user can cause: it must not quietly read as "".
   An assertion, kept in release builds too (they define NDEBUG). */
static int s_find_known(const dp_config_t *self, const char *name)
{
    int index = s_find(self, name);
    if (index < 0) {
        fprintf(stderr, "%s: dp_config_get: no setting %s in the table\n", self->program, name);
        abort();
    }
    return index;
}

const char *dp_config_get(const dp_config_t *self, const char *name)
{
    return self->values[s_find_known(self, name)];
}

long dp_config_get_int(const dp_config_t *self, const char *name)
{
    long value = 0;
    int index = s_find_known(self, name);
    if (s_parse_long(self->values[index], &value) == 0)
        return value;
    return 0;
}
