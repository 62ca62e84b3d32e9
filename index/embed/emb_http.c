/* emb_http.c - the HTTP embedder: an OpenAI-compatible embeddings endpoint over the HTTP client
 * (common/http/http.h).
 *
 * What is ours here is the meaning: the JSON request and answer, batching, the dimension check.
 * The client does the transfers: the endpoint is configured by the user, so it is trusted like a
 * config file (no address guard: it is usually on localhost), the proxy variables apply except for
 * loopback, and failed requests are retried on timeouts, connection errors, 429 and 5xx.
 *
 * Flow of one emb_embed() call: NULL texts are dropped (zero rows), the rest are grouped into
 * jobs (one request each), the requests run together (up to `parallel` in flight), and the
 * answers are read in order; the first job that failed fails the call. */
#include "utf8.h"
#include "common/http/http.h"
#include "index/embed/emb.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_ERRMSG_MAX 200              /* bytes of a server's error message kept */
#define HTTP_ERRBODY_JSON_MAX (1u << 20) /* error bodies up to this size are tried as JSON */

struct http_job {
    size_t first, n; /* texts h->ids[first .. first + n) */
};

struct emb_http {
    struct emb base; /* first: the generic handle */
    char *url, *model, *key, *auth; /* auth: "Authorization: Bearer <key>", or NULL */
    char *sig;
    const char *headers[4]; /* the request headers, NULL-terminated */
    int batch, parallel, retries;
    long timeout_ms, connect_ms;
    struct http_client *client;
    /* scratch for one call, grown as needed */
    size_t *ids; /* (n) input positions of the texts sent */
    size_t ids_cap;
    struct http_job *jobs;      /* (n) */
    struct http_request *reqs;  /* (n) */
    struct http_result *res;    /* (n) */
    char **bodies;              /* (n) request bodies (json_dumps) */
    unsigned char *seen;        /* (batch) rows of a job answered so far */
    uint64_t requests;
};

static const struct emb_ops http_ops;

