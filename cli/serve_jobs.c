/* serve_jobs.c - batch jobs of `vericite serve`: POST /v1/jobs queues a batch audit of inline
 * articles, runner threads take queued jobs and run each through verify/'s batch runner (the one
 * `audit --jobs N` uses), and GET /v1/jobs/ID reports state, progress and, once done, the stored
 * records in pages. See serve.h for how jobs write the served index. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "vec.h"
#include "verify/ver.h"

#define JOB_MAX_PROBLEMS 100 /* per-article errors kept per job */

enum job_state { JOB_QUEUED = 0, JOB_RUNNING, JOB_DONE, JOB_FAILED };
static const char *const job_state_names[] = {"queued", "running", "done", "failed"};

/* An article of a job waiting to run. */
struct job_article {
    char *name, *title, *text;
    size_t len;
    enum ver_format fmt;
};

/* A delivered article: its key in the store and how many records it has. */
struct job_key {
    char *path;
    char hash[17];
    int n;
};

struct serve_job {
    unsigned long id;
    enum job_state state;
    struct job_article *arts; /* (narts) until the job has run */
    size_t narts;
    long total;               /* articles in the job */
    struct job_key *keys;     /* (nkeys) in input order, as the runner delivers them */
    size_t nkeys, capkeys;
    long results;             /* records of the delivered articles */
    struct ver_batch_progress p;
    json_t *problems;         /* [{"article", "error"}], at most JOB_MAX_PROBLEMS */
    char error[ERR_MSG_MAX];  /* why the job failed */
};

static void job_free_articles(struct serve_job *job)
{
    for (size_t i = 0; i < job->narts; i++) {
        free(job->arts[i].name);
        free(job->arts[i].title);
        free(job->arts[i].text);
    }
    free(job->arts);
    job->arts = NULL;
    job->narts = 0;
}

static void job_free(struct serve_job *job)
{
    if (!job) return;
    job_free_articles(job);
    for (size_t i = 0; i < job->nkeys; i++) free(job->keys[i].path);
    free(job->keys);
    json_decref(job->problems);
    free(job);
}

/* ---------------------------------------------------------------- running a job */

/* The sink of a running job: called with the batch's lock held, takes the jobs' lock. */
struct job_run {
    struct serve_jobs *j;
    struct serve_job *job;
};

static int job_article(void *ctx, size_t seq, const char *path, const char *hash, int nrecords,
                       enum ver_batch_outcome outcome, struct err *err)
{
    (void)seq, (void)outcome;
    struct job_run *r = ctx;
    char *p = strdup(path);
    pthread_mutex_lock(&r->j->mu);
    int stopping = r->j->stopping, bad = !p || vec_grow((void **)&r->job->keys, &r->job->capkeys,
                                                         r->job->nkeys + 1, sizeof *r->job->keys);
    if (!bad) {
        struct job_key *k = &r->job->keys[r->job->nkeys++];
        k->path = p;
        memcpy(k->hash, hash, 17);
        k->n = nrecords;
        r->job->results += nrecords;
        p = NULL;
    }
    pthread_mutex_unlock(&r->j->mu);
    free(p);
    if (bad) return err_set(err, ERR_NOMEM, "job");
    if (stopping) return err_set(err, ERR_ARG, "cancelled: the service is stopping");
    return ERR_OK;
}

static void job_progress(void *ctx, const struct ver_batch_progress *p)
{
    struct job_run *r = ctx;
    pthread_mutex_lock(&r->j->mu);
    r->job->p = *p;
    pthread_mutex_unlock(&r->j->mu);
}

static void job_problem(void *ctx, const char *path, const struct err *e)
{
    struct job_run *r = ctx;
    pthread_mutex_lock(&r->j->mu);
    if (json_array_size(r->job->problems) < JOB_MAX_PROBLEMS)
        json_array_append_new(r->job->problems, json_pack("{s:s, s:s}", "article", path, "error", e->msg));
    pthread_mutex_unlock(&r->j->mu);
}

