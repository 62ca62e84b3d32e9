/* idx_faiss.c - the dense vector index over the FAISS C API (the only includer of faiss/c_api).
 *
 * A handle owns one FaissIndex built with the inner-product metric. Ids are passage ids: FAISS
 * factories that cannot store caller ids get an "IDMap2," prefix. Files are plain FAISS index
 * files (readable by any FAISS tool); before handing a file to FAISS we check its fixed header
 * ourselves, so a foreign file is refused with a clear message, and FAISS's own exceptions on
 * truncated data come back as ERR_CORRUPT. */
#include "index/idx_faiss.h"

#include "file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <omp.h>
#include <pthread.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/IndexPreTransform_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

#include "index/idx_faiss_ext.h"

/* One loaded file, shared by every handle that opened it. The key is the file's identity: a
 * file replaced by a rename has a new inode, so it is a new entry and old handles keep theirs. */
struct idx_faiss_shared {
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    off_t size;
    FaissIndex *index; /* owned; read-only once loaded */
    int dim, refs;
    struct idx_faiss_shared *next;
};

/* The one process-wide state of vericite: loaded files are worth sharing between the threads'
 * index handles (the service's workers), and only a process-wide table can see them all. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct idx_faiss_shared *reg_head;
static int64_t reg_loads;

struct idx_faiss {
    FaissIndex *index;           /* owned, or the shared entry's when `shared` is set */
    FaissParameterSpace *params; /* made on the first idx_faiss_set_param() */
    struct idx_faiss_shared *shared; /* one reference, from idx_faiss_open_shared() */
    FaissSearchParameters *sp;   /* a shared handle's own nprobe; NULL: the index's setting */
    int dim;
};

/* FAISS's IO_FLAG_MMAP (faiss/index_io.h; the C API has no name for it): IO_FLAG_SKIP_IVF_DATA
 * plus the "do" hook tag of OnDiskInvertedLists, which maps the lists in place, read-only. */
#define IDX_FAISS_IO_MMAP (8 | 0x646f0000)

/* Every FAISS index file starts with a fourcc and this header (faiss/impl/index_write.cpp,
 * write_index_header): int32 d, int64 ntotal, two int64 "dummy" fields holding 1 << 20,
 * uint8 is_trained, int32 metric_type. Little-endian on the machines FAISS supports. */
#define HDR_SIZE (4 + 4 + 8 + 8 + 8 + 1 + 4)
#define HDR_DUMMY ((int64_t)1 << 20)

/* FAISS's message for the last failure, never NULL. */
static const char *faiss_msg(void)
{
    const char *m = faiss_get_last_error();
    return m && *m ? m : "unknown FAISS error";
}

int idx_faiss_new(struct idx_faiss **out, int dim, const char *factory, struct err *err)
{
    struct idx_faiss *f = NULL;
    int rc;
    *out = NULL;
    if (dim < 1 || dim > IDX_FAISS_MAX_DIM)
        return err_set(err, ERR_ARG, "faiss: dimension %d outside 1..%d", dim, IDX_FAISS_MAX_DIM);
    if (!factory || !*factory || strlen(factory) > IDX_FAISS_MAX_FACTORY)
        return err_set(err, ERR_ARG, "faiss: factory string empty or longer than %d",
                       IDX_FAISS_MAX_FACTORY);

    /* IDMap* already maps ids; IVF indexes store the ids given to add_with_ids themselves (also
     * under a pre-transform such as "OPQ16,IVF..."). Everything else (Flat, HNSW, PQ, ...) can only
     * number vectors 0..n-1, so it is wrapped. */
    char desc[IDX_FAISS_MAX_FACTORY + 16];
    int wrap = strncmp(factory, "IDMap", 5) != 0 && !strstr(factory, "IVF");
    snprintf(desc, sizeof desc, "%s%s", wrap ? "IDMap2," : "", factory);

    f = calloc(1, sizeof *f);
    if (!f) return err_set(err, ERR_NOMEM, "faiss: new index");
    f->dim = dim;
    if (faiss_index_factory(&f->index, dim, desc, METRIC_INNER_PRODUCT) != 0 || !f->index) {
        rc = err_set(err, ERR_FAISS, "faiss: factory \"%s\" dim %d: %s", desc, dim, faiss_msg());
        goto fail;
    }
    *out = f;
    return ERR_OK;
fail:
    idx_faiss_free(f);
    return rc;
}

