/*
 * dl.h -- the generic half of lazy loading (see lazy.h): open the first
 * loadable name of a list and resolve a table of symbols. Kept apart from
 * lazy.h so that modules with their own small tables (NVML, libsystemd) do
 * not pull in the OpenSSL, curl and libarchive headers.
 */
#ifndef EIDOS_DL_H
#define EIDOS_DL_H
#include <stddef.h>

/* Open the first loadable name of a NULL-terminated list and resolve n
 * symbols into table (an array of void pointers). Returns 0 or
 * EIDOS_EUNAVAIL with a message naming the library or the missing symbol. */
int eidos_lazy_open(const char *const *sonames, const char *const *syms,
                    void **table, size_t n, void **handle,
                    char *err, size_t errlen);

#endif
