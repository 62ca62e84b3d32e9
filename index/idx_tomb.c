/* idx_tomb.c - deletions as tombstones: removing or replacing a document costs the size of the
 * document, not of the corpus, and postings are merged later (idx_optimize).
 *
 * idx_remove deletes the document's rows (docs, passages, FTS5 entries, vectors) at once, but
 * leaves its postings in place: each passage id goes into tombstones(pid), and each term of
 * those passages into tomb_df(term, n), the number of tombstoned passages that hold it. Readers
 * then
 *   - skip tombstoned pids while decoding postings (idx_pid_live, one bitmap test: the only
 *     filter, used by every postings reader),
 *   - subtract tomb_df from a term's stored passage count (idx_tomb_df), so df is exact,
 * while N and the token total (settings passages, total_tokens) are kept exact at every remove.
 * BM25 over an index with tombstones therefore scores exactly as a fresh index of the live
 * documents does (a test compares them). idx_optimize rewrites the postings of the terms in
 * tomb_df without the dead pids and empties both tables; `vericite index` runs it when the
 * tombstones pass IDX_TOMB_MERGE_SHARE of the passages, and `--optimize` on demand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx_int.h"
#include "vec.h"

static const char *const tomb_schema_sql =
    "CREATE TABLE IF NOT EXISTS tombstones(pid INTEGER PRIMARY KEY);"
    "CREATE TABLE IF NOT EXISTS tomb_df(term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;";

int idx_tomb_schema(struct idx *ix, struct err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(ix->db, tomb_schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, ERR_SQLITE, "%s: tombstones: %s", ix->dbpath, msg ? msg : sqlite3_errmsg(ix->db));
        sqlite3_free(msg);
        return ERR_SQLITE;
    }
    return ERR_OK;
}

/* ---------------------------------------------------------------- the bitmap */

static int mark_dead(struct idx *ix, int64_t pid)
{
    if (pid <= 0) return ERR_OK;
    size_t need = (size_t)(pid >> 3) + 1;
    if (need > ix->dead_cap) {
        size_t want = need < ix->dead_cap * 2 ? ix->dead_cap * 2 : need;
        if (vec_grow_zero((void **)&ix->dead, &ix->dead_cap, want, 1)) return ERR_NOMEM;
    }
    unsigned char bit = (unsigned char)(1u << (pid & 7));
    if (!(ix->dead[pid >> 3] & bit)) ix->n_dead++;
    ix->dead[pid >> 3] |= bit;
    return ERR_OK;
}

int idx_pid_live(const struct idx *ix, int64_t pid)
{
    if (ix->n_dead == 0) return 1;
    size_t byte = (size_t)(pid >> 3);
    return byte >= ix->dead_cap || !(ix->dead[byte] & (1u << (pid & 7)));
}

static int64_t data_version(struct idx *ix)
{
    int64_t v = -1;
    if (idx_prepare(ix, &ix->st_data_version, "PRAGMA data_version", NULL) == ERR_OK &&
        sqlite3_step(ix->st_data_version) == SQLITE_ROW)
        v = sqlite3_column_int64(ix->st_data_version, 0);
    if (ix->st_data_version) sqlite3_reset(ix->st_data_version);
    return v;
}

/* Read tombstones(pid) into the bitmap (none when the table does not exist: an older index
 * opened read-only). */
static int load_dead(struct idx *ix, struct err *err)
{
    if (ix->dead) memset(ix->dead, 0, ix->dead_cap);
    ix->n_dead = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, "SELECT pid FROM tombstones", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return ERR_OK;
    }
    int s, rc = ERR_OK;
    while ((s = sqlite3_step(st)) == SQLITE_ROW && !rc)
        if (mark_dead(ix, sqlite3_column_int64(st, 0))) rc = err_set(err, ERR_NOMEM, "tombstones");
    sqlite3_finalize(st);
    if (!rc && s != SQLITE_DONE) rc = idx_sql_err(ix, err, "read tombstones");
    return rc;
}

