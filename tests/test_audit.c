/* test_audit.c - the citation audit end to end through the CLI, against the suite's own loopback
 * web server (tests/httpd.py on 127.0.0.1): verdicts for misbehaving sites, the fetch cache,
 * outputs, and the WiCE measurements (AUC of the support score, first suggestion). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "test.h"
#include "index/idx.h"
#include "verify/ver.h"
#include "utf8.h"
#include "verify/ver.h"
#include "testhttp.h"

struct httpd {
    pid_t pid;
    int port;
};

/* Start tests/httpd.py serving `dir`; fills h. Returns 0 on success. */
static int httpd_start(const char *dir, struct httpd *h)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("python3", "python3", "tests/httpd.py", dir, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[32] = "";
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(fds[0], line + n, 1);
        if (r <= 0 || line[n] == '\n') break;
        n++;
    }
    line[n] = '\0';
    close(fds[0]);
    h->pid = pid;
    h->port = (int)strtol(line, NULL, 10);
    if (h->port <= 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return 0;
}

static void httpd_stop(struct httpd *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
    }
    h->pid = 0;
}


/* The result whose cited URL ends with `suffix`. */
static json_t *by_url(json_t *arr, const char *suffix)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        const char *u = t_json_str(o, "url");
        size_t a = strlen(u), b = strlen(suffix);
        if (a >= b && !strcmp(u + a - b, suffix)) return o;
    }
    return NULL;
}

static const char page_html[] =
    "<html><head><title>Glacier report</title></head><body><nav>Home | About</nav>"
    "<p>The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.</p>"
    "<p>Scientists attribute the retreat to rising summer temperatures in the Alps.</p>"
    "</body></html>";

TEST(audit_misbehaving_sites)
{
    const char *dir = t_tmpdir(t_);
    REQUIRE(t_write(t_, dir, "www/ok.html", page_html, strlen(page_html)));
    struct httpd h;
    REQUIRE(httpd_start(dir, &h) == 0);
    char art[8192];
    int p = h.port;
    const char *claim = "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.";
    snprintf(art, sizeof art,
             "%s<ref>{{cite web |url=http://127.0.0.1:%d/www/ok.html |title=Report}}</ref>\n\n"
             "Claim two about glaciers.<ref>http://127.0.0.1:%d/endless</ref>\n\n"
             "Claim three about glaciers.<ref>http://127.0.0.1:%d/loop</ref>\n\n"
             "Claim four about glaciers.<ref>http://127.0.0.1:%d/drip</ref>\n\n"
             "Claim five about glaciers.<ref>http://127.0.0.1:%d/gone</ref>\n\n"
             "Claim six about glaciers.<ref>http://127.0.0.1:%d/paper.pdf</ref>\n\n"
             "Claim seven about glaciers.<ref>http://127.0.0.1:%d/image.png</ref>\n\n"
             "Claim eight about glaciers.<ref>http://127.0.0.1:%d/to-private</ref>\n\n"
             "%s<ref>{{cite web |url=http://127.0.0.1:%d/moved-away |archive-url=http://127.0.0.1:%d/www/ok.html |title=R}}</ref>\n",
             claim, p, p, p, p, p, p, p, p, claim, p, p);
    const char *a = t_write(t_, dir, "a.wiki", art, strlen(art));
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    static const char corpus[] = "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated text.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    char *out = NULL, *err = NULL;
    int rc = t_run(t_, &out, &err, "audit --db '%s' --json --suggest none --timeout 2000 --allow-host 127.0.0.1:%d '%s'",
                   ix, p, a);
    httpd_stop(&h);
    REQUIRE(rc == 0);
    json_t *arr = t_json_lines(out);
    CHECK(json_array_size(arr) == 9);
    static const struct {
        const char *url, *verdict, *detail;
    } want[] = {
        {"/www/ok.html", "supported", ""},   {"/endless", "no-text", ""},
        {"/loop", "unreachable", "redirect"}, {"/drip", "unreachable", "timeout"},
        {"/gone", "dead", "404"},            {"/paper.pdf", "no-text", ""},
        {"/image.png", "no-text", ""},       {"/to-private", "unreachable", "refused"},
        {"/moved-away", "supported", ""},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_t *o = by_url(arr, want[i].url);
        if (!o || strcmp(t_json_str(o, "verdict"), want[i].verdict) != 0 ||
            (want[i].detail[0] && !t_contains(t_json_str(o, "detail"), want[i].detail))) {
            fprintf(stderr, "  %s: verdict %s, detail %s (want %s)\n", want[i].url, o ? t_json_str(o, "verdict") : "?",
                    o ? t_json_str(o, "detail") : "?", want[i].verdict);
            t_->failed = 1;
        }
    }
    json_t *arch = by_url(arr, "/moved-away");
    CHECK(arch && !strcmp(t_json_str(arch, "source"), "archive"));
    json_t *ok = by_url(arr, "/www/ok.html");
    CHECK(ok && t_contains(t_json_str(ok, "evidence"), "Aletsch") && !t_contains(t_json_str(ok, "evidence"), "Home | About"));
    CHECK(ok && json_array_size(json_object_get(ok, "matched")) >= 3);
    json_decref(arr);
    free(out);
    free(err);

    /* the page is cached: --offline (server gone) still scores it; unreached pages stay unreached
     * (with the same --allow-host: the page came from a loopback address; see
     * audit_cache_keeps_guard_decision) */
    rc = t_run(t_, &out, NULL, "audit --db '%s' --json --offline --suggest none --allow-host 127.0.0.1:%d '%s'", ix,
               p, a);
    REQUIRE(rc == 0);
    arr = t_json_lines(out);
    ok = by_url(arr, "/www/ok.html");
    CHECK(ok && !strcmp(t_json_str(ok, "verdict"), "supported") && !strcmp(t_json_str(ok, "source"), "web"));
    json_t *gone = by_url(arr, "/gone");
    CHECK(gone && !strcmp(t_json_str(gone, "verdict"), "dead")); /* a 404 is remembered */
    json_t *drip = by_url(arr, "/drip");
    CHECK(drip && !strcmp(t_json_str(drip, "verdict"), "unreachable") && t_contains(t_json_str(drip, "detail"), "offline"));
    json_decref(arr);
    free(out);

    /* with the guard on and no --allow-host, loopback is refused before connecting */
    REQUIRE(httpd_start(dir, &h) == 0);
    snprintf(art, sizeof art, "%s<ref>http://127.0.0.1:%d/www/ok.html?fresh=1</ref>\n", claim, h.port);
    const char *b = t_write(t_, dir, "b.wiki", art, strlen(art));
    rc = t_run(t_, &out, NULL, "audit --db '%s' --json --suggest none '%s'", ix, b);
    httpd_stop(&h);
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"unreachable\"") && t_contains(out, "refused"));
    free(out);
}

