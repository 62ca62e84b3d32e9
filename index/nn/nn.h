/* nn.h - in-process transformer models: Hugging Face BERT-family folders imported once into a
 * memory-mapped vericite model file (.vcnn), and a CPU forward pass over OpenBLAS sgemm that turns
 * texts into pooled embeddings (encoders) or pairs into logits (sequence classifiers: cross-encoder
 * rerankers, NLI). Below index/embed/, retrieve/ and verify/; depends on common/, jansson, OpenBLAS
 * and the WordPiece tokenizer (nn_tok.h). Never prints.
 *
 * Three objects:
 *   - nn_import_hf() reads a model folder and writes a .vcnn file (format in nn_file.c);
 *   - struct nn_model is an opened .vcnn file: read-only, mapped, shareable by any number of
 *     threads and runtimes;
 *   - struct nn is a runtime over one model: tokenizer, scratch memory and worker threads. It is
 *     not thread-safe: use one per thread (they share the model). */
#ifndef VC_NN_H
#define VC_NN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "index/nn/nn_tok.h"

#define NN_FILE_VERSION 1
#define NN_FILE_EXT ".vcnn"
#define NN_MAX_LAYERS 128
#define NN_MAX_HIDDEN 8192
#define NN_MAX_HEADS 256
#define NN_MAX_INTERMEDIATE 65536
#define NN_MAX_VOCAB 1000000
#define NN_MAX_POSITIONS 8192
#define NN_MAX_LABELS 1024
#define NN_MAX_LABEL 128 /* bytes of one label name */
#define NN_MAX_NAME 63   /* bytes of a model name */
#define NN_MAX_THREADS 64
#define NN_DEFAULT_BATCH 32
#define NN_DEFAULT_MAX_TOKENS 8192 /* tokens per forward chunk (bounds the scratch memory) */

enum nn_arch { NN_ARCH_BERT = 1 };
enum nn_head {
    NN_HEAD_ENCODER = 1, /* pooled (and maybe normalised) last hidden states */
    NN_HEAD_CLASSIFIER =
        2 /* BertForSequenceClassification: pooler (dense + tanh on [CLS]) + classifier */
};
enum nn_pool { NN_POOL_CLS = 1, NN_POOL_MEAN = 2, NN_POOL_MAX = 3, NN_POOL_MEAN_SQRT = 4 };
enum nn_act {
    NN_ACT_GELU = 1,      /* HF "gelu": x/2 (1 + erf(x / sqrt 2)) */
    NN_ACT_GELU_TANH = 2, /* HF "gelu_new", "gelu_pytorch_tanh": the tanh approximation */
    NN_ACT_RELU = 3
};
enum nn_dtype { NN_F32 = 1, NN_F16 = 2, NN_BF16 = 3 };

/* What a model is, as stored in its header. Strings and arrays point into the model (valid while
 * it is open). */
struct nn_info {
    int arch, head, act, pool, normalize;
    int vocab, hidden, layers, heads, intermediate, max_positions, type_vocab;
    int ntokens;      /* tokenizer vocabulary (<= vocab, the embedding rows) */
    int num_labels;   /* classifier outputs; 0 for an encoder */
    int max_len;      /* default sequence length (sentence-transformers' max_seq_length, the
                         tokenizer's model_max_length, max_position_embeddings: the least) */
    int source_dtype; /* enum nn_dtype of the safetensors weights (stored as fp32) */
    double layer_norm_eps;
    const char *name;          /* the name given at import */
    const char *const *labels; /* num_labels names from id2label, in id order */
    const char *const *tokens; /* ntokens token strings, in id order */
    struct nn_tok_opts tok;    /* tokenizer options */
    uint64_t file_size;
    char hash[17]; /* content hash: FNV-1a 64 of the file, 16 hex digits */
};

/* Short names for the enums ("bert", "encoder", "mean", "gelu", "F16"...); "?" when unknown. */
const char *nn_arch_name(int arch);
const char *nn_head_name(int head);
const char *nn_pool_name(int pool);
const char *nn_act_name(int act);
const char *nn_dtype_name(int dtype);

/* ---- import ---- */

struct nn_import_opts {
    const char *name; /* stored in the file; NULL: the folder's base name */
};

/* 1 when `path` is a folder holding config.json or modules.json (a Hugging Face or
 * sentence-transformers model folder), else 0. */
int nn_is_hf_dir(const char *path);

/* Convert the Hugging Face model folder `dir` into the model file `out` (written atomically:
 * a temporary file beside it, then rename; parent folders are made). Reads config.json,
 * model.safetensors (F32, F16 or BF16 tensors, names with or without a "bert." prefix), the
 * tokenizer (nn_tok_import_hf), and when present modules.json, the Pooling module's config.json,
 * the Normalize module and sentence_bert_config.json. Every tensor the forward pass uses is
 * checked for presence, dtype and shape against config.json; tensors it does not use are
 * ignored. F16/BF16 are widened to fp32 exactly. Q, K and V are stored fused.
 * Errors (the message names the file and the reason; nothing is written): ERR_NOTFOUND (no
 * config.json or model.safetensors), ERR_ARG (unsupported architecture, activation, position
 * embedding type, pooling, module, dtype, tokenizer), ERR_MISMATCH (a missing or mis-shaped
 * tensor, with both shapes), ERR_CORRUPT (truncated or malformed safetensors), ERR_PARSE (bad
 * JSON, with line and column), ERR_LIMIT (a size over the NN_MAX_* caps), ERR_IO, ERR_NOMEM. */
int nn_import_hf(const char *dir, const char *out, const struct nn_import_opts *opts,
                 struct err *err);

