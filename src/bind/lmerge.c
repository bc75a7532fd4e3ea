/*
 * lmerge.c -- eidos.core.merge: deep merge and deep copy of Lua tables.
 * Rules of merge.deep(a, b): the result is a new table; for each key of b,
 * when both a[k] and b[k] are maps (tables that are not lists) they merge
 * recursively, otherwise b[k] replaces a[k] (lists and scalars replace
 * wholesale; yaml.null replaces too). Inputs are never mutated and share no
 * table with the result, so read-only recipe data stays intact. Metatables
 * (list markers, __order) are carried over to the copies.
 */
#include "bind.h"
#include "../core/eidos.h"

/* inputs are checked at EIDOS_NEST_MAX where they are read; deeper here is
 * a cycle or a bug */
#define MAXDEPTH EIDOS_NEST_INTERNAL

static int ismap(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TTABLE && !eidos_bind_islist(L, idx, NULL);
}

static void copy(lua_State *L, int idx, int depth) {
  if (lua_type(L, idx) != LUA_TTABLE) { lua_pushvalue(L, idx); return; }
  if (depth > MAXDEPTH) luaL_error(L, "table nested deeper than %d levels (cycle?)", MAXDEPTH);
  luaL_checkstack(L, 6, "merge");
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  if (lua_getmetatable(L, idx)) lua_setmetatable(L, -2);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    copy(L, -1, depth + 1);
    lua_remove(L, -2);
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
}

/* push merge of a (idx) and b (idx2) */
static void deep(lua_State *L, int a, int b, int depth) {
  if (depth > MAXDEPTH) luaL_error(L, "table nested deeper than %d levels (cycle?)", MAXDEPTH);
  luaL_checkstack(L, 8, "merge");
  a = lua_absindex(L, a);
  b = lua_absindex(L, b);
  copy(L, a, depth);
  lua_pushnil(L);
  while (lua_next(L, b)) {
    int v = lua_gettop(L);
    lua_pushvalue(L, v - 1);
    lua_rawget(L, a);
    if (ismap(L, -1) && ismap(L, v)) deep(L, -1, v, depth + 1);
    else copy(L, v, depth + 1);
    lua_remove(L, -2);
    lua_pushvalue(L, v - 1);
    lua_insert(L, -2);
    lua_rawset(L, v - 2);
    lua_pop(L, 1);
  }
}

/* merge.deep(a, b, ...) -> new table: b merged over a, then the next over
 * that; nil arguments are skipped */
static int l_deep(lua_State *L) {
  int n = lua_gettop(L), i;
  lua_newtable(L);
  for (i = 1; i <= n; i++) {
    if (lua_isnil(L, i)) continue;
    luaL_checktype(L, i, LUA_TTABLE);
    deep(L, -1, i, 0);
    lua_remove(L, -2);
  }
  return 1;
}

/* merge.copy(v) -> deep copy of v (non-tables are returned as they are) */
static int l_copy(lua_State *L) {
  luaL_checkany(L, 1);
  copy(L, 1, 0);
  return 1;
}

/* merge.ismap(v) / merge.islist(v) -> boolean */
static int l_ismap(lua_State *L) { lua_pushboolean(L, ismap(L, 1)); return 1; }
static int l_islist(lua_State *L) {
  lua_pushboolean(L, lua_type(L, 1) == LUA_TTABLE && eidos_bind_islist(L, 1, NULL));
  return 1;
}

static const luaL_Reg funcs[] = {
  {"deep", l_deep}, {"copy", l_copy}, {"ismap", l_ismap}, {"islist", l_islist}, {NULL, NULL}
};

int luaopen_eidos_core_merge(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
