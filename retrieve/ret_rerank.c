/* ret_rerank.c - rerankers: a cross-encoder run in this process (index/nn/ nn_classify on
 * (query, passage) pairs) or a server's /rerank endpoint over the HTTP client (common/http/),
 * and the re-ordering of a ranking's top hits by their score (contract in ret.h). */
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common/http/http.h"
#include "index/nn/nn.h"
#include "retrieve/ret.h"
#include "utf8.h"

#define RERANK_MSG_MAX 200 /* bytes of a server's error body quoted */

struct ret_reranker {
    /* in process */
    struct nn_model *m;
    struct nn *nn;
    /* over HTTP */
    struct http_client *client;
    char *url, *url_model, *auth;
    const char *headers[4]; /* NULL-terminated */
    long timeout_ms;
    int retries;
    char *id;
    /* scratch, grown as needed */
    const char **qs; /* (cap) the query, once per text */
    float *logits;   /* (cap) */
    unsigned char *seen; /* (cap) */
    size_t cap;
};

static int grow(struct ret_reranker *rr, size_t n)
{
    if (n <= rr->cap) return 0;
    const char **q = realloc(rr->qs, n * sizeof *q);
    if (q) rr->qs = q;
    float *l = realloc(rr->logits, n * sizeof *l);
    if (l) rr->logits = l;
    unsigned char *s = realloc(rr->seen, n);
    if (s) rr->seen = s;
    if (!q || !l || !s) return -1;
    rr->cap = n;
    return 0;
}

void ret_reranker_free(struct ret_reranker *rr)
{
    if (!rr) return;
    nn_free(rr->nn);
    nn_model_close(rr->m);
    http_client_free(rr->client);
    if (rr->auth) explicit_bzero(rr->auth, strlen(rr->auth));
    free(rr->auth);
    free(rr->url);
    free(rr->url_model);
    free(rr->id);
    free(rr->qs);
    free(rr->logits);
    free(rr->seen);
    free(rr);
}

const char *ret_reranker_id(const struct ret_reranker *rr)
{
    return rr && rr->id ? rr->id : "";
}

/* ---------------------------------------------------------------- set-up */

static int new_model(struct ret_reranker *rr, const struct ret_rerank_opts *o, struct err *err)
{
    struct buf path = {0}, id = {0};
    int rc = nn_model_resolve(o->model, &path, err);
    if (!rc) rc = nn_model_open(&rr->m, path.data, err);
    if (rc) goto out;
    const struct nn_info *in = nn_model_info(rr->m);
    if (in->head != NN_HEAD_CLASSIFIER || in->num_labels != 1) {
        rc = err_set(err, ERR_ARG,
                     "%s: model '%s' is %s%s with %d outputs; a reranker is a cross-encoder "
                     "(BertForSequenceClassification with one relevance logit)",
                     path.data, in->name, in->head == NN_HEAD_CLASSIFIER ? "a classifier" : "an encoder",
                     in->head == NN_HEAD_CLASSIFIER && in->num_labels == 3 ? " (an NLI model?)" : "",
                     nn_model_out_dim(rr->m));
        goto out;
    }
    struct nn_opts no = {.threads = o->threads};
    if ((rc = nn_new(&rr->nn, rr->m, &no, err))) goto out;
    if (buf_printf(&id, "model:%s:%s", in->name, in->hash)) {
        rc = err_set(err, ERR_NOMEM, "reranker");
        goto out;
    }
    rr->id = buf_steal(&id);
out:
    buf_cleanup(&path);
    buf_cleanup(&id);
    return rc;
}

