/* test_serve.c - `vericite serve` end to end: the server runs as a child process on 127.0.0.1
 * (port 0) over a small index and is talked to with libcurl. It must answer with exactly the
 * CLI's --json objects, turn every kind of bad request into a JSON 4xx and stay up, apply the
 * fetch guard, drop idle clients, and on SIGTERM finish the requests in flight and exit 0. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "test.h"
#include "testhttp.h"

/* ---------------------------------------------------------------- the server child */

struct srv {
    pid_t pid;   /* 0 once reaped */
    int port;
    int status;  /* after reaping: exit status (0-255), or -1 when killed by a signal */
    char log[600];
};

static void srv_reaped(struct srv *s, int st)
{
    s->pid = 0;
    s->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Start `vericite serve --db ix --listen 127.0.0.1:0 EXTRA...` with stderr in DIR/NAME.log and wait
 * (up to 15 s) for its "listening on" line; `nofile` > 0 starts it with that soft open-file limit
 * (as a default `ulimit -n` of 1024 would). Returns 0, or -1 (the child is gone then). */
static int srv_start_nofile(struct test_ctx *t_, struct srv *s, const char *name, const char *ix,
                            const char *const *extra, int nofile)
{
    const char *dir = t_tmpdir(t_);
    memset(s, 0, sizeof *s);
    snprintf(s->log, sizeof s->log, "%s/%s.log", dir, name);
    const char *bin = getenv("VERICITE_BIN");
    if (!bin || !*bin) bin = "./vericite";
    const char *argv[32] = {bin, "serve", "--db", ix, "--listen", "127.0.0.1:0"};
    int n = 6;
    for (int i = 0; extra && extra[i] && n < 31; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int lf = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDWR);
        if (lf < 0 || nul < 0) _exit(127);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(lf, 2);
        struct rlimit rl;
        if (nofile > 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
            rl.rlim_cur = (rlim_t)nofile;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 1500; i++) {
        char *log = t_read(s->log, NULL);
        const char *at = log ? strstr(log, "listening on http://127.0.0.1:") : NULL;
        if (at) s->port = (int)strtol(at + strlen("listening on http://127.0.0.1:"), NULL, 10);
        free(log);
        if (s->port > 0) return 0;
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            srv_reaped(s, st);
            return -1;
        }
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->pid = 0;
    return -1;
}

static int srv_start(struct test_ctx *t_, struct srv *s, const char *name, const char *ix,
                     const char *const *extra)
{
    return srv_start_nofile(t_, s, name, ix, extra, 0);
}

/* Wait up to `ms` for the child to end. Returns its exit status (0-255), -2 when it is still
 * running (then it is killed), or -1 when it died from a signal. */
static int srv_wait(struct srv *s, int ms)
{
    if (s->pid <= 0) return s->status;
    int st = 0;
    for (int i = 0; i <= ms / 10; i++) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            srv_reaped(s, st);
            return s->status;
        }
        sleep_ms(10);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    s->status = -1;
    return -2;
}

/* End the child whatever its state (every test path calls this). */
static void srv_kill(struct srv *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

static int srv_alive(struct srv *s)
{
    int st = 0;
    if (s->pid <= 0) return 0;
    if (waitpid(s->pid, &st, WNOHANG) != s->pid) return 1;
    srv_reaped(s, st);
    return 0;
}

/* ---------------------------------------------------------------- HTTP with libcurl */

struct resp {
    long status;
    struct buf body, head;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    return buf_append(ud, p, sz * n) ? 0 : sz * n;
}

struct upload {
    const char *data;
    size_t len, at;
};

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t k = sz * n < u->len - u->at ? sz * n : u->len - u->at;
    memcpy(p, u->data + u->at, k);
    u->at += k;
    return k;
}

/* One request; ctype NULL sends no Content-Type; chunked sends the body without a length.
 * Returns the status (0 when the request failed); r->body and r->head are filled (caller cleans). */
static long http(int port, const char *method, const char *path, const char *ctype, const char *body,
                 size_t len, int chunked, struct resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    if (!c) return 0;
    char url[256], ct[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *h = NULL;
    snprintf(ct, sizeof ct, "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
    h = curl_slist_append(h, ct);
    if (chunked) h = curl_slist_append(h, "Transfer-Encoding: chunked");
    struct upload u = {body, len, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->head);
    if (body && chunked) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &u);
    } else if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, body ? "POST" : "GET")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r->status;
}

static void resp_cleanup(struct resp *r)
{
    buf_cleanup(&r->body);
    buf_cleanup(&r->head);
}

/* POST a JSON body; returns the parsed response (NULL when not JSON) and the status in *status. */
static json_t *post_json(int port, const char *path, json_t *req, long *status)
{
    char *s = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct resp r = {0};
    *status = s ? http(port, "POST", path, "application/json", s, strlen(s), 0, &r) : 0;
    free(s);
    json_t *o = r.body.data ? json_loads(r.body.data, 0, NULL) : NULL;
    resp_cleanup(&r);
    return o;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* ---------------------------------------------------------------- the fixture */

static const char corpus_jsonl[] =
    "{\"_id\": \"d1\", \"title\": \"Aletsch Glacier\", \"url\": \"https://example.org/aletsch\", \"text\": "
    "\"The Aletsch Glacier is the largest glacier in the Alps. It lost about 1.3 kilometres of length "
    "between 1980 and 2020 as summer temperatures rose.\"}\n"
    "{\"_id\": \"d2\", \"title\": \"Write-ahead logging\", \"url\": \"https://example.org/wal\", \"text\": "
    "\"Write-ahead logging lets readers and writers run concurrently in SQLite. Readers do not block "
    "writers and a writer does not block readers.\"}\n"
    "{\"_id\": \"d3\", \"title\": \"Vitamin D\", \"url\": \"https://example.org/vitd\", \"text\": "
    "\"Vitamin D deficiency is associated with a higher risk of multiple sclerosis in several large "
    "cohort studies of adults.\"}\n"
    "{\"_id\": \"d4\", \"title\": \"Rhine\", \"url\": \"https://example.org/rhine\", \"text\": "
    "\"The Rhine rises in the Swiss Alps and flows into the North Sea near Rotterdam.\"}\n";

/* The article: ref 1 supported by its corpus source, ref 2 cites the wrong corpus page. */
static const char article[] =
    "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020."
    "<ref>{{cite web |url=https://example.org/aletsch |title=Glacier report}}</ref>\n\n"
    "Vitamin D deficiency is associated with a higher risk of multiple sclerosis."
    "<ref>{{cite web |url=https://example.org/wal |title=WAL}}</ref>\n";

/* Build the index in DIR/ix; returns its path (static per test case) or NULL. */
static const char *make_index(struct test_ctx *t_, char *ix, size_t n)
{
    const char *dir = t_tmpdir(t_);
    const char *c = t_write(t_, dir, "c.jsonl", corpus_jsonl, strlen(corpus_jsonl));
    if (!c) return NULL;
    snprintf(ix, n, "%s/ix", dir);
    if (t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) != 0) return NULL;
    return ix;
}

/* ---------------------------------------------------------------- the API answers like the CLI */

