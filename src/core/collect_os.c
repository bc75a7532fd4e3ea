/*
 * collect_os.c -- the OS measurement: subtypes grub (kernel parameters of
 * /proc/cmdline, init's arguments after "--" left out), sysctl (a bounded walk of /proc/sys), kmod (/proc/modules)
 * and release (/etc/os-release, else /usr/lib/os-release), always in that
 * order. A subtype whose source cannot be read keeps its place with empty
 * data and context.error saying why. Filtering and redaction of values is
 * Lua policy (lua/eidos/snapshot/), not done here, except that the sysctl
 * walk skips /proc/sys/net (thousands of per-interface keys) and
 * /proc/sys/dev/cdrom, as upstream does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "eidos.h"
#include "collect_int.h"

#define FILE_MAX (1u << 20)      /* per file */
#define SYSCTL_MAX_KEYS 20000
#define SYSCTL_MAX_DEPTH 12

static int fail_subtype(struct eidos_value *st, const char *msg) {
  return eidos_value_map_set_str(cx_context(st), "error", msg);
}

/* ---------------------------------------------------------------- grub */

static int kspace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The kernel command line read as the kernel reads it (kernel/params.c,
 * next_arg and parse_args): parameters are separated by whitespace, a
 * double quote toggles quoting (whitespace inside quotes separates
 * nothing), the first '=' splits name and value (a parameter without one
 * is a flag with value ""), and the only quotes removed are the kernel's:
 * one that opens the whole parameter or its value, with the one that ends
 * the parameter ("a=\"b c\"" is b c, a=b\"c d\" keeps its quotes). A
 * parameter "--" ends the kernel's parameters: what follows belongs to
 * init and is not recorded. Duplicates: last wins. */
static int parse_cmdline(const char *s, size_t n, struct eidos_value *data) {
  size_t i = 0;
  while (i < n) {
    size_t start, end, eq = (size_t)-1, ne, vs, ve;
    int inq = 0, quoted = 0, rc;
    while (i < n && kspace(s[i])) i++;
    if (i >= n) break;
    if (s[i] == '"') {
      i++;
      inq = quoted = 1;
    }
    for (start = i; i < n; i++) {
      if (kspace(s[i]) && !inq) break;
      if (eq == (size_t)-1 && s[i] == '=') eq = i;
      if (s[i] == '"') inq = !inq;
    }
    end = i;
    if (quoted && end > start && s[end - 1] == '"') end--; /* the closing quote */
    if (eq == (size_t)-1 || eq >= end) { /* a flag */
      ne = end - start;
      if (ne == 2 && s[start] == '-' && s[start + 1] == '-') break; /* init's */
      rc = eidos_value_map_lset(data, s + start, ne, eidos_value_new_string(""));
    } else {
      vs = eq + 1;
      ve = end;
      if (vs < ve && s[vs] == '"') { /* a quoted value */
        vs++;
        if (!quoted && ve > vs && s[ve - 1] == '"') ve--;
      }
      rc = eidos_value_map_lset(data, s + start, eq - start,
                                eidos_value_new_lstring(s + vs, ve - vs));
    }
    if (rc) return rc;
  }
  return EIDOS_OK;
}

static int grub(const struct eidos_collect_ctx *c, struct eidos_value *st) {
  char path[CX_PATH_MAX], err[CX_PATH_MAX + 64], *buf;
  size_t len;
  int rc;
  if (cx_path(c, "/proc/cmdline", path, sizeof path))
    return fail_subtype(st, "sysroot path too long");
  if (cx_read(path, FILE_MAX, &buf, &len, NULL, err, sizeof err))
    return fail_subtype(st, err);
  if (!cx_utf8(buf, len)) {
    free(buf);
    return fail_subtype(st, "/proc/cmdline is not valid UTF-8");
  }
  rc = parse_cmdline(buf, len, cx_data(st));
  free(buf);
  return rc;
}

/* -------------------------------------------------------------- sysctl */

struct walk {
  char path[CX_PATH_MAX]; /* absolute, below sysroot */
  size_t root;            /* length of the sysroot prefix */
  size_t keys;
  struct eidos_value *data;
  int oom;
};

/* Store one file's content (see the file comment of upstream's parser):
 * lines are trimmed and empty ones dropped; a file of two or more lines
 * that all have at least two whitespace-separated fields is exploded into
 * <key>/<first field> = rest (single spaces); otherwise the value is the
 * lines joined with '\n'. Values are kept whole (a leading '#' is data). */
static int store_sysctl(struct walk *w, const char *key, size_t klen,
                        const char *buf, size_t len) {
  size_t nlines = 0, i = 0, allkv = 1;
  struct cx_buf val;
  int rc;

  /* pass 1: count lines and check the key/value shape */
  while (i < len) {
    size_t e = i, tl;
    const char *t;
    while (e < len && buf[e] != '\n') e++;
    t = cx_trim(buf + i, e - i, &tl);
    if (tl) {
      size_t j = 0;
      nlines++;
      while (j < tl && t[j] != ' ' && t[j] != '\t') j++;
      while (j < tl && (t[j] == ' ' || t[j] == '\t')) j++;
      if (j >= tl) allkv = 0;
    }
    i = e + 1;
  }
  if (nlines >= 2 && allkv) {
    for (i = 0; i < len;) {
      size_t e = i, tl, j = 0, k0;
      const char *t;
      struct cx_buf sub, rest;
      while (e < len && buf[e] != '\n') e++;
      t = cx_trim(buf + i, e - i, &tl);
      i = e + 1;
      if (!tl) continue;
      while (j < tl && t[j] != ' ' && t[j] != '\t') j++;
      cx_buf_init(&sub, CX_PATH_MAX + 256);
      cx_buf_add(&sub, key, klen);
      cx_buf_add(&sub, "/", 1);
      cx_buf_add(&sub, t, j);
      cx_buf_init(&rest, FILE_MAX);
      for (;;) { /* remaining fields joined by one space */
        while (j < tl && (t[j] == ' ' || t[j] == '\t')) j++;
        if (j >= tl) break;
        k0 = j;
        while (j < tl && t[j] != ' ' && t[j] != '\t') j++;
        if (rest.n) cx_buf_add(&rest, " ", 1);
        cx_buf_add(&rest, t + k0, j - k0);
      }
      rc = sub.oom || rest.oom ? EIDOS_EINTERNAL
           : eidos_value_map_lset(w->data, sub.s, sub.n,
                                  eidos_value_new_lstring(rest.s ? rest.s : "",
                                                          rest.n));
      cx_buf_free(&sub);
      cx_buf_free(&rest);
      if (rc) return rc;
      w->keys++;
    }
    return EIDOS_OK;
  }
  cx_buf_init(&val, FILE_MAX + 1);
  for (i = 0; i < len;) {
    size_t e = i, tl;
    const char *t;
    while (e < len && buf[e] != '\n') e++;
    t = cx_trim(buf + i, e - i, &tl);
    i = e + 1;
    if (!tl) continue;
    if (val.n) cx_buf_add(&val, "\n", 1);
    cx_buf_add(&val, t, tl);
  }
  rc = val.oom ? EIDOS_EINTERNAL
       : eidos_value_map_lset(w->data, key, klen,
                              eidos_value_new_lstring(val.s ? val.s : "", val.n));
  cx_buf_free(&val);
  if (!rc) w->keys++;
  return rc;
}

static int walk_dir(struct walk *w, int depth) {
  char **names;
  size_t n, i, base = strlen(w->path);
  int rc = EIDOS_OK;
  if (depth > SYSCTL_MAX_DEPTH) return EIDOS_OK;
  if (cx_listdir(w->path, &names, &n, NULL)) return EIDOS_OK; /* unreadable: skip branch */
  for (i = 0; i < n && rc == EIDOS_OK && w->keys < SYSCTL_MAX_KEYS; i++) {
    struct stat st;
    const char *key;
    int wr = snprintf(w->path + base, sizeof w->path - base, "/%s", names[i]);
    if (wr < 0 || (size_t)wr >= sizeof w->path - base) continue;
    key = w->path + w->root;
    if (!strcmp(key, "/proc/sys/net") || !strcmp(key, "/proc/sys/dev/cdrom"))
      continue;
    if (lstat(w->path, &st)) continue;
    if (S_ISDIR(st.st_mode)) {
      rc = walk_dir(w, depth + 1);
    } else if (S_ISREG(st.st_mode) && (st.st_mode & 0444)) {
      char *buf;
      size_t len;
      if (cx_read(w->path, FILE_MAX, &buf, &len, NULL, NULL, 0)) continue;
      if (cx_utf8(buf, len)) rc = store_sysctl(w, key, strlen(key), buf, len);
      free(buf);
    }
  }
  w->path[base] = '\0';
  cx_names_free(names, n);
  return rc;
}

static int sysctl(const struct eidos_collect_ctx *c, struct eidos_value *st) {
  struct walk *w = calloc(1, sizeof *w);
  struct stat sb;
  int rc;
  if (!w) return EIDOS_EINTERNAL;
  if (cx_path(c, "/proc/sys", w->path, sizeof w->path)) {
    free(w);
    return fail_subtype(st, "sysroot path too long");
  }
  if (stat(w->path, &sb) || !S_ISDIR(sb.st_mode)) {
    char msg[CX_PATH_MAX + 64];
    int e = errno;
    if (stat(w->path, &sb) == 0) e = ENOTDIR;
    snprintf(msg, sizeof msg, "cannot read %s: %s", w->path, strerror(e));
    free(w);
    return fail_subtype(st, msg);
  }
  w->root = strlen(c->sysroot);
  w->data = cx_data(st);
  rc = walk_dir(w, 0);
  if (!rc && w->keys >= SYSCTL_MAX_KEYS)
    rc = eidos_value_map_set_str(cx_context(st), "truncated",
                                 "stopped at 20000 keys");
  free(w);
  return rc;
}

/* ---------------------------------------------------------------- kmod */

/* Is this a kernel built without loadable modules? Its procfs (seen
 * through /proc/sys/kernel) lacks /proc/sys/kernel/modprobe, which every
 * kernel with module support has. */
static int no_module_support(const struct eidos_collect_ctx *c) {
  char path[CX_PATH_MAX];
  struct stat sb;
  if (cx_path(c, "/proc/sys/kernel", path, sizeof path) || stat(path, &sb) ||
      !S_ISDIR(sb.st_mode))
    return 0; /* no procfs there: cannot tell */
  if (cx_path(c, "/proc/sys/kernel/modprobe", path, sizeof path)) return 0;
  return stat(path, &sb) != 0 && errno == ENOENT;
}

/* /proc/modules: the first field of each line (the module name) -> true.
 * A kernel without module support has no /proc/modules: no modules, with
 * a context.reason saying so (not an error). */
static int kmod(const struct eidos_collect_ctx *c, struct eidos_value *st) {
  char path[CX_PATH_MAX], err[CX_PATH_MAX + 64], *buf;
  size_t len, i = 0;
  int rc = EIDOS_OK, eno;
  if (cx_path(c, "/proc/modules", path, sizeof path))
    return fail_subtype(st, "sysroot path too long");
  if (cx_read(path, FILE_MAX * 4, &buf, &len, &eno, err, sizeof err)) {
    if (eno == ENOENT && no_module_support(c))
      return eidos_value_map_set_str(cx_context(st), "reason",
                                     "the kernel has no loadable module support "
                                     "(no /proc/modules, no /proc/sys/kernel/modprobe)");
    return fail_subtype(st, err);
  }
  while (i < len && rc == EIDOS_OK) {
    size_t e = i, tl, j = 0;
    const char *t;
    while (e < len && buf[e] != '\n') e++;
    t = cx_trim(buf + i, e - i, &tl);
    i = e + 1;
    while (j < tl && t[j] != ' ' && t[j] != '\t') j++;
    if (j && cx_utf8(t, j))
      rc = eidos_value_map_lset(cx_data(st), t, j, eidos_value_new_bool(1));
  }
  free(buf);
  return rc;
}

/* ------------------------------------------------------------- release */

/* os-release value: "double quoted" with \" \\ \$ \` escapes, 'single
 * quoted' literally, or bare. */
static struct eidos_value *unquote(const char *v, size_t n) {
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    char *tmp = malloc(n);
    size_t i, k = 0;
    struct eidos_value *r;
    if (!tmp) return NULL;
    for (i = 1; i + 1 < n; i++) {
      if (v[i] == '\\' && i + 2 < n &&
          (v[i + 1] == '"' || v[i + 1] == '\\' || v[i + 1] == '$' ||
           v[i + 1] == '`'))
        i++;
      tmp[k++] = v[i];
    }
    r = eidos_value_new_lstring(tmp, k);
    free(tmp);
    return r;
  }
  if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'')
    return eidos_value_new_lstring(v + 1, n - 2);
  return eidos_value_new_lstring(v, n);
}

