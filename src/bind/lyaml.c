/*
 * lyaml.c -- eidos.core.yaml: a YAML loader on libyaml that builds Lua
 * tables directly (lyaml is ~50x slower on an 80 KB snapshot). Rules:
 *  - plain scalars resolve by the YAML 1.2 core schema (src/core/scalar.c):
 *    null -> yaml.null (light userdata NULL, same as cjson.null), bools,
 *    integers within int64 stay integers, larger ones become floats, floats;
 *    quoted and block scalars and the !!str tag are always strings;
 *  - map keys are always strings (a key written 1 is "1"); a duplicate key
 *    is an error naming it and its line; non-scalar keys are errors;
 *  - sequences get the eidos.list metatable (so empty lists round-trip);
 *  - anchors and aliases work; an alias shares the anchored value;
 *  - the expanded size is bounded in bytes while loading, before anything
 *    can copy or emit the result: every node costs NODE_COST bytes plus its
 *    scalar (or key) bytes, and an alias costs what its anchor cost, so a
 *    document is measured as if every alias were written out. Over
 *    max_expanded (default max(16 x the text's size, 64 MiB)) the load
 *    fails. An alias-free text of N bytes measures at most 8.5 N + 16 (a
 *    node takes at least 2 bytes of text: "a," or "-\n"), so only aliases
 *    can reach the default limit;
 *  - nesting deeper than max_depth (default EIDOS_NEST_MAX) is refused;
 *  - the merge key << is not special (YAML 1.2).
 * Stack effects: [-o, +p, x] as in the Lua reference manual; comments at
 * the right show the stack, top last.
 */
#include <stdint.h>
#include <string.h>
#include <yaml.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/scalar.h"

#define NODE_COST 16                   /* bytes a node counts for */
#define EXPAND_FACTOR 16               /* default limit: 16 x the text ... */
#define EXPAND_FLOOR ((size_t)64 << 20) /* ... but at least 64 MiB */

struct ctx {
  yaml_parser_t *parser;
  size_t bytes, max_bytes; /* expanded size so far, and its limit */
  int depth, max_depth;
  int anchors; /* stack index: anchor name -> value */
  int sizes;   /* stack index: anchor name -> its expanded size */
};

struct pholder { yaml_parser_t p; int live; };

/* __gc of the parser holder [-0, +0, -] */
static int gc_parser(lua_State *L) {
  struct pholder *h = lua_touserdata(L, 1);
  if (h->live) yaml_parser_delete(&h->p);
  h->live = 0;
  return 0;
}

