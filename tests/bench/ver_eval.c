/* ver_eval.c - the verifier's figures on the shared dev data (`make bench` prints them): support
 * AUC of a claim's own page against the best-matching wrong page, F1 and precision of `supported`,
 * Citation-Integrity AUC of accurate against inaccurate citations, suggestion R@1/R@5, and the
 * scorer's time per (claim, source).
 *
 * It uses only the public verify/ and retrieve/ interfaces, so the same file builds against an
 * older tree (tests/bench/ver_eval_today.sh does that for "today"'s figures). With a trainer that
 * has folds (VER_TRAIN_HAS_FOLDS), --cv K refits the whole model K times, each time without one
 * fold of the WiCE claims (grouped by article), and measures every claim with the model that did
 * not see it.
 *
 * usage: ver_eval [--model FILE] [--cv K] [--limit N] [--sentence-only] [--dump FILE] [--precision P] [--verifier M] DATA_DIR POOL_DIR
 *   DATA_DIR   ../shared/data (wice/dev.jsonl, citation-integrity/)
 *   POOL_DIR   what tests/bench/wice_pool.py wrote (corpus.jsonl, qrels.tsv) and, in POOL_DIR/ix,
 *              that corpus indexed by `vericite index` (the default embedder)
 *   --limit N  the first N WiCE claims and the first N Citation-Integrity claims only (quick runs)
 *   --sentence-only  score and retrieve with the WiCE sentence alone (the definition used before
 *              2026-12-03), not as the audit does
 *   --verifier M  score with an NLI model (a .vcnn file or a name, as `audit --verifier`):
 *              own pages, wrong pages and Citation-Integrity abstracts through ver_verify, and
 *              the suggestions as `audit --verifier` makes them; not with --cv (nothing to refit).
 *              The figures of a model a user brings; the lexical scorer still picks the windows
 *   --precision P  with --cv: each fold's model fits its `supported` threshold for precision P
 *              (train-verifier --precision), not the default
 *   --dump FILE  a JSON line per WiCE claim: id, class (2 supported, 1 partially, 0 not), fold
 *              (-1 without --cv), its own page's score and the raw features of the best window
 *              (enum ver_feat order), for studying features outside the evaluator
 * Definitions:
 *   claim                scored as the audit scores a citation (ver_score_claim_in_context):
 *                        the WiCE sentence with its article title in front, as context the source
 *                        need not cover, unless the sentence names it ("Roger Hedgecock: In 1986
 *                        he formed a band ...")
 *   own page             the page the claim's citation points at in WiCE
 *   best-matching wrong  the highest BM25 document (by best passage) among the other pages, for
 *                        the query the audit's suggestions use (the sentence and the title)
 *   AUC                  ROC AUC of the support score, own pages (positive) vs those wrong pages
 *   F1 / precision       supported (label) vs the rest (partially / not supported), own pages;
 *                        "best" = the best score threshold, "shipped" = the model's verdict
 *   CI AUC               Citation-Integrity claims_dev: SUPPORT vs REFUTE, score of the cited
 *                        abstract, told whether the citation is co-cited (ver_train_cocited)
 *   missing parts        WiCE train_tokens claims against their pages: a word is predicted not
 *                        supported when a missing span covers it, against non_supported_spans
 *                        (with --cv each claim by the model of its article's fold, which did
 *                        not see it); and the share of the words of dev claims labelled
 *                        supported that fall in a missing span of their own page
 *   R@1 / R@5            every claim cites another claim's page ((i + 7) mod n, as in
 *                        tests/test_audit.c) with its article title as context; the share whose own
 *                        page is the first / among the first five suggestions of the audit */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ascii.h"
#include "buf.h"
#include "index/idx.h"
#include "retrieve/ret.h"
#include "verify/ver.h"
#include "verify/ver_score.h"

struct miss_counts {
    long tp, fp, fn, gold, words; /* train_tokens words: predicted vs annotated not supported */
    long sup_words, sup_flagged;  /* words of WiCE claims labelled supported, and those in a
                                     missing span of their own page */
    int claims;
};

/* Words (runs of letters and digits) of text[from..] and how many of them overlap a missing span
 * of r, added to *words and *flagged. */
