/*
 * lsandbox.c -- eidos.core.sandbox: operator-written Lua hooks, each run in
 * its own small Lua state that the host controls completely:
 *  - memory cap: the state's allocator counts every byte and refuses past
 *    the cap (the hook sees "not enough memory");
 *  - time cap: a count hook checks a monotonic deadline every 1000 VM
 *    instructions; once the deadline passed it raises on EVERY instruction
 *    of every thread, so pcall, xpcall and coroutines cannot swallow it;
 *  - allowlisted globals only: base functions without dofile, loadfile,
 *    require, collectgarbage; load() of text only with the hook's own
 *    globals; string (without dump), table, math, utf8, coroutine, and os
 *    reduced to time, clock, date; no io, debug or package. The string
 *    metatable is locked (getmetatable("") returns a string);
 *  - values cross between states only as copies of nil, booleans, numbers,
 *    strings and tables (depth and size capped; list markers and __order
 *    kept); functions never cross;
 *  - xpcall runs its handler after unwinding and setmetatable refuses
 *    __gc, because Lua runs both of those with hooks disabled;
 *  - error objects that are not strings are never converted with their
 *    __tostring (it could loop): the message names their type instead.
 * The sandbox is a binding, not core: it is nothing but Lua states.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lualib.h>
#include "bind.h"
#include "../core/eidos.h"

#define BOX_MT "eidos.sandbox.Box"
#define COPY_MAXDEPTH 64
#define COPY_MAXNODES 1000000
#define TICK 1000

struct box {
  lua_State *S;
  size_t used, cap;
  double deadline; /* monotonic seconds; 0 = none */
  int tripped, oom;
  long time_ms;
  char name[256];
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct box *b = ud;
  if (!ptr) osize = 0;
  if (nsize == 0) {
    free(ptr);
    b->used -= osize;
    return NULL;
  }
  if (nsize > osize && b->used - osize + nsize > b->cap) {
    b->oom = 1;
    return NULL;
  }
  {
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    b->used = b->used - osize + nsize;
    return p;
  }
}

static struct box *box_of(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

static void hook(lua_State *L, lua_Debug *ar) {
  struct box *b = box_of(L);
  (void)ar;
  if (!b->tripped && b->deadline > 0 && now() > b->deadline) b->tripped = 1;
  if (b->tripped) {
    lua_sethook(L, hook, LUA_MASKCOUNT, 1); /* from now on: every instruction */
    luaL_error(L, "%s: hook exceeded its time limit of %d ms", b->name, (int)b->time_ms);
  }
}

/* ---- copying values between states ---- */

static int copy(lua_State *from, int idx, lua_State *to, int depth, long *nodes, char *err, size_t errlen);

static int copy_table(lua_State *from, int idx, lua_State *to, int depth, long *nodes, char *err, size_t errlen) {
  int list = 0;
  idx = lua_absindex(from, idx);
  if (depth > COPY_MAXDEPTH) return eidos_err(err, errlen, EIDOS_EINVAL, "value nested deeper than %d levels", COPY_MAXDEPTH);
  if (!lua_checkstack(to, 8) || !lua_checkstack(from, 8)) return eidos_err(err, errlen, EIDOS_EINVAL, "value too deep");
  lua_newtable(to);
  if (lua_getmetatable(from, idx)) {                 /* from: mt */
    lua_getfield(from, -1, "__kind");
    list = lua_isstring(from, -1) && strcmp(lua_tostring(from, -1), "list") == 0;
    lua_pop(from, 1);
    if (list) {
      eidos_bind_list_mt(to); /* the host's or the sandbox's own marker */
      lua_setmetatable(to, -2);
    } else {
      if (lua_getfield(from, -1, "__order") == LUA_TTABLE) { /* from: mt, order */
        int rc = copy(from, -1, to, depth + 1, nodes, err, errlen);
        if (rc) { lua_pop(from, 2); return rc; }
        lua_createtable(to, 0, 1);                 /* to: t, order, mt */
        lua_insert(to, -2);
        lua_setfield(to, -2, "__order");
        lua_setmetatable(to, -2);
      }
      lua_pop(from, 1);
    }
    lua_pop(from, 1);
  }
  lua_pushnil(from);
  while (lua_next(from, idx)) {
    int rc = copy(from, -2, to, depth + 1, nodes, err, errlen);
    if (!rc) rc = copy(from, -1, to, depth + 1, nodes, err, errlen);
    if (rc) { lua_pop(from, 2); return rc; }
    lua_rawset(to, -3);
    lua_pop(from, 1);
  }
  return 0;
}

static int copy(lua_State *from, int idx, lua_State *to, int depth, long *nodes, char *err, size_t errlen) {
  if (++*nodes > COPY_MAXNODES) return eidos_err(err, errlen, EIDOS_EINVAL, "value has more than %d parts", COPY_MAXNODES);
  switch (lua_type(from, idx)) {
    case LUA_TNIL: lua_pushnil(to); return 0;
    case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return 0;
    case LUA_TNUMBER:
      if (lua_isinteger(from, idx)) lua_pushinteger(to, lua_tointeger(from, idx));
      else lua_pushnumber(to, lua_tonumber(from, idx));
      return 0;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(from, idx, &n);
      lua_pushlstring(to, s, n);
      return 0;
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(from, idx) == NULL) { lua_pushlightuserdata(to, NULL); return 0; }
      break;
    case LUA_TTABLE: return copy_table(from, idx, to, depth, nodes, err, errlen);
    default: break;
  }
  return eidos_err(err, errlen, EIDOS_EINVAL, "cannot pass a %s between Lua states (only plain data)",
                   lua_typename(from, lua_type(from, idx)));
}

