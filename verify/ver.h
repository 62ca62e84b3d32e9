/* ver.h - citation verification: extracting claims and their citations from an article, fetching
 * the cited sources, scoring and suggestions. The only module that reaches PCRE2 and libcurl. */
#ifndef VC_VER_H
#define VC_VER_H

#include <stddef.h>

#include "err.h"

/* ================================================================ claims and citations
 * ver_extract.c, ver_wikitext.c, ver_markdown.c, ver_sent.c */

#define VER_MAX_INPUT (16u << 20) /* cap on one article given to ver_extract: 16 MiB (ERR_LIMIT) */

enum ver_format {
    VER_FMT_AUTO = 0,  /* JSONL when the first non-space bytes are `{"` (or `{}`); Markdown when it has
                          `[^` footnotes, `](http` links, `[label]: http` lines or a <ref inside
                          `code` or fenced code, and no <ref outside code; else wikitext */
    VER_FMT_WIKITEXT,  /* MediaWiki wikitext (also HTML-escaped wikitext as found in XML dumps) */
    VER_FMT_MARKDOWN,  /* footnotes [^n] with `[^n]: definition`, inline links [text](url), reference
                          links [text][label] with `[label]: url "title"` */
    VER_FMT_CLAIMS     /* JSON Lines: {"claim": "...", "url": "...", "title": "..."} per line */
};

/* One citation attached to a claim. Every string is owned by the citation (freed by
 * ver_article_free) and is NULL when absent. */
struct ver_citation {
    int ref;           /* number in the article's reference list (per group), 1-based; a reused named
                          ref keeps its number; 0 for needs_source markers */
    char *name;        /* <ref name=...>, {{r|name}}, Markdown footnote label */
    char *group;       /* <ref group=...> */
    char *url;         /* the cited URL (cite template url=, [url label], bare URL, Markdown link) */
    char *archive_url; /* archive-url= or {{webarchive|url=}} */
    char *url_status;  /* url-status= ("dead", "live", ...; deadurl=yes gives "dead") */
    char *title;       /* title= or link label; for free-text refs their plain text (capped) */
    char *work;        /* website= / work= / newspaper= / journal= / publisher= */
    char *date;        /* date= (else year=) */
    char *quote;       /* quote= */
    char *doi;
    char *isbn;
    char *pmid;
    char *raw;         /* the ref's wikitext (ref content, {{sfn}} or marker template) */
    int needs_source;  /* {{citation needed}}/{{cn}}/{{fact}}/{{failed verification}}: no source */
};

/* One claim: a sentence closed by one or more citations. Strings owned by the claim. */
struct ver_claim {
    char *text;                /* plain text of the sentence (with the one before when short) */
    char *section;             /* current == heading == ("" or the title before any heading) */
    size_t offset;             /* byte offset in the input where the claim text starts */
    int ncit;
    struct ver_citation *cits; /* (ncit), owned */
};

/* An extracted article; free with ver_article_free(). */
struct ver_article {
    char *title;              /* the title given to ver_extract ("" when none), owned */
    char *path;               /* NULL from ver_extract; a caller may set it to a malloc'ed string,
                                 which ver_article_free then frees */
    /* Where the text came from when it is a wiki page (ver_wiki_fetch): NULL from ver_extract; a
     * caller may point them at strings that outlive the article (not freed with it). The audit
     * copies them into every result. */
    const char *url;           /* the article's URL ("https://en.wikipedia.org/wiki/SQLite") */
    const char *revision_time; /* the revision's timestamp, ISO 8601 UTC */
    long long revision;        /* the revision id; 0 when none */
    int nclaims;
    struct ver_claim *claims; /* (nclaims), in input order, owned */
    int nrefs;                /* distinct references cited in the text (named refs and identical
                                 {{sfn}} counted once; needs_source markers not counted) */
    int nneeds;               /* needs_source markers ({{cn}} etc.) */
    int nbiblio;              /* full cite templates outside any ref (bibliography, {{sfn}} targets) */
};

/* A reusable extractor holding the compiled regular expressions and scratch match data. Not
 * thread-safe: use one per thread. On success *out is a new handle the caller owns and frees with
 * ver_extractor_free(); on failure *out is NULL and err says why (ERR_NOMEM, ERR_INTERNAL). */
struct ver_extractor;
int ver_extractor_new(struct ver_extractor **out, struct err *err);
/* Free a handle from ver_extractor_new(). NULL is allowed. */
void ver_extractor_free(struct ver_extractor *x);

