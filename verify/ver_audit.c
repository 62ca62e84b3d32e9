/* ver_audit.c - the citation audit: for every citation of an article, get the cited source (the
 * corpus document with the same normalised URL, else the fetch cache, else the web, with the
 * archive copy tried when the live URL is dead), score how well it supports the claim, and for
 * failing citations suggest better documents from the corpus. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8.h"
#include "buf.h"
#include "vec.h"
#include "corpus/corpus.h"
#include "retrieve/ret.h"
#include "verify/ver.h"
#include "ascii.h"

#define AUDIT_MIN_TEXT 40        /* fewer readable bytes than this: no-text */
#define AUDIT_NO_TEXT "under 40 bytes of readable text" /* the detail, AUDIT_MIN_TEXT spelled out */
#define AUDIT_QUOTE_MAX 300      /* longest quote= in a suggested citation */
#define AUDIT_NO_SOURCE_SCORE 0.05 /* the cited source's score for the ranker when nothing was read */

struct ver_auditor {
    struct idx *ix;
    struct ver_audit_opts o;
    struct ver_scorer *scorer;
    struct ret *ret;
    struct ret_reranker *rr; /* NULL without a reranker (ver_audit_opts.rerank) */
    struct buf text, title; /* scratch */
    struct buf claim;       /* the claim being scored, with its context */
    struct ver_score_result cited; /* the cited source's result for the citation at hand */
    int cocited;            /* ... which is one of several closing its claim (VER_F_COCITED) */
    struct ver_nli *nli;    /* the NLI verifier, or NULL (lexical) */
    struct ver_judge *judge; /* the LLM judge, or NULL */
    size_t ev_start, ev_end; /* the evidence window of the last score_into, in its text */
    char note[300];         /* ver_auditor_note */
    char html_why[300];     /* body_text's detail for a page over the HTML parse budget */
};

/* A distinct URL of the article being audited, and what we got for it. */
struct source {
    char *url;
    int status;        /* -1: text available; else a failing enum ver_status */
    char *text;        /* readable text when status == -1 */
    char *where;       /* corpus, web (also from the fetch cache) */
    char *detail;
    char *title;       /* the page's own title when status == -1 (NULL: none) */
    int64_t doc_row;   /* the corpus document, or -1 */
};

const char *ver_status_name(int status)
{
    static const char *const names[] = {"dead",        "unreachable", "no-text", "no-url",
                                        "contradicted", "unsupported", "weak",   "supported"};
    return status >= 0 && status <= VER_ST_SUPPORTED ? names[status] : "unknown";
}

static char *dup0(const char *s) { return strdup(s ? s : ""); }

/* The claim as results keep it: at most VER_CLAIM_MAX bytes, cut on a character boundary (*cut
 * set to 1 then). NULL when out of memory. */
static char *claim_copy(const char *text, int *cut)
{
    size_t n = text ? strlen(text) : 0;
    *cut = n > VER_CLAIM_MAX;
    if (*cut) n = utf8_cut(text, VER_CLAIM_MAX);
    return strndup(text ? text : "", n);
}

/* About the bytes result `r` takes as a record (ver_result_encode), its claim counted when
 * `with_claim`: what the audit's budget (max_output) counts. */