static void count_missing_words(const char *text, size_t from, const struct ver_score_result *r,
                                long *words, long *flagged)
{
#ifdef VER_SCORE_MAX_MISSING
    size_t n = strlen(text);
    for (size_t i = from; i < n;) {
        if (!ascii_isalnum((unsigned char)text[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && ascii_isalnum((unsigned char)text[j]))
            j++;
        int in = 0;
        for (int m = 0; m < r->nmissing; m++)
            in |= r->missing[m].start < j && i < r->missing[m].end;
        (*words)++;
        *flagged += in;
        i = j;
    }
#else
    (void)text;
    (void)from;
    (void)r;
    (void)words;
    (void)flagged;
#endif
}

struct claim {
    char *id, *text, *article, *label, *own; /* own: page id in the pool */
    int cls;                                 /* 2 supported, 1 partially, 0 not */
    int fold;
    double s_own, s_wrong;
    int v_own; /* verdict (enum ver_status) on the own page */
    int has_wrong;
    int r1, r5; /* suggestion hits */
};

struct page {
    char *id, *title, *text;
};

struct ev {
    struct claim *c;
    int n;
    struct page *p;
    int np;
    char **ci_claim, **ci_doc;
    int *ci_cls; /* 2 SUPPORT, 1 REFUTE, 0 NEI */
    int *ci_cocited; /* cited together with others (ver_train_cocited) */
    int nci;
    double score_ms;
    long score_calls;
    int sentence_only; /* --sentence-only: score own and wrong pages on the sentence alone */
    struct miss_counts miss; /* missing parts against the annotations (eval_missing) */
    FILE *dump;        /* --dump FILE: a JSON line per claim (scores, verdict, own-page features) */
    const char *verifier;    /* --verifier M: the NLI model scores (ver_verify), not the scorer */
    struct ver_auditor *nli; /* ... its auditor (offline, no suggestions) */
    struct idx *nli_ix;      /* ... and the pool's index it holds */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static json_t *read_json_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ver_eval: %s: cannot open\n", path);
        return NULL;
    }
    json_t *arr = json_array();
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        if (o) json_array_append_new(arr, o);
    }
    free(line);
    fclose(f);
    return arr;
}

static char *jdup(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return strdup(s ? s : "");
}

static int load(struct ev *e, const char *data, const char *pool, int limit)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/wice/dev.jsonl", data);
    json_t *dev = read_json_lines(path);
    snprintf(path, sizeof path, "%s/corpus.jsonl", pool);
    json_t *pages = read_json_lines(path);
    if (!dev || !pages) return -1;
    e->np = (int)json_array_size(pages);
    e->p = calloc((size_t)e->np, sizeof *e->p);
    for (int i = 0; i < e->np; i++) {
        json_t *o = json_array_get(pages, (size_t)i);
        e->p[i] = (struct page){jdup(o, "_id"), jdup(o, "title"), jdup(o, "text")};
    }
    /* qrels: claim id -> page id */
    snprintf(path, sizeof path, "%s/qrels.tsv", pool);
    FILE *q = fopen(path, "r");
    if (!q) {
        fprintf(stderr, "ver_eval: %s: cannot open\n", path);
        return -1;
    }
    char qid[256], pid[256];
    int rel;
    json_t *own = json_object();
    char skip[256];
    if (!fgets(skip, sizeof skip, q)) return -1;
    while (fscanf(q, "%255s %255s %d", qid, pid, &rel) == 3)
        json_object_set_new(own, qid, json_string(pid));
    fclose(q);
    e->n = (int)json_array_size(dev);
    if (limit > 0 && e->n > limit) e->n = limit;
    e->c = calloc((size_t)e->n, sizeof *e->c);
    for (int i = 0; i < e->n; i++) {
        json_t *o = json_array_get(dev, (size_t)i), *meta = json_object_get(o, "meta");
        struct claim *c = &e->c[i];
        c->id = jdup(meta, "id");
        c->text = jdup(o, "claim");
        c->article = jdup(meta, "claim_title");
        c->label = jdup(o, "label");
        c->cls = !strcmp(c->label, "supported") ? 2 : !strcmp(c->label, "partially_supported");
        const char *op = json_string_value(json_object_get(own, c->id));
        c->own = strdup(op ? op : "");
    }
    json_decref(own);
    json_decref(dev);
    json_decref(pages);
    /* Citation-Integrity dev */
    snprintf(path, sizeof path, "%s/citation-integrity/corpus.jsonl", data);
    json_t *cc = read_json_lines(path);
    snprintf(path, sizeof path, "%s/citation-integrity/claims_dev.jsonl", data);
    json_t *cl = read_json_lines(path);
    if (!cc || !cl) return -1;
    json_t *docs = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(cc, i, o)
    {
        struct buf b = {0};
        size_t k;
        json_t *s;
        json_array_foreach(json_object_get(o, "abstract"), k, s)
        {
            if (b.len) buf_putc(&b, '\n');
            buf_puts(&b, json_string_value(s) ? json_string_value(s) : "");
        }
        char key[32];
        snprintf(key, sizeof key, "%lld",
                 (long long)json_integer_value(json_object_get(o, "doc_id")));
        json_object_set_new(docs, key, json_string(b.data ? b.data : ""));
        buf_cleanup(&b);
    }
    size_t m = json_array_size(cl);
    e->ci_claim = calloc(m, sizeof(char *));
    e->ci_doc = calloc(m, sizeof(char *));
    e->ci_cls = calloc(m, sizeof(int));
    e->ci_cocited = calloc(m, sizeof(int));
    json_array_foreach(cl, i, o)
    {
        if (limit > 0 && e->nci >= limit) break;
        char key[32];
        long long did = json_integer_value(json_array_get(json_object_get(o, "cited_doc_ids"), 0));
        snprintf(key, sizeof key, "%lld", did);
        const char *doc = json_string_value(json_object_get(docs, key));
        if (!doc) continue;
        json_t *lst = json_object_get(json_object_get(o, "evidence"), key);
        const char *lab = json_string_value(json_object_get(json_array_get(lst, 0), "label"));
        e->ci_cls[e->nci] = !lab ? 0 : !strcmp(lab, "SUPPORT") ? 2 : !strcmp(lab, "REFUTE") ? 1 : 0;
        const char *raw = json_string_value(json_object_get(o, "claim"));
        e->ci_claim[e->nci] = ver_train_strip_markers(raw);
#ifdef VER_SCORE_HAS_COCITED
        e->ci_cocited[e->nci] = ver_train_cocited(raw);
#endif
        e->ci_doc[e->nci] = strdup(doc);
        e->nci++;
    }
    json_decref(docs);
    json_decref(cc);
    json_decref(cl);
    return 0;
}

