/*
 * state.h -- creation of a fully prepared Lua state (standard libraries,
 * core bindings preloaded, resource searcher, cjson), shared by the CLI
 * entry point and the HTTP server's worker threads.
 */
#ifndef EIDOS_STATE_H
#define EIDOS_STATE_H
#include <lua.h>
/* Compute override roots from argv (--lua-path/--data-dir), $EIDOS_HOME,
 * <exe>/../share/eidos and <exe dir>, and install them. Call once at start. */
void eidos_host_roots(int argc, char **argv);
/* New state ready to require "eidos.*"; NULL when out of memory. */
lua_State *eidos_host_newstate(void);
/* Message handler for lua_pcall: adds a traceback to string errors. */
int eidos_host_traceback(lua_State *L);
#endif
