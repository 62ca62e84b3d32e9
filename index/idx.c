/* idx.c - the on-disk index: SQLite schema, documents, passages, FTS5 with the vericite
 * tokenizer, and the term postings that BM25 retrieval reads. */
#include "idx.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "hash.h"
#include "idx_int.h"



uint64_t idx_auto_commit_text(uint64_t input_bytes)
{
    return input_bytes >= IDX_AUTO_COMMIT_INPUT ? IDX_AUTO_COMMIT_TEXT : 0;
}

/* Buffered postings are flushed to SQLite when they take more than this much memory. */
#define IDX_FLUSH_BYTES (192u << 20)

static const char *const schema_sql =
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE docs(row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,"
    " url TEXT NOT NULL, nurl TEXT NOT NULL, source TEXT NOT NULL, hash TEXT NOT NULL,"
    " passages INTEGER NOT NULL, added TEXT NOT NULL);"
    "CREATE INDEX docs_nurl ON docs(nurl) WHERE nurl <> '';"
    "CREATE TABLE passages(pid INTEGER PRIMARY KEY AUTOINCREMENT, doc INTEGER NOT NULL,"
    " ord INTEGER NOT NULL, len INTEGER NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX passages_doc ON passages(doc, ord);"
    "CREATE VIEW passages_v(pid, title, text) AS SELECT p.pid, d.title, p.text"
    " FROM passages p JOIN docs d ON d.row = p.doc;"
    "CREATE VIRTUAL TABLE passages_fts USING fts5(title, text, content='passages_v',"
    " content_rowid='pid', tokenize='vericite');"
    "CREATE TABLE postings(term TEXT NOT NULL, seg INTEGER NOT NULL, n INTEGER NOT NULL,"
    " last INTEGER NOT NULL, data BLOB NOT NULL, bounds BLOB, PRIMARY KEY(term, seg)) WITHOUT ROWID;"
    "CREATE TABLE vectors(pid INTEGER PRIMARY KEY, vec BLOB NOT NULL);"
    "CREATE TABLE embed_state(key TEXT PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE fetch_cache(url TEXT PRIMARY KEY, final_url TEXT NOT NULL, status INTEGER NOT NULL,"
    " outcome TEXT NOT NULL, content_type TEXT NOT NULL, fetched_at TEXT NOT NULL, title TEXT NOT NULL,"
    " text TEXT NOT NULL, private_addrs TEXT NOT NULL DEFAULT '*');";

/* The stored results of batch audits (idx_audit.c). Also run on every read-write open, so indexes
 * made before these tables existed get them. */
static const char *const audit_schema_sql =
    "CREATE TABLE IF NOT EXISTS audit_runs(id INTEGER PRIMARY KEY, started TEXT NOT NULL,"
    " options TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit_articles(path TEXT NOT NULL, hash TEXT NOT NULL,"
    " title TEXT NOT NULL, run INTEGER NOT NULL, citations INTEGER NOT NULL, done_at TEXT NOT NULL,"
    " PRIMARY KEY(path, hash)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS audit_results(path TEXT NOT NULL, hash TEXT NOT NULL,"
    " ord INTEGER NOT NULL, status INTEGER NOT NULL, score REAL NOT NULL, best REAL NOT NULL,"
    " url TEXT NOT NULL, domain TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY(path, hash, ord))"
    " WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS audit_results_domain ON audit_results(domain);"
    "CREATE INDEX IF NOT EXISTS docs_title ON docs(title COLLATE NOCASE) WHERE title <> '';"
    "CREATE INDEX IF NOT EXISTS docs_nurl ON docs(nurl) WHERE nurl <> '';";

/* ---------------------------------------------------------------- the FTS5 tokenizer */

struct fts_tok_ctx {
    void *pctx;
    int (*xtoken)(void *, int, const char *, int, int, int);
};

static int fts_tok_cb(void *c, const char *term, size_t len, int pos, size_t start, size_t end)
{
    (void)pos;
    struct fts_tok_ctx *f = c;
    return f->xtoken(f->pctx, 0, term, (int)len, (int)start, (int)end);
}

/* The tokenizer object FTS5 makes: our tokenizer, and the index handle whose token cache
 * (idx_tokcache) answers for the text idx_add just tokenised. */
struct fts_tok {
    struct corpus_tok *t;
    struct idx *ix;
};

static int fts_tok_create(void *ctx, const char **az, int n, Fts5Tokenizer **out)
{
    (void)az, (void)n;
    struct fts_tok *f = calloc(1, sizeof *f);
    if (!f || corpus_tok_new(&f->t, 0, NULL) != ERR_OK) {
        free(f);
        return SQLITE_NOMEM;
    }
    f->ix = ctx;
    *out = (Fts5Tokenizer *)f;
    return SQLITE_OK;
}

static void fts_tok_delete(Fts5Tokenizer *t)
{
    struct fts_tok *f = (struct fts_tok *)t;
    if (!f) return;
    corpus_tok_free(f->t);
    free(f);
}

/* Hand the recorded tokens of c to xtoken. */
static int tokcache_replay(const struct idx_tokcache *c, void *pctx,
                           int (*xtoken)(void *, int, const char *, int, int, int))
{
    size_t pos = 0;
    while (pos + 12 <= c->rec.len) {
        uint32_t v[3];
        memcpy(v, c->rec.data + pos, sizeof v);
        int rc = xtoken(pctx, 0, c->rec.data + pos + 12, (int)v[0], (int)v[1], (int)v[2]);
        if (rc != SQLITE_OK) return rc;
        pos += 12 + v[0];
    }
    return SQLITE_OK;
}

/* 1 when c holds the tokens of text[0..len) (the same bytes: SQLite may hand FTS5 a copy). */
static int tokcache_holds(const struct idx_tokcache *c, const char *text, size_t len)
{
    return c->text && text && c->len == len && (c->text == text || memcmp(c->text, text, len) == 0);
}

static int fts_tok_tokenize(Fts5Tokenizer *t, void *pctx, int flags, const char *text, int n,
                            int (*xtoken)(void *, int, const char *, int, int, int))
{
    struct fts_tok *f = (struct fts_tok *)t;
    struct idx *ix = f->ix;
    size_t len = (size_t)(n > 0 ? n : 0);
    if (ix && (flags & FTS5_TOKENIZE_DOCUMENT)) {
        /* the passage or title idx_add tokenised a moment ago: its tokens, not a second run */
        const struct idx_tokcache *c = tokcache_holds(&ix->tc_body, text, len)    ? &ix->tc_body
                                       : tokcache_holds(&ix->tc_title, text, len) ? &ix->tc_title
                                                                                  : NULL;
        if (c) {
            ix->fts_replayed++;
            return tokcache_replay(c, pctx, xtoken);
        }
        ix->fts_tokenized++;
    }
    struct fts_tok_ctx fc = {pctx, xtoken};
    return corpus_tok_run(f->t, text, len, fts_tok_cb, &fc);
}

static int register_fts_tokenizer(struct idx *ix, struct err *err)
{
    sqlite3 *db = ix->db;
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return err_set(err, ERR_SQLITE, "FTS5 is not available: %s", sqlite3_errmsg(db));
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api) return err_set(err, ERR_SQLITE, "FTS5 is not available");
    fts5_tokenizer tk = {fts_tok_create, fts_tok_delete, fts_tok_tokenize};
    if (api->xCreateTokenizer(api, "vericite", ix, &tk, NULL) != SQLITE_OK)
        return err_set(err, ERR_SQLITE, "register FTS5 tokenizer: %s", sqlite3_errmsg(db));
    return ERR_OK;
}

