/* ver_train.c - fitting the verifier model on the shared data: WiCE and Citation-Integrity pairs,
 * wrong-source and changed-number negatives, logistic regression (Newton with L2) over each pair's
 * evidence window, thresholds calibrated on out-of-fold scores, the contradiction setting, the
 * suggestion ranker, cross-validated metrics, and the model file.
 *
 * Pairs and targets (class 2 supported, 1 weak, 0 unsupported; the regression target is class/2):
 *   WiCE dev.jsonl        the claim with its cited page (evidence sentences joined by line breaks):
 *                         supported 2, partially_supported 1, not_supported 0.
 *   WiCE train_tokens     374 more partially supported claims with their pages (class 1), for
 *                         training only.
 *   Citation-Integrity    claims_train.jsonl with the cited abstract from corpus.jsonl: SUPPORT 2,
 *                         REFUTE 1 (related but inaccurate), NEI (no evidence) 0. claims_dev.jsonl
 *                         is used for evaluation only. Citation markers "[<|cit|>]" are removed.
 *   wrong source          each claim with another claim's page (WiCE: two, Citation-Integrity: one,
 *                         half the file away): class 0. The case the audit must catch.
 *   changed number        supported and partly supported claims with one number changed, against
 *                         their own page: class 0, half weight.
 * Gold evidence: for true pairs with annotated evidence sentences (WiCE supporting_sentences,
 * Citation-Integrity evidence sentences) the window fitted is chosen among the windows that contain
 * an evidence sentence, so the model learns what real evidence looks like; other pairs use their
 * best window under the current weights (the source's score is its best window's). The fit
 * alternates (TR_ROUNDS) between choosing windows and a weighted Newton fit (classes weighted
 * equally, L2, bias unpenalised); the first round chooses by lexical coverage. Weights whose sign
 * would say that agreement lowers the score or a clash raises it are frozen at 0.
 * Calibration: WiCE claims are split into VER_TRAIN_CV_FOLDS folds by article; each fold is scored
 * by a model fitted without it. On those out-of-fold scores of the claims' own pages t_supported is
 * the lowest threshold whose precision of `supported` is at least the target (ver_train_opts
 * .precision, VER_TRAIN_PRECISION by default), and t_weak
 * the one that best separates weak-or-better (own pages partly or fully supported) from the rest
 * (not supported, wrong pages), by balanced accuracy. The final model is fitted on everything.
 * Ranker: the WiCE pages are indexed (BM25, a temporary folder); each claim, with its article title
 * as context, retrieves TR_CANDIDATES pages as the audit does and citing a wrong page; a pairwise
 * logistic regression learns to put the claim's own page above the others from enum
 * ver_rank_feat, then a one-dimensional logistic fit turns the ranking score into the probability
 * shown beside a suggestion. Deterministic: no randomness at all. */
#include "ver_score_int.h"

#include "ascii.h"
#include "err.h"
#include "file.h"
#include "hash.h"
#include "index/idx.h"
#include "retrieve/ret.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TR_THREADS 2 /* feature extraction threads (the result does not depend on them) */
#define TR_MAX_LINE (16u << 20) /* one JSON line */
#define TR_GOLD 1   /* fit true pairs on a window holding gold evidence (0: on the aligned one) */
#define TR_ROUNDS 1 /* window selection does not depend on the weights: one fit */
#define TR_NEWTON_MAX 50
#define TR_L2 1e-1
#define TR_HELDOUT_PCT 30      /* the previous trainer's held-out share (ver_train_is_heldout) */
#define TR_CANDIDATES 6        /* pages retrieved per claim for the ranker (the audit takes 10) */
#define TR_CONTRA_COVERAGE 0.8 /* least coverage of a clashing window for `contradicted` */
#define TR_MIN_PREDICTED 10    /* the calibrated threshold calls at least this many supported */

enum tr_set { SET_WICE, SET_WICE_EXTRA, SET_CI_TRAIN, SET_CI_DEV, SET_OUT, SET_N };

struct tr_claim {
    char *text;
    char *article; /* WiCE article title ("" otherwise) */
    int doc;       /* index into docs */
    int cls;       /* 0..2 */
    int set;       /* enum tr_set */
    int fold;      /* WiCE: ver_train_fold(article, VER_TRAIN_CV_FOLDS) */
    int swapped;   /* a copy of another claim with one number changed */
    int cocited;   /* Citation-Integrity: cited together with others (ver_train_cocited) */
    int gold[64];  /* evidence lines (line numbers of the document) */
    int ngold;
    size_t *unsup; /* WiCE train_tokens: claim byte spans [unsup[2i], unsup[2i+1]) annotated not
                      supported (non_supported_spans); NULL otherwise */
    int nunsup;
    int has_tokens; /* the claim's words are annotated (claim_tokens, non_supported_spans) */
};

enum tr_kind { PK_TRUE, PK_WRONG, PK_SWAP, PK_CAND };

struct tr_pair {
    int claim, doc;
    int cls;  /* target class */
    int kind; /* enum tr_kind */
    int orig; /* PK_SWAP: the pair of the unchanged claim */
    int set;
    size_t f0; /* first window's features in feats (floats) */
    int nwin;
    double score; /* best window's probability under the model last scored with */
    int contra;   /* PK_TRUE/PK_SWAP: verdict contradicted (under the shipped model) */
    /* PK_CAND: retrieval figures */
    double bm25_share, rank, title, claim_title;
    int own; /* the claim's own page */
};

struct tr {
    char **docs;
    size_t *doclen;
    int ndocs, capdocs;
    long *ci_ids; /* Citation-Integrity doc_id per doc, -1 for WiCE pages */
    struct tr_claim *claims;
    int nclaims, capclaims;
    struct tr_pair *pairs;
    int npairs, cappairs;
    float *feats;    /* (total windows, VER_SCORE_NFEAT) */
    int32_t *wlines; /* (total windows, 2): first and last document line of the window */
    size_t nfeat_rows;
    const struct ver_train_opts *o;
};

static int tr_grow(void **arr, int *cap, int need, size_t size)
{
    if (need <= *cap) return 0;
    int n = *cap ? *cap * 2 : 256;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, (size_t)n * size);
    if (!p) return -1;
    *arr = p;
    *cap = n;
    return 0;
}

static void tr_free(struct tr *t)
{
    for (int i = 0; i < t->ndocs; i++)
        free(t->docs[i]);
    free(t->docs);
    free(t->doclen);
    free(t->ci_ids);
    for (int i = 0; i < t->nclaims; i++) {
        free(t->claims[i].text);
        free(t->claims[i].article);
        free(t->claims[i].unsup);
    }
    free(t->claims);
    free(t->pairs);
    free(t->feats);
    free(t->wlines);
}

/* Add a document made of the strings of a JSON array joined by '\n'. Returns its index or -1. */
static int add_doc(struct tr *t, json_t *arr, long ci_id)
{
    struct buf b = {0};
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v)) continue;
        if ((b.len && buf_putc(&b, '\n')) ||
            buf_append(&b, json_string_value(v), json_string_length(v)))
            goto oom;
    }
    if (!b.data && buf_puts(&b, "")) goto oom;
    if (tr_grow((void **)&t->docs, &t->capdocs, t->ndocs + 1, sizeof *t->docs)) goto oom;
    int cap = t->capdocs;
    size_t *dl = realloc(t->doclen, (size_t)cap * sizeof *dl);
    if (!dl) goto oom;
    t->doclen = dl;
    long *ids = realloc(t->ci_ids, (size_t)cap * sizeof *ids);
    if (!ids) goto oom;
    t->ci_ids = ids;
    t->doclen[t->ndocs] = b.len;
    t->ci_ids[t->ndocs] = ci_id;
    t->docs[t->ndocs] = buf_steal(&b);
    return t->ndocs++;
oom:
    buf_cleanup(&b);
    return -1;
}

char *ver_train_strip_markers(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '[') {
            const char *close = memchr(s + i, ']', n - i);
            const char *mark = strstr(s + i, "<|");
            if (close && mark && mark < close) {
                i = (size_t)(close - s) + 1;
                continue;
            }
        }
        if (s[i] == '<' && s[i + 1] == '|') {
            const char *e = strstr(s + i + 2, "|>");
            if (e) {
                i = (size_t)(e - s) + 2;
                continue;
            }
        }
        out[o++] = s[i++];
    }
    /* collapse the " ." left behind */
    size_t w = 0;
    for (size_t i = 0; i < o; i++) {
        if (out[i] == ' ' && i + 1 < o &&
            (out[i + 1] == '.' || out[i + 1] == ',' || out[i + 1] == ' '))
            continue;
        out[w++] = out[i];
    }
    out[w] = '\0';
    return out;
}

int ver_train_cocited(const char *s)
{
    if (!s) return 0;
    if (strstr(s, "<|multi_cit|>")) return 1;
    const char *m = strstr(s, "<|cit|>");
    if (!m) return 0;
    const char *open = m, *close = m + 7;
    while (open > s && open[-1] != '[' && open[-1] != ']')
        open--;
    if (open == s || open[-1] != '[') return 0; /* a bare marker: alone */
    while (*close && *close != ']' && *close != '[')
        close++;
    if (*close != ']') return 0;
    for (const char *q = open; q < close; q++) {
        if (q == m) { /* the marker itself */
            q += 6;
            continue;
        }
        if ((*q >= '0' && *q <= '9') || !strncmp(q, "<|other_cit|>", 13)) return 1;
    }
    return 0;
}

static int add_claim(struct tr *t, const char *text, int strip, int doc, int cls, int set,
                     const char *article)
{
    if (tr_grow((void **)&t->claims, &t->capclaims, t->nclaims + 1, sizeof *t->claims)) return -1;
    char *c = strip ? ver_train_strip_markers(text) : strdup(text);
    char *a = strdup(article ? article : "");
    if (!c || !a) {
        free(c);
        free(a);
        return -1;
    }
    struct tr_claim *k = &t->claims[t->nclaims++];
    memset(k, 0, sizeof *k);
    k->text = c;
    k->article = a;
    k->doc = doc;
    k->cls = cls;
    k->set = set;
    k->fold = set == SET_WICE ? ver_train_fold(a, VER_TRAIN_CV_FOLDS) : -1;
    k->cocited = strip && ver_train_cocited(text);
    return 0;
}

/* Record the evidence lines listed in `arr` (a JSON array of integers, or of arrays of them). */
static void add_gold(struct tr_claim *k, json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_array(v)) {
            add_gold(k, v);
            continue;
        }
        if (!json_is_integer(v) || k->ngold >= 64) continue;
        int g = (int)json_integer_value(v), dup = 0;
        for (int j = 0; j < k->ngold; j++)
            dup |= k->gold[j] == g;
        if (!dup) k->gold[k->ngold++] = g;
    }
}

