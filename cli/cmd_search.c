/* cmd_search.c - `vericite search` (one query or a batch) and `vericite eval` (ranking metrics
 * against BEIR qrels, with query latency). */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "buf.h"
#include "cli.h"
#include "corpus/corpus.h"
#include "index/idx.h"
#include "retrieve/ret.h"

#define SEARCH_MAX_K 10000

/* Options shared by search and eval. */
struct rank_args {
    const char *db, *queries, *qrels;
    struct ret_opts ro;
    int json, per_query, nprobe, ef_search;
};

/* Apply search-time vector parameters once the index is open. */
static int apply_nprobe(struct idx *ix, const struct rank_args *a, struct err *err)
{
    if (a->ro.mode == RET_BM25 || a->ro.mode == RET_FTS5) return ERR_OK;
    int rc = a->nprobe ? idx_vec_set_param(ix, "nprobe", a->nprobe, err) : ERR_OK;
    if (!rc && a->ef_search) rc = idx_vec_set_param(ix, "efSearch", a->ef_search, err);
    return rc;
}

enum { OPT_DB = 1000, OPT_MODE, OPT_BYDOC, OPT_JSON, OPT_QUERIES, OPT_QRELS, OPT_K1, OPT_B, OPT_TW, OPT_PERQ,
       OPT_FUSION, OPT_ALPHA, OPT_RRFK, OPT_DEPTH, OPT_NPROBE, OPT_PRF, OPT_PRF_TERMS, OPT_PROX, OPT_EF };

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
    {"ef-search", required_argument, 0, OPT_EF},
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
        case 'h': fputs(help, stdout); return CLI_OK;
        default: return cli_bad_option(cmd, argv, "k:h", rank_longopts);
        }
    }
    if (a->ro.title_weight == 0) a->ro.title_weight = RET_DEFAULT_TITLE_WEIGHT;
    if (!a->db) return cli_usage(cmd, "--db DIR is required");
    return -1;
}

/* ---------------------------------------------------------------- search */

static const char search_help[] =
    "usage: vericite search --db DIR [options] QUERY...\n"
    "       vericite search --db DIR [options] --queries FILE\n"
    "\n"
    "Find the passages that best match a claim. The query is plain text: quotes, hyphens,\n"
    "colons, parentheses and words like AND/NOT/NEAR are just words.\n"
    "\n"
    "options:\n"
    "  --db DIR          index folder (required)\n"
    "  -k N              number of hits (default 10)\n"
    "  --mode M          auto (default): hybrid when the index's vectors come from a neural\n"
    "                    (http) embedder, else bm25 (static vectors do not beat BM25: make bench);\n"
    "                    bm25: vericite's BM25 over its term postings, with title weighting;\n"
    "                    dense: nearest passage vectors (FAISS); hybrid: both fused;\n"
    "                    fts5: SQLite FTS5's bm25() over the same tokens (a baseline)\n"
    "  --fusion F        hybrid: interp (default; over the BM25 candidates) or rrf\n"
    "  --alpha A         interp: weight of the dense score, 0..1 (default 0.2 with static\n"
    "                    vectors, 0.5 with an http embedder)\n"
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
    "  --k1 X --b Y      BM25 parameters (default 0.9 and 0.4)\n"
    "  --title-weight W  a title word counts W body words (default 1)\n"
    "\n"
    "examples:\n"
    "  vericite search --db scifact-idx \"Vitamin D deficiency increases the risk of MS\"\n"
    "  vericite search --db scifact-idx --by-doc -k 5 --json \"BRCA1 mutations (breast cancer)\"\n"
    "  vericite search --db scifact-idx --queries claims.jsonl --json > hits.jsonl\n";

struct search_run {
    struct rank_args *a;
    struct idx *ix;
    struct ret *r;
    struct ret_hit *hits;
    struct err *err;
    long nq;
};

static int print_hits(struct search_run *s, const char *id, const char *query)
{
    int n = 0, rc;
    if ((rc = ret_search(s->r, query, &s->a->ro, s->hits, &n, s->err))) return rc;
    s->nq++;
    if (s->a->json) {
        json_t *o = NULL;
        if ((rc = cli_hits_json(s->ix, id, query, s->hits, n, &o, s->err))) return rc;
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
        return ERR_OK;
    }
    printf("%s%s%s\n", id ? id : "", id ? ": " : "", query);
    if (n == 0) {
        printf("  (no passage matches any word of the query)\n\n");
        return ERR_OK;
    }
    printf("  %4s  %7s  %-14s  %-32s  %s\n", "rank", "score", "doc", "title", "passage");
    for (int i = 0; i < n; i++) {
        struct idx_passage p;
        if ((rc = idx_passage(s->ix, s->hits[i].pid, &p, s->err))) return rc;
        printf("  %4d  %7.3f  ", i + 1, s->hits[i].score);
        cli_put_cell(stdout, p.doc_id, 14, 1);
        fputs("  ", stdout);
        cli_put_cell(stdout, p.title, 32, 1);
        fputs("  ", stdout);
        cli_put_cell(stdout, p.text, 60, 0);
        fputc('\n', stdout);
        if (p.url[0]) printf("  %4s  %7s  %s\n", "", "", p.url);
    }
    fputc('\n', stdout);
    return ERR_OK;
}