static size_t result_bytes(const struct ver_result *r, int with_claim)
{
    const char *s[] = {r->article, r->article_title, r->section, r->url, r->title, r->evidence,
                       r->source, r->source_title, r->detail, r->article_url, r->revision_time};
    size_t n = 400; /* member names, numbers, punctuation */
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) n += s[i] ? strlen(s[i]) : 0;
    if (with_claim && r->claim) n += strlen(r->claim);
    for (int i = 0; i < r->nmatch; i++) n += 4 + r->match[i].end - r->match[i].start;
    for (int i = 0; i < r->nmissing; i++) n += 40 + r->missing[i].end - r->missing[i].start;
    for (int i = 0; i < r->nsugg; i++) {
        const struct ver_suggestion *g = &r->sugg[i];
        const char *t[] = {g->doc_id, g->url, g->title, g->evidence, g->cite, g->from};
        n += 120;
        for (size_t j = 0; j < sizeof t / sizeof t[0]; j++) n += t[j] ? strlen(t[j]) : 0;
    }
    return n;
}

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
    if (!rc && ((a->o.rerank && *a->o.rerank) || (a->o.rerank_url && *a->o.rerank_url))) {
        struct ret_rerank_opts ro = {.model = a->o.rerank, .url = a->o.rerank_url,
                                     .url_model = a->o.rerank_model, .threads = a->o.rerank_threads};
        rc = ret_reranker_new(&a->rr, &ro, err);
    }
    struct ver_nli_opts no = {.threads = a->o.verifier_threads, .max_windows = a->o.verifier_windows};
    if (!rc && a->o.verifier && *a->o.verifier) rc = ver_nli_new(&a->nli, a->o.verifier, &no, err);
    struct ver_judge_opts jo = {.url = a->o.judge_url, .model = a->o.judge_model, .api_key = a->o.judge_key,
                                .timeout_ms = a->o.judge_timeout_ms, .allow_private = a->o.allow_private,
                                .allow_hosts = a->o.allow_hosts};
    if (!rc && a->o.judge_url && *a->o.judge_url) rc = ver_judge_new(&a->judge, &jo, err);
    if (rc) {
        ver_auditor_free(a);
        return rc;
    }
    *out = a;
    return ERR_OK;
}

const char *ver_auditor_note(const struct ver_auditor *a) { return a->note; }

const char *ver_auditor_reranker(const struct ver_auditor *a) { return ret_reranker_id(a->rr); }

