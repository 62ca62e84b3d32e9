/* test_ret.c - retrieve/ (ret.c) on tiny indexes whose expected rankings and scores are computed
 * here: BM25 with title weighting (numbers worked out by hand), RM3 pseudo-relevance feedback,
 * the term-proximity bonus, grouping by document, min-max score interpolation with the dense side,
 * and reciprocal rank fusion.
 *
 * The reference below reads the stored passages back, tokenizes them again with the corpus
 * tokenizer and recomputes each formula in double precision from the constants written in
 * ret.h/ret.c's comments (as literals here, so a changed constant there fails a case). It shares no
 * code with ret.c; only the passage and query vectors are taken from the index, since the embedder
 * is not what these cases check. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus/corpus.h"
#include "index/embed/emb.h"
#include "index/idx.h"
#include "retrieve/ret.h"
#include "test.h"

#define EPS 1e-6

/* ---------------------------------------------------------------- fixtures */

struct fdoc {
    const char *id, *title, *text;
};

/* GloVe-style 4-d vectors, one axis per topic: big cats, fruit, metals, water. */
static const char vectors_txt[] = "lion 0.9 0.1 0.0 0.1\n"
                                  "tiger 0.8 0.2 0.1 0.0\n"
                                  "zebra 0.5 0.1 0.0 0.5\n"
                                  "otter 0.2 0.0 0.1 0.9\n"
                                  "mango 0.0 0.9 0.2 0.1\n"
                                  "kiwi 0.1 0.8 0.0 0.2\n"
                                  "cobalt 0.0 0.1 0.9 0.1\n"
                                  "nickel 0.1 0.0 0.8 0.3\n";

/* A new index at <case tmp>/ix holding docs[0..n), `passage_words` words per passage (0: the
 * default); with `dense`, static vectors over vectors_txt, else no embedder. *out is the caller's.
 */
static int build(struct test_ctx *t_, const struct fdoc *docs, int n, int passage_words, int dense,
                 struct idx **out, struct err *e)
{
    *out = NULL;
    const char *dir = t_tmpdir(t_);
    if (!dir) return err_set(e, ERR_IO, "no temp folder");
    char ixdir[600], vec[600];
    snprintf(ixdir, sizeof ixdir, "%s/ix", dir);
    struct idx_vec_opts vo = {.embedder = "none"};
    int rc = ERR_OK;
    if (dense) {
        const char *txt = t_write(t_, dir, "vec.txt", vectors_txt, strlen(vectors_txt));
        if (!txt) return err_set(e, ERR_IO, "%s/vec.txt", dir);
        snprintf(vec, sizeof vec, "%s/vec.vcvec", dir);
        if ((rc = emb_vecfile_import(txt, vec, e))) return rc;
        vo.embedder = "static";
        vo.vectors = vec;
    }
    struct idx_opts io = {.create = 1, .passage_words = passage_words};
    struct idx *ix = NULL;
    rc = idx_open(&ix, ixdir, &io, e);
    if (!rc) rc = idx_begin(ix, e);
    if (!rc) rc = idx_vec_configure(ix, &vo, e);
    for (int i = 0; !rc && i < n; i++) {
        struct corpus_doc d = {docs[i].id,           docs[i].title, "",   docs[i].text,
                               strlen(docs[i].text), "fixture",     i + 1};
        rc = idx_add(ix, &d, NULL, e);
    }
    if (!rc) rc = idx_vec_sync(ix, NULL, NULL, e);
    if (!rc) rc = idx_commit(ix, e);
    if (!rc) rc = idx_vec_publish(ix, e);
    if (rc) {
        idx_close(ix);
        return rc;
    }
    *out = ix;
    return ERR_OK;
}

/* ---------------------------------------------------------------- the reference */

#define R_PAS 32  /* passages */
#define R_TOK 48  /* tokens per passage (title and text) */
#define R_TERM 64 /* query terms, and RM3 candidate terms */
#define R_DIM 8

struct rtok {
    char s[CORPUS_TOK_MAX + 1];
    int pos;   /* the tokenizer's position within its field */
    int title; /* 1: from the document title, 0: from the passage text */
};

struct rpas {
    int64_t pid, doc;
    char doc_id[32];
    int n; /* tokens, title and text: the passage length BM25 uses */
    struct rtok t[R_TOK];
    double vec[R_DIM];
    int has_vec;
};

struct rcorp {
    struct rpas p[R_PAS];
    int n;
    double avgdl;
    int dim;
};

struct rquery {
    int n;
    char term[R_TERM][CORPUS_TOK_MAX + 1];
    double wt[R_TERM];     /* weight: count in the query, or the RM3 weight */
    int seq[R_TERM], nseq; /* the query's terms in order (indexes into term) */
};

struct tokfill {
    struct rpas *p;
    int title, over;
};

static int tokfill_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)s, (void)e;
    struct tokfill *f = c;
    if (f->p->n == R_TOK || len > CORPUS_TOK_MAX) {
        f->over = 1;
        return 0;
    }
    struct rtok *t = &f->p->t[f->p->n++];
    memcpy(t->s, term, len);
    t->s[len] = '\0';
    t->pos = pos;
    t->title = f->title;
    return 0;
}

/* Every stored passage of ix, tokenized again; with `dense`, its stored vector too. */
static int ref_load(struct idx *ix, struct corpus_tok *tk, int dense, struct rcorp *c,
                    struct err *e)
{
    c->n = 0;
    c->dim = 0;
    double total = 0;
    float v[R_DIM];
    if (dense) {
        int rc = idx_vec_open(ix, e);
        if (rc) return rc;
        c->dim = idx_vec_dim(ix);
        if (c->dim <= 0 || c->dim > R_DIM) return err_set(e, ERR_INTERNAL, "dim %d", c->dim);
    }
    for (int64_t pid = 1; pid <= idx_max_pid(ix); pid++) {
        struct idx_passage ps;
        int rc = idx_passage(ix, pid, &ps, e);
        if (rc == ERR_NOTFOUND) continue;
        if (rc) return rc;
        if (c->n == R_PAS) return err_set(e, ERR_LIMIT, "more than %d passages", R_PAS);
        struct rpas *p = &c->p[c->n++];
        memset(p, 0, sizeof *p);
        p->pid = pid;
        p->doc = ps.doc_row;
        snprintf(p->doc_id, sizeof p->doc_id, "%s", ps.doc_id);
        struct tokfill f = {p, 1, 0};
        corpus_tok_run(tk, ps.title, strlen(ps.title), tokfill_cb, &f);
        f.title = 0;
        corpus_tok_run(tk, ps.text, strlen(ps.text), tokfill_cb, &f);
        if (f.over) return err_set(e, ERR_LIMIT, "passage %lld: too many tokens", (long long)pid);
        total += p->n;
        if (dense) {
            int found = 0;
            if ((rc = idx_vec_get(ix, pid, v, &found, e))) return rc;
            p->has_vec = found;
            for (int i = 0; found && i < c->dim; i++)
                p->vec[i] = v[i];
        }
    }
    c->avgdl = c->n ? total / c->n : 1;
    return ERR_OK;
}

