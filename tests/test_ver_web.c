/* test_ver_web.c - the audit's outside APIs, each against a loopback fake the test starts:
 * auditing a wiki page by name (how pages are named, the titles MediaWiki refuses, the page by
 * title and by URL, a redirect, a missing page, 429 and maxlag answers retried after Retry-After,
 * a file of titles; the revision and the page's URL in every output), and suggestions from a
 * SearxNG-compatible web search (the request, the answer, the pages fetched under the guard,
 * both cached). */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#include "test.h"
#include "testhttp.h"
#include "verify/ver.h"

TEST(wiki_target_forms)
{
    struct ver_wiki_target t;
    struct err e = {0};
    REQUIRE_OK(ver_wiki_target("https://en.wikipedia.org/wiki/SQLite", NULL, &t, &e), e);
    CHECK(!strcmp(t.api, "https://en.wikipedia.org/w/api.php") && !strcmp(t.title, "SQLite"));
    REQUIRE_OK(ver_wiki_target("https://de.m.wikipedia.org/wiki/Caf%C3%A9_M%C3%BCller#History", NULL, &t, &e), e);
    CHECK(!strcmp(t.api, "https://de.m.wikipedia.org/w/api.php") && !strcmp(t.title, "Caf\xC3\xA9 M\xC3\xBCller"));
    REQUIRE_OK(ver_wiki_target("https://wiki.example.org/w/index.php?action=edit&title=Star+Wars%3A_Episode_IV", NULL,
                               &t, &e),
               e);
    CHECK(!strcmp(t.api, "https://wiki.example.org/w/api.php") && !strcmp(t.title, "Star Wars: Episode IV"));
    REQUIRE_OK(ver_wiki_target("en:Ada_Lovelace", NULL, &t, &e), e);
    CHECK(!strcmp(t.api, "https://en.wikipedia.org/w/api.php") && !strcmp(t.title, "Ada Lovelace"));
    REQUIRE_OK(ver_wiki_target("zh-yue:X", NULL, &t, &e), e);
    CHECK(!strcmp(t.api, "https://zh-yue.wikipedia.org/w/api.php"));
    /* a colon that is not a language code is part of the title, on English Wikipedia */
    REQUIRE_OK(ver_wiki_target("Star Wars: Episode IV", NULL, &t, &e), e);
    CHECK(!strcmp(t.api, VER_WIKI_DEFAULT_API) && !strcmp(t.title, "Star Wars: Episode IV"));
    REQUIRE_OK(ver_wiki_target("  Talk:Foo  ", "http://127.0.0.1:9/w/api.php", &t, &e), e);
    CHECK(!strcmp(t.api, "http://127.0.0.1:9/w/api.php") && !strcmp(t.title, "Talk:Foo"));
    /* refused before any request, naming what is wrong */
    static const struct {
        const char *spec, *why;
    } bad[] = {{"en:", "empty"},
               {"Foo|bar", "'|'"},
               {"A [b]", "'['"},
               {"x{{y}}", "'{'"},
               {"Tilde~~~", "~~~"},
               {"100%41", "percent"},
               {"..", "relative"},
               {"a/../b", "relative"},
               {":Foo", "':'"},
               {"https://en.wikipedia.org/about", "not a wiki page URL"},
               {"https://en.wikipedia.org/wiki/", "not a wiki page URL"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct err e2 = {0};
        int rc = ver_wiki_target(bad[i].spec, NULL, &t, &e2);
        if (rc != ERR_ARG || !t_contains(e2.msg, bad[i].why)) {
            fprintf(stderr, "  %s: rc %d, %s\n", bad[i].spec, rc, e2.msg);
            t_->failed = 1;
        }
    }
    char longt[400];
    memset(longt, 'a', 300);
    longt[300] = '\0';
    CHECK(ver_wiki_target(longt, NULL, &t, &e) == ERR_ARG && t_contains(e.msg, "255"));
}

/* ---------------------------------------------------------------- a fake MediaWiki API */

struct fake_wiki {
    pthread_mutex_t mu;
    int port;
    int busy_seen, lag_seen, requests, bad_ua, bad_params;
};

static const char sqlite_wikitext[] =
    "'''SQLite''' is a database engine.\n\n== Design ==\n"
    "Foreign key constraints are disabled by default, so they must be enabled for each database connection."
    "<ref>{{cite web |url=https://www.sqlite.org/foreignkeys.html |title=SQLite Foreign Key Support}}</ref>\n";

/* The JSON answer with the page `title` (SQLite's text), after a redirect from `from` when set. */
static void page_answer(struct buf *b, int port, const char *title, const char *from)
{
    json_t *q = json_object();
    if (from) json_object_set_new(q, "redirects", json_pack("[{s:s, s:s}]", "from", from, "to", title));
    char url[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/wiki/%s", port, title);
    json_object_set_new(q, "pages",
                        json_pack("[{s:i, s:i, s:s, s:s, s:[{s:i, s:i, s:s, s:{s:{s:s, s:s, s:s}}}]}]", "pageid", 7,
                                  "ns", 0, "title", title, "fullurl", url, "revisions", "revid", 1234, "parentid",
                                  1200, "timestamp", "2024-05-01T12:00:00Z", "slots", "main", "contentmodel",
                                  "wikitext", "contentformat", "text/x-wiki", "content", sqlite_wikitext));
    json_t *root = json_pack("{s:b, s:o}", "batchcomplete", 1, "query", q);
    char *s = json_dumps(root, JSON_COMPACT);
    buf_puts(b, s);
    free(s);
    json_decref(root);
}

static void wiki_handler(void *ud, const struct th_request *rq, struct th_response *rs)
{
    struct fake_wiki *f = ud;
    char ua[256] = "";
    th_header(rq, "User-Agent", ua, sizeof ua);
    pthread_mutex_lock(&f->mu);
    f->requests++;
    if (strncmp(ua, "vericite/", 9) != 0) f->bad_ua++;
    const char *t = rq->target;
    if (strncmp(t, "/w/api.php?", 11) || !strstr(t, "action=query") || !strstr(t, "formatversion=2") ||
        !strstr(t, "maxlag=5") || !strstr(t, "rvslots=main") || !strstr(t, "redirects=1") ||
        !strstr(t, "rvprop=content%7Cids%7Ctimestamp"))
        f->bad_params++;
    int busy = strstr(t, "titles=Busy") && f->busy_seen++ == 0;
    int lag = strstr(t, "titles=Lagged") && f->lag_seen++ == 0;
    int port = f->port;
    pthread_mutex_unlock(&f->mu);
    if (busy) {
        rs->status = 429;
        snprintf(rs->headers, sizeof rs->headers, "Retry-After: 1\r\n");
        buf_puts(&rs->body, "{\"error\": \"too many requests\"}");
    } else if (lag) { /* MediaWiki's maxlag answer: 200 with an error */
        snprintf(rs->headers, sizeof rs->headers, "Retry-After: 1\r\n");
        buf_puts(&rs->body, "{\"error\": {\"code\": \"maxlag\", \"info\": \"Waiting for a replica: 6 seconds lagged.\"}}");
    } else if (strstr(t, "titles=Sqlite")) {
        page_answer(&rs->body, port, "SQLite", "Sqlite");
    } else if (strstr(t, "titles=SQLite") || strstr(t, "titles=Busy") || strstr(t, "titles=Lagged")) {
        page_answer(&rs->body, port, "SQLite", NULL);
    } else {
        const char *n = strstr(t, "titles=");
        char title[128];
        snprintf(title, sizeof title, "%s", n ? n + 7 : "");
        title[strcspn(title, "&")] = '\0';
        for (char *p = title, *w = title;; p++) { /* %20 as a space: enough for these titles */
            if (!strncmp(p, "%20", 3)) {
                *w++ = ' ';
                p += 2;
            } else if (!(*w++ = *p)) {
                break;
            }
        }
        buf_printf(&rs->body, "{\"batchcomplete\": true, \"query\": {\"pages\": [{\"ns\": 0, \"title\": \"%s\", \"missing\": true}]}}",
                   title);
    }
}

static const char wiki_corpus[] =
    "{\"_id\": \"fk\", \"title\": \"SQLite Foreign Key Support\", \"url\": \"https://www.sqlite.org/foreignkeys.html\", "
    "\"text\": \"Foreign key constraints are disabled by default, so they must be enabled for each database "
    "connection separately.\"}\n";

TEST(wiki_audit_fake_api)
{
    struct fake_wiki f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct th_server *srv = NULL;
    REQUIRE(th_start(&srv, wiki_handler, &f) == 0);
    pthread_mutex_lock(&f.mu); /* the handler reads it */
    f.port = th_port(srv);
    pthread_mutex_unlock(&f.mu);
    const char *dir = t_tmpdir(t_);
    const char *c = t_write(t_, dir, "c.jsonl", wiki_corpus, strlen(wiki_corpus));
    char ix[600], api[128], html[700];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(html, sizeof html, "%s/r.html", dir);
    snprintf(api, sizeof api, "http://127.0.0.1:%d/w/api.php", f.port);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    char *out = NULL, *err = NULL;

    /* by URL: the API beside it; the revision and the page's URL in the JSON */
    int rc = t_run(t_, &out, &err, "audit --db '%s' --offline --json --html '%s' http://127.0.0.1:%d/wiki/SQLite", ix,
                   html, f.port);
    CHECK(rc == 0);
    json_t *arr = t_json_lines(out);
    json_t *r0 = json_array_get(arr, 0);
    char page_url[128];
    snprintf(page_url, sizeof page_url, "http://127.0.0.1:%d/wiki/SQLite", f.port);
    CHECK(json_array_size(arr) == 1 && r0);
    CHECK(r0 && json_integer_value(json_object_get(r0, "revision")) == 1234);
    CHECK(r0 && !strcmp(t_json_str(r0, "article_url"), page_url) && !strcmp(t_json_str(r0, "article_title"), "SQLite"));
    CHECK(r0 && !strcmp(t_json_str(r0, "revision_time"), "2024-05-01T12:00:00Z"));
    CHECK(r0 && !strcmp(t_json_str(r0, "verdict"), "supported") && !strcmp(t_json_str(r0, "source"), "corpus"));
    json_decref(arr);
    free(out);
    free(err);
    char *page = t_read(html, NULL);
    CHECK(page && t_contains(page, "oldid=1234") && t_contains(page, "revision") && t_contains(page, page_url));
    free(page);
    /* the table's header names the page and its revision */
    rc = t_run(t_, &out, NULL, "audit --db '%s' --offline --wiki SQLite --wiki-api '%s'", ix, api);
    CHECK(rc == 0 && t_contains(out, "article: SQLite") && t_contains(out, page_url) && t_contains(out, "revision 1234"));
    free(out);

    /* a redirect is followed and reported */
    rc = t_run(t_, &out, &err, "audit --db '%s' --offline --json --wiki Sqlite --wiki-api '%s'", ix, api);
    CHECK(rc == 0 && t_contains(err, "\"Sqlite\" redirects to \"SQLite\"") && t_contains(out, "\"article_title\":\"SQLite\""));
    free(out);
    free(err);

    /* a missing page is an error naming it */
    rc = t_run(t_, &out, &err, "audit --db '%s' --offline --json --wiki No_such_page --wiki-api '%s'", ix, api);
    CHECK(rc == 1 && t_contains(err, "no page \"No such page\"") && !t_contains(out, "verdict"));
    free(out);
    free(err);

    /* 429 with Retry-After, and a maxlag answer: waited for and asked again */
    rc = t_run(t_, &out, &err, "audit --db '%s' --offline --json --wiki Busy --wiki Lagged --wiki-api '%s'", ix, api);
    arr = t_json_lines(out);
    CHECK(rc == 0 && json_array_size(arr) == 2);
    json_decref(arr);
    pthread_mutex_lock(&f.mu);
    CHECK(f.busy_seen == 2 && f.lag_seen == 2); /* the refusal, then the retry */
    pthread_mutex_unlock(&f.mu);
    free(out);
    free(err);

    /* pages are audited one after another, not in batch mode */
    rc = t_run(t_, NULL, &err, "audit --db '%s' --offline --jobs 2 --wiki SQLite --wiki-api '%s'", ix, api);
    CHECK(rc == 2 && t_contains(err, "one after another"));
    free(err);

    /* a file of titles; an invalid one is refused before any request */
    static const char list[] = "# pages to check\nSQLite\n\nSqlite\n";
    const char *lf = t_write(t_, dir, "pages.txt", list, strlen(list));
    rc = t_run(t_, &out, NULL, "audit --db '%s' --offline --json --wiki-list '%s' --wiki-api '%s'", ix, lf, api);
    arr = t_json_lines(out);
    CHECK(rc == 0 && json_array_size(arr) == 2);
    json_decref(arr);
    free(out);
    pthread_mutex_lock(&f.mu);
    int before = f.requests;
    pthread_mutex_unlock(&f.mu);
    static const char badlist[] = "SQLite\nFoo|bar\n";
    lf = t_write(t_, dir, "bad.txt", badlist, strlen(badlist));
    rc = t_run(t_, NULL, &err, "audit --db '%s' --offline --json --wiki-list '%s' --wiki-api '%s'", ix, lf, api);
    CHECK(rc == 2 && t_contains(err, "Foo|bar") && t_contains(err, "bad.txt"));
    free(err);
    pthread_mutex_lock(&f.mu);
    CHECK(f.requests == before);
    /* every request named vericite and asked what MediaWiki's API wants */
    CHECK(f.bad_ua == 0 && f.bad_params == 0);
    pthread_mutex_unlock(&f.mu);
    th_stop(srv);
}

/* ---------------------------------------------------------------- web search */

TEST(web_search_url_and_answer)
{
    struct buf b = {0};
    struct err e = {0};
    REQUIRE_OK(ver_search_url("http://127.0.0.1:8888", "Aletsch glacier 1.3 km & more", &b, &e), e);
    CHECK(!strcmp(b.data, "http://127.0.0.1:8888/search?q=Aletsch+glacier+1.3+km+%26+more&format=json"));
    buf_reset(&b);
    REQUIRE_OK(ver_search_url("https://searx.example.org/searx/search/", "x", &b, &e), e);
    CHECK(!strcmp(b.data, "https://searx.example.org/searx/search?q=x&format=json"));
    buf_reset(&b);
    REQUIRE_OK(ver_search_url("http://h:1/?language=en", "x", &b, &e), e);
    CHECK(!strcmp(b.data, "http://h:1/search?language=en&q=x&format=json"));
    CHECK(ver_search_url("ftp://h", "x", &b, &e) == ERR_ARG);
    buf_cleanup(&b);
    static const char ans[] = "{\"query\": \"x\", \"results\": [{\"url\": \"javascript:alert(1)\", \"title\": \"no\"},"
                              "{\"url\": \"https://a.example/1\", \"title\": \"One\", \"content\": \"first\"},"
                              "{\"url\": \"http://b.example/2\"}, {\"url\": \"https://c.example/3\"}]}";
    struct ver_search_answer a;
    REQUIRE_OK(ver_search_parse(ans, strlen(ans), 2, &a, &e), e);
    CHECK(a.n == 2 && !strcmp(a.hits[0].url, "https://a.example/1") && !strcmp(a.hits[0].title, "One") &&
          !strcmp(a.hits[0].snippet, "first") && !strcmp(a.hits[1].url, "http://b.example/2") &&
          !strcmp(a.hits[1].title, ""));
    ver_search_answer_cleanup(&a);
    CHECK(ver_search_parse("{\"answers\": []}", 15, 3, &a, &e) == ERR_PARSE && t_contains(e.msg, "results"));
    CHECK(ver_search_parse("<html>", 6, 3, &a, &e) == ERR_PARSE);
}

struct fake_search {
    pthread_mutex_t mu;
    int port, searches, pages;
    char last_q[512];
};

static const char good_page[] =
    "<html><head><title>Glacier retreat in the Alps</title></head><body><p>The Aletsch Glacier lost about 1.3 "
    "kilometres of length between 1980 and 2020, the survey found.</p><p>Warmer summers drove it.</p></body></html>";
static const char other_page[] =
    "<html><head><title>Bees</title></head><body><p>Honey bees dance to tell the hive where flowers "
    "are.</p></body></html>";
static const char wrong_page[] =
    "<html><head><title>Rivers</title></head><body><p>The Rhone river starts at the Rhone glacier and flows "
    "into Lake Geneva, a large lake of the Alps.</p></body></html>";

static void search_handler(void *ud, const struct th_request *rq, struct th_response *rs)
{
    struct fake_search *f = ud;
    const char *t = rq->target;
    snprintf(rs->ctype, sizeof rs->ctype, "text/html");
    if (!strncmp(t, "/search?", 8)) {
        pthread_mutex_lock(&f->mu);
        f->searches++;
        const char *q = strstr(t, "q=");
        snprintf(f->last_q, sizeof f->last_q, "%s", q ? q + 2 : "");
        f->last_q[strcspn(f->last_q, "&")] = '\0';
        int port = f->port;
        pthread_mutex_unlock(&f->mu);
        snprintf(rs->ctype, sizeof rs->ctype, "application/json");
        buf_printf(&rs->body,
                   "{\"query\": \"x\", \"number_of_results\": 3, \"results\": ["
                   "{\"url\": \"http://127.0.0.1:%d/other.html\", \"title\": \"Bees\", \"content\": \"bees\", "
                   "\"engine\": \"fake\"},"
                   "{\"url\": \"http://127.0.0.1:%d/good.html\", \"title\": \"Glacier study\", \"content\": "
                   "\"Aletsch...\", \"engine\": \"fake\"},"
                   "{\"url\": \"http://127.0.0.1:%d/wrong.html\", \"title\": \"Rivers\"}]}",
                   port, port, port);
        return;
    }
    pthread_mutex_lock(&f->mu);
    f->pages++;
    pthread_mutex_unlock(&f->mu);
    if (!strcmp(t, "/good.html")) buf_puts(&rs->body, good_page);
    else if (!strcmp(t, "/other.html")) buf_puts(&rs->body, other_page);
    else if (!strcmp(t, "/wrong.html")) buf_puts(&rs->body, wrong_page);
    else rs->status = 404;
}

/* The web suggestion of the only result of an audit's JSON output, or NULL. */
static json_t *web_suggestion(json_t *arr)
{
    json_t *s = NULL, *o = json_array_get(arr, 0);
    size_t i;
    json_array_foreach(json_object_get(o, "suggestions"), i, s) {
        if (!strcmp(t_json_str(s, "from"), "web")) return s;
    }
    return NULL;
}

TEST(web_search_suggestions)
{
    struct fake_search f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct th_server *srv = NULL;
    REQUIRE(th_start(&srv, search_handler, &f) == 0);
    pthread_mutex_lock(&f.mu); /* the handler reads it */
    f.port = th_port(srv);
    pthread_mutex_unlock(&f.mu);
    const char *dir = t_tmpdir(t_);
    static const char corpus[] = "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated text about trains.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    char ix[600], art[1024];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    snprintf(art, sizeof art,
             "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020."
             "<ref>{{cite web |url=http://127.0.0.1:%d/wrong.html |title=Glacier survey}}</ref>\n",
             f.port);
    const char *a = t_write(t_, dir, "Aletsch_Glacier.wiki", art, strlen(art));
    char *out = NULL, *err = NULL;
    int rc = t_run(t_, &out, &err,
                   "audit --db '%s' --json --timeout 5s --allow-host 127.0.0.1:%d --search-url http://127.0.0.1:%d '%s'",
                   ix, f.port, f.port, a);
    CHECK(rc == 0);
    json_t *arr = t_json_lines(out);
    json_t *o = json_array_get(arr, 0), *s = web_suggestion(arr);
    CHECK(o && strcmp(t_json_str(o, "verdict"), "supported") != 0);
    char good[128];
    snprintf(good, sizeof good, "http://127.0.0.1:%d/good.html", f.port);
    CHECK(s && !strcmp(t_json_str(s, "url"), good) && !strcmp(t_json_str(s, "title"), "Glacier retreat in the Alps"));
    CHECK(s && t_contains(t_json_str(s, "evidence"), "Aletsch Glacier lost about 1.3"));
    char cite[200];
    snprintf(cite, sizeof cite, "{{cite web |url=%s |title=Glacier retreat in the Alps", good);
    CHECK(s && t_contains(t_json_str(s, "cite"), cite));
    /* quote= is the sentence that matches, not the whole evidence window */
    CHECK(s && t_contains(t_json_str(s, "cite"), "|quote=The Aletsch Glacier lost about 1.3 kilometres of length "
                                                 "between 1980 and 2020, the survey found. |access-date="));
    CHECK(s && json_real_value(json_object_get(s, "score")) > json_real_value(json_object_get(o, "score")));
    /* the cited page is not suggested again; the unrelated one scores no better */
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(o, "suggestions"), i, x) {
        CHECK(!t_contains(t_json_str(x, "url"), "wrong.html") && !t_contains(t_json_str(x, "url"), "other.html"));
    }
    json_decref(arr);
    free(out);
    free(err);
    pthread_mutex_lock(&f.mu);
    CHECK(f.searches == 1);
    CHECK(t_contains(f.last_q, "Aletsch+Glacier") && t_contains(f.last_q, "1980")); /* the claim, asked as words */
    pthread_mutex_unlock(&f.mu);
    th_stop(srv);

    /* the answer and the pages are cached: the same suggestion with the server gone, --offline */
    /* (cached pages from a loopback address are served to a guard that allows it only) */
    rc = t_run(t_, &out, &err, "audit --db '%s' --json --offline --allow-host 127.0.0.1:%d --search-url http://127.0.0.1:%d '%s'",
               ix, f.port, f.port, a);
    arr = t_json_lines(out);
    s = web_suggestion(arr);
    CHECK(rc == 0 && s && !strcmp(t_json_str(s, "url"), good));
    json_decref(arr);
    free(out);
    free(err);

    /* an engine that cannot be reached is named once, and the audit goes on */
    int closed = th_free_port();
    rc = t_run(t_, &out, &err, "audit --db '%s' --json --timeout 2s --allow-host 127.0.0.1:%d "
                               "--search-url http://127.0.0.1:%d '%s'",
               ix, f.port, closed, a);
    if (!t_contains(err, "refused")) fprintf(stderr, "  stderr: %s\n", err ? err : "");
    CHECK(rc == 0 && t_contains(out, "\"verdict\"") && t_contains(err, "web search") && t_contains(err, "refused"));
    free(out);
    free(err);
}
