/* idx_vec.c - the dense half of an index: which embedder built it, the passage vectors (stored in
 * the vectors table, inside the same transactions as the passages), and vectors.faiss, a FAISS
 * index derived from that table and kept in step after every commit.
 *
 * The table is the source of truth: vectors.faiss can always be rebuilt from it, so a crash
 * between the SQLite commit and the FAISS rename loses nothing (the next write run, or
 * `vericite index --sync-vectors`, rebuilds it; stats reports the disagreement meanwhile). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idx_faiss.h"
#include "idx_int.h"
#include "index/nn/nn.h"
#include "vec.h"

#define VEC_BATCH 256         /* passages embedded per call */
#define VEC_PC_SAMPLE 10000   /* passages used to fit the common component */
/* IVF lists searched per query: recall@10 0.95-0.97 against exact search at 100k-1M low-rank
 * vectors for 0.75-3.4 ms (tests/bench/faiss_bench.c, results in tests/bench/faiss_bench_results.txt) */
#define VEC_DEFAULT_NPROBE 64
#define VEC_TUNE_QUERIES 200 /* --recall: stored vectors used as queries */
#define VEC_TUNE_K 10        /* --recall: recall@10 against exact search */
#define VEC_RERANK 4           /* PQ indexes: candidates re-scored with stored vectors, per hit */
#define VEC_PQ8_MIN (39 * 256) /* ivfpq: vectors needed to train 8-bit (256-centroid) codebooks */

/* ---------------------------------------------------------------- small helpers */

static int push_pid(int64_t **arr, size_t *n, size_t *cap, int64_t pid)
{
    if (vec_grow((void **)arr, cap, *n + 1, sizeof **arr)) return -1;
    (*arr)[(*n)++] = pid;
    return 0;
}

void idx_vec_reset_tx(struct idx *ix)
{
    ix->n_vec_added = ix->n_vec_removed = 0;
}

void idx_vec_cleanup(struct idx *ix)
{
    emb_free(ix->emb);
    ix->emb = NULL;
    idx_faiss_free(ix->faiss);
    ix->faiss = NULL;
    free(ix->rr_ids);
    free(ix->rr_sc);
    free(ix->rr_vec);
    ix->rr_ids = NULL;
    ix->rr_sc = ix->rr_vec = NULL;
    ix->rr_cap = 0;
    free(ix->vec_added);
    free(ix->vec_removed);
    ix->vec_added = ix->vec_removed = NULL;
}

static char *setting(struct idx *ix, const char *key)
{
    char *v = NULL;
    if (idx_setting_get(ix, key, &v, NULL) != ERR_OK) return NULL;
    return v;
}

static int64_t setting_i64(struct idx *ix, const char *key)
{
    char *v = setting(ix, key);
    int64_t n = v ? strtoll(v, NULL, 10) : 0;
    free(v);
    return n;
}

static int set_i64(struct idx *ix, const char *key, int64_t v, struct err *err)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)v);
    return idx_setting_set(ix, key, s, err);
}

