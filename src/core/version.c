/*
 * version.c -- the version grammar of version.h. A version is
 *
 *   [v|V] MAJOR [. MINOR [. PATCH]] [(-|+) SUFFIX]
 *
 * where each part is one or more ASCII digits (leading zeros allowed:
 * `580.105.08` has patch 8) no larger than EIDOS_VERSION_PART_MAX, and the suffix
 * starts at the first `-` or `+` that follows a digit. Compared with the Go
 * tool this follows (pkg/version), a capital `V` is accepted, a `+` sign
 * inside a part (`1.+2`) is refused, and an empty or control-character
 * suffix is refused; everything else parses to the same value.
 */
#include <stdio.h>
#include <string.h>
#include "eidos.h"
#include "version.h"

#define ACCEPTED "expected MAJOR[.MINOR[.PATCH]] with an optional \"v\" prefix " \
  "and \"-\" or \"+\" suffix (e.g. 1.32, v1.33.5-eks-3025e55)"

/* Quote at most 64 bytes of s into buf as a C-like string literal. */
static const char *quote(const char *s, size_t len, char *buf, size_t n) {
  size_t i, o = 0;
  buf[o++] = '"';
  for (i = 0; i < len && o + 6 < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (i == 64) { memcpy(buf + o, "...", 3); o += 3; break; }
    if (c == '"' || c == '\\') { buf[o++] = '\\'; buf[o++] = (char)c; }
    else if (c < 0x20 || c == 0x7f) o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
    else buf[o++] = (char)c;
  }
  buf[o++] = '"';
  buf[o] = '\0';
  return buf;
}

static int fail(char *err, size_t errlen, const char *s, size_t len,
                const char *what) {
  char q[300];
  return eidos_err(err, errlen, EIDOS_EINVAL, "invalid version %s: %s; %s",
                   quote(s, len, q, sizeof q), what, ACCEPTED);
}

int eidos_version_parse(const char *s, size_t len, eidos_version *v,
                        char *err, size_t errlen) {
  size_t start = 0, end, i, p, nparts = 1;
  int64_t part[3] = {0, 0, 0};
  char what[200], q[300];
  if (len == 0) return fail(err, errlen, s, len, "version string is empty");
  if (s[0] == 'v' || s[0] == 'V') start = 1;
  /* the suffix starts at the first '-' or '+' that follows a digit */
  for (end = start + 1; end < len; end++)
    if ((s[end] == '-' || s[end] == '+') && s[end - 1] >= '0' && s[end - 1] <= '9')
      break;
  if (end > len) end = len;
  if (end < len) {
    if (end + 1 == len) {
      snprintf(what, sizeof what, "the suffix after \"%c\" is empty", s[end]);
      return fail(err, errlen, s, len, what);
    }
    for (i = end; i < len; i++)
      if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
        return fail(err, errlen, s, len, "the suffix contains a control character");
  }
  for (i = start; i < end; i++) if (s[i] == '.') nparts++;
  if (nparts > 3) {
    snprintf(what, sizeof what, "it has %zu components, at most 3 are allowed", nparts);
    return fail(err, errlen, s, len, what);
  }
  for (p = 0, i = start; p < nparts; p++) {
    size_t b = i;
    int64_t n = 0;
    while (i < end && s[i] != '.') i++;
    if (i == b) {
      snprintf(what, sizeof what, "component %zu is empty", p + 1);
      return fail(err, errlen, s, len, what);
    }
    for (size_t k = b; k < i; k++) {
      unsigned char c = (unsigned char)s[k];
      if (c < '0' || c > '9') {
        int neg = s[b] == '-' && i - b > 1;
        for (size_t j = b + 1; neg && j < i; j++)
          if (s[j] < '0' || s[j] > '9') neg = 0;
        snprintf(what, sizeof what, neg ? "component %zu (%s) is negative"
                 : "component %zu (%s) is not a number", p + 1,
                 quote(s + b, i - b, q, sizeof q));
        return fail(err, errlen, s, len, what);
      }
      if (n > (EIDOS_VERSION_PART_MAX - (c - '0')) / 10) {
        snprintf(what, sizeof what, "component %zu (%s) is larger than %lld",
                 p + 1, quote(s + b, i - b, q, sizeof q),
                 (long long)EIDOS_VERSION_PART_MAX);
        return fail(err, errlen, s, len, what);
      }
      n = n * 10 + (c - '0');
    }
    part[p] = n;
    i++; /* skip the dot */
  }
  v->major = part[0];
  v->minor = part[1];
  v->patch = part[2];
  v->precision = (int)nparts;
  v->extra = end;
  return EIDOS_OK;
}

static int cmp64(int64_t a, int64_t b) { return a < b ? -1 : a > b; }

int eidos_version_compare(const eidos_version *a, const eidos_version *b) {
  int p = a->precision < b->precision ? a->precision : b->precision;
  int c = cmp64(a->major, b->major);
  if (c || p < 2) return c;
  c = cmp64(a->minor, b->minor);
  if (c || p < 3) return c;
  return cmp64(a->patch, b->patch);
}

int eidos_version_format(const eidos_version *v, char *buf, size_t buflen) {
  if (v->precision <= 1) return snprintf(buf, buflen, "%lld", (long long)v->major);
  if (v->precision == 2)
    return snprintf(buf, buflen, "%lld.%lld", (long long)v->major, (long long)v->minor);
  return snprintf(buf, buflen, "%lld.%lld.%lld", (long long)v->major,
                  (long long)v->minor, (long long)v->patch);
}
