/*
 * sign.h -- detached signatures for bundles: Ed25519, or ECDSA on P-256
 * with SHA-256 (DER-encoded signature), from PEM keys, through OpenSSL EVP
 * (libcrypto loaded on first use, see lazy.h). A key argument is PEM text
 * when it contains "-----BEGIN", otherwise the path of a PEM file.
 * Encrypted private keys are refused (nothing ever prompts for a
 * passphrase). Thread-safe.
 */
#ifndef EIDOS_SIGN_H
#define EIDOS_SIGN_H

#include <stddef.h>

/* Sign data with a private key. On success *sig is malloc'd (free it) and
 * *alg (if non-NULL) is "ed25519" or "ecdsa-p256-sha256". An unsupported
 * key type is EIDOS_EINVAL naming the type. */
int eidos_sign(const char *key, size_t keylen, const void *data, size_t len,
               unsigned char **sig, size_t *siglen, const char **alg,
               char *err, size_t errlen);

/* Verify sig over data with a public key: 0 when it matches,
 * EIDOS_EAUTH when it does not, EIDOS_EINVAL for an unusable key. */
int eidos_sign_verify(const char *pub, size_t publen, const void *data,
                      size_t len, const unsigned char *sig, size_t siglen,
                      char *err, size_t errlen);

/* The SubjectPublicKeyInfo PEM of a private key; *pem is malloc'd and
 * NUL-terminated. */
int eidos_sign_public_pem(const char *key, size_t keylen, char **pem,
                          size_t *pemlen, char *err, size_t errlen);

/* A new Ed25519 key pair from the system's random source: seed is the
 * 32-byte private key, pub the 32-byte public key (what an OpenSSH
 * ssh-ed25519 key holds). */
int eidos_sign_ed25519_keypair(unsigned char seed[32], unsigned char pub[32],
                               char *err, size_t errlen);

#endif
