/* test_http.c - the HTTP client (common/http) against servers the tests start on 127.0.0.1: the
 * loopback server of testhttp.h for answers, and a raw socket server for broken ones (drips,
 * resets, not-TLS, endless bodies). DNS failures use a name under .invalid (RFC 6761). */
#include "test.h"
#include "testhttp.h"

#include "common/http/http.h"
#include "err.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the answering server */

#define ORDER_MAX 32

struct site {
    pthread_mutex_t mu;
    int other_port;    /* for /to-other */
    int flaky_fail;    /* /flaky: this many 503s first */
    int seen[8];       /* per-route request counts: flaky, limited, maxlag, a0 */
    char order[ORDER_MAX][16]; /* targets of /aN requests, in arrival order */
    int norder;
    char ua[160]; /* User-Agent of the last request */
};

static void site_handler(void *ud, const struct th_request *rq, struct th_response *rs)
{
    struct site *s = ud;
    const char *t = rq->target;
    snprintf(rs->ctype, sizeof rs->ctype, "text/plain");
    char auth[160] = "";
    th_header(rq, "Authorization", auth, sizeof auth);
    pthread_mutex_lock(&s->mu);
    if (!th_header(rq, "User-Agent", s->ua, sizeof s->ua)) s->ua[0] = '\0';
    int n = 0;
    if (!strcmp(t, "/flaky")) n = s->seen[0]++;
    if (!strcmp(t, "/limited")) n = s->seen[1]++;
    if (!strcmp(t, "/maxlag")) n = s->seen[2]++;
    if (!strcmp(t, "/a0")) n = s->seen[3]++;
    if (t[0] == '/' && t[1] == 'a' && s->norder < ORDER_MAX)
        snprintf(s->order[s->norder++], sizeof s->order[0], "%s", t);
    int flaky_fail = s->flaky_fail, other = s->other_port;
    pthread_mutex_unlock(&s->mu);

    if (!strcmp(t, "/ok")) {
        snprintf(rs->headers, sizeof rs->headers, "X-Test:   spaced value  \r\nx-other: 2\r\n");
        buf_puts(&rs->body, "hello");
    } else if (!strcmp(t, "/echo")) {
        buf_printf(&rs->body, "%s [", rq->method);
        buf_append(&rs->body, rq->body, rq->body_len);
        buf_printf(&rs->body, "] auth=%s", auth);
    } else if (!strcmp(t, "/404")) {
        rs->status = 404;
        buf_puts(&rs->body, "missing");
    } else if (!strcmp(t, "/big")) {
        for (int i = 0; i < 4096; i++)
            buf_putc(&rs->body, 'b');
    } else if (!strncmp(t, "/redir/", 7)) {
        long k = strtol(t + 7, NULL, 10);
        if (k <= 0) {
            buf_puts(&rs->body, "end");
        } else {
            rs->status = 302;
            snprintf(rs->headers, sizeof rs->headers, "Location: /redir/%ld\r\n", k - 1);
        }
    } else if (!strcmp(t, "/see-other") || !strcmp(t, "/temp")) {
        rs->status = t[1] == 's' ? 303 : 307;
        snprintf(rs->headers, sizeof rs->headers, "Location: /echo\r\n");
    } else if (!strcmp(t, "/to-ftp")) {
        rs->status = 302;
        snprintf(rs->headers, sizeof rs->headers, "Location: ftp://127.0.0.1/\r\n");
    } else if (!strcmp(t, "/to-other")) {
        rs->status = 307;
        snprintf(rs->headers, sizeof rs->headers, "Location: http://127.0.0.1:%d/echo\r\n", other);
    } else if (!strcmp(t, "/flaky")) {
        rs->status = n < flaky_fail ? 503 : 200;
        buf_puts(&rs->body, n < flaky_fail ? "busy" : "recovered");
    } else if (!strcmp(t, "/limited")) {
        rs->status = n == 0 ? 429 : 200;
        snprintf(rs->headers, sizeof rs->headers, "Retry-After: %s\r\n", n == 0 ? "100" : "0");
    } else if (!strcmp(t, "/maxlag")) {
        buf_puts(&rs->body, n == 0 ? "{\"error\":{\"code\":\"maxlag\"}}" : "fresh");
        if (n == 0) snprintf(rs->headers, sizeof rs->headers, "Retry-After: 1\r\n");
    } else if (t[0] == '/' && t[1] == 'a') {
        rs->status = !strcmp(t, "/a0") && n == 0 ? 503 : 200;
    } else if (!strcmp(t, "http://example.invalid/viaproxy")) {
        buf_puts(&rs->body, "via proxy");
    } else {
        rs->status = 404;
    }
}

struct env {
    struct site s;
    struct th_server *srv;
};