/* Record the claim byte spans of the tokens `toks` (the claim's words in order, a JSON array of
 * strings) that `flags` (booleans, one per token) marks as not supported. Tokens not found in
 * the claim, and arrays of different lengths, are skipped. Returns 0, or -1 out of memory. */
static int add_unsupported(struct tr_claim *k, json_t *toks, json_t *flags)
{
    if (!json_is_array(toks) || !json_is_array(flags) ||
        json_array_size(toks) != json_array_size(flags))
        return 0;
    k->has_tokens = 1;
    size_t at = 0, i;
    json_t *v;
    json_array_foreach(toks, i, v)
    {
        const char *w = json_string_value(v);
        const char *hit = w && *w ? strstr(k->text + at, w) : NULL;
        if (!hit) continue;
        size_t ts = (size_t)(hit - k->text), te = ts + strlen(w);
        at = te;
        if (!json_is_true(json_array_get(flags, i))) continue;
        size_t *p = realloc(k->unsup, (size_t)(k->nunsup + 1) * 2 * sizeof *p);
        if (!p) return -1;
        k->unsup = p;
        p[2 * k->nunsup] = ts;
        p[2 * k->nunsup + 1] = te;
        k->nunsup++;
    }
    return 0;
}

/* Call fn(t, obj, path, line, err) for each JSON object line of `path`. */
typedef int (*line_fn)(struct tr *t, json_t *obj, const char *path, long line, struct err *err);

static int each_line(struct tr *t, const char *path, line_fn fn, struct err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path,
                       strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long no = 0;
    int rc = ERR_OK;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        no++;
        if ((size_t)n > TR_MAX_LINE) {
            rc = err_set(err, ERR_LIMIT, "%s:%ld: line over %u bytes", path, no, TR_MAX_LINE);
            break;
        }
        size_t k = (size_t)n;
        while (k && (line[k - 1] == '\n' || line[k - 1] == '\r' || line[k - 1] == ' '))
            k--;
        if (!k) continue;
        json_error_t je;
        json_t *obj = json_loadb(line, k, 0, &je);
        if (!obj || !json_is_object(obj)) {
            json_decref(obj);
            rc = err_set(err, ERR_PARSE, "%s:%ld: %s", path, no, obj ? "not an object" : je.text);
            break;
        }
        rc = fn(t, obj, path, no, err);
        json_decref(obj);
        if (rc) break;
    }
    if (!rc && ferror(f)) rc = err_set(err, ERR_IO, "%s: read error", path);
    free(line);
    fclose(f);
    return rc;
}

static uint32_t tr_hash(const char *s)
{
    uint32_t h = hash_fnv1a32(s, strlen(s));
    /* mix the low bits, which FNV leaves weak for short similar ids */
    h ^= h >> 15;
    h *= 0x2c1b3c6dU;
    h ^= h >> 12;
    return h;
}

int ver_train_is_heldout(const char *claim_id)
{
    return claim_id && tr_hash(claim_id) % 100 < TR_HELDOUT_PCT;
}

int ver_train_fold(const char *article, int folds)
{
    if (folds <= 1) return 0;
    return (int)(tr_hash(article ? article : "") % (uint32_t)folds);
}

static int wice_claim(struct tr *t, json_t *o, const char *path, long line, struct err *err,
                      int extra)
{
    json_t *claim = json_object_get(o, "claim"), *label = json_object_get(o, "label");
    json_t *ev = json_object_get(o, "evidence"), *meta = json_object_get(o, "meta");
    json_t *id = meta ? json_object_get(meta, "id") : NULL;
    if (!json_is_string(claim) || !json_is_string(label) || !json_is_array(ev) ||
        !json_is_string(id))
        return err_set(err, ERR_PARSE, "%s:%ld: want claim, label, evidence[], meta.id", path,
                       line);
    const char *l = json_string_value(label);
    int cls = !strcmp(l, "supported") ? 2 : !strcmp(l, "partially_supported") ? 1 : 0;
    if (cls == 0 && strcmp(l, "not_supported"))
        return err_set(err, ERR_PARSE, "%s:%ld: unknown label \"%s\"", path, line, l);
    const char *article = json_string_value(json_object_get(meta, "claim_title"));
    int set = extra ? SET_WICE_EXTRA : SET_WICE;
    if (!extra && t->o && t->o->folds > 1 &&
        ver_train_fold(article ? article : "", t->o->folds) == t->o->fold)
        set = SET_OUT;
    int doc = add_doc(t, ev, -1);
    if (doc < 0 || add_claim(t, json_string_value(claim), 0, doc, cls, set, article))
        return err_set(err, ERR_NOMEM, "%s:%ld", path, line);
    add_gold(&t->claims[t->nclaims - 1], json_object_get(o, "supporting_sentences"));
    if (extra && add_unsupported(&t->claims[t->nclaims - 1], json_object_get(o, "claim_tokens"),
                                 json_object_get(o, "non_supported_spans")))
        return err_set(err, ERR_NOMEM, "%s:%ld", path, line);
    return ERR_OK;
}

static int wice_line(struct tr *t, json_t *o, const char *path, long line, struct err *err)
{
    return wice_claim(t, o, path, line, err, 0);
}

static int wice_extra_line(struct tr *t, json_t *o, const char *path, long line, struct err *err)
{
    return wice_claim(t, o, path, line, err, 1);
}

static int ci_doc_line(struct tr *t, json_t *o, const char *path, long line, struct err *err)
{
    json_t *id = json_object_get(o, "doc_id"), *abs = json_object_get(o, "abstract");
    if (!json_is_integer(id) || !json_is_array(abs))
        return err_set(err, ERR_PARSE, "%s:%ld: want doc_id, abstract[]", path, line);
    if (add_doc(t, abs, (long)json_integer_value(id)) < 0)
        return err_set(err, ERR_NOMEM, "%s:%ld", path, line);
    return ERR_OK;
}

static int find_ci_doc(const struct tr *t, long id)
{
    for (int i = 0; i < t->ndocs; i++)
        if (t->ci_ids[i] == id) return i;
    return -1;
}

static int ci_claim_line(struct tr *t, json_t *o, const char *path, long line, struct err *err,
                         int set)
{
    json_t *claim = json_object_get(o, "claim"), *ev = json_object_get(o, "evidence");
    json_t *cited = json_object_get(o, "cited_doc_ids");
    if (!json_is_string(claim) || !json_is_object(ev) || !json_is_array(cited) ||
        !json_is_integer(json_array_get(cited, 0)))
        return err_set(err, ERR_PARSE, "%s:%ld: want claim, evidence{}, cited_doc_ids[]", path,
                       line);
    long did = (long)json_integer_value(json_array_get(cited, 0));
    int doc = find_ci_doc(t, did);
    if (doc < 0)
        return err_set(err, ERR_PARSE, "%s:%ld: doc_id %ld not in corpus.jsonl", path, line, did);
    int cls = 0; /* no evidence: NEI */
    char key[32];
    snprintf(key, sizeof key, "%ld", did);
    json_t *lst = json_object_get(ev, key);
    json_t *lab = lst ? json_object_get(json_array_get(lst, 0), "label") : NULL;
    if (json_is_string(lab)) {
        const char *l = json_string_value(lab);
        cls = !strcmp(l, "SUPPORT") ? 2 : !strcmp(l, "REFUTE") ? 1 : 0;
    }
    if (add_claim(t, json_string_value(claim), 1, doc, cls, set, NULL))
        return err_set(err, ERR_NOMEM, "%s:%ld", path, line);
    if (lst)
        add_gold(&t->claims[t->nclaims - 1], json_object_get(json_array_get(lst, 0), "sentences"));
    return ERR_OK;
}

static int ci_train_line(struct tr *t, json_t *o, const char *path, long line, struct err *err)
{
    return ci_claim_line(t, o, path, line, err, SET_CI_TRAIN);
}

static int ci_dev_line(struct tr *t, json_t *o, const char *path, long line, struct err *err)
{
    return ci_claim_line(t, o, path, line, err, SET_CI_DEV);
}

static int add_pair(struct tr *t, int claim, int doc, int cls, int kind)
{
    if (tr_grow((void **)&t->pairs, &t->cappairs, t->npairs + 1, sizeof *t->pairs)) return -1;
    struct tr_pair *p = &t->pairs[t->npairs++];
    memset(p, 0, sizeof *p);
    p->claim = claim;
    p->doc = doc;
    p->cls = cls;
    p->kind = kind;
    p->set = t->claims[claim].set;
    return 0;
}

/* A copy of `claim` with its first number changed (a year moves by 1..4 years, any other number
 * becomes about twice as large), or NULL when it has none (or out of memory). */
static char *swap_number(const char *claim, uint32_t h)
{
    size_t n = strlen(claim);
    for (size_t i = 0; i < n; i++) {
        if (!ascii_isdigit((unsigned char)claim[i])) continue;
        unsigned char pc = i ? (unsigned char)claim[i - 1] : ' ';
        if (ascii_isalpha(pc) || pc == '.' || pc == ',' || pc >= 0x80) continue;
        size_t j = i;
        long v = 0;
        while (j < n && ascii_isdigit((unsigned char)claim[j]) && j - i < 9)
            v = v * 10 + (claim[j++] - '0');
        if (j < n && ascii_isdigit((unsigned char)claim[j])) return NULL; /* too long: leave it */
        long nv = (j - i == 4 && v >= 1000 && v <= 2100) ? v + (long)(h % 4) + 1
                                                         : v * 2 + 1 + (long)(h % 3);
        if (nv > 2100 && j - i == 4 && v <= 2100) nv = v - (long)(h % 4) - 1;
        struct buf b = {0};
        if (buf_append(&b, claim, i) || buf_printf(&b, "%ld", nv) || buf_puts(&b, claim + j)) {
            buf_cleanup(&b);
            return NULL;
        }
        return buf_steal(&b);
    }
    return NULL;
}

static int same_doc(const struct tr *t, int a, int b)
{
    return a == b ||
           (t->doclen[a] == t->doclen[b] && !memcmp(t->docs[a], t->docs[b], t->doclen[a]));
}

/* True pairs for every claim; wrong-source pairs inside each set; for supported and partly
 * supported claims with a number, the claim with that number changed against its own page. */
