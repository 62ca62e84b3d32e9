/* http_run.c - the HTTP client's engine: one libcurl multi per client, a batch of requests run to
 * completion with redirects followed here, the guard at socket-open, per-host slots and retries.
 *
 * A request moves through: pending (waiting for a free slot) -> active (one hop in libcurl) ->
 * pending again for the next hop of a redirect, or waiting (for a retry), or done. Hops of an
 * attempt share its total budget; a retry starts a new attempt from the request's own URL. */
#include "http_int.h"

#include "ascii.h"
#include "err.h"
#include "hash.h"
#include "vec.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 200 /* longest single wait in the multi loop */
#define NOPROXY_LOOPBACK "localhost,127.0.0.1,::1"
#define METHOD_MAX 16

struct http_client {
    int max_parallel, max_per_host;
    int allow_private, direct; /* direct: never a proxy */
    long backoff_base_ms, backoff_max_ms, retry_after_max_s;
    struct http_allow *allow; /* (nallow) */
    size_t nallow;
    char *ua, *noproxy;
    void (*on_done)(void *ud, size_t i, const struct http_result *res);
    void *on_done_ud;
    uint64_t rng; /* xorshift64* state for the jitter */
    CURLM *multi; /* owns the connection cache: connections live as long as the client */
    CURL **idle;  /* (max_parallel) easy handles kept for reuse */
    int nidle;
    int running; /* inside http_run */
};

enum { X_PENDING, X_ACTIVE, X_WAITING, X_DONE };

struct xfer {
    const struct http_client *c;
    const struct http_request *rq;
    struct http_result *res;
    size_t index;
    struct http_limits lim; /* with defaults */
    const char *method;     /* the current hop's */
    int has_body;           /* the current hop sends rq->body */
    CURL *h;
    struct curl_slist *hdrs;
    int state, hops, cross_origin;
    char key0[HTTP_HOSTKEY_MAX]; /* the request URL's host:port */
    int https0, literal0;
    char hostkey[HTTP_HOSTKEY_MAX]; /* the current hop's */
    double used_ms;                 /* of this attempt's total budget */
    long hop_ms;                    /* the current hop's budget */
    double t_hop, t_wait, not_before;
    int too_big; /* 1 decoded body, 2 on the wire, 3 headers */
    int oom, opened, blocked;
    char blocked_why[160];
    char errbuf[CURL_ERROR_SIZE];
    struct xfer *next; /* pending list */
};

struct host {
    char key[HTTP_HOSTKEY_MAX];
    int used, active, waiting;
};

struct run {
    struct http_client *c;
    struct xfer *xs; /* (n) */
    size_t n, done;
    struct host *hosts; /* open addressing, hcap slots (a power of two) */
    size_t hcap, hused;
    struct xfer *pending, **ptail;
    struct xfer **waiting; /* (wcap) */
    size_t nwaiting, wcap;
    int active;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

/* ---------------------------------------------------------------- the client */

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f) return 1;
    return 0;
}

static int client_strings(struct http_client *c, const struct http_opts *o, struct err *err)
{
    struct buf b = {0};
    if ((o->user_agent && has_ctl(o->user_agent)) || (o->contact && has_ctl(o->contact)))
        return err_set(err, ERR_ARG, "http: control characters in user_agent or contact");
    if (o->user_agent) {
        if (buf_puts(&b, o->user_agent)) goto nomem;
    } else if (o->contact && *o->contact) {
        if (buf_printf(&b, "vericite/%s (+%s)", VERICITE_VERSION, o->contact)) goto nomem;
    } else if (buf_puts(&b, HTTP_USER_AGENT)) {
        goto nomem;
    }
    c->ua = buf_steal(&b);
    const char *np = getenv("no_proxy");
    if (!np || !*np) np = getenv("NO_PROXY");
    if (buf_puts(&b, NOPROXY_LOOPBACK) || (np && *np && (buf_putc(&b, ',') || buf_puts(&b, np))))
        goto nomem;
    c->noproxy = buf_steal(&b);
    if (!c->ua || !c->noproxy) goto nomem;
    return ERR_OK;
nomem:
    buf_cleanup(&b);
    return err_set(err, ERR_NOMEM, "http client");
}

static int client_allow(struct http_client *c, const char *const *hosts, struct err *err)
{
    size_t n = 0;
    while (hosts && hosts[n])
        n++;
    if (n == 0) return ERR_OK;
    if (!(c->allow = calloc(n, sizeof *c->allow))) return err_set(err, ERR_NOMEM, "http client");
    for (size_t i = 0; i < n; i++)
        if (http_allow_parse(hosts[i], &c->allow[i]) != 0)
            return err_set(err, ERR_ARG, "http: allow_hosts entry \"%.64s\" is not IP:port",
                           hosts[i]);
    c->nallow = n;
    return ERR_OK;
}

