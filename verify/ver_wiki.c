/* ver_wiki.c - an article's wikitext from the MediaWiki Action API of any wiki: the page named by
 * a URL, "en:Title" or a title; the current revision's id, timestamp and content in one query,
 * redirects followed, over the HTTP client (its User-Agent policy, retries after 429/503 and
 * maxlag answers honouring Retry-After). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "common/http/http.h"
#include "utf8.h"
#include "verify/ver.h"

#define WIKI_TIMEOUT_MS 60000L
#define WIKI_RETRIES 4

struct ver_wiki {
    struct http_client *http;
    struct ver_wiki_opts o;
};

void ver_wiki_page_cleanup(struct ver_wiki_page *p)
{
    if (!p) return;
    free(p->title);
    free(p->redirected_from);
    free(p->url);
    free(p->revision_time);
    free(p->wikitext);
    memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- naming a page */

/* Percent-decode n bytes of s into out (cap bytes), '_' and '+' (in a query) as spaces. -1 when
 * it does not fit. */
static int decode_title(const char *s, size_t n, int plus, char *out, size_t cap)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && ascii_isxdigit((unsigned char)s[i + 1]) &&
            ascii_isxdigit((unsigned char)s[i + 2])) {
            c = (char)(ascii_hexval((unsigned char)s[i + 1]) * 16 + ascii_hexval((unsigned char)s[i + 2]));
            i += 2;
        } else if (c == '_' || (plus && c == '+')) {
            c = ' ';
        }
        if (w + 1 >= cap) return -1;
        out[w++] = c;
    }
    out[w] = '\0';
    return 0;
}

/* Trim spaces at both ends and fold runs of spaces into one, in place. */
static void squeeze(char *t)
{
    char *r = t, *w = t;
    while (*r == ' ') r++;
    for (; *r; r++)
        if (*r != ' ' || (r[1] && r[1] != ' ')) *w++ = *r;
    *w = '\0';
}

/* The checks MediaWiki makes of a title (Title::secureAndSplit), before any request. */
static int check_title(const char *t, struct err *err)
{
    size_t n = strlen(t);
    if (n == 0) return err_set(err, ERR_ARG, "the page title is empty");
    if (n > VER_WIKI_TITLE_MAX)
        return err_set(err, ERR_ARG, "the page title \"%.60s...\" is longer than %d bytes", t, VER_WIKI_TITLE_MAX);
    if (!utf8_valid(t, n, NULL)) return err_set(err, ERR_ARG, "the page title is not valid UTF-8");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x20 || c == 0x7f) return err_set(err, ERR_ARG, "the page title \"%s\" has a control character", t);
        if (strchr("#<>[]|{}", c))
            return err_set(err, ERR_ARG, "the page title \"%s\" has '%c', which no MediaWiki title may have", t, c);
        if (c == '%' && i + 2 < n && ascii_isxdigit((unsigned char)t[i + 1]) && ascii_isxdigit((unsigned char)t[i + 2]))
            return err_set(err, ERR_ARG, "the page title \"%s\" has a percent-encoded character left", t);
    }
    if (t[0] == ':') return err_set(err, ERR_ARG, "the page title \"%s\" starts with ':'", t);
    if (strstr(t, "~~~")) return err_set(err, ERR_ARG, "the page title \"%s\" has '~~~'", t);
    if (!strcmp(t, ".") || !strcmp(t, "..") || !strncmp(t, "./", 2) || !strncmp(t, "../", 3) || strstr(t, "/./") ||
        strstr(t, "/../") || (n >= 2 && !strcmp(t + n - 2, "/.")) || (n >= 3 && !strcmp(t + n - 3, "/..")))
        return err_set(err, ERR_ARG, "the page title \"%s\" is a relative path", t);
    return ERR_OK;
}

/* 1 when s[0, n) looks like a Wikipedia language code: 2-3 lower-case letters, then -letters
 * parts (zh-yue, be-tarask), or "simple". */
