/* ver_lexgen.c - build tool: turns the WordNet 3.0 database (Debian wordnet-base,
 * /usr/share/wordnet) into the verifier's compact lexicon (verify/ver_lex.c reads it; the build
 * links it into vericite with verify/ver_lexicon_data.S).
 *
 * usage: ver_lexgen WORDNET_DIR OUT
 *
 * Every single-word lemma is reduced to the term the corpus tokenizer makes of it (folded,
 * stemmed), so the scorer can look source terms up directly. For each lemma, over its first
 * LG_SENSES senses in WordNet's frequency order, it records relations to other terms:
 *   FORM   an irregular inflection (noun.exc, verb.exc, adj.exc: "mice" -> "mouse"), and the
 *          regular comparative and superlative of an adjective that has an antonym ("shortest")
 *   SYN    a word of the same synset
 *   DERIV  a derivationally related form ("+") or pertainym ("\"): "election" ~ "elect"
 *   HYPO   a word of a hyponym synset ("~", "~i"), first sense, one level: a more specific term
 *   HYPER  a word of a hypernym synset ("@", "@i"), first sense, two levels: a more general term
 *   ANT    an antonym ("!"), also through an adjective satellite's head ("&"), and through
 *          forms: a form's antonyms are its base's and their forms ("fell" ~ "rose", "risen")
 * and the term's SemCor tag count (cntlist.rev, summed over senses) as a general-English frequency.
 * The output format is described in verify/ver_lex.c. Deterministic: the same database gives the
 * same bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "buf.h"
#include "corpus/corpus.h"
#include "err.h"
#include "file.h"
#include "hash.h"
#include "verify/ver_lex.h"

#define LG_SENSES 3    /* senses per lemma and part of speech whose relations are kept */
#define LG_HYPO_MAX 24 /* hyponym words kept per lemma */
#define LG_MAX_REL 96  /* relations kept per term */

struct file {
    char *data;
    size_t len;
};

static int read_file(const char *dir, const char *name, struct file *f)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "ver_lexgen: %s: %s (install Debian's wordnet-base: make deps)\n", path,
                strerror(errno));
        return -1;
    }
    struct buf b = {0};
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, fp)) > 0)
        if (buf_append(&b, chunk, r)) {
            fclose(fp);
            return -1;
        }
    fclose(fp);
    f->len = b.len;
    f->data = buf_steal(&b);
    return f->data ? 0 : -1;
}

/* ---------------------------------------------------------------- terms */

struct term {
    char *s;
    uint32_t semcor, senses;
    uint32_t *rel; /* (target << 3) | type */
    int nrel, caprel;
};

struct lex {
    struct term *t;
    int n, cap;
    int *slot; /* id + 1 */
    size_t nslots;
    struct corpus_tok *tok;
    struct buf stem; /* scratch: the last stem */
    int ntok;
    char **adj; /* single-word adjective lemmas (a-z), for their regular -er/-est forms */
    int nadj, capadj;
};

static int stem_cb(void *ctx, const char *term, size_t len, int pos, size_t start, size_t end)
{
    (void)pos;
    (void)start;
    (void)end;
    struct lex *l = ctx;
    l->ntok++;
    buf_reset(&l->stem);
    return buf_append(&l->stem, term, len) ? 1 : 0;
}

static int find(const struct lex *l, const char *s, size_t n)
{
    if (!l->nslots) return -1;
    size_t h = hash_fnv1a64(s, n) & (l->nslots - 1);
    while (l->slot[h]) {
        const struct term *t = &l->t[l->slot[h] - 1];
        if (strlen(t->s) == n && !memcmp(t->s, s, n)) return l->slot[h] - 1;
        h = (h + 1) & (l->nslots - 1);
    }
    return -1;
}

static int add_term(struct lex *l, const char *s, size_t n)
{
    int i = find(l, s, n);
    if (i >= 0) return i;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->t = realloc(l->t, (size_t)l->cap * sizeof *l->t);
        if (!l->t) return -1;
    }
    if ((size_t)(l->n + 1) * 2 > l->nslots) { /* rehash */
        size_t ns = l->nslots ? l->nslots * 2 : 8192;
        free(l->slot);
        l->slot = calloc(ns, sizeof *l->slot);
        if (!l->slot) return -1;
        l->nslots = ns;
        for (int k = 0; k < l->n; k++) {
            size_t h = hash_fnv1a64(l->t[k].s, strlen(l->t[k].s)) & (ns - 1);
            while (l->slot[h])
                h = (h + 1) & (ns - 1);
            l->slot[h] = k + 1;
        }
    }
    struct term *t = &l->t[l->n];
    memset(t, 0, sizeof *t);
    t->s = strndup(s, n);
    if (!t->s) return -1;
    size_t h = hash_fnv1a64(s, n) & (l->nslots - 1);
    while (l->slot[h])
        h = (h + 1) & (l->nslots - 1);
    l->slot[h] = l->n + 1;
    return l->n++;
}