void ver_auditor_free(struct ver_auditor *a)
{
    if (!a) return;
    ver_scorer_free(a->scorer);
    ret_reranker_free(a->rr);
    ver_nli_free(a->nli);
    ver_judge_free(a->judge);
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
        if (i == 0 || x->claim != r[i - 1].claim) free(x->claim); /* a claim's results share it */
        free(x->url);
        free(x->title);
        free(x->evidence);
        free(x->source);
        free(x->detail);
        free(x->source_title);
        free(x->article_url);
        free(x->revision_time);
        free(x->judge);
        free(x->judge_evidence);
        free(x->judge_fail);
        free(x->judge_message);
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
    int plain = ascii_ncasecmp(ct, "text/", 5) == 0 && !html;
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
        int rc = corpus_html_text(body, len, &a->title, &a->text, &e);
        if (rc == ERR_LIMIT) { /* the message names the budget */
            snprintf(a->html_why, sizeof a->html_why, "%.250s", e.msg);
            *detail = a->html_why;
            return VER_ST_NO_TEXT;
        }
        if (rc != ERR_OK) {
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
        *detail = AUDIT_NO_TEXT;
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
    /* "source" says where the page came from, not how this run got it: a cached answer came from
     * the web, so a batch resumed over a warm cache stores the records an uninterrupted one does */
    s->where = dup0("web");
    if (!strcmp(f.outcome, "ok")) {
        s->status = strlen(f.text) >= AUDIT_MIN_TEXT ? -1 : VER_ST_NO_TEXT;
        s->text = dup0(f.text);
        s->title = dup0(f.title);
        s->detail = dup0(s->status == -1 ? "" : AUDIT_NO_TEXT);
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

/* `n` bytes of `s` for a message: white space as spaces, cut before a character, "..." when cut. */
static void quote_for(const char *s, size_t n, size_t max, char *out, size_t cap)
{
    size_t k = n > max ? utf8_cut(s, max) : n;
    snprintf(out, cap, "%.*s%s", (int)k, s, k < n ? "..." : "");
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '\r') *p = ' ';
}

/* The NLI verifier's judgement of `text` replaces the lexical one in r (score_into ran first,
 * `lex` is its result): the best window's entailment probability is the score, the most
 * contradicting window's probability is reported, and the verdict is the model's. The evidence
 * is the window the verdict rests on; its matched words are found again when it is not the
 * lexical window. */
static int nli_into(struct ver_auditor *a, const char *claim, size_t shift, const char *text, struct ver_result *r,
                    const struct ver_score_result *lex, int windows, struct err *err)
{
    struct ver_nli_result nr;
    size_t len = strlen(text);
    int rc = ver_nli_score(a->nli, a->scorer, claim, r->claim ? r->claim : claim, text, len, windows, &nr, err);
    if (rc) return rc;
    double tc = 0;
    ver_nli_thresholds(a->nli, NULL, NULL, &tc);
    r->score = nr.entail;
    r->contradiction = nr.nwindows ? nr.contra : -1;
    r->status = nr.verdict == VER_CONTRADICTED ? VER_ST_CONTRADICTED
                : nr.verdict == VER_SUPPORTED  ? VER_ST_SUPPORTED
                : nr.verdict == VER_WEAK       ? VER_ST_WEAK
                                               : VER_ST_UNSUPPORTED;
    if (r->status == VER_ST_SUPPORTED) r->nmissing = 0;
    char det[600] = "", q[300];
    quote_for(text + nr.contra_start, nr.contra_end - nr.contra_start, 160, q, sizeof q);
    if (nr.verdict == VER_CONTRADICTED)
        snprintf(det, sizeof det, "the model finds that the source contradicts the claim (contradiction %.2f, "
                 "entailment %.2f)", nr.contra, nr.entail);
    else if (nr.nwindows && nr.contra >= tc)
        snprintf(det, sizeof det, "a passage of the source contradicts the claim (contradiction %.2f): \"%s\"",
                 nr.contra, q);
    else if (lex->verdict == VER_CONTRADICTED)
        snprintf(det, sizeof det, "the lexical check finds a clash: %s", lex->clash);
    if (r->detail) {
        free(r->detail);
        if (!(r->detail = dup0(det))) return err_set(err, ERR_NOMEM, "verifier");
    }
    if (!nr.nwindows) return ERR_OK;
    size_t ws = nr.verdict == VER_CONTRADICTED ? nr.contra_start : nr.win_start;
    size_t we = nr.verdict == VER_CONTRADICTED ? nr.contra_end : nr.win_end;
    a->ev_start = ws;
    a->ev_end = we;
    if (ws == lex->win_start && we == lex->win_end) return ERR_OK;
    free(r->evidence);
    if (!(r->evidence = strndup(text + ws, we - ws))) return err_set(err, ERR_NOMEM, "evidence");
    struct ver_score_result wr;
    r->nmatch = 0;
    if ((rc = ver_score_source_ctx(a->scorer, claim, shift, r->evidence, we - ws, &wr, err))) return rc;
    for (int i = 0; i < wr.nmatch && r->nmatch < VER_SCORE_MAX_MATCH; i++)
        r->match[r->nmatch++] = (struct ver_span){wr.match[i].start + wr.win_start, wr.match[i].end + wr.win_start};
    return ERR_OK;
}

/* The judge's answer about the cited source's `text` (score_into ran first: the excerpt is
 * centred on its evidence). A verdict replaces r's; a failure is recorded in r and noted. */
static int judge_into(struct ver_auditor *a, const char *text, struct ver_result *r, struct err *err)
{
    struct ver_judge_answer ans;
    int rc = ver_judge_ask(a->judge, r->claim, text, strlen(text), a->ev_start, a->ev_end, &ans, err);
    if (rc) return rc;
    free(r->judge), free(r->judge_evidence), free(r->judge_fail), free(r->judge_message);
    r->judge = dup0(ans.ok ? ver_judge_verdict_name(ans.verdict) : "failed");
    r->judge_evidence = dup0(ans.ok ? ans.evidence : "");
    r->judge_fail = dup0(ans.ok ? "" : ans.fail);
    r->judge_message = dup0(ans.ok ? "" : ans.message);
    if (!r->judge || !r->judge_evidence || !r->judge_fail || !r->judge_message) return err_set(err, ERR_NOMEM, "judge");
    if (!ans.ok) {
        snprintf(a->note, sizeof a->note, "judge %.80s: %.20s: %.180s", ver_judge_endpoint(a->judge), ans.fail, ans.message);
        return ERR_OK;
    }
    static const int status[] = {VER_ST_SUPPORTED, VER_ST_WEAK, VER_ST_UNSUPPORTED, VER_ST_CONTRADICTED};
    r->status = status[ans.verdict];
    if (r->status == VER_ST_SUPPORTED) r->nmissing = 0;
    if (r->status == VER_ST_CONTRADICTED && r->detail) {
        char q[300], det[400];
        quote_for(ans.evidence, strlen(ans.evidence), 200, q, sizeof q);
        snprintf(det, sizeof det, "the judge finds that the source contradicts the claim%s%s%s", q[0] ? ": \"" : "",
                 q, q[0] ? "\"" : "");
        free(r->detail);
        if (!(r->detail = dup0(det))) return err_set(err, ERR_NOMEM, "judge");
    }
    return ERR_OK;
}

/* Score `text` for `claim` (r->claim, maybe with context in front: its spans are moved back to
 * r->claim); fills score, status, evidence, matches, missing parts and the clash of r. `sr` may
 * be NULL; else it gets the scorer's result. With the NLI verifier the model then judges it,
 * reading at most `windows` windows (0: --verifier-windows; suggestion candidates get
 * VER_NLI_SUGGEST_WINDOWS, the cost of suggestions being that many sources per citation). */
static int score_into(struct ver_auditor *a, const char *claim, int cocited, const char *text,
                      struct ver_result *r, struct ver_score_result *sr_out, int windows, struct err *err)
{
    struct ver_score_result sr;
    size_t cl = strlen(claim), rl = r->claim ? strlen(r->claim) : cl;
    size_t shift = cl >= rl ? cl - rl : 0; /* "context: " in front of r->claim */
    struct ver_score_claim sc = {claim, shift, cocited};
    int rc = ver_score_cited(a->scorer, &sc, text, strlen(text), &sr, err);
    if (rc) return rc;
    if (sr_out) *sr_out = sr;
    r->score = sr.score;
    r->status = sr.verdict == VER_CONTRADICTED ? VER_ST_CONTRADICTED
                : sr.verdict == VER_SUPPORTED  ? VER_ST_SUPPORTED
                : sr.verdict == VER_WEAK       ? VER_ST_WEAK
                                               : VER_ST_UNSUPPORTED;
    if (sr.verdict == VER_CONTRADICTED && r->detail) {
        free(r->detail);
        r->detail = dup0(sr.clash);
    }
    /* missing parts as spans of r->claim */
    r->nmissing = 0;
    if (sr.verdict != VER_SUPPORTED)
        for (int i = 0; i < sr.nmissing; i++) {
            if (sr.missing[i].start < shift) continue;
            r->missing[r->nmissing].start = sr.missing[i].start - shift;
            r->missing[r->nmissing].end = sr.missing[i].end - shift;
            r->nmissing++;
        }
    free(r->evidence);
    r->evidence = strndup(text + sr.win_start, sr.win_end - sr.win_start);
    if (!r->evidence) return err_set(err, ERR_NOMEM, "evidence");
    r->nmatch = sr.nmatch;
    memcpy(r->match, sr.match, (size_t)sr.nmatch * sizeof *sr.match);
    a->ev_start = sr.win_start;
    a->ev_end = sr.win_end;
    return a->nli ? nli_into(a, claim, shift, text, r, &sr, windows, err) : ERR_OK;
}

/* The status of the cited source's text: score_into, then the judge when there is one. */
static int score_cited(struct ver_auditor *a, const char *claim, const char *text, struct ver_result *r,
                       struct err *err)
{
    int rc = score_into(a, claim, a->cocited, text, r, &a->cited, 0, err);
    return !rc && a->judge ? judge_into(a, text, r, err) : rc;
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
        /* cut only before a character's first byte: a quote cut inside one is not UTF-8 */
        for (const char *p = fields[f][1]; *p && (n < max || ((unsigned char)*p & 0xC0) == 0x80); p++, n++) {
            if (*p == '|') buf_puts(&b, "{{!}}");
            else if (*p == '\n' || *p == '\t') buf_putc(&b, ' ');
            else if ((*p == '}' && p[1] == '}') || (*p == '{' && p[1] == '{')) buf_putc(&b, ' ');
            else buf_putc(&b, *p);
        }
        if (f == 2 && strlen(fields[f][1]) > n) buf_puts(&b, "...");
    }
    buf_printf(&b, " |access-date=%s}}", date);
    free(quote);
    return buf_steal(&b);
}

/* Suggestions for r: the corpus documents BM25 retrieves for the claim (with its context), each
 * scored by the verifier and then by the ranker (ver_scorer_rank: the verifier's logit and its
 * gain over the cited source, coverage, names, the retrieval score and rank, title matches); only
 * those that score higher than the cited source, are not navigation pages and rank at or above
 * the model's floor, best first by the number shown. With a reranker, the top rerank_depth
 * documents are put in its order first and the suggestions keep that order (the ranker's features
 * still come from BM25's). `cited` is the cited source's result (NULL when nothing was scored). */
static int suggest(struct ver_auditor *a, const char *context, const char *scored_claim,
                   struct ver_result *r, int64_t cited_row, const struct ver_score_result *cited,
                   struct err *err)
{
    int want = a->o.candidates + 1 > 65 ? 65 : a->o.candidates + 1, most = want - 1;
    int depth = a->o.rerank_depth > 0 ? a->o.rerank_depth : RET_RERANK_DEFAULT_DEPTH;
    int k = a->rr && depth > want ? depth : want;
    struct ret_opts o = {.mode = RET_BM25, .k = k, .by_doc = 1};
    struct ret_hit *hits = calloc((size_t)k, sizeof *hits), *bm = calloc((size_t)k, sizeof *bm);
    struct buf q = {0};
    int n = 0, rc = ERR_OK;
    if (!hits || !bm || buf_puts(&q, r->claim) ||
        (context && *context && (buf_putc(&q, ' ') || buf_puts(&q, context)))) {
        rc = err_set(err, ERR_NOMEM, "suggest");
        goto out;
    }
    if ((rc = ret_search(a->ret, q.data, &o, hits, &n, err))) goto out;
    memcpy(bm, hits, (size_t)n * sizeof *bm); /* BM25's order, for the ranker's features */
    if (a->rr && (rc = ret_rerank(a->rr, a->ix, q.data, hits, n, depth, err))) goto out;
    struct ver_suggestion cand[65];
    int nc = 0, taken = 0;
    double top = 0, floor_p = ver_scorer_suggest_floor(a->scorer);
    for (int i = 0; i < n; i++)
        if (bm[i].doc_row != cited_row) {
            top = bm[i].score;
            break;
        }
    /* nothing cited (no URL, dead): compare with an unrelated page's typical score, as the ranker
     * was trained on citations pointing at a wrong page */
    double cited_logit = ver_score_logit(cited && cited->nwindows ? cited->score : AUDIT_NO_SOURCE_SCORE);
    struct buf text = {0};
    for (int i = 0; i < n && !rc && taken < most; i++) {
        if (hits[i].doc_row == cited_row) continue;
        taken++;
        int my_rank = 0, j = 0; /* the document's place in BM25's order, the cited one left out */
        for (; j < n && bm[j].doc_row != hits[i].doc_row; j++)
            if (bm[j].doc_row != cited_row) my_rank++;
        buf_reset(&text);
        if ((rc = idx_doc_text(a->ix, hits[i].doc_row, &text, err))) break;
        if (!text.data || ver_score_is_navigation(text.data, text.len)) continue;
        struct ver_result tmp = {0};
        struct ver_score_result sr;
        tmp.claim = r->claim;
        if ((rc = score_into(a, scored_claim, 0, text.data, &tmp, &sr, VER_NLI_SUGGEST_WINDOWS, err))) {
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
        double x[VER_RANK_NFEAT];
        x[VER_R_LOGIT] = ver_score_logit(sr.score);
        x[VER_R_GAIN] = x[VER_R_LOGIT] - cited_logit;
        x[VER_R_COV_LEX] = sr.feat[VER_F_COV_LEX];
        x[VER_R_DOC_UNION] = sr.feat[VER_F_DOC_UNION];
        x[VER_R_NAME] = sr.feat[VER_F_DOC_NAME];
        x[VER_R_BM25] = top > 0 && j < n ? bm[j].score / top : 0;
        x[VER_R_RANK] = log1p((double)my_rank);
        x[VER_R_DENSE] = 0; /* the ranker is trained without vectors (its weight is 0) */
        x[VER_R_TITLE] = context ? ver_scorer_term_overlap(a->scorer, context, d.title) : 0;
        x[VER_R_CLAIM_TITLE] = ver_scorer_term_overlap(a->scorer, r->claim, d.title);
        double p = ver_scorer_rank(a->scorer, x);
        if (p < floor_p) {
            free(tmp.evidence);
            continue;
        }
        cand[nc] = (struct ver_suggestion){dup0(d.id), dup0(d.url), dup0(d.title), tmp.evidence,
                                           make_cite(d.url, d.title, tmp.evidence, r->claim), p, tmp.score, NULL,
                                           a->rr != NULL, a->rr ? hits[i].score : 0};
        nc++;
    }
    buf_cleanup(&text);
    /* best first by the number shown, or the reranker's order (insertion sort: at most 64; stable) */
    for (int i = 1; i < nc && !a->rr; i++)
        for (int j = i; j > 0 && cand[j].score > cand[j - 1].score; j--) {
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
out:
    buf_cleanup(&q);
    free(hits);
    free(bm);
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
 * and ranked like corpus documents (the verifier's score, then the suggestion ranker, whose
 * retrieval features come from the engine's order: share 1/(1 + rank), rank); navigation pages
 * and those under the ranker's floor are left out. A search that fails is noted
 * (ver_auditor_note), not an error. */
static int web_suggest(struct ver_auditor *a, const char *title, const char *scored_claim, struct ver_result *r,
                       const struct ver_score_result *cited, struct err *err)
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
    double floor_p = ver_scorer_suggest_floor(a->scorer);
    double cited_logit = ver_score_logit(cited && cited->nwindows ? cited->score : AUDIT_NO_SOURCE_SCORE);
    for (size_t k = 0; !rc && k < ns; k++) {
        const struct source *s = &src[k];
        if (s->status != -1 || ver_score_is_navigation(s->text, strlen(s->text))) continue;
        struct ver_result tmp = {0};
        struct ver_score_result sr;
        tmp.claim = r->claim;
        if ((rc = score_into(a, scored_claim, 0, s->text, &tmp, &sr, VER_NLI_SUGGEST_WINDOWS, err))) {
            free(tmp.evidence);
            break;
        }
        const char *t = s->title && *s->title ? s->title : ans.hits[hit[k]].title;
        double x[VER_RANK_NFEAT];
        x[VER_R_LOGIT] = ver_score_logit(sr.score);
        x[VER_R_GAIN] = x[VER_R_LOGIT] - cited_logit;
        x[VER_R_COV_LEX] = sr.feat[VER_F_COV_LEX];
        x[VER_R_DOC_UNION] = sr.feat[VER_F_DOC_UNION];
        x[VER_R_NAME] = sr.feat[VER_F_DOC_NAME];
        x[VER_R_BM25] = 1.0 / (1.0 + hit[k]); /* the engine's order in place of a BM25 share */
        x[VER_R_RANK] = log1p((double)hit[k]);
        x[VER_R_DENSE] = 0;
        x[VER_R_TITLE] = title ? ver_scorer_term_overlap(a->scorer, title, t) : 0;
        x[VER_R_CLAIM_TITLE] = ver_scorer_term_overlap(a->scorer, r->claim, t);
        double p = ver_scorer_rank(a->scorer, x);
        if (tmp.score <= r->score || p < floor_p) {
            free(tmp.evidence);
            continue;
        }
        struct ver_suggestion c = {.doc_id = dup0(""), .url = dup0(s->url), .title = dup0(t),
                                   .evidence = tmp.evidence, .cite = make_cite(s->url, t, tmp.evidence, r->claim),
                                   .from = dup0("web"), .score = p, .support = tmp.score};
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

static int find_source(const struct source *src, size_t n, const char *url)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(src[i].url, url)) return (int)i;
    return -1;
}

static int add_source(struct source **src, size_t *n, size_t *cap, const char *url)
{
    int i = find_source(*src, *n, url);
    if (i >= 0) return i;
    if (vec_grow((void **)src, cap, *n + 1, sizeof **src)) return -1;
    (*src)[*n] = (struct source){.url = strdup(url), .status = VER_ST_UNREACHABLE, .doc_row = -1};
    if (!(*src)[*n].url) return -1;
    return (int)(*n)++;
}

/* The article's sources: the distinct cited URLs resolved together (parallel fetches), then
 * archive copies of the dead or unreachable ones. *src (*nsrc entries, *cap allocated) is the
 * caller's to clean up with source_cleanup also on failure. */
static int collect_sources(struct ver_auditor *a, const struct ver_article *art, struct source **src,
                           size_t *nsrc, size_t *cap, struct err *err)
{
    for (int i = 0; i < art->nclaims; i++)
        for (int j = 0; j < art->claims[i].ncit; j++) {
            const struct ver_citation *c = &art->claims[i].cits[j];
            if (c->url && *c->url && add_source(src, nsrc, cap, c->url) < 0) return err_set(err, ERR_NOMEM, "audit");
        }
    int rc = resolve_sources(a, *src, *nsrc, err);
    if (rc) return rc;
    size_t first_archive = *nsrc;
    for (int i = 0; i < art->nclaims; i++)
        for (int j = 0; j < art->claims[i].ncit; j++) {
            const struct ver_citation *c = &art->claims[i].cits[j];
            if (!c->url || !*c->url || !c->archive_url || !*c->archive_url) continue;
            int s = find_source(*src, *nsrc, c->url);
            if (s >= 0 && ((*src)[s].status == VER_ST_DEAD || (*src)[s].status == VER_ST_UNREACHABLE) &&
                add_source(src, nsrc, cap, c->archive_url) < 0)
                return err_set(err, ERR_NOMEM, "audit");
        }
    if (*nsrc > first_archive) rc = resolve_sources(a, *src + first_archive, *nsrc - first_archive, err);
    return rc;
}

/* Fill result r's identity (article, claim `claim` shared by its citations, citation c) with
 * owned copies; verdict fields empty. */
static int result_init(struct ver_result *r, const struct ver_article *art, const char *path,
                       const struct ver_claim *cl, int claim_id, char *claim, int cut,
                       const struct ver_citation *c, struct err *err)
{
    r->claim = claim;
    r->claim_id = claim_id;
    r->claim_cut = cut;
    r->article = dup0(path);
    r->article_title = dup0(art->title);
    r->section = dup0(cl->section);
    r->ref = c->ref;
    r->url = dup0(c->url);
    r->title = dup0(c->title);
    r->source = dup0("");
    r->detail = dup0("");
    r->evidence = dup0("");
    r->article_url = dup0(art->url);
    r->revision_time = dup0(art->revision_time);
    r->revision = art->revision;
    r->contradiction = -1;
    if (!r->article || !r->claim || !r->url || !r->title || !r->source || !r->detail || !r->article_url ||
        !r->revision_time)
        return err_set(err, ERR_NOMEM, "audit");
    return ERR_OK;
}

/* Replace r's owned string *field with a copy of v. */
static void result_set(char **field, const char *v)
{
    free(*field);
    *field = dup0(v);
}

/* Citation c of result r: its source (the live page, its archive copy, or the corpus document
 * with the cited title) scored against a->claim, or the reason it could not be read; then the
 * suggestions it wants. */
static int audit_citation(struct ver_auditor *a, const struct ver_article *art, const struct source *src,
                          size_t nsrc, const struct ver_citation *c, struct ver_result *r, struct err *err)
{
    int64_t cited_row = -1;
    const struct source *s = NULL;
    int rc = ERR_OK;
    if (c->url && *c->url) {
        s = &src[find_source(src, nsrc, c->url)];
        if (s->status != -1 && c->archive_url && *c->archive_url) {
            int ai = find_source(src, nsrc, c->archive_url);
            if (ai >= 0 && src[ai].status == -1) {
                s = &src[ai];
                result_set(&r->source, "archive");
            }
        }
    }
    struct idx_doc td;
    int tfound = 0;
    if (!s && !c->needs_source && c->title && *c->title && (rc = idx_find_title(a->ix, c->title, &td, &tfound, err)))
        return rc;
    if (!s && tfound) {
        /* no URL, but the corpus has a document with the cited work's title */
        struct buf t = {0};
        if (!(rc = idx_doc_text(a->ix, td.row, &t, err))) {
            cited_row = td.row;
            result_set(&r->source, "corpus");
            r->source_title = dup0(td.title);
            rc = score_cited(a, a->claim.data, t.data ? t.data : "", r, err);
        }
        buf_cleanup(&t);
        if (rc) return rc;
    } else if (!s) {
        r->status = VER_ST_NO_URL;
        result_set(&r->detail, c->needs_source ? "marked as needing a source"
                                               : "the citation has no URL and no corpus document has its title");
    } else {
        if (!r->source[0]) result_set(&r->source, s->where);
        if (s->status != -1) {
            r->status = s->status;
            result_set(&r->detail, s->detail);
        } else {
            cited_row = s->doc_row;
            r->source_title = dup0(s->title);
            if ((rc = score_cited(a, a->claim.data, s->text, r, err))) return rc;
        }
    }
    if (!r->source_title) r->source_title = dup0("");
    r->title_mismatch = ver_title_mismatch(r->title, r->source_title);
    if (wants_suggestions(a, r->status) &&
        (rc = suggest(a, art->title, a->claim.data, r, cited_row, &a->cited, err)))
        return rc;
    if (a->o.search_url && wants_suggestions(a, r->status))
        rc = web_suggest(a, art->title, a->claim.data, r, &a->cited, err);
    return rc;
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
    size_t budget = a->o.max_output ? a->o.max_output : VER_AUDIT_MAX_OUTPUT, used = 0;
    if (!res) return err_set(err, ERR_NOMEM, "audit");
    if ((rc = collect_sources(a, art, &src, &nsrc, &cap, err))) goto out;

    /* every citation: its source's text scored against the claim, within the output budget */
    int k = 0;
    for (int i = 0; i < art->nclaims; i++) {
        const struct ver_claim *cl = &art->claims[i];
        char *claim = NULL; /* the claim's results share one copy (ver_results_free frees it once) */
        int cut = 0;
        if (cl->ncit > 0 && !(claim = claim_copy(cl->text, &cut))) {
            rc = err_set(err, ERR_NOMEM, "audit");
            goto out;
        }
        int nsourced = 0; /* citations closing the claim that name a source */
        for (int j = 0; j < cl->ncit; j++)
            nsourced += !cl->cits[j].needs_source;
        for (int j = 0; j < cl->ncit; j++, k++) {
            const struct ver_citation *c = &cl->cits[j];
            struct ver_result *r = &res[k];
            *n = k + 1;
            if ((rc = result_init(r, art, path, cl, i, claim, cut, c, err))) goto out;
            memset(&a->cited, 0, sizeof a->cited);
            a->cocited = nsourced >= 2 && !c->needs_source;
            if (ver_score_claim_in_context(r->claim, art->title, &a->claim, NULL)) {
                rc = err_set(err, ERR_NOMEM, "audit");
                goto out;
            }
            if ((rc = audit_citation(a, art, src, nsrc, c, r, err))) goto out;
            used += result_bytes(r, 1);
            if (used > budget) {
                rc = err_set(err, ERR_LIMIT,
                             "the audit's results pass the output limit of %zu bytes (max_output, --max-output) "
                             "at citation %d of %d",
                             budget, k + 1, total);
                goto out;
            }
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
    out->claim = claim_copy(claim, &out->claim_cut);
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
    out->contradiction = -1;
    if (!out->claim || !out->url || !out->source || !out->article_url || !out->revision_time)
        return err_set(err, ERR_NOMEM, "verify");
    claim = out->claim; /* scored as kept: cut at VER_CLAIM_MAX */
    int rc = ERR_OK;
    int64_t cited_row = -1;
    memset(&a->cited, 0, sizeof a->cited);
    a->cocited = 0; /* one source, cited alone */
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
            rc = score_cited(a, claim, text, out, err);
        }
        free(text);
    } else {
        struct source s = {.url = strdup(source), .status = VER_ST_UNREACHABLE, .doc_row = -1};
        if (!s.url) return err_set(err, ERR_NOMEM, "verify");
        rc = resolve_sources(a, &s, 1, err);
        if (!rc && s.status == -1) {
            cited_row = s.doc_row;
            out->source_title = dup0(s.title);
            rc = score_cited(a, claim, s.text, out, err);
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
    if (!rc && wants_suggestions(a, out->status))
        rc = suggest(a, NULL, claim, out, cited_row, &a->cited, err);
    if (!rc && a->o.search_url && wants_suggestions(a, out->status))
        rc = web_suggest(a, NULL, claim, out, &a->cited, err);
    return rc;
}