/* The user's model folder: $VERICITE_MODEL_DIR/models, else $HOME/.cache/vericite/models,
 * appended to `out`. Errors: ERR_NOTFOUND (neither variable set), ERR_NOMEM. */
int nn_model_dir(struct buf *out, struct err *err);
/* 1 when `name` is a valid model name: 1..NN_MAX_NAME bytes of [A-Za-z0-9._-], not starting
 * with '.'. */
int nn_name_ok(const char *name);
/* Resolve a model reference: a path to an existing file (it contains '/' or ends in .vcnn) is
 * taken as is; otherwise a name in nn_model_dir() (NAME.vcnn). Appends the path to `out`.
 * Errors: ERR_NOTFOUND (no such file; the message names what was tried), ERR_ARG (bad name). */
int nn_model_resolve(const char *ref, struct buf *out, struct err *err);

/* ---- the model file ---- */

struct nn_model;

/* Map the model file `path` read-only and check its header, sections and tensor table (every
 * tensor the forward pass needs present with its shape) against the file size; the content hash
 * is not recomputed (nn_model_verify). Errors: ERR_NOTFOUND, ERR_IO, ERR_CORRUPT (truncated, not a
 * model file, inconsistent; names the file), ERR_ARG (a newer format version).
 * On success *out is a new handle the caller owns and closes with nn_model_close(). */
int nn_model_open(struct nn_model **out, const char *path, struct err *err);
/* Unmap and free. NULL is allowed. Runtimes made from it must be freed first. */
void nn_model_close(struct nn_model *m);
/* The header (owned by the model). */
const struct nn_info *nn_model_info(const struct nn_model *m);
/* Recompute the content hash over the whole file. Errors: ERR_CORRUPT (it differs). */
int nn_model_verify(const struct nn_model *m, struct err *err);
/* The output size of one input: hidden for an encoder, num_labels for a classifier. */
int nn_model_out_dim(const struct nn_model *m);

/* ---- the runtime ---- */

/* Zero-initialise; every field has a usable zero. */
struct nn_opts {
    int threads; /* threads one call uses, the caller's included (0: 1; at most NN_MAX_THREADS) */
    int batch;   /* sequences per forward chunk (0: NN_DEFAULT_BATCH) */
    int max_tokens; /* tokens per forward chunk (0: NN_DEFAULT_MAX_TOKENS; at least max_len) */
    int max_len;    /* tokens per sequence after truncation (0: the model's max_len; at most
                       max_positions) */
};

/* Threads. A runtime with threads > 1 starts threads - 1 workers of its own; each call splits
 * its rows (linear layers, normalisation, activations) and its (sequence, head) pairs (attention)
 * among them, and every thread calls cblas_sgemm on its own share. That needs OpenBLAS to run each
 * call on the calling thread alone, so nn_new() sets openblas_set_num_threads(1). That setting is
 * process-wide: it also makes FAISS's and any other BLAS call of the process single-threaded
 * (vericite bounds its parallelism with its own options: --threads, --jobs). A process that wants
 * OpenBLAS threads elsewhere must not use nn runtimes at the same time. */

struct nn;

/* A runtime over the open model `m` (borrowed: it must outlive the runtime). `opts` may be NULL;
 * it is copied. Errors: ERR_ARG (an option out of range), ERR_NOMEM, ERR_INTERNAL (a thread could
 * not start), and the tokenizer's. On success *out is a new runtime freed with nn_free(). */
int nn_new(struct nn **out, const struct nn_model *m, const struct nn_opts *opts, struct err *err);
/* Stop the workers and free. NULL is allowed. */
void nn_free(struct nn *h);
const struct nn_model *nn_model(const struct nn *h);
/* The sequence length texts are truncated to (opts.max_len or the model's). */
int nn_max_len(const struct nn *h);

/* Tokenize one text (b == NULL) or a pair as the model's tokenizer does ([CLS] a [SEP] b [SEP],
 * truncated to nn_max_len longest-first). ids/types have room for nn_max_len() entries; *n gets
 * the count. Errors: those of nn_tok_encode (ERR_UTF8, ERR_NOMEM). */
int nn_tokenize(struct nn *h, const char *a, size_t alen, const char *b, size_t blen, int32_t *ids,
                int32_t *types, int *n, struct err *err);

/* One tokenized input: len ids and token types (types may be NULL: all 0). */
struct nn_seq {
    const int32_t *ids;
    const int32_t *types;
    int len;
};

/* Run the model on n sequences (any lengths 1..max_positions, any order: they are packed without
 * padding, attention runs per sequence) and write nn_model_out_dim() floats per sequence to
 * `out` (n, out_dim): the pooled (and, when the model says, L2-normalised) embedding for an
 * encoder, the logits for a classifier. The result of a sequence does not depend on the others
 * (up to float rounding of sgemm blocking, ~1e-7). Errors: ERR_ARG (an id or type out of range,
 * a length of 0 or over max_positions), ERR_NOMEM. */
int nn_forward(struct nn *h, const struct nn_seq *seqs, size_t n, float *out, struct err *err);

/* Encoder: embed n NUL-terminated texts, each after `prefix` (NULL or "": none; e5's "query: ",
 * bge's query instruction), into out (n, hidden). Errors: ERR_ARG (not an encoder), those of
 * nn_tokenize and nn_forward. */
int nn_embed(struct nn *h, const char *prefix, const char *const *texts, size_t n, float *out,
             struct err *err);
/* Classifier: the logits (n, num_labels) of n pairs (a[i], b[i]); b may be NULL (single texts)
 * and b[i] may be NULL. Errors: ERR_ARG (not a classifier), those of nn_tokenize, nn_forward. */
int nn_classify(struct nn *h, const char *const *a, const char *const *b, size_t n, float *logits,
                struct err *err);

#endif