void http_client_free(struct http_client *c)
{
    if (!c) return;
    for (int i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    curl_multi_cleanup(c->multi);
    free(c->idle);
    free(c->allow);
    free(c->ua);
    free(c->noproxy);
    free(c);
}

int http_client_new(struct http_client **out, const struct http_opts *opts, struct err *err)
{
    static const struct http_opts none = {0};
    const struct http_opts *o = opts ? opts : &none;
    *out = NULL;
    if (o->max_parallel < 0 || o->max_parallel > HTTP_MAX_PARALLEL || o->max_per_host < 0 ||
        o->backoff_base_ms < 0 || o->backoff_max_ms < 0 || o->retry_after_max_s < 0)
        return err_set(err, ERR_ARG, "http: max_parallel %d (0..%d), max_per_host %d, backoff "
                                     "and retry-after limits must not be negative",
                       o->max_parallel, HTTP_MAX_PARALLEL, o->max_per_host);
    struct http_client *c = calloc(1, sizeof *c);
    if (!c) return err_set(err, ERR_NOMEM, "http client");
    int rc;
    c->max_parallel = o->max_parallel ? o->max_parallel : HTTP_DEFAULT_PARALLEL;
    c->max_per_host = o->max_per_host ? o->max_per_host : HTTP_DEFAULT_PER_HOST;
    c->allow_private = o->allow_private != 0;
    c->direct = o->no_proxy || !o->allow_private;
    c->backoff_base_ms = o->backoff_base_ms ? o->backoff_base_ms : HTTP_DEFAULT_BACKOFF_BASE_MS;
    c->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : HTTP_DEFAULT_BACKOFF_MAX_MS;
    c->retry_after_max_s =
        o->retry_after_max_s ? o->retry_after_max_s : HTTP_DEFAULT_RETRY_AFTER_MAX_S;
    c->on_done = o->on_done;
    c->on_done_ud = o->on_done_ud;
    c->rng = o->seed;
    if (!c->rng) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        c->rng = ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^
                 ((uint64_t)(uintptr_t)c << 16) ^ ((uint64_t)getpid() << 40);
    }
    if (!c->rng) c->rng = 0x9e3779b97f4a7c15ull;
    if ((rc = client_strings(c, o, err)) || (rc = client_allow(c, o->allow_hosts, err))) goto fail;
    if (!(c->idle = calloc((size_t)c->max_parallel, sizeof *c->idle))) {
        rc = err_set(err, ERR_NOMEM, "http client");
        goto fail;
    }
    c->multi = curl_multi_init();
    if (!c->multi ||
        curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->max_parallel) !=
            CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->max_per_host) !=
            CURLM_OK) {
        rc = err_set(err, ERR_NET, "http: curl_multi_init failed (curl_global_init not run?)");
        goto fail;
    }
    *out = c;
    return ERR_OK;
fail:
    http_client_free(c);
    return rc;
}