static int make_pairs(struct tr *t)
{
    int norig = t->nclaims;
    int *idx = malloc((size_t)(norig ? norig : 1) * sizeof *idx);
    if (!idx) return -1;
    for (int set = 0; set < SET_N; set++) {
        int m = 0;
        for (int i = 0; i < norig; i++)
            if (t->claims[i].set == set) idx[m++] = i;
        int wice = set == SET_WICE || set == SET_WICE_EXTRA || set == SET_OUT;
        for (int k = 0; k < m; k++) {
            int ci = idx[k], doc = t->claims[ci].doc, cls = t->claims[ci].cls;
            int truep = t->npairs;
            if (add_pair(t, ci, doc, cls, PK_TRUE)) goto oom;
            int offs[2] = {wice ? m / 3 : m / 2, 0};
            for (int o = 0; o < 2; o++) {
                if (offs[o] <= 0) continue;
                int d = t->claims[idx[(k + offs[o]) % m]].doc;
                if (same_doc(t, d, doc)) continue;
                if (add_pair(t, ci, d, 0, PK_WRONG)) goto oom;
            }
            if (cls == 0) continue;
            char *sw = swap_number(t->claims[ci].text, tr_hash(t->claims[ci].text));
            if (!sw) continue;
            int rc = add_claim(t, sw, 0, doc, 0, set, t->claims[ci].article);
            free(sw);
            if (rc) goto oom;
            t->claims[t->nclaims - 1].swapped = 1;
            t->claims[t->nclaims - 1].cocited = t->claims[ci].cocited;
            t->claims[t->nclaims - 1].fold = t->claims[ci].fold;
            if (add_pair(t, t->nclaims - 1, doc, 0, PK_SWAP)) goto oom;
            t->pairs[t->npairs - 1].orig = truep;
        }
    }
    free(idx);
    return 0;
oom:
    free(idx);
    return -1;
}

/* Window features of a run of pairs, made by one thread. */
struct featbuf {
    float *feats;    /* (n, VER_SCORE_NFEAT) */
    int32_t *wlines; /* (n, 2) */
    size_t n, cap;
    size_t *line_start; /* scratch: line starts of the document being scored */
    int nlines, caplines;
};

/* The line of byte offset `off` in the document being scored (fb->line_start). */
static int line_of(const struct featbuf *fb, size_t off)
{
    int lo = 0, hi = fb->nlines - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (fb->line_start[mid] <= off)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static int feat_cb(void *ctx, const double *f, size_t start, size_t end)
{
    struct featbuf *fb = ctx;
    if (fb->n + 1 > fb->cap) {
        size_t n = fb->cap ? fb->cap * 2 : 65536;
        float *p = realloc(fb->feats, n * VER_SCORE_NFEAT * sizeof *p);
        if (!p) return ERR_NOMEM;
        fb->feats = p;
        int32_t *w = realloc(fb->wlines, n * 2 * sizeof *w);
        if (!w) return ERR_NOMEM;
        fb->wlines = w;
        fb->cap = n;
    }
    float *row = fb->feats + fb->n * VER_SCORE_NFEAT;
    for (int i = 0; i < VER_SCORE_NFEAT; i++)
        row[i] = (float)f[i];
    fb->wlines[2 * fb->n] = line_of(fb, start);
    fb->wlines[2 * fb->n + 1] = line_of(fb, end > start ? end - 1 : start);
    fb->n++;
    return 0;
}

/* Features of every window of pair p into fb (p->f0 relative to fb). Candidate pairs are scored
 * with the claim in context, as the audit does. */
static int pair_windows(const struct tr *t, struct featbuf *fb, struct ver_scorer *sc,
                        struct tr_pair *p, struct err *err)
{
    const char *d = t->docs[p->doc];
    size_t n = t->doclen[p->doc];
    fb->nlines = 0;
    for (size_t i = 0; i <= n; i++)
        if (i == 0 || d[i - 1] == '\n') {
            if (tr_grow((void **)&fb->line_start, &fb->caplines, fb->nlines + 1, sizeof(size_t)))
                return err_set(err, ERR_NOMEM, "ver_train");
            fb->line_start[fb->nlines++] = i;
        }
    const struct tr_claim *k = &t->claims[p->claim];
    struct buf ctx = {0};
    if (p->kind == PK_CAND && ver_score_claim_in_context(k->text, k->article, &ctx, NULL)) {
        buf_cleanup(&ctx);
        return err_set(err, ERR_NOMEM, "ver_train");
    }
    p->f0 = fb->n;
    struct ver_score_claim c = {ctx.data ? ctx.data : k->text, 0, k->cocited};
    int rc = ver_score_windows(sc, &c, d, n, feat_cb, fb, err);
    buf_cleanup(&ctx);
    p->nwin = (int)(fb->n - p->f0);
    return rc == ERR_NOMEM ? err_set(err, ERR_NOMEM, "ver_train") : rc;
}

struct extract_job {
    struct tr *t;
    const int *order; /* pair indices, by document */
    int from, to;     /* order[from .. to) */
    const struct ver_model *m;
    struct featbuf fb;
    int rc;
    struct err err;
};

static void *extract_run(void *arg)
{
    struct extract_job *j = arg;
    struct ver_scorer *sc = NULL;
    j->rc = ver_scorer_new_model(&sc, j->m, NULL, &j->err);
    for (int i = j->from; !j->rc && i < j->to;
         i++) /* same document in a row: reused by the scorer */
        j->rc = pair_windows(j->t, &j->fb, sc, &j->t->pairs[j->order[i]], &j->err);
    ver_scorer_free(sc);
    return NULL;
}

static int by_doc(const void *a, const void *b, void *ctx)
{
    const struct tr *t = ctx;
    int x = *(const int *)a, y = *(const int *)b;
    int dx = t->pairs[x].doc, dy = t->pairs[y].doc;
    return dx != dy ? (dx < dy ? -1 : 1) : (x < y ? -1 : x > y);
}

/* Window features of all pairs, in TR_THREADS threads (one scorer each), pairs of one document
 * in a row (the scorer reuses the document's tokens). Each pair's rows are located by its f0, so
 * the result does not depend on the threads or the order. */
static int extract_all(struct tr *t, const struct ver_model *m, struct err *err)
{
    int *order = malloc((size_t)(t->npairs ? t->npairs : 1) * sizeof *order);
    if (!order) return err_set(err, ERR_NOMEM, "ver_train");
    for (int i = 0; i < t->npairs; i++)
        order[i] = i;
    qsort_r(order, (size_t)t->npairs, sizeof *order, by_doc, t);
    struct extract_job jobs[TR_THREADS];
    pthread_t th[TR_THREADS];
    int started[TR_THREADS] = {0}, rc = ERR_OK;
    for (int k = 0; k < TR_THREADS; k++) {
        memset(&jobs[k], 0, sizeof jobs[k]);
        jobs[k].t = t;
        jobs[k].m = m;
        jobs[k].order = order;
        jobs[k].from = (int)((long)t->npairs * k / TR_THREADS);
        jobs[k].to = (int)((long)t->npairs * (k + 1) / TR_THREADS);
        started[k] = k > 0 && pthread_create(&th[k], NULL, extract_run, &jobs[k]) == 0;
        if (k > 0 && !started[k]) extract_run(&jobs[k]);
    }
    extract_run(&jobs[0]);
    for (int k = 1; k < TR_THREADS; k++)
        if (started[k]) pthread_join(th[k], NULL);
    size_t total = 0;
    for (int k = 0; k < TR_THREADS; k++) {
        if (jobs[k].rc && !rc) {
            rc = jobs[k].rc;
            *err = jobs[k].err;
        }
        total += jobs[k].fb.n;
    }
    if (!rc) {
        t->feats = malloc((total ? total : 1) * VER_SCORE_NFEAT * sizeof *t->feats);
        t->wlines = malloc((total ? total : 1) * 2 * sizeof *t->wlines);
        if (!t->feats || !t->wlines) rc = err_set(err, ERR_NOMEM, "ver_train");
    }
    size_t at = 0;
    for (int k = 0; k < TR_THREADS; k++) {
        if (!rc) {
            if (jobs[k].fb.n) { /* fb.feats and fb.wlines are NULL when the job had no rows */
                memcpy(t->feats + at * VER_SCORE_NFEAT, jobs[k].fb.feats,
                       jobs[k].fb.n * VER_SCORE_NFEAT * sizeof *t->feats);
                memcpy(t->wlines + at * 2, jobs[k].fb.wlines, jobs[k].fb.n * 2 * sizeof *t->wlines);
            }
            for (int i = jobs[k].from; i < jobs[k].to; i++)
                t->pairs[order[i]].f0 += at;
            at += jobs[k].fb.n;
        }
        free(jobs[k].fb.feats);
        free(jobs[k].fb.wlines);
        free(jobs[k].fb.line_start);
    }
    t->nfeat_rows = at;
    free(order);
    return rc;
}

/* Logit of window row r (floats) under m. */
static double row_logit(const struct ver_model *m, const float *row)
{
    double x[VER_SCORE_NFEAT];
    for (int i = 0; i < VER_SCORE_NFEAT; i++)
        x[i] = row[i];
    return ver_model_logit(m, x);
}

/* Does window row r hold one of the claim's evidence lines? */
static int row_gold(const struct tr *t, const struct tr_claim *k, size_t r)
{
    for (int g = 0; g < k->ngold; g++)
        if (k->gold[g] >= t->wlines[2 * r] && k->gold[g] <= t->wlines[2 * r + 1]) return 1;
    return 0;
}

/* Index (row) of pair p's best-aligned window (ver_score_align, as the scorer judges a source)
 * and its logit under m; with `gold`, among the windows holding an evidence line when the pair is
 * a true one with evidence (and any has one). */
static size_t best_window(const struct tr *t, const struct tr_pair *p, const struct ver_model *m,
                          int gold, double *logit)
{
    const struct tr_claim *k = &t->claims[p->claim];
    int use_gold = gold && p->kind == PK_TRUE && p->cls > 0 && k->ngold > 0;
    size_t best = p->f0;
    double ba = -INFINITY, bw = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int w = 0; w < p->nwin; w++) {
            size_t r = p->f0 + (size_t)w;
            if (use_gold && !row_gold(t, k, r)) continue;
            const float *row = t->feats + r * VER_SCORE_NFEAT;
            double x[VER_SCORE_NFEAT];
            for (int i = 0; i < VER_SCORE_NFEAT; i++)
                x[i] = row[i];
            double a = ver_score_align(x);
            /* the scorer's order: higher alignment, then fewer words, then earlier */
            if (a > ba + 1e-9 || (fabs(a - ba) <= 1e-9 && x[VER_F_WIN_LEN] < bw)) {
                ba = a;
                bw = x[VER_F_WIN_LEN];
                best = r;
            }
        }
        if (ba > -INFINITY || !use_gold) break;
        use_gold = 0; /* no window holds the evidence (a split sentence): any */
    }
    *logit = p->nwin ? row_logit(m, t->feats + best * VER_SCORE_NFEAT) : -INFINITY;
    return best;
}

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* Solve A x = b in place (n x n, row-major) by Gaussian elimination with partial pivoting.
 * Returns 0, or -1 when A is singular. */