static int rq_find(const struct rquery *q, const char *term)
{
    for (int i = 0; i < q->n; i++)
        if (!strcmp(q->term[i], term)) return i;
    return -1;
}

static int rquery_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos, (void)s, (void)e;
    struct rquery *q = c;
    char t[CORPUS_TOK_MAX + 1];
    memcpy(t, term, len);
    t[len] = '\0';
    int i = rq_find(q, t);
    if (i < 0 && q->n < R_TERM) {
        i = q->n++;
        snprintf(q->term[i], sizeof q->term[i], "%s", t);
        q->wt[i] = 0;
    }
    if (i < 0) return 0;
    q->wt[i] += 1;
    if (q->nseq < R_TERM) q->seq[q->nseq++] = i;
    return 0;
}

static void ref_query(struct corpus_tok *tk, const char *text, struct rquery *q)
{
    memset(q, 0, sizeof *q);
    corpus_tok_run(tk, text, strlen(text), rquery_cb, q);
}

static void tf_of(const struct rpas *p, const char *term, int *body, int *title)
{
    *body = *title = 0;
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->t[i].s, term)) (p->t[i].title ? (*title)++ : (*body)++);
}

/* Okapi BM25 with the idf log(1 + (N - df + 0.5) / (df + 0.5)) and tf = body + tw * title:
 *   score(p) = sum_t idf(t) * w(t) * (k1 + 1) * tf / (tf + k1 * (1 - b + b * len(p) / avgdl)).
 * score[i] for c->p[i]; idf[j] for q->term[j] (0 when no passage has it). */
static void ref_bm25(const struct rcorp *c, const struct rquery *q, double k1, double b, double tw,
                     double *score, double *idf)
{
    for (int i = 0; i < c->n; i++)
        score[i] = 0;
    for (int j = 0; j < q->n; j++) {
        int df = 0, tb, tt;
        for (int i = 0; i < c->n; i++) {
            tf_of(&c->p[i], q->term[j], &tb, &tt);
            df += tb + tt > 0;
        }
        idf[j] = df ? log(1.0 + (c->n - df + 0.5) / (df + 0.5)) : 0;
        for (int i = 0; i < c->n && df && q->wt[j] > 0; i++) {
            tf_of(&c->p[i], q->term[j], &tb, &tt);
            double tf = tb + tw * tt;
            if (tf <= 0) continue;
            score[i] +=
                idf[j] * q->wt[j] * (k1 + 1) * tf / (tf + k1 * (1 - b + b * c->p[i].n / c->avgdl));
        }
    }
}

/* Passage indexes best first (ties: lower passage id first) and their count: those marked in
 * `in`, or with in NULL those with a positive score (the ones a query matched). */
static int ref_rank(const struct rcorp *c, const double *score, const int *in, int *order)
{
    int n = 0;
    for (int i = 0; i < c->n; i++)
        if (in ? in[i] : score[i] > 0) order[n++] = i;
    for (int i = 1; i < n; i++) /* insertion sort: a handful of passages */
        for (int j = i; j > 0; j--) {
            int a = order[j - 1], b = order[j];
            if (score[a] > score[b] || (score[a] == score[b] && c->p[a].pid < c->p[b].pid)) break;
            order[j - 1] = b;
            order[j] = a;
        }
    return n;
}

/* RM3 with lambda 0.5 (RET_PRF_LAMBDA): the top `docs` passages of the first pass, each weighted
 * by its share of their scores, give P(t|R) = sum_D share(D) * count(t, D) / len(D); the best
 * `terms` of it (normalised to sum 1) are mixed 0.5/0.5 with the query (normalised to sum 1).
 * Rewrites q's weights and appends the new terms. Returns -1 when two candidates tie at the cut
 * (the fixture would then not say which one ret.c keeps). */
static int ref_rm3(const struct rcorp *c, struct rquery *q, const double *first, int docs,
                   int terms)
{
    int order[R_PAS], n = ref_rank(c, first, NULL, order);
    if (n > docs) n = docs;
    double total = 0;
    for (int i = 0; i < n; i++)
        total += first[order[i]];
    struct rquery cand = {0};
    for (int i = 0; i < n; i++) {
        const struct rpas *p = &c->p[order[i]];
        double dw = first[order[i]] / total / p->n;
        for (int k = 0; k < p->n; k++) {
            int j = rq_find(&cand, p->t[k].s);
            if (j < 0 && cand.n < R_TERM) {
                j = cand.n++;
                snprintf(cand.term[j], sizeof cand.term[j], "%s", p->t[k].s);
            }
            if (j >= 0) cand.wt[j] += dw;
        }
    }
    for (int i = 1; i < cand.n; i++) /* by weight, best first */
        for (int j = i; j > 0 && cand.wt[j - 1] < cand.wt[j]; j--) {
            double w = cand.wt[j - 1];
            char t[CORPUS_TOK_MAX + 1];
            memcpy(t, cand.term[j - 1], sizeof t);
            cand.wt[j - 1] = cand.wt[j];
            memcpy(cand.term[j - 1], cand.term[j], sizeof t);
            cand.wt[j] = w;
            memcpy(cand.term[j], t, sizeof t);
        }
    if (cand.n > terms && fabs(cand.wt[terms - 1] - cand.wt[terms]) < 1e-9) return -1;
    int keep = cand.n < terms ? cand.n : terms;
    double esum = 0, qsum = 0;
    for (int i = 0; i < keep; i++)
        esum += cand.wt[i];
    for (int j = 0; j < q->n; j++)
        qsum += q->wt[j];
    for (int j = 0; j < q->n; j++)
        q->wt[j] = 0.5 * q->wt[j] / qsum;
    for (int i = 0; i < keep; i++) {
        int j = rq_find(q, cand.term[i]);
        if (j < 0) {
            j = q->n++;
            snprintf(q->term[j], sizeof q->term[j], "%s", cand.term[i]);
            q->wt[j] = 0;
        }
        q->wt[j] += 0.5 * cand.wt[i] / esum;
    }
    return 0;
}

/* The proximity bonus: for each pair of consecutive distinct query terms (a, b), the number of
 * occurrence pairs within 8 tokens of each other in the same field (title or text), and
 * bonus = sum 0.5 * (idf(a) + idf(b)) * log(1 + count); score += lambda * bonus for every matched
 * passage (the fixtures are smaller than the 100 passages re-scored). */
