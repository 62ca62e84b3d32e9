/* test_idx_write.c - writing an index safely at scale: the writer lock and totals read inside
 * the write transaction (two writers), the URL lookup's index, deletions as tombstones. */
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus/corpus.h"
#include "index/idx.h"
#include "index/idx_int.h" /* the lookup statements, for their query plans */
#include "retrieve/ret.h"
#include "test.h"

/* A corpus of n generated documents with ids PREFIX0..PREFIXn-1 as JSON Lines (malloc'ed). The
 * words come from a small vocabulary, so BM25 rankings depend on every document's statistics. */
static char *gen_jsonl(const char *prefix, int n, unsigned seed)
{
    static const char *const words[] = {"glacier", "aspirin", "stroke", "bee",   "pesticide",
                                        "coffee",  "heart",   "sleep",  "mood",  "exercise",
                                        "vitamin", "bone",    "statin", "risk",  "cohort",
                                        "alpine",  "volume",  "colony", "women", "children"};
    struct buf b = {0};
    unsigned s = seed;
    for (int i = 0; i < n; i++) {
        buf_printf(&b, "{\"_id\": \"%s%d\", \"title\": \"doc %s %d\", \"text\": \"", prefix, i, prefix, i);
        int len = 8 + i % 23;
        for (int w = 0; w < len; w++) {
            s = s * 1103515245u + 12345u;
            buf_printf(&b, "%s%s", w ? " " : "", words[(s >> 16) % (s % 3 ? 20 : 6)]);
        }
        buf_puts(&b, "\"}\n");
    }
    return buf_steal(&b);
}

/* passages and total tokens as the index records them, or -1. */
static void totals_of(const char *path, int64_t *np, int64_t *nt)
{
    struct err e = {0};
    struct idx *ix = NULL;
    struct idx_opts ro = {.readonly = 1};
    *np = *nt = -1;
    if (idx_open(&ix, path, &ro, &e) == ERR_OK) idx_corpus_totals(ix, np, nt, &e);
    idx_close(ix);
}

struct scored {
    char id[32];
    double score;
};

static int cmp_scored(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return strcmp(x->id, y->id);
}

/* The BM25 ranking of `q` on the open index `ix` as one string of "id:score": the hits above
 * the 20th best score (ties at the cut depend on passage ids, which differ between builds),
 * equal scores ordered by id. */
static char *ranking_how(struct idx *ix, const char *q, int exhaustive)
{
    struct err e = {0};
    struct ret *r = NULL;
    struct ret_hit h[20];
    struct scored sc[20];
    int n = 0, m = 0;
    struct buf b = {0};
    struct ret_opts o = {.mode = RET_BM25, .k = 20, .exhaustive = exhaustive};
    if (ret_new(&r, ix, &e) == ERR_OK && ret_search(r, q, &o, h, &n, &e) == ERR_OK) {
        for (int i = 0; i < n; i++) {
            struct idx_passage p;
            if (n == 20 && h[i].score <= h[19].score) break;
            if (idx_passage(ix, h[i].pid, &p, &e) != ERR_OK) {
                buf_printf(&b, "error: %s ", e.msg);
                continue;
            }
            snprintf(sc[m].id, sizeof sc[m].id, "%s", p.doc_id);
            sc[m++].score = h[i].score;
        }
        if (m > 1) qsort(sc, (size_t)m, sizeof *sc, cmp_scored);
        for (int i = 0; i < m; i++) buf_printf(&b, "%s:%.9g ", sc[i].id, sc[i].score);
    } else {
        buf_printf(&b, "error: %s", e.msg);
    }
    ret_free(r);
    return b.data ? buf_steal(&b) : strdup("");
}

/* The default (pruned) ranking. */
static char *ranking_of(struct idx *ix, const char *q)
{
    return ranking_how(ix, q, 0);
}

/* ranking_of on the index at `path`, opened read-only. */
static char *ranking(const char *path, const char *q)
{
    struct err e = {0};
    struct idx *ix = NULL;
    struct idx_opts ro = {.readonly = 1};
    if (idx_open(&ix, path, &ro, &e) != ERR_OK) return strdup(e.msg);
    char *s = ranking_of(ix, q);
    idx_close(ix);
    return s;
}

