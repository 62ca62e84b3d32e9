/* idx_bk.c - the index's retrieval backend: the recorded spec, the pending table and its
 * triggers, syncing shards from the passages (with the corpus tokenizer, as idx.c indexes them),
 * and the query side's connection, health and warnings. The engine is index/xap/. */
#include "idx_bk.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hash.h"
#include "idx_int.h"
#include "index/xap/xap.h"
#include "vec.h"

#define BK_KEY_SPEC "backend"
#define BK_KEY_ID "backend_id"
#define BK_KEY_TIMEOUT "backend_timeout_ms"
#define BK_META_INDEX "vericite.index"
#define BK_META_SHARD "vericite.shard"

static const char *const bk_schema_sql =
    "CREATE TABLE IF NOT EXISTS backend_pending(seq INTEGER PRIMARY KEY, pid INTEGER NOT NULL "
    "UNIQUE);"
    "CREATE TRIGGER IF NOT EXISTS backend_pas_ins AFTER INSERT ON passages"
    " BEGIN INSERT OR REPLACE INTO backend_pending(pid) VALUES(new.pid); END;"
    "CREATE TRIGGER IF NOT EXISTS backend_pas_del AFTER DELETE ON passages"
    " BEGIN INSERT OR REPLACE INTO backend_pending(pid) VALUES(old.pid); END;";

static const char *const bk_drop_sql =
    "DROP TRIGGER IF EXISTS backend_pas_ins; DROP TRIGGER IF EXISTS backend_pas_del;"
    "DROP TABLE IF EXISTS backend_pending;"
    "DELETE FROM settings WHERE key IN ('" BK_KEY_SPEC "', '" BK_KEY_ID "', '" BK_KEY_TIMEOUT "');";

/* A parsed spec: engine "xapian" and its shard addresses. */
struct bk_spec {
    char *text; /* the whole spec (owned) */
    char *buf;  /* the addresses, NUL-separated (owned) */
    const char **addrs;
    int n;
};

struct idx_bk_state {
    int loaded;          /* the settings below were read */
    int remote;          /* BM25 goes to the backend */
    int forced_local;    /* idx_bk_use("local") */
    char *override;      /* idx_bk_use(spec), owned */
    struct bk_spec spec; /* what is queried */
    char *id;            /* the recorded backend id */
    int timeout_ms;
    struct idx_bk *engine; /* reading connection (opened by the first search) */
    int searched;          /* a search ran (shard health is known) */
    int64_t lag;           /* pending passages at the last search */
    struct buf warning;
    struct idx_bk_hit *hits; /* filtered copy when passages are pending */
    size_t hits_cap;
    sqlite3_stmt *st_lag;
};

static void spec_free(struct bk_spec *s)
{
    free(s->text);
    free(s->buf);
    free(s->addrs);
    memset(s, 0, sizeof *s);
}

/* "HOST:PORT" with a port 1..65535 and a host without spaces. */
static int addr_ok(const char *a)
{
    const char *colon = strrchr(a, ':');
    if (!colon || colon == a || !colon[1] || strchr(a, ' ')) return 0;
    long port = 0;
    for (const char *c = colon + 1; *c; c++) {
        if (*c < '0' || *c > '9' || (port = port * 10 + (*c - '0')) > 65535) return 0;
    }
    return port > 0;
}