static int state_get(struct idx *ix, const char *key, void **data, size_t *len, struct err *err)
{
    *data = NULL;
    *len = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, "SELECT data FROM embed_state WHERE key=?", -1, &st, NULL) != SQLITE_OK)
        return idx_sql_err(ix, err, "read embedder state");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = ERR_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int n = sqlite3_column_bytes(st, 0);
        if (n > 0) {
            *data = malloc((size_t)n);
            if (!*data) rc = err_set(err, ERR_NOMEM, "embedder state");
            else {
                memcpy(*data, sqlite3_column_blob(st, 0), (size_t)n);
                *len = (size_t)n;
            }
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int state_put(struct idx *ix, const char *key, const void *data, size_t len, struct err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, "INSERT OR REPLACE INTO embed_state(key, data) VALUES(?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        return idx_sql_err(ix, err, "write embedder state");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, data, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? ERR_OK : idx_sql_err(ix, err, "write embedder state");
    sqlite3_finalize(st);
    return rc;
}

static int faiss_path(struct idx *ix, char *out, size_t n)
{
    return snprintf(out, n, "%s/%s", ix->dir, IDX_VEC_FILE) < (int)n ? 0 : -1;
}

/* ---------------------------------------------------------------- the embedder */

/* Make the embedder described by kind/vectors/url/model (not yet checked against the index).
 * `mo` (may be NULL) gives the model embedder's prefixes and threads. */
static int make_embedder(struct idx *ix, const char *kind, const char *vectors, const char *url,
                         const char *model, const struct idx_vec_opts *mo, struct emb **out,
                         struct err *err)
{
    *out = NULL;
    if (!strcmp(kind, "static")) {
        struct buf def = {0};
        int rc = ERR_OK;
        if (!vectors || !*vectors) {
            if ((rc = emb_vecfile_default_path(&def, err))) return rc;
            vectors = def.data;
            if (access(vectors, R_OK) != 0) {
                rc = err_set(err, ERR_NOTFOUND,
                             "%s: the default word vectors are not installed (run `make model`, or "
                             "`vericite model import FILE` for your own, or index with --embedder none)",
                             vectors);
                buf_cleanup(&def);
                return rc;
            }
        }
        rc = emb_static_new(out, vectors, NULL, err);
        buf_cleanup(&def);
        return rc;
    }
#ifdef EMB_HAVE_MODEL
    if (!strcmp(kind, "model")) {
        if (!model || !*model)
            return err_set(err, ERR_ARG, "the model embedder needs a model: --embedder model:NAME");
        struct emb_model_opts eo = {.model = model};
        if (mo) {
            eo.query_prefix = mo->query_prefix;
            eo.passage_prefix = mo->passage_prefix;
            eo.threads = mo->threads;
        }
        return emb_model_new(out, &eo, err);
    }
#endif
#ifdef EMB_HAVE_HTTP
    if (!strcmp(kind, "http")) {
        if (!url || !*url || !model || !*model)
            return err_set(err, ERR_ARG, "the http embedder needs --embed-url URL and --embed-model NAME");
        /* the dimension recorded in the index spares a probe request and checks every answer */
        char *d = setting(ix, "embed_dim");
        struct emb_http_opts ho = {.url = url, .model = model, .dim = d ? (int)strtol(d, NULL, 10) : 0};
        free(d);
        return emb_http_new(out, &ho, err);
    }
#else
    (void)url;
#endif
    return err_set(err, ERR_ARG, "unknown embedder '%s' (static, http, model:NAME, none)", kind);
}

/* The mismatch error: another embedder than the one that built the vectors. */
static int sig_mismatch(struct idx *ix, const char *kind, const char *recorded_model,
                        const char *model, const char *sig, const char *now, int query_side,
                        struct err *err)
{
    if (!strcmp(kind, "model") && query_side)
        return err_set(err, ERR_MISMATCH,
                       "%s: the vectors were built with model '%s' (%s), which is now %s (another "
                       "model under that name?); re-import the model the index was built with, "
                       "or embed the passages again with: vericite index --db %s --reembed",
                       ix->dir, recorded_model ? recorded_model : "?", sig, now, ix->dir);
    if (!strcmp(kind, "model"))
        return err_set(err, ERR_MISMATCH,
                       "%s: the vectors were built with model '%s' (%s), not with '%s' (%s); add "
                       "--reembed to embed every passage again with the new one",
                       ix->dir, recorded_model ? recorded_model : "?", sig, model ? model : "?",
                       now);
    if (query_side)
        return err_set(err, ERR_MISMATCH,
                       "%s: vectors were built with embedder '%s' but it is now '%s'; rebuild them "
                       "with: vericite index --db %s --reembed",
                       ix->dir, sig, now, ix->dir);
    return err_set(err, ERR_MISMATCH,
                   "%s: vectors were built with embedder '%s', this one is '%s'; add --reembed "
                   "to embed every passage again",
                   ix->dir, sig, now);
}

/* Load the static embedder's corpus state (word counts, common component) into ix->emb. */
static int load_static_state(struct idx *ix, struct err *err)
{
    void *counts = NULL, *total = NULL, *pc = NULL;
    size_t nc = 0, nt = 0, np = 0;
    int rc = state_get(ix, "sif_counts", &counts, &nc, err);
    if (!rc) rc = state_get(ix, "sif_total", &total, &nt, err);
    if (!rc) rc = state_get(ix, "sif_pc", &pc, &np, err);
    const struct emb_vecfile *vf = emb_static_vectors(ix->emb);
    if (!rc && counts && total && nt == sizeof(uint64_t) &&
        nc == (size_t)emb_vecfile_count(vf) * sizeof(uint64_t) && *(uint64_t *)total > 0)
        rc = emb_static_set_counts(ix->emb, counts, *(uint64_t *)total, err);
    if (!rc && pc && np == (size_t)ix->emb->dim * sizeof(float))
        rc = emb_static_set_pc(ix->emb, pc, err);
    free(counts);
    free(total);
    free(pc);
    return rc;
}

/* Load the index's recorded embedder into ix->emb and check its signature. */
static int load_embedder(struct idx *ix, struct err *err)
{
    if (ix->emb) return ERR_OK;
    char *kind = setting(ix, "embedder_kind"), *vectors = setting(ix, "embedder_vectors"),
         *url = setting(ix, "embed_url"), *model = setting(ix, "embed_model"),
         *sig = setting(ix, "embedder");
    struct idx_vec_opts mo = {0};
    char *qp = setting(ix, "embed_query_prefix"), *pp = setting(ix, "embed_passage_prefix");
    mo.query_prefix = qp;
    mo.passage_prefix = pp;
    int rc = ERR_OK;
    if (!kind || !*kind || !strcmp(kind, "none")) {
        rc = err_set(err, ERR_ARG, "%s: this index has no vectors (built with --embedder none); "
                                   "add them with: vericite index --db %s --reembed --embedder static",
                     ix->dir, ix->dir);
        goto out;
    }
    if ((rc = make_embedder(ix, kind, vectors, url, model, &mo, &ix->emb, err))) goto out;
    if (!strcmp(kind, "static") && (rc = load_static_state(ix, err))) goto out;
    const char *now = emb_signature(ix->emb);
    if (sig && *sig && strcmp(sig, now) != 0) {
        rc = sig_mismatch(ix, kind, model, model, sig, now, 1, err);
        emb_free(ix->emb);
        ix->emb = NULL;
        goto out;
    }
    ix->vec_dim = ix->emb->dim;
out:
    free(kind);
    free(vectors);
    free(url);
    free(model);
    free(sig);
    free(qp);
    free(pp);
    return rc;
}

/* The model reference as recorded: a name as given, a path made absolute (the index is also
 * searched from other folders). *out is malloc'ed (caller frees). */
static int model_ref(const char *ref, char **out, struct err *err)
{
    size_t n = strlen(ref), el = strlen(NN_FILE_EXT);
    int path = strchr(ref, '/') || (n > el && !strcmp(ref + n - el, NN_FILE_EXT));
    *out = path ? realpath(ref, NULL) : strdup(ref);
    if (*out) return ERR_OK;
    if (path) return err_set(err, ERR_NOTFOUND, "%s: no such model file", ref);
    return err_set(err, ERR_NOMEM, "model");
}

/* Record `value` under `key`; a change of what vectors.faiss is built from rebuilds it. */
static int set_rebuild(struct idx *ix, const char *key, const char *value, struct err *err)
{
    char *cur = setting(ix, key);
    int same = !strcmp(cur ? cur : "", value);
    free(cur);
    if (same) return ERR_OK;
    ix->vec_rebuild = 1;
    return idx_setting_set(ix, key, value, err);
}

/* --faiss, --vector-index and --recall: which index vectors.faiss is and how it searches. */
static int configure_index(struct idx *ix, const struct idx_vec_opts *o, struct err *err)
{
    int rc = ERR_OK;
    const char *k = o->vector_index;
    if (k && strcmp(k, "auto") && strcmp(k, "flat") && strcmp(k, "ivf") && strcmp(k, "ivfpq") &&
        strcmp(k, "opq-ivfpq"))
        return err_set(err, ERR_ARG, "unknown vector index '%s' (auto, flat, ivf, ivfpq, opq-ivfpq)", k);
    if (k && (rc = set_rebuild(ix, "vector_index", k, err))) return rc;
    /* an explicit factory wins; a kind given alone replaces the recorded factory */
    if (o->faiss) rc = set_rebuild(ix, "faiss_factory", o->faiss, err);
    else if (k) rc = set_rebuild(ix, "faiss_factory", "", err);
    if (rc) return rc;
    if (o->recall > 1) return err_set(err, ERR_ARG, "--recall %g: give a recall in (0, 1]", o->recall);
    if (o->recall != 0) {
        char t[32] = "";
        if (o->recall > 0) snprintf(t, sizeof t, "%.4f", o->recall);
        rc = set_rebuild(ix, "faiss_recall_target", t, err);
    }
    return rc;
}

int idx_vec_configure(struct idx *ix, const struct idx_vec_opts *o, struct err *err)
{
    struct idx_vec_opts z = {0};
    if (!o) o = &z;
    if (!ix->in_tx) return err_set(err, ERR_INTERNAL, "idx_vec_configure outside a transaction");
    char *cur = setting(ix, "embedder_kind");
    int fresh = !cur || !*cur;
    const char *kind = o->embedder ? o->embedder : (fresh ? "static" : cur);
    int rc = ERR_OK;
    if (strcmp(kind, "static") && strcmp(kind, "http") && strcmp(kind, "model") &&
        strcmp(kind, "none")) {
        rc = err_set(err, ERR_ARG, "unknown embedder '%s' (static, http, model:NAME, none)", kind);
        goto out;
    }
    if (!fresh && strcmp(kind, cur) != 0 && !o->reembed) {
        rc = err_set(err, ERR_MISMATCH,
                     "%s: the index's vectors come from the '%s' embedder, not '%s'; to switch, "
                     "add --reembed (every passage is embedded again)",
                     ix->dir, cur, kind);
        goto out;
    }
    if ((rc = configure_index(ix, o, err))) goto out;
    if (o->full_scan) ix->vec_full_scan = 1;
    if (!strcmp(kind, "none")) {
        if ((rc = idx_setting_set(ix, "embedder_kind", "none", err))) goto out;
        if ((rc = idx_setting_set(ix, "embedder", "", err))) goto out;
        if (!fresh && strcmp(cur, "none") != 0) {
            if (sqlite3_exec(ix->db, "DELETE FROM vectors; DELETE FROM embed_state", NULL, NULL, NULL) != SQLITE_OK) {
                rc = idx_sql_err(ix, err, "drop vectors");
                goto out;
            }
            ix->vec_rebuild = 1;
            rc = set_i64(ix, "vec_count", 0, err);
        }
        goto out;
    }
    /* the vectors file / endpoint: given now, else what the index recorded */
    char *vec = o->vectors ? NULL : setting(ix, "embedder_vectors");
    char *url = o->url ? NULL : setting(ix, "embed_url");
    char *model = NULL, *old_model = setting(ix, "embed_model");
    int is_model = !strcmp(kind, "model");
    if (o->model && is_model) rc = model_ref(o->model, &model, err);
    else if (!o->model) model = setting(ix, "embed_model");
    const char *v = o->vectors ? o->vectors : vec, *u = o->url ? o->url : url,
               *m = o->model && !is_model ? o->model : model;
    /* model: prefixes given now, else recorded (a switch of model takes its own defaults) */
    struct idx_vec_opts mo = *o;
    char *qp = NULL, *pp = NULL;
    if (is_model && !(o->model && o->reembed)) {
        if (!mo.query_prefix) mo.query_prefix = qp = setting(ix, "embed_query_prefix");
        if (!mo.passage_prefix) mo.passage_prefix = pp = setting(ix, "embed_passage_prefix");
    }
    struct emb *e = NULL;
    if (!rc) rc = make_embedder(ix, kind, v, u, m, &mo, &e, err);
    if (!rc && !o->reembed && !strcmp(kind, "static")) {
        struct emb *keep = ix->emb;
        ix->emb = e; /* load_static_state works on ix->emb */
        rc = load_static_state(ix, err);
        ix->emb = keep;
    }
    if (!rc) {
        char *sig = setting(ix, "embedder");
        const char *now = emb_signature(e);
        int reembed = o->reembed;
        if (sig && *sig && strcmp(sig, now) != 0 && !o->reembed)
            rc = sig_mismatch(ix, kind, old_model, m, sig, now, 0, err);
        if (!rc && reembed) {
            if (sqlite3_exec(ix->db, "DELETE FROM vectors; DELETE FROM embed_state", NULL, NULL, NULL) != SQLITE_OK)
                rc = idx_sql_err(ix, err, "drop vectors");
            ix->vec_rebuild = 1;
            if (!rc) rc = set_i64(ix, "vec_count", 0, err);
        }
        if (!rc) rc = idx_setting_set(ix, "embedder_kind", kind, err);
        if (!rc) rc = idx_setting_set(ix, "embedder", now, err);
        if (!rc && !strcmp(kind, "static"))
            rc = idx_setting_set(ix, "embedder_vectors", v ? v : "", err);
        if (!rc && !strcmp(kind, "http")) {
            rc = idx_setting_set(ix, "embed_url", u ? u : "", err);
            if (!rc) rc = idx_setting_set(ix, "embed_model", m ? m : "", err);
            if (!rc) rc = set_i64(ix, "embed_dim", e->dim, err);
        }
#ifdef EMB_HAVE_MODEL
        if (!rc && is_model) {
            rc = idx_setting_set(ix, "embed_model", m, err);
            if (!rc) rc = idx_setting_set(ix, "embed_query_prefix", emb_model_query_prefix(e), err);
            if (!rc) rc = idx_setting_set(ix, "embed_passage_prefix", emb_model_passage_prefix(e), err);
            if (!rc) rc = set_i64(ix, "embed_dim", e->dim, err);
        }
#endif
        free(sig);
    }
    free(vec);
    free(url);
    free(model);
    free(old_model);
    free(qp);
    free(pp);
    if (rc) {
        emb_free(e);
        goto out;
    }
    emb_free(ix->emb);
    ix->emb = e;
    ix->vec_dim = e->dim;
out:
    free(cur);
    return rc;
}

/* ---------------------------------------------------------------- embedding passages */

/* Where the search for passages without a vector starts: passage ids only grow (AUTOINCREMENT)
 * and every passage gets a vectors row in the run that adds it (an empty blob when nothing in
 * it embeds), so the passages after the last one with a row are all there is to embed. A full
 * scan (-1) when asked (--sync-vectors, after a crash or a hand edit). */
static int64_t scan_floor(struct idx *ix)
{
    sqlite3_stmt *st = NULL;
    int64_t floor = -1;
    if (ix->vec_full_scan) return -1;
    if (sqlite3_prepare_v2(ix->db, "SELECT coalesce(max(pid), -1) FROM vectors", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        floor = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return floor;
}

/* Passages after `floor` with no row in the vectors table: their count (-1 on error). */
static int64_t missing_count(struct idx *ix, int64_t floor)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT count(*) FROM passages p WHERE p.pid > ?1 AND NOT EXISTS"
                           " (SELECT 1 FROM vectors v WHERE v.pid = p.pid)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, floor);
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

static const char missing_sql[] =
    "SELECT p.pid, d.title, p.text FROM passages p JOIN docs d ON d.row = p.doc"
    " WHERE p.pid > ?1 AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.pid = p.pid)"
    " ORDER BY p.pid LIMIT ?2";

/* The text embedded for a passage: "Title. text". */
static int passage_text(struct buf *b, const char *title, const char *text)
{
    buf_reset(b);
    if (title && *title && (buf_puts(b, title) || buf_puts(b, ". "))) return -1;
    return buf_puts(b, text ? text : "");
}

/* Static embedder: add the new passages' words to the corpus counts; fit the common component
 * the first time (on up to VEC_PC_SAMPLE of them). */
static int update_static_state(struct idx *ix, int64_t floor, struct err *err)
{
    const struct emb_vecfile *vf = emb_static_vectors(ix->emb);
    size_t nv = (size_t)emb_vecfile_count(vf);
    void *cdata = NULL, *tdata = NULL, *pdata = NULL;
    size_t nc = 0, nt = 0, np = 0;
    uint64_t *counts = NULL, total = 0;
    char **sample = NULL;
    size_t nsample = 0;
    struct buf t = {0};
    sqlite3_stmt *st = NULL;
    int rc = state_get(ix, "sif_counts", &cdata, &nc, err);
    if (!rc) rc = state_get(ix, "sif_total", &tdata, &nt, err);
    if (!rc) rc = state_get(ix, "sif_pc", &pdata, &np, err);
    if (rc) goto out;
    if (cdata && nc == nv * sizeof *counts) {
        counts = cdata;
        cdata = NULL;
    } else {
        counts = calloc(nv ? nv : 1, sizeof *counts);
        if (!counts) { rc = err_set(err, ERR_NOMEM, "word counts"); goto out; }
    }
    if (tdata && nt == sizeof total) memcpy(&total, tdata, sizeof total);
    int need_pc = !pdata;
    if (need_pc && !(sample = calloc(VEC_PC_SAMPLE, sizeof *sample))) {
        rc = err_set(err, ERR_NOMEM, "sample");
        goto out;
    }
    if (sqlite3_prepare_v2(ix->db, missing_sql, -1, &st, NULL) != SQLITE_OK) {
        rc = idx_sql_err(ix, err, "read passages");
        goto out;
    }
    sqlite3_bind_int64(st, 1, floor);
    sqlite3_bind_int64(st, 2, -1); /* no limit */
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (passage_text(&t, (const char *)sqlite3_column_text(st, 1),
                         (const char *)sqlite3_column_text(st, 2))) {
            rc = err_set(err, ERR_NOMEM, "passage text");
            break;
        }
        if ((rc = emb_static_count(ix->emb, t.data, t.len, counts, &total, err))) break;
        if (need_pc && nsample < VEC_PC_SAMPLE && !(sample[nsample++] = strdup(t.data))) {
            rc = err_set(err, ERR_NOMEM, "sample");
            break;
        }
    }
    if (!rc && s != SQLITE_DONE) rc = idx_sql_err(ix, err, "read passages");
    sqlite3_finalize(st);
    if (rc) goto out;
    if (total > 0) {
        if ((rc = emb_static_set_counts(ix->emb, counts, total, err))) goto out;
        if ((rc = state_put(ix, "sif_counts", counts, nv * sizeof *counts, err))) goto out;
        if ((rc = state_put(ix, "sif_total", &total, sizeof total, err))) goto out;
    }
    if (need_pc && nsample > 0) {
        rc = emb_static_fit_pc(ix->emb, (const char *const *)sample, nsample, err);
        if (rc == ERR_ARG) { /* no known word in the sample: no common component */
            rc = ERR_OK;
        } else if (!rc) {
            float *pc = malloc((size_t)ix->emb->dim * sizeof *pc);
            if (!pc) { rc = err_set(err, ERR_NOMEM, "pc"); goto out; }
            if (emb_static_get_pc(ix->emb, pc))
                rc = state_put(ix, "sif_pc", pc, (size_t)ix->emb->dim * sizeof *pc, err);
            free(pc);
        }
    }
out:
    if (sample)
        for (size_t i = 0; i < nsample; i++) free(sample[i]);
    free(sample);
    free(cdata);
    free(tdata);
    free(pdata);
    free(counts);
    buf_cleanup(&t);
    return rc;
}

static int store_vectors(struct idx *ix, const int64_t *pids, size_t n, const float *vecs, struct err *err)
{
    int dim = ix->emb->dim;
    for (size_t i = 0; i < n; i++) {
        const float *v = vecs + i * (size_t)dim;
        int zero = emb_is_zero(v, dim);
        int rc = idx_prepare(ix, &ix->st_vec_ins, "INSERT OR REPLACE INTO vectors(pid, vec) VALUES(?, ?)", err);
        if (rc) return rc;
        sqlite3_bind_int64(ix->st_vec_ins, 1, pids[i]);
        /* an empty blob marks "nothing to embed", so the passage is not tried again */
        sqlite3_bind_blob(ix->st_vec_ins, 2, v, zero ? 0 : dim * (int)sizeof(float), SQLITE_STATIC);
        if (sqlite3_step(ix->st_vec_ins) != SQLITE_DONE) return idx_sql_err(ix, err, "store vector");
        if (!zero && push_pid(&ix->vec_added, &ix->n_vec_added, &ix->cap_vec_added, pids[i]))
            return err_set(err, ERR_NOMEM, "vectors");
    }
    return ERR_OK;
}

int idx_vec_sync(struct idx *ix, idx_vec_progress_cb cb, void *ctx, struct err *err)
{
    if (!ix->in_tx) return err_set(err, ERR_INTERNAL, "idx_vec_sync outside a transaction");
    char *kind = setting(ix, "embedder_kind");
    int none = !kind || !*kind || !strcmp(kind, "none"), is_static = kind && !strcmp(kind, "static");
    free(kind);
    if (none) return ERR_OK;
    int rc = load_embedder(ix, err);
    if (rc) return rc;
    int64_t floor = scan_floor(ix), total = missing_count(ix, floor);
    if (total < 0) return idx_sql_err(ix, err, "count passages");
    ix->vec_full_scan = 0;
    if (total == 0) return ERR_OK;
    if (is_static && (rc = update_static_state(ix, floor, err))) return rc;

    int dim = ix->emb->dim;
    char **texts = calloc(VEC_BATCH, sizeof *texts);
    int64_t *pids = calloc(VEC_BATCH, sizeof *pids);
    float *vecs = malloc((size_t)VEC_BATCH * (size_t)dim * sizeof *vecs);
    struct buf t = {0};
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    long done = 0;
    if (!texts || !pids || !vecs) {
        rc = err_set(err, ERR_NOMEM, "embed");
        goto out;
    }
    /* the passages are read into batches first: the embedder's results are written with
     * another statement, which must not run while this one walks the same table */
    if (sqlite3_prepare_v2(ix->db, missing_sql, -1, &st, NULL) != SQLITE_OK) {
        rc = idx_sql_err(ix, err, "read passages");
        goto out;
    }
    int64_t last = floor;
    size_t added_before = ix->n_vec_added;
    for (;;) {
        n = 0;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, last);
        sqlite3_bind_int64(st, 2, VEC_BATCH);
        while (n < VEC_BATCH && sqlite3_step(st) == SQLITE_ROW) {
            int64_t pid = sqlite3_column_int64(st, 0);
            if (passage_text(&t, (const char *)sqlite3_column_text(st, 1),
                             (const char *)sqlite3_column_text(st, 2)) ||
                !(texts[n] = strdup(t.data))) {
                rc = err_set(err, ERR_NOMEM, "embed");
                goto out;
            }
            pids[n++] = pid;
        }
        sqlite3_reset(st);
        if (n == 0) break;
        last = pids[n - 1];
        if ((rc = emb_embed(ix->emb, (const char *const *)texts, n, vecs, err))) goto out;
        if ((rc = store_vectors(ix, pids, n, vecs, err))) goto out;
        for (size_t i = 0; i < n; i++) {
            free(texts[i]);
            texts[i] = NULL;
        }
        done += (long)n;
        if (cb) cb(ctx, done, (long)total);
    }
    rc = set_i64(ix, "vec_count",
                 setting_i64(ix, "vec_count") + (int64_t)(ix->n_vec_added - added_before), err);
    /* the signature now includes the corpus word weights and common component */
    if (!rc) rc = idx_setting_set(ix, "embedder", emb_signature(ix->emb), err);
out:
    sqlite3_finalize(st);
    if (texts)
        for (size_t i = 0; i < VEC_BATCH; i++) free(texts[i]);
    free(texts);
    free(pids);
    free(vecs);
    buf_cleanup(&t);
    return rc;
}

int idx_vec_forget(struct idx *ix, int64_t pid, struct err *err)
{
    int rc = idx_prepare(ix, &ix->st_vec_del, "DELETE FROM vectors WHERE pid=? RETURNING length(vec)", err);
    if (rc) return rc;
    sqlite3_bind_int64(ix->st_vec_del, 1, pid);
    int s = sqlite3_step(ix->st_vec_del);
    int had = s == SQLITE_ROW && sqlite3_column_int(ix->st_vec_del, 0) > 0;
    while (s == SQLITE_ROW) s = sqlite3_step(ix->st_vec_del);
    sqlite3_reset(ix->st_vec_del);
    if (s != SQLITE_DONE) return idx_sql_err(ix, err, "delete vector");
    if (!had) return ERR_OK;
    if (push_pid(&ix->vec_removed, &ix->n_vec_removed, &ix->cap_vec_removed, pid))
        return err_set(err, ERR_NOMEM, "vectors");
    return set_i64(ix, "vec_count", setting_i64(ix, "vec_count") - 1, err);
}

/* ---------------------------------------------------------------- vectors.faiss */

/* IVF lists for n vectors: ~4 sqrt(n), a power of two (the training rule may cut it). */
static long auto_nlist(int64_t n)
{
    long nlist = 1;
    while ((double)nlist * nlist < 16.0 * (double)n) nlist *= 2;
    return nlist;
}

/* Product-quantizer sub-vectors for dimension dim: dim / 4 when that divides (4 dimensions per
 * code byte: 96 bytes a vector at 384 dimensions, 192 at 768), else the largest divisor below. */
static int pq_m(int dim)
{
    int m = dim / 4 > 0 ? dim / 4 : 1;
    while (m > 1 && dim % m) m--;
    return m;
}

/* The factory of an index of n vectors of dimension dim by kind ("np": no polysemous training,
 * which FAISS otherwise runs for IVF-PQ: minutes of simulated annealing for a Hamming filter
 * vericite does not use) (auto, flat, ivf, ivfpq,
 * opq-ivfpq; NULL or "" is auto: exact below IDX_VEC_IVF_MIN, IVF+SQ8 from there). */
static void kind_factory(const char *kind, int64_t n, int dim, char *out, size_t len)
{
    long nlist = auto_nlist(n);
    if (!kind || !*kind || !strcmp(kind, "auto")) {
        if (n < IDX_VEC_IVF_MIN) snprintf(out, len, "IDMap2,Flat");
        else snprintf(out, len, "IVF%ld,SQ8", nlist);
    } else if (!strcmp(kind, "flat")) {
        snprintf(out, len, "IDMap2,Flat");
    } else if (!strcmp(kind, "ivf")) {
        snprintf(out, len, "IVF%ld,SQ8", nlist);
    } else if (n < VEC_PQ8_MIN) {
        /* too few points for 256-centroid codebooks (39 each): 4-bit codes, 16 centroids, and no
         * OPQ (whose own training uses 8-bit codebooks) */
        snprintf(out, len, "IVF%ld,PQ%dx4np", nlist, pq_m(dim));
    } else if (!strcmp(kind, "ivfpq")) {
        snprintf(out, len, "IVF%ld,PQ%dnp", nlist, pq_m(dim));
    } else { /* opq-ivfpq */
        int m = pq_m(dim);
        snprintf(out, len, "OPQ%d,IVF%ld,PQ%dnp", m, nlist, m);
    }
}

/* The factory the index's settings ask for: --faiss, else --vector-index, else automatic. */
static void choose_factory(struct idx *ix, int64_t n, int dim, char *out, size_t len)
{
    char *set = setting(ix, "faiss_factory"), *kind = setting(ix, "vector_index");
    if (set && *set) snprintf(out, len, "%s", set);
    else kind_factory(kind, n, dim, out, len);
    free(set);
    free(kind);
}

/* The automatic choice is in force (no --faiss, --vector-index auto or none). */
static int automatic(struct idx *ix)
{
    char *set = setting(ix, "faiss_factory"), *kind = setting(ix, "vector_index");
    int a = (!set || !*set) && (!kind || !*kind || !strcmp(kind, "auto"));
    free(set);
    free(kind);
    return a;
}

static int read_vec_row(sqlite3_stmt *st, int dim, float *out)
{
    int nb = sqlite3_column_bytes(st, 1);
    if (nb != dim * (int)sizeof(float)) return 0;
    memcpy(out, sqlite3_column_blob(st, 1), (size_t)nb);
    return 1;
}

/* `want` of the `count` stored vectors, sampled uniformly (idx_faiss_sampler, `seed`), into out
 * (want, dim) and their pids into pids (want; may be NULL); *got how many were read. */
static int sample_rows(struct idx *ix, int dim, int64_t count, int64_t want, uint64_t seed,
                       float *out, int64_t *pids, int64_t *got, struct err *err)
{
    sqlite3_stmt *st = NULL;
    *got = 0;
    if (sqlite3_prepare_v2(ix->db, "SELECT pid, vec FROM vectors WHERE length(vec) > 0 ORDER BY pid",
                           -1, &st, NULL) != SQLITE_OK)
        return idx_sql_err(ix, err, "read vectors");
    struct idx_faiss_sampler smp;
    idx_faiss_sampler_init(&smp, want, count, seed);
    int s = SQLITE_ROW;
    while (*got < want && (s = sqlite3_step(st)) == SQLITE_ROW)
        if (idx_faiss_sampler_take(&smp) && read_vec_row(st, dim, out + (size_t)*got * (size_t)dim)) {
            if (pids) pids[*got] = sqlite3_column_int64(st, 0);
            (*got)++;
        }
    int rc = s == SQLITE_ROW || s == SQLITE_DONE ? ERR_OK : idx_sql_err(ix, err, "read vectors");
    sqlite3_finalize(st);
    return rc;
}

/* Train `f` on plan->train_n of the `count` stored vectors (the training rule in idx_faiss.h),
 * seeded by the count so the same corpus gives the same index. */
static int train_sample(struct idx *ix, struct idx_faiss *f, int dim, int64_t count,
                        const struct idx_faiss_plan *plan, struct err *err)
{
    int64_t want = plan->train_n, got = 0;
    float *tr = malloc((size_t)(want ? want : 1) * (size_t)dim * sizeof *tr);
    if (!tr) return err_set(err, ERR_NOMEM, "train on %lld vectors", (long long)want);
    int rc = sample_rows(ix, dim, count, want, (uint64_t)count, tr, NULL, &got, err);
    if (!rc) rc = idx_faiss_train(f, got, tr, err);
    free(tr);
    return rc;
}

/* For --recall: VEC_TUNE_QUERIES stored vectors as queries (their own pid left out of both
 * lists) and a truth object that the add pass fills with their exact neighbours. */
static int tune_begin(struct idx *ix, int dim, int64_t count, struct idx_faiss_truth **truth,
                      int64_t **self, struct err *err)
{
    int64_t want = count < VEC_TUNE_QUERIES ? count : VEC_TUNE_QUERIES, got = 0;
    float *q = malloc((size_t)(want ? want : 1) * (size_t)dim * sizeof *q);
    *self = malloc((size_t)(want ? want : 1) * sizeof **self);
    *truth = NULL;
    int rc = !q || !*self ? err_set(err, ERR_NOMEM, "recall queries") : ERR_OK;
    if (!rc) rc = sample_rows(ix, dim, count, want, (uint64_t)count ^ 0x51ed270b27u, q, *self, &got, err);
    if (!rc && got > 0) rc = idx_faiss_truth_new(truth, dim, got, q, VEC_TUNE_K + 1, err);
    free(q);
    return rc;
}

/* Record the nprobe the index searches with (and the recall measured for it, when tuned). */
static int record_nprobe(struct idx *ix, int64_t nprobe, double recall, struct err *err)
{
    char r[32] = "";
    if (recall >= 0) snprintf(r, sizeof r, "%.4f", recall);
    int rc = set_i64(ix, "faiss_nprobe", nprobe, err);
    if (!rc) rc = idx_setting_set(ix, "faiss_recall", r, err);
    return rc;
}

/* Build vectors.faiss from the whole vectors table. */
static int rebuild(struct idx *ix, int dim, int64_t count, struct err *err)
{
    char fac[IDX_FAISS_MAX_FACTORY], path[4096];
    choose_factory(ix, count, dim, fac, sizeof fac);
    if (faiss_path(ix, path, sizeof path)) return err_set(err, ERR_ARG, "%s: path too long", ix->dir);
    struct idx_faiss *f = NULL;
    struct idx_faiss_plan plan;
    struct idx_faiss_truth *truth = NULL;
    int64_t *self = NULL;
    sqlite3_stmt *st = NULL;
    const size_t batch = 4096;
    float *vecs = malloc(batch * (size_t)dim * sizeof *vecs);
    int64_t *ids = malloc(batch * sizeof *ids);
    char *target_s = setting(ix, "faiss_recall_target");
    double target = target_s ? strtod(target_s, NULL) : 0;
    free(target_s);
    int rc = ERR_OK;
    if (!vecs || !ids) { rc = err_set(err, ERR_NOMEM, "rebuild vectors"); goto out; }
    /* the training rule: a sample sized for the list count, or fewer lists for a small corpus */
    if ((rc = idx_faiss_plan(fac, dim, count, &plan, err))) goto out;
    if ((rc = idx_faiss_new(&f, dim, plan.factory, err))) goto out;
    if (!idx_faiss_is_trained(f) && (rc = train_sample(ix, f, dim, count, &plan, err))) goto out;
    if (target > 0 && plan.nlist > 0 && (rc = tune_begin(ix, dim, count, &truth, &self, err))) goto out;
    if (sqlite3_prepare_v2(ix->db, "SELECT pid, vec FROM vectors ORDER BY pid", -1, &st, NULL) != SQLITE_OK) {
        rc = idx_sql_err(ix, err, "read vectors");
        goto out;
    }
    size_t n = 0;
    for (;;) {
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW && read_vec_row(st, dim, vecs + n * (size_t)dim)) ids[n++] = sqlite3_column_int64(st, 0);
        if ((s != SQLITE_ROW && n > 0) || n == batch) {
            if ((rc = idx_faiss_add(f, (int64_t)n, vecs, ids, err))) goto out;
            if (truth && (rc = idx_faiss_truth_add(truth, (int64_t)n, vecs, ids, err))) goto out;
            n = 0;
        }
        if (s != SQLITE_ROW) {
            if (s != SQLITE_DONE) { rc = idx_sql_err(ix, err, "read vectors"); goto out; }
            break;
        }
    }
    /* nprobe: the smallest reaching the recall target (--recall), else VEC_DEFAULT_NPROBE; IVF
     * files store it, and settings record it for stats and for indexes that predate it */
    int64_t nprobe = VEC_DEFAULT_NPROBE;
    double recall = -1;
    if (truth && (rc = idx_faiss_tune_nprobe(f, truth, self, target, &nprobe, &recall, err))) goto out;
    if (plan.nlist > 0 && !truth) {
        struct err e2 = {0};
        idx_faiss_set_param(f, "nprobe", (double)nprobe, &e2);
    }
    if ((rc = idx_faiss_write(f, path, err))) goto out;
    rc = plan.nlist > 0 ? record_nprobe(ix, nprobe, recall, err) : record_nprobe(ix, 0, -1, err);
    /* product-quantized codes: searches re-score their candidates with the stored vectors */
    if (!rc) rc = set_i64(ix, "faiss_rerank", strstr(plan.factory, "PQ") != NULL, err);
out:
    sqlite3_finalize(st);
    idx_faiss_free(f);
    idx_faiss_truth_free(truth);
    free(self);
    free(vecs);
    free(ids);
    return rc;
}

