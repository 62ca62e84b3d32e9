/* corpus_wikitext_blocks.c - the wikitext engine's templates, tables and image captions.
 *
 * A template in the template table renders its text (dates, convert, circa, lang, nowrap, dashes,
 * lists ...); any other is reported to the sink with its role, and an unknown one (an infobox, a
 * quote box) then renders each parameter holding a citation point as a field "Key: value". A
 * table renders only its rows holding a citation point, as a field "cell; cell; cell"; an image
 * its caption, when that holds one. Separators (", " between list items, "; " between cells) are
 * owed and paid only before the next text, so empty items leave no trace. */
#include "corpus_wikitext_int.h"

#include <stdio.h>
#include <string.h>

#include "ascii.h"

/* ---------------------------------------------------------------- parameters */

#define WT_ARGS 8

struct wt_args {
    const struct corpus_wt *w;
    size_t a[WT_ARGS], b[WT_ARGS]; /* the first positional parameters */
    int n;                         /* positional parameters in all */
    size_t la, lb;                 /* the last positional one */
    size_t ta, tb;                 /* text= or 1= (else the first positional) */
    size_t alt_a, alt_b;
    int has_text, has_alt, lc, mf;
};

static int key_is(const struct corpus_wt *w, size_t ka, size_t kb, const char *k)
{
    return ascii_eq_word(w->s + ka, kb - ka, k);
}

static int collect(void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    struct wt_args *g = ctx;
    if (pos) {
        if (g->n < WT_ARGS) g->a[g->n] = va, g->b[g->n] = vb;
        g->n++;
        g->la = va;
        g->lb = vb;
    }
    if (!g->has_text && (pos == 1 || (!pos && (key_is(g->w, ka, kb, "1") || key_is(g->w, ka, kb, "text"))))) {
        g->ta = va;
        g->tb = vb;
        g->has_text = 1;
    }
    if (!pos && key_is(g->w, ka, kb, "alt")) g->alt_a = va, g->alt_b = vb, g->has_alt = 1;
    if (!pos && key_is(g->w, ka, kb, "lc") && vb > va) g->lc = 1;
    if (!pos && key_is(g->w, ka, kb, "mf") && vb > va) g->mf = 1;
    return 0;
}

/* Small number in parameter k, or -1. */
static long arg_num(const struct wt_args *g, int k)
{
    if (k >= g->n || k >= WT_ARGS) return -1;
    size_t a = g->a[k], b = g->b[k];
    long v = 0;
    if (a == b || b - a > 6) return -1;
    for (; a < b; a++) {
        if (!ascii_isdigit((unsigned char)g->w->s[a])) return -1;
        v = v * 10 + (g->w->s[a] - '0');
    }
    return v;
}

static int arg_is(const struct wt_args *g, int k, const char *lit)
{
    return k < g->n && k < WT_ARGS && ascii_eq_word(g->w->s + g->a[k], g->b[k] - g->a[k], lit);
}

static void walk_arg(struct corpus_wt *w, const struct wt_args *g, int k)
{
    if (k < g->n && k < WT_ARGS) wt_walk(w, g->a[k], g->b[k]);
}

/* One item of a list: the separator is owed when an earlier item rendered text; *any records
 * whether this one did. */
static void item(struct corpus_wt *w, const char *sep, size_t a, size_t b, int *any)
{
    const char *sep0 = w->sep;
    size_t off0 = w->sep_off, before = w->produced;
    if (*any) {
        w->sep = sep;
        w->sep_off = a;
    }
    wt_walk(w, a, b);
    if (w->produced == before) { /* nothing came: owe what was owed before */
        w->sep = sep0;
        w->sep_off = off0;
    } else {
        *any = 1;
    }
}

/* ---------------------------------------------------------------- rendered templates */

static void render_date(struct corpus_wt *w, const struct wt_args *g, size_t off)
{
    static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};
    long m = arg_num(g, 1), d = arg_num(g, 2);
    char num[16];
    if (g->n < 1) return;
    if (m < 1 || m > 12) {
        walk_arg(w, g, 0);
        return;
    }
    if (d < 1 || d > 31) d = 0;
    if (g->mf) { /* "January 2, 1950" */
        wt_lit(w, months[m - 1], off);
        snprintf(num, sizeof num, " %ld,", d);
        if (d) wt_lit(w, num, off);
        wt_lit(w, " ", off);
    } else { /* "2 January 1950" */
        snprintf(num, sizeof num, "%ld ", d);
        if (d) wt_lit(w, num, off);
        wt_lit(w, months[m - 1], off);
        wt_lit(w, " ", off);
    }
    walk_arg(w, g, 0);
}

