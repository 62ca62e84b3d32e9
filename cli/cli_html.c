/* cli_html.c - the pieces of vericite's self-contained HTML pages (`audit --html`, `report --html`):
 * the page head with its inline style and script (verdict filters, copy buttons; nothing loaded
 * from anywhere), links (http and https only), the cited source with its host and both titles,
 * a {{cite web}} with its copy button, and the audit report itself. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ascii.h"
#include "cli.h"
#include "file.h"
#include "common/http/http.h"

static const char html_style[] =
    "body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222}\n"
    "h1{font-size:1.4em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em}\n"
    ".meta,.d{color:#666;font-size:.9em} .arts{margin:.3em 0 .8em;padding-left:1.2em}\n"
    ".filters{margin:.8em 0;display:flex;flex-wrap:wrap;gap:.4em}\n"
    ".filters button{border:1px solid #bbb;background:#fff;border-radius:1em;padding:.15em .8em;cursor:pointer;"
    "font:inherit;font-size:.9em}\n"
    ".filters button.on{background:#333;color:#fff;border-color:#333}\n"
    ".cite{border:1px solid #ddd;border-left:6px solid #999;border-radius:4px;padding:.4em 1em;margin:.7em 0}\n"
    ".cite>summary{cursor:pointer} .cite[open]>summary{margin-bottom:.4em}\n"
    ".supported{border-left-color:#2a9d3a} .weak{border-left-color:#d9a400}\n"
    ".unsupported{border-left-color:#c62828} .contradicted{border-left-color:#000;background:#fff3f3}\n"
    ".miss{background:#fde2e2;text-decoration:underline dotted}\n"
    ".dead,.unreachable,.no-text,.no-url{border-left-color:#7b1fa2}\n"
    ".v{font-weight:600;text-transform:uppercase;font-size:.8em;letter-spacing:.03em}\n"
    ".claim{display:block;margin-top:.15em} .host{font-weight:600}\n"
    ".warn{color:#a34700;font-weight:600} .src{font-size:.92em}\n"
    ".ev{background:#f7f7f7;padding:.35em .7em;border-radius:3px;margin:.4em 0} mark{background:#ffe27a;padding:0 .1em}\n"
    ".sug{margin:.5em 0 .5em 1.2em;padding-left:.6em;border-left:3px solid #cfe3cf}\n"
    ".cw{display:flex;gap:.5em;align-items:flex-start}\n"
    ".cw code{flex:1;font-size:.82em;word-break:break-all;color:#444;background:#fafafa;padding:.2em .4em}\n"
    "button.copy{font:inherit;font-size:.8em;cursor:pointer}\n"
    "table{border-collapse:collapse;width:100%;margin-bottom:1.5em} th,td{border-bottom:1px solid #ddd;"
    "padding:.3em .5em;text-align:left;vertical-align:top} th{background:#f3f3f3}\n"
    "tr.dead td:first-child,tr.unreachable td:first-child,tr.no-text td:first-child,tr.no-url td:first-child"
    "{color:#7b1fa2} tr.unsupported td:first-child{color:#c62828} tr.weak td:first-child{color:#b58900}\n";

/* The filters show the elements with data-verdict of the chosen verdict ("failing": every one
 * but supported); the copy buttons copy the <code> beside them. */
static const char html_script[] =
    "(function(){\n"
    "var bs=document.querySelectorAll('.filters button');\n"
    "function show(v){\n"
    " bs.forEach(function(b){b.classList.toggle('on',b.getAttribute('data-v')===v);});\n"
    " document.querySelectorAll('[data-verdict]').forEach(function(c){var x=c.getAttribute('data-verdict');\n"
    "  c.hidden=!(v==='all'||x===v||(v==='failing'&&x!=='supported'));});\n"
    "}\n"
    "bs.forEach(function(b){b.addEventListener('click',function(){show(b.getAttribute('data-v'));});});\n"
    "function fallback(t){var a=document.createElement('textarea');a.value=t;a.setAttribute('readonly','');\n"
    " a.style.position='fixed';a.style.opacity='0';document.body.appendChild(a);a.select();\n"
    " var ok=false;try{ok=document.execCommand('copy');}catch(e){}document.body.removeChild(a);return ok;}\n"
    "document.querySelectorAll('button.copy').forEach(function(b){b.addEventListener('click',function(){\n"
    " var t=b.parentNode.querySelector('code').textContent;\n"
    " function done(){b.textContent='copied';setTimeout(function(){b.textContent='copy';},2000);}\n"
    " if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(t).then(done,function(){\n"
    "  fallback(t);done();});}else{fallback(t);done();}\n"
    "});});\n"
    "})();\n";

