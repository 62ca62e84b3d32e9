/* fuzz_nn_tok.c - libFuzzer target for the WordPiece tokenizer. Byte 0 picks the settings
 * (lowercase, strip accents, clean text, CJK spacing, pair, and whether the vocabulary is a fixed
 * one or the input's own lines), byte 1 the maximum length (2-257); the rest is the text (a pair
 * splits at the first tab). Any bytes: no crash, no leak, at most max_len ids, every id in the
 * vocabulary, [CLS] first and [SEP] last, types 0 then 1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "index/nn/nn_tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const vocab[] = {
    "[PAD]", "a",    "b",   "c",   "e",    "i",     "n",     "o",      "s",
    "t",     "x",    "é",   "ü",   "中",   "文",    "日",    "σ",      "[UNK]",
    "##a",   "##b",  "##c", "##e", "##i",  "##n",   "##o",   "##s",    "##t",
    "##x",   "##é",  "##̇",  "the", "test", "##ing", "##s",   "un",     "##able",
    "cafe",  "café", ".",   ",",   "!",    "?",     "$",     "-",      "(",
    ")",     "[",    "]",   "'",   "\"",   "[CLS]", "[SEP]", "[MASK]", "\xf0\xa0\x80\x80",
    "",
};
#define NV ((int32_t)(sizeof vocab / sizeof vocab[0]))

static struct nn_tok_opts opts_of(unsigned sel)
{
    struct nn_tok_opts o = {.lowercase = sel & 1,
                            .strip_accents = (sel >> 1) & 1,
                            .clean_text = (sel >> 2) & 1,
                            .chinese_chars = (sel >> 3) & 1,
                            .max_chars_per_word = 100,
                            .cls_id = 50,
                            .sep_id = 51,
                            .pad_id = 0,
                            .unk_id = 17,
                            .mask_id = 52,
                            .prefix = "##",
                            .model_max_length = 512};
    return o;
}

static void check(struct nn_tok *t, const char *s, size_t len, int pair, int max_len)
{
    const char *tab = pair ? memchr(s, '\t', len) : NULL;
    const char *b = pair ? (tab ? tab + 1 : s + len) : NULL;
    size_t alen = tab ? (size_t)(tab - s) : len, blen = pair ? (size_t)(s + len - b) : 0;
    int32_t ids[257], types[257];
    int n = -1;
    struct err e = {0};
    if (nn_tok_encode(t, s, alen, b, blen, max_len, ids, types, &n, &e) != 0) {
        if (max_len >= (pair ? 3 : 2)) abort(); /* only a too small max_len may fail */
        return;
    }
    const struct nn_tok_opts *o = nn_tok_get_opts(t);
    if (n < (pair ? 3 : 2) || n > max_len || ids[0] != o->cls_id || ids[n - 1] != o->sep_id)
        abort();
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= nn_tok_size(t)) abort();
        if (types[i] != 0 && types[i] != 1) abort();
        if (i && types[i] < types[i - 1]) abort();
    }
    if (pair && types[n - 1] != 1) abort();
}

/* A vocabulary from the input's lines (at most 64): any bytes, repeated, empty or huge tokens. */
static void own_vocab(const char *s, size_t len, int max_len)
{
    char *tok[64];
    int32_t n = 0;
    for (size_t i = 0; i <= len && n < 64;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t j = nl ? (size_t)(nl - s) : len;
        tok[n] = strndup(s + i, j - i); /* a NUL inside ends the token early */
        if (!tok[n]) break;
        n++;
        i = j + 1;
    }
    struct nn_tok_opts o = opts_of((unsigned)len);
    o.cls_id = 0;
    o.sep_id = n > 1 ? 1 : 0;
    o.unk_id = n - 1;
    o.pad_id = o.mask_id = -1;
    struct nn_tok *t = NULL;
    struct err e = {0};
    if (n > 0 && nn_tok_new(&t, (const char *const *)tok, n, &o, &e) == 0) {
        check(t, s, len, 0, max_len);
        check(t, s, len, 1, max_len);
    }
    nn_tok_free(t);
    for (int32_t i = 0; i < n; i++)
        free(tok[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct nn_tok *tok[16]; /* one per setting, made once */
    if (size < 2) return 0;
    unsigned sel = data[0];
    int max_len = 2 + data[1];
    const char *s = (const char *)data + 2;
    size_t len = size - 2;
    if (sel & 0x20) {
        own_vocab(s, len, max_len);
        return 0;
    }
    struct nn_tok **t = &tok[sel & 15];
    struct err e = {0};
    if (!*t) {
        struct nn_tok_opts o = opts_of(sel);
        if (nn_tok_new(t, vocab, NV, &o, &e) != 0) abort();
    }
    check(*t, s, len, (sel >> 4) & 1, max_len);
    return 0;
}
