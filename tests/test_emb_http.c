/* test_embed_http.c - the HTTP embedder against a fake OpenAI-style embeddings endpoint that the
 * tests start on 127.0.0.1 (tests/testhttp.h). */
#include "ascii.h"
#include "hash.h"
#include "test.h"
#include "testhttp.h"
#include "utf8.h"

#include "index/idx.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define FAKE_DIM 32
#define FAKE_PATH "/v1/embeddings"
#define FAKE_MAX_REQ 64

enum {
    F_OK = 0,
    F_FAIL_FIRST, /* the first fail_n requests get fail_status with fail_body, then F_OK */
    F_MALFORMED,  /* 200 with broken JSON */
    F_NO_DATA,    /* 200 with {"object":"list"} */
    F_BASE64,     /* 200 with embeddings as strings */
    F_DUP_INDEX,  /* 200 with index 0 twice */
    F_SHORT,      /* 200 with one vector fewer than asked */
    F_RAGGED,     /* 200 with the last vector one value short */
    F_HANG        /* never answer */
};

struct fake {
    pthread_mutex_t mu;
    int mode;
    int dim;      /* length of the vectors answered */
    int delay_ms; /* before every answer */
    int fail_n, fail_status;
    const char *fail_body;    /* for F_FAIL_FIRST */
    const char *fail_ctype;   /* NULL: application/json */
    const char *fail_headers; /* extra header lines */
    /* what the fake saw */
    int nreq;
    int sizes[FAKE_MAX_REQ]; /* inputs per request, in arrival order */
    char auth[128];          /* Authorization of the last request ("" when absent) */
    char model[64];          /* "model" of the last request ("(none)" when absent) */
    char encoding[32];       /* "encoding_format" of the last request */
    int saw_empty;           /* an empty input string arrived */
};

/* The fake model: a hashed bag of lower-cased words, unnormalised (scaled by 3) so that the
 * client's normalisation shows. Texts without words get the zero vector. */
static void fake_vec(const char *t, int dim, double *v)
{
    for (int k = 0; k < dim; k++)
        v[k] = 0;
    const unsigned char *p = (const unsigned char *)t;
    while (*p) {
        while (*p && !ascii_isalnum(*p)) p++;
        if (!*p) break;
        uint64_t h = HASH_FNV_INIT;
        for (; ascii_isalnum(*p); p++) {
            unsigned char c = (unsigned char)ascii_tolower(*p);
            h = hash_fnv1a64_update(h, &c, 1);
        }
        v[h % (uint64_t)dim] += (h >> 63) ? -3.0 : 3.0;
    }
}

