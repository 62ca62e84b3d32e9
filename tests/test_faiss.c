/* test_faiss.c - the FAISS vector index wrapper: build, search, remove, IVF, atomic files, bad files. */
#include "test.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/idx_faiss.h"

/* FAISS 1.7.3's read_index() leaks the half-built index when a damaged file makes it throw (raw
 * `new` before the reads; upstream marks it "// leak!"). Reads of damaged files in these tests run
 * with LeakSanitizer paused so that only those allocations are exempt; every other read is checked. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(T_LSAN)
#include <sanitizer/lsan_interface.h>
#define FAISS_LEAKY(stmt) (__lsan_disable(), (stmt), __lsan_enable())
#else
#define FAISS_LEAKY(stmt) (stmt)
#endif

/* xorshift64*: a seeded generator so every run sees the same vectors. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static float rng_unit(uint64_t *s) /* uniform in [-1, 1) */
{
    return (float)((double)(rng_next(s) >> 11) / (double)(1ULL << 52) - 1.0);
}

/* n random unit vectors of dimension dim, malloc'ed (n, dim). */
static float *rand_vecs(int64_t n, int dim, uint64_t seed)
{
    float *v = malloc((size_t)n * (size_t)dim * sizeof *v);
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    if (!v) return NULL;
    for (int64_t i = 0; i < n; i++) {
        float *x = v + i * dim;
        double norm = 0;
        for (int j = 0; j < dim; j++) {
            x[j] = rng_unit(&s);
            norm += (double)x[j] * x[j];
        }
        for (int j = 0; j < dim; j++) x[j] = (float)(x[j] / sqrt(norm));
    }
    return v;
}

/* Passage-like ids: not 0..n-1, so a lost id map shows. */
static int64_t *make_ids(int64_t n)
{
    int64_t *ids = malloc((size_t)n * sizeof *ids);
    if (!ids) return NULL;
    for (int64_t i = 0; i < n; i++) ids[i] = 1000 + 7 * i;
    return ids;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* How many entries of folder `dir` start with `prefix` (temporary files left behind). */
static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d) return -1;
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, prefix, strlen(prefix))) n++;
    closedir(d);
    return n;
}

/* A built flat index of n vectors of dim 16 (ids from make_ids), written to dir/name. */
static int build_flat_file(const char *path, int64_t n, struct err *e)
{
    struct idx_faiss *f = NULL;
    float *v = rand_vecs(n, 16, 3);
    int64_t *ids = make_ids(n);
    int rc = ERR_NOMEM;
    if (v && ids && (rc = idx_faiss_new(&f, 16, "Flat", e)) == ERR_OK &&
        (rc = idx_faiss_add(f, n, v, ids, e)) == ERR_OK)
        rc = idx_faiss_write(f, path, e);
    idx_faiss_free(f);
    free(v);
    free(ids);
    return rc;
}

TEST(faiss_flat_roundtrip)
{
    const int dim = 32;
    const int64_t n = 500, k = 5;
    struct err e = {0};
    struct idx_faiss *f = NULL, *g = NULL;
    float *v = rand_vecs(n, dim, 1);
    int64_t *ids = make_ids(n);
    float scores[500 * 5], scores2[500 * 5];
    int64_t got[500 * 5], got2[500 * 5];
    REQUIRE(v && ids);
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, IDX_FAISS_FILE_NAME);
    snprintf(tmp, sizeof tmp, "%s.tmp", path); /* the fixed name of old: never used */

    REQUIRE_OK(idx_faiss_new(&f, dim, "Flat", &e), e);
    CHECK(idx_faiss_is_trained(f));
    CHECK(idx_faiss_dim(f) == dim);
    REQUIRE_OK(idx_faiss_add(f, n, v, ids, &e), e);
    CHECK(idx_faiss_ntotal(f) == n);

    /* Exact search: each vector's best match is itself with inner product 1. */
    REQUIRE_OK(idx_faiss_search(f, n, v, k, scores, got, &e), e);
    int self = 0;
    for (int64_t i = 0; i < n; i++) {
        if (got[i * k] == ids[i] && fabsf(scores[i * k] - 1.0f) < 1e-4f) self++;
        CHECK(scores[i * k] >= scores[i * k + 1]); /* best first */
    }
    CHECK(self == n);

    /* A file already at the fixed name path.tmp (another writer's, or one left by an old
     * version) is neither used nor removed: temporary names are unique. */
    FILE *other = fopen(tmp, "wb");
    REQUIRE(other);
    fputs("another writer", other);
    fclose(other);
    REQUIRE_OK(idx_faiss_write(f, path, &e), e);
    CHECK(file_exists(path));
    /* Overwriting an existing file works the same way; no temporary file is left either time. */
    REQUIRE_OK(idx_faiss_write(f, path, &e), e);
    CHECK(count_prefixed(dir, IDX_FAISS_FILE_NAME ".tmp") == 1); /* only the foreign one */
    struct stat ost;
    CHECK(stat(tmp, &ost) == 0 && ost.st_size == (off_t)strlen("another writer"));
    unlink(tmp);

    REQUIRE_OK(idx_faiss_read(&g, path, dim, &e), e);
    CHECK(idx_faiss_ntotal(g) == n);
    CHECK(idx_faiss_dim(g) == dim);
    REQUIRE_OK(idx_faiss_search(g, n, v, k, scores2, got2, &e), e);
    CHECK(memcmp(got, got2, sizeof got) == 0);
    CHECK(memcmp(scores, scores2, sizeof scores) == 0);

    idx_faiss_free(f);
    idx_faiss_free(g);
    free(v);
    free(ids);
}

