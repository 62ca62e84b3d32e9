/* faiss_bench.c - build time, memory, single-query latency and recall@k of FAISS index types
 * through index/idx_faiss.c, against an exact Flat index, on seeded random unit vectors.
 *
 * Build (after `make build/vericite-tests`, which compiles the objects):
 *   cc -std=c11 -O2 -I. -Icommon -D_GNU_SOURCE -o build/faiss_bench tests/bench/faiss_bench.c \
 *      build/index/idx_faiss.o build/index/idx_faiss_capi.o build/common/err.o build/common/file.o \
 *      build/common/buf.o \
 *      -lfaiss -fopenmp -llapack -lopenblas -lstdc++ -lm
 * Run:  OMP_NUM_THREADS=2 ./build/faiss_bench [-n N] [-d DIM] [-q NQ] [-k K] [-t NTRAIN]
 *          [-c CLUSTERS] [-p NPROBE,...] [-s SIZE,...] [FACTORY[:NTRAIN] ...]
 *   -c 0 (default): vectors uniform on the sphere (worst case for IVF: no structure);
 *   -c C: a mixture of C Gaussian clusters;
 *   -l L: intrinsic dimension L (a random L-d Gaussian lifted to DIM, 10% noise), the closest of the
 *         three to real text embeddings.
 *   -t NTRAIN: training points for IVF/PQ (default 160000); FACTORY:NTRAIN overrides it.
 *   -s sizes: instead of the factory table, Flat vs IVF latency at each corpus size (prefixes).
 *   -r TARGET: instead, the --vector-index kinds (flat, IVF-flat, IVF-PQ, or the factories given)
 *         built with the training rule, nprobe tuned to recall@k >= TARGET, bytes per vector and
 *         the memory a shared memory-mapped open adds (recall_table below).
 * Latencies are per query (nq = 1, as the service asks), over NQ queries; recall@k is the share of
 * the exact top-k ids found. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "index/idx_faiss.h"

#define MAX_FACTORIES 16
#define MAX_LIST 16

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: what a query costs when it does not have to wait for a core. */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (all threads). */
static double proc_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double rss_mb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static double rng_gauss(uint64_t *s)
{
    double u = ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void normalise(float *x, int dim)
{
    double n = 0;
    for (int j = 0; j < dim; j++) n += (double)x[j] * x[j];
    n = sqrt(n);
    for (int j = 0; j < dim; j++) x[j] = (float)(x[j] / n);
}

/* n unit vectors (n, dim), one of three kinds: isotropic Gaussian directions (mix = NULL);
 * around `nc` random centres (mix = centres, (nc, dim)); or, with nc == 0 and mix = a (dim, lat)
 * projection, a `lat`-dimensional Gaussian lifted to dim plus a little noise (low intrinsic
 * dimension, like real text embeddings). */
static float *gen(int64_t n, int dim, int nc, int lat, const float *mix, uint64_t seed)
{
    float *v = malloc((size_t)n * (size_t)dim * sizeof *v);
    float z[256];
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    if (!v || lat > 256) {
        free(v);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        float *x = v + i * dim;
        if (mix && lat) {
            for (int l = 0; l < lat; l++) z[l] = (float)rng_gauss(&s);
            for (int j = 0; j < dim; j++) {
                double a = 0;
                for (int l = 0; l < lat; l++) a += (double)mix[j * lat + l] * z[l];
                x[j] = (float)(a / sqrt(lat) + 0.1 * rng_gauss(&s));
            }
        } else {
            const float *c = mix ? mix + (size_t)(rng_next(&s) % (uint64_t)nc) * dim : NULL;
            for (int j = 0; j < dim; j++)
                x[j] = (float)(c ? c[j] + 0.6 * rng_gauss(&s) / sqrt(dim) : rng_gauss(&s));
        }
        normalise(x, dim);
    }
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct lat {
    double p50, p99;       /* wall clock, milliseconds */
    double cpu50, cpu99;   /* CPU time of the calling thread, milliseconds */
};

static void percentiles(double *t, int64_t n, double *p50, double *p99)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    *p50 = t[n / 2];
    *p99 = t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
}

/* Search the nq queries one at a time; ids (nq, k). */
static int run_queries(struct idx_faiss *f, const float *q, int64_t nq, int dim, int64_t k,
                       int64_t *ids, struct lat *out, struct err *e)
{
    double *t = malloc((size_t)nq * sizeof *t), *c = malloc((size_t)nq * sizeof *c);
    float sc[1024];
    int rc = ERR_OK;
    if (!t || !c || k > 1024) {
        rc = err_set(e, ERR_NOMEM, "bench");
        goto out;
    }
    for (int64_t i = 0; i < nq && rc == ERR_OK; i++) {
        double t0 = now(), c0 = thread_cpu();
        rc = idx_faiss_search(f, 1, q + i * dim, k, sc, ids + i * k, e);
        c[i] = (thread_cpu() - c0) * 1e3;
        t[i] = (now() - t0) * 1e3;
    }
    if (rc == ERR_OK) {
        percentiles(t, nq, &out->p50, &out->p99);
        percentiles(c, nq, &out->cpu50, &out->cpu99);
    }
out:
    free(t);
    free(c);
    return rc;
}

static double recall(const int64_t *ex, const int64_t *ap, int64_t nq, int64_t k)
{
    int64_t hit = 0;
    for (int64_t q = 0; q < nq; q++)
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < k; j++)
                if (ex[q * k + i] == ap[q * k + j]) {
                    hit++;
                    break;
                }
    return (double)hit / (double)(nq * k);
}

