/* serve_conn.c - the service's connection deadlines: every open connection is registered with
 * the phase it is in and when that phase began, and a watchdog thread shuts down the socket of a
 * connection whose request header (or body) did not arrive in time. libmicrohttpd's own timeout
 * is an idle timeout that every byte resets, so a client trickling one header byte every few
 * seconds would hold its connection forever; these deadlines count from the phase's start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli.h"
#include "serve.h"

struct serve_conn {
    int fd;                  /* the connection's socket, owned by libmicrohttpd */
    enum serve_phase phase;
    double since;            /* cli_now() when the phase began */
    int cut;                 /* the watchdog shut it down */
    char client[64];
    struct serve_conn *prev, *next;
};

struct serve_conns {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t thread;
    double header_s, body_s;
    struct serve_conn *head; /* the open connections, owned */
    long open, cut_header, cut_body;
    int stop, started;
};

#define SERVE_CONN_TICK_MS 100

/* The deadline of phase `ph` in seconds, 0 when the phase has none. */
static double phase_limit(const struct serve_conns *w, enum serve_phase ph)
{
    return ph == SERVE_PH_HEADER ? w->header_s : ph == SERVE_PH_BODY ? w->body_s : 0;
}

/* One pass: shut down every connection past its phase's deadline. Called with w->mu held, so a
 * connection cannot be closed (and its descriptor reused) while its socket is shut down: the
 * close notification takes the same lock before libmicrohttpd closes the descriptor. */
static void watch_pass(struct serve_conns *w, double now)
{
    for (struct serve_conn *c = w->head; c; c = c->next) {
        double lim = phase_limit(w, c->phase);
        if (c->cut || lim <= 0 || now - c->since < lim) continue;
        c->cut = 1;
        shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd sees the end and closes the connection */
        int hdr = c->phase == SERVE_PH_HEADER;
        if (hdr) w->cut_header++;
        else w->cut_body++;
        char when[32] = "-";
        time_t t = time(NULL);
        struct tm tm;
        if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(stderr, "%s %s - - 408 0 %.1fms (%s not complete in %gs: %s)\n", when, c->client,
                (now - c->since) * 1e3, hdr ? "header" : "body", lim, hdr ? "--header-timeout" : "--body-timeout");
    }
}

static void *watch_main(void *arg)
{
    struct serve_conns *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += SERVE_CONN_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&w->wake, &w->mu, &ts);
        if (!w->stop) watch_pass(w, cli_now());
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int serve_conns_new(struct serve_conns **out, double header_s, double body_s, struct err *err)
{
    *out = NULL;
    struct serve_conns *w = calloc(1, sizeof *w);
    if (!w) return err_set(err, ERR_NOMEM, "serve: connections");
    w->header_s = header_s;
    w->body_s = body_s;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_mutex_init(&w->mu, NULL) != 0;
    if (!bad && pthread_cond_init(&w->wake, &ca) != 0) {
        pthread_mutex_destroy(&w->mu);
        bad = 1;
    }
    pthread_condattr_destroy(&ca);
    if (bad) {
        free(w);
        return err_set(err, ERR_INTERNAL, "serve: connection lock");
    }
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        serve_conns_free(w);
        return err_set(err, ERR_INTERNAL, "serve: cannot start the connection watchdog");
    }
    w->started = 1;
    *out = w;
    return ERR_OK;
}

void serve_conns_free(struct serve_conns *w)
{
    if (!w) return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    while (w->head) {
        struct serve_conn *c = w->head;
        w->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

struct serve_conn *serve_conns_open(struct serve_conns *w, int fd, const char *client)
{
    struct serve_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    c->phase = SERVE_PH_HEADER;
    c->since = cli_now();
    snprintf(c->client, sizeof c->client, "%s", client ? client : "-");
    pthread_mutex_lock(&w->mu);
    c->next = w->head;
    if (w->head) w->head->prev = c;
    w->head = c;
    w->open++;
    pthread_mutex_unlock(&w->mu);
    return c;
}

void serve_conns_close(struct serve_conns *w, struct serve_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&w->mu);
    if (c->prev) c->prev->next = c->next;
    else w->head = c->next;
    if (c->next) c->next->prev = c->prev;
    w->open--;
    pthread_mutex_unlock(&w->mu);
    free(c);
}

void serve_conns_phase(struct serve_conns *w, struct serve_conn *c, enum serve_phase ph)
{
    if (!c) return;
    pthread_mutex_lock(&w->mu);
    c->phase = ph;
    c->since = cli_now();
    pthread_mutex_unlock(&w->mu);
}

void serve_conns_counts(struct serve_conns *w, long *open, long *cut_header, long *cut_body)
{
    pthread_mutex_lock(&w->mu);
    if (open) *open = w->open;
    if (cut_header) *cut_header = w->cut_header;
    if (cut_body) *cut_body = w->cut_body;
    pthread_mutex_unlock(&w->mu);
}