static void ref_prox(const struct rcorp *c, const struct rquery *q, const double *idf,
                     double lambda, double *score)
{
    for (int i = 0; i < c->n; i++) {
        if (score[i] <= 0) continue;
        const struct rpas *p = &c->p[i];
        double bonus = 0;
        for (int k = 0; k + 1 < q->nseq; k++) {
            int a = q->seq[k], b = q->seq[k + 1], count = 0;
            if (a == b) continue;
            for (int x = 0; x < p->n; x++) {
                if (strcmp(p->t[x].s, q->term[a])) continue;
                for (int y = 0; y < p->n; y++)
                    if (!strcmp(p->t[y].s, q->term[b]) && p->t[y].title == p->t[x].title &&
                        abs(p->t[y].pos - p->t[x].pos) <= 8)
                        count++;
            }
            if (count) bonus += 0.5 * (idf[a] + idf[b]) * log(1.0 + count);
        }
        score[i] += lambda * bonus;
    }
}

static double cosine(const double *a, const double *b, int dim)
{
    double d = 0, na = 0, nb = 0;
    for (int i = 0; i < dim; i++) {
        d += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    return na > 0 && nb > 0 ? d / sqrt(na * nb) : 0;
}

/* The query's vector from the index's own embedder (not under test here). */
static int query_vec(struct idx *ix, const char *q, const struct rcorp *c, double *out,
                     struct err *e)
{
    float v[R_DIM];
    int zero = 1, rc = idx_vec_embed(ix, q, v, &zero, e);
    if (rc) return rc;
    if (zero) return err_set(e, ERR_INTERNAL, "query '%s' has no vector", q);
    for (int i = 0; i < c->dim; i++)
        out[i] = v[i];
    return ERR_OK;
}

/* ---------------------------------------------------------------- comparing */

/* The id of passage `ord` (from 0) of document `doc_id`, or -1. */
static int64_t pid_of(const struct rcorp *c, const char *doc_id, int ord)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->p[i].doc_id, doc_id) && ord-- == 0) return c->p[i].pid;
    return -1;
}

/* The document row of passage `pid`, or -1. */
static int64_t doc_of(const struct rcorp *c, int64_t pid)
{
    for (int i = 0; i < c->n; i++)
        if (c->p[i].pid == pid) return c->p[i].doc;
    return -1;
}

/* The rank (from 0) of passage `pid` among the hits, or -1. */
static int rank_of(const struct ret_hit *h, int n, int64_t pid)
{
    for (int i = 0; i < n; i++)
        if (h[i].pid == pid) return i;
    return -1;
}

struct want {
    int64_t pid;
    double score;
};

/* The hits must be exactly `w` (pid, in order) with each score within EPS; each hit's doc_row
 * must be its passage's document. Prints both lists on a mismatch. Returns 1 when they agree. */
static int same_hits(const struct rcorp *c, const char *what, const struct ret_hit *h, int n,
                     const struct want *w, int m)
{
    int ok = n == m;
    for (int i = 0; ok && i < n; i++)
        ok = h[i].pid == w[i].pid && fabs(h[i].score - w[i].score) <= EPS &&
             h[i].doc_row == doc_of(c, h[i].pid);
    if (!ok) {
        fprintf(stderr, "  %s: got", what);
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %lld:%.9f", (long long)h[i].pid, h[i].score);
        fprintf(stderr, "\n  %s: want", what);
        for (int i = 0; i < m; i++)
            fprintf(stderr, " %lld:%.9f", (long long)w[i].pid, w[i].score);
        fprintf(stderr, "\n");
    }
    return ok;
}

/* The reference's ranking (of the passages marked in `in`, or with a positive score) as wanted
 * hits, at most k. */
static int want_in(const struct rcorp *c, const double *score, const int *in, int k, struct want *w)
{
    int order[R_PAS], n = ref_rank(c, score, in, order);
    if (n > k) n = k;
    for (int i = 0; i < n; i++)
        w[i] = (struct want){c->p[order[i]].pid, score[order[i]]};
    return n;
}

static int want_of(const struct rcorp *c, const double *score, int k, struct want *w)
{
    return want_in(c, score, NULL, k, w);
}

/* ---------------------------------------------------------------- BM25 */

static const struct fdoc bm25_docs[] = {
    {"d1", "Lion", "lion tiger otter"},
    {"d2", "Zebra", "tiger tiger zebra kiwi"},
    {"d3", "Mango", "mango kiwi cobalt"},
};

/* Worked by hand (k1 1.2, b 0.75, title weight 2): N 3, lengths 4 5 4 (title + text), avgdl 13/3;
 * idf(lion) = ln(1 + 2.5/1.5), idf(tiger) = ln(1 + 1.5/2.5); d1: tf(lion) = 1 + 2*1, tf(tiger) 1;
 * d2: tf(tiger) 2. d1 = 1.567135008 + 0.485274505 = 2.052409513, d2 = 0.619451788. */
TEST(ret_bm25_hand_computed)
{
    struct err e = {0};
    struct idx *ix = NULL;
    struct ret *r = NULL;
    struct corpus_tok *tk = NULL;
    struct rcorp *c = calloc(1, sizeof *c);
    REQUIRE(c);
    REQUIRE_OK(build(t_, bm25_docs, 3, 0, 0, &ix, &e), e);
    REQUIRE_OK(corpus_tok_new(&tk, 0, &e), e);
    REQUIRE_OK(ref_load(ix, tk, 0, c, &e), e);
    REQUIRE_OK(ret_new(&r, ix, &e), e);
    struct ret_opts o = {.mode = RET_BM25, .k = 10, .k1 = 1.2, .b = 0.75, .title_weight = 2};
    struct ret_hit h[10];
    int n = 0;
    REQUIRE_OK(ret_search(r, "lion tiger", &o, h, &n, &e), e);
    struct want w[] = {{pid_of(c, "d1", 0), 2.052409513}, {pid_of(c, "d2", 0), 0.619451788}};
    CHECK(same_hits(c, "bm25", h, n, w, 2));
    /* the reference agrees with the hand computation */
    struct rquery q;
    double s[R_PAS], idf[R_TERM];
    ref_query(tk, "lion tiger", &q);
    ref_bm25(c, &q, 1.2, 0.75, 2, s, idf);
    struct want wr[R_PAS];
    CHECK(same_hits(c, "bm25 reference", h, n, wr, want_of(c, s, 10, wr)));
    /* title weight 0: the title's "lion" no longer counts */
    o.title_weight = -1;
    REQUIRE_OK(ret_search(r, "lion tiger", &o, h, &n, &e), e);
    ref_bm25(c, &q, 1.2, 0.75, 0, s, idf);
    CHECK(same_hits(c, "bm25 title weight 0", h, n, wr, want_of(c, s, 10, wr)));
    ret_free(r);
    corpus_tok_free(tk);
    idx_close(ix);
    free(c);
}

