/* ver_audit.c - the citation audit: for every citation of an article, get the cited source (the
 * corpus document with the same normalised URL, else the fetch cache, else the web, with the
 * archive copy tried when the live URL is dead), score how well it supports the claim, and for
 * failing citations suggest better documents from the corpus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "utf8.h"
#include "buf.h"
#include "corpus/corpus.h"
#include "retrieve/ret.h"
#include "verify/ver.h"

#define AUDIT_MIN_TEXT 40        /* fewer readable bytes than this: no-text */
#define AUDIT_QUOTE_MAX 300      /* longest quote= in a suggested citation */
/* Suggestions are ranked by the verifier's score plus this weight times the retrieval score's
 * share of the best candidate's. Measured on the WiCE swap test (true page first among 117
 * swapped citations, before the article-title context was added): weight 0: 82%, 0.5: 85.5%,
 * 1: 88%, 2: 88.9%, 5: 88.9%; with the title context and 2: 90.6%. */
#define AUDIT_RETRIEVAL_WEIGHT 2.0

struct ver_auditor {
    struct idx *ix;
    struct ver_audit_opts o;
    struct ver_scorer *scorer;
    struct ret *ret;
    struct buf text, title; /* scratch */
    struct buf claim;       /* the claim being scored, with its context */
    char note[300];         /* ver_auditor_note */
};

/* A distinct URL of the article being audited, and what we got for it. */
struct source {
    char *url;
    int status;        /* -1: text available; else a failing enum ver_status */
    char *text;        /* readable text when status == -1 */
    char *where;       /* corpus, cache, web */
    char *detail;
    char *title;       /* the page's own title when status == -1 (NULL: none) */
    int64_t doc_row;   /* the corpus document, or -1 */
};

const char *ver_status_name(int status)
{
    static const char *const names[] = {"dead",        "unreachable", "no-text", "no-url",
                                        "unsupported", "weak",        "supported"};
    return status >= 0 && status <= VER_ST_SUPPORTED ? names[status] : "unknown";
}

static char *dup0(const char *s) { return strdup(s ? s : ""); }

int ver_auditor_new(struct ver_auditor **out, struct idx *ix, const struct ver_audit_opts *o,
                    struct err *err)
{
    *out = NULL;
    struct ver_auditor *a = calloc(1, sizeof *a);
    if (!a) return err_set(err, ERR_NOMEM, "auditor");
    a->ix = ix;
    if (o) a->o = *o;
    if (a->o.max_suggestions <= 0) a->o.max_suggestions = 3;
    if (a->o.max_suggestions > VER_MAX_SUGGEST) a->o.max_suggestions = VER_MAX_SUGGEST;
    if (a->o.candidates <= 0) a->o.candidates = 10;
    int rc = ver_scorer_new(&a->scorer, a->o.model_path, NULL, err);
    if (!rc) rc = ret_new(&a->ret, ix, err);
    if (rc) {
        ver_auditor_free(a);
        return rc;
    }
    *out = a;
    return ERR_OK;
}

const char *ver_auditor_note(const struct ver_auditor *a) { return a->note; }

void ver_auditor_free(struct ver_auditor *a)
{
    if (!a) return;
    ver_scorer_free(a->scorer);
    ret_free(a->ret);
    buf_cleanup(&a->text);
    buf_cleanup(&a->title);
    buf_cleanup(&a->claim);
    free(a);
}

static void source_cleanup(struct source *s)
{
    free(s->url);
    free(s->text);
    free(s->where);
    free(s->detail);
    free(s->title);
}

void ver_results_free(struct ver_result *r, int n)
{
    if (!r) return;
    for (int i = 0; i < n; i++) {
        struct ver_result *x = &r[i];
        free(x->article);
        free(x->article_title);
        free(x->section);
        free(x->claim);
        free(x->url);
        free(x->title);
        free(x->evidence);
        free(x->source);
        free(x->detail);
        free(x->source_title);
        free(x->article_url);
        free(x->revision_time);
        for (int j = 0; j < x->nsugg; j++) {
            free(x->sugg[j].doc_id);
            free(x->sugg[j].url);
            free(x->sugg[j].title);
            free(x->sugg[j].evidence);
            free(x->sugg[j].cite);
            free(x->sugg[j].from);
        }
    }
}

/* ---------------------------------------------------------------- getting the text */

