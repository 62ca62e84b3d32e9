/* test_dense.c - dense retrieval end to end through the CLI: the static embedder over a small
 * vectors file made here, vectors.faiss kept in step with SQLite on add/replace/remove, embedder
 * mismatch, corrupt and out-of-step files, and the hybrid and dense modes. */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "index/idx.h"
#include "index/idx_faiss.h"
#include "test.h"

/* 6-dimensional GloVe-style text vectors: one topic per axis (medicine, law, money, water). */
static const char glove_txt[] =
    "the 0.1 0.1 0.1 0.1 0.05 0.0\n"
    "of 0.1 0.1 0.1 0.1 0.0 0.05\n"
    "heart 1.0 0.0 0.0 0.0 0.1 0.0\n"
    "cardiac 0.95 0.05 0.0 0.0 0.0 0.1\n"
    "attack 0.8 0.1 0.0 0.0 0.2 0.0\n"
    "infarction 0.9 0.0 0.0 0.1 0.0 0.1\n"
    "myocardial 0.9 0.0 0.1 0.0 0.1 0.0\n"
    "patients 0.7 0.1 0.1 0.0 0.0 0.2\n"
    "tax 0.0 0.9 0.3 0.0 0.1 0.0\n"
    "law 0.0 1.0 0.0 0.0 0.0 0.1\n"
    "court 0.0 0.9 0.0 0.1 0.1 0.0\n"
    "statute 0.0 0.95 0.05 0.0 0.0 0.0\n"
    "bank 0.0 0.1 1.0 0.2 0.0 0.0\n"
    "money 0.0 0.1 0.9 0.0 0.1 0.0\n"
    "river 0.0 0.0 0.1 1.0 0.0 0.1\n"
    "water 0.1 0.0 0.0 0.9 0.1 0.0\n";

static const char docs_jsonl[] =
    "{\"_id\": \"med\", \"title\": \"Cardiology\", \"text\": \"Myocardial infarction in patients.\"}\n"
    "{\"_id\": \"law\", \"title\": \"Courts\", \"text\": \"The court applied the statute.\"}\n"
    "{\"_id\": \"fin\", \"title\": \"Banking\", \"text\": \"The bank lent money.\"}\n"
    "{\"_id\": \"riv\", \"title\": \"Rivers\", \"text\": \"Water of the river.\"}\n";

/* Make dir/v1.vcvec from glove_txt (scaled by `scale` in the last axis to make a different file). */
static const char *make_vectors(struct test_ctx *t_, const char *dir, const char *name, int variant)
{
    static char out[2][600];
    char src[600];
    snprintf(src, sizeof src, "%s.txt", name);
    const char *txt = t_write(t_, dir, src, glove_txt, strlen(glove_txt) - (variant ? 1 : 0));
    if (!txt) return NULL;
    if (variant) { /* append one more word: a different file, another hash */
        FILE *f = fopen(txt, "a");
        if (!f) return NULL;
        fputs("\nextra 0.1 0.2 0.3 0.4 0.5 0.6\n", f);
        fclose(f);
    }
    snprintf(out[variant], sizeof out[variant], "%s/%s.vcvec", dir, name);
    char *err = NULL;
    int rc = t_run(t_, NULL, &err, "model import '%s' '%s'", txt, out[variant]);
    if (rc != 0) fprintf(stderr, "  model import: %s\n", err ? err : "");
    free(err);
    return rc == 0 ? out[variant] : NULL;
}

static json_t *stats(struct test_ctx *t_, const char *ix)
{
    char *out = NULL;
    int rc = t_run(t_, &out, NULL, "stats --db '%s' --json", ix);
    json_t *o = rc == 0 ? json_loads(out, 0, NULL) : NULL;
    free(out);
    return o;
}

static int in_step(struct test_ctx *t_, const char *ix, long long want)
{
    json_t *o = stats(t_, ix);
    if (!o) return 0;
    long long v = json_integer_value(json_object_get(o, "vectors"));
    long long f = json_integer_value(json_object_get(o, "faiss_vectors"));
    int ok = json_is_true(json_object_get(o, "vectors_in_step")) && v == f && (want < 0 || v == want);
    if (!ok) fprintf(stderr, "  vectors %lld, faiss %lld, want %lld\n", v, f, want);
    json_decref(o);
    return ok;
}

