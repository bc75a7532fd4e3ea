/*
 * archive_read.h -- reading a tar or tar.gz held in memory (libarchive,
 * loaded on first use) into a list of files and directories: what an OCI
 * layer pulled from a registry holds. The input is hostile until proven
 * otherwise: only regular files and directories are accepted (symbolic
 * links, hard links, devices and FIFOs are refused, naming the entry),
 * entry paths follow the writer's rules (relative, no "..", printable
 * ASCII; a leading "./" is dropped), and the number of entries and the
 * expanded size are capped before anything is allocated for them.
 */
#ifndef EIDOS_ARCHIVE_READ_H
#define EIDOS_ARCHIVE_READ_H

#include <stddef.h>

typedef struct eidos_archive_file {
  char *path;        /* malloc'd, NUL-terminated, no trailing "/" */
  char *data;        /* malloc'd contents (NULL for directories) */
  size_t len;
  unsigned mode;     /* permission bits */
  int dir;
} eidos_archive_file;

/* Read the archive (gzip-compressed or not) of len bytes. max_size caps the
 * sum of the file sizes, max_entries the entry count (0: 1 GiB, 100000).
 * On success *files is a malloc'd array of *n entries in archive order;
 * free it with eidos_archive_files_free. EIDOS_EINVAL for a malformed
 * archive, an unsafe path, a refused entry type or a limit passed. */
int eidos_archive_read(const void *data, size_t len, size_t max_size,
                       size_t max_entries, eidos_archive_file **files, size_t *n,
                       char *err, size_t errlen);
void eidos_archive_files_free(eidos_archive_file *files, size_t n);

#endif
