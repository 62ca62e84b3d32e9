/* ver_extract.c - claims and their citations: the API, the shared plain-text builder, sentence
 * attachment of citations, and the JSON Lines claims reader. */
#include "ver_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "hash.h"
#include "utf8.h"
#include "vec.h"

/* ---------------------------------------------------------------- extractor */

/* Compile one pattern. The patterns are ASCII and run in byte mode (no PCRE2_UTF): the input is
 * validated once by ver_extractor_run(), not again by PCRE2 on every match. */
static pcre2_code *compile(const char *pat, uint32_t opts, struct err *err, int *rc)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        *rc = err_set(err, ERR_INTERNAL, "pcre2 compile at %zu: %s", (size_t)eo, (const char *)msg);
    }
    return re;
}

int ver_extractor_new(struct ver_extractor **out, struct err *err)
{
    int rc = ERR_OK;
    *out = NULL;
    struct ver_extractor *x = calloc(1, sizeof *x);
    if (!x) return err_set(err, ERR_NOMEM, "ver_extractor_new");
    x->re_url = compile("(?:https?|ftp)://[^\\s<>\\[\\]{}|\"]+", PCRE2_CASELESS, err, &rc);
    if (!x->re_url) goto fail;
    x->re_year = compile("(?<![0-9])(1[0-9]{3}|20[0-9]{2})[a-z]?(?![0-9])", 0, err, &rc);
    if (!x->re_year) goto fail;
    x->re_md_def = compile("^[ ]{0,3}\\[\\^([^\\]\\s]{1,200})\\]:[ \\t]*", PCRE2_MULTILINE, err, &rc);
    if (!x->re_md_def) goto fail;
    x->re_md_refdef = compile("^[ ]{0,3}\\[([^\\]\\^\\n][^\\]\\n]{0,200})\\]:[ \\t]*<?((?:https?|ftp)://[^\\s>]{1,2000})>?"
                              "(?:[ \\t]+[\"'(]([^\\n]{0,500})[\"')])?[ \\t]*$",
                              PCRE2_MULTILINE | PCRE2_CASELESS, err, &rc);
    if (!x->re_md_refdef) goto fail;
    x->re_md_reflink = compile("\\[([^\\[\\]\\n]{1,1000})\\]\\[([^\\[\\]\\n\\^]{0,200})\\]", PCRE2_NO_START_OPTIMIZE, err, &rc);
    if (!x->re_md_reflink) goto fail;
    x->re_md_link = compile("(!?)\\[([^\\[\\]\\n]{0,1000})\\]\\(\\s*<?((?:https?|ftp)://[^\\s)>]{1,2000})>?"
                            "(?:\\s+\"[^\"\\n]{0,500}\")?\\s*\\)",
                            PCRE2_CASELESS | PCRE2_NO_START_OPTIMIZE, err, &rc); /* run anchored */
    if (!x->re_md_link) goto fail;
    x->re_jsonl = compile("\\A\\s*\\{\\s*[\"}]", 0, err, &rc);
    if (!x->re_jsonl) goto fail;
    x->md = pcre2_match_data_create(10, NULL);
    if (!x->md) {
        rc = err_set(err, ERR_NOMEM, "pcre2 match data");
        goto fail;
    }
    *out = x;
    return ERR_OK;
fail:
    ver_extractor_free(x);
    return rc;
}

void ver_extractor_free(struct ver_extractor *x)
{
    if (!x) return;
    pcre2_code_free(x->re_url);
    pcre2_code_free(x->re_year);
    pcre2_code_free(x->re_md_def);
    pcre2_code_free(x->re_md_link);
    pcre2_code_free(x->re_md_refdef);
    pcre2_code_free(x->re_md_reflink);
    pcre2_code_free(x->re_jsonl);
    pcre2_match_data_free(x->md);
    free(x);
}

/* ---------------------------------------------------------------- builder */

int ver_vx_fail(struct vx *v, int code, const char *what)
{
    if (!v->rc) v->rc = err_set(v->err, code, "%s", what);
    return v->rc;
}

