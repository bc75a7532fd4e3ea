/*
 * test_base64.c -- the base64 core alone: the RFC 4648 section 10 test
 * vectors both ways, the URL-safe alphabet with and without padding,
 * whitespace, every byte value round-tripped, and invalid input refused
 * with the offset named. Prints failures; exit status 1 if any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/base64.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
  printf(__VA_ARGS__); printf("\n"); } } while (0)

static void enc(const char *in, size_t n, int flags, const char *want) {
  char out[256];
  size_t len = eidos_base64_enclen(n, flags);
  CHECK(len == strlen(want), "enclen(%zu, %d) = %zu, want %zu", n, flags, len, strlen(want));
  len = eidos_base64_encode(in, n, out, flags);
  CHECK(len == strlen(want) && strcmp(out, want) == 0, "encode(%.*s, %d) = %s, want %s",
        (int)n, in, flags, out, want);
}

static void dec(const char *in, int flags, const char *want, size_t wantn) {
  char out[256], err[256] = "";
  size_t n = 99;
  int rc = eidos_base64_decode(in, strlen(in), out, &n, flags, err, sizeof err);
  CHECK(rc == 0, "decode(%s, %d): %s", in, flags, err);
  CHECK(rc || (n == wantn && memcmp(out, want, n) == 0), "decode(%s, %d) = %.*s (%zu bytes)",
        in, flags, (int)n, out, n);
}

static void bad(const char *in, size_t len, int flags, const char *needle) {
  char out[256], err[256] = "";
  size_t n = 99;
  int rc = eidos_base64_decode(in, len, out, &n, flags, err, sizeof err);
  CHECK(rc == EIDOS_EINVAL, "decode(%.*s, %d) should fail", (int)len, in, flags);
  CHECK(strstr(err, needle) != NULL, "decode(%.*s): message \"%s\" lacks \"%s\"", (int)len, in,
        err, needle);
  CHECK(n == 0, "decode(%.*s) failed with a length %zu", (int)len, in, n);
}

int main(void) {
  /* RFC 4648, section 10 */
  static const char *const vec[][2] = {
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  static const char *const urlvec[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  unsigned char all[256], back[512];
  char text[400], err[256];
  size_t i, n;

  for (i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    enc(vec[i][0], strlen(vec[i][0]), 0, vec[i][1]);
    dec(vec[i][1], 0, vec[i][0], strlen(vec[i][0]));
    enc(vec[i][0], strlen(vec[i][0]), EIDOS_BASE64_URL, urlvec[i]);
    dec(urlvec[i], EIDOS_BASE64_URL, vec[i][0], strlen(vec[i][0]));
    dec(vec[i][1], EIDOS_BASE64_URL, vec[i][0], strlen(vec[i][0])); /* padding optional */
  }
  /* the two alphabets differ in 62 and 63 */
  enc("\xfb\xff\xbf", 3, 0, "+/+/");
  enc("\xfb\xff\xbf", 3, EIDOS_BASE64_URL, "-_-_");
  dec("+/+/", 0, "\xfb\xff\xbf", 3);
  dec("-_-_", EIDOS_BASE64_URL, "\xfb\xff\xbf", 3);
  /* whitespace anywhere (line-wrapped PEM-like data), NUL bytes inside */
  dec(" Zm9v\r\nYmFy\n", 0, "foobar", 6);
  dec("aGVs bG8=", 0, "hello", 5);
  dec("AA==", 0, "\0", 1);
  /* non-zero unused bits in the last character are accepted (as Go does) */
  dec("Zh==", 0, "f", 1);

  /* every byte value */
  for (i = 0; i < 256; i++) all[i] = (unsigned char)i;
  for (n = 0; n <= 256; n += 1 + n / 7) {
    size_t len = eidos_base64_encode(all, n, text, 0), m = 0;
    CHECK(len == eidos_base64_enclen(n, 0), "length of %zu bytes", n);
    CHECK(eidos_base64_decode(text, len, back, &m, 0, err, sizeof err) == 0 && m == n &&
          memcmp(all, back, n) == 0, "round trip of %zu bytes: %s", n, err);
    len = eidos_base64_encode(all, n, text, EIDOS_BASE64_URL);
    CHECK(!strchr(text, '+') && !strchr(text, '/') && !strchr(text, '='), "url alphabet %s", text);
    CHECK(eidos_base64_decode(text, len, back, &m, EIDOS_BASE64_URL, err, sizeof err) == 0 &&
          m == n && memcmp(all, back, n) == 0, "url round trip of %zu bytes: %s", n, err);
  }

  /* invalid input: the offset and what is accepted */
  bad("Zm9v*mFy", 8, 0, "'*' at byte 4; accepted: A-Z a-z 0-9 + /");
  bad("Zm9v\x01mFy", 8, 0, "byte 0x01 at byte 4");
  bad("Zm9\0YmFy", 8, 0, "byte 0x00 at byte 3");
  bad("Zm-_", 4, 0, "URL-safe");
  bad("Zm+/", 4, EIDOS_BASE64_URL, "standard base64");
  bad("Zg", 2, 0, "2 characters need 2 '=' of padding, found 0");
  bad("Zg=", 3, 0, "need 2 '=' of padding, found 1");
  bad("Zm8==", 5, 0, "need 1 '=' of padding, found 2");
  bad("Zg=", 3, EIDOS_BASE64_URL, "found 1");
  bad("Z", 1, 0, "1 characters");
  bad("Zm9vY", 5, EIDOS_BASE64_URL, "5 characters");
  bad("Zg==Zg==", 8, 0, "data after the '=' padding at byte 4");
  bad("Zg===", 5, 0, "more than two '=' at byte 4");
  bad("Zm9v====", 8, 0, "more than two");
  bad("Zm9v==", 6, 0, "'=' padding at byte 4 after a complete group");
  bad("=", 1, 0, "padding at byte 0");

  if (failures) printf("%d failure(s)\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
