/* ver_store.c - the audit store protocol over the index's generic audit tables (idx_audit_*):
 * article keys, one transaction per article, records encoded by ver_json.c, and the listings of
 * `vericite report`, whose verdict classes are decided here from enum ver_status's order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus/corpus.h"
#include "file.h"
#include "hash.h"
#include "index/idx.h"
#include "index/nn/nn.h"
#include "retrieve/ret.h"
#include "ver.h"

/* FNV-1a 64 of the verifier model's text: the built-in one, or the file's bytes ("unreadable" when
 * the file cannot be read: the auditor then fails to start anyway). */
static void model_hash(const char *path, char out[17])
{
    if (!path) {
        hash_hex16(hash_fnv1a64_str(ver_score_builtin_model()), out);
        return;
    }
    struct buf b = {0};
    struct err e = {0};
    if (file_read_all(path, 0, &b, &e) == ERR_OK)
        hash_hex16(hash_fnv1a64(b.data ? b.data : "", b.len), out);
    else
        snprintf(out, 17, "unreadable");
    buf_cleanup(&b);
}

/* The reranker's identity for the key: the model's content hash, or FNV-1a 64 of the URL and
 * the model name sent ("unreadable" when the model cannot be opened: the auditor then fails). */
static void rerank_hash(const struct ver_audit_opts *vo, char out[17])
{
    if (vo->rerank && *vo->rerank) {
        struct buf path = {0};
        struct err e = {0};
        struct nn_model *m = NULL;
        if (nn_model_resolve(vo->rerank, &path, &e) == ERR_OK && nn_model_open(&m, path.data, &e) == ERR_OK)
            snprintf(out, 17, "%s", nn_model_info(m)->hash);
        else
            snprintf(out, 17, "unreadable");
        nn_model_close(m);
        buf_cleanup(&path);
        return;
    }
    uint64_t h = hash_fnv1a64_str(vo->rerank_url);
    h = hash_fnv1a64_update(h, "\n", 1);
    if (vo->rerank_model) h = hash_fnv1a64_update(h, vo->rerank_model, strlen(vo->rerank_model));
    hash_hex16(h, out);
}

void ver_store_options(const struct ver_audit_opts *vo, char *out, size_t n)
{
    /* The verifier's hash is part of it: a changed model re-audits stored articles, instead of
     * keeping verdicts another model gave. */
    char mh[17];
    model_hash(vo ? vo->model_path : NULL, mh);
    snprintf(out, n, "offline=%d suggest=%d max_suggestions=%d candidates=%d model=%s verifier=%s",
             vo ? vo->offline : 0, vo ? (int)vo->suggest : 0, vo ? vo->max_suggestions : 0,
             vo ? vo->candidates : 0, vo && vo->model_path ? vo->model_path : "", mh);
    /* A reranker orders the suggestions, an NLI model (by its content hash) or a judge (by its
     * endpoint and model) gives the verdicts: another one re-audits. Without them the text stays
     * as it was, so existing stores keep their keys. (strlen after each part: a cut text stays
     * a cut text, never an overrun.) */
    size_t len = strlen(out);
    if (vo && ((vo->rerank && *vo->rerank) || (vo->rerank_url && *vo->rerank_url)) && len + 1 < n) {
        char rh[17];
        rerank_hash(vo, rh);
        snprintf(out + len, n - len, " rerank=%s depth=%d", rh,
                 vo->rerank_depth > 0 ? vo->rerank_depth : RET_RERANK_DEFAULT_DEPTH);
        len = strlen(out);
    }
    if (vo && vo->verifier && *vo->verifier && len + 1 < n) {
        char nh[17];
        struct err e = {0};
        if (ver_nli_model_hash(vo->verifier, nh, &e)) snprintf(nh, sizeof nh, "unreadable");
        snprintf(out + len, n - len, " nli=%s windows=%d", nh, vo->verifier_windows);
        len = strlen(out);
    }
    if (vo && vo->judge_url && *vo->judge_url && len + 1 < n) {
        char jh[17];
        uint64_t h = hash_fnv1a64_str(vo->judge_url);
        h = hash_fnv1a64_update(h, "\n", 1);
        h = hash_fnv1a64_update(h, vo->judge_model ? vo->judge_model : "", vo->judge_model ? strlen(vo->judge_model) : 0);
        snprintf(out + len, n - len, " judge=%s", hash_hex16(h, jh));
    }
}

void ver_store_key(const char *text, size_t len, const char *title, const char *options, char out[17])
{
    title = title ? title : "";
    options = options ? options : "";
    uint64_t h = hash_fnv1a64_update(HASH_FNV_INIT, text, len);
    h = hash_fnv1a64_update(h, title, strlen(title) + 1);
    h = hash_fnv1a64_update(h, options, strlen(options) + 1);
    hash_hex16(h, out);
}

int ver_store_begin_run(struct idx *ix, const char *options, int64_t *run, struct err *err)
{
    return idx_audit_begin_run(ix, options, run, err);
}

int ver_store_done(struct idx *ix, const char *path, const char *hash, int *done, struct err *err)
{
    return idx_audit_done(ix, path, hash, done, err);
}

/* The host of a URL without "www.", lowercased (corpus_url_normalize), into `out`. */
static void url_domain(const char *url, struct buf *tmp, char *out, size_t n)
{
    out[0] = '\0';
    if (!url || !*url || corpus_url_normalize(url, tmp) != 0 || !tmp->data) return;
    size_t len = strcspn(tmp->data, "/?#");
    snprintf(out, n, "%.*s", (int)len, tmp->data);
}

/* The rows of `n` results: their records one after another in `recs` (offsets in the rows'
 * json until all are encoded), their domains in `domains`. */
