/* test_idx.c - the index (documents, passages, postings, FTS5) and BM25 retrieval over it. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "corpus/corpus.h"
#include "index/idx.h"
#include "retrieve/ret.h"
#include "test.h"

static const struct {
    const char *id, *title, *text;
} fixture[] = {
    {"d1", "Vitamin D and bone health", "Vitamin D deficiency is linked to weaker bones in older adults."},
    {"d2", "Coffee", "Coffee consumption and heart disease risk were studied in a large cohort."},
    {"d3", "Sleep", "Short sleep duration increases the risk of obesity in children and adults."},
    {"d4", "Exercise and mood", "Regular exercise improves mood; exercise reduces anxiety."},
    {"d5", "Statins", "Statins lower cholesterol and the risk of heart attacks."},
};

/* A new empty index in the case's temp folder: its path in `path`, the handle in *ix. */
static int open_new(struct test_ctx *t_, char *path, size_t n, int passage_words, struct idx **ix,
                    struct err *e)
{
    snprintf(path, n, "%s/ix", t_tmpdir(t_));
    struct idx_opts o = {.create = 1, .passage_words = passage_words};
    return idx_open(ix, path, &o, e);
}

static int add_fixture(struct idx *ix, struct err *e)
{
    int rc = idx_begin(ix, e);
    for (size_t i = 0; !rc && i < sizeof fixture / sizeof fixture[0]; i++) {
        struct corpus_doc d = {fixture[i].id, fixture[i].title, "", fixture[i].text,
                               strlen(fixture[i].text), "fixture", (long)i + 1};
        rc = idx_add(ix, &d, NULL, e);
    }
    return rc ? rc : idx_commit(ix, e);
}

static int top_doc(struct idx *ix, const char *q, char *out, size_t n, double *score)
{
    struct err e = {0};
    struct ret *r = NULL;
    struct ret_hit h[5];
    int nh = 0;
    out[0] = '\0';
    struct ret_opts o = {.k = 5};
    if (ret_new(&r, ix, &e) || ret_search(r, q, &o, h, &nh, &e)) {
        ret_free(r);
        return -1;
    }
    if (nh > 0) {
        struct idx_passage p;
        if (idx_passage(ix, h[0].pid, &p, &e) == 0) snprintf(out, n, "%s", p.doc_id);
        if (score) *score = h[0].score;
    }
    ret_free(r);
    return nh;
}

TEST(idx_add_search_reopen)
{
    struct err e = {0};
    char path[512];
    struct idx *ix = NULL;
    REQUIRE_OK(open_new(t_, path, sizeof path, 0, &ix, &e), e);
    REQUIRE_OK(add_fixture(ix, &e), e);
    idx_close(ix);
    struct idx_opts ro = {.readonly = 1};
    REQUIRE_OK(idx_open(&ix, path, &ro, &e), e);
    char top[64];
    CHECK(top_doc(ix, "Does vitamin-D deficiency weaken bones?", top, sizeof top, NULL) > 0);
    CHECK(strcmp(top, "d1") == 0);
    CHECK(top_doc(ix, "\"heart attack\" AND statins NOT (cholesterol)", top, sizeof top, NULL) > 0);
    CHECK(strcmp(top, "d5") == 0);
    CHECK(top_doc(ix, "the of and", top, sizeof top, NULL) == 0); /* only stop words */
    struct idx_stats st;
    REQUIRE_OK(idx_stats(ix, &st, &e), e);
    CHECK(st.docs == 5 && st.passages == 5);
    /* FTS5's bm25 over the same tokens agrees on the obvious query */
    int64_t pids[3];
    double sc[3];
    int n = 0;
    REQUIRE_OK(idx_fts_search(ix, "sleeping OR \"children\" NEAR(", 3, pids, sc, &n, &e), e);
    REQUIRE(n >= 1);
    struct idx_passage p;
    REQUIRE_OK(idx_passage(ix, pids[0], &p, &e), e);
    CHECK(strcmp(p.doc_id, "d3") == 0);
    idx_close(ix);
}

