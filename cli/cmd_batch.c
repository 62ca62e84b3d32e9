/* cmd_batch.c - batch audits (`vericite audit --jobs N`): files, folders and MediaWiki dumps
 * read by the main thread into a bounded queue of articles, audited by N worker threads (each
 * with its own index handle, auditor and extractor), every article's results stored in the index
 * in one transaction as it finishes, so a killed batch started again skips what is done. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "corpus/corpus.h"
#include "index/idx.h"
#include "verify/ver.h"

#define BATCH_MAX_JOBS 64
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
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct source *p = realloc(s->v, cap * sizeof *p);
        if (!p) return -1;
        s->v = p;
        s->cap = cap;
    }
    s->v[s->n].path = strdup(path);
    if (!s->v[s->n].path) return -1;
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

/* Append the article files and dumps under folder `dir` to `s`, sorted by name per folder. */
static int walk(const char *dir, int depth, struct sources *s, struct err *err)
{
    if (depth > BATCH_MAX_DEPTH) return err_set(err, ERR_LIMIT, "%s: folders nested deeper than %d", dir, BATCH_MAX_DEPTH);
    DIR *d = opendir(dir);
    if (!d) return err_set(err, ERR_IO, "%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = ERR_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ., .., hidden files */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) { rc = err_set(err, ERR_NOMEM, "%s", dir); break; }
            names = p;
        }
        if (!(names[n] = strdup(e->d_name))) { rc = err_set(err, ERR_NOMEM, "%s", dir); break; }
        n++;
    }
    closedir(d);
    if (!rc) qsort(names, n, sizeof *names, cmp_str);
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

/* ---------------------------------------------------------------- the queue */

/* One article to audit. */
struct job {
    char *path;  /* a file path or "DUMP.xml#Title" */
    char *title;
    char *text;
    size_t len;
    enum ver_format fmt;
    char hash[17];
    size_t seq; /* its place among the batch's articles (struct batch.keys) */
};

static void job_free(struct job *j)
{
    if (!j) return;
    free(j->path);
    free(j->title);
    free(j->text);
    free(j);
}

/* An article of the batch in input order: its key in the index. */
struct key {
    char *path;
    char hash[17];
    int finished; /* stored (now or before), or failed */
};

struct batch {
    const struct cli_batch_opts *o;
    int64_t run;
    char options[512]; /* what changes the results, hashed into every key */

    pthread_mutex_t mu;
    pthread_cond_t can_pop, can_push;
    struct job **q; /* ring of qcap */
    size_t qcap, qhead, qlen;
    int closed;     /* no more jobs will come */
    int stop;       /* a worker failed: end the batch */
    struct err fatal;

    /* progress (under mu) */
    int tty, stream_tty; /* stderr is a terminal; stdout is one too */
    double start, last;
    long total;     /* articles, -1 while unknown (dumps) */
    double frac;    /* share of the input read, for the ETA when total is unknown */
    long queued, done, skipped, failed, unreadable;
    long cites, fetched, counts[VER_ST_SUPPORTED + 1];

    /* every article in input order (under mu); results go to out_cb in that order as soon as an
     * article and all before it are finished */
    struct key *keys;
    size_t nkeys, capkeys, next_out;
    int (*out_cb)(void *ctx, const struct idx_audit_row *row);
    void *out_ctx;
};

/* With b->mu held: hand the results of the finished articles at the head of the input order
 * to out_cb, read through `ix` (the calling thread's own handle). */
static int flush_out(struct batch *b, struct idx *ix, struct err *err)
{
    while (b->next_out < b->nkeys && b->keys[b->next_out].finished) {
        if (b->tty && b->stream_tty) fputs("\r\033[K", stderr); /* results and progress share a terminal */
        const struct key *k = &b->keys[b->next_out];
        int rc = idx_audit_results(ix, k->path, k->hash, b->out_cb, b->out_ctx, err);
        if (rc) return rc;
        fflush(stdout); /* whole articles reach a pipe or file even if the batch is killed */
        b->next_out++;
    }
    return ERR_OK;
}

/* With b->mu held: article `seq` is finished; pass on what can be passed on. */
static int finish(struct batch *b, size_t seq, struct idx *ix, struct err *err)
{
    b->keys[seq].finished = 1;
    return flush_out(b, ix, err);
}