/* A page fetched from a non-public address (allowed by --allow-private or --allow-host) is cached
 * with that guard decision: later runs whose guard would refuse the address do not get it from the
 * cache (they fetch, and are refused); runs that allow it do. */
TEST(audit_cache_keeps_guard_decision)
{
    const char *dir = t_tmpdir(t_);
    REQUIRE(t_write(t_, dir, "www/ok.html", page_html, strlen(page_html)));
    struct httpd h;
    REQUIRE(httpd_start(dir, &h) == 0);
    char art[1024], ix[600];
    snprintf(art, sizeof art,
             "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020."
             "<ref>http://127.0.0.1:%d/www/ok.html</ref>\n",
             h.port);
    const char *a = t_write(t_, dir, "a.wiki", art, strlen(art));
    snprintf(ix, sizeof ix, "%s/ix", dir);
    static const char corpus[] = "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated text.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    char *out = NULL;
    int rc = t_run(t_, &out, NULL, "audit --db '%s' --json --suggest none --allow-private '%s'", ix, a);
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"supported\"") && t_contains(out, "\"source\":\"web\""));
    free(out);
    /* the same index without the flag: not from the cache; fetched, and the guard refuses it */
    rc = t_run(t_, &out, NULL, "audit --db '%s' --json --suggest none '%s'", ix, a);
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"unreachable\"") && t_contains(out, "refused") &&
          !t_contains(out, "\"source\":\"cache\""));
    free(out);
    /* offline without the flag: nothing usable in the cache */
    rc = t_run(t_, &out, NULL, "audit --db '%s' --json --offline --suggest none '%s'", ix, a);
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"unreachable\"") && t_contains(out, "offline"));
    free(out);
    /* an --allow-host for another port does not cover it either */
    rc = t_run(t_, &out, NULL, "audit --db '%s' --json --offline --suggest none --allow-host 127.0.0.1:%d '%s'", ix,
               h.port == 1 ? 2 : 1, a);
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"unreachable\""));
    free(out);
    httpd_stop(&h);
    /* with the permission again (the server gone): the cached page is used */
    rc = t_run(t_, &out, NULL, "audit --db '%s' --json --offline --suggest none --allow-private '%s'", ix, a);
    /* (the server is stopped and the run is offline: a supported verdict can only come from the cache;
     * the source names where the page came from, the web, as an uncached run says) */
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"supported\"") && t_contains(out, "\"source\":\"web\""));
    free(out);
    rc = t_run(t_, &out, NULL, "audit --db '%s' --json --offline --suggest none --allow-host 127.0.0.1:%d '%s'", ix,
               h.port, a);
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"supported\"") && t_contains(out, "\"source\":\"web\""));
    free(out);
}

TEST(audit_outputs_and_formats)
{
    const char *dir = t_tmpdir(t_);
    static const char corpus[] =
        "{\"_id\": \"g\", \"title\": \"Glaciers\", \"url\": \"https://example.org/glaciers\", \"text\": "
        "\"The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020. Rising summer "
        "temperatures drove the retreat.\"}\n"
        "{\"_id\": \"b\", \"title\": \"Bees\", \"url\": \"https://example.org/bees\", \"text\": "
        "\"Neonicotinoid pesticides impair the navigation of honey bees returning to the hive.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    char ix[600], html[700];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(html, sizeof html, "%s/report.html", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    /* Markdown: one right citation, one pointing at the wrong corpus page */
    static const char md[] =
        "# Glaciers\n\nThe Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.[^1]\n\n"
        "Neonicotinoid pesticides impair the navigation of honey bees.[^2]\n\n"
        "[^1]: [Glaciers](https://www.example.org/glaciers/)\n[^2]: [Wrong](https://example.org/glaciers)\n";
    const char *m = t_write(t_, dir, "a.md", md, strlen(md));
    char *out = NULL, *err = NULL;
    int rc = t_run(t_, &out, &err, "audit --db '%s' --offline --json --html '%s' '%s'", ix, html, m);
    REQUIRE(rc == 0);
    json_t *arr = t_json_lines(out);
    REQUIRE(json_array_size(arr) == 2);
    json_t *a0 = json_array_get(arr, 0), *a1 = json_array_get(arr, 1);
    CHECK(!strcmp(t_json_str(a0, "verdict"), "supported") && !strcmp(t_json_str(a0, "source"), "corpus"));
    CHECK(!strcmp(t_json_str(a0, "article"), m) && json_integer_value(json_object_get(a0, "ref")) == 1);
    CHECK(!strcmp(t_json_str(a1, "verdict"), "unsupported"));
    json_t *s0 = json_array_get(json_object_get(a1, "suggestions"), 0);
    CHECK(s0 && !strcmp(t_json_str(s0, "doc_id"), "b") && t_contains(t_json_str(s0, "cite"), "{{cite web |url=https://example.org/bees"));
    CHECK(s0 && json_real_value(json_object_get(s0, "score")) > json_real_value(json_object_get(a1, "score")));
    json_decref(arr);
    free(out);
    free(err);
    char *page = t_read(html, NULL);
    CHECK(page && t_contains(page, "<mark>") && t_contains(page, "unsupported") && t_contains(page, "example.org/bees"));
    free(page);
    /* a citation without a URL finds its source by the cited work's title */
    static const char book[] =
        "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.<ref>{{cite book "
        "|title=glaciers |publisher=Alpine Press}}</ref> Bees dance.<ref>{{cite book |title=Unknown Work}}</ref>\n";
    const char *bk = t_write(t_, dir, "book.wiki", book, strlen(book));
    rc = t_run(t_, &out, NULL, "audit --db '%s' --offline --json --suggest none '%s'", ix, bk);
    REQUIRE(rc == 0);
    arr = t_json_lines(out);
    free(out);
    REQUIRE(json_array_size(arr) == 2);
    a0 = json_array_get(arr, 0);
    a1 = json_array_get(arr, 1);
    CHECK(!strcmp(t_json_str(a0, "verdict"), "supported") && !strcmp(t_json_str(a0, "source"), "corpus"));
    CHECK(!strcmp(t_json_str(a1, "verdict"), "no-url") && t_contains(t_json_str(a1, "detail"), "no URL"));
    json_decref(arr);
    /* no --db: a personal index ($VERICITE_DB) is created and used as the fetch cache */
    char defidx[700];
    snprintf(defidx, sizeof defidx, "%s/personal/idx", dir);
    setenv("VERICITE_DB", defidx, 1);
    rc = t_run(t_, &out, NULL, "audit --offline --json '%s'", m);
    unsetenv("VERICITE_DB");
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"unreachable\""));
    free(out);
    snprintf(defidx, sizeof defidx, "%s/personal/idx/index.db", dir);
    CHECK(access(defidx, F_OK) == 0);
    /* --fail-under: exit 3 when a citation scores below it */
    rc = t_run(t_, NULL, NULL, "audit --db '%s' --offline --fail-under 0.5 '%s'", ix, m);
    CHECK(rc == 3);
    /* claims JSONL, from stdin */
    static const char cj[] = "{\"claim\": \"Pesticides impair bee navigation.\", \"url\": \"https://example.org/bees\"}\n";
    const char *cf = t_write(t_, dir, "claims.jsonl", cj, strlen(cj));
    rc = t_run(t_, &out, NULL, "audit --db '%s' --offline --json '%s'", ix, cf);
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"supported\""));
    free(out);
    /* verify: one claim, one local file */
    const char *src = t_write(t_, dir, "src.html", page_html, strlen(page_html));
    rc = t_run(t_, &out, NULL, "verify --db '%s' --json --claim 'Rising summer temperatures in the Alps caused the retreat.' --source '%s'", ix, src);
    CHECK(rc == 0 && t_contains(out, "summer temperatures"));
    free(out);
    /* a source too short to judge says why, with the limit */
    const char *tiny = t_write(t_, dir, "tiny.txt", "Prices rose.\n", 13);
    rc = t_run(t_, &out, NULL, "verify --db '%s' --json --claim 'Prices fell.' --source '%s'", ix, tiny);
    CHECK(rc == 0 && t_contains(out, "\"verdict\":\"no-text\"") &&
          t_contains(out, "under 40 bytes of readable text"));
    free(out);
    /* bad input: a missing article and an unreadable model are clear errors */
    rc = t_run(t_, NULL, &err, "audit --db '%s' '%s/none.wiki'", ix, dir);
    CHECK(rc == 1 && t_contains(err, "none.wiki"));
    free(err);
    rc = t_run(t_, NULL, &err, "audit --db '%s' --model '%s' '%s'", ix, cf, m);
    CHECK(rc == 1 && t_contains(err, "claims.jsonl"));
    free(err);
}