/* A uniform double in [0, 1) from the client's generator. */
static double rng_unit(struct http_client *c)
{
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (double)((x * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

/* Milliseconds before attempt `attempts` + 1: d = base * 2^(attempts-1), plus a random part of
 * up to d/2 (so clients that failed together do not retry together), capped. */
static long backoff_ms(struct http_client *c, int attempts)
{
    double d = (double)c->backoff_base_ms, cap = (double)c->backoff_max_ms;
    for (int i = 1; i < attempts && d < cap; i++)
        d *= 2;
    d += rng_unit(c) * d / 2;
    return (long)(d < cap ? d : cap);
}

/* ---------------------------------------------------------------- hosts and lists */

static struct host *host_get(struct run *r, const char *key)
{
    if ((r->hused + 1) * 2 > r->hcap) { /* grow: rehash every used slot */
        size_t ncap = r->hcap ? r->hcap * 2 : 16;
        struct host *nh = calloc(ncap, sizeof *nh);
        if (!nh) return NULL;
        for (size_t i = 0; i < r->hcap; i++) {
            if (!r->hosts[i].used) continue;
            size_t j = hash_fnv1a64_str(r->hosts[i].key) & (ncap - 1);
            while (nh[j].used)
                j = (j + 1) & (ncap - 1);
            nh[j] = r->hosts[i];
        }
        free(r->hosts);
        r->hosts = nh;
        r->hcap = ncap;
    }
    size_t j = hash_fnv1a64_str(key) & (r->hcap - 1);
    while (r->hosts[j].used && strcmp(r->hosts[j].key, key) != 0)
        j = (j + 1) & (r->hcap - 1);
    struct host *h = &r->hosts[j];
    if (!h->used) {
        h->used = 1;
        memcpy(h->key, key, strlen(key) + 1);
        r->hused++;
    }
    return h;
}

static void pending_push(struct run *r, struct xfer *x, int front)
{
    x->state = X_PENDING;
    if (front) {
        x->next = r->pending;
        r->pending = x;
        if (!x->next) r->ptail = &x->next;
        return;
    }
    x->next = NULL;
    *r->ptail = x;
    r->ptail = &x->next;
}

/* ---------------------------------------------------------------- libcurl callbacks */

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    struct buf *b = &x->res->body;
    if (n > x->lim.max_bytes - b->len) {
        x->too_big = 1;
        return 0; /* any count != n ends the transfer with CURLE_WRITE_ERROR */
    }
    if (buf_append(b, p, n) != 0) {
        x->oom = 1;
        return 0;
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    struct buf *b = &x->res->headers;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (after 1xx): start over */
        buf_reset(b);
        return n;
    }
    if (n <= 2 && (n == 0 || p[0] == '\r' || p[0] == '\n')) return n; /* the blank line */
    if (n > HTTP_HEADERS_MAX - b->len) {
        x->too_big = 3;
        return 0;
    }
    if (buf_append(b, p, n) != 0) {
        x->oom = 1;
        return 0;
    }
    return n;
}

/* Bytes on the wire (before decoding) are capped here; decoded bytes in on_write. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)ultotal, (void)ulnow;
    struct xfer *x = ud;
    if (dlnow > 0 && (uint64_t)dlnow > (uint64_t)x->lim.max_bytes) {
        x->too_big = 2;
        return 1; /* CURLE_ABORTED_BY_CALLBACK */
    }
    return 0;
}

/* Add "IP:port" to res->private_addrs unless it is there ("*" when it does not fit). */
static void note_private(struct http_result *res, const char *addr)
{
    char *pa = res->private_addrs;
    size_t have = strlen(pa), n = strlen(addr);
    if (strcmp(pa, "*") == 0) return;
    for (const char *p = pa; *p;) {
        const char *comma = strchr(p, ',');
        size_t k = comma ? (size_t)(comma - p) : strlen(p);
        if (k == n && memcmp(p, addr, n) == 0) return;
        p += k + (comma != NULL);
    }
    if (have + n + 2 > sizeof res->private_addrs) {
        snprintf(pa, sizeof res->private_addrs, "*");
        return;
    }
    if (have) pa[have++] = ',';
    memcpy(pa + have, addr, n + 1);
}

/* Every socket libcurl opens goes through here, after DNS, for every hop: the guard. */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = ud;
    const struct http_client *c = x->c;
    struct sockaddr_storage ss;
    if (purpose != CURLSOCKTYPE_IPCXN || a->addrlen > sizeof ss) {
        x->blocked = 1;
        snprintf(x->blocked_why, sizeof x->blocked_why, "refused a non-IP socket");
        return CURL_SOCKET_BAD;
    }
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, &a->addr, a->addrlen);
    x->opened = 1;
    if (http_addr_is_private((const struct sockaddr *)&ss)) {
        char addr[64];
        http_addr_format(&ss, addr, sizeof addr);
        if (!c->allow_private && !http_allow_match(c->allow, c->nallow, &ss)) {
            char ip[INET6_ADDRSTRLEN] = "?";
            const void *src = ss.ss_family == AF_INET6
                                  ? (const void *)&((const struct sockaddr_in6 *)&ss)->sin6_addr
                                  : (const void *)&((const struct sockaddr_in *)&ss)->sin_addr;
            if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
                inet_ntop(ss.ss_family, src, ip, sizeof ip);
            x->blocked = 1;
            snprintf(x->blocked_why, sizeof x->blocked_why,
                     "refused to connect to non-public address %s", ip);
            return CURL_SOCKET_BAD;
        }
        note_private(x->res, addr);
    }
    int s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    return s < 0 ? CURL_SOCKET_BAD : s;
}

/* ---------------------------------------------------------------- one hop */

static CURL *handle_get(struct http_client *c)
{
    if (c->nidle > 0) {
        CURL *h = c->idle[--c->nidle];
        curl_easy_reset(h); /* options back to defaults; connections and caches stay */
        return h;
    }
    return curl_easy_init();
}

