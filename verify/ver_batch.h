/* ver_batch.h - batch audits, owned by verify/: the record of an audited citation (ver_json.c),
 * the store protocol over the index's audit tables (ver_store.c) and the batch runner
 * (ver_batch.c). Included by ver.h; the command line (`audit --jobs N`, `report`) and the HTTP
 * service (`/v1/jobs`) both go through these functions, so they store and answer the same bytes. */
#ifndef VC_VER_BATCH_H
#define VC_VER_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "verify/ver.h" /* enum ver_status, ver_format, struct ver_result (ver.h includes us last) */

struct idx;
struct json_t;

/* ================================================================ the record (ver_json.c)
 * One audited citation as a JSON object, in this member order:
 *   {"article", "article_title", "article_url", "revision", "revision_time", "section", "ref",
 *    "claim", "claim_id", "claim_cut", "url", "title", "source_title", "title_mismatch", "verdict",
 *    "score", "contradiction", "evidence", "matched": [claim words found in the evidence], "source",
 *    "detail", "missing", "judge",
 *    "suggestions": [{"doc_id", "url", "title", "score", "evidence", "cite", "from"}]}
 * "contradiction" is the NLI verifier's contradiction probability (null with the lexical
 * verifier); "judge" is null without a judge, else {"verdict", "evidence"} as the judge answered,
 * or {"verdict": "failed", "failure": class, "message"} when its answer was no verdict.
 * "claim" is at most VER_CLAIM_MAX bytes ("claim_cut": true when it was cut); "claim_id" numbers
 * the article's claims from 0, the same for the citations of one sentence.
 * "article_url" and "revision" (an integer, null when none) say which revision of a wiki page was
 * audited ("" and null for files); "source_title" is the title of the page read.
 * "verdict" is ver_status_name(status). It is what `vericite audit --json` prints (one per line),
 * what the service answers, and what the store keeps (audit_results.json, compact). */

/* Streams of records name each claim once: in `vericite audit --json` (stored or not), the
 * service's /v1/audit "results" and each page of /v1/jobs/ID results, a record whose claim is the
 * one of the record before it (the same "article" and "claim_id") leaves "claim" out; a reader
 * carries the claim on from the record before. The store keeps every record whole (its claim at
 * most VER_CLAIM_MAX bytes), so lists in any order (`report`) read each record alone. */
struct ver_claim_run {
    uint64_t article; /* FNV-1a of the last record's "article" */
    long long claim_id;
    int any;          /* a record came before */
};
/* Take record `o` (a JSON object; others are left alone) into the stream `cr` (zeroed at the
 * stream's start): its "claim" is deleted when the record before it had the same claim. */
void ver_claim_run_next(struct ver_claim_run *cr, struct json_t *o);

/* The record of `r` as a new object (the caller json_decrefs it); NULL when out of memory. */
struct json_t *ver_result_json(const struct ver_result *r);
/* Append the record of `r` as compact JSON text (no newline) to `out`. Errors: ERR_NOMEM. */
int ver_result_encode(const struct ver_result *r, struct buf *out, struct err *err);
/* Rebuild a result from its record (the matched words are found again in the evidence).
 * *r is filled (release with ver_results_free(r, 1)) even on failure. Errors: ERR_CORRUPT (not a
 * JSON object, or a verdict this vericite does not know, named), ERR_NOMEM. */
int ver_result_from_json(const struct json_t *o, struct ver_result *r, struct err *err);
/* ver_result_from_json of `len` bytes of JSON text. Errors as ver_result_from_json. */
int ver_result_decode(const char *json, size_t len, struct ver_result *r, struct err *err);

/* ================================================================ the store (ver_store.c)
 * An audited article is kept in the index (idx_audit_*) under a key: its path (a file, a
 * "DUMP.xml#Title", a service job's article name) and a hash of its text, title and the options
 * that change results. An article already stored under its key is skipped by a batch, so a
 * killed batch started again goes on where it was; storing a path again replaces its earlier
 * results. Each article is stored in one transaction (all its citations or none). */

#define VER_STORE_OPTIONS_MAX 1536
#define VER_STORE_BETTER_GAP 0.3 /* "better": the best suggestion scores this much above the cited source */

/* One stored citation as read back. Strings are owned by the index handle and valid during the
 * callback only. */