/* /healthz, /v1/stats and /v1/search answer as the CLI's --json. */
static void api_checks(struct test_ctx *t_, struct srv *s, const char *ix)
{
    struct resp r;
    REQUIRE(http(s->port, "GET", "/healthz", NULL, NULL, 0, 0, &r) == 200);
    json_t *o = json_loads(r.body.data, 0, NULL), *want = json_pack("{s:s}", "status", "ok");
    CHECK(json_equal(o, want));
    CHECK(t_contains(r.head.data, "Content-Type: application/json"));
    json_decref(o);
    json_decref(want);
    resp_cleanup(&r);

    /* stats: the object of `vericite stats --json` */
    char *out = NULL;
    REQUIRE(t_run(t_, &out, NULL, "stats --db '%s' --json", ix) == 0);
    want = json_loads(out, 0, NULL);
    free(out);
    REQUIRE(http(s->port, "GET", "/v1/stats", NULL, NULL, 0, 0, &r) == 200);
    o = json_loads(r.body.data, 0, NULL);
    resp_cleanup(&r);
    CHECK(want && json_integer_value(json_object_get(want, "documents")) == 4);
    CHECK(json_equal(o, want));
    json_decref(o);
    json_decref(want);

    /* search: the hits of `vericite search --json`, for several k and modes */
    static const struct {
        const char *query, *mode;
        int k;
        int min_hits;
    } qs[] = {{"glacier length in the Alps", "bm25", 2, 2},
              {"readers and writers run concurrently", "fts5", 3, 1},
              {"Vitamin D and multiple sclerosis", NULL, 0, 1}};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        char opts[64] = "";
        if (qs[i].k) snprintf(opts, sizeof opts, "-k %d ", qs[i].k);
        if (qs[i].mode) snprintf(opts + strlen(opts), sizeof opts - strlen(opts), "--mode %s", qs[i].mode);
        REQUIRE(t_run(t_, &out, NULL, "search --db '%s' --json %s '%s'", ix, opts, qs[i].query) == 0);
        want = json_loads(out, 0, NULL);
        free(out);
        json_t *req = json_pack("{s:s}", "query", qs[i].query);
        if (qs[i].k) json_object_set_new(req, "k", json_integer(qs[i].k));
        if (qs[i].mode) json_object_set_new(req, "mode", json_string(qs[i].mode));
        long st;
        o = post_json(s->port, "/v1/search", req, &st);
        CHECK(st == 200);
        CHECK(want && json_array_size(json_object_get(want, "hits")) >= (size_t)qs[i].min_hits);
        if (!json_equal(o, want)) {
            fprintf(stderr, "  search '%s': the API and the CLI differ\n", qs[i].query);
            t_->failed = 1;
        }
        json_decref(o);
        json_decref(want);
    }

}

/* /v1/verify: a text source answers as `vericite verify --json`; an attribute-heavy page within
 * the HTML budget; an unsupported claim gets the corpus page suggested. */
static void api_checks_verify(struct test_ctx *t_, struct srv *s, const char *ix)
{
    const char *dir = t_tmpdir(t_);
    char *out = NULL;
    json_t *o, *want;
    /* verify with a text source: the CLI's object (the CLI puts the file name in "url") */
    const char *claim = "Write-ahead logging lets readers and writers run concurrently.";
    static const char src[] = "<p>In SQLite, write-ahead logging lets readers and writers run concurrently: "
                              "readers do not block writers.</p>";
    const char *sf = t_write(t_, dir, "src.html", src, strlen(src));
    REQUIRE(t_run(t_, &out, NULL, "verify --db '%s' --json --claim '%s' --source '%s'", ix, claim, sf) == 0);
    want = json_loads(out, 0, NULL);
    free(out);
    long st;
    o = post_json(s->port, "/v1/verify", json_pack("{s:s, s:s}", "claim", claim, "source", src), &st);
    CHECK(st == 200);
    CHECK(!strcmp(jstr(o, "verdict"), "supported") && !strcmp(jstr(o, "source"), "file"));
    CHECK(!strcmp(jstr(o, "url"), ""));
    json_object_del(o, "url");
    json_object_del(want, "url");
    CHECK(json_equal(o, want));
    json_decref(o);
    json_decref(want);

    /* an HTML source with 100,000 attributes on one element (a 1 MB body): answered, the text read
     * without them (the HTML parse budget, issue 12 #3) */
    struct buf big = {0};
    buf_puts(&big, "<p");
    for (int i = 0; i < 90000; i++) buf_printf(&big, " a%d", i);
    buf_puts(&big, ">In SQLite, write-ahead logging lets readers and writers run concurrently: readers do not "
                   "block writers.</p>");
    REQUIRE(big.data);
    o = post_json(s->port, "/v1/verify", json_pack("{s:s, s:s}", "claim", claim, "source", big.data), &st);
    buf_cleanup(&big);
    CHECK(st == 200 && !strcmp(jstr(o, "verdict"), "supported"));
    json_decref(o);

    /* a source that does not support the claim: unsupported, with the corpus page suggested */
    o = post_json(s->port, "/v1/verify",
                  json_pack("{s:s, s:s}", "claim",
                            "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.",
                            "source", "Bananas are yellow fruit grown in warm tropical countries."),
                  &st);
    CHECK(st == 200 && !strcmp(jstr(o, "verdict"), "unsupported"));
    json_t *sugg = json_array_get(json_object_get(o, "suggestions"), 0);
    CHECK(sugg && !strcmp(jstr(sugg, "doc_id"), "d1") && !strcmp(jstr(sugg, "url"), "https://example.org/aletsch"));
    json_decref(o);

}

/* /v1/audit answers as `vericite audit --json`; no citation is not an error. */
static void api_checks_audit(struct test_ctx *t_, struct srv *s, const char *ix)
{
    const char *dir = t_tmpdir(t_);
    char *out = NULL;
    json_t *o, *sugg;
    long st;
    /* audit: refs pointing at corpus URLs are resolved offline; results as `vericite audit --json` */
    const char *af = t_write(t_, dir, "Aletsch_Glacier.wiki", article, strlen(article));
    REQUIRE(t_run(t_, &out, NULL, "audit --db '%s' --json --offline '%s'", ix, af) == 0);
    json_t *cli = json_array();
    for (char *line = out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        json_t *x = json_loads(line, 0, NULL);
        if (x) json_array_append_new(cli, x);
        line = nl ? nl + 1 : NULL;
    }
    free(out);
    o = post_json(s->port, "/v1/audit",
                  json_pack("{s:s, s:s, s:s}", "text", article, "format", "wikitext", "title", "Aletsch Glacier"), &st);
    CHECK(st == 200);
    json_t *res = json_object_get(o, "results");
    REQUIRE(json_array_size(res) == 2 && json_array_size(cli) == 2);
    json_t *a0 = json_array_get(res, 0), *a1 = json_array_get(res, 1);
    CHECK(!strcmp(jstr(a0, "verdict"), "supported") && !strcmp(jstr(a0, "source"), "corpus"));
    CHECK(!strcmp(jstr(a1, "verdict"), "unsupported") && !strcmp(jstr(a1, "source"), "corpus"));
    sugg = json_array_get(json_object_get(a1, "suggestions"), 0);
    CHECK(sugg && !strcmp(jstr(sugg, "doc_id"), "d3"));
    for (size_t i = 0; i < 2; i++) {
        json_t *x = json_array_get(res, i), *y = json_array_get(cli, i);
        CHECK(!strcmp(jstr(x, "article"), ""));
        json_object_del(x, "article");
        json_object_del(y, "article");
        if (!json_equal(x, y)) {
            fprintf(stderr, "  audit result %zu: the API and the CLI differ\n", i);
            t_->failed = 1;
        }
    }
    json_decref(o);
    json_decref(cli);

    /* the audit format is detected when not given; no citation is not an error */
    o = post_json(s->port, "/v1/audit", json_pack("{s:s}", "text", "No citations here."), &st);
    CHECK(st == 200 && json_array_size(json_object_get(o, "results")) == 0);
    json_decref(o);
}

TEST(serve_api_matches_cli)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct srv s;
    if (srv_start(t_, &s, "serve", ix, NULL) != 0) {
        curl_global_cleanup();
        REQUIRE(!"the server did not start");
    }
    api_checks(t_, &s, ix);
    api_checks_verify(t_, &s, ix);
    api_checks_audit(t_, &s, ix);
    int alive = srv_alive(&s);
    /* a clean stop: exit 0 (under `make asan` also: no leak, no sanitizer report) */
    if (alive) kill(s.pid, SIGTERM);
    int st = srv_wait(&s, 10000);
    srv_kill(&s);
    curl_global_cleanup();
    CHECK(alive);
    CHECK(st == 0);
    /* one access-log line per request: time, client, method, path, status, bytes, ms */
    char *log = t_read(s.log, NULL);
    CHECK(t_contains(log, " 127.0.0.1 GET /healthz 200 16 "));
    CHECK(t_contains(log, " 127.0.0.1 POST /v1/audit 200 "));
    CHECK(t_contains(log, "ms\n"));
    free(log);
}

