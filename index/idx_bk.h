/* idx_bk.h - retrieval backends: where an index's BM25 candidate search runs. By default it is the
 * index's own postings (retrieve/ret.c scores them itself); an index can instead record a remote
 * engine holding the same terms in shards (the Xapian remote backend, index/xap/), which then
 * answers "the best k passages for these weighted terms" with its own global statistics.
 *
 * What moves and what stays: documents, passages (text, titles, URLs), the FTS5 table, the
 * postings and the vectors stay in index.db and vectors.faiss, and every reader of passages (the
 * verifier, suggestions, reports, hybrid fusion, RM3, proximity) reads them from there. Only the
 * BM25 candidate search goes to the shards: passage ids and scores come back.
 *
 * Writing: the passages table carries two triggers (made when a backend is recorded) that put
 * every inserted or deleted passage id into backend_pending, in the same transaction as the
 * change. After a commit, idx_bk_sync() sends what is pending (the passage's terms, or its
 * removal) to the shard that owns it, commits each batch on the shards, then drops the batch from
 * backend_pending: a killed sync leaves the rest pending and the next one resends it (sending is
 * idempotent). A passage with id pid lives in shard (pid - 1) % N. Each shard records which index
 * and which shard number it holds (metadata vericite.index, vericite.shard), so shards given in
 * the wrong order, or another index's shards, are refused; a shard found empty (new, or wiped)
 * gets every passage it should hold again, and a shard whose passage count differs from the
 * index's (restored from an old copy) is compared passage by passage and repaired.
 *
 * Threads: the state hangs off the index handle and is used by one thread at a time, like it. */
#ifndef VC_IDX_BK_H
#define VC_IDX_BK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct idx;

#define IDX_BK_MAX_SHARDS 256
#define IDX_BK_DEFAULT_TIMEOUT_MS 5000 /* per remote operation, searches and writes */
#define IDX_BK_BATCH 5000              /* passages sent per shard commit by idx_bk_sync */

/* ---------------------------------------------------------------- what an engine implements */

/* One distinct term of a passage: its frequency in the passage body plus in the document title
 * (the title weight of the local ranking's default, 1), so the terms' frequencies add up to the
 * passage length BM25 normalises by. `term` is not NUL-terminated. */
struct idx_bk_term {
    const char *term;
    size_t len;
    uint32_t wdf;
};

/* A change for a shard: the passage's terms, or (del) its removal. */
struct idx_bk_doc {
    int64_t pid;
    int del;
    const struct idx_bk_term *terms; /* (nterms), borrowed for the call */
    size_t nterms;
};

/* A query term: its weight (count in the query, or RM3 weight) in; df (passages containing it
 * over the shards searched) out. */
struct idx_bk_qterm {
    const char *term; /* not NUL-terminated, borrowed */
    size_t len;
    double weight;
    int64_t df;
};

struct idx_bk_hit {
    int64_t pid;
    double score;
};

/* A shard's health after the last search (or open). */
struct idx_bk_shard {
    const char *name; /* "HOST:PORT", owned by the engine */
    int live;
    const char
        *why; /* when not live: the engine's reason ("Couldn't connect: Connection refused") */
};

struct idx_bk;
struct idx_bk_ops {
    const char *name; /* "xapian" */
    /* Shard metadata: *val malloc'ed ("" when unset; the caller frees). Writable handles. */
    int (*meta_get)(struct idx_bk *b, int shard, const char *key, char **val, struct err *err);
    /* Set a metadata key; durable at the next write() or commit. Writable handles. */
    int (*meta_set)(struct idx_bk *b, int shard, const char *key, const char *val, struct err *err);
    /* Passages a shard holds. */
    int (*count)(struct idx_bk *b, int shard, int64_t *n, struct err *err);
    /* Every passage id a shard holds, ascending, to cb (nonzero stops and is returned). */
    int (*list)(struct idx_bk *b, int shard, int (*cb)(void *ctx, int64_t pid), void *ctx,
                struct err *err);
    /* Apply `n` changes (each to the shard of its pid; a removal of a passage the shard lacks is
     * not an error) and commit every shard: durable on return. n == 0 commits metadata only. */
    int (*write)(struct idx_bk *b, const struct idx_bk_doc *docs, size_t n, struct err *err);
    /* The best k passages by BM25 (k1, b; terms OR-ed, each scaled by its weight) over the
     * shards that answer, best first, ties by lower pid. *hits is owned by the engine, valid until
     * the next call; *N gets the passages searched. A shard that fails or times out is left out
     * (shard() says which and why); ERR_NET only when none answers. */
    int (*search)(struct idx_bk *b, struct idx_bk_qterm *q, int nq, double k1, double bb, int k,
                  const struct idx_bk_hit **hits, int *n, int64_t *N, struct err *err);
    /* Shard i's health (0 <= i < nshards); pointers owned by the engine until the next call. */
    void (*shard)(struct idx_bk *b, int i, struct idx_bk_shard *out);
    void (*close)(struct idx_bk *b);
};
/* Engines put this first in their own struct. */
struct idx_bk {
    const struct idx_bk_ops *ops;
    int nshards;
};