static const char *const queries[] = {"glacier volume alpine", "aspirin stroke women", "bee colony pesticide",
                                      "coffee heart risk", "doc b 7"};

/* Two handles on one index: the second one's commit must not overwrite what the first one
 * committed since the second was opened (its totals are read inside its transaction). */
TEST(idx_totals_read_inside_the_transaction)
{
    struct err e = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/ix", t_tmpdir(t_));
    struct idx_opts o = {.create = 1};
    struct idx *a = NULL, *b = NULL;
    REQUIRE_OK(idx_open(&a, path, &o, &e), e);
    REQUIRE_OK(idx_open(&b, path, &o, &e), e); /* opened before a writes: totals 0 */
    const char *t1 = "one two three four", *t2 = "five six seven";
    struct corpus_doc d1 = {"x1", "", "", t1, strlen(t1), "f", 1}, d2 = {"x2", "", "", t2, strlen(t2), "f", 2};
    REQUIRE_OK(idx_begin(a, &e), e);
    REQUIRE_OK(idx_add(a, &d1, NULL, &e), e);
    REQUIRE_OK(idx_commit(a, &e), e);
    REQUIRE_OK(idx_begin(b, &e), e);
    REQUIRE_OK(idx_add(b, &d2, NULL, &e), e);
    REQUIRE_OK(idx_commit(b, &e), e);
    idx_close(a);
    idx_close(b);
    int64_t np, nt;
    totals_of(path, &np, &nt);
    CHECK(np == 2);
    CHECK(nt == 7);
}

/* The lock: a second holder is refused with the PID and the file, or waits; a closed handle (or
 * an ended process) releases it. */
TEST(idx_writer_lock_refuses_and_releases)
{
    struct err e = {0};
    char path[512], pid[32];
    snprintf(path, sizeof path, "%s/ix", t_tmpdir(t_));
    struct idx_opts o = {.create = 1};
    struct idx *a = NULL, *b = NULL;
    REQUIRE_OK(idx_open(&a, path, &o, &e), e);
    REQUIRE_OK(idx_open(&b, path, &o, &e), e);
    REQUIRE_OK(idx_lock_writer(a, 0, NULL, NULL, &e), e);
    REQUIRE_OK(idx_lock_writer(a, 0, NULL, NULL, &e), e); /* again on the same handle: fine */
    CHECK(idx_lock_writer(b, 0, NULL, NULL, &e) == ERR_BUSY);
    snprintf(pid, sizeof pid, "PID %ld", (long)getpid());
    CHECK(t_contains(e.msg, pid));
    CHECK(t_contains(e.msg, IDX_LOCK_NAME));
    idx_close(a);
    CHECK(idx_lock_writer(b, 0, NULL, NULL, &e) == ERR_OK);
    idx_close(b);
    struct idx_opts ro = {.readonly = 1};
    REQUIRE_OK(idx_open(&a, path, &ro, &e), e);
    CHECK(idx_lock_writer(a, 0, NULL, NULL, &e) == ERR_ARG);
    idx_close(a);
}

/* Two `vericite index` runs into one index at once end as a sequential run does: the same
 * counts and the same BM25 rankings. With --no-wait a run refuses while another writes. */