static int parse_list(const char *s, long *out)
{
    int n = 0;
    char *end;
    while (*s && n < MAX_LIST) {
        out[n++] = strtol(s, &end, 10);
        if (*end != ',') break;
        s = end + 1;
    }
    return n;
}

/* nlist from "IVF<n>,..." (also after a pre-transform), or 0. */
static long factory_nlist(const char *fac)
{
    const char *p = strstr(fac, "IVF");
    return p ? strtol(p + 3, NULL, 10) : 0;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (f) fclose(f);
    return n;
}

/* Build one index of the first n vectors; prints build figures. */
static int build(struct idx_faiss **out, const char *fac, int dim, const float *v, int64_t n,
                 const int64_t *ids, int64_t ntrain, int quiet, struct err *e)
{
    double r0 = rss_mb(), t0 = now(), t1, cpu0 = proc_cpu();
    int rc = idx_faiss_new(out, dim, fac, e);
    if (rc) return rc;
    if (!idx_faiss_is_trained(*out)) {
        int64_t nt = ntrain < n ? ntrain : n;
        if ((rc = idx_faiss_train(*out, nt, v, e))) return rc;
    }
    t1 = now();
    if ((rc = idx_faiss_add(*out, n, v, ids, e))) return rc;
    double t2 = now();
    if (!quiet)
        printf("%-16s build %7.1f s (train %6.1f s, add %6.1f s; CPU %6.1f s)  RSS +%7.1f MB\n",
               fac, t2 - t0, t1 - t0, t2 - t1, proc_cpu() - cpu0, rss_mb() - r0);
    return ERR_OK;
}

/* What every run shares: the vectors, the queries, their exact top k and scratch for the answers. */
struct bench {
    int dim;
    int64_t n, nq, k, ntrain;
    const float *v;   /* (n, dim) */
    const float *q;   /* (nq, dim) */
    const int64_t *ids; /* (n) */
    int64_t *gt;      /* (nq, k) exact ids */
    float *gts;       /* (nq, k) exact distances */
    int64_t *ap;      /* (nq, k) the index's answers */
    const long *nprobes;
    int nnp;
};

