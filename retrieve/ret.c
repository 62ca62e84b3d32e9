/* ret.c - BM25 ranking over the index's term postings, with title weighting, and grouping of
 * passages into documents. Term-at-a-time accumulation into a dense score array indexed by
 * passage id (allocated once per retriever), then a k-sized heap. */
#include "ret.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "corpus/corpus.h"
#include "index/idx_bk.h"
#include "vec.h"

#define RET_MAX_QUERY_TERMS 1024

struct qterm {
    char *term;
    size_t len;
    double qtf; /* weight: the term's count in the query, or its RM3 weight after --prf */
    double idf; /* set by accumulate() */
};

#define RET_PROX_WINDOW 8   /* proximity: two query terms within this many tokens */
#define RET_PROX_DEPTH 100  /* proximity: passages re-scored */

struct ret {
    struct idx *ix;
    struct corpus_tok *tok;
    float *acc;        /* (max_pid + 1) scores, zero outside a query */
    int64_t *touched;  /* pids with a nonzero score in this query */
    size_t ntouched, touched_cap;
    int64_t max_pid;
    struct qterm *q;   /* the query's distinct terms */
    int nq;
    int qseq[RET_MAX_QUERY_TERMS]; /* the query's terms in order, as indexes into q */
    int nseq;
    struct ret_hit *cand; /* candidate buffer for by_doc and fusion */
    size_t cand_cap;
    float *qv, *pv;       /* (dim) query vector and a passage vector, for dense modes */
    int dim;
    int64_t *dids;        /* dense candidates: ids, scores, hits (dcap each) */
    float *dscores;
    struct ret_hit *dcand;
    size_t dcap;
    struct idx_bk_qterm *bq; /* (RET_MAX_QUERY_TERMS) the query for a remote backend */
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
    free(r->qv);
    free(r->pv);
    free(r->dids);
    free(r->dscores);
    free(r->dcand);
    free(r->bq);
    free(r);
}

static int qterm_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos, (void)s, (void)e;
    struct ret *r = c;
    for (int i = 0; i < r->nq; i++)
        if (r->q[i].len == len && memcmp(r->q[i].term, term, len) == 0) {
            r->q[i].qtf++;
            if (r->nseq < RET_MAX_QUERY_TERMS) r->qseq[r->nseq++] = i;
            return 0;
        }
    if (r->nq >= RET_MAX_QUERY_TERMS) return 0; /* a longer query keeps its first terms */
    if (r->nseq < RET_MAX_QUERY_TERMS) r->qseq[r->nseq++] = r->nq;
    char *t = malloc(len + 1);
    if (!t) return -1;
    memcpy(t, term, len);
    t[len] = '\0';
    r->q[r->nq++] = (struct qterm){t, len, 1, 0};
    return 0;
}

struct tok_count {
    size_t n;
};

static int count_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)term, (void)len, (void)pos, (void)s, (void)e;
    ((struct tok_count *)c)->n++;
    return 0;
}

