/* clang-format off */
/* nn_file.c - the vericite model file (.vcnn): written once by nn_import_hf, then mapped read-only.
 *
 * Format version 1. All integers little-endian; every section starts at a multiple of 64.
 *
 *   offset  size  field
 *        0     8  magic "VCNNMDL\0"
 *        8     4  u32 format version (1)
 *       12     4  u32 header size (512)
 *       16     8  u64 file size
 *       24     8  u64 content hash: FNV-1a 64 of the whole file with these 8 bytes zero
 *       32     4  u32 architecture (1 BERT)
 *       36     4  u32 head (1 encoder, 2 sequence classifier)
 *       40     4  u32 weight dtype (1 fp32)
 *       44     4  u32 activation (1 gelu (erf), 2 gelu (tanh), 3 relu)
 *       48    32  u32 vocab, hidden, layers, heads, intermediate, max_positions, type_vocab, labels
 *       80     4  u32 pooling (1 CLS, 2 mean, 3 max, 4 mean / sqrt(len))
 *       84     4  u32 L2-normalise the pooled vector (0/1)
 *       88     8  f64 LayerNorm eps
 *       96     4  u32 default max sequence length
 *      100     4  u32 source dtype (1 F32, 2 F16, 3 BF16)
 *      104    44  i32 tokenizer: lowercase, strip_accents, clean_text, chinese_chars,
 *                 max_chars_per_word, cls, sep, pad, unk, mask ids, model_max_length
 *      148     8  tokenizer continuing-subword prefix, NUL-padded
 *      156     4  u32 tensor count
 *      160     8  u64 tensor table offset (entries of 128 bytes)
 *      168    16  u64 tokens offset, bytes: vocab NUL-terminated strings in id order
 *      184    16  u64 labels offset, bytes: labels NUL-terminated strings in id order
 *      200    64  model name, NUL-padded
 *      264     4  u32 tokens in the vocabulary (<= vocab: the embedding table may be larger)
 *      268   244  zero
 *
 *   tensor table entry: name[80] NUL-padded, u32 dtype (1 fp32), u32 ndim (1 or 2),
 *                       u64 dim0, dim1 (0 for 1-D), u64 offset, u64 bytes, 8 zero
 *
 * The tensors are exactly those of nn_tensor_specs() for the header's sizes, in that order (the
 * opener checks names, shapes, offsets and sizes against the file size), row-major fp32. Linear
 * weights keep PyTorch's (out, in) layout; Q, K and V are one (3h, h) matrix. */
/* clang-format on */
#include "index/nn/nn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ascii.h"
#include "file.h"
#include "hash.h"

#define NF_MAGIC "VCNNMDL\0"
#define NF_HDR 512
#define NF_ALIGN 64
#define NF_TENT 128
#define NF_HASH_OFF 24

const char *nn_arch_name(int a)
{
    return a == NN_ARCH_BERT ? "bert" : "?";
}
const char *nn_head_name(int h)
{
    return h == NN_HEAD_ENCODER ? "encoder" : h == NN_HEAD_CLASSIFIER ? "classifier" : "?";
}
const char *nn_pool_name(int p)
{
    static const char *n[] = {"?", "cls", "mean", "max", "mean_sqrt_len"};
    return p >= 1 && p <= 4 ? n[p] : "?";
}
const char *nn_act_name(int a)
{
    static const char *n[] = {"?", "gelu", "gelu_tanh", "relu"};
    return a >= 1 && a <= 3 ? n[a] : "?";
}
const char *nn_dtype_name(int d)
{
    static const char *n[] = {"?", "F32", "F16", "BF16"};
    return d >= 1 && d <= 3 ? n[d] : "?";
}

/* ---------------------------------------------------------------- tensor list */

