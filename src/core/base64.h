/*
 * base64.h -- base64 of RFC 4648, the one implementation in eidos
 * (kubeconfig *-data fields, bundle signatures, template b64enc/b64dec,
 * registry credentials; bound for Lua as eidos.core.base64).
 *
 * Standard (section 4): alphabet A-Z a-z 0-9 + /, output padded with '=';
 * input must be padded (its length without whitespace a multiple of 4).
 * URL-safe (section 5, EIDOS_BASE64_URL): '-' and '_' instead of '+' and
 * '/', output without padding, input padded or not.
 * Decoding skips ASCII whitespace (space, tab, CR, LF) anywhere, as line-
 * wrapped data has it, and accepts non-zero bits in the last character's
 * unused part (as Go's and OpenSSL's decoders do); anything else outside
 * the alphabet, '=' anywhere but at the end, or a length that cannot be
 * base64 is an error naming the byte offset.
 */
#ifndef EIDOS_BASE64_H
#define EIDOS_BASE64_H
#include <stddef.h>

#define EIDOS_BASE64_URL 1 /* flags: the URL-safe alphabet, no padding */

/* Length of the encoding of n bytes (without a NUL); 0 when it would not
 * fit a size_t. */
size_t eidos_base64_enclen(size_t n, int flags);

/* Encode in[0..n) into out, which holds eidos_base64_enclen(n, flags) + 1
 * bytes; out is NUL-terminated. Returns the length written. */
size_t eidos_base64_encode(const void *in, size_t n, char *out, int flags);

/* Largest decoded length of len input bytes: out's size for decode. */
#define EIDOS_BASE64_DECMAX(len) ((len) / 4 * 3 + 3)

/* Decode in[0..len) into out (EIDOS_BASE64_DECMAX(len) bytes); *outlen
 * gets the length. 0, or EIDOS_EINVAL with a message naming the offset
 * and the offending byte. */
int eidos_base64_decode(const char *in, size_t len, void *out, size_t *outlen,
                        int flags, char *err, size_t errlen);

#endif
