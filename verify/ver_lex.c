/* ver_lex.c - reading the lexicon image made by verify/gen/ver_lexgen.c.
 *
 * Format (all integers u32 little-endian):
 *   header (64 bytes)  magic "VCLEX1\0\0", n (terms), nslots (a power of two >= 2n), nrel, nbytes,
 *                      off_terms, off_slots, off_rels, off_bytes, total size, zeros
 *   terms   (n x 16)   str_off (into the bytes), str_len | senses << 8, rel_off | rel_count << 24,
 *                      semcor count
 *   slots   (nslots)   term id + 1, 0 empty; a term starts at fnv1a64(text) & (nslots - 1),
 *                      linear probing
 *   rels    (nrel)     target id << 3 | enum ver_lex_rel, per term sorted by target
 *   bytes   (nbytes)   the terms' text, back to back */
#include "verify/ver_lex.h"

#include "err.h"
#include "hash.h"

#include <string.h>

extern const unsigned char ver_lexicon_data[];
extern const unsigned char ver_lexicon_end[];

static uint32_t rd(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int ver_lex_init(struct ver_lex *l, const void *data, size_t len, struct err *err)
{
    memset(l, 0, sizeof *l);
    const unsigned char *d = data;
    if (!d || len < VER_LEX_HEADER || memcmp(d, VER_LEX_MAGIC, 8) != 0)
        return err_set(err, ERR_CORRUPT, "verifier lexicon: not a lexicon image");
    uint32_t f[9];
    for (int i = 0; i < 9; i++)
        f[i] = rd(d + 8 + 4 * i);
    uint64_t n = f[0], nslots = f[1], nrel = f[2], nbytes = f[3];
    if (f[8] != len || f[4] != VER_LEX_HEADER || f[5] != f[4] + n * 16 ||
        f[6] != f[5] + nslots * 4 || f[7] != f[6] + nrel * 4 || f[7] + nbytes != len ||
        nslots < 2 * n || (nslots & (nslots - 1)) != 0)
        return err_set(err, ERR_CORRUPT, "verifier lexicon: bad header (size %zu)", len);
    l->data = d;
    l->len = len;
    l->n = f[0];
    l->nslots = f[1];
    l->nrel = f[2];
    l->nbytes = f[3];
    l->off_terms = f[4];
    l->off_slots = f[5];
    l->off_rels = f[6];
    l->off_bytes = f[7];
    /* every term's text and relations inside the image, every relation's target a term */
    for (uint32_t i = 0; i < l->n; i++) {
        const unsigned char *t = d + l->off_terms + 16 * (size_t)i;
        uint32_t so = rd(t), sl = rd(t + 4) & 0xff, ro = rd(t + 8) & 0xffffff, rn = rd(t + 8) >> 24;
        if ((uint64_t)so + sl > l->nbytes || (uint64_t)ro + rn > l->nrel) goto bad;
    }
    for (uint32_t i = 0; i < l->nrel; i++)
        if ((rd(d + l->off_rels + 4 * (size_t)i) >> 3) >= l->n) goto bad;
    for (uint32_t i = 0; i < l->nslots; i++)
        if (rd(d + l->off_slots + 4 * (size_t)i) > l->n) goto bad;
    return ERR_OK;
bad:
    memset(l, 0, sizeof *l);
    return err_set(err, ERR_CORRUPT, "verifier lexicon: an entry points outside the image");
}

int ver_lex_builtin(struct ver_lex *l, struct err *err)
{
    return ver_lex_init(l, ver_lexicon_data, (size_t)(ver_lexicon_end - ver_lexicon_data), err);
}

const char *ver_lex_term(const struct ver_lex *l, int id, size_t *len)
{
    const unsigned char *t = l->data + l->off_terms + 16 * (size_t)id;
    *len = rd(t + 4) & 0xff;
    return (const char *)l->data + l->off_bytes + rd(t);
}

int ver_lex_find(const struct ver_lex *l, const char *s, size_t n)
{
    if (!l->n) return -1;
    size_t h = hash_fnv1a64(s, n) & (l->nslots - 1);
    for (uint32_t probes = 0; probes < l->nslots; probes++) {
        uint32_t v = rd(l->data + l->off_slots + 4 * h);
        if (!v) return -1;
        size_t tl;
        const char *t = ver_lex_term(l, (int)v - 1, &tl);
        if (tl == n && !memcmp(t, s, n)) return (int)v - 1;
        h = (h + 1) & (l->nslots - 1);
    }
    return -1;
}

int ver_lex_rels(const struct ver_lex *l, int id, const uint32_t **out)
{
    const unsigned char *t = l->data + l->off_terms + 16 * (size_t)id;
    uint32_t r = rd(t + 8);
    /* the image is 64-byte aligned in memory and the sections are multiples of 4 bytes */
    *out = (const uint32_t *)(const void *)(l->data + l->off_rels + 4 * (size_t)(r & 0xffffff));
    return (int)(r >> 24);
}

uint32_t ver_lex_semcor(const struct ver_lex *l, int id)
{
    return rd(l->data + l->off_terms + 16 * (size_t)id + 12);
}

uint32_t ver_lex_senses(const struct ver_lex *l, int id)
{
    return rd(l->data + l->off_terms + 16 * (size_t)id + 4) >> 8;
}