static int new_url(struct ret_reranker *rr, const struct ret_rerank_opts *o, struct err *err)
{
    int credentials = 0;
    char why[160];
    int uc = http_url_check(o->url, &credentials, why, sizeof why);
    if (uc < 0) return err_set(err, ERR_NOMEM, "reranker");
    if (credentials)
        return err_set(err, ERR_ARG, "rerank endpoint: credentials in the URL; put the key in $%s",
                       RET_RERANK_KEY_ENV);
    if (uc != HTTP_OK) return err_set(err, ERR_ARG, "rerank endpoint %s: %s", o->url, why);
    if (o->retries < -1 || o->retries > 20 || o->timeout_ms < 0)
        return err_set(err, ERR_ARG, "rerank endpoint: retries %d (-1..20), timeout %ld ms",
                       o->retries, o->timeout_ms);
    rr->retries = o->retries == 0 ? RET_RERANK_DEFAULT_RETRIES : o->retries < 0 ? 0 : o->retries;
    rr->timeout_ms = o->timeout_ms ? o->timeout_ms : RET_RERANK_DEFAULT_TIMEOUT_MS;
    if (!(rr->url = strdup(o->url))) return err_set(err, ERR_NOMEM, "reranker");
    if (o->url_model && *o->url_model && !(rr->url_model = strdup(o->url_model)))
        return err_set(err, ERR_NOMEM, "reranker");
    size_t k = 0;
    rr->headers[k++] = "Content-Type: application/json";
    rr->headers[k++] = "Accept: application/json";
    const char *key = getenv(RET_RERANK_KEY_ENV);
    if (key && *key) {
        for (const char *p = key; *p; p++)
            if ((unsigned char)*p < ' ' || *p == 0x7f)
                return err_set(err, ERR_ARG, "rerank endpoint: $%s has control characters",
                               RET_RERANK_KEY_ENV);
        struct buf b = {0};
        if (buf_printf(&b, "Authorization: Bearer %s", key)) {
            buf_cleanup(&b);
            return err_set(err, ERR_NOMEM, "reranker");
        }
        rr->headers[k++] = rr->auth = buf_steal(&b);
    }
    rr->headers[k] = NULL;
    struct http_opts ho = {.max_parallel = 1,
                           .max_per_host = 1,
                           .allow_private = 1}; /* the user's own endpoint, often on loopback */
    int rc = http_client_new(&rr->client, &ho, err);
    if (rc) return err_prefix(err, "rerank endpoint");
    struct buf id = {0};
    if (buf_printf(&id, "url:%s%s%s", rr->url, rr->url_model ? ":" : "",
                   rr->url_model ? rr->url_model : "")) {
        buf_cleanup(&id);
        return err_set(err, ERR_NOMEM, "reranker");
    }
    rr->id = buf_steal(&id);
    return ERR_OK;
}

int ret_reranker_new(struct ret_reranker **out, const struct ret_rerank_opts *o, struct err *err)
{
    *out = NULL;
    int has_m = o && o->model && *o->model, has_u = o && o->url && *o->url;
    if (has_m == has_u)
        return err_set(err, ERR_ARG, has_m ? "a reranker is a model or a URL, not both"
                                           : "a reranker needs a model or a URL");
    struct ret_reranker *rr = calloc(1, sizeof *rr);
    if (!rr) return err_set(err, ERR_NOMEM, "reranker");
    int rc = has_m ? new_model(rr, o, err) : new_url(rr, o, err);
    if (rc) {
        ret_reranker_free(rr);
        return rc;
    }
    *out = rr;
    return ERR_OK;
}

/* ---------------------------------------------------------------- the endpoint */