int idx_vec_publish(struct idx *ix, struct err *err)
{
    char path[4096];
    if (faiss_path(ix, path, sizeof path)) return err_set(err, ERR_ARG, "%s: path too long", ix->dir);
    char *kind = setting(ix, "embedder_kind");
    int none = !kind || !*kind || !strcmp(kind, "none");
    free(kind);
    int rc = ERR_OK;
    if (none) {
        if (unlink(path) != 0 && access(path, F_OK) == 0)
            rc = err_set(err, ERR_IO, "%s: cannot remove the vectors of a BM25-only index", path);
        goto out;
    }
    if ((rc = load_embedder(ix, err))) goto out;
    int dim = ix->emb->dim;
    int64_t count = setting_i64(ix, "vec_count");
    struct idx_faiss *f = NULL;
    int full = ix->vec_rebuild;
    if (!full) {
        struct err e2 = {0};
        if (idx_faiss_read(&f, path, dim, &e2) != ERR_OK) full = 1; /* missing or unreadable */
    }
    if (!full && (ix->n_vec_added || ix->n_vec_removed)) {
        /* crossing the exact -> IVF threshold by automatic choice: rebuild as IVF */
        if (automatic(ix) && idx_faiss_is_trained(f) && count >= IDX_VEC_IVF_MIN &&
            idx_faiss_ntotal(f) < IDX_VEC_IVF_MIN)
            full = 1;
        if (!full && ix->n_vec_removed)
            rc = idx_faiss_remove(f, (int64_t)ix->n_vec_removed, ix->vec_removed, NULL, err);
        float *v = malloc((size_t)dim * sizeof *v);
        if (!v && !rc) rc = err_set(err, ERR_NOMEM, "vectors");
        for (size_t i = 0; !full && !rc && i < ix->n_vec_added; i++) {
            int found = 0;
            if ((rc = idx_vec_get(ix, ix->vec_added[i], v, &found, err))) break;
            if (found) rc = idx_faiss_add(f, 1, v, &ix->vec_added[i], err);
        }
        free(v);
        if (!rc && !full && idx_faiss_ntotal(f) == count) rc = idx_faiss_write(f, path, err);
        else if (!rc) full = 1;
    } else if (!full && idx_faiss_ntotal(f) != count) {
        full = 1; /* out of step (a crash between commit and publish): rebuild */
    }
    idx_faiss_free(f);
    if (!rc && full) rc = rebuild(ix, dim, count, err);
    if (!rc) ix->vec_rebuild = 0;
    /* the query side reloads the new file */
    idx_faiss_free(ix->faiss);
    ix->faiss = NULL;
    ix->vec_opened = 0;
out:
    idx_vec_reset_tx(ix);
    return rc;
}

