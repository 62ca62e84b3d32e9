/* cmd_audit.c - `vericite audit` (every citation of articles), `vericite verify` (one claim, one
 * source) and `vericite train-verifier`; JSON Lines, a terminal table, and an HTML report. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ascii.h"
#include "buf.h"
#include "file.h"
#include "utf8.h"
#include "vec.h"
#include "cli.h"
#include "corpus/corpus.h"
#include "index/idx.h"
#include "retrieve/ret.h"
#include "verify/ver.h"
#include "common/http/http.h"

#define AUDIT_MAX_FILE (16u << 20)

/* ---------------------------------------------------------------- reading inputs */

int cli_read_file(const char *path, struct buf *out, struct err *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path, strerror(errno));
    char chunk[65536];
    size_t r;
    int rc = ERR_OK;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + r > AUDIT_MAX_FILE) {
            rc = err_set(err, ERR_LIMIT, "%s: larger than %u MiB", path, AUDIT_MAX_FILE >> 20);
            break;
        }
        if (buf_append(out, chunk, r)) {
            rc = err_set(err, ERR_NOMEM, "%s", path);
            break;
        }
    }
    if (!rc && ferror(f)) rc = err_set(err, ERR_IO, "%s: read error", path);
    if (f != stdin) fclose(f);
    if (!rc && !out->data) buf_puts(out, "");
    if (!rc && !utf8_valid(out->data, out->len, NULL))
        rc = err_set(err, ERR_UTF8, "%s: not valid UTF-8 text", path);
    return rc;
}

void cli_title_from_path(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    /* a leading "NNN-" ordering prefix is not part of the title */
    const char *d = b;
    while (*d >= '0' && *d <= '9') d++;
    if (d > b && *d == '-' && d[1]) b = d + 1;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
    for (char *p = out; *p; p++)
        if (*p == '_') *p = ' ';
}

/* ---------------------------------------------------------------- output */

static int cmp_worst(const void *x, const void *y)
{
    const struct ver_result *a = *(const struct ver_result *const *)x, *b = *(const struct ver_result *const *)y;
    if (a->status != b->status) return a->status - b->status;
    return (a->score > b->score) - (a->score < b->score);
}

static const char *status_color(int st)
{
    switch (st) {
    case VER_ST_SUPPORTED: return "\033[32m";
    case VER_ST_WEAK: return "\033[33m";
    case VER_ST_UNSUPPORTED: return "\033[31m";
    case VER_ST_CONTRADICTED: return "\033[1;31m";
    default: return "\033[35m";
    }
}

/* How the table is printed. */
struct table {
    int width;           /* the terminal's columns; 0: piped or --wide, every cell in full */
    int color;           /* verdict colours and bold matched words */
    int always_evidence; /* verify: the evidence also when supported */
    struct cli_hl *hl;   /* the claim's words (NULL: none marked) */
    struct idx *ix;      /* decides which words are too common to mark (may be NULL) */
};

#define TABLE_INDENT 26 /* "verdict      score   ref  " */

/* A line under a result: the indent, a label, then text cut to what is left of the width. */
static void table_line(const struct table *t, const char *label, const char *text)
{
    printf("%*s%s", TABLE_INDENT, "", label);
    int room = t->width ? t->width - TABLE_INDENT - (int)strlen(label) : 0;
    if (room > 0 && room < 20) room = 20;
    if (room > 0) cli_put_cell(stdout, text, room, 0);
    else for (const char *p = text; *p; p++) fputc(*p == '\n' || *p == '\t' ? ' ' : *p, stdout);
    fputc('\n', stdout);
}

/* The sentence of `text` that matches the claim best, its matched words bold on a terminal. */
static void table_quote(const struct table *t, const char *label, const char *text, const char *close)
{
    struct ver_span sp[VER_SCORE_MAX_MATCH];
    size_t len = strlen(text), a = 0, e = len;
    int n = cli_hl_find(t->hl, text, len, sp, VER_SCORE_MAX_MATCH);
    cli_hl_sentence(text, len, sp, n, &a, &e);
    printf("%*s%s", TABLE_INDENT, "", label);
    int room = t->width ? t->width - TABLE_INDENT - (int)strlen(label) - (int)strlen(close) : 0;
    if (room > 0 && room < 20) room = 20;
    size_t wa = a, we = e;
    if (room > 0) {
        /* the window of the sentence around its matches (spans shifted into the sentence) */
        struct ver_span in[VER_SCORE_MAX_MATCH];
        int k = 0;
        for (int i = 0; i < n; i++)
            if (sp[i].start >= a && sp[i].end <= e) in[k++] = (struct ver_span){sp[i].start - a, sp[i].end - a};
        size_t x = 0, y = e - a;
        cli_hl_window(text + a, e - a, in, k, room - 2, &x, &y);
        wa = a + x;
        we = a + y;
    }
    cli_hl_print(stdout, text, len, wa, we, sp, n, t->color);
    printf("%s\n", close);
}

