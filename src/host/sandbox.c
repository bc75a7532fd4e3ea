/*
 * sandbox.c -- the hook sandbox (see sandbox.h): one Lua state per hook
 * file, its lifecycle, and the values that cross. Its limits are
 * sandbox_limits.c, its globals sandbox_lib.c.
 *  - A run whose limit fired leaves the box stale: the next call starts
 *    a fresh state and runs the file's top level again, so nothing a
 *    killed run left (a coroutine killed with its hooks off, half-updated
 *    tables) survives it.
 *  - Values cross between the host and the hook only as copies of plain
 *    data (nil, booleans, numbers, strings, tables; list markers and
 *    __order kept), never functions. Copying out counts against the memory
 *    limit (every copy of a string, 40 bytes a value): a hook cannot make
 *    the host hold more than its limit.
 *  - Host code never lets one state raise while the other is running:
 *    work on the hook's state that allocates runs in a protected call of
 *    that state, and copying out reads it without allocating.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "../bind/bind.h"
#include "sandbox_int.h"

#define COPY_MAXDEPTH 64
#define VALUE_COST 40     /* bytes counted per value copied out, besides string bytes */

/* registry keys of S: light userdata, found without allocating */
static const char EXPORTS_KEY = 'e', ORDER_KEY = 'o', KIND_KEY = 'k';

const char *eidos_box_code(const char *reason) {
  if (!strcmp(reason, "time")) return "timeout";
  if (!strcmp(reason, "value") || !strcmp(reason, "result")) return "invalid";
  return "internal";
}

/* the message of the error value on top of S, naming the file, never
 * calling __tostring (it could loop) nor converting in place (it would
 * allocate) */
static void error_message(lua_State *S, eidos_box *b, char *msg, size_t n) {
  int t = lua_type(S, -1);
  size_t ln = strlen(b->name);
  const char *s = t == LUA_TSTRING ? lua_tostring(S, -1) : NULL;
  if (t == LUA_TSTRING && !strncmp(s, b->name, ln) && s[ln] == ':') snprintf(msg, n, "%s", s);
  else if (t == LUA_TSTRING) snprintf(msg, n, "%s: %s", b->name, s);
  else if (t == LUA_TNUMBER && lua_isinteger(S, -1)) snprintf(msg, n, "%s: %lld", b->name, (long long)lua_tointeger(S, -1));
  else if (t == LUA_TNUMBER) snprintf(msg, n, "%s: %.14g", b->name, (double)lua_tonumber(S, -1));
  else snprintf(msg, n, "%s: hook raised a %s value as its error", b->name, lua_typename(S, t));
}

/* ---- values crossing ---- */

struct copy {
  lua_State *from, *to;
  int out;               /* copying out of S: `from` must not allocate */
  int kind_idx, order_idx; /* copying in: "__kind", "__order" on the host's stack */
  int depth;
  size_t *budget;        /* copying out: bytes left */
  const char *reason;    /* on failure: "value" or "memory" */
  char msg[256];
};

static int copy_fail(struct copy *c, const char *reason, const char *msg) {
  c->reason = reason;
  snprintf(c->msg, sizeof c->msg, "%s", msg);
  return -1;
}

static int charge(struct copy *c, size_t n) {
  if (!c->budget) return 0;
  if (n > *c->budget) return copy_fail(c, "memory", "larger than the hook's memory limit (every copy of a string counts)");
  *c->budget -= n;
  return 0;
}

/* push the metatable key "__kind" (0) or "__order" (1) onto from */
static void push_key(struct copy *c, int order) {
  if (c->out) lua_rawgetp(c->from, LUA_REGISTRYINDEX, order ? &ORDER_KEY : &KIND_KEY);
  else lua_pushvalue(c->from, order ? c->order_idx : c->kind_idx);
}

static int copy(struct copy *c, int idx);

static int copy_table(struct copy *c, int idx) {
  lua_State *from = c->from, *to = c->to;
  int list = 0, rc = 0;
  idx = lua_absindex(from, idx);
  if (c->depth >= COPY_MAXDEPTH) return copy_fail(c, "value", "value nested deeper than 64 levels (a cycle?)");
  if (!lua_checkstack(from, 8) || !lua_checkstack(to, 8))
    return copy_fail(c, "memory", "no stack space left to copy the value");
  if (charge(c, VALUE_COST)) return -1;
  c->depth++;
  lua_newtable(to);
  if (lua_getmetatable(from, idx)) {
    int mt = lua_gettop(from);
    push_key(c, 0);
    if (lua_rawget(from, mt) == LUA_TSTRING) list = !strcmp(lua_tostring(from, -1), "list");
    lua_pop(from, 1);
    if (list) {
      eidos_bind_list_mt(to);
      lua_setmetatable(to, -2);
    } else {
      push_key(c, 1);
      if (lua_rawget(from, mt) == LUA_TTABLE && !(rc = copy(c, -1))) {
        lua_createtable(to, 0, 1);
        lua_insert(to, -2);
        lua_setfield(to, -2, "__order");
        lua_setmetatable(to, -2);
      }
      lua_pop(from, 1);
    }
    lua_pop(from, 1);
  }
  lua_pushnil(from);
  while (!rc && lua_next(from, idx)) {
    if (!(rc = copy(c, -2)) && !(rc = copy(c, -1))) lua_rawset(to, -3);
    lua_pop(from, rc ? 2 : 1);
  }
  c->depth--;
  return rc;
}