static void fake_handler(void *ud, const struct th_request *rq, struct th_response *rs)
{
    struct fake *f = ud;
    pthread_mutex_lock(&f->mu);
    int mode = f->mode, dim = f->dim, n_seen = f->nreq++;
    rs->delay_ms = f->delay_ms;
    if (!th_header(rq, "Authorization", f->auth, sizeof f->auth)) f->auth[0] = '\0';
    pthread_mutex_unlock(&f->mu);

    if (mode == F_HANG) {
        rs->hang = 1;
        return;
    }
    if (mode == F_FAIL_FIRST && n_seen < f->fail_n) {
        rs->status = f->fail_status;
        if (f->fail_ctype) snprintf(rs->ctype, sizeof rs->ctype, "%s", f->fail_ctype);
        if (f->fail_headers) snprintf(rs->headers, sizeof rs->headers, "%s", f->fail_headers);
        buf_puts(&rs->body, f->fail_body);
        return;
    }
    if (mode == F_MALFORMED) {
        buf_puts(&rs->body, "{\"data\": [{\"index\": 0, \"embedding\": [0.1, ");
        return;
    }
    if (mode == F_NO_DATA) {
        buf_puts(&rs->body, "{\"object\": \"list\"}");
        return;
    }
    json_t *req = json_loadb(rq->body, rq->body_len, 0, NULL);
    json_t *input = json_object_get(req, "input");
    json_t *model = json_object_get(req, "model"), *enc = json_object_get(req, "encoding_format");
    if (!json_is_array(input) || strcmp(rq->method, "POST") != 0 ||
        strcmp(rq->target, FAKE_PATH) != 0) {
        rs->status = 400;
        buf_puts(&rs->body, "{\"error\": {\"message\": \"bad request to the fake\"}}");
        json_decref(req);
        return;
    }
    size_t m = json_array_size(input);
    int empty = 0;
    for (size_t i = 0; i < m; i++)
        empty |= json_string_length(json_array_get(input, i)) == 0;
    pthread_mutex_lock(&f->mu);
    if (n_seen < FAKE_MAX_REQ) f->sizes[n_seen] = (int)m;
    snprintf(f->model, sizeof f->model, "%s",
             json_is_string(model) ? json_string_value(model) : "(none)");
    snprintf(f->encoding, sizeof f->encoding, "%s",
             json_is_string(enc) ? json_string_value(enc) : "");
    f->saw_empty |= empty;
    pthread_mutex_unlock(&f->mu);
    if (empty) { /* like OpenAI */
        rs->status = 400;
        buf_puts(&rs->body, "{\"error\": {\"message\": \"input cannot be an empty string\"}}");
        json_decref(req);
        return;
    }

    /* answer in reverse order, each row tagged with its index */
    double v[256];
    struct buf *b = &rs->body;
    buf_puts(b, "{\"object\": \"list\", \"data\": [");
    size_t rows = mode == F_SHORT && m > 0 ? m - 1 : m;
    for (size_t r = 0; r < rows; r++) {
        size_t i = m - 1 - r;
        int d = mode == F_RAGGED && r == rows - 1 ? dim - 1 : dim;
        size_t idx = mode == F_DUP_INDEX ? 0 : i;
        fake_vec(json_string_value(json_array_get(input, i)), dim, v);
        buf_printf(
            b, "%s{\"object\": \"embedding\", \"index\": %zu, \"embedding\": ", r ? ", " : "", idx);
        if (mode == F_BASE64) {
            buf_puts(b, "\"AAAAAA==\"}");
            continue;
        }
        buf_putc(b, '[');
        for (int k = 0; k < d; k++)
            buf_printf(b, "%s%.17g", k ? "," : "", v[k]);
        buf_puts(b, "]}");
    }
    buf_puts(b, "], \"model\": \"fake\", \"usage\": {\"prompt_tokens\": 1, \"total_tokens\": 1}}");
    json_decref(req);
}

/* ---- helpers */

struct env {
    struct fake f;
    struct th_server *srv;
    char url[128];
};

static int env_start(struct env *e)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->f.mu, NULL);
    e->f.dim = FAKE_DIM;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
    if (th_start(&e->srv, fake_handler, &e->f) != 0) return -1;
    th_url(e->srv, FAKE_PATH, e->url, sizeof e->url);
    return 0;
}

static void env_stop(struct env *e)
{
    th_stop(e->srv);
    e->srv = NULL;
    pthread_mutex_destroy(&e->f.mu);
    curl_global_cleanup();
}

