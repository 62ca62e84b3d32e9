/* corpus_wikitext.c - the wikitext engine's walk, and corpus_wikitext_text() on top of it.
 *
 * One recursive walk over a stretch of the scanned article (corpus_wikitext_parse.c) reports to
 * a sink: plain text with its source offsets, block breaks, headings, links, refs, and the
 * templates it does not render (corpus_wikitext_blocks.c renders the others, and the cited
 * fields of infoboxes, tables and captions). What each markup becomes:
 *   line starts   "== h ==" a heading; "*#:;" a list item; "----" a paragraph break
 *   blank line    a paragraph break; other line breaks stay in the text as '\n'
 *   tags          per the tag table: dropped with content, literal, a break, or only the tag
 *   [[a|b]]       b (a when there is no label); files and categories none, captions when cited
 *   [url label]   label
 *   ''x'' '''x''' x;  &entity; its character;  __MAGIC__ nothing
 * A <ref> or footnote template renders as nothing, with a space when a word follows it.
 * Nothing here allocates: the walk only reads what the scan built. */
#include "corpus_wikitext_int.h"

#include <string.h>

#include "ascii.h"
#include "utf8.h"

#define WT_NONE ((size_t)-1)

/* ---------------------------------------------------------------- output */

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ascii_isspace((unsigned char)s[i])) return 0;
    return 1;
}

void wt_text(struct corpus_wt *w, const char *s, size_t n, size_t off, int verbatim)
{
    if (w->rc || n == 0) return;
    int empty = blank(s, n);
    if (w->sep && !empty) {
        const char *sep = w->sep;
        w->sep = NULL;
        if (w->sink->text) w->rc = w->sink->text(w->sink->ctx, sep, strlen(sep), w->sep_off, 0);
        if (w->rc) return;
    }
    if (w->sink->text) w->rc = w->sink->text(w->sink->ctx, s, n, off, verbatim);
    if (!empty) w->produced += n;
}

void wt_lit(struct corpus_wt *w, const char *lit, size_t off) { wt_text(w, lit, strlen(lit), off, 0); }

void wt_brk(struct corpus_wt *w, enum corpus_wt_break kind)
{
    if (!w->rc && w->sink->brk) w->rc = w->sink->brk(w->sink->ctx, kind);
}

void wt_field(struct corpus_wt *w, enum corpus_wt_field kind, int end)
{
    if (!w->rc && w->sink->field) w->rc = w->sink->field(w->sink->ctx, kind, end);
}

void wt_space_after(struct corpus_wt *w, size_t e, size_t b)
{
    if (e >= b) return;
    unsigned char c = (unsigned char)w->s[e];
    if (ascii_isalnum(c) || c == '[' || c == '\'' || c >= 0x80) wt_lit(w, " ", e);
}

void wt_walk_trim(struct corpus_wt *w, size_t a, size_t b)
{
    while (a < b && ascii_isspace((unsigned char)w->s[a])) a++;
    while (b > a && ascii_isspace((unsigned char)w->s[b - 1])) b--;
    wt_walk(w, a, b);
}

/* ---------------------------------------------------------------- line starts */

/* "== h ==" (comments may follow it on the line). */
static size_t heading(struct corpus_wt *w, size_t i, size_t b)
{
    const char *s = w->s;
    size_t e = i, te = i, lv = 0, tv = 0;
    while (e < b && s[e] != '\n') {
        const struct wt_region *r = s[e] == '<' ? wt_region_at(w, e) : NULL;
        if (r && r->kind == WT_REG_COMMENT && r->end <= b) {
            e = r->end;
            continue;
        }
        if (!ascii_isspace((unsigned char)s[e])) te = e + 1;
        e++;
    }
    while (i + lv < te && s[i + lv] == '=') lv++;
    while (tv < te - i && s[te - 1 - tv] == '=') tv++;
    if (!lv || !tv || lv + tv >= te - i) return i;
    size_t lvl = lv < tv ? lv : tv, a = i + lvl, z = te - lvl;
    while (a < z && ascii_isspace((unsigned char)s[a])) a++;
    while (z > a && ascii_isspace((unsigned char)s[z - 1])) z--;
    if (!w->rc && w->sink->heading) w->rc = w->sink->heading(w->sink->ctx, (int)lvl, a, z, 0);
    wt_walk(w, a, z);
    if (!w->rc && w->sink->heading) w->rc = w->sink->heading(w->sink->ctx, (int)lvl, a, z, 1);
    return e;
}

