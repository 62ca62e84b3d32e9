/* test_cli.c - the vericite command line end to end: index, search, eval, stats, remove, and the
 * bad inputs a user will give it (each a clear message, a non-zero exit, the index unchanged). */
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

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

/* ---------------------------------------------------------------- IR conventions */

/* The figures of an `eval --json` run, as text to compare ("ndcg mrr recall queries"). */
static char *eval_figures(struct test_ctx *t_, const char *args)
{
    char *out = NULL;
    if (t_run(t_, &out, NULL, "eval %s --json", args) != 0) {
        free(out);
        return NULL;
    }
    json_t *o = json_loads(out, 0, NULL);
    free(out);
    if (!o) return NULL;
    char *s = NULL;
    if (asprintf(&s, "ndcg=%.6f mrr=%.6f recall=%.6f r1=%.6f queries=%lld", json_real_value(json_object_get(o, "ndcg@10")),
                 json_real_value(json_object_get(o, "mrr@10")), json_real_value(json_object_get(o, "recall@100")),
                 json_real_value(json_object_get(o, "recall@1")),
                 (long long)json_integer_value(json_object_get(o, "queries"))) < 0)
        s = NULL;
    json_decref(o);
    return s;
}

TEST(cli_trec_run_read_back_by_eval)
{
    const char *dir = t_tmpdir(t_);
    const char *ix = make_index(t_, dir);
    REQUIRE(ix);
    static const char qj[] = "{\"_id\": \"1\", \"text\": \"aspirin stroke\"}\n"
                             "{\"_id\": \"2\", \"text\": \"glaciers volume\"}\n"
                             "{\"_id\": \"3\", \"text\": \"bee navigation pesticides\"}\n";
    static const char beir[] = "query-id\tcorpus-id\tscore\n1\ta1\t1\n2\tb2\t1\n3\t3\t2\n3\ta1\t0\n";
    static const char trec[] = "1 0 a1 1\n2 0 b2 1\n3 0 3 2\n3 0 a1 0\n";
    const char *qf = t_write(t_, dir, "q.jsonl", qj, strlen(qj));
    const char *bf = t_write(t_, dir, "qrels.tsv", beir, strlen(beir));
    const char *tf = t_write(t_, dir, "qrels.trec", trec, strlen(trec));
    REQUIRE(qf && bf && tf);
    char run[600];
    snprintf(run, sizeof run, "%s/run.txt", dir);
    char *out = NULL, *err = NULL;
    int rc = t_run(t_, &out, &err, "search --db '%s' --queries '%s' --trec '%s' --mode bm25", ix, qf, run);
    CHECK(rc == 0 && out && !*out && t_contains(err, "wrote a TREC run of 3 queries"));
    free(out);
    free(err);
    /* qid Q0 docid rank score tag, documents once per query, ranks from 1 */
    char *txt = t_read(run, NULL);
    REQUIRE(txt);
    int lines = 0, bad = 0, last_rank = 0;
    char last_q[32] = "";
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        char q[32], q0[8], doc[64], tag[64];
        int rank;
        double score;
        if (sscanf(line, "%31s %7s %63s %d %lf %63s", q, q0, doc, &rank, &score, tag) != 6 || strcmp(q0, "Q0") ||
            strcmp(tag, "vericite-bm25"))
            bad++;
        if (strcmp(q, last_q)) last_rank = 0;
        bad += rank != last_rank + 1;
        last_rank = rank;
        snprintf(last_q, sizeof last_q, "%s", q);
        lines++;
    }
    free(txt);
    CHECK(lines >= 3 && bad == 0);
    /* eval reads the run back: the same figures as ranking live, with BEIR or TREC qrels */
    char args[2048];
    snprintf(args, sizeof args, "--db '%s' --queries '%s' --qrels '%s' --mode bm25", ix, qf, bf);
    char *live = eval_figures(t_, args);
    snprintf(args, sizeof args, "--run '%s' --qrels '%s'", run, bf);
    char *from_run = eval_figures(t_, args);
    snprintf(args, sizeof args, "--run '%s' --qrels '%s'", run, tf);
    char *trec_qrels = eval_figures(t_, args);
    CHECK(live && from_run && trec_qrels);
    CHECK(live && from_run && !strcmp(live, from_run));
    CHECK(from_run && trec_qrels && !strcmp(from_run, trec_qrels));
    CHECK(live && t_contains(live, "queries=3"));
    free(live);
    free(from_run);
    free(trec_qrels);
    /* a run line that is not one, named */
    static const char badrun[] = "1 Q0 a1 1 2.5 t\n1 Q0 b2 two 1.0 t\n";
    const char *br = t_write(t_, dir, "bad.run", badrun, strlen(badrun));
    rc = t_run(t_, NULL, &err, "eval --run '%s' --qrels '%s'", br, bf);
    CHECK(rc == 1 && t_contains(err, "bad.run:2"));
    free(err);
    /* --threads N: one retriever per thread, the output in query order, as with one */
    char *one = NULL, *four = NULL;
    rc = t_run(t_, &one, NULL, "search --db '%s' --queries '%s' --json", ix, qf);
    CHECK(rc == 0);
    rc = t_run(t_, &four, NULL, "search --db '%s' --queries '%s' --json --threads 4", ix, qf);
    CHECK(rc == 0 && one && four && !strcmp(one, four) && t_contains(four, "\"id\":\"3\""));
    free(one);
    free(four);
    rc = t_run(t_, NULL, &err, "search --db '%s' --threads 2 aspirin", ix);
    CHECK(rc == 2 && t_contains(err, "--queries"));
    free(err);
}

