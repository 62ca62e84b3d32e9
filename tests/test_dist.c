/* test_dist.c - BM25 on the Xapian remote backend (index/idx_bk.c, index/xap/): real
 * `xapian-tcpsrv --writable` shards started here on 127.0.0.1 (each in its own process group,
 * killed at the end of the case whatever happens), a generated corpus checked against a BM25
 * computed here from the same tokens with global statistics, updates and removals reaching the
 * shards, resumed and repaired syncs, dead and hanging shards answered around with a warning, and
 * SciFact's training claims within 0.02 nDCG@10 of the local index (skipped without the data). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "corpus/corpus.h"
#include "index/idx.h"
#include "index/idx_bk.h"
#include "retrieve/ret.h"
#include "test.h"
#include "testhttp.h"

#define DIST_MAX 4

/* ---------------------------------------------------------------- shard processes */

struct shards {
    int n;
    pid_t pid[DIST_MAX];
    int port[DIST_MAX];
    char dir[DIST_MAX][512];
    char spec[512];
    int idle_ms; /* --idle-timeout of the servers (0: theirs) */
};

static int can_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Start shard i on its port (a free one when 0) over its folder. 0, or -1. */
static int shard_start(struct shards *s, int i)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = s->port[i] ? s->port[i] : th_free_port();
        if (port <= 0) return -1;
        char portarg[16], idle[16];
        snprintf(portarg, sizeof portarg, "%d", port);
        snprintf(idle, sizeof idle, "%d", s->idle_ms);
        pid_t pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) {
            setpgid(0, 0);                    /* its connection children too go with kill(-pid) */
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* and it goes with the test runner */
            freopen("/dev/null", "w", stdout);
            freopen("/dev/null", "w", stderr);
            if (s->idle_ms > 0)
                execlp("xapian-tcpsrv", "xapian-tcpsrv", "--quiet", "--interface", "127.0.0.1",
                       "--port", portarg, "--idle-timeout", idle, "--writable", s->dir[i],
                       (char *)NULL);
            else
                execlp("xapian-tcpsrv", "xapian-tcpsrv", "--quiet", "--interface", "127.0.0.1",
                       "--port", portarg, "--writable", s->dir[i], (char *)NULL);
            _exit(127);
        }
        setpgid(pid, pid);
        for (int w = 0; w < 500; w++) {
            if (can_connect(port)) {
                s->pid[i] = pid;
                s->port[i] = port;
                return 0;
            }
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                if (WIFEXITED(st) && WEXITSTATUS(st) == 127) return -1; /* no xapian-tcpsrv */
                break;                                                  /* port taken: another */
            }
            usleep(10000);
        }
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (s->port[i]) return -1; /* a fixed port that does not come up */
    }
    return -1;
}

static void shard_kill(struct shards *s, int i)
{
    if (s->pid[i] <= 0) return;
    kill(-s->pid[i], SIGCONT);
    kill(-s->pid[i], SIGKILL);
    waitpid(s->pid[i], NULL, 0);
    s->pid[i] = 0;
}

static void shards_stop(struct shards *s)
{
    for (int i = 0; i < s->n; i++)
        shard_kill(s, i);
}

/* n shards over fresh folders under dir; s->spec = "xapian:127.0.0.1:P1,...". 0, or -1. */
static int shards_start(struct shards *s, const char *dir, int n, int idle_ms)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->idle_ms = idle_ms;
    size_t off = (size_t)snprintf(s->spec, sizeof s->spec, "xapian:");
    for (int i = 0; i < n; i++) {
        snprintf(s->dir[i], sizeof s->dir[i], "%s/shard%d", dir, i + 1);
        if (mkdir(s->dir[i], 0755) != 0 && errno != EEXIST) return -1;
        if (shard_start(s, i)) {
            shards_stop(s);
            return -1;
        }
        off += (size_t)snprintf(s->spec + off, sizeof s->spec - off, "%s127.0.0.1:%d", i ? "," : "",
                                s->port[i]);
    }
    return 0;
}

/* ---------------------------------------------------------------- a generated corpus */

#define GEN_VOCAB 400

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* A made-up word for rank r: letters from r, pronounceable enough to survive the stemmer as
 * distinct terms (the reference below tokenizes them the same way anyway). */
static void gen_word(int r, char *out, size_t n)
{
    static const char cons[] = "bcdfgklmnprstvz", vow[] = "aeiou";
    size_t k = 0;
    int v = r + 7;
    for (int syl = 0; syl < 3 && k + 3 < n; syl++) {
        out[k++] = cons[v % 15];
        v /= 15;
        out[k++] = vow[v % 5];
        v /= 5;
        if (!v && syl >= 1) break;
    }
    if (k + 2 < n) out[k++] = 'x';
    out[k] = '\0';
}

