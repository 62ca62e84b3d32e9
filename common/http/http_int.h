/* http_int.h - internals shared by the files of the HTTP client (not a public header). */
#ifndef VC_HTTP_INT_H
#define VC_HTTP_INT_H

#include <stddef.h>
#include <sys/socket.h>

#include "http.h"

#define HTTP_HOSTKEY_MAX 300 /* "host:port", the host at most 255 bytes */

/* One parsed allow_hosts entry. */
struct http_allow {
    int family;
    unsigned char a[16]; /* network order */
    unsigned short port; /* host order */
};

/* Parse "1.2.3.4:80" or "[::1]:80" into *out. Returns 0, or -1 when malformed. */
int http_allow_parse(const char *s, struct http_allow *out);
/* 1 when `ss` (AF_INET or AF_INET6, with its port) equals one of list[0..n). */
int http_allow_match(const struct http_allow *list, size_t n, const struct sockaddr_storage *ss);
/* Write "IP:port" ("[v6]:port") of `ss` to out (cap bytes); "?" for other families. */
void http_addr_format(const struct sockaddr_storage *ss, char *out, size_t cap);

/* Check `url` (see http_url_check). On HTTP_OK, when key is not NULL, the lower-cased
 * "host:port" (the scheme's port when none is written) goes to key (HTTP_HOSTKEY_MAX bytes),
 * *literal to 1 when the host is an IP address, and *https to 1 for https. */
int http_url_parse(const char *url, char *key, int *literal, int *https, int *credentials, char *why,
                   size_t cap);

/* What the engine knows about a hop that libcurl ended with an error (http_result.c). */
struct http_hop_info {
    int cc;              /* the CURLcode */
    int opened;          /* a socket was opened (so DNS had answered) */
    int connected;       /* a connection was made or reused */
    const char *hostkey; /* "host:port" of the hop */
    long hop_ms;         /* the hop's time budget (what was left of total_ms) */
    long total_ms, connect_ms, low_bps, low_s; /* the request's limits */
    double elapsed_s;    /* the hop's time as libcurl measured it */
    long os_errno;       /* CURLINFO_OS_ERRNO */
    const char *errbuf;  /* libcurl's error text, "" when none */
};

/* Classify a failed hop: returns the enum http_fail and writes the message to why (cap bytes). */
int http_classify(const struct http_hop_info *h, char *why, size_t cap);

#endif