/* Line-start markup at i; returns the offset after it, i when there is none. */
static size_t line_start(struct corpus_wt *w, size_t i, size_t b)
{
    const char *s = w->s;
    char c = s[i];
    if (c == '=') return heading(w, i, b);
    if (c == '*' || c == '#' || c == ':' || c == ';') {
        size_t j = i;
        while (j < b && (s[j] == '*' || s[j] == '#' || s[j] == ':' || s[j] == ';')) j++;
        while (j < b && (s[j] == ' ' || s[j] == '\t')) j++;
        wt_brk(w, CORPUS_WT_ITEM);
        return j;
    }
    if (i + 4 <= b && memcmp(s + i, "----", 4) == 0) {
        while (i < b && s[i] == '-') i++;
        wt_brk(w, CORPUS_WT_PARA);
        return i;
    }
    return i;
}

/* ---------------------------------------------------------------- inline markup */

static size_t newline(struct corpus_wt *w, size_t i, size_t b)
{
    size_t j = i + 1;
    while (j < b && (w->s[j] == ' ' || w->s[j] == '\t' || w->s[j] == '\r')) j++;
    if (j < b && w->s[j] == '\n') wt_brk(w, CORPUS_WT_PARA);
    else wt_text(w, w->s + i, 1, i, 1);
    return i + 1;
}

static void report_ref(struct corpus_wt *w, const struct wt_region *r, size_t b)
{
    struct corpus_wt_ref ref = {r->start, r->end, r->na, r->nb, r->ga, r->gb, r->in_a, r->in_b, r->selfclose};
    if (!w->rc && w->sink->ref) w->rc = w->sink->ref(w->sink->ctx, w, &ref);
    wt_space_after(w, r->end, b);
}

static size_t at_tag(struct corpus_wt *w, size_t i, size_t b)
{
    const struct wt_region *r = wt_region_at(w, i);
    if (!r || r->end > b) return i;
    if (r->kind == WT_REG_COMMENT) return r->end;
    enum wt_tag_kind k = wt_tag_kind(r->tag);
    if (r->kind == WT_REG_TAG) {
        if (k == WT_TAG_BLOCK) wt_brk(w, CORPUS_WT_LINE);
        else if (k == WT_TAG_BR) wt_lit(w, "\n", i);
        return r->end; /* inline tags, and stray or unclosed ones of the others */
    }
    if (k == WT_TAG_LITERAL || k == WT_TAG_PRE) {
        if (k == WT_TAG_PRE) wt_brk(w, CORPUS_WT_LINE);
        wt_text(w, w->s + r->in_a, r->in_b - r->in_a, r->in_a, 1);
        if (k == WT_TAG_PRE) wt_brk(w, CORPUS_WT_LINE);
    } else if (k == WT_TAG_REF) {
        report_ref(w, r, b);
    } else if (k == WT_TAG_REFS && !w->rc && w->sink->tpl) {
        struct corpus_wt_tpl t = {"references", CORPUS_WT_REFLIST, r->start, r->end, r->in_a, r->in_b};
        w->rc = w->sink->tpl(w->sink->ctx, w, &t);
    }
    return r->end;
}

static int is_lang_prefix(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && ascii_islower((unsigned char)s[k])) k++;
    if (k == 6 && memcmp(s, "simple", 6) == 0 && n == 6) return 1;
    if (k < 2 || k > 3) return 0;
    if (k == n) return 1;
    if (s[k] != '-' || n > 12) return 0;
    for (k++; k < n; k++)
        if (!ascii_islower((unsigned char)s[k])) return 0;
    return 1;
}

static void link(struct corpus_wt *w, const struct wt_span *t)
{
    const char *s = w->s;
    size_t a = t->start + 2, cl = t->end - 2, pipe = a;
    while (pipe < cl && s[pipe] != '|') pipe = wt_skip(w, pipe, cl);
    size_t ta = a, tb = pipe;
    while (ta < tb && ascii_isspace((unsigned char)s[ta])) ta++;
    while (tb > ta && ascii_isspace((unsigned char)s[tb - 1])) tb--;
    const char *colon = ta < tb ? memchr(s + ta, ':', tb - ta) : NULL;
    if (colon && colon > s + ta) {
        size_t pl = (size_t)(colon - (s + ta));
        while (pl > 0 && ascii_isspace((unsigned char)s[ta + pl - 1])) pl--;
        int ns = wt_namespace(s + ta, pl);
        if (ns == 1) wt_file_caption(w, t);
        if (ns || (pipe >= cl && is_lang_prefix(s + ta, pl))) return; /* "[[fr:Paris]]": other wikis */
    }
    if (!w->rc && w->sink->link) w->rc = w->sink->link(w->sink->ctx, ta, tb, 0);
    size_t la = pipe + 1, lb = cl;
    while (la < lb && ascii_isspace((unsigned char)s[la])) la++;
    while (lb > la && ascii_isspace((unsigned char)s[lb - 1])) lb--;
    if (pipe < cl && lb > la) {
        wt_walk(w, la, lb);
        return;
    }
    while (ta < tb && (s[ta] == ':' || ascii_isspace((unsigned char)s[ta]))) ta++;
    wt_walk(w, ta, tb); /* no label, or the pipe trick: the target */
}

