/* cmd_index.c - `vericite index`, `remove` and `stats`: build and inspect an index. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "file.h"
#include "corpus/corpus.h"
#include "index/idx.h"
#include "index/idx_bk.h"

static const char index_help[] =
    "usage: vericite index --db DIR [options] INPUT...\n"
    "\n"
    "Read documents from each INPUT, split them into passages and add them to the index in DIR\n"
    "(created when missing). Running it again adds new documents, replaces changed ones (same id,\n"
    "different content) and skips unchanged ones, so re-running after an interruption resumes.\n"
    "\n"
    "INPUT is detected by its kind (or set with --format):\n"
    "  FILE.jsonl        JSON Lines / BEIR corpus: {\"_id\" or \"id\", \"title\", \"text\" or \"contents\",\n"
    "                    \"url\"}; SciFact-style \"abstract\" sentence arrays are joined\n"
    "  FOLDER/           walked recursively: .txt .md .html .htm .wiki (HTML reduced to its text,\n"
    "                    its <title> as title); the id is the path relative to FOLDER\n"
    "  DUMP.xml[.bz2]    MediaWiki XML export or dump, streamed page by page (articles only)\n"
    "\n"
    "options:\n"
    "  --db DIR              index folder (required)\n"
    "  --format F            auto (default), jsonl, dir, mwxml\n"
    "  --url-prefix URL      folders: each document's url is URL + its relative path\n"
    "  --passage-words N     words per passage for a new index (default 100)\n"
    "  --skip-bad            skip malformed records (counted in the summary) instead of stopping\n"
    "  --commit-every N      commit every N documents (default: one transaction for the run, so a\n"
    "                        bad record leaves the index unchanged; with N, work already committed\n"
    "                        stays and a re-run resumes after it). Inputs of 128 MiB and more\n"
    "                        commit every 32 MiB of text unless N is given (0: one transaction)\n"
    "  --no-wait             when another run writes this index, fail at once (exit 1) instead\n"
    "                        of waiting for it (one writer at a time holds DIR/index.lock)\n"
    "  -q, --quiet           no progress and no summary\n"
    "\n"
    "dense vectors (recorded in the index; queries always use the same embedder):\n"
    "  --embedder E          static (default for a new index: GloVe word vectors with SIF\n"
    "                        weights, offline), http (an OpenAI-compatible /v1/embeddings\n"
    "                        service), model:NAME (an encoder from `vericite model import`, run\n"
    "                        in process; NAME or a .vcnn path), none (BM25 only)\n"
    "  --query-prefix P      model: text put before each query (default by the model's name:\n"
    "                        e5 \"query: \", bge its query instruction, else none; '' for none)\n"
    "  --passage-prefix P    model: text put before each passage (e5 \"passage: \", else none)\n"
    "  --threads N           model: threads that embed passages (default 1)\n"
    "  --vectors FILE        static: a vectors file from `vericite model import` (default:\n"
    "                        ~/.cache/vericite/glove-100d.vcvec, installed by `make model`)\n"
    "  --embed-url URL       http: the endpoint, e.g. http://127.0.0.1:11434/v1/embeddings\n"
    "  --embed-model NAME    http: the model name (API key from $VERICITE_EMBED_KEY)\n"
    "  --vector-index KIND   auto (default: exact below 100,000 vectors, IVF+SQ8 above), flat\n"
    "                        (exact), ivf (IVF+SQ8), ivfpq (IVF + product quantizer, dim/4\n"
    "                        bytes a vector: for 384/768-dimension neural vectors at scale),\n"
    "                        opq-ivfpq (the same after an OPQ rotation: slower to train)\n"
    "  --recall R            IVF: search with the fewest lists (nprobe) that reach recall@10 R\n"
    "                        against exact search, measured when vectors.faiss is built (e.g.\n"
    "                        0.95; default: nprobe 64); --recall 0 goes back to the default\n"
    "  --faiss FACTORY       a FAISS factory string instead of --vector-index (e.g. IVF4096,PQ48)\n"
    "  --reembed             embed every passage again (to switch embedder or vectors)\n"
    "  --sync-vectors        only bring vectors.faiss in step with the database (no INPUT needed)\n"
    "  --optimize            merge away the postings of removed and replaced documents (their\n"
    "                        tombstones) now; runs also merge once tombstones pass 20%% of the\n"
    "                        passages. No INPUT needed\n"
    "\n"
    "BM25 on a distributed engine (recorded in the index; search, eval, audit and serve then\n"
    "query it; documents, passages and vectors stay here):\n"
    "  --backend B           xapian:HOST:PORT,HOST:PORT,... : Xapian shards, one per address in\n"
    "                        this order, each `xapian-tcpsrv --writable --port PORT DIR`; every\n"
    "                        run (and remove) sends the passages it changed to their shard after\n"
    "                        each commit. local: back to the index's own postings only\n"
    "  --backend-timeout MS  remote timeout per operation (default 5000): a search whose shard\n"
    "                        does not answer in time answers from the others, with a warning\n"
    "  --sync-backend        only send what the shards lack (after a failed run; no INPUT)\n"
    "\n"
    "examples:\n"
    "  vericite index --db scifact-idx ../shared/data/scifact/corpus.jsonl\n"
    "  vericite index --db docs-idx --url-prefix https://www.sqlite.org/ /usr/share/doc/sqlite3/\n"
    "  vericite index --db wiki-idx enwiki-latest-pages-articles1.xml.bz2 --commit-every 10000\n"
    "  vericite index --db sf-idx --backend xapian:127.0.0.1:7001,127.0.0.1:7002 corpus.jsonl\n";

/* idx_lock_writer's wait callback: say who we wait for (stderr, also with --quiet). */
static void lock_wait_msg(void *ctx, long pid, const char *lockfile)
{
    const char *db = ctx;
    if (pid) fprintf(stderr, "vericite: %s: waiting for the writer PID %ld on %s\n", db, pid, lockfile);
    else fprintf(stderr, "vericite: %s: waiting for another writer on %s\n", db, lockfile);
}

