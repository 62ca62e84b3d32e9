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
};

/* Look `url` up in the cache. *found 1 with *out filled (strings valid until the next call), or 0. */
int idx_cache_get(struct idx *ix, const char *url, struct idx_fetch *out, int *found, struct err *err);
/* Insert or replace the cache entry of f->url (inside or outside a transaction). */
int idx_cache_put(struct idx *ix, const struct idx_fetch *f, struct err *err);

/* ---------------------------------------------------------------- stored audit results */

/* Batch audits (vericite audit --jobs) keep what each article gave here, so a batch that is
 * stopped (even killed) and started again skips the finished articles, and `vericite report`
 * reads the results. An article is keyed by its path (a file, or "DUMP.xml#Title") and a hash
 * of its content and the audit options; storing an article replaces any earlier results of the
 * same path. Tables: audit_runs, audit_articles, audit_results (see ARCHITECTURE.md). */

/* One stored citation. Strings are owned by whoever fills the struct: by the caller for
 * idx_audit_store; by the handle for the callbacks (valid during the call only). */
struct idx_audit_row {
    const char *path, *hash; /* the article (callbacks only; ignored by idx_audit_store) */
    int ord;                 /* position in the article, from 0 */
    int status;              /* enum ver_status */
    double score;            /* the citation's support score */
    double best;             /* the best suggestion's score, 0 when none */
    const char *url;         /* the cited URL ("" when none) */
    const char *domain;      /* its host without "www." ("" when none) */
    const char *json;        /* the whole result as the JSON of `vericite audit --json` */
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

enum idx_audit_view {
    IDX_AUDIT_QUEUE = 1, /* citations not supported: worst status first, then lowest score */
    IDX_AUDIT_DEAD,      /* dead links, by domain and URL */
    IDX_AUDIT_BETTER     /* the best suggestion scores more than 0.3 above the cited source;
                            largest gap first */
};
/* Call `cb` for up to `limit` (<= 0: all) stored results in the order of `view`; ties are broken
 * by path and position, so the order is stable. Errors: ERR_NOTFOUND (no audit tables: an index
 * opened read-only that never had a batch), ERR_SQLITE, ERR_ARG (unknown view). */
int idx_audit_view(struct idx *ix, enum idx_audit_view view, int limit, idx_audit_cb cb, void *ctx,
                   struct err *err);

/* Figures per cited domain: citations, failing ones (status below weak), dead ones. */
struct idx_audit_domain {
    const char *domain; /* owned by the handle, valid during the callback */
    int64_t citations, failing, dead;
};
typedef int (*idx_audit_domain_cb)(void *ctx, const struct idx_audit_domain *d);
/* Domains with the most failing citations first (then most citations, then name), up to `limit`
 * (<= 0: all). Errors as idx_audit_view. */
int idx_audit_domains(struct idx *ix, int limit, idx_audit_domain_cb cb, void *ctx, struct err *err);

/* Stored articles and citations (0 and 0 when there are no audit tables). */
int idx_audit_counts(struct idx *ix, int64_t *articles, int64_t *citations, struct err *err);

/* ---- embedders ---- */

/* Word vectors live in a compact binary file (".vcvec", format in index/idx_vecfile.c) that is
 * memory-mapped read-only; words are stored folded (idx_word_fold) in the source's order, which
 * for GloVe/word2vec/fastText files is frequency order, so a row number is a frequency rank. */

#define IDX_VEC_MAX_DIM 4096          /* largest vector size accepted */
#define IDX_VEC_MAX_WORD 256          /* longest word kept, in bytes (longer ones are skipped) */
#define IDX_VEC_MAX_WORDS 50000000ull /* most words in one vectors file */
#define IDX_VEC_DEFAULT_NAME "glove-100d.vcvec" /* in $VERICITE_MODEL_DIR or ~/.cache/vericite */

struct idx_vecfile;

/* Convert the word vectors in `src` to a vectors file at `dst`. The format is detected:
 * word2vec binary ("count dim" line, then word, space, dim little-endian float32), text with a
 * "count dim" header line (fastText .vec, word2vec text), GloVe text (no header; dim from the first
 * line), or wink JSON ({"dimensions":D,...,"vectors":{"word":[v1..vD, extra...],...}}; the extra
 * numbers after D are wink's bookkeeping and are dropped) or a plain JSON object {"word":[...]}.
 * Words are folded with idx_word_fold(); on a collision the first occurrence wins; words that are
 * empty, over IDX_VEC_MAX_WORD bytes or not valid UTF-8 are skipped. Vectors are stored as given.
 * The input is streamed (memory grows with the number of words, not the vectors). `dst` is written
 * atomically (a temporary file beside it, then rename); on failure it is left untouched.
 * Errors: ERR_NOTFOUND/ERR_IO (src or dst), ERR_PARSE (malformed input, message names the file
 * and line or byte offset), ERR_LIMIT (dim or word count over the caps), ERR_NOMEM. */
int idx_vecfile_import(const char *src, const char *dst, struct err *err);

/* Map the vectors file `path` read-only. The header and every section size are checked against
 * the file size; the content hash is not recomputed (see idx_vecfile_verify).
 * Errors: ERR_NOTFOUND, ERR_IO, ERR_CORRUPT (truncated or not a vectors file; names the file).
 * On success *out is a new handle the caller owns and closes with idx_vecfile_close(). */
int idx_vecfile_open(struct idx_vecfile **out, const char *path, struct err *err);
/* Unmap and free. NULL is allowed. Pointers from lookups die with the handle. */
void idx_vecfile_close(struct idx_vecfile *v);

/* The vector (dim floats, inside the mapping) of `word` (len bytes, already folded as stored, e.g.
 * by idx_word_fold), or NULL when the word is not in the file. */
const float *idx_vecfile_lookup(const struct idx_vecfile *v, const char *word, size_t len);
/* Row of `word` (0 = most frequent in a frequency-sorted source), or -1 when absent. */
int64_t idx_vecfile_find(const struct idx_vecfile *v, const char *word, size_t len);
/* The vector of row `row` (0 <= row < count; NULL when out of range). */
const float *idx_vecfile_row(const struct idx_vecfile *v, int64_t row);
/* The word of row `row` (not NUL-terminated; *len gets its length), NULL when out of range. */
const char *idx_vecfile_word(const struct idx_vecfile *v, int64_t row, size_t *len);
int idx_vecfile_dim(const struct idx_vecfile *v);
int64_t idx_vecfile_count(const struct idx_vecfile *v);
/* The content hash stored in the header as 16 lowercase hex digits (owned by the handle). */
const char *idx_vecfile_hash(const struct idx_vecfile *v);
/* Recompute the content hash over the whole file (reads every page). Errors: ERR_CORRUPT. */
int idx_vecfile_verify(const struct idx_vecfile *v, struct err *err);

/* The default vectors path: $VERICITE_MODEL_DIR/glove-100d.vcvec, else
 * $HOME/.cache/vericite/glove-100d.vcvec. Appends to `out`. Errors: ERR_NOTFOUND (neither
 * variable set), ERR_NOMEM. Does not check that the file exists. */
int idx_vecfile_default_path(struct buf *out, struct err *err);

/* Fold a word the way vectors files store it: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic
 * capitals to lower case, and the typographic apostrophe U+2019 to "'". Writes at most `len` bytes
 * to `out` (which may equal `s`) and returns the new length. Other bytes are copied unchanged. */
size_t idx_word_fold(const char *s, size_t len, char *out);

/* An embedder turns texts into vectors. Implementations (static word vectors here; an HTTP
 * service or an in-process model later) put `struct idx_embedder` first in their own struct and
 * fill in `ops` and `dim`; callers only use the idx_embed* functions below. A handle is not
 * thread-safe (scratch memory lives in it): one per thread. */
struct idx_embedder;
struct idx_embedder_ops {
    const char *name; /* "static", "http", ... */
    /* Embed `n` NUL-terminated texts into `out` (n, dim). Rows are L2-normalised, or all zero for
     * a text with nothing to embed (empty, or only unknown words). Error code on failure. */
    int (*embed)(struct idx_embedder *e, const char *const *texts, size_t n, float *out,
                 struct err *err);
    /* A stable string naming everything that changes the vectors (kind, dim, weights, model hash);
     * recorded in the index and compared on open (ERR_MISMATCH). Owned by the embedder. */
    const char *(*signature)(struct idx_embedder *e);
    void (*free)(struct idx_embedder *e);
};
struct idx_embedder {
    const struct idx_embedder_ops *ops;
    int dim;
};

/* Dispatchers over e->ops. All-zero output rows mean "no vector": callers leave such passages out
 * of the dense index (they can only match through BM25) and answer a zero query vector with no
 * dense hits (fall back to BM25) instead of searching with it. */
int idx_embed(struct idx_embedder *e, const char *const *texts, size_t n, float *out /* (n, dim) */,
              struct err *err);
int idx_embedder_dim(const struct idx_embedder *e);
const char *idx_embedder_name(const struct idx_embedder *e);
const char *idx_embedder_signature(struct idx_embedder *e);
/* Free any embedder. NULL is allowed. */
void idx_embedder_free(struct idx_embedder *e);

/* 1 when all `dim` values of `v` are zero (the "nothing to embed" row), else 0. */
int idx_vec_is_zero(const float *v, int dim);

/* First principal component (uncentred, as in SIF) of the rows of `x` (n, dim) by power iteration,
 * written to `pc` (dim) as a unit vector whose dot product with the mean row is >= 0.
 * Errors: ERR_ARG (n == 0 or all rows zero), ERR_NOMEM. */
int idx_vec_first_pc(const float *x, size_t n, int dim, float *pc, struct err *err);

/* Static word-vector embedder with SIF weighting (Arora et al. 2017):
 *   words: runs of letters/digits (any non-punctuation code point >= U+0080 counts as a letter)
 *          joined by inner ' - . ’ (and , between digits), folded with idx_word_fold; a joined
 *          word missing from the vectors is looked up part by part ("john's" -> john 's,
 *          "don't" -> do n't);
 *   weight a/(a + p(w)), a = 1e-3 by default; p(w) from corpus counts when given
 *          (idx_embed_static_set_freq / _set_counts), else a Zipf estimate from the word's row r
 *          (0-based) among N words: p = 1 / ((r + 1) ln(1.78 N)), valid for frequency-sorted files;
 *   v = (1/k) sum weight(w) vec(w) over the k known words; then v -= (v.u) u with the common
 *          component u when one is set (idx_embed_static_fit_pc / _set_pc); then v /= |v|.
 * Only unknown words (or none) -> zero row (see idx_embed). */
struct idx_static_opts {
    double a; /* SIF constant; 0 means 1e-3 */
};

/* A static embedder over the vectors file `path` (opened and owned by the embedder). `opts` may be
 * NULL; it is copied. Errors: those of idx_vecfile_open, ERR_ARG (a < 0), ERR_NOMEM.
 * On success *out is a new embedder freed with idx_embedder_free(). */
int idx_embed_static_new(struct idx_embedder **out, const char *path,
                         const struct idx_static_opts *opts, struct err *err);
/* The vectors file of a static embedder (owned by it), NULL for other embedders. */
const struct idx_vecfile *idx_embed_static_vectors(const struct idx_embedder *e);

/* Use corpus counts for p(w): counts[i] of words[i] (folded here; words that fold alike add up);
 * p(w) = count / total, where total is the number of corpus tokens (0: the sum of counts).
 * In-vocabulary words with no count get p = 0 (weight 1). n == 0 returns to the Zipf estimate.
 * Errors: ERR_ARG (not a static embedder), ERR_NOMEM. */
int idx_embed_static_set_freq(struct idx_embedder *e, const char *const *words,
                              const uint64_t *counts, size_t n, uint64_t total, struct err *err);
/* Tally the words of `text` as the embedder splits them: counts[row] += 1 for every known word and
 * *total += 1 for every word, known or not. `counts` has idx_vecfile_count() entries (zeroed by
 * the caller), e.g. to persist per-row counts for idx_embed_static_set_counts().
 * Errors: ERR_ARG (not a static embedder). */
int idx_embed_static_count(struct idx_embedder *e, const char *text, size_t len, uint64_t *counts,
                           uint64_t *total, struct err *err);
/* Use per-row counts (idx_vecfile_count() entries, copied) for p(w) = counts[row] / total;
 * counts == NULL returns to the Zipf estimate. Errors: ERR_ARG (total 0 with counts), ERR_NOMEM. */
int idx_embed_static_set_counts(struct idx_embedder *e, const uint64_t *counts, uint64_t total,
                                struct err *err);

/* Compute the common component from a sample of texts (e.g. up to 10,000 passages of the corpus):
 * their weighted averages before removal, then idx_vec_first_pc(). Texts with no known word are
 * left out. Replaces any component set before. Errors: ERR_ARG (no text with a known word). */
int idx_embed_static_fit_pc(struct idx_embedder *e, const char *const *texts, size_t n,
                            struct err *err);
/* Set the common component (dim floats, normalised here) to persist/restore it; NULL clears it.
 * Errors: ERR_ARG (not static, zero or non-finite vector). */
int idx_embed_static_set_pc(struct idx_embedder *e, const float *pc, struct err *err);
/* Copy the common component to `pc` (dim floats). Returns 1 when one is set, 0 when none (pc
 * untouched) or when `e` is not a static embedder. */
int idx_embed_static_get_pc(const struct idx_embedder *e, float *pc);

/* ---------------------------------------------------------------- dense vectors of an index */

/* Which embedder builds an index's vectors. Zero-initialise; NULL fields keep what the index
 * already records (a new index gets "static" with the default vectors file). */
struct idx_vec_opts {
    const char *embedder; /* "static", "http" or "none" */
    const char *vectors;  /* static: a vectors file (idx_vecfile_import); NULL: the default */
    const char *url;      /* http: the /v1/embeddings endpoint */
    const char *model;    /* http: the model name */
    const char *faiss;    /* FAISS factory string; NULL: exact below IDX_VEC_IVF_MIN vectors, IVF+SQ8 above */
    int reembed;          /* drop every vector and embed all passages again (switching embedder) */
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
 * weights and, the first time, fitting the common component on a sample). No-op for "none". */
int idx_vec_sync(struct idx *ix, idx_vec_progress_cb cb, void *ctx, struct err *err);

/* After a commit: bring vectors.faiss in step with the vectors table (incremental add/remove, or a
 * full rebuild when it is missing, out of step, or a new FAISS type is due). Written to a
 * temporary name and renamed. Errors: ERR_FAISS, ERR_IO, ERR_SQLITE. */
int idx_vec_publish(struct idx *ix, struct err *err);

/* For stats: vectors in the database and in vectors.faiss (-1 when missing or unreadable), the
 * FAISS description (owned by the handle). */
int idx_vec_status(struct idx *ix, int64_t *db_vectors, int64_t *faiss_vectors, const char **desc,
                   struct err *err);

/* Query side. Load the index's embedder (checking its signature) and vectors.faiss, once.
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
/* Search parameter for IVF/HNSW indexes ("nprobe", "efSearch"); ignored for exact indexes. */
int idx_vec_set_param(struct idx *ix, const char *name, double value, struct err *err);

/* ---- http embedder ---- */

/* An embedder that asks an OpenAI-compatible embeddings endpoint (OpenAI, Ollama's /v1, vLLM,
 * llama.cpp server, text-embeddings-inference, LiteLLM...) over HTTP, in index/idx_embed_http.c.
 * Requests are POST {"model": M, "input": [texts...], "encoding_format": "float"}; the answer is
 * {"data": [{"index": i, "embedding": [...]}, ...]} in any order. Rows are L2-normalised here.
 *   - A NULL text gets a zero row and is not sent. An empty text "" is sent as a single space,
 *     because many servers reject empty strings (OpenAI answers 400); its row is whatever the
 *     model makes of " ".
 *   - Texts must be valid UTF-8 (ERR_UTF8 names the first bad one; nothing is sent).
 *   - Batches hold at most `batch` texts and IDX_HTTP_MAX_REQUEST_TEXT bytes of text; a single
 *     longer text is ERR_LIMIT. Up to `parallel` batches are in flight at once (curl multi).
 *   - A batch is retried on timeouts, connection errors, HTTP 429 and 5xx, at most `retries`
 *     times, after 0.5 s, 1 s, 2 s, ... each plus a random up to half of it (the generator is
 *     seeded per handle), capped at IDX_HTTP_BACKOFF_MAX_MS; or after Retry-After seconds
 *     when the server sends them (capped at IDX_HTTP_RETRY_AFTER_MAX_S). Other 4xx, 3xx,
 *     malformed answers and dimension mismatches are never retried. While a batch waits for
 *     its retry no new batch starts (a rate-limited server sees the whole client slow down).
 *     One batch that finally fails fails the call.
 *   - Every transfer has a connect and a total timeout, so a call ends within about
 *     ceil(batches / parallel) * (retries + 1) * (timeout_ms + backoff) even if the server hangs.
 * Needs curl_global_init(CURL_GLOBAL_DEFAULT) to have run (main() does it). The usual proxy
 * variables apply, except for loopback hosts (localhost, 127.0.0.1, ::1), which are reached
 * directly. The API key is read from the environment once, at creation, and never appears in
 * the signature or in error messages. */

#define IDX_HAVE_HTTP_EMBEDDER 1 /* idx_vec.c builds "http" embedders when this is defined */
#define IDX_HTTP_DEFAULT_KEY_ENV "VERICITE_EMBED_KEY"
#define IDX_HTTP_DEFAULT_BATCH 64
#define IDX_HTTP_DEFAULT_PARALLEL 4
#define IDX_HTTP_DEFAULT_RETRIES 3
#define IDX_HTTP_DEFAULT_TIMEOUT_MS 60000L
#define IDX_HTTP_DEFAULT_CONNECT_MS 10000L
#define IDX_HTTP_MAX_URL 4096                     /* longest endpoint URL, in bytes */
#define IDX_HTTP_MAX_BATCH 4096                   /* largest `batch` accepted */
#define IDX_HTTP_MAX_PARALLEL 64                  /* largest `parallel` accepted */
#define IDX_HTTP_MAX_RETRIES 20                   /* largest `retries` accepted */
#define IDX_HTTP_MAX_DIM 65536                    /* largest vector size accepted */
#define IDX_HTTP_MAX_REQUEST_TEXT (8u << 20)      /* bytes of text in one request */
#define IDX_HTTP_MAX_RESPONSE ((size_t)256 << 20) /* bytes of one response body */
#define IDX_HTTP_BACKOFF_BASE_MS 500              /* first retry delay */
#define IDX_HTTP_BACKOFF_MAX_MS 30000             /* longest retry delay */
#define IDX_HTTP_RETRY_AFTER_MAX_S 60             /* longest Retry-After honoured */
#define IDX_HTTP_PROBE_TEXT "dim probe"           /* embedded at creation to learn dim */

/* Zero-initialise; every field but url has a usable zero. */
struct idx_http_opts {
    const char *url;         /* full URL of the endpoint, http or https, e.g.
                                http://127.0.0.1:11434/v1/embeddings; no user:password@ in it */
    const char *model;       /* model name; NULL or "" leaves "model" out of the requests */
    const char *api_key_env; /* name of the env var holding the key (NULL: "VERICITE_EMBED_KEY");
                                sent as "Authorization: Bearer <key>" when set and not empty */
    int batch;               /* texts per request (0: 64) */
    int parallel;            /* concurrent requests (0: 4) */
    int retries;             /* retries of a failed request (0: 3; -1: none) */
    long timeout_ms;         /* whole request, per attempt (0: 60000) */
    long connect_timeout_ms; /* connecting, per attempt (0: 10000) */
    int dim;                 /* vector size; 0: learned from a probe request at creation */
};

/* A new HTTP embedder for the endpoint in `opts` (copied; the strings too).
 * The dimension: when opts->dim is 0, the text IDX_HTTP_PROBE_TEXT is embedded right away and
 * the length of its vector becomes dim. Creation thus checks the URL, key and model before any
 * real work (and idx_embedder_dim() and the signature, which callers need before the first
 * embed to size buffers and compare with an index, are known at once). With opts->dim set no
 * request is made here; every answer is then checked against it (ERR_MISMATCH).
 * Signature: "http:" url ":" model ":dim=" dim, e.g.
 * "http:http://127.0.0.1:11434/v1/embeddings:nomic-embed-text:dim=768".
 * Errors: ERR_ARG (no URL, not http/https, malformed, credentials in it, an option out of
 * range, a key with control characters), ERR_NOMEM, and for the probe those of idx_embed()
 * (ERR_NET, ERR_PARSE, ERR_MISMATCH, ERR_LIMIT).
 * On success *out is a new embedder freed with idx_embedder_free(); on failure *out is NULL. */
int idx_embed_http_new(struct idx_embedder **out, const struct idx_http_opts *opts,
                       struct err *err);
/* The number of HTTP requests this embedder has sent (attempts, the probe and retries
 * included), 0 for other embedders. For logs and tests. */
uint64_t idx_embed_http_requests(const struct idx_embedder *e);

#endif
