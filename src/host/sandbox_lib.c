/*
 * sandbox_lib.c -- what a hook sees: its globals, built from the allowlist
 * below and nothing else (the way Redis's script_lua.c keeps its lists),
 * each entry with the reason it is safe. An entry takes Lua's own function
 * or value, or ours (given Lua's as upvalue 1, its name as upvalue 2)
 * where Lua's would loop in C
 * without looking at the clock, reach outside the state, or run Lua code
 * with hooks off. Left out, for the record: io, debug, package, require,
 * dofile, loadfile (files and native code), collectgarbage (can stop the
 * collector), warn (writes to stderr), string.dump (bytecode), and os but
 * for its clock and date functions.
 * Our replacements keep Lua 5.4's documented behaviour and messages; the
 * differences: table.sort is a heapsort (no "invalid order function"
 * error), load takes text only, print goes to eidos's logger, os.date and
 * string.pack take formats up to 4096 bytes, and math.random starts from a fixed seed
 * (same hook, same output). The string functions are in sandbox_str.c.
 */
#include <limits.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../core/eidos.h"
#include "sandbox_int.h"

#define FORMAT_MAX 4096 /* bytes of an os.date or string.pack format */

/* ---- base ---- */

/* load(text [, chunkname [, mode [, env]]]) -> function | fail, message:
 * text only (a reader function or bytecode is refused), read in pieces
 * between looks at the clock, with the hook's globals unless env is given. */
static int sb_load(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  const char *name = luaL_optstring(L, 2, s);
  int env = !lua_isnone(L, 4) ? 4 : 0;
  if (eidos_box_loadtext(L, s, n, name) != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  if (env) {
    lua_pushvalue(L, env);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
  return 1;
}

/* print(...): one line (tab-separated; values other than strings and
 * numbers by their type, never __tostring) to the host's logger. */
static int sb_print(lua_State *L) {
  int i, n = lua_gettop(L);
  size_t len;
  const char *line;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    int t = lua_type(L, i);
    if (i > 1) luaL_addchar(&b, '\t');
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
      lua_pushvalue(L, i);
      luaL_addvalue(&b);
    } else if (t == LUA_TBOOLEAN) {
      luaL_addstring(&b, lua_toboolean(L, i) ? "true" : "false");
    } else {
      luaL_addstring(&b, lua_typename(L, t));
    }
  }
  luaL_pushresult(&b);
  line = lua_tolstring(L, -1, &len);
  eidos_box_print(L, line, len);
  return 0;
}

/* xpcall(f, msgh, ...): Lua runs a message handler before unwinding, with
 * hooks off when the error came from a hook, so a looping handler would
 * escape the time limit. This one runs it after unwinding, hooks on, and
 * not at all once a limit fired. */
static int sb_xpcall(lua_State *L) {
  int n = lua_gettop(L), status;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_insert(L, 1); /* msgh, f, msgh, args... */
  lua_remove(L, 3);
  status = lua_pcall(L, n - 2, LUA_MULTRET, 0);
  if (status == LUA_OK) {
    lua_pushboolean(L, 1);
    lua_replace(L, 1);
    return lua_gettop(L);
  }
  eidos_box_poll(L, 1);
  lua_pushvalue(L, 1);
  lua_insert(L, -2);
  lua_pcall(L, 1, 1, 0);
  eidos_box_poll(L, 1);
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  return 2;
}

/* setmetatable(t, mt): refuses __gc (Lua runs finalizers with hooks off;
 * it must be present when the metatable is set to take effect). */