/* ---------------------------------------------------------------- WiCE */

struct wice {
    char **claim, **page_html, **page_text, **title;
    char **article; /* the Wikipedia article the claim comes from (meta.claim_title) */
    int n;
};

static void wice_free(struct wice *w)
{
    for (int i = 0; i < w->n; i++) {
        free(w->claim[i]);
        free(w->page_html[i]);
        free(w->page_text[i]);
        free(w->title[i]);
        free(w->article[i]);
    }
    free(w->article);
    free(w->claim);
    free(w->page_html);
    free(w->page_text);
    free(w->title);
}

/* Claims with the pages they cite: HTML for serving, plain text for a corpus. */
static int wice_load(const char *path, struct wice *w)
{
    char *all = t_read(path, NULL);
    if (!all) return -1;
    json_t *arr = t_json_lines(all);
    free(all);
    int n = (int)json_array_size(arr);
    w->claim = calloc((size_t)n, sizeof(char *));
    w->page_html = calloc((size_t)n, sizeof(char *));
    w->page_text = calloc((size_t)n, sizeof(char *));
    w->title = calloc((size_t)n, sizeof(char *));
    w->article = calloc((size_t)n, sizeof(char *));
    for (int i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i), *ev = json_object_get(o, "evidence");
        struct buf h = {0}, t = {0};
        const char *title = "";
        size_t k;
        json_t *s;
        json_array_foreach(ev, k, s) {
            const char *sent = json_string_value(s);
            if (!sent) continue;
            if (k == 0 && !strncmp(sent, "(meta data) TITLE:", 18)) {
                title = sent + 18;
                continue;
            }
            buf_puts(&h, "<p>");
            buf_put_html(&h, sent, strlen(sent));
            buf_puts(&h, "</p>\n");
            buf_puts(&t, sent);
            buf_putc(&t, ' ');
        }
        struct buf page = {0};
        buf_puts(&page, "<html><head><title>");
        buf_put_html(&page, title, strlen(title));
        buf_puts(&page, "</title></head><body>\n");
        buf_append(&page, h.data ? h.data : "", h.len);
        buf_puts(&page, "</body></html>\n");
        w->page_html[i] = buf_steal(&page);
        w->page_text[i] = buf_steal(&t);
        w->claim[i] = strdup(t_json_str(o, "claim"));
        w->title[i] = strdup(title);
        w->article[i] = strdup(t_json_str(json_object_get(o, "meta"), "claim_title"));
        buf_cleanup(&h);
    }
    w->n = n;
    json_decref(arr);
    return 0;
}

/* A claim as safe wikitext: characters that would start markup (brackets, braces, tags, pipes,
 * and '' bold/italic runs) are replaced; a single apostrophe (People's) is kept. */
static void wiki_safe(struct buf *b, const char *s)
{
    char prev = '\0';
    for (; *s; prev = *s++) {
        int quote_run = *s == '\'' && (s[1] == '\'' || prev == '\'');
        buf_putc(b, strchr("[]{}<>|", *s) || quote_run ? ' ' : *s);
    }
}