static int lang_code(const char *s, size_t n)
{
    if (n == 6 && !strncmp(s, "simple", 6)) return 1;
    size_t i = 0;
    while (i < n && s[i] >= 'a' && s[i] <= 'z') i++;
    if (i < 2 || i > 3) return 0;
    while (i < n) {
        if (s[i] != '-') return 0;
        size_t j = ++i;
        while (i < n && s[i] >= 'a' && s[i] <= 'z') i++;
        if (i == j || i - j > 8) return 0;
    }
    return 1;
}

/* The query parameter `name` of a URL's query (after '?'), or NULL; *n its length. */
static const char *query_param(const char *q, const char *name, size_t *n)
{
    size_t k = strlen(name);
    for (const char *p = q; p && *p;) {
        if (!strncmp(p, name, k) && p[k] == '=') {
            *n = strcspn(p + k + 1, "&#");
            return p + k + 1;
        }
        p = strchr(p, '&');
        if (p) p++;
    }
    return NULL;
}

/* A page URL: the host's /w/api.php and the title from /wiki/TITLE or index.php?title=TITLE. */
static int target_from_url(const char *url, struct ver_wiki_target *out, struct err *err)
{
    const char *host = strstr(url, "://") + 3;
    size_t hn = strcspn(host, "/?#");
    const char *path = host + hn;
    if (hn == 0) return err_set(err, ERR_ARG, "%s: no host in the URL", url);
    int w = snprintf(out->api, sizeof out->api, "%.*s/w/api.php", (int)(host + hn - url), url);
    if (w < 0 || (size_t)w >= sizeof out->api) return err_set(err, ERR_ARG, "%s: the URL is too long", url);
    const char *t = NULL;
    size_t tn = 0;
    int plus = 0;
    if (!strncmp(path, "/wiki/", 6)) {
        t = path + 6;
        tn = strcspn(t, "?#");
    } else {
        const char *q = strchr(path, '?');
        if (q && (t = query_param(q + 1, "title", &tn))) plus = 1;
    }
    if (!t || tn == 0)
        return err_set(err, ERR_ARG, "%s: not a wiki page URL (expected .../wiki/Title or .../index.php?title=Title)",
                       url);
    if (decode_title(t, tn, plus, out->title, sizeof out->title))
        return err_set(err, ERR_ARG, "%s: the page title is too long", url);
    return ERR_OK;
}

int ver_wiki_target(const char *spec, const char *api, struct ver_wiki_target *out, struct err *err)
{
    memset(out, 0, sizeof *out);
    int rc = ERR_OK;
    if (http_is_web_url(spec)) {
        rc = target_from_url(spec, out, err);
    } else {
        const char *colon = strchr(spec, ':');
        const char *title = spec;
        if (api && *api) {
            snprintf(out->api, sizeof out->api, "%s", api);
        } else if (colon && lang_code(spec, (size_t)(colon - spec))) {
            snprintf(out->api, sizeof out->api, "https://%.*s.wikipedia.org/w/api.php", (int)(colon - spec), spec);
            title = colon + 1;
        } else {
            snprintf(out->api, sizeof out->api, "%s", VER_WIKI_DEFAULT_API);
        }
        if (strlen(title) >= sizeof out->title) return err_set(err, ERR_ARG, "the page title \"%.60s...\" is too long", title);
        snprintf(out->title, sizeof out->title, "%s", title);
        for (char *p = out->title; *p; p++)
            if (*p == '_') *p = ' ';
    }
    if (rc) return rc;
    if (api && *api) snprintf(out->api, sizeof out->api, "%s", api);
    squeeze(out->title);
    if ((rc = check_title(out->title, err))) return rc;
    char why[200];
    int u = http_url_check(out->api, NULL, why, sizeof why);
    if (u != HTTP_OK) return err_set(err, ERR_ARG, "the wiki API %s: %s", out->api, u < 0 ? "out of memory" : why);
    return ERR_OK;
}

/* ---------------------------------------------------------------- the client */