static void shared_release(struct idx_faiss_shared *sh);

void idx_faiss_free(struct idx_faiss *f)
{
    if (!f) return;
    if (f->params) faiss_ParameterSpace_free(f->params);
    if (f->sp) faiss_SearchParameters_free(f->sp);
    if (f->shared) {
        pthread_mutex_lock(&reg_lock);
        shared_release(f->shared);
        pthread_mutex_unlock(&reg_lock);
    } else if (f->index) {
        faiss_Index_free(f->index);
    }
    free(f);
}

/* Shared handles are read-only: `what` is refused. */
static int refuse_shared(const struct idx_faiss *f, const char *what, struct err *err)
{
    if (!f->shared) return ERR_OK;
    err_set(err, ERR_ARG, "faiss: %s: the index is shared read-only (idx_faiss_open_shared)", what);
    return ERR_ARG;
}

/* ---------------------------------------------------------------- the training rule */

int idx_faiss_plan(const char *factory, int dim, int64_t n, struct idx_faiss_plan *out,
                   struct err *err)
{
    memset(out, 0, sizeof *out);
    if (!factory || !*factory || strlen(factory) > IDX_FAISS_MAX_FACTORY)
        return err_set(err, ERR_ARG, "faiss: factory string empty or longer than %d",
                       IDX_FAISS_MAX_FACTORY);
    if (dim < 1 || dim > IDX_FAISS_MAX_DIM || n < 0)
        return err_set(err, ERR_ARG, "faiss: plan dim %d n %lld", dim, (long long)n);
    snprintf(out->factory, sizeof out->factory, "%s", factory);
    int has_pq = strstr(factory, "PQ") != NULL; /* PQ, OPQ, IVF..,PQ.., PQ..x4fs */
    const char *ivf = strstr(factory, "IVF");
    int64_t cap = IDX_FAISS_TRAIN_MAX_BYTES / ((int64_t)dim * (int64_t)sizeof(float));
    if (!ivf) {
        int64_t t = n < IDX_FAISS_TRAIN_OTHER ? n : IDX_FAISS_TRAIN_OTHER;
        out->train_n = t < cap ? t : cap;
        return ERR_OK;
    }
    const char *d = ivf + 3, *e = d;
    int64_t lists = 0;
    while (*e >= '0' && *e <= '9' && lists < ((int64_t)1 << 40)) lists = lists * 10 + (*e++ - '0');
    if (e == d || lists < 1)
        return err_set(err, ERR_ARG, "faiss: factory \"%s\": IVF without a list count", factory);
    out->requested = lists;
    /* the sample: 256 per list (at least PQ's 65,536), within the corpus and the memory cap */
    int64_t t = lists * IDX_FAISS_TRAIN_MAX_PER_LIST;
    if (has_pq && t < IDX_FAISS_TRAIN_PQ_MIN) t = IDX_FAISS_TRAIN_PQ_MIN;
    if (t > n) t = n;
    if (t > cap) t = cap;
    /* too few points for 39 per list: fewer lists */
    if (t < lists * IDX_FAISS_TRAIN_MIN_PER_LIST) {
        lists = t / IDX_FAISS_TRAIN_MIN_PER_LIST;
        if (lists < 1) lists = 1;
    }
    out->nlist = lists;
    out->train_n = t;
    int w = snprintf(out->factory, sizeof out->factory, "%.*s%lld%s", (int)(d - factory), factory,
                     (long long)lists, e);
    if (w < 0 || (size_t)w >= sizeof out->factory)
        return err_set(err, ERR_ARG, "faiss: factory \"%s\" too long", factory);
    return ERR_OK;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

void idx_faiss_sampler_init(struct idx_faiss_sampler *s, int64_t want, int64_t total,
                            uint64_t seed)
{
    s->rng = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (!s->rng) s->rng = 1;
    s->want = want < 0 ? 0 : want;
    s->left = total < 0 ? 0 : total;
    if (s->want > s->left) s->want = s->left;
}

int idx_faiss_sampler_take(struct idx_faiss_sampler *s)
{
    if (s->want <= 0 || s->left <= 0) return 0;
    /* take with probability want / left: uniform over all subsets of size want */
    double u = (double)(xorshift(&s->rng) >> 11) / (double)(1ULL << 53);
    int take = u * (double)s->left < (double)s->want;
    s->left--;
    if (take) s->want--;
    return take;
}

int idx_faiss_is_trained(const struct idx_faiss *f)
{
    return faiss_Index_is_trained(f->index) != 0;
}

int idx_faiss_train(struct idx_faiss *f, int64_t n, const float *vecs, struct err *err)
{
    if (n < 0) return err_set(err, ERR_ARG, "faiss: train n=%lld", (long long)n);
    if (refuse_shared(f, "train", err)) return ERR_ARG;
    if (faiss_Index_train(f->index, n, vecs) != 0)
        return err_set(err, ERR_FAISS, "faiss: train n=%lld: %s", (long long)n, faiss_msg());
    return ERR_OK;
}

int idx_faiss_add(struct idx_faiss *f, int64_t n, const float *vecs, const int64_t *ids,
                  struct err *err)
{
    if (n < 0) return err_set(err, ERR_ARG, "faiss: add n=%lld", (long long)n);
    if (refuse_shared(f, "add", err)) return ERR_ARG;
    if (n == 0) return ERR_OK;
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0) /* -1 marks padding in search results */
            return err_set(err, ERR_ARG, "faiss: add: negative id %lld", (long long)ids[i]);
    if (faiss_Index_add_with_ids(f->index, n, vecs, ids) != 0)
        return err_set(err, ERR_FAISS, "faiss: add n=%lld: %s", (long long)n, faiss_msg());
    return ERR_OK;
}

