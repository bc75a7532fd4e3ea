/*
 * test_sandbox_threads.c -- the hook sandbox (src/host/sandbox.c) in
 * several threads at once, as eidosd's workers run hooks: each thread has
 * its own host state and box, with its own time limit; a hostile hook in
 * one thread is cut at its own deadline, not at another thread's, and the
 * well-behaved hooks running beside them are never cut.
 *
 *   test_sandbox_threads REPO_ROOT
 *
 * Exit status: 0 all passed, 1 a check failed.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../../../src/host/sandbox.h"

#define HOSTILE 4
#define SLACK_MS 1500 /* a loaded machine, sanitizers */

static int failures, checks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    pthread_mutex_lock(&lock);                                             \
    checks++;                                                              \
    if (!(cond)) {                                                         \
      failures++;                                                          \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                 \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
    }                                                                      \
    pthread_mutex_unlock(&lock);                                           \
  } while (0)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* the hostile hooks, one per thread: each kind of C loop */
static const char *const hostile[HOSTILE] = {
  "return { f = function() while true do end end }",
  "return { f = function() return (string.rep('a', 40000)):find('.-.-.-b') end }",
  "return { f = function() return table.move({}, 1, 1e15, 2) end }",
  "return { f = function() local co = coroutine.create(function() while true do end end)"
  " pcall(coroutine.resume, co) return 'changed' end }",
};

struct job { int i; long limit_ms; };

static void *run_hostile(void *arg) {
  struct job *j = arg;
  lua_State *L = luaL_newstate();
  const char *reason, *path[1] = {"f"};
  char msg[512], name[32];
  eidos_box *b;
  double t0, ms;
  int n, round;
  snprintf(name, sizeof name, "hostile-%d.lua", j->i);
  b = eidos_box_open(hostile[j->i], strlen(hostile[j->i]), name, 8u << 20, j->limit_ms, &reason, msg, sizeof msg);
  CHECK(b != NULL, "%s: %s", name, msg);
  if (!b) return NULL;
  for (round = 0; round < 3; round++) {
    t0 = now_ms();
    n = eidos_box_call(b, L, path, 1, 1, 0, 0);
    ms = now_ms() - t0;
    CHECK(n == 4 && !lua_toboolean(L, -4) && !strcmp(lua_tostring(L, -1), "time"),
          "%s: not cut by its time limit (%d values; %s)", name, n, n > 1 ? lua_tostring(L, -3) : "");
    CHECK(ms >= j->limit_ms - 1 && ms <= j->limit_ms + SLACK_MS, "%s: cut after %.0f ms, its limit is %ld ms", name,
          ms, j->limit_ms);
    lua_settop(L, 0);
  }
  eidos_box_close(b);
  lua_close(L);
  return NULL;
}

/* many short calls beside the hostile ones: none may be cut */
static void *run_quiet(void *arg) {
  lua_State *L = luaL_newstate();
  const char *reason, *path[1] = {"f"};
  const char *src = "return { f = function(x) local s = 0 for i = 1, 2000 do s = s + i end"
                    " return (('k' .. x):match('^(%a)(%d+)$')) end }";
  char msg[512];
  eidos_box *b = eidos_box_open(src, strlen(src), "quiet.lua", 8u << 20, 2000, &reason, msg, sizeof msg);
  int i, bad = 0;
  (void)arg;
  CHECK(b != NULL, "quiet: %s", msg);
  if (!b) return NULL;
  for (i = 0; i < 2000; i++) {
    lua_pushinteger(L, i);
    if (eidos_box_call(b, L, path, 1, 1, 1, 0) != 2 || !lua_toboolean(L, -2) || strcmp(lua_tostring(L, -1), "k")) bad++;
    lua_settop(L, 0);
  }
  CHECK(bad == 0, "quiet hook failed %d of 2000 calls", bad);
  eidos_box_close(b);
  lua_close(L);
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t t[HOSTILE + 1];
  struct job jobs[HOSTILE];
  int i;
  (void)argc;
  (void)argv;
  for (i = 0; i < HOSTILE; i++) {
    jobs[i].i = i;
    jobs[i].limit_ms = 100 + 150 * i; /* 100, 250, 400, 550 ms */
    pthread_create(&t[i], NULL, run_hostile, &jobs[i]);
  }
  pthread_create(&t[HOSTILE], NULL, run_quiet, NULL);
  for (i = 0; i <= HOSTILE; i++) pthread_join(t[i], NULL);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