/* Open `db` read-write (created per `io`) holding its writer lock (waiting unless no_wait). */
static int open_writer(struct idx **ix, const char *db, const struct idx_opts *io, int no_wait,
                       struct err *err)
{
    struct idx_opts o = {0};
    if (io) o = *io;
    o.writer = 1;
    o.no_wait = no_wait;
    o.on_wait = lock_wait_msg;
    o.wait_ctx = (void *)db;
    return idx_open(ix, db, &o, err);
}

static void embed_progress(void *ctx, long done, long total)
{
    cli_progress_update(ctx, "passages embedded", done, total > 0 ? (double)done / (double)total : 0);
}

static void backend_progress(void *ctx, long done, long total)
{
    cli_progress_update(ctx, "passages sent to shards", done,
                        total > 0 ? (double)done / (double)total : 0);
}

/* What `vericite index` was asked to do (its options). */
struct index_args {
    const char *db, *backend, *model_ref;
    struct corpus_opts co;
    struct idx_opts io;
    struct idx_vec_opts vo;
    int commit_every, quiet, sync_only, backend_timeout, no_wait, optimize;
};

static const struct option index_longopts[] = {
    {"db", required_argument, 0, 'd'},        {"format", required_argument, 0, 'f'},
    {"url-prefix", required_argument, 0, 'u'}, {"passage-words", required_argument, 0, 'w'},
    {"skip-bad", no_argument, 0, 's'},         {"commit-every", required_argument, 0, 'c'},
    {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
    {"embedder", required_argument, 0, 'E'},   {"vectors", required_argument, 0, 'V'},
    {"embed-url", required_argument, 0, 'U'},  {"embed-model", required_argument, 0, 'M'},
    {"faiss", required_argument, 0, 'F'},      {"reembed", no_argument, 0, 'R'},
    {"sync-vectors", no_argument, 0, 'S'},     {"backend", required_argument, 0, 'B'},
    {"backend-timeout", required_argument, 0, 'T'}, {"sync-backend", no_argument, 0, 'Y'},
    {"query-prefix", required_argument, 0, 'Q'}, {"passage-prefix", required_argument, 0, 'P'},
    {"threads", required_argument, 0, 'j'},
    {"vector-index", required_argument, 0, 'I'}, {"recall", required_argument, 0, 'r'},
    {"no-wait", no_argument, 0, 'W'},         {"optimize", no_argument, 0, 'O'},
    {0, 0, 0, 0}};

/* One option of `index`. Returns -1 to go on, else the exit code. */
static int index_option(int c, char **argv, struct index_args *a)
{
    switch (c) {
    case 'd': a->db = optarg; break;
    case 'f':
        if (!strcmp(optarg, "auto")) a->co.format = CORPUS_AUTO;
        else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "beir")) a->co.format = CORPUS_JSONL;
        else if (!strcmp(optarg, "dir")) a->co.format = CORPUS_DIR;
        else if (!strcmp(optarg, "mwxml") || !strcmp(optarg, "xml")) a->co.format = CORPUS_MWXML;
        else return cli_usage("index", "unknown --format '%s' (auto, jsonl, dir, mwxml)", optarg);
        break;
    case 'u': a->co.url_prefix = optarg; break;
    case 'w': return cli_int("index", "--passage-words", optarg, 10, 10000, &a->io.passage_words) ? CLI_USAGE : -1;
    case 's': a->co.skip_bad = 1; break;
    case 'c': return cli_int("index", "--commit-every", optarg, 0, 100000000, &a->commit_every) ? CLI_USAGE : -1;
    case 'q': a->quiet = 1; break;
    case 'E':
        if (!strncmp(optarg, "model:", 6)) {
            if (!optarg[6]) return cli_usage("index", "--embedder model:NAME needs a model");
            a->vo.embedder = "model";
            a->model_ref = optarg + 6;
            break;
        }
        if (strcmp(optarg, "static") && strcmp(optarg, "http") && strcmp(optarg, "none"))
            return cli_usage("index", "unknown --embedder '%s' (static, http, model:NAME, none)", optarg);
        a->vo.embedder = optarg;
        break;
    case 'Q': a->vo.query_prefix = optarg; break;
    case 'P': a->vo.passage_prefix = optarg; break;
    case 'j': return cli_int("index", "--threads", optarg, 1, 64, &a->vo.threads) ? CLI_USAGE : -1;
    case 'V': a->vo.vectors = optarg; break;
    case 'U': a->vo.url = optarg; break;
    case 'M': a->vo.model = optarg; break;
    case 'F': a->vo.faiss = optarg; break;
    case 'I':
        if (strcmp(optarg, "auto") && strcmp(optarg, "flat") && strcmp(optarg, "ivf") && strcmp(optarg, "ivfpq") &&
            strcmp(optarg, "opq-ivfpq"))
            return cli_usage("index", "unknown --vector-index '%s' (auto, flat, ivf, ivfpq, opq-ivfpq)", optarg);
        a->vo.vector_index = optarg;
        break;
    case 'r': {
        char *end = NULL;
        double r = strtod(optarg, &end);
        if (!end || *end || !(r >= 0 && r <= 1))
            return cli_usage("index", "--recall '%s': give a number from 0 to 1 (e.g. 0.95)", optarg);
        a->vo.recall = r > 0 ? r : -1; /* 0: back to the default nprobe */
        break;
    }
    case 'R': a->vo.reembed = 1; break;
    case 'S': a->sync_only = 1, a->vo.full_scan = 1; break;
    case 'B': a->backend = optarg; break;
    case 'T':
        return cli_int("index", "--backend-timeout", optarg, 1, 3600000, &a->backend_timeout) ? CLI_USAGE : -1;
    case 'Y': a->sync_only = 1; break;
    case 'W': a->no_wait = 1; break;
    case 'O': a->optimize = a->sync_only = 1; break;
    case 'h': fputs(index_help, stdout); return CLI_OK;
    default: return cli_bad_option("index", argv, "qh", index_longopts);
    }
    return -1;
}