static void handle_put(struct http_client *c, CURL *h)
{
    if (!h) return;
    if (c->nidle < c->max_parallel)
        c->idle[c->nidle++] = h;
    else
        curl_easy_cleanup(h);
}

/* 1 when header line `line` names a credential that must not follow a redirect elsewhere. */
static int is_credential(const char *line)
{
    static const char *const names[] = {"Authorization:", "Cookie:", "Proxy-Authorization:"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (ascii_ncasecmp(line, names[i], strlen(names[i])) == 0) return 1;
    return 0;
}

/* The header list of x's current hop. Returns 0 or -1 (out of memory). */
static int hop_headers(struct xfer *x)
{
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    for (const char *const *p = x->rq->headers; p && *p; p++) {
        if (x->cross_origin && is_credential(*p)) continue;
        struct curl_slist *l = curl_slist_append(x->hdrs, *p);
        if (!l) return -1;
        x->hdrs = l;
    }
    if (x->has_body) { /* send the body at once, no "100-continue" round trip */
        struct curl_slist *l = curl_slist_append(x->hdrs, "Expect:");
        if (!l) return -1;
        x->hdrs = l;
    }
    return 0;
}

/* Set every option of the current hop on x->h. Returns 0, or -1 when libcurl refuses one. */
static int hop_options(struct xfer *x)
{
    const struct http_client *c = x->c;
    const struct http_limits *l = &x->lim;
    CURL *h = x->h;
    int bad = 0;
    bad |= curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)x) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_URL, x->res->final_url) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    if (c->direct)
        bad |= curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK; /* ignore *_proxy variables */
    else
        bad |= curl_easy_setopt(h, CURLOPT_NOPROXY, c->noproxy) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, c->ua) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, l->connect_ms) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, x->hop_ms) != CURLE_OK;
    if (l->low_speed_bps > 0 && l->low_speed_s > 0) {
        bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, l->low_speed_bps) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, l->low_speed_s) != CURLE_OK;
    }
    bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)l->max_bytes) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)x) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)x) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)x) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)x) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs) != CURLE_OK;
    if (strcmp(x->method, "GET") == 0) {
        bad |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    } else if (strcmp(x->method, "HEAD") == 0) {
        bad |= curl_easy_setopt(h, CURLOPT_NOBODY, 1L) != CURLE_OK;
    } else {
        if (strcmp(x->method, "POST") != 0)
            bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method) != CURLE_OK;
        if (x->has_body || strcmp(x->method, "POST") == 0) {
            const char *body = x->has_body && x->rq->body ? x->rq->body : "";
            curl_off_t len = x->has_body ? (curl_off_t)x->rq->body_len : 0;
            bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, len) != CURLE_OK;
            bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK; /* not copied */
        }
    }
    return bad ? -1 : 0;
}

static void attempt_begin(struct run *r, struct xfer *x, int front);
static int attempt_end(struct run *r, struct xfer *x, int fail, const char *why);

/* Start the current hop of x. Returns ERR_OK (x is active, or done with a failure), ERR_NOMEM
 * or ERR_NET (libcurl refused the handle or an option). */
static int hop_start(struct run *r, struct xfer *x)
{
    struct http_result *res = x->res;
    double left = (double)x->lim.total_ms - x->used_ms;
    if (left < 1.0) {
        char why[96];
        snprintf(why, sizeof why, "no answer in %g s total", (double)x->lim.total_ms / 1000.0);
        return attempt_end(r, x, HTTP_FAIL_TIMEOUT, why);
    }
    x->hop_ms = (long)left;
    if (!(x->h = handle_get(r->c))) return ERR_NOMEM;
    if (hop_headers(x) != 0) return ERR_NOMEM;
    if (hop_options(x) != 0) return ERR_NET;
    buf_reset(&res->body);
    buf_reset(&res->headers);
    x->too_big = x->blocked = x->opened = 0;
    x->errbuf[0] = '\0';
    if (curl_multi_add_handle(r->c->multi, x->h) != CURLM_OK) return ERR_NET;
    x->state = X_ACTIVE;
    x->t_hop = now_s();
    struct host *h = host_get(r, x->hostkey);
    if (!h) return ERR_NOMEM;
    h->active++;
    r->active++;
    return ERR_OK;
}

/* The answer of x's hop was a redirect to `next` (owned, becomes res->final_url). Queue the next
 * hop or end the attempt. Returns ERR_OK or ERR_NOMEM. */