struct wt_join {
    struct corpus_wt *w;
    const char *sep;
    int max, any;
};

static int join_param(void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    (void)ka, (void)kb;
    struct wt_join *j = ctx;
    if (!pos || va == vb) return 0;
    if (j->max && pos > j->max) return 1;
    item(j->w, j->sep, va, vb, &j->any);
    return j->w->rc;
}

/* The text param of {{convert}}: "120 km", or "1 to 3 m" for ranges. */
static void render_convert(struct corpus_wt *w, const struct wt_args *g, size_t off)
{
    int range = g->n >= 4 && (arg_is(g, 1, "to") || arg_is(g, 1, "-") || arg_is(g, 1, "and") || arg_is(g, 1, "or") ||
                              arg_is(g, 1, "x") || arg_is(g, 1, "by"));
    int upto = range ? 4 : (g->n >= 2 ? 2 : g->n);
    for (int k = 0; k < upto; k++) {
        if (k) wt_lit(w, " ", off);
        walk_arg(w, g, k);
    }
}

/* {{height}}: each unit parameter given, in source order, as "value unit" (the template's own
 * conversion is left out, as with {{convert}}). */
static int measure_param(void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    static const char *const units[][2] = {
        {"m", "m"},   {"cm", "cm"},     {"mm", "mm"},     {"meter", "m"}, {"meters", "m"}, {"metre", "m"},
        {"metres", "m"}, {"ft", "ft"}, {"foot", "ft"},   {"feet", "ft"}, {"in", "in"},    {"inch", "in"},
        {"inches", "in"}, {"kg", "kg"}, {"lb", "lb"},    {"st", "st"}};
    struct wt_join *j = ctx;
    if (pos || va == vb) return 0;
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        if (!ascii_eq_word(j->w->s + ka, kb - ka, units[k][0])) continue;
        size_t before = j->w->produced;
        item(j->w, j->sep, va, vb, &j->any);
        if (j->w->produced > before) {
            wt_lit(j->w, " ", vb);
            wt_lit(j->w, units[k][1], vb);
        }
        break;
    }
    return j->w->rc;
}

static void render(struct corpus_wt *w, const struct wt_span *t, const struct wt_template *e)
{
    struct wt_args g = {.w = w};
    wt_split(w, t->start + 2, t->end - 2, collect, &g);
    switch (e->render) {
    case WT_R_FIXED: wt_lit(w, e->arg, t->start); break;
    case WT_R_FIRST: walk_arg(w, &g, 0); break;
    case WT_R_SECOND: walk_arg(w, &g, 1); break;
    case WT_R_LAST:
        if (g.n) wt_walk(w, g.la, g.lb);
        break;
    case WT_R_JOIN: {
        struct wt_join j = {w, e->arg, e->n, 0};
        wt_split(w, t->start + 2, t->end - 2, join_param, &j);
        break;
    }
    case WT_R_PREFIX: {
        size_t l = strlen(e->arg);
        int has = g.n && g.b[0] > g.a[0];
        while (!has && l && e->arg[l - 1] == ' ') l--; /* {{circa}} alone: "c." */
        wt_text(w, e->arg, l, t->start, 0);
        if (has) walk_arg(w, &g, 0);
        break;
    }
    case WT_R_CONVERT: render_convert(w, &g, t->start); break;
    case WT_R_DATE: render_date(w, &g, t->start); break;
    case WT_R_ASOF:
        if (g.has_alt) {
            wt_walk(w, g.alt_a, g.alt_b);
            break;
        }
        wt_lit(w, g.lc ? "as of " : "As of ", t->start);
        render_date(w, &g, t->start);
        break;
    case WT_R_MEASURE: {
        struct wt_join j = {w, " ", 0, 0};
        wt_split(w, t->start + 2, t->end - 2, measure_param, &j);
        break;
    }
    case WT_R_FRAC: {
        int m = g.n < 3 ? g.n : 3;
        for (int k = 0; k < m; k++) {
            if (k) wt_lit(w, k == m - 1 ? "/" : " ", t->start);
            walk_arg(w, &g, k);
        }
        break;
    }
    default: break;
    }
}

