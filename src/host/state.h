/*
 * state.h -- creation of a fully prepared Lua state (standard libraries,
 * core bindings preloaded, resource searcher, cjson), shared by the CLI
 * entry point and the HTTP server's worker threads. As in lua.c, the
 * preparation is a lua_CFunction meant to run inside a protected call, so
 * that running out of memory while opening the libraries is an error the
 * caller reports, not a panic.
 */
#ifndef EIDOS_STATE_H
#define EIDOS_STATE_H
#include <lua.h>
/* Compute override roots from argv (--lua-path/--data-dir), $EIDOS_HOME,
 * <exe>/../share/eidos and <exe dir>, and install them. Call once at start. */
void eidos_host_roots(int argc, char **argv);
/* Prepare a bare state (luaL_newstate) to require "eidos.*"; call it with
 * lua_pcall. [-0, +0, m] */
int eidos_host_openstate(lua_State *L);
/* A new prepared state (luaL_newstate, then eidos_host_openstate in a
 * protected call); NULL when out of memory. */
lua_State *eidos_host_newstate(void);
/* Message handler for lua_pcall: adds a traceback to string errors and
 * keeps structured error objects as they are. [-1, +1, m] */
int eidos_host_traceback(lua_State *L);
#endif