/* Extract the claims of `text` (len bytes, need not be NUL-terminated) in format `fmt`. `title`
 * (may be NULL) is copied. On success *out is a new article owned by the caller (free with
 * ver_article_free); on failure *out is NULL and err says why: ERR_LIMIT (input over
 * VER_MAX_INPUT), ERR_UTF8 (input not valid UTF-8: repair it first, utf8_repair), ERR_PARSE (a
 * malformed JSONL line, message names the line), ERR_NOMEM.
 * Text with no citation gives an article with nclaims == 0, not an error. */
int ver_extractor_run(struct ver_extractor *x, struct ver_article **out, const char *text, size_t len,
                      enum ver_format fmt, const char *title, struct err *err);

/* One-shot ver_extractor_run() with a temporary extractor (compiling the patterns costs ~0.1 ms). */
int ver_extract(struct ver_article **out, const char *text, size_t len, enum ver_format fmt,
                const char *title, struct err *err);

/* Free an article from ver_extract(). NULL is allowed. */
void ver_article_free(struct ver_article *a);

/* The format VER_FMT_AUTO resolves to for `text` (never VER_FMT_AUTO). */
enum ver_format ver_detect_format(const char *text, size_t len);

/* Called once per sentence with its byte span [start, end) in the text (no leading or trailing
 * white space; closing quotes and brackets after the final stop are included). Return nonzero to
 * stop (ver_sentences then returns that value). */
typedef int (*ver_sent_cb)(void *ctx, size_t start, size_t end);

/* Split `len` bytes of plain text into sentences. A sentence ends at . ! ? or an ellipsis followed
 * by white space and a word that does not start in lower case; not after abbreviations (Mr. Dr.
 * St. Inc. No. Jan. ...), dotted abbreviations (U.S., e.g., i.e.), single letters (initials, c.),
 * nor inside numbers (3.14), nor inside a double quotation that closes on the same line within
 * 500 bytes of its opening mark (He wrote, "We won. It was great." is one sentence). A blank line
 * always ends a sentence. Returns 0 or the callback's nonzero value. */
int ver_sentences(const char *text, size_t len, ver_sent_cb cb, void *ctx);

/* Number of white-space separated words in `len` bytes of `text` (corpus_word_count(): claims and
 * passages count words the same way). */
int ver_word_count(const char *text, size_t len);

/* ================================================================ end of claims and citations */


/* ================================================================ the audit
 * ver_audit.c: for each citation of an article, get the cited source (the corpus copy, the fetch
 * cache, or the web), score how well it supports the claim, and suggest better corpus sources. */

#include "index/idx.h"
#include "verify/ver_fetch.h"
#include "verify/ver_score.h"
#include "verify/ver_nli.h"

/* What became of one citation, worst first in this order. */
enum ver_status {
    VER_ST_DEAD = 0,     /* the URL answered 404 or 410 (and no archive copy helped) */
    VER_ST_UNREACHABLE,  /* network error, timeout, refused address, other HTTP error, or --offline */
    VER_ST_NO_TEXT,      /* the source has no readable text (empty, PDF, image, over the size cap) */
    VER_ST_NO_URL,       /* no URL and no corpus document (also {{citation needed}} markers) */
    VER_ST_CONTRADICTED, /* the passage that matches the claim best says something else: another
                            number or date, the negation, an antonym (detail says what) */
    VER_ST_UNSUPPORTED,  /* scored below the model's weak threshold */
    VER_ST_WEAK,         /* between the thresholds */
    VER_ST_SUPPORTED     /* at or above the supported threshold */
};
/* "dead", "unreachable", "no-text", "no-url", "contradicted", "unsupported", "weak",
 * "supported". */
const char *ver_status_name(int status);
/* The verdicts, 0 .. VER_ST_COUNT - 1; VER_ST_SUPPORTED is always the last. Code that counts or
 * classifies verdicts goes by this order (worst first), never by their numbers: stored results
 * keep the verdict's name (ver_status_name), which stays when verdicts are added. */
#define VER_ST_COUNT (VER_ST_SUPPORTED + 1)
/* The status named `name` (as ver_status_name gives it), or -1 when there is none. */
int ver_status_from_name(const char *name);

enum ver_suggest_mode { VER_SUGGEST_FAILING = 0, VER_SUGGEST_ALL, VER_SUGGEST_NONE };

