/* test_batch.c - batch audits through the CLI (`audit --jobs N`, folders, MediaWiki dumps), the
 * results stored in the index (a batch killed with SIGKILL and started again loses nothing), and
 * `vericite report` over them. Everything offline: no network. */
#include <bzlib.h>
#include <jansson.h>
#include <pty.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hash.h"
#include "index/idx.h"
#include "test.h"
#include "testhttp.h"
#include "verify/ver.h"


static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

/* One number from the index database (-1 on error). */
static long long db_count(const char *ix, const char *sql)
{
    char path[700];
    snprintf(path, sizeof path, "%s/index.db", ix);
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* A small corpus: the pages the fixtures cite, so some citations are supported. */
static const char corpus_jsonl[] =
    "{\"_id\": \"g\", \"title\": \"Glaciers\", \"url\": \"https://example.org/glaciers\", \"text\": "
    "\"The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020. Rising summer "
    "temperatures drove the retreat.\"}\n"
    "{\"_id\": \"b\", \"title\": \"Bees\", \"url\": \"https://example.org/bees\", \"text\": "
    "\"Neonicotinoid pesticides impair the navigation of honey bees returning to the hive.\"}\n"
    "{\"_id\": \"v\", \"title\": \"Volcanoes\", \"url\": \"https://volcano.example.net/etna\", \"text\": "
    "\"Mount Etna erupted in 2021, sending ash columns ten kilometres into the sky over Sicily.\"}\n";

static int make_index(struct test_ctx *t_, const char *dir, const char *name, char *ix, size_t n)
{
    const char *c = t_write(t_, dir, "corpus.jsonl", corpus_jsonl, strlen(corpus_jsonl));
    snprintf(ix, n, "%s/%s", dir, name);
    return c ? t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) : -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- (a) kill -9 and resume */

/* Start `audit --jobs 2` over `arts` on index `ixk` (stdout to `out`), wait until the database
 * shows finished articles, and kill it with SIGKILL. The test holds the database's write lock
 * while it looks, so the batch cannot store more between looking and killing. Returns 0 when
 * killed midway (*done articles stored), 1 when the batch finished first, -1 on failure. */
static int kill_midway(const char *ixk, const char *arts, const char *out, long long *done)
{
    char dbpath[700];
    snprintf(dbpath, sizeof dbpath, "%s/index.db", ixk);
    sqlite3 *db = NULL;
    if (sqlite3_open(dbpath, &db) != SQLITE_OK) return -1;
    sqlite3_busy_timeout(db, 20000);
    const char *bin = getenv("VERICITE_BIN");
    if (!bin || !*bin) bin = "./vericite";
    pid_t pid = fork();
    if (pid < 0) {
        sqlite3_close(db);
        return -1;
    }
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), nul = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(nul, 2);
        execl(bin, bin, "audit", "--db", ixk, "--offline", "--suggest", "none", "--json", "--jobs", "2", arts,
              (char *)NULL);
        _exit(127);
    }
    int exited = 0, locked = 0;
    *done = 0;
    double until = now_s() + 60;
    while (now_s() < until) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) continue;
        locked = 1;
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_articles", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            *done = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (*done > 0) break; /* keep the lock: the batch is stuck at its next store */
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        locked = 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            exited = 1;
            break;
        }
        usleep(300);
    }
    int st = 0;
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    if (locked) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    if (exited || !WIFSIGNALED(st) || *done >= 45) return 1; /* finished before the kill */
    return *done > 0 ? 0 : -1;
}

/* 1 when `part` is the first lines of `full` (JSON Lines), ending where an article ends: the
 * line after it in `full`, if any, belongs to another article than its last line. */
static int whole_articles_prefix(const char *full, const char *part)
{
    size_t plen = strlen(part);
    if (strncmp(full, part, plen) != 0) return 0;
    if (plen == 0) return 1; /* no article printed yet */
    if (part[plen - 1] != '\n') return 0;
    if (!full[plen]) return 1; /* everything */
    const char *last = part + plen - 1;
    while (last > part && last[-1] != '\n') last--;
    json_t *a = json_loads(last, JSON_DISABLE_EOF_CHECK, NULL), *b = json_loads(full + plen, JSON_DISABLE_EOF_CHECK, NULL);
    int ok = a && b && strcmp(t_json_str(a, "article"), t_json_str(b, "article")) != 0;
    json_decref(a);
    json_decref(b);
    return ok;
}

