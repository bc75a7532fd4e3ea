/*
 * heap.h -- the CLI's Lua heap (heap.c): a state whose allocator serves
 * small blocks from a pool and whose garbage collector starts once the
 * heap has grown past a few MiB, and its close at exit.
 */
#ifndef EIDOS_HEAP_H
#define EIDOS_HEAP_H
#include <lua.h>
/* A new bare state (luaL_newstate's, on the CLI heap); NULL when out of
 * memory. One per process. */
lua_State *eidos_heap_newstate(void);
/* lua_close(L); outside sanitizer builds without handing each block back
 * (the process is ending): every finalizer still runs. */
void eidos_heap_close(lua_State *L);
#endif
