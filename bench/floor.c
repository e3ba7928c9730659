/* floor.c -- the floors bench/run compares asched with: what W1 and W2 cost
 * with nothing but Lua coroutines.
 *   floor w1_sleepers [N]: one coroutine per task, parked in a bare binary
 *     heap (an array) and resumed at its deadline. No scheduler: no ready
 *     queue, tasks, cancellation, awaiting, error handling or I/O.
 *   floor w2_spawn_yield [N]: N coroutines created and resumed to their
 *     yield, then each resumed again to its end (create/resume/finish).
 * Prints result=<sum of 1..N>, as the workloads do.
 *   floor fresh_memory MIB: maps MIB MiB, advises huge pages (as asched's
 *     allocator does) and writes a byte in every 4 KiB; prints result=MIB.
 *     Run under /usr/bin/time, its system time is what fresh memory costs on
 *     this machine: the floor of a workload that needs that much. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS and madvise */
#define _POSIX_C_SOURCE 200809L
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef struct parked {
  uint64_t deadline, seq;
  lua_State *co;
  int ref;
} parked;

static parked *heap;
static size_t count;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int earlier(const parked *a, const parked *b) {
  return a->deadline != b->deadline ? a->deadline < b->deadline : a->seq < b->seq;
}

static void push(parked p) {
  size_t i = count++;
  while (i > 0 && earlier(&p, &heap[(i - 1) / 2])) {
    heap[i] = heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  heap[i] = p;
}

static parked pop(void) {
  parked top = heap[0], last = heap[--count];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= count) break;
    if (child + 1 < count && earlier(&heap[child + 1], &heap[child])) child++;
    if (!earlier(&heap[child], &last)) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = last;
  return top;
}

/* park(seconds): suspends the coroutine, handing its sleep to main. */
static int park(lua_State *L) {
  luaL_checknumber(L, 1);
  return lua_yield(L, 1);
}

static const char sleeper_code[] =
  "local i = ...\n"
  "park(((i % 1000) / 1000) * 0.5)\n"
  "return i\n";

static const char yielder_code[] =
  "local i = ...\n"
  "park(0)\n"
  "return i\n";

/* W1: every coroutine parked until its deadline, resumed in deadline order. */
static long long sleepers(lua_State *L, long n) {
  uint64_t seq = 0;
  long long sum = 0;
  long i;
  int nres;
  heap = malloc(sizeof *heap * (size_t)n);
  if (heap == NULL) return -1;
  for (i = 1; i <= n; i++) {
    parked p;
    p.co = lua_newthread(L);
    p.ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, i);
    lua_xmove(L, p.co, 2);
    lua_resume(p.co, L, 1, &nres);
    p.deadline = now_ns() + (uint64_t)(lua_tonumber(p.co, -1) * 1e9);
    lua_pop(p.co, nres);
    p.seq = seq++;
    push(p);
  }
  while (count > 0) {
    parked p = pop();
    uint64_t t = now_ns();
    if (p.deadline > t) {
      struct timespec wait = {(time_t)((p.deadline - t) / 1000000000u), (long)((p.deadline - t) % 1000000000u)};
      nanosleep(&wait, NULL);
    }
    lua_resume(p.co, L, 0, &nres);
    sum += lua_tointeger(p.co, -1);
    luaL_unref(L, LUA_REGISTRYINDEX, p.ref);
  }
  free(heap);
  return sum;
}

/* W2: every coroutine created and run to its yield, then each finished. */
static long long yielders(lua_State *L, long n) {
  long long sum = 0;
  long i;
  int nres;
  int *refs = malloc(sizeof *refs * (size_t)n);
  if (refs == NULL) return -1;
  for (i = 0; i < n; i++) {
    lua_State *co = lua_newthread(L);
    refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, i + 1);
    lua_xmove(L, co, 2);
    lua_resume(co, L, 1, &nres);
    lua_pop(co, nres);
  }
  for (i = 0; i < n; i++) {
    lua_State *co;
    lua_rawgeti(L, LUA_REGISTRYINDEX, refs[i]);
    co = lua_tothread(L, -1);
    lua_resume(co, L, 0, &nres);
    sum += lua_tointeger(co, -1);
    lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, refs[i]);
  }
  free(refs);
  return sum;
}

/* Faults in `mib` MiB of fresh memory; returns the bytes written, or -1. */
static long long fresh_memory(long mib) {
  size_t size = (size_t)mib << 20, i;
  long long written = 0;
  char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  madvise(p, size, MADV_HUGEPAGE);       /* may fail: 4 KiB pages then */
  for (i = 0; i < size; i += 4096) written += (p[i] = 1);
  munmap(p, size);
  return written;
}

int main(int argc, char **argv) {
  int w2 = argc > 1 && strcmp(argv[1], "w2_spawn_yield") == 0;
  if (argc > 2 && strcmp(argv[1], "fresh_memory") == 0) {
    long mib = atol(argv[2]);
    if (mib <= 0 || fresh_memory(mib) != (long long)mib * 256) return 1;
    printf("result=%ld\n", mib);
    return 0;
  }
  long n = argc > 2 ? atol(argv[2]) : 1000000;
  long long sum;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_register(L, "park", park);
  if (luaL_loadstring(L, w2 ? yielder_code : sleeper_code) != LUA_OK) return 1;   /* the task function, at 1 */
  sum = w2 ? yielders(L, n) : sleepers(L, n);
  if (sum < 0) return 1;
  printf("result=%lld\n", sum);
  lua_close(L);
  return 0;
}