static char *top_doc(struct test_ctx *t_, const char *ix, const char *mode, const char *q)
{
    char *out = NULL;
    if (t_run(t_, &out, NULL, "search --db '%s' --mode %s --by-doc -k 1 --json '%s'", ix, mode, q) != 0) {
        free(out);
        return NULL;
    }
    json_t *o = json_loads(out, 0, NULL);
    free(out);
    const char *id = json_string_value(json_object_get(json_array_get(json_object_get(o, "hits"), 0), "doc_id"));
    char *r = id ? strdup(id) : NULL;
    json_decref(o);
    return r;
}

TEST(dense_static_round_trip_and_in_step)
{
    const char *dir = t_tmpdir(t_);
    const char *vec = make_vectors(t_, dir, "v1", 0);
    REQUIRE(vec);
    const char *docs = t_write(t_, dir, "docs.jsonl", docs_jsonl, strlen(docs_jsonl));
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    char *err = NULL;
    int rc = t_run(t_, NULL, &err, "index --db '%s' --embedder static --vectors '%s' '%s'", ix, vec, docs);
    CHECK(rc == 0);
    free(err);
    CHECK(in_step(t_, ix, 4));
    /* no shared word with the document: only the vectors can find it */
    char *top = top_doc(t_, ix, "dense", "heart attack");
    CHECK(top && !strcmp(top, "med"));
    free(top);
    top = top_doc(t_, ix, "dense", "tax law");
    CHECK(top && !strcmp(top, "law"));
    free(top);
    CHECK(top_doc(t_, ix, "bm25", "heart attack") == NULL); /* BM25 has no match at all */
    top = top_doc(t_, ix, "hybrid", "bank statute");
    CHECK(top != NULL);
    free(top);
    /* add, replace, remove: the FAISS file follows the database */
    static const char more[] = "{\"_id\": \"new\", \"title\": \"Money\", \"text\": \"Money in the bank.\"}\n"
                               "{\"_id\": \"riv\", \"title\": \"Rivers\", \"text\": \"Cardiac water.\"}\n";
    const char *m = t_write(t_, dir, "more.jsonl", more, strlen(more));
    rc = t_run(t_, NULL, &err, "index --db '%s' '%s'", ix, m);
    CHECK(rc == 0 && t_contains(err, "1 added, 1 replaced"));
    free(err);
    CHECK(in_step(t_, ix, 5));
    rc = t_run(t_, NULL, NULL, "remove --db '%s' med fin", ix);
    CHECK(rc == 0);
    /* remove does not publish by itself: the next search must not see removed passages */
    top = top_doc(t_, ix, "dense", "heart attack");
    CHECK(top && strcmp(top, "med") != 0);
    free(top);
}