static int url_scheme(const char *s, size_t n)
{
    static const char *const schemes[] = {"http://", "https://", "ftp://", "ftps://", "//",
                                          "mailto:", "news:",    "irc://", "sftp://", NULL};
    for (int k = 0; schemes[k]; k++) {
        size_t l = strlen(schemes[k]);
        if (n >= l && ascii_ncasecmp(s, schemes[k], l) == 0) return 1;
    }
    return 0;
}

/* The next byte c at or after `from` (w->n when none), remembered in (*from0, *at). */
static size_t next_of(const struct corpus_wt *w, size_t from, char c, size_t *from0, size_t *at)
{
    if (*at != WT_NONE && *from0 <= from && from <= *at) return *at;
    const char *p = from < w->n ? memchr(w->s + from, c, w->n - from) : NULL;
    *from0 = from;
    *at = p ? (size_t)(p - w->s) : w->n;
    return *at;
}

/* [http://url label] */
static size_t ext_link(struct corpus_wt *w, size_t i, size_t b)
{
    const char *s = w->s;
    if (!url_scheme(s + i + 1, b - i - 1)) return i;
    size_t rb = next_of(w, i, ']', &w->rb_from, &w->rb_at);
    size_t nl = next_of(w, i, '\n', &w->nl_from, &w->nl_at);
    if (rb >= b || rb > nl) return i;
    size_t sp = i + 1;
    while (sp < rb && s[sp] != ' ' && s[sp] != '\t') sp++;
    if (!w->rc && w->sink->link) w->rc = w->sink->link(w->sink->ctx, i + 1, sp, 1);
    if (sp < rb) wt_walk_trim(w, sp + 1, rb);
    return rb + 1;
}

static size_t at_bracket(struct corpus_wt *w, size_t i, size_t b)
{
    if (i + 1 < b && w->s[i + 1] == '[') {
        const struct wt_span *t = wt_span_at(w, i);
        if (t && t->kind == WT_SP_LINK && t->end <= b) {
            link(w, t);
            return t->end;
        }
        return i;
    }
    return ext_link(w, i, b);
}

static size_t at_brace(struct corpus_wt *w, size_t i, size_t b)
{
    const struct wt_span *t = wt_span_at(w, i);
    if (!t || t->end > b) return i;
    if (t->kind == WT_SP_TPL) wt_template(w, t, b);
    else if (t->kind == WT_SP_TABLE) wt_table(w, t);
    return t->end; /* {{{parameters}}} render as nothing */
}

/* ''italic'', '''bold''': the quotes go ('''' keeps one, more than five keep the rest). */
static size_t quotes(struct corpus_wt *w, size_t i, size_t b)
{
    size_t k = 0;
    while (i + k < b && w->s[i + k] == '\'') k++;
    if (k < 2) return i;
    if (k == 4) wt_lit(w, "'", i);
    else if (k > 5) wt_text(w, w->s + i, k - 5, i, 1);
    return i + k;
}

static size_t entity(struct corpus_wt *w, size_t i, size_t b)
{
    const char *s = w->s;
    size_t j = i + 1;
    if (j < b && s[j] == '#') {
        int hex = ++j < b && (s[j] == 'x' || s[j] == 'X');
        uint32_t cp = 0;
        size_t d0 = j += (size_t)hex;
        for (; j < b && j - d0 < 8; j++) {
            int v = hex ? ascii_hexval((unsigned char)s[j]) : (ascii_isdigit((unsigned char)s[j]) ? s[j] - '0' : -1);
            if (v < 0) break;
            cp = cp * (hex ? 16 : 10) + (uint32_t)v;
        }
        if (j == d0 || j >= b || s[j] != ';') return i;
        char u[4];
        wt_text(w, u, utf8_enc(cp ? cp : UTF8_REPLACEMENT, u), i, 0);
        return j + 1;
    }
    size_t a = j;
    while (j < b && j - a < 10 && ascii_isalnum((unsigned char)s[j])) j++;
    if (j == a || j >= b || s[j] != ';') return i;
    const char *text = wt_entity(s + a, j - a);
    if (!text) return i;
    wt_lit(w, text, i);
    return j + 1;
}

/* __TOC__, __NOTOC__ and the other behaviour switches */
static size_t magic(struct corpus_wt *w, size_t i, size_t b)
{
    const char *s = w->s;
    if (i + 4 >= b || s[i + 1] != '_' || !ascii_isupper((unsigned char)s[i + 2])) return i;
    size_t j = i + 2;
    while (j < b && j - i < 40 && ascii_isupper((unsigned char)s[j])) j++;
    return j + 1 < b && s[j] == '_' && s[j + 1] == '_' ? j + 2 : i;
}

