/* nn_st.c - the safetensors reader: an 8-byte little-endian header length, a JSON header
 * {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}},
 * then the tensors' raw little-endian bytes (offsets relative to the end of the header). The file
 * is mapped read-only; every entry is checked before anything reads its bytes. */
#include "index/nn/nn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

size_t nn_dtype_size(int dtype)
{
    return dtype == NN_F32 ? 4 : dtype == NN_F16 || dtype == NN_BF16 ? 2 : 0;
}

/* Element size of any safetensors dtype name (0: unknown name). */
static size_t st_elem_size(const char *s, int *dtype)
{
    static const struct {
        const char *name;
        size_t size;
        int dtype;
    } tab[] = {{"F32", 4, NN_F32}, {"F16", 2, NN_F16}, {"BF16", 2, NN_BF16}, {"F64", 8, 0},
               {"I64", 8, 0},      {"U64", 8, 0},      {"I32", 4, 0},        {"U32", 4, 0},
               {"I16", 2, 0},      {"U16", 2, 0},      {"I8", 1, 0},         {"U8", 1, 0},
               {"BOOL", 1, 0},     {"F8_E4M3", 1, 0},  {"F8_E5M2", 1, 0}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(s, tab[i].name)) {
            *dtype = tab[i].dtype;
            return tab[i].size;
        }
    *dtype = 0;
    return 0;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13); /* inf, nan */
    } else if (e != 0) {
        bits = sign | ((e + 112) << 23) | (m << 13);
    } else if (m == 0) {
        bits = sign;
    } else { /* subnormal: normalise */
        int shift = 0;
        while (!(m & 0x400)) {
            m <<= 1;
            shift++;
        }
        bits = sign | ((uint32_t)(113 - shift) << 23) | ((m & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float nn_st_elem(int dtype, const unsigned char *p)
{
    uint32_t bits;
    float f;
    switch (dtype) {
    case NN_F32:
        bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        break;
    case NN_F16:
        return half_to_float((uint16_t)(p[0] | p[1] << 8));
    case NN_BF16:
        bits = ((uint32_t)p[0] | (uint32_t)p[1] << 8) << 16;
        break;
    default:
        return 0.0f;
    }
    memcpy(&f, &bits, 4);
    return f;
}

void nn_st_shape_str(const struct nn_st_tensor *t, char *out, size_t n)
{
    size_t o = 0;
    o += (size_t)snprintf(out + o, n - o, "[");
    for (int i = 0; i < t->ndim && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%llu", i ? ", " : "",
                              (unsigned long long)t->shape[i]);
    if (o < n) snprintf(out + o, n - o, "]");
}

void nn_st_close(struct nn_st *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++)
        free(s->t[i].name);
    free(s->t);
    if (s->map) munmap((void *)s->map, s->size);
    free(s->path);
    free(s);
}

const struct nn_st_tensor *nn_st_find(const struct nn_st *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->t[i].name, name)) return &s->t[i];
    return NULL;
}

