/*
 * modules.h -- registration of the eidos.core.* bindings and the resource
 * searcher into a Lua state (see modules.c).
 */
#ifndef EIDOS_MODULES_H
#define EIDOS_MODULES_H
#include <lua.h>
void eidos_bind_preload(lua_State *L);
/* exclusive: drop the path/cpath searchers and empty package.path/cpath */
void eidos_bind_install_searcher(lua_State *L, int exclusive);
#endif