static int env_start(struct env *e)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->s.mu, NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
    return th_start(&e->srv, site_handler, &e->s);
}

static void env_stop(struct env *e)
{
    th_stop(e->srv);
    pthread_mutex_destroy(&e->s.mu);
    curl_global_cleanup();
}

/* A client with allow_private (loopback servers) unless opts says otherwise. */
static struct http_client *client(const struct http_opts *o)
{
    struct http_opts d = {.allow_private = 1};
    struct http_client *c = NULL;
    struct err e = {0};
    if (http_client_new(&c, o ? o : &d, &e) != ERR_OK) fprintf(stderr, "  %s\n", e.msg);
    return c;
}

/* Run one request; the result must be cleaned by the caller. */
static int run1(struct http_client *c, const struct http_request *rq, struct http_result *r)
{
    struct err e = {0};
    int rc = http_run(c, rq, 1, r, &e);
    if (rc) fprintf(stderr, "  http_run: %s\n", e.msg);
    return rc;
}

static void show(const struct http_result *r, int want)
{
    if (r->fail != want)
        fprintf(stderr, "  got %s (%s), want %s\n", http_fail_name(r->fail), r->why,
                http_fail_name(want));
}

/* ---------------------------------------------------------------- the raw server */

enum { RAW_DRIP, RAW_CLOSE, RAW_TRUNC, RAW_NOT_TLS, RAW_BIGHEAD, RAW_ENDLESS, RAW_EMPTY_GZIP };

struct raw {
    int lfd, port, mode;
    atomic_int stop;
    pthread_t th;
};