TEST(dense_mismatch_corrupt_and_repair)
{
    const char *dir = t_tmpdir(t_);
    const char *v1 = make_vectors(t_, dir, "v1", 0);
    const char *v2 = make_vectors(t_, dir, "v2", 1);
    REQUIRE(v1 && v2);
    const char *docs = t_write(t_, dir, "docs.jsonl", docs_jsonl, strlen(docs_jsonl));
    char ix[600], f[700];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(f, sizeof f, "%s/vectors.faiss", ix);
    REQUIRE(t_run(t_, NULL, NULL, "index --db '%s' --vectors '%s' '%s'", ix, v1, docs) == 0);
    /* other vectors without --reembed: refused, index unchanged */
    char *err = NULL;
    int rc = t_run(t_, NULL, &err, "index --db '%s' --vectors '%s' '%s'", ix, v2, docs);
    CHECK(rc == 1 && t_contains(err, "--reembed"));
    free(err);
    rc = t_run(t_, NULL, &err, "index --db '%s' --embedder none '%s'", ix, docs);
    CHECK(rc == 1 && t_contains(err, "--reembed"));
    free(err);
    CHECK(in_step(t_, ix, 4));
    /* with --reembed every passage is embedded again */
    rc = t_run(t_, NULL, &err, "index --db '%s' --vectors '%s' --reembed", ix, v2);
    CHECK(rc == 0);
    free(err);
    CHECK(in_step(t_, ix, 4));
    char *out = NULL;
    rc = t_run(t_, &out, NULL, "stats --db '%s' --json", ix);
    CHECK(rc == 0 && t_contains(out, "v2.vcvec") == 0); /* the signature names the hash, not the path */
    free(out);
    /* the vectors file itself corrupted (truncated): a clear error naming it */
    size_t len = 0;
    char *bytes = t_read(v2, &len);
    REQUIRE(bytes && len > 100);
    FILE *fp = fopen(v2, "wb");
    REQUIRE(fp);
    fwrite(bytes, 1, len / 2, fp);
    fclose(fp);
    free(bytes);
    rc = t_run(t_, NULL, &err, "search --db '%s' --mode dense heart", ix);
    CHECK(rc == 1 && t_contains(err, "v2.vcvec"));
    free(err);
    /* a vectors.faiss out of step (an older copy, as after a crash between commit and rename) */
    REQUIRE(t_run(t_, NULL, NULL, "index --db '%s' --vectors '%s' --reembed", ix, v1) == 0);
    char *old = t_read(f, &len);
    REQUIRE(old);
    static const char one[] = "{\"_id\": \"x1\", \"title\": \"Law\", \"text\": \"Court statute law.\"}\n";
    const char *o1 = t_write(t_, dir, "one.jsonl", one, strlen(one));
    REQUIRE(t_run(t_, NULL, NULL, "index --db '%s' '%s'", ix, o1) == 0);
    fp = fopen(f, "wb");
    REQUIRE(fp);
    fwrite(old, 1, len, fp);
    fclose(fp);
    free(old);
    rc = t_run(t_, &out, NULL, "stats --db '%s'", ix);
    CHECK(rc == 0 && t_contains(out, "OUT OF STEP"));
    free(out);
    rc = t_run(t_, NULL, &err, "search --db '%s' --mode dense court", ix);
    CHECK(rc == 1 && t_contains(err, "--sync-vectors"));
    free(err);
    CHECK(t_run(t_, NULL, NULL, "index --db '%s' --sync-vectors", ix) == 0);
    CHECK(in_step(t_, ix, 5));
    /* garbage in place of vectors.faiss: named, repaired the same way */
    REQUIRE(t_write(t_, ix, "vectors.faiss", "not faiss at all", 16));
    rc = t_run(t_, NULL, &err, "search --db '%s' --mode dense court", ix);
    CHECK(rc == 1 && t_contains(err, "vectors.faiss"));
    free(err);
    CHECK(t_run(t_, NULL, NULL, "index --db '%s' --sync-vectors", ix) == 0);
    CHECK(in_step(t_, ix, 5));
}

TEST(dense_none_embedder)
{
    const char *dir = t_tmpdir(t_);
    const char *docs = t_write(t_, dir, "docs.jsonl", docs_jsonl, strlen(docs_jsonl));
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index --db '%s' --embedder none '%s'", ix, docs) == 0);
    char *err = NULL;
    int rc = t_run(t_, NULL, &err, "search --db '%s' --mode dense court", ix);
    CHECK(rc == 2 && t_contains(err, "no vectors")); /* a usage error: exit 2 */
    free(err);
    char *top = top_doc(t_, ix, "auto", "court statute");
    CHECK(top && !strcmp(top, "law"));
    free(top);
    CHECK(access(ix, F_OK) == 0);
    char f[700];
    snprintf(f, sizeof f, "%s/vectors.faiss", ix);
    CHECK(access(f, F_OK) != 0); /* BM25-only: no vector file */
}

/* One search on its own handle of index `dir`: the hits' pids (up to 8) and their count. */
struct shared_run {
    const char *dir;
    int64_t pids[8];
    int n, rc;
    const void *copy; /* identity of the loaded vectors.faiss copy */
    pthread_barrier_t *all_searched; /* NULL: close at once */
    struct err e;
};

