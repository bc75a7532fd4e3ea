/*
 * archive_write.c -- the reproducible archive writer of archive_write.h.
 * Entry paths are checked, the parent directories of every entry are
 * added, and the list is sorted and de-duplicated before anything is
 * written. A tar.gz whose entries all fit plain ustar headers is written
 * with zlib alone (targz.c: the same bytes, without opening libarchive and
 * its dependencies); otherwise libarchive writes into a growing memory
 * buffer (pax-restricted tar through gzip with "!timestamp", or zip with
 * deflate); for zip the DOS date and time fields, which libarchive derives
 * from local time, are then rewritten from UTC. A file path gets the
 * finished buffer through eidos_fs_write_atomic.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "eidos.h"
#include "fs.h"
#include "lazy.h"
#include "archive_write.h"
#include "archive_int.h"

typedef eidos_archive_item item;

typedef struct membuf {
  char *p;
  size_t len, cap;
  int oom;
} membuf;

int eidos_archive_format(const char *name, int *format, char *err, size_t errlen) {
  if (!strcmp(name, "tar.gz")) *format = EIDOS_ARCHIVE_TARGZ;
  else if (!strcmp(name, "zip")) *format = EIDOS_ARCHIVE_ZIP;
  else return eidos_err(err, errlen, EIDOS_EINVAL,
                        "unknown archive format \"%s\"; accepted: tar.gz, zip", name);
  return EIDOS_OK;
}

int eidos_archive_check_path(const char *p, size_t n, char *err, size_t errlen) {
  size_t i = 0;
  if (n == 0) return eidos_err(err, errlen, EIDOS_EINVAL, "archive entry path is empty");
  if (memchr(p, '\0', n))
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "archive entry path \"%s...\" contains a NUL byte", p);
  if (p[0] == '/')
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "archive entry path \"%.*s\" is absolute; entry paths must be relative",
                     (int)n, p);
  if (memchr(p, '\\', n))
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "archive entry path \"%.*s\" contains a backslash; use \"/\"", (int)n, p);
  for (i = 0; i < n; i++)
    if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "archive entry path \"%.*s\" has a byte 0x%02x outside printable "
                       "ASCII; entry paths must be printable ASCII", (int)n, p,
                       (unsigned char)p[i]);
  i = 0;
  while (i < n) {
    size_t b = i;
    while (i < n && p[i] != '/') i++;
    if (i - b == 0 || (i - b == 1 && p[b] == '.') ||
        (i - b == 2 && p[b] == '.' && p[b + 1] == '.'))
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "archive entry path \"%.*s\" has an empty, \".\" or \"..\" segment",
                       (int)n, p);
    i++;
  }
  return EIDOS_OK;
}

static int cmp_item(const void *a, const void *b) {
  const item *x = a, *y = b;
  size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
  int c = memcmp(x->name, y->name, n);
  return c ? c : (x->nlen > y->nlen) - (x->nlen < y->nlen);
}

static void free_items(item *it, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) free(it[i].name);
  free(it);
}

static int add_item(item **it, size_t *k, size_t *cap, const char *name,
                    size_t nlen, int dir, const void *data, size_t len, int exec) {
  if (*k == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    item *ni = realloc(*it, nc * sizeof *ni);
    if (!ni) return -1;
    *it = ni;
    *cap = nc;
  }
  item *x = &(*it)[*k];
  x->name = malloc(nlen + 2);
  if (!x->name) return -1;
  memcpy(x->name, name, nlen);
  if (dir) x->name[nlen++] = '/';
  x->name[nlen] = '\0';
  x->nlen = nlen;
  x->dir = dir;
  x->data = data;
  x->len = len;
  x->exec = exec;
  (*k)++;
  return 0;
}

/* Build the sorted, checked item list with parent directories added. */
static int build(const eidos_archive_entry *e, size_t n, item **out, size_t *outn,
                 char *err, size_t errlen) {
  size_t cap = 0, k = 0, i, j;
  item *it = NULL;
  int rc = EIDOS_OK;
  for (i = 0; i < n; i++) {
    const char *p = e[i].path;
    size_t pl = e[i].path_len, bl;
    int dir = e[i].dir || (pl && p[pl - 1] == '/');
    if ((rc = eidos_archive_check_path(p, pl, err, errlen))) goto fail;
    if (dir && e[i].len) {
      rc = eidos_err(err, errlen, EIDOS_EINVAL,
                     "archive entry \"%.*s\" is a directory but has data", (int)pl, p);
      goto fail;
    }
    bl = p[pl - 1] == '/' ? pl - 1 : pl;
    for (j = 0; j < bl; j++)
      if (p[j] == '/' && add_item(&it, &k, &cap, p, j, 1, NULL, 0, 1)) goto oom;
    if (add_item(&it, &k, &cap, p, bl, dir, dir ? NULL : e[i].data,
                 dir ? 0 : e[i].len, dir || (e[i].mode & 0111) != 0))
      goto oom;
  }
  if (k) qsort(it, k, sizeof *it, cmp_item);
  /* merge repeated directories; refuse repeated files */
  for (i = 0, j = 0; i < k; i++) {
    if (j > 0 && cmp_item(&it[j - 1], &it[i]) == 0) {
      if (!it[i].dir) {
        rc = eidos_err(err, errlen, EIDOS_EINVAL, "duplicate archive entry path \"%s\"",
                       it[i].name);
        /* names are owned by it[0..j) and it[i..k) */
        memmove(it + j, it + i, (k - i) * sizeof *it);
        k = j + (k - i);
        goto fail;
      }
      free(it[i].name);
      continue;
    }
    it[j++] = it[i];
  }
  k = j;
  /* refuse a file with the name of a directory ("a" and "a/b") */
  for (i = 0; i < k; i++) {
    item key;
    if (!it[i].dir) continue;
    key.name = it[i].name;
    key.nlen = it[i].nlen - 1;
    if (bsearch(&key, it, k, sizeof *it, cmp_item)) {
      rc = eidos_err(err, errlen, EIDOS_EINVAL,
                     "archive entry path \"%.*s\" is both a file and a directory",
                     (int)key.nlen, key.name);
      goto fail;
    }
  }
  *out = it;
  *outn = k;
  return EIDOS_OK;
oom:
  rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
fail:
  free_items(it, k);
  return rc;
}

