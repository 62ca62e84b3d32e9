/* ver_wikitext.c - the wikitext reader: plain text with citation anchors, refs, cite templates.
 *
 * What becomes text: prose, list items, link labels, the text of a few inline templates ({{lang}},
 * {{convert}}, {{nowrap}} ...). Other templates and tables produce text only where they carry a
 * citation: an infobox field holding a <ref> becomes its own claim "Key: value" (e.g. "Born: 1961"),
 * a table row holding one becomes "cell; cell; cell", an image caption holding one becomes the
 * caption. Those claims are never merged with the sentence before. Everything inside <math>,
 * <gallery>, <pre>, <syntaxhighlight> and similar is dropped. */
#include "ver_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void lin(struct vx *v, size_t a, size_t b);

static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static int is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_alnum(unsigned char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }
static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static int starts_ci(const char *s, size_t i, size_t b, const char *p)
{
    size_t n = strlen(p);
    return i + n <= b && strncasecmp(s + i, p, n) == 0;
}

static void trim(const char *s, size_t *a, size_t *b)
{
    while (*a < *b && is_ws((unsigned char)s[*a])) (*a)++;
    while (*b > *a && is_ws((unsigned char)s[*b - 1])) (*b)--;
}

static void emit_lit(struct vx *v, const char *lit, size_t off) { ver_vx_emit(v, lit, strlen(lit), off, 0); }

/* ---------------------------------------------------------------- bracket pairs */

static int pair_cmp(const void *x, const void *y)
{
    const struct vx_pair *p = x, *q = y;
    return p->open < q->open ? -1 : p->open > q->open;
}

/* Match every {{ with its }} and [[ with its ]] in one pass (comments skipped). */
static int build_pairs(struct vx *v)
{
    const char *s = v->src;
    uint32_t *st[2] = {NULL, NULL};
    size_t n[2] = {0, 0}, cap[2] = {0, 0}, pcap = 0;
    int rc = 0;
    for (size_t i = 0; i + 1 < v->len;) {
        if (s[i] == '<' && i + 3 < v->len && memcmp(s + i, "<!--", 4) == 0) {
            const char *e = memmem(s + i + 4, v->len - i - 4, "-->", 3);
            i = e ? (size_t)(e - s) + 3 : v->len;
            continue;
        }
        int k = -1, open = 0;
        if (s[i] == '{' && s[i + 1] == '{') k = 0, open = 1;
        else if (s[i] == '}' && s[i + 1] == '}') k = 0;
        else if (s[i] == '[' && s[i + 1] == '[') k = 1, open = 1;
        else if (s[i] == ']' && s[i + 1] == ']') k = 1;
        if (k < 0) {
            i++;
            continue;
        }
        if (open) {
            if (n[k] == cap[k]) {
                size_t nc = cap[k] ? cap[k] * 2 : 64;
                uint32_t *q = realloc(st[k], nc * sizeof *q);
                if (!q) goto oom;
                st[k] = q;
                cap[k] = nc;
            }
            st[k][n[k]++] = (uint32_t)i;
        } else if (n[k]) {
            if (v->npairs == pcap) {
                size_t nc = pcap ? pcap * 2 : 64;
                struct vx_pair *q = realloc(v->pairs, nc * sizeof *q);
                if (!q) goto oom;
                v->pairs = q;
                pcap = nc;
            }
            v->pairs[v->npairs++] = (struct vx_pair){st[k][--n[k]], (uint32_t)i};
        }
        i += 2;
    }
    if (v->npairs) qsort(v->pairs, v->npairs, sizeof *v->pairs, pair_cmp);
    goto done;
oom:
    rc = ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
done:
    free(st[0]);
    free(st[1]);
    return rc;
}

/* The offset of the "}}"/"]]" closing the pair opened at `open`, when it lies before `b` (the
 * closer must end at or before b); else (size_t)-1. */
static size_t pair_close(const struct vx *v, size_t open, size_t b)
{
    size_t lo = 0, hi = v->npairs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->pairs[mid].open < open) lo = mid + 1;
        else hi = mid;
    }
    if (lo < v->npairs && v->pairs[lo].open == open && v->pairs[lo].close + 2 <= b) return v->pairs[lo].close;
    return (size_t)-1;
}

/* ---------------------------------------------------------------- searching */

static size_t find_ci(const char *s, size_t from, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    char f0 = lower(needle[0]), f1 = (char)(f0 - 32);
    for (size_t i = from; i + nl <= len; i++) {
        if (s[i] != f0 && s[i] != f1) continue;
        if (strncasecmp(s + i, needle, nl) == 0) return i;
    }
    return (size_t)-1;
}

/* find_ci over the whole input, remembering the last answer for `slot` so that repeated searches
 * from increasing positions (unclosed tags) stay linear overall. */
static size_t find_cached(struct vx *v, int slot, size_t from, const char *needle)
{
    struct vx_find *f = &v->finds[slot];
    if (f->valid && from >= f->from && (f->at == (size_t)-1 || from <= f->at)) return f->at;
    f->from = from;
    f->at = find_ci(v->src, from, v->len, needle);
    f->valid = 1;
    return f->at;
}

/* ---------------------------------------------------------------- scratch text */

/* The plain text of src[a..b) (white space collapsed; NULL when empty). Leaves no trace. */
static char *plain(struct vx *v, size_t a, size_t b)
{
    struct vx_mark m;
    ver_vx_save(v, &m);
    int mute = v->mute, sec = v->cur_section;
    size_t nsec = v->nsections;
    v->mute = 0;
    v->defonly++;
    v->plain++;
    v->block_start = v->pt.len;
    lin(v, a, b);
    char *r = NULL;
    if (!v->rc && v->pt.len > m.ptlen) r = ver_vx_clean(v, v->pt.data + m.ptlen, v->pt.len - m.ptlen);
    ver_vx_restore(v, &m);
    while (v->nsections > nsec) free(v->sections[--v->nsections]);
    v->cur_section = sec;
    v->mute = mute;
    v->defonly--;
    v->plain--;
    return r;
}

/* ---------------------------------------------------------------- template parameters */

/* pos: 1-based index of a positional parameter, 0 for a named one (key in [ka,kb)). */
typedef void (*param_fn)(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb);

static size_t skip_nested(struct vx *v, size_t i, size_t b)
{
    const char *s = v->src;
    if (i + 1 < b && ((s[i] == '{' && s[i + 1] == '{') || (s[i] == '[' && s[i + 1] == '['))) {
        size_t c = pair_close(v, i, b);
        if (c != (size_t)-1) return c + 2;
    }
    if (s[i] == '<' && starts_ci(s, i, b, "<!--")) {
        const char *e = memmem(s + i + 4, b - i - 4, "-->", 3);
        return e ? (size_t)(e - s) + 3 : b;
    }
    if (s[i] == '<' && starts_ci(s, i, b, "<ref") && i + 4 < b &&
        (is_ws((unsigned char)s[i + 4]) || s[i + 4] == '>' || s[i + 4] == '/')) {
        const char *gt = memchr(s + i, '>', b - i);
        if (!gt) return i + 1;
        size_t g = (size_t)(gt - s);
        if (s[g - 1] == '/') return g + 1;
        size_t c = find_cached(v, 0, g + 1, "</ref");
        if (c == (size_t)-1 || c >= b) return g + 1;
        const char *e = memchr(s + c, '>', b - c);
        return e ? (size_t)(e - s) + 1 : b;
    }
    if (s[i] == '<' && starts_ci(s, i, b, "<nowiki>")) {
        size_t c = find_cached(v, 1, i + 8, "</nowiki>");
        if (c != (size_t)-1 && c + 9 <= b) return c + 9;
    }
    return i + 1;
}

