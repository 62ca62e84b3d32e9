/* idx_audit.c - generic storage for batch audits: which articles are finished (path + hash, both
 * the caller's), one row per citation with the caller's record, its verdict's name, score, URL and
 * domain, and listings over them. Verdicts are names chosen by the caller (verify/ver_store.c):
 * nothing here knows which verdicts exist, which are worse, or how a record is encoded. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"
#include "idx_int.h"

/* Rows written before the verdict column existed have their verdict only in the record. The
 * upgrade (idx_audit_upgrade) copies it once from the record's "verdict" member, the one thing
 * this module ever read from a record, and a read-only handle on an index not yet upgraded reads
 * it from there on the fly. */
#define AUD_LEGACY_VERDICT "coalesce(json_extract(json, '$.verdict'), '')"

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

/* 1 when `sql` (one count) gives 1. */
static int aud_one(struct idx *ix, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        ok = sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return ok;
}

/* 1 when the audit tables exist (a read-only handle on an index that never had them: 0). */
static int aud_tables(struct idx *ix)
{
    return aud_one(ix, "SELECT count(*) FROM sqlite_master WHERE name='audit_results'");
}

static int aud_has_verdict(struct idx *ix)
{
    return aud_one(ix, "SELECT count(*) FROM pragma_table_info('audit_results') WHERE name='verdict'");
}

/* What the queries read as a row's verdict. */
static const char *aud_verdict(struct idx *ix)
{
    return aud_has_verdict(ix) ? "verdict" : AUD_LEGACY_VERDICT;
}

int idx_audit_upgrade(struct idx *ix, struct err *err)
{
    if (ix->readonly || !aud_tables(ix) || aud_has_verdict(ix)) return ERR_OK;
    int rc = aud_exec(ix, "BEGIN IMMEDIATE", err);
    if (rc) return rc;
    if (!aud_has_verdict(ix)) /* another connection may have been first */
        rc = aud_exec(ix,
                      "ALTER TABLE audit_results ADD COLUMN verdict TEXT NOT NULL DEFAULT '';"
                      "UPDATE audit_results SET verdict = " AUD_LEGACY_VERDICT ";"
                      "CREATE INDEX IF NOT EXISTS audit_results_verdict ON audit_results(verdict);",
                      err);
    if (!rc) rc = aud_exec(ix, "COMMIT", err);
    if (rc) {
        aud_exec(ix, "ROLLBACK", NULL);
        err_prefix(err, "upgrading the audit tables");
    }
    return rc;
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

static int aud_insert_article(struct idx *ix, const char *path, const char *hash, const char *title,
                              int64_t run, int n, struct err *err)
{
    int rc = idx_prepare(ix, &ix->st_aud_ins_art,
                         "INSERT INTO audit_articles(path, hash, title, run, citations, done_at)"
                         " VALUES(?,?,?,?,?,strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                         err);
    if (rc) return rc;
    sqlite3_stmt *st = ix->st_aud_ins_art;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, title ? title : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, run);
    sqlite3_bind_int(st, 5, n);
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    return s == SQLITE_DONE ? ERR_OK : idx_sql_err(ix, err, "store audit article");
}

static int aud_insert_rows(struct idx *ix, const char *path, const char *hash,
                           const struct idx_audit_row *rows, int n, struct err *err)
{
    int rc = idx_prepare(ix, &ix->st_aud_ins_res,
                         "INSERT INTO audit_results(path, hash, ord, status, score, best, url, domain,"
                         " json, verdict) VALUES(?,?,?,?,?,?,?,?,?,?)",
                         err);
    if (rc) return rc;
    sqlite3_stmt *st = ix->st_aud_ins_res;
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
        sqlite3_bind_text(st, 10, r->verdict ? r->verdict : "", -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = idx_sql_err(ix, err, "store audit result");
            break;
        }
    }
    sqlite3_reset(st);
    return rc;
}

