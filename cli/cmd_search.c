/* cmd_search.c - `vericite search` (one query or a batch, on several threads; a table, JSON or a
 * TREC run) and `vericite eval` (ranking metrics against BEIR or TREC qrels, of the index's
 * ranking with its query latency, or of a TREC run file). */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"
#include "vec.h"
#include "buf.h"
#include "cli.h"
#include "file.h"
#include "corpus/corpus.h"
#include "index/idx.h"
#include "index/idx_bk.h"
#include "retrieve/ret.h"

#define SEARCH_MAX_K 10000
#define SEARCH_MAX_THREADS 64
#define SEARCH_TREC_K 1000   /* hits per query in a TREC run unless -k (as Anserini and Pyserini) */
#define SEARCH_AHEAD 256     /* --threads: queries answered ahead of the one being printed, at most */

/* Options shared by search and eval. */
struct rank_args {
    const char *db, *queries, *qrels;
    const char *trec, *tag; /* search --trec FILE, --run-tag TAG */
    const char *run;        /* eval --run FILE */
    const char *backend;    /* --backend: "local" or another spec for this run */
    struct ret_opts ro;
    int json, per_query, nprobe, ef_search;
    int threads, wide, k_given;
    struct ret_rerank_opts rerank; /* --rerank NAME / --rerank-url URL: model or url set */
    int rerank_depth;              /* --rerank-depth (0: RET_RERANK_DEFAULT_DEPTH) */
};

/* Hits one ranking needs room for: k, or the reranked depth when larger. */
static int rank_cap(const struct rank_args *a)
{
    int d = a->rerank_depth ? a->rerank_depth : RET_RERANK_DEFAULT_DEPTH;
    return a->rerank.model || a->rerank.url ? (d > a->ro.k ? d : a->ro.k) : a->ro.k;
}

/* Rank `query`: ret_search, then with a reranker the top depth hits re-scored and the first k
 * kept. `hits` has room for rank_cap(a). */
static int rank_query(struct ret *r, struct ret_reranker *rr, struct idx *ix, const struct rank_args *a,
                      const char *query, struct ret_hit *hits, int *n, struct err *err)
{
    struct ret_opts o = a->ro;
    o.k = rank_cap(a);
    int rc = ret_search(r, query, &o, hits, n, err);
    if (rc || !rr) return rc;
    if ((rc = ret_rerank(rr, ix, query, hits, *n, a->rerank_depth, err))) return rc;
    if (*n > a->ro.k) *n = a->ro.k;
    return ERR_OK;
}

/* The reranker of one searcher, or NULL without --rerank. */
static int open_reranker(const struct rank_args *a, struct ret_reranker **out, struct err *err)
{
    *out = NULL;
    if (!a->rerank.model && !a->rerank.url) return ERR_OK;
    return ret_reranker_new(out, &a->rerank, err);
}

/* Apply search-time parameters once the index is open: the backend, vector search parameters. */
static int apply_nprobe(struct idx *ix, const struct rank_args *a, struct err *err)
{
    if (a->backend) {
        int rc = idx_bk_use(ix, a->backend, err);
        if (rc) return rc;
    }
    if (a->ro.mode == RET_BM25 || a->ro.mode == RET_FTS5) return ERR_OK;
    int rc = a->nprobe ? idx_vec_set_param(ix, "nprobe", a->nprobe, err) : ERR_OK;
    if (!rc && a->ef_search) rc = idx_vec_set_param(ix, "efSearch", a->ef_search, err);
    return rc;
}

enum { OPT_DB = 1000, OPT_MODE, OPT_BYDOC, OPT_JSON, OPT_QUERIES, OPT_QRELS, OPT_K1, OPT_B, OPT_TW, OPT_PERQ,
       OPT_FUSION, OPT_ALPHA, OPT_RRFK, OPT_DEPTH, OPT_NPROBE, OPT_PRF, OPT_PRF_TERMS, OPT_PROX, OPT_EF,
       OPT_TREC, OPT_TAG, OPT_THREADS, OPT_RUN, OPT_WIDE, OPT_BACKEND, OPT_RERANK, OPT_RERANK_URL,
       OPT_RERANK_MODEL, OPT_RERANK_DEPTH, OPT_RERANK_THREADS, OPT_EXH };

static const struct option rank_longopts[] = {
    {"db", required_argument, 0, OPT_DB},         {"mode", required_argument, 0, OPT_MODE},
    {"by-doc", no_argument, 0, OPT_BYDOC},        {"json", no_argument, 0, OPT_JSON},
    {"queries", required_argument, 0, OPT_QUERIES}, {"qrels", required_argument, 0, OPT_QRELS},
    {"k1", required_argument, 0, OPT_K1},         {"b", required_argument, 0, OPT_B},
    {"title-weight", required_argument, 0, OPT_TW}, {"per-query", no_argument, 0, OPT_PERQ},
    {"fusion", required_argument, 0, OPT_FUSION}, {"alpha", required_argument, 0, OPT_ALPHA},
    {"rrf-k", required_argument, 0, OPT_RRFK},    {"depth", required_argument, 0, OPT_DEPTH},
    {"nprobe", required_argument, 0, OPT_NPROBE}, {"prf", optional_argument, 0, OPT_PRF},
    {"prf-terms", required_argument, 0, OPT_PRF_TERMS}, {"proximity", required_argument, 0, OPT_PROX},
    {"ef-search", required_argument, 0, OPT_EF},  {"trec", required_argument, 0, OPT_TREC},
    {"run-tag", required_argument, 0, OPT_TAG},   {"threads", required_argument, 0, OPT_THREADS},
    {"run", required_argument, 0, OPT_RUN},       {"wide", no_argument, 0, OPT_WIDE},
    {"backend", required_argument, 0, OPT_BACKEND}, {"exhaustive", no_argument, 0, OPT_EXH},
    {"rerank", required_argument, 0, OPT_RERANK}, {"rerank-url", required_argument, 0, OPT_RERANK_URL},
    {"rerank-model", required_argument, 0, OPT_RERANK_MODEL},
    {"rerank-depth", required_argument, 0, OPT_RERANK_DEPTH},
    {"rerank-threads", required_argument, 0, OPT_RERANK_THREADS},
    {"help", no_argument, 0, 'h'},                {0, 0, 0, 0}};