static int sb_setmetatable(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_istable(L, 2)) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "finalizers (__gc) are not allowed in hooks");
    lua_pop(L, 1);
  } else if (!lua_isnil(L, 2)) {
    return luaL_typeerror(L, 2, "nil or table");
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

/* Lua's own function (upvalue 1, named by upvalue 2), once no limit has
 * fired. Its errors say where the hook called it, and its name (raised
 * from a C caller, they would say neither). */
static int sb_checked(lua_State *L) {
  eidos_box_poll(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  if (lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0) == LUA_OK) return lua_gettop(L);
  eidos_box_poll(L, 1);
  if (lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_pushfstring(L, "'%s'", lua_tostring(L, lua_upvalueindex(2)));
    luaL_gsub(L, lua_tostring(L, -3), "'?'", lua_tostring(L, -1));
    lua_remove(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

/* ---- table: every loop looks at the clock ---- */

#define TAB_R 1
#define TAB_W 2
#define TAB_L 4
#define TAB_RW (TAB_R | TAB_W)

static int has_field(lua_State *L, const char *key, int n) {
  lua_pushstring(L, key);
  return lua_rawget(L, -n) != LUA_TNIL;
}

/* a table, or a value whose metatable gives the access needed */
static void check_table(lua_State *L, int arg, int what) {
  if (lua_type(L, arg) != LUA_TTABLE) {
    int n = 1;
    if (lua_getmetatable(L, arg) && (!(what & TAB_R) || has_field(L, "__index", ++n)) &&
        (!(what & TAB_W) || has_field(L, "__newindex", ++n)) && (!(what & TAB_L) || has_field(L, "__len", ++n)))
      lua_pop(L, n);
    else
      luaL_checktype(L, arg, LUA_TTABLE);
  }
}

static lua_Integer length_of(lua_State *L, int arg, int what) {
  check_table(L, arg, what | TAB_L);
  return luaL_len(L, arg);
}

/* table.insert(t, [pos,] value) */
static int sb_insert(lua_State *L) {
  lua_Integer pos, i, e = (lua_Integer)((lua_Unsigned)length_of(L, 1, TAB_RW) + 1);
  switch (lua_gettop(L)) {
    case 2: pos = e; break;
    case 3:
      pos = luaL_checkinteger(L, 2);
      luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
      for (i = e; i > pos; i--) {
        eidos_box_poll(L, 0);
        lua_geti(L, 1, i - 1);
        lua_seti(L, 1, i);
      }
      break;
    default: return luaL_error(L, "wrong number of arguments to 'insert'");
  }
  lua_seti(L, 1, pos);
  return 0;
}

/* table.remove(t [, pos]) -> the removed value */
static int sb_remove(lua_State *L) {
  lua_Integer size = length_of(L, 1, TAB_RW);
  lua_Integer pos = luaL_optinteger(L, 2, size);
  if (pos != size) /* argument 1 in the message, as Lua 5.4.4 says */
    luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 1, "position out of bounds");
  lua_geti(L, 1, pos);
  for (; pos < size; pos++) {
    eidos_box_poll(L, 0);
    lua_geti(L, 1, pos + 1);
    lua_seti(L, 1, pos);
  }
  lua_pushnil(L);
  lua_seti(L, 1, pos);
  return 1;
}

/* table.move(a1, f, e, t [, a2]) -> a2 */
static int sb_move(lua_State *L) {
  lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3), t = luaL_checkinteger(L, 4);
  int tt = !lua_isnoneornil(L, 5) ? 5 : 1;
  check_table(L, 1, TAB_R);
  check_table(L, tt, TAB_W);
  if (e >= f) {
    lua_Integer n, i;
    luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
    n = e - f + 1;
    luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
    if (t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ))) {
      for (i = 0; i < n; i++) {
        eidos_box_poll(L, 0);
        lua_geti(L, 1, f + i);
        lua_seti(L, tt, t + i);
      }
    } else {
      for (i = n - 1; i >= 0; i--) {
        eidos_box_poll(L, 0);
        lua_geti(L, 1, f + i);
        lua_seti(L, tt, t + i);
      }
    }
  }
  lua_pushvalue(L, tt);
  return 1;
}

static void add_field(lua_State *L, luaL_Buffer *b, lua_Integer i) {
  eidos_box_poll(L, 0);
  lua_geti(L, 1, i);
  if (!lua_isstring(L, -1))
    luaL_error(L, "invalid value (%s) at index %I in table for 'concat'", luaL_typename(L, -1), (LUAI_UACINT)i);
  luaL_addvalue(b);
}

/* table.concat(t [, sep [, i [, j]]]) -> text */
static int sb_concat(lua_State *L) {
  luaL_Buffer b;
  lua_Integer last = length_of(L, 1, TAB_R);
  size_t lsep;
  const char *sep = luaL_optlstring(L, 2, "", &lsep);
  lua_Integer i = luaL_optinteger(L, 3, 1);
  last = luaL_optinteger(L, 4, last);
  luaL_buffinit(L, &b);
  for (; i < last; i++) {
    add_field(L, &b, i);
    luaL_addlstring(&b, sep, lsep);
  }
  if (i == last) add_field(L, &b, i);
  luaL_pushresult(&b);
  return 1;
}