/* Readable text of a fetched body: HTML reduced to its main text, text/plain as is (invalid UTF-8
 * makes it unreadable), anything else (PDF, images, binaries) none. Returns 0 with *text set
 * (malloc'ed), or a failing status with detail. */
static int body_text(struct ver_auditor *a, const char *ctype, const char *body, size_t len,
                     char **text, char **title, const char **detail)
{
    *text = NULL;
    *title = NULL;
    const char *ct = ctype ? ctype : "";
    int html = strcasestr(ct, "html") != NULL || strcasestr(ct, "xml") != NULL;
    int plain = strncasecmp(ct, "text/", 5) == 0 && !html;
    if (!*ct && len > 0) { /* no type: sniff */
        size_t i = 0;
        while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) i++;
        html = i < len && body[i] == '<';
        plain = !html && memchr(body, '\0', len) == NULL;
    }
    if (!html && !plain) {
        *detail = "not a text or HTML page";
        return VER_ST_NO_TEXT;
    }
    buf_reset(&a->text);
    buf_reset(&a->title);
    if (html) {
        struct err e = {0};
        if (corpus_html_text(body, len, &a->title, &a->text, &e) != ERR_OK) {
            *detail = "unreadable HTML";
            return VER_ST_NO_TEXT;
        }
    } else {
        if (!utf8_valid(body, len, NULL)) {
            *detail = "text is not valid UTF-8";
            return VER_ST_NO_TEXT;
        }
        if (buf_append(&a->text, body, len)) {
            *detail = "out of memory";
            return VER_ST_NO_TEXT;
        }
    }
    if (a->text.len < AUDIT_MIN_TEXT) {
        *detail = "no readable text";
        return VER_ST_NO_TEXT;
    }
    *text = dup0(a->text.data);
    *title = dup0(a->title.data);
    return *text && *title ? -1 : VER_ST_NO_TEXT;
}

/* Status of a failed fetch. */
static int fetch_status(const struct ver_fetch_result *f, char *detail, size_t n)
{
    switch (f->outcome) {
    case VER_FETCH_HTTP_ERROR:
        snprintf(detail, n, "HTTP %ld", f->status);
        return f->status == 404 || f->status == 410 ? VER_ST_DEAD : VER_ST_UNREACHABLE;
    case VER_FETCH_TOO_BIG:
        snprintf(detail, n, "%s", f->error[0] ? f->error : "over the size limit");
        return VER_ST_NO_TEXT;
    case VER_FETCH_REFUSED:
        snprintf(detail, n, "%s (--allow-private allows private addresses)", f->error);
        return VER_ST_UNREACHABLE;
    default:
        snprintf(detail, n, "%s: %s", f->reason ? f->reason : ver_fetch_outcome_name(f->outcome), f->error);
        return VER_ST_UNREACHABLE;
    }
}

/* The corpus or the cache. Returns 1 when the source was resolved there. */
static int resolve_local(struct ver_auditor *a, struct source *s, struct err *err, int *rc)
{
    struct idx_doc d;
    int found = 0;
    *rc = idx_find_url(a->ix, s->url, &d, &found, err);
    if (*rc) return 0;
    if (found) {
        struct buf t = {0};
        if ((*rc = idx_doc_text(a->ix, d.row, &t, err))) {
            buf_cleanup(&t);
            return 0;
        }
        s->doc_row = d.row;
        s->title = dup0(d.title);
        s->text = t.data ? buf_steal(&t) : dup0("");
        s->where = dup0("corpus");
        s->status = -1;
        return 1;
    }
    if (a->o.refresh) return 0;
    struct idx_fetch f;
    *rc = idx_cache_get(a->ix, s->url, &f, &found, err);
    if (*rc || !found) return 0;
    /* an answer from a non-public address only for callers whose guard allows that address */
    if (!ver_fetch_permits(a->o.allow_private, a->o.allow_hosts, f.private_addrs)) return 0;
    s->where = dup0("cache");
    if (!strcmp(f.outcome, "ok")) {
        s->status = strlen(f.text) >= AUDIT_MIN_TEXT ? -1 : VER_ST_NO_TEXT;
        s->text = dup0(f.text);
        s->title = dup0(f.title);
        s->detail = dup0(s->status == -1 ? "" : "no readable text");
    } else {
        /* the cached failure: outcome "dead", "unreachable" or "no-text", detail in title */
        s->status = !strcmp(f.outcome, "dead") ? VER_ST_DEAD
                    : !strcmp(f.outcome, "no-text") ? VER_ST_NO_TEXT : VER_ST_UNREACHABLE;
        s->detail = dup0(f.title);
    }
    return 1;
}