/* FNV-1a 64 of the article text, its title and the options, as 16 hex digits. */
static void article_hash(const struct batch *b, const struct job *j, char out[17])
{
    uint64_t h = 1469598103934665603ull;
    const char *parts[] = {j->text, j->title, b->options};
    size_t lens[] = {j->len, strlen(j->title) + 1, strlen(b->options) + 1};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < lens[p]; i++) {
            h ^= (unsigned char)parts[p][i];
            h *= 1099511628211ull;
        }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void progress_draw(struct batch *b, int force)
{
    if (!b->tty) return;
    double now = cli_now();
    if (!force && now - b->last < 0.25) return;
    b->last = now;
    double el = now - b->start;
    long finished = b->done + b->skipped + b->failed + b->unreadable;
    fprintf(stderr, "\r\033[K");
    if (b->total > 0) {
        int w = 20, fill = (int)(w * (double)finished / (double)b->total);
        fputc('[', stderr);
        for (int i = 0; i < w; i++) fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] %ld/%ld", finished, b->total);
    } else {
        fprintf(stderr, "%ld", finished);
    }
    fprintf(stderr, " articles, %ld citations, %.1f fetches/s", b->cites, el > 0 ? b->fetched / el : 0.0);
    static const char *const abbr[VER_ST_SUPPORTED + 1] = {"dead", "unreach", "no-text", "no-url", "contra",
                                                           "unsup", "weak", "ok"};
    for (int s = VER_ST_SUPPORTED; s >= 0; s--)
        if (b->counts[s]) fprintf(stderr, " %s %ld", abbr[s], b->counts[s]);
    double eta = -1;
    if (b->total > 0 && b->done > 0 && el > 0) eta = (double)(b->total - finished) * el / (double)b->done;
    else if (b->total < 0 && b->frac > 0.001 && b->frac <= 1) {
        fprintf(stderr, ", %.0f%% read", 100 * b->frac);
        eta = el / b->frac - el;
    }
    if (eta >= 0) fprintf(stderr, ", ETA %dm%02ds", (int)(eta / 60), (int)eta % 60);
    fflush(stderr);
}

/* Queue an article for the workers (blocks while the queue is full). Returns 0, or -1 when the
 * batch is stopping (the job is freed). Takes ownership of j. */
static int push(struct batch *b, struct job *j)
{
    pthread_mutex_lock(&b->mu);
    while (b->qlen == b->qcap && !b->stop) pthread_cond_wait(&b->can_push, &b->mu);
    if (b->stop) {
        pthread_mutex_unlock(&b->mu);
        job_free(j);
        return -1;
    }
    b->q[(b->qhead + b->qlen++) % b->qcap] = j;
    pthread_cond_signal(&b->can_pop);
    pthread_mutex_unlock(&b->mu);
    return 0;
}

/* The next article, or NULL when the queue is closed and empty or the batch stops. */
static struct job *pop(struct batch *b)
{
    pthread_mutex_lock(&b->mu);
    while (b->qlen == 0 && !b->closed && !b->stop) pthread_cond_wait(&b->can_pop, &b->mu);
    struct job *j = NULL;
    if (b->qlen > 0 && !b->stop) {
        j = b->q[b->qhead];
        b->qhead = (b->qhead + 1) % b->qcap;
        b->qlen--;
        pthread_cond_signal(&b->can_push);
    }
    pthread_mutex_unlock(&b->mu);
    return j;
}

static void stop_with(struct batch *b, const struct err *e)
{
    pthread_mutex_lock(&b->mu);
    if (!b->stop) {
        b->stop = 1;
        b->fatal = *e;
    }
    pthread_cond_broadcast(&b->can_pop);
    pthread_cond_broadcast(&b->can_push);
    pthread_mutex_unlock(&b->mu);
}

/* ---------------------------------------------------------------- workers */

/* The host of a URL without "www.", lowercased (corpus_url_normalize), into `out`. */
static void url_domain(const char *url, struct buf *tmp, char *out, size_t n)
{
    out[0] = '\0';
    if (!url || !*url || corpus_url_normalize(url, tmp) != 0 || !tmp->data) return;
    size_t len = strcspn(tmp->data, "/?#");
    snprintf(out, n, "%.*s", (int)len, tmp->data);
}

struct worker {
    struct batch *b;
    pthread_t th;
    int started;
};