struct ver_record {
    const char *path, *hash; /* the article's key */
    int ord;                 /* position in the article, from 0 */
    int status;              /* enum ver_status of the stored verdict; -1 when unknown here */
    const char *verdict;     /* the verdict's name as stored */
    double score;            /* the citation's support score */
    double best;             /* the best suggestion's score, 0 when none */
    const char *url;         /* the cited URL ("" when none) */
    const char *domain;      /* its host without "www." ("" when none) */
    const char *json;        /* the record (see above), exactly as stored */
};
/* Return nonzero (with `err`, the caller's, set) to stop; the call that made the callback then
 * returns that value. */
typedef int (*ver_record_cb)(void *ctx, const struct ver_record *rec, struct err *err);

/* The text of the audit options that change results (hashed into every key) into `out` (n
 * bytes, at most VER_STORE_OPTIONS_MAX needed), the verifier model's content hash included (a
 * new model re-audits stored articles). `vo` may be NULL (the defaults). */
void ver_store_options(const struct ver_audit_opts *vo, char *out, size_t n);
/* The key hash of an article: FNV-1a 64 of `len` bytes of text, the title and the options text
 * (each with its NUL), as 16 hex digits and a NUL. `title` and `options` may be NULL (""). */
void ver_store_key(const char *text, size_t len, const char *title, const char *options, char out[17]);

/* Record the start of a batch with its options text; *run gets its id. Errors: ERR_SQLITE,
 * ERR_ARG (a read-only handle). */
int ver_store_begin_run(struct idx *ix, const char *options, int64_t *run, struct err *err);
/* *done is 1 when the article (path, hash) is stored, else 0. Errors: ERR_SQLITE. */
int ver_store_done(struct idx *ix, const char *path, const char *hash, int *done, struct err *err);
/* Store the `n` results of one article (encoded with ver_result_encode) in one transaction,
 * replacing earlier results of the same path. Errors: ERR_SQLITE (nothing stored), ERR_ARG (read-only), ERR_NOMEM. */
int ver_store_put(struct idx *ix, const char *path, const char *hash, const char *title, int64_t run,
                  const struct ver_result *res, int n, struct err *err);
/* Call `cb` for each stored citation of the article (path, hash) in article order. */
int ver_store_results(struct idx *ix, const char *path, const char *hash, ver_record_cb cb, void *ctx,
                      struct err *err);

/* What `vericite report` lists. Verdicts are classed here, from enum ver_status's order. */
enum ver_store_list {
    VER_LIST_QUEUE = 1, /* every verdict but supported: worst verdict first, lowest score first */
    VER_LIST_DEAD,      /* dead links, by domain and URL */
    VER_LIST_BETTER     /* the best suggestion scores more than VER_STORE_BETTER_GAP above the cited
                           source; largest gap first */
};
/* Call `cb` for up to `limit` (<= 0: all) stored citations of list `which`; ties are broken by
 * path and position, so the order is stable. Errors: ERR_NOTFOUND (no audit tables: an index
 * opened read-only that never had a batch), ERR_SQLITE, ERR_ARG (unknown list). */
int ver_store_list(struct idx *ix, enum ver_store_list which, int limit, ver_record_cb cb, void *ctx,
                   struct err *err);

/* Figures per cited domain. */
struct ver_store_domain {
    const char *domain;      /* owned by the handle, valid during the callback */
    int64_t citations;
    int64_t failing;         /* verdicts worse than weak (dead ... unsupported) */
    int64_t dead;
};
typedef int (*ver_store_domain_cb)(void *ctx, const struct ver_store_domain *d);
/* Domains with the most failing citations first (then most citations, then name), up to `limit`
 * (<= 0: all). Errors as ver_store_list. */
int ver_store_domains(struct idx *ix, int limit, ver_store_domain_cb cb, void *ctx, struct err *err);
/* Stored articles and citations (0 and 0 when there are no audit tables). Errors: ERR_SQLITE. */
int ver_store_counts(struct idx *ix, int64_t *articles, int64_t *citations, struct err *err);

/* ================================================================ the runner (ver_batch.c)
 * N worker threads, each with its own read-write index handle, auditor and extractor, take
 * articles from a bounded queue (ver_batch_add blocks while it is full), audit them and store each
 * one (ver_store_put). Results are read back from the store and handed to the sink in input order
 * (articles in the order added, citations in article order), each article as soon as it and all
 * before it are finished, so the output does not depend on which worker finished first. Several
 * batches (processes or threads) may write the same index: SQLite WAL lets their one-at-a-time
 * writers (BEGIN IMMEDIATE, waiting on the busy timeout) work beside any number of readers. */

