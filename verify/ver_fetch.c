/* ver_fetch.c - fetching cited URLs with libcurl (the only file that includes curl). */
#include "ver_fetch.h"

#include "buf.h"
#include "err.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define FETCH_URL_MAX 8192          /* longer URLs (asked for or redirected to) are BAD_URL */
#define FETCH_HOSTKEY_MAX 300       /* "host:port", host at most 255 bytes */
#define FETCH_LOW_SPEED_BPS 64L     /* below this many bytes/s ... */
#define FETCH_LOW_SPEED_SECS 10L    /* ... for this long, the transfer ends as TIMEOUT */
#define FETCH_POLL_MS 200           /* longest single wait in the multi loop */

/* ---- the address guard ---- */

struct addr_prefix {
    unsigned char a[16]; /* network-order prefix bytes */
    int bits;
};

/* IPv4 ranges never fetched from (RFC 6890 special-purpose and friends). */
static const struct addr_prefix v4_blocked[] = {
    {{0}, 8},               /* "this network", 0.0.0.0 */
    {{10}, 8},              /* private */
    {{100, 64}, 10},        /* CGNAT shared space */
    {{127}, 8},             /* loopback */
    {{169, 254}, 16},       /* link-local (cloud metadata lives here) */
    {{172, 16}, 12},        /* private */
    {{192, 0, 0}, 24},      /* IETF protocol assignments */
    {{192, 0, 2}, 24},      /* TEST-NET-1 */
    {{192, 88, 99}, 24},    /* 6to4 relay anycast */
    {{192, 168}, 16},       /* private */
    {{198, 18}, 15},        /* benchmarking */
    {{198, 51, 100}, 24},   /* TEST-NET-2 */
    {{203, 0, 113}, 24},    /* TEST-NET-3 */
    {{224}, 4},             /* multicast */
    {{240}, 4},             /* reserved, 255.255.255.255 broadcast */
};

/* IPv6 ranges never fetched from. */
static const struct addr_prefix v6_blocked[] = {
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48}, /* local-use NAT64 */
    {{0x01, 0x00}, 64},                         /* discard-only */
    {{0x20, 0x01, 0x00, 0x00}, 32},             /* Teredo (hides an IPv4 address) */
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48}, /* benchmarking */
    {{0x20, 0x01, 0x0d, 0xb8}, 32},             /* documentation */
    {{0xfc}, 7},                                /* unique local */
    {{0xfe, 0x80}, 10},                         /* link-local */
    {{0xfe, 0xc0}, 10},                         /* site-local (deprecated) */
    {{0xff}, 8},                                /* multicast */
};