/* Flat vs IVF latency at each corpus size (prefixes of the vectors), with factory fac's tail. */
static int by_size(const struct bench *b, const char *fac, const long *sizes, int nsizes,
                   struct err *e)
{
    struct idx_faiss *flat = NULL, *ix = NULL;
    struct lat l;
    printf("%9s %9s %9s | %-16s %6s %9s %9s %8s   (ms; CPU = thread CPU time)\n", "size",
           "flat p50", "flat CPU", "ivf", "nprobe", "p50", "CPU p50", "recall");
    for (int si = 0; si < nsizes; si++) {
        int64_t m = sizes[si] < b->n ? sizes[si] : b->n;
        struct lat lf;
        if (build(&flat, "Flat", b->dim, b->v, m, b->ids, b->ntrain, 1, e) ||
            idx_faiss_search(flat, b->nq, b->q, b->k, b->gts, b->gt, e) ||
            run_queries(flat, b->q, b->nq, b->dim, b->k, b->ap, &lf, e))
            goto fail;
        /* nlist: the power of two at or below 4 sqrt(m), at least 16 */
        long nlist = 16;
        while (4 * nlist * nlist <= 16 * m && nlist < 65536) nlist *= 2;
        char ivf[64];
        const char *tail = strchr(fac, ',');
        if (!tail) tail = ",SQ8";
        /* the factory's own training size (":NTRAIN") does not apply here */
        snprintf(ivf, sizeof ivf, "IVF%ld%.*s", nlist, (int)strcspn(tail, ":"), tail);
        if (build(&ix, ivf, b->dim, b->v, m, b->ids, 40 * nlist, 1, e)) goto fail;
        for (int pi = 0; pi < b->nnp; pi++) {
            if (idx_faiss_set_param(ix, "nprobe", (double)b->nprobes[pi], e) ||
                run_queries(ix, b->q, b->nq, b->dim, b->k, b->ap, &l, e))
                goto fail;
            printf("%9lld %9.3f %9.3f | %-16s %6ld %9.3f %9.3f %8.3f\n", (long long)m, lf.p50,
                   lf.cpu50, ivf, b->nprobes[pi], l.p50, l.cpu50, recall(b->gt, b->ap, b->nq, b->k));
        }
        idx_faiss_free(flat);
        idx_faiss_free(ix);
        flat = ix = NULL;
        fflush(stdout);
    }
    return 0;
fail:
    idx_faiss_free(flat);
    idx_faiss_free(ix);
    return -1;
}

/* The exact top k of every query (b->gt) from a Flat index, and Flat's own figures. */
static int flat_truth(const struct bench *b, struct err *e)
{
    struct idx_faiss *flat = NULL;
    struct lat l;
    if (build(&flat, "Flat", b->dim, b->v, b->n, b->ids, b->ntrain, 0, e)) return -1;
    double t0 = now();
    if (idx_faiss_search(flat, b->nq, b->q, b->k, b->gts, b->gt, e)) goto fail;
    printf("%-16s batch of %lld queries: %.2f s (BLAS, all threads)\n", "Flat", (long long)b->nq,
           now() - t0);
    if (run_queries(flat, b->q, b->nq, b->dim, b->k, b->ap, &l, e)) goto fail;
    printf("%-16s            p50 %8.3f ms  p99 %8.3f ms  (CPU p50 %8.3f  p99 %8.3f)  recall@%lld "
           "%.3f\n", "Flat", l.p50, l.p99, l.cpu50, l.cpu99, (long long)b->k,
           recall(b->gt, b->ap, b->nq, b->k));
    idx_faiss_free(flat); /* keep only the ground truth */
    fflush(stdout);
    return 0;
fail:
    idx_faiss_free(flat);
    return -1;
}

/* One factory ("FACTORY:NTRAIN" trains it on its own number of points): file size, then latency
 * and recall at each nprobe (once when it has no lists). */
