/* ver_websearch.c - a SearxNG-compatible JSON web search (GET /search?q=...&format=json ->
 * {"results": [{"url", "title", "content"}, ...]}) as a source of suggestions: the request URL,
 * the answer's parser, and one search through the index's search cache and the HTTP client. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "common/http/http.h"
#include "verify/ver.h"

#define SEARCH_MAX_BYTES (4u << 20)
#define SEARCH_TIMEOUT_MS 20000L

void ver_search_answer_cleanup(struct ver_search_answer *a)
{
    if (!a) return;
    for (int i = 0; i < a->n; i++) {
        free(a->hits[i].url);
        free(a->hits[i].title);
        free(a->hits[i].snippet);
    }
    free(a->hits);
    memset(a, 0, sizeof *a);
}

static int put_encoded(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int bad = ascii_isalnum(*p) || strchr("-._~", *p) ? buf_putc(b, (char)*p)
                  : *p == ' '                              ? buf_putc(b, '+')
                                                           : buf_putc(b, '%') || buf_putc(b, hex[*p >> 4]) ||
                                                                 buf_putc(b, hex[*p & 15]);
        if (bad) return -1;
    }
    return 0;
}

int ver_search_url(const char *base, const char *query, struct buf *out, struct err *err)
{
    if (!http_is_web_url(base))
        return err_set(err, ERR_ARG, "--search-url %s: not an http(s) URL", base);
    const char *q = strchr(base, '?');
    size_t path_end = q ? (size_t)(q - base) : strlen(base);
    while (path_end > 0 && base[path_end - 1] == '/') path_end--;
    /* the engine's /search, unless the URL names its own endpoint */
    const char *host = strstr(base, "://") + 3;
    const char *slash = memchr(host, '/', (size_t)(base + path_end - host));
    int has_path = slash != NULL && (size_t)(slash - base) < path_end;
    int bad = buf_append(out, base, path_end) || (!has_path && buf_puts(out, "/search")) ||
              buf_putc(out, '?') || (q && q[1] && (buf_puts(out, q + 1) || buf_putc(out, '&'))) ||
              buf_puts(out, "q=") || put_encoded(out, query) || buf_puts(out, "&format=json");
    return bad ? err_set(err, ERR_NOMEM, "search URL") : ERR_OK;
}

int ver_search_parse(const char *json, size_t len, int max, struct ver_search_answer *out, struct err *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root) return err_set(err, ERR_PARSE, "the search answer is not JSON (line %d: %s)", je.line, je.text);
    json_t *res = json_object_get(root, "results");
    int rc = ERR_OK;
    if (!json_is_array(res)) {
        rc = err_set(err, ERR_PARSE, "the search answer has no \"results\" array (is this a SearxNG JSON API?)");
        goto out;
    }
    size_t n = json_array_size(res);
    out->hits = calloc(n ? n : 1, sizeof *out->hits);
    if (!out->hits) {
        rc = err_set(err, ERR_NOMEM, "search answer");
        goto out;
    }
    for (size_t i = 0; i < n && out->n < max; i++) {
        json_t *h = json_array_get(res, i);
        const char *url = json_string_value(json_object_get(h, "url"));
        if (!url || (!http_is_web_url(url))) continue;
        const char *title = json_string_value(json_object_get(h, "title"));
        const char *snip = json_string_value(json_object_get(h, "content"));
        struct ver_search_hit *x = &out->hits[out->n];
        x->url = strdup(url);
        x->title = strdup(title ? title : "");
        x->snippet = strdup(snip ? snip : "");
        out->n++;
        if (!x->url || !x->title || !x->snippet) {
            rc = err_set(err, ERR_NOMEM, "search answer");
            goto out;
        }
    }
out:
    json_decref(root);
    if (rc) ver_search_answer_cleanup(out);
    return rc;
}

int ver_search(struct idx *ix, const struct ver_search_opts *o, const char *query, struct ver_search_answer *out,
               struct err *err)
{
    memset(out, 0, sizeof *out);
    int max = o->max > 0 ? o->max : VER_SEARCH_RESULTS;
    struct buf url = {0}, body = {0};
    int found = 0, rc = ver_search_url(o->base, query, &url, err);
    if (!rc && !o->refresh) rc = idx_search_cache_get(ix, url.data, &body, &found, err);
    if (!rc && found) {
        rc = ver_search_parse(body.data, body.len, max, out, err);
        out->cached = 1;
        goto done;
    }
    if (rc || o->offline) goto done; /* offline: the cache or nothing */
    struct http_client *c = NULL;
    struct http_opts ho = {.allow_private = 1, .max_parallel = 1}; /* the user's engine, often local */
    if ((rc = http_client_new(&c, &ho, err))) goto done;
    const char *const headers[] = {"Accept: application/json", NULL};
    struct http_request rq = {.url = url.data,
                              .headers = headers,
                              .lim = {.total_ms = o->timeout_ms > 0 ? o->timeout_ms : SEARCH_TIMEOUT_MS,
                                      .max_bytes = SEARCH_MAX_BYTES,
                                      .max_redirects = 2,
                                      .retries = 2,
                                      .retry_on = HTTP_RETRY_429 | HTTP_RETRY_5XX}};
    struct http_result res = {0};
    rc = http_run(c, &rq, 1, &res, err);
    if (!rc && res.fail != HTTP_OK)
        rc = err_set(err, ERR_NET, "web search %s: %s: %s", o->base, http_fail_name(res.fail), res.why);
    if (!rc) rc = ver_search_parse(res.body.data ? res.body.data : "", res.body.len, max, out, err);
    if (rc == ERR_PARSE) err_prefix(err, "web search %s", o->base);
    /* only an answer that parsed is kept; the cache is best effort (a read-only index keeps none) */
    if (!rc) idx_search_cache_put(ix, url.data, res.body.data ? res.body.data : "", NULL);
    http_result_cleanup(&res);
    http_client_free(c);
done:
    buf_cleanup(&url);
    buf_cleanup(&body);
    return rc;
}
