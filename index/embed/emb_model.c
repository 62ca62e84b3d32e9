/* emb_model.c - the in-process model embedder: a transformer encoder imported by `vericite model
 * import` (index/nn/), run by nn_embed() in this process, rows L2-normalised. Passages and
 * queries may get different prefixes (e5's "query: " / "passage: ", bge's query instruction). */
#include "ascii.h"
#include "index/embed/emb.h"
#include "index/nn/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct emb_model {
    struct emb base; /* first: the generic handle */
    struct nn_model *m;
    struct nn *nn;
    char *name, *qprefix, *pprefix, *sig;
};

static const struct emb_ops model_ops;

static struct emb_model *as_model(const struct emb *e)
{
    return e && e->ops == &model_ops ? (struct emb_model *)e : NULL;
}

/* 1 when `word` occurs in `s` (ASCII case-insensitive) with no letter or digit just before it. */
static int has_word(const char *s, const char *word)
{
    for (const char *p = s; (p = strcasestr(p, word)) != NULL; p++)
        if (p == s || !ascii_isalnum((unsigned char)p[-1])) return 1;
    return 0;
}

void emb_model_default_prefixes(const char *name, const char **query, const char **passage)
{
    *query = *passage = "";
    if (!name) return;
    if (has_word(name, "e5")) {
        *query = "query: ";
        *passage = "passage: ";
    } else if (has_word(name, "bge")) {
        *query = EMB_MODEL_BGE_QUERY;
    }
}

/* Embed with `prefix`, then normalise every row (a zero row stays zero). */
static int run(struct emb_model *h, const char *prefix, const char *const *texts, size_t n,
               float *out, struct err *err)
{
    int rc = nn_embed(h->nn, prefix, texts, n, out, err);
    if (rc) return rc;
    size_t d = (size_t)h->base.dim;
    for (size_t i = 0; i < n; i++) {
        float *v = out + i * d;
        double s = 0;
        for (size_t k = 0; k < d; k++)
            s += (double)v[k] * v[k];
        if (!(s > 1e-30) || !isfinite(s)) {
            memset(v, 0, d * sizeof *v);
            continue;
        }
        float inv = (float)(1.0 / sqrt(s));
        for (size_t k = 0; k < d; k++)
            v[k] *= inv;
    }
    return ERR_OK;
}

static int model_embed(struct emb *e, const char *const *texts, size_t n, float *out,
                       struct err *err)
{
    struct emb_model *h = as_model(e);
    if (!h || !texts || !out) return err_set(err, ERR_ARG, "model embed: bad arguments");
    return run(h, h->pprefix, texts, n, out, err);
}

static int model_embed_query(struct emb *e, const char *const *texts, size_t n, float *out,
                             struct err *err)
{
    struct emb_model *h = as_model(e);
    if (!h || !texts || !out) return err_set(err, ERR_ARG, "model embed: bad arguments");
    return run(h, h->qprefix, texts, n, out, err);
}

static const char *model_signature(struct emb *e)
{
    struct emb_model *h = as_model(e);
    return h && h->sig ? h->sig : "";
}

static void model_free(struct emb *e)
{
    struct emb_model *h = as_model(e);
    if (!h) return;
    nn_free(h->nn);
    nn_model_close(h->m);
    free(h->name);
    free(h->qprefix);
    free(h->pprefix);
    free(h->sig);
    free(h);
}

static const struct emb_ops model_ops = {
    .name = "model",
    .embed = model_embed,
    .signature = model_signature,
    .free = model_free,
    .embed_query = model_embed_query,
};

/* A copy of prefix `p` (the default `def` when NULL) into *out. Errors: ERR_ARG, ERR_NOMEM. */
static int take_prefix(const char *p, const char *def, const char *what, char **out,
                       struct err *err)
{
    if (!p) p = def;
    size_t n = strlen(p);
    if (n > EMB_MODEL_MAX_PREFIX)
        return err_set(err, ERR_ARG, "model embedder: %s prefix of %zu bytes (at most %d)", what,
                       n, EMB_MODEL_MAX_PREFIX);
    for (size_t i = 0; i < n; i++)
        if (ascii_iscntrl((unsigned char)p[i]))
            return err_set(err, ERR_ARG, "model embedder: the %s prefix has control characters",
                           what);
    if (!(*out = strdup(p))) return err_set(err, ERR_NOMEM, "model embedder");
    return ERR_OK;
}

int emb_model_new(struct emb **out, const struct emb_model_opts *o, struct err *err)
{
    *out = NULL;
    if (!o || !o->model || !*o->model)
        return err_set(err, ERR_ARG, "model embedder: no model (--embedder model:NAME)");
    struct buf path = {0}, sig = {0};
    struct emb_model *h = calloc(1, sizeof *h);
    int rc = ERR_OK;
    if (!h) return err_set(err, ERR_NOMEM, "model embedder");
    h->base.ops = &model_ops;
    if ((rc = nn_model_resolve(o->model, &path, err))) goto fail;
    if ((rc = nn_model_open(&h->m, path.data, err))) goto fail;
    const struct nn_info *in = nn_model_info(h->m);
    if (in->head != NN_HEAD_ENCODER) {
        rc = err_set(err, ERR_ARG,
                     "%s: model '%s' is a %s (labels %d), not an encoder: embedding needs an "
                     "encoder such as a sentence-transformers model",
                     path.data, in->name, nn_head_name(in->head), in->num_labels);
        goto fail;
    }
    const char *dq, *dp;
    emb_model_default_prefixes(in->name, &dq, &dp);
    if ((rc = take_prefix(o->query_prefix, dq, "query", &h->qprefix, err)) ||
        (rc = take_prefix(o->passage_prefix, dp, "passage", &h->pprefix, err)))
        goto fail;
    struct nn_opts no = {.threads = o->threads};
    if ((rc = nn_new(&h->nn, h->m, &no, err))) goto fail;
    h->base.dim = nn_model_out_dim(h->m);
    if (h->base.dim <= 0 || h->base.dim > EMB_MAX_DIM) {
        rc = err_set(err, ERR_LIMIT, "%s: %d dimensions (at most %d)", path.data, h->base.dim,
                     EMB_MAX_DIM);
        goto fail;
    }
    if (!(h->name = strdup(in->name ? in->name : ""))) {
        rc = err_set(err, ERR_NOMEM, "model embedder");
        goto fail;
    }
    if (buf_printf(&sig, "model:%s:dim=%d", in->hash, h->base.dim) ||
        (*h->pprefix && buf_printf(&sig, ":passage=%s", h->pprefix))) {
        rc = err_set(err, ERR_NOMEM, "model embedder");
        goto fail;
    }
    h->sig = buf_steal(&sig);
    buf_cleanup(&path);
    *out = &h->base;
    return ERR_OK;
fail:
    buf_cleanup(&path);
    buf_cleanup(&sig);
    model_free(&h->base);
    return rc;
}

const char *emb_model_name(const struct emb *e)
{
    struct emb_model *h = as_model(e);
    return h ? h->name : NULL;
}

const char *emb_model_query_prefix(const struct emb *e)
{
    struct emb_model *h = as_model(e);
    return h ? h->qprefix : NULL;
}

const char *emb_model_passage_prefix(const struct emb *e)
{
    struct emb_model *h = as_model(e);
    return h ? h->pprefix : NULL;
}