int idx_tomb_refresh(struct idx *ix, struct err *err)
{
    if (ix->in_tx && ix->dead_loaded) return ERR_OK; /* this handle's own view is current */
    int64_t v = data_version(ix);
    if (ix->dead_loaded && v == ix->dead_version) return ERR_OK;
    int rc = load_dead(ix, err);
    if (rc) return rc;
    /* another process committed: its corpus totals too (outside a transaction of ours) */
    if (ix->dead_loaded && !ix->in_tx && (rc = idx_reload_totals(ix, err))) return rc;
    ix->dead_loaded = 1;
    ix->dead_version = v;
    return ERR_OK;
}

void idx_tomb_reset(struct idx *ix)
{
    ix->dead_loaded = 0; /* read again from the database on next use */
}

void idx_tomb_cleanup(struct idx *ix)
{
    free(ix->dead);
    ix->dead = NULL;
    ix->dead_cap = 0;
    ix->n_dead = 0;
    sqlite3_finalize(ix->st_tomb_df);
    sqlite3_finalize(ix->st_tomb_add);
    sqlite3_finalize(ix->st_tomb_ins);
    sqlite3_finalize(ix->st_data_version);
    ix->st_tomb_df = ix->st_tomb_add = ix->st_tomb_ins = ix->st_data_version = NULL;
}

int idx_tomb_df(struct idx *ix, const char *term, size_t len, int64_t *n, struct err *err)
{
    *n = 0;
    if (ix->n_dead == 0) return ERR_OK;
    int rc = idx_prepare(ix, &ix->st_tomb_df, "SELECT n FROM tomb_df WHERE term=?", err);
    if (rc) return rc;
    sqlite3_bind_text(ix->st_tomb_df, 1, term, (int)len, SQLITE_STATIC);
    int s = sqlite3_step(ix->st_tomb_df);
    if (s == SQLITE_ROW) *n = sqlite3_column_int64(ix->st_tomb_df, 0);
    sqlite3_reset(ix->st_tomb_df);
    return s == SQLITE_ROW || s == SQLITE_DONE ? ERR_OK : idx_sql_err(ix, err, "read tomb_df");
}

int64_t idx_tomb_count(struct idx *ix)
{
    idx_tomb_refresh(ix, NULL);
    return ix->n_dead;
}

/* ---------------------------------------------------------------- removing */

struct term_list {
    char **v;
    size_t n, cap;
};

static int term_list_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos, (void)s, (void)e;
    struct term_list *l = c;
    if (vec_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v)) return -1;
    char *t = malloc(len + 1);
    if (!t) return -1;
    memcpy(t, term, len);
    t[len] = '\0';
    l->v[l->n++] = t;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sort l->v[from..n) and drop repeats in it: the distinct terms of one passage. */
static void unique_tail(struct term_list *l, size_t from)
{
    size_t n = l->n - from;
    if (n < 2) return;
    char **v = l->v + from;
    qsort(v, n, sizeof *v, cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(v[i], v[w - 1]) == 0) free(v[i]);
        else v[w++] = v[i];
    }
    l->n = from + w;
}

