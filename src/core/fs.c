/*
 * fs.c -- the file-system primitives of fs.h. Writes never leave a partial
 * file: data goes to a temporary file beside the target that is renamed
 * into place only after a successful fsync, and is unlinked on any failure.
 * Temporaries are locked by their writer and cleaned up by the next writer
 * of the same path when their own was killed. A directory replaces another
 * by an atomic exchange where the file system has one.
 * remove_tree walks with openat/unlinkat and never follows a symlink, so a
 * link inside the tree cannot make it delete outside it. join is purely
 * lexical; it does not resolve symlinks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "eidos.h"
#include "fs.h"
#include "sys.h"

#define WALK_MAX_DEPTH 128

int eidos_fs_errcode(int errnum) {
  switch (errnum) {
    case ENOENT: case ENOTDIR: return EIDOS_ENOTFOUND;
    case ENOMEM: return EIDOS_EINTERNAL;
    default: return EIDOS_EFAIL;
  }
}

/* Fail with "<what> <path>: <strerror(errnum)>". */
static int syserr(char *err, size_t errlen, int errnum, const char *what,
                  const char *path) {
  char buf[128];
  const char *msg = strerror_r(errnum, buf, sizeof buf);
  return eidos_err(err, errlen, eidos_fs_errcode(errnum), "%s %s: %s", what,
                   path, msg);
}

static int oom(char *err, size_t errlen) {
  return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Temporaries of a path are named .<name>.eidos-XXXXXX beside it (name cut
 * to TEMP_NAME_MAX bytes): the files of write_atomic, the holding
 * directories of replace_dir. Their writer holds an flock on each while it
 * lives, so one whose lock can be taken was left by a killed run. */
#define TEMP_NAME_MAX 200
#define TEMP_TAG ".eidos-"

/* *dir: the directory of path ("." when it has none); *pre: its
 * temporaries' name without the XXXXXX. Both malloc'd; -1 out of memory. */
static int temp_names(const char *path, char **dir, char **pre) {
  const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
  size_t nlen = strlen(name);
  if (nlen > TEMP_NAME_MAX) nlen = TEMP_NAME_MAX;
  *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  *pre = malloc(nlen + sizeof TEMP_TAG + 1);
  if (!*dir || !*pre) {
    free(*dir);
    free(*pre);
    return -1;
  }
  sprintf(*pre, ".%.*s" TEMP_TAG, (int)nlen, name);
  return 0;
}

/* Lock the new temporary at fd as its writer: 0, or -1 when a cleaner got
 * to it first (it is gone or going; make another). */
static int own(int fd) {
  struct stat st;
  return flock(fd, LOCK_EX | LOCK_NB) || fstat(fd, &st) || st.st_nlink == 0 ? -1 : 0;
}

int eidos_fs_clean_stale(const char *path, char *err, size_t errlen) {
  char *dir, *pre;
  DIR *d;
  struct dirent *de;
  size_t plen;
  int rc = EIDOS_OK;
  if (temp_names(path, &dir, &pre)) return oom(err, errlen);
  plen = strlen(pre);
  if (!(d = opendir(dir))) {
    free(dir);
    free(pre);
    return EIDOS_OK; /* no directory, no temporaries */
  }
  while (rc == EIDOS_OK && (de = readdir(d))) {
    struct stat st;
    char *full, *old;
    int fd;
    if (strncmp(de->d_name, pre, plen) || strlen(de->d_name + plen) != 6) continue;
    fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) || fstat(fd, &st) || asprintf(&full, "%s/%s", dir, de->d_name) < 0) {
      close(fd); /* a live writer's */
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      /* a replace cut short between its two renames: the previous content
       * waits in old while path is absent; put it back */
      if (asprintf(&old, "%s/old", full) >= 0) {
        if (access(path, F_OK) && errno == ENOENT && !access(old, F_OK)) rename(old, path);
        free(old);
      }
      rc = eidos_fs_remove_tree(full, err, errlen);
    } else if (S_ISREG(st.st_mode)) {
      unlink(full);
    }
    free(full);
    close(fd);
  }
  closedir(d);
  free(dir);
  free(pre);
  return rc;
}