void idx_faiss_single_thread(void)
{
    omp_set_num_threads(1);
}

int idx_faiss_search(struct idx_faiss *f, int64_t nq, const float *q, int64_t k, float *scores,
                     int64_t *ids, struct err *err)
{
    if (nq < 0 || k < 1 || k > IDX_FAISS_MAX_K)
        return err_set(err, ERR_ARG, "faiss: search nq=%lld k=%lld (k must be 1..%d)",
                       (long long)nq, (long long)k, IDX_FAISS_MAX_K);
    if (nq == 0) return ERR_OK;
    /* scores, ids: (nq, k) */
    if ((f->sp ? faiss_Index_search_with_params(f->index, nq, q, k, f->sp, scores, ids)
               : faiss_Index_search(f->index, nq, q, k, scores, ids)) != 0)
        return err_set(err, ERR_FAISS, "faiss: search nq=%lld k=%lld: %s", (long long)nq,
                       (long long)k, faiss_msg());
    return ERR_OK;
}

int idx_faiss_remove(struct idx_faiss *f, int64_t n, const int64_t *ids, int64_t *removed,
                     struct err *err)
{
    FaissIDSelectorBatch *sel = NULL;
    size_t nrem = 0;
    int rc = ERR_OK;
    if (removed) *removed = 0;
    if (n < 0) return err_set(err, ERR_ARG, "faiss: remove n=%lld", (long long)n);
    if (refuse_shared(f, "remove", err)) return ERR_ARG;
    if (n == 0) return ERR_OK;
    if (faiss_IDSelectorBatch_new(&sel, (size_t)n, ids) != 0)
        return err_set(err, ERR_FAISS, "faiss: remove n=%lld: %s", (long long)n, faiss_msg());
    /* A batch selector is an IDSelector (single inheritance), as upstream's C examples use it. */
    if (faiss_Index_remove_ids(f->index, (const FaissIDSelector *)sel, &nrem) != 0)
        rc = err_set(err, ERR_FAISS, "faiss: remove n=%lld: %s", (long long)n, faiss_msg());
    else if (removed)
        *removed = (int64_t)nrem;
    faiss_IDSelector_free((FaissIDSelector *)sel);
    return rc;
}

