/* serve_api.c - the endpoints of `vericite serve`: request objects in, the CLI's --json objects
 * out, each answered with a per-worker context checked out of the pool. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "index/idx.h"
#include "retrieve/ret.h"
#include "serve.h"
#include "verify/ver.h"
#include "common/http/http.h"

/* ---------------------------------------------------------------- the pool */

static void ctx_close(struct serve_ctx *c)
{
    free(c->hits);
    ver_extractor_free(c->x);
    ver_auditor_free(c->au);
    ret_reranker_free(c->rr);
    ret_free(c->r);
    idx_close(c->ix);
    memset(c, 0, sizeof *c);
}

static int ctx_open(struct serve_ctx *c, const char *db, const struct ver_audit_opts *vo, struct err *err)
{
    struct idx_opts io = {.readonly = 1};
    int rc;
    if ((rc = idx_open(&c->ix, db, &io, err))) return rc;
    if ((rc = ret_new(&c->r, c->ix, err))) return rc;
    if ((rc = ver_auditor_new(&c->au, c->ix, vo, err))) return rc;
    if ((rc = ver_extractor_new(&c->x, err))) return rc;
    if (vo && ((vo->rerank && *vo->rerank) || (vo->rerank_url && *vo->rerank_url))) {
        struct ret_rerank_opts ro = {.model = vo->rerank, .url = vo->rerank_url,
                                     .url_model = vo->rerank_model, .threads = vo->rerank_threads};
        if ((rc = ret_reranker_new(&c->rr, &ro, err))) return rc;
        c->rerank_depth = vo->rerank_depth;
    }
    c->hits = calloc(SERVE_MAX_K, sizeof *c->hits);
    if (!c->hits) return err_set(err, ERR_NOMEM, "serve");
    return ERR_OK;
}

int serve_pool_init(struct serve_pool *p, const char *db, int n, const struct ver_audit_opts *vo,
                    struct err *err)
{
    memset(p, 0, sizeof *p);
    int rc = ERR_OK;
    if (n < 1) return err_set(err, ERR_ARG, "serve: at least one worker");
    if (pthread_mutex_init(&p->mu, NULL) != 0) return err_set(err, ERR_INTERNAL, "serve: mutex");
    if (pthread_cond_init(&p->freed, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return err_set(err, ERR_INTERNAL, "serve: condition");
    }
    p->inited = 1;
    p->db = strdup(db);
    p->ctxs = calloc((size_t)n, sizeof *p->ctxs);
    if (!p->db || !p->ctxs) {
        rc = err_set(err, ERR_NOMEM, "serve");
        goto fail;
    }
    p->n = n;
    for (int i = 0; i < n; i++) {
        if ((rc = ctx_open(&p->ctxs[i], db, vo, err))) goto fail;
        p->ctxs[i].next = p->free_list;
        p->free_list = &p->ctxs[i];
    }
    return ERR_OK;
fail:
    serve_pool_cleanup(p);
    return rc;
}

void serve_pool_cleanup(struct serve_pool *p)
{
    if (!p) return;
    for (int i = 0; p->ctxs && i < p->n; i++) ctx_close(&p->ctxs[i]);
    free(p->ctxs);
    free(p->db);
    if (p->inited) {
        pthread_cond_destroy(&p->freed);
        pthread_mutex_destroy(&p->mu);
    }
    memset(p, 0, sizeof *p);
}

struct serve_ctx *serve_pool_get(struct serve_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->free_list) pthread_cond_wait(&p->freed, &p->mu);
    struct serve_ctx *c = p->free_list;
    p->free_list = c->next;
    c->next = NULL;
    pthread_mutex_unlock(&p->mu);
    return c;
}

void serve_pool_put(struct serve_pool *p, struct serve_ctx *c)
{
    pthread_mutex_lock(&p->mu);
    c->next = p->free_list;
    p->free_list = c;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

/* ---------------------------------------------------------------- request fields */

json_t *serve_error(const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:s}", "error", msg);
}

/* The HTTP status for a library error: the request's fault (4xx) or the server's (500). */
static int status_of(int code)
{
    switch (code) {
    case ERR_ARG:
    case ERR_PARSE:
    case ERR_UTF8: return 400;
    case ERR_LIMIT: return 413;
    default: return 500;
    }
}