/* Articles of 10 claims each; claim i cites url_of(i, shift). */
static int write_articles(const char *dir, const struct wice *w, const char *base,
                          int shift, const char *sub)
{
    int files = 0;
    for (int start = 0; start < w->n; start += 10, files++) {
        struct buf a = {0};
        buf_puts(&a, "Intro sentence without a citation.\n\n== Section ==\n");
        for (int i = start; i < w->n && i < start + 10; i++) {
            wiki_safe(&a, w->claim[i]);
            int target = (i + shift) % w->n;
            buf_printf(&a, "<ref>{{cite web |url=%s/p%d.html |title=Page %d}}</ref>\n\n", base, target, target);
        }
        char name[700];
        snprintf(name, sizeof name, "%s/%s", dir, sub);
        mkdir(name, 0755);
        snprintf(name, sizeof name, "%s/%s/a%03d.wiki", dir, sub, files);
        FILE *f = fopen(name, "w");
        if (!f) return -1;
        fwrite(a.data, 1, a.len, f);
        if (fclose(f) != 0) return -1;
        buf_cleanup(&a);
    }
    return files;
}

static double auc(const double *pos, int np, const double *neg, int nn)
{
    double s = 0;
    for (int i = 0; i < np; i++)
        for (int j = 0; j < nn; j++) s += pos[i] > neg[j] ? 1 : pos[i] == neg[j] ? 0.5 : 0;
    return np && nn ? s / ((double)np * nn) : 0;
}

/* Scores of every result, by claim order (articles are audited in file order). */
static int audit_scores(struct test_ctx *t_, const char *ix, const char *dir, const char *sub, int port,
                        double *scores, int n, int *fetched)
{
    char *out = NULL;
    int rc = t_run(t_, &out, NULL, "audit --db '%s' --json --suggest none --allow-host 127.0.0.1:%d '%s/%s'/a*.wiki",
                   ix, port, dir, sub);
    if (rc != 0) {
        free(out);
        return -1;
    }
    json_t *arr = t_json_lines(out);
    free(out);
    int got = (int)json_array_size(arr);
    *fetched = 0;
    for (int i = 0; i < got && i < n; i++) {
        json_t *o = json_array_get(arr, i);
        scores[i] = json_real_value(json_object_get(o, "score"));
        *fetched += !strcmp(t_json_str(o, "source"), "web");
    }
    json_decref(arr);
    return got;
}

TEST(audit_wice_support_auc)
{
    const char *dev = t_shared(t_, "wice/dev.jsonl");
    if (!dev) SKIP("../shared/data/wice not present");
    struct wice w = {0};
    REQUIRE(wice_load(dev, &w) == 0 && w.n > 100);
    const char *dir = t_tmpdir(t_);
    char name[700];
    snprintf(name, sizeof name, "%s/www", dir);
    REQUIRE(mkdir(name, 0755) == 0);
    for (int i = 0; i < w.n; i++) {
        snprintf(name, sizeof name, "%s/www/p%d.html", dir, i);
        FILE *f = fopen(name, "w");
        REQUIRE(f);
        fputs(w.page_html[i], f);
        REQUIRE(fclose(f) == 0);
    }
    struct httpd h;
    REQUIRE(httpd_start(dir, &h) == 0);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/www", h.port);
    REQUIRE(write_articles(dir, &w, base, 0, "true") > 0);
    REQUIRE(write_articles(dir, &w, base, 1, "wrong") > 0); /* each claim cites the next claim's page */
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    static const char corpus[] = "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    double *pos = calloc((size_t)w.n, sizeof *pos), *neg = calloc((size_t)w.n, sizeof *neg);
    int f1 = 0, f2 = 0;
    int n1 = audit_scores(t_, ix, dir, "true", h.port, pos, w.n, &f1);
    int n2 = audit_scores(t_, ix, dir, "wrong", h.port, neg, w.n, &f2);
    httpd_stop(&h);
    double a = auc(pos, n1, neg, n2);
    fprintf(stderr, "  WiCE dev: %d/%d citations found, %d/%d fetched; AUC true vs wrong page %.4f\n", n1, w.n,
            f1, w.n, a);
    CHECK(n1 == w.n && n2 == w.n); /* every citation found */
    CHECK(f1 == w.n);              /* and fetched */
    CHECK(a >= 0.90);
    free(pos);
    free(neg);
    wice_free(&w);
}

TEST(audit_wice_suggests_true_page)
{
    const char *dev = t_shared(t_, "wice/dev.jsonl");
    if (!dev) SKIP("../shared/data/wice not present");
    struct wice w = {0};
    REQUIRE(wice_load(dev, &w) == 0 && w.n > 100);
    const char *dir = t_tmpdir(t_);
    /* the pages are the corpus, with their URLs */
    struct buf c = {0};
    for (int i = 0; i < w.n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "_id", "", "title", w.title[i], "text", w.page_text[i], "url", "");
        char id[32], url[96];
        snprintf(id, sizeof id, "p%d", i);
        snprintf(url, sizeof url, "https://wice.example/www/p%d.html", i);
        json_object_set_new(o, "_id", json_string(id));
        json_object_set_new(o, "url", json_string(url));
        char *line = json_dumps(o, JSON_COMPACT);
        buf_puts(&c, line);
        buf_putc(&c, '\n');
        free(line);
        json_decref(o);
    }
    const char *cf = t_write(t_, dir, "pages.jsonl", c.data, c.len);
    buf_cleanup(&c);
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --db '%s' '%s'", ix, cf) == 0);
    /* a third of the citations swapped to another claim's page; the claims of one Wikipedia
     * article go into one file named after it, so the audit has the article title as context */
    char name[700];
    snprintf(name, sizeof name, "%s/s", dir);
    REQUIRE(mkdir(name, 0755) == 0);
    int swapped = 0;
    for (int i = 0; i < w.n; i++) {
        int target = i % 3 == 0 ? (i + 7) % w.n : i;
        swapped += target != i;
        char file[300];
        snprintf(file, sizeof file, "%03d-%s", i, w.article[i]); /* keeps claim order across files */
        for (char *q = file; *q; q++)
            if (*q == '/' || *q == ' ') *q = '_';
        snprintf(name, sizeof name, "%s/s/%s.wiki", dir, file);
        FILE *f = fopen(name, "w");
        REQUIRE(f);
        struct buf a = {0};
        wiki_safe(&a, w.claim[i]);
        buf_printf(&a, "<ref>{{cite web |url=https://wice.example/www/p%d.html}}</ref>\n", target);
        fwrite(a.data, 1, a.len, f);
        buf_cleanup(&a);
        REQUIRE(fclose(f) == 0);
    }
    char *out = NULL;
    char *errs = NULL;
    int rc = t_run(t_, &out, &errs, "audit --db '%s' --offline --json '%s/s'/*.wiki", ix, dir);
    if (rc) fprintf(stderr, "  audit: rc %d: %.3000s\n", rc, errs ? errs : "");
    free(errs);
    REQUIRE(rc == 0);
    json_t *arr = t_json_lines(out);
    free(out);
    REQUIRE((int)json_array_size(arr) == w.n);
    int first = 0, flagged = 0;
    for (int i = 0; i < w.n; i++) {
        if (i % 3 != 0) continue;
        json_t *o = json_array_get(arr, (size_t)i);
        char want[96];
        snprintf(want, sizeof want, "https://wice.example/www/p%d.html", i);
        flagged += strcmp(t_json_str(o, "verdict"), "supported") != 0;
        json_t *s0 = json_array_get(json_object_get(o, "suggestions"), 0);
        first += s0 && !strcmp(t_json_str(s0, "url"), want);
    }
    fprintf(stderr, "  WiCE swapped citations: %d, flagged %d, true page first suggestion %d (%.1f%%)\n",
            swapped, flagged, first, 100.0 * first / swapped);
    CHECK(first >= 0.9 * swapped);
    json_decref(arr);
    wice_free(&w);
}