/* Parse "xapian:HOST:PORT,HOST:PORT,..." into s (owned; spec_free). Errors: ERR_ARG. */
static int spec_parse(const char *text, struct bk_spec *s, struct err *err)
{
    memset(s, 0, sizeof *s);
    static const char prefix[] = "xapian:";
    if (strncmp(text, prefix, sizeof prefix - 1) != 0)
        return err_set(err, ERR_ARG,
                       "backend '%s': expected local or xapian:HOST:PORT[,HOST:PORT...]", text);
    const char *list = text + sizeof prefix - 1;
    s->text = strdup(text);
    s->buf = strdup(list);
    if (!s->text || !s->buf) {
        spec_free(s);
        return err_set(err, ERR_NOMEM, "backend");
    }
    size_t cap = 0;
    for (char *p = s->buf;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (!addr_ok(p)) {
            int rc = err_set(err, ERR_ARG, "backend '%s': '%s' is not HOST:PORT", text, p);
            spec_free(s);
            return rc;
        }
        if (s->n >= IDX_BK_MAX_SHARDS ||
            vec_grow((void **)&s->addrs, &cap, (size_t)s->n + 1, sizeof *s->addrs)) {
            int rc = s->n >= IDX_BK_MAX_SHARDS
                         ? err_set(err, ERR_ARG, "backend '%s': more than %d shards", text,
                                   IDX_BK_MAX_SHARDS)
                         : err_set(err, ERR_NOMEM, "backend");
            spec_free(s);
            return rc;
        }
        s->addrs[s->n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return ERR_OK;
}

static struct idx_bk_state *state(struct idx *ix)
{
    if (!ix->bk) ix->bk = calloc(1, sizeof *ix->bk);
    return ix->bk;
}

static void close_engine(struct idx_bk_state *s)
{
    if (s->engine) s->engine->ops->close(s->engine);
    s->engine = NULL;
    s->searched = 0;
}

void idx_bk_cleanup(struct idx *ix)
{
    struct idx_bk_state *s = ix->bk;
    if (!s) return;
    close_engine(s);
    spec_free(&s->spec);
    free(s->override);
    free(s->id);
    free(s->hits);
    buf_cleanup(&s->warning);
    sqlite3_finalize(s->st_lag);
    free(s);
    ix->bk = NULL;
}

/* Read the recorded backend (or the override) once per handle. */
static int load(struct idx *ix, struct err *err)
{
    struct idx_bk_state *s = state(ix);
    if (!s) return err_set(err, ERR_NOMEM, "backend");
    if (s->loaded) return ERR_OK;
    close_engine(s);
    spec_free(&s->spec);
    free(s->id);
    s->id = NULL;
    s->remote = 0;
    char *spec = NULL, *tmo = NULL;
    int rc = idx_setting_get(ix, BK_KEY_SPEC, &spec, err);
    if (!rc) rc = idx_setting_get(ix, BK_KEY_ID, &s->id, err);
    if (!rc) rc = idx_setting_get(ix, BK_KEY_TIMEOUT, &tmo, err);
    long t = tmo ? strtol(tmo, NULL, 10) : 0;
    s->timeout_ms = t > 0 && t <= 3600000 ? (int)t : IDX_BK_DEFAULT_TIMEOUT_MS;
    const char *use = s->override ? s->override : spec;
    if (!rc && use && *use && !s->forced_local) {
        rc = spec_parse(use, &s->spec, err);
        s->remote = rc == ERR_OK;
    }
    free(spec);
    free(tmo);
    if (!rc) s->loaded = 1;
    return rc;
}

static int exec_sql(struct idx *ix, const char *sql, struct err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(idx_sqlite(ix), sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, ERR_SQLITE, "%s: %s", ix->dbpath, msg ? msg : sqlite3_errmsg(idx_sqlite(ix)));
        sqlite3_free(msg);
        return ERR_SQLITE;
    }
    return ERR_OK;
}

static void new_id(char *out, size_t n)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t seed[3] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)getpid()};
        v = hash_fnv1a64(seed, sizeof seed);
    }
    snprintf(out, n, "%016llx", (unsigned long long)v);
}

int idx_bk_configure(struct idx *ix, const char *spec, int timeout_ms, struct err *err)
{
    if (!ix->in_tx) return err_set(err, ERR_INTERNAL, "idx_bk_configure outside a transaction");
    struct idx_bk_state *s = state(ix);
    if (!s) return err_set(err, ERR_NOMEM, "backend");
    s->loaded = 0;
    int rc;
    if (spec && !strcmp(spec, "local")) return exec_sql(ix, bk_drop_sql, err);
    if (spec) {
        struct bk_spec now, old = {0};
        if ((rc = spec_parse(spec, &now, err))) return rc;
        char *prev = NULL, *id = NULL;
        rc = idx_setting_get(ix, BK_KEY_SPEC, &prev, err);
        if (!rc) rc = idx_setting_get(ix, BK_KEY_ID, &id, err);
        int keep =
            !rc && prev && id && *id && spec_parse(prev, &old, NULL) == ERR_OK && old.n == now.n;
        if (!rc) rc = exec_sql(ix, bk_schema_sql, err);
        if (!rc) rc = idx_setting_set(ix, BK_KEY_SPEC, spec, err);
        if (!rc && !keep) {
            char fresh[32];
            new_id(fresh, sizeof fresh);
            rc = idx_setting_set(ix, BK_KEY_ID, fresh, err);
        }
        free(prev);
        free(id);
        spec_free(&old);
        spec_free(&now);
        if (rc) return rc;
    }
    if (timeout_ms > 0) {
        char v[32];
        snprintf(v, sizeof v, "%d", timeout_ms);
        if ((rc = idx_setting_set(ix, BK_KEY_TIMEOUT, v, err))) return rc;
    }
    return ERR_OK;
}

