/* emb_http.c - the HTTP embedder: an OpenAI-compatible embeddings endpoint over libcurl.
 *
 * This is the second file that includes curl; the first is verify/ver_fetch.c. That bends the
 * "one outside library, one module" rule on purpose. ver_fetch.c is built for untrusted URLs
 * taken from documents: it refuses private and loopback addresses, checks every redirect hop and
 * only GETs. The embeddings endpoint is the opposite case: the user configures it, so it is
 * trusted like a config file (and is usually on localhost, which the fetcher must refuse), and
 * it needs POST, a bearer key, batching and retries. Sharing one file would mean weakening the
 * fetcher's guard or stacking modes on it, so each keeps its own small curl setup.
 *
 * Flow of one emb_embed() call: NULL texts are dropped (zero rows), the rest are grouped into
 * jobs (one request each), and a curl multi loop keeps up to `parallel` jobs in flight. A job that
 * fails in a transient way waits (backoff or Retry-After) and is started again; while any job
 * waits no new job starts, so a rate-limited server sees the whole client slow down. */
#include "utf8.h"
#include "index/embed/emb.h"

#include <curl/curl.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HTTP_POLL_MS 200                 /* longest single wait in the multi loop */
#define HTTP_ERRMSG_MAX 200              /* bytes of a server's error message kept */
#define HTTP_ERRBODY_JSON_MAX (1u << 20) /* error bodies up to this size are tried as JSON */
#define HTTP_NOPROXY_LOOPBACK "localhost,127.0.0.1,::1"
#define HTTP_USER_AGENT "vericite-embed/1"

enum { J_PENDING = 0, J_ACTIVE, J_WAITING, J_DONE };

struct http_job {
    size_t first, n;   /* texts h->ids[first .. first + n) */
    int attempts;      /* requests sent so far */
    int state;         /* J_* */
    double not_before; /* while J_WAITING: monotonic seconds of the next attempt */
};

struct http_slot {
    CURL *h;
    struct http_job *job; /* NULL when the slot is free */
    char *req;            /* request body while active (json_dumps) */
    struct buf resp;      /* response body */
    int too_big;          /* the response went over EMB_HTTP_MAX_RESPONSE */
    unsigned char *seen;  /* (batch) rows of the job answered so far */
    char errbuf[CURL_ERROR_SIZE];
};

struct emb_http {
    struct emb base; /* first: the generic handle */
    char *url, *model, *key, *noproxy;
    char *sig;
    int batch, parallel, retries;
    long timeout_ms, connect_ms;
    CURLM *multi;
    struct curl_slist *headers;
    struct http_slot *slots; /* (parallel) */
    /* scratch for one call, grown as needed */
    size_t *ids; /* (n) input positions of the texts sent */
    size_t ids_cap;
    struct http_job *jobs;     /* (n) */
    struct http_job **waiting; /* (parallel) jobs waiting for a retry */
    int nwaiting;
    uint64_t rng; /* xorshift64* state for the backoff jitter */
    uint64_t requests;
};

static const struct emb_ops http_ops;

static struct emb_http *as_http(const struct emb *e)
{
    return e && e->ops == &http_ops ? (struct emb_http *)e : NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A uniform double in [0, 1) from the handle's generator. */
static double rng_unit(struct emb_http *h)
{
    uint64_t x = h->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    h->rng = x;
    return (double)((x * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
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

/* ---------------------------------------------------------------- transfers */

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct http_slot *s = ud;
    size_t n = size * nmemb;
    if (n > EMB_HTTP_MAX_RESPONSE - s->resp.len) {
        s->too_big = 1;
        return 0; /* ends the transfer with CURLE_WRITE_ERROR */
    }
    return buf_append(&s->resp, p, n) == 0 ? n : 0;
}

/* Set the options every request of this embedder shares. Returns 0, or -1 when curl refuses. */
static int slot_setup(struct emb_http *h, struct http_slot *s)
{
    CURL *c = s->h;
    int bad = 0;
    bad |= curl_easy_setopt(c, CURLOPT_URL, h->url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PRIVATE, (void *)s) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOPROXY, h->noproxy) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, HTTP_USER_AGENT) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)EMB_HTTP_MAX_RESPONSE) !=
           CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)s) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK;
    return bad ? -1 : 0;
}

