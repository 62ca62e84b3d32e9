/* test_report_browser.c - the HTML audit report in a real browser: headless Chromium (Debian's
 * chromium, driven by npm playwright-core through tests/browser/report.mjs) opens a report that
 * the test makes, clicks the verdict filters, opens a folded card and a copy button, and the test
 * checks what was visible. Screenshots go to the build folder (build/browser/). Skips with a
 * message when node, chromium or playwright-core is missing (tests/browser/deps.sh, run by make
 * deps, installs them). */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

/* The folder of playwright-core's node_modules, or NULL when it is not installed. */
static const char *playwright_dir(char *out, size_t n)
{
    const char *npm = getenv("VERICITE_NPM_DIR"), *home = getenv("HOME");
    if (npm && *npm) snprintf(out, n, "%s/browser/node_modules", npm);
    else if (home && *home) snprintf(out, n, "%s/.cache/vericite/npm/browser/node_modules", home);
    else return NULL;
    char pkg[PATH_MAX + 64];
    snprintf(pkg, sizeof pkg, "%s/playwright-core/package.json", out);
    return access(pkg, R_OK) == 0 ? out : NULL;
}

/* The build folder: where the test runner itself is (build/, build-asan/, ...). */
static void build_dir(char *out, size_t n)
{
    ssize_t k = readlink("/proc/self/exe", out, n - 1);
    if (k <= 0) {
        snprintf(out, n, "build");
        return;
    }
    out[k] = '\0';
    char *slash = strrchr(out, '/');
    if (slash) *slash = '\0';
}

/* The strings of a JSON array that equal `s`, and all of them. */
static void count_in(json_t *arr, const char *s, size_t *same, size_t *all)
{
    size_t i;
    json_t *v;
    *same = *all = 0;
    json_array_foreach(arr, i, v) {
        (*all)++;
        *same += json_is_string(v) && !strcmp(json_string_value(v), s);
    }
}

static const char corpus[] =
    "{\"_id\": \"wal\", \"title\": \"Write-Ahead Logging\", \"url\": \"https://www.sqlite.org/wal.html\", \"text\": "
    "\"The default method by which SQLite implements atomic commit is a rollback journal. WAL provides more "
    "concurrency as readers do not block writers and a writer does not block readers. Reading and writing can "
    "proceed concurrently.\"}\n"
    "{\"_id\": \"vacuum\", \"title\": \"VACUUM\", \"url\": \"https://www.sqlite.org/lang_vacuum.html\", \"text\": "
    "\"The VACUUM command rebuilds the database file, repacking it into a minimal amount of disk space. The "
    "VACUUM INTO command works the same way except that it writes a new database file.\"}\n"
    "{\"_id\": \"limits\", \"title\": \"Implementation Limits For SQLite\", \"url\": "
    "\"https://www.sqlite.org/limits.html\", \"text\": \"The maximum number of bytes in a string or BLOB in "
    "SQLite is defined by the preprocessor macro SQLITE_MAX_LENGTH. The default value of this macro is 1 "
    "billion.\"}\n"
    "{\"_id\": \"fk\", \"title\": \"SQLite Foreign Key Support\", \"url\": \"https://www.sqlite.org/foreignkeys.html\", "
    "\"text\": \"Foreign key constraints are disabled by default, so they must be enabled for each database "
    "connection separately.\"}\n";

static const char article[] =
    "'''SQLite''' is a database engine.\n\n== Design ==\n"
    "In write-ahead logging mode, readers do not block writers and a writer does not block readers, so "
    "reading and writing can proceed concurrently.<ref>{{cite web |url=https://www.sqlite.org/lang_vacuum.html "
    "|title=Write-Ahead Logging}}</ref>\n"
    "The maximum number of bytes in a string or BLOB is defined by the preprocessor macro "
    "SQLITE_MAX_LENGTH.<ref>{{cite web |url=https://www.sqlite.org/limits.html |title=Implementation Limits For "
    "SQLite}}</ref>\n"
    "Foreign key constraints are disabled by default.<ref>{{cite web |url=https://www.sqlite.org/foreignkeys.html "
    "|title=SQLite Foreign Key Support}}</ref>\n"
    "The project's source code is in the public domain.<ref>{{cite web "
    "|url=https://www.sqlite.org/no-such-page.html |title=SQLite Copyright}}</ref>\n";

