/* idx_audit.c - stored results of batch audits: which articles are finished (path + content
 * hash), one row per citation with its verdict, score, URL and domain, and the views that
 * `vericite report` reads (review queue, dead links, better suggestions, per-domain figures).
 * Status numbers are those of enum ver_status (verify/ver.h): 0 dead, 1 unreachable, 2 no-text,
 * 3 no-url, 4 contradicted, 5 unsupported, 6 weak, 7 supported. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"
#include "idx_int.h"

#define AUD_ST_DEAD 0
#define AUD_ST_WEAK 6
#define AUD_BETTER_GAP 0.3 /* a suggestion this much above the cited source counts as better */

static int aud_exec(struct idx *ix, const char *sql, struct err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(ix->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, ERR_SQLITE, "%s: %s", ix->dbpath, msg ? msg : sqlite3_errmsg(ix->db));
        sqlite3_free(msg);
        return ERR_SQLITE;
    }
    return ERR_OK;
}

/* 1 when the audit tables exist (a read-only handle on an index that never had them: 0). */
static int aud_tables(struct idx *ix)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM sqlite_master WHERE name='audit_results'", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ok = sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return ok;
}

int idx_audit_begin_run(struct idx *ix, const char *options, int64_t *run, struct err *err)
{
    *run = 0;
    if (ix->readonly) return err_set(err, ERR_ARG, "%s: index opened read-only", ix->dir);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db,
                           "INSERT INTO audit_runs(started, options)"
                           " VALUES(strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return idx_sql_err(ix, err, "prepare audit run");
    sqlite3_bind_text(st, 1, options ? options : "", -1, SQLITE_STATIC);
    int rc = ERR_OK;
    if (sqlite3_step(st) != SQLITE_DONE) rc = idx_sql_err(ix, err, "record audit run");
    else *run = sqlite3_last_insert_rowid(ix->db);
    sqlite3_finalize(st);
    return rc;
}

int idx_audit_done(struct idx *ix, const char *path, const char *hash, int *done, struct err *err)
{
    *done = 0;
    if (ix->readonly && !aud_tables(ix)) return ERR_OK;
    int rc = idx_prepare(ix, &ix->st_aud_done, "SELECT 1 FROM audit_articles WHERE path=? AND hash=?", err);
    if (rc) return rc;
    sqlite3_bind_text(ix->st_aud_done, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_aud_done, 2, hash, -1, SQLITE_STATIC);
    int s = sqlite3_step(ix->st_aud_done);
    if (s == SQLITE_ROW) *done = 1;
    else if (s != SQLITE_DONE) rc = idx_sql_err(ix, err, "read audit articles");
    sqlite3_reset(ix->st_aud_done);
    return rc;
}

static int aud_delete_path(struct idx *ix, const char *path, struct err *err)
{
    static const char *const sql[] = {"DELETE FROM audit_results WHERE path=?",
                                      "DELETE FROM audit_articles WHERE path=?"};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(ix->db, sql[i], -1, &st, NULL) != SQLITE_OK)
            return idx_sql_err(ix, err, "prepare audit delete");
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        sqlite3_finalize(st);
        if (s != SQLITE_DONE) return idx_sql_err(ix, err, "replace audit results");
    }
    return ERR_OK;
}

int idx_audit_store(struct idx *ix, const char *path, const char *hash, const char *title,
                    int64_t run, const struct idx_audit_row *rows, int n, struct err *err)
{
    if (ix->readonly) return err_set(err, ERR_ARG, "%s: index opened read-only", ix->dir);
    if (ix->in_tx) return err_set(err, ERR_INTERNAL, "idx_audit_store inside a transaction");
    int rc = aud_exec(ix, "BEGIN IMMEDIATE", err);
    if (rc) return rc;
    if ((rc = aud_delete_path(ix, path, err))) goto fail;
    if ((rc = idx_prepare(ix, &ix->st_aud_ins_art,
                          "INSERT INTO audit_articles(path, hash, title, run, citations, done_at)"
                          " VALUES(?,?,?,?,?,strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                          err)))
        goto fail;
    sqlite3_stmt *st = ix->st_aud_ins_art;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, title ? title : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, run);
    sqlite3_bind_int(st, 5, n);
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        rc = idx_sql_err(ix, err, "store audit article");
        goto fail;
    }
    if ((rc = idx_prepare(ix, &ix->st_aud_ins_res,
                          "INSERT INTO audit_results(path, hash, ord, status, score, best, url, domain,"
                          " json) VALUES(?,?,?,?,?,?,?,?,?)",
                          err)))
        goto fail;
    st = ix->st_aud_ins_res;
    for (int i = 0; i < n; i++) {
        const struct idx_audit_row *r = &rows[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, r->ord);
        sqlite3_bind_int(st, 4, r->status);
        sqlite3_bind_double(st, 5, r->score);
        sqlite3_bind_double(st, 6, r->best);
        sqlite3_bind_text(st, 7, r->url ? r->url : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, r->domain ? r->domain : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, r->json ? r->json : "{}", -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = idx_sql_err(ix, err, "store audit result");
            sqlite3_reset(st);
            goto fail;
        }
    }
    sqlite3_reset(st);
    if ((rc = aud_exec(ix, "COMMIT", err))) goto fail;
    return ERR_OK;
fail:
    aud_exec(ix, "ROLLBACK", NULL);
    return err_prefix(err, "%s", path);
}

/* Run a prepared query whose columns are path, hash, ord, status, score, best, url, domain, json. */
static int aud_rows(struct idx *ix, sqlite3_stmt *st, idx_audit_cb cb, void *ctx, struct err *err)
{
    int s, rc = ERR_OK;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct idx_audit_row r = {
            .path = (const char *)sqlite3_column_text(st, 0),
            .hash = (const char *)sqlite3_column_text(st, 1),
            .ord = sqlite3_column_int(st, 2),
            .status = sqlite3_column_int(st, 3),
            .score = sqlite3_column_double(st, 4),
            .best = sqlite3_column_double(st, 5),
            .url = (const char *)sqlite3_column_text(st, 6),
            .domain = (const char *)sqlite3_column_text(st, 7),
            .json = (const char *)sqlite3_column_text(st, 8),
        };
        if (!r.path || !r.hash || !r.url || !r.domain || !r.json) {
            rc = err_set(err, ERR_NOMEM, "read audit result");
            break;
        }
        if ((rc = cb(ctx, &r))) break;
    }
    if (!rc && s != SQLITE_DONE) rc = idx_sql_err(ix, err, "read audit results");
    return rc;
}