/* message of the error value on top of S, never calling __tostring */
static void errmsg(lua_State *S, struct box *b, char *out, size_t n) {
  if (b->oom && lua_type(S, -1) == LUA_TSTRING && strstr(lua_tostring(S, -1), "not enough memory"))
    snprintf(out, n, "%s: hook exceeded its memory limit of %zu bytes", b->name, b->cap);
  else if (lua_type(S, -1) == LUA_TSTRING || lua_type(S, -1) == LUA_TNUMBER)
    snprintf(out, n, "%s", lua_tostring(S, -1));
  else
    snprintf(out, n, "%s: hook raised a %s value as its error", b->name, luaL_typename(S, -1));
}

/* ---- the sandbox globals ---- */

static int sb_load(lua_State *S) {
  size_t n;
  const char *s = luaL_checklstring(S, 1, &n); /* text only: no reader functions */
  const char *name = luaL_optstring(S, 2, "=(load)");
  if (luaL_loadbufferx(S, s, n, name, "t") != LUA_OK) {
    lua_pushnil(S);
    lua_insert(S, -2);
    return 2;
  }
  lua_pushglobaltable(S); /* the hook's own (trimmed) globals only */
  lua_setupvalue(S, -2, 1);
  return 1;
}

/* xpcall(f, msgh, ...): Lua runs a message handler before unwinding, and
 * with hooks disabled when the error was raised inside a hook -- so a
 * looping handler would escape the time limit. This one runs the handler
 * after unwinding (hooks active), and not at all once the time is up. */
static int sb_xpcall(lua_State *S) {
  int n = lua_gettop(S), status;
  luaL_checktype(S, 2, LUA_TFUNCTION);
  lua_pushvalue(S, 2);
  lua_insert(S, 1); /* handler saved at 1; stack: msgh, f, msgh, args... */
  lua_remove(S, 3);
  status = lua_pcall(S, n - 2, LUA_MULTRET, 0);
  if (status == LUA_OK) {
    lua_pushboolean(S, 1);
    lua_replace(S, 1);
    return lua_gettop(S);
  }
  if (box_of(S)->tripped) return lua_error(S);
  lua_pushvalue(S, 1);
  lua_insert(S, -2);
  status = lua_pcall(S, 1, 1, 0);
  if (status != LUA_OK && box_of(S)->tripped) return lua_error(S);
  lua_pushboolean(S, 0);
  lua_insert(S, -2);
  return 2;
}

/* setmetatable(t, mt): finalizers run with hooks disabled, so __gc is
 * refused (it must be present at setmetatable time to take effect). */