/* ---------------------------------------------------------------- bad requests */

static void bad_checks(struct test_ctx *t_, struct srv *s)
{
    static const struct {
        const char *method, *path, *ctype, *body;
        long want;
        const char *allow; /* expected in the Allow header (405) */
    } cases[] = {
        {"GET", "/nope", NULL, NULL, 404, NULL},
        {"GET", "/v1/searchx", NULL, NULL, 404, NULL},
        {"POST", "/healthz", "application/json", "{}", 405, "Allow: GET"},
        {"GET", "/v1/search", NULL, NULL, 405, "Allow: POST"},
        {"DELETE", "/v1/stats", NULL, NULL, 405, "Allow: GET"},
        {"PUT", "/v1/audit", "application/json", "{}", 405, "Allow: POST"},
        {"POST", "/v1/search", "text/plain", "{\"query\": \"glacier\"}", 415, NULL},
        {"POST", "/v1/search", NULL, "{\"query\": \"glacier\"}", 415, NULL},
        {"POST", "/v1/search", "application/jsonx", "{\"query\": \"glacier\"}", 415, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": ", 400, NULL},
        {"POST", "/v1/search", "application/json", "", 400, NULL},
        {"POST", "/v1/search", "application/json", "[\"glacier\"]", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"a\", \"query\": \"b\"}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"caf\xc3\"}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": 7}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"\"}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"glacier\", \"k\": 0}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"glacier\", \"k\": 1001}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"glacier\", \"k\": -5}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"glacier\", \"k\": \"5\"}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"glacier\", \"k\": 2.5}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"glacier\", \"mode\": \"magic\"}", 400, NULL},
        {"POST", "/v1/search", "application/json", "{\"query\": \"glacier\", \"mode\": \"dense\"}", 400, NULL},
        {"POST", "/v1/verify", "application/json", "{\"claim\": \"x\"}", 400, NULL},
        {"POST", "/v1/verify", "application/json", "{\"claim\": [], \"source\": \"y\"}", 400, NULL},
        {"POST", "/v1/audit", "application/json", "{\"format\": \"wikitext\"}", 400, NULL},
        {"POST", "/v1/audit", "application/json", "{\"text\": \"x\", \"format\": \"pdf\"}", 400, NULL},
        {"POST", "/v1/audit", "application/json", "{\"text\": \"x\", \"title\": 3}", 400, NULL},
        {"POST", "/v1/audit", "application/json", "{\"text\": \"{\\\"claim\\\": oops\", \"format\": \"claims\"}", 400, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp r;
        long st = http(s->port, cases[i].method, cases[i].path, cases[i].ctype, cases[i].body,
                       cases[i].body ? strlen(cases[i].body) : 0, 0, &r);
        json_t *o = r.body.data ? json_loads(r.body.data, 0, NULL) : NULL;
        int ok = st == cases[i].want && o && json_object_size(o) == 1 && jstr(o, "error")[0] &&
                 (!cases[i].allow || t_contains(r.head.data, cases[i].allow));
        if (!ok) {
            fprintf(stderr, "  case %zu (%s %s %s): status %ld (want %ld), body %s\n", i, cases[i].method,
                    cases[i].path, cases[i].body ? cases[i].body : "", st, cases[i].want,
                    r.body.data ? r.body.data : "(none)");
            t_->failed = 1;
        }
        json_decref(o);
        resp_cleanup(&r);
    }

    /* the body limit (--max-body 4K): declared length and chunked, and a body just under it */
    struct buf big = {0};
    buf_puts(&big, "{\"query\": \"");
    while (big.len < 8000) buf_puts(&big, "glacier ");
    buf_puts(&big, "\"}");
    for (int chunked = 0; chunked < 2; chunked++) {
        struct resp r;
        long st = http(s->port, "POST", "/v1/search", "application/json", big.data, big.len, chunked, &r);
        CHECK(st == 413);
        CHECK(t_contains(r.body.data, "\"error\""));
        resp_cleanup(&r);
    }
    buf_reset(&big);
    buf_puts(&big, "{\"query\": \"");
    while (big.len < 3900) buf_puts(&big, "glacier ");
    buf_puts(&big, "\"}");
    struct resp r;
    CHECK(http(s->port, "POST", "/v1/search", "application/json", big.data, big.len, 1, &r) == 200);
    CHECK(t_contains(r.body.data, "\"doc_id\":\"d1\""));
    resp_cleanup(&r);
    buf_cleanup(&big);

    /* HEAD works where GET does; the server is still up */
    CHECK(http(s->port, "HEAD", "/healthz", NULL, NULL, 0, 0, &r) == 200);
    resp_cleanup(&r);
    CHECK(http(s->port, "GET", "/healthz", NULL, NULL, 0, 0, &r) == 200);
    CHECK(t_contains(r.body.data, "\"ok\""));
    resp_cleanup(&r);
}

TEST(serve_bad_requests)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct srv s;
    const char *extra[] = {"--max-body", "4K", "--threads", "2", NULL};
    if (srv_start(t_, &s, "serve", ix, extra) != 0) {
        curl_global_cleanup();
        REQUIRE(!"the server did not start");
    }
    bad_checks(t_, &s);
    int alive = srv_alive(&s);
    if (alive) kill(s.pid, SIGTERM);
    int st = srv_wait(&s, 10000);
    srv_kill(&s);
    CHECK(alive);
    CHECK(st == 0);
    curl_global_cleanup();
    char *log = t_read(s.log, NULL);
    CHECK(t_contains(log, " POST /v1/search 413 "));
    CHECK(t_contains(log, " DELETE /v1/stats 405 "));
    free(log);

    /* bad command lines fail before listening */
    CHECK(t_run(t_, NULL, NULL, "serve --db '%s' --listen nowhere", ix) == 2);
    CHECK(t_run(t_, NULL, NULL, "serve --db '%s' --max-body 10", ix) == 2);
    CHECK(t_run(t_, NULL, NULL, "serve --db '%s/missing' --listen 127.0.0.1:0", ix) == 1);
    char *help = NULL;
    CHECK(t_run(t_, &help, NULL, "serve --help") == 0 && t_contains(help, "curl") && t_contains(help, "/v1/audit"));
    free(help);
}

/* ---------------------------------------------------------------- the fetch guard, no cache writes */

static const char page_html[] =
    "<html><head><title>Glacier report</title></head><body>"
    "<p>The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.</p>"
    "<p>Scientists attribute the retreat to rising summer temperatures in the Alps.</p></body></html>";

static void page_handler(void *ud, const struct th_request *rq, struct th_response *rs)
{
    (void)ud;
    snprintf(rs->ctype, sizeof rs->ctype, "text/html");
    buf_puts(&rs->body, page_html);
    if (!strcmp(rq->target, "/slow")) rs->delay_ms = 1500;
}

static const char glacier_claim[] = "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.";

static void guard_checks(struct test_ctx *t_, struct srv *guarded, struct srv *open_srv, struct th_server *web)
{
    char url[128];
    th_url(web, "/page", url, sizeof url);
    long st;
    json_t *o = post_json(guarded->port, "/v1/verify", json_pack("{s:s, s:s}", "claim", glacier_claim, "source", url), &st);
    CHECK(st == 200 && !strcmp(jstr(o, "verdict"), "unreachable") && t_contains(jstr(o, "detail"), "refused"));
    json_decref(o);
    CHECK(th_requests(web) == 0);
    /* allowed: fetched from the web each time (a read-only index caches nothing, and that is fine) */
    for (int i = 0; i < 2; i++) {
        o = post_json(open_srv->port, "/v1/verify", json_pack("{s:s, s:s}", "claim", glacier_claim, "source", url), &st);
        CHECK(st == 200 && !strcmp(jstr(o, "verdict"), "supported") && !strcmp(jstr(o, "source"), "web"));
        CHECK(!strcmp(jstr(o, "url"), url));
        json_decref(o);
    }
    CHECK(th_requests(web) == 2);
}

