/* test_ver_fetch.c - the URL fetcher against a tiny HTTP server the test runs on 127.0.0.1. */
#include "test.h"

#include "err.h"
#include "verify/ver_fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- the test server: one accept thread, one thread per connection ---- */

struct tsrv {
    int lfd;
    int port;
    pthread_t accept_th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* guarded by mu */
    int stop;
    int conns_live;
    int accepts;
    int requests;
    int inflight, max_inflight;
    int saw_cookie;
    int saw_gzip_accept;
    char last_ua[128];
};

struct tconn {
    struct tsrv *s;
    int fd;
};

static int srv_stopping(struct tsrv *s)
{
    pthread_mutex_lock(&s->mu);
    int st = s->stop;
    pthread_mutex_unlock(&s->mu);
    return st;
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_str(int fd, const char *s) { return send_all(fd, s, strlen(s)); }

/* Send a complete response with Content-Length. `extra` is more header lines (each ending
 * in \r\n) or "". */
static void respond(int fd, const char *status, const char *ctype, const char *extra,
                    const void *body, size_t len)
{
    char head[512];
    snprintf(head, sizeof head,
             "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
             status, ctype, len, extra);
    if (send_str(fd, head) == 0 && len) send_all(fd, body, len);
}

static void redirect(int fd, const char *location)
{
    char extra[512];
    snprintf(extra, sizeof extra, "Location: %s\r\n", location);
    respond(fd, "302 Found", "text/plain", extra, "moved", 5);
}

/* Case-insensitive search for header `name` in the request head; copies its value. */
static int header_value(const char *req, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(req, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ') v++;
            const char *e = strstr(v, "\r\n");
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= cap) len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 1;
        }
    }
    return 0;
}

static const unsigned char gz_text[] = {
    /* gzip (mtime 0, -9) of "The quick brown fox jumps over the lazy dog. " x 20 */
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x0b, 0xc9, 0x48, 0x55, 0x28, 0x2c,
    0xcd, 0x4c, 0xce, 0x56, 0x48, 0x2a, 0xca, 0x2f, 0xcf, 0x53, 0x48, 0xcb, 0xaf, 0x50, 0xc8, 0x2a,
    0xcd, 0x2d, 0x28, 0x56, 0xc8, 0x2f, 0x4b, 0x2d, 0x52, 0x28, 0x01, 0x4a, 0xe7, 0x24, 0x56, 0x55,
    0x2a, 0xa4, 0xe4, 0xa7, 0xeb, 0x29, 0x84, 0x8c, 0x2a, 0x1e, 0x55, 0x3c, 0xaa, 0x98, 0xda, 0x8a,
    0x01, 0xe6, 0x4a, 0x66, 0xb0, 0x84, 0x03, 0x00, 0x00,
};
#define GZ_TEXT_REPEAT "The quick brown fox jumps over the lazy dog. "

/* gzip (mtime 0, -9) of 256 KiB of zero bytes: 289 bytes = these 25, 254 zeros, these 10. */
static const unsigned char gz_bomb_head[25] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00,
                                               0x00, 0x02, 0x03, 0xed, 0xc1, 0x31, 0x01,
                                               0x00, 0x00, 0x00, 0xc2, 0xa0, 0xf5, 0x4f,
                                               0xed, 0x6d, 0x07, 0xa0};
static const unsigned char gz_bomb_tail[10] = {0xde, 0x00, 0x22, 0xea, 0x0e,
                                               0xe2, 0x00, 0x00, 0x04, 0x00};
#define GZ_BOMB_LEN 289
#define GZ_BOMB_DECODED (256 * 1024)

