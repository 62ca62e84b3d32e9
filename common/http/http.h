/* http.h - the HTTP client: every request vericite sends goes through this module (libcurl multi).
 *
 * One engine for untrusted URLs (cited pages, search results) and for URLs the user configured
 * (an embeddings endpoint, a wiki API, a search API, a reranker, an LLM judge). A client
 * (struct http_client) holds the connections, the policy (address guard, proxies, User-Agent,
 * concurrency, retry timing) and runs batches of requests: http_run() takes N requests and fills
 * N results, in parallel, and returns when every one has ended. Callers keep only their meaning
 * (what to ask, how to read the answer).
 *
 * What every request gets:
 *   - http and https only (the URL and every redirect target); redirects are followed here, not
 *     by libcurl, so each hop is checked again (scheme, guard, budget); none are followed unless
 *     the request sets max_redirects. Cookies are never kept.
 *   - The address guard (unless the client sets allow_private): every connection of every hop is
 *     checked after DNS, at socket-open time, against http_addr_is_private(); a refused address
 *     ends the request HTTP_FAIL_BLOCKED naming it, before any packet is sent to it. A host with
 *     any refused address ends BLOCKED even if another of its addresses worked. allow_hosts lets
 *     exact "IP:port" pairs through (tests). Connections are only reused within one client, whose
 *     guard settings never change, so a reused connection was checked when it was opened.
 *   - Limits: connect (DNS included) and total time per attempt (all redirect hops together); a
 *     low-speed limit only when the request sets one; a body cap counted both on the wire (a
 *     Content-Length over it ends the request at the headers) and decoded (gzip, deflate, br,
 *     zstd: compression bombs end at the cap); response headers at most HTTP_HEADERS_MAX bytes.
 *   - Retries, for the conditions the request chooses (retry_on), at most `retries` times: after
 *     the answer's Retry-After (seconds or HTTP date, capped at retry_after_max_s) when it has
 *     one, else after base * 2^(k-1) ms plus a random part of up to half of that (the generator
 *     lives in the client), capped at backoff_max_ms. While a request waits for its retry, no
 *     request that has not started yet goes to the same host:port, so a rate-limited server sees
 *     the client slow down. Every retry starts again from the request's own URL.
 *   - Concurrency: at most max_parallel transfers at once, at most max_per_host per host:port
 *     (as written in the URL, lower-cased); requests start in the order given.
 *   - One User-Agent policy: "vericite/VERSION (citation checker)" by default, with the client's
 *     contact in it when one is set ("vericite/0.1.0 (+mailto:me@example.org)"; public APIs such
 *     as Wikimedia's ask for one); user_agent replaces it whole.
 *   - One proxy policy: with the guard off, the usual variables (http_proxy, https_proxy,
 *     all_proxy, no_proxy and their upper-case forms) are honoured, but loopback hosts
 *     (localhost, 127.0.0.1, ::1) are always reached directly. With the guard on, or no_proxy
 *     set, no proxy is ever used: the guard must see the address really connected to, and a
 *     proxy would hide it (the cited-page fetcher runs this way, as it always has).
 *
 * Failures are classified once, here (enum http_fail), with a short name and a message that
 * names the limit or address involved; callers print "name: message" or their own words.
 *
 * Threads: a client is used by one thread at a time (http_run is not re-entrant on one client);
 * clients in different threads share nothing but libcurl's global state, so "one client per
 * thread" is the rule (a thread pool gives each worker its own). curl_global_init() must have
 * run once before any client is made (main() does it; tests do it in their setup). Callbacks
 * run on the thread that called http_run(), inside it.
 *
 * The only includer of <curl/curl.h> in the library is this module (common/http/http_*.c). */
#ifndef VC_HTTP_H
#define VC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "version.h"

struct err;
struct sockaddr;