/* The term of a WordNet word ("Ice_hockey" no, "mice" yes): -1 when it is not one token (multiword,
 * hyphenated), a stop word or a number. */
static int term_of(struct lex *l, const char *w, size_t n)
{
    char tmp[128];
    if (n == 0 || n >= sizeof tmp) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        if (c == '(') break; /* adjective markers: "galore(ip)" */
        if (c == '_' || c == '-' || c == '.' || c == '\'' || ascii_isdigit((unsigned char)c)) return -1;
        tmp[k++] = c;
    }
    if (k < 2) return -1;
    l->ntok = 0;
    corpus_tok_run(l->tok, tmp, k, stem_cb, l);
    if (l->ntok != 1 || l->stem.len < 2) return -1;
    return add_term(l, l->stem.data, l->stem.len);
}

static void add_rel(struct lex *l, int a, int b, int type)
{
    if (a < 0 || b < 0 || a == b) return;
    struct term *t = &l->t[a];
    for (int i = 0; i < t->nrel; i++)
        if ((int)(t->rel[i] >> 3) == b) {
            /* keep the strongest: FORM < SYN < DERIV < HYPO < HYPER; an antonym never overrides */
            int old = (int)(t->rel[i] & 7);
            if (type == VER_LEX_ANT) return; /* related another way too: not an antonym */
            if (old == VER_LEX_ANT || type < old) t->rel[i] = ((uint32_t)b << 3) | (uint32_t)type;
            return;
        }
    if (t->nrel >= LG_MAX_REL) return;
    if (t->nrel == t->caprel) {
        t->caprel = t->caprel ? t->caprel * 2 : 8;
        t->rel = realloc(t->rel, (size_t)t->caprel * sizeof *t->rel);
        if (!t->rel) exit(1);
    }
    t->rel[t->nrel++] = ((uint32_t)b << 3) | (uint32_t)type;
}

/* ---------------------------------------------------------------- synsets */

#define SS_MAX_WORDS 64
#define SS_MAX_PTRS 512

struct ptr {
    char sym[3];
    long off;
    char pos;
    int src, dst; /* word numbers, 0 = the whole synset */
};

struct synset {
    int nw;
    char w[SS_MAX_WORDS][96];
    int np;
    struct ptr p[SS_MAX_PTRS];
    char type; /* n v a s r */
};

static struct file data_files[4]; /* n v a r */

static int pos_index(char pos)
{
    switch (pos) {
    case 'n':
        return 0;
    case 'v':
        return 1;
    case 'a':
    case 's':
        return 2;
    case 'r':
        return 3;
    default:
        return -1;
    }
}

/* Parse the synset at byte `off` of the data file of `pos`. 0 or -1. */
static int synset_at(char pos, long off, struct synset *s)
{
    int pi = pos_index(pos);
    if (pi < 0 || off < 0 || (size_t)off >= data_files[pi].len) return -1;
    const char *p = data_files[pi].data + off;
    char *e;
    strtol(p, &e, 10); /* offset */
    strtol(e, &e, 10); /* lex_filenum */
    while (*e == ' ')
        e++;
    s->type = *e++;
    int nw = (int)strtol(e, &e, 16);
    s->nw = 0;
    for (int i = 0; i < nw; i++) {
        while (*e == ' ')
            e++;
        const char *ws = e;
        while (*e && *e != ' ')
            e++;
        size_t n = (size_t)(e - ws);
        if (s->nw < SS_MAX_WORDS && n < sizeof s->w[0]) {
            memcpy(s->w[s->nw], ws, n);
            s->w[s->nw][n] = '\0';
            s->nw++;
        }
        strtol(e, &e, 16); /* lex_id */
    }
    int np = (int)strtol(e, &e, 10);
    s->np = 0;
    for (int i = 0; i < np; i++) {
        while (*e == ' ')
            e++;
        struct ptr x;
        int k = 0;
        while (*e && *e != ' ' && k < 2)
            x.sym[k++] = *e++;
        while (*e && *e != ' ')
            e++;
        x.sym[k] = '\0';
        x.off = strtol(e, &e, 10);
        while (*e == ' ')
            e++;
        x.pos = *e++;
        unsigned st = (unsigned)strtoul(e, &e, 16);
        x.src = (int)(st >> 8);
        x.dst = (int)(st & 0xff);
        if (s->np < SS_MAX_PTRS) s->p[s->np++] = x;
    }
    return 0;
}

