/* ver_score_int.h - internals shared by the scorer (ver_score.c), the model file
 * (ver_score_model.c) and the trainer (ver_train.c). Not a public header. */
#ifndef VC_VER_SCORE_INT_H
#define VC_VER_SCORE_INT_H

#include "ver_score.h"

#include "buf.h"

#define VER_MODEL_MAGIC "vericite-verifier-model"
#define VER_MODEL_VERSION 2
#define VER_MODEL_MAX_BYTES (64u << 10) /* a model file is a few KB; more is not ours */

/* Features of one claim word (a content word after the claim's context, found somewhere in the
 * source: one found nowhere is missing whatever the model) for the missing-word model: is it a
 * part of the claim the source does not support? Each in [0, 1]. */
enum ver_miss_feat {
    VER_M_NOT_WINDOW = 0, /* 1: not in the best window (as such or through the lexicon) */
    VER_M_NOT_UNION,      /* 1: not in the best window nor in the sentence that adds most to it */
    VER_M_RARITY,         /* the word's rarity weight */
    VER_M_PART_UNCOVERED, /* share (by rarity) of the word's claim part not in window or sentence */
    VER_M_CLAIM_UNCOVERED, /* the same over the whole claim */
    VER_M_SCORE,          /* the source's support score */
    VER_MISS_NFEAT
};
extern const char *const ver_miss_feature_names[VER_MISS_NFEAT];

/* The logistic model: score = 1 / (1 + exp(-(bias + sum_i w[i] * (x[i] - mean[i]) / scale[i]))),
 * the suggestion ranker, the same form over enum ver_rank_feat, and the missing-word model, the
 * same form over enum ver_miss_feat (a word found in the source is missing when its probability
 * is above t_missing; a model without one reports every word the window and sentence leave out). */
struct ver_model {
    double bias;
    double mean[VER_SCORE_NFEAT], scale[VER_SCORE_NFEAT], w[VER_SCORE_NFEAT];
    double t_supported, t_weak;
    double cal_target, cal_precision,
        cal_recall;  /* calibration line (see ver_scorer_calibration) */
    double t_contra; /* least lexical coverage of a clashing window for `contradicted` */
    double rank_bias;
    double rmean[VER_RANK_NFEAT], rscale[VER_RANK_NFEAT], rw[VER_RANK_NFEAT];
    double suggest_floor;
    int has_missing; /* the missing-word model below is present */
    double miss_bias, t_missing;
    double mmean[VER_MISS_NFEAT], mscale[VER_MISS_NFEAT], mw[VER_MISS_NFEAT];
    double best_f1; /* the trainer's scratch: best out-of-fold F1 (not in the file) */
};

/* Parse model text (`len` bytes; `name` names it in messages: a path or "built-in model").
 * Errors: ERR_CORRUPT (not ours, truncated, malformed: "name:line: why"), ERR_MISMATCH (another
 * format version or feature set). *m is written on success only. */
int ver_model_parse(struct ver_model *m, const char *text, size_t len, const char *name,
                    struct err *err);

/* Read and parse the model file at `path`. Errors: those of ver_model_parse, ERR_NOTFOUND, ERR_IO.
 */
int ver_model_load(struct ver_model *m, const char *path, struct err *err);

/* Append the model body (bias, feature lines, thresholds, "end") to `out`, after the magic line
 * and the `comments` (already '#'-prefixed lines, may be NULL). Returns 0 or ERR_NOMEM. */
int ver_model_format(const struct ver_model *m, const char *comments, struct buf *out,
                     struct err *err);

/* How well a window lines up with the claim, from its raw features: the window a source is
 * judged by is the one with the highest alignment (lexical coverage first; bigrams, plain
 * coverage and shortness break ties), whatever the model's weights. */
static inline double ver_score_align(const double *f)
{
    return f[VER_F_COV_LEX] + 0.1 * f[VER_F_BIGRAM] + 0.05 * f[VER_F_COV_W] -
           0.001 * f[VER_F_WIN_LEN];
}

/* The model's logit for raw features x (VER_SCORE_NFEAT). */
double ver_model_logit(const struct ver_model *m, const double *x);

/* The ranker's logit for raw ranking features x (VER_RANK_NFEAT). */
double ver_model_rank_logit(const struct ver_model *m, const double *x);

/* ver_scorer_new() with a model already in memory (copied). The trainer uses it with a
 * placeholder model, so that it never depends on the model file it is about to replace. */
int ver_scorer_new_model(struct ver_scorer **out, const struct ver_model *m,
                         const struct ver_score_opts *opts, struct err *err);

/* Called per window by ver_score_windows(): raw features and the window's byte span.
 * Return nonzero to stop. */
typedef int (*ver_score_win_cb)(void *ctx, const double *feat, size_t start, size_t end);

/* Compute the features of every window of `src` against claim `c` (the dense feature is 0),
 * in source order; the trainer uses this to fit the model. Errors as ver_score_cited(). */
int ver_score_windows(struct ver_scorer *s, const struct ver_score_claim *c, const char *src,
                      size_t len, ver_score_win_cb cb, void *ctx, struct err *err);

/* The missing-word model's probability for raw word features x (VER_MISS_NFEAT). */
double ver_model_miss_prob(const struct ver_model *m, const double *x);

/* Called by ver_score_words() for each content word of the claim after its context: its
 * features (enum ver_miss_feat), whether it is absent from the whole source (then missing
 * whatever the model says), and its byte span in the claim. Return nonzero to stop. */
typedef int (*ver_score_word_cb)(void *ctx, const double *feat, int absent, size_t start,
                                 size_t end);

/* Score `src` for claim `c` as ver_score_cited() does, calling cb for each claim word with its
 * missing-word features (the trainer fits the missing-word model with this). Fills *out. Errors
 * as ver_score_cited(). */
int ver_score_words(struct ver_scorer *s, const struct ver_score_claim *c, const char *src,
                    size_t len, ver_score_word_cb cb, void *ctx, struct ver_score_result *out,
                    struct err *err);

#endif