int cli_html_begin(struct buf *b, const char *title)
{
    return buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                       "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n<title>") ||
           buf_put_html(b, title, strlen(title)) || buf_puts(b, "</title>\n<style>\n") ||
           buf_puts(b, html_style) || buf_puts(b, "</style></head><body>\n");
}

int cli_html_end(struct buf *b)
{
    return buf_puts(b, "<p class=\"meta\">Made by vericite.</p>\n<script>\n") || buf_puts(b, html_script) ||
           buf_puts(b, "</script></body></html>\n");
}

static int esc(struct buf *b, const char *s) { return buf_put_html(b, s, strlen(s)); }

int cli_html_link(struct buf *b, const char *url, const char *label)
{
    url = url ? url : "";
    label = label && *label ? label : *url ? url : "(no source)";
    /* only http(s) URLs become links: a javascript: or data: URL from an article stays text */
    int web = http_is_web_url(url);
    if (!web) { /* as text: the label, and the address when it is not the label */
        if (esc(b, label)) return -1;
        if (!*url || !strcmp(url, label)) return 0;
        return buf_puts(b, " (") || esc(b, url) || buf_putc(b, ')') ? -1 : 0;
    }
    return buf_puts(b, "<a href=\"") || esc(b, url) || buf_puts(b, "\" rel=\"noreferrer\">") || esc(b, label) ||
                   buf_puts(b, "</a>")
               ? -1
               : 0;
}

void cli_url_host(const char *url, char *out, size_t n)
{
    out[0] = '\0';
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p || n == 0) return;
    p += 3;
    size_t len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', len); /* user:password@ is not the host */
    if (at) {
        len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (len > 4 && !ascii_ncasecmp(p, "www.", 4)) {
        p += 4;
        len -= 4;
    }
    if (len >= n) len = n - 1;
    for (size_t i = 0; i < len; i++) out[i] = (char)ascii_tolower((unsigned char)p[i]);
    out[len] = '\0';
}

int cli_html_source(struct buf *b, const char *url, const char *stated, const char *real, int mismatch)
{
    char host[256];
    cli_url_host(url, host, sizeof host);
    int bad = 0;
    if (url && *url) {
        if (*host) bad |= buf_puts(b, "<span class=\"host\">") || esc(b, host) || buf_puts(b, "</span> ");
        bad |= cli_html_link(b, url, url);
    } else {
        bad |= buf_puts(b, "(no URL)");
    }
    if (stated && *stated) bad |= buf_puts(b, " &middot; ref title &ldquo;") || esc(b, stated) || buf_puts(b, "&rdquo;");
    if (real && *real) bad |= buf_puts(b, " &middot; page title &ldquo;") || esc(b, real) || buf_puts(b, "&rdquo;");
    if (mismatch)
        bad |= buf_puts(b, " <span class=\"warn\" title=\"the page may not be the one the citation means\">"
                           "&#9888; the page&rsquo;s title does not match the ref&rsquo;s</span>");
    return bad;
}

int cli_html_cite(struct buf *b, const char *cite)
{
    return buf_puts(b, "<div class=\"cw\"><code>") || esc(b, cite) ||
           buf_puts(b, "</code><button class=\"copy\" type=\"button\" title=\"copy this {{cite web}}\">copy</button>"
                       "</div>\n");
}

int cli_html_filters(struct buf *b, const long *counts, long total)
{
    long failing = total - counts[VER_ST_SUPPORTED];
    int bad = buf_printf(b, "<div class=\"filters\" role=\"group\" aria-label=\"show\">"
                            "<button type=\"button\" class=\"on\" data-v=\"all\">all (%ld)</button>",
                         total);
    if (failing && counts[VER_ST_SUPPORTED])
        bad |= buf_printf(b, "<button type=\"button\" data-v=\"failing\">not supported (%ld)</button>", failing);
    for (int s = 0; s < VER_ST_COUNT; s++)
        if (counts[s])
            bad |= buf_printf(b, "<button type=\"button\" data-v=\"%s\">%s (%ld)</button>", ver_status_name(s),
                              ver_status_name(s), counts[s]);
    return bad || buf_puts(b, "</div>\n");
}