static int search_query_cb(void *ctx, const char *id, const char *text, long line)
{
    struct search_run *s = ctx;
    int rc = print_hits(s, id, text);
    if (rc) err_prefix(s->err, "%s:%ld", s->a->queries, line);
    return rc;
}

int cmd_search(int argc, char **argv)
{
    struct rank_args a = {0};
    int rc = parse_rank_args("search", search_help, argc, argv, &a);
    if (rc >= 0) return rc;
    if (!a.queries && optind >= argc) return cli_usage("search", "give a QUERY or --queries FILE");
    if (a.queries && optind < argc) return cli_usage("search", "give either a QUERY or --queries FILE, not both");
    struct err err = {0};
    struct idx *ix = NULL;
    struct ret *r = NULL;
    struct buf q = {0};
    struct idx_opts io = {.readonly = 1};
    struct search_run s = {&a, NULL, NULL, NULL, &err, 0};
    if ((rc = idx_open(&ix, a.db, &io, &err))) goto out;
    if ((rc = ret_new(&r, ix, &err))) goto out;
    if ((rc = ret_resolve(r, &a.ro, &err)) || (rc = apply_nprobe(ix, &a, &err))) goto out;
    s.ix = ix;
    s.r = r;
    s.hits = calloc((size_t)a.ro.k, sizeof *s.hits);
    if (!s.hits) { rc = err_set(&err, ERR_NOMEM, "search"); goto out; }
    if (a.queries) {
        rc = corpus_queries_read(a.queries, search_query_cb, &s, &err);
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
        rc = print_hits(&s, NULL, q.data);
    }
out:
    free(s.hits);
    buf_cleanup(&q);
    ret_free(r);
    idx_close(ix);
    return rc ? cli_fail(&err) : CLI_OK;
}

/* ---------------------------------------------------------------- eval */

static const char eval_help[] =
    "usage: vericite eval --db DIR --queries FILE --qrels FILE [options]\n"
    "\n"
    "Rank documents for each judged query and print nDCG@10, Recall@100 and MRR@10 (documents\n"
    "ranked by their best passage), with the query latency. Queries without judgements are skipped.\n"
    "\n"
    "options:\n"
    "  --queries FILE   BEIR queries JSONL or TSV id<TAB>text\n"
    "  --qrels FILE     BEIR qrels TSV: query-id<TAB>corpus-id<TAB>score, with a header line\n"
    "  --mode M         auto (default), bm25, dense, hybrid or fts5 (and the fusion options of\n"
    "                   search: --fusion --alpha --rrf-k --depth --nprobe)\n"
    "  --per-query      also print each query's figures\n"
    "  --json           print the figures as one JSON object\n"
    "  --k1 X --b Y --title-weight W   BM25 parameters, as for search\n"
    "\n"
    "example:\n"
    "  vericite eval --db scifact-idx --queries ../shared/data/scifact/queries_train.jsonl \\\n"
    "                --qrels ../shared/data/scifact/qrels_train.tsv\n";

struct eval_run {
    struct rank_args *a;
    struct idx *ix;
    struct ret *r;
    struct ret_qrels *qrels;
    struct ret_hit *hits;
    char **ids;
    struct err *err;
    double sum_ndcg, sum_recall, sum_mrr, sum_r1, sum_r5;
    double *lat;
    long n, lat_cap;
};