/* Start job j in the free slot s: build the request body and add the transfer.
 * Errors: ERR_NOMEM, ERR_NET (curl refused). */
static int slot_start(struct emb_http *h, struct http_slot *s, struct http_job *j,
                      const char *const *texts, struct err *err)
{
    int rc = 0;
    json_t *root = json_object(), *input = json_array();
    if (!root || !input) goto nomem;
    for (size_t k = 0; k < j->n; k++) {
        const char *t = texts[h->ids[j->first + k]];
        if (!*t) t = " "; /* many servers reject "" */
        if (json_array_append_new(input, json_string(t)) != 0) goto nomem;
    }
    if (h->model && json_object_set_new(root, "model", json_string(h->model)) != 0) goto nomem;
    if (json_object_set(root, "input", input) != 0 ||
        json_object_set_new(root, "encoding_format", json_string("float")) != 0)
        goto nomem;
    if (!(s->req = json_dumps(root, JSON_COMPACT))) goto nomem;
    json_decref(root);
    json_decref(input);
    root = input = NULL;

    buf_reset(&s->resp);
    s->too_big = 0;
    s->errbuf[0] = '\0';
    if (curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(s->req)) !=
            CURLE_OK ||
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->req) != CURLE_OK ||
        curl_multi_add_handle(h->multi, s->h) != CURLM_OK) {
        rc = err_set(err, ERR_NET, "embeddings endpoint %s: libcurl refused the request", h->url);
        goto fail;
    }
    s->job = j;
    j->state = J_ACTIVE;
    j->attempts++;
    h->requests++;
    return 0;
nomem:
    rc = err_set(err, ERR_NOMEM, "embeddings endpoint %s: building a request of %zu texts", h->url,
                 j->n);
fail:
    json_decref(root);
    json_decref(input);
    free(s->req);
    s->req = NULL;
    return rc;
}

/* Stop the transfer of slot s (if any) and free the slot for the next job. */
static void slot_release(struct emb_http *h, struct http_slot *s)
{
    if (s->job) curl_multi_remove_handle(h->multi, s->h);
    s->job = NULL;
    free(s->req);
    s->req = NULL;
}

/* Read a successful answer for job j into out (rows placed by "index"; out NULL: only learn and
 * check the dimension). Errors: ERR_PARSE, ERR_MISMATCH, ERR_LIMIT. */