static int fake_nreq(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->nreq;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The row the client should produce for text t: the fake's vector, normalised (zero stays zero). */
static void expected_row(const char *t, float *out)
{
    double v[FAKE_DIM], nn = 0;
    fake_vec(t, FAKE_DIM, v);
    for (int k = 0; k < FAKE_DIM; k++)
        nn += v[k] * v[k];
    for (int k = 0; k < FAKE_DIM; k++)
        out[k] = nn > 0 ? (float)(v[k] / sqrt(nn)) : 0.0f;
}

static int rows_match(const char *t, const float *row)
{
    float want[FAKE_DIM];
    expected_row(t ? t : "", want);
    for (int k = 0; k < FAKE_DIM; k++)
        if (fabsf(want[k] - row[k]) > 1e-6f) return 0;
    return 1;
}

static float dot(const float *a, const float *b, int d)
{
    float s = 0;
    for (int k = 0; k < d; k++)
        s += a[k] * b[k];
    return s;
}

static void base_opts(struct emb_http_opts *o, const char *url)
{
    memset(o, 0, sizeof *o);
    o->url = url;
    o->model = "fake-embed";
    o->api_key_env = "VC_TEST_NO_SUCH_KEY_VAR";
}

/* ---- cases */

/* 150 texts (one NULL, one empty) in batches of 64: the probe plus 3 requests, rows placed by
 * "index" although the fake answers in reverse order, normalised, similar texts closer. */
TEST(emb_http_round_trip)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    struct emb_http_opts o;
    base_opts(&o, e.url);
    struct emb *emb = NULL;
    struct err err = {0};
    enum { N = 150 };
    char store[N][96];
    const char *texts[N];
    float *out = malloc((size_t)N * FAKE_DIM * sizeof *out);
    REQUIRE(out);
    int rc = emb_http_new(&emb, &o, &err);
    if (rc != 0) fprintf(stderr, "  %s\n", err.msg);
    CHECK(rc == 0);
    if (rc != 0) goto done;
    CHECK(emb_dim(emb) == FAKE_DIM);
    CHECK(fake_nreq(&e.f) == 1 && e.f.sizes[0] == 1); /* the dim probe */
    CHECK(strcmp(emb_name(emb), "http") == 0);
    for (int i = 0; i < N; i++) {
        snprintf(store[i], sizeof store[i], "passage %d about topic%d and word%d", i, i % 7,
                 i % 13);
        texts[i] = store[i];
    }
    texts[5] = "";
    texts[9] = NULL;
    texts[10] = "the cat sat on the mat";
    texts[11] = "the cat sat on a mat";
    texts[12] = "stock markets fell sharply today";
    rc = emb_embed(emb, texts, N, out, &err);
    if (rc != 0) fprintf(stderr, "  %s\n", err.msg);
    CHECK(rc == 0);
    if (rc != 0) goto done;
    /* 149 texts sent: 64 + 64 + 21 (parallel, so in any order) */
    CHECK(fake_nreq(&e.f) == 4);
    int s64 = 0, s21 = 0;
    for (int r = 1; r < 4; r++) {
        s64 += e.f.sizes[r] == 64;
        s21 += e.f.sizes[r] == 21;
    }
    CHECK(s64 == 2 && s21 == 1);
    CHECK(emb_http_requests(emb) == 4);
    CHECK(strcmp(e.f.model, "fake-embed") == 0);
    CHECK(strcmp(e.f.encoding, "float") == 0);
    CHECK(!e.f.saw_empty); /* "" went out as " " */
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += !rows_match(texts[i], out + (size_t)i * FAKE_DIM);
    CHECK(bad == 0);
    CHECK(emb_is_zero(out + 9 * FAKE_DIM, FAKE_DIM)); /* NULL */
    CHECK(emb_is_zero(out + 5 * FAKE_DIM, FAKE_DIM)); /* " ": no words, zero from the fake */
    float n0 = dot(out, out, FAKE_DIM);
    CHECK(fabsf(n0 - 1.0f) < 1e-5f);
    const float *cat1 = out + 10 * FAKE_DIM, *cat2 = out + 11 * FAKE_DIM,
                *stock = out + 12 * FAKE_DIM;
    CHECK(dot(cat1, cat2, FAKE_DIM) > dot(cat1, stock, FAKE_DIM) + 0.3f);
    /* a second call on the same handle reuses it */
    rc = emb_embed(emb, texts + 10, 3, out, &err);
    CHECK(rc == 0 && fake_nreq(&e.f) == 5 && rows_match(texts[10], out));
done:
    emb_free(emb);
    free(out);
    env_stop(&e);
}

static void restore_env(const char *name, const char *saved)
{
    if (saved)
        setenv(name, saved, 1);
    else
        unsetenv(name);
}

/* The key goes out as "Authorization: Bearer <key>" from the named variable, or from
 * VERICITE_EMBED_KEY by default; no variable, no header; the key is not in the signature. */