static int copy(struct copy *c, int idx) {
  lua_State *from = c->from, *to = c->to;
  char msg[128];
  switch (lua_type(from, idx)) {
    case LUA_TNIL: lua_pushnil(to); return charge(c, VALUE_COST);
    case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return charge(c, VALUE_COST);
    case LUA_TNUMBER:
      if (lua_isinteger(from, idx)) lua_pushinteger(to, lua_tointeger(from, idx));
      else lua_pushnumber(to, lua_tonumber(from, idx));
      return charge(c, VALUE_COST);
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(from, idx, &n);
      if (charge(c, n + VALUE_COST)) return -1;
      lua_pushlstring(to, s, n);
      return 0;
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(from, idx) == NULL) { /* the YAML/JSON null */
        lua_pushlightuserdata(to, NULL);
        return charge(c, VALUE_COST);
      }
      break;
    case LUA_TTABLE: return copy_table(c, idx);
    default: break;
  }
  snprintf(msg, sizeof msg, "cannot pass a %s between Lua states (only plain data)", lua_typename(from, lua_type(from, idx)));
  return copy_fail(c, "value", msg);
}

/* ---- steps that allocate in S, run protected ---- */

struct step {
  eidos_box *b;
  lua_State *L;
  const char *const *path;
  int npath, argbase, nargs;
  int found;
  struct copy c;
};

/* push exports[path] onto S, or nothing; 1 when found */
static int push_path(lua_State *S, const char *const *path, int npath) {
  int i;
  lua_rawgetp(S, LUA_REGISTRYINDEX, &EXPORTS_KEY);
  for (i = 0; i < npath; i++) {
    if (!lua_istable(S, -1)) break;
    lua_pushstring(S, path[i]);
    lua_rawget(S, -2);
    lua_remove(S, -2);
  }
  if (i < npath || lua_isnil(S, -1)) {
    lua_pop(S, 1);
    return 0;
  }
  return 1;
}

/* S: exports[path] and copies of the arguments */
static int prepare(lua_State *S) {
  struct step *st = lua_touserdata(S, 1);
  int i;
  lua_settop(S, 0);
  if (!(st->found = push_path(S, st->path, st->npath)) || !lua_isfunction(S, 1)) return lua_gettop(S);
  luaL_checkstack(S, st->nargs + 8, "hook arguments");
  for (i = 0; i < st->nargs; i++)
    if (copy(&st->c, st->argbase + i)) return 0;
  return st->nargs + 1;
}

static int find(lua_State *S) {
  struct step *st = lua_touserdata(S, 1);
  lua_settop(S, 0);
  return push_path(S, st->path, st->npath);
}

static int setup(lua_State *S) {
  eidos_box_openlibs(S);
  lua_pushboolean(S, 0); /* the slot exists: storing the exports later does not allocate */
  lua_rawsetp(S, LUA_REGISTRYINDEX, &EXPORTS_KEY);
  lua_pushliteral(S, "__order");
  lua_rawsetp(S, LUA_REGISTRYINDEX, &ORDER_KEY);
  lua_pushliteral(S, "__kind");
  lua_rawsetp(S, LUA_REGISTRYINDEX, &KIND_KEY);
  return 0;
}

static int load_file(lua_State *S) {
  eidos_box *b = lua_touserdata(S, 1);
  char chunk[300];
  snprintf(chunk, sizeof chunk, "@%s", b->name);
  if (eidos_box_loadtext(S, b->src, b->srclen, chunk) != LUA_OK) return lua_error(S);
  return 1;
}

