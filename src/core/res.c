/*
 * res.c -- lookup of resource files: override roots on disk first, then the
 * copy embedded at build time (see res.h). Listing merges both views.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "eidos.h"
#include "res.h"

static char *roots[EIDOS_RES_MAXROOTS];
static int nroots;

int eidos_res_set_roots(const char *const *r, int n) {
  int i;
  struct stat st;
  for (i = 0; i < nroots; i++) free(roots[i]);
  nroots = 0;
  for (i = 0; i < n && nroots < EIDOS_RES_MAXROOTS; i++) {
    if (!r[i] || !*r[i] || stat(r[i], &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    roots[nroots++] = strdup(r[i]);
  }
  return nroots;
}

int eidos_res_nroots(void) { return nroots; }
const char *eidos_res_root(int i) { return i >= 0 && i < nroots ? roots[i] : NULL; }

int eidos_res_checkpath(const char *rel, char *err, size_t errlen) {
  const char *s = rel, *seg;
  if (!*rel || *rel == '/')
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "resource path '%s' must be relative and non-empty", rel);
  while (*s) {
    size_t l;
    seg = s;
    l = strcspn(seg, "/");
    if (l == 0 || (l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.'))
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "resource path '%s' has an empty, '.' or '..' segment", rel);
    s = seg + l;
    if (*s == '/') s++;
  }
  return EIDOS_OK;
}

static int cmpfile(const void *key, const void *elem) {
  return strcmp((const char *)key, ((const struct eidos_res_file *)elem)->path);
}

const struct eidos_res_file *eidos_res_embedded(const char *rel) {
  return bsearch(rel, eidos_res_files, eidos_res_nfiles, sizeof eidos_res_files[0], cmpfile);
}

const struct eidos_res_file *eidos_res_built_chunk(const char *name) {
  return bsearch(name, eidos_res_built, eidos_res_nbuilt, sizeof eidos_res_built[0], cmpfile);
}

static int readfile(const char *path, const char **data, size_t *len,
                    char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long sz;
  if (!f) return eidos_err(err, errlen, EIDOS_EFAIL, "cannot open %s: %s", path, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return eidos_err(err, errlen, EIDOS_EFAIL, "cannot read %s", path);
  }
  buf = malloc((size_t)sz + 1);
  if (!buf) { fclose(f); return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory reading %s", path); }
  if (fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
    free(buf);
    fclose(f);
    return eidos_err(err, errlen, EIDOS_EFAIL, "short read on %s", path);
  }
  fclose(f);
  buf[sz] = 0;
  *data = buf;
  *len = (size_t)sz;
  return EIDOS_OK;
}

int eidos_res_read(const char *rel, const char **data, size_t *len, int *owned,
                   char *origin, size_t originlen, char *err, size_t errlen) {
  int i, rc;
  const struct eidos_res_file *e;
  if ((rc = eidos_res_checkpath(rel, err, errlen))) return rc;
  for (i = 0; i < nroots; i++) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", roots[i], rel);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      if ((rc = readfile(path, data, len, err, errlen))) return rc;
      *owned = 1;
      if (origin) snprintf(origin, originlen, "%s", path);
      return EIDOS_OK;
    }
  }
  e = eidos_res_embedded(rel);
  if (!e) return eidos_err(err, errlen, EIDOS_ENOTFOUND, "resource '%s' not found", rel);
  *data = e->data;
  *len = e->len;
  *owned = 0;
  if (origin) snprintf(origin, originlen, "embedded");
  return EIDOS_OK;
}

int eidos_res_read_code(const char *rel, const char **data, size_t *len, int *owned,
                        const char **code, size_t *codelen, char *origin, size_t originlen,
                        char *err, size_t errlen) {
  int rc = eidos_res_read(rel, data, len, owned, origin, originlen, err, errlen);
  const struct eidos_res_file *e;
  *code = NULL;
  *codelen = 0;
  if (rc != EIDOS_OK || !(e = eidos_res_embedded(rel)) || !e->code) return rc;
  if (*owned) {
    /* a file on disk identical to the embedded source (an installed
       share/eidos, an unchanged --extract) is no override: use the
       precompiled chunk of that same source */
    if (*len != e->len || memcmp(*data, e->data, e->len) != 0) return rc;
    free((void *)*data);
    *data = e->data;
    *owned = 0;
    if (origin) snprintf(origin, originlen, "embedded");
  }
  *code = e->code;
  *codelen = e->codelen;
  return rc;
}

