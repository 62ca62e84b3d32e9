/* nn_import.c - Hugging Face / sentence-transformers model folders into vericite model files:
 * config.json and the sentence-transformers module files decide what the model is, every tensor
 * the forward pass needs is checked against them, then nn_file_write converts it once. Anything
 * that could not be run exactly is refused before a byte is written. */
#include "index/nn/nn_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"

/* What the folder says, gathered before the tensors are looked at. */
struct imp {
    const char *dir;
    char mdir[4096];     /* the transformer's folder (dir, or dir/<path> from modules.json) */
    char pool_cfg[4096]; /* the Pooling module's config.json, "" when none */
    int pool_found, normalize, st_max_seq;
    struct nn_info in;
    char **tokens; /* (ntokens), owned */
    int32_t ntokens;
    char **labels; /* (num_labels), owned */
    char name[NN_MAX_NAME + 1];
};

/* out = a "/" b; -1 when it does not fit in n bytes. */
static int pjoin(char *out, size_t n, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb >= n) {
        out[0] = '\0';
        return -1;
    }
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb + 1);
    return 0;
}

int nn_is_hf_dir(const char *path)
{
    struct stat st;
    char p[4096];
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    pjoin(p, sizeof p, path, "config.json");
    if (stat(p, &st) == 0) return 1;
    pjoin(p, sizeof p, path, "modules.json");
    return stat(p, &st) == 0;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Load a JSON file: ERR_NOTFOUND when absent, ERR_PARSE with line and column. */
static int load_json(const char *path, json_t **out, struct err *err)
{
    json_error_t je;
    *out = NULL;
    if (!exists(path)) return err_set(err, ERR_NOTFOUND, "%s: no such file", path);
    if (!(*out = json_load_file(path, JSON_REJECT_DUPLICATES, &je)))
        return err_set(err, ERR_PARSE, "%s: line %d column %d: %s", path, je.line, je.column,
                       je.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return err_set(err, ERR_PARSE, "%s: not a JSON object", path);
    }
    return ERR_OK;
}

/* ---------------------------------------------------------------- sentence-transformers modules */

static int read_modules(struct imp *im, struct err *err)
{
    char path[4096];
    snprintf(im->mdir, sizeof im->mdir, "%s", im->dir);
    pjoin(path, sizeof path, im->dir, "modules.json");
    if (!exists(
            path)) { /* a plain Hugging Face folder; a 1_Pooling/ or 2_Normalize/ still counts */
        pjoin(path, sizeof path, im->dir, "1_Pooling/config.json");
        if (exists(path)) snprintf(im->pool_cfg, sizeof im->pool_cfg, "%s", path);
        pjoin(path, sizeof path, im->dir, "2_Normalize");
        im->normalize = exists(path);
        return ERR_OK;
    }
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(err, ERR_PARSE, "%s: line %d column %d: %s", path, je.line, je.column,
                       je.text);
    int rc = ERR_OK, have_tf = 0;
    if (!json_is_array(root)) {
        rc = err_set(err, ERR_PARSE, "%s: not a JSON array of modules", path);
        goto done;
    }
    size_t i;
    json_t *m;
    json_array_foreach(root, i, m)
    {
        const char *type = json_string_value(json_object_get(m, "type"));
        const char *mp = json_string_value(json_object_get(m, "path"));
        if (!type || !mp) {
            rc = err_set(err, ERR_PARSE, "%s: module %zu needs \"type\" and \"path\"", path, i);
            goto done;
        }
        if (strstr(mp, "..")) {
            rc = err_set(err, ERR_ARG, "%s: module path '%s' leaves the folder", path, mp);
            goto done;
        }
        if (!strcmp(type, "sentence_transformers.models.Transformer") && i == 0) {
            if (*mp) pjoin(im->mdir, sizeof im->mdir, im->dir, mp);
            have_tf = 1;
        } else if (!strcmp(type, "sentence_transformers.models.Pooling") && have_tf &&
                   !im->pool_cfg[0]) {
            char sub[4096];
            pjoin(sub, sizeof sub, im->dir, mp);
            pjoin(im->pool_cfg, sizeof im->pool_cfg, sub, "config.json");
        } else if (!strcmp(type, "sentence_transformers.models.Normalize") && im->pool_cfg[0] &&
                   !im->normalize) {
            im->normalize = 1;
        } else {
            rc = err_set(err, ERR_ARG,
                         "%s: module %zu (%s, path '%s') is not supported: vericite runs a "
                         "Transformer, then Pooling, then optionally Normalize",
                         path, i, type, mp);
            goto done;
        }
    }
    if (!have_tf) rc = err_set(err, ERR_ARG, "%s: no Transformer module first", path);
done:
    json_decref(root);
    return rc;
}

static int read_pooling(struct imp *im, struct err *err)
{
    im->in.pool = NN_POOL_MEAN; /* sentence-transformers' default for a bare model */
    if (!im->pool_cfg[0]) return ERR_OK;
    json_t *c = NULL;
    int rc = load_json(im->pool_cfg, &c, err);
    if (rc) return rc;
    static const struct {
        const char *key;
        int pool;
    } modes[] = {{"pooling_mode_cls_token", NN_POOL_CLS},
                 {"pooling_mode_mean_tokens", NN_POOL_MEAN},
                 {"pooling_mode_max_tokens", NN_POOL_MAX},
                 {"pooling_mode_mean_sqrt_len_tokens", NN_POOL_MEAN_SQRT},
                 {"pooling_mode_weightedmean_tokens", 0},
                 {"pooling_mode_lasttoken", 0}};
    int n = 0, pool = 0;
    const char *which = NULL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (json_is_true(json_object_get(c, modes[i].key))) {
            n++;
            pool = modes[i].pool;
            which = modes[i].key;
        }
    json_t *dim = json_object_get(c, "word_embedding_dimension");
    if (n != 1)
        rc = err_set(err, ERR_ARG,
                     "%s: %d pooling modes on: vericite supports exactly one of cls, mean, max, "
                     "mean_sqrt_len",
                     im->pool_cfg, n);
    else if (!pool)
        rc = err_set(err, ERR_ARG, "%s: %s is not supported (cls, mean, max, mean_sqrt_len are)",
                     im->pool_cfg, which);
    else if (json_is_false(json_object_get(c, "include_prompt")))
        rc = err_set(err, ERR_ARG, "%s: include_prompt false is not supported", im->pool_cfg);
    else if (dim && json_integer_value(dim) != im->in.hidden)
        rc = err_set(err, ERR_MISMATCH,
                     "%s: word_embedding_dimension %lld, config.json hidden_size %d", im->pool_cfg,
                     (long long)json_integer_value(dim), im->in.hidden);
    im->in.pool = pool;
    json_decref(c);
    return rc;
}

/* sentence_bert_config.json beside the transformer (or at the top): max_seq_length, the length
 * sentence-transformers truncates to. */
static int read_st_config(struct imp *im, struct err *err)
{
    char path[4096];
    pjoin(path, sizeof path, im->mdir, "sentence_bert_config.json");
    if (!exists(path)) pjoin(path, sizeof path, im->dir, "sentence_bert_config.json");
    if (!exists(path)) return ERR_OK;
    json_t *c = NULL;
    int rc = load_json(path, &c, err);
    if (rc) return rc;
    json_t *m = json_object_get(c, "max_seq_length");
    if (json_is_integer(m) && json_integer_value(m) >= 2)
        im->st_max_seq = (int)json_integer_value(m);
    if (json_is_true(json_object_get(c, "do_lower_case")) && !im->in.tok.lowercase)
        rc =
            err_set(err, ERR_ARG,
                    "%s: do_lower_case over a cased tokenizer is not supported (Python's str.lower "
                    "before WordPiece)",
                    path);
    json_decref(c);
    return rc;
}

/* ---------------------------------------------------------------- config.json */

static int cfg_int(json_t *c, const char *path, const char *key, int dflt, int lo, int hi, int *out,
                   struct err *err)
{
    json_t *v = json_object_get(c, key);
    if (!v) {
        if (dflt < 0) return err_set(err, ERR_ARG, "%s: no \"%s\"", path, key);
        *out = dflt;
        return ERR_OK;
    }
    if (!json_is_integer(v))
        return err_set(err, ERR_PARSE, "%s: \"%s\" is not an integer", path, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return err_set(err, ERR_LIMIT, "%s: \"%s\" %lld out of range [%d, %d]", path, key,
                       (long long)x, lo, hi);
    *out = (int)x;
    return ERR_OK;
}

/* The architecture: a BERT encoder or sequence classifier, else ERR_ARG naming what it is. */
static int cfg_arch(struct imp *im, json_t *c, const char *path, struct err *err)
{
    const char *mt = json_string_value(json_object_get(c, "model_type"));
    json_t *archs = json_object_get(c, "architectures");
    const char *arch = json_string_value(json_array_get(archs, 0));
    static const char support[] =
        "vericite runs BERT models: BertModel (encoders, sentence-transformers) and "
        "BertForSequenceClassification (cross-encoders, NLI)";
    if (!mt && !arch)
        return err_set(err, ERR_ARG, "%s: no model_type or architectures: %s", path, support);
    if (mt && strcmp(mt, "bert") != 0)
        return err_set(err, ERR_ARG, "%s: model_type '%s' (%s) is not supported: %s", path, mt,
                       arch ? arch : "no architectures", support);
    if (json_array_size(archs) > 1)
        return err_set(err, ERR_ARG, "%s: %zu architectures: %s", path, json_array_size(archs),
                       support);
    im->in.arch = NN_ARCH_BERT;
    if (!arch || !strcmp(arch, "BertModel") || !strcmp(arch, "BertForMaskedLM") ||
        !strcmp(arch, "BertForPreTraining"))
        im->in.head = NN_HEAD_ENCODER;
    else if (!strcmp(arch, "BertForSequenceClassification"))
        im->in.head = NN_HEAD_CLASSIFIER;
    else
        return err_set(err, ERR_ARG, "%s: architecture '%s' is not supported: %s", path, arch,
                       support);
    return ERR_OK;
}

/* id2label of a classifier: names in id order; else num_labels LABEL_i. */
static int cfg_labels(struct imp *im, json_t *c, const char *path, struct err *err)
{
    json_t *id2 = json_object_get(c, "id2label");
    int n = 0, rc;
    if (id2 && !json_is_object(id2))
        return err_set(err, ERR_PARSE, "%s: id2label is not an object", path);
    if (id2 && json_object_size(id2) > 0) {
        n = (int)json_object_size(id2);
        if (n > NN_MAX_LABELS) return err_set(err, ERR_LIMIT, "%s: %d labels", path, n);
    } else if ((rc = cfg_int(c, path, "num_labels", 2, 1, NN_MAX_LABELS, &n, err))) {
        return rc;
    }
    if (!(im->labels = calloc((size_t)n, sizeof *im->labels)))
        return err_set(err, ERR_NOMEM, "%s", path);
    im->in.num_labels = n;
    for (int i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", i);
        const char *s = id2 ? json_string_value(json_object_get(id2, key)) : NULL;
        struct buf b = {0};
        if (id2 && json_object_size(id2) > 0 && !s)
            return err_set(err, ERR_PARSE, "%s: id2label has no string for id %d", path, i);
        if (s && strlen(s) > NN_MAX_LABEL)
            return err_set(err, ERR_LIMIT, "%s: label %d longer than %d bytes", path, i,
                           NN_MAX_LABEL);
        if (s ? buf_puts(&b, s) : buf_printf(&b, "LABEL_%d", i))
            return err_set(err, ERR_NOMEM, "%s", path);
        im->labels[i] = buf_steal(&b);
    }
    return ERR_OK;
}

static int read_config(struct imp *im, struct err *err)
{
    char path[4096];
    pjoin(path, sizeof path, im->mdir, "config.json");
    json_t *c = NULL;
    int rc = load_json(path, &c, err);
    if (rc) return rc;
    struct nn_info *in = &im->in;
    if ((rc = cfg_arch(im, c, path, err))) goto done;
    if ((rc = cfg_int(c, path, "vocab_size", -1, 1, NN_MAX_VOCAB, &in->vocab, err)) ||
        (rc = cfg_int(c, path, "hidden_size", -1, 1, NN_MAX_HIDDEN, &in->hidden, err)) ||
        (rc = cfg_int(c, path, "num_hidden_layers", -1, 1, NN_MAX_LAYERS, &in->layers, err)) ||
        (rc = cfg_int(c, path, "num_attention_heads", -1, 1, NN_MAX_HEADS, &in->heads, err)) ||
        (rc = cfg_int(c, path, "intermediate_size", -1, 1, NN_MAX_INTERMEDIATE, &in->intermediate,
                      err)) ||
        (rc = cfg_int(c, path, "max_position_embeddings", -1, 2, NN_MAX_POSITIONS,
                      &in->max_positions, err)) ||
        (rc = cfg_int(c, path, "type_vocab_size", 2, 1, 1024, &in->type_vocab, err)))
        goto done;
    if (in->hidden % in->heads) {
        rc = err_set(err, ERR_ARG, "%s: hidden_size %d is not a multiple of num_attention_heads %d",
                     path, in->hidden, in->heads);
        goto done;
    }
    const char *act = json_string_value(json_object_get(c, "hidden_act"));
    if (!act) act = "gelu";
    in->act = !strcmp(act, "gelu")                                            ? NN_ACT_GELU
              : !strcmp(act, "gelu_new") || !strcmp(act, "gelu_pytorch_tanh") ? NN_ACT_GELU_TANH
              : !strcmp(act, "relu")                                          ? NN_ACT_RELU
                                                                              : 0;
    if (!in->act) {
        rc = err_set(
            err, ERR_ARG,
            "%s: hidden_act '%s' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu are)",
            path, act);
        goto done;
    }
    const char *pe = json_string_value(json_object_get(c, "position_embedding_type"));
    if (pe && strcmp(pe, "absolute") != 0) {
        rc = err_set(err, ERR_ARG,
                     "%s: position_embedding_type '%s' is not supported (absolute is)", path, pe);
        goto done;
    }
    if (json_is_true(json_object_get(c, "is_decoder")) ||
        json_is_true(json_object_get(c, "add_cross_attention"))) {
        rc = err_set(err, ERR_ARG, "%s: decoders and cross-attention are not supported", path);
        goto done;
    }
    json_t *eps = json_object_get(c, "layer_norm_eps");
    in->layer_norm_eps = eps ? json_number_value(eps) : 1e-12;
    if (!(in->layer_norm_eps > 0 && in->layer_norm_eps < 1)) {
        rc = err_set(err, ERR_ARG, "%s: layer_norm_eps out of range", path);
        goto done;
    }
    if (in->head == NN_HEAD_CLASSIFIER) rc = cfg_labels(im, c, path, err);
done:
    json_decref(c);
    return rc;
}

/* ---------------------------------------------------------------- tensors */

struct tmap {
    const struct nn_st *st;
    const char *path;
    const char *prefix;
    int src_dtype;
};

/* Find the HF tensor `name` (after the prefix; LayerNorm .weight/.bias may be .gamma/.beta) of
 * shape (d0) or (d0, d1) and a readable dtype; append it as a source of *wt. */
static int take(struct tmap *tm, const char *pre, const char *name, uint64_t d0, uint64_t d1,
                struct nn_wtensor *wt, struct err *err)
{
    char full[256], alt[256];
    snprintf(full, sizeof full, "%s%s", pre, name);
    const struct nn_st_tensor *t = nn_st_find(tm->st, full);
    const char *ln = strstr(full, "LayerNorm.");
    if (!t && ln) { /* checkpoints converted from TensorFlow: LayerNorm.gamma / LayerNorm.beta */
        int stem = (int)(ln - full) + 10;
        snprintf(alt, sizeof alt, "%.*s%s", stem, full,
                 !strcmp(ln + 10, "weight") ? "gamma" : "beta");
        t = nn_st_find(tm->st, alt);
    }
    char want[96], have[96];
    if (d1)
        snprintf(want, sizeof want, "[%llu, %llu]", (unsigned long long)d0, (unsigned long long)d1);
    else
        snprintf(want, sizeof want, "[%llu]", (unsigned long long)d0);
    if (!t)
        return err_set(err, ERR_MISMATCH, "%s: missing tensor %s (shape %s from config.json)",
                       tm->path, full, want);
    if (!t->dtype)
        return err_set(err, ERR_ARG, "%s: tensor %s has dtype %s (vericite reads F32, F16, BF16)",
                       tm->path, t->name, t->dtype_name);
    if (t->ndim != (d1 ? 2 : 1) || t->shape[0] != d0 || (d1 && t->shape[1] != d1)) {
        nn_st_shape_str(t, have, sizeof have);
        return err_set(err, ERR_MISMATCH, "%s: tensor %s has shape %s, config.json says %s",
                       tm->path, t->name, have, want);
    }
    if (!tm->src_dtype) tm->src_dtype = t->dtype;
    wt->src[wt->nsrc++] = (struct nn_wsrc){t->data, t->dtype, t->numel};
    return ERR_OK;
}

static int map_tensors(struct tmap *tm, const struct nn_info *in, struct nn_wtensor *wt,
                       struct err *err)
{
    uint64_t h = (uint64_t)in->hidden, im = (uint64_t)in->intermediate;
    const char *p = tm->prefix;
    int rc, k = 0;
    if ((rc = take(tm, p, "embeddings.word_embeddings.weight", (uint64_t)in->vocab, h, &wt[k++],
                   err)) ||
        (rc = take(tm, p, "embeddings.position_embeddings.weight", (uint64_t)in->max_positions, h,
                   &wt[k++], err)) ||
        (rc = take(tm, p, "embeddings.token_type_embeddings.weight", (uint64_t)in->type_vocab, h,
                   &wt[k++], err)) ||
        (rc = take(tm, p, "embeddings.LayerNorm.weight", h, 0, &wt[k++], err)) ||
        (rc = take(tm, p, "embeddings.LayerNorm.bias", h, 0, &wt[k++], err)))
        return rc;
    for (int l = 0; l < in->layers; l++) {
        static const struct {
            const char *name;
            int kind; /* 0 (h,h) 1 (h) 2 (i,h) 3 (i) 4 (h,i) */
            int next; /* 1: starts a new output tensor */
        } parts[] = {{"attention.self.query.weight", 0, 1},
                     {"attention.self.key.weight", 0, 0},
                     {"attention.self.value.weight", 0, 0},
                     {"attention.self.query.bias", 1, 1},
                     {"attention.self.key.bias", 1, 0},
                     {"attention.self.value.bias", 1, 0},
                     {"attention.output.dense.weight", 0, 1},
                     {"attention.output.dense.bias", 1, 1},
                     {"attention.output.LayerNorm.weight", 1, 1},
                     {"attention.output.LayerNorm.bias", 1, 1},
                     {"intermediate.dense.weight", 2, 1},
                     {"intermediate.dense.bias", 3, 1},
                     {"output.dense.weight", 4, 1},
                     {"output.dense.bias", 1, 1},
                     {"output.LayerNorm.weight", 1, 1},
                     {"output.LayerNorm.bias", 1, 1}};
        uint64_t d[5][2] = {{h, h}, {h, 0}, {im, h}, {im, 0}, {h, im}};
        k--;
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
            char name[128];
            snprintf(name, sizeof name, "encoder.layer.%d.%s", l, parts[i].name);
            k += parts[i].next;
            if ((rc = take(tm, p, name, d[parts[i].kind][0], d[parts[i].kind][1], &wt[k], err)))
                return rc;
        }
        k++;
    }
    if (in->head == NN_HEAD_CLASSIFIER) {
        uint64_t nl = (uint64_t)in->num_labels;
        if ((rc = take(tm, p, "pooler.dense.weight", h, h, &wt[k++], err)) ||
            (rc = take(tm, p, "pooler.dense.bias", h, 0, &wt[k++], err)) ||
            (rc = take(tm, "", "classifier.weight", nl, h, &wt[k++], err)) ||
            (rc = take(tm, "", "classifier.bias", nl, 0, &wt[k++], err)))
            return rc;
    }
    return ERR_OK;
}

/* model.safetensors of the transformer's folder, with a helpful message when it is absent. */
static int open_weights(struct imp *im, struct nn_st **st, char *path, size_t n, struct err *err)
{
    pjoin(path, n, im->mdir, "model.safetensors");
    if (exists(path)) return nn_st_open(st, path, err);
    char alt[4096];
    pjoin(alt, sizeof alt, im->mdir, "model.safetensors.index.json");
    if (exists(alt))
        return err_set(err, ERR_ARG,
                       "%s: sharded safetensors are not supported (one model.safetensors is)", alt);
    pjoin(alt, sizeof alt, im->mdir, "pytorch_model.bin");
    if (exists(alt))
        return err_set(err, ERR_NOTFOUND,
                       "%s: no model.safetensors (pytorch_model.bin is not read: download the "
                       "repository's model.safetensors, or convert it with safetensors' tools)",
                       im->mdir);
    return err_set(err, ERR_NOTFOUND, "%s: no such file", path);
}

static int read_tokenizer(struct imp *im, struct err *err)
{
    int rc = nn_tok_import_hf(im->mdir, &im->tokens, &im->ntokens, &im->in.tok, err);
    if (rc) return rc;
    const struct nn_tok_opts *o = &im->in.tok;
    if (im->ntokens < 1 || im->ntokens > im->in.vocab)
        return err_set(err, ERR_MISMATCH, "%s: tokenizer has %d tokens, config.json vocab_size %d",
                       im->mdir, (int)im->ntokens, im->in.vocab);
    if (o->cls_id < 0 || o->cls_id >= im->ntokens || o->sep_id < 0 || o->sep_id >= im->ntokens)
        return err_set(err, ERR_ARG, "%s: tokenizer has no [CLS] or [SEP] token", im->mdir);
    im->in.ntokens = im->ntokens;
    return ERR_OK;
}

static void imp_free(struct imp *im)
{
    if (im->tokens) nn_tok_tokens_free(im->tokens, im->ntokens);
    for (int i = 0; im->labels && i < im->in.num_labels; i++)
        free(im->labels[i]);
    free(im->labels);
}

int nn_import_hf(const char *dir, const char *out, const struct nn_import_opts *opts,
                 struct err *err)
{
    struct imp im = {.dir = dir};
    struct nn_st *st = NULL;
    struct nn_wtensor *wt = NULL;
    char wpath[4096];
    int rc;
    const char *name = opts && opts->name ? opts->name : NULL;
    if (!name) { /* the folder's base name */
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
            n--;
        size_t b = n;
        while (b > 0 && dir[b - 1] != '/')
            b--;
        snprintf(im.name, sizeof im.name, "%.*s", (int)(n - b), dir + b);
    } else {
        snprintf(im.name, sizeof im.name, "%s", name);
    }
    if (strlen(dir) > 3000) {
        rc = err_set(err, ERR_LIMIT, "model folder path over 3000 bytes");
        goto done;
    }
    if (!nn_is_hf_dir(dir)) {
        rc = err_set(err, ERR_NOTFOUND, "%s: not a model folder (no config.json)", dir);
        goto done;
    }
    if ((rc = read_modules(&im, err)) || (rc = read_config(&im, err)) ||
        (rc = read_tokenizer(&im, err)) || (rc = read_st_config(&im, err)))
        goto done;
    if (im.in.head == NN_HEAD_ENCODER) {
        if ((rc = read_pooling(&im, err))) goto done;
    } else {
        im.in.pool = NN_POOL_CLS; /* the pooler reads [CLS] */
        if (im.pool_cfg[0] || im.normalize) {
            rc = err_set(err, ERR_ARG, "%s: pooling modules around a sequence classifier", dir);
            goto done;
        }
    }
    im.in.normalize = im.normalize;
    int ml = im.in.max_positions;
    if (im.in.tok.model_max_length >= 2 && im.in.tok.model_max_length < ml)
        ml = im.in.tok.model_max_length;
    if (im.st_max_seq >= 2 && im.st_max_seq < ml) ml = im.st_max_seq;
    im.in.max_len = ml;
    if ((rc = open_weights(&im, &st, wpath, sizeof wpath, err))) goto done;
    struct tmap tm = {st, wpath, "", 0};
    if (nn_st_find(st, "bert.embeddings.word_embeddings.weight")) tm.prefix = "bert.";
    int nt = nn_tensor_specs(&im.in, NULL, 0);
    if (!(wt = calloc((size_t)nt, sizeof *wt))) {
        rc = err_set(err, ERR_NOMEM, "%s", dir);
        goto done;
    }
    if ((rc = map_tensors(&tm, &im.in, wt, err))) goto done;
    im.in.source_dtype = tm.src_dtype;
    im.in.name = im.name;
    im.in.tokens = (const char *const *)im.tokens;
    im.in.labels = (const char *const *)im.labels;
    rc = nn_file_write(out, &im.in, wt, err);
done:
    free(wt);
    nn_st_close(st);
    imp_free(&im);
    return rc;
}