static int fail_err(const struct err *err, json_t **out)
{
    *out = serve_error("%s", err->msg[0] ? err->msg : err_name(err->code));
    return status_of(err->code);
}

/* The body was parsed without JSON_ALLOW_NUL, so strings hold no NUL. */
int serve_get_string(json_t *body, const char *name, int required, int nonempty, const char **val,
                     json_t **out)
{
    json_t *v = json_object_get(body, name);
    *val = NULL;
    if (!v || json_is_null(v)) {
        if (!required) return 0;
        *out = serve_error("missing field \"%s\" (a string)", name);
        return 400;
    }
    if (!json_is_string(v)) {
        *out = serve_error("field \"%s\" must be a string", name);
        return 400;
    }
    if (nonempty && json_string_length(v) == 0) {
        *out = serve_error("field \"%s\" is empty", name);
        return 400;
    }
    *val = json_string_value(v);
    return 0;
}

/* ---------------------------------------------------------------- endpoints */

int serve_api_health(struct serve_pool *p, json_t *body, json_t **out)
{
    (void)p;
    (void)body;
    *out = json_pack("{s:s}", "status", "ok");
    return 200;
}

int serve_api_stats(struct serve_pool *p, json_t *body, json_t **out)
{
    (void)body;
    struct err err = {0};
    struct serve_ctx *c = serve_pool_get(p);
    int rc = cli_stats_json(c->ix, p->db, out, &err);
    serve_pool_put(p, c);
    return rc ? fail_err(&err, out) : 200;
}

static const struct {
    const char *name;
    enum ret_mode mode;
} search_modes[] = {{"auto", RET_AUTO}, {"bm25", RET_BM25}, {"dense", RET_DENSE},
                    {"hybrid", RET_HYBRID}, {"fts5", RET_FTS5}};

int serve_api_search(struct serve_pool *p, json_t *body, json_t **out)
{
    const char *query = NULL, *mode = NULL;
    int st;
    if ((st = serve_get_string(body, "query", 1, 1, &query, out))) return st;
    if ((st = serve_get_string(body, "mode", 0, 0, &mode, out))) return st;
    struct ret_opts ro = {.k = 10, .title_weight = RET_DEFAULT_TITLE_WEIGHT};
    json_t *k = json_object_get(body, "k");
    if (k && !json_is_null(k)) {
        if (!json_is_integer(k)) {
            *out = serve_error("field \"k\" must be an integer (1..%d)", SERVE_MAX_K);
            return 400;
        }
        json_int_t kv = json_integer_value(k);
        if (kv < 1 || kv > SERVE_MAX_K) {
            *out = serve_error("field \"k\" is %lld: must be 1..%d", (long long)kv, SERVE_MAX_K);
            return 400;
        }
        ro.k = (int)kv;
    }
    if (mode) {
        size_t i = 0, n = sizeof search_modes / sizeof search_modes[0];
        while (i < n && strcmp(mode, search_modes[i].name)) i++;
        if (i == n) {
            *out = serve_error("unknown mode \"%s\" (auto, bm25, dense, hybrid, fts5)", mode);
            return 400;
        }
        ro.mode = search_modes[i].mode;
    }
    /* "rerank": true (the default with a server reranker) or false; "rerank_depth": 1..1000 */
    json_t *rk = json_object_get(body, "rerank"), *rd = json_object_get(body, "rerank_depth");
    if (rk && !json_is_null(rk) && !json_is_boolean(rk)) {
        *out = serve_error("field \"rerank\" must be true or false");
        return 400;
    }
    if (rd && !json_is_null(rd) &&
        (!json_is_integer(rd) || json_integer_value(rd) < 1 || json_integer_value(rd) > RET_RERANK_MAX_DEPTH)) {
        *out = serve_error("field \"rerank_depth\" must be an integer (1..%d)", RET_RERANK_MAX_DEPTH);
        return 400;
    }
    struct err err = {0};
    struct serve_ctx *c = serve_pool_get(p);
    int want = !rk || json_is_null(rk) ? c->rr != NULL : json_is_true(rk);
    if (want && !c->rr) {
        serve_pool_put(p, c);
        *out = serve_error("\"rerank\": this server has no reranker (start it with --rerank NAME or --rerank-url URL)");
        return 400;
    }
    int depth = rd && json_is_integer(rd) ? (int)json_integer_value(rd)
                : c->rerank_depth        ? c->rerank_depth
                                         : RET_RERANK_DEFAULT_DEPTH;
    int n = 0, kwant = ro.k;
    int rc = ret_resolve(c->r, &ro, &err);
    if (want && depth > ro.k) ro.k = depth; /* SERVE_MAX_K == RET_RERANK_MAX_DEPTH: room enough */
    if (!rc) rc = ret_search(c->r, query, &ro, c->hits, &n, &err);
    if (!rc && want) rc = ret_rerank(c->rr, c->ix, query, c->hits, n, depth, &err);
    if (n > kwant) n = kwant;
    if (!rc) rc = cli_hits_json(c->ix, NULL, query, c->hits, n, out, &err);
    serve_pool_put(p, c);
    return rc ? fail_err(&err, out) : 200;
}