static int page_of(const struct ev *e, const char *id)
{
    for (int i = 0; i < e->np; i++)
        if (!strcmp(e->p[i].id, id)) return i;
    return -1;
}

struct sl {
    double s;
    int pos;
};

static int sl_cmp(const void *a, const void *b)
{
    const struct sl *x = a, *y = b;
    return x->s < y->s ? -1 : x->s > y->s;
}

static double roc_auc(struct sl *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, sl_cmp);
    double pos = 0, neg = 0, above = 0;
    for (int i = 0; i < n;) {
        int j = i, p = 0, q = 0;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].pos)
                p++;
            else
                q++;
            j++;
        }
        above += p * neg + 0.5 * p * q;
        pos += p;
        neg += q;
        i = j;
    }
    return pos && neg ? above / (pos * neg) : 0;
}

/* Best F1 over all thresholds of scores with labels. */
static double best_f1(struct sl *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, sl_cmp);
    int pos = 0;
    for (int i = 0; i < n; i++)
        pos += v[i].pos;
    double best = 0;
    int tp = 0, fp = 0; /* predicted positive: v[i..n) */
    for (int i = n - 1; i >= 0; i--) {
        tp += v[i].pos;
        fp += !v[i].pos;
        if (i > 0 && v[i - 1].s == v[i].s) continue;
        double f1 = 2.0 * tp / (2.0 * tp + fp + (pos - tp));
        if (f1 > best) best = f1;
    }
    return best;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int score_ctx(struct ev *e, struct ver_scorer *s, const char *claim, size_t context_len,
                     const char *text, struct ver_score_result *r)
{
    struct err er = {0};
    double t = cpu_s();
    if (e->nli) { /* the claim as the NLI verifier reads it, context included */
        struct ver_result vr;
        int rc = ver_verify(e->nli, claim, text, 1, &vr, &er);
        memset(r, 0, sizeof *r);
        if (!rc) {
            r->score = vr.score;
            r->verdict = vr.status == VER_ST_SUPPORTED ? VER_SUPPORTED
                         : vr.status == VER_ST_WEAK    ? VER_WEAK
                                                       : VER_UNSUPPORTED;
        }
        ver_results_free(&vr, 1);
        e->score_ms += (cpu_s() - t) * 1000;
        e->score_calls++;
        if (rc) fprintf(stderr, "ver_eval: verify: %s\n", er.msg);
        return rc;
    }
#ifdef VER_SCORE_MAX_MISSING
    int rc = ver_score_source_ctx(s, claim, context_len, text, strlen(text), r, &er);
#else /* a tree before ver_score_source_ctx: the context is scored as part of the claim */
    (void)context_len;
    int rc = ver_score_source(s, claim, text, strlen(text), r, &er);
#endif
    e->score_ms += (cpu_s() - t) * 1000;
    e->score_calls++;
    if (rc) fprintf(stderr, "ver_eval: score: %s\n", er.msg);
    return rc;
}