static void *shared_search(void *arg)
{
    struct shared_run *r = arg;
    struct idx *ix = NULL;
    struct idx_opts o = {.readonly = 1};
    float q[16], sc[8];
    int zero = 1;
    r->rc = idx_open(&ix, r->dir, &o, &r->e);
    if (!r->rc) r->rc = idx_vec_embed(ix, "heart attack", q, &zero, &r->e);
    if (!r->rc) r->rc = idx_vec_search(ix, q, 8, r->pids, sc, &r->n, &r->e);
    if (!r->rc) r->copy = idx_vec_shared_copy(ix);
    if (r->all_searched) pthread_barrier_wait(r->all_searched); /* all handles open at once */
    idx_close(ix);
    return NULL;
}

/* The service's workers are threads with one index handle each: they must share one loaded copy
 * of vectors.faiss, load it only when a dense search runs, and pick up a replaced file. */
TEST(dense_shared_vectors_one_copy)
{
    const char *dir = t_tmpdir(t_);
    const char *vec = make_vectors(t_, dir, "v1", 0);
    REQUIRE(vec);
    const char *docs = t_write(t_, dir, "docs.jsonl", docs_jsonl, strlen(docs_jsonl));
    char ixdir[600];
    snprintf(ixdir, sizeof ixdir, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index --db '%s' --vectors '%s' '%s'", ixdir, vec, docs) == 0);

    /* Opening the dense side, embedding and reading stored vectors (hybrid interpolation) does
     * not load vectors.faiss. */
    struct idx *h = NULL;
    struct err e = {0};
    struct idx_opts o = {.readonly = 1};
    float q[16], v[16];
    int zero = 1, found = 0;
    int64_t loads0 = idx_faiss_shared_loads();
    REQUIRE_OK(idx_open(&h, ixdir, &o, &e), e);
    REQUIRE_OK(idx_vec_open(h, &e), e);
    REQUIRE_OK(idx_vec_embed(h, "heart attack", q, &zero, &e), e);
    REQUIRE_OK(idx_vec_get(h, 1, v, &found, &e), e);
    CHECK(found && !zero);
    CHECK(idx_faiss_shared_loads() == loads0);
    CHECK(idx_vec_shared_copy(h) == NULL);

    /* Four handles searching at once (while `h` stays open, unloaded): one load, one copy, the
     * same answers. */
    struct shared_run runs[4];
    pthread_t th[4];
    pthread_barrier_t bar;
    REQUIRE(pthread_barrier_init(&bar, NULL, 4) == 0);
    for (int i = 0; i < 4; i++) {
        memset(&runs[i], 0, sizeof runs[i]);
        runs[i].dir = ixdir;
        runs[i].all_searched = &bar;
        REQUIRE(pthread_create(&th[i], NULL, shared_search, &runs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    for (int i = 0; i < 4; i++) {
        if (runs[i].rc) fprintf(stderr, "  worker %d: %s\n", i, runs[i].e.msg);
        CHECK(runs[i].rc == 0 && runs[i].n == 4);
        CHECK(runs[i].copy != NULL && runs[i].copy == runs[0].copy);
        CHECK(memcmp(runs[i].pids, runs[0].pids, sizeof runs[0].pids) == 0);
    }
    /* all four handles closed: the copy went with the last; `h` loads it once more */
    CHECK(idx_faiss_shared_loads() == loads0 + 1);
    int64_t pids[8];
    float sc[8];
    int n = 0;
    REQUIRE_OK(idx_vec_search(h, q, 8, pids, sc, &n, &e), e);
    CHECK(n == 4 && !memcmp(pids, runs[0].pids, 4 * sizeof *pids));
    CHECK(idx_faiss_shared_loads() == loads0 + 2);

    /* The file replaced on disk (a rename: new inode): a new handle gets the new file with five
     * vectors, while `h` keeps searching the copy it has. */
    static const char more[] = "{\"_id\": \"new\", \"title\": \"Money\", \"text\": \"Money in the bank.\"}\n";
    const char *m = t_write(t_, dir, "more.jsonl", more, strlen(more));
    REQUIRE(t_run(t_, NULL, NULL, "index --db '%s' '%s'", ixdir, m) == 0);
    struct shared_run after = {.dir = ixdir};
    shared_search(&after);
    if (after.rc) fprintf(stderr, "  after: %s\n", after.e.msg);
    CHECK(after.rc == 0 && after.n == 5);
    CHECK(idx_faiss_shared_loads() == loads0 + 3);
    REQUIRE_OK(idx_vec_search(h, q, 8, pids, sc, &n, &e), e);
    CHECK(n == 4);
    idx_close(h);
}

/* An IVF factory with more lists than a small corpus can train: fewer lists, not a failure. */
TEST(dense_ivf_small_corpus_fewer_lists)
{
    const char *dir = t_tmpdir(t_);
    const char *vec = make_vectors(t_, dir, "v1", 0);
    REQUIRE(vec);
    const char *docs = t_write(t_, dir, "docs.jsonl", docs_jsonl, strlen(docs_jsonl));
    char ixdir[600];
    snprintf(ixdir, sizeof ixdir, "%s/ix", dir);
    char *err = NULL, *out = NULL;
    int rc = t_run(t_, NULL, &err, "index --db '%s' --vectors '%s' --faiss IVF1024,Flat '%s'", ixdir,
                   vec, docs);
    if (rc) fprintf(stderr, "  %s\n", err ? err : "");
    CHECK(rc == 0);
    free(err);
    CHECK(in_step(t_, ixdir, 4));
    rc = t_run(t_, &out, NULL, "stats --db '%s'", ixdir);
    CHECK(rc == 0 && t_contains(out, "IVF 1 lists"));
    free(out);
    char *top = top_doc(t_, ixdir, "dense", "heart attack");
    CHECK(top && !strcmp(top, "med"));
    free(top);
}

/* --vector-index ivfpq --recall: an IVF-PQ vectors.faiss whose nprobe was measured at build time
 * (recorded, shown by stats); --recall 0 goes back to the fixed default; --vector-index flat. */
TEST(dense_ivfpq_recall_target)
{
    const char *dir = t_tmpdir(t_);
    const char *vec = make_vectors(t_, dir, "v1", 0);
    REQUIRE(vec);
    /* 2,000 documents of two to five topic words: enough for several IVF lists */
    static const char *words[] = {"heart", "cardiac", "attack", "patients", "tax", "law", "court",
                                  "statute", "bank", "money", "river", "water"};
    struct buf b = {0};
    uint64_t s = 5;
    for (int i = 0; i < 2000; i++) {
        buf_printf(&b, "{\"_id\": \"d%d\", \"title\": \"\", \"text\": \"", i);
        int nw = 2 + (int)((s = s * 6364136223846793005ULL + 1) >> 62);
        for (int w = 0; w < nw; w++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            buf_printf(&b, "%s%s", w ? " " : "", words[(s >> 33) % 12]);
        }
        buf_printf(&b, "\"}\n");
    }
    const char *docs = t_write(t_, dir, "docs.jsonl", b.data, b.len);
    buf_cleanup(&b);
    char ixdir[600];
    snprintf(ixdir, sizeof ixdir, "%s/ix", dir);
    char *err = NULL, *out = NULL;
    int rc = t_run(t_, NULL, &err, "index -q --db '%s' --vectors '%s' --vector-index ivfpq --recall 0.9 '%s'",
                   ixdir, vec, docs);
    if (rc) fprintf(stderr, "  %s\n", err ? err : "");
    CHECK(rc == 0);
    free(err);
    CHECK(in_step(t_, ixdir, 2000));
    rc = t_run(t_, &out, NULL, "stats --db '%s'", ixdir);
    CHECK(rc == 0 && t_contains(out, "nprobe") && t_contains(out, "(recall@10 "));
    const char *line = out ? strstr(out, "vectors ") : NULL;
    if (line) fprintf(stderr, "  %.*s\n", (int)strcspn(line, "\n"), line);
    free(out);
    char *top = top_doc(t_, ixdir, "dense", "heart attack");
    CHECK(top != NULL);
    free(top);
    /* PQ codes only find candidates: the hits are re-scored with the stored vectors, so their
     * scores are the exact ones an exact index gives (ties may swap which passage) */
    char flatdir[600];
    snprintf(flatdir, sizeof flatdir, "%s/flat", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --db '%s' --vectors '%s' --vector-index flat '%s'", flatdir,
                  vec, docs) == 0);
    static const char *qs[] = {"heart attack", "tax court", "river bank money", "patients law"};
    for (int qi = 0; qi < 4; qi++) {
        float sc[2][10], qv[16];
        int64_t ids[10];
        int nh[2] = {0, 0}, zero = 1;
        for (int w = 0; w < 2; w++) {
            struct idx *h = NULL;
            struct err e = {0};
            struct idx_opts o = {.readonly = 1};
            REQUIRE_OK(idx_open(&h, w ? flatdir : ixdir, &o, &e), e);
            int r2 = idx_vec_embed(h, qs[qi], qv, &zero, &e);
            if (!r2) r2 = idx_vec_search(h, qv, 10, ids, sc[w], &nh[w], &e);
            idx_close(h);
            REQUIRE_OK(r2, e);
        }
        CHECK(nh[0] == 10 && nh[1] == 10);
        int same = 1;
        for (int j = 0; j < 10; j++)
            if (fabsf(sc[0][j] - sc[1][j]) > 1e-4f) same = 0;
        if (!same) fprintf(stderr, "  '%s': ivfpq %.5f .. %.5f, flat %.5f .. %.5f\n", qs[qi], sc[0][0],
                           sc[0][9], sc[1][0], sc[1][9]);
        CHECK(same);
    }
    /* back to the fixed nprobe: rebuilt, no measured recall */
    rc = t_run(t_, NULL, NULL, "index -q --db '%s' --sync-vectors --recall 0", ixdir);
    CHECK(rc == 0);
    rc = t_run(t_, &out, NULL, "stats --db '%s'", ixdir);
    CHECK(rc == 0 && t_contains(out, "nprobe 64") && !t_contains(out, "recall@10"));
    free(out);
    /* another kind rebuilds the file: exact, no lists */
    rc = t_run(t_, NULL, NULL, "index -q --db '%s' --sync-vectors --vector-index flat", ixdir);
    CHECK(rc == 0);
    rc = t_run(t_, &out, NULL, "stats --db '%s'", ixdir);
    CHECK(rc == 0 && !t_contains(out, "IVF"));
    free(out);
    CHECK(in_step(t_, ixdir, 2000));
    rc = t_run(t_, NULL, &err, "index -q --db '%s' --sync-vectors --vector-index hnsw", ixdir);
    CHECK(rc == 2 && t_contains(err, "opq-ivfpq"));
    free(err);
}

/* An update embeds only the passages after the last one with a vector (it does not look at the
 * others again); --sync-vectors looks at all of them. Shown with a vector deleted by hand: the
 * next ordinary run leaves that hole alone, --sync-vectors fills it. */
TEST(dense_incremental_sync)
{
    const char *dir = t_tmpdir(t_);
    const char *vec = make_vectors(t_, dir, "v1", 0);
    REQUIRE(vec);
    const char *docs = t_write(t_, dir, "docs.jsonl", docs_jsonl, strlen(docs_jsonl));
    char ixdir[600], dbf[700];
    snprintf(ixdir, sizeof ixdir, "%s/ix", dir);
    snprintf(dbf, sizeof dbf, "%s/index.db", ixdir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --db '%s' --vectors '%s' '%s'", ixdir, vec, docs) == 0);
    CHECK(in_step(t_, ixdir, 4));
    sqlite3 *db = NULL;
    REQUIRE(sqlite3_open(dbf, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DELETE FROM vectors WHERE pid = (SELECT min(pid) FROM vectors);"
                           "UPDATE settings SET value = value - 1 WHERE key = 'vec_count'",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    static const char more[] = "{\"_id\": \"new\", \"title\": \"Money\", \"text\": \"Money in the bank.\"}\n";
    const char *m = t_write(t_, dir, "more.jsonl", more, strlen(more));
    REQUIRE(t_run(t_, NULL, NULL, "index -q --db '%s' '%s'", ixdir, m) == 0);
    CHECK(in_step(t_, ixdir, 4)); /* 3 old + the new one: the hole was not looked at */
    REQUIRE(t_run(t_, NULL, NULL, "index -q --db '%s' --sync-vectors", ixdir) == 0);
    CHECK(in_step(t_, ixdir, 5));
    char *top = top_doc(t_, ixdir, "dense", "heart attack");
    CHECK(top && !strcmp(top, "med"));
    free(top);
}
