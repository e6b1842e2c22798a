/* A per-request arena: reply messages are built from its memory and
   everything is freed at once after the reply is packed. */
#ifndef DP_ARENA_H
#define DP_ARENA_H

#include <stddef.h>

typedef struct _dp_arena_t dp_arena_t;

dp_arena_t *dp_arena_new(void);
void dp_arena_destroy(dp_arena_t **self_p);
/* Zeroed memory; NULL when out of memory. */
void *dp_arena_alloc(dp_arena_t *self, size_t size);
char *dp_arena_strdup(dp_arena_t *self, const char *text);
/* An array of count pointers, zeroed. */
void **dp_arena_array(dp_arena_t *self, size_t count);

#endif
