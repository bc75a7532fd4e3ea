/*
 * pool.c -- the pools of Lua threads of eidosd. A pool (--handlers for the
 * API's recipe, query and index routes, --bundlers for POST /v1/bundle) is
 * a queue of jobs, bounded by --queue-limit, and threads that each own one
 * Lua state, loaded once at start through eidos.api.server.worker (which
 * returns the request handler), and take the jobs in order. Bundles have
 * their own threads so a recipe never waits behind a bundle build; the I/O
 * threads never run Lua, so the probes and cached answers never wait at
 * all. A job cancelled while it waited (deadline passed, client gone,
 * shutdown) is skipped; one cancelled while it runs is stopped by the count
 * hook of job.c as soon as control is back in Lua. At shutdown a thread
 * still busy after the deadline is left behind (not joined): the process
 * exits without it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "../host/state.h"
#include "server.h"

struct srv_exec {
  struct srv_pool *pool;
  int id;                    /* 0.. over every pool (the first reports load errors) */
  pthread_t th;
  lua_State *L;
  int handler_ref;
  struct srv_metrics *m;
  int state;                 /* 0 starting, 1 ready, -code failed (pool lock) */
  atomic_int done;
};

struct srv_pool {
  int kind, n;
  pthread_mutex_t mu;
  pthread_cond_t cv, ready;
  struct srv_job *head, *tail;
  long queued, limit;
  int stop;
  struct srv_exec ex[];
};


/* Lua: require("eidos.api.server").worker(args, id, server) -> handler | nil,
 * exitcode (server: the capability table of src/server/lserver.c) */
static int load_lua(struct srv_exec *e) {
  lua_State *L = eidos_host_newstate();
  int rc;
  if (!L) {
    srv_log(4, "cannot create a Lua state: out of memory", NULL);
    return 8;
  }
  if ((rc = srv_api_prepare(L, "worker")) == LUA_OK) {
    lua_pushinteger(L, e->id);
    if ((rc = srv_lua_server(L, e->m, srv_pool_name(e->pool->kind))) == LUA_OK)
      rc = lua_pcall(L, 3, 2, 1);
  }
  if (rc != LUA_OK) {
    char extra[1200];
    const char *msg = lua_tostring(L, -1);
    size_t n = (size_t)snprintf(extra, sizeof extra, ",\"error\":");
    srv_json_str(extra + n, sizeof extra - n - 1, msg ? msg : "?", msg ? strlen(msg) : 1);
    srv_log(4, "a Lua thread failed to load the API", extra);
    lua_close(L);
    return 8;
  }
  if (!lua_isfunction(L, -2)) { /* nil, exit code: Lua has logged why */
    int code = (int)luaL_optinteger(L, -1, 1);
    lua_close(L);
    return code ? code : 1;
  }
  lua_pop(L, 1);
  e->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, 0);
  /* requests make short-lived garbage: the generational collector keeps
   * the pauses short and the heap close to what is live */
  lua_gc(L, LUA_GCGEN, 0, 0);
  e->L = L;
  return 0;
}

static void set_state(struct srv_exec *e, int state) {
  pthread_mutex_lock(&e->pool->mu);
  e->state = state;
  pthread_cond_broadcast(&e->pool->ready);
  pthread_mutex_unlock(&e->pool->mu);
}

static void *exec_main(void *arg) {
  struct srv_exec *e = arg;
  struct srv_pool *p = e->pool;
  int code;
  if ((code = load_lua(e)) != 0) {
    set_state(e, -code);
    atomic_store(&e->done, 1);
    return NULL;
  }
  set_state(e, 1);
  for (;;) {
    struct srv_job *j;
    int s = JOB_QUEUED;
    pthread_mutex_lock(&p->mu);
    while (!p->head && !p->stop) pthread_cond_wait(&p->cv, &p->mu);
    if (!p->head) { /* stopping and nothing left */
      pthread_mutex_unlock(&p->mu);
      break;
    }
    j = p->head;
    p->head = j->qnext;
    if (!p->head) p->tail = NULL;
    p->queued--;
    pthread_mutex_unlock(&p->mu);
    srv_metrics_gauge(e->m, 2, -1);
    if (atomic_compare_exchange_strong(&j->state, &s, JOB_RUNNING)) {
      srv_metrics_gauge(e->m, 3, 1);
      srv_job_run(j, e->L, e->handler_ref);
      s = JOB_RUNNING;
      atomic_compare_exchange_strong(&j->state, &s, JOB_DONE);
      srv_metrics_gauge(e->m, 3, -1);
    }
    srv_job_return(j);
  }
  lua_close(e->L);
  e->L = NULL;
  atomic_store(&e->done, 1);
  return NULL;
}

struct srv_pool *srv_pool_start(int kind, int n, long limit, int first_id) {
  struct srv_pool *p = calloc(1, sizeof *p + (size_t)n * sizeof(struct srv_exec));
  pthread_attr_t a;
  int i;
  if (!p) return NULL;
  p->kind = kind;
  p->n = n;
  p->limit = limit;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  pthread_cond_init(&p->ready, NULL);
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 8u << 20); /* Lua and the emitters recurse */
  for (i = 0; i < n; i++) {
    struct srv_exec *e = &p->ex[i];
    e->pool = p;
    e->id = first_id + i;
    e->handler_ref = LUA_NOREF;
    if (!(e->m = srv_metrics_new()) || pthread_create(&e->th, &a, exec_main, e) != 0) {
      pthread_attr_destroy(&a);
      return NULL;
    }
  }
  pthread_attr_destroy(&a);
  return p;
}

int srv_pool_wait_ready(struct srv_pool *p) {
  int i, code = 0;
  pthread_mutex_lock(&p->mu);
  for (i = 0; i < p->n; i++) {
    while (p->ex[i].state == 0) pthread_cond_wait(&p->ready, &p->mu);
    if (p->ex[i].state < 0 && !code) code = -p->ex[i].state;
  }
  pthread_mutex_unlock(&p->mu);
  return code;
}

int srv_pool_submit(struct srv_pool *p, struct srv_job *j) {
  size_t held = atomic_fetch_add(&G.job_bytes, j->bytes);
  if (held > 0 && held + j->bytes > G.job_bytes_max) {
    atomic_fetch_sub(&G.job_bytes, j->bytes);
    return -2;
  }
  pthread_mutex_lock(&p->mu);
  if (p->queued >= p->limit || p->stop) {
    pthread_mutex_unlock(&p->mu);
    atomic_fetch_sub(&G.job_bytes, j->bytes);
    return -1;
  }
  j->qnext = NULL;
  if (p->tail) p->tail->qnext = j;
  else p->head = j;
  p->tail = j;
  p->queued++;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  srv_metrics_gauge(j->w->m, 2, 1);
  return 0;
}

void srv_pool_stop(struct srv_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

int srv_pool_join(struct srv_pool *p, uint64_t until_ns) {
  int i, busy = 0;
  struct timespec tick = {0, 10 * 1000000};
  if (!p) return 0;
  for (i = 0; i < p->n; i++) {
    while (!atomic_load(&p->ex[i].done) && srv_mono_ns() < until_ns) nanosleep(&tick, NULL);
    if (atomic_load(&p->ex[i].done)) pthread_join(p->ex[i].th, NULL);
    else busy++;
  }
  return busy;
}