static la_ssize_t mem_write(struct archive *a, void *client, const void *buf, size_t n) {
  membuf *m = client;
  (void)a;
  if (m->len + n > m->cap) {
    size_t nc = m->cap ? m->cap : 16384;
    char *np;
    while (nc < m->len + n) nc *= 2;
    np = realloc(m->p, nc);
    if (!np) {
      m->oom = 1;
      return -1;
    }
    m->p = np;
    m->cap = nc;
  }
  memcpy(m->p + m->len, buf, n);
  m->len += n;
  return (la_ssize_t)n;
}

static unsigned get16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static unsigned long get32(const unsigned char *p) {
  return get16(p) | (unsigned long)get16(p + 2) << 16;
}
static void put16(unsigned char *p, unsigned v) { p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; }

/* Rewrite the DOS time and date of every zip header from mtime in UTC. */
static int zip_fix_times(unsigned char *z, size_t len, int64_t mtime,
                         char *err, size_t errlen) {
  struct tm tm;
  time_t t = (time_t)mtime;
  unsigned dtime = 0, ddate = (1 << 5) | 1; /* 1980-01-01 00:00:00 */
  unsigned long count, off, i;
  const unsigned char *eocd;
  if (gmtime_r(&t, &tm) && tm.tm_year >= 80) {
    if (tm.tm_year > 207) { tm.tm_year = 207; tm.tm_mon = 11; tm.tm_mday = 31;
                            tm.tm_hour = 23; tm.tm_min = 59; tm.tm_sec = 58; }
    ddate = (unsigned)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
    dtime = (unsigned)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
  }
  if (len < 22 || get32(z + len - 22) != 0x06054b50UL) goto bad;
  eocd = z + len - 22;
  count = get16(eocd + 10);
  off = get32(eocd + 16);
  if (count == 0xffff || off == 0xffffffffUL) goto bad; /* zip64 */
  for (i = 0; i < count; i++) {
    unsigned long loc;
    if (off + 46 > len || get32(z + off) != 0x02014b50UL) goto bad;
    put16(z + off + 12, dtime);
    put16(z + off + 14, ddate);
    loc = get32(z + off + 42);
    if (loc + 30 > len || get32(z + loc) != 0x04034b50UL) goto bad;
    put16(z + loc + 10, dtime);
    put16(z + loc + 12, ddate);
    off += 46 + get16(z + off + 28) + get16(z + off + 30) + get16(z + off + 32);
  }
  return EIDOS_OK;
bad:
  return eidos_err(err, errlen, EIDOS_EINTERNAL,
                   "zip: unexpected layout from libarchive; archives of more than 65535 "
                   "entries or 4 GiB (zip64) are not supported");
}

static int ar_fail(const struct eidos_archive *A, struct archive *a, const char *what,
                   const char *name, char *err, size_t errlen) {
  const char *msg = a ? A->archive_error_string(a) : NULL;
  return eidos_err(err, errlen, EIDOS_EFAIL, "archive: %s%s%s: %s", what,
                   name ? " " : "", name ? name : "", msg ? msg : "unknown error");
}