/* ---------------------------------------------------------------- verdicts and suggestions */

TEST(audit_contradicted_in_every_format)
{
    const char *dir = t_tmpdir(t_);
    static const char corpus[] =
        "{\"_id\": \"br\", \"title\": \"Stone bridge\", \"url\": \"https://example.org/bridge\", \"text\": "
        "\"The old stone bridge over the river Aare was opened to traffic in 1952. It has three arches.\"}\n"
        "{\"_id\": \"cu\", \"title\": \"Curie\", \"url\": \"https://example.org/curie\", \"text\": "
        "\"Marie Curie won the Nobel Prize in Physics in 1903 together with her husband.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    char ix[600], html[700];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(html, sizeof html, "%s/r.html", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    static const char md[] =
        "The stone bridge over the river Aare was opened in 1950.[^1]\n\n"
        "Marie Curie won the Nobel Prize in Physics, and later founded a hospital in Warsaw.[^2]\n\n"
        "[^1]: [Bridge](https://example.org/bridge)\n[^2]: [Curie](https://example.org/curie)\n";
    const char *m = t_write(t_, dir, "a.md", md, strlen(md));
    char *out = NULL;
    REQUIRE(t_run(t_, &out, NULL, "audit --db '%s' --offline --json --suggest none --html '%s' '%s'", ix, html, m) == 0);
    json_t *arr = t_json_lines(out);
    free(out);
    REQUIRE(json_array_size(arr) == 2);
    json_t *a0 = json_array_get(arr, 0), *a1 = json_array_get(arr, 1);
    CHECK(!strcmp(t_json_str(a0, "verdict"), "contradicted"));
    CHECK(t_contains(t_json_str(a0, "detail"), "1950") && t_contains(t_json_str(a0, "detail"), "1952"));
    /* the partly supported one says what is missing, as spans of the claim */
    CHECK(strcmp(t_json_str(a1, "verdict"), "supported") != 0);
    json_t *miss = json_object_get(a1, "missing");
    REQUIRE(json_array_size(miss) >= 1);
    int warsaw = 0;
    size_t i;
    json_t *it;
    const char *claim = t_json_str(a1, "claim");
    json_array_foreach(miss, i, it) {
        size_t st = (size_t)json_integer_value(json_object_get(it, "start"));
        size_t en = (size_t)json_integer_value(json_object_get(it, "end"));
        const char *tx = t_json_str(it, "text");
        CHECK(en <= strlen(claim) && strlen(tx) == en - st && !strncmp(claim + st, tx, en - st));
        warsaw |= t_contains(tx, "Warsaw");
    }
    CHECK(warsaw);
    json_decref(arr);
    /* the table and the HTML report say so too, with the legend */
    REQUIRE(t_run(t_, &out, NULL, "audit --db '%s' --offline --suggest none '%s'", ix, m) == 0);
    CHECK(t_contains(out, "contradicted") && t_contains(out, "why: claim says \"1950\"") &&
          t_contains(out, "missing: "));
    free(out);
    char *page = t_read(html, NULL);
    CHECK(page && t_contains(page, "class=\"cite contradicted\"") && t_contains(page, "class=\"miss\"") &&
          t_contains(page, "What the verdicts mean") && t_contains(page, "precision of 80%"));
    free(page);
    /* verify prints it too; --help states the thresholds */
    const char *src = t_write(t_, dir, "s.txt", "The old stone bridge over the river Aare was opened in 1952.\n", 61);
    REQUIRE(t_run(t_, &out, NULL, "verify --db '%s' --json --suggest none --claim 'The stone bridge over the river Aare was opened in 1950.' --source '%s'", ix, src) == 0);
    CHECK(t_contains(out, "\"verdict\":\"contradicted\""));
    free(out);
    REQUIRE(t_run(t_, &out, NULL, "verify --help") == 0);
    CHECK(t_contains(out, "for a precision of supported of 0.80") && t_contains(out, "contradicted"));
    free(out);
}

