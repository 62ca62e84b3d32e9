/* corpus_jsonl.c - JSON Lines corpora: BEIR (_id, title, text), Pyserini (id, contents), SciFact
 * and Citation-Integrity (doc_id, abstract as an array of sentences). Lines are read with a cap;
 * a longer line is skipped over without being held in memory. */
#include "utf8.h"
#include "corpus_read_int.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

/* Read the next line (without "\n" or "\r\n") into r->scratch. *got is 0 at the end of input.
 * *over is 1 when the line is longer than max_record: scratch then holds only its start. */
static int next_line(struct corpus_reader *r, int *got, int *over, struct err *err)
{
    int any = 0;
    buf_reset(&r->scratch);
    *got = *over = 0;
    for (;;) {
        if (r->chunk_pos == r->chunk_len) {
            if (r->eof) break;
            size_t n = fread(r->chunk, 1, CORPUS_CHUNK, r->f);
            if (n == 0) {
                if (ferror(r->f))
                    return err_set(err, ERR_IO, "%s:%ld: read error: %s", r->path, r->line + 1,
                                   strerror(errno));
                r->eof = 1;
                break;
            }
            r->chunk_pos = 0;
            r->chunk_len = n;
        }
        const char *p = r->chunk + r->chunk_pos;
        size_t avail = r->chunk_len - r->chunk_pos;
        const char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        any = 1;
        if (!*over) {
            if (r->scratch.len + take > r->max_record) *over = 1;
            else if (buf_append(&r->scratch, p, take) != 0)
                return err_set(err, ERR_NOMEM, "%s:%ld: out of memory", r->path, r->line + 1);
        }
        r->chunk_pos += take + (nl ? 1 : 0);
        r->done += take + (nl ? 1 : 0);
        if (nl) break;
    }
    if (!any) return ERR_OK;
    r->line++;
    *got = 1;
    if (r->scratch.len && r->scratch.data[r->scratch.len - 1] == '\r')
        r->scratch.data[--r->scratch.len] = '\0';
    return ERR_OK;
}

/* Append a JSON string's bytes to b, NUL characters (\u0000) turned into spaces. */
static int put_string(struct buf *b, const json_t *s)
{
    const char *v = json_string_value(s);
    size_t n = json_string_length(s), at = b->len;
    if (buf_append(b, v, n) != 0) return -1;
    for (size_t i = at; i < b->len; i++)
        if (b->data[i] == '\0') b->data[i] = ' ';
    return 0;
}

/* A text field: a string, or an array of strings joined with spaces. Returns 0, 1 for another
 * type, -1 when out of memory. */
static int put_text(struct buf *b, const json_t *v)
{
    if (json_is_string(v)) return put_string(b, v);
    if (!json_is_array(v)) return 1;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) return 1;
        if (b->len && buf_putc(b, ' ') != 0) return -1;
        if (put_string(b, e) != 0) return -1;
    }
    return 0;
}

static int fill_doc(struct corpus_reader *r, json_t *o, struct err *err)
{
    static const char *const id_keys[] = {"_id", "id", "doc_id", "docid", NULL};
    static const char *const text_keys[] = {"text", "contents", "abstract", "body", NULL};
    const char *p = r->path;
    long ln = r->line;
    json_t *v = NULL;
    buf_reset(&r->id);
    buf_reset(&r->title);
    buf_reset(&r->url);
    buf_reset(&r->text);
    for (int k = 0; id_keys[k] && !v; k++) v = json_object_get(o, id_keys[k]);
    int bad = 0;
    if (json_is_string(v)) bad = put_string(&r->id, v);
    else if (json_is_integer(v)) bad = buf_printf(&r->id, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v)) bad = buf_printf(&r->id, "%.17g", json_real_value(v));
    else return err_set(err, ERR_PARSE, "%s:%ld: missing \"_id\" (or \"id\", \"doc_id\")", p, ln);
    if (bad) goto oom;
    if (r->id.len == 0) return err_set(err, ERR_PARSE, "%s:%ld: empty \"_id\"", p, ln);

    v = NULL;
    const char *tkey = NULL;
    for (int k = 0; text_keys[k] && !v; k++) v = json_object_get(o, tkey = text_keys[k]);
    if (!v || json_is_null(v))
        return err_set(err, ERR_PARSE, "%s:%ld: missing \"text\" (or \"contents\", \"abstract\")", p, ln);
    int t = put_text(&r->text, v);
    if (t < 0) goto oom;
    if (t > 0)
        return err_set(err, ERR_PARSE, "%s:%ld: \"%s\" is not a string or an array of strings", p, ln,
                       tkey);

    v = json_object_get(o, "title");
    if (json_is_string(v) && put_string(&r->title, v) != 0) goto oom;
    v = json_object_get(o, "url");
    if (json_is_string(v) && put_string(&r->url, v) != 0) goto oom;
    return ERR_OK;
oom:
    return err_set(err, ERR_NOMEM, "%s:%ld: out of memory", p, ln);
}

int corpus_jsonl_next(struct corpus_reader *r, struct corpus_doc *doc, int *has, struct err *err)
{
    int rc, got, over;
    *has = 0;
    if (r->source.len == 0 && buf_puts(&r->source, r->path) != 0)
        return err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
    for (;;) {
        if ((rc = next_line(r, &got, &over, err)) != ERR_OK) return rc;
        if (!got) return ERR_OK;
        if (over)
            return err_set(err, ERR_LIMIT, "%s:%ld: line longer than %zu bytes", r->path, r->line,
                           r->max_record);
        const char *s = r->scratch.data;
        size_t n = r->scratch.len;
        if (r->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3, n -= 3;
        if (r->line == 1 && n >= 2 && (unsigned char)s[0] == 0x1f && (unsigned char)s[1] == 0x8b)
            return err_set(err, ERR_IO, "%s: gzip-compressed data: decompress it first", r->path);
        const char *nul = n ? memchr(s, '\0', n) : NULL;
        if (nul)
            return err_set(err, ERR_IO, "%s:%ld: NUL byte at column %zu: binary data, not JSON Lines",
                           r->path, r->line, (size_t)(nul - s) + 1);
        size_t i = 0;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) i++;
        if (i == n) continue; /* blank line */
        size_t bad;
        if (!utf8_valid(s, n, &bad))
            return err_set(err, ERR_UTF8, "%s:%ld: invalid UTF-8 at column %zu", r->path, r->line,
                           bad + 1);
        json_error_t je;
        json_t *o = json_loadb(s, n, 0, &je);
        if (!o)
            return err_set(err, ERR_PARSE, "%s:%ld: invalid JSON at column %d: %s", r->path, r->line,
                           je.column, je.text);
        if (!json_is_object(o)) {
            json_decref(o);
            return err_set(err, ERR_PARSE, "%s:%ld: not a JSON object", r->path, r->line);
        }
        rc = fill_doc(r, o, err);
        json_decref(o);
        if (rc != ERR_OK) return rc;
        corpus_doc_fill(r, doc, r->line);
        *has = 1;
        return ERR_OK;
    }
}
