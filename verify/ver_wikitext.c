/* ver_wikitext.c - the wikitext reader: citation meaning over corpus/'s wikitext engine.
 *
 * The engine (corpus_wt_walk) renders the article exactly as indexing does and reports what it
 * does not render; this file is the sink that turns that into claims' raw material: text into
 * `pt`, breaks into blocks, fields (cited infobox parameters "Born: 1961", table rows "cell;
 * cell", image captions) into blocks never merged with the sentence before, headings into
 * sections, and citations into anchors:
 *   <ref>                   a reference-list entry (parsed once: cite template fields, [url label],
 *                           a bare URL, {{webarchive}}, a short citation), cited here
 *   {{cn}} {{cns|x}}        a needs-source marker
 *   {{r|a|b}}               cites named refs
 *   {{sfn|Author|Year}}     a short footnote, resolved against the bibliography
 *   {{refn|x}} {{efn|x}}    a footnote made by a template; refs inside a note cite here
 *   {{reflist|refs=}}, <references>   list-defined refs: defined, not cited
 *   {{cite ...}} outside refs         the bibliography
 * The templates' roles come from the engine's one template table; the dispatch on them is the
 * table `handlers` below. */
#include "ver_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"

static int starts_ci(const char *s, size_t i, size_t b, const char *p)
{
    size_t n = strlen(p);
    return i + n <= b && strncasecmp(s + i, p, n) == 0;
}

static void trim(const char *s, size_t *a, size_t *b)
{
    while (*a < *b && ascii_isspace((unsigned char)s[*a])) (*a)++;
    while (*b > *a && ascii_isspace((unsigned char)s[*b - 1])) (*b)--;
}

static void walk(struct vx *v, size_t a, size_t b)
{
    if (v->rc) return;
    int rc = corpus_wt_walk(v->wt, a, b, v->sink);
    if (rc && !v->rc) v->rc = rc;
}

/* The plain text of src[a..b) (white space collapsed; NULL when empty). Leaves no trace: refs
 * inside define entries but cite nothing. */
static char *plain(struct vx *v, size_t a, size_t b) { return ver_vx_scratch(v, walk, a, b); }

/* A walk that emits no text: refs inside still define entries and (unless defonly) cite. */
static void walk_muted(struct vx *v, size_t a, size_t b, int defonly)
{
    v->mute++;
    v->defonly += defonly;
    walk(v, a, b);
    v->defonly -= defonly;
    v->mute--;
}

/* ---------------------------------------------------------------- template parameters */

/* pos: 1-based index of a positional parameter, 0 for a named one (key in [ka,kb)). */
typedef void (*param_fn)(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb);

struct ptramp {
    struct vx *v;
    void *ctx;
    param_fn fn;
};

static int tramp(void *c, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    struct ptramp *p = c;
    p->fn(p->v, p->ctx, pos, ka, kb, va, vb);
    return p->v->rc;
}

/* Call fn for each parameter of template t. */
static void params(struct vx *v, const struct corpus_wt_tpl *t, param_fn fn, void *ctx)
{
    struct ptramp p = {v, ctx, fn};
    corpus_wt_params(v->wt, t, tramp, &p);
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
    return ascii_eq_word(v->src + ka, kb - ka, k);
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
        for (char *q = p; *q; q++) *q = (char)ascii_tolower((unsigned char)*q);
    return p;
}

/* Cite template fields: which parameter fills which field, raw or as plain text. Fields of
 * struct citctx are fallbacks (chapter-url for url, chapter for title, publisher for work, year
 * for date). */
enum cite_field {
    CF_URL, CF_ALT_URL, CF_ARCHIVE, CF_STATUS, CF_TITLE, CF_CHAPTER, CF_WORK, CF_PUBLISHER,
    CF_DATE, CF_YEAR, CF_QUOTE, CF_DOI, CF_ISBN, CF_PMID
};
static const struct {
    const char *key;
    enum cite_field field;
    int plain; /* 1: rendered by the engine, 0: the raw value */
} cite_fields[] = {
    {"url", CF_URL, 0},           {"chapter-url", CF_ALT_URL, 0}, {"chapterurl", CF_ALT_URL, 0},
    {"contribution-url", CF_ALT_URL, 0}, {"section-url", CF_ALT_URL, 0}, {"archive-url", CF_ARCHIVE, 0},
    {"archiveurl", CF_ARCHIVE, 0}, {"url-status", CF_STATUS, 0}, {"urlstatus", CF_STATUS, 0},
    {"title", CF_TITLE, 1},       {"chapter", CF_CHAPTER, 1},    {"contribution", CF_CHAPTER, 1},
    {"website", CF_WORK, 1},      {"work", CF_WORK, 1},          {"newspaper", CF_WORK, 1},
    {"journal", CF_WORK, 1},      {"magazine", CF_WORK, 1},      {"periodical", CF_WORK, 1},
    {"encyclopedia", CF_WORK, 1}, {"encyclopaedia", CF_WORK, 1}, {"publisher", CF_PUBLISHER, 1},
    {"date", CF_DATE, 1},         {"year", CF_YEAR, 1},          {"quote", CF_QUOTE, 1},
    {"doi", CF_DOI, 0},           {"isbn", CF_ISBN, 0},          {"pmid", CF_PMID, 0},
};

