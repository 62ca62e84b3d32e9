/* idx_lookup.c - small lookups for the command line and the audit: a document by its id, a term's
 * passage count, and the web-search answer cache (search_cache, made on first use). */
#include <stdlib.h>
#include <string.h>

#include "idx_int.h"

/* Statements here are prepared per call: each lookup runs a few times per command, never in a
 * hot loop. */

int idx_find_id(struct idx *ix, const char *id, struct idx_doc *out, int *found, struct err *err)
{
    *found = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, "SELECT row, id, title, url, passages FROM docs WHERE id=?", -1, &st, NULL) !=
        SQLITE_OK)
        return idx_sql_err(ix, err, "find document by id");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = ERR_OK, s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *v[3];
        size_t off[3];
        buf_reset(&ix->doc_strings);
        for (int i = 0; i < 3 && !rc; i++) {
            const char *t = (const char *)sqlite3_column_text(st, 1 + i);
            off[i] = ix->doc_strings.len;
            if (buf_puts(&ix->doc_strings, t ? t : "") || buf_putc(&ix->doc_strings, '\0'))
                rc = err_set(err, ERR_NOMEM, "read document");
        }
        for (int i = 0; i < 3 && !rc; i++) v[i] = ix->doc_strings.data + off[i];
        if (!rc) {
            *out = (struct idx_doc){.row = sqlite3_column_int64(st, 0), .id = v[0], .title = v[1], .url = v[2],
                                    .passages = sqlite3_column_int(st, 4)};
            *found = 1;
        }
    } else if (s != SQLITE_DONE) {
        rc = idx_sql_err(ix, err, "find document by id");
    }
    sqlite3_finalize(st);
    return rc;
}

int idx_term_df(struct idx *ix, const char *term, size_t len, int64_t *df, struct err *err)
{
    *df = 0;
    sqlite3_stmt *st = NULL;
    /* n comes before the data blob in the row, so the blob's pages are not read */
    if (sqlite3_prepare_v2(ix->db, "SELECT coalesce(sum(n), 0) FROM postings WHERE term=?", -1, &st, NULL) !=
        SQLITE_OK)
        return idx_sql_err(ix, err, "term frequency");
    sqlite3_bind_text(st, 1, term, (int)len, SQLITE_STATIC);
    int rc = ERR_OK;
    if (sqlite3_step(st) == SQLITE_ROW) *df = sqlite3_column_int64(st, 0);
    else rc = idx_sql_err(ix, err, "term frequency");
    sqlite3_finalize(st);
    int64_t dead = 0; /* tombstoned passages (idx_tomb.c) are not counted */
    if (!rc && *df > 0 && !(rc = idx_tomb_refresh(ix, err)) && !(rc = idx_tomb_df(ix, term, len, &dead, err)))
        *df -= dead;
    return rc;
}

#define SEARCH_CACHE_SQL                                                                           \
    "CREATE TABLE IF NOT EXISTS search_cache(url TEXT PRIMARY KEY, fetched_at TEXT NOT NULL,"      \
    " answer TEXT NOT NULL)"

int idx_search_cache_get(struct idx *ix, const char *url, struct buf *answer, int *found, struct err *err)
{
    *found = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, "SELECT answer FROM search_cache WHERE url=?", -1, &st, NULL) != SQLITE_OK) {
        /* no table yet (nothing was ever cached, or a read-only handle on an older index): a miss */
        sqlite3_finalize(st);
        return ERR_OK;
    }
    sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
    int rc = ERR_OK, s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (buf_puts(answer, t ? t : "")) rc = err_set(err, ERR_NOMEM, "search cache");
        else *found = 1;
    } else if (s != SQLITE_DONE) {
        rc = idx_sql_err(ix, err, "read search cache");
    }
    sqlite3_finalize(st);
    return rc;
}

int idx_search_cache_put(struct idx *ix, const char *url, const char *answer, struct err *err)
{
    if (ix->readonly) return err_set(err, ERR_ARG, "%s: index opened read-only", ix->dir);
    char *msg = NULL;
    if (sqlite3_exec(ix->db, SEARCH_CACHE_SQL, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, ERR_SQLITE, "%s: search cache: %s", ix->dbpath, msg ? msg : sqlite3_errmsg(ix->db));
        sqlite3_free(msg);
        return ERR_SQLITE;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db,
                           "INSERT OR REPLACE INTO search_cache(url, fetched_at, answer)"
                           " VALUES(?, strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return idx_sql_err(ix, err, "write search cache");
    sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, answer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? ERR_OK : idx_sql_err(ix, err, "write search cache");
    sqlite3_finalize(st);
    return rc;
}