static int raw_send(int fd, const void *p, size_t n)
{
    return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Read the request head (at most 1 s). */
static void raw_read_head(int fd)
{
    char req[8192];
    size_t len = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (len < sizeof req - 1 && poll(&p, 1, 1000) > 0) {
        ssize_t k = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (k <= 0) return;
        len += (size_t)k;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n")) return;
    }
}

static void raw_serve(struct raw *r, int fd)
{
    static const char gz_head[10] = {0x1f, (char)0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    static const char empty_block[5] = {0, 0, 0, (char)0xff, (char)0xff}; /* stored, 0 bytes */
    char chunk[4096];
    if (r->mode == RAW_NOT_TLS) { /* answers in plain text before anything is read */
        raw_send(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 47);
        raw_read_head(fd);
        return;
    }
    raw_read_head(fd);
    switch (r->mode) {
    case RAW_DRIP: /* 1 byte every 200 ms */
        if (raw_send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 40)) return;
        for (int i = 0; i < 100 && !atomic_load(&r->stop); i++) {
            if (raw_send(fd, "d", 1)) return;
            usleep(200 * 1000);
        }
        break;
    case RAW_TRUNC:
        raw_send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", 45);
        break;
    case RAW_BIGHEAD:
        if (raw_send(fd, "HTTP/1.1 200 OK\r\n", 17)) return;
        memset(chunk, 'h', sizeof chunk);
        memcpy(chunk, "X-Pad: ", 7);
        memcpy(chunk + sizeof chunk - 2, "\r\n", 2);
        for (int i = 0; i < 20; i++) /* 80 KB of headers */
            if (raw_send(fd, chunk, sizeof chunk)) return;
        raw_send(fd, "Content-Length: 0\r\n\r\n", 21);
        break;
    case RAW_ENDLESS:
    case RAW_EMPTY_GZIP:
        if (r->mode == RAW_ENDLESS) {
            if (raw_send(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 38)) return;
            memset(chunk, 'x', sizeof chunk);
        } else {
            if (raw_send(fd, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n",
                         62) ||
                raw_send(fd, gz_head, sizeof gz_head))
                return;
            for (size_t i = 0; i + sizeof empty_block <= sizeof chunk; i += sizeof empty_block)
                memcpy(chunk + i, empty_block, sizeof empty_block);
        }
        while (!atomic_load(&r->stop) &&
               raw_send(fd, chunk, sizeof chunk / sizeof empty_block * sizeof empty_block) == 0) {
        }
        break;
    default: /* RAW_CLOSE: no answer at all */
        break;
    }
}

static void *raw_main(void *arg)
{
    struct raw *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd p = {.fd = r->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(r->lfd, NULL, NULL);
        if (fd < 0) continue;
        raw_serve(r, fd);
        close(fd);
    }
    return NULL;
}

static int raw_start(struct raw *r, int mode)
{
    memset(r, 0, sizeof *r);
    r->mode = mode;
    atomic_init(&r->stop, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(r->lfd, 8) != 0 ||
        getsockname(r->lfd, (struct sockaddr *)&a, &al) != 0 ||
        pthread_create(&r->th, NULL, raw_main, r) != 0) {
        if (r->lfd >= 0) close(r->lfd);
        return -1;
    }
    r->port = ntohs(a.sin_port);
    return 0;
}

static void raw_stop(struct raw *r)
{
    atomic_store(&r->stop, 1);
    pthread_join(r->th, NULL);
    close(r->lfd);
}

/* One request (limits `lim`) to a raw server started for it in `mode`, over `scheme`; the result
 * must be cleaned by the caller. Returns 0, or -1 when the server or the client did not start. */
static int raw_fetch(int mode, const char *scheme, struct http_limits lim, struct http_result *r)
{
    struct raw s;
    memset(r, 0, sizeof *r);
    if (raw_start(&s, mode) != 0) return -1;
    char url[64];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d/x", scheme, s.port);
    struct http_client *c = client(NULL);
    struct http_request rq = {.url = url, .lim = lim};
    int rc = c ? run1(c, &rq, r) : -1;
    http_client_free(c);
    raw_stop(&s);
    return rc;
}

/* ---------------------------------------------------------------- cases */

TEST(http_fail_names)
{
    static const char *const want[] = {"ok",   "dns",       "refused",   "closed",
                                       "timeout", "tls",    "http",      "redirects",
                                       "too-large", "blocked", "bad-url", "other"};
    for (int i = 0; i < HTTP_FAIL_COUNT; i++)
        CHECK(!strcmp(http_fail_name(i), want[i]));
    CHECK(!strcmp(http_fail_name(-1), "unknown") && !strcmp(http_fail_name(HTTP_FAIL_COUNT), "unknown"));
}

/* GET, POST and a 404: status, headers, body, final URL, address, timings, the User-Agent
 * policy. */
TEST(http_get_and_post)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    struct http_client *c = client(NULL);
    REQUIRE(c);
    char u0[128], u1[128], u2[128];
    th_url(e.srv, "/ok", u0, sizeof u0);
    th_url(e.srv, "/echo", u1, sizeof u1);
    th_url(e.srv, "/404", u2, sizeof u2);
    const char *hdrs[] = {"Authorization: Bearer k1", "X-Mine: yes", NULL};
    struct http_request rq[3] = {{.url = u0},
                                 {.url = u1, .headers = hdrs, .body = "a\0b", .body_len = 3},
                                 {.url = u2}};
    struct http_result r[3];
    struct err err = {0};
    REQUIRE_OK(http_run(c, rq, 3, r, &err), err);
    CHECK(r[0].fail == HTTP_OK && r[0].status == 200 && r[0].why[0] == '\0');
    CHECK(r[0].body.len == 5 && !strcmp(r[0].body.data, "hello"));
    CHECK(r[0].content_type && !strcmp(r[0].content_type, "text/plain"));
    CHECK(r[0].final_url && !strcmp(r[0].final_url, u0));
    size_t len = 0;
    const char *v = http_header(&r[0], "x-test", &len);
    CHECK(v && len == 12 && !strncmp(v, "spaced value", len));
    v = http_header(&r[0], "X-OTHER", &len);
    CHECK(v && len == 1 && *v == '2');
    CHECK(!http_header(&r[0], "X-Absent", &len) && !http_header(&r[0], "X-Tes", &len));
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", th_port(e.srv));
    CHECK(!strcmp(r[0].addr, addr) && !strcmp(r[0].private_addrs, addr));
    CHECK(r[0].attempts == 1 && r[0].redirects == 0 && r[0].seconds > 0 && r[0].wait_seconds == 0);
    CHECK(r[1].fail == HTTP_OK && r[1].body.len == strlen("POST [") + 3 + strlen("] auth=Bearer k1"));
    CHECK(r[1].body.data && !memcmp(r[1].body.data, "POST [a\0b] auth=Bearer k1", r[1].body.len));
    CHECK(r[2].fail == HTTP_FAIL_HTTP && r[2].status == 404 && !strcmp(r[2].why, "HTTP 404"));
    CHECK(r[2].body.data && !strcmp(r[2].body.data, "missing")); /* kept: APIs put reasons there */
    pthread_mutex_lock(&e.s.mu);
    CHECK(!strcmp(e.s.ua, HTTP_USER_AGENT) && !strncmp(e.s.ua, "vericite/" VERICITE_VERSION " (", strlen("vericite/" VERICITE_VERSION " (")));
    pthread_mutex_unlock(&e.s.mu);
    for (int i = 0; i < 3; i++)
        http_result_cleanup(&r[i]);
    CHECK(r[0].body.data == NULL && r[0].final_url == NULL);
    http_client_free(c);

    /* a contact goes into the default User-Agent; user_agent replaces it */
    struct http_opts o = {.allow_private = 1, .contact = "mailto:editor@example.org"};
    REQUIRE((c = client(&o)));
    REQUIRE(run1(c, &rq[0], &r[0]) == ERR_OK);
    pthread_mutex_lock(&e.s.mu);
    CHECK(!strcmp(e.s.ua, "vericite/" VERICITE_VERSION " (+mailto:editor@example.org)"));
    pthread_mutex_unlock(&e.s.mu);
    http_result_cleanup(&r[0]);
    http_client_free(c);
    o.user_agent = "MyBot/2";
    REQUIRE((c = client(&o)));
    REQUIRE(run1(c, &rq[0], &r[0]) == ERR_OK);
    pthread_mutex_lock(&e.s.mu);
    CHECK(!strcmp(e.s.ua, "MyBot/2"));
    pthread_mutex_unlock(&e.s.mu);
    http_result_cleanup(&r[0]);
    http_client_free(c);
    env_stop(&e);
}