/* IPv6 ranges that carry an IPv4 address at byte `at`; that address is checked instead. */
struct addr_embed {
    struct addr_prefix p;
    int at;
};
static const struct addr_embed v6_embeds[] = {
    {{{0}, 96}, 12},                                                     /* ::a.b.c.d, ::, ::1 */
    {{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, 12},              /* ::ffff:a.b.c.d */
    {{{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96}, 12},              /* ::ffff:0:a.b.c.d */
    {{{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 96}, 12},        /* NAT64 64:ff9b::/96 */
    {{{0x20, 0x02}, 16}, 2},                                             /* 6to4 2002:a.b.c.d:: */
};

static int prefix_match(const unsigned char *addr, const struct addr_prefix *p)
{
    int full = p->bits / 8, rest = p->bits % 8;
    if (memcmp(addr, p->a, (size_t)full) != 0) return 0;
    if (rest == 0) return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (addr[full] & mask) == (p->a[full] & mask);
}

static int v4_is_private(const unsigned char *a4)
{
    for (size_t i = 0; i < sizeof v4_blocked / sizeof v4_blocked[0]; i++)
        if (prefix_match(a4, &v4_blocked[i])) return 1;
    return 0;
}

static int v6_is_private(const unsigned char *a6)
{
    for (size_t i = 0; i < sizeof v6_embeds / sizeof v6_embeds[0]; i++)
        if (prefix_match(a6, &v6_embeds[i].p)) return v4_is_private(a6 + v6_embeds[i].at);
    for (size_t i = 0; i < sizeof v6_blocked / sizeof v6_blocked[0]; i++)
        if (prefix_match(a6, &v6_blocked[i])) return 1;
    return 0;
}

int ver_addr_is_private(const struct sockaddr *sa)
{
    if (!sa) return 1;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        return v4_is_private((const unsigned char *)&in.sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        return v6_is_private(in6.sin6_addr.s6_addr);
    }
    return 1;
}

/* ---- options ---- */

/* One parsed allow_hosts entry. */
struct allow_addr {
    int family;
    unsigned char a[16];
    unsigned short port; /* host order */
};

/* Options with defaults filled in, plus the parsed allow list. */
struct fetch_cfg {
    long connect_ms, total_ms;
    size_t max_bytes;
    int max_redirects;
    int allow_private;
    int max_parallel, max_per_host;
    const char *user_agent;
    struct allow_addr *allow; /* (n_allow) */
    size_t n_allow;
};

/* Parse "1.2.3.4:80" or "[::1]:80" into *out. Returns 0, or -1 when malformed. */
static int allow_parse(const char *s, struct allow_addr *out)
{
    char host[64];
    const char *port;
    memset(out, 0, sizeof *out);
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host) return -1;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port = end + 2;
        out->family = AF_INET6;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host) return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
        out->family = AF_INET;
    }
    if (inet_pton(out->family, host, out->a) != 1) return -1;
    char *endp = NULL;
    errno = 0;
    long p = strtol(port, &endp, 10);
    if (errno || endp == port || *endp != '\0' || p < 1 || p > 65535) return -1;
    out->port = (unsigned short)p;
    return 0;
}

static int cfg_init(struct fetch_cfg *c, const struct ver_fetch_opts *o, struct err *err)
{
    static const struct ver_fetch_opts none = {0};
    if (!o) o = &none;
    memset(c, 0, sizeof *c);
    c->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    c->total_ms = o->total_timeout_ms > 0 ? o->total_timeout_ms : 20000;
    c->max_bytes = o->max_bytes ? o->max_bytes : VER_FETCH_MAX_BYTES;
    c->max_redirects = o->max_redirects > 0 ? o->max_redirects : o->max_redirects < 0 ? 0 : 5;
    c->allow_private = o->allow_private != 0;
    c->max_parallel = o->max_parallel > 0 ? o->max_parallel : 16;
    c->max_per_host = o->max_per_host > 0 ? o->max_per_host : 2;
    c->user_agent = o->user_agent ? o->user_agent : VER_FETCH_USER_AGENT;
    if (!o->allow_hosts) return ERR_OK;
    size_t n = 0;
    while (o->allow_hosts[n]) n++;
    if (n == 0) return ERR_OK;
    c->allow = calloc(n, sizeof *c->allow);
    if (!c->allow) return err_set(err, ERR_NOMEM, "fetch: allow_hosts");
    for (size_t i = 0; i < n; i++)
        if (allow_parse(o->allow_hosts[i], &c->allow[i]) != 0) {
            free(c->allow);
            c->allow = NULL;
            return err_set(err, ERR_ARG, "fetch: allow_hosts entry \"%.64s\" is not IP:port",
                           o->allow_hosts[i]);
        }
    c->n_allow = n;
    return ERR_OK;
}

static int cfg_allows(const struct fetch_cfg *c, const struct sockaddr_storage *ss)
{
    for (size_t i = 0; i < c->n_allow; i++) {
        const struct allow_addr *a = &c->allow[i];
        if (a->family != ss->ss_family) continue;
        if (a->family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
            if (ntohs(in->sin_port) == a->port && memcmp(&in->sin_addr, a->a, 4) == 0) return 1;
        } else {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
            if (ntohs(in6->sin6_port) == a->port && memcmp(&in6->sin6_addr, a->a, 16) == 0)
                return 1;
        }
    }
    return 0;
}

/* ---- URL checks ---- */

enum { URL_OK, URL_BAD, URL_SCHEME };

/* Check that `url` is an absolute http(s) URL with a host; on URL_OK write the lowercased
 * "host:port" into key (FETCH_HOSTKEY_MAX bytes). URL_SCHEME: parsed but another scheme.
 * URL_BAD: anything else (why says what). Returns -1 when out of memory. */
