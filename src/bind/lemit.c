/*
 * lemit.c -- eidos.core.emit: canonical YAML and JSON text from Lua values.
 * Walks the value and drives the core writer (src/core/emit.c). Key order:
 * the keys listed in the table's metatable field __order first (in that
 * order), then every other key in natural order (digit runs compare as
 * numbers). Lists: tables marked eidos.list or with keys exactly 1..n.
 * Null: the light userdata NULL (cjson.null). Integers stay integers.
 * Stack effects are noted [-o, +p, x] as in the Lua reference manual
 * (o popped, p pushed; x: - no error, m memory only, v raises on misuse,
 * e any error); the comments at the right show the stack, top last.
 */
#include <stdlib.h>
#include <string.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/emit.h"
#include "../core/natsort.h"

#define MAXDEPTH EIDOS_NEST_INTERNAL /* above what any checked input reaches */

struct key { const char *s; size_t len; };

/* qsort comparator: natural order (src/core/natsort.h) */
static int cmpkey(const void *x, const void *y) {
  const struct key *a = x, *b = y;
  return eidos_natcmp(a->s, a->len, b->s, b->len);
}

/* Emit the value at idx (any Lua value a document may hold); path is the
 * dotted key path so far, for error messages. [-0, +0, e] */
static int value(lua_State *L, struct eidos_emit *e, int idx, int depth, char *path, size_t plen);

/* Append ".k" (or "k") to path if it fits; returns the old length, to
 * restore it with path[old] = 0. No stack effect. */
static int keypath(char *path, size_t plen, const char *k) {
  size_t l = strlen(path);
  if (l + strlen(k) + 2 < plen) {
    if (l) strcat(path, ".");
    strcat(path, k);
  }
  return (int)l;
}

/* Emit the map at idx: the keys listed in its metatable's __order first,
 * then the others in natural order. Keys are strings or integers (an
 * integer key is written as its decimal text). Two helper tables live on
 * the stack meanwhile: holder (key text -> the original key, so the value
 * can be looked up) and klist (the key texts in emission order, which also
 * keeps every text alive for the C array sorted below).
 * [-0, +0, e] (raises on a key of another type) */
static int emit_map(lua_State *L, struct eidos_emit *e, int idx, int depth, char *path, size_t plen) {
  int top = lua_gettop(L), holder, klist, n = 0, nordered, i, rc = 0;
  struct key *keys;
  lua_newtable(L);                                  /* holder */
  holder = lua_gettop(L);
  lua_newtable(L);                                  /* holder klist */
  klist = lua_gettop(L);
  if (lua_getmetatable(L, idx)) {                   /* holder klist mt */
    if (lua_getfield(L, -1, "__order") == LUA_TTABLE) { /* holder klist mt order */
      int m = (int)lua_rawlen(L, -1);
      for (i = 1; i <= m; i++) {
        if (lua_rawgeti(L, -1, i) == LUA_TSTRING) { /* ... order k */
          lua_pushvalue(L, -1);                     /* ... order k k */
          if (lua_rawget(L, idx) != LUA_TNIL) {     /* ... order k v */
            lua_pushvalue(L, -2);                   /* ... order k v k */
            if (lua_rawget(L, holder) == LUA_TNIL) { /* ... order k v nil: not listed yet */
              lua_pushvalue(L, -3);                 /* ... order k v nil k */
              lua_pushvalue(L, -4);                 /* ... order k v nil k k */
              lua_rawset(L, holder);                /* ... order k v nil (holder[k] = k) */
              lua_pushvalue(L, -3);                 /* ... order k v nil k */
              lua_rawseti(L, klist, ++n);           /* ... order k v nil (klist[n] = k) */
            }
            lua_pop(L, 1);                          /* ... order k v */
          }
          lua_pop(L, 1);                            /* ... order k */
        }
        lua_pop(L, 1);                              /* ... order */
      }
    }
    lua_pop(L, 2);                                  /* holder klist */
  }
  nordered = n;
  lua_pushnil(L);                                   /* holder klist nil */
  while (lua_next(L, idx)) {                        /* holder klist key v */
    lua_pop(L, 1);                                  /* holder klist key */
    if (lua_type(L, -1) == LUA_TSTRING) lua_pushvalue(L, -1); /* holder klist key text */
    else if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1))
      lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, -1)); /* holder klist key text */
    else
      return luaL_error(L, "cannot emit a %s key at '%s'", luaL_typename(L, -1), path);
    lua_pushvalue(L, -1);                           /* holder klist key text text */
    if (lua_rawget(L, holder) == LUA_TNIL) {        /* holder klist key text nil */
      lua_pop(L, 1);                                /* holder klist key text */
      lua_pushvalue(L, -1);                         /* holder klist key text text */
      lua_pushvalue(L, -3);                         /* holder klist key text text key */
      lua_rawset(L, holder);                        /* holder klist key text (holder[text] = key) */
      lua_rawseti(L, klist, ++n);                   /* holder klist key (klist[n] = text) */
    } else {                                        /* holder klist key text listed */
      lua_pop(L, 2);                                /* holder klist key */
    }
  }                                                 /* holder klist */
  /* GC-owned; keys are Lua strings kept alive by klist, with their
     lengths (a key may hold a NUL byte) */
  keys = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *keys, 0); /* holder klist keys */
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, klist, i + 1);                   /* holder klist keys text */
    keys[i].s = lua_tolstring(L, -1, &keys[i].len);
    lua_pop(L, 1);                                  /* holder klist keys */
  }
  qsort(keys + nordered, (size_t)(n - nordered), sizeof *keys, cmpkey);
  eidos_emit_begin_map(e);
  for (i = 0; i < n && !rc; i++) {
    int saved;
    eidos_emit_key(e, keys[i].s, keys[i].len);
    lua_pushlstring(L, keys[i].s, keys[i].len);     /* holder klist keys text */
    lua_rawget(L, holder);                          /* holder klist keys key */
    lua_rawget(L, idx);                             /* holder klist keys v */
    saved = keypath(path, plen, keys[i].s);
    rc = value(L, e, lua_gettop(L), depth + 1, path, plen);
    path[saved] = 0;
    lua_pop(L, 1);                                  /* holder klist keys */
  }
  eidos_emit_end_map(e);
  lua_settop(L, top);                               /* (as on entry) */
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
      luaL_checkstack(L, 8, "emit"); /* emit_map's helpers and a value */
      if (eidos_bind_islist(L, idx, &n)) {
        int rc = 0;
        eidos_emit_begin_list(e);
        for (i = 1; i <= n && !rc; i++) {
          lua_rawgeti(L, idx, i);                   /* ... v */
          rc = value(L, e, lua_gettop(L), depth + 1, path, plen);
          lua_pop(L, 1);                            /* ... */
        }
        return rc ? rc : eidos_emit_end_list(e);
      }
      return emit_map(L, e, idx, depth, path, plen);
    }
    default: break;
  }
  return luaL_error(L, "cannot emit a %s value at '%s'", luaL_typename(L, idx), path);
}