TEST(idx_cli_two_writers_equal_sequential)
{
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char *ca = gen_jsonl("a", 1500, 1), *cb = gen_jsonl("b", 1500, 2);
    REQUIRE(ca && cb);
    const char *fa = t_write(t_, dir, "a.jsonl", ca, strlen(ca));
    const char *fb = t_write(t_, dir, "b.jsonl", cb, strlen(cb));
    free(ca);
    free(cb);
    REQUIRE(fa && fb);
    const char *bin = getenv("VERICITE_BIN");
    if (!bin || !*bin) bin = "./vericite";
    char *err = NULL;
    int rc = t_run(t_, NULL, &err, "index -q --embedder none --commit-every 100 --db '%s/seq' '%s'", dir, fa);
    CHECK(rc == 0);
    free(err);
    rc = t_run(t_, NULL, &err, "index -q --embedder none --commit-every 100 --db '%s/seq' '%s'", dir, fb);
    CHECK(rc == 0);
    free(err);
    /* both at once, each committing in small batches so that they would interleave */
    rc = t_sh(t_, NULL, &err,
              "'%s' index -q --embedder none --db '%s/par' '%s' --commit-every 1 --passage-words 100 "
              "</dev/null & p=$!; '%s' index -q --embedder none --commit-every 100 --db '%s/par' '%s'; "
              "r=$?; wait $p; s=$?; test $r = 0 && test $s = 0",
              bin, dir, fa, bin, dir, fb);
    CHECK(rc == 0);
    if (rc) fprintf(stderr, "  %s\n", err ? err : "");
    free(err);
    char seq[600], par[600];
    snprintf(seq, sizeof seq, "%s/seq", dir);
    snprintf(par, sizeof par, "%s/par", dir);
    int64_t sp, st, pp, pt;
    totals_of(seq, &sp, &st);
    totals_of(par, &pp, &pt);
    CHECK(sp == 3000);
    CHECK(pp == sp);
    CHECK(pt == st);
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char *x = ranking(seq, queries[i]), *y = ranking(par, queries[i]);
        /* ids are assigned in a different order; the ranked documents and scores are equal */
        CHECK(x && y && strlen(x) > 0 && !strcmp(x, y));
        if (x && y && strcmp(x, y)) fprintf(stderr, "  %s\n  seq %s\n  par %s\n", queries[i], x, y);
        free(x);
        free(y);
    }

    /* --no-wait while this process holds the lock: refused, naming the holder */
    struct err e = {0};
    struct idx *h = NULL;
    REQUIRE_OK(idx_open(&h, seq, NULL, &e), e);
    REQUIRE_OK(idx_lock_writer(h, 0, NULL, NULL, &e), e);
    rc = t_run(t_, NULL, &err, "index --no-wait --embedder none --db '%s' '%s'", seq, fa);
    CHECK(rc == 1);
    char pid[48];
    snprintf(pid, sizeof pid, "PID %ld", (long)getpid());
    CHECK(err && t_contains(err, pid) && t_contains(err, "index.lock"));
    free(err);
    rc = t_run(t_, NULL, &err, "remove --no-wait --db '%s' a1", seq);
    CHECK(rc == 1 && err && t_contains(err, pid));
    free(err);
    /* without --no-wait a run waits, says for whom, and goes on once the lock is free */
    char wfile[600];
    snprintf(wfile, sizeof wfile, "%s/wait.err", dir);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        execl("/bin/sh", "sh", "-c", "exec \"$0\" remove --db \"$1\" a1 2>\"$2\" >/dev/null", bin, seq, wfile,
              (char *)NULL);
        _exit(127);
    }
    char *w = NULL;
    for (int i = 0; i < 600 && !(w && t_contains(w, "waiting for the writer")); i++) {
        free(w);
        usleep(20000);
        w = t_read(wfile, NULL);
    }
    CHECK(w && t_contains(w, "waiting for the writer") && t_contains(w, pid));
    free(w);
    idx_close(h); /* releases the lock: the waiting remove proceeds */
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    totals_of(seq, &sp, &st);
    CHECK(sp == 2999);
}

