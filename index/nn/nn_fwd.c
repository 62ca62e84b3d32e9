/* nn_fwd.c - the forward pass of a BERT encoder on the CPU: fp32 activations over the mapped fp32
 * weights, cblas_sgemm for every matrix product, a pool of worker threads of the runtime's own.
 *
 * A chunk of sequences is packed without padding: the T tokens of all its sequences are the rows
 * of one (T, h) matrix, so every linear layer, LayerNorm and activation is one pass over rows,
 * and only attention looks at sequences: per (sequence, head), scores = Q K^T / sqrt(d) (L, L),
 * softmax over the L real keys, then P V. With no padded key there is nothing to mask: the
 * result is what Hugging Face computes with an additive -inf mask over padding, and a sequence's
 * output does not depend on the others in the batch.
 *
 * Per layer, with x (T, h) the input (BERT is post-LN):
 *   qkv = x Wqkv^T + bqkv                    (T, 3h)   rows task
 *   ctx = attention(qkv)                      (T, h)    (sequence, head) task
 *   h1  = LN1(x + ctx Wo^T + bo)              (T, h)    rows task, continued:
 *   ff  = act(h1 W1^T + b1)                   (T, i)
 *   x   = LN2(h1 + ff W2^T + b2)              (T, h)    and the next layer's qkv of the same rows
 * Two synchronisations per layer. Each thread calls sgemm on its own rows; OpenBLAS itself runs
 * single-threaded (see nn.h). */
#include "index/nn/nn_int.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int num_threads);

/* ---------------------------------------------------------------- thread pool */

struct nn;
typedef void (*nn_task)(struct nn *h, int tid, int nth);

struct nn_threads {
    pthread_t *th; /* (n), the workers */
    int n, started;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t gen;
    int pending, stop;
    nn_task fn;
    struct nn *h;
};

struct nn_worker {
    struct nn_threads *p;
    int tid;
};

struct nn {
    const struct nn_model *m;
    struct nn_opts o;
    struct nn_tok *tok;
    struct nn_kern k;
    struct nn_threads pool;
    struct nn_worker *wk; /* (threads - 1) */
    int nth;
    /* scratch, grown to the largest chunk seen, then reused */
    int cap_t, cap_s, cap_l;
    float *x, *h1, *qkv, *ctx, *ff; /* (T, h) (T, h) (T, 3h) (T, h) (T, i) */
    float **att;                    /* per thread (L, L) scores */
    int *off;                       /* (S + 1) first row of each sequence of the chunk */
    float *cls_in, *cls_mid;        /* (S, h) classifier input and pooler output */
    /* tokenisation scratch for nn_embed / nn_classify */
    int32_t *tids, *ttypes; /* (batch, max_len) */
    struct nn_seq *tseq;    /* (batch) */
    struct buf text;
    /* the chunk being run */
    const struct nn_seq *seqs;
    int S, T, layer;
    atomic_int next;
};

static void *worker_main(void *arg)
{
    struct nn_worker *w = arg;
    struct nn_threads *p = w->p;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->gen == seen && !p->stop)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->gen;
        nn_task fn = p->fn;
        struct nn *h = p->h;
        pthread_mutex_unlock(&p->mu);
        fn(h, w->tid, p->n + 1);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Run fn on every thread (the caller is thread 0) and wait for all. */
