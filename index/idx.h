/* idx.h - the on-disk index: a folder holding index.db (SQLite, WAL: documents, passages, FTS5,
 * term postings, settings, fetch cache) and, for dense retrieval, vectors.faiss beside it.
 * The only module that reaches SQLite and (through idx_faiss.c) FAISS. */
#ifndef VC_IDX_H
#define VC_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "corpus/corpus.h"
#include "err.h"
#include "index/embed/emb.h"

#define IDX_SCHEMA_VERSION 1
#define IDX_POSTINGS_FORMAT 2 /* 2: per-block score bounds beside the postings (ARCHITECTURE.md) */
#define IDX_DB_NAME "index.db"
#define IDX_DEFAULT_PASSAGE_WORDS 100

struct idx;

/* Called once when the writer lock (idx_opts.writer, idx_lock_writer) has to wait: `pid` holds
 * the lock (0 when unknown), the lock file is `lockfile` (valid during the call). */
typedef void (*idx_lock_wait_cb)(void *ctx, long pid, const char *lockfile);

/* Zero-initialise; every field has a usable zero. */
struct idx_opts {
    int create;        /* create the folder and database when missing */
    int readonly;      /* open read-only (search, eval, stats) */
    int passage_words; /* for a new index: words per passage (0: IDX_DEFAULT_PASSAGE_WORDS) */
    /* Take the writer lock (idx_lock_writer) before the database is opened or created, so two
     * writers never race to create it either; no_wait, on_wait and wait_ctx as there. */
    int writer, no_wait;
    idx_lock_wait_cb on_wait;
    void *wait_ctx; /* passed to on_wait; borrowed */
};

/* Open the index folder `dir`. `opts` may be NULL (open existing, read-write); it is copied.
 * Errors: ERR_NOTFOUND (no index there and !create), ERR_MISMATCH (schema version or tokenizer
 * differ), ERR_CORRUPT (not a vericite database), ERR_SQLITE, ERR_IO, ERR_BUSY (opts->writer
 * with no_wait while another process writes).
 * On success *out is a new handle the caller owns and closes with idx_close(). */
int idx_open(struct idx **out, const char *dir, const struct idx_opts *opts, struct err *err);

/* Close a handle from idx_open(); an open write transaction is rolled back. NULL is allowed. */
void idx_close(struct idx *ix);

/* ---------------------------------------------------------------- writing */

#define IDX_LOCK_NAME "index.lock" /* the writer lock file beside index.db (idx_lock.c) */

/* Take the index's writer lock (flock on DIR/index.lock), held until idx_unlock_writer() or
 * idx_close(); the kernel drops it when the process ends, however it ends. A whole write run (its
 * transactions, vectors.faiss, the backend sync) holds it, so two writers never interleave. When
 * another process holds it: with `wait`, call cb (may be NULL) and block until it is free;
 * without, fail with ERR_BUSY naming the holder's PID and the lock file. Taking it again on the
 * same handle is a no-op. Errors: ERR_BUSY, ERR_IO, ERR_ARG (read-only handle). */
int idx_lock_writer(struct idx *ix, int wait, idx_lock_wait_cb cb, void *ctx, struct err *err);
/* Release the writer lock (nothing when not held). NULL is allowed. */
void idx_unlock_writer(struct idx *ix);

/* Inputs of this many bytes and more are indexed in batches by default (cmd_index). */
#define IDX_AUTO_COMMIT_INPUT (128ull << 20)
#define IDX_AUTO_COMMIT_TEXT (32ull << 20)
/* How many bytes of document text one transaction should take for an input of `input_bytes`
 * when the caller did not choose: 0 (one transaction for the run) below IDX_AUTO_COMMIT_INPUT,
 * else IDX_AUTO_COMMIT_TEXT. Each commit lets SQLite checkpoint the WAL, whose file is kept
 * under IDX_WAL_LIMIT, so the disk peaks at about the final index size plus one batch. */
uint64_t idx_auto_commit_text(uint64_t input_bytes);
#define IDX_WAL_LIMIT (64 << 20) /* PRAGMA journal_size_limit of a read-write handle */

/* Start one write transaction; everything until idx_commit() lands together or not at all. The
 * corpus totals (passages, tokens) are read again inside it, so a commit never writes totals
 * that another writer changed since this handle was opened. */