/* The plan SQLite picks for `sql` (each row's detail joined by " | "), malloc'ed. */
static char *query_plan(struct idx *ix, const char *sql)
{
    sqlite3_stmt *st = NULL;
    struct buf b = {0};
    struct buf q = {0};
    buf_printf(&q, "EXPLAIN QUERY PLAN %s", sql);
    if (sqlite3_prepare_v2(idx_sqlite(ix), q.data, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, "example.org/a", -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) buf_printf(&b, "%s | ", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    buf_cleanup(&q);
    return b.data ? buf_steal(&b) : strdup("");
}

/* An audit looks up every citation's URL: that must be an index search, not a scan of all
 * documents (a 604-citation article took 20 s against a 1M-passage index). Indexes made before
 * the URL index existed get it at the first read-write open. */
TEST(idx_url_lookup_uses_the_index)
{
    struct err e = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/ix", t_tmpdir(t_));
    struct idx_opts o = {.create = 1};
    struct idx *ix = NULL;
    REQUIRE_OK(idx_open(&ix, path, &o, &e), e);
    REQUIRE_OK(idx_begin(ix, &e), e);
    for (int i = 0; i < 300; i++) {
        char id[16], url[64], title[32];
        snprintf(id, sizeof id, "u%d", i);
        snprintf(url, sizeof url, i % 3 ? "https://example.org/p/%d" : "", i);
        snprintf(title, sizeof title, "Page number %d", i);
        const char *text = "some words about a page";
        struct corpus_doc d = {id, title, url, text, strlen(text), "f", i + 1};
        REQUIRE_OK(idx_add(ix, &d, NULL, &e), e);
    }
    REQUIRE_OK(idx_commit(ix, &e), e);
    sqlite3_exec(idx_sqlite(ix), "ANALYZE", NULL, NULL, NULL); /* what a big index's planner sees */
    char *p = query_plan(ix, IDX_SQL_FIND_URL);
    CHECK(t_contains(p, "USING INDEX docs_nurl"));
    if (!t_contains(p, "USING INDEX docs_nurl")) fprintf(stderr, "  plan: %s\n", p);
    free(p);
    p = query_plan(ix, IDX_SQL_FIND_TITLE);
    CHECK(t_contains(p, "USING INDEX docs_title"));
    free(p);
    struct idx_doc doc;
    int found = 0;
    REQUIRE_OK(idx_find_url(ix, "http://www.example.org/p/7?utm_source=x", &doc, &found, &e), e);
    CHECK(found && !strcmp(doc.id, "u7"));
    REQUIRE_OK(idx_find_url(ix, "https://example.org/p/6", &doc, &found, &e), e);
    CHECK(!found); /* u6 has no URL */
    REQUIRE_OK(idx_find_title(ix, " page NUMBER 6 ", &doc, &found, &e), e);
    CHECK(found && !strcmp(doc.id, "u6"));
    /* an older index without the URL index: the next read-write open makes it */
    sqlite3_exec(idx_sqlite(ix), "DROP INDEX docs_nurl", NULL, NULL, NULL);
    idx_close(ix);
    REQUIRE_OK(idx_open(&ix, path, NULL, &e), e);
    p = query_plan(ix, IDX_SQL_FIND_URL);
    CHECK(t_contains(p, "USING INDEX docs_nurl"));
    free(p);
    REQUIRE_OK(idx_find_url(ix, "https://example.org/p/8", &doc, &found, &e), e);
    CHECK(found && !strcmp(doc.id, "u8"));
    idx_close(ix);
}

/* Document i of version v of the generated corpus (text in *text, malloc'ed). */
static struct corpus_doc gen_doc(int i, int v, char *id, size_t idn, char *title, size_t tn, char **text)
{
    static const char *const words[] = {"glacier", "aspirin", "stroke", "bee",   "pesticide",
                                        "coffee",  "heart",   "sleep",  "mood",  "exercise",
                                        "vitamin", "bone",    "statin", "risk",  "cohort",
                                        "alpine",  "volume",  "colony", "women", "children",
                                        "zebrafish", "platypus"};
    struct buf b = {0};
    unsigned s = (unsigned)i * 2654435761u + (unsigned)v * 40503u + 7u;
    int len = 6 + (i * 7 + v * 3) % 170; /* some documents span two passages */
    for (int w = 0; w < len; w++) {
        s = s * 1103515245u + 12345u;
        buf_printf(&b, "%s%s", w ? " " : "", words[(s >> 16) % (v ? 22 : 20)]);
    }
    snprintf(id, idn, "g%d", i);
    snprintf(title, tn, v ? "%s %d revised" : "%s %d", i % 5 ? "doc" : "bee colony", i);
    *text = buf_steal(&b);
    return (struct corpus_doc){id, title, "", *text, strlen(*text), "gen", i + 1};
}

/* Add documents [from, to) of version v (v of document i: ver(i)) in one transaction. */
static int add_gen(struct idx *ix, int from, int to, int (*ver)(int), struct err *e)
{
    int rc = idx_begin(ix, e);
    for (int i = from; i < to && !rc; i++) {
        char id[16], title[48], *text = NULL;
        struct corpus_doc d = gen_doc(i, ver(i), id, sizeof id, title, sizeof title, &text);
        rc = idx_add(ix, &d, NULL, e);
        free(text);
    }
    return rc ? rc : idx_commit(ix, e);
}

static int ver_old(int i) { (void)i; return 0; }
static int ver_new(int i) { return i % 4 == 1; } /* 500 of 2000 documents changed */

static const char *const gen_queries[] = {"glacier volume alpine", "aspirin stroke women", "bee colony",
                                          "zebrafish platypus heart", "coffee risk cohort", "doc 17 revised",
                                          "vitamin bone children"};

/* Compare every gen_queries ranking of a and b; returns the number that differ. */
static int diff_rankings(struct idx *a, struct idx *b)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof gen_queries / sizeof gen_queries[0]; i++) {
        /* a's pruned and exhaustive rankings both equal b's exhaustive one: the tombstone filter
         * and the live df hold on both paths */
        char *x = ranking_of(a, gen_queries[i]), *y = ranking_how(b, gen_queries[i], 1),
             *z = ranking_how(a, gen_queries[i], 1);
        if (!x || !y || !z || !*x || strcmp(x, y) || strcmp(z, y)) {
            bad++;
            fprintf(stderr, "  %s\n    pruned     %s\n    exhaustive %s\n    want       %s\n", gen_queries[i],
                    x ? x : "", z ? z : "", y ? y : "");
        }
        free(x);
        free(y);
        free(z);
    }
    return bad;
}