/* Returns -1 to continue, or an exit code (help printed, usage error). */
static int parse_rank_args(const char *cmd, const char *help, int argc, char **argv, struct rank_args *a)
{
    int c;
    optind = 1;
    a->ro.k = 10;
    while ((c = getopt_long(argc, argv, "k:h", rank_longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: a->db = optarg; break;
        case 'k':
            if (cli_int(cmd, "-k", optarg, 1, SEARCH_MAX_K, &a->ro.k)) return CLI_USAGE;
            a->k_given = 1;
            break;
        case OPT_TREC: a->trec = optarg; break;
        case OPT_TAG: a->tag = optarg; break;
        case OPT_RUN: a->run = optarg; break;
        case OPT_WIDE: a->wide = 1; break;
        case OPT_THREADS:
            if (cli_int(cmd, "--threads", optarg, 1, SEARCH_MAX_THREADS, &a->threads)) return CLI_USAGE;
            break;
        case OPT_MODE:
            if (!strcmp(optarg, "bm25")) a->ro.mode = RET_BM25;
            else if (!strcmp(optarg, "fts5")) a->ro.mode = RET_FTS5;
            else if (!strcmp(optarg, "dense")) a->ro.mode = RET_DENSE;
            else if (!strcmp(optarg, "hybrid")) a->ro.mode = RET_HYBRID;
            else if (!strcmp(optarg, "auto")) a->ro.mode = RET_AUTO;
            else return cli_usage(cmd, "unknown --mode '%s' (auto, bm25, dense, hybrid, fts5)", optarg);
            break;
        case OPT_FUSION:
            if (!strcmp(optarg, "interp")) a->ro.fusion = RET_FUSION_INTERP;
            else if (!strcmp(optarg, "rrf")) a->ro.fusion = RET_FUSION_RRF;
            else return cli_usage(cmd, "unknown --fusion '%s' (interp, rrf)", optarg);
            break;
        case OPT_ALPHA:
            if (cli_double(cmd, "--alpha", optarg, 0, 1, &a->ro.alpha)) return CLI_USAGE;
            if (a->ro.alpha == 0) a->ro.alpha = -1; /* explicit zero: pure BM25 order */
            break;
        case OPT_RRFK:
            if (cli_int(cmd, "--rrf-k", optarg, 1, 100000, &a->ro.rrf_k)) return CLI_USAGE;
            break;
        case OPT_DEPTH:
            if (cli_int(cmd, "--depth", optarg, 1, SEARCH_MAX_K, &a->ro.depth)) return CLI_USAGE;
            break;
        case OPT_PRF:
            a->ro.prf_docs = 10;
            if (optarg && cli_int(cmd, "--prf", optarg, 1, 1000, &a->ro.prf_docs)) return CLI_USAGE;
            break;
        case OPT_PRF_TERMS:
            if (cli_int(cmd, "--prf-terms", optarg, 1, 1000, &a->ro.prf_terms)) return CLI_USAGE;
            break;
        case OPT_PROX:
            if (cli_double(cmd, "--proximity", optarg, 0, 100, &a->ro.proximity)) return CLI_USAGE;
            break;
        case OPT_EF:
            if (cli_int(cmd, "--ef-search", optarg, 1, 65536, &a->ef_search)) return CLI_USAGE;
            break;
        case OPT_NPROBE:
            if (cli_int(cmd, "--nprobe", optarg, 1, 65536, &a->nprobe)) return CLI_USAGE;
            break;
        case OPT_BYDOC: a->ro.by_doc = 1; break;
        case OPT_EXH: a->ro.exhaustive = 1; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_QUERIES: a->queries = optarg; break;
        case OPT_QRELS: a->qrels = optarg; break;
        case OPT_K1:
            if (cli_double(cmd, "--k1", optarg, 0.01, 10, &a->ro.k1)) return CLI_USAGE;
            break;
        case OPT_B:
            if (cli_double(cmd, "--b", optarg, 0.001, 1, &a->ro.b)) return CLI_USAGE;
            break;
        case OPT_TW:
            if (cli_double(cmd, "--title-weight", optarg, 0, 100, &a->ro.title_weight)) return CLI_USAGE;
            if (a->ro.title_weight == 0) a->ro.title_weight = -1; /* explicit zero */
            break;
        case OPT_PERQ: a->per_query = 1; break;
        case OPT_BACKEND: a->backend = optarg; break;
        case OPT_RERANK: a->rerank.model = optarg; break;
        case OPT_RERANK_URL: a->rerank.url = optarg; break;
        case OPT_RERANK_MODEL: a->rerank.url_model = optarg; break;
        case OPT_RERANK_DEPTH:
            if (cli_int(cmd, "--rerank-depth", optarg, 1, RET_RERANK_MAX_DEPTH, &a->rerank_depth))
                return CLI_USAGE;
            break;
        case OPT_RERANK_THREADS:
            if (cli_int(cmd, "--rerank-threads", optarg, 1, 64, &a->rerank.threads)) return CLI_USAGE;
            break;
        case 'h': fputs(help, stdout); return CLI_OK;
        default: return cli_bad_option(cmd, argv, "k:h", rank_longopts);
        }
    }
    if (a->ro.title_weight == 0) a->ro.title_weight = RET_DEFAULT_TITLE_WEIGHT;
    if (!a->db && !a->run) return cli_usage(cmd, "--db DIR is required");
    if (a->rerank.model && a->rerank.url) return cli_usage(cmd, "give --rerank NAME or --rerank-url URL, not both");
    if ((a->rerank_depth || a->rerank.url_model) && !a->rerank.model && !a->rerank.url)
        return cli_usage(cmd, "--rerank-depth and --rerank-model need --rerank NAME or --rerank-url URL");
    return -1;
}

/* ---------------------------------------------------------------- search */

static const char search_help[] =
    "usage: vericite search --db DIR [options] QUERY...\n"
    "       vericite search --db DIR [options] --queries FILE [--threads N] [--trec RUN]\n"
    "\n"
    "Find the passages that best match a claim. The query is plain text: quotes, hyphens,\n"
    "colons, parentheses and words like AND/NOT/NEAR are just words. The table shows each\n"
    "passage around the words that matched (bold on a terminal), sized to the terminal; piped,\n"
    "it prints whole passages.\n"
    "\n"
    "options:\n"
    "  --db DIR          index folder (required)\n"
    "  -k N              number of hits (default 10; 1000 with --trec)\n"
    "  --mode M          auto (default): hybrid when the index's vectors come from a neural\n"
    "                    (http or model) embedder, else bm25 (static vectors do not beat\n"
    "                    BM25: make bench);\n"
    "                    bm25: vericite's BM25 over its term postings, with title weighting;\n"
    "                    dense: nearest passage vectors (FAISS); hybrid: both fused;\n"
    "                    fts5: SQLite FTS5's bm25() over the same tokens (a baseline)\n"
    "  --fusion F        hybrid: interp (default; over the BM25 candidates) or rrf\n"
    "  --alpha A         interp: weight of the dense score, 0..1 (default 0.2 with static\n"
    "                    vectors, 0.5 with a neural one)\n"
    "  --rrf-k K         rrf: the rank constant (default 60)\n"
    "  --depth N         hybrid: candidates from each side (default 200)\n"
    "  --nprobe N        IVF vector indexes: lists searched per query (default 64)\n"
    "  --ef-search N     HNSW vector indexes (--faiss HNSW32): candidates per query\n"
    "  --proximity W     add a term-proximity bonus (pairs of consecutive query words within 8\n"
    "                    words) with weight W to the top 100 passages. Off by default (make bench)\n"
    "  --prf[=N]         RM3 pseudo-relevance feedback from the top N passages (default 10;\n"
    "                    --prf-terms T expansion terms, default 10). Off by default: it did\n"
    "                    not help on the shared sets (make bench)\n"
    "  --by-doc          rank documents by their best passage (k counts documents)\n"
    "  --json            one JSON object per query: {\"id\",\"query\",\"hits\":[{\"rank\",\"doc_id\",\n"
    "                    \"passage_id\",\"title\",\"url\",\"score\",\"text\"}]}\n"
    "  --queries FILE    a batch: BEIR queries JSONL {\"_id\",\"text\"} or TSV id<TAB>text\n"
    "  --threads N       answer a batch on N threads, each with its own index handle and\n"
    "                    retriever; the output stays in query order (default 1; with --json or\n"
    "                    --trec, the table is printed by one thread)\n"
    "  --trec RUN        write a TREC run to RUN instead of printing: one line per document,\n"
    "                    \"query-id Q0 doc-id rank score tag\", as trec_eval, Anserini and Pyserini\n"
    "                    use (documents ranked by their best passage; a single QUERY is id 1)\n"
    "  --run-tag TAG     the run's tag (default vericite-MODE, e.g. vericite-bm25)\n"
    "  --wide            do not cut table cells to the terminal's width\n"
    "  --k1 X --b Y      BM25 parameters (default 0.9 and 0.4)\n"
    "  --exhaustive      BM25 scores every posting of the query's words instead of skipping the\n"
    "                    blocks of postings that cannot reach the top k (same hits and scores;\n"
    "                    for comparison and timing)\n"
    "  --title-weight W  a title word counts W body words (default 1; a remote backend counts\n"
    "                    title words once, whatever W)\n"
    "  --rerank NAME     re-score the top passages with a cross-encoder (a one-output\n"
    "                    BertForSequenceClassification from `vericite model import`: NAME or a\n"
    "                    .vcnn path), run in process; the score shown is its logit\n"
    "  --rerank-url URL  the same with a server's /rerank endpoint (Cohere, Jina, vLLM,\n"
    "                    llama.cpp: {query, documents} -> results [{index, relevance_score}];\n"
    "                    --rerank-model M names the model sent; key from $VERICITE_RERANK_KEY)\n"
    "  --rerank-depth N  passages re-scored (default 50); the first k of them are shown\n"
    "  --rerank-threads N  the cross-encoder's threads (default 1; with --threads, per thread)\n"
    "  --backend B       local: BM25 from the index's own postings even when it records a remote\n"
    "                    backend; xapian:HOST:PORT,...: those shards, not the recorded ones.\n"
    "                    When shards do not answer, the others answer: a warning on stderr and,\n"
    "                    with --json, \"backend\": {\"dead\": [...], \"warning\"} in the object\n"
    "\n"
    "examples:\n"
    "  vericite search --db scifact-idx \"Vitamin D deficiency increases the risk of MS\"\n"
    "  vericite search --db scifact-idx --by-doc -k 5 --json \"BRCA1 mutations (breast cancer)\"\n"
    "  vericite search --db scifact-idx --queries claims.jsonl --threads 4 --json > hits.jsonl\n"
    "  vericite search --db scifact-idx --queries queries.jsonl --trec run.txt && \\\n"
    "    vericite eval --run run.txt --qrels qrels.tsv\n";

/* One searcher: its own index handle and retriever (one per thread). */
struct searcher {
    struct rank_args *a;
    struct idx *ix;
    struct ret *r;
    struct ret_reranker *rr; /* NULL without --rerank */
    struct ret_hit *hits;    /* (rank_cap) */
    struct cli_hl *hl;
    const char *tag;
    int color, width; /* bold matches; the terminal's columns (0: piped, whole passages) */
    double seconds;   /* time in ret_search */
    struct buf warned; /* the last backend warning printed */
};

/* A partial answer from the backend: said on stderr (once while it stays the same). */
static void warn_backend(struct idx *ix, const char *id, struct buf *last)
{
    const char *w = idx_bk_warning(ix);
    if (!w) {
        buf_reset(last);
        return;
    }
    if (last->len && !strcmp(last->data, w)) return;
    fprintf(stderr, "vericite: warning: %s%s%s\n", id ? id : "", id ? ": " : "", w);
    buf_reset(last);
    buf_puts(last, w);
}

static void searcher_close(struct searcher *s)
{
    free(s->hits);
    buf_cleanup(&s->warned);
    cli_hl_free(s->hl);
    ret_reranker_free(s->rr);
    ret_free(s->r);
    idx_close(s->ix);
    memset(s, 0, sizeof *s);
}

static int searcher_open(struct searcher *s, struct rank_args *a, struct err *err)
{
    struct idx_opts io = {.readonly = 1};
    s->a = a;
    int rc = idx_open(&s->ix, a->db, &io, err);
    if (!rc) rc = ret_new(&s->r, s->ix, err);
    if (!rc && a->ro.mode != RET_AUTO) rc = apply_nprobe(s->ix, a, err); /* else after ret_resolve */
    if (!rc) rc = cli_hl_new(&s->hl, err);
    if (!rc) rc = open_reranker(a, &s->rr, err);
    if (!rc && !(s->hits = calloc((size_t)rank_cap(a), sizeof *s->hits))) rc = err_set(err, ERR_NOMEM, "search");
    if (rc) searcher_close(s);
    return rc;
}

/* The passage cell of the table: the part around the matched words, sized to the terminal. */
static void put_passage(struct searcher *s, const char *text, int cols)
{
    struct ver_span sp[64];
    size_t len = strlen(text), a = 0, b = len;
    int n = cli_hl_find(s->hl, text, len, sp, 64);
    if (cols > 0) cli_hl_window(text, len, sp, n, cols - 2, &a, &b); /* room for the two "…" */
    cli_hl_print(stdout, text, len, a, b, sp, n, s->color);
}

/* The hits of one query as a table into stdout. */
static int print_table(struct searcher *s, const char *id, const char *query, int n, struct err *err)
{
    printf("%s%s%s\n", id ? id : "", id ? ": " : "", query);
    if (n == 0) {
        printf("  (no passage matches any word of the query)\n\n");
        return ERR_OK;
    }
    cli_hl_set(s->hl, query, s->ix, err);
    /* fixed columns: "  rank  score  doc  title  " take 2+4+2+7+2+14+2+32+2 = 67 */
    int cols = s->width > 0 ? s->width - 67 : 0;
    if (s->width > 0 && cols < 30) cols = 30;
    printf("  %4s  %7s  %-14s  %-32s  %s\n", "rank", "score", "doc", "title", "passage");
    for (int i = 0; i < n; i++) {
        struct idx_passage p;
        int rc = idx_passage(s->ix, s->hits[i].pid, &p, err);
        if (rc) return rc;
        printf("  %4d  %7.3f  ", i + 1, s->hits[i].score);
        cli_put_cell(stdout, p.doc_id, 14, 1);
        fputs("  ", stdout);
        cli_put_cell(stdout, p.title, 32, 1);
        fputs("  ", stdout);
        put_passage(s, p.text, cols);
        fputc('\n', stdout);
        if (p.url[0]) printf("  %4s  %7s  %s\n", "", "", p.url);
    }
    fputc('\n', stdout);
    return ERR_OK;
}

/* Answer one query into `out` (JSON line or TREC lines); the table goes straight to stdout (it is
 * only printed by a single thread). */
static int answer(struct searcher *s, const char *id, const char *query, struct buf *out, struct err *err)
{
    int n = 0, rc;
    double t = cli_now();
    if ((rc = rank_query(s->r, s->rr, s->ix, s->a, query, s->hits, &n, err))) return rc;
    s->seconds += cli_now() - t;
    warn_backend(s->ix, id, &s->warned);
    if (s->a->trec) {
        for (int i = 0; i < n; i++) {
            struct idx_passage p;
            if ((rc = idx_passage(s->ix, s->hits[i].pid, &p, err))) return rc;
            if (ret_trec_line(out, id ? id : "1", p.doc_id, i + 1, s->hits[i].score, s->tag))
                return err_set(err, ERR_NOMEM, "run");
        }
        return ERR_OK;
    }
    if (s->a->json) {
        json_t *o = NULL;
        if ((rc = cli_hits_json(s->ix, id, query, s->hits, n, &o, err))) return rc;
        char *txt = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!txt || buf_puts(out, txt) || buf_putc(out, '\n')) rc = err_set(err, ERR_NOMEM, "search");
        free(txt);
        return rc;
    }
    return print_table(s, id, query, n, err);
}

