/*
 * sandbox.h -- the hook sandbox: operator-written Lua run in a Lua state of
 * its own that the host controls completely (sandbox.c: the state, its
 * limits, values crossing; sandbox_lib.c: the allowlisted environment).
 * The binding src/bind/lsandbox.c exposes it as eidos.core.sandbox; the
 * policy around it (which hooks, their limits, their errors) is
 * lua/eidos/hooks.lua.
 *
 * A box runs one hook file. Its limits, given at eidos_box_open and kept
 * for every later call:
 *  - memory: bytes the hook's state may hold; its allocator refuses past
 *    it. The bytes a call hands the host (its results, the lines it
 *    prints) count against the same number, per call.
 *  - time_ms: wall-clock time of the file's top level and of each call.
 * A limit that fired stays fired: the call fails whatever the hook does
 * afterwards, and the next call starts from a fresh state (the file's top
 * level runs again), so nothing a killed call left behind survives.
 * No state is shared between boxes: boxes of different threads are
 * independent (one box is used by one thread at a time).
 */
#ifndef EIDOS_SANDBOX_H
#define EIDOS_SANDBOX_H

#include <stddef.h>
#include <lua.h>

typedef struct eidos_box eidos_box;

/* Why a hook failed: "time" (its time limit), "memory" (its memory limit,
 * also by what it hands the host), "error" (it raised, or does not
 * parse), "value" (a result that cannot cross: a function, too deep),
 * "result" (the file returned no table; the hook point is no function). */

/* The codename (eidos_strcode) of a reason: "timeout", "internal" or
 * "invalid". */
const char *eidos_box_code(const char *reason);

/* Open a box on the hook file text src (len bytes) named name (its path:
 * messages and chunk name), run its top level under the limits and keep
 * the table it returns as its exports. On failure returns NULL, writes a
 * message naming the file into msg and sets *reason. */
eidos_box *eidos_box_open(const char *src, size_t len, const char *name, size_t memory, long time_ms,
                          const char **reason, char *msg, size_t msglen);
void eidos_box_close(eidos_box *b);

/* Call the exported function at path (npath keys: {"operators", "x",
 * "eval"}) with copies of the nargs values of L from index argbase. Pushes
 * true and the results, copied out; or false, message, codename, reason.
 * Returns the number of values pushed. print_idx: index in L of a function(line)
 * that receives what the hook prints (0: dropped). Raises in L only for
 * misuse (no function at path). */
int eidos_box_call(eidos_box *b, lua_State *L, const char *const *path, int npath, int argbase, int nargs,
                   int print_idx);

/* Push the type name of the exports value at path onto L, or nothing when
 * it is absent; returns the number pushed. */
int eidos_box_kind(eidos_box *b, lua_State *L, const char *const *path, int npath);

/* Push the sorted list of string keys of the exports table at path. */
void eidos_box_keys(eidos_box *b, lua_State *L, const char *const *path, int npath);

/* Bytes in use by the hook's state. */
size_t eidos_box_memory(eidos_box *b);

#endif