/* The IVF layer of an index (itself, or under a pre-transform such as OPQ); NULL when none. */
static FaissIndexIVF *ivf_of(FaissIndex *index)
{
    FaissIndexPreTransform *pt = faiss_IndexPreTransform_cast(index);
    return faiss_IndexIVF_cast(pt ? faiss_IndexPreTransform_index(pt) : index);
}

int idx_faiss_set_param(struct idx_faiss *f, const char *name, double value, struct err *err)
{
    if (!name || !*name) return err_set(err, ERR_ARG, "faiss: empty parameter name");
    if (f->shared && !strcmp(name, "nprobe")) {
        /* the shared index is not touched: this handle searches with its own parameters */
        FaissSearchParametersIVF *sp = NULL;
        if (!ivf_of(f->index))
            return err_set(err, ERR_FAISS, "faiss: set nprobe=%g: not an IVF index", value);
        if (value < 1 || faiss_SearchParametersIVF_new_with(&sp, NULL, (size_t)value, 0) != 0)
            return err_set(err, ERR_FAISS, "faiss: set nprobe=%g: %s", value,
                           value < 1 ? "must be at least 1" : faiss_msg());
        if (f->sp) faiss_SearchParameters_free(f->sp);
        f->sp = sp;
        return ERR_OK;
    }
    if (!f->params && faiss_ParameterSpace_new(&f->params) != 0)
        return err_set(err, ERR_FAISS, "faiss: parameter space: %s", faiss_msg());
    /* On a shared index other parameters (efSearch) change it for the whole process: set under
     * the registry lock, before the searches that depend on them. */
    if (f->shared) pthread_mutex_lock(&reg_lock);
    int bad = faiss_ParameterSpace_set_index_parameter(f->params, f->index, name, value) != 0;
    if (f->shared) pthread_mutex_unlock(&reg_lock);
    if (bad) return err_set(err, ERR_FAISS, "faiss: set %.64s=%g: %s", name, value, faiss_msg());
    return ERR_OK;
}

int64_t idx_faiss_nlist(const struct idx_faiss *f)
{
    FaissIndexIVF *ivf = ivf_of(f->index);
    return ivf ? (int64_t)faiss_IndexIVF_nlist(ivf) : 0;
}

int idx_faiss_write(struct idx_faiss *f, const char *path, struct err *err)
{
    struct file_atomic fa = {0};
    int rc;
    if (!path || !*path || strlen(path) >= PATH_MAX)
        return err_set(err, ERR_ARG, "faiss: index path empty or too long");
    if ((rc = refuse_shared(f, "write", err))) return rc;
    if ((rc = file_atomic_open(&fa, path, err))) return rc;
    if (faiss_write_index(f->index, fa.f) != 0) {
        rc = err_set(err, ERR_FAISS, "%s: write index: %s", fa.tmp, faiss_msg());
        file_atomic_abort(&fa);
        return rc;
    }
    return file_atomic_commit(&fa, err);
}

static int64_t get_i64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return (int64_t)v;
}

