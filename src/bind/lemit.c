/*
 * lemit.c -- eidos.core.emit: canonical YAML and JSON text from Lua values.
 * Walks the value and drives the core writer (src/core/emit.c). Key order:
 * the keys listed in the table's metatable field __order first (in that
 * order), then every other key in natural order (digit runs compare as
 * numbers). Lists: tables marked eidos.list or with keys exactly 1..n.
 * Null: the light userdata NULL (cjson.null). Integers stay integers.
 */
#include <stdlib.h>
#include <string.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/emit.h"
#include "../core/natsort.h"

#define MAXDEPTH 300 /* above the YAML loader's 256, so what loads can be written */

struct key { const char *s; size_t len; };

/* natural order (src/core/natsort.h) */
static int cmpkey(const void *x, const void *y) {
  const struct key *a = x, *b = y;
  return eidos_natcmp(a->s, a->len, b->s, b->len);
}

static int value(lua_State *L, struct eidos_emit *e, int idx, int depth, char *path, size_t plen);

static int keypath(char *path, size_t plen, const char *k) {
  size_t l = strlen(path);
  if (l + strlen(k) + 2 < plen) {
    if (l) strcat(path, ".");
    strcat(path, k);
  }
  return (int)l;
}

static int emit_map(lua_State *L, struct eidos_emit *e, int idx, int depth, char *path, size_t plen) {
  int top = lua_gettop(L), holder, klist, n = 0, nordered, i, rc = 0;
  struct key *keys;
  lua_newtable(L); /* holder: key string -> original key */
  holder = lua_gettop(L);
  lua_newtable(L); /* klist: key strings in emission order (keeps them alive) */
  klist = lua_gettop(L);
  if (lua_getmetatable(L, idx)) {
    if (lua_getfield(L, -1, "__order") == LUA_TTABLE) {
      int m = (int)lua_rawlen(L, -1);
      for (i = 1; i <= m; i++) {
        if (lua_rawgeti(L, -1, i) == LUA_TSTRING) {
          lua_pushvalue(L, -1);
          if (lua_rawget(L, idx) != LUA_TNIL) {
            lua_pushvalue(L, -2);
            if (lua_rawget(L, holder) == LUA_TNIL) {
              lua_pushvalue(L, -3);
              lua_pushvalue(L, -4);
              lua_rawset(L, holder);
              lua_pushvalue(L, -3);
              lua_rawseti(L, klist, ++n);
            }
            lua_pop(L, 1);
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 2);
  }
  nordered = n;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) lua_pushvalue(L, -1);
    else if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1))
      lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, -1));
    else
      return luaL_error(L, "cannot emit a %s key at '%s'", luaL_typename(L, -1), path);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, holder) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushvalue(L, -3);
      lua_rawset(L, holder);
      lua_rawseti(L, klist, ++n);
    } else {
      lua_pop(L, 2);
    }
  }
  /* GC-owned; keys are Lua strings kept alive by klist, with their
     lengths (a key may hold a NUL byte) */
  keys = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *keys, 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, klist, i + 1);
    keys[i].s = lua_tolstring(L, -1, &keys[i].len);
    lua_pop(L, 1);
  }
  qsort(keys + nordered, (size_t)(n - nordered), sizeof *keys, cmpkey);
  eidos_emit_begin_map(e);
  for (i = 0; i < n && !rc; i++) {
    int saved;
    eidos_emit_key(e, keys[i].s, keys[i].len);
    lua_pushlstring(L, keys[i].s, keys[i].len);
    lua_rawget(L, holder);
    lua_rawget(L, idx);
    saved = keypath(path, plen, keys[i].s);
    rc = value(L, e, lua_gettop(L), depth + 1, path, plen);
    path[saved] = 0;
    lua_pop(L, 1);
  }
  eidos_emit_end_map(e);
  lua_settop(L, top);
  return rc;
}

