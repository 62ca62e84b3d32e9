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

/* An option getopt_long() did not accept (it returned '?' or ':'; main() sets opterr = 0, so
 * getopt printed nothing): prints "vericite CMD: unknown option '--ofline' (did you mean
 * --offline?)", or that the option needs a value, with the --help hint; returns CLI_USAGE.
 * `argv`, `shortopts` and `longopts` are the ones given to getopt_long. */
struct option;
int cli_bad_option(const char *cmd, char **argv, const char *shortopts, const struct option *longopts);
/* The option name of `longopts` closest to `name` (without dashes) by edit distance (insertions,
 * deletions, substitutions, swaps of neighbours), when close enough to be a typo; else NULL. */
const char *cli_closest_option(const char *name, const struct option *longopts);

/* Parse a duration: a number with a unit (500ms, 20s, 2m, 1.5s) or without one (seconds), from
 * lo_s to hi_s seconds, into *ms. With `legacy_ms` (an option that used to take milliseconds),
 * a number without unit above 1000 is read as milliseconds and a note on stderr says to write
 * the unit. Prints a usage error and returns -1 when it does not parse or is out of range. */
int cli_duration(const char *cmd, const char *opt, const char *val, double lo_s, double hi_s, int legacy_ms,
                 long *ms);

/* The address `serve --listen` binds: "8080" and ":8080" mean "127.0.0.1:8080"; "HOST:PORT" and
 * "[v6]:PORT" stay as they are. Writes the result to out (n bytes). Returns 0, or -1 when it is
 * none of these forms (or too long). */
int cli_listen_spec(const char *spec, char *out, size_t n);

/* Before a long run: the file `path` can be written (its folder exists and is writable, it is not
 * a folder). Errors: ERR_IO naming the file and why. */
int cli_check_writable(const char *path, struct err *err);

/* Columns of the terminal stdout is on (TIOCGWINSZ, else $COLUMNS), or 0 when stdout is not a
 * terminal and $COLUMNS is unset (piped: print full text). */
int cli_term_width(void);

/* "s" when n is not 1: printf("%d citation%s", n, cli_s(n)). */
const char *cli_s(long n);

/* Parse a positive int option value or print a usage error. Returns 0 on success. */
int cli_int(const char *cmd, const char *opt, const char *val, int lo, int hi, int *out);
int cli_double(const char *cmd, const char *opt, const char *val, double lo, double hi, double *out);
/* A size in bytes, a K, M or G suffix allowed (512K, 128M), from lo to hi, into *out; a usage error
 * is printed and -1 returned otherwise. */
int cli_size(const char *cmd, const char *opt, const char *val, size_t lo, size_t hi, size_t *out);

/* Write at most `width` display columns of UTF-8 `s` to f, with "…" when cut, padded with spaces
 * to exactly `width` when pad is nonzero. Newlines and tabs print as spaces. */
void cli_put_cell(FILE *f, const char *s, int width, int pad);

/* ---- highlighting (cli_hl.c) ---- */

/* The words of a claim or query to find in texts: its terms as the index tokenizes them (folded,
 * stemmed, no stop words). Not thread-safe: one per thread. */
struct cli_hl;
int cli_hl_new(struct cli_hl **out, struct err *err);
void cli_hl_free(struct cli_hl *h);
/* Find the terms of `query` from now on. With `ix` (may be NULL), a term found in more than a
 * fifth of the index's passages is a common word there and is not marked (judged only on indexes
 * of 200 passages or more); "not" and "no" are never marked. Errors: none yet (ERR_OK). */
int cli_hl_set(struct cli_hl *h, const char *query, struct idx *ix, struct err *err);
/* The byte spans of the words of text (len bytes) that are terms of the query, in text order:
 * at most max; returns how many. 0 for a NULL handle. */
int cli_hl_find(struct cli_hl *h, const char *text, size_t len, struct ver_span *spans, int max);
/* The sentence of text holding the most of the n spans (the first such): [*start, *end); the
 * whole text when n is 0. */
void cli_hl_sentence(const char *text, size_t len, const struct ver_span *sp, int n, size_t *start, size_t *end);
/* A part of text of at most `cols` characters centred on its densest group of spans (the whole
 * text when it fits or cols <= 0): [*start, *end), on character boundaries. */
