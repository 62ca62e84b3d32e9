/* emb_static.c - the embedder interface and the static word-vector embedder with SIF weighting. */
#include "index/embed/emb.h"
#include "ascii.h"
#include "hash.h"
#include "utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMB_DEFAULT_A 1e-3
#define EMB_MAX_PARTS 64 /* parts of one joined word looked up separately */
#define EMB_PC_ITERS 300 /* power iteration cap */

/* ---------------------------------------------------------------- dispatch */

int emb_embed(struct emb *e, const char *const *texts, size_t n, float *out,
              struct err *err)
{
    if (!e || !e->ops || !e->ops->embed) return err_set(err, ERR_ARG, "emb_embed: no embedder");
    if (n == 0) return 0;
    return e->ops->embed(e, texts, n, out, err);
}

int emb_embed_query(struct emb *e, const char *const *texts, size_t n, float *out,
                    struct err *err)
{
    if (e && e->ops && e->ops->embed_query) return n ? e->ops->embed_query(e, texts, n, out, err) : 0;
    return emb_embed(e, texts, n, out, err);
}

int emb_dim(const struct emb *e)
{
    return e ? e->dim : 0;
}

const char *emb_name(const struct emb *e)
{
    return e && e->ops && e->ops->name ? e->ops->name : "";
}

const char *emb_signature(struct emb *e)
{
    return e && e->ops && e->ops->signature ? e->ops->signature(e) : "";
}

void emb_free(struct emb *e)
{
    if (e && e->ops && e->ops->free) e->ops->free(e);
}

int emb_is_zero(const float *v, int dim)
{
    for (int i = 0; i < dim; i++)
        if (v[i] != 0.0f) return 0;
    return 1;
}

int emb_first_pc(const float *x, size_t n, int dim, float *pc, struct err *err)
{
    if (n == 0 || dim <= 0) return err_set(err, ERR_ARG, "first principal component: no vectors");
    double *mean = calloc((size_t)dim, sizeof *mean), *u = calloc((size_t)dim, sizeof *u),
           *y = calloc((size_t)dim, sizeof *y);
    int rc = 0;
    if (!mean || !u || !y) {
        rc = err_set(err, ERR_NOMEM, "first principal component");
        goto fail;
    }
    for (size_t r = 0; r < n; r++)
        for (int j = 0; j < dim; j++)
            mean[j] += x[r * (size_t)dim + (size_t)j];
    double norm = 0;
    for (int j = 0; j < dim; j++)
        norm += mean[j] * mean[j];
    /* start from the mean direction (close to the answer for SIF vectors), else from e0 */
    if (norm > 0)
        for (int j = 0; j < dim; j++)
            u[j] = mean[j] / sqrt(norm);
    else
        u[0] = 1;
    double lambda = 0;
    for (int it = 0; it < EMB_PC_ITERS; it++) {
        memset(y, 0, (size_t)dim * sizeof *y);
        for (size_t r = 0; r < n; r++) { /* y = X^T (X u) */
            const float *row = x + r * (size_t)dim;
            double t = 0;
            for (int j = 0; j < dim; j++)
                t += row[j] * u[j];
            for (int j = 0; j < dim; j++)
                y[j] += t * row[j];
        }
        double yn = 0, diff = 0;
        for (int j = 0; j < dim; j++)
            yn += y[j] * y[j];
        yn = sqrt(yn);
        if (yn == 0) break;
        for (int j = 0; j < dim; j++) {
            double v = y[j] / yn;
            diff += (v - u[j]) * (v - u[j]);
            u[j] = v;
        }
        lambda = yn;
        if (diff < 1e-14) break;
    }
    if (lambda == 0) {
        rc = err_set(err, ERR_ARG, "first principal component: all vectors are zero");
        goto fail;
    }
    double dot = 0;
    for (int j = 0; j < dim; j++)
        dot += u[j] * mean[j];
    for (int j = 0; j < dim; j++)
        pc[j] = (float)(dot < 0 ? -u[j] : u[j]);
fail:
    free(mean);
    free(u);
    free(y);
    return rc;
}

/* ---------------------------------------------------------------- static embedder */

enum { W_ZIPF = 0, W_COUNTS = 1 };