static int grow(struct vx *v, void **p, size_t *cap, size_t need, size_t elsz)
{
    return vec_grow(p, cap, need, elsz) ? ver_vx_fail(v, ERR_NOMEM, "extract: out of memory") : 0;
}

void ver_vx_emit(struct vx *v, const char *s, size_t n, size_t off, int verbatim)
{
    if (v->mute || v->rc) return;
    for (size_t k = 0; k < n; k++) {
        char c = s[k];
        if (ascii_isspace((unsigned char)c)) {
            if (v->pt.len == v->block_start || v->pt.data[v->pt.len - 1] == ' ') continue;
            c = ' ';
        }
        if (grow(v, (void **)&v->map, &v->map_cap, v->pt.len + 1, sizeof *v->map)) return;
        if (buf_putc(&v->pt, c)) {
            ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
            return;
        }
        v->map[v->pt.len - 1] = (uint32_t)(verbatim ? off + k : off);
    }
}

void ver_vx_break(struct vx *v, int field)
{
    if (v->rc) return;
    size_t end = v->pt.len;
    if (end > v->block_start) {
        if (grow(v, (void **)&v->blocks, &v->cap_blocks, v->nblocks + 1, sizeof *v->blocks)) return;
        v->blocks[v->nblocks++] = (struct vx_block){v->block_start, end, v->cur_field, v->cur_section};
    }
    v->block_start = end;
    v->cur_field = field;
}

void ver_vx_section(struct vx *v, const char *name, size_t n)
{
    ver_vx_break(v, 0);
    ver_vx_section_name(v, name, n);
}

void ver_vx_section_name(struct vx *v, const char *name, size_t n)
{
    if (v->rc) return;
    if (grow(v, (void **)&v->sections, &v->cap_sections, v->nsections + 1, sizeof *v->sections)) return;
    if (n > VER_FIELD_MAX) n = utf8_cut(name, VER_FIELD_MAX); /* section names are short */
    char *s = ver_vx_clean(v, name, n);
    if (!s) s = ver_vx_strndup(v, "", 0);
    if (!s) return;
    v->sections[v->nsections] = s;
    v->cur_section = (int)v->nsections++;
}

char *ver_vx_strndup(struct vx *v, const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
        return NULL;
    }
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ver_vx_clean(struct vx *v, const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (ascii_isspace((unsigned char)s[i]) || s[i] == '\0') {
            if (o && p[o - 1] != ' ') p[o++] = ' ';
        } else {
            p[o++] = s[i];
        }
    }
    while (o && p[o - 1] == ' ') o--;
    p[o] = '\0';
    if (!o) {
        free(p);
        return NULL;
    }
    return p;
}

int ver_vx_find_url(struct vx *v, const char *s, size_t a, size_t b, size_t *ua, size_t *ub)
{
    if (b <= a) return 0;
    int m = pcre2_match(v->x->re_url, (PCRE2_SPTR)(s + a), b - a, 0, 0, v->x->md, NULL);
    if (m <= 0) return 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(v->x->md);
    size_t e = a + ov[1];
    /* trailing punctuation is not part of a URL in running text */
    while (e > a + ov[0] && strchr(".,;:!?)'", s[e - 1])) e--;
    *ua = a + ov[0];
    *ub = e;
    return 1;
}

static size_t hash_key(const char *k) { return (size_t)hash_fnv1a64_str(k); }

static int rehash(struct vx *v)
{
    size_t n = v->nslots ? v->nslots * 2 : 64;
    size_t *s = calloc(n, sizeof *s);
    if (!s) return ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
    for (size_t i = 0; i < v->nrefs; i++) {
        if (!v->refs[i].key) continue;
        size_t h = hash_key(v->refs[i].key) & (n - 1);
        while (s[h]) h = (h + 1) & (n - 1);
        s[h] = i + 1;
    }
    free(v->slots);
    v->slots = s;
    v->nslots = n;
    return 0;
}

