/* nn_tok.c - the WordPiece tokenizer: vocabulary hash table, BERT normalisation and
 * pre-tokenisation (utf8proc), greedy longest-match WordPiece, truncation and the BERT template. */
#include "index/nn/nn_tok.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "ascii.h"
#include "buf.h"
#include "hash.h"
#include "utf8.h"
#include "vec.h"

#define NN_TOK_NSPEC 5    /* cls, sep, pad, unk, mask */
#define NN_TOK_CHUNK 4096 /* raw bytes normalised at a time (cut at ASCII white space) */

struct nn_slot {
    uint32_t tag; /* high half of the token's FNV-1a hash */
    int32_t id;   /* -1: empty */
};

struct nn_tok_seq { /* token ids of one text */
    int32_t *id;
    size_t n, cap;
};

struct nn_tok {
    struct nn_tok_opts o;
    int32_t n;
    char *blob;          /* every token, NUL-terminated, in id order */
    uint32_t *off;       /* (n + 1): token i is blob[off[i] .. off[i+1]-1) */
    struct nn_slot *tab; /* open addressing, linear probing */
    uint32_t mask;       /* table size - 1 (a power of two) */
    size_t max_len;      /* longest token, in bytes */
    size_t plen;         /* strlen(o.prefix) */
    struct {
        const char *s; /* inside blob */
        size_t len;
        int32_t id;
    } spec[NN_TOK_NSPEC];
    int nspec;
    unsigned char first[256]; /* 1 for a byte that starts a special token */
    /* scratch, reused by every call */
    struct buf fixed;     /* the repaired input when it was not UTF-8 */
    struct buf utf;       /* UTF-8 of a chunk for utf8proc_decompose, then of a word */
    utf8proc_int32_t *cp; /* normalised code points of a chunk */
    size_t ncp, cpcap;
    utf8proc_int32_t *dec; /* utf8proc_decompose output */
    size_t deccap;
    size_t *bnd; /* (word chars + 1) byte offsets of a word's characters */
    size_t bndcap;
    struct nn_tok_seq seq[2];
};

/* ---------------------------------------------------------------- vocabulary */

static size_t tok_len(const struct nn_tok *t, int32_t id)
{
    return t->off[id + 1] - t->off[id] - 1;
}

/* The id of prefix p[0..pl) followed by s[0..len), or -1. */
static int32_t lookup2(const struct nn_tok *t, const char *p, size_t pl, const char *s, size_t len)
{
    if (pl + len > t->max_len) return -1;
    uint64_t h = hash_fnv1a64_update(hash_fnv1a64_update(HASH_FNV_INIT, p, pl), s, len);
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        const struct nn_slot *sl = &t->tab[i];
        if (sl->id < 0) return -1;
        if (sl->tag != tag || tok_len(t, sl->id) != pl + len) continue;
        const char *k = t->blob + t->off[sl->id];
        if (memcmp(k, p, pl) == 0 && memcmp(k + pl, s, len) == 0) return sl->id;
    }
}

int32_t nn_tok_find(const struct nn_tok *t, const char *s, size_t len)
{
    return t ? lookup2(t, "", 0, s, len) : -1;
}

/* Put token `id` in the table; a token already there (same string) now maps to `id`. */
static void insert(struct nn_tok *t, int32_t id)
{
    const char *k = t->blob + t->off[id];
    size_t len = tok_len(t, id);
    uint64_t h = hash_fnv1a64(k, len);
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        struct nn_slot *sl = &t->tab[i];
        if (sl->id < 0) {
            sl->tag = tag;
            sl->id = id;
            return;
        }
        if (sl->tag == tag && tok_len(t, sl->id) == len &&
            memcmp(t->blob + t->off[sl->id], k, len) == 0) {
            sl->id = id;
            return;
        }
    }
}

static int check_opts(const struct nn_tok_opts *o, int32_t n, struct err *err)
{
    const int32_t need[3] = {o->cls_id, o->sep_id, o->unk_id};
    const char *name[3] = {"cls", "sep", "unk"};
    for (int i = 0; i < 3; i++)
        if (need[i] < 0 || need[i] >= n)
            return err_set(err, ERR_ARG, "tokenizer: %s id %ld is not in the vocabulary (0..%ld)",
                           name[i], (long)need[i], (long)n - 1);
    if (o->pad_id < -1 || o->pad_id >= n || o->mask_id < -1 || o->mask_id >= n)
        return err_set(err, ERR_ARG, "tokenizer: pad id %ld or mask id %ld out of range",
                       (long)o->pad_id, (long)o->mask_id);
    if (!memchr(o->prefix, 0, sizeof o->prefix))
        return err_set(err, ERR_ARG, "tokenizer: subword prefix is not NUL-terminated");
    if (o->max_chars_per_word < 1 || o->model_max_length < 1)
        return err_set(err, ERR_ARG, "tokenizer: max_chars_per_word %d, model_max_length %d",
                       o->max_chars_per_word, o->model_max_length);
    return 0;
}