struct emb_static {
    struct emb base; /* first: the generic handle */
    struct emb_vecfile *vf;
    double a;
    int64_t vocab;
    float *weight;    /* (vocab) SIF weight per row */
    int weights_kind; /* W_ZIPF or W_COUNTS */
    uint64_t weights_hash;
    int has_pc;
    float *pc;  /* (dim) unit common component */
    float *acc; /* (dim) scratch */
    int known;  /* scratch: known words in the current text */
    char fold[EMB_MAX_WORD + 8];
    char sig[256];
};

static const struct emb_ops static_ops;

static struct emb_static *as_static(const struct emb *e)
{
    return e && e->ops == &static_ops ? (struct emb_static *)e : NULL;
}


/* ---- the word splitter */

enum { C_SEP, C_WORD, C_JOIN };

/* Class of the code point at s[i] and its byte length (*k >= 1). */
static int char_class(const unsigned char *s, size_t len, size_t i, size_t *k, uint32_t *cpo)
{
    unsigned c = s[i];
    *k = 1;
    *cpo = c;
    if (c < 0x80) {
        if (ascii_isalnum((int)c)) return C_WORD;
        if (c == '\'' || c == '-' || c == '.' || c == ',') return C_JOIN;
        return C_SEP;
    }
    /* decode (invalid sequences are one separator byte) */
    uint32_t cp;
    size_t n = utf8_dec(s + i, len - i, &cp);
    if (n == 0) return C_SEP;
    *k = n;
    *cpo = cp;
    if (cp == 0x2019 || cp == 0x2010 || cp == 0x2011) return C_JOIN;
    if (cp <= 0xbf) return (cp == 0xaa || cp == 0xb5 || cp == 0xba) ? C_WORD : C_SEP;
    if (cp == 0xd7 || cp == 0xf7) return C_SEP;
    if ((cp >= 0x2000 && cp <= 0x20cf) || (cp >= 0x2190 && cp <= 0x2bff) ||
        (cp >= 0x3000 && cp <= 0x303f) || (cp >= 0xe000 && cp <= 0xf8ff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || cp == 0xfeff || (cp >= 0xff00 && cp <= 0xff0f) ||
        (cp >= 0xff1a && cp <= 0xff20) || (cp >= 0xff3b && cp <= 0xff40) ||
        (cp >= 0xff5b && cp <= 0xff65) || (cp >= 0x1f000 && cp <= 0x1faff))
        return C_SEP;
    return C_WORD;
}

typedef void (*word_cb)(struct emb_static *s, int64_t row, void *ctx);

/* Look up s->fold[0..n) and report it; returns 1 when known. */
static int lookup_emit(struct emb_static *s, size_t n, word_cb cb, void *ctx, int emit_unknown)
{
    int64_t row = emb_vecfile_find(s->vf, s->fold, n);
    if (row >= 0 || emit_unknown) cb(s, row, ctx);
    return row >= 0;
}

/* Fold raw[0..n) (with an optional prefix) into s->fold; 0 when too long. */
static size_t fold_into(struct emb_static *s, const char *prefix, const char *raw, size_t n)
{
    size_t p = strlen(prefix);
    if (p + n > EMB_MAX_WORD) return 0;
    memcpy(s->fold, prefix, p);
    return p + emb_word_fold(raw, n, s->fold + p);
}

/* One joined word raw[0..n): whole, then part by part. */
static void emit_token(struct emb_static *s, const char *raw, size_t n, int joined,
                       int trailing_dot, word_cb cb, void *ctx)
{
    size_t m = fold_into(s, "", raw, n);
    if (m) {
        if (trailing_dot && m < EMB_MAX_WORD) { /* "u.s." */
            s->fold[m] = '.';
            if (lookup_emit(s, m + 1, cb, ctx, 0)) return;
        }
        if (lookup_emit(s, m, cb, ctx, !joined)) return;
    }
    if (!joined) {
        if (!m) cb(s, -1, ctx); /* overlong plain word */
        return;
    }
    /* split at the join characters; an apostrophe goes with the part after it ('s, 're) and
     * "n't" is split off the part before it (don't -> do n't) */
    struct {
        size_t a, b;
        int apos;
    } part[EMB_MAX_PARTS];
    size_t np = 0, i = 0;
    const unsigned char *u = (const unsigned char *)raw;
    int apos = 0;
    while (i < n && np < EMB_MAX_PARTS) {
        size_t k;
        uint32_t cp;
        int cl = char_class(u, n, i, &k, &cp);
        if (cl != C_WORD) {
            apos = cp == '\'' || cp == 0x2019;
            i += k;
            continue;
        }
        size_t a = i;
        while (i < n && char_class(u, n, i, &k, &cp) == C_WORD)
            i += k;
        part[np].a = a;
        part[np].b = i;
        part[np].apos = apos;
        np++;
        apos = 0;
    }
    for (size_t p = 0; p < np; p++) {
        size_t a = part[p].a, b = part[p].b;
        int nt = p + 1 < np && part[p + 1].apos && part[p + 1].b - part[p + 1].a == 1 &&
                 (raw[part[p + 1].a] == 't' || raw[part[p + 1].a] == 'T') && b - a > 1 &&
                 (raw[b - 1] == 'n' || raw[b - 1] == 'N');
        if (nt) {
            size_t m1 = fold_into(s, "", raw + a, b - a - 1);
            if (m1)
                lookup_emit(s, m1, cb, ctx, 1);
            else
                cb(s, -1, ctx);
            memcpy(s->fold, "n't", 3);
            lookup_emit(s, 3, cb, ctx, 1);
            p++;
            continue;
        }
        size_t m2 = fold_into(s, part[p].apos ? "'" : "", raw + a, b - a);
        if (!m2) {
            cb(s, -1, ctx);
            continue;
        }
        if (lookup_emit(s, m2, cb, ctx, !part[p].apos)) continue;
        if (part[p].apos) { /* "'xyz" unknown: try the bare part */
            m2 = fold_into(s, "", raw + a, b - a);
            lookup_emit(s, m2, cb, ctx, 1);
        }
    }
}

/* Call cb once per word of text (row of its vector, or -1 when unknown). */
static void each_word(struct emb_static *s, const char *text, size_t len, word_cb cb, void *ctx)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        size_t k;
        uint32_t cp;
        if (char_class(u, len, i, &k, &cp) != C_WORD) {
            i += k;
            continue;
        }
        size_t start = i, end = i + k;
        int joined = 0, has_dot = 0;
        i += k;
        for (;;) {
            if (i >= len) break;
            int cl = char_class(u, len, i, &k, &cp);
            if (cl == C_WORD) {
                i += k;
                end = i;
                continue;
            }
            if (cl != C_JOIN || i + k >= len) break;
            size_t k2;
            uint32_t cp2;
            if (char_class(u, len, i + k, &k2, &cp2) != C_WORD) break;
            if (cp == ',' && !(ascii_isdigit(u[end - 1]) && ascii_isdigit((int)cp2)))
                break;
            joined = 1;
            has_dot |= cp == '.';
            i += k + k2;
            end = i;
        }
        emit_token(s, text + start, end - start, joined, has_dot && end < len && text[end] == '.',
                   cb, ctx);
    }
}

