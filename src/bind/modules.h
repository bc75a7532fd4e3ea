/*
 * modules.h -- registration of the eidos.core.* bindings and the resource
 * searcher into a Lua state (see modules.c).
 */
#ifndef EIDOS_MODULES_H
#define EIDOS_MODULES_H
#include <lua.h>
/* package.preload["eidos.core.NAME"] for every binding. [-0, +0, m] */
void eidos_bind_preload(lua_State *L);
/* The resource searcher right after the preload searcher; exclusive: also
 * empty package.path and package.cpath. [-0, +0, e] */
void eidos_bind_install_searcher(lua_State *L, int exclusive);
#endif
