/* ret_eval.c - judgements (BEIR TSV or TREC qrels), TREC run files, and the ranking metrics
 * nDCG@10 (linear gain, as trec_eval), Recall@100 and MRR@10. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ret.h"
#include "vec.h"

struct judgement {
    char *qid, *doc;
    int rel;
};

struct ret_qrels {
    struct judgement *j; /* sorted by qid, then doc */
    size_t n;
    int nqueries;
};

static int cmp_j(const void *a, const void *b)
{
    const struct judgement *x = a, *y = b;
    int c = strcmp(x->qid, y->qid);
    return c ? c : strcmp(x->doc, y->doc);
}

void ret_qrels_free(struct ret_qrels *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->n; i++) {
        free(q->j[i].qid);
        free(q->j[i].doc);
    }
    free(q->j);
    free(q);
}

/* Split `line` at spaces and tabs into at most `max` fields (in place); returns how many there are
 * (counting past max). */
static int split_fields(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        if (n < max) f[n] = p;
        n++;
        while (*p && *p != ' ' && *p != '\t') p++;
        if (!*p) break;
        *p++ = '\0';
    }
    return n;
}

/* The grade of a judgement or a run's rank: an integer, else -1 (with *ok 0). */
static long int_field(const char *s, int *ok)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    *ok = !errno && end != s && !*end;
    return v;
}

static int add_judgement(struct ret_qrels *q, size_t *jcap, const char *qid, const char *doc, long rel)
{
    if (vec_grow((void **)&q->j, jcap, q->n + 1, sizeof *q->j)) return -1;
    q->j[q->n] = (struct judgement){strdup(qid), strdup(doc), (int)rel};
    if (!q->j[q->n].qid || !q->j[q->n].doc) {
        free(q->j[q->n].qid);
        free(q->j[q->n].doc);
        return -1;
    }
    q->n++;
    return 0;
}

int ret_qrels_load(struct ret_qrels **out, const char *path, struct err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path, strerror(errno));
    struct ret_qrels *q = calloc(1, sizeof *q);
    char *line = NULL;
    size_t cap = 0, jcap = 0;
    long lineno = 0;
    int rc = ERR_OK, fields = 0; /* 3: BEIR TSV, 4: TREC; from the first judgement line */
    ssize_t len;
    if (!q) {
        rc = err_set(err, ERR_NOMEM, "qrels");
        goto fail;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        char *fl[4];
        int nf = split_fields(line, fl, 4);
        if (nf == 0) continue;
        if (!fields && !strcmp(fl[0], "query-id")) continue; /* BEIR's header */
        if (!fields) fields = nf == 4 ? 4 : 3;
        if (nf != fields && !(fields == 3 && nf == 2)) {
            rc = err_set(err, ERR_PARSE,
                         fields == 4 ? "%s:%ld: expected TREC qrels: query-id 0 doc-id relevance (4 fields)"
                                     : "%s:%ld: expected BEIR qrels: query-id<TAB>corpus-id<TAB>score",
                         path, lineno);
            goto fail;
        }
        const char *qid = fl[0], *doc = fields == 4 ? fl[2] : fl[1];
        const char *grade = fields == 4 ? fl[3] : nf == 3 ? fl[2] : NULL;
        int ok = 1;
        long rel = grade ? int_field(grade, &ok) : 1;
        if (!ok) {
            rc = err_set(err, ERR_PARSE, "%s:%ld: relevance '%s' is not an integer", path, lineno, grade);
            goto fail;
        }
        if (add_judgement(q, &jcap, qid, doc, rel)) {
            rc = err_set(err, ERR_NOMEM, "qrels");
            goto fail;
        }
    }
    if (q->n == 0) {
        rc = err_set(err, ERR_PARSE, "%s: no judgements", path);
        goto fail;
    }
    if (q->n > 1) qsort(q->j, q->n, sizeof *q->j, cmp_j);
    const char *counted = NULL; /* the last query id counted */
    for (size_t i = 0; i < q->n; i++)
        if (q->j[i].rel > 0 && (!counted || strcmp(counted, q->j[i].qid) != 0)) {
            q->nqueries++;
            counted = q->j[i].qid;
        }
    free(line);
    fclose(f);
    *out = q;
    return ERR_OK;