/* ---- weights */

static void set_zipf(struct emb_static *s)
{
    double lnn = log(1.78 * (double)s->vocab);
    for (int64_t r = 0; r < s->vocab; r++) {
        double p = 1.0 / ((double)(r + 1) * lnn);
        s->weight[r] = (float)(s->a / (s->a + p));
    }
    s->weights_kind = W_ZIPF;
    s->sig[0] = '\0';
}

static void set_from_counts(struct emb_static *s, const uint64_t *counts, uint64_t total)
{
    for (int64_t r = 0; r < s->vocab; r++) {
        double p = (double)counts[r] / (double)total;
        s->weight[r] = (float)(s->a / (s->a + p));
    }
    s->weights_kind = W_COUNTS;
    s->weights_hash = hash_fnv1a64(s->weight, (size_t)s->vocab * sizeof *s->weight);
    s->sig[0] = '\0';
}

int emb_static_set_counts(struct emb *e, const uint64_t *counts, uint64_t total,
                                struct err *err)
{
    struct emb_static *s = as_static(e);
    if (!s) return err_set(err, ERR_ARG, "set_counts: not a static embedder");
    if (!counts) {
        set_zipf(s);
        return 0;
    }
    if (total == 0) return err_set(err, ERR_ARG, "set_counts: total is 0");
    set_from_counts(s, counts, total);
    return 0;
}