TEST(emb_http_bearer_key)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    const char *saved = getenv(EMB_HTTP_DEFAULT_KEY_ENV);
    char saved_copy[512];
    if (saved) snprintf(saved_copy, sizeof saved_copy, "%s", saved);
    struct emb_http_opts o;
    base_opts(&o, e.url);
    o.dim = FAKE_DIM;
    struct emb *emb = NULL;
    struct err err = {0};
    const char *texts[2] = {"hello world", "key test"};
    float out[2 * FAKE_DIM];

    setenv("VC_TEST_EMBED_KEY", "sk-test-42", 1);
    o.api_key_env = "VC_TEST_EMBED_KEY";
    CHECK(emb_http_new(&emb, &o, &err) == 0);
    CHECK(emb && emb_embed(emb, texts, 2, out, &err) == 0);
    CHECK(strcmp(e.f.auth, "Bearer sk-test-42") == 0);
    CHECK(!t_contains(emb_signature(emb), "sk-test"));
    emb_free(emb);
    emb = NULL;
    unsetenv("VC_TEST_EMBED_KEY");

    o.api_key_env = NULL; /* the default variable */
    unsetenv(EMB_HTTP_DEFAULT_KEY_ENV);
    CHECK(emb_http_new(&emb, &o, &err) == 0);
    CHECK(emb && emb_embed(emb, texts, 2, out, &err) == 0);
    CHECK(e.f.auth[0] == '\0');
    emb_free(emb);
    emb = NULL;

    setenv(EMB_HTTP_DEFAULT_KEY_ENV, "default-key", 1);
    CHECK(emb_http_new(&emb, &o, &err) == 0);
    CHECK(emb && emb_embed(emb, texts, 2, out, &err) == 0);
    CHECK(strcmp(e.f.auth, "Bearer default-key") == 0);
    emb_free(emb);
    emb = NULL;

    setenv(EMB_HTTP_DEFAULT_KEY_ENV, "bad\r\nX-Injected: 1", 1); /* header injection */
    CHECK(emb_http_new(&emb, &o, &err) == ERR_ARG && emb == NULL);
    restore_env(EMB_HTTP_DEFAULT_KEY_ENV, saved ? saved_copy : NULL);
    env_stop(&e);
}

/* 500 twice then 200: retried with backoff (0.5 s + 1 s at least) and the rows arrive; with one
 * retry allowed the same server fails the call, naming URL, status, message and attempts. */
TEST(emb_http_retry_5xx)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    e.f.mode = F_FAIL_FIRST;
    e.f.fail_n = 2;
    e.f.fail_status = 500;
    e.f.fail_body = "upstream model crashed";
    e.f.fail_ctype = "text/plain";
    struct emb_http_opts o;
    base_opts(&o, e.url);
    o.dim = FAKE_DIM;
    struct emb *emb = NULL;
    struct err err = {0};
    const char *texts[3] = {"one fish", "two fish", "red fish"};
    float out[3 * FAKE_DIM];
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    double t0 = now_s();
    int rc = emb_embed(emb, texts, 3, out, &err);
    double dt = now_s() - t0;
    if (rc != 0) fprintf(stderr, "  %s\n", err.msg);
    CHECK(rc == 0);
    CHECK(fake_nreq(&e.f) == 3);
    CHECK(dt >= 1.45 && dt < 3.0);
    CHECK(rows_match(texts[2], out + 2 * FAKE_DIM));
    emb_free(emb);
    emb = NULL;

    e.f.nreq = 0;
    o.retries = 1;
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    rc = emb_embed(emb, texts, 3, out, &err);
    CHECK(rc == ERR_NET);
    CHECK(fake_nreq(&e.f) == 2);
    CHECK(t_contains(err.msg, e.url));
    CHECK(t_contains(err.msg, "HTTP 500"));
    CHECK(t_contains(err.msg, "upstream model crashed"));
    CHECK(t_contains(err.msg, "after 2 attempts"));
    emb_free(emb);
    env_stop(&e);
}

/* 429 with Retry-After: 1: the retry waits the second asked for (backoff alone would be < 0.75 s).
 */