static void pool_run(struct nn *h, nn_task fn)
{
    struct nn_threads *p = &h->pool;
    if (p->n == 0) {
        fn(h, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->h = h;
    p->pending = p->n;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(h, 0, p->n + 1);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void pool_stop(struct nn *h)
{
    struct nn_threads *p = &h->pool;
    if (!p->th) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->th);
    p->th = NULL;
}

static int pool_start(struct nn *h, int workers, struct err *err)
{
    struct nn_threads *p = &h->pool;
    if (workers == 0) return ERR_OK;
    pthread_t *th = calloc((size_t)workers, sizeof *th);
    h->wk = calloc((size_t)workers, sizeof *h->wk);
    if (!th || !h->wk) {
        free(th);
        return err_set(err, ERR_NOMEM, "nn threads");
    }
    p->th = th;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->n = workers;
    for (int i = 0; i < workers; i++) {
        h->wk[i] = (struct nn_worker){p, i + 1};
        if (pthread_create(&p->th[i], NULL, worker_main, &h->wk[i]) != 0) {
            p->n = i; /* the started ones are stopped by nn_free */
            return err_set(err, ERR_INTERNAL, "nn: cannot start thread %d of %d", i + 1, workers);
        }
        p->started = i + 1;
    }
    return ERR_OK;
}

/* ---------------------------------------------------------------- math on rows */

/* y (rows, n) = x (rows, k) W^T (W (n, k)) + beta y. */
static void gemm_xwt(const float *x, int rows, int k, const float *w, int n, float beta, float *y)
{
    if (rows <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n, k, 1.0f, x, k, w, k, beta, y, n);
}

static void rows_set_bias(float *y, int rows, int n, const float *b)
{
    for (int r = 0; r < rows; r++)
        memcpy(y + (size_t)r * n, b, (size_t)n * sizeof *y);
}

/* y = x + b, row by row. */
static void rows_add_bias(float *y, const float *x, int rows, int n, const float *b)
{
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * n;
        const float *xr = x + (size_t)r * n;
        for (int j = 0; j < n; j++)
            yr[j] = xr[j] + b[j];
    }
}

static void layer_norm(const struct nn *h, float *x, int rows, int n, const float *w,
                       const float *b, float eps)
{
    for (int r = 0; r < rows; r++)
        h->k.layer_norm(x + (size_t)r * n, n, w, b, eps);
}

/* ---------------------------------------------------------------- tasks */

static void my_rows(const struct nn *h, int tid, int nth, int *r0, int *r1)
{
    *r0 = (int)((int64_t)h->T * tid / nth);
    *r1 = (int)((int64_t)h->T * (tid + 1) / nth);
}

static void qkv_rows(const struct nn *h, const struct nn_layer *L, int r0, int r1)
{
    int hd = h->m->info.hidden, rows = r1 - r0;
    float *qkv = h->qkv + (size_t)r0 * 3 * hd;
    rows_set_bias(qkv, rows, 3 * hd, L->qkv_b);
    gemm_xwt(h->x + (size_t)r0 * hd, rows, hd, L->qkv_w, 3 * hd, 1.0f, qkv);
}

/* Embeddings and LayerNorm of this thread's rows, then layer 0's qkv. */
static void task_embed(struct nn *h, int tid, int nth)
{
    const struct nn_model *m = h->m;
    int hd = m->info.hidden, r0, r1;
    my_rows(h, tid, nth, &r0, &r1);
    int s = 0;
    while (s < h->S && h->off[s + 1] <= r0)
        s++;
    for (int r = r0; r < r1; r++) {
        while (h->off[s + 1] <= r)
            s++;
        const struct nn_seq *q = &h->seqs[s];
        int p = r - h->off[s];
        const float *we = m->word + (size_t)q->ids[p] * hd, *pe = m->pos + (size_t)p * hd;
        const float *te = m->type + (size_t)(q->types ? q->types[p] : 0) * hd;
        float *v = h->x + (size_t)r * hd;
        for (int j = 0; j < hd; j++)
            v[j] = we[j] + pe[j] + te[j];
    }
    layer_norm(h, h->x + (size_t)r0 * hd, r1 - r0, hd, m->eln_w, m->eln_b,
               (float)m->info.layer_norm_eps);
    qkv_rows(h, &m->layer[0], r0, r1);
}

/* Attention of (sequence, head) pairs taken from a shared counter. */
static void task_attn(struct nn *h, int tid, int nth)
{
    (void)nth;
    const struct nn_info *in = &h->m->info;
    int hd = in->hidden, nh = in->heads, dh = hd / nh, items = h->S * nh;
    float scale = 1.0f / sqrtf((float)dh), *sc = h->att[tid];
    for (int it; (it = atomic_fetch_add(&h->next, 1)) < items;) {
        int s = it / nh, head = it % nh, o = h->off[s], len = h->off[s + 1] - o;
        const float *q = h->qkv + (size_t)o * 3 * hd + (size_t)head * dh, *k = q + hd,
                    *v = q + 2 * hd;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, len, len, dh, scale, q, 3 * hd, k,
                    3 * hd, 0.0f, sc, len);
        for (int i = 0; i < len; i++)
            h->k.softmax(sc + (size_t)i * len, len);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, len, dh, len, 1.0f, sc, len, v,
                    3 * hd, 0.0f, h->ctx + (size_t)o * hd + (size_t)head * dh, hd);
    }
}