/* ---- a batch of queries on several threads, printed in query order */

struct query {
    char *id, *text;
    long line;
};

struct batch {
    struct rank_args *a;
    struct query *q;
    size_t nq, cap;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct buf *out; /* (nq): each query's answer */
    char *done;      /* (nq) */
    size_t next, printed;
    int failed;
    struct err err; /* the first error of a worker */
    const char *tag;
};

static int collect_query(void *ctx, const char *id, const char *text, long line)
{
    struct batch *b = ctx;
    if (vec_grow((void **)&b->q, &b->cap, b->nq + 1, sizeof *b->q)) return ERR_NOMEM;
    struct query *q = &b->q[b->nq];
    q->id = strdup(id ? id : "");
    q->text = strdup(text);
    q->line = line;
    if (!q->id || !q->text) {
        free(q->id);
        free(q->text);
        return ERR_NOMEM;
    }
    b->nq++;
    return 0;
}

static void *batch_worker(void *arg)
{
    struct batch *b = arg;
    struct searcher s = {0};
    struct err err = {0};
    int rc = searcher_open(&s, b->a, &err);
    s.tag = b->tag;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!rc && !b->failed && b->next < b->nq && b->next >= b->printed + SEARCH_AHEAD)
            pthread_cond_wait(&b->cv, &b->mu);
        if (rc || b->failed || b->next >= b->nq) break;
        size_t i = b->next++;
        pthread_mutex_unlock(&b->mu);
        struct buf out = {0};
        rc = answer(&s, b->q[i].id, b->q[i].text, &out, &err);
        if (rc) err_prefix(&err, "%s:%ld", b->a->queries, b->q[i].line);
        pthread_mutex_lock(&b->mu);
        b->out[i] = out;
        b->done[i] = 1;
        pthread_cond_broadcast(&b->cv);
    }
    if (rc && !b->failed) {
        b->failed = 1;
        b->err = err;
    }
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    searcher_close(&s);
    return NULL;
}

