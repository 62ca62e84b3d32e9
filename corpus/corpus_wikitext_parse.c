/* corpus_wikitext_parse.c - the wikitext engine's one scan over an article, and its lookups.
 *
 * The scan records, in source order:
 *   regions      comments, and the tags of the tag table: a tag alone (<b>, <br/>, a stray
 *                </ref>), or an element with its content (<math>...</math>, <ref>...</ref>).
 *                <math>, <nowiki>, comments and the like are opaque (nothing inside is read);
 *                <ref> and <references> content is read, so refs nest in <references> and
 *                templates in refs.
 *   spans        {{templates}}, {{{parameters}}}, {| tables |} (at a line start) and [[links]],
 *                matched by stacks; what a <ref> opens is closed inside it or not at all.
 *                Unbalanced openers match nothing (the walk shows them as text).
 *   cite points  each <ref> (outside <references>) and each template whose role cites
 *                ({{cn}}, {{sfn}}, {{r}}, {{refn}}): fields holding one are rendered.
 * Forward searches ('>' and closing tags) cache their answer, so the scan stays linear. */
#include "corpus_wikitext_int.h"

#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "vec.h"

#define WT_NONE ((size_t)-1)

/* A cached forward search: no match in [from, at) and a match at `at` (n when none). */
struct wt_find {
    size_t from, at;
};

struct wt_open {
    uint32_t pos;
    unsigned char width; /* 2 "{{" or 3 "{{{"; 2 for a table "{|" */
    unsigned char table;
};

struct scan {
    struct corpus_wt *w;
    const char *s;
    size_t n;
    struct wt_open *st; /* (nst) open braces and tables */
    size_t nst, stcap;
    uint32_t *lk; /* (nlk) open "[[" */
    size_t nlk, lkcap;
    size_t base, lbase;  /* inside a ref: the stack entries below belong outside it */
    size_t nbrace, saved_nbrace; /* brace openers above base */
    int in_ref;
    size_t ref_close, ref_end; /* inside a ref: where its "</ref" starts, and its end */
    size_t refs_end;           /* refs before this offset are inside <references> */
    size_t regcap, spcap, citecap;
    struct wt_find gt;     /* the next '>' */
    struct wt_find *close; /* (wt_tag_count()) the next "</name" of each tag */
    int oom;
};

/* ---------------------------------------------------------------- searching */

static size_t find_gt(struct scan *sc, size_t from)
{
    struct wt_find *f = &sc->gt;
    if (f->at != WT_NONE && f->from <= from && from <= f->at) return f->at;
    const char *p = from < sc->n ? memchr(sc->s + from, '>', sc->n - from) : NULL;
    f->from = from;
    f->at = p ? (size_t)(p - sc->s) : sc->n;
    return f->at;
}

/* The next "</name" (any case, not followed by a name byte) at or after `from`, or n. */
static size_t find_close(struct scan *sc, int tag, size_t from)
{
    struct wt_find *f = &sc->close[tag];
    if (f->at != WT_NONE && f->from <= from && from <= f->at) return f->at;
    const char *name = wt_tag_name(tag);
    size_t nl = strlen(name), j = from, n = sc->n;
    f->from = from;
    f->at = n;
    while (j < n) {
        const char *p = memchr(sc->s + j, '<', n - j);
        if (!p) break;
        j = (size_t)(p - sc->s);
        if (j + 2 + nl <= n && sc->s[j + 1] == '/' && ascii_ncasecmp(sc->s + j + 2, name, nl) == 0 &&
            (j + 2 + nl == n || !ascii_isalnum((unsigned char)sc->s[j + 2 + nl]))) {
            f->at = j;
            break;
        }
        j++;
    }
    return f->at;
}

/* Nonzero when s[i] starts a line, ignoring blanks and ':' indentation before it. */
static int at_line_start(const char *s, size_t i)
{
    while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == ':')) i--;
    return i == 0 || s[i - 1] == '\n';
}

/* ---------------------------------------------------------------- recording */

static void add_region(struct scan *sc, const struct wt_region *r)
{
    struct corpus_wt *w = sc->w;
    if (vec_grow((void **)&w->reg, &sc->regcap, w->nreg + 1, sizeof *w->reg)) {
        sc->oom = 1;
        return;
    }
    w->reg[w->nreg++] = *r;
}

