/* cli.c - shared printing helpers for the commands: errors, usage, cells, progress. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ascii.h"

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

/* Optimal string alignment distance of a and b (at most 63 bytes each; longer: a large number). */
static int edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

const char *cli_closest_option(const char *name, const struct option *longopts)
{
    const char *best = NULL;
    int bestd = 99;
    size_t len = strlen(name);
    /* a typo: one edit in short names, two from 6 letters on */
    int limit = len >= 6 ? 2 : 1;
    for (const struct option *o = longopts; o && o->name; o++) {
        int d = edit_distance(name, o->name);
        if (d < bestd) {
            bestd = d;
            best = o->name;
        }
    }
    return bestd <= limit ? best : NULL;
}

int cli_bad_option(const char *cmd, char **argv, const char *shortopts, const struct option *longopts)
{
    const char *arg = optind > 0 ? argv[optind - 1] : NULL;
    if (optopt && arg && !strncmp(arg, "--", 2)) /* a known long option with(out) its value */
        for (const struct option *o = longopts; o && o->name; o++)
            if (o->val == optopt && !o->flag)
                return cli_usage(cmd, o->has_arg == no_argument ? "--%s takes no value" : "--%s needs a value",
                                 o->name);
    if (optopt > 0 && optopt < 128 && optopt != ':' && strchr(shortopts, optopt))
        return cli_usage(cmd, "-%c needs a value", optopt);
    if (optopt > 0 && optopt < 128) return cli_usage(cmd, "unknown option '-%c'", optopt);
    if (!arg || strncmp(arg, "--", 2) != 0) return cli_usage(cmd, "unknown option '%s'", arg ? arg : "?");
    char name[128];
    const char *eq = strchr(arg + 2, '=');
    size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, arg + 2, n);
    name[n] = '\0';
    /* a prefix of several options (getopt_long takes a unique prefix) */
    int prefixes = 0;
    for (const struct option *o = longopts; o && o->name; o++) prefixes += !strncmp(o->name, name, n);
    if (n && prefixes > 1) {
        fprintf(stderr, "vericite %s: option '--%s' is ambiguous; possibilities:", cmd, name);
        for (const struct option *o = longopts; o && o->name; o++)
            if (!strncmp(o->name, name, n)) fprintf(stderr, " --%s", o->name);
        fprintf(stderr, "\n(see: vericite %s --help)\n", cmd);
        return CLI_USAGE;
    }
    const char *best = cli_closest_option(name, longopts);
    if (best) return cli_usage(cmd, "unknown option '--%s' (did you mean --%s?)", name, best);
    return cli_usage(cmd, "unknown option '--%s'", name);
}

int cli_duration(const char *cmd, const char *opt, const char *val, double lo_s, double hi_s, int legacy_ms,
                 long *ms)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(val, &end);
    double scale = 1000; /* to milliseconds; no unit: seconds */
    int unit = 1;
    if (errno || end == val || v != v) goto bad;
    if (!strcmp(end, "ms")) scale = 1;
    else if (!strcmp(end, "s")) scale = 1000;
    else if (!strcmp(end, "m") || !strcmp(end, "min")) scale = 60000;
    else if (!strcmp(end, "h")) scale = 3600000;
    else if (!*end) unit = 0;
    else goto bad;
    if (!unit && legacy_ms && v > 1000) {
        fprintf(stderr,
                "vericite %s: note: %s %s is read as milliseconds (%g s), as before; %s now takes seconds, "
                "or a unit: %.0fms, %gs\n",
                cmd, opt, val, v / 1000, opt, v, v / 1000);
        scale = 1;
    }
    double total = v * scale;
    if (total < lo_s * 1000 - 1e-9 || total > hi_s * 1000 + 1e-9) goto bad;
    *ms = (long)(total + 0.5);
    return 0;
bad:
    cli_usage(cmd, "%s expects a duration from %g to %g seconds (e.g. 20, 20s, 500ms, 2m), not '%s'", opt, lo_s,
              hi_s, val);
    return -1;
}

int cli_listen_spec(const char *spec, char *out, size_t n)
{
    const char *p = spec[0] == ':' ? spec + 1 : spec;
    int digits = *p != '\0';
    for (const char *q = p; *q; q++) digits &= ascii_isdigit((unsigned char)*q);
    int w = digits ? snprintf(out, n, "127.0.0.1:%s", p) : snprintf(out, n, "%s", spec);
    if (w < 0 || (size_t)w >= n) return -1;
    const char *colon = strrchr(out, ':');
    return colon && colon != out && colon[1] ? 0 : -1;
}

int cli_check_writable(const char *path, struct err *err)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return err_set(err, ERR_IO, "%s: is a folder, not a file", path);
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (stat(dir, &sb) != 0) return err_set(err, ERR_IO, "%s: cannot write it: folder %s: %s", path, dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return err_set(err, ERR_IO, "%s: cannot write it: %s is not a folder", path, dir);
    if (access(dir, W_OK) != 0)
        return err_set(err, ERR_IO, "%s: cannot write it: folder %s: %s", path, dir, strerror(errno));
    if (access(path, F_OK) == 0 && access(path, W_OK) != 0)
        return err_set(err, ERR_IO, "%s: cannot write it: %s", path, strerror(errno));
    return ERR_OK;
}

int cli_term_width(void)
{
    struct winsize ws;
    if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    if (c && *c) {
        char *end = NULL;
        long v = strtol(c, &end, 10);
        if (!*end && v >= 20 && v <= 10000) return (int)v;
    }
    return 0;
}

const char *cli_s(long n) { return n == 1 ? "" : "s"; }

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

int cli_size(const char *cmd, const char *opt, const char *val, size_t lo, size_t hi, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    int shift = 0;
    if (!errno && end != val && val[0] != '-') {
        if (*end == 'k' || *end == 'K') shift = 10, end++;
        else if (*end == 'm' || *end == 'M') shift = 20, end++;
        else if (*end == 'g' || *end == 'G') shift = 30, end++;
    }
    if (errno || end == val || val[0] == '-' || *end || v > (hi >> shift) || (v << shift) < lo) {
        cli_usage(cmd, "%s expects a size from %zu to %zu bytes (K, M or G may follow: 512K, 64M), not '%s'", opt, lo,
                  hi, val);
        return -1;
    }
    *out = (size_t)(v << shift);
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
