/* http_guard.c - the address guard (which IP addresses are not public), the allow list, and URL
 * checks of the HTTP client. */
#include "http_int.h"

#include "ascii.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- non-public ranges */

struct addr_prefix {
    unsigned char a[16]; /* network-order prefix bytes */
    int bits;
};

/* IPv4 ranges never connected to (RFC 6890 special-purpose and friends). */
static const struct addr_prefix v4_blocked[] = {
    {{0}, 8},             /* "this network", 0.0.0.0 */
    {{10}, 8},            /* private */
    {{100, 64}, 10},      /* CGNAT shared space */
    {{127}, 8},           /* loopback */
    {{169, 254}, 16},     /* link-local (cloud metadata lives here) */
    {{172, 16}, 12},      /* private */
    {{192, 0, 0}, 24},    /* IETF protocol assignments */
    {{192, 0, 2}, 24},    /* TEST-NET-1 */
    {{192, 88, 99}, 24},  /* 6to4 relay anycast */
    {{192, 168}, 16},     /* private */
    {{198, 18}, 15},      /* benchmarking */
    {{198, 51, 100}, 24}, /* TEST-NET-2 */
    {{203, 0, 113}, 24},  /* TEST-NET-3 */
    {{224}, 4},           /* multicast */
    {{240}, 4},           /* reserved, 255.255.255.255 broadcast */
};

/* IPv6 ranges never connected to. */
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
    {{{0}, 96}, 12},                                              /* ::a.b.c.d, ::, ::1 */
    {{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, 12},       /* ::ffff:a.b.c.d */
    {{{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96}, 12},       /* ::ffff:0:a.b.c.d */
    {{{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 96}, 12}, /* NAT64 64:ff9b::/96 */
    {{{0x20, 0x02}, 16}, 2},                                      /* 6to4 2002:a.b.c.d:: */
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

int http_addr_is_private(const struct sockaddr *sa)
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

/* ---------------------------------------------------------------- the allow list */

int http_allow_parse(const char *s, struct http_allow *out)
{
    char host[64];
    const char *port;
    memset(out, 0, sizeof *out);
    if (!s) return -1;
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

int http_allow_match(const struct http_allow *list, size_t n, const struct sockaddr_storage *ss)
{
    for (size_t i = 0; i < n; i++) {
        const struct http_allow *a = &list[i];
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

void http_addr_format(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(out, cap, "?");
    }
}

/* 1 when the "IP:port" entry s[0..n) is in allow_hosts. */
static int entry_allowed(const char *s, size_t n, const char *const *allow_hosts)
{
    char one[80];
    struct http_allow want, have;
    if (n == 0 || n >= sizeof one || !allow_hosts) return 0;
    memcpy(one, s, n);
    one[n] = '\0';
    if (http_allow_parse(one, &want) != 0) return 0;
    for (size_t i = 0; allow_hosts[i]; i++)
        if (http_allow_parse(allow_hosts[i], &have) == 0 && have.family == want.family &&
            have.port == want.port && memcmp(have.a, want.a, sizeof have.a) == 0)
            return 1;
    return 0;
}

int http_guard_permits(int allow_private, const char *const *allow_hosts, const char *private_addrs)
{
    if (!private_addrs || !*private_addrs || allow_private) return 1;
    for (const char *p = private_addrs; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (!entry_allowed(p, n, allow_hosts)) return 0; /* "*" fails to parse: never allowed */
        p += n;
        if (*p == ',') p++;
    }
    return 1;
}

/* ---------------------------------------------------------------- URLs */

static void say(char *why, size_t cap, const char *text)
{
    if (why && cap) snprintf(why, cap, "%s", text);
}

/* The checks that need no parser: length, spaces and control characters. */
static int url_shape(const char *url, char *why, size_t cap)
{
    if (!url || !*url) {
        say(why, cap, "empty URL");
        return HTTP_FAIL_BAD_URL;
    }
    size_t len = strlen(url);
    if (len > HTTP_URL_MAX) {
        if (why && cap) snprintf(why, cap, "URL longer than %d bytes", HTTP_URL_MAX);
        return HTTP_FAIL_BAD_URL;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
            say(why, cap, "spaces or control characters in the URL");
            return HTTP_FAIL_BAD_URL;
        }
    return HTTP_OK;
}

int http_url_parse(const char *url, char *key, int *literal, int *https, int *credentials, char *why,
                   size_t cap)
{
    if (credentials) *credentials = 0;
    if (why && cap) why[0] = '\0';
    int rc = url_shape(url, why, cap);
    if (rc != HTTP_OK) return rc;
    rc = HTTP_FAIL_BAD_URL;
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL;
    CURLU *u = curl_url();
    if (!u) return -1;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OUT_OF_MEMORY) goto oom;
    if (uc != CURLUE_OK) {
        if (why && cap) snprintf(why, cap, "malformed URL: %s", curl_url_strerror(uc));
        goto done;
    }
    if (credentials && (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
                        curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK))
        *credentials = 1;
    uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc == CURLUE_OUT_OF_MEMORY) goto oom;
    if (uc != CURLUE_OK) {
        say(why, cap, "URL has no scheme");
        goto done;
    }
    if (ascii_casecmp(scheme, "http") != 0 && ascii_casecmp(scheme, "https") != 0) {
        if (why && cap) snprintf(why, cap, "scheme \"%.32s\" is not http or https", scheme);
        rc = HTTP_FAIL_BLOCKED;
        goto done;
    }
    const char *sep = strstr(url, "://"); /* "http:///x": libcurl would take "x" as the host */
    uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OUT_OF_MEMORY) goto oom;
    if (uc != CURLUE_OK || !host[0] || !sep || sep[3] == '/') {
        say(why, cap, "URL has no host");
        goto done;
    }
    uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (uc == CURLUE_OUT_OF_MEMORY) goto oom;
    if (uc != CURLUE_OK) {
        say(why, cap, "URL has no port");
        goto done;
    }
    size_t hl = strlen(host);
    if (hl + strlen(port) + 2 > HTTP_HOSTKEY_MAX) {
        say(why, cap, "host name too long");
        goto done;
    }
    if (key) {
        for (size_t i = 0; i < hl; i++)
            key[i] = (char)ascii_tolower((unsigned char)host[i]);
        key[hl] = ':';
        memcpy(key + hl + 1, port, strlen(port) + 1);
    }
    if (literal) {
        unsigned char tmp[16];
        *literal = host[0] == '[' || inet_pton(AF_INET, host, tmp) == 1;
    }
    if (https) *https = ascii_casecmp(scheme, "https") == 0;
    rc = HTTP_OK;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(u);
    return rc;
oom:
    rc = -1;
    goto done;
}

int http_is_web_url(const char *s)
{
    return s && (!ascii_ncasecmp(s, "http://", 7) || !ascii_ncasecmp(s, "https://", 8));
}

int http_url_check(const char *url, int *credentials, char *why, size_t cap)
{
    return http_url_parse(url, NULL, NULL, NULL, credentials, why, cap);
}