/* ---- listing ---- */

/* path and origin are owned (malloc'd) for files from disk, static for the
   embedded copy */
struct item { const char *path; const char *origin; size_t seq; int owned; };
struct items { struct item *v; size_t n, cap; };

static int add(struct items *it, const char *path, const char *origin, int owned) {
  if (it->n == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 256;
    struct item *v = realloc(it->v, cap * sizeof *v);
    if (!v) return -1;
    it->v = v;
    it->cap = cap;
  }
  struct item *x = &it->v[it->n];
  x->path = owned ? strdup(path) : path;
  x->origin = owned ? strdup(origin) : origin;
  if (!x->path || !x->origin) {
    if (owned) { free((void *)x->path); free((void *)x->origin); }
    return -1;
  }
  x->seq = it->n;
  x->owned = owned;
  it->n++;
  return 0;
}

static void walk(struct items *it, const char *root, const char *rel, int depth) {
  char dir[4096];
  DIR *d;
  struct dirent *de;
  if (depth > 32) return;
  snprintf(dir, sizeof dir, "%s/%s", root, rel);
  if (!(d = opendir(dir))) return;
  while ((de = readdir(d))) {
    char sub[4096], full[8192];
    struct stat st;
    if (de->d_name[0] == '.') continue;
    snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
    snprintf(full, sizeof full, "%s/%s", root, sub);
    if (stat(full, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) walk(it, root, sub, depth + 1);
    else if (S_ISREG(st.st_mode)) add(it, sub, full, 1);
  }
  closedir(d);
}

/* by path, then by insertion order: roots were walked in priority order and
   the embedded copy last, so the first of equal paths wins */
static int cmpitem(const void *a, const void *b) {
  const struct item *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  if (c) return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Only the part of each tree that can hold the prefix is read: below a
   root, the directory the prefix names up to its last '/' (every top
   directory for a prefix without one); of the embedded table, which is
   sorted, the range of paths that start with the prefix. */
int eidos_res_list(const char *prefix,
                   int (*cb)(const char *path, const char *origin, void *ud),
                   void *ud, char *err, size_t errlen) {
  struct items it = {0};
  size_t i, lo = 0, hi = eidos_res_nfiles, plen = strlen(prefix);
  const char *slash = strrchr(prefix, '/');
  char dir[4096];
  int r;
  static const char *tops[] = {"lua", "recipes", "templates", "data"};
  (void)err; (void)errlen;
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - prefix) : 0, prefix);
  for (r = 0; r < nroots; r++) {
    size_t t;
    for (t = 0; t < sizeof tops / sizeof *tops; t++) {
      size_t tl = strlen(tops[t]);
      if (!*dir) walk(&it, roots[r], tops[t], 0);
      else if (!strncmp(dir, tops[t], tl) && (dir[tl] == '/' || !dir[tl])) walk(&it, roots[r], dir, 0);
    }
  }
  while (lo < hi) { /* first embedded path >= prefix */
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(eidos_res_files[mid].path, prefix) < 0) lo = mid + 1;
    else hi = mid;
  }
  for (i = lo; i < eidos_res_nfiles && !strncmp(eidos_res_files[i].path, prefix, plen); i++)
    add(&it, eidos_res_files[i].path, "embedded", 0);
  if (it.n) qsort(it.v, it.n, sizeof *it.v, cmpitem);
  for (i = 0; i < it.n; i++) {
    if (i > 0 && strcmp(it.v[i].path, it.v[i - 1].path) == 0) continue;
    if (strncmp(it.v[i].path, prefix, plen) != 0) continue;
    if (cb(it.v[i].path, it.v[i].origin, ud)) break;
  }
  for (i = 0; i < it.n; i++)
    if (it.v[i].owned) { free((void *)it.v[i].path); free((void *)it.v[i].origin); }
  free(it.v);
  return EIDOS_OK;
}
