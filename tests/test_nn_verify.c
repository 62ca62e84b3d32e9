/* test_nn_verify.c - the model verifiers end to end: `audit`, `verify`, `serve` and `audit --jobs`
 * with --verifier over a random-weight NLI classifier made by tests/nn/hfmodel.py (the score is
 * checked against `vericite model run --pairs`, an independent path through the runtime), and
 * the LLM judge (verify/ver_judge.c) against the loopback server of tests/testhttp.c. */
#include "test.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "testhttp.h"
#include "verify/ver.h"

/* ---------------------------------------------------------------- the fixture */

static int have_torch(void)
{
    return system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0;
}

static const char *bin(void)
{
    const char *b = getenv("VERICITE_BIN");
    return b && *b ? b : "./vericite";
}

/* One line per source (so no window holds a line break): the sentences are split at ". ". */
static const char *const docs[][3] = {
    {"https://example.org/aspirin", "Aspirin",
     "Aspirin is a common drug. A large trial found that daily aspirin reduces the risk of stroke "
     "in "
     "older adults. The effect was small but significant. Side effects included bleeding in the "
     "stomach."},
    {"https://example.org/glacier", "Glaciers",
     "The Aletsch Glacier is the largest glacier in the Alps. It lost about 1.3 kilometres of "
     "length "
     "between 1980 and 2020. Melting has accelerated since the 1990s."},
    {"https://example.org/cats", "Cats",
     "Cats sleep for most of the day. A cat sat on the mat in the afternoon sun. Dogs run in the "
     "park."},
};
static const char *const claims[] = {
    "Daily aspirin reduces the risk of stroke.",
    "The Aletsch Glacier lost 1.3 kilometres between 1980 and 2020.",
    "Cats never sleep during the day.",
};
#define NDOCS 3

struct fix {
    const char *dir;
    char ix[700], model[700], art[700];
};

/* corpus.jsonl (indexed into ix), art.jsonl (a claim per source) and an NLI model from hfmodel.py
 * with `gen` (its label options), imported into `name`.vcnn. Returns 0 or -1. */
static int model_gen(struct test_ctx *t_, struct fix *f, const char *name, const char *gen,
                     char *out, size_t n)
{
    snprintf(out, n, "%s/%s.vcnn", f->dir, name);
    return t_sh(t_, NULL, NULL,
                "/usr/bin/python3 tests/nn/hfmodel.py gen '%s/%s' --head classifier --max-pos 512 "
                "%s "
                "--vocab-from '%s/corpus.jsonl' '%s/art.jsonl' && '%s' model import '%s/%s' '%s'",
                f->dir, name, gen, f->dir, f->dir, bin(), f->dir, name, out) == 0
               ? 0
               : -1;
}

static int fixture(struct test_ctx *t_, struct fix *f, const char *gen)
{
    f->dir = t_tmpdir(t_);
    struct buf c = {0}, a = {0};
    for (int i = 0; i < NDOCS; i++) {
        json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "_id", docs[i][1], "title", docs[i][1], "url",
                              docs[i][0], "text", docs[i][2]);
        json_t *l = json_pack("{s:s, s:s, s:s}", "claim", claims[i], "url", docs[i][0], "title",
                              docs[i][1]);
        char *ds = json_dumps(d, JSON_COMPACT), *ls = json_dumps(l, JSON_COMPACT);
        buf_printf(&c, "%s\n", ds);
        buf_printf(&a, "%s\n", ls);
        free(ds), free(ls);
        json_decref(d), json_decref(l);
    }
    const char *cp = t_write(t_, f->dir, "corpus.jsonl", c.data, c.len);
    const char *ap = t_write(t_, f->dir, "art.jsonl", a.data, a.len);
    buf_cleanup(&c);
    buf_cleanup(&a);
    if (!cp || !ap) return -1;
    snprintf(f->art, sizeof f->art, "%s", ap);
    snprintf(f->ix, sizeof f->ix, "%s/ix", f->dir);
    if (t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", f->ix, cp) != 0) return -1;
    return model_gen(t_, f, "nli", gen, f->model, sizeof f->model);
}

static json_t *by_claim(json_t *arr, const char *claim)
{
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!strcmp(t_json_str(json_array_get(arr, i), "claim"), claim))
            return json_array_get(arr, i);
    return NULL;
}