/* Call fn for each parameter of the template whose inner text (between {{ and }}) is [a,b). */
static void params(struct vx *v, size_t a, size_t b, param_fn fn, void *ctx)
{
    const char *s = v->src;
    size_t seg = a, eq = (size_t)-1;
    int first = 1, pos = 0;
    size_t i = a;
    for (;;) {
        if (i >= b || s[i] == '|') {
            size_t e = i < b ? i : b;
            if (!first) {
                if (eq != (size_t)-1) {
                    size_t ka = seg, kb = eq, va = eq + 1, vb = e;
                    trim(s, &ka, &kb);
                    trim(s, &va, &vb);
                    fn(v, ctx, 0, ka, kb, va, vb);
                } else {
                    size_t va = seg, vb = e;
                    trim(s, &va, &vb);
                    fn(v, ctx, ++pos, 0, 0, va, vb);
                }
                if (v->rc) return;
            }
            first = 0;
            if (i >= b) break;
            seg = i + 1;
            eq = (size_t)-1;
            i++;
            continue;
        }
        if (s[i] == '=' && eq == (size_t)-1 && !first) eq = i;
        i = skip_nested(v, i, b);
    }
}

/* Template name of inner text [a,b): lower case, '_' as ' ', spaces collapsed, "template:" cut.
 * Empty when longer than the buffer. */