/* Zero-initialise; zeros are the defaults. */
struct ver_audit_opts {
    int offline;                     /* never fetch: corpus and cache only */
    int allow_private;               /* allow loopback/private addresses (a local mirror, tests) */
    const char *const *allow_hosts;  /* extra "IP:port" allowed with the guard on (tests) */
    enum ver_suggest_mode suggest;
    int max_suggestions;             /* 0: 3 */
    int candidates;                  /* corpus documents re-scored per citation; 0: 10 */
    /* NULL (the learned ranker orders suggestions), or a reranker: an imported cross-encoder
     * (rerank: a name or .vcnn path) or a /rerank endpoint (rerank_url, with rerank_model sent),
     * as ret_reranker_new takes them. Then the top rerank_depth corpus documents BM25 finds for
     * the claim (0: RET_RERANK_DEFAULT_DEPTH) are re-scored by it against the claim, the first
     * `candidates` of its order are scored by the verifier and kept or dropped by the ranker as
     * without it (the ranker's features still come from BM25's order), and the suggestions are
     * shown in the reranker's order (ver_suggestion.rerank). */
    const char *rerank, *rerank_url, *rerank_model;
    int rerank_depth;
    int rerank_threads;              /* the cross-encoder's threads (0: 1) */
    const char *model_path;          /* verifier model; NULL: the built-in one */
    long fetch_timeout_ms;           /* 0: 20000 */
    size_t max_bytes;                /* 0: 10 MB */
    int refresh;                     /* ignore the fetch cache (fetch again) */
    /* NULL, or the progress of the audit's fetches, called on the auditing thread: with
     * (urls, n, n, NULL) when n fetches start, (urls, n, i, d) each time urls[i] has ended, and
     * (NULL, 0, 0, NULL) when they are over. The strings are valid until that last call. */
    void (*on_fetch)(void *ud, const char *const *urls, size_t n, size_t i, const struct ver_fetch_done *d);
    void *on_fetch_ud;
    /* NULL (off), or a SearxNG-compatible JSON search API (ver_search_url): failing citations
     * also get suggestions from the web: the claim (with the article title) is searched, the
     * top `search_results` pages (0: VER_SEARCH_RESULTS) are read as cited pages are (the
     * corpus, the fetch cache, the fetcher with its guard) and scored like corpus documents.
     * Answers and pages are cached in the index; --offline uses the caches only. */
    const char *search_url;
    int search_results;
    /* NULL (the lexical verifier), or an NLI model (a name or a .vcnn path: ver_nli_new) whose
     * entailment probability is the support score, cited sources and suggestions alike; the
     * lexical scorer still picks the windows it reads and gives matches, missing parts and the
     * suggestion ranker's features. */
    const char *verifier;
#define VER_AUDIT_HAS_VERIFIER 1 /* this struct has .verifier (for tests/bench/ver_eval.c) */
    int verifier_threads;   /* the model's threads (0: 1) */
    int verifier_windows;   /* windows per source it reads (0: VER_NLI_MAX_WINDOWS) */
    /* NULL (none), or an LLM judge (ver_judge_new's url) asked about every cited source that
     * was read: its verdict replaces the verifier's (the score stays the verifier's); a judge that
     * fails leaves the verifier's verdict and says why (ver_result.judge_fail). Its address goes
     * through the guard above (allow_private, allow_hosts). */
    const char *judge_url;
    const char *judge_model; /* NULL or "": no "model" member */
    const char *judge_key;   /* the API key (borrowed; NULL: none); the CLI reads it from
                                $VER_JUDGE_KEY_ENV, never from the command line */
    long judge_timeout_ms;   /* 0: VER_JUDGE_DEFAULT_TIMEOUT_MS */
    /* The budget of one ver_audit call: the bytes its results would take as records (about what
     * the JSON output holds, and what the results hold in memory); over it the audit fails with
     * ERR_LIMIT naming the limit. 0: VER_AUDIT_MAX_OUTPUT. */
    size_t max_output;
};

#define VER_AUDIT_MAX_OUTPUT (128u << 20) /* default budget of one audit: 128 MiB */
#define VER_CLAIM_MAX 1000 /* longest claim kept in a result, in bytes: a longer one is cut on a
                              character boundary (ver_result.claim_cut) */

#define VER_MAX_SUGGEST 5

struct ver_suggestion {
    char *doc_id, *url, *title;
    char *evidence;            /* the best passage of the suggested document */
    char *cite;                /* a ready-to-paste {{cite web ...}} */
    double score;              /* the ranker's probability that this is the right source: the
                                  suggestions are ordered by it, and none is below the model's
                                  floor (ver_scorer_suggest_floor) */
    double support;            /* the verifier's support score of the claim by it */
    char *from;                /* where it was found: "corpus", or "web" (a web search result);
                                  NULL counts as "corpus" */
    int reranked;              /* 1 when `rerank` holds the reranker's score (ver_audit_opts) */
    double rerank;
};

