/*
 * version.c -- libFuzzer target for the version grammar (src/core/version.c:
 * eidos_version_parse, _compare, _format). The input is one or two
 * versions separated by the first newline. Besides the sanitizers it checks
 * the properties the constraint operators rely on, and aborts when one
 * fails: a parsed version has precision 1..3, parts within
 * EIDOS_VERSION_PART_MAX and a suffix offset inside the input that starts
 * with '-' or '+'; format() reparses to the same version; compare() is
 * reflexive and antisymmetric; a failed parse leaves a message. Seeds:
 * fuzz/corpus/version/. Built by cmake/targets/fuzz.cmake.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/version.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "version fuzz: check failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static int parse(const char *s, size_t len, eidos_version *v) {
  char err[512];
  int rc;
  err[0] = 0;
  rc = eidos_version_parse(s, len, v, err, sizeof err);
  if (rc) {
    CHECK(rc < 0);
    CHECK(err[0] != 0);
    CHECK(strlen(err) < sizeof err);
    return 0;
  }
  CHECK(v->precision >= 1 && v->precision <= 3);
  CHECK(v->major >= 0 && v->major <= EIDOS_VERSION_PART_MAX);
  CHECK(v->minor >= 0 && v->minor <= EIDOS_VERSION_PART_MAX);
  CHECK(v->patch >= 0 && v->patch <= EIDOS_VERSION_PART_MAX);
  CHECK(v->precision >= 2 || v->minor == 0);
  CHECK(v->precision >= 3 || v->patch == 0);
  CHECK(v->extra <= len);
  CHECK(v->extra == len || s[v->extra] == '-' || s[v->extra] == '+');
  /* a NULL message buffer must be accepted too (version.valid) */
  CHECK(eidos_version_parse(s, len, v, NULL, 0) == 0);
  {
    char buf[80];
    eidos_version w;
    int n = eidos_version_format(v, buf, sizeof buf);
    CHECK(n > 0 && (size_t)n < sizeof buf);
    CHECK(eidos_version_parse(buf, (size_t)n, &w, NULL, 0) == 0);
    CHECK(w.major == v->major && w.minor == v->minor && w.patch == v->patch);
    CHECK(w.precision == v->precision && w.extra == (size_t)n);
    CHECK(eidos_version_compare(v, &w) == 0);
  }
  CHECK(eidos_version_compare(v, v) == 0);
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  const char *nl = memchr(s, '\n', size);
  eidos_version a, b;
  if (!nl) {
    /* parse from a copy of exactly size bytes, so ASan sees any overread */
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, s, size);
    parse(copy, size, &a);
    free(copy);
    return 0;
  }
  {
    size_t la = (size_t)(nl - s), lb = size - la - 1;
    int oka = parse(s, la, &a), okb = parse(nl + 1, lb, &b);
    if (oka && okb) {
      int ab = eidos_version_compare(&a, &b), ba = eidos_version_compare(&b, &a);
      CHECK(ab >= -1 && ab <= 1);
      CHECK(ab == -ba);
    }
  }
  return 0;
}
