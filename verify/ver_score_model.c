/* ver_score_model.c - the verifier model file: parsing, writing, the logit, and the built-in copy.
 *
 * Format (text, one item a line; blank lines and lines starting with '#' are ignored):
 *   vericite-verifier-model 2              magic and format version (first line)
 *   # made: ... / # data: ... / # metrics: ...   how it was made (comments)
 *   bias <b>
 *   feature <name> <mean> <scale> <weight> one line per feature, in enum ver_feat order
 *   threshold <supported> <weak>           0 <= weak <= supported <= 1
 *   calibration <target> <precision> <recall>  the precision of `supported` the threshold was
 *                                          fitted for, and the cross-validated precision and
 *                                          recall measured at it (each in [0, 1])
 *   contradiction <coverage>               a clashing window needs this lexical coverage
 *   rank_bias <b>
 *   rank_feature <name> <mean> <scale> <weight>  the suggestion ranker, enum ver_rank_feat order
 *   suggest_floor <p>                      no suggestion ranked below this probability
 *   missing_bias <b>                       optional, all three or none: the missing-word model
 *   missing_feature <name> <mean> <scale> <weight>  enum ver_miss_feat order
 *   missing_threshold <p>                  a claim word is missing above this probability
 *   end                                    anything missing before it means truncated
 * score = logistic(b + sum weight * (x - mean) / scale); the ranker and the missing-word model
 * likewise. A file without the missing-word lines (made before 2026-12-04) still reads: the
 * scorer then reports every word the evidence leaves out. */
#include "ver_score_int.h"

#include "err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double ver_model_logit(const struct ver_model *m, const double *x)
{
    double z = m->bias;
    for (int i = 0; i < VER_SCORE_NFEAT; i++)
        z += m->w[i] * (x[i] - m->mean[i]) / m->scale[i];
    return z;
}

double ver_model_rank_logit(const struct ver_model *m, const double *x)
{
    double z = m->rank_bias;
    for (int i = 0; i < VER_RANK_NFEAT; i++)
        z += m->rw[i] * (x[i] - m->rmean[i]) / m->rscale[i];
    return z;
}

double ver_model_miss_prob(const struct ver_model *m, const double *x)
{
    double z = m->miss_bias;
    for (int i = 0; i < VER_MISS_NFEAT; i++)
        z += m->mw[i] * (x[i] - m->mmean[i]) / m->mscale[i];
    return 1.0 / (1.0 + exp(-z));
}

/* Parse one finite double from *p, moving *p past it. 0 or -1. */
static int num_at(const char **p, const char *end, double *out)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    char tmp[64];
    size_t n = 0;
    while (s + n < end && n < sizeof tmp - 1 && s[n] != ' ' && s[n] != '\t') {
        tmp[n] = s[n];
        n++;
    }
    if (n == 0 || n == sizeof tmp - 1) return -1;
    tmp[n] = '\0';
    char *e = NULL;
    errno = 0;
    double v = strtod(tmp, &e);
    if (errno || *e || !isfinite(v)) return -1;
    *out = v;
    *p = s + n;
    return 0;
}

/* Does line [p, end) start with word `w` followed by a blank or the end? Moves *p past it. */
static int word_at(const char **p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - *p) < n || memcmp(*p, w, n) != 0) return 0;
    if (*p + n < end && (*p)[n] != ' ' && (*p)[n] != '\t') return 0;
    *p += n;
    return 1;
}

static int in01(double v)
{
    return v >= 0 && v <= 1;
}

static int rest_blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end;
}

/* Parse "<name> <mean> <scale> <weight>" of feature number *nfeat (expected `names[*nfeat]`). */
static int feature_line(const char **q, const char *le, const char *const *names, int max,
                        int *nfeat, double *mean, double *scale, double *w, const char *name,
                        int line, struct err *err)
{
    while (*q < le && (**q == ' ' || **q == '\t'))
        (*q)++;
    const char *ns = *q;
    while (*q < le && **q != ' ' && **q != '\t')
        (*q)++;
    size_t nl2 = (size_t)(*q - ns);
    if (*nfeat >= max)
        return err_set(err, ERR_MISMATCH, "%s:%d: more features than the %d this build has", name,
                       line, max);
    const char *want = names[*nfeat];
    if (nl2 != strlen(want) || memcmp(ns, want, nl2) != 0)
        return err_set(err, ERR_MISMATCH,
                       "%s:%d: feature %d is \"%.*s\", this build expects \"%s\"", name, line,
                       *nfeat, (int)(nl2 > 40 ? 40 : nl2), ns, want);
    if (num_at(q, le, &mean[*nfeat]) || num_at(q, le, &scale[*nfeat]) ||
        num_at(q, le, &w[*nfeat]) || !rest_blank(*q, le))
        return err_set(err, ERR_CORRUPT, "%s:%d: bad feature line (want: mean scale weight)", name,
                       line);
    if (!(scale[*nfeat] > 0))
        return err_set(err, ERR_CORRUPT, "%s:%d: scale must be positive", name, line);
    (*nfeat)++;
    return ERR_OK;
}

