/* nn_int.h - inside index/nn/: the safetensors reader, the tensor list of a model, the model
 * file writer, the mapped model's weights. Not for other modules. */
#ifndef VC_NN_INT_H
#define VC_NN_INT_H

#include <stdint.h>
#include <stdio.h>

#include "index/nn/nn.h"

/* ---- safetensors (nn_st.c) ---- */

#define NN_ST_MAX_HEADER (100u << 20) /* bytes of JSON header accepted */
#define NN_ST_MAX_DIMS 8

struct nn_st_tensor {
    char *name;          /* owned */
    char dtype_name[16]; /* as in the file ("F32", "I64"...) */
    int dtype;           /* enum nn_dtype, 0 for any other */
    int ndim;
    uint64_t shape[NN_ST_MAX_DIMS];
    uint64_t numel;
    const unsigned char *data; /* inside the mapping, not aligned: read with memcpy */
    uint64_t nbytes;
};

struct nn_st {
    const unsigned char *map;
    size_t size;
    char *path;             /* owned */
    struct nn_st_tensor *t; /* (n), owned */
    size_t n;
};

/* Map the safetensors file `path` and check its header: the length within the file, the JSON,
 * every entry's dtype, shape and data_offsets (inside the data area, the size matching the shape).
 * Errors: ERR_NOTFOUND, ERR_IO, ERR_CORRUPT (naming the file, the tensor and the reason),
 * ERR_LIMIT (header over NN_ST_MAX_HEADER), ERR_NOMEM. *out is owned by the caller
 * (nn_st_close). */
int nn_st_open(struct nn_st **out, const char *path, struct err *err);
void nn_st_close(struct nn_st *s);
/* The tensor called `name`, or NULL. */
const struct nn_st_tensor *nn_st_find(const struct nn_st *s, const char *name);
/* Write "[a, b, ...]" of a tensor's shape to out (at least 96 bytes). */
void nn_st_shape_str(const struct nn_st_tensor *t, char *out, size_t n);
/* Widen one element of dtype F32/F16/BF16 at p (unaligned, little-endian) to float. */
float nn_st_elem(int dtype, const unsigned char *p);
size_t nn_dtype_size(int dtype);

/* ---- the tensors of a model (nn_file.c) ---- */

#define NN_TNAME 80

/* One tensor of the model file: canonical name and shape ((d0) or (d0, d1): d1 == 0 for 1-D). */
struct nn_tspec {
    char name[NN_TNAME];
    uint64_t d0, d1;
};

/* The tensors a model with these sizes needs, in file order: embeddings (word, position, type,
 * LayerNorm weight and bias), then per layer qkv weight (3h, h) and bias, attention output dense
 * weight and bias, LayerNorm, intermediate dense (i, h) and bias, output dense (h, i) and bias,
 * LayerNorm; then for a classifier pooler dense (h, h) and bias and classifier (labels, h) and
 * bias. Fills at most `cap` entries of `out` (may be NULL) and returns the count. */
int nn_tensor_specs(const struct nn_info *in, struct nn_tspec *out, int cap);

/* Per-layer tensor order within nn_tensor_specs (after the NN_T_EMB embedding tensors). */
enum {
    NN_T_QKV_W,
    NN_T_QKV_B,
    NN_T_AO_W,
    NN_T_AO_B,
    NN_T_LN1_W,
    NN_T_LN1_B,
    NN_T_FF1_W,
    NN_T_FF1_B,
    NN_T_FF2_W,
    NN_T_FF2_B,
    NN_T_LN2_W,
    NN_T_LN2_B,
    NN_T_PER_LAYER
};
#define NN_T_EMB 5

/* A source of float elements for the writer: n elements of `dtype` at p (unaligned). */
struct nn_wsrc {
    const unsigned char *p;
    int dtype;
    uint64_t n;
};
/* One tensor to write: the concatenation of nsrc sources (qkv: three) of the spec's size. */
struct nn_wtensor {
    struct nn_wsrc src[3];
    int nsrc;
};

/* Write the model file `path` atomically: header from `in` (sizes, modes, tokenizer options,
 * name), the tensors of nn_tensor_specs(in) from `t` (same order), the tokens (in->vocab, from
 * in->tokens) and labels (in->num_labels, from in->labels). Errors: ERR_IO, ERR_NOMEM,
 * ERR_INTERNAL (a source of the wrong size). */
int nn_file_write(const char *path, const struct nn_info *in, const struct nn_wtensor *t,
                  struct err *err);

/* ---- element-wise kernels (nn_math.c) ---- */

struct nn_kern {
    void (*act[4])(float *x, size_t n); /* by enum nn_act, in place */
    void (*softmax)(float *s, int n);   /* one row, in place */
    void (*layer_norm)(float *v, int n, const float *w, const float *b, float eps); /* one row */
    const char *name; /* "portable", "avx2" */
};
/* The portable C kernels (libm's erff, expf, tanhf). */
void nn_kern_portable(struct nn_kern *k);
/* The fastest kernels this CPU runs: AVX2 + FMA when it has them, else the portable ones. */
void nn_kern_pick(struct nn_kern *k);

/* ---- the mapped model (nn_file.c) ---- */

struct nn_layer {
    const float *qkv_w, *qkv_b; /* (3h, h), (3h): rows q, then k, then v */
    const float *ao_w, *ao_b;   /* (h, h), (h) */
    const float *ln1_w, *ln1_b; /* (h) */
    const float *ff1_w, *ff1_b; /* (i, h), (i) */
    const float *ff2_w, *ff2_b; /* (h, i), (h) */
    const float *ln2_w, *ln2_b; /* (h) */
};

struct nn_model {
    const unsigned char *map;
    size_t size;
    char *path;          /* owned */
    struct nn_info info; /* strings point into the mapping or into tokens/labels below */
    const char **tokens; /* (vocab), owned array, strings in the mapping */
    const char **labels; /* (num_labels), owned array, strings in the mapping */
    const float *word;   /* (vocab, h) */
    const float *pos;    /* (max_positions, h) */
    const float *type;   /* (type_vocab, h) */
    const float *eln_w, *eln_b;
    struct nn_layer *layer;       /* (layers), owned */
    const float *pool_w, *pool_b; /* classifier: (h, h), (h) */
    const float *cls_w, *cls_b;   /* classifier: (labels, h), (labels) */
};

#endif
