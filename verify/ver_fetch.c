/* ver_fetch.c - fetching cited URLs: the untrusted-URL policy (guard on unless allowed, no proxy,
 * redirects re-checked, size and time caps) over the HTTP client in common/http. */
#include "ver_fetch.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_CONNECT_MS 5000L
#define FETCH_TOTAL_MS 20000L
#define FETCH_REDIRECTS 5
#define FETCH_PARALLEL 16
#define FETCH_PER_HOST 2

int ver_addr_is_private(const struct sockaddr *sa)
{
    return http_addr_is_private(sa);
}

int ver_fetch_permits(int allow_private, const char *const *allow_hosts, const char *private_addrs)
{
    return http_guard_permits(allow_private, allow_hosts, private_addrs);
}

void ver_fetch_result_cleanup(struct ver_fetch_result *res)
{
    if (!res) return;
    free(res->url);
    free(res->final_url);
    free(res->content_type);
    free(res->body);
    memset(res, 0, sizeof *res);
}

const char *ver_fetch_outcome_name(int outcome)
{
    static const char *const names[] = {"ok",      "http-error", "timeout", "too-big",
                                        "refused", "net",        "bad-url", "too-many-redirects"};
    if (outcome < 0 || outcome >= (int)(sizeof names / sizeof names[0])) return "unknown";
    return names[outcome];
}

static int outcome_of(int fail)
{
    switch (fail) {
    case HTTP_OK:
        return VER_FETCH_OK;
    case HTTP_FAIL_HTTP:
        return VER_FETCH_HTTP_ERROR;
    case HTTP_FAIL_TIMEOUT:
        return VER_FETCH_TIMEOUT;
    case HTTP_FAIL_TOO_LARGE:
        return VER_FETCH_TOO_BIG;
    case HTTP_FAIL_BLOCKED:
        return VER_FETCH_REFUSED;
    case HTTP_FAIL_BAD_URL:
        return VER_FETCH_BAD_URL;
    case HTTP_FAIL_REDIRECTS:
        return VER_FETCH_TOO_MANY_REDIRECTS;
    default: /* dns, refused, closed, tls, other */
        return VER_FETCH_NET;
    }
}

/* Move what the caller keeps from h into r. Returns 0, or -1 when out of memory. */
static int take_result(const char *url, struct http_result *h, struct ver_fetch_result *r)
{
    r->outcome = outcome_of(h->fail);
    r->reason = http_fail_name(h->fail);
    snprintf(r->error, sizeof r->error, "%s", h->why);
    snprintf(r->private_addrs, sizeof r->private_addrs, "%s", h->private_addrs);
    r->status = h->status;
    r->seconds = h->seconds;
    r->final_url = h->final_url;
    r->content_type = h->content_type;
    h->final_url = h->content_type = NULL;
    if (url && !(r->url = strdup(url))) return -1;
    if (r->outcome == VER_FETCH_OK || r->outcome == VER_FETCH_HTTP_ERROR) {
        r->body_len = h->body.len;
        if (!(r->body = buf_steal(&h->body))) return -1;
    }
    return 0;
}

/* The client's on_done, passed on as the fetcher's. */
static void fetch_on_done(void *ud, size_t i, const struct http_result *res)
{
    const struct ver_fetch_opts *o = ud;
    struct ver_fetch_done d = {.reason = http_fail_name(res->fail), .why = res->why,
                               .connected = res->connect_s > 0 || res->first_byte_s > 0 || res->status > 0,
                               .seconds = res->seconds};
    d.url = res->final_url ? res->final_url : "";
    o->on_done(o->on_done_ud, i, &d);
}

int ver_fetch_many(const char *const *urls, size_t n, const struct ver_fetch_opts *opts,
                   struct ver_fetch_result *results, struct err *err)
{
    static const struct ver_fetch_opts none = {0};
    const struct ver_fetch_opts *o = opts ? opts : &none;
    if (n == 0) return ERR_OK;
    if (!urls || !results) return err_set(err, ERR_ARG, "fetch: urls and results are required");
    memset(results, 0, n * sizeof *results);
    struct http_opts ho = {
        .max_parallel = o->max_parallel > 0 ? o->max_parallel : FETCH_PARALLEL,
        .max_per_host = o->max_per_host > 0 ? o->max_per_host : FETCH_PER_HOST,
        .allow_private = o->allow_private != 0,
        .allow_hosts = o->allow_hosts,
        .no_proxy = 1, /* never a proxy, even with the guard off: as this fetcher always was */
        .user_agent = o->user_agent,
        .on_done = o->on_done ? fetch_on_done : NULL,
        .on_done_ud = (void *)o,
    };
    if (ho.max_parallel > HTTP_MAX_PARALLEL) ho.max_parallel = HTTP_MAX_PARALLEL;
    struct http_limits lim = {
        .connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : FETCH_CONNECT_MS,
        .total_ms = o->total_timeout_ms > 0 ? o->total_timeout_ms : FETCH_TOTAL_MS,
        .max_bytes = o->max_bytes ? o->max_bytes : VER_FETCH_MAX_BYTES,
        .max_redirects = o->max_redirects > 0   ? o->max_redirects
                         : o->max_redirects < 0 ? 0
                                                : FETCH_REDIRECTS,
    };
    struct http_client *c = NULL;
    struct http_request *rq = calloc(n, sizeof *rq);
    struct http_result *hr = calloc(n, sizeof *hr);
    int rc = ERR_OK;
    if (!rq || !hr) {
        rc = err_set(err, ERR_NOMEM, "fetch: %zu transfers", n);
        goto out;
    }
    if ((rc = http_client_new(&c, &ho, err)) != ERR_OK) {
        err_prefix(err, "fetch");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rq[i].url = urls[i];
        rq[i].lim = lim;
    }
    if ((rc = http_run(c, rq, n, hr, err)) != ERR_OK) {
        err_prefix(err, "fetch");
        goto out;
    }
    for (size_t i = 0; i < n && rc == ERR_OK; i++)
        if (take_result(urls[i], &hr[i], &results[i]) != 0)
            rc = err_set(err, ERR_NOMEM, "fetch: out of memory");
out:
    for (size_t i = 0; hr && i < n; i++)
        http_result_cleanup(&hr[i]);
    if (rc != ERR_OK)
        for (size_t i = 0; i < n; i++)
            ver_fetch_result_cleanup(&results[i]);
    http_client_free(c);
    free(rq);
    free(hr);
    return rc;
}

int ver_fetch_one(const char *url, const struct ver_fetch_opts *opts, struct ver_fetch_result *res,
                  struct err *err)
{
    return ver_fetch_many(&url, 1, opts, res, err);
}