static int value(lua_State *L, struct eidos_emit *e, int idx, int depth, char *path, size_t plen) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return eidos_emit_null(e);
    case LUA_TBOOLEAN: return eidos_emit_bool(e, lua_toboolean(L, idx));
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) return eidos_emit_int(e, lua_tointeger(L, idx));
      return eidos_emit_float(e, lua_tonumber(L, idx));
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      return eidos_emit_string(e, s, n);
    }
    case LUA_TLIGHTUSERDATA:
      if (eidos_bind_isnull(L, idx)) return eidos_emit_null(e);
      break;
    case LUA_TTABLE: {
      lua_Integer n, i;
      if (depth > MAXDEPTH) return luaL_error(L, "value nested deeper than %d levels at '%s' (cycle?)", MAXDEPTH, path);
      luaL_checkstack(L, 8, "emit");
      if (eidos_bind_islist(L, idx, &n)) {
        int rc = 0;
        eidos_emit_begin_list(e);
        for (i = 1; i <= n && !rc; i++) {
          lua_rawgeti(L, idx, i);
          rc = value(L, e, lua_gettop(L), depth + 1, path, plen);
          lua_pop(L, 1);
        }
        return rc ? rc : eidos_emit_end_list(e);
      }
      return emit_map(L, e, idx, depth, path, plen);
    }
    default: break;
  }
  return luaL_error(L, "cannot emit a %s value at '%s'", luaL_typename(L, idx), path);
}

static int gc_emitter(lua_State *L) {
  struct eidos_emit **pe = lua_touserdata(L, 1);
  if (*pe) eidos_emit_free(*pe);
  *pe = NULL;
  return 0;
}

static int doemit(lua_State *L, enum eidos_emit_format fmt) {
  int indent = 2, rc;
  const char *out;
  size_t len;
  char err[300], path[512] = "";
  struct eidos_emit **pe;
  luaL_checkany(L, 1);
  if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "indent") == LUA_TNUMBER) indent = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  lua_settop(L, 1);
  /* the writer lives in a userdata so a raised error cannot leak it */
  pe = lua_newuserdatauv(L, sizeof *pe, 0);
  *pe = NULL;
  if (luaL_newmetatable(L, "eidos.emit.Writer")) {
    lua_pushcfunction(L, gc_emitter);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  *pe = eidos_emit_new(fmt, indent);
  if (!*pe) return luaL_error(L, "out of memory");
  value(L, *pe, 1, 0, path, sizeof path);
  rc = eidos_emit_finish(*pe, &out, &len, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, out, len);
  eidos_emit_free(*pe);
  *pe = NULL;
  return 1;
}

/* emit.yaml(value) -> text | nil, msg, code (raises on unsupported types) */
static int l_yaml(lua_State *L) { return doemit(L, EIDOS_EMIT_YAML); }
/* emit.json(value [, {indent=2}]) -> text | nil, msg, code */
static int l_json(lua_State *L) { return doemit(L, EIDOS_EMIT_JSON); }

/* emit.natcmp(a, b) -> -1/0/1 in the emitters' natural key order */
static int l_natcmp(lua_State *L) {
  struct key a, b;
  int c;
  a.s = luaL_checklstring(L, 1, &a.len);
  b.s = luaL_checklstring(L, 2, &b.len);
  c = cmpkey(&a, &b);
  lua_pushinteger(L, c < 0 ? -1 : c > 0);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"yaml", l_yaml}, {"json", l_json}, {"natcmp", l_natcmp}, {NULL, NULL}
};

int luaopen_eidos_core_emit(lua_State *L) {
  luaL_newlib(L, funcs);
  eidos_bind_list_mt(L);
  lua_setfield(L, -2, "list_mt");
  eidos_bind_map_mt(L);
  lua_setfield(L, -2, "map_mt");
  eidos_bind_pushnull(L);
  lua_setfield(L, -2, "null");
  return 1;
}