TEST(serve_fetch_guard)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    struct th_server *web = NULL;
    REQUIRE(th_start(&web, page_handler, NULL) == 0);
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct srv a = {0}, b = {0};
    const char *extra[] = {"--allow-private", NULL};
    int up = srv_start(t_, &a, "guarded", ix, NULL) == 0 && srv_start(t_, &b, "open", ix, extra) == 0;
    if (up) guard_checks(t_, &a, &b, web);
    CHECK(up);
    if (up) {
        kill(a.pid, SIGTERM);
        kill(b.pid, SIGTERM);
        CHECK(srv_wait(&a, 10000) == 0 && srv_wait(&b, 10000) == 0);
    }
    srv_kill(&a);
    srv_kill(&b);
    curl_global_cleanup();
    th_stop(web);
}

/* ---------------------------------------------------------------- slow clients, SIGTERM */

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read until the peer closes (or 10 s pass) into out. */
static void recv_all(int fd, struct buf *out)
{
    char chunk[4096];
    ssize_t r;
    while ((r = recv(fd, chunk, sizeof chunk, 0)) > 0) buf_append(out, chunk, (size_t)r);
}

static void drain_checks(struct test_ctx *t_, struct srv *s)
{
    /* a request whose body is still arriving when SIGTERM comes */
    static const char body[] = "{\"query\": \"glacier length in the Alps\", \"k\": 1}";
    char head[256];
    snprintf(head, sizeof head,
             "POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    int fd = connect_port(s->port);
    REQUIRE(fd >= 0);
    char first[32];
    snprintf(first, sizeof first, "%.20s", body);
    if (send_all(fd, head) || send_all(fd, first)) {
        close(fd);
        REQUIRE(!"send");
    }
    sleep_ms(300);
    kill(s->pid, SIGTERM);
    sleep_ms(300);
    CHECK(srv_alive(s)); /* waiting for us */
    int fd2 = connect_port(s->port);
    CHECK(fd2 < 0); /* no longer accepting */
    if (fd2 >= 0) close(fd2);
    struct buf got = {0};
    if (send_all(fd, body + 20) == 0) recv_all(fd, &got);
    close(fd);
    CHECK(got.data && !strncmp(got.data, "HTTP/1.1 200", 12));
    CHECK(t_contains(got.data, "\"doc_id\":\"d1\""));
    CHECK(t_contains(got.data, "Connection: close"));
    buf_cleanup(&got);
    CHECK(srv_wait(s, 10000) == 0);
}

TEST(serve_sigterm_drains)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    struct srv s;
    REQUIRE(srv_start(t_, &s, "serve", ix, NULL) == 0);
    drain_checks(t_, &s);
    srv_kill(&s);
    char *log = t_read(s.log, NULL);
    CHECK(t_contains(log, " POST /v1/search 200 "));
    CHECK(t_contains(log, "stopped\n") && !t_contains(log, "did not finish"));
    free(log);

    /* a request busy in its handler (a slow cited page) when SIGTERM comes */
    struct th_server *web = NULL;
    REQUIRE(th_start(&web, page_handler, NULL) == 0);
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    const char *extra[] = {"--allow-private", NULL};
    int up = srv_start(t_, &s, "serve2", ix, extra) == 0;
    pid_t killer = -1;
    if (up) {
        killer = fork();
        if (killer == 0) {
            sleep_ms(400);
            kill(s.pid, SIGTERM);
            _exit(0);
        }
        char url[128];
        th_url(web, "/slow", url, sizeof url);
        long st;
        double t0 = (double)time(NULL);
        json_t *o = post_json(s.port, "/v1/verify", json_pack("{s:s, s:s}", "claim", glacier_claim, "source", url), &st);
        CHECK(st == 200 && !strcmp(jstr(o, "verdict"), "supported") && !strcmp(jstr(o, "source"), "web"));
        CHECK((double)time(NULL) - t0 >= 1);
        json_decref(o);
        CHECK(srv_wait(&s, 10000) == 0);
    }
    CHECK(up);
    if (killer > 0) waitpid(killer, NULL, 0);
    srv_kill(&s);
    curl_global_cleanup();
    th_stop(web);

    /* a second signal does not wait for a stalled client */
    REQUIRE(srv_start(t_, &s, "serve3", ix, NULL) == 0);
    int fd = connect_port(s.port);
    int sent = fd >= 0 && send_all(fd, "POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                       "Content-Length: 100\r\n\r\n{\"query\"") == 0;
    sleep_ms(300);
    kill(s.pid, SIGTERM);
    sleep_ms(300);
    int waiting = srv_alive(&s);
    kill(s.pid, SIGINT);
    CHECK(sent && waiting);
    CHECK(srv_wait(&s, 3000) == 0);
    if (fd >= 0) close(fd);
    srv_kill(&s);
    log = t_read(s.log, NULL);
    CHECK(t_contains(log, "second signal"));
    free(log);
}

TEST(serve_idle_client_timeout)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    struct srv s;
    const char *extra[] = {"--timeout", "1", NULL};
    REQUIRE(srv_start(t_, &s, "serve", ix, extra) == 0);
    int fd = connect_port(s.port);
    int sent = fd >= 0 && send_all(fd, "POST /v1/search HTTP/1.1\r\nHost: x\r\n") == 0;
    time_t t0 = time(NULL);
    struct buf got = {0};
    if (sent) recv_all(fd, &got); /* the server closes the half-sent request */
    time_t el = time(NULL) - t0;
    if (fd >= 0) close(fd);
    CHECK(sent);
    CHECK(el >= 1 && el <= 5);
    buf_cleanup(&got);
    struct resp r = {0};
    /* and keeps serving others */
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    CHECK(http(s.port, "GET", "/healthz", NULL, NULL, 0, 0, &r) == 200);
    resp_cleanup(&r);
    curl_global_cleanup();
    srv_kill(&s);
}

/* ---------------------------------------------------------------- hostile clients (issue 12) */

/* A connection to 127.0.0.1:port from the loopback address `from` (127.x.y.z: each is another
 * client to the server), non-blocking; -1 on failure. */
/* 1 when the service's log at `path` shows `line` within ms (a request is logged when its
 * connection ends, which may come after the client has its answer). */
static int log_shows(const char *path, const char *line, int ms)
{
    for (int waited = 0;; waited += 20) {
        char *log = t_read(path, NULL);
        int has = t_contains(log, line);
        free(log);
        if (has || waited >= ms) return has;
        sleep_ms(20);
    }
}