/* The fetcher's progress, passed on to the audit's caller with the batch's URLs. */
struct fetch_progress {
    const struct ver_audit_opts *o;
    const char *const *urls;
    size_t n;
};

static void fetch_done(void *ud, size_t i, const struct ver_fetch_done *d)
{
    struct fetch_progress *p = ud;
    p->o->on_fetch(p->o->on_fetch_ud, p->urls, p->n, i, d);
}

/* Resolve every source in `src` (n): corpus, cache, then one parallel fetch for the rest. */
static int resolve_sources(struct ver_auditor *a, struct source *src, size_t n, struct err *err)
{
    int rc = ERR_OK;
    const char **urls = calloc(n ? n : 1, sizeof *urls);
    size_t *which = calloc(n ? n : 1, sizeof *which);
    struct ver_fetch_result *res = NULL;
    size_t nf = 0;
    if (!urls || !which) { rc = err_set(err, ERR_NOMEM, "audit"); goto out; }
    for (size_t i = 0; i < n; i++) {
        src[i].doc_row = -1;
        if (resolve_local(a, &src[i], err, &rc)) continue;
        if (rc) goto out;
        if (a->o.offline) {
            src[i].status = VER_ST_UNREACHABLE;
            src[i].detail = dup0("not in the corpus or the cache, and --offline");
            src[i].where = dup0("");
            continue;
        }
        urls[nf] = src[i].url;
        which[nf++] = i;
    }
    if (nf == 0) goto out;
    res = calloc(nf, sizeof *res);
    if (!res) { rc = err_set(err, ERR_NOMEM, "audit"); goto out; }
    struct ver_fetch_opts fo = {.allow_private = a->o.allow_private, .allow_hosts = a->o.allow_hosts,
                                .total_timeout_ms = a->o.fetch_timeout_ms, .max_bytes = a->o.max_bytes};
    struct fetch_progress fp = {&a->o, urls, nf};
    if (a->o.on_fetch) {
        fo.on_done = fetch_done;
        fo.on_done_ud = &fp;
        a->o.on_fetch(a->o.on_fetch_ud, urls, nf, nf, NULL);
    }
    rc = ver_fetch_many(urls, nf, &fo, res, err);
    if (a->o.on_fetch) a->o.on_fetch(a->o.on_fetch_ud, NULL, 0, 0, NULL);
    if (rc) goto out;
    int in_tx = idx_begin(a->ix, NULL) == ERR_OK; /* cache writes of this batch land together */
    for (size_t k = 0; k < nf; k++) {
        struct source *s = &src[which[k]];
        struct ver_fetch_result *f = &res[k];
        char detail[400] = "";
        char *text = NULL, *title = NULL;
        const char *why = "";
        if (f->outcome == VER_FETCH_OK) {
            s->status = body_text(a, f->content_type, f->body, f->body_len, &text, &title, &why);
            snprintf(detail, sizeof detail, "%s", why);
        } else {
            s->status = fetch_status(f, detail, sizeof detail);
        }
        s->text = text;
        s->where = dup0("web");
        s->detail = dup0(detail);
        /* cache: "ok" with the text, else the status name with the detail in title */
        struct idx_fetch c = {.url = s->url, .final_url = f->final_url, .status = f->status,
                              .outcome = s->status == -1 ? "ok" : ver_status_name(s->status),
                              .content_type = f->content_type, .title = s->status == -1 ? title : detail,
                              .text = text ? text : "", .private_addrs = f->private_addrs};
        /* a network failure may be temporary: only answers from the server are cached */
        if (s->status == -1 || s->status == VER_ST_DEAD || s->status == VER_ST_NO_TEXT ||
            f->outcome == VER_FETCH_HTTP_ERROR)
            idx_cache_put(a->ix, &c, NULL);
        s->title = title; /* owned by the source now */
    }
    if (in_tx && idx_commit(a->ix, err) != ERR_OK) rc = ERR_OK; /* the cache is best effort */
out:
    if (res)
        for (size_t k = 0; k < nf; k++) ver_fetch_result_cleanup(&res[k]);
    free(res);
    free(urls);
    free(which);
    return rc;
}

/* ---------------------------------------------------------------- scoring and suggestions */

/* The claim as scored: with the article title in front when the sentence does not name it
 * ("She won the award." in the article "Taylor Swift"), so the subject counts as a name the
 * source must mention. Appends to `out`. */