/* a fresh state running the file's top level; 0, or -1 with msg */
static int start(eidos_box *b, const char **reason, char *msg, size_t n) {
  int rc;
  if (b->S) lua_close(b->S);
  b->trip = TRIP_NONE;
  b->deadline = 0;
  b->stale = 0;
  if (!(b->S = lua_newstate(eidos_box_alloc, b))) {
    *reason = "memory";
    snprintf(msg, n, "%s: cannot create a Lua state within the memory limit of %zu bytes", b->name, b->cap);
    return -1;
  }
  lua_pushcfunction(b->S, setup);
  if (lua_pcall(b->S, 0, 0, 0) != LUA_OK) {
    *reason = "memory";
    snprintf(msg, n, "%s: cannot set up the sandbox within the memory limit of %zu bytes", b->name, b->cap);
    goto fail;
  }
  eidos_box_arm(b);
  lua_pushcfunction(b->S, load_file);
  lua_pushlightuserdata(b->S, b);
  rc = lua_pcall(b->S, 1, 1, 0);
  if (rc == LUA_OK) rc = lua_pcall(b->S, 0, 1, 0);
  b->deadline = 0;
  if (b->trip) {
    *reason = eidos_box_tripped(b, msg, n);
    goto fail;
  }
  if (rc != LUA_OK) {
    *reason = "error";
    error_message(b->S, b, msg, n);
    goto fail;
  }
  if (!lua_istable(b->S, -1)) {
    *reason = "result";
    snprintf(msg, n, "%s: a hook file must return a table of hook points, got %s", b->name, luaL_typename(b->S, -1));
    goto fail;
  }
  lua_rawsetp(b->S, LUA_REGISTRYINDEX, &EXPORTS_KEY);
  return 0;
fail:
  lua_close(b->S);
  b->S = NULL;
  b->stale = 1;
  return -1;
}

/* ---- the API ---- */

eidos_box *eidos_box_open(const char *src, size_t len, const char *name, size_t memory, long time_ms,
                          const char **reason, char *msg, size_t msglen) {
  eidos_box *b = calloc(1, sizeof *b);
  if (!b || !(b->src = malloc(len ? len : 1))) {
    free(b);
    *reason = "memory";
    snprintf(msg, msglen, "%s: out of memory", name);
    return NULL;
  }
  memcpy(b->src, src, len);
  b->srclen = len;
  b->cap = memory;
  b->time_ms = time_ms;
  snprintf(b->name, sizeof b->name, "%s", name);
  if (start(b, reason, msg, msglen)) {
    eidos_box_close(b);
    return NULL;
  }
  return b;
}

void eidos_box_close(eidos_box *b) {
  if (!b) return;
  if (b->S) lua_close(b->S);
  free(b->src);
  free(b);
}

size_t eidos_box_memory(eidos_box *b) { return b->used; }

/* start over when a limit fired in an earlier call: 0, or -1 with msg */
static int ready(eidos_box *b, const char **reason, char *msg, size_t n) {
  if (b->stale && start(b, reason, msg, n)) return -1;
  b->trip = TRIP_NONE;
  return 0;
}

static void ready_or_raise(eidos_box *b, lua_State *L) {
  const char *reason;
  char msg[1024];
  if (ready(b, &reason, msg, sizeof msg)) luaL_error(L, "%s", msg);
}

static int run_step(eidos_box *b, lua_CFunction f, struct step *st) {
  lua_settop(b->S, 0);
  lua_pushcfunction(b->S, f);
  lua_pushlightuserdata(b->S, st);
  return lua_pcall(b->S, 1, LUA_MULTRET, 0);
}

static int failed(lua_State *L, const char *msg, const char *reason) {
  lua_pushboolean(L, 0);
  lua_pushstring(L, msg);
  lua_pushstring(L, eidos_box_code(reason));
  lua_pushstring(L, reason);
  return 4;
}

/* copy the nres results on S to L; 0, or -1 with msg and *reason */
static int copy_out(eidos_box *b, lua_State *L, int nres, const char **reason, char *msg, size_t n) {
  struct copy c;
  int i;
  memset(&c, 0, sizeof c);
  c.from = b->S;
  c.to = L;
  c.out = 1;
  c.budget = &b->out_left;
  for (i = 1; i <= nres; i++) {
    if (copy(&c, i)) {
      if (b->trip) {
        *reason = eidos_box_tripped(b, msg, n);
        b->stale = 1;
      } else if (!strcmp((*reason = c.reason), "memory")) {
        snprintf(msg, n, "%s: its result is larger than its memory limit of %zu bytes (each copy of a string counts)",
                 b->name, b->cap);
      } else {
        snprintf(msg, n, "%s: result %d: %s", b->name, i, c.msg);
      }
      return -1;
    }
  }
  return 0;
}