static int sb_setmetatable(lua_State *S) {
  luaL_checktype(S, 1, LUA_TTABLE);
  if (lua_istable(S, 2)) {
    lua_getfield(S, 2, "__gc");
    if (!lua_isnil(S, -1)) return luaL_error(S, "finalizers (__gc) are not allowed in hooks");
    lua_pop(S, 1);
  } else if (!lua_isnil(S, 2)) {
    return luaL_typeerror(S, 2, "nil or table");
  }
  if (luaL_getmetafield(S, 1, "__metatable") != LUA_TNIL)
    return luaL_error(S, "cannot change a protected metatable");
  lua_settop(S, 2);
  lua_setmetatable(S, 1);
  return 1;
}

static int sb_print(lua_State *S) {
  struct box *b = box_of(S);
  int i, n = lua_gettop(S);
  luaL_Buffer buf;
  luaL_buffinit(S, &buf);
  for (i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&buf, '\t');
    if (lua_type(S, i) == LUA_TSTRING || lua_type(S, i) == LUA_TNUMBER) {
      lua_pushvalue(S, i);
      luaL_addvalue(&buf);
    } else {
      luaL_addstring(&buf, luaL_typename(S, i));
    }
  }
  luaL_pushresult(&buf);
  fprintf(stderr, "hook %s: %s\n", b->name, lua_tostring(S, -1));
  return 0;
}

static void trim(lua_State *S, const char *lib, const char *const *keep) {
  int i;
  lua_getglobal(S, lib);
  lua_newtable(S);
  for (i = 0; keep[i]; i++) {
    lua_getfield(S, -2, keep[i]);
    lua_setfield(S, -2, keep[i]);
  }
  lua_setglobal(S, lib);
  lua_pop(S, 1);
}