static void route(struct tsrv *s, int fd, const char *path)
{
    char loc[256];
    if (strcmp(path, "/ok") == 0) {
        static const char page[] = "<html><body>hello vericite</body></html>";
        respond(fd, "200 OK", "text/html; charset=utf-8", "", page, sizeof page - 1);
    } else if (strcmp(path, "/404") == 0) {
        respond(fd, "404 Not Found", "text/plain", "", "no such page", 12);
    } else if (strcmp(path, "/410") == 0) {
        respond(fd, "410 Gone", "text/plain", "", "gone", 4);
    } else if (strcmp(path, "/endless") == 0) {
        /* no Content-Length: the body ends only when the client goes away */
        char chunk[16384];
        memset(chunk, 'x', sizeof chunk);
        if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"))
            return;
        while (!srv_stopping(s) && send_all(fd, chunk, sizeof chunk) == 0) {}
    } else if (strcmp(path, "/bigcl") == 0) {
        /* announce 1 GB, then send nothing until the client hangs up (at most 3 s) */
        if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         "Content-Length: 1000000000\r\nConnection: close\r\n\r\n"))
            return;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        for (int i = 0; i < 150 && !srv_stopping(s); i++)
            if (poll(&p, 1, 20) > 0) break;
    } else if (strcmp(path, "/slow") == 0) {
        if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         "Content-Length: 100\r\nConnection: close\r\n\r\n"))
            return;
        for (int i = 0; i < 100 && !srv_stopping(s); i++) {
            if (send_all(fd, "s", 1) != 0) return;
            usleep(200 * 1000);
        }
    } else if (strncmp(path, "/sr/", 4) == 0) {
        /* a slow redirect chain: each hop takes 300 ms */
        long k = strtol(path + 4, NULL, 10);
        usleep(300 * 1000);
        if (k <= 0) {
            respond(fd, "200 OK", "text/plain", "", "slow end", 8);
        } else {
            snprintf(loc, sizeof loc, "/sr/%ld", k - 1);
            redirect(fd, loc);
        }
    } else if (strcmp(path, "/loop") == 0) {
        redirect(fd, "/loop");
    } else if (strncmp(path, "/r/", 3) == 0) {
        long k = strtol(path + 3, NULL, 10);
        if (k <= 0) {
            respond(fd, "200 OK", "text/plain", "", "end of chain", 12);
        } else {
            snprintf(loc, sizeof loc, "/r/%ld", k - 1);
            redirect(fd, loc);
        }
    } else if (strcmp(path, "/pdf") == 0) {
        static const char pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n\0tail";
        respond(fd, "200 OK", "application/pdf", "", pdf, sizeof pdf - 1);
    } else if (strcmp(path, "/png") == 0) {
        static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                            0, 0, 0, 13, 'I', 'H', 'D', 'R'};
        respond(fd, "200 OK", "image/png", "", png, sizeof png);
    } else if (strcmp(path, "/gzip") == 0) {
        respond(fd, "200 OK", "text/plain", "Content-Encoding: gzip\r\n", gz_text, sizeof gz_text);
    } else if (strcmp(path, "/gzbomb") == 0) {
        unsigned char bomb[GZ_BOMB_LEN] = {0};
        memcpy(bomb, gz_bomb_head, sizeof gz_bomb_head);
        memcpy(bomb + GZ_BOMB_LEN - sizeof gz_bomb_tail, gz_bomb_tail, sizeof gz_bomb_tail);
        respond(fd, "200 OK", "text/plain", "Content-Encoding: gzip\r\n", bomb, sizeof bomb);
    } else if (strcmp(path, "/to-private") == 0) {
        redirect(fd, "http://10.0.0.1/secret"); /* refused before connect: no packet leaves */
    } else if (strcmp(path, "/to-v6-loopback") == 0) {
        snprintf(loc, sizeof loc, "http://[::1]:%d/ok", s->port);
        redirect(fd, loc);
    } else if (strcmp(path, "/to-mapped") == 0) {
        snprintf(loc, sizeof loc, "http://[::ffff:127.0.0.1]:%d/ok", s->port);
        redirect(fd, loc);
    } else if (strcmp(path, "/to-other-port") == 0) {
        redirect(fd, "http://127.0.0.1:1/ok");
    } else if (strcmp(path, "/to-file") == 0) {
        redirect(fd, "file:///etc/passwd");
    } else if (strcmp(path, "/to-ftp") == 0) {
        snprintf(loc, sizeof loc, "ftp://127.0.0.1:%d/", s->port);
        redirect(fd, loc);
    } else if (strcmp(path, "/to-ok") == 0) {
        redirect(fd, "/ok");
    } else if (strcmp(path, "/no-location") == 0) {
        respond(fd, "302 Found", "text/plain", "", "nowhere", 7);
    } else if (strcmp(path, "/setcookie") == 0) {
        respond(fd, "302 Found", "text/plain", "Set-Cookie: sid=secret; Path=/\r\nLocation: /echo\r\n",
                "x", 1);
    } else if (strcmp(path, "/echo") == 0) {
        respond(fd, "200 OK", "text/plain", "", "echo", 4);
    } else if (strncmp(path, "/count", 6) == 0) {
        pthread_mutex_lock(&s->mu);
        s->inflight++;
        if (s->inflight > s->max_inflight) s->max_inflight = s->inflight;
        pthread_mutex_unlock(&s->mu);
        usleep(60 * 1000);
        pthread_mutex_lock(&s->mu);
        s->inflight--; /* before the response, so a client's next request never overlaps it */
        pthread_mutex_unlock(&s->mu);
        respond(fd, "200 OK", "text/plain", "", "counted", 7);
    } else {
        respond(fd, "404 Not Found", "text/plain", "", "unknown route", 13);
    }
}