/* ---------------------------------------------------------------- the audit report */

/* A quote: the sentence of `text` with the most matched words of the claim, those in <mark>. */
static int html_quote(struct buf *b, struct cli_hl *hl, const char *text)
{
    struct ver_span sp[VER_SCORE_MAX_MATCH];
    size_t len = strlen(text), a = 0, e = len;
    int n = cli_hl_find(hl, text, len, sp, VER_SCORE_MAX_MATCH);
    cli_hl_sentence(text, len, sp, n, &a, &e);
    int bad = buf_puts(b, "<blockquote class=\"ev\">") || (a > 0 && buf_puts(b, "&hellip; ")) ||
              cli_hl_html(b, text, a, e, sp, n) || (e < len && buf_puts(b, " &hellip;"));
    return bad || buf_puts(b, "</blockquote>\n");
}

/* The claim with the parts the source does not cover marked (and a mark when it was cut). */
static int html_claim(struct buf *b, const struct ver_result *r)
{
    size_t at = 0, len = strlen(r->claim);
    int bad = 0;
    for (int i = 0; r->status != VER_ST_SUPPORTED && i < r->nmissing && !bad; i++) {
        if (r->missing[i].start < at || r->missing[i].end > len) continue;
        bad |= buf_put_html(b, r->claim + at, r->missing[i].start - at) ||
               buf_puts(b, "<span class=\"miss\" title=\"not in the source\">") ||
               buf_put_html(b, r->claim + r->missing[i].start, r->missing[i].end - r->missing[i].start) ||
               buf_puts(b, "</span>");
        at = r->missing[i].end;
    }
    return bad || buf_put_html(b, r->claim + at, len - at) ||
           (r->claim_cut && buf_printf(b, " <span class=\"miss\" title=\"the sentence is longer: its first %d bytes\">"
                                          "[&hellip;]</span>", VER_CLAIM_MAX));
}

int cli_model_calibration(const char *model_path, double *ts, double *tw, double *target, double *prec,
                          double *rec, double *floor_p)
{
    struct err e = {0};
    struct ver_scorer *sc = NULL;
    if (ver_scorer_new(&sc, model_path, NULL, &e)) return -1;
    ver_scorer_thresholds(sc, ts, tw);
    ver_scorer_calibration(sc, target, prec, rec);
    *floor_p = ver_scorer_suggest_floor(sc);
    ver_scorer_free(sc);
    return 0;
}

/* The legend: what the verdicts and numbers mean, with the model's calibration; the NLI
 * verifier's thresholds when it scored (`nli`), the judge's verdicts when one was asked. */
static int html_legend(struct buf *b, const char *model_path, int nli, int judge)
{
    double ts = 0, tw = 0, target = 0, prec = 0, rec = 0, floor_p = 0;
    cli_model_calibration(model_path, &ts, &tw, &target, &prec, &rec, &floor_p);
    if (nli &&
        buf_printf(b,
                   "<details class=\"meta\" open><summary>Scored by an NLI model</summary><p>The score is the "
                   "entailment probability of the source's best window of sentences; &ldquo;contradiction&rdquo; "
                   "is the contradiction probability of its most contradicting window. Supported &ge; %.2f, weak "
                   "&ge; %.2f, else unsupported; contradicted when the contradiction probability is &ge; %.2f and "
                   "above the entailment probability. These thresholds are defaults, <b>not calibrated for this "
                   "model</b>; the figures in the legend below are the lexical verifier's.</p></details>\n",
                   VER_NLI_T_SUPPORTED, VER_NLI_T_WEAK, VER_NLI_T_CONTRA))
        return -1;
    if (judge &&
        buf_puts(b, "<details class=\"meta\" open><summary>Checked by an LLM judge</summary><p>Where a judge "
                    "answered, its verdict is the one shown (&ldquo;partial&rdquo; is weak) with the sentence it "
                    "quoted; the score stays the verifier's. A judge that gave no valid verdict is marked "
                    "&ldquo;judge failed&rdquo; with the reason, and the verifier's verdict stands.</p></details>\n"))
        return -1;
    return buf_printf(
        b,
        "<details class=\"meta\"><summary>What the verdicts mean</summary><ul>"
        "<li><b>supported</b>: support score &ge; %.2f, a threshold fitted on the shared dev data "
        "for a precision of %.0f%% (cross-validated: %.0f%% of the pages called supported are "
        "fully supporting; %.0f%% of those are found)</li>"
        "<li><b>weak</b>: score &ge; %.2f: partly supported; the parts of the claim the source does not "
        "cover are <span class=\"miss\">marked</span></li>"
        "<li><b>unsupported</b>: below %.2f</li>"
        "<li><b>contradicted</b>: the passage that matches the claim best says something else (another "
        "number or date, the negation, an antonym)</li>"
        "<li><b>dead</b>, <b>unreachable</b>, <b>no-text</b>, <b>no-url</b>: the source could not be read</li>"
        "<li>the number beside a suggestion is the ranker's probability that it is the right source; "
        "suggestions are ordered by it and none is below %.2f; &ldquo;support&rdquo; is the verifier's score "
        "of the claim by it</li></ul></details>\n",
        ts, 100 * target, 100 * prec, 100 * rec, tw, tw, floor_p);
}