static void print_result(const struct table *t, const struct ver_result *r)
{
    /* the first line: verdict, score, ref, then the claim and the cited source side by side,
     * sized to the terminal (whole when piped) */
    int room = t->width ? t->width - TABLE_INDENT - 2 : 0;
    int cw = room > 0 ? room * 11 / 20 : 0, sw = room > 0 ? room - cw : 0;
    if (room > 0 && cw < 20) cw = 20, sw = 20;
    if (t->color) fputs(status_color(r->status), stdout);
    printf("%-11s", ver_status_name(r->status));
    if (t->color) fputs("\033[0m", stdout);
    printf("  %5.2f  %4d  ", r->score, r->ref);
    const char *src = r->url[0] ? r->url : (r->title[0] ? r->title : "(no source)");
    if (cw) {
        cli_put_cell(stdout, r->claim, cw, 1);
        fputs("  ", stdout);
        cli_put_cell(stdout, src, sw, 0);
    } else {
        for (const char *p = r->claim; *p; p++) fputc(*p == '\n' || *p == '\t' ? ' ' : *p, stdout);
        printf("  %s", src);
    }
    fputc('\n', stdout);
    if (r->title_mismatch) {
        struct buf w = {0};
        buf_printf(&w, "the page is titled \"%s\", the ref says \"%s\"", r->source_title, r->title);
        table_line(t, "title: ", w.data ? w.data : "");
        buf_cleanup(&w);
    }
    if (r->detail[0]) table_line(t, "why: ", r->detail);
    if (r->contradiction >= 0) {
        char c[64];
        snprintf(c, sizeof c, "%.2f (NLI model; the score is the entailment probability)", r->contradiction);
        table_line(t, "contradiction: ", c);
    }
    if (r->judge && r->judge[0]) {
        struct buf w = {0};
        if (!strcmp(r->judge, "failed"))
            buf_printf(&w, "failed (%s): %s", r->judge_fail ? r->judge_fail : "", r->judge_message ? r->judge_message : "");
        else
            buf_printf(&w, "%s%s%s%s", r->judge, r->judge_evidence && r->judge_evidence[0] ? ": \"" : "",
                       r->judge_evidence ? r->judge_evidence : "", r->judge_evidence && r->judge_evidence[0] ? "\"" : "");
        table_line(t, "judge: ", w.data ? w.data : "");
        buf_cleanup(&w);
    }
    if (r->nmissing && r->status != VER_ST_SUPPORTED) { /* the parts of the claim the source lacks */
        struct buf w = {0};
        for (int m = 0; m < r->nmissing; m++)
            buf_printf(&w, "%s\"%.*s\"", m ? ", " : "", (int)(r->missing[m].end - r->missing[m].start),
                       r->claim + r->missing[m].start);
        table_line(t, "missing: ", w.data ? w.data : "");
        buf_cleanup(&w);
    }
    cli_hl_set(t->hl, r->claim, t->ix, NULL);
    if (r->evidence[0] && (r->status != VER_ST_SUPPORTED || t->always_evidence))
        table_quote(t, "evidence: ", r->evidence, "");
    for (int j = 0; j < r->nsugg; j++) {
        const struct ver_suggestion *s = &r->sugg[j];
        char label[64];
        snprintf(label, sizeof label, "suggest %.2f (support %.2f)%s: ", s->score, s->support,
                 s->from && !strcmp(s->from, "web") ? " (web)" : "");
        struct buf w = {0};
        buf_printf(&w, "%s%s%s", s->url[0] ? s->url : s->doc_id, s->title[0] ? "  " : "", s->title);
        table_line(t, label, w.data ? w.data : "");
        buf_cleanup(&w);
        table_quote(t, "  \"", s->evidence, "\"");
    }
}

/* The wiki articles among the results, each once: title, URL, revision. */
static void print_articles(struct ver_result **rs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct ver_result *r = rs[i];
        if (!r->article_url || !r->article_url[0]) continue;
        size_t k = 0;
        while (k < i && strcmp(rs[k]->article_url, r->article_url)) k++;
        if (k < i) continue;
        printf("article: %s  %s", r->article_title, r->article_url);
        if (r->revision > 0) printf("  revision %lld%s%s", r->revision, r->revision_time[0] ? " of " : "", r->revision_time);
        fputc('\n', stdout);
    }
}

static void print_table(const struct table *t, struct ver_result **rs, size_t n)
{
    print_articles(rs, n);
    int room = t->width ? t->width - TABLE_INDENT - 2 : 0, cw = room > 0 ? room * 11 / 20 : 0;
    if (room > 0 && cw < 20) cw = 20;
    printf("%-11s  %5s  %4s  ", "verdict", "score", "ref");
    if (cw) printf("%-*s  %s\n", cw, "claim", "cited source");
    else printf("claim  cited source\n");
    for (size_t i = 0; i < n; i++) print_result(t, rs[i]);
}

/* ---------------------------------------------------------------- audit */

