/*
 * test_targz.c -- the tar.gz writer on zlib (src/core/targz.c) against
 * libarchive: for entry sets around every edge of the ustar layout (path
 * lengths 1..300 with a '/' at every place, directories, empty and exact
 * 512-byte files, large compressible and incompressible data, exec bits,
 * mtimes around 2^31) eidos_archive_write gives the very bytes of
 * eidos_archive_write_libarchive; sets that need a pax header go to
 * libarchive and still match; and a fitting set never opens libarchive.
 * Exit status 1 on failure.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/archive_write.h"
#include "../../../src/core/lazy.h"

static int failures, cases;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
  printf(__VA_ARGS__); printf("\n"); } } while (0)

static int libarchive_loaded(void) {
  void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_NOLOAD);
  if (h) dlclose(h);
  return h != NULL;
}

/* libarchive's gzip of data (raw format, gzip filter without timestamp):
 * what eidos_archive_gzip is held to; malloc'd, NULL on failure */
struct buf { char *p; size_t len, cap; };
static la_ssize_t put(struct archive *a, void *ud, const void *d, size_t n) {
  struct buf *b = ud;
  (void)a;
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
  return (la_ssize_t)n;
}
static char *ref_gzip(const void *data, size_t len, size_t *outlen) {
  char err[256];
  const struct eidos_archive *A = eidos_lazy_archive(err, sizeof err);
  struct archive *a = A ? A->archive_write_new() : NULL;
  struct archive_entry *e = A ? A->archive_entry_new() : NULL;
  struct buf b = {NULL, 0, 0};
  int ok = a && e && A->archive_write_set_format_raw(a) == ARCHIVE_OK &&
           A->archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
           A->archive_write_set_filter_option(a, "gzip", "timestamp", NULL) == ARCHIVE_OK &&
           A->archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
           A->archive_write_open(a, &b, NULL, put, NULL) == ARCHIVE_OK;
  if (ok) {
    A->archive_entry_set_pathname(e, "data");
    A->archive_entry_set_filetype(e, AE_IFREG);
    A->archive_entry_set_size(e, (la_int64_t)len);
    ok = A->archive_write_header(a, e) == ARCHIVE_OK &&
         (!len || A->archive_write_data(a, data, len) == (la_ssize_t)len) &&
         A->archive_write_close(a) == ARCHIVE_OK;
  }
  if (e) A->archive_entry_free(e);
  if (a) A->archive_write_free(a);
  if (!ok) { free(b.p); return NULL; }
  *outlen = b.len;
  return b.p;
}

/* both writers on the same entries: identical bytes (or the same error) */
static void same(const char *what, const eidos_archive_entry *e, size_t n, int64_t mtime) {
  char *a = NULL, *b = NULL, ea[256] = "", eb[256] = "";
  size_t la = 0, lb = 0;
  int ra = eidos_archive_write(NULL, EIDOS_ARCHIVE_TARGZ, e, n, mtime, &a, &la, ea, sizeof ea);
  int rb = eidos_archive_write_libarchive(NULL, EIDOS_ARCHIVE_TARGZ, e, n, mtime, &b, &lb, eb, sizeof eb);
  cases++;
  CHECK(ra == rb, "%s: rc %d vs %d (%s | %s)", what, ra, rb, ea, eb);
  if (ra == EIDOS_OK && rb == EIDOS_OK)
    CHECK(la == lb && memcmp(a, b, la) == 0, "%s: %zu vs %zu bytes differ", what, la, lb);
  free(a);
  free(b);
}