TEST(emb_http_retry_after)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    e.f.mode = F_FAIL_FIRST;
    e.f.fail_n = 1;
    e.f.fail_status = 429;
    e.f.fail_body = "{\"error\": {\"message\": \"Rate limit reached\"}}";
    e.f.fail_headers = "Retry-After: 1\r\n";
    struct emb_http_opts o;
    base_opts(&o, e.url);
    o.dim = FAKE_DIM;
    struct emb *emb = NULL;
    struct err err = {0};
    const char *texts[1] = {"rate limited text"};
    float out[FAKE_DIM];
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    double t0 = now_s();
    int rc = emb_embed(emb, texts, 1, out, &err);
    double dt = now_s() - t0;
    CHECK(rc == 0);
    CHECK(fake_nreq(&e.f) == 2);
    CHECK(dt >= 0.95 && dt < 2.0);
    CHECK(rows_match(texts[0], out));
    emb_free(emb);
    env_stop(&e);
}

/* Other 4xx are not retried; the server's message surfaces (OpenAI JSON or plain text, cut). */
TEST(emb_http_client_error)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    e.f.mode = F_FAIL_FIRST;
    e.f.fail_n = 100;
    e.f.fail_status = 400;
    e.f.fail_body = "{\"error\": {\"message\": \"This model's maximum context length is 8192 "
                    "tokens\", \"type\": \"invalid_request_error\", \"param\": null}}";
    struct emb_http_opts o;
    base_opts(&o, e.url);
    o.dim = FAKE_DIM;
    struct emb *emb = NULL;
    struct err err = {0};
    const char *texts[1] = {"too long"};
    float out[FAKE_DIM];
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    CHECK(emb_embed(emb, texts, 1, out, &err) == ERR_NET);
    CHECK(fake_nreq(&e.f) == 1);
    CHECK(t_contains(err.msg, e.url));
    CHECK(t_contains(err.msg, "HTTP 400"));
    CHECK(t_contains(err.msg, "maximum context length is 8192 tokens"));
    CHECK(!t_contains(err.msg, "invalid_request_error")); /* the message, not the whole body */

    static char plain[2000];
    memset(plain, 'x', sizeof plain - 1);
    memcpy(plain, "no route\nhere ", 14);
    e.f.fail_status = 404;
    e.f.fail_body = plain;
    e.f.fail_ctype = "text/plain";
    e.f.nreq = 0;
    CHECK(emb_embed(emb, texts, 1, out, &err) == ERR_NET);
    CHECK(fake_nreq(&e.f) == 1);
    CHECK(t_contains(err.msg, "HTTP 404: no route here xxx"));
    CHECK(t_contains(err.msg, "..."));
    CHECK(strlen(err.msg) < 400);

    /* multi-byte characters are not cut in half; invalid bytes do not reach the message */
    static char utf[1200];
    size_t u = 0;
    const char *head = "bad \xff\xfe byte ";
    memcpy(utf, head, strlen(head));
    u += strlen(head);
    while (u + 2 < sizeof utf) {
        memcpy(utf + u, "\xc3\xa9", 2); /* é */
        u += 2;
    }
    utf[u] = '\0';
    e.f.fail_body = utf;
    CHECK(emb_embed(emb, texts, 1, out, &err) == ERR_NET);
    CHECK(t_contains(err.msg, "bad ?? byte \xc3\xa9"));
    CHECK(t_contains(err.msg, "\xc3\xa9..."));
    CHECK(utf8_valid(err.msg, strlen(err.msg), NULL));

    e.f.fail_status = 401;
    e.f.fail_body = "{\"error\": \"invalid api key\"}";
    e.f.fail_ctype = NULL;
    CHECK(emb_embed(emb, texts, 1, out, &err) == ERR_NET);
    CHECK(t_contains(err.msg, "HTTP 401: invalid api key"));
    CHECK(t_contains(err.msg, "API key"));
    emb_free(emb);
    env_stop(&e);
}

/* A vector size other than the configured or learned one is ERR_MISMATCH naming the endpoint;
 * so are a missing vector and a ragged answer. */