TEST(cli_eval_warns_of_missing_judged_documents)
{
    const char *dir = t_tmpdir(t_);
    const char *ix = make_index(t_, dir);
    REQUIRE(ix);
    static const char qj[] = "{\"_id\": \"1\", \"text\": \"aspirin stroke\"}\n{\"_id\": \"2\", \"text\": \"glaciers\"}\n";
    static const char none[] = "1 0 PMID-1 1\n2 0 PMID-2 1\n";
    static const char some[] = "1 0 a1 1\n2 0 PMID-2 1\n";
    const char *qf = t_write(t_, dir, "q.jsonl", qj, strlen(qj));
    const char *nf = t_write(t_, dir, "none.trec", none, strlen(none));
    const char *sf = t_write(t_, dir, "some.trec", some, strlen(some));
    char *out = NULL, *err = NULL;
    int rc = t_run(t_, &out, &err, "eval --db '%s' --queries '%s' --qrels '%s'", ix, qf, nf);
    CHECK(rc == 0 && t_contains(err, "none of the 2 documents judged relevant") && t_contains(err, "none.trec"));
    CHECK(t_contains(out, "nDCG@10     0.0000"));
    free(out);
    free(err);
    rc = t_run(t_, NULL, &err, "eval --db '%s' --queries '%s' --qrels '%s'", ix, qf, sf);
    CHECK(rc == 0 && t_contains(err, "1 of the 2 documents judged relevant") && t_contains(err, "is not in the index"));
    free(err);
}

/* ---------------------------------------------------------------- the smaller things */

