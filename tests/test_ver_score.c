/* test_ver_score.c - the citation support scorer, its model file, and a held-out WiCE check. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "buf.h"
#include "err.h"
#include "test.h"
#include "verify/ver_lex.h"
#include "verify/ver_score.h"
#include "verify/ver_score_int.h"

#define MODEL_FILE "verify/verifier-model.txt"

static double score_of(struct test_ctx *t_, struct ver_scorer *s, const char *claim,
                       const char *src)
{
    struct err e = {0};
    struct ver_score_result r;
    if (ver_score_source(s, claim, src, strlen(src), &r, &e) != 0) {
        fprintf(stderr, "  ver_score_source: %s\n", e.msg);
        t_->failed = 1;
        return -1;
    }
    return r.score;
}

TEST(ver_score_numbers_disagree)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *claim = "Revenue grew 12% in 2019.";
    double same = score_of(t_, s, claim, "The company said revenue grew 12% in 2019.");
    double pct = score_of(t_, s, claim, "The company said revenue grew 3% in 2019.");
    double year = score_of(t_, s, claim, "The company said revenue grew 12% in 2017.");
    fprintf(stderr, "  same %.3f, other percent %.3f, other year %.3f\n", same, pct, year);
    CHECK(pct >= 0 && pct < same - 0.05);
    CHECK(year >= 0 && year < same - 0.05);

    struct ver_score_result r;
    const char *src = "Sales rose 3% in 2019.";
    REQUIRE_OK(ver_score_source(s, claim, src, strlen(src), &r, &e), e);
    CHECK(r.feat[VER_F_NUM_CONFLICT] == 1.0); /* 12% missing, 3% present */
    CHECK(r.feat[VER_F_NUM_AGREE] == -1.0);
    CHECK(r.feat[VER_F_DATE_AGREE] == 1.0);
    /* 1.2 million = 1,200,000; "per cent" = % */
    const char *c2 = "The city had 1.2 million residents, 40 per cent of them under 30.";
    const char *s2 = "In total 1,200,000 residents lived there; 40% were younger than 30.";
    REQUIRE_OK(ver_score_source(s, c2, s2, strlen(s2), &r, &e), e);
    CHECK(r.feat[VER_F_NUM_AGREE] == 1.0);
    CHECK(r.feat[VER_F_NUM_CONFLICT] == 0.0);
    /* "the 2019 season" is a year; "1500 km" is a distance, not a year */
    const char *c3 = "He scored 14 goals in the 2019 season and ran 1500 km.";
    const char *s3 = "In the 2017 season he scored 14 goals. He ran 1500 km.";
    REQUIRE_OK(ver_score_source(s, c3, s3, strlen(s3), &r, &e), e);
    CHECK(r.feat[VER_F_DATE_CONFLICT] == 1.0 && r.feat[VER_F_DATE_AGREE] == -1.0);
    CHECK(r.feat[VER_F_NUM_AGREE] == 1.0);
    const char *s4 = "He scored 14 goals in the 2019 season. He ran 1200 km.";
    REQUIRE_OK(ver_score_source(s, c3, s4, strlen(s4), &r, &e), e);
    CHECK(r.feat[VER_F_DATE_AGREE] == 1.0);
    CHECK(r.feat[VER_F_NUM_CONFLICT] == 0.5 && r.feat[VER_F_NUM_AGREE] == 0.0); /* km differs */
    ver_scorer_free(s);
}

TEST(ver_score_support_beats_unrelated)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *claim = "Marie Curie was the first woman to win a Nobel Prize, in physics in 1903.";
    const char *good = "Marie Curie was a Polish-born physicist and chemist. In 1903 she shared "
                       "the Nobel Prize in "
                       "Physics with Pierre Curie and Henri Becquerel. She was the first woman to "
                       "win a Nobel Prize.";
    const char *bad =
        "The river flows north through the valley. Fishing is popular in the summer months. "
        "The local council maintains three bridges and a ferry crossing.";
    struct ver_score_result rg, rb;
    REQUIRE_OK(ver_score_source(s, claim, good, strlen(good), &rg, &e), e);
    REQUIRE_OK(ver_score_source(s, claim, bad, strlen(bad), &rb, &e), e);
    fprintf(stderr, "  supporting %.3f (%s), unrelated %.3f (%s)\n", rg.score,
            ver_verdict_name(rg.verdict), rb.score, ver_verdict_name(rb.verdict));
    double ts = 0, tw = 0;
    ver_scorer_thresholds(s, &ts, &tw);
    CHECK(tw > 0 && tw <= ts && ts < 1);
    CHECK(rg.verdict == ver_scorer_verdict(s, rg.score) &&
          (rg.score >= ts) == (rg.verdict == VER_SUPPORTED));
    CHECK(rg.score > rb.score + 0.3);
    CHECK(rg.verdict > rb.verdict);
    CHECK(rb.verdict == VER_UNSUPPORTED);
    CHECK(rg.score >= 0 && rg.score <= 1 && rb.score >= 0 && rb.score <= 1);
    /* the best window is the part of the page about the prize */
    CHECK(rg.win_end > rg.win_start);
    const char *w = good + rg.win_start;
    size_t wl = rg.win_end - rg.win_start;
    CHECK(memmem(w, wl, "first woman", 11) != NULL || memmem(w, wl, "1903", 4) != NULL);
    /* an empty or word-less source scores 0 */
    REQUIRE_OK(ver_score_source(s, claim, " .. ", 4, &rb, &e), e);
    CHECK(rb.nwindows == 0 && rb.score == 0 && rb.verdict == VER_UNSUPPORTED);
    ver_scorer_free(s);
}

TEST(ver_score_match_spans)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *claim = "The bridges were painted red.";
    const char *src =
        "Nothing here. Unrelated text about cats.\nThe old Bridge was painted RED in 1950.";
    struct ver_score_result r;
    REQUIRE_OK(ver_score_source(s, claim, src, strlen(src), &r, &e), e);
    const char *w = src + r.win_start;
    REQUIRE(r.win_end <= strlen(src));
    CHECK(strncmp(w, "The old Bridge", 14) == 0);
    REQUIRE(r.nmatch == 3);
    const char *want[] = {"Bridge", "painted", "RED"};
    for (int i = 0; i < 3; i++) {
        size_t n = r.match[i].end - r.match[i].start;
        CHECK(n == strlen(want[i]) && memcmp(w + r.match[i].start, want[i], n) == 0);
        CHECK(r.match[i].end <= r.win_end - r.win_start);
    }
    /* multi-byte text before the match: spans are bytes, not characters */
    const char *src2 = "Ça coûte très cher. Die Brücke wurde painted red.";
    REQUIRE_OK(ver_score_source(s, claim, src2, strlen(src2), &r, &e), e);
    REQUIRE(r.nmatch == 2);
    CHECK(memcmp(src2 + r.win_start + r.match[0].start, "painted", 7) == 0);
    CHECK(memcmp(src2 + r.win_start + r.match[1].start, "red", 3) == 0);
    ver_scorer_free(s);
}