int idx_vec_status(struct idx *ix, int64_t *db_vectors, int64_t *faiss_vectors, const char **desc,
                   struct err *err)
{
    (void)err;
    *db_vectors = setting_i64(ix, "vec_count");
    *faiss_vectors = -1;
    *desc = "";
    char path[4096];
    struct idx_faiss *f = NULL;
    struct err e2 = {0};
    if (!faiss_path(ix, path, sizeof path) && idx_faiss_open_shared(&f, path, 0, &e2) == ERR_OK) {
        *faiss_vectors = idx_faiss_ntotal(f);
        int64_t nlist = idx_faiss_nlist(f), nprobe = setting_i64(ix, "faiss_nprobe");
        char lists[96] = "", *rec = setting(ix, "faiss_recall");
        if (nlist > 0)
            snprintf(lists, sizeof lists, ", IVF %lld lists, nprobe %lld%s%s%s", (long long)nlist,
                     (long long)(nprobe > 0 ? nprobe : VEC_DEFAULT_NPROBE), rec && *rec ? " (recall@10 " : "",
                     rec && *rec ? rec : "", rec && *rec ? ")" : "");
        free(rec);
        snprintf(ix->faiss_desc, sizeof ix->faiss_desc, "%s, %d dimensions, %s%s",
                 IDX_VEC_FILE, idx_faiss_dim(f), idx_faiss_is_trained(f) ? "ready" : "untrained", lists);
        *desc = ix->faiss_desc;
    } else if (access(path, F_OK) == 0) {
        snprintf(ix->faiss_desc, sizeof ix->faiss_desc, "unreadable: %.140s", e2.msg);
        *desc = ix->faiss_desc;
    }
    idx_faiss_free(f);
    return ERR_OK;
}