/* Counters and state of one `index` run. */
struct index_run {
    long added, replaced, unchanged, skipped, since_commit, docs;
    uint64_t input_bytes, batch_text, text_since;
    int shards_behind;
    struct cli_progress prog;
};

/* Read every input into the open transaction of ix, committing a batch (vectors and shards
 * brought in step) every commit_every documents or batch_text bytes of text. */
static int index_inputs(struct idx *ix, struct index_args *a, char **inputs, int n, struct index_run *u,
                        struct err *err)
{
    struct corpus_reader *rd = NULL;
    int rc = ERR_OK;
    for (int i = 0; i < n && !rc; i++) {
        if ((rc = corpus_open(&rd, inputs[i], &a->co, err))) break;
        long docs_before = u->docs;
        for (;;) {
            struct corpus_doc d;
            int has = 0, res = 0;
            if ((rc = corpus_next(rd, &d, &has, err)) || !has) break;
            if ((rc = idx_add(ix, &d, &res, err))) {
                err_prefix(err, "%s:%ld: document '%s'", d.source, d.line, d.id);
                break;
            }
            u->docs++;
            u->added += res == IDX_ADDED;
            u->replaced += res == IDX_REPLACED;
            u->unchanged += res == IDX_UNCHANGED;
            u->text_since += d.text_len;
            if ((a->commit_every && ++u->since_commit >= a->commit_every) ||
                (u->batch_text && u->text_since >= u->batch_text)) {
                if ((rc = idx_vec_sync(ix, NULL, NULL, err)) || (rc = idx_commit(ix, err))) break;
                u->shards_behind = 1; /* the batch is committed; its passages go to the shards now */
                if ((rc = idx_bk_sync(ix, NULL, NULL, NULL, err))) break;
                u->shards_behind = 0;
                if ((rc = idx_begin(ix, err))) break;
                u->since_commit = 0;
                u->text_since = 0;
            }
            uint64_t done = 0, total = 0;
            corpus_progress(rd, &done, &total);
            cli_progress_update(&u->prog, "documents", u->docs, total ? (double)done / (double)total : 0);
        }
        if (!rc && u->docs == docs_before && corpus_skipped(rd, NULL) == 0)
            rc = err_set(err, ERR_PARSE, "%s: no documents in this input (empty file or folder?)", inputs[i]);
        if (!rc) {
            u->skipped += corpus_skipped(rd, NULL);
            const char *first = NULL;
            if (corpus_skipped(rd, &first) > 0 && first && !a->quiet)
                fprintf(stderr, "vericite: skipped %ld bad record(s) in %s; first: %s\n", corpus_skipped(rd, NULL),
                        inputs[i], first);
        }
        corpus_close(rd);
        rd = NULL;
    }
    return rc;
}