/* ---------------------------------------------------------------- reported templates, fields */

/* The key of a field as text: '_' as ' ', the first letter in upper case (when `upper`). */
static void key_text(struct corpus_wt *w, size_t ka, size_t kb, int upper)
{
    char chunk[64];
    for (size_t i = ka; i < kb;) {
        size_t n = 0;
        for (; i < kb && n < sizeof chunk; i++, n++) {
            char c = w->s[i] == '_' ? ' ' : w->s[i];
            chunk[n] = upper && i == ka ? (char)ascii_toupper((unsigned char)c) : c;
        }
        wt_text(w, chunk, n, ka, 0);
    }
}

static void field_key(struct corpus_wt *w, size_t ka, size_t kb)
{
    key_text(w, ka, kb, 1);
    wt_lit(w, ": ", kb);
}

/* A reference field: a key that only says where its siblings come from ("Gini_ref",
 * "area_footnote", "population_footnotes"). Returns the length of its stem ("Gini", "area"),
 * or 0 when the key is no such field. */
static size_t ref_key_stem(const char *s, size_t ka, size_t kb)
{
    static const char *const suffixes[] = {"ref", "refs", "footnote", "footnotes", "cite"};
    for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
        size_t n = strlen(suffixes[k]);
        if (kb - ka < n + 2 || !ascii_eq_word(s + kb - n, n, suffixes[k])) continue;
        size_t e = kb - n;
        if (s[e - 1] != '_' && s[e - 1] != ' ') continue;
        while (e > ka && (s[e - 1] == '_' || s[e - 1] == ' ')) e--;
        return e - ka;
    }
    return 0;
}

/* A template whose cited fields are rendered; a reference field renders its siblings. */
struct wt_box {
    struct corpus_wt *w;
    size_t a, b;          /* the template's inner text */
    size_t sa, sn;        /* siblings: the stem s[sa .. sa + sn) */
    size_t ref_a;         /* the reference field's key (not its own sibling) */
    int any, nsib;
};

#define WT_BOX_SIBLINGS 8 /* siblings rendered into one reference field at most */

static int count_text(void *ctx, const char *s, size_t n, size_t off, int verbatim)
{
    (void)off, (void)verbatim;
    size_t *c = ctx;
    for (size_t i = 0; i < n; i++) *c += !ascii_isspace((unsigned char)s[i]);
    return 0;
}

/* Nonzero when [a, b) renders some text (a walk into a sink that only counts it). */
static int renders_text(struct corpus_wt *w, size_t a, size_t b)
{
    size_t c = 0;
    struct corpus_wt_sink k = {.ctx = &c, .text = count_text};
    return corpus_wt_walk(w, a, b, &k) == 0 && c > 0;
}

/* Siblings of a reference field: the stem's own value ("Gini = 31.6") and the fields named
 * stem_x ("Gini_year = 2014" as "year: 2014"), in source order, uncited ones only (a cited one is a
 * field of its own), and none that only sets the display (change, magnitude). */
static int sibling_param(void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    static const char *const display[] = {"change", "magnitude", "color", "colour"};
    struct wt_box *x = ctx;
    struct corpus_wt *w = x->w;
    const char *s = w->s;
    if (pos || va == vb || ka == x->ref_a || kb - ka < x->sn || memcmp(s + ka, s + x->sa, x->sn) != 0) return 0;
    if (wt_has_cite(w, va, vb) || x->nsib >= WT_BOX_SIBLINGS) return 0;
    size_t xa = ka + x->sn;
    if (xa < kb) { /* stem_x: x is the label */
        if (s[xa] != '_' && s[xa] != ' ') return 0;
        while (xa < kb && (s[xa] == '_' || s[xa] == ' ')) xa++;
        for (size_t k = 0; k < sizeof display / sizeof display[0]; k++)
            if (ascii_eq_word(s + xa, kb - xa, display[k])) return 0;
    }
    if (!renders_text(w, va, vb)) return 0; /* no label over nothing */
    if (x->any) {
        w->sep = "; ";
        w->sep_off = ka;
    }
    if (xa < kb) {
        key_text(w, xa, kb, 0);
        wt_lit(w, ": ", kb);
    }
    wt_walk(w, va, vb);
    x->any = 1;
    x->nsib++;
    return w->rc;
}