/* Answer every query of the batch on `threads` threads, writing each answer to f in order. */
static int run_batch(struct batch *b, int threads, FILE *f, struct err *err)
{
    b->out = calloc(b->nq ? b->nq : 1, sizeof *b->out);
    b->done = calloc(b->nq ? b->nq : 1, 1);
    pthread_t th[SEARCH_MAX_THREADS];
    int started = 0, rc = ERR_OK;
    if (!b->out || !b->done) return err_set(err, ERR_NOMEM, "search");
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    for (int t = 0; t < threads; t++)
        if (pthread_create(&th[started], NULL, batch_worker, b) == 0) started++;
    pthread_mutex_lock(&b->mu);
    if (!started) {
        b->failed = 1;
        err_set(&b->err, ERR_NOMEM, "search: no thread could be started");
    }
    for (size_t i = 0; i < b->nq; i++) {
        while (!b->done[i] && !b->failed) pthread_cond_wait(&b->cv, &b->mu);
        if (!b->done[i]) break;
        if (b->out[i].len) fwrite(b->out[i].data, 1, b->out[i].len, f);
        buf_cleanup(&b->out[i]);
        b->printed = i + 1;
        pthread_cond_broadcast(&b->cv);
    }
    if (b->failed) {
        rc = b->err.code ? b->err.code : ERR_INTERNAL;
        *err = b->err;
    }
    pthread_mutex_unlock(&b->mu);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    return rc;
}

