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
 * ver_score.c (ver_score_feature_names gives the names used in the model file). "Weighted" means
 * each claim term counts by its rarity (from the lexicon's general-English frequency). */
enum ver_feat {
    VER_F_BM25 = 0,  /* BM25 of the claim terms in the window, / its maximum: [0, 1] */
    VER_F_COV_IDF,   /* IDF-weighted fraction of claim terms present in the window: [0, 1] */
    VER_F_COV,       /* plain fraction of distinct claim terms present in the window: [0, 1] */
    VER_F_BIGRAM,    /* fraction of claim bigrams (adjacent content words) in the window */
    VER_F_COV_W,     /* weighted fraction of claim terms present as such */
    VER_F_COV_LEX,   /* weighted fraction present as such or through the lexicon (a synonym,
                      * derivation, irregular form or more specific term; a more general term
                      * counts half) */
    VER_F_LEX_SYN,   /* weighted fraction found only as a synonym, derivation or form */
    VER_F_LEX_HYPO,  /* ... only as a more specific term (hyponym) */
    VER_F_LEX_HYPER, /* ... only as a more general term (hypernym) */
    VER_F_PART_MIN,  /* the least-covered part of the claim (clauses): its weighted coverage */
    VER_F_PART_MISS, /* fraction of the claim's parts covered less than half */
    VER_F_NUM_AGREE, /* (found - conflicting) / n over claim numbers; 0 when the claim has none */
    VER_F_NUM_CONFLICT,  /* conflicting / n: a claim number missing while the window has another
                          * number of the same kind (percent, money, same unit) */
    VER_F_DATE_AGREE,    /* the same over years and month names */
    VER_F_DATE_CONFLICT, /* the same over years and month names */
    VER_F_NAME_AGREE,    /* (2 found - n) / n over claim proper names; 0 when none */
    VER_F_NEG_FLIP,      /* cov_lex when a matched claim word is negated on one side only, else 0 */
    VER_F_ANT_CLASH,     /* cov_lex when the window has an antonym of a claim word, else 0 */
    VER_F_DOC_COV,       /* fraction of distinct claim terms present anywhere in the source */
    VER_F_DOC_NAME,      /* (2 found - n) / n over claim names, anywhere in the source */
    VER_F_DOC_UNION, /* weighted lexical coverage of the two sentences that cover most together */
    VER_F_CLAIM_LEN, /* log(1 + distinct claim terms) */
    VER_F_WIN_LEN,   /* log(1 + content words in the window) */
    VER_F_DENSE,     /* cosine from the dense callback; 0 without one */
    VER_F_DOC_LEN,   /* log(1 + bytes of the source) */
    VER_F_DOC_PART_MIN, /* the least-covered claim part over the two sentences of doc_union */
    VER_F_DOC_MISS_MAX, /* the rarest claim term found nowhere in the source (as such or through
                         * the lexicon): its rarity weight; 0 when every term is found */
    /* a short source (under VER_SCORE_SHORT bytes: an abstract, a snippet) gets its own weights
     * for these; 0 for longer ones */
    VER_F_S_COV,
    VER_F_S_BM25,
    VER_F_S_COV_W,
    VER_F_S_COV_LEX,
    VER_F_S_CLAIM_LEN,
    VER_F_S_DOC_COV,
    VER_F_S_BIGRAM,
    VER_F_S_PART_MIN,
    /* of the citation as well as the text: cov_lex when the source is cited together with
     * others at the same place ("...[3][4]", "[<|multi_cit|>]"), so that it may support only a
     * part of the claim (coverage then says less); 0 when it is cited alone or this is not known
     * (ver_score_cited) */
    VER_F_COCITED,
    VER_SCORE_NFEAT
};

#define VER_SCORE_SHORT 1500 /* bytes: sources shorter than this are "short" (see above) */
#define VER_SCORE_TINY 600   /* bytes: doc_len treats shorter sources as this long */

/* Names of the features as written in the model file ("bm25", "cov_idf", ...). */
extern const char *const ver_score_feature_names[VER_SCORE_NFEAT];

/* Verdicts: contradicted when the window that matches the claim best clashes with it (see
 * ver_score_source), else from the model's thresholds: score >= t_supported, >= t_weak, else
 * unsupported. */
enum ver_verdict { VER_UNSUPPORTED = 0, VER_WEAK = 1, VER_SUPPORTED = 2, VER_CONTRADICTED = 3 };

/* A name for a verdict: "supported", "weak", "unsupported", "contradicted". Never NULL. */
const char *ver_verdict_name(int verdict);

#define VER_SCORE_MAX_SOURCE (8u << 20) /* cap on one source text: 8 MiB (ERR_LIMIT beyond) */
#define VER_SCORE_MAX_CLAIM 16384       /* cap on one claim, in bytes (ERR_LIMIT beyond) */
#define VER_SCORE_MAX_TERMS 128         /* distinct claim terms used; later ones are ignored */
#define VER_SCORE_WIN_SENTS 3           /* windows are 1..3 consecutive sentences ... */
#define VER_SCORE_WIN_WORDS                                                                        \
    80                           /* ... of at most 80 content words (stop words not counted;       \
                                  * about 120-140 running words); a longer sentence is cut         \
                                  * into 80-word pieces */
#define VER_SCORE_MAX_MATCH 128  /* matched-word spans kept in a result */
#define VER_SCORE_MAX_MISSING 16 /* missing claim spans kept in a result */
#define VER_SCORE_CLASH_MAX 200  /* bytes of the clash description */

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
    /* the parts of the claim the evidence (the best window and the sentence that adds most to it)
     * does not cover: byte spans of the claim, in order; nothing when all of it is covered */
    struct ver_span missing[VER_SCORE_MAX_MISSING];
    int nmissing;
    /* verdict VER_CONTRADICTED: what clashed, e.g. "claim says 1950, source says 1952"; and the
     * clashing window's byte span in the source (win_start/win_end are then that window) */
    char clash[VER_SCORE_CLASH_MAX];
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

/* ver_score_source for a claim whose first `context_len` bytes are context (e.g. "Title: " in
 * front of the sentence): they count for matching but the source need not cover them, so they are
 * never reported missing nor turn supported into weak. */
int ver_score_source_ctx(struct ver_scorer *s, const char *claim, size_t context_len,
                         const char *source_text, size_t len, struct ver_score_result *out,
                         struct err *err);

/* A claim as one of its citations is scored (ver_score_cited). */
#define VER_SCORE_HAS_COCITED 1 /* for tools built against several versions of this header */
struct ver_score_claim {
    const char *text;   /* the claim, NUL-terminated, context first (see ver_score_source_ctx) */
    size_t context_len; /* bytes of context in front of the sentence (0: none) */
    int cocited;        /* nonzero: the source is one of several cited together at the same place
                           (a claim closed by two or more citations); see VER_F_COCITED */
};

/* ver_score_source_ctx for a claim described by `c`: what the scorer knows of the citation (is
 * the source cited alone?) enters the score as VER_F_COCITED. In Citation-Integrity half of the
 * citations made in a group are inaccurate, a fifth of those made alone; the model weighs that
 * against what the text says. Errors as ver_score_source(). */
int ver_score_cited(struct ver_scorer *s, const struct ver_score_claim *c, const char *source_text,
                    size_t len, struct ver_score_result *out, struct err *err);

/* The claim as a citation of it is scored: the article's `title` and ": " in front of the sentence
 * when the sentence does not name the title (case-insensitive), so the subject ("She won the
 * award." in the article "Taylor Swift") is a name the source must mention; the sentence alone when
 * it does, or when title is NULL or empty. Writes into `out` (reset first) and the length of that
 * prefix into *context_len (may be NULL), to pass to ver_score_source_ctx. The audit, the trainer
 * and the evaluator all build the scored claim with this. Returns 0, or -1 out of memory. */
struct buf;
int ver_score_claim_in_context(const char *claim, const char *title, struct buf *out,
                               size_t *context_len);

/* The verdict for a score under the scorer's thresholds (enum ver_verdict; never contradicted:
 * that comes from the text, not the score). */
int ver_scorer_verdict(const struct ver_scorer *s, double score);

/* The model's thresholds: a score >= *t_supported is supported, >= *t_weak weak (either may be
 * NULL). */
void ver_scorer_thresholds(const struct ver_scorer *s, double *t_supported, double *t_weak);

/* How the thresholds were chosen, from the model file: the precision of `supported` they were
 * fitted for (e.g. 0.8) and the cross-validated precision and recall measured at them on the dev
 * data (0 when the model file does not say). */
void ver_scorer_calibration(const struct ver_scorer *s, double *target_precision,
                            double *cv_precision, double *cv_recall);

/* ---------------------------------------------------------------- suggestion ranking */

/* What the suggestion ranker looks at for one candidate source, in model-file order. */
enum ver_rank_feat {
    VER_R_LOGIT = 0,   /* the verifier's logit for the candidate */
    VER_R_GAIN,        /* that logit minus the cited source's (0 when nothing was cited) */
    VER_R_COV_LEX,     /* the candidate's best-window lexical coverage */
    VER_R_DOC_UNION,   /* its two-sentence coverage */
    VER_R_NAME,        /* its name agreement over the whole source */
    VER_R_BM25,        /* its retrieval score / the best candidate's */
    VER_R_RANK,        /* log(1 + its retrieval rank), from 0 */
    VER_R_DENSE,       /* dense cosine of claim and candidate (0 without vectors) */
    VER_R_TITLE,       /* fraction of the article title's terms in the candidate's title */
    VER_R_CLAIM_TITLE, /* fraction of the claim's terms in the candidate's title */
    VER_RANK_NFEAT
};

extern const char *const ver_rank_feature_names[VER_RANK_NFEAT];

/* The ranker's probability that the candidate is the right source (the number shown beside a
 * suggestion), from raw features x (VER_RANK_NFEAT). */
double ver_scorer_rank(const struct ver_scorer *s, const double *x);

/* The lowest ranker probability a suggestion may have (from the model file). */
double ver_scorer_suggest_floor(const struct ver_scorer *s);

/* The logit of a score in (0, 1) (for the ranker's VER_R_LOGIT and VER_R_GAIN). */
double ver_score_logit(double score);

/* Fraction of the terms of `a` that occur in `b` (both tokenized like the corpus); 0 when `a` has
 * none. Uses the scorer's tokenizer (not thread-safe, like the scorer). */
double ver_scorer_term_overlap(struct ver_scorer *s, const char *a, const char *b);

/* Nonzero when `text` looks like a navigation or index page (a list of links, a table of
 * contents): most of its lines are very short and do not end a sentence. Such pages are not
 * suggested. */
int ver_score_is_navigation(const char *text, size_t len);

/* The built-in model text (identical to verify/verifier-model.txt; a test checks). */
const char *ver_score_builtin_model(void);

/* ---------------------------------------------------------------- training */

/* What ver_train() measured. The WiCE figures are cross-validated: claims are split into
 * VER_TRAIN_CV_FOLDS folds by article (ver_train_fold), and each fold is scored by a model fitted
 * without it. Citation-Integrity figures come from claims_dev.jsonl, which training never sees. */
struct ver_train_report {
    int n_train;              /* (claim, source) pairs fitted by the final model */
    int n_heldout;            /* WiCE pairs scored out of fold (own pages and wrong pages) */
    int n_excluded;           /* WiCE claims left out entirely (ver_train_opts.fold) */
    int iterations;           /* Newton steps of the final fit */
    double train_loss;        /* final weighted cross-entropy on the training pairs */
    double wice_auc;          /* WiCE out of fold: own page vs other claims' pages, ROC AUC */
    double wice_acc;          /* WiCE out of fold 3-way verdict accuracy: supported -> supported,
                               * partially_supported -> weak, not_supported and wrong page ->
                               * unsupported */
    double wice_supported_f1; /* WiCE own pages out of fold: F1 of verdict supported vs label */
    double wice_precision, wice_recall; /* ... and its precision and recall (calibration) */
    double wice_best_f1;                /* ... and the best F1 over all thresholds */
    double wice_swap_drop;   /* WiCE supported/partly supported claims with one number changed:
                              * share scoring below the unchanged claim on the same page */
    double wice_swap_contra; /* ... and share called contradicted */
    double wice_true_contra; /* WiCE own pages labelled supported called contradicted */
    double ci_macro_f1;      /* Citation-Integrity dev, 3-class macro-F1: supported -> SUPPORT,
                              * weak -> REFUTE, unsupported -> NEI */
    double ci_support_f1;    /* Citation-Integrity dev, F1 of SUPPORT vs the rest */
    double ci_refute_auc;    /* Citation-Integrity dev: SUPPORT vs REFUTE citations, ROC AUC */
    double ci_wrong_auc; /* Citation-Integrity dev: cited abstract vs another claim's, ROC AUC */
    double rank_r1, rank_r5;    /* suggestion ranker on the training claims (in sample): own page
                                 * first / in the first five among the retrieved candidates */
    double t_supported, t_weak; /* thresholds chosen on the out-of-fold scores */
    double target_precision;    /* the precision t_supported was fitted for */
    int miss_words;             /* claim words the missing-word model was fitted on */
    double miss_precision, miss_recall; /* out of fold, WiCE train_tokens words: "missing" vs
                                         * annotated not supported */
    double miss_f1;              /* ... F1, counting supported claims' words called missing as
                                  * false positives too (what its threshold maximises) */
    double miss_supported_share; /* ... share of the words of supported claims called missing */
    double miss_rule_f1, miss_rule_supported_share; /* the same of the rule it replaces (a word
                                                     * is missing when window and sentence leave
                                                     * it out) */
};

#define VER_TRAIN_CV_FOLDS 5    /* folds for the out-of-fold scores behind the thresholds */
#define VER_TRAIN_PRECISION 0.8 /* the precision of `supported` the threshold is fitted for */
#define VER_TRAIN_HAS_FOLDS 1   /* ver_train_ex and ver_train_fold exist (tests/bench/ver_eval.c) */

/* Options of ver_train_ex. Zero-initialise. */
struct ver_train_opts {
    int folds, fold;     /* folds > 1: leave out the WiCE claims with ver_train_fold(article,
                          * folds) == fold entirely (for an outside cross-validation) */
    const char *pool_db; /* unused; reserved (the trainer builds its own page pool) */
    double precision;    /* the precision of `supported` t_supported is fitted for, in (0, 1);
                          * 0: VER_TRAIN_PRECISION. A lower target calls more claims supported
                          * (higher recall, more wrong `supported` verdicts). */
};
#define VER_TRAIN_HAS_PRECISION 1 /* struct ver_train_opts has .precision (for tests/bench) */

/* CLI usage text for the command that calls ver_train() (for cli/ to paste):
 *
 *   vericite train-verifier [DATA_DIR] [OUT]
 *     Fit the citation verifier's model, its thresholds and the suggestion ranker on WiCE
 *     (wice/dev.jsonl, wice/train_tokens.jsonl) and Citation-Integrity (claims_train.jsonl,
 *     corpus.jsonl) under DATA_DIR (default ../shared/data), and write it to OUT (default
 *     verify/verifier-model.txt). Prints cross-validated WiCE figures and Citation-Integrity dev
 *     figures. Deterministic. After replacing verify/verifier-model.txt, regenerate the built-in
 *     copy (command in ver_score_model.c).
 *
 * Train the verifier on the shared data under `data_dir`, write the model to `out_path` (replaced
 * atomically) and fill `rep` (may be NULL). Deterministic: the same data gives the same weights.
 * The pool of WiCE pages for the ranker is indexed in a temporary folder under $TMPDIR (removed).
 * Errors: ERR_NOTFOUND (a data file is missing, named), ERR_PARSE (malformed JSON, file:line),
 * ERR_IO (writing), ERR_NOMEM, and the index's errors for the temporary pool. */
int ver_train(const char *data_dir, const char *out_path, struct ver_train_report *rep,
              struct err *err);

/* ver_train with options (`o` may be NULL: as ver_train). */
int ver_train_ex(const char *data_dir, const char *out_path, const struct ver_train_opts *o,
                 struct ver_train_report *rep, struct err *err);

/* The fold (0 .. folds - 1) of a WiCE claim from its article title (meta.claim_title), by a fixed
 * hash: claims of one article stay together. */
int ver_train_fold(const char *article, int folds);

/* Nonzero when the claim with this id (WiCE meta.id, e.g. "dev02986") belongs to the held-out
 * split the previous trainer used (about 30% of ids, by a fixed hash; tests/bench/ver_eval.c
 * reports those claims separately to compare with it). */
int ver_train_is_heldout(const char *claim_id);

/* A copy of Citation-Integrity claim `s` without its citation markers, as the trainer reads it: a
 * bracket group holding a "<|...|>" marker goes entirely ("[<|multi_cit|>,7]"), a bare marker goes
 * alone, and the " ." left behind is closed up. The caller frees it; NULL when out of memory. */
char *ver_train_strip_markers(const char *s);

/* Nonzero when the citation of Citation-Integrity claim `s` is made together with others: its
 * marker is "<|multi_cit|>", or the bracket group holding its "<|cit|>" also holds another
 * citation ("[<|cit|>,<|other_cit|>]", "[<|cit|>,7]"). The trainer and the evaluator set
 * ver_score_claim.cocited from it, as the audit does from a claim's number of citations. */
int ver_train_cocited(const char *s);

#endif