static int gen_rank(uint64_t *x)
{
    double u = (double)(rng_next(x) % 1000000) / 1e6;
    return (int)(GEN_VOCAB * u * u * u); /* skewed: a few common words, many rare ones */
}

/* `n` documents "d1".."dn" as JSON Lines into out: a 2-4 word title and 15-60 words of text
 * (one passage each), url https://example.org/dN. `tag` words are appended to document `tagged`
 * (1-based; 0: none). */
static void gen_corpus(struct buf *out, int n, uint64_t seed, int tagged, const char *tag)
{
    uint64_t x = seed;
    char w[32];
    for (int d = 1; d <= n; d++) {
        buf_printf(out, "{\"_id\": \"d%d\", \"url\": \"https://example.org/d%d\", \"title\": \"", d,
                   d);
        int nt = 2 + (int)(rng_next(&x) % 3);
        for (int i = 0; i < nt; i++) {
            gen_word(gen_rank(&x), w, sizeof w);
            buf_printf(out, "%s%s", i ? " " : "", w);
        }
        buf_puts(out, "\", \"text\": \"");
        int nb = 15 + (int)(rng_next(&x) % 46);
        for (int i = 0; i < nb; i++) {
            gen_word(gen_rank(&x), w, sizeof w);
            buf_printf(out, "%s%s", i ? " " : "", w);
        }
        if (d == tagged) buf_printf(out, " %s", tag);
        buf_puts(out, ".\"}\n");
    }
}

/* ---------------------------------------------------------------- the reference BM25 */

/* Every passage's terms as the index counts them (title + body tokens), one passage per
 * document, pid = document number. */
struct ref {
    int n;
    char ***terms; /* [pid][j] distinct terms */
    int **tf;
    int *nterms, *len;
    double avgdl;
};

struct ref_ctx {
    char **t;
    int *tf;
    int n, cap, len;
};

static int ref_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos, (void)s, (void)e;
    struct ref_ctx *r = c;
    r->len++;
    for (int i = 0; i < r->n; i++)
        if (strlen(r->t[i]) == len && !memcmp(r->t[i], term, len)) {
            r->tf[i]++;
            return 0;
        }
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->t = realloc(r->t, (size_t)r->cap * sizeof *r->t);
        r->tf = realloc(r->tf, (size_t)r->cap * sizeof *r->tf);
    }
    r->t[r->n] = strndup(term, len);
    r->tf[r->n++] = 1;
    return 0;
}

static void ref_free(struct ref *r)
{
    for (int p = 1; p <= r->n && r->terms; p++) {
        for (int j = 0; j < r->nterms[p]; j++)
            free(r->terms[p][j]);
        free(r->terms[p]);
        free(r->tf[p]);
    }
    free(r->terms);
    free(r->tf);
    free(r->nterms);
    free(r->len);
}

/* Build the reference from the corpus lines (JSON: title, text). */
static int ref_build(struct ref *r, const char *jsonl, struct corpus_tok *tok)
{
    memset(r, 0, sizeof *r);
    json_t *docs = t_json_lines(jsonl);
    r->n = (int)json_array_size(docs);
    r->terms = calloc((size_t)r->n + 1, sizeof *r->terms);
    r->tf = calloc((size_t)r->n + 1, sizeof *r->tf);
    r->nterms = calloc((size_t)r->n + 1, sizeof *r->nterms);
    r->len = calloc((size_t)r->n + 1, sizeof *r->len);
    double total = 0;
    for (int p = 1; p <= r->n; p++) {
        json_t *o = json_array_get(docs, (size_t)p - 1);
        const char *title = t_json_str(o, "title"), *text = t_json_str(o, "text");
        struct ref_ctx c = {0};
        corpus_tok_run(tok, title, strlen(title), ref_cb, &c);
        corpus_tok_run(tok, text, strlen(text), ref_cb, &c);
        r->terms[p] = c.t;
        r->tf[p] = c.tf;
        r->nterms[p] = c.n;
        r->len[p] = c.len;
        total += c.len;
    }
    r->avgdl = r->n ? total / r->n : 1;
    json_decref(docs);
    return r->n > 0 ? 0 : -1;
}

/* The query's distinct terms (q->t, with their counts q->tf) and each one's document frequency. */
static int *ref_df(const struct ref *r, const struct ref_ctx *q)
{
    int *df = calloc((size_t)q->n + 1, sizeof *df);
    for (int i = 0; df && i < q->n; i++)
        for (int d = 1; d <= r->n; d++)
            for (int j = 0; j < r->nterms[d]; j++)
                if (!strcmp(r->terms[d][j], q->t[i])) df[i]++;
    return df;
}

