/* nn_tok_import.c - reading a Hugging Face folder's BERT tokenizer: tokenizer.json, or vocab.txt
 * with tokenizer_config.json (jansson). Anything the tokenizer cannot run exactly is refused. */
#include "index/nn/nn_tok.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "file.h"
#include "utf8.h"

#define NN_TOK_MAX_LENGTH (1 << 20) /* a model_max_length above this is HF's "no limit" */

/* What an import is building. */
struct imp {
    const char *dir;
    struct buf path; /* scratch: dir/name */
    char **tok;      /* (n) token strings in id order */
    int32_t n;
    json_t *cfg; /* tokenizer_config.json, or NULL */
    struct nn_tok_opts *o;
};

static const char *path_of(struct imp *im, const char *name)
{
    buf_reset(&im->path);
    if (buf_printf(&im->path, "%s/%s", im->dir, name)) return NULL;
    return im->path.data;
}

static int exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Parse JSON file `name` in the folder into *out (jansson `flags`). ERR_NOTFOUND when there is
 * no such file. */
static int load_json(struct imp *im, const char *name, size_t flags, json_t **out, struct err *err)
{
    *out = NULL;
    const char *p = path_of(im, name);
    if (!p) return err_set(err, ERR_NOMEM, "%s", name);
    struct buf b = {0};
    int rc = file_read_all(p, NN_TOK_MAX_FILE, &b, err);
    if (rc) return rc;
    json_error_t je;
    *out = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES | flags, &je);
    buf_cleanup(&b);
    if (!*out) return err_set(err, ERR_PARSE, "%s:%d:%d: %s", p, je.line, je.column, je.text);
    return 0;
}

/* The id of token s (its last occurrence, as HF's vocabulary maps), or -1. */
static int32_t find(const struct imp *im, const char *s)
{
    for (int32_t i = im->n; i-- > 0;)
        if (strcmp(im->tok[i], s) == 0) return i;
    return -1;
}

/* A special token's name in tokenizer_config.json: a string or {"content": ...}; else `def`. */
static const char *cfg_token(const struct imp *im, const char *key, const char *def)
{
    json_t *v = im->cfg ? json_object_get(im->cfg, key) : NULL;
    if (json_is_object(v)) v = json_object_get(v, "content");
    return json_is_string(v) ? json_string_value(v) : def;
}

/* Boolean member `key` of o: 1/0, `def` when absent, -1 for null (and for null `def`). */
static int json_flag(json_t *o, const char *key, int def)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (!v) return def;
    if (json_is_null(v)) return -1;
    return json_is_true(v) ? 1 : 0;
}

static void set_prefix(struct nn_tok_opts *o, const char *p)
{
    memset(o->prefix, 0, sizeof o->prefix);
    memcpy(o->prefix, p, strlen(p)); /* caller checked strlen(p) < sizeof o->prefix */
}

/* pad and mask: the names tokenizer_config.json gives (or pad_default / "[MASK]"), -1 when the
 * vocabulary has no such token. */
static void pad_and_mask(struct imp *im, const char *pad_default)
{
    im->o->pad_id = find(im, cfg_token(im, "pad_token", pad_default));
    im->o->mask_id = find(im, cfg_token(im, "mask_token", "[MASK]"));
}

/* ---------------------------------------------------------------- vocab.txt */

/* Split vocab.txt as Python's load_vocab reads it: universal newlines (\n, \r\n, \r), only the
 * line end removed, a last line without one counted. */
