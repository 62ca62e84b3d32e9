/* test_embed.c - word-vector files (import, mmap lookup, corruption) and the static SIF embedder.
 */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "index/idx.h"

#define FX_D 6

/* The fixture vocabulary, most frequent first. Dimension 5 is a direction every word shares
 * (the "common component"); "the"/"of"/"a" are long vectors almost along it. */
static const struct {
    const char *w;
    float v[FX_D];
} fx[] = {
    {"the", {0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 3.0f}},
    {"of", {0.125f, -0.125f, 0.125f, -0.125f, 0.0f, 2.5f}},
    {"a", {-0.125f, 0.125f, 0.0f, 0.125f, 0.125f, 2.5f}},
    {"heart", {1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.5f}},
    {"attack", {0.75f, 0.25f, 0.0f, 0.0f, 0.0f, 0.5f}},
    {"cardiac", {1.0f, 0.125f, 0.0f, 0.0f, 0.0f, 0.5f}},
    {"arrest", {0.5f, 0.5f, 0.0f, 0.0f, 0.0f, 0.5f}},
    {"tax", {0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.5f}},
    {"law", {0.0f, 0.0f, 0.75f, 0.25f, 0.0f, 0.5f}},
    {"court", {0.0f, 0.0f, 0.5f, 0.5f, 0.0f, 0.5f}},
    {"do", {0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.5f}},
    {"n't", {0.0f, 0.0f, 0.0f, 0.0f, -1.0f, 0.5f}},
    {"john", {0.0f, 0.0f, 0.0f, 1.0f, 0.25f, 0.5f}},
    {"'s", {0.0f, 0.0f, 0.0f, -0.5f, 0.5f, 0.5f}},
    {"u.s.", {0.0f, 0.5f, 0.5f, 0.0f, 0.0f, 0.5f}},
    {"e-mail", {0.0f, 0.25f, 0.0f, 0.0f, 0.75f, 0.5f}},
    {"state", {0.25f, 0.0f, 0.0f, 0.75f, 0.0f, 0.5f}},
    {"art", {0.0f, 0.0f, 0.25f, 0.0f, 0.75f, 0.5f}},
    {"café", {0.5f, 0.0f, 0.0f, 0.0f, 0.5f, 0.5f}},
};
#define FX_N ((int)(sizeof fx / sizeof fx[0]))
/* appended to every fixture: folds to "heart", which is already there, so it must be dropped */
static const float fx_dup[FX_D] = {9, 9, 9, 9, 9, 9};

static void put_text_vec(struct buf *b, const float *v)
{
    for (int j = 0; j < FX_D; j++)
        buf_printf(b, " %.9g", (double)v[j]);
}

static void fx_glove(struct buf *b)
{
    for (int i = 0; i < FX_N; i++) {
        buf_puts(b, fx[i].w);
        put_text_vec(b, fx[i].v);
        buf_putc(b, '\n');
    }
    buf_puts(b, "HEART");
    put_text_vec(b, fx_dup);
    buf_putc(b, '\n');
}

static void fx_fasttext(struct buf *b) /* header line, trailing spaces, CRLF */
{
    buf_printf(b, "%d %d\r\n", FX_N + 1, FX_D);
    for (int i = 0; i < FX_N; i++) {
        buf_puts(b, fx[i].w);
        put_text_vec(b, fx[i].v);
        buf_puts(b, " \r\n");
    }
    buf_puts(b, "Heart");
    put_text_vec(b, fx_dup);
    buf_puts(b, " \r\n");
}

static void fx_w2v(struct buf *b)
{
    buf_printf(b, "%d %d\n", FX_N + 1, FX_D);
    for (int i = 0; i <= FX_N; i++) {
        buf_puts(b, i < FX_N ? fx[i].w : "hEaRt");
        buf_putc(b, ' ');
        buf_append(b, (const char *)(i < FX_N ? fx[i].v : fx_dup), sizeof(float) * FX_D);
        if (i % 2 == 0) buf_putc(b, '\n'); /* the newline after a record is optional */
    }
}

