/*
 * sign.c -- the signatures of sign.h. Keys are parsed from memory BIOs;
 * only Ed25519 and EC keys on P-256 ("prime256v1") pass the type check.
 * OpenSSL's error queue is per thread; it is drained into the message of
 * each failure and cleared, so a failure never leaks into the next call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eidos.h"
#include "fs.h"
#include "lazy.h"
#include "sign.h"

#define KEY_MAX (1024 * 1024)
#define SUPPORTED "supported: Ed25519 and ECDSA P-256"

/* Never prompt for a passphrase. */
static int no_pass(char *buf, int size, int rw, void *u) {
  (void)buf; (void)size; (void)rw; (void)u;
  return -1;
}

static const char *ossl_msg(const struct eidos_crypto *c, char *buf, size_t n) {
  unsigned long e = c->ERR_get_error(); /* the earliest: the root cause */
  snprintf(buf, n, "no details");
  if (e) c->ERR_error_string_n(e, buf, n);
  c->ERR_clear_error();
  return buf;
}

/* Load the key text (PEM given inline, or read from the path in key).
 * *text is key itself or a malloc'd buffer stored in *owned. */
static int key_text(const char *key, size_t keylen, const char **text,
                    size_t *tlen, char **owned, char *src, size_t srclen,
                    char *err, size_t errlen) {
  *owned = NULL;
  if (memmem(key, keylen, "-----BEGIN", 10)) {
    *text = key;
    *tlen = keylen;
    snprintf(src, srclen, "the given PEM text");
    return EIDOS_OK;
  }
  if (keylen == 0 || memchr(key, '\0', keylen))
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "key must be PEM text or the path of a PEM file, got %s",
                     keylen ? "a string with a NUL byte" : "an empty string");
  snprintf(src, srclen, "%s", key);
  {
    char msg[512];
    int rc = eidos_fs_read(key, KEY_MAX, owned, tlen, msg, sizeof msg);
    if (rc)
      return eidos_err(err, errlen, rc, "%s (a key is PEM text or the path of a PEM file)",
                       msg);
  }
  *text = *owned;
  return EIDOS_OK;
}

/* Parse a private (priv != 0) or public key and check its type. */
static int load_key(const struct eidos_crypto *c, const char *key,
                    size_t keylen, int priv, EVP_PKEY **pk, const char **alg,
                    char *err, size_t errlen) {
  const char *text = NULL;
  char *owned, src[512], msg[256], group[64];
  size_t tlen = 0, glen = 0;
  BIO *bio;
  int rc = key_text(key, keylen, &text, &tlen, &owned, src, sizeof src, err, errlen);
  if (rc) return rc;
  c->ERR_clear_error();
  bio = c->BIO_new_mem_buf(text, (int)(tlen > KEY_MAX ? KEY_MAX : tlen));
  *pk = !bio ? NULL : priv ? c->PEM_read_bio_PrivateKey(bio, NULL, no_pass, NULL)
                           : c->PEM_read_bio_PUBKEY(bio, NULL, no_pass, NULL);
  if (bio) c->BIO_free(bio);
  if (!*pk) {
    int enc = priv && memmem(text, tlen, "ENCRYPTED", 9) != NULL;
    int privtext = !priv && memmem(text, tlen, "PRIVATE KEY-----", 16) != NULL;
    ossl_msg(c, msg, sizeof msg);
    free(owned);
    if (enc)
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "cannot use the private key in %s: it is encrypted; "
                       "give an unencrypted PEM key", src);
    if (privtext)
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "cannot read a public key from %s: it holds a private key; "
                       "give the public key PEM", src);
    return eidos_err(err, errlen, EIDOS_EINVAL, "cannot read a %s key from %s: %s",
                     priv ? "PEM private" : "PEM public", src, msg);
  }
  free(owned);
  switch (c->EVP_PKEY_get_base_id(*pk)) {
    case EVP_PKEY_ED25519:
      *alg = "ed25519";
      return EIDOS_OK;
    case EVP_PKEY_EC:
      if (c->EVP_PKEY_get_group_name(*pk, group, sizeof group, &glen) == 1 &&
          (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))) {
        *alg = "ecdsa-p256-sha256";
        return EIDOS_OK;
      }
      rc = eidos_err(err, errlen, EIDOS_EINVAL,
                     "unsupported key in %s: EC curve %s; " SUPPORTED, src,
                     glen ? group : "(unknown)");
      break;
    default: {
      const char *t = c->EVP_PKEY_get0_type_name(*pk);
      rc = eidos_err(err, errlen, EIDOS_EINVAL, "unsupported key type %s in %s; " SUPPORTED,
                     t ? t : "(unknown)", src);
    }
  }
  c->EVP_PKEY_free(*pk);
  *pk = NULL;
  c->ERR_clear_error();
  return rc;
}

