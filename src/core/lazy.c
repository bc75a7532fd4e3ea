/*
 * lazy.c -- opens heavy shared libraries on first use (see lazy.h). One
 * pthread_once per library; the result (table or error text) is kept for
 * the life of the process.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "eidos.h"
#include "lazy.h"

int eidos_lazy_open(const char *const *sonames, const char *const *syms,
                    void **table, size_t n, void **handle,
                    char *err, size_t errlen) {
  void *h = NULL;
  const char *const *s;
  size_t i;
  for (s = sonames; *s && !h; s++) h = dlopen(*s, RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return eidos_err(err, errlen, EIDOS_EUNAVAIL,
                     "cannot load shared library %s (install its package)",
                     sonames[0]);
  for (i = 0; i < n; i++) {
    table[i] = dlsym(h, syms[i]);
    if (!table[i]) {
      dlclose(h);
      return eidos_err(err, errlen, EIDOS_EUNAVAIL,
                       "shared library %s lacks symbol %s", sonames[0], syms[i]);
    }
  }
  if (handle) *handle = h;
  return EIDOS_OK;
}

#define EIDOS_LAZY_NAME(n) #n,

#define EIDOS_LAZY_LIB(lib, SYMS, ...)                                       \
  static struct eidos_##lib lib##_tab;                                      \
  static int lib##_rc;                                                      \
  static char lib##_err[256];                                               \
  static pthread_once_t lib##_once = PTHREAD_ONCE_INIT;                     \
  static void lib##_load(void) {                                            \
    static const char *const names[] = {__VA_ARGS__, NULL};                 \
    static const char *const syms[] = {SYMS(EIDOS_LAZY_NAME)};              \
    lib##_rc = eidos_lazy_open(names, syms, (void **)&lib##_tab,            \
                               sizeof syms / sizeof syms[0], NULL,          \
                               lib##_err, sizeof lib##_err);                \
  }                                                                         \
  const struct eidos_##lib *eidos_lazy_##lib(char *err, size_t errlen) {    \
    pthread_once(&lib##_once, lib##_load);                                  \
    if (lib##_rc) {                                                         \
      eidos_err(err, errlen, lib##_rc, "%s", lib##_err);                    \
      return NULL;                                                          \
    }                                                                       \
    return &lib##_tab;                                                      \
  }

EIDOS_LAZY_LIB(crypto, EIDOS_CRYPTO_SYMS, "libcrypto.so.3", "libcrypto.so")
EIDOS_LAZY_LIB(curl, EIDOS_CURL_SYMS, "libcurl.so.4", "libcurl.so")
EIDOS_LAZY_LIB(nettle, EIDOS_NETTLE_SYMS, "libnettle.so.8", "libnettle.so")
EIDOS_LAZY_LIB(archive, EIDOS_ARCHIVE_SYMS, "libarchive.so.13", "libarchive.so")
EIDOS_LAZY_LIB(zlib, EIDOS_ZLIB_SYMS, "libz.so.1", "libz.so")
