/* ver_nli.c - the NLI verifier: the lexical scorer's sentence windows of a source, the ones that
 * line up best with the claim, read by an NLI cross-encoder (index/nn/) as premise with the
 * claim as hypothesis; the support score is the best window's entailment probability (see
 * ver_nli.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "buf.h"
#include "index/nn/nn.h"
#include "ver.h"
#include "ver_score_int.h"

struct win {
    double align;
    size_t start, end;
};

struct ver_nli {
    struct nn_model *model;
    struct nn *rt;
    int nlabels, entail, contra; /* label ids */
    int max_windows;
    int cap; /* windows kept by the call at hand (<= max_windows) */
    double t_supported, t_weak, t_contra;
    char sig[NN_MAX_NAME + 32];
    /* scratch, grown as needed */
    struct win *wins; /* the best windows so far, (max_windows) */
    int nwins;
    const char **prem, **hyp; /* (max_windows) */
    char **texts;             /* (max_windows) the windows' text, NUL-terminated */
    float *logits;            /* (max_windows, nlabels) */
};

/* The label of `in` whose name starts with `stem` (case-insensitive), or -1. */
static int find_label(const struct nn_info *in, const char *stem)
{
    size_t n = strlen(stem);
    for (int i = 0; i < in->num_labels; i++)
        if (strlen(in->labels[i]) >= n && ascii_ncasecmp(in->labels[i], stem, n) == 0) return i;
    return -1;
}

static int check_model(struct ver_nli *v, const char *path, struct err *err)
{
    const struct nn_info *in = nn_model_info(v->model);
    if (in->head != NN_HEAD_CLASSIFIER)
        return err_set(err, ERR_ARG,
                       "%s: model '%s' is an encoder, not an NLI classifier (a sequence "
                       "classifier with entailment and contradiction labels)",
                       path, in->name);
    v->nlabels = in->num_labels;
    v->entail = find_label(in, "entail");
    v->contra = find_label(in, "contradict");
    if (v->entail < 0 || v->contra < 0 || v->entail == v->contra || v->nlabels < 2) {
        struct buf b = {0};
        for (int i = 0; i < in->num_labels; i++)
            buf_printf(&b, "%s%s", i ? "," : "", in->labels[i]);
        err_set(err, ERR_ARG,
                "%s: model '%s' has the labels [%s]: an NLI verifier needs an entailment and a "
                "contradiction label in its config.json id2label",
                path, in->name, b.data ? b.data : "");
        buf_cleanup(&b);
        return ERR_ARG;
    }
    snprintf(v->sig, sizeof v->sig, "nli:%s:%s", in->name, in->hash);
    return ERR_OK;
}

int ver_nli_new(struct ver_nli **out, const char *ref, const struct ver_nli_opts *o,
                struct err *err)
{
    *out = NULL;
    struct ver_nli_opts d = {0};
    if (!o) o = &d;
    if (!ref || !*ref) return err_set(err, ERR_ARG, "verifier: no model named");
    if (o->max_windows < 0 || o->max_windows > VER_NLI_WINDOWS_CAP)
        return err_set(err, ERR_ARG, "verifier: %d windows per source (1..%d)", o->max_windows,
                       VER_NLI_WINDOWS_CAP);
    struct ver_nli *v = calloc(1, sizeof *v);
    struct buf path = {0};
    if (!v) return err_set(err, ERR_NOMEM, "verifier");
    v->max_windows = o->max_windows ? o->max_windows : VER_NLI_MAX_WINDOWS;
    v->t_supported = o->t_supported > 0 ? o->t_supported : VER_NLI_T_SUPPORTED;
    v->t_weak = o->t_weak > 0 ? o->t_weak : VER_NLI_T_WEAK;
    v->t_contra = o->t_contra > 0 ? o->t_contra : VER_NLI_T_CONTRA;
    int rc = nn_model_resolve(ref, &path, err);
    if (!rc) rc = nn_model_open(&v->model, path.data, err);
    if (!rc) rc = check_model(v, path.data, err);
    struct nn_opts no = {.threads = o->threads};
    if (!rc) rc = nn_new(&v->rt, v->model, &no, err);
    if (rc) {
        err_prefix(err, "verifier");
        goto fail;
    }
    size_t w = (size_t)v->max_windows;
    v->wins = calloc(w, sizeof *v->wins);
    v->prem = calloc(w, sizeof *v->prem);
    v->hyp = calloc(w, sizeof *v->hyp);
    v->texts = calloc(w, sizeof *v->texts);
    v->logits = calloc(w * (size_t)v->nlabels, sizeof *v->logits);
    if (!v->wins || !v->prem || !v->hyp || !v->texts || !v->logits) {
        rc = err_set(err, ERR_NOMEM, "verifier");
        goto fail;
    }
    buf_cleanup(&path);
    *out = v;
    return ERR_OK;
fail:
    buf_cleanup(&path);
    ver_nli_free(v);
    return rc;
}

