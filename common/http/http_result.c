/* http_result.c - what became of a request: libcurl's codes classified into enum http_fail
 * with a message naming the limit or address, failure names, header lookup. */
#include "http_int.h"

#include "ascii.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *http_fail_name(int fail)
{
    static const char *const names[HTTP_FAIL_COUNT] = {
        "ok",   "dns",  "refused",   "closed",    "timeout", "tls",
        "http", "redirects", "too-large", "blocked", "bad-url", "other"};
    if (fail < 0 || fail >= HTTP_FAIL_COUNT) return "unknown";
    return names[fail];
}

void http_result_cleanup(struct http_result *res)
{
    if (!res) return;
    buf_cleanup(&res->body);
    buf_cleanup(&res->headers);
    free(res->content_type);
    free(res->final_url);
    memset(res, 0, sizeof *res);
}

const char *http_header(const struct http_result *res, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = res ? res->headers.data : NULL;
    while (p && *p) {
        const char *end = strchr(p, '\n');
        size_t ll = end ? (size_t)(end - p) : strlen(p);
        if (ll > nl && p[nl] == ':' && ascii_ncasecmp(p, name, nl) == 0) {
            size_t vl = ll - nl - 1;
            const char *v = ascii_trim(p + nl + 1, &vl);
            if (len) *len = vl;
            return v;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* ---------------------------------------------------------------- classification */

/* "host" of a "host:port" key, at most cap - 1 bytes. */
static void key_host(const char *key, char *out, size_t cap)
{
    const char *colon = strrchr(key, ':');
    size_t n = colon ? (size_t)(colon - key) : strlen(key);
    if (n >= cap) n = cap - 1;
    memcpy(out, key, n);
    out[n] = '\0';
}

/* A timeout: which limit fired. The hop's budget was h->hop_ms (what was left of total_ms when
 * it started); libcurl measured h->elapsed_s. */
static int classify_timeout(const struct http_hop_info *h, char *why, size_t cap)
{
    char host[HTTP_HOSTKEY_MAX];
    int total = h->elapsed_s * 1000.0 >= (double)h->hop_ms - 5.0;
    double limit_s = (double)(total ? h->total_ms : h->connect_ms) / 1000.0;
    if (!h->opened && !h->connected) { /* no socket yet: still resolving the name */
        key_host(h->hostkey, host, sizeof host);
        snprintf(why, cap, "no DNS answer for %s in %g s (%s limit)", host, limit_s,
                 total ? "total" : "connect");
        return HTTP_FAIL_DNS;
    }
    if (total) {
        snprintf(why, cap, "no answer in %g s total", (double)h->total_ms / 1000.0);
    } else if (h->connected && h->low_bps > 0 && h->low_s > 0) {
        snprintf(why, cap, "slower than %ld bytes/s for %ld s", h->low_bps, h->low_s);
    } else if (!h->connected) {
        snprintf(why, cap, "connect timeout after %g s", (double)h->connect_ms / 1000.0);
    } else {
        snprintf(why, cap, "no answer in %g s total", (double)h->total_ms / 1000.0);
    }
    return HTTP_FAIL_TIMEOUT;
}

static int is_tls(int cc)
{
    switch (cc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return 1;
    default:
        return 0;
    }
}

int http_classify(const struct http_hop_info *h, char *why, size_t cap)
{
    const char *msg = h->errbuf && h->errbuf[0] ? h->errbuf : curl_easy_strerror((CURLcode)h->cc);
    char host[HTTP_HOSTKEY_MAX];
    key_host(h->hostkey, host, sizeof host);
    if (is_tls(h->cc)) {
        snprintf(why, cap, "TLS with %s failed: %s", host, msg);
        return HTTP_FAIL_TLS;
    }
    switch (h->cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return classify_timeout(h, why, cap);
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(why, cap, "could not resolve host %s", host);
        return HTTP_FAIL_DNS;
    case CURLE_COULDNT_RESOLVE_PROXY:
        snprintf(why, cap, "could not resolve the proxy host: %s", msg);
        return HTTP_FAIL_DNS;
    case CURLE_COULDNT_CONNECT:
        if (h->os_errno == ECONNREFUSED)
            snprintf(why, cap, "connection refused by %s", h->hostkey);
        else if (h->os_errno == ENETUNREACH)
            snprintf(why, cap, "network unreachable for %s", h->hostkey);
        else if (h->os_errno == EHOSTUNREACH)
            snprintf(why, cap, "host %s unreachable", h->hostkey);
        else
            snprintf(why, cap, "could not connect to %s: %s", h->hostkey, msg);
        return HTTP_FAIL_REFUSED;
    case CURLE_GOT_NOTHING:
        snprintf(why, cap, "empty reply from %s (connection closed)", h->hostkey);
        return HTTP_FAIL_CLOSED;
    case CURLE_PARTIAL_FILE:
        snprintf(why, cap, "connection to %s closed before the whole body arrived", h->hostkey);
        return HTTP_FAIL_CLOSED;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        snprintf(why, cap, "connection to %s broke: %s", h->hostkey, msg);
        return HTTP_FAIL_CLOSED;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        snprintf(why, cap, "%s", msg);
        return HTTP_FAIL_BAD_URL;
    default:
        snprintf(why, cap, "%s", msg);
        return HTTP_FAIL_OTHER;
    }
}