int ver_model_parse(struct ver_model *m, const char *text, size_t len, const char *name,
                    struct err *err)
{
    struct ver_model tmp;
    memset(&tmp, 0, sizeof tmp);
    if (len > VER_MODEL_MAX_BYTES)
        return err_set(err, ERR_CORRUPT, "%s: %zu bytes, too large for a verifier model", name,
                       len);
    if (memchr(text, '\0', len))
        return err_set(err, ERR_CORRUPT, "%s: binary data, not a verifier model", name);
    const char *p = text, *end = text + len;
    int line = 0, nfeat = 0, nrank = 0, have_bias = 0, have_thr = 0, done = 0;
    int have_rbias = 0, have_contra = 0, have_floor = 0, have_mbias = 0, have_mthr = 0, nmiss = 0;
    while (p < end && !done) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = p;
        line++;
        p = nl ? nl + 1 : end;
        if (le > q && le[-1] == '\r') le--;
        if (line == 1) {
            double v;
            if (!word_at(&q, le, VER_MODEL_MAGIC))
                return err_set(err, ERR_CORRUPT,
                               "%s: not a vericite verifier model (no \"%s\" line)", name,
                               VER_MODEL_MAGIC);
            if (num_at(&q, le, &v) || !rest_blank(q, le))
                return err_set(err, ERR_CORRUPT, "%s:1: bad format version", name);
            if (v != VER_MODEL_VERSION)
                return err_set(err, ERR_MISMATCH,
                               "%s: model format version %g, this build reads %d", name, v,
                               VER_MODEL_VERSION);
            continue;
        }
        while (q < le && (*q == ' ' || *q == '\t'))
            q++;
        if (q == le || *q == '#') continue;
        if (word_at(&q, le, "bias")) {
            if (num_at(&q, le, &tmp.bias) || !rest_blank(q, le))
                return err_set(err, ERR_CORRUPT, "%s:%d: bad bias line", name, line);
            have_bias = 1;
        } else if (word_at(&q, le, "feature")) {
            int rc = feature_line(&q, le, ver_score_feature_names, VER_SCORE_NFEAT, &nfeat,
                                  tmp.mean, tmp.scale, tmp.w, name, line, err);
            if (rc) return rc;
        } else if (word_at(&q, le, "rank_feature")) {
            int rc = feature_line(&q, le, ver_rank_feature_names, VER_RANK_NFEAT, &nrank, tmp.rmean,
                                  tmp.rscale, tmp.rw, name, line, err);
            if (rc) return rc;
        } else if (word_at(&q, le, "rank_bias")) {
            if (num_at(&q, le, &tmp.rank_bias) || !rest_blank(q, le))
                return err_set(err, ERR_CORRUPT, "%s:%d: bad rank_bias line", name, line);
            have_rbias = 1;
        } else if (word_at(&q, le, "threshold")) {
            if (num_at(&q, le, &tmp.t_supported) || num_at(&q, le, &tmp.t_weak) ||
                !rest_blank(q, le))
                return err_set(err, ERR_CORRUPT, "%s:%d: bad threshold line (want: supported weak)",
                               name, line);
            if (!(tmp.t_weak >= 0 && tmp.t_weak <= tmp.t_supported && tmp.t_supported <= 1))
                return err_set(err, ERR_CORRUPT,
                               "%s:%d: thresholds must satisfy 0 <= weak <= supported <= 1", name,
                               line);
            have_thr = 1;
        } else if (word_at(&q, le, "calibration")) {
            if (num_at(&q, le, &tmp.cal_target) || num_at(&q, le, &tmp.cal_precision) ||
                num_at(&q, le, &tmp.cal_recall) || !rest_blank(q, le) || !in01(tmp.cal_target) ||
                !in01(tmp.cal_precision) || !in01(tmp.cal_recall))
                return err_set(
                    err, ERR_CORRUPT,
                    "%s:%d: bad calibration line (want: target precision recall in [0, 1])", name,
                    line);
        } else if (word_at(&q, le, "contradiction")) {
            if (num_at(&q, le, &tmp.t_contra) || !rest_blank(q, le) || !in01(tmp.t_contra))
                return err_set(err, ERR_CORRUPT, "%s:%d: bad contradiction line (want: coverage)",
                               name, line);
            have_contra = 1;
        } else if (word_at(&q, le, "suggest_floor")) {
            if (num_at(&q, le, &tmp.suggest_floor) || !rest_blank(q, le) ||
                !in01(tmp.suggest_floor))
                return err_set(err, ERR_CORRUPT, "%s:%d: bad suggest_floor line", name, line);
            have_floor = 1;
        } else if (word_at(&q, le, "missing_feature")) {
            int rc = feature_line(&q, le, ver_miss_feature_names, VER_MISS_NFEAT, &nmiss,
                                  tmp.mmean, tmp.mscale, tmp.mw, name, line, err);
            if (rc) return rc;
        } else if (word_at(&q, le, "missing_bias")) {
            if (num_at(&q, le, &tmp.miss_bias) || !rest_blank(q, le))
                return err_set(err, ERR_CORRUPT, "%s:%d: bad missing_bias line", name, line);
            have_mbias = 1;
        } else if (word_at(&q, le, "missing_threshold")) {
            if (num_at(&q, le, &tmp.t_missing) || !rest_blank(q, le) || !in01(tmp.t_missing))
                return err_set(err, ERR_CORRUPT,
                               "%s:%d: bad missing_threshold line (want: a probability)", name,
                               line);
            have_mthr = 1;
        } else if (word_at(&q, le, "end")) {
            done = 1;
        } else {
            return err_set(err, ERR_CORRUPT, "%s:%d: unknown line \"%.*s\"", name, line,
                           (int)((le - q) > 40 ? 40 : (le - q)), q);
        }
    }
    if (line == 0) return err_set(err, ERR_CORRUPT, "%s: empty, not a verifier model", name);
    if (!done) return err_set(err, ERR_CORRUPT, "%s: truncated (no \"end\" line)", name);
    if (!have_bias || !have_thr || nfeat != VER_SCORE_NFEAT || !have_rbias ||
        nrank != VER_RANK_NFEAT || !have_contra || !have_floor)
        return err_set(err, ERR_CORRUPT,
                       "%s: incomplete model (bias %s, %d of %d features, thresholds %s, "
                       "contradiction %s, rank_bias %s, %d of %d rank features, suggest_floor %s)",
                       name, have_bias ? "yes" : "no", nfeat, VER_SCORE_NFEAT,
                       have_thr ? "yes" : "no", have_contra ? "yes" : "no",
                       have_rbias ? "yes" : "no", nrank, VER_RANK_NFEAT, have_floor ? "yes" : "no");
    if (have_mbias || have_mthr || nmiss) {
        if (!have_mbias || !have_mthr || nmiss != VER_MISS_NFEAT)
            return err_set(err, ERR_CORRUPT,
                           "%s: incomplete missing-word model (missing_bias %s, %d of %d "
                           "missing_feature lines, missing_threshold %s)",
                           name, have_mbias ? "yes" : "no", nmiss, VER_MISS_NFEAT,
                           have_mthr ? "yes" : "no");
        tmp.has_missing = 1;
    }
    *m = tmp;
    return ERR_OK;
}