TEST(emb_http_wrong_dim)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    struct emb_http_opts o;
    base_opts(&o, e.url);
    o.dim = 16;
    struct emb *emb = NULL;
    struct err err = {0};
    const char *texts[3] = {"a b", "c d", "e f"};
    float out[3 * FAKE_DIM];
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    CHECK(fake_nreq(&e.f) == 0); /* dim given: no probe */
    CHECK(emb_embed(emb, texts, 3, out, &err) == ERR_MISMATCH);
    CHECK(t_contains(err.msg, e.url));
    CHECK(t_contains(err.msg, "32 values, expected 16"));
    CHECK(fake_nreq(&e.f) == 1); /* not retried */
    emb_free(emb);
    emb = NULL;

    o.dim = 0; /* learned (32), then the model behind the endpoint changes */
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    CHECK(emb_dim(emb) == FAKE_DIM);
    e.f.dim = 24;
    CHECK(emb_embed(emb, texts, 3, out, &err) == ERR_MISMATCH);
    CHECK(t_contains(err.msg, "24 values, expected 32"));
    e.f.dim = FAKE_DIM;
    e.f.mode = F_RAGGED;
    CHECK(emb_embed(emb, texts, 3, out, &err) == ERR_MISMATCH);
    CHECK(t_contains(err.msg, "31 values, expected 32"));
    e.f.mode = F_SHORT;
    CHECK(emb_embed(emb, texts, 3, out, &err) == ERR_MISMATCH);
    CHECK(t_contains(err.msg, "sent 3 texts, got 2 vectors"));
    e.f.mode = F_OK;
    CHECK(emb_embed(emb, texts, 3, out, &err) == 0); /* the handle still works */
    emb_free(emb);
    env_stop(&e);
}

/* Broken answers with status 200 are ERR_PARSE at once (no retry), naming the endpoint. */
TEST(emb_http_malformed)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    struct emb_http_opts o;
    base_opts(&o, e.url);
    o.dim = FAKE_DIM;
    struct emb *emb = NULL;
    struct err err = {0};
    const char *texts[2] = {"x y", "z"};
    float out[2 * FAKE_DIM];
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    static const struct {
        int mode;
        const char *want;
    } cases[] = {{F_MALFORMED, "not JSON"},
                 {F_NO_DATA, "no \"data\" array"},
                 {F_BASE64, "base64"},
                 {F_DUP_INDEX, "answered twice"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        e.f.mode = cases[i].mode;
        e.f.nreq = 0;
        CHECK(emb_embed(emb, texts, 2, out, &err) == ERR_PARSE);
        CHECK(t_contains(err.msg, cases[i].want));
        CHECK(t_contains(err.msg, e.url));
        CHECK(fake_nreq(&e.f) == 1);
    }
    /* the probe fails the same way: no embedder */
    emb_free(emb);
    emb = NULL;
    e.f.mode = F_MALFORMED;
    o.dim = 0;
    CHECK(emb_http_new(&emb, &o, &err) == ERR_PARSE && emb == NULL);
    env_stop(&e);
}

/* A server that never answers: each attempt ends at the timeout, one retry, then ERR_NET, all
 * well under 3 s. */
TEST(emb_http_hang_timeout)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    e.f.mode = F_HANG;
    struct emb_http_opts o;
    base_opts(&o, e.url);
    o.dim = FAKE_DIM;
    o.timeout_ms = 300;
    o.connect_timeout_ms = 300;
    o.retries = 1;
    struct emb *emb = NULL;
    struct err err = {0};
    const char *texts[1] = {"anyone there"};
    float out[FAKE_DIM];
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    double t0 = now_s();
    int rc = emb_embed(emb, texts, 1, out, &err);
    double dt = now_s() - t0;
    CHECK(rc == ERR_NET);
    CHECK(dt >= 1.0 && dt < 3.0); /* 0.3 + 0.5..0.75 + 0.3 */
    CHECK(fake_nreq(&e.f) == 2);
    CHECK(t_contains(err.msg, "timed out"));
    CHECK(t_contains(err.msg, "after 2 attempts"));
    CHECK(t_contains(err.msg, e.url));
    emb_free(emb);
    env_stop(&e);
}