static int url_check(const char *url, char *key, char *why, size_t whycap)
{
    int rc = URL_BAD;
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *port = NULL;
    if (!url || !*url) {
        snprintf(why, whycap, "empty URL");
        return URL_BAD;
    }
    if (strlen(url) > FETCH_URL_MAX) {
        snprintf(why, whycap, "URL longer than %d bytes", FETCH_URL_MAX);
        return URL_BAD;
    }
    u = curl_url();
    if (!u) return -1;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OUT_OF_MEMORY) goto oom;
    if (uc != CURLUE_OK) {
        snprintf(why, whycap, "malformed URL: %s", curl_url_strerror(uc));
        goto done;
    }
    uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc == CURLUE_OUT_OF_MEMORY) goto oom;
    if (uc != CURLUE_OK) {
        snprintf(why, whycap, "URL has no scheme");
        goto done;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        snprintf(why, whycap, "scheme \"%.32s\" is not http or https", scheme);
        rc = URL_SCHEME;
        goto done;
    }
    uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OUT_OF_MEMORY) goto oom;
    if (uc != CURLUE_OK || !host[0]) {
        snprintf(why, whycap, "URL has no host");
        goto done;
    }
    uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (uc == CURLUE_OUT_OF_MEMORY) goto oom;
    if (uc != CURLUE_OK) {
        snprintf(why, whycap, "URL has no port");
        goto done;
    }
    if (strlen(host) + strlen(port) + 2 > FETCH_HOSTKEY_MAX) {
        snprintf(why, whycap, "host name too long");
        goto done;
    }
    size_t hl = strlen(host);
    for (size_t i = 0; i < hl; i++)
        key[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
    key[hl] = ':';
    memcpy(key + hl + 1, port, strlen(port) + 1);
    rc = URL_OK;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
oom:
    rc = -1;
    goto done;
}

/* ---- one transfer ---- */

enum { X_PENDING, X_ACTIVE, X_DONE };

struct xfer {
    struct ver_fetch_result *res;
    const struct fetch_cfg *cfg;
    CURL *h;
    struct buf body;
    int state;
    int hops;
    int too_big, refused, oom;
    char refused_why[128];
    char hostkey[FETCH_HOSTKEY_MAX];
    double t_start;         /* when the current hop was added */
    struct xfer *next;      /* pending list */
    char errbuf[CURL_ERROR_SIZE];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* End x with `outcome`; fmt (may be NULL) says why. Frees the handle and the body buffer. */
static void xfer_done(struct xfer *x, int outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void xfer_done(struct xfer *x, int outcome, const char *fmt, ...)
{
    struct ver_fetch_result *r = x->res;
    r->outcome = outcome;
    r->error[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->error, sizeof r->error, fmt, ap);
        va_end(ap);
    }
    buf_cleanup(&x->body);
    curl_easy_cleanup(x->h);
    x->h = NULL;
    x->state = X_DONE;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (n > x->cfg->max_bytes - x->body.len) {
        x->too_big = 1;
        return 0; /* any count != n aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (buf_append(&x->body, p, n) != 0) {
        x->oom = 1;
        return 0;
    }
    return n;
}

/* Every socket curl opens goes through here, after DNS, for every hop: the guard. */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = ud;
    struct sockaddr_storage ss;
    if (purpose != CURLSOCKTYPE_IPCXN || a->addrlen > sizeof ss) {
        x->refused = 1;
        snprintf(x->refused_why, sizeof x->refused_why, "refused a non-IP socket");
        return CURL_SOCKET_BAD;
    }
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, &a->addr, a->addrlen);
    if (!x->cfg->allow_private && !cfg_allows(x->cfg, &ss) &&
        ver_addr_is_private((const struct sockaddr *)&ss)) {
        char ip[INET6_ADDRSTRLEN] = "?";
        const void *src = ss.ss_family == AF_INET6
                              ? (const void *)&((const struct sockaddr_in6 *)&ss)->sin6_addr
                              : (const void *)&((const struct sockaddr_in *)&ss)->sin_addr;
        if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
            inet_ntop(ss.ss_family, src, ip, sizeof ip);
        x->refused = 1;
        snprintf(x->refused_why, sizeof x->refused_why,
                 "refused to connect to non-public address %s", ip);
        return CURL_SOCKET_BAD;
    }
    int s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    return s < 0 ? CURL_SOCKET_BAD : s;
}

/* Make x's easy handle with the options that hold for every hop. Returns ERR_OK, ERR_NOMEM,
 * or ERR_NET when this libcurl rejects an option (older than 7.85). */
static int xfer_make_handle(struct xfer *x)
{
    const struct fetch_cfg *c = x->cfg;
    CURL *h = curl_easy_init();
    if (!h) return ERR_NOMEM;
    int bad = 0;
    bad |= curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)x) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK; /* ignore *_proxy env vars */
    bad |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, FETCH_LOW_SPEED_BPS) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, FETCH_LOW_SPEED_SECS) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_bytes) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)x) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)x) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
    if (bad) {
        curl_easy_cleanup(h);
        return ERR_NET;
    }
    x->h = h;
    return ERR_OK;
}