int idx_audit_store(struct idx *ix, const char *path, const char *hash, const char *title,
                    int64_t run, const struct idx_audit_row *rows, int n, struct err *err)
{
    if (ix->readonly) return err_set(err, ERR_ARG, "%s: index opened read-only", ix->dir);
    if (ix->in_tx) return err_set(err, ERR_INTERNAL, "idx_audit_store inside a transaction");
    int rc = aud_exec(ix, "BEGIN IMMEDIATE", err);
    if (rc) return rc;
    if (!(rc = aud_delete_path(ix, path, err)) && !(rc = aud_insert_article(ix, path, hash, title, run, n, err)) &&
        !(rc = aud_insert_rows(ix, path, hash, rows, n, err)) && !(rc = aud_exec(ix, "COMMIT", err)))
        return ERR_OK;
    aud_exec(ix, "ROLLBACK", NULL);
    return err_prefix(err, "%s", path);
}

/* Run a prepared query whose columns are AUD_COLS. */
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
            .verdict = (const char *)sqlite3_column_text(st, 9),
        };
        if (!r.path || !r.hash || !r.url || !r.domain || !r.json || !r.verdict) {
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
    int rc = ERR_OK;
    if (!ix->st_aud_res) {
        struct buf sql = {0};
        if (buf_printf(&sql, "SELECT " AUD_COLS ", %s FROM audit_results WHERE path=? AND hash=? ORDER BY ord",
                       aud_verdict(ix)))
            return err_set(err, ERR_NOMEM, "audit results");
        rc = idx_prepare(ix, &ix->st_aud_res, sql.data, err);
        buf_cleanup(&sql);
        if (rc) return rc;
    }
    sqlite3_reset(ix->st_aud_res);
    sqlite3_bind_text(ix->st_aud_res, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_aud_res, 2, hash, -1, SQLITE_STATIC);
    rc = aud_rows(ix, ix->st_aud_res, cb, ctx, err);
    sqlite3_reset(ix->st_aud_res);
    return rc;
}

static int aud_need_tables(struct idx *ix, struct err *err)
{
    if (aud_tables(ix)) return ERR_OK;
    return err_set(err, ERR_NOTFOUND, "%s: no stored audit results", ix->dir);
}

/* Append "(?A,?B,...)" for the `n` verdicts bound from parameter `first` on. */
static int aud_in_list(struct buf *sql, int first, int n)
{
    int bad = buf_putc(sql, '(');
    for (int i = 0; i < n; i++) bad |= buf_printf(sql, "%s?%d", i ? "," : "", first + i);
    return bad || buf_putc(sql, ')');
}

static int aud_count(const char *const *v, int *n, struct err *err)
{
    *n = 0;
    while (v && v[*n]) {
        if (++*n > IDX_AUDIT_MAX_VERDICTS) return err_set(err, ERR_ARG, "more than %d verdicts in one list", IDX_AUDIT_MAX_VERDICTS);
    }
    return ERR_OK;
}

/* The SQL of listing `q` over `nv` verdicts (parameters ?1..?nv; ?nv+1 the gap, ?nv+2 the limit). */
static int aud_list_sql(struct idx *ix, const struct idx_audit_query *q, int nv, struct buf *sql, struct err *err)
{
    const char *v = aud_verdict(ix);
    int bad = buf_printf(sql, "SELECT " AUD_COLS ", %s FROM audit_results WHERE 1", v);
    if (q->verdicts) bad |= buf_printf(sql, " AND %s IN ", v) || aud_in_list(sql, 1, nv);
    if (q->gap) bad |= buf_printf(sql, " AND best > score + ?%d", nv + 1);
    switch (q->order) {
    case IDX_AUDIT_BY_VERDICT:
        bad |= buf_puts(sql, " ORDER BY ");
        if (nv) {
            bad |= buf_printf(sql, "CASE %s", v);
            for (int i = 0; i < nv; i++) bad |= buf_printf(sql, " WHEN ?%d THEN %d", i + 1, i);
            bad |= buf_printf(sql, " ELSE %d END, ", nv);
        }
        bad |= buf_puts(sql, "score");
        break;
    case IDX_AUDIT_BY_DOMAIN: bad |= buf_puts(sql, " ORDER BY domain, url"); break;
    case IDX_AUDIT_BY_GAP: bad |= buf_puts(sql, " ORDER BY best - score DESC"); break;
    default: return err_set(err, ERR_ARG, "unknown audit listing order %d", (int)q->order);
    }
    bad |= buf_printf(sql, ", path, ord LIMIT ?%d", nv + 2);
    return bad ? err_set(err, ERR_NOMEM, "audit listing") : ERR_OK;
}