static void clear_query(struct ret *r)
{
    for (int i = 0; i < r->nq; i++) free(r->q[i].term);
    r->nq = 0;
    r->nseq = 0;
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

/* BM25 from the index's remote backend (idx_bk.h: shards holding the same terms, ranking them
 * with the same formula over global statistics) instead of the postings: its best passages, as
 * many as the later steps of this search use, go into the accumulator. */
static int accumulate_backend(struct ret *r, const struct ret_opts *o, struct err *err)
{
    if (!r->bq && !(r->bq = calloc(RET_MAX_QUERY_TERMS, sizeof *r->bq)))
        return err_set(err, ERR_NOMEM, "search");
    int k = o->k > 0 ? o->k : 10, want = o->by_doc ? k * 8 + 32 : k;
    if (o->mode == RET_HYBRID) {
        int depth = o->depth > k ? o->depth : k;
        if (o->by_doc && depth < k * 4) depth = k * 4;
        if (want < depth) want = depth;
    }
    if (want < o->prf_docs) want = o->prf_docs;
    if (o->proximity > 0 && want < RET_PROX_DEPTH) want = RET_PROX_DEPTH;
    for (int i = 0; i < r->nq; i++)
        r->bq[i] = (struct idx_bk_qterm){r->q[i].term, r->q[i].len, r->q[i].qtf, 0};
    const struct idx_bk_hit *h = NULL;
    int nh = 0;
    int64_t N = 0;
    double k1 = o->k1 > 0 ? o->k1 : RET_DEFAULT_K1;
    double b = o->b > 0 ? (o->b > 1 ? 1 : o->b) : RET_DEFAULT_B;
    int rc = idx_bk_search(r->ix, r->bq, r->nq, k1, b, want, &h, &nh, &N, err);
    if (rc) return rc;
    for (int i = 0; i < r->nq; i++) {
        double df = (double)r->bq[i].df;
        if (df > 0) r->q[i].idf = log(1.0 + ((double)N - df + 0.5) / (df + 0.5));
    }
    for (int i = 0; i < nh; i++) {
        int64_t pid = h[i].pid;
        if (pid <= 0 || pid > r->max_pid || h[i].score <= 0 || r->acc[pid] != 0) continue;
        if (vec_grow((void **)&r->touched, &r->touched_cap, r->ntouched + 1, sizeof *r->touched))
            return err_set(err, ERR_NOMEM, "search");
        r->touched[r->ntouched++] = pid;
        r->acc[pid] = (float)h[i].score;
    }
    return ERR_OK;
}

/* Accumulate BM25 for the parsed query into r->acc. */
static int accumulate(struct ret *r, const struct ret_opts *o, struct err *err)
{
    if (idx_bk_enabled(r->ix)) return accumulate_backend(r, o, err);
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
        r->q[i].idf = idf;
        if (r->q[i].qtf <= 0) continue;
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
        if (nc > 1) qsort(r->cand, (size_t)nc, sizeof *r->cand, cmp_hit_desc); /* r->cand is NULL when nc is 0 */
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

/* ---------------------------------------------------------------- pseudo-relevance feedback */

static int bm25_top(struct ret *r, size_t cap, size_t *nc, struct err *err);

struct prf_ctx {
    struct ret *r;
    struct qterm *t; /* expansion candidates */
    int n, cap;
    double dw;       /* the feedback passage's weight divided by its length */
};

static int prf_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos, (void)s, (void)e;
    struct prf_ctx *p = c;
    for (int i = 0; i < p->n; i++)
        if (p->t[i].len == len && memcmp(p->t[i].term, term, len) == 0) {
            p->t[i].qtf += p->dw;
            return 0;
        }
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 256;
        struct qterm *t = realloc(p->t, (size_t)cap * sizeof *t);
        if (!t) return -1;
        p->t = t;
        p->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, term, len);
    copy[len] = '\0';
    p->t[p->n++] = (struct qterm){copy, len, p->dw, 0};
    return 0;
}

static int cmp_qterm_desc(const void *a, const void *b)
{
    double x = ((const struct qterm *)a)->qtf, y = ((const struct qterm *)b)->qtf;
    return (x < y) - (x > y);
}

/* RM3: P(t|R) from the top `docs` passages of the first pass (each weighted by its share of their
 * BM25 score), the best `terms` of it mixed with the query (lambda = RET_PRF_LAMBDA), then BM25
 * again with the weighted terms. */