static int html_card(struct buf *b, const struct ver_result *r, struct cli_hl *hl, struct idx *ix)
{
    const char *v = ver_status_name(r->status);
    cli_hl_set(hl, r->claim, ix, NULL);
    int bad = buf_printf(b, "<details class=\"cite %s\" data-verdict=\"%s\"%s%s><summary><span class=\"v\">%s</span> "
                            "&middot; score %.2f &middot; ref %d &middot; ",
                         v, v, r->title_mismatch ? " data-mismatch=\"1\"" : "",
                         r->status == VER_ST_SUPPORTED ? "" : " open", v, r->score, r->ref);
    bad |= esc(b, r->article_title[0] ? r->article_title : r->article);
    if (r->section[0] && strcmp(r->section, r->article_title))
        bad |= buf_puts(b, " &rsaquo; ") || esc(b, r->section);
    bad |= buf_puts(b, "<span class=\"claim\">") || html_claim(b, r) || buf_puts(b, "</span></summary>\n");
    bad |= buf_puts(b, "<div class=\"src\">cited: ") || cli_html_source(b, r->url, r->title, r->source_title,
                                                                         r->title_mismatch);
    if (r->source[0]) bad |= buf_printf(b, " <span class=\"d\">(text from the %s)</span>", r->source);
    if (r->detail[0]) bad |= buf_puts(b, "<div class=\"d\">") || esc(b, r->detail) || buf_puts(b, "</div>");
    if (r->contradiction >= 0)
        bad |= buf_printf(b, "<div class=\"d\">contradiction %.2f &middot; entailment %.2f (NLI model)</div>",
                          r->contradiction, r->score);
    if (r->judge && r->judge[0]) {
        int failed = !strcmp(r->judge, "failed");
        bad |= buf_puts(b, "<div class=\"d judge\">judge ") ||
               (failed ? buf_puts(b, "failed (") || esc(b, r->judge_fail ? r->judge_fail : "") || buf_puts(b, "): ") ||
                             esc(b, r->judge_message ? r->judge_message : "")
                       : buf_puts(b, "<b>") || esc(b, r->judge) || buf_puts(b, "</b>") ||
                             (r->judge_evidence && r->judge_evidence[0] &&
                              (buf_puts(b, ": &ldquo;") || esc(b, r->judge_evidence) || buf_puts(b, "&rdquo;")))) ||
               buf_puts(b, "</div>");
    }
    bad |= buf_puts(b, "</div>\n");
    if (r->evidence[0]) bad |= html_quote(b, hl, r->evidence);
    for (int j = 0; j < r->nsugg && !bad; j++) {
        const struct ver_suggestion *s = &r->sugg[j];
        bad |= buf_printf(b, "<div class=\"sug\">suggested%s <b>%.2f</b> <span class=\"d\">(support %.2f)</span>: ",
                          s->from && !strcmp(s->from, "web") ? " from the web" : "", s->score, s->support) ||
               cli_html_source(b, s->url, NULL, s->title[0] ? s->title : s->doc_id, 0) || buf_puts(b, "\n") ||
               html_quote(b, hl, s->evidence) || cli_html_cite(b, s->cite) || buf_puts(b, "</div>\n");
    }
    return bad || buf_puts(b, "</details>\n");
}