static void add_tag_region(struct scan *sc, size_t a, size_t b, int tag)
{
    struct wt_region r = {0};
    r.start = (uint32_t)a;
    r.end = r.in_a = r.in_b = (uint32_t)b;
    r.tag = (int16_t)tag;
    r.kind = WT_REG_TAG;
    add_region(sc, &r);
}

static void add_span(struct scan *sc, size_t a, size_t b, int kind)
{
    struct corpus_wt *w = sc->w;
    if (vec_grow((void **)&w->sp, &sc->spcap, w->nsp + 1, sizeof *w->sp)) {
        sc->oom = 1;
        return;
    }
    w->sp[w->nsp++] = (struct wt_span){(uint32_t)a, (uint32_t)b, (unsigned char)kind, CORPUS_WT_SILENT, -1};
}

static void add_cite(struct scan *sc, size_t at)
{
    struct corpus_wt *w = sc->w;
    if (vec_grow((void **)&w->cites, &sc->citecap, w->ncites + 1, sizeof *w->cites)) {
        sc->oom = 1;
        return;
    }
    w->cites[w->ncites++] = (uint32_t)at;
}

/* name= and group= of a <ref> tag's attributes s[a, b). */
static void ref_attrs(const char *s, size_t a, size_t b, struct wt_region *r)
{
    size_t i = a;
    while (i < b) {
        while (i < b && (ascii_isspace((unsigned char)s[i]) || s[i] == '/')) i++;
        size_t ka = i;
        while (i < b && ascii_isalpha((unsigned char)s[i])) i++;
        size_t kb = i;
        while (i < b && ascii_isspace((unsigned char)s[i])) i++;
        if (i >= b || s[i] != '=') {
            if (i == ka) i++;
            continue;
        }
        i++;
        while (i < b && ascii_isspace((unsigned char)s[i])) i++;
        size_t va = i, vb;
        if (i < b && (s[i] == '"' || s[i] == '\'')) {
            char q = s[i++];
            va = i;
            while (i < b && s[i] != q) i++;
            vb = i;
            if (i < b) i++;
        } else {
            while (i < b && !ascii_isspace((unsigned char)s[i]) && !(s[i] == '/' && i + 1 == b)) i++;
            vb = i;
        }
        while (va < vb && ascii_isspace((unsigned char)s[va])) va++;
        while (vb > va && ascii_isspace((unsigned char)s[vb - 1])) vb--;
        if (ascii_eq_word(s + ka, kb - ka, "name")) r->na = (uint32_t)va, r->nb = (uint32_t)vb;
        else if (ascii_eq_word(s + ka, kb - ka, "group")) r->ga = (uint32_t)va, r->gb = (uint32_t)vb;
    }
}

/* ---------------------------------------------------------------- tags */

/* <ref ...> at i: j is after its name, gt its '>'. Returns where the scan goes on. */
static size_t scan_ref(struct scan *sc, size_t i, size_t j, size_t gt, int closing, int tag)
{
    int self = sc->s[gt - 1] == '/';
    if (closing || sc->in_ref) { /* a stray </ref>, or a <ref> inside a ref: the tag goes */
        add_tag_region(sc, i, gt + 1, tag);
        return gt + 1;
    }
    struct wt_region r = {0};
    r.start = (uint32_t)i;
    r.end = r.in_a = r.in_b = (uint32_t)(gt + 1);
    r.tag = (int16_t)tag;
    r.kind = WT_REG_ELEMENT;
    r.selfclose = (unsigned char)self;
    ref_attrs(sc->s, j, self ? gt - 1 : gt, &r);
    size_t cl = self ? sc->n : find_close(sc, tag, gt + 1);
    size_t cgt = cl < sc->n ? find_gt(sc, cl) : sc->n;
    if (cgt < sc->n) { /* else unclosed: the tag alone */
        r.end = (uint32_t)(cgt + 1);
        r.in_b = (uint32_t)cl;
    }
    add_region(sc, &r);
    if (i >= sc->refs_end) add_cite(sc, i);
    if (cgt < sc->n) { /* what opens inside closes inside */
        sc->in_ref = 1;
        sc->ref_close = cl;
        sc->ref_end = cgt + 1;
        sc->base = sc->nst;
        sc->lbase = sc->nlk;
        sc->saved_nbrace = sc->nbrace;
        sc->nbrace = 0;
    }
    return gt + 1;
}

