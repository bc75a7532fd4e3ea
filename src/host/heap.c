/*
 * heap.c -- the CLI's Lua heap: the allocator of the state src/host/main.c
 * runs, and when its garbage collector starts. A short command allocates a
 * few MiB and ends; glibc's malloc spent ~190 instructions a block carving
 * them (12% of `eidos recipe`), and the collections of a heap growing from
 * nothing were another 7% (docs/performance.md). So:
 *  - Blocks of up to SMALL bytes come from one pool of POOL bytes, cut in
 *    ALIGN-byte steps from its start; a freed one goes on the free list of
 *    its size, which the next block of that size takes. Larger blocks, and
 *    small ones once the pool is used up, are malloc's. Lua passes a
 *    block's size back with it, so a block carries no header; where a block
 *    lives (in the pool or not) is told by its address. The pool is
 *    reserved with malloc (an mmap of untouched pages: RSS counts what is
 *    used) and never given back, so at most POOL bytes stay with the small
 *    sizes that once used them; everything past that is malloc's, as before.
 *  - The state is created with its collector stopped, and the allocation
 *    that takes the heap past GC_START restarts it, with Lua's usual pacing
 *    from then on. Lua 5.4 has no setting for "first collection at N
 *    bytes": its pause is a multiple of what the last collection left, so a
 *    heap growing from 0 is collected again and again while small. The
 *    restart (lua_gc(LUA_GCRESTART)) only resets the debt that paces the
 *    next step; the step runs at the next allocation check, outside the
 *    allocator. Lua refuses it (-1) while it runs finalizers; the next
 *    allocation tries again.
 *  - At exit the state is closed: every finalizer runs. Outside sanitizer
 *    builds the process then ends without handing each block back: the
 *    first object marked for finalization is a sentinel made with the
 *    state, and Lua calls the finalizers at close in the reverse order they
 *    were marked (reference manual, lua_close and 2.5.3), so the sentinel's
 *    runs last and exits. What lua_close would do after it is freeing
 *    memory: walking every object the run made (0.30M instructions of
 *    `eidos recipe`). Frees while it closes are dropped anyway.
 * Sanitizer builds keep malloc for every block and free everything at
 * exit, so that leaks and use-after-free stay visible; the collector's
 * start is the same in both.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "heap.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#define POOL 0
#else
#define SANITIZED 0
#define POOL (8 << 20)
#endif
#define SMALL 256
#define ALIGN 16
#define GC_START (8 << 20)

static struct heap {
  lua_State *L;  /* the state */
  size_t bytes;  /* the heap's size */
  size_t limit;  /* restart the collector past this size (GC_START, then SIZE_MAX) */
  char *pool, *next, *end;
  void *free[SMALL / ALIGN + 1]; /* free blocks of the pool by size class */
} heap;

static size_t class_of(size_t n) { return (n + ALIGN - 1) / ALIGN; }

static int in_pool(const struct heap *h, const void *p) {
  return (const char *)p >= h->pool && (const char *)p < h->end;
}

/* a block of the pool for n bytes (n <= SMALL), or NULL when it is used up */
static void *take(struct heap *h, size_t n) {
  size_t c = class_of(n);
  void *p = h->free[c];
  if (p) h->free[c] = *(void **)p;
  else if ((size_t)(h->end - h->next) >= c * ALIGN) {
    p = h->next;
    h->next += c * ALIGN;
  }
  return p;
}

static void release(struct heap *h, void *p, size_t n) {
  if (in_pool(h, p)) {
    size_t c = class_of(n);
    *(void **)p = h->free[c];
    h->free[c] = p;
  } else free(p);
}

static void counted(struct heap *h, size_t osize, size_t nsize) {
  h->bytes = h->bytes - osize + nsize;
  if (h->bytes > h->limit && lua_gc(h->L, LUA_GCRESTART) != -1) h->limit = SIZE_MAX;
}

/* heap_alloc's other cases: a large block, a block that moves or grows, a
 * used-up pool. A pool block keeps its place when the new size is no
 * larger or of its size class (its size class holds osize, so that is
 * safe); a shrink never fails, as Lua requires. */
static void *__attribute__((noinline)) change(struct heap *h, void *ptr, size_t osize, size_t nsize) {
  void *p;
  if (!ptr) osize = 0; /* then osize is a type tag */
  if (!ptr) p = malloc(nsize);
  else if (!in_pool(h, ptr)) p = realloc(ptr, nsize);
  else if (nsize <= osize || class_of(nsize) == class_of(osize)) p = ptr;
  else {
    p = nsize <= SMALL ? take(h, nsize) : NULL;
    if (!p) p = malloc(nsize);
    if (p) {
      memcpy(p, ptr, osize);
      release(h, ptr, osize);
    }
  }
  if (p) counted(h, osize, nsize);
  return p;
}

/* lua_Alloc: a new small block, or a free, without calls where it can */
static void *heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct heap *h = ud;
  void *p;
  if (nsize == 0) {
    if (ptr) {
      release(h, ptr, osize);
      h->bytes -= osize;
    }
    return NULL;
  }
  if (!ptr && nsize <= SMALL && (p = take(h, nsize))) {
    counted(h, 0, nsize);
    return p;
  }
  return change(h, ptr, osize, nsize);
}

/* lua_Alloc while the state closes: frees are dropped (the process is
 * ending), allocations still work for finalizers */
static void *closing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  if (nsize == 0) return NULL;
  return heap_alloc(ud, ptr, osize, nsize);
}

/* what the sentinel's finalizer does: exit(finish(code)) once armed */
static struct {
  int (*finish)(int);
  int code;
} ending;

static int sentinel_gc(lua_State *L) {
  (void)L;
  if (ending.finish) exit(ending.finish(ending.code));
  return 0;
}

/* [-0, +0, m] the sentinel, anchored in the registry */
static int make_sentinel(lua_State *L) {
  lua_newuserdatauv(L, 0, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, sentinel_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &ending);
  return 0;
}

lua_State *eidos_heap_newstate(void) {
  lua_State *L = luaL_newstate(); /* its panic and warning functions */
  if (!L) return NULL;
  if (!SANITIZED) {
    lua_pushcfunction(L, make_sentinel); /* the first object marked for finalization */
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
      lua_close(L);
      return NULL;
    }
  }
  if (POOL && (heap.pool = malloc(POOL))) {
    heap.next = heap.pool;
    heap.end = heap.pool + POOL;
  }
  /* what luaL_newstate allocated is malloc's: outside the pool */
  heap.bytes = (size_t)lua_gc(L, LUA_GCCOUNT) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB);
  lua_gc(L, LUA_GCSTOP);
  heap.L = L;
  heap.limit = GC_START;
  lua_setallocf(L, heap_alloc, &heap);
  return L;
}

int eidos_heap_close(lua_State *L, int (*finish)(int code), int code) {
  heap.limit = SIZE_MAX; /* a restart while closing would let collections run in the close */
  if (!SANITIZED) {
    lua_setallocf(L, closing_alloc, &heap);
    ending.finish = finish;
    ending.code = code;
  }
  lua_close(L);
  return finish(code);
}