int idx_bk_use(struct idx *ix, const char *spec, struct err *err)
{
    struct idx_bk_state *s = state(ix);
    if (!s) return err_set(err, ERR_NOMEM, "backend");
    free(s->override);
    s->override = NULL;
    s->forced_local = spec && !strcmp(spec, "local");
    s->loaded = 0;
    if (!spec || s->forced_local) return ERR_OK;
    struct bk_spec want;
    int rc = spec_parse(spec, &want, err);
    if (rc) return rc;
    if ((rc = load(ix, err))) goto out;
    if (!s->remote || !s->id) {
        rc = err_set(err, ERR_ARG,
                     "%s: the index has no recorded backend: give it one with vericite index --db "
                     "%s --backend %s",
                     ix->dir, ix->dir, spec);
        goto out;
    }
    if (s->spec.n != want.n) {
        rc = err_set(err, ERR_ARG, "backend '%s': %d shards, the index has %d (%s)", spec, want.n,
                     s->spec.n, s->spec.text);
        goto out;
    }
    s->override = strdup(spec);
    if (!s->override) rc = err_set(err, ERR_NOMEM, "backend");
    s->loaded = 0;
out:
    spec_free(&want);
    return rc;
}

int idx_bk_enabled(struct idx *ix)
{
    if (load(ix, NULL)) return 0;
    return ix->bk->remote;
}

/* ---------------------------------------------------------------- syncing shards */

/* One token of the passage being collected: its bytes in the batch arena. */
struct bk_tok {
    size_t off, len;
};

/* A batch being sent: documents with their terms in one arena. */
struct sync_batch {
    struct idx_bk_doc *docs;
    size_t ndocs, docs_cap;
    struct idx_bk_term
        *terms; /* all documents' terms; .term holds an arena offset until batch_fix */
    size_t nterms, terms_cap;
    size_t *first; /* (ndocs) index of each document's first term */
    size_t first_cap;
    struct buf bytes; /* the tokens' bytes */
    int64_t *seqs;    /* (ndocs) the pending rows sent */
    size_t seqs_cap;
    struct bk_tok *tok; /* the current passage's tokens */
    size_t ntok, tok_cap;
    int failed;
};

static int collect_cb(void *c, const char *term, size_t len, int pos, size_t s, size_t e)
{
    (void)pos, (void)s, (void)e;
    struct sync_batch *b = c;
    if (vec_grow((void **)&b->tok, &b->tok_cap, b->ntok + 1, sizeof *b->tok) ||
        buf_append(&b->bytes, term, len)) {
        b->failed = 1;
        return -1;
    }
    b->tok[b->ntok++] = (struct bk_tok){b->bytes.len - len, len};
    return 0;
}

