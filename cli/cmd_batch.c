/* cmd_batch.c - the command line's side of batch audits (`vericite audit --jobs N`): the inputs
 * (files, folders walked in sorted order, MediaWiki dumps page by page) read by the main thread and
 * given to verify/'s batch runner (ver_batch_*), and the progress bar on stderr. The runner
 * audits, stores and hands back the stored records in input order. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "corpus/corpus.h"
#include "vec.h"
#include "verify/ver.h"

#define BATCH_MAX_FILES 1000000 /* files taken from folders, in all */
#define BATCH_MAX_DEPTH 32      /* folder nesting walked */

/* ---------------------------------------------------------------- inputs */

/* One input to read: a file, or a MediaWiki dump (streamed page by page). */
struct source {
    char *path;
    int dump;
};

struct sources {
    struct source *v;
    size_t n, cap;
};

static int sources_add(struct sources *s, const char *path, int dump)
{
    if (vec_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v)) return -1;
    if (!(s->v[s->n].path = strdup(path))) return -1;
    s->v[s->n++].dump = dump;
    return 0;
}

static void sources_free(struct sources *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i].path);
    free(s->v);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int is_dump(const char *path) { return ends_with(path, ".xml") || ends_with(path, ".xml.bz2"); }

static int is_article_file(const char *name)
{
    static const char *const ext[] = {".wiki", ".wikitext", ".md", ".markdown", ".txt", ".jsonl"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (ends_with(name, ext[i])) return 1;
    return 0;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The names in folder `dir` that are not hidden, sorted. *names is owned by the caller. */
static int list_dir(const char *dir, char ***names, size_t *n, struct err *err)
{
    DIR *d = opendir(dir);
    if (!d) return err_set(err, ERR_IO, "%s: %s", dir, strerror(errno));
    size_t cap = 0;
    int rc = ERR_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ., .., hidden files */
        if (vec_grow((void **)names, &cap, *n + 1, sizeof **names) || !((*names)[*n] = strdup(e->d_name))) {
            rc = err_set(err, ERR_NOMEM, "%s", dir);
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (!rc && *n > 1) qsort(*names, *n, sizeof **names, cmp_str);
    return rc;
}

/* Append the article files and dumps under folder `dir` to `s`, sorted by name per folder. */
static int walk(const char *dir, int depth, struct sources *s, struct err *err)
{
    if (depth > BATCH_MAX_DEPTH) return err_set(err, ERR_LIMIT, "%s: folders nested deeper than %d", dir, BATCH_MAX_DEPTH);
    char **names = NULL;
    size_t n = 0;
    int rc = list_dir(dir, &names, &n, err);
    struct buf p = {0};
    for (size_t i = 0; !rc && i < n; i++) {
        buf_reset(&p);
        if (buf_printf(&p, "%s/%s", dir, names[i])) { rc = err_set(err, ERR_NOMEM, "%s", dir); break; }
        struct stat sb;
        if (stat(p.data, &sb) != 0) continue; /* a dangling link */
        if (S_ISDIR(sb.st_mode)) rc = walk(p.data, depth + 1, s, err);
        else if (S_ISREG(sb.st_mode) && (is_article_file(names[i]) || is_dump(names[i]))) {
            if (s->n >= BATCH_MAX_FILES) rc = err_set(err, ERR_LIMIT, "%s: more than %d files", dir, BATCH_MAX_FILES);
            else if (sources_add(s, p.data, is_dump(names[i]))) rc = err_set(err, ERR_NOMEM, "%s", dir);
        }
    }
    buf_cleanup(&p);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

/* All inputs expanded to files and dumps; a missing path fails before anything is audited. */
static int expand_inputs(char *const *inputs, int n, struct sources *s, struct err *err)
{
    for (int i = 0; i < n; i++) {
        struct stat sb;
        if (!strcmp(inputs[i], "-")) {
            if (sources_add(s, "-", 0)) return err_set(err, ERR_NOMEM, "inputs");
            continue;
        }
        if (stat(inputs[i], &sb) != 0)
            return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", inputs[i], strerror(errno));
        if (S_ISDIR(sb.st_mode)) {
            int rc = walk(inputs[i], 0, s, err);
            if (rc) return rc;
        } else if (sources_add(s, inputs[i], is_dump(inputs[i]))) {
            return err_set(err, ERR_NOMEM, "inputs");
        }
    }
    return ERR_OK;
}

enum ver_format cli_format_of(const char *path)
{
    const char *ext = strrchr(path, '.');
    if (ext && (!strcmp(ext, ".wiki") || !strcmp(ext, ".wikitext"))) return VER_FMT_WIKITEXT;
    if (ext && (!strcmp(ext, ".md") || !strcmp(ext, ".markdown"))) return VER_FMT_MARKDOWN;
    if (ext && !strcmp(ext, ".jsonl")) return VER_FMT_CLAIMS;
    return VER_FMT_AUTO;
}

/* ---------------------------------------------------------------- the sink: output and progress */

struct cli_batch {
    const struct cli_batch_opts *o;
    struct ver_batch *vb;
    int tty, stream_tty; /* stderr is a terminal; stdout is one too */
    int drawn;           /* a progress line is on the terminal */
    double start, last;
    int jobs;
    cli_record_cb out_cb;
    void *out_ctx;
};

/* Clear the progress line before something else is written to the terminal. */
static void clear_line(struct cli_batch *c)
{
    if (c->drawn) fputs("\r\033[K", stderr);
    c->drawn = 0;
}

static int sink_record(void *ctx, const struct ver_record *rec, struct err *err)
{
    struct cli_batch *c = ctx;
    if (c->stream_tty) clear_line(c); /* results and progress share a terminal */
    return c->out_cb ? c->out_cb(c->out_ctx, rec, err) : ERR_OK;
}

static int sink_article(void *ctx, size_t seq, const char *path, const char *hash, int nrecords,
                        enum ver_batch_outcome outcome, struct err *err)
{
    (void)ctx, (void)seq, (void)path, (void)hash, (void)nrecords, (void)outcome, (void)err;
    fflush(stdout); /* whole articles reach a pipe or file even if the batch is killed */
    return ERR_OK;
}

static void sink_problem(void *ctx, const char *path, const struct err *e)
{
    (void)path; /* e names it */
    struct cli_batch *c = ctx;
    clear_line(c);
    fprintf(stderr, "vericite: %s\n", e->msg);
}

static void draw_eta(const struct ver_batch_progress *p, long finished, double el)
{
    double eta = -1;
    if (p->total > 0 && p->audited > 0 && el > 0) eta = (double)(p->total - finished) * el / (double)p->audited;
    else if (p->total < 0 && p->read_share > 0.001 && p->read_share <= 1) {
        fprintf(stderr, ", %.0f%% read", 100 * p->read_share);
        eta = el / p->read_share - el;
    }
    if (eta >= 0) fprintf(stderr, ", ETA %dm%02ds", (int)(eta / 60), (int)eta % 60);
}

static void sink_progress(void *ctx, const struct ver_batch_progress *p)
{
    struct cli_batch *c = ctx;
    if (!c->tty) return;
    double now = cli_now();
    if (now - c->last < 0.25) return;
    c->last = now;
    double el = now - c->start;
    long finished = p->audited + p->skipped + p->failed + p->unreadable;
    fprintf(stderr, "\r\033[K");
    if (p->total > 0) {
        int w = 20, fill = (int)(w * (double)finished / (double)p->total);
        fputc('[', stderr);
        for (int i = 0; i < w; i++) fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] %ld/%ld", finished, p->total);
    } else {
        fprintf(stderr, "%ld", finished);
    }
    fprintf(stderr, " article%s, %ld citation%s, %.1f fetches/s", cli_s(p->total > 0 ? p->total : finished),
            p->citations, cli_s(p->citations), el > 0 ? p->fetched / el : 0.0);
    for (int s = VER_ST_COUNT - 1; s >= 0; s--)
        if (p->counts[s]) fprintf(stderr, " %s %ld", ver_status_name(s), p->counts[s]);
    draw_eta(p, finished, el);
    fflush(stderr);
    c->drawn = 1;
}

/* ---------------------------------------------------------------- the producer */

/* Give the articles of one file to the batch. Input problems go to ver_batch_problem; only
 * errors that end the batch are returned. */
static int produce_file(struct cli_batch *c, const char *path, int single, struct err *err)
{
    struct buf text = {0};
    struct err e = {0};
    if (cli_read_file(path, &text, &e)) {
        buf_cleanup(&text);
        ver_batch_problem(c->vb, path, &e);
        return ERR_OK;
    }
    char title[512];
    if (single && c->o->title) snprintf(title, sizeof title, "%s", c->o->title);
    else if (!strcmp(path, "-")) title[0] = '\0';
    else cli_title_from_path(path, title, sizeof title);
    size_t len = text.len;
    char *data = buf_steal(&text);
    if (!data) return err_set(err, ERR_NOMEM, "%s", path);
    return ver_batch_add(c->vb, path, title, data, len, cli_format_of(path), err);
}

/* One page of a dump as a batch article "DUMP#Title". */
static int produce_page(struct cli_batch *c, const char *path, const struct corpus_doc *d, struct err *err)
{
    struct buf name = {0};
    char *text = malloc(d->text_len + 1);
    if (!text || buf_printf(&name, "%s#%s", path, d->title)) {
        free(text);
        buf_cleanup(&name);
        return err_set(err, ERR_NOMEM, "%s", path);
    }
    memcpy(text, d->text, d->text_len);
    text[d->text_len] = '\0';
    int rc = ver_batch_add(c->vb, name.data, d->title, text, d->text_len, VER_FMT_WIKITEXT, err);
    buf_cleanup(&name);
    return rc;
}

/* Give every article page of a MediaWiki dump, with its wikitext, to the batch. The dump is the
 * `share` of the input that starts `at`, for the progress. */
static int produce_dump(struct cli_batch *c, const char *path, double at, double share, struct err *err)
{
    struct corpus_opts co = {.format = CORPUS_MWXML, .raw_wikitext = 1, .max_record = VER_MAX_INPUT};
    struct corpus_reader *r = NULL;
    struct err e = {0};
    int rc = corpus_open(&r, path, &co, &e), brc = ERR_OK;
    for (;;) {
        if (rc) {
            ver_batch_problem(c->vb, path, &e);
            if (!r || rc != ERR_LIMIT) break; /* an oversized page is skipped; anything else ends the dump */
        }
        struct corpus_doc d;
        int has = 0;
        rc = corpus_next(r, &d, &has, &e);
        if (rc) continue;
        if (!has) break;
        uint64_t rd = 0, size = 0;
        corpus_progress(r, &rd, &size);
        ver_batch_expect(c->vb, -1, at + (size ? share * (double)rd / (double)size : 0));
        if ((brc = produce_page(c, path, &d, err))) break;
    }
    corpus_close(r);
    return brc;
}

/* ---------------------------------------------------------------- the batch */

static int produce_all(struct cli_batch *c, const struct sources *src, int has_dump, struct err *err)
{
    int rc = ERR_OK;
    ver_batch_expect(c->vb, has_dump ? -1 : (long)src->n, 0);
    for (size_t i = 0; !rc && i < src->n; i++) {
        if (src->v[i].dump)
            rc = produce_dump(c, src->v[i].path, (double)i / (double)src->n, 1.0 / (double)src->n, err);
        else rc = produce_file(c, src->v[i].path, src->n == 1, err);
        ver_batch_expect(c->vb, has_dump ? -1 : (long)src->n, (double)(i + 1) / (double)src->n);
    }
    return rc;
}

int cli_batch_run(const struct cli_batch_opts *o, char *const *inputs, int ninputs, cli_record_cb cb, void *ctx,
                  int *bad_inputs, struct err *err)
{
    *bad_inputs = 0;
    struct sources src = {0};
    int jobs = o->jobs < 1 ? 1 : o->jobs > VER_BATCH_MAX_JOBS ? VER_BATCH_MAX_JOBS : o->jobs;
    struct cli_batch c = {.o = o, .tty = isatty(2), .stream_tty = isatty(1), .jobs = jobs, .out_cb = cb, .out_ctx = ctx};
    struct ver_batch_sink sink = {.record = sink_record, .article = sink_article, .progress = sink_progress,
                                  .problem = sink_problem, .ctx = &c};
    struct ver_batch_opts bo = {.db = o->db, .vo = o->vo, .jobs = jobs};
    struct ver_batch_progress p = {0};
    int rc = expand_inputs(inputs, ninputs, &src, err), has_dump = 0;
    for (size_t i = 0; i < src.n; i++) has_dump |= src.v[i].dump;
    c.start = cli_now();
    c.last = 0; /* the first article draws at once */
    if (!rc) rc = ver_batch_new(&c.vb, &bo, &sink, err);
    if (!rc) {
        struct err fin = {0};
        rc = produce_all(&c, &src, has_dump, err);
        if (rc) ver_batch_cancel(c.vb); /* no-op when the error came from the batch itself */
        int frc = ver_batch_finish(c.vb, &p, &fin);
        if (!rc && frc) {
            rc = frc;
            *err = fin;
        }
    }
    if (!rc) {
        clear_line(&c);
        *bad_inputs = (int)p.unreadable;
        fprintf(stderr, "batch: %ld article%s audited, %ld already done, %ld failed, %d bad input%s; %ld citation%s, "
                        "%ld fetched; %d job%s, %.1f s\n",
                p.audited, cli_s(p.audited), p.skipped, p.failed, *bad_inputs, cli_s(*bad_inputs), p.citations,
                cli_s(p.citations), p.fetched, jobs, cli_s(jobs), cli_now() - c.start);
        *bad_inputs += (int)p.failed;
    }
    ver_batch_free(c.vb);
    sources_free(&src);
    return rc;
}