static int score(struct ev *e, struct ver_scorer *s, const char *claim, const char *text,
                 struct ver_score_result *r)
{
    return score_ctx(e, s, claim, 0, text, r);
}

/* One --dump line: the object `o` (taken; NULL out of memory writes nothing) with the
 * features of `r` added as "feat". */
static void dump_line(struct ev *e, json_t *o, const struct ver_score_result *r)
{
    json_t *fa = json_array();
    for (int k = 0; o && fa && k < VER_SCORE_NFEAT; k++)
        json_array_append_new(fa, json_real(r->feat[k]));
    if (o && fa) json_object_set_new(o, "feat", fa);
    else json_decref(fa);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (line) fprintf(e->dump, "%s\n", line);
    free(line);
    json_decref(o);
}

/* Citation-Integrity claim i on its cited abstract, as the audit scores a citation: the scorer
 * is told whether the citation is made together with others (the audit: a claim closed by two
 * or more citations). */
static int score_ci(struct ev *e, struct ver_scorer *s, int i, struct ver_score_result *r)
{
#ifdef VER_SCORE_HAS_COCITED
    if (!e->nli) {
        struct err er = {0};
        double t = cpu_s();
        struct ver_score_claim c = {e->ci_claim[i], 0, e->ci_cocited[i]};
        int rc = ver_score_cited(s, &c, e->ci_doc[i], strlen(e->ci_doc[i]), r, &er);
        e->score_ms += (cpu_s() - t) * 1000;
        e->score_calls++;
        if (rc) fprintf(stderr, "ver_eval: score: %s\n", er.msg);
        return rc;
    }
#endif
    return score(e, s, e->ci_claim[i], e->ci_doc[i], r);
}

/* A WiCE claim as the audit scores it (ver_score_claim_in_context): the article title in front
 * when the sentence does not name it, as context the source need not cover. */
static int score_claim(struct ev *e, struct ver_scorer *s, const struct claim *c, const char *text,
                       struct ver_score_result *r)
{
    if (e->sentence_only) return score(e, s, c->text, text, r);
    struct buf b = {0};
    size_t context_len = 0;
    if (ver_score_claim_in_context(c->text, c->article, &b, &context_len)) {
        buf_cleanup(&b);
        return -1;
    }
    int rc = score_ctx(e, s, b.data, context_len, text, r);
    buf_cleanup(&b);
    return rc;
}

static int status_of_verdict(const struct ver_score_result *r)
{
    return r->verdict == VER_SUPPORTED ? VER_ST_SUPPORTED
           : r->verdict == VER_WEAK    ? VER_ST_WEAK
                                       : VER_ST_UNSUPPORTED;
}

/* Scores of claims [fold] (all when fold < 0) on their own and best-matching wrong page, and
 * the suggestions for a wrong citation. */