int eidos_box_call(eidos_box *b, lua_State *L, const char *const *path, int npath, int argbase, int nargs,
                   int print_idx) {
  lua_State *S;
  struct step st;
  const char *reason;
  char msg[1024];
  int rc, nres, ltop = lua_gettop(L);
  if (ready(b, &reason, msg, sizeof msg)) return failed(L, msg, reason);
  S = b->S;
  memset(&st, 0, sizeof st);
  st.b = b;
  st.L = L;
  st.path = path;
  st.npath = npath;
  st.argbase = lua_absindex(L, argbase);
  st.nargs = nargs;
  luaL_checkstack(L, 4, "sandbox");
  lua_pushliteral(L, "__kind");
  lua_pushliteral(L, "__order");
  st.c.from = L;
  st.c.to = S;
  st.c.kind_idx = ltop + 1;
  st.c.order_idx = ltop + 2;
  rc = run_step(b, prepare, &st);
  lua_settop(L, ltop);
  if (rc != LUA_OK || st.c.reason) {
    lua_settop(S, 0);
    if (rc != LUA_OK) snprintf(msg, sizeof msg, "%s: its arguments do not fit in its memory limit of %zu bytes", b->name, b->cap);
    else snprintf(msg, sizeof msg, "%s: argument: %s", b->name, st.c.msg);
    return failed(L, msg, rc != LUA_OK ? "memory" : "error");
  }
  if (!st.found) return luaL_error(L, "%s: no hook function at that name", b->name);
  if (!lua_isfunction(S, 1)) {
    snprintf(msg, sizeof msg, "%s: hook point is a %s, not a function", b->name, luaL_typename(S, 1));
    lua_settop(S, 0);
    return failed(L, msg, "result");
  }
  b->host = L;
  b->print_idx = print_idx ? lua_absindex(L, print_idx) : 0;
  eidos_box_arm(b);
  rc = lua_pcall(S, nargs, LUA_MULTRET, 0);
  b->deadline = 0;
  b->host = NULL;
  if (b->trip) {
    reason = eidos_box_tripped(b, msg, sizeof msg);
    b->stale = 1;
    lua_settop(S, 0);
    return failed(L, msg, reason);
  }
  if (rc != LUA_OK) {
    error_message(S, b, msg, sizeof msg);
    lua_settop(S, 0);
    return failed(L, msg, "error");
  }
  nres = lua_gettop(S);
  luaL_checkstack(L, nres + 4, "sandbox results");
  lua_pushboolean(L, 1);
  if (copy_out(b, L, nres, &reason, msg, sizeof msg)) {
    lua_settop(S, 0);
    lua_settop(L, ltop);
    return failed(L, msg, reason);
  }
  lua_settop(S, 0);
  return nres + 1;
}

int eidos_box_kind(eidos_box *b, lua_State *L, const char *const *path, int npath) {
  struct step st;
  ready_or_raise(b, L);
  memset(&st, 0, sizeof st);
  st.path = path;
  st.npath = npath;
  if (run_step(b, find, &st) != LUA_OK || lua_gettop(b->S) == 0) {
    lua_settop(b->S, 0);
    return 0;
  }
  lua_pushstring(L, luaL_typename(b->S, -1));
  lua_settop(b->S, 0);
  return 1;
}

struct key { const char *s; size_t n; };

static int key_order(const void *a, const void *b) {
  const struct key *x = a, *y = b;
  int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
  return c ? c : (x->n > y->n) - (x->n < y->n);
}

void eidos_box_keys(eidos_box *b, lua_State *L, const char *const *path, int npath) {
  struct step st;
  struct key *keys = NULL;
  size_t n = 0, cap = 0, i;
  lua_State *S;
  ready_or_raise(b, L);
  S = b->S;
  memset(&st, 0, sizeof st);
  st.path = path;
  st.npath = npath;
  lua_newtable(L);
  if (run_step(b, find, &st) != LUA_OK || lua_gettop(S) == 0 || !lua_istable(S, -1)) {
    lua_settop(S, 0);
    return;
  }
  lua_pushnil(S);
  while (lua_next(S, 1)) {
    lua_pop(S, 1);
    if (lua_type(S, -1) != LUA_TSTRING) continue;
    if (n == cap) {
      struct key *k = realloc(keys, (cap = cap ? cap * 2 : 16) * sizeof *keys);
      if (!k) {
        free(keys);
        lua_settop(S, 0);
        luaL_error(L, "%s: out of memory listing the hook's keys", b->name);
        return;
      }
      keys = k;
    }
    keys[n].s = lua_tolstring(S, -1, &keys[n].n);
    n++;
  }
  if (n) qsort(keys, n, sizeof *keys, key_order);
  for (i = 0; i < n && lua_checkstack(L, 2); i++) {
    lua_pushlstring(L, keys[i].s, keys[i].n);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(keys);
  lua_settop(S, 0);
}