static void tpl_name(const struct vx *v, size_t a, size_t b, char *out, size_t cap)
{
    const char *s = v->src;
    size_t e = a;
    while (e < b && s[e] != '|') e++;
    trim(s, &a, &e);
    size_t o = 0;
    for (size_t i = a; i < e; i++) {
        char c = lower(s[i]);
        if (c == '_' || is_ws((unsigned char)c)) c = ' ';
        if (c == ' ' && o && out[o - 1] == ' ') continue;
        if (o + 1 >= cap) {
            o = 0;
            break;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    if (o >= 9 && strncmp(out, "template:", 9) == 0) memmove(out, out + 9, o - 9 + 1);
}

/* ---------------------------------------------------------------- citations */

struct citctx {
    struct ver_citation *c;
    char *publisher, *year, *last, *alt_url, *chapter;
};

static void set_raw(struct vx *v, char **dst, size_t va, size_t vb)
{
    if (*dst || vb <= va) return;
    *dst = ver_vx_clean(v, v->src + va, vb - va);
}

static void set_plain(struct vx *v, char **dst, size_t va, size_t vb)
{
    if (*dst || vb <= va) return;
    *dst = plain(v, va, vb);
}

static int key_is(const struct vx *v, size_t ka, size_t kb, const char *k)
{
    size_t n = strlen(k);
    return kb - ka == n && strncasecmp(v->src + ka, k, n) == 0;
}

/* A lower-case last name from an author= / vauthors= / last= value. */
static char *last_name(struct vx *v, size_t va, size_t vb, int is_last, int vancouver)
{
    char *p = plain(v, va, vb);
    if (!p || is_last) goto lowercase;
    char *comma = strchr(p, ',');
    if (comma && !vancouver) {
        *comma = '\0';
    } else if (vancouver) {
        char *sp = strchr(p, ' ');
        if (sp) *sp = '\0';
    } else {
        char *semi = strchr(p, ';');
        if (semi) *semi = '\0';
        char *sp = strrchr(p, ' ');
        if (sp) memmove(p, sp + 1, strlen(sp + 1) + 1);
    }
lowercase:
    if (p)
        for (char *q = p; *q; q++) *q = lower(*q);
    return p;
}

static void cite_param(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    struct citctx *cc = ctx;
    struct ver_citation *c = cc->c;
    if (pos || vb <= va) return;
    if (key_is(v, ka, kb, "url")) set_raw(v, &c->url, va, vb);
    else if (key_is(v, ka, kb, "chapter-url") || key_is(v, ka, kb, "chapterurl") ||
             key_is(v, ka, kb, "contribution-url") || key_is(v, ka, kb, "section-url"))
        set_raw(v, &cc->alt_url, va, vb);
    else if (key_is(v, ka, kb, "archive-url") || key_is(v, ka, kb, "archiveurl"))
        set_raw(v, &c->archive_url, va, vb);
    else if (key_is(v, ka, kb, "url-status") || key_is(v, ka, kb, "urlstatus"))
        set_raw(v, &c->url_status, va, vb);
    else if (key_is(v, ka, kb, "deadurl") || key_is(v, ka, kb, "dead-url")) {
        int yes = starts_ci(v->src, va, vb, "yes") || starts_ci(v->src, va, vb, "true") ||
                  starts_ci(v->src, va, vb, "y");
        if (!c->url_status) c->url_status = ver_vx_strndup(v, yes ? "dead" : "live", 4);
    } else if (key_is(v, ka, kb, "title"))
        set_plain(v, &c->title, va, vb);
    else if (key_is(v, ka, kb, "chapter") || key_is(v, ka, kb, "contribution"))
        set_plain(v, &cc->chapter, va, vb);
    else if (key_is(v, ka, kb, "website") || key_is(v, ka, kb, "work") || key_is(v, ka, kb, "newspaper") ||
             key_is(v, ka, kb, "journal") || key_is(v, ka, kb, "magazine") ||
             key_is(v, ka, kb, "periodical") || key_is(v, ka, kb, "encyclopedia") ||
             key_is(v, ka, kb, "encyclopaedia"))
        set_plain(v, &c->work, va, vb);
    else if (key_is(v, ka, kb, "publisher"))
        set_plain(v, &cc->publisher, va, vb);
    else if (key_is(v, ka, kb, "date"))
        set_plain(v, &c->date, va, vb);
    else if (key_is(v, ka, kb, "year"))
        set_plain(v, &cc->year, va, vb);
    else if (key_is(v, ka, kb, "quote"))
        set_plain(v, &c->quote, va, vb);
    else if (key_is(v, ka, kb, "doi"))
        set_raw(v, &c->doi, va, vb);
    else if (key_is(v, ka, kb, "isbn"))
        set_raw(v, &c->isbn, va, vb);
    else if (key_is(v, ka, kb, "pmid"))
        set_raw(v, &c->pmid, va, vb);
    else if (!cc->last && (key_is(v, ka, kb, "last") || key_is(v, ka, kb, "last1") ||
                           key_is(v, ka, kb, "surname") || key_is(v, ka, kb, "surname1")))
        cc->last = last_name(v, va, vb, 1, 0);
    else if (!cc->last && (key_is(v, ka, kb, "author") || key_is(v, ka, kb, "author1") ||
                           key_is(v, ka, kb, "authors")))
        cc->last = last_name(v, va, vb, 0, 0);
    else if (!cc->last && key_is(v, ka, kb, "vauthors"))
        cc->last = last_name(v, va, vb, 0, 1);
}

/* The four-digit year in s (NULL when none). */
static char *find_year(struct vx *v, const char *s)
{
    if (!s) return NULL;
    int m = pcre2_match(v->x->re_year, (PCRE2_SPTR)s, strlen(s), 0, 0, v->x->md, NULL);
    if (m <= 0) return NULL;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(v->x->md);
    return ver_vx_strndup(v, s + ov[2], 4);
}

/* Parse the citation template whose "{{" is at `open` and "}}" at `close` into c; *last and *year
 * (either may be NULL) get the first author's last name and the year. */
static void parse_cite_tpl(struct vx *v, size_t open, size_t close, struct ver_citation *c, char **last,
                           char **year)
{
    struct citctx cc = {.c = c};
    params(v, open + 2, close, cite_param, &cc);
    if (!c->url && cc.alt_url) {
        c->url = cc.alt_url;
        cc.alt_url = NULL;
    }
    if (!c->title && cc.chapter) {
        c->title = cc.chapter;
        cc.chapter = NULL;
    }
    if (!c->work && cc.publisher) {
        c->work = cc.publisher;
        cc.publisher = NULL;
    }
    if (!c->date && cc.year) c->date = ver_vx_strndup(v, cc.year, strlen(cc.year));
    if (year) *year = find_year(v, cc.year ? cc.year : c->date);
    if (last) {
        *last = cc.last;
        cc.last = NULL;
    }
    free(cc.alt_url);
    free(cc.chapter);
    free(cc.publisher);
    free(cc.year);
    free(cc.last);
}

struct sfnctx {
    char *last, *year;
};

static void sfn_param(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    (void)ka;
    (void)kb;
    struct sfnctx *sc = ctx;
    if (!pos || vb <= va) return;
    if (pos == 1 && !sc->last) sc->last = last_name(v, va, vb, 1, 0);
    else if (!sc->year) {
        char *p = ver_vx_strndup(v, v->src + va, vb - va);
        if (!p) return;
        sc->year = find_year(v, p);
        free(p);
    }
}

/* Is `name` a short-citation template ({{sfn}}, {{harvnb}} ...) pointing into the bibliography? */
static int is_sfn_name(const char *n)
{
    return !strcmp(n, "sfn") || !strcmp(n, "sfnp") || !strcmp(n, "sfnm") || !strcmp(n, "harvnb") ||
           !strcmp(n, "harv") || !strcmp(n, "harvp") || !strcmp(n, "harvtxt") || !strcmp(n, "harvcolnb") ||
           !strcmp(n, "harvard citation no brackets") || !strcmp(n, "harvard citation");
}

/* Fill ref ri's sfn fields from the short-citation template at [open, close+2). (An index, as
 * parsing may add entries and move the array.) */
static void parse_sfn(struct vx *v, int ri, size_t open, size_t close)
{
    struct sfnctx sc = {0};
    params(v, open + 2, close, sfn_param, &sc);
    struct vx_ref *r = &v->refs[ri];
    if (!r->sfn_last) {
        r->sfn_last = sc.last;
        r->sfn_year = sc.year;
    } else {
        free(sc.last);
        free(sc.year);
    }
}

/* Cap a free-text title at VER_TITLE_MAX bytes on a UTF-8 boundary. */
static void cap_title(char *t)
{
    if (!t || strlen(t) <= VER_TITLE_MAX) return;
    size_t n = VER_TITLE_MAX;
    while (n && ((unsigned char)t[n] & 0xC0) == 0x80) n--;
    t[n] = '\0';
}

struct wactx {
    char *url;
};

static void webarchive_param(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    struct wactx *w = ctx;
    if (!pos && key_is(v, ka, kb, "url")) set_raw(v, &w->url, va, vb);
}

/* Parse a ref's content [a,b) into entry r. */
static void parse_ref(struct vx *v, int ri, size_t a, size_t b)
{
    const char *s = v->src;
#define R (&v->refs[ri])
    R->cit.raw = ver_vx_strndup(v, s + a, b - a);
    /* the first citation template */
    if (b > a) {
        int m = pcre2_match(v->x->re_cite, (PCRE2_SPTR)(s + a), b - a, 0, 0, v->x->md, NULL);
        if (m > 0) {
            size_t open = a + pcre2_get_ovector_pointer(v->x->md)[0];
            size_t close = pair_close(v, open, b);
            if (close != (size_t)-1) {
                char *last = NULL, *year = NULL;
                struct ver_citation c = {0};
                parse_cite_tpl(v, open, close, &c, &last, &year);
                free(last);
                free(year);
                /* fields into the entry (raw/name/group kept) */
                R->cit.url = c.url;
                R->cit.archive_url = c.archive_url;
                R->cit.url_status = c.url_status;
                R->cit.title = c.title;
                R->cit.work = c.work;
                R->cit.date = c.date;
                R->cit.quote = c.quote;
                R->cit.doi = c.doi;
                R->cit.isbn = c.isbn;
                R->cit.pmid = c.pmid;
            }
        }
    }
    /* other templates: {{webarchive}}, short citations */
    for (size_t i = a; i + 1 < b && !v->rc; i++) {
        if (s[i] != '{' || s[i + 1] != '{') continue;
        size_t close = pair_close(v, i, b);
        if (close == (size_t)-1) continue;
        char name[64];
        tpl_name(v, i + 2, close, name, sizeof name);
        if (!strcmp(name, "webarchive") || !strcmp(name, "wayback")) {
            struct wactx w = {0};
            params(v, i + 2, close, webarchive_param, &w);
            if (!R->cit.archive_url) R->cit.archive_url = w.url;
            else free(w.url);
        } else if (is_sfn_name(name) && !R->cit.url && !R->cit.title) {
            parse_sfn(v, ri, i, close);
        }
        i = close + 1;
    }
    /* [url label] */
    if (!R->cit.url) {
        for (size_t i = a; i < b; i++) {
            if (s[i] != '[' || (i + 1 < b && s[i + 1] == '[')) continue;
            size_t ua, ub;
            if (!ver_vx_find_url(v, s, i + 1, b, &ua, &ub) || ua != i + 1) continue;
            R->cit.url = ver_vx_strndup(v, s + ua, ub - ua);
            size_t e = ub;
            while (e < b && s[e] != ']' && s[e] != '\n') e++;
            if (!R->cit.title && e < b && s[e] == ']' && e > ub) R->cit.title = plain(v, ub, e);
            break;
        }
    }
    /* a bare URL */
    if (!R->cit.url) {
        size_t ua, ub;
        if (ver_vx_find_url(v, s, a, b, &ua, &ub)) R->cit.url = ver_vx_strndup(v, s + ua, ub - ua);
    }
    if (!R->cit.title && !R->sfn_last) {
        R->cit.title = plain(v, a, b);
        cap_title(R->cit.title);
        if (R->cit.title && R->cit.url && !strcmp(R->cit.title, R->cit.url)) { /* a bare URL */
            free(R->cit.title);
            R->cit.title = NULL;
        }
    }
    if (R->sfn_last && !R->cit.title) { /* {{harvnb}} in a ref: keep its plain text as the title */
        R->cit.title = plain(v, a, b);
        cap_title(R->cit.title);
    }
#undef R
}

/* ---------------------------------------------------------------- <ref> */

struct attrs {
    size_t na, nb, ga, gb; /* name and group value spans */
};

static void parse_attrs(const char *s, size_t a, size_t b, struct attrs *at)
{
    memset(at, 0, sizeof *at);
    size_t i = a;
    while (i < b) {
        while (i < b && (is_ws((unsigned char)s[i]) || s[i] == '/')) i++;
        size_t ka = i;
        while (i < b && is_alpha((unsigned char)s[i])) i++;
        size_t kb = i;
        while (i < b && is_ws((unsigned char)s[i])) i++;
        if (i >= b || s[i] != '=') {
            if (i == ka) i++;
            continue;
        }
        i++;
        while (i < b && is_ws((unsigned char)s[i])) i++;
        size_t va, vb;
        if (i < b && (s[i] == '"' || s[i] == '\'')) {
            char q = s[i++];
            va = i;
            while (i < b && s[i] != q) i++;
            vb = i;
            if (i < b) i++;
        } else {
            va = i;
            while (i < b && !is_ws((unsigned char)s[i]) && !(s[i] == '/' && i + 1 == b)) i++;
            vb = i;
        }
        trim(s, &va, &vb);
        if (kb - ka == 4 && strncasecmp(s + ka, "name", 4) == 0) at->na = va, at->nb = vb;
        else if (kb - ka == 5 && strncasecmp(s + ka, "group", 5) == 0) at->ga = va, at->gb = vb;
    }
}

/* After a citation, make sure the text that follows is separated by a space. */
static void space_after(struct vx *v, size_t i, size_t b)
{
    if (i < b && (is_alnum((unsigned char)v->src[i]) || v->src[i] == '[' || v->src[i] == '\'' ||
                  (unsigned char)v->src[i] >= 0x80))
        emit_lit(v, " ", i);
}

/* A <ref ...> tag: k is the offset after "<ref", gt that of the tag's '>'. Returns the offset
 * after the ref (its </ref> when it has content). */
static size_t handle_ref(struct vx *v, size_t k, size_t gt, size_t b)
{
    const char *s = v->src;
    int selfclose = s[gt - 1] == '/';
    struct attrs at;
    parse_attrs(s, k, gt, &at);
    size_t ca = gt + 1;
    size_t cb = ca, end = ca;
    if (!selfclose) {
        size_t c = find_cached(v, 0, gt + 1, "</ref");
        if (c != (size_t)-1 && c < b) {
            const char *e = memchr(s + c, '>', b - c);
            if (e) {
                cb = c;
                end = (size_t)(e - s) + 1;
            }
        }
    }
    size_t ta = ca, tb = cb;
    trim(s, &ta, &tb);
    int has_content = tb > ta;
    if (!has_content && at.nb == at.na) return end; /* <ref /> or <ref></ref>: nothing */
    if (v->defonly && at.nb == at.na) return end;   /* scratch text: an unnamed ref is never cited */
    int ri = ver_vx_ref(v, s + at.ga, at.gb - at.ga, s + at.na, at.nb - at.na);
    if (ri < 0) return b;
    if (has_content && !v->refs[ri].defined) {
        v->refs[ri].defined = 1;
        parse_ref(v, ri, ta, tb);
    }
    ver_vx_anchor(v, ri, NULL, 0);
    space_after(v, end, b);
    return end;
}

/* ---------------------------------------------------------------- templates */

static int name_in(const char *n, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(n, *list)) return 1;
    return 0;
}

static const char *const needs_names[] = {"citation needed", "cn", "fact", "failed verification", "fv",
                                          "verification failed", "citation-needed", "cite needed",
                                          "citeneeded", "citationneeded", "needs citation", NULL};
static const char *const efn_names[] = {"efn", "efn-ua", "efn-lr", "efn-ur", "efn-lg", "efn-la", "notetag",
                                        "efn-ll", "efn-gr", NULL};
static const char *const reflist_names[] = {"reflist", "references", "refs", "reference list", NULL};
/* inline templates whose first positional parameter is text */
static const char *const text1_names[] = {"nowrap", "nobr", "small", "smaller", "big", "larger", "sic",
                                          "abbr", "not a typo", "visible anchor", "nihongo", "ill",
                                          "interlanguage link", "flag", "flagcountry", "math", "mvar",
                                          "em", "strong", "var", "nobold", "noitalic", "lang-en",
                                          "linktext", "ship", "sclass", "transl", "tooltip", "smallcaps",
                                          "resize", "large", "huge", "underline", "nowrap begin", NULL};

struct tctx {
    int want[4];        /* positional indexes wanted, in order (0 = none) */
    size_t va[4], vb[4];
    int found[4];
    size_t ga, gb;      /* group= */
    size_t ta, tb;      /* text= / 1= (refn, efn) */
    size_t na, nb;      /* name= */
    size_t refsa, refsb; /* refs= */
    size_t alta, altb;  /* alt= ({{as of}}) */
    int has_text, has_refs, has_alt, lc;
};

static void tparam(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    struct tctx *t = ctx;
    for (int k = 0; k < 4; k++)
        if (pos && t->want[k] == pos) {
            t->va[k] = va;
            t->vb[k] = vb;
            t->found[k] = 1;
        }
    if (pos == 1 || (!pos && (key_is(v, ka, kb, "1") || key_is(v, ka, kb, "text")))) {
        if (!t->has_text) {
            t->ta = va;
            t->tb = vb;
            t->has_text = 1;
        }
    }
    if (!pos && key_is(v, ka, kb, "group")) t->ga = va, t->gb = vb;
    if (!pos && key_is(v, ka, kb, "name")) t->na = va, t->nb = vb;
    if (!pos && key_is(v, ka, kb, "refs")) t->refsa = va, t->refsb = vb, t->has_refs = 1;
    if (!pos && key_is(v, ka, kb, "alt")) t->alta = va, t->altb = vb, t->has_alt = 1;
    if (!pos && key_is(v, ka, kb, "lc") && vb > va) t->lc = 1;
}

/* {{r|a|b|group=g}}: cite named refs a and b. */
static void r_param(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    (void)ka;
    (void)kb;
    const struct tctx *t = ctx;
    if (!pos || vb <= va) return;
    int ri = ver_vx_ref(v, v->src + t->ga, t->gb - t->ga, v->src + va, vb - va);
    if (ri >= 0) ver_vx_anchor(v, ri, NULL, 0);
}

/* Field claims: each parameter whose value cites something becomes a block "Key: value". */
static void field_param(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    (void)ctx;
    (void)pos;
    struct vx_mark m;
    ver_vx_save(v, &m);
    ver_vx_break(v, 1);
    if (kb > ka) {
        char *key = ver_vx_strndup(v, v->src + ka, kb - ka);
        if (!key) return;
        for (char *q = key; *q; q++)
            if (*q == '_') *q = ' ';
        key[0] = (char)(key[0] >= 'a' && key[0] <= 'z' ? key[0] - 32 : key[0]);
        ver_vx_emit(v, key, strlen(key), ka, 0);
        emit_lit(v, ": ", kb);
        free(key);
    }
    lin(v, va, vb);
    ver_vx_break(v, m.cur_field);
    if (v->nanchors == m.nanchors) ver_vx_restore(v, &m);
}

static const char *const list_names[] = {"hlist", "flatlist", "plainlist", "ubl", "unbulleted list",
                                         "bulleted list", "ordered list", "collapsible list", "hlist-comma",
                                         "enum", "bulleted", "plain list", "flat list", "ublist", "ulist",
                                         "bulletedlist", "cslist", "startflatlist", NULL};

/* {{hlist|a|b|c}}: the items inline, joined by ", ". */
static void list_param(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    (void)ka;
    (void)kb;
    int *n = ctx;
    if (!pos || vb <= va) return;
    if ((*n)++) emit_lit(v, ", ", va);
    lin(v, va, vb);
}

static int contains(const char *s, size_t a, size_t b, const char *needle)
{
    return b > a && find_ci(s, a, b, needle) != (size_t)-1;
}

/* The template at [open, close+2). */
static void handle_template(struct vx *v, size_t open, size_t close, size_t b)
{
    const char *s = v->src;
    size_t a = open + 2;
    if (a < close && s[a] == '{') return; /* {{{param}}} */
    char name[64];
    tpl_name(v, a, close, name, sizeof name);
    if (!name[0] || (name[0] == '#' && strcmp(name, "#tag:ref") != 0)) return; /* parser functions */
    struct tctx t = {.ga = 0};
    if (name_in(name, needs_names)) {
        ver_vx_anchor(v, -1, s + open, close + 2 - open);
        space_after(v, close + 2, b);
        return;
    }
    if (!strcmp(name, "citation needed span") || !strcmp(name, "cns") ||
        !strcmp(name, "failed verification span")) {
        params(v, a, close, tparam, &t);
        if (t.has_text) lin(v, t.ta, t.tb);
        ver_vx_anchor(v, -1, s + open, close + 2 - open);
        return;
    }
    if (!strcmp(name, "r") || !strcmp(name, "ref label")) {
        params(v, a, close, tparam, &t);
        params(v, a, close, r_param, &t);
        space_after(v, close + 2, b);
        return;
    }
    if (!strcmp(name, "sfn") || !strcmp(name, "sfnp") || !strcmp(name, "sfnm")) {
        /* identical sfns are one footnote: key on the normalised parameters */
        struct buf key = {0};
        if (buf_puts(&key, "\x1esfn")) goto oom;
        for (size_t i = a; i < close; i++)
            if (is_alnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80 || s[i] == '|' || s[i] == '=')
                if (buf_putc(&key, lower(s[i]))) {
                    buf_cleanup(&key);
                    goto oom;
                }
        int ri = ver_vx_ref(v, "", 0, key.data, key.len);
        buf_cleanup(&key);
        if (ri < 0) return;
        if (!v->refs[ri].defined) {
            v->refs[ri].defined = 1;
            v->refs[ri].cit.raw = ver_vx_strndup(v, s + open, close + 2 - open);
            free(v->refs[ri].cit.name); /* the key is no name */
            v->refs[ri].cit.name = NULL;
            parse_sfn(v, ri, open, close);
            /* a title until the bibliography fills it: "Author Year" as written */
            t.want[0] = 1;
            params(v, a, close, tparam, &t);
            char *au = t.found[0] ? plain(v, t.va[0], t.vb[0]) : NULL;
            struct buf tt = {0};
            int bad = buf_printf(&tt, "%s %s", au ? au : "", v->refs[ri].sfn_year ? v->refs[ri].sfn_year : "");
            free(au);
            if (bad) {
                buf_cleanup(&tt);
                goto oom;
            }
            v->refs[ri].cit.title = buf_steal(&tt);
        }
        ver_vx_anchor(v, ri, NULL, 0);
        space_after(v, close + 2, b);
        return;
    }
    if (!strcmp(name, "refn") || !strcmp(name, "#tag:ref")) { /* a footnote made by a template */
        params(v, a, close, tparam, &t);
        if (!t.has_text && t.nb == t.na) return;
        if (v->defonly && t.nb == t.na) return;
        int ri = ver_vx_ref(v, s + t.ga, t.gb - t.ga, s + t.na, t.nb - t.na);
        if (ri < 0) return;
        if (t.has_text && t.tb > t.ta && !v->refs[ri].defined) {
            v->refs[ri].defined = 1;
            parse_ref(v, ri, t.ta, t.tb);
        }
        ver_vx_anchor(v, ri, NULL, 0);
        if (t.has_text) { /* refs inside the note are footnotes of their own, cited here too */
            v->mute++;
            lin(v, t.ta, t.tb);
            v->mute--;
        }
        space_after(v, close + 2, b);
        return;
    }
    if (name_in(name, efn_names)) { /* an explanatory note: no text, but refs inside cite here */
        params(v, a, close, tparam, &t);
        if (t.has_text) {
            v->mute++;
            lin(v, t.ta, t.tb);
            v->mute--;
        }
        return;
    }
    if (name_in(name, reflist_names)) { /* list-defined references */
        params(v, a, close, tparam, &t);
        if (t.has_refs) {
            v->mute++;
            v->defonly++;
            lin(v, t.refsa, t.refsb);
            v->defonly--;
            v->mute--;
        }
        return;
    }
    if (!strncmp(name, "cite", 4) || !strcmp(name, "citation") || !strncmp(name, "vcite", 5)) {
        if (!v->plain && !v->defonly && v->nbib < VER_MAX_BIBLIO) {
            if (v->nbib == v->cap_bib) {
                size_t nc = v->cap_bib ? v->cap_bib * 2 : 16;
                struct vx_bib *q = realloc(v->bib, nc * sizeof *q);
                if (!q) goto oom;
                v->bib = q;
                v->cap_bib = nc;
            }
            struct vx_bib *e = &v->bib[v->nbib++];
            memset(e, 0, sizeof *e);
            e->cit.raw = ver_vx_strndup(v, s + open, close + 2 - open);
            parse_cite_tpl(v, open, close, &e->cit, &e->last, &e->year);
        }
        return;
    }
    /* inline text templates */
    if (name_in(name, text1_names) || !strncmp(name, "lang-", 5)) {
        t.want[0] = 1;
        params(v, a, close, tparam, &t);
        if (t.found[0]) lin(v, t.va[0], t.vb[0]);
        return;
    }
    if (name_in(name, list_names)) {
        int n = 0;
        params(v, a, close, list_param, &n);
        return;
    }
    if (!strcmp(name, "lang") || !strcmp(name, "langx")) {
        t.want[0] = 2;
        params(v, a, close, tparam, &t);
        if (t.found[0]) lin(v, t.va[0], t.vb[0]);
        return;
    }
    if (!strcmp(name, "convert") || !strcmp(name, "cvt") || !strcmp(name, "sortname") ||
        !strcmp(name, "frac") || !strcmp(name, "as of") || !strcmp(name, "circa") || !strcmp(name, "c.") ||
        !strcmp(name, "us$") || !strcmp(name, "usd") || !strcmp(name, "birth date") ||
        !strcmp(name, "death date") || !strcmp(name, "start date") || !strcmp(name, "end date") ||
        !strcmp(name, "birth date and age") || !strcmp(name, "dts") || !strcmp(name, "date")) {
        t.want[0] = 1;
        t.want[1] = 2;
        t.want[2] = 3;
        params(v, a, close, tparam, &t);
        const char *sep = " ";
        if (!strcmp(name, "as of") && t.has_alt) {
            lin(v, t.alta, t.altb);
            return;
        }
        if (!strcmp(name, "as of")) emit_lit(v, t.lc ? "as of " : "As of ", open);
        if (!strcmp(name, "circa") || !strcmp(name, "c.")) emit_lit(v, "c. ", open);
        if (!strcmp(name, "us$") || !strcmp(name, "usd")) emit_lit(v, "US$", open);
        if (!strcmp(name, "frac")) sep = "/";
        if (strstr(name, "date") || !strcmp(name, "dts") || !strcmp(name, "as of")) sep = "-";
        int nparts = (!strcmp(name, "convert") || !strcmp(name, "cvt") || !strcmp(name, "sortname") ||
                      !strcmp(name, "frac")) ? 2 : (sep[0] == '-' ? 3 : 1);
        for (int k = 0; k < nparts; k++) {
            if (!t.found[k]) break;
            if (k) emit_lit(v, sep, t.va[k]);
            lin(v, t.va[k], t.vb[k]);
        }
        return;
    }
    if (!strcmp(name, "ndash") || !strcmp(name, "snd") || !strcmp(name, "spaced ndash")) {
        emit_lit(v, name[0] == 'n' ? "\xe2\x80\x93" : " \xe2\x80\x93 ", open);
        return;
    }
    if (!strcmp(name, "!")) {
        emit_lit(v, "|", open);
        return;
    }
    if (!strcmp(name, "mdash") || !strcmp(name, "mdashb") || !strcmp(name, "spaced mdash")) {
        emit_lit(v, "\xe2\x80\x94", open);
        return;
    }
    if (!strcmp(name, "nbsp") || !strcmp(name, "sp")) {
        emit_lit(v, " ", open);
        return;
    }
    if (!strcmp(name, "'")) {
        emit_lit(v, "'", open);
        return;
    }
    /* anything else (infoboxes, quotes, navboxes): only its cited fields */
    if (v->plain) return;
    if (contains(s, a, close, "<ref") || contains(s, a, close, "{{"))
        params(v, a, close, field_param, NULL);
    return;
oom:
    ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
}

/* ---------------------------------------------------------------- links */

static int ns_is(const char *s, size_t a, size_t colon, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == colon - a && strncasecmp(s + a, *list, colon - a) == 0) return 1;
    return 0;
}