static int eval_claims(struct ev *e, const char *model, const char *ixdir, int fold)
{
    struct err er = {0};
    struct ver_scorer *s = NULL;
    struct idx *ix = NULL;
    struct ret *rt = NULL;
    struct ver_auditor *au = NULL;
    if (ver_scorer_new(&s, model, NULL, &er) || idx_open(&ix, ixdir, NULL, &er) ||
        ret_new(&rt, ix, &er)) {
        fprintf(stderr, "ver_eval: %s\n", er.msg);
        return -1;
    }
    struct ver_audit_opts ao = {.offline = 1, .max_suggestions = 5, .model_path = model};
#ifdef VER_AUDIT_HAS_VERIFIER
    ao.verifier = e->verifier;
#endif
    if (ver_auditor_new(&au, ix, &ao, &er)) {
        fprintf(stderr, "ver_eval: %s\n", er.msg);
        return -1;
    }
    for (int i = 0; i < e->n; i++) {
        struct claim *c = &e->c[i];
        if (fold >= 0 && c->fold != fold) continue;
        int op = page_of(e, c->own);
        if (op < 0) continue;
        struct ver_score_result r;
        if (score_claim(e, s, c, e->p[op].text, &r)) return -1;
        if (c->cls == 2) { /* every word of a supported claim is supported */
            struct buf b = {0};
            size_t from = 0;
            if (!e->sentence_only && ver_score_claim_in_context(c->text, c->article, &b, &from)) {
                buf_cleanup(&b);
                return -1;
            }
            count_missing_words(e->sentence_only ? c->text : b.data, from, &r, &e->miss.sup_words,
                                &e->miss.sup_flagged);
            buf_cleanup(&b);
        }
        c->s_own = r.score;
        c->v_own = status_of_verdict(&r);
        if (e->dump)
            dump_line(e, json_pack("{s:s, s:i, s:i, s:f}", "id", c->id, "class", c->cls, "fold",
                                   fold, "own", r.score),
                      &r);
        /* best-matching wrong page: the top BM25 document that is not the own page */
        struct ret_opts o = {.mode = RET_BM25, .k = 5, .by_doc = 1};
        struct ret_hit hits[5];
        int nh = 0;
        /* retrieved as the audit retrieves suggestions: the sentence and its article title */
        char *q = c->text;
        struct buf qb = {0};
        if (!e->sentence_only && c->article && *c->article) {
            if (buf_puts(&qb, c->text) || buf_putc(&qb, ' ') || buf_puts(&qb, c->article)) {
                buf_cleanup(&qb);
                return -1;
            }
            q = qb.data;
        }
        int qrc = ret_search(rt, q, &o, hits, &nh, &er);
        buf_cleanup(&qb);
        if (qrc) return -1;
        c->has_wrong = 0;
        for (int h = 0; h < nh; h++) {
            struct idx_doc d;
            if (idx_doc(ix, hits[h].doc_row, &d, &er)) return -1;
            if (!strcmp(d.id, c->own)) continue;
            int wp = page_of(e, d.id);
            if (wp < 0 || !strcmp(e->p[wp].text, e->p[op].text)) continue;
            if (score_claim(e, s, c, e->p[wp].text, &r)) return -1;
            c->s_wrong = r.score;
            c->has_wrong = 1;
            break;
        }
        /* suggestions for the claim citing another claim's page */
        const struct claim *other = &e->c[(i + 7) % e->n];
        if (!strcmp(other->own, c->own)) other = &e->c[(i + 8) % e->n];
        char url[128];
        snprintf(url, sizeof url, "https://wice.example/%s", other->own);
        struct ver_citation cit = {.ref = 1, .url = url};
        struct ver_claim vc = {.text = c->text, .section = "", .ncit = 1, .cits = &cit};
        struct ver_article art = {.title = c->article, .nclaims = 1, .claims = &vc, .nrefs = 1};
        struct ver_result *res = NULL;
        int nr = 0;
        if (ver_audit(au, &art, "eval", &res, &nr, &er)) {
            fprintf(stderr, "ver_eval: audit: %s\n", er.msg);
            return -1;
        }
        c->r1 = c->r5 = 0;
        char want[128];
        snprintf(want, sizeof want, "https://wice.example/%s", c->own);
        for (int k = 0; nr == 1 && k < res[0].nsugg && k < 5; k++)
            if (!strcmp(res[0].sugg[k].url, want)) {
                c->r1 = k == 0;
                c->r5 = 1;
            }
        ver_results_free(res, nr);
        free(res);
    }
    ver_auditor_free(au);
    ret_free(rt);
    idx_close(ix);
    ver_scorer_free(s);
    return 0;
}

struct ci_fig {
    double auc, wrong_auc;
};

static struct ci_fig eval_ci(struct ev *e, const char *model)
{
    struct ci_fig f = {0, 0};
    struct err er = {0};
    struct ver_scorer *s = NULL;
    if (ver_scorer_new(&s, model, NULL, &er)) {
        fprintf(stderr, "ver_eval: %s\n", er.msg);
        return f;
    }
    struct sl *v = calloc((size_t)e->nci * 2 + 1, sizeof *v);
    int n = 0;
    for (int i = 0; i < e->nci; i++) {
        if (e->ci_cls[i] == 0) continue;
        struct ver_score_result r;
        if (score_ci(e, s, i, &r)) break;
        v[n].s = r.score;
        v[n++].pos = e->ci_cls[i] == 2;
        if (e->dump)
            dump_line(e, json_pack("{s:i, s:i, s:i, s:f}", "ci", i, "class", e->ci_cls[i],
                                   "cocited", e->ci_cocited[i], "own", r.score),
                      &r);
    }
    f.auc = roc_auc(v, n);
    free(v);
    ver_scorer_free(s);
    return f;
}