static void fx_json(struct buf *b) /* wink layout: 100 values + norm + index, here FX_D + 2 */
{
    buf_printf(b,
               "{\"precision\":8,\"l2NormIndex\":%d,\"wordIndex\":%d,\"size\":%d,\"dimensions\":%d,"
               "\"words\":[",
               FX_D, FX_D + 1, FX_N + 1, FX_D);
    for (int i = 0; i < FX_N; i++)
        buf_printf(b, "%s\"%s\"", i ? "," : "", fx[i].w);
    buf_puts(b, ",\"HEART\"],\n \"vectors\": {");
    for (int i = 0; i <= FX_N; i++) {
        const char *w = i < FX_N ? fx[i].w : "HEART";
        const float *v = i < FX_N ? fx[i].v : fx_dup;
        if (strcmp(w, "e-mail") == 0) w = "e\\u002dmail"; /* escapes are decoded */
        buf_printf(b, "%s\"%s\":[", i ? ",\n" : "", w);
        double n = 0;
        for (int j = 0; j < FX_D; j++) {
            buf_printf(b, "%.9g,", (double)v[j]);
            n += (double)v[j] * v[j];
        }
        buf_printf(b, "%.8f,%d]", sqrt(n), i);
    }
    buf_puts(b, "},\"unkVector\":[0,0,0,0,0,0,0,-1]}\n");
}

static const char *write_buf(struct test_ctx *t_, const char *dir, const char *name, struct buf *b)
{
    const char *p = t_write(t_, dir, name, b->data ? b->data : "", b->len);
    buf_cleanup(b);
    return p;
}

/* Import one fixture into dir/name.vcvec; returns the path or NULL. */
static const char *import_fx(struct test_ctx *t_, const char *dir, const char *name,
                             void (*make)(struct buf *), struct err *e)
{
    struct buf b = {0};
    make(&b);
    const char *src = write_buf(t_, dir, name, &b);
    if (!src) return NULL;
    static char dst[4][512];
    static int k;
    char *d = dst[k++ % 4];
    snprintf(d, 512, "%s/%s.vcvec", dir, name);
    if (emb_vecfile_import(src, d, e) != 0) return NULL;
    return d;
}

TEST(emb_import_formats)
{
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    static void (*const makers[])(struct buf *) = {fx_glove, fx_fasttext, fx_w2v, fx_json};
    static const char *const names[] = {"glove.txt", "wiki.vec", "w2v.bin", "wink.json"};
    char first_hash[17] = "";
    for (int f = 0; f < 4; f++) {
        struct err e = {0};
        const char *p = import_fx(t_, dir, names[f], makers[f], &e);
        if (!p) fprintf(stderr, "  %s: %s\n", names[f], e.msg);
        REQUIRE(p);
        struct emb_vecfile *v = NULL;
        REQUIRE_OK(emb_vecfile_open(&v, p, &e), e);
        CHECK(emb_vecfile_dim(v) == FX_D);
        CHECK(emb_vecfile_count(v) == FX_N); /* the folded duplicate was dropped */
        for (int i = 0; i < FX_N; i++) {
            const float *x = emb_vecfile_lookup(v, fx[i].w, strlen(fx[i].w));
            CHECK(x && memcmp(x, fx[i].v, sizeof fx[i].v) == 0);
            CHECK(emb_vecfile_find(v, fx[i].w, strlen(fx[i].w)) == i); /* source order kept */
            size_t n = 0;
            const char *w = emb_vecfile_word(v, i, &n);
            CHECK(w && n == strlen(fx[i].w) && memcmp(w, fx[i].w, n) == 0);
        }
        /* same words and vectors: same content hash whatever the source format */
        if (f == 0)
            memcpy(first_hash, emb_vecfile_hash(v), 17);
        else
            CHECK(strcmp(first_hash, emb_vecfile_hash(v)) == 0);
        CHECK(strlen(emb_vecfile_hash(v)) == 16);
        CHECK(emb_vecfile_verify(v, &e) == 0);
        emb_vecfile_close(v);
    }
}