static int connect_from(int port, const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_in src = {.sin_family = AF_INET}, sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (inet_pton(AF_INET, from, &src.sin_addr) != 1 || bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    struct pollfd pf = {fd, POLLOUT, 0};
    if (poll(&pf, 1, 5000) != 1) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 when the server closed `fd` (end of stream or reset) within `ms`, 0 when it is still open. */
static int closed_within(int fd, int ms)
{
    struct pollfd pf = {fd, POLLIN, 0};
    char c[256];
    for (int waited = 0; waited <= ms; waited += 50) {
        if (poll(&pf, 1, 50) == 1) {
            ssize_t r = recv(fd, c, sizeof c, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return 1;
        }
    }
    return 0;
}

#define SLOW_CLIENTS 1100
#define SLOW_PER_IP 16

/* Slowloris: 1,100 connections from 69 client addresses trickle header bytes while /healthz
 * answers every probe; a client over --max-per-ip is refused at once; and a header that keeps
 * trickling but is not complete within --header-timeout is closed, although every byte would
 * reset the idle --timeout. The server starts with a soft open-file limit of 1024 (a common
 * default), which used to leave it unable to accept anything once about 1,000 slow clients
 * held a descriptor each. */
TEST(serve_slow_clients)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    struct srv s;
    const char *extra[] = {"--header-timeout", "3", "--max-per-ip", "16", "--threads", "2", NULL};
    REQUIRE(srv_start_nofile(t_, &s, "serve", ix, extra, 1024) == 0);
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    /* over --max-per-ip: of 17 connections from one address one is closed at once (whichever
     * the server's threads accept last); another address still gets in */
    int same[SLOW_PER_IP + 1], n_same = 0;
    for (; n_same < SLOW_PER_IP + 1; n_same++)
        if ((same[n_same] = connect_from(s.port, "127.0.0.200")) < 0) break;
    CHECK(n_same == SLOW_PER_IP + 1);
    int other = connect_from(s.port, "127.0.0.201");
    sleep_ms(1000);
    int refused = 0;
    for (int i = 0; i < n_same; i++) refused += closed_within(same[i], 0);
    CHECK(refused == 1);
    CHECK(other >= 0 && !closed_within(other, 300));
    for (int i = 0; i < n_same; i++) close(same[i]);
    if (other >= 0) close(other);

    int *fds = calloc(SLOW_CLIENTS, sizeof *fds);
    REQUIRE(fds);
    int opened = 0;
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        char from[32];
        snprintf(from, sizeof from, "127.0.1.%d", 1 + i / SLOW_PER_IP);
        fds[i] = connect_from(s.port, from);
        if (fds[i] >= 0 && send(fds[i], "GET /healthz HTTP/1.1\r\nX-Slow: ", 31, MSG_NOSIGNAL) == 31) opened++;
    }
    CHECK(opened == SLOW_CLIENTS);
    time_t t_open = time(NULL);
    /* trickle a byte on every slow connection, probe /healthz, again: 12 rounds of ~300 ms */
    int answered = 0, probes = 12;
    for (int round = 0; round < probes; round++) {
        for (int i = 0; i < SLOW_CLIENTS; i++)
            if (fds[i] >= 0) send(fds[i], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        struct resp r;
        answered += http(s.port, "GET", "/healthz", NULL, NULL, 0, 0, &r) == 200;
        resp_cleanup(&r);
        sleep_ms(300);
    }
    CHECK(answered == probes);
    while (time(NULL) - t_open < 6) sleep_ms(100); /* twice --header-timeout since the last connect */
    /* more than --header-timeout 3 has passed since they connected: all closed by the server */
    int still_open = 0;
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        if (fds[i] < 0) continue;
        send(fds[i], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        still_open += !closed_within(fds[i], 0);
        close(fds[i]);
    }
    free(fds);
    if (still_open) fprintf(stderr, "  %d of %d slow connections still open\n", still_open, SLOW_CLIENTS);
    CHECK(still_open == 0);
    /* one that starts now is closed after about 3 s although it keeps sending */
    int fd = connect_from(s.port, "127.0.0.202");
    int sent = fd >= 0 && send(fd, "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL) == 23;
    double t0 = (double)time(NULL);
    int closed = 0;
    for (int i = 0; sent && i < 40 && !closed; i++) { /* a byte every 250 ms for up to 10 s */
        send(fd, "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        closed = closed_within(fd, 250);
    }
    double el = (double)time(NULL) - t0;
    if (fd >= 0) close(fd);
    CHECK(sent && closed && el >= 2 && el <= 8);
    struct resp r;
    CHECK(http(s.port, "GET", "/healthz", NULL, NULL, 0, 0, &r) == 200);
    resp_cleanup(&r);
    curl_global_cleanup();
    srv_kill(&s);
    char *log = t_read(s.log, NULL);
    CHECK(t_contains(log, "(header not complete in 3s: --header-timeout)"));
    free(log);
}

/* A chunked body that never ends is answered 413 at the --max-body limit and closed, not read
 * and dropped for ever (issue 12 item 11). */
TEST(serve_endless_chunked_body)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    struct srv s;
    const char *extra[] = {"--max-body", "64K", "--body-timeout", "0", NULL};
    REQUIRE(srv_start(t_, &s, "serve", ix, extra) == 0);
    int fd = connect_from(s.port, "127.0.0.1");
    REQUIRE(fd >= 0);
    static const char head[] = "POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    char chunk[4096 + 16];
    int hl = snprintf(chunk, sizeof chunk, "1000\r\n");
    memset(chunk + hl, ' ', 4096);
    memcpy(chunk + hl + 4096, "\r\n", 2);
    size_t clen = (size_t)hl + 4096 + 2, sent = 0;
    struct buf got = {0};
    int ok = send(fd, head, sizeof head - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof head - 1), eof = 0;
    double t0 = (double)time(NULL);
    /* send chunks for up to 15 s or 64 MB, reading whatever comes back */
    while (ok && !eof && (double)time(NULL) - t0 < 15 && sent < (64u << 20)) {
        ssize_t w = send(fd, chunk, clen, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) sent += (size_t)w;
        struct pollfd pf = {fd, POLLIN, 0};
        char in[4096];
        while (poll(&pf, 1, w > 0 ? 0 : 20) == 1) {
            ssize_t r = recv(fd, in, sizeof in, MSG_DONTWAIT);
            if (r > 0) buf_append(&got, in, (size_t)r);
            else {
                eof = 1;
                break;
            }
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) eof = 1; /* reset: read what came */
    }
    char in[4096];
    ssize_t r;
    while ((r = recv(fd, in, sizeof in, MSG_DONTWAIT)) > 0) buf_append(&got, in, (size_t)r);
    close(fd);
    CHECK(ok);
    CHECK(got.data && !strncmp(got.data, "HTTP/1.1 413", 12) && t_contains(got.data, "--max-body"));
    CHECK(eof);
    if (!eof || sent > (8u << 20)) fprintf(stderr, "  %zu bytes sent, %s\n", sent, eof ? "closed" : "never closed");
    CHECK(sent < (8u << 20)); /* the limit is 64 KB: stopped at about that, plus what was in flight */
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct resp hr;
    CHECK(http(s.port, "GET", "/healthz", NULL, NULL, 0, 0, &hr) == 200);
    resp_cleanup(&hr);
    curl_global_cleanup();
    CHECK(log_shows(s.log, " POST /v1/search 413 ", 5000));
    srv_kill(&s);
    buf_cleanup(&got);
}

/* Send all of data on the non-blocking fd within ms; 0 when it all went. */
static int send_within(int fd, const char *data, size_t len, int ms)
{
    size_t at = 0;
    for (int waited = 0; at < len && waited <= ms;) {
        ssize_t w = send(fd, data + at, len - at, MSG_NOSIGNAL);
        if (w > 0) at += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
        else {
            struct pollfd pf = {fd, POLLOUT, 0};
            poll(&pf, 1, 50);
            waited += 50;
        }
    }
    return at == len ? 0 : -1;
}

/* Read one response (head and its Content-Length body) from fd within ms into got (appended). */
static void read_response(int fd, struct buf *got, int ms)
{
    size_t start = got->len;
    for (int waited = 0; waited <= ms;) {
        const char *h = got->data ? strstr(got->data + start, "\r\n\r\n") : NULL;
        const char *cl = got->data ? strstr(got->data + start, "Content-Length: ") : NULL;
        if (h && cl && cl < h && got->len - (size_t)(h + 4 - got->data) >= strtoul(cl + 16, NULL, 10)) return;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 50) != 1) {
            waited += 50;
            continue;
        }
        char in[4096];
        ssize_t r = recv(fd, in, sizeof in, MSG_DONTWAIT);
        if (r <= 0) return;
        buf_append(got, in, (size_t)r);
    }
}

/* On a new connection: send `head` and then 14 chunks of `n` bytes each (framed inside `chunk`,
 * which is overwritten), more than the socket buffers hold, before reading; then read the answer
 * into got. 0 when every byte went out. */
static int chunked_exchange(int port, const char *head, char *chunk, size_t n, struct buf *got)
{
    int fd = connect_from(port, "127.0.0.1");
    if (fd < 0) return -1;
    char line[16]; /* its size line, data and end make n bytes */
    snprintf(line, sizeof line, "%06zx\r\n", n - 10);
    memcpy(chunk, line, 8);
    memcpy(chunk + n - 2, "\r\n", 2);
    int rc = send_within(fd, head, strlen(head), 5000);
    for (int i = 0; i < 14 && !rc; i++) rc = send_within(fd, chunk, n, 20000);
    read_response(fd, got, 10000);
    close(fd);
    return rc;
}

/* A body declared over --max-body is answered 413 with its length so that the client can read
 * the answer: sent whole (1 MB over 64K), it is read to its end and the connection serves the
 * next request; with Expect: 100-continue, or declared over 16 MB past the limit, it is answered
 * at once, before any of it is sent (CI saw curl lose the early answer to a reset). A chunked
 * body is answered at the limit and what follows read, so the client's writes are not reset. The
 * same holds for 415, 405 and 404, which are known from the header too. */
TEST(serve_oversize_body_answered)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    struct srv s;
    const char *extra[] = {"--max-body", "64K", NULL};
    REQUIRE(srv_start(t_, &s, "serve", ix, extra) == 0);
    static const char head[] = "POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               "Content-Length: %zu\r\n%s\r\n";
    char h[512];
    size_t big = 1u << 20;
    char *body = malloc(big);
    REQUIRE(body);
    memset(body, ' ', big);
    struct buf got = {0};
    int fd, hl;
    /* 1. a 1 MB body sent whole: read to its end, answered, and the same connection serves
     * GET /healthz: 413 (with the declared length), 415 (not JSON), 405 (with its Allow) */
    static const struct { const char *head, *want, *says; } kept[] = {
        {"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n", "HTTP/1.1 413",
         "the body is 1048576 bytes; the limit is 65536 (--max-body)"},
        {"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n", "HTTP/1.1 415", "not text/plain"},
        {"PUT /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n", "HTTP/1.1 405", "Allow: POST"},
    };
    static const char health[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        fd = connect_from(s.port, "127.0.0.1");
        REQUIRE(fd >= 0);
        hl = snprintf(h, sizeof h, "%sContent-Length: %zu\r\n\r\n", kept[i].head, big);
        buf_reset(&got);
        int sent = send_within(fd, h, (size_t)hl, 5000) == 0 && send_within(fd, body, big, 20000) == 0;
        read_response(fd, &got, 20000);
        int ok = sent && got.data && !strncmp(got.data, kept[i].want, 12) && t_contains(got.data, kept[i].says);
        size_t first = got.len;
        ok = ok && send_within(fd, health, sizeof health - 1, 5000) == 0;
        read_response(fd, &got, 10000);
        ok = ok && got.len > first && !strncmp(got.data + first, "HTTP/1.1 200", 12);
        if (!ok) {
            fprintf(stderr, "  kept %zu: sent %d, got %s\n", i, sent, got.data ? got.data : "(nothing)");
            t_->failed = 1;
        }
        close(fd);
    }
    /* 2. Expect: 100-continue, and 3. far over (64K + 16M + 1): answered without "100 Continue",
     * nothing of the body sent, the writing side closed */
    static const struct { size_t len; const char *extra, *says; } at_once[] = {
        {1u << 20, "Expect: 100-continue\r\n", "1048576 bytes"},
        {(64u << 10) + (16u << 20) + 1, "", "16842753 bytes"},
    };
    for (size_t i = 0; i < sizeof at_once / sizeof at_once[0]; i++) {
        fd = connect_from(s.port, "127.0.0.1");
        REQUIRE(fd >= 0);
        hl = snprintf(h, sizeof h, head, at_once[i].len, at_once[i].extra);
        buf_reset(&got);
        CHECK(send_within(fd, h, (size_t)hl, 5000) == 0);
        read_response(fd, &got, 10000);
        CHECK(got.data && !strncmp(got.data, "HTTP/1.1 413", 12) && t_contains(got.data, at_once[i].says));
        CHECK(closed_within(fd, 5000));
        close(fd);
    }
    /* 4. chunked, 14 MB sent before reading (more than the socket buffers hold): the answer
     * written at once (the 413 at the limit), the rest read, not reset under the client's writes */
    static const struct { const char *head, *want, *says; } chunked[] = {
        {"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
         "HTTP/1.1 413", "over the limit of 65536"},
        {"POST /v1/nowhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
         "HTTP/1.1 404", "no such endpoint: /v1/nowhere"},
    };
    for (size_t i = 0; i < sizeof chunked / sizeof chunked[0]; i++) {
        buf_reset(&got);
        int sent = chunked_exchange(s.port, chunked[i].head, body, big, &got) == 0;
        if (!sent || !got.data || strncmp(got.data, chunked[i].want, 12) || !t_contains(got.data, chunked[i].says)) {
            fprintf(stderr, "  chunked %zu: sent %d, got %s\n", i, sent, got.data ? got.data : "(nothing)");
            t_->failed = 1;
        }
    }
    buf_cleanup(&got);
    free(body);
    CHECK(log_shows(s.log, " POST /v1/search 413 ", 5000));
    srv_kill(&s);
}