int cmd_index(int argc, char **argv)
{
    struct index_args a = {.io = {.create = 1}, .commit_every = -1};
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", index_longopts, NULL)) != -1)
        if ((rc = index_option(c, argv, &a)) >= 0) return rc;
    const char *db = a.db;
    if (!db) return cli_usage("index", "--db DIR is required");
    if (a.model_ref) {
        if (a.vo.model) return cli_usage("index", "--embed-model is for --embedder http, not model:NAME");
        a.vo.model = a.model_ref;
    }
    if (optind >= argc && !a.sync_only && !a.vo.reembed && !a.backend && !a.backend_timeout)
        return cli_usage("index", "give at least one INPUT (file or folder)");

    struct err err = {0};
    struct idx *ix = NULL;
    struct corpus_reader *rd = NULL;
    struct index_run u = {0};
    int committed = 0;
    double t0 = cli_now();
    cli_progress_init(&u.prog);
    if (a.quiet) u.prog.tty = 0;

    /* open every input first, so a missing path fails before any work */
    for (int i = optind; i < argc; i++) {
        if ((rc = corpus_open(&rd, argv[i], &a.co, &err))) goto fail;
        uint64_t done = 0, total = 0;
        corpus_progress(rd, &done, &total);
        u.input_bytes += total;
        corpus_close(rd);
        rd = NULL;
    }
    /* big inputs commit in batches of about batch_text bytes of text, so the WAL (and the disk
     * at its peak) stays bounded; a re-run resumes after the last batch */
    if (a.commit_every < 0 && (u.batch_text = idx_auto_commit_text(u.input_bytes)) > 0 && !a.quiet)
        fprintf(stderr, "vericite: %.1f GiB of input: committing every %llu MiB of text "
                        "(--commit-every N to choose, 0 for one transaction)\n",
                u.input_bytes / 1073741824.0, (unsigned long long)(u.batch_text >> 20));
    if (a.commit_every < 0) a.commit_every = 0;
    if ((rc = file_mkparents(db, &err))) goto fail; /* --db a/b/c: a/ and a/b/ first */
    if ((rc = open_writer(&ix, db, &a.io, a.no_wait, &err))) goto fail;
    if ((rc = idx_begin(ix, &err))) goto fail;
    if ((rc = idx_vec_configure(ix, &a.vo, &err))) goto fail;
    if ((a.backend || a.backend_timeout) && (rc = idx_bk_configure(ix, a.backend, a.backend_timeout, &err)))
        goto fail;
    if ((rc = index_inputs(ix, &a, argv + optind, argc - optind, &u, &err))) goto fail;
    cli_progress_end(&u.prog);
    int64_t merged = 0; /* tombstones merged away: on demand, or once they are too many */
    if ((rc = idx_optimize(ix, a.optimize ? 0 : IDX_TOMB_MERGE_SHARE, &merged, &err))) goto fail;
    double tv = cli_now();
    if ((rc = idx_vec_sync(ix, embed_progress, &u.prog, &err))) goto fail;
    if ((rc = idx_commit(ix, &err))) goto fail;
    cli_progress_end(&u.prog);
    committed = 1;
    if ((rc = idx_vec_publish(ix, &err))) goto fail;
    tv = cli_now() - tv;
    double tb = cli_now();
    struct idx_bk_sync_stats bs;
    u.shards_behind = 1;
    if ((rc = idx_bk_sync(ix, backend_progress, &u.prog, &bs, &err))) goto fail;
    u.shards_behind = 0;
    cli_progress_end(&u.prog);
    tb = cli_now() - tb;
    if (!a.quiet) {
        struct idx_stats st;
        double el = cli_now() - t0;
        if (idx_stats(ix, &st, &err) == ERR_OK)
            fprintf(stderr,
                    "indexed %ld document%s in %.2f s (%.0f docs/s; vectors %.2f s): %ld added, "
                    "%ld replaced, %ld unchanged, %ld skipped; index %s now has %lld document%s, "
                    "%lld passage%s\n",
                    u.docs, cli_s(u.docs), el, el > 0 ? u.docs / el : 0.0, tv, u.added, u.replaced, u.unchanged,
                    u.skipped, db, (long long)st.docs, cli_s(st.docs), (long long)st.passages, cli_s(st.passages));
        if (merged > 0)
            fprintf(stderr, "merged the postings of %lld removed passage%s\n", (long long)merged, cli_s(merged));
        if (idx_bk_enabled(ix))
            fprintf(stderr,
                    "backend: %lld passages sent, %lld removals, %lld found missing on a shard "
                    "(%.2f s)\n",
                    (long long)bs.sent, (long long)bs.removed, (long long)bs.requeued, tb);
    }
    idx_close(ix);
    return CLI_OK;
fail:
    cli_progress_end(&u.prog);
    corpus_close(rd);
    idx_close(ix); /* rolls back the open transaction */
    cli_fail(&err);
    if (u.shards_behind && !a.quiet)
        fprintf(stderr, "vericite: the documents were committed; the shards lack some of them: run "
                        "vericite index --db %s --sync-backend once they answer\n", db);
    else if (committed && !a.quiet)
        fprintf(stderr, "vericite: the documents were committed; %s/%s is out of step: run "
                        "vericite index --db %s --sync-vectors\n", db, IDX_VEC_FILE, db);
    else if (ix && !a.quiet)
        fprintf(stderr, "vericite: index %s left as it was before this run%s\n", db,
                a.commit_every || u.batch_text ? " (except batches already committed)" : "");
    return CLI_FAIL;
}