/* Clean the stale temporaries of path, then make a new one beside it,
 * locked by this process: a file open for writing (isdir 0) or a directory
 * open for reading. *tmp is malloc'd. */
static int make_temp(const char *path, int isdir, char **tmp, int *fdp, char *err, size_t errlen) {
  char *dir, *pre, *p = NULL;
  int fd = -1, tries, rc, e = EAGAIN;
  if ((rc = eidos_fs_clean_stale(path, err, errlen))) return rc;
  if (temp_names(path, &dir, &pre)) return oom(err, errlen);
  for (tries = 0; fd < 0 && tries < 8; tries++) {
    free(p);
    if (asprintf(&p, "%s/%sXXXXXX", dir, pre) < 0) {
      p = NULL;
      break;
    }
    if (isdir) fd = mkdtemp(p) ? open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    else fd = mkostemp(p, O_CLOEXEC);
    if (fd < 0) {
      e = errno;
      break;
    }
    if (own(fd)) { /* a cleaner got to it first: make another */
      close(fd);
      fd = -1;
    }
  }
  free(dir);
  free(pre);
  if (fd < 0) {
    int nomem = !p;
    free(p);
    if (nomem) return oom(err, errlen);
    return syserr(err, errlen, e, isdir ? "cannot create a temporary directory beside"
                                        : "cannot create a temporary file to write", path);
  }
  *tmp = p;
  *fdp = fd;
  return EIDOS_OK;
}

int eidos_fs_write_atomic(const char *path, const void *data, size_t len,
                          mode_t mode, char *err, size_t errlen) {
  const char *slash = strrchr(path, '/');
  const char *name = slash ? slash + 1 : path;
  char *tmp, *dir;
  int fd, e, dfd, rc;
  if (!*path) return eidos_err(err, errlen, EIDOS_EINVAL, "cannot write to an empty path");
  if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "cannot write %s: it names a directory, not a file", path);
  if ((rc = make_temp(path, 0, &tmp, &fd, err, errlen))) return rc;
  /* renamed while still open, so the lock covers the temporary until it
   * has its final name; fsync has reported any write error by then */
  if (write_all(fd, data, len) || fchmod(fd, mode & 07777) || fsync(fd) || rename(tmp, path)) {
    e = errno;
    unlink(tmp);
    close(fd);
    free(tmp);
    return syserr(err, errlen, e, "cannot write", path);
  }
  close(fd);
  free(tmp);
  /* make the rename durable; a failure here does not undo the write */
  dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  free(dir);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return EIDOS_OK;
}

int eidos_fs_hold(const char *path, char **hold, int *lockfd, char *err, size_t errlen) {
  return make_temp(path, 1, hold, lockfd, err, errlen);
}

int eidos_fs_replace(const char *src, const char *path, const char *hold, char *err, size_t errlen) {
  char *old;
  int rc = EIDOS_OK;
  if (access(path, F_OK) && errno == ENOENT) return eidos_fs_rename(src, path, err, errlen);
  if (renameat2(AT_FDCWD, src, AT_FDCWD, path, RENAME_EXCHANGE) == 0) return EIDOS_OK;
  if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
    return eidos_fs_rename(src, path, err, errlen); /* the same error, with both names */
  /* no exchange on this file system: path is absent between these two
   * renames; eidos_fs_clean_stale puts old back if the process dies here */
  if (asprintf(&old, "%s/old", hold) < 0) return oom(err, errlen);
  if ((rc = eidos_fs_rename(path, old, err, errlen)) == EIDOS_OK &&
      (rc = eidos_fs_rename(src, path, err, errlen)) != EIDOS_OK)
    rename(old, path);
  free(old);
  return rc;
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int eidos_fs_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen) {
  char *p;
  size_t i, n = strlen(path);
  int rc = EIDOS_OK;
  if (n == 0) return eidos_err(err, errlen, EIDOS_EINVAL, "cannot create a directory with an empty path");
  p = strdup(path);
  if (!p) return oom(err, errlen);
  for (i = 1; i <= n; i++) {
    if (i < n && p[i] != '/') continue;
    if (p[i - 1] == '/') continue; /* repeated or trailing slash */
    p[i] = '\0';
    if (mkdir(p, mode & 07777) && errno != EEXIST) {
      rc = syserr(err, errlen, errno, "cannot create directory", p);
      break;
    }
    if (!is_dir(p)) {
      rc = eidos_err(err, errlen, EIDOS_EFAIL,
                     "cannot create directory %s: %s exists and is not a directory",
                     path, p);
      break;
    }
    if (i < n) p[i] = '/';
  }
  free(p);
  return rc;
}