/* A JSON integer >= 0 (jansson's json_int_t is long long). */
static int st_uint(json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Check one header entry and fill *t (name not set). */
static int st_entry(struct nn_st *s, const char *name, json_t *e, const unsigned char *data,
                    uint64_t dlen, struct nn_st_tensor *t, struct err *err)
{
    json_t *dt = json_object_get(e, "dtype"), *sh = json_object_get(e, "shape"),
           *off = json_object_get(e, "data_offsets");
    if (!json_is_object(e) || !json_is_string(dt) || !json_is_array(sh) || !json_is_array(off) ||
        json_array_size(off) != 2)
        return err_set(
            err, ERR_CORRUPT,
            "%s: tensor %s: header entry needs dtype, shape and data_offsets [begin, end]", s->path,
            name);
    snprintf(t->dtype_name, sizeof t->dtype_name, "%s", json_string_value(dt));
    size_t esize = st_elem_size(t->dtype_name, &t->dtype);
    if (json_array_size(sh) > NN_ST_MAX_DIMS)
        return err_set(err, ERR_CORRUPT, "%s: tensor %s: %zu dimensions (at most %d)", s->path,
                       name, json_array_size(sh), NN_ST_MAX_DIMS);
    t->ndim = (int)json_array_size(sh);
    t->numel = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (st_uint(json_array_get(sh, (size_t)i), &t->shape[i]) || t->shape[i] > (1ull << 40))
            return err_set(err, ERR_CORRUPT, "%s: tensor %s: bad shape", s->path, name);
        t->numel *= t->shape[i];
        if (t->numel > (1ull << 40))
            return err_set(err, ERR_CORRUPT, "%s: tensor %s: shape too large", s->path, name);
    }
    uint64_t b, en;
    if (st_uint(json_array_get(off, 0), &b) || st_uint(json_array_get(off, 1), &en) || b > en)
        return err_set(err, ERR_CORRUPT, "%s: tensor %s: bad data_offsets", s->path, name);
    if (en > dlen)
        return err_set(err, ERR_CORRUPT,
                       "%s: tensor %s: data_offsets [%llu, %llu] past the end of the data (%llu "
                       "bytes; file truncated?)",
                       s->path, name, (unsigned long long)b, (unsigned long long)en,
                       (unsigned long long)dlen);
    if (esize && en - b != t->numel * esize)
        return err_set(err, ERR_CORRUPT,
                       "%s: tensor %s: %llu bytes of data for %llu %s elements (%llu expected)",
                       s->path, name, (unsigned long long)(en - b), (unsigned long long)t->numel,
                       t->dtype_name, (unsigned long long)(t->numel * esize));
    t->data = data + b;
    t->nbytes = en - b;
    return ERR_OK;
}

static int st_parse(struct nn_st *s, struct err *err)
{
    if (s->size < 8)
        return err_set(err, ERR_CORRUPT, "%s: %zu bytes: too short for a safetensors file", s->path,
                       s->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | s->map[i];
    if (hlen > s->size - 8)
        return err_set(err, ERR_CORRUPT,
                       "%s: header length %llu is past the end of the file (%zu bytes; truncated "
                       "or not a safetensors file)",
                       s->path, (unsigned long long)hlen, s->size);
    if (hlen > NN_ST_MAX_HEADER)
        return err_set(err, ERR_LIMIT, "%s: header of %llu bytes (at most %u)", s->path,
                       (unsigned long long)hlen, NN_ST_MAX_HEADER);
    json_error_t je;
    json_t *root = json_loadb((const char *)s->map + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(err, ERR_CORRUPT, "%s: header JSON, line %d column %d: %s", s->path, je.line,
                       je.column, je.text);
    int rc = ERR_OK;
    if (!json_is_object(root)) {
        rc = err_set(err, ERR_CORRUPT, "%s: header is not a JSON object", s->path);
        goto done;
    }
    s->t = calloc(json_object_size(root) + 1, sizeof *s->t);
    if (!s->t) {
        rc = err_set(err, ERR_NOMEM, "%s: header", s->path);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (!strcmp(key, "__metadata__")) continue;
        struct nn_st_tensor *t = &s->t[s->n];
        if ((rc = st_entry(s, key, val, s->map + 8 + hlen, s->size - 8 - hlen, t, err))) goto done;
        if (!(t->name = strdup(key))) {
            rc = err_set(err, ERR_NOMEM, "%s: header", s->path);
            goto done;
        }
        s->n++;
    }
done:
    json_decref(root);
    return rc;
}

int nn_st_open(struct nn_st **out, const char *path, struct err *err)
{
    *out = NULL;
    struct nn_st *s = calloc(1, sizeof *s);
    int rc = ERR_OK, fd = -1;
    if (!s || !(s->path = strdup(path))) {
        rc = err_set(err, ERR_NOMEM, "%s", path);
        goto fail;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = err_set(err, ERR_IO, "%s: not a regular file", path);
        goto fail;
    }
    s->size = (size_t)st.st_size;
    if (s->size > 0) {
        void *p = mmap(NULL, s->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            rc = err_set(err, ERR_IO, "%s: mmap: %s", path, strerror(errno));
            goto fail;
        }
        s->map = p;
    }
    close(fd);
    fd = -1;
    if ((rc = st_parse(s, err))) goto fail;
    *out = s;
    return ERR_OK;
fail:
    if (fd >= 0) close(fd);
    nn_st_close(s);
    return rc;
}
