/*
 * sandbox_str.c -- the hook sandbox's string functions that loop in C
 * (see sandbox_lib.c for the allowlist): string.find, match, gmatch and
 * gsub through the bounded matcher of src/core/pattern.c, whose check
 * looks at the hook's clock every 1,024 steps; plain string.find and
 * string.rep, which look at it every MiB. Behaviour and messages are Lua
 * 5.4's; an empty string.rep result costs nothing (Lua's loops n times).
 */
#include <ctype.h>
#include <string.h>
#include <lauxlib.h>
#include "../core/eidos.h"
#include "../core/pattern.h"
#include "sandbox_int.h"

#define MAXSIZE ((size_t)LUA_MAXINTEGER)
#define REP_CHUNK (1u << 20) /* bytes string.rep copies between two looks at the clock */
#define FIND_CHUNK (1u << 20) /* bytes a plain search scans or compares between two looks at the clock */

struct pm {
  eidos_pat m;
  char err[160];
};

static void pm_init(lua_State *L, struct pm *pm, const char *s, size_t ls, const char *p, size_t lp) {
  eidos_pat_init(&pm->m, s, ls, p, lp, eidos_box_expired, L, pm->err, sizeof pm->err);
}

/* match at pos: 1 or 0; raises on a malformed pattern or a fired limit */
static int pm_at(lua_State *L, struct pm *pm, size_t pos, size_t *end) {
  int rc = eidos_pat_match(&pm->m, pos, end);
  if (rc == EIDOS_ETIMEOUT) eidos_box_poll(L, 1);
  if (rc < 0) luaL_error(L, "%s", pm->err);
  return rc;
}

/* capture i of the match s..e (i = 0 without captures: the whole match) */
static void push_capture(lua_State *L, struct pm *pm, int i, size_t s, size_t e) {
  if (i >= pm->m.ncap) {
    if (i != 0) luaL_error(L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(L, pm->m.s + s, e - s);
  } else if (pm->m.cap[i].len == EIDOS_PAT_UNFINISHED) {
    luaL_error(L, "unfinished capture");
  } else if (pm->m.cap[i].len == EIDOS_PAT_POSITION) {
    lua_pushinteger(L, (lua_Integer)(pm->m.cap[i].init - pm->m.s) + 1);
  } else {
    lua_pushlstring(L, pm->m.cap[i].init, (size_t)pm->m.cap[i].len);
  }
}

static int push_captures(lua_State *L, struct pm *pm, size_t s, size_t e, int whole) {
  int i, n = pm->m.ncap == 0 && whole ? 1 : pm->m.ncap;
  luaL_checkstack(L, n, "too many captures");
  for (i = 0; i < n; i++) push_capture(L, pm, i, s, e);
  return n;
}

/* 1-based start position from a relative one, clipped to 1 */
static size_t start_at(lua_Integer pos, size_t len) {
  if (pos > 0) return (size_t)pos;
  if (pos == 0 || pos < -(lua_Integer)len) return 1;
  return len + (size_t)pos + 1;
}

/* plain search as Lua's: memchr for the first byte, memcmp for the rest;
 * a look at the clock every FIND_CHUNK bytes scanned or compared */
static const char *find_plain(lua_State *L, const char *s, size_t ls, const char *p, size_t lp, size_t init) {
  const char *at = s + init, *end;
  size_t work = 0;
  if (lp == 0) return at;
  if (lp > ls - init) return NULL;
  end = s + ls - lp + 1; /* past the last place a match can start */
  while (at < end) {
    size_t span = (size_t)(end - at) < FIND_CHUNK ? (size_t)(end - at) : FIND_CHUNK;
    const char *hit = memchr(at, p[0], span);
    if (!hit) {
      at += span;
      work += span;
    } else {
      if (memcmp(hit + 1, p + 1, lp - 1) == 0) return hit;
      work += (size_t)(hit - at) + lp;
      at = hit + 1;
    }
    if (work >= FIND_CHUNK) {
      work = 0;
      eidos_box_poll(L, 1);
    }
  }
  return NULL;
}

static int find_aux(lua_State *L, int find) {
  size_t ls, lp, init, end;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  struct pm pm;
  int anchor;
  init = start_at(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || eidos_pat_is_plain(p, lp))) {
    const char *at = find_plain(L, s, ls, p, lp, init);
    if (at) {
      lua_pushinteger(L, (lua_Integer)(at - s) + 1);
      lua_pushinteger(L, (lua_Integer)(at - s + lp));
      return 2;
    }
  } else {
    if ((anchor = lp > 0 && *p == '^')) {
      p++;
      lp--;
    }
    pm_init(L, &pm, s, ls, p, lp);
    do {
      if (pm_at(L, &pm, init, &end)) {
        if (!find) return push_captures(L, &pm, init, end, 1);
        lua_pushinteger(L, (lua_Integer)init + 1);
        lua_pushinteger(L, (lua_Integer)end);
        return push_captures(L, &pm, 0, 0, 0) + 2;
      }
    } while (init++ < ls && !anchor);
  }
  luaL_pushfail(L);
  return 1;
}

/* string.find(s, pattern [, init [, plain]]) -> start, end, captures... | fail */
int eidos_boxlib_find(lua_State *L) { return find_aux(L, 1); }

/* string.match(s, pattern [, init]) -> captures... | fail */
int eidos_boxlib_match(lua_State *L) { return find_aux(L, 0); }

struct gm { size_t pos, last; int has_last; };