static int cmp_tok(const void *a, const void *b, void *arena)
{
    const struct bk_tok *x = a, *y = b;
    const char *base = arena;
    int c = memcmp(base + x->off, base + y->off, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Append one change to the batch: for a passage, its distinct terms with their frequencies as
 * idx.c counts them (the body's tokens and, in every passage of a document with text, the
 * title's; the stored length says whether the title was counted). */
static int add_doc(struct sync_batch *b, struct corpus_tok *tok, int64_t seq, int64_t pid, int del,
                   const char *title, const char *text, int64_t len)
{
    if (vec_grow((void **)&b->docs, &b->docs_cap, b->ndocs + 1, sizeof *b->docs) ||
        vec_grow((void **)&b->first, &b->first_cap, b->ndocs + 1, sizeof *b->first) ||
        vec_grow((void **)&b->seqs, &b->seqs_cap, b->ndocs + 1, sizeof *b->seqs))
        return -1;
    b->seqs[b->ndocs] = seq;
    b->first[b->ndocs] = b->nterms;
    b->docs[b->ndocs] = (struct idx_bk_doc){pid, del, NULL, 0};
    if (!del) {
        b->ntok = 0;
        b->failed = 0;
        corpus_tok_run(tok, text, strlen(text), collect_cb, b);
        if (!b->failed && title && *title && (int64_t)b->ntok != len)
            corpus_tok_run(tok, title, strlen(title), collect_cb, b);
        if (b->failed) return -1;
        qsort_r(b->tok, b->ntok, sizeof *b->tok, cmp_tok, b->bytes.data);
        for (size_t i = 0; i < b->ntok;) {
            size_t j = i + 1;
            while (j < b->ntok && cmp_tok(&b->tok[i], &b->tok[j], b->bytes.data) == 0)
                j++;
            if (vec_grow((void **)&b->terms, &b->terms_cap, b->nterms + 1, sizeof *b->terms))
                return -1;
            b->terms[b->nterms++] = (struct idx_bk_term){(const char *)(uintptr_t)b->tok[i].off,
                                                         b->tok[i].len, (uint32_t)(j - i)};
            i = j;
        }
        b->docs[b->ndocs].nterms = b->nterms - b->first[b->ndocs];
    }
    b->ndocs++;
    return 0;
}

static void batch_reset(struct sync_batch *b)
{
    b->ndocs = b->nterms = 0;
    buf_reset(&b->bytes);
}

static void batch_free(struct sync_batch *b)
{
    free(b->docs);
    free(b->terms);
    free(b->first);
    free(b->seqs);
    free(b->tok);
    buf_cleanup(&b->bytes);
}

/* Turn term offsets into pointers once the arena stops growing. */
static void batch_fix(struct sync_batch *b)
{
    for (size_t i = 0; i < b->nterms; i++)
        b->terms[i].term = b->bytes.data + (uintptr_t)b->terms[i].term;
    for (size_t i = 0; i < b->ndocs; i++)
        b->docs[i].terms = b->terms + b->first[i];
}

struct sync_ctx {
    struct idx *ix;
    struct idx_bk *bk;
    const struct bk_spec *spec;
    const char *id;
    struct corpus_tok *tok;
    struct sync_batch b;
    struct idx_bk_sync_stats st;
    idx_bk_progress_cb cb;
    void *cbctx;
    sqlite3_stmt *st_batch, *st_done, *st_requeue;
};

static int64_t pending_count(struct idx *ix)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    if (sqlite3_prepare_v2(idx_sqlite(ix), "SELECT count(*) FROM backend_pending", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Drop the rows of the batch just sent (by seq: a row written again since is kept). */
static int batch_done(struct sync_ctx *c, struct err *err)
{
    struct idx *ix = c->ix;
    int rc = exec_sql(ix, "BEGIN IMMEDIATE", err);
    if (rc) return rc;
    if ((rc = idx_prepare(ix, &c->st_done, "DELETE FROM backend_pending WHERE seq=?", err)))
        goto fail;
    for (size_t i = 0; i < c->b.ndocs; i++) {
        sqlite3_reset(c->st_done);
        sqlite3_bind_int64(c->st_done, 1, c->b.seqs[i]);
        if (sqlite3_step(c->st_done) != SQLITE_DONE) {
            rc = idx_sql_err(ix, err, "backend_pending");
            goto fail;
        }
    }
    sqlite3_reset(c->st_done);
    return exec_sql(ix, "COMMIT", err);
fail:
    if (c->st_done) sqlite3_reset(c->st_done);
    exec_sql(ix, "ROLLBACK", NULL);
    return rc;
}

/* Send everything pending, a batch (one commit per shard) at a time. */
static int send_pending(struct sync_ctx *c, struct err *err)
{
    struct idx *ix = c->ix;
    long total = (long)pending_count(ix), done = 0;
    int64_t after = 0;
    int rc = idx_prepare(
        ix, &c->st_batch,
        "SELECT b.seq, b.pid, p.pid IS NULL, p.len, d.title, p.text FROM backend_pending b"
        " LEFT JOIN passages p ON p.pid = b.pid LEFT JOIN docs d ON d.row = p.doc"
        " WHERE b.seq > ?1 ORDER BY b.seq LIMIT ?2",
        err);
    if (rc) return rc;
    for (;;) {
        batch_reset(&c->b);
        sqlite3_reset(c->st_batch);
        sqlite3_bind_int64(c->st_batch, 1, after);
        sqlite3_bind_int(c->st_batch, 2, IDX_BK_BATCH);
        int s;
        while ((s = sqlite3_step(c->st_batch)) == SQLITE_ROW) {
            int64_t seq = sqlite3_column_int64(c->st_batch, 0),
                    pid = sqlite3_column_int64(c->st_batch, 1);
            int del = sqlite3_column_int(c->st_batch, 2);
            const char *title = (const char *)sqlite3_column_text(c->st_batch, 4);
            const char *text = (const char *)sqlite3_column_text(c->st_batch, 5);
            after = seq;
            if (pid <= 0) continue;
            if (add_doc(&c->b, c->tok, seq, pid, del, title, text ? text : "",
                        sqlite3_column_int64(c->st_batch, 3))) {
                sqlite3_reset(c->st_batch);
                return err_set(err, ERR_NOMEM, "backend sync");
            }
            if (del)
                c->st.removed++;
            else
                c->st.sent++;
        }
        sqlite3_reset(c->st_batch);
        if (s != SQLITE_DONE) return idx_sql_err(ix, err, "read pending passages");
        if (c->b.ndocs == 0) return ERR_OK;
        batch_fix(&c->b);
        if ((rc = c->bk->ops->write(c->bk, c->b.docs, c->b.ndocs, err))) return rc;
        if ((rc = batch_done(c, err))) return rc;
        done += (long)c->b.ndocs;
        if (c->cb) c->cb(c->cbctx, done, total > done ? total : done);
    }
}

static int requeue(struct sync_ctx *c, int64_t pid, struct err *err)
{
    int rc = idx_prepare(c->ix, &c->st_requeue,
                         "INSERT OR IGNORE INTO backend_pending(pid) VALUES(?)", err);
    if (rc) return rc;
    sqlite3_bind_int64(c->st_requeue, 1, pid);
    int s = sqlite3_step(c->st_requeue);
    sqlite3_reset(c->st_requeue);
    if (s != SQLITE_DONE) return idx_sql_err(c->ix, err, "backend_pending");
    if (sqlite3_changes(idx_sqlite(c->ix)) > 0) c->st.requeued++;
    return ERR_OK;
}

/* Check shard i's metadata: this index's, this number; an empty shard is claimed (first every
 * passage it should hold is queued, then it is marked: a crash in between claims it again). */
static int check_shard(struct sync_ctx *c, int i, int *claimed, struct err *err)
{
    struct idx_bk *bk = c->bk;
    int n = c->spec->n;
    char *id = NULL, *num = NULL, want[32];
    snprintf(want, sizeof want, "%d/%d", i + 1, n);
    int64_t count = 0;
    int rc = bk->ops->meta_get(bk, i, BK_META_INDEX, &id, err);
    if (!rc) rc = bk->ops->meta_get(bk, i, BK_META_SHARD, &num, err);
    if (!rc) rc = bk->ops->count(bk, i, &count, err);
    if (rc) goto out;
    if (!*id && !*num && count > 0) {
        rc = err_set(err, ERR_MISMATCH,
                     "shard %d/%d (%s) holds %lld documents that vericite did not write: "
                     "give each shard its own empty folder",
                     i + 1, n, c->spec->addrs[i], (long long)count);
    } else if (!*id && !*num) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "INSERT OR IGNORE INTO backend_pending(pid) SELECT pid FROM passages "
                 "WHERE (pid - 1) %% %d = %d",
                 n, i);
        rc = exec_sql(c->ix, sql, err);
        if (!rc) c->st.requeued += sqlite3_changes(idx_sqlite(c->ix));
        if (!rc) rc = bk->ops->meta_set(bk, i, BK_META_INDEX, c->id, err);
        if (!rc) rc = bk->ops->meta_set(bk, i, BK_META_SHARD, want, err);
        *claimed = 1;
    } else if (strcmp(id, c->id) != 0) {
        rc = err_set(err, ERR_MISMATCH,
                     "shard %d/%d (%s) holds another vericite index (id %s; this index is %s): "
                     "give this index its own empty shard folders",
                     i + 1, n, c->spec->addrs[i], id, c->id);
    } else if (strcmp(num, want) != 0) {
        rc = err_set(err, ERR_MISMATCH,
                     "shard %d/%d (%s) is shard %s of this index: give the addresses in their "
                     "original order",
                     i + 1, n, c->spec->addrs[i], num);
    }
out:
    free(id);
    free(num);
    return rc;
}

static int check_shards(struct sync_ctx *c, struct err *err)
{
    int claimed = 0, rc = ERR_OK;
    for (int i = 0; i < c->spec->n && !rc; i++)
        rc = check_shard(c, i, &claimed, err);
    if (!rc && claimed) rc = c->bk->ops->write(c->bk, NULL, 0, err); /* commit the metadata */
    return rc;
}

struct list_ctx {
    struct sync_ctx *c;
    int64_t *pids;
    size_t n, cap;
};

static int list_cb(void *ctx, int64_t pid)
{
    struct list_ctx *l = ctx;
    if (vec_grow((void **)&l->pids, &l->cap, l->n + 1, sizeof *l->pids)) return ERR_NOMEM;
    l->pids[l->n++] = pid;
    return 0;
}

/* Shard i holds another set of passages than the index gives it: queue every difference. */
static int repair_shard(struct sync_ctx *c, int i, struct err *err)
{
    struct list_ctx l = {c, NULL, 0, 0};
    int rc = c->bk->ops->list(c->bk, i, list_cb, &l, err);
    if (rc == ERR_NOMEM) err_set(err, ERR_NOMEM, "backend repair"); /* list_cb's, message unset */
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(idx_sqlite(c->ix),
                                  "SELECT pid FROM passages WHERE (pid - 1) % ?1 = ?2 ORDER BY pid",
                                  -1, &st, NULL) != SQLITE_OK)
        rc = idx_sql_err(c->ix, err, "backend repair");
    if (!rc) rc = exec_sql(c->ix, "BEGIN IMMEDIATE", err);
    if (!rc) {
        sqlite3_bind_int(st, 1, c->spec->n);
        sqlite3_bind_int(st, 2, i);
        size_t j = 0; /* l.pids ascending */
        int s = SQLITE_DONE;
        while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t pid = sqlite3_column_int64(st, 0);
            while (!rc && j < l.n && l.pids[j] < pid)
                rc = requeue(c, l.pids[j++], err); /* only on the shard */
            if (rc) break;
            if (j < l.n && l.pids[j] == pid)
                j++;
            else
                rc = requeue(c, pid, err); /* only in the index */
        }
        while (!rc && j < l.n)
            rc = requeue(c, l.pids[j++], err);
        if (!rc && s != SQLITE_DONE) rc = idx_sql_err(c->ix, err, "backend repair");
        if (rc)
            exec_sql(c->ix, "ROLLBACK", NULL);
        else
            rc = exec_sql(c->ix, "COMMIT", err);
    }
    sqlite3_finalize(st);
    free(l.pids);
    return rc;
}

/* After sending: each shard must hold as many passages as the index gives it; repair any other. */
static int verify_counts(struct sync_ctx *c, int *repaired, struct err *err)
{
    int n = c->spec->n, rc = ERR_OK;
    *repaired = 0;
    int64_t *local = calloc((size_t)n, sizeof *local);
    if (!local) return err_set(err, ERR_NOMEM, "backend");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(idx_sqlite(c->ix),
                           "SELECT (pid - 1) % ?1, count(*) FROM passages GROUP BY 1", -1, &st,
                           NULL) != SQLITE_OK) {
        free(local);
        return idx_sql_err(c->ix, err, "count passages");
    }
    sqlite3_bind_int(st, 1, n);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t shard = sqlite3_column_int64(st, 0);
        if (shard >= 0 && shard < n) local[shard] = sqlite3_column_int64(st, 1);
    }
    if (s != SQLITE_DONE) rc = idx_sql_err(c->ix, err, "count passages");
    sqlite3_finalize(st);
    for (int i = 0; i < n && !rc; i++) {
        int64_t remote = 0;
        if ((rc = c->bk->ops->count(c->bk, i, &remote, err))) break;
        if (remote != local[i]) {
            rc = repair_shard(c, i, err);
            (*repaired)++;
        }
    }
    free(local);
    return rc;
}