/* ---------------------------------------------------------------- RM3 */

static const struct fdoc prf_docs[] = {
    {"a", "", "lion tiger tiger kiwi"},
    {"b", "", "lion tiger zebra"},
    {"c", "", "tiger zebra otter mango"}, /* no "lion": only the feedback can find it */
    {"d", "", "lion mango cobalt nickel quartz basalt"},
    {"e", "", "cobalt nickel quartz"},
};

TEST(ret_rm3_feedback)
{
    struct err e = {0};
    struct idx *ix = NULL;
    struct ret *r = NULL;
    struct corpus_tok *tk = NULL;
    struct rcorp *c = calloc(1, sizeof *c);
    REQUIRE(c);
    REQUIRE_OK(build(t_, prf_docs, 5, 0, 0, &ix, &e), e);
    REQUIRE_OK(corpus_tok_new(&tk, 0, &e), e);
    REQUIRE_OK(ref_load(ix, tk, 0, c, &e), e);
    REQUIRE_OK(ret_new(&r, ix, &e), e);
    struct ret_opts o = {
        .mode = RET_BM25, .k = 10, .k1 = 1.2, .b = 0.75, .prf_docs = 2, .prf_terms = 2};
    struct ret_hit h[10];
    int n = 0;
    REQUIRE_OK(ret_search(r, "lion", &o, h, &n, &e), e);

    struct rquery q;
    double first[R_PAS], s[R_PAS], idf[R_TERM];
    ref_query(tk, "lion", &q);
    ref_bm25(c, &q, 1.2, 0.75, 1, first, idf);
    REQUIRE(ref_rm3(c, &q, first, 2, 2) == 0);
    /* by hand: a and b are the feedback passages, "tiger" (in both, twice in a) and "lion" are the
     * two terms kept, so the query becomes lion 0.5 + ..., tiger ... */
    REQUIRE(q.n == 2 && !strcmp(q.term[1], "tiger"));
    CHECK(fabs(q.wt[0] + q.wt[1] - 1) < 1e-12 && q.wt[0] > 0.5);
    ref_bm25(c, &q, 1.2, 0.75, 1, s, idf);
    struct want w[R_PAS];
    int m = want_of(c, s, 10, w);
    CHECK(same_hits(c, "rm3", h, n, w, m));
    CHECK(rank_of(h, n, pid_of(c, "c", 0)) >= 0); /* found through "tiger" alone */

    /* more feedback terms: zebra (in b) joins */
    o.prf_terms = 3;
    REQUIRE_OK(ret_search(r, "lion", &o, h, &n, &e), e);
    ref_query(tk, "lion", &q);
    REQUIRE(ref_rm3(c, &q, first, 2, 3) == 0);
    REQUIRE(q.n == 3);
    ref_bm25(c, &q, 1.2, 0.75, 1, s, idf);
    m = want_of(c, s, 10, w);
    CHECK(same_hits(c, "rm3 3 terms", h, n, w, m));
    ret_free(r);
    corpus_tok_free(tk);
    idx_close(ix);
    free(c);
}

/* ---------------------------------------------------------------- proximity */

/* "far" and "near" hold the same words (same BM25): in "near" lion and tiger are 8 tokens apart
 * (inside the window), in "far" 9 (outside). "cross" has lion only in its title. */
static const struct fdoc prox_docs[] = {
    {"far", "", "lion kiwi mango cobalt nickel quartz basalt amber copper tiger"},
    {"near", "", "lion kiwi mango cobalt nickel quartz basalt amber tiger copper"},
    {"twice", "", "lion tiger lion kiwi mango cobalt nickel quartz basalt amber"},
    {"cross", "Lion", "tiger kiwi mango cobalt nickel quartz basalt amber copper"},
    {"none", "", "zebra otter heron"},
};

TEST(ret_proximity_bonus)
{
    struct err e = {0};
    struct idx *ix = NULL;
    struct ret *r = NULL;
    struct corpus_tok *tk = NULL;
    struct rcorp *c = calloc(1, sizeof *c);
    REQUIRE(c);
    REQUIRE_OK(build(t_, prox_docs, 5, 0, 0, &ix, &e), e);
    REQUIRE_OK(corpus_tok_new(&tk, 0, &e), e);
    REQUIRE_OK(ref_load(ix, tk, 0, c, &e), e);
    REQUIRE_OK(ret_new(&r, ix, &e), e);
    int64_t far = pid_of(c, "far", 0), near = pid_of(c, "near", 0), twice = pid_of(c, "twice", 0),
            cross = pid_of(c, "cross", 0);
    struct ret_opts o = {.mode = RET_BM25, .k = 10, .k1 = 1.2, .b = 0.75};
    struct ret_hit h[10], h0[10];
    int n = 0, n0 = 0;
    REQUIRE_OK(ret_search(r, "lion tiger", &o, h0, &n0, &e), e);
    o.proximity = 0.25;
    REQUIRE_OK(ret_search(r, "lion tiger", &o, h, &n, &e), e);

    struct rquery q;
    double s[R_PAS], idf[R_TERM];
    ref_query(tk, "lion tiger", &q);
    ref_bm25(c, &q, 1.2, 0.75, 1, s, idf);
    double bm25[R_PAS];
    memcpy(bm25, s, sizeof s);
    ref_prox(c, &q, idf, 0.25, s);
    struct want w[R_PAS];
    CHECK(same_hits(c, "proximity", h, n, w, want_of(c, s, 10, w)));
    /* by hand: without the bonus far and near tie (far first, lower id); with it near gains
     * 0.25 * idf * log 2 (idf equal for lion and tiger: both in 4 of 5 passages), far and cross
     * nothing, twice 0.25 * idf * log 3 */
    int ifar = rank_of(h0, n0, far), inear = rank_of(h0, n0, near);
    CHECK(ifar >= 0 && inear == ifar + 1 && h0[ifar].score == h0[inear].score);
    double idf_l = log(1 + 1.5 / 4.5);
    for (int i = 0; i < c->n; i++) {
        double bonus = s[i] - bm25[i];
        if (c->p[i].pid == near) CHECK(fabs(bonus - 0.25 * idf_l * log(2)) < 1e-12);
        if (c->p[i].pid == twice) CHECK(fabs(bonus - 0.25 * idf_l * log(3)) < 1e-12);
        if (c->p[i].pid == far || c->p[i].pid == cross) CHECK(bonus == 0);
    }
    ifar = rank_of(h, n, far);
    inear = rank_of(h, n, near);
    CHECK(inear >= 0 && ifar > inear);
    ret_free(r);
    corpus_tok_free(tk);
    idx_close(ix);
    free(c);
}