/* Replacing 500 of 2000 documents (and removing 20) tombstones their old passages: BM25 then
 * ranks and scores exactly as a fresh index of the final corpus, before and after the merge;
 * the merge leaves no tombstone and no dead posting behind. */
TEST(idx_tombstones_rank_as_a_fresh_build)
{
    struct err e = {0};
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/upd", t_tmpdir(t_));
    snprintf(pb, sizeof pb, "%s/fresh", t_tmpdir(t_));
    struct idx_opts o = {.create = 1};
    struct idx *a = NULL, *b = NULL;
    REQUIRE_OK(idx_open(&a, pa, &o, &e), e);
    REQUIRE_OK(idx_open(&b, pb, &o, &e), e);
    REQUIRE_OK(add_gen(a, 0, 2000, ver_old, &e), e);
    struct idx_stats st0;
    REQUIRE_OK(idx_stats(a, &st0, &e), e);
    REQUIRE_OK(add_gen(a, 0, 2000, ver_new, &e), e); /* 500 replaced, 1500 unchanged */
    REQUIRE_OK(idx_begin(a, &e), e);
    for (int i = 0; i < 2000; i += 100) {
        char id[16];
        int found = 0;
        snprintf(id, sizeof id, "g%d", i);
        REQUIRE_OK(idx_remove(a, id, &found, &e), e);
        CHECK(found);
    }
    REQUIRE_OK(idx_commit(a, &e), e);
    /* the fresh build: the same final corpus */
    REQUIRE_OK(idx_begin(b, &e), e);
    REQUIRE_OK(idx_commit(b, &e), e);
    for (int i = 0; i < 2000; i++) {
        if (i % 100 == 0) continue;
        REQUIRE_OK(add_gen(b, i, i + 1, ver_new, &e), e);
    }
    struct idx_stats sa, sb;
    REQUIRE_OK(idx_stats(a, &sa, &e), e);
    REQUIRE_OK(idx_stats(b, &sb, &e), e);
    CHECK(sa.docs == 1980 && sa.docs == sb.docs);
    CHECK(sa.passages == sb.passages && sa.total_tokens == sb.total_tokens);
    CHECK(sa.tombstones > 500);
    CHECK(sb.tombstones == 0);
    int64_t da = 0, db = 0;
    REQUIRE_OK(idx_term_df(a, "zebrafish", 9, &da, &e), e);
    REQUIRE_OK(idx_term_df(b, "zebrafish", 9, &db, &e), e);
    CHECK(da == db && da > 0);
    REQUIRE_OK(idx_term_df(a, "glacier", 7, &da, &e), e);
    REQUIRE_OK(idx_term_df(b, "glacier", 7, &db, &e), e);
    CHECK(da == db && da > 0);
    CHECK(diff_rankings(a, b) == 0);
    /* another handle (another process) sees the tombstones too */
    struct idx_opts ro = {.readonly = 1};
    struct idx *c = NULL;
    REQUIRE_OK(idx_open(&c, pa, &ro, &e), e);
    CHECK(diff_rankings(c, b) == 0);
    /* below the share nothing is merged; forced, everything is */
    int64_t merged = -1;
    REQUIRE_OK(idx_begin(a, &e), e);
    REQUIRE_OK(idx_optimize(a, 0.99, &merged, &e), e);
    CHECK(merged == 0);
    REQUIRE_OK(idx_optimize(a, 0, &merged, &e), e);
    CHECK(merged == sa.tombstones);
    REQUIRE_OK(idx_commit(a, &e), e);
    REQUIRE_OK(idx_stats(a, &sa, &e), e);
    CHECK(sa.tombstones == 0);
    CHECK(sa.postings_bytes == sb.postings_bytes || sa.postings_bytes < st0.postings_bytes + sb.postings_bytes / 2);
    CHECK(diff_rankings(a, b) == 0);
    CHECK(diff_rankings(c, b) == 0); /* the reader notices the merge */
    idx_close(c);
    /* the merged postings hold exactly the live passages: df from the postings alone agrees */
    REQUIRE_OK(idx_term_df(a, "zebrafish", 9, &da, &e), e);
    REQUIRE_OK(idx_term_df(b, "zebrafish", 9, &db, &e), e);
    CHECK(da == db);
    idx_close(a);
    idx_close(b);
}