/* Append a spec: `name`, or "encoder.layer.<layer>.<name>" when layer >= 0. */
static void spec(struct nn_tspec *out, int cap, int *k, uint64_t d0, uint64_t d1, const char *name,
                 int layer)
{
    if (out && *k < cap) {
        if (layer >= 0)
            snprintf(out[*k].name, NN_TNAME, "encoder.layer.%d.%s", layer, name);
        else
            snprintf(out[*k].name, NN_TNAME, "%s", name);
        out[*k].d0 = d0;
        out[*k].d1 = d1;
    }
    (*k)++;
}

int nn_tensor_specs(const struct nn_info *in, struct nn_tspec *out, int cap)
{
    uint64_t h = (uint64_t)in->hidden, im = (uint64_t)in->intermediate;
    int k = 0;
    spec(out, cap, &k, (uint64_t)in->vocab, h, "embeddings.word_embeddings.weight", -1);
    spec(out, cap, &k, (uint64_t)in->max_positions, h, "embeddings.position_embeddings.weight", -1);
    spec(out, cap, &k, (uint64_t)in->type_vocab, h, "embeddings.token_type_embeddings.weight", -1);
    spec(out, cap, &k, h, 0, "embeddings.LayerNorm.weight", -1);
    spec(out, cap, &k, h, 0, "embeddings.LayerNorm.bias", -1);
    for (int l = 0; l < in->layers; l++) {
        spec(out, cap, &k, 3 * h, h, "attention.self.qkv.weight", l);
        spec(out, cap, &k, 3 * h, 0, "attention.self.qkv.bias", l);
        spec(out, cap, &k, h, h, "attention.output.dense.weight", l);
        spec(out, cap, &k, h, 0, "attention.output.dense.bias", l);
        spec(out, cap, &k, h, 0, "attention.output.LayerNorm.weight", l);
        spec(out, cap, &k, h, 0, "attention.output.LayerNorm.bias", l);
        spec(out, cap, &k, im, h, "intermediate.dense.weight", l);
        spec(out, cap, &k, im, 0, "intermediate.dense.bias", l);
        spec(out, cap, &k, h, im, "output.dense.weight", l);
        spec(out, cap, &k, h, 0, "output.dense.bias", l);
        spec(out, cap, &k, h, 0, "output.LayerNorm.weight", l);
        spec(out, cap, &k, h, 0, "output.LayerNorm.bias", l);
    }
    if (in->head == NN_HEAD_CLASSIFIER) {
        spec(out, cap, &k, h, h, "pooler.dense.weight", -1);
        spec(out, cap, &k, h, 0, "pooler.dense.bias", -1);
        spec(out, cap, &k, (uint64_t)in->num_labels, h, "classifier.weight", -1);
        spec(out, cap, &k, (uint64_t)in->num_labels, 0, "classifier.bias", -1);
    }
    return k;
}

/* ---------------------------------------------------------------- little-endian fields */

static void wr32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void wr64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t align_up(uint64_t v)
{
    return (v + NF_ALIGN - 1) / NF_ALIGN * NF_ALIGN;
}

static size_t strs_bytes(const char *const *s, int n)
{
    size_t b = 0;
    for (int i = 0; i < n; i++)
        b += strlen(s[i]) + 1;
    return b;
}