/* ---------------------------------------------------------------- by document */

/* 10 words per passage: "long" splits in two, its second passage the better one. */
static const struct fdoc bydoc_docs[] = {
    {"long", "Kiwi",
     "lion mango cobalt nickel quartz basalt amber copper heron falcon "
     "lion lion tiger mango cobalt nickel quartz basalt amber copper"},
    {"short", "", "lion tiger walrus badger otter zebra"},
    {"weak", "", "lion mango cobalt nickel quartz basalt amber copper heron falcon walrus"},
    {"other", "", "zebra otter heron falcon"},
};

TEST(ret_by_doc_grouping)
{
    struct err e = {0};
    struct idx *ix = NULL;
    struct ret *r = NULL;
    struct corpus_tok *tk = NULL;
    struct rcorp *c = calloc(1, sizeof *c);
    REQUIRE(c);
    REQUIRE_OK(build(t_, bydoc_docs, 4, 10, 0, &ix, &e), e);
    REQUIRE_OK(corpus_tok_new(&tk, 0, &e), e);
    REQUIRE_OK(ref_load(ix, tk, 0, c, &e), e);
    REQUIRE(c->n == 5 && pid_of(c, "long", 1) > 0);
    REQUIRE_OK(ret_new(&r, ix, &e), e);
    struct rquery q;
    double s[R_PAS], idf[R_TERM];
    ref_query(tk, "lion tiger", &q);
    ref_bm25(c, &q, 1.2, 0.75, 1, s, idf);
    /* passages: all four matching ones, long's first passage last */
    struct ret_opts o = {.mode = RET_BM25, .k = 10, .k1 = 1.2, .b = 0.75};
    struct ret_hit h[10];
    int n = 0;
    REQUIRE_OK(ret_search(r, "lion tiger", &o, h, &n, &e), e);
    struct want w[R_PAS];
    int m = want_of(c, s, 10, w);
    CHECK(m == 4);
    CHECK(same_hits(c, "passages", h, n, w, m));
    /* documents: each by its best passage, in that passage's order */
    struct want wd[R_PAS];
    int md = 0;
    for (int i = 0; i < m; i++) {
        int dup = 0;
        for (int j = 0; j < md; j++)
            dup |= doc_of(c, wd[j].pid) == doc_of(c, w[i].pid);
        if (!dup) wd[md++] = w[i];
    }
    CHECK(md == 3);
    CHECK(wd[0].pid == pid_of(c, "long", 1) || wd[1].pid == pid_of(c, "long", 1));
    o.by_doc = 1;
    REQUIRE_OK(ret_search(r, "lion tiger", &o, h, &n, &e), e);
    CHECK(same_hits(c, "by doc", h, n, wd, md));
    o.k = 2;
    REQUIRE_OK(ret_search(r, "lion tiger", &o, h, &n, &e), e);
    CHECK(same_hits(c, "by doc k 2", h, n, wd, 2));
    ret_free(r);
    corpus_tok_free(tk);
    idx_close(ix);
    free(c);
}

/* ---------------------------------------------------------------- fusion with the dense side */

static const struct fdoc dense_docs[] = {
    {"p1", "", "lion lion mango kiwi"},
    {"p2", "", "lion otter otter"},
    {"p3", "", "lion tiger"},
    {"p4", "", "tiger tiger zebra"}, /* no "lion": only the vectors find it */
    {"p5", "", "cobalt nickel"},
    {"p6", "", "lion cobalt nickel nickel mango"},
};

/* Interpolation over the BM25 candidates: both sides min-max scaled over the candidates,
 * score = (1 - alpha) * bm25' + alpha * cos'. */
static int want_interp(const struct rcorp *c, const double *bm25, const double *qv, double alpha,
                       struct want *w)
{
    int order[R_PAS], n = ref_rank(c, bm25, NULL, order), in[R_PAS] = {0};
    double bmin = bm25[order[n - 1]], bmax = bm25[order[0]], cmin = 2, cmax = -2, cs[R_PAS],
           f[R_PAS];
    for (int i = 0; i < n; i++) {
        const struct rpas *p = &c->p[order[i]];
        cs[i] = p->has_vec ? cosine(qv, p->vec, c->dim) : 0;
        cmin = cs[i] < cmin ? cs[i] : cmin;
        cmax = cs[i] > cmax ? cs[i] : cmax;
    }
    for (int i = 0; i < c->n; i++)
        f[i] = 0;
    for (int i = 0; i < n; i++) {
        double b = bmax > bmin ? (bm25[order[i]] - bmin) / (bmax - bmin) : 1;
        double cc = cmax > cmin ? (cs[i] - cmin) / (cmax - cmin) : 0;
        f[order[i]] = (1 - alpha) * b + alpha * cc;
        in[order[i]] = 1;
    }
    return want_in(c, f, in, R_PAS, w);
}

TEST(ret_interpolation)
{
    struct err e = {0};
    struct idx *ix = NULL;
    struct ret *r = NULL;
    struct corpus_tok *tk = NULL;
    struct rcorp *c = calloc(1, sizeof *c);
    REQUIRE(c);
    REQUIRE_OK(build(t_, dense_docs, 6, 0, 1, &ix, &e), e);
    REQUIRE_OK(corpus_tok_new(&tk, 0, &e), e);
    REQUIRE_OK(ref_load(ix, tk, 1, c, &e), e);
    REQUIRE_OK(ret_new(&r, ix, &e), e);
    double qv[R_DIM];
    REQUIRE_OK(query_vec(ix, "lion", c, qv, &e), e);
    struct rquery q;
    double s[R_PAS], idf[R_TERM];
    ref_query(tk, "lion", &q);
    ref_bm25(c, &q, 1.2, 0.75, 1, s, idf);
    struct want wb[R_PAS], w[R_PAS];
    int mb = want_of(c, s, 10, wb);
    REQUIRE(mb == 4); /* p1 p2 p3 p6 */
    struct ret_hit h[10];
    int n = 0, differs = 0;
    const double alphas[] = {0.3, 0.7, 1.0};
    for (int a = 0; a < 3; a++) {
        struct ret_opts o = {.mode = RET_HYBRID,
                             .fusion = RET_FUSION_INTERP,
                             .alpha = alphas[a],
                             .k = 10,
                             .k1 = 1.2,
                             .b = 0.75};
        REQUIRE_OK(ret_search(r, "lion", &o, h, &n, &e), e);
        int m = want_interp(c, s, qv, alphas[a], w);
        char what[32];
        snprintf(what, sizeof what, "interp alpha %.1f", alphas[a]);
        CHECK(same_hits(c, what, h, n, w, m));
        /* by hand: the best BM25 passage scores 1 - alpha + alpha * cos', the worst alpha * cos' */
        CHECK(m == 4);
        for (int i = 0; i < m; i++)
            differs |= w[i].pid != wb[i].pid;
    }
    CHECK(differs); /* the dense side changed the order somewhere */
    ret_free(r);
    corpus_tok_free(tk);
    idx_close(ix);
    free(c);
}