int idx_begin(struct idx *ix, struct err *err);
/* Flush buffered postings and commit, then checkpoint the WAL into index.db (passive: it never
 * waits for readers). On failure the transaction is rolled back. */
int idx_commit(struct idx *ix, struct err *err);
/* Drop everything since idx_begin(). Safe to call when no transaction is open. */
void idx_rollback(struct idx *ix);

enum idx_add_result { IDX_ADDED = 1, IDX_REPLACED, IDX_UNCHANGED };

/* Add one document inside a transaction: split into passages, store, tokenize, index.
 * A document with the same id and the same content hash is left alone (IDX_UNCHANGED); with a
 * different hash it is replaced (IDX_REPLACED). `doc` is read, not kept. *result may be NULL.
 * Errors: ERR_ARG (empty id), ERR_SQLITE, ERR_NOMEM. */
int idx_add(struct idx *ix, const struct corpus_doc *doc, int *result, struct err *err);

/* Remove the document with id `id` inside a transaction. *found (may be NULL) says whether it
 * existed. Costs the size of the document: its rows go, its passages become tombstones whose
 * postings stay (skipped by readers, not counted in df) until idx_optimize merges them. */
int idx_remove(struct idx *ix, const char *id, int *found, struct err *err);

#define IDX_TOMB_MERGE_SHARE 0.2 /* `vericite index` merges tombstones past this share of passages */

/* Inside a transaction: when the tombstoned passages are at least `min_share` of all passages
 * (live + tombstoned; 0: whenever there are any), rewrite the postings of their terms without
 * them and clear the tombstones. *merged (may be NULL) gets the number merged (0 when not due).
 * Costs the postings of those terms. Errors: ERR_SQLITE, ERR_NOMEM, ERR_CORRUPT. */
int idx_optimize(struct idx *ix, double min_share, int64_t *merged, struct err *err);

/* 0 when passage `pid` is tombstoned (removed, postings not merged yet), else 1. The one filter
 * every reader of postings applies (idx_post_next does). */
int idx_pid_live(const struct idx *ix, int64_t pid);

/* Tombstoned passages not merged yet (read again when another process committed). */
int64_t idx_tomb_count(struct idx *ix);

/* ---------------------------------------------------------------- reading */

struct idx_stats {
    int64_t docs, passages, terms, postings_bytes;
    int64_t total_tokens; /* sum of passage lengths in tokens */
    int64_t db_bytes;     /* size of index.db (+ -wal) on disk */
    int64_t fetch_cache;  /* cached fetched sources */
    int64_t tombstones;   /* removed passages whose postings are not merged yet (idx_optimize) */
    int schema_version;
    int passage_words;
    char tokenizer[64];
    char embedder[256]; /* "" when none */
};

/* Fill *st. Errors: ERR_SQLITE. */
int idx_stats(struct idx *ix, struct idx_stats *st, struct err *err);

/* Corpus-wide figures for BM25: number of live passages and the sum of their token lengths. */
int idx_corpus_totals(struct idx *ix, int64_t *passages, int64_t *total_tokens, struct err *err);

/* Largest passage id ever assigned (ids are never reused), for sizing score accumulators. */
int64_t idx_max_pid(struct idx *ix);

/* The postings of one term (as produced by the tokenizer). Each posting is a passage id with the
 * term's frequency in the body and in the title, and the passage length in tokens.
 * Iterate with idx_post_next(); the iterator is owned by the index handle and is valid until the
 * next idx_post_open() on the same handle. *df gets the term's document frequency (passages). */
struct idx_post {
    int64_t pid;
    uint32_t tf_body, tf_title, len;
};
int idx_post_open(struct idx *ix, const char *term, size_t term_len, int64_t *df, struct err *err);
/* 1 with *p filled, 0 at the end, or a negative value on corrupt data (err set). */
int idx_post_next(struct idx *ix, struct idx_post *p, struct err *err);

/* A term's postings whole in memory, cut into blocks of IDX_POST_BLOCK postings (the last block
 * of each stored segment may be shorter), each with bounds over its postings, for query
 * evaluation that skips blocks (retrieve/ret.c's pruned BM25). Zero-initialise; reload with
 * idx_plist_load() as often as wanted (memory is reused) and release with idx_plist_cleanup(). */
