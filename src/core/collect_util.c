/*
 * collect_util.c -- helpers shared by the collectors (declared in
 * collect_int.h): paths below the sysroot, bounded whole-file reads, UTF-8
 * checks, trimming, a bounded string buffer, the measurement/subtype tree
 * builders and sorted directory listings.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "eidos.h"
#include "collect_int.h"

int cx_path(const struct eidos_collect_ctx *c, const char *rel, char *buf,
            size_t n) {
  int w = snprintf(buf, n, "%s%s", c->sysroot, rel);
  if (w < 0 || (size_t)w >= n) return EIDOS_EINVAL;
  return EIDOS_OK;
}

int cx_read(const char *path, size_t max, char **data, size_t *len, int *eno,
            char *err, size_t errlen) {
  int fd, e;
  struct stat st;
  char *buf = NULL;
  size_t n = 0, cap = 0;

  *data = NULL;
  *len = 0;
  if (eno) *eno = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    e = errno;
    if (eno) *eno = e;
    return eidos_err(err, errlen, e == ENOENT ? EIDOS_ENOTFOUND : EIDOS_EFAIL,
                     "cannot open %s: %s", path, strerror(e));
  }
  if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
    close(fd);
    return eidos_err(err, errlen, EIDOS_EINVAL, "%s is not a regular file",
                     path);
  }
  for (;;) {
    ssize_t r;
    if (n + 1 >= cap) {
      size_t ncap = cap ? cap * 2 : 4096;
      char *p;
      if (ncap > max + 2) ncap = max + 2;
      if (ncap <= n + 1) {
        free(buf);
        close(fd);
        return eidos_err(err, errlen, EIDOS_EINVAL,
                         "%s is larger than %zu bytes", path, max);
      }
      p = realloc(buf, ncap);
      if (!p) {
        free(buf);
        close(fd);
        return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
      }
      buf = p;
      cap = ncap;
    }
    r = read(fd, buf + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      e = errno;
      if (eno) *eno = e;
      free(buf);
      close(fd);
      return eidos_err(err, errlen, EIDOS_EFAIL, "cannot read %s: %s", path,
                       strerror(e));
    }
    if (r == 0) break;
    n += (size_t)r;
    if (n > max) {
      free(buf);
      close(fd);
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "%s is larger than %zu bytes", path, max);
    }
  }
  close(fd);
  if (!buf && !(buf = malloc(1)))
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  buf[n] = '\0';
  *data = buf;
  *len = n;
  return EIDOS_OK;
}

int cx_utf8(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s, *e = p + n;
  while (p < e) {
    unsigned c = *p;
    size_t k;
    unsigned cp, min;
    if (c == 0) return 0;
    if (c < 0x80) { p++; continue; }
    if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)(e - p) <= k) return 0;
    for (size_t i = 1; i <= k; i++) {
      if ((p[i] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    p += k + 1;
  }
  return 1;
}

const char *cx_trim(const char *s, size_t n, size_t *outn) {
  while (n && isspace((unsigned char)*s)) s++, n--;
  while (n && isspace((unsigned char)s[n - 1])) n--;
  *outn = n;
  return s;
}

void cx_buf_init(struct cx_buf *b, size_t max) {
  b->s = NULL;
  b->n = b->cap = 0;
  b->max = max;
  b->oom = 0;
}

void cx_buf_add(struct cx_buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->max) {
    b->oom = 1;
    return;
  }
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    char *p;
    while (cap < b->n + n + 1) cap *= 2;
    p = realloc(b->s, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

void cx_buf_adds(struct cx_buf *b, const char *s) { cx_buf_add(b, s, strlen(s)); }

void cx_buf_addf(struct cx_buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  int w;
  va_start(ap, fmt);
  w = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (w < 0) {
    b->oom = 1;
    return;
  }
  if ((size_t)w >= sizeof tmp) w = sizeof tmp - 1; /* callers format short items */
  cx_buf_add(b, tmp, (size_t)w);
}

void cx_buf_free(struct cx_buf *b) {
  free(b->s);
  cx_buf_init(b, b->max);
}

struct eidos_value *cx_measurement(const char *type) {
  struct eidos_value *m = eidos_value_new_map();
  if (!m) return NULL;
  if (eidos_value_map_set_str(m, "type", type) ||
      !eidos_value_map_set_list(m, "subtypes")) {
    eidos_value_free(m);
    return NULL;
  }
  return m;
}

struct eidos_value *cx_subtype(struct eidos_value *m, const char *name) {
  struct eidos_value *list = eidos_value_map_get(m, "subtypes");
  struct eidos_value *s = eidos_value_new_map();
  if (!s || !list) {
    eidos_value_free(s);
    return NULL;
  }
  if (eidos_value_map_set_str(s, "subtype", name) ||
      !eidos_value_map_set_map(s, "data") ||
      !eidos_value_map_set_map(s, "context")) {
    eidos_value_free(s);
    return NULL;
  }
  if (eidos_value_list_push(list, s)) return NULL;
  return s;
}

struct eidos_value *cx_data(struct eidos_value *subtype) {
  return eidos_value_map_get(subtype, "data");
}

struct eidos_value *cx_context(struct eidos_value *subtype) {
  return eidos_value_map_get(subtype, "context");
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int cx_listdir(const char *path, char ***names, size_t *n, int *eno) {
  DIR *d = opendir(path);
  struct dirent *de;
  char **v = NULL;
  size_t cnt = 0, cap = 0;
  *names = NULL;
  *n = 0;
  if (eno) *eno = 0;
  if (!d) {
    if (eno) *eno = errno;
    return EIDOS_EFAIL;
  }
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (cnt == cap) {
      size_t nc = cap ? cap * 2 : 32;
      char **p = realloc(v, nc * sizeof *p);
      if (!p) goto oom;
      v = p;
      cap = nc;
    }
    if (!(v[cnt] = strdup(de->d_name))) goto oom;
    cnt++;
  }
  closedir(d);
  if (cnt) qsort(v, cnt, sizeof *v, cmp_names);
  *names = v;
  *n = cnt;
  return EIDOS_OK;
oom:
  closedir(d);
  cx_names_free(v, cnt);
  return EIDOS_EINTERNAL;
}

void cx_names_free(char **names, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) free(names[i]);
  free(names);
}