TEST(http_fail_dns)
{
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct http_client *c = client(NULL);
    REQUIRE(c);
    struct http_request rq = {.url = "http://nonexistent.invalid/page", .lim = {.connect_ms = 3000}};
    struct http_result r;
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    show(&r, HTTP_FAIL_DNS);
    CHECK(r.fail == HTTP_FAIL_DNS && t_contains(r.why, "nonexistent.invalid"));
    CHECK(r.status == 0 && r.body.len == 0 && r.addr[0] == '\0');
    http_result_cleanup(&r);
    http_client_free(c);
    curl_global_cleanup();
}

TEST(http_fail_refused)
{
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    int port = th_free_port();
    REQUIRE(port > 0);
    char url[64], want[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
    snprintf(want, sizeof want, "connection refused by 127.0.0.1:%d", port);
    struct http_client *c = client(NULL);
    REQUIRE(c);
    struct http_request rq = {.url = url};
    struct http_result r;
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    show(&r, HTTP_FAIL_REFUSED);
    CHECK(r.fail == HTTP_FAIL_REFUSED && !strcmp(r.why, want));
    http_result_cleanup(&r);
    /* retried as a connection error when asked: 1 + 1 attempts */
    rq.lim.retries = 1;
    rq.lim.retry_on = HTTP_RETRY_NET;
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    CHECK(r.fail == HTTP_FAIL_REFUSED && r.attempts == 2 && r.wait_seconds > 0.4);
    http_result_cleanup(&r);
    http_client_free(c);
    curl_global_cleanup();
}

/* Timeouts name the limit that fired; the low-speed limit only exists when the request sets it. */
TEST(http_fail_timeouts)
{
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    struct http_result r;
    REQUIRE(raw_fetch(RAW_DRIP, "http", (struct http_limits){.total_ms = 700}, &r) == 0);
    show(&r, HTTP_FAIL_TIMEOUT);
    CHECK(r.fail == HTTP_FAIL_TIMEOUT && !strcmp(r.why, "no answer in 0.7 s total"));
    CHECK(r.status == 200 && r.body.len == 0); /* the partial body is not kept */
    http_result_cleanup(&r);
    struct http_limits slow = {.total_ms = 10000, .low_speed_bps = 100, .low_speed_s = 1};
    REQUIRE(raw_fetch(RAW_DRIP, "http", slow, &r) == 0);
    show(&r, HTTP_FAIL_TIMEOUT);
    CHECK(r.fail == HTTP_FAIL_TIMEOUT && !strcmp(r.why, "slower than 100 bytes/s for 1 s"));
    CHECK(r.seconds < 9);
    http_result_cleanup(&r);
    curl_global_cleanup();
}

/* Broken connections: closed without an answer, a body cut short; https:// to a server that
 * speaks plain HTTP (the TLS handshake fails). */
TEST(http_fail_closed_and_tls)
{
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    static const struct {
        int mode, fail;
        const char *scheme, *want;
    } cases[] = {{RAW_CLOSE, HTTP_FAIL_CLOSED, "http", "empty reply"},
                 {RAW_TRUNC, HTTP_FAIL_CLOSED, "http", "before the whole body arrived"},
                 {RAW_NOT_TLS, HTTP_FAIL_TLS, "https", "TLS with 127.0.0.1 failed"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_result r;
        CHECK(raw_fetch(cases[i].mode, cases[i].scheme, (struct http_limits){.total_ms = 5000}, &r) == 0);
        show(&r, cases[i].fail);
        CHECK(r.fail == cases[i].fail && t_contains(r.why, cases[i].want));
        http_result_cleanup(&r);
    }
    curl_global_cleanup();
}

/* The body cap: announced (Content-Length), decoded (no length), on the wire (a gzip stream that
 * decodes to nothing), and the headers cap. Each message names the cap. */
TEST(http_fail_too_large)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    struct http_client *c = client(NULL);
    REQUIRE(c);
    char url[128];
    th_url(e.srv, "/big", url, sizeof url);
    struct http_request rq = {.url = url, .lim = {.max_bytes = 1000}};
    struct http_result r;
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    show(&r, HTTP_FAIL_TOO_LARGE);
    CHECK(r.fail == HTTP_FAIL_TOO_LARGE && !strcmp(r.why, "Content-Length over the limit of 1000 bytes"));
    http_result_cleanup(&r);
    rq.lim.max_bytes = 4096; /* exactly the size: fine */
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    CHECK(r.fail == HTTP_OK && r.body.len == 4096);
    http_result_cleanup(&r);
    http_client_free(c);
    env_stop(&e);

    static const struct {
        int mode;
        const char *want;
    } cases[] = {{RAW_ENDLESS, "body over the limit of 65536 bytes"},
                 {RAW_EMPTY_GZIP, "body on the wire over the limit of 65536 bytes"},
                 {RAW_BIGHEAD, "response headers over the limit of 65536 bytes"}};
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_limits lim = {.max_bytes = 65536, .total_ms = 10000};
        CHECK(raw_fetch(cases[i].mode, "http", lim, &r) == 0);
        if (strcmp(r.why, cases[i].want)) fprintf(stderr, "  case %zu: %s\n", i, r.why);
        CHECK(r.fail == HTTP_FAIL_TOO_LARGE && !strcmp(r.why, cases[i].want));
        CHECK(r.body.len == 0);
        http_result_cleanup(&r);
    }
    curl_global_cleanup();
}