#define IDX_POST_BLOCK 128
struct idx_pblock {
    int64_t base;       /* the pid the block's first delta is added to */
    int64_t last;       /* the block's largest pid */
    size_t start, end;  /* its bytes in the list's data */
    uint32_t n;         /* postings in it, 1 .. IDX_POST_BLOCK */
    uint32_t max_body, max_title, max_sum; /* maxima of tf_body, tf_title, tf_body + tf_title */
    uint32_t min_len;   /* minimum passage length */
};
struct idx_plist {
    struct buf data;           /* the segments' bytes, owned */
    struct idx_pblock *blocks; /* (nblocks) in pid order, owned */
    size_t nblocks, cap;
    int64_t df;                /* passages holding the term */
};
/* Load the postings of `term` into *pl (df 0 and no blocks for an unknown term). Block bounds come
 * from the stored postings format 2 (see ARCHITECTURE.md); a segment without valid stored bounds
 * gets them computed here. Errors: ERR_SQLITE, ERR_CORRUPT, ERR_NOMEM. */
int idx_plist_load(struct idx *ix, const char *term, size_t term_len, struct idx_plist *pl,
                   struct err *err);
/* Decode block `b` of *pl into out[0 .. pl->blocks[b].n). Errors: ERR_CORRUPT. */
int idx_plist_block(const struct idx_plist *pl, size_t b, struct idx_post *out, struct err *err);
/* Release what *pl holds; it is zeroed and may be loaded again. NULL is allowed. */
void idx_plist_cleanup(struct idx_plist *pl);
/* 1 when this index stores block bounds (postings format 2), so pruned ranking pays off; 0 for an
 * older index opened read-only (a read-write open upgrades it). */
int idx_post_bounds(struct idx *ix);

/* A stored passage with its document. Strings are owned by the handle and valid until the next
 * idx_passage() call on the same handle. */
struct idx_passage {
    int64_t pid;
    int64_t doc_row;     /* internal row id of the document */
    const char *doc_id;  /* the stable id from the input */
    const char *title;
    const char *url;
    const char *text;
    int ord;             /* position of the passage in its document, from 0 */
};
/* Errors: ERR_NOTFOUND (no such passage), ERR_SQLITE. */
int idx_passage(struct idx *ix, int64_t pid, struct idx_passage *out, struct err *err);

/* Only the document row of a passage (fast; for grouping hits by document). -1 when missing. */
int64_t idx_passage_doc(struct idx *ix, int64_t pid);

/* FTS5's own bm25() over the same passages, for comparison (`--mode fts5`): the query's tokens
 * OR-ed. Writes up to k passage ids and scores (higher is better) to pids/scores; *n gets the count. */
int idx_fts_search(struct idx *ix, const char *query, int k, int64_t *pids, double *scores, int *n,
                   struct err *err);

/* Folder and database paths of this index (owned by the handle). */
const char *idx_dir(const struct idx *ix);

/* Settings table access (key/value text), e.g. "embedder". *out is malloc'ed (caller frees) or
 * NULL when the key is absent. */
int idx_setting_get(struct idx *ix, const char *key, char **out, struct err *err);
int idx_setting_set(struct idx *ix, const char *key, const char *value, struct err *err);

/* ---------------------------------------------------------------- documents by URL, fetch cache */

/* A stored document. Strings are owned by the handle, valid until the next idx_find_url() or
 * idx_doc() call on it. */
struct idx_doc {
    int64_t row;
    const char *id, *title, *url;
    int passages;
};

/* Find the document whose normalised URL (corpus_url_normalize) equals that of `url`.
 * *found is 1 with *out filled, or 0. Errors: ERR_SQLITE. */
int idx_find_url(struct idx *ix, const char *url, struct idx_doc *out, int *found, struct err *err);

/* Find a document whose title equals `title` (case-insensitive, surrounding spaces ignored):
 * how a citation without a URL ({{cite book |title=...}}) can still find its source in the
 * corpus. *found is 1 with *out filled (the first such document), or 0. Errors: ERR_SQLITE. */
int idx_find_title(struct idx *ix, const char *title, struct idx_doc *out, int *found, struct err *err);

/* The document with internal row `row` (ERR_NOTFOUND when missing). */
int idx_doc(struct idx *ix, int64_t row, struct idx_doc *out, struct err *err);

