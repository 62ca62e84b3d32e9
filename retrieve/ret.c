/* ret.c - BM25 ranking over the index's term postings, with title weighting, and grouping of
 * passages into documents. Two evaluations of the same ranking: exhaustive term-at-a-time
 * accumulation into a dense score array indexed by passage id (allocated once per retriever), then
 * a k-sized heap; and block-max MaxScore (document-at-a-time over the postings' blocks with their
 * stored bounds), which scores only passages that can still enter the top k. Both compute each
 * term's contribution with the same expression (term_score) in double, round it to float and add
 * the floats in query-term order, so a passage gets the same float score either way; pruning
 * skips a passage only when an upper bound of its score, widened by the worst-case float rounding,
 * is below the k-th best score, so the top k (ties broken by lower pid) is the same. */
#include "ret.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "corpus/corpus.h"
#include "index/idx_bk.h"
#include "vec.h"
#include <stdint.h>

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
    struct pcur *pc;      /* (pc_cap) cursors of the pruned search, each owning its postings */
    size_t pc_cap;
    struct ret_hit *ph;   /* (ph_cap) the pruned search's heap */
    size_t ph_cap;
    int pruned_cut;       /* the last pruned search stopped at its `want` best passages */
    double *pscr;         /* (6 * RET_MAX_QUERY_TERMS + 1) pruned search scratch (accumulate_pruned) */
    struct pcur **pord;   /* (RET_MAX_QUERY_TERMS) cursors by bound */
    int *pci;             /* (RET_MAX_QUERY_TERMS) scratch: terms a passage holds */
};

/* One query term's postings in the pruned search: its blocks with a score bound each, and the
 * current posting (block blk, decoded into post[] when dec == blk). */