static int prf(struct ret *r, const struct ret_opts *o, int docs, int terms, struct err *err)
{
    size_t nc = 0;
    int rc = bm25_top(r, (size_t)docs, &nc, err);
    if (rc || nc == 0) return rc;
    double total = 0;
    for (size_t i = 0; i < nc; i++) total += r->cand[i].score;
    if (total <= 0) return ERR_OK;
    struct prf_ctx p = {r, NULL, 0, 0, 0};
    for (size_t i = 0; i < nc && !rc; i++) {
        struct idx_passage pas;
        if ((rc = idx_passage(r->ix, r->cand[i].pid, &pas, err))) break;
        size_t tl = strlen(pas.text), ntok = 0;
        /* count the passage's tokens first, for P(t|D) */
        struct tok_count cnt = {0};
        corpus_tok_run(r->tok, pas.title, strlen(pas.title), count_cb, &cnt);
        corpus_tok_run(r->tok, pas.text, tl, count_cb, &cnt);
        ntok = cnt.n ? cnt.n : 1;
        p.dw = r->cand[i].score / total / (double)ntok;
        if (corpus_tok_run(r->tok, pas.title, strlen(pas.title), prf_cb, &p) ||
            corpus_tok_run(r->tok, pas.text, tl, prf_cb, &p))
            rc = err_set(err, ERR_NOMEM, "feedback");
    }
    if (!rc && p.n > 0) {
        if (p.n > 1) qsort(p.t, (size_t)p.n, sizeof *p.t, cmp_qterm_desc);
        int keep = p.n < terms ? p.n : terms;
        double esum = 0, qsum = 0;
        for (int i = 0; i < keep; i++) esum += p.t[i].qtf;
        for (int i = 0; i < r->nq; i++) qsum += r->q[i].qtf;
        for (int i = 0; i < r->nq; i++) r->q[i].qtf = RET_PRF_LAMBDA * r->q[i].qtf / qsum;
        for (int i = 0; i < keep && esum > 0; i++) {
            double w = (1 - RET_PRF_LAMBDA) * p.t[i].qtf / esum;
            int found = 0;
            for (int j = 0; j < r->nq; j++)
                if (r->q[j].len == p.t[i].len && !memcmp(r->q[j].term, p.t[i].term, p.t[i].len)) {
                    r->q[j].qtf += w;
                    found = 1;
                    break;
                }
            if (!found && r->nq < RET_MAX_QUERY_TERMS) {
                r->q[r->nq++] = (struct qterm){p.t[i].term, p.t[i].len, w, 0};
                p.t[i].term = NULL; /* now owned by the query */
            }
        }
        /* the second pass */
        for (size_t i = 0; i < r->ntouched; i++) r->acc[r->touched[i]] = 0;
        r->ntouched = 0;
        rc = accumulate(r, o, err);
    }
    for (int i = 0; i < p.n; i++) free(p.t[i].term);
    free(p.t);
    return rc;
}

/* ---------------------------------------------------------------- term proximity */

struct prox_ctx {
    struct ret *r;
    int *qi;   /* query term index per recorded position */
    int *pos;
    int n, cap;
    int base;  /* added to token positions: keeps the title's apart from the text's */
};

static int prox_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)s, (void)e;
    struct prox_ctx *p = c;
    for (int i = 0; i < p->r->nq; i++)
        if (p->r->q[i].len == len && !memcmp(p->r->q[i].term, term, len)) {
            if (p->n == p->cap) {
                int cap = p->cap ? p->cap * 2 : 256;
                int *a = realloc(p->qi, (size_t)cap * sizeof *a), *b = a ? realloc(p->pos, (size_t)cap * sizeof *b) : NULL;
                if (a) p->qi = a;
                if (!a || !b) return -1;
                p->pos = b;
                p->cap = cap;
            }
            p->qi[p->n] = i;
            p->pos[p->n++] = p->base + pos;
            break;
        }
    return 0;
}

/* A sequential-dependence style bonus: for each pair of consecutive query terms, the log count of
 * their co-occurrences within RET_PROX_WINDOW tokens in the passage (title then text), weighted by
 * the pair's mean IDF, added with weight `lambda` to the BM25 score of the top RET_PROX_DEPTH
 * passages (in r->acc, so every later step sees it). */