int ver_vx_ref_find(const struct vx *v, const char *group, size_t glen, const char *name, size_t nlen)
{
    if (!nlen || !v->nslots) return -1;
    for (size_t h = 0, i = 0; i <= v->nslots; i++) { /* hash without building the key */
        if (i == 0) {
            uint64_t x = hash_fnv1a64_update(HASH_FNV_INIT, group, glen);
            x = hash_fnv1a64_update(hash_fnv1a64_update(x, "\x1f", 1), name, nlen);
            h = (size_t)x & (v->nslots - 1);
        }
        if (!v->slots[h]) return -1;
        const char *key = v->refs[v->slots[h] - 1].key;
        if (strlen(key) == glen + nlen + 1 && (!glen || memcmp(key, group, glen) == 0) && key[glen] == '\x1f' &&
            memcmp(key + glen + 1, name, nlen) == 0)
            return (int)(v->slots[h] - 1);
        h = (h + 1) & (v->nslots - 1);
    }
    return -1;
}

int ver_vx_ref(struct vx *v, const char *group, size_t glen, const char *name, size_t nlen)
{
    if (v->rc) return -1;
    char *key = NULL;
    if (name && nlen) {
        key = malloc(glen + nlen + 2);
        if (!key) {
            ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
            return -1;
        }
        if (glen) memcpy(key, group, glen);
        key[glen] = '\x1f';
        memcpy(key + glen + 1, name, nlen);
        key[glen + nlen + 1] = '\0';
        if (v->nslots) {
            size_t h = hash_key(key) & (v->nslots - 1);
            while (v->slots[h]) {
                size_t i = v->slots[h] - 1;
                if (strcmp(v->refs[i].key, key) == 0) {
                    free(key);
                    return (int)i;
                }
                h = (h + 1) & (v->nslots - 1);
            }
        }
    }
    if (v->nrefs >= VER_MAX_ANCHORS) {
        free(key);
        v->rc = err_set(v->err, ERR_LIMIT, "more than %d references", VER_MAX_ANCHORS);
        return -1;
    }
    if (grow(v, (void **)&v->refs, &v->cap_refs, v->nrefs + 1, sizeof *v->refs)) {
        free(key);
        return -1;
    }
    struct vx_ref *r = &v->refs[v->nrefs];
    memset(r, 0, sizeof *r);
    r->key = key;
    if (glen) r->cit.group = ver_vx_strndup(v, group, glen);
    if (nlen && name) r->cit.name = ver_vx_strndup(v, name, nlen);
    int idx = (int)v->nrefs++;
    if (key) {
        if ((v->nrefs + 1) * 2 > v->nslots && rehash(v)) return -1;
        size_t h = hash_key(key) & (v->nslots - 1);
        while (v->slots[h] && v->slots[h] != (size_t)idx + 1) h = (h + 1) & (v->nslots - 1);
        v->slots[h] = (size_t)idx + 1;
    }
    return v->rc ? -1 : idx;
}

void ver_vx_anchor(struct vx *v, int ref, const char *raw, size_t rawn)
{
    if (v->rc || v->defonly) return;
    if (v->nanchors >= VER_MAX_ANCHORS) {
        v->rc = err_set(v->err, ERR_LIMIT, "more than %d citations", VER_MAX_ANCHORS);
        return;
    }
    if (grow(v, (void **)&v->anchors, &v->cap_anchors, v->nanchors + 1, sizeof *v->anchors)) return;
    struct vx_anchor *a = &v->anchors[v->nanchors];
    a->pt = v->pt.len;
    a->ref = ref;
    a->raw = NULL;
    if (ref < 0) {
        a->raw = ver_vx_strndup(v, raw, rawn);
        if (!a->raw) return;
    }
    v->nanchors++;
}

char *ver_vx_scratch(struct vx *v, void (*fn)(struct vx *v, size_t a, size_t b), size_t a, size_t b)
{
    struct vx_mark m;
    ver_vx_save(v, &m);
    int mute = v->mute;
    v->mute = 0;
    v->defonly++;
    v->plain++;
    v->block_start = v->pt.len;
    fn(v, a, b);
    char *r = NULL;
    if (!v->rc && v->pt.len > m.ptlen) r = ver_vx_clean(v, v->pt.data + m.ptlen, v->pt.len - m.ptlen);
    ver_vx_restore(v, &m);
    v->mute = mute;
    v->defonly--;
    v->plain--;
    return r;
}

