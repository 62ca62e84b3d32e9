/* corpus.h - corpus readers (JSON Lines/BEIR, folders, MediaWiki XML), HTML to text, the tokenizer
 * shared by indexing, queries and scoring, and the passage chunker. The only module that reaches
 * jansson (for reading corpora), libxml2, libbz2, utf8proc and libstemmer. */
#ifndef VC_CORPUS_H
#define VC_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* ---------------------------------------------------------------- readers */

enum corpus_format {
    CORPUS_AUTO = 0, /* from the path: folder -> DIR, .xml/.xml.bz2 -> MWXML, else JSONL */
    CORPUS_JSONL,    /* JSON Lines / BEIR corpus.jsonl */
    CORPUS_DIR,      /* a folder walked recursively: .txt .md .html .htm .wiki */
    CORPUS_MWXML     /* MediaWiki XML export or dump, optionally .bz2 */
};

#define CORPUS_MAX_RECORD (8u << 20) /* default cap on one JSONL line / one file / one page: 8 MiB */

/* Zero-initialise; every field has a usable zero. */
struct corpus_opts {
    enum corpus_format format;
    const char *url_prefix; /* DIR: url = url_prefix + relative path ("" or NULL: no url) */
    int skip_bad;           /* nonzero: skip malformed records and count them instead of failing */
    size_t max_record;      /* 0 means CORPUS_MAX_RECORD */
    int raw_wikitext;       /* MWXML: text is the page's wikitext as stored, not plain text
                               (for auditing its citations); pages with empty text are skipped */
};

/* One document. Every pointer is owned by the reader and valid until the next corpus_next() or
 * corpus_close(). Strings are NUL-terminated, valid UTF-8, never NULL ("" when absent). */
struct corpus_doc {
    const char *id;     /* stable id: JSONL _id/id; DIR relative path; MWXML page title */
    const char *title;  /* JSONL title; HTML <title> or the file name; MWXML page title */
    const char *url;    /* JSONL url; DIR url_prefix + relative path; MWXML "" */
    const char *text;   /* plain text (HTML and wikitext reduced to readable text) */
    size_t text_len;
    const char *source; /* the file the document came from */
    long line;          /* JSONL line number, MWXML page ordinal, 0 for DIR files */
};

struct corpus_reader;

/* Open `path` for reading ("-": JSON Lines on standard input, which is not closed).
 * `opts` may be NULL; it is copied (url_prefix is copied too).
 * Errors: ERR_NOTFOUND (missing path, message names it), ERR_IO, ERR_ARG (unknown format).
 * On success *out is a new reader the caller owns and closes with corpus_close(). */
int corpus_open(struct corpus_reader **out, const char *path, const struct corpus_opts *opts,
                struct err *err);

/* Read the next document into *doc. Sets *has to 1 when a document was produced, 0 at the end.
 * Errors name the file and line ("data.jsonl:17: missing \"text\""): ERR_PARSE (malformed JSON
 * or XML, missing fields), ERR_UTF8 (invalid UTF-8), ERR_LIMIT (a record over max_record),
 * ERR_IO (binary file in a folder, NUL bytes in a JSONL file, read failure). With skip_bad,
 * ERR_PARSE/ERR_UTF8/ERR_LIMIT records and binary files in a folder are skipped and counted
 * (corpus_skipped) instead; malformed XML and binary JSONL still fail, since nothing after them
 * can be trusted. Empty input is not an error here; empty files in a folder are skipped and
 * counted. After an error without skip_bad the caller may call again to go on with the next
 * record (JSONL, DIR, oversized MWXML pages); a malformed XML dump keeps returning its error. */
int corpus_next(struct corpus_reader *r, struct corpus_doc *doc, int *has, struct err *err);

/* Records skipped because of skip_bad so far; the first skip's reason is kept in `first` (may be NULL). */
long corpus_skipped(const struct corpus_reader *r, const char **first);

/* Bytes consumed so far and the total input size in bytes (0 when unknown, e.g. stdin). For a
 * folder the total is the sum of the listed files' sizes; for .bz2 both count compressed bytes. */
void corpus_progress(const struct corpus_reader *r, uint64_t *done, uint64_t *total);

/* Close a reader from corpus_open(). NULL is allowed. */
void corpus_close(struct corpus_reader *r);

/* ---------------------------------------------------------------- text */

/* Reduce an HTML page to readable text: drops script, style, noscript, nav, header, footer, aside,
 * form, svg and template; block elements become line breaks; entities decoded; whitespace collapsed.
 * Appends the text to `text` and the <title> (or first <h1>) to `title` (either may be NULL);
 * both are valid UTF-8 (bytes of UTF-8 input are trusted over a declared charset; other input
 * goes through libxml2's charset detection). Empty input appends nothing.
 * Errors: ERR_NOMEM, ERR_PARSE (nothing parseable), ERR_LIMIT (over 2 GiB). */