static int proximity(struct ret *r, double lambda, struct err *err)
{
    size_t nc = 0;
    int rc = bm25_top(r, RET_PROX_DEPTH, &nc, err);
    if (rc || nc == 0 || r->nseq < 2) return rc;
    struct prox_ctx p = {r, NULL, NULL, 0, 0, 0};
    for (size_t c = 0; c < nc && !rc; c++) {
        struct idx_passage pas;
        if ((rc = idx_passage(r->ix, r->cand[c].pid, &pas, err))) break;
        p.n = 0;
        p.base = 0;
        /* title positions are kept apart from the text's by a gap wider than the window */
        int bad = corpus_tok_run(r->tok, pas.title, strlen(pas.title), prox_cb, &p);
        p.base = 1 << 20;
        if (bad || corpus_tok_run(r->tok, pas.text, strlen(pas.text), prox_cb, &p)) {
            rc = err_set(err, ERR_NOMEM, "proximity");
            break;
        }
        double bonus = 0;
        for (int k = 0; k + 1 < r->nseq; k++) {
            int a = r->qseq[k], b = r->qseq[k + 1];
            if (a == b) continue;
            int count = 0;
            for (int i = 0; i < p.n; i++) {
                if (p.qi[i] != a) continue;
                for (int j = 0; j < p.n; j++)
                    if (p.qi[j] == b && abs(p.pos[j] - p.pos[i]) <= RET_PROX_WINDOW) count++;
            }
            if (count) bonus += 0.5 * (r->q[a].idf + r->q[b].idf) * log(1.0 + count);
        }
        r->acc[r->cand[c].pid] += (float)(lambda * bonus);
    }
    free(p.qi);
    free(p.pos);
    return rc;
}

const char *ret_mode_name(enum ret_mode m)
{
    switch (m) {
    case RET_BM25: return "bm25";
    case RET_FTS5: return "fts5";
    case RET_DENSE: return "dense";
    case RET_HYBRID: return "hybrid";
    default: return "auto";
    }
}

int ret_resolve(struct ret *r, struct ret_opts *o, struct err *err)
{
    (void)err;
    if (o->k <= 0) o->k = 10;
    if (o->depth <= 0) o->depth = RET_DEFAULT_DEPTH;
    if (o->rrf_k <= 0) o->rrf_k = RET_DEFAULT_RRF_K;
    if (o->fusion == RET_FUSION_DEFAULT) o->fusion = RET_FUSION_INTERP;
    char *kind = NULL;
    idx_setting_get(r->ix, "embedder_kind", &kind, NULL);
    int has_vectors = kind && *kind && strcmp(kind, "none") != 0;
    int neural = kind && (strcmp(kind, "http") == 0 || strcmp(kind, "model") == 0);
    free(kind);
    if (o->mode == RET_AUTO) o->mode = has_vectors && neural ? RET_HYBRID : RET_BM25;
    if (o->alpha == 0) o->alpha = neural ? RET_DEFAULT_ALPHA_NEURAL : RET_DEFAULT_ALPHA_STATIC;
    if (o->alpha < 0) o->alpha = 0;
    if (o->alpha > 1) o->alpha = 1;
    return ERR_OK;
}

/* Keep the best `cap` touched passages of the BM25 accumulator in r->cand, best first. */
static int bm25_top(struct ret *r, size_t cap, size_t *nc, struct err *err)
{
    if (cap > r->cand_cap) {
        struct ret_hit *c = realloc(r->cand, cap * sizeof *c);
        if (!c) return err_set(err, ERR_NOMEM, "search");
        r->cand = c;
        r->cand_cap = cap;
    }
    int n = 0;
    for (size_t i = 0; i < r->ntouched; i++) {
        int64_t pid = r->touched[i];
        heap_push(r->cand, &n, (int)cap, (struct ret_hit){pid, -1, r->acc[pid]});
    }
    if (n > 1) qsort(r->cand, (size_t)n, sizeof *r->cand, cmp_hit_desc);
    *nc = (size_t)n;
    return ERR_OK;
}

/* The best k of the candidates (sorted here), one per document with by_doc. */
static int pick(struct ret *r, struct ret_hit *cand, size_t nc, int k, int by_doc,
                struct ret_hit *hits, int *n)
{
    if (nc > 1) qsort(cand, nc, sizeof *cand, cmp_hit_desc);
    *n = 0;
    for (size_t i = 0; i < nc && *n < k; i++) {
        int64_t doc = idx_passage_doc(r->ix, cand[i].pid);
        if (doc < 0) continue; /* a vector whose passage is gone */
        int seen = 0;
        for (int j = 0; by_doc && j < *n; j++)
            if (hits[j].doc_row == doc) { seen = 1; break; }
        if (seen) continue;
        hits[*n] = cand[i];
        hits[*n].doc_row = doc;
        (*n)++;
    }
    return ERR_OK;
}

