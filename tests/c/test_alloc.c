/* test_alloc.c -- the slab allocator: Lua's allocation protocol, reuse,
 * contents kept across resizes, empty slabs reused by any class, and whole
 * mappings given back beyond a reserve. */
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "test.h"

#define MANY 20000

static void *blocks[MANY];

static void follows_luas_protocol_for_new_and_freed_blocks(void) {
  as_allocator *a = as_allocator_new();
  void *p = as_alloc(a, NULL, 5 /* a type tag, not a size */, 40);
  CHECK(p != NULL);
  CHECK(((uintptr_t)p & 7) == 0);
  memset(p, 0xab, 40);
  CHECK(as_alloc(a, p, 40, 0) == NULL);
  CHECK(as_alloc(a, NULL, 0, 0) == NULL);
  as_allocator_free(a);
}

static void a_freed_block_is_reused_by_its_class(void) {
  as_allocator *a = as_allocator_new();
  void *p = as_alloc(a, NULL, 0, 64);
  void *q;
  as_alloc(a, p, 64, 0);
  q = as_alloc(a, NULL, 0, 60); /* 60 rounds up to the 64-byte class */
  CHECK(q == p);
  as_alloc(a, q, 60, 0);
  as_allocator_free(a);
}

static void blocks_do_not_overlap(void) {
  as_allocator *a = as_allocator_new();
  int i, ok = 1;
  for (i = 0; i < MANY; i++) {
    size_t size = (size_t)(8 + (i * 37) % 1000);
    blocks[i] = as_alloc(a, NULL, 0, size);
    memset(blocks[i], i & 0xff, size);
  }
  for (i = 0; i < MANY; i++) {
    size_t size = (size_t)(8 + (i * 37) % 1000), j;
    for (j = 0; j < size; j++)
      if (((unsigned char *)blocks[i])[j] != (unsigned char)(i & 0xff)) ok = 0;
  }
  CHECK(ok);
  for (i = 0; i < MANY; i++) as_alloc(a, blocks[i], (size_t)(8 + (i * 37) % 1000), 0);
  as_allocator_free(a);
}

static void growing_and_shrinking_keeps_the_contents(void) {
  as_allocator *a = as_allocator_new();
  char *p = as_alloc(a, NULL, 0, 16);
  memcpy(p, "0123456789abcde", 16);
  p = as_alloc(a, p, 16, 700);          /* small to small */
  CHECK(memcmp(p, "0123456789abcde", 16) == 0);
  p = as_alloc(a, p, 700, 5000);        /* small to large */
  CHECK(memcmp(p, "0123456789abcde", 16) == 0);
  p = as_alloc(a, p, 5000, 9000);       /* large to large */
  CHECK(memcmp(p, "0123456789abcde", 16) == 0);
  p = as_alloc(a, p, 9000, 10);         /* large to small */
  CHECK(memcmp(p, "0123456789", 10) == 0);
  as_alloc(a, p, 10, 0);
  as_allocator_free(a);
}

static void emptied_slabs_are_handed_back_and_reused_by_other_classes(void) {
  as_allocator *a = as_allocator_new();
  size_t in_use, free_before;
  int i;
  for (i = 0; i < MANY; i++) blocks[i] = as_alloc(a, NULL, 0, 200);
  in_use = as_allocator_slabs_in_use(a);
  CHECK(in_use > 10);
  for (i = 0; i < MANY; i++) as_alloc(a, blocks[i], 200, 0);
  CHECK(as_allocator_slabs_in_use(a) == 1); /* one kept for its class */
  free_before = as_allocator_slabs_free(a);
  for (i = 0; i < MANY; i++) blocks[i] = as_alloc(a, NULL, 0, 120);
  CHECK(as_allocator_slabs_free(a) < free_before); /* the other class took them */
  for (i = 0; i < MANY; i++) as_alloc(a, blocks[i], 120, 0);
  as_allocator_free(a);
}

/* 200 slabs of 1000-byte blocks, then all freed: the emptied slabs stay
 * mapped up to a reserve, and whole mappings beyond it go back. */
#define BIG 52000
static void *big[BIG];

static void whole_mappings_go_back_beyond_a_reserve(void) {
  as_allocator *a = as_allocator_new();
  size_t peak;
  int i;
  for (i = 0; i < BIG; i++) big[i] = as_alloc(a, NULL, 0, 1000);
  peak = as_allocator_slabs_mapped(a);
  CHECK(as_allocator_slabs_in_use(a) >= 190);
  CHECK(peak >= as_allocator_slabs_in_use(a));
  for (i = 0; i < BIG; i++) as_alloc(a, big[i], 1000, 0);
  CHECK(as_allocator_slabs_mapped(a) < peak);
  CHECK(as_allocator_slabs_mapped(a) <= 4 * 64);   /* the reserve, and a mapping being emptied */
  CHECK(as_allocator_slabs_free(a) >= 2 * 64);     /* the reserve stays mapped and warm */
  for (i = 0; i < BIG; i++) big[i] = as_alloc(a, NULL, 0, 1000);   /* and serves again */
  for (i = 0; i < BIG; i++) as_alloc(a, big[i], 1000, 0);
  as_allocator_free(a);
}

int main(void) {
  static const test_case tests[] = {
    {"follows_luas_protocol_for_new_and_freed_blocks", follows_luas_protocol_for_new_and_freed_blocks},
    {"a_freed_block_is_reused_by_its_class", a_freed_block_is_reused_by_its_class},
    {"blocks_do_not_overlap", blocks_do_not_overlap},
    {"growing_and_shrinking_keeps_the_contents", growing_and_shrinking_keeps_the_contents},
    {"emptied_slabs_are_handed_back_and_reused_by_other_classes", emptied_slabs_are_handed_back_and_reused_by_other_classes},
    {"whole_mappings_go_back_beyond_a_reserve", whole_mappings_go_back_beyond_a_reserve},
    {NULL, NULL}
  };
  return run_tests(tests);
}
