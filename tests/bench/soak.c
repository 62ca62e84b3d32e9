/* soak.c - the service's soak load generator (tests/bench/soak.sh): slow connections that
 * trickle header bytes (from many loopback addresses, reconnecting when the server closes them)
 * beside normal keep-alive clients cycling through a file of requests, all in one epoll loop.
 * Prints the normal clients' requests, errors and latency percentiles. Numbers only.
 *
 * usage: soak PORT REQUESTS_FILE [-slow N] [-ips K] [-trickle S] [-clients C] [-seconds S]
 *             [-requests R]
 * REQUESTS_FILE: one request per line, "GET PATH" or "POST PATH JSON". The run ends after
 * -seconds, or once -requests normal requests have been answered (whichever is given). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { SLOW = 0, CLIENT };

struct conn {
    enum kind kind;
    int fd, idx;
    double next;        /* SLOW: the next byte is due then (0: not connected yet) */
    /* CLIENT */
    const char *req;    /* the request being sent */
    size_t req_len, sent;
    char resp[1 << 16];
    size_t got;
    double t0;          /* the request's start (connect included when it had to connect) */
    int busy;           /* a request is out */
};

struct soak {
    int port, nslow, nips, nclients;
    double trickle, seconds;
    long max_requests;
    char **reqs;        /* (nreqs) whole HTTP requests */
    size_t *req_lens;
    int nreqs, next_req;
    int ep;
    struct conn *slow, *cl;
    double *lat;        /* (done) milliseconds */
    long done, cap, errors, slow_connects, slow_closed, slow_failed;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_from(int port, const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET}, sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (inet_pton(AF_INET, from, &src.sin_addr) != 1 || bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void watch(struct soak *s, struct conn *c, unsigned events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) epoll_ctl(s->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void drop(struct soak *s, struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

/* ---------------------------------------------------------------- slow connections */

static void slow_open(struct soak *s, struct conn *c, double now)
{
    char from[32];
    snprintf(from, sizeof from, "127.0.%d.%d", 1 + c->idx % s->nips / 250, 1 + c->idx % s->nips % 250);
    c->fd = open_from(s->port, from);
    if (c->fd < 0) {
        s->slow_failed++;
        c->next = now + 1; /* try again in a second */
        return;
    }
    s->slow_connects++;
    c->next = now + 0.05; /* the first bytes once connected */
    c->sent = 0;
    watch(s, c, EPOLLIN | EPOLLRDHUP);
}

/* Send the slow connection's next byte(s) when due. */
static void slow_tick(struct soak *s, struct conn *c, double now)
{
    if (c->next > now) return;
    if (c->fd < 0) {
        slow_open(s, c, now);
        return;
    }
    static const char head[] = "GET /healthz HTTP/1.1\r\nHost: soak\r\nX-Slow: ";
    ssize_t w = c->sent ? send(c->fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT)
                        : send(c->fd, head, sizeof head - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno != EAGAIN) {
        s->slow_closed++;
        drop(s, c);
        c->next = now; /* reconnect now */
        return;
    }
    c->sent += w > 0 ? (size_t)w : 0;
    c->next = now + s->trickle;
}

/* ---------------------------------------------------------------- normal clients */

static void client_start(struct soak *s, struct conn *c, double now)
{
    c->req = s->reqs[s->next_req];
    c->req_len = s->req_lens[s->next_req];
    s->next_req = (s->next_req + 1) % s->nreqs;
    c->sent = c->got = 0;
    c->busy = 1;
    c->t0 = now;
    if (c->fd < 0 && (c->fd = open_from(s->port, "127.0.0.1")) < 0) {
        s->errors++;
        c->busy = 0;
        return;
    }
    watch(s, c, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
}

/* The response in c->resp is complete: 1 with *status and *keep set, 0 not yet, -1 malformed. */
static int response_done(struct conn *c, int *status, int *keep)
{
    c->resp[c->got < sizeof c->resp ? c->got : sizeof c->resp - 1] = '\0';
    char *end = strstr(c->resp, "\r\n\r\n");
    if (!end) return c->got >= sizeof c->resp - 1 ? -1 : 0;
    if (strncmp(c->resp, "HTTP/1.", 7) != 0) return -1;
    *status = (int)strtol(c->resp + 9, NULL, 10);
    size_t clen = 0;
    *keep = 1;
    for (char *l = strstr(c->resp, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (!strncasecmp(l + 2, "Content-Length:", 15)) clen = strtoul(l + 17, NULL, 10);
        if (!strncasecmp(l + 2, "Connection: close", 17)) *keep = 0;
    }
    size_t head = (size_t)(end + 4 - c->resp);
    if (head + clen > sizeof c->resp - 1) return -1;
    return c->got >= head + clen ? 1 : 0;
}

static void client_io(struct soak *s, struct conn *c, unsigned events, double now)
{
    if (!c->busy) { /* the server closed an idle kept-alive connection */
        drop(s, c);
        return;
    }
    if ((events & EPOLLOUT) && c->sent < c->req_len) {
        ssize_t w = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) c->sent += (size_t)w;
        else if (w < 0 && errno != EAGAIN) goto fail;
        if (c->sent == c->req_len) watch(s, c, EPOLLIN | EPOLLRDHUP);
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        int eof = 0;
        for (;;) {
            ssize_t r = recv(c->fd, c->resp + c->got, sizeof c->resp - 1 - c->got, MSG_DONTWAIT);
            if (r > 0) c->got += (size_t)r;
            if (r == 0 || (r < 0 && errno != EAGAIN)) eof = 1;
            if (r <= 0 || c->got >= sizeof c->resp - 1) break;
        }
        int st = 0, keep = 1, d = response_done(c, &st, &keep);
        if (d < 0 || (d == 0 && eof)) goto fail;
        if (eof) keep = 0;
        if (d == 1) {
            if (s->done == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 1 << 16;
                double *nl = realloc(s->lat, (size_t)s->cap * sizeof *s->lat);
                if (!nl) exit(2);
                s->lat = nl;
            }
            s->lat[s->done++] = (now - c->t0) * 1e3;
            if (st < 200 || st > 299) s->errors++;
            c->busy = 0;
            if (!keep) drop(s, c);
            else watch(s, c, EPOLLIN | EPOLLRDHUP);
        }
    }
    return;
fail:
    s->errors++;
    c->busy = 0;
    drop(s, c);
}

/* ---------------------------------------------------------------- the run */

static int load_requests(struct soak *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        *sp = '\0';
        char *path_ = sp + 1, *body = strchr(path_, ' ');
        if (body) *body++ = '\0';
        size_t blen = body ? strlen(body) : 0, need = strlen(path_) + blen + 200;
        char *r = malloc(need);
        if (!r) break;
        int len = body ? snprintf(r, need, "%s %s HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
                                           "Content-Length: %zu\r\n\r\n%s", line, path_, blen, body)
                       : snprintf(r, need, "%s %s HTTP/1.1\r\nHost: soak\r\n\r\n", line, path_);
        char **nr = realloc(s->reqs, (size_t)(s->nreqs + 1) * sizeof *s->reqs);
        if (nr) s->reqs = nr;
        size_t *nl = realloc(s->req_lens, (size_t)(s->nreqs + 1) * sizeof *s->req_lens);
        if (nl) s->req_lens = nl;
        if (!nr || !nl) {
            free(r);
            free(line);
            fclose(f);
            return -1;
        }
        s->reqs[s->nreqs] = r;
        s->req_lens[s->nreqs++] = (size_t)len;
    }
    free(line);
    fclose(f);
    return s->nreqs ? 0 : -1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct soak s = {.nslow = 0, .nips = 40, .trickle = 5, .nclients = 32, .seconds = 0, .max_requests = 0};
    if (argc < 3) {
        fprintf(stderr, "usage: soak PORT REQUESTS_FILE [-slow N] [-ips K] [-trickle S] [-clients C] "
                        "[-seconds S] [-requests R]\n");
        return 2;
    }
    s.port = (int)strtol(argv[1], NULL, 10);
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-slow")) s.nslow = (int)strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "-ips")) s.nips = (int)strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "-trickle")) s.trickle = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "-clients")) s.nclients = (int)strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "-seconds")) s.seconds = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "-requests")) s.max_requests = strtol(argv[i + 1], NULL, 10);
    }
    if (load_requests(&s, argv[2]) || s.nips < 1 || s.nclients < 1 || (s.seconds <= 0 && s.max_requests <= 0)) {
        fprintf(stderr, "soak: bad arguments or no requests in %s\n", argv[2]);
        return 2;
    }
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    s.slow = calloc((size_t)s.nslow + 1, sizeof *s.slow);
    s.cl = calloc((size_t)s.nclients, sizeof *s.cl);
    if (s.ep < 0 || !s.slow || !s.cl) {
        free(s.slow);
        free(s.cl);
        return 2;
    }
    double t0 = now_s();
    for (int i = 0; i < s.nslow; i++) {
        s.slow[i] = (struct conn){.kind = SLOW, .fd = -1, .idx = i};
        slow_open(&s, &s.slow[i], t0);
    }
    double start = now_s(); /* the clients start once the slow connections are open */
    for (int i = 0; i < s.nclients; i++) {
        s.cl[i].kind = CLIENT;
        s.cl[i].fd = -1;
        client_start(&s, &s.cl[i], start);
    }
    struct epoll_event evs[256];
    double last_tick = 0, now = start;
    while ((s.seconds <= 0 || now - start < s.seconds) && (s.max_requests <= 0 || s.done < s.max_requests)) {
        int n = epoll_wait(s.ep, evs, 256, 20);
        now = now_s();
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->kind == CLIENT) client_io(&s, c, evs[i].events, now);
            else if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) { /* closed by the server */
                s.slow_closed++;
                drop(&s, c);
                c->next = now;
            }
        }
        for (int i = 0; i < s.nclients; i++)
            if (!s.cl[i].busy) client_start(&s, &s.cl[i], now);
        if (now - last_tick >= 0.05) {
            for (int i = 0; i < s.nslow; i++) slow_tick(&s, &s.slow[i], now);
            last_tick = now;
        }
    }
    double el = now - start;
    qsort(s.lat, (size_t)s.done, sizeof *s.lat, cmp_d);
    double p50 = s.done ? s.lat[s.done / 2] : 0, p99 = s.done ? s.lat[(size_t)(s.done * 0.99)] : 0,
           mx = s.done ? s.lat[s.done - 1] : 0;
    printf("%ld requests in %.1f s (%.0f/s) by %d clients: %ld errors, p50 %.2f ms, p99 %.2f ms, max %.1f ms",
           s.done, el, s.done / (el > 0 ? el : 1), s.nclients, s.errors, p50, p99, mx);
    if (s.nslow)
        printf("; %d slow connections from %d addresses (a byte every %gs): %ld connects, %ld closed by the "
               "server, %ld connects failed",
               s.nslow, s.nips, s.trickle, s.slow_connects, s.slow_closed, s.slow_failed);
    printf("\n");
    for (int i = 0; i < s.nslow; i++) drop(&s, &s.slow[i]);
    for (int i = 0; i < s.nclients; i++) drop(&s, &s.cl[i]);
    for (int i = 0; i < s.nreqs; i++) free(s.reqs[i]);
    free(s.reqs);
    free(s.req_lens);
    free(s.lat);
    free(s.slow);
    free(s.cl);
    close(s.ep);
    return 0;
}
