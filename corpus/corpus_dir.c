/* corpus_dir.c - a folder of .txt .md .html .htm .wiki files walked recursively in sorted order.
 * Symbolic links to folders are not followed (no loops); hidden entries (".name") are ignored. */
#include "utf8.h"
#include "corpus_read_int.h"
#include "ascii.h"
#include "vec.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CORPUS_DIR_MAX_FILES (4u << 20) /* files in one corpus folder */
#define CORPUS_DIR_MAX_DEPTH 64

enum dir_kind { DK_NONE, DK_TXT, DK_MD, DK_HTML, DK_WIKI };

static enum dir_kind kind_of(const char *name)
{
    static const struct {
        const char *ext;
        enum dir_kind kind;
    } exts[] = {{".txt", DK_TXT}, {".md", DK_MD}, {".html", DK_HTML}, {".htm", DK_HTML},
                {".wiki", DK_WIKI}};
    size_t n = strlen(name);
    for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++) {
        size_t m = strlen(exts[k].ext);
        if (n > m && ascii_casecmp(name + n - m, exts[k].ext) == 0) return exts[k].kind;
    }
    return DK_NONE;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Join root and rel into b ("root/rel"). Returns 0 or -1. */
static int join(struct buf *b, const char *root, const char *rel)
{
    size_t n = strlen(root);
    buf_reset(b);
    if (buf_append(b, root, n) != 0) return -1;
    if (*rel && n && root[n - 1] != '/' && buf_putc(b, '/') != 0) return -1;
    return buf_puts(b, rel);
}

struct walk {
    struct corpus_reader *r;
    size_t cap;
    struct buf full;
};

static int add_file(struct walk *w, const char *rel, uint64_t size, struct err *err)
{
    struct corpus_reader *r = w->r;
    if (r->nfiles >= CORPUS_DIR_MAX_FILES)
        return err_set(err, ERR_LIMIT, "%s: more than %u files", r->path, CORPUS_DIR_MAX_FILES);
    if (vec_grow((void **)&r->files, &w->cap, r->nfiles + 1, sizeof *r->files))
        return err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
    if (!(r->files[r->nfiles] = strdup(rel))) return err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
    r->nfiles++;
    r->total += size;
    return ERR_OK;
}

/* Walk the folder `rel` (relative to the root; "" for the root itself). */
static int walk_dir(struct walk *w, const char *rel, int depth, struct err *err)
{
    struct corpus_reader *r = w->r;
    struct buf child = {0};
    DIR *d = NULL;
    int rc = ERR_OK;
    if (depth > CORPUS_DIR_MAX_DEPTH)
        return err_set(err, ERR_LIMIT, "%s/%s: folders nested deeper than %d", r->path, rel,
                       CORPUS_DIR_MAX_DEPTH);
    if (join(&w->full, r->path, rel) != 0) goto oom;
    if (!(d = opendir(w->full.data))) {
        rc = err_set(err, ERR_IO, "%s: %s", w->full.data, strerror(errno));
        goto fail;
    }
    struct dirent *e;
    while ((errno = 0, e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ".", "..", hidden files and folders */
        buf_reset(&child);
        if ((*rel && (buf_puts(&child, rel) != 0 || buf_putc(&child, '/') != 0)) ||
            buf_puts(&child, e->d_name) != 0)
            goto oom;
        if (join(&w->full, r->path, child.data) != 0) goto oom;
        struct stat st;
        if (lstat(w->full.data, &st) != 0) {
            rc = err_set(err, ERR_IO, "%s: %s", w->full.data, strerror(errno));
            goto fail;
        }
        if (S_ISLNK(st.st_mode)) {
            /* a link to a file counts; a link to a folder is not followed */
            if (stat(w->full.data, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if ((rc = walk_dir(w, child.data, depth + 1, err)) != ERR_OK) goto fail;
        } else if (S_ISREG(st.st_mode) && kind_of(e->d_name) != DK_NONE) {
            if ((rc = add_file(w, child.data, (uint64_t)st.st_size, err)) != ERR_OK) goto fail;
        }
    }
    if (errno != 0) {
        rc = err_set(err, ERR_IO, "%s: %s", r->path, strerror(errno));
        goto fail;
    }
    closedir(d);
    buf_cleanup(&child);
    return ERR_OK;
oom:
    rc = err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
fail:
    if (d) closedir(d);
    buf_cleanup(&child);
    return rc;
}

int corpus_dir_open(struct corpus_reader *r, struct err *err)
{
    struct walk w = {r, 0, {0}};
    int rc = walk_dir(&w, "", 0, err);
    buf_cleanup(&w.full);
    if (rc != ERR_OK) return rc;
    if (r->nfiles > 1) qsort(r->files, r->nfiles, sizeof *r->files, cmp_str);
    return ERR_OK;
}

void corpus_dir_close(struct corpus_reader *r)
{
    for (size_t i = 0; i < r->nfiles; i++) free(r->files[i]);
    free(r->files);
    r->files = NULL;
    r->nfiles = 0;
}

/* Read the file r->source into r->scratch, at most max_record bytes. */
static int read_file(struct corpus_reader *r, struct err *err)
{
    const char *p = r->source.data;
    FILE *f = fopen(p, "rb");
    int rc = ERR_OK;
    buf_reset(&r->scratch);
    if (!f) return err_set(err, ERR_IO, "%s: %s", p, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (uint64_t)st.st_size > r->max_record) {
        r->done += (uint64_t)st.st_size;
        rc = err_set(err, ERR_LIMIT, "%s: file of %lld bytes is longer than %zu bytes", p,
                     (long long)st.st_size, r->max_record);
        goto done;
    }
    for (;;) {
        if (buf_reserve(&r->scratch, CORPUS_CHUNK) != 0) {
            rc = err_set(err, ERR_NOMEM, "%s: out of memory", p);
            goto done;
        }
        size_t n = fread(r->scratch.data + r->scratch.len, 1, CORPUS_CHUNK, f);
        r->scratch.len += n;
        r->scratch.data[r->scratch.len] = '\0';
        r->done += n;
        if (r->scratch.len > r->max_record) { /* grew while we read it */
            rc = err_set(err, ERR_LIMIT, "%s: file longer than %zu bytes", p, r->max_record);
            goto done;
        }
        if (n < CORPUS_CHUNK) break;
    }
    if (ferror(f)) rc = err_set(err, ERR_IO, "%s: read error: %s", p, strerror(errno));
done:
    fclose(f);
    return rc;
}

/* Nonzero when s[0..n) is only whitespace. */
static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f'))
            return 0;
    return 1;
}

/* The first "# Heading" line of a Markdown file, trimmed. */
static int md_title(struct buf *title, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - s) : n;
        if (e - i >= 2 && s[i] == '#' && (s[i + 1] == ' ' || s[i + 1] == '\t')) {
            size_t a = i + 2, b = e;
            while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r' || s[b - 1] == '#'))
                b--;
            return buf_append(title, s + a, b - a);
        }
        i = e + 1;
    }
    return 0;
}