fail:
    free(line);
    fclose(f);
    ret_qrels_free(q);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ret_qrels_docs(const struct ret_qrels *q, int (*cb)(void *ctx, const char *doc), void *ctx)
{
    const char **docs = malloc((q->n ? q->n : 1) * sizeof *docs);
    if (!docs) return ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++)
        if (q->j[i].rel > 0) docs[n++] = q->j[i].doc;
    if (n > 1) qsort(docs, n, sizeof *docs, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        if (i == 0 || strcmp(docs[i], docs[i - 1]) != 0) rc = cb(ctx, docs[i]);
    free(docs);
    return rc;
}

int ret_qrels_count(const struct ret_qrels *q) { return q->nqueries; }

/* Index range [lo, hi) of the judgements of qid. */
static void range(const struct ret_qrels *q, const char *qid, size_t *lo, size_t *hi)
{
    size_t a = 0, b = q->n;
    while (a < b) {
        size_t m = (a + b) / 2;
        if (strcmp(q->j[m].qid, qid) < 0) a = m + 1; else b = m;
    }
    *lo = a;
    while (a < q->n && strcmp(q->j[a].qid, qid) == 0) a++;
    *hi = a;
}

int ret_qrels_has(const struct ret_qrels *q, const char *qid)
{
    size_t lo, hi;
    range(q, qid, &lo, &hi);
    for (size_t i = lo; i < hi; i++)
        if (q->j[i].rel > 0) return 1;
    return 0;
}

static int rel_of(const struct ret_qrels *q, size_t lo, size_t hi, const char *doc)
{
    size_t a = lo, b = hi;
    while (a < b) {
        size_t m = (a + b) / 2;
        int c = strcmp(q->j[m].doc, doc);
        if (c == 0) return q->j[m].rel;
        if (c < 0) a = m + 1; else b = m;
    }
    return 0;
}

static int cmp_int_desc(const void *a, const void *b)
{
    return *(const int *)b - *(const int *)a;
}

void ret_eval_query(const struct ret_qrels *q, const char *qid, const char *const *doc_ids, int n,
                    struct ret_metrics *m)
{
    memset(m, 0, sizeof *m);
    size_t lo, hi;
    range(q, qid, &lo, &hi);
    int rels[64], nrel = 0, total_rel = 0;
    for (size_t i = lo; i < hi; i++)
        if (q->j[i].rel > 0) {
            total_rel++;
            if (nrel < 64) rels[nrel++] = q->j[i].rel;
        }
    if (total_rel == 0) return;
    double dcg = 0, idcg = 0;
    int found100 = 0, found1 = 0, found5 = 0;
    for (int i = 0; i < n && i < 100; i++) {
        int rel = rel_of(q, lo, hi, doc_ids[i]);
        if (rel <= 0) continue;
        found100++;
        found1 += i < 1;
        found5 += i < 5;
        if (i < 10) {
            dcg += rel / log2(i + 2.0);
            if (m->mrr10 == 0) m->mrr10 = 1.0 / (i + 1);
        }
    }
    if (nrel > 1) qsort(rels, (size_t)nrel, sizeof *rels, cmp_int_desc);
    for (int i = 0; i < nrel && i < 10; i++) idcg += rels[i] / log2(i + 2.0);
    m->ndcg10 = idcg > 0 ? dcg / idcg : 0;
    m->recall100 = (double)found100 / total_rel;
    m->recall1 = (double)found1 / total_rel;
    m->recall5 = (double)found5 / total_rel;
}

/* ---------------------------------------------------------------- TREC runs */

struct run_line {
    char *qid, *doc;
    long rank;
    double score;
    size_t ord; /* line order, the last tie-break */
};

struct ret_run {
    struct run_line *l; /* sorted by qid, then score (best first), rank, line */
    size_t n;
    size_t *qstart;     /* (nq + 1): the first line of each query */
    const char **docs;  /* scratch for ret_run_query */
    int nq;
};

static int cmp_run(const void *a, const void *b)
{
    const struct run_line *x = a, *y = b;
    int c = strcmp(x->qid, y->qid);
    if (c) return c;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

void ret_run_free(struct ret_run *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->l[i].qid);
        free(r->l[i].doc);
    }
    free(r->l);
    free(r->qstart);
    free(r->docs);
    free(r);
}

