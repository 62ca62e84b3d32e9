/* ver_score.c - support scoring of a cited source against the claim citing it: sentence windows,
 * lexical, lexicon and agreement features, the logistic model, the best window, the parts of the
 * claim it leaves uncovered, and contradictions.
 *
 * How a source is scored:
 *   1. The claim is tokenized (corpus tokenizer: folding, stop words, stemming) into at most
 *      VER_SCORE_MAX_TERMS distinct terms, its content-word bigrams, its numbers and dates (PCRE2)
 *      and its proper names (capitalised word runs not at a sentence start). Each term gets a
 *      rarity weight from the lexicon's general-English frequency (SemCor counts; a word WordNet
 *      does not know, such as a name, counts as rare): r = 1 / (1 + 0.35 ln(1 + count)). Terms in
 *      the scope of a negation ("not", "no", "never", "n't", "without", ...: the next
 *      SC_NEG_SCOPE content words up to a comma or stop) are marked negated. The claim is cut
 *      into parts (clauses) at commas, semicolons, brackets and the words and/but/while/which/
 *      who/whereas/although; parts of one word join their neighbour. Every lexicon relation of a
 *      claim term (ver_lex.h) goes into a map from related term to claim term.
 *   2. The source is tokenized once; each token is looked up among the claim terms, else in the
 *      lexicon and the relation map, and gets its own negation mark. It is split into sentences
 *      (each line by ver_sentences(), or opts.split); a sentence of more than VER_SCORE_WIN_WORDS
 *      content words is cut into pieces of that size. Numbers, years and month names of the
 *      source are found once with PCRE2.
 *   3. Every run of 1..VER_SCORE_WIN_SENTS consecutive sentences with at most VER_SCORE_WIN_WORDS
 *      content words (a single longer piece cannot happen) is a window. Its features (enum
 *      ver_feat in ver_score.h): BM25 and IDF coverage (IDF from the source's sentences, or
 *      opts.idf), plain and weighted coverage, coverage through the lexicon (synonyms,
 *      derivations and irregular forms count fully, hyponyms fully, hypernyms half) and the share
 *      found only that way, per part coverage (the least covered part, the share of parts under
 *      half), bigrams, numbers and dates (agree: the same kind and value, scale words applied, "1.2
 *      million" = 1200000, decimals and millions within 0.5%, a qualified claim number holding
 *      the source's: "over 260,000" 263,000, "about 1,300" 1,280, "the 1990s" 1994; conflict:
 *      missing while the window has another number of that kind that cannot be true with it;
 *      plain numbers never conflict; the words of an agreeing number count as covered), names, a
 *      negation flip (a matched claim word negated on one side only), an antonym of a claim word,
 *      and the source's coverage as a whole and by its two best sentences together.
 *   4. The source is judged by its best-aligned window (ver_score_align: lexical coverage first):
 *      score = logistic(model) of that window. (Taking the window the model likes best instead
 *      lets a wrong page win through its luckiest window: measured on WiCE, AUC own vs wrong
 *      page 0.92 that way, 0.95 this way.) The dense callback, when the model weighs it, rescores
 *      the SC_DENSE_TOP best-aligned windows and the best of them by the model is taken.
 *   5. Contradicted: the best clashing window (a conflicting number or date, a plain number
 *      beside the claim number's own words with another value, a negation flip, an antonym, or a
 *      claim name the source never uses where the window names another: name_clash) has
 * lexical coverage >= the model's contradiction threshold and more than SC_CONTRA_MARGIN above
 * every window without a clash: the source talks about the same thing and says something else. The
 * clash is described ("claim says 1950, source says 1952"); of a window's several years (or numbers
 * of the kind), the one reported is the one whose neighbouring words are the claim number's
 * (pair_number).
 *   6. Missing: the claim words found nowhere in the source, and those the missing-word model
 *      (enum ver_miss_feat: in the best window? in the sentence that adds most to it? rarity,
 *      uncovered shares, the score) calls missing; a model file without one: the words matched
 *      neither in the best window nor in that sentence. Reported as claim spans (adjacent missing
 *      words joined up to a comma or other clause break, each with the function word before it,
 *      numbers and dates whole: the phrase an annotator marks). When they weigh more than
 *      SC_MISSING_WEAK of the claim (by rarity), a supported verdict becomes weak. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "ver_score_int.h"

#include "ascii.h"
#include "corpus/corpus.h"
#include "err.h"
#include "hash.h"
#include "vec.h"
#include "ver.h"
#include "ver_lex.h"

#include <math.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ver_score_feature_names[VER_SCORE_NFEAT] = {
    "bm25",         "cov_idf",      "cov",           "bigram",     "cov_w",      "cov_lex",
    "lex_syn",      "lex_hypo",     "lex_hyper",     "part_min",   "part_miss",  "num_agree",
    "num_conflict", "date_agree",   "date_conflict", "name_agree", "neg_flip",   "ant_clash",
    "doc_cov",      "doc_name",     "doc_union",     "claim_len",  "win_len",    "dense",
    "doc_len",      "doc_part_min", "doc_miss_max",  "s_cov",      "s_bm25",     "s_cov_w",
    "s_cov_lex",    "s_claim_len",  "s_doc_cov",     "s_bigram",   "s_part_min", "cocited",
};

const char *const ver_miss_feature_names[VER_MISS_NFEAT] = {
    "not_window", "not_union", "rarity", "part_uncovered", "claim_uncovered", "score",
};

const char *const ver_rank_feature_names[VER_RANK_NFEAT] = {
    "logit", "gain", "cov_lex", "doc_union", "name",
    "bm25",  "rank", "dense",   "title",     "claim_title",
};

#define SC_HASH 512        /* claim-term hash slots (power of two, > 2 * VER_SCORE_MAX_TERMS) */
#define SC_MAX_CTOK 1024   /* claim tokens kept in order (bigrams, names) */
#define SC_MAX_BIGRAMS 512 /* distinct claim bigrams */
#define SC_MAX_CNUM 32     /* claim numbers and dates */
#define SC_MAX_NAMES 16    /* claim proper names */
#define SC_NAME_TERMS 8    /* content words kept per name */
#define SC_DENSE_TOP 8     /* windows that get the dense feature */
#define SC_BM25_K1 1.2
#define SC_BM25_B 0.75
#define SC_NUM_TOL 0.005  /* relative tolerance when comparing numbers */
#define SC_REL_HASH 16384 /* related-term map slots (power of two) */
#define SC_MAX_PARTS 16   /* claim parts */
/* content words after a negation that it covers: 4 made "did not want to leave Savatage" negate
 * the band; supported WiCE pages called contradicted, 0.0348 with 4 and 0.0261 with 2 */
#define SC_NEG_SCOPE 2
#define SC_CONTRA_MARGIN 0.15
#define SC_PAIR_CLAIM 5  /* claim tokens on each side of a clashing number that pair it */
#define SC_PAIR_SOURCE 8 /* source tokens on each side of a candidate number looked at */
#define SC_PLAIN_PAIR 1.0 /* pair_affinity at which two different plain numbers clash */
#define SC_RARITY_K 0.35
#define SC_MISSING_WEAK 0.25 /* uncovered share of the claim above which supported becomes weak */

/* NK_DAY: a day of the month, a plain number 1..31 beside a month name ("May 28", "28 May",
 * "28th of May") or joined by a dash, "to" or "and" to such a day ("May 27-28") */
enum num_kind { NK_PLAIN = 0, NK_PERCENT, NK_MONEY, NK_UNIT, NK_YEAR, NK_MONTH, NK_DAY };

struct num {
    int kind;     /* enum num_kind */
    int unit;     /* NK_UNIT: index into unit_words' canonical ids; else 0 */
    double value; /* NK_MONTH: 1..12; NK_DAY: 100 * month + day ("May 28": 528) */
    size_t start; /* byte offset of the match */
    size_t end;   /* end of the number and its unit */
    int range;    /* source numbers: 1 when this one and the next form a range ("1990 to 2000") */
    int qual;     /* enum num_qual: what the words before it say of it */
};

/* A number's qualifier: the interval of values it stands for (num_interval). */
enum num_qual {
    NQ_EXACT = 0,
    NQ_APPROX, /* "about", "around", "nearly", "some", "~": within 10% (a year: within 3) */
    NQ_MIN,    /* "over", "more than", "at least", "after" (a year): this or more */
    NQ_MAX,    /* "under", "less than", "up to", "before" (a year): this or less */
    NQ_DECADE  /* "1990s": 1990 to 1999 ("1900s": to 1999) */
};

struct stok {    /* one source token */
    int cidx;    /* claim term index or -1 */
    int16_t rc;  /* claim term it is related to through the lexicon, or -1 */
    uint8_t rel; /* enum ver_lex_rel when rc >= 0 */
    uint8_t neg; /* in the scope of a negation */
    uint8_t cue; /* a negation word itself */
    uint32_t start, end;
    uint32_t neg_from; /* neg: where the negation word starts */
    int32_t lexid;     /* the term's lexicon id or -1 */
    uint64_t h;        /* FNV-1a 64 of the term */
};

struct unit {          /* a sentence or a piece of a long one */
    size_t tb, te;     /* token range [tb, te) */
    size_t bs, be;     /* byte span */
    size_t nb, ne;     /* source-number range [nb, ne) */
    uint64_t cover[2]; /* claim terms matched in it (exact or lexicon, hypernyms excluded) */
};

struct sent {
    size_t start, end;
};

struct name {
    int term[SC_NAME_TERMS];
    int n;
    size_t start, end; /* its bytes in the claim */
    int tok0;          /* its first claim token */
};

struct top {      /* a window kept for the dense pass */
    size_t a, b;  /* unit range [a, b] */
    double align; /* ver_score_align */
    double logit;
    double feat[VER_SCORE_NFEAT];
};

enum clash_kind { CK_NONE = 0, CK_NUMBER, CK_NEG_CLAIM, CK_NEG_SOURCE, CK_ANT, CK_NAME };

struct clash {     /* what clashed in a window */
    int kind;      /* enum clash_kind */
    size_t cs, ce; /* claim span */
    size_t ss, se; /* source span */
    /* CK_NUMBER: the claim number (index into cnum) and the window's source numbers [nb, ne),
     * for pair_number to choose the source number that is reported */
    int cn;
    size_t nb, ne;
};

struct relslot {
    int32_t key; /* lexicon id, -1 empty */
    int16_t c;   /* claim term */
    uint8_t rel;
};

struct ver_scorer {
    struct ver_model model;
    struct ver_score_opts opts;
    struct corpus_tok *tok;
    struct ver_lex lex;
    pcre2_code *re_num, *re_month, *re_name;
    pcre2_match_data *md;

    /* the claim */
    const char *claim_text;
    ver_score_word_cb word_cb; /* ver_score_words: called per claim word (NULL otherwise) */
    void *word_ctx;
    struct buf terms; /* distinct claim terms, back to back */
    size_t term_off[VER_SCORE_MAX_TERMS];
    size_t term_len[VER_SCORE_MAX_TERMS];
    int nterms;
    int hash[SC_HASH];     /* claim term index + 1, 0 = empty */
    int ctok[SC_MAX_CTOK]; /* claim tokens in order: term index or -1 */
    size_t ctok_start[SC_MAX_CTOK], ctok_end[SC_MAX_CTOK];
    uint8_t ctok_neg[SC_MAX_CTOK];
    size_t ctok_neg_from[SC_MAX_CTOK];
    int ctok_part[SC_MAX_CTOK];
    int nctok;
    int16_t big[VER_SCORE_MAX_TERMS * VER_SCORE_MAX_TERMS]; /* (a, b) -> bigram index or -1 */
    int big_a[SC_MAX_BIGRAMS], big_b[SC_MAX_BIGRAMS];
    int nbig;
    struct num cnum[SC_MAX_CNUM];
    uint8_t cnum_seen[SC_MAX_CNUM]; /* the claim number is said somewhere in the source */
    uint64_t cnum_bits[SC_MAX_CNUM][2]; /* the claim terms written inside each claim number */
    int ncnum;
    struct name names[SC_MAX_NAMES];
    uint8_t name_absent[SC_MAX_NAMES]; /* none of the name's words is in the source */
    int nnames;
    double idf[VER_SCORE_MAX_TERMS];
    double idf_sum;
    int df[VER_SCORE_MAX_TERMS];
    double rar[VER_SCORE_MAX_TERMS]; /* rarity weight */
    double rar_sum;
    int term_part[VER_SCORE_MAX_TERMS];
    uint8_t term_neg[VER_SCORE_MAX_TERMS];
    int term_ctok[VER_SCORE_MAX_TERMS]; /* first claim token of the term */
    int nparts;
    double part_rar[SC_MAX_PARTS];
    struct relslot rel[SC_REL_HASH];
    int nrel;
    /* negation state while tokenizing */
    int neg_left;
    uint32_t neg_cue;
    uint32_t prev_end, prev_start;
    int prev_n; /* the previous token ended in 'n' ("didn" before "t") */
    const char *tok_text;

    /* the source (scratch, grown as needed, kept between calls; the claim-independent part is
     * reused when the next call scores the same text: the same length and FNV-1a 64) */
    int src_valid;
    size_t src_len;
    uint64_t src_hash;
    uint64_t term_hash[VER_SCORE_MAX_TERMS]; /* FNV-1a 64 of each claim term */
    size_t context_len; /* the claim's first bytes that need not be covered (the call's) */
    int cocited;        /* the call's ver_score_claim.cocited (VER_F_COCITED) */
    struct stok *tok_arr;
    size_t ntok, captok;
    struct sent *sents;
    size_t nsents, capsents;
    struct unit *units;
    size_t nunits, capunits;
    struct num *snum;
    size_t nsnum, capsnum;

    /* per window */
    unsigned stamp;
    unsigned term_stamp[VER_SCORE_MAX_TERMS];
    int tf[VER_SCORE_MAX_TERMS];
    unsigned rel_stamp[VER_SCORE_MAX_TERMS];
    uint8_t rel_best[VER_SCORE_MAX_TERMS]; /* best relation seen for the term in the window */
    uint8_t occ[VER_SCORE_MAX_TERMS];      /* bit 0: a plain occurrence, 1: a negated one */
    size_t occ_at[VER_SCORE_MAX_TERMS];    /* a token index of the term (for clash spans) */
    size_t ant_at[VER_SCORE_MAX_TERMS];    /* token index of an antonym */
    unsigned ant_stamp[VER_SCORE_MAX_TERMS];
    unsigned big_stamp[SC_MAX_BIGRAMS];
    struct top top[SC_DENSE_TOP];
    int ntop;
    const char *src;        /* the source text of the call in progress (borrowed) */
    struct clash win_clash; /* the last window's clash */
    double win_clash_cov;   /* its coverage counting the clashing claim word as addressed */
    int oom;                /* set by callbacks when growing an array failed */
};

/* ---------------------------------------------------------------- regexes */

/* Numbers: an optional currency sign, digits (thousands commas) or a number word from two to
 * ninety-nine ("one" is left out: "one of", "no one") or an ordinal from "first" to "twelfth",
 * decimals, an ordinal or plural suffix,
 * and the word after (a scale, a unit or %). Caseless. */
