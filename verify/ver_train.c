/* ver_train.c - fitting the verifier model on the shared data: WiCE and Citation-Integrity pairs,
 * wrong-source negatives, logistic regression (Newton with L2) over each pair's best window,
 * thresholds, held-out metrics, and the model file.
 *
 * Pairs and targets (class 2 supported, 1 weak, 0 unsupported; the regression target is class/2):
 *   WiCE dev.jsonl        the claim with its cited page (evidence sentences joined by line breaks):
 *                         supported 2, partially_supported 1, not_supported 0. About 30% of claims
 *                         (ver_train_is_heldout) are held out for evaluation only.
 *   Citation-Integrity    claims_train.jsonl with the cited abstract from corpus.jsonl: SUPPORT 2,
 *                         REFUTE 1 (related but inaccurate), NEI (no evidence) 0. claims_dev.jsonl
 *                         is used for evaluation only. Citation markers "[<|cit|>]" are removed.
 *   wrong source          each claim with another claim's page (WiCE: two, from the same split;
 *                         Citation-Integrity: one, half the file away): class 0. This is the case
 *                         the audit must catch, a citation pointing at the wrong page.
 * Fitting: features are standardised over all training windows; the source score is the best
 * window's, so the fit alternates (4 rounds) between choosing each pair's best window with the
 * current weights and a weighted Newton fit (classes weighted equally, L2 1e-2, bias unpenalised)
 * on those windows. The first round chooses by coverage. Deterministic: no randomness at all.
 * Thresholds: the pair (t_supported, t_weak) on a 0.01 grid with the best balanced 3-class
 * accuracy on the training pairs. */
#include "ver_score_int.h"

#include "err.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TR_MAX_LINE (16u << 20) /* one JSON line */
#define TR_ROUNDS 4             /* best-window re-selection rounds */
#define TR_NEWTON_MAX 50
#define TR_L2 1e-2
#define TR_HELDOUT_PCT 30

enum tr_set { SET_WICE_TRAIN, SET_WICE_HELD, SET_CI_TRAIN, SET_CI_DEV };

struct tr_claim {
    char *text;
    int doc;     /* index into docs */
    int cls;     /* 0..2 */
    int set;     /* enum tr_set */
    int swapped; /* a copy of another claim with one number changed */
};

enum tr_kind { PK_TRUE, PK_WRONG, PK_SWAP };