TEST(emb_lookup)
{
    const char *dir = t_tmpdir(t_);
    struct err e = {0};
    const char *p = import_fx(t_, dir, "g.txt", fx_glove, &e);
    REQUIRE(p);
    struct emb_vecfile *v = NULL;
    REQUIRE_OK(emb_vecfile_open(&v, p, &e), e);
    CHECK(emb_vecfile_lookup(v, "hearts", 6) == NULL);
    CHECK(emb_vecfile_lookup(v, "hear", 4) == NULL);
    CHECK(emb_vecfile_lookup(v, "", 0) == NULL);
    CHECK(emb_vecfile_lookup(v, "Heart", 5) == NULL); /* lookup is exact: callers fold */
    CHECK(emb_vecfile_lookup(v, "café", strlen("café")) != NULL);
    CHECK(emb_vecfile_lookup(v, "heart attack", 5) != NULL); /* len counts, not the NUL */
    CHECK(emb_vecfile_row(v, -1) == NULL && emb_vecfile_row(v, FX_N) == NULL);
    CHECK(emb_vecfile_row(v, FX_N - 1) != NULL);
    emb_vecfile_close(v);
    emb_vecfile_close(NULL);
}

static int open_code(const char *path, struct err *e)
{
    struct emb_vecfile *v = (struct emb_vecfile *)1;
    int rc = emb_vecfile_open(&v, path, e);
    if (rc == 0)
        emb_vecfile_close(v);
    else if (v != NULL)
        return -1; /* *out must be NULL on failure */
    return rc;
}

TEST(emb_corrupt)
{
    const char *dir = t_tmpdir(t_);
    struct err e = {0};
    const char *p = import_fx(t_, dir, "g.txt", fx_glove, &e);
    REQUIRE(p);
    size_t len = 0;
    char *data = t_read(p, &len);
    REQUIRE(data && len > 256);
    /* truncated at many places: never a crash, always ERR_CORRUPT naming the file */
    size_t cuts[] = {0, 7, 64, 127, 128, 200, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        const char *q = t_write(t_, dir, "cut.vcvec", data, cuts[i]);
        REQUIRE(q);
        CHECK(open_code(q, &e) == ERR_CORRUPT);
        CHECK(t_contains(e.msg, "cut.vcvec"));
    }
    /* foreign files */
    const char *txt = t_write(t_, dir, "foreign.vcvec", "the 0.1 0.2\n", 12);
    CHECK(open_code(txt, &e) == ERR_CORRUPT && t_contains(e.msg, "foreign.vcvec"));
    char *junk = malloc(len);
    REQUIRE(junk);
    for (size_t i = 0; i < len; i++)
        junk[i] = (char)(i * 7919 >> 3);
    const char *jp = t_write(t_, dir, "junk.vcvec", junk, len);
    CHECK(open_code(jp, &e) == ERR_CORRUPT);
    /* right magic, lying header fields */
    memcpy(junk, data, len);
    junk[16] = (char)0xff; /* count */
    CHECK(open_code(t_write(t_, dir, "count.vcvec", junk, len), &e) == ERR_CORRUPT);
    memcpy(junk, data, len);
    junk[32] = 3; /* woff_off misaligned */
    CHECK(open_code(t_write(t_, dir, "off.vcvec", junk, len), &e) == ERR_CORRUPT);
    memcpy(junk, data, len);
    uint64_t woff_off = 0;
    for (int i = 7; i >= 0; i--)
        woff_off = woff_off << 8 | (unsigned char)data[32 + i];
    junk[woff_off + 8 * 3] = (char)0x7f; /* a word offset past the word bytes */
    CHECK(open_code(t_write(t_, dir, "woff.vcvec", junk, len), &e) == ERR_CORRUPT);
    /* one flipped bit in the vectors: opens, but verify catches it */
    memcpy(junk, data, len);
    junk[140] ^= 1;
    const char *fp = t_write(t_, dir, "flip.vcvec", junk, len);
    struct emb_vecfile *v = NULL;
    REQUIRE_OK(emb_vecfile_open(&v, fp, &e), e);
    CHECK(emb_vecfile_verify(v, &e) == ERR_CORRUPT);
    emb_vecfile_close(v);
    /* hash slots pointing past the rows are ignored, not followed */
    memcpy(junk, data, len);
    uint64_t slot_off = 0, nslots = 0;
    for (int i = 7; i >= 0; i--)
        slot_off = slot_off << 8 | (unsigned char)data[56 + i];
    for (int i = 7; i >= 0; i--)
        nslots = nslots << 8 | (unsigned char)data[64 + i];
    memset(junk + slot_off, 0xee, nslots * 4);
    REQUIRE_OK(emb_vecfile_open(&v, t_write(t_, dir, "slots.vcvec", junk, len), &e), e);
    CHECK(emb_vecfile_lookup(v, "heart", 5) == NULL);
    emb_vecfile_close(v);
    CHECK(open_code(dir, &e) == ERR_CORRUPT); /* a folder */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.vcvec", dir);
    CHECK(open_code(missing, &e) == ERR_NOTFOUND);
    free(junk);
    free(data);
}