TEST(batch_killed_and_resumed)
{
    const char *arts = t_shared(t_, "wikitext/articles");
    if (!arts) SKIP("../shared/data/wikitext/articles not found");
    const char *dir = t_tmpdir(t_);
    char ixk[600], ixf[600];
    REQUIRE(make_index(t_, dir, "fresh", ixf, sizeof ixf) == 0);
    /* the uninterrupted run */
    char *full = NULL, *err = NULL, partial_path[700];
    snprintf(partial_path, sizeof partial_path, "%s/partial.jsonl", dir);
    double t0 = now_s();
    int rc = t_run(t_, &full, &err, "audit --db '%s' --offline --suggest none --json --jobs 2 '%s'", ixf, arts);
    fprintf(stderr, "  (45 articles, --jobs 2, uninterrupted: %.2f s)\n", now_s() - t0);
    REQUIRE(rc == 0);
    CHECK(t_contains(err, "45 articles audited, 0 already done"));
    free(err);
    int ncites = count_lines(full);
    CHECK(ncites > 1000);
    CHECK(db_count(ixf, "SELECT count(*) FROM audit_articles") == 45);
    CHECK(db_count(ixf, "SELECT count(*) FROM audit_results") == ncites);

    /* the same batch on another index, killed with SIGKILL once some articles are stored. A
     * loaded machine can let the whole batch finish between two looks: then try again on a
     * fresh index (the point is a kill in the middle). */
    long long done = 0;
    int r = 1;
    for (int attempt = 0; r == 1 && attempt < 5; attempt++) {
        char name[32];
        snprintf(name, sizeof name, "killed%d", attempt);
        REQUIRE(make_index(t_, dir, name, ixk, sizeof ixk) == 0);
        r = kill_midway(ixk, arts, partial_path, &done);
    }
    REQUIRE(r == 0);
    fprintf(stderr, "  (killed with %lld of 45 articles stored)\n", done);
    CHECK(done > 0 && done < 45);
    /* what was stored is whole: every stored article has all its rows */
    CHECK(db_count(ixk, "SELECT count(*) FROM audit_articles a WHERE citations <>"
                        " (SELECT count(*) FROM audit_results r WHERE r.path = a.path AND r.hash = a.hash)") == 0);

    /* what the killed run printed: whole articles, in input order (a prefix of the full output
     * that ends where an article ends) */
    char *partial = t_read(partial_path, NULL);
    REQUIRE(partial);
    CHECK(whole_articles_prefix(full, partial));
    /* an article is printed only once it is stored */
    json_t *printed = t_json_lines(partial);
    size_t pi;
    json_t *po;
    json_array_foreach(printed, pi, po) {
        char *sql = sqlite3_mprintf("SELECT count(*) FROM audit_articles WHERE path = %Q", t_json_str(po, "article"));
        CHECK(sql && db_count(ixk, sql) == 1);
        sqlite3_free(sql);
    }
    json_decref(printed);
    fprintf(stderr, "  (the killed run had printed %d citations)\n", count_lines(partial));
    free(partial);

    /* started again with the same command: finishes the rest, prints everything */
    char *resumed = NULL;
    rc = t_run(t_, &resumed, &err, "audit --db '%s' --offline --suggest none --json --jobs 2 '%s'", ixk, arts);
    CHECK(rc == 0);
    char expect[128];
    snprintf(expect, sizeof expect, "%lld articles audited, %lld already done", 45 - done, done);
    CHECK(t_contains(err, expect));
    free(err);
    REQUIRE(resumed && full);
    CHECK(strcmp(resumed, full) == 0);
    CHECK(db_count(ixk, "SELECT count(*) FROM audit_articles") == 45);
    CHECK(db_count(ixk, "SELECT count(*) FROM audit_results") == ncites);
    /* once more: nothing left to do, same output */
    char *again = NULL;
    rc = t_run(t_, &again, &err, "audit --db '%s' --offline --suggest none --json --jobs 2 '%s'", ixk, arts);
    CHECK(rc == 0 && t_contains(err, "0 articles audited, 45 already done"));
    CHECK(again && strcmp(again, full) == 0);
    free(again);
    free(err);
    free(resumed);
    free(full);
}

/* ---------------------------------------------------------------- (b) folders, jobs 3 == jobs 1 */

static const char art_wiki[] =
    "'''Aletsch''' is a glacier.\n\n== Retreat ==\n"
    "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020."
    "<ref>{{cite web |url=https://example.org/glaciers |title=Glaciers}}</ref> "
    "Neonicotinoid pesticides impair the navigation of honey bees.<ref>{{cite web "
    "|url=https://example.org/glaciers |title=Wrong page}}</ref> "
    "The glacier is the largest in the Alps.{{citation needed|date=May 2020}}\n"
    "Its ice is 900 metres thick at Konkordiaplatz.<ref>[https://dead.example.com/ice Ice depth]</ref>\n";
static const char art_md[] =
    "# Etna\n\nMount Etna erupted in 2021, sending ash ten kilometres high.[^1]\n\n"
    "Etna is the tallest active volcano in Europe.[^2]\n\n"
    "[^1]: [Etna](https://volcano.example.net/etna)\n[^2]: [Europe](https://dead.example.com/europe)\n";
static const char art_claims[] =
    "{\"claim\": \"Pesticides impair bee navigation.\", \"url\": \"https://example.org/bees\"}\n"
    "{\"claim\": \"Bees dance to share where flowers are.\", \"url\": \"https://unknown.example.com/dance\"}\n";
static const char art_txt[] =
    "Honey bees return to the hive by navigation.<ref>{{cite web |url=https://dead.example.com/bees "
    "|title=Bees}}</ref>\n";

static void write_folder(struct test_ctx *t_, const char *dir)
{
    t_write(t_, dir, "arts/b-Aletsch.wiki", art_wiki, strlen(art_wiki));
    t_write(t_, dir, "arts/a-Etna.md", art_md, strlen(art_md));
    t_write(t_, dir, "arts/sub/c-claims.jsonl", art_claims, strlen(art_claims));
    t_write(t_, dir, "arts/sub/d-Bees.txt", art_txt, strlen(art_txt));
    t_write(t_, dir, "arts/notes.html", "<p>not an article</p>", 21);
    t_write(t_, dir, "arts/.hidden.wiki", art_txt, strlen(art_txt));
}

/* Put a cached 404 for `url` in the index, so the offline audit calls it dead. */
static int cache_dead(const char *ixdir, const char *url)
{
    struct idx *ix = NULL;
    struct err e = {0};
    if (idx_open(&ix, ixdir, NULL, &e)) return -1;
    struct idx_fetch f = {.url = url, .final_url = url, .status = 404, .outcome = "dead", .content_type = "text/html",
                          .title = "HTTP 404", .text = ""};
    int rc = idx_cache_put(ix, &f, &e);
    idx_close(ix);
    return rc;
}

static int prepare_folder_index(struct test_ctx *t_, const char *dir, const char *name, char *ix, size_t n)
{
    if (make_index(t_, dir, name, ix, n)) return -1;
    if (cache_dead(ix, "https://dead.example.com/ice") || cache_dead(ix, "https://dead.example.com/europe") ||
        cache_dead(ix, "https://dead.example.com/bees"))
        return -1;
    return 0;
}

