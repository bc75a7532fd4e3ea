/*
 * sandbox_int.h -- what the files of the hook sandbox share (other code
 * uses sandbox.h): the box, the entry points of its limits
 * (sandbox_limits.c) and of the hook's library (sandbox_lib.c,
 * sandbox_str.c). Files depend one way: sandbox.c -> sandbox_lib.c ->
 * sandbox_str.c -> sandbox_limits.c.
 */
#ifndef EIDOS_SANDBOX_INT_H
#define EIDOS_SANDBOX_INT_H

#include "sandbox.h"

enum { TRIP_NONE, TRIP_TIME, TRIP_MEMORY, TRIP_OUTPUT };

struct eidos_box {
  lua_State *S;
  char *src;           /* the file's text, to start over after a tripped call */
  size_t srclen;
  size_t used, cap;    /* bytes held by S; the memory limit */
  long time_ms;
  double deadline;     /* monotonic seconds while the hook runs, else 0 */
  unsigned polls;
  int trip, line;      /* the limit that fired in this run, and where (0 unknown) */
  int stale;           /* a limit fired in an earlier call: start over */
  size_t out_left;     /* bytes this call may still hand the host */
  lua_State *host;     /* the caller's state during a call */
  int print_idx;       /* its print handler's index, 0 none */
  char name[256];
};

static inline eidos_box *eidos_box_of(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

/* ---- the limits (sandbox_limits.c) ---- */

/* The allocator of a box's state (ud is the box): counts, refuses past the
 * memory limit, and after a refusal refuses every growth until the run ends. */
void *eidos_box_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* A run of the hook starts: its deadline is now + time_ms, it may hand the
 * host as many bytes as the memory limit, no limit has fired. */
void eidos_box_arm(eidos_box *b);
/* The message of the limit that fired in this run; returns its reason
 * ("time" or "memory"). */
const char *eidos_box_tripped(eidos_box *b, char *msg, size_t n);
/* Every loop in C that a hook can make long calls this once a turn: it
 * raises the limit error when a limit fired or the deadline has passed
 * (the clock is read on every 256th turn, or now when force is set). */
void eidos_box_poll(lua_State *L, int force);
/* The same as a check function of eidos_pat (ud is the lua_State):
 * returns 1 when the deadline has passed (the caller then raises with
 * eidos_box_poll). */
int eidos_box_expired(void *L);
/* lua_load of Lua text (never bytecode), parsed in pieces between looks
 * at the clock. */
int eidos_box_loadtext(lua_State *L, const char *s, size_t n, const char *chunkname);
/* Hand a line the hook printed to the host: counted against the run's
 * output budget (raises past it), then given to the print handler. */
void eidos_box_print(lua_State *L, const char *line, size_t len);

/* ---- the hook's library ---- */

/* Build the hook's globals from the allowlist (sandbox_lib.c). Runs in
 * protected mode on a fresh state; raises on failure. */
int eidos_box_openlibs(lua_State *L);
/* The bounded string functions (sandbox_str.c), Lua 5.4's signatures. */
int eidos_boxlib_find(lua_State *L);
int eidos_boxlib_match(lua_State *L);
int eidos_boxlib_gmatch(lua_State *L);
int eidos_boxlib_gsub(lua_State *L);
int eidos_boxlib_rep(lua_State *L);

#endif