int ver_wiki_new(struct ver_wiki **out, const struct ver_wiki_opts *o, struct err *err)
{
    *out = NULL;
    struct ver_wiki *w = calloc(1, sizeof *w);
    if (!w) return err_set(err, ERR_NOMEM, "wiki client");
    if (o) w->o = *o;
    if (w->o.timeout_ms <= 0) w->o.timeout_ms = WIKI_TIMEOUT_MS;
    if (w->o.retries <= 0) w->o.retries = WIKI_RETRIES;
    const char *contact = w->o.contact ? w->o.contact : getenv("VERICITE_CONTACT");
    struct http_opts ho = {.allow_private = 1, /* the user's choice of API, often on localhost */
                           .contact = contact && *contact ? contact : NULL,
                           .backoff_base_ms = w->o.backoff_ms,
                           .max_parallel = 2};
    int rc = http_client_new(&w->http, &ho, err);
    if (rc) {
        err_prefix(err, "wiki client");
        free(w);
        return rc;
    }
    *out = w;
    return ERR_OK;
}

void ver_wiki_free(struct ver_wiki *w)
{
    if (!w) return;
    http_client_free(w->http);
    free(w);
}

/* Percent-encode s for a query value. */
static int put_encoded(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (ascii_isalnum(*p) || strchr("-._~", *p)) {
            if (buf_putc(b, (char)*p)) return -1;
        } else if (buf_putc(b, '%') || buf_putc(b, hex[*p >> 4]) || buf_putc(b, hex[*p & 15])) {
            return -1;
        }
    }
    return 0;
}

/* MediaWiki answers "maxlag" errors with status 200 (or 503) and a Retry-After: try again. */
static int maxlag(void *ud, const struct http_result *res)
{
    (void)ud;
    return res->body.data && strstr(res->body.data, "\"maxlag\"") != NULL && strstr(res->body.data, "\"error\"");
}

static char *dup_str(const char *s) { return strdup(s ? s : ""); }

/* The page of a formatversion=2 answer. */
static int read_page(json_t *root, const struct ver_wiki_target *t, struct ver_wiki_page *p, struct err *err)
{
    json_t *e = json_object_get(root, "error");
    if (e)
        return err_set(err, ERR_PARSE, "%s: API error %s: %s", t->api, json_string_value(json_object_get(e, "code")),
                       json_string_value(json_object_get(e, "info")) ? json_string_value(json_object_get(e, "info"))
                                                                      : "");
    json_t *q = json_object_get(root, "query");
    json_t *pg = json_array_get(json_object_get(q, "pages"), 0);
    if (!pg) return err_set(err, ERR_PARSE, "%s: the answer has no query.pages (is this a MediaWiki API?)", t->api);
    const char *title = json_string_value(json_object_get(pg, "title"));
    if (json_is_true(json_object_get(pg, "invalid")))
        return err_set(err, ERR_ARG, "\"%s\" is not a valid title on %s: %s", t->title, t->api,
                       json_string_value(json_object_get(pg, "invalidreason"))
                           ? json_string_value(json_object_get(pg, "invalidreason"))
                           : "invalid");
    if (json_is_true(json_object_get(pg, "missing")))
        return err_set(err, ERR_NOTFOUND, "no page \"%s\" on the wiki %s", title ? title : t->title, t->api);
    json_t *rev = json_array_get(json_object_get(pg, "revisions"), 0);
    json_t *slot = json_object_get(json_object_get(rev, "slots"), "main");
    const char *model = json_string_value(json_object_get(slot, "contentmodel"));
    json_t *content = json_object_get(slot, "content");
    if (!rev || !json_is_string(content))
        return err_set(err, ERR_PARSE, "%s: page \"%s\": the answer has no revision content", t->api, t->title);
    if (model && strcmp(model, "wikitext"))
        return err_set(err, ERR_ARG, "page \"%s\" on %s is %s, not wikitext", title ? title : t->title, t->api, model);
    json_t *redirs = json_object_get(q, "redirects");
    if (json_array_size(redirs) > 0) {
        json_t *norm = json_array_get(json_object_get(q, "normalized"), 0);
        const char *from = json_string_value(json_object_get(json_array_get(redirs, 0), "from"));
        /* the title as asked: before normalisation when there was one */
        const char *asked = norm ? json_string_value(json_object_get(norm, "from")) : NULL;
        p->redirected_from = dup_str(asked ? asked : from);
    }
    p->title = dup_str(title ? title : t->title);
    p->revision = (long long)json_integer_value(json_object_get(rev, "revid"));
    p->revision_time = dup_str(json_string_value(json_object_get(rev, "timestamp")));
    size_t n = json_string_length(content);
    p->wikitext = malloc(n + 1);
    if (p->wikitext) {
        memcpy(p->wikitext, json_string_value(content), n);
        p->wikitext[n] = '\0';
        p->wikitext_len = n;
    }
    const char *full = json_string_value(json_object_get(pg, "fullurl"));
    if (full && (http_is_web_url(full))) {
        p->url = dup_str(full);
    } else { /* an old wiki without inprop=url: the article path beside the API's */
        struct buf u = {0};
        const char *api_end = strstr(t->api, "/w/api.php");
        size_t base = api_end ? (size_t)(api_end - t->api) : strlen(t->api);
        buf_append(&u, t->api, base);
        buf_puts(&u, "/wiki/");
        for (const char *c = p->title; c && *c; c++) buf_putc(&u, *c == ' ' ? '_' : *c);
        p->url = buf_steal(&u);
    }
    if (!p->title || !p->revision_time || !p->wikitext || !p->url || (json_array_size(redirs) > 0 && !p->redirected_from))
        return err_set(err, ERR_NOMEM, "wiki page");
    return ERR_OK;
}