/* The backend's BM25 of passage p for the query: Xapian's BM25+ with delta 0, idf
 * log((N + 1) / df), over all passages of all shards (global statistics), k1 0.9, b 0.4. */
static double ref_score(const struct ref *r, const struct ref_ctx *q, const int *df, int p)
{
    double s = 0, k1 = RET_DEFAULT_K1, b = RET_DEFAULT_B;
    for (int i = 0; i < q->n; i++) {
        int tf = 0;
        for (int j = 0; j < r->nterms[p]; j++)
            if (!strcmp(r->terms[p][j], q->t[i])) tf = r->tf[p][j];
        if (!tf) continue;
        double idf = log((r->n + 1.0) / df[i]);
        s += idf * q->tf[i] * (k1 + 1) * tf / (tf + k1 * (1 - b + b * r->len[p] / r->avgdl));
    }
    return s;
}

static void ref_ctx_free(struct ref_ctx *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->t[i]);
    free(c->t);
    free(c->tf);
}

/* ---------------------------------------------------------------- helpers */

/* Index `corpus` into dir/ix with the backend `spec` (NULL: as recorded). Returns the exit code. */
static int run_index(struct test_ctx *t_, const char *ix, const char *file, const char *spec,
                     char **err)
{
    char specarg[700] = "";
    if (spec) snprintf(specarg, sizeof specarg, "--backend '%s'", spec);
    return t_run(t_, NULL, err, "index --db '%s' --embedder none -q %s %s", ix, specarg,
                 file ? file : "--sync-backend");
}

/* The hits of `search --json` for one query (array of pids), its "backend" object (or NULL). */
static int search_pids(struct test_ctx *t_, const char *ix, const char *extra, const char *query,
                       int64_t *pids, double *scores, int cap, json_t **backend, char **errout)
{
    char *out = NULL;
    if (backend) *backend = NULL;
    int rc = t_run(t_, &out, errout, "search --db '%s' --json -k %d %s '%s'", ix, cap,
                   extra ? extra : "", query);
    json_t *o = out ? json_loads(out, 0, NULL) : NULL;
    free(out);
    if (rc != 0 || !o) {
        json_decref(o);
        return -1;
    }
    json_t *hits = json_object_get(o, "hits");
    int n = 0;
    for (size_t i = 0; i < json_array_size(hits) && n < cap; i++, n++) {
        json_t *h = json_array_get(hits, i);
        pids[n] = json_integer_value(json_object_get(h, "passage_id"));
        if (scores) scores[n] = json_real_value(json_object_get(h, "score"));
    }
    if (backend && json_object_get(o, "backend"))
        *backend = json_incref(json_object_get(o, "backend"));
    json_decref(o);
    return n;
}

static const char *write_corpus(struct test_ctx *t_, const char *dir, const char *name, int n,
                                uint64_t seed, int tagged, const char *tag, struct buf *keep)
{
    struct buf b = {0};
    gen_corpus(&b, n, seed, tagged, tag);
    const char *f = t_write(t_, dir, name, b.data, b.len);
    if (keep) {
        buf_reset(keep);
        buf_append(keep, b.data, b.len);
    }
    buf_cleanup(&b);
    return f;
}

/* The passages each shard holds, from `stats` (-1 when not answering). Returns the shard count. */
static int shard_counts(struct test_ctx *t_, const char *ix, int64_t *counts, int cap)
{
    char *out = NULL;
    int n = 0;
    if (t_run(t_, &out, NULL, "stats --db '%s'", ix) == 0)
        for (const char *p = out; (p = strstr(p, "  shard ")) && n < cap; p++) {
            const char *c = strstr(p, ": ");
            counts[n++] = c && strncmp(c + 2, "NOT", 3) ? strtoll(c + 2, NULL, 10) : -1;
        }
    free(out);
    return n;
}

/* ---------------------------------------------------------------- cases */

/* The backend ranks exactly as BM25 with global statistics over all shards: every hit's score is
 * the reference's, and no passage the reference ranks higher than the 10th hit is missing. */
