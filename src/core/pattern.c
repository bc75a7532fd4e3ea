/*
 * pattern.c -- the Lua 5.4 pattern language (see pattern.h) matched by
 * backtracking, as the reference manual (6.4.1) defines it: single
 * character classes with `*`, `+`, `-`, `?`; captures, position captures
 * and back references; `%b` and `%f`; `$` at the end. Every entry into the
 * matcher and every character an expansion consumes is a step; long
 * comparisons (back references) weigh their length. Every EIDOS_PAT_POLL
 * steps the caller's check() decides whether to go on. Error messages are
 * the ones Lua users know ("malformed pattern (missing ']')").
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "eidos.h"
#include "pattern.h"

#define ESC '%'
#define MAXDEPTH 200 /* nested matcher calls, as Lua's MAXCCALLS */
#define SPECIALS "^$*+?.([%-"

static const char *match(eidos_pat *m, const char *s, const char *p);

/* record the first error; always NULL, so that `return fail(...)` reads well */
static const char *fail(eidos_pat *m, int rc, const char *fmt, ...) {
  if (!m->rc) {
    va_list ap;
    m->rc = rc;
    if (m->err && m->errlen) {
      va_start(ap, fmt);
      vsnprintf(m->err, m->errlen, fmt, ap);
      va_end(ap);
    }
  }
  return NULL;
}

/* count w steps; 1 when the match must stop (an error, or check() said so) */
static inline int stopped(eidos_pat *m, size_t w) {
  unsigned long before = m->steps;
  if (m->rc) return 1;
  m->steps += w;
  if (((before ^ m->steps) >= EIDOS_PAT_POLL || w >= EIDOS_PAT_POLL) && m->check && m->check(m->ud)) {
    fail(m, EIDOS_ETIMEOUT, "pattern matching stopped by the time limit");
    return 1;
  }
  return 0;
}