static const char *const file_ns[] = {"file", "image", "datei", "fichier", "bild", "archivo", "imagen", "media", NULL};
static const char *const cat_ns[] = {"category", "kategorie", "catégorie", "categoría", "categoria", NULL};

struct capctx {
    size_t va, vb;
    int found;
};

static void caption_param(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    (void)ka;
    (void)kb;
    struct capctx *c = ctx;
    if (!pos || vb <= va) return;
    /* image options are single words like thumb, left, 250px, upright */
    size_t sp = va;
    while (sp < vb && !is_ws((unsigned char)v->src[sp])) sp++;
    if (sp == vb && vb - va < 16 && !contains(v->src, va, vb, "<ref") && !contains(v->src, va, vb, "{{")) return;
    c->va = va;
    c->vb = vb;
    c->found = 1;
}

static void handle_link(struct vx *v, size_t open, size_t close)
{
    const char *s = v->src;
    size_t a = open + 2, pipe = a;
    while (pipe < close && s[pipe] != '|') pipe = skip_nested(v, pipe, close);
    size_t ta = a, tb = pipe < close ? pipe : close;
    trim(s, &ta, &tb);
    size_t colon = ta;
    while (colon < tb && s[colon] != ':') colon++;
    if (colon < tb && colon > ta) {
        if (ns_is(s, ta, colon, file_ns)) {
            struct capctx c = {0};
            /* treat [[File:x|opts|caption]] like a template whose name is the file */
            params(v, a, close, caption_param, &c);
            if (c.found && !v->plain) {
                struct vx_mark m;
                ver_vx_save(v, &m);
                ver_vx_break(v, 1);
                lin(v, c.va, c.vb);
                ver_vx_break(v, m.cur_field);
                if (v->nanchors == m.nanchors) ver_vx_restore(v, &m);
            }
            return;
        }
        if (ns_is(s, ta, colon, cat_ns)) return;
        /* interlanguage links: [[fr:Paris]] */
        int lang = colon - ta >= 2 && colon - ta <= 12 && pipe >= close;
        for (size_t i = ta; i < colon && lang; i++)
            if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-')) lang = 0;
        if (lang) return;
    }
    if (pipe < close) {
        size_t la = pipe + 1, lb = close;
        trim(s, &la, &lb);
        if (lb > la) {
            lin(v, la, lb);
            return;
        }
    }
    if (ta < tb && s[ta] == ':') ta++;
    if (ta < tb && s[ta] == '#') ta++;
    lin(v, ta, tb);
}

