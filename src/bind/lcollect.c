/*
 * lcollect.c -- Lua binding of the snapshot collectors (eidos.core.collect):
 * run the C collectors (src/core/collect*.c) in their worker threads and
 * turn the finished value trees into Lua tables on the calling thread.
 * start/wait let Lua do other work (the Kubernetes client) meanwhile. What
 * goes into a Snapshot document, redaction and filtering are Lua policy
 * (lua/eidos/cmd/snapshot.lua, lua/eidos/snapshot/).
 *
 * Options table (all optional):
 *   sysroot = DIR        root of every file read ("/")
 *   only = {TYPE...}     measurement types to collect ("K8s", "GPU", "OS",
 *   exclude = {TYPE...}    "SystemD", "NodeTopology"); default all
 *   timeout_ms = N       deadline of each collector
 *   gpu_timeout_ms = N   deadline of the GPU collector
 *   units = {UNIT...}    SystemD units (default containerd, docker, kubelet)
 *   nvml_lib = PATH      NVML library ("" = skip NVML); default
 *                          $EIDOS_NVML_LIB, then libnvidia-ml.so.1
 *   path = PATH          search path for nvidia-smi (default $PATH)
 * Result: a list, in the fixed order K8s, GPU, OS, SystemD, NodeTopology
 * (selected types only), of {type=, status="ok"|"unavailable"|"timeout"|
 * "error", code=<eidos code name>, reason=<text, unless ok>, elapsed_ms=,
 * measurement={type=, subtypes={{subtype=, data={}, context={}}...}} (ok
 * only)}. Lists carry the eidos.list metatable, empty maps eidos.map.
 * Integers above 2^63-1 (uint64 D-Bus properties) come back as decimal
 * strings, since a Lua integer cannot hold them.
 */
#include <stdio.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/collect.h"

#define RUN_MT "eidos.collect.Run"
#define MAXDEPTH 64

struct lrun {
  struct eidos_collect_run *run;
  int waited;
};