#ifdef VER_SCORE_MAX_MISSING
/* Token-level agreement of the missing parts with WiCE train_tokens' non_supported_spans: each
 * claim against its page; a word is predicted unsupported when a missing span covers it. Also the
 * figure of marking every word (the baseline). */
static void eval_missing(const char *data, const char *model, int fold, int folds,
                         struct miss_counts *mc)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/wice/train_tokens.jsonl", data);
    json_t *arr = read_json_lines(path);
    struct err er = {0};
    struct ver_scorer *s = NULL;
    if (!arr || ver_scorer_new(&s, model, NULL, &er)) {
        json_decref(arr);
        return;
    }
    long tp = 0, fp = 0, fn = 0, gold = 0, words = 0;
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
#ifdef VER_TRAIN_HAS_FOLDS
        if (fold >= 0) {
            const char *art =
                json_string_value(json_object_get(json_object_get(o, "meta"), "claim_title"));
            if (ver_train_fold(art ? art : "", folds) != fold) continue;
        }
#else
        (void)fold;
        (void)folds;
#endif
        mc->claims++;
        const char *claim = json_string_value(json_object_get(o, "claim"));
        json_t *toks = json_object_get(o, "claim_tokens"),
               *ns = json_object_get(o, "non_supported_spans");
        if (!claim || !json_is_array(toks) || json_array_size(toks) != json_array_size(ns))
            continue;
        struct buf page = {0};
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(o, "evidence"), k, v)
        {
            const char *t = json_string_value(v);
            if (!t || (k == 0 && !strncmp(t, "(meta data)", 11))) continue;
            if (page.len) buf_putc(&page, '\n');
            buf_puts(&page, t);
        }
        struct ver_score_result r;
        if (ver_score_source(s, claim, page.data ? page.data : "", page.len, &r, &er)) {
            buf_cleanup(&page);
            continue;
        }
        size_t at = 0;
        json_array_foreach(toks, k, v)
        {
            const char *t = json_string_value(v);
            const char *hit = t && *t ? strstr(claim + at, t) : NULL;
            if (!hit) continue;
            size_t ts = (size_t)(hit - claim), te = ts + strlen(t);
            at = te;
            int word = 0;
            for (const char *c = t; *c; c++)
                word |= ascii_isalnum((unsigned char)*c);
            if (!word) continue;
            int g = json_is_true(json_array_get(ns, k)), p = 0;
            for (int m = 0; m < r.nmissing; m++)
                p |= r.missing[m].start < te && ts < r.missing[m].end;
            words++;
            gold += g;
            tp += p && g;
            fp += p && !g;
            fn += !p && g;
        }
        buf_cleanup(&page);
    }
    mc->tp += tp;
    mc->fp += fp;
    mc->fn += fn;
    mc->gold += gold;
    mc->words += words;
    ver_scorer_free(s);
    json_decref(arr);
}

static void print_missing(const struct miss_counts *m, int cv)
{
    long tp = m->tp, fp = m->fp, fn = m->fn;
    printf("missing parts vs WiCE train_tokens non_supported_spans (%d claims, %ld words, %ld "
           "unsupported%s): precision %.3f recall %.3f F1 %.3f (marking every word: F1 %.3f); "
           "words of supported claims in a missing part %.3f (%ld of %ld)\n",
           m->claims, m->words, m->gold, cv > 1 ? ", each by the fold's model" : "",
           tp + fp ? (double)tp / (tp + fp) : 0, tp + fn ? (double)tp / (tp + fn) : 0,
           tp ? 2.0 * tp / (2.0 * tp + fp + fn) : 0,
           m->words ? 2.0 * m->gold / (m->gold + m->words) : 0,
           m->sup_words ? (double)m->sup_flagged / m->sup_words : 0, m->sup_flagged, m->sup_words);
}
#endif



