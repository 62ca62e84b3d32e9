/* ver_batch.c - the batch runner: articles added by one thread into a bounded queue, audited by N
 * worker threads (each with its own index handle, auditor and extractor), each article stored in
 * one transaction as it finishes (ver_store_put), and the stored records handed to the caller's
 * sink in input order. See ver_batch.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "index/idx.h"
#include "vec.h"
#include "ver.h"

/* One article waiting or being audited. */
struct job {
    char *path, *title, *text;
    size_t len;
    enum ver_format fmt;
    char hash[17];
    size_t seq; /* its place among the batch's articles (keys) */
};

/* An article of the batch in input order. */
struct key {
    char *path;
    char hash[17];
    int finished; /* stored (now or before), or failed */
    enum ver_batch_outcome outcome;
};

struct worker {
    struct ver_batch *b;
    struct idx *ix;
    struct ver_auditor *au;
    struct ver_extractor *x;
    pthread_t th;
    int started;
};

struct ver_batch {
    char *db;
    struct ver_audit_opts vo;
    struct ver_batch_sink sink;
    struct idx *ix; /* the adding thread's handle */
    int64_t run;
    char options[VER_STORE_OPTIONS_MAX]; /* hashed into every key */
    struct worker *ws;
    int nws;

    pthread_mutex_t mu;
    pthread_cond_t can_pop, can_push;
    int sync_ok;
    struct job **q; /* ring of qcap */
    size_t qcap, qhead, qlen;
    int closed;   /* no more articles will come */
    int stop;     /* an error or a cancel: end the batch */
    int finished; /* ver_batch_finish ran */
    struct err fatal;

    /* under mu */
    struct ver_batch_progress p;
    struct key *keys;
    size_t nkeys, capkeys, next_out;
};

static void job_free(struct job *j)
{
    if (!j) return;
    free(j->path);
    free(j->title);
    free(j->text);
    free(j);
}

/* ---------------------------------------------------------------- delivery, in input order */

struct deliver {
    struct ver_batch *b;
    int n;
};

static int deliver_record(void *ctx, const struct ver_record *rec, struct err *err)
{
    struct deliver *d = ctx;
    d->n++;
    return d->b->sink.record ? d->b->sink.record(d->b->sink.ctx, rec, err) : ERR_OK;
}

/* With b->mu held: hand the records of the finished articles at the head of the input order to
 * the sink, read through `ix` (the calling thread's own handle). */
static int flush_out(struct ver_batch *b, struct idx *ix, struct err *err)
{
    while (b->next_out < b->nkeys && b->keys[b->next_out].finished) {
        const struct key *k = &b->keys[b->next_out];
        struct deliver d = {b, 0};
        int rc = ver_store_results(ix, k->path, k->hash, deliver_record, &d, err);
        if (!rc && b->sink.article)
            rc = b->sink.article(b->sink.ctx, b->next_out, k->path, k->hash, d.n, k->outcome, err);
        if (rc) return rc;
        b->next_out++;
    }
    return ERR_OK;
}

/* With b->mu held: article `seq` is finished; pass on what can be passed on. */
static int finish_one(struct ver_batch *b, size_t seq, enum ver_batch_outcome o, struct idx *ix, struct err *err)
{
    b->keys[seq].finished = 1;
    b->keys[seq].outcome = o;
    int rc = flush_out(b, ix, err);
    if (b->sink.progress) b->sink.progress(b->sink.ctx, &b->p);
    return rc;
}

static void stop_with(struct ver_batch *b, const struct err *e)
{
    pthread_mutex_lock(&b->mu);
    if (!b->stop) {
        b->stop = 1;
        b->fatal = *e;
        if (!b->fatal.code) b->fatal.code = ERR_INTERNAL;
    }
    pthread_cond_broadcast(&b->can_pop);
    pthread_cond_broadcast(&b->can_push);
    pthread_mutex_unlock(&b->mu);
}

/* ---------------------------------------------------------------- the queue */