/* Run `job` (its articles are the runner's now) to the end; returns the batch's error. */
static int job_run(struct serve_jobs *j, struct serve_job *job, struct err *err)
{
    struct job_run r = {j, job};
    struct ver_batch_sink sink = {.article = job_article, .progress = job_progress, .problem = job_problem, .ctx = &r};
    struct ver_batch_opts bo = {.db = j->db, .vo = &j->vo, .jobs = j->workers};
    struct ver_batch *b = NULL;
    int rc = ver_batch_new(&b, &bo, &sink, err);
    if (rc) return rc;
    ver_batch_expect(b, (long)job->narts, 0);
    for (size_t i = 0; !rc && i < job->narts; i++) {
        pthread_mutex_lock(&j->mu);
        int stopping = j->stopping;
        pthread_mutex_unlock(&j->mu);
        if (stopping) {
            ver_batch_cancel(b);
            rc = err_set(err, ERR_ARG, "cancelled: the service is stopping");
            break;
        }
        struct job_article *a = &job->arts[i];
        rc = ver_batch_add(b, a->name, a->title, a->text, a->len, a->fmt, err);
        a->text = NULL; /* the batch's now */
    }
    struct err fin = {0};
    int frc = ver_batch_finish(b, NULL, &fin);
    if (!rc && frc) {
        rc = frc;
        *err = fin;
    }
    ver_batch_free(b);
    return rc;
}

/* With j->mu held: forget the oldest finished jobs beyond SERVE_JOBS_KEEP. */
static void trim_finished(struct serve_jobs *j)
{
    size_t finished = 0;
    for (size_t i = 0; i < j->n; i++) finished += j->v[i]->state >= JOB_DONE;
    for (size_t i = 0; i < j->n && finished > SERVE_JOBS_KEEP;) {
        if (j->v[i]->state < JOB_DONE) {
            i++;
            continue;
        }
        job_free(j->v[i]);
        memmove(&j->v[i], &j->v[i + 1], (j->n - i - 1) * sizeof *j->v);
        j->n--;
        finished--;
    }
}

static void *runner_main(void *arg)
{
    struct serve_jobs *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        struct serve_job *job = NULL;
        for (size_t i = 0; i < j->n && !job; i++)
            if (j->v[i]->state == JOB_QUEUED) job = j->v[i];
        if (j->stopping) break;
        if (!job) {
            pthread_cond_wait(&j->work, &j->mu);
            continue;
        }
        job->state = JOB_RUNNING;
        pthread_mutex_unlock(&j->mu);
        struct err err = {0};
        int rc = job_run(j, job, &err);
        pthread_mutex_lock(&j->mu);
        job_free_articles(job);
        job->state = rc ? JOB_FAILED : JOB_DONE;
        if (rc) snprintf(job->error, sizeof job->error, "%s", err.msg[0] ? err.msg : err_name(rc));
        trim_finished(j);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int serve_jobs_init(struct serve_jobs *j, const char *db, int max_running, int workers,
                    const struct ver_audit_opts *vo, struct err *err)
{
    memset(j, 0, sizeof *j);
    if (max_running < 0 || max_running > SERVE_JOBS_MAX_RUNNING)
        return err_set(err, ERR_ARG, "serve: at most %d jobs at a time", SERVE_JOBS_MAX_RUNNING);
    if (pthread_mutex_init(&j->mu, NULL)) return err_set(err, ERR_INTERNAL, "serve: mutex");
    if (pthread_cond_init(&j->work, NULL)) {
        pthread_mutex_destroy(&j->mu);
        return err_set(err, ERR_INTERNAL, "serve: condition");
    }
    j->inited = 1;
    j->next_id = 1;
    j->max_running = max_running;
    j->workers = workers < 1 ? 1 : workers;
    if (vo) j->vo = *vo;
    j->db = strdup(db);
    j->runners = calloc((size_t)max_running + 1, sizeof *j->runners);
    if (!j->db || !j->runners) {
        serve_jobs_cleanup(j);
        return err_set(err, ERR_NOMEM, "serve: jobs");
    }
    for (; j->nrunners < max_running; j->nrunners++)
        if (pthread_create(&j->runners[j->nrunners], NULL, runner_main, j) != 0) {
            serve_jobs_cleanup(j);
            return err_set(err, ERR_INTERNAL, "serve: cannot start a job runner thread");
        }
    return ERR_OK;
}

void serve_jobs_cleanup(struct serve_jobs *j)
{
    if (!j || !j->inited) return;
    pthread_mutex_lock(&j->mu);
    j->stopping = 1;
    pthread_cond_broadcast(&j->work);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < j->nrunners; i++) pthread_join(j->runners[i], NULL);
    for (size_t i = 0; i < j->n; i++) job_free(j->v[i]);
    free(j->v);
    free(j->runners);
    free(j->db);
    pthread_cond_destroy(&j->work);
    pthread_mutex_destroy(&j->mu);
    memset(j, 0, sizeof *j);
}