int eidos_fs_join(const char *base, size_t blen, const char *rel, size_t rlen,
                  char **out, char *err, size_t errlen) {
  size_t i = 0, o, segs = 0;
  char *r;
  if (memchr(base, '\0', blen))
    return eidos_err(err, errlen, EIDOS_EINVAL, "base path \"%s...\" contains a NUL byte", base);
  if (memchr(rel, '\0', rlen))
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "path \"%s...\" contains a NUL byte (joined onto %s)", rel, base);
  if (rlen > 0 && rel[0] == '/')
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "path \"%.*s\" is absolute; expected a path relative to %s",
                     (int)rlen,
                     rel, blen ? base : ".");
  while (blen > 1 && base[blen - 1] == '/') blen--;
  r = malloc(blen + rlen + 3);
  if (!r) return oom(err, errlen);
  memcpy(r, base, blen);
  o = blen;
  /* append the normalised segments of rel; segs counts those still on r */
  while (i < rlen) {
    size_t b = i, n;
    while (i < rlen && rel[i] != '/') i++;
    n = i - b;
    i++;
    if (n == 0 || (n == 1 && rel[b] == '.')) continue;
    if (n == 2 && rel[b] == '.' && rel[b + 1] == '.') {
      if (segs == 0) {
        free(r);
        return eidos_err(err, errlen, EIDOS_EINVAL,
                         "path \"%.*s\" escapes its base directory %s",
                         (int)rlen, rel, blen ? base : ".");
      }
      while (o > blen && r[o - 1] != '/') o--;
      if (o > blen) o--; /* the slash before the dropped segment */
      segs--;
      continue;
    }
    if (o > 0 && r[o - 1] != '/') r[o++] = '/';
    memcpy(r + o, rel + b, n);
    o += n;
    segs++;
  }
  if (o == 0) r[o++] = '.';
  r[o] = '\0';
  *out = r;
  return EIDOS_OK;
}

int eidos_fs_read(const char *path, size_t max, char **out, size_t *len,
                  char *err, size_t errlen) {
  return eidos_fs_read_within(path, max, 0, out, len, err, errlen);
}

/* wait until fd (not a regular file) can be read, or the deadline (a
   value of eidos_sys_now_ms; 0: none) passes: 0, or EIDOS_ETIMEOUT. A FIFO
   with no writer yet reports nothing, so this also waits for the writer. */
static int wait_readable(int fd, long long deadline_ms, const char *path,
                         long long timeout_ms, char *err, size_t errlen) {
  for (;;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    long long left = deadline_ms ? deadline_ms - eidos_sys_now_ms() : -1;
    int r;
    if (deadline_ms && left <= 0) break;
    r = poll(&pfd, 1, left < 0 ? -1 : (int)(left > 60000 ? 60000 : left));
    if (r > 0) return 0;
    if (r < 0 && errno != EINTR)
      return syserr(err, errlen, errno, "cannot read", path);
  }
  return eidos_err(err, errlen, EIDOS_ETIMEOUT,
                   "cannot read %s: its input did not end within %lld ms "
                   "(a pipe or device that is never closed)", path, timeout_ms);
}