int idx_audit_list(struct idx *ix, const struct idx_audit_query *q, idx_audit_cb cb, void *ctx,
                   struct err *err)
{
    int nv = 0, rc = aud_count(q->verdicts, &nv, err);
    if (!rc) rc = aud_need_tables(ix, err);
    if (rc) return rc;
    struct buf sql = {0};
    sqlite3_stmt *st = NULL;
    if ((rc = aud_list_sql(ix, q, nv, &sql, err))) goto out;
    if (sqlite3_prepare_v2(ix->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        rc = idx_sql_err(ix, err, "prepare audit listing");
        goto out;
    }
    for (int i = 0; i < nv; i++) sqlite3_bind_text(st, i + 1, q->verdicts[i], -1, SQLITE_STATIC);
    sqlite3_bind_double(st, nv + 1, q->min_gap);
    sqlite3_bind_int64(st, nv + 2, q->limit > 0 ? q->limit : -1);
    rc = aud_rows(ix, st, cb, ctx, err);
out:
    sqlite3_finalize(st);
    buf_cleanup(&sql);
    return rc;
}

static int aud_domain_rows(struct idx *ix, sqlite3_stmt *st, idx_audit_domain_cb cb, void *ctx, struct err *err)
{
    int s, rc = ERR_OK;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct idx_audit_domain d = {.domain = (const char *)sqlite3_column_text(st, 0),
                                     .citations = sqlite3_column_int64(st, 1),
                                     .failing = sqlite3_column_int64(st, 2),
                                     .dead = sqlite3_column_int64(st, 3)};
        if (!d.domain) return err_set(err, ERR_NOMEM, "read audit domains");
        if ((rc = cb(ctx, &d))) return rc;
    }
    return s == SQLITE_DONE ? ERR_OK : idx_sql_err(ix, err, "read audit domains");
}

int idx_audit_domains(struct idx *ix, const char *const *failing, const char *const *dead, int limit,
                      idx_audit_domain_cb cb, void *ctx, struct err *err)
{
    int nf = 0, nd = 0, rc = aud_count(failing, &nf, err);
    if (!rc) rc = aud_count(dead, &nd, err);
    if (!rc) rc = aud_need_tables(ix, err);
    if (rc) return rc;
    struct buf sql = {0};
    sqlite3_stmt *st = NULL;
    int bad = buf_printf(&sql, "SELECT domain, count(*), sum(%s IN ", aud_verdict(ix));
    bad |= aud_in_list(&sql, 2, nf) || buf_printf(&sql, "), sum(%s IN ", aud_verdict(ix));
    bad |= aud_in_list(&sql, 2 + nf, nd);
    bad |= buf_puts(&sql, ") FROM audit_results WHERE domain <> '' GROUP BY domain"
                          " ORDER BY 3 DESC, 2 DESC, domain LIMIT ?1");
    if (bad) {
        rc = err_set(err, ERR_NOMEM, "audit domains");
        goto out;
    }
    if (sqlite3_prepare_v2(ix->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        rc = idx_sql_err(ix, err, "prepare audit domains");
        goto out;
    }
    sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
    for (int i = 0; i < nf; i++) sqlite3_bind_text(st, 2 + i, failing[i], -1, SQLITE_STATIC);
    for (int i = 0; i < nd; i++) sqlite3_bind_text(st, 2 + nf + i, dead[i], -1, SQLITE_STATIC);
    rc = aud_domain_rows(ix, st, cb, ctx, err);
out:
    sqlite3_finalize(st);
    buf_cleanup(&sql);
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