int emb_static_set_freq(struct emb *e, const char *const *words,
                              const uint64_t *counts, size_t n, uint64_t total, struct err *err)
{
    struct emb_static *s = as_static(e);
    if (!s) return err_set(err, ERR_ARG, "set_freq: not a static embedder");
    if (n == 0) {
        set_zipf(s);
        return 0;
    }
    uint64_t *rc = calloc((size_t)s->vocab, sizeof *rc);
    if (!rc) return err_set(err, ERR_NOMEM, "set_freq");
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += counts[i];
        size_t m = fold_into(s, "", words[i], strlen(words[i]));
        int64_t row = m ? emb_vecfile_find(s->vf, s->fold, m) : -1;
        if (row >= 0) rc[row] += counts[i];
    }
    if (total == 0) total = sum;
    int r = total ? (set_from_counts(s, rc, total), 0)
                  : err_set(err, ERR_ARG, "set_freq: all counts are 0");
    free(rc);
    return r;
}

struct count_ctx {
    uint64_t *counts, *total;
};

static void count_cb(struct emb_static *s, int64_t row, void *ctx)
{
    struct count_ctx *c = ctx;
    (void)s;
    if (row >= 0) c->counts[row]++;
    (*c->total)++;
}

int emb_static_count(struct emb *e, const char *text, size_t len, uint64_t *counts,
                           uint64_t *total, struct err *err)
{
    struct emb_static *s = as_static(e);
    if (!s) return err_set(err, ERR_ARG, "count: not a static embedder");
    struct count_ctx c = {counts, total};
    each_word(s, text, len, count_cb, &c);
    return 0;
}

/* ---- embedding */

static void acc_cb(struct emb_static *s, int64_t row, void *ctx)
{
    (void)ctx;
    if (row < 0) return;
    const float *v = emb_vecfile_row(s->vf, row);
    float w = s->weight[row];
    for (int j = 0; j < s->base.dim; j++)
        s->acc[j] += w * v[j];
    s->known++;
}

/* The weighted average of text's known words into out (dim); 0 when none (out zeroed). */
static int weighted_avg(struct emb_static *s, const char *text, float *out)
{
    int dim = s->base.dim;
    memset(s->acc, 0, (size_t)dim * sizeof *s->acc);
    s->known = 0;
    each_word(s, text, strlen(text), acc_cb, NULL);
    for (int j = 0; j < dim; j++)
        out[j] = s->known ? s->acc[j] / (float)s->known : 0.0f;
    return s->known;
}

static int static_embed(struct emb *e, const char *const *texts, size_t n, float *out,
                        struct err *err)
{
    struct emb_static *s = as_static(e);
    int dim = e->dim;
    (void)err;
    for (size_t i = 0; i < n; i++) {
        float *o = out + i * (size_t)dim;
        if (!texts[i] || !weighted_avg(s, texts[i], o)) {
            memset(o, 0, (size_t)dim * sizeof *o);
            continue;
        }
        if (s->has_pc) {
            double t = 0;
            for (int j = 0; j < dim; j++)
                t += (double)o[j] * s->pc[j];
            for (int j = 0; j < dim; j++)
                o[j] -= (float)t * s->pc[j];
        }
        double nn = 0;
        for (int j = 0; j < dim; j++)
            nn += (double)o[j] * o[j];
        if (nn < 1e-24) {
            memset(o, 0, (size_t)dim * sizeof *o);
            continue;
        }
        float inv = (float)(1.0 / sqrt(nn));
        for (int j = 0; j < dim; j++)
            o[j] *= inv;
    }
    return 0;
}

static const char *static_signature(struct emb *e)
{
    struct emb_static *s = as_static(e);
    if (s->sig[0]) return s->sig;
    char w[40], p[40];
    if (s->weights_kind == W_ZIPF)
        snprintf(w, sizeof w, "zipf");
    else
        snprintf(w, sizeof w, "counts-%016llx", (unsigned long long)s->weights_hash);
    if (s->has_pc)
        snprintf(p, sizeof p, "%016llx",
                 (unsigned long long)hash_fnv1a64(s->pc, (size_t)e->dim * sizeof(float)));
    else
        snprintf(p, sizeof p, "none");
    snprintf(s->sig, sizeof s->sig, "static-sif/1 dim=%d vectors=%s a=%g weights=%s pc=%s", e->dim,
             emb_vecfile_hash(s->vf), s->a, w, p);
    return s->sig;
}