static void matches_reference(struct test_ctx *t_, struct shards *s, const char *dir)
{
    struct buf corpus = {0};
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    const char *f =
        write_corpus(t_, dir, "gen.jsonl", 300, 0x9e3779b97f4a7c15ull, 0, NULL, &corpus);
    REQUIRE(f);
    char *err = NULL;
    int rc = run_index(t_, ix, f, s->spec, &err);
    if (rc) fprintf(stderr, "  index: %s\n", err ? err : "");
    free(err);
    REQUIRE(rc == 0);
    int64_t counts[DIST_MAX];
    REQUIRE(shard_counts(t_, ix, counts, DIST_MAX) == 3);
    CHECK(counts[0] == 100 && counts[1] == 100 && counts[2] == 100); /* pid % 3 */

    struct corpus_tok *tok = NULL;
    struct err e = {0};
    REQUIRE_OK(corpus_tok_new(&tok, 0, &e), e);
    struct ref r;
    REQUIRE(ref_build(&r, corpus.data, tok) == 0);
    uint64_t x = 42;
    int checked = 0, bad = 0;
    for (int qn = 0; qn < 30; qn++) {
        /* a query: 2-6 words, some of them common */
        char query[256] = "", w[32];
        int nw = 2 + qn % 5;
        for (int i = 0; i < nw; i++) {
            gen_word(qn % 3 == 0 ? (int)(rng_next(&x) % 20) : gen_rank(&x), w, sizeof w);
            strncat(query, w, sizeof query - strlen(query) - 2);
            strncat(query, " ", sizeof query - strlen(query) - 1);
        }
        int64_t pids[10];
        double scores[10];
        int n = search_pids(t_, ix, NULL, query, pids, scores, 10, NULL, NULL);
        CHECK(n >= 0);
        if (n <= 0) continue;
        struct ref_ctx q = {0};
        corpus_tok_run(tok, query, strlen(query), ref_cb, &q);
        int *df = ref_df(&r, &q);
        REQUIRE(df);
        for (int i = 0; i < n; i++) {
            double want = ref_score(&r, &q, df, (int)pids[i]);
            if (fabs(want - scores[i]) > 1e-4 * (1 + want)) {
                fprintf(stderr, "  query '%s' hit %d pid %lld: score %.6f, reference %.6f\n", query,
                        i + 1, (long long)pids[i], scores[i], want);
                bad++;
            }
        }
        /* nothing better left out */
        if (n == 10)
            for (int p = 1; p <= r.n; p++) {
                double sc = ref_score(&r, &q, df, p);
                int in = 0;
                for (int i = 0; i < n; i++)
                    in |= pids[i] == p;
                if (!in && sc > scores[9] * (1 + 1e-5) + 1e-9) {
                    fprintf(stderr,
                            "  query '%s': pid %d (%.6f) above the 10th hit (%.6f) is missing\n",
                            query, p, sc, scores[9]);
                    bad++;
                }
            }
        ref_ctx_free(&q);
        free(df);
        checked++;
    }
    CHECK(checked >= 25);
    CHECK(bad == 0);
    ref_free(&r);
    corpus_tok_free(tok);

    /* the steps above BM25 run unchanged on its candidates: documents, RM3, proximity */
    int64_t pids[10];
    char qw[64], w1[32], w2[32];
    gen_word(3, w1, sizeof w1);
    gen_word(150, w2, sizeof w2);
    snprintf(qw, sizeof qw, "%s %s", w1, w2);
    CHECK(search_pids(t_, ix, "--by-doc --prf --proximity 0.1", qw, pids, NULL, 5, NULL, NULL) ==
          5);
    /* and the local postings are still there for comparison */
    CHECK(search_pids(t_, ix, "--backend local", qw, pids, NULL, 5, NULL, NULL) == 5);
    buf_cleanup(&corpus);
}

TEST(dist_xapian_matches_reference)
{
    const char *dir = t_tmpdir(t_);
    struct shards s;
    REQUIRE(shards_start(&s, dir, 3, 0) == 0); /* xapian-tcpsrv from xapian-tools (make deps) */
    matches_reference(t_, &s, dir);
    shards_stop(&s);
}