/* Reciprocal rank fusion: sum over the BM25 list and the dense list (every passage with a vector,
 * by cosine) of 1 / (rrf_k + rank), ranks from 1. */
static int want_rrf(const struct rcorp *c, const double *bm25, const double *qv, int rrf_k,
                    struct want *w)
{
    int order[R_PAS], n = ref_rank(c, bm25, NULL, order), vec[R_PAS];
    double f[R_PAS], cs[R_PAS];
    for (int i = 0; i < c->n; i++) {
        f[i] = 0;
        vec[i] = c->p[i].has_vec;
        cs[i] = vec[i] ? cosine(qv, c->p[i].vec, c->dim) : 0;
    }
    for (int i = 0; i < n; i++)
        f[order[i]] += 1.0 / (rrf_k + i + 1);
    n = ref_rank(c, cs, vec, order);
    for (int i = 0; i < n; i++)
        f[order[i]] += 1.0 / (rrf_k + i + 1);
    return want_of(c, f, R_PAS, w); /* every ranked passage scores > 0 */
}

TEST(ret_rrf_fusion)
{
    struct err e = {0};
    struct idx *ix = NULL;
    struct ret *r = NULL;
    struct corpus_tok *tk = NULL;
    struct rcorp *c = calloc(1, sizeof *c);
    REQUIRE(c);
    REQUIRE_OK(build(t_, dense_docs, 6, 0, 1, &ix, &e), e);
    REQUIRE_OK(corpus_tok_new(&tk, 0, &e), e);
    REQUIRE_OK(ref_load(ix, tk, 1, c, &e), e);
    REQUIRE_OK(ret_new(&r, ix, &e), e);
    double qv[R_DIM];
    REQUIRE_OK(query_vec(ix, "lion", c, qv, &e), e);
    struct rquery q;
    double s[R_PAS], idf[R_TERM];
    ref_query(tk, "lion", &q);
    ref_bm25(c, &q, 1.2, 0.75, 1, s, idf);
    struct want w[R_PAS];
    struct ret_hit h[10];
    int n = 0;
    const int ks[] = {0, 2}; /* 0: the default, 60 */
    for (int k = 0; k < 2; k++) {
        struct ret_opts o = {.mode = RET_HYBRID,
                             .fusion = RET_FUSION_RRF,
                             .rrf_k = ks[k],
                             .k = 10,
                             .k1 = 1.2,
                             .b = 0.75};
        REQUIRE_OK(ret_search(r, "lion", &o, h, &n, &e), e);
        int m = want_rrf(c, s, qv, ks[k] ? ks[k] : 60, w);
        char what[32];
        snprintf(what, sizeof what, "rrf k %d", ks[k] ? ks[k] : 60);
        CHECK(same_hits(c, what, h, n, w, m));
        CHECK(rank_of(h, n, pid_of(c, "p4", 0)) >= 0); /* from the dense list alone */
        /* by hand: a passage first in both lists scores 2 / (k + 1) */
        CHECK(n > 0 && h[0].score <= 2.0 / ((ks[k] ? ks[k] : 60) + 1) + EPS);
    }
    /* by document: p1..p6 are one document each, so the same list cut at 3 */
    struct ret_opts o = {
        .mode = RET_HYBRID, .fusion = RET_FUSION_RRF, .k = 3, .by_doc = 1, .k1 = 1.2, .b = 0.75};
    REQUIRE_OK(ret_search(r, "lion", &o, h, &n, &e), e);
    REQUIRE(want_rrf(c, s, qv, 60, w) >= 3);
    CHECK(same_hits(c, "rrf by doc", h, n, w, 3));
    ret_free(r);
    corpus_tok_free(tk);
    idx_close(ix);
    free(c);
}

/* ---------------------------------------------------------------- pruned BM25 = exhaustive */

/* Run `q` pruned and exhaustive with the same options; count a difference in the hits (count,
 * passages, order, documents, scores compared with ==: both paths add the same floats in the same
 * order) in *bad, printing the first few. */
static int same_ranking(struct ret *r, const char *q, struct ret_opts o, int *bad, struct err *e)
{
    int k = o.k > 0 ? o.k : 10, n0 = 0, n1 = 0, rc;
    struct ret_hit *h0 = calloc((size_t)k, sizeof *h0), *h1 = calloc((size_t)k, sizeof *h1);
    if (!h0 || !h1) {
        free(h0);
        free(h1);
        return err_set(e, ERR_NOMEM, "hits");
    }
    o.exhaustive = 1;
    rc = ret_search(r, q, &o, h0, &n0, e);
    o.exhaustive = 0;
    if (!rc) rc = ret_search(r, q, &o, h1, &n1, e);
    int diff = !rc && n0 != n1;
    for (int i = 0; !rc && !diff && i < n0; i++)
        diff = h0[i].pid != h1[i].pid || h0[i].doc_row != h1[i].doc_row || h0[i].score != h1[i].score;
    if (diff && (*bad)++ < 5) {
        fprintf(stderr, "  differs: k=%d by_doc=%d '%.60s': %d vs %d hits", k, o.by_doc, q, n0, n1);
        for (int i = 0; i < n0 && i < n1; i++)
            if (h0[i].pid != h1[i].pid || h0[i].score != h1[i].score) {
                fprintf(stderr, ", first at rank %d: pid %lld %.9g vs %lld %.9g", i + 1,
                        (long long)h0[i].pid, h0[i].score, (long long)h1[i].pid, h1[i].score);
                break;
            }
        fputc('\n', stderr);
    }
    free(h0);
    free(h1);
    return rc;
}

/* The edge cases every corpus gets, plus `q` at k = 1, 10 and 100, as passages and documents. */
static int same_rankings(struct ret *r, const char *q, int *bad, int *n, struct err *e)
{
    static const int ks[] = {1, 10, 100};
    int rc = ERR_OK;
    for (int i = 0; i < 3 && !rc; i++) {
        struct ret_opts o = {.mode = RET_BM25, .k = ks[i]};
        rc = same_ranking(r, q, o, bad, e);
        o.by_doc = 1;
        if (!rc) rc = same_ranking(r, q, o, bad, e);
        *n += 2;
    }
    return rc;
}

static const char *const edge_queries[] = {
    "the of and to in is it",          /* stop words only: no hits either way */
    "qqzxjvw",                         /* a term absent from the index */
    "qqzxjvw cell",                    /* an absent term beside a present one */
    "cell cell cell protein protein",  /* repeated terms (query tf 3 and 2) */
    "",
};

