/* ret.c - BM25 ranking over the index's term postings, with title weighting, and grouping of
 * passages into documents. Term-at-a-time accumulation into a dense score array indexed by
 * passage id (allocated once per retriever), then a k-sized heap. */
#include "ret.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "corpus/corpus.h"

#define RET_MAX_QUERY_TERMS 1024

struct qterm {
    char *term;
    size_t len;
    int qtf;
};

struct ret {
    struct idx *ix;
    struct corpus_tok *tok;
    float *acc;        /* (max_pid + 1) scores, zero outside a query */
    int64_t *touched;  /* pids with a nonzero score in this query */
    size_t ntouched, touched_cap;
    int64_t max_pid;
    struct qterm *q;   /* the query's distinct terms */
    int nq;
    struct ret_hit *cand; /* candidate buffer for by_doc */
    size_t cand_cap;
};

int ret_new(struct ret **out, struct idx *ix, struct err *err)
{
    *out = NULL;
    int rc;
    struct ret *r = calloc(1, sizeof *r);
    if (!r) return err_set(err, ERR_NOMEM, "ret_new");
    r->ix = ix;
    if ((rc = corpus_tok_new(&r->tok, 0, err))) goto fail;
    r->max_pid = idx_max_pid(ix);
    r->acc = calloc((size_t)r->max_pid + 1, sizeof *r->acc);
    r->q = calloc(RET_MAX_QUERY_TERMS, sizeof *r->q);
    if (!r->acc || !r->q) {
        rc = err_set(err, ERR_NOMEM, "score accumulator for %lld passages", (long long)r->max_pid);
        goto fail;
    }
    *out = r;
    return ERR_OK;
fail:
    ret_free(r);
    return rc;
}

void ret_free(struct ret *r)
{
    if (!r) return;
    corpus_tok_free(r->tok);
    if (r->q)
        for (int i = 0; i < r->nq; i++) free(r->q[i].term);
    free(r->q);
    free(r->acc);
    free(r->touched);
    free(r->cand);
    free(r);
}

static int qterm_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos, (void)s, (void)e;
    struct ret *r = c;
    for (int i = 0; i < r->nq; i++)
        if (r->q[i].len == len && memcmp(r->q[i].term, term, len) == 0) {
            r->q[i].qtf++;
            return 0;
        }
    if (r->nq >= RET_MAX_QUERY_TERMS) return 0; /* a longer query keeps its first terms */
    char *t = malloc(len + 1);
    if (!t) return -1;
    memcpy(t, term, len);
    t[len] = '\0';
    r->q[r->nq++] = (struct qterm){t, len, 1};
    return 0;
}

static void clear_query(struct ret *r)
{
    for (int i = 0; i < r->nq; i++) free(r->q[i].term);
    r->nq = 0;
    for (size_t i = 0; i < r->ntouched; i++) r->acc[r->touched[i]] = 0;
    r->ntouched = 0;
}

/* ---- a min-heap of hits by score (ties: lower pid ranks higher, for stable output) */

static int worse(const struct ret_hit *a, const struct ret_hit *b)
{
    return a->score < b->score || (a->score == b->score && a->pid > b->pid);
}

static void heap_down(struct ret_hit *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < n && worse(&h[l], &h[m])) m = l;
        if (l + 1 < n && worse(&h[l + 1], &h[m])) m = l + 1;
        if (m == i) return;
        struct ret_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_push(struct ret_hit *h, int *n, int cap, struct ret_hit x)
{
    if (*n < cap) {
        int i = (*n)++;
        h[i] = x;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!worse(&h[i], &h[p])) break;
            struct ret_hit t = h[i];
            h[i] = h[p];
            h[p] = t;
            i = p;
        }
    } else if (worse(&h[0], &x)) {
        h[0] = x;
        heap_down(h, *n, 0);
    }
}