void ver_nli_free(struct ver_nli *v)
{
    if (!v) return;
    nn_free(v->rt);
    nn_model_close(v->model);
    for (int i = 0; v->texts && i < v->max_windows; i++)
        free(v->texts[i]);
    free(v->texts);
    free(v->wins);
    free(v->prem);
    free(v->hyp);
    free(v->logits);
    free(v);
}

const char *ver_nli_signature(const struct ver_nli *v)
{
    return v->sig;
}

void ver_nli_thresholds(const struct ver_nli *v, double *t_supported, double *t_weak,
                        double *t_contra)
{
    if (t_supported) *t_supported = v->t_supported;
    if (t_weak) *t_weak = v->t_weak;
    if (t_contra) *t_contra = v->t_contra;
}

int ver_nli_model_hash(const char *ref, char out[17], struct err *err)
{
    struct buf path = {0};
    struct nn_model *m = NULL;
    int rc = nn_model_resolve(ref, &path, err);
    if (!rc) rc = nn_model_open(&m, path.data, err);
    if (!rc) snprintf(out, 17, "%s", nn_model_info(m)->hash);
    nn_model_close(m);
    buf_cleanup(&path);
    return rc;
}

/* ver_score_windows' callback: keep the max_windows windows with the best alignment (a sorted
 * array, best first; ties keep the earlier window). */
static int keep_window(void *ctx, const double *feat, size_t start, size_t end)
{
    struct ver_nli *v = ctx;
    double al = ver_score_align(feat);
    int at = v->nwins;
    while (at > 0 && v->wins[at - 1].align < al)
        at--;
    if (at >= v->cap) return 0;
    int n = v->nwins < v->cap ? v->nwins : v->cap - 1;
    memmove(&v->wins[at + 1], &v->wins[at], (size_t)(n - at) * sizeof *v->wins);
    v->wins[at] = (struct win){al, start, end};
    if (v->nwins < v->cap) v->nwins++;
    return 0;
}

/* Softmax of one row of logits into p (n). */
static void softmax(const float *x, int n, double *p)
{
    double mx = x[0], sum = 0;
    for (int i = 1; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < n; i++)
        sum += p[i] = exp((double)x[i] - mx);
    for (int i = 0; i < n; i++)
        p[i] /= sum;
}

int ver_nli_score(struct ver_nli *v, struct ver_scorer *s, const char *select, const char *claim,
                  const char *source, size_t len, int windows, struct ver_nli_result *out,
                  struct err *err)
{
    memset(out, 0, sizeof *out);
    out->verdict = VER_UNSUPPORTED;
    v->nwins = 0;
    v->cap = windows > 0 && windows < v->max_windows ? windows : v->max_windows;
    struct ver_score_claim c = {select ? select : claim, 0, 0}; /* windows chosen by alignment */
    int rc = ver_score_windows(s, &c, source, len, keep_window, v, err);
    if (rc) return rc;
    /* the model reads the windows in source order (the result does not depend on it) */
    for (int i = 0; i < v->nwins; i++) {
        free(v->texts[i]);
        v->texts[i] = strndup(source + v->wins[i].start, v->wins[i].end - v->wins[i].start);
        if (!v->texts[i]) return err_set(err, ERR_NOMEM, "verifier");
        v->prem[i] = v->texts[i];
        v->hyp[i] = claim;
    }
    out->nwindows = v->nwins;
    if (v->nwins == 0) return ERR_OK;
    rc = nn_classify(v->rt, v->prem, v->hyp, (size_t)v->nwins, v->logits, err);
    if (rc) return err_prefix(err, "verifier");
    double p[NN_MAX_LABELS];
    out->entail = out->contra = -1;
    for (int i = 0; i < v->nwins; i++) {
        softmax(v->logits + (size_t)i * (size_t)v->nlabels, v->nlabels, p);
        /* ties: the window that lines up better lexically (earlier in wins) */
        if (p[v->entail] > out->entail) {
            out->entail = p[v->entail];
            out->win_start = v->wins[i].start;
            out->win_end = v->wins[i].end;
        }
        if (p[v->contra] > out->contra) {
            out->contra = p[v->contra];
            out->contra_start = v->wins[i].start;
            out->contra_end = v->wins[i].end;
        }
    }
    if (out->contra >= v->t_contra && out->contra > out->entail)
        out->verdict = VER_CONTRADICTED;
    else if (out->entail >= v->t_supported)
        out->verdict = VER_SUPPORTED;
    else if (out->entail >= v->t_weak)
        out->verdict = VER_WEAK;
    return ERR_OK;
}
