/* ver_score.h - does a cited source support the sentence citing it? Lexical + number/date/name
 * agreement features over sentence windows of the source, combined by a logistic model read from
 * a small text file (verify/verifier-model.txt, with a built-in copy), and the trainer that makes
 * it.
 *
 * Self-contained for now; the lead folds it into verify/ver.h. PCRE2 is reached from verify/ only;
 * ver_train.c reads the JSON training data with jansson. No neural model is needed: an optional
 * dense similarity can be plugged in through a callback. */
#ifndef VC_VER_SCORE_H
#define VC_VER_SCORE_H

#include <stddef.h>

struct err;

/* The features computed for one (claim, window) pair, in model-file order. Each is documented in
 * ver_score.c (ver_score_feature_names gives the names used in the model file). */
enum ver_feat {
    VER_F_BM25 = 0,  /* BM25 of the claim terms in the window, / its maximum: [0, 1] */
    VER_F_COV_IDF,   /* IDF-weighted fraction of claim terms present in the window: [0, 1] */
    VER_F_COV,       /* plain fraction of distinct claim terms present in the window: [0, 1] */
    VER_F_BIGRAM,    /* fraction of claim bigrams (adjacent content words) in the window */
    VER_F_NUM_AGREE, /* (found - conflicting) / n over claim numbers; 0 when the claim has none */
    VER_F_NUM_CONFLICT,  /* conflicting / n: a claim number missing while the window has another
                          * number of the same kind (percent, money, same unit) */
    VER_F_DATE_AGREE,    /* the same over years and month names */
    VER_F_DATE_CONFLICT, /* the same over years and month names */
    VER_F_NAME_AGREE,    /* (2 found - n) / n over claim proper names; 0 when none */
    VER_F_DOC_COV,       /* fraction of distinct claim terms present anywhere in the source */
    VER_F_DOC_NAME,      /* (2 found - n) / n over claim names, anywhere in the source */
    VER_F_CLAIM_LEN,     /* log(1 + distinct claim terms) */
    VER_F_WIN_LEN,       /* log(1 + content words in the window) */
    VER_F_DENSE,         /* cosine from the dense callback; 0 without one */
    VER_SCORE_NFEAT
};

/* Names of the features as written in the model file ("bm25", "cov_idf", ...). */
extern const char *const ver_score_feature_names[VER_SCORE_NFEAT];

/* Verdicts from the model's thresholds: score >= t_supported, >= t_weak, else unsupported. */
enum ver_verdict { VER_UNSUPPORTED = 0, VER_WEAK = 1, VER_SUPPORTED = 2 };

/* A name for a verdict: "supported", "weak", "unsupported". Never NULL. */
const char *ver_verdict_name(int verdict);

#define VER_SCORE_MAX_SOURCE (8u << 20) /* cap on one source text: 8 MiB (ERR_LIMIT beyond) */
#define VER_SCORE_MAX_CLAIM 16384       /* cap on one claim, in bytes (ERR_LIMIT beyond) */
#define VER_SCORE_MAX_TERMS 128         /* distinct claim terms used; later ones are ignored */
#define VER_SCORE_WIN_SENTS 3           /* windows are 1..3 consecutive sentences ... */
#define VER_SCORE_WIN_WORDS                                                                        \
    80                          /* ... of at most 80 content words (stop words not counted;        \
                                 * about 120-140 running words); a longer sentence is cut          \
                                 * into 80-word pieces */
#define VER_SCORE_MAX_MATCH 128 /* matched-word spans kept in a result */

/* A byte span [start, end). */
struct ver_span {
    size_t start, end;
};

/* What ver_score_source() found. Caller-allocated; no pointers inside, nothing to free. */
struct ver_score_result {
    double score;                               /* support score in [0, 1]: the best window's */
    int verdict;                                /* enum ver_verdict from the model's thresholds */
    size_t win_start, win_end;                  /* the best window: byte span in the source text */
    struct ver_span match[VER_SCORE_MAX_MATCH]; /* claim words in the best window, byte spans
                                                 * relative to win_start, in text order */
    int nmatch;
    int nwindows;                 /* windows scored (0 when the source has no words) */
    double feat[VER_SCORE_NFEAT]; /* raw features of the best window */
};

/* Split `text` into sentences; call cb(ctx, start, end) per sentence in order. Same shape as
 * ver_sentences() from verify/ver_sent.c. */
typedef int (*ver_score_sent_cb)(void *ctx, size_t start, size_t end);
typedef int (*ver_score_split_fn)(const char *text, size_t len, ver_score_sent_cb cb, void *ctx);

/* Optional hooks. Zero-initialise; every NULL means the built-in behaviour. */
struct ver_score_opts {
    /* Sentence splitter; NULL: every line break ends a sentence, and each line is split by
     * ver_sentences() (abbreviation- and number-aware). The built-in model was trained with it. */
    ver_score_split_fn split;
    /* Dense similarity of two texts (claim, window) in [-1, 1], e.g. a sentence-embedding cosine.
     * NULL: feature VER_F_DENSE is 0. Called only for the 8 best windows by the other features,
     * and never when the model's weight for it is 0. */
    double (*dense)(void *ctx, const char *a, size_t alen, const char *b, size_t blen);
    void *dense_ctx;
    /* IDF of a claim term (stemmed, folded, `len` bytes), e.g. from the index's statistics.
     * Return a negative number when unknown. NULL or unknown: IDF from the source itself (its
     * sentences as documents). */
    double (*idf)(void *ctx, const char *term, size_t len);
    void *idf_ctx;
};