/* The header: each article with its revision, the date, the counts and the filters. */
static int html_header(struct buf *b, struct ver_result **rs, size_t n)
{
    long counts[VER_ST_COUNT] = {0}, mismatches = 0;
    for (size_t i = 0; i < n; i++) {
        if (rs[i]->status >= 0 && rs[i]->status < VER_ST_COUNT) counts[rs[i]->status]++;
        mismatches += rs[i]->title_mismatch;
    }
    int bad = 0;
    /* the distinct articles, in order of first appearance among the results */
    const struct ver_result *arts[16];
    size_t na = 0, more = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < na && strcmp(arts[k]->article, rs[i]->article)) k++;
        if (k < na) continue;
        if (na < 16) arts[na++] = rs[i];
        else more++;
    }
    const char *t = na == 1 && arts[0]->article_title[0] ? arts[0]->article_title : NULL;
    bad |= buf_puts(b, "<header><h1>Citation audit") || (t && (buf_puts(b, ": ") || esc(b, t))) ||
           buf_puts(b, "</h1>\n<ul class=\"arts meta\">");
    for (size_t k = 0; k < na; k++) {
        const struct ver_result *r = arts[k];
        bad |= buf_puts(b, "<li>");
        if (r->article_url[0]) bad |= cli_html_link(b, r->article_url, r->article_title[0] ? r->article_title : r->article);
        else bad |= esc(b, r->article_title[0] ? r->article_title : r->article) || buf_puts(b, " (") ||
                    esc(b, r->article) || buf_puts(b, ")");
        if (r->revision > 0) {
            char url[4200];
            snprintf(url, sizeof url, "%s%coldid=%lld", r->article_url, strchr(r->article_url, '?') ? '&' : '?',
                     r->revision);
            char label[64];
            snprintf(label, sizeof label, "%lld", r->revision);
            bad |= buf_puts(b, ", revision ") || cli_html_link(b, r->article_url[0] ? url : "", label);
            if (r->revision_time[0]) bad |= buf_puts(b, " of ") || esc(b, r->revision_time);
        }
        bad |= buf_puts(b, "</li>");
    }
    if (more) bad |= buf_printf(b, "<li>and %zu more</li>", more);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    bad |= buf_printf(b, "</ul>\n<p class=\"meta\">Audited %s: %zu citation%s", date, n, cli_s((long)n));
    for (int s = VER_ST_COUNT - 1; s >= 0; s--)
        if (counts[s]) bad |= buf_printf(b, ", %ld %s", counts[s], ver_status_name(s));
    if (mismatches)
        bad |= buf_printf(b, "; <span class=\"warn\">%ld cited page%s whose title does not match the ref&rsquo;s</span>",
                          mismatches, cli_s(mismatches));
    bad |= buf_puts(b, ". Worst first; supported citations are folded (click to open). The quote is the "
                       "sentence of the source that matches the claim best; marked words are the claim&rsquo;s "
                       "(words common in the corpus are not marked).</p>\n</header>\n");
    return bad || cli_html_filters(b, counts, (long)n);
}

int cli_html_audit(const char *path, struct ver_result **rs, size_t n, struct idx *ix, const char *model_path,
                   struct err *err)
{
    struct buf b = {0};
    struct cli_hl *hl = NULL;
    int rc = cli_hl_new(&hl, err);
    if (rc) return rc;
    int nli = 0, judge = 0;
    for (size_t i = 0; i < n; i++) {
        nli |= rs[i]->contradiction >= 0;
        judge |= rs[i]->judge && rs[i]->judge[0];
    }
    int bad = cli_html_begin(&b, "vericite citation audit") || html_header(&b, rs, n) ||
              html_legend(&b, model_path, nli, judge) || buf_puts(&b, "<main>\n");
    for (size_t i = 0; i < n && !bad; i++) bad |= html_card(&b, rs[i], hl, ix);
    bad |= buf_puts(&b, "</main>\n") || cli_html_end(&b);
    rc = bad ? err_set(err, ERR_NOMEM, "%s", path) : file_write_atomic(path, b.data, b.len, err);
    buf_cleanup(&b);
    cli_hl_free(hl);
    return rc;
}