int eidos_sign(const char *key, size_t keylen, const void *data, size_t len,
               unsigned char **sig, size_t *siglen, const char **alg,
               char *err, size_t errlen) {
  const struct eidos_crypto *c = eidos_lazy_crypto(err, errlen);
  EVP_PKEY *pk;
  EVP_MD_CTX *ctx;
  const char *a;
  unsigned char *out = NULL;
  size_t n = 0;
  char msg[256];
  int rc;
  if (!c) return EIDOS_EUNAVAIL;
  if ((rc = load_key(c, key, keylen, 1, &pk, &a, err, errlen))) return rc;
  ctx = c->EVP_MD_CTX_new();
  if (ctx &&
      c->EVP_DigestSignInit(ctx, NULL, !strcmp(a, "ed25519") ? NULL : c->EVP_sha256(),
                            NULL, pk) == 1 &&
      c->EVP_DigestSign(ctx, NULL, &n, data, len) == 1 && (out = malloc(n ? n : 1)) &&
      c->EVP_DigestSign(ctx, out, &n, data, len) == 1) {
    rc = EIDOS_OK;
    *sig = out;
    *siglen = n;
    if (alg) *alg = a;
  } else {
    free(out);
    rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "signing with the %s key failed: %s",
                   a, ossl_msg(c, msg, sizeof msg));
  }
  c->EVP_MD_CTX_free(ctx);
  c->EVP_PKEY_free(pk);
  return rc;
}

int eidos_sign_verify(const char *pub, size_t publen, const void *data,
                      size_t len, const unsigned char *sig, size_t siglen,
                      char *err, size_t errlen) {
  const struct eidos_crypto *c = eidos_lazy_crypto(err, errlen);
  EVP_PKEY *pk;
  EVP_MD_CTX *ctx;
  const char *a;
  int rc, ok = 0;
  if (!c) return EIDOS_EUNAVAIL;
  if ((rc = load_key(c, pub, publen, 0, &pk, &a, err, errlen))) return rc;
  ctx = c->EVP_MD_CTX_new();
  if (ctx && c->EVP_DigestVerifyInit(ctx, NULL, !strcmp(a, "ed25519") ? NULL : c->EVP_sha256(),
                                     NULL, pk) == 1)
    ok = c->EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
  c->ERR_clear_error();
  c->EVP_MD_CTX_free(ctx);
  c->EVP_PKEY_free(pk);
  if (ok) return EIDOS_OK;
  return eidos_err(err, errlen, EIDOS_EAUTH,
                   "%s signature does not match the data and public key", a);
}

int eidos_sign_public_pem(const char *key, size_t keylen, char **pem,
                          size_t *pemlen, char *err, size_t errlen) {
  const struct eidos_crypto *c = eidos_lazy_crypto(err, errlen);
  EVP_PKEY *pk;
  BIO *bio;
  const char *a;
  char *p = NULL, msg[256];
  long n = 0;
  int rc;
  if (!c) return EIDOS_EUNAVAIL;
  if ((rc = load_key(c, key, keylen, 1, &pk, &a, err, errlen))) return rc;
  bio = c->BIO_new(c->BIO_s_mem());
  if (bio && c->PEM_write_bio_PUBKEY(bio, pk) == 1 &&
      (n = c->BIO_ctrl(bio, BIO_CTRL_INFO, 0, (char *)&p)) > 0 && p &&
      (*pem = malloc((size_t)n + 1))) {
    memcpy(*pem, p, (size_t)n);
    (*pem)[n] = '\0';
    *pemlen = (size_t)n;
    rc = EIDOS_OK;
  } else {
    rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "cannot write the public key: %s",
                   ossl_msg(c, msg, sizeof msg));
  }
  if (bio) c->BIO_free(bio);
  c->EVP_PKEY_free(pk);
  return rc;
}

int eidos_sign_ed25519_keypair(unsigned char seed[32], unsigned char pub[32],
                               char *err, size_t errlen) {
  const struct eidos_crypto *c = eidos_lazy_crypto(err, errlen);
  EVP_PKEY *pk;
  size_t n = 32;
  char msg[256];
  int rc = EIDOS_OK;
  if (!c) return EIDOS_EUNAVAIL;
  if (c->RAND_bytes(seed, 32) != 1)
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "no random bytes: %s", ossl_msg(c, msg, sizeof msg));
  if (!(pk = c->EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32)))
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "cannot make an Ed25519 key: %s",
                     ossl_msg(c, msg, sizeof msg));
  if (c->EVP_PKEY_get_raw_public_key(pk, pub, &n) != 1 || n != 32)
    rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "cannot derive the Ed25519 public key: %s",
                   ossl_msg(c, msg, sizeof msg));
  c->EVP_PKEY_free(pk);
  return rc;
}