static void batch_cleanup(struct batch *b)
{
    for (size_t i = 0; i < b->nq; i++) {
        free(b->q[i].id);
        free(b->q[i].text);
        if (b->out) buf_cleanup(&b->out[i]);
    }
    free(b->q);
    free(b->out);
    free(b->done);
}

int cmd_search(int argc, char **argv)
{
    struct rank_args a = {0};
    int rc = parse_rank_args("search", search_help, argc, argv, &a);
    if (rc >= 0) return rc;
    if (!a.queries && optind >= argc) return cli_usage("search", "give a QUERY or --queries FILE");
    if (a.queries && optind < argc) return cli_usage("search", "give either a QUERY or --queries FILE, not both");
    if (a.trec && a.json) return cli_usage("search", "give --trec RUN or --json, not both");
    if (a.threads > 1 && !a.queries) return cli_usage("search", "--threads needs a batch (--queries FILE)");
    if (a.trec) {
        a.ro.by_doc = 1; /* a run lists documents, each once */
        if (!a.k_given) a.ro.k = SEARCH_TREC_K;
    }
    struct err err = {0};
    struct searcher s = {0};
    struct batch b = {.a = &a};
    struct buf q = {0}, out = {0};
    struct file_atomic fa = {0};
    char tag[64];
    if (a.trec && (rc = file_atomic_open(&fa, a.trec, &err))) goto out;
    if ((rc = searcher_open(&s, &a, &err))) goto out;
    /* the mode is fixed before any thread starts */
    if ((rc = ret_resolve(s.r, &a.ro, &err)) || (rc = apply_nprobe(s.ix, &a, &err))) goto out;
    snprintf(tag, sizeof tag, "vericite-%s", ret_mode_name(a.ro.mode));
    s.tag = b.tag = a.tag ? a.tag : tag;
    s.color = isatty(1) && !getenv("NO_COLOR");
    s.width = a.wide ? 0 : cli_term_width();
    FILE *dst = a.trec ? fa.f : stdout;
    long nq = 0;
    if (a.queries) {
        rc = corpus_queries_read(a.queries, collect_query, &b, &err);
        if (rc == ERR_NOMEM) rc = err_set(&err, ERR_NOMEM, "%s", a.queries);
        if (rc) goto out;
        nq = (long)b.nq;
        if (a.threads > 1 && (a.json || a.trec)) {
            searcher_close(&s); /* each thread opens its own */
            rc = run_batch(&b, a.threads, dst, &err);
        } else {
            /* one thread (the table is printed as it goes) */
            for (size_t i = 0; i < b.nq && !rc; i++) {
                buf_reset(&out);
                rc = answer(&s, b.q[i].id, b.q[i].text, &out, &err);
                if (rc) err_prefix(&err, "%s:%ld", a.queries, b.q[i].line);
                else if (out.len) fwrite(out.data, 1, out.len, dst);
            }
        }
    } else {
        for (int i = optind; i < argc; i++)
            if ((i > optind && buf_putc(&q, ' ')) || buf_puts(&q, argv[i])) {
                rc = err_set(&err, ERR_NOMEM, "query");
                goto out;
            }
        if (!utf8_valid(q.data, q.len, NULL)) {
            rc = err_set(&err, ERR_UTF8, "the query is not valid UTF-8");
            goto out;
        }
        nq = 1;
        rc = answer(&s, NULL, q.data, &out, &err);
        if (!rc && out.len) fwrite(out.data, 1, out.len, dst);
    }
    if (!rc && a.trec) {
        rc = file_atomic_commit(&fa, &err);
        if (!rc) fprintf(stderr, "wrote a TREC run of %ld quer%s to %s (tag %s)\n", nq, nq == 1 ? "y" : "ies", a.trec,
                         s.tag ? s.tag : b.tag);
    }
out:
    file_atomic_abort(&fa);
    batch_cleanup(&b);
    buf_cleanup(&out);
    buf_cleanup(&q);
    searcher_close(&s);
    return rc ? cli_fail(&err) : CLI_OK;
}