static int solve(double *a, double *b, int n)
{
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[piv * n + c])) piv = r;
        if (fabs(a[piv * n + c]) < 1e-12) return -1;
        if (piv != c) {
            for (int k = 0; k < n; k++) {
                double tmp = a[c * n + k];
                a[c * n + k] = a[piv * n + k];
                a[piv * n + k] = tmp;
            }
            double tmp = b[c];
            b[c] = b[piv];
            b[piv] = tmp;
        }
        for (int r = c + 1; r < n; r++) {
            double f = a[r * n + c] / a[c * n + c];
            for (int k = c; k < n; k++)
                a[r * n + k] -= f * a[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (int c = n - 1; c >= 0; c--) {
        double s = b[c];
        for (int k = c + 1; k < n; k++)
            s -= a[c * n + k] * b[k];
        b[c] = s / a[c * n + c];
    }
    return 0;
}

#define NP (VER_SCORE_NFEAT + 1) /* verifier parameters: weights + bias (last) */
#define NP_MAX (NP > VER_RANK_NFEAT + 1 ? NP : VER_RANK_NFEAT + 1)

/* The sign a feature's weight must have: +1 (agreement, coverage), -1 (conflict, window length),
 * 0 (free). */
static int feature_sign(int k)
{
    switch (k) {
    case VER_F_BM25:
    case VER_F_COV_IDF:
    case VER_F_COV:
    case VER_F_BIGRAM:
    case VER_F_COV_W:
    case VER_F_COV_LEX:
    case VER_F_PART_MIN:
    case VER_F_NUM_AGREE:
    case VER_F_DATE_AGREE:
    case VER_F_NAME_AGREE:
    case VER_F_DOC_COV:
    case VER_F_DOC_NAME:
    case VER_F_DOC_UNION:
    case VER_F_DOC_PART_MIN:
    case VER_F_DENSE:
    case VER_F_LEX_SYN: /* a match through the lexicon is evidence, never counter-evidence */
    case VER_F_LEX_HYPO:
    case VER_F_LEX_HYPER:
    case VER_F_S_COV: /* nor is coverage of a short source */
    case VER_F_S_BM25:
    case VER_F_S_COV_W:
    case VER_F_S_COV_LEX:
    case VER_F_S_DOC_COV:
    case VER_F_S_BIGRAM:
    case VER_F_S_PART_MIN:
        return 1;
    case VER_F_NUM_CONFLICT:
    case VER_F_DATE_CONFLICT:
    case VER_F_NEG_FLIP:
    case VER_F_ANT_CLASH:
    case VER_F_PART_MISS:
    case VER_F_DOC_MISS_MAX:
    case VER_F_WIN_LEN:
        return -1; /* at equal coverage, the tighter window is the better evidence */
    default:
        return 0;
    }
}

/* The weighted, L2-penalised cross-entropy of theta (np, bias last) on rows x (n, np), soft
 * targets y, weights c summing to csum. */
static double lr_loss(const double *theta, int np, const double *x, const double *y,
                      const double *c, int n, double csum, double l2)
{
    double l = 0;
    for (int i = 0; i < n; i++) {
        const double *xi = x + (size_t)i * np;
        double z = 0;
        for (int k = 0; k < np; k++)
            z += theta[k] * xi[k];
        /* log(1 + e^z) - y z, computed without overflow */
        double sp = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
        l += c[i] / csum * (sp - y[i] * z);
    }
    for (int k = 0; k < np - 1; k++)
        l += 0.5 * l2 * theta[k] * theta[k];
    return l;
}

/* Weighted L2 logistic regression by damped Newton steps (halved until the loss drops) on rows x
 * (n, np with a final 1 column: the bias, unpenalised), soft targets y, weights c. Starts from and
 * updates theta (np); entries with frozen[k] stay 0. Returns the number of steps; loss in *loss. */
static int newton(const double *x, const double *y, const double *c, int n, int np,
                  const int *frozen, double l2, double *theta, double *loss)
{
    double g[NP_MAX], h[NP_MAX * NP_MAX], cand[NP_MAX];
    for (int i = 0; i < np - 1; i++)
        if (frozen[i]) theta[i] = 0;
    double csum = 0;
    for (int i = 0; i < n; i++)
        csum += c[i];
    if (csum <= 0) csum = 1;
    double l = lr_loss(theta, np, x, y, c, n, csum, l2);
    int it = 0;
    for (; it < TR_NEWTON_MAX; it++) {
        memset(g, 0, sizeof g);
        memset(h, 0, sizeof h);
        for (int i = 0; i < n; i++) {
            const double *xi = x + (size_t)i * np;
            double z = 0;
            for (int k = 0; k < np; k++)
                z += theta[k] * xi[k];
            double p = sigmoid(z), ci = c[i] / csum;
            double r = ci * (p - y[i]), wv = ci * p * (1 - p);
            for (int a = 0; a < np; a++) {
                g[a] += r * xi[a];
                for (int b = a; b < np; b++)
                    h[a * np + b] += wv * xi[a] * xi[b];
            }
        }
        for (int a = 0; a < np; a++)
            for (int b = 0; b < a; b++)
                h[a * np + b] = h[b * np + a];
        for (int k = 0; k < np - 1; k++) {
            g[k] += l2 * theta[k];
            h[k * np + k] += l2;
        }
        h[np * np - 1] += 1e-9;
        for (int k = 0; k < np - 1; k++) { /* frozen weights stay 0 */
            if (!frozen[k]) continue;
            for (int j = 0; j < np; j++)
                h[k * np + j] = h[j * np + k] = 0;
            h[k * np + k] = 1;
            g[k] = 0;
        }
        if (solve(h, g, np)) break;
        double step = 1, nl = l;
        for (int tries = 0; tries < 30; tries++, step *= 0.5) {
            for (int k = 0; k < np; k++)
                cand[k] = theta[k] - step * g[k];
            nl = lr_loss(cand, np, x, y, c, n, csum, l2);
            if (nl <= l) break;
        }
        if (nl > l) break; /* no descent: at the optimum up to rounding */
        memcpy(theta, cand, (size_t)np * sizeof *theta);
        double dl = l - nl;
        l = nl;
        if (dl < 1e-12) {
            it++;
            break;
        }
    }
    *loss = l;
    return it;
}

/* Is pair p fitted when fold `out` (-1: none) is held out? */
static int in_training(const struct tr_pair *p, const struct tr *t, int out)
{
    if (!p->nwin || p->kind == PK_CAND) return 0;
    const struct tr_claim *k = &t->claims[p->claim];
    if (p->set == SET_WICE) return out < 0 || k->fold != out;
    return p->set == SET_WICE_EXTRA || p->set == SET_CI_TRAIN;
}

/* Standardisation of the features over the windows of the pairs fitted (all folds). */
static void standardise(const struct tr *t, struct ver_model *m)
{
    double cnt = 0, s1[VER_SCORE_NFEAT] = {0}, s2[VER_SCORE_NFEAT] = {0};
    for (int i = 0; i < t->npairs; i++) {
        const struct tr_pair *pr = &t->pairs[i];
        if (!in_training(pr, t, -1)) continue;
        for (int w = 0; w < pr->nwin; w++) {
            const float *row = t->feats + (pr->f0 + (size_t)w) * VER_SCORE_NFEAT;
            for (int k = 0; k < VER_SCORE_NFEAT; k++) {
                s1[k] += row[k];
                s2[k] += (double)row[k] * row[k];
            }
            cnt++;
        }
    }
    for (int k = 0; k < VER_SCORE_NFEAT; k++) {
        double mu = cnt ? s1[k] / cnt : 0, var = cnt ? s2[k] / cnt - mu * mu : 0;
        m->mean[k] = mu;
        m->scale[k] = var > 1e-12 ? sqrt(var) : 1;
    }
}

/* Fit the verifier's weights on the training pairs, leaving WiCE fold `out` out (-1: none).
 * m's standardisation must be set. Returns Newton steps, or -1 when out of memory. */
static int fit(const struct tr *t, int out, struct ver_model *m, double *loss)
{
    int ntr = 0;
    for (int i = 0; i < t->npairs; i++)
        ntr += in_training(&t->pairs[i], t, out);
    double *x = malloc((size_t)(ntr ? ntr : 1) * NP * sizeof *x);
    double *y = malloc((size_t)(ntr ? ntr : 1) * sizeof *y);
    double *c = malloc((size_t)(ntr ? ntr : 1) * sizeof *c);
    if (!x || !y || !c) {
        free(x);
        free(y);
        free(c);
        return -1;
    }
    double per_class[3] = {0};
    for (int i = 0; i < t->npairs; i++)
        if (in_training(&t->pairs[i], t, out)) per_class[t->pairs[i].cls]++;
    memset(m->w, 0, sizeof m->w);
    m->bias = 0;

    int iters = 0;
    double theta[NP];
    for (int round = 0; round < TR_ROUNDS; round++) {
        int n = 0;
        for (int i = 0; i < t->npairs; i++) {
            const struct tr_pair *pr = &t->pairs[i];
            if (!in_training(pr, t, out)) continue;
            double l;
            size_t row = best_window(t, pr, m, TR_GOLD, &l);
            const float *f = t->feats + row * VER_SCORE_NFEAT;
            for (int k = 0; k < VER_SCORE_NFEAT; k++)
                x[(size_t)n * NP + k] = (f[k] - m->mean[k]) / m->scale[k];
            x[(size_t)n * NP + VER_SCORE_NFEAT] = 1;
            y[n] = pr->cls / 2.0;
            c[n] = ntr / (3.0 * per_class[pr->cls]) * (pr->kind == PK_SWAP ? 0.5 : 1);
            n++;
        }
        for (int k = 0; k < VER_SCORE_NFEAT; k++)
            theta[k] = m->w[k];
        theta[VER_SCORE_NFEAT] = m->bias;
        int frozen[VER_SCORE_NFEAT] = {0};
        for (int pass = 0; pass < VER_SCORE_NFEAT; pass++) {
            iters += newton(x, y, c, n, NP, frozen, TR_L2, theta, loss);
            int again = 0;
            for (int k = 0; k < VER_SCORE_NFEAT; k++) {
                int sign = feature_sign(k);
                if (!frozen[k] && sign * theta[k] < 0) {
                    frozen[k] = 1;
                    theta[k] = 0;
                    again = 1;
                }
            }
            if (!again) break;
        }
        for (int k = 0; k < VER_SCORE_NFEAT; k++)
            m->w[k] = theta[k];
        m->bias = theta[VER_SCORE_NFEAT];
    }
    free(x);
    free(y);
    free(c);
    return iters;
}

/* Scores of the pairs selected by `sel` under m (best window, as the scorer does). */
static void score_pairs(struct tr *t, const struct ver_model *m,
                        int (*sel)(const struct tr *, const struct tr_pair *, int), int arg)
{
    for (int i = 0; i < t->npairs; i++) {
        struct tr_pair *p = &t->pairs[i];
        if (sel && !sel(t, p, arg)) continue;
        double l;
        best_window(t, p, m, 0, &l);
        p->score = p->nwin ? sigmoid(l) : 0;
    }
}

static int sel_fold(const struct tr *t, const struct tr_pair *p, int fold)
{
    return p->set == SET_WICE && t->claims[p->claim].fold == fold && p->kind != PK_CAND;
}

/* ROC AUC of scores with labels (1 positive, 0 negative), ties counted half. */
struct sl {
    double s;
    int l;
};
static int sl_cmp(const void *a, const void *b)
{
    const struct sl *x = a, *y = b;
    return x->s < y->s ? -1 : x->s > y->s;
}
static double auc(struct sl *v, int n)
{
    if (n > 1) qsort(v, (size_t)n, sizeof *v, sl_cmp);
    double pos = 0, neg = 0, rank_sum = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && v[j].s == v[i].s)
            j++;
        double avg = (i + 1 + j) / 2.0; /* ranks i+1 .. j */
        for (int k = i; k < j; k++)
            if (v[k].l) {
                rank_sum += avg;
                pos++;
            } else
                neg++;
        i = j;
    }
    if (pos == 0 || neg == 0) return 0;
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