static int setup(lua_State *S) {
  static const char *const drop[] = {"dofile", "loadfile", "require", "collectgarbage", NULL};
  static const char *const oskeep[] = {"time", "clock", "date", "difftime", NULL};
  int i;
  luaL_requiref(S, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(S, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(S, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(S, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(S, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  luaL_requiref(S, LUA_COLIBNAME, luaopen_coroutine, 1);
  luaL_requiref(S, LUA_OSLIBNAME, luaopen_os, 1);
  lua_pop(S, 7);
  for (i = 0; drop[i]; i++) {
    lua_pushnil(S);
    lua_setglobal(S, drop[i]);
  }
  trim(S, "os", oskeep);
  /* string.dump removed from the real table, reachable via ("").dump */
  lua_getglobal(S, "string");
  lua_pushnil(S);
  lua_setfield(S, -2, "dump");
  lua_pop(S, 1);
  lua_pushcfunction(S, sb_load);
  lua_setglobal(S, "load");
  lua_pushcfunction(S, sb_print);
  lua_setglobal(S, "print");
  lua_pushcfunction(S, sb_xpcall);
  lua_setglobal(S, "xpcall");
  lua_pushcfunction(S, sb_setmetatable);
  lua_setglobal(S, "setmetatable");
  /* lock the string metatable */
  lua_pushliteral(S, "");
  lua_getmetatable(S, -1);
  lua_pushliteral(S, "locked");
  lua_setfield(S, -2, "__metatable");
  lua_pop(S, 2);
  /* list marker for data coming from the host */
  eidos_bind_list_mt(S);
  lua_pop(S, 1);
  return 0;
}

/* ---- host side ---- */

static struct box *checkbox(lua_State *L) {
  struct box *b = luaL_checkudata(L, 1, BOX_MT);
  if (!b->S) luaL_error(L, "sandbox is closed");
  return b;
}

static void arm(struct box *b) {
  b->tripped = 0;
  b->oom = 0;
  b->deadline = b->time_ms > 0 ? now() + (double)b->time_ms / 1000.0 : 0;
  lua_sethook(b->S, hook, LUA_MASKCOUNT, TICK);
}

/* Run S's function at -nargs-1 with nargs; on success copy nres results to
 * L and return their count; on failure push false, message to L. */
static int run(lua_State *L, struct box *b, int nargs) {
  lua_State *S = b->S;
  int base = lua_gettop(S) - nargs - 1, nres, i, rc, ltop = lua_gettop(L);
  char msg[1024], err[256];
  long nodes = 0;
  arm(b);
  rc = lua_pcall(S, nargs, LUA_MULTRET, 0);
  lua_sethook(S, NULL, 0, 0);
  if (rc != LUA_OK) {
    errmsg(S, b, msg, sizeof msg);
    lua_settop(S, base);
    lua_pushboolean(L, 0);
    lua_pushstring(L, msg);
    return 2;
  }
  nres = lua_gettop(S) - base;
  luaL_checkstack(L, nres + 4, "sandbox");
  lua_pushboolean(L, 1);
  for (i = 1; i <= nres; i++) {
    if (copy(S, base + i, L, 0, &nodes, err, sizeof err)) {
      lua_settop(S, base);
      lua_settop(L, ltop);
      lua_pushboolean(L, 0);
      lua_pushfstring(L, "%s: result %d: %s", b->name, i, err);
      return 2;
    }
  }
  lua_settop(S, base);
  return nres + 1;
}

/* sandbox.new(source, name [, {memory=bytes, time_ms=ms}]) -> box | nil, msg, code
 * Loads and runs the hook file's chunk under the limits; its result (a
 * table, checked) is kept as the hook's exports. */
static int l_new(lua_State *L) {
  size_t n;
  const char *src = luaL_checklstring(L, 1, &n);
  const char *name = luaL_checkstring(L, 2);
  struct box *b;
  char chunk[300], msg[1024];
  int rc;
  lua_settop(L, 3);
  b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, BOX_MT);
  b->cap = 32u * 1024 * 1024;
  b->time_ms = 100;
  if (lua_istable(L, 3)) {
    if (lua_getfield(L, 3, "memory") == LUA_TNUMBER) b->cap = (size_t)lua_tointeger(L, -1);
    if (lua_getfield(L, 3, "time_ms") == LUA_TNUMBER) b->time_ms = (long)lua_tointeger(L, -1);
    lua_pop(L, 2);
  }
  snprintf(b->name, sizeof b->name, "%s", name);
  b->S = lua_newstate(alloc, b);
  if (!b->S) return eidos_bind_fail(L, EIDOS_EINTERNAL, "cannot create a Lua state for the hook");
  /* open libraries unlimited in time, but within the memory cap */
  lua_pushcfunction(b->S, setup);
  if (lua_pcall(b->S, 0, 0, 0) != LUA_OK) {
    snprintf(msg, sizeof msg, "%s: cannot set up the sandbox (memory limit too low?)", name);
    lua_close(b->S);
    b->S = NULL;
    return eidos_bind_fail(L, EIDOS_EINVAL, msg);
  }
  snprintf(chunk, sizeof chunk, "@%s", name);
  rc = luaL_loadbufferx(b->S, src, n, chunk, "t");
  if (rc != LUA_OK) {
    errmsg(b->S, b, msg, sizeof msg);
    lua_close(b->S);
    b->S = NULL;
    return eidos_bind_fail(L, EIDOS_EINVAL, msg);
  }
  arm(b);
  rc = lua_pcall(b->S, 0, 1, 0);
  lua_sethook(b->S, NULL, 0, 0);
  if (rc != LUA_OK || !lua_istable(b->S, -1)) {
    if (rc != LUA_OK) errmsg(b->S, b, msg, sizeof msg);
    else snprintf(msg, sizeof msg, "%s: a hook file must return a table of hook points, got %s", name,
                  luaL_typename(b->S, -1));
    lua_close(b->S);
    b->S = NULL;
    return eidos_bind_fail(L, EIDOS_EINVAL, msg);
  }
  lua_setfield(b->S, LUA_REGISTRYINDEX, "eidos.hook.exports");
  return 1;
}

/* push the exports value at path (a list of keys) onto S; 0 if absent */
static int getpath(lua_State *L, struct box *b, int pathidx) {
  lua_State *S = b->S;
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, pathidx);
  lua_getfield(S, LUA_REGISTRYINDEX, "eidos.hook.exports");
  for (i = 1; i <= n; i++) {
    if (!lua_istable(S, -1)) { lua_pop(S, 1); return 0; }
    lua_rawgeti(L, pathidx, i);
    lua_pushstring(S, luaL_checkstring(L, -1));
    lua_pop(L, 1);
    lua_rawget(S, -2);
    lua_remove(S, -2);
  }
  if (lua_isnil(S, -1)) { lua_pop(S, 1); return 0; }
  return 1;
}

static void topath(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, 1);
    lua_replace(L, idx);
  }
  luaL_checktype(L, idx, LUA_TTABLE);
}

/* box:call(name_or_path, ...) -> true, results... | false, msg
 * Arguments and results are copied; the call runs under the limits. */
static int l_call(lua_State *L) {
  struct box *b = checkbox(L);
  int nargs = lua_gettop(L) - 2, i;
  char err[256];
  long nodes = 0;
  topath(L, 2);
  if (!getpath(L, b, 2)) return luaL_error(L, "%s: no hook function at that name", b->name);
  if (lua_type(b->S, -1) != LUA_TFUNCTION) {
    lua_pushboolean(L, 0);
    lua_pushfstring(L, "%s: hook point is a %s, not a function", b->name, luaL_typename(b->S, -1));
    lua_pop(b->S, 1);
    return 2;
  }
  luaL_checkstack(b->S, nargs + 4, "sandbox");
  for (i = 0; i < nargs; i++) {
    if (copy(L, 3 + i, b->S, 0, &nodes, err, sizeof err)) {
      lua_settop(b->S, 0);
      lua_pushboolean(L, 0);
      lua_pushfstring(L, "%s: argument %d: %s", b->name, i + 1, err);
      return 2;
    }
  }
  return run(L, b, nargs);
}

/* box:kind(name_or_path) -> "function" | "table" | other type name | nil */
static int l_kind(lua_State *L) {
  struct box *b = checkbox(L);
  topath(L, 2);
  if (!getpath(L, b, 2)) return 0;
  lua_pushstring(L, luaL_typename(b->S, -1));
  lua_pop(b->S, 1);
  return 1;
}

/* box:keys(name_or_path|nil) -> sorted list of string keys of that table */
static int l_keys(lua_State *L) {
  struct box *b = checkbox(L);
  int found;
  lua_Integer n = 0;
  if (lua_isnoneornil(L, 2)) { lua_settop(L, 1); lua_newtable(L); }
  topath(L, 2);
  found = getpath(L, b, 2);
  lua_newtable(L);
  if (!found) return 1;
  if (lua_istable(b->S, -1)) {
    lua_pushnil(b->S);
    while (lua_next(b->S, -2)) {
      lua_pop(b->S, 1);
      if (lua_type(b->S, -1) == LUA_TSTRING) {
        lua_pushstring(L, lua_tostring(b->S, -1));
        lua_rawseti(L, -2, ++n);
      }
    }
  }
  lua_pop(b->S, 1);
  lua_getglobal(L, "table");
  lua_getfield(L, -1, "sort");
  lua_pushvalue(L, -3);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  return 1;
}

/* box:memory() -> bytes in use by the hook state */
static int l_memory(lua_State *L) {
  struct box *b = checkbox(L);
  lua_pushinteger(L, (lua_Integer)b->used);
  return 1;
}

static int l_close(lua_State *L) {
  struct box *b = luaL_checkudata(L, 1, BOX_MT);
  if (b->S) lua_close(b->S);
  b->S = NULL;
  return 0;
}

static const luaL_Reg methods[] = {
  {"call", l_call}, {"kind", l_kind}, {"keys", l_keys}, {"memory", l_memory},
  {"close", l_close}, {NULL, NULL}
};

static const luaL_Reg funcs[] = {{"new", l_new}, {NULL, NULL}};

static const luaL_Reg metamethods[] = {{"__gc", l_close}, {"__close", l_close}, {NULL, NULL}};

int luaopen_eidos_core_sandbox(lua_State *L) {
  eidos_bind_class(L, BOX_MT, methods, metamethods);
  luaL_newlib(L, funcs);
  return 1;
}