/* Audit one article and store its results. Errors from the index end the batch; a malformed
 * article (bad JSONL, over the size cap) is reported and skipped. */
static int audit_one(struct batch *b, struct idx *ix, struct ver_auditor *au, struct ver_extractor *x,
                     struct job *j, struct err *err)
{
    struct ver_article *art = NULL;
    struct ver_result *res = NULL;
    struct idx_audit_row *rows = NULL;
    char **jsons = NULL;
    char (*domains)[256] = NULL;
    struct buf tmp = {0};
    int nr = 0, rc = ver_extractor_run(x, &art, j->text, j->len, j->fmt, j->title, err);
    if (rc) {
        err_prefix(err, "%s", j->path);
        pthread_mutex_lock(&b->mu);
        if (b->tty) fputs("\r\033[K", stderr);
        fprintf(stderr, "vericite: %s\n", err->msg);
        b->failed++;
        err_clear(err);
        rc = finish(b, j->seq, ix, err);
        pthread_mutex_unlock(&b->mu);
        return rc;
    }
    if ((rc = ver_audit(au, art, j->path, &res, &nr, err))) {
        err_prefix(err, "%s", j->path);
        goto out;
    }
    rows = calloc((size_t)nr + 1, sizeof *rows);
    jsons = calloc((size_t)nr + 1, sizeof *jsons);
    domains = calloc((size_t)nr + 1, sizeof *domains);
    if (!rows || !jsons || !domains) { rc = err_set(err, ERR_NOMEM, "%s", j->path); goto out; }
    long fetched = 0;
    for (int i = 0; i < nr; i++) {
        json_t *o = cli_result_json(&res[i]);
        jsons[i] = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!jsons[i]) { rc = err_set(err, ERR_NOMEM, "%s: json", j->path); goto out; }
        url_domain(res[i].url, &tmp, domains[i], sizeof domains[i]);
        double best = 0;
        for (int k = 0; k < res[i].nsugg; k++)
            if (res[i].sugg[k].score > best) best = res[i].sugg[k].score;
        rows[i] = (struct idx_audit_row){.ord = i, .status = res[i].status, .score = res[i].score,
                                         .best = best, .url = res[i].url, .domain = domains[i],
                                         .json = jsons[i]};
        if (!strcmp(res[i].source, "web") || !strcmp(res[i].source, "archive")) fetched++;
    }
    if ((rc = idx_audit_store(ix, j->path, j->hash, j->title, b->run, rows, nr, err))) goto out;
    pthread_mutex_lock(&b->mu);
    b->done++;
    b->cites += nr;
    b->fetched += fetched;
    for (int i = 0; i < nr; i++)
        if (res[i].status >= 0 && res[i].status <= VER_ST_SUPPORTED) b->counts[res[i].status]++;
    rc = finish(b, j->seq, ix, err);
    progress_draw(b, 0);
    pthread_mutex_unlock(&b->mu);
out:
    if (jsons)
        for (int i = 0; i < nr; i++) free(jsons[i]);
    free(jsons);
    free(rows);
    free(domains);
    buf_cleanup(&tmp);
    ver_results_free(res, nr);
    free(res);
    ver_article_free(art);
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct batch *b = w->b;
    struct err err = {0};
    struct idx *ix = NULL;
    struct ver_auditor *au = NULL;
    struct ver_extractor *x = NULL;
    int rc = idx_open(&ix, b->o->db, NULL, &err);
    if (!rc) rc = ver_auditor_new(&au, ix, b->o->vo, &err);
    if (!rc) rc = ver_extractor_new(&x, &err);
    struct job *j;
    while (!rc && (j = pop(b))) {
        rc = audit_one(b, ix, au, x, j, &err);
        job_free(j);
    }
    if (rc) stop_with(b, &err);
    ver_extractor_free(x);
    ver_auditor_free(au);
    idx_close(ix);
    return NULL;
}

/* ---------------------------------------------------------------- the producer */

/* Hash the article, add its key in input order, and queue it unless it is already stored.
 * Takes ownership of j. Returns 0, or an error that ends the batch. */