struct pcur {
    int64_t pid; /* current posting, INT64_MAX past the end */
    uint32_t pos;
    int ci;      /* its place among the query's loaded terms (query order) */
    size_t blk, dec;
    double w;    /* idf * qtf * (k1 + 1) */
    double ub;   /* the largest block bound */
    double *bub; /* (bcap) score bound of each block */
    size_t bcap;
    struct idx_plist pl;
    struct idx_post post[IDX_POST_BLOCK];
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
    for (size_t i = 0; i < r->pc_cap; i++) {
        idx_plist_cleanup(&r->pc[i].pl);
        free(r->pc[i].bub);
    }
    free(r->pc);
    free(r->ph);
    free(r->pscr);
    free(r->pord);
    free(r->pci);
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

static void clear_acc(struct ret *r)
{
    for (size_t i = 0; i < r->ntouched; i++) r->acc[r->touched[i]] = 0;
    r->ntouched = 0;
}

static void clear_query(struct ret *r)
{
    for (int i = 0; i < r->nq; i++) free(r->q[i].term);
    r->nq = 0;
    r->nseq = 0;
    clear_acc(r);
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

/* How many best BM25 passages the later steps of this search use (by_doc widens past it). */
static int bm25_want(const struct ret_opts *o)
{
    int k = o->k > 0 ? o->k : 10, want = o->by_doc ? k * 8 + 32 : k;
    if (o->mode == RET_HYBRID) {
        int depth = o->depth > k ? o->depth : k;
        if (o->by_doc && depth < k * 4) depth = k * 4;
        if (want < depth) want = depth;
    }
    if (want < o->prf_docs) want = o->prf_docs;
    if (o->proximity > 0 && want < RET_PROX_DEPTH) want = RET_PROX_DEPTH;
    return want;
}

/* How many best passages the pruned search keeps: what the later steps read (hybrid's fusion
 * depth), and with --by-doc 2k, widened 4x while that gives fewer than k documents (the first k
 * documents of a prefix of the ranking are the first k of the whole of it, so any size that yields
 * k documents gives by_doc's exhaustive answer). */
static int pruned_want(const struct ret_opts *o)
{
    int k = o->k > 0 ? o->k : 10;
    if (o->mode == RET_HYBRID && o->alpha > 0) {
        int depth = o->depth > k ? o->depth : k;
        return o->by_doc && depth < k * 4 ? k * 4 : depth;
    }
    return o->by_doc ? 2 * k : k;
}

/* BM25 from the index's remote backend (idx_bk.h: shards holding the same terms, ranking them
 * with the same formula over global statistics) instead of the postings: its best `want`
 * passages go into the accumulator. */
static int accumulate_backend(struct ret *r, const struct ret_opts *o, int want, struct err *err)
{
    if (!r->bq && !(r->bq = calloc(RET_MAX_QUERY_TERMS, sizeof *r->bq)))
        return err_set(err, ERR_NOMEM, "search");
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

/* The one test of whether a passage takes part in ranking, on both BM25 paths. */
static int live(const struct ret *r, int64_t pid)
{
    /* not added after this retriever was made, and not removed (a tombstone: idx_pid_live, the
     * one filter both the exhaustive and the pruned path apply) */
    return pid <= r->max_pid && idx_pid_live(r->ix, pid);
}

/* BM25's corpus figures and parameters for one query. n == 0: an empty index. */
struct bm25 {
    int64_t n;
    double k1, b, tw, c0, c1;
};

static int bm25_setup(struct ret *r, const struct ret_opts *o, struct bm25 *m, struct err *err)
{
    int64_t total = 0;
    int rc = idx_corpus_totals(r->ix, &m->n, &total, err);
    if (rc || m->n <= 0) return rc;
    double avgdl = (double)total / (double)m->n;
    if (avgdl <= 0) avgdl = 1;
    m->k1 = o->k1 > 0 ? o->k1 : RET_DEFAULT_K1;
    m->b = o->b > 0 ? o->b : RET_DEFAULT_B;
    if (m->b > 1) m->b = 1;
    m->tw = o->title_weight == 0 ? RET_DEFAULT_TITLE_WEIGHT
            : o->title_weight < 0 ? 0 : o->title_weight;
    m->c0 = m->k1 * (1 - m->b);
    m->c1 = m->k1 * m->b / avgdl;
    return ERR_OK;
}

static double idf_of(const struct bm25 *m, int64_t df)
{
    return log(1.0 + ((double)m->n - (double)df + 0.5) / ((double)df + 0.5));
}

/* One term's BM25 contribution: weight w = idf * qtf * (k1 + 1), tf = tf_body + tw * tf_title.
 * Nondecreasing in tf and nonincreasing in len, so a block's (max tf, min len) bounds it. */
static inline double term_score(const struct bm25 *m, double w, double tf, uint32_t len)
{
    return w * tf / (tf + m->c0 + m->c1 * len);
}

/* Exhaustive BM25 for the parsed query into r->acc (term at a time, every posting). */
static int accumulate_all(struct ret *r, const struct ret_opts *o, struct err *err)
{
    struct bm25 m = {0};
    int rc = bm25_setup(r, o, &m, err);
    if (rc || m.n <= 0) return rc;
    for (int i = 0; i < r->nq; i++) {
        int64_t df = 0;
        if ((rc = idx_post_open(r->ix, r->q[i].term, r->q[i].len, &df, err))) return rc;
        if (df <= 0) continue;
        r->q[i].idf = idf_of(&m, df);
        if (r->q[i].qtf <= 0) continue;
        double w = r->q[i].idf * r->q[i].qtf * (m.k1 + 1);
        struct idx_post p;
        int got;
        while ((got = idx_post_next(r->ix, &p, err)) == 1) {
            double tf = p.tf_body + m.tw * p.tf_title;
            if (tf <= 0 || !live(r, p.pid)) continue;
            double s = term_score(&m, w, tf, p.len);
            if (r->acc[p.pid] == 0) {
                if (vec_grow((void **)&r->touched, &r->touched_cap, r->ntouched + 1, sizeof *r->touched))
                    return err_set(err, ERR_NOMEM, "search");
                r->touched[r->ntouched++] = p.pid;
            }
            r->acc[p.pid] += (float)s;
        }
        if (got < 0) return err->code;
    }
    return ERR_OK;
}

/* ---------------------------------------------------------------- pruned BM25 (block-max MaxScore) */

/* Decode the cursor's current block unless it is; pos 0. */
static int cur_decode(struct pcur *c, struct err *err)
{
    if (c->dec == c->blk) return ERR_OK;
    int rc = idx_plist_block(&c->pl, c->blk, c->post, err);
    c->dec = rc ? SIZE_MAX : c->blk;
    c->pos = 0;
    return rc;
}

/* Move to the first posting with pid >= target (pid INT64_MAX when there is none). */
static int cur_seek(struct pcur *c, int64_t target, struct err *err)
{
    if (c->pid >= target) return ERR_OK;
    while (c->blk < c->pl.nblocks && c->pl.blocks[c->blk].last < target) c->blk++;
    if (c->blk == c->pl.nblocks) {
        c->pid = INT64_MAX;
        return ERR_OK;
    }
    int rc = cur_decode(c, err);
    if (rc) return rc;
    while (c->post[c->pos].pid < target) c->pos++; /* the block's last pid is >= target */
    c->pid = c->post[c->pos].pid;
    return ERR_OK;
}

static int cur_next(struct pcur *c, struct err *err)
{
    if (++c->pos < c->pl.blocks[c->blk].n) {
        c->pid = c->post[c->pos].pid;
        return ERR_OK;
    }
    if (++c->blk == c->pl.nblocks) {
        c->pid = INT64_MAX;
        return ERR_OK;
    }
    int rc = cur_decode(c, err);
    if (!rc) c->pid = c->post[0].pid;
    return rc;
}

/* The bound of the block that would hold `pid` (0 past the end); moves blk there, decoding
 * nothing. */
static double cur_block_bound(struct pcur *c, int64_t pid)
{
    while (c->blk < c->pl.nblocks && c->pl.blocks[c->blk].last < pid) c->blk++;
    return c->blk < c->pl.nblocks ? c->bub[c->blk] : 0;
}

/* Load query term i's postings into cursor c with its block bounds. *ok = 0 when the term is
 * absent or has no weight (the cursor is then unused). */
static int cur_load(struct ret *r, const struct bm25 *m, int i, struct pcur *c, int *ok,
                    struct err *err)
{
    *ok = 0;
    int rc = idx_plist_load(r->ix, r->q[i].term, r->q[i].len, &c->pl, err);
    if (rc || c->pl.df <= 0) return rc;
    r->q[i].idf = idf_of(m, c->pl.df);
    if (r->q[i].qtf <= 0 || c->pl.nblocks == 0) return ERR_OK;
    c->w = r->q[i].idf * r->q[i].qtf * (m->k1 + 1);
    if (vec_grow((void **)&c->bub, &c->bcap, c->pl.nblocks, sizeof *c->bub))
        return err_set(err, ERR_NOMEM, "search");
    c->ub = 0;
    double twmax = m->tw > 1 ? m->tw : 1;
    for (size_t j = 0; j < c->pl.nblocks; j++) {
        const struct idx_pblock *k = &c->pl.blocks[j];
        double tf = k->max_body + m->tw * k->max_title, tf2 = twmax * k->max_sum;
        if (tf2 < tf) tf = tf2;
        c->bub[j] = tf > 0 ? term_score(m, c->w, tf, k->min_len) : 0;
        if (c->bub[j] > c->ub) c->ub = c->bub[j];
    }
    c->blk = 0;
    c->dec = SIZE_MAX;
    if ((rc = cur_decode(c, err))) return rc;
    c->pid = c->post[0].pid;
    *ok = 1;
    return ERR_OK;
}
/* Finish the score of passage d given its essential contributions (terms mci[0..nm), scores ms)
 * when the heap is full (ess > 0 only then): probe the non-essential cursors, best bound first,
 * while the passage can still reach theta. *f = -1 when it cannot; else its float score: the
 * contributions rounded to float and added in query-term order, as accumulate_all adds them. */
static int prune_finish(struct ret *r, const struct bm25 *m, int ess, int64_t d, double part,
                        int nm, double theta, double margin, float *f, struct err *err)
{
    struct pcur **oc = r->pord;
    double *bb = r->pscr + RET_MAX_QUERY_TERMS + 1, *ms = bb + RET_MAX_QUERY_TERMS;
    int *mci = r->pci;
    *f = -1;
    if (ess > 0) {
        double rest = 0;
        for (int j = 0; j < ess; j++) rest += bb[j] = cur_block_bound(oc[j], d);
        for (int j = ess - 1; j >= 0; j--) {
            if ((part + rest) * margin < theta) return ERR_OK;
            rest -= bb[j];
            if (bb[j] <= 0) continue;
            struct pcur *c = oc[j];
            int rc = cur_seek(c, d, err);
            if (rc) return rc;
            if (c->pid != d) continue;
            const struct idx_post *p = &c->post[c->pos];
            double tf = p->tf_body + m->tw * p->tf_title;
            if (tf <= 0) continue;
            double s = term_score(m, c->w, tf, p->len);
            part += s;
            mci[nm] = c->ci;
            ms[nm++] = s;
        }
    }
    for (int i = 1; i < nm; i++) /* query order: insertion sort of a few */
        for (int j = i; j > 0 && mci[j - 1] > mci[j]; j--) {
            int t = mci[j];
            mci[j] = mci[j - 1];
            mci[j - 1] = t;
            double u = ms[j];
            ms[j] = ms[j - 1];
            ms[j - 1] = u;
        }
    float acc = 0;
    for (int i = 0; i < nm; i++) acc += (float)ms[i];
    *f = acc;
    return ERR_OK;
}

/* The best `want` passages of the exhaustive ranking (same scores, ties by lower pid) into r->acc
 * and r->touched by block-max MaxScore: cursors sorted by their terms' bounds; the longest prefix
 * whose bounds sum below the k-th best score is non-essential (only probed, block bounds first,
 * for passages of the others). r->pruned_cut says whether passages past `want` were left out. */
static int accumulate_pruned(struct ret *r, const struct ret_opts *o, int want, struct err *err)
{
    r->pruned_cut = 0;
    struct bm25 m = {0};
    int rc = bm25_setup(r, o, &m, err);
    if (rc || m.n <= 0) return rc;
    if (vec_grow_zero((void **)&r->pc, &r->pc_cap, (size_t)r->nq, sizeof *r->pc) ||
        vec_grow((void **)&r->ph, &r->ph_cap, (size_t)want, sizeof *r->ph) ||
        (!r->pscr && !(r->pscr = malloc((6 * RET_MAX_QUERY_TERMS + 1) * sizeof *r->pscr))) ||
        (!r->pord && !(r->pord = malloc(RET_MAX_QUERY_TERMS * sizeof *r->pord))) ||
        (!r->pci && !(r->pci = malloc(RET_MAX_QUERY_TERMS * sizeof *r->pci))))
        return err_set(err, ERR_NOMEM, "search");
    int nc = 0;
    for (int i = 0; i < r->nq; i++) {
        int ok = 0;
        if ((rc = cur_load(r, &m, i, &r->pc[nc], &ok, err))) return rc;
        if (!ok) continue;
        if (r->pc[nc].w <= 0) return accumulate_all(r, o, err); /* idf <= 0: bounds do not hold */
        r->pc[nc].ci = nc;
        nc++;
    }
    struct pcur **oc = r->pord;
    /* pre[j]: bounds of oc[0..j); a passage's essential terms: scores, weights, tf, lengths */
    double *pre = r->pscr, *ms = pre + 2 * RET_MAX_QUERY_TERMS + 1, *mw = ms + RET_MAX_QUERY_TERMS,
           *mtf = mw + RET_MAX_QUERY_TERMS, *mlen = mtf + RET_MAX_QUERY_TERMS;
    int *mci = r->pci;
    for (int j = 0; j < nc; j++) { /* insertion sort by bound, ascending */
        int x = j;
        for (; x > 0 && oc[x - 1]->ub > r->pc[j].ub; x--) oc[x] = oc[x - 1];
        oc[x] = &r->pc[j];
    }
    pre[0] = 0;
    for (int j = 0; j < nc; j++) pre[j + 1] = pre[j] + oc[j]->ub;
    /* a float sum of nc rounded terms exceeds the exact sum by at most this factor */
    double margin = 1 + (nc + 2) * 1.2e-7, theta = 0;
    int nh = 0, ess = 0;
    int64_t d = INT64_MAX;
    for (int j = 0; j < nc; j++)
        if (oc[j]->pid < d) d = oc[j]->pid;
    while (d != INT64_MAX) {
        /* the essential cursors at d: their contributions, then past d; next = the smallest rest */
        int64_t next = INT64_MAX;
        double pub = 0; /* the bound of their blocks */
        int nm = 0;
        for (int j = ess; j < nc; j++) {
            struct pcur *c = oc[j];
            if (c->pid == d) {
                const struct idx_post *p = &c->post[c->pos];
                double tf = p->tf_body + m.tw * p->tf_title;
                if (tf > 0) {
                    pub += c->bub[c->blk];
                    mci[nm] = c->ci;
                    mw[nm] = c->w;
                    mtf[nm] = tf;
                    mlen[nm++] = p->len;
                }
                if ((rc = cur_next(c, err))) return rc;
            }
            if (c->pid < next) next = c->pid;
        }
        /* with a full heap, the bounds alone often rule d out before any division */
        if (nm > 0 && ess > 0 && (pub + pre[ess]) * margin < theta) nm = 0;
        double part = 0;
        for (int i = 0; i < nm; i++) part += ms[i] = term_score(&m, mw[i], mtf[i], (uint32_t)mlen[i]);
        float f = -1;
        if (nm > 0 && live(r, d) && (rc = prune_finish(r, &m, ess, d, part, nm, theta, margin, &f, err)))
            return rc;
        if (f >= 0) {
            heap_push(r->ph, &nh, want, (struct ret_hit){d, -1, f});
            if (nh == want && r->ph[0].score > theta) {
                theta = r->ph[0].score;
                int grown = 0;
                while (ess < nc && pre[ess + 1] * margin < theta) ess++, grown = 1;
                if (grown) { /* fewer essential cursors: the next candidate is theirs */
                    next = INT64_MAX;
                    for (int j = ess; j < nc; j++)
                        if (oc[j]->pid < next) next = oc[j]->pid;
                }
            }
        }
        d = next;
    }
    r->pruned_cut = nh == want;
    if (vec_grow((void **)&r->touched, &r->touched_cap, r->ntouched + (size_t)nh, sizeof *r->touched))
        return err_set(err, ERR_NOMEM, "search");
    for (int i = 0; i < nh; i++) {
        r->touched[r->ntouched++] = r->ph[i].pid;
        r->acc[r->ph[i].pid] = (float)r->ph[i].score;
    }
    return ERR_OK;
}

/* BM25 for the parsed query into r->acc: from the remote backend when the index has one (as many
 * passages as bm25_want), else over the postings, pruned to the best `want` passages (pruned_want)
 * unless feedback or proximity re-score the accumulator or the index stores no block bounds. */
static int accumulate(struct ret *r, const struct ret_opts *o, int want, struct err *err)
{
    r->pruned_cut = 0;
    if (idx_bk_enabled(r->ix)) return accumulate_backend(r, o, bm25_want(o), err);
    if (!o->exhaustive && o->prf_docs <= 0 && o->proximity <= 0 && idx_post_bounds(r->ix))
        return accumulate_pruned(r, o, want, err);
    return accumulate_all(r, o, err);
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
    int n;
    size_t cap;
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
    if (vec_grow((void **)&p->t, &p->cap, (size_t)p->n + 1, sizeof *p->t)) return -1;
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
    struct prf_ctx p = {.r = r};
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
        clear_acc(r);
        rc = accumulate(r, o, pruned_want(o), err);
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
    int n;
    size_t qcap, pcap;
    int base;  /* added to token positions: keeps the title's apart from the text's */
};

static int prox_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)s, (void)e;
    struct prox_ctx *p = c;
    for (int i = 0; i < p->r->nq; i++)
        if (p->r->q[i].len == len && !memcmp(p->r->q[i].term, term, len)) {
            if (vec_grow((void **)&p->qi, &p->qcap, (size_t)p->n + 1, sizeof *p->qi) ||
                vec_grow((void **)&p->pos, &p->pcap, (size_t)p->n + 1, sizeof *p->pos))
                return -1;
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
    struct prox_ctx p = {.r = r};
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
    int want = pruned_want(&o);
    if ((rc = accumulate(r, &o, want, err))) goto out;
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
        /* a pruned list cut short of k documents is widened as by_doc widens the exhaustive one */
        while (!(rc = by_doc(r, o.k, hits, n, err)) && *n < o.k && r->pruned_cut && want < INT32_MAX / 4) {
            clear_acc(r);
            want *= 4;
            if ((rc = accumulate(r, &o, want, err))) break;
        }
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
