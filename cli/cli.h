/* cli.h - the command line: each command's entry point and the shared printing helpers.
 * The only place that prints or exits. */
#ifndef VC_CLI_H
#define VC_CLI_H

#include <stdio.h>

#include "buf.h"
#include "err.h"
#include "verify/ver.h"

struct idx;
struct ret_hit;
struct ver_result;
struct json_t;

/* The JSON of one query's hits: {"id", "query", "hits": [{"rank", "doc_id", "passage_id", "title",
 * "url", "score", "text"}]} (id may be NULL: null). *out is owned by the caller (json_decref). */
int cli_hits_json(struct idx *ix, const char *id, const char *query, const struct ret_hit *hits, int n,
                  struct json_t **out, struct err *err);
/* After a search on ix: {"spec", "shards", "live", "dead": [{"shard", "address", "error"}],
 * "pending", "warning"} when its remote backend answered from part of its shards or lags behind
 * the index (idx_bk_warning), else *out = NULL. cli_hits_json adds it to the hits as "backend". */
int cli_backend_json(struct idx *ix, struct json_t **out, struct err *err);
/* The JSON of `vericite stats --json` for the index `ix` opened from folder `db`: {"db",
 * "documents", "passages", ...}. *out is owned by the caller (json_decref). */
int cli_stats_json(struct idx *ix, const char *db, struct json_t **out, struct err *err);

/* Exit codes. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_BELOW = 3 };

int cmd_index(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Print "vericite: <message>" to stderr and return CLI_FAIL (or CLI_USAGE for ERR_ARG). */
int cli_fail(const struct err *err);
/* Print "vericite: <printf message>" and a hint to run --help; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a positive int option value or print a usage error. Returns 0 on success. */
int cli_int(const char *cmd, const char *opt, const char *val, int lo, int hi, int *out);
int cli_double(const char *cmd, const char *opt, const char *val, double lo, double hi, double *out);

/* Write at most `width` display columns of UTF-8 `s` to f, with "…" when cut, padded with spaces
 * to exactly `width` when pad is nonzero. Newlines and tabs print as spaces. */
void cli_put_cell(FILE *f, const char *s, int width, int pad);

/* Read a whole article file ("-": stdin) into `out`: at most 16 MiB of valid UTF-8.
 * Errors name the file: ERR_NOTFOUND, ERR_IO, ERR_LIMIT, ERR_UTF8, ERR_NOMEM. */
int cli_read_file(const char *path, struct buf *out, struct err *err);
/* The article title from a file name: "012-Mozilla_Firefox.txt" -> "Mozilla Firefox". */
void cli_title_from_path(const char *path, char *out, size_t n);

/* Batch audits (cmd_batch.c): every article of `inputs` (files, folders walked for .wiki
 * .wikitext .md .markdown .txt .jsonl, MediaWiki dumps .xml/.xml.bz2 page by page) given to
 * verify/'s batch runner with `jobs` threads: each article's results stored in the index as it
 * finishes (skipped when already stored), progress on stderr. `cb` gets every stored record of
 * the inputs in input order (articles as given, citations in article order), each article as soon
 * as it and all before it are finished; calls are serialised but may come from any of the batch's
 * threads. A nonzero return (with err set) stops the batch and is returned. Input problems are
 * printed and counted in *bad_inputs; errors (index, memory) end the batch. */
struct ver_audit_opts;
struct ver_record;
struct cli_batch_opts {
    const char *db;
    const struct ver_audit_opts *vo;
    const char *title; /* --title, used when there is a single file input */
    int jobs;
};
typedef ver_record_cb cli_record_cb;
int cli_batch_run(const struct cli_batch_opts *o, char *const *inputs, int ninputs, cli_record_cb cb, void *ctx,
                  int *bad_inputs, struct err *err);
/* The article format a file's extension gives: .wiki/.wikitext, .md/.markdown, .jsonl, else auto. */
enum ver_format cli_format_of(const char *path);
int cmd_report(int argc, char **argv);

/* Seconds from a monotonic clock. */
double cli_now(void);

/* Progress on stderr, only when stderr is a terminal; at most 4 updates a second. */
struct cli_progress {
    int tty;
    double start, last;
};
void cli_progress_init(struct cli_progress *p);
/* `done` items of `total` (0: unknown); bytes for the ETA when known. */
void cli_progress_update(struct cli_progress *p, const char *what, long done, double frac);
void cli_progress_end(struct cli_progress *p);

#endif