static void *conn_main(void *arg)
{
    struct tconn *c = arg;
    struct tsrv *s = c->s;
    char req[8192];
    size_t len = 0;
    struct timeval tv = {2, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (len < sizeof req - 1) {
        ssize_t r = recv(c->fd, req + len, sizeof req - 1 - len, 0);
        if (r <= 0) break;
        len += (size_t)r;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n")) break;
    }
    req[len] = '\0';
    char path[512] = "";
    if (strncmp(req, "GET ", 4) == 0) {
        const char *sp = strchr(req + 4, ' ');
        size_t pl = sp ? (size_t)(sp - req - 4) : 0;
        if (pl < sizeof path) {
            memcpy(path, req + 4, pl);
            path[pl] = '\0';
        }
    }
    if (path[0]) {
        char v[256];
        pthread_mutex_lock(&s->mu);
        s->requests++;
        if (header_value(req, "Cookie", v, sizeof v)) s->saw_cookie = 1;
        if (header_value(req, "Accept-Encoding", v, sizeof v) && strstr(v, "gzip"))
            s->saw_gzip_accept = 1;
        if (!header_value(req, "User-Agent", s->last_ua, sizeof s->last_ua)) s->last_ua[0] = '\0';
        pthread_mutex_unlock(&s->mu);
        route(s, c->fd, path);
    }
    shutdown(c->fd, SHUT_WR);
    close(c->fd);
    pthread_mutex_lock(&s->mu);
    s->conns_live--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    free(c);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct tsrv *s = arg;
    while (!srv_stopping(s)) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        struct tconn *c = malloc(sizeof *c);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&s->mu);
        s->accepts++;
        s->conns_live++;
        pthread_mutex_unlock(&s->mu);
        if (c) {
            c->s = s;
            c->fd = fd;
        }
        if (!c || pthread_create(&th, &at, conn_main, c) != 0) {
            close(fd);
            free(c);
            pthread_mutex_lock(&s->mu);
            s->conns_live--;
            pthread_mutex_unlock(&s->mu);
        }
        pthread_attr_destroy(&at);
    }
    return NULL;
}

/* Start a server on 127.0.0.1 with an ephemeral port (and curl_global_init, which tests own).
 * Returns 0 or -1. */
static int tsrv_start(struct tsrv *s)
{
    memset(s, 0, sizeof *s);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0) return -1;
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 64) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0) {
        close(s->lfd);
        return -1;
    }
    s->port = ntohs(a.sin_port);
    if (pthread_create(&s->accept_th, NULL, accept_main, s) != 0) {
        close(s->lfd);
        return -1;
    }
    return 0;
}

/* Stop the server and wait (at most ~3 s) for its connection threads. */
static void tsrv_stop(struct tsrv *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->accept_th, NULL);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 3;
    pthread_mutex_lock(&s->mu);
    while (s->conns_live > 0)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0) break;
    pthread_mutex_unlock(&s->mu);
    close(s->lfd);
    curl_global_cleanup();
}