/* ---------------------------------------------------------------- eval */

static const char eval_help[] =
    "usage: vericite eval --db DIR --queries FILE --qrels FILE [options]\n"
    "       vericite eval --run RUN --qrels FILE [--per-query] [--json]\n"
    "\n"
    "Rank documents for each judged query and print nDCG@10, Recall@100 and MRR@10 (documents\n"
    "ranked by their best passage), with the query latency. Queries without judgements are skipped.\n"
    "With --run, score a TREC run file instead (written by `search --trec`, Anserini, Pyserini or\n"
    "any other system) without searching: the queries of the run that have judgements count.\n"
    "\n"
    "options:\n"
    "  --queries FILE   BEIR queries JSONL or TSV id<TAB>text\n"
    "  --qrels FILE     judgements: BEIR TSV query-id<TAB>corpus-id<TAB>score (with its header\n"
    "                   line) or TREC qrels \"query-id 0 doc-id relevance\"; told apart by the\n"
    "                   number of fields\n"
    "  --run RUN        a TREC run \"query-id Q0 doc-id rank score tag\" to score (no --db needed)\n"
    "  --mode M         auto (default), bm25, dense, hybrid or fts5 (and the fusion options of\n"
    "                   search: --fusion --alpha --rrf-k --depth --nprobe; --rerank NAME,\n"
    "                   --rerank-url URL, --rerank-depth N re-score the top passages)\n"
    "  --per-query      also print each query's figures\n"
    "  --json           print the figures as one JSON object\n"
    "  --k1 X --b Y --title-weight W   BM25 parameters, as for search\n"
    "  --exhaustive     BM25 without pruning, as for search (same figures; compare the latency)\n"
    "  --backend B      local, or shards other than the recorded ones, as for search\n"
    "\n"
    "A warning names how many of the judged documents the index lacks (all of them: the ids of\n"
    "the qrels and of the corpus do not match, and every figure is 0).\n"
    "\n"
    "examples:\n"
    "  vericite eval --db scifact-idx --queries ../shared/data/scifact/queries_train.jsonl \\\n"
    "                --qrels ../shared/data/scifact/qrels_train.tsv\n"
    "  vericite eval --run bm25.run --qrels qrels.test.txt --per-query\n";

