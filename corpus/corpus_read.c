/* corpus_read.c - opening a corpus (format detection), the skip_bad policy and progress, shared
 * by the JSON Lines, folder and MediaWiki XML readers. */
#include "corpus_read_int.h"

#include "ascii.h"
#include "utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Does s end with the lower-case `suffix`, ignoring ASCII case? */
static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return m <= n && ascii_casecmp(s + n - m, suffix) == 0;
}

/* A file whose first bytes are bzip2 magic, an XML declaration or a <mediawiki> root. */
static int looks_like_mwxml(const char *path)
{
    char head[512];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[n] = '\0';
    size_t i = 0;
    if (n >= 3 && memcmp(head, "BZh", 3) == 0) return 1;
    if (n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) i++;
    return strncmp(head + i, "<?xml", 5) == 0 || strncmp(head + i, "<mediawiki", 10) == 0;
}

int corpus_open(struct corpus_reader **out, const char *path, const struct corpus_opts *opts,
                struct err *err)
{
    struct corpus_opts o = {0};
    struct corpus_reader *r = NULL;
    struct stat st;
    int rc;
    *out = NULL;
    if (opts) o = *opts;
    if (!path || !*path) return err_set(err, ERR_ARG, "corpus: no path given");
    if (strcmp(path, "-") == 0) { /* JSON Lines on standard input */
        if (o.format != CORPUS_AUTO && o.format != CORPUS_JSONL)
            return err_set(err, ERR_ARG, "-: only JSON Lines can be read from standard input");
        memset(&st, 0, sizeof st);
        st.st_mode = S_IFIFO;
        o.format = CORPUS_JSONL;
    } else if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return err_set(err, ERR_NOTFOUND, "%s: no such file or directory", path);
        return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
    }
    int isdir = S_ISDIR(st.st_mode);
    if (o.format == CORPUS_AUTO) {
        if (isdir) o.format = CORPUS_DIR;
        else if (ends_with(path, ".xml") || ends_with(path, ".xml.bz2") || looks_like_mwxml(path))
            o.format = CORPUS_MWXML;
        else o.format = CORPUS_JSONL;
    }
    if (o.format != CORPUS_JSONL && o.format != CORPUS_DIR && o.format != CORPUS_MWXML)
        return err_set(err, ERR_ARG, "%s: unknown corpus format %d", path, (int)o.format);
    if (o.format == CORPUS_DIR && !isdir) return err_set(err, ERR_ARG, "%s: not a directory", path);
    if (o.format != CORPUS_DIR && isdir) return err_set(err, ERR_ARG, "%s: is a directory", path);

    r = calloc(1, sizeof *r);
    if (!r) return err_set(err, ERR_NOMEM, "corpus_open");
    r->format = o.format;
    r->skip_bad = o.skip_bad;
    r->html = o.html;
    r->max_record = o.max_record ? o.max_record : CORPUS_MAX_RECORD;
    r->raw_wikitext = o.raw_wikitext;
    r->path = strdup(path);
    r->url_prefix = strdup(o.url_prefix ? o.url_prefix : "");
    if (!r->path || !r->url_prefix) {
        rc = err_set(err, ERR_NOMEM, "corpus_open");
        goto fail;
    }
    switch (r->format) {
    case CORPUS_JSONL:
        r->total = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        r->chunk = malloc(CORPUS_CHUNK);
        if (!r->chunk) {
            rc = err_set(err, ERR_NOMEM, "corpus_open");
            goto fail;
        }
        r->is_stdin = strcmp(path, "-") == 0;
        r->f = r->is_stdin ? stdin : fopen(path, "rb");
        if (!r->f) {
            rc = err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
            goto fail;
        }
        break;
    case CORPUS_DIR:
        if ((rc = corpus_dir_open(r, err)) != ERR_OK) goto fail;
        break;
    default:
        r->total = (uint64_t)st.st_size;
        if ((rc = corpus_mwxml_open(r, err)) != ERR_OK) goto fail;
        break;
    }
    *out = r;
    return ERR_OK;
fail:
    corpus_close(r);
    return rc;
}