/* The failed request as an error naming the endpoint. */
static int url_failed(const struct ret_reranker *rr, const struct http_result *r, struct err *err)
{
    char why[RERANK_MSG_MAX + 320];
    int code = r->fail == HTTP_FAIL_TOO_LARGE ? ERR_LIMIT : ERR_NET;
    if (r->status > 0 && r->fail == HTTP_FAIL_HTTP) {
        /* the server's words, cut at a character and with control characters as spaces */
        struct buf msg = {0};
        size_t n = r->body.len > RERANK_MSG_MAX ? utf8_cut(r->body.data, RERANK_MSG_MAX) : r->body.len;
        utf8_repair(&msg, r->body.data ? r->body.data : "", n, NULL);
        for (size_t i = 0; i < msg.len; i++)
            if ((unsigned char)msg.data[i] < ' ') msg.data[i] = ' ';
        snprintf(why, sizeof why, "HTTP %ld: %s%s", r->status, msg.len ? msg.data : "(empty body)",
                 n < r->body.len ? "..." : "");
        buf_cleanup(&msg);
    } else if (r->fail == HTTP_FAIL_TIMEOUT) {
        snprintf(why, sizeof why, "timed out: %s", r->why);
    } else {
        snprintf(why, sizeof why, "%s: %s", http_fail_name(r->fail), r->why);
    }
    if (r->attempts > 1)
        return err_set(err, code, "rerank endpoint %s: %s (after %d attempts)", rr->url, why,
                       r->attempts);
    return err_set(err, code, "rerank endpoint %s: %s", rr->url, why);
}

/* Read the answer for n documents into scores. */
static int url_answer(struct ret_reranker *rr, const struct buf *body, size_t n, double *scores,
                      struct err *err)
{
    json_error_t je;
    json_t *root = json_loadb(body->data ? body->data : "", body->len, 0, &je);
    int rc = ERR_OK;
    if (!root)
        return err_set(err, ERR_PARSE, "rerank endpoint %s: answer is not JSON (line %d: %s)",
                       rr->url, je.line, je.text);
    json_t *res = json_is_array(root) ? root : json_object_get(root, "results");
    if (!json_is_array(res)) {
        rc = err_set(err, ERR_PARSE, "rerank endpoint %s: answer has no \"results\" array", rr->url);
        goto out;
    }
    if (json_array_size(res) != n) {
        rc = err_set(err, ERR_PARSE, "rerank endpoint %s: sent %zu documents, %zu scored", rr->url,
                     n, json_array_size(res));
        goto out;
    }
    memset(rr->seen, 0, n);
    for (size_t i = 0; i < n; i++) {
        json_t *el = json_array_get(res, i), *ix = json_object_get(el, "index");
        json_t *sc = json_object_get(el, "relevance_score");
        if (!sc) sc = json_object_get(el, "score");
        json_int_t k = json_is_integer(ix) ? json_integer_value(ix) : -1;
        double v = json_is_number(sc) ? json_number_value(sc) : NAN;
        if (k < 0 || (uint64_t)k >= n || rr->seen[k]) {
            rc = err_set(err, ERR_PARSE, "rerank endpoint %s: results[%zu] has a %s index", rr->url,
                         i, k >= 0 && (uint64_t)k < n ? "repeated" : "missing or bad");
            goto out;
        }
        if (!isfinite(v)) {
            rc = err_set(err, ERR_PARSE,
                         "rerank endpoint %s: results[%zu] has no finite relevance_score", rr->url, i);
            goto out;
        }
        rr->seen[k] = 1;
        scores[k] = v;
    }
out:
    json_decref(root);
    return rc;
}

static int url_scores(struct ret_reranker *rr, const char *query, const char *const *texts,
                      size_t n, double *scores, struct err *err)
{
    json_t *root = json_object(), *docs = json_array();
    char *body = NULL;
    int rc = ERR_OK;
    if (!root || !docs) goto nomem;
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(docs, json_string(texts[i])) != 0) goto nomem;
    if ((rr->url_model && json_object_set_new(root, "model", json_string(rr->url_model))) ||
        json_object_set_new(root, "query", json_string(query)) ||
        json_object_set(root, "documents", docs) ||
        json_object_set_new(root, "top_n", json_integer((json_int_t)n)) ||
        json_object_set_new(root, "return_documents", json_false()))
        goto nomem;
    if (!(body = json_dumps(root, JSON_COMPACT))) goto nomem;
    struct http_request rq = {.url = rr->url,
                              .method = "POST",
                              .headers = rr->headers,
                              .body = body,
                              .body_len = strlen(body),
                              .lim = {.total_ms = rr->timeout_ms,
                                      .max_bytes = RET_RERANK_MAX_RESPONSE,
                                      .retries = rr->retries,
                                      .retry_on = HTTP_RETRY_TRANSIENT}};
    struct http_result res = {0};
    if ((rc = http_run(rr->client, &rq, 1, &res, err))) {
        err_prefix(err, "rerank endpoint %s", rr->url);
        goto out;
    }
    rc = res.fail == HTTP_OK ? url_answer(rr, &res.body, n, scores, err) : url_failed(rr, &res, err);
    http_result_cleanup(&res);
    goto out;
