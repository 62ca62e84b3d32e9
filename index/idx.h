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

#define IDX_SCHEMA_VERSION 1
#define IDX_DB_NAME "index.db"
#define IDX_DEFAULT_PASSAGE_WORDS 100

struct idx;

/* Zero-initialise; every field has a usable zero. */
struct idx_opts {
    int create;        /* create the folder and database when missing */
    int readonly;      /* open read-only (search, eval, stats) */
    int passage_words; /* for a new index: words per passage (0: IDX_DEFAULT_PASSAGE_WORDS) */
};

/* Open the index folder `dir`. `opts` may be NULL (open existing, read-write); it is copied.
 * Errors: ERR_NOTFOUND (no index there and !create), ERR_MISMATCH (schema version or tokenizer
 * differ), ERR_CORRUPT (not a vericite database), ERR_SQLITE, ERR_IO.
 * On success *out is a new handle the caller owns and closes with idx_close(). */
int idx_open(struct idx **out, const char *dir, const struct idx_opts *opts, struct err *err);

/* Close a handle from idx_open(); an open write transaction is rolled back. NULL is allowed. */
void idx_close(struct idx *ix);

/* ---------------------------------------------------------------- writing */

/* Start one write transaction; everything until idx_commit() lands together or not at all. */
int idx_begin(struct idx *ix, struct err *err);
/* Flush buffered postings and commit. On failure the transaction is rolled back. */
int idx_commit(struct idx *ix, struct err *err);
/* Drop everything since idx_begin(). Safe to call when no transaction is open. */
void idx_rollback(struct idx *ix);

enum idx_add_result { IDX_ADDED = 1, IDX_REPLACED, IDX_UNCHANGED };

/* Add one document inside a transaction: split into passages, store, tokenize, index.
 * A document with the same id and the same content hash is left alone (IDX_UNCHANGED); with a
 * different hash it is replaced (IDX_REPLACED). `doc` is read, not kept. *result may be NULL.
 * Errors: ERR_ARG (empty id), ERR_SQLITE, ERR_NOMEM. */
int idx_add(struct idx *ix, const struct corpus_doc *doc, int *result, struct err *err);

/* Remove the document with id `id` inside a transaction. *found (may be NULL) says whether it existed. */
int idx_remove(struct idx *ix, const char *id, int *found, struct err *err);

/* ---------------------------------------------------------------- reading */

struct idx_stats {
    int64_t docs, passages, terms, postings_bytes;
    int64_t total_tokens; /* sum of passage lengths in tokens */
    int64_t db_bytes;     /* size of index.db (+ -wal) on disk */
    int64_t fetch_cache;  /* cached fetched sources */
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
};

/* Look `url` up in the cache. *found 1 with *out filled (strings valid until the next call), or 0. */
int idx_cache_get(struct idx *ix, const char *url, struct idx_fetch *out, int *found, struct err *err);
/* Insert or replace the cache entry of f->url (inside or outside a transaction). */
int idx_cache_put(struct idx *ix, const struct idx_fetch *f, struct err *err);

#endif