/* The header of `in` for a file laid out as described (hash field zero). */
static void hdr_fill(unsigned char *h, const struct nn_info *in, uint32_t nt, uint64_t toff,
                     uint64_t kof, uint64_t kbytes, uint64_t lof, uint64_t lbytes, uint64_t fsize)
{
    memset(h, 0, NF_HDR);
    memcpy(h, NF_MAGIC, 8);
    wr32(h + 8, NN_FILE_VERSION);
    wr32(h + 12, NF_HDR);
    wr64(h + 16, fsize);
    wr32(h + 32, (uint32_t)in->arch);
    wr32(h + 36, (uint32_t)in->head);
    wr32(h + 40, NN_F32);
    wr32(h + 44, (uint32_t)in->act);
    int sizes[8] = {in->vocab,        in->hidden,        in->layers,     in->heads,
                    in->intermediate, in->max_positions, in->type_vocab, in->num_labels};
    for (int i = 0; i < 8; i++)
        wr32(h + 48 + 4 * i, (uint32_t)sizes[i]);
    wr32(h + 80, (uint32_t)in->pool);
    wr32(h + 84, (uint32_t)in->normalize);
    uint64_t eps;
    memcpy(&eps, &in->layer_norm_eps, 8);
    wr64(h + 88, eps);
    wr32(h + 96, (uint32_t)in->max_len);
    wr32(h + 100, (uint32_t)in->source_dtype);
    const struct nn_tok_opts *o = &in->tok;
    int32_t tk[11] = {o->lowercase,
                      o->strip_accents,
                      o->clean_text,
                      o->chinese_chars,
                      o->max_chars_per_word,
                      o->cls_id,
                      o->sep_id,
                      o->pad_id,
                      o->unk_id,
                      o->mask_id,
                      o->model_max_length};
    for (int i = 0; i < 11; i++)
        wr32(h + 104 + 4 * i, (uint32_t)tk[i]);
    memcpy(h + 148, o->prefix, strnlen(o->prefix, 7));
    wr32(h + 156, nt);
    wr64(h + 160, toff);
    wr64(h + 168, kof);
    wr64(h + 176, kbytes);
    wr64(h + 184, lof);
    wr64(h + 192, lbytes);
    if (in->name) memcpy(h + 200, in->name, strnlen(in->name, NN_MAX_NAME));
    wr32(h + 264, (uint32_t)in->ntokens);
}

/* ---------------------------------------------------------------- writer */

struct nf_w {
    FILE *f;
    uint64_t pos, hash;
};

static int w_bytes(struct nf_w *w, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, w->f) != n) return -1;
    w->hash = hash_fnv1a64_update(w->hash, p, n);
    w->pos += n;
    return 0;
}

static int w_pad(struct nf_w *w, uint64_t to)
{
    static const unsigned char z[NF_ALIGN];
    while (w->pos < to)
        if (w_bytes(w, z, (size_t)(to - w->pos < NF_ALIGN ? to - w->pos : NF_ALIGN))) return -1;
    return 0;
}

static int w_strs(struct nf_w *w, const char *const *s, int n)
{
    for (int i = 0; i < n; i++)
        if (w_bytes(w, s[i], strlen(s[i]) + 1)) return -1;
    return 0;
}

/* Widen and write one tensor's sources. */
static int w_tensor(struct nf_w *w, const struct nn_wtensor *t, float *buf, size_t cap)
{
    for (int s = 0; s < t->nsrc; s++) {
        const struct nn_wsrc *src = &t->src[s];
        size_t es = nn_dtype_size(src->dtype);
        for (uint64_t i = 0; i < src->n;) {
            size_t m = src->n - i < cap ? (size_t)(src->n - i) : cap;
            for (size_t j = 0; j < m; j++)
                buf[j] = nn_st_elem(src->dtype, src->p + (i + j) * es);
            /* stored little-endian: x86-64 and every target vericite builds for */
            if (w_bytes(w, buf, m * 4)) return -1;
            i += m;
        }
    }
    return 0;
}

