/* Configuration from environment variables, described by one table per
   program: name, default, bounds and help. `--help` prints the table. */
#ifndef DP_CONFIG_H
#define DP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *name;          /* environment variable, e.g. "DP_REGISTRY_ENDPOINT" */
    const char *default_value; /* used when the variable is unset or empty */
    const char *help;          /* one line for --help */
    bool is_integer;           /* when true the value must lie within [min, max] */
    long min;                  /* smallest integer accepted */
    long max;                  /* largest integer accepted */
} dp_setting_t;

typedef struct _dp_config_t dp_config_t;

/* Creates a configuration holding the defaults of the table (borrowed; it must outlive the config).
 */
dp_config_t *dp_config_new(const char *program, const char *summary, const dp_setting_t *settings,
                           size_t count);
void dp_config_destroy(dp_config_t **self_p);

/* Reads the environment and the command line. Returns 0 when ready, 1 when
   --help or --version was printed (exit 0), -1 after printing an error (exit 2). */
int dp_config_load(dp_config_t *self, int argc, char **argv);

/* Sets one value, checked like an environment value; used by tests that
   start a service inside their own process. Returns -1 with a message on stderr. */
int dp_config_set(dp_config_t *self, const char *name, const char *value);

/* Borrowed. The setting must exist in the table: a name that does not is
   a programming error: the program prints the name and aborts, in every
   build (it used to read as ""). */
const char *dp_config_get(const dp_config_t *self, const char *name);
long dp_config_get_int(const dp_config_t *self, const char *name);

/* Prints the usage and the table of settings with current values. */
void dp_config_print_help(const dp_config_t *self, const char *usage);

#endif