/* __gc of the writer holder: frees the C writer once. [-0, +0, -] */
static int gc_emitter(lua_State *L) {
  struct eidos_emit **pe = lua_touserdata(L, 1);
  if (*pe) eidos_emit_free(*pe);
  *pe = NULL;
  return 0;
}

/* emit(value [, {indent=N}]) in fmt. The C writer lives in a userdata
 * with a __gc, so an error raised half-way cannot leak it.
 * [-(1|2), +(1|3), e] */
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
  lua_settop(L, 1);                                 /* value */
  pe = lua_newuserdatauv(L, sizeof *pe, 0);         /* value ud */
  *pe = NULL;
  if (luaL_newmetatable(L, "eidos.emit.Writer")) {  /* value ud mt */
    lua_pushcfunction(L, gc_emitter);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);                          /* value ud */
  *pe = eidos_emit_new(fmt, indent);
  if (!*pe) return luaL_error(L, "out of memory");
  value(L, *pe, 1, 0, path, sizeof path);
  rc = eidos_emit_finish(*pe, &out, &len, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);      /* value ud nil msg code */
  lua_pushlstring(L, out, len);                     /* value ud text */
  eidos_emit_free(*pe);
  *pe = NULL;
  return 1;
}

/* emit.yaml(value) -> text | nil, msg, code (raises on unsupported types)
 * [-1, +(1|3), e] */
static int l_yaml(lua_State *L) { return doemit(L, EIDOS_EMIT_YAML); }
/* emit.json(value [, {indent=2}]) -> text | nil, msg, code
 * [-(1|2), +(1|3), e] */
static int l_json(lua_State *L) { return doemit(L, EIDOS_EMIT_JSON); }

/* emit.natcmp(a, b) -> -1/0/1 in the emitters' natural key order
 * [-2, +1, v] */
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

/* [-0, +1, m] */
int luaopen_eidos_core_emit(lua_State *L) {
  luaL_newlib(L, funcs);                            /* M */
  eidos_bind_list_mt(L);                            /* M list_mt */
  lua_setfield(L, -2, "list_mt");                   /* M */
  eidos_bind_map_mt(L);                             /* M map_mt */
  lua_setfield(L, -2, "map_mt");                    /* M */
  eidos_bind_pushnull(L);                           /* M null */
  lua_setfield(L, -2, "null");                      /* M */
  return 1;
}
