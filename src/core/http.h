/*
 * http.h -- a small HTTP(S) client on libcurl (loaded lazily, see lazy.h).
 * One request at a time per thread: each thread keeps one CURL handle that
 * is reused between requests, so connections, TLS sessions and the DNS
 * cache survive from one request to the next (the handle is freed when the
 * thread exits). Used by the Kubernetes client (k8s.c) and for plain
 * http(s):// inputs. Proxy environment variables (https_proxy, no_proxy,
 * ...) are honoured as libcurl does by default.
 *
 * eidos_http_do returns 0 whenever an HTTP response arrived, whatever its
 * status; the caller judges the status. Transport failures return:
 *   EIDOS_ETIMEOUT  connect or total timeout
 *   EIDOS_EUNAVAIL  DNS, connect, TLS handshake or verification failure
 *   EIDOS_EINVAL    bad URL or options; response larger than max_size;
 *                   redirect to a scheme that is not allowed
 *   EIDOS_EFAIL     anything else
 */
#ifndef EIDOS_HTTP_H
#define EIDOS_HTTP_H

#include <stddef.h>

#define EIDOS_HTTP_DEFAULT_MAX (16u * 1024u * 1024u)

/* TLS material: each of CA, client certificate and key comes from a file
 * or from PEM bytes in memory (a _pem_len of 0 means NUL-terminated). Also
 * part of a Kubernetes connection (k8s.h). */
struct eidos_tls {
  const char *ca_file;
  const char *ca_pem; size_t ca_pem_len;
  const char *cert_file;
  const char *cert_pem; size_t cert_pem_len;
  const char *key_file;
  const char *key_pem; size_t key_pem_len;
};

struct eidos_http_req {
  const char *method;          /* NULL: GET */
  const char *url;
  const char *const *headers;  /* NULL-terminated "Name: value" list, or NULL */
  const char *body;            /* request body, or NULL */
  size_t body_len;
  long connect_timeout_ms;     /* 0: 10 s */
  long timeout_ms;             /* total; 0: 30 s */
  size_t max_size;             /* response body limit; 0: 16 MiB */
  int max_redirects;           /* 0: redirects are not followed; when
                                  followed, only to https:// targets */
  const char *user_agent;      /* NULL: "eidos" */
  struct eidos_tls tls;         /* verification is on unless insecure is set */
  int insecure;
};

struct eidos_http_resp {
  long status;                 /* HTTP status code */
  char *body;                  /* malloc'd, NUL-terminated (body_len excludes it) */
  size_t body_len;
  char content_type[128];      /* "" when absent */
  long retry_after;            /* seconds from Retry-After, 0 when absent */
  char *effective_url;         /* malloc'd URL after redirects */
  int curl_code;               /* raw libcurl result (0: ok) */
  int failure;                 /* EIDOS_HTTP_F_* class of a transport failure */
  char *headers;               /* malloc'd header lines of the final response,
                                  "Name: value\n" each (status line and CR
                                  dropped; at most EIDOS_HTTP_HEADERS_MAX) */
  size_t headers_len;
};

#define EIDOS_HTTP_HEADERS_MAX (64u * 1024u)

/* What a transport failure means for a retry. */
#define EIDOS_HTTP_F_NONE     0  /* a response arrived */
#define EIDOS_HTTP_F_NOTSENT  1  /* DNS or connect failed: the server saw nothing */
#define EIDOS_HTTP_F_BROKEN   2  /* connection broke or timed out mid-exchange */
#define EIDOS_HTTP_F_FATAL    3  /* TLS verification, bad options, size limit, ... */

/* Perform one request. resp is always initialised (free it with
 * eidos_http_resp_free, also after a failure). */
int eidos_http_do(const struct eidos_http_req *req, struct eidos_http_resp *resp,
                  char *err, size_t errlen);
void eidos_http_resp_free(struct eidos_http_resp *resp);

/* Free this thread's reusable handle now (it is also freed at thread exit). */
void eidos_http_thread_cleanup(void);

#endif