/* ---------------------------------------------------------------- entities */

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF) return put_utf8(o, 0xFFFD);
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static const struct {
    const char *name;
    const char *text;
} entities[] = {{"nbsp", " "},     {"amp", "&"},         {"lt", "<"},          {"gt", ">"},
                {"quot", "\""},    {"apos", "'"},        {"ndash", "\xe2\x80\x93"}, {"mdash", "\xe2\x80\x94"},
                {"minus", "\xe2\x88\x92"}, {"hellip", "\xe2\x80\xa6"}, {"thinsp", " "}, {"ensp", " "},
                {"emsp", " "},     {"times", "\xc3\x97"}, {"deg", "\xc2\xb0"}, {"rsquo", "\xe2\x80\x99"},
                {"lsquo", "\xe2\x80\x98"}, {"ldquo", "\xe2\x80\x9c"}, {"rdquo", "\xe2\x80\x9d"},
                {"shy", ""},       {"zwj", ""},          {"zwnj", ""}};

/* Decode the entity at s[i] ('&'); returns its length (0 when not an entity). */
static size_t entity(struct vx *v, size_t i, size_t b)
{
    const char *s = v->src;
    size_t j = i + 1;
    while (j < b && j - i < 12 && (is_alnum((unsigned char)s[j]) || s[j] == '#')) j++;
    if (j >= b || s[j] != ';' || j == i + 1) return 0;
    if (s[i + 1] == '#') {
        unsigned long cp = 0;
        size_t k = i + 2;
        int hex = k < j && (s[k] == 'x' || s[k] == 'X');
        if (hex) k++;
        if (k == j) return 0;
        for (; k < j; k++) {
            char c = lower(s[k]);
            int d = c >= '0' && c <= '9' ? c - '0' : (hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
            if (d < 0) return 0;
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
            if (cp > 0x10FFFF) cp = 0x110000;
        }
        if (cp == 0) cp = 0xFFFD;
        char o[4];
        size_t n = put_utf8(o, cp);
        ver_vx_emit(v, o, n, i, 0);
        return j + 1 - i;
    }
    for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++) {
        if (strlen(entities[k].name) == j - i - 1 && memcmp(s + i + 1, entities[k].name, j - i - 1) == 0) {
            emit_lit(v, entities[k].text, i);
            return j + 1 - i;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- tags */

static const char *const skip_tags[] = {"math", "pre", "gallery", "timeline", "score", "syntaxhighlight",
                                        "source", "graph", "templatedata", "imagemap", "hiero", "chem",
                                        "ce", "mapframe", "maplink", "includeonly", "noinclude", "style",
                                        "script", NULL};
static const char *const block_tags[] = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "blockquote",
                                         "hr", "table", "tr", "td", "th", "caption", "center", "h1", "h2",
                                         "h3", "h4", "h5", "h6", "poem", NULL};
static const char *const inline_tags[] = {"small", "big", "span", "sup", "sub", "s", "u", "i", "b", "em",
                                          "strong", "abbr", "cite", "code", "var", "kbd", "font", "del",
                                          "ins", "mark", "q", "tt", "onlyinclude", "section", "wbr", "bdi",
                                          "ruby", "rt", "rp", "time", "data", "samp", "strike", "dfn",
                                          "templatestyles", "categorytree", "indicator", "charinsert", NULL};

/* A tag at s[i] ('<'); returns the offset after what it consumed, 0 when it is no tag. */
static size_t handle_tag(struct vx *v, size_t i, size_t b)
{
    const char *s = v->src;
    size_t j = i + 1;
    int closing = j < b && s[j] == '/';
    if (closing) j++;
    size_t na = j;
    while (j < b && j - na < 20 && is_alnum((unsigned char)s[j])) j++;
    if (j == na || !is_alpha((unsigned char)s[na]) || j >= b) return 0;
    if (!is_ws((unsigned char)s[j]) && s[j] != '>' && s[j] != '/') return 0;
    char name[24];
    size_t nl = j - na;
    for (size_t k = 0; k < nl; k++) name[k] = lower(s[na + k]);
    name[nl] = '\0';
    size_t lim = b - j < 2000 ? b : j + 2000;
    const char *gtp = memchr(s + j, '>', lim - j);
    if (!gtp) return 0;
    size_t gt = (size_t)(gtp - s);
    int selfclose = s[gt - 1] == '/';
    if (!strcmp(name, "ref")) {
        if (closing) return gt + 1;
        return handle_ref(v, j, gt, b);
    }
    if (!strcmp(name, "references")) {
        if (closing || selfclose) return gt + 1;
        size_t c = find_cached(v, 2, gt + 1, "</references");
        if (c == (size_t)-1 || c >= b) return gt + 1;
        v->mute++;
        v->defonly++;
        lin(v, gt + 1, c);
        v->defonly--;
        v->mute--;
        const char *e = memchr(s + c, '>', b - c);
        return e ? (size_t)(e - s) + 1 : b;
    }
    if (!strcmp(name, "nowiki")) {
        if (closing || selfclose) return gt + 1;
        size_t c = find_cached(v, 1, gt + 1, "</nowiki>");
        if (c == (size_t)-1 || c + 9 > b) return gt + 1;
        ver_vx_emit(v, s + gt + 1, c - gt - 1, gt + 1, 1);
        return c + 9;
    }
    if (!strcmp(name, "br")) {
        emit_lit(v, " ", i);
        return gt + 1;
    }
    for (int k = 0; skip_tags[k]; k++) {
        if (strcmp(name, skip_tags[k])) continue;
        if (closing || selfclose) return gt + 1;
        char close[32];
        snprintf(close, sizeof close, "</%s", name);
        size_t c = find_cached(v, 3 + k, gt + 1, close);
        if (c == (size_t)-1 || c >= b) return gt + 1;
        const char *e = memchr(s + c, '>', b - c);
        return e ? (size_t)(e - s) + 1 : b;
    }
    if (name_in(name, block_tags)) {
        if (!v->plain) ver_vx_break(v, v->cur_field);
        else emit_lit(v, " ", i);
        return gt + 1;
    }
    if (name_in(name, inline_tags)) return gt + 1;
    return 0;
}

/* ---------------------------------------------------------------- tables */

static size_t line_end(const char *s, size_t i, size_t b)
{
    const char *e = memchr(s + i, '\n', b - i);
    return e ? (size_t)(e - s) : b;
}

static size_t skip_blank(const char *s, size_t i, size_t b)
{
    while (i < b && (s[i] == ' ' || s[i] == '\t')) i++;
    return i;
}

struct row {
    struct vx_mark m;
    int open, cells;
};

static void row_begin(struct vx *v, struct row *r)
{
    ver_vx_save(v, &r->m);
    ver_vx_break(v, 1);
    r->open = 1;
    r->cells = 0;
}

static void row_end(struct vx *v, struct row *r)
{
    if (!r->open) return;
    ver_vx_break(v, r->m.cur_field);
    if (v->nanchors == r->m.nanchors) ver_vx_restore(v, &r->m);
    r->open = 0;
}

/* One table cell's content [a,b): drop the attributes before a single '|'. */
static void cell(struct vx *v, struct row *r, size_t a, size_t b)
{
    const char *s = v->src;
    for (size_t i = a; i < b;) {
        if (s[i] == '|' && !(i + 1 < b && s[i + 1] == '|')) {
            a = i + 1;
            break;
        }
        if (s[i] == '[' || s[i] == '{' || s[i] == '<') {
            i = skip_nested(v, i, b);
            continue;
        }
        i++;
    }
    trim(s, &a, &b);
    if (b <= a) return;
    struct vx_mark m;
    ver_vx_save(v, &m);
    if (r->cells) emit_lit(v, "; ", a);
    size_t before = v->pt.len;
    lin(v, a, b);
    if (v->pt.len == before && v->nanchors == m.nanchors && v->nblocks == m.nblocks) {
        ver_vx_restore(v, &m); /* the cell renders to nothing: no separator either */
        return;
    }
    r->cells++;
}

/* A table starting at `i` ("{|"); returns the offset after its "|}" line. */
static size_t handle_table(struct vx *v, size_t i, size_t b)
{
    const char *s = v->src;
    size_t end = b, p = line_end(s, i, b);
    int depth = 1;
    for (size_t q = p; q < b;) { /* find the closing |} */
        size_t ls = skip_blank(s, q + 1, b), le = line_end(s, ls, b);
        if (ls + 1 < b && s[ls] == '{' && s[ls + 1] == '|') depth++;
        if (ls + 1 < b && s[ls] == '|' && s[ls + 1] == '}' && --depth == 0) {
            end = le;
            break;
        }
        q = le;
    }
    if (v->plain) return end;
    struct row r = {0};
    row_begin(v, &r);
    for (size_t q = p; q < end && !v->rc;) {
        size_t ls = skip_blank(s, q + 1, end), le = line_end(s, ls, end);
        q = le;
        if (ls >= le) continue;
        if (ls + 1 < le && s[ls] == '|' && s[ls + 1] == '-') {
            row_end(v, &r);
            row_begin(v, &r);
            continue;
        }
        if (ls + 1 < le && ((s[ls] == '|' && s[ls + 1] == '}') || (s[ls] == '{' && s[ls + 1] == '|'))) continue;
        if (ls + 1 < le && s[ls] == '|' && s[ls + 1] == '+') {
            row_end(v, &r);
            row_begin(v, &r);
            cell(v, &r, ls + 2, le);
            row_end(v, &r);
            row_begin(v, &r);
            continue;
        }
        if (s[ls] == '|' || s[ls] == '!') {
            char sep = s[ls];
            size_t cs = ls + 1;
            for (size_t k = cs; k < le;) {
                if (k + 1 < le && s[k] == sep && s[k + 1] == sep) {
                    cell(v, &r, cs, k);
                    k += 2;
                    cs = k;
                    continue;
                }
                if (k + 1 < le && s[k] == '|' && s[k + 1] == '|' && sep == '!') { /* !a || b */
                    cell(v, &r, cs, k);
                    k += 2;
                    cs = k;
                    continue;
                }
                size_t n = (s[k] == '[' || s[k] == '{' || s[k] == '<') ? skip_nested(v, k, le) : k + 1;
                k = n > k ? n : k + 1;
            }
            cell(v, &r, cs, le);
            continue;
        }
        emit_lit(v, " ", ls);
        lin(v, ls, le);
    }
    row_end(v, &r);
    return end;
}

/* ---------------------------------------------------------------- the walk */

/* Line-start constructs at i; returns the new offset, or i when there is none. */
static size_t line_start(struct vx *v, size_t i, size_t b)
{
    const char *s = v->src;
    char c = s[i];
    if (c == '=') {
        size_t e = line_end(s, i, b), te = e;
        while (te > i && is_ws((unsigned char)s[te - 1])) te--;
        size_t lv = 0, tv = 0;
        while (i + lv < te && s[i + lv] == '=') lv++;
        while (tv < te - i && s[te - 1 - tv] == '=') tv++;
        if (lv && tv && lv + tv < te - i) {
            size_t n = lv < tv ? lv : tv;
            if (!v->plain) {
                char *h = plain(v, i + n, te - n);
                ver_vx_section(v, h ? h : "", h ? strlen(h) : 0);
                free(h);
                /* a citation in a heading cites the heading */
                if (contains(s, i + n, te - n, "<ref") || contains(s, i + n, te - n, "{{")) {
                    struct vx_mark m;
                    ver_vx_save(v, &m);
                    ver_vx_break(v, 1);
                    lin(v, i + n, te - n);
                    ver_vx_break(v, 0);
                    if (v->nanchors == m.nanchors) ver_vx_restore(v, &m);
                }
            }
            return e;
        }
        return i;
    }
    if (c == '*' || c == '#' || c == ':' || c == ';') {
        size_t j = skip_blank(s, i, b);
        while (j < b && (s[j] == '*' || s[j] == '#' || s[j] == ':' || s[j] == ';')) j++;
        j = skip_blank(s, j, b);
        if (j + 1 < b && s[j] == '{' && s[j + 1] == '|') return handle_table(v, j, b);
        if (!v->plain) ver_vx_break(v, 0);
        else emit_lit(v, " ", i);
        return j;
    }
    size_t j = skip_blank(s, i, b);
    if (j + 1 < b && s[j] == '{' && s[j + 1] == '|') return handle_table(v, j, b);
    if (i + 3 < b && memcmp(s + i, "----", 4) == 0) {
        if (!v->plain) ver_vx_break(v, 0);
        while (i < b && s[i] == '-') i++;
        return i;
    }
    return i;
}

static void lin(struct vx *v, size_t a, size_t b)
{
    if (v->rc || v->depth >= VER_MAX_DEPTH) return;
    v->depth++;
    const char *s = v->src;
    size_t i = a;
    while (i < b && !v->rc) {
        unsigned char c = (unsigned char)s[i];
        if (i == 0 || s[i - 1] == '\n') {
            size_t n = line_start(v, i, b);
            if (n != i) {
                i = n;
                continue;
            }
        }
        if (c == '\n') {
            size_t j = i + 1;
            while (j < b && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r')) j++;
            if (j < b && s[j] == '\n' && !v->plain) ver_vx_break(v, v->cur_field);
            else emit_lit(v, " ", i);
            i++;
            continue;
        }
        if (c == '<') {
            if (starts_ci(s, i, b, "<!--")) {
                const char *e = memmem(s + i + 4, b - i - 4, "-->", 3);
                i = e ? (size_t)(e - s) + 3 : b;
                continue;
            }
            size_t n = handle_tag(v, i, b);
            if (n) {
                i = n;
                continue;
            }
        }
        if (c == '{' && i + 1 < b && s[i + 1] == '{') {
            size_t cl = pair_close(v, i, b);
            if (cl != (size_t)-1) {
                handle_template(v, i, cl, b);
                i = cl + 2;
                continue;
            }
        }
        if (c == '[' && i + 1 < b && s[i + 1] == '[') {
            size_t cl = pair_close(v, i, b);
            if (cl != (size_t)-1) {
                handle_link(v, i, cl);
                i = cl + 2;
                continue;
            }
        }
        if (c == '[') { /* [http://url label] */
            size_t ua, ub;
            size_t lim = b - i > 1000 ? i + 1000 : b;
            if ((starts_ci(s, i + 1, b, "http") || starts_ci(s, i + 1, b, "ftp") || starts_ci(s, i + 1, b, "//")) &&
                ver_vx_find_url(v, s, i + 1, lim, &ua, &ub) && ua <= i + 3) {
                size_t e = ub;
                while (e < lim && s[e] != ']' && s[e] != '\n') e++;
                if (e < lim && s[e] == ']') {
                    size_t la = ub, lb = e;
                    while (la < lb && s[la] != ' ' && s[la] != '\t') la++; /* rest of the URL */
                    trim(s, &la, &lb);
                    if (lb > la) lin(v, la, lb);
                    i = e + 1;
                    continue;
                }
            }
        }
        if (c == '\'' && i + 1 < b && s[i + 1] == '\'') {
            size_t r = 0;
            while (i + r < b && s[i + r] == '\'') r++;
            if (r == 4) emit_lit(v, "'", i);
            else if (r > 5) ver_vx_emit(v, s + i, r - 5, i, 1);
            i += r;
            continue;
        }
        if (c == '&') {
            size_t n = entity(v, i, b);
            if (n) {
                i += n;
                continue;
            }
        }
        if (c == '_' && i + 1 < b && s[i + 1] == '_') { /* __TOC__ */
            size_t j = i + 2;
            while (j < b && s[j] >= 'A' && s[j] <= 'Z') j++;
            if (j > i + 2 && j + 1 < b && s[j] == '_' && s[j + 1] == '_') {
                i = j + 2;
                continue;
            }
        }
        ver_vx_emit(v, s + i, 1, i, 1);
        i++;
    }
    v->depth--;
}

int ver_wt_read(struct vx *v)
{
    if (build_pairs(v)) return v->rc;
    lin(v, 0, v->len);
    return v->rc;
}