/* The rest of the layer for this thread's rows, and the next layer's qkv. */
static void task_ffn(struct nn *h, int tid, int nth)
{
    const struct nn_info *in = &h->m->info;
    const struct nn_layer *L = &h->m->layer[h->layer];
    int hd = in->hidden, im = in->intermediate, r0, r1;
    float eps = (float)in->layer_norm_eps;
    my_rows(h, tid, nth, &r0, &r1);
    int rows = r1 - r0;
    if (rows <= 0) return;
    float *x = h->x + (size_t)r0 * hd, *h1 = h->h1 + (size_t)r0 * hd, *ff = h->ff + (size_t)r0 * im;
    rows_add_bias(h1, x, rows, hd, L->ao_b);
    gemm_xwt(h->ctx + (size_t)r0 * hd, rows, hd, L->ao_w, hd, 1.0f, h1);
    layer_norm(h, h1, rows, hd, L->ln1_w, L->ln1_b, eps);
    rows_set_bias(ff, rows, im, L->ff1_b);
    gemm_xwt(h1, rows, hd, L->ff1_w, im, 1.0f, ff);
    h->k.act[in->act](ff, (size_t)rows * im);
    rows_add_bias(x, h1, rows, hd, L->ff2_b);
    gemm_xwt(ff, rows, im, L->ff2_w, hd, 1.0f, x);
    layer_norm(h, x, rows, hd, L->ln2_w, L->ln2_b, eps);
    if (h->layer + 1 < in->layers) qkv_rows(h, &h->m->layer[h->layer + 1], r0, r1);
}

/* ---------------------------------------------------------------- heads */

static void pool_seq(const struct nn *h, int s, float *out)
{
    const struct nn_info *in = &h->m->info;
    int hd = in->hidden, o = h->off[s], len = h->off[s + 1] - o;
    const float *x = h->x + (size_t)o * hd;
    if (in->pool == NN_POOL_CLS) {
        memcpy(out, x, (size_t)hd * sizeof *out);
    } else if (in->pool == NN_POOL_MAX) {
        memcpy(out, x, (size_t)hd * sizeof *out);
        for (int t = 1; t < len; t++)
            for (int j = 0; j < hd; j++)
                out[j] = x[(size_t)t * hd + j] > out[j] ? x[(size_t)t * hd + j] : out[j];
    } else {
        for (int j = 0; j < hd; j++) {
            double sum = 0;
            for (int t = 0; t < len; t++)
                sum += x[(size_t)t * hd + j];
            out[j] = (float)(in->pool == NN_POOL_MEAN ? sum / len : sum / sqrt((double)len));
        }
    }
    if (in->normalize) {
        double q = 0;
        for (int j = 0; j < hd; j++)
            q += (double)out[j] * out[j];
        double nrm = sqrt(q);
        float inv = (float)(1.0 / (nrm > 1e-12 ? nrm : 1e-12));
        for (int j = 0; j < hd; j++)
            out[j] *= inv;
    }
}

static void classify_chunk(struct nn *h, float *out)
{
    const struct nn_model *m = h->m;
    int hd = m->info.hidden, nl = m->info.num_labels, S = h->S;
    for (int s = 0; s < S; s++)
        memcpy(h->cls_in + (size_t)s * hd, h->x + (size_t)h->off[s] * hd,
               (size_t)hd * sizeof(float));
    rows_set_bias(h->cls_mid, S, hd, m->pool_b);
    gemm_xwt(h->cls_in, S, hd, m->pool_w, hd, 1.0f, h->cls_mid);
    for (size_t i = 0; i < (size_t)S * hd; i++)
        h->cls_mid[i] = tanhf(h->cls_mid[i]);
    rows_set_bias(out, S, nl, m->cls_b);
    gemm_xwt(h->cls_mid, S, hd, m->cls_w, nl, 1.0f, out);
}

/* ---------------------------------------------------------------- scratch */

/* Make room for a chunk of S sequences, T tokens, the longest L. */
static int scratch(struct nn *h, int S, int T, int L, struct err *err)
{
    const struct nn_info *in = &h->m->info;
    size_t hd = (size_t)in->hidden, im = (size_t)in->intermediate;
    if (T > h->cap_t) {
        float *b[5] = {h->x, h->h1, h->qkv, h->ctx, h->ff};
        size_t w[5] = {hd, hd, 3 * hd, hd, im};
        for (int i = 0; i < 5; i++) {
            float *q = realloc(b[i], (size_t)T * w[i] * sizeof(float));
            if (!q) return err_set(err, ERR_NOMEM, "nn scratch for %d tokens", T);
            b[i] = q;
        }
        h->x = b[0], h->h1 = b[1], h->qkv = b[2], h->ctx = b[3], h->ff = b[4];
        h->cap_t = T;
    }
    if (S > h->cap_s) {
        int *o = realloc(h->off, ((size_t)S + 1) * sizeof *o);
        if (o) h->off = o;
        float *a = realloc(h->cls_in, (size_t)S * hd * sizeof *a);
        if (a) h->cls_in = a;
        float *c = realloc(h->cls_mid, (size_t)S * hd * sizeof *c);
        if (c) h->cls_mid = c;
        if (!o || !a || !c) return err_set(err, ERR_NOMEM, "nn scratch for %d sequences", S);
        h->cap_s = S;
    }
    if (L > h->cap_l) {
        for (int t = 0; t < h->nth; t++) {
            float *a = realloc(h->att[t], (size_t)L * L * sizeof *a);
            if (!a) return err_set(err, ERR_NOMEM, "nn attention scratch for %d tokens", L);
            h->att[t] = a;
        }
        h->cap_l = L;
    }
    return ERR_OK;
}