/* ---------------------------------------------------------------- POST /v1/jobs */

/* Article `i` of the request into *a. Returns 0, or a 400 with *out set. */
static int parse_article(json_t *o, size_t i, unsigned long id, struct job_article *a, json_t **out)
{
    const char *text = NULL, *title = NULL, *format = NULL, *name = NULL;
    json_t *e = NULL;
    int st = json_is_object(o) ? 0 : 400;
    if (st) e = serve_error("must be an object {\"text\", \"title\", \"format\", \"name\"}");
    if (!st) st = serve_get_string(o, "text", 1, 0, &text, &e);
    if (!st) st = serve_get_string(o, "title", 0, 0, &title, &e);
    if (!st) st = serve_get_string(o, "format", 0, 0, &format, &e);
    if (!st) st = serve_get_string(o, "name", 0, 1, &name, &e);
    a->fmt = VER_FMT_AUTO;
    if (!st && format) st = serve_get_format(format, &a->fmt, &e);
    if (st) {
        *out = serve_error("articles[%zu]: %s", i, json_string_value(json_object_get(e, "error")));
        json_decref(e);
        return st;
    }
    char dflt[64];
    snprintf(dflt, sizeof dflt, "job/%lu/%zu", id, i + 1);
    a->len = json_string_length(json_object_get(o, "text"));
    a->name = strdup(name ? name : dflt);
    a->title = strdup(title ? title : "");
    a->text = malloc(a->len + 1);
    if (a->text) memcpy(a->text, text, a->len + 1);
    if (!a->name || !a->title || !a->text) {
        *out = serve_error("out of memory");
        return 500;
    }
    return 0;
}

static int parse_articles(json_t *body, unsigned long id, struct serve_job *job, json_t **out)
{
    json_t *arts = json_object_get(body, "articles");
    if (!json_is_array(arts) || json_array_size(arts) == 0) {
        *out = serve_error("field \"articles\" must be a non-empty array of {\"text\", \"title\", \"format\", \"name\"}");
        return 400;
    }
    if (json_array_size(arts) > SERVE_JOBS_MAX_ARTICLES) {
        *out = serve_error("the job has %zu articles; the limit is %d", json_array_size(arts), SERVE_JOBS_MAX_ARTICLES);
        return 413;
    }
    job->arts = calloc(json_array_size(arts), sizeof *job->arts);
    if (!job->arts) {
        *out = serve_error("out of memory");
        return 500;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arts, i, o) {
        int st = parse_article(o, i, id, &job->arts[i], out);
        job->narts = i + 1;
        job->total = (long)job->narts;
        if (st) return st;
    }
    return 0;
}