int ver_wiki_fetch(struct ver_wiki *w, const struct ver_wiki_target *t, struct ver_wiki_page *out,
                   struct err *err)
{
    memset(out, 0, sizeof *out);
    struct buf url = {0};
    int bad = buf_puts(&url, t->api) || buf_putc(&url, strchr(t->api, '?') ? '&' : '?') ||
              buf_puts(&url, "action=query&prop=revisions%7Cinfo&inprop=url&rvprop=content%7Cids%7Ctimestamp"
                             "&rvslots=main&formatversion=2&format=json&redirects=1&maxlag=5&titles=") ||
              put_encoded(&url, t->title);
    if (bad) {
        buf_cleanup(&url);
        return err_set(err, ERR_NOMEM, "wiki request");
    }
    const char *const headers[] = {"Accept: application/json", NULL};
    struct http_request rq = {.url = url.data,
                              .headers = headers,
                              .lim = {.total_ms = w->o.timeout_ms,
                                      .max_bytes = VER_WIKI_MAX_BYTES,
                                      .max_redirects = 3,
                                      .retries = w->o.retries,
                                      .retry_on = HTTP_RETRY_429 | HTTP_RETRY_5XX | HTTP_RETRY_TIMEOUT},
                              .retry_if = maxlag};
    struct http_result res = {0};
    int rc = http_run(w->http, &rq, 1, &res, err);
    if (rc) err_prefix(err, "%s", t->api);
    else if (res.fail != HTTP_OK)
        rc = err_set(err, res.fail == HTTP_FAIL_TOO_LARGE ? ERR_LIMIT : ERR_NET, "%s: page \"%s\": %s: %s%s", t->api,
                     t->title, http_fail_name(res.fail), res.why,
                     res.attempts > 1 ? " (after retries)" : "");
    json_t *root = NULL;
    if (!rc) {
        json_error_t je;
        root = json_loadb(res.body.data ? res.body.data : "", res.body.len, 0, &je);
        if (!root)
            rc = err_set(err, ERR_PARSE, "%s: the answer is not JSON (line %d: %s)", t->api, je.line, je.text);
    }
    if (!rc) rc = read_page(root, t, out, err);
    if (rc) ver_wiki_page_cleanup(out);
    json_decref(root);
    http_result_cleanup(&res);
    buf_cleanup(&url);
    return rc;
}