static const char remove_help[] =
    "usage: vericite remove --db DIR [--no-wait] ID...\n"
    "\n"
    "Delete documents (their passages, FTS5 rows and vectors, and their passages on the shards\n"
    "of a recorded --backend) by the ids they were indexed with. Their postings become\n"
    "tombstones, skipped by searches and merged away later (vericite index --optimize).\n"
    "All in one transaction. Exits 1 when an id is not in the index (nothing is removed then).\n"
    "Waits for another writer of the index to finish first (--no-wait: exit 1 instead).\n"
    "\n"
    "example:\n"
    "  vericite remove --db scifact-idx 4983 5836\n";

int cmd_remove(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, 0, 'd'}, {"no-wait", no_argument, 0, 'W'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *db = NULL;
    int c, no_wait = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'd') db = optarg;
        else if (c == 'W') no_wait = 1;
        else if (c == 'h') { fputs(remove_help, stdout); return CLI_OK; }
        else return cli_bad_option("remove", argv, "h", longopts);
    }
    if (!db) return cli_usage("remove", "--db DIR is required");
    if (optind >= argc) return cli_usage("remove", "give at least one document ID");
    struct err err = {0};
    struct idx *ix = NULL;
    int rc = open_writer(&ix, db, NULL, no_wait, &err);
    if (!rc) rc = idx_begin(ix, &err);
    for (int i = optind; i < argc && !rc; i++) {
        int found = 0;
        rc = idx_remove(ix, argv[i], &found, &err);
        if (!rc && !found) rc = err_set(&err, ERR_NOTFOUND, "%s: no document with id '%s' (nothing removed)", db, argv[i]);
    }
    if (!rc) rc = idx_optimize(ix, IDX_TOMB_MERGE_SHARE, NULL, &err);
    if (!rc) rc = idx_commit(ix, &err);
    if (!rc) rc = idx_vec_publish(ix, &err);
    int committed = !rc;
    if (!rc) rc = idx_bk_sync(ix, NULL, NULL, NULL, &err);
    idx_close(ix);
    if (rc) {
        cli_fail(&err);
        if (committed)
            fprintf(stderr,
                    "vericite: removed from %s; the shards still hold them: run vericite index "
                    "--db %s --sync-backend once they answer\n",
                    db, db);
        return CLI_FAIL;
    }
    fprintf(stderr, "removed %d document%s from %s\n", argc - optind, cli_s(argc - optind), db);
    return CLI_OK;
}

