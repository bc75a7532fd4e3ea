/*
 * lbuild.c -- eidos.core.build: the identity of this binary (version,
 * commit, build date), injected by the build from cmake/buildinfo.c.in.
 */
#include "bind.h"

extern const char *const eidos_build_version;
extern const char *const eidos_build_commit;
extern const char *const eidos_build_date;

int luaopen_eidos_core_build(lua_State *L) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, eidos_build_version);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, eidos_build_commit);
  lua_setfield(L, -2, "commit");
  lua_pushstring(L, eidos_build_date);
  lua_setfield(L, -2, "date");
  lua_pushstring(L, LUA_RELEASE);
  lua_setfield(L, -2, "lua");
  return 1;
}
