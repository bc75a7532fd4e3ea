/*
 * base64.c -- RFC 4648 base64, standard and URL-safe (see base64.h).
 */
#include <stdint.h>
#include "eidos.h"
#include "base64.h"

static const char std_alpha[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t eidos_base64_enclen(size_t n, int flags) {
  if (n / 3 >= SIZE_MAX / 4 - 1) return 0;
  if (flags & EIDOS_BASE64_URL) return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
  return (n + 2) / 3 * 4;
}

size_t eidos_base64_encode(const void *in, size_t n, char *out, int flags) {
  const unsigned char *p = in;
  const char *a = (flags & EIDOS_BASE64_URL) ? url_alpha : std_alpha;
  int pad = !(flags & EIDOS_BASE64_URL);
  size_t i, o = 0;
  for (i = 0; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    out[o++] = a[v >> 18];
    out[o++] = a[(v >> 12) & 63];
    out[o++] = a[(v >> 6) & 63];
    out[o++] = a[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    out[o++] = a[v >> 18];
    out[o++] = a[(v >> 12) & 63];
    if (pad) out[o++] = '=', out[o++] = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    out[o++] = a[v >> 18];
    out[o++] = a[(v >> 12) & 63];
    out[o++] = a[(v >> 6) & 63];
    if (pad) out[o++] = '=';
  }
  out[o] = '\0';
  return o;
}

/* the value of each byte in the alphabets, -1 outside them: the one
 * table the decoder reads, whole groups of four at a time on its fast path
 * and byte by byte around spaces and padding */
static const signed char std_val[256] = {
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
  52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
  -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
  -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
  41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
static const signed char url_val[256] = {
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
  52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
  -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
  -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
  41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int bad_byte(char *err, size_t errlen, const char *in, size_t i,
                    int url) {
  unsigned char c = (unsigned char)in[i];
  const char *accepted = url ? "A-Z a-z 0-9 - _ and = padding"
                             : "A-Z a-z 0-9 + / and = padding";
  const char *hint = "";
  if (!url && (c == '-' || c == '_'))
    hint = " (a URL-safe base64 character: decode it as URL-safe base64)";
  else if (url && (c == '+' || c == '/'))
    hint = " (a standard base64 character: decode it as standard base64)";
  if (c >= 0x21 && c < 0x7f)
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "invalid base64: '%c' at byte %zu; accepted: %s%s", c, i,
                     accepted, hint);
  return eidos_err(err, errlen, EIDOS_EINVAL,
                   "invalid base64: byte 0x%02x at byte %zu; accepted: %s", c,
                   i, accepted);
}

int eidos_base64_decode(const char *in, size_t len, void *out, size_t *outlen,
                        int flags, char *err, size_t errlen) {
  unsigned char *o = out;
  int url = (flags & EIDOS_BASE64_URL) != 0;
  size_t i, n = 0, nchars = 0, npad = 0, first_pad = 0;
  uint32_t acc = 0;
  *outlen = 0;
  const signed char *val = url ? url_val : std_val;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    int v;
    /* fast path: whole groups of four alphabet characters (no space, no
     * padding); anything else falls through to the byte-wise checks */
    if (nchars % 4 == 0 && !npad) {
      while (i + 4 <= len) {
        const unsigned char *q = (const unsigned char *)in + i;
        int a = val[q[0]], b = val[q[1]], d = val[q[2]], e = val[q[3]];
        uint32_t g;
        if ((a | b | d | e) < 0) break;
        g = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)d << 6 | (uint32_t)e;
        o[n++] = (unsigned char)(g >> 16);
        o[n++] = (unsigned char)(g >> 8);
        o[n++] = (unsigned char)g;
        nchars += 4;
        i += 4;
      }
      if (i >= len) break;
      c = (unsigned char)in[i];
    }
    if (is_space(c)) continue;
    if (c == '=') {
      if (!npad) first_pad = i;
      if (++npad > 2)
        return eidos_err(err, errlen, EIDOS_EINVAL,
                         "invalid base64: more than two '=' at byte %zu", i);
      continue;
    }
    if (npad)
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "invalid base64: data after the '=' padding at byte %zu",
                       i);
    if ((v = val[c]) < 0) return bad_byte(err, errlen, in, i, url);
    acc = acc << 6 | (uint32_t)v;
    if (++nchars % 4 == 0) {
      o[n++] = (unsigned char)(acc >> 16);
      o[n++] = (unsigned char)(acc >> 8);
      o[n++] = (unsigned char)acc;
      acc = 0;
    }
  }
  /* a last group of 1 character cannot be; 2 or 3 carry 1 or 2 bytes */
  switch (nchars % 4) {
    case 0:
      if (npad)
        return eidos_err(err, errlen, EIDOS_EINVAL,
                         "invalid base64: '=' padding at byte %zu after a "
                         "complete group", first_pad);
      break;
    case 1:
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "invalid base64: %zu characters (without padding) "
                       "cannot be base64: one is missing or extra", nchars);
    case 2:
    case 3:
      if (!url || npad) {
        size_t want = 4 - nchars % 4;
        if (npad != want)
          return eidos_err(err, errlen, EIDOS_EINVAL,
                           "invalid base64: %zu characters need %zu '=' of "
                           "padding, found %zu", nchars, want, npad);
      }
      if (nchars % 4 == 2) {
        o[n++] = (unsigned char)(acc >> 4);
      } else {
        o[n++] = (unsigned char)(acc >> 10);
        o[n++] = (unsigned char)(acc >> 2);
      }
      break;
  }
  *outlen = n;
  return EIDOS_OK;
}
