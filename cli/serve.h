/* serve.h - `vericite serve` inside: the pool of per-worker contexts and the API endpoints
 * (serve_api.c), shared with the HTTP layer (cmd_serve.c). Not a public header: cli/ only. */
#ifndef VC_SERVE_H
#define VC_SERVE_H

#include <pthread.h>
#include <stddef.h>

#include "err.h"
#include "verify/ver.h"

struct json_t;
struct ret_reranker;

#define SERVE_MAX_K 1000 /* largest "k" of /v1/search */

/* What one worker needs to answer a request alone: SQLite handles, retrievers and auditors are not
 * thread-safe, so every worker thread checks one of these out for the length of a request. */
struct serve_ctx {
    struct idx *ix;            /* read-only handle on the shared index */
    struct ret *r;             /* retriever over ix */
    struct ver_auditor *au;    /* auditor over ix (its fetch cache is not written: read-only) */
    struct ver_extractor *x;   /* compiled citation patterns */
    struct ret_hit *hits;      /* (SERVE_MAX_K) scratch for /v1/search */
    struct ret_reranker *rr;   /* the service's reranker (--rerank, --rerank-url), or NULL */
    int rerank_depth;          /* its depth (0: RET_RERANK_DEFAULT_DEPTH) */
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

/* Field `name` of `body` as a string into *val (NULL when absent and not required). Returns 0, or
 * 400 with *out set to the error: a missing required field, another type, or (nonempty) "". */
int serve_get_string(struct json_t *body, const char *name, int required, int nonempty, const char **val,
                     struct json_t **out);
/* The article format named `name` (auto, wikitext, markdown, claims) into *fmt. Returns 0, or 400
 * with *out set to the error. */
int serve_get_format(const char *name, enum ver_format *fmt, struct json_t **out);

/* ---------------------------------------------------------------- batch jobs (serve_jobs.c)
 * POST /v1/jobs queues a batch audit of inline articles; up to `max_running` jobs run at once,
 * each through verify/'s batch runner (ver_batch_*) with `workers` threads. A running job writes
 * its results into the served index through its own read-write connections (one per worker, and
 * one for the job itself); the request workers keep their read-only handles, and SQLite's WAL
 * lets those readers go on while one writer at a time stores an article. GET /v1/jobs/ID answers
 * from memory (state, progress) and, when the job is done, reads its stored records back through
 * a pool context. Jobs live in memory: a restarted server knows none, but their results are in
 * the index, so posting the same articles again (with names) skips what was stored. */

#define SERVE_JOBS_MAX_RUNNING 16   /* largest --max-jobs */
#define SERVE_JOBS_MAX_QUEUED 16    /* jobs waiting to run (503 beyond) */
#define SERVE_JOBS_KEEP 100         /* finished jobs remembered (the oldest are forgotten: 404) */
#define SERVE_JOBS_MAX_ARTICLES 10000 /* articles in one job (413 beyond) */
#define SERVE_JOBS_PAGE 500         /* results per GET by default ... */
#define SERVE_JOBS_MAX_PAGE 5000    /* ... and at most */

struct serve_job;

struct serve_jobs {
    pthread_mutex_t mu;
    pthread_cond_t work;       /* a job was queued, or the service stops */
    struct serve_job **v;      /* (n) every known job, oldest first; owned */
    size_t n, cap;
    unsigned long next_id;
    pthread_t *runners;        /* (nrunners) threads that run queued jobs */
    int nrunners, max_running, workers;
    int stopping;
    char *db;                  /* the index folder (owned) */
    struct ver_audit_opts vo;  /* the service's audit options (pointers borrowed) */
    int inited;
};

/* Start `max_running` job runner threads over index `db` (0: jobs are off and the endpoints
 * answer 404). `vo` is copied (its pointers must outlive the jobs). On failure everything is
 * released and err says why. */
int serve_jobs_init(struct serve_jobs *j, const char *db, int max_running, int workers,
                    const struct ver_audit_opts *vo, struct err *err);
/* Stop: running jobs are cancelled (their articles being audited are finished and stored), the
 * runners joined, every job freed. Safe on a zeroed or half-built struct. */
void serve_jobs_cleanup(struct serve_jobs *j);
/* POST /v1/jobs: {"articles": [{"text": ARTICLE, "title": T, "format": F, "name": N}, ...]}.
 * 202 with *out = {"id", "state": "queued", "location"} and `location` (n bytes) set to
 * "/v1/jobs/ID"; 400 (malformed), 413 (too many articles), 503 (too many jobs waiting; *retry_after
 * set in seconds), 404 (jobs off). */
int serve_jobs_create(struct serve_jobs *j, struct json_t *body, struct json_t **out, char *location, size_t n,
                      int *retry_after);
/* GET /v1/jobs/ID: `id` is the part after the prefix, `offset`/`limit` the query arguments (NULL
 * when absent). 200 with the job's state, progress and, when done, a page of its results; 404
 * (unknown id), 400 (bad offset/limit). Reads stored records through a context of `pool`. */
int serve_jobs_get(struct serve_jobs *j, struct serve_pool *pool, const char *id, const char *offset,
                   const char *limit, struct json_t **out);

/* ================================================================ connection deadlines (serve_conn.c)
 * Every open connection is registered (from libmicrohttpd's connection notifications) with the
 * phase it is in; a watchdog thread shuts down the socket of one whose phase ran past its
 * deadline, counted from the phase's start (not reset by each byte as libmicrohttpd's idle
 * timeout is). */
enum serve_phase {
    SERVE_PH_HEADER = 0, /* waiting for a request's header (a new connection, or a kept-alive one
                            after its response): --header-timeout */
    SERVE_PH_BODY,       /* the header is in, the body arriving: --body-timeout */
    SERVE_PH_WORK        /* the request is being answered: no deadline */
};
struct serve_conns;
struct serve_conn;
/* Start the watchdog: `header_s` and `body_s` seconds (0: no deadline for that phase). On
 * success *out is owned by the caller (serve_conns_free, after the daemon has stopped). */
int serve_conns_new(struct serve_conns **out, double header_s, double body_s, struct err *err);
/* Stop the watchdog and free every record. NULL is allowed. */
void serve_conns_free(struct serve_conns *w);
/* A connection on socket `fd` (borrowed) from `client` (copied) opened, in SERVE_PH_HEADER. Returns
 * its record (owned by w until serve_conns_close), or NULL when out of memory (then it has no
 * deadline). */
struct serve_conn *serve_conns_open(struct serve_conns *w, int fd, const char *client);
/* The connection closed: forget and free `c` (NULL allowed). Must come before its socket is
 * closed (libmicrohttpd notifies first). */
void serve_conns_close(struct serve_conns *w, struct serve_conn *c);
/* `c` (NULL allowed) entered phase `ph` now. */
void serve_conns_phase(struct serve_conns *w, struct serve_conn *c, enum serve_phase ph);
/* Connections open now and how many were shut down for each deadline so far; any may be NULL. */
void serve_conns_counts(struct serve_conns *w, long *open, long *cut_header, long *cut_body);

#endif