static int read_vocab_txt(struct imp *im, const char *p, struct err *err)
{
    struct buf b = {0};
    int rc = file_read_all(p, NN_TOK_MAX_FILE, &b, err);
    if (rc) return rc;
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\n' || (b.data[i] == '\r' && (i + 1 == b.len || b.data[i + 1] != '\n')))
            lines++;
    if (b.len && b.data[b.len - 1] != '\n' && b.data[b.len - 1] != '\r') lines++;
    if (lines > NN_TOK_MAX_VOCAB) {
        rc = err_set(err, ERR_LIMIT, "%s: %zu tokens (at most %d)", p, lines, NN_TOK_MAX_VOCAB);
        goto done;
    }
    if (lines == 0) {
        rc = err_set(err, ERR_ARG, "%s: no tokens", p);
        goto done;
    }
    im->tok = calloc(lines, sizeof *im->tok);
    if (!im->tok) {
        rc = err_set(err, ERR_NOMEM, "%s", p);
        goto done;
    }
    for (size_t i = 0; i < b.len;) {
        size_t j = i;
        while (j < b.len && b.data[j] != '\n' && b.data[j] != '\r')
            j++;
        if (memchr(b.data + i, 0, j - i) || !utf8_valid(b.data + i, j - i, NULL)) {
            rc = err_set(err, ERR_PARSE, "%s:%ld: not UTF-8 text (or a NUL byte)", p,
                         (long)im->n + 1);
            goto done;
        }
        im->tok[im->n] = strndup(b.data + i, j - i);
        if (!im->tok[im->n]) {
            rc = err_set(err, ERR_NOMEM, "%s", p);
            goto done;
        }
        im->n++;
        if (j < b.len && b.data[j] == '\r' && j + 1 < b.len && b.data[j + 1] == '\n') j++;
        i = j + 1;
    }
done:
    buf_cleanup(&b);
    return rc;
}

/* 1 when tokenizer_config.json names no tokenizer_class or a BERT-family one (whose transformers
 * classes read do_lower_case, strip_accents and tokenize_chinese_chars). */
static int bert_class(json_t *cfg)
{
    static const char *const ok[] = {"BertTokenizer",       "BertTokenizerFast",
                                     "DistilBertTokenizer", "DistilBertTokenizerFast",
                                     "ElectraTokenizer",    "ElectraTokenizerFast"};
    json_t *cls = json_object_get(cfg, "tokenizer_class");
    if (!json_is_string(cls)) return 1;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(json_string_value(cls), ok[i]) == 0) return 1;
    return 0;
}

/* BertTokenizer's normalisation settings from tokenizer_config.json, with its defaults. */
static void bert_settings(struct imp *im)
{
    struct nn_tok_opts *o = im->o;
    o->lowercase = json_flag(im->cfg, "do_lower_case", 1) == 1;
    int strip = json_flag(im->cfg, "strip_accents", -1);
    o->strip_accents = strip < 0 ? o->lowercase : strip;
    o->chinese_chars = json_flag(im->cfg, "tokenize_chinese_chars", 1) == 1;
}

/* The tokenizer_config.json checks for a vocab.txt folder: a BERT-family tokenizer class, basic
 * tokenisation on, no added tokens beyond the five special ones. */
static int check_txt_config(struct imp *im, const char *cfgp, struct err *err)
{
    json_t *cls = json_object_get(im->cfg, "tokenizer_class");
    if (!bert_class(im->cfg))
        return err_set(err, ERR_ARG, "%s: tokenizer_class %s is not a BERT WordPiece tokenizer",
                       cfgp, json_string_value(cls));
    if (json_flag(im->cfg, "do_basic_tokenize", 1) == 0)
        return err_set(err, ERR_ARG, "%s: do_basic_tokenize false is not supported", cfgp);
    json_t *extra = json_object_get(im->cfg, "additional_special_tokens");
    if (json_is_array(extra) && json_array_size(extra) > 0)
        return err_set(err, ERR_ARG, "%s: additional_special_tokens are not supported", cfgp);
    const struct nn_tok_opts *o = im->o;
    const int32_t sp[5] = {o->cls_id, o->sep_id, o->pad_id, o->unk_id, o->mask_id};
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(im->cfg, "added_tokens_decoder"), key, v)
    {
        char *end;
        errno = 0;
        long id = strtol(key, &end, 10);
        json_t *c = json_object_get(v, "content");
        int role = 0;
        for (int i = 0; i < 5; i++)
            role |= sp[i] >= 0 && sp[i] == id;
        if (errno || *end || !json_is_string(c) || !role ||
            strcmp(im->tok[id], json_string_value(c)) != 0)
            return err_set(err, ERR_ARG,
                           "%s: added token %s is not one of the special tokens of vocab.txt "
                           "(only [CLS] [SEP] [PAD] [UNK] [MASK] are supported)",
                           cfgp, key);
    }
    return 0;
}