static int tsrv_get(struct tsrv *s, const int *field)
{
    pthread_mutex_lock(&s->mu);
    int v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static void url_of(char *out, size_t cap, const struct tsrv *s, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", s->port, path);
}

/* Fetch one path of the server with `o`; the result must be cleaned by the caller. */
static int fetch_path(struct tsrv *s, const char *path, const struct ver_fetch_opts *o,
                      struct ver_fetch_result *r, struct err *e)
{
    char url[256];
    url_of(url, sizeof url, s, path);
    return ver_fetch_one(url, o, r, e);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = s ? strlen(s) : 0, b = strlen(suffix);
    return s && a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- ver_addr_is_private ---- */

TEST(ver_fetch_addr_table)
{
    static const struct {
        const char *ip;
        int priv;
    } cases[] = {
        {"8.8.8.8", 0},          {"1.1.1.1", 0},          {"93.184.216.34", 0},
        {"9.255.255.255", 0},    {"11.0.0.0", 0},         {"100.63.255.255", 0},
        {"100.128.0.0", 0},      {"169.253.255.255", 0},  {"172.15.255.255", 0},
        {"172.32.0.0", 0},       {"192.167.255.255", 0},  {"192.169.0.1", 0},
        {"223.255.255.255", 0},  {"126.255.255.255", 0},  {"128.0.0.1", 0},
        {"127.0.0.1", 1},        {"127.255.255.254", 1},  {"10.0.0.1", 1},
        {"10.255.255.255", 1},   {"172.16.0.1", 1},       {"172.31.255.255", 1},
        {"192.168.0.1", 1},      {"192.168.255.255", 1},  {"169.254.169.254", 1},
        {"100.64.0.1", 1},       {"100.127.255.255", 1},  {"0.0.0.0", 1},
        {"0.1.2.3", 1},          {"224.0.0.1", 1},        {"239.255.255.250", 1},
        {"255.255.255.255", 1},  {"240.0.0.1", 1},        {"192.0.2.1", 1},
        {"198.18.0.1", 1},       {"198.19.255.255", 1},   {"203.0.113.9", 1},
        {"2606:4700:4700::1111", 0}, {"2001:4860:4860::8888", 0}, {"2a00:1450::1", 0},
        {"::ffff:8.8.8.8", 0},   {"64:ff9b::808:808", 0}, {"2002:808:808::1", 0},
        {"fbff:ffff::1", 0},     {"2001:1::1", 0},
        {"::1", 1},              {"::", 1},               {"::ffff:127.0.0.1", 1},
        {"::ffff:10.0.0.1", 1},  {"::ffff:169.254.169.254", 1}, {"::ffff:192.168.1.1", 1},
        {"::ffff:100.64.0.1", 1}, {"::127.0.0.1", 1},     {"::ffff:0:127.0.0.1", 1},
        {"64:ff9b::a00:1", 1},   {"64:ff9b::7f00:1", 1},  {"64:ff9b:1::1", 1},
        {"2002:7f00:1::", 1},    {"2002:c0a8:101::1", 1}, {"fc00::1", 1},
        {"fd12:3456::1", 1},     {"fe80::1", 1},          {"febf:ffff::1", 1},
        {"fec0::1", 1},          {"ff02::1", 1},          {"2001:db8::1", 1},
        {"2001:0:4136:e378::1", 1}, {"100::1", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        if (strchr(cases[i].ip, ':')) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            a->sin6_family = AF_INET6;
            a->sin6_port = htons(443);
            REQUIRE(inet_pton(AF_INET6, cases[i].ip, &a->sin6_addr) == 1);
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            a->sin_family = AF_INET;
            a->sin_port = htons(80);
            REQUIRE(inet_pton(AF_INET, cases[i].ip, &a->sin_addr) == 1);
        }
        int got = ver_addr_is_private((const struct sockaddr *)&ss);
        if (got != cases[i].priv)
            fprintf(stderr, "  %s: got %d, want %d\n", cases[i].ip, got, cases[i].priv);
        CHECK(got == cases[i].priv);
    }
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    CHECK(ver_addr_is_private((const struct sockaddr *)&un) == 1);
    CHECK(ver_addr_is_private(NULL) == 1);
}

TEST(ver_fetch_outcome_names)
{
    CHECK(strcmp(ver_fetch_outcome_name(VER_FETCH_OK), "ok") == 0);
    CHECK(strcmp(ver_fetch_outcome_name(VER_FETCH_REFUSED), "refused") == 0);
    CHECK(strcmp(ver_fetch_outcome_name(VER_FETCH_TOO_MANY_REDIRECTS), "too-many-redirects") == 0);
    CHECK(strcmp(ver_fetch_outcome_name(99), "unknown") == 0);
    CHECK(strcmp(ver_fetch_outcome_name(-1), "unknown") == 0);
    ver_fetch_result_cleanup(NULL);
}

/* ---- against the local server (allow_private = 1) ---- */

TEST(ver_fetch_ok_and_http_errors)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    struct ver_fetch_opts o = {.allow_private = 1};
    struct ver_fetch_result r[3];
    struct err e = {0};
    char u0[128], u1[128], u2[128];
    url_of(u0, sizeof u0, &s, "/ok");
    url_of(u1, sizeof u1, &s, "/404");
    url_of(u2, sizeof u2, &s, "/410");
    const char *urls[] = {u0, u1, u2};
    int rc = ver_fetch_many(urls, 3, &o, r, &e);
    CHECK(rc == ERR_OK);
    if (rc == ERR_OK) {
        CHECK(r[0].outcome == VER_FETCH_OK);
        CHECK(r[0].status == 200);
        CHECK(r[0].content_type && strcmp(r[0].content_type, "text/html; charset=utf-8") == 0);
        CHECK(r[0].body && strcmp(r[0].body, "<html><body>hello vericite</body></html>") == 0);
        CHECK(r[0].body_len == strlen("<html><body>hello vericite</body></html>"));
        CHECK(r[0].url && strcmp(r[0].url, u0) == 0);
        CHECK(r[0].final_url && strcmp(r[0].final_url, u0) == 0);
        CHECK(r[0].error[0] == '\0');
        CHECK(r[0].seconds > 0 && r[0].seconds < 2);
        CHECK(r[1].outcome == VER_FETCH_HTTP_ERROR);
        CHECK(r[1].status == 404);
        CHECK(strstr(r[1].error, "404") != NULL);
        CHECK(r[2].outcome == VER_FETCH_HTTP_ERROR);
        CHECK(r[2].status == 410);
        CHECK(r[2].body && strcmp(r[2].body, "gone") == 0);
        for (int i = 0; i < 3; i++) ver_fetch_result_cleanup(&r[i]);
        CHECK(r[0].url == NULL && r[0].body == NULL);
    }
    CHECK(tsrv_get(&s, &s.saw_gzip_accept) == 1); /* Accept-Encoding was offered */
    tsrv_stop(&s);
}

TEST(ver_fetch_endless_body_too_big)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    struct ver_fetch_opts o = {.allow_private = 1, .max_bytes = 256 * 1024};
    struct ver_fetch_result r;
    struct err e = {0};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = fetch_path(&s, "/endless", &o, &r, &e);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    CHECK(rc == ERR_OK);
    CHECK(r.outcome == VER_FETCH_TOO_BIG);
    CHECK(r.body == NULL && r.body_len == 0);
    CHECK(strstr(r.error, "262144") != NULL);
    CHECK(secs < 2.0);
    ver_fetch_result_cleanup(&r);

    /* a Content-Length over the cap ends it at the headers, before any body byte */
    o.total_timeout_ms = 1000;
    rc = fetch_path(&s, "/bigcl", &o, &r, &e);
    CHECK(rc == ERR_OK);
    CHECK(r.outcome == VER_FETCH_TOO_BIG);
    CHECK(r.seconds < 0.8); /* well before the 1000 ms timeout */
    ver_fetch_result_cleanup(&r);
    tsrv_stop(&s);
}