static const char stats_help[] =
    "usage: vericite stats --db DIR [--json]\n"
    "\n"
    "Print the index's counts, sizes and settings: documents, passages, terms, the database and\n"
    "postings sizes, the tokenizer, the embedder, whether vectors.faiss is in step with the\n"
    "database, the schema version. --json prints them as one object.\n"
    "\n"
    "examples:\n"
    "  vericite stats --db scifact-idx\n"
    "  vericite stats --db scifact-idx --json | jq .documents\n";

static void human(char *out, size_t n, int64_t bytes)
{
    if (bytes >= (1 << 30)) snprintf(out, n, "%.1f GiB", bytes / 1073741824.0);
    else if (bytes >= (1 << 20)) snprintf(out, n, "%.1f MiB", bytes / 1048576.0);
    else if (bytes >= 1024) snprintf(out, n, "%.1f KiB", bytes / 1024.0);
    else snprintf(out, n, "%lld B", (long long)bytes);
}

/* The backend's lines of `stats`: the spec, each shard's passages (connecting to it now), what is
 * pending. Nothing for a local index. */
static int backend_lines(struct idx *ix, struct buf *out, struct err *err)
{
    struct idx_bk_info bi;
    int rc = idx_bk_info(ix, &bi, err);
    if (rc || !bi.spec[0]) return rc;
    int64_t counts[IDX_BK_MAX_SHARDS];
    if ((rc = idx_bk_probe(ix, counts, IDX_BK_MAX_SHARDS, err))) return rc;
    int fail = buf_printf(out, "backend        %s (%d shards, %lld passages not yet sent)\n",
                          bi.spec, bi.nshards, (long long)bi.pending);
    for (int i = 0; i < bi.nshards && !fail; i++) {
        struct idx_bk_shard sh;
        idx_bk_shard_info(ix, i, &sh);
        if (counts[i] >= 0)
            fail = buf_printf(out, "  shard %d/%d    %s: %lld passages\n", i + 1, bi.nshards,
                              sh.name, (long long)counts[i]);
        else
            fail = buf_printf(out, "  shard %d/%d    %s: NOT ANSWERING (%s)\n", i + 1,
                              bi.nshards, sh.name, sh.why);
    }
    return fail ? err_set(err, ERR_NOMEM, "stats") : ERR_OK;
}