static char **cite_slot(struct citctx *cc, enum cite_field f)
{
    struct ver_citation *c = cc->c;
    switch (f) {
    case CF_URL: return &c->url;
    case CF_ALT_URL: return &cc->alt_url;
    case CF_ARCHIVE: return &c->archive_url;
    case CF_STATUS: return &c->url_status;
    case CF_TITLE: return &c->title;
    case CF_CHAPTER: return &cc->chapter;
    case CF_WORK: return &c->work;
    case CF_PUBLISHER: return &cc->publisher;
    case CF_DATE: return &c->date;
    case CF_YEAR: return &cc->year;
    case CF_QUOTE: return &c->quote;
    case CF_DOI: return &c->doi;
    case CF_ISBN: return &c->isbn;
    case CF_PMID: return &c->pmid;
    }
    return NULL;
}

static void cite_param(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    struct citctx *cc = ctx;
    struct ver_citation *c = cc->c;
    if (pos || vb <= va) return;
    for (size_t k = 0; k < sizeof cite_fields / sizeof cite_fields[0]; k++) {
        if (!key_is(v, ka, kb, cite_fields[k].key)) continue;
        char **dst = cite_slot(cc, cite_fields[k].field);
        if (cite_fields[k].plain) set_plain(v, dst, va, vb);
        else set_raw(v, dst, va, vb);
        return;
    }
    if (key_is(v, ka, kb, "deadurl") || key_is(v, ka, kb, "dead-url")) {
        int yes = starts_ci(v->src, va, vb, "yes") || starts_ci(v->src, va, vb, "true") ||
                  starts_ci(v->src, va, vb, "y");
        if (!c->url_status) c->url_status = ver_vx_strndup(v, yes ? "dead" : "live", 4);
    } else if (!cc->last && (key_is(v, ka, kb, "last") || key_is(v, ka, kb, "last1") ||
                             key_is(v, ka, kb, "surname") || key_is(v, ka, kb, "surname1"))) {
        cc->last = last_name(v, va, vb, 1, 0);
    } else if (!cc->last && (key_is(v, ka, kb, "author") || key_is(v, ka, kb, "author1") ||
                             key_is(v, ka, kb, "authors"))) {
        cc->last = last_name(v, va, vb, 0, 0);
    } else if (!cc->last && key_is(v, ka, kb, "vauthors")) {
        cc->last = last_name(v, va, vb, 0, 1);
    }
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

/* Parse citation template t into c; *last and *year (either may be NULL) get the first
 * author's last name and the year. */
static void parse_cite_tpl(struct vx *v, const struct corpus_wt_tpl *t, struct ver_citation *c, char **last,
                           char **year)
{
    struct citctx cc = {.c = c};
    params(v, t, cite_param, &cc);
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

/* Fill ref ri's sfn fields from short-citation template t. (An index, as parsing may add entries
 * and move the array.) */
static void parse_sfn(struct vx *v, int ri, const struct corpus_wt_tpl *t)
{
    struct sfnctx sc = {0};
    params(v, t, sfn_param, &sc);
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

static void webarchive_param(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    char **url = ctx;
    if (!pos && key_is(v, ka, kb, "url")) set_raw(v, url, va, vb);
}

/* The fields of the first citation template in [a, b) into r's citation. */
static void ref_cite_fields(struct vx *v, int ri, size_t a, size_t b)
{
    struct corpus_wt_tpl t;
    for (size_t i = a; i + 1 < b; i++) {
        if (v->src[i] != '{' || v->src[i + 1] != '{' || !corpus_wt_template(v->wt, i, b, &t)) continue;
        if (t.role != CORPUS_WT_CITE) continue;
        char *last = NULL, *year = NULL;
        struct ver_citation c = {0};
        parse_cite_tpl(v, &t, &c, &last, &year);
        free(last);
        free(year);
        struct ver_citation *d = &v->refs[ri].cit; /* raw, name and group are kept */
        d->url = c.url;
        d->archive_url = c.archive_url;
        d->url_status = c.url_status;
        d->title = c.title;
        d->work = c.work;
        d->date = c.date;
        d->quote = c.quote;
        d->doi = c.doi;
        d->isbn = c.isbn;
        d->pmid = c.pmid;
        return;
    }
}

/* The ref's other templates: {{webarchive}}, and short citations ({{harvnb}} inside a ref). */
static void ref_other_templates(struct vx *v, int ri, size_t a, size_t b)
{
    struct corpus_wt_tpl t;
    for (size_t i = a; i + 1 < b && !v->rc; i++) {
        if (v->src[i] != '{' || v->src[i + 1] != '{' || !corpus_wt_template(v->wt, i, b, &t)) continue;
        struct ver_citation *c = &v->refs[ri].cit;
        if (t.role == CORPUS_WT_ARCHIVE) {
            char *url = NULL;
            params(v, &t, webarchive_param, &url);
            if (!c->archive_url) c->archive_url = url;
            else free(url);
        } else if ((t.role == CORPUS_WT_SFN || t.role == CORPUS_WT_HARV) && !c->url && !c->title) {
            parse_sfn(v, ri, &t);
        }
        i = t.end - 1;
    }
}

/* Parse a ref's content [a,b) into entry ri. */
static void parse_ref(struct vx *v, int ri, size_t a, size_t b)
{
    const char *s = v->src;
#define R (&v->refs[ri])
    R->cit.raw = ver_vx_strndup(v, s + a, b - a);
    ref_cite_fields(v, ri, a, b);
    ref_other_templates(v, ri, a, b);
    if (!R->cit.url) { /* [url label] */
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
    if (!R->cit.url) { /* a bare URL */
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

/* ---------------------------------------------------------------- the sink: refs */

static int on_ref(void *ctx, struct corpus_wt *w, const struct corpus_wt_ref *r)
{
    (void)w;
    struct vx *v = ctx;
    const char *s = v->src;
    size_t ta = r->in_a, tb = r->in_b;
    trim(s, &ta, &tb);
    int has_content = tb > ta, named = r->name_b > r->name_a;
    if (!has_content && !named) return v->rc; /* <ref /> or <ref></ref>: nothing */
    if (v->defonly && !named) return v->rc;   /* scratch text: an unnamed ref is never cited */
    int ri = ver_vx_ref(v, s + r->group_a, r->group_b - r->group_a, s + r->name_a, r->name_b - r->name_a);
    if (ri < 0) return v->rc;
    if (has_content && !v->refs[ri].defined) {
        v->refs[ri].defined = 1;
        parse_ref(v, ri, ta, tb);
    }
    ver_vx_anchor(v, ri, NULL, 0);
    return v->rc;
}

/* ---------------------------------------------------------------- the sink: templates */

struct tctx {
    int want;           /* a positional index wanted (0 = none) */
    size_t va, vb;
    int found;
    size_t ga, gb;      /* group= */
    size_t ta, tb;      /* text= / 1= / the first positional (refn, efn) */
    size_t na, nb;      /* name= */
    size_t refsa, refsb; /* refs= */
    int has_text, has_refs;
};

static void tparam(struct vx *v, void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    struct tctx *t = ctx;
    if (pos && t->want == pos) {
        t->va = va;
        t->vb = vb;
        t->found = 1;
    }
    if (!t->has_text && (pos == 1 || (!pos && (key_is(v, ka, kb, "1") || key_is(v, ka, kb, "text"))))) {
        t->ta = va;
        t->tb = vb;
        t->has_text = 1;
    }
    if (!pos && key_is(v, ka, kb, "group")) t->ga = va, t->gb = vb;
    if (!pos && key_is(v, ka, kb, "name")) t->na = va, t->nb = vb;
    if (!pos && key_is(v, ka, kb, "refs")) t->refsa = va, t->refsb = vb, t->has_refs = 1;
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

static void on_needed(struct vx *v, const struct corpus_wt_tpl *t)
{
    ver_vx_anchor(v, -1, v->src + t->start, t->end - t->start);
}

static void on_r(struct vx *v, const struct corpus_wt_tpl *t)
{
    struct tctx c = {0};
    params(v, t, tparam, &c);
    params(v, t, r_param, &c);
}

/* Identical sfns are one footnote: the entry is keyed on the normalised parameters. */
static void on_sfn(struct vx *v, const struct corpus_wt_tpl *t)
{
    const char *s = v->src;
    struct buf key = {0};
    int bad = buf_puts(&key, "\x1esfn");
    for (size_t i = t->in_a; i < t->in_b && !bad; i++)
        if (ascii_isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80 || s[i] == '|' || s[i] == '=')
            bad = buf_putc(&key, (char)ascii_tolower((unsigned char)s[i]));
    int ri = bad ? -1 : ver_vx_ref(v, "", 0, key.data, key.len);
    buf_cleanup(&key);
    if (bad) ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
    if (ri < 0) return;
    if (!v->refs[ri].defined) {
        v->refs[ri].defined = 1;
        v->refs[ri].cit.raw = ver_vx_strndup(v, s + t->start, t->end - t->start);
        free(v->refs[ri].cit.name); /* the key is no name */
        v->refs[ri].cit.name = NULL;
        parse_sfn(v, ri, t);
        /* a title until the bibliography fills it: "Author Year" as written */
        struct tctx c = {.want = 1};
        params(v, t, tparam, &c);
        char *au = c.found ? plain(v, c.va, c.vb) : NULL;
        struct buf tt = {0};
        if (buf_printf(&tt, "%s %s", au ? au : "", v->refs[ri].sfn_year ? v->refs[ri].sfn_year : ""))
            ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
        free(au);
        v->refs[ri].cit.title = buf_steal(&tt);
    }
    ver_vx_anchor(v, ri, NULL, 0);
}

/* {{refn|text}}, {{#tag:ref|text}}: a footnote made by a template. */
static void on_refn(struct vx *v, const struct corpus_wt_tpl *t)
{
    const char *s = v->src;
    struct tctx c = {0};
    params(v, t, tparam, &c);
    if (!c.has_text && c.nb == c.na) return;
    if (v->defonly && c.nb == c.na) return;
    int ri = ver_vx_ref(v, s + c.ga, c.gb - c.ga, s + c.na, c.nb - c.na);
    if (ri < 0) return;
    if (c.has_text && c.tb > c.ta && !v->refs[ri].defined) {
        v->refs[ri].defined = 1;
        parse_ref(v, ri, c.ta, c.tb);
    }
    ver_vx_anchor(v, ri, NULL, 0);
    if (c.has_text) walk_muted(v, c.ta, c.tb, 0); /* refs inside the note cite here too */
}

/* {{efn|text}}: an explanatory note; no text, but refs inside cite here. */
static void on_efn(struct vx *v, const struct corpus_wt_tpl *t)
{
    struct tctx c = {0};
    params(v, t, tparam, &c);
    if (c.has_text) walk_muted(v, c.ta, c.tb, 0);
}

/* {{reflist|refs=...}} and <references>...</references>: list-defined refs. */
static void on_reflist(struct vx *v, const struct corpus_wt_tpl *t)
{
    if (!strcmp(t->name, "references") && t->start < v->len && v->src[t->start] == '<') {
        walk_muted(v, t->in_a, t->in_b, 1);
        return;
    }
    struct tctx c = {0};
    params(v, t, tparam, &c);
    if (c.has_refs) walk_muted(v, c.refsa, c.refsb, 1);
}

/* A citation template outside a ref: a bibliography entry ({{sfn}} targets). */
static void on_cite(struct vx *v, const struct corpus_wt_tpl *t)
{
    if (v->plain || v->defonly || v->nbib >= VER_MAX_BIBLIO) return;
    if (v->nbib == v->cap_bib) {
        size_t nc = v->cap_bib ? v->cap_bib * 2 : 16;
        struct vx_bib *q = realloc(v->bib, nc * sizeof *q);
        if (!q) {
            ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
            return;
        }
        v->bib = q;
        v->cap_bib = nc;
    }
    struct vx_bib *e = &v->bib[v->nbib++];
    memset(e, 0, sizeof *e);
    e->cit.raw = ver_vx_strndup(v, v->src + t->start, t->end - t->start);
    parse_cite_tpl(v, t, &e->cit, &e->last, &e->year);
}

/* What each role means for citations; roles without an entry (infoboxes, {{harvnb}} and
 * {{webarchive}} outside a ref) add nothing here (the engine renders cited fields). */
typedef void (*tpl_fn)(struct vx *v, const struct corpus_wt_tpl *t);
static const tpl_fn handlers[CORPUS_WT_NROLES] = {
    [CORPUS_WT_NEEDED] = on_needed, [CORPUS_WT_NEEDED_SPAN] = on_needed, [CORPUS_WT_R] = on_r,
    [CORPUS_WT_SFN] = on_sfn,       [CORPUS_WT_REFN] = on_refn,          [CORPUS_WT_EFN] = on_efn,
    [CORPUS_WT_REFLIST] = on_reflist, [CORPUS_WT_CITE] = on_cite,
};

static int on_template(void *ctx, struct corpus_wt *w, const struct corpus_wt_tpl *t)
{
    (void)w;
    struct vx *v = ctx;
    if (t->role >= 0 && t->role < CORPUS_WT_NROLES && handlers[t->role]) handlers[t->role](v, t);
    return v->rc;
}

/* ---------------------------------------------------------------- the sink: text and blocks */

static int on_text(void *ctx, const char *s, size_t n, size_t off, int verbatim)
{
    struct vx *v = ctx;
    ver_vx_emit(v, s, n, off, verbatim); /* nothing while muted */
    return v->rc;
}

static int on_break(void *ctx, enum corpus_wt_break kind)
{
    struct vx *v = ctx;
    if (v->mute || kind == CORPUS_WT_CELL) return v->rc;
    if (v->plain) ver_vx_emit(v, " ", 1, v->len, 0);
    else ver_vx_break(v, v->cur_field);
    return v->rc;
}

/* Fields and headings open a block that is rolled back when it cites nothing (its boundaries
 * stay, as in the corpus text). Returns the mark, or NULL when too deep to keep one. */
static struct vx_mark *mark_open(struct vx *v)
{
    if (v->nmarks >= VX_MAX_MARKS) {
        v->marks_over++;
        ver_vx_break(v, 1);
        return NULL;
    }
    struct vx_mark *m = &v->marks[v->nmarks++];
    ver_vx_save(v, m);
    ver_vx_break(v, 1);
    return m;
}

static void mark_close(struct vx *v)
{
    if (v->marks_over) {
        v->marks_over--;
        ver_vx_break(v, 1);
        return;
    }
    if (!v->nmarks) return;
    const struct vx_mark *m = &v->marks[--v->nmarks];
    ver_vx_break(v, m->cur_field);
    if (v->nanchors != m->nanchors) return;
    ver_vx_restore(v, m);
    ver_vx_break(v, m->cur_field);
}

static int on_field(void *ctx, enum corpus_wt_field kind, int end)
{
    (void)kind;
    struct vx *v = ctx;
    if (v->mute) return v->rc;
    if (v->plain) ver_vx_emit(v, " ", 1, v->len, 0);
    else if (!end) mark_open(v);
    else mark_close(v);
    return v->rc;
}

/* A heading names a section; when it holds a citation it is also a claim of its own. */
static int on_heading(void *ctx, int level, size_t a, size_t b, int end)
{
    (void)level, (void)a, (void)b;
    struct vx *v = ctx;
    if (v->mute || v->plain) return v->rc;
    if (!end) {
        ver_vx_break(v, 0);
        mark_open(v);
        return v->rc;
    }
    const struct vx_mark *m = v->marks_over || !v->nmarks ? NULL : &v->marks[v->nmarks - 1];
    size_t from = m ? m->ptlen : v->pt.len;
    char *h = v->pt.len > from ? ver_vx_clean(v, v->pt.data + from, v->pt.len - from) : NULL;
    ver_vx_section_name(v, h ? h : "", h ? strlen(h) : 0);
    free(h);
    mark_close(v);
    return v->rc;
}

int ver_wt_read(struct vx *v)
{
    static const struct corpus_wt_sink proto = {.text = on_text, .brk = on_break, .heading = on_heading,
                                                .field = on_field, .ref = on_ref, .tpl = on_template};
    struct corpus_wt_sink sink = proto;
    sink.ctx = v;
    int rc = corpus_wt_parse(&v->wt, v->src, v->len, v->err);
    if (rc) return v->rc = rc;
    v->src = corpus_wt_src(v->wt, &v->len);
    v->sink = &sink;
    walk(v, 0, v->len);
    v->sink = NULL;
    return v->rc;
}
