/* cmd_report.c - `vericite report`: what the stored batch audits found, for a team to act on:
 * the review queue (the citations most likely unverifiable first), dead links, citations with a
 * much better corpus source, and the cited sites that fail most. A terminal table, JSON, or a
 * self-contained HTML page. The stored results are read through verify/'s store (ver_store_*),
 * which decides which verdicts each list holds. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "file.h"
#include "index/idx.h"
#include "verify/ver.h"

#define REPORT_DEFAULT_LIMIT 50

static const char report_help[] =
    "usage: vericite report --db DIR [--json | --html FILE] [--limit N]\n"
    "\n"
    "Summarise the audit results stored in the index by `vericite audit --jobs N`:\n"
    "  queue    citations to review, most likely unverifiable first: dead, unreachable, no-text,\n"
    "           no-url, contradicted, unsupported, weak; lowest score first within each\n"
    "  dead     dead links (404/410), by site\n"
    "  better   citations whose best suggested corpus source scores more than 0.3 above the\n"
    "           cited one, largest gap first\n"
    "  domains  per cited site: citations, failing ones (below weak) and their share, dead ones;\n"
    "           the sites with the most failing citations first\n"
    "\n"
    "options:\n"
    "  --db DIR      the index the audits were stored in\n"
    "  --json        one JSON object {\"articles\", \"citations\", \"queue\", \"dead\", \"better\",\n"
    "                \"domains\"}; queue/dead/better hold the citations as `audit --json` prints them,\n"
    "                plus \"domain\" and \"best_suggestion_score\"\n"
    "  --html FILE   write a self-contained HTML page\n"
    "  --limit N     at most N entries per list (default 50; 0: all)\n"
    "\n"
    "examples:\n"
    "  vericite audit --db docs-idx --jobs 4 articles/ && vericite report --db docs-idx\n"
    "  vericite report --db docs-idx --html report.html\n"
    "  vericite report --db docs-idx --json --limit 0 | jq '.dead[] | .url'\n";

enum { R_DB = 3000, R_JSON, R_HTML, R_LIMIT };

static const struct option report_longopts[] = {
    {"db", required_argument, 0, R_DB},       {"json", no_argument, 0, R_JSON},
    {"html", required_argument, 0, R_HTML},   {"limit", required_argument, 0, R_LIMIT},
    {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};

/* The lists of a report, as JSON (the citations exactly as stored). */
struct report {
    const char *db;
    int64_t articles, citations;
    json_t *queue, *dead, *better, *domains;
};

static int add_row(void *ctx, const struct ver_record *rec, struct err *err)
{
    (void)err; /* load() names the error */
    json_t *o = json_loads(rec->json, 0, NULL);
    if (!o) return ERR_CORRUPT;
    json_object_set_new(o, "best_suggestion_score", json_real(rec->best));
    json_object_set_new(o, "domain", json_string(rec->domain));
    return json_array_append_new(ctx, o) ? ERR_NOMEM : ERR_OK;
}

static int add_domain(void *ctx, const struct ver_store_domain *d)
{
    json_t *o = json_pack("{s:s, s:I, s:I, s:f, s:I}", "domain", d->domain, "citations", (json_int_t)d->citations,
                          "failing", (json_int_t)d->failing, "failing_share",
                          d->citations ? (double)d->failing / (double)d->citations : 0.0, "dead",
                          (json_int_t)d->dead);
    return o && !json_array_append_new(ctx, o) ? ERR_OK : ERR_NOMEM;
}

static int load(struct idx *ix, int limit, struct report *r, struct err *err)
{
    r->queue = json_array();
    r->dead = json_array();
    r->better = json_array();
    r->domains = json_array();
    if (!r->queue || !r->dead || !r->better || !r->domains) return err_set(err, ERR_NOMEM, "report");
    int rc = ver_store_counts(ix, &r->articles, &r->citations, err);
    if (!rc && r->articles == 0)
        return err_set(err, ERR_NOTFOUND, "%s: no stored audit results (run: vericite audit --db %s --jobs N ...)",
                       idx_dir(ix), idx_dir(ix));
    if (!rc) rc = ver_store_list(ix, VER_LIST_QUEUE, limit, add_row, r->queue, err);
    if (!rc) rc = ver_store_list(ix, VER_LIST_DEAD, limit, add_row, r->dead, err);
    if (!rc) rc = ver_store_list(ix, VER_LIST_BETTER, limit, add_row, r->better, err);
    if (!rc) rc = ver_store_domains(ix, limit, add_domain, r->domains, err);
    if (rc == ERR_CORRUPT) return err_set(err, ERR_CORRUPT, "%s: a stored audit result is not JSON", idx_dir(ix));
    if (rc == ERR_NOMEM) return err_set(err, ERR_NOMEM, "report");
    return rc;
}