TEST(audit_suggestions_ranked_and_filtered)
{
    const char *dir = t_tmpdir(t_);
    struct buf c = {0};
    /* a navigation page full of the claim's words, three real pages, unrelated filler */
    buf_puts(&c, "{\"_id\": \"nav\", \"title\": \"Index of glacier pages\", \"url\": \"https://example.org/nav\", \"text\": \"");
    for (int k = 0; k < 40; k++)
        buf_printf(&c, "Aletsch Glacier length %d\\n", k);
    buf_puts(&c, "\"}\n");
    buf_puts(&c, "{\"_id\": \"g1\", \"title\": \"Aletsch Glacier\", \"url\": \"https://example.org/g1\", \"text\": "
                 "\"The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020. Warm summers drove it.\"}\n"
                 "{\"_id\": \"g2\", \"title\": \"Alpine glaciers\", \"url\": \"https://example.org/g2\", \"text\": "
                 "\"Alpine glaciers, the Aletsch among them, retreated after 1980.\"}\n"
                 "{\"_id\": \"g3\", \"title\": \"Glacier length\", \"url\": \"https://example.org/g3\", \"text\": "
                 "\"Glacier length is measured every year. The Aletsch Glacier lost length.\"}\n"
                 "{\"_id\": \"x\", \"title\": \"Bees\", \"url\": \"https://example.org/bees\", \"text\": "
                 "\"Neonicotinoid pesticides impair the navigation of honey bees.\"}\n");
    const char *cf = t_write(t_, dir, "c.jsonl", c.data, c.len);
    buf_cleanup(&c);
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, cf) == 0);
    static const char md[] =
        "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.[^1]\n\n"
        "[^1]: [Bees](https://example.org/bees)\n";
    const char *m = t_write(t_, dir, "a.md", md, strlen(md));
    char *out = NULL;
    REQUIRE(t_run(t_, &out, NULL, "audit --db '%s' --offline --json '%s'", ix, m) == 0);
    json_t *arr = t_json_lines(out);
    free(out);
    REQUIRE(json_array_size(arr) == 1);
    json_t *sg = json_object_get(json_array_get(arr, 0), "suggestions");
    REQUIRE(json_array_size(sg) >= 1);
    CHECK(!strcmp(t_json_str(json_array_get(sg, 0), "doc_id"), "g1"));
    double prev = 2;
    size_t i;
    json_t *s;
    json_array_foreach(sg, i, s) {
        double v = json_real_value(json_object_get(s, "score"));
        CHECK(v <= prev);  /* ordered by the number shown */
        CHECK(v >= 0.0 && v <= 1.0);
        CHECK(strcmp(t_json_str(s, "doc_id"), "nav") != 0); /* navigation pages are not suggested */
        prev = v;
    }
    json_decref(arr);
}

TEST(audit_cite_quote_cut_at_a_character)
{
    /* a suggested source whose evidence is over 300 bytes of two-byte characters: the {{cite web}}
     * quote is cut, and must stay UTF-8 (before the fix the cut fell inside a character and the
     * whole JSON record failed) */
    const char *dir = t_tmpdir(t_);
    struct buf text = {0};
    buf_puts(&text, "The Aletsch Glacier lost length between 1980 and 2020 in the ");
    if ((300 - text.len) % 2 == 0) buf_putc(&text, 'x');
    for (int i = 0; i < 200; i++)
        buf_puts(&text, "\xc3\xa9");
    buf_puts(&text, " glacier.");
    struct buf c = {0};
    buf_printf(&c, "{\"_id\": \"g\", \"title\": \"Glacier\", \"url\": \"https://example.org/g\", \"text\": \"%s\"}\n"
                   "{\"_id\": \"b\", \"title\": \"Bees\", \"url\": \"https://example.org/bees\", \"text\": "
                   "\"Neonicotinoid pesticides impair the navigation of honey bees.\"}\n", text.data);
    const char *cf = t_write(t_, dir, "c.jsonl", c.data, c.len);
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, cf) == 0);
    static const char md[] = "The Aletsch Glacier lost length between 1980 and 2020.[^1]\n\n[^1]: [B](https://example.org/bees)\n";
    const char *m = t_write(t_, dir, "a.md", md, strlen(md));
    char *out = NULL;
    CHECK(t_run(t_, &out, NULL, "audit --db '%s' --offline --json '%s'", ix, m) == 0);
    json_t *arr = t_json_lines(out);
    json_t *s0 = json_array_get(json_object_get(json_array_get(arr, 0), "suggestions"), 0);
    CHECK(s0 && t_contains(t_json_str(s0, "cite"), "|quote=The Aletsch") && t_contains(t_json_str(s0, "cite"), "..."));
    json_decref(arr);
    free(out);
    buf_cleanup(&text);
    buf_cleanup(&c);
}

/* ---------------------------------------------------------------- the network looks down */

/* A loopback port that accepts no connection: listening with a full accept queue (filled by
 * connections of our own that are never accepted), so every further connect attempt times out.
 * Fills fds (the listener and the fillers, -1 when unused); returns the port or -1. */
