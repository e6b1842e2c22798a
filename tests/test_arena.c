/* dp_arena: per-request memory, freed at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dp_arena.h"

static int s_setup(void **state)
{
    *state = dp_arena_new();
    return *state ? 0 : -1;
}

static int s_teardown(void **state)
{
    dp_arena_t *arena = *state;
    dp_arena_destroy(&arena);
    return 0;
}

static void test_alloc_returns_zeroed_aligned_memory(void **state)
{
    dp_arena_t *arena = *state;
    for (size_t size = 1; size < 200; size += 7) {
        unsigned char *memory = dp_arena_alloc(arena, size);
        assert_non_null(memory);
        assert_int_equal((uintptr_t)memory % 16, 0);
        for (size_t i = 0; i < size; i++)
            assert_int_equal(memory[i], 0);
        memset(memory, 0xab, size); /* dirty it: the next one must still be zeroed */
    }
}

static void test_allocations_do_not_overlap(void **state)
{
    dp_arena_t *arena = *state;
    enum { COUNT = 3000, SIZE = 24 };
    static unsigned char *blocks[COUNT];
    for (int i = 0; i < COUNT; i++) {
        blocks[i] = dp_arena_alloc(arena, SIZE);
        assert_non_null(blocks[i]);
        memset(blocks[i], i & 0xff, SIZE);
    }
    /* 3000 * 32 bytes spans several blocks; every allocation kept its bytes. */
    for (int i = 0; i < COUNT; i++)
        for (int j = 0; j < SIZE; j++)
            assert_int_equal(blocks[i][j], i & 0xff);
}

static void test_alloc_larger_than_a_block(void **state)
{
    dp_arena_t *arena = *state;
    size_t size = 100000;
    unsigned char *small = dp_arena_alloc(arena, 10);
    unsigned char *large = dp_arena_alloc(arena, size);
    assert_non_null(small);
    assert_non_null(large);
    for (size_t i = 0; i < size; i++)
        assert_int_equal(large[i], 0);
    memset(large, 0xcd, size);
    unsigned char *after = dp_arena_alloc(arena, 10);
    assert_non_null(after);
    assert_int_equal(after[0], 0);
    assert_true(after + 10 <= large || after >= large + size);
}

static void test_alloc_of_zero_bytes_is_usable(void **state)
{
    dp_arena_t *arena = *state;
    void *first = dp_arena_alloc(arena, 0);
    void *second = dp_arena_alloc(arena, 0);
    assert_non_null(first);
    assert_non_null(second);
    assert_ptr_not_equal(first, second);
}

static void test_strdup_copies_and_null_becomes_empty(void **state)
{
    dp_arena_t *arena = *state;
    char text[] = "Telef\xc3\xb3nica";
    char *copy = dp_arena_strdup(arena, text);
    assert_non_null(copy);
    assert_ptr_not_equal(copy, text);
    text[0] = 'X';
    assert_string_equal(copy, "Telef\xc3\xb3nica");
    char *empty = dp_arena_strdup(arena, NULL);
    assert_non_null(empty);
    assert_string_equal(empty, "");
}

static void test_array_is_zeroed(void **state)
{
    dp_arena_t *arena = *state;
    void **array = dp_arena_array(arena, 50);
    assert_non_null(array);
    for (int i = 0; i < 50; i++)
        assert_null(array[i]);
    assert_non_null(dp_arena_array(arena, 0));
}

static void test_destroy_nulls_and_is_safe_twice(void **state)
{
    dp_arena_t *arena = dp_arena_new();
    assert_non_null(arena);
    assert_non_null(dp_arena_alloc(arena, 100000));
    dp_arena_destroy(&arena);
    assert_null(arena);
    dp_arena_destroy(&arena);
    dp_arena_destroy(NULL);
}

#define ARENA_TEST(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ARENA_TEST(test_alloc_returns_zeroed_aligned_memory),
        ARENA_TEST(test_allocations_do_not_overlap),
        ARENA_TEST(test_alloc_larger_than_a_block),
        ARENA_TEST(test_alloc_of_zero_bytes_is_usable),
        ARENA_TEST(test_strdup_copies_and_null_becomes_empty),
        ARENA_TEST(test_array_is_zeroed),
        cmocka_unit_test(test_destroy_nulls_and_is_safe_twice),
    };
    return cmocka_run_group_tests_name("dp_arena", tests, NULL, NULL);
}
