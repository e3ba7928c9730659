/* floor.c -- the floor for W1 (bench/run compares asched with it): one Lua
 * coroutine per task, parked in a bare binary heap (an array) and resumed at
 * its deadline. No scheduler: no ready queue, tasks, cancellation, awaiting,
 * error handling or I/O. Usage: floor [N]; prints result=<sum of 1..N>. */
#define _POSIX_C_SOURCE 200809L
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

static const char task_code[] =
  "local i = ...\n"
  "park(((i % 1000) / 1000) * 0.5)\n"
  "return i\n";

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000, i;
  uint64_t seq = 0;
  long long sum = 0;
  int nres;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_register(L, "park", park);
  if (luaL_loadstring(L, task_code) != LUA_OK) return 1;   /* the task function, at index 1 */
  heap = malloc(sizeof *heap * (size_t)n);
  if (heap == NULL) return 1;
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
  printf("result=%lld\n", sum);
  free(heap);
  lua_close(L);
  return 0;
}