static int hop_redirect(struct run *r, struct xfer *x, char *next)
{
    struct http_result *res = x->res;
    char why[200], key[HTTP_HOSTKEY_MAX];
    if (x->hops >= x->lim.max_redirects) {
        free(next);
        if (x->lim.max_redirects == 0)
            snprintf(why, sizeof why, "HTTP %ld redirect not followed", res->status);
        else
            snprintf(why, sizeof why, "more than %d redirects", x->lim.max_redirects);
        return attempt_end(r, x, HTTP_FAIL_REDIRECTS, why);
    }
    int literal = 0, https = 0;
    char what[160];
    int uc = http_url_parse(next, key, &literal, &https, NULL, what, sizeof what);
    free(res->final_url);
    res->final_url = next;
    if (uc < 0) return ERR_NOMEM;
    if (uc == HTTP_FAIL_BLOCKED) {
        snprintf(why, sizeof why, "redirect refused: %s", what);
        return attempt_end(r, x, HTTP_FAIL_BLOCKED, why);
    }
    if (uc != HTTP_OK) {
        snprintf(why, sizeof why, "bad redirect target: %s", what);
        return attempt_end(r, x, HTTP_FAIL_BAD_URL, why);
    }
    if (strcmp(key, x->key0) != 0 || https != x->https0) x->cross_origin = 1;
    memcpy(x->hostkey, key, strlen(key) + 1);
    x->hops++;
    res->redirects = x->hops;
    long st = res->status;
    if (strcmp(x->method, "HEAD") != 0 &&
        (st == 303 || ((st == 301 || st == 302) && strcmp(x->method, "POST") == 0))) {
        x->method = "GET"; /* as browsers do; 307 and 308 keep the method and body */
        x->has_body = 0;
    }
    pending_push(r, x, 0);
    return ERR_OK;
}

/* Read what libcurl knows about the hop just ended into x->res and *hi. */
static void hop_info(struct xfer *x, CURLcode cc, struct http_hop_info *hi, char **loc,
                     long *status)
{
    struct http_result *res = x->res;
    char *ct = NULL, *ip = NULL;
    long port = 0, oserr = 0;
    curl_off_t ra = 0, conn_us = 0, ttfb_us = 0, total_us = 0;
    *loc = NULL;
    *status = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ct);
    curl_easy_getinfo(x->h, CURLINFO_REDIRECT_URL, loc);
    curl_easy_getinfo(x->h, CURLINFO_PRIMARY_IP, &ip);
    curl_easy_getinfo(x->h, CURLINFO_PRIMARY_PORT, &port);
    curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &oserr);
    if (curl_easy_getinfo(x->h, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK) ra = 0;
    curl_easy_getinfo(x->h, CURLINFO_CONNECT_TIME_T, &conn_us);
    curl_easy_getinfo(x->h, CURLINFO_STARTTRANSFER_TIME_T, &ttfb_us);
    curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME_T, &total_us);
    res->status = *status;
    free(res->content_type);
    res->content_type = ct ? dup_str(ct) : NULL;
    if (ct && !res->content_type) x->oom = 1;
    res->retry_after_s = ra > 0 ? (ra < x->c->retry_after_max_s ? (long)ra
                                                                 : x->c->retry_after_max_s)
                                : 0;
    res->connect_s = (double)conn_us / 1e6;
    res->first_byte_s = (double)ttfb_us / 1e6;
    res->addr[0] = '\0';
    if (ip && *ip && port > 0) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
            in->sin_family = AF_INET;
            in->sin_port = htons((unsigned short)port);
        } else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((unsigned short)port);
        }
        if (ss.ss_family) {
            http_addr_format(&ss, res->addr, sizeof res->addr);
            if (http_addr_is_private((const struct sockaddr *)&ss))
                note_private(res, res->addr);
        }
    }
    *hi = (struct http_hop_info){.cc = (int)cc,
                                 .opened = x->opened,
                                 .connected = conn_us > 0 || *status > 0,
                                 .hostkey = x->hostkey,
                                 .hop_ms = x->hop_ms,
                                 .total_ms = x->lim.total_ms,
                                 .connect_ms = x->lim.connect_ms,
                                 .low_bps = x->lim.low_speed_bps,
                                 .low_s = x->lim.low_speed_s,
                                 .elapsed_s = (double)total_us / 1e6,
                                 .os_errno = oserr,
                                 .errbuf = x->errbuf};
}