int nn_tok_new(struct nn_tok **out, const char *const *tokens, int32_t n,
               const struct nn_tok_opts *o, struct err *err)
{
    *out = NULL;
    if (n < 1 || n > NN_TOK_MAX_VOCAB || !tokens || !o)
        return err_set(err, ERR_ARG, "tokenizer: %ld tokens (1..%d)", (long)n, NN_TOK_MAX_VOCAB);
    int rc = check_opts(o, n, err);
    if (rc) return rc;
    size_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!tokens[i]) return err_set(err, ERR_ARG, "tokenizer: token %ld is NULL", (long)i);
        total += strlen(tokens[i]) + 1;
    }
    if (total > UINT32_MAX) return err_set(err, ERR_LIMIT, "tokenizer: %zu bytes of tokens", total);
    struct nn_tok *t = calloc(1, sizeof *t);
    if (!t) return err_set(err, ERR_NOMEM, "tokenizer");
    t->o = *o;
    t->n = n;
    t->plen = strlen(t->o.prefix);
    uint32_t size = 16;
    while (size < (uint32_t)n * 2u)
        size <<= 1;
    t->mask = size - 1;
    t->blob = malloc(total);
    t->off = malloc(((size_t)n + 1) * sizeof *t->off);
    t->tab = malloc((size_t)size * sizeof *t->tab);
    if (!t->blob || !t->off || !t->tab) {
        nn_tok_free(t);
        return err_set(err, ERR_NOMEM, "tokenizer: %ld tokens", (long)n);
    }
    for (uint32_t i = 0; i < size; i++)
        t->tab[i].id = -1;
    size_t at = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t len = strlen(tokens[i]);
        memcpy(t->blob + at, tokens[i], len + 1);
        t->off[i] = (uint32_t)at;
        at += len + 1;
        if (len > t->max_len) t->max_len = len;
    }
    t->off[n] = (uint32_t)at;
    for (int32_t i = 0; i < n; i++)
        insert(t, i);
    const int32_t sp[NN_TOK_NSPEC] = {o->cls_id, o->sep_id, o->pad_id, o->unk_id, o->mask_id};
    for (int i = 0; i < NN_TOK_NSPEC; i++) {
        if (sp[i] < 0 || tok_len(t, sp[i]) == 0) continue;
        if (!utf8_valid(t->blob + t->off[sp[i]], tok_len(t, sp[i]), NULL)) {
            nn_tok_free(t);
            return err_set(err, ERR_ARG, "tokenizer: special token %ld is not UTF-8", (long)sp[i]);
        }
        int dup = 0;
        for (int j = 0; j < t->nspec; j++)
            dup |= t->spec[j].id == sp[i];
        if (dup) continue;
        t->spec[t->nspec].s = t->blob + t->off[sp[i]];
        t->spec[t->nspec].len = tok_len(t, sp[i]);
        t->spec[t->nspec].id = sp[i];
        t->first[(unsigned char)t->spec[t->nspec].s[0]] = 1;
        t->nspec++;
    }
    *out = t;
    return 0;
}

void nn_tok_free(struct nn_tok *t)
{
    if (!t) return;
    free(t->blob);
    free(t->off);
    free(t->tab);
    buf_cleanup(&t->fixed);
    buf_cleanup(&t->utf);
    free(t->cp);
    free(t->dec);
    free(t->bnd);
    for (int i = 0; i < 2; i++)
        free(t->seq[i].id);
    free(t);
}

const struct nn_tok_opts *nn_tok_get_opts(const struct nn_tok *t)
{
    return &t->o;
}

int32_t nn_tok_size(const struct nn_tok *t)
{
    return t ? t->n : 0;
}

const char *nn_tok_token(const struct nn_tok *t, int32_t id)
{
    return t && id >= 0 && id < t->n ? t->blob + t->off[id] : NULL;
}

