/*
 * leditdist.c -- eidos.core.editdist: the bounded edit distance of
 * src/core/editdist.h for Lua, one pair at a time, or one word against an
 * index of candidates (a list prepared once: bytes, lengths and byte sets
 * in one block), where the nearest are found in one pass in C that sifts
 * by length and byte set before computing any table.
 */
#include <string.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/editdist.h"

#define INDEX_MT "eidos.editdist.Index"

struct entry { size_t off, len; struct eidos_editdist_sig sig; };
struct index { size_t n; struct entry e[]; /* then the bytes */ };

static int check_max(lua_State *L, int arg) {
  lua_Integer m = luaL_optinteger(L, arg, -1);
  if (m > 1000000) m = 1000000;
  return m < 0 ? -1 : (int)m;
}

/* editdist.distance(a, b [, max]) -> integer: the distance of a and b, or
 * max + 1 when it exceeds max. Raises on memory exhaustion. [-0, +1, v] */
static int l_distance(lua_State *L) {
  size_t la, lb;
  const char *a = luaL_checklstring(L, 1, &la), *b = luaL_checklstring(L, 2, &lb);
  int d = eidos_editdist(a, la, b, lb, check_max(L, 3));
  if (d < 0) return luaL_error(L, "editdist: out of memory");
  lua_pushinteger(L, d);
  return 1;
}

/* editdist.prefix(a, b) -> integer: how many leading bytes a and b share
 * (exactly; the ranking of nearest paths breaks ties with it) [-0, +1, v] */
static int l_prefix(lua_State *L) {
  size_t la, lb, i = 0;
  const char *a = luaL_checklstring(L, 1, &la), *b = luaL_checklstring(L, 2, &lb);
  while (i < la && i < lb && a[i] == b[i]) i++;
  lua_pushinteger(L, (lua_Integer)i);
  return 1;
}

/* editdist.index(list) -> index of the strings of list. Raises when an
 * entry is not a string. [-0, +1, v] */
static int l_index(lua_State *L) {
  size_t n, i, bytes = 0, off = 0;
  struct index *x;
  char *text;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (size_t)lua_rawlen(L, 1);
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 1, (lua_Integer)i) != LUA_TSTRING)
      return luaL_error(L, "editdist.index: list[%d] is not a string", (int)i);
    bytes += lua_rawlen(L, -1);
    lua_pop(L, 1);
  }
  x = lua_newuserdatauv(L, sizeof *x + n * sizeof x->e[0] + bytes, 0);
  x->n = n;
  text = (char *)(x->e + n);
  for (i = 0; i < n; i++) {
    size_t l;
    const char *s;
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    s = lua_tolstring(L, -1, &l);
    memcpy(text + off, s, l);
    x->e[i].off = off;
    x->e[i].len = l;
    eidos_editdist_sig(s, l, &x->e[i].sig);
    off += l;
    lua_pop(L, 1);
  }
  luaL_setmetatable(L, INDEX_MT);
  return 1;
}

/* index:nearest(word, k, max [, first, last]) -> positions, distances: the
 * entries first..last (default: all) within max edits of word, the k
 * nearest of them and every one tied with the k-th (k <= 0: all within
 * max), as two lists in index order. The bound tightens to the k-th
 * distance seen as entries are read. [-0, +2, v] */
static int l_nearest(lua_State *L) {
  struct index *x = luaL_checkudata(L, 1, INDEX_MT);
  size_t lw, i, nhit = 0, first, last;
  const char *w = luaL_checklstring(L, 2, &lw), *text = (const char *)(x->e + x->n);
  lua_Integer k = luaL_checkinteger(L, 3);
  int max = check_max(L, 4), bound, d;
  struct eidos_editdist_word *ww;
  size_t *cnt, *hit;
  if (max < 0) return luaL_argerror(L, 4, "a maximum of 0 or more");
  lua_settop(L, 6); /* scratch goes above the arguments */
  ww = lua_newuserdatauv(L, sizeof *ww, 0);
  eidos_editdist_word(ww, w, lw);
  first = (size_t)luaL_optinteger(L, 5, 1);
  last = (size_t)luaL_optinteger(L, 6, (lua_Integer)x->n);
  if (first < 1 || last > x->n) return luaL_argerror(L, 5, "a range within the index");
  /* counts per distance, then the hits (position, distance pairs) */
  cnt = lua_newuserdatauv(L, ((size_t)max + 2 + 2 * (x->n ? x->n : 1)) * sizeof *cnt, 0);
  hit = cnt + max + 2;
  memset(cnt, 0, ((size_t)max + 2) * sizeof *cnt);
  bound = max;
  for (i = first; i <= last; i++) {
    const struct entry *e = &x->e[i - 1];
    d = eidos_editdist_to(ww, text + e->off, e->len, &e->sig, bound);
    if (d < 0) return luaL_error(L, "editdist: out of memory");
    if (d > bound) continue;
    hit[2 * nhit] = i;
    hit[2 * nhit++ + 1] = (size_t)d;
    cnt[d]++;
    if (k > 0) {
      size_t seen = 0;
      int b;
      for (b = 0; b <= bound; b++) {
        seen += cnt[b];
        if (seen >= (size_t)k) { bound = b; break; }
      }
    }
  }
  lua_createtable(L, (int)nhit, 0);
  lua_createtable(L, (int)nhit, 0);
  for (i = 0, d = 0; i < nhit; i++) {
    if (hit[2 * i + 1] > (size_t)bound) continue;
    d++;
    lua_pushinteger(L, (lua_Integer)hit[2 * i]);
    lua_rawseti(L, -3, d);
    lua_pushinteger(L, (lua_Integer)hit[2 * i + 1]);
    lua_rawseti(L, -2, d);
  }
  return 2;
}

static const luaL_Reg methods[] = {{"nearest", l_nearest}, {NULL, NULL}};
static const luaL_Reg funcs[] = {
  {"distance", l_distance}, {"prefix", l_prefix}, {"index", l_index}, {NULL, NULL}
};

int luaopen_eidos_core_editdist(lua_State *L) {
  eidos_bind_class(L, INDEX_MT, methods, NULL);
  luaL_newlib(L, funcs);
  return 1;
}