/* ---------------------------------------------------------------- forward */

static int check_seq(const struct nn *h, const struct nn_seq *q, size_t i, struct err *err)
{
    const struct nn_info *in = &h->m->info;
    if (q->len < 1 || q->len > in->max_positions)
        return err_set(err, ERR_ARG, "input %zu: %d tokens (1 to %d)", i, q->len,
                       in->max_positions);
    for (int t = 0; t < q->len; t++) {
        if (q->ids[t] < 0 || q->ids[t] >= in->vocab)
            return err_set(err, ERR_ARG, "input %zu: token id %d out of range [0, %d)", i,
                           (int)q->ids[t], in->vocab);
        if (q->types && (q->types[t] < 0 || q->types[t] >= in->type_vocab))
            return err_set(err, ERR_ARG, "input %zu: token type %d out of range [0, %d)", i,
                           (int)q->types[t], in->type_vocab);
    }
    return ERR_OK;
}

static int run_chunk(struct nn *h, const struct nn_seq *seqs, int S, float *out, struct err *err)
{
    const struct nn_info *in = &h->m->info;
    int T = 0, L = 0, rc;
    for (int s = 0; s < S; s++) {
        T += seqs[s].len;
        L = seqs[s].len > L ? seqs[s].len : L;
    }
    if ((rc = scratch(h, S, T, L, err))) return rc;
    h->seqs = seqs;
    h->S = S;
    h->T = T;
    h->off[0] = 0;
    for (int s = 0; s < S; s++)
        h->off[s + 1] = h->off[s] + seqs[s].len;
    pool_run(h, task_embed);
    for (h->layer = 0; h->layer < in->layers; h->layer++) {
        atomic_store(&h->next, 0);
        pool_run(h, task_attn);
        pool_run(h, task_ffn);
    }
    if (in->head == NN_HEAD_CLASSIFIER)
        classify_chunk(h, out);
    else
        for (int s = 0; s < S; s++)
            pool_seq(h, s, out + (size_t)s * in->hidden);
    return ERR_OK;
}

int nn_forward(struct nn *h, const struct nn_seq *seqs, size_t n, float *out, struct err *err)
{
    int rc, dim = nn_model_out_dim(h->m);
    for (size_t i = 0; i < n; i++)
        if ((rc = check_seq(h, &seqs[i], i, err))) return rc;
    for (size_t i = 0; i < n;) {
        int S = 0, T = 0;
        while (i + (size_t)S < n && S < h->o.batch &&
               (S == 0 || T + seqs[i + (size_t)S].len <= h->o.max_tokens))
            T += seqs[i + (size_t)S++].len;
        if ((rc = run_chunk(h, seqs + i, S, out + i * (size_t)dim, err))) return rc;
        i += (size_t)S;
    }
    return ERR_OK;
}

/* ---------------------------------------------------------------- runtime */