/* Queue an article for the workers (blocks while the queue is full). Takes ownership of j.
 * Returns 0, or -1 when the batch is stopping (j is freed). */
static int push(struct ver_batch *b, struct job *j)
{
    pthread_mutex_lock(&b->mu);
    while (b->qlen == b->qcap && !b->stop) pthread_cond_wait(&b->can_push, &b->mu);
    if (b->stop) {
        pthread_mutex_unlock(&b->mu);
        job_free(j);
        return -1;
    }
    b->q[(b->qhead + b->qlen++) % b->qcap] = j;
    pthread_cond_signal(&b->can_pop);
    pthread_mutex_unlock(&b->mu);
    return 0;
}

/* The next article, or NULL when the queue is closed and empty or the batch stops. */
static struct job *pop(struct ver_batch *b)
{
    pthread_mutex_lock(&b->mu);
    while (b->qlen == 0 && !b->closed && !b->stop) pthread_cond_wait(&b->can_pop, &b->mu);
    struct job *j = NULL;
    if (b->qlen > 0 && !b->stop) {
        j = b->q[b->qhead];
        b->qhead = (b->qhead + 1) % b->qcap;
        b->qlen--;
        pthread_cond_signal(&b->can_push);
    }
    pthread_mutex_unlock(&b->mu);
    return j;
}

/* ---------------------------------------------------------------- workers */

