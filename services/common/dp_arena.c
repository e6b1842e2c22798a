#include "dp_arena.h"

#include <stdlib.h>
#include <string.h>

typedef struct block_t {
    struct block_t *next; /* the block allocated before this one */
    size_t used;          /* bytes handed out from data */
    size_t size;          /* bytes in data */
    _Alignas(16) unsigned char data[];
} block_t;

struct _dp_arena_t {
    block_t *head; /* newest block; allocations come from it while it has room */
};

enum { BLOCK_SIZE = 16384 };

dp_arena_t *dp_arena_new(void)
{
    return calloc(1, sizeof(dp_arena_t));
}

void dp_arena_destroy(dp_arena_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    block_t *block = (*self_p)->head;
    while (block) {
        block_t *next = block->next;
        free(block);
        block = next;
    }
    free(*self_p);
    *self_p = NULL;
}

void *dp_arena_alloc(dp_arena_t *self, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    block_t *block = self->head;
    if (!block || block->size - block->used < size) {
        size_t capacity = size > BLOCK_SIZE ? size : BLOCK_SIZE;
        block = malloc(sizeof(block_t) + capacity);
        if (!block)
            return NULL;
        block->used = 0;
        block->size = capacity;
        block->next = self->head;
        self->head = block;
    }
    void *memory = block->data + block->used;
    block->used += size;
    memset(memory, 0, size);
    return memory;
}

char *dp_arena_strdup(dp_arena_t *self, const char *text)
{
    if (!text)
        text = "";
    size_t length = strlen(text);
    char *copy = dp_arena_alloc(self, length + 1);
    if (copy)
        memcpy(copy, text, length + 1);
    return copy;
}

void **dp_arena_array(dp_arena_t *self, size_t count)
{
    return dp_arena_alloc(self, (count ? count : 1) * sizeof(void *));
}