static const char re_num_src[] =
    "(?<![\\p{L}\\p{N}.,])([$\\x{20AC}\\x{A3}\\x{A5}]|US\\$)?\\s?"
    "(\\d{1,3}(?:,\\d{3})+|\\d+|"
    "(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    "(?:-(?:one|two|three|four|five|six|seven|eight|nine))?(?![\\p{L}-])|"
    "(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|first|second|third|fourth|fifth|sixth|seventh|eighth|"
    "ninth|tenth|eleventh|twelfth)(?![\\p{L}-]))(\\.\\d+)?"
    "(?:(st|nd|rd|th|s)(?![\\p{L}\\p{N}]))?"
    "(?:\\s?(%|per\\s?cent(?!\\p{L})|\\p{L}+))?";

static const char re_month_src[] =
    "(?<!\\p{L})(January|February|March|April|June|July|August|September|October|November|"
    "December|May(?=\\s+\\d)|(?<=\\d\\s)May)(?!\\p{L})";

/* A run of capitalised words, joined by spaces and a few lower-case particles. */
static const char re_name_src[] =
    "(?<![\\p{L}\\p{N}])\\p{Lu}[\\p{L}\\p{N}'\\x{2019}.&-]*"
    "(?:\\s(?:(?:of|the|de|del|la|le|van|von|der|den|du|da|di|y|and|for)\\s)*"
    "\\p{Lu}[\\p{L}\\p{N}'\\x{2019}.&-]*)*";

static const char *const month_names[12] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};

/* Unit words after a number. Words in one group share a canonical id (the first word's index). */
struct unit_word {
    const char *w;
    int kind; /* NK_PERCENT, NK_MONEY or NK_UNIT */
    int id;   /* canonical id */
};
static const struct unit_word unit_words[] = {
    {"%", NK_PERCENT, 0},
    {"percent", NK_PERCENT, 0},
    {"per cent", NK_PERCENT, 0},
    {"percentage", NK_PERCENT, 0},
    {"dollars", NK_MONEY, 0},
    {"dollar", NK_MONEY, 0},
    {"usd", NK_MONEY, 0},
    {"euros", NK_MONEY, 0},
    {"euro", NK_MONEY, 0},
    {"eur", NK_MONEY, 0},
    {"pounds", NK_MONEY, 0},
    {"gbp", NK_MONEY, 0},
    {"km", NK_UNIT, 1},
    {"kilometres", NK_UNIT, 1},
    {"kilometers", NK_UNIT, 1},
    {"kilometre", NK_UNIT, 1},
    {"kilometer", NK_UNIT, 1},
    {"miles", NK_UNIT, 2},
    {"mile", NK_UNIT, 2},
    {"mi", NK_UNIT, 2},
    {"m", NK_UNIT, 3},
    {"metres", NK_UNIT, 3},
    {"meters", NK_UNIT, 3},
    {"metre", NK_UNIT, 3},
    {"meter", NK_UNIT, 3},
    {"ft", NK_UNIT, 4},
    {"feet", NK_UNIT, 4},
    {"foot", NK_UNIT, 4},
    {"kg", NK_UNIT, 5},
    {"kilograms", NK_UNIT, 5},
    {"kilogram", NK_UNIT, 5},
    {"tonnes", NK_UNIT, 6},
    {"tons", NK_UNIT, 6},
    {"tonne", NK_UNIT, 6},
    {"ton", NK_UNIT, 6},
    {"lb", NK_UNIT, 7},
    {"lbs", NK_UNIT, 7},
    {"cm", NK_UNIT, 8},
    {"mm", NK_UNIT, 9},
    {"acres", NK_UNIT, 10},
    {"acre", NK_UNIT, 10},
    {"hectares", NK_UNIT, 11},
    {"hectare", NK_UNIT, 11},
    {"ha", NK_UNIT, 11},
    {"mph", NK_UNIT, 12},
    {"degrees", NK_UNIT, 13},
    {"years", NK_UNIT, 14},
    {"year", NK_UNIT, 14},
    {"months", NK_UNIT, 15},
    {"month", NK_UNIT, 15},
    {"weeks", NK_UNIT, 16},
    {"week", NK_UNIT, 16},
    {"days", NK_UNIT, 17},
    {"day", NK_UNIT, 17},
    {"hours", NK_UNIT, 18},
    {"hour", NK_UNIT, 18},
    {"minutes", NK_UNIT, 19},
    {"minute", NK_UNIT, 19},
    {"seconds", NK_UNIT, 20},
    {"people", NK_UNIT, 21},
    {"persons", NK_UNIT, 21},
    {"votes", NK_UNIT, 22},
    {"vote", NK_UNIT, 22},
    {"goals", NK_UNIT, 23},
    {"goal", NK_UNIT, 23},
    {"points", NK_UNIT, 24},
    {"games", NK_UNIT, 25},
    {"matches", NK_UNIT, 25},
    {"episodes", NK_UNIT, 26},
    {"episode", NK_UNIT, 26},
    {"seasons", NK_UNIT, 27},
    {"season", NK_UNIT, 27},
    {"times", NK_UNIT, 28},
    {"copies", NK_UNIT, 29},
    {"members", NK_UNIT, 30},
    {"patients", NK_UNIT, 31},
    {"participants", NK_UNIT, 31},
    {"subjects", NK_UNIT, 31},
    {"children", NK_UNIT, 32},
    {"students", NK_UNIT, 33},
    {"employees", NK_UNIT, 34},
    {"cases", NK_UNIT, 35},
    {"deaths", NK_UNIT, 36},
    {"mg", NK_UNIT, 37},
    {"ml", NK_UNIT, 38},
    {"kb", NK_UNIT, 39},
    {"mb", NK_UNIT, 40},
    {"gb", NK_UNIT, 41},
};

#define UNIT_FIRST_COUNTED 14 /* ids from here on count things or time spans, not measures */
#define UNIT_ORDINAL 1000     /* the unit of a plain ordinal ("second", "2nd"): never a count */

static const struct {
    const char *w;
    double mul;
} scale_words[] = {
    {"thousand", 1e3}, {"million", 1e6}, {"billion", 1e9}, {"trillion", 1e12},
    {"bn", 1e9},       {"mn", 1e6},      {"k", 1e3},
};

static int compile_re(pcre2_code **out, const char *src, uint32_t flags, const char *what,
                      struct err *err)
{
    int ec = 0;
    PCRE2_SIZE off = 0;
    *out = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
                         flags | PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &ec, &off, NULL);
    if (!*out) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return err_set(err, ERR_INTERNAL, "%s regex at %zu: %s", what, (size_t)off, (char *)msg);
    }
    (void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE); /* optional: the interpreter works too */
    return ERR_OK;
}

/* ---------------------------------------------------------------- handle */

/* ---------------------------------------------------------------- handle */

int ver_scorer_new_model(struct ver_scorer **out, const struct ver_model *m,
                         const struct ver_score_opts *opts, struct err *err)
{
    int rc;
    *out = NULL;
    struct ver_scorer *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, ERR_NOMEM, "ver_scorer_new");
    if (opts) s->opts = *opts;
    s->model = *m;
    if ((rc = ver_lex_builtin(&s->lex, err))) goto fail;
    if ((rc = corpus_tok_new(&s->tok, 0, err))) goto fail;
    if ((rc = compile_re(&s->re_num, re_num_src, PCRE2_CASELESS, "number", err))) goto fail;
    if ((rc = compile_re(&s->re_month, re_month_src, 0, "month", err))) goto fail;
    if ((rc = compile_re(&s->re_name, re_name_src, 0, "name", err))) goto fail;
    s->md = pcre2_match_data_create(8, NULL);
    if (!s->md) {
        rc = err_set(err, ERR_NOMEM, "ver_scorer_new: match data");
        goto fail;
    }
    *out = s;
    return ERR_OK;
fail:
    ver_scorer_free(s);
    return rc;
}

int ver_scorer_new(struct ver_scorer **out, const char *model_path,
                   const struct ver_score_opts *opts, struct err *err)
{
    struct ver_model m;
    int rc;
    *out = NULL;
    if (model_path)
        rc = ver_model_load(&m, model_path, err);
    else {
        const char *t = ver_score_builtin_model();
        rc = ver_model_parse(&m, t, strlen(t), "built-in model", err);
    }
    if (rc) return rc;
    return ver_scorer_new_model(out, &m, opts, err);
}

void ver_scorer_free(struct ver_scorer *s)
{
    if (!s) return;
    corpus_tok_free(s->tok);
    pcre2_code_free(s->re_num);
    pcre2_code_free(s->re_month);
    pcre2_code_free(s->re_name);
    pcre2_match_data_free(s->md);
    buf_cleanup(&s->terms);
    free(s->tok_arr);
    free(s->sents);
    free(s->units);
    free(s->snum);
    free(s);
}

const char *ver_verdict_name(int verdict)
{
    switch (verdict) {
    case VER_SUPPORTED:
        return "supported";
    case VER_WEAK:
        return "weak";
    case VER_CONTRADICTED:
        return "contradicted";
    default:
        return "unsupported";
    }
}

int ver_scorer_verdict(const struct ver_scorer *s, double score)
{
    if (score >= s->model.t_supported) return VER_SUPPORTED;
    if (score >= s->model.t_weak) return VER_WEAK;
    return VER_UNSUPPORTED;
}

void ver_scorer_thresholds(const struct ver_scorer *s, double *t_supported, double *t_weak)
{
    if (t_supported) *t_supported = s->model.t_supported;
    if (t_weak) *t_weak = s->model.t_weak;
}

void ver_scorer_calibration(const struct ver_scorer *s, double *target_precision,
                            double *cv_precision, double *cv_recall)
{
    if (target_precision) *target_precision = s->model.cal_target;
    if (cv_precision) *cv_precision = s->model.cal_precision;
    if (cv_recall) *cv_recall = s->model.cal_recall;
}

double ver_scorer_rank(const struct ver_scorer *s, const double *x)
{
    return 1.0 / (1.0 + exp(-ver_model_rank_logit(&s->model, x)));
}

double ver_scorer_suggest_floor(const struct ver_scorer *s)
{
    return s->model.suggest_floor;
}

double ver_score_logit(double p)
{
    if (p < 1e-6) p = 1e-6;
    if (p > 1 - 1e-6) p = 1 - 1e-6;
    return log(p / (1 - p));
}

/* A new window/unit mark for the per-window stamps (0 is never a live mark). */
static void next_stamp(struct ver_scorer *s)
{
    if (++s->stamp == 0) {
        memset(s->term_stamp, 0, sizeof s->term_stamp);
        memset(s->rel_stamp, 0, sizeof s->rel_stamp);
        memset(s->ant_stamp, 0, sizeof s->ant_stamp);
        memset(s->big_stamp, 0, sizeof s->big_stamp);
        s->stamp = 1;
    }
}

/* ---------------------------------------------------------------- claim terms */

/* Index of the claim term `t`, or -1. */
static int term_find(const struct ver_scorer *s, const char *t, size_t n)
{
    uint32_t h = (uint32_t)hash_fnv1a64(t, n) & (SC_HASH - 1);
    while (s->hash[h]) {
        int i = s->hash[h] - 1;
        if (s->term_len[i] == n && memcmp(s->terms.data + s->term_off[i], t, n) == 0) return i;
        h = (h + 1) & (SC_HASH - 1);
    }
    return -1;
}

static int is_punct_gap(const char *text, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++) {
        char c = text[i];
        if (c == ',' || c == ';' || c == ':' || c == '.' || c == '!' || c == '?' || c == '(' ||
            c == ')' || c == '\n')
            return 1;
    }
    return 0;
}

/* Negation words (as the tokenizer makes them): "not", "never", ..., any word ending in "n't". */
static int is_negation(const char *t, size_t n)
{
    static const char *const w[] = {"not",  "no",     "never",  "nor",     "neither", "none",
                                    "noth", "nobodi", "nowher", "without", "cannot",  "lack",
                                    "fail", "unabl",  "absenc", "absent"};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (strlen(w[i]) == n && !memcmp(w[i], t, n)) return 1;
    /* the tokenizer keeps "didn't", "can't", "won't" as one word */
    if (n >= 3 && !memcmp(t + n - 3, "n't", 3)) return 1;
    if (n >= 5 && !memcmp(t + n - 5, "n\xe2\x80\x99t", 5)) return 1;
    return 0;
}

/* Negation marking for the token [start, end) with term t: returns the token's mark and updates
 * the scorer's scope state; *cue says whether the token itself is a negation word. */
static int negation_step(struct ver_scorer *s, const char *t, size_t n, size_t start, size_t end,
                         int *cue)
{
    if (s->prev_end && is_punct_gap(s->tok_text, s->prev_end, start)) s->neg_left = 0;
    int c = is_negation(t, n) ||
            (n == 1 && t[0] == 't' && s->prev_n && start > 0 && s->prev_end + 1 == start &&
             (s->tok_text[start - 1] == '\'' || (unsigned char)s->tok_text[start - 1] == 0x99));
    int mark = 0;
    if (c) {
        s->neg_left = SC_NEG_SCOPE;
        s->neg_cue = (uint32_t)(n == 1 && t[0] == 't' ? s->prev_start : start);
    } else if (s->neg_left > 0) {
        mark = 1;
        s->neg_left--;
    }
    s->prev_end = (uint32_t)end;
    s->prev_start = (uint32_t)start;
    s->prev_n = n > 0 && t[n - 1] == 'n';
    *cue = c;
    return mark;
}

static int claim_tok_cb(void *ctx, const char *term, size_t len, int pos, size_t start, size_t end)
{
    (void)pos;
    struct ver_scorer *s = ctx;
    int cue = 0, neg = negation_step(s, term, len, start, end, &cue);
    if (cue) return 0; /* negation words are not terms to find */
    int i = term_find(s, term, len);
    if (i < 0 && s->nterms < VER_SCORE_MAX_TERMS) {
        if (buf_append(&s->terms, term, len) != 0) {
            s->oom = 1;
            return 1;
        }
        i = s->nterms++;
        s->term_off[i] = s->terms.len - len;
        s->term_len[i] = len;
        uint32_t h = (uint32_t)hash_fnv1a64(term, len) & (SC_HASH - 1);
        while (s->hash[h])
            h = (h + 1) & (SC_HASH - 1);
        s->hash[h] = i + 1;
        s->term_neg[i] = (uint8_t)neg;
        s->term_ctok[i] = s->nctok < SC_MAX_CTOK ? s->nctok : -1;
        s->term_hash[i] = hash_fnv1a64(term, len);
    }
    if (s->nctok < SC_MAX_CTOK) {
        s->ctok[s->nctok] = i;
        s->ctok_start[s->nctok] = start;
        s->ctok_end[s->nctok] = end;
        s->ctok_neg[s->nctok] = (uint8_t)neg;
        s->ctok_neg_from[s->nctok] = s->neg_cue;
        s->nctok++;
    }
    return 0;
}