static int ensure_vecs(struct ret *r, struct err *err)
{
    if (r->qv) return ERR_OK;
    int rc = idx_vec_open(r->ix, err);
    if (rc) return rc;
    r->dim = idx_vec_dim(r->ix);
    r->qv = calloc((size_t)r->dim, sizeof *r->qv);
    r->pv = calloc((size_t)r->dim, sizeof *r->pv);
    if (!r->qv || !r->pv) return err_set(err, ERR_NOMEM, "search");
    return ERR_OK;
}

/* Dense candidates: up to `want` nearest passages into r->dcand. *nd = 0 when the query has no
 * embeddable word. */
static int dense_top(struct ret *r, const char *query, int want, size_t *nd, struct err *err)
{
    *nd = 0;
    int rc = ensure_vecs(r, err), zero = 1;
    if (rc) return rc;
    if ((rc = idx_vec_embed(r->ix, query, r->qv, &zero, err))) return rc;
    if (zero) return ERR_OK;
    if ((size_t)want > r->dcap) {
        int64_t *ids = realloc(r->dids, (size_t)want * sizeof *ids);
        if (ids) r->dids = ids;
        float *sc = realloc(r->dscores, (size_t)want * sizeof *sc);
        if (sc) r->dscores = sc;
        struct ret_hit *dc = realloc(r->dcand, (size_t)want * sizeof *dc);
        if (dc) r->dcand = dc;
        if (!ids || !sc || !dc) return err_set(err, ERR_NOMEM, "search");
        r->dcap = (size_t)want;
    }
    int n = 0;
    if ((rc = idx_vec_search(r->ix, r->qv, want, r->dids, r->dscores, &n, err))) return rc;
    for (int i = 0; i < n; i++) r->dcand[i] = (struct ret_hit){r->dids[i], -1, r->dscores[i]};
    *nd = (size_t)n;
    return ERR_OK;
}