/* table.unpack(t [, i [, j]]) -> t[i], ..., t[j] */
static int sb_unpack(lua_State *L) {
  lua_Unsigned n;
  lua_Integer i = luaL_optinteger(L, 2, 1);
  lua_Integer e = luaL_opt(L, luaL_checkinteger, 3, luaL_len(L, 1));
  if (i > e) return 0;
  n = (lua_Unsigned)e - (lua_Unsigned)i;
  if (n >= (unsigned int)INT_MAX || !lua_checkstack(L, (int)(++n))) return luaL_error(L, "too many results to unpack");
  for (; i < e; i++) {
    eidos_box_poll(L, 0);
    lua_geti(L, 1, i);
  }
  lua_geti(L, 1, e);
  return (int)n;
}

/* t[a] < t[b], by the order function at 2 or by '<' */
static int sort_less(lua_State *L, lua_Integer a, lua_Integer b) {
  int r;
  eidos_box_poll(L, 0);
  if (lua_isnil(L, 2)) {
    lua_geti(L, 1, a);
    lua_geti(L, 1, b);
    r = lua_compare(L, -2, -1, LUA_OPLT);
    lua_pop(L, 2);
  } else {
    lua_pushvalue(L, 2);
    lua_geti(L, 1, a);
    lua_geti(L, 1, b);
    lua_call(L, 2, 1);
    r = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  return r;
}

static void sort_swap(lua_State *L, lua_Integer a, lua_Integer b) {
  lua_geti(L, 1, a);
  lua_geti(L, 1, b);
  lua_seti(L, 1, a);
  lua_seti(L, 1, b);
}

static void sift_down(lua_State *L, lua_Integer root, lua_Integer n) {
  for (;;) {
    lua_Integer child = 2 * root, top = root;
    if (child <= n && sort_less(L, top, child)) top = child;
    if (child + 1 <= n && sort_less(L, top, child + 1)) top = child + 1;
    if (top == root) return;
    sort_swap(L, root, top);
    root = top;
  }
}

/* table.sort(t [, less]): a heapsort, in place */
static int sb_sort(lua_State *L) {
  lua_Integer n = length_of(L, 1, TAB_RW), i;
  if (n > 1) {
    luaL_argcheck(L, n < INT_MAX, 1, "array too big");
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    for (i = n / 2; i >= 1; i--) sift_down(L, i, n);
    for (i = n; i > 1; i--) {
      sort_swap(L, 1, i);
      sift_down(L, 1, i - 1);
    }
  }
  return 0;
}

/* ---- coroutine ---- */

static int wrap_step(lua_State *L) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  int narg = lua_gettop(L), status, nres;
  if (!lua_checkstack(co, narg)) return luaL_error(L, "too many arguments to resume");
  lua_xmove(L, co, narg);
  status = lua_resume(co, L, narg, &nres);
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      return luaL_error(L, "too many results to resume");
    }
    lua_xmove(co, L, nres);
    return nres;
  }
  lua_xmove(co, L, 1);
  /* killed by a limit: raise it, leaving its __close handlers alone (Lua
   * would run them with hooks off: the error came from a hook) */
  eidos_box_poll(L, 1);
  status = lua_status(co);
  if (status != LUA_OK && status != LUA_YIELD) { /* it died: close its variables */
    status = lua_resetthread(co);
    lua_xmove(co, L, 1);
  }
  if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

/* coroutine.wrap(f) -> function resuming a new coroutine running f */
static int sb_wrap(lua_State *L) {
  lua_State *co;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, wrap_step, 1);
  return 1;
}

/* Lua's os.date, string.pack, packsize and unpack, for formats (argument
 * 1) up to FORMAT_MAX bytes: their cost grows with the format's length
 * (a strftime call a conversion; 100 ms for a 30 MB packsize format) */
static int sb_format(lua_State *L) {
  size_t n;
  if (lua_type(L, 1) == LUA_TSTRING && (lua_tolstring(L, 1, &n), n > FORMAT_MAX))
    return luaL_argerror(L, 1, "format longer than 4096 bytes (hooks accept formats up to 4096 bytes)");
  return sb_checked(L);
}

/* ---- the allowlist ---- */