int serve_jobs_create(struct serve_jobs *j, json_t *body, json_t **out, char *location, size_t n, int *retry_after)
{
    *retry_after = 0;
    if (!j->max_running) {
        *out = serve_error("batch jobs are off (serve --max-jobs 0)");
        return 404;
    }
    struct serve_job *job = calloc(1, sizeof *job);
    if (!job || !(job->problems = json_array())) {
        job_free(job);
        *out = serve_error("out of memory");
        return 500;
    }
    pthread_mutex_lock(&j->mu);
    job->id = j->next_id++; /* ids of refused requests are skipped */
    pthread_mutex_unlock(&j->mu);
    int st = parse_articles(body, job->id, job, out);
    if (st) {
        job_free(job);
        return st;
    }
    pthread_mutex_lock(&j->mu);
    size_t queued = 0;
    for (size_t i = 0; i < j->n; i++) queued += j->v[i]->state == JOB_QUEUED;
    if (queued >= SERVE_JOBS_MAX_QUEUED || j->stopping) {
        pthread_mutex_unlock(&j->mu);
        job_free(job);
        *retry_after = 10;
        *out = serve_error("too many jobs waiting: %zu queued (the limit is %d), %d running at a time", queued,
                           SERVE_JOBS_MAX_QUEUED, j->max_running);
        return 503;
    }
    if (vec_grow((void **)&j->v, &j->cap, j->n + 1, sizeof *j->v)) {
        pthread_mutex_unlock(&j->mu);
        job_free(job);
        *out = serve_error("out of memory");
        return 500;
    }
    j->v[j->n++] = job;
    unsigned long id = job->id; /* job belongs to the runners from here */
    pthread_cond_signal(&j->work);
    pthread_mutex_unlock(&j->mu);
    snprintf(location, n, "/v1/jobs/%lu", id);
    *out = json_pack("{s:s, s:s, s:s}", "id", location + strlen("/v1/jobs/"), "state", "queued", "location", location);
    return 202;
}

/* ---------------------------------------------------------------- GET /v1/jobs/ID */

/* With j->mu held: the job's state and progress as JSON. */
static json_t *job_status(const struct serve_job *job)
{
    const struct ver_batch_progress *p = &job->p;
    char id[32];
    snprintf(id, sizeof id, "%lu", job->id);
    json_t *verdicts = json_object();
    for (int s = 0; verdicts && s < VER_ST_COUNT; s++)
        if (p->counts[s]) json_object_set_new(verdicts, ver_status_name(s), json_integer(p->counts[s]));
    json_t *progress = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "articles", (json_int_t)job->total,
                                 "done", (json_int_t)(p->audited + p->skipped + p->failed), "audited",
                                 (json_int_t)p->audited, "already_stored", (json_int_t)p->skipped, "failed",
                                 (json_int_t)p->failed, "citations", (json_int_t)job->results, "fetched",
                                 (json_int_t)p->fetched, "verdicts", verdicts);
    /* a copy: the runner may append to the job's list while this answer is written */
    json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "id", id, "state", job_state_names[job->state], "progress",
                          progress, "problems", json_deep_copy(job->problems));
    if (o && job->state == JOB_FAILED) json_object_set_new(o, "error", json_string(job->error));
    return o;
}

static int parse_count(const char *s, long dflt, long max, const char *name, long *out, json_t **err)
{
    *out = dflt;
    if (!s) return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max) {
        *err = serve_error("query argument %s=%s: must be 0..%ld", name, s, max);
        return 400;
    }
    *out = v;
    return 0;
}

/* The part of the results a page covers: copies of the keys of the articles it touches. */
struct page {
    struct job_key *keys; /* (n), paths owned */
    size_t n;
    long first;           /* the results index of keys[0]'s first record */
    long offset, limit, total;
};

static void page_free(struct page *pg)
{
    for (size_t i = 0; i < pg->n; i++) free(pg->keys[i].path);
    free(pg->keys);
}

/* With j->mu held: copy the keys of the articles holding results [offset, offset + limit). */
static int page_keys(const struct serve_job *job, struct page *pg)
{
    long at = 0;
    size_t cap = 0;
    pg->total = job->results;
    for (size_t i = 0; i < job->nkeys && at < pg->offset + pg->limit; at += job->keys[i++].n) {
        if (at + job->keys[i].n <= pg->offset || job->keys[i].n == 0) continue;
        if (vec_grow((void **)&pg->keys, &cap, pg->n + 1, sizeof *pg->keys)) return -1;
        if (pg->n == 0) pg->first = at;
        pg->keys[pg->n] = job->keys[i];
        if (!(pg->keys[pg->n].path = strdup(job->keys[i].path))) return -1;
        pg->n++;
    }
    return 0;
}