#define HTTP_USER_AGENT "vericite/" VERICITE_VERSION " (citation checker)"
#define HTTP_URL_MAX 8192                      /* longer URLs (asked or redirected to): bad-url */
#define HTTP_HEADERS_MAX (64u << 10)           /* bytes of response headers kept (and allowed) */
#define HTTP_DEFAULT_MAX_BYTES ((size_t)10 << 20) /* body cap when a request sets none */
#define HTTP_DEFAULT_CONNECT_MS 10000L
#define HTTP_DEFAULT_TOTAL_MS 30000L
#define HTTP_DEFAULT_PARALLEL 16
#define HTTP_DEFAULT_PER_HOST 2
#define HTTP_MAX_PARALLEL 256
#define HTTP_DEFAULT_BACKOFF_BASE_MS 500L
#define HTTP_DEFAULT_BACKOFF_MAX_MS 30000L
#define HTTP_DEFAULT_RETRY_AFTER_MAX_S 60L
#define HTTP_ADDRS_MAX 160 /* bytes of http_result.private_addrs */

/* Why a request did not give a 2xx answer. */
enum http_fail {
    HTTP_OK = 0,         /* a final 2xx answer */
    HTTP_FAIL_DNS,       /* the host name did not resolve, or DNS gave no answer in time */
    HTTP_FAIL_REFUSED,   /* no connection: refused, or the host or network unreachable */
    HTTP_FAIL_CLOSED,    /* the connection broke: reset, empty reply, body cut short */
    HTTP_FAIL_TIMEOUT,   /* a time limit fired; the message names which */
    HTTP_FAIL_TLS,       /* TLS handshake or certificate check failed */
    HTTP_FAIL_HTTP,      /* a final answer that is not 2xx ("HTTP 404"), or a 3xx without Location */
    HTTP_FAIL_REDIRECTS, /* a redirect beyond max_redirects */
    HTTP_FAIL_TOO_LARGE, /* body (on the wire or decoded) or headers over the cap */
    HTTP_FAIL_BLOCKED,   /* the guard refused an address, or a redirect left http(s) */
    HTTP_FAIL_BAD_URL,   /* not an absolute http(s) URL with a host (or a bad redirect target) */
    HTTP_FAIL_OTHER      /* anything else (libcurl's message) */
};
#define HTTP_FAIL_COUNT (HTTP_FAIL_OTHER + 1)

/* The short name of a failure: "ok", "dns", "refused", "closed", "timeout", "tls", "http",
 * "redirects", "too-large", "blocked", "bad-url", "other"; "unknown" out of range. Never NULL. */
const char *http_fail_name(int fail);

/* Conditions a request may be retried on (http_limits.retry_on). */
#define HTTP_RETRY_TIMEOUT 0x1u /* HTTP_FAIL_TIMEOUT */
#define HTTP_RETRY_NET 0x2u     /* HTTP_FAIL_DNS, _REFUSED, _CLOSED */
#define HTTP_RETRY_429 0x4u     /* HTTP 429 Too Many Requests */
#define HTTP_RETRY_5XX 0x8u     /* HTTP 500..599 */
#define HTTP_RETRY_TRANSIENT 0xfu

/* Limits of one request. Zero-initialise: every 0 is the default named. */
struct http_limits {
    long connect_ms;    /* per connection attempt, DNS included; 0: HTTP_DEFAULT_CONNECT_MS */
    long total_ms;      /* per attempt, every redirect hop together; 0: HTTP_DEFAULT_TOTAL_MS */
    long low_speed_bps; /* with low_speed_s > 0: fail when slower than this many bytes/s ... */
    long low_speed_s;   /* ... for this many seconds; 0: no such limit */
    size_t max_bytes;   /* body cap, on the wire and decoded; 0: HTTP_DEFAULT_MAX_BYTES */
    int max_redirects;  /* redirects followed; 0: none (a 3xx with Location is HTTP_FAIL_REDIRECTS) */
    int retries;        /* attempts after the first, on the retry_on conditions; 0: none */
    unsigned retry_on;  /* HTTP_RETRY_* bits */
};

struct http_result;

