/*
 * pattern.h -- Lua 5.4 patterns (the language of string.find, match, gmatch
 * and gsub) matched under a step budget. The stock matcher backtracks
 * without limit: `("a"):rep(4e4):find(".-.-.-b")` runs for hours inside one
 * C call that no Lua hook can interrupt. This one counts its steps and
 * polls a caller-given function every EIDOS_PAT_POLL steps; when that
 * function says stop, the match ends with EIDOS_ETIMEOUT. Pure C (the hook
 * sandbox in src/host binds it to Lua); thread-safe (no static state).
 */
#ifndef EIDOS_PATTERN_H
#define EIDOS_PATTERN_H

#include <stddef.h>

#define EIDOS_PAT_MAXCAP 32      /* captures per pattern, as Lua's LUA_MAXCAPTURES */
#define EIDOS_PAT_POLL 1024      /* steps between two polls of check() */
#define EIDOS_PAT_POSITION (-2)  /* len of a position capture `()` */
#define EIDOS_PAT_UNFINISHED (-1)

typedef struct eidos_pat {
  /* set by eidos_pat_init */
  const char *s, *s_end;         /* subject */
  const char *p, *p_end;         /* pattern, without a leading '^' anchor */
  int (*check)(void *ud);        /* nonzero: stop (EIDOS_ETIMEOUT) */
  void *ud;
  char *err;
  size_t errlen;
  /* the captures of the last match: cap[i].init points into the subject */
  int ncap;
  struct { const char *init; ptrdiff_t len; } cap[EIDOS_PAT_MAXCAP];
  /* state */
  unsigned long steps;           /* over every eidos_pat_match of this pattern */
  int depth, rc;
} eidos_pat;

/* Prepare a match of the pattern p (plen bytes; strip a leading '^' first
 * where it anchors) against the subject s (slen bytes). check may be NULL. */
void eidos_pat_init(eidos_pat *m, const char *s, size_t slen, const char *p, size_t plen,
                    int (*check)(void *ud), void *ud, char *err, size_t errlen);

/* Match at s + pos (pos <= slen). Returns 1 and *end (offset just after the
 * match) with m->ncap captures, 0 when the pattern does not match there, or
 * a negative EIDOS_E* code with a message in err: EIDOS_EINVAL for a
 * malformed pattern (the messages are Lua's own), EIDOS_ETIMEOUT when
 * check() said stop. */
int eidos_pat_match(eidos_pat *m, size_t pos, size_t *end);

/* 1 when p has none of the characters special in a pattern, so that
 * string.find may search for it as plain text. */
int eidos_pat_is_plain(const char *p, size_t plen);

#endif
