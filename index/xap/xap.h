/* xap.h - the Xapian remote backend (index/xap/xap.cpp: C++ behind this C interface): shards
 * served by `xapian-tcpsrv --writable`, combined by the client into one Xapian::Database so that
 * Xapian merges their statistics (document count, average length, term frequencies) and every
 * shard weighs a term by the same global idf. The only includer of <xapian.h>.
 *
 * Shard i holds passage pid as Xapian document (pid - 1) / N + 1. With all N shards combined,
 * Xapian's interleaved document ids are exactly the passage ids; with some left out the ids are
 * mapped back from the live shards.
 *
 * Ranking: Xapian::BM25PlusWeight(k1, 0, 0, b, min_normlen 0, delta 0), every query term scaled
 * by its weight (OP_SCALE_WEIGHT) and OR-ed. That is the local ranking's formula with the same
 * term frequencies, length normalisation and average length, except its idf, log((N + 1) / df)
 * where the local one is log((N + 1) / (df + 0.5)) (no built-in weight of xapian-tcpsrv has that
 * one, and only built-in weights reach the server).
 *
 * Failures: each remote operation has a timeout; a search whose shard fails (connection refused
 * or reset, timeout) is repeated without that shard, which is left out until a reconnection
 * attempt (at most every retry_ms) succeeds: the answer is BM25 over the live shards' passages,
 * with their merged statistics, and the shard's health says why the others are missing. */
#ifndef VC_XAP_H
#define VC_XAP_H

#ifdef __cplusplus
extern "C" { /* err.h and idx_bk.h are C headers without their own guards */
#endif

#include "err.h"
#include "index/idx_bk.h"

struct xap_opts {
    int writable;   /* open the shards for writing (every shard must answer) */
    int timeout_ms; /* per remote operation; 0: IDX_BK_DEFAULT_TIMEOUT_MS */
    int retry_ms;   /* reading: retry a left-out shard at most this often; 0: 2 x timeout */
    const char
        *index_id; /* reading: the id each shard's vericite.index must hold (NULL: unchecked) */
};

/* Connect to the `n` shards `addrs` ("HOST:PORT" each, in shard order). Writable: every shard
 * must answer (ERR_NET names the first that does not). Reading: shards that do not answer are
 * left out (search answers from the others); one holding another index or another shard number
 * is ERR_MISMATCH. On success *out is a new backend the caller closes with out->ops->close().
 * Errors: ERR_ARG (malformed address), ERR_NET, ERR_MISMATCH, ERR_NOMEM. */
int xap_open(struct idx_bk **out, const char *const *addrs, int n, const struct xap_opts *o,
             struct err *err);

#ifdef __cplusplus
}
#endif

#endif