TEST(ver_score_limits_and_args)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    struct ver_score_result r;
    char *big = malloc(VER_SCORE_MAX_CLAIM + 2);
    REQUIRE(big);
    memset(big, 'a', VER_SCORE_MAX_CLAIM + 1);
    big[VER_SCORE_MAX_CLAIM + 1] = '\0';
    CHECK(ver_score_source(s, big, "text", 4, &r, &e) == ERR_LIMIT);
    CHECK(ver_score_source(s, "claim", big, (size_t)VER_SCORE_MAX_SOURCE + 1, &r, &e) == ERR_LIMIT);
    CHECK(ver_score_source(s, NULL, "x", 1, &r, &e) == ERR_ARG);
    free(big);
    /* a long source without sentence ends: windows stay within the word cap */
    struct buf b = {0};
    for (int i = 0; i < 2000; i++)
        buf_printf(&b, "word%d ", i);
    buf_puts(&b, "the bridges were painted red ");
    for (int i = 0; i < 2000; i++)
        buf_printf(&b, "other%d ", i);
    REQUIRE(b.data);
    REQUIRE_OK(ver_score_source(s, "The bridges were painted red.", b.data, b.len, &r, &e), e);
    CHECK(r.nmatch == 3);
    CHECK(r.win_end - r.win_start < 3 * 12 * VER_SCORE_WIN_WORDS);
    buf_cleanup(&b);
    ver_scorer_free(s);
}

TEST(ver_score_model_file)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, MODEL_FILE, NULL, &e), e);
    ver_scorer_free(s);
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    size_t n = 0;
    char *good = t_read(MODEL_FILE, &n);
    REQUIRE(good);
    static const struct {
        const char *name, *data;
        int code;
    } bad[] = {
        {"foreign.txt", "{\"weights\": [1, 2, 3]}\n", ERR_CORRUPT},
        {"empty.txt", "", ERR_CORRUPT},
        {"version.txt", "vericite-verifier-model 7\nend\n", ERR_MISMATCH},
        {"oldversion.txt", "vericite-verifier-model 1\nbias 1\nend\n", ERR_MISMATCH},
        {"nofeat.txt", "vericite-verifier-model 2\nbias 1\nthreshold 0.5 0.2\nend\n", ERR_CORRUPT},
        {"badnum.txt", "vericite-verifier-model 2\nbias one\nend\n", ERR_CORRUPT},
        {"otherfeat.txt", "vericite-verifier-model 2\nbias 1\nfeature tfidf 0 1 1\nend\n",
         ERR_MISMATCH},
        {"badcal.txt", "vericite-verifier-model 2\ncalibration 2 0 0\nend\n", ERR_CORRUPT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = t_write(t_, dir, bad[i].name, bad[i].data, strlen(bad[i].data));
        REQUIRE(p);
        int rc = ver_scorer_new(&s, p, NULL, &e);
        if (rc != bad[i].code || !strstr(e.msg, p) || s != NULL) {
            fprintf(stderr, "  %s: got %d (%s), want %d naming the file\n", bad[i].name, rc, e.msg,
                    bad[i].code);
            t_->failed = 1;
        }
    }
    /* the real file cut short (at a line) is truncated; a zero scale is corrupt */
    const char *cut = strstr(good, "\nthreshold ");
    REQUIRE(cut);
    const char *p = t_write(t_, dir, "cut.txt", good, (size_t)(cut - good) + 1);
    REQUIRE(p);
    CHECK(ver_scorer_new(&s, p, NULL, &e) == ERR_CORRUPT && strstr(e.msg, "cut.txt"));
    char *z = strstr(good, "feature bm25 ");
    REQUIRE(z);
    /* replace the bm25 line's values with a zero scale */
    char *eol = strchr(z, '\n');
    REQUIRE(eol);
    struct buf b = {0};
    buf_append(&b, good, (size_t)(z - good));
    buf_puts(&b, "feature bm25 0 0 1");
    buf_puts(&b, eol);
    p = t_write(t_, dir, "zero.txt", b.data, b.len);
    REQUIRE(p);
    CHECK(ver_scorer_new(&s, p, NULL, &e) == ERR_CORRUPT && strstr(e.msg, "zero.txt:"));
    CHECK(ver_scorer_new(&s, "/nonexistent/model.txt", NULL, &e) == ERR_NOTFOUND);
    buf_cleanup(&b);
    free(good);
}

TEST(ver_score_builtin_matches_file)
{
    size_t n = 0;
    char *file = t_read(MODEL_FILE, &n);
    REQUIRE(file);
    const char *bi = ver_score_builtin_model();
    CHECK(strlen(bi) == n && memcmp(bi, file, n) == 0);
    if (t_->failed)
        fprintf(stderr,
                "  the built-in model in verify/ver_score_model.c differs from %s: "
                "regenerate it (command in that file)\n",
                MODEL_FILE);
    free(file);
}

/* ---- on the shared data (skipped when ../shared is absent) ---- */

struct sl {
    double s;
    int pos;
};

static int sl_cmp(const void *a, const void *b)
{
    const struct sl *x = a, *y = b;
    return x->s < y->s ? -1 : x->s > y->s;
}

/* ROC AUC, ties counted half: computed here, independently of ver_train's own. */
static double roc_auc(struct sl *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, sl_cmp);
    double pos = 0, neg = 0, above = 0; /* above: (pos, neg) pairs ordered right */
    for (int i = 0; i < n;) {
        int j = i, p = 0, q = 0;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].pos)
                p++;
            else
                q++;
            j++;
        }
        above += p * neg + 0.5 * p * q;
        pos += p;
        neg += q;
        i = j;
    }
    return pos && neg ? above / (pos * neg) : 0;
}

struct wice_item {
    char *claim, *page;
    size_t page_len;
};