static const char *s_of(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static double d_of(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

/* The article's title, else its path. */
static const char *article_of(json_t *o)
{
    const char *t = s_of(o, "article_title");
    return *t ? t : s_of(o, "article");
}

/* ---------------------------------------------------------------- terminal */

static void print_text(const struct report *r)
{
    size_t i;
    json_t *o;
    printf("%lld article%s, %lld citation%s stored\n\n", (long long)r->articles, cli_s(r->articles),
           (long long)r->citations, cli_s(r->citations));
    printf("REVIEW QUEUE (most likely unverifiable first)\n");
    printf("%-11s  %5s  %-24s  %4s  %-40s  %s\n", "verdict", "score", "article", "ref", "claim", "cited source");
    json_array_foreach(r->queue, i, o) {
        printf("%-11s  %5.2f  ", s_of(o, "verdict"), d_of(o, "score"));
        cli_put_cell(stdout, article_of(o), 24, 1);
        printf("  %4d  ", (int)json_integer_value(json_object_get(o, "ref")));
        cli_put_cell(stdout, s_of(o, "claim"), 40, 1);
        fputs("  ", stdout);
        const char *u = s_of(o, "url");
        cli_put_cell(stdout, *u ? u : (*s_of(o, "title") ? s_of(o, "title") : "(no source)"), 50, 0);
        fputc('\n', stdout);
    }
    if (!json_array_size(r->queue)) printf("(none)\n");
    printf("\nDEAD LINKS\n");
    json_array_foreach(r->dead, i, o) {
        cli_put_cell(stdout, article_of(o), 24, 1);
        printf("  %4d  ", (int)json_integer_value(json_object_get(o, "ref")));
        cli_put_cell(stdout, s_of(o, "url"), 60, 1);
        fputs("  ", stdout);
        cli_put_cell(stdout, s_of(o, "detail"), 30, 0);
        fputc('\n', stdout);
    }
    if (!json_array_size(r->dead)) printf("(none)\n");
    printf("\nBETTER SOURCES IN THE CORPUS (suggestion > cited + 0.3)\n");
    json_array_foreach(r->better, i, o) {
        json_t *s = json_array_get(json_object_get(o, "suggestions"), 0);
        printf("%5.2f -> %5.2f  ", d_of(o, "score"), d_of(o, "best_suggestion_score"));
        cli_put_cell(stdout, article_of(o), 24, 1);
        printf("  %4d  ", (int)json_integer_value(json_object_get(o, "ref")));
        cli_put_cell(stdout, s_of(o, "claim"), 40, 1);
        fputs("  ", stdout);
        cli_put_cell(stdout, s && *s_of(s, "url") ? s_of(s, "url") : s ? s_of(s, "doc_id") : "", 50, 0);
        fputc('\n', stdout);
    }
    if (!json_array_size(r->better)) printf("(none)\n");
    printf("\nSITES (most failing citations first)\n%-40s  %9s  %7s  %6s  %4s\n", "domain", "citations", "failing",
           "share", "dead");
    json_array_foreach(r->domains, i, o) {
        cli_put_cell(stdout, s_of(o, "domain"), 40, 1);
        printf("  %9lld  %7lld  %5.0f%%  %4lld\n", (long long)json_integer_value(json_object_get(o, "citations")),
               (long long)json_integer_value(json_object_get(o, "failing")), 100 * d_of(o, "failing_share"),
               (long long)json_integer_value(json_object_get(o, "dead")));
    }
    if (!json_array_size(r->domains)) printf("(none)\n");
}

/* ---------------------------------------------------------------- HTML */

static int esc(struct buf *b, const char *s)
{
    return buf_put_html(b, s, strlen(s));
}

/* The best suggestion's cell of the "better" table, with its {{cite web}} and a copy button. */
static int html_suggestion(struct buf *b, json_t *o)
{
    json_t *s = json_array_get(json_object_get(o, "suggestions"), 0);
    int bad = buf_puts(b, "<td>");
    if (s)
        bad |= cli_html_source(b, s_of(s, "url"), NULL, *s_of(s, "title") ? s_of(s, "title") : s_of(s, "doc_id"), 0) ||
               cli_html_cite(b, s_of(s, "cite"));
    return bad || buf_puts(b, "</td>");
}

static int html_citation(struct buf *b, json_t *o, int better)
{
    const char *v = s_of(o, "verdict");
    int bad = buf_printf(b, "<tr class=\"%s\" data-verdict=\"%s\"><td>", v, v) || esc(b, v) ||
              buf_printf(b, "</td><td>%.2f</td>", d_of(o, "score"));
    if (better) bad |= buf_printf(b, "<td>%.2f</td>", d_of(o, "best_suggestion_score"));
    bad |= buf_puts(b, "<td>");
    const char *au = s_of(o, "article_url");
    bad |= *au ? cli_html_link(b, au, article_of(o)) : esc(b, article_of(o));
    bad |= buf_printf(b, "</td><td>%d</td><td>", (int)json_integer_value(json_object_get(o, "ref"))) ||
           esc(b, s_of(o, "claim")) || buf_puts(b, "</td><td>") ||
           cli_html_source(b, s_of(o, "url"), s_of(o, "title"), s_of(o, "source_title"),
                           json_is_true(json_object_get(o, "title_mismatch")));
    if (*s_of(o, "detail")) bad |= buf_puts(b, "<div class=\"d\">") || esc(b, s_of(o, "detail")) || buf_puts(b, "</div>");
    /* the model verifiers' figures, when they ran (audit --verifier, --judge-url) */
    if (json_is_number(json_object_get(o, "contradiction")))
        bad |= buf_printf(b, "<div class=\"d\">contradiction %.2f (NLI model)</div>", d_of(o, "contradiction"));
    json_t *jd = json_object_get(o, "judge");
    if (json_is_object(jd))
        bad |= buf_puts(b, "<div class=\"d\">judge ") || esc(b, s_of(jd, "verdict")) ||
               (*s_of(jd, "failure") && (buf_puts(b, " (") || esc(b, s_of(jd, "failure")) || buf_puts(b, ")"))) ||
               buf_puts(b, "</div>");
    bad |= buf_puts(b, "</td>");
    if (better) bad |= html_suggestion(b, o);
    return bad || buf_puts(b, "</tr>\n");
}

static int html_citations(struct buf *b, json_t *arr, int better)
{
    size_t i;
    json_t *o;
    if (!json_array_size(arr)) return buf_puts(b, "<p class=\"d\">(none)</p>\n");
    int bad = buf_printf(b, "<table><tr><th>verdict</th><th>score</th>%s<th>article</th><th>ref</th><th>claim</th>"
                            "<th>cited source</th>%s</tr>\n",
                         better ? "<th>best suggestion</th>" : "", better ? "<th>suggested source</th>" : "");
    json_array_foreach(arr, i, o) bad |= html_citation(b, o, better);
    return bad || buf_puts(b, "</table>\n");
}

static int html_domains(struct buf *b, json_t *arr)
{
    int bad = buf_puts(b, "<h2>Sites</h2>\n<table><tr><th>domain</th><th>citations</th><th>failing</th><th>share</th>"
                          "<th>dead</th></tr>\n");
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        bad |= buf_puts(b, "<tr><td>") || esc(b, s_of(o, "domain")) ||
               buf_printf(b, "</td><td>%lld</td><td>%lld</td><td>%.0f%%</td><td>%lld</td></tr>\n",
                          (long long)json_integer_value(json_object_get(o, "citations")),
                          (long long)json_integer_value(json_object_get(o, "failing")), 100 * d_of(o, "failing_share"),
                          (long long)json_integer_value(json_object_get(o, "dead")));
    }
    return bad || buf_puts(b, "</table>\n");
}

/* The header: what is stored, when the page was made, and the verdict filters over the rows. */
static int html_header(struct buf *b, const struct report *r)
{
    long counts[VER_ST_COUNT] = {0}, rows = 0;
    json_t *lists[3] = {r->queue, r->dead, r->better};
    for (int l = 0; l < 3; l++) {
        size_t i;
        json_t *o;
        json_array_foreach(lists[l], i, o) {
            int st = ver_status_from_name(s_of(o, "verdict"));
            if (st >= 0) counts[st]++;
            rows++;
        }
    }
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    int bad = buf_printf(b, "<header><h1>Citation audit report</h1>\n<p class=\"meta\">%s: %lld article%s, %lld "
                            "citation%s stored (index ",
                         date, (long long)r->articles, cli_s(r->articles), (long long)r->citations,
                         cli_s(r->citations)) ||
              esc(b, r->db) || buf_puts(b, "). The filters show the rows of one verdict in every list.</p>\n</header>\n");
    return bad || (rows && cli_html_filters(b, counts, rows));
}

static int write_html(const char *path, const struct report *r, struct err *err)
{
    struct buf b = {0};
    int bad = cli_html_begin(&b, "vericite audit report") || html_header(&b, r);
    bad |= buf_puts(&b, "<h2>Review queue</h2><p class=\"d\">Most likely unverifiable first.</p>\n") ||
           html_citations(&b, r->queue, 0) || buf_puts(&b, "<h2>Dead links</h2>\n") || html_citations(&b, r->dead, 0);
    bad |= buf_puts(&b, "<h2>Better sources in the corpus</h2><p class=\"d\">The best suggestion scores more than "
                        "0.3 above the cited source.</p>\n") ||
           html_citations(&b, r->better, 1) || html_domains(&b, r->domains);
    bad |= cli_html_end(&b);
    int rc = bad ? err_set(err, ERR_NOMEM, "%s", path) : file_write_atomic(path, b.data, b.len, err);
    buf_cleanup(&b);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    const char *db = NULL, *html = NULL;
    int json = 0, limit = REPORT_DEFAULT_LIMIT, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", report_longopts, NULL)) != -1) {
        switch (c) {
        case R_DB: db = optarg; break;
        case R_JSON: json = 1; break;
        case R_HTML: html = optarg; break;
        case R_LIMIT:
            if (cli_int("report", "--limit", optarg, 0, 100000000, &limit)) return CLI_USAGE;
            break;
        case 'h': fputs(report_help, stdout); return CLI_OK;
        default: return cli_bad_option("report", argv, "h", report_longopts);
        }
    }
    if (!db) return cli_usage("report", "--db DIR is required");
    if (optind < argc) return cli_usage("report", "unexpected argument '%s'", argv[optind]);
    if (json && html) return cli_usage("report", "give --json or --html, not both");
    struct err err = {0};
    if (html && cli_check_writable(html, &err)) return cli_fail(&err);
    struct idx *ix = NULL;
    struct report r = {.db = db};
    struct idx_opts io = {.readonly = 1};
    int rc = idx_open(&ix, db, &io, &err);
    if (!rc) rc = load(ix, limit, &r, &err);
    if (!rc) {
        if (json) {
            json_t *o = json_pack("{s:I, s:I, s:O, s:O, s:O, s:O}", "articles", (json_int_t)r.articles, "citations",
                                  (json_int_t)r.citations, "queue", r.queue, "dead", r.dead, "better", r.better,
                                  "domains", r.domains);
            if (!o) rc = err_set(&err, ERR_NOMEM, "report");
            else {
                json_dumpf(o, stdout, JSON_COMPACT);
                fputc('\n', stdout);
                json_decref(o);
            }
        } else if (html) {
            rc = write_html(html, &r, &err);
            if (!rc) fprintf(stderr, "report: %s\n", html);
        } else {
            print_text(&r);
        }
    }
    json_decref(r.queue);
    json_decref(r.dead);
    json_decref(r.better);
    json_decref(r.domains);
    idx_close(ix);
    return rc ? cli_fail(&err) : CLI_OK;
}