int ver_model_load(struct ver_model *m, const char *path, struct err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path,
                       strerror(errno));
    char *data = malloc(VER_MODEL_MAX_BYTES + 1);
    if (!data) {
        fclose(f);
        return err_set(err, ERR_NOMEM, "%s", path);
    }
    size_t n = fread(data, 1, VER_MODEL_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    int rc;
    if (bad)
        rc = err_set(err, ERR_IO, "%s: read error", path);
    else
        rc = ver_model_parse(m, data, n, path, err);
    free(data);
    return rc;
}

int ver_model_format(const struct ver_model *m, const char *comments, struct buf *out,
                     struct err *err)
{
    int bad = buf_printf(out, "%s %d\n", VER_MODEL_MAGIC, VER_MODEL_VERSION);
    if (comments) bad |= buf_puts(out, comments);
    bad |= buf_printf(out, "bias %.9g\n# feature name mean scale weight\n", m->bias);
    for (int i = 0; i < VER_SCORE_NFEAT; i++)
        bad |= buf_printf(out, "feature %s %.9g %.9g %.9g\n", ver_score_feature_names[i],
                          m->mean[i], m->scale[i], m->w[i]);
    bad |= buf_printf(out, "# threshold supported weak\nthreshold %.6g %.6g\n", m->t_supported,
                      m->t_weak);
    bad |= buf_printf(out,
                      "# calibration target-precision cv-precision cv-recall (of supported)\n"
                      "calibration %.4g %.4g %.4g\n",
                      m->cal_target, m->cal_precision, m->cal_recall);
    bad |= buf_printf(out,
                      "# contradiction: least lexical coverage of a clashing window\n"
                      "contradiction %.4g\n",
                      m->t_contra);
    bad |= buf_printf(out, "# the suggestion ranker\nrank_bias %.9g\n", m->rank_bias);
    for (int i = 0; i < VER_RANK_NFEAT; i++)
        bad |= buf_printf(out, "rank_feature %s %.9g %.9g %.9g\n", ver_rank_feature_names[i],
                          m->rmean[i], m->rscale[i], m->rw[i]);
    bad |= buf_printf(out, "suggest_floor %.4g\n", m->suggest_floor);
    if (m->has_missing) {
        bad |= buf_printf(out, "# the missing-word model\nmissing_bias %.9g\n", m->miss_bias);
        for (int i = 0; i < VER_MISS_NFEAT; i++)
            bad |= buf_printf(out, "missing_feature %s %.9g %.9g %.9g\n",
                              ver_miss_feature_names[i], m->mmean[i], m->mscale[i], m->mw[i]);
        bad |= buf_printf(out, "missing_threshold %.4g\n", m->t_missing);
    }
    bad |= buf_puts(out, "end\n");
    return bad ? err_set(err, ERR_NOMEM, "formatting the model") : ERR_OK;
}

