/* test_cli.c - the vericite command line end to end: index, search, eval, stats, remove, and the
 * bad inputs a user will give it (each a clear message, a non-zero exit, the index unchanged). */
#include <jansson.h>
#include <stdlib.h>

#include "test.h"

static const char good_jsonl[] =
    "{\"_id\": \"a1\", \"title\": \"Aspirin and stroke\", \"text\": \"Low-dose aspirin reduces the risk of a first stroke in women.\", \"url\": \"https://example.org/aspirin\"}\n"
    "{\"_id\": \"b2\", \"title\": \"Glaciers\", \"text\": \"Alpine glaciers lost a third of their volume since 1980.\"}\n"
    "{\"id\": 3, \"title\": \"Bees\", \"abstract\": [\"Neonicotinoid pesticides impair bee navigation.\", \"Colonies shrink.\"]}\n";

/* Build an index from good_jsonl in dir/ix; returns the index path (static). */
static const char *make_index(struct test_ctx *t_, const char *dir)
{
    static char ix[512];
    const char *f = t_write(t_, dir, "good.jsonl", good_jsonl, strlen(good_jsonl));
    if (!f) return NULL;
    snprintf(ix, sizeof ix, "%s/ix", dir);
    char *err = NULL;
    int rc = t_run(t_, NULL, &err, "index --db '%s' '%s'", ix, f);
    if (rc != 0) fprintf(stderr, "  index failed (%d): %s\n", rc, err ? err : "");
    free(err);
    return rc == 0 ? ix : NULL;
}

static char *stats_json(struct test_ctx *t_, const char *ix)
{
    char *out = NULL;
    if (t_run(t_, &out, NULL, "stats --db '%s' --json", ix) != 0) {
        free(out);
        return NULL;
    }
    /* db_bytes may change with WAL checkpoints; compare the counts only */
    json_t *o = json_loads(out, 0, NULL);
    free(out);
    if (!o) return NULL;
    char *s = NULL;
    if (asprintf(&s, "docs=%lld passages=%lld terms=%lld",
                 (long long)json_integer_value(json_object_get(o, "documents")),
                 (long long)json_integer_value(json_object_get(o, "passages")),
                 (long long)json_integer_value(json_object_get(o, "terms"))) < 0)
        s = NULL;
    json_decref(o);
    return s;
}

TEST(cli_index_search_json)
{
    const char *dir = t_tmpdir(t_);
    const char *ix = make_index(t_, dir);
    REQUIRE(ix);
    char *out = NULL, *err = NULL;
    /* FTS5 syntax in a claim is just words */
    int rc = t_run(t_, &out, &err, "search --db '%s' --json -k 2 '\"aspirin\" AND stroke NOT (NEAR: women)*'", ix);
    REQUIRE(rc == 0);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    REQUIRE(o);
    json_t *hits = json_object_get(o, "hits");
    CHECK(json_array_size(hits) >= 1);
    json_t *h0 = json_array_get(hits, 0);
    CHECK(!strcmp(json_string_value(json_object_get(h0, "doc_id")), "a1"));
    CHECK(!strcmp(json_string_value(json_object_get(h0, "url")), "https://example.org/aspirin"));
    CHECK(json_integer_value(json_object_get(h0, "rank")) == 1);
    CHECK(json_is_real(json_object_get(h0, "score")) && json_is_integer(json_object_get(h0, "passage_id")));
    CHECK(t_contains(json_string_value(json_object_get(h0, "text")), "Low-dose aspirin"));
    json_decref(o);
    free(out);
    free(err);
    /* numeric ids and abstract arrays */
    rc = t_run(t_, &out, NULL, "search --db '%s' --by-doc -k 1 --json bee pesticides", ix);
    CHECK(rc == 0 && t_contains(out, "\"doc_id\":\"3\"") && t_contains(out, "Colonies shrink."));
    free(out);
    /* the table output names the document */
    rc = t_run(t_, &out, NULL, "search --db '%s' glacier volume", ix);
    CHECK(rc == 0 && t_contains(out, "b2") && t_contains(out, "Glaciers"));
    free(out);
    /* a batch from TSV, one JSON line per query */
    static const char qtsv[] = "id\ttext\nq1\tstroke prevention\nq2\tglacier melt\n";
    const char *qf = t_write(t_, dir, "q.tsv", qtsv, strlen(qtsv));
    rc = t_run(t_, &out, NULL, "search --db '%s' --json --queries '%s'", ix, qf);
    CHECK(rc == 0 && t_contains(out, "\"id\":\"q1\"") && t_contains(out, "\"id\":\"q2\""));
    free(out);
}