static int factory(const struct bench *b, const char *spec, struct err *e)
{
    char fac[128];
    snprintf(fac, sizeof fac, "%s", spec);
    char *colon = strchr(fac, ':');
    int64_t nt = b->ntrain;
    if (colon) {
        *colon = '\0';
        nt = strtoll(colon + 1, NULL, 10);
    }
    long nlist = factory_nlist(fac);
    struct idx_faiss *ix = NULL;
    struct lat l;
    if (build(&ix, fac, b->dim, b->v, b->n, b->ids, nt, 0, e)) return -1;
    char path[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/faiss_bench_%d.faiss", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
    if (idx_faiss_write(ix, path, e)) goto fail;
    printf("%-16s file %.1f MB\n", fac, (double)file_size(path) / (1024.0 * 1024.0));
    unlink(path);
    for (int pi = 0; pi < (nlist ? b->nnp : 1); pi++) {
        if (nlist && idx_faiss_set_param(ix, "nprobe", (double)b->nprobes[pi], e)) goto fail;
        if (run_queries(ix, b->q, b->nq, b->dim, b->k, b->ap, &l, e)) goto fail;
        printf("%-16s nprobe %3ld p50 %8.3f ms  p99 %8.3f ms  (CPU p50 %8.3f  p99 %8.3f)  "
               "recall@%lld %.3f\n", fac, nlist ? b->nprobes[pi] : 0L, l.p50, l.p99, l.cpu50,
               l.cpu99, (long long)b->k, recall(b->gt, b->ap, b->nq, b->k));
        fflush(stdout);
    }
    idx_faiss_free(ix);
    return 0;
fail:
    idx_faiss_free(ix);
    return -1;
}

/* recall@k after re-scoring 4 x k candidates of f with the exact vectors (what idx_vec_search does
 * for PQ indexes with the stored vectors); ids are 10 + 3 i for vector i. */
static int rerank_recall(struct idx_faiss *f, const struct bench *b, const int64_t *truth,
                         double *out, struct err *e)
{
    int64_t c = 4 * b->k, *ci = malloc((size_t)c * sizeof *ci);
    float *cs = malloc((size_t)c * sizeof *cs);
    int64_t *top = malloc((size_t)(b->nq * b->k) * sizeof *top);
    int rc = !ci || !cs || !top ? err_set(e, ERR_NOMEM, "bench") : ERR_OK;
    for (int64_t qi = 0; !rc && qi < b->nq; qi++) {
        const float *q = b->q + qi * b->dim;
        if ((rc = idx_faiss_search(f, 1, q, c, cs, ci, e))) break;
        for (int64_t i = 0; i < c; i++) {
            double d = -1e30;
            if (ci[i] >= 0) {
                const float *x = b->v + (ci[i] - 10) / 3 * b->dim;
                d = 0;
                for (int j = 0; j < b->dim; j++) d += (double)q[j] * x[j];
            }
            cs[i] = (float)d;
        }
        for (int64_t o = 0; o < b->k; o++) { /* selection of the k best */
            int64_t best = o;
            for (int64_t i = o + 1; i < c; i++)
                if (cs[i] > cs[best]) best = i;
            float ts = cs[o];
            int64_t ti = ci[o];
            cs[o] = cs[best], ci[o] = ci[best];
            cs[best] = ts, ci[best] = ti;
            top[qi * b->k + o] = ci[o];
        }
    }
    if (!rc) *out = recall(truth, top, b->nq, b->k);
    free(ci);
    free(cs);
    free(top);
    return rc;
}

/* How much of `path` this process maps (*size) and holds resident through the mapping (*rss),
 * in MB, from /proc/self/smaps; both 0 when it is not mapped. */
static void mapped_mb(const char *path, double *size, double *rss)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[4096];
    int in = 0;
    long kb;
    *size = *rss = 0;
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (strchr(line, '-') && strchr(line, ' ') && strchr(line, '-') < strchr(line, ' ') &&
            !strchr(line, ':')) {
            in = 0; /* an anonymous mapping's header */
        }
        if (strstr(line, path)) {
            in = 1;
            continue;
        }
        if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') && strstr(line, " /"))
            in = 0; /* another file's mapping */
        if (in && sscanf(line, "Size: %ld kB", &kb) == 1) *size += (double)kb / 1024.0;
        if (in && sscanf(line, "Rss: %ld kB", &kb) == 1) *rss += (double)kb / 1024.0;
    }
    fclose(f);
}

/* -r TARGET: the vector index kinds of `vericite index --vector-index` (flat, ivf = IVF-flat here,
 * ivfpq) as vectors.faiss builds them: nlist ~4 sqrt(n), the training rule of idx_faiss_plan
 * (sampled with idx_faiss_sampler), nprobe chosen for recall@k >= TARGET on the queries; then
 * bytes per vector (file size / n), the resident memory a shared, memory-mapped open adds, and
 * single-query latency at that nprobe. The queries are the ones measured against: a production
 * build picks its own (stored vectors, held out from neither side). */