/* One request. Zero-initialise; everything pointed to is read during http_run() only. */
struct http_request {
    const char *url;            /* absolute http:// or https:// URL (NULL: HTTP_FAIL_BAD_URL) */
    const char *method;         /* NULL: "POST" when body is set, else "GET"; or "HEAD", "PUT",
                                   "DELETE", "PATCH" (upper-case letters only) */
    const char *const *headers; /* NULL or NULL-terminated "Name: value" lines, no CR or LF; sent
                                   on every hop to the same origin; Authorization, Cookie and
                                   Proxy-Authorization are dropped after a redirect elsewhere */
    const char *body;           /* request body of body_len bytes (may hold NULs), not copied */
    size_t body_len;
    struct http_limits lim;
    /* NULL, or a caller's retry test for answers retry_on did not retry (a 200 whose body says
     * "try again", as MediaWiki's maxlag error does): called on http_run's thread after an
     * attempt ended with a response (fail HTTP_OK or HTTP_FAIL_HTTP); returns 1 to retry (within
     * lim.retries, after Retry-After or the backoff). Must not call http_run on this client. */
    int (*retry_if)(void *ud, const struct http_result *res);
    void *ud; /* for retry_if; never touched */
};

/* The result of one request. Filled by http_run(); release with http_result_cleanup(). */
struct http_result {
    int fail;           /* enum http_fail */
    char why[256];      /* "" for HTTP_OK; else what happened, e.g. "connect timeout after 10 s",
                           "no answer in 20 s total", "slower than 64 bytes/s for 10 s",
                           "HTTP 404", "body over the limit of 10485760 bytes",
                           "refused to connect to non-public address 10.0.0.1",
                           "could not resolve host example.invalid" */
    long status;        /* HTTP status of the last response received; 0 if none */
    struct buf body;    /* decoded body of the last response, NUL-terminated, body.len bytes (may
                           hold NULs); kept for HTTP_OK, _HTTP and _REDIRECTS, else empty */
    struct buf headers; /* header lines of the last response ("Name: value\r\n" each, the status
                           line left out); see http_header() */
    char *content_type; /* Content-Type of the last response, NULL when it had none */
    char *final_url;    /* the URL of the last hop tried (a refused redirect target included);
                           NULL only when the request's URL was NULL */
    long retry_after_s; /* Retry-After of the last response in seconds (capped as for retries),
                           0 when absent */
    char addr[64];      /* "IP:port" of the last connection used ("[::1]:80" for IPv6), "" none */
    /* The non-public addresses this request's connections went to (allowed by allow_private or
     * allow_hosts), as "IP:port" joined by ",", "" when every one was public; "*" when more did
     * than fit. What the guard decided, for callers that keep answers (a cache) and must not
     * hand them to someone whose guard would have refused them (http_guard_permits). */
    char private_addrs[HTTP_ADDRS_MAX];
    int attempts;        /* requests sent (retries included); 0 when none was (a bad URL) */
    int redirects;       /* redirects followed in the last attempt */
    double seconds;      /* time in transfers, every attempt and hop (not slot waits or backoff) */
    double wait_seconds; /* time waiting for retries (backoff or Retry-After) */
    double connect_s;    /* last hop: seconds from its start to connected (0: reused or none) */
    double first_byte_s; /* last hop: seconds from its start to the first answer byte (0: none) */
};

/* Client settings. Zero-initialise: every 0 is a usable default. Copied by http_client_new. */
struct http_opts {
    int max_parallel;   /* transfers at once; 0: HTTP_DEFAULT_PARALLEL (1..HTTP_MAX_PARALLEL) */
    int max_per_host;   /* transfers at once per host:port; 0: HTTP_DEFAULT_PER_HOST */
    int allow_private;  /* 1: the guard is off (URLs the user configured, often on localhost) */
    /* NULL, or a NULL-terminated list of numeric "IP:port" ("127.0.0.1:8080", "[::1]:8080"): a
     * connection to exactly that address and port passes the guard. For tests. */
    const char *const *allow_hosts;
    int no_proxy;           /* 1: never use a proxy, whatever the environment says */
    const char *user_agent; /* NULL: the default policy (above); else sent as is */
    const char *contact;    /* NULL, or a URL or mail address put in the default User-Agent */
    long backoff_base_ms;   /* first retry delay; 0: HTTP_DEFAULT_BACKOFF_BASE_MS */
    long backoff_max_ms;    /* longest retry delay; 0: HTTP_DEFAULT_BACKOFF_MAX_MS */
    long retry_after_max_s; /* longest Retry-After honoured; 0: HTTP_DEFAULT_RETRY_AFTER_MAX_S */
    uint64_t seed;          /* jitter generator seed; 0: from the clock, pid and address */
    /* NULL, or called on http_run's thread when request i (index into the batch) has ended, with
     * its final result: progress reports. */
    void (*on_done)(void *ud, size_t i, const struct http_result *res);
    void *on_done_ud;
};