static int32_t get_i32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* Open `path` and check that it starts like a FAISS float index: *fp (positioned at the start)
 * and *st (the opened file's identity) for the caller to close; *dim and *ntotal from the header.
 * Errors: ERR_NOTFOUND, ERR_IO, ERR_CORRUPT, ERR_MISMATCH (metric other than inner product). */
static int open_checked(const char *path, FILE **out, struct stat *st, int *dim, int64_t *ntotal,
                        struct err *err)
{
    unsigned char h[HDR_SIZE];
    int rc = ERR_OK;
    *out = NULL;
    /* stat first: opening a FIFO or a device could block or have side effects. */
    if (stat(path, st) != 0) {
        if (errno == ENOENT) return err_set(err, ERR_NOTFOUND, "%s: no such vector index", path);
        return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st->st_mode)) return err_set(err, ERR_CORRUPT, "%s: not a regular file", path);
    FILE *fp = fopen(path, "rb");
    if (!fp) return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path,
                            strerror(errno));
    /* the identity of what was opened (the name may have been replaced since the stat) */
    if (fstat(fileno(fp), st) != 0 || !S_ISREG(st->st_mode)) {
        rc = err_set(err, ERR_IO, "%s: not a readable regular file", path);
        goto fail;
    }
    size_t got = fread(h, 1, sizeof h, fp);

    /* fourcc: 'I' then three letters/digits ("IxM2", "IwSq", "IHNf", ...). */
    int fourcc_ok = got < 1 || h[0] == 'I';
    for (size_t i = 1; i < 4 && i < got; i++)
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
              (h[i] >= '0' && h[i] <= '9')))
            fourcc_ok = 0;
    if (!fourcc_ok) {
        rc = err_set(err, ERR_CORRUPT, "%s: not a FAISS vector index", path);
        goto fail;
    }
    if (got < sizeof h) {
        rc = err_set(err, ERR_CORRUPT, "%s: truncated FAISS index (%zu bytes)", path, got);
        goto fail;
    }
    int32_t d = get_i32(h + 4), metric = get_i32(h + 33);
    int64_t n = get_i64(h + 8);
    if (get_i64(h + 16) != HDR_DUMMY || get_i64(h + 24) != HDR_DUMMY || h[32] > 1 || d < 1 ||
        d > IDX_FAISS_MAX_DIM || n < 0) {
        rc = err_set(err, ERR_CORRUPT, "%s: not a FAISS vector index", path);
        goto fail;
    }
    /* Every stored vector takes at least one byte of code after the header. */
    if (n > (int64_t)st->st_size - HDR_SIZE) {
        rc = err_set(err, ERR_CORRUPT, "%s: truncated FAISS index (%lld bytes for %lld vectors)",
                     path, (long long)st->st_size, (long long)n);
        goto fail;
    }
    if (metric != METRIC_INNER_PRODUCT) {
        rc = err_set(err, ERR_MISMATCH, "%s: FAISS index uses metric %d, not inner product", path,
                     (int)metric);
        goto fail;
    }
    if (fseek(fp, 0, SEEK_SET) != 0) {
        rc = err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    *dim = d;
    *ntotal = n;
    *out = fp;
    return ERR_OK;
fail:
    fclose(fp);
    return rc;
}

/* Read the index in `fp` (checked by open_checked, header dimension hdr_dim) with FAISS io_flags.
 * Errors: ERR_CORRUPT (FAISS refused the contents). */
static int load(FILE *fp, const char *path, int io_flags, int hdr_dim, FaissIndex **out,
                struct err *err)
{
    *out = NULL;
    if (faiss_read_index(fp, io_flags, out) != 0 || !*out) {
        /* The header was fine, so FAISS failing means truncated or damaged contents. */
        *out = NULL;
        return err_set(err, ERR_CORRUPT, "%s: damaged FAISS index: %s", path, faiss_msg());
    }
    if (faiss_Index_d(*out) != hdr_dim) {
        int rc = err_set(err, ERR_CORRUPT, "%s: header says %d dimensions, index has %d", path,
                         hdr_dim, faiss_Index_d(*out));
        faiss_Index_free(*out);
        *out = NULL;
        return rc;
    }
    return ERR_OK;
}

static int check_dim(const char *path, int hdr_dim, int expect_dim, struct err *err)
{
    if (expect_dim > 0 && hdr_dim != expect_dim)
        return err_set(err, ERR_MISMATCH, "%s: vectors have %d dimensions, expected %d", path,
                       hdr_dim, expect_dim);
    return ERR_OK;
}

int idx_faiss_read(struct idx_faiss **out, const char *path, int expect_dim, struct err *err)
{
    struct idx_faiss *f = NULL;
    FILE *fp = NULL;
    struct stat st;
    int64_t n = 0;
    int rc, hdr_dim = 0;
    *out = NULL;
    if (!path || !*path) return err_set(err, ERR_ARG, "faiss: empty index path");
    if ((rc = open_checked(path, &fp, &st, &hdr_dim, &n, err))) return rc;
    if ((rc = check_dim(path, hdr_dim, expect_dim, err))) goto fail;
    f = calloc(1, sizeof *f);
    if (!f) {
        rc = err_set(err, ERR_NOMEM, "%s: read index", path);
        goto fail;
    }
    if ((rc = load(fp, path, 0, hdr_dim, &f->index, err))) goto fail;
    f->dim = hdr_dim;
    fclose(fp);
    *out = f;
    return ERR_OK;
fail:
    if (fp) fclose(fp);
    idx_faiss_free(f);
    return rc;
}