TEST(batch_folder_jobs_equal)
{
    const char *dir = t_tmpdir(t_);
    write_folder(t_, dir);
    char ix1[600], ix3[600], ixs[600], arts[600];
    REQUIRE(prepare_folder_index(t_, dir, "ix1", ix1, sizeof ix1) == 0);
    REQUIRE(prepare_folder_index(t_, dir, "ix3", ix3, sizeof ix3) == 0);
    REQUIRE(prepare_folder_index(t_, dir, "ixs", ixs, sizeof ixs) == 0);
    snprintf(arts, sizeof arts, "%s/arts", dir);
    char *o1 = NULL, *o3 = NULL, *os = NULL, *e = NULL;
    CHECK(t_run(t_, &o1, NULL, "audit --db '%s' --offline --suggest all --json --jobs 1 '%s'", ix1, arts) == 0);
    CHECK(t_run(t_, &o3, &e, "audit --db '%s' --offline --suggest all --json --jobs 3 '%s'", ix3, arts) == 0);
    CHECK(t_contains(e, "4 articles audited"));
    free(e);
    REQUIRE(o1 && o3);
    CHECK(strcmp(o1, o3) == 0);
    /* the same as the classic one-process audit of the files in walk order (sorted per folder) */
    CHECK(t_run(t_, &os, NULL, "audit --db '%s' --offline --suggest all --json '%s/a-Etna.md' '%s/b-Aletsch.wiki' "
                              "'%s/sub/c-claims.jsonl' '%s/sub/d-Bees.txt'", ixs, arts, arts, arts, arts) == 0);
    CHECK(os && strcmp(o1, os) == 0);
    json_t *arr = t_json_lines(o3);
    CHECK(json_array_size(arr) == 9);
    /* input order: articles in walk order, citations in article order */
    static const char *const order[] = {"a-Etna.md", "a-Etna.md", "b-Aletsch.wiki", "b-Aletsch.wiki",
                                        "b-Aletsch.wiki", "b-Aletsch.wiki", "sub/c-claims.jsonl",
                                        "sub/c-claims.jsonl", "sub/d-Bees.txt"};
    for (size_t i = 0; i < json_array_size(arr) && i < 9; i++)
        CHECK(t_contains(t_json_str(json_array_get(arr, i), "article"), order[i]));
    CHECK(!strcmp(t_json_str(json_array_get(arr, 0), "verdict"), "supported"));
    CHECK(!strcmp(t_json_str(json_array_get(arr, 1), "verdict"), "dead"));
    CHECK(!t_contains(o3, "notes.html") && !t_contains(o3, ".hidden"));
    json_decref(arr);
    /* with --html the results are rebuilt from the stored JSON: the same JSON again (nothing is
     * audited twice), and the page */
    char *oh = NULL, page[700];
    snprintf(page, sizeof page, "%s/batch.html", dir);
    CHECK(t_run(t_, &oh, &e, "audit --db '%s' --offline --suggest all --json --html '%s' --jobs 3 '%s'", ix3, page,
                arts) == 0);
    CHECK(t_contains(e, "0 articles audited, 4 already done"));
    CHECK(oh && strcmp(oh, o3) == 0);
    char *html = t_read(page, NULL);
    CHECK(t_contains(html, "<mark>") && t_contains(html, "dead.example.com/ice"));
    free(html);
    free(oh);
    free(e);
    /* the table output of a batch works too */
    char *tab = NULL;
    CHECK(t_run(t_, &tab, NULL, "audit --db '%s' --offline --suggest all --jobs 2 '%s'", ix3, arts) == 0);
    CHECK(t_contains(tab, "verdict") && t_contains(tab, "dead.example.com"));
    free(tab);
    free(o1);
    free(o3);
    free(os);
}

/* Pages about glaciers for batch_source_ignores_cache. */
static void glacier_page(void *ud, const struct th_request *rq, struct th_response *rs)
{
    (void)ud;
    snprintf(rs->ctype, sizeof rs->ctype, "text/html");
    buf_printf(&rs->body, "<html><head><title>Page %s</title></head><body><p>The Aletsch Glacier lost about "
                          "1.3 kilometres of length between 1980 and 2020, and rising summer temperatures "
                          "drove the retreat (%s).</p></body></html>", rq->target, rq->target);
}

/* Every record of `out` (JSON Lines) without its "article" member, keys sorted, one per line. */
static char *records_but_article(const char *out)
{
    json_t *arr = t_json_lines(out);
    struct buf b = {0};
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        json_object_del(o, "article");
        char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        buf_printf(&b, "%s\n", s ? s : "?");
        free(s);
    }
    json_decref(arr);
    return b.data ? buf_steal(&b) : strdup("");
}

/* "source" names where a page came from (the web), not whether this run found it in the fetch
 * cache: a batch run again over a warm cache (as a resumed batch is, for the pages its first run
 * fetched) stores records identical to the first run's, byte for byte but the article path
 * (issue 12 item 9: "cache" against "web"). */
TEST(batch_source_ignores_cache)
{
    const char *dir = t_tmpdir(t_);
    char ix[600], d1[700], d2[700], name[64], art[512], url[128];
    REQUIRE(make_index(t_, dir, "ix", ix, sizeof ix) == 0);
    struct th_server *srv = NULL;
    REQUIRE(th_start(&srv, glacier_page, NULL) == 0);
    snprintf(d1, sizeof d1, "%s/first", dir);
    snprintf(d2, sizeof d2, "%s/again", dir);
    REQUIRE(mkdir(d1, 0755) == 0 && mkdir(d2, 0755) == 0);
    for (int i = 0; i < 4; i++) { /* articles sharing pages, so workers race for the cache */
        struct buf a = {0};
        for (int k = 0; k < 3; k++) {
            snprintf(url, sizeof url, "/p%d", (i + k) % 4);
            th_url(srv, url, art, sizeof art);
            buf_printf(&a, "The Aletsch Glacier lost 1.3 kilometres between 1980 and 2020.<ref>%s</ref>\n\n", art);
        }
        snprintf(name, sizeof name, "a%d.wiki", i);
        REQUIRE(t_write(t_, d1, name, a.data, a.len) && t_write(t_, d2, name, a.data, a.len));
        buf_cleanup(&a);
    }
    char *o1 = NULL, *o2 = NULL;
    CHECK(t_run(t_, &o1, NULL, "audit --db '%s' --json --suggest none --jobs 3 --allow-host 127.0.0.1:%d '%s'", ix,
                th_port(srv), d1) == 0);
    int fetched = th_requests(srv);
    CHECK(t_run(t_, &o2, NULL, "audit --db '%s' --json --suggest none --jobs 3 --allow-host 127.0.0.1:%d '%s'", ix,
                th_port(srv), d2) == 0);
    CHECK(th_requests(srv) == fetched); /* the second batch read every page from the cache */
    th_stop(srv);
    REQUIRE(o1 && o2);
    CHECK(count_lines(o1) == 12);
    CHECK(t_contains(o1, "\"source\":\"web\"") && !t_contains(o1, "\"source\":\"cache\""));
    char *r1 = records_but_article(o1), *r2 = records_but_article(o2);
    CHECK(strcmp(r1, r2) == 0);
    free(r1);
    free(r2);
    free(o1);
    free(o2);
}