/* Append the document's whole text (its passages joined by spaces, in order) to `text`. */
int idx_doc_text(struct idx *ix, int64_t row, struct buf *text, struct err *err);

/* A cached fetch of a URL (what the audit fetched, so re-runs and --offline reuse it). */
struct idx_fetch {
    const char *url, *final_url;
    long status;         /* HTTP status, 0 when none */
    const char *outcome; /* the fetcher's outcome name: "ok", "http-error", "timeout", ... */
    const char *content_type;
    const char *fetched_at; /* ISO 8601 UTC; ignored by idx_cache_put (now is used) */
    const char *title, *text; /* the readable text extracted from the body */
    /* What the address guard decided: the non-public "IP:port" addresses the answer came from
     * (allowed then by --allow-private or --allow-host), joined by ","; "" when all were public
     * (NULL is stored as ""); "*" for rows cached before this was recorded (unknown). Callers
     * must not use an entry their own guard would have refused (ver_fetch_permits). */
    const char *private_addrs;
};

/* Look `url` up in the cache. *found 1 with *out filled (strings valid until the next call), or 0.
 * The entry comes whatever its private_addrs; checking them against the caller's guard is the
 * caller's part (the index does not know who asks). */
int idx_cache_get(struct idx *ix, const char *url, struct idx_fetch *out, int *found, struct err *err);
/* Insert or replace the cache entry of f->url (inside or outside a transaction). */
int idx_cache_put(struct idx *ix, const struct idx_fetch *f, struct err *err);

/* ---------------------------------------------------------------- small lookups (idx_lookup.c) */

/* The document indexed with id `id`. *found is 1 with *out filled (strings valid until the next
 * idx_find_url/idx_find_id/idx_doc call on the handle), or 0. Errors: ERR_SQLITE, ERR_NOMEM. */
int idx_find_id(struct idx *ix, const char *id, struct idx_doc *out, int *found, struct err *err);
/* The number of passages holding `term` (a tokenizer term, len bytes) as the postings count them;
 * 0 for an unknown term. Errors: ERR_SQLITE. */
int idx_term_df(struct idx *ix, const char *term, size_t len, int64_t *df, struct err *err);

/* Web-search answers (table search_cache(url, fetched_at, answer), made by the first put): the
 * answer body of a search request, keyed by the request's whole URL (engine and query in it).
 * get: *found 1 with the answer appended to `answer`, or 0 (also when the table does not exist).
 * put: insert or replace (inside or outside a transaction). Errors: ERR_SQLITE, ERR_NOMEM,
 * ERR_ARG (put on a read-only handle). */
int idx_search_cache_get(struct idx *ix, const char *url, struct buf *answer, int *found, struct err *err);
int idx_search_cache_put(struct idx *ix, const char *url, const char *answer, struct err *err);

/* ---------------------------------------------------------------- stored audit results */

/* Generic storage for batch audits (idx_audit.c); verify/ver_store.c owns what goes in it. An
 * article is keyed by its path and a hash (both the caller's), with one row per citation: the
 * caller's record text, its verdict's name, score, best suggestion score, URL and domain. This
 * module never interprets verdicts: listings select and order by verdict names the caller gives.
 * Tables: audit_runs, audit_articles, audit_results (see ARCHITECTURE.md); created on every
 * read-write open when missing, and columns added since are added then too. */

/* One stored citation. Strings are owned by whoever fills the struct: by the caller for
 * idx_audit_store; by the handle for the callbacks (valid during the call only). */
struct idx_audit_row {
    const char *path, *hash; /* the article (callbacks only; ignored by idx_audit_store) */
    int ord;                 /* position in the article, from 0 */
    int status;              /* the writer's number for the verdict: stored, never used here */
    const char *verdict;     /* the verdict's name: what listings select on */
    double score;            /* the citation's support score */
    double best;             /* the best suggestion's score, 0 when none */
    const char *url;         /* the cited URL ("" when none) */
    const char *domain;      /* its host without "www." ("" when none) */
    const char *json;        /* the caller's record, stored and given back byte for byte */
};
/* Return nonzero to stop (the query then returns that value). */
typedef int (*idx_audit_cb)(void *ctx, const struct idx_audit_row *row);