static const char audit_help[] =
    "usage: vericite audit [--db DIR] [options] ARTICLE...\n"
    "       vericite audit [options] https://en.wikipedia.org/wiki/Title | --wiki en:Title | --wiki-list FILE\n"
    "\n"
    "Check every citation of each ARTICLE: get the cited source (the corpus document with the same\n"
    "URL, else the fetch cache in DIR, else the web), score how well it supports the sentence, and\n"
    "suggest better sources from the corpus for the ones that fail.\n"
    "\n"
    "ARTICLE is a wikitext file (<ref>, cite templates, {{sfn}}, {{citation needed}}), Markdown\n"
    "(footnotes [^n], inline links), or claims JSON Lines {\"claim\",\"url\",\"title\"}; `-` reads\n"
    "stdin. The format comes from the extension (.wiki .md .jsonl) or, for .txt and stdin, the content.\n"
    "An ARTICLE that is a wiki page's URL (.../wiki/Title, .../index.php?title=Title) is read from\n"
    "that wiki's MediaWiki Action API (its current revision; redirects followed and reported); the\n"
    "revision id and the page's URL are in every output.\n"
    "\n"
    "verdicts: supported, weak (partly supported: the output names the parts of the claim the\n"
    "source does not cover), unsupported (by the verifier's score), contradicted (the passage\n"
    "that matches the claim best says another number or date, the negation, or an antonym; the\n"
    "detail says what), dead (404/410), unreachable (network error, timeout, refused address,\n"
    "--offline), no-text (empty, PDF, image), no-url (no URL and no corpus match, or\n"
    "{{citation needed}}). The thresholds are printed at the end of this help.\n"
    "\n"
    "options:\n"
    "  --db DIR           the index: the corpus for suggestions, and the fetch cache (default:\n"
    "                     $VERICITE_DB, else ~/.cache/vericite/index, created empty: fetch cache\n"
    "                     only, no suggestions)\n"
    "  --json             one JSON object per citation (JSON Lines); a claim's text is in the\n"
    "                     first of its citations, the others name its \"claim_id\"\n"
    "  --html FILE        also write a self-contained HTML report (filters by verdict, the cited\n"
    "                     host and page title beside the ref's, copy buttons for suggestions)\n"
    "  --wide             do not cut the table to the terminal's width (piped output is never cut)\n"
    "  --offline          never fetch cited pages: corpus and cached pages only (a wiki page given\n"
    "                     to audit is still read from its API)\n"
    "  --refresh          fetch again even when a page is cached\n"
    "  --allow-private    allow URLs on loopback/private addresses (refused by default)\n"
    "  --allow-host IP:PORT  allow just this address with the guard on (a local mirror)\n"
    "  --suggest MODE     failing (default), all, none\n"
    "  --search-url URL   also suggest sources from the web: a SearxNG-compatible JSON search API\n"
    "                     (GET URL/search?q=...&format=json, e.g. http://127.0.0.1:8888) is asked\n"
    "                     with the claim and the article title; its top results are fetched like\n"
    "                     cited pages (the address guard applies), scored, and the better ones\n"
    "                     suggested (\"from\": \"web\"). Answers and pages are cached in DIR;\n"
    "                     --offline uses the caches. Off unless given\n"
    "  --search-results N results fetched and scored per failing citation (default 3, at most 10)\n"
    "  --fail-under S     exit 3 when any citation scores below S (0..1)\n"
    "  --max-output N     the budget of one article's results in bytes, K, M or G allowed (default\n"
    "                     128M): an article over it fails, naming the limit. A claim is kept to its\n"
    "                     first 1000 bytes (\"claim_cut\": true)\n"
    "  --timeout S        per-page fetch time limit in seconds (default 20; a unit may be given:\n"
    "                     500ms, 20s, 2m). It used to be milliseconds: a number above 1000\n"
    "                     without unit is still read so, with a note\n"
    "  --model FILE       a verifier model from train-verifier (default: the built-in one)\n"
    "  --rerank NAME      order the corpus suggestions with a cross-encoder (an imported\n"
    "                     one-output BertForSequenceClassification: NAME or a .vcnn path), run in\n"
    "                     process: the top --rerank-depth N (default 50) documents BM25 finds for\n"
    "                     the claim are re-scored, the best 10 of them verified, and the\n"
    "                     suggestions shown in its order; the ranker still drops weak ones\n"
    "                     (\"rerank\" in the JSON: its score)\n"
    "  --rerank-url URL   the same with a server's /rerank endpoint (--rerank-model M is sent;\n"
    "                     key from $VERICITE_RERANK_KEY)\n"
    "  --rerank-threads N the cross-encoder's threads (default 1)\n"
    "  --verifier NAME    score with an NLI cross-encoder instead of the lexical model: a model\n"
    "                     imported with `vericite model import` (a name or a .vcnn path) whose\n"
    "                     id2label names entailment and contradiction. The support score is the\n"
    "                     entailment probability of the source's best window of sentences (the\n"
    "                     --verifier-windows windows, default 16, that match the claim best\n"
    "                     lexically); the contradiction probability of its most contradicting\n"
    "                     window is reported, and a source that contradicts the claim is called\n"
    "                     contradicted (thresholds at the end of this help)\n"
    "  --verifier-windows N  windows per source the model reads (1..256)\n"
    "  --verifier-threads N  threads the model runs on (default 1; with --jobs, per job)\n"
    "  --judge-url URL    also ask an LLM judge on an OpenAI-compatible endpoint (the URL, or its\n"
    "                     base: /v1/chat/completions is appended) about every cited source read.\n"
    "                     It must answer the strict JSON {\"verdict\": \"supported|partial|\n"
    "                     unsupported|contradicted\", \"evidence\": \"...\"}, which replaces the\n"
    "                     verdict (partial: weak; the score stays the verifier's). Any other\n"
    "                     answer is a failure reported with its class (\"judge\" in --json), never\n"
    "                     a verdict. The API key is read from $VERICITE_JUDGE_KEY (never an\n"
    "                     option); a judge on a private address needs --allow-private. Retries on\n"
    "                     timeouts, connection errors, 429 and 5xx\n"
    "  --judge-model NAME the \"model\" the judge is asked for\n"
    "  --title T          the article title (default: from the file name)\n"
    "  --jobs N           batch mode (also the default for folders and dumps): audit N articles\n"
    "                     at a time; each article's results are stored in the index as it\n"
    "                     finishes, so the same command run again skips finished articles.\n"
    "                     ARTICLE may then be a folder (walked for .wiki .wikitext .md .markdown\n"
    "                     .txt .jsonl) or a MediaWiki dump (.xml, .xml.bz2), audited page by page\n"
    "                     as \"DUMP.xml#Title\". See also: vericite report\n"
    "  --wiki PAGE        audit a wiki page: en:Title (that language's Wikipedia), a page URL, or a\n"
    "                     title (on --wiki-api, else English Wikipedia); may be repeated\n"
    "  --wiki-list FILE   audit the pages named in FILE, one per line as for --wiki (# comments)\n"
    "  --wiki-api URL     the MediaWiki API for titles (default https://en.wikipedia.org/w/api.php;\n"
    "                     e.g. https://de.wikipedia.org/w/api.php, https://wiki.example.org/api.php;\n"
    "                     also for page URLs, whose API is otherwise HOST/w/api.php).\n"
    "                     Requests name vericite in their User-Agent ($VERICITE_CONTACT adds your\n"
    "                     address, as Wikimedia asks), send maxlag=5, and wait and retry on 429/503\n"
    "\n"
    "examples:\n"
    "  vericite audit https://en.wikipedia.org/wiki/SQLite\n"
    "  vericite audit --wiki de:SQLite --html report.html\n"
    "  vericite audit --db docs-idx article.wiki\n"
    "  vericite audit --db docs-idx --offline --html report.html --fail-under 0.3 *.wiki\n"
    "  vericite audit --db docs-idx --json article.md | jq 'select(.verdict != \"supported\")'\n"
    "  vericite audit --db docs-idx --jobs 8 articles/ enwiki-pages.xml.bz2\n";

enum { A_DB = 2000, A_JSON, A_HTML, A_OFFLINE, A_REFRESH, A_PRIVATE, A_SUGGEST, A_FAIL, A_TIMEOUT,
       A_MODEL, A_TITLE, A_CLAIM, A_SOURCE, A_HOST, A_JOBS, A_WIDE, A_WIKI, A_WIKI_LIST, A_WIKI_API, A_SEARCH,
       A_SEARCH_N, A_RERANK, A_RERANK_URL, A_RERANK_MODEL, A_RERANK_DEPTH, A_RERANK_THREADS, A_VERIFIER,
       A_VER_WINDOWS, A_VER_THREADS, A_JUDGE_URL, A_JUDGE_MODEL, A_MAXOUT };