TEST(cli_eval_metrics)
{
    const char *dir = t_tmpdir(t_);
    const char *ix = make_index(t_, dir);
    REQUIRE(ix);
    static const char qj[] = "{\"_id\": \"1\", \"text\": \"aspirin stroke\"}\n"
                             "{\"_id\": \"2\", \"text\": \"glaciers volume\"}\n"
                             "{\"_id\": \"9\", \"text\": \"not judged\"}\n";
    const char *qf = t_write(t_, dir, "q.jsonl", qj, strlen(qj));
    /* query 2's judged document is a1 (wrong on purpose): its nDCG is 1/log2(3) at rank 2 or 0 */
    static const char qr[] = "query-id\tcorpus-id\tscore\n1\ta1\t1\n2\tzz\t1\n";
    const char *rf = t_write(t_, dir, "qrels.tsv", qr, strlen(qr));
    REQUIRE(qf && rf);
    char *out = NULL;
    int rc = t_run(t_, &out, NULL, "eval --db '%s' --queries '%s' --qrels '%s' --json", ix, qf, rf);
    REQUIRE(rc == 0);
    json_t *o = json_loads(out, 0, NULL);
    REQUIRE(o);
    CHECK(json_integer_value(json_object_get(o, "queries")) == 2);
    double ndcg = json_real_value(json_object_get(o, "ndcg@10"));
    CHECK(ndcg > 0.499 && ndcg < 0.501); /* 1.0 for query 1, 0 for query 2 */
    CHECK(json_real_value(json_object_get(o, "recall@100")) > 0.499);
    json_decref(o);
    free(out);
}