static int field_param(void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    struct wt_box *x = ctx;
    struct corpus_wt *w = x->w;
    if (!wt_has_cite(w, va, vb)) return 0;
    size_t d = ka;
    while (d < kb && ascii_isdigit((unsigned char)w->s[d])) d++;
    wt_field(w, CORPUS_WT_PARAM, 0);
    size_t stem = pos ? 0 : ref_key_stem(w->s, ka, kb);
    if (stem) { /* "Gini: 31.6; year: 2014; rank: 33rd" then the reference */
        struct wt_box sib = {.w = w, .a = x->a, .b = x->b, .sa = ka, .sn = stem, .ref_a = ka};
        key_text(w, ka, ka + stem, 1);
        wt_lit(w, ": ", ka + stem);
        size_t before = w->produced;
        wt_split(w, x->a, x->b, sibling_param, &sib);
        if (w->produced > before) wt_lit(w, " ", kb);
    } else if (!pos && d < kb) {
        field_key(w, ka, kb); /* "1=" is positional */
    }
    wt_walk(w, va, vb);
    wt_field(w, CORPUS_WT_PARAM, 1);
    return w->rc;
}

void wt_template(struct corpus_wt *w, const struct wt_span *t, size_t b)
{
    const struct wt_template *e = wt_template_entry(t->entry);
    if (e && e->render != WT_R_REPORT) {
        render(w, t, e);
        return;
    }
    if (t->role == CORPUS_WT_SILENT) return;
    if (t->role == CORPUS_WT_NEEDED_SPAN) { /* the text comes before the marker */
        struct wt_args g = {.w = w};
        wt_split(w, t->start + 2, t->end - 2, collect, &g);
        if (g.has_text) wt_walk(w, g.ta, g.tb);
    }
    if (!w->rc && w->sink->tpl) {
        struct corpus_wt_tpl tp;
        wt_tpl_of(w, t, &tp);
        w->rc = w->sink->tpl(w->sink->ctx, w, &tp);
    }
    switch (t->role) {
    case CORPUS_WT_NEEDED:
    case CORPUS_WT_NEEDED_SPAN:
    case CORPUS_WT_R:
    case CORPUS_WT_SFN:
    case CORPUS_WT_REFN:
    case CORPUS_WT_EFN: wt_space_after(w, t->end, b); break; /* footnote markers */
    case CORPUS_WT_BOX: {
        struct wt_box x = {.w = w, .a = t->start + 2, .b = t->end - 2};
        wt_split(w, x.a, x.b, field_param, &x);
        break;
    }
    default: break;
    }
}

/* ---------------------------------------------------------------- images */

struct wt_caption {
    const struct corpus_wt *w;
    size_t va, vb;
    int found;
};

static int caption_param(void *ctx, int pos, size_t ka, size_t kb, size_t va, size_t vb)
{
    (void)ka, (void)kb;
    struct wt_caption *c = ctx;
    const char *s = c->w->s;
    if (!pos || vb <= va) return 0;
    size_t sp = va; /* image options are single words: thumb, left, 250px, upright */
    while (sp < vb && !ascii_isspace((unsigned char)s[sp])) sp++;
    if (sp == vb && vb - va < 16 && !memchr(s + va, '<', vb - va) && !memchr(s + va, '{', vb - va)) return 0;
    c->va = va;
    c->vb = vb;
    c->found = 1;
    return 0;
}

void wt_file_caption(struct corpus_wt *w, const struct wt_span *t)
{
    struct wt_caption c = {.w = w};
    wt_split(w, t->start + 2, t->end - 2, caption_param, &c);
    if (!c.found || !wt_has_cite(w, c.va, c.vb)) return;
    wt_field(w, CORPUS_WT_CAPTION, 0);
    wt_walk(w, c.va, c.vb);
    wt_field(w, CORPUS_WT_CAPTION, 1);
}

/* ---------------------------------------------------------------- tables */