static int from_vocab_txt(struct imp *im, struct err *err)
{
    const char *q = path_of(im, "vocab.txt");
    char *vp = q ? strdup(q) : NULL;
    q = path_of(im, "tokenizer_config.json");
    char *cfgp = q ? strdup(q) : NULL;
    int rc = 0;
    if (!vp || !cfgp) {
        rc = err_set(err, ERR_NOMEM, "%s", im->dir);
        goto done;
    }
    if ((rc = read_vocab_txt(im, vp, err))) goto done;
    struct nn_tok_opts *o = im->o;
    bert_settings(im);
    o->clean_text = 1;
    o->max_chars_per_word = 100;
    set_prefix(o, "##");
    const char *need[3] = {"unk_token", "cls_token", "sep_token"};
    const char *def[3] = {"[UNK]", "[CLS]", "[SEP]"};
    int32_t *dst[3] = {&o->unk_id, &o->cls_id, &o->sep_id};
    for (int i = 0; i < 3; i++) {
        const char *name = cfg_token(im, need[i], def[i]);
        *dst[i] = find(im, name);
        if (*dst[i] < 0) {
            rc = err_set(err, ERR_ARG, "%s: no %s token (%s in tokenizer_config.json)", vp, name,
                         need[i]);
            goto done;
        }
    }
    pad_and_mask(im, "[PAD]");
    if (im->cfg) rc = check_txt_config(im, cfgp, err);
done:
    free(vp);
    free(cfgp);
    return rc;
}

/* ---------------------------------------------------------------- tokenizer.json */

static const char *type_of(json_t *o)
{
    json_t *t = json_object_get(o, "type");
    return json_is_string(t) ? json_string_value(t) : "(none)";
}

static int json_vocab(struct imp *im, json_t *vocab, const char *p, struct err *err)
{
    size_t n = json_object_size(vocab);
    if (n == 0) return err_set(err, ERR_ARG, "%s: model.vocab is empty or missing", p);
    if (n > NN_TOK_MAX_VOCAB)
        return err_set(err, ERR_LIMIT, "%s: %zu tokens (at most %d)", p, n, NN_TOK_MAX_VOCAB);
    im->tok = calloc(n, sizeof *im->tok);
    if (!im->tok) return err_set(err, ERR_NOMEM, "%s", p);
    im->n = (int32_t)n;
    const char *key;
    json_t *v;
    json_object_foreach(vocab, key, v)
    {
        json_int_t id = json_is_integer(v) ? json_integer_value(v) : -1;
        if (id < 0 || (size_t)id >= n || im->tok[id])
            return err_set(err, ERR_ARG,
                           "%s: model.vocab ids are not 0..%zu once each (\"%s\": %s)", p, n - 1,
                           key, json_is_integer(v) ? "repeated or out of range" : "not an integer");
        im->tok[id] = strdup(key);
        if (!im->tok[id]) return err_set(err, ERR_NOMEM, "%s", p);
    }
    return 0;
}

/* A template item: {"SpecialToken": {"id": X, "type_id": T}} or {"Sequence": {"id": A|B, ...}}.
 * Writes "S"/"Q" to *kind. Returns 0, or -1 when it is neither. */
static int tpl_item(json_t *it, char *kind, const char **id, json_int_t *type)
{
    json_t *v = json_object_get(it, "SpecialToken");
    *kind = 'S';
    if (!v) {
        v = json_object_get(it, "Sequence");
        *kind = 'Q';
    }
    json_t *i = json_object_get(v, "id"), *ty = json_object_get(v, "type_id");
    if (!json_is_string(i) || !json_is_integer(ty)) return -1;
    *id = json_string_value(i);
    *type = json_integer_value(ty);
    return 0;
}