/* Lowercased copy of a synset word for the tokenizer (it folds case itself; this drops markers). */
static int word_term(struct lex *l, const char *w)
{
    return term_of(l, w, strlen(w));
}

/* Relations of term `a` (the lemma `lemma`, word number `wn` in synset s at sense `sense`). */
static void relate(struct lex *l, int a, const struct synset *s, int wn, int sense)
{
    struct synset t;
    for (int i = 0; i < s->nw; i++)
        if (i + 1 != wn) add_rel(l, a, word_term(l, s->w[i]), VER_LEX_SYN);
    int nhypo = 0;
    for (int k = 0; k < s->np; k++) {
        const struct ptr *p = &s->p[k];
        int lexical = p->src != 0;
        if (lexical && p->src != wn) continue; /* a pointer from another word of the synset */
        if (synset_at(p->pos, p->off, &t)) continue;
        if (!strcmp(p->sym, "!")) {
            if (lexical && p->dst > 0 && p->dst <= t.nw)
                add_rel(l, a, word_term(l, t.w[p->dst - 1]), VER_LEX_ANT);
        } else if (!strcmp(p->sym, "+") || !strcmp(p->sym, "\\")) {
            if (lexical && p->dst > 0 && p->dst <= t.nw)
                add_rel(l, a, word_term(l, t.w[p->dst - 1]), VER_LEX_DERIV);
        } else if ((!strcmp(p->sym, "@") || !strcmp(p->sym, "@i")) && sense == 0) {
            for (int i = 0; i < t.nw; i++)
                add_rel(l, a, word_term(l, t.w[i]), VER_LEX_HYPER);
            { /* and one level above */
                struct synset u;
                for (int q = 0; q < t.np; q++)
                    if ((!strcmp(t.p[q].sym, "@") || !strcmp(t.p[q].sym, "@i")) &&
                        !synset_at(t.p[q].pos, t.p[q].off, &u))
                        for (int i = 0; i < u.nw; i++)
                            add_rel(l, a, word_term(l, u.w[i]), VER_LEX_HYPER);
            }
        } else if ((!strcmp(p->sym, "~") || !strcmp(p->sym, "~i")) && sense == 0) {
            for (int i = 0; i < t.nw && nhypo < LG_HYPO_MAX; i++, nhypo++)
                add_rel(l, a, word_term(l, t.w[i]), VER_LEX_HYPO);
        } else if (!strcmp(p->sym, "&") && s->type == 's') {
            /* an adjective satellite: the head's antonyms are this word's antonyms too */
            for (int q = 0; q < t.np; q++)
                if (!strcmp(t.p[q].sym, "!") && t.p[q].src > 0) {
                    struct synset u;
                    if (!synset_at(t.p[q].pos, t.p[q].off, &u) && t.p[q].dst > 0 &&
                        t.p[q].dst <= u.nw)
                        add_rel(l, a, word_term(l, u.w[t.p[q].dst - 1]), VER_LEX_ANT);
                }
        }
    }
}