int idx_bk_sync(struct idx *ix, idx_bk_progress_cb cb, void *ctx, struct idx_bk_sync_stats *st,
                struct err *err)
{
    if (st) memset(st, 0, sizeof *st);
    if (ix->in_tx) return err_set(err, ERR_INTERNAL, "idx_bk_sync inside a transaction");
    struct idx_bk_state *s = state(ix);
    if (!s) return err_set(err, ERR_NOMEM, "backend");
    s->loaded = 0;
    int rc = load(ix, err);
    if (rc || !s->remote || s->override || s->forced_local) return rc;
    if (!s->id) return err_set(err, ERR_CORRUPT, "%s: backend recorded without its id", ix->dir);
    struct sync_ctx c = {ix, NULL, &s->spec, s->id, NULL, {0}, {0}, cb, ctx, NULL, NULL, NULL};
    struct xap_opts xo = {.writable = 1, .timeout_ms = s->timeout_ms};
    if ((rc = corpus_tok_new(&c.tok, 0, err))) goto out;
    if ((rc = xap_open(&c.bk, s->spec.addrs, s->spec.n, &xo, err))) goto out;
    if ((rc = check_shards(&c, err))) goto out;
    for (int round = 0; round < 2; round++) {
        int repaired = 0;
        if ((rc = send_pending(&c, err))) goto out;
        if ((rc = verify_counts(&c, &repaired, err))) goto out;
        if (!repaired) break;
        if (round == 1) {
            rc = err_set(err, ERR_CORRUPT,
                         "backend %s: shard counts still differ from the index after a repair",
                         s->spec.text);
            goto out;
        }
    }
out:
    if (rc) err_prefix(err, "backend %s", s->spec.text);
    if (st) *st = c.st;
    sqlite3_finalize(c.st_batch);
    sqlite3_finalize(c.st_done);
    sqlite3_finalize(c.st_requeue);
    if (c.bk) c.bk->ops->close(c.bk);
    corpus_tok_free(c.tok);
    batch_free(&c.b);
    return rc;
}