static size_t skip_blank(const char *s, size_t i, size_t b)
{
    while (i < b && (s[i] == ' ' || s[i] == '\t')) i++;
    return i;
}

/* The end of the line at i: its '\n', not counting those inside templates, links, refs. */
static size_t line_end(const struct corpus_wt *w, size_t i, size_t b)
{
    while (i < b && w->s[i] != '\n') i = wt_skip(w, i, b);
    return i < b ? i : b;
}

static int starts2(const char *s, size_t i, size_t b, char c0, char c1)
{
    return i + 1 < b && s[i] == c0 && s[i + 1] == c1;
}

/* One cell [a, b): attributes before a single '|' are dropped. */
static void cell(struct corpus_wt *w, size_t a, size_t b, int *any)
{
    for (size_t i = a; i < b;) {
        if (w->s[i] == '|' && !(i + 1 < b && w->s[i + 1] == '|')) {
            a = i + 1;
            break;
        }
        i = wt_skip(w, i, b);
    }
    while (a < b && ascii_isspace((unsigned char)w->s[a])) a++;
    while (b > a && ascii_isspace((unsigned char)w->s[b - 1])) b--;
    if (a == b) return;
    wt_brk(w, CORPUS_WT_CELL);
    item(w, "; ", a, b, any);
}

/* A line of cells: "| a || b" or "! a !! b" (also "! a || b"). */
static void cells(struct corpus_wt *w, size_t ls, size_t le, int *any)
{
    const char *s = w->s;
    char sep = s[ls];
    size_t cs = ls + 1;
    for (size_t k = cs; k < le && !w->rc;) {
        if (k + 1 < le && (s[k] == sep || s[k] == '|') && s[k + 1] == s[k]) {
            cell(w, cs, k, any);
            k += 2;
            cs = k;
            continue;
        }
        k = wt_skip(w, k, le);
    }
    cell(w, cs, le, any);
}

/* Where the row starting at p ends: the next "|-" or "|+" line, or the table's end. */
static size_t row_end(const struct corpus_wt *w, size_t p, size_t end)
{
    for (size_t q = p; q < end;) {
        size_t ls = skip_blank(w->s, q, end);
        if (q > p && (starts2(w->s, ls, end, '|', '-') || starts2(w->s, ls, end, '|', '+'))) return q;
        size_t le = line_end(w, ls, end);
        q = le < end ? le + 1 : end;
    }
    return end;
}

static void row(struct corpus_wt *w, size_t p, size_t re)
{
    int any = 0;
    wt_field(w, CORPUS_WT_ROW, 0);
    for (size_t q = p; q < re && !w->rc;) {
        size_t ls = skip_blank(w->s, q, re), le = line_end(w, ls, re);
        if (ls < le && (w->s[ls] == '|' || w->s[ls] == '!')) {
            cells(w, ls, le, &any);
        } else if (ls < le) { /* the last cell goes on, or a table nested in it */
            wt_lit(w, " ", ls);
            wt_walk(w, ls, le);
        }
        q = le < re ? le + 1 : re;
    }
    wt_field(w, CORPUS_WT_ROW, 1);
}

void wt_table(struct corpus_wt *w, const struct wt_span *t)
{
    const char *s = w->s;
    size_t end = t->end - 2, p = line_end(w, t->start, end); /* the "{| attributes" line goes */
    p = p < end ? p + 1 : end;
    wt_brk(w, CORPUS_WT_PARA);
    while (p < end && !w->rc) {
        size_t ls = skip_blank(s, p, end), le = line_end(w, ls, end), next = le < end ? le + 1 : end;
        if (starts2(s, ls, end, '|', '+')) { /* the caption */
            if (wt_has_cite(w, ls, le)) {
                int any = 0;
                wt_field(w, CORPUS_WT_CAPTION, 0);
                cell(w, ls + 2, le, &any);
                wt_field(w, CORPUS_WT_CAPTION, 1);
            }
            p = next;
            continue;
        }
        if (starts2(s, ls, end, '|', '-')) {
            p = next;
            continue;
        }
        size_t re = row_end(w, p, end);
        if (wt_has_cite(w, p, re)) row(w, p, re);
        p = re;
    }
    wt_brk(w, CORPUS_WT_PARA);
}