/* Nothing listens: creation with a probe fails fast; embedding retries connection errors. */
TEST(emb_http_refused)
{
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    int port = th_free_port();
    REQUIRE(port > 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/embeddings", port);
    struct emb_http_opts o;
    base_opts(&o, url);
    o.retries = -1;
    struct emb *emb = NULL;
    struct err err = {0};
    double t0 = now_s();
    CHECK(emb_http_new(&emb, &o, &err) == ERR_NET);
    CHECK(emb == NULL);
    CHECK(now_s() - t0 < 1.0);
    CHECK(t_contains(err.msg, url));

    o.dim = FAKE_DIM;
    o.retries = 1;
    CHECK(emb_http_new(&emb, &o, &err) == 0);
    const char *texts[1] = {"hello"};
    float out[FAKE_DIM];
    t0 = now_s();
    CHECK(emb && emb_embed(emb, texts, 1, out, &err) == ERR_NET);
    double dt = now_s() - t0;
    CHECK(dt >= 0.45 && dt < 2.0);
    CHECK(t_contains(err.msg, "after 2 attempts"));
    CHECK(emb_http_requests(emb) == 2);
    emb_free(emb);
    curl_global_cleanup();
}

/* parallel = 4 puts several (normally 4) requests in flight at once, never more (the fake holds
 * each 150 ms); parallel = 1 only one. */
TEST(emb_http_parallel)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    e.f.delay_ms = 150;
    struct emb_http_opts o;
    base_opts(&o, e.url);
    o.dim = FAKE_DIM;
    o.batch = 8;
    o.parallel = 4;
    struct emb *emb = NULL;
    struct err err = {0};
    enum { N = 64 };
    char store[N][48];
    const char *texts[N];
    for (int i = 0; i < N; i++) {
        snprintf(store[i], sizeof store[i], "text number %d of many", i);
        texts[i] = store[i];
    }
    float *out = malloc((size_t)N * FAKE_DIM * sizeof *out);
    REQUIRE(out);
    CHECK(emb_http_new(&emb, &o, &err) == 0);
    CHECK(emb && emb_embed(emb, texts, N, out, &err) == 0);
    CHECK(fake_nreq(&e.f) == 8);
    int most = th_max_inflight(e.srv);
    if (most != 4) fprintf(stderr, "  note: at most %d requests in flight (4 expected)\n", most);
    CHECK(most >= 2 && most <= 4); /* overlap, within the cap (4 unless the machine is busy) */
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += !rows_match(texts[i], out + (size_t)i * FAKE_DIM);
    CHECK(bad == 0);
    emb_free(emb);
    emb = NULL;
    env_stop(&e);

    REQUIRE(env_start(&e) == 0);
    e.f.delay_ms = 100;
    o.url = e.url;
    o.parallel = 1;
    CHECK(emb_http_new(&emb, &o, &err) == 0);
    CHECK(emb && emb_embed(emb, texts, 24, out, &err) == 0);
    CHECK(fake_nreq(&e.f) == 3);
    CHECK(th_max_inflight(e.srv) == 1);
    emb_free(emb);
    free(out);
    env_stop(&e);
}

/* The signature names URL, model and dim (learned or given); a given dim sends no request. */
TEST(emb_http_signature)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    struct emb_http_opts o;
    base_opts(&o, e.url);
    struct emb *emb = NULL;
    struct err err = {0};
    char want[256];
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    snprintf(want, sizeof want, "http:%s:fake-embed:dim=32", e.url);
    CHECK(strcmp(emb_signature(emb), want) == 0);
    emb_free(emb);
    emb = NULL;

    o.model = NULL;
    o.dim = 16;
    int before = fake_nreq(&e.f);
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    snprintf(want, sizeof want, "http:%s::dim=16", e.url);
    CHECK(strcmp(emb_signature(emb), want) == 0);
    CHECK(emb_dim(emb) == 16);
    CHECK(fake_nreq(&e.f) == before);
    CHECK(emb_http_requests(emb) == 0);
    emb_free(emb);
    emb = NULL;

    o.dim = 0; /* no model: the request leaves "model" out */
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    CHECK(strcmp(e.f.model, "(none)") == 0);
    emb_free(emb);
    env_stop(&e);
}