/* Counts the reference query terms and the length of a text, for the BM25 reference. */
struct ref_count {
    int *tf, *len;
    const char *const *qt;
};

static int ref_count_cb(void *ctx, const char *term, size_t l, int pos, size_t s, size_t en)
{
    (void)pos, (void)s, (void)en;
    struct ref_count *k = ctx;
    (*k->len)++;
    for (int j = 0; j < 3; j++)
        if (strlen(k->qt[j]) == l && !memcmp(k->qt[j], term, l)) k->tf[j]++;
    return 0;
}

/* BM25 computed from scratch for the fixture, to check the postings path end to end. */
TEST(idx_bm25_matches_reference)
{
    struct err e = {0};
    char path[512];
    struct idx *ix = NULL;
    REQUIRE_OK(open_new(t_, path, sizeof path, 0, &ix, &e), e);
    REQUIRE_OK(add_fixture(ix, &e), e);
    /* reference: tokens of title + text per document, one passage each */
    struct corpus_tok *tk = NULL;
    REQUIRE_OK(corpus_tok_new(&tk, 0, &e), e);
    const char *q = "exercise risk heart";
    const char *qterms[] = {"exercis", "risk", "heart"};
    int tf[5][3] = {{0}}, len[5] = {0}, df[3] = {0};
    for (int d = 0; d < 5; d++) {
        char both[512];
        snprintf(both, sizeof both, "%s %s", fixture[d].title, fixture[d].text);
        struct ref_count k = {tf[d], &len[d], qterms};
        corpus_tok_run(tk, both, strlen(both), ref_count_cb, &k);
    }
    for (int d = 0; d < 5; d++)
        for (int j = 0; j < 3; j++) df[j] += tf[d][j] > 0;
    double avg = 0;
    for (int d = 0; d < 5; d++) avg += len[d];
    avg /= 5;
    double want[5] = {0};
    for (int d = 0; d < 5; d++)
        for (int j = 0; j < 3; j++) {
            if (!tf[d][j]) continue;
            double idf = log(1 + (5 - df[j] + 0.5) / (df[j] + 0.5));
            want[d] += idf * tf[d][j] * (0.9 + 1) / (tf[d][j] + 0.9 * (1 - 0.4 + 0.4 * len[d] / avg));
        }
    struct ret *r = NULL;
    struct ret_hit h[5];
    int nh = 0;
    struct ret_opts ropt = {.k = 5};
    REQUIRE_OK(ret_new(&r, ix, &e), e);
    REQUIRE_OK(ret_search(r, q, &ropt, h, &nh, &e), e);
    int nonzero = 0;
    for (int d = 0; d < 5; d++) nonzero += want[d] > 0;
    CHECK(nh == nonzero);
    for (int i = 0; i < nh; i++) {
        struct idx_passage p;
        REQUIRE_OK(idx_passage(ix, h[i].pid, &p, &e), e);
        int d = p.doc_id[1] - '1';
        if (fabs(h[i].score - want[d]) > 1e-4) {
            fprintf(stderr, "  %s: score %.6f, reference %.6f\n", p.doc_id, h[i].score, want[d]);
            t_->failed = 1;
        }
        if (i > 0) CHECK(h[i].score <= h[i - 1].score);
    }
    ret_free(r);
    corpus_tok_free(tk);
    idx_close(ix);
}