struct eval_run {
    struct rank_args *a;
    struct idx *ix;
    struct ret *r;
    struct ret_reranker *rr; /* NULL without --rerank */
    struct ret_qrels *qrels;
    struct ret_hit *hits;    /* (rank_cap) */
    char **ids;              /* (100) */
    struct err *err;
    double sum_ndcg, sum_recall, sum_mrr, sum_r1, sum_r5;
    double *lat;
    long n;
    size_t lat_cap;
    long judged, missing; /* documents judged relevant; of them, not in the index */
    long degraded;        /* queries answered by part of the backend's shards */
    struct buf warned;
};

/* Add one query's figures (and its latency, < 0 when none). */
static int eval_add(struct eval_run *e, const char *id, const char *text, const char *const *docs, int n,
                    double el)
{
    struct ret_metrics m;
    ret_eval_query(e->qrels, id, docs, n, &m);
    e->sum_ndcg += m.ndcg10;
    e->sum_recall += m.recall100;
    e->sum_mrr += m.mrr10;
    e->sum_r1 += m.recall1;
    e->sum_r5 += m.recall5;
    if (vec_grow((void **)&e->lat, &e->lat_cap, (size_t)e->n + 1, sizeof *e->lat))
        return err_set(e->err, ERR_NOMEM, "eval");
    e->lat[e->n++] = el;
    if (e->a->per_query && !e->a->json)
        printf("%-12s ndcg@10 %.4f  recall@100 %.4f  mrr@10 %.4f  %s\n", id, m.ndcg10, m.recall100, m.mrr10,
               text ? text : "");
    return 0;
}

static int eval_query_cb(void *ctx, const char *id, const char *text, long line)
{
    (void)line;
    struct eval_run *e = ctx;
    if (!ret_qrels_has(e->qrels, id)) return 0;
    int n = 0, rc;
    double t = cli_now();
    if ((rc = rank_query(e->r, e->rr, e->ix, e->a, text, e->hits, &n, e->err))) return rc;
    double el = cli_now() - t;
    if (idx_bk_warning(e->ix)) {
        e->degraded++;
        warn_backend(e->ix, id, &e->warned);
    }
    for (int i = 0; i < n; i++) {
        struct idx_passage p;
        if ((rc = idx_passage(e->ix, e->hits[i].pid, &p, e->err))) return rc;
        free(e->ids[i]);
        e->ids[i] = strdup(p.doc_id);
        if (!e->ids[i]) return err_set(e->err, ERR_NOMEM, "eval");
    }
    return eval_add(e, id, text, (const char *const *)e->ids, n, el);
}

static int judged_cb(void *ctx, const char *doc)
{
    struct eval_run *e = ctx;
    struct idx_doc d;
    int found = 0;
    int rc = idx_find_id(e->ix, doc, &d, &found, e->err);
    if (rc) return rc;
    e->judged++;
    e->missing += !found;
    return 0;
}

/* The judged documents the index lacks: a warning, since the figures mean nothing then. */
static int check_judged(struct eval_run *e)
{
    int rc = ret_qrels_docs(e->qrels, judged_cb, e);
    if (rc == ERR_NOMEM) return err_set(e->err, ERR_NOMEM, "eval");
    if (rc) return rc;
    if (e->missing && e->missing == e->judged)
        fprintf(stderr,
                "vericite eval: warning: none of the %ld document%s judged relevant in %s is in the index %s "
                "(do the qrels' ids match the corpus's _id?); every figure below is 0\n",
                e->judged, cli_s(e->judged), e->a->qrels, e->a->db);
    else if (e->missing)
        fprintf(stderr, "vericite eval: warning: %ld of the %ld document%s judged relevant in %s %s not in the index %s\n",
                e->missing, e->judged, cli_s(e->judged), e->a->qrels, e->missing == 1 ? "is" : "are", e->a->db);
    return ERR_OK;
}