void idx_tokcache_clear(struct idx *ix)
{
    ix->tc_title.text = ix->tc_body.text = NULL;
    buf_reset(&ix->tc_title.rec);
    buf_reset(&ix->tc_body.rec);
}

/* Record one token of the text being tokenised into c. */
static int tokcache_put(struct idx_tokcache *c, const char *term, size_t len, size_t start, size_t end)
{
    uint32_t v[3] = {(uint32_t)len, (uint32_t)start, (uint32_t)end};
    return buf_append(&c->rec, (const char *)v, sizeof v) || buf_append(&c->rec, term, len) ? -1 : 0;
}

/* ---------------------------------------------------------------- helpers */

int idx_sql_err(struct idx *ix, struct err *err, const char *what)
{
    return err_set(err, ERR_SQLITE, "%s: %s: %s", ix->dbpath, what, sqlite3_errmsg(ix->db));
}

static int exec(struct idx *ix, const char *sql, struct err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(ix->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, ERR_SQLITE, "%s: %s", ix->dbpath, msg ? msg : sqlite3_errmsg(ix->db));
        sqlite3_free(msg);
        return ERR_SQLITE;
    }
    return ERR_OK;
}

int idx_prepare(struct idx *ix, sqlite3_stmt **st, const char *sql, struct err *err)
{
    if (*st) {
        sqlite3_reset(*st);
        sqlite3_clear_bindings(*st);
        return ERR_OK;
    }
    if (sqlite3_prepare_v3(ix->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return idx_sql_err(ix, err, "prepare");
    return ERR_OK;
}

/* The documents' content hashes are FNV-1a 64 (hash.h) from this seed: not HASH_FNV_INIT (a digit
 * short of it), kept so that hashes stored by earlier indexes still match their documents. */
#define IDX_DOC_HASH_SEED 1469598103934665603ull

int idx_setting_get(struct idx *ix, const char *key, char **out, struct err *err)
{
    *out = NULL;
    int rc = idx_prepare(ix, &ix->st_get_setting, "SELECT value FROM settings WHERE key=?", err);
    if (rc) return rc;
    sqlite3_bind_text(ix->st_get_setting, 1, key, -1, SQLITE_STATIC);
    int s = sqlite3_step(ix->st_get_setting);
    if (s == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(ix->st_get_setting, 0);
        *out = strdup(v ? v : "");
        sqlite3_reset(ix->st_get_setting);
        return *out ? ERR_OK : err_set(err, ERR_NOMEM, "setting %s", key);
    }
    sqlite3_reset(ix->st_get_setting);
    if (s != SQLITE_DONE) return idx_sql_err(ix, err, "read settings");
    return ERR_OK;
}

int idx_setting_set(struct idx *ix, const char *key, const char *value, struct err *err)
{
    int rc = idx_prepare(ix, &ix->st_set_setting,
                         "INSERT INTO settings(key, value) VALUES(?, ?)"
                         " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                         err);
    if (rc) return rc;
    sqlite3_bind_text(ix->st_set_setting, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_set_setting, 2, value, -1, SQLITE_STATIC);
    int s = sqlite3_step(ix->st_set_setting);
    sqlite3_reset(ix->st_set_setting);
    if (s != SQLITE_DONE) return idx_sql_err(ix, err, "write settings");
    return ERR_OK;
}

static int setting_int(struct idx *ix, const char *key, int64_t *out, struct err *err)
{
    char *v = NULL;
    int rc = idx_setting_get(ix, key, &v, err);
    if (rc) return rc;
    *out = v ? strtoll(v, NULL, 10) : 0;
    free(v);
    return ERR_OK;
}

static int setting_set_int(struct idx *ix, const char *key, int64_t v, struct err *err)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)v);
    return idx_setting_set(ix, key, s, err);
}

