/* idx_doc.c - documents by URL and by row, a document's whole text, and the fetch cache. */
#include <stdlib.h>
#include <string.h>

#include "idx_int.h"

/* Copy n strings of the current row of st (columns first..first+n-1) into ix->doc_strings and
 * point out[i] at them. */
static int copy_strings(struct idx *ix, sqlite3_stmt *st, int first, int n, const char **out,
                        struct err *err)
{
    size_t off[8];
    buf_reset(&ix->doc_strings);
    for (int i = 0; i < n; i++) {
        const char *v = (const char *)sqlite3_column_text(st, first + i);
        off[i] = ix->doc_strings.len;
        if (buf_puts(&ix->doc_strings, v ? v : "") || buf_putc(&ix->doc_strings, '\0'))
            return err_set(err, ERR_NOMEM, "read document");
    }
    for (int i = 0; i < n; i++) out[i] = ix->doc_strings.data + off[i];
    return ERR_OK;
}

static int read_doc_row(struct idx *ix, sqlite3_stmt *st, struct idx_doc *out, struct err *err)
{
    const char *s[3];
    int rc = copy_strings(ix, st, 1, 3, s, err);
    if (rc) return rc;
    out->row = sqlite3_column_int64(st, 0);
    out->id = s[0];
    out->title = s[1];
    out->url = s[2];
    out->passages = sqlite3_column_int(st, 4);
    return ERR_OK;
}

int idx_find_url(struct idx *ix, const char *url, struct idx_doc *out, int *found, struct err *err)
{
    *found = 0;
    if (corpus_url_normalize(url, &ix->nurl) != 0) return ERR_OK;
    int rc = idx_prepare(ix, &ix->st_find_url, IDX_SQL_FIND_URL, err);
    if (rc) return rc;
    sqlite3_bind_text(ix->st_find_url, 1, ix->nurl.data, -1, SQLITE_STATIC);
    int s = sqlite3_step(ix->st_find_url);
    if (s == SQLITE_ROW) {
        rc = read_doc_row(ix, ix->st_find_url, out, err);
        *found = rc == ERR_OK;
    } else if (s != SQLITE_DONE) {
        rc = idx_sql_err(ix, err, "find document by URL");
    }
    sqlite3_reset(ix->st_find_url);
    return rc;
}

int idx_find_title(struct idx *ix, const char *title, struct idx_doc *out, int *found, struct err *err)
{
    *found = 0;
    while (*title == ' ') title++;
    size_t n = strlen(title);
    while (n > 0 && title[n - 1] == ' ') n--;
    if (n < 3) return ERR_OK; /* too short to identify a document */
    int rc = idx_prepare(ix, &ix->st_find_title, IDX_SQL_FIND_TITLE, err);
    if (rc) return rc;
    sqlite3_bind_text(ix->st_find_title, 1, title, (int)n, SQLITE_STATIC);
    int s = sqlite3_step(ix->st_find_title);
    if (s == SQLITE_ROW) {
        rc = read_doc_row(ix, ix->st_find_title, out, err);
        *found = rc == ERR_OK;
    } else if (s != SQLITE_DONE) {
        rc = idx_sql_err(ix, err, "find document by title");
    }
    sqlite3_reset(ix->st_find_title);
    return rc;
}

int idx_doc(struct idx *ix, int64_t row, struct idx_doc *out, struct err *err)
{
    int rc = idx_prepare(ix, &ix->st_doc_row,
                         "SELECT row, id, title, url, passages FROM docs WHERE row=?", err);
    if (rc) return rc;
    sqlite3_bind_int64(ix->st_doc_row, 1, row);
    int s = sqlite3_step(ix->st_doc_row);
    if (s == SQLITE_ROW) rc = read_doc_row(ix, ix->st_doc_row, out, err);
    else if (s == SQLITE_DONE) rc = err_set(err, ERR_NOTFOUND, "document row %lld not in the index", (long long)row);
    else rc = idx_sql_err(ix, err, "read document");
    sqlite3_reset(ix->st_doc_row);
    return rc;
}

int idx_doc_text(struct idx *ix, int64_t row, struct buf *text, struct err *err)
{
    int rc = idx_prepare(ix, &ix->st_doc_text, "SELECT text FROM passages WHERE doc=? ORDER BY ord", err);
    if (rc) return rc;
    sqlite3_bind_int64(ix->st_doc_text, 1, row);
    int s, n = 0;
    while ((s = sqlite3_step(ix->st_doc_text)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(ix->st_doc_text, 0);
        if ((n++ && buf_putc(text, ' ')) || buf_puts(text, t ? t : "")) {
            rc = err_set(err, ERR_NOMEM, "document text");
            break;
        }
    }
    if (!rc && s != SQLITE_DONE) rc = idx_sql_err(ix, err, "read document text");
    sqlite3_reset(ix->st_doc_text);
    return rc;
}

int idx_cache_get(struct idx *ix, const char *url, struct idx_fetch *out, int *found, struct err *err)
{
    *found = 0;
    int rc = idx_prepare(ix, &ix->st_cache_get,
                         ix->cache_guard ? "SELECT status, url, final_url, outcome, content_type, fetched_at, title,"
                                           " text, private_addrs FROM fetch_cache WHERE url=?"
                                         : "SELECT status, url, final_url, outcome, content_type, fetched_at, title,"
                                           " text, '*' FROM fetch_cache WHERE url=?",
                         err);
    if (rc) return rc;
    sqlite3_bind_text(ix->st_cache_get, 1, url, -1, SQLITE_STATIC);
    int s = sqlite3_step(ix->st_cache_get);
    if (s == SQLITE_ROW) {
        const char *v[8];
        rc = copy_strings(ix, ix->st_cache_get, 1, 8, v, err);
        if (!rc) {
            out->status = (long)sqlite3_column_int64(ix->st_cache_get, 0);
            out->url = v[0];
            out->final_url = v[1];
            out->outcome = v[2];
            out->content_type = v[3];
            out->fetched_at = v[4];
            out->title = v[5];
            out->text = v[6];
            out->private_addrs = v[7];
            *found = 1;
        }
    } else if (s != SQLITE_DONE) {
        rc = idx_sql_err(ix, err, "read fetch cache");
    }
    sqlite3_reset(ix->st_cache_get);
    return rc;
}

int idx_cache_put(struct idx *ix, const struct idx_fetch *f, struct err *err)
{
    if (ix->readonly) return err_set(err, ERR_ARG, "%s: index opened read-only", ix->dir);
    int rc = idx_prepare(ix, &ix->st_cache_put,
                         "INSERT OR REPLACE INTO fetch_cache(url, final_url, status, outcome,"
                         " content_type, fetched_at, title, text, private_addrs)"
                         " VALUES(?,?,?,?,?,strftime('%Y-%m-%dT%H:%M:%SZ','now'),?,?,?)",
                         err);
    if (rc) return rc;
    sqlite3_stmt *st = ix->st_cache_put;
    sqlite3_bind_text(st, 1, f->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->final_url ? f->final_url : f->url, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, f->status);
    sqlite3_bind_text(st, 4, f->outcome ? f->outcome : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, f->content_type ? f->content_type : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, f->title ? f->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, f->text ? f->text : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, f->private_addrs ? f->private_addrs : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = idx_sql_err(ix, err, "write fetch cache");
    sqlite3_reset(st);
    return rc;
}