/* The hop of x ended with libcurl code cc: classify, follow a redirect, or end the attempt.
 * Returns ERR_OK or ERR_NOMEM. */
static int hop_done(struct run *r, struct xfer *x, CURLcode cc)
{
    struct http_result *res = x->res;
    double dt = now_s() - x->t_hop;
    res->seconds += dt;
    x->used_ms += dt * 1000.0;
    struct http_hop_info hi;
    char *loc = NULL, why[256];
    long status = 0;
    hop_info(x, cc, &hi, &loc, &status);
    char *next = loc ? dup_str(loc) : NULL; /* loc dies with the handle's next use */
    curl_multi_remove_handle(r->c->multi, x->h);
    handle_put(r->c, x->h); /* the next hop takes one again: a handle per transfer in flight */
    x->h = NULL;
    struct host *h = host_get(r, x->hostkey);
    if (h) h->active--;
    r->active--;
    if (x->oom || (loc && !next) || !h) {
        free(next);
        return ERR_NOMEM;
    }
    size_t cap = x->lim.max_bytes;
    int fail = HTTP_OK;
    why[0] = '\0';
    if (x->blocked) {
        fail = HTTP_FAIL_BLOCKED;
        snprintf(why, sizeof why, "%s", x->blocked_why);
    } else if (x->too_big == 3) {
        fail = HTTP_FAIL_TOO_LARGE;
        snprintf(why, sizeof why, "response headers over the limit of %u bytes", HTTP_HEADERS_MAX);
    } else if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        size_t el = 0;
        const char *enc = http_header(res, "Content-Encoding", &el);
        int coded = enc && !(el == 8 && ascii_ncasecmp(enc, "identity", 8) == 0);
        fail = HTTP_FAIL_TOO_LARGE;
        snprintf(why, sizeof why, "%s over the limit of %zu bytes",
                 cc == CURLE_FILESIZE_EXCEEDED  ? "Content-Length"
                 : x->too_big == 2 && coded     ? "body on the wire"
                                                : "body",
                 cap);
    } else if (cc != CURLE_OK) {
        fail = http_classify(&hi, why, sizeof why);
    } else if (status >= 300 && status < 400 && next) {
        return hop_redirect(r, x, next);
    } else if (status >= 300 && status < 400) {
        fail = HTTP_FAIL_HTTP;
        snprintf(why, sizeof why, "HTTP %ld without a Location", status);
    } else if (status < 200 || status > 299) {
        fail = HTTP_FAIL_HTTP;
        snprintf(why, sizeof why, "HTTP %ld", status);
    }
    free(next);
    return attempt_end(r, x, fail, why);
}

/* ---------------------------------------------------------------- attempts */

static int retryable(const struct xfer *x, int fail)
{
    unsigned on = x->lim.retry_on;
    long st = x->res->status;
    switch (fail) {
    case HTTP_FAIL_TIMEOUT:
        return (on & HTTP_RETRY_TIMEOUT) != 0;
    case HTTP_FAIL_DNS:
    case HTTP_FAIL_REFUSED:
    case HTTP_FAIL_CLOSED:
        return (on & HTTP_RETRY_NET) != 0;
    case HTTP_FAIL_HTTP:
        return (st == 429 && (on & HTTP_RETRY_429)) ||
               (st >= 500 && st <= 599 && (on & HTTP_RETRY_5XX));
    default:
        return 0;
    }
}

/* Start a new attempt of x from the request's own URL (pending, at the front when a retry). */
static void attempt_begin(struct run *r, struct xfer *x, int front)
{
    x->hops = 0;
    x->used_ms = 0;
    x->cross_origin = 0;
    x->method = x->rq->method ? x->rq->method : x->rq->body ? "POST" : "GET";
    x->has_body = x->rq->body != NULL;
    memcpy(x->hostkey, x->key0, strlen(x->key0) + 1);
    x->res->attempts++;
    x->res->redirects = 0;
    pending_push(r, x, front);
}

/* An attempt of x ended with `fail` (why says what): wait for a retry, or finish x. Returns
 * ERR_OK or ERR_NOMEM. */