/* One line of an index file: the lemma and its synsets in sense order. */
static void index_line(struct lex *l, const char *line, const char *end, char pos)
{
    const char *e = line;
    while (e < end && *e != ' ')
        e++;
    size_t ln = (size_t)(e - line);
    char lemma[128];
    if (ln == 0 || ln >= sizeof lemma || line[0] == ' ') return;
    memcpy(lemma, line, ln);
    lemma[ln] = '\0';
    int a = term_of(l, lemma, ln);
    if (a < 0) return;
    if (pos == 'a' && ln >= 3 && strspn(lemma, "abcdefghijklmnopqrstuvwxyz") == ln) {
        if (l->nadj == l->capadj) {
            l->capadj = l->capadj ? l->capadj * 2 : 1024;
            l->adj = realloc(l->adj, (size_t)l->capadj * sizeof *l->adj);
            if (!l->adj) exit(1);
        }
        if (!(l->adj[l->nadj++] = strdup(lemma))) exit(1);
    }
    char *q;
    const char *p = e + 3; /* after " p " */
    long synset_cnt = strtol(p, &q, 10);
    long p_cnt = strtol(q, &q, 10);
    for (long i = 0; i < p_cnt; i++) {
        while (*q == ' ')
            q++;
        while (*q && *q != ' ')
            q++;
    }
    strtol(q, &q, 10); /* sense_cnt */
    strtol(q, &q, 10); /* tagsense_cnt */
    l->t[a].senses += (uint32_t)synset_cnt;
    for (long i = 0; i < synset_cnt && i < LG_SENSES; i++) {
        long off = strtol(q, &q, 10);
        struct synset s;
        if (synset_at(pos, off, &s)) continue;
        int wn = 0;
        for (int k = 0; k < s.nw && !wn; k++) {
            char w[96];
            size_t n = 0;
            for (const char *c = s.w[k]; *c && *c != '(' && n < sizeof w - 1; c++)
                w[n++] = (char)ascii_tolower((unsigned char)*c);
            w[n] = '\0';
            if (!strcmp(w, lemma)) wn = k + 1;
        }
        if (wn) relate(l, a, &s, wn, (int)i);
    }
}

static int is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* The regular comparative or superlative (suffix "er" or "est") of adjective w into out (n
 * bytes): "short" -> "shorter", "large" -> "largest", "early" -> "earlier", a one-syllable word
 * ending consonant-vowel-consonant doubles its consonant ("thin" -> "thinnest"). Irregular forms
 * come from adj.exc. 0, or -1 when it does not fit. */
static int adj_degree(const char *w, const char *suffix, char *out, size_t n)
{
    size_t k = strlen(w);
    if (k < 2 || k + strlen(suffix) + 2 > n) return -1;
    memcpy(out, w, k + 1);
    int vowels = 0;
    for (size_t i = 0; i < k; i++)
        vowels += is_vowel(w[i]) && (i == 0 || !is_vowel(w[i - 1]));
    char last = w[k - 1], prev = w[k - 2];
    if (last == 'e') {
        k--; /* large -> larg + er */
    } else if (last == 'y' && !is_vowel(prev)) {
        out[k - 1] = 'i';
    } else if (vowels == 1 && k >= 3 && !is_vowel(last) && is_vowel(prev) && !is_vowel(w[k - 3]) &&
               !strchr("wxy", last)) {
        out[k++] = last;
    }
    strcpy(out + k, suffix);
    return 0;
}

/* Regular degrees of the short adjectives that have an antonym: "shortest" is a form of "short",
 * as adj.exc makes "biggest" one of "big" (so it inherits the antonyms below). */
static void adj_forms(struct lex *l)
{
    static const char *const suffixes[2] = {"er", "est"};
    for (int i = 0; i < l->nadj; i++) {
        int a = find(l, l->adj[i], strlen(l->adj[i]));
        if (a < 0) a = term_of(l, l->adj[i], strlen(l->adj[i]));
        if (a < 0) continue;
        int has_ant = 0;
        for (int k = 0; k < l->t[a].nrel && !has_ant; k++)
            has_ant = (l->t[a].rel[k] & 7) == VER_LEX_ANT;
        if (!has_ant) continue;
        const char *w = l->adj[i];
        size_t k = strlen(w);
        int vowels = 0;
        for (size_t j = 0; j < k; j++)
            vowels += is_vowel(w[j]) && (j == 0 || !is_vowel(w[j - 1]));
        /* graded with -er/-est: one syllable, or two ending in -y, -le, -ow ("happy", "simple",
         * "narrow"); "achromatic" is not */
        if (vowels != 1 && !(vowels == 2 && (w[k - 1] == 'y' || !strcmp(w + k - 2, "le") ||
                                             !strcmp(w + k - 2, "ow"))))
            continue;
        for (int s = 0; s < 2; s++) {
            char f[128];
            if (adj_degree(l->adj[i], suffixes[s], f, sizeof f)) continue;
            int b = term_of(l, f, strlen(f));
            add_rel(l, b, a, VER_LEX_FORM);
            add_rel(l, a, b, VER_LEX_FORM);
        }
    }
}