static int gmatch_step(lua_State *L) {
  size_t ls, lp, src, end;
  const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
  struct gm *g = lua_touserdata(L, lua_upvalueindex(3));
  struct pm pm;
  pm_init(L, &pm, s, ls, p, lp);
  for (src = g->pos; src <= ls; src++) {
    if (pm_at(L, &pm, src, &end) && !(g->has_last && end == g->last)) {
      g->pos = g->last = end;
      g->has_last = 1;
      return push_captures(L, &pm, src, end, 1);
    }
  }
  g->pos = ls + 1;
  return 0;
}

/* string.gmatch(s, pattern [, init]) -> iterator over the captures of each match */
int eidos_boxlib_gmatch(lua_State *L) {
  size_t ls;
  struct gm *g;
  size_t init;
  luaL_checklstring(L, 1, &ls);
  luaL_checkstring(L, 2);
  init = start_at(luaL_optinteger(L, 3, 1), ls) - 1;
  lua_settop(L, 2);
  g = lua_newuserdatauv(L, sizeof *g, 0);
  g->pos = init > ls ? ls + 1 : init;
  g->last = 0;
  g->has_last = 0;
  lua_pushcclosure(L, gmatch_step, 3);
  return 1;
}

/* the replacement string (argument 3) with %0..%9 and %% expanded */
static void add_string(lua_State *L, struct pm *pm, luaL_Buffer *b, size_t s, size_t e) {
  size_t l;
  const char *news = lua_tolstring(L, 3, &l), *p;
  while ((p = memchr(news, '%', l)) != NULL) {
    luaL_addlstring(b, news, (size_t)(p - news));
    p++; /* Lua strings end with a NUL: *p is readable */
    if (*p == '%') {
      luaL_addchar(b, '%');
    } else if (*p == '0') {
      luaL_addlstring(b, pm->m.s + s, e - s);
    } else if (isdigit((unsigned char)*p)) {
      push_capture(L, pm, *p - '1', s, e);
      luaL_tolstring(L, -1, NULL);
      lua_remove(L, -2);
      luaL_addvalue(b);
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", '%');
    }
    l -= (size_t)(p + 1 - news);
    news = p + 1;
  }
  luaL_addlstring(b, news, l);
}

/* add the replacement of the match s..e; 1 when it changed the text */
static int add_value(lua_State *L, struct pm *pm, luaL_Buffer *b, size_t s, size_t e, int tr) {
  if (tr == LUA_TFUNCTION) {
    int n;
    lua_pushvalue(L, 3);
    n = push_captures(L, pm, s, e, 1);
    lua_call(L, n, 1);
  } else if (tr == LUA_TTABLE) {
    push_capture(L, pm, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_string(L, pm, b, s, e);
    return 1;
  }
  if (!lua_toboolean(L, -1)) { /* nil or false: keep the original text */
    lua_pop(L, 1);
    luaL_addlstring(b, pm->m.s + s, e - s);
    return 0;
  }
  if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return 1;
}

/* string.gsub(s, pattern, repl [, n]) -> text, count */
int eidos_boxlib_gsub(lua_State *L) {
  size_t ls, lp, src = 0, end, last = 0;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  int tr = lua_type(L, 3), anchor = lp > 0 && *p == '^', changed = 0, has_last = 0;
  lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1), n = 0;
  struct pm pm;
  luaL_Buffer b;
  luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
                   "string/function/table");
  luaL_buffinit(L, &b);
  if (anchor) {
    p++;
    lp--;
  }
  pm_init(L, &pm, s, ls, p, lp);
  while (n < max) {
    if (pm_at(L, &pm, src, &end) && !(has_last && end == last)) {
      n++;
      changed = add_value(L, &pm, &b, src, end, tr) | changed;
      src = last = end;
      has_last = 1;
    } else if (src < ls) {
      luaL_addchar(&b, s[src++]);
    } else {
      break;
    }
    if (anchor) break;
  }
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, s + src, ls - src);
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

/* string.rep(s, n [, sep]) -> text: an empty result costs nothing (Lua's
 * loops n times), a long one is copied in doubling chunks between looks at
 * the clock; the result is allocated at once, within the memory limit. */
int eidos_boxlib_rep(lua_State *L) {
  size_t l, lsep, total, done, unit;
  const char *s = luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  const char *sep = luaL_optlstring(L, 3, "", &lsep);
  luaL_Buffer b;
  char *out;
  if (n <= 0 || (l == 0 && lsep == 0) || (n == 1 && l == 0)) {
    lua_pushliteral(L, "");
    return 1;
  }
  if (l + lsep < l || l + lsep > MAXSIZE / (size_t)n) return luaL_error(L, "resulting string too large");
  total = (size_t)n * l + (size_t)(n - 1) * lsep;
  unit = l + lsep;
  out = luaL_buffinitsize(L, &b, total);
  memcpy(out, s, l);
  done = l;
  if (n > 1) {
    memcpy(out + l, sep, lsep);
    done = unit;
  }
  while (done < total) { /* done is a whole number of units until the last copy */
    size_t chunk = done <= REP_CHUNK ? done : (REP_CHUNK / unit ? REP_CHUNK / unit * unit : unit);
    if (chunk > total - done) chunk = total - done;
    memcpy(out + done, out, chunk);
    done += chunk;
    eidos_box_poll(L, 1);
  }
  luaL_pushresultsize(&b, total);
  return 1;
}