/* the next event into ev; raises on a parse error [-0, +0, v] */
static void next(lua_State *L, struct ctx *c, yaml_event_t *ev) {
  if (!yaml_parser_parse(c->parser, ev)) {
    yaml_parser_t *p = c->parser;
    if (p->context)
      luaL_error(L, "YAML parse error at line %d, column %d: %s %s",
                 (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                 p->problem ? p->problem : "error", p->context);
    luaL_error(L, "YAML parse error at line %d, column %d: %s",
               (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
               p->problem ? p->problem : "error");
  }
}

/* Add n bytes to the expanded size; over the limit free ev (the event in
 * hand, or NULL) and raise. */
static void take(lua_State *L, struct ctx *c, size_t n, yaml_event_t *ev) {
  if (n <= c->max_bytes - c->bytes) {
    c->bytes += n;
    return;
  }
  if (ev) yaml_event_delete(ev);
  luaL_error(L, "YAML document expands to more than %I bytes, counting aliases as what they repeat",
             (lua_Integer)c->max_bytes);
}

/* One level deeper; over max_depth raise naming the line. */
static void deeper(lua_State *L, struct ctx *c, int line) {
  if (++c->depth > c->max_depth)
    luaL_error(L, "YAML nested deeper than %d levels at line %d (the limit for every input)",
               c->max_depth, line);
}

/* push the scalar of ev as a Lua value [-0, +1, m] */
static void push_scalar(lua_State *L, const yaml_event_t *ev) {
  const char *v = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  const char *tag = (const char *)ev->data.scalar.tag;
  struct eidos_scalar sc;
  if ((tag && !strcmp(tag, "tag:yaml.org,2002:str")) || !ev->data.scalar.plain_implicit) {
    lua_pushlstring(L, v, n);
    return;
  }
  eidos_scalar_resolve(v, n, &sc);
  switch (sc.kind) {
    case EIDOS_SCALAR_NULL: eidos_bind_pushnull(L); break;
    case EIDOS_SCALAR_BOOL: lua_pushboolean(L, sc.b); break;
    case EIDOS_SCALAR_INT: lua_pushinteger(L, (lua_Integer)sc.i); break;
    case EIDOS_SCALAR_FLOAT: lua_pushnumber(L, sc.f); break;
    default: lua_pushlstring(L, v, n);
  }
}

/* Parse the node that starts with ev (already fetched; deleted here) and
 * push its value (an anchor's name sits below it until recorded).
 * [-0, +1, v] */
static void node(lua_State *L, struct ctx *c, yaml_event_t *ev) {
  size_t start = c->bytes;
  int has_anchor = 0, line = (int)ev->start_mark.line + 1;
  /* about to raise: free the event first (it owns its value, anchor, tag) */
  if (!lua_checkstack(L, 8)) yaml_event_delete(ev);
  luaL_checkstack(L, 8, "yaml");
  take(L, c, NODE_COST + (ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.length : 0), ev);
  switch (ev->type) {
    case YAML_ALIAS_EVENT: {
      /* name; name name; name size; name; value */
      lua_pushstring(L, (const char *)ev->data.alias.anchor);
      yaml_event_delete(ev);
      lua_pushvalue(L, -1);
      if (lua_rawget(L, c->sizes) == LUA_TNIL)
        luaL_error(L, "YAML alias *%s refers to an unknown anchor", lua_tostring(L, -2));
      take(L, c, (size_t)lua_tointeger(L, -1), NULL);
      lua_pop(L, 1);
      lua_rawget(L, c->anchors);
      return;
    }
    case YAML_SCALAR_EVENT: /* [anchor] value */
      if (ev->data.scalar.anchor) { lua_pushstring(L, (const char *)ev->data.scalar.anchor); has_anchor = 1; }
      push_scalar(L, ev);
      yaml_event_delete(ev);
      break;
    case YAML_SEQUENCE_START_EVENT: { /* [anchor] list; each item: list item -> list */
      lua_Integer i = 0;
      if (ev->data.sequence_start.anchor) { lua_pushstring(L, (const char *)ev->data.sequence_start.anchor); has_anchor = 1; }
      yaml_event_delete(ev);
      deeper(L, c, line);
      lua_newtable(L);
      eidos_bind_list_mt(L);
      lua_setmetatable(L, -2);
      for (;;) {
        yaml_event_t e;
        next(L, c, &e);
        if (e.type == YAML_SEQUENCE_END_EVENT) { yaml_event_delete(&e); break; }
        node(L, c, &e);
        lua_rawseti(L, -2, ++i);
      }
      c->depth--;
      break;
    }
    case YAML_MAPPING_START_EVENT: /* [anchor] map; each pair: map key value -> map */
      if (ev->data.mapping_start.anchor) { lua_pushstring(L, (const char *)ev->data.mapping_start.anchor); has_anchor = 1; }
      yaml_event_delete(ev);
      deeper(L, c, line);
      lua_newtable(L);
      for (;;) {
        yaml_event_t e;
        int line;
        next(L, c, &e);
        if (e.type == YAML_MAPPING_END_EVENT) { yaml_event_delete(&e); break; }
        line = (int)e.start_mark.line + 1;
        if (e.type != YAML_SCALAR_EVENT) {
          int t = e.type;
          yaml_event_delete(&e);
          luaL_error(L, "YAML %s used as a map key at line %d (only scalar keys are accepted)",
                     t == YAML_ALIAS_EVENT ? "alias" : "collection", line);
        }
        take(L, c, e.data.scalar.length, &e);
        lua_pushlstring(L, (const char *)e.data.scalar.value, e.data.scalar.length);
        yaml_event_delete(&e);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, -3) != LUA_TNIL)
          luaL_error(L, "duplicate YAML key '%s' at line %d", lua_tostring(L, -2), line);
        lua_pop(L, 1);
        next(L, c, &e);
        node(L, c, &e);
        lua_rawset(L, -3);
      }
      c->depth--;
      break;
    default:
      yaml_event_delete(ev);
      luaL_error(L, "unexpected YAML event");
  }
  if (has_anchor) {
    /* anchor value -> value, recorded in c->anchors and c->sizes */
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_rawset(L, c->anchors);
    lua_pushvalue(L, -2);
    lua_pushinteger(L, (lua_Integer)(c->bytes - start));
    lua_rawset(L, c->sizes);
    lua_remove(L, -2);
  }
}

