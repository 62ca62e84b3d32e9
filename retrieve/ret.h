/* ret.h - query -> ranked passages (or documents): BM25 over the index's postings, FTS5's own
 * bm25() for comparison, and the evaluation metrics (nDCG@10, Recall@100, MRR@10). */
#ifndef VC_RET_H
#define VC_RET_H

#include <stdint.h>

#include "err.h"
#include "index/idx.h"

enum ret_mode {
    RET_BM25 = 0, /* vericite's BM25 over the term postings (the default) */
    RET_FTS5      /* SQLite FTS5 bm25() with the query's words OR-ed (a baseline) */
};

/* BM25 parameters chosen on the shared SciFact training claims (see `make bench`). */
#define RET_DEFAULT_K1 0.9
#define RET_DEFAULT_B 0.4
#define RET_DEFAULT_TITLE_WEIGHT 1.0

/* Zero-initialise, then ret_opts_default() or set fields; zeros mean the defaults. */
struct ret_opts {
    enum ret_mode mode;
    int k;          /* hits wanted (passages, or documents with by_doc); 0 means 10 */
    int by_doc;     /* rank documents by their best passage */
    double k1, b;   /* BM25; 0 means the defaults */
    double title_weight; /* a title occurrence counts this many body occurrences; <0 means 0 */
};

struct ret_hit {
    int64_t pid;     /* best passage (of the document, with by_doc) */
    int64_t doc_row; /* the document's internal row */
    double score;
};

struct ret;

/* A retriever over `ix` (borrowed: it must outlive the retriever). Scratch memory (score
 * accumulators sized by the largest passage id) is allocated here once.
 * On success *out is owned by the caller and freed with ret_free(). */
int ret_new(struct ret **out, struct idx *ix, struct err *err);
void ret_free(struct ret *r);

/* Rank passages (or documents) for `query`, any natural-language text: it is tokenized like the
 * corpus, so quotes, hyphens or operators in it mean nothing special. Writes up to opts->k hits
 * best first to `hits` (room for opts->k) and the count to *n. A query with no indexed word gives
 * *n = 0 and ERR_OK. Errors: ERR_SQLITE, ERR_CORRUPT, ERR_NOMEM. */
int ret_search(struct ret *r, const char *query, const struct ret_opts *opts, struct ret_hit *hits,
               int *n, struct err *err);

/* ---------------------------------------------------------------- evaluation */

struct ret_qrels; /* query id -> {doc id -> relevance} */

/* Read BEIR qrels TSV (header line "query-id corpus-id score", then one triple per line).
 * Errors name the file and line: ERR_NOTFOUND, ERR_PARSE. Free with ret_qrels_free(). */
int ret_qrels_load(struct ret_qrels **out, const char *path, struct err *err);
void ret_qrels_free(struct ret_qrels *q);
/* Number of queries with at least one relevant document. */
int ret_qrels_count(const struct ret_qrels *q);
/* Nonzero when the query has judgements. */
int ret_qrels_has(const struct ret_qrels *q, const char *qid);

struct ret_metrics {
    double ndcg10, recall100, mrr10;
};

/* Score one ranked list of document ids (best first) against the judgements of `qid`. */
void ret_eval_query(const struct ret_qrels *q, const char *qid, const char *const *doc_ids, int n,
                    struct ret_metrics *m);

#endif