static void static_free(struct emb *e)
{
    struct emb_static *s = as_static(e);
    if (!s) return;
    emb_vecfile_close(s->vf);
    free(s->weight);
    free(s->pc);
    free(s->acc);
    free(s);
}

static const struct emb_ops static_ops = {
    .name = "static",
    .embed = static_embed,
    .signature = static_signature,
    .free = static_free,
};

int emb_static_new(struct emb **out, const char *path,
                         const struct emb_static_opts *opts, struct err *err)
{
    *out = NULL;
    int rc = 0;
    double a = opts && opts->a != 0 ? opts->a : EMB_DEFAULT_A;
    if (!(a > 0) || !isfinite(a)) return err_set(err, ERR_ARG, "SIF constant a=%g must be > 0", a);
    struct emb_static *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, ERR_NOMEM, "emb_static_new");
    s->base.ops = &static_ops;
    s->a = a;
    if ((rc = emb_vecfile_open(&s->vf, path, err)) != 0) goto fail;
    s->base.dim = emb_vecfile_dim(s->vf);
    s->vocab = emb_vecfile_count(s->vf);
    s->weight = malloc((size_t)s->vocab * sizeof *s->weight);
    s->pc = calloc((size_t)s->base.dim, sizeof *s->pc);
    s->acc = calloc((size_t)s->base.dim, sizeof *s->acc);
    if (!s->weight || !s->pc || !s->acc) {
        rc = err_set(err, ERR_NOMEM, "emb_static_new");
        goto fail;
    }
    set_zipf(s);
    *out = &s->base;
    return 0;
fail:
    static_free(&s->base);
    return rc;
}

const struct emb_vecfile *emb_static_vectors(const struct emb *e)
{
    struct emb_static *s = as_static(e);
    return s ? s->vf : NULL;
}

int emb_static_set_pc(struct emb *e, const float *pc, struct err *err)
{
    struct emb_static *s = as_static(e);
    if (!s) return err_set(err, ERR_ARG, "set_pc: not a static embedder");
    s->sig[0] = '\0';
    if (!pc) {
        s->has_pc = 0;
        return 0;
    }
    double nn = 0;
    for (int j = 0; j < e->dim; j++) {
        if (!isfinite(pc[j])) return err_set(err, ERR_ARG, "set_pc: value %d is not finite", j);
        nn += (double)pc[j] * pc[j];
    }
    if (nn <= 0) return err_set(err, ERR_ARG, "set_pc: zero vector");
    /* a restored unit vector is kept bit for bit, so the signature survives a save and restore */
    double inv = fabs(nn - 1.0) < 1e-6 ? 1.0 : 1.0 / sqrt(nn);
    for (int j = 0; j < e->dim; j++)
        s->pc[j] = (float)(pc[j] * inv);
    s->has_pc = 1;
    return 0;
}

int emb_static_get_pc(const struct emb *e, float *pc)
{
    struct emb_static *s = as_static(e);
    if (!s || !s->has_pc) return 0;
    memcpy(pc, s->pc, (size_t)e->dim * sizeof *pc);
    return 1;
}

int emb_static_fit_pc(struct emb *e, const char *const *texts, size_t n,
                            struct err *err)
{
    struct emb_static *s = as_static(e);
    if (!s) return err_set(err, ERR_ARG, "fit_pc: not a static embedder");
    int dim = e->dim;
    float *x = malloc((n ? n : 1) * (size_t)dim * sizeof *x); /* (m, dim) */
    float *pc = malloc((size_t)dim * sizeof *pc);
    int rc = 0;
    if (!x || !pc) {
        rc = err_set(err, ERR_NOMEM, "fit_pc: %zu texts", n);
        goto fail;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (texts[i] && weighted_avg(s, texts[i], x + m * (size_t)dim)) m++;
    if (m == 0) {
        rc = err_set(err, ERR_ARG, "fit_pc: none of the %zu texts has a known word", n);
        goto fail;
    }
    if ((rc = emb_first_pc(x, m, dim, pc, err)) != 0) goto fail;
    rc = emb_static_set_pc(e, pc, err);
fail:
    free(x);
    free(pc);
    return rc;
}