/* Replaced and removed documents leave the shards too; the verifier's suggestions come through. */
static void updates(struct test_ctx *t_, struct shards *s, const char *dir)
{
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    const char *f1 = write_corpus(t_, dir, "v1.jsonl", 60, 7, 10, "quokkaword", NULL);
    REQUIRE(f1);
    REQUIRE(run_index(t_, ix, f1, s->spec, NULL) == 0);
    int64_t pids[10];
    CHECK(search_pids(t_, ix, NULL, "quokkaword", pids, NULL, 10, NULL, NULL) == 1);
    /* d10 changes: its old passage leaves the shards, the new one arrives */
    const char *f2 = write_corpus(t_, dir, "v2.jsonl", 60, 7, 10, "wombatword", NULL);
    REQUIRE(run_index(t_, ix, f2, NULL, NULL) == 0);
    CHECK(search_pids(t_, ix, NULL, "quokkaword", pids, NULL, 10, NULL, NULL) == 0);
    CHECK(search_pids(t_, ix, NULL, "wombatword", pids, NULL, 10, NULL, NULL) == 1);
    /* removing it removes it there */
    char *err = NULL;
    CHECK(t_run(t_, NULL, &err, "remove --db '%s' d10", ix) == 0);
    free(err);
    CHECK(search_pids(t_, ix, NULL, "wombatword", pids, NULL, 10, NULL, NULL) == 0);
    int64_t counts[DIST_MAX];
    REQUIRE(shard_counts(t_, ix, counts, DIST_MAX) == 3);
    CHECK(counts[0] + counts[1] + counts[2] == 59);

    /* an audit: the claim is d20's text, cited to d21's page: unsupported, d20 suggested */
    struct buf corpus = {0};
    gen_corpus(&corpus, 60, 7, 10, "wombatword");
    json_t *docs = t_json_lines(corpus.data);
    const char *text = t_json_str(json_array_get(docs, 19), "text");
    json_t *claim = json_pack("{s:s, s:s}", "claim", text, "url", "https://example.org/d21");
    char *line = json_dumps(claim, JSON_COMPACT);
    const char *cf = t_write(t_, dir, "claims.jsonl", line, strlen(line));
    char *out = NULL;
    CHECK(cf && t_run(t_, &out, NULL, "audit --db '%s' --offline --json '%s'", ix, cf) == 0);
    json_t *res = out ? json_loads(out, 0, NULL) : NULL;
    json_t *sug = json_array_get(json_object_get(res, "suggestions"), 0);
    CHECK(strcmp(t_json_str(res, "verdict"), "supported") != 0);
    CHECK(!strcmp(t_json_str(sug, "doc_id"), "d20"));
    json_decref(res);
    free(out);
    free(line);
    json_decref(claim);
    json_decref(docs);
    buf_cleanup(&corpus);
}

TEST(dist_xapian_updates)
{
    const char *dir = t_tmpdir(t_);
    struct shards s;
    REQUIRE(shards_start(&s, dir, 3, 0) == 0);
    updates(t_, &s, dir);
    shards_stop(&s);
}

/* A sync that could not finish resumes; a wiped shard is filled again; a shard restored from an
 * old copy is repaired; shards given in another order or of another index are refused. */
static void resume(struct test_ctx *t_, struct shards *s, const char *dir)
{
    char ix[600], *err = NULL;
    snprintf(ix, sizeof ix, "%s/ix", dir);
    const char *f1 = write_corpus(t_, dir, "a.jsonl", 60, 11, 0, NULL, NULL);
    REQUIRE(f1);
    REQUIRE(run_index(t_, ix, f1, s->spec, NULL) == 0);

    /* shard 2 is down while 30 more documents are indexed: committed here, not sent there */
    shard_kill(s, 1);
    const char *f2 = write_corpus(t_, dir, "b.jsonl", 90, 11, 75, "latecomer", NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port[1]);
    CHECK(t_run(t_, NULL, &err, "index --db '%s' '%s'", ix, f2) == 1);
    CHECK(t_contains(err, "--sync-backend") && t_contains(err, addr));
    free(err);
    err = NULL;
    REQUIRE(shard_start(s, 1) == 0); /* same port, same folder */
    int64_t pids[10];
    json_t *bk = NULL;
    /* the 30 new passages are not in the shards yet: not found, and said so */
    CHECK(search_pids(t_, ix, NULL, "latecomer", pids, NULL, 10, &bk, NULL) == 0);
    CHECK(bk && json_integer_value(json_object_get(bk, "pending")) == 30);
    json_decref(bk);
    CHECK(run_index(t_, ix, NULL, NULL, &err) == 0);
    free(err);
    err = NULL;
    int64_t counts[DIST_MAX];
    REQUIRE(shard_counts(t_, ix, counts, DIST_MAX) == 3);
    CHECK(counts[0] == 30 && counts[1] == 30 && counts[2] == 30);
    CHECK(search_pids(t_, ix, NULL, "latecomer", pids, NULL, 10, &bk, NULL) == 1 && !bk);
    json_decref(bk);

    /* shard 1 wiped (a new empty folder): the next sync fills it again */
    shard_kill(s, 0);
    REQUIRE(t_sh(t_, NULL, NULL, "rm -rf '%s' && mkdir '%s'", s->dir[0], s->dir[0]) == 0);
    REQUIRE(shard_start(s, 0) == 0);
    CHECK(run_index(t_, ix, NULL, NULL, &err) == 0);
    free(err);
    err = NULL;
    REQUIRE(shard_counts(t_, ix, counts, DIST_MAX) == 3);
    CHECK(counts[0] == 30);

    /* shard 3 restored from an old copy: counted, compared passage by passage, repaired */
    char old[600];
    snprintf(old, sizeof old, "%s/shard3-old", dir);
    shard_kill(s, 2);
    REQUIRE(t_sh(t_, NULL, NULL, "cp -r '%s' '%s'", s->dir[2], old) == 0);
    REQUIRE(shard_start(s, 2) == 0);
    const char *f3 = write_corpus(t_, dir, "c.jsonl", 120, 11, 75, "latecomer", NULL);
    REQUIRE(run_index(t_, ix, f3, NULL, NULL) == 0);
    shard_kill(s, 2);
    REQUIRE(t_sh(t_, NULL, NULL, "rm -rf '%s' && mv '%s' '%s'", s->dir[2], old, s->dir[2]) == 0);
    REQUIRE(shard_start(s, 2) == 0);
    REQUIRE(shard_counts(t_, ix, counts, DIST_MAX) == 3);
    CHECK(counts[2] == 30);
    char *out = NULL;
    CHECK(t_run(t_, NULL, &out, "index --db '%s' --sync-backend", ix) == 0);
    CHECK(t_contains(out, "10 found missing on a shard"));
    free(out);
    REQUIRE(shard_counts(t_, ix, counts, DIST_MAX) == 3);
    CHECK(counts[0] == 40 && counts[1] == 40 && counts[2] == 40);

    /* the same shards in another order, or a second index on them: refused, naming the shard */
    char swapped[600];
    snprintf(swapped, sizeof swapped, "xapian:127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", s->port[1],
             s->port[0], s->port[2]);
    CHECK(run_index(t_, ix, NULL, swapped, &err) == 1);
    CHECK(t_contains(err, "original order"));
    free(err);
    err = NULL;
    CHECK(search_pids(t_, ix, "--backend local", "latecomer", pids, NULL, 10, NULL, NULL) == 1);
    char ix2[600];
    snprintf(ix2, sizeof ix2, "%s/ix2", dir);
    CHECK(run_index(t_, ix2, f1, s->spec, &err) == 1);
    CHECK(t_contains(err, "another vericite index"));
    free(err);
}