/* Is one of the clause words in text[a, b) (between two claim content words)? */
static int clause_gap(const char *text, size_t a, size_t b)
{
    static const char *const w[] = {"and",     "but",      "while", "which", "who",
                                    "whereas", "although", "whose", "where", "when"};
    if (is_punct_gap(text, a, b)) return 1;
    for (size_t i = a; i < b; i++) {
        if (i > a && text[i - 1] != ' ') continue;
        for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
            size_t n = strlen(w[k]);
            if (i + n <= b && !memcmp(text + i, w[k], n) && (i + n == b || text[i + n] == ' '))
                return 1;
        }
    }
    return 0;
}

/* Parts of the claim: clause boundaries between content words; a part of one term joins the one
 * before (or after, at the start). */
static void claim_parts(struct ver_scorer *s, const char *claim)
{
    int part = 0, terms_in_part = 0;
    for (int i = 0; i < s->nctok; i++) {
        if (i > 0 && terms_in_part >= 2 && part + 1 < SC_MAX_PARTS &&
            clause_gap(claim, s->ctok_end[i - 1], s->ctok_start[i])) {
            part++;
            terms_in_part = 0;
        }
        s->ctok_part[i] = part;
        terms_in_part++;
    }
    if (part > 0 && terms_in_part < 2) /* a short last part joins the one before */
        for (int i = s->nctok - 1; i >= 0 && s->ctok_part[i] == part; i--)
            s->ctok_part[i] = part - 1;
    s->nparts = s->nctok ? (terms_in_part < 2 && part > 0 ? part : part + 1) : 0;
    for (int c = 0; c < s->nterms; c++)
        s->term_part[c] = s->term_ctok[c] >= 0 ? s->ctok_part[s->term_ctok[c]] : 0;
    memset(s->part_rar, 0, sizeof s->part_rar);
    for (int c = 0; c < s->nterms; c++)
        s->part_rar[s->term_part[c]] += s->rar[c];
}

/* Rarity of each claim term and the related-term map from the lexicon. */
static void claim_lexicon(struct ver_scorer *s)
{
    for (int i = 0; i < SC_REL_HASH; i++)
        s->rel[i].key = -1;
    s->nrel = 0;
    s->rar_sum = 0;
    for (int c = 0; c < s->nterms; c++) {
        const char *t = s->terms.data + s->term_off[c];
        int id = ver_lex_find(&s->lex, t, s->term_len[c]);
        double cnt = id >= 0 ? ver_lex_semcor(&s->lex, id) : 0;
        s->rar[c] = 1.0 / (1.0 + SC_RARITY_K * log1p(cnt));
        s->rar_sum += s->rar[c];
        if (id < 0) continue;
        const uint32_t *rels;
        int n = ver_lex_rels(&s->lex, id, &rels);
        for (int k = 0; k < n && s->nrel < SC_REL_HASH * 3 / 4; k++) {
            int32_t key = (int32_t)(rels[k] >> 3);
            int rel = (int)(rels[k] & 7);
            uint32_t h = (uint32_t)((uint64_t)key * 2654435761u) & (SC_REL_HASH - 1);
            while (s->rel[h].key >= 0 && s->rel[h].key != key)
                h = (h + 1) & (SC_REL_HASH - 1);
            if (s->rel[h].key == key) { /* keep the closer relation (antonyms last) */
                if (s->rel[h].rel == VER_LEX_ANT && rel != VER_LEX_ANT) {
                    s->rel[h].c = (int16_t)c;
                    s->rel[h].rel = (uint8_t)rel;
                }
                continue;
            }
            s->rel[h].key = key;
            s->rel[h].c = (int16_t)c;
            s->rel[h].rel = (uint8_t)rel;
            s->nrel++;
        }
    }
}

static const struct relslot *rel_find(const struct ver_scorer *s, int32_t key)
{
    uint32_t h = (uint32_t)((uint64_t)key * 2654435761u) & (SC_REL_HASH - 1);
    while (s->rel[h].key >= 0) {
        if (s->rel[h].key == key) return &s->rel[h];
        h = (h + 1) & (SC_REL_HASH - 1);
    }
    return NULL;
}

/* ---------------------------------------------------------------- numbers */

static const char *const ordinal_words[12] = {"first", "second", "third",    "fourth",
                                              "fifth", "sixth",  "seventh",  "eighth",
                                              "ninth", "tenth",  "eleventh", "twelfth"};

static int word_is_ordinal(const char *p, size_t n)
{
    for (int i = 0; i < 12; i++)
        if (ascii_eq_word(p, n, ordinal_words[i])) return 1;
    return 0;
}

