/*
 * bind.h -- helpers shared by the Lua bindings in src/bind (one binding per
 * core module: lNAME.c defines luaopen_eidos_core_NAME and is discovered by
 * the build). Conventions:
 *  - misuse (wrong argument type) raises a Lua error (luaL_check*);
 *  - an expected failure returns nil, message, codename (eidos_bind_fail);
 *  - YAML/JSON null is the light userdata NULL (the same value as
 *    cjson.null), pushed by eidos_bind_pushnull;
 *  - a table whose metatable is the registry's "eidos.list" is a list even
 *    when empty; "eidos.map" marks an empty map explicitly. An unmarked
 *    empty table is emitted as a map. A metatable field __order (a list of
 *    keys) fixes key order for the emitters; other keys follow in natural
 *    order.
 * Every function below and every Lua-visible function of the bindings
 * notes its stack effect as Lua's reference manual does: [-o, +p, x] pops
 * o values, pushes p, and x says what it may raise ("-" nothing, "m" only
 * a memory error, "v" an error on purpose, e.g. a wrong argument type,
 * "e" any error, including one from a metamethod it triggers).
 */
#ifndef EIDOS_BIND_H
#define EIDOS_BIND_H

#include <lua.h>
#include <lauxlib.h>

#define EIDOS_LIST_MT "eidos.list"
#define EIDOS_MAP_MT "eidos.map"

/* Push nil, msg, eidos_strcode(code); return 3 (for `return eidos_bind_fail(...)`).
 * [-0, +3, m] */
int eidos_bind_fail(lua_State *L, int code, const char *msg);
/* Push the null sentinel. [-0, +1, -] */
void eidos_bind_pushnull(lua_State *L);
/* Is the value at idx the null sentinel? [-0, +0, -] */
int eidos_bind_isnull(lua_State *L, int idx);
/* Push the list (or map) marker metatable, creating it on first use.
 * [-0, +1, m] */
void eidos_bind_list_mt(lua_State *L);
void eidos_bind_map_mt(lua_State *L);
/* Kind of the table at idx: 1 list, 0 map. A list is a table marked with
 * eidos.list, or a non-empty table whose keys are exactly 1..n; *n (if
 * given) gets n. Raw access only. [-0, +0, -] */
int eidos_bind_islist(lua_State *L, int idx, lua_Integer *n);

/* Read field k of the options table at index t, raising "<who>: field k
 * must be a string|number" on a wrong type. A string stays referenced by
 * the table, so the pointer lives as long as the table does; *len (if
 * given) gets its length, 0 when absent. optboolean: any value, truthiness.
 * [-0, +0, e] */
const char *eidos_bind_optstring(lua_State *L, int t, const char *k, size_t *len, const char *who);
double eidos_bind_optnumber(lua_State *L, int t, const char *k, double def, const char *who);
int eidos_bind_optboolean(lua_State *L, int t, const char *k);

/* The list of strings at idx as a NULL-terminated array (NULL when idx is
 * nil or none), in a userdata pushed on the stack that owns it; the
 * strings stay owned by the list. Raises "<who>: <what>[i] must be a
 * string". [-0, +(0|1), v] */
const char **eidos_bind_strings(lua_State *L, int idx, const char *who, const char *what);

/* The TLS fields of an options table (ca_file, ca_data, cert_file,
 * cert_data, key_file, key_data; *_data is PEM text) into tls; the strings
 * stay owned by the table. [-0, +0, e] */
struct eidos_tls;
void eidos_bind_opttls(lua_State *L, int t, struct eidos_tls *tls, const char *who);

/* Register the metatable of a handle type once: name (e.g.
 * "eidos.sandbox.Box"), methods as its __index (may be NULL), and
 * metamethods (__gc, __close, ...; may be NULL). [-0, +0, m] */
void eidos_bind_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      const luaL_Reg *metamethods);

#endif
