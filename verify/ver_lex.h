/* ver_lex.h - the verifier's lexicon: WordNet relations between corpus terms (synonyms,
 * derivations, hyponyms, hypernyms, antonyms, irregular forms) and a general-English frequency
 * (SemCor tag counts), made at build time by verify/gen/ver_lexgen.c from Debian's wordnet-base and
 * linked into the program (verify/ver_lexicon_data.S).
 *
 * Why built in: the WordNet C library (wordnet-dev) keeps its state in globals and is not
 * thread-safe, while audits score in many threads; reading the WordNet text files at run time
 * would cost every process ~0.2 s and ~40 MB. The compact form is ~4 MB of read-only data that
 * needs no initialisation and no locking: any number of threads may read it at once. */
#ifndef VC_VER_LEX_H
#define VC_VER_LEX_H

#include <stddef.h>
#include <stdint.h>

struct err;

/* Relation of a related term to the term it is listed under. */
enum ver_lex_rel {
    VER_LEX_FORM = 0, /* an irregular inflection of it ("mice" for "mouse") */
    VER_LEX_SYN,      /* a synonym (same synset in one of its first senses) */
    VER_LEX_DERIV,    /* a derivationally related form or pertainym */
    VER_LEX_HYPO,     /* a more specific term (hyponym) */
    VER_LEX_HYPER,    /* a more general term (hypernym, up to two levels) */
    VER_LEX_ANT,      /* an antonym */
    VER_LEX_NREL
};

#define VER_LEX_MAGIC "VCLEX1\0\0" /* 8 bytes */
#define VER_LEX_HEADER 64

/* A lexicon image (the built-in one, or bytes in memory). Read-only after ver_lex_init. */
struct ver_lex {
    const unsigned char *data;
    size_t len;
    uint32_t n, nslots, nrel, nbytes;
    uint32_t off_terms, off_slots, off_rels, off_bytes;
};

/* Check the image `data` (len bytes, borrowed: it must outlive *l) and fill *l.
 * Errors: ERR_CORRUPT (not a lexicon, truncated, offsets outside the image). */
int ver_lex_init(struct ver_lex *l, const void *data, size_t len, struct err *err);

/* The lexicon linked into this program, checked. Errors as ver_lex_init (a broken build). */
int ver_lex_builtin(struct ver_lex *l, struct err *err);

/* The id of term `t` (len bytes, as the corpus tokenizer makes it), or -1 when unknown. */
int ver_lex_find(const struct ver_lex *l, const char *t, size_t len);

/* The relations of term `id`: *out points at `count` entries (id << 3 | enum ver_lex_rel), sorted
 * by target id. Targets are < l->n (checked by ver_lex_init). */
int ver_lex_rels(const struct ver_lex *l, int id, const uint32_t **out);

/* The term's text (not NUL-terminated) and length. */
const char *ver_lex_term(const struct ver_lex *l, int id, size_t *len);

/* SemCor tag count of the term (summed over its senses) and its number of WordNet senses. */
uint32_t ver_lex_semcor(const struct ver_lex *l, int id);
uint32_t ver_lex_senses(const struct ver_lex *l, int id);

#endif