/* One line "qid Q0 docid rank score tag" into r (a duplicate doc of a query is skipped later). */
static int run_line_add(struct ret_run *r, size_t *cap, char **fl, const char *path, long lineno, struct err *err)
{
    int ok = 1;
    long rank = int_field(fl[3], &ok);
    char *end = NULL;
    double score = strtod(fl[4], &end);
    if (!ok || end == fl[4] || *end)
        return err_set(err, ERR_PARSE, "%s:%ld: rank '%s' or score '%s' is not a number", path, lineno, fl[3], fl[4]);
    if (vec_grow((void **)&r->l, cap, r->n + 1, sizeof *r->l)) return err_set(err, ERR_NOMEM, "run");
    r->l[r->n] = (struct run_line){strdup(fl[0]), strdup(fl[2]), rank, score, r->n};
    if (!r->l[r->n].qid || !r->l[r->n].doc) {
        free(r->l[r->n].qid);
        free(r->l[r->n].doc);
        return err_set(err, ERR_NOMEM, "run");
    }
    r->n++;
    return ERR_OK;
}

/* Group the sorted lines by query (and drop a document listed twice for one query). */
static int run_index(struct ret_run *r, struct err *err)
{
    size_t w = 0;
    for (size_t i = 0; i < r->n; i++) {
        int dup = 0;
        for (size_t k = w; k-- > 0 && !strcmp(r->l[k].qid, r->l[i].qid);)
            if (!strcmp(r->l[k].doc, r->l[i].doc)) {
                dup = 1;
                break;
            }
        if (dup) {
            free(r->l[i].qid);
            free(r->l[i].doc);
            continue;
        }
        r->l[w++] = r->l[i];
    }
    r->n = w;
    r->qstart = malloc((r->n + 1) * sizeof *r->qstart);
    r->docs = malloc((r->n ? r->n : 1) * sizeof *r->docs);
    if (!r->qstart || !r->docs) return err_set(err, ERR_NOMEM, "run");
    for (size_t i = 0; i < r->n; i++)
        if (i == 0 || strcmp(r->l[i].qid, r->l[i - 1].qid)) r->qstart[r->nq++] = i;
    r->qstart[r->nq] = r->n;
    return ERR_OK;
}

int ret_run_load(struct ret_run **out, const char *path, struct err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path, strerror(errno));
    struct ret_run *r = calloc(1, sizeof *r);
    char *line = NULL;
    size_t cap = 0, lcap = 0;
    long lineno = 0;
    ssize_t len;
    int rc = r ? ERR_OK : err_set(err, ERR_NOMEM, "run");
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        char *fl[6];
        int nf = split_fields(line, fl, 6);
        if (nf == 0) continue;
        if (nf != 6)
            rc = err_set(err, ERR_PARSE, "%s:%ld: expected a TREC run line: query-id Q0 doc-id rank score tag", path,
                         lineno);
        else
            rc = run_line_add(r, &lcap, fl, path, lineno, err);
    }
    if (!rc && r->n == 0) rc = err_set(err, ERR_PARSE, "%s: no run lines", path);
    if (!rc) {
        if (r->n > 1) qsort(r->l, r->n, sizeof *r->l, cmp_run);
        rc = run_index(r, err);
    }
    free(line);
    fclose(f);
    if (rc) {
        ret_run_free(r);
        return rc;
    }
    *out = r;
    return ERR_OK;
}

int ret_run_count(const struct ret_run *r) { return r->nq; }

const char *ret_run_query(struct ret_run *r, int i, const char *const **docs, int *n)
{
    size_t a = r->qstart[i], b = r->qstart[i + 1];
    for (size_t k = a; k < b; k++) r->docs[k - a] = r->l[k].doc;
    *docs = r->docs;
    *n = (int)(b - a);
    return r->l[a].qid;
}

int ret_trec_line(struct buf *out, const char *qid, const char *doc, int rank, double score, const char *tag)
{
    /* fields are separated by spaces: any white space inside one becomes '_' */
    const char *parts[3] = {qid, doc, tag};
    size_t mark = out->len;
    int bad = 0;
    for (int p = 0; p < 3 && !bad; p++) {
        if (p == 1) bad |= buf_puts(out, "Q0 ");
        const char *s = *parts[p] ? parts[p] : "-";
        for (; *s && !bad; s++) bad |= buf_putc(out, (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') ? '_' : *s);
        if (p == 1) bad |= buf_printf(out, " %d %.6f", rank, score);
        bad |= buf_putc(out, p == 2 ? '\n' : ' ');
    }
    if (bad) {
        out->len = mark;
        return ERR_NOMEM;
    }
    return ERR_OK;
}