/* Add the counts of the (sorted) terms to tomb_df: one row update per distinct term. */
static int add_dead_terms(struct idx *ix, struct term_list *l, struct err *err)
{
    if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, cmp_str);
    int rc = idx_prepare(ix, &ix->st_tomb_add,
                         "INSERT INTO tomb_df(term, n) VALUES(?, ?)"
                         " ON CONFLICT(term) DO UPDATE SET n = n + excluded.n",
                         err);
    for (size_t i = 0; i < l->n && !rc;) {
        size_t j = i + 1;
        while (j < l->n && strcmp(l->v[j], l->v[i]) == 0) j++;
        sqlite3_reset(ix->st_tomb_add);
        sqlite3_bind_text(ix->st_tomb_add, 1, l->v[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(ix->st_tomb_add, 2, (int64_t)(j - i));
        if (sqlite3_step(ix->st_tomb_add) != SQLITE_DONE) rc = idx_sql_err(ix, err, "write tomb_df");
        i = j;
    }
    if (ix->st_tomb_add) sqlite3_reset(ix->st_tomb_add);
    return rc;
}

/* Tombstone one passage: its row in tombstones, its bit, its distinct terms (the title's and
 * its text's: exactly the terms it has postings under) onto `dead`, its FTS5 entry and vector
 * gone. */
static int bury_passage(struct idx *ix, int64_t pid, const char *title, const char *text, int tl,
                        struct term_list *dead, struct err *err)
{
    int rc = idx_vec_forget(ix, pid, err);
    if (rc) return rc;
    size_t from = dead->n;
    if (corpus_tok_run(ix->tok, title, strlen(title), term_list_cb, dead) ||
        corpus_tok_run(ix->tok, text, (size_t)tl, term_list_cb, dead))
        return err_set(err, ERR_NOMEM, "remove");
    unique_tail(dead, from);
    sqlite3_reset(ix->st_fts_del);
    sqlite3_bind_int64(ix->st_fts_del, 1, pid);
    sqlite3_bind_text(ix->st_fts_del, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_fts_del, 3, text, tl, SQLITE_STATIC);
    if (sqlite3_step(ix->st_fts_del) != SQLITE_DONE) return idx_sql_err(ix, err, "delete from FTS5");
    if ((rc = idx_prepare(ix, &ix->st_tomb_ins, "INSERT OR IGNORE INTO tombstones(pid) VALUES(?)", err)))
        return rc;
    sqlite3_bind_int64(ix->st_tomb_ins, 1, pid);
    if (sqlite3_step(ix->st_tomb_ins) != SQLITE_DONE) rc = idx_sql_err(ix, err, "write tombstones");
    sqlite3_reset(ix->st_tomb_ins);
    if (!rc && mark_dead(ix, pid)) rc = err_set(err, ERR_NOMEM, "remove");
    return rc;
}

int idx_remove(struct idx *ix, const char *id, int *found, struct err *err)
{
    if (found) *found = 0;
    if (!ix->in_tx) return err_set(err, ERR_INTERNAL, "idx_remove outside a transaction");
    idx_tokcache_clear(ix); /* FTS5 deletes are tokenised from the stored text */
    int rc = idx_tomb_refresh(ix, err);
    if (rc) return rc;
    sqlite3_stmt *st = NULL;
    int64_t row = -1, npids = 0, tokens = 0;
    struct term_list dead = {0};
    char *title = NULL;
    if (sqlite3_prepare_v2(ix->db, "SELECT row, title FROM docs WHERE id=?", -1, &st, NULL) != SQLITE_OK)
        return idx_sql_err(ix, err, "find document");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        row = sqlite3_column_int64(st, 0);
        title = strdup((const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (row < 0) return ERR_OK;
    if (!title) return err_set(err, ERR_NOMEM, "remove");
    if (found) *found = 1;

    if ((rc = idx_prepare(ix, &ix->st_doc_pas, "SELECT pid, len, text FROM passages WHERE doc=? ORDER BY pid", err)) ||
        (rc = idx_prepare(ix, &ix->st_fts_del,
                          "INSERT INTO passages_fts(passages_fts, rowid, title, text)"
                          " VALUES('delete', ?, ?, ?)", err)))
        goto out;
    sqlite3_bind_int64(ix->st_doc_pas, 1, row);
    int s;
    while ((s = sqlite3_step(ix->st_doc_pas)) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(ix->st_doc_pas, 0);
        const char *text = (const char *)sqlite3_column_text(ix->st_doc_pas, 2);
        int tl = sqlite3_column_bytes(ix->st_doc_pas, 2);
        tokens += sqlite3_column_int64(ix->st_doc_pas, 1);
        npids++;
        if ((rc = bury_passage(ix, pid, title, text ? text : "", tl, &dead, err))) break;
    }
    sqlite3_reset(ix->st_doc_pas);
    sqlite3_reset(ix->st_fts_del);
    if (rc) goto out;
    if (s != SQLITE_DONE) {
        rc = idx_sql_err(ix, err, "read passages");
        goto out;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM passages WHERE doc=%lld; DELETE FROM docs WHERE row=%lld",
             (long long)row, (long long)row);
    if (sqlite3_exec(ix->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        rc = idx_sql_err(ix, err, "delete document");
        goto out;
    }
    if ((rc = add_dead_terms(ix, &dead, err))) goto out;
    ix->n_passages -= npids;
    ix->total_tokens -= tokens;
out:
    for (size_t i = 0; i < dead.n; i++) free(dead.v[i]);
    free(dead.v);
    free(title);
    return rc;
}

/* ---------------------------------------------------------------- merging */

int idx_optimize(struct idx *ix, double min_share, int64_t *merged, struct err *err)
{
    if (merged) *merged = 0;
    if (!ix->in_tx) return err_set(err, ERR_INTERNAL, "idx_optimize outside a transaction");
    int rc = idx_tomb_refresh(ix, err);
    if (rc) return rc;
    int64_t ndead = ix->n_dead;
    if (ndead == 0 || (double)ndead < min_share * (double)(ix->n_passages + ndead)) return ERR_OK;
    /* postings buffered in this transaction may hold tombstoned pids too */
    if ((rc = idx_pbuf_flush(ix, err))) return rc;
    int64_t *gone = NULL;
    size_t ngone = 0, gcap = 0;
    struct term_list terms = {0};
    sqlite3_stmt *st = NULL;
    int s = SQLITE_DONE;
    if (sqlite3_prepare_v2(ix->db, "SELECT pid FROM tombstones ORDER BY pid", -1, &st, NULL) != SQLITE_OK) {
        rc = idx_sql_err(ix, err, "read tombstones");
        goto out;
    }
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (vec_grow((void **)&gone, &gcap, ngone + 1, sizeof *gone)) { s = SQLITE_NOMEM; break; }
        gone[ngone++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s != SQLITE_DONE) {
        rc = s == SQLITE_NOMEM ? err_set(err, ERR_NOMEM, "optimize") : idx_sql_err(ix, err, "read tombstones");
        goto out;
    }
    if (sqlite3_prepare_v2(ix->db, "SELECT term FROM tomb_df ORDER BY term", -1, &st, NULL) != SQLITE_OK) {
        rc = idx_sql_err(ix, err, "read tomb_df");
        goto out;
    }
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (term_list_cb(&terms, t, (size_t)sqlite3_column_bytes(st, 0), 0, 0, 0)) { s = SQLITE_NOMEM; break; }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s != SQLITE_DONE) {
        rc = s == SQLITE_NOMEM ? err_set(err, ERR_NOMEM, "optimize") : idx_sql_err(ix, err, "read tomb_df");
        goto out;
    }
    for (size_t i = 0; i < terms.n && !rc; i++) rc = idx_post_drop(ix, terms.v[i], gone, ngone, err);
    if (!rc && sqlite3_exec(ix->db, "DELETE FROM tombstones; DELETE FROM tomb_df", NULL, NULL, NULL) != SQLITE_OK)
        rc = idx_sql_err(ix, err, "clear tombstones");
    if (!rc) {
        if (ix->dead) memset(ix->dead, 0, ix->dead_cap);
        ix->n_dead = 0;
        if (merged) *merged = ndead;
    }
out:
    for (size_t i = 0; i < terms.n; i++) free(terms.v[i]);
    free(terms.v);
    free(gone);
    return rc;
}