TEST(faiss_remove)
{
    const int dim = 24;
    const int64_t n = 300;
    struct err e = {0};
    struct idx_faiss *f = NULL, *g = NULL;
    float *v = rand_vecs(n, dim, 2);
    int64_t *ids = make_ids(n);
    float sc[10];
    int64_t got[10], removed = -1;
    REQUIRE(v && ids);
    REQUIRE_OK(idx_faiss_new(&f, dim, "IDMap2,Flat", &e), e);
    REQUIRE_OK(idx_faiss_add(f, n, v, ids, &e), e);

    /* Remove every 10th vector plus two ids that were never added. */
    int64_t gone[32];
    int ng = 0;
    for (int64_t i = 0; i < n; i += 10) gone[ng++] = ids[i];
    gone[ng++] = 5;
    gone[ng++] = 999999;
    REQUIRE_OK(idx_faiss_remove(f, ng, gone, &removed, &e), e);
    CHECK(removed == 30);
    CHECK(idx_faiss_ntotal(f) == n - 30);

    /* A removed vector no longer finds itself; a kept one still does. */
    for (int64_t i = 0; i < n; i += 10) {
        REQUIRE_OK(idx_faiss_search(f, 1, v + i * dim, 10, sc, got, &e), e);
        for (int j = 0; j < 10; j++) CHECK(got[j] != ids[i]);
        CHECK(sc[0] < 0.999f);
    }
    REQUIRE_OK(idx_faiss_search(f, 1, v + 11 * dim, 1, sc, got, &e), e);
    CHECK(got[0] == ids[11]);

    /* Removal survives a write/read. */
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/v.faiss", dir);
    REQUIRE_OK(idx_faiss_write(f, path, &e), e);
    REQUIRE_OK(idx_faiss_read(&g, path, dim, &e), e);
    CHECK(idx_faiss_ntotal(g) == n - 30);
    REQUIRE_OK(idx_faiss_search(g, 1, v + 20 * dim, 10, sc, got, &e), e);
    for (int j = 0; j < 10; j++) CHECK(got[j] != ids[20]);

    /* Removing nothing, and removing again, removes nothing. */
    REQUIRE_OK(idx_faiss_remove(f, 0, gone, &removed, &e), e);
    CHECK(removed == 0);
    REQUIRE_OK(idx_faiss_remove(f, ng, gone, &removed, &e), e);
    CHECK(removed == 0);
    CHECK(idx_faiss_ntotal(f) == n - 30);

    idx_faiss_free(f);
    idx_faiss_free(g);
    free(v);
    free(ids);
}

/* Fraction of the exact top-k ids (ex) that approximate results (ap) found, over nq queries. */
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