/* The id of template special token `name`: special_tokens[name].ids must be one id whose
 * vocabulary string is `name`. */
static int tpl_special(struct imp *im, json_t *pp, const char *name, int32_t *out, const char *p,
                       struct err *err)
{
    json_t *ids =
        json_object_get(json_object_get(json_object_get(pp, "special_tokens"), name), "ids");
    json_int_t id = json_array_size(ids) == 1 && json_is_integer(json_array_get(ids, 0))
                        ? json_integer_value(json_array_get(ids, 0))
                        : -1;
    if (id < 0 || id >= im->n || strcmp(im->tok[id], name) != 0)
        return err_set(err, ERR_ARG,
                       "%s: post_processor special token %s is not one vocabulary token", p, name);
    *out = (int32_t)id;
    return 0;
}

/* The BERT template only: single [CLS]:0 $A:0 [SEP]:0, pair ... $B:1 [SEP]:1. */
static int template_bert(struct imp *im, json_t *pp, const char *p, struct err *err)
{
    static const char want_kind[] = "SQSQS";
    static const json_int_t want_type[] = {0, 0, 0, 1, 1};
    json_t *single = json_object_get(pp, "single"), *pair = json_object_get(pp, "pair");
    const char *ids[5] = {0}, *bad = NULL;
    if (json_array_size(single) != 3 || json_array_size(pair) != 5) bad = "length";
    for (size_t i = 0; !bad && i < 8; i++) {
        json_t *it = i < 3 ? json_array_get(single, i) : json_array_get(pair, i - 3);
        size_t k = i < 3 ? i : i - 3;
        char kind;
        const char *id;
        json_int_t type;
        if (tpl_item(it, &kind, &id, &type) || kind != want_kind[k] || type != want_type[k])
            bad = "items";
        else if (i >= 3 && ids[k] && strcmp(ids[k], id) != 0)
            bad = "single and pair differ";
        else
            ids[k] = id;
    }
    if (!bad &&
        (strcmp(ids[1], "A") != 0 || strcmp(ids[3], "B") != 0 || strcmp(ids[2], ids[4]) != 0))
        bad = "sequences";
    if (bad)
        return err_set(
            err, ERR_ARG,
            "%s: post_processor TemplateProcessing is not [CLS] $A [SEP] (pair: [CLS] $A "
            "[SEP] $B:1 [SEP]:1) (%s)",
            p, bad);
    int rc = tpl_special(im, pp, ids[0], &im->o->cls_id, p, err);
    return rc ? rc : tpl_special(im, pp, ids[2], &im->o->sep_id, p, err);
}

static int post_processor(struct imp *im, json_t *pp, const char *p, struct err *err)
{
    const char *type = type_of(pp);
    if (strcmp(type, "TemplateProcessing") == 0) return template_bert(im, pp, p, err);
    if (strcmp(type, "BertProcessing") != 0)
        return err_set(err, ERR_ARG, "%s: post_processor %s is not supported (BERT template only)",
                       p, json_is_null(pp) || !pp ? "null" : type);
    const char *key[2] = {"cls", "sep"};
    int32_t *dst[2] = {&im->o->cls_id, &im->o->sep_id};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(pp, key[i]);
        json_t *name = json_array_get(v, 0), *id = json_array_get(v, 1);
        json_int_t k = json_is_integer(id) ? json_integer_value(id) : -1;
        if (!json_is_string(name) || k < 0 || k >= im->n ||
            strcmp(im->tok[k], json_string_value(name)) != 0)
            return err_set(err, ERR_ARG, "%s: post_processor %s is not one vocabulary token", p,
                           key[i]);
        *dst[i] = (int32_t)k;
    }
    return 0;
}