TEST(dist_xapian_resume)
{
    const char *dir = t_tmpdir(t_);
    struct shards s;
    REQUIRE(shards_start(&s, dir, 3, 0) == 0);
    resume(t_, &s, dir);
    shards_stop(&s);
}

/* A dead shard, then a hanging one: the search answers from the others with a warning naming it
 * (stderr, and "backend" in --json), never hangs past the remote timeout; none left: an error. */
static void dead_shard(struct test_ctx *t_, struct shards *s, const char *dir)
{
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    const char *f = write_corpus(t_, dir, "gen.jsonl", 90, 5, 0, NULL, NULL);
    REQUIRE(f);
    REQUIRE(t_run(t_, NULL, NULL,
                  "index --db '%s' --embedder none -q --backend '%s' --backend-timeout 800 '%s'",
                  ix, s->spec, f) == 0);
    char q[80], w1[32], w2[32], addr[64];
    gen_word(1, w1, sizeof w1);
    gen_word(2, w2, sizeof w2);
    snprintf(q, sizeof q, "%s %s", w1, w2);
    int64_t pids[30];
    int all = search_pids(t_, ix, NULL, q, pids, NULL, 30, NULL, NULL);
    CHECK(all == 30);

    shard_kill(s, 1);
    json_t *bk = NULL;
    char *err = NULL;
    int n = search_pids(t_, ix, NULL, q, pids, NULL, 30, &bk, &err);
    CHECK(n > 0);
    for (int i = 0; i < n; i++)
        CHECK((pids[i] - 1) % 3 != 1); /* none from shard 2 */
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port[1]);
    CHECK(t_contains(err, "warning: degraded answer") && t_contains(err, addr));
    REQUIRE(bk);
    CHECK(json_integer_value(json_object_get(bk, "live")) == 2);
    json_t *d0 = json_array_get(json_object_get(bk, "dead"), 0);
    CHECK(!strcmp(t_json_str(d0, "address"), addr) &&
          json_integer_value(json_object_get(d0, "shard")) == 2);
    json_decref(bk);
    free(err);
    err = NULL;

    /* shard 3 hangs (stopped): left out once the timeout passes */
    kill(-s->pid[2], SIGSTOP);
    n = search_pids(t_, ix, NULL, q, pids, NULL, 30, &bk, &err);
    CHECK(n > 0);
    for (int i = 0; i < n; i++)
        CHECK((pids[i] - 1) % 3 == 0);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port[2]);
    CHECK(t_contains(err, addr) && t_contains(err, "Timeout"));
    json_decref(bk);
    free(err);
    err = NULL;
    kill(-s->pid[2], SIGCONT);

    /* no shard at all: a clear error, exit 1 */
    shard_kill(s, 0);
    shard_kill(s, 2);
    CHECK(t_run(t_, NULL, &err, "search --db '%s' '%s'", ix, q) == 1);
    CHECK(t_contains(err, "no shard answers"));
    free(err);
}

