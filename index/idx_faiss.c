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

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

struct idx_faiss {
    FaissIndex *index;
    FaissParameterSpace *params; /* made on the first idx_faiss_set_param() */
    int dim;
};

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

void idx_faiss_free(struct idx_faiss *f)
{
    if (!f) return;
    if (f->params) faiss_ParameterSpace_free(f->params);
    if (f->index) faiss_Index_free(f->index);
    free(f);
}

int idx_faiss_is_trained(const struct idx_faiss *f)
{
    return faiss_Index_is_trained(f->index) != 0;
}

int idx_faiss_train(struct idx_faiss *f, int64_t n, const float *vecs, struct err *err)
{
    if (n < 0) return err_set(err, ERR_ARG, "faiss: train n=%lld", (long long)n);
    if (faiss_Index_train(f->index, n, vecs) != 0)
        return err_set(err, ERR_FAISS, "faiss: train n=%lld: %s", (long long)n, faiss_msg());
    return ERR_OK;
}

int idx_faiss_add(struct idx_faiss *f, int64_t n, const float *vecs, const int64_t *ids,
                  struct err *err)
{
    if (n < 0) return err_set(err, ERR_ARG, "faiss: add n=%lld", (long long)n);
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
    if (faiss_Index_search(f->index, nq, q, k, scores, ids) != 0) /* scores, ids: (nq, k) */
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

int idx_faiss_set_param(struct idx_faiss *f, const char *name, double value, struct err *err)
{
    if (!name || !*name) return err_set(err, ERR_ARG, "faiss: empty parameter name");
    if (!f->params && faiss_ParameterSpace_new(&f->params) != 0)
        return err_set(err, ERR_FAISS, "faiss: parameter space: %s", faiss_msg());
    if (faiss_ParameterSpace_set_index_parameter(f->params, f->index, name, value) != 0)
        return err_set(err, ERR_FAISS, "faiss: set %.64s=%g: %s", name, value, faiss_msg());
    return ERR_OK;
}

int idx_faiss_write(struct idx_faiss *f, const char *path, struct err *err)
{
    struct file_atomic fa = {0};
    int rc;
    if (!path || !*path || strlen(path) >= PATH_MAX)
        return err_set(err, ERR_ARG, "faiss: index path empty or too long");
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

/* Check that `path` starts like a FAISS float index; *dim gets its dimension.
 * Errors: ERR_NOTFOUND, ERR_IO, ERR_CORRUPT, ERR_MISMATCH (metric other than inner product). */
static int check_header(const char *path, int *dim, struct err *err)
{
    unsigned char h[HDR_SIZE];
    struct stat st;
    /* stat first: opening a FIFO or a device could block or have side effects. */
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return err_set(err, ERR_NOTFOUND, "%s: no such vector index", path);
        return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) return err_set(err, ERR_CORRUPT, "%s: not a regular file", path);
    FILE *fp = fopen(path, "rb");
    if (!fp) return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
    size_t got = fread(h, 1, sizeof h, fp);
    fclose(fp);

    /* fourcc: 'I' then three letters/digits ("IxM2", "IwSq", "IHNf", ...). */
    int fourcc_ok = got < 1 || h[0] == 'I';
    for (size_t i = 1; i < 4 && i < got; i++)
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
              (h[i] >= '0' && h[i] <= '9')))
            fourcc_ok = 0;
    if (!fourcc_ok) return err_set(err, ERR_CORRUPT, "%s: not a FAISS vector index", path);
    if (got < sizeof h)
        return err_set(err, ERR_CORRUPT, "%s: truncated FAISS index (%zu bytes)", path, got);
    int32_t d = get_i32(h + 4), metric = get_i32(h + 33);
    int64_t ntotal = get_i64(h + 8);
    if (get_i64(h + 16) != HDR_DUMMY || get_i64(h + 24) != HDR_DUMMY || h[32] > 1 || d < 1 ||
        d > IDX_FAISS_MAX_DIM || ntotal < 0)
        return err_set(err, ERR_CORRUPT, "%s: not a FAISS vector index", path);
    /* Every stored vector takes at least one byte of code after the header. */
    if (ntotal > (int64_t)st.st_size - HDR_SIZE)
        return err_set(err, ERR_CORRUPT, "%s: truncated FAISS index (%lld bytes for %lld vectors)",
                       path, (long long)st.st_size, (long long)ntotal);
    if (metric != METRIC_INNER_PRODUCT)
        return err_set(err, ERR_MISMATCH, "%s: FAISS index uses metric %d, not inner product",
                       path, (int)metric);
    *dim = d;
    return ERR_OK;
}

int idx_faiss_read(struct idx_faiss **out, const char *path, int expect_dim, struct err *err)
{
    struct idx_faiss *f = NULL;
    int rc, hdr_dim = 0;
    *out = NULL;
    if (!path || !*path) return err_set(err, ERR_ARG, "faiss: empty index path");
    rc = check_header(path, &hdr_dim, err);
    if (rc != ERR_OK) return rc;
    if (expect_dim > 0 && hdr_dim != expect_dim)
        return err_set(err, ERR_MISMATCH, "%s: vectors have %d dimensions, expected %d", path,
                       hdr_dim, expect_dim);

    f = calloc(1, sizeof *f);
    if (!f) return err_set(err, ERR_NOMEM, "%s: read index", path);
    if (faiss_read_index_fname(path, 0, &f->index) != 0 || !f->index) {
        /* The header was fine, so FAISS failing means truncated or damaged contents. */
        rc = err_set(err, ERR_CORRUPT, "%s: damaged FAISS index: %s", path, faiss_msg());
        goto fail;
    }
    f->dim = faiss_Index_d(f->index);
    if (f->dim != hdr_dim) {
        rc = err_set(err, ERR_CORRUPT, "%s: header says %d dimensions, index has %d", path, hdr_dim,
                     f->dim);
        goto fail;
    }
    *out = f;
    return ERR_OK;
fail:
    idx_faiss_free(f);
    return rc;
}

int64_t idx_faiss_ntotal(const struct idx_faiss *f)
{
    return faiss_Index_ntotal(f->index);
}

int idx_faiss_dim(const struct idx_faiss *f)
{
    return f->dim;
}