void ver_vx_save(const struct vx *v, struct vx_mark *m)
{
    m->ptlen = v->pt.len;
    m->nblocks = v->nblocks;
    m->block_start = v->block_start;
    m->nanchors = v->nanchors;
    m->cur_field = v->cur_field;
}

void ver_vx_restore(struct vx *v, const struct vx_mark *m)
{
    v->pt.len = m->ptlen;
    if (v->pt.data) v->pt.data[v->pt.len] = '\0';
    v->nblocks = m->nblocks;
    v->block_start = m->block_start;
    for (size_t i = m->nanchors; i < v->nanchors; i++) free(v->anchors[i].raw);
    v->nanchors = m->nanchors;
    v->cur_field = m->cur_field;
}

static void cit_cleanup(struct ver_citation *c)
{
    free(c->name);
    free(c->group);
    free(c->url);
    free(c->archive_url);
    free(c->url_status);
    free(c->title);
    free(c->work);
    free(c->date);
    free(c->quote);
    free(c->doi);
    free(c->isbn);
    free(c->pmid);
    free(c->raw);
    memset(c, 0, sizeof *c);
}

static void vx_cleanup(struct vx *v)
{
    buf_cleanup(&v->pt);
    free(v->map);
    free(v->blocks);
    for (size_t i = 0; i < v->nsections; i++) free(v->sections[i]);
    free(v->sections);
    for (size_t i = 0; i < v->nanchors; i++) free(v->anchors[i].raw);
    free(v->anchors);
    for (size_t i = 0; i < v->nrefs; i++) {
        free(v->refs[i].key);
        free(v->refs[i].sfn_last);
        free(v->refs[i].sfn_year);
        cit_cleanup(&v->refs[i].cit);
    }
    free(v->refs);
    free(v->slots);
    for (size_t i = 0; i < v->nbib; i++) {
        cit_cleanup(&v->bib[i].cit);
        free(v->bib[i].last);
        free(v->bib[i].year);
    }
    free(v->bib);
    corpus_wt_free(v->wt);
}

/* ---------------------------------------------------------------- claims */

