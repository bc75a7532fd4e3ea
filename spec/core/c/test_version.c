/*
 * test_version.c -- the version core alone: parse results, error classes,
 * comparison at the lower precision, and every seed of the fuzz corpus
 * (fuzz/corpus/version/, under the source dir given as argv[1]) parses or
 * fails cleanly. Prints failures; exit status 1 if any.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/version.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
  printf(__VA_ARGS__); printf("\n"); } } while (0)

static void ok(const char *s, long long ma, long long mi, long long pa, int prec, const char *extra) {
  eidos_version v;
  char err[512];
  int rc = eidos_version_parse(s, strlen(s), &v, err, sizeof err);
  CHECK(rc == 0, "parse %s: %s", s, err);
  if (rc) return;
  CHECK(v.major == ma && v.minor == mi && v.patch == pa && v.precision == prec,
        "parse %s: %lld.%lld.%lld/%d", s, (long long)v.major, (long long)v.minor,
        (long long)v.patch, v.precision);
  CHECK(strcmp(s + v.extra, extra) == 0, "parse %s: extra %s", s, s + v.extra);
}

static void bad(const char *s, size_t len, const char *needle) {
  eidos_version v;
  char err[512] = "";
  int rc = eidos_version_parse(s, len, &v, err, sizeof err);
  CHECK(rc == EIDOS_EINVAL, "parse %s should fail", s);
  CHECK(strstr(err, needle) != NULL, "parse %s: message %s lacks %s", s, err, needle);
}

static int cmp(const char *a, const char *b) {
  eidos_version x, y;
  if (eidos_version_parse(a, strlen(a), &x, NULL, 0) ||
      eidos_version_parse(b, strlen(b), &y, NULL, 0)) return 99;
  return eidos_version_compare(&x, &y);
}

static void corpus(const char *root) {
  char dir[4096], path[8192], buf[4096];
  DIR *d;
  struct dirent *de;
  int n = 0;
  snprintf(dir, sizeof dir, "%s/fuzz/corpus/version", root);
  if (!(d = opendir(dir))) { CHECK(0, "no corpus at %s", dir); return; }
  while ((de = readdir(d))) {
    FILE *f;
    size_t len;
    eidos_version v;
    char err[64]; /* small on purpose: messages must truncate safely */
    if (de->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    if (!(f = fopen(path, "rb"))) continue;
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int rc = eidos_version_parse(buf, len, &v, err, sizeof err);
    CHECK(rc == 0 || rc == EIDOS_EINVAL, "corpus %s: rc %d", de->d_name, rc);
    CHECK(rc != 0 || (v.precision >= 1 && v.precision <= 3), "corpus %s: precision", de->d_name);
    n++;
  }
  closedir(d);
  CHECK(n >= 5, "corpus has only %d seeds", n);
}

int main(int argc, char **argv) {
  char buf[32];
  eidos_version v;
  ok("1", 1, 0, 0, 1, "");
  ok("v1.2", 1, 2, 0, 2, "");
  ok("V1.2.3", 1, 2, 3, 3, "");
  ok("6.8.0-1028-aws", 6, 8, 0, 3, "-1028-aws");
  ok("v1.33.5-eks-3025e55", 1, 33, 5, 3, "-eks-3025e55");
  ok("1.30.5-gke.1014001", 1, 30, 5, 3, "-gke.1014001");
  ok("1.2.3+meta", 1, 2, 3, 3, "+meta");
  ok("580.105.08", 580, 105, 8, 3, "");
  ok("9007199254740991", 9007199254740991LL, 0, 0, 1, "");
  bad("", 0, "empty");
  bad("v", 1, "component 1 is empty");
  bad("1.2.3.4", 7, "4 components");
  bad("1..2", 4, "component 2 is empty");
  bad("-1.2.3", 6, "negative");
  bad("1.-2.3", 6, "negative");
  bad("1.+2", 4, "not a number");
  bad("1.2a", 4, "not a number");
  bad("1\0002", 3, "not a number");
  bad("1.2-", 4, "suffix");
  bad("9007199254740992", 16, "larger than");
  bad("99999999999999999999999999", 26, "larger than");
  CHECK(cmp("1.32", "1.32.4") == 0, "1.32 vs 1.32.4");
  CHECK(cmp("6.8", "6.8.0-1028-aws") == 0, "6.8 vs kernel");
  CHECK(cmp("5.15.0-1050-aws", "6.8") == -1, "5.15 < 6.8");
  CHECK(cmp("1.30.7", "1.30") == 0, "1.30.7 vs 1.30");
  CHECK(cmp("1.99", "2.0") == -1, "1.99 < 2.0");
  CHECK(cmp("10", "9.9.9") == 1, "10 > 9.9.9");
  CHECK(cmp("1.2.4", "1.2.3") == 1, "1.2.4 > 1.2.3");
  eidos_version_parse("v1.33.5-eks", 11, &v, NULL, 0);
  eidos_version_format(&v, buf, sizeof buf);
  CHECK(strcmp(buf, "1.33.5") == 0, "format %s", buf);
  if (argc > 1) corpus(argv[1]);
  if (failures) printf("%d failure(s)\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
