/*
 * sha256.c -- SHA-256 of sha256.h on OpenSSL EVP through the lazily loaded
 * libcrypto table. A hasher wraps one EVP_MD_CTX; digest works on a copy of
 * the context so the stream can go on. Files are read in 64 KiB chunks.
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
  const struct eidos_crypto *c;
  EVP_MD_CTX *ctx;
};

static int evp_fail(char *err, size_t errlen, const struct eidos_crypto *c,
                    const char *what) {
  char msg[256] = "unknown error";
  unsigned long e = c->ERR_get_error();
  if (e) c->ERR_error_string_n(e, msg, sizeof msg);
  c->ERR_clear_error();
  return eidos_err(err, errlen, EIDOS_EINTERNAL, "sha256: %s failed: %s", what, msg);
}

int eidos_sha256_new(eidos_sha256 **out, char *err, size_t errlen) {
  const struct eidos_crypto *c = eidos_lazy_crypto(err, errlen);
  eidos_sha256 *h;
  if (!c) return EIDOS_EUNAVAIL;
  h = malloc(sizeof *h);
  if (!h) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  h->c = c;
  h->ctx = c->EVP_MD_CTX_new();
  if (!h->ctx || c->EVP_DigestInit_ex(h->ctx, c->EVP_sha256(), NULL) != 1) {
    int rc = evp_fail(err, errlen, c, "init");
    eidos_sha256_free(h);
    return rc;
  }
  *out = h;
  return EIDOS_OK;
}

int eidos_sha256_update(eidos_sha256 *h, const void *data, size_t len,
                        char *err, size_t errlen) {
  if (len && h->c->EVP_DigestUpdate(h->ctx, data, len) != 1)
    return evp_fail(err, errlen, h->c, "update");
  return EIDOS_OK;
}

int eidos_sha256_digest(eidos_sha256 *h, unsigned char out[EIDOS_SHA256_LEN],
                        char *err, size_t errlen) {
  const struct eidos_crypto *c = h->c;
  EVP_MD_CTX *copy = c->EVP_MD_CTX_new();
  unsigned int n = 0;
  int ok = copy && c->EVP_MD_CTX_copy_ex(copy, h->ctx) == 1 &&
           c->EVP_DigestFinal_ex(copy, out, &n) == 1 && n == EIDOS_SHA256_LEN;
  c->EVP_MD_CTX_free(copy);
  return ok ? EIDOS_OK : evp_fail(err, errlen, c, "final");
}

void eidos_sha256_free(eidos_sha256 *h) {
  if (!h) return;
  if (h->ctx) h->c->EVP_MD_CTX_free(h->ctx);
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