/* The probability of label `want` for each line of `model run --pairs --json` output (softmax of
 * its logits, label found by name), into p (at most n). Returns the lines read. */
static int run_probs(const char *out, const char *want, double *p, int n)
{
    json_t *lines = t_json_lines(out);
    int k = 0;
    for (size_t i = 0; i < json_array_size(lines) && k < n; i++) {
        json_t *o = json_array_get(lines, i), *lg = json_object_get(o, "logits"),
               *lb = json_object_get(o, "labels");
        double mx = -1e300, sum = 0, mine = 0;
        for (size_t j = 0; j < json_array_size(lg); j++)
            mx = fmax(mx, json_number_value(json_array_get(lg, j)));
        for (size_t j = 0; j < json_array_size(lg); j++) {
            double e = exp(json_number_value(json_array_get(lg, j)) - mx);
            sum += e;
            if (!strcmp(json_string_value(json_array_get(lb, j)), want)) mine = e;
        }
        p[k++] = sum > 0 ? mine / sum : -1;
    }
    json_decref(lines);
    return k;
}

/* ---------------------------------------------------------------- the NLI verifier */

/* The score of each citation is the entailment probability `model run --pairs` gives its
 * evidence window with the claim, and no sentence of the source entails the claim more; the
 * contradiction probability is in the JSON, the table and the HTML report. Labels in an order of
 * their own: they are found by name. */
TEST(nnver_audit_score_is_model_entailment)
{
    if (!have_torch()) SKIP("python3-torch not installed (make deps)");
    struct fix f;
    REQUIRE(fixture(t_, &f, "--labels contradiction,neutral,entailment --seed 3") == 0);
    char *out = NULL, *errs = NULL;
    int rc = t_run(
        t_, &out, &errs,
        "audit --db '%s' --offline --suggest none --json --html '%s/r.html' --verifier '%s' '%s'",
        f.ix, f.dir, f.model, f.art);
    if (rc) fprintf(stderr, "  %s\n", errs);
    REQUIRE(rc == 0);
    json_t *arr = t_json_lines(out);
    CHECK(json_array_size(arr) == NDOCS);
    /* the pairs: each evidence window, then every sentence of its source */
    struct buf pairs = {0};
    int nsent[NDOCS] = {0};
    for (int i = 0; i < NDOCS; i++) {
        json_t *o = by_claim(arr, claims[i]);
        REQUIRE(o);
        CHECK(json_is_null(json_object_get(o, "judge")));
        buf_printf(&pairs, "%s\t%s\n", t_json_str(o, "evidence"), claims[i]);
        const char *s = docs[i][2];
        while (*s) {
            const char *e = strstr(s, ". ");
            size_t n = e ? (size_t)(e - s) + 1 : strlen(s);
            buf_printf(&pairs, "%.*s\t%s\n", (int)n, s, claims[i]);
            nsent[i]++;
            s += n;
            while (*s == ' ')
                s++;
        }
    }
    const char *pf = t_write(t_, f.dir, "pairs.txt", pairs.data, pairs.len);
    buf_cleanup(&pairs);
    char *run = NULL;
    REQUIRE(pf && t_sh(t_, &run, NULL, "'%s' model run '%s' --pairs --json < '%s'", bin(), f.model,
                       pf) == 0);
    double pe[64], pc[64];
    int ne = run_probs(run, "entailment", pe, 64);
    CHECK(run_probs(run, "contradiction", pc, 64) == ne);
    int at = 0;
    for (int i = 0; i < NDOCS && at < ne; i++) {
        json_t *o = by_claim(arr, claims[i]);
        double score = json_number_value(json_object_get(o, "score"));
        json_t *contra = json_object_get(o, "contradiction");
        fprintf(stderr, "  %s: score %.6f, model run %.6f, contradiction %.4f\n", claims[i], score,
                pe[at], json_number_value(contra));
        CHECK(fabs(score - pe[at]) < 1e-5);
        CHECK(json_is_number(contra) && json_number_value(contra) >= 0 &&
              json_number_value(contra) <= 1);
        /* a single sentence is a window too: none entails more than the best window, and the most
         * contradicting window contradicts at least as much as any sentence */
        for (int k = 1; k <= nsent[i] && at + k < ne; k++) {
            CHECK(pe[at + k] <= score + 1e-6);
            CHECK(pc[at + k] <= json_number_value(contra) + 1e-6);
        }
        const char *v = t_json_str(o, "verdict");
        CHECK(!strcmp(v, score >= VER_NLI_T_SUPPORTED ? "supported"
                         : score >= VER_NLI_T_WEAK    ? "weak"
                                                      : "unsupported") ||
              !strcmp(v, "contradicted"));
        at += 1 + nsent[i];
    }
    CHECK(at == ne);
    free(run);
    char p[800];
    snprintf(p, sizeof p, "%s/r.html", f.dir);
    char *html = t_read(p, NULL);
    CHECK(t_contains(html, "contradiction 0.") &&
          t_contains(html, "not calibrated for this model"));
    free(html);
    free(out);
    free(errs);
    /* the table */
    REQUIRE(t_run(t_, &out, NULL, "audit --db '%s' --offline --suggest none --verifier '%s' '%s'",
                  f.ix, f.model, f.art) == 0);
    CHECK(t_contains(out, "contradiction: 0."));
    free(out);
    /* suggestions are scored by the model too (on fewer windows); two threads give the same run */
    REQUIRE(t_run(t_, &out, NULL,
                  "audit --db '%s' --offline --suggest all --json --verifier '%s' "
                  "--verifier-threads 2 '%s'",
                  f.ix, f.model, f.art) == 0);
    json_t *two = t_json_lines(out);
    CHECK(json_array_size(two) == NDOCS);
    for (size_t i = 0; i < json_array_size(two); i++) {
        json_t *o = json_array_get(two, i), *b = by_claim(arr, t_json_str(o, "claim"));
        CHECK(b && fabs(json_number_value(json_object_get(o, "score")) -
                        json_number_value(json_object_get(b, "score"))) < 1e-5);
        json_t *sg = json_object_get(o, "suggestions");
        for (size_t k = 0; k < json_array_size(sg); k++) {
            double sup = json_number_value(json_object_get(json_array_get(sg, k), "support"));
            CHECK(sup > json_number_value(json_object_get(o, "score")) && sup <= 1);
        }
    }
    json_decref(two);
    free(out);
    json_decref(arr);
}

