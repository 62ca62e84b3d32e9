/* ret.h - query -> ranked passages (or documents): BM25 over the index's postings, FTS5's own
 * bm25() for comparison, and the evaluation metrics (nDCG@10, Recall@100, MRR@10). */
#ifndef VC_RET_H
#define VC_RET_H

#include <stdint.h>

#include "err.h"
#include "index/idx.h"

enum ret_mode {
    RET_AUTO = 0, /* the measured default for this index's embedder (see ret_default_mode) */
    RET_BM25,     /* vericite's BM25 over the term postings */
    RET_FTS5,     /* SQLite FTS5 bm25() with the query's words OR-ed (a baseline) */
    RET_DENSE,    /* nearest passage vectors (FAISS) */
    RET_HYBRID    /* BM25 and dense fused (see enum ret_fusion) */
};

enum ret_fusion {
    RET_FUSION_DEFAULT = 0,
    RET_FUSION_INTERP, /* over the BM25 candidates: (1-alpha) bm25' + alpha cos', both min-max scaled */
    RET_FUSION_RRF     /* reciprocal rank fusion of the BM25 and dense top lists: sum 1/(rrf_k + rank) */
};

/* Fusion defaults, chosen by `make bench` on the shared SciFact and WiCE sets. With static word
 * vectors no interpolation weight was at least as good as BM25 alone on all four figures (SciFact
 * nDCG@10 and Recall@100, WiCE top-1 and top-5; alpha 0.2 gains 0.002 nDCG and 0.003 top-1 but
 * loses one claim each in Recall@100 and top-5), so RET_AUTO stays BM25 for them and 0.2 is the
 * weight used when hybrid is asked for. A neural embedder (http, or an in-process model) gets
 * hybrid with a large weight. */
#define RET_DEFAULT_ALPHA_STATIC 0.2
#define RET_DEFAULT_ALPHA_NEURAL 0.5
#define RET_DEFAULT_RRF_K 60
#define RET_DEFAULT_DEPTH 200

/* BM25 parameters chosen on the shared SciFact training claims (see `make bench`). */
#define RET_DEFAULT_K1 0.9
#define RET_DEFAULT_B 0.4
#define RET_DEFAULT_TITLE_WEIGHT 1.0

/* Zero-initialise, then set the fields wanted; zeros mean the defaults (ret_resolve() says which). */
struct ret_opts {
    enum ret_mode mode;
    int k;          /* hits wanted (passages, or documents with by_doc); 0 means 10 */
    int by_doc;     /* rank documents by their best passage */
    double k1, b;   /* BM25; 0 means the defaults */
    double title_weight; /* a title occurrence counts this many body occurrences; <0 means 0 */
    enum ret_fusion fusion;
    double alpha;   /* interp weight of the dense score; 0 means the default, <0 means 0 */
    int rrf_k;      /* 0 means RET_DEFAULT_RRF_K */
    int depth;      /* candidates taken from each side for fusion; 0 means RET_DEFAULT_DEPTH */
    int prf_docs;   /* RM3 pseudo-relevance feedback from this many top passages (0: off) */
    int prf_terms;  /* expansion terms kept (0: 10) */
    double proximity; /* weight of the term-proximity bonus (0: off) */
    int exhaustive; /* BM25: score every posting (the reference ranking) instead of block-max
                     * MaxScore pruning, which returns the same hits and scores (see ret.c) */
};

#define RET_PRF_LAMBDA 0.5 /* RM3: weight of the original query against the feedback model */


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

/* The mode, fusion and alpha that RET_AUTO / zero fields resolve to for this index: hybrid with
 * a large weight when its vectors come from a neural embedder (http or model), else bm25.
 * `o` is updated in place. */
int ret_resolve(struct ret *r, struct ret_opts *o, struct err *err);
/* A short name for a mode ("bm25", "hybrid", ...). */
const char *ret_mode_name(enum ret_mode m);