/* the end of the single-character class that starts at p, or NULL */
static const char *class_end(eidos_pat *m, const char *p) {
  char c = *p++;
  if (c == ESC) {
    if (p >= m->p_end) return fail(m, EIDOS_EINVAL, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (c == '[') {
    if (p < m->p_end && *p == '^') p++;
    do { /* the set's first character may be ']' */
      if (p >= m->p_end) return fail(m, EIDOS_EINVAL, "malformed pattern (missing ']')");
      c = *p++;
      if (c == ESC && p < m->p_end) p++; /* an escaped character, e.g. %] */
    } while (p >= m->p_end || *p != ']');
    return p + 1;
  }
  return p;
}

/* is c in the class %cl? */
static int in_class(int c, int cl) {
  int r;
  switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    case 'z': r = c == 0; break; /* deprecated in Lua 5.2, still accepted */
    default: return cl == c; /* %. and the like: the character itself */
  }
  if (isupper(cl)) r = !r;
  return r != 0;
}

/* is c in the set [...] from p ('[') to close (']')? */
static int in_set(int c, const char *p, const char *close) {
  int yes = 1;
  if (p[1] == '^') {
    yes = 0;
    p++;
  }
  while (++p < close) {
    if (*p == ESC) {
      p++;
      if (in_class(c, (unsigned char)*p)) return yes;
    } else if (p[1] == '-' && p + 2 < close) {
      p += 2;
      if ((unsigned char)p[-2] <= c && c <= (unsigned char)*p) return yes;
    } else if ((unsigned char)*p == c) {
      return yes;
    }
  }
  return !yes;
}

/* does the subject character at s match the class p..ep? */
static int single(eidos_pat *m, const char *s, const char *p, const char *ep) {
  int c;
  if (s >= m->s_end) return 0;
  c = (unsigned char)*s;
  switch (*p) {
    case '.': return 1;
    case ESC: return in_class(c, (unsigned char)p[1]);
    case '[': return in_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
  }
}

/* %bxy at p (p points at x) */
static const char *balance(eidos_pat *m, const char *s, const char *p) {
  int depth = 1;
  if (p + 1 >= m->p_end) return fail(m, EIDOS_EINVAL, "malformed pattern (missing arguments to '%%b')");
  if (s >= m->s_end || *s != p[0]) return NULL;
  while (++s < m->s_end) {
    if (stopped(m, 1)) return NULL;
    if (*s == p[1]) {
      if (--depth == 0) return s + 1;
    } else if (*s == p[0]) {
      depth++;
    }
  }
  return NULL;
}

/* greedy: as many as possible, then give back one at a time */
static const char *max_expand(eidos_pat *m, const char *s, const char *p, const char *ep) {
  ptrdiff_t i = 0;
  while (single(m, s + i, p, ep)) {
    i++;
    if (stopped(m, 1)) return NULL;
  }
  for (; i >= 0; i--) {
    const char *r = match(m, s + i, ep + 1);
    if (r || m->rc) return r;
  }
  return NULL;
}

/* lazy: as few as possible, then one more at a time */
static const char *min_expand(eidos_pat *m, const char *s, const char *p, const char *ep) {
  for (;;) {
    const char *r = match(m, s, ep + 1);
    if (r || m->rc) return r;
    if (!single(m, s, p, ep)) return NULL;
    s++;
  }
}

static const char *open_capture(eidos_pat *m, const char *s, const char *p, ptrdiff_t what) {
  const char *r;
  if (m->ncap >= EIDOS_PAT_MAXCAP) return fail(m, EIDOS_EINVAL, "too many captures");
  m->cap[m->ncap].init = s;
  m->cap[m->ncap].len = what;
  m->ncap++;
  if (!(r = match(m, s, p))) m->ncap--;
  return r;
}

static const char *close_capture(eidos_pat *m, const char *s, const char *p) {
  const char *r;
  int l = m->ncap - 1;
  while (l >= 0 && m->cap[l].len != EIDOS_PAT_UNFINISHED) l--;
  if (l < 0) return fail(m, EIDOS_EINVAL, "invalid pattern capture");
  m->cap[l].len = s - m->cap[l].init;
  if (!(r = match(m, s, p))) m->cap[l].len = EIDOS_PAT_UNFINISHED;
  return r;
}

/* %1 .. %9: the text of an earlier capture again */
static const char *back_reference(eidos_pat *m, const char *s, int digit) {
  int l = digit - '1';
  size_t len;
  if (l < 0 || l >= m->ncap || m->cap[l].len == EIDOS_PAT_UNFINISHED)
    return fail(m, EIDOS_EINVAL, "invalid capture index %%%d", l + 1);
  len = (size_t)m->cap[l].len; /* a position capture gives a huge len: no match */
  if ((size_t)(m->s_end - s) < len || stopped(m, len / 64)) return NULL;
  return memcmp(m->cap[l].init, s, len) == 0 ? s + len : NULL;
}

/* the end of a match of p at s, or NULL (no match, or m->rc set) */
static const char *match(eidos_pat *m, const char *s, const char *p) {
  const char *r = NULL, *ep;
  if (m->depth++ >= MAXDEPTH) {
    fail(m, EIDOS_EINVAL, "pattern too complex");
    goto out;
  }
  for (;;) {
    if (stopped(m, 1)) goto out;
    if (p >= m->p_end) {
      r = s;
      goto out;
    }
    switch (*p) {
      case '(':
        if (p + 1 < m->p_end && p[1] == ')') r = open_capture(m, s, p + 2, EIDOS_PAT_POSITION);
        else r = open_capture(m, s, p + 1, EIDOS_PAT_UNFINISHED);
        goto out;
      case ')':
        r = close_capture(m, s, p + 1);
        goto out;
      case '$':
        if (p + 1 == m->p_end) {
          r = s == m->s_end ? s : NULL;
          goto out;
        }
        break; /* a '$' elsewhere is itself */
      case ESC:
        if (p + 1 >= m->p_end) break; /* class_end reports it */
        if (p[1] == 'b') {
          if (!(s = balance(m, s, p + 2))) goto out;
          p += 4;
          continue;
        }
        if (p[1] == 'f') {
          int prev, cur;
          p += 2;
          if (p >= m->p_end || *p != '[') {
            fail(m, EIDOS_EINVAL, "missing '[' after '%%f' in pattern");
            goto out;
          }
          if (!(ep = class_end(m, p))) goto out;
          prev = s == m->s ? 0 : (unsigned char)s[-1];
          cur = s < m->s_end ? (unsigned char)*s : 0;
          if (in_set(prev, p, ep - 1) || !in_set(cur, p, ep - 1)) goto out;
          p = ep;
          continue;
        }
        if (isdigit((unsigned char)p[1])) {
          if (!(s = back_reference(m, s, (unsigned char)p[1]))) goto out;
          p += 2;
          continue;
        }
        break;
      default: break;
    }
    /* a single-character class, maybe with a quantifier */
    if (!(ep = class_end(m, p))) goto out;
    if (!single(m, s, p, ep)) {
      if (ep < m->p_end && (*ep == '*' || *ep == '?' || *ep == '-')) { /* zero of them is fine */
        p = ep + 1;
        continue;
      }
      goto out;
    }
    switch (ep < m->p_end ? *ep : 0) {
      case '?':
        if ((r = match(m, s + 1, ep + 1)) || m->rc) goto out;
        p = ep + 1;
        continue;
      case '+': r = max_expand(m, s + 1, p, ep); goto out;
      case '*': r = max_expand(m, s, p, ep); goto out;
      case '-': r = min_expand(m, s, p, ep); goto out;
      default:
        s++;
        p = ep;
        continue;
    }
  }
out:
  m->depth--;
  return r;
}

void eidos_pat_init(eidos_pat *m, const char *s, size_t slen, const char *p, size_t plen,
                    int (*check)(void *ud), void *ud, char *err, size_t errlen) {
  m->s = s; /* not memset: the captures need no clearing, and a call is ~20 ns */
  m->s_end = s + slen;
  m->p = p;
  m->p_end = p + plen;
  m->check = check;
  m->ud = ud;
  m->err = err;
  m->errlen = errlen;
  m->ncap = 0;
  m->steps = 0;
  m->depth = 0;
  m->rc = 0;
  if (err && errlen) err[0] = '\0';
}

int eidos_pat_match(eidos_pat *m, size_t pos, size_t *end) {
  const char *e;
  m->ncap = 0;
  m->depth = 0;
  e = match(m, m->s + pos, m->p);
  if (m->rc) return m->rc;
  if (!e) return 0;
  *end = (size_t)(e - m->s);
  return 1;
}

int eidos_pat_is_plain(const char *p, size_t plen) {
  size_t i;
  for (i = 0; i < plen; i++)
    if (memchr(SPECIALS, p[i], sizeof SPECIALS - 1)) return 0;
  return 1;
}
