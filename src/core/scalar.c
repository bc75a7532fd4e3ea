/*
 * scalar.c -- YAML plain-scalar resolution and the emitter's quoting test
 * (see scalar.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "scalar.h"

static int eq(const char *s, size_t len, const char *w) {
  return strlen(w) == len && memcmp(s, w, len) == 0;
}

static int anyof(const char *s, size_t len, const char *const *ws) {
  for (; *ws; ws++) if (eq(s, len, *ws)) return 1;
  return 0;
}

static int isdig(char c) { return c >= '0' && c <= '9'; }

static int is_float(const char *s, size_t len) {
  size_t i = 0, d = 0;
  if (i < len && (s[i] == '-' || s[i] == '+')) i++;
  if (i < len && s[i] == '.') {
    i++;
    while (i < len && isdig(s[i])) { i++; d++; }
    if (!d) return 0;
  } else {
    while (i < len && isdig(s[i])) { i++; d++; }
    if (!d) return 0;
    if (i < len && s[i] == '.') {
      i++;
      while (i < len && isdig(s[i])) i++;
    }
  }
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    size_t e = 0;
    i++;
    if (i < len && (s[i] == '-' || s[i] == '+')) i++;
    while (i < len && isdig(s[i])) { i++; e++; }
    if (!e) return 0;
  }
  return i == len;
}

void eidos_scalar_resolve(const char *s, size_t len, struct eidos_scalar *out) {
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
  static const char *const trues[] = {"true", "True", "TRUE", NULL};
  static const char *const falses[] = {"false", "False", "FALSE", NULL};
  static const char *const infs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
  static const char *const ninfs[] = {"-.inf", "-.Inf", "-.INF", NULL};
  static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
  char buf[64];
  memset(out, 0, sizeof *out);
  out->kind = EIDOS_SCALAR_STRING;
  if (len <= 5) { /* the longest word above */
    if (anyof(s, len, nulls)) { out->kind = EIDOS_SCALAR_NULL; return; }
    if (anyof(s, len, trues)) { out->kind = EIDOS_SCALAR_BOOL; out->b = 1; return; }
    if (anyof(s, len, falses)) { out->kind = EIDOS_SCALAR_BOOL; return; }
    if (anyof(s, len, infs)) { out->kind = EIDOS_SCALAR_FLOAT; out->f = HUGE_VAL; return; }
    if (anyof(s, len, ninfs)) { out->kind = EIDOS_SCALAR_FLOAT; out->f = -HUGE_VAL; return; }
    if (anyof(s, len, nans)) { out->kind = EIDOS_SCALAR_FLOAT; out->f = NAN; return; }
  }
  /* a number starts with a digit, a sign or a point */
  if (len == 0 || len >= sizeof buf || !(isdig(s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.'))
    return;
  memcpy(buf, s, len);
  buf[len] = 0;
  {
    size_t i = 0, d;
    int base = 10;
    const char *digits = buf;
    int neg = 0;
    if (len > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'o')) {
      base = buf[1] == 'x' ? 16 : 8;
      digits = buf + 2;
      for (d = 0; digits[d]; d++) {
        char c = digits[d];
        int ok = base == 16 ? (isdig(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
                            : (c >= '0' && c <= '7');
        if (!ok) return;
      }
    } else {
      if (buf[i] == '-' || buf[i] == '+') { neg = buf[i] == '-'; i++; }
      for (d = 0; buf[i + d]; d++) if (!isdig(buf[i + d])) break;
      if (d == 0 || buf[i + d]) goto tryfloat;
    }
    errno = 0;
    {
      long long v = strtoll(digits, NULL, base);
      (void)neg;
      if (errno == ERANGE) {
        out->kind = EIDOS_SCALAR_FLOAT;
        out->f = strtod(buf, NULL);
        return;
      }
      out->kind = EIDOS_SCALAR_INT;
      out->i = v;
      return;
    }
  }
tryfloat:
  if (is_float(buf, len)) {
    out->kind = EIDOS_SCALAR_FLOAT;
    out->f = strtod(buf, NULL);
  }
}

int eidos_scalar_needs_quotes(const char *s, size_t len) {
  static const char *const yaml11[] = {
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
    "on", "On", "ON", "off", "Off", "OFF", "=", "<<", NULL};
  struct eidos_scalar sc;
  size_t i;
  int numlike = 1;
  if (len == 0) return 1;
  eidos_scalar_resolve(s, len, &sc);
  if (sc.kind != EIDOS_SCALAR_STRING) return 1;
  if (len <= 3 && anyof(s, len, yaml11)) return 1; /* the longest word above */
  if (s[0] == ' ' || s[len - 1] == ' ') return 1;
  /* YAML 1.1 timestamps (2026-11-22, 2026-11-22T16:00:25Z) */
  if (len >= 8 && isdig(s[0]) && isdig(s[1]) && isdig(s[2]) && isdig(s[3]) && s[4] == '-' && isdig(s[5]))
    return 1;
  /* number-like under YAML 1.1 (1_000, 0777, 1:20, 1e3, .5, +.5) */
  if (!(isdig(s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.')) numlike = 0;
  for (i = 0; numlike && i < len; i++) {
    char c = s[i];
    if (!(isdig(c) || c == '_' || c == ':' || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E' || c == 'x' || c == 'o' || (c >= 'a' && c <= 'f') ||
          (c >= 'A' && c <= 'F')))
      numlike = 0;
  }
  return numlike;
}
