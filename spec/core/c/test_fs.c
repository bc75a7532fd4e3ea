/*
 * test_fs.c -- the fs core alone: join refuses escapes, atomic writes leave
 * nothing behind on failure, walk is sorted, remove_tree does not follow
 * symlinks. Works in a fresh temporary directory; exit status 1 on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/fs.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
  printf(__VA_ARGS__); printf("\n"); } } while (0)

static void join_ok(const char *b, const char *r, const char *want) {
  char *out = NULL, err[256];
  int rc = eidos_fs_join(b, strlen(b), r, strlen(r), &out, err, sizeof err);
  CHECK(rc == 0 && strcmp(out, want) == 0, "join(%s, %s) = %s, want %s (%s)", b, r,
        rc ? "error" : out, want, rc ? err : "");
  free(out);
}

static void join_bad(const char *b, const char *r, size_t rlen, const char *needle) {
  char *out = NULL, err[256] = "";
  int rc = eidos_fs_join(b, strlen(b), r, rlen, &out, err, sizeof err);
  CHECK(rc == EIDOS_EINVAL && strstr(err, needle), "join(%s, %s) should fail with %s: %s",
        b, r, needle, err);
  if (!rc) free(out);
}

static size_t entries(const char *dir) {
  eidos_fs_names l;
  size_t n;
  if (eidos_fs_list(dir, &l, NULL, 0)) return (size_t)-1;
  n = l.n;
  eidos_fs_names_free(&l);
  return n;
}

int main(void) {
  char *tmp, err[512], path[4096], *data;
  size_t len;
  eidos_fs_names l;
  join_ok("/b", "a/./c/../d", "/b/a/d");
  join_ok("/b/", "", "/b");
  join_ok("/", "x", "/x");
  join_ok("", "", ".");
  join_bad("/b", "../x", 4, "escapes");
  join_bad("/b", "a/../../x", 9, "escapes");
  join_bad("/b", "/etc", 4, "absolute");
  join_bad("/b", "a\0b", 3, "NUL");

  if (eidos_fs_mkdtemp("/tmp/eidos-test-fs.", &tmp, err, sizeof err)) {
    printf("FAIL mkdtemp: %s\n", err);
    return 1;
  }
  snprintf(path, sizeof path, "%s/out.txt", tmp);
  CHECK(eidos_fs_write_atomic(path, "hello", 5, 0600, err, sizeof err) == 0, "%s", err);
  CHECK(eidos_fs_read(path, 0, &data, &len, err, sizeof err) == 0 && len == 5 &&
        memcmp(data, "hello", 5) == 0, "read back");
  free(data);
  CHECK(eidos_fs_read(path, 4, &data, &len, err, sizeof err) == EIDOS_EINVAL &&
        strstr(err, "limit of 4"), "limit: %s", err);
  /* rename fails (target is a non-empty directory): nothing is left behind */
  snprintf(path, sizeof path, "%s/d/sub", tmp);
  CHECK(eidos_fs_mkdir_p(path, 0755, err, sizeof err) == 0, "%s", err);
  snprintf(path, sizeof path, "%s/d", tmp);
  CHECK(eidos_fs_write_atomic(path, "x", 1, 0644, err, sizeof err) != 0 &&
        strstr(err, path), "write over a directory should fail naming it: %s", err);
  CHECK(entries(tmp) == 2, "temporary file left behind (%zu entries)", entries(tmp));
  snprintf(path, sizeof path, "%s/nodir/x", tmp);
  CHECK(eidos_fs_write_atomic(path, "x", 1, 0644, err, sizeof err) == EIDOS_ENOTFOUND, "%s", err);
  /* walk: sorted, files only */
  snprintf(path, sizeof path, "%s/d/sub/b", tmp);
  eidos_fs_write_atomic(path, "", 0, 0644, NULL, 0);
  snprintf(path, sizeof path, "%s/d/a", tmp);
  eidos_fs_write_atomic(path, "", 0, 0644, NULL, 0);
  snprintf(path, sizeof path, "%s/d", tmp);
  CHECK(eidos_fs_walk(path, &l, err, sizeof err) == 0 && l.n == 2 &&
        !strcmp(l.items[0], "a") && !strcmp(l.items[1], "sub/b"), "walk");
  eidos_fs_names_free(&l);
  /* remove_tree does not follow a symlink out of the tree */
  snprintf(path, sizeof path, "%s/d/link", tmp);
  CHECK(symlink(tmp, path) == 0, "symlink");
  snprintf(path, sizeof path, "%s/d", tmp);
  CHECK(eidos_fs_remove_tree(path, err, sizeof err) == 0, "%s", err);
  CHECK(entries(tmp) == 1, "remove_tree left %zu entries", entries(tmp));
  CHECK(eidos_fs_remove_tree("/", err, sizeof err) == EIDOS_EINVAL, "refuses /");
  CHECK(eidos_fs_remove_tree("", err, sizeof err) == EIDOS_EINVAL, "refuses empty");
  CHECK(eidos_fs_remove_tree(tmp, err, sizeof err) == 0, "%s", err);
  free(tmp);
  if (failures) printf("%d failure(s)\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
