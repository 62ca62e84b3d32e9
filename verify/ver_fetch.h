/* ver_fetch.h - fetching cited URLs over http(s): parallel, capped, with an SSRF guard.
 *
 * The policy for untrusted URLs (taken from documents) over the HTTP client (common/http/http.h,
 * which does the work: redirects, guard, limits, classified failures). All functions here need
 * curl_global_init(CURL_GLOBAL_DEFAULT) to have run once (main() does it; tests do it in their
 * setup) and are safe to call from several threads at once (each call has its own client). */
#ifndef VC_VER_FETCH_H
#define VC_VER_FETCH_H

#include <stddef.h>

#include "common/http/http.h"

struct err;
struct sockaddr;

/* One URL has ended (ver_fetch_opts.on_done): what a progress display needs. The strings are
 * valid during the call only. */
struct ver_fetch_done {
    const char *url;    /* as asked for */
    const char *reason; /* http_fail_name(): "ok", "dns", "refused", "timeout", "http", ... */
    const char *why;    /* the classified message ("" when ok) */
    int connected;      /* 1 when a connection was made (0: DNS, refused, a connect timeout) */
    double seconds;     /* time in transfers */
};

/* Fetch options. Zero-initialise (struct ver_fetch_opts o = {0};): every 0 means the default. */
struct ver_fetch_opts {
    long connect_timeout_ms; /* per connection attempt; default 5000 */
    long total_timeout_ms;   /* per URL, all redirect hops together; default 20000 */
    size_t max_bytes;        /* decoded body cap; default 10 MB (VER_FETCH_MAX_BYTES) */
    int max_redirects;       /* hops followed; default 5; negative = follow none */
    int allow_private;       /* 1: skip the address guard (loopback, private, ...) entirely */
    int max_parallel;        /* transfers at once; default 16 */
    int max_per_host;        /* transfers at once per host:port; default 2 */
    const char *user_agent;  /* default VER_FETCH_USER_AGENT; copied by curl, not kept */
    /* NULL, or a NULL-terminated list of numeric "IP:port" ("127.0.0.1:8080", "[::1]:8080").
     * A connection to exactly that resolved address and port is allowed even when the guard
     * would refuse it. Meant for tests; the strings are read during the call only. */
    const char *const *allow_hosts;
    /* NULL, or called on the calling thread inside ver_fetch_many() each time URL i (an index
     * into urls) has ended: progress reports. */
    void (*on_done)(void *ud, size_t i, const struct ver_fetch_done *d);
    void *on_done_ud;
};

#define VER_FETCH_USER_AGENT HTTP_USER_AGENT
#define VER_FETCH_MAX_BYTES ((size_t)10 * 1024 * 1024)

/* What happened to one URL. */
enum ver_fetch_outcome {
    VER_FETCH_OK = 0,               /* a final non-redirect response with status < 400 */
    VER_FETCH_HTTP_ERROR,           /* status >= 400, or a 3xx without a usable Location */
    VER_FETCH_TIMEOUT,              /* total timeout or connect timeout (there is no low-speed limit) */
    VER_FETCH_TOO_BIG,              /* body over max_bytes on the wire or decoded (or Content-Length) */
    VER_FETCH_REFUSED,              /* the guard refused an address, or a redirect left http(s) */
    VER_FETCH_NET,                  /* DNS, connect, TLS, reset, bad encoding (see reason) */
    VER_FETCH_BAD_URL,              /* not an absolute http:// or https:// URL */
    VER_FETCH_TOO_MANY_REDIRECTS    /* more than max_redirects hops */
};

/* The result for one URL. Filled by ver_fetch_many(); release with ver_fetch_result_cleanup().
 * Every char * is malloc'ed and owned by the result. */
struct ver_fetch_result {
    char *url;          /* the URL as asked for (NULL if the caller passed NULL) */
    char *final_url;    /* the URL of the last hop tried (a refused redirect target included) */
    long status;        /* HTTP status of the last response received; 0 if none */
    char *content_type; /* Content-Type of the last response, NULL if it had none */
    char *body;         /* decoded body, NUL-terminated (body_len excludes the NUL); set only for
                         * OK and HTTP_ERROR, else NULL */
    size_t body_len;
    int outcome;        /* enum ver_fetch_outcome */
    const char *reason; /* the classified failure, a static string: http_fail_name() ("ok",
                         * "dns", "refused", "closed", "timeout", "tls", "http", "redirects",
                         * "too-large", "blocked", "bad-url", "other") */
    char error[256];    /* why, when outcome != OK ("connect timeout after 5 s", "no answer in
                         * 20 s total", "could not resolve host x.invalid", "HTTP 404", ...);
                         * "" otherwise */
    double seconds;     /* time spent in transfers (waiting for a free slot not counted) */
    /* The non-public addresses the answer came from (allowed by allow_private or allow_hosts):
     * "" when all were public; see http_result.private_addrs and ver_fetch_permits(). */
    char private_addrs[HTTP_ADDRS_MAX];
};

/* Fetch `n` URLs in parallel (at most opts->max_parallel at once, opts->max_per_host per
 * host:port). `opts` may be NULL (all defaults); it is read during the call only. `results`
 * points to `n` caller-allocated structs; their previous contents are ignored (not freed).
 * Redirects are followed by this function, each hop re-checked: only http and https, and
 * every connection's resolved address passes ver_addr_is_private() unless allow_private (a
 * host with any refused address ends REFUSED, even if another of its addresses worked).
 * No cookies are kept, no proxy is ever used (the guard must see the address connected to),
 * bodies are decoded (gzip, deflate, br, zstd as built in), there is no low-speed limit (the
 * total timeout bounds a slow server).
 * Per-URL failures go into results[i].outcome and return ERR_OK. Returns an error code only
 * when the fetcher itself could not run (ERR_NOMEM, ERR_NET for a curl setup failure); then
 * every result is cleaned (all zero) and err says why. Needs curl_global_init(). */
int ver_fetch_many(const char *const *urls, size_t n, const struct ver_fetch_opts *opts,
                   struct ver_fetch_result *results, struct err *err);

/* ver_fetch_many() for one URL. */
int ver_fetch_one(const char *url, const struct ver_fetch_opts *opts, struct ver_fetch_result *res,
                  struct err *err);

/* Free what `res` owns and zero it. NULL is allowed; safe on a zeroed struct. */
void ver_fetch_result_cleanup(struct ver_fetch_result *res);

/* A short name for an outcome ("ok", "http-error", "timeout", ...). Never NULL. */
const char *ver_fetch_outcome_name(int outcome);

/* 1 when a connection to `sa` must be refused by the guard: http_addr_is_private(). */
int ver_addr_is_private(const struct sockaddr *sa);

/* 1 when an answer that came from `private_addrs` (a result's private_addrs, or what a cache
 * kept of it: "" public, "*" unknown) may be used by a caller with these guard settings (the
 * fields of struct ver_fetch_opts): http_guard_permits(). A cache lookup without the permission
 * the fetch needed must act as a miss, so that a page fetched once with --allow-private is not
 * handed to callers whose guard would refuse it. */
int ver_fetch_permits(int allow_private, const char *const *allow_hosts, const char *private_addrs);

#endif