static size_t at_char(struct corpus_wt *w, size_t i, size_t b)
{
    switch (w->s[i]) {
    case '\n': return newline(w, i, b);
    case '<': return at_tag(w, i, b);
    case '{': return at_brace(w, i, b);
    case '[': return at_bracket(w, i, b);
    case '\'': return quotes(w, i, b);
    case '&': return entity(w, i, b);
    case '_': return magic(w, i, b);
    default: return i;
    }
}

static int special(char c)
{
    return c == '\n' || c == '<' || c == '{' || c == '[' || c == '\'' || c == '&' || c == '_';
}

void wt_walk(struct corpus_wt *w, size_t a, size_t b)
{
    if (w->rc || w->depth >= WT_MAX_DEPTH) return;
    w->depth++;
    const char *s = w->s;
    size_t i = a, run = a;
    while (i < b && !w->rc) {
        int ls = i == 0 || s[i - 1] == '\n';
        if (!ls && !special(s[i])) {
            i++;
            continue;
        }
        if (i > run) wt_text(w, s + run, i - run, run, 1);
        size_t nx = ls ? line_start(w, i, b) : i;
        if (nx == i) nx = at_char(w, i, b);
        run = i;
        i = nx == i ? i + 1 : (run = nx);
    }
    if (i > run && !w->rc) wt_text(w, s + run, (i < b ? i : b) - run, run, 1);
    w->depth--;
}

int corpus_wt_walk(struct corpus_wt *w, size_t a, size_t b, const struct corpus_wt_sink *sink)
{
    const struct corpus_wt_sink *sink0 = w->sink;
    const char *sep0 = w->sep;
    size_t sep_off0 = w->sep_off, produced0 = w->produced;
    int rc0 = w->rc;
    if (b > w->n) b = w->n;
    if (a > b) a = b;
    w->sink = sink;
    w->sep = NULL;
    w->rc = 0;
    wt_walk(w, a, b);
    int rc = w->rc;
    w->sink = sink0;
    w->sep = sep0;
    w->sep_off = sep_off0;
    w->produced = produced0;
    w->rc = rc0;
    return rc;
}

/* ---------------------------------------------------------------- plain text */

/* White space collapsed; '\n' (source line breaks, <br>, list items, block tags) kept as one
 * line break and paragraph breaks as one blank line; nothing at the start. */
struct plain {
    struct buf *b;
    size_t start;
    int space, nls;
};

static int plain_text(void *ctx, const char *s, size_t n, size_t off, int verbatim)
{
    (void)off;
    (void)verbatim;
    struct plain *p = ctx;
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\n') {
            if (p->nls < 2) p->nls++;
            p->space = 0;
            i++;
            continue;
        }
        if (ascii_isspace((unsigned char)c)) {
            p->space = 1;
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && !ascii_isspace((unsigned char)s[j])) j++;
        int bad = 0;
        if (p->b->len > p->start) {
            if (p->nls) bad = buf_append(p->b, "\n\n", p->nls > 1 ? 2 : 1);
            else if (p->space) bad = buf_putc(p->b, ' ');
        }
        if (bad || buf_append(p->b, s + i, j - i)) return ERR_NOMEM;
        p->nls = p->space = 0;
        i = j;
    }
    return 0;
}

static int plain_brk(void *ctx, enum corpus_wt_break kind)
{
    struct plain *p = ctx;
    if (kind == CORPUS_WT_PARA) p->nls = 2;
    else if (kind != CORPUS_WT_CELL && p->nls < 1) p->nls = 1;
    return 0;
}

static int plain_heading(void *ctx, int level, size_t a, size_t b, int end)
{
    (void)level, (void)a, (void)b, (void)end;
    ((struct plain *)ctx)->nls = 2;
    return 0;
}

static int plain_field(void *ctx, enum corpus_wt_field kind, int end)
{
    (void)kind, (void)end;
    ((struct plain *)ctx)->nls = 2;
    return 0;
}

int corpus_wikitext_text(const char *wt, size_t len, struct buf *text, struct err *err)
{
    struct corpus_wt *w = NULL;
    if (!wt || len == 0) return ERR_OK;
    int rc = corpus_wt_parse(&w, wt, len, err);
    if (rc) return rc;
    struct plain p = {text, text->len, 0, 0};
    struct corpus_wt_sink sink = {.ctx = &p, .text = plain_text, .brk = plain_brk, .heading = plain_heading,
                                  .field = plain_field};
    size_t n;
    corpus_wt_src(w, &n);
    rc = corpus_wt_walk(w, 0, n, &sink);
    corpus_wt_free(w);
    if (rc) return err_set(err, ERR_NOMEM, "wikitext: out of memory (%zu bytes of input)", len);
    return ERR_OK;
}
