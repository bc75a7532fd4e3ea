/*
 * lserver.c -- the Lua module eidos.server, present only in the states of
 * eidosd's Lua threads: how the Lua API reports what it measured to the C
 * metrics, reuses an answer of the shared response cache, and what it may
 * ask the server (its thread id and pool, a monotonic clock, the OpenAPI
 * document compiled into the binary). It is a capability, not a module
 * found by require: C hands the table to eidos.api.server.worker as an
 * argument (as Nmap's NSE hands its engine `cnse`), and eidos.api passes it
 * on to what needs it. Lua code that runs outside eidosd (specs, the CLI)
 * is given none and carries on without it.
 */
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include "../host/state.h"
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

/* server.answer_cached(key) -> true when the response cache holds an
 * answer stored under key (the alias a handler returned); the handler
 * then returns server.CACHED [, nil, nil, cache] and C sends that answer.
 * false when there is none (or no cache, or no request running). */
static int l_answer_cached(lua_State *L) {
  size_t len;
  const char *key = luaL_checklstring(L, 1, &len);
  struct srv_job *j = srv_job_current();
  struct srv_resp *r = NULL;
  char k[SRV_CACHE_MAXKEY + 1];
  if (j && G.cache && len < SRV_CACHE_MAXKEY) {
    k[0] = 1; /* the prefix of alias keys (job.c) */
    memcpy(k + 1, key, len);
    r = srv_cache_get(G.cache, k, len + 1, srv_hash(k, len + 1, 0));
  }
  if (r) srv_job_reuse(j, r);
  lua_pushboolean(L, r != NULL);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"observe", l_observe}, {"count", l_count}, {"clock", l_clock}, {"time", l_time},
  {"openapi", l_openapi}, {"draining", l_draining}, {"answer_cached", l_answer_cached}, {NULL, NULL}
};

static int open_server(lua_State *L) {
  luaL_newlibtable(L, funcs);
  lua_pushvalue(L, lua_upvalueindex(1));
  luaL_setfuncs(L, funcs, 1);
  lua_pushlightuserdata(L, (void *)&srv_cached_sentinel);
  lua_setfield(L, -2, "CACHED");
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_setfield(L, -2, "pool");
  lua_pushinteger(L, G.pool_size[POOL_API]);
  lua_setfield(L, -2, "handlers");
  lua_pushinteger(L, G.pool_size[POOL_BUNDLE]);
  lua_setfield(L, -2, "bundlers");
  lua_pushboolean(L, G.cache != NULL);
  lua_setfield(L, -2, "cache");
  return 1;
}

int srv_api_prepare(lua_State *L, const char *fn) {
  int i, rc;
  lua_pushcfunction(L, eidos_host_traceback);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "eidos.api.server");
  if ((rc = lua_pcall(L, 1, 1, 1)) != LUA_OK) return rc;
  lua_getfield(L, -1, fn);
  lua_createtable(L, G.cfg.argc, 0);
  for (i = 1; i < G.cfg.argc; i++) {
    lua_pushstring(L, G.cfg.argv[i]);
    lua_rawseti(L, -2, i);
  }
  return LUA_OK;
}

/* push the server capability table of a pool thread's state (metrics sink
 * m, the name of its pool), built in a protected call whose message handler
 * is at index 1; LUA_OK, or the error status with the message on top
 * [-0, +1, -] */
int srv_lua_server(lua_State *L, struct srv_metrics *m, const char *pool) {
  lua_pushlightuserdata(L, m);                /* m */
  lua_pushstring(L, pool);                    /* m pool */
  lua_pushcclosure(L, open_server, 2);        /* open */
  return lua_pcall(L, 0, 1, 1);               /* server | msg */
}