static int make_rows(const struct ver_result *res, int n, struct idx_audit_row *rows, struct buf *recs,
                     char (*domains)[256], struct err *err)
{
    struct buf tmp = {0};
    size_t *at = calloc((size_t)n + 1, sizeof *at);
    int rc = at ? ERR_OK : err_set(err, ERR_NOMEM, "audit records");
    for (int i = 0; !rc && i < n; i++) {
        at[i] = recs->len;
        if ((rc = ver_result_encode(&res[i], recs, err))) break;
        if (buf_putc(recs, '\0')) {
            rc = err_set(err, ERR_NOMEM, "audit records");
            break;
        }
        url_domain(res[i].url, &tmp, domains[i], sizeof domains[i]);
        double best = 0;
        for (int k = 0; k < res[i].nsugg; k++)
            if (res[i].sugg[k].score > best) best = res[i].sugg[k].score;
        rows[i] = (struct idx_audit_row){.ord = i, .status = res[i].status, .verdict = ver_status_name(res[i].status),
                                         .score = res[i].score, .best = best, .url = res[i].url,
                                         .domain = domains[i]};
    }
    for (int i = 0; !rc && i < n; i++) rows[i].json = recs->data + at[i]; /* recs no longer moves */
    free(at);
    buf_cleanup(&tmp);
    return rc;
}

int ver_store_put(struct idx *ix, const char *path, const char *hash, const char *title, int64_t run,
                  const struct ver_result *res, int n, struct err *err)
{
    struct idx_audit_row *rows = calloc((size_t)n + 1, sizeof *rows);
    char(*domains)[256] = calloc((size_t)n + 1, sizeof *domains);
    struct buf recs = {0};
    int rc = rows && domains ? make_rows(res, n, rows, &recs, domains, err) : err_set(err, ERR_NOMEM, "%s", path);
    if (rc) err_prefix(err, "%s", path);
    else rc = idx_audit_store(ix, path, hash, title, run, rows, n, err);
    buf_cleanup(&recs);
    free(domains);
    free(rows);
    return rc;
}

/* idx rows -> records for a ver_record_cb. */
struct relay {
    ver_record_cb cb;
    void *ctx;
    struct err *err;
};

static int relay_row(void *ctx, const struct idx_audit_row *row)
{
    const struct relay *r = ctx;
    struct ver_record rec = {.path = row->path, .hash = row->hash, .ord = row->ord,
                             .status = ver_status_from_name(row->verdict), .verdict = row->verdict,
                             .score = row->score, .best = row->best, .url = row->url,
                             .domain = row->domain, .json = row->json};
    return r->cb(r->ctx, &rec, r->err);
}

int ver_store_results(struct idx *ix, const char *path, const char *hash, ver_record_cb cb, void *ctx,
                      struct err *err)
{
    struct relay r = {cb, ctx, err};
    return idx_audit_results(ix, path, hash, relay_row, &r, err);
}

/* ---------------------------------------------------------------- verdict classes */

/* The review queue: every verdict but supported. */
static int in_queue(int s) { return s != VER_ST_SUPPORTED; }
/* Failing: worse than weak (with enum ver_status worst first, whatever comes before weak). */
static int is_failing(int s) { return s < VER_ST_WEAK; }
static int is_dead(int s) { return s == VER_ST_DEAD; }

/* The names of the verdicts of one class, worst first, NULL-terminated. */
static void class_names(int (*in)(int), const char *out[VER_ST_COUNT + 1])
{
    int n = 0;
    for (int s = 0; s < VER_ST_COUNT; s++)
        if (in(s)) out[n++] = ver_status_name(s);
    out[n] = NULL;
}

int ver_store_list(struct idx *ix, enum ver_store_list which, int limit, ver_record_cb cb, void *ctx,
                   struct err *err)
{
    const char *names[VER_ST_COUNT + 1];
    struct idx_audit_query q = {.limit = limit};
    switch (which) {
    case VER_LIST_QUEUE:
        class_names(in_queue, names);
        q.verdicts = names;
        q.order = IDX_AUDIT_BY_VERDICT;
        break;
    case VER_LIST_DEAD:
        class_names(is_dead, names);
        q.verdicts = names;
        q.order = IDX_AUDIT_BY_DOMAIN;
        break;
    case VER_LIST_BETTER:
        q.gap = 1;
        q.min_gap = VER_STORE_BETTER_GAP;
        q.order = IDX_AUDIT_BY_GAP;
        break;
    default: return err_set(err, ERR_ARG, "unknown audit list %d", (int)which);
    }
    struct relay r = {cb, ctx, err};
    return idx_audit_list(ix, &q, relay_row, &r, err);
}

struct relay_domain {
    ver_store_domain_cb cb;
    void *ctx;
};

static int relay_domain_row(void *ctx, const struct idx_audit_domain *d)
{
    const struct relay_domain *r = ctx;
    struct ver_store_domain v = {.domain = d->domain, .citations = d->citations, .failing = d->failing,
                                 .dead = d->dead};
    return r->cb(r->ctx, &v);
}

int ver_store_domains(struct idx *ix, int limit, ver_store_domain_cb cb, void *ctx, struct err *err)
{
    const char *failing[VER_ST_COUNT + 1], *dead[VER_ST_COUNT + 1];
    class_names(is_failing, failing);
    class_names(is_dead, dead);
    struct relay_domain r = {cb, ctx};
    return idx_audit_domains(ix, failing, dead, limit, relay_domain_row, &r, err);
}

int ver_store_counts(struct idx *ix, int64_t *articles, int64_t *citations, struct err *err)
{
    return idx_audit_counts(ix, articles, citations, err);
}