static struct emb_http *as_http(const struct emb *e)
{
    return e && e->ops == &http_ops ? (struct emb_http *)e : NULL;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

/* ---------------------------------------------------------------- messages */

/* Copy a server's error text into out (cap bytes): control characters become spaces, runs of
 * spaces shrink to one, bytes that are not valid UTF-8 become '?', and text past
 * HTTP_ERRMSG_MAX bytes is cut before a whole character with "..." after it. */
static void clean_text(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0, limit = cap - 4 < HTTP_ERRMSG_MAX ? cap - 4 : HTTP_ERRMSG_MAX;
    int cut = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2; /* sequence length */
        const char *src = s + i;
        if (c >= 0x80 && (k > len - i || !utf8_valid(src, k, NULL))) {
            src = "?";
            k = 1;
            i++;
        } else {
            i += k;
        }
        if (k == 1 && ((unsigned char)*src < 0x20 || *src == 0x7f)) src = " ";
        if (*src == ' ' && (o == 0 || out[o - 1] == ' ')) continue;
        if (o + k > limit) {
            cut = 1;
            break;
        }
        memcpy(out + o, src, k);
        o += k;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (cut) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* The message in an error body: {"error":{"message":...}} (OpenAI), {"error":"..."},
 * {"message":"..."}, {"detail":"..."} (FastAPI), else the body as plain text. */
static void server_message(const struct buf *b, char *out, size_t cap)
{
    const char *text = b->data ? b->data : "";
    size_t len = b->len;
    json_t *root = NULL;
    if (len > 0 && len <= HTTP_ERRBODY_JSON_MAX) root = json_loadb(text, len, 0, NULL);
    if (json_is_object(root)) {
        json_t *e = json_object_get(root, "error"), *m = NULL;
        if (json_is_object(e)) m = json_object_get(e, "message");
        if (!json_is_string(m)) m = e;
        if (!json_is_string(m)) m = json_object_get(root, "message");
        if (!json_is_string(m)) m = json_object_get(root, "detail");
        if (json_is_string(m)) {
            text = json_string_value(m);
            len = json_string_length(m);
        }
    }
    if (len == 0) {
        snprintf(out, cap, "(empty body)");
    } else {
        clean_text(text, len, out, cap);
        if (!out[0]) snprintf(out, cap, "(blank body)");
    }
    json_decref(root);
}

/* ---------------------------------------------------------------- requests and answers */

/* The request body of job j (json_dumps, freed by the caller), or NULL when out of memory. */
static char *job_body(const struct emb_http *h, const struct http_job *j, const char *const *texts)
{
    char *out = NULL;
    json_t *root = json_object(), *input = json_array();
    if (!root || !input) goto done;
    for (size_t k = 0; k < j->n; k++) {
        const char *t = texts[h->ids[j->first + k]];
        if (!*t) t = " "; /* many servers reject "" */
        if (json_array_append_new(input, json_string(t)) != 0) goto done;
    }
    if (h->model && json_object_set_new(root, "model", json_string(h->model)) != 0) goto done;
    if (json_object_set(root, "input", input) != 0 ||
        json_object_set_new(root, "encoding_format", json_string("float")) != 0)
        goto done;
    out = json_dumps(root, JSON_COMPACT);
done:
    json_decref(root);
    json_decref(input);
    return out;
}

/* Read a successful answer for job j into out (rows placed by "index"; out NULL: only learn and
 * check the dimension). Errors: ERR_PARSE, ERR_MISMATCH, ERR_LIMIT. */
static int parse_answer(struct emb_http *h, const struct buf *resp, const struct http_job *j,
                        float *out, struct err *err)
{
    int rc = 0;
    json_error_t je;
    json_t *root = json_loadb(resp->data ? resp->data : "", resp->len, 0, &je);
    if (!root)
        return err_set(err, ERR_PARSE, "embeddings endpoint %s: answer is not JSON (line %d: %s)",
                       h->url, je.line, je.text);
    json_t *data = json_object_get(root, "data");
    if (!json_is_array(data)) {
        rc =
            err_set(err, ERR_PARSE, "embeddings endpoint %s: answer has no \"data\" array", h->url);
        goto fail;
    }
    size_t m = json_array_size(data);
    if (m != j->n) {
        rc = err_set(err, ERR_MISMATCH, "embeddings endpoint %s: sent %zu texts, got %zu vectors",
                     h->url, j->n, m);
        goto fail;
    }
    memset(h->seen, 0, j->n);
    for (size_t i = 0; i < m; i++) {
        json_t *el = json_array_get(data, i);
        json_t *ix = json_object_get(el, "index"), *emb = json_object_get(el, "embedding");
        size_t row = i; /* servers that leave "index" out answer in order */
        if (ix) {
            json_int_t v = json_is_integer(ix) ? json_integer_value(ix) : -1;
            if (v < 0 || (uint64_t)v >= m) {
                rc = err_set(err, ERR_PARSE, "embeddings endpoint %s: data[%zu] has a bad index",
                             h->url, i);
                goto fail;
            }
            row = (size_t)v;
        }
        if (h->seen[row]) {
            rc = err_set(err, ERR_PARSE, "embeddings endpoint %s: index %zu answered twice", h->url,
                         row);
            goto fail;
        }
        h->seen[row] = 1;
        if (!json_is_array(emb)) {
            rc = err_set(err, ERR_PARSE, "embeddings endpoint %s: data[%zu].embedding is %s",
                         h->url, i,
                         json_is_string(emb) ? "a string (base64?), not an array of floats"
                                             : "missing or not an array");
            goto fail;
        }
        size_t d = json_array_size(emb);
        if (h->base.dim == 0) { /* the probe */
            if (d == 0 || d > EMB_HTTP_MAX_DIM) {
                rc = err_set(err, d ? ERR_LIMIT : ERR_PARSE,
                             "embeddings endpoint %s: vector of %zu values (1..%d accepted)",
                             h->url, d, EMB_HTTP_MAX_DIM);
                goto fail;
            }
            h->base.dim = (int)d;
        }
        if (d != (size_t)h->base.dim) {
            rc = err_set(err, ERR_MISMATCH,
                         "embeddings endpoint %s: vector of %zu values, expected %d (model "
                         "changed?)",
                         h->url, d, h->base.dim);
            goto fail;
        }
        float *o = out ? out + h->ids[j->first + row] * d : NULL;
        double nn = 0;
        for (size_t k = 0; k < d; k++) {
            json_t *v = json_array_get(emb, k);
            double x = json_is_number(v) ? json_number_value(v) : NAN;
            if (!isfinite(x) || fabs(x) > FLT_MAX) {
                rc = err_set(err, ERR_PARSE,
                             "embeddings endpoint %s: data[%zu].embedding[%zu] is not a finite "
                             "number",
                             h->url, i, k);
                goto fail;
            }
            nn += x * x;
            if (o) o[k] = (float)x;
        }
        if (!o) continue;
        if (nn < 1e-30) { /* a zero vector stays zero: "nothing to embed" */
            memset(o, 0, d * sizeof *o);
            continue;
        }
        double inv = 1.0 / sqrt(nn);
        for (size_t k = 0; k < d; k++)
            o[k] = (float)(o[k] * inv);
    }
fail:
    json_decref(root);
    return rc;
}

/* Job j's request ended without an answer to read: the error (err set, naming the URL). */
static int job_failed(const struct emb_http *h, const struct http_result *r, struct err *err)
{
    char why[HTTP_ERRMSG_MAX + 300], msg[HTTP_ERRMSG_MAX + 8];
    int code = ERR_NET;
    if (r->fail == HTTP_FAIL_TOO_LARGE) {
        code = ERR_LIMIT;
        snprintf(why, sizeof why, "answer over %zu bytes (%s)", (size_t)EMB_HTTP_MAX_RESPONSE,
                 r->why);
    } else if (r->status > 0 && (r->fail == HTTP_FAIL_HTTP || r->fail == HTTP_FAIL_REDIRECTS)) {
        server_message(&r->body, msg, sizeof msg);
        const char *hint = "";
        if (r->status >= 300 && r->status <= 399)
            hint = " (redirects are not followed: configure the final URL)";
        else if (r->status == 401 || r->status == 403)
            hint = " (is the API key set in the configured environment variable?)";
        snprintf(why, sizeof why, "HTTP %ld: %s%s", r->status, msg, hint);
    } else if (r->fail == HTTP_FAIL_TIMEOUT) {
        snprintf(why, sizeof why, "timed out: %s", r->why);
    } else {
        snprintf(why, sizeof why, "%s: %s", http_fail_name(r->fail), r->why);
    }
    if (r->attempts > 1)
        return err_set(err, code, "embeddings endpoint %s: %s (after %d attempts)", h->url, why,
                       r->attempts);
    return err_set(err, code, "embeddings endpoint %s: %s", h->url, why);
}

/* Group the non-NULL texts into jobs (the scratch arrays hold n). Errors: ERR_LIMIT (a text
 * over the request cap), ERR_UTF8. Sets *njobs. */
static int plan_jobs(struct emb_http *h, const char *const *texts, size_t n, size_t *njobs,
                     struct err *err)
{
    size_t m = 0, nj = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (!texts[i]) continue;
        size_t len = strlen(texts[i]), bad = 0;
        if (len > EMB_HTTP_MAX_REQUEST_TEXT)
            return err_set(err, ERR_LIMIT,
                           "embeddings endpoint %s: text %zu has %zu bytes (at most %u)", h->url, i,
                           len, EMB_HTTP_MAX_REQUEST_TEXT);
        if (!utf8_valid(texts[i], len, &bad))
            return err_set(err, ERR_UTF8,
                           "embeddings endpoint %s: text %zu is not valid UTF-8 "
                           "(byte %zu)",
                           h->url, i, bad);
        struct http_job *j = nj ? &h->jobs[nj - 1] : NULL;
        if (!j || j->n >= (size_t)h->batch || bytes + len > EMB_HTTP_MAX_REQUEST_TEXT) {
            j = &h->jobs[nj++];
            j->first = m;
            j->n = 0;
            bytes = 0;
        }
        h->ids[m++] = i;
        j->n++;
        bytes += len;
    }
    *njobs = nj;
    return 0;
}

/* Grow the per-job scratch arrays to n entries. Returns 0 or -1 (out of memory). */
static int grow_jobs(struct emb_http *h, size_t n)
{
    if (n <= h->ids_cap) return 0;
    size_t *p = realloc(h->ids, n * sizeof *p);
    if (p) h->ids = p;
    struct http_job *q = realloc(h->jobs, n * sizeof *q);
    if (q) h->jobs = q;
    struct http_request *rq = realloc(h->reqs, n * sizeof *rq);
    if (rq) h->reqs = rq;
    struct http_result *rs = realloc(h->res, n * sizeof *rs);
    if (rs) h->res = rs;
    char **b = realloc(h->bodies, n * sizeof *b);
    if (b) h->bodies = b;
    if (!p || !q || !rq || !rs || !b) return -1;
    h->ids_cap = n;
    return 0;
}

/* Embed texts (n) into out (n, dim), or with out NULL only learn/check the dimension. */
static int embed_run(struct emb_http *h, const char *const *texts, size_t n, float *out,
                     struct err *err)
{
    size_t nj = 0;
    int rc = 0;
    if (out) memset(out, 0, n * (size_t)h->base.dim * sizeof *out);
    if (grow_jobs(h, n) != 0) return err_set(err, ERR_NOMEM, "embedding %zu texts", n);
    if ((rc = plan_jobs(h, texts, n, &nj, err)) != 0) return rc;
    if (nj == 0) return 0;
    memset(h->bodies, 0, nj * sizeof *h->bodies);
    for (size_t k = 0; k < nj; k++) {
        if (!(h->bodies[k] = job_body(h, &h->jobs[k], texts))) {
            rc = err_set(err, ERR_NOMEM, "embeddings endpoint %s: building a request of %zu texts",
                         h->url, h->jobs[k].n);
            goto out;
        }
        h->reqs[k] = (struct http_request){
            .url = h->url,
            .method = "POST",
            .headers = h->headers,
            .body = h->bodies[k],
            .body_len = strlen(h->bodies[k]),
            .lim = {.connect_ms = h->connect_ms,
                    .total_ms = h->timeout_ms,
                    .max_bytes = EMB_HTTP_MAX_RESPONSE,
                    .retries = h->retries,
                    .retry_on = HTTP_RETRY_TRANSIENT}};
    }
    if ((rc = http_run(h->client, h->reqs, nj, h->res, err)) != 0) {
        err_prefix(err, "embeddings endpoint %s", h->url);
        goto out;
    }
    for (size_t k = 0; k < nj; k++)
        h->requests += (uint64_t)h->res[k].attempts;
    for (size_t k = 0; k < nj && rc == 0; k++) {
        const struct http_result *r = &h->res[k];
        rc = r->fail == HTTP_OK ? parse_answer(h, &r->body, &h->jobs[k], out, err)
                                : job_failed(h, r, err);
    }
    for (size_t k = 0; k < nj; k++)
        http_result_cleanup(&h->res[k]);
out:
    for (size_t k = 0; k < nj; k++)
        free(h->bodies[k]);
    return rc;
}

/* ---------------------------------------------------------------- the embedder */

static int http_embed(struct emb *e, const char *const *texts, size_t n, float *out,
                      struct err *err)
{
    struct emb_http *h = as_http(e);
    if (!h || !texts || !out) return err_set(err, ERR_ARG, "http embed: bad arguments");
    return embed_run(h, texts, n, out, err);
}

static const char *http_signature(struct emb *e)
{
    struct emb_http *h = as_http(e);
    return h && h->sig ? h->sig : "";
}

static void wipe(char *s)
{
    if (!s) return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static void http_free(struct emb *e)
{
    struct emb_http *h = as_http(e);
    if (!h) return;
    http_client_free(h->client);
    wipe(h->key);
    wipe(h->auth);
    free(h->url);
    free(h->model);
    free(h->sig);
    free(h->ids);
    free(h->jobs);
    free(h->reqs);
    free(h->res);
    free(h->bodies);
    free(h->seen);
    free(h);
}

static const struct emb_ops http_ops = {
    .name = "http",
    .embed = http_embed,
    .signature = http_signature,
    .free = http_free,
};

/* Check that url is a well-formed http(s) URL without credentials. Returns 0, ERR_ARG or
 * ERR_NOMEM. A URL with "@" in it is never repeated in a message (it may hold a password). */
static int url_ok(const char *url, struct err *err)
{
    if (!url || !*url) return err_set(err, ERR_ARG, "http embedder: no endpoint URL");
    size_t len = strlen(url);
    if (len > EMB_HTTP_MAX_URL)
        return err_set(err, ERR_ARG, "http embedder: endpoint URL of %zu bytes (at most %d)", len,
                       EMB_HTTP_MAX_URL);
    const char *shown = strchr(url, '@') ? "(endpoint URL)" : url;
    int credentials = 0;
    char why[160];
    int uc = http_url_check(url, &credentials, why, sizeof why);
    if (uc < 0) return err_set(err, ERR_NOMEM, "http embedder: parsing URL");
    if (credentials)
        return err_set(err, ERR_ARG,
                       "http embedder: credentials in the endpoint URL; put the key in the "
                       "environment variable instead");
    if (uc == HTTP_FAIL_BLOCKED)
        return err_set(err, ERR_ARG, "http embedder: %s: only http and https URLs are supported",
                       shown);
    if (uc != HTTP_OK) return err_set(err, ERR_ARG, "http embedder: %s: %s", shown, why);
    return 0;
}

/* Copy and check the options into h. Errors: ERR_ARG, ERR_NOMEM. */
static int take_opts(struct emb_http *h, const struct emb_http_opts *o, struct err *err)
{
    int rc = url_ok(o->url, err);
    if (rc != 0) return rc;
    h->batch = o->batch ? o->batch : EMB_HTTP_DEFAULT_BATCH;
    h->parallel = o->parallel ? o->parallel : EMB_HTTP_DEFAULT_PARALLEL;
    h->retries = o->retries == 0 ? EMB_HTTP_DEFAULT_RETRIES : o->retries < 0 ? 0 : o->retries;
    h->timeout_ms = o->timeout_ms ? o->timeout_ms : EMB_HTTP_DEFAULT_TIMEOUT_MS;
    h->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : EMB_HTTP_DEFAULT_CONNECT_MS;
    if (h->batch < 1 || h->batch > EMB_HTTP_MAX_BATCH)
        return err_set(err, ERR_ARG, "http embedder: batch %d (1..%d)", h->batch,
                       EMB_HTTP_MAX_BATCH);
    if (h->parallel < 1 || h->parallel > EMB_HTTP_MAX_PARALLEL)
        return err_set(err, ERR_ARG, "http embedder: parallel %d (1..%d)", h->parallel,
                       EMB_HTTP_MAX_PARALLEL);
    if (o->retries < -1 || o->retries > EMB_HTTP_MAX_RETRIES)
        return err_set(err, ERR_ARG, "http embedder: retries %d (-1..%d)", o->retries,
                       EMB_HTTP_MAX_RETRIES);
    if (h->timeout_ms < 1 || h->connect_ms < 1)
        return err_set(err, ERR_ARG, "http embedder: timeouts must be positive");
    if (o->dim < 0 || o->dim > EMB_HTTP_MAX_DIM)
        return err_set(err, ERR_ARG, "http embedder: dim %d (0..%d)", o->dim, EMB_HTTP_MAX_DIM);
    h->base.dim = o->dim;

    const char *env = o->api_key_env && *o->api_key_env ? o->api_key_env : EMB_HTTP_DEFAULT_KEY_ENV;
    const char *key = getenv(env);
    if (key && *key) {
        for (const char *p = key; *p; p++)
            if ((unsigned char)*p < ' ' || *p == 0x7f)
                return err_set(err, ERR_ARG, "http embedder: $%s has control characters", env);
        if (!(h->key = dup_str(key))) return err_set(err, ERR_NOMEM, "http embedder");
    }
    if (!(h->url = dup_str(o->url))) return err_set(err, ERR_NOMEM, "http embedder");
    if (o->model && *o->model && !(h->model = dup_str(o->model)))
        return err_set(err, ERR_NOMEM, "http embedder");
    return 0;
}

/* The request headers (with the key when there is one). Returns 0 or -1 (out of memory). */
static int make_headers(struct emb_http *h)
{
    size_t k = 0;
    h->headers[k++] = "Content-Type: application/json";
    h->headers[k++] = "Accept: application/json";
    if (h->key) {
        struct buf b = {0};
        if (buf_printf(&b, "Authorization: Bearer %s", h->key) != 0) {
            buf_cleanup(&b);
            return -1;
        }
        h->auth = buf_steal(&b);
        h->headers[k++] = h->auth;
    }
    h->headers[k] = NULL;
    return 0;
}

int emb_http_new(struct emb **out, const struct emb_http_opts *opts, struct err *err)
{
    *out = NULL;
    if (!opts) return err_set(err, ERR_ARG, "http embedder: no options");
    int rc = 0;
    struct emb_http *h = calloc(1, sizeof *h);
    if (!h) return err_set(err, ERR_NOMEM, "http embedder");
    h->base.ops = &http_ops;
    if ((rc = take_opts(h, opts, err)) != 0) goto fail;
    if (!(h->seen = malloc((size_t)h->batch)) || make_headers(h) != 0) {
        rc = err_set(err, ERR_NOMEM, "http embedder");
        goto fail;
    }
    struct http_opts ho = {.max_parallel = h->parallel,
                           .max_per_host = h->parallel,
                           .allow_private = 1, /* the user's own endpoint, usually on loopback */
                           .backoff_base_ms = EMB_HTTP_BACKOFF_BASE_MS,
                           .backoff_max_ms = EMB_HTTP_BACKOFF_MAX_MS,
                           .retry_after_max_s = EMB_HTTP_RETRY_AFTER_MAX_S};
    if ((rc = http_client_new(&h->client, &ho, err)) != 0) {
        err_prefix(err, "http embedder");
        goto fail;
    }
    if (h->base.dim == 0) {
        const char *probe[1] = {EMB_HTTP_PROBE_TEXT};
        if ((rc = embed_run(h, probe, 1, NULL, err)) != 0) goto fail;
    }
    struct buf b = {0};
    if (buf_printf(&b, "http:%s:%s:dim=%d", h->url, h->model ? h->model : "", h->base.dim) != 0) {
        rc = err_set(err, ERR_NOMEM, "http embedder");
        goto fail;
    }
    h->sig = buf_steal(&b);
    *out = &h->base;
    return 0;
fail:
    http_free(&h->base);
    return rc;
}

uint64_t emb_http_requests(const struct emb *e)
{
    struct emb_http *h = as_http(e);
    return h ? h->requests : 0;
}
