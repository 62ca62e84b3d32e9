/* test_tok.c - the tokenizer and the passage chunker. */
#include <stdlib.h>

#include "corpus/corpus.h"
#include "test.h"

struct collect {
    char out[2048];
    size_t len;
    size_t starts[64], ends[64];
    int n;
};

static int collect_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos;
    struct collect *k = c;
    if (k->len + len + 2 >= sizeof k->out || k->n >= 64) return 1;
    if (k->len) k->out[k->len++] = ' ';
    memcpy(k->out + k->len, term, len);
    k->len += len;
    k->out[k->len] = '\0';
    k->starts[k->n] = s;
    k->ends[k->n++] = e;
    return 0;
}

static const char *toks(struct corpus_tok *t, const char *text, struct collect *k)
{
    memset(k, 0, sizeof *k);
    corpus_tok_run(t, text, strlen(text), collect_cb, k);
    return k->out;
}

TEST(tok_cases)
{
    struct err e = {0};
    struct corpus_tok *t = NULL;
    REQUIRE_OK(corpus_tok_new(&t, 0, &e), e);
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"The cats are running", "cat run"},                       /* stop words, stemming */
        {"CAFÉ Crème naïve", "cafe creme naiv"},                   /* folding, accents */
        {"Straße STRASSE", "strass strass"},                       /* full case folding */
        {"COVID-19 (SARS-CoV-2): \"NOT\" AND NEAR", "covid 19 sar cov 2 not near"}, /* operators are words */
        {"don't O'Neil's", "don't o'neil"},                        /* apostrophes inside words */
        {"ﬁnancial Ｆｕｌｌ", "financi full"},                        /* NFKC compatibility forms */
        {"", ""},
        {"   ... --- ", ""},
        {"東京 タワー", "東京 タワー"},                               /* non-Latin scripts kept */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct collect k;
        const char *got = toks(t, cases[i].in, &k);
        if (strcmp(got, cases[i].want) != 0) {
            fprintf(stderr, "  tokenize \"%s\": got \"%s\", want \"%s\"\n", cases[i].in, got, cases[i].want);
            t_->failed = 1;
        }
    }
    corpus_tok_free(t);
}

TEST(tok_spans_and_bad_utf8)
{
    struct err e = {0};
    struct corpus_tok *t = NULL;
    REQUIRE_OK(corpus_tok_new(&t, CORPUS_TOK_KEEP_STOP | CORPUS_TOK_NO_STEM, &e), e);
    struct collect k;
    const char *text = "Hello, wörld\xff\xfe bad";
    toks(t, text, &k);
    CHECK(strcmp(k.out, "hello world bad") == 0);
    REQUIRE(k.n == 3);
    CHECK(k.starts[0] == 0 && k.ends[0] == 5);
    CHECK(k.starts[1] == 7 && k.ends[1] == 13); /* ö is two bytes */
    CHECK(strncmp(text + k.starts[2], "bad", 3) == 0);
    /* a very long token is cut at CORPUS_TOK_MAX bytes */
    char longw[300];
    memset(longw, 'a', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    toks(t, longw, &k);
    CHECK(k.len == CORPUS_TOK_MAX);
    CHECK(corpus_tok_is_stop("the") && !corpus_tok_is_stop("not") && !corpus_tok_is_stop("cell"));
    corpus_tok_free(t);
}

struct spans {
    struct corpus_span s[64];
    int n;
};

static int span_cb(void *c, const struct corpus_span *sp)
{
    struct spans *x = c;
    if (x->n < 64) x->s[x->n++] = *sp;
    return 0;
}

TEST(tok_chunk_passages)
{
    /* 250 words, no sentence ends: 100 + 150 (a 50-word tail joins the last passage) */
    char text[4096];
    size_t len = 0;
    for (int i = 0; i < 250; i++) len += (size_t)snprintf(text + len, sizeof text - len, "w%d ", i);
    struct spans x = {0};
    corpus_chunk(text, len, 100, span_cb, &x);
    REQUIRE(x.n == 2);
    CHECK(x.s[0].words == 100 && x.s[1].words == 150);
    CHECK(strncmp(text + x.s[0].start, "w0 ", 3) == 0);
    CHECK(strncmp(text + x.s[1].start, "w100 ", 5) == 0);
    CHECK(text[x.s[0].end] == ' '); /* never inside a word */
    /* a sentence end past 3/4 of the target closes the passage early */
    len = 0;
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, i == 79 ? "end. " : "w%d ", i);
    x.n = 0;
    corpus_chunk(text, len, 100, span_cb, &x);
    REQUIRE(x.n >= 2);
    CHECK(x.s[0].words == 80);
    CHECK(strncmp(text + x.s[0].end - 4, "end.", 4) == 0);
    /* empty and short texts */
    x.n = 0;
    corpus_chunk("   \n ", 5, 100, span_cb, &x);
    CHECK(x.n == 0);
    corpus_chunk("one two", 7, 100, span_cb, &x);
    CHECK(x.n == 1 && x.s[0].words == 2);
}

TEST(tok_url_normalize)
{
    static const struct {
        const char *in, *want; /* want NULL: rejected */
    } cases[] = {
        {"https://WWW.Example.org/a/?utm_source=x&id=3#top", "example.org/a?id=3"},
        {"http://example.org:80/a", "example.org/a"},
        {"https://example.org:8443/a", "example.org:8443/a"},
        {"//example.org/", "example.org"},
        {"https://user:pw@example.org/p?fbclid=1", "example.org/p"},
        {"https://example.org/p?a=1&gclid=2&b=3", "example.org/p?a=1&b=3"},
        {"  https://example.org/x  ", "example.org/x"},
        {"https://www.sqlite.org/wal.html", "sqlite.org/wal.html"},
        {"https://", NULL},
        {"", NULL},
    };
    struct buf b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = corpus_url_normalize(cases[i].in, &b);
        int ok = cases[i].want ? (rc == 0 && !strcmp(b.data, cases[i].want)) : rc != 0;
        if (!ok) {
            fprintf(stderr, "  normalize \"%s\": got %d \"%s\", want \"%s\"\n", cases[i].in, rc,
                    b.data ? b.data : "", cases[i].want ? cases[i].want : "(rejected)");
            t_->failed = 1;
        }
    }
    buf_cleanup(&b);
}

TEST(tok_buf_basics)
{
    struct buf b = {0};
    char *s = buf_steal(&b); /* an empty buffer hands over "" */
    REQUIRE(s);
    CHECK(s[0] == '\0');
    free(s);
    CHECK(buf_printf(&b, "%s-%d", "x", 42) == 0 && !strcmp(b.data, "x-42") && b.len == 4);
    CHECK(buf_append(&b, "yz", 1) == 0 && !strcmp(b.data, "x-42y"));
    buf_reset(&b);
    CHECK(b.len == 0 && b.data[0] == '\0');
    buf_cleanup(&b);
    CHECK(b.data == NULL && b.cap == 0);
}