static int verdict(const struct ver_model *m, double s)
{
    return s >= m->t_supported ? 2 : s >= m->t_weak ? 1 : 0;
}

static int by_score_desc(const void *a, const void *b)
{
    const struct sl *x = a, *y = b;
    return x->s > y->s ? -1 : x->s < y->s;
}

/* Thresholds from the (out-of-fold) scores of the WiCE pairs: t_supported the lowest with
 * precision >= target (at least TR_MIN_PREDICTED called supported), t_weak the best
 * balanced accuracy of weak-or-better vs the rest; the precision and recall at t_supported. */
static int calibrate(const struct tr *t, double target, struct ver_model *m)
{
    struct sl *v = malloc((size_t)(t->npairs ? t->npairs : 1) * sizeof *v);
    if (!v) return -1;
    int n = 0, pos = 0;
    for (int i = 0; i < t->npairs; i++) {
        const struct tr_pair *p = &t->pairs[i];
        if (p->set != SET_WICE || p->kind != PK_TRUE) continue;
        v[n].s = p->score;
        v[n].l = p->cls == 2;
        pos += v[n].l;
        n++;
    }
    if (n > 1) qsort(v, (size_t)n, sizeof *v, by_score_desc);
    double best_t = 1, prec = 0, rec = 0;
    int tp = 0;
    m->best_f1 = 0;
    for (int i = 0; i < n; i++) {
        tp += v[i].l;
        if (i + 1 < n && v[i + 1].s == v[i].s) continue;
        double p = (double)tp / (i + 1);
        double f1 = pos ? 2.0 * tp / (i + 1 + pos) : 0;
        if (f1 > m->best_f1) m->best_f1 = f1;
        if (i + 1 >= TR_MIN_PREDICTED && p >= target) {
            best_t = v[i].s;
            prec = p;
            rec = pos ? (double)tp / pos : 0;
        }
    }
    m->t_supported = floor(best_t * 1e4) / 1e4;
    m->cal_target = target;
    m->cal_precision = prec;
    m->cal_recall = rec;
    /* t_weak: weak-or-better for own pages partly or fully supported, else not */
    double bestb = -1;
    m->t_weak = m->t_supported;
    for (int a = 1; a < 100; a++) {
        double tw = a / 100.0;
        if (tw > m->t_supported) break;
        double hit[2] = {0}, tot[2] = {0};
        for (int i = 0; i < t->npairs; i++) {
            const struct tr_pair *p = &t->pairs[i];
            if (p->set != SET_WICE || (p->kind != PK_TRUE && p->kind != PK_WRONG)) continue;
            int want = p->kind == PK_TRUE && p->cls > 0;
            tot[want]++;
            hit[want] += (p->score >= tw) == want;
        }
        double bal = (tot[0] ? hit[0] / tot[0] : 0) + (tot[1] ? hit[1] / tot[1] : 0);
        if (bal > bestb + 1e-12) {
            bestb = bal;
            m->t_weak = tw;
        }
    }
    free(v);
    return 0;
}

/* WiCE metrics from the current (out-of-fold) scores into rep. */
static int wice_metrics(const struct tr *t, const struct ver_model *m, struct ver_train_report *rep)
{
    struct sl *v = malloc((size_t)(t->npairs ? t->npairs : 1) * sizeof *v);
    if (!v) return -1;
    int n = 0, acc = 0, swaps = 0, drops = 0, stp = 0, sfp = 0, sfn = 0;
    for (int i = 0; i < t->npairs; i++) {
        const struct tr_pair *p = &t->pairs[i];
        if (p->set != SET_WICE || p->kind == PK_CAND) continue;
        if (p->kind == PK_SWAP) {
            swaps++;
            drops += p->score < t->pairs[p->orig].score;
            continue;
        }
        v[n].s = p->score;
        v[n].l = p->kind == PK_TRUE;
        n++;
        int vd = verdict(m, p->score);
        acc += vd == p->cls;
        if (p->kind == PK_TRUE) {
            stp += vd == 2 && p->cls == 2;
            sfp += vd == 2 && p->cls != 2;
            sfn += vd != 2 && p->cls == 2;
        }
    }
    rep->wice_supported_f1 = stp ? 2.0 * stp / (2.0 * stp + sfp + sfn) : 0;
    rep->wice_precision = stp + sfp ? (double)stp / (stp + sfp) : 0;
    rep->wice_recall = stp + sfn ? (double)stp / (stp + sfn) : 0;
    rep->wice_swap_drop = swaps ? (double)drops / swaps : 0;
    rep->n_heldout = n;
    rep->wice_auc = auc(v, n);
    rep->wice_acc = n ? (double)acc / n : 0;
    free(v);
    return 0;
}

/* Citation-Integrity dev metrics under m into rep. */
static int ci_metrics(struct tr *t, const struct ver_model *m, struct ver_train_report *rep)
{
    struct sl *v = malloc((size_t)(t->npairs ? t->npairs : 1) * sizeof *v);
    struct sl *r = malloc((size_t)(t->npairs ? t->npairs : 1) * sizeof *r);
    if (!v || !r) {
        free(v);
        free(r);
        return -1;
    }
    double tp[3] = {0}, fp[3] = {0}, fn[3] = {0};
    int n = 0, nr = 0;
    for (int i = 0; i < t->npairs; i++) {
        struct tr_pair *p = &t->pairs[i];
        if (p->set != SET_CI_DEV || p->kind == PK_SWAP) continue;
        double l;
        best_window(t, p, m, 0, &l);
        p->score = p->nwin ? sigmoid(l) : 0;
        v[n].s = p->score;
        v[n].l = p->kind == PK_TRUE;
        n++;
        if (p->kind != PK_TRUE) continue;
        if (p->cls > 0) {
            r[nr].s = p->score;
            r[nr++].l = p->cls == 2;
        }
        int vd = verdict(m, p->score);
        if (vd == p->cls)
            tp[vd]++;
        else {
            fp[vd]++;
            fn[p->cls]++;
        }
    }
    rep->ci_wrong_auc = auc(v, n);
    rep->ci_refute_auc = auc(r, nr);
    double f1sum = 0;
    for (int k = 0; k < 3; k++) {
        double d = 2 * tp[k] + fp[k] + fn[k];
        double f1 = d > 0 ? 2 * tp[k] / d : 0;
        f1sum += f1;
        if (k == 2) rep->ci_support_f1 = f1;
    }
    rep->ci_macro_f1 = f1sum / 3;
    free(v);
    free(r);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------- the suggestion ranker */

/* The page pool: every WiCE page indexed for BM25 in a temporary folder. */
struct pool {
    char dir[4096];
    struct idx *ix;
    struct ret *ret;
};

static void pool_close(struct pool *p)
{
    ret_free(p->ret);
    idx_close(p->ix);
    if (p->dir[0]) {
        static const char *const files[] = {"index.db", "index.db-wal", "index.db-shm",
                                            "vectors.faiss"};
        char path[4200];
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", p->dir, files[i]);
            unlink(path);
        }
        rmdir(p->dir);
    }
}

/* A WiCE page's title (its "(meta data) TITLE:" first line) and where its text starts. */
static const char *page_title(const char *doc, size_t *tlen, size_t *text_at)
{
    static const char pfx[] = "(meta data) TITLE:";
    *tlen = 0;
    *text_at = 0;
    if (strncmp(doc, pfx, sizeof pfx - 1)) return doc;
    const char *nl = strchr(doc, '\n');
    const char *t = doc + sizeof pfx - 1;
    while (*t == ' ')
        t++;
    *tlen = (size_t)((nl ? nl : doc + strlen(doc)) - t);
    *text_at = nl ? (size_t)(nl - doc) + 1 : strlen(doc);
    return t;
}

static int pool_open(struct tr *t, struct pool *p, struct err *err)
{
    memset(p, 0, sizeof *p);
    const char *tmp = getenv("TMPDIR");
    snprintf(p->dir, sizeof p->dir, "%s/vericite-train.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(p->dir)) {
        int rc = err_set(err, ERR_IO, "%s: %s", p->dir, strerror(errno));
        p->dir[0] = '\0';
        return rc;
    }
    struct idx_opts io = {.create = 1};
    struct idx_vec_opts vo = {.embedder = "none"};
    int rc = idx_open(&p->ix, p->dir, &io, err);
    if (!rc) rc = idx_begin(p->ix, err);
    if (!rc) rc = idx_vec_configure(p->ix, &vo, err);
    char *done = calloc((size_t)t->ndocs + 1, 1);
    if (!done) rc = err_set(err, ERR_NOMEM, "ver_train");
    for (int i = 0; !rc && i < t->nclaims; i++) {
        const struct tr_claim *k = &t->claims[i];
        if ((k->set != SET_WICE && k->set != SET_OUT) || done[k->doc]) continue;
        done[k->doc] = 1;
        char id[32], title[512];
        snprintf(id, sizeof id, "p%d", k->doc);
        size_t tl, at;
        const char *ti = page_title(t->docs[k->doc], &tl, &at);
        snprintf(title, sizeof title, "%.*s", (int)(tl < 500 ? tl : 500), ti);
        struct corpus_doc d = {.id = id,
                               .title = title,
                               .url = "",
                               .text = t->docs[k->doc] + at,
                               .text_len = t->doclen[k->doc] - at,
                               .source = "wice",
                               .line = 0};
        rc = idx_add(p->ix, &d, NULL, err);
    }
    free(done);
    if (!rc) rc = idx_vec_sync(p->ix, NULL, NULL, err);
    if (!rc) rc = idx_commit(p->ix, err);
    if (!rc) rc = ret_new(&p->ret, p->ix, err);
    return rc;
}