TEST(cli_did_you_mean_and_units)
{
    const char *dir = t_tmpdir(t_);
    const char *ix = make_index(t_, dir);
    REQUIRE(ix);
    char *err = NULL, *out = NULL;
    /* a misspelt option, for every command */
    static const struct {
        const char *args, *want;
    } typos[] = {{"audit --ofline x.wiki", "did you mean --offline?"},
                 {"search --db x --qeries q.tsv", "did you mean --queries?"},
                 {"eval --qerls q.tsv", "did you mean --qrels?"},
                 {"index --db x --embeder none f", "did you mean --embedder?"},
                 {"report --db x --limt 3", "did you mean --limit?"},
                 {"serve --db x --listne 8080", "did you mean --listen?"},
                 {"stats --db x --jsno", "did you mean --json?"},
                 {"verify --claimm x", "did you mean --claim?"},
                 {"audt x.wiki", "did you mean audit?"},
                 {"audit --db", "--db needs a value"},
                 {"audit --json=1 x", "--json takes no value"},
                 {"audit --frobnicate x", "unknown option '--frobnicate'"}};
    for (size_t i = 0; i < sizeof typos / sizeof typos[0]; i++) {
        int rc = t_run(t_, NULL, &err, "%s", typos[i].args);
        if (rc != 2 || !t_contains(err, typos[i].want)) {
            fprintf(stderr, "  %s: rc %d, %s", typos[i].args, rc, err ? err : "");
            t_->failed = 1;
        }
        free(err);
    }
    /* durations take units; audit's old milliseconds still work, with a note */
    static const char md[] = "The aspirin claim.[^1]\n\n[^1]: [A](https://example.org/aspirin)\n";
    const char *m = t_write(t_, dir, "one.md", md, strlen(md));
    int rc = t_run(t_, NULL, &err, "audit --db '%s' --offline --timeout 500ms '%s'", ix, m);
    CHECK(rc == 0 && !t_contains(err, "note"));
    free(err);
    rc = t_run(t_, NULL, &err, "audit --db '%s' --offline --timeout 20000 '%s'", ix, m);
    CHECK(rc == 0 && t_contains(err, "read as milliseconds") && t_contains(err, "20s"));
    /* one citation, not "1 citations" */
    CHECK(t_contains(err, "1 citation:") && !t_contains(err, "1 citations"));
    free(err);
    rc = t_run(t_, NULL, &err, "audit --db '%s' --offline --timeout 2x '%s'", ix, m);
    CHECK(rc == 2 && t_contains(err, "--timeout expects a duration"));
    free(err);
    rc = t_run(t_, NULL, &err, "serve --db '%s' --timeout 90min", ix);
    CHECK(rc == 2 && t_contains(err, "--timeout expects"));
    free(err);
    /* serve --listen PORT means 127.0.0.1:PORT (port 0: any free one) */
    const char *bin = getenv("VERICITE_BIN");
    static const char *const listens[] = {"0", ":0"};
    for (int i = 0; i < 2; i++) { /* start it, wait (up to 20 s) for its address, stop it */
        rc = t_sh(t_, NULL, &err,
                  "'%s' serve --db '%s' --listen %s --threads 1 2>'%s/serve.log' & p=$!; for i in $(seq 200); do "
                  "grep -q 'listening on' '%s/serve.log' && break; sleep 0.1; done; kill $p; wait $p; "
                  "cat '%s/serve.log' >&2",
                  bin && *bin ? bin : "./vericite", ix, listens[i], dir, dir, dir);
        CHECK(t_contains(err, "listening on http://127.0.0.1:"));
        free(err);
    }
    rc = t_run(t_, NULL, &err, "serve --db '%s' --listen 'host:'", ix);
    CHECK(rc == 2 && t_contains(err, "--listen expects"));
    free(err);
    /* --html into a missing folder fails before the audit starts */
    rc = t_run(t_, &out, &err, "audit --db '%s' --offline --html '%s/no/such/dir/r.html' '%s'", ix, dir, m);
    CHECK(rc == 1 && t_contains(err, "no/such/dir") && !t_contains(err, "citation"));
    free(out);
    free(err);
    /* index --db a/b/c makes a/ and a/b/ */
    char f[600];
    snprintf(f, sizeof f, "%s/good.jsonl", dir);
    rc = t_run(t_, NULL, &err, "index -q --embedder none --db '%s/a/b/c' '%s'", dir, f);
    CHECK(rc == 0);
    free(err);
    snprintf(f, sizeof f, "%s/a/b/c/index.db", dir);
    CHECK(access(f, F_OK) == 0);
    /* train-verifier refuses a target precision outside (0, 1) before reading anything */
    rc = t_run(t_, NULL, &err, "train-verifier --precision 1.5 '%s/none' '%s/m.txt'", dir, dir);
    CHECK(rc == 2 && t_contains(err, "--precision expects a number from 0.05 to 0.99"));
    free(err);
    snprintf(f, sizeof f, "%s/m.txt", dir);
    CHECK(access(f, F_OK) != 0);
    /* examples in every command's help */
    static const char *const helps[] = {"stats", "report", "train-verifier", "audit", "verify", "search", "eval"};
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        rc = t_run(t_, &out, NULL, "%s --help", helps[i]);
        if (rc != 0 || !t_contains(out, "example")) {
            fprintf(stderr, "  %s --help: no examples\n", helps[i]);
            t_->failed = 1;
        }
        free(out);
    }
}

