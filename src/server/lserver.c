/*
 * lserver.c -- the Lua module eidos.server, present only in eidosd's
 * worker states: how the Lua API reports what it measured to the C
 * metrics, and what it may ask the server (the worker id, a monotonic
 * clock, the OpenAPI document compiled into the binary). Lua code that
 * runs outside eidosd (specs, the CLI) finds no such module and carries on
 * without metrics.
 */
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include "server.h"

static struct srv_metrics *metrics(lua_State *L) {
  return lua_touserdata(L, lua_upvalueindex(1));
}

/* server.observe(name, value): name one of recipe_build_seconds,
 * bundle_build_seconds, bundle_size_bytes; raises on an unknown name. */
static int l_observe(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  double v = luaL_checknumber(L, 2);
  int i = srv_metrics_obs_index(name);
  if (i < 0) return luaL_argerror(L, 1, "unknown observation (accepted: recipe_build_seconds, bundle_build_seconds, bundle_size_bytes)");
  srv_metrics_observe(metrics(L), i, v);
  return 0;
}

/* server.count(name [, n]): name recipe_cache_hits, recipe_cache_misses or
 * handler_errors (a request answered 500 because its handler failed). */
static int l_count(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, 1);
  int i = srv_metrics_cnt_index(name);
  if (i != CNT_RECIPE_CACHE_HITS && i != CNT_RECIPE_CACHE_MISSES && i != CNT_LUA_ERRORS)
    return luaL_argerror(L, 1, "unknown counter (accepted: recipe_cache_hits, recipe_cache_misses, handler_errors)");
  if (n > 0) srv_metrics_count(metrics(L), i, (uint64_t)n);
  return 0;
}

/* server.clock() -> seconds of a monotonic clock (for durations) */
static int l_clock(lua_State *L) {
  lua_pushnumber(L, (double)srv_mono_ns() / 1e9);
  return 1;
}

/* server.time() -> seconds since 1970 with millisecond precision */
static int l_time(lua_State *L) {
  lua_pushnumber(L, (double)(srv_real_ns() / 1000000u) / 1e3);
  return 1;
}

/* server.openapi() -> the OpenAPI document compiled in (api/openapi.yaml) */
static int l_openapi(lua_State *L) {
  lua_pushlstring(L, srv_openapi_yaml, srv_openapi_yaml_len);
  return 1;
}

/* server.draining() -> true once the server stopped being ready */
static int l_draining(lua_State *L) {
  lua_pushboolean(L, atomic_load(&G.phase) >= PHASE_DRAINING);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"observe", l_observe}, {"count", l_count}, {"clock", l_clock}, {"time", l_time},
  {"openapi", l_openapi}, {"draining", l_draining}, {NULL, NULL}
};

static int open_server(lua_State *L) {
  luaL_newlibtable(L, funcs);
  lua_pushvalue(L, lua_upvalueindex(1));
  luaL_setfuncs(L, funcs, 1);
  lua_pushinteger(L, srv_self ? srv_self->id : 0);
  lua_setfield(L, -2, "worker");
  lua_pushinteger(L, G.nworkers);
  lua_setfield(L, -2, "workers");
  return 1;
}

void srv_lua_preload(lua_State *L, struct srv_metrics *m) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushlightuserdata(L, m);
  lua_pushcclosure(L, open_server, 1);
  lua_setfield(L, -2, "eidos.server");
  lua_pop(L, 1);
}
