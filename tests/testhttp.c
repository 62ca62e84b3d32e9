/* testhttp.c - the loopback HTTP test server of testhttp.h (a helper, no TEST cases: the Makefile
 * links every C file of tests/ into the runner and collects cases from the test_ files only). */
#include "testhttp.h"

#include "ascii.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TH_HEAD_MAX (64u << 10)
#define TH_BODY_MAX (64u << 20)
#define TH_TICK_MS 20        /* how often waiting threads look at the stop flag */
#define TH_IDLE_MAX_MS 10000 /* a client silent this long mid-request is dropped */

struct th_server {
    int lfd, port;
    th_handler handler;
    void *ud;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;     /* under mu */
    int nconn;    /* connection threads alive, under mu */
    int requests; /* under mu */
    int inflight, max_inflight;
};

struct th_conn {
    struct th_server *s;
    int fd;
};

static int stopping(struct th_server *s)
{
    pthread_mutex_lock(&s->mu);
    int v = s->stop;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Wait until fd is readable, up to ms (-1: until stop). Returns 1 readable, 0 timeout, -1 stop. */
static int wait_readable(struct th_server *s, int fd, int ms)
{
    int waited = 0;
    for (;;) {
        if (stopping(s)) return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, TH_TICK_MS);
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return -1;
        waited += TH_TICK_MS;
        if (ms >= 0 && waited >= ms) return 0;
    }
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read more bytes into b (up to cap in total). Returns bytes read, 0 on EOF, -1 on error. */
static ssize_t read_more(struct th_server *s, int fd, struct buf *b, size_t cap)
{
    if (wait_readable(s, fd, TH_IDLE_MAX_MS) != 1) return -1;
    char tmp[65536];
    size_t room = cap - b->len < sizeof tmp ? cap - b->len : sizeof tmp;
    if (room == 0) return -1;
    ssize_t r = recv(fd, tmp, room, 0);
    if (r > 0 && buf_append(b, tmp, (size_t)r) != 0) return -1;
    return r;
}

int th_header(const struct th_request *rq, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = strstr(rq->head, "\r\n");
    while (p && p[2]) {
        const char *line = p + 2, *end = strstr(line, "\r\n");
        if (!end) break;
        if ((size_t)(end - line) > nl && line[nl] == ':' && ascii_ncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t n = (size_t)(end - v);
            if (n >= cap) n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = end;
    }
    return 0;
}

/* Hold the connection: until the client closes it, th_stop(), or ms pass (-1: no limit). */
static void hold(struct th_server *s, int fd, int ms)
{
    int waited = 0;
    while (ms < 0 || waited < ms) {
        int r = wait_readable(s, fd, TH_TICK_MS);
        if (r < 0) return;
        if (r == 1) {
            char tmp[512];
            if (recv(fd, tmp, sizeof tmp, MSG_DONTWAIT) <= 0) return; /* client left */
        }
        waited += TH_TICK_MS;
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static void serve(struct th_server *s, int fd)
{
    struct buf in = {0}, out = {0};
    struct th_response rs = {.status = 200};
    char method[16] = "", target[1024] = "", cl[32] = "", expect[64] = "";
    size_t head_len = 0;
    char *head = NULL;
    for (;;) { /* the head */
        char *e = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
        if (e) {
            head_len = (size_t)(e - in.data) + 4;
            break;
        }
        if (read_more(s, fd, &in, TH_HEAD_MAX) <= 0) goto done;
    }
    if (!(head = malloc(head_len + 1))) goto done;
    memcpy(head, in.data, head_len);
    head[head_len] = '\0';
    if (sscanf(head, "%15s %1023s", method, target) != 2) goto done;
    struct th_request rq = {.method = method, .target = target, .head = head};
    size_t body_len = 0;
    if (th_header(&rq, "Content-Length", cl, sizeof cl)) {
        char *end = NULL;
        unsigned long long v = strtoull(cl, &end, 10);
        if (end == cl || v > TH_BODY_MAX) goto done;
        body_len = (size_t)v;
    }
    if (th_header(&rq, "Expect", expect, sizeof expect) && ascii_casecmp(expect, "100-continue") == 0)
        if (send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0) goto done;
    while (in.len < head_len + body_len)
        if (read_more(s, fd, &in, head_len + body_len) <= 0) goto done;
    rq.body = in.data + head_len;
    rq.body_len = body_len;

    pthread_mutex_lock(&s->mu);
    rq.seq = s->requests++;
    if (++s->inflight > s->max_inflight) s->max_inflight = s->inflight;
    pthread_mutex_unlock(&s->mu);
    snprintf(rs.ctype, sizeof rs.ctype, "application/json");
    s->handler(s->ud, &rq, &rs);
    if (rs.hang)
        hold(s, fd, -1);
    else if (rs.delay_ms > 0)
        hold(s, fd, rs.delay_ms);
    /* no longer in flight before the answer leaves: the client may send its next request the
     * moment it has the answer, and must not be counted twice */
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    pthread_mutex_unlock(&s->mu);
    if (!rs.hang && !rs.drop && !stopping(s)) {
        if (buf_printf(&out,
                       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                       "Connection: close\r\n%s\r\n",
                       rs.status, reason(rs.status), rs.ctype, rs.body.len, rs.headers) == 0 &&
            buf_append(&out, rs.body.data ? rs.body.data : "", rs.body.len) == 0)
            send_all(fd, out.data, out.len);
    }
done:
    free(head);
    buf_cleanup(&in);
    buf_cleanup(&out);
    buf_cleanup(&rs.body);
}

static void *conn_main(void *arg)
{
    struct th_conn *c = arg;
    struct th_server *s = c->s;
    serve(s, c->fd);
    shutdown(c->fd, SHUT_WR);
    close(c->fd);
    free(c);
    pthread_mutex_lock(&s->mu);
    s->nconn--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct th_server *s = arg;
    for (;;) {
        int r = wait_readable(s, s->lfd, -1);
        if (r < 0) break;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        struct th_conn *c = malloc(sizeof *c);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&s->mu);
        s->nconn++;
        pthread_mutex_unlock(&s->mu);
        if (c) {
            c->s = s;
            c->fd = fd;
        }
        if (!c || pthread_create(&th, &at, conn_main, c) != 0) {
            free(c);
            close(fd);
            pthread_mutex_lock(&s->mu);
            s->nconn--;
            pthread_mutex_unlock(&s->mu);
        }
        pthread_attr_destroy(&at);
    }
    return NULL;
}

int th_start(struct th_server **out, th_handler h, void *ud)
{
    *out = NULL;
    struct th_server *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->handler = h;
    s->ud = ud;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->lfd, 64) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0 ||
        pthread_create(&s->acceptor, NULL, accept_main, s) != 0) {
        if (s->lfd >= 0) close(s->lfd);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return -1;
    }
    s->port = ntohs(a.sin_port);
    *out = s;
    return 0;
}

void th_stop(struct th_server *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->acceptor, NULL);
    pthread_mutex_lock(&s->mu);
    while (s->nconn > 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    close(s->lfd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

int th_port(const struct th_server *s)
{
    return s->port;
}

void th_url(const struct th_server *s, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", s->port, path);
}

int th_requests(struct th_server *s)
{
    pthread_mutex_lock(&s->mu);
    int v = s->requests;
    pthread_mutex_unlock(&s->mu);
    return v;
}

int th_max_inflight(struct th_server *s)
{
    pthread_mutex_lock(&s->mu);
    int v = s->max_inflight;
    pthread_mutex_unlock(&s->mu);
    return v;
}

int th_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}