void corpus_doc_fill(struct corpus_reader *r, struct corpus_doc *doc, long line)
{
    struct buf *bs[] = {&r->id, &r->title, &r->url, &r->text, &r->source};
    for (size_t k = 0; k < sizeof bs / sizeof bs[0]; k++)
        if (!bs[k]->data && buf_reserve(bs[k], 0) == 0) bs[k]->data[0] = '\0'; /* at least "" */
    doc->id = r->id.data ? r->id.data : "";
    doc->title = r->title.data ? r->title.data : "";
    doc->url = r->url.data ? r->url.data : "";
    doc->text = r->text.data ? r->text.data : "";
    doc->text_len = r->text.len;
    doc->source = r->source.data ? r->source.data : "";
    doc->line = line;
}

/* The last check on every document a format reader hands out: a field that is not valid UTF-8
 * (libxml2 lets some malformed bytes through CDATA, for one) gets U+FFFD for each bad sequence, so
 * nothing invalid is ever stored. Returns 0 or -1 (out of memory). */
static int doc_repair(struct corpus_reader *r, struct corpus_doc *doc)
{
    struct buf *bs[] = {&r->id, &r->title, &r->url, &r->text, &r->source};
    int fixed = 0;
    for (size_t k = 0; k < sizeof bs / sizeof bs[0]; k++) {
        struct buf *b = bs[k];
        if (!b->data || utf8_valid(b->data, b->len, NULL)) continue;
        buf_reset(&r->fix);
        if (utf8_repair(&r->fix, b->data, b->len, NULL) != 0) return -1;
        struct buf t = *b;
        *b = r->fix;
        r->fix = t;
        fixed = 1;
    }
    if (fixed) corpus_doc_fill(r, doc, doc->line);
    return 0;
}

int corpus_next(struct corpus_reader *r, struct corpus_doc *doc, int *has, struct err *err)
{
    struct err e = {0};
    *has = 0;
    memset(doc, 0, sizeof *doc);
    if (r->fatal) {
        if (err) *err = r->fatal_err;
        return r->fatal_err.code;
    }
    for (;;) {
        int rc;
        r->skippable = 0;
        switch (r->format) {
        case CORPUS_JSONL: rc = corpus_jsonl_next(r, doc, has, &e); break;
        case CORPUS_DIR: rc = corpus_dir_next(r, doc, has, &e); break;
        default: rc = corpus_mwxml_next(r, doc, has, &e); break;
        }
        if (rc == ERR_OK && *has && doc_repair(r, doc) != 0) {
            *has = 0;
            return err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
        }
        if (rc == ERR_OK) return ERR_OK;
        int skippable = r->skippable || rc == ERR_PARSE || rc == ERR_UTF8 || rc == ERR_LIMIT;
        if (r->skip_bad && skippable && !r->fatal) {
            r->skipped++;
            if (!r->first_skip) r->first_skip = strdup(e.msg); /* NULL on OOM: reason lost only */
            err_clear(&e);
            continue;
        }
        if (r->fatal) r->fatal_err = e;
        if (err) *err = e;
        *has = 0;
        return rc;
    }
}

long corpus_skipped(const struct corpus_reader *r, const char **first)
{
    if (first) *first = r && r->first_skip ? r->first_skip : NULL;
    return r ? r->skipped : 0;
}

void corpus_progress(const struct corpus_reader *r, uint64_t *done, uint64_t *total)
{
    if (done) *done = r ? r->done : 0;
    if (total) *total = r ? r->total : 0;
}

void corpus_close(struct corpus_reader *r)
{
    if (!r) return;
    if (r->f && !r->is_stdin) fclose(r->f);
    corpus_dir_close(r);
    corpus_mwxml_close(r);
    free(r->chunk);
    free(r->path);
    free(r->url_prefix);
    free(r->first_skip);
    buf_cleanup(&r->id);
    buf_cleanup(&r->title);
    buf_cleanup(&r->url);
    buf_cleanup(&r->text);
    buf_cleanup(&r->source);
    buf_cleanup(&r->scratch);
    buf_cleanup(&r->fix);
    free(r);
}
