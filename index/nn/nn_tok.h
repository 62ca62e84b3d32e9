/* nn_tok.h - the WordPiece tokenizer of the in-process transformer runtime: Hugging Face's BERT
 * tokenizer (tokenizers' BertNormalizer + BertPreTokenizer + WordPiece + the BERT template, as
 * AutoTokenizer loads it), read from a model folder and rebuilt from its token strings.
 *
 * What encode does, in HF's order (the Rust `tokenizers` crate that BertTokenizerFast runs):
 *   0. invalid UTF-8 is first repaired as utf8_repair() does (U+FFFD per maximal bad subpart), so
 *      the result is HF's on the repaired string (HF only takes valid strings);
 *   1. the special tokens' texts ([CLS] [SEP] [PAD] [UNK] [MASK], those with an id >= 0) are
 *      matched in the raw text, case-sensitively, leftmost-longest, and give their own id; the
 *      text between them goes through 2-5 on its own;
 *   2. clean_text: U+0000, U+FFFD and control characters (general category Cc, Cf, Co, except
 *      \t \n \r) dropped; White_Space characters become ' ';
 *      chinese_chars: ' ' around each CJK ideograph (U+4E00-9FFF, 3400-4DBF, 20000-2A6DF,
 *      2A700-2B73F, 2B740-2B81F, 2B920-2CEAF, F900-FAFF, 2F800-2FA1F);
 *      strip_accents: NFD, then nonspacing marks (Mn) dropped; lowercase: per character, full
 *      mapping without context (U+0130 -> "i" U+0307; a final capital sigma becomes σ);
 *   3. split on White_Space (dropped) and on punctuation (each its own word): ASCII ! to /, : to @,
 *      [ to `, { to ~ and the Unicode categories Pc Pd Ps Pe Pi Pf Po;
 *   4. WordPiece: a word of more than max_chars_per_word characters is [UNK]; else greedy
 *      longest-match-first from the left, pieces after the first looked up with `prefix` in front;
 *      a word with a part that matches nothing is one [UNK];
 *   5. truncation (longest-first, as tokenizers' truncate_encodings) and [CLS] a [SEP] (b [SEP]).
 * Character tables: utf8proc's (Unicode 15 with Debian 12's libutf8proc 2.8); HF's Rust crates
 * carry older tables, so characters assigned since then may be classed differently there.
 * Python's slow BertTokenizer differs from this (and from BertTokenizerFast) in a few places: it
 * lower-cases a word-final Σ to ς, also drops unassigned (Cn) characters, and when both texts
 * of a pair are cut to an odd total and a is not the longer, gives the spare token to a where
 * BertTokenizerFast gives it to b. */
#ifndef VC_NN_TOK_H
#define VC_NN_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define NN_TOK_MAX_VOCAB 4000000     /* most tokens in a vocabulary */
#define NN_TOK_MAX_FILE (512u << 20) /* largest tokenizer file read, in bytes */

/* A tokenizer's settings. Zero-initialisable plain data (no pointers): the model file stores it
 * beside the token strings and rebuilds the tokenizer with nn_tok_new(). */
struct nn_tok_opts {
    int lowercase;          /* BertNormalizer lowercase / do_lower_case */
    int strip_accents;      /* resolved: 1 strip, 0 keep (HF's null follows lowercase) */
    int clean_text;         /* drop control characters, map white space to ' ' */
    int chinese_chars;      /* spaces around CJK ideographs */
    int max_chars_per_word; /* 100: longer words become [UNK] */
    /* Token ids. cls, sep and unk must exist; pad and mask are -1 when the vocabulary has none.
     * Each one >= 0 is also matched in raw text (step 1 above). */
    int32_t cls_id, sep_id, pad_id, unk_id, mask_id;
    char prefix[8];       /* continuing-subword prefix, "##" (NUL-terminated) */
    int model_max_length; /* from tokenizer_config.json / config max_position_embeddings */
};

