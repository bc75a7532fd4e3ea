/*
 * eidos.c -- the error-code names and the error-buffer helper shared by all
 * core modules (see eidos.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include "eidos.h"

const char *eidos_strcode(int code) {
  switch (code) {
    case EIDOS_OK: return "ok";
    case EIDOS_EFAIL: return "failure";
    case EIDOS_EINVAL: return "invalid";
    case EIDOS_ENOTFOUND: return "notfound";
    case EIDOS_EAUTH: return "unauthorized";
    case EIDOS_ETIMEOUT: return "timeout";
    case EIDOS_EUNAVAIL: return "unavailable";
    case EIDOS_ERATE: return "ratelimited";
    default: return "internal";
  }
}

int eidos_err(char *err, size_t errlen, int code, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}