/* ---------------------------------------------------------------- (c) MediaWiki dumps */

static const char dump_xml[] =
    "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.10/\" version=\"0.10\">\n"
    "<siteinfo><sitename>Test</sitename></siteinfo>\n"
    "<page><title>Aletsch Glacier</title><ns>0</ns><id>1</id><revision><id>11</id><text xml:space=\"preserve\">"
    "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.&lt;ref&gt;{{cite web "
    "|url=https://example.org/glaciers |title=Glaciers}}&lt;/ref&gt; It is in Switzerland.{{cn}}</text>"
    "</revision></page>\n"
    "<page><title>Talk:Aletsch Glacier</title><ns>1</ns><id>2</id><revision><id>12</id><text>"
    "A talk page.&lt;ref&gt;https://example.org/talk&lt;/ref&gt;</text></revision></page>\n"
    "<page><title>Honey bee</title><ns>0</ns><id>3</id><revision><id>13</id><text>"
    "Neonicotinoid pesticides impair the navigation of honey bees.&lt;ref&gt;[https://example.org/bees "
    "Bees]&lt;/ref&gt;</text></revision></page>\n"
    "<page><title>Mount Etna</title><ns>0</ns><id>4</id><revision><id>14</id><text>"
    "Mount Etna erupted in 2021.&lt;ref name=\"v\"&gt;{{cite web |url=https://volcano.example.net/etna}}"
    "&lt;/ref&gt; Ash rose ten kilometres.&lt;ref name=\"v\" /&gt;</text></revision></page>\n"
    "</mediawiki>\n";

TEST(batch_mediawiki_dump)
{
    const char *dir = t_tmpdir(t_);
    char ix[600], ixb[600];
    REQUIRE(make_index(t_, dir, "ix", ix, sizeof ix) == 0);
    REQUIRE(make_index(t_, dir, "ixb", ixb, sizeof ixb) == 0);
    const char *xml = t_write(t_, dir, "wiki.xml", dump_xml, strlen(dump_xml));
    REQUIRE(xml);
    char xmlpath[600];
    snprintf(xmlpath, sizeof xmlpath, "%s", xml);
    unsigned int zlen = sizeof dump_xml + 1024;
    char *z = malloc(zlen);
    REQUIRE(z);
    REQUIRE(BZ2_bzBuffToBuffCompress(z, &zlen, (char *)dump_xml, (unsigned)strlen(dump_xml), 9, 0, 0) == BZ_OK);
    const char *bz = t_write(t_, dir, "wiki.xml.bz2", z, zlen);
    free(z);
    REQUIRE(bz);
    char bzpath[600];
    snprintf(bzpath, sizeof bzpath, "%s", bz);
    char *out = NULL, *outb = NULL, *err = NULL;
    /* a dump is a batch input without --jobs */
    CHECK(t_run(t_, &out, &err, "audit --db '%s' --offline --suggest none --json '%s'", ix, xmlpath) == 0);
    CHECK(t_contains(err, "3 articles audited"));
    free(err);
    json_t *arr = t_json_lines(out);
    REQUIRE(json_array_size(arr) == 5);
    struct {
        const char *title, *verdict;
    } want[] = {{"Aletsch Glacier", "supported"}, {"Aletsch Glacier", "no-url"}, {"Honey bee", "supported"},
                {"Mount Etna", "supported"},      {"Mount Etna", "supported"}};
    for (int i = 0; i < 5; i++) {
        json_t *o = json_array_get(arr, (size_t)i);
        char path[700];
        snprintf(path, sizeof path, "%s#%s", xmlpath, want[i].title);
        CHECK(!strcmp(t_json_str(o, "article"), path));
        CHECK(!strcmp(t_json_str(o, "article_title"), want[i].title));
        CHECK(!strcmp(t_json_str(o, "verdict"), want[i].verdict));
    }
    CHECK(!t_contains(out, "Talk:"));
    json_decref(arr);
    CHECK(db_count(ix, "SELECT count(*) FROM audit_articles WHERE path LIKE '%wiki.xml#%'") == 3);
    /* the .bz2 gives the same citations, named after the .bz2 */
    CHECK(t_run(t_, &outb, NULL, "audit --db '%s' --offline --suggest none --json --jobs 2 '%s'", ixb, bzpath) == 0);
    json_t *ab = t_json_lines(outb), *ax = t_json_lines(out);
    REQUIRE(json_array_size(ab) == 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *p = json_array_get(ab, i), *q = json_array_get(ax, i);
        CHECK(t_contains(t_json_str(p, "article"), "wiki.xml.bz2#"));
        CHECK(!strcmp(t_json_str(p, "claim"), t_json_str(q, "claim")) && !strcmp(t_json_str(p, "verdict"), t_json_str(q, "verdict")));
    }
    json_decref(ab);
    json_decref(ax);
    free(out);
    free(outb);
}

/* ---------------------------------------------------------------- (d) report */

