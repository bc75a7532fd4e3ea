/*
 * luamod.c -- the eidos_lua Lua module used by the specs under a stock
 * lua5.4 interpreter (busted): require "eidos_lua" preloads every
 * eidos.core.* binding and adds the resource searcher in front of the usual
 * path searchers. Override roots come from $EIDOS_HOME (or set_roots).
 */
#include <stdlib.h>
#include <lua.h>
#include <lauxlib.h>
#include "../core/res.h"
#include "../bind/modules.h"

/* require "eidos_lua" -> eidos.core.res  [-0, +1, e] */
int luaopen_eidos_lua(lua_State *L) {
  const char *home = getenv("EIDOS_HOME");
  if (home) eidos_res_set_roots(&home, 1);
  eidos_bind_preload(L);
  eidos_bind_install_searcher(L, 0);
  lua_getglobal(L, "require");                   /* require */
  lua_pushliteral(L, "eidos.core.res");          /* require name */
  lua_call(L, 1, 1);                             /* res */
  return 1;
}
