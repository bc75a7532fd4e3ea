/*
 * bind.c -- shared helpers of the Lua bindings (see bind.h, which gives
 * each one's stack effect). Not a module. The comments at the right show
 * the stack, top last.
 */
#include "bind.h"
#include "../core/eidos.h"
#include "../core/http.h"

int eidos_bind_fail(lua_State *L, int code, const char *msg) {
  lua_pushnil(L);                           /* nil */
  lua_pushstring(L, msg);                   /* nil msg */
  lua_pushstring(L, eidos_strcode(code));   /* nil msg code */
  return 3;
}

void eidos_bind_pushnull(lua_State *L) { lua_pushlightuserdata(L, NULL); }

int eidos_bind_isnull(lua_State *L, int idx) {
  return lua_islightuserdata(L, idx) && lua_touserdata(L, idx) == NULL;
}

/* push registry[name], created as {__kind = kind} on first use [-0, +1, m] */
static void marker(lua_State *L, const char *name, const char *kind) {
  if (luaL_newmetatable(L, name)) {         /* mt */
    lua_pushstring(L, kind);                /* mt kind */
    lua_setfield(L, -2, "__kind");          /* mt */
  }
}

void eidos_bind_list_mt(lua_State *L) { marker(L, EIDOS_LIST_MT, "list"); }
void eidos_bind_map_mt(lua_State *L) { marker(L, EIDOS_MAP_MT, "map"); }

int eidos_bind_islist(lua_State *L, int idx, lua_Integer *n) {
  lua_Integer count = 0, max = 0;
  int marked = 0;
  idx = lua_absindex(L, idx);
  if (lua_getmetatable(L, idx)) {                /* mt */
    luaL_getmetatable(L, EIDOS_LIST_MT);         /* mt list_mt */
    marked = lua_rawequal(L, -1, -2) ? 1 : 0;
    if (!marked) {
      luaL_getmetatable(L, EIDOS_MAP_MT);        /* mt list_mt map_mt */
      marked = lua_rawequal(L, -1, -3) ? -1 : 0;
      lua_pop(L, 1);                             /* mt list_mt */
    }
    lua_pop(L, 2);                               /* */
  }
  if (marked < 0) return 0;
  lua_pushnil(L);                                /* nil */
  while (lua_next(L, idx)) {                     /* k v */
    lua_pop(L, 1);                               /* k */
    if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1)) {
      lua_Integer k = lua_tointeger(L, -1);
      if (k >= 1) {
        if (k > max) max = k;
        count++;
        continue;                                /* k (lua_next's next key) */
      }
    }
    lua_pop(L, 1);                               /* */
    if (n) *n = 0;
    return 0;
  }                                              /* */
  if (n) *n = count;
  if (count == 0) return marked > 0;
  return count == max;
}

void eidos_bind_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      const luaL_Reg *metamethods) {
  if (luaL_newmetatable(L, name)) {             /* mt */
    if (metamethods) luaL_setfuncs(L, metamethods, 0);
    if (methods) {
      lua_newtable(L);                           /* mt index */
      luaL_setfuncs(L, methods, 0);
      lua_setfield(L, -2, "__index");            /* mt */
    }
  }
  lua_pop(L, 1);                                 /* */
}

const char *eidos_bind_optstring(lua_State *L, int t, const char *k, size_t *len, const char *who) {
  const char *s = NULL;
  if (len) *len = 0;
  lua_getfield(L, t, k);                         /* t[k] */
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: field %s must be a string", who, k);
    s = lua_tolstring(L, -1, len);               /* (still referenced by t) */
  }
  lua_pop(L, 1);                                 /* */
  return s;
}

double eidos_bind_optnumber(lua_State *L, int t, const char *k, double def, const char *who) {
  double v = def;
  lua_getfield(L, t, k);
  if (!lua_isnil(L, -1)) {
    if (!lua_isnumber(L, -1)) luaL_error(L, "%s: field %s must be a number", who, k);
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

int eidos_bind_optboolean(lua_State *L, int t, const char *k) {
  int v;
  lua_getfield(L, t, k);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

const char **eidos_bind_strings(lua_State *L, int idx, const char *who, const char *what) {
  lua_Integer n, i;
  const char **v;
  if (lua_isnoneornil(L, idx)) return NULL;
  idx = lua_absindex(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, idx);
  v = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *v, 0); /* ud */
  v[n] = NULL;
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, idx, i) != LUA_TSTRING)              /* ud s */
      luaL_error(L, "%s: %s[%d] must be a string", who, what, (int)i);
    v[i - 1] = lua_tostring(L, -1);                          /* (owned by the list) */
    lua_pop(L, 1);                                           /* ud */
  }
  return v;
}

void eidos_bind_opttls(lua_State *L, int t, struct eidos_tls *tls, const char *who) {
  tls->ca_file = eidos_bind_optstring(L, t, "ca_file", NULL, who);
  tls->ca_pem = eidos_bind_optstring(L, t, "ca_data", &tls->ca_pem_len, who);
  tls->cert_file = eidos_bind_optstring(L, t, "cert_file", NULL, who);
  tls->cert_pem = eidos_bind_optstring(L, t, "cert_data", &tls->cert_pem_len, who);
  tls->key_file = eidos_bind_optstring(L, t, "key_file", NULL, who);
  tls->key_pem = eidos_bind_optstring(L, t, "key_data", &tls->key_pem_len, who);
}