TEST(ver_fetch_redirects)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    struct ver_fetch_opts o = {.allow_private = 1}; /* max_redirects default 5 */
    struct ver_fetch_result r;
    struct err e = {0};

    REQUIRE_OK(fetch_path(&s, "/loop", &o, &r, &e), e);
    CHECK(r.outcome == VER_FETCH_TOO_MANY_REDIRECTS);
    CHECK(r.status == 302);
    CHECK(ends_with(r.final_url, "/loop"));
    ver_fetch_result_cleanup(&r);

    REQUIRE_OK(fetch_path(&s, "/r/5", &o, &r, &e), e); /* exactly 5 hops: allowed */
    CHECK(r.outcome == VER_FETCH_OK);
    CHECK(r.body && strcmp(r.body, "end of chain") == 0);
    CHECK(ends_with(r.final_url, "/r/0"));
    CHECK(ends_with(r.url, "/r/5"));
    ver_fetch_result_cleanup(&r);

    REQUIRE_OK(fetch_path(&s, "/r/6", &o, &r, &e), e); /* 6 hops: one too many */
    CHECK(r.outcome == VER_FETCH_TOO_MANY_REDIRECTS);
    ver_fetch_result_cleanup(&r);

    o.max_redirects = 2;
    REQUIRE_OK(fetch_path(&s, "/r/3", &o, &r, &e), e);
    CHECK(r.outcome == VER_FETCH_TOO_MANY_REDIRECTS);
    ver_fetch_result_cleanup(&r);

    REQUIRE_OK(fetch_path(&s, "/no-location", &o, &r, &e), e);
    CHECK(r.outcome == VER_FETCH_HTTP_ERROR);
    CHECK(r.status == 302);
    ver_fetch_result_cleanup(&r);

    /* cookies set on a hop are not sent on the next; the User-Agent is ours */
    REQUIRE_OK(fetch_path(&s, "/setcookie", &o, &r, &e), e);
    CHECK(r.outcome == VER_FETCH_OK);
    CHECK(ends_with(r.final_url, "/echo"));
    CHECK(tsrv_get(&s, &s.saw_cookie) == 0);
    pthread_mutex_lock(&s.mu);
    CHECK(strcmp(s.last_ua, VER_FETCH_USER_AGENT) == 0);
    pthread_mutex_unlock(&s.mu);
    ver_fetch_result_cleanup(&r);

    /* a redirect that leaves http(s) is refused, not followed */
    REQUIRE_OK(fetch_path(&s, "/to-file", &o, &r, &e), e);
    CHECK(r.outcome == VER_FETCH_REFUSED);
    CHECK(r.final_url && strcmp(r.final_url, "file:///etc/passwd") == 0);
    CHECK(r.body == NULL);
    ver_fetch_result_cleanup(&r);
    REQUIRE_OK(fetch_path(&s, "/to-ftp", &o, &r, &e), e);
    CHECK(r.outcome == VER_FETCH_REFUSED);
    ver_fetch_result_cleanup(&r);
    tsrv_stop(&s);
}

TEST(ver_fetch_slow_drip_times_out)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    struct ver_fetch_opts o = {.allow_private = 1, .total_timeout_ms = 1500};
    struct ver_fetch_result r;
    struct err e = {0};
    REQUIRE_OK(fetch_path(&s, "/slow", &o, &r, &e), e);
    CHECK(r.outcome == VER_FETCH_TIMEOUT);
    CHECK(!strcmp(r.reason, "timeout") && !strcmp(r.error, "no answer in 1.5 s total")); /* no low-speed limit */
    CHECK(r.seconds >= 1.3 && r.seconds < 2.5);
    CHECK(r.body == NULL);
    ver_fetch_result_cleanup(&r);
    tsrv_stop(&s);
}

TEST(ver_fetch_timeout_spans_redirect_hops)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    struct ver_fetch_opts o = {.allow_private = 1, .total_timeout_ms = 800};
    struct ver_fetch_result r;
    struct err e = {0};
    REQUIRE_OK(fetch_path(&s, "/sr/1", &o, &r, &e), e); /* 2 hops x 300 ms: fits */
    CHECK(r.outcome == VER_FETCH_OK);
    CHECK(r.seconds >= 0.55 && r.seconds < 0.8);
    ver_fetch_result_cleanup(&r);
    REQUIRE_OK(fetch_path(&s, "/sr/3", &o, &r, &e), e); /* 4 hops: each fits, all do not */
    CHECK(r.outcome == VER_FETCH_TIMEOUT);
    CHECK(r.seconds >= 0.7 && r.seconds < 1.4); /* ends at the 800 ms budget (slack for a loaded CI) */
    CHECK(ends_with(r.final_url, "/sr/1"));
    ver_fetch_result_cleanup(&r);
    tsrv_stop(&s);
}