/* ---------------------------------------------------------------- character classes */

/* Rust's char::is_whitespace: the Unicode White_Space property. */
static int is_space(utf8proc_int32_t c)
{
    if (c < 0x80) return ascii_isspace(c);
    return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
           c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* BertNormalizer's is_control: categories Cc, Cf, Co (surrogates cannot occur), less \t \n \r. */
static int is_control(utf8proc_int32_t c)
{
    if (c == '\t' || c == '\n' || c == '\r') return 0;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CO:
        return 1;
    default:
        return 0;
    }
}

/* BertPreTokenizer's is_bert_punc: ASCII punctuation (symbols included) or Unicode P*. */
static int is_punct(utf8proc_int32_t c)
{
    if (c < 0x80) return ascii_ispunct(c);
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return 1;
    default:
        return 0;
    }
}

static int is_cjk(utf8proc_int32_t c)
{
    return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) ||
           (c >= 0x20000 && c <= 0x2a6df) || (c >= 0x2a700 && c <= 0x2b73f) ||
           (c >= 0x2b740 && c <= 0x2b81f) || (c >= 0x2b920 && c <= 0x2ceaf) ||
           (c >= 0xf900 && c <= 0xfaff) || (c >= 0x2f800 && c <= 0x2fa1f);
}

/* ---------------------------------------------------------------- normalisation */

static int push_cp(struct nn_tok *t, utf8proc_int32_t c)
{
    if (t->ncp == t->cpcap && vec_grow((void **)&t->cp, &t->cpcap, t->ncp + 1, sizeof *t->cp))
        return -1;
    t->cp[t->ncp++] = c;
    return 0;
}

/* NFD of t->cp[0..ncp) with the nonspacing marks dropped, back into t->cp. */
static int strip_accents(struct nn_tok *t, struct err *err)
{
    buf_reset(&t->utf);
    for (size_t i = 0; i < t->ncp; i++)
        if (utf8_put(&t->utf, (uint32_t)t->cp[i])) return err_set(err, ERR_NOMEM, "tokenizer");
    if (t->utf.len == 0) return 0;
    utf8proc_ssize_t got;
    for (;;) {
        got =
            utf8proc_decompose((const utf8proc_uint8_t *)t->utf.data, (utf8proc_ssize_t)t->utf.len,
                               t->dec, (utf8proc_ssize_t)t->deccap, UTF8PROC_DECOMPOSE);
        if (got < 0) return err_set(err, ERR_INTERNAL, "tokenizer: NFD: %s", utf8proc_errmsg(got));
        if ((size_t)got <= t->deccap) break;
        if (vec_grow((void **)&t->dec, &t->deccap, (size_t)got, sizeof *t->dec))
            return err_set(err, ERR_NOMEM, "tokenizer");
    }
    t->ncp = 0;
    for (utf8proc_ssize_t i = 0; i < got; i++)
        if (utf8proc_category(t->dec[i]) != UTF8PROC_CATEGORY_MN && push_cp(t, t->dec[i]))
            return err_set(err, ERR_NOMEM, "tokenizer");
    return 0;
}

/* Lower-case t->cp in place: Rust's char::to_lowercase, the simple mapping except U+0130. */
static int lowercase(struct nn_tok *t, struct err *err)
{
    size_t n = t->ncp, extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += t->cp[i] == 0x130;
    if (extra) {
        if (vec_grow((void **)&t->cp, &t->cpcap, n + extra, sizeof *t->cp))
            return err_set(err, ERR_NOMEM, "tokenizer");
        for (size_t i = n, j = n + extra; i-- > 0;) { /* from the end: room opens at the back */
            if (t->cp[i] == 0x130) {
                t->cp[--j] = 0x307;
                t->cp[--j] = 'i';
            } else {
                t->cp[--j] = t->cp[i];
            }
        }
        t->ncp = n = n + extra;
    }
    for (size_t i = 0; i < n; i++) {
        utf8proc_int32_t c = t->cp[i];
        if (c < 0x80)
            t->cp[i] = ascii_tolower(c);
        else
            t->cp[i] = utf8proc_tolower(c);
    }
    return 0;
}