TEST(emb_import_errors)
{
    const char *dir = t_tmpdir(t_);
    struct err e = {0};
    char dst[600];
    snprintf(dst, sizeof dst, "%s/out.vcvec", dir);
    static const struct {
        const char *name, *data;
        int code;
        const char *msg;
    } cases[] = {
        {"short.txt", "the 1 2 3\nof 1 2\n", ERR_PARSE, "short.txt:2:"},
        {"nan.txt", "the 1 2 x3\n", ERR_PARSE, "nan.txt:1:"},
        {"hdr.vec", "2 3\nthe 1 2 3\nof 1 2 3 4 5\n", ERR_PARSE, "hdr.vec:3:"},
        {"w2v.bin",
         "3 4\nthe \x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10of ab",
         ERR_PARSE, "truncated"},
        {"bad.json", "{\"dimensions\":3,\"vectors\":{\"the\":[1,2,3],\"of\":[1,2 3]}}", ERR_PARSE,
         "bad.json: byte"},
        {"short.json", "{\"dimensions\":3,\"vectors\":{\"the\":[1,2,3],\"of\":[1,2]}}", ERR_PARSE,
         "expected 3"},
        {"cut.json", "{\"dimensions\":3,\"vectors\":{\"the\":[1,2,3],\"of\":[1,", ERR_PARSE,
         "cut.json"},
        {"dim.json", "{\"dimensions\":99999,\"vectors\":{}}", ERR_LIMIT, "dimensions"},
        {"empty.txt", "", ERR_PARSE, "no usable"},
        {"bigdim.vec", "1 100000\n", ERR_LIMIT, "bigdim.vec:1:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].data);
        const char *src = t_write(t_, dir, cases[i].name, cases[i].data, n);
        REQUIRE(src);
        int rc = emb_vecfile_import(src, dst, &e);
        if (rc != cases[i].code || !t_contains(e.msg, cases[i].msg))
            fprintf(stderr, "  case %s: rc %d msg %s\n", cases[i].name, rc, e.msg);
        CHECK(rc == cases[i].code);
        CHECK(t_contains(e.msg, cases[i].msg));
        CHECK(access(dst, F_OK) != 0); /* nothing written on failure */
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", dir);
    CHECK(system(cmd) != 0); /* no temporary files left behind */
    CHECK(emb_vecfile_import("/nonexistent/x.txt", dst, &e) == ERR_NOTFOUND);
    const char *ok = t_write(t_, dir, "ok.txt", "the 1 2 3\n", 10);
    CHECK(emb_vecfile_import(ok, "/nonexistent/dir/x.vcvec", &e) == ERR_NOTFOUND);
    /* GloVe 840B has a few words with spaces: kept when the token before the numbers is no number
     */
    const char *sp = t_write(t_, dir, "sp.txt", "the 1 2 3\n. . . 4 5 6\n", 22);
    char spd[600];
    snprintf(spd, sizeof spd, "%s/sp.vcvec", dir);
    REQUIRE_OK(emb_vecfile_import(sp, spd, &e), e);
    struct emb_vecfile *sv = NULL;
    REQUIRE_OK(emb_vecfile_open(&sv, spd, &e), e);
    const float *dots = emb_vecfile_lookup(sv, ". . .", 5);
    CHECK(emb_vecfile_count(sv) == 2 && dots && dots[0] == 4 && dots[2] == 6);
    emb_vecfile_close(sv);
    /* an existing destination is replaced only on success */
    REQUIRE_OK(emb_vecfile_import(ok, dst, &e), e);
    const char *bad = t_write(t_, dir, "bad2.txt", "the 1 2 3\nof 1\n", 15);
    CHECK(emb_vecfile_import(bad, dst, &e) == ERR_PARSE);
    struct emb_vecfile *v = NULL;
    REQUIRE_OK(emb_vecfile_open(&v, dst, &e), e);
    CHECK(emb_vecfile_count(v) == 1 && emb_vecfile_dim(v) == 3);
    emb_vecfile_close(v);
}

TEST(emb_fold)
{
    const char *in = "ÀÉÎ Straße ΑΒΓ ДЖЁ Ÿ Ĳ Ł don’t ABC\xff";
    const char *want = "àéî straße αβγ джё ÿ ĳ ł don't abc\xff";
    char out[128];
    size_t n = emb_word_fold(in, strlen(in), out);
    CHECK(n == strlen(want) && memcmp(out, want, n) == 0);
    char same[64] = "Hello World";
    n = emb_word_fold(same, strlen(same), same); /* in place */
    CHECK(n == 11 && memcmp(same, "hello world", 11) == 0);
}

static struct emb *fx_embedder(struct test_ctx *t_, struct err *e)
{
    const char *dir = t_tmpdir(t_);
    const char *p = import_fx(t_, dir, "fx.json", fx_json, e);
    if (!p) return NULL;
    struct emb *em = NULL;
    if (emb_static_new(&em, p, NULL, e) != 0) return NULL;
    return em;
}

static double cosf_(const float *a, const float *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < d; i++)
        ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

static double norm_(const float *a, int d)
{
    double s = 0;
    for (int i = 0; i < d; i++)
        s += (double)a[i] * a[i];
    return sqrt(s);
}

TEST(emb_static_similar)
{
    struct err e = {0};
    struct emb *em = fx_embedder(t_, &e);
    REQUIRE_OK(em ? 0 : e.code ? e.code : -1, e);
    CHECK(emb_dim(em) == FX_D);
    CHECK(strcmp(emb_name(em), "static") == 0);
    const char *texts[] = {"The heart attack.",
                           "a CARDIAC arrest",
                           "the tax law of the court",
                           "zzz qqq",
                           "",
                           "!!! ...",
                           "Heart"};
    float out[7][FX_D];
    memset(out, 0x55, sizeof out);
    REQUIRE_OK(emb_embed(em, texts, 7, &out[0][0], &e), e);
    CHECK(cosf_(out[0], out[1], FX_D) > cosf_(out[0], out[2], FX_D) + 0.2);
    for (int i = 0; i < 3; i++)
        CHECK(fabs(norm_(out[i], FX_D) - 1.0) < 1e-5);
    CHECK(emb_is_zero(out[3], FX_D)); /* only unknown words */
    CHECK(emb_is_zero(out[4], FX_D)); /* empty */
    CHECK(emb_is_zero(out[5], FX_D)); /* no words */
    CHECK(!emb_is_zero(out[6], FX_D));
    /* one word: the direction of its vector */
    const struct emb_vecfile *v = emb_static_vectors(em);
    REQUIRE(v);
    CHECK(cosf_(out[6], emb_vecfile_lookup(v, "heart", 5), FX_D) > 0.9999);
    /* batch == one by one */
    float one[FX_D];
    REQUIRE_OK(emb_embed(em, &texts[1], 1, one, &e), e);
    CHECK(memcmp(one, out[1], sizeof one) == 0);
    emb_free(em);
    emb_free(NULL);
}

TEST(emb_static_weights)
{
    struct err e = {0};
    struct emb *em = fx_embedder(t_, &e);
    REQUIRE_OK(em ? 0 : e.code ? e.code : -1, e);
    const struct emb_vecfile *v = emb_static_vectors(em);
    const float *the = emb_vecfile_lookup(v, "the", 3), *heart = emb_vecfile_lookup(v, "heart", 5);
    const char *txt[] = {"the heart"};
    float out[FX_D];
    /* Zipf weights: "the" (row 0) weighs less than "heart" (row 3), though its vector is longer */
    REQUIRE_OK(emb_embed(em, txt, 1, out, &e), e);
    CHECK(cosf_(out, heart, FX_D) > cosf_(out, the, FX_D));
    const char *sig_zipf_c = emb_signature(em);
    char sig_zipf[256];
    snprintf(sig_zipf, sizeof sig_zipf, "%s", sig_zipf_c);
    CHECK(t_contains(sig_zipf, "weights=zipf") && t_contains(sig_zipf, emb_vecfile_hash(v)));
    /* corpus counts that make "heart" the common word flip it */
    const char *words[] = {"HEART", "the", "unknownword"};
    uint64_t counts[] = {1000000, 10, 5};
    REQUIRE_OK(emb_static_set_freq(em, words, counts, 3, 0, &e), e);
    REQUIRE_OK(emb_embed(em, txt, 1, out, &e), e);
    CHECK(cosf_(out, the, FX_D) > cosf_(out, heart, FX_D));
    CHECK(t_contains(emb_signature(em), "weights=counts-"));
    /* the same through per-row counts */
    uint64_t *rows = calloc(FX_N, sizeof *rows), total = 0;
    REQUIRE(rows);
    REQUIRE_OK(emb_static_count(em, "Heart heart HEART the zzz", 25, rows, &total, &e), e);
    CHECK(rows[3] == 3 && rows[0] == 1 && total == 5);
    float out2[FX_D];
    REQUIRE_OK(emb_static_set_counts(em, rows, total, &e), e);
    REQUIRE_OK(emb_embed(em, txt, 1, out2, &e), e);
    CHECK(cosf_(out2, the, FX_D) > cosf_(out2, heart, FX_D));
    CHECK(emb_static_set_counts(em, rows, 0, &e) == ERR_ARG);
    /* back to Zipf */
    REQUIRE_OK(emb_static_set_counts(em, NULL, 0, &e), e);
    CHECK(strcmp(emb_signature(em), sig_zipf) == 0);
    REQUIRE_OK(emb_embed(em, txt, 1, out2, &e), e);
    CHECK(cosf_(out2, heart, FX_D) > cosf_(out2, the, FX_D));
    free(rows);
    emb_free(em);
    struct emb_static_opts bad = {.a = -1};
    CHECK(emb_static_new(&em, "x", &bad, &e) == ERR_ARG && em == NULL);
}

TEST(emb_static_splitter)
{
    struct err e = {0};
    struct emb *em = fx_embedder(t_, &e);
    REQUIRE_OK(em ? 0 : e.code ? e.code : -1, e);
    const struct emb_vecfile *v = emb_static_vectors(em);
    uint64_t *c = calloc(FX_N, sizeof *c), total = 0;
    REQUIRE(c);
    const char *s = "John's U.S. e-mail: don’t; state-of-the-art (Café) 1,000 tax/law\xff"
                    "court";
    REQUIRE_OK(emb_static_count(em, s, strlen(s), c, &total, &e), e);
#define ROW(w) emb_vecfile_find(v, w, strlen(w))
    CHECK(c[ROW("john")] == 1 && c[ROW("'s")] == 1);
    CHECK(c[ROW("u.s.")] == 1);
    CHECK(c[ROW("e-mail")] == 1);
    CHECK(c[ROW("do")] == 1 && c[ROW("n't")] == 1);
    CHECK(c[ROW("state")] == 1 && c[ROW("of")] == 1 && c[ROW("the")] == 1 && c[ROW("art")] == 1);
    CHECK(c[ROW("café")] == 1);
    CHECK(c[ROW("tax")] == 1 && c[ROW("law")] == 1 && c[ROW("court")] == 1);
    CHECK(c[ROW("a")] == 0 && c[ROW("heart")] == 0);
    /* john 's u.s. e-mail do n't state of the art café tax law court, and "1,000" (unknown as a
     * whole) as two unknown parts 1 000 */
    CHECK(total == 16);
#undef ROW
    free(c);
    emb_free(em);
}

TEST(emb_first_pc)
{
    struct err e = {0};
    float x[200 * 4], pc[4];
    const float dir[4] = {0.5f, -0.5f, 0.5f, 0.5f};
    unsigned s = 7;
    for (int r = 0; r < 200; r++) {
        float scale = 1.0f + (float)(r % 5);
        for (int j = 0; j < 4; j++) {
            s = s * 1103515245u + 12345u;
            x[r * 4 + j] = scale * dir[j] + 0.1f * ((float)(s >> 16 & 0x7fff) / 32768.0f - 0.5f);
        }
    }
    REQUIRE_OK(emb_first_pc(x, 200, 4, pc, &e), e);
    double d = 0;
    for (int j = 0; j < 4; j++)
        d += (double)pc[j] * dir[j];
    CHECK(d > 0.999); /* the direction, with the sign of the mean */
    CHECK(fabs(norm_(pc, 4) - 1) < 1e-5);
    float zero[8] = {0};
    CHECK(emb_first_pc(zero, 2, 4, pc, &e) == ERR_ARG);
    CHECK(emb_first_pc(x, 0, 4, pc, &e) == ERR_ARG);
}

TEST(emb_static_pc)
{
    struct err e = {0};
    struct emb *em = fx_embedder(t_, &e);
    REQUIRE_OK(em ? 0 : e.code ? e.code : -1, e);
    float pc[FX_D];
    CHECK(emb_static_get_pc(em, pc) == 0);
    CHECK(t_contains(emb_signature(em), "pc=none"));
    const char *sample[] = {"the heart attack",
                            "cardiac arrest of a john",
                            "the tax law",
                            "court of law",
                            "state art",
                            "zzz",
                            "e-mail the u.s. court",
                            "do the art"};
    const char *q[] = {"heart attack", "tax court"};
    float before[2][FX_D], after[2][FX_D];
    REQUIRE_OK(emb_embed(em, q, 2, &before[0][0], &e), e);
    REQUIRE_OK(emb_static_fit_pc(em, sample, 8, &e), e);
    REQUIRE(emb_static_get_pc(em, pc) == 1);
    for (int j = 0; j < 5; j++)
        CHECK(pc[5] > pc[j] + 0.2); /* mostly the shared dimension */
    CHECK(t_contains(emb_signature(em), "pc=") &&
          !t_contains(emb_signature(em), "pc=none"));
    REQUIRE_OK(emb_embed(em, q, 2, &after[0][0], &e), e);
    double dot0 = 0, dot1 = 0;
    for (int j = 0; j < FX_D; j++)
        dot0 += (double)before[0][j] * pc[j], dot1 += (double)after[0][j] * pc[j];
    CHECK(fabs(dot1) < 1e-5 && fabs(dot0) > 0.1); /* the component is gone */
    CHECK(fabs(norm_(after[0], FX_D) - 1) < 1e-5);
    /* removing it pulls unrelated texts apart */
    CHECK(cosf_(after[0], after[1], FX_D) < cosf_(before[0], before[1], FX_D) - 0.1);
    /* persisted and restored on a fresh embedder: identical vectors and signature */
    struct emb *em2 = fx_embedder(t_, &e);
    REQUIRE(em2);
    REQUIRE_OK(emb_static_set_pc(em2, pc, &e), e);
    float again[2][FX_D];
    REQUIRE_OK(emb_embed(em2, q, 2, &again[0][0], &e), e);
    CHECK(memcmp(again, after, sizeof again) == 0);
    CHECK(strcmp(emb_signature(em), emb_signature(em2)) == 0);
    /* saved as text ("%.9g" each) and parsed back: the same signature */
    char txt[FX_D * 20] = "";
    for (int j = 0; j < FX_D; j++) {
        size_t l = strlen(txt);
        snprintf(txt + l, sizeof txt - l, "%.9g ", (double)pc[j]);
    }
    float back[FX_D];
    char *p = txt;
    for (int j = 0; j < FX_D; j++)
        back[j] = strtof(p, &p);
    struct emb *em3 = fx_embedder(t_, &e);
    REQUIRE(em3);
    REQUIRE_OK(emb_static_set_pc(em3, back, &e), e);
    CHECK(strcmp(emb_signature(em), emb_signature(em3)) == 0);
    /* a longer vector is normalised */
    for (int j = 0; j < FX_D; j++)
        back[j] = 3 * pc[j];
    REQUIRE_OK(emb_static_set_pc(em3, back, &e), e);
    REQUIRE(emb_static_get_pc(em3, back) == 1);
    for (int j = 0; j < FX_D; j++)
        CHECK(fabs(back[j] - pc[j]) < 1e-6);
    emb_free(em3);
    float bad[FX_D] = {0};
    CHECK(emb_static_set_pc(em2, bad, &e) == ERR_ARG);
    bad[0] = NAN;
    CHECK(emb_static_set_pc(em2, bad, &e) == ERR_ARG);
    REQUIRE_OK(emb_static_set_pc(em2, NULL, &e), e);
    CHECK(emb_static_get_pc(em2, pc) == 0);
    const char *oov[] = {"zzz", "qqq"};
    CHECK(emb_static_fit_pc(em2, oov, 2, &e) == ERR_ARG);
    emb_free(em);
    emb_free(em2);
}

/* The real default vectors (make model); skipped when they are not in the cache. */
TEST(emb_real_glove)
{
    struct buf path = {0};
    struct err e = {0};
    if (emb_vecfile_default_path(&path, &e) != 0 || access(path.data, R_OK) != 0) {
        buf_cleanup(&path);
        SKIP("no cached vectors (run make model)");
    }
    struct emb *em = NULL;
    int rc = emb_static_new(&em, path.data, NULL, &e);
    buf_cleanup(&path);
    REQUIRE_OK(rc, e);
    CHECK(emb_dim(em) == 100);
    const char *t[] = {"heart attack",
                       "myocardial infarction",
                       "tax law",
                       "The patient had a heart attack last year.",
                       "She was treated for an acute myocardial infarction.",
                       "The court ruled on the new income tax law."};
    float out[6][100];
    REQUIRE_OK(emb_embed(em, t, 6, &out[0][0], &e), e);
    double near = cosf_(out[0], out[1], 100), far = cosf_(out[0], out[2], 100);
    if (!(near > far)) fprintf(stderr, "  near %.3f far %.3f\n", near, far);
    CHECK(near > far);
    CHECK(cosf_(out[3], out[4], 100) > cosf_(out[3], out[5], 100));
    emb_free(em);
}
