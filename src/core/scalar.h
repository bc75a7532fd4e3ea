/*
 * scalar.h -- the YAML scalar rules eidos uses, in one place so the loader
 * and the emitter agree: a plain scalar resolves as null, bool, int, float or
 * string (YAML 1.2 core schema); the emitter quotes every string that this
 * loader, or a YAML 1.1 reader such as Helm's, would read as another type.
 */
#ifndef EIDOS_SCALAR_H
#define EIDOS_SCALAR_H
#include <stddef.h>
#include <stdint.h>

enum eidos_scalar_kind {
  EIDOS_SCALAR_STRING, EIDOS_SCALAR_NULL, EIDOS_SCALAR_BOOL,
  EIDOS_SCALAR_INT, EIDOS_SCALAR_FLOAT
};

struct eidos_scalar {
  enum eidos_scalar_kind kind;
  int b;
  int64_t i;
  double f;
};

/* Resolve a plain (unquoted, untagged) scalar by the YAML 1.2 core schema:
 * null: "" ~ null Null NULL; bool: true True TRUE false False FALSE;
 * int: [-+]?[0-9]+, 0x[0-9a-fA-F]+, 0o[0-7]+ that fit int64 (larger ones
 * become float); float: [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)?,
 * [-+]?.inf, .nan (any case as in the spec). Everything else: string. */
void eidos_scalar_resolve(const char *s, size_t len, struct eidos_scalar *out);

/* Would a YAML reader take this string for something else, so that the
 * emitter must quote it? True for everything eidos_scalar_resolve does not
 * call a string, YAML 1.1 booleans (yes/no/on/off/y/n), number-like text
 * (digits with '_', ':', leading zeros), YAML 1.1 timestamps
 * (2026-11-22T16:00:25Z), and strings with leading or trailing space. */
int eidos_scalar_needs_quotes(const char *s, size_t len);

#endif