/* ---- the scheduler: per-host slots ---- */

struct host_slot {
    char key[FETCH_HOSTKEY_MAX];
    int n;
};

struct fetcher {
    const struct fetch_cfg *cfg;
    CURLM *multi;
    struct xfer *xs;          /* (n) */
    struct host_slot *hosts;  /* (cfg->max_parallel) */
    struct xfer *pending;     /* FIFO list through xfer.next */
    struct xfer **pending_tail;
    int active;
};

static struct host_slot *host_find(struct fetcher *f, const char *key)
{
    for (int i = 0; i < f->cfg->max_parallel; i++)
        if (f->hosts[i].n > 0 && strcmp(f->hosts[i].key, key) == 0) return &f->hosts[i];
    return NULL;
}

static void host_take(struct fetcher *f, const char *key)
{
    struct host_slot *s = host_find(f, key);
    for (int i = 0; !s && i < f->cfg->max_parallel; i++)
        if (f->hosts[i].n == 0) {
            s = &f->hosts[i];
            memcpy(s->key, key, strlen(key) + 1);
        }
    if (s) s->n++; /* always found: active < max_parallel when a slot is taken */
}

static void host_release(struct fetcher *f, const char *key)
{
    struct host_slot *s = host_find(f, key);
    if (s) s->n--;
}

static void pending_push(struct fetcher *f, struct xfer *x)
{
    x->state = X_PENDING;
    x->next = NULL;
    *f->pending_tail = x;
    f->pending_tail = &x->next;
}

/* Start one hop of x. Returns ERR_OK (x is active or done with an outcome), ERR_NOMEM or
 * ERR_NET (curl refused an option or the handle). */
static int xfer_start(struct fetcher *f, struct xfer *x)
{
    double left_ms = (double)f->cfg->total_ms - x->res->seconds * 1000.0;
    if (left_ms < 1.0) {
        xfer_done(x, VER_FETCH_TIMEOUT, "total timeout of %ld ms reached before the next hop",
                  f->cfg->total_ms);
        return ERR_OK;
    }
    int rc;
    if (!x->h && (rc = xfer_make_handle(x)) != ERR_OK) return rc;
    buf_reset(&x->body);
    x->too_big = x->refused = 0;
    x->errbuf[0] = '\0';
    if (curl_easy_setopt(x->h, CURLOPT_URL, x->res->final_url) != CURLE_OK ||
        curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)left_ms) != CURLE_OK)
        return ERR_NOMEM; /* string copy failed */
    if (curl_multi_add_handle(f->multi, x->h) != CURLM_OK) return ERR_NET;
    x->state = X_ACTIVE;
    x->t_start = now_s();
    host_take(f, x->hostkey);
    f->active++;
    return ERR_OK;
}

/* Start pending transfers while there are free slots, oldest first. */
static int schedule(struct fetcher *f)
{
    struct xfer **pp = &f->pending;
    while (*pp && f->active < f->cfg->max_parallel) {
        struct xfer *x = *pp;
        struct host_slot *s = host_find(f, x->hostkey);
        if (s && s->n >= f->cfg->max_per_host) {
            pp = &x->next;
            continue;
        }
        *pp = x->next;
        if (!*pp) f->pending_tail = pp;
        x->next = NULL;
        int rc = xfer_start(f, x);
        if (rc) return rc;
    }
    return ERR_OK;
}