static int recall_table(const struct bench *b, double target, const char **facs, int nf,
                        struct err *e)
{
    struct idx_faiss_truth *t = NULL;
    char defs[3][64];
    long nlist = 1;
    while ((double)nlist * nlist < 16.0 * (double)b->n) nlist *= 2;
    int m = b->dim / 4 > 0 ? b->dim / 4 : 1;
    while (m > 1 && b->dim % m) m--;
    snprintf(defs[0], sizeof defs[0], "Flat");
    snprintf(defs[1], sizeof defs[1], "IVF%ld,Flat", nlist);
    snprintf(defs[2], sizeof defs[2], "IVF%ld,PQ%dnp", nlist, m); /* np: no polysemous training (slow, unused) */
    const char *def[3] = {defs[0], defs[1], defs[2]};
    if (nf == 0) facs = def, nf = 3;
    if (idx_faiss_truth_new(&t, b->dim, b->nq, b->q, b->k, e) ||
        idx_faiss_truth_add(t, b->n, b->v, b->ids, e))
        goto fail;
    printf("%-18s %8s %7s %7s %9s %9s %9s %9s %10s %9s %9s\n", "index", "build s", "lists",
           "nprobe", "recall", "reranked", "p50 ms", "CPU ms", "bytes/vec", "mmap MB", "resid MB");
    for (int fi = 0; fi < nf; fi++) {
        struct idx_faiss_plan plan;
        struct idx_faiss *ix = NULL, *sh = NULL;
        struct lat l;
        double t0 = now();
        if (idx_faiss_plan(facs[fi], b->dim, b->n, &plan, e) ||
            idx_faiss_new(&ix, b->dim, plan.factory, e))
            goto fail;
        if (!idx_faiss_is_trained(ix)) {
            float *tr = malloc((size_t)plan.train_n * (size_t)b->dim * sizeof *tr);
            struct idx_faiss_sampler smp;
            int64_t got = 0;
            if (!tr) goto fail;
            idx_faiss_sampler_init(&smp, plan.train_n, b->n, 1);
            for (int64_t i = 0; i < b->n && got < plan.train_n; i++)
                if (idx_faiss_sampler_take(&smp))
                    memcpy(tr + got++ * b->dim, b->v + i * b->dim, (size_t)b->dim * sizeof *tr);
            int rc = idx_faiss_train(ix, got, tr, e);
            free(tr);
            if (rc) goto fail_ix;
        }
        if (idx_faiss_add(ix, b->n, b->v, b->ids, e)) goto fail_ix;
        double build_s = now() - t0, r = 1.0;
        int64_t np = 0;
        if (plan.nlist > 0 && idx_faiss_tune_nprobe(ix, t, NULL, target, &np, &r, e)) goto fail_ix;
        if (plan.nlist == 0 && idx_faiss_recall(ix, t, NULL, &r, e)) goto fail_ix;
        double rr = -1;
        if (strstr(plan.factory, "PQ") && rerank_recall(ix, b, idx_faiss_truth_ids(t), &rr, e)) goto fail_ix;
        char path[256];
        const char *tmp = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/faiss_bench_%d.faiss", tmp && *tmp ? tmp : "/tmp",
                 (int)getpid());
        if (idx_faiss_write(ix, path, e)) goto fail_ix;
        long bytes = file_size(path);
        idx_faiss_free(ix);
        ix = NULL;
        if (idx_faiss_open_shared(&sh, path, b->dim, e)) goto fail_ix;
        if ((np && idx_faiss_set_param(sh, "nprobe", (double)np, e)) ||
            run_queries(sh, b->q, b->nq, b->dim, b->k, b->ap, &l, e)) {
            idx_faiss_free(sh);
            goto fail_ix;
        }
        double map_size = 0, map_rss = 0;
        mapped_mb(path, &map_size, &map_rss);
        idx_faiss_free(sh);
        unlink(path);
        char rrs[16] = "-";
        if (rr >= 0) snprintf(rrs, sizeof rrs, "%.3f", rr);
        printf("%-18s %8.1f %7lld %7lld %9.3f %9s %9.3f %9.3f %10.1f %9.1f %9.1f\n", plan.factory,
               build_s, (long long)plan.nlist, (long long)np, r, rrs, l.p50, l.cpu50,
               (double)bytes / (double)b->n, map_size, map_rss);
        fflush(stdout);
        continue;
    fail_ix:
        idx_faiss_free(ix);
        goto fail;
    }
    printf("(recall@%lld against exact search over %lld queries, target %.2f; p50: single queries, "
           "one thread;\n reranked: PQ recall after re-scoring 4 x k candidates exactly, as vericite searches;"
           "\n mmap MB: the file mapped by a shared open (IVF lists; flat codes are read into memory "
           "instead), resid MB: of it resident after the queries)\n",
           (long long)b->k, (long long)b->nq, target);
    idx_faiss_truth_free(t);
    return 0;