/* protected body: (text, opts) -> list of documents [-2, +1, e] */
static int parse(lua_State *L) {
  size_t len;
  const char *text = lua_tolstring(L, 1, &len);
  struct ctx c;
  struct pholder *h;
  lua_Integer ndocs = 0;
  memset(&c, 0, sizeof c);
  c.max_bytes = len > SIZE_MAX / EXPAND_FACTOR ? SIZE_MAX : len * EXPAND_FACTOR;
  if (c.max_bytes < EXPAND_FLOOR) c.max_bytes = EXPAND_FLOOR;
  c.max_depth = EIDOS_NEST_MAX;
  if (lua_istable(L, 2)) {
    double b = eidos_bind_optnumber(L, 2, "max_expanded", 0, "yaml.load");
    double d = eidos_bind_optnumber(L, 2, "max_depth", 0, "yaml.load");
    if (b >= 1) c.max_bytes = b >= (double)SIZE_MAX ? SIZE_MAX : (size_t)b;
    if (d >= 1) c.max_depth = d >= EIDOS_NEST_INTERNAL ? EIDOS_NEST_INTERNAL : (int)d;
  }
  h = lua_newuserdatauv(L, sizeof *h, 0);
  h->live = 0;
  lua_newtable(L);
  lua_pushcfunction(L, gc_parser);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  if (!yaml_parser_initialize(&h->p)) return luaL_error(L, "out of memory");
  h->live = 1;
  yaml_parser_set_input_string(&h->p, (const unsigned char *)text, len);
  c.parser = &h->p;
  lua_newtable(L); /* documents */
  for (;;) {
    yaml_event_t ev;
    next(L, &c, &ev);
    if (ev.type == YAML_STREAM_END_EVENT) { yaml_event_delete(&ev); break; }
    if (ev.type != YAML_DOCUMENT_START_EVENT) { yaml_event_delete(&ev); continue; }
    yaml_event_delete(&ev);
    lua_newtable(L);
    c.anchors = lua_gettop(L);
    lua_newtable(L);
    c.sizes = lua_gettop(L);
    next(L, &c, &ev);
    node(L, &c, &ev);
    lua_rawseti(L, -4, ++ndocs);
    lua_pop(L, 2);
    next(L, &c, &ev); /* document end */
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&h->p);
  h->live = 0;
  return 1;
}

/* parse in a protected call; a raise is nil, msg [-(1|2), +(1|3), v] */
static int run(lua_State *L, int all) {
  int n;
  luaL_checkstring(L, 1);
  lua_settop(L, 2);
  lua_pushcfunction(L, parse);
  lua_insert(L, 1);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) return eidos_bind_fail(L, EIDOS_EINVAL, lua_tostring(L, -1));
  if (all) {
    eidos_bind_list_mt(L);
    lua_setmetatable(L, -2);
    return 1;
  }
  n = (int)lua_rawlen(L, -1);
  if (n == 0) return eidos_bind_fail(L, EIDOS_EINVAL, "empty YAML document");
  if (n > 1) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected one YAML document, found %d", n);
    return eidos_bind_fail(L, EIDOS_EINVAL, msg);
  }
  lua_rawgeti(L, -1, 1);
  return 1;
}

/* yaml.load(text [, {max_expanded=BYTES, max_depth=LEVELS}]) -> value | nil,
 * msg, "invalid" (exactly one document; an empty stream is an error; the
 * limits default to max(16 x #text, 64 MiB) and EIDOS_NEST_MAX) */
static int l_load(lua_State *L) { return run(L, 0); }
/* yaml.load_all(text [, opts]) -> list of documents | nil, msg, "invalid"
 * (both: [-(1|2), +(1|3), v]) */
static int l_load_all(lua_State *L) { return run(L, 1); }

static const luaL_Reg funcs[] = {{"load", l_load}, {"load_all", l_load_all}, {NULL, NULL}};

/* [-0, +1, m] */
int luaopen_eidos_core_yaml(lua_State *L) {
  luaL_newlib(L, funcs);
  eidos_bind_pushnull(L);
  lua_setfield(L, -2, "null");
  lua_pushinteger(L, EIDOS_NEST_MAX);
  lua_setfield(L, -2, "MAX_DEPTH");
  lua_pushinteger(L, NODE_COST);
  lua_setfield(L, -2, "NODE_COST");
  return 1;
}
