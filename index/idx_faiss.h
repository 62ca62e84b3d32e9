/* idx_faiss.h - the dense vector index (internal to the index module): a FAISS index whose ids are
 * passage ids, inner-product metric, stored in one file written atomically.
 * idx_faiss.c is the only file that includes the FAISS C API headers.
 * Threads: concurrent idx_faiss_search() calls on one handle are safe (FAISS CPU search only
 * reads); every other call on a handle needs the caller's exclusive lock. Handles from
 * idx_faiss_open_shared() may live in different threads: the registry behind them has its own lock.
 *
 * Sharing: idx_faiss_open_shared() keeps one loaded copy of each file per process (a registry
 * keyed by device, inode, modification time and size, each entry reference-counted), with IVF
 * inverted lists memory-mapped from the file rather than read. A file replaced on disk (written by
 * idx_faiss_write: a rename, so a new inode) is a new entry: handles opened after the rename get
 * the new file, handles opened before keep the old one until they are freed. */
#ifndef VC_IDX_FAISS_H
#define VC_IDX_FAISS_H

#include <stdint.h>

#include "err.h"

#define IDX_FAISS_FILE_NAME "vectors.faiss"
#define IDX_FAISS_MAX_DIM 65536      /* refuse larger dimensions (ERR_ARG / ERR_CORRUPT) */
#define IDX_FAISS_MAX_FACTORY 256    /* longest factory string accepted */
#define IDX_FAISS_MAX_K 100000       /* largest k for one search */

struct idx_faiss;

/* Build an empty index of dimension `dim` (1..IDX_FAISS_MAX_DIM) from a FAISS factory string such
 * as "Flat", "IDMap2,Flat", "IVF1024,SQ8" or "HNSW32". The metric is inner product: normalise
 * vectors first to get cosine similarity. Ids are always the caller's (passage ids): factories
 * without an id map or an IVF layer (which stores ids itself) get an "IDMap2," prefix.
 * Errors: ERR_ARG (dim or factory out of range), ERR_FAISS (FAISS refused the factory), ERR_NOMEM.
 * On success *out is a new handle the caller frees with idx_faiss_free(); on failure *out is NULL. */
int idx_faiss_new(struct idx_faiss **out, int dim, const char *factory, struct err *err);

/* Free a handle from idx_faiss_new() or idx_faiss_read(). NULL is allowed. */
void idx_faiss_free(struct idx_faiss *f);

/* 1 when the index can take vectors (flat indexes always; IVF/PQ after idx_faiss_train()). */
int idx_faiss_is_trained(const struct idx_faiss *f);

/* ---- the training rule (idx_faiss_plan). An IVF index of nlist lists trains on
 * min(n, 256 * nlist) vectors of the n it will hold: at most IDX_FAISS_TRAIN_MAX_PER_LIST per list
 * (k-means gains nothing from more; FAISS itself subsamples to 256), at least 65,536 when the
 * factory has a product quantizer (PQ/OPQ: its 256-centroid codebooks want as many), and never
 * more than IDX_FAISS_TRAIN_MAX_BYTES of floats. When that leaves fewer than
 * IDX_FAISS_TRAIN_MIN_PER_LIST (39, FAISS's minimum) points per list, nlist is cut to
 * points / 39 (at least 1): a small corpus gets fewer lists, never an under-trained quantizer.
 * Other factories that need training (SQ8, PQ without IVF) train on min(n, 100,000). The sample
 * is uniform over the n vectors (selection sampling, idx_faiss_sampler, seeded: the same corpus
 * gives the same index). */
#define IDX_FAISS_TRAIN_MIN_PER_LIST 39
#define IDX_FAISS_TRAIN_MAX_PER_LIST 256
#define IDX_FAISS_TRAIN_PQ_MIN 65536
#define IDX_FAISS_TRAIN_OTHER 100000
#define IDX_FAISS_TRAIN_MAX_BYTES ((int64_t)2 << 30)

struct idx_faiss_plan {
    char factory[IDX_FAISS_MAX_FACTORY + 1]; /* the factory with nlist adjusted */
    int64_t nlist;                           /* lists of the IVF layer; 0 when none */
    int64_t requested;                       /* lists the factory asked for; 0 when none */
    int64_t train_n;                         /* vectors to train on (0: no training needed) */
};

/* Apply the training rule to `factory` for an index of `n` vectors of dimension `dim`.
 * Errors: ERR_ARG (factory empty or too long, dim or n out of range). */