/* ---------------------------------------------------------------- open / close */

static int load_totals(struct idx *ix, struct err *err)
{
    int rc = setting_int(ix, "passages", &ix->n_passages, err);
    if (!rc) rc = setting_int(ix, "total_tokens", &ix->total_tokens, err);
    return rc;
}

int idx_reload_totals(struct idx *ix, struct err *err) { return load_totals(ix, err); }

static int create_schema(struct idx *ix, struct err *err)
{
    int rc = exec(ix, "BEGIN", err);
    if (rc) return rc;
    rc = exec(ix, schema_sql, err);
    if (!rc) rc = exec(ix, audit_schema_sql, err);
    char v[16];
    snprintf(v, sizeof v, "%d", IDX_SCHEMA_VERSION);
    if (!rc) rc = idx_setting_set(ix, "schema_version", v, err);
    if (!rc) rc = idx_setting_set(ix, "tokenizer", CORPUS_TOK_NAME, err);
    if (!rc) rc = setting_set_int(ix, "postings_format", IDX_POSTINGS_FORMAT, err);
    if (!rc) rc = setting_set_int(ix, "passage_words", ix->passage_words, err);
    if (!rc) rc = idx_setting_set(ix, "passages", "0", err);
    if (!rc) rc = idx_setting_set(ix, "total_tokens", "0", err);
    if (!rc) rc = idx_setting_set(ix, "embedder", "", err);
    if (!rc) rc = idx_setting_set(ix, "vec_count", "0", err);
    if (rc) {
        exec(ix, "ROLLBACK", NULL);
        return rc;
    }
    return exec(ix, "COMMIT", err);
}

/* 1 when fetch_cache has the private_addrs column (indexes made before it have not). */
static int cache_has_guard(struct idx *ix)
{
    sqlite3_stmt *st = NULL;
    int has = 0;
    if (sqlite3_prepare_v2(ix->db, "SELECT 1 FROM pragma_table_info('fetch_cache') WHERE name='private_addrs'",
                           -1, &st, NULL) == SQLITE_OK)
        has = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return has;
}

/* Give an older index's fetch cache the guard column; its rows get '*' (unknown: served only with
 * --allow-private). A read-only handle reads them as '*' without the column. */
static int cache_guard_column(struct idx *ix, struct err *err)
{
    ix->cache_guard = cache_has_guard(ix);
    if (ix->cache_guard || ix->readonly) return ERR_OK;
    int rc = exec(ix, "ALTER TABLE fetch_cache ADD COLUMN private_addrs TEXT NOT NULL DEFAULT '*'", err);
    ix->cache_guard = cache_has_guard(ix); /* another writer may have added it first */
    if (ix->cache_guard) err_clear(err);
    return ix->cache_guard ? ERR_OK : rc;
}