static int parse_answer(struct emb_http *h, struct http_slot *s, const struct http_job *j,
                        float *out, struct err *err)
{
    int rc = 0;
    json_error_t je;
    json_t *root = json_loadb(s->resp.data ? s->resp.data : "", s->resp.len, 0, &je);
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
    memset(s->seen, 0, j->n);
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
        if (s->seen[row]) {
            rc = err_set(err, ERR_PARSE, "embeddings endpoint %s: index %zu answered twice", h->url,
                         row);
            goto fail;
        }
        s->seen[row] = 1;
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

static int curl_transient(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* Milliseconds before attempt `attempts` + 1: d = base * 2^(attempts-1), plus a random part
 * of up to d/2 (so clients that failed together do not retry together), capped. */
static long backoff_ms(struct emb_http *h, int attempts)
{
    double d = EMB_HTTP_BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && d < EMB_HTTP_BACKOFF_MAX_MS; i++)
        d *= 2;
    d += rng_unit(h) * d / 2;
    return (long)(d < EMB_HTTP_BACKOFF_MAX_MS ? d : EMB_HTTP_BACKOFF_MAX_MS);
}

/* The transfer of slot s ended with curl code cc. Returns 0 when the job is done or waits for a
 * retry (placed in h->waiting), else the error code (err set, naming the URL). */
static int slot_finish(struct emb_http *h, struct http_slot *s, CURLcode cc, float *out,
                       struct err *err)
{
    struct http_job *j = s->job;
    long status = 0;
    curl_off_t retry_after = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (curl_easy_getinfo(s->h, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK) retry_after = 0;
    slot_release(h, s);

    char why[HTTP_ERRMSG_MAX + 200], msg[HTTP_ERRMSG_MAX + 8];
    int code = ERR_NET, transient = 0;
    if (s->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        code = ERR_LIMIT;
        snprintf(why, sizeof why, "answer over %zu bytes", (size_t)EMB_HTTP_MAX_RESPONSE);
    } else if (cc != CURLE_OK) {
        transient = curl_transient(cc);
        snprintf(why, sizeof why, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
    } else if (status < 200 || status > 299) {
        transient = status == 429 || (status >= 500 && status <= 599);
        server_message(&s->resp, msg, sizeof msg);
        const char *hint = "";
        if (status >= 300 && status <= 399)
            hint = " (redirects are not followed: configure the final URL)";
        else if (status == 401 || status == 403)
            hint = " (is the API key set in the configured environment variable?)";
        snprintf(why, sizeof why, "HTTP %ld: %s%s", status, msg, hint);
    } else {
        int rc = parse_answer(h, s, j, out, err);
        if (rc != 0) return rc;
        j->state = J_DONE;
        return 0;
    }
    if (transient && j->attempts <= h->retries) {
        long ms = backoff_ms(h, j->attempts);
        if (retry_after > 0)
            ms = 1000L * (long)(retry_after < EMB_HTTP_RETRY_AFTER_MAX_S
                                    ? retry_after
                                    : (curl_off_t)EMB_HTTP_RETRY_AFTER_MAX_S);
        j->state = J_WAITING;
        j->not_before = now_s() + (double)ms / 1000.0;
        h->waiting[h->nwaiting++] = j;
        return 0;
    }
    if (j->attempts > 1)
        return err_set(err, code, "embeddings endpoint %s: %s (after %d attempts)", h->url, why,
                       j->attempts);
    return err_set(err, code, "embeddings endpoint %s: %s", h->url, why);
}

/* The next job to start now, or NULL: a waiting job whose time has come first; fresh jobs only
 * while none waits. */
static struct http_job *next_job(struct emb_http *h, size_t njobs, size_t *fresh, double now)
{
    for (int i = 0; i < h->nwaiting; i++) {
        struct http_job *j = h->waiting[i];
        if (j->not_before <= now) {
            h->waiting[i] = h->waiting[--h->nwaiting];
            return j;
        }
    }
    if (h->nwaiting == 0 && *fresh < njobs) return &h->jobs[(*fresh)++];
    return NULL;
}

/* Group the non-NULL texts into jobs. Errors: ERR_LIMIT (a text over the request cap),
 * ERR_UTF8, ERR_NOMEM. Sets *njobs. */
static int plan_jobs(struct emb_http *h, const char *const *texts, size_t n, size_t *njobs,
                     struct err *err)
{
    if (n > h->ids_cap) {
        size_t *p = realloc(h->ids, n * sizeof *p);
        struct http_job *q = realloc(h->jobs, n * sizeof *q);
        if (p) h->ids = p;
        if (q) h->jobs = q;
        if (!p || !q) return err_set(err, ERR_NOMEM, "embedding %zu texts", n);
        h->ids_cap = n;
    }
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
            memset(j, 0, sizeof *j);
            j->first = m;
            bytes = 0;
        }
        h->ids[m++] = i;
        j->n++;
        bytes += len;
    }
    *njobs = nj;
    return 0;
}

/* Embed texts (n) into out (n, dim), or with out NULL only learn/check the dimension. */
static int http_run(struct emb_http *h, const char *const *texts, size_t n, float *out,
                    struct err *err)
{
    size_t njobs = 0, fresh = 0, done = 0;
    int rc = 0;
    if (out) memset(out, 0, n * (size_t)h->base.dim * sizeof *out);
    if ((rc = plan_jobs(h, texts, n, &njobs, err)) != 0) return rc;
    h->nwaiting = 0;
    while (done < njobs) {
        double now = now_s();
        int active = 0;
        for (int i = 0; i < h->parallel; i++) {
            struct http_slot *s = &h->slots[i];
            if (!s->job) {
                struct http_job *j = next_job(h, njobs, &fresh, now);
                if (j && (rc = slot_start(h, s, j, texts, err)) != 0) goto fail;
            }
            active += s->job != NULL;
        }
        int running = 0;
        CURLMcode mc = active ? curl_multi_perform(h->multi, &running) : CURLM_OK;
        if (mc != CURLM_OK) {
            rc = err_set(err, mc == CURLM_OUT_OF_MEMORY ? ERR_NOMEM : ERR_NET,
                         "embeddings endpoint %s: %s", h->url, curl_multi_strerror(mc));
            goto fail;
        }
        CURLMsg *msg;
        int left = 0, finished = 0;
        while ((msg = curl_multi_info_read(h->multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL *easy = msg->easy_handle;
            CURLcode cc = msg->data.result; /* msg dies with remove_handle */
            char *priv = NULL;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
            struct http_slot *s = (struct http_slot *)(void *)priv;
            if (!s || !s->job) {
                rc = err_set(err, ERR_INTERNAL, "embeddings endpoint %s: stray transfer", h->url);
                goto fail;
            }
            struct http_job *j = s->job;
            if ((rc = slot_finish(h, s, cc, out, err)) != 0) goto fail;
            done += j->state == J_DONE;
            finished++;
        }
        if (finished || done == njobs) continue; /* start the next ones before waiting */
        long wait_ms = HTTP_POLL_MS;
        for (int i = 0; i < h->nwaiting; i++) {
            double ms = (h->waiting[i]->not_before - now_s()) * 1000.0 + 1;
            if (ms < (double)wait_ms) wait_ms = ms > 0 ? (long)ms : 0;
        }
        mc = curl_multi_poll(h->multi, NULL, 0, (int)wait_ms, NULL);
        if (mc != CURLM_OK) {
            rc = err_set(err, ERR_NET, "embeddings endpoint %s: %s", h->url,
                         curl_multi_strerror(mc));
            goto fail;
        }
    }
    return 0;
fail:
    for (int i = 0; i < h->parallel; i++)
        slot_release(h, &h->slots[i]);
    h->nwaiting = 0;
    return rc;
}

/* ---------------------------------------------------------------- the embedder */

static int http_embed(struct emb *e, const char *const *texts, size_t n, float *out,
                      struct err *err)
{
    struct emb_http *h = as_http(e);
    if (!h || !texts || !out) return err_set(err, ERR_ARG, "http embed: bad arguments");
    return http_run(h, texts, n, out, err);
}

static const char *http_signature(struct emb *e)
{
    struct emb_http *h = as_http(e);
    return h && h->sig ? h->sig : "";
}

static void http_free(struct emb *e)
{
    struct emb_http *h = as_http(e);
    if (!h) return;
    for (int i = 0; h->slots && i < h->parallel; i++) {
        struct http_slot *s = &h->slots[i];
        slot_release(h, s);
        curl_easy_cleanup(s->h);
        buf_cleanup(&s->resp);
        free(s->seen);
    }
    curl_multi_cleanup(h->multi);
    curl_slist_free_all(h->headers);
    if (h->key) {
        explicit_bzero(h->key, strlen(h->key));
        free(h->key);
    }
    free(h->slots);
    free(h->url);
    free(h->model);
    free(h->noproxy);
    free(h->sig);
    free(h->ids);
    free(h->jobs);
    free(h->waiting);
    free(h);
}

static const struct emb_ops http_ops = {
    .name = "http",
    .embed = http_embed,
    .signature = http_signature,
    .free = http_free,
};

/* Check that url is a well-formed http(s) URL without credentials. Returns 0 or ERR_ARG. */
static int url_ok(const char *url, struct err *err)
{
    if (!url || !*url) return err_set(err, ERR_ARG, "http embedder: no endpoint URL");
    size_t len = strlen(url);
    if (len > EMB_HTTP_MAX_URL)
        return err_set(err, ERR_ARG, "http embedder: endpoint URL of %zu bytes (at most %d)", len,
                       EMB_HTTP_MAX_URL);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
            return err_set(err, ERR_ARG, "http embedder: %s: spaces or control characters in URL",
                           url);
    const char *sep = strstr(url, "://");
    if (!sep || sep[3] == '/' || sep[3] == '\0')
        return err_set(err, ERR_ARG, "http embedder: %s: expected scheme://host/path", url);
    int rc = 0;
    char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL;
    CURLU *u = curl_url();
    if (!u) return err_set(err, ERR_NOMEM, "http embedder: parsing URL");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rc = err_set(err, ERR_ARG, "http embedder: %s: malformed URL (%s)", url,
                     curl_url_strerror(uc));
        goto fail;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
        rc = err_set(err, ERR_ARG,
                     "http embedder: credentials in the endpoint URL; put the key in the "
                     "environment variable instead");
        goto fail;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        rc =
            err_set(err, ERR_ARG, "http embedder: %s: only http and https URLs are supported", url);
        goto fail;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        rc = err_set(err, ERR_ARG, "http embedder: %s: no host in URL", url);
        goto fail;
    }
fail:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(u);
    return rc;
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
    const char *np = getenv("no_proxy");
    if (!np || !*np) np = getenv("NO_PROXY");
    struct buf b = {0};
    if (buf_puts(&b, HTTP_NOPROXY_LOOPBACK) != 0 ||
        (np && *np && (buf_putc(&b, ',') != 0 || buf_puts(&b, np) != 0))) {
        buf_cleanup(&b);
        return err_set(err, ERR_NOMEM, "http embedder");
    }
    h->noproxy = buf_steal(&b);
    return 0;
}

/* The request headers (with the key when there is one). Returns 0 or -1 (out of memory). */
static int make_headers(struct emb_http *h)
{
    static const char *const fixed[] = {"Content-Type: application/json",
                                        "Accept: application/json", "Expect:"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        struct curl_slist *l = curl_slist_append(h->headers, fixed[i]);
        if (!l) return -1;
        h->headers = l;
    }
    if (!h->key) return 0;
    struct buf b = {0};
    int rc = -1;
    if (buf_printf(&b, "Authorization: Bearer %s", h->key) == 0) {
        struct curl_slist *l = curl_slist_append(h->headers, b.data);
        if (l) {
            h->headers = l;
            rc = 0;
        }
    }
    if (b.data) explicit_bzero(b.data, b.len);
    buf_cleanup(&b);
    return rc;
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
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->rng = ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^
             ((uint64_t)(uintptr_t)h << 16) ^ ((uint64_t)getpid() << 40);
    if (!h->rng) h->rng = 0x9e3779b97f4a7c15ull;

    h->slots = calloc((size_t)h->parallel, sizeof *h->slots);
    h->waiting = calloc((size_t)h->parallel, sizeof *h->waiting);
    h->multi = curl_multi_init();
    if (!h->slots || !h->waiting || make_headers(h) != 0) {
        rc = err_set(err, ERR_NOMEM, "http embedder");
        goto fail;
    }
    if (!h->multi || curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                                       (long)h->parallel) != CURLM_OK) {
        rc = err_set(err, ERR_NET,
                     "http embedder: curl_multi_init failed "
                     "(curl_global_init not run?)");
        goto fail;
    }
    for (int i = 0; i < h->parallel; i++) {
        struct http_slot *s = &h->slots[i];
        if (!(s->seen = malloc((size_t)h->batch))) {
            rc = err_set(err, ERR_NOMEM, "http embedder");
            goto fail;
        }
        if (!(s->h = curl_easy_init()) || slot_setup(h, s) != 0) {
            rc = err_set(err, ERR_NET,
                         "http embedder: libcurl refused an option (older than "
                         "7.85?)");
            goto fail;
        }
    }
    if (h->base.dim == 0) {
        const char *probe[1] = {EMB_HTTP_PROBE_TEXT};
        if ((rc = http_run(h, probe, 1, NULL, err)) != 0) goto fail;
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