struct page_out {
    json_t *arr;
    long at, from, to; /* the results index of the next record; the page's range */
    struct ver_claim_run cr; /* each claim's text once in the page */
};

static int page_record(void *ctx, const struct ver_record *rec, struct err *err)
{
    struct page_out *po = ctx;
    long i = po->at++;
    if (i < po->from || i >= po->to) return ERR_OK;
    json_t *o = json_loads(rec->json, 0, NULL);
    ver_claim_run_next(&po->cr, o);
    if (!o || json_array_append_new(po->arr, o)) return err_set(err, ERR_CORRUPT, "%s: a stored record is not JSON", rec->path);
    return ERR_OK;
}

/* The records of the page, read through a pool context, into o's "results". */
static int page_results(struct serve_pool *pool, const struct page *pg, json_t *o, struct err *err)
{
    struct page_out po = {json_array(), pg->first, pg->offset, pg->offset + pg->limit, {0}};
    if (!po.arr) return err_set(err, ERR_NOMEM, "job results");
    struct serve_ctx *c = serve_pool_get(pool);
    int rc = ERR_OK;
    for (size_t i = 0; !rc && i < pg->n; i++) {
        long before = po.at;
        rc = ver_store_results(c->ix, pg->keys[i].path, pg->keys[i].hash, page_record, &po, err);
        if (!rc && po.at - before != pg->keys[i].n)
            rc = err_set(err, ERR_NOTFOUND, "%s: its stored results were replaced since the job ran", pg->keys[i].path);
        po.at = before + pg->keys[i].n;
    }
    serve_pool_put(pool, c);
    json_object_set_new(o, "results", po.arr);
    return rc;
}

int serve_jobs_get(struct serve_jobs *j, struct serve_pool *pool, const char *id, const char *offset,
                   const char *limit, json_t **out)
{
    char *end = NULL;
    errno = 0;
    unsigned long want = strtoul(id, &end, 10);
    int bad_id = !*id || *end || errno || id[0] == '0' || id[0] == '-' || id[0] == '+';
    struct page pg = {0};
    int st = parse_count(offset, 0, 1L << 40, "offset", &pg.offset, out);
    if (!st) st = parse_count(limit, SERVE_JOBS_PAGE, SERVE_JOBS_MAX_PAGE, "limit", &pg.limit, out);
    if (st) return st;
    pthread_mutex_lock(&j->mu);
    struct serve_job *job = NULL;
    for (size_t i = 0; !bad_id && i < j->n && !job; i++)
        if (j->v[i]->id == want) job = j->v[i];
    json_t *o = job ? job_status(job) : NULL;
    int done = job && job->state == JOB_DONE, nomem = job && (!o || (done && page_keys(job, &pg)));
    pthread_mutex_unlock(&j->mu);
    if (!job || nomem) {
        page_free(&pg);
        json_decref(o);
        *out = nomem ? serve_error("out of memory") : serve_error("no such job: %s", id);
        return nomem ? 500 : 404;
    }
    struct err err = {0};
    if (done) {
        int rc = page_results(pool, &pg, o, &err);
        long next = pg.offset + pg.limit;
        json_object_set_new(o, "offset", json_integer(pg.offset));
        json_object_set_new(o, "limit", json_integer(pg.limit));
        json_object_set_new(o, "total", json_integer(pg.total));
        if (next < pg.total) {
            char url[96];
            snprintf(url, sizeof url, "/v1/jobs/%lu?offset=%ld&limit=%ld", want, next, pg.limit);
            json_object_set_new(o, "next", json_string(url));
        } else {
            json_object_set_new(o, "next", json_null());
        }
        if (rc) {
            json_decref(o);
            page_free(&pg);
            *out = serve_error("%s", err.msg);
            return rc == ERR_NOTFOUND ? 410 : 500;
        }
    }
    page_free(&pg);
    *out = o;
    return 200;
}