/* ---- built-in model (generated) ---- */
/* A byte-for-byte copy of verify/verifier-model.txt (the test ver_score_builtin_matches_file fails
 * when they differ). Regenerate the string with
 *   sed 's/\\/\\\\/g; s/"/\\"/g; s/^/    "/; s/$/\\n"/' verify/verifier-model.txt */
/* clang-format off */
static const char builtin_model[] =
    "vericite-verifier-model 2\n"
    "# made: vericite train-verifier ../shared/data (ver_train: 1 rounds of evidence-window selection + Newton logistic regression, L2 0.1, classes weighted equally; thresholds on 5-fold out-of-fold scores, WiCE claims grouped by article; pairwise logistic ranker)\n"
    "# data: wice/dev.jsonl, wice/train_tokens.jsonl, citation-integrity/claims_train.jsonl + corpus.jsonl; negatives = each claim with another claim's page, and with a number changed; pairs: 1244 WiCE dev, 934 WiCE train_tokens, 5243 CI train, 835 CI dev (not fitted)\n"
    "# metrics (WiCE out of fold): own vs other page AUC 0.9462, 3-way accuracy 0.8386, supported F1 0.4785 (precision 0.8125, recall 0.3391; best-threshold F1 0.6535), number-swap drop 0.7310, contradicted: 0.1421 of number swaps, 0.0348 of supported pages; Citation-Integrity dev: SUPPORT vs REFUTE AUC 0.6339, macro-F1 0.4140, wrong-source AUC 0.9563; ranker (in sample) R@1 0.9570 R@5 0.9914\n"
    "# missing words (out of fold, 4171 words of WiCE train_tokens and supported claims): precision 0.6074, recall 0.6685, F1 0.5660, words of supported claims called missing 0.1575 (the rule before: F1 0.4987, 0.1978)\n"
    "bias -1.45746501\n"
    "# feature name mean scale weight\n"
    "feature bm25 0.0110841988 0.0291327668 0\n"
    "feature cov_idf 0.0247365771 0.0658374889 0\n"
    "feature cov 0.0425967773 0.100356928 0.0796530043\n"
    "feature bigram 0.00802396058 0.0405697402 0\n"
    "feature cov_w 0.0425004366 0.104461232 0.100961191\n"
    "feature cov_lex 0.0651512659 0.119502479 0.0270371315\n"
    "feature lex_syn 0.00965358581 0.0302421668 0\n"
    "feature lex_hypo 0.00579076966 0.0216871427 0\n"
    "feature lex_hyper 0.0125940626 0.0366235887 0\n"
    "feature part_min 0.0285901303 0.0904302807 0\n"
    "feature part_miss 0.969377667 0.128865749 -0.00813636054\n"
    "feature num_agree 0.0113380181 0.12005733 0\n"
    "feature num_conflict 0.00308875491 0.0497578573 -0.0203363877\n"
    "feature date_agree -0.0810569153 0.284132165 0.0133300924\n"
    "feature date_conflict 0.0918997076 0.272348049 -0.0419896848\n"
    "feature name_agree -0.788886524 0.44115906 0.0553092144\n"
    "feature neg_flip 0.00261657765 0.0288617643 0\n"
    "feature ant_clash 0.00287700021 0.0277585753 0\n"
    "feature doc_cov 0.489186516 0.290397315 0.155915192\n"
    "feature doc_name -0.101468073 0.791122593 0.0825631356\n"
    "feature doc_union 0.454944836 0.245296676 0.172729685\n"
    "feature claim_len 2.43399413 0.480299881 0.159172423\n"
    "feature win_len 2.443264 0.86523679 0\n"
    "feature dense 0 1 0\n"
    "feature doc_len 9.13589853 1.04038266 -0.089893027\n"
    "feature doc_part_min 0.301373607 0.293996834 0\n"
    "feature doc_miss_max 0.822088184 0.327352242 -0.025269292\n"
    "feature s_cov 0.012032493 0.0635694953 0.0138775718\n"
    "feature s_bm25 0.00235810047 0.0147822957 0\n"
    "feature s_cov_w 0.0126880165 0.0681148772 0.0175296796\n"
    "feature s_cov_lex 0.0158126743 0.0780599616 0\n"
    "feature s_claim_len 0.198485745 0.755698769 0.0342576845\n"
    "feature s_doc_cov 0.0196283251 0.0950221296 0.212861573\n"
    "feature s_bigram 0.00328149787 0.0251427457 0\n"
    "feature s_part_min 0.00538612206 0.047701431 0\n"
    "feature cocited 0.00821575499 0.0556067018 -0.0270183228\n"
    "# threshold supported weak\n"
    "threshold 0.6759 0.36\n"
    "# calibration target-precision cv-precision cv-recall (of supported)\n"
    "calibration 0.8 0.8125 0.3391\n"
    "# contradiction: least lexical coverage of a clashing window\n"
    "contradiction 0.8\n"
    "# the suggestion ranker\n"
    "rank_bias -2.57584631\n"
    "rank_feature logit -1.12767105 0.701968923 0.259628224\n"
    "rank_feature gain 0.681288033 0.724112953 0.251688558\n"
    "rank_feature cov_lex 0.312583939 0.17067786 0.234202564\n"
    "rank_feature doc_union 0.342329723 0.178855933 0.272728247\n"
    "rank_feature name -0.369554359 0.696981513 0.241368627\n"
    "rank_feature bm25 0.492080322 0.273962651 0.385191514\n"
    "rank_feature rank 1.09654187 0.604907982 -0.431755101\n"
    "rank_feature dense 0 1 0\n"
    "rank_feature title 0.12827182 0.300454547 0.169599189\n"
    "rank_feature claim_title 0.0460942496 0.0827055664 0.139373857\n"
    "suggest_floor 0.14\n"
    "# the missing-word model\n"
    "missing_bias -2.02438456\n"
    "missing_feature not_window 0.251232956 0.433722213 0.453782274\n"
    "missing_feature not_union 0.101827676 0.302421561 -0.184106191\n"
    "missing_feature rarity 0.60964149 0.266796737 -0.00637008833\n"
    "missing_feature part_uncovered 0.211152096 0.198013075 0.0423397454\n"
    "missing_feature claim_uncovered 0.225249905 0.159969838 -0.725094738\n"
    "missing_feature score 0.549067821 0.156028391 -0.960437322\n"
    "missing_threshold 0.22\n"
    "end\n";
/* clang-format on */

const char *ver_score_builtin_model(void)
{
    return builtin_model;
}
