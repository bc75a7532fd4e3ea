/*
 * heap.c -- the CLI's Lua heap: the allocator of the state src/host/main.c
 * runs, and when its garbage collector starts. A short command allocates a
 * few MiB and ends; the collections of a heap growing from nothing were 7%
 * of `eidos recipe` (docs/performance.md). So:
 *  - The state is created with its collector stopped, and the allocation
 *    that takes the heap past GC_START restarts it, with Lua's usual pacing
 *    from then on. Lua 5.4 has no setting for "first collection at N
 *    bytes": its pause is a multiple of what the last collection left, so a
 *    heap growing from 0 is collected again and again while small. The
 *    restart (lua_gc(LUA_GCRESTART)) only resets the debt that paces the
 *    next step; the step runs at the next allocation check, outside the
 *    allocator. Lua refuses it (-1) while it runs finalizers; the next
 *    allocation tries again.
 *  - At exit the state is closed (every finalizer runs) with frees dropped:
 *    the process is ending.
 * Sanitizer builds free everything at exit, so that leaks and
 * use-after-free stay visible; the collector's start is the same in both.
 */
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "heap.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif
#define GC_START (8 << 20)

static struct heap {
  lua_Alloc alloc; /* luaL_newstate's allocator */
  void *ud;
  lua_State *L; /* the state, until its collector has been restarted */
  size_t bytes; /* the heap's size */
  int closing;  /* frees are dropped */
} heap;

/* lua_Alloc */
static void *heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct heap *h = ud;
  void *p;
  if (!ptr) osize = 0; /* then osize is a type tag */
  if (nsize == 0) {
    if (ptr && !h->closing) {
      h->alloc(h->ud, ptr, osize, 0);
      h->bytes -= osize;
    }
    return NULL;
  }
  if (!(p = h->alloc(h->ud, ptr, osize, nsize))) return NULL;
  h->bytes = h->bytes - osize + nsize;
  if (h->L && h->bytes > GC_START && lua_gc(h->L, LUA_GCRESTART) != -1) h->L = NULL;
  return p;
}

lua_State *eidos_heap_newstate(void) {
  lua_State *L = luaL_newstate(); /* its panic and warning functions */
  if (!L) return NULL;
  heap.alloc = lua_getallocf(L, &heap.ud);
  heap.bytes = (size_t)lua_gc(L, LUA_GCCOUNT) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB);
  lua_gc(L, LUA_GCSTOP);
  heap.L = L;
  lua_setallocf(L, heap_alloc, &heap);
  return L;
}

void eidos_heap_close(lua_State *L) {
  heap.L = NULL; /* a restart while closing would let collections run in the close */
  heap.closing = !SANITIZED;
  lua_close(L);
}