TEST(dist_xapian_dead_shard)
{
    const char *dir = t_tmpdir(t_);
    struct shards s;
    REQUIRE(shards_start(&s, dir, 3, 0) == 0);
    dead_shard(t_, &s, dir);
    shards_stop(&s);
}

/* A long-lived handle (serve's workers): the servers' idle timeout closing its connections costs
 * nothing; a shard that comes back is used again after the retry interval. */
static void long_lived(struct test_ctx *t_, struct shards *s, const char *dir)
{
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    const char *f = write_corpus(t_, dir, "gen.jsonl", 90, 5, 0, NULL, NULL);
    REQUIRE(f);
    REQUIRE(t_run(t_, NULL, NULL,
                  "index --db '%s' --embedder none -q --backend '%s' --backend-timeout 500 '%s'",
                  ix, s->spec, f) == 0);
    struct idx *x = NULL;
    struct ret *r = NULL;
    struct err e = {0};
    struct idx_opts io = {.readonly = 1};
    REQUIRE_OK(idx_open(&x, ix, &io, &e), e);
    REQUIRE(idx_bk_enabled(x));
    int rc = ret_new(&r, x, &e);
    struct ret_hit hits[10];
    int n = 0;
    char q[80], w1[32];
    gen_word(1, w1, sizeof w1);
    snprintf(q, sizeof q, "%s", w1);
    struct ret_opts o = {.mode = RET_BM25, .k = 10};
    if (!rc) rc = ret_search(r, q, &o, hits, &n, &e);
    CHECK(rc == 0 && n == 10 && !idx_bk_warning(x));
    usleep(700 * 1000); /* past the servers' --idle-timeout 300 */
    if (!rc) rc = ret_search(r, q, &o, hits, &n, &e);
    CHECK(rc == 0 && n == 10 && !idx_bk_warning(x));
    /* shard 1 dies and comes back */
    shard_kill(s, 0);
    if (!rc) rc = ret_search(r, q, &o, hits, &n, &e);
    CHECK(rc == 0 && idx_bk_warning(x));
    REQUIRE(shard_start(s, 0) == 0);
    usleep(1100 * 1000); /* the retry interval: twice the 500 ms timeout */
    if (!rc) rc = ret_search(r, q, &o, hits, &n, &e);
    CHECK(rc == 0 && n == 10 && !idx_bk_warning(x));
    /* --backend local for this handle */
    CHECK(idx_bk_use(x, "local", &e) == 0 && !idx_bk_enabled(x));
    if (!rc) rc = ret_search(r, q, &o, hits, &n, &e);
    CHECK(rc == 0 && n == 10);
    if (rc) fprintf(stderr, "  %s\n", e.msg);
    ret_free(r);
    idx_close(x);
}

TEST(dist_xapian_long_lived)
{
    const char *dir = t_tmpdir(t_);
    struct shards s;
    REQUIRE(shards_start(&s, dir, 3, 300) == 0);
    long_lived(t_, &s, dir);
    shards_stop(&s);
}

/* ---------------------------------------------------------------- the service */

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return buf_append(ud, p, sz * n) ? 0 : sz * n;
}

/* POST {"query": q, "k": 10} to /v1/search; the parsed answer (NULL on failure), status in *st. */
static json_t *serve_search(int port, const char *q, long *st)
{
    struct buf body = {0};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/search", port);
    json_t *req = json_pack("{s:s, s:i}", "query", q, "k", 10);
    char *rs = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    *st = 0;
    if (c && rs && h) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rs);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, st);
    }
    curl_slist_free_all(h);
    if (c) curl_easy_cleanup(c);
    free(rs);
    json_t *o = body.data ? json_loads(body.data, 0, NULL) : NULL;
    buf_cleanup(&body);
    return o;
}

