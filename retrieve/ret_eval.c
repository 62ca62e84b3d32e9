/* ret_eval.c - BEIR qrels and the ranking metrics nDCG@10 (linear gain, as trec_eval),
 * Recall@100 and MRR@10. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ret.h"

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

int ret_qrels_load(struct ret_qrels **out, const char *path, struct err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path, strerror(errno));
    struct ret_qrels *q = calloc(1, sizeof *q);
    char *line = NULL;
    size_t cap = 0, jcap = 0;
    long lineno = 0;
    int rc = ERR_OK;
    ssize_t len;
    if (!q) {
        rc = err_set(err, ERR_NOMEM, "qrels");
        goto fail;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        char *save = NULL;
        char *a = strtok_r(line, "\t ", &save), *b = strtok_r(NULL, "\t ", &save),
             *c = strtok_r(NULL, "\t ", &save);
        if (lineno == 1 && a && !strcmp(a, "query-id")) continue; /* the header */
        if (!a || !b) {
            rc = err_set(err, ERR_PARSE, "%s:%ld: expected query-id<TAB>corpus-id<TAB>score", path, lineno);
            goto fail;
        }
        char *end = NULL;
        long rel = c ? strtol(c, &end, 10) : 1;
        if (c && (*end || end == c)) {
            rc = err_set(err, ERR_PARSE, "%s:%ld: score '%s' is not an integer", path, lineno, c);
            goto fail;
        }
        if (q->n == jcap) {
            jcap = jcap ? jcap * 2 : 1024;
            struct judgement *j = realloc(q->j, jcap * sizeof *j);
            if (!j) { rc = err_set(err, ERR_NOMEM, "qrels"); goto fail; }
            q->j = j;
        }
        q->j[q->n] = (struct judgement){strdup(a), strdup(b), (int)rel};
        if (!q->j[q->n].qid || !q->j[q->n].doc) {
            free(q->j[q->n].qid);
            free(q->j[q->n].doc);
            rc = err_set(err, ERR_NOMEM, "qrels");
            goto fail;
        }
        q->n++;
    }
    if (q->n == 0) {
        rc = err_set(err, ERR_PARSE, "%s: no judgements", path);
        goto fail;
    }
    qsort(q->j, q->n, sizeof *q->j, cmp_j);
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
    qsort(rels, (size_t)nrel, sizeof *rels, cmp_int_desc);
    for (int i = 0; i < nrel && i < 10; i++) idcg += rels[i] / log2(i + 2.0);
    m->ndcg10 = idcg > 0 ? dcg / idcg : 0;
    m->recall100 = (double)found100 / total_rel;
    m->recall1 = (double)found1 / total_rel;
    m->recall5 = (double)found5 / total_rel;
}
