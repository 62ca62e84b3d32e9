/* idx_faiss.h - the dense vector index (internal to the index module): a FAISS index whose ids are
 * passage ids, inner-product metric, stored in one file written atomically.
 * idx_faiss.c is the only file that includes the FAISS C API headers.
 * Threads: concurrent idx_faiss_search() calls on one handle are safe (FAISS CPU search only
 * reads); every other call on a handle needs the caller's exclusive lock. */
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

/* Train on `n` sample vectors (n, dim); a no-op for indexes that need no training. IVF needs
 * n >= nlist (FAISS advises 39 * nlist and prints a warning on stderr with fewer).
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

/* Make FAISS searches started from the calling thread use one OpenMP thread: for single queries
 * (the CLI, the service) a thread team costs more than it saves and competes with the other
 * requests' threads (tests/bench/faiss_bench_results.txt). Affects only the calling thread. */
void idx_faiss_single_thread(void);

/* Number of vectors stored. */
int64_t idx_faiss_ntotal(const struct idx_faiss *f);

/* Dimension of the vectors. */
int idx_faiss_dim(const struct idx_faiss *f);

#endif