/* The guard: loopback refused before any request reaches it, naming the address; an allow_hosts
 * entry lets exactly that address and port through and is reported in private_addrs. */
TEST(http_guard_blocks)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    struct http_client *c = NULL;
    struct err err = {0};
    REQUIRE_OK(http_client_new(&c, NULL, &err), err); /* guard on */
    char url[128], lh[128];
    th_url(e.srv, "/ok", url, sizeof url);
    snprintf(lh, sizeof lh, "http://localhost:%d/ok", th_port(e.srv));
    struct http_request rq[2] = {{.url = url}, {.url = lh}};
    struct http_result r[2];
    REQUIRE_OK(http_run(c, rq, 2, r, &err), err);
    CHECK(r[0].fail == HTTP_FAIL_BLOCKED && !strcmp(r[0].why, "refused to connect to non-public address 127.0.0.1"));
    CHECK(r[1].fail == HTTP_FAIL_BLOCKED && r[0].status == 0 && r[0].attempts == 1);
    CHECK(th_requests(e.srv) == 0);
    for (int i = 0; i < 2; i++)
        http_result_cleanup(&r[i]);
    http_client_free(c);

    char allow[64];
    snprintf(allow, sizeof allow, "127.0.0.1:%d", th_port(e.srv));
    const char *list[] = {allow, NULL};
    struct http_opts o = {.allow_hosts = list};
    REQUIRE_OK(http_client_new(&c, &o, &err), err);
    REQUIRE(run1(c, &rq[0], &r[0]) == ERR_OK);
    CHECK(r[0].fail == HTTP_OK && !strcmp(r[0].private_addrs, allow));
    CHECK(http_guard_permits(0, NULL, r[0].private_addrs) == 0);
    CHECK(http_guard_permits(0, list, r[0].private_addrs) == 1);
    CHECK(http_guard_permits(1, NULL, r[0].private_addrs) == 1);
    http_result_cleanup(&r[0]);
    char to_ftp[128];
    th_url(e.srv, "/to-ftp", to_ftp, sizeof to_ftp);
    struct http_request rf = {.url = to_ftp, .lim = {.max_redirects = 3}};
    REQUIRE(run1(c, &rf, &r[0]) == ERR_OK);
    CHECK(r[0].fail == HTTP_FAIL_BLOCKED && t_contains(r[0].why, "redirect refused") &&
          !strcmp(r[0].final_url, "ftp://127.0.0.1/"));
    http_result_cleanup(&r[0]);
    http_client_free(c);
    const char *bad[] = {"localhost:80", NULL};
    o.allow_hosts = bad;
    CHECK(http_client_new(&c, &o, &err) == ERR_ARG && c == NULL);
    env_stop(&e);
}

