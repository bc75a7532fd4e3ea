/*
 * eidos.h -- shared definitions of the pure C core: error codes and the
 * error-buffer convention. Every core function returns 0 (EIDOS_OK) or a
 * negative EIDOS_E* code and writes a human-readable message into a
 * caller-owned buffer. The absolute value of a code is the process exit code
 * the CLI uses for it (see docs/cli.md), so mapping is trivial at the top.
 * Core code never prints, exits or aborts, and never includes lua.h.
 */
#ifndef EIDOS_H
#define EIDOS_H

#include <stddef.h>

#define EIDOS_OK         0
#define EIDOS_EFAIL     -1   /* general failure (I/O and the like) */
#define EIDOS_EINVAL    -2   /* invalid input */
#define EIDOS_ENOTFOUND -3   /* not found */
#define EIDOS_EAUTH     -4   /* unauthorized / forbidden */
#define EIDOS_ETIMEOUT  -5   /* deadline passed */
#define EIDOS_EUNAVAIL  -6   /* dependency or service unavailable */
#define EIDOS_ERATE     -7   /* rate limited */
#define EIDOS_EINTERNAL -8   /* bug or resource exhaustion */

/* Nesting. Every input document (a file, stdin, a URL, a ConfigMap, a
 * request body, a --set path with its value) is refused as invalid input
 * when it nests deeper than EIDOS_NEST_MAX; the check happens once, where
 * the input is read. Code that walks structures built from checked input
 * (merge, copy, the emitters) stops at EIDOS_NEST_INTERNAL, which such
 * structures cannot reach (a document placed inside another adds a few
 * levels, never 64): reaching it means a cycle or a bug. */
#define EIDOS_NEST_MAX 64
#define EIDOS_NEST_INTERNAL (2 * EIDOS_NEST_MAX)

/* Symbolic name of a code ("invalid", "notfound", ...). */
const char *eidos_strcode(int code);

/* printf into err (if non-NULL), return code. */
int eidos_err(char *err, size_t errlen, int code, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 4, 5)))
#endif
  ;

#endif