int eidos_fs_read_within(const char *path, size_t max, long long timeout_ms,
                         char **out, size_t *len, char *err, size_t errlen) {
  struct stat st;
  size_t cap = 4096, n = 0;
  char *buf;
  long long deadline = timeout_ms > 0 ? eidos_sys_now_ms() + timeout_ms : 0;
  int stream = 0, rc;
  /* O_NONBLOCK: opening a FIFO must not wait for its writer (the wait is
     bounded below); it changes nothing for regular files */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), e;
  if (fd < 0) return syserr(err, errlen, errno, "cannot read", path);
  if (fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      close(fd);
      return eidos_err(err, errlen, EIDOS_EINVAL, "cannot read %s: it is a directory", path);
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
      if (max && (uintmax_t)st.st_size > max) {
        close(fd);
        return eidos_err(err, errlen, EIDOS_EINVAL,
                         "cannot read %s: it has %jd bytes, more than the limit of %zu",
                         path, (intmax_t)st.st_size, max);
      }
      cap = (size_t)st.st_size + 1;
    }
    stream = !S_ISREG(st.st_mode);
  }
  buf = malloc(cap);
  if (!buf) {
    close(fd);
    return oom(err, errlen);
  }
  for (;;) {
    ssize_t r;
    if (n + 1 >= cap) {
      char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        close(fd);
        return oom(err, errlen);
      }
      buf = nb;
      cap *= 2;
    }
    if (stream && (rc = wait_readable(fd, deadline, path, timeout_ms, err, errlen))) {
      free(buf);
      close(fd);
      return rc;
    }
    r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r < 0) {
      e = errno;
      free(buf);
      close(fd);
      return syserr(err, errlen, e, "cannot read", path);
    }
    if (r == 0) break;
    n += (size_t)r;
    if (max && n > max) {
      free(buf);
      close(fd);
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "cannot read %s: it has more than the limit of %zu bytes", path, max);
    }
  }
  close(fd);
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return EIDOS_OK;
}

int eidos_fs_kind(const char *path, char *kind, char *err, size_t errlen) {
  struct stat st;
  *kind = 0;
  if (stat(path, &st)) {
    if (errno == ENOENT || errno == ENOTDIR) return EIDOS_OK;
    return syserr(err, errlen, errno, "cannot check", path);
  }
  *kind = S_ISREG(st.st_mode) ? 'f' : S_ISDIR(st.st_mode) ? 'd' : 'o';
  return EIDOS_OK;
}

static char type_of(mode_t m) {
  return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISFIFO(m) ? 'p' :
         S_ISSOCK(m) ? 's' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : '?';
}

const char *eidos_fs_typename(char type) {
  switch (type) {
    case 'f': return "file";
    case 'd': return "directory";
    case 'l': return "symlink";
    case 'p': return "FIFO";
    case 's': return "socket";
    case 'c': return "character device";
    case 'b': return "block device";
    default: return "special file";
  }
}

int eidos_fs_stat(const char *path, struct eidos_fs_info *info, char *err, size_t errlen) {
  struct stat st;
  memset(info, 0, sizeof *info);
  if (lstat(path, &st)) return syserr(err, errlen, errno, "cannot check", path);
  info->type = type_of(st.st_mode);
  info->size = (long long)st.st_size;
  {
    char *r = realpath(path, NULL);
    if (r && strlen(r) < sizeof info->real) strcpy(info->real, r);
    free(r);
  }
  if (info->type == 'l') {
    ssize_t n = readlink(path, info->link, sizeof info->link - 1);
    info->link[n > 0 ? n : 0] = '\0';
    if (stat(path, &st)) {
      const char *m;
      info->target_errno = errno;
      m = strerror_r(errno, info->target_msg, sizeof info->target_msg);
      if (m != info->target_msg) snprintf(info->target_msg, sizeof info->target_msg, "%s", m);
    } else {
      info->target = type_of(st.st_mode);
      info->size = (long long)st.st_size;
    }
  }
  return EIDOS_OK;
}