/* A listener on 127.0.0.1 that never accepts, with its one-slot queue already full: new
 * connection attempts hang in SYN. */
TEST(ver_fetch_connect_timeout)
{
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int fill[4] = {-1, -1, -1, -1};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    int ready = lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 &&
                listen(lfd, 0) == 0 && getsockname(lfd, (struct sockaddr *)&a, &al) == 0;
    /* fill the accept queue (Linux keeps backlog + 1) with non-blocking connects */
    for (int i = 0; ready && i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fill[i] >= 0) connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    usleep(50 * 1000);
    if (ready) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(a.sin_port));
        struct ver_fetch_opts o = {.allow_private = 1, .connect_timeout_ms = 300,
                                   .total_timeout_ms = 3000};
        struct ver_fetch_result r;
        struct err e = {0};
        int rc = ver_fetch_one(url, &o, &r, &e);
        CHECK(rc == ERR_OK);
        if (r.outcome != VER_FETCH_TIMEOUT)
            fprintf(stderr, "  outcome %s: %s\n", ver_fetch_outcome_name(r.outcome), r.error);
        CHECK(r.outcome == VER_FETCH_TIMEOUT);
        CHECK(!strcmp(r.error, "connect timeout after 0.3 s"));
        CHECK(r.seconds >= 0.25 && r.seconds < 1.5);
        ver_fetch_result_cleanup(&r);
    }
    for (int i = 0; i < 4; i++)
        if (fill[i] >= 0) close(fill[i]);
    if (lfd >= 0) close(lfd);
    curl_global_cleanup();
    CHECK(ready);
}

TEST(ver_fetch_content_types_and_gzip)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    struct ver_fetch_opts o = {.allow_private = 1, .max_bytes = 64 * 1024};
    struct ver_fetch_result r[4];
    struct err e = {0};
    char u[4][128];
    url_of(u[0], sizeof u[0], &s, "/pdf");
    url_of(u[1], sizeof u[1], &s, "/png");
    url_of(u[2], sizeof u[2], &s, "/gzip");
    url_of(u[3], sizeof u[3], &s, "/gzbomb");
    const char *urls[] = {u[0], u[1], u[2], u[3]};
    REQUIRE_OK(ver_fetch_many(urls, 4, &o, r, &e), e);

    CHECK(r[0].outcome == VER_FETCH_OK);
    CHECK(r[0].content_type && strcmp(r[0].content_type, "application/pdf") == 0);
    CHECK(r[0].body_len == 40); /* embedded NUL kept: the length is not strlen */
    CHECK(r[0].body && memcmp(r[0].body, "%PDF-1.4", 8) == 0 && r[0].body[40] == '\0');
    CHECK(r[0].body && r[0].body[35] == '\0' && memcmp(r[0].body + 36, "tail", 4) == 0);

    CHECK(r[1].outcome == VER_FETCH_OK);
    CHECK(r[1].content_type && strcmp(r[1].content_type, "image/png") == 0);
    CHECK(r[1].body_len == 16);
    CHECK(r[1].body && (unsigned char)r[1].body[0] == 0x89 && r[1].body[8] == 0);

    CHECK(r[2].outcome == VER_FETCH_OK);
    CHECK(r[2].body_len == 20 * strlen(GZ_TEXT_REPEAT));
    int all = r[2].body != NULL;
    for (size_t k = 0; all && k < 20; k++)
        all = memcmp(r[2].body + k * strlen(GZ_TEXT_REPEAT), GZ_TEXT_REPEAT,
                     strlen(GZ_TEXT_REPEAT)) == 0;
    CHECK(all);

    /* 289 bytes on the wire, 256 KiB decoded: the cap counts decoded bytes */
    CHECK(r[3].outcome == VER_FETCH_TOO_BIG);
    for (int i = 0; i < 4; i++) ver_fetch_result_cleanup(&r[i]);
    tsrv_stop(&s);
}

/* ---- the guard (allow_private = 0) ---- */