/* Copy s (NULL stays NULL), cut to at most `cap` bytes on a UTF-8 boundary; counts bytes in *total. */
static char *dup_cap(const char *s, size_t cap, int *bad, size_t *total)
{
    if (!s) return NULL;
    size_t n = strnlen(s, cap + 1);
    if (n > cap) n = utf8_cut(s, cap);
    char *p = malloc(n + 1);
    if (!p) {
        *bad = 1;
        return NULL;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    *total += n + 1;
    return p;
}

/* Deep copy of a citation with every field capped (raw at VER_RAW_MAX, others VER_FIELD_MAX); adds
 * the bytes copied to *total. Returns 0 or -1 when out of memory. */
static int cit_copy(struct ver_citation *d, const struct ver_citation *s, size_t *total)
{
    int bad = 0;
    d->ref = s->ref;
    d->needs_source = s->needs_source;
    d->name = dup_cap(s->name, VER_FIELD_MAX, &bad, total);
    d->group = dup_cap(s->group, VER_FIELD_MAX, &bad, total);
    d->url = dup_cap(s->url, VER_FIELD_MAX, &bad, total);
    d->archive_url = dup_cap(s->archive_url, VER_FIELD_MAX, &bad, total);
    d->url_status = dup_cap(s->url_status, VER_FIELD_MAX, &bad, total);
    d->title = dup_cap(s->title, VER_FIELD_MAX, &bad, total);
    d->work = dup_cap(s->work, VER_FIELD_MAX, &bad, total);
    d->date = dup_cap(s->date, VER_FIELD_MAX, &bad, total);
    d->quote = dup_cap(s->quote, VER_FIELD_MAX, &bad, total);
    d->doi = dup_cap(s->doi, VER_FIELD_MAX, &bad, total);
    d->isbn = dup_cap(s->isbn, VER_FIELD_MAX, &bad, total);
    d->pmid = dup_cap(s->pmid, VER_FIELD_MAX, &bad, total);
    d->raw = dup_cap(s->raw, VER_RAW_MAX, &bad, total);
    return bad ? -1 : 0;
}

/* Fill a {{sfn}} entry from the bibliography entry with the same first-author last name and year. */
static int resolve_sfn(struct vx *v, struct vx_ref *r)
{
    if (!r->sfn_last) return 0;
    for (size_t i = 0; i < v->nbib; i++) {
        struct vx_bib *b = &v->bib[i];
        if (!b->last || ascii_casecmp(b->last, r->sfn_last) != 0) continue;
        if (r->sfn_year && (!b->year || strncmp(b->year, r->sfn_year, 4) != 0)) continue;
        struct ver_citation c = {0};
        size_t unused = 0;
        if (cit_copy(&c, &b->cit, &unused)) {
            cit_cleanup(&c);
            return ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
        }
        free(c.raw);
        c.raw = r->cit.raw;
        r->cit.raw = NULL;
        free(c.name);
        c.name = r->cit.name;
        r->cit.name = NULL;
        free(c.group);
        c.group = r->cit.group;
        r->cit.group = NULL;
        cit_cleanup(&r->cit);
        r->cit = c;
        return 0;
    }
    return 0;
}

struct sent_list {
    struct vx *v;
    size_t *start, *end; /* (n) spans in pt */
    int *block;
    size_t n, cap, cur_block, base;
};

static int on_sentence(void *ctx, size_t start, size_t end)
{
    struct sent_list *sl = ctx;
    if (sl->n + 1 > sl->cap) {
        size_t nc = sl->cap ? sl->cap * 2 : 64;
        size_t *a = realloc(sl->start, nc * sizeof *a);
        if (!a) return ERR_NOMEM;
        sl->start = a;
        size_t *b = realloc(sl->end, nc * sizeof *b);
        if (!b) return ERR_NOMEM;
        sl->end = b;
        int *c = realloc(sl->block, nc * sizeof *c);
        if (!c) return ERR_NOMEM;
        sl->block = c;
        sl->cap = nc;
    }
    sl->start[sl->n] = sl->base + start;
    sl->end[sl->n] = sl->base + end;
    sl->block[sl->n] = (int)sl->cur_block;
    sl->n++;
    return 0;
}

/* The index of the sentence an anchor at pt position p belongs to: the last sentence starting
 * before p (a citation closes the sentence it follows); the first sentence when none does. */
static size_t sentence_of(const struct sent_list *sl, size_t p)
{
    size_t lo = 0, hi = sl->n; /* first sentence with start >= p */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sl->start[mid] < p) lo = mid + 1;
        else hi = mid;
    }
    return lo ? lo - 1 : 0;
}

#define VER_SHORT_WORDS 6