/* Antonyms through inflections: a term's antonyms, and those of the terms it is a form of (or
 * that are its forms), with all their forms, are its antonyms ("fell" (fall) against "rose"
 * (rise); "shortest" against "longest"). add_rel keeps a pair related another way from becoming
 * antonyms. */
static void ant_through_forms(struct lex *l)
{
    uint32_t *ant = NULL;
    int cap = 0;
    for (int x = 0; x < l->n; x++) {
        int n = 0;
        const struct term *tx = &l->t[x];
        for (int k = -1; k < tx->nrel; k++) { /* x itself, then its forms */
            int y = k < 0 ? x : (int)(tx->rel[k] >> 3);
            if (k >= 0 && (tx->rel[k] & 7) != VER_LEX_FORM) continue;
            const struct term *ty = &l->t[y];
            for (int j = 0; j < ty->nrel; j++) {
                if ((ty->rel[j] & 7) != VER_LEX_ANT) continue;
                int a = (int)(ty->rel[j] >> 3);
                const struct term *ta = &l->t[a];
                for (int g = -1; g < ta->nrel; g++) { /* the antonym and its forms */
                    if (g >= 0 && (ta->rel[g] & 7) != VER_LEX_FORM) continue;
                    if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        ant = realloc(ant, (size_t)cap * sizeof *ant);
                        if (!ant) exit(1);
                    }
                    ant[n++] = (uint32_t)(g < 0 ? a : (int)(ta->rel[g] >> 3));
                }
            }
        }
        for (int i = 0; i < n; i++)
            add_rel(l, x, (int)ant[i], VER_LEX_ANT);
    }
    free(ant);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

static void put_u32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    fwrite(b, 1, 4, f);
}