/* An http(s) URL: the scheme and no white space. Anything else is the source's text. */
static int is_url(const char *s)
{
    if (!http_is_web_url(s)) return 0;
    return strcspn(s, " \t\r\n") == strlen(s);
}

int serve_api_verify(struct serve_pool *p, json_t *body, json_t **out)
{
    const char *claim = NULL, *source = NULL;
    int st;
    if ((st = serve_get_string(body, "claim", 1, 1, &claim, out))) return st;
    if ((st = serve_get_string(body, "source", 1, 1, &source, out))) return st;
    struct err err = {0};
    struct ver_result r;
    struct serve_ctx *c = serve_pool_get(p);
    int rc = ver_verify(c->au, claim, source, !is_url(source), &r, &err);
    serve_pool_put(p, c);
    if (!rc) {
        *out = ver_result_json(&r);
        if (!*out) rc = err_set(&err, ERR_NOMEM, "verify");
    }
    ver_results_free(&r, 1);
    return rc ? fail_err(&err, out) : 200;
}

static const struct {
    const char *name;
    enum ver_format fmt;
} audit_formats[] = {{"auto", VER_FMT_AUTO},
                     {"wikitext", VER_FMT_WIKITEXT},
                     {"markdown", VER_FMT_MARKDOWN},
                     {"claims", VER_FMT_CLAIMS}};

int serve_get_format(const char *name, enum ver_format *fmt, json_t **out)
{
    size_t i = 0, n = sizeof audit_formats / sizeof audit_formats[0];
    while (i < n && strcmp(name, audit_formats[i].name)) i++;
    if (i == n) {
        *out = serve_error("unknown format \"%s\" (auto, wikitext, markdown, claims)", name);
        return 400;
    }
    *fmt = audit_formats[i].fmt;
    return 0;
}

int serve_api_audit(struct serve_pool *p, json_t *body, json_t **out)
{
    const char *text = NULL, *format = NULL, *title = NULL;
    int st;
    if ((st = serve_get_string(body, "text", 1, 0, &text, out))) return st;
    if ((st = serve_get_string(body, "format", 0, 0, &format, out))) return st;
    if ((st = serve_get_string(body, "title", 0, 0, &title, out))) return st;
    enum ver_format fmt = VER_FMT_AUTO;
    if (format && (st = serve_get_format(format, &fmt, out))) return st;
    struct err err = {0};
    struct ver_article *art = NULL;
    struct ver_result *res = NULL;
    int nr = 0;
    json_t *arr = NULL;
    struct serve_ctx *c = serve_pool_get(p);
    int rc = ver_extractor_run(c->x, &art, text, strlen(text), fmt, title ? title : "", &err);
    if (!rc) rc = ver_audit(c->au, art, "", &res, &nr, &err);
    serve_pool_put(p, c);
    ver_article_free(art);
    if (!rc && !(arr = json_array())) rc = err_set(&err, ERR_NOMEM, "audit");
    struct ver_claim_run cr = {0}; /* each claim's text once */
    for (int i = 0; !rc && i < nr; i++) {
        json_t *o = ver_result_json(&res[i]);
        ver_claim_run_next(&cr, o);
        if (json_array_append_new(arr, o) != 0) rc = err_set(&err, ERR_NOMEM, "audit");
    }
    if (res) {
        ver_results_free(res, nr);
        free(res);
    }
    if (rc) {
        json_decref(arr);
        return fail_err(&err, out);
    }
    *out = json_pack("{s:o}", "results", arr);
    return 200;
}