/* An audit whose results would pass --max-output is refused with 413 naming the limit, and the
 * service goes on (issue 12 item 1: a 1 MB article took it to 3.3 GB). */
TEST(serve_audit_over_budget)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    struct srv s;
    const char *extra[] = {"--offline", "--suggest", "none", "--max-output", "256K", NULL};
    REQUIRE(srv_start(t_, &s, "serve", ix, extra) == 0);
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct buf art = {0};
    for (int i = 0; i < 2000; i++) /* one sentence, 2,000 refs: ~1.4 KB of results each */
        buf_printf(&art, "glacier%d mass balance<ref>https://example.org/p%d</ref> ", i, i);
    buf_puts(&art, "declined.\n");
    long st = 0;
    json_t *o = post_json(s.port, "/v1/audit", json_pack("{s:s}", "text", art.data ? art.data : ""), &st);
    CHECK(st == 413);
    CHECK(t_contains(jstr(o, "error"), "--max-output") && t_contains(jstr(o, "error"), "262144"));
    json_decref(o);
    buf_cleanup(&art);
    /* a small article still gets its results, with claim ids */
    o = post_json(s.port, "/v1/audit", json_pack("{s:s}", "text", article), &st);
    json_t *res = json_object_get(o, "results");
    CHECK(st == 200 && json_array_size(res) == 2);
    CHECK(json_integer_value(json_object_get(json_array_get(res, 1), "claim_id")) == 1);
    json_decref(o);
    curl_global_cleanup();
    srv_kill(&s);
}

/* ---------------------------------------------------------------- batch jobs: the service == the CLI */

/* The index of this case in DIR/NAME; its path into ix. */
static int make_named_index(struct test_ctx *t_, const char *name, char *ix, size_t n)
{
    const char *dir = t_tmpdir(t_);
    const char *c = t_write(t_, dir, "c.jsonl", corpus_jsonl, strlen(corpus_jsonl));
    if (!c) return -1;
    snprintf(ix, n, "%s/%s", dir, name);
    return t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c);
}

/* The articles of a batch, in the order `audit` walks their folder: 6 citations in all. */
static const struct {
    const char *file, *title, *format, *text;
} job_arts[] = {
    {"01-Aletsch_Glacier.wiki", "Aletsch Glacier", "wikitext",
     "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020."
     "<ref>{{cite web |url=https://example.org/aletsch |title=Glacier report}}</ref>\n\n"
     "Vitamin D deficiency is associated with a higher risk of multiple sclerosis."
     "<ref>{{cite web |url=https://example.org/wal |title=WAL}}</ref> It is the largest glacier.{{cn}}\n"},
    {"02-Rhine.md", "Rhine", "markdown",
     "# Rhine\n\nThe Rhine rises in the Swiss Alps and flows into the North Sea.[^1]\n\n"
     "It is the longest river of Europe.[^2]\n\n[^1]: [Rhine](https://example.org/rhine)\n"
     "[^2]: [Rivers](https://rivers.example.com/europe)\n"},
    {"03-claims.jsonl", "claims", "claims",
     "{\"claim\": \"Readers do not block writers in SQLite.\", \"url\": \"https://example.org/wal\"}\n"},
    {"sub/04-bad.jsonl", "bad", "claims", "{\"claim\": \"x\", \"url\": 3\n"},
};
#define NJOB_ARTS (sizeof job_arts / sizeof job_arts[0])
#define NJOB_CITES 6

