/*
 * ljson.c -- eidos.core.json: the JSON passes of the core that need no parse
 * tree (src/core/json.h). Decoding JSON into tables is lua-cjson's.
 */
#include <stdlib.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/json.h"

#define MAXPATHS 64

/* json.drop(text, {path, ...}) -> text with the values of the members at
 * those paths ("manifest", "chart.templates") replaced by null; nil, msg,
 * "invalid" for text that is not JSON. */
static int l_drop(lua_State *L) {
  size_t len, outlen = 0, n, k;
  const char *in = luaL_checklstring(L, 1, &len);
  const char *paths[MAXPATHS];
  char err[256], *out;
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (size_t)lua_rawlen(L, 2);
  luaL_argcheck(L, n <= MAXPATHS, 2, "at most 64 paths");
  for (k = 0; k < n; k++) {
    lua_rawgeti(L, 2, (lua_Integer)k + 1);
    paths[k] = luaL_checkstring(L, -1);   /* kept alive by the table */
    lua_pop(L, 1);
  }
  if (!(out = malloc(len ? len : 1))) return luaL_error(L, "json.drop: out of memory");
  rc = eidos_json_drop(in, len, paths, n, out, &outlen, err, sizeof err);
  if (rc) {
    free(out);
    return eidos_bind_fail(L, rc, err);
  }
  lua_pushlstring(L, out, outlen);
  free(out);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"drop", l_drop},
  {NULL, NULL}
};

int luaopen_eidos_core_json(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