static size_t ref_leave(struct scan *sc)
{
    sc->nst = sc->base;
    sc->nlk = sc->lbase;
    sc->nbrace = sc->saved_nbrace;
    sc->base = sc->lbase = 0;
    sc->in_ref = 0;
    return sc->ref_end;
}

/* An element with content (<math>, <nowiki>, <references>): opaque unless `inside`. */
static size_t scan_element(struct scan *sc, size_t i, size_t gt, size_t lim, int closing, int tag, int inside)
{
    if (closing || sc->s[gt - 1] == '/' || (inside && sc->in_ref)) {
        add_tag_region(sc, i, gt + 1, tag);
        return gt + 1;
    }
    size_t cl = find_close(sc, tag, gt + 1);
    size_t cgt = cl < lim ? find_gt(sc, cl) : lim;
    if (cgt >= lim) { /* unclosed: the opening tag alone goes */
        add_tag_region(sc, i, gt + 1, tag);
        return gt + 1;
    }
    struct wt_region r = {0};
    r.start = (uint32_t)i;
    r.end = (uint32_t)(cgt + 1);
    r.in_a = (uint32_t)(gt + 1);
    r.in_b = (uint32_t)cl;
    r.tag = (int16_t)tag;
    r.kind = WT_REG_ELEMENT;
    add_region(sc, &r);
    if (!inside) return cgt + 1;
    sc->refs_end = cl;
    return gt + 1;
}

/* A comment or tag at s[i] == '<' (before lim); returns where the scan goes on. */
static size_t scan_lt(struct scan *sc, size_t i, size_t lim)
{
    const char *s = sc->s;
    if (i + 4 <= lim && memcmp(s + i, "<!--", 4) == 0) {
        const char *e = memmem(s + i + 4, lim - i - 4, "-->", 3);
        size_t end = e ? (size_t)(e - s) + 3 : lim;
        struct wt_region r = {0};
        r.start = (uint32_t)i;
        r.end = r.in_a = r.in_b = (uint32_t)end;
        r.tag = -1;
        r.kind = WT_REG_COMMENT;
        add_region(sc, &r);
        return end;
    }
    size_t j = i + 1;
    int closing = j < lim && s[j] == '/';
    j += (size_t)closing;
    size_t na = j;
    while (j < lim && j - na <= WT_NAME_MAX && ascii_isalnum((unsigned char)s[j])) j++;
    if (j == na || j >= lim || !ascii_isalpha((unsigned char)s[na])) return i + 1;
    if (!(ascii_isspace((unsigned char)s[j]) || s[j] == '>' || s[j] == '/')) return i + 1;
    int tag = wt_tag_find(s + na, j - na);
    if (tag < 0) return i + 1;
    size_t gt = find_gt(sc, j);
    if (gt >= lim || gt - i > WT_TAG_MAX) return i + 1;
    switch (wt_tag_kind(tag)) {
    case WT_TAG_REF: return scan_ref(sc, i, j, gt, closing, tag);
    case WT_TAG_REFS: return scan_element(sc, i, gt, lim, closing, tag, 1);
    case WT_TAG_DROP:
    case WT_TAG_LITERAL:
    case WT_TAG_PRE: return scan_element(sc, i, gt, lim, closing, tag, 0);
    default: add_tag_region(sc, i, gt + 1, tag); return gt + 1;
    }
}

/* ---------------------------------------------------------------- brackets */

static void push(struct scan *sc, size_t pos, int width, int table)
{
    if (vec_grow((void **)&sc->st, &sc->stcap, sc->nst + 1, sizeof *sc->st)) {
        sc->oom = 1;
        return;
    }
    sc->st[sc->nst++] = (struct wt_open){(uint32_t)pos, (unsigned char)width, (unsigned char)table};
    if (!table) sc->nbrace++;
}