TEST(faiss_ivf)
{
    enum { DIM = 32, NQ = 100, K = 10, NLIST = 32 };
    const int64_t n = 4000;
    struct err e = {0};
    struct idx_faiss *flat = NULL, *ivf = NULL, *back = NULL;
    float *v = rand_vecs(n, DIM, 4), *q = rand_vecs(NQ, DIM, 5);
    int64_t *ids = make_ids(n);
    static float sc[NQ * K];
    static int64_t ex[NQ * K], ap1[NQ * K], ap8[NQ * K], apall[NQ * K], apback[NQ * K];
    REQUIRE(v && q && ids);

    REQUIRE_OK(idx_faiss_new(&flat, DIM, "Flat", &e), e);
    REQUIRE_OK(idx_faiss_add(flat, n, v, ids, &e), e);
    REQUIRE_OK(idx_faiss_search(flat, NQ, q, K, sc, ex, &e), e);

    REQUIRE_OK(idx_faiss_new(&ivf, DIM, "IVF32,SQ8", &e), e);
    CHECK(!idx_faiss_is_trained(ivf));
    CHECK(idx_faiss_add(ivf, n, v, ids, &e) == ERR_FAISS); /* not trained yet */
    CHECK(t_contains(e.msg, "add n=4000"));
    REQUIRE_OK(idx_faiss_train(ivf, n, v, &e), e);
    CHECK(idx_faiss_is_trained(ivf));
    REQUIRE_OK(idx_faiss_add(ivf, n, v, ids, &e), e);
    CHECK(idx_faiss_ntotal(ivf) == n);

    REQUIRE_OK(idx_faiss_set_param(ivf, "nprobe", 1, &e), e);
    REQUIRE_OK(idx_faiss_search(ivf, NQ, q, K, sc, ap1, &e), e);
    REQUIRE_OK(idx_faiss_set_param(ivf, "nprobe", 8, &e), e);
    REQUIRE_OK(idx_faiss_search(ivf, NQ, q, K, sc, ap8, &e), e);
    REQUIRE_OK(idx_faiss_set_param(ivf, "nprobe", NLIST, &e), e);
    REQUIRE_OK(idx_faiss_search(ivf, NQ, q, K, sc, apall, &e), e);
    double r1 = recall(ex, ap1, NQ, K), r8 = recall(ex, ap8, NQ, K),
           rall = recall(ex, apall, NQ, K);
    fprintf(stderr, "  recall@10 IVF32,SQ8: nprobe 1 %.3f, 8 %.3f, 32 %.3f\n", r1, r8, rall);
    CHECK(r1 < r8);       /* more lists probed, more found */
    CHECK(r8 >= 0.6);
    CHECK(rall >= 0.9);   /* every list probed: only SQ8 rounding loses neighbours */
    CHECK(r1 < 0.6);      /* nprobe really took effect */

    /* IVF stores our ids itself: results are passage ids, and a vector finds itself. */
    REQUIRE_OK(idx_faiss_search(ivf, 1, v + 77 * DIM, K, sc, ap1, &e), e);
    CHECK(ap1[0] == ids[77]);

    /* Written and read back, the index answers the same; nprobe is not stored, so set it again. */
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/ivf.faiss", dir);
    REQUIRE_OK(idx_faiss_write(ivf, path, &e), e);
    REQUIRE_OK(idx_faiss_read(&back, path, DIM, &e), e);
    REQUIRE_OK(idx_faiss_set_param(back, "nprobe", NLIST, &e), e);
    REQUIRE_OK(idx_faiss_search(back, NQ, q, K, sc, apback, &e), e);
    CHECK(memcmp(apall, apback, sizeof apall) == 0);

    /* IVF removes by id too. */
    int64_t removed = 0;
    REQUIRE_OK(idx_faiss_remove(back, 3, ids, &removed, &e), e);
    CHECK(removed == 3);
    CHECK(idx_faiss_ntotal(back) == n - 3);

    /* Too few training points for the number of lists is a FAISS error, not a crash. */
    struct idx_faiss *small = NULL;
    REQUIRE_OK(idx_faiss_new(&small, DIM, "IVF64,Flat", &e), e);
    CHECK(idx_faiss_train(small, 10, v, &e) == ERR_FAISS);
    CHECK(t_contains(e.msg, "train n=10"));
    idx_faiss_free(small);

    idx_faiss_free(flat);
    idx_faiss_free(ivf);
    idx_faiss_free(back);
    free(v);
    free(q);
    free(ids);
}

TEST(faiss_hnsw_wrapped)
{
    const int dim = 16;
    const int64_t n = 400;
    struct err e = {0};
    struct idx_faiss *f = NULL;
    float *v = rand_vecs(n, dim, 6);
    int64_t *ids = make_ids(n);
    float sc[4];
    int64_t got[4], removed = 0;
    REQUIRE(v && ids);
    /* HNSW cannot keep ids itself: the wrapper adds IDMap2, so our ids come back. */
    REQUIRE_OK(idx_faiss_new(&f, dim, "HNSW16", &e), e);
    REQUIRE_OK(idx_faiss_add(f, n, v, ids, &e), e);
    REQUIRE_OK(idx_faiss_set_param(f, "efSearch", 64, &e), e);
    REQUIRE_OK(idx_faiss_search(f, 1, v + 9 * dim, 4, sc, got, &e), e);
    CHECK(got[0] == ids[9]);
    /* HNSW cannot remove: an error with context, not a crash. */
    CHECK(idx_faiss_remove(f, 1, ids, &removed, &e) == ERR_FAISS);
    CHECK(t_contains(e.msg, "remove n=1"));
    CHECK(idx_faiss_ntotal(f) == n);
    idx_faiss_free(f);
    free(v);
    free(ids);
}

TEST(faiss_bad_args)
{
    struct err e = {0};
    struct idx_faiss *f = NULL;
    float v[8 * 3] = {0}, sc[5];
    int64_t ids[3] = {1, -1, 3}, got[5];
    v[0] = 1;
    v[9] = 1; /* vector 1 is e1, orthogonal to vector 0 */
    CHECK(idx_faiss_new(&f, 0, "Flat", &e) == ERR_ARG && !f);
    CHECK(idx_faiss_new(&f, 8, "", &e) == ERR_ARG && !f);
    CHECK(idx_faiss_new(&f, 8, "NoSuchIndex99", &e) == ERR_FAISS && !f);
    CHECK(t_contains(e.msg, "NoSuchIndex99"));
    REQUIRE_OK(idx_faiss_new(&f, 8, "Flat", &e), e);
    CHECK(idx_faiss_add(f, 3, v, ids, &e) == ERR_ARG); /* -1 is reserved for padding */
    CHECK(idx_faiss_ntotal(f) == 0);
    ids[1] = 2;
    REQUIRE_OK(idx_faiss_add(f, 2, v, ids, &e), e);
    CHECK(idx_faiss_search(f, 1, v, 0, sc, got, &e) == ERR_ARG);
    CHECK(idx_faiss_search(f, 1, v, IDX_FAISS_MAX_K + 1, sc, got, &e) == ERR_ARG);
    /* k larger than the index: the rest is padded with -1. */
    REQUIRE_OK(idx_faiss_search(f, 1, v, 5, sc, got, &e), e);
    CHECK(got[0] == 1 && got[1] == 2 && got[2] == -1 && got[3] == -1 && got[4] == -1);
    /* Flat has no nprobe. */
    CHECK(idx_faiss_set_param(f, "nprobe", 4, &e) == ERR_FAISS);
    CHECK(t_contains(e.msg, "nprobe"));
    CHECK(idx_faiss_set_param(f, "", 4, &e) == ERR_ARG);
    idx_faiss_free(f);
    idx_faiss_free(NULL);
}