/* Print the figures over the claims selected by `which` (NULL: all). */
static void report(const struct ev *e, const char *name, int (*which)(const struct claim *),
                   struct ci_fig ci)
{
    int n = e->n;
    struct sl *v = calloc((size_t)n * 2 + 1, sizeof *v);
    struct sl *f = calloc((size_t)n + 1, sizeof *f);
    int nv = 0, nf = 0, tp = 0, fp = 0, fn = 0, r1 = 0, r5 = 0, m = 0;
    double auc_lab[3];
    for (int lab = 0; lab <= 3; lab++) { /* 3: all labels */
        nv = 0;
        for (int i = 0; i < n; i++) {
            const struct claim *c = &e->c[i];
            if (which && !which(c)) continue;
            if (lab < 3 && c->cls != lab) continue;
            v[nv].s = c->s_own;
            v[nv++].pos = 1;
        }
        for (int i = 0; i < n; i++) {
            const struct claim *c = &e->c[i];
            if ((which && !which(c)) || !c->has_wrong) continue;
            v[nv].s = c->s_wrong;
            v[nv++].pos = 0;
        }
        double a = roc_auc(v, nv);
        if (lab < 3) auc_lab[lab] = a;
        if (lab == 3) {
            for (int i = 0; i < n; i++) {
                const struct claim *c = &e->c[i];
                if (which && !which(c)) continue;
                m++;
                f[nf].s = c->s_own;
                f[nf++].pos = c->cls == 2;
                int sup = c->v_own == VER_ST_SUPPORTED;
                tp += sup && c->cls == 2;
                fp += sup && c->cls != 2;
                fn += !sup && c->cls == 2;
                r1 += c->r1;
                r5 += c->r5;
            }
            double bf1 = best_f1(f, nf);
            printf("%-34s %5d  %6.4f %6.4f %6.4f  %5.1f %5.1f %5.1f  %6.4f  %6.4f %6.4f\n", name, m,
                   a, auc_lab[2], auc_lab[1], 100 * bf1,
                   tp ? 100.0 * 2 * tp / (2.0 * tp + fp + fn) : 0.0,
                   tp + fp ? 100.0 * tp / (tp + fp) : 0.0, ci.auc, m ? (double)r1 / m : 0,
                   m ? (double)r5 / m : 0);
        }
    }
    free(v);
    free(f);
}

static int in_old_heldout(const struct claim *c)
{
    return ver_train_is_heldout(c->id);
}

static void header(void)
{
    printf("%-34s %5s  %6s %6s %6s  %5s %5s %5s  %6s  %6s %6s\n", "WiCE dev claims", "n", "AUC",
           "AUCsup", "AUCpar", "bF1", "sF1", "Prec", "CI AUC", "R@1", "R@5");
}