static const struct option audit_longopts[] = {
    {"db", required_argument, 0, A_DB},          {"json", no_argument, 0, A_JSON},
    {"html", required_argument, 0, A_HTML},      {"offline", no_argument, 0, A_OFFLINE},
    {"refresh", no_argument, 0, A_REFRESH},      {"allow-private", no_argument, 0, A_PRIVATE},
    {"suggest", required_argument, 0, A_SUGGEST}, {"fail-under", required_argument, 0, A_FAIL},
    {"timeout", required_argument, 0, A_TIMEOUT}, {"model", required_argument, 0, A_MODEL},
    {"title", required_argument, 0, A_TITLE},    {"claim", required_argument, 0, A_CLAIM},
    {"source", required_argument, 0, A_SOURCE},  {"allow-host", required_argument, 0, A_HOST},
    {"jobs", required_argument, 0, A_JOBS},      {"wide", no_argument, 0, A_WIDE},
    {"wiki", required_argument, 0, A_WIKI},      {"wiki-list", required_argument, 0, A_WIKI_LIST},
    {"wiki-api", required_argument, 0, A_WIKI_API}, {"search-url", required_argument, 0, A_SEARCH},
    {"search-results", required_argument, 0, A_SEARCH_N}, {"max-output", required_argument, 0, A_MAXOUT},
    {"rerank", required_argument, 0, A_RERANK}, {"rerank-url", required_argument, 0, A_RERANK_URL},
    {"rerank-model", required_argument, 0, A_RERANK_MODEL},
    {"rerank-depth", required_argument, 0, A_RERANK_DEPTH},
    {"rerank-threads", required_argument, 0, A_RERANK_THREADS},
    {"verifier", required_argument, 0, A_VERIFIER}, {"verifier-windows", required_argument, 0, A_VER_WINDOWS},
    {"verifier-threads", required_argument, 0, A_VER_THREADS},
    {"judge-url", required_argument, 0, A_JUDGE_URL}, {"judge-model", required_argument, 0, A_JUDGE_MODEL},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0}};

#define AUDIT_MAX_HOSTS 16
#define AUDIT_MAX_WIKI 64 /* --wiki options; more pages: --wiki-list FILE */

struct audit_args {
    const char *db, *html, *title, *claim, *source;
    char dbbuf[4096]; /* the default index's path when --db is not given */
    const char *hosts[AUDIT_MAX_HOSTS + 1]; /* --allow-host, NULL-terminated */
    int nhosts;
    const char *wiki[AUDIT_MAX_WIKI]; /* --wiki PAGE */
    int nwiki;
    const char *wiki_list, *wiki_api;
    struct ver_audit_opts vo;
    int json, wide;
    int verify; /* the verify command: evidence shown also when supported */
    int jobs;   /* --jobs: 0 when not given */
    double fail_under;
};

/* The verdicts' thresholds for --help (model_path NULL: the built-in model). */
static void print_calibration(FILE *f, const char *model_path)
{
    double ts = 0, tw = 0, target = 0, prec = 0, rec = 0, floor_p = 0;
    if (cli_model_calibration(model_path, &ts, &tw, &target, &prec, &rec, &floor_p)) return;
    fprintf(f,
            "\nthe built-in model's thresholds: supported when the score is >= %.2f (fitted on the\n"
            "shared dev data for a precision of supported of %.2f; cross-validated precision %.2f,\n"
            "recall %.2f), weak >= %.2f, else unsupported; contradicted when the best-matching\n"
            "passage clashes with the claim. Suggestions show the ranker's probability that they\n"
            "are the right source, best first, none below %.2f.\n",
            ts, target, prec, rec, tw, floor_p);
    fprintf(f,
            "\nwith --verifier: supported when the entailment probability is >= %.2f, weak >= %.2f,\n"
            "else unsupported; contradicted when the contradiction probability is >= %.2f and above\n"
            "the entailment probability. These are defaults, not calibrated for the model.\n",
            VER_NLI_T_SUPPORTED, VER_NLI_T_WEAK, VER_NLI_T_CONTRA);
}

static int parse_audit(const char *cmd, const char *help, int argc, char **argv, struct audit_args *a)
{
    int c;
    long ms = 0;
    optind = 1;
    a->fail_under = -1;
    while ((c = getopt_long(argc, argv, "h", audit_longopts, NULL)) != -1) {
        switch (c) {
        case A_DB: a->db = optarg; break;
        case A_JSON: a->json = 1; break;
        case A_WIDE: a->wide = 1; break;
        case A_WIKI:
            if (a->nwiki >= AUDIT_MAX_WIKI) return cli_usage(cmd, "at most %d --wiki (use --wiki-list FILE)", AUDIT_MAX_WIKI);
            a->wiki[a->nwiki++] = optarg;
            break;
        case A_WIKI_LIST: a->wiki_list = optarg; break;
        case A_WIKI_API: a->wiki_api = optarg; break;
        case A_SEARCH:
            if (!http_is_web_url(optarg))
                return cli_usage(cmd, "--search-url expects an http(s) URL, not '%s'", optarg);
            a->vo.search_url = optarg;
            break;
        case A_SEARCH_N:
            if (cli_int(cmd, "--search-results", optarg, 1, 10, &a->vo.search_results)) return CLI_USAGE;
            break;
        case A_HTML: a->html = optarg; break;
        case A_OFFLINE: a->vo.offline = 1; break;
        case A_REFRESH: a->vo.refresh = 1; break;
        case A_PRIVATE: a->vo.allow_private = 1; break;
        case A_SUGGEST:
            if (!strcmp(optarg, "failing")) a->vo.suggest = VER_SUGGEST_FAILING;
            else if (!strcmp(optarg, "all")) a->vo.suggest = VER_SUGGEST_ALL;
            else if (!strcmp(optarg, "none")) a->vo.suggest = VER_SUGGEST_NONE;
            else return cli_usage(cmd, "unknown --suggest '%s' (failing, all, none)", optarg);
            break;
        case A_MAXOUT:
            if (cli_size(cmd, "--max-output", optarg, 64u << 10, (size_t)16 << 30, &a->vo.max_output)) return CLI_USAGE;
            break;
        case A_FAIL:
            if (cli_double(cmd, "--fail-under", optarg, 0, 1, &a->fail_under)) return CLI_USAGE;
            break;
        case A_TIMEOUT:
            if (cli_duration(cmd, "--timeout", optarg, 0.1, 600, 1, &ms)) return CLI_USAGE;
            a->vo.fetch_timeout_ms = ms;
            break;
        case A_MODEL: a->vo.model_path = optarg; break;
        case A_VERIFIER: a->vo.verifier = optarg; break;
        case A_VER_WINDOWS:
            if (cli_int(cmd, "--verifier-windows", optarg, 1, VER_NLI_WINDOWS_CAP, &a->vo.verifier_windows))
                return CLI_USAGE;
            break;
        case A_VER_THREADS:
            if (cli_int(cmd, "--verifier-threads", optarg, 1, 64, &a->vo.verifier_threads)) return CLI_USAGE;
            break;
        case A_JUDGE_URL:
            if (!http_is_web_url(optarg))
                return cli_usage(cmd, "--judge-url expects an http(s) URL, not '%s'", optarg);
            a->vo.judge_url = optarg;
            a->vo.judge_key = getenv(VER_JUDGE_KEY_ENV);
            break;
        case A_JUDGE_MODEL: a->vo.judge_model = optarg; break;
        case A_TITLE: a->title = optarg; break;
        case A_CLAIM: a->claim = optarg; break;
        case A_SOURCE: a->source = optarg; break;
        case A_HOST:
            if (a->nhosts >= AUDIT_MAX_HOSTS) return cli_usage(cmd, "at most %d --allow-host", AUDIT_MAX_HOSTS);
            a->hosts[a->nhosts++] = optarg;
            a->vo.allow_hosts = a->hosts;
            break;
        case A_JOBS:
            if (cli_int(cmd, "--jobs", optarg, 1, 64, &a->jobs)) return CLI_USAGE;
            break;
        case A_RERANK: a->vo.rerank = optarg; break;
        case A_RERANK_URL: a->vo.rerank_url = optarg; break;
        case A_RERANK_MODEL: a->vo.rerank_model = optarg; break;
        case A_RERANK_DEPTH:
            if (cli_int(cmd, "--rerank-depth", optarg, 1, RET_RERANK_MAX_DEPTH, &a->vo.rerank_depth))
                return CLI_USAGE;
            break;
        case A_RERANK_THREADS:
            if (cli_int(cmd, "--rerank-threads", optarg, 1, 64, &a->vo.rerank_threads)) return CLI_USAGE;
            break;
        case 'h':
            fputs(help, stdout);
            print_calibration(stdout, a->vo.model_path);
            return CLI_OK;
        default: return cli_bad_option(cmd, argv, "h", audit_longopts);
        }
    }
    if (a->vo.rerank && a->vo.rerank_url) return cli_usage(cmd, "give --rerank NAME or --rerank-url URL, not both");
    if ((a->vo.rerank_depth || a->vo.rerank_model) && !a->vo.rerank && !a->vo.rerank_url)
        return cli_usage(cmd, "--rerank-depth and --rerank-model need --rerank NAME or --rerank-url URL");
    if (!a->db) {
        /* no corpus given: a personal index that only keeps the fetch cache (no suggestions) */
        const char *env = getenv("VERICITE_DB"), *home = getenv("HOME");
        if (env && *env) snprintf(a->dbbuf, sizeof a->dbbuf, "%s", env);
        else if (home && *home) snprintf(a->dbbuf, sizeof a->dbbuf, "%s/.cache/vericite/index", home);
        else return cli_usage(cmd, "--db DIR is required (neither VERICITE_DB nor HOME is set)");
        struct err e = {0};
        struct idx *ix = NULL;
        struct idx_opts io = {.create = 1};
        if (file_mkparents(a->dbbuf, &e) != ERR_OK || idx_open(&ix, a->dbbuf, &io, &e) != ERR_OK) return cli_fail(&e);
        idx_close(ix);
        a->db = a->dbbuf;
    }
    struct err e = {0};
    if (a->html && cli_check_writable(a->html, &e)) return cli_fail(&e); /* before the audit, not after */
    return -1;
}