TEST(faiss_missing_and_mismatch)
{
    struct err e = {0};
    struct idx_faiss *f = (struct idx_faiss *)&e; /* must be reset to NULL */
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/none.faiss", dir);
    CHECK(idx_faiss_read(&f, path, 16, &e) == ERR_NOTFOUND);
    CHECK(f == NULL);
    CHECK(t_contains(e.msg, path));

    snprintf(path, sizeof path, "%s/v.faiss", dir);
    REQUIRE_OK(build_flat_file(path, 50, &e), e);
    CHECK(idx_faiss_read(&f, path, 32, &e) == ERR_MISMATCH);
    CHECK(f == NULL);
    CHECK(t_contains(e.msg, path) && t_contains(e.msg, "16") && t_contains(e.msg, "32"));
    REQUIRE_OK(idx_faiss_read(&f, path, 0, &e), e); /* 0: any dimension */
    CHECK(idx_faiss_dim(f) == 16 && idx_faiss_ntotal(f) == 50);
    idx_faiss_free(f);
    f = NULL;

    /* An L2 index (metric 1 in the header) does not give inner products: refused. */
    size_t len = 0;
    char *data = t_read(path, &len);
    REQUIRE(data && len > 40);
    data[33] = 1;
    const char *l2 = t_write(t_, dir, "l2.faiss", data, len);
    free(data);
    REQUIRE(l2);
    CHECK(idx_faiss_read(&f, l2, 16, &e) == ERR_MISMATCH);
    CHECK(f == NULL);
    CHECK(t_contains(e.msg, "metric"));
}

TEST(faiss_truncated)
{
    struct err e = {0};
    struct idx_faiss *f = NULL;
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/v.faiss", dir);
    REQUIRE_OK(build_flat_file(path, 40, &e), e);
    size_t len = 0;
    char *data = t_read(path, &len);
    REQUIRE(data && len > 100);
    /* Cut inside the fourcc, inside the header, just after it, in the middle, one byte short. */
    size_t cuts[] = {0, 3, 20, 37, 41, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "cut%zu.faiss", cuts[i]);
        const char *p = t_write(t_, dir, name, data, cuts[i]);
        REQUIRE(p);
        int rc = -1;
        FAISS_LEAKY(rc = idx_faiss_read(&f, p, 16, &e));
        if (rc != ERR_CORRUPT) fprintf(stderr, "  cut at %zu: rc %d (%s)\n", cuts[i], rc, e.msg);
        CHECK(rc == ERR_CORRUPT);
        CHECK(f == NULL);
        CHECK(t_contains(e.msg, p));
        /* Short files are caught by our header check, longer ones by FAISS's reads. */
        CHECK(t_contains(e.msg, cuts[i] < 100 ? "truncated" : "damaged"));
    }
    /* The untouched copy still reads. */
    const char *whole = t_write(t_, dir, "whole.faiss", data, len);
    REQUIRE(whole);
    REQUIRE_OK(idx_faiss_read(&f, whole, 16, &e), e);
    idx_faiss_free(f);
    free(data);
}

TEST(faiss_foreign)
{
    struct err e = {0};
    struct idx_faiss *f = NULL;
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    static char noise[8192];
    uint64_t s = 42;
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (char)(rng_next(&s) >> 56);
    const char *text = "# my notes\nThis is not a vector index, just some text that is long enough "
                       "to cover a FAISS header and then some more.\n";
    const char *files[] = {
        t_write(t_, dir, "noise.faiss", noise, sizeof noise),
        t_write(t_, dir, "notes.txt", text, strlen(text)),
        t_write(t_, dir, "Ixxx.faiss", "IxM2 and then a lot of text, not numbers, at all......", 54),
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        REQUIRE(files[i]);
        CHECK(idx_faiss_read(&f, files[i], 16, &e) == ERR_CORRUPT);
        CHECK(f == NULL);
        CHECK(t_contains(e.msg, files[i]));
        CHECK(t_contains(e.msg, "not a FAISS"));
    }
    /* A folder is not an index either, and a FIFO is refused without blocking on it. */
    CHECK(idx_faiss_read(&f, dir, 16, &e) == ERR_CORRUPT);
    char fifo[4096];
    snprintf(fifo, sizeof fifo, "%s/fifo.faiss", dir);
    REQUIRE(mkfifo(fifo, 0600) == 0);
    CHECK(idx_faiss_read(&f, fifo, 16, &e) == ERR_CORRUPT);

    /* A real header followed by noise: FAISS itself throws, and that comes back as ERR_CORRUPT. */
    char path[4096];
    snprintf(path, sizeof path, "%s/v.faiss", dir);
    REQUIRE_OK(build_flat_file(path, 40, &e), e);
    size_t len = 0;
    char *data = t_read(path, &len);
    REQUIRE(data && len > 64);
    memcpy(data + 41, noise, 16); /* the inner Flat index's d and ntotal (after IxM2 hdr + IxFI) */
    const char *bad = t_write(t_, dir, "garbled.faiss", data, len);
    REQUIRE(bad);
    int rc = -1;
    FAISS_LEAKY(rc = idx_faiss_read(&f, bad, 16, &e));
    CHECK(rc == ERR_CORRUPT);
    CHECK(f == NULL);
    CHECK(t_contains(e.msg, "damaged"));
    free(data);
}