static int blackhole_port(int fds[4])
{
    for (int i = 0; i < 4; i++) fds[i] = -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[0] < 0 || bind(fds[0], (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fds[0], 0) != 0 ||
        getsockname(fds[0], (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    for (int i = 1; i < 4; i++) { /* more than the queue holds: the rest wait in SYN-SENT */
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fds[i] >= 0) connect(fds[i], (struct sockaddr *)&sa, sizeof sa);
    }
    usleep(100000);
    return ntohs(sa.sin_port);
}

TEST(audit_network_down_hint)
{
    const char *dir = t_tmpdir(t_);
    int fds[4];
    int hole = blackhole_port(fds), closed = th_free_port();
    REQUIRE(hole > 0 && closed > 0);
    char art[4096];
    snprintf(art, sizeof art,
             "Glaciers retreat.<ref>http://127.0.0.1:%d/a</ref>\n\nBees dance.<ref>http://127.0.0.1:%d/b</ref>\n\n"
             "Rivers flood.<ref>http://127.0.0.1:%d/c</ref>\n\nStars shine.<ref>http://127.0.0.1:%d/d</ref>\n",
             closed, closed, hole, hole);
    const char *a = t_write(t_, dir, "a.wiki", art, strlen(art));
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    static const char corpus[] = "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated text.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    char *out = NULL, *err = NULL;
    int rc = t_run(t_, &out, &err,
                   "audit --db '%s' --json --suggest none --timeout 1s --allow-host 127.0.0.1:%d "
                   "--allow-host 127.0.0.1:%d '%s'",
                   ix, closed, hole, a);
    for (int i = 0; i < 4; i++)
        if (fds[i] >= 0) close(fds[i]);
    REQUIRE(rc == 0);
    /* one line, naming --offline */
    CHECK(t_contains(err, "the network looks down") && t_contains(err, "--offline"));
    const char *first = err ? strstr(err, "network looks down") : NULL;
    CHECK(first && !strstr(first + 1, "network looks down"));
    /* the reasons are classified: refused for the closed port, timeout for the black hole */
    json_t *arr = t_json_lines(out);
    CHECK(json_array_size(arr) == 4);
    json_t *r0 = json_array_get(arr, 0), *r2 = json_array_get(arr, 2);
    CHECK(r0 && !strcmp(t_json_str(r0, "verdict"), "unreachable") && t_contains(t_json_str(r0, "detail"), "refused"));
    CHECK(r2 && !strcmp(t_json_str(r2, "verdict"), "unreachable") && t_contains(t_json_str(r2, "detail"), "timeout"));
    json_decref(arr);
    free(out);
    free(err);
    /* a single failing host is not the network */
    snprintf(art, sizeof art,
             "Glaciers retreat.<ref>http://127.0.0.1:%d/a</ref>\n\nBees dance.<ref>http://127.0.0.1:%d/b</ref>\n\n"
             "Rivers flood.<ref>http://127.0.0.1:%d/c</ref>\n",
             closed, closed, closed);
    a = t_write(t_, dir, "b.wiki", art, strlen(art));
    rc = t_run(t_, NULL, &err, "audit --db '%s' --json --suggest none --timeout 1s --allow-host 127.0.0.1:%d '%s'", ix,
               closed, a);
    CHECK(rc == 0 && !t_contains(err, "network looks down"));
    free(err);
}

/* ---------------------------------------------------------------- progress on a terminal */

static void slow_handler(void *ud, const struct th_request *rq, struct th_response *rs)
{
    (void)ud;
    snprintf(rs->ctype, sizeof rs->ctype, "text/html");
    if (!strcmp(rq->target, "/slow")) rs->delay_ms = 3000;
    buf_puts(&rs->body, page_html);
}

TEST(audit_fetch_progress_terminal)
{
    const char *dir = t_tmpdir(t_);
    struct th_server *srv = NULL;
    REQUIRE(th_start(&srv, slow_handler, NULL) == 0);
    int p = th_port(srv);
    char art[1024], ix[600], outp[700], host[64];
    snprintf(art, sizeof art, "Glaciers retreat.<ref>http://127.0.0.1:%d/fast</ref>\n\n"
                              "Glaciers melt.<ref>http://127.0.0.1:%d/slow</ref>\n", p, p);
    const char *a = t_write(t_, dir, "a.wiki", art, strlen(art));
    static const char corpus[] = "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated text.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(outp, sizeof outp, "%s/out.jsonl", dir);
    snprintf(host, sizeof host, "127.0.0.1:%d", p);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    const char *bin = getenv("VERICITE_BIN");
    if (!bin || !*bin) bin = "./vericite";
    int master = -1;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        execl(bin, bin, "audit", "--db", ix, "--json", "--suggest", "none", "--timeout", "20s", "--allow-host", host, a,
              (char *)NULL);
        _exit(127);
    }
    struct buf tty = {0};
    char chunk[4096];
    ssize_t r;
    while ((r = read(master, chunk, sizeof chunk)) > 0) buf_append(&tty, chunk, (size_t)r);
    int st = 0;
    waitpid(pid, &st, 0);
    close(master);
    th_stop(srv);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* the sources so far, the host still waited for (after 2 s), the summary */
    CHECK(tty.data && t_contains(tty.data, "fetching sources 1/2"));
    char waiting[96];
    snprintf(waiting, sizeof waiting, "waiting for %s", host);
    CHECK(tty.data && t_contains(tty.data, waiting));
    CHECK(tty.data && t_contains(tty.data, "fetched 2 sources"));
    if (t_->failed) fprintf(stderr, "  terminal: %s\n", tty.data ? tty.data : "");
    buf_cleanup(&tty);
    char *out = t_read(outp, NULL);
    CHECK(out && t_contains(out, "\"verdict\":\"supported\""));
    free(out);
}

TEST(audit_html_links_are_web_only)
{
    const char *dir = t_tmpdir(t_);
    static const char corpus[] = "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated text.\"}\n";
    static const char art[] = "Glaciers retreat.<ref>{{cite web |url=javascript:alert(1) |title=Evil}}</ref>\n\n"
                              "Bees dance.<ref>{{cite web |url=data:text/html,<script>x</script> |title=Data}}</ref>\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    const char *a = t_write(t_, dir, "a.wiki", art, strlen(art));
    char ix[600], html[700];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(html, sizeof html, "%s/r.html", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    REQUIRE(t_run(t_, NULL, NULL, "audit --db '%s' --offline --html '%s' '%s'", ix, html, a) == 0);
    char *page = t_read(html, NULL);
    REQUIRE(page);
    CHECK(t_contains(page, "javascript:alert(1)")); /* shown, as text */
    CHECK(!t_contains(page, "href=\"javascript") && !t_contains(page, "href=\"data") && !t_contains(page, "<script>x"));
    free(page);
}

/* An article without one citation (and an empty one): no results, a report all the same, exit 0,
 * and nothing the sanitizers object to (make asan runs this; qsort of an empty, NULL list was
 * undefined behaviour). */
TEST(audit_zero_citations)
{
    const char *dir = t_tmpdir(t_);
    static const char corpus[] = "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated text.\"}\n";
    static const char art[] = "Glaciers retreat every year.\n\nNo references here at all.\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    const char *a = t_write(t_, dir, "a.wiki", art, strlen(art));
    const char *m = t_write(t_, dir, "a.md", "# Title\n\nPlain text.\n", 21);
    const char *e = t_write(t_, dir, "empty.md", "", 0);
    char ix[600], html[700];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(html, sizeof html, "%s/r.html", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    const char *arts[] = {a, m, e};
    for (size_t i = 0; i < sizeof arts / sizeof arts[0]; i++) {
        char *out = NULL, *err = NULL;
        int rc = t_run(t_, &out, &err, "audit --db '%s' --offline --json --html '%s' '%s'", ix, html, arts[i]);
        CHECK(rc == 0);
        CHECK(out && out[0] == '\0');
        char *page = t_read(html, NULL);
        CHECK(page && t_contains(page, "</html>"));
        free(page);
        free(out);
        free(err);
        out = err = NULL;
        CHECK(t_run(t_, &out, &err, "audit --db '%s' --offline '%s'", ix, arts[i]) == 0);
        CHECK((out && t_contains(out, "0 citations")) || (err && t_contains(err, "0 citations")));
        free(out);
        free(err);
        unlink(html);
    }
}

/* An article of one long "sentence" with 5,000 references (issue 12 item 1): each citation used
 * to carry its own copy of the whole claim, so the output (and memory) grew with refs squared.
 * The claim is kept once, cut at VER_CLAIM_MAX bytes (flagged), and the JSON Lines name it once
 * (the first record of the claim; the others carry its claim_id), so the output is linear in the
 * refs; and an audit over its --max-output budget fails, naming the limit. */
TEST(audit_many_refs_one_sentence)
{
    const char *dir = t_tmpdir(t_);
    static const char corpus[] = "{\"_id\": \"x\", \"title\": \"Other\", \"text\": \"Unrelated text.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    enum { NREFS = 5000 };
    struct buf art = {0};
    for (int i = 0; i < NREFS; i++) /* no sentence end until the last word; ü makes cuts land in characters */
        buf_printf(&art, "glacier%d mass ü balance<ref>https://example.org/p%d</ref> ", i, i);
    buf_puts(&art, "declined.\n");
    REQUIRE(art.data && art.len > 300000);
    const char *a = t_write(t_, dir, "long.wiki", art.data, art.len);
    buf_cleanup(&art);
    char *out = NULL, *err = NULL;
    int rc = t_run(t_, &out, &err, "audit --db '%s' --offline --suggest none --json '%s'", ix, a);
    CHECK(rc == 0);
    size_t len = out ? strlen(out) : 0;
    fprintf(stderr, "  %d refs in one sentence: %zu bytes of output, %zu per ref\n", NREFS, len, len / NREFS);
    CHECK(len / NREFS < 700); /* linear: a record per ref, the claim (at most 1000 bytes) once */
    json_t *arr = t_json_lines(out);
    CHECK(json_array_size(arr) == NREFS);
    size_t i;
    json_t *o;
    int bad = 0;
    json_array_foreach(arr, i, o) {
        const char *cl = t_json_str(o, "claim");
        bad += (i == 0) != (json_object_get(o, "claim") != NULL) || strlen(cl) > VER_CLAIM_MAX ||
               !utf8_valid(cl, strlen(cl), NULL) || !json_is_true(json_object_get(o, "claim_cut")) ||
               json_integer_value(json_object_get(o, "claim_id")) != 0;
    }
    CHECK(bad == 0);
    CHECK(arr && !strncmp(t_json_str(json_array_get(arr, 0), "claim"), "glacier0 mass ü balance glacier1", 33));
    json_decref(arr);
    free(out);
    free(err);
    /* the HTML report marks the cut claim */
    char html[700];
    snprintf(html, sizeof html, "%s/r.html", dir);
    CHECK(t_run(t_, NULL, NULL, "audit --db '%s' --offline --suggest none --html '%s' '%s'", ix, html, a) == 0);
    char *page = t_read(html, NULL);
    CHECK(t_contains(page, "its first 1000 bytes\">[&hellip;]</span>"));
    free(page);
    /* over the budget: a non-zero exit naming the limit */
    out = err = NULL;
    rc = t_run(t_, &out, &err, "audit --db '%s' --offline --suggest none --json --max-output 1M '%s'", ix, a);
    CHECK(rc != 0);
    CHECK(t_contains(err, "--max-output") && t_contains(err, "1048576"));
    free(out);
    free(err);
}

/* A source page over the HTML parse budget is a no-text citation whose detail names the budget
 * (here a text source of 17 MiB, over the 16 MiB size budget; issue 12 #3). */
TEST(audit_html_budget_named)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/ix", t_tmpdir(t_));
    struct idx *ix = NULL;
    struct ver_auditor *au = NULL;
    struct err e = {0};
    struct idx_opts io = {.create = 1};
    REQUIRE_OK(idx_open(&ix, dir, &io, &e), e);
    struct ver_audit_opts o = {.offline = 1, .suggest = VER_SUGGEST_NONE};
    REQUIRE_OK(ver_auditor_new(&au, ix, &o, &e), e);
    struct buf page = {0};
    buf_puts(&page, "<html><body><p>Glaciers retreat.</p>");
    while (page.len < (17u << 20)) buf_puts(&page, "<p>Glaciers retreat every summer in the Alps.</p>\n");
    REQUIRE(page.data);
    struct ver_result r;
    REQUIRE_OK(ver_verify(au, "Glaciers retreat.", page.data, 1, &r, &e), e);
    CHECK(r.status == VER_ST_NO_TEXT && r.detail && t_contains(r.detail, "over the HTML size budget of 16777216 bytes"));
    ver_results_free(&r, 1);
    buf_cleanup(&page);
    ver_auditor_free(au);
    idx_close(ix);
}

/* A source cited together with another at the end of a sentence is scored as co-cited
 * (VER_F_COCITED: its coverage says less), so the same page for the same sentence scores lower
 * than when it is cited alone; a {{citation needed}} beside it does not count as a source. */
TEST(audit_cocited_citation)
{
    const char *dir = t_tmpdir(t_);
    static const char corpus[] =
        "{\"_id\": \"cu\", \"title\": \"Curie\", \"url\": \"https://example.org/curie\", \"text\": "
        "\"Marie Curie won the Nobel Prize in Physics in 1903 together with her husband Pierre.\"}\n";
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    char ix[600];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    static const char wiki[] =
        "Marie Curie won the Nobel Prize in Physics in 1903 with her husband Pierre."
        "<ref>https://example.org/curie</ref>\n\n"
        "Marie Curie won the Nobel Prize in Physics in 1903 with her husband Pierre."
        "<ref>https://example.org/curie</ref><ref>https://example.org/elsewhere</ref>\n\n"
        "Marie Curie won the Nobel Prize in Physics in 1903 with her husband Pierre."
        "<ref>https://example.org/curie</ref>{{citation needed|date=May 2020}}\n";
    const char *a = t_write(t_, dir, "a.wiki", wiki, strlen(wiki));
    char *out = NULL;
    REQUIRE(t_run(t_, &out, NULL, "audit --db '%s' --offline --json --suggest none '%s'", ix, a) == 0);
    json_t *arr = t_json_lines(out);
    free(out);
    double sc[4] = {-1, -1, -1, -1};
    int n = 0;
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        if (strcmp(t_json_str(o, "url"), "https://example.org/curie") || n >= 4) continue;
        sc[n++] = json_number_value(json_object_get(o, "score"));
    }
    REQUIRE(n == 3);
    fprintf(stderr, "  alone %.4f, co-cited %.4f, beside {{cn}} %.4f\n", sc[0], sc[1], sc[2]);
    CHECK(sc[0] > 0.3 && sc[1] < sc[0]);
    CHECK(sc[2] == sc[0]);
    json_decref(arr);
}