/* Bad options are ERR_ARG before any network use. */
TEST(emb_http_bad_opts)
{
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    static const char *const urls[] = {NULL,
                                       "",
                                       "ftp://127.0.0.1/v1/embeddings",
                                       "file:///etc/passwd",
                                       "127.0.0.1:8080/v1/embeddings",
                                       "http://user:secret@127.0.0.1:1/v1/embeddings",
                                       "http://127.0.0.1:1/v1/embed dings",
                                       "http:///v1/embeddings"};
    struct emb_http_opts o;
    struct emb *emb = NULL;
    struct err err = {0};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        base_opts(&o, urls[i]);
        o.dim = 8;
        int rc = emb_http_new(&emb, &o, &err);
        if (rc != ERR_ARG) fprintf(stderr, "  url %zu: rc %d\n", i, rc);
        CHECK(rc == ERR_ARG && emb == NULL);
    }
    base_opts(&o, "http://user:secret@127.0.0.1:1/v1/embeddings");
    CHECK(emb_http_new(&emb, &o, &err) == ERR_ARG && !t_contains(err.msg, "secret"));
    struct {
        int batch, parallel, retries, dim;
        long timeout;
    } bad[] = {{-1, 0, 0, 8, 0},   {5000, 0, 0, 8, 0},  {0, -2, 0, 8, 0},
               {0, 1000, 0, 8, 0}, {0, 0, -5, 8, 0},    {0, 0, 99, 8, 0},
               {0, 0, 0, -3, 0},   {0, 0, 0, 70000, 0}, {0, 0, 0, 8, -100}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        base_opts(&o, "http://127.0.0.1:1/v1/embeddings");
        o.batch = bad[i].batch;
        o.parallel = bad[i].parallel;
        o.retries = bad[i].retries;
        o.dim = bad[i].dim;
        o.timeout_ms = bad[i].timeout;
        int rc = emb_http_new(&emb, &o, &err);
        if (rc != ERR_ARG) fprintf(stderr, "  opts %zu: rc %d\n", i, rc);
        CHECK(rc == ERR_ARG && emb == NULL);
    }
    CHECK(emb_http_new(&emb, NULL, &err) == ERR_ARG);
    curl_global_cleanup();
}

/* Texts over the per-request cap and invalid UTF-8 fail before anything is sent; texts that fit
 * are split by size as well as by count. */
TEST(emb_http_limits)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    struct emb_http_opts o;
    base_opts(&o, e.url);
    o.dim = FAKE_DIM;
    struct emb *emb = NULL;
    struct err err = {0};
    float out[3 * FAKE_DIM];
    size_t big = (size_t)EMB_HTTP_MAX_REQUEST_TEXT + 1, third = EMB_HTTP_MAX_REQUEST_TEXT / 8 * 3;
    char *huge = malloc(big + 1);
    REQUIRE(huge);
    memset(huge, 'a', big);
    huge[big] = '\0';
    REQUIRE_OK(emb_http_new(&emb, &o, &err), err);
    const char *t1[2] = {"fine", huge};
    CHECK(emb_embed(emb, t1, 2, out, &err) == ERR_LIMIT);
    CHECK(t_contains(err.msg, "text 1"));
    const char *t2[2] = {"fine", "bad \xff byte"};
    CHECK(emb_embed(emb, t2, 2, out, &err) == ERR_UTF8);
    CHECK(t_contains(err.msg, "text 1"));
    CHECK(fake_nreq(&e.f) == 0);
    /* three texts of 3/8 of the cap: two fit in one request, the third goes in another */
    char *a = malloc(third + 1), *b = malloc(third + 1), *c = malloc(third + 1);
    REQUIRE(a && b && c);
    memset(a, 'a', third);
    memset(b, 'b', third);
    memset(c, 'c', third);
    a[third] = b[third] = c[third] = '\0';
    const char *t3[3] = {a, b, c};
    int rc = emb_embed(emb, t3, 3, out, &err);
    if (rc != 0) fprintf(stderr, "  %s\n", err.msg);
    CHECK(rc == 0);
    CHECK(fake_nreq(&e.f) == 2);
    CHECK((e.f.sizes[0] == 2 && e.f.sizes[1] == 1) || (e.f.sizes[0] == 1 && e.f.sizes[1] == 2));
    CHECK(rows_match(c, out + 2 * FAKE_DIM));
    free(a);
    free(b);
    free(c);
    free(huge);
    emb_free(emb);
    env_stop(&e);
}