#define AUD_COLS "path, hash, ord, status, score, best, url, domain, json"

int idx_audit_results(struct idx *ix, const char *path, const char *hash, idx_audit_cb cb, void *ctx,
                      struct err *err)
{
    if (ix->readonly && !aud_tables(ix)) return ERR_OK;
    int rc = idx_prepare(ix, &ix->st_aud_res,
                         "SELECT " AUD_COLS " FROM audit_results WHERE path=? AND hash=? ORDER BY ord", err);
    if (rc) return rc;
    sqlite3_bind_text(ix->st_aud_res, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_aud_res, 2, hash, -1, SQLITE_STATIC);
    rc = aud_rows(ix, ix->st_aud_res, cb, ctx, err);
    sqlite3_reset(ix->st_aud_res);
    return rc;
}

static int aud_need_tables(struct idx *ix, struct err *err)
{
    if (aud_tables(ix)) return ERR_OK;
    return err_set(err, ERR_NOTFOUND, "%s: no stored audit results (run: vericite audit --db %s --jobs N ...)",
                   ix->dir, ix->dir);
}

int idx_audit_view(struct idx *ix, enum idx_audit_view view, int limit, idx_audit_cb cb, void *ctx,
                   struct err *err)
{
    const char *sql;
    switch (view) {
    case IDX_AUDIT_QUEUE:
        sql = "SELECT " AUD_COLS " FROM audit_results WHERE status <> 7"
              " ORDER BY status, score, path, ord LIMIT ?";
        break;
    case IDX_AUDIT_DEAD:
        sql = "SELECT " AUD_COLS " FROM audit_results WHERE status = 0 ORDER BY domain, url, path, ord LIMIT ?";
        break;
    case IDX_AUDIT_BETTER:
        sql = "SELECT " AUD_COLS " FROM audit_results WHERE best > score + ?2"
              " ORDER BY best - score DESC, path, ord LIMIT ?1";
        break;
    default: return err_set(err, ERR_ARG, "unknown audit view %d", (int)view);
    }
    int rc = aud_need_tables(ix, err);
    if (rc) return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) return idx_sql_err(ix, err, "prepare audit view");
    sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
    if (view == IDX_AUDIT_BETTER) sqlite3_bind_double(st, 2, AUD_BETTER_GAP);
    rc = aud_rows(ix, st, cb, ctx, err);
    sqlite3_finalize(st);
    return rc;
}

int idx_audit_domains(struct idx *ix, int limit, idx_audit_domain_cb cb, void *ctx, struct err *err)
{
    int rc = aud_need_tables(ix, err);
    if (rc) return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT domain, count(*), sum(status < ?2), sum(status = ?3) FROM audit_results"
                           " WHERE domain <> '' GROUP BY domain"
                           " ORDER BY 3 DESC, 2 DESC, domain LIMIT ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return idx_sql_err(ix, err, "prepare audit domains");
    sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
    sqlite3_bind_int(st, 2, AUD_ST_WEAK);
    sqlite3_bind_int(st, 3, AUD_ST_DEAD);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct idx_audit_domain d = {.domain = (const char *)sqlite3_column_text(st, 0),
                                     .citations = sqlite3_column_int64(st, 1),
                                     .failing = sqlite3_column_int64(st, 2),
                                     .dead = sqlite3_column_int64(st, 3)};
        if (!d.domain) {
            rc = err_set(err, ERR_NOMEM, "read audit domains");
            break;
        }
        if ((rc = cb(ctx, &d))) break;
    }
    if (!rc && s != SQLITE_DONE && s != SQLITE_ROW) rc = idx_sql_err(ix, err, "read audit domains");
    sqlite3_finalize(st);
    return rc;
}

int idx_audit_counts(struct idx *ix, int64_t *articles, int64_t *citations, struct err *err)
{
    *articles = *citations = 0;
    if (!aud_tables(ix)) return ERR_OK;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT (SELECT count(*) FROM audit_articles), (SELECT count(*) FROM audit_results)",
                           -1, &st, NULL) != SQLITE_OK)
        return idx_sql_err(ix, err, "prepare audit counts");
    int rc = ERR_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *articles = sqlite3_column_int64(st, 0);
        *citations = sqlite3_column_int64(st, 1);
    } else {
        rc = idx_sql_err(ix, err, "count audit results");
    }
    sqlite3_finalize(st);
    return rc;
}