static int check_schema(struct idx *ix, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM sqlite_master WHERE name='settings'", -1,
                           &st, NULL) != SQLITE_OK) {
        int code = sqlite3_errcode(ix->db);
        err_set(err, code == SQLITE_NOTADB ? ERR_CORRUPT : ERR_SQLITE, "%s: %s", ix->dbpath,
                code == SQLITE_NOTADB ? "not a vericite index (not a SQLite database)"
                                      : sqlite3_errmsg(ix->db));
        return err->code;
    }
    if (sqlite3_step(st) == SQLITE_ROW) ok = sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    if (!ok) return err_set(err, ERR_CORRUPT, "%s: not a vericite index (no settings table)", ix->dbpath);
    int64_t ver = 0, pw = 0;
    int rc = setting_int(ix, "schema_version", &ver, err);
    if (rc) return rc;
    if (ver != IDX_SCHEMA_VERSION)
        return err_set(err, ERR_MISMATCH, "%s: index schema version %lld, this vericite reads %d",
                       ix->dbpath, (long long)ver, IDX_SCHEMA_VERSION);
    char *tok = NULL;
    rc = idx_setting_get(ix, "tokenizer", &tok, err);
    if (rc) return rc;
    if (!tok || strcmp(tok, CORPUS_TOK_NAME) != 0) {
        err_set(err, ERR_MISMATCH, "%s: index built with tokenizer '%s', this vericite uses '%s'",
                ix->dbpath, tok ? tok : "?", CORPUS_TOK_NAME);
        free(tok);
        return ERR_MISMATCH;
    }
    free(tok);
    rc = setting_int(ix, "passage_words", &pw, err);
    if (rc) return rc;
    ix->passage_words = (int)pw;
    return load_totals(ix, err);
}