/* Record the start of a batch with its options text; *run gets its id. Errors: ERR_SQLITE,
 * ERR_ARG (read-only handle). */
int idx_audit_begin_run(struct idx *ix, const char *options, int64_t *run, struct err *err);

/* *done is 1 when the article (path, hash) has been stored, else 0. Errors: ERR_SQLITE. */
int idx_audit_done(struct idx *ix, const char *path, const char *hash, int *done, struct err *err);

/* Store the `n` results of one article in one transaction (all or nothing), replacing earlier
 * results of the same path. Must not be called inside idx_begin(). Errors: ERR_SQLITE (the
 * transaction is rolled back), ERR_ARG (read-only handle). */
int idx_audit_store(struct idx *ix, const char *path, const char *hash, const char *title,
                    int64_t run, const struct idx_audit_row *rows, int n, struct err *err);

/* Call `cb` for each stored result of the article (path, hash) in article order. */
int idx_audit_results(struct idx *ix, const char *path, const char *hash, idx_audit_cb cb, void *ctx,
                      struct err *err);

#define IDX_AUDIT_MAX_VERDICTS 32 /* names in one verdict list (ERR_ARG beyond) */

enum idx_audit_order {
    IDX_AUDIT_BY_VERDICT = 1, /* the row's verdict's position in q->verdicts, then lowest score */
    IDX_AUDIT_BY_DOMAIN,      /* domain, then URL */
    IDX_AUDIT_BY_GAP          /* best - score, largest first */
};
/* A listing of stored citations. Zero-initialise. */
struct idx_audit_query {
    const char *const *verdicts; /* NULL-terminated names: only rows with one of these; NULL: any */
    int gap;                     /* nonzero: only rows whose best > score + min_gap */
    double min_gap;
    enum idx_audit_order order;
    int limit;                   /* at most this many rows; <= 0: all */
};
/* Call `cb` for the rows of listing `q`; ties are broken by path and position, so the order is
 * stable. Errors: ERR_NOTFOUND (no audit tables: an index opened read-only that never had a
 * batch), ERR_SQLITE, ERR_ARG (unknown order, too many verdicts). */
int idx_audit_list(struct idx *ix, const struct idx_audit_query *q, idx_audit_cb cb, void *ctx,
                   struct err *err);

/* Figures per cited domain, in the caller's two verdict classes. */
struct idx_audit_domain {
    const char *domain; /* owned by the handle, valid during the callback */
    int64_t citations;
    int64_t failing;    /* rows whose verdict is in the `failing` list */
    int64_t dead;       /* rows whose verdict is in the `dead` list */
};
typedef int (*idx_audit_domain_cb)(void *ctx, const struct idx_audit_domain *d);
/* Domains with the most failing citations first (then most citations, then name), up to `limit`
 * (<= 0: all); `failing` and `dead` are NULL-terminated verdict names. Errors as idx_audit_list. */
int idx_audit_domains(struct idx *ix, const char *const *failing, const char *const *dead, int limit,
                      idx_audit_domain_cb cb, void *ctx, struct err *err);

/* Stored articles and citations (0 and 0 when there are no audit tables). */
int idx_audit_counts(struct idx *ix, int64_t *articles, int64_t *citations, struct err *err);

/* ---------------------------------------------------------------- dense vectors of an index */

/* Which embedder builds an index's vectors. Zero-initialise; NULL fields keep what the index
 * already records (a new index gets "static" with the default vectors file). */
struct idx_vec_opts {
    const char *embedder; /* "static", "http", "model" or "none" */
    const char *vectors;  /* static: a vectors file (emb_vecfile_import); NULL: the default */
    const char *url;      /* http: the /v1/embeddings endpoint */
    const char *model;    /* http: the model name; model: an imported model's name or a .vcnn
                             path (recorded as an absolute path) */
    const char *faiss;    /* FAISS factory string; NULL: exact below IDX_VEC_IVF_MIN vectors, IVF+SQ8 above */
    const char *vector_index; /* "auto", "flat", "ivf" (IVF+SQ8), "ivfpq" (IVF + PQ of dim/4
                               * bytes), "opq-ivfpq" (OPQ rotation first); replaces a recorded
                               * --faiss; NULL: what the index records */
    double recall;        /* > 0: IVF nprobe is the smallest reaching this recall@10 against
                           * exact search, measured at build time; < 0: back to the fixed 64 */
    int reembed;          /* drop every vector and embed all passages again (switching embedder) */
    /* model: the prefixes (emb_model_opts; NULL: what the index records, else the model's
     * defaults) and the threads that embed passages (0: 1; not recorded) */
    const char *query_prefix, *passage_prefix;
    int threads;
    int full_scan;        /* the next idx_vec_sync looks for passages without a vector among all
                           * of them, not only after the last one that has one (--sync-vectors) */
};