/* An article that could not be extracted (malformed, over the cap): reported, counted, skipped. */
static int audit_failed(struct ver_batch *b, struct worker *w, struct job *j, struct err *err)
{
    err_prefix(err, "%s", j->path);
    pthread_mutex_lock(&b->mu);
    b->p.failed++;
    if (b->sink.problem) b->sink.problem(b->sink.ctx, j->path, err);
    err_clear(err);
    int rc = finish_one(b, j->seq, VER_BATCH_FAILED, w->ix, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* Audit one article and store its results. Errors from the index end the batch; a malformed
 * article is reported and skipped. */
static int audit_one(struct ver_batch *b, struct worker *w, struct job *j, struct err *err)
{
    struct ver_article *art = NULL;
    struct ver_result *res = NULL;
    int nr = 0, rc = ver_extractor_run(w->x, &art, j->text, j->len, j->fmt, j->title, err);
    if (rc) return audit_failed(b, w, j, err);
    if ((rc = ver_audit(w->au, art, j->path, &res, &nr, err))) err_prefix(err, "%s", j->path);
    else rc = ver_store_put(w->ix, j->path, j->hash, j->title, b->run, res, nr, err);
    if (!rc) {
        long fetched = 0;
        for (int i = 0; i < nr; i++) fetched += !strcmp(res[i].source, "web") || !strcmp(res[i].source, "archive");
        pthread_mutex_lock(&b->mu);
        b->p.audited++;
        b->p.citations += nr;
        b->p.fetched += fetched;
        for (int i = 0; i < nr; i++)
            if (res[i].status >= 0 && res[i].status < VER_ST_COUNT) b->p.counts[res[i].status]++;
        rc = finish_one(b, j->seq, VER_BATCH_AUDITED, w->ix, err);
        pthread_mutex_unlock(&b->mu);
    }
    ver_results_free(res, nr);
    free(res);
    ver_article_free(art);
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct err err = {0};
    struct job *j;
    int rc = ERR_OK;
    while (!rc && (j = pop(w->b))) {
        rc = audit_one(w->b, w, j, &err);
        job_free(j);
    }
    if (rc) stop_with(w->b, &err);
    return NULL;
}

static void worker_close(struct worker *w)
{
    ver_extractor_free(w->x);
    ver_auditor_free(w->au);
    idx_close(w->ix);
    w->x = NULL;
    w->au = NULL;
    w->ix = NULL;
}

static int worker_open(struct ver_batch *b, struct worker *w, struct err *err)
{
    w->b = b;
    int rc = idx_open(&w->ix, b->db, NULL, err);
    if (!rc) rc = ver_auditor_new(&w->au, w->ix, &b->vo, err);
    if (!rc) rc = ver_extractor_new(&w->x, err);
    return rc;
}

/* ---------------------------------------------------------------- the batch */

static void join_workers(struct ver_batch *b);

static int batch_init(struct ver_batch *b, const struct ver_batch_opts *o, struct err *err)
{
    int jobs = o->jobs < 1 ? 1 : o->jobs > VER_BATCH_MAX_JOBS ? VER_BATCH_MAX_JOBS : o->jobs;
    b->p.total = -1;
    if (o->vo) b->vo = *o->vo;
    ver_store_options(o->vo, b->options, sizeof b->options);
    b->db = strdup(o->db ? o->db : "");
    b->qcap = o->queue > 0 ? (size_t)o->queue : (size_t)jobs * 2;
    b->q = calloc(b->qcap, sizeof *b->q);
    b->ws = calloc((size_t)jobs, sizeof *b->ws);
    if (!b->db || !b->q || !b->ws) return err_set(err, ERR_NOMEM, "batch");
    b->nws = jobs;
    if (pthread_mutex_init(&b->mu, NULL)) return err_set(err, ERR_INTERNAL, "batch: mutex");
    if (pthread_cond_init(&b->can_pop, NULL)) {
        pthread_mutex_destroy(&b->mu);
        return err_set(err, ERR_INTERNAL, "batch: condition");
    }
    if (pthread_cond_init(&b->can_push, NULL)) {
        pthread_cond_destroy(&b->can_pop);
        pthread_mutex_destroy(&b->mu);
        return err_set(err, ERR_INTERNAL, "batch: condition");
    }
    b->sync_ok = 1;
    int rc = idx_open(&b->ix, b->db, NULL, err);
    if (!rc) rc = ver_store_begin_run(b->ix, b->options, &b->run, err);
    for (int i = 0; !rc && i < jobs; i++) rc = worker_open(b, &b->ws[i], err);
    return rc;
}

int ver_batch_new(struct ver_batch **out, const struct ver_batch_opts *o, const struct ver_batch_sink *sink,
                  struct err *err)
{
    *out = NULL;
    struct ver_batch *b = calloc(1, sizeof *b);
    if (!b) return err_set(err, ERR_NOMEM, "batch");
    if (sink) b->sink = *sink;
    int rc = batch_init(b, o, err);
    for (int i = 0; !rc && i < b->nws; i++) {
        if (pthread_create(&b->ws[i].th, NULL, worker_main, &b->ws[i]) != 0) {
            rc = err_set(err, ERR_INTERNAL, "cannot start worker thread %d", i + 1);
            break;
        }
        b->ws[i].started = 1;
    }
    if (rc) {
        if (b->sync_ok) {
            stop_with(b, err);
            join_workers(b);
        }
        b->finished = 1; /* nothing to deliver */
        ver_batch_free(b);
        return rc;
    }
    *out = b;
    return ERR_OK;
}

/* With b->mu held: add the key of article j in input order. */
static int add_key(struct ver_batch *b, struct job *j)
{
    char *path = strdup(j->path);
    if (!path || vec_grow((void **)&b->keys, &b->capkeys, b->nkeys + 1, sizeof *b->keys)) {
        free(path);
        return -1;
    }
    j->seq = b->nkeys;
    struct key *k = &b->keys[b->nkeys++];
    k->path = path;
    memcpy(k->hash, j->hash, 17);
    k->finished = 0;
    b->p.added++;
    return 0;
}

static struct job *job_new(const char *path, const char *title, char *text, size_t len, enum ver_format fmt)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->path = strdup(path ? path : "");
    j->title = strdup(title ? title : "");
    j->text = text;
    j->len = len;
    j->fmt = fmt;
    if (!j->path || !j->title) {
        job_free(j);
        return NULL;
    }
    return j;
}

/* The error that stopped the batch into err. */
static int stopped(struct ver_batch *b, struct err *err)
{
    pthread_mutex_lock(&b->mu);
    int stop = b->stop;
    if (stop) *err = b->fatal;
    pthread_mutex_unlock(&b->mu);
    return stop ? err->code : ERR_OK;
}

int ver_batch_add(struct ver_batch *b, const char *path, const char *title, char *text, size_t len,
                  enum ver_format fmt, struct err *err)
{
    int rc = stopped(b, err);
    if (rc) {
        free(text);
        return rc;
    }
    struct job *j = job_new(path, title, text, len, fmt);
    if (!j) {
        free(text);
        return err_set(err, ERR_NOMEM, "%s", path ? path : "batch");
    }
    ver_store_key(j->text, j->len, j->title, b->options, j->hash);
    int done = 0;
    if (!(rc = ver_store_done(b->ix, j->path, j->hash, &done, err))) {
        pthread_mutex_lock(&b->mu);
        if (add_key(b, j)) rc = err_set(err, ERR_NOMEM, "batch");
        else if (done) {
            b->p.skipped++;
            rc = finish_one(b, j->seq, VER_BATCH_SKIPPED, b->ix, err);
        }
        pthread_mutex_unlock(&b->mu);
    }
    if (rc) stop_with(b, err); /* the batch ends as it would for a worker's error */
    if (done || rc) {
        job_free(j);
        return rc;
    }
    return push(b, j) ? stopped(b, err) : ERR_OK;
}

void ver_batch_expect(struct ver_batch *b, long total, double read_share)
{
    pthread_mutex_lock(&b->mu);
    b->p.total = total;
    b->p.read_share = read_share;
    pthread_mutex_unlock(&b->mu);
}

void ver_batch_problem(struct ver_batch *b, const char *path, const struct err *e)
{
    pthread_mutex_lock(&b->mu);
    b->p.unreadable++;
    if (b->sink.problem) b->sink.problem(b->sink.ctx, path, e);
    pthread_mutex_unlock(&b->mu);
}

void ver_batch_cancel(struct ver_batch *b)
{
    struct err e = {0};
    err_set(&e, ERR_ARG, "batch cancelled");
    stop_with(b, &e);
}

/* Close the queue, wait for the workers, drop what a stop left queued. */
static void join_workers(struct ver_batch *b)
{
    pthread_mutex_lock(&b->mu);
    b->closed = 1;
    pthread_cond_broadcast(&b->can_pop);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->nws; i++)
        if (b->ws[i].started) pthread_join(b->ws[i].th, NULL);
    for (int i = 0; i < b->nws; i++) b->ws[i].started = 0;
    while (b->qlen > 0) {
        job_free(b->q[b->qhead]);
        b->qhead = (b->qhead + 1) % b->qcap;
        b->qlen--;
    }
}