TEST(idx_replace_unchanged_remove_rollback)
{
    struct err e = {0};
    char path[512];
    struct idx *ix = NULL;
    REQUIRE_OK(open_new(t_, path, sizeof path, 0, &ix, &e), e);
    REQUIRE_OK(add_fixture(ix, &e), e);
    /* same content: unchanged; new content under the same id: replaced */
    REQUIRE_OK(idx_begin(ix, &e), e);
    int res = 0;
    struct corpus_doc d = {"d2", "Coffee", "", fixture[1].text, strlen(fixture[1].text), "f", 1};
    REQUIRE_OK(idx_add(ix, &d, &res, &e), e);
    CHECK(res == IDX_UNCHANGED);
    const char *nt = "Tea drinking and zebrafish swimming speed.";
    struct corpus_doc d2 = {"d2", "Tea", "", nt, strlen(nt), "f", 1};
    REQUIRE_OK(idx_add(ix, &d2, &res, &e), e);
    CHECK(res == IDX_REPLACED);
    REQUIRE_OK(idx_commit(ix, &e), e);
    char top[64];
    CHECK(top_doc(ix, "coffee consumption cohort", top, sizeof top, NULL) == 0); /* old words gone */
    CHECK(top_doc(ix, "zebrafish", top, sizeof top, NULL) == 1 && strcmp(top, "d2") == 0);
    /* FTS5 agrees: the old text is gone there too */
    int64_t pids[2];
    double sc[2];
    int n = 0;
    REQUIRE_OK(idx_fts_search(ix, "coffee", 2, pids, sc, &n, &e), e);
    CHECK(n == 0);
    /* remove */
    REQUIRE_OK(idx_begin(ix, &e), e);
    int found = 0;
    REQUIRE_OK(idx_remove(ix, "d5", &found, &e), e);
    CHECK(found == 1);
    REQUIRE_OK(idx_remove(ix, "nope", &found, &e), e);
    CHECK(found == 0);
    REQUIRE_OK(idx_commit(ix, &e), e);
    CHECK(top_doc(ix, "statins", top, sizeof top, NULL) == 0);
    struct idx_stats st;
    REQUIRE_OK(idx_stats(ix, &st, &e), e);
    CHECK(st.docs == 4 && st.passages == 4);
    int64_t np = 0, tt = 0;
    idx_corpus_totals(ix, &np, &tt, &e);
    CHECK(np == 4);
    /* a rolled-back transaction leaves nothing behind */
    REQUIRE_OK(idx_begin(ix, &e), e);
    const char *xt = "Platypus venom.";
    struct corpus_doc d3 = {"d9", "Platypus", "", xt, strlen(xt), "f", 1};
    REQUIRE_OK(idx_add(ix, &d3, &res, &e), e);
    idx_rollback(ix);
    CHECK(top_doc(ix, "platypus", top, sizeof top, NULL) == 0);
    idx_corpus_totals(ix, &np, &tt, &e);
    CHECK(np == 4);
    idx_close(ix);
}

TEST(idx_many_commits_segments)
{
    /* 300 single-document commits: postings are appended to segments and stay in pid order */
    struct err e = {0};
    char path[512];
    struct idx *ix = NULL;
    REQUIRE_OK(open_new(t_, path, sizeof path, 20, &ix, &e), e);
    char id[32], text[256];
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "doc%d", i);
        snprintf(text, sizeof text, "common words here and marker%d %s", i, i % 7 == 0 ? "septimal" : "");
        struct corpus_doc d = {id, "", "", text, strlen(text), "f", i};
        REQUIRE_OK(idx_begin(ix, &e), e);
        REQUIRE_OK(idx_add(ix, &d, NULL, &e), e);
        REQUIRE_OK(idx_commit(ix, &e), e);
    }
    int64_t df = 0, last = 0, count = 0;
    REQUIRE_OK(idx_post_open(ix, "common", 6, &df, &e), e);
    CHECK(df == 300);
    struct idx_post p;
    int got;
    while ((got = idx_post_next(ix, &p, &e)) == 1) {
        CHECK(p.pid > last);
        last = p.pid;
        count++;
    }
    CHECK(got == 0 && count == 300);
    /* remove every third document, then the counts agree */
    REQUIRE_OK(idx_begin(ix, &e), e);
    for (int i = 0; i < 300; i += 3) {
        snprintf(id, sizeof id, "doc%d", i);
        int found = 0;
        REQUIRE_OK(idx_remove(ix, id, &found, &e), e);
        CHECK(found);
    }
    REQUIRE_OK(idx_commit(ix, &e), e);
    REQUIRE_OK(idx_post_open(ix, "common", 6, &df, &e), e);
    CHECK(df == 200);
    REQUIRE_OK(idx_post_open(ix, "septim", 6, &df, &e), e);
    int64_t sept = 0;
    for (int i = 0; i < 300; i++) sept += i % 7 == 0 && i % 3 != 0;
    CHECK(df == sept);
    idx_close(ix);
}