/* A hop of x ended with curl code `cc`: record the outcome or queue the next hop.
 * Returns ERR_OK or ERR_NOMEM. */
static int xfer_finish_hop(struct fetcher *f, struct xfer *x, CURLcode cc)
{
    struct ver_fetch_result *r = x->res;
    r->seconds += now_s() - x->t_start;
    long status = 0;
    char *ct = NULL, *loc = NULL;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ct);
    curl_easy_getinfo(x->h, CURLINFO_REDIRECT_URL, &loc);
    r->status = status;
    free(r->content_type);
    r->content_type = NULL;
    if (ct && !(r->content_type = strdup(ct))) return ERR_NOMEM;
    char *next = NULL;
    if (loc && !(next = strdup(loc))) return ERR_NOMEM;
    curl_multi_remove_handle(f->multi, x->h);
    host_release(f, x->hostkey);
    f->active--;
    if (x->oom) {
        free(next);
        return ERR_NOMEM;
    }

    const char *msg = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);
    if (x->refused) {
        xfer_done(x, VER_FETCH_REFUSED, "%s", x->refused_why);
    } else if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        xfer_done(x, VER_FETCH_TOO_BIG, "body over the limit of %zu bytes", f->cfg->max_bytes);
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        xfer_done(x, VER_FETCH_TIMEOUT, "%s", msg);
    } else if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT) {
        xfer_done(x, VER_FETCH_BAD_URL, "%s", msg);
    } else if (cc != CURLE_OK) {
        xfer_done(x, VER_FETCH_NET, "%s", msg);
    } else if (status >= 300 && status < 400 && next) {
        char why[128];
        if (x->hops >= f->cfg->max_redirects) {
            xfer_done(x, VER_FETCH_TOO_MANY_REDIRECTS, "more than %d redirects",
                      f->cfg->max_redirects);
            free(next);
            return ERR_OK;
        }
        int uc = url_check(next, x->hostkey, why, sizeof why);
        free(r->final_url);
        r->final_url = next;
        if (uc < 0) return ERR_NOMEM;
        if (uc == URL_SCHEME) {
            xfer_done(x, VER_FETCH_REFUSED, "redirect refused: %s", why);
        } else if (uc == URL_BAD) {
            xfer_done(x, VER_FETCH_BAD_URL, "bad redirect target: %s", why);
        } else {
            x->hops++;
            pending_push(f, x);
        }
        return ERR_OK;
    } else if (status >= 300 && status < 400) {
        xfer_done(x, VER_FETCH_HTTP_ERROR, "HTTP %ld without a Location", status);
    } else {
        r->body_len = x->body.len;
        r->body = buf_steal(&x->body);
        if (!r->body) {
            free(next);
            return ERR_NOMEM;
        }
        if (status >= 400) {
            xfer_done(x, VER_FETCH_HTTP_ERROR, "HTTP %ld", status);
        } else {
            xfer_done(x, VER_FETCH_OK, NULL);
        }
    }
    free(next);
    return ERR_OK;
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

