/*
 * archive_read.c -- eidos_archive_read of archive_read.h: libarchive reads
 * the tar (through gzip when the data is compressed) from memory; each
 * header is checked (type, path, declared size against the remaining
 * budget) before its data is read into a buffer of exactly that size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "eidos.h"
#include "lazy.h"
#include "archive_write.h"
#include "archive_read.h"

void eidos_archive_files_free(eidos_archive_file *f, size_t n) {
  size_t i;
  if (!f) return;
  for (i = 0; i < n; i++) {
    free(f[i].path);
    free(f[i].data);
  }
  free(f);
}

static const char *type_name(unsigned t) {
  switch (t) {
    case AE_IFLNK: return "a symbolic link";
    case AE_IFCHR: return "a character device";
    case AE_IFBLK: return "a block device";
    case AE_IFIFO: return "a FIFO";
    case AE_IFSOCK: return "a socket";
    default: return "of an unsupported type";
  }
}

int eidos_archive_read(const void *data, size_t len, size_t max_size,
                       size_t max_entries, eidos_archive_file **files, size_t *n,
                       char *err, size_t errlen) {
  const struct eidos_archive *A;
  struct archive *a;
  struct archive_entry *ae;
  eidos_archive_file *f = NULL;
  size_t k = 0, cap = 0, total = 0;
  int rc = EIDOS_OK, r;

  *files = NULL;
  *n = 0;
  if (!max_size) max_size = (size_t)1 << 30;
  if (!max_entries) max_entries = 100000;
  if (!(A = eidos_lazy_archive(err, errlen))) return EIDOS_EUNAVAIL;
  if (!(a = A->archive_read_new())) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  A->archive_read_support_filter_gzip(a);
  A->archive_read_support_format_tar(a);
  if (A->archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
    rc = eidos_err(err, errlen, EIDOS_EINVAL, "not a tar or tar.gz archive: %s",
                   A->archive_error_string(a) ? A->archive_error_string(a) : "unknown format");
    goto done;
  }
  while ((r = A->archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
    const char *p = A->archive_entry_pathname(ae);
    unsigned type = A->archive_entry_filetype(ae);
    size_t pl;
    la_int64_t size = A->archive_entry_size(ae);
    eidos_archive_file *x;
    if (!p) { rc = eidos_err(err, errlen, EIDOS_EINVAL, "archive entry without a path"); goto done; }
    while (p[0] == '.' && p[1] == '/') p += 2;
    pl = strlen(p);
    while (pl && p[pl - 1] == '/') pl--;
    if (pl == 0 || (pl == 1 && p[0] == '.')) continue;   /* the top "./" itself */
    if ((rc = eidos_archive_check_path(p, pl, err, errlen))) goto done;
    if (A->archive_entry_hardlink(ae)) {
      rc = eidos_err(err, errlen, EIDOS_EINVAL, "archive entry \"%.*s\" is a hard link; "
                     "only files and directories are accepted", (int)pl, p);
      goto done;
    }
    if (type != AE_IFREG && type != AE_IFDIR) {
      rc = eidos_err(err, errlen, EIDOS_EINVAL, "archive entry \"%.*s\" is %s; only files "
                     "and directories are accepted", (int)pl, p, type_name(type));
      goto done;
    }
    if (k == max_entries) {
      rc = eidos_err(err, errlen, EIDOS_EINVAL, "archive has more than %zu entries", max_entries);
      goto done;
    }
    if (type == AE_IFREG && (size < 0 || (uint64_t)size > max_size - total)) {
      rc = eidos_err(err, errlen, EIDOS_EINVAL, "archive expands to more than %zu bytes "
                     "(at \"%.*s\")", max_size, (int)pl, p);
      goto done;
    }
    if (k == cap) {
      size_t nc = cap ? cap * 2 : 64;
      eidos_archive_file *nf = realloc(f, nc * sizeof *nf);
      if (!nf) goto oom;
      f = nf;
      cap = nc;
    }
    x = &f[k];
    memset(x, 0, sizeof *x);
    if (!(x->path = malloc(pl + 1))) goto oom;
    k++;
    memcpy(x->path, p, pl);
    x->path[pl] = '\0';
    x->mode = (unsigned)A->archive_entry_perm(ae) & 07777;
    x->dir = type == AE_IFDIR;
    if (type == AE_IFREG) {
      size_t got = 0;
      if (!(x->data = malloc(size ? (size_t)size : 1))) goto oom;
      while (got < (size_t)size) {
        la_ssize_t m = A->archive_read_data(a, x->data + got, (size_t)size - got);
        if (m <= 0) {
          rc = eidos_err(err, errlen, EIDOS_EINVAL, "archive entry \"%s\" is truncated: %s",
                         x->path, m < 0 && A->archive_error_string(a)
                         ? A->archive_error_string(a) : "end of data");
          goto done;
        }
        got += (size_t)m;
      }
      x->len = got;
      total += got;
    }
  }
  if (r != ARCHIVE_EOF) {
    const char *m = A->archive_error_string(a);
    rc = eidos_err(err, errlen, EIDOS_EINVAL, "malformed archive after %zu entries: %s", k,
                   m ? m : "unreadable header");
    goto done;
  }
  *files = f;
  *n = k;
  f = NULL;
  k = 0;
  goto done;
oom:
  rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
done:
  A->archive_read_free(a);
  eidos_archive_files_free(f, k);
  return rc;
}