void eidos_fs_names_free(eidos_fs_names *l) {
  size_t i;
  for (i = 0; i < l->n; i++) free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->n = l->cap = 0;
}

static int list_push(eidos_fs_names *l, char *s) {
  if (!s) return -1;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **ni = realloc(l->items, cap * sizeof *ni);
    if (!ni) {
      free(s);
      return -1;
    }
    l->items = ni;
    l->cap = cap;
  }
  l->items[l->n++] = s;
  return 0;
}

static int cmpstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int eidos_fs_list(const char *dir, eidos_fs_names *out, char *err, size_t errlen) {
  DIR *d = opendir(dir);
  struct dirent *de;
  memset(out, 0, sizeof *out);
  if (!d) return syserr(err, errlen, errno, "cannot list", dir);
  while ((errno = 0, de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (list_push(out, strdup(de->d_name))) {
      closedir(d);
      eidos_fs_names_free(out);
      return oom(err, errlen);
    }
  }
  if (errno) {
    int e = errno;
    closedir(d);
    eidos_fs_names_free(out);
    return syserr(err, errlen, e, "cannot list", dir);
  }
  closedir(d);
  if (out->n) qsort(out->items, out->n, sizeof *out->items, cmpstr);
  return EIDOS_OK;
}

/* Walk full (a path buffer of which the first root bytes are the walk
 * root and a slash) adding paths relative to the root. */
static int walk(char **full, size_t *cap, size_t len, size_t root, int depth,
                eidos_fs_names *out, char *err, size_t errlen) {
  DIR *d;
  struct dirent *de;
  int rc = EIDOS_OK;
  if (depth > WALK_MAX_DEPTH)
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "cannot walk %s: directories nested more than %d deep",
                     *full, WALK_MAX_DEPTH);
  d = opendir(*full);
  if (!d) return syserr(err, errlen, errno, "cannot list", *full);
  while (rc == EIDOS_OK && (errno = 0, de = readdir(d))) {
    struct stat st;
    size_t n = strlen(de->d_name);
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (len + n + 2 > *cap) {
      char *nf = realloc(*full, (len + n + 2) * 2);
      if (!nf) { rc = oom(err, errlen); break; }
      *full = nf;
      *cap = (len + n + 2) * 2;
    }
    (*full)[len] = '/';
    memcpy(*full + len + 1, de->d_name, n + 1);
    if (lstat(*full, &st)) {
      rc = syserr(err, errlen, errno, "cannot check", *full);
    } else if (S_ISDIR(st.st_mode)) {
      rc = walk(full, cap, len + 1 + n, root, depth + 1, out, err, errlen);
    } else if (S_ISREG(st.st_mode) ||
               (S_ISLNK(st.st_mode) && stat(*full, &st) == 0 && S_ISREG(st.st_mode))) {
      if (list_push(out, strdup(*full + root))) rc = oom(err, errlen);
    }
    (*full)[len] = '\0';
  }
  if (rc == EIDOS_OK && errno) rc = syserr(err, errlen, errno, "cannot list", *full);
  closedir(d);
  return rc;
}

int eidos_fs_walk(const char *dir, eidos_fs_names *out, char *err, size_t errlen) {
  size_t len = strlen(dir), cap = len + 256;
  char *full = malloc(cap);
  int rc;
  memset(out, 0, sizeof *out);
  if (!full) return oom(err, errlen);
  memcpy(full, dir, len + 1);
  rc = walk(&full, &cap, len, len + 1, 0, out, err, errlen);
  free(full);
  if (rc) {
    eidos_fs_names_free(out);
    return rc;
  }
  if (out->n) qsort(out->items, out->n, sizeof *out->items, cmpstr);
  return EIDOS_OK;
}