TEST(cli_output_fits)
{
    const char *dir = t_tmpdir(t_);
    /* a long passage whose matched words are near its end */
    static const char doc[] =
        "{\"_id\": \"long\", \"title\": \"Long\", \"text\": \"Opening words about many other unrelated topics such as "
        "railways, harbours, bridges, tunnels, canals, lighthouses, roads and airports fill this passage for a "
        "long while before the part that matters: the Aletsch glacier retreated three kilometres since 1850, "
        "and then a few words follow.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", doc, strlen(doc));
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    char *out = NULL;
    /* piped: the whole passage */
    int rc = t_sh(t_, &out, NULL, "unset COLUMNS; '%s' search --db '%s' Aletsch retreated",
                  getenv("VERICITE_BIN") ? getenv("VERICITE_BIN") : "./vericite", ix);
    CHECK(rc == 0 && t_contains(out, "Opening words about") && t_contains(out, "a few words follow."));
    free(out);
    /* a width: the snippet is centred on the matched words, cut with an ellipsis, lines fit */
    rc = t_sh(t_, &out, NULL, "COLUMNS=110 '%s' search --db '%s' Aletsch retreated",
              getenv("VERICITE_BIN") ? getenv("VERICITE_BIN") : "./vericite", ix);
    CHECK(rc == 0 && t_contains(out, "Aletsch glacier retreated") && !t_contains(out, "Opening words about"));
    CHECK(t_contains(out, "\xE2\x80\xA6"));
    int too_long = 0;
    for (const char *p = out; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p), cols = 0;
        for (size_t i = 0; i < len; i++) cols += ((unsigned char)p[i] & 0xC0) != 0x80;
        too_long += cols > 110;
        p = nl ? nl + 1 : p + len;
    }
    CHECK(too_long == 0);
    free(out);
    /* the audit's table fits the width too, evidence and suggestions included */
    static const char art[] =
        "Opening words about many other unrelated topics such as railways, harbours, bridges, tunnels, canals and "
        "lighthouses fill the Aletsch glacier article.[^1]\n\n[^1]: [Long](https://example.org/nowhere)\n";
    const char *a = t_write(t_, dir, "a.md", art, strlen(art));
    rc = t_sh(t_, &out, NULL, "COLUMNS=90 '%s' audit --db '%s' --offline --suggest all '%s'",
              getenv("VERICITE_BIN") ? getenv("VERICITE_BIN") : "./vericite", ix, a);
    CHECK(rc == 0 && t_contains(out, "why: ") && t_contains(out, "suggest "));
    too_long = 0;
    for (const char *p = out; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p), cols = 0;
        for (size_t i = 0; i < len; i++) cols += ((unsigned char)p[i] & 0xC0) != 0x80;
        too_long += cols > 90;
        p = nl ? nl + 1 : p + len;
    }
    CHECK(too_long == 0);
    free(out);
    /* verify prints its evidence also when the claim is supported */
    rc = t_run(t_, &out, NULL, "verify --db '%s' --claim 'The Aletsch glacier retreated three kilometres since 1850.' "
                               "--source '%s'",
               ix, c);
    CHECK(rc == 0 && t_contains(out, "supported") && t_contains(out, "evidence: ") && t_contains(out, "since 1850"));
    free(out);
}
