/*
 * json.c -- eidos_json_drop of json.h: one scan keeping, for each open
 * container, whether it is an object and which member key is current; a
 * member whose key path is asked for has its value skipped (strings with
 * memchr, containers by depth) and null written instead.
 */
#include <string.h>
#include "eidos.h"
#include "json.h"

typedef struct {
  const char *key;   /* the current member's key (objects), not terminated */
  size_t klen;
  int obj;           /* an object, not an array */
  int expect_key;    /* the next string is a key */
} frame;

/* index just after the string starting at in[i] == '"', or 0 */
static size_t string_end(const char *in, size_t i, size_t len) {
  size_t j = i + 1;
  for (;;) {
    const char *q = memchr(in + j, '"', len - j);
    size_t k, bs = 0;
    if (!q) return 0;
    k = (size_t)(q - in);
    while (k - bs > i + 1 && in[k - bs - 1] == '\\') bs++;
    if (bs % 2 == 0) return k + 1;
    j = k + 1;
  }
}

/* index just after the value starting at in[i], or 0 */
static size_t value_end(const char *in, size_t i, size_t len) {
  int depth = 0;
  if (in[i] == '"') return string_end(in, i, len);
  if (in[i] != '{' && in[i] != '[') {
    while (i < len && !strchr(",}] \t\r\n", in[i])) i++;
    return i;
  }
  while (i < len) {
    char c = in[i];
    if (c == '"') {
      if (!(i = string_end(in, i, len))) return 0;
      continue;
    }
    if (c == '{' || c == '[') depth++;
    else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
    i++;
  }
  return 0;
}

static int wanted(const frame *f, int depth, const char *const *paths, size_t npaths) {
  size_t p;
  for (p = 0; p < npaths; p++) {
    const char *s = paths[p];
    int d, nobj = 0, ok = 1;
    for (d = 0; d < depth && ok; d++) {
      size_t n;
      if (!f[d].obj) continue;
      n = strcspn(s, ".");
      nobj++;
      if (n != f[d].klen || memcmp(s, f[d].key, n) != 0) ok = 0;
      else s += n + (s[n] == '.');
    }
    if (ok && nobj > 0 && *s == '\0') return 1;
  }
  return 0;
}

int eidos_json_drop(const char *in, size_t len, const char *const *paths,
                    size_t npaths, char *out, size_t *outlen, char *err,
                    size_t errlen) {
  frame f[EIDOS_NEST_MAX];
  int depth = 0;
  size_t i = 0, o = 0, from = 0;
#define FLUSH(to) do { memcpy(out + o, in + from, (to) - from); o += (to) - from; from = (to); } while (0)
  while (i < len) {
    char c = in[i];
    if (c == '{' || c == '[') {
      if (depth == EIDOS_NEST_MAX)
        return eidos_err(err, errlen, EIDOS_EINVAL, "JSON nests deeper than %d levels", EIDOS_NEST_MAX);
      f[depth].obj = c == '{';
      f[depth].expect_key = c == '{';
      f[depth].key = NULL;
      f[depth].klen = 0;
      depth++;
      i++;
    } else if (c == '}' || c == ']') {
      if (depth == 0 || f[depth - 1].obj != (c == '}'))
        return eidos_err(err, errlen, EIDOS_EINVAL, "not JSON: a stray '%c' at byte %zu", c, i);
      depth--;
      i++;
    } else if (c == ',') {
      if (depth && f[depth - 1].obj) f[depth - 1].expect_key = 1;
      i++;
    } else if (c == '"') {
      size_t j = string_end(in, i, len);
      if (!j) return eidos_err(err, errlen, EIDOS_EINVAL, "not JSON: an unterminated string at byte %zu", i);
      if (depth && f[depth - 1].obj && f[depth - 1].expect_key) {
        frame *t = &f[depth - 1];
        size_t k = j, v, e;
        t->key = in + i + 1;
        t->klen = j - i - 2;
        t->expect_key = 0;
        while (k < len && strchr(" \t\r\n", in[k])) k++;
        if (k < len && in[k] == ':' && wanted(f, depth, paths, npaths)) {
          v = k + 1;
          while (v < len && strchr(" \t\r\n", in[v])) v++;
          if (v >= len || !(e = value_end(in, v, len)))
            return eidos_err(err, errlen, EIDOS_EINVAL, "not JSON: an unterminated value at byte %zu", v);
          if (e - v >= 4) {
            FLUSH(v);
            memcpy(out + o, "null", 4);
            o += 4;
            from = e;
          }
          i = e;
          continue;
        }
      }
      i = j;
    } else {
      i++;
    }
  }
  if (depth)
    return eidos_err(err, errlen, EIDOS_EINVAL, "not JSON: %d container%s left open at the end", depth,
                     depth == 1 ? "" : "s");
  FLUSH(len);
  *outlen = o;
  return EIDOS_OK;
#undef FLUSH
}