static const struct allow {
  const char *lib;    /* "_G" for a global */
  const char *name;
  lua_CFunction ours; /* NULL: Lua's own value */
  const char *why;
} allowlist[] = {
  {"_G", "_VERSION", NULL, "a string"},
  {"_G", "assert", NULL, "raises or returns its arguments"},
  {"_G", "error", NULL, "raises; error objects are never converted with __tostring by the host"},
  {"_G", "getmetatable", NULL, "reads; the string metatable is locked"},
  {"_G", "ipairs", NULL, "one step per call, driven by Lua code"},
  {"_G", "load", sb_load, "ours: text only, parsed in pieces between looks at the clock, the hook's own globals"},
  {"_G", "next", NULL, "one step per call"},
  {"_G", "pairs", NULL, "one step per call; __pairs runs as Lua code"},
  {"_G", "pcall", NULL, "a fired limit stays fired: the hook raises again on the next instruction"},
  {"_G", "print", sb_print, "ours: one line to eidos's logger, counted against the memory limit"},
  {"_G", "rawequal", NULL, "constant time"},
  {"_G", "rawget", NULL, "constant time"},
  {"_G", "rawlen", NULL, "constant time"},
  {"_G", "rawset", NULL, "one store, within the memory limit"},
  {"_G", "select", NULL, "bounded by its argument count"},
  {"_G", "setmetatable", sb_setmetatable, "ours: refuses __gc (finalizers run with hooks off)"},
  {"_G", "tonumber", NULL, "linear in its argument"},
  {"_G", "tostring", NULL, "__tostring runs as Lua code"},
  {"_G", "type", NULL, "constant time"},
  {"_G", "xpcall", sb_xpcall, "ours: the handler runs after unwinding, hooks on"},
  {"string", "byte", NULL, "at most one value per byte, within the stack limit"},
  {"string", "char", NULL, "bounded by its argument count"},
  {"string", "find", eidos_boxlib_find, "ours: the bounded matcher (Lua's backtracks without limit); plain search looks at the clock"},
  {"string", "format", NULL, "linear in the format and the arguments; __tostring runs as Lua code"},
  {"string", "gmatch", eidos_boxlib_gmatch, "ours: the bounded matcher"},
  {"string", "gsub", eidos_boxlib_gsub, "ours: the bounded matcher; replacement functions run as Lua code"},
  {"string", "len", NULL, "constant time"},
  {"string", "lower", NULL, "linear in a string within the memory limit"},
  {"string", "match", eidos_boxlib_match, "ours: the bounded matcher"},
  {"string", "pack", sb_format, "ours: Lua's, for formats up to 4096 bytes (linear in the format and the arguments)"},
  {"string", "packsize", sb_format, "ours: Lua's, for formats up to 4096 bytes"},
  {"string", "rep", eidos_boxlib_rep, "ours: an empty result costs nothing (Lua's loops n times), copies look at the clock"},
  {"string", "reverse", NULL, "linear in a string within the memory limit"},
  {"string", "sub", NULL, "one copy"},
  {"string", "unpack", sb_format, "ours: Lua's, for formats up to 4096 bytes"},
  {"string", "upper", NULL, "linear in a string within the memory limit"},
  {"table", "concat", sb_concat, "ours: Lua's loops over any range (with __index in C) without looking at the clock"},
  {"table", "insert", sb_insert, "ours: a __len metamethod can make Lua's shift loop endless"},
  {"table", "move", sb_move, "ours: Lua's moves a huge range of nils without allocating, forever"},
  {"table", "pack", NULL, "bounded by its argument count"},
  {"table", "remove", sb_remove, "ours: a __len metamethod can make Lua's shift loop endless"},
  {"table", "sort", sb_sort, "ours: a heapsort that looks at the clock (Lua's runs n log n comparisons in C)"},
  {"table", "unpack", sb_unpack, "ours: up to a million __index calls in C"},
  {"math", "abs", NULL, "arithmetic"}, {"math", "ceil", NULL, "arithmetic"}, {"math", "cos", NULL, "arithmetic"},
  {"math", "deg", NULL, "arithmetic"}, {"math", "exp", NULL, "arithmetic"}, {"math", "floor", NULL, "arithmetic"},
  {"math", "fmod", NULL, "arithmetic"}, {"math", "huge", NULL, "a number"}, {"math", "log", NULL, "arithmetic"},
  {"math", "max", NULL, "bounded by its argument count"}, {"math", "maxinteger", NULL, "a number"},
  {"math", "min", NULL, "bounded by its argument count"}, {"math", "mininteger", NULL, "a number"},
  {"math", "modf", NULL, "arithmetic"}, {"math", "pi", NULL, "a number"}, {"math", "rad", NULL, "arithmetic"},
  {"math", "random", NULL, "constant time; seeded with 0 (same hook, same output)"},
  {"math", "randomseed", NULL, "constant time"}, {"math", "sin", NULL, "arithmetic"},
  {"math", "sqrt", NULL, "arithmetic"}, {"math", "tan", NULL, "arithmetic"},
  {"math", "tointeger", NULL, "arithmetic"}, {"math", "type", NULL, "constant time"},
  {"math", "ult", NULL, "arithmetic"},
  {"utf8", "char", NULL, "bounded by its argument count"},
  {"utf8", "charpattern", NULL, "a string"},
  {"utf8", "codepoint", NULL, "linear, within the stack limit"},
  {"utf8", "codes", NULL, "one step per call"},
  {"utf8", "len", NULL, "linear in a string within the memory limit"},
  {"utf8", "offset", NULL, "linear in a string within the memory limit"},
  {"coroutine", "close", sb_checked, "ours: refused once a limit fired (the __close handlers of a coroutine it killed would run with hooks off)"},
  {"coroutine", "create", NULL, "a new thread inherits the time limit's hook"},
  {"coroutine", "isyieldable", NULL, "constant time"},
  {"coroutine", "resume", NULL, "runs Lua code under the same limits"},
  {"coroutine", "running", NULL, "constant time"},
  {"coroutine", "status", NULL, "constant time"},
  {"coroutine", "wrap", sb_wrap, "ours: Lua's closes a coroutine killed by a limit, running its __close handlers with hooks off"},
  {"coroutine", "yield", NULL, "constant time"},
  {"os", "clock", NULL, "reads a clock"},
  {"os", "date", sb_format, "ours: Lua's, for formats up to 4096 bytes (a strftime call a conversion)"},
  {"os", "difftime", NULL, "arithmetic"},
  {"os", "time", NULL, "reads a clock; a table argument runs __index as Lua code"},
  {NULL, NULL, NULL, NULL}
};