int ver_fetch_many(const char *const *urls, size_t n, const struct ver_fetch_opts *opts,
                   struct ver_fetch_result *results, struct err *err)
{
    int rc = ERR_OK;
    struct fetch_cfg cfg;
    struct fetcher f = {0};
    f.pending_tail = &f.pending;
    memset(&cfg, 0, sizeof cfg);
    if (n == 0) return ERR_OK;
    if (!urls || !results) return err_set(err, ERR_ARG, "fetch: urls and results are required");
    memset(results, 0, n * sizeof *results);
    if ((rc = cfg_init(&cfg, opts, err)) != ERR_OK) return rc;
    f.cfg = &cfg;
    f.xs = calloc(n, sizeof *f.xs);
    f.hosts = calloc((size_t)cfg.max_parallel, sizeof *f.hosts);
    if (!f.xs || !f.hosts) {
        rc = err_set(err, ERR_NOMEM, "fetch: %zu transfers", n);
        goto fail;
    }
    f.multi = curl_multi_init();
    if (!f.multi) {
        rc = err_set(err, ERR_NET, "fetch: curl_multi_init failed (curl_global_init not run?)");
        goto fail;
    }
    if (curl_multi_setopt(f.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)cfg.max_parallel) !=
            CURLM_OK ||
        curl_multi_setopt(f.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cfg.max_per_host) !=
            CURLM_OK) {
        rc = err_set(err, ERR_NET, "fetch: curl_multi_setopt failed");
        goto fail;
    }

    for (size_t i = 0; i < n; i++) {
        struct xfer *x = &f.xs[i];
        struct ver_fetch_result *r = &results[i];
        char why[128];
        x->res = r;
        x->cfg = &cfg;
        x->state = X_DONE;
        if (urls[i] && (!(r->url = strdup(urls[i])) || !(r->final_url = strdup(urls[i])))) {
            rc = err_set(err, ERR_NOMEM, "fetch: copying URL %zu", i);
            goto fail;
        }
        int uc = url_check(urls[i], x->hostkey, why, sizeof why);
        if (uc < 0) {
            rc = err_set(err, ERR_NOMEM, "fetch: parsing URL %zu", i);
            goto fail;
        }
        if (uc != URL_OK) {
            r->outcome = VER_FETCH_BAD_URL;
            snprintf(r->error, sizeof r->error, "%s", why);
            continue;
        }
        pending_push(&f, x);
    }

    for (;;) {
        if ((rc = schedule(&f)) != ERR_OK) break;
        if (f.active == 0) {
            if (f.pending) rc = ERR_INTERNAL; /* cannot happen: an idle fetcher starts one */
            break;
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(f.multi, &running);
        if (mc != CURLM_OK) {
            rc = err_set(err, mc == CURLM_OUT_OF_MEMORY ? ERR_NOMEM : ERR_NET, "fetch: %s",
                         curl_multi_strerror(mc));
            goto fail;
        }
        CURLMsg *m;
        int left = 0, finished = 0;
        while ((m = curl_multi_info_read(f.multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            char *priv = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            CURLcode cc = m->data.result; /* m is invalid after remove_handle */
            if (!priv) {
                rc = ERR_INTERNAL;
                break;
            }
            if ((rc = xfer_finish_hop(&f, (struct xfer *)priv, cc)) != ERR_OK) break;
            finished++;
        }
        if (rc != ERR_OK) break;
        if (finished) continue; /* start the next ones before waiting */
        mc = curl_multi_poll(f.multi, NULL, 0, FETCH_POLL_MS, NULL);
        if (mc != CURLM_OK) {
            rc = err_set(err, ERR_NET, "fetch: %s", curl_multi_strerror(mc));
            goto fail;
        }
    }
    if (rc == ERR_NOMEM) err_set(err, rc, "fetch: out of memory");
    else if (rc == ERR_NET) err_set(err, rc, "fetch: libcurl rejected a handle or option");
    else if (rc != ERR_OK) err_set(err, rc, "fetch: internal scheduler error");
    if (rc != ERR_OK) goto fail;
    curl_multi_cleanup(f.multi);
    free(f.xs);
    free(f.hosts);
    free(cfg.allow);
    return ERR_OK;

fail:
    for (size_t i = 0; f.xs && i < n; i++) {
        if (f.xs[i].h) {
            if (f.xs[i].state == X_ACTIVE) curl_multi_remove_handle(f.multi, f.xs[i].h);
            curl_easy_cleanup(f.xs[i].h);
        }
        buf_cleanup(&f.xs[i].body);
    }
    for (size_t i = 0; i < n; i++) ver_fetch_result_cleanup(&results[i]);
    curl_multi_cleanup(f.multi);
    free(f.xs);
    free(f.hosts);
    free(cfg.allow);
    return rc;
}

int ver_fetch_one(const char *url, const struct ver_fetch_opts *opts, struct ver_fetch_result *res,
                  struct err *err)
{
    return ver_fetch_many(&url, 1, opts, res, err);
}