TEST(batch_report)
{
    const char *dir = t_tmpdir(t_);
    write_folder(t_, dir);
    char ix[600], arts[600], html[700];
    REQUIRE(prepare_folder_index(t_, dir, "ix", ix, sizeof ix) == 0);
    snprintf(arts, sizeof arts, "%s/arts", dir);
    snprintf(html, sizeof html, "%s/report.html", dir);
    char *out = NULL, *err = NULL;
    /* before any batch: a clear message, not an empty report */
    CHECK(t_run(t_, NULL, &err, "report --db '%s'", ix) == 1 && t_contains(err, "no stored audit results"));
    free(err);
    REQUIRE(t_run(t_, NULL, NULL, "audit --db '%s' --offline --suggest all --json --jobs 2 '%s'", ix, arts) == 0);
    REQUIRE(t_run(t_, &out, NULL, "report --db '%s' --json", ix) == 0);
    json_t *r = json_loads(out ? out : "", 0, NULL);
    free(out);
    REQUIRE(r);
    CHECK(json_integer_value(json_object_get(r, "articles")) == 4);
    CHECK(json_integer_value(json_object_get(r, "citations")) == 9);
    /* the queue: not-supported citations, worst status first, lowest score first within one */
    static const char *const rank[] = {"dead", "unreachable", "no-text", "no-url", "contradicted", "unsupported", "weak", "supported"};
    json_t *q = json_object_get(r, "queue"), *o;
    size_t i;
    int prev_rank = -1;
    double prev_score = -1;
    json_array_foreach(q, i, o) {
        int k = 0;
        while (k < 8 && strcmp(rank[k], t_json_str(o, "verdict"))) k++;
        double s = json_real_value(json_object_get(o, "score"));
        CHECK(k < 7);
        CHECK(k > prev_rank || (k == prev_rank && s >= prev_score));
        if (k != prev_rank) prev_score = -1;
        prev_rank = k;
        prev_score = s;
    }
    /* the six not supported: three dead links, the unknown page (unreachable offline), the
     * {{citation needed}} (no-url) and the bee claim cited to the glacier page */
    CHECK(json_array_size(q) == 6);
    for (size_t k = 0; k < 3; k++) CHECK(!strcmp(t_json_str(json_array_get(q, k), "verdict"), "dead"));
    CHECK(!strcmp(t_json_str(json_array_get(q, 3), "verdict"), "unreachable"));
    CHECK(!strcmp(t_json_str(json_array_get(q, 4), "verdict"), "no-url"));
    /* dead links: the three cached 404s, by domain and URL */
    json_t *d = json_object_get(r, "dead");
    REQUIRE(json_array_size(d) == 3);
    CHECK(!strcmp(t_json_str(json_array_get(d, 0), "url"), "https://dead.example.com/bees"));
    CHECK(!strcmp(t_json_str(json_array_get(d, 1), "url"), "https://dead.example.com/europe"));
    CHECK(!strcmp(t_json_str(json_array_get(d, 2), "url"), "https://dead.example.com/ice"));
    /* better: the bee claim cited to the glacier page; the suggestion is the bee page */
    json_t *b = json_object_get(r, "better");
    int found = 0;
    json_array_foreach(b, i, o) {
        double s = json_real_value(json_object_get(o, "score"));
        double best = json_real_value(json_object_get(o, "best_suggestion_score"));
        CHECK(best > s + 0.3);
        if (t_contains(t_json_str(o, "claim"), "Neonicotinoid")) {
            found = 1;
            CHECK(!strcmp(t_json_str(json_array_get(json_object_get(o, "suggestions"), 0), "doc_id"), "b"));
        }
    }
    CHECK(found);
    /* domains: dead.example.com fails most (3 of 3, all dead), example.org has 3 citations (1 failing) */
    json_t *dm = json_object_get(r, "domains");
    json_t *d0 = json_array_get(dm, 0);
    CHECK(d0 && !strcmp(t_json_str(d0, "domain"), "dead.example.com"));
    CHECK(json_integer_value(json_object_get(d0, "citations")) == 3 &&
          json_integer_value(json_object_get(d0, "failing")) == 3 &&
          json_integer_value(json_object_get(d0, "dead")) == 3);
    int seen_org = 0;
    json_array_foreach(dm, i, o) {
        if (!strcmp(t_json_str(o, "domain"), "example.org")) {
            seen_org = 1;
            CHECK(json_integer_value(json_object_get(o, "citations")) == 3);
            CHECK(json_integer_value(json_object_get(o, "dead")) == 0);
            CHECK(json_integer_value(json_object_get(o, "failing")) == 1);
        }
    }
    CHECK(seen_org);
    json_decref(r);
    /* --limit, the table and the HTML page */
    REQUIRE(t_run(t_, &out, NULL, "report --db '%s' --json --limit 1", ix) == 0);
    r = json_loads(out ? out : "", 0, NULL);
    CHECK(r && json_array_size(json_object_get(r, "queue")) == 1 && json_array_size(json_object_get(r, "dead")) == 1);
    json_decref(r);
    free(out);
    REQUIRE(t_run(t_, &out, NULL, "report --db '%s'", ix) == 0);
    CHECK(t_contains(out, "REVIEW QUEUE") && t_contains(out, "dead.example.com") && t_contains(out, "SITES"));
    free(out);
    REQUIRE(t_run(t_, NULL, NULL, "report --db '%s' --html '%s'", ix, html) == 0);
    char *page = t_read(html, NULL);
    CHECK(page && t_contains(page, "<h2>Dead links</h2>") && t_contains(page, "dead.example.com/ice"));
    free(page);
}

/* Report links are http(s) only: a javascript: or data: citation is shown as text (issue 12 #5). */
TEST(batch_report_links_are_web_only)
{
    const char *dir = t_tmpdir(t_);
    static const char art[] = "Glaciers retreat.<ref>{{cite web |url=javascript:alert(1) |title=Evil}}</ref>\n\n"
                              "Bees dance.<ref>{{cite web |url=data:text/html,<script>x</script> |title=Data}}</ref>\n";
    t_write(t_, dir, "arts/a.wiki", art, strlen(art));
    char ix[600], arts[600], html[700];
    REQUIRE(make_index(t_, dir, "ix", ix, sizeof ix) == 0);
    snprintf(arts, sizeof arts, "%s/arts", dir);
    snprintf(html, sizeof html, "%s/report.html", dir);
    REQUIRE(t_run(t_, NULL, NULL, "audit --db '%s' --offline --suggest none --jobs 2 '%s'", ix, arts) == 0);
    REQUIRE(t_run(t_, NULL, NULL, "report --db '%s' --html '%s'", ix, html) == 0);
    char *page = t_read(html, NULL);
    REQUIRE(page);
    CHECK(t_contains(page, "javascript:alert(1)")); /* shown, as text */
    CHECK(!t_contains(page, "href=\"javascript") && !t_contains(page, "href=\"data") && !t_contains(page, "<script>x"));
    free(page);
}