void cli_hl_window(const char *text, size_t len, const struct ver_span *sp, int n, int cols, size_t *start,
                   size_t *end);
/* Print text[start, end) (of len bytes) to f, "…" where it is cut, newlines and tabs as spaces,
 * the spans inside in bold when `bold` (ANSI). */
void cli_hl_print(FILE *f, const char *text, size_t len, size_t start, size_t end, const struct ver_span *sp, int n,
                  int bold);
/* Append text[start, end) HTML-escaped to b, the spans inside in <mark>. ERR_NOMEM or 0. */
int cli_hl_html(struct buf *b, const char *text, size_t start, size_t end, const struct ver_span *sp, int n);

/* ---- HTML pages (cli_html.c): self-contained (inline style and script, a CSP that loads
 * nothing), shared by `audit --html` and `report --html`. Each returns 0 or ERR_NOMEM. ---- */

/* The page head (doctype, style, <body>) and its end (the script: verdict filters over elements
 * with data-verdict, copy buttons beside <code>). */
int cli_html_begin(struct buf *b, const char *title);
int cli_html_end(struct buf *b);
/* Append an HTML link to `url` showing `label` (the URL when "") to `b`, both escaped; only
 * http:// and https:// URLs (any case, nothing before the scheme) become links: any other
 * (javascript:, data:, vbscript:, relative, with leading white space) is shown as escaped text,
 * so an article's citations cannot put script into a report. "" shows "(no source)". The one
 * link writer of the HTML reports (audit --html, report --html). Returns 0 or -1 (out of memory). */
int cli_html_link(struct buf *b, const char *url, const char *label);
/* The cited source: its host in bold, the URL as a link, the ref's stated title and the page's
 * real title, and a warning when `mismatch`. stated and real may be NULL. */
int cli_html_source(struct buf *b, const char *url, const char *stated, const char *real, int mismatch);
/* A {{cite web}} in <code> with a copy button. */
int cli_html_cite(struct buf *b, const char *cite);
/* The verdict filter buttons: all, not supported, then each verdict with a count (counts has
 * VER_ST_COUNT entries). */
int cli_html_filters(struct buf *b, const long *counts, long total);
/* The host of an http(s) URL, lower-cased, without "www." or user info ("" when none). */
void cli_url_host(const char *url, char *out, size_t n);
/* Write the audit report of `n` results (in the order given) to `path`, atomically: a header
 * with each article (its URL and revision when it came from a wiki), the date and the counts;
 * verdict filters; one card per citation (supported ones folded) with the cited host, both
 * titles, the evidence sentence with the claim's words marked (`ix`, may be NULL, decides which
 * words are too common to mark), suggestions with their {{cite web}} and a copy button.
 * Errors: ERR_IO naming the file, ERR_NOMEM. */
int cli_html_audit(const char *path, struct ver_result **rs, size_t n, struct idx *ix, const char *model_path,
                   struct err *err);
/* The verifier model's thresholds, the precision they were fitted for and what cross-validation
 * measured, and the suggestions' floor (model_path NULL: the built-in model). 0, or -1 when the
 * model cannot be read. */
int cli_model_calibration(const char *model_path, double *ts, double *tw, double *target, double *prec,
                          double *rec, double *floor_p);

/* ---- fetch progress of one audit (cli_fetch.c) ---- */

/* What an audit shows while fetching: with `tty`, a redrawn line "fetching sources n/N, T s;
 * waiting for HOST, ..." (hosts named after 2 s) and a summary of each batch by failure reason;
 * always, once, a line saying the network looks down (naming --offline) after 3 fetches in a row
 * on at least 2 hosts could not connect (DNS, refused, connect timeout). Returns ERR_OK or
 * ERR_NOMEM; free with cli_fetch_free (stops the redrawing thread). */
struct cli_fetch;
int cli_fetch_new(struct cli_fetch **out, int tty);
void cli_fetch_free(struct cli_fetch *f);
/* The ver_audit_opts.on_fetch callback (ud: the struct cli_fetch). */
void cli_fetch_event(void *ud, const char *const *urls, size_t n, size_t i, const struct ver_fetch_done *d);

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