/* Rank passages (or documents) for `query`, any natural-language text: it is tokenized like the
 * corpus, so quotes, hyphens or operators in it mean nothing special. Writes up to opts->k hits
 * best first to `hits` (room for opts->k) and the count to *n. A query with no indexed word gives
 * *n = 0 and ERR_OK. Errors: ERR_SQLITE, ERR_CORRUPT, ERR_NOMEM. */
int ret_search(struct ret *r, const char *query, const struct ret_opts *opts, struct ret_hit *hits,
               int *n, struct err *err);

/* ---------------------------------------------------------------- evaluation */

struct ret_qrels; /* query id -> {doc id -> relevance} */

/* Read judgements: BEIR qrels TSV (an optional header line "query-id corpus-id score", then
 * "query-id corpus-id score" per line) or TREC qrels ("query-id iteration doc-id relevance" per
 * line, fields separated by spaces or tabs), told apart by the first judgement line's field
 * count (3 or 4). Errors name the file and line: ERR_NOTFOUND, ERR_PARSE. On success *out is
 * owned by the caller and freed with ret_qrels_free(). */
int ret_qrels_load(struct ret_qrels **out, const char *path, struct err *err);
void ret_qrels_free(struct ret_qrels *q);
/* Number of queries with at least one relevant document. */
int ret_qrels_count(const struct ret_qrels *q);
/* Nonzero when the query has judgements. */
int ret_qrels_has(const struct ret_qrels *q, const char *qid);
/* Call cb once for each distinct document judged relevant (relevance > 0) in any query, in byte
 * order; a nonzero return stops and is returned. ERR_NOMEM when the scratch list cannot be made. */
int ret_qrels_docs(const struct ret_qrels *q, int (*cb)(void *ctx, const char *doc), void *ctx);

/* A TREC run file: "query-id Q0 doc-id rank score tag" per line, as trec_eval, Anserini and
 * Pyserini read and write it. */
struct ret_run;
/* Read a run. Each query's documents are ordered by score (highest first), ties by the rank
 * written, then by line (trec_eval breaks ties by doc-id instead; a run written by vericite has
 * the same order either way unless scores tie); a document listed twice for one query keeps its
 * best place. Errors name the file and line: ERR_NOTFOUND, ERR_IO, ERR_PARSE, ERR_NOMEM. On
 * success *out is owned by the caller and freed with ret_run_free(). */
int ret_run_load(struct ret_run **out, const char *path, struct err *err);
void ret_run_free(struct ret_run *r);
/* Number of queries in the run. */
int ret_run_count(const struct ret_run *r);
/* Query i (0 .. ret_run_count - 1, in byte order of the ids): returns its id and sets *docs to
 * its *n document ids, best first. Both point into r and stay valid until the next call. */
const char *ret_run_query(struct ret_run *r, int i, const char *const **docs, int *n);
/* Append one run line "qid Q0 doc rank score tag\n" to out; white space inside a field becomes
 * '_' and an empty field "-". Returns ERR_OK or ERR_NOMEM (out is then as before). */
struct buf;
int ret_trec_line(struct buf *out, const char *qid, const char *doc, int rank, double score, const char *tag);

struct ret_metrics {
    double ndcg10, recall100, mrr10;
    double recall1, recall5; /* share of the relevant documents in the top 1 / top 5 */
};

/* Score one ranked list of document ids (best first) against the judgements of `qid`. */
void ret_eval_query(const struct ret_qrels *q, const char *qid, const char *const *doc_ids, int n,
                    struct ret_metrics *m);

/* ---------------------------------------------------------------- reranking (ret_rerank.c) */