/* Read a Hugging Face folder's tokenizer: tokenizer.json (preferred: BertNormalizer +
 * BertPreTokenizer + WordPiece + TemplateProcessing or BertProcessing in the BERT shape) or
 * vocab.txt + tokenizer_config.json (BertTokenizer's settings: do_lower_case, strip_accents,
 * tokenize_chinese_chars, the special tokens' names). As transformers' BertTokenizerFast does,
 * a tokenizer_config.json beside tokenizer.json (naming a BERT-family tokenizer_class, or none)
 * overrides the normaliser's lowercase, strip_accents and handle_chinese_chars with its
 * do_lower_case (default true), strip_accents and tokenize_chinese_chars (default true); without
 * one, tokenizer.json is taken as written. model_max_length comes from
 * tokenizer_config.json, else config.json's max_position_embeddings, else 512.
 * On success *tokens gets a new array of *n NUL-terminated token strings in id order (the caller
 * frees it with nn_tok_tokens_free) and *opts is filled in.
 * Errors (message names the file and the reason; *tokens NULL, *n 0): ERR_NOTFOUND (neither
 * tokenizer.json nor vocab.txt in dir), ERR_IO, ERR_PARSE (malformed JSON with line and column,
 * vocab.txt not UTF-8), ERR_ARG (a tokenizer that cannot be run exactly: BPE, Unigram, other
 * normalizers or pre-tokenizers, another template, extra added tokens, a missing [CLS]/[SEP]/[UNK],
 * vocabulary ids with gaps), ERR_LIMIT (over NN_TOK_MAX_FILE or NN_TOK_MAX_VOCAB), ERR_NOMEM. */
int nn_tok_import_hf(const char *dir, char ***tokens, int32_t *n, struct nn_tok_opts *opts,
                     struct err *err);
/* Free an array from nn_tok_import_hf() (each string, then the array). NULL is allowed. */
void nn_tok_tokens_free(char **tokens, int32_t n);

struct nn_tok;

/* Build a tokenizer over n token strings (id order; copied, not kept) with settings *o (copied).
 * A string repeated in the list is found at its last id (as HF's vocabulary maps). Takes about
 * 1 ms and 0.9 MB for a 30,522-token vocabulary.
 * On success *out is a new handle the caller owns and frees with nn_tok_free(); on failure *out
 * is NULL and err says why: ERR_ARG (n out of 1..NN_TOK_MAX_VOCAB, a NULL token, cls/sep/unk id
 * out of range, pad/mask neither -1 nor in range, prefix not NUL-terminated, max_chars_per_word
 * or model_max_length below 1, a special token that is not UTF-8), ERR_NOMEM. */
int nn_tok_new(struct nn_tok **out, const char *const *tokens, int32_t n,
               const struct nn_tok_opts *o, struct err *err);
/* Free a tokenizer. NULL is allowed. */
void nn_tok_free(struct nn_tok *t);

/* Encode one text (b == NULL) as [CLS] a [SEP], or a pair as [CLS] a [SEP] b [SEP] (an empty b,
 * blen 0, is still a pair) with token types 0 for [CLS] a [SEP] and 1 for b [SEP], truncated to
 * max_len (<= 0: model_max_length) tokens in all. Truncation is tokenizers' longest-first: a
 * single text keeps its first max_len-2 tokens; for a pair, with L = max_len-3 and n1 <= n2 the
 * two lengths, the shorter is kept whole and the longer cut to L-n1 when that is at least n1, else
 * both are cut, the first to L/2 and the second to L/2 + L%2 (when the first is the longer one it
 * gets L/2 + L%2). A single text is only tokenised as far as it is kept; a pair is tokenised
 * whole (the lengths decide the cut). ids (and types, which may be NULL) have room for max_len
 * entries (model_max_length when max_len <= 0); *n gets the count. Not thread-safe (scratch memory
 * lives in the handle): one handle per thread.
 * Errors (*n 0): ERR_ARG (max_len below 2 for one text or 3 for a pair, a NULL text with a
 * nonzero length), ERR_NOMEM. */
int nn_tok_encode(struct nn_tok *t, const char *a, size_t alen, const char *b, size_t blen,
                  int max_len, int32_t *ids, int32_t *types, int *n, struct err *err);

/* The tokenizer's settings (owned by the handle). */
const struct nn_tok_opts *nn_tok_get_opts(const struct nn_tok *t);
/* The number of tokens in the vocabulary. */
int32_t nn_tok_size(const struct nn_tok *t);
/* The token string of `id` (owned by the handle), or NULL when id is out of range. */
const char *nn_tok_token(const struct nn_tok *t, int32_t id);
/* The id of the token s[0..len), or -1 when it is not in the vocabulary. */
int32_t nn_tok_find(const struct nn_tok *t, const char *s, size_t len);

#endif