/* A model that leans to contradiction: every source is called contradicted, with a detail that
 * says so; `verify` takes --verifier too. */
TEST(nnver_contradiction_verdict)
{
    if (!have_torch()) SKIP("python3-torch not installed (make deps)");
    struct fix f;
    REQUIRE(fixture(t_, &f,
                    "--labels ENTAILMENT,NEUTRAL,CONTRADICTION --label-bias 0,0,8 --seed 5") == 0);
    char *out = NULL, *errs = NULL;
    REQUIRE(t_run(t_, &out, &errs,
                  "audit --db '%s' --offline --suggest none --json --verifier '%s' '%s'", f.ix,
                  f.model, f.art) == 0);
    json_t *arr = t_json_lines(out);
    CHECK(json_array_size(arr) == NDOCS);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        CHECK(!strcmp(t_json_str(o, "verdict"), "contradicted"));
        CHECK(t_contains(t_json_str(o, "detail"), "contradicts the claim"));
        CHECK(json_number_value(json_object_get(o, "contradiction")) > 0.9);
    }
    json_decref(arr);
    free(out);
    free(errs);
    const char *src = t_write(t_, f.dir, "src.txt", docs[0][2], strlen(docs[0][2]));
    REQUIRE(src);
    CHECK(
        t_run(
            t_, &out, NULL,
            "verify --db '%s' --offline --suggest none --verifier '%s' --claim '%s' --source '%s'",
            f.ix, f.model, claims[0], src) == 0);
    CHECK(t_contains(out, "contradicted") && t_contains(out, "contradicts the claim") &&
          (t_contains(out, "contradiction: 0.9") || t_contains(out, "contradiction: 1.00")));
    free(out);
}