TEST(idx_open_errors)
{
    struct err e = {0};
    const char *dir = t_tmpdir(t_);
    char path[512];
    struct idx *ix = NULL;
    snprintf(path, sizeof path, "%s/none", dir);
    CHECK(idx_open(&ix, path, NULL, &e) == ERR_NOTFOUND && ix == NULL);
    CHECK(t_contains(e.msg, "no vericite index"));
    /* a file that is not SQLite */
    REQUIRE(t_write(t_, dir, "bad/index.db", "this is not a database, just text\n", 34));
    snprintf(path, sizeof path, "%s/bad", dir);
    int rc = idx_open(&ix, path, NULL, &e);
    CHECK(rc == ERR_CORRUPT);
    CHECK(t_contains(e.msg, "index.db"));
    /* a SQLite database that is not ours */
    snprintf(path, sizeof path, "%s/other", dir);
    struct idx_opts o = {.create = 1};
    REQUIRE_OK(idx_open(&ix, path, &o, &e), e);
    idx_close(ix);
    char sql[700];
    snprintf(sql, sizeof sql, "sqlite3 '%s/other/index.db' \"UPDATE settings SET value='99' WHERE key='schema_version'\"", dir);
    REQUIRE(system(sql) == 0);
    CHECK(idx_open(&ix, path, NULL, &e) == ERR_MISMATCH);
    CHECK(t_contains(e.msg, "schema version 99"));
}

TEST(idx_url_lookup_and_fetch_cache)
{
    struct err e = {0};
    char path[512];
    struct idx *ix = NULL;
    REQUIRE_OK(open_new(t_, path, sizeof path, 10, &ix, &e), e);
    REQUIRE_OK(idx_begin(ix, &e), e);
    const char *text = "one two three four five six seven eight nine ten eleven twelve thirteen "
                       "fourteen fifteen sixteen seventeen eighteen nineteen twenty twentyone";
    struct corpus_doc d = {"w1", "WAL", "https://www.sqlite.org/wal.html", text, strlen(text), "f", 1};
    REQUIRE_OK(idx_add(ix, &d, NULL, &e), e);
    REQUIRE_OK(idx_commit(ix, &e), e);
    struct idx_doc doc;
    int found = 0;
    REQUIRE_OK(idx_find_url(ix, "http://sqlite.org/wal.html?utm_source=feed#intro", &doc, &found, &e), e);
    CHECK(found && !strcmp(doc.id, "w1") && !strcmp(doc.url, "https://www.sqlite.org/wal.html"));
    CHECK(doc.passages == 2);
    REQUIRE_OK(idx_find_url(ix, "https://sqlite.org/other.html", &doc, &found, &e), e);
    CHECK(!found);
    struct buf all = {0};
    REQUIRE_OK(idx_find_url(ix, "https://sqlite.org/wal.html", &doc, &found, &e), e);
    REQUIRE_OK(idx_doc_text(ix, doc.row, &all, &e), e);
    CHECK(!strcmp(all.data, text)); /* passages joined back in order */
    buf_cleanup(&all);
    struct idx_fetch f = {.url = "https://example.org/a", .final_url = "https://example.org/b",
                          .status = 200, .outcome = "ok", .content_type = "text/html",
                          .title = "A", .text = "body text"};
    REQUIRE_OK(idx_cache_put(ix, &f, &e), e);
    struct idx_fetch g;
    REQUIRE_OK(idx_cache_get(ix, "https://example.org/a", &g, &found, &e), e);
    CHECK(found && g.status == 200 && !strcmp(g.final_url, "https://example.org/b") &&
          !strcmp(g.text, "body text") && !strcmp(g.outcome, "ok") && g.fetched_at[0] == '2');
    REQUIRE_OK(idx_cache_get(ix, "https://example.org/zzz", &g, &found, &e), e);
    CHECK(!found);
    idx_close(ix);
}