TEST(ver_score_wice_heldout_auc)
{
    const char *path = t_shared(t_, "wice/dev.jsonl");
    if (!path) SKIP("../shared/data/wice/dev.jsonl not found");
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    struct wice_item items[400];
    int m = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0 && m < 400) {
        json_t *o = json_loads(line, 0, NULL);
        json_t *meta = json_object_get(o, "meta"), *ev = json_object_get(o, "evidence");
        const char *id = json_string_value(json_object_get(meta, "id"));
        const char *claim = json_string_value(json_object_get(o, "claim"));
        if (id && claim && json_is_array(ev) && ver_train_is_heldout(id)) {
            struct buf b = {0};
            size_t i;
            json_t *s;
            json_array_foreach(ev, i, s)
            {
                if (i) buf_putc(&b, '\n');
                buf_puts(&b, json_string_value(s) ? json_string_value(s) : "");
            }
            items[m].claim = strdup(claim);
            items[m].page_len = b.len;
            items[m].page = buf_steal(&b);
            m++;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    REQUIRE(m >= 50); /* about 30% of 349 */
    struct err e = {0};
    struct ver_scorer *sc = NULL;
    REQUIRE_OK(ver_scorer_new(&sc, MODEL_FILE, NULL, &e), e);
    struct sl *v = calloc((size_t)m * 2, sizeof *v);
    REQUIRE(v);
    int n = 0;
    for (int k = 0; k < m; k++) {
        struct ver_score_result r;
        const struct wice_item *own = &items[k], *other = &items[(k + 1) % m];
        REQUIRE_OK(ver_score_source(sc, own->claim, own->page, own->page_len, &r, &e), e);
        v[n].s = r.score;
        v[n++].pos = 1;
        if (other->page_len == own->page_len && !memcmp(other->page, own->page, own->page_len))
            continue;
        REQUIRE_OK(ver_score_source(sc, own->claim, other->page, other->page_len, &r, &e), e);
        v[n].s = r.score;
        v[n++].pos = 0;
    }
    double auc = roc_auc(v, n);
    fprintf(stderr, "  held-out WiCE: %d claims, AUC true page vs next claim's page = %.4f\n", m,
            auc);
    CHECK(auc >= 0.90);
    free(v);
    ver_scorer_free(sc);
    for (int k = 0; k < m; k++) {
        free(items[k].claim);
        free(items[k].page);
    }
}

/* The model lines of a model file (comments dropped), for comparing two trainings. */
static char *model_lines(const char *text)
{
    struct buf b = {0};
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (*p != '#') buf_append(&b, p, n);
        p += n;
    }
    return buf_steal(&b);
}

/* Same words, and numbers equal to 6 significant digits (other CPUs may round differently). */
static int same_model(const char *a, const char *b)
{
    while (*a || *b) {
        while (*a == ' ' || *a == '\n')
            a++;
        while (*b == ' ' || *b == '\n')
            b++;
        char *ea, *eb;
        double x = strtod(a, &ea), y = strtod(b, &eb);
        if (ea != a && eb != b) {
            if (fabs(x - y) > 1e-6 * (fabs(x) + fabs(y)) + 1e-9) return 0;
            a = ea;
            b = eb;
            continue;
        }
        size_t na = strcspn(a, " \n"), nb = strcspn(b, " \n");
        if (na != nb || memcmp(a, b, na) != 0) return 0;
        a += na;
        b += nb;
    }
    return 1;
}

TEST(ver_score_train_reproduces_model)
{
    const char *data = t_shared(t_, "");
    if (!data || !t_shared(t_, "wice/dev.jsonl") ||
        !t_shared(t_, "citation-integrity/corpus.jsonl"))
        SKIP("../shared/data (wice, citation-integrity) not found");
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char out[4096];
    snprintf(out, sizeof out, "%s/model.txt", dir);
    struct err e = {0};
    struct ver_train_report rep;
    REQUIRE_OK(ver_train(data, out, &rep, &e), e);
    fprintf(stderr,
            "  trained on %d pairs: held-out WiCE AUC %.4f, 3-way acc %.4f, number-swap drop %.4f; "
            "CI dev macro-F1 %.4f, SUPPORT F1 %.4f, wrong-source AUC %.4f; thresholds %.2f %.2f\n",
            rep.n_train, rep.wice_auc, rep.wice_acc, rep.wice_swap_drop, rep.ci_macro_f1,
            rep.ci_support_f1, rep.ci_wrong_auc, rep.t_supported, rep.t_weak);
    CHECK(rep.wice_auc >= 0.90);
    CHECK(rep.ci_wrong_auc >= 0.90);
    CHECK(rep.ci_macro_f1 > 0.34); /* above always-SUPPORT (0.25 here) */
    CHECK(rep.t_weak > 0 && rep.t_weak <= rep.t_supported && rep.t_supported < 1);
    /* the missing-word model beats the rule it replaces, out of fold, on both counts */
    fprintf(stderr, "  missing words: F1 %.4f (rule %.4f), supported claims' words flagged %.4f "
            "(rule %.4f)\n", rep.miss_f1, rep.miss_rule_f1, rep.miss_supported_share,
            rep.miss_rule_supported_share);
    CHECK(rep.miss_words > 1000);
    CHECK(rep.miss_f1 > rep.miss_rule_f1);
    CHECK(rep.miss_supported_share < rep.miss_rule_supported_share);
    /* the new file loads, and has exactly the committed model's weights (training is deterministic)
     */
    struct ver_scorer *sc = NULL;
    REQUIRE_OK(ver_scorer_new(&sc, out, NULL, &e), e);
    ver_scorer_free(sc);
    char *a = t_read(out, NULL), *b = t_read(MODEL_FILE, NULL);
    REQUIRE(a && b);
    char *la = model_lines(a), *lb = model_lines(b);
    CHECK(la && lb && same_model(la, lb));
    if (la && lb && !same_model(la, lb))
        fprintf(stderr,
                "  retrained weights differ from %s: retrain and regenerate the built-in copy\n",
                MODEL_FILE);
    free(la);
    free(lb);
    free(a);
    free(b);
    /* a lower target precision: a lower threshold, more recall, and the file records the target */
    char out6[4096];
    snprintf(out6, sizeof out6, "%s/model-0.6.txt", dir);
    struct ver_train_opts o6 = {.precision = 0.6};
    struct ver_train_report rep6;
    REQUIRE_OK(ver_train_ex(data, out6, &o6, &rep6, &e), e);
    fprintf(stderr, "  precision 0.6: supported >= %.4f (0.8: %.4f), recall %.3f (0.8: %.3f)\n",
            rep6.t_supported, rep.t_supported, rep6.wice_recall, rep.wice_recall);
    CHECK(rep.target_precision == VER_TRAIN_PRECISION && rep6.target_precision == 0.6);
    CHECK(rep6.t_supported < rep.t_supported && rep6.wice_recall > rep.wice_recall);
    CHECK(rep6.wice_precision >= 0.6 && rep6.wice_precision < rep.wice_precision);
    REQUIRE_OK(ver_scorer_new(&sc, out6, NULL, &e), e);
    double target = 0, ts = 0;
    ver_scorer_calibration(sc, &target, NULL, NULL);
    ver_scorer_thresholds(sc, &ts, NULL);
    CHECK(target == 0.6 && ts == rep6.t_supported);
    ver_scorer_free(sc);
    struct ver_train_opts bad = {.precision = 1.2};
    CHECK(ver_train_ex(data, out6, &bad, &rep6, &e) == ERR_ARG);
}

struct dense_ctx {
    int calls;
    const char *needle; /* windows containing it get cosine 1, others 0 */
};

static double fake_dense(void *ctx, const char *a, size_t alen, const char *b, size_t blen)
{
    struct dense_ctx *d = ctx;
    (void)a;
    (void)alen;
    d->calls++;
    return memmem(b, blen, d->needle, strlen(d->needle)) ? 1.0 : 0.0;
}

static double idf_zero_for_cat(void *ctx, const char *term, size_t len)
{
    (void)ctx;
    if (len == 3 && !memcmp(term, "cat", 3)) return 0.0;
    return -1; /* unknown: the source's own IDF */
}

