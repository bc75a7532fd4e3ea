/*
 * lsandbox.c -- eidos.core.sandbox: the hook sandbox of src/host/sandbox.c
 * (a Lua state per hook file, allowlisted globals, memory and time limits
 * that hold, values crossing as copies) as a handle. Which hooks run with
 * which limits, and what their failures mean, is lua/eidos/hooks.lua.
 */
#include <string.h>
#include "bind.h"
#include "../host/sandbox.h"

#define BOX_MT "eidos.sandbox.Box"
#define MAXPATH 8

struct handle { eidos_box *b; };

static eidos_box *checkbox(lua_State *L) {
  struct handle *h = luaL_checkudata(L, 1, BOX_MT);
  if (!h->b) luaL_error(L, "sandbox is closed");
  return h->b;
}

/* the key path at idx (a string, or a list of strings) into path[] */
static int topath(lua_State *L, int idx, const char *path[MAXPATH]) {
  lua_Integer i, n;
  if (lua_isnoneornil(L, idx)) return 0;
  if (lua_type(L, idx) == LUA_TSTRING) {
    path[0] = lua_tostring(L, idx);
    return 1;
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, idx);
  luaL_argcheck(L, n <= MAXPATH, idx, "key path longer than 8");
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, idx, i) != LUA_TSTRING) luaL_error(L, "key path: element %d is not a string", (int)i);
    path[i - 1] = lua_tostring(L, -1); /* anchored by the path table */
    lua_pop(L, 1);
  }
  return (int)n;
}

static lua_Integer limit(lua_State *L, const char *key) {
  lua_Integer v;
  int ok;
  lua_getfield(L, 3, key);
  v = lua_tointegerx(L, -1, &ok);
  if (!ok || v <= 0) luaL_error(L, "sandbox.new: limits.%s must be a positive integer", key);
  lua_pop(L, 1);
  return v;
}

/* sandbox.new(source, name, {memory=bytes, time_ms=ms [, print=function(line)]})
 *   -> box | nil, message, code, reason. Runs the file's top level under
 *   the limits; print receives each line the hook prints. code is
 *   "timeout", "internal" or "invalid"; reason "time", "memory", "error"
 *   or "result" (the file returned no table), see src/host/sandbox.h. */
static int l_new(lua_State *L) {
  size_t n;
  const char *src = luaL_checklstring(L, 1, &n), *name = luaL_checkstring(L, 2), *reason;
  lua_Integer memory, time_ms;
  struct handle *h;
  char msg[1024];
  luaL_checktype(L, 3, LUA_TTABLE);
  memory = limit(L, "memory");
  time_ms = limit(L, "time_ms");
  h = lua_newuserdatauv(L, sizeof *h, 1);
  h->b = NULL;
  luaL_setmetatable(L, BOX_MT);
  if (lua_getfield(L, 3, "print") != LUA_TNIL) luaL_checktype(L, -1, LUA_TFUNCTION);
  lua_setiuservalue(L, -2, 1);
  if (!(h->b = eidos_box_open(src, n, name, (size_t)memory, (long)time_ms, &reason, msg, sizeof msg))) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, eidos_box_code(reason));
    lua_pushstring(L, reason);
    return 4;
  }
  return 1;
}

/* box:call(path, ...) -> true, results... | false, message, code, reason
 * path: a hook point name or a list of keys ({"operators", "x", "eval"}).
 * Arguments and results are copied; reason is "time", "memory", "error",
 * "value" (a result that cannot cross) or "result" (no function there).
 * Raises when there is nothing at path. */
static int l_call(lua_State *L) {
  eidos_box *b = checkbox(L);
  const char *path[MAXPATH];
  int npath = topath(L, 2, path), nargs = lua_gettop(L) - 2;
  int print = lua_getiuservalue(L, 1, 1) == LUA_TFUNCTION ? lua_gettop(L) : 0;
  return eidos_box_call(b, L, path, npath, 3, nargs, print);
}

/* box:kind(path) -> type name of the exports value at path | nil */
static int l_kind(lua_State *L) {
  eidos_box *b = checkbox(L);
  const char *path[MAXPATH];
  int npath = topath(L, 2, path);
  return eidos_box_kind(b, L, path, npath);
}

/* box:keys([path]) -> sorted list of the string keys of that table */
static int l_keys(lua_State *L) {
  eidos_box *b = checkbox(L);
  const char *path[MAXPATH];
  int npath = topath(L, 2, path);
  eidos_box_keys(b, L, path, npath);
  return 1;
}

/* box:memory() -> bytes in use by the hook's state */
static int l_memory(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)eidos_box_memory(checkbox(L)));
  return 1;
}

/* box:close() (also on collection) */
static int l_close(lua_State *L) {
  struct handle *h = luaL_checkudata(L, 1, BOX_MT);
  eidos_box_close(h->b);
  h->b = NULL;
  return 0;
}

static const luaL_Reg methods[] = {
  {"call", l_call}, {"kind", l_kind}, {"keys", l_keys}, {"memory", l_memory}, {"close", l_close}, {NULL, NULL}
};

static const luaL_Reg metamethods[] = {{"__gc", l_close}, {"__close", l_close}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"new", l_new}, {NULL, NULL}};

int luaopen_eidos_core_sandbox(lua_State *L) {
  eidos_bind_class(L, BOX_MT, methods, metamethods);
  luaL_newlib(L, funcs);
  return 1;
}