TEST(http_guard_permits_table)
{
    const char *hosts[] = {"127.0.0.1:8080", "[::1]:9000", NULL};
    static const struct {
        int allow_private;
        int with_hosts;
        const char *addrs;
        int want;
    } cases[] = {
        {0, 0, "", 1},
        {0, 0, NULL, 1},
        {0, 0, "127.0.0.1:8080", 0},
        {1, 0, "127.0.0.1:8080", 1},
        {1, 0, "*", 1},
        {0, 1, "*", 0},
        {0, 1, "127.0.0.1:8080", 1},
        {0, 1, "[::1]:9000", 1},
        {0, 1, "127.0.0.1:8080,[::1]:9000", 1},
        {0, 1, "127.0.0.1:8080,10.0.0.1:80", 0},
        {0, 1, "127.0.0.1:8081", 0},
        {0, 1, "garbage", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = http_guard_permits(cases[i].allow_private, cases[i].with_hosts ? hosts : NULL,
                                     cases[i].addrs);
        if (got != cases[i].want) fprintf(stderr, "  case %zu: %d\n", i, got);
        CHECK(got == cases[i].want);
    }
}

TEST(http_bad_urls)
{
    REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    const char *urls[] = {NULL, "", "ftp://127.0.0.1/", "http://", "http:///x", "not a url",
                          "//127.0.0.1/x"};
    enum { N = sizeof urls / sizeof urls[0] };
    struct http_request rq[N];
    struct http_result r[N];
    memset(rq, 0, sizeof rq);
    for (int i = 0; i < N; i++)
        rq[i].url = urls[i];
    struct http_client *c = client(NULL);
    REQUIRE(c);
    struct err err = {0};
    REQUIRE_OK(http_run(c, rq, N, r, &err), err);
    for (int i = 0; i < N; i++) {
        show(&r[i], HTTP_FAIL_BAD_URL);
        CHECK(r[i].fail == HTTP_FAIL_BAD_URL && r[i].why[0] && r[i].attempts == 0);
        http_result_cleanup(&r[i]);
    }
    int cred = 0;
    char why[128];
    CHECK(http_url_check("https://user:secret@example.org/x", &cred, why, sizeof why) == HTTP_OK && cred);
    CHECK(http_url_check("gopher://example.org/", &cred, why, sizeof why) == HTTP_FAIL_BLOCKED &&
          !cred && t_contains(why, "gopher"));
    CHECK(http_url_check("http://exa mple.org/", NULL, why, sizeof why) == HTTP_FAIL_BAD_URL);
    /* the one "is this a web address" test: scheme only, any case */
    CHECK(http_is_web_url("http://a") && http_is_web_url("HTTPS://a/b") && http_is_web_url("Http://"));
    CHECK(!http_is_web_url("javascript:alert(1)") && !http_is_web_url("ftp://a") && !http_is_web_url("http:/a") &&
          !http_is_web_url("/tmp/http://x") && !http_is_web_url("") && !http_is_web_url(NULL));
    http_client_free(c);
    curl_global_cleanup();
}

/* Redirects: none followed by default, chains up to max_redirects, 303 turns POST into GET, 307
 * keeps it, and credentials are not sent to another origin. */
TEST(http_redirects)
{
    struct env e, e2;
    REQUIRE(env_start(&e) == 0);
    REQUIRE(env_start(&e2) == 0);
    e.s.other_port = th_port(e2.srv);
    struct http_client *c = client(NULL);
    REQUIRE(c);
    char u[5][128];
    th_url(e.srv, "/redir/2", u[0], sizeof u[0]);
    th_url(e.srv, "/see-other", u[1], sizeof u[1]);
    th_url(e.srv, "/temp", u[2], sizeof u[2]);
    th_url(e.srv, "/to-other", u[3], sizeof u[3]);
    const char *auth[] = {"Authorization: Bearer secret", NULL};
    struct http_request rq = {.url = u[0]};
    struct http_result r;
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    CHECK(r.fail == HTTP_FAIL_REDIRECTS && r.status == 302 && t_contains(r.why, "not followed"));
    http_result_cleanup(&r);
    rq.lim.max_redirects = 1;
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    CHECK(r.fail == HTTP_FAIL_REDIRECTS && !strcmp(r.why, "more than 1 redirects"));
    CHECK(t_contains(r.final_url, "/redir/1"));
    http_result_cleanup(&r);
    rq.lim.max_redirects = 2;
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    CHECK(r.fail == HTTP_OK && r.redirects == 2 && t_contains(r.final_url, "/redir/0"));
    CHECK(r.body.data && !strcmp(r.body.data, "end"));
    http_result_cleanup(&r);

    rq = (struct http_request){.url = u[1], .body = "x=1", .body_len = 3, .headers = auth,
                               .lim = {.max_redirects = 1}};
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    CHECK(r.fail == HTTP_OK && r.body.data && !strcmp(r.body.data, "GET [] auth=Bearer secret"));
    http_result_cleanup(&r);
    rq.url = u[2];
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    CHECK(r.fail == HTTP_OK && r.body.data && !strcmp(r.body.data, "POST [x=1] auth=Bearer secret"));
    http_result_cleanup(&r);
    rq.url = u[3]; /* 307 to the other server: the body goes along, the key does not */
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    CHECK(r.fail == HTTP_OK && r.body.data && !strcmp(r.body.data, "POST [x=1] auth="));
    http_result_cleanup(&r);
    http_client_free(c);
    env_stop(&e2);
    env_stop(&e);
}

static int retry_maxlag(void *ud, const struct http_result *r)
{
    (void)ud;
    return r->fail == HTTP_OK && r->body.data && strstr(r->body.data, "\"maxlag\"") != NULL;
}

/* Retries: on the chosen conditions only, after the backoff or Retry-After (capped), and on a
 * caller's test of the answer. */
TEST(http_retries)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    e.s.flaky_fail = 2;
    struct http_opts o = {.allow_private = 1, .backoff_base_ms = 100, .retry_after_max_s = 1};
    struct http_client *c = client(&o);
    REQUIRE(c);
    char u[3][128];
    th_url(e.srv, "/flaky", u[0], sizeof u[0]);
    th_url(e.srv, "/limited", u[1], sizeof u[1]);
    th_url(e.srv, "/maxlag", u[2], sizeof u[2]);
    struct http_request rq = {.url = u[0], .lim = {.retries = 3, .retry_on = HTTP_RETRY_429}};
    struct http_result r;
    REQUIRE(run1(c, &rq, &r) == ERR_OK); /* 503 is not a chosen condition: no retry */
    CHECK(r.fail == HTTP_FAIL_HTTP && r.status == 503 && r.attempts == 1);
    http_result_cleanup(&r);
    rq.lim.retry_on = HTTP_RETRY_5XX;
    REQUIRE(run1(c, &rq, &r) == ERR_OK); /* second 503, then 200 */
    CHECK(r.fail == HTTP_OK && r.attempts == 2 && !strcmp(r.body.data, "recovered"));
    CHECK(r.wait_seconds >= 0.09);
    http_result_cleanup(&r);

    rq = (struct http_request){.url = u[1], .lim = {.retries = 1, .retry_on = HTTP_RETRY_TRANSIENT}};
    REQUIRE(run1(c, &rq, &r) == ERR_OK); /* Retry-After: 100, capped at 1 s */
    CHECK(r.fail == HTTP_OK && r.attempts == 2 && r.wait_seconds >= 0.95);
    http_result_cleanup(&r);

    rq = (struct http_request){.url = u[2], .lim = {.retries = 2}, .retry_if = retry_maxlag};
    REQUIRE(run1(c, &rq, &r) == ERR_OK);
    CHECK(r.fail == HTTP_OK && r.attempts == 2 && !strcmp(r.body.data, "fresh"));
    http_result_cleanup(&r);
    http_client_free(c);
    env_stop(&e);
}