struct http_client;

/* A new client. `opts` may be NULL (all defaults); it is copied, strings and list included.
 * Errors: ERR_ARG (an option out of range, an allow_hosts entry that is not "IP:port", a
 * user_agent or contact with control characters), ERR_NOMEM, ERR_NET (libcurl could not make
 * a multi handle: curl_global_init not run?). On success *out is a new client the caller owns
 * and frees with http_client_free(); on failure *out is NULL. */
int http_client_new(struct http_client **out, const struct http_opts *opts, struct err *err);
/* Free a client and close its connections. NULL is allowed. */
void http_client_free(struct http_client *c);

/* Run `n` requests to completion (in parallel within the client's limits) and fill `res`
 * (n caller-allocated structs; their previous contents are ignored, not freed). Every request
 * gets a result: a per-request failure is res[i].fail, and the call returns ERR_OK.
 * Returns an error only when the batch itself could not run: ERR_ARG (reqs or res NULL with
 * n > 0, a header with CR/LF or without ':', a method that is not upper-case letters, a
 * negative limit, a call from inside one of this client's callbacks),
 * ERR_NOMEM, ERR_NET (libcurl refused a handle or option: older than 7.85?); then every result
 * is cleaned (all zero) and err says why. n == 0 does nothing. */
int http_run(struct http_client *c, const struct http_request *reqs, size_t n,
             struct http_result *res, struct err *err);

/* Free what `res` owns and zero it. NULL is allowed; safe on a zeroed struct. */
void http_result_cleanup(struct http_result *res);

/* The value of response header `name` (case-insensitive) in res->headers, with surrounding
 * spaces cut: a pointer into res->headers (not NUL-terminated at the value's end) and *len its
 * length, or NULL when absent. The first occurrence wins. */
const char *http_header(const struct http_result *res, const char *name, size_t *len);

/* ---- the address guard and URLs, for callers that check before or after a request ---- */

/* 1 when a connection to `sa` is refused by the guard: loopback, private (10/8, 172.16/12,
 * 192.168/16, fc00::/7), link-local, CGNAT 100.64/10, multicast, unspecified, broadcast,
 * reserved and documentation ranges, and IPv6 forms that embed such an IPv4 address
 * (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::/96, 2002::/16) or hide one (Teredo 2001::/32).
 * Non-IP families and NULL count as private (1). 0 for a public unicast address. */
int http_addr_is_private(const struct sockaddr *sa);

/* 1 when an answer fetched from the non-public addresses `private_addrs` (a result's
 * private_addrs: "" none, "IP:port,...", "*" unknown) may be given to a caller whose guard has
 * `allow_private` and `allow_hosts`: always for "", always with allow_private, else only when
 * every address is in allow_hosts ("*" never). Malformed entries are never allowed. */
int http_guard_permits(int allow_private, const char *const *allow_hosts, const char *private_addrs);

/* 1 when s starts with the scheme http:// or https:// (in any case), else 0: the one test of
 * "a web address" (options, report links, sources). It checks nothing else: http_url_check does. */
int http_is_web_url(const char *s);

/* Check a URL as http_run would: absolute http:// or https:// with a host, at most HTTP_URL_MAX
 * bytes, no spaces or control characters. Returns HTTP_OK, HTTP_FAIL_BAD_URL or (another
 * scheme) HTTP_FAIL_BLOCKED, with `why` (cap bytes, may be NULL) saying what is wrong. When
 * `credentials` is not NULL it is set to 1 when the URL has user or password parts (whose
 * text never appears in `why`). Returns -1 when out of memory. */
int http_url_check(const char *url, int *credentials, char *why, size_t cap);

#endif