/* `vericite serve` on the index; its port in *port. The child's pid, or -1. */
static pid_t serve_start(struct test_ctx *t_, const char *ix, int *port)
{
    char log[600];
    snprintf(log, sizeof log, "%s/serve.log", t_tmpdir(t_));
    const char *bin = getenv("VERICITE_BIN");
    if (!bin || !*bin) bin = "./vericite";
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int lf = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644), nul = open("/dev/null", O_RDWR);
        if (lf < 0 || nul < 0) _exit(127);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(lf, 2);
        execl(bin, bin, "serve", "--db", ix, "--listen", "127.0.0.1:0", "--threads", "1",
              (char *)NULL);
        _exit(127);
    }
    static const char at[] = "listening on http://127.0.0.1:";
    for (int i = 0; i < 1500; i++) {
        char *text = t_read(log, NULL);
        const char *p = text ? strstr(text, at) : NULL;
        *port = p ? (int)strtol(p + sizeof at - 1, NULL, 10) : 0;
        free(text);
        if (*port > 0) return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid) return -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* The service answers from the live shards and says which one is missing in "backend". */
static void serve_degraded(struct test_ctx *t_, struct shards *s, const char *dir, pid_t *srv)
{
    char ix[600], q[80], w1[32], w2[32], addr[64];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    const char *f = write_corpus(t_, dir, "gen.jsonl", 60, 3, 0, NULL, NULL);
    REQUIRE(f && run_index(t_, ix, f, s->spec, NULL) == 0);
    int port = 0;
    *srv = serve_start(t_, ix, &port);
    REQUIRE(*srv > 0);
    gen_word(1, w1, sizeof w1);
    gen_word(2, w2, sizeof w2);
    snprintf(q, sizeof q, "%s %s", w1, w2);
    long st = 0;
    json_t *o = serve_search(port, q, &st);
    CHECK(st == 200 && o && json_array_size(json_object_get(o, "hits")) == 10 &&
          !json_object_get(o, "backend"));
    json_decref(o);
    shard_kill(s, 1);
    o = serve_search(port, q, &st);
    CHECK(st == 200 && json_array_size(json_object_get(o, "hits")) == 10);
    json_t *bk = json_object_get(o, "backend"),
           *d0 = json_array_get(json_object_get(bk, "dead"), 0);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port[1]);
    CHECK(json_integer_value(json_object_get(bk, "live")) == 2 &&
          !strcmp(t_json_str(d0, "address"), addr));
    CHECK(t_contains(t_json_str(bk, "warning"), addr));
    json_decref(o);
}

TEST(dist_xapian_serve)
{
    const char *dir = t_tmpdir(t_);
    struct shards s;
    REQUIRE(shards_start(&s, dir, 3, 0) == 0);
    pid_t srv = -1;
    serve_degraded(t_, &s, dir, &srv);
    if (srv > 0) {
        kill(srv, SIGTERM);
        int st = 0;
        waitpid(srv, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* a clean stop (under asan: no leak) */
    }
    shards_stop(&s);
}

/* SciFact in 3 shards: the shared training claims within 0.02 nDCG@10 of the local index. */
static double eval_ndcg(struct test_ctx *t_, const char *ix, const char *q, const char *qrels,
                        const char *extra)
{
    char *out = NULL;
    double v = -1;
    if (t_run(t_, &out, NULL, "eval --db '%s' --queries '%s' --qrels '%s' --json %s", ix, q, qrels,
              extra) == 0) {
        json_t *o = json_loads(out, 0, NULL);
        if (o && !json_object_get(o, "degraded_queries"))
            v = json_real_value(json_object_get(o, "ndcg@10"));
        json_decref(o);
    }
    free(out);
    return v;
}

static void scifact(struct test_ctx *t_, struct shards *s, const char *dir, const char *corpus,
                    const char *q, const char *qrels)
{
    char ix[600], *err = NULL;
    snprintf(ix, sizeof ix, "%s/ix", dir);
    int rc = run_index(t_, ix, corpus, s->spec, &err);
    if (rc) fprintf(stderr, "  index: %s\n", err ? err : "");
    free(err);
    REQUIRE(rc == 0);
    double remote = eval_ndcg(t_, ix, q, qrels, ""),
           local = eval_ndcg(t_, ix, q, qrels, "--backend local");
    fprintf(stderr, "  SciFact nDCG@10: 3 Xapian shards %.4f, local %.4f\n", remote, local);
    CHECK(local > 0.6 && remote > 0);
    CHECK(fabs(remote - local) <= 0.02);
}

TEST(dist_xapian_scifact)
{
    const char *corpus = t_shared(t_, "scifact/corpus.jsonl"),
               *q = t_shared(t_, "scifact/queries_train.jsonl"),
               *qrels = t_shared(t_, "scifact/qrels_train.tsv");
    if (!corpus || !q || !qrels) SKIP("../shared/data/scifact not present");
    const char *dir = t_tmpdir(t_);
    struct shards s;
    REQUIRE(shards_start(&s, dir, 3, 0) == 0);
    scifact(t_, &s, dir, corpus, q, qrels);
    shards_stop(&s);
}