/* ---------------------------------------------------------------- (e) bad inputs */

TEST(batch_bad_inputs)
{
    const char *dir = t_tmpdir(t_);
    char ix[600];
    REQUIRE(make_index(t_, dir, "ix", ix, sizeof ix) == 0);
    const char *good = t_write(t_, dir, "good.md", art_md, strlen(art_md));
    REQUIRE(good);
    char goodp[600];
    snprintf(goodp, sizeof goodp, "%s", good);
    char *out = NULL, *err = NULL;
    /* a missing path: an error naming it before anything runs, nothing stored */
    int rc = t_run(t_, &out, &err, "audit --db '%s' --offline --jobs 2 '%s' '%s/missing.wiki'", ix, goodp, dir);
    CHECK(rc == 1 && t_contains(err, "missing.wiki"));
    CHECK(db_count(ix, "SELECT count(*) FROM audit_articles") == 0);
    free(out);
    free(err);
    /* dumps that cannot be read: named in the error, nothing stored for them, the rest done */
    t_write(t_, dir, "broken.xml", "this is not XML at all\n", 23);
    t_write(t_, dir, "broken.xml.bz2", "BZh9 not really bzip2 data", 26);
    t_write(t_, dir, "other.xml", "<html><body>not a dump</body></html>", 36);
    rc = t_run(t_, &out, &err, "audit --db '%s' --offline --json --jobs 2 '%s/broken.xml' '%s' '%s/broken.xml.bz2' '%s/other.xml'",
               ix, dir, goodp, dir, dir);
    CHECK(rc == 1);
    CHECK(t_contains(err, "broken.xml:") && t_contains(err, "broken.xml.bz2") && t_contains(err, "other.xml"));
    CHECK(t_contains(err, "not a MediaWiki export"));
    CHECK(count_lines(out) == 2 && t_contains(out, "good.md"));
    CHECK(db_count(ix, "SELECT count(*) FROM audit_articles") == 1);
    CHECK(db_count(ix, "SELECT count(*) FROM audit_articles WHERE path LIKE '%broken%' OR path LIKE '%other%'") == 0);
    free(out);
    free(err);
    /* a malformed claims file inside a folder: named, skipped, the batch goes on */
    t_write(t_, dir, "f/bad.jsonl", "{\"claim\": \"x\", \"url\": 3\n", 25);
    t_write(t_, dir, "f/ok.md", art_md, strlen(art_md));
    rc = t_run(t_, &out, &err, "audit --db '%s' --offline --json '%s/f'", ix, dir);
    CHECK(rc == 1 && t_contains(err, "bad.jsonl") && t_contains(out, "ok.md"));
    free(out);
    free(err);
    /* an index made before the audit tables existed gets them on open */
    char dbp[700];
    snprintf(dbp, sizeof dbp, "%s/index.db", ix);
    sqlite3 *db = NULL;
    REQUIRE(sqlite3_open(dbp, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DROP TABLE audit_results; DROP TABLE audit_articles; DROP TABLE audit_runs", NULL, NULL,
                       NULL) == SQLITE_OK);
    sqlite3_close(db);
    rc = t_run(t_, &out, &err, "report --db '%s'", ix);
    CHECK(rc == 1 && t_contains(err, "no stored audit results"));
    free(out);
    free(err);
    CHECK(t_run(t_, NULL, NULL, "audit --db '%s' --offline --jobs 2 '%s'", ix, goodp) == 0);
    CHECK(db_count(ix, "SELECT count(*) FROM audit_articles") == 1);
}

/* ---------------------------------------------------------------- results stored by older versions */

/* An index whose audit rows predate the verdict column (and whose status numbers mean nothing
 * now, as after a verdict is added): `report` reads it read-only as it is, a read-write open
 * adds the column from the stored records, and the report stays the same. */
