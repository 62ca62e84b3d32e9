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

/* The HTML parse budget, one for every caller (fetched pages, folder files, request bodies). */
#define CORPUS_HTML_MAX_BYTES (16u << 20) /* a page's size: 16 MiB */
#define CORPUS_HTML_MAX_ATTRS 64          /* attributes kept per element; the rest are dropped */
#define CORPUS_HTML_MAX_MS 2000           /* parse and walk time: 2 s */

/* Zero-initialise; each zero field means its CORPUS_HTML_MAX_* default. */
struct corpus_html_budget {
    size_t max_bytes;
    int max_attrs;
    long max_ms;
};

/* Zero-initialise; every field has a usable zero. */
struct corpus_opts {
    enum corpus_format format;
    const char *url_prefix; /* DIR: url = url_prefix + relative path ("" or NULL: no url) */
    int skip_bad;           /* nonzero: skip malformed records and count them instead of failing */
    size_t max_record;      /* 0 means CORPUS_MAX_RECORD */
    int raw_wikitext;       /* MWXML: text is the page's wikitext as stored, not plain text
                               (for auditing its citations); pages with empty text are skipped */
    struct corpus_html_budget html; /* DIR: the parse budget of .html/.htm files (zero: defaults) */
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
 * both are valid UTF-8 (UTF-8 input is read as UTF-8; other input in its declared charset when that
 * is ASCII-compatible, else as windows-1252). Empty input appends nothing. The work is linear in
 * the page: attributes past CORPUS_HTML_MAX_ATTRS on one element are dropped (their text is not
 * page text), and a page over the size or time budget is refused.
 * Errors: ERR_NOMEM, ERR_PARSE (nothing parseable), ERR_LIMIT (over the size or time budget; the
 * message names the budget). On an error, text and title may hold part of the page. */
int corpus_html_text(const char *html, size_t len, struct buf *title, struct buf *text,
                     struct err *err);

/* corpus_html_text() under another budget (NULL: the defaults). */
int corpus_html_text_budget(const char *html, size_t len, const struct corpus_html_budget *budget,
                            struct buf *title, struct buf *text, struct err *err);

/* ---------------------------------------------------------------- wikitext
 * One engine (corpus_wikitext*.c) reads MediaWiki wikitext for both indexing and the citation
 * audit: corpus_wt_parse() scans the article once (tags, comments, bracket pairs, citation
 * points), corpus_wt_walk() renders a stretch of it to a caller's sink. Offsets are byte
 * offsets into corpus_wt_src() (the input, or its unescaped copy for HTML-escaped exports;
 * corpus_wt_input_offset() maps back). Inline templates (dates, convert, circa, lang, nowrap,
 * dashes, ...), HTML entities and tags are rendered from one table each; templates the engine
 * does not render are reported to the sink, with a role for the footnote-like ones; infobox
 * parameters, table rows and image captions are rendered as fields only when they hold a
 * citation point (a <ref> or a citing footnote template). */

struct corpus_wt; /* a parsed article; not thread-safe (a walk keeps its state in the handle) */

/* Block boundaries reported to corpus_wt_sink.brk. */
enum corpus_wt_break {
    CORPUS_WT_LINE, /* a block tag (<div>, <p>, <li>, ...) */
    CORPUS_WT_ITEM, /* a list item ("*", "#", ":", ";" at a line start) */
    CORPUS_WT_PARA, /* a blank line, a rule, a table, a <pre> block */
    CORPUS_WT_CELL  /* a table cell starts (its "; " separator comes as text when it has text) */
};

/* Fields reported to corpus_wt_sink.field: each holds a citation point. */
enum corpus_wt_field {
    CORPUS_WT_PARAM,  /* a template parameter: "Key: value" (or the value when positional) */
    CORPUS_WT_ROW,    /* a table row: its cells joined by "; " */
    CORPUS_WT_CAPTION /* a table caption or an image caption */
};

/* What a template the engine does not render is, for the caller to interpret. */
enum corpus_wt_role {
    CORPUS_WT_BOX = 0,      /* anything else (infoboxes, quotes, navboxes): cited fields render */
    CORPUS_WT_NEEDED,       /* {{citation needed}}, {{cn}}, {{fact}}, {{failed verification}} */
    CORPUS_WT_NEEDED_SPAN,  /* {{citation needed span|text}}: the text renders, then the marker */
    CORPUS_WT_R,            /* {{r|name|name}}: footnote markers of named refs */
    CORPUS_WT_SFN,          /* {{sfn|Author|Year}}: a short footnote */
    CORPUS_WT_HARV,         /* {{harvnb|Author|Year}}: a short citation (no text here) */
    CORPUS_WT_REFN,         /* {{refn|text}}, {{#tag:ref|text}}: a footnote made by a template */
    CORPUS_WT_EFN,          /* {{efn|text}}: an explanatory note */
    CORPUS_WT_REFLIST,      /* {{reflist|refs=...}}, <references>...</references> */
    CORPUS_WT_CITE,         /* {{cite web}}, {{citation}}, {{vcite ...}} */
    CORPUS_WT_ARCHIVE,      /* {{webarchive}}, {{wayback}} */
    CORPUS_WT_SILENT,       /* parser functions ({{#if:}}), {{{parameters}}}: nothing at all */
    CORPUS_WT_NROLES
};

/* A <ref>: [start, end) is the whole element; the other spans are empty (a == b) when absent. */
struct corpus_wt_ref {
    size_t start, end;
    size_t name_a, name_b;   /* the name= value */
    size_t group_a, group_b; /* the group= value */
    size_t in_a, in_b;       /* the content between <ref ...> and </ref> */
    int selfclose;           /* <ref ... /> */
};

/* A template (or a <references> element, role CORPUS_WT_REFLIST, name "references"). */
struct corpus_wt_tpl {
    char name[64];       /* lower case, '_' and runs of space as one ' ', no "template:"; "" when
                            longer than that */
    int role;            /* enum corpus_wt_role */
    size_t start, end;   /* "{{" up to after "}}" */
    size_t in_a, in_b;   /* between "{{" and "}}" (the element's content for <references>) */
};

/* Where a walk reports what it finds. Every callback may be NULL; each returns 0 to go on or a
 * nonzero code that ends the walk (corpus_wt_walk returns it). A callback may call
 * corpus_wt_walk() on the same handle (any sink) for a stretch of the source. */
struct corpus_wt_sink {
    void *ctx;
    /* n bytes of text. verbatim: byte k stands at source offset off + k; else every byte
     * stands for off (rendered text: entities, template output, separators). May hold white
     * space, including '\n' for source line breaks and <br>. */
    int (*text)(void *ctx, const char *s, size_t n, size_t off, int verbatim);
    int (*brk)(void *ctx, enum corpus_wt_break kind);
    /* A heading of `level` (2 for "== x =="): its text [a, b) comes as text between end 0 and 1. */
    int (*heading)(void *ctx, int level, size_t a, size_t b, int end);
    /* A field begins (end 0) and ends (end 1); its text comes in between. */
    int (*field)(void *ctx, enum corpus_wt_field kind, int end);
    /* A <ref> (renders as nothing; a space follows when a word does). */
    int (*ref)(void *ctx, struct corpus_wt *w, const struct corpus_wt_ref *r);
    /* A template the engine does not render (and <references>). */
    int (*tpl)(void *ctx, struct corpus_wt *w, const struct corpus_wt_tpl *t);
    /* A link: internal [[target|...]] (external 0) or [url label] (external 1); target [a, b). */
    int (*link)(void *ctx, size_t a, size_t b, int external);
};

/* Scan `len` bytes of wikitext (need not be NUL-terminated; copied when it has to be unescaped,
 * else borrowed: keep `wt` alive while the handle lives). On success *out is a new handle the
 * caller frees with corpus_wt_free(); on failure *out is NULL and err says why: ERR_NOMEM,
 * ERR_LIMIT (4 GiB or more). Time and memory are linear in len. */
int corpus_wt_parse(struct corpus_wt **out, const char *wt, size_t len, struct err *err);
/* Free a handle from corpus_wt_parse(). NULL is allowed. */
void corpus_wt_free(struct corpus_wt *w);
/* The text offsets refer to (owned by the handle or borrowed from the caller) and its length. */
const char *corpus_wt_src(const struct corpus_wt *w, size_t *len);
/* The offset in the input given to corpus_wt_parse() of source offset `off`. */
size_t corpus_wt_input_offset(const struct corpus_wt *w, size_t off);
/* Render source [a, b) to `sink` (b is cut to the source length). Returns 0, or the first
 * nonzero code a callback returned. Markup nested deeper than 40 levels renders as nothing. */
int corpus_wt_walk(struct corpus_wt *w, size_t a, size_t b, const struct corpus_wt_sink *sink);
/* When a template ("{{" ... "}}") starts at `open` and ends at or before `b`, fill *t and return
 * 1; else return 0. */
int corpus_wt_template(const struct corpus_wt *w, size_t open, size_t b, struct corpus_wt_tpl *t);
/* The end (after "]]") of the internal link opened at `open` when it ends at or before `b`, else 0. */
size_t corpus_wt_link_end(const struct corpus_wt *w, size_t open, size_t b);

/* One template parameter: pos is 1-based for positional ones, 0 for named ones (key [ka, kb));
 * the value is [va, vb); all trimmed. Return nonzero to stop. */
typedef int (*corpus_wt_param_fn)(void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb);
/* Call fn for each parameter of template t (pipes inside nested templates, links, tags and
 * comments do not split). Returns 0 or fn's nonzero value. */
int corpus_wt_params(const struct corpus_wt *w, const struct corpus_wt_tpl *t, corpus_wt_param_fn fn,
                     void *ctx);

/* Reduce MediaWiki wikitext to plain readable text: corpus_wt_walk() over the whole article with
 * white space collapsed, a line break for list items and block tags, a blank line around
 * headings, fields and paragraphs (at most one in a row). [[a|b]] -> b; inline templates
 * rendered ({{convert|5|km}} -> "5 km", {{lang|fr|mot}} -> "mot", date templates -> "2 January
 * 1950"); other templates, tables and refs leave only their cited fields. Unbalanced markup
 * stays as text; time is linear in `len`. Appends to `text` (not touched when the result is
 * empty). Errors: ERR_NOMEM, ERR_LIMIT. */
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

/* The number of words of text[0, len): runs of bytes that are not ASCII white space (the words
 * corpus_chunk() counts; verify/ counts claims with it too). */
int corpus_word_count(const char *text, size_t len);

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