/* While a request waits for its retry, requests not started yet do not go to that host. */
TEST(http_retry_holds_the_host)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    struct http_opts o = {.allow_private = 1, .max_per_host = 1, .backoff_base_ms = 150};
    struct http_client *c = client(&o);
    REQUIRE(c);
    enum { N = 4 };
    char u[N][128];
    struct http_request rq[N];
    struct http_result r[N];
    memset(rq, 0, sizeof rq);
    for (int i = 0; i < N; i++) {
        char path[16];
        snprintf(path, sizeof path, "/a%d", i);
        th_url(e.srv, path, u[i], sizeof u[i]);
        rq[i] = (struct http_request){.url = u[i], .lim = {.retries = 1, .retry_on = HTTP_RETRY_5XX}};
    }
    struct err err = {0};
    REQUIRE_OK(http_run(c, rq, N, r, &err), err);
    for (int i = 0; i < N; i++) {
        CHECK(r[i].fail == HTTP_OK);
        http_result_cleanup(&r[i]);
    }
    static const char *const want[] = {"/a0", "/a0", "/a1", "/a2", "/a3"};
    pthread_mutex_lock(&e.s.mu);
    CHECK(e.s.norder == 5);
    for (int i = 0; i < 5 && i < e.s.norder; i++) {
        if (strcmp(e.s.order[i], want[i])) fprintf(stderr, "  request %d went to %s\n", i, e.s.order[i]);
        CHECK(!strcmp(e.s.order[i], want[i]));
    }
    pthread_mutex_unlock(&e.s.mu);
    http_client_free(c);
    env_stop(&e);
}

/* Proxies: with the guard off the environment's proxy is used for outside hosts, never for
 * loopback; with the guard on never. */