TEST(batch_store_older_layout)
{
    const char *dir = t_tmpdir(t_);
    write_folder(t_, dir);
    char ix[600], arts[600], dbp[700];
    REQUIRE(prepare_folder_index(t_, dir, "ix", ix, sizeof ix) == 0);
    snprintf(arts, sizeof arts, "%s/arts", dir);
    snprintf(dbp, sizeof dbp, "%s/index.db", ix);
    REQUIRE(t_run(t_, NULL, NULL, "audit --db '%s' --offline --suggest all --jobs 2 '%s'", ix, arts) == 0);
    char *before = NULL, *old = NULL, *after = NULL;
    REQUIRE(t_run(t_, &before, NULL, "report --db '%s' --json", ix) == 0);
    CHECK(t_contains(before, "\"verdict\":\"dead\""));
    sqlite3 *db = NULL;
    REQUIRE(sqlite3_open(dbp, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DROP INDEX audit_results_verdict; ALTER TABLE audit_results DROP COLUMN verdict;"
                           " UPDATE audit_results SET status = 99",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(db_count(ix, "SELECT count(*) FROM pragma_table_info('audit_results') WHERE name = 'verdict'") == 0);
    CHECK(t_run(t_, &old, NULL, "report --db '%s' --json", ix) == 0);
    CHECK(before && old && !strcmp(before, old));
    /* a read-write open (a batch with everything done) upgrades the table */
    CHECK(t_run(t_, NULL, NULL, "audit --db '%s' --offline --suggest all --jobs 2 '%s'", ix, arts) == 0);
    CHECK(db_count(ix, "SELECT count(*) FROM audit_results WHERE verdict = json_extract(json, '$.verdict')") == 9);
    CHECK(t_run(t_, &after, NULL, "report --db '%s' --json", ix) == 0);
    CHECK(before && after && !strcmp(before, after));
    free(before);
    free(old);
    free(after);
}

/* ---------------------------------------------------------------- the idx_audit API */

struct rows_seen {
    int n;
    char order[16][64];
};

static int seen_row(void *ctx, const struct idx_audit_row *r)
{
    struct rows_seen *s = ctx;
    if (s->n < 16) snprintf(s->order[s->n], sizeof s->order[0], "%s:%d:%s", r->path, r->ord, r->json);
    s->n++;
    return 0;
}

TEST(batch_idx_store_api)
{
    const char *dir = t_tmpdir(t_);
    char ixd[600];
    REQUIRE(make_index(t_, dir, "ix", ixd, sizeof ixd) == 0);
    struct idx *ix = NULL;
    struct err e = {0};
    REQUIRE_OK(idx_open(&ix, ixd, NULL, &e), e);
    int64_t run = 0;
    REQUIRE_OK(idx_audit_begin_run(ix, "test", &run, &e), e);
    CHECK(run > 0);
    /* the store is generic: verdicts are the caller's names, records the caller's text */
    struct idx_audit_row rows[3] = {
        {.ord = 0, .status = 6, .verdict = "supported", .score = 0.9, .url = "https://a.example/x", .domain = "a.example",
         .json = "{\"n\":0}"},
        {.ord = 1, .status = 0, .verdict = "dead", .score = 0.0, .url = "https://b.example/y", .domain = "b.example",
         .json = "{\"n\":1}"},
        {.ord = 2, .status = 4, .verdict = "unsupported", .score = 0.1, .best = 0.8, .url = "https://a.example/z",
         .domain = "a.example", .json = "{\"n\":2}"}};
    int done = 1;
    REQUIRE_OK(idx_audit_done(ix, "art.wiki", "h1", &done, &e), e);
    CHECK(done == 0);
    REQUIRE_OK(idx_audit_store(ix, "art.wiki", "h1", "Art", run, rows, 3, &e), e);
    REQUIRE_OK(idx_audit_done(ix, "art.wiki", "h1", &done, &e), e);
    CHECK(done == 1);
    struct rows_seen s = {0};
    REQUIRE_OK(idx_audit_results(ix, "art.wiki", "h1", seen_row, &s, &e), e);
    CHECK(s.n == 3 && !strcmp(s.order[0], "art.wiki:0:{\"n\":0}") && !strcmp(s.order[2], "art.wiki:2:{\"n\":2}"));
    /* one transaction per article: a failing row (a repeated position) stores nothing */
    struct idx_audit_row dup[2] = {rows[0], rows[0]};
    CHECK(idx_audit_store(ix, "other.wiki", "h9", "Other", run, dup, 2, &e) == ERR_SQLITE);
    CHECK(t_contains(e.msg, "other.wiki"));
    REQUIRE_OK(idx_audit_done(ix, "other.wiki", "h9", &done, &e), e);
    CHECK(done == 0);
    int64_t na = 0, nc = 0;
    REQUIRE_OK(idx_audit_counts(ix, &na, &nc, &e), e);
    CHECK(na == 1 && nc == 3);
    /* listings: the caller says which verdicts and in what order */
    static const char *const queue[] = {"dead", "unreachable", "no-text", "no-url", "unsupported", "weak", NULL};
    static const char *const flipped[] = {"unsupported", "dead", NULL}, *const dead[] = {"dead", NULL};
    memset(&s, 0, sizeof s);
    struct idx_audit_query q = {.verdicts = queue, .order = IDX_AUDIT_BY_VERDICT};
    REQUIRE_OK(idx_audit_list(ix, &q, seen_row, &s, &e), e);
    CHECK(s.n == 2 && t_contains(s.order[0], ":1:") && t_contains(s.order[1], ":2:"));
    memset(&s, 0, sizeof s);
    q.verdicts = flipped;
    REQUIRE_OK(idx_audit_list(ix, &q, seen_row, &s, &e), e);
    CHECK(s.n == 2 && t_contains(s.order[0], ":2:") && t_contains(s.order[1], ":1:"));
    memset(&s, 0, sizeof s);
    q = (struct idx_audit_query){.gap = 1, .min_gap = 0.3, .order = IDX_AUDIT_BY_GAP};
    REQUIRE_OK(idx_audit_list(ix, &q, seen_row, &s, &e), e);
    CHECK(s.n == 1 && t_contains(s.order[0], ":2:"));
    memset(&s, 0, sizeof s);
    q = (struct idx_audit_query){.verdicts = dead, .order = IDX_AUDIT_BY_DOMAIN};
    REQUIRE_OK(idx_audit_list(ix, &q, seen_row, &s, &e), e);
    CHECK(s.n == 1 && t_contains(s.order[0], ":1:"));
    /* the same path with new content replaces the old results */
    REQUIRE_OK(idx_audit_store(ix, "art.wiki", "h2", "Art", run, rows, 1, &e), e);
    REQUIRE_OK(idx_audit_done(ix, "art.wiki", "h1", &done, &e), e);
    CHECK(done == 0);
    REQUIRE_OK(idx_audit_counts(ix, &na, &nc, &e), e);
    CHECK(na == 1 && nc == 1);
    idx_close(ix);
}

/* ---------------------------------------------------------------- the record and the key (verify/) */

/* A result encoded, decoded and encoded again gives the same bytes; verdicts go by name. */
TEST(batch_record_round_trip)
{
    struct ver_result r = {.article = "a.wiki", .article_title = "A", .section = "History", .ref = 2,
                           .claim = "It rose \"fast\" in 1990.", .url = "https://example.org/x", .title = "X",
                           .status = VER_ST_WEAK, .score = 0.4217, .evidence = "Prices rose fast in 1990 and 1991.",
                           .nmatch = 2, .source = "corpus", .detail = "", .nsugg = 1};
    r.match[0] = (struct ver_span){12, 16};
    r.match[1] = (struct ver_span){20, 24};
    r.sugg[0] = (struct ver_suggestion){.doc_id = "d7", .url = "https://example.org/y", .title = "Y",
                                        .evidence = "It rose fast.", .cite = "{{cite web |url=https://example.org/y}}",
                                        .score = 0.9};
    struct buf one = {0}, two = {0};
    struct err e = {0};
    REQUIRE_OK(ver_result_encode(&r, &one, &e), e);
    CHECK(t_contains(one.data, "\"verdict\":\"weak\"") && t_contains(one.data, "\"matched\":[\"fast\",\"1990\"]"));
    struct ver_result back;
    REQUIRE_OK(ver_result_decode(one.data, one.len, &back, &e), e);
    CHECK(back.status == VER_ST_WEAK && back.nmatch == 2 && back.match[1].start == 20 && back.nsugg == 1);
    REQUIRE_OK(ver_result_encode(&back, &two, &e), e);
    CHECK(one.data && two.data && !strcmp(one.data, two.data));
    ver_results_free(&back, 1);
    /* every verdict's name gives it back; an unknown one is named in the error */
    for (int st = 0; st < VER_ST_COUNT; st++) CHECK(ver_status_from_name(ver_status_name(st)) == st);
    CHECK(ver_status_from_name("splendid") == -1);
    CHECK(ver_result_decode("{\"verdict\": \"splendid\"}", 23, &back, &e) == ERR_CORRUPT && t_contains(e.msg, "splendid"));
    ver_results_free(&back, 1);
    CHECK(ver_result_decode("[1]", 3, &back, &e) == ERR_CORRUPT);
    ver_results_free(&back, 1);
    /* the key is FNV-1a 64 of text, title and options (with their NULs): stored keys stay valid */
    char opts[VER_STORE_OPTIONS_MAX], key[17];
    struct ver_audit_opts vo = {.offline = 1, .suggest = VER_SUGGEST_NONE};
    ver_store_options(&vo, opts, sizeof opts);
    char want[VER_STORE_OPTIONS_MAX], mh[17];
    hash_hex16(hash_fnv1a64_str(ver_score_builtin_model()), mh);
    snprintf(want, sizeof want, "offline=1 suggest=2 max_suggestions=0 candidates=0 model= verifier=%s", mh);
    CHECK(!strcmp(opts, want));
    /* another model file gives other options, so other keys */
    const char *mf = t_write(t_, t_tmpdir(t_), "m.txt", "x", 1);
    struct ver_audit_opts vm = vo;
    vm.model_path = mf;
    char opts2[VER_STORE_OPTIONS_MAX];
    ver_store_options(&vm, opts2, sizeof opts2);
    char xh[17], wantx[64];
    snprintf(wantx, sizeof wantx, "verifier=%s", hash_hex16(hash_fnv1a64("x", 1), xh));
    CHECK(strcmp(opts2, opts) != 0 && t_contains(opts2, wantx));
    ver_store_key("Some text.", 10, "Title", "offline=1 suggest=2 max_suggestions=0 candidates=0 model=", key);
    CHECK(!strcmp(key, "f83bc3d36397fe3c"));
    buf_cleanup(&one);
    buf_cleanup(&two);
}

/* The corpus reader's raw mode gives a page's wikitext (entities decoded), not plain text. */
TEST(batch_corpus_raw_wikitext)
{
    const char *dir = t_tmpdir(t_);
    const char *xml = t_write(t_, dir, "w.xml", dump_xml, strlen(dump_xml));
    REQUIRE(xml);
    for (int raw = 0; raw <= 1; raw++) {
        struct corpus_opts co = {.raw_wikitext = raw};
        struct corpus_reader *r = NULL;
        struct err e = {0};
        REQUIRE_OK(corpus_open(&r, xml, &co, &e), e);
        struct corpus_doc d;
        int has = 0, n = 0;
        while (corpus_next(r, &d, &has, &e) == 0 && has) {
            if (n == 0) {
                CHECK(!strcmp(d.title, "Aletsch Glacier"));
                CHECK(raw ? t_contains(d.text, "<ref>{{cite web |url=https://example.org/glaciers") && t_contains(d.text, "{{cn}}")
                          : !t_contains(d.text, "<ref>") && t_contains(d.text, "Aletsch Glacier lost"));
            }
            n++;
        }
        CHECK(e.code == 0 && n == 3);
        corpus_close(r);
    }
}

/* On a terminal a batch draws a progress bar on stderr; elsewhere only the summary line. */
TEST(batch_progress_terminal)
{
    const char *dir = t_tmpdir(t_);
    write_folder(t_, dir);
    char ix[600], arts[600], outp[700];
    REQUIRE(prepare_folder_index(t_, dir, "ix", ix, sizeof ix) == 0);
    snprintf(arts, sizeof arts, "%s/arts", dir);
    snprintf(outp, sizeof outp, "%s/out.jsonl", dir);
    const char *bin = getenv("VERICITE_BIN");
    if (!bin || !*bin) bin = "./vericite";
    int master = -1;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        execl(bin, bin, "audit", "--db", ix, "--offline", "--json", "--jobs", "2", arts, (char *)NULL);
        _exit(127);
    }
    struct buf tty = {0};
    char chunk[4096];
    ssize_t r;
    while ((r = read(master, chunk, sizeof chunk)) > 0) buf_append(&tty, chunk, (size_t)r);
    int st = 0;
    waitpid(pid, &st, 0);
    close(master);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(tty.data && t_contains(tty.data, "\033[K") && t_contains(tty.data, "/4 articles") &&
          t_contains(tty.data, "citations") && t_contains(tty.data, "ETA"));
    CHECK(tty.data && t_contains(tty.data, "batch: 4 articles audited"));
    buf_cleanup(&tty);
    char *out = t_read(outp, NULL);
    CHECK(count_lines(out) == 9);
    free(out);
    /* not a terminal: no control sequences, one summary line */
    char *err = NULL;
    CHECK(t_run(t_, NULL, &err, "audit --db '%s' --offline --json --jobs 2 '%s'", ix, arts) == 0);
    CHECK(err && !t_contains(err, "\033[") && t_contains(err, "batch: 0 articles audited, 4 already done"));
    free(err);
}