int corpus_html_text(const char *html, size_t len, struct buf *title, struct buf *text,
                     struct err *err);

/* Reduce MediaWiki wikitext to plain readable text (templates, tables, refs, comments, markup
 * removed; [[a|b]] -> b; a few inline templates rendered: {{convert|5|km}} -> "5 km",
 * {{lang|fr|mot}} -> "mot", date templates -> "2 January 1950"). Headings become their own
 * paragraph; at most one blank line in a row. Unbalanced markup stays as text; time is linear
 * in `len`. Appends to `text` (not touched when the result is empty). Errors: ERR_NOMEM. */
int corpus_wikitext_text(const char *wt, size_t len, struct buf *text, struct err *err);


/* ---------------------------------------------------------------- tokenizer */

struct corpus_tok;

/* The one tokenizer used for indexing, queries and scoring: words and numbers split on Unicode
 * letter/number boundaries, NFKC case folding with accents removed, English stop words dropped,
 * Snowball English stemming. Version string goes into the index settings. */
#define CORPUS_TOK_NAME "vericite-en-1"
#define CORPUS_TOK_MAX 64 /* longest token kept, in bytes; longer ones are truncated at a char boundary */

/* Flags for corpus_tok_new(). */
enum corpus_tok_flags {
    CORPUS_TOK_KEEP_STOP = 1, /* keep stop words */
    CORPUS_TOK_NO_STEM = 2    /* fold only, no stemming (e.g. for word-vector lookup) */
};

/* A new tokenizer (owned by the caller, freed with corpus_tok_free()). Not thread-safe: one per
 * thread. Errors: ERR_NOMEM, ERR_INTERNAL (stemmer missing). */
int corpus_tok_new(struct corpus_tok **out, int flags, struct err *err);
void corpus_tok_free(struct corpus_tok *t);

/* Called once per token: `term` (len bytes, not NUL-terminated, valid until the callback returns),
 * its ordinal position among kept tokens, and the byte span [start, end) in the input.
 * Return nonzero to stop early (corpus_tok_run then returns that value). */
typedef int (*corpus_tok_cb)(void *ctx, const char *term, size_t len, int pos, size_t start,
                             size_t end);

/* Tokenize `len` bytes of `text` (invalid UTF-8 bytes are treated as separators). Returns 0 or the
 * callback's nonzero value. */
int corpus_tok_run(struct corpus_tok *t, const char *text, size_t len, corpus_tok_cb cb, void *ctx);

/* Nonzero when the folded, unstemmed word (NUL-terminated) is an English stop word. */
int corpus_tok_is_stop(const char *folded);

/* ---------------------------------------------------------------- chunker */

/* A passage: byte span [start, end) of the document text, and its word count. */
struct corpus_span {
    size_t start, end;
    int words;
};

/* Split `text` into passages of about `words` words (Sphere-style 100 by default), never inside a
 * word; a passage ends at a sentence end when one falls within the last quarter of the target,
 * and a short tail (< words/2) joins the passage before it. Calls `cb` per passage in order;
 * a nonzero return stops and is returned. Empty or all-space text gives no passage. */
typedef int (*corpus_chunk_cb)(void *ctx, const struct corpus_span *span);
int corpus_chunk(const char *text, size_t len, int words, corpus_chunk_cb cb, void *ctx);

/* ---------------------------------------------------------------- URLs */

/* Normalise a URL for matching a citation to a corpus document: the scheme, user info, "www.",
 * default ports, the fragment, trailing slashes and tracking parameters (utm_*, fbclid, gclid...)
 * are dropped and the host lowercased: "https://WWW.Example.org/a/?utm_source=x#top" ->
 * "example.org/a". Writes to `out` (reset first). Returns 0, or -1 when `url` has no host. */
int corpus_url_normalize(const char *url, struct buf *out);

/* ---------------------------------------------------------------- query files */

/* Called per query of a queries file; `id` and `text` are valid during the call only.
 * Return nonzero to stop (corpus_queries_read then returns that value). */
typedef int (*corpus_query_cb)(void *ctx, const char *id, const char *text, long line);

/* Read a batch of queries: BEIR queries JSON Lines ({"_id" or "id", "text"}) or TSV
 * (id<TAB>text, an optional header "query-id..." or "id<TAB>text"), told apart by the first
 * non-blank character. Errors name the file and line: ERR_NOTFOUND, ERR_PARSE, ERR_UTF8, ERR_LIMIT. */
int corpus_queries_read(const char *path, corpus_query_cb cb, void *ctx, struct err *err);

#endif
