/*
 * sandbox_limits.c -- the limits of a hook sandbox's state (see
 * sandbox_int.h), which hold whatever the hook does:
 *  - Memory: the state's allocator counts every byte and refuses past the
 *    limit; once it refused, it refuses every further growth until the
 *    run ends, so the run fails even if the hook caught the error. The
 *    lines a hook prints count against the same number.
 *  - Time: a wall-clock deadline per run (CLOCK_MONOTONIC), looked at by a
 *    count hook every TICK VM instructions and by every loop in C that a
 *    hook can reach (the hook library polls eidos_box_poll; the pattern
 *    matcher polls eidos_box_expired; Lua text is parsed in pieces), so no
 *    path runs long without a look. Once past it the hook raises on every
 *    instruction of every thread it reaches; the caller reports the limit
 *    whatever the hook did with the error (pcall, a coroutine, a result).
 *    Why not a watchdog thread that arms the hook at the deadline, as
 *    lua.c does from its SIGINT handler: from another thread lua_sethook
 *    races with the VM (it walks the CallInfo list the running thread
 *    frees), a per-thread timer signal must be unblocked in every server
 *    worker and tracked per coroutine (hooks are per lua_State), and
 *    either way the hook only acts between instructions and C code only
 *    stops where it checks -- which the polls here do, for about 15 % of
 *    an empty loop's time (bench/sandbox).
 * Everything is per box: boxes of different threads never share state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include "sandbox_int.h"

#define TICK 1000         /* VM instructions between two looks at the clock */
#define POLL_EVERY 256    /* eidos_box_poll turns between two looks at the clock */
#define PIECE 16384       /* bytes of Lua text parsed between two looks at the clock */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void *eidos_box_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  eidos_box *b = ud;
  void *p;
  if (!ptr) osize = 0;
  if (nsize == 0) {
    free(ptr);
    b->used -= osize;
    return NULL;
  }
  if (nsize > osize && (b->trip == TRIP_MEMORY || nsize - osize > b->cap - b->used)) {
    if (!b->trip) b->trip = TRIP_MEMORY;
    return NULL;
  }
  if (!(p = realloc(ptr, nsize))) return NULL;
  b->used = b->used - osize + nsize;
  return p;
}

/* the line of the hook file that L runs, 0 when unknown */
static int file_line(lua_State *L, eidos_box *b) {
  lua_Debug ar;
  int level;
  for (level = 0; level < 64 && lua_getstack(L, level, &ar); level++)
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 && ar.source[0] == '@' && !strcmp(ar.source + 1, b->name))
      return ar.currentline;
  return 0;
}

static void count_hook(lua_State *L, lua_Debug *ar);

/* a limit fired: from now on every instruction of L and of the main
 * thread raises too (other threads within TICK instructions) */
static int fire(lua_State *L, eidos_box *b) {
  if (!b->line && b->trip == TRIP_TIME) b->line = file_line(L, b);
  lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
  if (L != b->S) lua_sethook(b->S, count_hook, LUA_MASKCOUNT, 1);
  if (b->trip == TRIP_TIME)
    return luaL_error(L, "%s: hook exceeded its time limit of %I ms", b->name, (LUAI_UACINT)b->time_ms);
  return luaL_error(L, "%s: hook exceeded its memory limit of %I bytes", b->name, (LUAI_UACINT)b->cap);
}

static void count_hook(lua_State *L, lua_Debug *ar) {
  eidos_box *b = eidos_box_of(L);
  (void)ar;
  if (!b->trip) {
    if (b->deadline == 0 || now() <= b->deadline) return;
    b->trip = TRIP_TIME;
  }
  fire(L, b);
}

int eidos_box_expired(void *L) {
  eidos_box *b = eidos_box_of(L);
  if (!b->trip && b->deadline > 0 && now() > b->deadline) b->trip = TRIP_TIME;
  return b->trip != TRIP_NONE;
}

void eidos_box_poll(lua_State *L, int force) {
  eidos_box *b = eidos_box_of(L);
  if (!b->trip && (force || ++b->polls % POLL_EVERY == 0)) eidos_box_expired(L);
  if (b->trip) fire(L, b);
}

void eidos_box_arm(eidos_box *b) {
  b->trip = TRIP_NONE;
  b->line = 0;
  b->polls = 0;
  b->out_left = b->cap;
  b->deadline = now() + (double)b->time_ms / 1000.0;
  lua_sethook(b->S, count_hook, LUA_MASKCOUNT, TICK);
}

const char *eidos_box_tripped(eidos_box *b, char *msg, size_t n) {
  if (b->trip == TRIP_TIME) {
    if (b->line) snprintf(msg, n, "%s:%d: hook exceeded its time limit of %ld ms", b->name, b->line, b->time_ms);
    else snprintf(msg, n, "%s: hook exceeded its time limit of %ld ms", b->name, b->time_ms);
    return "time";
  }
  if (b->trip == TRIP_OUTPUT)
    snprintf(msg, n, "%s: hook printed more than its memory limit of %zu bytes in one call", b->name, b->cap);
  else
    snprintf(msg, n, "%s: hook exceeded its memory limit of %zu bytes", b->name, b->cap);
  return "memory";
}

/* ---- text, read in pieces between looks at the clock ---- */

struct text { const char *s; size_t left; };

static const char *read_piece(lua_State *L, void *ud, size_t *size) {
  struct text *t = ud;
  const char *s = t->s;
  eidos_box_poll(L, 1);
  *size = t->left < PIECE ? t->left : PIECE;
  t->s += *size;
  t->left -= *size;
  return *size ? s : NULL;
}

int eidos_box_loadtext(lua_State *L, const char *s, size_t n, const char *chunkname) {
  struct text t = {s, n};
  return lua_load(L, read_piece, &t, chunkname, "t");
}

/* ---- printing ---- */

struct line { const char *s; size_t n; };

/* (handler, line) -> handler(text of line) */
static int deliver(lua_State *L) {
  struct line *l = lua_touserdata(L, 2);
  lua_settop(L, 1);
  lua_pushlstring(L, l->s, l->n);
  lua_call(L, 1, 0);
  return 0;
}

void eidos_box_print(lua_State *S, const char *s, size_t n) {
  eidos_box *b = eidos_box_of(S);
  struct line l;
  if (n > b->out_left) {
    if (!b->trip) b->trip = TRIP_OUTPUT;
    fire(S, b);
  }
  b->out_left -= n;
  if (!b->host || !b->print_idx || !lua_checkstack(b->host, 4)) return;
  l.s = s;
  l.n = n;
  lua_pushcfunction(b->host, deliver);
  lua_pushvalue(b->host, b->print_idx);
  lua_pushlightuserdata(b->host, &l);
  if (lua_pcall(b->host, 2, 0, 0) != LUA_OK) lua_pop(b->host, 1); /* a failing handler loses the line */
}