TEST(http_proxy_policy)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    char proxy[128], ok[128];
    th_url(e.srv, "", proxy, sizeof proxy);
    th_url(e.srv, "/ok", ok, sizeof ok);
    const char *saved = getenv("http_proxy");
    char keep[256] = "";
    if (saved) snprintf(keep, sizeof keep, "%s", saved);
    setenv("http_proxy", proxy, 1);
    struct http_client *c = client(NULL);
    REQUIRE(c);
    struct http_request rq[2] = {{.url = "http://example.invalid/viaproxy"}, {.url = ok}};
    struct http_result r[2];
    struct err err = {0};
    REQUIRE_OK(http_run(c, rq, 2, r, &err), err);
    CHECK(r[0].fail == HTTP_OK && r[0].body.data && !strcmp(r[0].body.data, "via proxy"));
    CHECK(r[1].fail == HTTP_OK && !strcmp(r[1].body.data, "hello"));
    for (int i = 0; i < 2; i++)
        http_result_cleanup(&r[i]);
    http_client_free(c);
    int before = th_requests(e.srv);
    struct http_opts guarded = {0};
    REQUIRE((c = client(&guarded)));
    REQUIRE(run1(c, &rq[0], &r[0]) == ERR_OK);
    CHECK(r[0].fail == HTTP_FAIL_DNS); /* straight to the name, which does not resolve */
    CHECK(th_requests(e.srv) == before);
    http_result_cleanup(&r[0]);
    http_client_free(c);
    if (saved)
        setenv("http_proxy", keep, 1);
    else
        unsetenv("http_proxy");
    env_stop(&e);
}

static void count_done(void *ud, size_t i, const struct http_result *res)
{
    int *seen = ud;
    if (i < 4 && res->final_url) seen[i]++;
}

/* Caller errors are ERR_ARG before anything is sent; on_done sees every request once. */
TEST(http_bad_calls_and_progress)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    int seen[4] = {0};
    struct http_opts o = {.allow_private = 1, .on_done = count_done, .on_done_ud = seen};
    struct http_client *c = client(&o);
    REQUIRE(c);
    char url[128];
    th_url(e.srv, "/ok", url, sizeof url);
    const char *crlf[] = {"X-A: 1\r\nX-Injected: 2", NULL};
    const char *nocolon[] = {"X-A", NULL};
    struct http_request bad[3] = {{.url = url, .headers = crlf},
                                  {.url = url, .headers = nocolon},
                                  {.url = url, .method = "get"}};
    struct http_result r[4];
    struct err err = {0};
    for (int i = 0; i < 3; i++)
        CHECK(http_run(c, &bad[i], 1, r, &err) == ERR_ARG);
    CHECK(th_requests(e.srv) == 0 && seen[0] == 0);
    CHECK(http_run(c, NULL, 1, r, &err) == ERR_ARG);
    CHECK(http_run(c, bad, 0, NULL, &err) == ERR_OK);
    struct http_request good[4] = {{.url = url}, {.url = url, .method = "HEAD"}, {.url = "bad"},
                                   {.url = url, .method = "DELETE"}};
    REQUIRE_OK(http_run(c, good, 4, r, &err), err);
    CHECK(r[0].fail == HTTP_OK && r[1].fail == HTTP_OK && r[1].body.len == 0);
    CHECK(r[2].fail == HTTP_FAIL_BAD_URL && r[3].status == 200);
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
    for (int i = 0; i < 4; i++)
        http_result_cleanup(&r[i]);
    http_client_free(c);
    struct http_opts bado = {.max_parallel = HTTP_MAX_PARALLEL + 1};
    CHECK(http_client_new(&c, &bado, &err) == ERR_ARG && c == NULL);
    env_stop(&e);
}

struct worker {
    const char *url;
    int ok;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct http_client *c = client(NULL);
    enum { N = 6 };
    struct http_request rq[N];
    struct http_result r[N];
    struct err err = {0};
    memset(rq, 0, sizeof rq);
    for (int i = 0; i < N; i++)
        rq[i].url = w->url;
    for (int round = 0; c && round < 2; round++) { /* the second batch reuses the client */
        if (http_run(c, rq, N, r, &err) != ERR_OK) break;
        for (int i = 0; i < N; i++) {
            w->ok += r[i].fail == HTTP_OK && r[i].body.data && !strcmp(r[i].body.data, "hello");
            http_result_cleanup(&r[i]);
        }
    }
    http_client_free(c);
    return NULL;
}

/* One client per thread, several threads at once (what `make tsan` runs). */
TEST(http_clients_in_threads)
{
    struct env e;
    REQUIRE(env_start(&e) == 0);
    char url[128];
    th_url(e.srv, "/ok", url, sizeof url);
    enum { T = 4 };
    pthread_t th[T];
    struct worker w[T];
    int started = 0;
    for (int i = 0; i < T; i++) {
        w[i] = (struct worker){.url = url};
        if (pthread_create(&th[i], NULL, worker_main, &w[i]) == 0) started++;
        else break;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    CHECK(started == T);
    for (int i = 0; i < started; i++)
        CHECK(w[i].ok == 12);
    CHECK(th_requests(e.srv) == 12 * started);
    env_stop(&e);
}