static void note_skip(struct corpus_reader *r, const char *why)
{
    r->skipped++;
    if (!r->first_skip) {
        struct buf b = {0};
        if (buf_printf(&b, "%s: %s", r->source.data, why) == 0) r->first_skip = buf_steal(&b);
        buf_cleanup(&b);
    }
}

int corpus_dir_next(struct corpus_reader *r, struct corpus_doc *doc, int *has, struct err *err)
{
    int rc;
    *has = 0;
    for (;;) {
        if (r->next_file >= r->nfiles) return ERR_OK;
        const char *rel = r->files[r->next_file++];
        if (join(&r->source, r->path, rel) != 0) return err_set(err, ERR_NOMEM, "%s: out of memory", rel);
        const char *p = r->source.data;
        if ((rc = read_file(r, err)) != ERR_OK) return rc;
        const char *s = r->scratch.data;
        size_t n = r->scratch.len;
        if (n == 0) {
            note_skip(r, "empty file");
            continue;
        }
        const char *nul = memchr(s, '\0', n);
        if (nul) {
            r->skippable = 1;
            return err_set(err, ERR_IO, "%s: binary file (NUL byte at offset %zu)", p,
                           (size_t)(nul - s));
        }
        enum dir_kind kind = kind_of(rel);
        buf_reset(&r->id);
        buf_reset(&r->title);
        buf_reset(&r->url);
        buf_reset(&r->text);
        size_t bad;
        if (kind != DK_HTML && !utf8_valid(s, n, &bad))
            return err_set(err, ERR_UTF8, "%s: invalid UTF-8 at byte %zu", p, bad);
        if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3, n -= 3;
        if (kind == DK_HTML) {
            if ((rc = corpus_html_text_budget(s, n, &r->html, &r->title, &r->text, err)) != ERR_OK)
                return err_prefix(err, "%s", p);
        } else if (kind == DK_WIKI) {
            if ((rc = corpus_wikitext_text(s, n, &r->text, err)) != ERR_OK) return err_prefix(err, "%s", p);
        } else {
            if (buf_append(&r->text, s, n) != 0) goto oom;
            if (kind == DK_MD && md_title(&r->title, s, n) != 0) goto oom;
        }
        if (kind == DK_HTML && !utf8_valid(r->text.data, r->text.len, &bad))
            return err_set(err, ERR_UTF8, "%s: text is not valid UTF-8 at byte %zu", p, bad);
        if (blank(r->text.data ? r->text.data : "", r->text.len)) {
            note_skip(r, "no text");
            continue;
        }
        if (r->title.len == 0) {
            const char *base = strrchr(rel, '/');
            base = base ? base + 1 : rel;
            const char *dot = strrchr(base, '.');
            if (buf_append(&r->title, base, dot && dot > base ? (size_t)(dot - base) : strlen(base)) != 0)
                goto oom;
        }
        if (buf_puts(&r->id, rel) != 0) goto oom;
        if (r->url_prefix[0] && (buf_puts(&r->url, r->url_prefix) != 0 || buf_puts(&r->url, rel) != 0))
            goto oom;
        /* titles and paths come from outside too: keep the "valid UTF-8" promise */
        if (!utf8_valid(r->title.data, r->title.len, NULL)) buf_reset(&r->title);
        if (!utf8_valid(r->id.data, r->id.len, NULL))
            return err_set(err, ERR_UTF8, "%s: file name is not valid UTF-8", p);
        corpus_doc_fill(r, doc, 0);
        *has = 1;
        return ERR_OK;
    oom:
        return err_set(err, ERR_NOMEM, "%s: out of memory", p);
    }
}