/* ---------------------------------------------------------------- query side */

/* The out-of-step message: vectors.faiss holds `have` vectors, the database `count`. */
static int out_of_step(struct idx *ix, int64_t have, int64_t count, struct err *err)
{
    return err_set(err, ERR_MISMATCH,
                   "%s: %s holds %lld vectors but the database %lld (an interrupted run?); "
                   "bring them in step with: vericite index --db %s --sync-vectors",
                   ix->dir, IDX_VEC_FILE, (long long)have, (long long)count, ix->dir);
}

/* The embedder and a look at vectors.faiss's header (dimension, count): vectors.faiss itself is
 * loaded by the first search (load_faiss), so hybrid interpolation and audits that never search
 * it never load it. */
int idx_vec_open(struct idx *ix, struct err *err)
{
    if (ix->vec_opened) return ERR_OK;
    int rc = load_embedder(ix, err);
    if (rc) return rc;
    char path[4096];
    if (faiss_path(ix, path, sizeof path)) return err_set(err, ERR_ARG, "%s: path too long", ix->dir);
    int dim = 0;
    int64_t have = 0;
    if ((rc = idx_faiss_peek(path, &dim, &have, err))) {
        if (rc == ERR_NOTFOUND)
            err_prefix(err, "the index has no vector file yet (run: vericite index --db %s --sync-vectors)", ix->dir);
        return rc;
    }
    if (dim != ix->emb->dim)
        return err_set(err, ERR_MISMATCH, "%s: vectors have %d dimensions, expected %d", path, dim,
                       ix->emb->dim);
    int64_t count = setting_i64(ix, "vec_count");
    if (have != count) return out_of_step(ix, have, count, err);
    ix->vec_dim = ix->emb->dim;
    ix->vec_opened = 1;
    return ERR_OK;
}

