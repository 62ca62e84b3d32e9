/* cli.c - shared printing helpers for the commands: errors, usage, cells, progress. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_fail(const struct err *err)
{
    fprintf(stderr, "vericite: %s\n", err->msg[0] ? err->msg : err_name(err->code));
    return err->code == ERR_ARG ? CLI_USAGE : CLI_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "vericite %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see: vericite %s --help)\n", cmd);
    return CLI_USAGE;
}

int cli_int(const char *cmd, const char *opt, const char *val, int lo, int hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < lo || v > hi) {
        cli_usage(cmd, "%s expects a whole number from %d to %d, not '%s'", opt, lo, hi, val);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_double(const char *cmd, const char *opt, const char *val, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end || v < lo || v > hi) {
        cli_usage(cmd, "%s expects a number from %g to %g, not '%s'", opt, lo, hi, val);
        return -1;
    }
    *out = v;
    return 0;
}

void cli_put_cell(FILE *f, const char *s, int width, int pad)
{
    int cols = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    /* count the columns the whole string needs, to know whether it must be cut */
    int need = 0;
    for (const unsigned char *q = p; *q; q++)
        if ((*q & 0xC0) != 0x80) need++;
    int limit = need > width ? width - 1 : width;
    while (*p && cols < limit) {
        int n = 1;
        if (*p >= 0xF0) n = 4; else if (*p >= 0xE0) n = 3; else if (*p >= 0xC0) n = 2;
        if (*p == '\n' || *p == '\t' || *p == '\r') fputc(' ', f);
        else {
            int k = 0;
            for (; k < n && p[k]; k++) fputc(p[k], f);
            n = k;
        }
        p += n;
        cols++;
    }
    if (need > width && width > 0) {
        fputs("\xE2\x80\xA6", f);
        cols++;
    }
    if (pad)
        for (; cols < width; cols++) fputc(' ', f);
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_progress_init(struct cli_progress *p)
{
    p->tty = isatty(2);
    p->start = p->last = cli_now();
}

void cli_progress_update(struct cli_progress *p, const char *what, long done, double frac)
{
    if (!p->tty) return;
    double now = cli_now();
    if (now - p->last < 0.25) return;
    p->last = now;
    double el = now - p->start, rate = el > 0 ? done / el : 0;
    fprintf(stderr, "\r\033[K%ld %s, %.0f/s", done, what, rate);
    if (frac > 0.001 && frac <= 1) {
        double eta = el / frac - el;
        fprintf(stderr, ", %.0f%%, ETA %dm%02ds", frac * 100, (int)(eta / 60), (int)eta % 60);
    }
    fflush(stderr);
}

void cli_progress_end(struct cli_progress *p)
{
    if (p->tty) fputs("\r\033[K", stderr);
}