fail:
    idx_faiss_truth_free(t);
    return -1;
}

int main(int argc, char **argv)
{
    int64_t n = 1000000, nq = 1000, k = 10, ntrain = 160000;
    int dim = 100, nc = 0, lat = 0, opt;
    long nprobes[MAX_LIST] = {16, 32, 64}, sizes[MAX_LIST];
    int nnp = 3, nsizes = 0;
    double target = 0;
    const char *facs[MAX_FACTORIES];
    int nf = 0;
    struct err e = {0};
    while ((opt = getopt(argc, argv, "n:d:q:k:t:c:l:p:s:r:")) != -1) {
        switch (opt) {
        case 'n': n = strtoll(optarg, NULL, 10); break;
        case 'd': dim = (int)strtol(optarg, NULL, 10); break;
        case 'q': nq = strtoll(optarg, NULL, 10); break;
        case 'k': k = strtoll(optarg, NULL, 10); break;
        case 't': ntrain = strtoll(optarg, NULL, 10); break;
        case 'c': nc = (int)strtol(optarg, NULL, 10); break;
        case 'l': lat = (int)strtol(optarg, NULL, 10); break;
        case 'p': nnp = parse_list(optarg, nprobes); break;
        case 's': nsizes = parse_list(optarg, sizes); break;
        case 'r': target = strtod(optarg, NULL); break;
        default: fprintf(stderr, "usage: see the comment at the top of faiss_bench.c\n"); return 2;
        }
    }
    for (int i = optind; i < argc && nf < MAX_FACTORIES; i++) facs[nf++] = argv[i];
    if (nf == 0 && target <= 0) {
        facs[nf++] = "IVF4096,SQ8:160000";
        facs[nf++] = "IVF1024,PQ50np:20000"; /* np: no polysemous training (slow, unused) */
    }
    if (n < 1 || dim < 1 || nq < 1 || k < 1 || k > 1024) return 2;

    double t_start = now(), t0 = t_start;
    float *centres = NULL;
    if (nc) {
        centres = gen(nc, dim, 0, 0, NULL, 7);
    } else if (lat) { /* a (dim, lat) Gaussian projection */
        centres = malloc((size_t)dim * (size_t)lat * sizeof *centres);
        uint64_t s = 99;
        for (int64_t i = 0; centres && i < (int64_t)dim * lat; i++) centres[i] = (float)rng_gauss(&s);
    }
    float *v = gen(n, dim, nc, lat, centres, 1), *q = gen(nq, dim, nc, lat, centres, 2);
    int64_t *ids = malloc((size_t)n * sizeof *ids);
    int64_t *gt = malloc((size_t)(nq * k) * sizeof *gt), *ap = malloc((size_t)(nq * k) * sizeof *ap);
    float *gts = malloc((size_t)(nq * k) * sizeof *gts);
    if (!v || !q || !ids || !gt || !ap || !gts || ((nc || lat) && !centres)) return 1;
    for (int64_t i = 0; i < n; i++) ids[i] = 10 + 3 * i; /* passage-like ids */
    printf("n=%lld dim=%d nq=%lld k=%lld data=%s (generated in %.1f s, RSS %.0f MB)\n",
           (long long)n, dim, (long long)nq, (long long)k,
           nc ? "clustered" : lat ? "low-rank" : "uniform", now() - t0,
           rss_mb());

    struct bench b = {dim, n, nq, k, ntrain, v, q, ids, gt, gts, ap, nprobes, nnp};
    if (target > 0) {
        if (recall_table(&b, target, facs, nf, &e)) goto fail;
    } else if (nsizes > 0) {
        if (by_size(&b, nf ? facs[0] : "IVF1024,SQ8", sizes, nsizes, &e)) goto fail;
    } else {
        if (flat_truth(&b, &e)) goto fail;
        for (int fi = 0; fi < nf; fi++)
            if (factory(&b, facs[fi], &e)) goto fail;
    }
    printf("total %.1f s\n", now() - t_start);
    free(v);
    free(q);
    free(ids);
    free(gt);
    free(ap);
    free(gts);
    free(centres);
    return 0;
fail:
    fprintf(stderr, "faiss_bench: %s\n", e.msg);
    return 1;
}