static int claim_in_context(const char *claim, const char *title, struct buf *out)
{
    buf_reset(out);
    if (title && *title && !strcasestr(claim, title)) {
        if (buf_puts(out, title) || buf_puts(out, ": ")) return -1;
    }
    return buf_puts(out, claim);
}

/* Score `text` for `claim`; fills score, evidence and matches of r. */
static int score_into(struct ver_auditor *a, const char *claim, const char *text, struct ver_result *r,
                      struct err *err)
{
    struct ver_score_result sr;
    int rc = ver_score_source(a->scorer, claim, text, strlen(text), &sr, err);
    if (rc) return rc;
    r->score = sr.score;
    r->status = sr.verdict == VER_SUPPORTED ? VER_ST_SUPPORTED
                : sr.verdict == VER_WEAK    ? VER_ST_WEAK
                                            : VER_ST_UNSUPPORTED;
    free(r->evidence);
    r->evidence = strndup(text + sr.win_start, sr.win_end - sr.win_start);
    if (!r->evidence) return err_set(err, ERR_NOMEM, "evidence");
    r->nmatch = sr.nmatch;
    memcpy(r->match, sr.match, (size_t)sr.nmatch * sizeof *sr.match);
    return ERR_OK;
}


/* The sentence of `evidence` with the most of the claim's terms (the first such): what quote=
 * should hold, rather than the whole window. [*start, *end) in evidence. */
struct quote_pick {
    struct corpus_tok *tok;
    const char *text;
    char terms[VER_SCORE_MAX_TERMS][CORPUS_TOK_MAX + 1];
    int nterms, count;
    size_t start, end;
    int best;
};

static int quote_has(const struct quote_pick *q, const char *t, size_t n)
{
    for (int i = 0; i < q->nterms; i++)
        if (strlen(q->terms[i]) == n && !memcmp(q->terms[i], t, n)) return 1;
    return 0;
}

static int quote_term(void *ctx, const char *t, size_t n, int pos, size_t s, size_t e)
{
    (void)pos, (void)s, (void)e;
    struct quote_pick *q = ctx;
    if (q->nterms < VER_SCORE_MAX_TERMS && n <= CORPUS_TOK_MAX && !quote_has(q, t, n)) {
        memcpy(q->terms[q->nterms], t, n);
        q->terms[q->nterms++][n] = '\0';
    }
    return 0;
}

static int quote_count(void *ctx, const char *t, size_t n, int pos, size_t s, size_t e)
{
    (void)pos, (void)s, (void)e;
    struct quote_pick *q = ctx;
    q->count += quote_has(q, t, n);
    return 0;
}

static int quote_sentence(void *ctx, size_t start, size_t end)
{
    struct quote_pick *q = ctx;
    q->count = 0;
    corpus_tok_run(q->tok, q->text + start, end - start, quote_count, q);
    if (q->count > q->best) {
        q->best = q->count;
        q->start = start;
        q->end = end;
    }
    return 0;
}

static void quote_span(const char *claim, const char *evidence, size_t *start, size_t *end)
{
    struct quote_pick *q = calloc(1, sizeof *q);
    *start = 0;
    *end = strlen(evidence);
    if (!q || !claim || corpus_tok_new(&q->tok, 0, NULL) != ERR_OK) {
        free(q);
        return;
    }
    q->text = evidence;
    corpus_tok_run(q->tok, claim, strlen(claim), quote_term, q);
    ver_sentences(evidence, *end, quote_sentence, q);
    if (q->best > 0) {
        *start = q->start;
        *end = q->end;
    }
    corpus_tok_free(q->tok);
    free(q);
}

/* {{cite web |url= |title= |quote= |access-date= }} with | and }} in values made safe; quote= is
 * the sentence of `evidence` that matches `claim` best. */
