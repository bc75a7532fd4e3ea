/*
 * sha256.h -- SHA-256 over memory and files, one-shot and streaming,
 * computed by GNU Nettle (libnettle is loaded on first use, see lazy.h). A hasher is used by one thread at a time; distinct hashers
 * are independent.
 */
#ifndef EIDOS_SHA256_H
#define EIDOS_SHA256_H

#include <stddef.h>

#define EIDOS_SHA256_LEN 32

typedef struct eidos_sha256 eidos_sha256;

/* New streaming hasher in *out; EIDOS_EUNAVAIL if libnettle is missing. */
int eidos_sha256_new(eidos_sha256 **out, char *err, size_t errlen);
int eidos_sha256_update(eidos_sha256 *h, const void *data, size_t len,
                        char *err, size_t errlen);
/* Digest of everything fed so far; the hasher stays usable (more updates
 * extend the same stream). */
int eidos_sha256_digest(eidos_sha256 *h, unsigned char out[EIDOS_SHA256_LEN],
                        char *err, size_t errlen);
void eidos_sha256_free(eidos_sha256 *h);

/* One-shot over memory and over a file (streamed, any size). */
int eidos_sha256_buf(const void *data, size_t len,
                     unsigned char out[EIDOS_SHA256_LEN], char *err, size_t errlen);
int eidos_sha256_file(const char *path, unsigned char out[EIDOS_SHA256_LEN],
                      char *err, size_t errlen);

/* Lower-case hex of a digest into hex (65 bytes with the NUL). */
void eidos_sha256_hex(const unsigned char d[EIDOS_SHA256_LEN], char hex[65]);

#endif