struct ver_scorer;

/* A scorer with the model at `model_path` (NULL: the built-in copy of verify/verifier-model.txt).
 * `opts` may be NULL; it is copied, the contexts in it are borrowed. Regexes and the tokenizer are
 * compiled here once. Errors: ERR_NOTFOUND/ERR_IO (model file), ERR_CORRUPT (not a vericite
 * verifier model, truncated or malformed; the message names the file and line), ERR_MISMATCH
 * (a model for another feature set), ERR_NOMEM, ERR_INTERNAL (a regex did not compile).
 * On success *out is owned by the caller and freed with ver_scorer_free(); on failure it is NULL.
 */
int ver_scorer_new(struct ver_scorer **out, const char *model_path,
                   const struct ver_score_opts *opts, struct err *err);

/* Free a scorer. NULL is allowed. */
void ver_scorer_free(struct ver_scorer *s);

/* Score how well `source_text` (len bytes of plain text, e.g. a fetched page reduced to text)
 * supports `claim` (NUL-terminated). The source is split into windows of 1..3 consecutive
 * sentences; each gets the features above and the model's logistic score; the best window wins.
 * A source without any word scores 0 (unsupported) with nwindows 0.
 * Errors: ERR_ARG (NULL arguments), ERR_LIMIT (claim over VER_SCORE_MAX_CLAIM, source over
 * VER_SCORE_MAX_SOURCE), ERR_NOMEM. *out is filled on success only. Not thread-safe: one scorer
 * per thread (scratch memory lives in the scorer). */
int ver_score_source(struct ver_scorer *s, const char *claim, const char *source_text, size_t len,
                     struct ver_score_result *out, struct err *err);

/* The verdict for a score under the scorer's thresholds (enum ver_verdict). */
int ver_scorer_verdict(const struct ver_scorer *s, double score);

/* The model's thresholds: a score >= *t_supported is supported, >= *t_weak weak (either may be
 * NULL). */
void ver_scorer_thresholds(const struct ver_scorer *s, double *t_supported, double *t_weak);

/* The built-in model text (identical to verify/verifier-model.txt; a test checks). */
const char *ver_score_builtin_model(void);

/* ---------------------------------------------------------------- training */

/* What ver_train() measured. All metrics come from data the weights and thresholds never saw:
 * the held-out WiCE claims (ver_train_is_heldout) and Citation-Integrity claims_dev.jsonl. */
struct ver_train_report {
    int n_train;       /* (claim, source) pairs fitted */
    int n_heldout;     /* held-out WiCE pairs (true page + wrong pages) */
    int iterations;    /* Newton steps over all window re-selection rounds */
    double train_loss; /* final weighted cross-entropy on the training pairs */
    double wice_auc;   /* held-out WiCE: true page vs another claim's page, ROC AUC */
    double wice_acc;   /* held-out WiCE 3-way verdict accuracy: supported -> supported,
                        * partially_supported -> weak, not_supported and wrong page ->
                        * unsupported */
    double
        wice_flag_acc; /* held-out WiCE: true page (weak or better) vs wrong page (unsupported) */
    double wice_supported_f1; /* held-out WiCE true pages: F1 of verdict supported vs label
                                 supported */
    double wice_swap_drop;    /* held-out WiCE supported/partly supported claims with one number
                               * changed: share scoring below the unchanged claim on the same page */
    double ci_macro_f1;       /* Citation-Integrity dev, 3-class macro-F1: supported -> SUPPORT,
                               * weak -> REFUTE, unsupported -> NEI */
    double ci_support_f1;     /* Citation-Integrity dev, F1 of SUPPORT vs the rest */
    double ci_wrong_auc; /* Citation-Integrity dev: cited abstract vs another claim's, ROC AUC */
    double t_supported, t_weak; /* thresholds chosen on the training pairs */
};

/* CLI usage text for the command that calls ver_train() (for cli/ to paste):
 *
 *   vericite train-verifier [DATA_DIR] [OUT]
 *     Fit the citation verifier's logistic model on WiCE (wice/dev.jsonl) and Citation-Integrity
 *     (citation-integrity/claims_train.jsonl, corpus.jsonl) under DATA_DIR (default
 *     ../shared/data), with wrong-page and changed-number negatives, and write it to OUT (default
 *     verify/verifier-model.txt). Prints held-out WiCE AUC (true vs wrong page), 3-way accuracy,
 *     and Citation-Integrity dev macro-F1. Deterministic; takes a few seconds. After replacing
 *     verify/verifier-model.txt, regenerate the built-in copy (command in ver_score_model.c).
 *
 * Train the verifier on the shared data under `data_dir` (wice/dev.jsonl, citation-integrity/
 * claims_train.jsonl, claims_dev.jsonl, corpus.jsonl), write the model to `out_path` (replaced
 * atomically) and fill `rep` (may be NULL). Deterministic: the same data gives the same weights.
 * Errors: ERR_NOTFOUND (a data file is missing, named), ERR_PARSE (malformed JSON, file:line),
 * ERR_IO (writing), ERR_NOMEM. */
int ver_train(const char *data_dir, const char *out_path, struct ver_train_report *rep,
              struct err *err);

/* Nonzero when the claim with this id (WiCE meta.id, e.g. "dev02986") belongs to the held-out
 * split used by ver_train() for evaluation (about 30% of ids, by a fixed hash). */
int ver_train_is_heldout(const char *claim_id);

#endif