int cmd_stats(int argc, char **argv)
{
    static const struct option longopts[] = {{"db", required_argument, 0, 'd'},
                                             {"json", no_argument, 0, 'j'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *db = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'd') db = optarg;
        else if (c == 'j') json = 1;
        else if (c == 'h') { fputs(stats_help, stdout); return CLI_OK; }
        else return cli_bad_option("stats", argv, "h", longopts);
    }
    if (!db) return cli_usage("stats", "--db DIR is required");
    struct err err = {0};
    struct idx *ix = NULL;
    struct idx_opts io = {.readonly = 1};
    struct idx_stats st;
    int64_t vdb = 0, vfaiss = -1;
    const char *vdesc = "";
    char vdesc_copy[200] = "";
    int rc = idx_open(&ix, db, &io, &err);
    if (!rc && json) {
        json_t *o = NULL;
        rc = cli_stats_json(ix, db, &o, &err);
        idx_close(ix);
        if (rc) return cli_fail(&err);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
        return CLI_OK;
    }
    if (!rc) rc = idx_stats(ix, &st, &err);
    if (!rc) rc = idx_vec_status(ix, &vdb, &vfaiss, &vdesc, &err);
    if (!rc) snprintf(vdesc_copy, sizeof vdesc_copy, "%s", vdesc);
    struct buf bk = {0};
    if (!rc) rc = backend_lines(ix, &bk, &err);
    idx_close(ix);
    if (rc) {
        buf_cleanup(&bk);
        return cli_fail(&err);
    }
    int in_step = st.embedder[0] ? vfaiss == vdb : vfaiss <= 0;
    char a[32], b[32];
    human(a, sizeof a, st.db_bytes);
    human(b, sizeof b, st.postings_bytes);
    printf("index          %s\n", db);
    printf("documents      %lld\n", (long long)st.docs);
    printf("passages       %lld (about %d words each; %.1f tokens on average)\n", (long long)st.passages,
           st.passage_words, st.passages ? (double)st.total_tokens / st.passages : 0.0);
    printf("terms          %lld\n", (long long)st.terms);
    printf("postings       %s\n", b);
    printf("database       %s (index.db, WAL; %.0f bytes per passage)\n", a,
           st.passages ? (double)st.db_bytes / (double)st.passages : 0.0);
    if (st.tombstones)
        printf("tombstones     %lld removed passages not merged yet (vericite index --db DIR --optimize)\n",
               (long long)st.tombstones);
    printf("tokenizer      %s\n", st.tokenizer);
    printf("embedder       %s\n", st.embedder[0] ? st.embedder : "none (BM25 only)");
    if (st.embedder[0] || vfaiss >= 0)
        printf("vectors        %lld in the database, %lld in %s%s\n", (long long)vdb, (long long)vfaiss,
               vdesc_copy[0] ? vdesc_copy : IDX_VEC_FILE " (missing)",
               in_step ? "" : "  OUT OF STEP: run vericite index --db DIR --sync-vectors");
    if (bk.len) fputs(bk.data, stdout);
    buf_cleanup(&bk);
    printf("schema         version %d\n", st.schema_version);
    return CLI_OK;
}