int idx_faiss_plan(const char *factory, int dim, int64_t n, struct idx_faiss_plan *out,
                   struct err *err);

/* Uniform selection sampling (Knuth's algorithm S): take exactly `want` of `total` items seen
 * in order, each subset equally likely, in one pass. Zero-initialise, then idx_faiss_sampler_init. */
struct idx_faiss_sampler {
    uint64_t rng; /* xorshift64* state */
    int64_t want, left;
};
void idx_faiss_sampler_init(struct idx_faiss_sampler *s, int64_t want, int64_t total,
                            uint64_t seed);
/* 1 when the next item is taken, 0 when skipped (always 0 once `want` were taken). */
int idx_faiss_sampler_take(struct idx_faiss_sampler *s);

/* Train on `n` sample vectors (n, dim); a no-op for indexes that need no training. IVF needs
 * n >= nlist (FAISS advises 39 * nlist and prints a warning on stderr with fewer: idx_faiss_plan
 * sizes the sample so it never does).
 * Errors: ERR_ARG (n < 0), ERR_FAISS (e.g. too few points). */
int idx_faiss_train(struct idx_faiss *f, int64_t n, const float *vecs, struct err *err);

/* Add `n` vectors (n, dim) with ids (n) (passage ids, >= 0). Ids are not checked for duplicates:
 * remove an id before adding it again. `vecs` and `ids` are read, not kept.
 * Errors: ERR_ARG (n < 0, negative id), ERR_FAISS (untrained index, ...). */
int idx_faiss_add(struct idx_faiss *f, int64_t n, const float *vecs, const int64_t *ids,
                  struct err *err);

/* The k best ids for each of `nq` queries q (nq, dim), best first: scores (nq, k) are inner
 * products, ids (nq, k) the passage ids; rows with fewer than k hits are padded with id -1 (the
 * score of a pad is unspecified). Errors: ERR_ARG (nq < 0, k outside 1..IDX_FAISS_MAX_K), ERR_FAISS. */
int idx_faiss_search(struct idx_faiss *f, int64_t nq, const float *q, int64_t k, float *scores,
                     int64_t *ids, struct err *err);

/* Remove every vector whose id is in ids (n); unknown ids are ignored. *removed (may be NULL) gets
 * how many vectors went. Errors: ERR_ARG (n < 0), ERR_FAISS (index type cannot remove, e.g. HNSW). */
int idx_faiss_remove(struct idx_faiss *f, int64_t n, const int64_t *ids, int64_t *removed,
                     struct err *err);

/* Set a search-time parameter: "nprobe" (IVF) or "efSearch" (HNSW), also through IDMap wrappers.
 * Not stored in the file: set it again after idx_faiss_read().
 * Errors: ERR_ARG (empty name), ERR_FAISS (the index has no such parameter, e.g. nprobe on Flat). */
int idx_faiss_set_param(struct idx_faiss *f, const char *name, double value, struct err *err);

/* Write the index to `path` atomically (file_atomic_open/commit: a temporary file with a unique
 * name beside `path`, fsync, rename over `path`, fsync the folder), so two writers never share a
 * temporary file. On failure `path` is untouched and the temporary file is removed.
 * Errors: ERR_ARG (path too long), ERR_FAISS (write failed), ERR_IO (create/fsync/rename). */
int idx_faiss_write(struct idx_faiss *f, const char *path, struct err *err);

/* Read an index written by idx_faiss_write(). `expect_dim` > 0 requires that dimension (0: any).
 * Errors: ERR_NOTFOUND (no file at path), ERR_IO (unreadable), ERR_CORRUPT (truncated or not a
 * FAISS index), ERR_MISMATCH (other dimension, or not inner product), ERR_NOMEM.
 * Every message names the file. On success *out is a new handle (free with idx_faiss_free());
 * on failure *out is NULL. */
int idx_faiss_read(struct idx_faiss **out, const char *path, int expect_dim, struct err *err);

/* Open the index file at `path` for searching, shared within the process: every handle opened on
 * the same file shares one loaded FAISS index, loaded by the first open and freed (unmapped) with
 * the last handle. The file is read with FAISS's IO_FLAG_MMAP: IVF inverted lists stay in the
 * file's pages (mapped read-only, shared with the page cache and every other process reading the
 * file); flat codes are read into memory, once per process. `expect_dim` as idx_faiss_read().
 * A shared handle is read-only: idx_faiss_train/add/remove/write fail with ERR_ARG. Its "nprobe"
 * (idx_faiss_set_param) is its own, passed with each search; any other parameter (efSearch)
 * changes the shared index for every handle: set it before searches start.
 * Errors: as idx_faiss_read(). On success *out is a new handle (free with idx_faiss_free(), which
 * drops its reference); on failure *out is NULL. */