/* Normalise raw bytes s[0..len) (valid UTF-8) into t->cp as BertNormalizer does. */
static int normalize(struct nn_tok *t, const char *s, size_t len, struct err *err)
{
    const unsigned char *u = (const unsigned char *)s;
    t->ncp = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c32 = u[i];
        size_t k = c32 < 0x80 ? 1 : utf8_dec(u + i, len - i, &c32);
        if (!k) return err_set(err, ERR_INTERNAL, "tokenizer: bad UTF-8 after repair");
        i += k;
        utf8proc_int32_t c = (utf8proc_int32_t)c32;
        if (t->o.clean_text) {
            if (c == 0 || c == 0xfffd || is_control(c)) continue;
            if (is_space(c)) c = ' ';
        }
        int cjk = t->o.chinese_chars && is_cjk(c);
        if ((cjk && push_cp(t, ' ')) || push_cp(t, c) || (cjk && push_cp(t, ' ')))
            return err_set(err, ERR_NOMEM, "tokenizer");
    }
    if (t->o.strip_accents && strip_accents(t, err)) return err->code;
    if (t->o.lowercase && lowercase(t, err)) return err->code;
    return 0;
}

/* ---------------------------------------------------------------- WordPiece */

static int push_id(struct nn_tok_seq *q, int32_t id)
{
    if (q->n == q->cap && vec_grow((void **)&q->id, &q->cap, q->n + 1, sizeof *q->id)) return -1;
    q->id[q->n++] = id;
    return 0;
}

/* Split word w[0..nc) (normalised code points) into pieces appended to q. */
static int wordpiece(struct nn_tok *t, const utf8proc_int32_t *w, size_t nc, struct nn_tok_seq *q,
                     struct err *err)
{
    if (nc > (size_t)t->o.max_chars_per_word) {
        if (push_id(q, t->o.unk_id)) return err_set(err, ERR_NOMEM, "tokenizer");
        return 0;
    }
    buf_reset(&t->utf);
    if (vec_grow((void **)&t->bnd, &t->bndcap, nc + 1, sizeof *t->bnd))
        return err_set(err, ERR_NOMEM, "tokenizer");
    for (size_t i = 0; i < nc; i++) {
        t->bnd[i] = t->utf.len;
        if (utf8_put(&t->utf, (uint32_t)w[i])) return err_set(err, ERR_NOMEM, "tokenizer");
    }
    t->bnd[nc] = t->utf.len;
    const char *s = t->utf.data;
    size_t mark = q->n;
    for (size_t start = 0; start < nc;) {
        const char *p = start ? t->o.prefix : "";
        size_t pl = start ? t->plen : 0, end = nc;
        int32_t id = -1;
        while (end > start && t->bnd[end] - t->bnd[start] + pl > t->max_len)
            end--;
        for (; end > start; end--) {
            id = lookup2(t, p, pl, s + t->bnd[start], t->bnd[end] - t->bnd[start]);
            if (id >= 0) break;
        }
        if (id < 0) { /* a part matches nothing: the whole word is [UNK] */
            q->n = mark;
            id = t->o.unk_id;
            end = nc;
        }
        if (push_id(q, id)) return err_set(err, ERR_NOMEM, "tokenizer");
        start = end;
    }
    return 0;
}

/* Pre-tokenise t->cp (white space dropped, punctuation isolated) and WordPiece each word into q,
 * stopping once q holds `cap` ids. */
static int words(struct nn_tok *t, struct nn_tok_seq *q, size_t cap, struct err *err)
{
    size_t i = 0, n = t->ncp;
    while (i < n && q->n < cap) {
        utf8proc_int32_t c = t->cp[i];
        if (is_space(c)) {
            i++;
            continue;
        }
        size_t j = i + 1;
        if (!is_punct(c))
            while (j < n && !is_space(t->cp[j]) && !is_punct(t->cp[j]))
                j++;
        int rc = wordpiece(t, t->cp + i, j - i, q, err);
        if (rc) return rc;
        i = j;
    }
    return 0;
}

/* Text between special tokens: normalised and split in chunks cut after ASCII white space
 * (nothing in steps 2-4 looks across one), so a long text stops early once `cap` is reached. */
static int section(struct nn_tok *t, const char *s, size_t len, struct nn_tok_seq *q, size_t cap,
                   struct err *err)
{
    size_t at = 0;
    while (at < len && q->n < cap) {
        size_t end = len - at > NN_TOK_CHUNK ? at + NN_TOK_CHUNK : len;
        while (end < len && !(s[end - 1] == ' ' || s[end - 1] == '\n' || s[end - 1] == '\t' ||
                              s[end - 1] == '\r'))
            end++;
        int rc = normalize(t, s + at, end - at, err);
        if (!rc) rc = words(t, q, cap, err);
        if (rc) return rc;
        at = end;
    }
    return 0;
}

