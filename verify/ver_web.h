/* ver_web.h - the audit's two clients of outside APIs, both over the HTTP client (common/http):
 * the MediaWiki Action API (ver_wiki.c: an article's wikitext and revision by its title or URL)
 * and a SearxNG-compatible JSON web search (ver_websearch.c: suggestions from the web for a
 * failing citation). Included by ver.h. */
#ifndef VC_VER_WEB_H
#define VC_VER_WEB_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* ================================================================ wiki pages (ver_wiki.c) */

#define VER_WIKI_DEFAULT_API "https://en.wikipedia.org/w/api.php"
#define VER_WIKI_TITLE_MAX 255          /* bytes of a title, as MediaWiki allows */
#define VER_WIKI_MAX_BYTES (48u << 20)  /* the API answer's cap (the wikitext inside is capped at
                                           VER_MAX_INPUT by the extractor) */

/* A page as the user named it. */
struct ver_wiki_target {
    char api[2048];                      /* the Action API endpoint (…/w/api.php) */
    char title[VER_WIKI_TITLE_MAX * 3 + 1]; /* the title, underscores as spaces, percent-decoded */
};

/* Read what names a page: its URL ("https://en.wikipedia.org/wiki/SQLite",
 * "…/w/index.php?title=SQLite", mobile hosts too; the API is then …/w/api.php on that host),
 * "LANG:Title" (LANG a Wikipedia language code such as en, de, simple, zh-yue: that Wikipedia),
 * or a bare title (on `api`, else English Wikipedia). With `api` (a --wiki-api URL, may be NULL)
 * every form that is not a URL is a title on that wiki, and a URL's page is asked of `api` too
 * (for wikis whose API is not at /w/api.php). The title is checked as MediaWiki would
 * before any request: not empty, at most 255 bytes of UTF-8, none of # < > [ ] | { } or control
 * characters, no %XX left, no "~~~", not "." or ".." or a path with /./ or /../. Errors: ERR_ARG
 * naming the title or URL and what is wrong. */
int ver_wiki_target(const char *spec, const char *api, struct ver_wiki_target *out, struct err *err);

/* One revision of a page. Strings are owned (ver_wiki_page_cleanup). */
struct ver_wiki_page {
    char *title;           /* the page's title, after normalisation and redirects */
    char *redirected_from; /* the title asked for when it was a redirect, else NULL */
    char *url;             /* the page's URL (the API's fullurl) */
    char *revision_time;   /* ISO 8601 UTC */
    long long revision;    /* the revision id */
    char *wikitext;        /* the revision's content, NUL-terminated, wikitext_len bytes */
    size_t wikitext_len;
};
void ver_wiki_page_cleanup(struct ver_wiki_page *p);

/* Zero-initialise; zeros are the defaults. */
struct ver_wiki_opts {
    long timeout_ms;       /* per attempt; 0: 60000 */
    int retries;           /* on 429, 5xx, timeouts and maxlag answers (Retry-After honoured); 0: 4 */
    long backoff_ms;       /* first retry delay without Retry-After; 0: the client's default */
    const char *contact;   /* a URL or mail address for the User-Agent (Wikimedia asks for one);
                              NULL: $VERICITE_CONTACT when set */
};

struct ver_wiki;
/* A client for wiki APIs (one HTTP client, its connections kept between pages). The guard is off:
 * the API is the user's choice. Not thread-safe. Errors: those of http_client_new. On success
 * *out is owned by the caller and freed with ver_wiki_free(). */
int ver_wiki_new(struct ver_wiki **out, const struct ver_wiki_opts *o, struct err *err);
void ver_wiki_free(struct ver_wiki *w);

/* The current revision of the page `t` names: one query (prop=revisions|info, rvprop
 * content|ids|timestamp, rvslots=main, formatversion=2, redirects=1, maxlag=5). Errors:
 * ERR_NOTFOUND (no such page: the message names the title and the wiki), ERR_ARG (the wiki calls
 * the title invalid, or the page is not wikitext), ERR_NET (the API could not be reached or
 * answered an HTTP error after its retries: the classified reason), ERR_PARSE (not a MediaWiki
 * answer, or an API error: its code and info), ERR_LIMIT, ERR_NOMEM. *out is filled on success
 * only (release with ver_wiki_page_cleanup). */
int ver_wiki_fetch(struct ver_wiki *w, const struct ver_wiki_target *t, struct ver_wiki_page *out,
                   struct err *err);

/* ================================================================ web search (ver_websearch.c) */

#define VER_SEARCH_RESULTS 3 /* results fetched and scored per failing citation, by default */

struct ver_search_hit {
    char *url, *title, *snippet; /* owned */
};

/* The results of one search. */
struct ver_search_answer {
    struct ver_search_hit *hits; /* (n), in the engine's order, owned */
    int n;
    int cached;                  /* 1 when it came from the index's search cache */
};
void ver_search_answer_cleanup(struct ver_search_answer *a);

/* The request URL for `query` on the SearxNG-compatible engine at `base` ("http://host:8888",
 * ".../search" or with a query of its own): GET BASE/search?q=QUERY&format=json. Appended to out.
 * Errors: ERR_ARG (base is not an http(s) URL), ERR_NOMEM. */
int ver_search_url(const char *base, const char *query, struct buf *out, struct err *err);

/* Parse an answer {"results": [{"url", "title", "content"}, ...]}: the first `max` results with an
 * http(s) URL. Errors: ERR_PARSE (not JSON, no results array), ERR_NOMEM. */
int ver_search_parse(const char *json, size_t len, int max, struct ver_search_answer *out, struct err *err);

/* One search. Zero-initialise. */
struct ver_search_opts {
    const char *base; /* the engine (--search-url), see ver_search_url */
    int max;          /* results kept; 0: VER_SEARCH_RESULTS */
    long timeout_ms;  /* 0: 20000 */
    int offline;      /* the index's search cache only */
    int refresh;      /* ask the engine even when the answer is cached */
};

struct idx;
/* Search `query`: the answer cached in `ix` for this request URL, else the engine's (its own
 * HTTP client, guard off: the engine is the user's; retried on 429/5xx), which is then cached.
 * Errors: ERR_ARG (a bad base URL), ERR_NET (the engine could not be reached or answered an
 * error: the classified reason), ERR_PARSE (not a SearxNG JSON answer), ERR_SQLITE, ERR_NOMEM.
 * *out is filled on success (release with ver_search_answer_cleanup); offline without a cached
 * answer gives no hits and ERR_OK. */
int ver_search(struct idx *ix, const struct ver_search_opts *o, const char *query, struct ver_search_answer *out,
               struct err *err);

#endif