static size_t scan_open(struct scan *sc, size_t i)
{
    const char *s = sc->s;
    size_t k = 0;
    while (i + k < sc->n && s[i + k] == '{') k++;
    if (k == 1) {
        if (i + 1 < sc->n && s[i + 1] == '|' && at_line_start(s, i)) {
            push(sc, i, 2, 1);
            return i + 2;
        }
        return i + 1;
    }
    size_t p = i;
    while (k >= 2) { /* "{{{{" is two templates, "{{{{{" a template around a parameter */
        int width = k == 3 ? 3 : 2;
        push(sc, p, width, 0);
        p += (size_t)width;
        k -= (size_t)width;
    }
    return p + k;
}

static size_t scan_close(struct scan *sc, size_t i)
{
    size_t m = 0, q = i;
    while (i + m < sc->n && sc->s[i + m] == '}') m++;
    while (m >= 2 && sc->nbrace > 0) {
        while (sc->st[sc->nst - 1].table) sc->nst--; /* tables left open inside a template */
        struct wt_open top = sc->st[--sc->nst];
        sc->nbrace--;
        size_t use = (top.width == 3 && m >= 3) ? 3 : 2;
        add_span(sc, top.pos, q + use, top.width == 3 ? WT_SP_PARAM : WT_SP_TPL);
        q += use;
        m -= use;
    }
    return q + m;
}

static size_t scan_table_close(struct scan *sc, size_t i)
{
    if (sc->nst <= sc->base || !sc->st[sc->nst - 1].table) return i + 1;
    add_span(sc, sc->st[--sc->nst].pos, i + 2, WT_SP_TABLE);
    return i + 2;
}

static size_t scan_link(struct scan *sc, size_t i)
{
    if (sc->s[i] == '[') {
        if (vec_grow((void **)&sc->lk, &sc->lkcap, sc->nlk + 1, sizeof *sc->lk)) sc->oom = 1;
        else sc->lk[sc->nlk++] = (uint32_t)i;
    } else {
        add_span(sc, sc->lk[--sc->nlk], i + 2, WT_SP_LINK);
    }
    return i + 2;
}

static void scan_all(struct scan *sc)
{
    const char *s = sc->s;
    size_t n = sc->n, i = 0;
    while (i < n && !sc->oom) {
        if (sc->in_ref && i >= sc->ref_close) {
            i = ref_leave(sc);
            continue;
        }
        size_t lim = sc->in_ref ? sc->ref_close : n;
        char c = s[i], d = i + 1 < n ? s[i + 1] : '\0';
        if (c == '<') i = scan_lt(sc, i, lim);
        else if (c == '{') i = scan_open(sc, i);
        else if (c == '}') i = scan_close(sc, i);
        else if (c == '|' && d == '}' && at_line_start(s, i)) i = scan_table_close(sc, i);
        else if ((c == '[' && d == '[') || (c == ']' && d == ']' && sc->nlk > sc->lbase)) i = scan_link(sc, i);
        else i++;
    }
}

/* ---------------------------------------------------------------- after the scan */

