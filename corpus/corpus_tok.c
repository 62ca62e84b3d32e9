/* corpus_tok.c - the one tokenizer for indexing, queries and scoring: Unicode-aware word
 * splitting, NFKC case folding with accents stripped (utf8proc), English stop words, Snowball
 * English stemming (libstemmer). */
#include "corpus.h"

#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "ascii.h"

struct corpus_tok {
    struct sb_stemmer *stem; /* NULL with CORPUS_TOK_NO_STEM */
    int flags;
    char word[CORPUS_TOK_MAX * 4 + 8]; /* the folded word being built */
};

/* English stop words (folded, unstemmed), sorted for bsearch. Function words only: no content
 * words, so "not", "no" and numbers stay searchable for claims about negation and quantities. */
static const char *const stop_words[] = {
    "a",       "about",  "above",   "after",   "again",  "against", "all",     "am",     "an",
    "and",     "any",    "are",     "as",      "at",     "be",      "because", "been",   "before",
    "being",   "below",  "between", "both",    "but",    "by",      "can",     "could",  "did",
    "do",      "does",   "doing",   "down",    "during", "each",    "few",     "for",    "from",
    "further", "had",    "has",     "have",    "having", "he",      "her",     "here",   "hers",
    "herself", "him",    "himself", "his",     "how",    "i",       "if",      "in",     "into",
    "is",      "it",     "its",     "itself",  "just",   "me",      "more",    "most",   "my",
    "myself",  "of",     "off",     "on",      "once",   "only",    "or",      "other",  "our",
    "ours",    "ourselves", "out",  "over",    "own",    "same",    "she",     "should", "so",
    "some",    "such",   "than",    "that",    "the",    "their",   "theirs",  "them",   "themselves",
    "then",    "there",  "these",   "they",    "this",   "those",   "through", "to",     "too",
    "under",   "until",  "up",      "very",    "was",    "we",      "were",    "what",   "when",
    "where",   "which",  "while",   "who",     "whom",   "why",     "will",    "with",   "would",
    "you",     "your",   "yours",   "yourself", "yourselves",
};

static int cmp_word(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int corpus_tok_is_stop(const char *folded)
{
    return bsearch(&folded, stop_words, sizeof stop_words / sizeof stop_words[0],
                   sizeof stop_words[0], cmp_word) != NULL;
}

int corpus_tok_new(struct corpus_tok **out, int flags, struct err *err)
{
    *out = NULL;
    struct corpus_tok *t = calloc(1, sizeof *t);
    if (!t) return err_set(err, ERR_NOMEM, "tokenizer");
    t->flags = flags;
    if (!(flags & CORPUS_TOK_NO_STEM)) {
        t->stem = sb_stemmer_new("english", "UTF_8");
        if (!t->stem) {
            free(t);
            return err_set(err, ERR_INTERNAL, "libstemmer has no English stemmer");
        }
    }
    *out = t;
    return ERR_OK;
}

void corpus_tok_free(struct corpus_tok *t)
{
    if (!t) return;
    if (t->stem) sb_stemmer_delete(t->stem);
    free(t);
}

/* Word characters: letters, marks, numbers; plus connector handling done by the caller. */
static int is_word_cp(utf8proc_int32_t cp)
{
    if (cp < 128)
        return ascii_isalnum(cp);
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

static int is_apostrophe(utf8proc_int32_t cp) { return cp == '\'' || cp == 0x2019; }

/* Append the folded form of cp to t->word at *wlen (bounded by CORPUS_TOK_MAX). */
static void fold_append(struct corpus_tok *t, utf8proc_int32_t cp, size_t *wlen)
{
    utf8proc_int32_t dec[16];
    utf8proc_ssize_t nd;
    if (cp < 128) {
        dec[0] = ascii_tolower(cp);
        nd = 1;
    } else {
        int last = 0;
        nd = utf8proc_decompose_char(cp, dec, 16,
                                     UTF8PROC_CASEFOLD | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE |
                                         UTF8PROC_STRIPMARK,
                                     &last);
        if (nd < 0 || nd > 16) return;
    }
    for (utf8proc_ssize_t i = 0; i < nd; i++) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t ne = utf8proc_encode_char(dec[i], enc);
        if (*wlen + (size_t)ne > CORPUS_TOK_MAX) return; /* truncate at a char boundary */
        memcpy(t->word + *wlen, enc, (size_t)ne);
        *wlen += (size_t)ne;
    }
}

int corpus_tok_run(struct corpus_tok *t, const char *text, size_t len, corpus_tok_cb cb, void *ctx)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    size_t i = 0;
    int pos = 0;
    while (i < len) {
        /* skip to the start of a word */
        utf8proc_int32_t cp;
        utf8proc_ssize_t n;
        if (s[i] < 128) {
            cp = s[i];
            n = 1;
        } else {
            n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
            if (n < 1) { i++; continue; }
        }
        if (!is_word_cp(cp)) { i += (size_t)n; continue; }
        size_t start = i, wlen = 0;
        while (i < len) {
            if (s[i] < 128) {
                cp = s[i];
                n = 1;
            } else {
                n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
                if (n < 1) break;
            }
            if (is_apostrophe(cp)) {
                /* keep an apostrophe between letters (don't, O'Neil); the stemmer strips 's */
                utf8proc_int32_t nx = 0;
                size_t j = i + (size_t)n;
                if (j < len && utf8proc_iterate(s + j, (utf8proc_ssize_t)(len - j), &nx) > 0 &&
                    is_word_cp(nx) && wlen > 0) {
                    if (wlen + 1 <= CORPUS_TOK_MAX) t->word[wlen++] = '\'';
                    i += (size_t)n;
                    continue;
                }
                break;
            }
            if (!is_word_cp(cp)) break;
            fold_append(t, cp, &wlen);
            i += (size_t)n;
        }
        size_t end = i;
        if (wlen == 0) continue;
        t->word[wlen] = '\0';
        if (!(t->flags & CORPUS_TOK_KEEP_STOP) && wlen < 16 && corpus_tok_is_stop(t->word)) continue;
        const char *term = t->word;
        size_t tlen = wlen;
        if (t->stem) {
            const sb_symbol *st = sb_stemmer_stem(t->stem, (const sb_symbol *)t->word, (int)wlen);
            if (st) {
                term = (const char *)st;
                tlen = (size_t)sb_stemmer_length(t->stem);
            }
        }
        int rc = cb(ctx, term, tlen, pos++, start, end);
        if (rc) return rc;
    }
    return 0;
}