static char *make_cite(const char *url, const char *title, const char *evidence, const char *claim)
{
    size_t qa = 0, qe = 0;
    quote_span(claim, evidence ? evidence : "", &qa, &qe);
    char *quote = strndup(evidence ? evidence + qa : "", qe - qa);
    struct buf b = {0};
    char date[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    const char *fields[3][2] = {{"url", url}, {"title", title}, {"quote", quote}};
    buf_puts(&b, "{{cite web");
    for (int f = 0; f < 3; f++) {
        if (!fields[f][1] || !*fields[f][1]) continue;
        buf_printf(&b, " |%s=", fields[f][0]);
        size_t max = f == 2 ? AUDIT_QUOTE_MAX : 2000, n = 0;
        /* a cut quote ends on a character boundary */
        for (const char *p = fields[f][1]; *p && (n < max || ((unsigned char)*p & 0xC0) == 0x80); p++, n++) {
            if (*p == '|') buf_puts(&b, "{{!}}");
            else if (*p == '\n' || *p == '\t') buf_putc(&b, ' ');
            else if ((*p == '}' && p[1] == '}') || (*p == '{' && p[1] == '{')) buf_putc(&b, ' ');
            else buf_putc(&b, *p);
        }
        if (f == 2 && strlen(fields[f][1]) > max) buf_puts(&b, "...");
    }
    buf_printf(&b, " |access-date=%s}}", date);
    free(quote);
    return buf_steal(&b);
}

static int suggest(struct ver_auditor *a, const char *context, const char *scored_claim,
                   struct ver_result *r, int64_t cited_row, struct err *err)
{
    struct ret_opts o = {.k = a->o.candidates, .by_doc = 1};
    /* hybrid when the index has vectors (with the embedder's measured weight), else BM25 */
    char *kind = NULL;
    idx_setting_get(a->ix, "embedder_kind", &kind, NULL);
    o.mode = kind && *kind && strcmp(kind, "none") != 0 ? RET_HYBRID : RET_BM25;
    free(kind);
    struct ret_hit hits[64];
    if (o.k > 64) o.k = 64;
    struct buf q = {0};
    if (buf_puts(&q, r->claim) || (context && *context && (buf_putc(&q, ' ') || buf_puts(&q, context))))
        return err_set(err, ERR_NOMEM, "suggest");
    int n = 0, rc = ret_search(a->ret, q.data, &o, hits, &n, err);
    buf_cleanup(&q);
    if (rc) return rc;
    struct ver_suggestion cand[64];
    double rank[64];
    int nc = 0;
    struct buf text = {0};
    for (int i = 0; i < n && !rc; i++) {
        if (hits[i].doc_row == cited_row) continue;
        buf_reset(&text);
        if ((rc = idx_doc_text(a->ix, hits[i].doc_row, &text, err))) break;
        if (!text.data) continue;
        struct ver_result tmp = {0};
        if ((rc = score_into(a, scored_claim, text.data, &tmp, err))) {
            free(tmp.evidence);
            break;
        }
        if (tmp.score <= r->score) {
            free(tmp.evidence);
            continue;
        }
        struct idx_doc d;
        if ((rc = idx_doc(a->ix, hits[i].doc_row, &d, err))) {
            free(tmp.evidence);
            break;
        }
        cand[nc] = (struct ver_suggestion){dup0(d.id), dup0(d.url), dup0(d.title), tmp.evidence,
                                           make_cite(d.url, d.title, tmp.evidence, r->claim), tmp.score, NULL};
        /* ranked by the verifier's score plus the retrieval score's share of the best one */
        /* the retrieval score as a share of the best candidate's (the cited document left out) */
        double top = 0;
        for (int j = 0; j < n && top == 0; j++)
            if (hits[j].doc_row != cited_row) top = hits[j].score;
        double share = top > 0 ? hits[i].score / top : 0;
        rank[nc] = tmp.score + AUDIT_RETRIEVAL_WEIGHT * share;
        nc++;
    }
    buf_cleanup(&text);
    /* sort by rank (insertion sort: at most 64) */
    for (int i = 1; i < nc; i++)
        for (int j = i; j > 0 && rank[j] > rank[j - 1]; j--) {
            double tr = rank[j];
            rank[j] = rank[j - 1];
            rank[j - 1] = tr;
            struct ver_suggestion ts = cand[j];
            cand[j] = cand[j - 1];
            cand[j - 1] = ts;
        }
    for (int i = 0; i < nc; i++) {
        if (!rc && r->nsugg < a->o.max_suggestions) {
            r->sugg[r->nsugg++] = cand[i];
            continue;
        }
        free(cand[i].doc_id);
        free(cand[i].url);
        free(cand[i].title);
        free(cand[i].evidence);
        free(cand[i].cite);
    }
    return rc;
}

/* ---------------------------------------------------------------- suggestions from the web */

/* Put `c` among r's suggestions, best first by score, at most max; what does not fit is freed. */
static void add_suggestion(struct ver_result *r, struct ver_suggestion c, int max)
{
    int at = r->nsugg;
    while (at > 0 && r->sugg[at - 1].score < c.score) at--;
    if (at >= max) {
        free(c.doc_id), free(c.url), free(c.title), free(c.evidence), free(c.cite), free(c.from);
        return;
    }
    if (r->nsugg == max) { /* the last one goes */
        struct ver_suggestion *l = &r->sugg[max - 1];
        free(l->doc_id), free(l->url), free(l->title), free(l->evidence), free(l->cite), free(l->from);
        r->nsugg--;
    }
    memmove(&r->sugg[at + 1], &r->sugg[at], (size_t)(r->nsugg - at) * sizeof *r->sugg);
    r->sugg[at] = c;
    r->nsugg++;
}

/* 1 when `url` is the cited one or already suggested. */
static int already_named(const struct ver_result *r, const char *url)
{
    if (r->url && !strcmp(r->url, url)) return 1;
    for (int i = 0; i < r->nsugg; i++)
        if (r->sugg[i].url && !strcmp(r->sugg[i].url, url)) return 1;
    return 0;
}

/* Suggestions from a web search for a failing citation: the claim (with the article title) is
 * searched; the results' pages are read like cited pages (corpus, cache, the guarded fetcher)
 * and scored like corpus documents. A search that fails is noted (ver_auditor_note), not an
 * error. */
static int web_suggest(struct ver_auditor *a, const char *title, const char *scored_claim, struct ver_result *r,
                       struct err *err)
{
    struct buf q = {0};
    if (buf_puts(&q, r->claim) ||
        (title && *title && !strcasestr(r->claim, title) && (buf_putc(&q, ' ') || buf_puts(&q, title))))
        return err_set(err, ERR_NOMEM, "web search");
    struct ver_search_opts so = {.base = a->o.search_url, .max = a->o.search_results,
                                 .timeout_ms = a->o.fetch_timeout_ms, .offline = a->o.offline,
                                 .refresh = a->o.refresh};
    struct ver_search_answer ans;
    struct err e = {0};
    int rc = ver_search(a->ix, &so, q.data, &ans, &e);
    buf_cleanup(&q);
    if (rc == ERR_NOMEM) return err_set(err, rc, "%s", e.msg);
    if (rc) {
        snprintf(a->note, sizeof a->note, "%.*s", (int)sizeof a->note - 1, e.msg);
        return ERR_OK;
    }
    struct source *src = calloc(ans.n ? (size_t)ans.n : 1, sizeof *src);
    int *hit = calloc(ans.n ? (size_t)ans.n : 1, sizeof *hit);
    size_t ns = 0;
    if (!src || !hit) rc = err_set(err, ERR_NOMEM, "web search");
    for (int i = 0; !rc && i < ans.n; i++) {
        if (already_named(r, ans.hits[i].url)) continue;
        src[ns] = (struct source){.url = strdup(ans.hits[i].url), .status = VER_ST_UNREACHABLE, .doc_row = -1};
        if (!src[ns].url) rc = err_set(err, ERR_NOMEM, "web search");
        else hit[ns++] = i;
    }
    if (!rc && ns) rc = resolve_sources(a, src, ns, err);
    for (size_t k = 0; !rc && k < ns; k++) {
        const struct source *s = &src[k];
        if (s->status != -1) continue;
        struct ver_result tmp = {0};
        if ((rc = score_into(a, scored_claim, s->text, &tmp, err))) {
            free(tmp.evidence);
            break;
        }
        if (tmp.score <= r->score) {
            free(tmp.evidence);
            continue;
        }
        const char *t = s->title && *s->title ? s->title : ans.hits[hit[k]].title;
        struct ver_suggestion c = {.doc_id = dup0(""), .url = dup0(s->url), .title = dup0(t),
                                   .evidence = tmp.evidence, .cite = make_cite(s->url, t, tmp.evidence, r->claim),
                                   .from = dup0("web"), .score = tmp.score};
        if (!c.doc_id || !c.url || !c.title || !c.cite || !c.from) rc = err_set(err, ERR_NOMEM, "web search");
        add_suggestion(r, c, a->o.max_suggestions);
    }
    for (size_t k = 0; src && k < ns; k++) source_cleanup(&src[k]);
    free(src);
    free(hit);
    ver_search_answer_cleanup(&ans);
    return rc;
}

static int wants_suggestions(const struct ver_auditor *a, int status)
{
    if (a->o.suggest == VER_SUGGEST_NONE) return 0;
    if (a->o.suggest == VER_SUGGEST_ALL) return 1;
    return status != VER_ST_SUPPORTED && status != VER_ST_UNREACHABLE;
}

/* ---------------------------------------------------------------- the audit */

static int find_source(struct source *src, size_t n, const char *url)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(src[i].url, url)) return (int)i;
    return -1;
}

