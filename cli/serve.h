/* serve.h - `vericite serve` inside: the pool of per-worker contexts and the API endpoints
 * (serve_api.c), shared with the HTTP layer (cmd_serve.c). Not a public header: cli/ only. */
#ifndef VC_SERVE_H
#define VC_SERVE_H

#include <pthread.h>
#include <stddef.h>

#include "err.h"
#include "verify/ver.h"

struct json_t;

#define SERVE_MAX_K 1000 /* largest "k" of /v1/search */

/* What one worker needs to answer a request alone: SQLite handles, retrievers and auditors are not
 * thread-safe, so every worker thread checks one of these out for the length of a request. */
struct serve_ctx {
    struct idx *ix;            /* read-only handle on the shared index */
    struct ret *r;             /* retriever over ix */
    struct ver_auditor *au;    /* auditor over ix (its fetch cache is not written: read-only) */
    struct ver_extractor *x;   /* compiled citation patterns */
    struct ret_hit *hits;      /* (SERVE_MAX_K) scratch for /v1/search */
    struct serve_ctx *next;    /* free list link */
};

/* The contexts, and the count of requests in flight (for a clean shutdown). Lives in the struct
 * passed to libmicrohttpd as its closure; no globals. */
struct serve_pool {
    pthread_mutex_t mu;
    pthread_cond_t freed;   /* a context came back */
    struct serve_ctx *ctxs; /* (n), owned */
    struct serve_ctx *free_list;
    char *db;     /* the index folder as given (owned), for /v1/stats */
    int n;
    int active;   /* requests between their first callback and their completion */
    int draining; /* a signal came: answer with Connection: close */
    int inited;   /* mutex and conditions exist */
};

/* Open `n` contexts on the index `db` (read-only), each with an auditor using `vo` (copied).
 * On failure everything made so far is released and err says why. */
int serve_pool_init(struct serve_pool *p, const char *db, int n, const struct ver_audit_opts *vo,
                    struct err *err);
/* Close every context and destroy the locks. Safe on a zeroed or half-built pool. */
void serve_pool_cleanup(struct serve_pool *p);
/* Take a free context, waiting for one when all are busy. Give it back with serve_pool_put(). */
struct serve_ctx *serve_pool_get(struct serve_pool *p);
void serve_pool_put(struct serve_pool *p, struct serve_ctx *c);

/* The endpoints. `body` is the parsed request object (NULL for GET). Each returns the HTTP
 * status and sets *out to the response object (the caller decrefs): the result on 200, else
 * {"error": "..."}. *out is NULL only when out of memory. */
int serve_api_health(struct serve_pool *p, struct json_t *body, struct json_t **out);
int serve_api_stats(struct serve_pool *p, struct json_t *body, struct json_t **out);
int serve_api_search(struct serve_pool *p, struct json_t *body, struct json_t **out);
int serve_api_verify(struct serve_pool *p, struct json_t *body, struct json_t **out);
int serve_api_audit(struct serve_pool *p, struct json_t *body, struct json_t **out);

/* {"error": printf message} (NULL when out of memory). */
struct json_t *serve_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