/* A classifier without entailment/contradiction labels and an encoder are refused, naming why. */
TEST(nnver_refuses_non_nli_models)
{
    if (!have_torch()) SKIP("python3-torch not installed (make deps)");
    struct fix f;
    REQUIRE(fixture(t_, &f, "--labels LABEL_0,LABEL_1") == 0);
    char *out = NULL, *errs = NULL;
    int rc = t_run(t_, &out, &errs, "audit --db '%s' --offline --verifier '%s' '%s'", f.ix, f.model,
                   f.art);
    CHECK(rc != 0 && t_contains(errs, "[LABEL_0,LABEL_1]") &&
          t_contains(errs, "entailment and a contradiction label"));
    free(out);
    free(errs);
    char enc[700];
    REQUIRE(t_sh(t_, NULL, NULL,
                 "/usr/bin/python3 tests/nn/hfmodel.py gen '%s/enc' --vocab 200 --vocab-from "
                 "'%s/art.jsonl' && "
                 "'%s' model import '%s/enc' '%s/enc.vcnn'",
                 f.dir, f.dir, bin(), f.dir, f.dir) == 0);
    snprintf(enc, sizeof enc, "%s/enc.vcnn", f.dir);
    rc = t_run(t_, &out, &errs, "audit --db '%s' --offline --verifier '%s' '%s'", f.ix, enc, f.art);
    CHECK(rc != 0 && t_contains(errs, "is an encoder, not an NLI classifier"));
    free(out);
    free(errs);
    rc = t_run(t_, &out, &errs, "audit --db '%s' --offline --verifier no-such-model-here '%s'",
               f.ix, f.art);
    CHECK(rc != 0 && t_contains(errs, "no-such-model-here"));
    free(out);
    free(errs);
}

/* audit --jobs with --verifier: the records carry the contradiction; the store key holds the
 * model's hash, so the same model skips, another model (or none) audits again (and replaces the
 * stored results of the path). */
TEST(nnver_batch_keys_by_model)
{
    if (!have_torch()) SKIP("python3-torch not installed (make deps)");
    struct fix f;
    REQUIRE(fixture(t_, &f, "--labels entailment,neutral,contradiction --seed 7") == 0);
    char other[700];
    REQUIRE(model_gen(t_, &f, "nli2", "--labels entailment,neutral,contradiction --seed 8", other,
                      sizeof other) == 0);
    char arts[800];
    snprintf(arts, sizeof arts, "%s/arts", f.dir);
    const char *one = "{\"claim\": \"Daily aspirin reduces the risk of stroke.\", \"url\": "
                      "\"https://example.org/aspirin\"}\n";
    const char *two = "{\"claim\": \"Cats never sleep during the day.\", \"url\": "
                      "\"https://example.org/cats\"}\n";
    REQUIRE(t_write(t_, f.dir, "arts/one.jsonl", one, strlen(one)) &&
            t_write(t_, f.dir, "arts/two.jsonl", two, strlen(two)));
    static const struct {
        int other, lexical;
        const char *want;
    } runs[] = {
        {0, 0, "2 articles audited, 0 already done"}, {0, 0, "0 articles audited, 2 already done"},
        {1, 0, "2 articles audited, 0 already done"}, {1, 0, "0 articles audited, 2 already done"},
        {0, 1, "2 articles audited, 0 already done"}, {0, 0, "2 articles audited, 0 already done"}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        char *out = NULL, *errs = NULL;
        char vopt[800] = "";
        if (!runs[r].lexical)
            snprintf(vopt, sizeof vopt, "--verifier '%s'", runs[r].other ? other : f.model);
        int rc = t_run(t_, &out, &errs,
                       "audit --db '%s' --offline --suggest none --jobs 2 --json %s '%s'", f.ix,
                       vopt, arts);
        CHECK(rc == 0);
        if (!t_contains(errs, runs[r].want))
            fprintf(stderr, "  run %zu: %s (want %s)\n", r, errs, runs[r].want);
        CHECK(t_contains(errs, runs[r].want));
        json_t *arr = t_json_lines(out);
        CHECK(json_array_size(arr) == 2);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *c = json_object_get(json_array_get(arr, i), "contradiction");
            CHECK(runs[r].lexical ? json_is_null(c) : json_is_number(c));
        }
        json_decref(arr);
        free(out);
        free(errs);
    }
    /* the stored records keep it: report --html shows it */
    char rp[800];
    snprintf(rp, sizeof rp, "%s/report.html", f.dir);
    REQUIRE(t_run(t_, NULL, NULL, "report --db '%s' --html '%s'", f.ix, rp) == 0);
    char *html = t_read(rp, NULL);
    CHECK(t_contains(html, "contradiction 0.") && t_contains(html, "(NLI model)"));
    free(html);
}