static int add_source(struct source **src, size_t *n, size_t *cap, const char *url)
{
    int i = find_source(*src, *n, url);
    if (i >= 0) return i;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        struct source *p = realloc(*src, c * sizeof *p);
        if (!p) return -1;
        *src = p;
        *cap = c;
    }
    (*src)[*n] = (struct source){.url = strdup(url), .status = VER_ST_UNREACHABLE, .doc_row = -1};
    if (!(*src)[*n].url) return -1;
    return (int)(*n)++;
}

int ver_audit(struct ver_auditor *a, const struct ver_article *art, const char *path,
              struct ver_result **out, int *n, struct err *err)
{
    a->note[0] = '\0';
    *out = NULL;
    *n = 0;
    int total = 0, rc = ERR_OK;
    for (int i = 0; i < art->nclaims; i++) total += art->claims[i].ncit;
    struct ver_result *res = calloc(total ? (size_t)total : 1, sizeof *res);
    struct source *src = NULL;
    size_t nsrc = 0, cap = 0;
    if (!res) return err_set(err, ERR_NOMEM, "audit");

    /* 1. the distinct URLs, resolved together (parallel fetches) */
    for (int i = 0; i < art->nclaims; i++)
        for (int j = 0; j < art->claims[i].ncit; j++) {
            const struct ver_citation *c = &art->claims[i].cits[j];
            if (c->url && *c->url && add_source(&src, &nsrc, &cap, c->url) < 0) {
                rc = err_set(err, ERR_NOMEM, "audit");
                goto out;
            }
        }
    if ((rc = resolve_sources(a, src, nsrc, err))) goto out;
    /* 2. archive copies for dead or unreachable live URLs */
    size_t first_archive = nsrc;
    for (int i = 0; i < art->nclaims; i++)
        for (int j = 0; j < art->claims[i].ncit; j++) {
            const struct ver_citation *c = &art->claims[i].cits[j];
            if (!c->url || !*c->url || !c->archive_url || !*c->archive_url) continue;
            int s = find_source(src, nsrc, c->url);
            if (s >= 0 && (src[s].status == VER_ST_DEAD || src[s].status == VER_ST_UNREACHABLE) &&
                add_source(&src, &nsrc, &cap, c->archive_url) < 0) {
                rc = err_set(err, ERR_NOMEM, "audit");
                goto out;
            }
        }
    if (nsrc > first_archive && (rc = resolve_sources(a, src + first_archive, nsrc - first_archive, err)))
        goto out;

