/*
 * k8s.h -- the mechanics of talking to a Kubernetes API server: one request
 * primitive with authentication, retries and errors that name what was
 * asked. Resolving a kubeconfig, parsing JSON, paging, running exec
 * credential plugins (eidos.core.proc) and caching their credentials are
 * done in Lua (lua/eidos/k8s/) on top of this.
 *
 * A client is immutable after creation except for its credentials, which
 * are guarded by a mutex, so one client may be shared by several threads;
 * each thread uses its own reused connection (see http.h).
 */
#ifndef EIDOS_K8S_H
#define EIDOS_K8S_H

#include <stddef.h>
#include "http.h"

struct eidos_k8s_conn {
  const char *server;          /* https://host:port[/prefix] */
  struct eidos_tls tls;        /* CA and client certificate (http.h) */
  const char *token;           /* bearer token, or NULL */
  const char *token_file;      /* re-read whenever it changes, or NULL */
  int insecure;                /* skip server certificate verification */
  long connect_timeout_ms;     /* 0: 10 s */
  long timeout_ms;             /* per attempt; 0: 30 s */
  int max_attempts;            /* 0: 3 */
  long backoff_ms;             /* first backoff; 0: 200 ms (then x2, jittered) */
  long max_wait_ms;            /* cap on one backoff or Retry-After wait; 0: 30 s */
  const char *user_agent;      /* NULL: "eidos" */
};

typedef struct eidos_k8s_client eidos_k8s_client;

int eidos_k8s_new(const struct eidos_k8s_conn *conn, eidos_k8s_client **out,
                  char *err, size_t errlen);
void eidos_k8s_free(eidos_k8s_client *c);

/* Replace the credentials obtained from an exec plugin: a bearer token
 * and/or a client certificate and key (PEM). NULL leaves a field as is;
 * "" clears it. */
int eidos_k8s_set_credentials(eidos_k8s_client *c, const char *token,
                              const char *cert_pem, const char *key_pem,
                              char *err, size_t errlen);

struct eidos_k8s_req {
  const char *method;          /* GET POST PUT PATCH DELETE */
  const char *path;            /* "/api/v1/..." with any query string */
  const char *body; size_t body_len;
  const char *content_type;    /* NULL: application/json */
  const char *accept;          /* NULL: application/json */
  long timeout_ms;             /* 0: the client's */
  int max_attempts;            /* 0: the client's */
  size_t max_size;             /* 0: 256 MiB */
};

struct eidos_k8s_resp {
  long status;                 /* HTTP status of the last attempt (0: none) */
  char *body;                  /* malloc'd, NUL-terminated, or NULL */
  size_t body_len;
  char content_type[128];
  char reason[64];             /* Status.reason of a failure ("NotFound", ...) */
  int attempts;
  char *warnings;              /* malloc'd text of the response's Warning
                                  headers (299 - "text": deprecations, unknown
                                  fields, Pod Security), each ended by '\n',
                                  at most EIDOS_K8S_WARNINGS_MAX bytes; NULL
                                  when there is none */
  size_t warnings_len;
};

#define EIDOS_K8S_WARNINGS_MAX 8192u

/* Perform the request, retrying 429 (after Retry-After), 5xx, timeouts and
 * connection failures with exponential backoff and jitter, at most
 * max_attempts times in all (a POST is not retried after a timeout: it may
 * have been applied). Returns 0 for a 2xx response. Otherwise a negative
 * code and a message naming the verb, resource, namespace, HTTP status and
 * the server's message (and, after several attempts, what each returned):
 *   401/403 EIDOS_EAUTH (a 403 names the missing RBAC rule), 404
 *   EIDOS_ENOTFOUND, 400/413/415/422 EIDOS_EINVAL, 429 EIDOS_ERATE,
 *   5xx EIDOS_EUNAVAIL, 409/410/other EIDOS_EFAIL; transport failures as
 *   in http.h.
 * resp is always filled (status, body, reason, warnings) so that the
 * caller can tell AlreadyExists from Conflict; free it with
 * eidos_k8s_resp_free. */
int eidos_k8s_request(eidos_k8s_client *c, const struct eidos_k8s_req *req,
                      struct eidos_k8s_resp *resp, char *err, size_t errlen);
void eidos_k8s_resp_free(struct eidos_k8s_resp *resp);

/* Describe a request the way errors do: "list pods in all namespaces",
 * "get configmaps \"x\" in namespace \"ns\"", "create jobs.batch ...".
 * Fills the RBAC attributes when non-NULL (each buffer 128 bytes). */
void eidos_k8s_describe(const char *method, const char *path, char *out,
                        size_t outlen, char *verb, char *group,
                        char *resource, char *ns);

#endif