static float dot(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Normalised-score interpolation over the BM25 candidates r->cand[0..nc). */
static int fuse_interp(struct ret *r, size_t nc, double alpha, struct err *err)
{
    if (nc == 0) return ERR_OK;
    double bmin = r->cand[nc - 1].score, bmax = r->cand[0].score;
    float *cs = malloc(nc * sizeof *cs);
    if (!cs) return err_set(err, ERR_NOMEM, "search");
    float cmin = 2, cmax = -2;
    for (size_t i = 0; i < nc; i++) {
        int found = 0, rc = idx_vec_get(r->ix, r->cand[i].pid, r->pv, &found, err);
        if (rc) {
            free(cs);
            return rc;
        }
        cs[i] = found ? dot(r->qv, r->pv, r->dim) : 0;
        if (cs[i] < cmin) cmin = cs[i];
        if (cs[i] > cmax) cmax = cs[i];
    }
    for (size_t i = 0; i < nc; i++) {
        double b = bmax > bmin ? (r->cand[i].score - bmin) / (bmax - bmin) : 1;
        double c = cmax > cmin ? (cs[i] - cmin) / (cmax - cmin) : 0;
        r->cand[i].score = (1 - alpha) * b + alpha * c;
    }
    free(cs);
    return ERR_OK;
}

static int cmp_pid(const void *a, const void *b)
{
    const struct ret_hit *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Reciprocal rank fusion of r->cand[0..nc) (BM25, best first) and r->dcand[0..nd) (dense, best
 * first) into r->cand. */
static int fuse_rrf(struct ret *r, size_t nc, size_t nd, int rrf_k, size_t *nout, struct err *err)
{
    size_t cap = nc + nd;
    if (cap > r->cand_cap) {
        struct ret_hit *c = realloc(r->cand, cap * sizeof *c);
        if (!c) return err_set(err, ERR_NOMEM, "search");
        r->cand = c;
        r->cand_cap = cap;
    }
    for (size_t i = 0; i < nc; i++) r->cand[i].score = 1.0 / (rrf_k + (double)i + 1);
    for (size_t i = 0; i < nd; i++) r->dcand[i].score = 1.0 / (rrf_k + (double)i + 1);
    if (nc > 1) qsort(r->cand, nc, sizeof *r->cand, cmp_pid);
    if (nd > 1) qsort(r->dcand, nd, sizeof *r->dcand, cmp_pid);
    size_t n = nc;
    for (size_t i = 0, j = 0; j < nd; j++) {
        while (i < nc && r->cand[i].pid < r->dcand[j].pid) i++;
        if (i < nc && r->cand[i].pid == r->dcand[j].pid) r->cand[i].score += r->dcand[j].score;
        else r->cand[n++] = r->dcand[j];
    }
    *nout = n;
    return ERR_OK;
}

int ret_search(struct ret *r, const char *query, const struct ret_opts *opts, struct ret_hit *hits,
               int *n, struct err *err)
{
    *n = 0;
    struct ret_opts o = {0};
    if (opts) o = *opts;
    int rc = ret_resolve(r, &o, err);
    if (rc) return rc;
    if (o.mode == RET_FTS5) {
        int64_t *pids = malloc((size_t)o.k * 8 * sizeof *pids);
        double *scores = malloc((size_t)o.k * 8 * sizeof *scores);
        int m = 0;
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
    if (o.mode == RET_DENSE) {
        size_t nd = 0;
        int want = o.by_doc ? o.k * 8 : o.k;
        if ((rc = dense_top(r, query, want, &nd, err))) return rc;
        return pick(r, r->dcand, nd, o.k, o.by_doc, hits, n);
    }
    if (corpus_tok_run(r->tok, query, strlen(query), qterm_cb, r) != 0) {
        rc = err_set(err, ERR_NOMEM, "search");
        goto out;
    }
    if ((rc = accumulate(r, &o, err))) goto out;
    if (o.prf_docs > 0 && (rc = prf(r, &o, o.prf_docs, o.prf_terms > 0 ? o.prf_terms : 10, err))) goto out;
    if (o.proximity > 0 && (rc = proximity(r, o.proximity, err))) goto out;
    if (o.mode == RET_HYBRID && o.alpha > 0) {
        size_t depth = (size_t)(o.depth > o.k ? o.depth : o.k), nc = 0, nd = 0;
        if (o.by_doc && depth < (size_t)o.k * 4) depth = (size_t)o.k * 4;
        if ((rc = bm25_top(r, depth, &nc, err))) goto out;
        if (o.fusion == RET_FUSION_RRF) {
            if ((rc = dense_top(r, query, (int)depth, &nd, err))) goto out;
            /* a query with no embeddable word stays pure BM25 */
            if (nd > 0 && (rc = fuse_rrf(r, nc, nd, o.rrf_k, &nc, err))) goto out;
        } else {
            /* interpolation needs only the candidates' stored vectors, not a vector search */
            int zero = 1;
            if ((rc = ensure_vecs(r, err)) || (rc = idx_vec_embed(r->ix, query, r->qv, &zero, err)))
                goto out;
            if (!zero && (rc = fuse_interp(r, nc, o.alpha, err))) goto out;
        }
        rc = pick(r, r->cand, nc, o.k, o.by_doc, hits, n);
        goto out;
    }
    if (o.by_doc) {
        rc = by_doc(r, o.k, hits, n, err);
        goto out;
    }
    int nh = 0;
    for (size_t i = 0; i < r->ntouched; i++) {
        int64_t pid = r->touched[i];
        heap_push(hits, &nh, o.k, (struct ret_hit){pid, -1, r->acc[pid]});
    }
    if (nh > 1) qsort(hits, (size_t)nh, sizeof *hits, cmp_hit_desc);
    for (int i = 0; i < nh; i++) hits[i].doc_row = idx_passage_doc(r->ix, hits[i].pid);
    *n = nh;
out:
    clear_query(r);
    return rc;
}