    /* 3. every citation: its source's text scored against the claim */
    int k = 0;
    for (int i = 0; i < art->nclaims; i++) {
        const struct ver_claim *cl = &art->claims[i];
        for (int j = 0; j < cl->ncit; j++, k++) {
            const struct ver_citation *c = &cl->cits[j];
            struct ver_result *r = &res[k];
            *n = k + 1;
            r->article = dup0(path);
            r->article_title = dup0(art->title);
            r->section = dup0(cl->section);
            r->claim = dup0(cl->text);
            r->ref = c->ref;
            r->url = dup0(c->url);
            r->title = dup0(c->title);
            r->source = dup0("");
            r->detail = dup0("");
            r->evidence = dup0("");
            r->article_url = dup0(art->url);
            r->revision_time = dup0(art->revision_time);
            r->revision = art->revision;
            if (!r->article || !r->claim || !r->url || !r->title || !r->source || !r->detail || !r->article_url ||
                !r->revision_time) {
                rc = err_set(err, ERR_NOMEM, "audit");
                goto out;
            }
            int64_t cited_row = -1;
            const struct source *s = NULL;
            if (claim_in_context(r->claim, art->title, &a->claim)) {
                rc = err_set(err, ERR_NOMEM, "audit");
                goto out;
            }
            if (c->url && *c->url) {
                s = &src[find_source(src, nsrc, c->url)];
                if (s->status != -1 && c->archive_url && *c->archive_url) {
                    int ai = find_source(src, nsrc, c->archive_url);
                    if (ai >= 0 && src[ai].status == -1) {
                        s = &src[ai];
                        free(r->source);
                        r->source = dup0("archive");
                    }
                }
            }
            struct idx_doc td;
            int tfound = 0;
            if (!s && !c->needs_source && c->title && *c->title &&
                (rc = idx_find_title(a->ix, c->title, &td, &tfound, err)))
                goto out;
            if (!s && tfound) {
                /* no URL, but the corpus has a document with the cited work's title */
                struct buf t = {0};
                if ((rc = idx_doc_text(a->ix, td.row, &t, err))) {
                    buf_cleanup(&t);
                    goto out;
                }
                cited_row = td.row;
                free(r->source);
                r->source = dup0("corpus");
                r->source_title = dup0(td.title);
                rc = score_into(a, a->claim.data, t.data ? t.data : "", r, err);
                buf_cleanup(&t);
                if (rc) goto out;
            } else if (!s) {
                r->status = VER_ST_NO_URL;
                free(r->detail);
                r->detail = dup0(c->needs_source ? "marked as needing a source"
                                                 : "the citation has no URL and no corpus document has its title");
            } else if (s->status != -1) {
                r->status = s->status;
                free(r->detail);
                r->detail = dup0(s->detail);
                if (!r->source[0]) {
                    free(r->source);
                    r->source = dup0(s->where);
                }
            } else {
                cited_row = s->doc_row;
                if (!r->source[0]) {
                    free(r->source);
                    r->source = dup0(s->where);
                }
                r->source_title = dup0(s->title);
                if ((rc = score_into(a, a->claim.data, s->text, r, err))) goto out;
            }
            if (!r->source_title) r->source_title = dup0("");
            r->title_mismatch = ver_title_mismatch(r->title, r->source_title);
            if (wants_suggestions(a, r->status) &&
                (rc = suggest(a, art->title, a->claim.data, r, cited_row, err)))
                goto out;
            if (a->o.search_url && wants_suggestions(a, r->status) &&
                (rc = web_suggest(a, art->title, a->claim.data, r, err)))
                goto out;
        }
    }
    *out = res;
    res = NULL;
out:
    if (res) {
        ver_results_free(res, *n);
        free(res);
        *n = 0;
    }
    for (size_t i = 0; i < nsrc; i++) source_cleanup(&src[i]);
    free(src);
    return rc;
}