TEST(ver_score_hooks)
{
    struct err e = {0};
    const char *claim = "The cat sat on the warm mat.";
    const char *src =
        "A cat sat on a mat. The weather was warm. Dogs bark loudly. Paraphrase here.";
    /* the built-in model gives dense no weight: the callback is never called */
    struct dense_ctx d = {0, "Paraphrase"};
    struct ver_score_opts o = {0};
    o.dense = fake_dense;
    o.dense_ctx = &d;
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, &o, &e), e);
    struct ver_score_result r0, r;
    REQUIRE_OK(ver_score_source(s, claim, src, strlen(src), &r0, &e), e);
    CHECK(d.calls == 0 && r0.feat[VER_F_DENSE] == 0);
    ver_scorer_free(s);
    /* a model that weighs dense heavily: called for at most 8 windows, and it moves the best window
     */
    struct buf m = {0};
    const char *bi = ver_score_builtin_model();
    const char *line = strstr(bi, "feature dense ");
    REQUIRE(line);
    buf_append(&m, bi, (size_t)(line - bi));
    buf_puts(&m, "feature dense 0 1 20");
    buf_puts(&m, strchr(line, '\n'));
    const char *dir = t_tmpdir(t_);
    const char *path = t_write(t_, dir, "dense.txt", m.data, m.len);
    REQUIRE(path);
    REQUIRE_OK(ver_scorer_new(&s, path, &o, &e), e);
    REQUIRE_OK(ver_score_source(s, claim, src, strlen(src), &r, &e), e);
    CHECK(d.calls > 0 && d.calls <= 8);
    CHECK(r.feat[VER_F_DENSE] == 1.0);
    CHECK(memmem(src + r.win_start, r.win_end - r.win_start, "Paraphrase", 10) != NULL);
    ver_scorer_free(s);
    buf_cleanup(&m);
    /* an IDF hook that makes "cat" worthless lowers the IDF-weighted coverage of a window that
     * has only "cat" */
    struct ver_score_opts o2 = {0};
    o2.idf = idf_zero_for_cat;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *src2 = "The cat ran off.";
    REQUIRE_OK(ver_score_source(s, "The cat sat on the warm mat.", src2, strlen(src2), &r0, &e), e);
    ver_scorer_free(s);
    REQUIRE_OK(ver_scorer_new(&s, NULL, &o2, &e), e);
    REQUIRE_OK(ver_score_source(s, "The cat sat on the warm mat.", src2, strlen(src2), &r, &e), e);
    CHECK(r0.feat[VER_F_COV_IDF] > 0.0);
    CHECK(r.feat[VER_F_COV_IDF] == 0.0);
    CHECK(r.feat[VER_F_COV] == r0.feat[VER_F_COV]);
    ver_scorer_free(s);
}

/* A splitter that makes every line one sentence (to check opts.split is used). */
static int split_lines(const char *text, size_t len, ver_score_sent_cb cb, void *ctx)
{
    size_t a = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || text[i] == '\n') {
            if (i > a) {
                int rc = cb(ctx, a, i);
                if (rc) return rc;
            }
            a = i + 1;
        }
    return 0;
}

TEST(ver_score_splitter_and_garbage)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    struct ver_score_opts o = {0};
    o.split = split_lines;
    REQUIRE_OK(ver_scorer_new(&s, NULL, &o, &e), e);
    const char *claim = "Paris is the capital of France.";
    const char *src = "Intro line. Paris is the capital of France. More.\nSecond line.";
    struct ver_score_result r;
    REQUIRE_OK(ver_score_source(s, claim, src, strlen(src), &r, &e), e);
    /* one line is one sentence here, so the window is the whole first line */
    CHECK(r.win_start == 0 &&
          r.win_end == strlen("Intro line. Paris is the capital of France. More."));
    ver_scorer_free(s);
    /* the built-in splitter cuts at ". P" but not after initials or "Dr." */
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    REQUIRE_OK(ver_score_source(s, claim, src, strlen(src), &r, &e), e);
    CHECK(r.win_end - r.win_start == strlen("Paris is the capital of France."));
    const char *src3 = "Unrelated words go here. Dr. J. Smith said Paris is the capital of France.";
    REQUIRE_OK(ver_score_source(s, claim, src3, strlen(src3), &r, &e), e);
    CHECK(strncmp(src3 + r.win_start, "Dr. J. Smith", 12) == 0);
    /* invalid UTF-8, NUL bytes and control bytes do not upset the tokenizer or the regexes */
    char junk[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (char)(x >> 16);
    }
    memcpy(junk + 100, " Paris 12% 2019 France ", 23);
    REQUIRE_OK(ver_score_source(s, "Paris had 12% growth in 2019.", junk, sizeof junk, &r, &e), e);
    CHECK(r.score >= 0 && r.score <= 1 && r.win_end <= sizeof junk);
    ver_scorer_free(s);
}

/* ---- meaning, not overlap: hand-made cases for each feature ---- */

static struct ver_score_result score_r(struct test_ctx *t_, struct ver_scorer *s, const char *claim,
                                       const char *src)
{
    struct err e = {0};
    struct ver_score_result r;
    memset(&r, 0, sizeof r);
    if (ver_score_source(s, claim, src, strlen(src), &r, &e) != 0) {
        fprintf(stderr, "  ver_score_source: %s\n", e.msg);
        t_->failed = 1;
    }
    return r;
}

TEST(ver_score_negation_flip)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *claim = "The company did not win the contract for the new hospital.";
    struct ver_score_result r =
        score_r(t_, s, claim, "The company won the contract for the new hospital in the city.");
    fprintf(stderr, "  flip: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.feat[VER_F_NEG_FLIP] > 0);
    CHECK(r.verdict == VER_CONTRADICTED);
    CHECK(strstr(r.clash, "won") != NULL && strstr(r.clash, "not win") != NULL);
    /* the same negation on both sides is no clash; "n't" counts as a negation */
    r = score_r(t_, s, claim, "The company didn't win the contract for the new hospital.");
    CHECK(r.feat[VER_F_NEG_FLIP] == 0 && r.verdict != VER_CONTRADICTED);
    /* and a positive claim against a negated source clashes the other way */
    r = score_r(t_, s, "The company won the contract for the new hospital.",
                "The company never won the contract for the new hospital.");
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "never won") != NULL);
    /* a negation covers the two words after it: "not want to leave" says nothing against a
     * page that names the band the guitarist stayed with */
    r = score_r(t_, s, "The guitarist declined the offer as he did not want to leave Savatage.",
                "The guitarist declined the offer and stayed in Savatage.");
    fprintf(stderr, "  scope: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.feat[VER_F_NEG_FLIP] == 0 && r.verdict != VER_CONTRADICTED);
    ver_scorer_free(s);
}

