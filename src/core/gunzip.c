/*
 * gunzip.c -- eidos_gunzip of gunzip.h: zlib's inflate with the gzip
 * wrapper (window bits 15 + 16), into a buffer that grows geometrically up
 * to the caller's cap and never past it.
 */
#include <stdlib.h>
#include <string.h>
#include "eidos.h"
#include "lazy.h"
#include "gunzip.h"

int eidos_gunzip(const void *data, size_t len, size_t max_out, char **out,
                 size_t *outlen, char *err, size_t errlen) {
  const struct eidos_zlib *Z;
  const unsigned char *in = data;
  z_stream zs;
  char *buf = NULL;
  size_t cap = 0, used = 0, limit = max_out < (size_t)-2 ? max_out + 1 : max_out;
  int rc = EIDOS_OK, zr;

  *out = NULL;
  *outlen = 0;
  if (len < 2 || in[0] != EIDOS_GZIP_MAGIC0 || in[1] != EIDOS_GZIP_MAGIC1)
    return eidos_err(err, errlen, EIDOS_EINVAL, "not gzip data (no gzip header)");
  if (!(Z = eidos_lazy_zlib(err, errlen))) return EIDOS_EUNAVAIL;
  memset(&zs, 0, sizeof zs);
  if (Z->inflateInit2_(&zs, 15 + 16, ZLIB_VERSION, (int)sizeof zs) != Z_OK)
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "cannot start zlib's inflate");
  zs.next_in = (unsigned char *)in;
  for (;;) {
    size_t chunk;
    if (used == cap) {
      size_t nc;
      char *nb;
      if (cap >= limit) {
        rc = eidos_err(err, errlen, EIDOS_EINVAL,
                       "gzip data expands to more than %zu bytes (the limit)", max_out);
        goto done;
      }
      nc = cap ? cap * 2 : (len * 4 < 65536 ? 65536 : len * 4);
      if (nc > limit || nc < cap) nc = limit;   /* one byte past the cap detects it */
      if (!(nb = realloc(buf, nc + 1))) {
        rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
        goto done;
      }
      buf = nb;
      cap = nc;
    }
    /* zlib counts in uInt: feed and drain at most 1 GiB a call */
    chunk = len - (size_t)((const unsigned char *)zs.next_in - in);
    zs.avail_in = (uInt)(chunk > (1u << 30) ? (1u << 30) : chunk);
    chunk = cap - used;
    zs.next_out = (unsigned char *)buf + used;
    zs.avail_out = (uInt)(chunk > (1u << 30) ? (1u << 30) : chunk);
    zr = Z->inflate(&zs, Z_NO_FLUSH);
    used = (size_t)((char *)zs.next_out - buf);
    if (zr == Z_STREAM_END) {
      size_t left = len - (size_t)((const unsigned char *)zs.next_in - in);
      const unsigned char *p = zs.next_in;
      if (used > max_out) {
        rc = eidos_err(err, errlen, EIDOS_EINVAL,
                       "gzip data expands to more than %zu bytes (the limit)", max_out);
        goto done;
      }
      if (left == 0) break;
      if (left < 2 || p[0] != EIDOS_GZIP_MAGIC0 || p[1] != EIDOS_GZIP_MAGIC1) {
        rc = eidos_err(err, errlen, EIDOS_EINVAL,
                       "%zu bytes of trailing data after the gzip stream", left);
        goto done;
      }
      Z->inflateReset(&zs);   /* another member follows, as gzip -d reads it */
      continue;
    }
    if (zr == Z_BUF_ERROR && zs.avail_in == 0 && used < cap) {
      rc = eidos_err(err, errlen, EIDOS_EINVAL, "truncated gzip data (the stream ends early)");
      goto done;
    }
    if (zr != Z_OK && zr != Z_BUF_ERROR) {
      rc = eidos_err(err, errlen, EIDOS_EINVAL, "corrupt gzip data: %s",
                     zs.msg ? zs.msg : "inflate failed");
      goto done;
    }
  }
  buf[used] = '\0';
  *out = buf;
  *outlen = used;
  buf = NULL;
done:
  Z->inflateEnd(&zs);
  free(buf);
  return rc;
}