static const luaL_Reg stock_libs[] = {
  {"_G", luaopen_base}, {"string", luaopen_string}, {"table", luaopen_table}, {"math", luaopen_math},
  {"utf8", luaopen_utf8}, {"coroutine", luaopen_coroutine}, {"os", luaopen_os}, {NULL, NULL}
};

int eidos_box_openlibs(lua_State *L) {
  const luaL_Reg *l;
  const struct allow *a;
  int stock, G;
  lua_newtable(L); /* Lua's libraries, by name */
  stock = lua_gettop(L);
  for (l = stock_libs; l->name; l++) {
    lua_pushcfunction(L, l->func);
    lua_call(L, 0, 1);
    lua_setfield(L, stock, l->name);
  }
  lua_newtable(L); /* the hook's globals */
  G = lua_gettop(L);
  for (a = allowlist; a->name; a++) {
    int dest = G;
    if (strcmp(a->lib, "_G")) {
      if (lua_getfield(L, G, a->lib) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, G, a->lib);
      }
      dest = lua_gettop(L);
    }
    lua_getfield(L, stock, a->lib);
    lua_getfield(L, -1, a->name);
    lua_remove(L, -2);
    if (a->ours) {
      lua_pushfstring(L, "%s%s%s", dest == G ? "" : a->lib, dest == G ? "" : ".", a->name);
      lua_pushcclosure(L, a->ours, 2);
    }
    lua_setfield(L, dest, a->name);
    lua_settop(L, G);
  }
  lua_pushvalue(L, G);
  lua_setfield(L, G, "_G");
  /* the loaded-modules table, only for the names in messages ("bad
   * argument #1 to 'string.rep'"): the hook cannot reach it */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  for (l = stock_libs; l->name; l++) {
    lua_getfield(L, G, l->name);
    lua_setfield(L, -2, l->name);
  }
  lua_settop(L, G);
  /* strings' methods are the hook's string table, and their metatable is locked */
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_getfield(L, G, "string");
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_settop(L, G);
  /* math.random from a fixed seed */
  lua_getfield(L, stock, "math");
  lua_getfield(L, -1, "randomseed");
  lua_pushinteger(L, 0);
  lua_call(L, 1, 0);
  lua_settop(L, G);
  /* the hook's globals replace the whole set luaopen_base filled */
  lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_settop(L, stock - 1);
  return 0;
}
