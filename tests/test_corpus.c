/* test_corpus.c - the corpus readers (JSON Lines, folders, MediaWiki XML) and text cleanup. */
#include "utf8.h"
#include "test.h"

#include <bzlib.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "corpus/corpus.h"
#include "corpus/corpus_wikitext_int.h" /* wt_tables_check */

/* ---------------------------------------------------------------- helpers */

#define MAXD 16

/* Every document of a corpus, copied. */
struct docs {
    int n;   /* documents read (all of them, also past MAXD) */
    char *id[MAXD], *title[MAXD], *url[MAXD], *text[MAXD];
    long line[MAXD];
    long skipped;
    char first[512];
    int rc; /* the first error, reading stops there */
    struct err err;
    uint64_t done, total;
};

static void docs_free(struct docs *d)
{
    for (int i = 0; i < d->n && i < MAXD; i++) {
        free(d->id[i]);
        free(d->title[i]);
        free(d->url[i]);
        free(d->text[i]);
    }
}

/* Read `path` to the end or the first error into *d. Returns corpus_open's code. */
static int read_all(const char *path, const struct corpus_opts *o, struct docs *d)
{
    struct corpus_reader *r = NULL;
    memset(d, 0, sizeof *d);
    int rc = corpus_open(&r, path, o, &d->err);
    if (rc != 0) return d->rc = rc;
    for (;;) {
        struct corpus_doc doc;
        int has = 0;
        rc = corpus_next(r, &doc, &has, &d->err);
        if (rc != 0 || !has) break;
        if (d->n < MAXD) {
            d->id[d->n] = strdup(doc.id);
            d->title[d->n] = strdup(doc.title);
            d->url[d->n] = strdup(doc.url);
            d->text[d->n] = strdup(doc.text);
            d->line[d->n] = doc.line;
        }
        if (strlen(doc.text) != doc.text_len || !doc.source[0]) rc = -1; /* contract broken */
        d->n++;
        if (rc) break;
    }
    d->rc = rc;
    const char *first = NULL;
    d->skipped = corpus_skipped(r, &first);
    if (first) snprintf(d->first, sizeof d->first, "%s", first);
    corpus_progress(r, &d->done, &d->total);
    corpus_close(r);
    return 0;
}

static char *wikitext(const char *s)
{
    struct buf b = {0};
    struct err e = {0};
    if (buf_append(&b, "", 0) != 0 || corpus_wikitext_text(s, strlen(s), &b, &e) != 0) {
        buf_cleanup(&b);
        return NULL;
    }
    return buf_steal(&b);
}

static const char *path_in(struct test_ctx *t_, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", t_tmpdir(t_), name);
    return out;
}

/* ---------------------------------------------------------------- JSON Lines */