/* The fetch cache keeps the guard decision (private_addrs) with each entry; an index made before
 * the column existed still opens: read-only it reads its rows as "*" (unknown), and the first
 * read-write open adds the column with "*" for the old rows. */
TEST(idx_fetch_cache_guard_column)
{
    struct err e = {0};
    char path[512], sql[1200];
    struct idx *ix = NULL;
    int found = 0;
    struct idx_fetch g;
    REQUIRE_OK(open_new(t_, path, sizeof path, 10, &ix, &e), e);
    struct idx_fetch f = {.url = "http://127.0.0.1:8080/p", .status = 200, .outcome = "ok",
                          .title = "P", .text = "private page", .private_addrs = "127.0.0.1:8080"};
    REQUIRE_OK(idx_cache_put(ix, &f, &e), e);
    struct idx_fetch pub = {.url = "https://example.org/a", .status = 200, .outcome = "ok",
                            .title = "A", .text = "public page"}; /* private_addrs NULL: public */
    REQUIRE_OK(idx_cache_put(ix, &pub, &e), e);
    REQUIRE_OK(idx_cache_get(ix, "http://127.0.0.1:8080/p", &g, &found, &e), e);
    CHECK(found && !strcmp(g.private_addrs, "127.0.0.1:8080") && !strcmp(g.text, "private page"));
    REQUIRE_OK(idx_cache_get(ix, "https://example.org/a", &g, &found, &e), e);
    CHECK(found && !strcmp(g.private_addrs, ""));
    idx_close(ix);
    ix = NULL;

    /* make it an older index: no column, one row */
    snprintf(sql, sizeof sql,
             "sqlite3 '%s/index.db' \"ALTER TABLE fetch_cache DROP COLUMN private_addrs; "
             "INSERT INTO fetch_cache VALUES('http://old/x','http://old/x',200,'ok','text/html',"
             "'2024-01-01T00:00:00Z','Old','old page')\"",
             path);
    REQUIRE(system(sql) == 0);
    struct idx_opts ro = {.readonly = 1};
    REQUIRE_OK(idx_open(&ix, path, &ro, &e), e);
    REQUIRE_OK(idx_cache_get(ix, "http://old/x", &g, &found, &e), e);
    CHECK(found && !strcmp(g.private_addrs, "*") && !strcmp(g.text, "old page"));
    REQUIRE_OK(idx_cache_get(ix, "http://127.0.0.1:8080/p", &g, &found, &e), e);
    CHECK(found && !strcmp(g.private_addrs, "*")); /* its decision was dropped with the column */
    idx_close(ix);
    ix = NULL;
    REQUIRE_OK(idx_open(&ix, path, NULL, &e), e); /* read-write: the column comes back */
    REQUIRE_OK(idx_cache_get(ix, "http://old/x", &g, &found, &e), e);
    CHECK(found && !strcmp(g.private_addrs, "*"));
    REQUIRE_OK(idx_cache_put(ix, &f, &e), e);
    REQUIRE_OK(idx_cache_get(ix, "http://127.0.0.1:8080/p", &g, &found, &e), e);
    CHECK(found && !strcmp(g.private_addrs, "127.0.0.1:8080"));
    idx_close(ix);
}