/* A reranker re-scores the top passages of a ranking for one query: either an imported
 * cross-encoder (a BertForSequenceClassification with one output, `vericite model import`) run
 * in this process on (query, passage) pairs, its logit the score; or a server's /rerank endpoint
 * (Cohere, Jina, vLLM, llama.cpp server, text-embeddings-inference behind a proxy...): POST
 * {"model": M, "query": Q, "documents": [texts...], "top_n": n, "return_documents": false},
 * answered {"results": [{"index": i, "relevance_score": s}, ...]} (or a bare array, or "score"
 * for "relevance_score"), every document once, in any order. The endpoint is configured by the
 * user, so it is trusted like a config file (no address guard, as for the http embedder);
 * requests have a connect and a total timeout and are retried on timeouts, connection errors,
 * 429 and 5xx (common/http). A passage is given as "Title. text", cut to RET_RERANK_MAX_TEXT
 * bytes (at a character boundary). A reranker is not thread-safe: one per thread. */

#define RET_RERANK_DEFAULT_DEPTH 50
#define RET_RERANK_MAX_DEPTH 1000
#define RET_RERANK_MAX_TEXT (32u << 10)           /* bytes of one passage sent or tokenized */
#define RET_RERANK_MAX_RESPONSE ((size_t)16 << 20) /* bytes of one /rerank answer */
#define RET_RERANK_DEFAULT_TIMEOUT_MS 60000L
#define RET_RERANK_DEFAULT_RETRIES 3
#define RET_RERANK_KEY_ENV "VERICITE_RERANK_KEY" /* API key: "Authorization: Bearer KEY" */

/* Zero-initialise; set model or url (not both). */
struct ret_rerank_opts {
    const char *model;     /* an imported cross-encoder: a name (nn_model_resolve) or .vcnn path */
    const char *url;       /* or the full URL of a /rerank endpoint, http or https */
    const char *url_model; /* url: the "model" member sent (NULL or "": left out) */
    int threads;           /* model: threads of one call (0: 1) */
    long timeout_ms;       /* url: per attempt (0: RET_RERANK_DEFAULT_TIMEOUT_MS) */
    int retries;           /* url: retries (0: RET_RERANK_DEFAULT_RETRIES; -1: none) */
};

struct ret_reranker;

/* A reranker (opts copied). The model must be a classifier with exactly one output; the URL must
 * be http(s) without credentials in it (nothing is sent here). The API key is read from
 * $RET_RERANK_KEY_ENV once, here. Errors: ERR_ARG (neither or both, not a one-output
 * classifier, a bad URL), those of nn_model_resolve/nn_model_open/nn_new and http_client_new,
 * ERR_NOMEM. On success *out is a new reranker freed with ret_reranker_free(). */
int ret_reranker_new(struct ret_reranker **out, const struct ret_rerank_opts *opts,
                     struct err *err);
/* NULL is allowed. */
void ret_reranker_free(struct ret_reranker *rr);
/* What the reranker is, stable across runs, for stored results and logs: "model:NAME:HASH" or
 * "url:URL" (":MODEL" after it when one is sent). Owned by the reranker. */
const char *ret_reranker_id(const struct ret_reranker *rr);

/* Score n texts for `query` into scores (n), higher is more relevant. Errors: the model's
 * (ERR_UTF8...), or for a URL ERR_NET (naming the endpoint and why: "timed out: ...",
 * "HTTP 500: <the server's message>", "(after N attempts)"), ERR_PARSE (a malformed answer, a
 * missing or repeated index, a score that is not a finite number), ERR_LIMIT (request or
 * answer over the caps). */
int ret_rerank_texts(struct ret_reranker *rr, const char *query, const char *const *texts,
                     size_t n, double *scores, struct err *err);

/* Re-order the first min(n, depth) hits (depth 0: RET_RERANK_DEFAULT_DEPTH) of a ranking by the
 * reranker's score of their passage (ties keep their order); their score becomes the
 * reranker's. Hits after depth stay where they were. Errors: those of idx_passage and
 * ret_rerank_texts (hits are then unchanged). */
int ret_rerank(struct ret_reranker *rr, struct idx *ix, const char *query, struct ret_hit *hits,
               int n, int depth, struct err *err);

#endif