struct tr_pair {
    int claim, doc;
    int cls;  /* target class */
    int kind; /* enum tr_kind */
    int orig; /* PK_SWAP: the pair of the unchanged claim */
    int set;
    size_t f0; /* first window's features in feats (floats) */
    int nwin;
    double score; /* best window's probability under the final model */
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
    float *feats; /* (total windows, VER_SCORE_NFEAT) */
    size_t nfeat_rows, capfeat_rows;
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
    for (int i = 0; i < t->nclaims; i++)
        free(t->claims[i].text);
    free(t->claims);
    free(t->pairs);
    free(t->feats);
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

/* Copy a Citation-Integrity claim without its citation markers: a bracket group holding a
 * "<|...|>" marker goes entirely ("[<|multi_cit|>,7]"), a bare marker goes alone. */
static char *strip_markers(const char *s)
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

static int add_claim(struct tr *t, const char *text, int strip, int doc, int cls, int set)
{
    if (tr_grow((void **)&t->claims, &t->capclaims, t->nclaims + 1, sizeof *t->claims)) return -1;
    char *c = strip ? strip_markers(text) : strdup(text);
    if (!c) return -1;
    struct tr_claim *k = &t->claims[t->nclaims++];
    k->text = c;
    k->doc = doc;
    k->cls = cls;
    k->set = set;
    k->swapped = 0;
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
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
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

static int wice_line(struct tr *t, json_t *o, const char *path, long line, struct err *err)
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
    int doc = add_doc(t, ev, -1);
    if (doc < 0 ||
        add_claim(t, json_string_value(claim), 0, doc, cls,
                  ver_train_is_heldout(json_string_value(id)) ? SET_WICE_HELD : SET_WICE_TRAIN))
        return err_set(err, ERR_NOMEM, "%s:%ld", path, line);
    return ERR_OK;
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
    if (add_claim(t, json_string_value(claim), 1, doc, cls, set))
        return err_set(err, ERR_NOMEM, "%s:%ld", path, line);
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
        if (claim[i] < '0' || claim[i] > '9') continue;
        unsigned char pc = i ? (unsigned char)claim[i - 1] : ' ';
        if ((pc >= 'A' && pc <= 'Z') || (pc >= 'a' && pc <= 'z') || pc == '.' || pc == ',' ||
            pc >= 0x80)
            continue;
        size_t j = i;
        long v = 0;
        while (j < n && claim[j] >= '0' && claim[j] <= '9' && j - i < 9)
            v = v * 10 + (claim[j++] - '0');
        if (j < n && claim[j] >= '0' && claim[j] <= '9') return NULL; /* too long: leave it */
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

/* True pairs for every claim; wrong-source pairs inside each set; for supported and partly
 * supported claims with a number, the claim with that number changed against its own page. */
static int make_pairs(struct tr *t)
{
    int norig = t->nclaims;
    int *idx = malloc((size_t)(norig ? norig : 1) * sizeof *idx);
    if (!idx) return -1;
    for (int set = SET_WICE_TRAIN; set <= SET_CI_DEV; set++) {
        int m = 0;
        for (int i = 0; i < norig; i++)
            if (t->claims[i].set == set) idx[m++] = i;
        int wice = set == SET_WICE_TRAIN || set == SET_WICE_HELD;
        for (int k = 0; k < m; k++) {
            int ci = idx[k], doc = t->claims[ci].doc, cls = t->claims[ci].cls;
            int truep = t->npairs;
            if (add_pair(t, ci, doc, cls, PK_TRUE)) goto oom;
            int offs[2] = {wice ? m / 3 : m / 2, wice ? 2 * m / 3 : 0};
            for (int o = 0; o < 2; o++) {
                if (offs[o] <= 0) continue;
                int d = t->claims[idx[(k + offs[o]) % m]].doc;
                if (d == doc || (t->doclen[d] == t->doclen[doc] &&
                                 !memcmp(t->docs[d], t->docs[doc], t->doclen[d])))
                    continue;
                if (add_pair(t, ci, d, 0, PK_WRONG)) goto oom;
            }
            if (cls == 0) continue;
            char *sw = swap_number(t->claims[ci].text, tr_hash(t->claims[ci].text));
            if (!sw) continue;
            int rc = add_claim(t, sw, 0, doc, 0, set);
            free(sw);
            if (rc) goto oom;
            t->claims[t->nclaims - 1].swapped = 1;
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

static int feat_cb(void *ctx, const double *f, size_t start, size_t end)
{
    (void)start;
    (void)end;
    struct tr *t = ctx;
    if (t->nfeat_rows + 1 > t->capfeat_rows) {
        size_t n = t->capfeat_rows ? t->capfeat_rows * 2 : 65536;
        float *p = realloc(t->feats, n * VER_SCORE_NFEAT * sizeof *p);
        if (!p) return ERR_NOMEM;
        t->feats = p;
        t->capfeat_rows = n;
    }
    float *row = t->feats + t->nfeat_rows * VER_SCORE_NFEAT;
    for (int i = 0; i < VER_SCORE_NFEAT; i++)
        row[i] = (float)f[i];
    t->nfeat_rows++;
    return 0;
}

/* Logit of window row r (floats) under m. */
static double row_logit(const struct ver_model *m, const float *row)
{
    double x[VER_SCORE_NFEAT];
    for (int i = 0; i < VER_SCORE_NFEAT; i++)
        x[i] = row[i];
    return ver_model_logit(m, x);
}

/* Index (row) of pair p's best window under m, and its logit. */
static size_t best_window(const struct tr *t, const struct tr_pair *p, const struct ver_model *m,
                          double *logit)
{
    size_t best = p->f0;
    double bl = -INFINITY;
    for (int w = 0; w < p->nwin; w++) {
        double l = row_logit(m, t->feats + (p->f0 + (size_t)w) * VER_SCORE_NFEAT);
        if (l > bl) {
            bl = l;
            best = p->f0 + (size_t)w;
        }
    }
    *logit = p->nwin ? bl : -INFINITY;
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

#define NP (VER_SCORE_NFEAT + 1) /* parameters: weights + bias (last) */

/* The sign a feature's weight must have: +1 (agreement, coverage), -1 (conflict, window length),
 * 0 (free). */
static int feature_sign(int k)
{
    switch (k) {
    case VER_F_BM25:
    case VER_F_COV_IDF:
    case VER_F_COV:
    case VER_F_BIGRAM:
    case VER_F_NUM_AGREE:
    case VER_F_DATE_AGREE:
    case VER_F_NAME_AGREE:
    case VER_F_DOC_COV:
    case VER_F_DOC_NAME:
    case VER_F_DENSE:
        return 1;
    case VER_F_NUM_CONFLICT:
    case VER_F_DATE_CONFLICT:
    case VER_F_WIN_LEN:
        return -1; /* at equal coverage, the tighter window is the better evidence */
    default:
        return 0;
    }
}

/* The weighted, L2-penalised cross-entropy of theta (NP) on rows x (n, NP), soft targets y,
 * weights c summing to csum. */
static double lr_loss(const double *theta, const double *x, const double *y, const double *c, int n,
                      double csum)
{
    double l = 0;
    for (int i = 0; i < n; i++) {
        const double *xi = x + (size_t)i * NP;
        double z = 0;
        for (int k = 0; k < NP; k++)
            z += theta[k] * xi[k];
        /* log(1 + e^z) - y z, computed without overflow */
        double sp = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
        l += c[i] / csum * (sp - y[i] * z);
    }
    for (int k = 0; k < VER_SCORE_NFEAT; k++)
        l += 0.5 * TR_L2 * theta[k] * theta[k];
    return l;
}

/* Weighted L2 logistic regression by damped Newton steps (halved until the loss drops) on
 * standardised rows x (n, NP with a final 1 column), soft targets y, weights c. Starts from and
 * updates m->w and m->bias (standardised units); weights with frozen[k] stay 0. Returns the number
 * of steps; the loss in *loss. */
static int newton(const double *x, const double *y, const double *c, int n, const int *frozen,
                  struct ver_model *m, double *loss)
{
    double theta[NP], g[NP], h[NP * NP], cand[NP];
    for (int i = 0; i < VER_SCORE_NFEAT; i++)
        theta[i] = frozen[i] ? 0 : m->w[i];
    theta[VER_SCORE_NFEAT] = m->bias;
    double csum = 0;
    for (int i = 0; i < n; i++)
        csum += c[i];
    if (csum <= 0) csum = 1;
    double l = lr_loss(theta, x, y, c, n, csum);
    int it = 0;
    for (; it < TR_NEWTON_MAX; it++) {
        memset(g, 0, sizeof g);
        memset(h, 0, sizeof h);
        for (int i = 0; i < n; i++) {
            const double *xi = x + (size_t)i * NP;
            double z = 0;
            for (int k = 0; k < NP; k++)
                z += theta[k] * xi[k];
            double p = sigmoid(z), ci = c[i] / csum;
            double r = ci * (p - y[i]), wv = ci * p * (1 - p);
            for (int a = 0; a < NP; a++) {
                g[a] += r * xi[a];
                for (int b = a; b < NP; b++)
                    h[a * NP + b] += wv * xi[a] * xi[b];
            }
        }
        for (int a = 0; a < NP; a++)
            for (int b = 0; b < a; b++)
                h[a * NP + b] = h[b * NP + a];
        for (int k = 0; k < VER_SCORE_NFEAT; k++) {
            g[k] += TR_L2 * theta[k];
            h[k * NP + k] += TR_L2;
        }
        h[NP * NP - 1] += 1e-9;
        for (int k = 0; k < VER_SCORE_NFEAT; k++) { /* frozen weights stay 0 */
            if (!frozen[k]) continue;
            for (int j = 0; j < NP; j++)
                h[k * NP + j] = h[j * NP + k] = 0;
            h[k * NP + k] = 1;
            g[k] = 0;
        }
        if (solve(h, g, NP)) break;
        double step = 1, nl = l;
        for (int tries = 0; tries < 30; tries++, step *= 0.5) {
            for (int k = 0; k < NP; k++)
                cand[k] = theta[k] - step * g[k];
            nl = lr_loss(cand, x, y, c, n, csum);
            if (nl <= l) break;
        }
        if (nl > l) break; /* no descent: at the optimum up to rounding */
        memcpy(theta, cand, sizeof theta);
        double dl = l - nl;
        l = nl;
        if (dl < 1e-12) {
            it++;
            break;
        }
    }
    *loss = l;
    for (int i = 0; i < VER_SCORE_NFEAT; i++)
        m->w[i] = theta[i];
    m->bias = theta[VER_SCORE_NFEAT];
    return it;
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
    qsort(v, (size_t)n, sizeof *v, sl_cmp);
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

/* Per-pair best-window probabilities under m. */
static void score_pairs(struct tr *t, const struct ver_model *m)
{
    for (int i = 0; i < t->npairs; i++) {
        double l;
        best_window(t, &t->pairs[i], m, &l);
        t->pairs[i].score = t->pairs[i].nwin ? sigmoid(l) : 0;
    }
}

/* Thresholds with the best balanced 3-class accuracy on the training pairs. */
static void choose_thresholds(const struct tr *t, struct ver_model *m)
{
    double best = -1;
    int grid = 100;
    for (int a = 1; a < grid; a++)
        for (int b = a; b < grid; b++) {
            double tw = a / (double)grid, ts = b / (double)grid;
            double hit[3] = {0}, tot[3] = {0};
            for (int i = 0; i < t->npairs; i++) {
                const struct tr_pair *p = &t->pairs[i];
                if (p->set != SET_WICE_TRAIN && p->set != SET_CI_TRAIN) continue;
                int v = p->score >= ts ? 2 : p->score >= tw ? 1 : 0;
                tot[p->cls]++;
                hit[p->cls] += v == p->cls;
            }
            double bal = 0;
            for (int k = 0; k < 3; k++)
                bal += tot[k] ? hit[k] / tot[k] : 0;
            if (bal > best + 1e-12) {
                best = bal;
                m->t_weak = tw;
                m->t_supported = ts;
            }
        }
}

/* Held-out metrics into rep. */
static int evaluate(struct tr *t, const struct ver_model *m, struct ver_train_report *rep)
{
    struct sl *v = malloc((size_t)(t->npairs ? t->npairs : 1) * sizeof *v);
    if (!v) return -1;
    score_pairs(t, m);
    /* WiCE held out */
    int n = 0, acc = 0, flag = 0, swaps = 0, drops = 0, stp = 0, sfp = 0, sfn = 0;
    for (int i = 0; i < t->npairs; i++) {
        const struct tr_pair *p = &t->pairs[i];
        if (p->set != SET_WICE_HELD) continue;
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
        flag += (vd >= 1) == (p->kind == PK_TRUE);
        if (p->kind == PK_TRUE) {
            stp += vd == 2 && p->cls == 2;
            sfp += vd == 2 && p->cls != 2;
            sfn += vd != 2 && p->cls == 2;
        }
    }
    rep->wice_supported_f1 = stp ? 2.0 * stp / (2.0 * stp + sfp + sfn) : 0;
    rep->wice_swap_drop = swaps ? (double)drops / swaps : 0;
    rep->n_heldout = n;
    rep->wice_auc = auc(v, n);
    rep->wice_acc = n ? (double)acc / n : 0;
    rep->wice_flag_acc = n ? (double)flag / n : 0;
    /* Citation-Integrity dev */
    double tp[3] = {0}, fp[3] = {0}, fn[3] = {0};
    n = 0;
    for (int i = 0; i < t->npairs; i++) {
        const struct tr_pair *p = &t->pairs[i];
        if (p->set != SET_CI_DEV || p->kind == PK_SWAP) continue;
        v[n].s = p->score;
        v[n].l = p->kind == PK_TRUE;
        n++;
        if (p->kind != PK_TRUE) continue;
        int vd = verdict(m, p->score);
        if (vd == p->cls)
            tp[vd]++;
        else {
            fp[vd]++;
            fn[p->cls]++;
        }
    }
    rep->ci_wrong_auc = auc(v, n);
    double f1sum = 0;
    for (int k = 0; k < 3; k++) {
        double d = 2 * tp[k] + fp[k] + fn[k];
        double f1 = d > 0 ? 2 * tp[k] / d : 0;
        f1sum += f1;
        if (k == 2) rep->ci_support_f1 = f1;
    }
    rep->ci_macro_f1 = f1sum / 3;
    free(v);
    return 0;
}

/* Write `text` to path atomically (path.tmp then rename). */
static int write_file(const char *path, const char *text, size_t len, struct err *err)
{
    struct buf tmp = {0};
    if (buf_printf(&tmp, "%s.tmp", path)) return err_set(err, ERR_NOMEM, "%s", path);
    FILE *f = fopen(tmp.data, "wb");
    if (!f) {
        int rc = err_set(err, ERR_IO, "%s: %s", tmp.data, strerror(errno));
        buf_cleanup(&tmp);
        return rc;
    }
    size_t w = fwrite(text, 1, len, f);
    int bad = fclose(f) != 0 || w != len;
    if (bad || rename(tmp.data, path) != 0) {
        int rc = err_set(err, ERR_IO, "%s: %s", bad ? tmp.data : path, strerror(errno));
        remove(tmp.data);
        buf_cleanup(&tmp);
        return rc;
    }
    buf_cleanup(&tmp);
    return ERR_OK;
}

int ver_train(const char *data_dir, const char *out_path, struct ver_train_report *rep,
              struct err *err)
{
    struct tr t;
    memset(&t, 0, sizeof t);
    struct ver_train_report r;
    memset(&r, 0, sizeof r);
    struct ver_scorer *sc = NULL;
    struct buf path = {0}, comments = {0}, text = {0};
    double *x = NULL, *y = NULL, *c = NULL;
    int rc;
    if (!data_dir || !out_path) return err_set(err, ERR_ARG, "ver_train: NULL path");

#define DATA(rel) (buf_reset(&path), buf_printf(&path, "%s/%s", data_dir, rel) ? NULL : path.data)
    const char *p;
    if (!(p = DATA("wice/dev.jsonl"))) goto oom;
    if ((rc = each_line(&t, p, wice_line, err))) goto fail;
    if (!(p = DATA("citation-integrity/corpus.jsonl"))) goto oom;
    if ((rc = each_line(&t, p, ci_doc_line, err))) goto fail;
    if (!(p = DATA("citation-integrity/claims_train.jsonl"))) goto oom;
    if ((rc = each_line(&t, p, ci_train_line, err))) goto fail;
    if (!(p = DATA("citation-integrity/claims_dev.jsonl"))) goto oom;
    if ((rc = each_line(&t, p, ci_dev_line, err))) goto fail;
#undef DATA
    if (make_pairs(&t)) goto oom;

    /* features of every window of every pair */
    struct ver_model placeholder;
    memset(&placeholder, 0, sizeof placeholder);
    for (int k = 0; k < VER_SCORE_NFEAT; k++)
        placeholder.scale[k] = 1;
    if ((rc = ver_scorer_new_model(&sc, &placeholder, NULL, err))) goto fail;
    for (int i = 0; i < t.npairs; i++) {
        struct tr_pair *pr = &t.pairs[i];
        pr->f0 = t.nfeat_rows;
        rc = ver_score_windows(sc, t.claims[pr->claim].text, t.docs[pr->doc], t.doclen[pr->doc],
                               feat_cb, &t, err);
        if (rc == ERR_NOMEM) goto oom;
        if (rc) goto fail;
        pr->nwin = (int)(t.nfeat_rows - pr->f0);
    }

    /* standardisation over the training windows */
    struct ver_model m;
    memset(&m, 0, sizeof m);
    double cnt = 0, s1[VER_SCORE_NFEAT] = {0}, s2[VER_SCORE_NFEAT] = {0};
    for (int i = 0; i < t.npairs; i++) {
        const struct tr_pair *pr = &t.pairs[i];
        if (pr->set != SET_WICE_TRAIN && pr->set != SET_CI_TRAIN) continue;
        for (int w = 0; w < pr->nwin; w++) {
            const float *row = t.feats + (pr->f0 + (size_t)w) * VER_SCORE_NFEAT;
            for (int k = 0; k < VER_SCORE_NFEAT; k++) {
                s1[k] += row[k];
                s2[k] += (double)row[k] * row[k];
            }
            cnt++;
        }
    }
    for (int k = 0; k < VER_SCORE_NFEAT; k++) {
        double mu = cnt ? s1[k] / cnt : 0, var = cnt ? s2[k] / cnt - mu * mu : 0;
        m.mean[k] = mu;
        m.scale[k] = var > 1e-12 ? sqrt(var) : 1;
    }
    m.w[VER_F_COV_IDF] = 1; /* round 1 picks windows by coverage */
    m.w[VER_F_COV] = 1;

    /* training rows: one per training pair with a window */
    int ntr = 0;
    for (int i = 0; i < t.npairs; i++)
        if ((t.pairs[i].set == SET_WICE_TRAIN || t.pairs[i].set == SET_CI_TRAIN) && t.pairs[i].nwin)
            ntr++;
    x = malloc((size_t)(ntr ? ntr : 1) * NP * sizeof *x);
    y = malloc((size_t)(ntr ? ntr : 1) * sizeof *y);
    c = malloc((size_t)(ntr ? ntr : 1) * sizeof *c);
    if (!x || !y || !c) goto oom;
    double per_class[3] = {0};
    for (int i = 0; i < t.npairs; i++)
        if ((t.pairs[i].set == SET_WICE_TRAIN || t.pairs[i].set == SET_CI_TRAIN) && t.pairs[i].nwin)
            per_class[t.pairs[i].cls]++;
    double loss = 0;
    for (int round = 0; round < TR_ROUNDS; round++) {
        int n = 0;
        for (int i = 0; i < t.npairs; i++) {
            const struct tr_pair *pr = &t.pairs[i];
            if ((pr->set != SET_WICE_TRAIN && pr->set != SET_CI_TRAIN) || !pr->nwin) continue;
            double l;
            size_t row = best_window(&t, pr, &m, &l);
            const float *f = t.feats + row * VER_SCORE_NFEAT;
            for (int k = 0; k < VER_SCORE_NFEAT; k++)
                x[(size_t)n * NP + k] = (f[k] - m.mean[k]) / m.scale[k];
            x[(size_t)n * NP + VER_SCORE_NFEAT] = 1;
            y[n] = pr->cls / 2.0;
            c[n] = ntr / (3.0 * per_class[pr->cls]) * (pr->kind == PK_SWAP ? 0.5 : 1);
            n++;
        }
        /* agreement features may only raise the score and conflicts only lower it: a weight with
         * the wrong sign (collinearity with coverage) is frozen at 0 and the fit repeated */
        int frozen[VER_SCORE_NFEAT] = {0};
        for (int pass = 0; pass < VER_SCORE_NFEAT; pass++) {
            r.iterations += newton(x, y, c, n, frozen, &m, &loss);
            int again = 0;
            for (int k = 0; k < VER_SCORE_NFEAT; k++) {
                int sign = feature_sign(k);
                if (!frozen[k] && sign * m.w[k] < 0) {
                    frozen[k] = 1;
                    m.w[k] = 0;
                    again = 1;
                }
            }
            if (!again) break;
        }
    }
    r.train_loss = loss;
    r.n_train = ntr;
    score_pairs(&t, &m);
    choose_thresholds(&t, &m);

    /* write the body, read it back, evaluate the model as it will be loaded */
    if ((rc = ver_model_format(&m, NULL, &text, err))) goto fail;
    struct ver_model parsed;
    if ((rc = ver_model_parse(&parsed, text.data, text.len, "trained model", err))) goto fail;
    if (evaluate(&t, &parsed, &r)) goto oom;
    r.t_supported = parsed.t_supported;
    r.t_weak = parsed.t_weak;

    int counts[4] = {0};
    for (int i = 0; i < t.npairs; i++)
        counts[t.pairs[i].set]++;
    char date[32] = "unknown";
    time_t now = time(NULL);
    struct tm tmv;
    if (gmtime_r(&now, &tmv)) strftime(date, sizeof date, "%Y-%m-%d", &tmv);
    int bad = buf_printf(
        &comments,
        "# made: vericite train-verifier %s (ver_train: %d rounds of best-window "
        "selection + Newton logistic regression, L2 %g, classes weighted equally)\n"
        "# data: wice/dev.jsonl (%d%% of claims held out by id hash), "
        "citation-integrity/claims_train.jsonl + corpus.jsonl; negatives = each "
        "claim with another claim's page; pairs: %d WiCE train, %d WiCE held out, "
        "%d CI train, %d CI dev\n"
        "# date: %s\n"
        "# metrics: held-out WiCE true vs wrong page AUC %.4f, 3-way accuracy %.4f, "
        "flag accuracy %.4f, supported-vs-rest F1 on true pages %.4f, number-swap "
        "drop %.4f; Citation-Integrity dev "
        "macro-F1 %.4f, SUPPORT F1 %.4f, wrong-source AUC %.4f\n",
        data_dir, TR_ROUNDS, TR_L2, TR_HELDOUT_PCT, counts[SET_WICE_TRAIN], counts[SET_WICE_HELD],
        counts[SET_CI_TRAIN], counts[SET_CI_DEV], date, r.wice_auc, r.wice_acc, r.wice_flag_acc,
        r.wice_supported_f1, r.wice_swap_drop, r.ci_macro_f1, r.ci_support_f1, r.ci_wrong_auc);
    if (bad) goto oom;
    buf_reset(&text);
    if ((rc = ver_model_format(&parsed, comments.data, &text, err))) goto fail;
    if ((rc = write_file(out_path, text.data, text.len, err))) goto fail;
    if (rep) *rep = r;
    rc = ERR_OK;
    goto done;
oom:
    rc = err_set(err, ERR_NOMEM, "ver_train");
fail:
done:
    free(x);
    free(y);
    free(c);
    ver_scorer_free(sc);
    buf_cleanup(&path);
    buf_cleanup(&comments);
    buf_cleanup(&text);
    tr_free(&t);
    return rc;
}