static void push_value(lua_State *L, const struct eidos_value *v, int depth) {
  size_t i, n;
  const char *s;
  char buf[32];
  luaL_checkstack(L, 4, "collect: value too deep");
  switch (eidos_value_type(v)) {
    case EIDOS_VNULL: eidos_bind_pushnull(L); break;
    case EIDOS_VBOOL: lua_pushboolean(L, eidos_value_bool(v)); break;
    case EIDOS_VINT: lua_pushinteger(L, (lua_Integer)eidos_value_int(v)); break;
    case EIDOS_VUINT:
      snprintf(buf, sizeof buf, "%llu", (unsigned long long)eidos_value_uint(v));
      lua_pushstring(L, buf);
      break;
    case EIDOS_VFLOAT: lua_pushnumber(L, eidos_value_float(v)); break;
    case EIDOS_VSTRING:
      s = eidos_value_string(v, &n);
      lua_pushlstring(L, s, n);
      break;
    case EIDOS_VLIST:
      n = eidos_value_len(v);
      lua_createtable(L, (int)n, 0);
      for (i = 0; i < n; i++) {
        if (depth < MAXDEPTH) push_value(L, eidos_value_list_get(v, i), depth + 1);
        else eidos_bind_pushnull(L);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      eidos_bind_list_mt(L);
      lua_setmetatable(L, -2);
      break;
    case EIDOS_VMAP:
      n = eidos_value_len(v);
      lua_createtable(L, 0, (int)n);
      for (i = 0; i < n; i++) {
        const char *k;
        size_t kl;
        const struct eidos_value *c = eidos_value_map_at(v, i, &k, &kl);
        lua_pushlstring(L, k, kl);
        if (depth < MAXDEPTH) push_value(L, c, depth + 1);
        else eidos_bind_pushnull(L);
        lua_rawset(L, -3);
      }
      if (n == 0) {
        eidos_bind_map_mt(L);
        lua_setmetatable(L, -2);
      }
      break;
  }
}

static const char *status_of(int code) {
  if (code == 0) return "ok";
  if (code == EIDOS_EUNAVAIL) return "unavailable";
  if (code == EIDOS_ETIMEOUT) return "timeout";
  return "error";
}

static void push_result(lua_State *L, const struct eidos_collect_result *r) {
  size_t i;
  lua_createtable(L, (int)r->n, 0);
  for (i = 0; i < r->n; i++) {
    const struct eidos_collect_item *it = &r->items[i];
    lua_createtable(L, 0, 6);
    lua_pushstring(L, it->name);
    lua_setfield(L, -2, "type");
    lua_pushstring(L, status_of(it->code));
    lua_setfield(L, -2, "status");
    lua_pushstring(L, eidos_strcode(it->code));
    lua_setfield(L, -2, "code");
    if (it->code) {
      lua_pushstring(L, it->reason);
      lua_setfield(L, -2, "reason");
    }
    lua_pushnumber(L, it->elapsed_ms);
    lua_setfield(L, -2, "elapsed_ms");
    if (it->measurement) {
      push_value(L, it->measurement, 0);
      lua_setfield(L, -2, "measurement");
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  eidos_bind_list_mt(L);
  lua_setmetatable(L, -2);
}

/* Bit set of the type names in list field k of the options; raises on an
 * unknown name, naming what is accepted. */
static unsigned type_set(lua_State *L, int t, const char *k) {
  unsigned set = 0;
  lua_Integer i, n;
  if (lua_getfield(L, t, k) == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (!lua_istable(L, -1)) luaL_error(L, "collect: %s must be a list of type names", k);
  n = (lua_Integer)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    int ty;
    lua_rawgeti(L, -1, i);
    ty = lua_type(L, -1) == LUA_TSTRING ? eidos_collect_type_parse(lua_tostring(L, -1)) : -1;
    if (ty < 0)
      luaL_error(L, "collect: unknown measurement type %s in %s (accepted: K8s, GPU, OS, SystemD, NodeTopology)",
                 luaL_tolstring(L, -1, NULL), k);
    set |= 1u << ty;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return set;
}

static const char *opt_str(lua_State *L, int t, const char *k) {
  const char *s = NULL;
  int ty = lua_getfield(L, t, k);
  if (ty != LUA_TNIL) {
    if (ty != LUA_TSTRING) luaL_error(L, "collect: %s must be a string", k);
    s = lua_tostring(L, -1); /* kept alive by the options table */
  }
  lua_pop(L, 1);
  return s;
}

static int opt_ms(lua_State *L, int t, const char *k) {
  lua_Integer v = 0;
  int ok, ty = lua_getfield(L, t, k);
  if (ty != LUA_TNIL) {
    v = lua_tointegerx(L, -1, &ok);
    if (!ok || v <= 0 || v > 24 * 3600 * 1000)
      luaL_error(L, "collect: %s must be a positive integer of milliseconds", k);
  }
  lua_pop(L, 1);
  return (int)v;
}

/* Start from the options at index 1; pushes the run userdata. */
static int start(lua_State *L) {
  struct eidos_collect_opts o;
  struct lrun *lr;
  const char *units[64];
  unsigned only, excl;
  char err[512];
  int rc;

  memset(&o, 0, sizeof o);
  if (lua_isnoneornil(L, 1)) lua_newtable(L), lua_replace(L, 1);
  luaL_checktype(L, 1, LUA_TTABLE);
  o.sysroot = opt_str(L, 1, "sysroot");
  o.nvml_lib = opt_str(L, 1, "nvml_lib");
  o.path = opt_str(L, 1, "path");
  o.timeout_ms = opt_ms(L, 1, "timeout_ms");
  o.type_timeout_ms[EIDOS_COLLECT_GPU] = opt_ms(L, 1, "gpu_timeout_ms");
  only = type_set(L, 1, "only");
  excl = type_set(L, 1, "exclude");
  if (lua_getfield(L, 1, "k8s") != LUA_TNIL)
    luaL_error(L, "collect: k8s hooks are set from C only; collect K8s in Lua and exclude it here");
  lua_pop(L, 1);
  o.types = (only ? only : EIDOS_COLLECT_ALL) & ~excl;
  if (lua_getfield(L, 1, "units") != LUA_TNIL) {
    lua_Integer i, n;
    luaL_checktype(L, -1, LUA_TTABLE);
    n = (lua_Integer)lua_rawlen(L, -1);
    if (n > 64) luaL_error(L, "collect: at most 64 units");
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "collect: units must be strings");
      units[i - 1] = lua_tostring(L, -1);
      lua_pop(L, 1); /* the string stays referenced by the units table */
    }
    o.units = units;
    o.nunits = (size_t)n;
  }
  lr = lua_newuserdatauv(L, sizeof *lr, 0);
  lr->run = NULL;
  lr->waited = 0;
  luaL_setmetatable(L, RUN_MT);
  if (o.types == 0) return 1; /* nothing selected: waits to an empty list */
  rc = eidos_collect_start(&o, &lr->run, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  return 1;
}

/* collect.start(opts) -> run | nil, msg, code. The collectors run in the
 * background from now on; run:wait() gives their result. */
static int l_start(lua_State *L) { return start(L); }

/* run:wait() -> list of records (see the file comment). A run is waited
 * for once; a second wait raises. */
static int l_wait(lua_State *L) {
  struct lrun *lr = luaL_checkudata(L, 1, RUN_MT);
  struct eidos_collect_result r;
  struct eidos_collect_run *run = lr->run;
  if (lr->waited) luaL_error(L, "collect: this run was already waited for");
  lr->waited = 1;
  lr->run = NULL;
  eidos_collect_wait(run, &r); /* NULL run (nothing selected): empty list */
  push_result(L, &r);
  eidos_collect_result_free(&r);
  return 1;
}

static int l_gc(lua_State *L) {
  struct lrun *lr = luaL_checkudata(L, 1, RUN_MT);
  if (lr->run) eidos_collect_abandon(lr->run);
  lr->run = NULL;
  return 0;
}

/* collect.run(opts) -> list of records | nil, msg, code (bad options
 * raise). Same as start(opts):wait(). */
static int l_run(lua_State *L) {
  int n = start(L);
  if (n != 1) return n;
  lua_replace(L, 1);
  lua_settop(L, 1);
  return l_wait(L);
}

/* collect.types() -> {"K8s", "GPU", "OS", "SystemD", "NodeTopology"} */
static int l_types(lua_State *L) {
  int i;
  lua_createtable(L, EIDOS_COLLECT_NTYPES, 0);
  for (i = 0; i < EIDOS_COLLECT_NTYPES; i++) {
    lua_pushstring(L, eidos_collect_type_name(i));
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static const luaL_Reg methods[] = {{"wait", l_wait}, {NULL, NULL}};
static const luaL_Reg metamethods[] = {{"__gc", l_gc}, {NULL, NULL}};
static const luaL_Reg funcs[] = {
  {"run", l_run}, {"start", l_start}, {"types", l_types}, {NULL, NULL}
};

int luaopen_eidos_core_collect(lua_State *L) {
  eidos_bind_class(L, RUN_MT, methods, metamethods);
  luaL_newlib(L, funcs);
  return 1;
}