TEST(ver_fetch_refuses_loopback_without_connecting)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    struct ver_fetch_opts o = {0};
    struct ver_fetch_result r[2];
    struct err e = {0};
    char u0[128], u1[128];
    url_of(u0, sizeof u0, &s, "/ok");
    snprintf(u1, sizeof u1, "http://localhost:%d/ok", s.port);
    const char *urls[] = {u0, u1};
    REQUIRE_OK(ver_fetch_many(urls, 2, &o, r, &e), e);
    CHECK(r[0].outcome == VER_FETCH_REFUSED);
    CHECK(strstr(r[0].error, "127.0.0.1") != NULL);
    CHECK(r[0].status == 0 && r[0].body == NULL);
    CHECK(r[1].outcome == VER_FETCH_REFUSED); /* a name resolving to loopback too */
    for (int i = 0; i < 2; i++) ver_fetch_result_cleanup(&r[i]);

    /* one allowed fetch afterwards: the server has accepted exactly that one connection */
    o.allow_private = 1;
    REQUIRE_OK(ver_fetch_one(u0, &o, &r[0], &e), e);
    CHECK(r[0].outcome == VER_FETCH_OK);
    ver_fetch_result_cleanup(&r[0]);
    CHECK(tsrv_get(&s, &s.accepts) == 1);
    CHECK(tsrv_get(&s, &s.requests) == 1);
    tsrv_stop(&s);
}

TEST(ver_fetch_redirect_to_private_refused)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    char allow[64];
    snprintf(allow, sizeof allow, "127.0.0.1:%d", s.port);
    const char *allow_list[] = {allow, NULL};
    struct ver_fetch_opts o = {.allow_hosts = allow_list}; /* guard on, only our origin allowed */
    static const char *const paths[] = {"/to-ok",          "/to-private",    "/to-v6-loopback",
                                        "/to-mapped",      "/to-other-port", "/ok"};
    enum { N = sizeof paths / sizeof paths[0] };
    char u[N][128];
    const char *urls[N];
    struct ver_fetch_result r[N];
    struct err e = {0};
    for (int i = 0; i < N; i++) {
        url_of(u[i], sizeof u[i], &s, paths[i]);
        urls[i] = u[i];
    }
    REQUIRE_OK(ver_fetch_many(urls, N, &o, r, &e), e);
    CHECK(r[0].outcome == VER_FETCH_OK); /* the allow list works across a redirect */
    CHECK(ends_with(r[0].final_url, "/ok"));
    CHECK(r[1].outcome == VER_FETCH_REFUSED);
    CHECK(r[1].final_url && strcmp(r[1].final_url, "http://10.0.0.1/secret") == 0);
    CHECK(strstr(r[1].error, "10.0.0.1") != NULL);
    CHECK(r[2].outcome == VER_FETCH_REFUSED);
    CHECK(strstr(r[2].error, "::1") != NULL);
    CHECK(r[3].outcome == VER_FETCH_REFUSED);
    CHECK(r[4].outcome == VER_FETCH_REFUSED); /* same address, other port: not allowed */
    CHECK(r[5].outcome == VER_FETCH_OK);
    for (int i = 0; i < N; i++) ver_fetch_result_cleanup(&r[i]);
    /* requests: /to-ok, /ok, /to-private, /to-v6-loopback, /to-mapped, /to-other-port, /ok */
    CHECK(tsrv_get(&s, &s.requests) == 7);

    /* a malformed allow list entry is a caller error */
    const char *bad_list[] = {"localhost:80", NULL};
    o.allow_hosts = bad_list;
    CHECK(ver_fetch_one(u[0], &o, &r[0], &e) == ERR_ARG);
    CHECK(r[0].url == NULL);
    tsrv_stop(&s);
}

TEST(ver_fetch_bad_urls)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    char ftp[128], gopher[128], noscheme[128], dict[128];
    snprintf(ftp, sizeof ftp, "ftp://127.0.0.1:%d/", s.port);
    snprintf(gopher, sizeof gopher, "gopher://127.0.0.1:%d/", s.port);
    snprintf(dict, sizeof dict, "dict://127.0.0.1:%d/", s.port);
    snprintf(noscheme, sizeof noscheme, "127.0.0.1:%d/ok", s.port);
    const char *urls[] = {"file:///etc/passwd", ftp, gopher, dict, noscheme, "not a url", "",
                          NULL, "http://", "//127.0.0.1/x"};
    enum { N = sizeof urls / sizeof urls[0] };
    struct ver_fetch_result r[N];
    struct err e = {0};
    struct ver_fetch_opts o = {.allow_private = 1};
    REQUIRE_OK(ver_fetch_many(urls, N, &o, r, &e), e);
    for (int i = 0; i < N; i++) {
        if (r[i].outcome != VER_FETCH_BAD_URL)
            fprintf(stderr, "  url %d (%s): %s\n", i, urls[i] ? urls[i] : "NULL",
                    ver_fetch_outcome_name(r[i].outcome));
        CHECK(r[i].outcome == VER_FETCH_BAD_URL);
        CHECK(r[i].error[0] != '\0');
        CHECK(r[i].body == NULL);
        ver_fetch_result_cleanup(&r[i]);
    }
    CHECK(tsrv_get(&s, &s.accepts) == 0);
    CHECK(ver_fetch_many(urls, 0, &o, r, &e) == ERR_OK);
    tsrv_stop(&s);
}

/* ---- parallelism ---- */