/* The value of a number word as re_num matches it ("twelve", "Forty-two"), or -1. */
static double word_number(const char *p, size_t n)
{
    static const char *const small[] = {"zero",    "one",     "two",       "three",    "four",
                                        "five",    "six",     "seven",     "eight",    "nine",
                                        "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                        "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
    static const char *const tens[] = {"twenty", "thirty",  "forty",  "fifty",
                                       "sixty",  "seventy", "eighty", "ninety"};
    for (int i = 0; i < 12; i++)
        if (ascii_eq_word(p, n, ordinal_words[i])) return i + 1;
    const char *dash = memchr(p, '-', n);
    size_t head = dash ? (size_t)(dash - p) : n;
    for (int i = 0; i < 20; i++)
        if (!dash && ascii_eq_word(p, n, small[i])) return i;
    for (int i = 0; i < 8; i++)
        if (ascii_eq_word(p, head, tens[i])) {
            if (!dash) return 20 + 10 * i;
            for (int k = 1; k < 10; k++)
                if (ascii_eq_word(dash + 1, n - head - 1, small[k])) return 20 + 10 * i + k;
        }
    return -1;
}

/* Parse digits with thousands commas and an optional ".ddd" into a double (no locale); a number
 * word by word_number. */
static double parse_number(const char *p, size_t n, const char *dec, size_t dn)
{
    if (n && !ascii_isdigit((unsigned char)p[0])) {
        double w = word_number(p, n);
        return w < 0 ? 0 : w;
    }
    double v = 0;
    for (size_t i = 0; i < n; i++)
        if (ascii_isdigit((unsigned char)p[i])) v = v * 10 + (p[i] - '0');
    double f = 0.1;
    for (size_t i = 1; i < dn; i++, f *= 0.1)
        v += (dec[i] - '0') * f;
    return v;
}

/* Turn one match of re_num into a struct num. */
static void num_from_match(const char *text, const PCRE2_SIZE *ov, int nmatch, struct num *out)
{
#define GRP(g) (nmatch > (g) && ov[2 * (g)] != PCRE2_UNSET && ov[2 * (g) + 1] > ov[2 * (g)])
#define GP(g) (text + ov[2 * (g)])
#define GL(g) ((size_t)(ov[2 * (g) + 1] - ov[2 * (g)]))
    int has_cur = GRP(1), has_dec = GRP(3), has_suf = GRP(4), has_word = GRP(5);
    const char *ip = GP(2);
    size_t il = GL(2);
    double v = parse_number(ip, il, has_dec ? GP(3) : NULL, has_dec ? GL(3) : 0);
    int kind = has_cur ? NK_MONEY : NK_PLAIN, unit = 0;
    if (has_word) {
        const char *w = GP(5);
        size_t wl = GL(5);
        int hit = 0;
        for (size_t i = 0; i < sizeof scale_words / sizeof scale_words[0]; i++)
            if (ascii_eq_word(w, wl, scale_words[i].w)) {
                v *= scale_words[i].mul;
                hit = 1;
                break;
            }
        if (!hit) {
            if (wl >= 7 && (w[0] == 'p' || w[0] == 'P')) {
                /* "per cent" / "percent" spelled with a space: normalise by dropping spaces */
                char tmp[16];
                size_t k = 0;
                for (size_t i = 0; i < wl && k < sizeof tmp - 1; i++)
                    if (w[i] != ' ') tmp[k++] = w[i];
                if (ascii_eq_word(tmp, k, "percent")) {
                    kind = NK_PERCENT;
                    hit = 1;
                }
            }
        }
        if (!hit)
            for (size_t i = 0; i < sizeof unit_words / sizeof unit_words[0]; i++)
                if (ascii_eq_word(w, wl, unit_words[i].w)) {
                    if (kind != NK_MONEY || unit_words[i].kind == NK_MONEY) {
                        kind = unit_words[i].kind;
                        unit = unit_words[i].kind == NK_UNIT ? unit_words[i].id : 0;
                    }
                    break;
                }
    }
    /* a lone 4-digit number from 1000 to 2100 is a year ("1990s" too), also before a counted
     * noun ("the 2019 season", "2010 census"), but not before a measure ("1500 km") */
    if ((kind == NK_PLAIN || (kind == NK_UNIT && unit >= UNIT_FIRST_COUNTED)) && !has_cur &&
        !has_dec && il == 4 && v >= 1000 && v <= 2100 &&
        (!has_suf || (GL(4) == 1 && (GP(4)[0] == 's' || GP(4)[0] == 'S')))) {
        kind = NK_YEAR;
        unit = 0;
    }
    /* an ordinal ("second", "2nd") ranks, it does not count: "its second season" is not "two
     * seasons"; it compares with ordinals only */
    int ordinal = !has_cur && !has_dec && (word_is_ordinal(ip, il) || (has_suf && GL(4) == 2));
    if (ordinal && (kind == NK_PLAIN || kind == NK_UNIT)) {
        kind = NK_PLAIN;
        unit = UNIT_ORDINAL;
    }
#undef GRP
#undef GP
#undef GL
    out->kind = kind;
    out->unit = unit;
    out->value = v;
    out->range = 0;
    out->qual = kind == NK_YEAR && has_suf ? NQ_DECADE : NQ_EXACT;
    out->start = ov[0];
    /* the end: with the unit word when it is one, else after the digits and suffix */
    out->end = (unit && unit != UNIT_ORDINAL) || kind == NK_PERCENT ||
                       (kind == NK_MONEY && has_word && !has_cur)
                   ? ov[1]
                   : (size_t)(ov[2 * 2 + 1]);
    if (has_dec && ov[2 * 3 + 1] > out->end) out->end = ov[2 * 3 + 1];
    if (has_suf && ov[2 * 4 + 1] > out->end) out->end = ov[2 * 4 + 1];
}

static int num_cmp(const void *a, const void *b)
{
    const struct num *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Ranges among the source numbers: two of the same kind joined by a dash, "to", "and" ("between
 * 1990 and 2000"), "until" or "through" (a claim number inside one agrees with it). */
/* Numbers x and then y are joined as a range: y starts at most 10 bytes after x ends, and the
 * bytes between are a dash, "to", "and", "until" or "through", with spaces around. */
static int range_joined(const char *text, const struct num *x, const struct num *y)
{
    static const char *const joins[] = {"-",   "\xe2\x80\x93", "\xe2\x80\x94", "to",
                                        "and", "until",        "through"};
    if (y->start < x->end || y->start - x->end > 10) return 0;
    size_t a = x->end, b = y->start;
    while (a < b && text[a] == ' ')
        a++;
    while (b > a && text[b - 1] == ' ')
        b--;
    for (size_t k = 0; k < sizeof joins / sizeof joins[0]; k++)
        if (b - a == strlen(joins[k]) && !memcmp(text + a, joins[k], b - a)) return 1;
    return 0;
}

static void mark_ranges(struct ver_scorer *s, const char *text)
{
    for (size_t i = 0; i < s->nsnum; i++) {
        struct num *x = &s->snum[i];
        x->range = 0;
        if (i + 1 >= s->nsnum) break;
        const struct num *y = &s->snum[i + 1];
        if (y->kind == x->kind && y->unit == x->unit && range_joined(text, x, y)) x->range = 1;
    }
}

/* A plain number that can be a day of the month: 1..31 written as one or two digits, bare or
 * with st/nd/rd/th ("28", "28th"; not "28s", "28.5" or "028"). */
static int day_like(const char *text, const struct num *x)
{
    if (x->kind != NK_PLAIN || x->value < 1 || x->value > 31) return 0;
    size_t n = 0;
    while (x->start + n < x->end && ascii_isdigit((unsigned char)text[x->start + n]))
        n++;
    if (n == 0 || n > 2 || (n == 2 && text[x->start] == '0')) return 0;
    size_t rest = x->end - x->start - n;
    if (rest == 0) return 1;
    if (rest != 2) return 0;
    const char *q = text + x->start + n;
    return ascii_eq_word(q, 2, "st") || ascii_eq_word(q, 2, "nd") || ascii_eq_word(q, 2, "rd") ||
           ascii_eq_word(q, 2, "th");
}

/* Bytes [a, b) hold only spaces (at least one), or " of " ("28th of May"). */
static int day_gap(const char *text, size_t a, size_t b, int of_allowed)
{
    if (b <= a) return 0;
    size_t i = a;
    while (i < b && text[i] == ' ')
        i++;
    if (i == b) return 1;
    if (!of_allowed || i == a || b - i < 3 || memcmp(text + i, "of", 2) || text[i + 2] != ' ')
        return 0;
    for (i += 2; i < b; i++)
        if (text[i] != ' ') return 0;
    return 1;
}

/* Days of the month among numbers v[order[0..n)] (sorted by start): a day-like plain number right
 * after a month name ("May 28") or right before one ("28 May", "28th of May") becomes NK_DAY, and
 * so does a day-like number joined to a day as a range, in either direction ("May 27-28",
 * "27-28 May"); its value takes the month in (100 * month + day), so "May 27" does not agree
 * with "27 June". order NULL: v itself is sorted. */
static void mark_days(const char *text, struct num *v, size_t n, const size_t *order)
{
#define AT(i) (&v[order ? order[i] : (i)])
    for (size_t i = 0; i < n; i++) {
        struct num *x = AT(i);
        if (!day_like(text, x)) continue;
        const struct num *p = i > 0 ? AT(i - 1) : NULL, *q = i + 1 < n ? AT(i + 1) : NULL;
        const struct num *m = NULL;
        if (p && p->kind == NK_MONTH && day_gap(text, p->end, x->start, 0))
            m = p;
        else if (q && q->kind == NK_MONTH && day_gap(text, x->end, q->start, 1))
            m = q;
        if (m) {
            x->kind = NK_DAY;
            x->unit = 0; /* "28th May": no longer an ordinal */
            x->value += 100 * m->value;
        }
    }
    for (size_t i = 0; i + 1 < n; i++) { /* "May 27-28": forward */
        struct num *x = AT(i), *y = AT(i + 1);
        if (x->kind == NK_DAY && day_like(text, y) && range_joined(text, x, y)) {
            y->kind = NK_DAY;
            y->unit = 0;
            y->value += 100 * floor(x->value / 100);
        }
    }
    for (size_t i = n; i-- > 1;) { /* "27-28 May": backward */
        struct num *x = AT(i - 1), *y = AT(i);
        if (y->kind == NK_DAY && day_like(text, x) && range_joined(text, x, y)) {
            x->kind = NK_DAY;
            x->unit = 0;
            x->value += 100 * floor(y->value / 100);
        }
    }
#undef AT
}

/* The word of text that ends at or before byte `at` (spaces skipped): *ws its start; its length,
 * 0 when there is none. Letters and a trailing full stop ("c.") make a word. */
static size_t word_before(const char *text, size_t at, size_t *ws)
{
    size_t e = at;
    while (e > 0 && text[e - 1] == ' ')
        e--;
    size_t b = e;
    if (b > 0 && text[b - 1] == '.') b--;
    while (b > 0 && ascii_isalpha((unsigned char)text[b - 1]))
        b--;
    *ws = b;
    return b < e && ascii_isalpha((unsigned char)text[b]) ? e - b : 0;
}

/* What the one or two words before a number at byte `start` say of it ("more than 260,000",
 * "about 1,300", "~40", "before 1950"), as enum num_qual. */
static int num_qualifier(const char *text, size_t start, int kind)
{
    static const struct {
        const char *w2, *w1; /* w2 NULL: one word */
        int q;
        int years; /* 0: not for a year, 1: for a year too, 2: for a year only */
    } quals[] = {
        {NULL, "about", NQ_APPROX, 1},
        {NULL, "around", NQ_APPROX, 1},
        {NULL, "approximately", NQ_APPROX, 0},
        {NULL, "approx.", NQ_APPROX, 0},
        {NULL, "roughly", NQ_APPROX, 0},
        {NULL, "nearly", NQ_APPROX, 0},
        {NULL, "almost", NQ_APPROX, 0},
        {NULL, "some", NQ_APPROX, 0},
        {NULL, "circa", NQ_APPROX, 1},
        {NULL, "c.", NQ_APPROX, 1},
        {NULL, "ca.", NQ_APPROX, 1},
        {NULL, "estimated", NQ_APPROX, 0},
        {"close", "to", NQ_APPROX, 0},
        {NULL, "over", NQ_MIN, 0},
        {NULL, "above", NQ_MIN, 0},
        {NULL, "exceeding", NQ_MIN, 0},
        {"more", "than", NQ_MIN, 0},
        {"greater", "than", NQ_MIN, 0},
        {"higher", "than", NQ_MIN, 0},
        {"at", "least", NQ_MIN, 0},
        {"upwards", "of", NQ_MIN, 0},
        {NULL, "under", NQ_MAX, 0},
        {NULL, "below", NQ_MAX, 0},
        {"less", "than", NQ_MAX, 0},
        {"fewer", "than", NQ_MAX, 0},
        {"lower", "than", NQ_MAX, 0},
        {"at", "most", NQ_MAX, 0},
        {"up", "to", NQ_MAX, 0},
        {NULL, "before", NQ_MAX, 2},
        {NULL, "after", NQ_MIN, 2},
    };
    if (kind == NK_MONTH) return NQ_EXACT;
    size_t a = start;
    while (a > 0 && text[a - 1] == ' ')
        a--;
    if (a > 0 && text[a - 1] == '~') return NQ_APPROX;
    size_t s1, s2;
    size_t n1 = word_before(text, start, &s1);
    if (!n1) return NQ_EXACT;
    size_t n2 = word_before(text, s1, &s2);
    for (size_t i = 0; i < sizeof quals / sizeof quals[0]; i++) {
        if (kind == NK_YEAR ? quals[i].years == 0 : quals[i].years == 2) continue;
        if (ascii_eq_word(text + s1, n1, quals[i].w1) &&
            (!quals[i].w2 || (n2 && ascii_eq_word(text + s2, n2, quals[i].w2))))
            return quals[i].q;
    }
    return NQ_EXACT;
}

/* Find the numbers and month names of text[0, len): into s->cnum (claim, capped) or s->snum. */
static int find_numbers(struct ver_scorer *s, const char *text, size_t len, int claim)
{
    for (int pass = 0; pass < 2; pass++) {
        pcre2_code *re = pass == 0 ? s->re_num : s->re_month;
        PCRE2_SIZE at = 0;
        while (at < len) {
            int n = pcre2_match(re, (PCRE2_SPTR)text, len, at, 0, s->md, NULL);
            if (n < 0) break; /* no match (or a matching error, e.g. limits: treat as none) */
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
            struct num x;
            if (pass == 0) {
                num_from_match(text, ov, n, &x);
                if (x.qual == NQ_EXACT) x.qual = num_qualifier(text, x.start, x.kind);
            } else {
                x.kind = NK_MONTH;
                x.unit = 0;
                x.value = 0;
                x.range = 0;
                x.qual = NQ_EXACT;
                x.start = ov[0];
                x.end = ov[1];
                for (int m = 0; m < 12; m++)
                    if (ov[1] - ov[0] == strlen(month_names[m]) &&
                        memcmp(text + ov[0], month_names[m], ov[1] - ov[0]) == 0)
                        x.value = m + 1;
            }
            if (claim) {
                if (s->ncnum < SC_MAX_CNUM) s->cnum[s->ncnum++] = x;
            } else {
                if (vec_grow((void **)&s->snum, &s->capsnum, s->nsnum + 1, sizeof *s->snum)) return -1;
                s->snum[s->nsnum++] = x;
            }
            at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
        }
    }
    if (!claim && s->nsnum > 1) qsort(s->snum, s->nsnum, sizeof *s->snum, num_cmp);
    if (claim) { /* the claim's numbers stay in the order found; days need them by position */
        size_t order[SC_MAX_CNUM];
        for (int i = 0; i < s->ncnum; i++) {
            int j = i;
            while (j > 0 && s->cnum[order[j - 1]].start > s->cnum[i].start) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = (size_t)i;
        }
        mark_days(text, s->cnum, (size_t)s->ncnum, order);
    } else {
        mark_days(text, s->snum, s->nsnum, NULL);
        mark_ranges(s, text);
    }
    return 0;
}

static int is_date(int kind)
{
    return kind == NK_YEAR || kind == NK_MONTH || kind == NK_DAY;
}

/* The values number a stands for, [*lo, *hi], by its qualifier (months and days: exact). */
static void num_interval(const struct num *a, double *lo, double *hi)
{
    double v = a->value;
    *lo = *hi = v;
    if (a->kind == NK_MONTH || a->kind == NK_DAY) return;
    switch (a->qual) {
    case NQ_APPROX: {
        double d = a->kind == NK_YEAR ? 3 : 0.1 * fabs(v);
        *lo = v - d;
        *hi = v + d;
        break;
    }
    case NQ_MIN:
        *hi = HUGE_VAL;
        break;
    case NQ_MAX:
        *lo = -HUGE_VAL;
        break;
    case NQ_DECADE:
        *hi = v + (fmod(v, 100) == 0 ? 99 : 9);
        break;
    default:
        break;
    }
}

/* Either of a and b has a qualifier that num_interval reads. */
static int num_qualified(const struct num *a, const struct num *b)
{
    return (a->qual != NQ_EXACT || b->qual != NQ_EXACT) && a->kind != NK_MONTH && a->kind != NK_DAY;
}

/* Claim number a and source number b can both be true: of the same kind and unit, and their
 * intervals meet ("1994" and "the 1990s"; "263,000" and "over 260,000"), or num_eq. */
static int num_consistent(const struct num *a, const struct num *b);

/* Source number b says what claim number a says: the same kind, unit and value. Years, months and
 * whole numbers under a million must be equal; decimals and large (scaled) numbers may differ by
 * SC_NUM_TOL ("1.2 million" vs 1,203,000). A qualified number stands for an interval
 * (num_interval), and the source's must lie within the claim's: "over 260,000" is said by
 * 263,000, "the 1990s" by 1994, "about 1,300" by 1,280 (and by "about 1,280"); "1994" is not said
 * by "the 1990s" (only num_consistent with it). */
static int num_eq(const struct num *a, const struct num *b)
{
    if (a->kind != b->kind || a->unit != b->unit) return 0;
    if (num_qualified(a, b)) {
        double alo, ahi, blo, bhi;
        if (b->qual == NQ_APPROX && (a->qual == NQ_APPROX || a->qual == NQ_EXACT))
            /* "about 1,280" says "about 1,300"; "c. 1616" says "1616" (the exact value only) */
            return a->qual == NQ_APPROX
                       ? fabs(a->value - b->value) <=
                             (a->kind == NK_YEAR ? 3 : 0.1 * fmax(fabs(a->value), fabs(b->value)))
                       : fabs(a->value - b->value) <= 1e-9 * (fabs(a->value) + 1);
        num_interval(a, &alo, &ahi);
        num_interval(b, &blo, &bhi);
        return blo >= alo && bhi <= ahi;
    }
    double m = fabs(a->value) > fabs(b->value) ? fabs(a->value) : fabs(b->value);
    double d = fabs(a->value - b->value);
    if (d <= 1e-9 * (m + 1)) return 1;
    if (is_date(a->kind)) return 0;
    int whole = a->value == floor(a->value) && b->value == floor(b->value);
    return (!whole || m >= 1e6) && d <= SC_NUM_TOL * m;
}

static int num_consistent(const struct num *a, const struct num *b)
{
    if (num_eq(a, b)) return 1;
    if (a->kind != b->kind || a->unit != b->unit || !num_qualified(a, b)) return 0;
    double alo, ahi, blo, bhi;
    num_interval(a, &alo, &ahi);
    num_interval(b, &blo, &bhi);
    return alo <= bhi && blo <= ahi;
}

/* ---------------------------------------------------------------- claim names */

static int is_space_c(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Is byte offset p the first word of a sentence of `text`? */
static int at_sentence_start(const char *text, size_t p)
{
    while (p > 0) {
        unsigned char c = (unsigned char)text[p - 1];
        if (is_space_c(c) || c == '"' || c == '\'' || c == '(' || c == '[') {
            p--;
            continue;
        }
        if (c == 0x9C && p >= 3 && (unsigned char)text[p - 3] == 0xE2) { /* opening curly quote */
            p -= 3;
            continue;
        }
        return c == '.' || c == '!' || c == '?' || c == ':' || c == '\n';
    }
    return 1;
}

static void find_names(struct ver_scorer *s, const char *claim, size_t len)
{
    PCRE2_SIZE at = 0;
    while (at < len && s->nnames < SC_MAX_NAMES) {
        int n = pcre2_match(s->re_name, (PCRE2_SPTR)claim, len, at, 0, s->md, NULL);
        if (n < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        size_t ns = ov[0], ne = ov[1];
        at = ne > ns ? ne : ns + 1;
        if (at_sentence_start(claim, ns)) { /* drop the first word: it is capitalised anyway */
            while (ns < ne && !is_space_c((unsigned char)claim[ns]))
                ns++;
            while (ns < ne && is_space_c((unsigned char)claim[ns]))
                ns++;
            if (ns >= ne) continue;
        }
        struct name *nm = &s->names[s->nnames];
        nm->n = 0;
        nm->start = ns;
        nm->end = ne;
        nm->tok0 = -1;
        for (int i = 0; i < s->nctok && nm->n < SC_NAME_TERMS; i++)
            if (s->ctok[i] >= 0 && s->ctok_start[i] >= ns && s->ctok_end[i] <= ne) {
                int dup = 0;
                for (int k = 0; k < nm->n; k++)
                    dup |= nm->term[k] == s->ctok[i];
                if (!dup) nm->term[nm->n++] = s->ctok[i];
                if (nm->tok0 < 0) nm->tok0 = i;
            }
        if (nm->n > 0) s->nnames++;
    }
}

/* Prepare everything about the claim. Returns 0 or -1 when out of memory. */
/* Reset the state the token callbacks keep, before a corpus_tok_run() over `text`. */
static void tok_start(struct ver_scorer *s, const char *text)
{
    s->oom = 0;
    s->tok_text = text;
    s->neg_left = 0;
    s->prev_end = 0;
    s->prev_n = 0;
}

static int claim_prepare(struct ver_scorer *s, const char *claim, size_t len)
{
    buf_reset(&s->terms);
    memset(s->hash, 0, sizeof s->hash);
    s->nterms = s->nctok = s->nbig = s->ncnum = s->nnames = 0;
    s->claim_text = claim;
    tok_start(s, claim);
    corpus_tok_run(s->tok, claim, len, claim_tok_cb, s);
    if (s->oom) return -1;
    /* bigrams of adjacent claim content words, registered in both orders */
    memset(s->big, 0xff, sizeof s->big);
    for (int i = 0; i + 1 < s->nctok; i++) {
        int a = s->ctok[i], b = s->ctok[i + 1];
        if (a < 0 || b < 0 || a == b) continue;
        if (s->big[a * VER_SCORE_MAX_TERMS + b] >= 0 || s->nbig >= SC_MAX_BIGRAMS) continue;
        s->big[a * VER_SCORE_MAX_TERMS + b] = (int16_t)s->nbig;
        s->big[b * VER_SCORE_MAX_TERMS + a] = (int16_t)s->nbig;
        s->big_a[s->nbig] = a;
        s->big_b[s->nbig] = b;
        s->nbig++;
    }
    find_numbers(s, claim, len, 1);
    find_names(s, claim, len);
    claim_lexicon(s);
    claim_parts(s, claim);
    return 0;
}

/* ---------------------------------------------------------------- source */

static int src_tok_cb(void *ctx, const char *term, size_t len, int pos, size_t start, size_t end)
{
    (void)pos;
    struct ver_scorer *s = ctx;
    if (vec_grow((void **)&s->tok_arr, &s->captok, s->ntok + 1, sizeof *s->tok_arr)) {
        s->oom = 1;
        return 1;
    }
    int cue = 0, neg = negation_step(s, term, len, start, end, &cue);
    struct stok *t = &s->tok_arr[s->ntok++];
    t->cidx = -1;
    t->rc = -1;
    t->rel = 0;
    t->cue = (uint8_t)cue;
    t->neg = (uint8_t)neg;
    t->neg_from = s->neg_cue;
    t->start = (uint32_t)start;
    t->end = (uint32_t)end;
    t->h = hash_fnv1a64(term, len);
    t->lexid = cue ? -1 : ver_lex_find(&s->lex, term, len);
    return 0;
}

/* The claim term with FNV-1a 64 `h`, or -1. */
static int term_find_hash(const struct ver_scorer *s, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & (SC_HASH - 1); s->hash[i]; i = (i + 1) & (SC_HASH - 1))
        if (s->term_hash[s->hash[i] - 1] == h) return s->hash[i] - 1;
    return -1;
}

static int sent_cb(void *ctx, size_t start, size_t end)
{
    struct ver_scorer *s = ctx;
    if (end <= start) return 0;
    if (vec_grow((void **)&s->sents, &s->capsents, s->nsents + 1, sizeof *s->sents)) {
        s->oom = 1;
        return 1;
    }
    s->sents[s->nsents].start = start;
    s->sents[s->nsents].end = end;
    s->nsents++;
    return 0;
}

/* The default splitter: every line on its own (text from HTML has one block per line), each
 * line split by ver_sentences() (verify/ver_sent.c), spans moved back to whole-text offsets. */
struct line_ctx {
    ver_score_sent_cb cb;
    void *ctx;
    size_t base;
};

static int line_sent_cb(void *ctx, size_t start, size_t end)
{
    struct line_ctx *l = ctx;
    return l->cb(l->ctx, l->base + start, l->base + end);
}

static int split_default(const char *t, size_t len, ver_score_sent_cb cb, void *ctx)
{
    struct line_ctx l = {cb, ctx, 0};
    size_t a = 0;
    while (a < len) {
        const char *nl = memchr(t + a, '\n', len - a);
        size_t b = nl ? (size_t)(nl - t) : len;
        l.base = a;
        int rc = ver_sentences(t + a, b - a, line_sent_cb, &l);
        if (rc) return rc;
        a = b + 1;
    }
    return 0;
}

static int add_unit(struct ver_scorer *s, size_t tb, size_t te, size_t bs, size_t be)
{
    if (vec_grow((void **)&s->units, &s->capunits, s->nunits + 1, sizeof *s->units)) return -1;
    struct unit *u = &s->units[s->nunits++];
    u->tb = tb;
    u->te = te;
    u->bs = bs;
    u->be = be;
    u->nb = u->ne = 0;
    u->cover[0] = u->cover[1] = 0;
    return 0;
}

/* The claim-independent part: tokenize (with negation marks, term hashes, lexicon ids), split
 * into units, find the numbers. Returns 0 or -1 when out of memory. */
static int source_tokens(struct ver_scorer *s, const char *src, size_t len)
{
    s->ntok = s->nsents = s->nunits = s->nsnum = 0;
    tok_start(s, src);
    corpus_tok_run(s->tok, src, len, src_tok_cb, s);
    if (s->oom) return -1;
    ver_score_split_fn split = s->opts.split ? s->opts.split : split_default;
    split(src, len, sent_cb, s);
    if (s->oom) return -1;
    /* units: tokens of each sentence, cut into pieces of VER_SCORE_WIN_WORDS */
    size_t ti = 0;
    for (size_t k = 0; k < s->nsents; k++) {
        size_t ss = s->sents[k].start, se = s->sents[k].end;
        while (ti < s->ntok && s->tok_arr[ti].start < ss)
            ti++; /* tokens outside sentences */
        size_t tb = ti;
        while (ti < s->ntok && s->tok_arr[ti].end <= se)
            ti++;
        size_t te = ti;
        if (te == tb) continue;
        for (size_t p = tb; p < te; p += VER_SCORE_WIN_WORDS) {
            size_t q = p + VER_SCORE_WIN_WORDS < te ? p + VER_SCORE_WIN_WORDS : te;
            size_t bs = p == tb ? ss : s->tok_arr[p].start;
            size_t be = q == te ? se : s->tok_arr[q - 1].end;
            if (add_unit(s, p, q, bs, be)) return -1;
        }
    }
    if (find_numbers(s, src, len, 0)) return -1;
    size_t ni = 0;
    for (size_t u = 0; u < s->nunits; u++) {
        struct unit *un = &s->units[u];
        while (ni < s->nsnum && s->snum[ni].start < un->bs)
            ni++;
        un->nb = ni;
        while (ni < s->nsnum && s->snum[ni].start < un->be)
            ni++;
        un->ne = ni;
    }
    return 0;
}

/* Tokenize and split the source into units and find its numbers (unless it is the text of the
 * last call); look its tokens up among the claim terms and the lexicon relations; count claim-term
 * document frequencies over the units and set the IDFs. Returns 0 or -1 when out of memory. */
static int source_prepare(struct ver_scorer *s, const char *src, size_t len)
{
    uint64_t h = hash_fnv1a64(src, len);
    if (!s->src_valid || s->src_len != len || s->src_hash != h) {
        s->src_valid = 0;
        if (source_tokens(s, src, len)) return -1;
        s->src_valid = 1;
        s->src_len = len;
        s->src_hash = h;
    }
    s->tok_text = src;
    for (size_t i = 0; i < s->ntok; i++) {
        struct stok *t = &s->tok_arr[i];
        t->cidx = s->nterms && !t->cue ? term_find_hash(s, t->h) : -1;
        t->rc = -1;
        t->rel = 0;
        if (t->cidx < 0 && s->nrel && t->lexid >= 0) {
            const struct relslot *r = rel_find(s, t->lexid);
            if (r) {
                t->rc = r->c;
                t->rel = r->rel;
            }
        }
    }
    /* document frequencies over units, and IDF */
    memset(s->df, 0, sizeof s->df);
    for (size_t u = 0; u < s->nunits; u++) {
        next_stamp(s);
        for (size_t t = s->units[u].tb; t < s->units[u].te; t++) {
            int c = s->tok_arr[t].cidx;
            if (c >= 0 && s->term_stamp[c] != s->stamp) {
                s->term_stamp[c] = s->stamp;
                s->df[c]++;
            }
        }
    }
    double n = (double)s->nunits;
    s->idf_sum = 0;
    for (int c = 0; c < s->nterms; c++) {
        double v = -1;
        if (s->opts.idf)
            v = s->opts.idf(s->opts.idf_ctx, s->terms.data + s->term_off[c], s->term_len[c]);
        if (!(v >= 0)) v = log(1.0 + (n - s->df[c] + 0.5) / (s->df[c] + 0.5));
        s->idf[c] = v;
        s->idf_sum += v;
    }
    return 0;
}

/* ---------------------------------------------------------------- window features */

/* Credit of a lexicon relation toward covering a claim term. */
static double rel_credit(int rel)
{
    return rel == VER_LEX_HYPER ? 0.5 : rel == VER_LEX_ANT ? 0 : 1;
}

/* Claim number c agrees with source number k (num_eq), or lies inside the range that k opens
 * ("between 1990 and 2000"); source numbers [k, ne) are the window's. */
static int num_hit(const struct ver_scorer *s, const struct num *c, size_t k, size_t ne)
{
    const struct num *w = &s->snum[k];
    if (num_eq(c, w)) return 1;
    return w->range && k + 1 < ne && w->kind == c->kind && w->unit == c->unit &&
           c->kind != NK_MONTH && c->value >= fmin(w->value, s->snum[k + 1].value) &&
           c->value <= fmax(w->value, s->snum[k + 1].value);
}

/* The claim terms written inside claim numbers that agree with one of the source numbers
 * [nb, ne), as bits: "about 1,300 metres" against "1,280 m" covers "1,300" and "metres". */
static void num_cover(const struct ver_scorer *s, size_t nb, size_t ne, uint64_t *bits)
{
    bits[0] = bits[1] = 0;
    for (int i = 0; i < s->ncnum; i++) {
        const struct num *c = &s->cnum[i];
        int hit = 0;
        for (size_t k = nb; k < ne && !hit; k++)
            hit = num_hit(s, c, k, ne);
        if (!hit) continue;
        bits[0] |= s->cnum_bits[i][0];
        bits[1] |= s->cnum_bits[i][1];
    }
}

/* Claim terms covered by units (exact or lexicon, hypernyms and antonyms excluded, or inside an
 * agreeing number: num_cover), as bits. */
static void unit_cover(struct ver_scorer *s)
{
    for (size_t u = 0; u < s->nunits; u++) {
        struct unit *un = &s->units[u];
        un->cover[0] = un->cover[1] = 0;
        for (size_t t = un->tb; t < un->te; t++) {
            const struct stok *k = &s->tok_arr[t];
            int c = k->cidx >= 0                                                       ? k->cidx
                    : (k->rc >= 0 && k->rel != VER_LEX_HYPER && k->rel != VER_LEX_ANT) ? k->rc
                                                                                       : -1;
            if (c >= 0) un->cover[c >> 6] |= 1ull << (c & 63);
        }
        uint64_t nc[2];
        num_cover(s, un->nb, un->ne, nc);
        un->cover[0] |= nc[0];
        un->cover[1] |= nc[1];
    }
}

static double cover_weight(const struct ver_scorer *s, const uint64_t *bits)
{
    double w = 0;
    for (int c = 0; c < s->nterms; c++)
        if (bits[c >> 6] >> (c & 63) & 1) w += s->rar[c];
    return s->rar_sum > 0 ? w / s->rar_sum : 0;
}

/* The unit that adds most coverage to `bits` (SIZE_MAX when none adds anything). */
static size_t best_complement(const struct ver_scorer *s, const uint64_t *bits, double *cov)
{
    size_t best = SIZE_MAX;
    double bw = cover_weight(s, bits);
    *cov = bw;
    for (size_t u = 0; u < s->nunits; u++) {
        uint64_t b[2] = {bits[0] | s->units[u].cover[0], bits[1] | s->units[u].cover[1]};
        if (b[0] == bits[0] && b[1] == bits[1]) continue;
        double w = cover_weight(s, b);
        if (w > bw + 1e-12) {
            bw = w;
            best = u;
        }
    }
    *cov = bw;
    return best;
}

/* The claim term whose token starts at byte `at` of the claim, or -1. */
static int term_at(const struct ver_scorer *s, size_t at)
{
    for (int i = 0; i < s->nctok; i++)
        if (s->ctok_start[i] == at) return s->ctok[i];
    return -1;
}

static double pair_affinity(const struct ver_scorer *s, const char *src, const struct num *c,
                            const struct num *w, size_t ua, size_t ub, int *noun);

/* Plain claim number c (outside the claim's context, and said nowhere in the source: "fourth
 * season" against a sentence on another show's "second season" when the page also says "its
 * fourth season") and plain source number w, which is no other claim number's value, count the
 * same thing: the word right after c is within two words after w, and their neighbouring words
 * agree (pair_affinity >= SC_PLAIN_PAIR). */
static int plain_pair(const struct ver_scorer *s, const struct num *c, const struct num *w,
                      size_t ua, size_t ub)
{
    if (c->start < s->context_len || s->cnum_seen[c - s->cnum]) return 0;
    for (int i = 0; i < s->ncnum; i++) /* w is another claim number's ("fifth ... fourth season") */
        if (&s->cnum[i] != c && num_eq(&s->cnum[i], w)) return 0;
    int noun = 0;
    double a = pair_affinity(s, s->src, c, w, ua, ub, &noun);
    return noun && a >= SC_PLAIN_PAIR;
}

/* Agreement of the claim's numbers (dates = 0: other numbers, 1: years, months and days) with the
 * source numbers [nb, ne) of the window of units [ua, ub]; the first conflict goes into *cl when
 * it is still empty. A number conflicts when it is missing and the window has another of its kind
 * and unit. A plain number (no unit: "12 workers") clashes only with another that counts the
 * same thing (plain_pair: "11 workers died" against "12 workers died"), as an unrelated count in
 * the same sentence says nothing against it, and not in the claim's context (the article title:
 * "HMAS Brisbane (DDG 41)"); such a clash goes
 * to the contradiction rule but not into the conflict feature (counted there, it cost ver_eval
 * --cv 5 AUC 0.9393 -> 0.9354 and shipped F1 55.7 -> 50.0: pages that cite a claim's count beside
 * another count of the same thing are common). */
static void agree(const struct ver_scorer *s, size_t ua, size_t ub, size_t nb, size_t ne, int dates,
                  double *agree_out, double *conflict_out, struct clash *cl)
{
    int n = 0, found = 0, conflict = 0;
    for (int i = 0; i < s->ncnum; i++) {
        const struct num *c = &s->cnum[i];
        if (is_date(c->kind) != dates) continue;
        /* an ordinal clashes (below) but is not counted in the features: counted, `ver_eval --cv
         * 5` shipped F1 fell 58.1 -> 56.5 */
        int counted = !(c->kind == NK_PLAIN && c->unit == UNIT_ORDINAL);
        n += counted;
        int hit = 0;
        size_t other = SIZE_MAX;
        for (size_t k = nb; k < ne && !hit; k++) {
            const struct num *w = &s->snum[k];
            if (num_hit(s, c, k, ne))
                hit = 1;
            else if (num_consistent(c, w))
                continue; /* "1994" against "the 1990s": not said, not contradicted */
            else if (w->kind == c->kind && w->unit == c->unit && other == SIZE_MAX &&
                     (c->kind != NK_PLAIN || plain_pair(s, c, w, ua, ub)))
                other = k;
        }
        if (hit)
            found += counted;
        else if (other != SIZE_MAX) {
            if (c->kind != NK_PLAIN) conflict++;
            if (cl->kind == CK_NONE)
                *cl = (struct clash){.kind = CK_NUMBER,
                                     .cs = c->start,
                                     .ce = c->end,
                                     .ss = s->snum[other].start,
                                     .se = s->snum[other].end,
                                     .cn = i,
                                     .nb = nb,
                                     .ne = ne};
        }
    }
    *agree_out = n ? (double)(found - conflict) / n : 0;
    *conflict_out = n ? (double)conflict / n : 0;
}

/* One pass over the window's tokens [tb, te): stamps the claim terms present (tf, negation marks,
 * where they occur), those found through the lexicon (the closest relation) and antonyms; counts
 * the terms present, the claim bigrams adjacent, and their IDF. */
static void window_scan(struct ver_scorer *s, size_t tb, size_t te, int *present_out,
                        int *bigrams_out, double *cov_idf_out)
{
    int present = 0, bigrams = 0;
    double cov_idf = 0;
    int prev = -1;
    for (size_t t = tb; t < te; t++) {
        const struct stok *k = &s->tok_arr[t];
        int c = k->cidx;
        if (c >= 0) {
            if (s->term_stamp[c] != s->stamp) {
                s->term_stamp[c] = s->stamp;
                s->tf[c] = 0;
                s->occ[c] = 0;
                present++;
                cov_idf += s->idf[c];
            }
            s->tf[c]++;
            s->occ[c] |= (uint8_t)(k->neg ? 2 : 1);
            s->occ_at[c] = t;
            if (prev >= 0) {
                int g = s->big[prev * VER_SCORE_MAX_TERMS + c];
                if (g >= 0 && s->big_stamp[g] != s->stamp) {
                    s->big_stamp[g] = s->stamp;
                    bigrams++;
                }
            }
        } else if (k->rc >= 0) {
            int r = k->rc;
            if (k->rel == VER_LEX_ANT) {
                s->ant_stamp[r] = s->stamp;
                s->ant_at[r] = t;
            } else if (s->rel_stamp[r] != s->stamp || k->rel < s->rel_best[r]) {
                if (s->rel_stamp[r] != s->stamp)
                    s->occ[r] &= (uint8_t)(s->term_stamp[r] == s->stamp ? 3 : 0);
                s->rel_stamp[r] = s->stamp;
                s->rel_best[r] = k->rel;
                if (s->term_stamp[r] != s->stamp) s->occ_at[r] = t;
            }
            if (k->rel != VER_LEX_ANT && k->rel != VER_LEX_HYPER && s->term_stamp[r] != s->stamp)
                s->occ[r] |= (uint8_t)(k->neg ? 2 : 1);
        }
        prev = c;
    }
    *present_out = present;
    *bigrams_out = bigrams;
    *cov_idf_out = cov_idf;
}

/* Bytes [a, b) are one or more spaces. */
static int only_space_gap(const char *t, size_t a, size_t b)
{
    if (b <= a) return 0;
    for (size_t i = a; i < b; i++)
        if (t[i] != ' ') return 0;
    return 1;
}

/* A claim name the source never uses, in a slot where the window names someone else: the claim
 * word right before the name ("directed" of "directed by Steven Spielberg") is in the window and
 * within the next two source words, in the same clause, starts a capitalised run that is no claim
 * word and no sentence start ("directed by James Cameron"). The first such name into *cl (when
 * it is still empty); tokens [tb, te) are the window's. */
static void name_clash(const struct ver_scorer *s, size_t tb, size_t te, struct clash *cl)
{
    const char *src = s->src;
    for (int i = 0; i < s->nnames && cl->kind == CK_NONE; i++) {
        const struct name *nm = &s->names[i];
        if (!s->name_absent[i] || nm->tok0 < 1 || nm->start < s->context_len) continue;
        int dated = 0; /* "November 5": a date, not a name */
        for (int k = 0; k < s->ncnum && !dated; k++)
            dated = s->cnum[k].start < nm->end && nm->start < s->cnum[k].end;
        if (dated) continue;
        int slot = s->ctok[nm->tok0 - 1];
        if (slot < 0 || s->term_stamp[slot] != s->stamp ||
            s->ctok_start[nm->tok0 - 1] < s->context_len)
            continue;
        unsigned char s0 = (unsigned char)s->claim_text[s->ctok_start[nm->tok0 - 1]];
        if (s0 < 'a' || s0 > 'z') continue; /* the slot is a plain word, not another name's */
        if (clause_gap(s->claim_text, s->ctok_end[nm->tok0 - 1], nm->start)) continue;
        for (size_t t = tb; t < te && cl->kind == CK_NONE; t++) {
            if (s->tok_arr[t].cidx != slot) continue;
            for (size_t k = t + 1; k < te && k <= t + 2; k++) {
                const struct stok *w = &s->tok_arr[k];
                if (clause_gap(src, s->tok_arr[k - 1].end, w->start)) break;
                unsigned char c0 = (unsigned char)src[w->start];
                if (w->cidx >= 0 || c0 < 'A' || c0 > 'Z' || at_sentence_start(src, w->start)) break;
                size_t e = k; /* the capitalised run */
                while (e + 1 < te && e < k + 3 && s->tok_arr[e + 1].cidx < 0 &&
                       src[s->tok_arr[e + 1].start] >= 'A' && src[s->tok_arr[e + 1].start] <= 'Z' &&
                       only_space_gap(src, s->tok_arr[e].end, s->tok_arr[e + 1].start))
                    e++;
                *cl = (struct clash){.kind = CK_NAME,
                                     .cs = nm->start,
                                     .ce = nm->end,
                                     .ss = w->start,
                                     .se = s->tok_arr[e].end,
                                     .cn = -1};
                break;
            }
        }
    }
}

/* Features of the window of units [a, b] into f (VER_SCORE_NFEAT); doc-level ones are passed in
 * (doc[0] doc_cov, doc[1] doc_name, doc[2] doc_union, doc[3] doc_len, doc[4] short source,
 * doc[5] doc_part_min, doc[6] doc_miss_max). Its
 * clash, if any, in s->win_clash. */
static void window_features(struct ver_scorer *s, size_t a, size_t b, const double *doc,
                            double avg_unit, double *f)
{
    next_stamp(s);
    size_t tb = s->units[a].tb, te = s->units[b].te;
    int present = 0, bigrams = 0;
    double cov_idf = 0;
    window_scan(s, tb, te, &present, &bigrams, &cov_idf);
    double wl = (double)(te - tb), avgdl = avg_unit * (double)(b - a + 1), bm25 = 0;
    if (avgdl <= 0) avgdl = 1;
    double cov_w = 0, cov_lex = 0, lsyn = 0, lhypo = 0, lhyper = 0;
    double part_cov[SC_MAX_PARTS] = {0};
    struct clash cl = {.kind = CK_NONE, .cn = -1};
    int flip = 0, ant = 0;
    uint64_t numbits[2];
    num_cover(s, s->units[a].nb, s->units[b].ne, numbits);
    for (int c = 0; c < s->nterms; c++) {
        int exact = s->term_stamp[c] == s->stamp;
        int related = !exact && s->rel_stamp[c] == s->stamp;
        /* a word of a claim number that agrees with one here ("metres" of "1,300 metres" against
         * "1,280 m") is addressed as if it were found */
        int numhit = !exact && (numbits[c >> 6] >> (c & 63) & 1);
        double credit = exact ? 1 : numhit ? 1 : related ? rel_credit(s->rel_best[c]) : 0;
        if (numhit) related = 0;
        if (exact) {
            double tf = s->tf[c];
            bm25 += s->idf[c] * tf * (SC_BM25_K1 + 1) /
                    (tf + SC_BM25_K1 * (1 - SC_BM25_B + SC_BM25_B * wl / avgdl));
            cov_w += s->rar[c];
        } else if (related) {
            int r = s->rel_best[c];
            if (r == VER_LEX_HYPO)
                lhypo += s->rar[c];
            else if (r == VER_LEX_HYPER)
                lhyper += s->rar[c];
            else
                lsyn += s->rar[c];
        }
        cov_lex += s->rar[c] * credit;
        part_cov[s->term_part[c]] += s->rar[c] * credit;
        /* a negation on one side only: every occurrence in the window disagrees with the claim;
         * not for a word of the claim's context (the article title is no statement: "Starbucks"
         * against "nothing to do with Starbucks"), nor an antonym of one */
        int in_ctx = s->term_ctok[c] >= 0 && s->ctok_start[s->term_ctok[c]] < s->context_len;
        uint8_t occ = (exact || (related && s->rel_best[c] != VER_LEX_HYPER)) ? s->occ[c] : 0;
        if (occ && !flip && !in_ctx &&
            ((s->term_neg[c] && occ == 1) || (!s->term_neg[c] && occ == 2))) {
            flip = 1;
            int ct = s->term_ctok[c];
            const struct stok *k = &s->tok_arr[s->occ_at[c]];
            struct clash x = {
                .kind = s->term_neg[c] ? CK_NEG_CLAIM : CK_NEG_SOURCE,
                .cs = ct >= 0 ? (s->term_neg[c] ? s->ctok_neg_from[ct] : s->ctok_start[ct]) : 0,
                .ce = ct >= 0 ? s->ctok_end[ct] : 0,
                .ss = k->neg ? k->neg_from : k->start,
                .se = k->end,
                .cn = -1};
            if (cl.kind == CK_NONE) cl = x;
        }
        if (!exact && !numhit && !(related && credit >= 1) && s->ant_stamp[c] == s->stamp && !ant &&
            !in_ctx) {
            ant = 1;
            int ct = s->term_ctok[c];
            const struct stok *k = &s->tok_arr[s->ant_at[c]];
            if (cl.kind == CK_NONE && ct >= 0)
                cl = (struct clash){.kind = CK_ANT,
                                    .cs = s->ctok_start[ct],
                                    .ce = s->ctok_end[ct],
                                    .ss = k->start,
                                    .se = k->end,
                                    .cn = -1};
        }
    }
    double rs = s->rar_sum > 0 ? s->rar_sum : 1;
    double idf_sum = s->idf_sum > 0 ? s->idf_sum : 1;
    f[VER_F_BM25] = bm25 / ((SC_BM25_K1 + 1) * idf_sum);
    f[VER_F_COV_IDF] = cov_idf / idf_sum;
    f[VER_F_COV] = s->nterms ? (double)present / s->nterms : 0;
    f[VER_F_BIGRAM] = s->nbig ? (double)bigrams / s->nbig : 0;
    f[VER_F_COV_W] = cov_w / rs;
    f[VER_F_COV_LEX] = cov_lex / rs;
    f[VER_F_LEX_SYN] = lsyn / rs;
    f[VER_F_LEX_HYPO] = lhypo / rs;
    f[VER_F_LEX_HYPER] = lhyper / rs;
    double pmin = s->nparts ? 1 : 0, pmiss = 0;
    for (int p = 0; p < s->nparts; p++) {
        double v = s->part_rar[p] > 0 ? part_cov[p] / s->part_rar[p] : 1;
        if (v < pmin) pmin = v;
        pmiss += v < 0.5;
    }
    f[VER_F_PART_MIN] = pmin;
    f[VER_F_PART_MISS] = s->nparts ? pmiss / s->nparts : 0;
    size_t nb = s->units[a].nb, ne = s->units[b].ne;
    struct clash ncl = {.kind = CK_NONE, .cn = -1};
    agree(s, a, b, nb, ne, 0, &f[VER_F_NUM_AGREE], &f[VER_F_NUM_CONFLICT], &ncl);
    agree(s, a, b, nb, ne, 1, &f[VER_F_DATE_AGREE], &f[VER_F_DATE_CONFLICT], &ncl);
    if (ncl.kind != CK_NONE) cl = ncl; /* a number is the clearest clash to report */
    if (cl.kind == CK_NONE) name_clash(s, tb, te, &cl);
    /* the clash window's coverage, with the clashing claim word counted as addressed */
    s->win_clash_cov = f[VER_F_COV_LEX];
    if (cl.kind == CK_ANT) {
        int c = term_at(s, cl.cs);
        if (c >= 0 && s->term_stamp[c] != s->stamp) s->win_clash_cov += s->rar[c] / rs;
    } else if (cl.kind == CK_NUMBER ||
               cl.kind == CK_NAME) { /* "1,500 metres", "Steven Spielberg" */
        unsigned char seen[VER_SCORE_MAX_TERMS] = {0};
        for (int i = 0; i < s->nctok; i++) {
            int c = s->ctok[i];
            if (s->ctok_start[i] < cl.cs || s->ctok_start[i] >= cl.ce || c < 0 || seen[c]) continue;
            seen[c] = 1;
            if (s->term_stamp[c] != s->stamp) s->win_clash_cov += s->rar[c] / rs;
        }
    }
    int nf = 0;
    for (int i = 0; i < s->nnames; i++) {
        int all = 1;
        for (int k = 0; k < s->names[i].n; k++)
            all &= s->term_stamp[s->names[i].term[k]] == s->stamp;
        nf += all;
    }
    f[VER_F_NAME_AGREE] = s->nnames ? (2.0 * nf - s->nnames) / s->nnames : 0;
    f[VER_F_NEG_FLIP] = flip ? f[VER_F_COV_LEX] : 0;
    f[VER_F_ANT_CLASH] = ant ? f[VER_F_COV_LEX] : 0;
    f[VER_F_DOC_COV] = doc[0];
    f[VER_F_DOC_NAME] = doc[1];
    f[VER_F_DOC_UNION] = doc[2];
    f[VER_F_CLAIM_LEN] = log1p((double)s->nterms);
    f[VER_F_WIN_LEN] = log1p(wl);
    f[VER_F_DENSE] = 0;
    f[VER_F_DOC_LEN] = doc[3];
    f[VER_F_DOC_PART_MIN] = doc[5];
    f[VER_F_DOC_MISS_MAX] = doc[6];
    int sh = doc[4] > 0;
    f[VER_F_S_COV] = sh ? f[VER_F_COV] : 0;
    f[VER_F_S_BM25] = sh ? f[VER_F_BM25] : 0;
    f[VER_F_S_COV_W] = sh ? f[VER_F_COV_W] : 0;
    f[VER_F_S_COV_LEX] = sh ? f[VER_F_COV_LEX] : 0;
    f[VER_F_S_CLAIM_LEN] = sh ? f[VER_F_CLAIM_LEN] : 0;
    f[VER_F_S_DOC_COV] = sh ? f[VER_F_DOC_COV] : 0;
    f[VER_F_S_BIGRAM] = sh ? f[VER_F_BIGRAM] : 0;
    f[VER_F_S_PART_MIN] = sh ? f[VER_F_PART_MIN] : 0;
    f[VER_F_COCITED] = s->cocited ? f[VER_F_COV_LEX] : 0;
    s->win_clash = cl;
}

/* Checks and preparation common to scoring and feature dumps; doc gets the doc-level features. */
static int prepare(struct ver_scorer *s, const char *claim, const char *src, size_t len,
                   double *doc, double *avg_unit, struct err *err)
{
    if (!s || !claim || (!src && len))
        return err_set(err, ERR_ARG, "ver_score_source: NULL argument");
    size_t cl = strlen(claim);
    if (cl > VER_SCORE_MAX_CLAIM)
        return err_set(err, ERR_LIMIT, "claim of %zu bytes (limit %u)", cl, VER_SCORE_MAX_CLAIM);
    if (len > VER_SCORE_MAX_SOURCE)
        return err_set(err, ERR_LIMIT, "source text of %zu bytes (limit %u)", len,
                       VER_SCORE_MAX_SOURCE);
    s->src = src ? src : "";
    if (claim_prepare(s, claim, cl) || source_prepare(s, s->src, len))
        return err_set(err, ERR_NOMEM, "scoring a source of %zu bytes", len);
    for (int i = 0; i < s->nnames; i++) {
        int none = 1;
        for (int k = 0; k < s->names[i].n; k++)
            none &= s->df[s->names[i].term[k]] == 0;
        s->name_absent[i] = (uint8_t)none;
    }
    for (int i = 0; i < s->ncnum; i++) {
        const struct num *c = &s->cnum[i];
        s->cnum_bits[i][0] = s->cnum_bits[i][1] = 0;
        for (int j = 0; j < s->nctok; j++) {
            int t = s->ctok[j];
            if (t >= 0 && s->ctok_start[j] >= c->start && s->ctok_start[j] < c->end)
                s->cnum_bits[i][t >> 6] |= 1ull << (t & 63);
        }
    }
    for (int i = 0; i < s->ncnum; i++) {
        s->cnum_seen[i] = 0;
        for (size_t k = 0; k < s->nsnum && !s->cnum_seen[i]; k++)
            s->cnum_seen[i] = (uint8_t)num_hit(s, &s->cnum[i], k, s->nsnum);
    }
    int inside = 0;
    for (int c = 0; c < s->nterms; c++)
        inside += s->df[c] > 0;
    doc[0] = s->nterms ? (double)inside / s->nterms : 0;
    int nf = 0;
    for (int i = 0; i < s->nnames; i++) {
        int all = 1;
        for (int k = 0; k < s->names[i].n; k++)
            all &= s->df[s->names[i].term[k]] > 0;
        nf += all;
    }
    doc[1] = s->nnames ? (2.0 * nf - s->nnames) / s->nnames : 0;
    unit_cover(s);
    uint64_t none[2] = {0, 0};
    double c1 = 0, c2 = 0;
    uint64_t ub[2] = {0, 0}, all[2] = {0, 0};
    size_t u1 = best_complement(s, none, &c1);
    if (u1 != SIZE_MAX) {
        ub[0] = s->units[u1].cover[0];
        ub[1] = s->units[u1].cover[1];
        size_t u2 = best_complement(s, ub, &c2);
        if (u2 != SIZE_MAX) {
            ub[0] |= s->units[u2].cover[0];
            ub[1] |= s->units[u2].cover[1];
        }
    }
    doc[2] = c2 > c1 ? c2 : c1;
    for (size_t u = 0; u < s->nunits; u++) {
        all[0] |= s->units[u].cover[0];
        all[1] |= s->units[u].cover[1];
    }
    double part_cov[SC_MAX_PARTS] = {0}, pmin = s->nparts ? 1 : 0, miss = 0;
    for (int c = 0; c < s->nterms; c++) {
        if (ub[c >> 6] >> (c & 63) & 1) part_cov[s->term_part[c]] += s->rar[c];
        if (!(all[c >> 6] >> (c & 63) & 1) && s->rar[c] > miss) miss = s->rar[c];
    }
    for (int q = 0; q < s->nparts; q++) {
        double v = s->part_rar[q] > 0 ? part_cov[q] / s->part_rar[q] : 1;
        if (v < pmin) pmin = v;
    }
    doc[5] = pmin;
    doc[6] = miss;
    doc[3] = log1p((double)(len > VER_SCORE_TINY ? len : VER_SCORE_TINY));
    doc[4] = len < VER_SCORE_SHORT;
    *avg_unit = s->nunits ? (double)s->ntok / (double)s->nunits : 1;
    return ERR_OK;
}

/* Windows are unit ranges [a, b]: a run of at most VER_SCORE_WIN_SENTS units with at most
 * VER_SCORE_WIN_WORDS content words in all (a single unit is always a window). Both loops below
 * visit them in the same order: by start, then by length. */
static int window_fits(const struct ver_scorer *s, size_t a, size_t b, size_t *words)
{
    if (b >= s->nunits || b >= a + VER_SCORE_WIN_SENTS) return 0;
    *words += s->units[b].te - s->units[b].tb;
    return b == a || *words <= VER_SCORE_WIN_WORDS;
}

int ver_score_windows(struct ver_scorer *s, const struct ver_score_claim *c, const char *src,
                      size_t len, ver_score_win_cb cb, void *ctx, struct err *err)
{
    double doc[7], avg_unit, f[VER_SCORE_NFEAT];
    if (!c) return err_set(err, ERR_ARG, "ver_score_windows: NULL claim");
    if (s) {
        s->context_len = c->context_len;
        s->cocited = c->cocited;
    }
    int rc = prepare(s, c->text, src, len, doc, &avg_unit, err);
    if (rc) return rc;
    for (size_t a = 0; a < s->nunits; a++) {
        size_t words = 0;
        for (size_t b = a; window_fits(s, a, b, &words); b++) {
            window_features(s, a, b, doc, avg_unit, f);
            if ((rc = cb(ctx, f, s->units[a].bs, s->units[b].be))) return rc;
        }
    }
    return ERR_OK;
}

int ver_score_words(struct ver_scorer *s, const struct ver_score_claim *c, const char *src,
                    size_t len, ver_score_word_cb cb, void *ctx, struct ver_score_result *out,
                    struct err *err)
{
    if (!s || !cb) return err_set(err, ERR_ARG, "ver_score_words: NULL argument");
    s->word_cb = cb;
    s->word_ctx = ctx;
    int rc = ver_score_cited(s, c, src, len, out, err);
    s->word_cb = NULL;
    s->word_ctx = NULL;
    return rc;
}

/* Is window x better than y: a higher logit, or the same logit and fewer words (so that a
 * sentence does not drag unrelated neighbours into the highlighted window)? */
static int better(double lx, double wx, double ly, double wy)
{
    if (fabs(lx - ly) > 1e-9) return lx > ly;
    return wx < wy;
}

/* Keep the SC_DENSE_TOP best-aligned windows in s->top (sorted, best first; earlier wins a full
 * tie). */
static void top_push(struct ver_scorer *s, size_t a, size_t b, double align, double logit,
                     const double *f)
{
    int i = s->ntop < SC_DENSE_TOP ? s->ntop++ : SC_DENSE_TOP;
    if (i == SC_DENSE_TOP) {
        const struct top *last = &s->top[SC_DENSE_TOP - 1];
        if (!better(align, f[VER_F_WIN_LEN], last->align, last->feat[VER_F_WIN_LEN])) return;
        i = SC_DENSE_TOP - 1;
    }
    while (i > 0 && better(align, f[VER_F_WIN_LEN], s->top[i - 1].align,
                           s->top[i - 1].feat[VER_F_WIN_LEN])) {
        s->top[i] = s->top[i - 1];
        i--;
    }
    s->top[i].a = a;
    s->top[i].b = b;
    s->top[i].align = align;
    s->top[i].logit = logit;
    memcpy(s->top[i].feat, f, sizeof s->top[i].feat);
}

/* Bytes [a, b) hold spaces and one comma: the gap inside "May 28, 1937". */
static int only_comma_gap(const char *t, size_t a, size_t b)
{
    int commas = 0;
    for (size_t i = a; i < b; i++)
        if (t[i] == ',')
            commas++;
        else if (t[i] != ' ')
            return 0;
    return commas == 1;
}

/* The first token of the source at or after byte `pos` (s->ntok when none). */
static size_t tok_at_or_after(const struct ver_scorer *s, size_t pos)
{
    size_t lo = 0, hi = s->ntok;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->tok_arr[mid].start < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* How well the words around source number w echo those around claim number c: each claim term
 * among the SC_PAIR_CLAIM tokens on either side of c that occurs (exactly or through the lexicon)
 * among the SC_PAIR_SOURCE tokens around w, within w's own sentence (units [ua, ub]), adds 1/d (d:
 * its distance from w in tokens) when it is on the same side of the number as in the claim, a
 * quarter of that on the other side; each claim term counts once, at its best. The look stops at a
 * clause break (clause_gap: "1933 and the bridge opened" does not pair 1933 with "opened"), but
 * not at a comma next to a number ("May 28, 1937"); on the claim side it also stops at another
 * number of c's kind. src: the source text. *noun (when not NULL): 1 when the claim term right
 * after c is among the two source tokens right after w (what the numbers count: "12 workers"). */
/* Claim byte `pos` lies in another claim number of c's kind (a month beside a year does not
 * count: "June 2019" is one date). */
static int claim_num_at(const struct ver_scorer *s, size_t pos, const struct num *c)
{
    for (int i = 0; i < s->ncnum; i++)
        if (&s->cnum[i] != c && s->cnum[i].kind == c->kind && s->cnum[i].start <= pos &&
            pos < s->cnum[i].end)
            return 1;
    return 0;
}

static double pair_affinity(const struct ver_scorer *s, const char *src, const struct num *c,
                            const struct num *w, size_t ua, size_t ub, int *noun)
{
    int counted = -1; /* the claim term right after c: what it counts ("12 workers") */
    if (noun) *noun = 0;
    double best[VER_SCORE_MAX_TERMS];
    int side[VER_SCORE_MAX_TERMS]; /* 0: not around c; -1 before it, +1 after it */
    memset(side, 0, sizeof side);
    int after = 0;
    while (after < s->nctok && s->ctok_start[after] < c->end)
        after++;
    int before = after - 1;
    while (before >= 0 && s->ctok_end[before] > c->start)
        before--;
    /* the claim side: up to SC_PAIR_CLAIM tokens, not past a clause break or another number
     * ("3 towers and 12 workers died": "workers" is 12's, not 3's) */
    const char *ct = s->claim_text;
    size_t edge = c->start;
    for (int i = before, d = 0; i >= 0 && d < SC_PAIR_CLAIM; i--, d++) {
        if (claim_num_at(s, s->ctok_start[i], c) ||
            (clause_gap(ct, s->ctok_end[i], edge) &&
             !(edge == c->start && only_comma_gap(ct, s->ctok_end[i], edge))))
            break;
        edge = s->ctok_start[i];
        if (s->ctok[i] >= 0 && !side[s->ctok[i]]) side[s->ctok[i]] = -1;
    }
    edge = c->end;
    for (int i = after, d = 0; i < s->nctok && d < SC_PAIR_CLAIM; i++, d++) {
        if (claim_num_at(s, s->ctok_start[i], c) ||
            (clause_gap(ct, edge, s->ctok_start[i]) &&
             !(edge == c->end && only_comma_gap(ct, edge, s->ctok_start[i]))))
            break;
        edge = s->ctok_end[i];
        if (d == 0) counted = s->ctok[i];
        if (s->ctok[i] >= 0 && !side[s->ctok[i]]) side[s->ctok[i]] = 1;
    }
    size_t lo = s->units[ua].tb, hi = s->units[ub].te;
    for (size_t u = ua; u <= ub; u++) /* the sentence (or piece) that holds w */
        if (s->units[u].bs <= w->start && w->start < s->units[u].be) {
            lo = s->units[u].tb;
            hi = s->units[u].te;
            break;
        }
    for (int i = 0; i < s->nterms; i++)
        best[i] = 0;
    size_t j0 = tok_at_or_after(s, w->start), j1 = tok_at_or_after(s, w->end);
    for (int dir = -1; dir <= 1; dir += 2) {
        size_t inner_s = w->start, inner_e = w->end; /* the span next to k, toward w */
        int inner_num = 1;
        for (size_t d = 1; d <= SC_PAIR_SOURCE; d++) {
            size_t k;
            if (dir < 0) {
                if (j0 < lo + d) break;
                k = j0 - d;
            } else {
                k = j1 + d - 1;
                if (k >= hi) break;
            }
            const struct stok *tk = &s->tok_arr[k];
            int num = ascii_isdigit((unsigned char)src[tk->start]);
            size_t ga = dir < 0 ? tk->end : inner_e, gb = dir < 0 ? inner_s : tk->start;
            if (ga < gb && clause_gap(src, ga, gb) &&
                !((num || inner_num) && only_comma_gap(src, ga, gb)))
                break;
            inner_s = tk->start;
            inner_e = tk->end;
            inner_num = num;
            int t = tk->cidx >= 0                             ? tk->cidx
                    : (tk->rc >= 0 && tk->rel != VER_LEX_ANT) ? tk->rc
                                                              : -1;
            if (t < 0 || !side[t]) continue;
            if (noun && dir > 0 && d <= 2 && t == counted) *noun = 1;
            double v = (side[t] == dir ? 1.0 : 0.25) / (double)d;
            if (v > best[t]) best[t] = v;
        }
    }
    double a = 0;
    for (int i = 0; i < s->nterms; i++)
        a += best[i];
    return a;
}

/* The source number a number clash reports: of the window's numbers that differ from the claim
 * number but are of its kind and unit, the one whose neighbouring words are the claim number's
 * (pair_affinity), the first on a tie ("opened to traffic in 1939" against "construction began
 * in 1933 and the bridge opened to traffic in 1937": 1937, not 1933). Windows units [ua, ub]. */
static void pair_number(const struct ver_scorer *s, const char *src, struct clash *cl, size_t ua,
                        size_t ub)
{
    if (cl->kind != CK_NUMBER || cl->cn < 0 || cl->cn >= s->ncnum) return;
    const struct num *c = &s->cnum[cl->cn];
    double best = 0;
    for (size_t k = cl->nb; k < cl->ne && k < s->nsnum; k++) {
        const struct num *w = &s->snum[k];
        if (w->kind != c->kind || w->unit != c->unit || num_consistent(c, w)) continue;
        int theirs = 0; /* another claim number's own value ("fifth ... fourth season") */
        for (int i = 0; i < s->ncnum && !theirs; i++)
            theirs = i != cl->cn && num_eq(&s->cnum[i], w);
        if (theirs) continue;
        double a = pair_affinity(s, src, c, w, ua, ub, NULL);
        if (a > best) {
            best = a;
            cl->ss = w->start;
            cl->se = w->end;
        }
    }
}

/* Widen the span [*a, *b) of a day to the month name written beside it (within 6 bytes): "May 28",
 * "28 May". v[0..n): the numbers and months of that text. */
static void widen_day(const struct num *v, size_t n, size_t *a, size_t *b)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind != NK_MONTH) continue;
        if (v[i].end <= *a && *a - v[i].end <= 6)
            *a = v[i].start;
        else if (v[i].start >= *b && v[i].start - *b <= 6)
            *b = v[i].end;
    }
}

/* "claim says X, source says Y" for a clash, into out (n bytes); a day is shown with its month. */
static void describe_clash(const struct ver_scorer *s, const struct clash *clash, const char *src,
                           char *out, size_t n)
{
    struct clash w = *clash;
    const struct clash *c = &w;
    if (w.kind == CK_NUMBER && w.cn >= 0 && w.cn < s->ncnum && s->cnum[w.cn].kind == NK_DAY) {
        widen_day(s->cnum, (size_t)s->ncnum, &w.cs, &w.ce);
        size_t lo = w.nb, hi = w.ne < s->nsnum ? w.ne : s->nsnum;
        widen_day(s->snum + lo, hi > lo ? hi - lo : 0, &w.ss, &w.se);
    }
    size_t cl = c->ce > c->cs ? c->ce - c->cs : 0, sl = c->se > c->ss ? c->se - c->ss : 0;
    if (cl > 60) cl = 60;
    if (sl > 60) sl = 60;
    const char *what = c->kind == CK_NUMBER || c->kind == CK_NAME ? ""
                       : c->kind == CK_ANT                        ? " (an antonym)"
                                                                  : " (negated on one side)";
    snprintf(out, n, "claim says \"%.*s\", source says \"%.*s\"%s", (int)cl, s->claim_text + c->cs,
             (int)sl, src + c->ss, what);
}

/* Where a missing span starting at claim byte `at` begins once the one word before it is taken
 * in: that word must be a function word (no claim term: the previous claim token ends at or before
 * `lo`, the context's end or later), separated by a single run of spaces and itself preceded by a
 * space or the start. Annotators mark the phrase ("[on his third voyage]", "[in 2015]"), not the
 * bare content word: on WiCE train_tokens this raises the missing-word F1 from 0.52 to 0.55. */
static size_t span_word_before(const char *t, size_t lo, size_t at)
{
    size_t q = at;
    while (q > lo && t[q - 1] == ' ')
        q--;
    size_t w = q;
    while (w > lo && (ascii_isalpha((unsigned char)t[w - 1]) || t[w - 1] == '\''))
        w--;
    if (w == q || q == at) return at;       /* no word, or no space before the span */
    if (w > 0 && t[w - 1] != ' ') return at; /* "(the", "U.S. the" glued: not a plain word */
    return w;
}

/* Claim bytes [a, b) between two missing words hold a comma, semicolon, colon, bracket or sentence
 * end: the words are reported as two spans ("a standalone app", "rather"), not one. */
static int clause_break(const char *t, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (strchr(",;:.!?()[]", t[i])) return 1;
    return 0;
}

/* The end of the last claim token that ends at or before byte `pos`, at least the context's end:
 * how far left a span may grow without taking in a content word. */
static size_t span_floor(const struct ver_scorer *s, size_t pos)
{
    size_t lo = s->context_len;
    for (int i = 0; i < s->nctok && s->ctok_start[i] < pos; i++)
        if (s->ctok_end[i] <= pos && s->ctok_end[i] > lo) lo = s->ctok_end[i];
    return lo;
}

/* Claim bytes [a, b) hold only spaces and commas, at most 3 of them: two numbers around them are
 * one expression ("24 October 1996", "5, 6"). */
static int num_gap(const char *t, size_t a, size_t b)
{
    if (b < a || b - a > 3) return 0;
    for (size_t i = a; i < b; i++)
        if (t[i] != ' ' && t[i] != ',') return 0;
    return 1;
}

/* Grow [*from, *to) over the claim numbers (cnum, in no particular order) that touch it or
 * follow each other with only num_gap between: the whole expression. */
static void num_expression(const struct ver_scorer *s, size_t *from, size_t *to)
{
    for (int grew = 1; grew;) {
        grew = 0;
        for (int k = 0; k < s->ncnum; k++) {
            const struct num *x = &s->cnum[k];
            if (x->start < *from && (x->end >= *from || num_gap(s->claim_text, x->end, *from))) {
                *from = x->start;
                grew = 1;
            }
            if (x->end > *to && (x->start <= *to || num_gap(s->claim_text, *to, x->start))) {
                *to = x->end;
                grew = 1;
            }
        }
    }
}

/* The missing claim spans for the best window [a, b] (step 6 above); returns the rarity-weighted
 * share of the claim they leave unsupported (without a missing-word model: the share neither
 * [a, b] nor the unit that adds most to it covers). A span takes in the function word
 * before it (span_word_before), and one that touches a number or date takes in the whole
 * expression it belongs to (a missing month makes "on 24 October 1996" missing): a date is one
 * statement. A clause break (clause_break) ends a span. Measured on WiCE train_tokens (ver_eval):
 * missing-word F1 0.518 with bare words, 0.550 with the word before, 0.573 with numbers and dates
 * whole (each half of the claims gains alike). */
static double find_missing(struct ver_scorer *s, size_t a, size_t b, struct ver_score_result *out)
{
    uint64_t win[2] = {0, 0}, bits[2], any[2] = {0, 0};
    for (size_t u = a; u <= b; u++) {
        win[0] |= s->units[u].cover[0];
        win[1] |= s->units[u].cover[1];
    }
    bits[0] = win[0];
    bits[1] = win[1];
    double cov;
    size_t extra = best_complement(s, bits, &cov);
    if (extra != SIZE_MAX) {
        bits[0] |= s->units[extra].cover[0];
        bits[1] |= s->units[extra].cover[1];
    }
    for (size_t u = 0; u < s->nunits; u++) {
        any[0] |= s->units[u].cover[0];
        any[1] |= s->units[u].cover[1];
    }
    out->nmissing = 0;
    double uncovered = 0, total = 0, pu[SC_MAX_PARTS] = {0}, pt[SC_MAX_PARTS] = {0};
    for (int c = 0; c < s->nterms; c++) {
        int ct = s->term_ctok[c];
        if (ct >= 0 && s->ctok_start[ct] < s->context_len) continue; /* context */
        int q = s->term_part[c], in = bits[c >> 6] >> (c & 63) & 1;
        total += s->rar[c];
        pt[q] += s->rar[c];
        if (!in) {
            uncovered += s->rar[c];
            pu[q] += s->rar[c];
        }
    }
    /* which claim words are missing: a word found nowhere in the source always is; one found
     * somewhere is missing when the missing-word model says so (a model file without one: when
     * the window and its complement sentence leave it out) */
    uint8_t miss[SC_MAX_CTOK];
    for (int i = 0; i < s->nctok; i++) {
        int c = s->ctok[i];
        miss[i] = 0;
        if (c < 0 || s->ctok_start[i] < s->context_len) continue;
        int q = s->term_part[c];
        double x[VER_MISS_NFEAT];
        x[VER_M_NOT_WINDOW] = !(win[c >> 6] >> (c & 63) & 1);
        x[VER_M_NOT_UNION] = !(bits[c >> 6] >> (c & 63) & 1);
        x[VER_M_RARITY] = s->rar[c];
        x[VER_M_PART_UNCOVERED] = pt[q] > 0 ? pu[q] / pt[q] : 0;
        x[VER_M_CLAIM_UNCOVERED] = total > 0 ? uncovered / total : 0;
        x[VER_M_SCORE] = out->score;
        int absent = !(any[c >> 6] >> (c & 63) & 1);
        miss[i] = absent || (s->model.has_missing
                                 ? ver_model_miss_prob(&s->model, x) > s->model.t_missing
                                 : x[VER_M_NOT_UNION] > 0);
        if (s->word_cb && s->word_cb(s->word_ctx, x, absent, s->ctok_start[i], s->ctok_end[i]))
            s->word_cb = NULL; /* the caller asked to stop */
    }
    int open = 0;
    for (int i = 0; i < s->nctok; i++) {
        if (!miss[i]) {
            open = 0;
            continue;
        }
        if (open && !clause_break(s->claim_text, s->ctok_end[i - 1], s->ctok_start[i])) {
            out->missing[out->nmissing - 1].end = s->ctok_end[i];
        } else if (out->nmissing < VER_SCORE_MAX_MISSING) {
            size_t lo = span_floor(s, s->ctok_start[i]);
            out->missing[out->nmissing].start =
                span_word_before(s->claim_text, lo, s->ctok_start[i]);
            out->missing[out->nmissing].end = s->ctok_end[i];
            out->nmissing++;
            open = 1;
        }
    }
    for (int m = 0; m < out->nmissing; m++) {
        struct ver_span *sp = &out->missing[m];
        size_t from = SIZE_MAX, to = 0;
        for (int k = 0; k < s->ncnum; k++)
            if (s->cnum[k].start < sp->end && sp->start < s->cnum[k].end) {
                if (s->cnum[k].start < from) from = s->cnum[k].start;
                if (s->cnum[k].end > to) to = s->cnum[k].end;
            }
        if (from == SIZE_MAX) continue; /* no number in the span */
        num_expression(s, &from, &to);
        if (from < sp->start && from >= s->context_len)
            sp->start = span_word_before(s->claim_text, span_floor(s, from), from);
        if (to > sp->end) sp->end = to;
    }
    /* grown spans may now touch, overlap or (grown left) precede an earlier one: sort by start,
     * then join */
    for (int m = 1; m < out->nmissing; m++)
        for (int k = m; k > 0 && out->missing[k].start < out->missing[k - 1].start; k--) {
            struct ver_span t = out->missing[k];
            out->missing[k] = out->missing[k - 1];
            out->missing[k - 1] = t;
        }
    int w = 0;
    for (int m = 0; m < out->nmissing; m++) {
        if (w > 0 && out->missing[m].start <= out->missing[w - 1].end) {
            if (out->missing[m].end > out->missing[w - 1].end)
                out->missing[w - 1].end = out->missing[m].end;
            continue;
        }
        out->missing[w++] = out->missing[m];
    }
    out->nmissing = w;
    if (s->model.has_missing) { /* what is reported missing is what makes a claim weak */
        uncovered = 0;
        for (int c = 0; c < s->nterms; c++) {
            int ct = s->term_ctok[c];
            if (ct >= 0 && miss[ct]) uncovered += s->rar[c];
        }
    }
    return total > 0 ? uncovered / total : 0;
}

int ver_score_source(struct ver_scorer *s, const char *claim, const char *source_text, size_t len,
                     struct ver_score_result *out, struct err *err)
{
    return ver_score_source_ctx(s, claim, 0, source_text, len, out, err);
}

int ver_score_claim_in_context(const char *claim, const char *title, struct buf *out,
                               size_t *context_len)
{
    buf_reset(out);
    if (title && *title && !strcasestr(claim, title) &&
        (buf_puts(out, title) || buf_puts(out, ": "))) {
        buf_reset(out);
        return -1;
    }
    if (context_len) *context_len = out->len;
    if (buf_puts(out, claim)) {
        buf_reset(out);
        return -1;
    }
    return 0;
}

int ver_score_source_ctx(struct ver_scorer *s, const char *claim, size_t context_len,
                         const char *source_text, size_t len, struct ver_score_result *out,
                         struct err *err)
{
    struct ver_score_claim c = {claim, context_len, 0};
    return ver_score_cited(s, &c, source_text, len, out, err);
}

int ver_score_cited(struct ver_scorer *s, const struct ver_score_claim *c, const char *source_text,
                    size_t len, struct ver_score_result *out, struct err *err)
{
    if (!out || !c) return err_set(err, ERR_ARG, "ver_score_source: NULL result or claim");
    const char *claim = c->text;
    if (s) {
        s->context_len = c->context_len;
        s->cocited = c->cocited;
    }
    double doc[7], avg_unit, f[VER_SCORE_NFEAT];
    int rc = prepare(s, claim, source_text, len, doc, &avg_unit, err);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    s->ntop = 0;
    int nwin = 0;
    /* the best window with a clash and the best lexical coverage without one */
    double clash_cov = -1, free_cov = 0;
    struct clash best_clash = {.kind = CK_NONE, .cn = -1};
    size_t ca = 0, cb = 0;
    for (size_t a = 0; a < s->nunits; a++) {
        size_t words = 0;
        for (size_t b = a; window_fits(s, a, b, &words); b++) {
            window_features(s, a, b, doc, avg_unit, f);
            top_push(s, a, b, ver_score_align(f), ver_model_logit(&s->model, f), f);
            if (s->win_clash.kind != CK_NONE) {
                if (s->win_clash_cov > clash_cov) {
                    clash_cov = s->win_clash_cov;
                    best_clash = s->win_clash;
                    ca = a;
                    cb = b;
                }
            } else if (f[VER_F_COV_LEX] > free_cov) {
                free_cov = f[VER_F_COV_LEX];
            }
            nwin++;
        }
    }
    out->nwindows = nwin;
    if (nwin == 0) {
        out->verdict = ver_scorer_verdict(s, 0);
        int first = 0; /* nothing of the claim (after its context) is covered */
        while (first < s->nctok && s->ctok_start[first] < s->context_len)
            first++;
        if (first < s->nctok) {
            out->missing[0].start = s->ctok_start[first];
            out->missing[0].end = s->ctok_end[s->nctok - 1];
            out->nmissing = 1;
        }
        return ERR_OK;
    }
    if (s->opts.dense && s->model.w[VER_F_DENSE] != 0) {
        for (int i = 0; i < s->ntop; i++) {
            struct top *tp = &s->top[i];
            size_t ws = s->units[tp->a].bs, we = s->units[tp->b].be;
            tp->feat[VER_F_DENSE] =
                s->opts.dense(s->opts.dense_ctx, claim, strlen(claim), source_text + ws, we - ws);
            tp->logit = ver_model_logit(&s->model, tp->feat);
        }
        for (int i = 1; i < s->ntop; i++) /* the best of them by the model with dense first */
            if (better(s->top[i].logit, s->top[i].feat[VER_F_WIN_LEN], s->top[0].logit,
                       s->top[0].feat[VER_F_WIN_LEN])) {
                struct top t = s->top[0];
                s->top[0] = s->top[i];
                s->top[i] = t;
            }
    }
    const struct top *best = &s->top[0];
    out->score = 1.0 / (1.0 + exp(-best->logit));
    out->verdict = ver_scorer_verdict(s, out->score);
    size_t wa = best->a, wb = best->b;
    memcpy(out->feat, best->feat, sizeof out->feat);
    /* a claim with a part the evidence leaves out is at best partly supported */
    if (find_missing(s, wa, wb, out) > SC_MISSING_WEAK && out->verdict == VER_SUPPORTED)
        out->verdict = VER_WEAK;
    if (best_clash.kind != CK_NONE && clash_cov >= s->model.t_contra &&
        clash_cov > free_cov + SC_CONTRA_MARGIN) {
        out->verdict = VER_CONTRADICTED;
        pair_number(s, source_text, &best_clash, ca, cb);
        describe_clash(s, &best_clash, source_text, out->clash, sizeof out->clash);
        wa = ca;
        wb = cb;
    }
    out->win_start = s->units[wa].bs;
    out->win_end = s->units[wb].be;
    for (size_t t = s->units[wa].tb; t < s->units[wb].te && out->nmatch < VER_SCORE_MAX_MATCH; t++)
        if (s->tok_arr[t].cidx >= 0 ||
            (s->tok_arr[t].rc >= 0 && s->tok_arr[t].rel != VER_LEX_ANT)) {
            out->match[out->nmatch].start = s->tok_arr[t].start - out->win_start;
            out->match[out->nmatch].end = s->tok_arr[t].end - out->win_start;
            out->nmatch++;
        }
    return ERR_OK;
}

/* ---------------------------------------------------------------- helpers for suggestions */

struct overlap_ctx {
    struct ver_scorer *s;
    int collect; /* 1: collect terms of a, 0: mark those found in b */
    uint64_t h[64];
    uint8_t seen[64];
    int n;
};

static int overlap_cb(void *ctx, const char *term, size_t len, int pos, size_t start, size_t end)
{
    (void)pos;
    (void)start;
    (void)end;
    struct overlap_ctx *o = ctx;
    uint64_t h = hash_fnv1a64(term, len);
    for (int i = 0; i < o->n; i++)
        if (o->h[i] == h) {
            if (!o->collect) o->seen[i] = 1;
            return 0;
        }
    if (o->collect && o->n < 64) {
        o->h[o->n] = h;
        o->seen[o->n] = 0;
        o->n++;
    }
    return 0;
}

double ver_scorer_term_overlap(struct ver_scorer *s, const char *a, const char *b)
{
    if (!s || !a || !b) return 0;
    struct overlap_ctx o;
    memset(&o, 0, sizeof o);
    o.s = s;
    o.collect = 1;
    corpus_tok_run(s->tok, a, strlen(a), overlap_cb, &o);
    if (!o.n) return 0;
    o.collect = 0;
    corpus_tok_run(s->tok, b, strlen(b), overlap_cb, &o);
    int hit = 0;
    for (int i = 0; i < o.n; i++)
        hit += o.seen[i];
    return (double)hit / o.n;
}

int ver_score_is_navigation(const char *text, size_t len)
{
    /* prose: lines of at least 8 words that end a sentence; a page of 10 or more lines with
     * under 5% of its words in prose is a list of links, a table of contents or a menu (on the
     * WiCE dev pages, real cited pages, this flags 2 of 349) */
    int lines = 0;
    long words = 0, prose = 0;
    for (size_t a = 0; a < len;) {
        const char *nl = memchr(text + a, '\n', len - a);
        size_t b = nl ? (size_t)(nl - text) : len;
        int w = 0, inword = 0, letters = 0;
        for (size_t i = a; i < b; i++) {
            unsigned char c = (unsigned char)text[i];
            int sp = c == ' ' || c == '\t' || c == '|' || c == '\r';
            if (!sp && !inword) w++;
            inword = !sp;
            letters += ascii_isalpha(c) || c >= 0x80;
        }
        if (letters) {
            lines++;
            words += w;
            size_t e = b;
            while (e > a && (text[e - 1] == ' ' || text[e - 1] == '\r' || text[e - 1] == '"' ||
                             text[e - 1] == ')' || text[e - 1] == '\''))
                e--;
            char last = e > a ? text[e - 1] : ' ';
            if (w >= 8 && (last == '.' || last == '!' || last == '?')) prose += w;
        }
        a = b + 1;
    }
    return lines >= 10 && prose * 20 < words;
}
