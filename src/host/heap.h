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
/* Close L (every finalizer runs) and return finish(code). Outside
 * sanitizer builds the process exits with exit(finish(code)) right after
 * the last finalizer, without handing each block back: this call does not
 * return there. */
int eidos_heap_close(lua_State *L, int (*finish)(int code), int code);
#endif