/* One audited citation. Every string is owned by the result (ver_results_free). */
struct ver_result {
    char *article;             /* the input path as given ("-" for stdin) */
    char *article_title, *section;
    char *claim;               /* the claim, at most VER_CLAIM_MAX bytes. Stored once: the results
                                  of one claim follow each other and share this string (the same
                                  pointer), which ver_results_free frees once */
    int claim_id;              /* the claim's number in the article, from 0: citations of one
                                  sentence have the same */
    int claim_cut;             /* 1 when the claim was longer than VER_CLAIM_MAX and was cut */
    int ref;                   /* the reference's number (0: a needs-source marker) */
    char *url;                 /* the cited URL ("" when none) */
    char *title;               /* the cited work's title ("" when none) */
    int status;                /* enum ver_status */
    double score;              /* support score in [0, 1]; 0 when nothing could be scored */
    char *evidence;            /* the best passage of the source ("" when none) */
    struct ver_span match[VER_SCORE_MAX_MATCH]; /* claim words in evidence (byte spans) */
    int nmatch;
    char *source;              /* where the text came from originally: corpus, web (fetched now or
                                  earlier: the fetch cache does not show), archive, file, "" */
    char *source_title;        /* the title of the page that was read (the corpus document's, the
                                  fetched page's <title>), "" when none or unreadable */
    int title_mismatch;        /* 1 when the citation's title= and source_title both exist and name
                                  different things (ver_title_mismatch): the ref may point at the
                                  wrong page */
    char *article_url;         /* the article's URL ("" for a file) */
    char *revision_time;       /* the article revision's timestamp ("" when none) */
    long long revision;        /* the article's revision id (0 when none) */
    char *detail;              /* why, for dead/unreachable/no-text; what clashed for
                                  contradicted ("claim says \"1950\", source says \"1952\"");
                                  "" otherwise */
    struct ver_span missing[VER_SCORE_MAX_MISSING]; /* weak/unsupported: the parts of the claim
                                  the evidence does not cover (byte spans of `claim`) */
    int nmissing;
    double contradiction;      /* the NLI verifier's contradiction probability of the source's most
                                  contradicting window; -1 when not measured (the lexical
                                  verifier, nothing read) */
    char *judge;               /* NULL or "": no judge asked; else the judge's verdict as answered
                                  ("supported", "partial", "unsupported", "contradicted") or
                                  "failed" */
    char *judge_evidence;      /* what the judge quoted (NULL or "" when none) */
    char *judge_fail;          /* judge "failed": the class ("malformed", "timeout", "http", ...) */
    char *judge_message;       /* ... and what exactly */
    int nsugg;
    struct ver_suggestion sugg[VER_MAX_SUGGEST];
};

struct ver_auditor;

/* An auditor over index `ix` (borrowed; opened read-write so fetches are cached in it).
 * Requires curl_global_init() in main(). `o` may be NULL; it is copied.
 * On success *out is owned by the caller and freed with ver_auditor_free(). */
int ver_auditor_new(struct ver_auditor **out, struct idx *ix, const struct ver_audit_opts *o,
                    struct err *err);
void ver_auditor_free(struct ver_auditor *a);
/* The reranker's identity (ret_reranker_id), "" without one. */
const char *ver_auditor_reranker(const struct ver_auditor *a);
/* The last problem the auditor met that is no citation's (the web search engine could not be
 * reached, answered an error...): "" when none. Valid until the next ver_audit/ver_verify. */
const char *ver_auditor_note(const struct ver_auditor *a);

/* Audit every citation of `art` (from ver_extract). `path` is recorded in each result. On success
 * *out is a new array of *n results in article order (free with ver_results_free). Per-citation
 * problems become statuses, not errors; errors are ERR_NOMEM, ERR_SQLITE and the like. */
int ver_audit(struct ver_auditor *a, const struct ver_article *art, const char *path,
              struct ver_result **out, int *n, struct err *err);

/* Check one claim against one source: `source` is an http(s) URL, or plain/HTML text when
 * `is_text` (a file's contents). Fills *out (free with ver_results_free(out, 1)). */
int ver_verify(struct ver_auditor *a, const char *claim, const char *source, int is_text,
               struct ver_result *out, struct err *err);

/* Free the strings of results r[0..n) (not the array). Consecutive results with the same claim
 * pointer share it (ver_audit makes them so): it is freed once. NULL is allowed. */
void ver_results_free(struct ver_result *r, int n);

/* 1 when a citation's stated title and the title of the page it points at name different things:
 * both have words (as the index tokenizes them) and fewer than half of the stated title's words
 * are in the page's ("Write-Ahead Logging" vs "VACUUM": 1; "Write-Ahead Logging" vs "Write-Ahead
 * Logging - SQLite": 0). 0 when either is empty or NULL, for generic titles ("Official website")
 * and when out of memory. (ver_title.c) */
int ver_title_mismatch(const char *stated, const char *real);

/* The stored record of a result, the store protocol and the batch runner. */
#include "verify/ver_batch.h"

/* The wiki API and web search clients. */
#include "verify/ver_web.h"

#endif