/* ---- the missing-word model ---- */

#define TR_MISS_NP (VER_MISS_NFEAT + 1)
#ifndef TR_MISS_L2
#define TR_MISS_L2 1e-3 /* L2 of the missing-word model (per row: thousands of words, 7 weights) */
#endif

struct mrows {
    double *x;       /* (n, TR_MISS_NP): raw features, then 1 */
    double *y;       /* 1: the word is annotated not supported */
    int *fold;       /* the claim's fold (ver_train_fold of its article) */
    int *tokens;     /* 1: from a claim with annotated words (train_tokens), 0: a supported claim */
    int *absent;     /* 1: the word is nowhere in the source (missing whatever the model says) */
    size_t n, cap;
    const struct tr_claim *k; /* the claim being scored */
    int k_fold, oom;
};

static int mrow_cb(void *ctx, const double *f, int absent, size_t start, size_t end)
{
    struct mrows *r = ctx;
    if (r->n == r->cap) {
        size_t c = r->cap ? r->cap * 2 : 4096;
        double *x = realloc(r->x, c * TR_MISS_NP * sizeof *x);
        if (x) r->x = x;
        double *y = realloc(r->y, c * sizeof *y);
        if (y) r->y = y;
        int *fo = realloc(r->fold, c * sizeof *fo);
        if (fo) r->fold = fo;
        int *tk = realloc(r->tokens, c * sizeof *tk);
        if (tk) r->tokens = tk;
        int *ab = realloc(r->absent, c * sizeof *ab);
        if (ab) r->absent = ab;
        if (!x || !y || !fo || !tk || !ab) {
            r->oom = 1;
            return 1;
        }
        r->cap = c;
    }
    int lab = 0;
    for (int i = 0; i < r->k->nunsup; i++)
        lab |= r->k->unsup[2 * i] < end && start < r->k->unsup[2 * i + 1];
    memcpy(r->x + r->n * TR_MISS_NP, f, VER_MISS_NFEAT * sizeof *f);
    r->x[r->n * TR_MISS_NP + VER_MISS_NFEAT] = 1;
    r->y[r->n] = lab;
    r->fold[r->n] = r->k_fold;
    r->tokens[r->n] = r->k->has_tokens;
    r->absent[r->n] = absent;
    r->n++;
    return 0;
}

/* Fit the missing-word model's weights on the rows of words found in the source whose fold is
 * not `out` (-1: all), standardised by m's mmean/mscale; into m->mw and m->miss_bias. Returns 0
 * or -1 out of memory. */
static int miss_fit(const struct mrows *r, int out, struct ver_model *m)
{
    size_t n = 0;
    double *x = malloc((r->n ? r->n : 1) * TR_MISS_NP * sizeof *x);
    double *y = malloc((r->n ? r->n : 1) * sizeof *y), *c = malloc((r->n ? r->n : 1) * sizeof *c);
    if (!x || !y || !c) {
        free(x);
        free(y);
        free(c);
        return -1;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (r->fold[i] == out || r->absent[i]) continue;
        for (int k = 0; k < VER_MISS_NFEAT; k++)
            x[n * TR_MISS_NP + k] = (r->x[i * TR_MISS_NP + k] - m->mmean[k]) / m->mscale[k];
        x[n * TR_MISS_NP + VER_MISS_NFEAT] = 1;
        y[n] = r->y[i];
        c[n] = 1;
        n++;
    }
    double theta[TR_MISS_NP] = {0}, loss;
    int frozen[TR_MISS_NP] = {0};
    newton(x, y, c, (int)n, TR_MISS_NP, frozen, TR_MISS_L2, theta, &loss);
    memcpy(m->mw, theta, VER_MISS_NFEAT * sizeof *theta);
    m->miss_bias = theta[VER_MISS_NFEAT];
    free(x);
    free(y);
    free(c);
    return 0;
}

/* Precision and recall of "missing" (absent from the source, or probability p[i] > thr) over the
 * annotated rows; F1 (what
 * the threshold maximises) counting the supported claims' words called missing as false
 * positives too; and the share of those words called missing. */
static void miss_figures(const struct mrows *r, const double *p, double thr, double *prec,
                         double *rec, double *f1, double *sup_share)
{
    double tp = 0, fp = 0, fn = 0, fp_sup = 0, n_sup = 0;
    for (size_t i = 0; i < r->n; i++) {
        int pr = r->absent[i] || p[i] > thr;
        if (!r->tokens[i]) {
            fp_sup += pr;
            n_sup++;
        } else if (r->y[i] > 0) {
            tp += pr;
            fn += !pr;
        } else {
            fp += pr;
        }
    }
    *prec = tp + fp > 0 ? tp / (tp + fp) : 0;
    *rec = tp + fn > 0 ? tp / (tp + fn) : 0;
    *f1 = tp > 0 ? 2 * tp / (2 * tp + fp + fp_sup + fn) : 0;
    *sup_share = n_sup > 0 ? fp_sup / n_sup : 0;
}

/* The missing-word model: the words of the WiCE train_tokens claims (annotated supported or
 * not) and of the WiCE claims labelled supported (every word supported), each scored against
 * its page by the final support model `m`; logistic regression over enum ver_miss_feat (Newton,
 * L2) on the words found somewhere in the source (the others are missing by rule), the threshold
 * that maximises F1 on out-of-fold probabilities (5 folds by article), then the fit on all rows. Claims left out for an outside cross-validation (SET_OUT, and train_tokens
 * claims of that fold) are not used. Fills m's missing-word model and rep's figures. */
static int fit_missing(const struct tr *t, struct ver_model *m, struct ver_train_report *rep,
                       struct err *err)
{
    struct ver_model base = *m;
    base.has_missing = 0;
    struct ver_scorer *sc = NULL;
    int rc = ver_scorer_new_model(&sc, &base, NULL, err);
    if (rc) return rc;
    struct mrows r;
    memset(&r, 0, sizeof r);
    double *p = NULL;
    for (int i = 0; i < t->nclaims && !rc; i++) {
        const struct tr_claim *k = &t->claims[i];
        int use = (k->set == SET_WICE_EXTRA && k->has_tokens) ||
                  (k->set == SET_WICE && k->cls == 2 && !k->swapped);
        if (!use) continue;
        r.k = k;
        r.k_fold = ver_train_fold(k->article, VER_TRAIN_CV_FOLDS);
        if (k->set == SET_WICE_EXTRA && t->o && t->o->folds > 1 &&
            ver_train_fold(k->article, t->o->folds) == t->o->fold)
            continue;
        struct ver_score_claim c = {k->text, 0, 0};
        struct ver_score_result res;
        rc = ver_score_words(sc, &c, t->docs[k->doc], t->doclen[k->doc], mrow_cb, &r, &res, err);
        if (!rc && r.oom) rc = err_set(err, ERR_NOMEM, "ver_train");
    }
    ver_scorer_free(sc);
    if (rc) goto done;
    if (r.n == 0) goto done; /* nothing to fit: the model keeps the rule */
    for (int k = 0; k < VER_MISS_NFEAT; k++) { /* over the rows the model decides */
        double s1 = 0, s2 = 0, cnt = 0;
        for (size_t i = 0; i < r.n; i++) {
            if (r.absent[i]) continue;
            s1 += r.x[i * TR_MISS_NP + k];
            s2 += r.x[i * TR_MISS_NP + k] * r.x[i * TR_MISS_NP + k];
            cnt++;
        }
        double mu = cnt ? s1 / cnt : 0, var = cnt ? s2 / cnt - mu * mu : 0;
        m->mmean[k] = mu;
        m->mscale[k] = var > 1e-12 ? sqrt(var) : 1;
    }
    if (!(p = malloc(r.n * sizeof *p))) goto oom;
    for (int f = 0; f < VER_TRAIN_CV_FOLDS; f++) {
        struct ver_model mf = *m;
        if (miss_fit(&r, f, &mf)) goto oom;
        for (size_t i = 0; i < r.n; i++)
            if (r.fold[i] == f) p[i] = ver_model_miss_prob(&mf, r.x + i * TR_MISS_NP);
    }
    double best = -1, thr = 0.5, pr, re, f1, sh;
    for (int s = 10; s <= 90; s++) { /* thresholds 0.10 .. 0.90 */
        miss_figures(&r, p, s / 100.0, &pr, &re, &f1, &sh);
        if (f1 > best + 1e-12) {
            best = f1;
            thr = s / 100.0;
        }
    }
    miss_figures(&r, p, thr, &rep->miss_precision, &rep->miss_recall, &rep->miss_f1,
                 &rep->miss_supported_share);
    /* the rule it replaces, on the same words: missing = not in the window nor its complement */
    for (size_t i = 0; i < r.n; i++)
        p[i] = r.x[i * TR_MISS_NP + VER_M_NOT_UNION];
    miss_figures(&r, p, 0.5, &pr, &re, &rep->miss_rule_f1, &rep->miss_rule_supported_share);
    if (miss_fit(&r, -1, m)) goto oom;
    m->t_missing = thr;
    m->has_missing = 1;
    rep->miss_words = (int)r.n;
    goto done;
oom:
    rc = err_set(err, ERR_NOMEM, "ver_train");
done:
    free(p);
    free(r.x);
    free(r.y);
    free(r.fold);
    free(r.tokens);
    free(r.absent);
    return rc;
}

/* Candidate pairs: each training WiCE claim citing its first wrong page (the cited pair has
 * rank -1), with the TR_CANDIDATES pages BM25 retrieves for the claim and its article title. */