/* ---------------------------------------------------------------- the index's backend */

/* Record how the index's BM25 is served, inside a write transaction. `spec` is "local" (the
 * index's own postings: drops the recorded backend, its pending table and triggers) or
 * "xapian:HOST:PORT,HOST:PORT,..." (one address per shard, in shard order). Recording a spec with
 * another shard count than the recorded one (or the first one) gives the index a new backend id:
 * its shards must then be empty, and the first sync fills them. The same count with other
 * addresses keeps the id (shards that moved). timeout_ms > 0 records the remote timeout.
 * Errors: ERR_ARG (malformed spec, naming it), ERR_SQLITE. */
int idx_bk_configure(struct idx *ix, const char *spec, int timeout_ms, struct err *err);

/* What idx_bk_sync did. */
struct idx_bk_sync_stats {
    int64_t sent, removed; /* passages sent to shards, removals sent */
    int64_t requeued;      /* passages found missing on a shard (new, wiped or old copy) */
};
typedef void (*idx_bk_progress_cb)(void *ctx, long done, long total);

/* Outside a transaction, after a commit: bring every shard in step with the index (see the top
 * of this file). No-op (ERR_OK) when the index has no remote backend. Every shard must answer.
 * `cb` (may be NULL) gets progress; *st (may be NULL) the figures.
 * Errors: ERR_NET (a shard unreachable or failing: the message names it; what was not sent
 * stays pending), ERR_MISMATCH (a shard holding another index or another shard number), ERR_SQLITE.
 */
int idx_bk_sync(struct idx *ix, idx_bk_progress_cb cb, void *ctx, struct idx_bk_sync_stats *st,
                struct err *err);

/* For this handle only: "local" ranks from the index's postings even when a backend is recorded;
 * a spec queries those addresses instead of the recorded ones (same shard count, checked by the
 * shards' metadata). NULL restores the recorded choice. Errors: ERR_ARG. */
int idx_bk_use(struct idx *ix, const char *spec, struct err *err);

/* 1 when this handle's BM25 goes to a remote backend, else 0 (reads the settings once). */
int idx_bk_enabled(struct idx *ix);

/* BM25 candidates from the remote backend (idx_bk_enabled must be 1): connects on first use, then
 * ops->search; passage ids the index no longer holds (removed but not yet synced) are dropped.
 * *hits owned by the backend until the next call. Errors: ERR_NET (no shard answers),
 * ERR_MISMATCH (a shard holds another index), ERR_NOMEM, ERR_SQLITE. */
int idx_bk_search(struct idx *ix, struct idx_bk_qterm *q, int nq, double k1, double b, int k,
                  const struct idx_bk_hit **hits, int *n, int64_t *N, struct err *err);

/* After idx_bk_search: a one-line warning when its answer was partial (shards left out, naming
 * each with its reason) or lagging (passages not yet synced), else NULL. Owned by the handle. */
const char *idx_bk_warning(struct idx *ix);

/* The backend as this handle sees it, for stats and degraded answers. */
struct idx_bk_info {
    const char *spec;  /* recorded (or idx_bk_use) spec, "" when local; owned by the handle */
    int nshards, live; /* live: shards that answered the last search (nshards before any) */
    int64_t pending;   /* passages not yet synced */
};
/* Fill *out; shard i (0 <= i < nshards) of the last search with idx_bk_shard_info after a search.
 * Errors: ERR_SQLITE. */
int idx_bk_info(struct idx *ix, struct idx_bk_info *out, struct err *err);
/* Shard i's health (name, live, why) after the last search; 0 when there is none yet (*out zeroed).
 */
int idx_bk_shard_info(struct idx *ix, int i, struct idx_bk_shard *out);

/* Connect to every shard read-only now and report counts (stats): *counts (nshards) gets each
 * shard's passages or -1 when it does not answer (then idx_bk_shard_info says why).
 * Errors: ERR_ARG (no remote backend), ERR_NOMEM. */
int idx_bk_probe(struct idx *ix, int64_t *counts, int cap, struct err *err);

#endif