/* Write the lexicon (format in verify/ver_lex.c), atomically (file.h). */
static int write_out(struct lex *l, const char *path)
{
    struct file_atomic fa;
    struct err e = {0};
    if (file_atomic_open(&fa, path, &e)) {
        fprintf(stderr, "ver_lexgen: %s\n", e.msg);
        return -1;
    }
    FILE *f = fa.f;
    size_t nslots = 1;
    while (nslots < (size_t)l->n * 2)
        nslots *= 2;
    uint32_t nrel = 0, nbytes = 0;
    for (int i = 0; i < l->n; i++) {
        if (l->t[i].nrel) qsort(l->t[i].rel, (size_t)l->t[i].nrel, sizeof *l->t[i].rel, cmp_u32);
        nrel += (uint32_t)l->t[i].nrel;
        nbytes += (uint32_t)strlen(l->t[i].s);
    }
    uint32_t off_terms = VER_LEX_HEADER, off_slots = off_terms + (uint32_t)l->n * 16;
    uint32_t off_rels = off_slots + (uint32_t)nslots * 4, off_bytes = off_rels + nrel * 4;
    fwrite(VER_LEX_MAGIC, 1, 8, f);
    put_u32(f, (uint32_t)l->n);
    put_u32(f, (uint32_t)nslots);
    put_u32(f, nrel);
    put_u32(f, nbytes);
    put_u32(f, off_terms);
    put_u32(f, off_slots);
    put_u32(f, off_rels);
    put_u32(f, off_bytes);
    put_u32(f, off_bytes + nbytes); /* total size */
    for (int i = 0; i < (VER_LEX_HEADER - 44) / 4; i++)
        put_u32(f, 0);
    uint32_t so = 0, ro = 0;
    for (int i = 0; i < l->n; i++) { /* term: str_off, str_len | senses << 8, rel_off, semcor */
        uint32_t n = (uint32_t)strlen(l->t[i].s);
        uint32_t senses = l->t[i].senses > 0xffffff ? 0xffffff : l->t[i].senses;
        put_u32(f, so);
        put_u32(f, n | (senses << 8));
        put_u32(f, ro | ((uint32_t)l->t[i].nrel << 24));
        put_u32(f, l->t[i].semcor);
        so += n;
        ro += (uint32_t)l->t[i].nrel;
    }
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) {
        file_atomic_abort(&fa);
        return -1;
    }
    for (int i = 0; i < l->n; i++) {
        size_t h = hash_fnv1a64(l->t[i].s, strlen(l->t[i].s)) & (nslots - 1);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = (uint32_t)i + 1;
    }
    for (size_t i = 0; i < nslots; i++)
        put_u32(f, slots[i]);
    free(slots);
    for (int i = 0; i < l->n; i++)
        for (int k = 0; k < l->t[i].nrel; k++)
            put_u32(f, l->t[i].rel[k]);
    for (int i = 0; i < l->n; i++)
        fputs(l->t[i].s, f);
    if (file_atomic_commit(&fa, &e)) {
        fprintf(stderr, "ver_lexgen: %s\n", e.msg);
        return -1;
    }
    fprintf(stderr, "ver_lexgen: %d terms, %u relations, %u bytes -> %s\n", l->n, nrel,
            off_bytes + nbytes, path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ver_lexgen WORDNET_DIR OUT\n");
        return 2;
    }
    const char *dir = argv[1];
    static const char *const data_names[4] = {"data.noun", "data.verb", "data.adj", "data.adv"};
    static const char *const index_names[4] = {"index.noun", "index.verb", "index.adj",
                                               "index.adv"};
    static const char *const exc_names[3] = {"noun.exc", "verb.exc", "adj.exc"};
    static const char poses[4] = {'n', 'v', 'a', 'r'};
    struct lex l;
    memset(&l, 0, sizeof l);
    struct err e = {0};
    if (corpus_tok_new(&l.tok, 0, &e)) {
        fprintf(stderr, "ver_lexgen: %s\n", e.msg);
        return 1;
    }
    for (int i = 0; i < 4; i++)
        if (read_file(dir, data_names[i], &data_files[i])) return 1;
    for (int i = 0; i < 4; i++) {
        struct file f;
        if (read_file(dir, index_names[i], &f)) return 1;
        for (char *p = f.data; p < f.data + f.len;) {
            char *nl = memchr(p, '\n', (size_t)(f.data + f.len - p));
            char *end = nl ? nl : f.data + f.len;
            index_line(&l, p, end, poses[i]);
            p = end + 1;
        }
        free(f.data);
    }
    /* irregular forms: both directions */
    for (int i = 0; i < 3; i++) {
        struct file f;
        if (read_file(dir, exc_names[i], &f)) return 1;
        for (char *p = f.data; p < f.data + f.len;) {
            char *nl = memchr(p, '\n', (size_t)(f.data + f.len - p));
            char *end = nl ? nl : f.data + f.len;
            char *sp = memchr(p, ' ', (size_t)(end - p));
            if (sp) {
                char *sp2 = memchr(sp + 1, ' ', (size_t)(end - sp - 1));
                int a = term_of(&l, p, (size_t)(sp - p));
                int b = term_of(&l, sp + 1, (size_t)((sp2 ? sp2 : end) - sp - 1));
                add_rel(&l, a, b, VER_LEX_FORM);
                add_rel(&l, b, a, VER_LEX_FORM);
            }
            p = end + 1;
        }
        free(f.data);
    }
    adj_forms(&l);
    ant_through_forms(&l);
    /* SemCor counts: "lemma%..." sense_number tag_cnt */
    struct file c;
    if (read_file(dir, "cntlist.rev", &c)) return 1;
    for (char *p = c.data; p < c.data + c.len;) {
        char *nl = memchr(p, '\n', (size_t)(c.data + c.len - p));
        char *end = nl ? nl : c.data + c.len;
        char *pct = memchr(p, '%', (size_t)(end - p));
        char *sp = pct ? memchr(pct, ' ', (size_t)(end - pct)) : NULL;
        if (pct && sp) {
            char *q;
            strtol(sp, &q, 10);
            long cnt = strtol(q, &q, 10);
            size_t n = (size_t)(pct - p);
            char w[128];
            if (n < sizeof w) {
                memcpy(w, p, n);
                int a = term_of(&l, w, n);
                if (a >= 0 && cnt > 0) l.t[a].semcor += (uint32_t)cnt;
            }
        }
        p = end + 1;
    }
    free(c.data);
    int rc = write_out(&l, argv[2]);
    for (int i = 0; i < 4; i++)
        free(data_files[i].data);
    for (int i = 0; i < l.n; i++) {
        free(l.t[i].s);
        free(l.t[i].rel);
    }
    for (int i = 0; i < l.nadj; i++)
        free(l.adj[i]);
    free(l.adj);
    free(l.t);
    free(l.slot);
    buf_cleanup(&l.stem);
    corpus_tok_free(l.tok);
    return rc ? 1 : 0;
}