nomem:
    rc = err_set(err, ERR_NOMEM, "rerank endpoint %s: building a request of %zu documents", rr->url, n);
out:
    free(body);
    json_decref(root);
    json_decref(docs);
    return rc;
}

/* ---------------------------------------------------------------- scoring and re-ordering */

int ret_rerank_texts(struct ret_reranker *rr, const char *query, const char *const *texts,
                     size_t n, double *scores, struct err *err)
{
    if (n == 0) return ERR_OK;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(texts[i]), bad = 0;
        if (!utf8_valid(texts[i], len, &bad))
            return err_set(err, ERR_UTF8, "rerank: text %zu is not valid UTF-8 (byte %zu)", i, bad);
    }
    if (grow(rr, n)) return err_set(err, ERR_NOMEM, "rerank %zu texts", n);
    if (rr->client) return url_scores(rr, query, texts, n, scores, err);
    for (size_t i = 0; i < n; i++)
        rr->qs[i] = query;
    int rc = nn_classify(rr->nn, rr->qs, texts, n, rr->logits, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        scores[i] = rr->logits[i];
    return ERR_OK;
}

int ret_rerank(struct ret_reranker *rr, struct idx *ix, const char *query, struct ret_hit *hits,
               int n, int depth, struct err *err)
{
    if (depth <= 0) depth = RET_RERANK_DEFAULT_DEPTH;
    int m = n < depth ? n : depth, rc = ERR_OK;
    if (m <= 0) return ERR_OK;
    char **texts = calloc((size_t)m, sizeof *texts);
    double *sc = calloc((size_t)m, sizeof *sc);
    struct ret_hit *tmp = calloc((size_t)m, sizeof *tmp);
    int *ord = calloc((size_t)m, sizeof *ord);
    struct buf t = {0};
    if (!texts || !sc || !tmp || !ord) {
        rc = err_set(err, ERR_NOMEM, "rerank");
        goto out;
    }
    for (int i = 0; i < m; i++) {
        struct idx_passage p;
        if ((rc = idx_passage(ix, hits[i].pid, &p, err))) goto out;
        buf_reset(&t);
        if ((p.title && *p.title && (buf_puts(&t, p.title) || buf_puts(&t, ". "))) ||
            buf_puts(&t, p.text ? p.text : "")) {
            rc = err_set(err, ERR_NOMEM, "rerank");
            goto out;
        }
        size_t len = t.len > RET_RERANK_MAX_TEXT ? utf8_cut(t.data, RET_RERANK_MAX_TEXT) : t.len;
        if (!(texts[i] = strndup(t.data, len))) {
            rc = err_set(err, ERR_NOMEM, "rerank");
            goto out;
        }
    }
    if ((rc = ret_rerank_texts(rr, query, (const char *const *)texts, (size_t)m, sc, err))) goto out;
    /* stable insertion sort of the positions by score, best first (m <= RET_RERANK_MAX_DEPTH) */
    for (int i = 0; i < m; i++) {
        int j = i;
        while (j > 0 && sc[ord[j - 1]] < sc[i]) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    for (int i = 0; i < m; i++) {
        tmp[i] = hits[ord[i]];
        tmp[i].score = sc[ord[i]];
    }
    memcpy(hits, tmp, (size_t)m * sizeof *hits);
out:
    if (texts)
        for (int i = 0; i < m; i++) free(texts[i]);
    free(texts);
    free(sc);
    free(tmp);
    free(ord);
    buf_cleanup(&t);
    return rc;
}