static int cmp_hit_desc(const void *a, const void *b)
{
    const struct ret_hit *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Accumulate BM25 for the parsed query into r->acc. */
static int accumulate(struct ret *r, const struct ret_opts *o, struct err *err)
{
    int64_t N = 0, total = 0;
    int rc = idx_corpus_totals(r->ix, &N, &total, err);
    if (rc) return rc;
    if (N <= 0) return ERR_OK;
    double avgdl = (double)total / (double)N;
    if (avgdl <= 0) avgdl = 1;
    double k1 = o->k1 > 0 ? o->k1 : RET_DEFAULT_K1;
    double b = o->b > 0 ? o->b : RET_DEFAULT_B;
    if (b > 1) b = 1;
    double tw = o->title_weight == 0 ? RET_DEFAULT_TITLE_WEIGHT
                : o->title_weight < 0 ? 0 : o->title_weight;
    for (int i = 0; i < r->nq; i++) {
        int64_t df = 0;
        if ((rc = idx_post_open(r->ix, r->q[i].term, r->q[i].len, &df, err))) return rc;
        if (df <= 0) continue;
        double idf = log(1.0 + ((double)N - (double)df + 0.5) / ((double)df + 0.5));
        double w = idf * r->q[i].qtf * (k1 + 1);
        double c0 = k1 * (1 - b), c1 = k1 * b / avgdl;
        struct idx_post p;
        int got;
        while ((got = idx_post_next(r->ix, &p, err)) == 1) {
            double tf = p.tf_body + tw * p.tf_title;
            if (tf <= 0) continue;
            if (p.pid > r->max_pid) continue; /* added after this retriever was made */
            double s = w * tf / (tf + c0 + c1 * p.len);
            if (r->acc[p.pid] == 0) {
                if (r->ntouched == r->touched_cap) {
                    size_t cap = r->touched_cap ? r->touched_cap * 2 : 4096;
                    int64_t *t = realloc(r->touched, cap * sizeof *t);
                    if (!t) return err_set(err, ERR_NOMEM, "search");
                    r->touched = t;
                    r->touched_cap = cap;
                }
                r->touched[r->ntouched++] = p.pid;
            }
            r->acc[p.pid] += (float)s;
        }
        if (got < 0) return err->code;
    }
    return ERR_OK;
}

static int by_doc(struct ret *r, int k, struct ret_hit *hits, int *n, struct err *err)
{
    /* take a generous number of best passages, group by document; widen when too few docs */
    size_t want = (size_t)k * 8 + 32;
    for (;;) {
        size_t m = want < r->ntouched ? want : r->ntouched;
        if (m > r->cand_cap) {
            struct ret_hit *c = realloc(r->cand, m * sizeof *c);
            if (!c) return err_set(err, ERR_NOMEM, "search");
            r->cand = c;
            r->cand_cap = m;
        }
        int nc = 0;
        for (size_t i = 0; i < r->ntouched; i++) {
            int64_t pid = r->touched[i];
            heap_push(r->cand, &nc, (int)m, (struct ret_hit){pid, -1, r->acc[pid]});
        }
        qsort(r->cand, (size_t)nc, sizeof *r->cand, cmp_hit_desc);
        *n = 0;
        for (int i = 0; i < nc && *n < k; i++) {
            int64_t doc = idx_passage_doc(r->ix, r->cand[i].pid);
            if (doc < 0) continue;
            int seen = 0;
            for (int j = 0; j < *n; j++)
                if (hits[j].doc_row == doc) { seen = 1; break; }
            if (seen) continue;
            hits[*n] = r->cand[i];
            hits[*n].doc_row = doc;
            (*n)++;
        }
        if (*n >= k || m == r->ntouched) return ERR_OK;
        want *= 4;
    }
}

int ret_search(struct ret *r, const char *query, const struct ret_opts *opts, struct ret_hit *hits,
               int *n, struct err *err)
{
    *n = 0;
    struct ret_opts o = {0};
    if (opts) o = *opts;
    if (o.k <= 0) o.k = 10;
    if (o.mode == RET_FTS5) {
        int64_t *pids = malloc((size_t)o.k * 8 * sizeof *pids);
        double *scores = malloc((size_t)o.k * 8 * sizeof *scores);
        int m = 0, rc = ERR_OK;
        if (!pids || !scores) rc = err_set(err, ERR_NOMEM, "search");
        if (!rc) rc = idx_fts_search(r->ix, query, o.by_doc ? o.k * 8 : o.k, pids, scores, &m, err);
        for (int i = 0; i < m && !rc && *n < o.k; i++) {
            int64_t doc = idx_passage_doc(r->ix, pids[i]);
            int seen = 0;
            for (int j = 0; o.by_doc && j < *n; j++)
                if (hits[j].doc_row == doc) seen = 1;
            if (!seen) hits[(*n)++] = (struct ret_hit){pids[i], doc, scores[i]};
        }
        free(pids);
        free(scores);
        return rc;
    }
    int rc = ERR_OK;
    if (corpus_tok_run(r->tok, query, strlen(query), qterm_cb, r) != 0) {
        rc = err_set(err, ERR_NOMEM, "search");
        goto out;
    }
    if ((rc = accumulate(r, &o, err))) goto out;
    if (o.by_doc) {
        rc = by_doc(r, o.k, hits, n, err);
        goto out;
    }
    int nh = 0;
    for (size_t i = 0; i < r->ntouched; i++) {
        int64_t pid = r->touched[i];
        heap_push(hits, &nh, o.k, (struct ret_hit){pid, -1, r->acc[pid]});
    }
    qsort(hits, (size_t)nh, sizeof *hits, cmp_hit_desc);
    for (int i = 0; i < nh; i++) hits[i].doc_row = idx_passage_doc(r->ix, hits[i].pid);
    *n = nh;
out:
    clear_query(r);
    return rc;
}
