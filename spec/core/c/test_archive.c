/*
 * test_archive.c -- the archive and sha256 cores alone: the same entries
 * give the same bytes in any time zone and from concurrent threads, and
 * known SHA-256 vectors, streaming included. Exit status 1 on failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/archive_write.h"
#include "../../../src/core/sha256.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
  printf(__VA_ARGS__); printf("\n"); } } while (0)

static const eidos_archive_entry ENTRIES[] = {
  {"z.txt", 5, "zzz\n", 4, 0644, 0},
  {"dir/run.sh", 10, "#!/bin/sh\n", 10, 0755, 0},
  {"a/b/c.yaml", 10, "k: v\n", 5, 0644, 0},
  {"empty/", 6, NULL, 0, 0, 1},
};
#define N (sizeof ENTRIES / sizeof ENTRIES[0])

static char *make(int fmt, size_t *len) {
  char *out = NULL, err[256];
  int rc = eidos_archive_write(NULL, fmt, ENTRIES, N, 1700000000, &out, len, err, sizeof err);
  if (rc) {
    printf("archive: %s\n", err);
    return NULL;
  }
  return out;
}

static void digest(const char *p, size_t n, char hex[65]) {
  unsigned char d[EIDOS_SHA256_LEN];
  if (eidos_sha256_buf(p, n, d, NULL, 0)) strcpy(hex, "error");
  else eidos_sha256_hex(d, hex);
}

static void *worker(void *arg) {
  char *ref = arg, hex[65];
  for (int i = 0; i < 20; i++) {
    size_t len;
    char *b = make(EIDOS_ARCHIVE_ZIP, &len);
    if (!b) return (void *)1;
    digest(b, len, hex);
    free(b);
    if (strcmp(hex, ref)) return (void *)1;
  }
  return NULL;
}

int main(void) {
  static const char *zones[] = {"UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"};
  char ref[2][65], hex[65];
  pthread_t th[4];
  unsigned char d[EIDOS_SHA256_LEN];
  eidos_sha256 *h;
  size_t i, len;
  int fmt;
  for (i = 0; i < sizeof zones / sizeof zones[0]; i++) {
    setenv("TZ", zones[i], 1);
    tzset();
    for (fmt = 1; fmt <= 2; fmt++) {
      char *b = make(fmt, &len);
      CHECK(b != NULL, "make %d", fmt);
      if (!b) continue;
      digest(b, len, hex);
      free(b);
      if (i == 0) strcpy(ref[fmt - 1], hex);
      else CHECK(!strcmp(hex, ref[fmt - 1]), "format %d differs in TZ %s", fmt, zones[i]);
    }
  }
  for (i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, ref[1]);
  for (i = 0; i < 4; i++) {
    void *r;
    pthread_join(th[i], &r);
    CHECK(r == NULL, "thread %zu produced different bytes", i);
  }
  {
    eidos_archive_entry bad = {"../x", 4, "", 0, 0644, 0};
    char err[256], *out;
    CHECK(eidos_archive_write(NULL, EIDOS_ARCHIVE_TARGZ, &bad, 1, 0, &out, &len, err,
                              sizeof err) == EIDOS_EINVAL && strstr(err, "\"../x\""), "%s", err);
  }
  digest("abc", 3, hex);
  CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "abc");
  CHECK(eidos_sha256_new(&h, NULL, 0) == 0, "new");
  eidos_sha256_update(h, "a", 1, NULL, 0);
  eidos_sha256_digest(h, d, NULL, 0); /* mid-stream digest must not disturb the stream */
  eidos_sha256_update(h, "bc", 2, NULL, 0);
  eidos_sha256_digest(h, d, NULL, 0);
  eidos_sha256_hex(d, hex);
  eidos_sha256_free(h);
  CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "stream");
  if (failures) printf("%d failure(s)\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