/* Fetch 20 /count URLs; returns the most requests the server had in flight at once, or -1. */
static int count_run(struct tsrv *s, int max_parallel, int max_per_host, int *n_ok)
{
    enum { N = 20 };
    char u[N][128];
    const char *urls[N];
    struct ver_fetch_result r[N];
    struct err e = {0};
    struct ver_fetch_opts o = {.allow_private = 1, .max_parallel = max_parallel,
                               .max_per_host = max_per_host};
    for (int i = 0; i < N; i++) {
        snprintf(u[i], sizeof u[i], "http://127.0.0.1:%d/count?i=%d", s->port, i);
        urls[i] = u[i];
    }
    pthread_mutex_lock(&s->mu);
    s->max_inflight = 0;
    pthread_mutex_unlock(&s->mu);
    if (ver_fetch_many(urls, N, &o, r, &e) != ERR_OK) return -1;
    *n_ok = 0;
    for (int i = 0; i < N; i++) {
        if (r[i].outcome == VER_FETCH_OK && r[i].body && strcmp(r[i].body, "counted") == 0)
            (*n_ok)++;
        ver_fetch_result_cleanup(&r[i]);
    }
    return tsrv_get(s, &s->max_inflight);
}

TEST(ver_fetch_parallel_limits)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    int ok = 0;
    int m = count_run(&s, 16, 2, &ok); /* default-like: 2 per host */
    CHECK(ok == 20);
    CHECK(m == 2);
    m = count_run(&s, 16, 5, &ok);
    CHECK(ok == 20);
    CHECK(m >= 3 && m <= 5);
    m = count_run(&s, 3, 16, &ok); /* the total cap binds */
    CHECK(ok == 20);
    CHECK(m >= 2 && m <= 3);
    m = count_run(&s, 1, 16, &ok); /* strictly serial */
    CHECK(ok == 20);
    CHECK(m == 1);
    CHECK(tsrv_get(&s, &s.requests) == 80);
    tsrv_stop(&s);
}

/* Failures carry the classified reason and a message naming the host, address or limit; a fetch
 * from an allowed non-public address says so in private_addrs (what a cache must keep). */
TEST(ver_fetch_reasons)
{
    struct tsrv s;
    REQUIRE(tsrv_start(&s) == 0);
    int free_port = -1;
    {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t al = sizeof a;
        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &al) == 0)
            free_port = ntohs(a.sin_port);
        if (fd >= 0) close(fd);
    }
    REQUIRE(free_port > 0);
    char u[4][128], want_refused[96], origin[64];
    snprintf(u[0], sizeof u[0], "http://nonexistent.invalid/page");
    snprintf(u[1], sizeof u[1], "http://127.0.0.1:%d/x", free_port);
    url_of(u[2], sizeof u[2], &s, "/404");
    url_of(u[3], sizeof u[3], &s, "/ok");
    snprintf(want_refused, sizeof want_refused, "connection refused by 127.0.0.1:%d", free_port);
    snprintf(origin, sizeof origin, "127.0.0.1:%d", s.port);
    const char *urls[] = {u[0], u[1], u[2], u[3]};
    struct ver_fetch_result r[4];
    struct err e = {0};
    struct ver_fetch_opts o = {.allow_private = 1};
    REQUIRE_OK(ver_fetch_many(urls, 4, &o, r, &e), e);
    CHECK(r[0].outcome == VER_FETCH_NET && !strcmp(r[0].reason, "dns") &&
          t_contains(r[0].error, "nonexistent.invalid"));
    CHECK(r[1].outcome == VER_FETCH_NET && !strcmp(r[1].reason, "refused") &&
          !strcmp(r[1].error, want_refused));
    CHECK(r[2].outcome == VER_FETCH_HTTP_ERROR && !strcmp(r[2].reason, "http") &&
          !strcmp(r[2].error, "HTTP 404") && !strcmp(r[2].private_addrs, origin));
    CHECK(r[3].outcome == VER_FETCH_OK && !strcmp(r[3].reason, "ok") &&
          !strcmp(r[3].private_addrs, origin));
    CHECK(ver_fetch_permits(0, NULL, r[3].private_addrs) == 0);
    CHECK(ver_fetch_permits(1, NULL, r[3].private_addrs) == 1);
    const char *allow[] = {origin, NULL};
    CHECK(ver_fetch_permits(0, allow, r[3].private_addrs) == 1);
    CHECK(ver_fetch_permits(0, NULL, "") == 1);
    for (int i = 0; i < 4; i++) ver_fetch_result_cleanup(&r[i]);
    o.allow_private = 0; /* the guard on: the loopback page is blocked, by name */
    REQUIRE_OK(ver_fetch_one(u[3], &o, &r[0], &e), e);
    CHECK(r[0].outcome == VER_FETCH_REFUSED && !strcmp(r[0].reason, "blocked") &&
          r[0].private_addrs[0] == '\0');
    ver_fetch_result_cleanup(&r[0]);
    tsrv_stop(&s);
}