int idx_faiss_peek(const char *path, int *dim, int64_t *ntotal, struct err *err)
{
    FILE *fp = NULL;
    struct stat st;
    *dim = 0;
    *ntotal = 0;
    if (!path || !*path) return err_set(err, ERR_ARG, "faiss: empty index path");
    int rc = open_checked(path, &fp, &st, dim, ntotal, err);
    if (fp) fclose(fp);
    return rc;
}

/* ---------------------------------------------------------------- the shared registry */

static int same_file(const struct idx_faiss_shared *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Drop one reference (registry lock held); the last frees the index (and its mapping). */
static void shared_release(struct idx_faiss_shared *sh)
{
    if (--sh->refs > 0) return;
    for (struct idx_faiss_shared **p = &reg_head; *p; p = &(*p)->next)
        if (*p == sh) {
            *p = sh->next;
            break;
        }
    faiss_Index_free(sh->index);
    free(sh);
}

int idx_faiss_open_shared(struct idx_faiss **out, const char *path, int expect_dim,
                          struct err *err)
{
    struct idx_faiss *f = NULL;
    struct idx_faiss_shared *sh = NULL;
    FILE *fp = NULL;
    struct stat st;
    int64_t n = 0;
    int rc, hdr_dim = 0, locked = 0;
    *out = NULL;
    if (!path || !*path) return err_set(err, ERR_ARG, "faiss: empty index path");
    if ((rc = open_checked(path, &fp, &st, &hdr_dim, &n, err))) return rc;
    if ((rc = check_dim(path, hdr_dim, expect_dim, err))) goto fail;
    if (!(f = calloc(1, sizeof *f))) {
        rc = err_set(err, ERR_NOMEM, "%s: open index", path);
        goto fail;
    }
    pthread_mutex_lock(&reg_lock);
    locked = 1;
    for (sh = reg_head; sh && !same_file(sh, &st); sh = sh->next) {}
    if (!sh) {
        /* Loaded under the lock: a second opener of the same file waits and shares the result. */
        if (!(sh = calloc(1, sizeof *sh))) {
            rc = err_set(err, ERR_NOMEM, "%s: open index", path);
            goto fail;
        }
        /* IO_FLAG_MMAP: IVF inverted lists are mapped from the file (read-only, shared pages),
         * not copied; other index types are read into memory once per process. */
        if ((rc = load(fp, path, IDX_FAISS_IO_MMAP, hdr_dim, &sh->index, err))) {
            free(sh);
            sh = NULL;
            goto fail;
        }
        sh->dev = st.st_dev;
        sh->ino = st.st_ino;
        sh->mtime = st.st_mtim;
        sh->size = st.st_size;
        sh->dim = hdr_dim;
        sh->next = reg_head;
        reg_head = sh;
        reg_loads++;
    }
    sh->refs++;
    pthread_mutex_unlock(&reg_lock);
    fclose(fp);
    f->index = sh->index;
    f->shared = sh;
    f->dim = sh->dim;
    *out = f;
    return ERR_OK;
fail:
    if (locked) pthread_mutex_unlock(&reg_lock);
    fclose(fp);
    free(f);
    return rc;
}

int64_t idx_faiss_shared_loads(void)
{
    pthread_mutex_lock(&reg_lock);
    int64_t n = reg_loads;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

int idx_faiss_is_shared(const struct idx_faiss *f)
{
    return f->shared != NULL;
}

const void *idx_faiss_shared_id(const struct idx_faiss *f)
{
    return f->shared;
}

int64_t idx_faiss_ntotal(const struct idx_faiss *f)
{
    return faiss_Index_ntotal(f->index);
}

int idx_faiss_dim(const struct idx_faiss *f)
{
    return f->dim;
}

/* ---------------------------------------------------------------- recall and nprobe */

struct idx_faiss_truth {
    int dim;
    int64_t nq, k;
    float *q;       /* (nq, dim) */
    int64_t *ids;   /* (nq, k) best first, -1 pads */
    float *sc;      /* (nq, k) */
    int64_t *bids;  /* (nq, k) scratch: one batch's answer */
    float *bsc;     /* (nq, k) */
};

void idx_faiss_truth_free(struct idx_faiss_truth *t)
{
    if (!t) return;
    free(t->q);
    free(t->ids);
    free(t->sc);
    free(t->bids);
    free(t->bsc);
    free(t);
}

int idx_faiss_truth_new(struct idx_faiss_truth **out, int dim, int64_t nq, const float *q,
                        int64_t k, struct err *err)
{
    *out = NULL;
    if (dim < 1 || dim > IDX_FAISS_MAX_DIM || nq < 1 || k < 1 || k > IDX_FAISS_MAX_K)
        return err_set(err, ERR_ARG, "faiss: truth dim %d nq %lld k %lld", dim, (long long)nq,
                       (long long)k);
    struct idx_faiss_truth *t = calloc(1, sizeof *t);
    size_t nk = (size_t)nq * (size_t)k;
    if (!t) return err_set(err, ERR_NOMEM, "faiss: truth");
    t->dim = dim;
    t->nq = nq;
    t->k = k;
    t->q = malloc((size_t)nq * (size_t)dim * sizeof *t->q);
    t->ids = malloc(nk * sizeof *t->ids);
    t->sc = malloc(nk * sizeof *t->sc);
    t->bids = malloc(nk * sizeof *t->bids);
    t->bsc = malloc(nk * sizeof *t->bsc);
    if (!t->q || !t->ids || !t->sc || !t->bids || !t->bsc) {
        idx_faiss_truth_free(t);
        return err_set(err, ERR_NOMEM, "faiss: truth");
    }
    memcpy(t->q, q, (size_t)nq * (size_t)dim * sizeof *t->q);
    for (size_t i = 0; i < nk; i++) t->ids[i] = -1, t->sc[i] = 0;
    *out = t;
    return ERR_OK;
}

int idx_faiss_truth_add(struct idx_faiss_truth *t, int64_t n, const float *vecs,
                        const int64_t *ids, struct err *err)
{
    struct idx_faiss *flat = NULL;
    int64_t k = t->k;
    if (n <= 0) return ERR_OK;
    int rc = idx_faiss_new(&flat, t->dim, "Flat", err);
    if (!rc) rc = idx_faiss_add(flat, n, vecs, ids, err);
    if (!rc) rc = idx_faiss_search(flat, t->nq, t->q, k, t->bsc, t->bids, err);
    idx_faiss_free(flat);
    if (rc) return rc;
    /* merge each query's two sorted lists (best first) into its first k */
    int64_t *mi = malloc((size_t)k * sizeof *mi);
    float *ms = malloc((size_t)k * sizeof *ms);
    if (!mi || !ms) {
        free(mi);
        free(ms);
        return err_set(err, ERR_NOMEM, "faiss: truth");
    }
    for (int64_t qi = 0; qi < t->nq; qi++) {
        int64_t *ai = t->ids + qi * k, *bi = t->bids + qi * k;
        float *as = t->sc + qi * k, *bs = t->bsc + qi * k;
        int64_t x = 0, y = 0;
        for (int64_t o = 0; o < k; o++) {
            int a_ok = x < k && ai[x] >= 0, b_ok = y < k && bi[y] >= 0;
            if (a_ok && (!b_ok || as[x] >= bs[y])) mi[o] = ai[x], ms[o] = as[x++];
            else if (b_ok) mi[o] = bi[y], ms[o] = bs[y++];
            else mi[o] = -1, ms[o] = 0;
        }
        memcpy(ai, mi, (size_t)k * sizeof *mi);
        memcpy(as, ms, (size_t)k * sizeof *ms);
    }
    free(mi);
    free(ms);
    return ERR_OK;
}

const int64_t *idx_faiss_truth_ids(const struct idx_faiss_truth *t)
{
    return t->ids;
}

/* Copy the first `want` ids of row (len k) other than `self` into out; returns how many. */
static int64_t row_without(const int64_t *row, int64_t k, int64_t self, int64_t want, int64_t *out)
{
    int64_t n = 0;
    for (int64_t i = 0; i < k && n < want; i++)
        if (row[i] >= 0 && row[i] != self) out[n++] = row[i];
    return n;
}

int idx_faiss_recall(struct idx_faiss *f, const struct idx_faiss_truth *t, const int64_t *self,
                     double *recall, struct err *err)
{
    int64_t k = t->k, want = self ? k - 1 : k;
    *recall = 0;
    if (want < 1) return err_set(err, ERR_ARG, "faiss: recall needs k >= 2 with self queries");
    int64_t *ids = malloc((size_t)t->nq * (size_t)k * sizeof *ids);
    float *sc = malloc((size_t)t->nq * (size_t)k * sizeof *sc);
    int64_t *e = malloc((size_t)want * sizeof *e);
    int64_t *a = malloc((size_t)want * sizeof *a);
    int rc = ERR_OK;
    if (!ids || !sc || !e || !a) {
        rc = err_set(err, ERR_NOMEM, "faiss: recall");
        goto out;
    }
    if ((rc = idx_faiss_search(f, t->nq, t->q, k, sc, ids, err))) goto out;
    int64_t hit = 0, total = 0;
    for (int64_t qi = 0; qi < t->nq; qi++) {
        int64_t s = self ? self[qi] : -2;
        int64_t ne = row_without(t->ids + qi * k, k, s, want, e);
        int64_t na = row_without(ids + qi * k, k, s, want, a);
        total += ne;
        for (int64_t i = 0; i < ne; i++)
            for (int64_t j = 0; j < na; j++)
                if (e[i] == a[j]) {
                    hit++;
                    break;
                }
    }
    *recall = total ? (double)hit / (double)total : 1.0;
out:
    free(ids);
    free(sc);
    free(e);
    free(a);
    return rc;
}

int idx_faiss_tune_nprobe(struct idx_faiss *f, const struct idx_faiss_truth *t, const int64_t *self,
                          double target, int64_t *nprobe, double *recall, struct err *err)
{
    int64_t nlist = idx_faiss_nlist(f);
    *nprobe = 0;
    *recall = 0;
    if (nlist < 1) return err_set(err, ERR_ARG, "faiss: nprobe needs an IVF index");
    if (!(target > 0 && target <= 1))
        return err_set(err, ERR_ARG, "faiss: recall target %g outside (0, 1]", target);
    int64_t lo = 0, hi = 0, p = 1; /* lo: largest tried below the target; hi: smallest reaching it */
    double r = 0, r_hi = 0;
    int rc;
    for (;;) {
        if ((rc = idx_faiss_set_param(f, "nprobe", (double)p, err)) ||
            (rc = idx_faiss_recall(f, t, self, &r, err)))
            return rc;
        if (r >= target) {
            hi = p;
            r_hi = r;
            break;
        }
        lo = p;
        if (p == nlist) break;
        p = p * 2 < nlist ? p * 2 : nlist;
    }
    if (!hi) {
        /* never reached (PQ rounding caps recall): the smallest nprobe within
         * IDX_FAISS_RECALL_SLACK of what probing every list gives, not all lists */
        if (r > IDX_FAISS_RECALL_SLACK) /* reached at nlist at the latest: no deeper recursion */
            return idx_faiss_tune_nprobe(f, t, self, r - IDX_FAISS_RECALL_SLACK, nprobe, recall, err);
        *nprobe = nlist; /* f is at nlist already */
        *recall = r;
        return ERR_OK;
    }
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((rc = idx_faiss_set_param(f, "nprobe", (double)mid, err)) ||
            (rc = idx_faiss_recall(f, t, self, &r, err)))
            return rc;
        if (r >= target) hi = mid, r_hi = r;
        else lo = mid;
    }
    if ((rc = idx_faiss_set_param(f, "nprobe", (double)hi, err))) return rc;
    *nprobe = hi;
    *recall = r_hi;
    return ERR_OK;
}