int main(int argc, char **argv)
{
    const char *model = NULL;
    struct ev e;
    memset(&e, 0, sizeof e);
    const char *dump = NULL;
    double precision = 0; /* --precision P with --cv: the folds' thresholds fitted for P */
    int cv = 0, limit = 0, ai = 1, sentence_only = 0;
    for (; ai < argc && argv[ai][0] == '-'; ai++) {
        if (!strcmp(argv[ai], "--model") && ai + 1 < argc)
            model = argv[++ai];
        else if (!strcmp(argv[ai], "--cv") && ai + 1 < argc)
            cv = (int)strtol(argv[++ai], NULL, 10);
        else if (!strcmp(argv[ai], "--limit") && ai + 1 < argc)
            limit = (int)strtol(argv[++ai], NULL, 10);
        else if (!strcmp(argv[ai], "--sentence-only"))
            sentence_only = 1;
        else if (!strcmp(argv[ai], "--dump") && ai + 1 < argc)
            dump = argv[++ai];
        else if (!strcmp(argv[ai], "--verifier") && ai + 1 < argc)
            e.verifier = argv[++ai];
        else if (!strcmp(argv[ai], "--precision") && ai + 1 < argc)
            precision = strtod(argv[++ai], NULL);
        else {
            fprintf(stderr,
                    "usage: ver_eval [--model FILE] [--cv K] [--limit N] [--sentence-only] [--dump FILE] [--precision P] [--verifier M] DATA_DIR POOL_DIR\n");
            return 2;
        }
    }
    if (argc - ai != 2) {
        fprintf(stderr, "usage: ver_eval [--model FILE] [--cv K] [--limit N] [--sentence-only] [--dump FILE] [--precision P] [--verifier M] DATA_DIR POOL_DIR\n");
        return 2;
    }
    const char *data = argv[ai], *pool = argv[ai + 1];
    char ixdir[4096];
    snprintf(ixdir, sizeof ixdir, "%s/ix", pool);
    e.sentence_only = sentence_only;
    if (dump && !(e.dump = fopen(dump, "w"))) {
        fprintf(stderr, "ver_eval: %s: cannot create\n", dump);
        return 1;
    }
    if (e.verifier) {
#ifdef VER_AUDIT_HAS_VERIFIER
        if (cv > 1) {
            fprintf(stderr, "ver_eval: --verifier scores with the NLI model, which --cv does not refit: "
                            "leave --cv out\n");
            return 2;
        }
        struct err er = {0};
        struct ver_audit_opts vo = {.offline = 1, .suggest = VER_SUGGEST_NONE, .model_path = model,
                                    .verifier = e.verifier};
        if (idx_open(&e.nli_ix, ixdir, NULL, &er) || ver_auditor_new(&e.nli, e.nli_ix, &vo, &er)) {
            fprintf(stderr, "ver_eval: --verifier %s: %s\n", e.verifier, er.msg);
            return 1;
        }
#else
        fprintf(stderr, "ver_eval: this tree's audit has no NLI verifier\n");
        return 2;
#endif
    }
    if (load(&e, data, pool, limit)) return 1;
    double t0 = now_s();
    struct ci_fig ci;
    if (cv <= 1) {
        if (eval_claims(&e, model, ixdir, -1)) return 1;
        ci = eval_ci(&e, model);
#ifdef VER_SCORE_MAX_MISSING
        eval_missing(data, model, -1, 0, &e.miss);
#endif
        header();
        report(&e, e.verifier ? "--verifier (NLI), all claims" : model ? model : "built-in model, all claims",
               NULL, ci);
        report(&e, "  claims held out by main's split", in_old_heldout, ci);
    } else {
#ifdef VER_TRAIN_HAS_FOLDS
        char dir[] = "/tmp/ver_eval.XXXXXX";
        if (!mkdtemp(dir)) return 1;
        ci.auc = ci.wrong_auc = 0;
        for (int i = 0; i < e.n; i++)
            e.c[i].fold = ver_train_fold(e.c[i].article, cv);
        for (int f = 0; f < cv; f++) {
            char out[4200];
            snprintf(out, sizeof out, "%s/fold%d.txt", dir, f);
            struct ver_train_opts to = {.folds = cv, .fold = f, .pool_db = NULL};
#ifdef VER_TRAIN_HAS_PRECISION
            to.precision = precision;
#endif
            struct ver_train_report rep;
            struct err er = {0};
            if (ver_train_ex(data, out, &to, &rep, &er)) {
                fprintf(stderr, "ver_eval: train fold %d: %s\n", f, er.msg);
                return 1;
            }
            if (eval_claims(&e, out, ixdir, f)) return 1;
            struct ci_fig c1 = eval_ci(&e, out);
            ci.auc += c1.auc / cv;
#ifdef VER_SCORE_MAX_MISSING
            eval_missing(data, out, f, cv, &e.miss);
#endif
            unlink(out);
            fprintf(stderr, "ver_eval: fold %d of %d done (%.0f s)\n", f + 1, cv, now_s() - t0);
        }
        rmdir(dir);
        header();
        char name[64];
        if (precision > 0)
            snprintf(name, sizeof name, "%d-fold CV, precision %.2f, all", cv, precision);
        else
            snprintf(name, sizeof name, "%d-fold cross-validation, all", cv);
        report(&e, name, NULL, ci);
        report(&e, "  claims held out by main's split", in_old_heldout, ci);
#else
        fprintf(stderr,
                "ver_eval: this tree's trainer has no folds (--cv needs VER_TRAIN_HAS_FOLDS)\n");
        return 2;
#endif
    }
#ifdef VER_SCORE_MAX_MISSING
    print_missing(&e.miss, cv);
#endif
    printf("scorer: %.3f ms CPU per (claim, source) over %ld calls; whole evaluation %.1f s\n",
           e.score_calls ? e.score_ms / e.score_calls : 0, e.score_calls, now_s() - t0);
    ver_auditor_free(e.nli);
    if (e.nli_ix) idx_close(e.nli_ix);
    if (e.dump && fclose(e.dump)) {
        fprintf(stderr, "ver_eval: %s: write failed\n", dump);
        return 1;
    }
    return 0;
}