/* The stored results of an index, one line per citation (what a job and a CLI batch must agree
 * on byte for byte: everything but the run id and the times). */
static char *stored_rows(const char *ix)
{
    char path[700];
    snprintf(path, sizeof path, "%s/index.db", ix);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct buf b = {0};
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT a.path, a.hash, a.title, a.citations, r.ord, r.status, r.verdict, r.score, r.best,"
                           " r.url, r.domain, r.json FROM audit_articles a JOIN audit_results r"
                           " ON r.path = a.path AND r.hash = a.hash ORDER BY a.path, r.ord",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            for (int i = 0; i < 12; i++) {
                const unsigned char *v = sqlite3_column_text(st, i);
                buf_printf(&b, "%s%c", v ? (const char *)v : "NULL", i == 11 ? '\n' : '|');
            }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return b.data;
}

/* GET `location` until the job is done or failed (60 s at most); the last answer, or NULL. */
static json_t *job_wait(int port, const char *location)
{
    for (int i = 0; i < 1200; i++) {
        struct resp r;
        long st = http(port, "GET", location, NULL, NULL, 0, 0, &r);
        json_t *o = st == 200 && r.body.data ? json_loads(r.body.data, 0, NULL) : NULL;
        resp_cleanup(&r);
        const char *state = jstr(o, "state");
        if (!strcmp(state, "done") || !strcmp(state, "failed") || st != 200) return o;
        json_decref(o);
        sleep_ms(50);
    }
    return NULL;
}

/* POST a job (its body consumed); the answer, its status and its Location header. */
static json_t *post_job_body(int port, json_t *req, long *status, char *location, size_t n)
{
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct resp r;
    *status = body ? http(port, "POST", "/v1/jobs", "application/json", body, strlen(body), 0, &r) : 0;
    free(body);
    json_t *o = r.body.data ? json_loads(r.body.data, 0, NULL) : NULL;
    const char *loc = r.head.data ? strstr(r.head.data, "Location: ") : NULL;
    snprintf(location, n, "%.*s", loc ? (int)strcspn(loc + 10, "\r\n") : 0, loc ? loc + 10 : "");
    resp_cleanup(&r);
    return o;
}

/* POST the job of job_arts, named as the CLI names the files under `arts`. */
static json_t *post_job(int port, const char *arts, long *status, char *location, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < NJOB_ARTS; i++) {
        char name[700];
        snprintf(name, sizeof name, "%s/%s", arts, job_arts[i].file);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "text", job_arts[i].text, "title",
                                              job_arts[i].title, "format", job_arts[i].format, "name", name));
    }
    return post_job_body(port, json_pack("{s:o}", "articles", list), status, location, n);
}

/* Every page of a done job's results, `limit` at a time, following "next". */
static json_t *job_pages(int port, const char *location, int limit)
{
    json_t *all = json_array();
    char next[200];
    snprintf(next, sizeof next, "%s?limit=%d", location, limit);
    for (int pages = 0; next[0] && pages < 20; pages++) {
        struct resp r;
        long st = http(port, "GET", next, NULL, NULL, 0, 0, &r);
        json_t *pg = st == 200 && r.body.data ? json_loads(r.body.data, 0, NULL) : NULL;
        resp_cleanup(&r);
        json_array_extend(all, json_object_get(pg, "results"));
        json_t *nx = json_object_get(pg, "next");
        snprintf(next, sizeof next, "%s", json_is_string(nx) ? json_string_value(nx) : "");
        json_decref(pg);
    }
    return all;
}

/* The job's results against the CLI's output lines: field by field and byte for byte. */
static void same_records(struct test_ctx *t_, json_t *res, const char *out)
{
    json_t *cli = t_json_lines(out);
    CHECK(json_array_size(cli) == NJOB_CITES && json_array_size(res) == NJOB_CITES);
    const char *line = out;
    for (size_t i = 0; i < json_array_size(res) && i < json_array_size(cli); i++) {
        char *dumped = json_dumps(json_array_get(res, i), JSON_COMPACT);
        size_t len = strcspn(line, "\n");
        CHECK(json_equal(json_array_get(res, i), json_array_get(cli, i)));
        CHECK(dumped && strlen(dumped) == len && !strncmp(dumped, line, len));
        free(dumped);
        line += len + (line[len] == '\n');
    }
    json_decref(cli);
}

static void jobs_checks(struct test_ctx *t_, struct srv *s, const char *ixc, const char *ixs, const char *arts)
{
    /* the CLI's batch over the folder (the malformed claims file makes it exit 1) */
    char *out = NULL;
    CHECK(t_run(t_, &out, NULL, "audit --db '%s' --offline --suggest all --json --jobs 2 '%s'", ixc, arts) == 1);
    REQUIRE(out);
    /* the same articles as a job of the service over its own index */
    long st;
    char loc[128], want[128];
    json_t *o = post_job(s->port, arts, &st, loc, sizeof loc);
    CHECK(st == 202 && !strcmp(jstr(o, "state"), "queued") && jstr(o, "id")[0]);
    snprintf(want, sizeof want, "/v1/jobs/%s", jstr(o, "id"));
    CHECK(!strcmp(loc, want) && !strcmp(jstr(o, "location"), want));
    json_decref(o);
    json_t *done = job_wait(s->port, loc);
    REQUIRE(done && !strcmp(jstr(done, "state"), "done"));
    json_t *p = json_object_get(done, "progress");
    CHECK(json_integer_value(json_object_get(p, "articles")) == 4 && json_integer_value(json_object_get(p, "done")) == 4);
    CHECK(json_integer_value(json_object_get(p, "audited")) == 3 && json_integer_value(json_object_get(p, "failed")) == 1);
    CHECK(json_integer_value(json_object_get(p, "citations")) == NJOB_CITES);
    CHECK(json_integer_value(json_object_get(done, "total")) == NJOB_CITES && json_is_null(json_object_get(done, "next")));
    json_t *probs = json_object_get(done, "problems");
    CHECK(json_array_size(probs) == 1 && t_contains(jstr(json_array_get(probs, 0), "article"), "sub/04-bad.jsonl"));
    json_t *res = json_object_get(done, "results");
    same_records(t_, res, out);
    /* and the two indexes hold the same stored results */
    char *rc_ = stored_rows(ixc), *rs = stored_rows(ixs);
    CHECK(rc_ && t_contains(rc_, "|supported|") && t_contains(rc_, "|no-url|") && t_contains(rc_, "|unreachable|"));
    CHECK(rc_ && rs && !strcmp(rc_, rs));
    free(rc_);
    free(rs);
    /* pages of 4 following "next" give the same results */
    json_t *all = job_pages(s->port, loc, 4);
    CHECK(json_equal(all, res));
    json_decref(all);
    /* posted again: every article already stored, the same results */
    json_decref(post_job(s->port, arts, &st, loc, sizeof loc));
    CHECK(st == 202);
    json_t *again = job_wait(s->port, loc);
    p = json_object_get(again, "progress");
    CHECK(json_integer_value(json_object_get(p, "already_stored")) == 3 &&
          json_integer_value(json_object_get(p, "audited")) == 0);
    CHECK(json_equal(json_object_get(again, "results"), res));
    json_decref(again);
    json_decref(done);
    free(out);
}