/* Hits of the pruned search against the exhaustive one for the claims of `qpath` (every `step`th)
 * and the edge queries; also other BM25 parameters and hybrid-free modes on a few. */
struct claims_ctx {
    struct ret *r;
    int bad, n, i, step;
    struct err *e;
};

static int claims_cb(void *c, const char *id, const char *text, long line)
{
    (void)id, (void)line;
    struct claims_ctx *x = c;
    if (x->i++ % x->step) return 0;
    return same_rankings(x->r, text, &x->bad, &x->n, x->e);
}

static int parameter_variants(struct ret *r, const char *q, int *bad, int *n, struct err *e)
{
    struct ret_opts v[] = {{.mode = RET_BM25, .k = 100, .k1 = 1.5, .b = 0.9},
                           {.mode = RET_BM25, .k = 10, .title_weight = -1},
                           {.mode = RET_BM25, .k = 10, .title_weight = 3},
                           {.mode = RET_BM25, .k = 50, .b = 1, .k1 = 0.3}};
    int rc = ERR_OK;
    for (size_t i = 0; i < sizeof v / sizeof v[0] && !rc; i++, (*n)++) rc = same_ranking(r, q, v[i], bad, e);
    return rc;
}

TEST(ret_pruned_scifact)
{
    const char *corpus = t_shared(t_, "scifact/corpus.jsonl");
    const char *qpath = t_shared(t_, "scifact/queries_train.jsonl");
    if (!corpus || !qpath) SKIP("../shared/data/scifact not present");
    struct err e = {0};
    char ixdir[600];
    snprintf(ixdir, sizeof ixdir, "%s/sf", t_tmpdir(t_));
    struct idx_opts io = {.create = 1};
    struct idx *ix = NULL;
    struct corpus_reader *cr = NULL;
    REQUIRE_OK(idx_open(&ix, ixdir, &io, &e), e);
    REQUIRE_OK(corpus_open(&cr, corpus, NULL, &e), e);
    int rc = idx_begin(ix, &e), has = 1;
    while (!rc && has) {
        struct corpus_doc d;
        if (!(rc = corpus_next(cr, &d, &has, &e)) && has) rc = idx_add(ix, &d, NULL, &e);
    }
    corpus_close(cr);
    if (!rc) rc = idx_commit(ix, &e);
    REQUIRE_OK(rc, e);
    CHECK(idx_post_bounds(ix) == 1);
    struct ret *r = NULL;
    REQUIRE_OK(ret_new(&r, ix, &e), e);
    struct claims_ctx x = {r, 0, 0, 0, 1, &e};
    rc = corpus_queries_read(qpath, claims_cb, &x, &e);
    for (size_t i = 0; !rc && i < sizeof edge_queries / sizeof *edge_queries; i++)
        rc = same_rankings(r, edge_queries[i], &x.bad, &x.n, &e);
    if (!rc) rc = parameter_variants(r, "BRCA1 mutations increase the risk of breast cancer", &x.bad, &x.n, &e);
    CHECK(rc == ERR_OK);
    fprintf(stderr, "  %d rankings compared (%d claims), %d differ\n", x.n, x.i, x.bad);
    CHECK(x.n > 4000);
    CHECK(x.bad == 0);
    ret_free(r);
    idx_close(ix);
}

/* ---- a generated corpus: words drawn from a Zipf distribution (s = 1) over a synthetic vocabulary */

struct zipf {
    uint64_t rng;
    double *cdf; /* (nv) */
    int nv;
};

static uint64_t zipf_rand(struct zipf *z)
{
    z->rng ^= z->rng << 13;
    z->rng ^= z->rng >> 7;
    z->rng ^= z->rng << 17;
    return z->rng;
}