/* The command line: a re-run that replaces documents leaves tombstones (stats says how many),
 * --optimize merges them, and searches answer the same throughout. */
TEST(idx_cli_optimize_merges_tombstones)
{
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char *c0 = gen_jsonl("a", 400, 1), *c1 = gen_jsonl("a", 400, 5);
    REQUIRE(c0 && c1);
    const char *f0 = t_write(t_, dir, "v0.jsonl", c0, strlen(c0));
    const char *f1 = t_write(t_, dir, "v1.jsonl", c1, strlen(c1));
    free(c0);
    free(c1);
    REQUIRE(f0 && f1);
    char ix[600], fresh[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(fresh, sizeof fresh, "%s/fresh", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, f0) == 0);
    /* the second version replaces every document: 100% tombstones, merged at once */
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", fresh, f1) == 0);
    char *out = NULL, *err = NULL;
    REQUIRE(t_run(t_, NULL, &err, "index --embedder none --db '%s' '%s'", ix, f1) == 0);
    CHECK(err && t_contains(err, "merged the postings of"));
    free(err);
    /* a few removals stay below the share: tombstones until --optimize */
    REQUIRE(t_run(t_, NULL, NULL, "remove --db '%s' a1 a2 a3", ix) == 0);
    REQUIRE(t_run(t_, NULL, NULL, "remove --db '%s' a1 a2 a3", fresh) == 0);
    REQUIRE(t_run(t_, &out, NULL, "stats --db '%s' --json", ix) == 0);
    json_t *o = json_loads(out, 0, NULL);
    free(out);
    CHECK(o && json_integer_value(json_object_get(o, "tombstones")) == 3);
    CHECK(o && json_real_value(json_object_get(o, "bytes_per_passage")) > 0);
    json_decref(o);
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char *x = ranking(ix, queries[i]), *y = ranking(fresh, queries[i]);
        CHECK(x && y && *x && !strcmp(x, y));
        free(x);
        free(y);
    }
    REQUIRE(t_run(t_, NULL, &err, "index --db '%s' --optimize", ix) == 0);
    CHECK(err && t_contains(err, "merged the postings of 3 removed passages"));
    free(err);
    REQUIRE(t_run(t_, &out, NULL, "stats --db '%s'", ix) == 0);
    CHECK(out && !t_contains(out, "tombstones") && t_contains(out, "bytes per passage"));
    free(out);
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char *x = ranking(ix, queries[i]), *y = ranking(fresh, queries[i]);
        CHECK(x && y && *x && !strcmp(x, y));
        free(x);
        free(y);
    }
}