/* Apply the handle's search parameters to ix->faiss: nprobe from idx_vec_set_param, else the one
 * chosen when the index was built (setting faiss_nprobe), else VEC_DEFAULT_NPROBE. */
static void apply_params(struct idx *ix)
{
    struct err e2 = {0};
    double nprobe = ix->vec_nprobe;
    if (nprobe <= 0) nprobe = (double)setting_i64(ix, "faiss_nprobe");
    if (nprobe <= 0) nprobe = VEC_DEFAULT_NPROBE;
    idx_faiss_set_param(ix->faiss, "nprobe", nprobe, &e2); /* exact indexes have none */
    if (ix->vec_efsearch > 0) idx_faiss_set_param(ix->faiss, "efSearch", ix->vec_efsearch, &e2);
}

/* Load vectors.faiss through the process's shared registry (one copy for every handle). */
static int load_faiss(struct idx *ix, struct err *err)
{
    if (ix->faiss) return ERR_OK;
    char path[4096];
    if (faiss_path(ix, path, sizeof path)) return err_set(err, ERR_ARG, "%s: path too long", ix->dir);
    int rc = idx_faiss_open_shared(&ix->faiss, path, ix->vec_dim, err);
    if (rc) return rc;
    free(ix->rr_vec); /* sized for the dimension, which a --reembed may have changed */
    ix->rr_vec = NULL;
    int64_t count = setting_i64(ix, "vec_count");
    if (idx_faiss_ntotal(ix->faiss) != count) {
        rc = out_of_step(ix, idx_faiss_ntotal(ix->faiss), count, err);
        idx_faiss_free(ix->faiss);
        ix->faiss = NULL;
        return rc;
    }
    apply_params(ix);
    ix->vec_rerank = setting_i64(ix, "faiss_rerank") > 0;
    return ERR_OK;
}