int nn_new(struct nn **out, const struct nn_model *m, const struct nn_opts *opts, struct err *err)
{
    *out = NULL;
    const struct nn_info *in = nn_model_info(m);
    struct nn_opts o = opts ? *opts : (struct nn_opts){0};
    if (o.threads < 0 || o.threads > NN_MAX_THREADS || o.batch < 0 || o.max_tokens < 0 ||
        o.max_len < 0 || o.max_len > in->max_positions || (o.max_len > 0 && o.max_len < 2))
        return err_set(err, ERR_ARG, "nn: threads 0..%d, batch >= 0, max_len 2..%d", NN_MAX_THREADS,
                       in->max_positions);
    if (!o.threads) o.threads = 1;
    if (!o.batch) o.batch = NN_DEFAULT_BATCH;
    if (!o.max_len) o.max_len = in->max_len;
    if (!o.max_tokens) o.max_tokens = NN_DEFAULT_MAX_TOKENS;
    if (o.max_tokens < in->max_positions) o.max_tokens = in->max_positions;
    struct nn *h = calloc(1, sizeof *h);
    if (!h) return err_set(err, ERR_NOMEM, "nn_new");
    h->m = m;
    h->o = o;
    h->nth = o.threads;
    nn_kern_pick(&h->k);
    int rc;
    if (!(h->att = calloc((size_t)h->nth, sizeof *h->att))) {
        rc = err_set(err, ERR_NOMEM, "nn_new");
        goto fail;
    }
    if ((rc = nn_tok_new(&h->tok, in->tokens, in->ntokens, &in->tok, err))) goto fail;
    openblas_set_num_threads(1);
    if ((rc = pool_start(h, h->nth - 1, err))) goto fail;
    *out = h;
    return ERR_OK;
fail:
    nn_free(h);
    return rc;
}

void nn_free(struct nn *h)
{
    if (!h) return;
    pool_stop(h);
    free(h->wk);
    nn_tok_free(h->tok);
    for (int t = 0; h->att && t < h->nth; t++)
        free(h->att[t]);
    free(h->att);
    free(h->x);
    free(h->h1);
    free(h->qkv);
    free(h->ctx);
    free(h->ff);
    free(h->off);
    free(h->cls_in);
    free(h->cls_mid);
    free(h->tids);
    free(h->ttypes);
    free(h->tseq);
    buf_cleanup(&h->text);
    free(h);
}

const struct nn_model *nn_model(const struct nn *h)
{
    return h->m;
}
int nn_max_len(const struct nn *h)
{
    return h->o.max_len;
}

int nn_tokenize(struct nn *h, const char *a, size_t alen, const char *b, size_t blen, int32_t *ids,
                int32_t *types, int *n, struct err *err)
{
    return nn_tok_encode(h->tok, a, alen, b, blen, h->o.max_len, ids, types, n, err);
}

/* Tokenize up to `batch` inputs starting at i and run them. */
static int run_texts(struct nn *h, const char *prefix, const char *const *a, const char *const *b,
                     size_t n, float *out, struct err *err)
{
    size_t B = (size_t)h->o.batch, ml = (size_t)h->o.max_len;
    int dim = nn_model_out_dim(h->m), rc;
    if (!h->tids) {
        h->tids = malloc(B * ml * sizeof *h->tids);
        h->ttypes = malloc(B * ml * sizeof *h->ttypes);
        h->tseq = malloc(B * sizeof *h->tseq);
        if (!h->tids || !h->ttypes || !h->tseq) return err_set(err, ERR_NOMEM, "nn tokens");
    }
    for (size_t i = 0; i < n; i += B) {
        size_t k = n - i < B ? n - i : B;
        for (size_t j = 0; j < k; j++) {
            const char *t = a[i + j] ? a[i + j] : "";
            if (prefix && *prefix) {
                buf_reset(&h->text);
                if (buf_puts(&h->text, prefix) || buf_puts(&h->text, t))
                    return err_set(err, ERR_NOMEM, "nn text");
                t = h->text.data;
            }
            const char *bt = b ? b[i + j] : NULL;
            int len = 0;
            if ((rc = nn_tokenize(h, t, strlen(t), bt, bt ? strlen(bt) : 0, h->tids + j * ml,
                                  h->ttypes + j * ml, &len, err)))
                return err_prefix(err, "input %zu", i + j);
            h->tseq[j] = (struct nn_seq){h->tids + j * ml, h->ttypes + j * ml, len};
        }
        if ((rc = nn_forward(h, h->tseq, k, out + i * (size_t)dim, err))) return rc;
    }
    return ERR_OK;
}

int nn_embed(struct nn *h, const char *prefix, const char *const *texts, size_t n, float *out,
             struct err *err)
{
    if (h->m->info.head != NN_HEAD_ENCODER)
        return err_set(err, ERR_ARG, "model '%s' is a classifier, not an encoder", h->m->info.name);
    return run_texts(h, prefix, texts, NULL, n, out, err);
}

int nn_classify(struct nn *h, const char *const *a, const char *const *b, size_t n, float *logits,
                struct err *err)
{
    if (h->m->info.head != NN_HEAD_CLASSIFIER)
        return err_set(err, ERR_ARG, "model '%s' is an encoder, not a classifier", h->m->info.name);
    return run_texts(h, NULL, a, b, n, logits, err);
}