static int submit(struct batch *b, struct idx *ix, struct job *j, struct err *err)
{
    article_hash(b, j, j->hash);
    int done = 0, rc = idx_audit_done(ix, j->path, j->hash, &done, err);
    if (rc) {
        job_free(j);
        return rc;
    }
    char *path = strdup(j->path);
    pthread_mutex_lock(&b->mu);
    if (path && b->nkeys == b->capkeys) {
        size_t cap = b->capkeys ? b->capkeys * 2 : 256;
        struct key *p = realloc(b->keys, cap * sizeof *p);
        if (p) {
            b->keys = p;
            b->capkeys = cap;
        }
    }
    if (!path || b->nkeys == b->capkeys) {
        pthread_mutex_unlock(&b->mu);
        free(path);
        job_free(j);
        return err_set(err, ERR_NOMEM, "batch");
    }
    j->seq = b->nkeys;
    struct key *k = &b->keys[b->nkeys++];
    k->path = path;
    memcpy(k->hash, j->hash, 17);
    k->finished = 0;
    b->queued++;
    if (done) {
        b->skipped++;
        rc = finish(b, j->seq, ix, err);
        progress_draw(b, 0);
    }
    pthread_mutex_unlock(&b->mu);
    if (done || rc) {
        job_free(j);
        return rc;
    }
    push(b, j);
    return ERR_OK;
}

static enum ver_format format_of(const char *path)
{
    const char *ext = strrchr(path, '.');
    if (ext && (!strcmp(ext, ".wiki") || !strcmp(ext, ".wikitext"))) return VER_FMT_WIKITEXT;
    if (ext && (!strcmp(ext, ".md") || !strcmp(ext, ".markdown"))) return VER_FMT_MARKDOWN;
    if (ext && !strcmp(ext, ".jsonl")) return VER_FMT_CLAIMS;
    return VER_FMT_AUTO;
}

static void report_input_error(struct batch *b, const struct err *e, int *bad_inputs)
{
    pthread_mutex_lock(&b->mu);
    if (b->tty) fputs("\r\033[K", stderr);
    fprintf(stderr, "vericite: %s\n", e->msg);
    b->unreadable++;
    pthread_mutex_unlock(&b->mu);
    (*bad_inputs)++;
}

/* Queue the articles of one file. Input problems are printed; only batch errors are returned. */
static int produce_file(struct batch *b, struct idx *ix, const char *path, int single,
                        int *bad_inputs, struct err *err)
{
    struct buf text = {0};
    struct err e = {0};
    if (cli_read_file(path, &text, &e)) {
        buf_cleanup(&text);
        report_input_error(b, &e, bad_inputs);
        return ERR_OK;
    }
    struct job *j = calloc(1, sizeof *j);
    char title[512];
    if (single && b->o->title) snprintf(title, sizeof title, "%s", b->o->title);
    else if (!strcmp(path, "-")) title[0] = '\0';
    else cli_title_from_path(path, title, sizeof title);
    if (!j || !(j->path = strdup(path)) || !(j->title = strdup(title))) {
        job_free(j);
        buf_cleanup(&text);
        return err_set(err, ERR_NOMEM, "%s", path);
    }
    j->len = text.len;
    j->text = buf_steal(&text);
    j->fmt = format_of(path);
    return submit(b, ix, j, err);
}

/* Queue every article page of a MediaWiki dump, with its wikitext. */
static int produce_dump(struct batch *b, struct idx *ix, const char *path, double at,
                        double share, int *bad_inputs, struct err *err)
{
    struct corpus_opts co = {.format = CORPUS_MWXML, .raw_wikitext = 1, .max_record = VER_MAX_INPUT};
    struct corpus_reader *r = NULL;
    struct err e = {0};
    int rc = corpus_open(&r, path, &co, &e);
    for (;;) {
        if (rc) {
            report_input_error(b, &e, bad_inputs);
            if (!r || rc != ERR_LIMIT) break; /* an oversized page is skipped; anything else ends the dump */
        }
        struct corpus_doc d;
        int has = 0;
        rc = corpus_next(r, &d, &has, &e);
        if (rc) continue;
        if (!has) break;
        uint64_t rd = 0, size = 0;
        corpus_progress(r, &rd, &size);
        pthread_mutex_lock(&b->mu);
        b->frac = at + (size ? share * (double)rd / (double)size : 0);
        pthread_mutex_unlock(&b->mu);
        struct job *j = calloc(1, sizeof *j);
        struct buf p = {0};
        if (!j || buf_printf(&p, "%s#%s", path, d.title) || !(j->title = strdup(d.title)) ||
            !(j->text = malloc(d.text_len + 1))) {
            job_free(j);
            buf_cleanup(&p);
            corpus_close(r);
            return err_set(err, ERR_NOMEM, "%s", path);
        }
        j->path = buf_steal(&p);
        memcpy(j->text, d.text, d.text_len);
        j->text[d.text_len] = '\0';
        j->len = d.text_len;
        j->fmt = VER_FMT_WIKITEXT;
        if ((rc = submit(b, ix, j, err))) {
            corpus_close(r);
            return rc;
        }
    }
    corpus_close(r);
    return ERR_OK;
}