/* Re-score the candidates of a PQ index with the stored vectors: the n candidates (ids, sc) in
 * place get exact inner products and are sorted best first (insertion sort: n is small). */
static int rerank(struct idx *ix, const float *q, int64_t *ids, float *sc, int n, struct err *err)
{
    int dim = ix->vec_dim, rc;
    for (int i = 0; i < n; i++) {
        int found = 0;
        if ((rc = idx_vec_get(ix, ids[i], ix->rr_vec, &found, err))) return rc;
        float d = 0;
        for (int j = 0; found && j < dim; j++) d += q[j] * ix->rr_vec[j];
        sc[i] = found ? d : -1e30f;
    }
    for (int i = 1; i < n; i++) {
        int64_t id = ids[i];
        float s = sc[i];
        int j = i - 1;
        for (; j >= 0 && sc[j] < s; j--) ids[j + 1] = ids[j], sc[j + 1] = sc[j];
        ids[j + 1] = id, sc[j + 1] = s;
    }
    return ERR_OK;
}

const void *idx_vec_shared_copy(const struct idx *ix)
{
    return ix->faiss ? idx_faiss_shared_id(ix->faiss) : NULL;
}

int idx_vec_dim(const struct idx *ix) { return ix->vec_opened ? ix->vec_dim : 0; }