int nn_file_write(const char *path, const struct nn_info *in, const struct nn_wtensor *t,
                  struct err *err)
{
    int nt = nn_tensor_specs(in, NULL, 0), rc = ERR_OK;
    struct nn_tspec *sp = calloc((size_t)nt, sizeof *sp);
    unsigned char *tab = calloc((size_t)nt, NF_TENT), hdr[NF_HDR];
    float *buf = malloc(65536 * sizeof *buf);
    struct file_atomic fa = {0};
    if (!sp || !tab || !buf) {
        rc = err_set(err, ERR_NOMEM, "%s", path);
        goto done;
    }
    nn_tensor_specs(in, sp, nt);
    /* layout */
    uint64_t toff = NF_HDR, kof = align_up(toff + (uint64_t)nt * NF_TENT);
    uint64_t kbytes = strs_bytes(in->tokens, in->ntokens), lof = align_up(kof + kbytes);
    uint64_t lbytes = strs_bytes(in->labels, in->num_labels), off = align_up(lof + lbytes);
    for (int i = 0; i < nt; i++) {
        uint64_t n = sp[i].d0 * (sp[i].d1 ? sp[i].d1 : 1), have = 0;
        for (int s = 0; s < t[i].nsrc; s++)
            have += t[i].src[s].n;
        if (have != n) {
            rc = err_set(err, ERR_INTERNAL, "%s: tensor %s: %llu elements for %llu", path,
                         sp[i].name, (unsigned long long)have, (unsigned long long)n);
            goto done;
        }
        unsigned char *e = tab + (size_t)i * NF_TENT;
        memcpy(e, sp[i].name, strnlen(sp[i].name, NN_TNAME - 1));
        wr32(e + 80, NN_F32);
        wr32(e + 84, sp[i].d1 ? 2 : 1);
        wr64(e + 88, sp[i].d0);
        wr64(e + 96, sp[i].d1);
        wr64(e + 104, off);
        wr64(e + 112, n * 4);
        off = align_up(off + n * 4);
    }
    hdr_fill(hdr, in, (uint32_t)nt, toff, kof, kbytes, lof, lbytes, off);
    if ((rc = file_mkparents(path, err)) || (rc = file_atomic_open(&fa, path, err))) goto done;
    struct nf_w w = {fa.f, 0, HASH_FNV_INIT};
    int bad = w_bytes(&w, hdr, NF_HDR) || w_bytes(&w, tab, (size_t)nt * NF_TENT) ||
              w_pad(&w, kof) || w_strs(&w, in->tokens, in->ntokens) || w_pad(&w, lof) ||
              w_strs(&w, in->labels, in->num_labels);
    for (int i = 0; i < nt && !bad; i++)
        bad = w_pad(&w, rd64(tab + (size_t)i * NF_TENT + 104)) || w_tensor(&w, &t[i], buf, 65536);
    bad = bad || w_pad(&w, off);
    unsigned char hb[8];
    wr64(hb, w.hash);
    if (!bad) bad = fseek(fa.f, NF_HASH_OFF, SEEK_SET) != 0 || fwrite(hb, 1, 8, fa.f) != 8;
    if (bad) {
        rc = err_set(err, ERR_IO, "%s: write: %s", path, strerror(errno));
        goto done;
    }
    rc = file_atomic_commit(&fa, err);
done:
    file_atomic_abort(&fa);
    free(sp);
    free(tab);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------- reader */

void nn_model_close(struct nn_model *m)
{
    if (!m) return;
    if (m->map) munmap((void *)m->map, m->size);
    free(m->tokens);
    free(m->labels);
    free(m->layer);
    free(m->path);
    free(m);
}

const struct nn_info *nn_model_info(const struct nn_model *m)
{
    return &m->info;
}

int nn_model_out_dim(const struct nn_model *m)
{
    return m->info.head == NN_HEAD_CLASSIFIER ? m->info.num_labels : m->info.hidden;
}

/* Split n NUL-terminated strings at [off, off + len) into a new pointer array. */
static int rd_strs(const struct nn_model *m, uint64_t off, uint64_t len, int n, const char ***out)
{
    if (off > m->size || len > m->size - off) return -1;
    const char **a = calloc((size_t)n + 1, sizeof *a);
    if (!a) return -1;
    const char *p = (const char *)m->map + off, *end = p + len;
    for (int i = 0; i < n; i++) {
        const char *z = memchr(p, '\0', (size_t)(end - p));
        if (!z) {
            free(a);
            return -1;
        }
        a[i] = p;
        p = z + 1;
    }
    if (p != end) {
        free(a);
        return -1;
    }
    *out = a;
    return 0;
}

static int hdr_read(struct nn_model *m, struct err *err)
{
    const unsigned char *h = m->map;
    struct nn_info *in = &m->info;
    if (m->size < NF_HDR || memcmp(h, NF_MAGIC, 8) != 0)
        return err_set(err, ERR_CORRUPT, "%s: not a vericite model file", m->path);
    if (rd32(h + 8) != NN_FILE_VERSION)
        return err_set(err, rd32(h + 8) > NN_FILE_VERSION ? ERR_ARG : ERR_CORRUPT,
                       "%s: model file format version %u (this vericite reads version %d)", m->path,
                       rd32(h + 8), NN_FILE_VERSION);
    if (rd32(h + 12) != NF_HDR || rd64(h + 16) != m->size)
        return err_set(err, ERR_CORRUPT, "%s: %zu bytes, the header says %llu (truncated?)",
                       m->path, m->size, (unsigned long long)rd64(h + 16));
    in->arch = (int)rd32(h + 32);
    in->head = (int)rd32(h + 36);
    in->act = (int)rd32(h + 44);
    int *sizes[8] = {&in->vocab,        &in->hidden,        &in->layers,     &in->heads,
                     &in->intermediate, &in->max_positions, &in->type_vocab, &in->num_labels};
    for (int i = 0; i < 8; i++)
        *sizes[i] = (int)rd32(h + 48 + 4 * i);
    in->pool = (int)rd32(h + 80);
    in->normalize = (int)rd32(h + 84);
    uint64_t eps = rd64(h + 88);
    memcpy(&in->layer_norm_eps, &eps, 8);
    in->max_len = (int)rd32(h + 96);
    in->source_dtype = (int)rd32(h + 100);
    struct nn_tok_opts *o = &in->tok;
    int *tk[11] = {&o->lowercase,
                   &o->strip_accents,
                   &o->clean_text,
                   &o->chinese_chars,
                   &o->max_chars_per_word,
                   &o->cls_id,
                   &o->sep_id,
                   &o->pad_id,
                   &o->unk_id,
                   &o->mask_id,
                   &o->model_max_length};
    for (int i = 0; i < 11; i++)
        *tk[i] = (int32_t)rd32(h + 104 + 4 * i);
    memcpy(o->prefix, h + 148, 7);
    o->prefix[7] = '\0';
    static char none[1];
    in->name = none;
    if (memchr(h + 200, '\0', 64)) in->name = (const char *)h + 200;
    in->ntokens = (int)rd32(h + 264);
    in->file_size = m->size;
    hash_hex16(rd64(h + NF_HASH_OFF), in->hash);
    int ok = in->arch == NN_ARCH_BERT &&
             (in->head == NN_HEAD_ENCODER || in->head == NN_HEAD_CLASSIFIER) &&
             rd32(h + 40) == NN_F32 && in->act >= 1 && in->act <= 3 && in->pool >= 1 &&
             in->pool <= 4 && in->vocab >= 1 && in->vocab <= NN_MAX_VOCAB && in->hidden >= 1 &&
             in->hidden <= NN_MAX_HIDDEN && in->layers >= 1 && in->layers <= NN_MAX_LAYERS &&
             in->heads >= 1 && in->heads <= NN_MAX_HEADS && in->hidden % in->heads == 0 &&
             in->intermediate >= 1 && in->intermediate <= NN_MAX_INTERMEDIATE &&
             in->max_positions >= 2 && in->max_positions <= NN_MAX_POSITIONS &&
             in->type_vocab >= 1 && in->type_vocab <= 1024 && in->num_labels >= 0 &&
             in->num_labels <= NN_MAX_LABELS &&
             (in->head == NN_HEAD_ENCODER || in->num_labels >= 1) && in->max_len >= 2 &&
             in->max_len <= in->max_positions && in->layer_norm_eps > 0 && in->layer_norm_eps < 1;
    ok = ok && in->ntokens >= 1 && in->ntokens <= in->vocab;
    int32_t ids[5] = {o->cls_id, o->sep_id, o->pad_id, o->unk_id, o->mask_id};
    for (int i = 0; i < 5; i++)
        ok = ok && ids[i] >= -1 && ids[i] < in->ntokens;
    ok = ok && o->cls_id >= 0 && o->sep_id >= 0;
    if (!ok) return err_set(err, ERR_CORRUPT, "%s: model header out of range", m->path);
    if (rd_strs(m, rd64(h + 168), rd64(h + 176), in->ntokens, &m->tokens) ||
        rd_strs(m, rd64(h + 184), rd64(h + 192), in->num_labels, &m->labels))
        return err_set(err, ERR_CORRUPT, "%s: token or label section out of range", m->path);
    in->tokens = m->tokens;
    in->labels = m->labels;
    return ERR_OK;
}

/* Check the tensor table against nn_tensor_specs and point the weights into the mapping. */
static int tensors_read(struct nn_model *m, struct err *err)
{
    const unsigned char *h = m->map;
    int nt = nn_tensor_specs(&m->info, NULL, 0);
    uint64_t toff = rd64(h + 160);
    if ((int)rd32(h + 156) != nt || toff > m->size || (uint64_t)nt * NF_TENT > m->size - toff)
        return err_set(err, ERR_CORRUPT, "%s: tensor table does not match the header", m->path);
    struct nn_tspec *sp = calloc((size_t)nt, sizeof *sp);
    const float **p = calloc((size_t)nt, sizeof *p);
    m->layer = calloc((size_t)m->info.layers, sizeof *m->layer);
    int rc = ERR_OK;
    if (!sp || !p || !m->layer) {
        rc = err_set(err, ERR_NOMEM, "%s", m->path);
        goto done;
    }
    nn_tensor_specs(&m->info, sp, nt);
    for (int i = 0; i < nt; i++) {
        const unsigned char *e = h + toff + (size_t)i * NF_TENT;
        uint64_t off = rd64(e + 104), nb = rd64(e + 112);
        uint64_t want = sp[i].d0 * (sp[i].d1 ? sp[i].d1 : 1) * 4;
        if (strncmp((const char *)e, sp[i].name, NN_TNAME) != 0 || rd32(e + 80) != NN_F32 ||
            rd64(e + 88) != sp[i].d0 || rd64(e + 96) != sp[i].d1 || nb != want ||
            off % NF_ALIGN != 0 || off > m->size || nb > m->size - off) {
            rc = err_set(err, ERR_CORRUPT, "%s: tensor %d (%s) does not match the header", m->path,
                         i, sp[i].name);
            goto done;
        }
        p[i] = (const float *)(m->map + off);
    }
    m->word = p[0];
    m->pos = p[1];
    m->type = p[2];
    m->eln_w = p[3];
    m->eln_b = p[4];
    for (int l = 0; l < m->info.layers; l++) {
        const float **q = p + NN_T_EMB + (size_t)l * NN_T_PER_LAYER;
        struct nn_layer *L = &m->layer[l];
        L->qkv_w = q[NN_T_QKV_W], L->qkv_b = q[NN_T_QKV_B];
        L->ao_w = q[NN_T_AO_W], L->ao_b = q[NN_T_AO_B];
        L->ln1_w = q[NN_T_LN1_W], L->ln1_b = q[NN_T_LN1_B];
        L->ff1_w = q[NN_T_FF1_W], L->ff1_b = q[NN_T_FF1_B];
        L->ff2_w = q[NN_T_FF2_W], L->ff2_b = q[NN_T_FF2_B];
        L->ln2_w = q[NN_T_LN2_W], L->ln2_b = q[NN_T_LN2_B];
    }
    if (m->info.head == NN_HEAD_CLASSIFIER) {
        const float **q = p + NN_T_EMB + (size_t)m->info.layers * NN_T_PER_LAYER;
        m->pool_w = q[0], m->pool_b = q[1], m->cls_w = q[2], m->cls_b = q[3];
    }
done:
    free(sp);
    free(p);
    return rc;
}

int nn_model_open(struct nn_model **out, const char *path, struct err *err)
{
    *out = NULL;
    struct nn_model *m = calloc(1, sizeof *m);
    int rc = ERR_OK, fd = -1;
    if (!m || !(m->path = strdup(path))) {
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
    m->size = (size_t)st.st_size;
    if (m->size < NF_HDR) {
        rc = err_set(err, ERR_CORRUPT, "%s: %zu bytes: not a vericite model file", path, m->size);
        goto fail;
    }
    void *p = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        rc = err_set(err, ERR_IO, "%s: mmap: %s", path, strerror(errno));
        goto fail;
    }
    m->map = p;
    close(fd);
    fd = -1;
    if ((rc = hdr_read(m, err)) || (rc = tensors_read(m, err))) goto fail;
    *out = m;
    return ERR_OK;
fail:
    if (fd >= 0) close(fd);
    nn_model_close(m);
    return rc;
}

int nn_model_verify(const struct nn_model *m, struct err *err)
{
    static const unsigned char z[8];
    uint64_t h = hash_fnv1a64_update(HASH_FNV_INIT, m->map, NF_HASH_OFF);
    h = hash_fnv1a64_update(h, z, 8);
    h = hash_fnv1a64_update(h, m->map + NF_HASH_OFF + 8, m->size - NF_HASH_OFF - 8);
    if (h != rd64(m->map + NF_HASH_OFF))
        return err_set(err, ERR_CORRUPT, "%s: content hash mismatch (file damaged)", m->path);
    return ERR_OK;
}

/* ---------------------------------------------------------------- names and folders */

int nn_model_dir(struct buf *out, struct err *err)
{
    const char *d = getenv("VERICITE_MODEL_DIR"), *home = getenv("HOME");
    int bad;
    if (d && *d)
        bad = buf_printf(out, "%s/models", d);
    else if (home && *home)
        bad = buf_printf(out, "%s/.cache/vericite/models", home);
    else
        return err_set(err, ERR_NOTFOUND, "no model folder: set VERICITE_MODEL_DIR or HOME");
    return bad ? err_set(err, ERR_NOMEM, "model folder") : ERR_OK;
}

int nn_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NN_MAX_NAME || name[0] == '.') return 0;
    for (size_t i = 0; i < n; i++)
        if (!ascii_isalnum((unsigned char)name[i]) && !strchr("._-", name[i])) return 0;
    return 1;
}

int nn_model_resolve(const char *ref, struct buf *out, struct err *err)
{
    size_t n = strlen(ref), el = strlen(NN_FILE_EXT);
    struct stat st;
    if (strchr(ref, '/') || (n > el && !strcmp(ref + n - el, NN_FILE_EXT)) || stat(ref, &st) == 0) {
        if (stat(ref, &st) != 0) return err_set(err, ERR_NOTFOUND, "%s: no such model file", ref);
        return buf_puts(out, ref) ? err_set(err, ERR_NOMEM, "%s", ref) : ERR_OK;
    }
    if (!nn_name_ok(ref))
        return err_set(err, ERR_ARG, "'%s' is not a model name (letters, digits, . _ -)", ref);
    size_t base = out->len;
    int rc = nn_model_dir(out, err);
    if (rc) return rc;
    if (buf_printf(out, "/%s%s", ref, NN_FILE_EXT)) return err_set(err, ERR_NOMEM, "%s", ref);
    if (stat(out->data + base, &st) != 0)
        return err_set(err, ERR_NOTFOUND, "no model '%s' (looked for %s; vericite model list)", ref,
                       out->data + base);
    return ERR_OK;
}