TEST(ver_score_changed_year)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *claim = "The stone bridge over the river was opened in 1950.";
    struct ver_score_result r =
        score_r(t_, s, claim, "The old stone bridge over the river was opened to traffic in 1952.");
    fprintf(stderr, "  year: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED);
    CHECK(strstr(r.clash, "\"1950\"") != NULL && strstr(r.clash, "\"1952\"") != NULL);
    double bad = r.score;
    /* the right year somewhere else on the page: no contradiction */
    r = score_r(t_, s, claim,
                "The old stone bridge over the river was opened to traffic in 1950. It was "
                "repaired in 1952.");
    CHECK(r.verdict != VER_CONTRADICTED && r.score > bad);
    /* a year inside a range of the source agrees with it; one outside clashes */
    const char *museum = "The museum on the hill was open to visitors from 1990 to 2000.";
    r = score_r(t_, s, "The museum on the hill was open to visitors in 1995.", museum);
    CHECK(r.verdict != VER_CONTRADICTED && r.feat[VER_F_DATE_AGREE] == 1.0);
    r = score_r(t_, s, "The museum on the hill was open to visitors in 1985.", museum);
    CHECK(r.verdict == VER_CONTRADICTED && r.feat[VER_F_DATE_CONFLICT] == 1.0);
    ver_scorer_free(s);
}

/* A clashing number is reported against the source number that talks about the same thing: the
 * one whose neighbouring words are the claim number's, on the same side, not across a clause. */
TEST(ver_score_clash_pairs_number)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *src = "Construction of the suspension bridge began in January 1933 and the bridge "
                      "opened to traffic on May 28, 1937, after four years of work.";
    struct ver_score_result r =
        score_r(t_, s, "The suspension bridge opened to traffic in 1939.", src);
    fprintf(stderr, "  pair: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED);
    CHECK(strstr(r.clash, "\"1939\"") != NULL && strstr(r.clash, "\"1937\"") != NULL);
    /* the other event's year for the other event */
    r = score_r(t_, s, "Construction of the suspension bridge began in 1935.", src);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"1933\"") != NULL);
    /* the year before its words: "1933 and the bridge opened" is cut at "and" */
    r = score_r(t_, s, "In 1939 the suspension bridge opened to traffic.", src);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"1937\"") != NULL);
    /* a month: the one beside "traffic", across the comma of "May 28, 1937" */
    r = score_r(t_, s, "The suspension bridge opened to traffic in June 1937.", src);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"June\"") != NULL &&
          strstr(r.clash, "\"May\"") != NULL);
    ver_scorer_free(s);
}

TEST(ver_score_clash_day_and_unit)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *src = "The harbour bridge is a suspension bridge over the narrow strait. Its main "
                      "span is 1,280 m long. The harbour bridge opened to traffic on May 28, 1937. "
                      "The bridge festival ran on 27\xe2\x80\x93"
                      "28 June 1990.";
    /* a unit spelled another way still clashes, and its word counts as addressed */
    struct ver_score_result r =
        score_r(t_, s, "The main span of the harbour bridge is 1,500 metres long.", src);
    fprintf(stderr, "  unit: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"1,500 metres\"") != NULL &&
          strstr(r.clash, "\"1,280 m\"") != NULL);
    r = score_r(t_, s, "The main span of the harbour bridge is 1,280 metres long.", src);
    CHECK(r.verdict != VER_CONTRADICTED);
    /* a day of the month, shown with its month */
    r = score_r(t_, s, "The harbour bridge opened to traffic on May 27, 1937.", src);
    fprintf(stderr, "  day: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"May 27\"") != NULL &&
          strstr(r.clash, "\"May 28\"") != NULL);
    r = score_r(t_, s, "The harbour bridge opened to traffic on 28 May 1937.", src);
    CHECK(r.verdict != VER_CONTRADICTED);
    /* a day inside a range of days agrees; one outside it clashes */
    r = score_r(t_, s, "The bridge festival ran on 28 June 1990.", src);
    CHECK(r.verdict != VER_CONTRADICTED);
    r = score_r(t_, s, "The bridge festival ran on 29 June 1990.", src);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "June") != NULL);
    ver_scorer_free(s);
}

TEST(ver_score_number_qualifiers)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *src = "The city library holds 263,000 volumes on anthropology. The harbour bridge "
                      "is 1,280 m long. The rock band was formed in 1994 in Seattle.";
    /* "over" and "about" widen the claim's number; the source's value lies inside */
    struct ver_score_result r =
        score_r(t_, s, "The city library holds over 260,000 volumes on anthropology.", src);
    fprintf(stderr, "  over: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict != VER_CONTRADICTED && r.feat[VER_F_NUM_AGREE] > 0);
    r = score_r(t_, s, "The city library holds over 270,000 volumes on anthropology.", src);
    CHECK(r.verdict == VER_CONTRADICTED);
    r = score_r(t_, s, "The harbour bridge is about 1,300 metres long.", src);
    fprintf(stderr, "  about: %s %.3f, %d missing\n", ver_verdict_name(r.verdict), r.score,
            r.nmissing);
    CHECK(r.verdict != VER_CONTRADICTED && r.feat[VER_F_NUM_AGREE] > 0);
    CHECK(r.nmissing == 0); /* the agreeing number's words are addressed */
    /* a decade holds its years; a year is not said by its decade, nor contradicted */
    r = score_r(t_, s, "The rock band was formed in the 1990s in Seattle.", src);
    CHECK(r.verdict != VER_CONTRADICTED && r.feat[VER_F_DATE_AGREE] > 0);
    r = score_r(t_, s, "The rock band was formed in the 1980s in Seattle.", src);
    CHECK(r.verdict == VER_CONTRADICTED);
    r = score_r(t_, s, "The rock band was formed in 1996 in Seattle.",
                "The rock band was formed in the early 1990s in Seattle.");
    CHECK(r.verdict != VER_CONTRADICTED && r.feat[VER_F_DATE_AGREE] == 0);
    ver_scorer_free(s);
}