int idx_vec_embed(struct idx *ix, const char *text, float *q, int *zero, struct err *err)
{
    *zero = 1;
    int rc = idx_vec_open(ix, err);
    if (rc) return rc;
    const char *texts[1] = {text};
    if ((rc = emb_embed_query(ix->emb, texts, 1, q, err))) return rc;
    *zero = emb_is_zero(q, ix->vec_dim);
    return ERR_OK;
}

int idx_vec_search(struct idx *ix, const float *q, int k, int64_t *pids, float *scores, int *n,
                   struct err *err)
{
    *n = 0;
    int rc = idx_vec_open(ix, err);
    if (!rc) rc = load_faiss(ix, err);
    if (rc) return rc;
    int64_t total = idx_faiss_ntotal(ix->faiss);
    if (total == 0 || k <= 0) return ERR_OK;
    if (k > total) k = (int)total;
    idx_faiss_single_thread();
    if (!ix->vec_rerank) {
        if ((rc = idx_faiss_search(ix->faiss, 1, q, k, scores, pids, err))) return rc;
        while (*n < k && pids[*n] >= 0) (*n)++;
        return ERR_OK;
    }
    /* PQ: VEC_RERANK x k candidates by code, the best k of them by stored vector */
    int64_t want = (int64_t)k * VEC_RERANK < total ? (int64_t)k * VEC_RERANK : total;
    if ((size_t)want > ix->rr_cap || !ix->rr_vec) {
        int64_t *ni = realloc(ix->rr_ids, (size_t)want * sizeof *ni);
        if (ni) ix->rr_ids = ni;
        float *ns = realloc(ix->rr_sc, (size_t)want * sizeof *ns);
        if (ns) ix->rr_sc = ns;
        if (!ix->rr_vec) ix->rr_vec = malloc((size_t)ix->vec_dim * sizeof *ix->rr_vec);
        if (!ni || !ns || !ix->rr_vec) return err_set(err, ERR_NOMEM, "re-rank");
        ix->rr_cap = (size_t)want;
    }
    if ((rc = idx_faiss_search(ix->faiss, 1, q, want, ix->rr_sc, ix->rr_ids, err))) return rc;
    int got = 0;
    while (got < want && ix->rr_ids[got] >= 0) got++;
    if ((rc = rerank(ix, q, ix->rr_ids, ix->rr_sc, got, err))) return rc;
    for (; *n < k && *n < got; (*n)++) pids[*n] = ix->rr_ids[*n], scores[*n] = ix->rr_sc[*n];
    return ERR_OK;
}

int idx_vec_get(struct idx *ix, int64_t pid, float *v, int *found, struct err *err)
{
    *found = 0;
    int dim = ix->emb ? ix->emb->dim : ix->vec_dim;
    int rc = idx_prepare(ix, &ix->st_vec_get, "SELECT pid, vec FROM vectors WHERE pid=?", err);
    if (rc) return rc;
    sqlite3_bind_int64(ix->st_vec_get, 1, pid);
    int s = sqlite3_step(ix->st_vec_get);
    if (s == SQLITE_ROW) *found = read_vec_row(ix->st_vec_get, dim, v);
    else if (s != SQLITE_DONE) rc = idx_sql_err(ix, err, "read vector");
    sqlite3_reset(ix->st_vec_get);
    return rc;
}

int idx_vec_set_param(struct idx *ix, const char *name, double value, struct err *err)
{
    int rc = idx_vec_open(ix, err);
    if (rc) return rc;
    /* kept for the first search's load; applied now when vectors.faiss is already loaded */
    if (!strcmp(name, "nprobe")) ix->vec_nprobe = value;
    else if (!strcmp(name, "efSearch")) ix->vec_efsearch = value;
    if (ix->faiss) apply_params(ix);
    return ERR_OK;
}