/* ---------------------------------------------------------------- serve with --verifier */

struct child {
    pid_t pid;
    int port;
};

/* Start `vericite serve` with `extra` options (NULL-terminated) and wait for its address. */
static int serve_start(struct test_ctx *t_, struct child *c, const char *ix,
                       const char *const *extra)
{
    char log[800];
    snprintf(log, sizeof log, "%s/serve.log", t_tmpdir(t_));
    const char *argv[24] = {bin(),      "serve",       "--db",      ix,
                            "--listen", "127.0.0.1:0", "--threads", "2"};
    int n = 8;
    for (int i = 0; extra[i] && n < 23; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    c->port = 0;
    c->pid = fork();
    if (c->pid < 0) return -1;
    if (c->pid == 0) {
        int lf = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644), nul = open("/dev/null", O_RDWR);
        if (lf < 0 || nul < 0) _exit(127);
        dup2(nul, 0), dup2(nul, 1), dup2(lf, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 1500 && !c->port; i++) {
        char *l = t_read(log, NULL);
        const char *at = l ? strstr(l, "listening on http://127.0.0.1:") : NULL;
        if (at) c->port = (int)strtol(at + strlen("listening on http://127.0.0.1:"), NULL, 10);
        free(l);
        if (waitpid(c->pid, NULL, WNOHANG) == c->pid) return -1;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    return c->port ? 0 : -1;
}

static void serve_stop(struct child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    c->pid = 0;
}

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    return buf_append(ud, p, sz * n) ? 0 : sz * n;
}

/* POST `body` as JSON to the local port; the answer's body into *out (caller frees). */
static long post(int port, const char *path, const char *body, char **out)
{
    struct buf b = {0};
    long status = 0;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char url[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    *out = b.data ? buf_steal(&b) : strdup("");
    return status;
}

/* serve --verifier: /v1/verify answers with the model's score and contradiction, the same record
 * as `vericite verify --json`. */
TEST(nnver_serve_verifier)
{
    if (!have_torch()) SKIP("python3-torch not installed (make deps)");
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct fix f;
    REQUIRE(fixture(t_, &f, "--labels entailment,neutral,contradiction --seed 11") == 0);
    const char *extra[] = {"--offline", "--suggest", "none", "--verifier", f.model, NULL};
    struct child c = {0};
    REQUIRE(serve_start(t_, &c, f.ix, extra) == 0);
    json_t *rq = json_pack("{s:s, s:s}", "claim", claims[1], "source", docs[1][0]);
    char *body = json_dumps(rq, JSON_COMPACT), *ans = NULL;
    long st = post(c.port, "/v1/verify", body, &ans);
    serve_stop(&c);
    free(body);
    json_decref(rq);
    CHECK(st == 200);
    json_t *o = json_loads(ans, 0, NULL);
    json_t *res = json_is_object(json_object_get(o, "result")) ? json_object_get(o, "result") : o;
    CHECK(json_is_number(json_object_get(res, "contradiction")));
    char *cli = NULL;
    REQUIRE(t_run(t_, &cli, NULL,
                  "verify --db '%s' --offline --suggest none --json --verifier '%s' --claim '%s' "
                  "--source '%s'",
                  f.ix, f.model, claims[1], docs[1][0]) == 0);
    json_t *co = json_loads(cli, 0, NULL);
    CHECK(fabs(json_number_value(json_object_get(co, "score")) -
               json_number_value(json_object_get(res, "score"))) < 1e-9);
    CHECK(!strcmp(t_json_str(co, "evidence"), t_json_str(res, "evidence")));
    if (!json_is_number(json_object_get(res, "contradiction")))
        fprintf(stderr, "  serve answered: %s\n", ans);
    json_decref(co);
    json_decref(o);
    free(cli);
    free(ans);
}

/* ---------------------------------------------------------------- the judge */

enum judge_mode { J_GOOD, J_MALFORMED, J_429_THEN_GOOD };

struct judge_srv {
    pthread_mutex_t mu;
    enum judge_mode mode;
    char auth[200];
    struct buf last; /* the last request body */
};

static void judge_handler(void *ud, const struct th_request *rq, struct th_response *rs)
{
    struct judge_srv *j = ud;
    pthread_mutex_lock(&j->mu);
    th_header(rq, "Authorization", j->auth, sizeof j->auth);
    buf_reset(&j->last);
    buf_append(&j->last, rq->body, rq->body_len);
    enum judge_mode m = j->mode;
    pthread_mutex_unlock(&j->mu);
    if (m == J_429_THEN_GOOD && rq->seq == 0) {
        rs->status = 429;
        snprintf(rs->headers, sizeof rs->headers, "Retry-After: 0\r\n");
        buf_puts(&rs->body, "{\"error\": \"slow down\"}");
        return;
    }
    const char *content =
        m == J_MALFORMED
            ? "Sure! I think the source supports it."
            : "{\"verdict\": \"contradicted\", \"evidence\": \"Cats sleep for most of the day.\"}";
    json_t *o = json_pack("{s:s, s:[{s:i, s:{s:s, s:s}}]}", "object", "chat.completion", "choices",
                          "index", 0, "message", "role", "assistant", "content", content);
    char *s = json_dumps(o, JSON_COMPACT);
    buf_puts(&rs->body, s);
    free(s);
    json_decref(o);
}

/* verify --judge-url: the judge's verdict replaces the verifier's, its evidence is kept, the key
 * comes from $VERICITE_JUDGE_KEY as a bearer token and never shows in the output; the question
 * names the claim and the model. A malformed answer is a classified failure: the verifier's
 * verdict stands. */
TEST(nnver_judge_verdict_and_malformed)
{
    struct judge_srv j = {.mu = PTHREAD_MUTEX_INITIALIZER, .mode = J_GOOD};
    struct th_server *srv = NULL;
    REQUIRE(th_start(&srv, judge_handler, &j) == 0);
    const char *dir = t_tmpdir(t_);
    const char *src = t_write(t_, dir, "src.txt", docs[2][2], strlen(docs[2][2]));
    static const char corpus[] =
        "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated text.\"}\n";
    const char *cp = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    char ix[700], url[200];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(src && cp &&
            t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, cp) == 0);
    th_url(srv, "/v1", url, sizeof url);
    setenv(VER_JUDGE_KEY_ENV, "sekrit-key", 1);
    char *out = NULL, *errs = NULL, *lex = NULL;
    int rc = t_run(t_, &out, &errs,
                   "verify --db '%s' --offline --suggest none --json --claim '%s' --source '%s' "
                   "--judge-url '%s' "
                   "--judge-model tiny-judge --allow-host 127.0.0.1:%d",
                   ix, claims[2], src, url, th_port(srv));
    CHECK(rc == 0 || rc == 3);
    json_t *o = json_loads(out ? out : "", 0, NULL);
    json_t *jd = json_object_get(o, "judge");
    CHECK(!strcmp(t_json_str(o, "verdict"), "contradicted"));
    CHECK(!strcmp(t_json_str(jd, "verdict"), "contradicted"));
    CHECK(!strcmp(t_json_str(jd, "evidence"), "Cats sleep for most of the day."));
    CHECK(t_contains(t_json_str(o, "detail"),
                     "the judge finds that the source contradicts the claim"));
    pthread_mutex_lock(&j.mu);
    CHECK(!strcmp(j.auth, "Bearer sekrit-key"));
    json_t *q = json_loads(j.last.data ? j.last.data : "", 0, NULL);
    pthread_mutex_unlock(&j.mu);
    CHECK(!strcmp(t_json_str(q, "model"), "tiny-judge"));
    json_t *msgs = json_object_get(q, "messages");
    CHECK(json_array_size(msgs) == 2 &&
          t_contains(t_json_str(json_array_get(msgs, 1), "content"), claims[2]) &&
          t_contains(t_json_str(json_array_get(msgs, 1), "content"), "afternoon sun"));
    CHECK(!t_contains(out, "sekrit") && !t_contains(errs, "sekrit"));
    json_decref(q);
    json_decref(o);
    free(out);
    free(errs);
    /* malformed: the lexical verdict stands, the failure is classified */
    pthread_mutex_lock(&j.mu);
    j.mode = J_MALFORMED;
    pthread_mutex_unlock(&j.mu);
    rc = t_run(t_, &out, &errs,
               "verify --db '%s' --offline --suggest none --json --claim '%s' --source '%s' "
               "--judge-url '%s' "
               "--allow-host 127.0.0.1:%d",
               ix, claims[2], src, url, th_port(srv));
    REQUIRE(t_run(t_, &lex, NULL,
                  "verify --db '%s' --offline --suggest none --json --claim '%s' --source '%s'", ix,
                  claims[2], src) >= 0);
    o = json_loads(out ? out : "", 0, NULL);
    json_t *lo = json_loads(lex ? lex : "", 0, NULL);
    jd = json_object_get(o, "judge");
    CHECK(!strcmp(t_json_str(jd, "verdict"), "failed") &&
          !strcmp(t_json_str(jd, "failure"), "malformed"));
    CHECK(t_contains(t_json_str(jd, "message"), "not one JSON object"));
    CHECK(!strcmp(t_json_str(o, "verdict"), t_json_str(lo, "verdict")));
    CHECK(t_contains(errs, "judge") && t_contains(errs, "malformed"));
    json_decref(o);
    json_decref(lo);
    free(out);
    free(errs);
    free(lex);
    unsetenv(VER_JUDGE_KEY_ENV);
    th_stop(srv);
    buf_cleanup(&j.last);
}

/* The judge client: a 429 is retried (after Retry-After) and the second answer counts; a judge
 * on a loopback address is refused by the guard without allow_private (nothing is sent), with a
 * hint; the answer reader accepts only the strict verdict object. */
TEST(nnver_judge_retry_guard_parse)
{
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct judge_srv j = {.mu = PTHREAD_MUTEX_INITIALIZER, .mode = J_429_THEN_GOOD};
    struct th_server *srv = NULL;
    REQUIRE(th_start(&srv, judge_handler, &j) == 0);
    char url[200], host[64];
    th_url(srv, "", url, sizeof url);
    snprintf(host, sizeof host, "127.0.0.1:%d", th_port(srv));
    const char *hosts[] = {host, NULL};
    struct err err = {0};
    struct ver_judge *jg = NULL;
    struct ver_judge_opts o = {.url = url, .allow_hosts = hosts, .backoff_base_ms = 10};
    REQUIRE_OK(ver_judge_new(&jg, &o, &err), err);
    CHECK(t_contains(ver_judge_endpoint(jg), "/v1/chat/completions"));
    struct ver_judge_answer a;
    REQUIRE_OK(ver_judge_ask(jg, claims[2], docs[2][2], strlen(docs[2][2]), 0, 10, &a, &err), err);
    CHECK(a.ok && a.verdict == VER_JUDGE_CONTRADICTED && a.attempts == 2);
    CHECK(th_requests(srv) == 2);
    ver_judge_free(jg);
    /* the guard */
    struct ver_judge_opts g = {.url = url};
    REQUIRE_OK(ver_judge_new(&jg, &g, &err), err);
    REQUIRE_OK(ver_judge_ask(jg, claims[2], docs[2][2], strlen(docs[2][2]), 0, 10, &a, &err), err);
    CHECK(!a.ok && !strcmp(a.fail, "blocked") && t_contains(a.message, "--allow-private"));
    CHECK(th_requests(srv) == 2);
    ver_judge_free(jg);
    th_stop(srv);
    buf_cleanup(&j.last);
    /* the reader */
    static const struct {
        const char *content; /* NULL: the body below as is */
        const char *body;
        int ok;
        const char *fail;
    } cases[] = {
        {"{\"verdict\": \"partial\", \"evidence\": \"x\"}", NULL, 1, ""},
        {"  {\"evidence\": \"\", \"verdict\": \"supported\"}\n", NULL, 1, ""},
        {"{\"verdict\": \"maybe\", \"evidence\": \"x\"}", NULL, 0, "malformed"},
        {"{\"verdict\": \"supported\"}", NULL, 0, "malformed"},
        {"{\"verdict\": \"supported\", \"evidence\": \"x\", \"confidence\": 0.9}", NULL, 0,
         "malformed"},
        {"```json\n{\"verdict\": \"supported\", \"evidence\": \"x\"}\n```", NULL, 0, "malformed"},
        {"{\"verdict\": \"supported\", \"evidence\": 3}", NULL, 0, "malformed"},
        {NULL, "not json", 0, "bad-answer"},
        {NULL, "{\"choices\": []}", 0, "bad-answer"},
        {NULL, "{\"choices\": [{\"message\": {\"content\": null}}]}", 0, "bad-answer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = NULL;
        if (cases[i].content) {
            json_t *b =
                json_pack("{s:[{s:{s:s}}]}", "choices", "message", "content", cases[i].content);
            body = json_dumps(b, JSON_COMPACT);
            json_decref(b);
        }
        const char *bs = body ? body : cases[i].body;
        ver_judge_parse(bs, strlen(bs), &a);
        if (a.ok != cases[i].ok || strcmp(a.fail, cases[i].fail))
            fprintf(stderr, "  case %zu: ok %d fail '%s' (%s)\n", i, a.ok, a.fail, a.message);
        CHECK(a.ok == cases[i].ok && !strcmp(a.fail, cases[i].fail));
        free(body);
    }
    ver_judge_parse(
        "{\"choices\": [{\"message\": {\"content\": \"{\\\"verdict\\\": \\\"unsupported\\\", "
        "\\\"evidence\\\": \\\"q\\\"}\"}}]}",
        strlen(
            "{\"choices\": [{\"message\": {\"content\": \"{\\\"verdict\\\": \\\"unsupported\\\", "
            "\\\"evidence\\\": \\\"q\\\"}\"}}]}"),
        &a);
    CHECK(a.ok && a.verdict == VER_JUDGE_UNSUPPORTED && !strcmp(a.evidence, "q"));
}

/* audit --jobs with --judge-url: the records carry the judge's answer, and the store key holds
 * the judge's identity: the same judge skips a stored article, another judge model audits it
 * again. */
TEST(nnver_judge_batch_key)
{
    struct judge_srv j = {.mu = PTHREAD_MUTEX_INITIALIZER, .mode = J_GOOD};
    struct th_server *srv = NULL;
    REQUIRE(th_start(&srv, judge_handler, &j) == 0);
    const char *dir = t_tmpdir(t_);
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "_id", "cats", "title", "Cats", "url", docs[2][0],
                          "text", docs[2][2]);
    json_t *l = json_pack("{s:s, s:s}", "claim", claims[2], "url", docs[2][0]);
    char *ds = json_dumps(d, JSON_COMPACT), *ls = json_dumps(l, JSON_COMPACT);
    json_decref(d), json_decref(l);
    const char *cp = t_write(t_, dir, "c.jsonl", ds, strlen(ds));
    const char *ap = t_write(t_, dir, "arts/one.jsonl", ls, strlen(ls));
    free(ds), free(ls);
    char ix[700], url[200], arts[800];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(arts, sizeof arts, "%s/arts", dir);
    th_url(srv, "/v1/chat/completions", url, sizeof url);
    REQUIRE(cp && ap &&
            t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, cp) == 0);
    static const struct {
        const char *model, *want;
    } runs[] = {{"judge-a", "1 article audited, 0 already done"},
                {"judge-a", "0 articles audited, 1 already done"},
                {"judge-b", "1 article audited, 0 already done"}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        char *out = NULL, *errs = NULL;
        int rc = t_run(t_, &out, &errs,
                       "audit --db '%s' --offline --suggest none --jobs 1 --json --judge-url '%s' "
                       "--judge-model %s --allow-host 127.0.0.1:%d '%s'",
                       ix, url, runs[r].model, th_port(srv), arts);
        CHECK(rc == 0);
        if (!t_contains(errs, runs[r].want))
            fprintf(stderr, "  run %zu: %s (want %s)\n", r, errs, runs[r].want);
        CHECK(t_contains(errs, runs[r].want));
        json_t *o = json_loads(out ? out : "", 0, NULL);
        CHECK(!strcmp(t_json_str(o, "verdict"), "contradicted"));
        CHECK(!strcmp(t_json_str(json_object_get(o, "judge"), "verdict"), "contradicted"));
        json_decref(o);
        free(out);
        free(errs);
    }
    CHECK(th_requests(srv) == 2); /* the skipped run asked nothing */
    th_stop(srv);
    buf_cleanup(&j.last);
}