int main(void) {
  static char big[300000], noise[200000], name[400];
  eidos_archive_entry e[64];
  unsigned x = 12345;
  size_t i, len, n, slash;
  char *out, err[256], what[64];
  for (i = 0; i < sizeof big; i++) big[i] = "eidos bundle values\n"[i % 20];
  for (i = 0; i < sizeof noise; i++) { x = x * 1103515245u + 12345u; noise[i] = (char)(x >> 16); }

  /* fitting entries are written without opening libarchive */
  {
    eidos_archive_entry one = {"a/b.txt", 7, "b\n", 2, 0644, 0};
    CHECK(eidos_archive_write(NULL, EIDOS_ARCHIVE_TARGZ, &one, 1, 0, &out, &len, err, sizeof err) == 0,
          "%s", err);
    free(out);
    CHECK(!libarchive_loaded(), "libarchive was opened for a plain tar.gz");
  }
  /* one file whose path has every length 1..300, with a '/' at every place
     where the ustar split could change its mind (and a second '/' 60 later) */
  for (len = 1; len <= 300; len++) {
    static const long at[] = {0, 1, 2, 54, 55, 56, 153, 154, 155, 156, 157};
    long tries[32];
    size_t t, nt = 0;
    for (t = 0; t < sizeof at / sizeof at[0]; t++) tries[nt++] = at[t];
    for (t = 0; t < 6; t++) tries[nt++] = (long)len - 103 + (long)t;
    tries[nt++] = (long)len - 2;
    tries[nt++] = (long)len - 1;
    for (t = 0; t < nt; t++) {
      if (tries[t] < 0 || tries[t] >= (long)len) continue;
      slash = (size_t)tries[t];
      memset(name, 'n', len);
      name[len] = 0;
      if (slash > 0 && slash < len - 1) name[slash] = '/';
      if (len > 150 && slash + 60 < len) name[slash + 60] = '/';
      e[0] = (eidos_archive_entry){name, len, "x", 1, 0644, 0};
      snprintf(what, sizeof what, "path of %zu, '/' at %zu", len, slash);
      same(what, e, 1, 1700000000);
      e[0] = (eidos_archive_entry){name, len, NULL, 0, 0, 1}; /* as a directory */
      same(what, e, 1, 0);
    }
  }
  /* data sizes around the block, modes, directories, many entries */
  n = 0;
  e[n++] = (eidos_archive_entry){"d/empty", 7, "", 0, 0644, 0};
  e[n++] = (eidos_archive_entry){"d/one", 5, "1", 1, 0755, 0};
  e[n++] = (eidos_archive_entry){"d/b511", 6, big, 511, 0600, 0};
  e[n++] = (eidos_archive_entry){"d/b512", 6, big, 512, 0700, 0};
  e[n++] = (eidos_archive_entry){"d/b513", 6, big, 513, 0644, 0};
  e[n++] = (eidos_archive_entry){"d/sub/dir/", 10, NULL, 0, 0, 1};
  e[n++] = (eidos_archive_entry){"z/big", 5, big, sizeof big, 0644, 0};
  e[n++] = (eidos_archive_entry){"z/noise", 7, noise, sizeof noise, 0644, 0};
  same("sizes and modes", e, n, 1700000000);
  same("latest mtime without a pax header", e, n, 0x7ffffffeLL);
  same("mtime 2^31 - 1 (pax)", e, n, 0x7fffffffLL);
  same("largest 11-digit mtime (pax)", e, n, 077777777777LL);
  same("mtime beyond 11 digits (pax)", e, n, 077777777777LL + 1);
  for (i = 0; i < 64; i++) {
    static char names[64][32];
    snprintf(names[i], sizeof names[i], "many/%02zu/file-%zu.yaml", i % 7, i);
    e[i] = (eidos_archive_entry){names[i], strlen(names[i]), noise + i * 1000, i * 37, i % 3 ? 0644 : 0755, 0};
  }
  same("64 entries", e, 64, 0);
  same("no entries", e, 0, 0);
  /* archive.gzip (OCI layers) is the same gzip stream */
  {
    static const size_t sizes[] = {0, 1, 511, 65536, sizeof big};
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      for (n = 0; n < 2; n++) {
        const char *d = n ? noise : big;
        size_t sz = sizes[i] > sizeof noise && n ? sizeof noise : sizes[i], la = 0, lb = 0;
        char *a = NULL, *b = ref_gzip(d, sz, &lb);
        int rc = eidos_archive_gzip(d, sz, &a, &la, err, sizeof err);
        cases++;
        CHECK(rc == 0 && b && la == lb && memcmp(a, b, la) == 0, "gzip of %zu bytes (%s) differs", sz,
              n ? "noise" : "text");
        free(a);
        free(b);
      }
    }
  }
  printf("%d cases\n", cases);
  if (failures) printf("%d failure(s)\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
