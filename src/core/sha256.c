/*
 * sha256.c -- SHA-256 of sha256.h on GNU Nettle through the lazily loaded
 * libnettle table (lazy.h). A hasher is a Nettle context; digest works on a
 * copy of it so the stream can go on. Files are read in 64 KiB chunks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "eidos.h"
#include "fs.h"
#include "lazy.h"
#include "sha256.h"

struct eidos_sha256 {
  const struct eidos_nettle *n;
  struct sha256_ctx ctx;
};

int eidos_sha256_new(eidos_sha256 **out, char *err, size_t errlen) {
  const struct eidos_nettle *n = eidos_lazy_nettle(err, errlen);
  eidos_sha256 *h;
  if (!n) return EIDOS_EUNAVAIL;
  h = malloc(sizeof *h);
  if (!h) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  h->n = n;
  n->nettle_sha256_init(&h->ctx);
  *out = h;
  return EIDOS_OK;
}

int eidos_sha256_update(eidos_sha256 *h, const void *data, size_t len,
                        char *err, size_t errlen) {
  (void)err;
  (void)errlen;
  if (len) h->n->nettle_sha256_update(&h->ctx, len, data);
  return EIDOS_OK;
}

int eidos_sha256_digest(eidos_sha256 *h, unsigned char out[EIDOS_SHA256_LEN],
                        char *err, size_t errlen) {
  struct sha256_ctx copy = h->ctx; /* digest resets the context it is given */
  (void)err;
  (void)errlen;
  h->n->nettle_sha256_digest(&copy, EIDOS_SHA256_LEN, out);
  return EIDOS_OK;
}

void eidos_sha256_free(eidos_sha256 *h) {
  free(h);
}

int eidos_sha256_buf(const void *data, size_t len,
                     unsigned char out[EIDOS_SHA256_LEN], char *err, size_t errlen) {
  eidos_sha256 *h;
  int rc = eidos_sha256_new(&h, err, errlen);
  if (rc) return rc;
  rc = eidos_sha256_update(h, data, len, err, errlen);
  if (!rc) rc = eidos_sha256_digest(h, out, err, errlen);
  eidos_sha256_free(h);
  return rc;
}

int eidos_sha256_file(const char *path, unsigned char out[EIDOS_SHA256_LEN],
                      char *err, size_t errlen) {
  enum { CHUNK = 64 * 1024 };
  eidos_sha256 *h = NULL;
  char *buf, ebuf[128];
  int fd, rc = EIDOS_OK;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return eidos_err(err, errlen, eidos_fs_errcode(errno), "cannot hash %s: %s",
                     path, strerror_r(errno, ebuf, sizeof ebuf));
  buf = malloc(CHUNK);
  if (!buf) {
    close(fd);
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  }
  rc = eidos_sha256_new(&h, err, errlen);
  while (rc == EIDOS_OK) {
    ssize_t r = read(fd, buf, CHUNK);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      rc = eidos_err(err, errlen, eidos_fs_errcode(errno), "cannot hash %s: %s",
                     path, strerror_r(errno, ebuf, sizeof ebuf));
      break;
    }
    if (r == 0) {
      rc = eidos_sha256_digest(h, out, err, errlen);
      break;
    }
    rc = eidos_sha256_update(h, buf, (size_t)r, err, errlen);
  }
  eidos_sha256_free(h);
  free(buf);
  close(fd);
  return rc;
}

void eidos_sha256_hex(const unsigned char d[EIDOS_SHA256_LEN], char hex[65]) {
  static const char digits[] = "0123456789abcdef";
  int i;
  for (i = 0; i < EIDOS_SHA256_LEN; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  hex[64] = '\0';
}