static int build_claims(struct vx *v, struct ver_article *a)
{
    struct sent_list sl = {.v = v};
    int *seen = NULL; /* (nrefs) 1 + index of the last claim citing each ref */
    size_t total = 0; /* bytes of output so far, against VER_MAX_OUTPUT */
    int rc = ERR_OK;
    ver_vx_break(v, 0);
    if (v->rc) return v->rc;
    for (size_t b = 0; b < v->nblocks; b++) {
        sl.cur_block = b;
        sl.base = v->blocks[b].start;
        if (ver_sentences(v->pt.data + v->blocks[b].start, v->blocks[b].end - v->blocks[b].start,
                          on_sentence, &sl)) {
            rc = ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
            goto fail;
        }
    }
    /* sfn entries take their source from the bibliography */
    for (size_t i = 0; i < v->nrefs; i++) resolve_sfn(v, &v->refs[i]);
    /* numbers: per group, in order of first citation; each group's counter lives in a hidden
     * entry named "\x1d" (a byte no wikitext name holds) so lookups stay hashed */
    for (size_t i = 0; i < v->nanchors && !v->rc; i++) {
        int r = v->anchors[i].ref;
        if (r < 0 || v->refs[r].number) continue;
        const char *g = v->refs[r].cit.group;
        int ctr = ver_vx_ref(v, g ? g : "", g ? strlen(g) : 0, "\x1d", 1);
        if (ctr < 0) break;
        v->refs[r].number = ++v->refs[ctr].number;
        v->refs[r].cit.ref = v->refs[r].number;
        a->nrefs++;
    }
    if (v->rc) {
        rc = v->rc;
        goto fail;
    }
    if (v->nanchors) {
        a->claims = calloc(v->nanchors, sizeof *a->claims);
        seen = calloc(v->nrefs + 1, sizeof *seen);
        if (!a->claims || !seen) {
            rc = ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
            goto fail;
        }
    }
    size_t i = 0;
    while (i < v->nanchors) {
        size_t s = sl.n ? sentence_of(&sl, v->anchors[i].pt) : 0;
        size_t j = i + 1;
        while (j < v->nanchors && sl.n && sentence_of(&sl, v->anchors[j].pt) == s) j++;
        if (!sl.n) j = v->nanchors;
        struct ver_claim *c = &a->claims[a->nclaims++];
        size_t ts = 0, te = 0;
        int sec = -1;
        if (sl.n) {
            const struct vx_block *blk = &v->blocks[sl.block[s]];
            ts = sl.start[s];
            te = sl.end[s];
            sec = blk->section;
            if (!blk->field && s > 0 && corpus_word_count(v->pt.data + ts, te - ts) < VER_SHORT_WORDS) {
                if (sl.block[s - 1] == sl.block[s]) ts = sl.start[s - 1]; /* same paragraph only */
            }
            c->offset = v->wt ? corpus_wt_input_offset(v->wt, v->map[ts]) : v->map[ts];
        }
        c->text = ver_vx_strndup(v, v->pt.data ? v->pt.data + ts : "", te - ts);
        const char *secname = sec >= 0 ? v->sections[sec] : a->title;
        c->section = ver_vx_strndup(v, secname, strlen(secname));
        c->cits = calloc(j - i, sizeof *c->cits);
        if (!c->cits || v->rc) {
            rc = ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
            goto fail;
        }
        for (size_t k = i; k < j; k++) {
            const struct vx_anchor *an = &v->anchors[k];
            if (an->ref >= 0) { /* the same ref twice after one sentence counts once */
                if (seen[an->ref] == a->nclaims) continue;
                seen[an->ref] = a->nclaims;
            }
            struct ver_citation *ct = &c->cits[c->ncit++];
            if (an->ref < 0) {
                ct->needs_source = 1;
                ct->raw = strdup(an->raw);
                if (!ct->raw) {
                    rc = ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
                    goto fail;
                }
                a->nneeds++;
            } else if (cit_copy(ct, &v->refs[an->ref].cit, &total)) {
                rc = ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
                goto fail;
            }
        }
        total += (te - ts) + strlen(c->section) + sizeof *c + (j - i) * sizeof *c->cits;
        if (total > VER_MAX_OUTPUT) {
            rc = ver_vx_fail(v, ERR_LIMIT, "extract: the claims would take more than 256 MiB");
            goto fail;
        }
        i = j;
    }
fail:
    free(seen);
    free(sl.start);
    free(sl.end);
    free(sl.block);
    return rc;
}

/* ---------------------------------------------------------------- formats */

/* A "<ref" (or "&lt;ref") at s[k], before b. */
static int ref_at(const char *s, size_t k, size_t b)
{
    return (s[k] == '<' && k + 4 <= b && ascii_ncasecmp(s + k, "<ref", 4) == 0) ||
           (s[k] == '&' && k + 7 <= b && ascii_ncasecmp(s + k, "&lt;ref", 7) == 0);
}

static int has_ref_tag(const char *s, size_t a, size_t b)
{
    for (size_t k = a; k < b; k++)
        if (ref_at(s, k, b)) return 1;
    return 0;
}