/* ---------------------------------------------------------------- results back from the index */

static int status_of(const char *name)
{
    for (int s = 0; s <= VER_ST_SUPPORTED; s++)
        if (!strcmp(name, ver_status_name(s))) return s;
    return VER_ST_UNREACHABLE;
}

static char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return strdup(v ? v : "");
}

int cli_result_from_json(const char *text, struct ver_result *r, struct err *err)
{
    memset(r, 0, sizeof *r);
    json_t *o = json_loads(text, 0, NULL);
    if (!o) return err_set(err, ERR_CORRUPT, "a stored audit result is not JSON");
    r->article = jstr(o, "article");
    r->article_title = jstr(o, "article_title");
    r->section = jstr(o, "section");
    r->claim = jstr(o, "claim");
    r->ref = (int)json_integer_value(json_object_get(o, "ref"));
    r->url = jstr(o, "url");
    r->title = jstr(o, "title");
    const char *v = json_string_value(json_object_get(o, "verdict"));
    r->status = status_of(v ? v : "");
    r->score = json_number_value(json_object_get(o, "score"));
    r->evidence = jstr(o, "evidence");
    r->source = jstr(o, "source");
    r->detail = jstr(o, "detail");
    json_t *m = json_object_get(o, "matched");
    size_t at = 0, i;
    json_t *it;
    json_array_foreach(m, i, it) {
        const char *w = json_string_value(it);
        const char *hit = w && r->evidence ? strstr(r->evidence + at, w) : NULL;
        if (!hit || r->nmatch >= VER_SCORE_MAX_MATCH) continue;
        r->match[r->nmatch].start = (size_t)(hit - r->evidence);
        r->match[r->nmatch].end = r->match[r->nmatch].start + strlen(w);
        at = r->match[r->nmatch++].end;
    }
    json_array_foreach(json_object_get(o, "missing"), i, it) {
        if (r->nmissing >= VER_SCORE_MAX_MISSING) break;
        r->missing[r->nmissing].start = (size_t)json_integer_value(json_object_get(it, "start"));
        r->missing[r->nmissing].end = (size_t)json_integer_value(json_object_get(it, "end"));
        r->nmissing++;
    }
    json_array_foreach(json_object_get(o, "suggestions"), i, it) {
        if (r->nsugg >= VER_MAX_SUGGEST) break;
        struct ver_suggestion *s = &r->sugg[r->nsugg++];
        s->doc_id = jstr(it, "doc_id");
        s->url = jstr(it, "url");
        s->title = jstr(it, "title");
        s->score = json_number_value(json_object_get(it, "score"));
        s->support = json_number_value(json_object_get(it, "support"));
        s->evidence = jstr(it, "evidence");
        s->cite = jstr(it, "cite");
    }
    json_decref(o);
    int ok = r->article && r->article_title && r->section && r->claim && r->url && r->title &&
             r->evidence && r->source && r->detail;
    for (int k = 0; k < r->nsugg; k++)
        ok = ok && r->sugg[k].doc_id && r->sugg[k].url && r->sugg[k].title && r->sugg[k].evidence &&
             r->sugg[k].cite;
    return ok ? ERR_OK : err_set(err, ERR_NOMEM, "audit result");
}

/* ---------------------------------------------------------------- the batch */

