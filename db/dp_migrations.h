/* The versioned schema migrations, embedded at build time from db/migrations. */
#ifndef DP_MIGRATIONS_H
#define DP_MIGRATIONS_H
#include <stddef.h>

typedef struct {
    int version;      /* the file's leading number; applied in increasing order */
    const char *name; /* file name without extension, e.g. "0002_registry" */
    const char *sql;  /* the file's text, run in one transaction */
} dp_migration_t;

extern const dp_migration_t dp_migrations[];
extern const size_t dp_migration_count;

#endif