/* ---------------------------------------------------------------- searching */

static int open_engine(struct idx *ix, struct err *err)
{
    struct idx_bk_state *s = ix->bk;
    if (s->engine) return ERR_OK;
    struct xap_opts xo = {.timeout_ms = s->timeout_ms, .index_id = s->id};
    int rc = xap_open(&s->engine, s->spec.addrs, s->spec.n, &xo, err);
    if (rc) err_prefix(err, "backend %s", s->spec.text);
    return rc;
}

/* Passages changed in the index and not yet in the shards (0 without a pending table). */
static int64_t lag(struct idx *ix)
{
    struct idx_bk_state *s = ix->bk;
    if (!s->st_lag && sqlite3_prepare_v3(idx_sqlite(ix), "SELECT count(*) FROM backend_pending", -1,
                                         SQLITE_PREPARE_PERSISTENT, &s->st_lag, NULL) != SQLITE_OK)
        return 0;
    sqlite3_reset(s->st_lag);
    int64_t n = sqlite3_step(s->st_lag) == SQLITE_ROW ? sqlite3_column_int64(s->st_lag, 0) : 0;
    sqlite3_reset(s->st_lag);
    return n;
}

static void make_warning(struct idx *ix)
{
    struct idx_bk_state *s = ix->bk;
    buf_reset(&s->warning);
    int dead = 0, n = s->engine->nshards;
    for (int i = 0; i < n; i++) {
        struct idx_bk_shard sh;
        s->engine->ops->shard(s->engine, i, &sh);
        if (sh.live) continue;
        buf_printf(&s->warning, "%sshard %d/%d %s (%s)", dead ? "; " : "", i + 1, n, sh.name,
                   sh.why);
        dead++;
    }
    if (dead) {
        char head[160];
        snprintf(head, sizeof head,
                 "degraded answer: %d of %d shards left out, results from the other %d only: ",
                 dead, n, n - dead);
        struct buf w = {0};
        if (buf_puts(&w, head) == 0 && buf_append(&w, s->warning.data, s->warning.len) == 0) {
            buf_cleanup(&s->warning);
            s->warning = w;
        } else {
            buf_cleanup(&w);
        }
    }
    if (s->lag > 0)
        buf_printf(&s->warning,
                   "%s%lld changed passages are not in the shards yet (vericite index --db %s "
                   "--sync-backend)",
                   s->warning.len ? "; " : "", (long long)s->lag, ix->dir);
}