/* eval --run: every query of the run that has judgements. */
static int eval_run_file(struct eval_run *e)
{
    struct ret_run *run = NULL;
    int rc = ret_run_load(&run, e->a->run, e->err);
    if (rc) return rc;
    long in_run = 0;
    for (int i = 0; i < ret_run_count(run) && !rc; i++) {
        const char *const *docs = NULL;
        int n = 0;
        const char *qid = ret_run_query(run, i, &docs, &n);
        if (!ret_qrels_has(e->qrels, qid)) continue;
        in_run++;
        rc = eval_add(e, qid, NULL, docs, n, -1);
    }
    ret_run_free(run);
    long judged = ret_qrels_count(e->qrels);
    if (!rc && in_run < judged)
        fprintf(stderr,
                "vericite eval: note: %ld of the %ld judged quer%s %s no line in %s and %s not counted (as trec_eval "
                "without -c)\n",
                judged - in_run, judged, judged == 1 ? "y" : "ies", judged - in_run == 1 ? "has" : "have", e->a->run,
                judged - in_run == 1 ? "is" : "are");
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void eval_print(struct eval_run *e)
{
    struct rank_args *a = e->a;
    int timed = !a->run;
    double p50 = 0, p99 = 0, sum = 0;
    if (timed) {
        if (e->n > 1) qsort(e->lat, (size_t)e->n, sizeof *e->lat, cmp_double);
        p50 = e->lat[e->n / 2] * 1e3;
        p99 = e->lat[(long)floor((e->n - 1) * 0.99)] * 1e3;
        for (long i = 0; i < e->n; i++) sum += e->lat[i];
    }
    if (a->json) {
        json_t *o = json_pack("{s:i, s:f, s:f, s:f, s:f, s:f}", "queries", (int)e->n, "recall@1", e->sum_r1 / e->n,
                              "recall@5", e->sum_r5 / e->n, "ndcg@10", e->sum_ndcg / e->n, "recall@100",
                              e->sum_recall / e->n, "mrr@10", e->sum_mrr / e->n);
        if (o && timed) {
            json_object_set_new(o, "mode", json_string(ret_mode_name(a->ro.mode)));
            json_object_set_new(o, "fusion", json_string(a->ro.fusion == RET_FUSION_RRF ? "rrf" : "interp"));
            json_object_set_new(o, "alpha", json_real(a->ro.alpha));
            json_object_set_new(o, "latency_p50_ms", json_real(p50));
            json_object_set_new(o, "latency_p99_ms", json_real(p99));
            json_object_set_new(o, "latency_mean_ms", json_real(sum / e->n * 1e3));
            if (e->degraded) json_object_set_new(o, "degraded_queries", json_integer(e->degraded));
        } else if (o) {
            json_object_set_new(o, "run", json_string(a->run));
        }
        if (o) json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
        return;
    }
    if (timed) {
        printf("mode        %s", ret_mode_name(a->ro.mode));
        if (a->ro.mode == RET_HYBRID)
            printf(" (%s, alpha %.2f)", a->ro.fusion == RET_FUSION_RRF ? "rrf" : "interp", a->ro.alpha);
        printf("\n");
    } else {
        printf("run         %s\n", a->run);
    }
    printf("queries     %ld\n", e->n);
    printf("nDCG@10     %.4f\n", e->sum_ndcg / e->n);
    printf("Recall@100  %.4f\n", e->sum_recall / e->n);
    printf("MRR@10      %.4f\n", e->sum_mrr / e->n);
    printf("Recall@1    %.4f\n", e->sum_r1 / e->n);
    printf("Recall@5    %.4f\n", e->sum_r5 / e->n);
    if (timed)
        printf("latency     p50 %.3f ms, p99 %.3f ms, mean %.3f ms (top 100 documents)\n", p50, p99, sum / e->n * 1e3);
}

int cmd_eval(int argc, char **argv)
{
    struct rank_args a = {0};
    int rc = parse_rank_args("eval", eval_help, argc, argv, &a);
    if (rc >= 0) return rc;
    if (!a.qrels) return cli_usage("eval", "--qrels FILE is required");
    if (!a.run && !a.queries) return cli_usage("eval", "--queries FILE (with --db DIR) or --run RUN is required");
    if (a.run && a.queries) return cli_usage("eval", "give --queries FILE or --run RUN, not both");
    a.ro.k = 100;
    a.ro.by_doc = 1;
    struct err err = {0};
    struct idx_opts io = {.readonly = 1};
    struct eval_run e = {.a = &a, .err = &err};
    e.hits = calloc((size_t)rank_cap(&a), sizeof *e.hits);
    e.ids = calloc(100, sizeof *e.ids);
    if (!e.hits || !e.ids) { rc = err_set(&err, ERR_NOMEM, "eval"); goto out; }
    if ((rc = ret_qrels_load(&e.qrels, a.qrels, &err))) goto out;
    if (a.db && (rc = idx_open(&e.ix, a.db, &io, &err))) goto out;
    if (e.ix && (rc = check_judged(&e))) goto out;
    if (a.run) {
        if ((rc = eval_run_file(&e))) goto out;
        if (e.n == 0) {
            rc = err_set(&err, ERR_ARG, "%s: no query of the run has judgements in %s (do the ids match?)", a.run, a.qrels);
            goto out;
        }
    } else {
        if ((rc = ret_new(&e.r, e.ix, &err))) goto out;
        if ((rc = open_reranker(&a, &e.rr, &err))) goto out;
        if ((rc = ret_resolve(e.r, &a.ro, &err)) || (rc = apply_nprobe(e.ix, &a, &err))) goto out;
        if ((rc = corpus_queries_read(a.queries, eval_query_cb, &e, &err))) goto out;
        if (e.n == 0) {
            rc = err_set(&err, ERR_ARG, "%s: no query has judgements in %s (do the ids match?)", a.queries, a.qrels);
            goto out;
        }
        if (e.degraded)
            fprintf(stderr, "vericite: warning: %ld of %ld queries were answered by part of the shards only\n",
                    e.degraded, e.n);
    }
    eval_print(&e);
out:
    if (e.ids)
        for (int i = 0; i < 100; i++) free(e.ids[i]);
    free(e.ids);
    free(e.hits);
    free(e.lat);
    buf_cleanup(&e.warned);
    ret_reranker_free(e.rr);
    ret_free(e.r);
    idx_close(e.ix);
    ret_qrels_free(e.qrels);
    return rc ? cli_fail(&err) : CLI_OK;
}
