/*
 * lversion.c -- Lua binding of the version core (eidos.core.version):
 * parse a version string into a plain table, compare two versions at the
 * lower precision of the two, and test validity. The constraint operators
 * built on compare are Lua policy (lua/eidos/constraint.lua).
 */
#include <lua.h>
#include <lauxlib.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/version.h"

static void push_version(lua_State *L, const eidos_version *v,
                         const char *s, size_t len) {
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, v->major);
  lua_setfield(L, -2, "major");
  lua_pushinteger(L, v->minor);
  lua_setfield(L, -2, "minor");
  lua_pushinteger(L, v->patch);
  lua_setfield(L, -2, "patch");
  lua_pushinteger(L, v->precision);
  lua_setfield(L, -2, "precision");
  lua_pushlstring(L, s + v->extra, len - v->extra);
  lua_setfield(L, -2, "extra");
  lua_pushlstring(L, s, len);
  lua_setfield(L, -2, "raw");
}

static lua_Integer field(lua_State *L, int idx, int arg, const char *k,
                         lua_Integer lo, lua_Integer hi) {
  lua_Integer n;
  int ok;
  lua_getfield(L, idx, k);
  n = lua_tointegerx(L, -1, &ok);
  if (!ok || n < lo || n > hi)
    luaL_argerror(L, arg, lua_pushfstring(L,
      "version table field '%s' must be an integer from %I to %I",
      k, lo, hi));
  lua_pop(L, 1);
  return n;
}

/* Read argument arg (a version string or a table from parse) into v.
 * Returns 0, or pushes nil, msg, code and returns 3. */
static int check_version(lua_State *L, int arg, eidos_version *v) {
  char err[512];
  if (lua_type(L, arg) == LUA_TTABLE) {
    v->precision = (int)field(L, arg, arg, "precision", 1, 3);
    v->major = field(L, arg, arg, "major", 0, EIDOS_VERSION_PART_MAX);
    v->minor = v->precision >= 2 ? field(L, arg, arg, "minor", 0, EIDOS_VERSION_PART_MAX) : 0;
    v->patch = v->precision >= 3 ? field(L, arg, arg, "patch", 0, EIDOS_VERSION_PART_MAX) : 0;
    return 0;
  } else {
    size_t len;
    const char *s;
    int rc;
    if (lua_type(L, arg) != LUA_TSTRING)
      luaL_typeerror(L, arg, "version string or table");
    s = lua_tolstring(L, arg, &len);
    rc = eidos_version_parse(s, len, v, err, sizeof err);
    return rc ? eidos_bind_fail(L, rc, err) : 0;
  }
}

/* version.parse(s) -> {major=, minor=, patch=, precision=, extra=, raw=}
 * (extra is the suffix with its '-' or '+', or ""; missing parts are 0);
 * on a malformed version: nil, message, "invalid". s must be a string (a
 * number raises: YAML's 1.30 is the float 1.3, not a version). */
static int l_parse(lua_State *L) {
  size_t len;
  const char *s;
  luaL_checktype(L, 1, LUA_TSTRING); /* no number coercion: 1.30 would read as "1.3" */
  s = lua_tolstring(L, 1, &len);
  char err[512];
  eidos_version v;
  int rc = eidos_version_parse(s, len, &v, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  push_version(L, &v, s, len);
  return 1;
}

/* version.compare(a, b) -> -1, 0 or 1; a and b are version strings or
 * tables from parse, compared up to the lower of their precisions
 * ("1.32" == "1.32.4"), suffixes ignored. If a string does not parse:
 * nil, message, "invalid". */
static int l_compare(lua_State *L) {
  eidos_version a, b;
  if (check_version(L, 1, &a)) return 3;
  if (check_version(L, 2, &b)) return 3;
  lua_pushinteger(L, eidos_version_compare(&a, &b));
  return 1;
}

/* version.valid(s) -> true if s parses as a version, else false (also
 * for a non-string s). */
static int l_valid(lua_State *L) {
  size_t len;
  const char *s;
  eidos_version v;
  if (lua_type(L, 1) != LUA_TSTRING) {
    lua_pushboolean(L, 0);
    return 1;
  }
  s = lua_tolstring(L, 1, &len);
  lua_pushboolean(L, eidos_version_parse(s, len, &v, NULL, 0) == 0);
  return 1;
}

/* version.format(v) -> "1", "1.2" or "1.2.3" by precision (no suffix); v is
 * a string or a table from parse; on a malformed string: nil, msg, code. */
static int l_format(lua_State *L) {
  eidos_version v;
  char buf[80];
  if (check_version(L, 1, &v)) return 3;
  eidos_version_format(&v, buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"parse", l_parse},
  {"compare", l_compare},
  {"valid", l_valid},
  {"format", l_format},
  {NULL, NULL}
};

int luaopen_eidos_core_version(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