TEST(corpus_jsonl_formats)
{
    const char *data =
        "{\"_id\": \"d1\", \"title\": \"First\", \"text\": \"Alpha beta.\", \"url\": \"http://a/1\"}\n"
        "\n"
        "{\"id\": 42, \"contents\": \"Pyserini style\"}\r\n"
        "   \n"
        "{\"doc_id\": 7, \"title\": \"\", \"abstract\": [\"One.\", \"Two.\", \"Three.\"]}\n"
        "{\"_id\": \"d4\", \"text\": \"no newline at the end\"}";
    const char *p = t_write(t_, t_tmpdir(t_), "c.jsonl", data, strlen(data));
    REQUIRE(p);
    struct docs d;
    REQUIRE(read_all(p, NULL, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    REQUIRE(d.n == 4);
    CHECK(strcmp(d.id[0], "d1") == 0 && strcmp(d.title[0], "First") == 0);
    CHECK(strcmp(d.text[0], "Alpha beta.") == 0 && strcmp(d.url[0], "http://a/1") == 0);
    CHECK(d.line[0] == 1);
    CHECK(strcmp(d.id[1], "42") == 0 && strcmp(d.text[1], "Pyserini style") == 0);
    CHECK(strcmp(d.title[1], "") == 0 && strcmp(d.url[1], "") == 0 && d.line[1] == 3);
    CHECK(strcmp(d.id[2], "7") == 0 && strcmp(d.text[2], "One. Two. Three.") == 0 && d.line[2] == 5);
    CHECK(strcmp(d.text[3], "no newline at the end") == 0 && d.line[3] == 6);
    CHECK(d.skipped == 0);
    CHECK(d.total == strlen(data) && d.done == d.total);
    docs_free(&d);
}

/* One bad line in an otherwise good file: the error names FILE:LINE and the reason. */
static void check_bad_line(struct test_ctx *t_, const char *bad, int code, const char *reason)
{
    char buf[512];
    snprintf(buf, sizeof buf, "{\"_id\":\"a\",\"text\":\"x\"}\n%s\n{\"_id\":\"b\",\"text\":\"y\"}\n", bad);
    const char *p = t_write(t_, t_tmpdir(t_), "bad.jsonl", buf, strlen(buf));
    REQUIRE(p);
    struct docs d;
    REQUIRE(read_all(p, NULL, &d) == 0);
    CHECK(d.n == 1);
    CHECK(d.rc == code);
    char want[600];
    snprintf(want, sizeof want, "%s:2: %s", p, reason);
    if (strncmp(d.err.msg, want, strlen(want)) != 0) {
        fprintf(stderr, "  got \"%s\", want \"%s...\"\n", d.err.msg, want);
        t_->failed = 1;
    }
    docs_free(&d);
    /* with skip_bad the good lines around it are read and the reason is kept */
    struct corpus_opts o = {.skip_bad = 1};
    REQUIRE(read_all(p, &o, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 2 && d.skipped == 1);
    CHECK(strncmp(d.first, want, strlen(want)) == 0);
    if (d.n == 2) CHECK(strcmp(d.id[1], "b") == 0 && d.line[1] == 3);
    docs_free(&d);
}

TEST(corpus_jsonl_errors)
{
    check_bad_line(t_, "{\"_id\": \"c\", \"text\": }", ERR_PARSE, "invalid JSON at column 22");
    check_bad_line(t_, "[1, 2]", ERR_PARSE, "not a JSON object");
    check_bad_line(t_, "{\"title\": \"t\", \"text\": \"x\"}", ERR_PARSE, "missing \"_id\"");
    check_bad_line(t_, "{\"_id\": \"c\", \"title\": \"t\"}", ERR_PARSE, "missing \"text\"");
    check_bad_line(t_, "{\"_id\": \"c\", \"text\": 3}", ERR_PARSE, "\"text\" is not a string");
    check_bad_line(t_, "{\"_id\": \"c\", \"text\": \"caf\xe9\"}", ERR_UTF8, "invalid UTF-8 at column 26");
    check_bad_line(t_, "{\"_id\": \"c\", \"text\": \"\xed\xa0\x80\"}", ERR_UTF8, "invalid UTF-8");
}

TEST(corpus_jsonl_skip_count)
{
    const char *data = "{\"_id\":\"a\",\"text\":\"x\"}\n"
                       "not json\n"
                       "{\"_id\":\"b\"}\n"
                       "{\"_id\":\"c\",\"text\":\"z\"}\n"
                       "7\n";
    const char *p = t_write(t_, t_tmpdir(t_), "s.jsonl", data, strlen(data));
    REQUIRE(p);
    struct corpus_opts o = {.skip_bad = 1};
    struct docs d;
    REQUIRE(read_all(p, &o, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 2);
    CHECK(d.skipped == 3);
    CHECK(t_contains(d.first, ":2: invalid JSON"));
    docs_free(&d);
}

TEST(corpus_jsonl_long_line)
{
    size_t big = 10u << 20;
    const char *tail = "\n{\"_id\":\"after\",\"text\":\"ok\"}\n";
    char *data = malloc(big + 64);
    REQUIRE(data);
    memcpy(data, "{\"_id\":\"big\",\"text\":\"", 21);
    memset(data + 21, 'a', big - 23);
    memcpy(data + big - 2, "\"}", 2);
    memcpy(data + big, tail, strlen(tail));
    const char *p = t_write(t_, t_tmpdir(t_), "big.jsonl", data, big + strlen(tail));
    free(data);
    REQUIRE(p);
    struct docs d;
    REQUIRE(read_all(p, NULL, &d) == 0);
    CHECK(d.n == 0);
    CHECK(d.rc == ERR_LIMIT);
    char want[600];
    snprintf(want, sizeof want, "%s:1: line longer than %u bytes", p, CORPUS_MAX_RECORD);
    CHECK(strcmp(d.err.msg, want) == 0);
    docs_free(&d);
    struct corpus_opts o = {.skip_bad = 1};
    REQUIRE(read_all(p, &o, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 1 && d.skipped == 1);
    if (d.n == 1) CHECK(strcmp(d.id[0], "after") == 0 && d.line[0] == 2);
    docs_free(&d);
    /* a raised cap reads it */
    struct corpus_opts o2 = {.max_record = 16u << 20};
    REQUIRE(read_all(p, &o2, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 2);
    if (d.n == 2) CHECK(strlen(d.text[0]) == big - 23);
    docs_free(&d);
}

TEST(corpus_jsonl_binary_and_empty)
{
    const char bin[] = "{\"_id\":\"a\",\"text\":\"x\"}\n\x01\x02\x00\x00\xff binary\n";
    const char *p = t_write(t_, t_tmpdir(t_), "b.jsonl", bin, sizeof bin - 1);
    REQUIRE(p);
    struct docs d;
    struct corpus_opts o = {.skip_bad = 1}; /* binary data is not a bad record: never skipped */
    REQUIRE(read_all(p, &o, &d) == 0);
    CHECK(d.n == 1);
    CHECK(d.rc == ERR_IO);
    CHECK(t_contains(d.err.msg, ":2: NUL byte at column 3: binary data"));
    docs_free(&d);

    const char gz[] = "\x1f\x8b\x08\x00\x00\x00";
    p = t_write(t_, t_tmpdir(t_), "c.jsonl.gz", gz, sizeof gz - 1);
    REQUIRE(read_all(p, NULL, &d) == 0);
    CHECK(d.rc == ERR_IO && t_contains(d.err.msg, "gzip"));
    docs_free(&d);

    p = t_write(t_, t_tmpdir(t_), "empty.jsonl", "", 0);
    REQUIRE(read_all(p, NULL, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 0 && d.skipped == 0);
    docs_free(&d);
}

TEST(corpus_jsonl_stdin)
{
    const char *data = "{\"_id\":\"s1\",\"text\":\"from stdin\"}\n";
    const char *p = t_write(t_, t_tmpdir(t_), "in.jsonl", data, strlen(data));
    REQUIRE(p && freopen(p, "rb", stdin));
    struct docs d;
    REQUIRE(read_all("-", NULL, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 1 && strcmp(d.id[0], "s1") == 0 && d.total == 0 && d.done == strlen(data));
    docs_free(&d);
    struct corpus_opts o = {.format = CORPUS_MWXML};
    CHECK(read_all("-", &o, &d) == ERR_ARG);
    CHECK(freopen("/dev/null", "rb", stdin) != NULL);
}

TEST(corpus_open_errors)
{
    char p[512];
    path_in(t_, "nope.jsonl", p, sizeof p);
    struct corpus_reader *r = (struct corpus_reader *)1;
    struct err e = {0};
    CHECK(corpus_open(&r, p, NULL, &e) == ERR_NOTFOUND);
    CHECK(r == NULL);
    char want[600];
    snprintf(want, sizeof want, "%s: no such file or directory", p);
    CHECK(strcmp(e.msg, want) == 0);
    struct corpus_opts o = {.format = CORPUS_DIR};
    const char *f = t_write(t_, t_tmpdir(t_), "x.jsonl", "{}", 2);
    CHECK(corpus_open(&r, f, &o, &e) == ERR_ARG);
    o.format = CORPUS_JSONL;
    CHECK(corpus_open(&r, t_tmpdir(t_), &o, &e) == ERR_ARG);
    o.format = (enum corpus_format)99;
    CHECK(corpus_open(&r, f, &o, &e) == ERR_ARG);
    corpus_close(NULL);
}

/* ---------------------------------------------------------------- folders */

TEST(corpus_dir_walk)
{
    char root[512];
    path_in(t_, "site", root, sizeof root);
    const char *html = "<html><head><title>Page C</title><script>var x=1;</script></head>"
                       "<body><nav>menu</nav><p>Cee <b>text</b>.</p></body></html>";
    REQUIRE(t_write(t_, root, "b.txt", "plain bee\n", 10));
    REQUIRE(t_write(t_, root, "a/z.md", "intro\n# Zed Title #\nbody\n", 25));
    REQUIRE(t_write(t_, root, "a/deep/c.html", html, strlen(html)));
    REQUIRE(t_write(t_, root, "w.wiki", "'''Bold''' [[x|why]]{{t}}", 25));
    REQUIRE(t_write(t_, root, "skip.pdf", "%PDF", 4));
    REQUIRE(t_write(t_, root, ".git/x.txt", "hidden", 6));
    REQUIRE(t_write(t_, root, "empty.txt", "", 0));
    REQUIRE(t_write(t_, root, "H1.HTM", "<h1>Only <i>h1</i></h1><p>p</p>", 31));
    char link[600];
    snprintf(link, sizeof link, "%s/a/loop", root);
    REQUIRE(symlink("..", link) == 0); /* a folder loop: must not be followed */
    struct corpus_opts o = {.url_prefix = "https://ex.org/"};
    struct docs d;
    REQUIRE(read_all(root, &o, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    REQUIRE(d.n == 5);
    const char *ids[] = {"H1.HTM", "a/deep/c.html", "a/z.md", "b.txt", "w.wiki"};
    for (int i = 0; i < 5; i++) CHECK(strcmp(d.id[i], ids[i]) == 0);
    CHECK(strcmp(d.title[0], "Only h1") == 0);
    CHECK(strcmp(d.title[1], "Page C") == 0 && strcmp(d.text[1], "Cee text.") == 0);
    CHECK(strcmp(d.url[1], "https://ex.org/a/deep/c.html") == 0);
    CHECK(strcmp(d.title[2], "Zed Title") == 0 && t_contains(d.text[2], "body"));
    CHECK(strcmp(d.title[3], "b") == 0 && strcmp(d.text[3], "plain bee\n") == 0);
    CHECK(strcmp(d.title[4], "w") == 0 && strcmp(d.text[4], "Bold why") == 0);
    CHECK(d.line[0] == 0);
    CHECK(d.skipped == 1 && t_contains(d.first, "empty.txt"));
    CHECK(d.total > 0 && d.done == d.total);
    docs_free(&d);
    /* no prefix: no url */
    REQUIRE(read_all(root, NULL, &d) == 0);
    CHECK(d.n == 5 && strcmp(d.url[0], "") == 0);
    docs_free(&d);
}

TEST(corpus_dir_bad_files)
{
    char root[512];
    path_in(t_, "d", root, sizeof root);
    REQUIRE(t_write(t_, root, "a.txt", "good", 4));
    REQUIRE(t_write(t_, root, "b.txt", "bin\0ary", 7));
    REQUIRE(t_write(t_, root, "c.txt", "caf\xe9", 4));
    REQUIRE(t_write(t_, root, "d.txt", "also good", 9));
    struct docs d;
    REQUIRE(read_all(root, NULL, &d) == 0);
    CHECK(d.n == 1 && d.rc == ERR_IO);
    CHECK(t_contains(d.err.msg, "/d/b.txt: binary file (NUL byte at offset 3)"));
    docs_free(&d);
    struct corpus_opts o = {.skip_bad = 1};
    REQUIRE(read_all(root, &o, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 2 && d.skipped == 2);
    CHECK(t_contains(d.first, "b.txt: binary"));
    docs_free(&d);
    char gone[600];
    snprintf(gone, sizeof gone, "%s/b.txt", root);
    CHECK(unlink(gone) == 0);
    REQUIRE(read_all(root, NULL, &d) == 0);
    CHECK(d.n == 1 && d.rc == ERR_UTF8 && t_contains(d.err.msg, "c.txt: invalid UTF-8 at byte 3"));
    docs_free(&d);
    /* a file over the cap */
    snprintf(gone, sizeof gone, "%s/c.txt", root);
    CHECK(unlink(gone) == 0);
    REQUIRE(t_write(t_, root, "e.txt", "0123456789012345678901234567890123456789", 40));
    struct corpus_opts small = {.max_record = 20};
    REQUIRE(read_all(root, &small, &d) == 0);
    CHECK(d.n == 2 && d.rc == ERR_LIMIT);
    CHECK(t_contains(d.err.msg, "e.txt: file of 40 bytes is longer than 20 bytes"));
    docs_free(&d);
}

/* ---------------------------------------------------------------- MediaWiki XML */

static const char mw_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.10/\" version=\"0.10\">\n"
    "  <siteinfo><sitename>Test</sitename><namespaces><namespace key=\"1\">Talk</namespace>"
    "</namespaces></siteinfo>\n"
    "  <page>\n    <title>Alpha Page</title>\n    <ns>0</ns>\n    <id>1</id>\n"
    "    <revision><id>10</id><text xml:space=\"preserve\">'''Alpha''' is a [[letter|glyph]].&lt;ref&gt;"
    "cite&lt;/ref&gt; {{Infobox|x=1}}\n== History ==\nOld &amp; new.</text></revision>\n  </page>\n"
    "  <page>\n    <title>Alfa</title>\n    <ns>0</ns>\n    <redirect title=\"Alpha Page\" />\n"
    "    <revision><text>#REDIRECT [[Alpha Page]]</text></revision>\n  </page>\n"
    "  <page>\n    <title>Talk:Alpha Page</title>\n    <ns>1</ns>\n"
    "    <revision><text>talk text</text></revision>\n  </page>\n"
    "  <page>\n    <title>Beta</title>\n    <ns>0</ns>\n"
    "    <revision><text>old revision</text></revision>\n"
    "    <revision><text>new <![CDATA[revision]]></text></revision>\n  </page>\n"
    "</mediawiki>\n";

static void check_mw_docs(struct test_ctx *t_, struct docs *d)
{
    REQUIRE_OK(d->rc, d->err);
    REQUIRE(d->n == 2);
    CHECK(strcmp(d->id[0], "Alpha Page") == 0 && strcmp(d->title[0], "Alpha Page") == 0);
    CHECK(strcmp(d->url[0], "") == 0);
    CHECK(strcmp(d->text[0], "Alpha is a glyph.\n\nHistory\n\nOld & new.") == 0);
    CHECK(d->line[0] == 1);
    CHECK(strcmp(d->id[1], "Beta") == 0 && strcmp(d->text[1], "new revision") == 0);
    CHECK(d->line[1] == 4);
    CHECK(d->done == d->total && d->total > 0);
}

TEST(corpus_mwxml_plain)
{
    const char *p = t_write(t_, t_tmpdir(t_), "dump.xml", mw_xml, sizeof mw_xml - 1);
    REQUIRE(p);
    struct docs d;
    REQUIRE(read_all(p, NULL, &d) == 0);
    check_mw_docs(t_, &d);
    docs_free(&d);
    /* detected from its first bytes too */
    p = t_write(t_, t_tmpdir(t_), "dump.data", mw_xml, sizeof mw_xml - 1);
    REQUIRE(read_all(p, NULL, &d) == 0);
    check_mw_docs(t_, &d);
    docs_free(&d);
}

/* Write `data` as `streams` concatenated bzip2 streams (a multistream dump). */
static int write_bz2(const char *path, const char *data, size_t len, int streams)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = 1;
    size_t per = len / (size_t)streams + 1, at = 0;
    for (int s = 0; s < streams && ok; s++) {
        int e;
        BZFILE *bz = BZ2_bzWriteOpen(&e, f, 9, 0, 0);
        if (!bz || e != BZ_OK) return fclose(f), -1;
        size_t n = len - at < per ? len - at : per;
        BZ2_bzWrite(&e, bz, (void *)(data + at), (int)n);
        ok = e == BZ_OK;
        at += n;
        BZ2_bzWriteClose(&e, bz, 0, NULL, NULL);
        ok = ok && e == BZ_OK;
    }
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

TEST(corpus_mwxml_bz2)
{
    char p[512];
    path_in(t_, "dump.xml.bz2", p, sizeof p);
    REQUIRE(write_bz2(p, mw_xml, sizeof mw_xml - 1, 1) == 0);
    struct docs d;
    REQUIRE(read_all(p, NULL, &d) == 0);
    check_mw_docs(t_, &d);
    docs_free(&d);
    path_in(t_, "multi.xml.bz2", p, sizeof p);
    REQUIRE(write_bz2(p, mw_xml, sizeof mw_xml - 1, 3) == 0);
    REQUIRE(read_all(p, NULL, &d) == 0);
    check_mw_docs(t_, &d);
    docs_free(&d);
    /* a corrupt compressed file is an I/O error, not a crash */
    size_t zl = 0;
    char *z = t_read(p, &zl);
    REQUIRE(z && zl > 60);
    zl = 60;
    const char *q = t_write(t_, t_tmpdir(t_), "cut.xml.bz2", z, zl);
    free(z);
    REQUIRE(read_all(q, NULL, &d) == 0);
    CHECK(d.rc == ERR_IO || d.rc == ERR_PARSE);
    docs_free(&d);
}

TEST(corpus_mwxml_errors)
{
    const char *bad = "<mediawiki>\n<page><title>A</title><ns>0</ns><revision><text>ok</text>"
                      "</revision></page>\n<page><title>B</title>\n<oops></page>\n</mediawiki>\n";
    const char *p = t_write(t_, t_tmpdir(t_), "bad.xml", bad, strlen(bad));
    struct docs d;
    struct corpus_opts skip = {.skip_bad = 1}; /* malformed XML cannot be skipped */
    REQUIRE(read_all(p, &skip, &d) == 0);
    CHECK(d.rc == ERR_PARSE);
    char want[600];
    snprintf(want, sizeof want, "%s:4: malformed XML: ", p);
    CHECK(strncmp(d.err.msg, want, strlen(want)) == 0);
    docs_free(&d);
    /* pages well before the error are delivered (the parser reads ahead by a buffer or so) */
    struct buf x = {0};
    buf_puts(&x, "<mediawiki>\n");
    for (int i = 0; i < 2000; i++)
        buf_printf(&x, "<page><title>P%d</title><ns>0</ns><revision><text>page %d text %0200d</text>"
                       "</revision></page>\n", i, i, 0);
    buf_puts(&x, "<page><title>Bad</title>\n</mediawiki>\n");
    REQUIRE(x.data);
    p = t_write(t_, t_tmpdir(t_), "late.xml", x.data, x.len);
    buf_cleanup(&x);
    REQUIRE(read_all(p, NULL, &d) == 0);
    CHECK(d.n > 1000 && d.n <= 2000 && d.rc == ERR_PARSE);
    snprintf(want, sizeof want, "%s:2003: malformed XML: ", p);
    CHECK(strncmp(d.err.msg, want, strlen(want)) == 0);
    if (d.n > 1) CHECK(strcmp(d.id[1], "P1") == 0 && t_contains(d.text[1], "page 1 text 000"));
    docs_free(&d);

    p = t_write(t_, t_tmpdir(t_), "other.xml", "<rss><item/></rss>", 18);
    REQUIRE(read_all(p, NULL, &d) == 0);
    CHECK(d.rc == ERR_PARSE && t_contains(d.err.msg, "not a MediaWiki export (root element <rss>)"));
    docs_free(&d);

    /* a title over 1024 bytes is cut at a character boundary */
    struct buf lt = {0};
    buf_puts(&lt, "<mediawiki><page><title>a");
    for (int i = 0; i < 600; i++) buf_puts(&lt, "\xc3\xa9");
    buf_puts(&lt, "</title><ns>0</ns><revision><text>t</text></revision></page></mediawiki>");
    REQUIRE(lt.data);
    p = t_write(t_, t_tmpdir(t_), "title.xml", lt.data, lt.len);
    buf_cleanup(&lt);
    REQUIRE(read_all(p, NULL, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 1);
    if (d.n == 1) CHECK(strlen(d.id[0]) == 1023 && utf8_valid(d.id[0], 1023, NULL));
    docs_free(&d);

    /* a page over the cap: a limit error, or skipped */
    const char *big = "<mediawiki><page><title>Big</title><ns>0</ns><revision><text>"
                      "0123456789012345678901234567890123456789</text></revision></page>"
                      "<page><title>Small</title><ns>0</ns><revision><text>tiny</text></revision>"
                      "</page></mediawiki>";
    p = t_write(t_, t_tmpdir(t_), "big.xml", big, strlen(big));
    struct corpus_opts o = {.max_record = 20};
    REQUIRE(read_all(p, &o, &d) == 0);
    CHECK(d.n == 0 && d.rc == ERR_LIMIT && t_contains(d.err.msg, "page 1 \"Big\": text longer than 20"));
    docs_free(&d);
    o.skip_bad = 1;
    REQUIRE(read_all(p, &o, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 1 && d.skipped == 1);
    if (d.n == 1) CHECK(strcmp(d.id[0], "Small") == 0 && d.line[0] == 2);
    docs_free(&d);
}

/* Invalid UTF-8 that libxml2 lets through a CDATA section is repaired (U+FFFD) at the reader, so
 * it is never stored, and search --json still returns the hit (issue 12 #6, found by
 * fuzz_corpus_read). */
TEST(corpus_mwxml_cdata_bad_utf8)
{
    static const char x[] = "<mediawiki><page><title>B</title><text><![CDATA[\xC0\xA3 glacier]]></text></page>"
                            "</mediawiki>";
    const char *dir = t_tmpdir(t_);
    const char *p = t_write(t_, dir, "w.xml", x, sizeof x - 1);
    struct docs d;
    REQUIRE(read_all(p, NULL, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    REQUIRE(d.n == 1);
    CHECK(utf8_valid(d.text[0], strlen(d.text[0]), NULL));
    CHECK(t_contains(d.text[0], "\xEF\xBF\xBD") && t_contains(d.text[0], "glacier"));
    docs_free(&d);
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, p) == 0);
    char *out = NULL;
    REQUIRE(t_run(t_, &out, NULL, "search --db '%s' --json glacier", ix) == 0);
    CHECK(out && utf8_valid(out, strlen(out), NULL));
    CHECK(out && t_contains(out, "\"doc_id\":\"B\"") && t_contains(out, "glacier"));
    free(out);
}

/* A page over libxml2's 10 MB text node limit is one oversized page, not the end of the dump:
 * without skip_bad a limit error naming it and the next call goes on; with it, skipped and counted
 * (issue 12 #10). */
TEST(corpus_mwxml_huge_page)
{
    struct buf x = {0};
    buf_puts(&x, "<mediawiki><page><title>Before</title><ns>0</ns><revision><text>first page</text>"
                 "</revision></page>\n<page><title>Huge</title><ns>0</ns><revision><text>");
    for (int i = 0; i < 110000; i++) buf_puts(&x, "0123456789 0123456789 0123456789 0123456789 0123456789 "
                                                  "0123456789 0123456789 0123456789 0123456789 012345678\n");
    buf_puts(&x, "</text></revision></page>\n<page><title>After</title><ns>0</ns><revision><text>last "
                 "page</text></revision></page></mediawiki>\n");
    REQUIRE(x.data && x.len > 11000000);
    const char *dir = t_tmpdir(t_);
    const char *p = t_write(t_, dir, "huge.xml", x.data, x.len);
    buf_cleanup(&x);
    REQUIRE(p);
    struct corpus_reader *r = NULL;
    struct err e = {0};
    REQUIRE_OK(corpus_open(&r, p, NULL, &e), e);
    struct corpus_doc doc;
    int has = 0, rc;
    REQUIRE_OK(corpus_next(r, &doc, &has, &e), e);
    CHECK(has && strcmp(doc.id, "Before") == 0);
    rc = corpus_next(r, &doc, &has, &e);
    CHECK(rc == ERR_LIMIT && !has && t_contains(e.msg, "page 2 \"Huge\": text longer than"));
    err_clear(&e);
    REQUIRE_OK(corpus_next(r, &doc, &has, &e), e);
    CHECK(has && strcmp(doc.id, "After") == 0);
    corpus_close(r);
    struct docs d;
    struct corpus_opts o = {.skip_bad = 1};
    REQUIRE(read_all(p, &o, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 2 && d.skipped == 1 && t_contains(d.first, "\"Huge\""));
    if (d.n == 2) CHECK(strcmp(d.id[0], "Before") == 0 && strcmp(d.id[1], "After") == 0);
    docs_free(&d);
    /* the CLI: the dump is indexed, the page named */
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    char *err = NULL;
    REQUIRE(t_run(t_, NULL, &err, "index --embedder none --skip-bad --db '%s' '%s'", ix, p) == 0);
    CHECK(err && t_contains(err, "skipped 1 bad record") && t_contains(err, "\"Huge\""));
    free(err);
}

/* ---------------------------------------------------------------- text cleanup */

TEST(corpus_html_text_cleanup)
{
    const char *html = "<!DOCTYPE html><html><head><title>  The\n Title </title>"
                       "<style>p{color:red}</style><script>document.write('no')</script></head><body>"
                       "<header>Site name</header><nav><a href=/>Home</a></nav>"
                       "<h1>Heading</h1><p>Caf&eacute; &amp; <i>bar</i>&nbsp;baz.</p>"
                       "<div>one</div><div>two<br>three</div><aside>ads</aside>"
                       "<ul><li>i1</li><li>i2</li></ul><footer>(c)</footer><form>f</form>"
                       "<noscript>ns</noscript><svg><text>svg</text></svg><template>tp</template>"
                       "<div role=\"navigation\">rn</div><span aria-hidden=\"true\">ah</span>"
                       "<p style=\"color: red; Display: None\">dn</p><p hidden>hd</p>"
                       "</body></html>";
    struct buf title = {0}, text = {0};
    struct err e = {0};
    REQUIRE_OK(corpus_html_text(html, strlen(html), &title, &text, &e), e);
    CHECK(strcmp(title.data, "The Title") == 0);
    CHECK(strcmp(text.data, "Heading\n\nCaf\xc3\xa9 & bar baz.\n\none\ntwo\nthree\n\ni1\ni2") == 0);
    if (text.data && strcmp(text.data, "Heading\n\nCaf\xc3\xa9 & bar baz.\n\none\ntwo\nthree\n\ni1\ni2"))
        fprintf(stderr, "  got [%s]\n", text.data);
    buf_cleanup(&title);
    buf_cleanup(&text);
    /* no <title>: the first <h1>; unclosed tags are recovered */
    const char *h = "<p>intro<h1>First <b>one</b></h1><h1>Second</h1><p>x &lt; y";
    REQUIRE_OK(corpus_html_text(h, strlen(h), &title, NULL, &e), e);
    CHECK(title.data && strcmp(title.data, "First one") == 0);
    buf_cleanup(&title);
    /* found by fuzz_html_text: libxml2 let a malformed byte through a processing instruction */
    static const char pi[] = "<html><head><meta charset=\"utf-8\"></head><body><p>a</p>\n"
                             "<?\x85\xab\x02\xc0`\x00\x00e=\"x\" <p>b</p></body></html>";
    REQUIRE_OK(corpus_html_text(pi, sizeof pi - 1, NULL, &text, &e), e);
    CHECK(text.data && utf8_valid(text.data, text.len, NULL));
    CHECK(t_contains(text.data, "a"));
    buf_cleanup(&text);
}

/* `n` attributes on one element, then text (issue 12 #3: libxml2's duplicate check is quadratic). */
static char *many_attrs(int n, const char *lead, const char *last)
{
    struct buf b = {0};
    buf_printf(&b, "<html><body><p%s", lead);
    for (int i = 0; i < n; i++) buf_printf(&b, " attr%d", i);
    buf_printf(&b, "%s>Glaciers retreat.</p><p>After.</p></body></html>", last);
    return buf_steal(&b);
}

/* The HTML parse budget: an element with 100,000 attributes (1 MB) is read in linear work with its
 * attributes past the 64th dropped; markup hidden in quotes, comments or scripts cannot smuggle one
 * past that; a page over the size or time budget is refused naming the budget. */
TEST(corpus_html_budget)
{
    struct buf title = {0}, text = {0};
    struct err e = {0};
    char *h = many_attrs(100000, "", "");
    REQUIRE(h && strlen(h) > 950000); /* about 1 MB */
    REQUIRE_OK(corpus_html_text(h, strlen(h), &title, &text, &e), e);
    CHECK(text.data && strcmp(text.data, "Glaciers retreat.\n\nAfter.") == 0);
    free(h);
    buf_reset(&text);
    /* the attributes kept are the first 64: "hidden" first hides the element, 70th it is dropped */
    h = many_attrs(70, " hidden", "");
    REQUIRE_OK(corpus_html_text(h, strlen(h), NULL, &text, &e), e);
    CHECK(text.data && strcmp(text.data, "After.") == 0);
    free(h);
    buf_reset(&text);
    h = many_attrs(70, "", " hidden");
    REQUIRE_OK(corpus_html_text(h, strlen(h), NULL, &text, &e), e);
    CHECK(text.data && t_contains(text.data, "Glaciers retreat."));
    free(h);
    buf_reset(&text);
    /* quotes, comments and scripts: what libxml2 sees is what we tokenized */
    struct buf x = {0};
    buf_puts(&x, "<!-- <a x=\" --><p title='a>b' alt=\"<i>\">One</p>"
                 "<script>if (a<b) x(\"</p>\");</script><b");
    for (int i = 0; i < 100000; i++) buf_printf(&x, " b%d=\"v\"", i);
    buf_puts(&x, ">Two</b> \" <p>Three</p><? x <i> ?><p>x < y &lt; z</p>");
    REQUIRE(x.data);
    REQUIRE_OK(corpus_html_text(x.data, x.len, NULL, &text, &e), e);
    CHECK(text.data && t_contains(text.data, "One") && t_contains(text.data, "Two") &&
          t_contains(text.data, "Three") && t_contains(text.data, "x < y < z") && !t_contains(text.data, "if (a"));
    buf_cleanup(&x);
    buf_reset(&text);
    /* a declared UTF-7 (which would turn "+ADw-" into '<') is not used */
    static const char u7[] = "<meta charset=\"utf-7\"><p>caf\xe9 +ADw-b+AD4-x+ADw-/b+AD4-</p>";
    REQUIRE_OK(corpus_html_text(u7, sizeof u7 - 1, NULL, &text, &e), e);
    CHECK(text.data && t_contains(text.data, "caf\xc3\xa9 +ADw-b+AD4-x"));
    buf_reset(&text);
    static const char l1[] = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-2\"><p>\xb1</p>";
    REQUIRE_OK(corpus_html_text(l1, sizeof l1 - 1, NULL, &text, &e), e);
    CHECK(text.data && strcmp(text.data, "\xc4\x85") == 0); /* ISO-8859-2 0xB1: a with ogonek */
    buf_reset(&text);
    /* the size and time budgets */
    struct corpus_html_budget small = {.max_bytes = 100};
    h = many_attrs(100, "", "");
    CHECK(corpus_html_text_budget(h, strlen(h), &small, NULL, &text, &e) == ERR_LIMIT);
    CHECK(t_contains(e.msg, "over the HTML size budget of 100 bytes"));
    free(h);
    err_clear(&e);
    buf_reset(&text);
    for (int i = 0; i < 200000; i++) buf_puts(&x, "<p>word <b>bold</b></p>");
    REQUIRE(x.data);
    struct corpus_html_budget quick = {.max_ms = 1};
    CHECK(corpus_html_text_budget(x.data, x.len, &quick, NULL, &text, &e) == ERR_LIMIT);
    CHECK(t_contains(e.msg, "over the HTML time budget of 1 ms"));
    buf_cleanup(&x);
    buf_cleanup(&title);
    buf_cleanup(&text);
}

/* A folder file over the HTML budget is one bad file: refused naming the budget, or skipped. */
TEST(corpus_dir_html_budget)
{
    const char *dir = t_tmpdir(t_);
    char *h = many_attrs(1000, "", "");
    REQUIRE(h);
    t_write(t_, dir, "f/big.html", h, strlen(h));
    t_write(t_, dir, "f/small.txt", "Small file.", 11);
    free(h);
    char root[600];
    snprintf(root, sizeof root, "%s/f", dir);
    struct docs d;
    struct corpus_opts o = {.html = {.max_bytes = 1000}};
    REQUIRE(read_all(root, &o, &d) == 0);
    CHECK(d.rc == ERR_LIMIT && t_contains(d.err.msg, "big.html") && t_contains(d.err.msg, "HTML size budget"));
    docs_free(&d);
    o.skip_bad = 1;
    REQUIRE(read_all(root, &o, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 1 && d.skipped == 1 && t_contains(d.first, "big.html") && t_contains(d.first, "HTML size budget"));
    docs_free(&d);
    /* with the default budget the file is read, its attributes dropped */
    REQUIRE(read_all(root, NULL, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 2);
    if (d.n == 2) CHECK(t_contains(d.text[0], "Glaciers retreat."));
    docs_free(&d);
}

TEST(corpus_wikitext_cleanup)
{
    struct {
        const char *in, *want;
    } cases[] = {
        {"a {{outer|x={{inner|{{deep}}}}|y}} b", "a b"},
        {"{{Infobox\n| name = X\n| born = {{birth date|1950|1|1}}\n}}\nText.", "Text."},
        {"[[Paris]] and [[France|the country]] [[Dog]]s", "Paris and the country Dogs"},
        {"x[[File:A.jpg|thumb|A [[nested]] caption]]y [[Category:Z]][[Datei:B.png]]", "xy"},
        {"Fact.<ref name=\"a\">{{cite web|url=http://x}}</ref> More.<ref name=b/> End<REF>x</REF>.",
         "Fact. More. End."},
        {"pre\n{| class=\"wikitable\"\n|-\n| a || b\n|}\npost", "pre\n\npost"},
        {"== Section ==\ntext\n=== Sub ===", "Section\n\ntext\n\nSub"},
        {"* one\n** two\n# three\n: four", "one\ntwo\nthree\nfour"},
        {"see [http://ex.org/a the label] or [https://x.y] or http://bare.org/p ok",
         "see the label or or http://bare.org/p ok"},
        {"'''bold''' ''it'' '''''both'''''", "bold it both"},
        {"a<!-- hidden {{ [[ -->b <!-- unclosed", "ab"},
        {"x &amp; y &lt;z&gt; &#65;&#x42; &nbsp;&mdash;", "x & y <z> AB \xe2\x80\x94"},
        {"<nowiki>{{keep}} [[this]]</nowiki>", "{{keep}} [[this]]"},
        {"a<br/>b <span class=\"x\">c</span> <div>d</div>", "a\nb c\nd"},
        {"__NOTOC__Text [[fr:Paris]] [[:Category:Shown]]", "Text Category:Shown"},
        {"pipe [[Help:Link (x)|]] trick", "pipe Help:Link (x) trick"},
        /* inline templates that carry words or numbers are rendered */
        {"It is {{convert|120|km|mi}} long, {{convert|1|to|3|m|ft}} deep.",
         "It is 120 km long, 1 to 3 m deep."},
        {"Born {{birth date and age|1950|1|2|df=y}} in {{lang|fr|[[Paris|Paree]]}}.",
         "Born 2 January 1950 in Paree."},
        {"{{nowrap|{{small|a}} b}}{{snd}}c {{frac|1|2}} {{US$|5}} {{as of|2010|5}} {{circa|1900}}",
         "a b \xe2\x80\x93 c 1/2 US$5 As of May 2010 c. 1900"},
        {"x{{cite web|title={{lang|de|y}}}}{{{param|d}}}{{efn|n {{convert|9|kg}}}} z", "x z"},
        {"{{hlist|a|[[b]]|c}}; {{sortname|Ann|Lee}}, {{ISBN|978-0}}, x{{mdashb}}y", "a, b, c; Ann Lee, ISBN 978-0, x\xe2\x80\x94y"},
        {"&lt;ref&gt;hidden&lt;/ref&gt;escaped export", "escaped export"},
        /* fields holding a citation render (the same text the claims have), others do not */
        {"{{Infobox person\n| name = Ann\n| birth_place = Lyon<ref>http://g.example/</ref>\n| job = writer\n}}\n"
         "Ann writes.",
         "Birth place: Lyon\n\nAnn writes."},
        {"x\n{|\n|-\n| 2001 || {{flagicon|X}} || style=\"a\" | Won<ref>http://h.example/</ref>\n|-\n| 2002 || Lost\n|}\ny",
         "x\n\n2001; Won\n\ny"},
        {"[[File:X.jpg|thumb|left|The mill.<ref>http://c.example/</ref>]] {{quote|1=Said so.{{cn}}}}",
         "The mill.\n\nSaid so."},
        {"== H ==<!-- note -->\ntext{{cn}}word<ref>x</ref>, {{circa}}", "H\n\ntext word, c."},
        /* unbalanced markup stays text, never crashes */
        {"{{a {{b}} c", "{{a c"},
        {"[[a|b", "[[a|b"},
        {"<ref>never closed", "never closed"},
        {"}} ]] |} {|", "}} ]] |} {|"},
        {"[http://x no close", "[http://x no close"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = wikitext(cases[i].in);
        if (!got || strcmp(got, cases[i].want) != 0) {
            fprintf(stderr, "  case %zu: got [%s], want [%s]\n", i, got ? got : "(null)", cases[i].want);
            t_->failed = 1;
        }
        free(got);
    }
}

/* The engine's tables are sorted (each entry is found by its own lookup). */
TEST(corpus_wikitext_tables)
{
    CHECK(wt_tables_check() == 0);
}

/* Sink callbacks writing what they get into a struct buf (ctx) as "[kind ...]" marks. */
static int ev_ref(void *b, struct corpus_wt *w, const struct corpus_wt_ref *r)
{
    size_t n;
    const char *s = corpus_wt_src(w, &n);
    return buf_printf(b, "[ref %.*s/%.*s:%.*s]", (int)(r->group_b - r->group_a), s + r->group_a,
                      (int)(r->name_b - r->name_a), s + r->name_a, (int)(r->in_b - r->in_a), s + r->in_a);
}
static int ev_tpl(void *b, struct corpus_wt *w, const struct corpus_wt_tpl *t)
{
    (void)w;
    return buf_printf(b, "[tpl %s %d]", t->name, t->role);
}
static int ev_text(void *b, const char *s, size_t n, size_t off, int verbatim)
{
    (void)off, (void)verbatim;
    return buf_append(b, s, n);
}
static int ev_heading(void *b, int level, size_t a, size_t z, int end)
{
    (void)a, (void)z;
    return buf_printf(b, "[h%d%s]", level, end ? "/" : "");
}
static int ev_field(void *b, enum corpus_wt_field kind, int end) { return buf_printf(b, "[f%d%s]", (int)kind, end ? "/" : ""); }
static int ev_link(void *b, size_t a, size_t z, int external) { return buf_printf(b, "[link%d %zu]", external, z - a); }

/* What a walk reports: text with offsets, refs with their attributes and content, templates it
 * does not render with their role, headings, fields, links; offsets map back through escaping. */
TEST(corpus_wikitext_sink)
{
    const char *in = "== A ==\nX{{cn}} [[Paris|P]]<ref name=\"n\" group=g>{{cite web|url=http://u}}</ref>"
                     "{{Infobox|k=v<ref>r</ref>}}";
    struct corpus_wt *w = NULL;
    struct err e = {0};
    REQUIRE_OK(corpus_wt_parse(&w, in, strlen(in), &e), e);
    struct buf log = {0};
    struct corpus_wt_sink sink = {.ctx = &log, .text = ev_text, .heading = ev_heading, .field = ev_field,
                                  .ref = ev_ref, .tpl = ev_tpl, .link = ev_link};
    CHECK(corpus_wt_walk(w, 0, strlen(in), &sink) == 0);
    char want[512];
    snprintf(want, sizeof want, "[h2]A[h2/]\nX[tpl cn %d] [link0 5]P[ref g/n:{{cite web|url=http://u}}]"
             "[tpl infobox %d][f%d]K: v[ref /:r][f%d/]", CORPUS_WT_NEEDED, CORPUS_WT_BOX, CORPUS_WT_PARAM,
             CORPUS_WT_PARAM);
    if (!log.data || strcmp(log.data, want) != 0) {
        fprintf(stderr, "  got  %s\n  want %s\n", log.data ? log.data : "", want);
        CHECK(!"events differ");
    }
    struct corpus_wt_tpl t;
    size_t at = (size_t)(strstr(in, "{{cite") - in);
    CHECK(corpus_wt_template(w, at, strlen(in), &t) && t.role == CORPUS_WT_CITE && strcmp(t.name, "cite web") == 0);
    CHECK(!corpus_wt_template(w, at, at + 5, &t)); /* it does not end by then */
    buf_cleanup(&log);
    corpus_wt_free(w);
    /* an escaped export: offsets in the source map back to the input */
    const char *esc = "A &quot;b&quot;&lt;ref&gt;x&lt;/ref&gt;";
    REQUIRE_OK(corpus_wt_parse(&w, esc, strlen(esc), &e), e);
    size_t n;
    const char *src = corpus_wt_src(w, &n);
    CHECK(n == strlen("A \"b\"<ref>x</ref>") && memcmp(src, "A \"b\"<ref>", 9) == 0);
    CHECK(corpus_wt_input_offset(w, 3) == 8 && corpus_wt_input_offset(w, n) == strlen(esc));
    corpus_wt_free(w);
}

/* Pathological input stays linear: 1 MB of unbalanced openers takes well under a second (a
 * quadratic scan would take minutes). */
TEST(corpus_wikitext_linear)
{
    size_t n = 1u << 20;
    char *s = malloc(n + 1);
    REQUIRE(s);
    const char *pats[] = {"{{", "[[a|", "<ref>", "[http://x ", "{|\n", "<!-- -", "{{a|", "<span "};
    for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
        size_t l = strlen(pats[k]);
        for (size_t i = 0; i < n; i++) s[i] = pats[k][i % l];
        s[n] = '\0';
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        struct buf out = {0};
        struct err e = {0};
        CHECK(corpus_wikitext_text(s, n, &out, &e) == 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double sec = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        if (sec > 5.0) {
            fprintf(stderr, "  pattern %zu took %.1f s\n", k, sec);
            t_->failed = 1;
        }
        buf_cleanup(&out);
    }
    /* deeply nested rendered templates: recursion is capped, the text inside is dropped */
    size_t depth = n / 16, at = 0;
    for (size_t i = 0; i < depth; i++, at += 9) memcpy(s + at, "{{nowrap|", 9);
    s[at++] = 'x';
    for (size_t i = 0; i < depth; i++, at += 2) memcpy(s + at, "}}", 2);
    struct buf out = {0};
    struct err e = {0};
    CHECK(corpus_wikitext_text(s, at, &out, &e) == 0);
    CHECK(out.len == 0);
    buf_cleanup(&out);
    memcpy(s, "{{nowrap|{{nowrap|deep}}}}", 27);
    REQUIRE_OK(corpus_wikitext_text(s, 26, &out, &e), e);
    CHECK(out.data && strcmp(out.data, "deep") == 0);
    buf_cleanup(&out);
    free(s);
}

TEST(corpus_utf8)
{
    size_t at = 99;
    CHECK(utf8_valid("plain", 5, &at));
    CHECK(utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, NULL));
    CHECK(!utf8_valid("ab\xc0\xaf", 4, &at) && at == 2);     /* overlong */
    CHECK(!utf8_valid("\xed\xa0\x80", 3, &at) && at == 0);   /* surrogate */
    CHECK(!utf8_valid("x\xe2\x82", 3, &at) && at == 1);      /* truncated */
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4, &at) && at == 0); /* past U+10FFFF */
    CHECK(!utf8_valid("a\x80", 2, &at) && at == 1);          /* lone continuation */
    CHECK(utf8_valid("", 0, NULL));
}

/* ---------------------------------------------------------------- shared data */

TEST(corpus_shared_scifact)
{
    const char *p = t_shared(t_, "scifact/corpus.jsonl");
    if (!p) SKIP("../shared/data/scifact/corpus.jsonl not present");
    struct docs d;
    REQUIRE(read_all(p, NULL, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 5183);
    CHECK(strcmp(d.id[0], "4983") == 0 && d.title[0][0] && d.text[0][0]);
    CHECK(d.done == d.total);
    docs_free(&d);
    p = t_shared(t_, "citation-integrity/corpus.jsonl");
    if (!p) return;
    REQUIRE(read_all(p, NULL, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 3063);
    CHECK(strcmp(d.id[0], "66000") == 0 && strncmp(d.text[0], "Accumulating evidence", 21) == 0);
    docs_free(&d);
}

TEST(corpus_shared_wikitext_folder)
{
    const char *p = t_shared(t_, "wikitext/articles");
    if (!p) SKIP("../shared/data/wikitext/articles not present");
    struct docs d;
    REQUIRE(read_all(p, NULL, &d) == 0);
    REQUIRE_OK(d.rc, d.err);
    CHECK(d.n == 45);
    CHECK(strcmp(d.id[0], "2008-British-motorcycle-Grand-Prix.txt") == 0);
    CHECK(strcmp(d.title[0], "2008-British-motorcycle-Grand-Prix") == 0);
    docs_free(&d);
}