int idx_bk_search(struct idx *ix, struct idx_bk_qterm *q, int nq, double k1, double b, int k,
                  const struct idx_bk_hit **hits, int *n, int64_t *N, struct err *err)
{
    *hits = NULL;
    *n = 0;
    *N = 0;
    int rc = load(ix, err);
    if (rc) return rc;
    struct idx_bk_state *s = ix->bk;
    if (!s->remote) return err_set(err, ERR_INTERNAL, "idx_bk_search without a backend");
    if ((rc = open_engine(ix, err))) return rc;
    s->lag = lag(ix);
    int want = k + (s->lag > 0 ? (s->lag < k ? (int)s->lag : k) : 0);
    rc = s->engine->ops->search(s->engine, q, nq, k1, b, want, hits, n, N, err);
    s->searched = 1;
    make_warning(ix);
    if (rc) {
        err_prefix(err, "backend %s", s->spec.text);
        return rc;
    }
    if (s->lag > 0) {
        /* drop passages removed from the index but not yet from the shards */
        if (vec_grow((void **)&s->hits, &s->hits_cap, (size_t)*n + 1, sizeof *s->hits))
            return err_set(err, ERR_NOMEM, "backend");
        int m = 0;
        for (int i = 0; i < *n && m < k; i++)
            if (idx_passage_doc(ix, (*hits)[i].pid) >= 0) s->hits[m++] = (*hits)[i];
        *hits = s->hits;
        *n = m;
    } else if (*n > k) {
        *n = k;
    }
    return ERR_OK;
}