#define VER_BATCH_MAX_JOBS 64

/* How far a batch is. */
struct ver_batch_progress {
    long total;         /* articles expected (ver_batch_expect); -1 while unknown */
    double read_share;  /* share of the input read, 0..1 (ver_batch_expect), for an ETA */
    long added;         /* articles given to ver_batch_add */
    long audited;       /* audited and stored by this batch */
    long skipped;       /* already stored under the same key: not audited again */
    long failed;        /* could not be audited (a malformed article: see sink.problem) */
    long unreadable;    /* inputs the caller could not read (ver_batch_problem) */
    long citations;     /* citations of the audited articles */
    long fetched;       /* of which came from the web or an archive */
    long counts[VER_ST_COUNT]; /* audited citations by enum ver_status */
};

enum ver_batch_outcome { VER_BATCH_AUDITED = 0, VER_BATCH_SKIPPED, VER_BATCH_FAILED };

/* Where a batch's results go. Every callback may be NULL. Calls are serialised (made with the
 * batch's lock held) but may come from any of its threads; a callback must not call back into
 * the batch. */
struct ver_batch_sink {
    /* Each stored citation, in input order. A nonzero return (with `err` set) stops the batch,
     * and ver_batch_add/finish return it. */
    ver_record_cb record;
    /* After the records of article `seq` (0-based, in the order added): its key, how many records
     * it has and what became of it. A nonzero return stops the batch as above. */
    int (*article)(void *ctx, size_t seq, const char *path, const char *hash, int nrecords,
                   enum ver_batch_outcome outcome, struct err *err);
    /* After each article is finished (audited, skipped or failed). */
    void (*progress)(void *ctx, const struct ver_batch_progress *p);
    /* An article that could not be audited, or an input the caller could not read. `e` names it. */
    void (*problem)(void *ctx, const char *path, const struct err *e);
    void *ctx;
};

struct ver_batch_opts {
    const char *db;                   /* the index folder (copied) */
    const struct ver_audit_opts *vo;  /* copied; its pointers are borrowed for the batch's life */
    int jobs;                         /* worker threads, 1..VER_BATCH_MAX_JOBS (clamped) */
    int queue;                        /* articles waiting at most; 0: 2 x jobs */
};

struct ver_batch;

/* Open the index (read-write), record the run and start the workers (each opens its own handle;
 * one that cannot stops the batch, and ver_batch_add/finish return its error). `sink` is copied.
 * On success *out is owned by the caller: end it with ver_batch_finish, then ver_batch_free. On
 * failure *out is NULL. Errors: ERR_SQLITE, ERR_NOTFOUND (no index), ERR_NOMEM, ERR_INTERNAL. */
int ver_batch_new(struct ver_batch **out, const struct ver_batch_opts *o, const struct ver_batch_sink *sink,
                  struct err *err);
/* Queue one article: `path` is its name in the store and its results (copied), `title` the
 * article title (copied; NULL: ""), `text` a malloc'ed buffer of `len` bytes that the batch takes
 * over (freed in every case). An article already stored under its key is not queued but counted
 * as skipped (and delivered in its turn). Blocks while the queue is full. Errors: the error that
 * stopped the batch (a worker's, a sink's, ERR_ARG after ver_batch_cancel), ERR_SQLITE, ERR_NOMEM:
 * stop adding and call ver_batch_finish. */
int ver_batch_add(struct ver_batch *b, const char *path, const char *title, char *text, size_t len,
                  enum ver_format fmt, struct err *err);
/* Tell the batch how many articles will come (-1: unknown) and what share of the input has been
 * read, for progress. Any thread. */
void ver_batch_expect(struct ver_batch *b, long total, double read_share);
/* An input the caller could not read: counted in progress.unreadable and passed to sink.problem. */
void ver_batch_problem(struct ver_batch *b, const char *path, const struct err *e);
/* Stop the batch from any thread: queued articles are dropped, the articles being audited are
 * finished and stored, and ver_batch_add/finish return ERR_ARG ("cancelled"). */
void ver_batch_cancel(struct ver_batch *b);
/* No more articles: wait for the workers and deliver the rest. *final (may be NULL) gets the
 * last progress. Returns ERR_OK, or the error that stopped the batch. */
int ver_batch_finish(struct ver_batch *b, struct ver_batch_progress *final, struct err *err);
/* Free a batch (after ver_batch_finish; a batch not finished is cancelled and finished first).
 * NULL is allowed. */
void ver_batch_free(struct ver_batch *b);

#endif