/* the checked, sorted items written as format by libarchive into *m */
static int with_libarchive(int format, const item *it, size_t k, int64_t mtime, membuf *m,
                           char *err, size_t errlen) {
  const struct eidos_archive *A;
  struct archive *a = NULL;
  struct archive_entry *ae = NULL;
  size_t i;
  int rc = EIDOS_OK;
  if (!(A = eidos_lazy_archive(err, errlen))) return EIDOS_EUNAVAIL;
  if (!(a = A->archive_write_new())) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  if (format == EIDOS_ARCHIVE_TARGZ) {
    if (A->archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        A->archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        A->archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK) {
      rc = ar_fail(A, a, "cannot set up tar.gz", NULL, err, errlen);
      goto done;
    }
  } else if (A->archive_write_set_format_zip(a) != ARCHIVE_OK ||
             A->archive_write_add_filter_none(a) != ARCHIVE_OK) {
    rc = ar_fail(A, a, "cannot set up zip", NULL, err, errlen);
    goto done;
  }
  if (A->archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      A->archive_write_open(a, m, NULL, mem_write, NULL) != ARCHIVE_OK) {
    rc = ar_fail(A, a, "cannot open", NULL, err, errlen);
    goto done;
  }
  for (i = 0; i < k; i++) {
    if (ae) A->archive_entry_free(ae);
    if (!(ae = A->archive_entry_new())) {
      rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
      goto done;
    }
    A->archive_entry_set_pathname(ae, it[i].name);
    A->archive_entry_set_filetype(ae, it[i].dir ? AE_IFDIR : AE_IFREG);
    A->archive_entry_set_perm(ae, it[i].exec ? 0755 : 0644);
    A->archive_entry_set_size(ae, (la_int64_t)it[i].len);
    A->archive_entry_set_mtime(ae, (time_t)mtime, 0);
    A->archive_entry_set_uid(ae, 0);
    A->archive_entry_set_gid(ae, 0);
    A->archive_entry_set_uname(ae, "root");
    A->archive_entry_set_gname(ae, "root");
    if (A->archive_write_header(a, ae) != ARCHIVE_OK) {
      rc = ar_fail(A, a, "cannot add", it[i].name, err, errlen);
      goto done;
    }
    if (it[i].len &&
        A->archive_write_data(a, it[i].data, it[i].len) != (la_ssize_t)it[i].len) {
      rc = ar_fail(A, a, "cannot write the data of", it[i].name, err, errlen);
      goto done;
    }
  }
  if (A->archive_write_close(a) != ARCHIVE_OK) {
    rc = m->oom ? eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory")
                : ar_fail(A, a, "cannot finish", NULL, err, errlen);
    goto done;
  }
  if (format == EIDOS_ARCHIVE_ZIP)
    rc = zip_fix_times((unsigned char *)m->p, m->len, mtime, err, errlen);
done:
  if (ae) A->archive_entry_free(ae);
  A->archive_write_free(a);
  return rc;
}

/* eidos_archive_write; libarchive alone when force_libarchive */
static int write_archive(const char *path, int format, const eidos_archive_entry *entries,
                         size_t n, int64_t mtime, char **out, size_t *outlen,
                         int force_libarchive, char *err, size_t errlen) {
  membuf m = {NULL, 0, 0, 0};
  item *it = NULL;
  size_t k = 0;
  int rc;
  if (format != EIDOS_ARCHIVE_TARGZ && format != EIDOS_ARCHIVE_ZIP)
    return eidos_err(err, errlen, EIDOS_EINVAL, "unknown archive format code %d", format);
  if (mtime < 0)
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "archive mtime %lld is negative; expected seconds since 1970",
                     (long long)mtime);
  if ((rc = build(entries, n, &it, &k, err, errlen))) return rc;
  if (format == EIDOS_ARCHIVE_TARGZ && !force_libarchive && eidos_targz_fits(it, k, mtime))
    rc = eidos_targz_write(it, k, mtime, &m.p, &m.len, err, errlen);
  else
    rc = with_libarchive(format, it, k, mtime, &m, err, errlen);
  free_items(it, k);
  if (rc == EIDOS_OK && path) {
    rc = eidos_fs_write_atomic(path, m.p, m.len, EIDOS_FS_DEFAULT_MODE, err, errlen);
  } else if (rc == EIDOS_OK) {
    *out = m.p;
    *outlen = m.len;
    m.p = NULL;
  }
  free(m.p);
  return rc;
}

int eidos_archive_gzip(const void *data, size_t len, char **out, size_t *outlen,
                       char *err, size_t errlen) {
  return eidos_gzip(data, len, out, outlen, err, errlen);
}

int eidos_archive_write(const char *path, int format,
                        const eidos_archive_entry *entries, size_t n,
                        int64_t mtime, char **out, size_t *outlen,
                        char *err, size_t errlen) {
  return write_archive(path, format, entries, n, mtime, out, outlen, 0, err, errlen);
}

int eidos_archive_write_libarchive(const char *path, int format,
                                   const eidos_archive_entry *entries, size_t n,
                                   int64_t mtime, char **out, size_t *outlen,
                                   char *err, size_t errlen) {
  return write_archive(path, format, entries, n, mtime, out, outlen, 1, err, errlen);
}