int idx_open(struct idx **out, const char *dir, const struct idx_opts *opts, struct err *err)
{
    *out = NULL;
    struct idx_opts o = {0};
    if (opts) o = *opts;
    int rc = ERR_OK;
    struct idx *ix = calloc(1, sizeof *ix);
    if (!ix) return err_set(err, ERR_NOMEM, "idx_open");
    ix->readonly = o.readonly;
    ix->lock_fd = -1;
    ix->passage_words = o.passage_words > 0 ? o.passage_words : IDX_DEFAULT_PASSAGE_WORDS;
    ix->dir = strdup(dir);
    size_t plen = strlen(dir) + sizeof IDX_DB_NAME + 2;
    ix->dbpath = malloc(plen);
    if (!ix->dir || !ix->dbpath) {
        rc = err_set(err, ERR_NOMEM, "idx_open");
        goto fail;
    }
    snprintf(ix->dbpath, plen, "%s/%s", dir, IDX_DB_NAME);

    struct stat sb;
    int exists = stat(ix->dbpath, &sb) == 0;
    if (!exists) {
        if (!o.create) {
            rc = err_set(err, ERR_NOTFOUND, "%s: no vericite index here (create one with: vericite index --db %s FILE...)", dir, dir);
            goto fail;
        }
        if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
            rc = err_set(err, ERR_IO, "%s: exists and is not a folder", dir);
            goto fail;
        }
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            rc = err_set(err, ERR_IO, "%s: cannot create folder: %s", dir, strerror(errno));
            goto fail;
        }
    }
    if (o.writer && !o.readonly) {
        /* before the database is looked at again: a writer that waited may find it made */
        if ((rc = idx_lock_writer(ix, !o.no_wait, o.on_wait, o.wait_ctx, err))) goto fail;
        exists = stat(ix->dbpath, &sb) == 0;
    }
    if (exists && !S_ISREG(sb.st_mode)) {
        rc = err_set(err, ERR_CORRUPT, "%s: not a regular file", ix->dbpath);
        goto fail;
    }
    int flags = o.readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(ix->dbpath, &ix->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = err_set(err, ERR_SQLITE, "%s: %s", ix->dbpath,
                     ix->db ? sqlite3_errmsg(ix->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(ix->db, 10000);
    sqlite3_extended_result_codes(ix->db, 0);
    if ((rc = register_fts_tokenizer(ix, err))) goto fail;
    if ((rc = corpus_tok_new(&ix->tok, 0, err))) goto fail;
    if (!exists) {
        if ((rc = exec(ix, "PRAGMA journal_mode=WAL", err))) goto fail;
        if ((rc = create_schema(ix, err))) goto fail;
    } else {
        if ((rc = check_schema(ix, err))) goto fail;
    }
    if (!o.readonly) {
        char pragmas[128];
        snprintf(pragmas, sizeof pragmas,
                 "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA journal_size_limit=%d", IDX_WAL_LIMIT);
        if ((rc = exec(ix, pragmas, err))) goto fail;
        if (exists && (rc = exec(ix, audit_schema_sql, err))) goto fail;
        if ((rc = idx_audit_upgrade(ix, err))) goto fail; /* columns added since (idx_audit.c) */
        if ((rc = idx_tomb_schema(ix, err))) goto fail; /* tables added since (idx_tomb.c) */
    }
    if ((rc = idx_post_upgrade(ix, err))) goto fail; /* block bounds (idx_post.c) */
    if ((rc = cache_guard_column(ix, err))) goto fail;
    exec(ix, "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456", NULL);
    *out = ix;
    return ERR_OK;
fail:
    idx_close(ix);
    return rc;
}

void idx_close(struct idx *ix)
{
    if (!ix) return;
    if (ix->in_tx) idx_rollback(ix);
    idx_bk_cleanup(ix);
    idx_pbuf_free(ix);
    idx_vec_cleanup(ix);
    idx_tomb_cleanup(ix);
    sqlite3_stmt **stmts[] = {&ix->st_get_setting, &ix->st_set_setting, &ix->st_doc_find,
                              &ix->st_doc_ins,     &ix->st_pas_ins,     &ix->st_fts_ins,
                              &ix->st_seg_last,    &ix->st_seg_ins,     &ix->st_seg_upd,
                              &ix->st_post_read,   &ix->st_passage,     &ix->st_passage_doc,
                              &ix->st_fts_search,  &ix->st_doc_pas,     &ix->st_fts_del,
                              &ix->st_pas_del,     &ix->st_doc_del,     &ix->st_seg_all,
                              &ix->st_seg_del,     &ix->st_find_url,    &ix->st_doc_row,
                              &ix->st_doc_text,    &ix->st_cache_get,   &ix->st_cache_put,   &ix->st_find_title,
                              &ix->st_vec_get,     &ix->st_vec_ins,     &ix->st_vec_del,
                              &ix->st_aud_done,    &ix->st_aud_ins_art, &ix->st_aud_ins_res,
                              &ix->st_aud_res,     &ix->st_plist};
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) sqlite3_finalize(*stmts[i]);
    if (ix->db) sqlite3_close(ix->db);
    idx_unlock_writer(ix); /* after the database is closed: nothing is written past this */
    corpus_tok_free(ix->tok);
    buf_cleanup(&ix->it_data);
    free(ix->it_segs);
    buf_cleanup(&ix->pas_strings);
    buf_cleanup(&ix->nurl);
    buf_cleanup(&ix->doc_strings);
    buf_cleanup(&ix->tc_title.rec);
    buf_cleanup(&ix->tc_body.rec);
    free(ix->dir);
    free(ix->dbpath);
    free(ix);
}

const char *idx_dir(const struct idx *ix) { return ix->dir; }

sqlite3 *idx_sqlite(struct idx *ix) { return ix->db; }

/* ---------------------------------------------------------------- transactions */

int idx_begin(struct idx *ix, struct err *err)
{
    if (ix->readonly) return err_set(err, ERR_ARG, "%s: index opened read-only", ix->dir);
    if (ix->in_tx) return err_set(err, ERR_INTERNAL, "transaction already open");
    int rc = exec(ix, "BEGIN IMMEDIATE", err);
    if (rc) return rc;
    /* the totals as they stand now that this handle holds SQLite's write lock: another handle
     * (another process) may have committed since they were read */
    if ((rc = load_totals(ix, err)) || (rc = idx_tomb_refresh(ix, err))) {
        exec(ix, "ROLLBACK", NULL);
        return rc;
    }
    ix->in_tx = 1;
    return ERR_OK;
}

int idx_commit(struct idx *ix, struct err *err)
{
    if (!ix->in_tx) return err_set(err, ERR_INTERNAL, "commit without a transaction");
    int rc = idx_pbuf_flush(ix, err);
    if (!rc) rc = setting_set_int(ix, "passages", ix->n_passages, err);
    if (!rc) rc = setting_set_int(ix, "total_tokens", ix->total_tokens, err);
    if (!rc) rc = exec(ix, "COMMIT", err);
    if (rc) {
        idx_rollback(ix);
        return rc;
    }
    ix->in_tx = 0;
    /* the batch's pages into index.db now, so the WAL is reused (and cut to IDX_WAL_LIMIT) from
     * its start by the next batch instead of growing; passive: readers are never waited for */
    sqlite3_wal_checkpoint_v2(ix->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return ERR_OK;
}

void idx_rollback(struct idx *ix)
{
    if (!ix || !ix->in_tx) return;
    exec(ix, "ROLLBACK", NULL);
    ix->in_tx = 0;
    idx_pbuf_free(ix);
    idx_vec_reset_tx(ix);
    ix->vec_rebuild = 0;
    load_totals(ix, NULL);
    idx_tomb_reset(ix);
}

/* ---------------------------------------------------------------- adding documents */

struct title_tok_ctx {
    struct idx *ix;
    int count;
};

static int title_tok_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos;
    struct title_tok_ctx *t = c;
    t->count++;
    if (tokcache_put(&t->ix->tc_title, term, len, s, e)) return -1;
    return idx_pbuf_title_term(t->ix, term, len);
}

struct body_tok_ctx {
    struct idx *ix;
    int count;
};

static int body_tok_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos;
    struct body_tok_ctx *b = c;
    b->count++;
    if (tokcache_put(&b->ix->tc_body, term, len, s, e)) return -1;
    return idx_pbuf_body_term(b->ix, term, len);
}

