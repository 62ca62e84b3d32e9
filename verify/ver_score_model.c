/* ver_score_model.c - the verifier model file: parsing, writing, the logit, and the built-in copy.
 *
 * Format (text, one item a line; blank lines and lines starting with '#' are ignored):
 *   vericite-verifier-model 1              magic and format version (first line)
 *   # made: ... / # data: ... / # date: ... / # metrics: ...   how it was made (comments)
 *   bias <b>
 *   feature <name> <mean> <scale> <weight> one line per feature, in enum ver_feat order
 *   threshold <supported> <weak>           0 <= weak <= supported <= 1
 *   end                                    anything missing before it means truncated
 * score = logistic(b + sum weight * (x - mean) / scale). */
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

static int rest_blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end;
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
    int line = 0, nfeat = 0, have_bias = 0, have_thr = 0, done = 0;
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
            while (q < le && (*q == ' ' || *q == '\t'))
                q++;
            const char *ns = q;
            while (q < le && *q != ' ' && *q != '\t')
                q++;
            size_t nl2 = (size_t)(q - ns);
            if (nfeat >= VER_SCORE_NFEAT)
                return err_set(err, ERR_MISMATCH, "%s:%d: more features than the %d this build has",
                               name, line, VER_SCORE_NFEAT);
            const char *want = ver_score_feature_names[nfeat];
            if (nl2 != strlen(want) || memcmp(ns, want, nl2) != 0)
                return err_set(err, ERR_MISMATCH,
                               "%s:%d: feature %d is \"%.*s\", this build expects \"%s\"", name,
                               line, nfeat, (int)(nl2 > 40 ? 40 : nl2), ns, want);
            if (num_at(&q, le, &tmp.mean[nfeat]) || num_at(&q, le, &tmp.scale[nfeat]) ||
                num_at(&q, le, &tmp.w[nfeat]) || !rest_blank(q, le))
                return err_set(err, ERR_CORRUPT,
                               "%s:%d: bad feature line (want: mean scale weight)", name, line);
            if (!(tmp.scale[nfeat] > 0))
                return err_set(err, ERR_CORRUPT, "%s:%d: scale must be positive", name, line);
            nfeat++;
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
        } else if (word_at(&q, le, "end")) {
            done = 1;
        } else {
            return err_set(err, ERR_CORRUPT, "%s:%d: unknown line \"%.*s\"", name, line,
                           (int)((le - q) > 40 ? 40 : (le - q)), q);
        }
    }
    if (line == 0) return err_set(err, ERR_CORRUPT, "%s: empty, not a verifier model", name);
    if (!done) return err_set(err, ERR_CORRUPT, "%s: truncated (no \"end\" line)", name);
    if (!have_bias || !have_thr || nfeat != VER_SCORE_NFEAT)
        return err_set(err, ERR_CORRUPT,
                       "%s: incomplete model (bias %s, %d of %d features, thresholds %s)", name,
                       have_bias ? "yes" : "no", nfeat, VER_SCORE_NFEAT, have_thr ? "yes" : "no");
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
    bad |= buf_printf(out, "# threshold supported weak\nthreshold %.6g %.6g\nend\n", m->t_supported,
                      m->t_weak);
    return bad ? err_set(err, ERR_NOMEM, "formatting the model") : ERR_OK;
}

/* ---- built-in model (generated) ---- */
/* A byte-for-byte copy of verify/verifier-model.txt (the test ver_score_builtin_matches_file fails
 * when they differ). Regenerate the string with
 *   sed 's/\\/\\\\/g; s/"/\\"/g; s/^/    "/; s/$/\\n"/' verify/verifier-model.txt */
/* clang-format off */
static const char builtin_model[] =
    "vericite-verifier-model 1\n"
    "# made: vericite train-verifier ../shared/data (ver_train: 4 rounds of best-window selection + Newton logistic regression, L2 0.01, classes weighted equally)\n"
    "# data: wice/dev.jsonl (30% of claims held out by id hash), citation-integrity/claims_train.jsonl + corpus.jsonl; negatives = each claim with another claim's page; pairs: 821 WiCE train, 423 WiCE held out, 5243 CI train, 835 CI dev\n"
    "# date: 2026-11-29\n"
    "# metrics: held-out WiCE true vs wrong page AUC 0.9937, 3-way accuracy 0.8405, flag accuracy 0.9715, supported-vs-rest F1 on true pages 0.6019, number-swap drop 0.7917; Citation-Integrity dev macro-F1 0.4552, SUPPORT F1 0.6409, wrong-source AUC 0.9577\n"
    "bias -1.83858471\n"
    "# feature name mean scale weight\n"
    "feature bm25 0.0137357194 0.0318215355 0\n"
    "feature cov_idf 0.0295745349 0.068569262 0\n"
    "feature cov 0.0583121425 0.118257528 0.664228083\n"
    "feature bigram 0.0131205414 0.0495421979 0\n"
    "feature num_agree 0.0195254676 0.154864615 0\n"
    "feature num_conflict 0.00547780214 0.0648589338 -0.0333219476\n"
    "feature date_agree -0.0816563085 0.290267805 0\n"
    "feature date_conflict 0.0946147958 0.276089126 -0.18508536\n"
    "feature name_agree -0.76328321 0.469295966 0.116306291\n"
    "feature doc_cov 0.405723864 0.30271189 0.048266956\n"
    "feature doc_name -0.226353917 0.796775522 0\n"
    "feature claim_len 2.71457426 0.437763539 0.328047355\n"
    "feature win_len 2.63093721 0.886150534 0\n"
    "feature dense 0 1 0\n"
    "# threshold supported weak\n"
    "threshold 0.7 0.34\n"
    "end\n";
/* clang-format on */

const char *ver_score_builtin_model(void)
{
    return builtin_model;
}