/* The special token starting at s[0..len) (the longest when several do), or -1. */
static int special_at(const struct nn_tok *t, const char *s, size_t len)
{
    int best = -1;
    for (int k = 0; k < t->nspec; k++)
        if (t->spec[k].len <= len && s[0] == t->spec[k].s[0] &&
            memcmp(s, t->spec[k].s, t->spec[k].len) == 0 &&
            (best < 0 || t->spec[k].len > t->spec[best].len))
            best = k;
    return best;
}

/* All the token ids of text s[0..len) into q (emptied first), at most `cap` of them. */
static int encode_text(struct nn_tok *t, const char *s, size_t len, struct nn_tok_seq *q,
                       size_t cap, struct err *err)
{
    q->n = 0;
    if (!utf8_valid(s, len, NULL)) {
        buf_reset(&t->fixed);
        if (utf8_repair(&t->fixed, s, len, NULL)) return err_set(err, ERR_NOMEM, "tokenizer");
        s = t->fixed.data;
        len = t->fixed.len;
    }
    size_t from = 0;
    for (size_t i = 0; i < len && q->n < cap;) {
        int k = t->first[(unsigned char)s[i]] ? special_at(t, s + i, len - i) : -1;
        if (k < 0) {
            i++;
            continue;
        }
        int rc = section(t, s + from, i - from, q, cap, err);
        if (rc) return rc;
        if (q->n < cap && push_id(q, t->spec[k].id)) return err_set(err, ERR_NOMEM, "tokenizer");
        i += t->spec[k].len;
        from = i;
    }
    return from < len ? section(t, s + from, len - from, q, cap, err) : 0;
}

/* tokenizers' truncate_encodings, LongestFirst, for a pair: lengths kept of a (*n1) and b (*n2)
 * so that they add up to at most L. */
static void truncate_pair(size_t *na, size_t *nb, size_t L)
{
    if (*na + *nb <= L) return;
    int swap = *na > *nb;
    size_t n1 = swap ? *nb : *na, n2 = swap ? *na : *nb; /* n1 the shorter */
    if (n1 > L)
        n2 = n1;
    else
        n2 = n1 > L - n1 ? n1 : L - n1;
    if (n1 + n2 > L) {
        n1 = L / 2;
        n2 = n1 + L % 2;
    }
    size_t ka = swap ? n2 : n1, kb = swap ? n1 : n2;
    if (ka < *na) *na = ka;
    if (kb < *nb) *nb = kb;
}

int nn_tok_encode(struct nn_tok *t, const char *a, size_t alen, const char *b, size_t blen,
                  int max_len, int32_t *ids, int32_t *types, int *n, struct err *err)
{
    *n = 0;
    if (max_len <= 0) max_len = t->o.model_max_length;
    int pair = b != NULL, nspecial = pair ? 3 : 2;
    if (max_len < nspecial)
        return err_set(err, ERR_ARG,
                       "tokenizer: max length %d leaves no room for %d special tokens", max_len,
                       nspecial);
    if ((!a && alen) || !ids) return err_set(err, ERR_ARG, "tokenizer: no text");
    size_t L = (size_t)(max_len - nspecial);
    struct nn_tok_seq *qa = &t->seq[0], *qb = &t->seq[1];
    /* one text stops at L tokens; a pair needs both full lengths (the longer one is cut) */
    int rc = encode_text(t, a ? a : "", alen, qa, pair ? SIZE_MAX : L, err);
    if (!rc && pair) rc = encode_text(t, b, blen, qb, SIZE_MAX, err);
    if (rc) return rc;
    size_t na = qa->n, nb = pair ? qb->n : 0;
    if (pair)
        truncate_pair(&na, &nb, L);
    else if (na > L)
        na = L;
    size_t k = 0;
    ids[k++] = t->o.cls_id;
    if (na) memcpy(ids + k, qa->id, na * sizeof *ids);
    k += na;
    ids[k++] = t->o.sep_id;
    if (pair) {
        if (nb) memcpy(ids + k, qb->id, nb * sizeof *ids);
        k += nb;
        ids[k++] = t->o.sep_id;
    }
    if (types)
        for (size_t i = 0; i < k; i++)
            types[i] = i < na + 2 ? 0 : 1;
    *n = (int)k;
    return 0;
}