struct chunk_ctx {
    struct idx *ix;
    const struct corpus_doc *doc;
    int64_t doc_row;
    int ord;
    int title_tokens;
    struct err *err;
    int rc;
};

static int add_passage(void *c, const struct corpus_span *sp)
{
    struct chunk_ctx *cc = c;
    struct idx *ix = cc->ix;
    struct err *err = cc->err;
    const char *text = cc->doc->text + sp->start;
    int tlen = (int)(sp->end - sp->start);
    int rc;

    /* tokenize first so the passage length is known */
    if ((rc = idx_pbuf_passage_begin(ix, err))) return cc->rc = rc;
    if (cc->title_tokens > 0 && (rc = idx_pbuf_replay_title(ix, err))) return cc->rc = rc;
    struct body_tok_ctx b = {ix, 0};
    ix->tc_body.text = NULL;
    buf_reset(&ix->tc_body.rec);
    if (corpus_tok_run(ix->tok, text, (size_t)tlen, body_tok_cb, &b) != 0)
        return cc->rc = err_set(err, ERR_NOMEM, "tokenize passage");
    ix->tc_body.text = text; /* FTS5's tokenizer replays these tokens (idx_tokcache) */
    ix->tc_body.len = (size_t)tlen;
    int len = b.count + cc->title_tokens;

    if ((rc = idx_prepare(ix, &ix->st_pas_ins,
                          "INSERT INTO passages(doc, ord, len, text) VALUES(?,?,?,?)", err)))
        return cc->rc = rc;
    sqlite3_bind_int64(ix->st_pas_ins, 1, cc->doc_row);
    sqlite3_bind_int(ix->st_pas_ins, 2, cc->ord);
    sqlite3_bind_int(ix->st_pas_ins, 3, len);
    sqlite3_bind_text(ix->st_pas_ins, 4, text, tlen, SQLITE_STATIC);
    if (sqlite3_step(ix->st_pas_ins) != SQLITE_DONE)
        return cc->rc = idx_sql_err(ix, err, "insert passage");
    int64_t pid = sqlite3_last_insert_rowid(ix->db);

    if ((rc = idx_prepare(ix, &ix->st_fts_ins,
                          "INSERT INTO passages_fts(rowid, title, text) VALUES(?,?,?)", err)))
        return cc->rc = rc;
    sqlite3_bind_int64(ix->st_fts_ins, 1, pid);
    sqlite3_bind_text(ix->st_fts_ins, 2, cc->doc->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_fts_ins, 3, text, tlen, SQLITE_STATIC);
    int fts = sqlite3_step(ix->st_fts_ins);
    ix->tc_body.text = NULL;
    if (fts != SQLITE_DONE) return cc->rc = idx_sql_err(ix, err, "insert into FTS5");

    if ((rc = idx_pbuf_passage_end(ix, pid, (uint32_t)len, err))) return cc->rc = rc;
    ix->n_passages++;
    ix->total_tokens += len;
    cc->ord++;
    return 0;
}