int ver_batch_finish(struct ver_batch *b, struct ver_batch_progress *final, struct err *err)
{
    if (b->finished) return err_set(err, ERR_INTERNAL, "ver_batch_finish called twice");
    b->finished = 1;
    join_workers(b);
    int rc = stopped(b, err);
    pthread_mutex_lock(&b->mu);
    if (!rc) rc = flush_out(b, b->ix, err); /* all finished by now */
    if (!rc && b->next_out != b->nkeys)
        rc = err_set(err, ERR_INTERNAL, "batch: %zu articles not delivered", b->nkeys - b->next_out);
    if (final) *final = b->p;
    pthread_mutex_unlock(&b->mu);
    return rc;
}

void ver_batch_free(struct ver_batch *b)
{
    if (!b) return;
    if (!b->finished) {
        struct err e = {0};
        ver_batch_cancel(b);
        ver_batch_finish(b, NULL, &e);
    }
    for (int i = 0; b->ws && i < b->nws; i++) worker_close(&b->ws[i]);
    if (b->sync_ok) {
        pthread_cond_destroy(&b->can_push);
        pthread_cond_destroy(&b->can_pop);
        pthread_mutex_destroy(&b->mu);
    }
    for (size_t i = 0; i < b->nkeys; i++) free(b->keys[i].path);
    free(b->keys);
    free(b->ws);
    free(b->q);
    idx_close(b->ix);
    free(b->db);
    free(b);
}