static int zipf_word(struct zipf *z)
{
    double u = (double)(zipf_rand(z) >> 11) / 9007199254740992.0 * z->cdf[z->nv - 1];
    int lo = 0, hi = z->nv - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (z->cdf[mid] < u) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Append `n` Zipf words (consonant-vowel syllables spelling the word's rank) to b. */
static int zipf_text(struct zipf *z, struct buf *b, int n)
{
    static const char cons[] = "bcdfghjklmnprstvwxz", vow[] = "aeiou";
    for (int i = 0; i < n; i++) {
        int w = zipf_word(z) + 100; /* at least two syllables */
        if (i && buf_append(b, " ", 1)) return -1;
        for (; w > 0; w /= 95)
            if (buf_printf(b, "%c%c", cons[w % 95 / 5], vow[w % 5])) return -1;
    }
    return 0;
}

/* Add documents first .. first+n-1 ("z<i>"), each a title of 1-6 words and 10-300 words of text. */
static int zipf_docs(struct idx *ix, struct zipf *z, int first, int n, struct err *e)
{
    struct buf title = {0}, text = {0};
    char id[32];
    int rc = idx_begin(ix, e);
    for (int i = first; !rc && i < first + n; i++) {
        buf_reset(&title);
        buf_reset(&text);
        if (zipf_text(z, &title, 1 + (int)(zipf_rand(z) % 6)) ||
            zipf_text(z, &text, 10 + (int)(zipf_rand(z) % 291))) {
            rc = err_set(e, ERR_NOMEM, "corpus");
            break;
        }
        snprintf(id, sizeof id, "z%d", i);
        struct corpus_doc d = {id, title.data, "", text.data, text.len, "zipf", i + 1};
        rc = idx_add(ix, &d, NULL, e);
    }
    if (!rc) rc = idx_commit(ix, e);
    else idx_rollback(ix);
    buf_cleanup(&title);
    buf_cleanup(&text);
    return rc;
}

/* `nq` generated queries (1-15 Zipf words; every fifth repeats its first word) and the edge
 * queries, pruned against exhaustive on a fresh retriever over ix. */
static int zipf_compare(struct idx *ix, struct zipf *z, int nq, int *bad, int *n, struct err *e)
{
    struct ret *r = NULL;
    struct buf q = {0};
    int rc = ret_new(&r, ix, e);
    for (int i = 0; !rc && i < nq; i++) {
        buf_reset(&q);
        if (zipf_text(z, &q, 1 + (int)(zipf_rand(z) % 15))) rc = err_set(e, ERR_NOMEM, "query");
        if (!rc && i % 5 == 0) {
            size_t sp = strcspn(q.data, " ");
            if (buf_printf(&q, " %.*s %.*s", (int)sp, q.data, (int)sp, q.data)) rc = err_set(e, ERR_NOMEM, "query");
        }
        if (!rc) rc = same_rankings(r, q.data, bad, n, e);
        if (!rc && i % 10 == 0) rc = parameter_variants(r, q.data, bad, n, e);
    }
    for (size_t i = 0; !rc && i < sizeof edge_queries / sizeof *edge_queries; i++)
        rc = same_rankings(r, edge_queries[i], bad, n, e);
    buf_cleanup(&q);
    ret_free(r);
    return rc;
}

static int sql_exec(const char *dir, const char *sql, struct err *e)
{
    char path[700];
    snprintf(path, sizeof path, "%s/index.db", dir);
    sqlite3 *db = NULL;
    int rc = ERR_OK;
    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        rc = err_set(e, ERR_SQLITE, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

/* ~20k passages: pruned = exhaustive after building, after removals and appends (segments
 * rewritten), with stored bounds missing or stale (computed on load), and on an index from before
 * postings format 2 (read-only: exhaustive; read-write: upgraded on open). */
TEST(ret_pruned_zipf)
{
    struct err e = {0};
    struct zipf z = {0x9e3779b97f4a7c15ull, NULL, 20000};
    REQUIRE((z.cdf = malloc((size_t)z.nv * sizeof *z.cdf)));
    for (int i = 0; i < z.nv; i++) z.cdf[i] = (i ? z.cdf[i - 1] : 0) + 1.0 / (i + 1);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/zipf", t_tmpdir(t_));
    struct idx_opts io = {.create = 1};
    struct idx *ix = NULL;
    int bad = 0, n = 0;
    REQUIRE_OK(idx_open(&ix, dir, &io, &e), e);
    int rc = zipf_docs(ix, &z, 0, 11000, &e);
    struct idx_stats st = {0};
    if (!rc) rc = idx_stats(ix, &st, &e);
    fprintf(stderr, "  %lld passages, %lld terms\n", (long long)st.passages, (long long)st.terms);
    CHECK(st.passages >= 18000);
    if (!rc) rc = zipf_compare(ix, &z, 120, &bad, &n, &e);
    /* removals rewrite segments; appends extend the last ones */
    if (!rc && !(rc = idx_begin(ix, &e))) {
        char id[32];
        for (int i = 0; !rc && i < 11000; i += 97) {
            snprintf(id, sizeof id, "z%d", i);
            rc = idx_remove(ix, id, NULL, &e);
        }
        rc = rc ? (idx_rollback(ix), rc) : idx_commit(ix, &e);
    }
    if (!rc) rc = zipf_docs(ix, &z, 11000, 300, &e);
    if (!rc) rc = zipf_compare(ix, &z, 30, &bad, &n, &e);
    idx_close(ix);
    ix = NULL;
    REQUIRE_OK(rc, e);
    /* bounds missing on some rows and stale on others: computed from the data */
    REQUIRE_OK(sql_exec(dir, "UPDATE postings SET bounds=NULL WHERE term < 'f';"
                             "UPDATE postings SET bounds=X'0102' WHERE term > 'r';", &e), e);
    REQUIRE_OK(idx_open(&ix, dir, NULL, &e), e);
    rc = zipf_compare(ix, &z, 30, &bad, &n, &e);
    idx_close(ix);
    ix = NULL;
    REQUIRE_OK(rc, e);
    /* postings format 1 */
    REQUIRE_OK(sql_exec(dir, "ALTER TABLE postings DROP COLUMN bounds;"
                             "UPDATE settings SET value='1' WHERE key='postings_format'", &e), e);
    struct idx_opts ro = {.readonly = 1};
    REQUIRE_OK(idx_open(&ix, dir, &ro, &e), e);
    CHECK(idx_post_bounds(ix) == 0);
    rc = zipf_compare(ix, &z, 10, &bad, &n, &e);
    idx_close(ix);
    ix = NULL;
    REQUIRE_OK(rc, e);
    REQUIRE_OK(idx_open(&ix, dir, NULL, &e), e);
    CHECK(idx_post_bounds(ix) == 1);
    rc = zipf_compare(ix, &z, 30, &bad, &n, &e);
    char *fmt = NULL;
    idx_setting_get(ix, "postings_format", &fmt, NULL);
    CHECK(fmt && strcmp(fmt, "2") == 0);
    free(fmt);
    idx_close(ix);
    free(z.cdf);
    REQUIRE_OK(rc, e);
    fprintf(stderr, "  %d rankings compared, %d differ\n", n, bad);
    CHECK(n > 1200);
    CHECK(bad == 0);
}

/* Documents of 15 alike passages each: the pruned --by-doc search's first 2k passages hold fewer
 * than k documents, so it widens as the exhaustive grouping does, and the documents still match. */
TEST(ret_pruned_by_doc_widens)
{
    struct err e = {0};
    struct zipf z = {0x2545f4914f6cdd1dull, NULL, 3000};
    REQUIRE((z.cdf = malloc((size_t)z.nv * sizeof *z.cdf)));
    for (int i = 0; i < z.nv; i++) z.cdf[i] = (i ? z.cdf[i - 1] : 0) + 1.0 / (i + 1);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/long", t_tmpdir(t_));
    struct idx_opts io = {.create = 1, .passage_words = 20};
    struct idx *ix = NULL;
    struct ret *r = NULL;
    struct buf text = {0}, q = {0};
    REQUIRE_OK(idx_open(&ix, dir, &io, &e), e);
    int rc = idx_begin(ix, &e), bad = 0, n = 0;
    for (int i = 0; !rc && i < 300; i++) {
        char id[32];
        buf_reset(&text);
        buf_reset(&q);
        if (zipf_text(&z, &q, 20)) rc = err_set(&e, ERR_NOMEM, "corpus");
        /* the same 20 words 15 times: a document's passages score alike */
        for (int j = 0; !rc && j < 15; j++)
            if (buf_append(&text, " ", 1) || buf_append(&text, q.data, q.len)) rc = err_set(&e, ERR_NOMEM, "corpus");
        snprintf(id, sizeof id, "long%d", i);
        struct corpus_doc d = {id, "", "", text.data, text.len, "zipf", i + 1};
        if (!rc) rc = idx_add(ix, &d, NULL, &e);
    }
    if (!rc) rc = idx_commit(ix, &e);
    if (!rc) rc = ret_new(&r, ix, &e);
    for (int i = 0; !rc && i < 40; i++) {
        buf_reset(&q);
        if (zipf_text(&z, &q, 2 + i % 5)) rc = err_set(&e, ERR_NOMEM, "query");
        struct ret_opts o = {.mode = RET_BM25, .k = 10 + 5 * (i % 10), .by_doc = 1};
        if (!rc) rc = same_ranking(r, q.data, o, &bad, &e);
        n++;
    }
    ret_free(r);
    idx_close(ix);
    buf_cleanup(&text);
    buf_cleanup(&q);
    free(z.cdf);
    REQUIRE_OK(rc, e);
    CHECK(n == 40);
    CHECK(bad == 0);
}