static int normalizer(struct imp *im, json_t *nz, const char *p, struct err *err)
{
    struct nn_tok_opts *o = im->o;
    if (!nz || json_is_null(nz)) return 0; /* no normalizer: all four steps off */
    if (strcmp(type_of(nz), "BertNormalizer") != 0)
        return err_set(err, ERR_ARG, "%s: normalizer %s is not supported (BertNormalizer only)", p,
                       type_of(nz));
    o->clean_text = json_flag(nz, "clean_text", 1) == 1;
    o->chinese_chars = json_flag(nz, "handle_chinese_chars", 1) == 1;
    o->lowercase = json_flag(nz, "lowercase", 1) == 1;
    int strip = json_flag(nz, "strip_accents", -1);
    o->strip_accents = strip < 0 ? o->lowercase : strip;
    return 0;
}

/* added_tokens: each must be a special, not normalised, not single_word token that is one of the
 * five special tokens (only those are matched in raw text). lstrip/rstrip only drop white space
 * that BertPreTokenizer drops anyway. */
static int added_tokens(struct imp *im, json_t *arr, const char *p, struct err *err)
{
    const struct nn_tok_opts *o = im->o;
    const int32_t sp[5] = {o->cls_id, o->sep_id, o->pad_id, o->unk_id, o->mask_id};
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        json_t *id = json_object_get(v, "id"), *c = json_object_get(v, "content");
        json_int_t k = json_is_integer(id) ? json_integer_value(id) : -1;
        int role = 0;
        for (int r = 0; r < 5; r++)
            role |= sp[r] >= 0 && sp[r] == k;
        if (!json_is_string(c) || k < 0 || k >= im->n || strcmp(im->tok[k], json_string_value(c)) ||
            !role || json_flag(v, "special", 0) != 1 || json_flag(v, "normalized", 0) == 1 ||
            json_flag(v, "single_word", 0) == 1)
            return err_set(err, ERR_ARG,
                           "%s: added token %zu (%s) is not supported (only the special tokens "
                           "[CLS] [SEP] [PAD] [UNK] [MASK] of the vocabulary, not normalized)",
                           p, i, json_is_string(c) ? json_string_value(c) : "?");
    }
    return 0;
}