/* Print all results of a run (`ix`, may be NULL: which words are too common to mark). */
static int report(struct audit_args *a, struct ver_result **all, size_t n, struct idx *ix, struct err *err)
{
    if (a->json) {
        struct ver_claim_run cr = {0}; /* each claim's text once */
        for (size_t i = 0; i < n; i++) {
            json_t *o = ver_result_json(all[i]);
            if (!o) return err_set(err, ERR_NOMEM, "json");
            ver_claim_run_next(&cr, o);
            json_dumpf(o, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(o);
        }
    }
    if (n > 1) qsort(all, n, sizeof *all, cmp_worst);
    if (!a->json && n == 0) printf("no citations found\n");
    if (!a->json && n > 0) {
        struct table t = {.width = a->wide ? 0 : cli_term_width(), .color = isatty(1) && !getenv("NO_COLOR"),
                          .always_evidence = a->verify, .ix = ix};
        int rc = cli_hl_new(&t.hl, err);
        if (rc) return rc;
        print_table(&t, all, n);
        cli_hl_free(t.hl);
    }
    int rc = a->html ? cli_html_audit(a->html, all, n, ix, a->vo.model_path, err) : ERR_OK;
    if (rc) return rc;
    int counts[VER_ST_SUPPORTED + 1] = {0};
    for (size_t i = 0; i < n; i++) counts[all[i]->status]++;
    fprintf(stderr, "%zu citation%s:", n, cli_s((long)n));
    for (int s = VER_ST_SUPPORTED; s >= 0; s--)
        if (counts[s]) fprintf(stderr, " %d %s", counts[s], ver_status_name(s));
    fprintf(stderr, "%s%s\n", a->html ? "; report: " : "", a->html ? a->html : "");
    return ERR_OK;
}

static int below(const struct audit_args *a, struct ver_result **all, size_t n)
{
    if (a->fail_under < 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (all[i]->score < a->fail_under) return 1;
    return 0;
}

/* Folders and dumps are batch inputs even without --jobs. */
static int batch_inputs(char *const *in, int n)
{
    for (int i = 0; i < n; i++) {
        struct stat sb;
        size_t len = strlen(in[i]);
        if ((len > 4 && !strcmp(in[i] + len - 4, ".xml")) || (len > 8 && !strcmp(in[i] + len - 8, ".xml.bz2")))
            return 1;
        if (strcmp(in[i], "-") && stat(in[i], &sb) == 0 && S_ISDIR(sb.st_mode)) return 1;
    }
    return 0;
}

/* Where the stored results of a batch go: straight to stdout (--json without --html), or
 * rebuilt into results for the table and the HTML report. */
struct batch_out {
    struct audit_args *a;
    int stream;
    struct ver_claim_run cr; /* stream: each claim's text once */
    struct ver_result *v;
    size_t n, cap;
    long counts[VER_ST_COUNT];
    int below;
};

static int batch_row(void *ctx, const struct ver_record *rec, struct err *err)
{
    struct batch_out *b = ctx;
    if (b->stream) {
        json_t *o = json_loads(rec->json, 0, NULL);
        if (!o) return err_set(err, ERR_CORRUPT, "%s: a stored record is not JSON", rec->path);
        ver_claim_run_next(&b->cr, o);
        int bad = json_dumpf(o, stdout, JSON_COMPACT) != 0;
        json_decref(o);
        if (bad) return err_set(err, ERR_IO, "stdout: %s", strerror(errno));
        fputc('\n', stdout);
        if (rec->status >= 0 && rec->status < VER_ST_COUNT) b->counts[rec->status]++;
        if (b->a->fail_under >= 0 && rec->score < b->a->fail_under) b->below = 1;
        b->n++;
        return ERR_OK;
    }
    if (vec_grow((void **)&b->v, &b->cap, b->n + 1, sizeof *b->v)) return err_set(err, ERR_NOMEM, "audit results");
    return ver_result_decode(rec->json, strlen(rec->json), &b->v[b->n++], err); /* counted even if partial: freed */
}

/* `audit --jobs N`: cli_batch_run, then the same printing as a single run. */
static int audit_batch(struct audit_args *a, char *const *in, int n)
{
    struct err err = {0};
    struct cli_batch_opts bo = {.db = a->db, .vo = &a->vo, .title = a->title, .jobs = a->jobs ? a->jobs : 1};
    struct batch_out b = {.a = a, .stream = a->json && !a->html};
    struct ver_result **all = NULL;
    struct idx *ix = NULL;
    int bad = 0, rc = cli_batch_run(&bo, in, n, batch_row, &b, &bad, &err);
    if (rc) goto out;
    if (b.stream) {
        fprintf(stderr, "%zu citation%s:", b.n, cli_s((long)b.n));
        for (int s = VER_ST_SUPPORTED; s >= 0; s--)
            if (b.counts[s]) fprintf(stderr, " %ld %s", b.counts[s], ver_status_name(s));
        fputc('\n', stderr);
        if (b.below) rc = -1;
        goto out;
    }
    all = calloc(b.n + 1, sizeof *all);
    if (!all) { rc = err_set(&err, ERR_NOMEM, "audit"); goto out; }
    for (size_t i = 0; i < b.n; i++) all[i] = &b.v[i];
    if (a->html) { /* which words are too common to mark */
        struct idx_opts io = {.readonly = 1};
        if (idx_open(&ix, a->db, &io, &err)) ix = NULL;
    }
    if ((rc = report(a, all, b.n, ix, &err))) goto out;
    if (below(a, all, b.n)) rc = -1;
out:
    if (b.v) ver_results_free(b.v, (int)b.n);
    free(b.v);
    free(all);
    idx_close(ix);
    if (rc > 0) return cli_fail(&err);
    if (bad) return CLI_FAIL; /* the inputs that could not be read were named above */
    return rc == -1 ? CLI_BELOW : CLI_OK;
}

/* One input of an audit that is not a batch: a file (or "-"), or a wiki page. */
struct input {
    const char *path;          /* the file; NULL for a page */
    const char *spec;          /* the page as given (URL, en:Title, a title) */
    struct ver_wiki_target wt; /* the page's API and title */
};

/* Everything a single (not batch) audit holds. */
struct single {
    struct audit_args *a;
    struct idx *ix;
    struct ver_auditor *au;
    struct ver_extractor *x;
    struct ver_wiki *wiki;
    struct ver_result **all;      /* (n): every result, pointing into the chunks */
    struct chunk {
        struct ver_result *res; /* one article's results, owned */
        int n;
    } *chunks;
    size_t n, cap, nchunks, chunk_cap;
    struct buf text;
    int page_errors; /* pages that could not be fetched (named on stderr) */
};

/* Audit one article's text: extract, audit, keep the results. */
static int audit_text(struct single *s, const char *path, const char *text, size_t len, enum ver_format fmt,
                      const char *title, const struct ver_wiki_page *page, struct err *err)
{
    struct ver_article *art = NULL;
    int rc = ver_extractor_run(s->x, &art, text, len, fmt, title, err);
    if (rc) {
        err_prefix(err, "%s", path);
        return rc;
    }
    if (page) {
        art->url = page->url;
        art->revision = page->revision;
        art->revision_time = page->revision_time;
    }
    struct ver_result *res = NULL;
    int nr = 0;
    if (isatty(2) && !s->a->json)
        fprintf(stderr, "auditing %s: %d claim%s...\n", path, art->nclaims, cli_s(art->nclaims));
    rc = ver_audit(s->au, art, path, &res, &nr, err);
    ver_article_free(art);
    if (rc) {
        err_prefix(err, "%s", path);
        return rc;
    }
    if (vec_grow((void **)&s->chunks, &s->chunk_cap, s->nchunks + 1, sizeof *s->chunks)) {
        ver_results_free(res, nr);
        free(res);
        return err_set(err, ERR_NOMEM, "audit");
    }
    s->chunks[s->nchunks++] = (struct chunk){res, nr};
    if (vec_grow((void **)&s->all, &s->cap, s->n + (size_t)nr + 1, sizeof *s->all)) return err_set(err, ERR_NOMEM, "audit");
    for (int j = 0; j < nr; j++) s->all[s->n++] = &res[j];
    return ERR_OK;
}

/* A wiki page: its current revision from the API, then its audit. A page that cannot be had is
 * named on stderr and counted; other errors end the audit. */
static int audit_page(struct single *s, const struct input *in, struct err *err)
{
    struct ver_wiki_page page;
    if (!s->wiki) {
        /* a long article takes a while: the API gets a minute, or --timeout when that is longer */
        struct ver_wiki_opts wo = {.timeout_ms = s->a->vo.fetch_timeout_ms > 60000 ? s->a->vo.fetch_timeout_ms : 0};
        int rc = ver_wiki_new(&s->wiki, &wo, err);
        if (rc) return rc;
    }
    if (isatty(2) && !s->a->json) fprintf(stderr, "fetching \"%s\" from %s...\n", in->wt.title, in->wt.api);
    struct err e = {0};
    int rc = ver_wiki_fetch(s->wiki, &in->wt, &page, &e);
    if (rc == ERR_NOMEM) return err_set(err, rc, "%s", e.msg);
    if (rc) {
        fprintf(stderr, "vericite: %s: %s\n", in->spec, e.msg);
        s->page_errors++;
        return ERR_OK;
    }
    if (page.redirected_from)
        fprintf(stderr, "vericite: %s: \"%s\" redirects to \"%s\"; auditing \"%s\" (%s)\n", in->spec, page.redirected_from,
                page.title, page.title, page.url);
    rc = audit_text(s, page.url, page.wikitext, page.wikitext_len, VER_FMT_WIKITEXT, s->a->title ? s->a->title : page.title,
                    &page, err);
    ver_wiki_page_cleanup(&page);
    return rc;
}

static int audit_file(struct single *s, const char *path, struct err *err)
{
    buf_reset(&s->text);
    int rc = cli_read_file(path, &s->text, err);
    if (rc) return rc;
    char title[512];
    if (s->a->title) snprintf(title, sizeof title, "%s", s->a->title);
    else if (!strcmp(path, "-")) title[0] = '\0';
    else cli_title_from_path(path, title, sizeof title);
    return audit_text(s, path, s->text.data, s->text.len, cli_format_of(path), title, NULL, err);
}

/* The inputs: files and page URLs as given, then --wiki, then --wiki-list's lines (kept in
 * `list`, which the specs point into). Every page is checked before any is fetched. */
static int collect_inputs(struct audit_args *a, char **args, int nargs, struct buf *list, struct input **out,
                          size_t *n, struct err *err)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (a->wiki_list) {
        int rc = cli_read_file(a->wiki_list, list, err);
        if (rc) return rc;
    }
    size_t nlist = 0;
    for (size_t i = 0; list->data && i < list->len; i++) nlist += list->data[i] == '\n';
    size_t total = (size_t)nargs + (size_t)a->nwiki + nlist + 1;
    if (vec_grow((void **)out, &cap, total, sizeof **out)) return err_set(err, ERR_NOMEM, "audit");
    for (int i = 0; i < nargs; i++) (*out)[(*n)++] = (struct input){.path = http_is_web_url(args[i]) ? NULL : args[i],
                                                                     .spec = http_is_web_url(args[i]) ? args[i] : NULL};
    for (int i = 0; i < a->nwiki; i++) (*out)[(*n)++] = (struct input){.spec = a->wiki[i]};
    for (char *p = list->data, *nl; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
        nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        size_t tn = strlen(p);
        char *t = (char *)ascii_trim(p, &tn);
        t[tn] = '\0';
        if (!*t || *t == '#') continue;
        (*out)[(*n)++] = (struct input){.spec = t};
    }
    for (size_t i = 0; i < *n; i++) {
        struct input *in = &(*out)[i];
        if (in->spec && ver_wiki_target(in->spec, a->wiki_api, &in->wt, err)) {
            if (in >= *out + nargs + a->nwiki) err_prefix(err, "%s", a->wiki_list);
            return ERR_ARG;
        }
    }
    return ERR_OK;
}

int cmd_audit(int argc, char **argv)
{
    struct audit_args a = {0};
    int rc = parse_audit("audit", audit_help, argc, argv, &a);
    if (rc >= 0) return rc;
    if (optind >= argc && !a.nwiki && !a.wiki_list)
        return cli_usage("audit", "give at least one ARTICLE (a file, - for stdin, or a wiki page URL), --wiki PAGE "
                                  "or --wiki-list FILE");
    struct err err = {0};
    struct buf list = {0};
    struct input *in = NULL;
    size_t nin = 0;
    struct single s = {.a = &a};
    struct cli_fetch *prog = NULL;
    if ((rc = collect_inputs(&a, argv + optind, argc - optind, &list, &in, &nin, &err))) goto out;
    int pages = 0;
    for (size_t i = 0; i < nin; i++) pages += in[i].spec != NULL;
    if (a.jobs || batch_inputs(argv + optind, argc - optind)) {
        if (pages) {
            rc = err_set(&err, ERR_ARG, "wiki pages are audited one after another: give them without --jobs, folders "
                                        "or dumps");
            goto out;
        }
        free(in);
        buf_cleanup(&list);
        return audit_batch(&a, argv + optind, argc - optind);
    }
    if ((rc = cli_fetch_new(&prog, isatty(2)))) {
        err_set(&err, rc, "audit");
        goto out;
    }
    a.vo.on_fetch = cli_fetch_event;
    a.vo.on_fetch_ud = prog;
    if ((rc = idx_open(&s.ix, a.db, NULL, &err))) goto out;
    if ((rc = ver_auditor_new(&s.au, s.ix, &a.vo, &err))) goto out;
    if ((rc = ver_extractor_new(&s.x, &err))) goto out;
    for (size_t i = 0; i < nin && !rc; i++) rc = in[i].spec ? audit_page(&s, &in[i], &err) : audit_file(&s, in[i].path, &err);
    if (rc) goto out;
    if (*ver_auditor_note(s.au)) fprintf(stderr, "vericite: %s\n", ver_auditor_note(s.au));
    if (s.page_errors && s.n == 0) {
        rc = err_set(&err, ERR_NOTFOUND, "no page could be audited (named above)");
        goto out;
    }
    if ((rc = report(&a, s.all, s.n, s.ix, &err))) goto out;
    if (below(&a, s.all, s.n)) rc = -1;
out:
    for (size_t i = 0; i < s.nchunks; i++) {
        ver_results_free(s.chunks[i].res, s.chunks[i].n);
        free(s.chunks[i].res);
    }
    free(s.chunks);
    free(s.all);
    buf_cleanup(&s.text);
    ver_extractor_free(s.x);
    ver_auditor_free(s.au);
    ver_wiki_free(s.wiki);
    idx_close(s.ix);
    cli_fetch_free(prog);
    free(in);
    buf_cleanup(&list);
    if (rc == -1) return CLI_BELOW;
    if (rc) return cli_fail(&err);
    return s.page_errors ? CLI_FAIL : CLI_OK;
}

/* ---------------------------------------------------------------- verify */

static const char verify_help[] =
    "usage: vericite verify --db DIR --claim TEXT --source URL_OR_FILE [--json] [options]\n"
    "\n"
    "Score how well one source supports one claim, show the best evidence passage, and suggest\n"
    "better sources from the corpus when it fails. SOURCE is an http(s) URL (the corpus copy or\n"
    "the cache is used when there is one) or a local text/HTML file.\n"
    "Takes the audit options --offline --allow-private --suggest --model --timeout --fail-under\n"
    "--search-url --wide --rerank --rerank-url --rerank-depth --verifier --verifier-windows\n"
    "--judge-url --judge-model. The evidence passage is printed whatever the verdict.\n"
    "Verdicts as for audit: supported, weak (with the missing parts), unsupported, contradicted\n"
    "(with what clashed), or why the source could not be read.\n"
    "\n"
    "example:\n"
    "  vericite verify --db docs-idx --claim \"WAL mode lets readers and writers run concurrently\" \\\n"
    "                  --source https://www.sqlite.org/wal.html\n";

int cmd_verify(int argc, char **argv)
{
    struct audit_args a = {0};
    int rc = parse_audit("verify", verify_help, argc, argv, &a);
    if (rc >= 0) return rc;
    if (!a.claim || !a.source) return cli_usage("verify", "--claim TEXT and --source URL_OR_FILE are required");
    struct err err = {0};
    struct idx *ix = NULL;
    struct ver_auditor *au = NULL;
    struct ver_result r = {0};
    struct buf text = {0};
    int have = 0;
    int is_url = http_is_web_url(a.source);
    if (!is_url && (rc = cli_read_file(a.source, &text, &err))) goto out;
    if ((rc = idx_open(&ix, a.db, NULL, &err))) goto out;
    if ((rc = ver_auditor_new(&au, ix, &a.vo, &err))) goto out;
    if ((rc = ver_verify(au, a.claim, is_url ? a.source : text.data, !is_url, &r, &err))) goto out;
    have = 1;
    if (!is_url) {
        free(r.url);
        r.url = strdup(a.source);
    }
    struct ver_result *one = &r;
    a.verify = 1;
    if ((rc = report(&a, &one, 1, ix, &err))) goto out;
    if (*ver_auditor_note(au)) fprintf(stderr, "vericite: %s\n", ver_auditor_note(au));
    if (below(&a, &one, 1)) rc = -1;
out:
    if (have) ver_results_free(&r, 1);
    buf_cleanup(&text);
    ver_auditor_free(au);
    idx_close(ix);
    if (rc == -1) return CLI_BELOW;
    return rc ? cli_fail(&err) : CLI_OK;
}

/* ---------------------------------------------------------------- train-verifier */

static const char train_help[] =
    "usage: vericite train-verifier [--precision P] [DATA_DIR] [OUT]\n"
    "\n"
    "Refit the citation verifier on the labelled sets in DATA_DIR (default ../shared/data): the\n"
    "support model (logistic regression over lexical, WordNet, negation, number, date and name\n"
    "features of the evidence window; WiCE dev and train_tokens, Citation-Integrity train, with\n"
    "wrong-page and changed-number negatives), its thresholds (fitted on 5-fold out-of-fold\n"
    "scores for a precision of supported of P), the suggestion ranker (pairwise, over a\n"
    "BM25 pool of the WiCE pages), and the missing-word model (which claim words a weak or\n"
    "unsupported verdict names as missing; fitted on WiCE train_tokens' word annotations and\n"
    "the supported claims). Prints the cross-validated WiCE figures, the Citation-Integrity\n"
    "dev figures and the missing-word figures, and writes the model to OUT (default\n"
    "verify/verifier-model.txt, the file built into vericite; regenerate the built-in copy with\n"
    "the command in verify/ver_score_model.c). Deterministic; takes under a minute.\n"
    "\n"
    "options:\n"
    "  --precision P   the share of `supported` verdicts that should be right, from 0.05 to\n"
    "                  0.99 (default 0.8; the model file records it, and audit --help shows it).\n"
    "                  Lower calls more citations supported and lets more bad ones through.\n"
    "                  On WiCE dev claims measured by models that did not see them (make bench):\n"
    "                    0.8: precision 0.76, recall 0.46, F1 0.57\n"
    "                    0.7: precision 0.67, F1 0.60     0.6: precision 0.57, F1 0.60\n"
    "\n"
    "examples:\n"
    "  vericite train-verifier\n"
    "  vericite train-verifier ../shared/data /tmp/model.txt && vericite audit --model /tmp/model.txt a.wiki\n"
    "  vericite train-verifier --precision 0.9 ../shared/data strict.txt\n";

int cmd_train(int argc, char **argv)
{
    static const struct option longopts[] = {{"precision", required_argument, NULL, 'p'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct ver_train_opts to = {.precision = VER_TRAIN_PRECISION};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(train_help, stdout); return CLI_OK;
        case 'p':
            if (cli_double("train-verifier", "--precision", optarg, 0.05, 0.99, &to.precision))
                return CLI_USAGE;
            break;
        default: return cli_bad_option("train-verifier", argv, "h", longopts);
        }
    }
    if (argc - optind > 2) return cli_usage("train-verifier", "too many arguments");
    const char *data = optind < argc ? argv[optind] : "../shared/data";
    const char *out = optind + 1 < argc ? argv[optind + 1] : "verify/verifier-model.txt";
    struct err err = {0};
    struct ver_train_report rep;
    double t = cli_now();
    int rc = ver_train_ex(data, out, &to, &rep, &err);
    if (rc) return cli_fail(&err);
    printf("trained on %d pairs in %.1f s; wrote %s\n", rep.n_train, cli_now() - t, out);
    printf("WiCE dev, %d-fold cross-validated (%d pairs): AUC own vs other page %.4f, "
           "3-way accuracy %.4f, supported F1 %.4f (precision %.4f, recall %.4f; best-threshold "
           "F1 %.4f), number-swap drop %.4f; contradicted: %.4f of number swaps, %.4f of "
           "supported pages\n",
           VER_TRAIN_CV_FOLDS, rep.n_heldout, rep.wice_auc, rep.wice_acc, rep.wice_supported_f1,
           rep.wice_precision, rep.wice_recall, rep.wice_best_f1, rep.wice_swap_drop, rep.wice_swap_contra,
           rep.wice_true_contra);
    printf("Citation-Integrity dev: SUPPORT vs REFUTE AUC %.4f, macro-F1 %.4f, SUPPORT F1 %.4f, "
           "wrong-source AUC %.4f\n",
           rep.ci_refute_auc, rep.ci_macro_f1, rep.ci_support_f1, rep.ci_wrong_auc);
    printf("suggestion ranker (training claims, in sample): R@1 %.4f, R@5 %.4f\n", rep.rank_r1,
           rep.rank_r5);
    printf("thresholds: supported >= %.4f (for precision %.2f), weak >= %.2f\n", rep.t_supported,
           rep.target_precision, rep.t_weak);
    if (rep.miss_words)
        printf("missing words, %d-fold (%d words of WiCE train_tokens and supported claims): "
               "precision %.4f, recall %.4f, F1 %.4f; words of supported claims called missing "
               "%.4f (the rule before: F1 %.4f, %.4f)\n",
               VER_TRAIN_CV_FOLDS, rep.miss_words, rep.miss_precision, rep.miss_recall,
               rep.miss_f1, rep.miss_supported_share, rep.miss_rule_f1,
               rep.miss_rule_supported_share);
    return CLI_OK;
}