int eidos_fs_rename(const char *from, const char *to, char *err, size_t errlen) {
  char buf[128];
  if (rename(from, to) == 0) return EIDOS_OK;
  return eidos_err(err, errlen, eidos_fs_errcode(errno), "cannot rename %s to %s: %s",
                   from, to, strerror_r(errno, buf, sizeof buf));
}

/* Remove everything inside the open directory dfd (path is for messages);
 * closes dfd. */
static int rm_contents(int dfd, const char *path, int depth, char *err, size_t errlen) {
  DIR *d = fdopendir(dfd);
  struct dirent *de;
  int rc = EIDOS_OK;
  if (!d) {
    int e = errno;
    close(dfd);
    return syserr(err, errlen, e, "cannot list", path);
  }
  if (depth > WALK_MAX_DEPTH) {
    closedir(d);
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "cannot remove %s: directories nested more than %d deep", path,
                     WALK_MAX_DEPTH);
  }
  while (rc == EIDOS_OK && (errno = 0, de = readdir(d))) {
    struct stat st;
    const char *nm = de->d_name;
    if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
    if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW)) {
      if (errno != ENOENT) rc = syserr(err, errlen, errno, "cannot remove an entry of", path);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      int cfd = openat(dirfd(d), nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      char *sub;
      if (cfd < 0) { rc = syserr(err, errlen, errno, "cannot remove an entry of", path); break; }
      if (asprintf(&sub, "%s/%s", path, nm) < 0) { close(cfd); rc = oom(err, errlen); break; }
      rc = rm_contents(cfd, sub, depth + 1, err, errlen);
      if (rc == EIDOS_OK && unlinkat(dirfd(d), nm, AT_REMOVEDIR))
        rc = syserr(err, errlen, errno, "cannot remove", sub);
      free(sub);
    } else if (unlinkat(dirfd(d), nm, 0) && errno != ENOENT) {
      rc = syserr(err, errlen, errno, "cannot remove an entry of", path);
    }
  }
  if (rc == EIDOS_OK && errno) rc = syserr(err, errlen, errno, "cannot list", path);
  closedir(d);
  return rc;
}

int eidos_fs_remove_tree(const char *path, char *err, size_t errlen) {
  size_t n = strlen(path);
  const char *last;
  struct stat st;
  int fd, rc;
  while (n > 1 && path[n - 1] == '/') n--;
  last = path + n;
  while (last > path && last[-1] != '/') last--;
  if (n == 0 || (n == 1 && path[0] == '/') ||
      (path + n - last == 1 && last[0] == '.') ||
      (path + n - last == 2 && last[0] == '.' && last[1] == '.'))
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "refusing to remove \"%s\": empty, the root, \".\" or \"..\"", path);
  if (lstat(path, &st)) {
    if (errno == ENOENT) return EIDOS_OK;
    return syserr(err, errlen, errno, "cannot remove", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path) && errno != ENOENT) return syserr(err, errlen, errno, "cannot remove", path);
    return EIDOS_OK;
  }
  fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return syserr(err, errlen, errno, "cannot remove", path);
  rc = rm_contents(fd, path, 0, err, errlen);
  if (rc) return rc;
  if (rmdir(path) && errno != ENOENT) return syserr(err, errlen, errno, "cannot remove", path);
  return EIDOS_OK;
}

int eidos_fs_mkdtemp(const char *prefix, char **out, char *err, size_t errlen) {
  size_t n = strlen(prefix);
  char *p = malloc(n + 7);
  if (!p) return oom(err, errlen);
  memcpy(p, prefix, n);
  memcpy(p + n, "XXXXXX", 7);
  if (!mkdtemp(p)) {
    int e = errno;
    free(p);
    return syserr(err, errlen, e, "cannot create a temporary directory from prefix", prefix);
  }
  *out = p;
  return EIDOS_OK;
}