TEST(serve_jobs_same_as_cli)
{
    char ixc[600], ixs[600], arts[700];
    REQUIRE(make_named_index(t_, "ixc", ixc, sizeof ixc) == 0);
    REQUIRE(make_named_index(t_, "ixs", ixs, sizeof ixs) == 0);
    const char *dir = t_tmpdir(t_);
    snprintf(arts, sizeof arts, "%s/arts", dir);
    for (size_t i = 0; i < NJOB_ARTS; i++) {
        char rel[200];
        snprintf(rel, sizeof rel, "arts/%s", job_arts[i].file);
        REQUIRE(t_write(t_, dir, rel, job_arts[i].text, strlen(job_arts[i].text)));
    }
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct srv s;
    const char *extra[] = {"--offline", "--suggest", "all", "--job-workers", "2", NULL};
    if (srv_start(t_, &s, "serve", ixs, extra) != 0) {
        curl_global_cleanup();
        REQUIRE(!"the server did not start");
    }
    jobs_checks(t_, &s, ixc, ixs, arts);
    int alive = srv_alive(&s);
    if (alive) kill(s.pid, SIGTERM);
    CHECK(alive);
    CHECK(srv_wait(&s, 10000) == 0);
    srv_kill(&s);
    curl_global_cleanup();
    char *log = t_read(s.log, NULL);
    CHECK(t_contains(log, " POST /v1/jobs 202 "));
    free(log);
}

/* ---------------------------------------------------------------- batch jobs: limits and bad requests */

static void jobs_bad_checks(struct test_ctx *t_, struct srv *s)
{
    static const struct {
        const char *method, *path, *body;
        long want;
        const char *says;
    } cases[] = {
        {"POST", "/v1/jobs", "{}", 400, "articles"},
        {"POST", "/v1/jobs", "{\"articles\": []}", 400, "non-empty"},
        {"POST", "/v1/jobs", "{\"articles\": \"x\"}", 400, "articles"},
        {"POST", "/v1/jobs", "{\"articles\": [{\"title\": \"t\"}]}", 400, "articles[0]: missing field \\\"text\\\""},
        {"POST", "/v1/jobs", "{\"articles\": [{\"text\": \"x\"}, 3]}", 400, "articles[1]"},
        {"POST", "/v1/jobs", "{\"articles\": [{\"text\": \"x\", \"format\": \"pdf\"}]}", 400, "unknown format"},
        {"POST", "/v1/jobs", "{\"articles\": [{\"text\": \"x\", \"name\": \"\"}]}", 400, "\\\"name\\\" is empty"},
        {"GET", "/v1/jobs", NULL, 405, "takes POST"},
        {"GET", "/v1/jobs/999", NULL, 404, "no such job: 999"},
        {"GET", "/v1/jobs/abc", NULL, 404, "no such job"},
        {"GET", "/v1/jobs/1?offset=-1", NULL, 400, "offset"},
        {"GET", "/v1/jobs/1?limit=9999999", NULL, 400, "limit"},
        {"POST", "/v1/jobs/1", "{}", 405, "takes GET"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp r;
        long st = http(s->port, cases[i].method, cases[i].path, cases[i].body ? "application/json" : NULL,
                       cases[i].body, cases[i].body ? strlen(cases[i].body) : 0, 0, &r);
        if (st != cases[i].want || !t_contains(r.body.data, cases[i].says)) {
            fprintf(stderr, "  case %zu (%s %s): status %ld (want %ld), body %s\n", i, cases[i].method, cases[i].path,
                    st, cases[i].want, r.body.data ? r.body.data : "(none)");
            t_->failed = 1;
        }
        resp_cleanup(&r);
    }
    /* a body over --max-job-body (256K here), and a job over 10000 articles under it */
    struct buf big = {0};
    buf_puts(&big, "{\"articles\": [{\"text\": \"");
    while (big.len < 300000) buf_puts(&big, "glacier ");
    buf_puts(&big, "\"}]}");
    struct resp r;
    CHECK(http(s->port, "POST", "/v1/jobs", "application/json", big.data, big.len, 0, &r) == 413);
    CHECK(t_contains(r.body.data, "the limit is 262144 (--max-job-body)"));
    resp_cleanup(&r);
    buf_reset(&big);
    buf_puts(&big, "{\"articles\": [");
    for (int i = 0; i < 10001; i++) buf_puts(&big, i ? ",{\"text\":\"\"}" : "{\"text\":\"\"}");
    buf_puts(&big, "]}");
    CHECK(http(s->port, "POST", "/v1/jobs", "application/json", big.data, big.len, 0, &r) == 413);
    CHECK(t_contains(r.body.data, "10001 articles; the limit is 10000"));
    resp_cleanup(&r);
    buf_cleanup(&big);
}

/* One job busy on a slow cited page, SERVE_JOBS_MAX_QUEUED (16) behind it, the next refused. */
static void jobs_queue_checks(struct test_ctx *t_, struct srv *s, struct th_server *web)
{
    char url[128], text[512], loc[128], first[128];
    th_url(web, "/slow", url, sizeof url);
    snprintf(text, sizeof text, "%s<ref>{{cite web |url=%s |title=Glacier report}}</ref>\n", glacier_claim, url);
    long st;
    json_decref(post_job_body(s->port, json_pack("{s:[{s:s}]}", "articles", "text", text), &st, first, sizeof first));
    REQUIRE(st == 202);
    json_t *o = NULL;
    for (int i = 0; i < 200; i++) { /* until a runner has taken it */
        struct resp r;
        http(s->port, "GET", first, NULL, NULL, 0, 0, &r);
        json_decref(o);
        o = r.body.data ? json_loads(r.body.data, 0, NULL) : NULL;
        resp_cleanup(&r);
        if (strcmp(jstr(o, "state"), "queued")) break;
        sleep_ms(10);
    }
    CHECK(!strcmp(jstr(o, "state"), "running"));
    json_decref(o);
    for (int i = 0; i < 16; i++) {
        json_decref(post_job_body(s->port, json_pack("{s:[{s:s}]}", "articles", "text", "No citations."), &st, loc,
                                  sizeof loc));
        CHECK(st == 202);
    }
    struct resp r;
    CHECK(http(s->port, "GET", loc, NULL, NULL, 0, 0, &r) == 200 && t_contains(r.body.data, "\"state\":\"queued\""));
    resp_cleanup(&r);
    char *body = "{\"articles\": [{\"text\": \"No citations.\"}]}";
    CHECK(http(s->port, "POST", "/v1/jobs", "application/json", body, strlen(body), 0, &r) == 503);
    CHECK(t_contains(r.body.data, "16 queued") && t_contains(r.head.data, "Retry-After: 10"));
    resp_cleanup(&r);
}

TEST(serve_jobs_limits)
{
    char ixbuf[600];
    const char *ix = make_index(t_, ixbuf, sizeof ixbuf);
    REQUIRE(ix);
    struct th_server *web = NULL;
    REQUIRE(th_start(&web, page_handler, NULL) == 0);
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct srv s = {0}, off = {0};
    const char *extra[] = {"--allow-private", "--max-job-body", "256K", "--max-jobs", "1", NULL};
    const char *none[] = {"--max-jobs", "0", NULL};
    int up = srv_start(t_, &s, "serve", ix, extra) == 0 && srv_start(t_, &off, "off", ix, none) == 0;
    CHECK(up);
    if (up) {
        jobs_bad_checks(t_, &s);
        jobs_queue_checks(t_, &s, web);
        /* with --max-jobs 0 the endpoints say jobs are off */
        struct resp r;
        CHECK(http(off.port, "POST", "/v1/jobs", "application/json", "{}", 2, 0, &r) == 404);
        CHECK(t_contains(r.body.data, "--max-jobs 0"));
        resp_cleanup(&r);
        /* a stop with a job running (cancelled: an article being audited is finished first) and 16
         * queued: exit 0 */
        kill(s.pid, SIGTERM);
        kill(off.pid, SIGTERM);
        CHECK(srv_wait(&s, 10000) == 0 && srv_wait(&off, 10000) == 0);
    }
    srv_kill(&s);
    srv_kill(&off);
    curl_global_cleanup();
    th_stop(web);
}