TEST(ver_score_clash_plain_number)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *src =
        "During construction of the bridge, 12 workers died. The bridge has 2 towers.";
    /* a count without a unit clashes with one beside the same words */
    struct ver_score_result r =
        score_r(t_, s, "11 workers died during construction of the bridge.", src);
    fprintf(stderr, "  plain: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"11\"") != NULL &&
          strstr(r.clash, "\"12\"") != NULL);
    CHECK(r.feat[VER_F_NUM_CONFLICT] == 0); /* the contradiction rule's, not the model's */
    /* each claim number pairs with its own words: "workers" belongs to 12, not to 3 */
    r = score_r(t_, s, "The bridge has 3 towers and 12 workers died during its construction.", src);
    fprintf(stderr, "  plain: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"3\"") != NULL &&
          strstr(r.clash, "\"2\"") != NULL);
    r = score_r(t_, s, "12 workers died during construction of the bridge.", src);
    CHECK(r.verdict != VER_CONTRADICTED);
    /* number words are numbers: "Twelve" agrees with 12, "Eleven" clashes */
    r = score_r(t_, s, "Twelve workers died during construction of the bridge.", src);
    CHECK(r.verdict != VER_CONTRADICTED);
    r = score_r(t_, s, "Eleven workers died during construction of the bridge.", src);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"Eleven\"") != NULL);
    r = score_r(t_, s, "During construction of the bridge, twelve workers died.",
                "Forty-two engineers and twelve workers built the bridge; twelve workers died.");
    CHECK(r.verdict != VER_CONTRADICTED);
    /* ordinals rank: "first" clashes with "second" beside the same words, "a second season" is
     * not "two seasons", and a claim ordinal the page gives elsewhere does not clash */
    r = score_r(t_, s, "He was the first person to climb the north face in winter.",
                "He was the second person to climb the north face in winter, after Smith.");
    fprintf(stderr, "  ordinal: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"first\"") != NULL &&
          strstr(r.clash, "\"second\"") != NULL);
    r = score_r(t_, s, "The drama series ran for two seasons on the network.",
                "The drama series was renewed for a second season on the network.");
    CHECK(r.verdict != VER_CONTRADICTED && r.feat[VER_F_NUM_AGREE] == 0);
    r = score_r(
        t_, s,
        "The drama was renewed for a fifth season just prior to the airing of its fourth "
        "season.",
        "The drama was renewed for a fifth season just prior to the airing of the comedy's "
        "second season. The network announced the news on Saturday. Critics praised the "
        "cast. Ratings rose in the spring. The fourth season of the drama aired in August.");
    CHECK(r.verdict != VER_CONTRADICTED);
    /* a count beside other words is no clash: "2 towers" says nothing of the workers */
    r = score_r(t_, s,
                "During construction of the bridge, 5 engineers fell ill and 2 towers "
                "were built.",
                src);
    CHECK(r.verdict != VER_CONTRADICTED);
    ver_scorer_free(s);
}

TEST(ver_score_name_replaced)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    /* a name the page never uses, where the page names another after the same word */
    struct ver_score_result r =
        score_r(t_, s, "The film was directed by Steven Spielberg and released in 1993.",
                "The film was directed by James Cameron and released in 1993.");
    fprintf(stderr, "  name: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"Steven Spielberg\"") != NULL &&
          strstr(r.clash, "\"James Cameron\"") != NULL);
    r = score_r(t_, s, "The museum is located in Paris, France.",
                "The museum, one of the oldest in the country, is located in Lyon, France.");
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"Lyon\"") != NULL);
    r = score_r(t_, s, "The film was directed by James Cameron and released in 1993.",
                "The film was directed by James Cameron and released in 1993.");
    CHECK(r.verdict == VER_SUPPORTED);
    /* the word before the name must be a plain word: "University" of another name is no slot */
    r = score_r(t_, s,
                "Fitzpatrick graduated from Kent State University with a Bachelor of Arts degree "
                "in journalism.",
                "Fitzpatrick graduated from Kent State University, then studied at the University "
                "of Oxford with a degree in journalism.");
    fprintf(stderr, "  slot: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict != VER_CONTRADICTED);
    ver_scorer_free(s);
}

TEST(ver_score_antonym)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *claim = "Sales of the new car increased in the first year.";
    struct ver_score_result r =
        score_r(t_, s, claim, "Sales of the new car decreased in the first year, the maker said.");
    fprintf(stderr, "  antonym: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.feat[VER_F_ANT_CLASH] > 0);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "decreased") != NULL);
    r = score_r(t_, s, claim, "Sales of the new car increased in the first year, the maker said.");
    CHECK(r.feat[VER_F_ANT_CLASH] == 0 && r.verdict != VER_CONTRADICTED);
    /* through inflections: "rose" is a form of "rise", whose antonym "fall" has the form "fell";
     * "shortest" is the regular superlative of "short", whose antonym "long" has "longest" */
    r = score_r(t_, s, "The water level of the lake rose sharply in the spring.",
                "The water level of the lake fell sharply in the spring.");
    fprintf(stderr, "  forms: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"fell\"") != NULL);
    r = score_r(t_, s, "The Nile is the shortest river in the region.",
                "The Nile is the longest river in the region.");
    fprintf(stderr, "  degree: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict == VER_CONTRADICTED && strstr(r.clash, "\"longest\"") != NULL);
    r = score_r(t_, s, "The Nile is the longest river in the region.",
                "The Nile is the longest river in the region.");
    CHECK(r.feat[VER_F_ANT_CLASH] == 0 && r.verdict == VER_SUPPORTED);
    ver_scorer_free(s);
}

TEST(ver_score_missing_part)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *claim =
        "Marie Curie won the Nobel Prize in Physics, and later founded a hospital in Warsaw.";
    struct ver_score_result r = score_r(
        t_, s, claim, "Marie Curie won the Nobel Prize in Physics in 1903 with her husband.");
    REQUIRE(r.nmissing >= 1);
    struct buf m = {0};
    for (int i = 0; i < r.nmissing; i++) {
        buf_append(&m, claim + r.missing[i].start, r.missing[i].end - r.missing[i].start);
        buf_putc(&m, '|');
    }
    fprintf(stderr, "  missing: %s (%s %.3f)\n", m.data, ver_verdict_name(r.verdict), r.score);
    CHECK(strstr(m.data, "hospital") && strstr(m.data, "Warsaw"));
    CHECK(!strstr(m.data, "Nobel") && !strstr(m.data, "Curie"));
    CHECK(r.verdict != VER_SUPPORTED);
    CHECK(r.feat[VER_F_PART_MIN] < 0.5 && r.feat[VER_F_PART_MISS] > 0);
    /* the part found in another sentence of the page counts as covered */
    r = score_r(t_, s, claim,
                "Marie Curie won the Nobel Prize in Physics in 1903. Many years later she founded "
                "a hospital in Warsaw.");
    CHECK(r.nmissing == 0);
    buf_cleanup(&m);
    ver_scorer_free(s);
}

/* The missing spans of `claim` against `src`, joined by '|', into m (reset first). */
static void missing_text(struct test_ctx *t_, struct ver_scorer *s, const char *claim,
                         const char *src, struct buf *m)
{
    struct ver_score_result r = score_r(t_, s, claim, src);
    buf_reset(m);
    for (int i = 0; i < r.nmissing; i++) {
        if (i) buf_putc(m, '|');
        buf_append(m, claim + r.missing[i].start, r.missing[i].end - r.missing[i].start);
    }
    buf_putc(m, '\0');
    fprintf(stderr, "  missing: \"%s\"\n", m->data);
}