/* Markdown signs: footnotes, inline links, reference-link definitions at a line start. */
static int md_sign(const char *text, size_t len, size_t k)
{
    if (text[k] == '[' && text[k + 1] == '^') return 1;
    if (text[k] == ']' && text[k + 1] == '(' && k + 6 <= len && ascii_ncasecmp(text + k + 2, "http", 4) == 0) return 1;
    if (text[k] == '[' && (k == 0 || text[k - 1] == '\n')) { /* [label]: http... */
        size_t e = k + 1;
        while (e < len && e - k < 200 && text[e] != ']' && text[e] != '\n') e++;
        if (e + 3 < len && text[e] == ']' && text[e + 1] == ':') {
            size_t u = e + 2;
            while (u < len && (text[u] == ' ' || text[u] == '\t' || text[u] == '<')) u++;
            if (u + 4 <= len && ascii_ncasecmp(text + u, "http", 4) == 0) return 1;
        }
    }
    return 0;
}

enum ver_format ver_detect_format(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && ascii_isspace((unsigned char)text[i])) i++;
    if (i < len && text[i] == '{') {
        size_t j = i + 1;
        while (j < len && ascii_isspace((unsigned char)text[j])) j++;
        if (j < len && (text[j] == '"' || text[j] == '}')) return VER_FMT_CLAIMS;
    }
    int md = 0, fence = 0;
    for (size_t k = 0; k + 1 < len; k++) {
        if (k == 0 || text[k - 1] == '\n') { /* fenced code: a <ref> there is an example */
            const char *nl = memchr(text + k, '\n', len - k);
            size_t e = nl ? (size_t)(nl - text) : len;
            int f = ver_md_fence(text, k, e);
            if (f || fence) {
                fence ^= f;
                md |= has_ref_tag(text, k, e);
                k = e;
                continue;
            }
        }
        if (text[k] == '`') { /* inline code, the same */
            size_t e = ver_md_code_end(text, k, len);
            if (e) md |= has_ref_tag(text, k, e);
            while (k + 1 < len && text[k + 1] == '`') k++;
            if (e) k = e - 1;
            continue;
        }
        if (ref_at(text, k, len)) return VER_FMT_WIKITEXT;
        md |= md_sign(text, len, k);
    }
    return md ? VER_FMT_MARKDOWN : VER_FMT_WIKITEXT;
}

#define VER_MAX_JSONL_LINE (1u << 20)

static int read_jsonl(struct ver_article *a, const char *text, size_t len, struct err *err)
{
    int rc = ERR_OK;
    size_t cap = 0, line = 0;
    char **urls = NULL; /* distinct URLs so far, for numbering; (nurls) borrowed from claims */
    size_t nurls = 0;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        line++;
        size_t s = i;
        i = e + 1;
        while (s < e && ascii_isspace((unsigned char)text[s])) s++;
        if (s == e) continue;
        if (e - s > VER_MAX_JSONL_LINE) {
            rc = err_set(err, ERR_LIMIT, "line %zu: longer than %u bytes", line, VER_MAX_JSONL_LINE);
            goto fail;
        }
        json_error_t je;
        json_t *o = json_loadb(text + s, e - s, JSON_REJECT_DUPLICATES, &je);
        if (!o || !json_is_object(o)) {
            json_decref(o);
            rc = err_set(err, ERR_PARSE, "line %zu: %s", line, o ? "not a JSON object" : je.text);
            goto fail;
        }
        const char *claim = json_string_value(json_object_get(o, "claim"));
        if (!claim) claim = json_string_value(json_object_get(o, "text"));
        if (!claim) {
            json_decref(o);
            rc = err_set(err, ERR_PARSE, "line %zu: missing \"claim\"", line);
            goto fail;
        }
        const char *url = json_string_value(json_object_get(o, "url"));
        const char *title = json_string_value(json_object_get(o, "title"));
        const char *section = json_string_value(json_object_get(o, "section"));
        if ((size_t)a->nclaims == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct ver_claim *q = realloc(a->claims, nc * sizeof *q);
            char **u = realloc(urls, nc * sizeof *u);
            if (q) a->claims = q;
            if (u) urls = u;
            if (!q || !u) {
                json_decref(o);
                rc = err_set(err, ERR_NOMEM, "line %zu", line);
                goto fail;
            }
            cap = nc;
        }
        struct ver_claim *c = &a->claims[a->nclaims++];
        memset(c, 0, sizeof *c);
        c->offset = s;
        c->text = strdup(claim);
        c->section = strdup(section ? section : a->title);
        int bad = !c->text || !c->section;
        if (!bad && ((url && *url) || (title && *title))) {
            c->cits = calloc(1, sizeof *c->cits);
            bad = !c->cits;
            if (!bad) {
                c->ncit = 1;
                struct ver_citation *ct = &c->cits[0];
                ct->url = url && *url ? strdup(url) : NULL;
                ct->title = title && *title ? strdup(title) : NULL;
                ct->raw = strndup(text + s, e - s);
                bad = (url && *url && !ct->url) || (title && *title && !ct->title) || !ct->raw;
                size_t k = 0;
                if (ct->url) {
                    while (k < nurls && strcmp(urls[k], ct->url) != 0) k++;
                    if (k == nurls) urls[nurls++] = ct->url;
                    ct->ref = (int)k + 1;
                } else {
                    ct->ref = (int)++nurls;
                    urls[nurls - 1] = "";
                }
            }
        }
        json_decref(o);
        if (bad) {
            rc = err_set(err, ERR_NOMEM, "line %zu", line);
            goto fail;
        }
    }
    a->nrefs = (int)nurls;