static int attempt_end(struct run *r, struct xfer *x, int fail, const char *why)
{
    struct http_result *res = x->res;
    res->fail = fail;
    snprintf(res->why, sizeof res->why, "%s", why ? why : "");
    int retry = res->attempts <= x->lim.retries &&
                (retryable(x, fail) ||
                 (x->rq->retry_if && (fail == HTTP_OK || fail == HTTP_FAIL_HTTP) &&
                  x->rq->retry_if(x->rq->ud, res)));
    if (retry) {
        long ms = res->retry_after_s > 0 ? res->retry_after_s * 1000 : backoff_ms(r->c, res->attempts);
        if (vec_grow((void **)&r->waiting, &r->wcap, r->nwaiting + 1, sizeof *r->waiting))
            return ERR_NOMEM;
        struct host *h = host_get(r, x->key0);
        if (!h) return ERR_NOMEM;
        h->waiting++;
        r->waiting[r->nwaiting++] = x;
        x->state = X_WAITING;
        x->t_wait = now_s();
        x->not_before = x->t_wait + (double)ms / 1000.0;
        free(res->final_url);
        if (!(res->final_url = dup_str(x->rq->url))) return ERR_NOMEM;
        return ERR_OK;
    }
    if (fail != HTTP_OK && fail != HTTP_FAIL_HTTP && fail != HTTP_FAIL_REDIRECTS)
        buf_cleanup(&res->body);
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    x->state = X_DONE;
    r->done++;
    if (r->c->on_done) r->c->on_done(r->c->on_done_ud, x->index, res);
    return ERR_OK;
}

/* ---------------------------------------------------------------- the loop */

/* Move waiting requests whose time has come back to the front of the queue, then start pending
 * hops while there are free slots, oldest first. A request that has not started yet does not go
 * to a host for which another request waits for a retry. */
static int schedule(struct run *r)
{
    double now = now_s();
    for (size_t i = 0; i < r->nwaiting;) {
        struct xfer *x = r->waiting[i];
        if (x->not_before > now) {
            i++;
            continue;
        }
        r->waiting[i] = r->waiting[--r->nwaiting];
        struct host *h = host_get(r, x->key0);
        if (!h) return ERR_NOMEM;
        h->waiting--;
        x->res->wait_seconds += now - x->t_wait;
        attempt_begin(r, x, 1);
    }
    struct xfer **pp = &r->pending;
    while (*pp && r->active < r->c->max_parallel) {
        struct xfer *x = *pp;
        struct host *h = host_get(r, x->hostkey);
        if (!h) return ERR_NOMEM;
        int fresh = x->res->attempts == 1 && x->hops == 0 && x->res->seconds == 0;
        if (h->active >= r->c->max_per_host || (fresh && h->waiting > 0)) {
            pp = &x->next;
            continue;
        }
        *pp = x->next;
        if (!*pp) r->ptail = pp;
        x->next = NULL;
        int rc = hop_start(r, x);
        if (rc) return rc;
    }
    return ERR_OK;
}

/* Milliseconds until the next waiting request may start, at most POLL_MS. */
static long wait_budget(const struct run *r)
{
    long ms = POLL_MS;
    double now = now_s();
    for (size_t i = 0; i < r->nwaiting; i++) {
        double d = (r->waiting[i]->not_before - now) * 1000.0 + 1;
        if (d < (double)ms) ms = d > 0 ? (long)d : 0;
    }
    return ms;
}

/* err for a bare code from the steps below (ERR_NOMEM or ERR_NET). */
static int step_err(int rc, struct err *err)
{
    if (rc == ERR_NOMEM) return err_set(err, rc, "http: out of memory");
    return err_set(err, rc, "http: libcurl refused a handle or an option (older than 7.85?)");
}

/* Run until every request is done. Returns ERR_OK or an error code (err set). */
static int run_loop(struct run *r, struct err *err)
{
    CURLM *m = r->c->multi;
    while (r->done < r->n) {
        int rc = schedule(r);
        if (rc) return step_err(rc, err);
        if (r->done == r->n) break;
        int running = 0;
        CURLMcode mc = CURLM_OK;
        if (r->active > 0) mc = curl_multi_perform(m, &running);
        if (mc != CURLM_OK)
            return err_set(err, mc == CURLM_OUT_OF_MEMORY ? ERR_NOMEM : ERR_NET, "http: %s",
                           curl_multi_strerror(mc));
        CURLMsg *msg;
        int left = 0, finished = 0;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            char *priv = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            CURLcode cc = msg->data.result; /* msg dies with remove_handle */
            struct xfer *x = (struct xfer *)(void *)priv;
            if (!x || x->state != X_ACTIVE) return err_set(err, ERR_INTERNAL, "http: stray transfer");
            if ((rc = hop_done(r, x, cc)) != ERR_OK) return step_err(rc, err);
            finished++;
        }
        if (finished) continue; /* start the next ones before waiting */
        if (r->active == 0 && r->nwaiting == 0 && r->done < r->n && !r->pending)
            return err_set(err, ERR_INTERNAL, "http: scheduler stalled");
        mc = curl_multi_poll(m, NULL, 0, (int)wait_budget(r), NULL);
        if (mc != CURLM_OK) return err_set(err, ERR_NET, "http: %s", curl_multi_strerror(mc));
    }
    return ERR_OK;
}