static int release(const struct eidos_collect_ctx *c, struct eidos_value *st) {
  char path[CX_PATH_MAX], err[CX_PATH_MAX + 64], *buf;
  size_t len, i = 0;
  int rc = EIDOS_OK, eno;
  if (cx_path(c, "/etc/os-release", path, sizeof path))
    return fail_subtype(st, "sysroot path too long");
  rc = cx_read(path, FILE_MAX, &buf, &len, &eno, err, sizeof err);
  if (rc && eno == ENOENT) {
    if (cx_path(c, "/usr/lib/os-release", path, sizeof path))
      return fail_subtype(st, "sysroot path too long");
    rc = cx_read(path, FILE_MAX, &buf, &len, &eno, err, sizeof err);
  }
  if (rc) return fail_subtype(st, err);
  if (!cx_utf8(buf, len)) {
    free(buf);
    return fail_subtype(st, "os-release is not valid UTF-8");
  }
  rc = EIDOS_OK;
  while (i < len && rc == EIDOS_OK) {
    size_t e = i, tl, kl, vl, j = 0;
    const char *t, *k, *v;
    struct eidos_value *val;
    while (e < len && buf[e] != '\n') e++;
    t = cx_trim(buf + i, e - i, &tl);
    i = e + 1;
    if (!tl || t[0] == '#') continue;
    while (j < tl && t[j] != '=') j++;
    if (j >= tl) continue;
    k = cx_trim(t, j, &kl);
    v = cx_trim(t + j + 1, tl - j - 1, &vl);
    if (!kl) continue;
    val = unquote(v, vl);
    if (!val) {
      rc = EIDOS_EINTERNAL;
      break;
    }
    eidos_value_string(val, &vl);
    if (!vl) {
      eidos_value_free(val); /* empty values are dropped, as upstream does */
      continue;
    }
    rc = eidos_value_map_lset(cx_data(st), k, kl, val);
  }
  free(buf);
  return rc;
}

int eidos_collect_os(const struct eidos_collect_ctx *c,
                     struct eidos_value **out, char *err, size_t errlen) {
  static const struct {
    const char *name;
    int (*fn)(const struct eidos_collect_ctx *, struct eidos_value *);
  } subs[] = {{"grub", grub}, {"sysctl", sysctl}, {"kmod", kmod},
              {"release", release}};
  struct eidos_value *m = cx_measurement("OS");
  size_t i;
  *out = NULL;
  if (!m) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
    struct eidos_value *st = cx_subtype(m, subs[i].name);
    if (!st || subs[i].fn(c, st)) {
      eidos_value_free(m);
      return eidos_err(err, errlen, EIDOS_EINTERNAL,
                       "out of memory in the OS %s collector", subs[i].name);
    }
  }
  *out = m;
  return EIDOS_OK;
}