fail:
    free(urls);
    return rc;
}

int ver_extractor_run(struct ver_extractor *x, struct ver_article **out, const char *text, size_t len,
                      enum ver_format fmt, const char *title, struct err *err)
{
    int rc = ERR_OK;
    struct ver_article *a = NULL;
    struct vx v = {0};
    *out = NULL;
    if (len > VER_MAX_INPUT)
        return err_set(err, ERR_LIMIT, "article of %zu bytes is over the %u byte limit", len, VER_MAX_INPUT);
    if (!text && len) return err_set(err, ERR_ARG, "ver_extract: NULL text");
    size_t bad;
    if (text && !utf8_valid(text, len, &bad)) /* else claims and URLs could not be written as JSON */
        return err_set(err, ERR_UTF8, "article is not valid UTF-8 (byte %zu)", bad);
    a = calloc(1, sizeof *a);
    if (!a) return err_set(err, ERR_NOMEM, "ver_extract");
    a->title = strdup(title ? title : "");
    if (!a->title) {
        rc = err_set(err, ERR_NOMEM, "ver_extract");
        goto fail;
    }
    if (fmt == VER_FMT_AUTO) fmt = ver_detect_format(text ? text : "", len);
    if (fmt == VER_FMT_CLAIMS) {
        rc = read_jsonl(a, text, len, err);
        if (rc) goto fail;
        *out = a;
        return ERR_OK;
    }
    if (fmt != VER_FMT_WIKITEXT && fmt != VER_FMT_MARKDOWN) {
        rc = err_set(err, ERR_ARG, "ver_extract: unknown format %d", (int)fmt);
        goto fail;
    }
    v.x = x;
    v.err = err;
    v.cur_section = -1;
    v.src = text ? text : "";
    v.len = len;
    rc = fmt == VER_FMT_WIKITEXT ? ver_wt_read(&v) : ver_md_read(&v);
    if (!rc) rc = v.rc;
    if (rc) goto fail;
    rc = build_claims(&v, a);
    if (rc) goto fail;
    a->nbiblio = (int)v.nbib;
    vx_cleanup(&v);
    *out = a;
    return ERR_OK;
fail:
    vx_cleanup(&v);
    ver_article_free(a);
    return rc;
}

int ver_extract(struct ver_article **out, const char *text, size_t len, enum ver_format fmt,
                const char *title, struct err *err)
{
    struct ver_extractor *x = NULL;
    *out = NULL;
    int rc = ver_extractor_new(&x, err);
    if (rc) return rc;
    rc = ver_extractor_run(x, out, text, len, fmt, title, err);
    ver_extractor_free(x);
    return rc;
}

void ver_article_free(struct ver_article *a)
{
    if (!a) return;
    for (int i = 0; i < a->nclaims; i++) {
        struct ver_claim *c = &a->claims[i];
        free(c->text);
        free(c->section);
        for (int k = 0; k < c->ncit; k++) cit_cleanup(&c->cits[k]);
        free(c->cits);
    }
    free(a->claims);
    free(a->title);
    free(a->path);
    free(a);
}