static int make_candidates(struct tr *t, struct ver_scorer *sc, struct pool *pl, struct err *err)
{
    int norig = t->nclaims, rc = ERR_OK;
    struct buf q = {0};
    for (int ci = 0; ci < norig && !rc; ci++) {
        const struct tr_claim *k = &t->claims[ci];
        if (k->set != SET_WICE || k->swapped) continue;
        int cited = -1;
        for (int i = 0; i < t->npairs && cited < 0; i++)
            if (t->pairs[i].claim == ci && t->pairs[i].kind == PK_WRONG) cited = t->pairs[i].doc;
        if (cited < 0) continue;
        buf_reset(&q);
        if (buf_puts(&q, k->text) || buf_putc(&q, ' ') || buf_puts(&q, k->article))
            return err_set(err, ERR_NOMEM, "ver_train");
        struct ret_opts o = {.mode = RET_BM25, .k = TR_CANDIDATES + 1, .by_doc = 1};
        struct ret_hit hits[TR_CANDIDATES + 1];
        int nh = 0;
        rc = ret_search(pl->ret, q.data, &o, hits, &nh, err);
        double top = 0;
        int rank = 0, hard_done = 0;
        /* the cited page first (rank -1), then the retrieved ones */
        for (int h = -1; !rc && h < nh && rank < TR_CANDIDATES; h++) {
            int d = cited;
            double score = 0;
            if (h >= 0) {
                struct idx_doc dd;
                if ((rc = idx_doc(pl->ix, hits[h].doc_row, &dd, err))) break;
                d = (int)strtol(dd.id + 1, NULL, 10);
                if (d < 0 || d >= t->ndocs || same_doc(t, d, cited)) continue;
                score = hits[h].score;
                if (top == 0) top = score;
            }
            if (add_pair(t, ci, d, 0, PK_CAND)) {
                rc = err_set(err, ERR_NOMEM, "ver_train");
                break;
            }
            struct tr_pair *p = &t->pairs[t->npairs - 1];
            int hard = h >= 0 && !hard_done && !same_doc(t, d, k->doc);
            hard_done |= hard;
            p->rank = h < 0 ? -1 : rank++;
            p->bm25_share = top > 0 ? score / top : 0;
            p->own = same_doc(t, d, k->doc);
            size_t tl, at;
            const char *ti = page_title(t->docs[d], &tl, &at);
            char title[512];
            snprintf(title, sizeof title, "%.*s", (int)(tl < 500 ? tl : 500), ti);
            p->title = ver_scorer_term_overlap(sc, k->article, title);
            p->claim_title = ver_scorer_term_overlap(sc, k->text, title);
            if (hard && k->set == SET_WICE && add_pair(t, ci, d, 0, PK_WRONG)) {
                /* the best-matching wrong page: a hard negative for the verifier */
                rc = err_set(err, ERR_NOMEM, "ver_train");
                break;
            }
        }
    }
    buf_cleanup(&q);
    return rc;
}

/* Ranking features of candidate pair p (cited: the claim's cited pair) under m. */
static void rank_features(const struct tr *t, const struct tr_pair *p, const struct tr_pair *cited,
                          const struct ver_model *m, double *x)
{
    double l, lc = -30;
    size_t row = best_window(t, p, m, 0, &l);
    if (!p->nwin) l = -30;
    if (cited && cited->nwin) best_window(t, cited, m, 0, &lc);
    const float *f = t->feats + row * VER_SCORE_NFEAT;
    x[VER_R_LOGIT] = l;
    x[VER_R_GAIN] = l - lc;
    x[VER_R_COV_LEX] = p->nwin ? f[VER_F_COV_LEX] : 0;
    x[VER_R_DOC_UNION] = p->nwin ? f[VER_F_DOC_UNION] : 0;
    x[VER_R_NAME] = p->nwin ? f[VER_F_DOC_NAME] : 0;
    x[VER_R_BM25] = p->bm25_share;
    x[VER_R_RANK] = log1p(p->rank);
    x[VER_R_DENSE] = 0; /* the trainer's pool has no vectors */
    x[VER_R_TITLE] = p->title;
    x[VER_R_CLAIM_TITLE] = p->claim_title;
}

#define RNP (VER_RANK_NFEAT + 1)

/* The mean and scale of each ranking feature over the candidates' features fx (n, VER_RANK_NFEAT). */
static void rank_standardise(const double *fx, int n, struct ver_model *m)
{
    for (int k = 0; k < VER_RANK_NFEAT; k++) {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            s1 += fx[(size_t)i * VER_RANK_NFEAT + k];
            s2 += fx[(size_t)i * VER_RANK_NFEAT + k] * fx[(size_t)i * VER_RANK_NFEAT + k];
        }
        double mu = n ? s1 / n : 0, var = n ? s2 / n - mu * mu : 0;
        m->rmean[k] = mu;
        m->rscale[k] = var > 1e-12 ? sqrt(var) : 1;
    }
}

/* The pairwise rows: each claim's own page minus each other candidate of the same claim, both
 * ways, standardised, into x (maxrows, RNP), y and c (maxrows). Returns the number of rows. */
static size_t pairwise_rows(const double *fx, const int *claim, const int *own, int n,
                            const struct ver_model *m, size_t maxrows, double *x, double *y,
                            double *c)
{
    size_t rows = 0;
    for (int i = 0; i < n; i++) {
        if (!own[i]) continue;
        for (int j = 0; j < n; j++) {
            if (claim[j] != claim[i] || own[j] || rows + 2 > maxrows) continue;
            for (int s = 0; s < 2; s++) {
                double *r = x + rows * RNP;
                for (int k = 0; k < VER_RANK_NFEAT; k++) {
                    double d =
                        (fx[(size_t)i * VER_RANK_NFEAT + k] - fx[(size_t)j * VER_RANK_NFEAT + k]) /
                        m->rscale[k];
                    r[k] = s ? -d : d;
                }
                r[VER_RANK_NFEAT] = 0;
                y[rows] = s ? 0 : 1;
                c[rows] = 1;
                rows++;
            }
        }
    }
    return rows;
}

/* In-sample R@1/R@5 of the calibrated ranker (p = logistic(ab[0] z + ab[1]), z (n, 2) the pairwise
 * score of each candidate and a 1) into rep, and the suggestion floor into m: 99% of the own pages
 * retrieved stay above it. */
static void rank_recall_floor(const double *z, const int *claim, const int *own, int n,
                              const double ab[2], struct ver_model *m,
                              struct ver_train_report *rep)
{
    int claims = 0, r1 = 0, r5 = 0, nfirst = 0;
    double *firsts = malloc((size_t)(n ? n : 1) * sizeof *firsts);
    if (firsts) {
        for (int i = 0; i < n; i++) {
            if (i > 0 && claim[i] == claim[i - 1]) continue;
            claims++;
            int j = i, rank_own = 0;
            double po = -1;
            for (; j < n && claim[j] == claim[i]; j++)
                if (own[j]) po = sigmoid(ab[0] * z[2 * j] + ab[1]);
            if (po >= 0)
                for (int q = i; q < j; q++)
                    rank_own += !own[q] && sigmoid(ab[0] * z[2 * q] + ab[1]) >= po;
            r1 += po >= 0 && rank_own == 0;
            r5 += po >= 0 && rank_own < 5;
            if (po >= 0) firsts[nfirst++] = po;
        }
        if (nfirst > 1) qsort(firsts, (size_t)nfirst, sizeof *firsts, cmp_double);
        double floor_p = nfirst ? firsts[nfirst / 100] : 0.05;
        m->suggest_floor = floor(fmin(floor_p, 0.2) * 100) / 100;
        free(firsts);
    }
    rep->rank_r1 = claims ? (double)r1 / claims : 0;
    rep->rank_r5 = claims ? (double)r5 / claims : 0;
}

/* Fit the ranker (pairwise, then calibrated to a probability) and the suggestion floor. */
static int fit_ranker(const struct tr *t, struct ver_model *m, struct ver_train_report *rep)
{
    int nc = 0;
    for (int i = 0; i < t->npairs; i++)
        nc += t->pairs[i].kind == PK_CAND && t->pairs[i].rank >= 0;
    double *fx = malloc((size_t)(nc ? nc : 1) * VER_RANK_NFEAT * sizeof *fx);
    int *claim = malloc((size_t)(nc ? nc : 1) * sizeof *claim);
    int *own = malloc((size_t)(nc ? nc : 1) * sizeof *own);
    size_t maxrows = (size_t)(nc ? nc : 1) * 2;
    double *x = malloc(maxrows * RNP * sizeof *x), *y = malloc(maxrows * sizeof *y);
    double *c = malloc(maxrows * sizeof *c);
    int rc = -1;
    if (!fx || !claim || !own || !x || !y || !c) goto out;
    const struct tr_pair *cited = NULL;
    int n = 0;
    for (int i = 0; i < t->npairs; i++) {
        const struct tr_pair *p = &t->pairs[i];
        if (p->kind != PK_CAND) continue;
        if (p->rank < 0) {
            cited = p;
            continue;
        }
        rank_features(t, p, cited && cited->claim == p->claim ? cited : NULL, m,
                      fx + (size_t)n * VER_RANK_NFEAT);
        claim[n] = p->claim;
        own[n] = p->own;
        n++;
    }
    rank_standardise(fx, n, m);
    size_t rows = pairwise_rows(fx, claim, own, n, m, maxrows, x, y, c);
    double theta[RNP] = {0}, loss = 0;
    int frozen[RNP] = {0};
    frozen[VER_R_DENSE] = 1;
    newton(x, y, c, (int)rows, RNP, frozen, TR_L2, theta, &loss);
    /* calibration: p(own) = logistic(a z + b) over the candidates, z the pairwise score */
    double *z = malloc((size_t)(n ? n : 1) * 2 * sizeof *z),
           *zy = malloc((size_t)(n ? n : 1) * sizeof *zy);
    double *zc = malloc((size_t)(n ? n : 1) * sizeof *zc);
    if (!z || !zy || !zc) {
        free(z);
        free(zy);
        free(zc);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < VER_RANK_NFEAT; k++)
            s += theta[k] * (fx[(size_t)i * VER_RANK_NFEAT + k] - m->rmean[k]) / m->rscale[k];
        z[2 * i] = s;
        z[2 * i + 1] = 1;
        zy[i] = own[i];
        zc[i] = 1;
    }
    double ab[2] = {1, 0};
    int fz[2] = {0, 0};
    newton(z, zy, zc, n, 2, fz, TR_L2, ab, &loss);
    if (!(ab[0] > 0)) ab[0] = 1e-3; /* keep the order of the pairwise score */
    for (int k = 0; k < VER_RANK_NFEAT; k++)
        m->rw[k] = ab[0] * theta[k];
    m->rank_bias = ab[1];
    rank_recall_floor(z, claim, own, n, ab, m, rep);
    free(z);
    free(zy);
    free(zc);
    rc = 0;