TEST(ver_score_missing_phrase)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    struct buf m = {0};
    /* the function word before the missing words is part of the phrase */
    missing_text(t_, s, "Columbus sailed to the island on his third voyage.",
                 "Columbus sailed to the island, the records show.", &m);
    CHECK(!strcmp(m.data, "his third voyage"));
    /* a date is one expression: the month missing makes the whole date missing */
    missing_text(t_, s, "The museum opened on 12 May 1998.",
                 "The museum opened in 1998 near the river.", &m);
    CHECK(!strcmp(m.data, "on 12 May 1998"));
    /* never across punctuation */
    missing_text(t_, s, "The band, formed in Leeds, toured Japan.",
                 "The band formed in Leeds in 1990.", &m);
    CHECK(!strcmp(m.data, "toured Japan"));
    /* a list of numbers is one expression: the spans of its missing members join */
    missing_text(t_, s, "The team scored 3, 5, 7 points.", "The team scored 5 points.", &m);
    CHECK(!strcmp(m.data, "3, 5, 7 points")); /* "7 points": a number with its unit */
    /* missing words on both sides of a semicolon are two spans */
    missing_text(t_, s, "The band toured Japan; then Korea.", "The band toured in 1990.", &m);
    CHECK(!strcmp(m.data, "Japan|then Korea"));
    buf_cleanup(&m);
    ver_scorer_free(s);
}

/* `text` with the line starting with `prefix` replaced by `line` (NULL: removed); a new string. */
static char *model_edit(const char *text, const char *prefix, const char *line)
{
    struct buf b = {0};
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (!strncmp(p, prefix, strlen(prefix))) {
            if (line) buf_printf(&b, "%s\n", line);
        } else {
            buf_append(&b, p, n);
        }
        p += n;
    }
    buf_putc(&b, '\0');
    return b.data;
}

/* The missing spans of `claim` against `src` under model text `mt`, joined by '|', into m. */
static void missing_under(struct test_ctx *t_, const char *mt, const char *claim, const char *src,
                          struct buf *m, int *verdict)
{
    struct err e = {0};
    struct ver_model model;
    REQUIRE_OK(ver_model_parse(&model, mt, strlen(mt), "edited model", &e), e);
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new_model(&s, &model, NULL, &e), e);
    missing_text(t_, s, claim, src, m);
    struct ver_score_result r = score_r(t_, s, claim, src);
    *verdict = r.verdict;
    ver_scorer_free(s);
}

struct word_rows {
    int n, absent_hospital, absent_curie;
    const char *claim;
};

static int word_row(void *ctx, const double *f, int absent, size_t start, size_t end)
{
    struct word_rows *w = ctx;
    for (int k = 0; k < VER_MISS_NFEAT; k++)
        if (!(f[k] >= 0 && f[k] <= 1)) return 1;
    if (!strncmp(w->claim + start, "hospital", end - start)) w->absent_hospital = absent;
    if (!strncmp(w->claim + start, "Curie", end - start)) w->absent_curie = absent;
    w->n++;
    return 0;
}

TEST(ver_score_missing_model)
{
    struct err e = {0};
    char *text = t_read(MODEL_FILE, NULL);
    REQUIRE(text);
    struct ver_model m;
    REQUIRE_OK(ver_model_parse(&m, text, strlen(text), MODEL_FILE, &e), e);
    CHECK(m.has_missing && m.t_missing > 0 && m.t_missing < 1);
    /* written and read back: the same model */
    struct buf out = {0};
    REQUIRE_OK(ver_model_format(&m, NULL, &out, &e), e);
    struct ver_model back;
    REQUIRE_OK(ver_model_parse(&back, out.data, out.len, "formatted", &e), e);
    CHECK(back.has_missing && back.t_missing == m.t_missing && back.miss_bias == m.miss_bias);
    buf_cleanup(&out);
    /* a file from before the missing-word model still reads (the rule applies); half of one
     * does not */
    char *old = model_edit(text, "missing_", NULL);
    REQUIRE_OK(ver_model_parse(&back, old, strlen(old), "old model", &e), e);
    CHECK(!back.has_missing);
    char *half = model_edit(text, "missing_threshold", NULL);
    CHECK(ver_model_parse(&back, half, strlen(half), "half", &e) == ERR_CORRUPT);
    CHECK(strstr(e.msg, "missing-word model") != NULL);
    /* the model decides the words the source has; a word it lacks is missing whatever the model */
    const char *claim = "Curie won the prize in physics, and she founded a hospital in Warsaw.";
    const char *src = "Curie won the prize in physics. Many years later she founded a school. "
                      "She was born in Warsaw, a city in Poland.";
    char *none = model_edit(text, "missing_bias", "missing_bias -40");
    char *all = model_edit(text, "missing_bias", "missing_bias 40");
    struct buf mb = {0};
    int v_none, v_all, v_old;
    missing_under(t_, none, claim, src, &mb, &v_none);
    CHECK(!strcmp(mb.data, "a hospital"));
    missing_under(t_, all, claim, src, &mb, &v_all);
    CHECK(strstr(mb.data, "Curie won the prize in physics") && strstr(mb.data, "Warsaw"));
    CHECK(v_all != VER_SUPPORTED); /* what is missing makes the verdict */
    missing_under(t_, old, claim, src, &mb, &v_old);
    CHECK(strstr(mb.data, "hospital") != NULL);
    /* the trainer's view of the same claim: every content word, with its features */
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    struct word_rows w = {0, -1, -1, claim};
    struct ver_score_claim c = {claim, 0, 0};
    struct ver_score_result r;
    REQUIRE_OK(ver_score_words(s, &c, src, strlen(src), word_row, &w, &r, &e), e);
    CHECK(w.n >= 7 && w.absent_hospital == 1 && w.absent_curie == 0);
    CHECK(ver_score_words(s, &c, src, strlen(src), NULL, NULL, &r, &e) == ERR_ARG);
    ver_scorer_free(s);
    buf_cleanup(&mb);
    free(none);
    free(all);
    free(half);
    free(old);
    free(text);
}

TEST(ver_score_synonym_supports)
{
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *claim = "The physician bought a large house.";
    struct ver_score_result syn = score_r(t_, s, claim, "The doctor bought a big house.");
    struct ver_score_result other = score_r(t_, s, claim, "The lawyer bought a yellow house.");
    fprintf(stderr, "  synonyms %.3f (cov_lex %.2f), other words %.3f\n", syn.score,
            syn.feat[VER_F_COV_LEX], other.score);
    CHECK(syn.feat[VER_F_LEX_SYN] > 0 && syn.feat[VER_F_COV_LEX] > 0.99);
    CHECK(syn.feat[VER_F_COV_LEX] > other.feat[VER_F_COV_LEX] + 0.3);
    CHECK(syn.score > other.score);
    /* the synonyms are highlighted as matches: doctor, bought, big, house */
    CHECK(syn.nmatch == 4);
    /* an irregular form ("mice") matches its lemma */
    struct ver_score_result f =
        score_r(t_, s, "A mouse lived in the barn.", "Mice lived in the barn.");
    CHECK(f.feat[VER_F_COV_LEX] > 0.99);
    ver_scorer_free(s);
}