int ver_verify(struct ver_auditor *a, const char *claim, const char *source, int is_text,
               struct ver_result *out, struct err *err)
{
    a->note[0] = '\0';
    memset(out, 0, sizeof *out);
    out->claim = dup0(claim);
    out->url = dup0(is_text ? "" : source);
    out->title = dup0("");
    out->article = dup0("");
    out->article_title = dup0("");
    out->section = dup0("");
    out->detail = dup0("");
    out->evidence = dup0("");
    out->source = dup0(is_text ? "file" : "");
    out->article_url = dup0("");
    out->revision_time = dup0("");
    if (!out->claim || !out->url || !out->source || !out->article_url || !out->revision_time)
        return err_set(err, ERR_NOMEM, "verify");
    int rc = ERR_OK;
    int64_t cited_row = -1;
    if (is_text) {
        char *text = NULL, *title = NULL;
        const char *why = "";
        int st = body_text(a, "", source, strlen(source), &text, &title, &why);
        out->source_title = title;
        if (st != -1) {
            out->status = st;
            free(out->detail);
            out->detail = dup0(why);
        } else {
            rc = score_into(a, claim, text, out, err);
        }
        free(text);
    } else {
        struct source s = {.url = strdup(source), .status = VER_ST_UNREACHABLE, .doc_row = -1};
        if (!s.url) return err_set(err, ERR_NOMEM, "verify");
        rc = resolve_sources(a, &s, 1, err);
        if (!rc && s.status == -1) {
            cited_row = s.doc_row;
            out->source_title = dup0(s.title);
            rc = score_into(a, claim, s.text, out, err);
        } else if (!rc) {
            out->status = s.status;
            free(out->detail);
            out->detail = dup0(s.detail);
        }
        free(out->source);
        out->source = dup0(s.where);
        source_cleanup(&s);
    }
    if (!out->source_title) out->source_title = dup0("");
    if (!rc && !out->source_title) rc = err_set(err, ERR_NOMEM, "verify");
    if (!rc && wants_suggestions(a, out->status)) rc = suggest(a, NULL, claim, out, cited_row, err);
    if (!rc && a->o.search_url && wants_suggestions(a, out->status)) rc = web_suggest(a, NULL, claim, out, err);
    return rc;
}