out:
    free(fx);
    free(claim);
    free(own);
    free(x);
    free(y);
    free(c);
    return rc;
}

int ver_train(const char *data_dir, const char *out_path, struct ver_train_report *rep,
              struct err *err)
{
    return ver_train_ex(data_dir, out_path, NULL, rep, err);
}

/* Contradiction verdicts of the WiCE true and changed-number pairs under the shipped model
 * (the scorer's own rule, so the figures match what users see). */
static int contra_figures(struct tr *t, const struct ver_model *m, struct ver_train_report *rep,
                          struct err *err)
{
    struct ver_scorer *sc = NULL;
    int rc = ver_scorer_new_model(&sc, m, NULL, err);
    if (rc) return rc;
    int ns = 0, cs = 0, nt = 0, ctr = 0;
    for (int i = 0; i < t->npairs && !rc; i++) {
        const struct tr_pair *p = &t->pairs[i];
        if (p->set != SET_WICE || (p->kind != PK_SWAP && !(p->kind == PK_TRUE && p->cls == 2)))
            continue;
        struct ver_score_result r;
        rc = ver_score_source(sc, t->claims[p->claim].text, t->docs[p->doc], t->doclen[p->doc], &r,
                              err);
        int c = r.verdict == VER_CONTRADICTED;
        if (p->kind == PK_SWAP) {
            ns++;
            cs += c;
        } else {
            nt++;
            ctr += c;
        }
    }
    rep->wice_swap_contra = ns ? (double)cs / ns : 0;
    rep->wice_true_contra = nt ? (double)ctr / nt : 0;
    ver_scorer_free(sc);
    return rc;
}

/* Read the five data files of `data_dir` into t. Errors name the file. */
static int read_data(struct tr *t, const char *data_dir, struct err *err)
{
    static const struct {
        const char *rel;
        line_fn line;
    } files[] = {
        {"wice/dev.jsonl", wice_line},
        {"wice/train_tokens.jsonl", wice_extra_line},
        {"citation-integrity/corpus.jsonl", ci_doc_line},
        {"citation-integrity/claims_train.jsonl", ci_train_line},
        {"citation-integrity/claims_dev.jsonl", ci_dev_line},
    };
    struct buf path = {0};
    int rc = ERR_OK;
    for (size_t i = 0; i < sizeof files / sizeof files[0] && !rc; i++) {
        buf_reset(&path);
        if (buf_printf(&path, "%s/%s", data_dir, files[i].rel))
            rc = err_set(err, ERR_NOMEM, "ver_train");
        else
            rc = each_line(t, path.data, files[i].line, err);
    }
    buf_cleanup(&path);
    return rc;
}

/* VERICITE_TRAIN_DUMP=file: each pair's best window's features, one line a pair (for analysis). */
static void dump_windows(const struct tr *t, const struct ver_model *m)
{
    const char *dump = getenv("VERICITE_TRAIN_DUMP");
    FILE *df = dump ? fopen(dump, "w") : NULL;
    if (!df) return;
    for (int i = 0; i < t->npairs; i++) {
        const struct tr_pair *pp = &t->pairs[i];
        if (!pp->nwin) continue;
        double l;
        size_t row = best_window(t, pp, m, 0, &l);
        fprintf(df, "%d\t%d\t%d\t%d\t%d\t%.5f\t%zu", pp->set, pp->kind, pp->cls, pp->claim,
                t->claims[pp->claim].fold, pp->score, t->doclen[pp->doc]);
        for (int k = 0; k < VER_SCORE_NFEAT; k++)
            fprintf(df, "\t%.5f", t->feats[row * VER_SCORE_NFEAT + k]);
        fputc('\n', df);
    }
    fclose(df);
}

/* The model file's comment lines: how it was made, from what, and its figures. 0 or -1 (memory). */
static int model_comments(struct buf *comments, const char *data_dir, const struct tr *t,
                          const struct ver_train_report *r, const struct ver_train_opts *opts)
{
    int counts[SET_N] = {0};
    for (int i = 0; i < t->npairs; i++)
        counts[t->pairs[i].set] += t->pairs[i].kind != PK_CAND;
    int bad = buf_printf(
        comments,
        "# made: vericite train-verifier %s (ver_train: %d rounds of evidence-window selection "
        "+ Newton logistic regression, L2 %g, classes weighted equally; thresholds on %d-fold "
        "out-of-fold scores, WiCE claims grouped by article; pairwise logistic ranker)\n"
        "# data: wice/dev.jsonl, wice/train_tokens.jsonl, citation-integrity/claims_train.jsonl + "
        "corpus.jsonl; negatives = each claim with another claim's page, and with a number "
        "changed; pairs: %d WiCE dev, %d WiCE train_tokens, %d CI train, %d CI dev (not fitted)\n"
        "# metrics (WiCE out of fold): own vs other page AUC %.4f, 3-way accuracy %.4f, "
        "supported F1 %.4f (precision %.4f, recall %.4f; best-threshold F1 %.4f), number-swap drop %.4f, contradicted: "
        "%.4f of number swaps, %.4f of supported pages; Citation-Integrity dev: SUPPORT vs REFUTE "
        "AUC %.4f, macro-F1 %.4f, wrong-source AUC %.4f; ranker (in sample) R@1 %.4f R@5 %.4f\n",
        data_dir, TR_ROUNDS, (double)TR_L2, VER_TRAIN_CV_FOLDS, counts[SET_WICE], counts[SET_WICE_EXTRA],
        counts[SET_CI_TRAIN], counts[SET_CI_DEV], r->wice_auc, r->wice_acc, r->wice_supported_f1,
        r->wice_precision, r->wice_recall, r->wice_best_f1, r->wice_swap_drop, r->wice_swap_contra, r->wice_true_contra,
        r->ci_refute_auc, r->ci_macro_f1, r->ci_wrong_auc, r->rank_r1, r->rank_r5);
    if (r->miss_words)
        bad |= buf_printf(comments,
                          "# missing words (out of fold, %d words of WiCE train_tokens and supported "
                          "claims): precision %.4f, recall %.4f, F1 %.4f, words of supported claims "
                          "called missing %.4f (the rule before: F1 %.4f, %.4f)\n",
                          r->miss_words, r->miss_precision, r->miss_recall, r->miss_f1,
                          r->miss_supported_share, r->miss_rule_f1, r->miss_rule_supported_share);
    if (opts && opts->folds > 1)
        bad |=
            buf_printf(comments, "# fold %d of %d of the WiCE dev claims left out (%d claims)\n",
                       opts->fold, opts->folds, r->n_excluded);
    return bad ? -1 : 0;
}

int ver_train_ex(const char *data_dir, const char *out_path, const struct ver_train_opts *opts,
                 struct ver_train_report *rep, struct err *err)
{
    struct tr t;
    memset(&t, 0, sizeof t);
    t.o = opts;
    struct ver_train_report r;
    memset(&r, 0, sizeof r);
    struct ver_scorer *sc = NULL;
    struct buf comments = {0}, text = {0};
    struct pool pl;
    memset(&pl, 0, sizeof pl);
    int rc;
    if (!data_dir || !out_path) return err_set(err, ERR_ARG, "ver_train: NULL path");
    double target = opts && opts->precision != 0 ? opts->precision : VER_TRAIN_PRECISION;
    if (!(target > 0 && target < 1))
        return err_set(err, ERR_ARG, "ver_train: target precision %g is not between 0 and 1",
                       target);

    if ((rc = read_data(&t, data_dir, err))) goto fail;
    if (make_pairs(&t)) goto oom;

    /* features of every window of every pair; then the ranker's candidates */
    struct ver_model m;
    memset(&m, 0, sizeof m);
    for (int k = 0; k < VER_SCORE_NFEAT; k++)
        m.scale[k] = 1;
    for (int k = 0; k < VER_RANK_NFEAT; k++)
        m.rscale[k] = 1;
    m.t_contra = 1;
    if ((rc = ver_scorer_new_model(&sc, &m, NULL, err))) goto fail;
    if ((rc = pool_open(&t, &pl, err))) goto fail;
    if ((rc = make_candidates(&t, sc, &pl, err))) goto fail;
    if ((rc = extract_all(&t, &m, err))) goto fail;

    standardise(&t, &m);
    /* out-of-fold scores of the WiCE pairs, for the thresholds and the figures */
    for (int f = 0; f < VER_TRAIN_CV_FOLDS; f++) {
        struct ver_model mf = m;
        double loss;
        if (fit(&t, f, &mf, &loss) < 0) goto oom;
        score_pairs(&t, &mf, sel_fold, f);
    }
    dump_windows(&t, &m);
    if (calibrate(&t, target, &m)) goto oom;
    r.wice_best_f1 = m.best_f1;
    m.t_contra = TR_CONTRA_COVERAGE;
    if (wice_metrics(&t, &m, &r)) goto oom;
    /* the final model on everything */
    int it = fit(&t, -1, &m, &r.train_loss);
    if (it < 0) goto oom;
    r.iterations = it;
    for (int i = 0; i < t.npairs; i++)
        r.n_train += in_training(&t.pairs[i], &t, -1);
    for (int i = 0; i < t.nclaims; i++)
        r.n_excluded += t.claims[i].set == SET_OUT && !t.claims[i].swapped;
    if (ci_metrics(&t, &m, &r)) goto oom;
    if (fit_ranker(&t, &m, &r)) goto oom;
    if ((rc = fit_missing(&t, &m, &r, err))) goto fail;

    /* write the body, read it back, measure the model as it will be loaded */
    if ((rc = ver_model_format(&m, NULL, &text, err))) goto fail;
    struct ver_model parsed;
    if ((rc = ver_model_parse(&parsed, text.data, text.len, "trained model", err))) goto fail;
    if ((rc = contra_figures(&t, &parsed, &r, err))) goto fail;
    r.t_supported = parsed.t_supported;
    r.t_weak = parsed.t_weak;
    r.target_precision = parsed.cal_target;

    if (model_comments(&comments, data_dir, &t, &r, opts)) goto oom;
    buf_reset(&text);
    if ((rc = ver_model_format(&parsed, comments.data, &text, err))) goto fail;
    if ((rc = file_write_atomic(out_path, text.data, text.len, err))) goto fail;
    if (rep) *rep = r;
    rc = ERR_OK;
    goto done;
oom:
    rc = err_set(err, ERR_NOMEM, "ver_train");
fail:
done:
    pool_close(&pl);
    ver_scorer_free(sc);
    buf_cleanup(&comments);
    buf_cleanup(&text);
    tr_free(&t);
    return rc;
}