#define IDX_VEC_FILE "vectors.faiss"
#define IDX_VEC_IVF_MIN 100000 /* from this many vectors on, the automatic choice is IVF (make bench) */

/* Inside a write transaction: record (new index) or check the embedder. A different embedder
 * than the index's is ERR_MISMATCH unless o->reembed. Errors: ERR_NOTFOUND (vectors file missing:
 * the message says how to get it), ERR_ARG, ERR_MISMATCH, and the embedder's own. */
int idx_vec_configure(struct idx *ix, const struct idx_vec_opts *o, struct err *err);

/* Progress of idx_vec_sync(): `done` of `total` passages embedded. */
typedef void (*idx_vec_progress_cb)(void *ctx, long done, long total);

/* Inside a write transaction, after documents were added: embed every passage that has no vector
 * yet (title + text) and store the vectors (static: after updating the corpus word counts for SIF
 * weights and, the first time, fitting the common component on a sample). No-op for "none".
 * Only passages after the last one with a vector are looked at (passage ids only grow), so a run
 * costs the size of what it adds; idx_vec_opts.full_scan looks at all of them once. */
int idx_vec_sync(struct idx *ix, idx_vec_progress_cb cb, void *ctx, struct err *err);

/* After a commit: bring vectors.faiss in step with the vectors table (incremental add/remove, or a
 * full rebuild when it is missing, out of step, or a new FAISS type is due). Written to a
 * temporary name and renamed. Errors: ERR_FAISS, ERR_IO, ERR_SQLITE. */
int idx_vec_publish(struct idx *ix, struct err *err);

/* For stats: vectors in the database and in vectors.faiss (-1 when missing or unreadable), the
 * FAISS description (owned by the handle). */
int idx_vec_status(struct idx *ix, int64_t *db_vectors, int64_t *faiss_vectors, const char **desc,
                   struct err *err);

/* Query side. Load the index's embedder (checking its signature) and check vectors.faiss's
 * header (dimension, count), once. vectors.faiss itself is loaded by the first idx_vec_search(),
 * through a per-process registry: every handle on the same file shares one read-only copy (IVF
 * lists memory-mapped; idx_faiss_open_shared in index/idx_faiss.h).
 * Errors: ERR_ARG (the index has no vectors: built with --embedder none), ERR_MISMATCH (another
 * embedder, or vectors.faiss out of step: the message says how to repair), ERR_NOTFOUND. */
int idx_vec_open(struct idx *ix, struct err *err);
/* Dimension of the index's vectors (after idx_vec_open), 0 when none. */
int idx_vec_dim(const struct idx *ix);
/* Embed a query into q (dim). *zero is 1 when nothing in it could be embedded (q all zero). */
int idx_vec_embed(struct idx *ix, const char *text, float *q, int *zero, struct err *err);
/* Nearest passages of q by inner product: up to k ids and scores, best first; *n the count. */
int idx_vec_search(struct idx *ix, const float *q, int k, int64_t *pids, float *scores, int *n,
                   struct err *err);
/* The stored vector of passage pid into v (dim); *found 0 when it has none. */
int idx_vec_get(struct idx *ix, int64_t pid, float *v, int *found, struct err *err);
/* The identity of the process-wide copy of vectors.faiss this handle searches (equal for handles
 * sharing one), NULL before its first search loaded it. Only for comparing (tests, diagnostics). */
const void *idx_vec_shared_copy(const struct idx *ix);
/* Search parameter for IVF/HNSW indexes ("nprobe", "efSearch"); ignored for exact indexes.
 * nprobe is this handle's own (default: the one chosen at build time, else 64); efSearch applies
 * to the process's shared copy of vectors.faiss. */
int idx_vec_set_param(struct idx *ix, const char *name, double value, struct err *err);

#endif
