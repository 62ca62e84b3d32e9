/* cli_fetch.c - what `vericite audit` shows while it fetches cited pages: on a terminal, a line
 * with the sources fetched so far and the hosts it is still waiting for; on any stderr, one line
 * when several fetches in a row could not even connect (the network looks down: --offline), and
 * on a terminal a summary of each batch's failures by reason. Fed by the audit's on_fetch
 * callback (auditing thread); a ticker thread redraws the terminal line. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define FETCH_TICK_MS 250
#define FETCH_SLOW_S 2.0  /* a host still pending after this long is named */
#define FETCH_DOWN_AFTER 3 /* connect failures in a row ... */
#define FETCH_DOWN_HOSTS 2 /* ... on at least this many hosts: the network looks down */
#define FETCH_HOSTS 8

struct cli_fetch {
    int tty;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t ticker;
    int has_ticker, stop;
    /* the batch under way */
    const char *const *urls;
    size_t n, ndone;
    char *done; /* (n) */
    double start;
    long reasons[HTTP_FAIL_COUNT + 1];
    const char *reason_names[HTTP_FAIL_COUNT + 1];
    int drawn; /* a progress line is on the terminal */
    /* connect failures in a row, and their hosts */
    int in_row, said_down;
    char hosts[FETCH_HOSTS][128];
    int nhosts;
    char first_why[256];
};

static void clear_line(struct cli_fetch *f)
{
    if (f->drawn) fputs("\r\033[K", stderr);
    f->drawn = 0;
}

/* The progress line (mutex held). */
static void draw(struct cli_fetch *f)
{
    if (!f->tty || !f->urls) return;
    double el = cli_now() - f->start;
    fprintf(stderr, "\r\033[Kfetching sources %zu/%zu, %.0f s", f->ndone, f->n, el);
    if (el >= FETCH_SLOW_S) { /* the hosts not done yet, each once */
        char shown[3][128];
        int ns = 0, more = 0;
        for (size_t i = 0; i < f->n; i++) {
            if (f->done[i]) continue;
            char h[128];
            cli_url_host(f->urls[i], h, sizeof h);
            int seen = 0;
            for (int k = 0; k < ns; k++) seen |= !strcmp(shown[k], h);
            if (seen) continue;
            if (ns < 3) snprintf(shown[ns++], sizeof shown[0], "%s", h);
            else more++;
        }
        for (int k = 0; k < ns; k++) fprintf(stderr, "%s%s", k ? ", " : "; waiting for ", shown[k]);
        if (more) fprintf(stderr, " and %d more host%s", more, cli_s(more));
    }
    fflush(stderr);
    f->drawn = 1;
}

static void *tick(void *arg)
{
    struct cli_fetch *f = arg;
    pthread_mutex_lock(&f->mu);
    while (!f->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += FETCH_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&f->cv, &f->mu, &ts);
        if (!f->stop) draw(f);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

int cli_fetch_new(struct cli_fetch **out, int tty)
{
    *out = NULL;
    struct cli_fetch *f = calloc(1, sizeof *f);
    if (!f) return ERR_NOMEM;
    f->tty = tty;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    if (tty) f->has_ticker = pthread_create(&f->ticker, NULL, tick, f) == 0;
    *out = f;
    return ERR_OK;
}

void cli_fetch_free(struct cli_fetch *f)
{
    if (!f) return;
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (f->has_ticker) pthread_join(f->ticker, NULL);
    pthread_mutex_lock(&f->mu);
    clear_line(f);
    pthread_mutex_unlock(&f->mu);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->done);
    free(f);
}

/* A fetch that could not connect at all: DNS, refused, or timed out before connecting. */
static int no_connect(const struct ver_fetch_done *d)
{
    return !d->connected && (!strcmp(d->reason, "dns") || !strcmp(d->reason, "refused") ||
                             !strcmp(d->reason, "timeout"));
}

/* Count a failed connection towards "the network looks down" (mutex held). */
static void note_connect(struct cli_fetch *f, const struct ver_fetch_done *d, const char *url)
{
    if (!no_connect(d)) {
        if (d->connected || !strcmp(d->reason, "ok")) f->in_row = f->nhosts = 0;
        return;
    }
    char h[128];
    cli_url_host(url, h, sizeof h);
    if (f->in_row++ == 0) snprintf(f->first_why, sizeof f->first_why, "%s: %s: %s", h, d->reason, d->why);
    int seen = 0;
    for (int k = 0; k < f->nhosts; k++) seen |= !strcmp(f->hosts[k], h);
    if (!seen && f->nhosts < FETCH_HOSTS) snprintf(f->hosts[f->nhosts++], sizeof f->hosts[0], "%s", h);
    if (f->said_down || f->in_row < FETCH_DOWN_AFTER || f->nhosts < FETCH_DOWN_HOSTS) return;
    f->said_down = 1;
    clear_line(f);
    fprintf(stderr,
            "vericite: the network looks down: %d fetches in a row on %d hosts could not connect (%s); check the "
            "connection, or audit from the corpus and the fetch cache only with --offline\n",
            f->in_row, f->nhosts, f->first_why);
}

/* The end of a batch: on a terminal, what failed and why (mutex held). */
static void summary(struct cli_fetch *f)
{
    clear_line(f);
    if (!f->tty || !f->n) return;
    long failed = 0;
    for (int k = 0; k <= HTTP_FAIL_COUNT; k++)
        if (f->reason_names[k] && strcmp(f->reason_names[k], "ok")) failed += f->reasons[k];
    fprintf(stderr, "fetched %zu source%s in %.1f s", f->n, cli_s((long)f->n), cli_now() - f->start);
    if (failed) {
        fprintf(stderr, "; %ld failed:", failed);
        for (int k = 0; k <= HTTP_FAIL_COUNT; k++)
            if (f->reason_names[k] && strcmp(f->reason_names[k], "ok"))
                fprintf(stderr, " %ld %s", f->reasons[k], f->reason_names[k]);
    }
    fputc('\n', stderr);
}

void cli_fetch_event(void *ud, const char *const *urls, size_t n, size_t i, const struct ver_fetch_done *d)
{
    struct cli_fetch *f = ud;
    pthread_mutex_lock(&f->mu);
    if (!urls) { /* the batch is over */
        summary(f);
        f->urls = NULL;
        f->n = 0;
    } else if (!d) { /* a batch starts */
        free(f->done);
        f->done = calloc(n ? n : 1, 1);
        f->urls = f->done ? urls : NULL;
        f->n = f->done ? n : 0;
        f->ndone = 0;
        f->start = cli_now();
        memset(f->reasons, 0, sizeof f->reasons);
        memset(f->reason_names, 0, sizeof f->reason_names);
        draw(f);
    } else if (f->urls && i < f->n && !f->done[i]) {
        f->done[i] = 1;
        f->ndone++;
        int k = 0; /* the reason's slot: its names are static strings */
        while (k < HTTP_FAIL_COUNT && f->reason_names[k] && strcmp(f->reason_names[k], d->reason)) k++;
        f->reason_names[k] = d->reason;
        f->reasons[k]++;
        note_connect(f, d, urls[i]);
        draw(f);
    }
    pthread_mutex_unlock(&f->mu);
}