const char *idx_bk_warning(struct idx *ix)
{
    struct idx_bk_state *s = ix->bk;
    return s && s->remote && s->searched && s->warning.len ? s->warning.data : NULL;
}

int idx_bk_info(struct idx *ix, struct idx_bk_info *out, struct err *err)
{
    memset(out, 0, sizeof *out);
    out->spec = "";
    int rc = load(ix, err);
    if (rc) return rc;
    struct idx_bk_state *s = ix->bk;
    if (!s->remote) return ERR_OK;
    out->spec = s->spec.text;
    out->nshards = out->live = s->spec.n;
    if (s->engine && s->searched) {
        out->live = 0;
        for (int i = 0; i < s->engine->nshards; i++) {
            struct idx_bk_shard sh;
            s->engine->ops->shard(s->engine, i, &sh);
            out->live += sh.live;
        }
    }
    out->pending = lag(ix);
    return ERR_OK;
}

int idx_bk_shard_info(struct idx *ix, int i, struct idx_bk_shard *out)
{
    memset(out, 0, sizeof *out);
    struct idx_bk_state *s = ix->bk;
    if (!s || !s->engine || i < 0 || i >= s->engine->nshards) return 0;
    s->engine->ops->shard(s->engine, i, out);
    return 1;
}

int idx_bk_probe(struct idx *ix, int64_t *counts, int cap, struct err *err)
{
    int rc = load(ix, err);
    if (rc) return rc;
    struct idx_bk_state *s = ix->bk;
    if (!s->remote) return err_set(err, ERR_ARG, "%s: no remote backend", ix->dir);
    close_engine(s);
    if ((rc = open_engine(ix, err))) return rc;
    s->searched = 1;
    for (int i = 0; i < s->engine->nshards && i < cap; i++) {
        struct err e = {0};
        if (s->engine->ops->count(s->engine, i, &counts[i], &e)) counts[i] = -1;
    }
    return ERR_OK;
}