TEST(faiss_write_fails_cleanly)
{
    struct err e = {0};
    struct idx_faiss *f = NULL, *g = NULL;
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char path[4096], tmp[4200], busy[4200], inner[4300], missing[4200];
    snprintf(path, sizeof path, "%s/v.faiss", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    REQUIRE_OK(build_flat_file(path, 30, &e), e);

    /* The old fixed name path.tmp is taken by a folder: it no longer matters. */
    REQUIRE(mkdir(tmp, 0755) == 0);
    REQUIRE_OK(idx_faiss_new(&f, 16, "Flat", &e), e);
    REQUIRE_OK(idx_faiss_write(f, path, &e), e);
    REQUIRE_OK(idx_faiss_read(&g, path, 16, &e), e);
    CHECK(idx_faiss_ntotal(g) == 0);
    idx_faiss_free(g);
    g = NULL;
    rmdir(tmp);

    /* The destination is a folder that is not empty: the rename fails, the error names it, the
     * folder is left as it was and no temporary file stays behind. */
    snprintf(busy, sizeof busy, "%s/busy.faiss", dir);
    snprintf(inner, sizeof inner, "%s/keep", busy);
    REQUIRE(mkdir(busy, 0755) == 0);
    FILE *k = fopen(inner, "wb");
    REQUIRE(k);
    fclose(k);
    CHECK(idx_faiss_write(f, busy, &e) == ERR_IO);
    CHECK(t_contains(e.msg, busy));
    CHECK(file_exists(inner));
    CHECK(count_prefixed(dir, "busy.faiss.tmp") == 0);
    unlink(inner);
    rmdir(busy);

    /* A folder that does not exist. */
    snprintf(missing, sizeof missing, "%s/no/such/dir/v.faiss", dir);
    CHECK(idx_faiss_write(f, missing, &e) == ERR_IO);
    idx_faiss_free(f);
}

/* 1 when `path` is memory-mapped in this process (/proc/self/maps names it). */
static int mapped(const char *path)
{
    FILE *m = fopen("/proc/self/maps", "r");
    char line[8192];
    int found = 0;
    if (!m) return -1;
    while (!found && fgets(line, sizeof line, m))
        if (strstr(line, path)) found = 1;
    fclose(m);
    return found;
}

/* Shared handles: one load per file, IVF lists mapped from the file, each handle's own nprobe
 * (also under a pre-transform), read-only, and a replaced file is a new copy. */
TEST(faiss_shared_registry)
{
    enum { DIM = 32, NQ = 50, K = 10 };
    const int64_t n = 3000;
    struct err e = {0};
    struct idx_faiss *ivf = NULL, *a = NULL, *b = NULL, *c = NULL, *priv = NULL;
    float *v = rand_vecs(n, DIM, 11), *q = rand_vecs(NQ, DIM, 12);
    int64_t *ids = make_ids(n);
    static float sc[NQ * K];
    static int64_t ra[NQ * K], rb[NQ * K], rp[NQ * K];
    REQUIRE(v && q && ids);
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/shared.faiss", dir);
    REQUIRE_OK(idx_faiss_new(&ivf, DIM, "IVF16,Flat", &e), e);
    REQUIRE_OK(idx_faiss_train(ivf, n, v, &e), e);
    REQUIRE_OK(idx_faiss_add(ivf, n, v, ids, &e), e);
    REQUIRE_OK(idx_faiss_write(ivf, path, &e), e);
    CHECK(idx_faiss_nlist(ivf) == 16);

    int64_t loads0 = idx_faiss_shared_loads();
    CHECK(mapped(path) == 0);
    REQUIRE_OK(idx_faiss_open_shared(&a, path, DIM, &e), e);
    REQUIRE_OK(idx_faiss_open_shared(&b, path, DIM, &e), e);
    CHECK(idx_faiss_shared_loads() == loads0 + 1);
    CHECK(idx_faiss_is_shared(a) && !idx_faiss_is_shared(ivf));
    CHECK(idx_faiss_shared_id(a) == idx_faiss_shared_id(b));
    CHECK(idx_faiss_ntotal(a) == n && idx_faiss_nlist(a) == 16);
    CHECK(mapped(path) == 1); /* the inverted lists are the file's pages */

    /* nprobe per handle: a probes 1 list, b all 16; neither changes the other. */
    REQUIRE_OK(idx_faiss_set_param(a, "nprobe", 1, &e), e);
    REQUIRE_OK(idx_faiss_set_param(b, "nprobe", 16, &e), e);
    REQUIRE_OK(idx_faiss_search(a, NQ, q, K, sc, ra, &e), e);
    REQUIRE_OK(idx_faiss_search(b, NQ, q, K, sc, rb, &e), e);
    REQUIRE_OK(idx_faiss_read(&priv, path, DIM, &e), e);
    REQUIRE_OK(idx_faiss_set_param(priv, "nprobe", 16, &e), e);
    REQUIRE_OK(idx_faiss_search(priv, NQ, q, K, sc, rp, &e), e);
    CHECK(memcmp(rb, rp, sizeof rb) == 0); /* same answers as a private copy */
    CHECK(memcmp(ra, rb, sizeof ra) != 0); /* a's nprobe 1 took effect */
    REQUIRE_OK(idx_faiss_set_param(priv, "nprobe", 1, &e), e);
    REQUIRE_OK(idx_faiss_search(priv, NQ, q, K, sc, rp, &e), e);
    CHECK(memcmp(ra, rp, sizeof ra) == 0);

    /* read-only */
    CHECK(idx_faiss_add(a, 1, v, ids, &e) == ERR_ARG && t_contains(e.msg, "shared"));
    CHECK(idx_faiss_remove(a, 1, ids, NULL, &e) == ERR_ARG);
    CHECK(idx_faiss_train(a, n, v, &e) == ERR_ARG);
    CHECK(idx_faiss_write(a, path, &e) == ERR_ARG);

    /* The file replaced (rename: a new inode): a new handle loads the new file; a and b keep the
     * old copy. */
    REQUIRE_OK(idx_faiss_remove(ivf, 100, ids, NULL, &e), e);
    REQUIRE_OK(idx_faiss_write(ivf, path, &e), e);
    REQUIRE_OK(idx_faiss_open_shared(&c, path, DIM, &e), e);
    CHECK(idx_faiss_shared_loads() == loads0 + 2);
    CHECK(idx_faiss_shared_id(c) != idx_faiss_shared_id(a));
    CHECK(idx_faiss_ntotal(c) == n - 100 && idx_faiss_ntotal(a) == n);
    REQUIRE_OK(idx_faiss_search(a, NQ, q, K, sc, rp, &e), e);
    CHECK(memcmp(ra, rp, sizeof ra) == 0);
    idx_faiss_free(a);
    idx_faiss_free(b); /* the last reference to the old copy: unmapped */
    idx_faiss_free(c);
    CHECK(mapped(path) == 0);
    idx_faiss_free(priv);
    idx_faiss_free(ivf);
    ivf = NULL;

    /* nprobe through a pre-transform (PCA here; OPQ is one too, slower to train). */
    REQUIRE_OK(idx_faiss_new(&ivf, DIM, "PCA16,IVF16,Flat", &e), e);
    REQUIRE_OK(idx_faiss_train(ivf, n, v, &e), e);
    REQUIRE_OK(idx_faiss_add(ivf, n, v, ids, &e), e);
    CHECK(idx_faiss_nlist(ivf) == 16);
    REQUIRE_OK(idx_faiss_write(ivf, path, &e), e);
    REQUIRE_OK(idx_faiss_open_shared(&a, path, DIM, &e), e);
    REQUIRE_OK(idx_faiss_set_param(a, "nprobe", 1, &e), e);
    REQUIRE_OK(idx_faiss_search(a, NQ, q, K, sc, ra, &e), e);
    REQUIRE_OK(idx_faiss_set_param(a, "nprobe", 16, &e), e);
    REQUIRE_OK(idx_faiss_search(a, NQ, q, K, sc, rb, &e), e);
    CHECK(memcmp(ra, rb, sizeof ra) != 0);
    REQUIRE_OK(idx_faiss_set_param(ivf, "nprobe", 16, &e), e);
    REQUIRE_OK(idx_faiss_search(ivf, NQ, q, K, sc, rp, &e), e);
    CHECK(memcmp(rb, rp, sizeof rb) == 0);
    idx_faiss_free(a);
    idx_faiss_free(ivf);

    /* A flat file is shared too (read into memory once); it has no nprobe. */
    snprintf(path, sizeof path, "%s/flat.faiss", dir);
    REQUIRE_OK(build_flat_file(path, 40, &e), e);
    REQUIRE_OK(idx_faiss_open_shared(&a, path, 16, &e), e);
    REQUIRE_OK(idx_faiss_open_shared(&b, path, 16, &e), e);
    CHECK(idx_faiss_shared_id(a) == idx_faiss_shared_id(b) && idx_faiss_ntotal(b) == 40);
    CHECK(idx_faiss_set_param(a, "nprobe", 4, &e) == ERR_FAISS);
    idx_faiss_free(a);
    idx_faiss_free(b);
    free(v);
    free(q);
    free(ids);
}

/* The training rule: 39..256 points per list, sampled uniformly; fewer lists for a small corpus. */
TEST(faiss_train_rule)
{
    struct err e = {0};
    struct idx_faiss_plan p;
    /* enough points: the lists asked for, 256 per list */
    REQUIRE_OK(idx_faiss_plan("IVF1024,SQ8", 100, 1000000, &p, &e), e);
    CHECK(p.nlist == 1024 && p.requested == 1024 && p.train_n == 262144);
    CHECK(!strcmp(p.factory, "IVF1024,SQ8"));
    /* the corpus is the sample when it is smaller than 256 per list */
    REQUIRE_OK(idx_faiss_plan("IVF1024,SQ8", 100, 50000, &p, &e), e);
    CHECK(p.nlist == 1024 && p.train_n == 50000);
    /* fewer than 39 per list: fewer lists, the rest of the factory kept */
    REQUIRE_OK(idx_faiss_plan("IVF1024,SQ8", 100, 10000, &p, &e), e);
    CHECK(p.nlist == 10000 / 39 && p.train_n == 10000);
    CHECK(!strcmp(p.factory, "IVF256,SQ8"));
    REQUIRE_OK(idx_faiss_plan("IVF4096_HNSW32,Flat", 64, 20, &p, &e), e);
    CHECK(p.nlist == 1 && p.train_n == 20 && !strcmp(p.factory, "IVF1_HNSW32,Flat"));
    /* 30M passages, 32,768 lists, 384 dimensions: the memory cap (2 GiB of floats) still leaves
     * 39 per list; at 768 dimensions it does not, so the lists shrink to fit */
    REQUIRE_OK(idx_faiss_plan("IVF32768,SQ8", 384, 30000000, &p, &e), e);
    int64_t cap384 = IDX_FAISS_TRAIN_MAX_BYTES / (384 * 4), cap768 = IDX_FAISS_TRAIN_MAX_BYTES / (768 * 4);
    CHECK(p.nlist == 32768 && p.train_n == cap384);
    REQUIRE_OK(idx_faiss_plan("OPQ32,IVF32768,PQ32", 768, 30000000, &p, &e), e);
    CHECK(p.nlist == cap768 / 39 && p.train_n == cap768);
    CHECK(p.train_n >= p.nlist * IDX_FAISS_TRAIN_MIN_PER_LIST);
    /* PQ codebooks: at least 65,536 points even for few lists */
    REQUIRE_OK(idx_faiss_plan("IVF64,PQ16", 384, 1000000, &p, &e), e);
    CHECK(p.nlist == 64 && p.train_n == IDX_FAISS_TRAIN_PQ_MIN);
    /* no IVF layer */
    REQUIRE_OK(idx_faiss_plan("SQ8", 100, 500000, &p, &e), e);
    CHECK(p.nlist == 0 && p.train_n == IDX_FAISS_TRAIN_OTHER);
    CHECK(idx_faiss_plan("IVF,Flat", 100, 10, &p, &e) == ERR_ARG);
    CHECK(idx_faiss_plan("", 100, 10, &p, &e) == ERR_ARG);

    /* the sampler: exactly `want`, the same for the same seed, uniform over positions */
    enum { TOTAL = 100000, WANT = 10000 };
    static unsigned char a[TOTAL], b[TOTAL];
    struct idx_faiss_sampler s1, s2;
    idx_faiss_sampler_init(&s1, WANT, TOTAL, 7);
    idx_faiss_sampler_init(&s2, WANT, TOTAL, 7);
    int64_t taken = 0, decile[10] = {0};
    for (int i = 0; i < TOTAL; i++) {
        a[i] = (unsigned char)idx_faiss_sampler_take(&s1);
        b[i] = (unsigned char)idx_faiss_sampler_take(&s2);
        taken += a[i];
        decile[i / (TOTAL / 10)] += a[i];
    }
    CHECK(taken == WANT);
    CHECK(memcmp(a, b, sizeof a) == 0);
    for (int d = 0; d < 10; d++) CHECK(decile[d] > 850 && decile[d] < 1150); /* ~6 sigma */
    idx_faiss_sampler_init(&s1, WANT, TOTAL, 8);
    int same = 0;
    for (int i = 0; i < TOTAL; i++) same += idx_faiss_sampler_take(&s1) && a[i];
    CHECK(same < WANT / 2); /* another seed, another sample */
    idx_faiss_sampler_init(&s1, 50, 10, 1); /* more wanted than there are: all */
    taken = 0;
    for (int i = 0; i < 12; i++) taken += idx_faiss_sampler_take(&s1);
    CHECK(taken == 10);

    /* the plan trains where the factory as given would not: 500 points for 64 lists */
    float *v = rand_vecs(500, 16, 21);
    int64_t *ids = make_ids(500);
    struct idx_faiss *f = NULL;
    REQUIRE(v && ids);
    REQUIRE_OK(idx_faiss_plan("IVF64,Flat", 16, 500, &p, &e), e);
    CHECK(p.nlist == 12 && !strcmp(p.factory, "IVF12,Flat"));
    REQUIRE_OK(idx_faiss_new(&f, 16, p.factory, &e), e);
    REQUIRE_OK(idx_faiss_train(f, p.train_n, v, &e), e);
    REQUIRE_OK(idx_faiss_add(f, 500, v, ids, &e), e);
    CHECK(idx_faiss_nlist(f) == 12);
    idx_faiss_free(f);
    free(v);
    free(ids);
}

/* Exact truth from batches equals one exact search; nprobe chosen by a recall target is the
 * smallest that reaches it. */
TEST(faiss_tune_nprobe_by_recall)
{
    enum { DIM = 16, NQ = 60, K = 10, NLIST = 32 };
    const int64_t n = 4000;
    struct err e = {0};
    float *v = rand_vecs(n, DIM, 31), *q = rand_vecs(NQ, DIM, 32);
    int64_t *ids = make_ids(n);
    static float sc[NQ * K];
    static int64_t ex[NQ * K];
    struct idx_faiss *flat = NULL, *ivf = NULL;
    struct idx_faiss_truth *t = NULL;
    REQUIRE(v && q && ids);
    REQUIRE_OK(idx_faiss_new(&flat, DIM, "Flat", &e), e);
    REQUIRE_OK(idx_faiss_add(flat, n, v, ids, &e), e);
    REQUIRE_OK(idx_faiss_search(flat, NQ, q, K, sc, ex, &e), e);
    REQUIRE_OK(idx_faiss_truth_new(&t, DIM, NQ, q, K, &e), e);
    for (int64_t off = 0; off < n; off += 700) /* uneven batches */
        REQUIRE_OK(idx_faiss_truth_add(t, n - off < 700 ? n - off : 700, v + off * DIM, ids + off, &e), e);
    CHECK(memcmp(idx_faiss_truth_ids(t), ex, sizeof ex) == 0);
    double r = 0;
    REQUIRE_OK(idx_faiss_recall(flat, t, NULL, &r, &e), e);
    CHECK(r == 1.0);

    REQUIRE_OK(idx_faiss_new(&ivf, DIM, "IVF32,Flat", &e), e);
    REQUIRE_OK(idx_faiss_train(ivf, n, v, &e), e);
    REQUIRE_OK(idx_faiss_add(ivf, n, v, ids, &e), e);
    int64_t np = 0;
    double got = 0;
    REQUIRE_OK(idx_faiss_tune_nprobe(ivf, t, NULL, 0.9, &np, &got, &e), e);
    fprintf(stderr, "  recall target 0.9: nprobe %lld, recall@10 %.3f\n", (long long)np, got);
    CHECK(np > 1 && np < NLIST && got >= 0.9);
    /* the index keeps the chosen nprobe, and one fewer list misses the target */
    REQUIRE_OK(idx_faiss_recall(ivf, t, NULL, &r, &e), e);
    CHECK(r == got);
    REQUIRE_OK(idx_faiss_set_param(ivf, "nprobe", (double)(np - 1), &e), e);
    REQUIRE_OK(idx_faiss_recall(ivf, t, NULL, &r, &e), e);
    CHECK(r < 0.9);
    /* every list probed is exact search for IVF-Flat */
    REQUIRE_OK(idx_faiss_tune_nprobe(ivf, t, NULL, 1.0, &np, &got, &e), e);
    CHECK(np <= NLIST && got == 1.0);
    /* a target PQ cannot reach: where more lists stop helping, not every list */
    struct idx_faiss *pq = NULL;
    REQUIRE_OK(idx_faiss_new(&pq, DIM, "IVF32,PQ2x4np", &e), e);
    REQUIRE_OK(idx_faiss_train(pq, n, v, &e), e);
    REQUIRE_OK(idx_faiss_add(pq, n, v, ids, &e), e);
    REQUIRE_OK(idx_faiss_set_param(pq, "nprobe", NLIST, &e), e);
    double all = 0;
    REQUIRE_OK(idx_faiss_recall(pq, t, NULL, &all, &e), e);
    REQUIRE_OK(idx_faiss_tune_nprobe(pq, t, NULL, 0.99, &np, &got, &e), e);
    fprintf(stderr, "  PQ2x4: recall@10 %.3f with every list; chose nprobe %lld (%.3f)\n", all,
            (long long)np, got);
    CHECK(all < 0.99 && got >= all - IDX_FAISS_RECALL_SLACK && np < NLIST);
    idx_faiss_free(pq);
    CHECK(idx_faiss_tune_nprobe(flat, t, NULL, 0.9, &np, &got, &e) == ERR_ARG);
    CHECK(idx_faiss_tune_nprobe(ivf, t, NULL, 1.5, &np, &got, &e) == ERR_ARG);

    /* stored vectors as queries: their own id is left out of both lists */
    struct idx_faiss_truth *ts = NULL;
    int64_t self[NQ];
    for (int i = 0; i < NQ; i++) self[i] = ids[i * 50];
    float *sq = malloc((size_t)NQ * DIM * sizeof *sq);
    REQUIRE(sq);
    for (int i = 0; i < NQ; i++) memcpy(sq + i * DIM, v + (int64_t)i * 50 * DIM, DIM * sizeof *sq);
    REQUIRE_OK(idx_faiss_truth_new(&ts, DIM, NQ, sq, K + 1, &e), e);
    REQUIRE_OK(idx_faiss_truth_add(ts, n, v, ids, &e), e);
    CHECK(idx_faiss_truth_ids(ts)[0] == self[0]); /* a stored vector is its own nearest */
    REQUIRE_OK(idx_faiss_set_param(ivf, "nprobe", 1, &e), e);
    double with_self = 0, without = 0;
    REQUIRE_OK(idx_faiss_recall(ivf, ts, self, &without, &e), e);
    REQUIRE_OK(idx_faiss_recall(ivf, ts, NULL, &with_self, &e), e);
    CHECK(without < with_self); /* counting itself would flatter the index */
    free(sq);
    idx_faiss_truth_free(ts);
    idx_faiss_truth_free(t);
    idx_faiss_free(flat);
    idx_faiss_free(ivf);
    free(v);
    free(q);
    free(ids);
}