int idx_faiss_open_shared(struct idx_faiss **out, const char *path, int expect_dim,
                          struct err *err);

/* How many files idx_faiss_open_shared() has loaded in this process (opens served from the
 * registry do not count): for tests and diagnostics. */
int64_t idx_faiss_shared_loads(void);

/* 1 for a handle from idx_faiss_open_shared(). */
int idx_faiss_is_shared(const struct idx_faiss *f);

/* The identity of a shared handle's loaded copy (equal for handles sharing one), NULL otherwise.
 * Only for comparing; never dereference. */
const void *idx_faiss_shared_id(const struct idx_faiss *f);

/* The dimension and vector count recorded in the header of the index file at `path`, without
 * loading it. Errors: ERR_NOTFOUND, ERR_IO, ERR_CORRUPT, ERR_MISMATCH as idx_faiss_read(). */
int idx_faiss_peek(const char *path, int *dim, int64_t *ntotal, struct err *err);

/* Number of inverted lists of an IVF index (also under a pre-transform); 0 for other types. */
int64_t idx_faiss_nlist(const struct idx_faiss *f);

/* ---- recall against exact search, and nprobe chosen by a recall target. */

/* The exact top k (by inner product) of nq queries over vectors given in batches: the ground
 * truth for measuring an approximate index's recall, without holding all vectors at once. */
struct idx_faiss_truth;

/* A truth for queries q (nq, dim), copied; k in 1..IDX_FAISS_MAX_K. Errors: ERR_ARG, ERR_NOMEM.
 * On success *out is a new object freed with idx_faiss_truth_free(); on failure *out is NULL. */
int idx_faiss_truth_new(struct idx_faiss_truth **out, int dim, int64_t nq, const float *q,
                        int64_t k, struct err *err);
/* Fold in n vectors (n, dim) with their ids. Errors: ERR_FAISS, ERR_NOMEM. */
int idx_faiss_truth_add(struct idx_faiss_truth *t, int64_t n, const float *vecs,
                        const int64_t *ids, struct err *err);
/* The exact ids so far, (nq, k) best first, -1 where fewer than k vectors were seen. Owned by t. */
const int64_t *idx_faiss_truth_ids(const struct idx_faiss_truth *t);
void idx_faiss_truth_free(struct idx_faiss_truth *t);

/* recall@k of index f against the truth t (k = the truth's k): the share of each query's exact
 * top k found in f's top k. With `self` (nq ids, or NULL), each query is a stored vector whose own
 * id is left out of both lists (the truth then needs k + 1; see idx_faiss_tune_nprobe).
 * Errors: ERR_FAISS, ERR_NOMEM. */
int idx_faiss_recall(struct idx_faiss *f, const struct idx_faiss_truth *t, const int64_t *self,
                     double *recall, struct err *err);

/* Choose the smallest nprobe whose recall@k (idx_faiss_recall) reaches `target` (0 < target <= 1):
 * doubling from 1, then a binary search between the last two tried. When even nprobe = nlist
 * misses the target (PQ's rounding caps recall), the smallest nprobe within
 * IDX_FAISS_RECALL_SLACK of nlist's recall is chosen instead: where more lists stop helping.
 * f keeps the chosen nprobe; *nprobe and
 * *recall say which and what it measured. Errors: ERR_ARG (not an IVF index, target out of range),
 * ERR_FAISS, ERR_NOMEM. */
#define IDX_FAISS_RECALL_SLACK 0.01

int idx_faiss_tune_nprobe(struct idx_faiss *f, const struct idx_faiss_truth *t, const int64_t *self,
                          double target, int64_t *nprobe, double *recall, struct err *err);

/* Make FAISS searches started from the calling thread use one OpenMP thread: for single queries
 * (the CLI, the service) a thread team costs more than it saves and competes with the other
 * requests' threads (tests/bench/faiss_bench_results.txt). Affects only the calling thread. */
void idx_faiss_single_thread(void);

/* Number of vectors stored. */
int64_t idx_faiss_ntotal(const struct idx_faiss *f);

/* Dimension of the vectors. */
int idx_faiss_dim(const struct idx_faiss *f);

#endif