/* Check the caller's requests. Returns ERR_OK or ERR_ARG. */
static int check_requests(const struct http_request *reqs, size_t n, struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct http_request *q = &reqs[i];
        const char *m = q->method;
        if (m) {
            size_t k = 0;
            while (m[k] && ascii_isupper((unsigned char)m[k]))
                k++;
            if (k == 0 || m[k] || k >= METHOD_MAX)
                return err_set(err, ERR_ARG, "http: request %zu: bad method \"%.20s\"", i, m);
        }
        for (const char *const *h = q->headers; h && *h; h++)
            if (strpbrk(*h, "\r\n") || !strchr(*h, ':') || **h == ':')
                return err_set(err, ERR_ARG, "http: request %zu: bad header line \"%.40s\"", i,
                               *h);
        if (q->lim.connect_ms < 0 || q->lim.total_ms < 0 || q->lim.retries < 0 ||
            q->lim.max_redirects < 0 || q->lim.low_speed_bps < 0 || q->lim.low_speed_s < 0)
            return err_set(err, ERR_ARG, "http: request %zu: negative limit", i);
    }
    return ERR_OK;
}

/* Prepare x for reqs[i]: limits with defaults, the URL checked. Bad URLs end here. */
static int plan(struct run *r, struct xfer *x, size_t i, const struct http_request *q,
                struct http_result *res)
{
    x->c = r->c;
    x->rq = q;
    x->res = res;
    x->index = i;
    x->lim = q->lim;
    if (!x->lim.connect_ms) x->lim.connect_ms = HTTP_DEFAULT_CONNECT_MS;
    if (!x->lim.total_ms) x->lim.total_ms = HTTP_DEFAULT_TOTAL_MS;
    if (!x->lim.max_bytes) x->lim.max_bytes = HTTP_DEFAULT_MAX_BYTES;
    x->method = "GET";
    if (q->url && !(res->final_url = dup_str(q->url))) return ERR_NOMEM;
    char why[160];
    int uc = http_url_parse(q->url, x->key0, &x->literal0, &x->https0, NULL, why, sizeof why);
    if (uc < 0) return ERR_NOMEM;
    if (uc != HTTP_OK) { /* another scheme asked for directly is a bad URL, not a guard refusal */
        res->fail = HTTP_FAIL_BAD_URL;
        snprintf(res->why, sizeof res->why, "%s", why);
        x->state = X_DONE;
        r->done++;
        if (r->c->on_done) r->c->on_done(r->c->on_done_ud, i, res);
        return ERR_OK;
    }
    attempt_begin(r, x, 0);
    return ERR_OK;
}

int http_run(struct http_client *c, const struct http_request *reqs, size_t n,
             struct http_result *res, struct err *err)
{
    if (n == 0) return ERR_OK;
    if (!c || !reqs || !res) return err_set(err, ERR_ARG, "http: client, requests and results are required");
    if (c->running) return err_set(err, ERR_ARG, "http: http_run called from one of its callbacks");
    memset(res, 0, n * sizeof *res);
    int rc = check_requests(reqs, n, err);
    if (rc) return rc;
    struct run r = {.c = c, .n = n};
    r.ptail = &r.pending;
    c->running = 1;
    if (!(r.xs = calloc(n, sizeof *r.xs))) {
        rc = err_set(err, ERR_NOMEM, "http: %zu requests", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = plan(&r, &r.xs[i], i, &reqs[i], &res[i])) != ERR_OK) {
            err_set(err, rc, "http: request %zu: out of memory", i);
            goto out;
        }
    rc = run_loop(&r, err);
out:
    for (size_t i = 0; r.xs && i < n; i++) {
        struct xfer *x = &r.xs[i];
        if (x->h) {
            if (x->state == X_ACTIVE) curl_multi_remove_handle(c->multi, x->h);
            curl_easy_cleanup(x->h); /* a handle in an unknown state is not kept */
        }
        curl_slist_free_all(x->hdrs);
    }
    if (rc != ERR_OK)
        for (size_t i = 0; i < n; i++)
            http_result_cleanup(&res[i]);
    free(r.xs);
    free(r.hosts);
    free(r.waiting);
    c->running = 0;
    return rc;
}