int cli_batch_run(const struct cli_batch_opts *o, char *const *inputs, int ninputs,
                  int (*cb)(void *ctx, const struct idx_audit_row *row), void *ctx, int *bad_inputs,
                  struct err *err)
{
    *bad_inputs = 0;
    struct batch b = {.o = o, .total = -1, .out_cb = cb, .out_ctx = ctx};
    struct sources src = {0};
    struct worker *ws = NULL;
    struct idx *ix = NULL;
    int jobs = o->jobs < 1 ? 1 : o->jobs > BATCH_MAX_JOBS ? BATCH_MAX_JOBS : o->jobs;
    int rc, sync_ok = 0;
    const struct ver_audit_opts *vo = o->vo;
    snprintf(b.options, sizeof b.options, "offline=%d suggest=%d max_suggestions=%d candidates=%d model=%s",
             vo ? vo->offline : 0, vo ? (int)vo->suggest : 0, vo ? vo->max_suggestions : 0,
             vo ? vo->candidates : 0, vo && vo->model_path ? vo->model_path : "");
    if ((rc = expand_inputs(inputs, ninputs, &src, err))) goto out;
    int has_dump = 0;
    for (size_t i = 0; i < src.n; i++) has_dump |= src.v[i].dump;
    if ((rc = idx_open(&ix, o->db, NULL, err))) goto out;
    if ((rc = idx_audit_begin_run(ix, b.options, &b.run, err))) goto out;
    b.qcap = (size_t)jobs * 2;
    b.q = calloc(b.qcap, sizeof *b.q);
    ws = calloc((size_t)jobs, sizeof *ws);
    if (!b.q || !ws) { rc = err_set(err, ERR_NOMEM, "batch"); goto out; }
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.can_pop, NULL);
    pthread_cond_init(&b.can_push, NULL);
    sync_ok = 1;
    b.tty = isatty(2);
    b.stream_tty = isatty(1);
    b.start = cli_now();
    b.last = 0; /* the first article draws at once */
    b.total = has_dump ? -1 : (long)src.n;
    for (int i = 0; i < jobs; i++) {
        ws[i].b = &b;
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) {
            rc = err_set(err, ERR_INTERNAL, "cannot start worker thread %d", i + 1);
            break;
        }
        ws[i].started = 1;
    }
    for (size_t i = 0; !rc && i < src.n; i++) {
        if (src.v[i].dump)
            rc = produce_dump(&b, ix, src.v[i].path, (double)i / (double)src.n, 1.0 / (double)src.n,
                              bad_inputs, err);
        else rc = produce_file(&b, ix, src.v[i].path, src.n == 1, bad_inputs, err);
        pthread_mutex_lock(&b.mu);
        b.frac = (double)(i + 1) / (double)src.n;
        pthread_mutex_unlock(&b.mu);
        pthread_mutex_lock(&b.mu);
        int stopping = b.stop;
        pthread_mutex_unlock(&b.mu);
        if (stopping) break;
    }
    if (rc) stop_with(&b, err);
    pthread_mutex_lock(&b.mu);
    b.closed = 1;
    pthread_cond_broadcast(&b.can_pop);
    pthread_mutex_unlock(&b.mu);
    for (int i = 0; i < jobs; i++)
        if (ws[i].started) pthread_join(ws[i].th, NULL);
    while (b.qlen > 0) { /* left behind by a stop */
        job_free(b.q[b.qhead]);
        b.qhead = (b.qhead + 1) % b.qcap;
        b.qlen--;
    }
    if (b.stop) {
        if (!rc) {
            *err = b.fatal;
            rc = b.fatal.code ? b.fatal.code : ERR_INTERNAL;
        }
        goto out;
    }
    if (b.tty) fputs("\r\033[K", stderr);
    fprintf(stderr, "batch: %ld articles audited, %ld already done, %ld failed, %d bad inputs; %ld citations, "
                    "%ld fetched; %d jobs, %.1f s\n",
            b.done, b.skipped, b.failed, *bad_inputs, b.cites, b.fetched, jobs, cli_now() - b.start);
    *bad_inputs += (int)b.failed;
    rc = flush_out(&b, ix, err); /* all finished by now: nothing is left unless it failed */
    if (!rc && b.next_out != b.nkeys) rc = err_set(err, ERR_INTERNAL, "batch: %zu articles not written", b.nkeys - b.next_out);
out:
    if (sync_ok) {
        pthread_mutex_destroy(&b.mu);
        pthread_cond_destroy(&b.can_pop);
        pthread_cond_destroy(&b.can_push);
    }
    free(b.q);
    free(ws);
    for (size_t i = 0; i < b.nkeys; i++) free(b.keys[i].path);
    free(b.keys);
    sources_free(&src);
    idx_close(ix);
    return rc;
}