TEST(report_browser_filters_and_cards)
{
    char nm[PATH_MAX];
    if (t_sh(t_, NULL, NULL, "command -v node") != 0) SKIP("node is not installed (make deps installs it)");
    const char *chromium = getenv("VERICITE_CHROMIUM");
    if (!chromium || !*chromium) chromium = "/usr/bin/chromium";
    if (access(chromium, X_OK) != 0) SKIP("%s is not installed (tests/browser/deps.sh installs it)", chromium);
    if (!playwright_dir(nm, sizeof nm)) SKIP("playwright-core is not installed (tests/browser/deps.sh)");
    const char *dir = t_tmpdir(t_);
    const char *c = t_write(t_, dir, "c.jsonl", corpus, strlen(corpus));
    const char *a = t_write(t_, dir, "SQLite.wiki", article, strlen(article));
    REQUIRE(c && a);
    char ix[PATH_MAX], html[PATH_MAX], shots[PATH_MAX];
    snprintf(ix, sizeof ix, "%s/ix", dir);
    snprintf(html, sizeof html, "%s/report.html", dir);
    build_dir(shots, sizeof shots);
    strncat(shots, "/browser", sizeof shots - strlen(shots) - 1);
    REQUIRE(t_run(t_, NULL, NULL, "index -q --embedder none --db '%s' '%s'", ix, c) == 0);
    char *err = NULL;
    int rc = t_run(t_, NULL, &err, "audit --db '%s' --offline --html '%s' '%s'", ix, html, a);
    if (rc != 0) fprintf(stderr, "  audit: %s\n", err ? err : "");
    free(err);
    REQUIRE(rc == 0);
    char *out = NULL;
    rc = t_sh(t_, &out, &err, "NODE_PATH='%s' VERICITE_CHROMIUM='%s' node tests/browser/report.mjs '%s' '%s'", nm,
              chromium, html, shots);
    if (rc != 0) fprintf(stderr, "  report.mjs (%d): %s\n", rc, err ? err : "");
    free(err);
    REQUIRE(rc == 0);
    json_t *o = json_loads(out, 0, NULL);
    free(out);
    REQUIRE(o);
    /* nothing loaded from anywhere, no script error */
    CHECK(json_array_size(json_object_get(o, "external")) == 0);
    CHECK(json_array_size(json_object_get(o, "errors")) == 0);
    const char *header = t_json_str(o, "header");
    CHECK(t_contains(header, "Citation audit: SQLite") && t_contains(header, "4 citations"));
    CHECK(t_contains(header, "1 cited page whose title does not match"));
    /* every card shows at first; each filter shows its verdict only */
    json_t *cards = json_object_get(o, "cards"), *after = json_object_get(o, "after");
    CHECK(json_array_size(cards) == 4 && json_array_size(json_object_get(o, "visible_all")) == 4);
    size_t same, all;
    count_in(cards, "supported", &same, &all);
    size_t supported = same;
    CHECK(supported >= 1 && supported < all);
    count_in(json_object_get(after, "supported"), "supported", &same, &all);
    CHECK(all == supported && same == all);
    count_in(json_object_get(after, "unreachable"), "unreachable", &same, &all);
    CHECK(all == 1 && same == 1);
    count_in(json_object_get(after, "failing"), "supported", &same, &all);
    CHECK(same == 0 && all == 4 - supported);
    CHECK(json_array_size(json_object_get(after, "all")) == 4);
    /* supported cards are folded until clicked */
    CHECK(json_is_false(json_object_get(o, "supported_open_before")));
    CHECK(json_is_false(json_object_get(o, "supported_quote_visible_before")));
    CHECK(json_is_true(json_object_get(o, "supported_quote_visible_after")));
    /* the citation pointing at the wrong page: host, both titles, the warning */
    const char *mm = t_json_str(o, "mismatch_text");
    CHECK(json_integer_value(json_object_get(o, "mismatch_cards")) == 1);
    CHECK(t_contains(mm, "sqlite.org") && t_contains(mm, "lang_vacuum.html") && t_contains(mm, "Write-Ahead Logging") &&
          t_contains(mm, "VACUUM") && t_contains(mm, "does not match"));
    CHECK(json_is_true(json_object_get(o, "mismatch_warn_visible")));
    /* the claim's words are marked, not common ones */
    json_t *marks = json_object_get(o, "marks");
    CHECK(json_array_size(marks) >= 3);
    count_in(marks, "the", &same, &all);
    CHECK(same == 0);
    count_in(marks, "readers", &same, &all);
    CHECK(same >= 1);
    /* the suggestion's {{cite web}} and its copy button */
    CHECK(json_integer_value(json_object_get(o, "copy_buttons")) >= 1);
    CHECK(t_contains(t_json_str(o, "cite_text"), "{{cite web |url=https://www.sqlite.org/wal.html"));
    CHECK(!strcmp(t_json_str(o, "copy_label_after"), "copied"));
    json_decref(o);
    char png[PATH_MAX + 32];
    snprintf(png, sizeof png, "%s/report-opened.png", shots);
    CHECK(access(png, R_OK) == 0);
}
