/*
 * targz.c -- the tar.gz of archive_write.c written with zlib alone. The
 * tar is what libarchive's pax-restricted writer makes of the same entries
 * when none needs a pax header (archive_int.h): ustar headers with
 * libarchive's field layout, data padded to 512 bytes, two zero blocks, no
 * padding of the last block. The gzip stream is what libarchive's gzip
 * filter makes: a 10-byte header without name or timestamp (OS Unix), raw
 * deflate at the default level with a 15-bit window and memLevel 8, then
 * CRC-32 and length (eidos_gzip, also archive.gzip's). spec/core/c/
 * test_targz.c holds the bytes to libarchive's for many entry sets. Why: zlib opens in ~0.1 ms, libarchive
 * and its 14 dependencies in ~3 ms and 3 MB (docs/performance.md).
 */
#include <stdlib.h>
#include <string.h>
#include "eidos.h"
#include "lazy.h"
#include "archive_int.h"

#define OCTAL11 077777777777LL /* the largest value of an 11-digit field */
#define MTIME_MAX 0x7ffffffeLL  /* libarchive gives later mtimes a pax header */

/* Where a path longer than 100 bytes splits into prefix and name, as
 * libarchive's ustar writer chooses it (the first '/' that leaves at most
 * 100 bytes after it, never the first byte), or NULL when it cannot. */
static const char *split(const char *p, size_t n) {
  const char *s;
  if (n <= 100) return NULL;
  s = memchr(p + n - 101, '/', 101);
  if (s == p) s = memchr(p + 1, '/', n - 1);
  if (!s || (size_t)(s - p) == n - 1 || s - p > 155) return NULL;
  return s;
}

int eidos_targz_fits(const eidos_archive_item *it, size_t n, int64_t mtime) {
  size_t i;
  if (mtime < 0 || mtime > MTIME_MAX) return 0;
  for (i = 0; i < n; i++) {
    if (it[i].nlen > 100 && !split(it[i].name, it[i].nlen)) return 0;
    if ((unsigned long long)it[i].len > (unsigned long long)OCTAL11) return 0;
  }
  return 1;
}

/* width octal digits of v at p (the field's terminator is the caller's) */
static void octal(unsigned char *p, int width, unsigned long long v) {
  while (width-- > 0) {
    p[width] = (unsigned char)('0' + (v & 7));
    v >>= 3;
  }
}

/* a ustar header laid out as libarchive's template: numbers as 6 octal
 * digits + " \0" (mode, ids, devices) or 11 + " " (size, mtime), checksum
 * 6 digits + "\0 " */
static void header(unsigned char h[512], const eidos_archive_item *x, int64_t mtime) {
  const char *s = split(x->name, x->nlen);
  unsigned sum = 0;
  int i;
  static const int six[] = {100, 108, 116, 329, 337}; /* mode uid gid devmajor devminor */
  memset(h, 0, 512);
  if (s) {
    memcpy(h + 345, x->name, (size_t)(s - x->name));
    memcpy(h, s + 1, x->nlen - (size_t)(s - x->name) - 1);
  } else {
    memcpy(h, x->name, x->nlen);
  }
  for (i = 0; i < 5; i++) {
    octal(h + six[i], 6, 0);
    h[six[i] + 6] = ' ';
  }
  octal(h + 100, 6, x->exec ? 0755 : 0644);
  octal(h + 124, 11, (unsigned long long)x->len);
  h[135] = ' ';
  octal(h + 136, 11, (unsigned long long)mtime);
  h[147] = ' ';
  memset(h + 148, ' ', 8);
  h[156] = x->dir ? '5' : '0';
  memcpy(h + 257, "ustar\0" "00", 8);
  memcpy(h + 265, "root", 4);
  memcpy(h + 297, "root", 4);
  for (i = 0; i < 512; i++) sum += h[i];
  octal(h + 148, 6, sum);
  h[154] = '\0';
}

/* the uncompressed tar of the items, malloc'd */
static unsigned char *tar(const eidos_archive_item *it, size_t n, int64_t mtime, size_t *len) {
  size_t total = 1024, i, off = 0;
  unsigned char *t;
  for (i = 0; i < n; i++) total += 512 + (it[i].len + 511) / 512 * 512;
  if (!(t = calloc(total, 1))) return NULL;
  for (i = 0; i < n; i++) {
    header(t + off, &it[i], mtime);
    off += 512;
    if (it[i].len) memcpy(t + off, it[i].data, it[i].len);
    off += (it[i].len + 511) / 512 * 512;
  }
  *len = total;
  return t;
}

static void put32(unsigned char *p, unsigned long v) {
  p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = (v >> 24) & 0xff;
}

int eidos_gzip(const void *data, size_t len, char **out, size_t *outlen,
               char *err, size_t errlen) {
  static const unsigned char gzhead[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  const struct eidos_zlib *Z = eidos_lazy_zlib(err, errlen);
  const unsigned char *t = data;
  z_stream s;
  unsigned char *gz;
  size_t cap, done = 0;
  unsigned long crc;
  int zr = Z_OK;
  if (!Z) return EIDOS_EUNAVAIL;
  memset(&s, 0, sizeof s);
  if (Z->deflateInit2_(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                       ZLIB_VERSION, (int)sizeof s) != Z_OK)
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "zlib: cannot start deflate");
  cap = 10 + Z->deflateBound(&s, len) + 8;
  if (!(gz = malloc(cap))) {
    Z->deflateEnd(&s);
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  }
  memcpy(gz, gzhead, 10);
  crc = Z->crc32(0L, Z_NULL, 0);
  s.next_out = gz + 10;
  s.avail_out = (uInt)(cap - 18 > 0x40000000 ? 0x40000000 : cap - 18);
  /* zlib counts in 32 bits: feed and drain at most 1 GiB at a time */
  while (zr == Z_OK) {
    if (s.avail_in == 0 && done < len) {
      size_t k = len - done > 0x40000000 ? 0x40000000 : len - done;
      crc = Z->crc32(crc, t + done, (uInt)k);
      s.next_in = (unsigned char *)t + done;
      s.avail_in = (uInt)k;
      done += k;
    }
    if (s.avail_out == 0) {
      size_t used = (size_t)(s.next_out - gz), left = cap - 8 - used;
      s.avail_out = (uInt)(left > 0x40000000 ? 0x40000000 : left);
    }
    zr = Z->deflate(&s, done == len ? Z_FINISH : Z_NO_FLUSH);
  }
  Z->deflateEnd(&s);
  if (zr != Z_STREAM_END) {
    free(gz);
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "zlib: deflate failed (%d)", zr);
  }
  put32(s.next_out, crc);
  put32(s.next_out + 4, (unsigned long)(len & 0xffffffffUL));
  *out = (char *)gz;
  *outlen = (size_t)(s.next_out + 8 - gz);
  return EIDOS_OK;
}

int eidos_targz_write(const eidos_archive_item *it, size_t n, int64_t mtime,
                      char **out, size_t *outlen, char *err, size_t errlen) {
  size_t tlen;
  unsigned char *t = tar(it, n, mtime, &tlen);
  int rc;
  if (!t) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  rc = eidos_gzip(t, tlen, out, outlen, err, errlen);
  free(t);
  return rc;
}