static int find_doc(struct idx *ix, const char *id, int64_t *row, char *hash, size_t hashsz,
                    struct err *err)
{
    *row = -1;
    int rc = idx_prepare(ix, &ix->st_doc_find, "SELECT row, hash FROM docs WHERE id=?", err);
    if (rc) return rc;
    sqlite3_bind_text(ix->st_doc_find, 1, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(ix->st_doc_find);
    if (s == SQLITE_ROW) {
        *row = sqlite3_column_int64(ix->st_doc_find, 0);
        if (hash) snprintf(hash, hashsz, "%s", (const char *)sqlite3_column_text(ix->st_doc_find, 1));
    } else if (s != SQLITE_DONE) {
        sqlite3_reset(ix->st_doc_find);
        return idx_sql_err(ix, err, "find document");
    }
    sqlite3_reset(ix->st_doc_find);
    return ERR_OK;
}

static int add_doc(struct idx *ix, const struct corpus_doc *doc, int *result, struct err *err);

int idx_add(struct idx *ix, const struct corpus_doc *doc, int *result, struct err *err)
{
    idx_tokcache_clear(ix);
    int rc = add_doc(ix, doc, result, err);
    idx_tokcache_clear(ix); /* the cache borrows doc's strings */
    return rc;
}

static int add_doc(struct idx *ix, const struct corpus_doc *doc, int *result, struct err *err)
{
    if (result) *result = 0;
    if (!ix->in_tx) return err_set(err, ERR_INTERNAL, "idx_add outside a transaction");
    if (!doc->id || !doc->id[0]) return err_set(err, ERR_ARG, "document with an empty id");
    const char *title = doc->title ? doc->title : "", *url = doc->url ? doc->url : "";
    uint64_t h = hash_fnv1a64_update(IDX_DOC_HASH_SEED, title, strlen(title) + 1);
    h = hash_fnv1a64_update(h, url, strlen(url) + 1);
    h = hash_fnv1a64_update(h, doc->text, doc->text_len);
    char hash[32], old[32] = "";
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)h);

    int64_t row = -1;
    int rc = find_doc(ix, doc->id, &row, old, sizeof old, err);
    if (rc) return rc;
    int outcome = IDX_ADDED;
    if (row >= 0) {
        if (strcmp(old, hash) == 0) {
            if (result) *result = IDX_UNCHANGED;
            return ERR_OK;
        }
        int found = 0;
        if ((rc = idx_remove(ix, doc->id, &found, err))) return rc;
        outcome = IDX_REPLACED;
    }

    if ((rc = idx_prepare(ix, &ix->st_doc_ins,
                          "INSERT INTO docs(id, title, url, nurl, source, hash, passages, added)"
                          " VALUES(?,?,?,?,?,?,0,strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                          err)))
        return rc;
    sqlite3_bind_text(ix->st_doc_ins, 1, doc->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_doc_ins, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_doc_ins, 3, url, -1, SQLITE_STATIC);
    if (url[0] && corpus_url_normalize(url, &ix->nurl) != 0) buf_reset(&ix->nurl);
    sqlite3_bind_text(ix->st_doc_ins, 4, url[0] && ix->nurl.data ? ix->nurl.data : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_doc_ins, 5, doc->source ? doc->source : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(ix->st_doc_ins, 6, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(ix->st_doc_ins) != SQLITE_DONE) return idx_sql_err(ix, err, "insert document");
    int64_t doc_row = sqlite3_last_insert_rowid(ix->db);

    /* title terms count in every passage of the document */
    if ((rc = idx_pbuf_title_begin(ix, err))) return rc;
    struct title_tok_ctx tt = {ix, 0};
    if (corpus_tok_run(ix->tok, title, strlen(title), title_tok_cb, &tt) != 0)
        return err_set(err, ERR_NOMEM, "tokenize title");
    ix->tc_title.text = doc->title; /* what the FTS5 inserts bind (NULL: none) */
    ix->tc_title.len = strlen(title);

    struct chunk_ctx cc = {ix, doc, doc_row, 0, tt.count, err, 0};
    corpus_chunk(doc->text, doc->text_len, ix->passage_words, add_passage, &cc);
    if (cc.rc) return cc.rc;
    if (cc.ord == 0 && title[0]) {
        /* a document with a title and no text is still findable by its title */
        struct corpus_doc d2 = *doc;
        d2.text = title;
        d2.text_len = strlen(title);
        cc.doc = &d2;
        cc.title_tokens = 0;
        corpus_chunk(title, strlen(title), ix->passage_words, add_passage, &cc);
        if (cc.rc) return cc.rc;
        cc.doc = doc;
    }
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE docs SET passages=%d WHERE row=%lld", cc.ord, (long long)doc_row);
    if ((rc = exec(ix, sql, err))) return rc;
    if (ix->pbuf_bytes > IDX_FLUSH_BYTES && (rc = idx_pbuf_flush(ix, err))) return rc;
    if (result) *result = outcome;
    return ERR_OK;
}

/* ---------------------------------------------------------------- reading */

int idx_corpus_totals(struct idx *ix, int64_t *passages, int64_t *total_tokens, struct err *err)
{
    (void)err;
    *passages = ix->n_passages;
    *total_tokens = ix->total_tokens;
    return ERR_OK;
}

int64_t idx_max_pid(struct idx *ix)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    if (sqlite3_prepare_v2(ix->db, "SELECT max(pid) FROM passages", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int idx_passage(struct idx *ix, int64_t pid, struct idx_passage *out, struct err *err)
{
    int rc = idx_prepare(ix, &ix->st_passage,
                         "SELECT p.doc, d.id, d.title, d.url, p.text, p.ord FROM passages p"
                         " JOIN docs d ON d.row = p.doc WHERE p.pid=?",
                         err);
    if (rc) return rc;
    sqlite3_stmt *st = ix->st_passage;
    sqlite3_bind_int64(st, 1, pid);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        sqlite3_reset(st);
        if (s == SQLITE_DONE) return err_set(err, ERR_NOTFOUND, "passage %lld not in the index", (long long)pid);
        return idx_sql_err(ix, err, "read passage");
    }
    buf_reset(&ix->pas_strings);
    size_t off[4];
    for (int i = 0; i < 4; i++) {
        const char *v = (const char *)sqlite3_column_text(st, i + 1);
        off[i] = ix->pas_strings.len;
        if (buf_puts(&ix->pas_strings, v ? v : "") || buf_putc(&ix->pas_strings, '\0')) {
            sqlite3_reset(st);
            return err_set(err, ERR_NOMEM, "read passage");
        }
    }
    out->pid = pid;
    out->doc_row = sqlite3_column_int64(st, 0);
    out->ord = sqlite3_column_int(st, 5);
    out->doc_id = ix->pas_strings.data + off[0];
    out->title = ix->pas_strings.data + off[1];
    out->url = ix->pas_strings.data + off[2];
    out->text = ix->pas_strings.data + off[3];
    sqlite3_reset(st);
    return ERR_OK;
}

int64_t idx_passage_doc(struct idx *ix, int64_t pid)
{
    if (idx_prepare(ix, &ix->st_passage_doc, "SELECT doc FROM passages WHERE pid=?", NULL))
        return -1;
    sqlite3_bind_int64(ix->st_passage_doc, 1, pid);
    int64_t v = -1;
    if (sqlite3_step(ix->st_passage_doc) == SQLITE_ROW) v = sqlite3_column_int64(ix->st_passage_doc, 0);
    sqlite3_reset(ix->st_passage_doc);
    return v;
}

struct fts_q_ctx {
    struct buf *q;
    const char *text;
    int fail;
};

static int fts_q_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)term, (void)len;
    struct fts_q_ctx *f = c;
    if (pos > 0 && buf_puts(f->q, " OR ")) return f->fail = 1;
    /* the original word, quoted: FTS5 runs it through the same tokenizer */
    if (buf_putc(f->q, '"')) return f->fail = 1;
    for (size_t i = s; i < e; i++) {
        if (f->text[i] == '"' && buf_putc(f->q, '"')) return f->fail = 1;
        if (buf_putc(f->q, f->text[i])) return f->fail = 1;
    }
    if (buf_putc(f->q, '"')) return f->fail = 1;
    return 0;
}

int idx_fts_search(struct idx *ix, const char *query, int k, int64_t *pids, double *scores, int *n,
                   struct err *err)
{
    *n = 0;
    struct buf q = {0};
    struct fts_q_ctx f = {&q, query, 0};
    corpus_tok_run(ix->tok, query, strlen(query), fts_q_cb, &f);
    if (f.fail) {
        buf_cleanup(&q);
        return err_set(err, ERR_NOMEM, "fts query");
    }
    if (q.len == 0) {
        buf_cleanup(&q);
        return ERR_OK;
    }
    int rc = idx_prepare(ix, &ix->st_fts_search,
                         "SELECT rowid, -bm25(passages_fts) FROM passages_fts"
                         " WHERE passages_fts MATCH ? ORDER BY bm25(passages_fts) LIMIT ?",
                         err);
    if (rc) {
        buf_cleanup(&q);
        return rc;
    }
    sqlite3_bind_text(ix->st_fts_search, 1, q.data, (int)q.len, SQLITE_STATIC);
    sqlite3_bind_int(ix->st_fts_search, 2, k);
    int s;
    while ((s = sqlite3_step(ix->st_fts_search)) == SQLITE_ROW && *n < k) {
        pids[*n] = sqlite3_column_int64(ix->st_fts_search, 0);
        scores[*n] = sqlite3_column_double(ix->st_fts_search, 1);
        (*n)++;
    }
    sqlite3_reset(ix->st_fts_search);
    buf_cleanup(&q);
    if (s != SQLITE_DONE && s != SQLITE_ROW) return idx_sql_err(ix, err, "FTS5 search");
    return ERR_OK;
}

/* ---------------------------------------------------------------- stats */

static int64_t file_size(const char *dir, const char *name)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat sb;
    return stat(p, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static int64_t count_sql(struct idx *ix, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int idx_stats(struct idx *ix, struct idx_stats *st, struct err *err)
{
    memset(st, 0, sizeof *st);
    st->docs = count_sql(ix, "SELECT count(*) FROM docs");
    st->passages = count_sql(ix, "SELECT count(*) FROM passages");
    st->terms = count_sql(ix, "SELECT count(DISTINCT term) FROM postings");
    st->postings_bytes = count_sql(ix, "SELECT coalesce(sum(length(data)),0) FROM postings");
    if (st->docs < 0 || st->passages < 0 || st->terms < 0) return idx_sql_err(ix, err, "stats");
    st->total_tokens = ix->total_tokens;
    st->tombstones = idx_tomb_count(ix);
    st->db_bytes = file_size(ix->dir, IDX_DB_NAME) + file_size(ix->dir, IDX_DB_NAME "-wal");
    st->schema_version = IDX_SCHEMA_VERSION;
    st->passage_words = ix->passage_words;
    snprintf(st->tokenizer, sizeof st->tokenizer, "%s", CORPUS_TOK_NAME);
    char *emb = NULL;
    int rc = idx_setting_get(ix, "embedder", &emb, err);
    if (rc) return rc;
    snprintf(st->embedder, sizeof st->embedder, "%s", emb ? emb : "");
    free(emb);
    return ERR_OK;
}