static int eval_query_cb(void *ctx, const char *id, const char *text, long line)
{
    (void)line;
    struct eval_run *e = ctx;
    if (!ret_qrels_has(e->qrels, id)) return 0;
    int n = 0, rc;
    double t = cli_now();
    if ((rc = ret_search(e->r, text, &e->a->ro, e->hits, &n, e->err))) return rc;
    double el = cli_now() - t;
    for (int i = 0; i < n; i++) {
        struct idx_passage p;
        if ((rc = idx_passage(e->ix, e->hits[i].pid, &p, e->err))) return rc;
        free(e->ids[i]);
        e->ids[i] = strdup(p.doc_id);
        if (!e->ids[i]) return err_set(e->err, ERR_NOMEM, "eval");
    }
    struct ret_metrics m;
    ret_eval_query(e->qrels, id, (const char *const *)e->ids, n, &m);
    e->sum_ndcg += m.ndcg10;
    e->sum_recall += m.recall100;
    e->sum_mrr += m.mrr10;
    e->sum_r1 += m.recall1;
    e->sum_r5 += m.recall5;
    if (e->n == e->lat_cap) {
        long cap = e->lat_cap ? e->lat_cap * 2 : 1024;
        double *l = realloc(e->lat, (size_t)cap * sizeof *l);
        if (!l) return err_set(e->err, ERR_NOMEM, "eval");
        e->lat = l;
        e->lat_cap = cap;
    }
    e->lat[e->n++] = el;
    if (e->a->per_query && !e->a->json)
        printf("%-12s ndcg@10 %.4f  recall@100 %.4f  mrr@10 %.4f  %s\n", id, m.ndcg10, m.recall100,
               m.mrr10, text);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cmd_eval(int argc, char **argv)
{
    struct rank_args a = {0};
    int rc = parse_rank_args("eval", eval_help, argc, argv, &a);
    if (rc >= 0) return rc;
    if (!a.queries || !a.qrels) return cli_usage("eval", "--queries FILE and --qrels FILE are required");
    a.ro.k = 100;
    a.ro.by_doc = 1;
    struct err err = {0};
    struct idx_opts io = {.readonly = 1};
    struct eval_run e = {.a = &a, .err = &err};
    e.hits = calloc(100, sizeof *e.hits);
    e.ids = calloc(100, sizeof *e.ids);
    if (!e.hits || !e.ids) { rc = err_set(&err, ERR_NOMEM, "eval"); goto out; }
    if ((rc = ret_qrels_load(&e.qrels, a.qrels, &err))) goto out;
    if ((rc = idx_open(&e.ix, a.db, &io, &err))) goto out;
    if ((rc = ret_new(&e.r, e.ix, &err))) goto out;
    if ((rc = ret_resolve(e.r, &a.ro, &err)) || (rc = apply_nprobe(e.ix, &a, &err))) goto out;
    if ((rc = corpus_queries_read(a.queries, eval_query_cb, &e, &err))) goto out;
    if (e.n == 0) {
        rc = err_set(&err, ERR_ARG, "%s: no query has judgements in %s (do the ids match?)", a.queries, a.qrels);
        goto out;
    }
    qsort(e.lat, (size_t)e.n, sizeof *e.lat, cmp_double);
    double p50 = e.lat[e.n / 2] * 1e3, p99 = e.lat[(long)floor((e.n - 1) * 0.99)] * 1e3;
    double sum = 0;
    for (long i = 0; i < e.n; i++) sum += e.lat[i];
    if (a.json) {
        json_t *o = json_pack("{s:s, s:s, s:f, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "mode",
                              ret_mode_name(a.ro.mode), "fusion",
                              a.ro.fusion == RET_FUSION_RRF ? "rrf" : "interp", "alpha", a.ro.alpha,
                              "queries", (int)e.n, "recall@1", e.sum_r1 / e.n, "recall@5", e.sum_r5 / e.n,
                              "ndcg@10",
                              e.sum_ndcg / e.n, "recall@100", e.sum_recall / e.n, "mrr@10",
                              e.sum_mrr / e.n, "latency_p50_ms", p50, "latency_p99_ms", p99,
                              "latency_mean_ms", sum / e.n * 1e3);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("mode        %s", ret_mode_name(a.ro.mode));
        if (a.ro.mode == RET_HYBRID)
            printf(" (%s, alpha %.2f)", a.ro.fusion == RET_FUSION_RRF ? "rrf" : "interp", a.ro.alpha);
        printf("\n");
        printf("queries     %ld\n", e.n);
        printf("nDCG@10     %.4f\n", e.sum_ndcg / e.n);
        printf("Recall@100  %.4f\n", e.sum_recall / e.n);
        printf("MRR@10      %.4f\n", e.sum_mrr / e.n);
        printf("Recall@1    %.4f\n", e.sum_r1 / e.n);
        printf("Recall@5    %.4f\n", e.sum_r5 / e.n);
        printf("latency     p50 %.3f ms, p99 %.3f ms, mean %.3f ms (top 100 documents)\n", p50, p99, sum / e.n * 1e3);
    }
out:
    if (e.ids)
        for (int i = 0; i < 100; i++) free(e.ids[i]);
    free(e.ids);
    free(e.hits);
    free(e.lat);
    ret_free(e.r);
    idx_close(e.ix);
    ret_qrels_free(e.qrels);
    return rc ? cli_fail(&err) : CLI_OK;
}