TEST(ver_score_lexicon_image)
{
    struct err e = {0};
    struct ver_lex l;
    REQUIRE_OK(ver_lex_builtin(&l, &e), e);
    CHECK(l.n > 20000 && l.nrel > 100000);
    int inc = ver_lex_find(&l, "increas", 7), dec = ver_lex_find(&l, "decreas", 7);
    REQUIRE(inc >= 0 && dec >= 0);
    const uint32_t *rels;
    int n = ver_lex_rels(&l, inc, &rels), ant = 0;
    for (int i = 0; i < n; i++)
        ant |= (int)(rels[i] >> 3) == dec && (rels[i] & 7) == VER_LEX_ANT;
    CHECK(ant);
    CHECK(ver_lex_find(&l, "zzqx", 4) < 0);
    CHECK(ver_lex_semcor(&l, ver_lex_find(&l, "year", 4)) > ver_lex_semcor(&l, dec));
    /* a damaged image is refused */
    unsigned char junk[128] = {0};
    memcpy(junk, VER_LEX_MAGIC, 8);
    CHECK(ver_lex_init(&l, junk, sizeof junk, &e) == ERR_CORRUPT);
    CHECK(ver_lex_init(&l, "nope", 4, &e) == ERR_CORRUPT);
}

TEST(ver_score_navigation_pages)
{
    struct buf nav = {0};
    for (int i = 0; i < 30; i++)
        buf_printf(&nav, "Bridge page %d\n", i);
    CHECK(ver_score_is_navigation(nav.data, nav.len));
    const char *prose = "The stone bridge was opened in 1950.\nIt carries a road over the river. "
                        "It was repaired in 1990 and again in 2005.\nThe town paid for it.\n";
    CHECK(!ver_score_is_navigation(prose, strlen(prose)));
    buf_cleanup(&nav);
}

TEST(ver_score_claim_in_context)
{
    struct err e = {0};
    struct buf b = {0};
    size_t ctx = 99;
    /* the sentence does not name the article: the title goes in front, as context */
    REQUIRE(ver_score_claim_in_context("She won the award in 1989.", "Taylor Swift", &b, &ctx) == 0);
    CHECK(strcmp(b.data, "Taylor Swift: She won the award in 1989.") == 0);
    CHECK(ctx == strlen("Taylor Swift: "));
    /* it names it (any case): the sentence alone */
    REQUIRE(ver_score_claim_in_context("In 1989 taylor swift won.", "Taylor Swift", &b, &ctx) == 0);
    CHECK(strcmp(b.data, "In 1989 taylor swift won.") == 0 && ctx == 0);
    REQUIRE(ver_score_claim_in_context("She won.", NULL, &b, &ctx) == 0);
    CHECK(strcmp(b.data, "She won.") == 0 && ctx == 0);
    REQUIRE(ver_score_claim_in_context("She won.", "", &b, NULL) == 0);
    CHECK(strcmp(b.data, "She won.") == 0);
    /* scored with that context: the title counts for matching, and a page that never names the
     * subject is not reported as missing the title */
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    REQUIRE(ver_score_claim_in_context("She won the Grammy award in 1989.", "Taylor Swift", &b, &ctx) == 0);
    const char *src = "In 1989 she won the Grammy award for her second album.";
    struct ver_score_result r;
    REQUIRE_OK(ver_score_source_ctx(s, b.data, ctx, src, strlen(src), &r, &e), e);
    for (int i = 0; i < r.nmissing; i++) CHECK(r.missing[i].start >= ctx);
    struct ver_score_result bare;
    REQUIRE_OK(ver_score_source_ctx(s, b.data, 0, src, strlen(src), &bare, &e), e);
    int title_missing = 0; /* without the context length, the unnamed subject is missing */
    for (int i = 0; i < bare.nmissing; i++) title_missing |= bare.missing[i].start < ctx;
    CHECK(title_missing);
    /* the title is no statement: a page that negates it ("nothing to do with Starbucks") does not
     * contradict the sentence; the same words in the sentence itself are a negation flip */
    const char *neg = "The shop has nothing to do with Starbucks. She planned to open a chain of "
                      "stores that sell coffee and chocolate cosmetics.";
    REQUIRE(ver_score_claim_in_context("She planned to open a chain of stores that sell coffee and "
                                       "chocolate cosmetics.",
                                       "Starbucks", &b, &ctx) == 0);
    REQUIRE_OK(ver_score_source_ctx(s, b.data, ctx, neg, strlen(neg), &r, &e), e);
    fprintf(stderr, "  context: %s %.3f \"%s\"\n", ver_verdict_name(r.verdict), r.score, r.clash);
    CHECK(r.verdict != VER_CONTRADICTED && r.feat[VER_F_NEG_FLIP] == 0);
    REQUIRE_OK(ver_score_source_ctx(s, b.data, 0, neg, strlen(neg), &bare, &e), e);
    CHECK(bare.feat[VER_F_NEG_FLIP] > 0);
    ver_scorer_free(s);
    buf_cleanup(&b);
}

TEST(ver_score_cocited)
{
    /* how the trainer and the evaluator read a Citation-Integrity claim's markers */
    CHECK(ver_train_cocited("Cirrhosis raises mortality [<|multi_cit|>]."));
    CHECK(ver_train_cocited("Cirrhosis raises mortality <|multi_cit|>."));
    CHECK(ver_train_cocited("Cirrhosis raises mortality [<|cit|>,<|other_cit|>]."));
    CHECK(ver_train_cocited("Cirrhosis raises mortality [<|cit|>, 7]."));
    CHECK(!ver_train_cocited("Cirrhosis raises mortality [<|cit|>]."));
    CHECK(!ver_train_cocited("Cirrhosis raises mortality <|cit|>."));
    CHECK(!ver_train_cocited("Ferrets shed virus [<|other_cit|>] and mortality rises [<|cit|>]."));
    CHECK(!ver_train_cocited("In 2019 [12] mortality rose <|cit|> in 3 trials."));
    CHECK(!ver_train_cocited(NULL));
    /* the scorer: a source cited together with others is held to less (its coverage says less),
     * through VER_F_COCITED; cited alone it scores as ver_score_source_ctx */
    struct err e = {0};
    struct ver_scorer *s = NULL;
    REQUIRE_OK(ver_scorer_new(&s, NULL, NULL, &e), e);
    const char *claim = "Patients with cirrhosis and COVID-19 had a higher mortality rate than other patients.";
    const char *src = "We studied 745 patients with cirrhosis and COVID-19. Their mortality rate was higher "
                      "than that of other patients with COVID-19.";
    struct ver_score_result alone, ctx, group;
    struct ver_score_claim c = {claim, 0, 0};
    REQUIRE_OK(ver_score_cited(s, &c, src, strlen(src), &alone, &e), e);
    REQUIRE_OK(ver_score_source_ctx(s, claim, 0, src, strlen(src), &ctx, &e), e);
    CHECK(alone.score == ctx.score && alone.feat[VER_F_COCITED] == 0);
    c.cocited = 1;
    REQUIRE_OK(ver_score_cited(s, &c, src, strlen(src), &group, &e), e);
    CHECK(group.feat[VER_F_COCITED] > 0.5 && group.feat[VER_F_COCITED] == group.feat[VER_F_COV_LEX]);
    CHECK(group.score < alone.score);
    CHECK(ver_score_cited(s, NULL, src, strlen(src), &group, &e) == ERR_ARG);
    ver_scorer_free(s);
}