static int from_tokenizer_json(struct imp *im, struct err *err)
{
    json_t *root = NULL;
    int rc = load_json(im, "tokenizer.json", 0, &root, err);
    if (rc) return rc;
    char *p = strdup(im->path.data);
    if (!p) {
        json_decref(root);
        return err_set(err, ERR_NOMEM, "%s", im->dir);
    }
    struct nn_tok_opts *o = im->o;
    json_t *model = json_object_get(root, "model");
    json_t *unk = json_object_get(model, "unk_token"),
           *pre = json_object_get(model, "continuing_subword_prefix");
    json_t *mx = json_object_get(model, "max_input_chars_per_word");
    json_t *padding = json_object_get(root, "padding");
    json_t *padtok = json_object_get(padding, "pad_token");
    if (strcmp(type_of(model), "WordPiece") != 0) {
        rc = err_set(err, ERR_ARG, "%s: model %s is not supported (WordPiece only)", p,
                     type_of(model));
        goto done;
    }
    if ((rc = json_vocab(im, json_object_get(model, "vocab"), p, err))) goto done;
    o->unk_id = json_is_string(unk) ? find(im, json_string_value(unk)) : -1;
    if (o->unk_id < 0) {
        rc = err_set(err, ERR_ARG, "%s: model.unk_token is missing or not in the vocabulary", p);
        goto done;
    }
    const char *prefix = json_is_string(pre) ? json_string_value(pre) : "##";
    if (strlen(prefix) >= sizeof o->prefix) {
        rc = err_set(err, ERR_ARG, "%s: continuing_subword_prefix \"%s\" is too long", p, prefix);
        goto done;
    }
    set_prefix(o, prefix);
    if (mx && !json_is_null(mx) &&
        (!json_is_integer(mx) || json_integer_value(mx) < 1 || json_integer_value(mx) > 1000000)) {
        rc = err_set(err, ERR_ARG, "%s: max_input_chars_per_word is not a positive integer", p);
        goto done;
    }
    o->max_chars_per_word = json_is_integer(mx) ? (int)json_integer_value(mx) : 100;
    json_t *nz = json_object_get(root, "normalizer");
    if ((rc = normalizer(im, nz, p, err))) goto done;
    /* transformers' BertTokenizerFast (what AutoTokenizer loads) replaces the BertNormalizer's
     * lowercase, strip_accents and handle_chinese_chars by tokenizer_config.json's values */
    if (im->cfg && bert_class(im->cfg) && json_is_object(nz)) bert_settings(im);
    json_t *pt = json_object_get(root, "pre_tokenizer");
    if (strcmp(type_of(pt), "BertPreTokenizer") != 0) {
        rc = err_set(err, ERR_ARG, "%s: pre_tokenizer %s is not supported (BertPreTokenizer only)",
                     p, type_of(pt));
        goto done;
    }
    if ((rc = post_processor(im, json_object_get(root, "post_processor"), p, err))) goto done;
    pad_and_mask(im, json_is_string(padtok) ? json_string_value(padtok) : "[PAD]");
    rc = added_tokens(im, json_object_get(root, "added_tokens"), p, err);
done:
    free(p);
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------- the folder */

/* tokenizer_config.json's model_max_length when it is a real limit, else config.json's
 * max_position_embeddings, else 512. */
static int max_length(struct imp *im, struct err *err)
{
    json_t *v = im->cfg ? json_object_get(im->cfg, "model_max_length") : NULL;
    if (!v && im->cfg) v = json_object_get(im->cfg, "max_len");
    double d = json_is_number(v) ? json_number_value(v) : 0;
    if (d >= 1 && d <= NN_TOK_MAX_LENGTH) {
        im->o->model_max_length = (int)d;
        return 0;
    }
    json_t *conf = NULL;
    int rc = load_json(im, "config.json", JSON_DECODE_INT_AS_REAL, &conf, err);
    if (rc == ERR_NOTFOUND) {
        err_clear(err);
        rc = 0;
    }
    if (rc) return rc;
    json_t *mp = json_object_get(conf, "max_position_embeddings");
    double m = json_is_number(mp) ? json_number_value(mp) : 0;
    im->o->model_max_length = m >= 1 && m <= NN_TOK_MAX_LENGTH ? (int)m : 512;
    json_decref(conf);
    return 0;
}

int nn_tok_import_hf(const char *dir, char ***tokens, int32_t *n, struct nn_tok_opts *opts,
                     struct err *err)
{
    *tokens = NULL;
    *n = 0;
    memset(opts, 0, sizeof *opts);
    struct nn_tok_opts o = {0};
    o.pad_id = o.mask_id = -1;
    struct imp im = {.dir = dir, .o = &o};
    /* HF writes "no limit" as model_max_length 1000000000000000019884624838656 */
    int rc = load_json(&im, "tokenizer_config.json", JSON_DECODE_INT_AS_REAL, &im.cfg, err);
    if (rc == ERR_NOTFOUND) {
        err_clear(err);
        rc = 0;
    }
    if (rc) goto fail;
    if (exists(path_of(&im, "tokenizer.json")))
        rc = from_tokenizer_json(&im, err);
    else if (exists(path_of(&im, "vocab.txt")))
        rc = from_vocab_txt(&im, err);
    else
        rc = err_set(err, ERR_NOTFOUND, "%s: no tokenizer.json or vocab.txt", dir);
    if (!rc) rc = max_length(&im, err);
    if (rc) goto fail;
    struct nn_tok *check = NULL; /* what the model file will rebuild must build */
    if ((rc = nn_tok_new(&check, (const char *const *)im.tok, im.n, &o, err))) {
        err_prefix(err, "%s", dir);
        goto fail;
    }
    nn_tok_free(check);
    *tokens = im.tok;
    *n = im.n;
    *opts = o;
    json_decref(im.cfg);
    buf_cleanup(&im.path);
    return 0;
fail:
    nn_tok_tokens_free(im.tok, im.n);
    json_decref(im.cfg);
    buf_cleanup(&im.path);
    return rc;
}

void nn_tok_tokens_free(char **tokens, int32_t n)
{
    if (!tokens) return;
    for (int32_t i = 0; i < n; i++)
        free(tokens[i]);
    free(tokens);
}