static int64_t pragma_int(struct idx *ix, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(idx_sqlite(ix), sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Bounded disk while indexing: each commit checkpoints the WAL into index.db (so the next batch
 * reuses the WAL from its start), the WAL file is cut to IDX_WAL_LIMIT when reused, and big
 * inputs commit in batches by default. */
TEST(idx_commit_checkpoints_the_wal)
{
    struct err e = {0};
    char path[512], db[600];
    snprintf(path, sizeof path, "%s/ix", t_tmpdir(t_));
    snprintf(db, sizeof db, "%s/" IDX_DB_NAME, path);
    struct idx_opts o = {.create = 1};
    struct idx *ix = NULL;
    REQUIRE_OK(idx_open(&ix, path, &o, &e), e);
    CHECK(pragma_int(ix, "PRAGMA journal_size_limit") == IDX_WAL_LIMIT);
    for (int batch = 0; batch < 3; batch++) {
        REQUIRE_OK(add_gen(ix, batch * 50, batch * 50 + 50, ver_old, &e), e); /* well under 1000 pages */
        /* every committed page is in index.db itself, none only in the WAL */
        int64_t pages = pragma_int(ix, "PRAGMA page_count"), psize = pragma_int(ix, "PRAGMA page_size");
        struct stat sb;
        REQUIRE(stat(db, &sb) == 0);
        CHECK((int64_t)sb.st_size == pages * psize);
        if ((int64_t)sb.st_size != pages * psize)
            fprintf(stderr, "  batch %d: index.db %lld bytes, %lld pages of %lld\n", batch,
                    (long long)sb.st_size, (long long)pages, (long long)psize);
    }
    idx_close(ix);
    CHECK(idx_auto_commit_text(1000) == 0);
    CHECK(idx_auto_commit_text(IDX_AUTO_COMMIT_INPUT - 1) == 0);
    CHECK(idx_auto_commit_text(IDX_AUTO_COMMIT_INPUT) == IDX_AUTO_COMMIT_TEXT);
    CHECK(idx_auto_commit_text(40ull << 30) == IDX_AUTO_COMMIT_TEXT);
}

/* Tokenising once: FTS5's tokenizer is answered from the tokens idx_add recorded while building
 * the postings (title and passage), and what FTS5 stores is exactly what tokenising the stored
 * text gives (FTS5's integrity check against the content table). */
TEST(idx_fts_fed_from_one_tokenisation)
{
    struct err e = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/ix", t_tmpdir(t_));
    struct idx_opts o = {.create = 1, .passage_words = 20};
    struct idx *ix = NULL;
    REQUIRE_OK(idx_open(&ix, path, &o, &e), e);
    REQUIRE_OK(add_gen(ix, 0, 300, ver_old, &e), e);
    struct idx_stats st;
    REQUIRE_OK(idx_stats(ix, &st, &e), e);
    /* every passage insert tokenised its title and its text from the cache, nothing twice */
    CHECK(ix->fts_replayed == 2 * st.passages);
    CHECK(ix->fts_tokenized == 0);
    if (ix->fts_replayed != 2 * st.passages || ix->fts_tokenized)
        fprintf(stderr, "  %lld replays, %lld tokenised, %lld passages\n", (long long)ix->fts_replayed,
                (long long)ix->fts_tokenized, (long long)st.passages);
    REQUIRE_OK(add_gen(ix, 0, 300, ver_new, &e), e); /* replacements: FTS5 deletes in between */
    const char *t = "A title only";
    struct corpus_doc d = {"t1", t, "", "", 0, "f", 1};
    REQUIRE_OK(idx_begin(ix, &e), e);
    REQUIRE_OK(idx_add(ix, &d, NULL, &e), e);
    REQUIRE_OK(idx_commit(ix, &e), e);
    char *msg = NULL;
    int rc = sqlite3_exec(idx_sqlite(ix), "INSERT INTO passages_fts(passages_fts, rank) VALUES('integrity-check', 1)",
                          NULL, NULL, &msg);
    CHECK(rc == SQLITE_OK);
    if (rc != SQLITE_OK) fprintf(stderr, "  integrity-check: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    int64_t pids[5];
    double sc[5];
    int n = 0;
    REQUIRE_OK(idx_fts_search(ix, "title only", 5, pids, sc, &n, &e), e);
    CHECK(n >= 1);
    idx_close(ix);
}