static int cmp_span(const void *a, const void *b)
{
    const struct wt_span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Template roles and table entries; citing templates become cite points. */
static void classify(struct scan *sc)
{
    struct corpus_wt *w = sc->w;
    for (size_t k = 0; k < w->nsp && !sc->oom; k++) {
        struct wt_span *t = &w->sp[k];
        if (t->kind != WT_SP_TPL) continue;
        char name[64];
        wt_template_name(w->s, t->start + 2, t->end - 2, name);
        int e = wt_template_lookup(name);
        const struct wt_template *te = wt_template_entry(e);
        t->entry = (int16_t)e;
        t->role = te ? te->role : (name[0] == '#' ? CORPUS_WT_SILENT : CORPUS_WT_BOX);
        if (wt_role_cites(t->role)) add_cite(sc, t->start);
    }
}

static int scan_article(struct corpus_wt *w)
{
    struct scan sc = {.w = w, .s = w->s, .n = w->n, .gt = {0, WT_NONE}};
    size_t nt = wt_tag_count();
    sc.close = malloc(nt * sizeof *sc.close);
    if (!sc.close) return -1;
    for (size_t k = 0; k < nt; k++) sc.close[k] = (struct wt_find){0, WT_NONE};
    scan_all(&sc);
    if (!sc.oom && w->nsp > 1) qsort(w->sp, w->nsp, sizeof *w->sp, cmp_span);
    if (!sc.oom) classify(&sc);
    if (!sc.oom && w->ncites > 1) qsort(w->cites, w->ncites, sizeof *w->cites, cmp_u32);
    free(sc.close);
    free(sc.st);
    free(sc.lk);
    return sc.oom ? -1 : 0;
}

/* ---------------------------------------------------------------- escaped exports */

static int has_ci(const char *s, size_t n, const char *needle)
{
    size_t l = strlen(needle);
    for (size_t i = 0; i + l <= n; i++)
        if (ascii_tolower((unsigned char)s[i]) == needle[0] && ascii_ncasecmp(s + i, needle, l) == 0) return 1;
    return 0;
}

/* Some exports carry wikitext escaped once more ("&lt;ref&gt;"): with no "<ref" but an "&lt;ref"
 * (or no '<' at all but an "&lt;"), the XML entities are decoded first, with an offset map. */
static int unescape(struct corpus_wt *w)
{
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&amp;", '&'}, {"&#039;", '\''}, {"&#39;", '\''}};
    const char *s = w->s;
    size_t len = w->n, n = 0;
    int refs = !has_ci(s, len, "<ref") && has_ci(s, len, "&lt;ref");
    if (!refs && (memchr(s, '<', len) || !memmem(s, len, "&lt;", 4))) return 0;
    w->own = malloc(len + 1);
    w->omap = malloc((len + 1) * sizeof *w->omap);
    if (!w->own || !w->omap) return -1;
    for (size_t i = 0; i < len;) {
        size_t k = 0, el = 0;
        if (s[i] == '&')
            for (; k < sizeof ents / sizeof ents[0]; k++) {
                el = strlen(ents[k].ent);
                if (i + el <= len && memcmp(s + i, ents[k].ent, el) == 0) break;
            }
        w->omap[n] = (uint32_t)i;
        if (s[i] == '&' && k < sizeof ents / sizeof ents[0]) {
            w->own[n++] = ents[k].c;
            i += el;
        } else {
            w->own[n++] = s[i++];
        }
    }
    w->own[n] = '\0';
    w->omap[n] = (uint32_t)len;
    w->s = w->own;
    w->n = n;
    return 0;
}

/* ---------------------------------------------------------------- the handle */

int corpus_wt_parse(struct corpus_wt **out, const char *wt, size_t len, struct err *err)
{
    *out = NULL;
    if (len >= UINT32_MAX) return err_set(err, ERR_LIMIT, "wikitext of %zu bytes: 4 GiB or more", len);
    struct corpus_wt *w = calloc(1, sizeof *w);
    if (!w) return err_set(err, ERR_NOMEM, "wikitext: out of memory");
    w->s = wt && len ? wt : "";
    w->n = wt ? len : 0;
    w->rb_at = w->nl_at = WT_NONE;
    if (unescape(w) || scan_article(w)) {
        corpus_wt_free(w);
        return err_set(err, ERR_NOMEM, "wikitext: out of memory (%zu bytes of input)", len);
    }
    *out = w;
    return ERR_OK;
}

void corpus_wt_free(struct corpus_wt *w)
{
    if (!w) return;
    free(w->own);
    free(w->omap);
    free(w->reg);
    free(w->sp);
    free(w->cites);
    free(w);
}

const char *corpus_wt_src(const struct corpus_wt *w, size_t *len)
{
    *len = w->n;
    return w->s;
}

size_t corpus_wt_input_offset(const struct corpus_wt *w, size_t off)
{
    if (off > w->n) off = w->n;
    return w->omap ? w->omap[off] : off;
}

/* ---------------------------------------------------------------- lookups */

/* The first of n elements of `size` bytes, sorted by a leading uint32_t, whose key is >= key. */
static size_t lower_bound(const void *base, size_t n, size_t size, size_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t k;
        memcpy(&k, (const char *)base + mid * size, sizeof k);
        if (k < key) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const struct wt_region *wt_region_at(const struct corpus_wt *w, size_t i)
{
    size_t k = lower_bound(w->reg, w->nreg, sizeof *w->reg, i);
    return k < w->nreg && w->reg[k].start == i ? &w->reg[k] : NULL;
}

const struct wt_span *wt_span_at(const struct corpus_wt *w, size_t i)
{
    size_t k = lower_bound(w->sp, w->nsp, sizeof *w->sp, i);
    return k < w->nsp && w->sp[k].start == i ? &w->sp[k] : NULL;
}

int wt_has_cite(const struct corpus_wt *w, size_t a, size_t b)
{
    size_t k = lower_bound(w->cites, w->ncites, sizeof *w->cites, a);
    return k < w->ncites && w->cites[k] < b;
}

size_t wt_skip(const struct corpus_wt *w, size_t i, size_t b)
{
    char c = w->s[i];
    if (c == '{' || c == '[') {
        const struct wt_span *t = wt_span_at(w, i);
        if (t && t->end <= b) return t->end;
    } else if (c == '<') {
        const struct wt_region *r = wt_region_at(w, i);
        if (r && r->end <= b) return r->end;
    }
    return i + 1;
}

void wt_template_name(const char *s, size_t a, size_t b, char out[64])
{
    size_t o = 0;
    while (a < b && ascii_isspace((unsigned char)s[a])) a++;
    for (; a < b && s[a] != '|'; a++) {
        char c = (char)ascii_tolower((unsigned char)s[a]);
        if (c == '_' || ascii_isspace((unsigned char)c)) c = ' ';
        if (c == ' ' && o && out[o - 1] == ' ') continue;
        if (o + 1 >= 64) {
            o = 0;
            break;
        }
        out[o++] = c;
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = '\0';
    if (o >= 9 && memcmp(out, "template:", 9) == 0) {
        size_t k = 9;
        while (out[k] == ' ') k++;
        memmove(out, out + k, o - k + 1);
    }
}

int wt_split(const struct corpus_wt *w, size_t a, size_t b, corpus_wt_param_fn fn, void *ctx)
{
    const char *s = w->s;
    size_t seg = a, eq = WT_NONE, i = a;
    int first = 1, pos = 0;
    for (;;) {
        if (i >= b || s[i] == '|') {
            if (!first) {
                size_t ka = seg, kb = eq, va = eq == WT_NONE ? seg : eq + 1, vb = i < b ? i : b;
                while (va < vb && ascii_isspace((unsigned char)s[va])) va++;
                while (vb > va && ascii_isspace((unsigned char)s[vb - 1])) vb--;
                if (eq == WT_NONE) ka = kb = 0;
                while (ka < kb && ascii_isspace((unsigned char)s[ka])) ka++;
                while (kb > ka && ascii_isspace((unsigned char)s[kb - 1])) kb--;
                int rc = fn(ctx, eq == WT_NONE ? ++pos : 0, ka, kb, va, vb);
                if (rc) return rc;
            }
            first = 0;
            if (i >= b) return 0;
            seg = ++i;
            eq = WT_NONE;
            continue;
        }
        if (s[i] == '=' && eq == WT_NONE && !first) eq = i;
        i = wt_skip(w, i, b);
    }
}

void wt_tpl_of(const struct corpus_wt *w, const struct wt_span *t, struct corpus_wt_tpl *out)
{
    wt_template_name(w->s, t->start + 2, t->end - 2, out->name);
    out->role = t->role;
    out->start = t->start;
    out->end = t->end;
    out->in_a = t->start + 2;
    out->in_b = t->end - 2;
}

int corpus_wt_template(const struct corpus_wt *w, size_t open, size_t b, struct corpus_wt_tpl *t)
{
    const struct wt_span *sp = open < w->n ? wt_span_at(w, open) : NULL;
    if (!sp || sp->kind != WT_SP_TPL || sp->end > b) return 0;
    wt_tpl_of(w, sp, t);
    return 1;
}

size_t corpus_wt_link_end(const struct corpus_wt *w, size_t open, size_t b)
{
    const struct wt_span *sp = open < w->n ? wt_span_at(w, open) : NULL;
    return sp && sp->kind == WT_SP_LINK && sp->end <= b ? sp->end : 0;
}

int corpus_wt_params(const struct corpus_wt *w, const struct corpus_wt_tpl *t, corpus_wt_param_fn fn, void *ctx)
{
    return wt_split(w, t->in_a, t->in_b, fn, ctx);
}