TEST(cli_bad_inputs_leave_index_unchanged)
{
    const char *dir = t_tmpdir(t_);
    const char *ix = make_index(t_, dir);
    REQUIRE(ix);
    char *before = stats_json(t_, ix);
    REQUIRE(before);
    static const char bad_json[] = "{\"_id\": \"n1\", \"text\": \"new doc one\"}\n{\"_id\": \"n2\", \"text\": \"broken\n";
    static const char no_text[] = "{\"_id\": \"n1\", \"text\": \"ok\"}\n{\"_id\": \"n2\", \"title\": \"no text field\"}\n";
    static const char bad_utf8[] = "{\"_id\": \"n1\", \"text\": \"caf\xc3\x28\"}\n";
    static const char binary[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
    struct {
        const char *name, *data;
        size_t len;
        const char *want; /* in the error message */
    } cases[] = {
        {"bad.jsonl", bad_json, sizeof bad_json - 1, "bad.jsonl:2"},
        {"notext.jsonl", no_text, sizeof no_text - 1, "notext.jsonl:2"},
        {"utf8.jsonl", bad_utf8, sizeof bad_utf8 - 1, "utf8.jsonl:1"},
        {"binary.jsonl", binary, sizeof binary - 1, "binary.jsonl"},
        {"empty.jsonl", "", 0, "empty.jsonl"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *f = t_write(t_, dir, cases[i].name, cases[i].data, cases[i].len);
        REQUIRE(f);
        char *err = NULL;
        int rc = t_run(t_, NULL, &err, "index --db '%s' '%s'", ix, f);
        if (rc != 1 || !t_contains(err, cases[i].want)) {
            fprintf(stderr, "  %s: exit %d, stderr: %s\n", cases[i].name, rc, err ? err : "");
            t_->failed = 1;
        }
        free(err);
        char *after = stats_json(t_, ix);
        CHECK(after && !strcmp(before, after));
        free(after);
    }
    /* a 10 MB single line: a limit error naming the line, no crash */
    size_t big = 10u << 20;
    char *line = malloc(big + 64);
    REQUIRE(line);
    int n = snprintf(line, 64, "{\"_id\": \"x\", \"text\": \"");
    memset(line + n, 'a', big);
    memcpy(line + n + big, "\"}\n", 4);
    const char *bf = t_write(t_, dir, "huge.jsonl", line, (size_t)n + big + 3);
    free(line);
    REQUIRE(bf);
    char *err = NULL;
    int rc = t_run(t_, NULL, &err, "index --db '%s' '%s'", ix, bf);
    CHECK(rc == 1 && t_contains(err, "huge.jsonl:1"));
    free(err);
    /* a missing path fails before anything is written */
    rc = t_run(t_, NULL, &err, "index --db '%s' '%s/nope.jsonl'", ix, dir);
    CHECK(rc == 1 && t_contains(err, "nope.jsonl"));
    free(err);
    char *after = stats_json(t_, ix);
    CHECK(after && !strcmp(before, after));
    free(after);
    /* --skip-bad indexes the good records and counts the bad one */
    const char *f = t_write(t_, dir, "bad2.jsonl", bad_json, sizeof bad_json - 1);
    rc = t_run(t_, NULL, &err, "index --db '%s' --skip-bad '%s'", ix, f);
    CHECK(rc == 0 && t_contains(err, "1 skipped"));
    free(err);
    after = stats_json(t_, ix);
    CHECK(after && t_contains(after, "docs=4 "));
    free(after);
    free(before);
}

TEST(cli_reindex_remove_and_usage)
{
    const char *dir = t_tmpdir(t_);
    const char *ix = make_index(t_, dir);
    REQUIRE(ix);
    char *err = NULL, *out = NULL;
    /* the same file again: everything unchanged */
    char f[600];
    snprintf(f, sizeof f, "%s/good.jsonl", dir);
    int rc = t_run(t_, NULL, &err, "index --db '%s' '%s'", ix, f);
    CHECK(rc == 0 && t_contains(err, "0 added, 0 replaced, 3 unchanged"));
    free(err);
    /* one changed document is replaced */
    static const char ch[] = "{\"_id\": \"b2\", \"title\": \"Glaciers\", \"text\": \"Glaciers in Patagonia grew.\"}\n";
    const char *f2 = t_write(t_, dir, "changed.jsonl", ch, strlen(ch));
    rc = t_run(t_, NULL, &err, "index --db '%s' '%s'", ix, f2);
    CHECK(rc == 0 && t_contains(err, "1 replaced"));
    free(err);
    rc = t_run(t_, &out, NULL, "search --db '%s' --json patagonia", ix);
    CHECK(rc == 0 && t_contains(out, "\"doc_id\":\"b2\""));
    free(out);
    /* remove, and a missing id removes nothing */
    rc = t_run(t_, NULL, &err, "remove --db '%s' a1 missing-id", ix);
    CHECK(rc == 1 && t_contains(err, "missing-id"));
    free(err);
    rc = t_run(t_, &out, NULL, "search --db '%s' --json aspirin", ix);
    CHECK(rc == 0 && t_contains(out, "\"doc_id\":\"a1\""));
    free(out);
    rc = t_run(t_, NULL, NULL, "remove --db '%s' a1", ix);
    CHECK(rc == 0);
    rc = t_run(t_, &out, NULL, "search --db '%s' --json aspirin", ix);
    CHECK(rc == 0 && t_contains(out, "\"hits\":[]"));
    free(out);
    /* usage errors exit 2 and teach */
    rc = t_run(t_, NULL, &err, "search --db '%s' -k zero claim", ix);
    CHECK(rc == 2 && t_contains(err, "-k expects"));
    free(err);
    rc = t_run(t_, NULL, &err, "frobnicate");
    CHECK(rc == 2 && t_contains(err, "unknown command"));
    free(err);
    rc = t_run(t_, &out, NULL, "index --help");
    CHECK(rc == 0 && t_contains(out, "--url-prefix") && t_contains(out, "examples:"));
    free(out);
    rc = t_run(t_, NULL, &err, "search --db '%s/none' claim", dir);
    CHECK(rc == 1 && t_contains(err, "no vericite index"));
    free(err);
}

TEST(cli_scifact_bm25_quality)
{
    const char *corpus = t_shared(t_, "scifact/corpus.jsonl");
    const char *q = t_shared(t_, "scifact/queries_train.jsonl");
    const char *r = t_shared(t_, "scifact/qrels_train.tsv");
    if (!corpus || !q || !r) SKIP("../shared/data/scifact not present");
    const char *dir = t_tmpdir(t_);
    int rc = t_run(t_, NULL, NULL, "index -q --db '%s/sf' '%s'", dir, corpus);
    REQUIRE(rc == 0);
    char *out = NULL;
    rc = t_run(t_, &out, NULL, "eval --db '%s/sf' --queries '%s' --qrels '%s' --json", dir, q, r);
    REQUIRE(rc == 0);
    json_t *o = json_loads(out, 0, NULL);
    free(out);
    REQUIRE(o);
    double ndcg = json_real_value(json_object_get(o, "ndcg@10"));
    double rec = json_real_value(json_object_get(o, "recall@100"));
    fprintf(stderr, "  SciFact train: nDCG@10 %.4f, Recall@100 %.4f over %lld claims\n", ndcg, rec,
            (long long)json_integer_value(json_object_get(o, "queries")));
    CHECK(json_integer_value(json_object_get(o, "queries")) == 809);
    CHECK(ndcg >= 0.68);
    CHECK(rec >= 0.90);
    json_decref(o);
}
