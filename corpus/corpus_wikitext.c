/* corpus_wikitext.c - MediaWiki wikitext reduced to plain readable text.
 *
 * Five linear passes, each reading the previous one's output:
 *   1. strip    comments, <ref>/<gallery>/<math>/... with their content; <nowiki>/<pre> content
 *               is escaped as entities so later passes leave it alone
 *   2. blocks   {{templates}} (nested, {{{params}}}) and {| tables |} found by one
 *               bracket-matching scan with a stack (unbalanced openers stay as text); tables and
 *               most templates are dropped, a few inline ones rendered ({{convert|5|km}} -> 5 km,
 *               {{lang|fr|mot}} -> mot, {{nowrap|x}} -> x, dates, {{ndash}})
 *   3. lines    "== X ==" headings on their own line, list markers and "----" removed
 *   4. inline   [[links]], [external links], remaining tags, ''quotes'', entities, __MAGIC__
 *   5. tidy     spaces collapsed, lines trimmed, at most one blank line in a row
 * Every forward search caches its result so that unbalanced markup never rescans the input. */
#include "corpus.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WT_NONE ((size_t)-1)

/* An output sink that remembers allocation failure instead of reporting every call. */
struct wt_out {
    struct buf *b;
    int oom;
};

static void out_mem(struct wt_out *o, const char *s, size_t n)
{
    if (!o->oom && n && buf_append(o->b, s, n) != 0) o->oom = 1;
}

static void out_ch(struct wt_out *o, char c) { out_mem(o, &c, 1); }

static void out_str(struct wt_out *o, const char *s) { out_mem(o, s, strlen(s)); }

/* Append code point `cp` as UTF-8 (U+FFFD for surrogates and values past U+10FFFF). */
static void out_cp(struct wt_out *o, uint32_t cp)
{
    char u[4];
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || cp == 0) cp = 0xFFFD;
    if (cp < 0x80) {
        out_ch(o, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        out_mem(o, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        out_mem(o, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        out_mem(o, u, 4);
    }
}

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return is_alpha(c) || is_digit(c); }
static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
static int is_blank(int c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Nonzero when s[0..n) equals the lowercase ASCII literal `lit`, ignoring ASCII case. */
static int ieq(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++)
        if (lower((unsigned char)s[i]) != lit[i]) return 0;
    return i == n && lit[i] == '\0';
}

/* Index of `name` in the NULL-terminated list, or -1. */
static int find_name(const char *const *list, const char *name, size_t n)
{
    for (int k = 0; list[k]; k++)
        if (ieq(name, n, list[k])) return k;
    return -1;
}

/* Position of the next byte `c` at or after `from`, or `n`, remembered in *cache (start it at
 * WT_NONE). Callers ask with non-decreasing `from`, so each byte is looked at once. */
static size_t next_byte(const char *s, size_t n, size_t from, char c, size_t *cache)
{
    if (*cache != WT_NONE && *cache >= from) return *cache;
    const char *p = from < n ? memchr(s + from, c, n - from) : NULL;
    *cache = p ? (size_t)(p - s) : n;
    return *cache;
}

/* A tag at s[i] == '<': sets *closing, the name span [*name, *name + *name_len). Returns 0 when
 * s[i] does not start something that looks like a tag. */
static int tag_at(const char *s, size_t n, size_t i, int *closing, size_t *name, size_t *name_len)
{
    size_t j = i + 1;
    *closing = 0;
    if (j < n && s[j] == '/') {
        *closing = 1;
        j++;
    }
    if (j >= n || !is_alpha((unsigned char)s[j])) return 0;
    *name = j;
    while (j < n && is_alnum((unsigned char)s[j])) j++;
    *name_len = j - *name;
    if (j < n && !(s[j] == '>' || s[j] == '/' || is_blank((unsigned char)s[j]) || s[j] == '\n'))
        return 0;
    return 1;
}

/* ---------------------------------------------------------------- pass 1: strip */

/* Tags dropped together with their content. */
static const char *const wt_drop_tags[] = {
    "ref",     "references", "gallery",      "math",     "chem",        "ce",
    "timeline", "imagemap",  "score",        "graph",    "mapframe",    "maplink",
    "templatedata", "includeonly", "hiero",  "inputbox", "categorytree", "indicator",
    "templatestyles", "syntaxhighlight", "source", NULL};
#define WT_NDROP (sizeof wt_drop_tags / sizeof wt_drop_tags[0])

/* Tags whose content is literal text (markup inside is not interpreted). */
static const char *const wt_literal_tags[] = {"nowiki", "pre", NULL};

/* Position of the next "</name" (any case, followed by a non-name byte) at or after `from`, or n.
 * *cache works as in next_byte(). */
static size_t next_close(const char *s, size_t n, size_t from, const char *name, size_t *cache)
{
    if (*cache != WT_NONE && *cache >= from) return *cache;
    size_t nl = strlen(name);
    size_t j = from;
    *cache = n;
    while (j < n) {
        const char *p = memchr(s + j, '<', n - j);
        if (!p) break;
        j = (size_t)(p - s);
        if (j + 2 + nl <= n && s[j + 1] == '/' && ieq(s + j + 2, nl, name) &&
            (j + 2 + nl == n || !is_alnum((unsigned char)s[j + 2 + nl]))) {
            *cache = j;
            break;
        }
        j++;
    }
    return *cache;
}

/* Emit literal content with the bytes later passes interpret replaced by entities. */
static void out_escaped(struct wt_out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '{': out_str(o, "&#123;"); break;
        case '}': out_str(o, "&#125;"); break;
        case '[': out_str(o, "&#91;"); break;
        case ']': out_str(o, "&#93;"); break;
        case '|': out_str(o, "&#124;"); break;
        case '<': out_str(o, "&lt;"); break;
        case '>': out_str(o, "&gt;"); break;
        case '\'': out_str(o, "&#39;"); break;
        case '=': out_str(o, "&#61;"); break;
        case '*': out_str(o, "&#42;"); break;
        case '#': out_str(o, "&#35;"); break;
        case ':': out_str(o, "&#58;"); break;
        case ';': out_str(o, "&#59;"); break;
        case '_': out_str(o, "&#95;"); break;
        case '-': out_str(o, "&#45;"); break;
        case '&': out_str(o, "&amp;"); break;
        default: out_ch(o, s[i]);
        }
    }
}

static void pass_strip(const char *s, size_t n, struct wt_out *o)
{
    size_t gt_cache = WT_NONE, cmt_cache = WT_NONE;
    size_t close_cache[WT_NDROP];
    size_t lit_cache[2] = {WT_NONE, WT_NONE};
    for (size_t k = 0; k < WT_NDROP; k++) close_cache[k] = WT_NONE;
    size_t run = 0, i = 0;
    while (i < n) {
        if (s[i] != '<') {
            i++;
            continue;
        }
        if (i + 4 <= n && memcmp(s + i, "<!--", 4) == 0) {
            out_mem(o, s + run, i - run);
            /* find "-->" after the opener; an unterminated comment runs to the end */
            size_t j = i + 4, end = n;
            for (;;) {
                size_t d = next_byte(s, n, j, '-', &cmt_cache);
                if (d + 3 > n) break;
                if (s[d + 1] == '-' && s[d + 2] == '>') {
                    end = d + 3;
                    break;
                }
                j = d + 1;
            }
            i = run = end;
            continue;
        }
        int closing;
        size_t name, nlen;
        if (!tag_at(s, n, i, &closing, &name, &nlen)) {
            i++;
            continue;
        }
        int k = find_name(wt_drop_tags, s + name, nlen);
        int lit = k < 0 ? find_name(wt_literal_tags, s + name, nlen) : -1;
        if (k < 0 && lit < 0) {
            i++;
            continue;
        }
        size_t gt = next_byte(s, n, i, '>', &gt_cache);
        if (gt >= n) { /* no '>' anywhere after: not a tag */
            i++;
            continue;
        }
        out_mem(o, s + run, i - run);
        int self = s[gt - 1] == '/';
        size_t next = gt + 1;
        if (!closing && !self) {
            const char *tname = k >= 0 ? wt_drop_tags[k] : wt_literal_tags[lit];
            size_t cl = next_close(s, n, gt + 1, tname, k >= 0 ? &close_cache[k] : &lit_cache[lit]);
            if (cl < n) {
                size_t cgt = next_byte(s, n, cl, '>', &gt_cache);
                if (lit >= 0) {
                    if (lit == 1) out_ch(o, '\n');
                    out_escaped(o, s + gt + 1, cl - gt - 1);
                    if (lit == 1) out_ch(o, '\n');
                }
                next = cgt < n ? cgt + 1 : n;
            }
            /* an unclosed opener is dropped alone */
        }
        i = run = next;
    }
    out_mem(o, s + run, n - run);
}

/* ---------------------------------------------------------------- pass 2: templates, tables */

struct wt_open {
    size_t pos;
    unsigned char width; /* 2 "{{" or 3 "{{{"; 2 for "{|" */
    unsigned char table;
};

/* A matched block [start, end): a template, a {{{parameter}}} or a table. */
struct wt_span {
    size_t start, end;
    unsigned char open, close; /* widths of the opener and the closer */
    unsigned char table;
};

#define WT_RENDER_DEPTH 32 /* templates nested deeper are dropped, not rendered */
#define WT_MAX_PARAMS 8

/* Nonzero when s[i] is at the start of a line, ignoring blanks and ':' indentation. */
static int at_line_start(const char *s, size_t i)
{
    while (i > 0 && (is_blank((unsigned char)s[i - 1]) || s[i - 1] == ':')) i--;
    return i == 0 || s[i - 1] == '\n';
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need) c *= 2;
    void *p = realloc(*arr, c * elem);
    if (!p) return -1;
    *arr = p;
    *cap = c;
    return 0;
}

static int cmp_span(const void *a, const void *b)
{
    const struct wt_span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

struct wt_blocks {
    const char *s;
    struct wt_span *sp; /* sorted by start: a parent comes before the blocks inside it */
    size_t nsp, k;      /* k: the next span not yet emitted or skipped */
    struct wt_out *o;
};

/* Skip span k and every span inside it. */
static void skip_span(struct wt_blocks *w)
{
    size_t end = w->sp[w->k].end;
    w->k++;
    while (w->k < w->nsp && w->sp[w->k].start < end) w->k++;
}

static void emit_range(struct wt_blocks *w, size_t a, size_t b, int depth);

/* Emit a template parameter [a, b) trimmed, with the blocks inside it handled. */
static void emit_param(struct wt_blocks *w, size_t a, size_t b, int depth)
{
    while (a < b && (is_blank((unsigned char)w->s[a]) || w->s[a] == '\n')) a++;
    while (b > a && (is_blank((unsigned char)w->s[b - 1]) || w->s[b - 1] == '\n')) b--;
    emit_range(w, a, b, depth);
}

struct wt_params {
    size_t name_a, name_b;                           /* the template name */
    size_t a[WT_MAX_PARAMS], b[WT_MAX_PARAMS];       /* positional parameters */
    int n;
};

/* Split the template span k into its name and positional parameters (named ones, "x=y", are
 * left out). Pipes inside nested blocks and [[links]] do not split. */
static void split_params(struct wt_blocks *w, struct wt_params *p)
{
    const struct wt_span *t = &w->sp[w->k];
    const char *s = w->s;
    size_t i = t->start + t->open, end = t->end - t->close, c = w->k + 1;
    size_t from = i;
    int links = 0, named = 0, field = 0;
    p->n = 0;
    p->name_a = i;
    p->name_b = end;
    for (;;) {
        if (i >= end || (s[i] == '|' && links == 0)) {
            if (field == 0) p->name_b = i;
            else if (!named && p->n < WT_MAX_PARAMS) {
                p->a[p->n] = from;
                p->b[p->n] = i;
                p->n++;
            }
            if (i >= end) break;
            field++;
            named = 0;
            from = ++i;
            continue;
        }
        if (c < w->nsp && w->sp[c].start == i) { /* a nested block: jump over it */
            size_t e = w->sp[c].end;
            while (c < w->nsp && w->sp[c].start < e) c++;
            i = e;
            continue;
        }
        if (s[i] == '[' && i + 1 < end && s[i + 1] == '[') links++, i += 2;
        else if (s[i] == ']' && i + 1 < end && s[i + 1] == ']' && links > 0) links--, i += 2;
        else {
            if (s[i] == '=' && links == 0 && field > 0) named = 1;
            i++;
        }
    }
}

/* The template name, trimmed and lowercased with '_' as ' ', into out (NUL-terminated). */
static void template_name(const char *s, size_t a, size_t b, char *out, size_t cap)
{
    while (a < b && (is_blank((unsigned char)s[a]) || s[a] == '\n')) a++;
    while (b > a && (is_blank((unsigned char)s[b - 1]) || s[b - 1] == '\n')) b--;
    if (b - a > 9 && ieq(s + a, 9, "template:")) a += 9;
    size_t n = 0;
    for (; a < b && n + 1 < cap; a++) out[n++] = s[a] == '_' ? ' ' : (char)lower((unsigned char)s[a]);
    out[n] = '\0';
    if (a < b) out[0] = '\0'; /* too long to be one we know */
}

static int param_is(const char *s, const struct wt_params *p, int k, const char *lit)
{
    size_t a = p->a[k], b = p->b[k];
    while (a < b && is_blank((unsigned char)s[a])) a++;
    while (b > a && is_blank((unsigned char)s[b - 1])) b--;
    return ieq(s + a, b - a, lit);
}

/* Small integer value of a parameter, or -1. */
static long param_num(const char *s, const struct wt_params *p, int k)
{
    size_t a = p->a[k], b = p->b[k];
    long v = 0;
    while (a < b && is_blank((unsigned char)s[a])) a++;
    while (b > a && is_blank((unsigned char)s[b - 1])) b--;
    if (a == b || b - a > 6) return -1;
    for (; a < b; a++) {
        if (!is_digit((unsigned char)s[a])) return -1;
        v = v * 10 + (s[a] - '0');
    }
    return v;
}

/* A date template's first three parameters (year, month, day) as "2 January 1950". */
static void render_date(struct wt_blocks *w, const struct wt_params *p, int depth)
{
    static const char *const months[] = {"January", "February", "March",     "April",
                                         "May",     "June",     "July",      "August",
                                         "September", "October", "November", "December"};
    long m = p->n >= 2 ? param_num(w->s, p, 1) : -1, d = p->n >= 3 ? param_num(w->s, p, 2) : -1;
    if (p->n < 1) return;
    if (m >= 1 && m <= 12) {
        if (d >= 1 && d <= 31) {
            char num[8];
            snprintf(num, sizeof num, "%ld ", d);
            out_str(w->o, num);
        }
        out_str(w->o, months[m - 1]);
        out_ch(w->o, ' ');
    }
    emit_param(w, p->a[0], p->b[0], depth);
}

/* Templates whose text is part of the sentence are rendered; every other one is dropped. */
static void render_template(struct wt_blocks *w, int depth)
{
    static const char *const keep_last[] = {"nowrap", "nobr", "small", "smaller", "big", "larger",
                                            "lang", "transl", "nobold", "noitalic", "mvar", "var",
                                            "sic", "resize", "serif", "sans-serif", "not a typo",
                                            "linktext", "wikt-lang", NULL};
    static const char *const keep_first[] = {"ill", "interlanguage link", "abbr", "lang-en",
                                             "keypress", "visible anchor", "vanchor", "formatdate",
                                             "baseball year", "year", NULL};
    static const char *const lists[] = {"ubl", "ublist", "unbulleted list", "hlist", "plainlist",
                                        "flatlist", "bulleted list", "nowrap list", NULL};
    static const char *const dates[] = {"birth date", "birth date and age", "death date",
                                        "death date and age", "start date", "end date",
                                        "start date and age", "dob", "date", "dts", NULL};
    static const struct {
        const char *name, *text;
    } fixed[] = {{"nbsp", " "}, {"snd", " \xe2\x80\x93 "}, {"spaced ndash", " \xe2\x80\x93 "},
                 {"ndash", "\xe2\x80\x93"}, {"mdash", "\xe2\x80\x94"}, {"mdashb", "\xe2\x80\x94"},
                 {"'", "'"},
                 {"`", "'"}, {"-", ""}, {"dash", "\xe2\x80\x93"}};
    struct wt_params p;
    char name[48];
    const struct wt_span *t = &w->sp[w->k];
    size_t end = t->end;
    if (t->table || t->open != 2 || depth >= WT_RENDER_DEPTH) {
        skip_span(w);
        return;
    }
    split_params(w, &p);
    template_name(w->s, p.name_a, p.name_b, name, sizeof name);
    w->k++; /* the nested spans are emitted or skipped below */
    for (size_t f = 0; f < sizeof fixed / sizeof fixed[0]; f++)
        if (strcmp(name, fixed[f].name) == 0) out_str(w->o, fixed[f].text);
    if (name[0] && p.n > 0) {
        if (find_name(keep_last, name, strlen(name)) >= 0 ||
            (strncmp(name, "lang-", 5) == 0 && strcmp(name, "lang-en") != 0))
            emit_param(w, p.a[p.n - 1], p.b[p.n - 1], depth + 1);
        else if (find_name(keep_first, name, strlen(name)) >= 0)
            emit_param(w, p.a[0], p.b[0], depth + 1);
        else if (find_name(lists, name, strlen(name)) >= 0 || strcmp(name, "sortname") == 0) {
            int sortname = name[0] == 's';
            for (int k = 0; k < p.n && (!sortname || k < 2); k++) {
                if (k) out_str(w->o, sortname ? " " : ", ");
                emit_param(w, p.a[k], p.b[k], depth + 1);
            }
        } else if (strcmp(name, "isbn") == 0) {
            out_str(w->o, "ISBN ");
            emit_param(w, p.a[0], p.b[0], depth + 1);
        } else if (strcmp(name, "convert") == 0 || strcmp(name, "cvt") == 0) {
            /* {{convert|120|km|mi}} -> "120 km"; {{convert|1|to|3|km}} -> "1 to 3 km" */
            int upto = p.n >= 4 && (param_is(w->s, &p, 1, "to") || param_is(w->s, &p, 1, "-") ||
                                    param_is(w->s, &p, 1, "and") || param_is(w->s, &p, 1, "or"))
                           ? 4
                           : (p.n >= 2 ? 2 : 1);
            for (int k = 0; k < upto; k++) {
                if (k) out_ch(w->o, ' ');
                emit_param(w, p.a[k], p.b[k], depth + 1);
            }
        } else if (find_name(dates, name, strlen(name)) >= 0) {
            render_date(w, &p, depth + 1);
        } else if (strcmp(name, "as of") == 0) {
            out_str(w->o, "As of ");
            render_date(w, &p, depth + 1);
        } else if (strcmp(name, "circa") == 0 || strcmp(name, "c.") == 0) {
            out_str(w->o, "c. ");
            emit_param(w, p.a[0], p.b[0], depth + 1);
        } else if (strcmp(name, "frac") == 0 || strcmp(name, "sfrac") == 0) {
            for (int k = 0; k < p.n && k < 3; k++) {
                if (k) out_ch(w->o, k == p.n - 1 ? '/' : ' ');
                emit_param(w, p.a[k], p.b[k], depth + 1);
            }
        } else if (strcmp(name, "us$") == 0 || strcmp(name, "usd") == 0) {
            out_str(w->o, "US$");
            emit_param(w, p.a[0], p.b[0], depth + 1);
        } else if (strcmp(name, "gbp") == 0 || strcmp(name, "\xc2\xa3") == 0) {
            out_str(w->o, "\xc2\xa3");
            emit_param(w, p.a[0], p.b[0], depth + 1);
        } else if (strcmp(name, "eur") == 0 || strcmp(name, "\xe2\x82\xac") == 0) {
            out_str(w->o, "\xe2\x82\xac");
            emit_param(w, p.a[0], p.b[0], depth + 1);
        }
    }
    while (w->k < w->nsp && w->sp[w->k].start < end) w->k++; /* whatever was not emitted */
}

/* Emit s[a, b) with the blocks starting inside it rendered or dropped. Blocks starting before a
 * (inside parts of a template that were not emitted) are skipped. */
static void emit_range(struct wt_blocks *w, size_t a, size_t b, int depth)
{
    while (w->k < w->nsp && w->sp[w->k].start < a) skip_span(w);
    size_t pos = a;
    while (w->k < w->nsp && w->sp[w->k].start < b) {
        const struct wt_span *t = &w->sp[w->k];
        size_t end = t->end < b ? t->end : b;
        out_mem(w->o, w->s + pos, t->start - pos);
        if (t->end > b) skip_span(w); /* cannot happen with nested spans; be safe */
        else render_template(w, depth);
        pos = end;
    }
    out_mem(w->o, w->s + pos, b - pos);
}

static void pass_blocks(const char *s, size_t n, struct wt_out *o)
{
    struct wt_open *st = NULL;
    struct wt_span *sp = NULL;
    size_t nst = 0, stcap = 0, nsp = 0, spcap = 0, nbrace = 0;
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '{' && i + 1 < n && s[i + 1] == '|' && at_line_start(s, i)) {
            if (grow((void **)&st, &stcap, nst + 1, sizeof *st) != 0) goto oom;
            st[nst++] = (struct wt_open){i, 2, 1};
            i += 2;
        } else if (c == '|' && i + 1 < n && s[i + 1] == '}' && nst > 0 && st[nst - 1].table &&
                   at_line_start(s, i)) {
            if (grow((void **)&sp, &spcap, nsp + 1, sizeof *sp) != 0) goto oom;
            sp[nsp++] = (struct wt_span){st[nst - 1].pos, i + 2, 2, 2, 1};
            nst--;
            i += 2;
        } else if (c == '{') {
            size_t k = 0;
            while (i + k < n && s[i + k] == '{') k++;
            size_t p = i;
            while (k >= 2) {
                unsigned char w = k == 3 ? 3 : 2;
                if (grow((void **)&st, &stcap, nst + 1, sizeof *st) != 0) goto oom;
                st[nst++] = (struct wt_open){p, w, 0};
                nbrace++;
                p += w;
                k -= w;
            }
            i = p + k;
        } else if (c == '}') {
            size_t m = 0;
            while (i + m < n && s[i + m] == '}') m++;
            size_t q = i;
            while (m >= 2 && nbrace > 0) {
                while (st[nst - 1].table) nst--; /* tables left open inside a template */
                struct wt_open top = st[--nst];
                nbrace--;
                size_t use = (top.width == 3 && m >= 3) ? 3 : 2;
                if (grow((void **)&sp, &spcap, nsp + 1, sizeof *sp) != 0) goto oom;
                sp[nsp++] = (struct wt_span){top.pos, q + use, top.width, (unsigned char)use, 0};
                q += use;
                m -= use;
            }
            i = q + m;
        } else {
            i++;
        }
    }
    if (nsp > 1) qsort(sp, nsp, sizeof *sp, cmp_span);
    struct wt_blocks w = {s, sp, nsp, 0, o};
    emit_range(&w, 0, n, 0);
    free(st);
    free(sp);
    return;
oom:
    o->oom = 1;
    free(st);
    free(sp);
}

/* ---------------------------------------------------------------- pass 3: lines */

static void pass_lines(const char *s, size_t n, struct wt_out *o)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - s) : n; /* line is [i, e) */
        size_t a = i, b = e;
        while (a < b && is_blank((unsigned char)s[a])) a++;
        while (b > a && is_blank((unsigned char)s[b - 1])) b--;
        if (b > a && s[a] == '=' && s[b - 1] == '=') {
            size_t l = 0, r = 0;
            while (a + l < b && s[a + l] == '=') l++;
            while (b - r > a + l && s[b - 1 - r] == '=') r++;
            size_t lv = l < r ? l : r;
            if (lv > 0 && a + lv < b - lv) {
                out_str(o, "\n");
                out_mem(o, s + a + lv, (b - lv) - (a + lv));
                out_str(o, "\n\n");
                i = nl ? e + 1 : n;
                continue;
            }
        }
        if (b - a >= 4 && memcmp(s + a, "----", 4) == 0) {
            a += 4;
            while (a < b && s[a] == '-') a++;
        }
        if (a < b && (s[a] == '*' || s[a] == '#' || s[a] == ':' || s[a] == ';')) {
            while (a < b && (s[a] == '*' || s[a] == '#' || s[a] == ':' || s[a] == ';')) a++;
            while (a < b && is_blank((unsigned char)s[a])) a++;
        }
        out_mem(o, s + a, b - a);
        if (nl) out_ch(o, '\n');
        i = nl ? e + 1 : n;
    }
}

/* ---------------------------------------------------------------- pass 4: inline */

/* Namespaces whose links are not part of the text (English and a few other wikis). */
static const char *const wt_drop_ns[] = {
    "file",      "image",   "category", "media",      "datei",     "bild",     "kategorie",
    "fichier",   "catégorie", "archivo", "imagen",    "categoría", "ficheiro", "categoria",
    "immagine",  "bestand", "categorie", "plik",      "kategoria", "afbeelding", NULL};

/* Tags removed while their content stays; block ones become a line break. */
static const char *const wt_inline_tags[] = {
    "b", "i", "u", "s", "em", "strong", "span", "small", "big", "sup", "sub", "font", "code", "tt",
    "abbr", "cite", "q", "del", "ins", "mark", "var", "kbd", "samp", "dfn", "strike", "wbr",
    "onlyinclude", "noinclude", "section", "bdi", "bdo", "ruby", "rb", "rt", "rp", "time", "data",
    "a", NULL};
static const char *const wt_block_tags[] = {
    "br", "p", "div", "center", "blockquote", "poem", "ol", "ul", "li", "dl", "dt", "dd", "table",
    "tr", "td", "th", "caption", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "figure", "figcaption",
    "video", "audio", "canvas", NULL};

struct wt_named {
    const char *name;
    uint32_t cp;
};
static const struct wt_named wt_entities[] = {
    {"nbsp", ' '},     {"amp", '&'},       {"lt", '<'},        {"gt", '>'},
    {"quot", '"'},     {"apos", '\''},     {"ndash", 0x2013},  {"mdash", 0x2014},
    {"minus", 0x2212}, {"hellip", 0x2026}, {"times", 0xD7},    {"deg", 0xB0},
    {"thinsp", ' '},   {"ensp", ' '},      {"emsp", ' '},      {"shy", 0},
    {"lsquo", 0x2018}, {"rsquo", 0x2019},  {"ldquo", 0x201C},  {"rdquo", 0x201D},
    {"laquo", 0xAB},   {"raquo", 0xBB},    {"middot", 0xB7},   {"bull", 0x2022},
    {"copy", 0xA9},    {"reg", 0xAE},      {"trade", 0x2122},  {"euro", 0x20AC},
    {"pound", 0xA3},   {"plusmn", 0xB1},   {"frac12", 0xBD},   {"prime", 0x2032},
    {"zwj", 0},        {"zwnj", 0},        {"lrm", 0},         {"rlm", 0},
    {NULL, 0}};

/* Decode an entity at s[i] == '&'. Returns its length (0 when it is not one). */
static size_t entity(const char *s, size_t n, size_t i, struct wt_out *o)
{
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
        j++;
        int hex = j < n && (s[j] == 'x' || s[j] == 'X');
        if (hex) j++;
        uint32_t cp = 0;
        size_t d0 = j;
        while (j < n && j - d0 < 8) {
            int c = (unsigned char)s[j];
            if (is_digit(c)) cp = cp * (hex ? 16 : 10) + (uint32_t)(c - '0');
            else if (hex && lower(c) >= 'a' && lower(c) <= 'f') cp = cp * 16 + (uint32_t)(lower(c) - 'a' + 10);
            else break;
            j++;
        }
        if (j == d0 || j >= n || s[j] != ';') return 0;
        out_cp(o, cp);
        return j + 1 - i;
    }
    size_t a = j;
    while (j < n && j - a < 10 && is_alnum((unsigned char)s[j])) j++;
    if (j == a || j >= n || s[j] != ';') return 0;
    for (int k = 0; wt_entities[k].name; k++) {
        if (strlen(wt_entities[k].name) == j - a && memcmp(wt_entities[k].name, s + a, j - a) == 0) {
            if (wt_entities[k].cp) out_cp(o, wt_entities[k].cp);
            return j + 1 - i;
        }
    }
    return 0;
}

static int url_scheme(const char *s, size_t n)
{
    static const char *const schemes[] = {"http://", "https://", "ftp://", "ftps://", "//",
                                          "mailto:", "news:",    "irc://", "sftp://", NULL};
    for (int k = 0; schemes[k]; k++) {
        size_t l = strlen(schemes[k]);
        if (n >= l && ieq(s, l, schemes[k])) return 1;
    }
    return 0;
}

/* A link's position and its matching "]]" (WT_NONE when unbalanced). */
struct wt_link {
    size_t open, close;
};

/* Pair every "[[" with its "]]" by one scan with a stack. *links is in opening order. */
static int match_links(const char *s, size_t n, struct wt_link **links, size_t *nlinks)
{
    size_t *st = NULL, nst = 0, stcap = 0, cap = 0;
    *links = NULL;
    *nlinks = 0;
    for (size_t i = 0; i + 1 < n;) {
        if (s[i] == '[' && s[i + 1] == '[') {
            if (grow((void **)links, &cap, *nlinks + 1, sizeof **links) != 0 ||
                grow((void **)&st, &stcap, nst + 1, sizeof *st) != 0)
                goto oom;
            (*links)[*nlinks] = (struct wt_link){i, WT_NONE};
            st[nst++] = (*nlinks)++;
            i += 2;
        } else if (s[i] == ']' && s[i + 1] == ']' && nst > 0) {
            (*links)[st[--nst]].close = i;
            i += 2;
        } else {
            i++;
        }
    }
    free(st);
    return 0;
oom:
    free(st);
    return -1;
}

/* Nonzero when the link target [a, b) is in a dropped namespace or is an interlanguage link. */
static int link_dropped(const char *s, size_t a, size_t b, int piped)
{
    while (a < b && is_blank((unsigned char)s[a])) a++;
    const char *colon = memchr(s + a, ':', b - a);
    if (!colon) return 0;
    size_t pl = (size_t)(colon - (s + a));
    while (pl > 0 && is_blank((unsigned char)s[a + pl - 1])) pl--;
    if (find_name(wt_drop_ns, s + a, pl) >= 0) return 1;
    if (piped || pl < 2 || pl > 3) return 0; /* "[[fr:Paris]]" sits in the language list */
    for (size_t k = 0; k < pl; k++)
        if (s[a + k] < 'a' || s[a + k] > 'z') return 0;
    return 1;
}

struct wt_pending {
    size_t pos, width; /* bytes to skip when the scan reaches pos */
};

static void pass_inline(const char *s, size_t n, struct wt_out *o)
{
    struct wt_link *links = NULL;
    size_t nlinks = 0, li = 0;
    struct wt_pending *pend = NULL;
    size_t npend = 0, pendcap = 0;
    size_t gt_cache = WT_NONE, rb_cache = WT_NONE, nl_cache = WT_NONE;
    if (match_links(s, n, &links, &nlinks) != 0) goto oom;
    size_t run = 0, i = 0;
    while (i < n) {
        while (npend > 0 && pend[npend - 1].pos < i) npend--;
        if (npend > 0 && pend[npend - 1].pos == i) {
            out_mem(o, s + run, i - run);
            i = run = i + pend[--npend].width;
            continue;
        }
        char c = s[i];
        if (c == '[' && i + 1 < n && s[i + 1] == '[') {
            while (li < nlinks && links[li].open < i) li++;
            if (li < nlinks && links[li].open == i && links[li].close != WT_NONE) {
                size_t cl = links[li].close;
                const char *pipe = memchr(s + i + 2, '|', cl - i - 2);
                size_t tend = pipe ? (size_t)(pipe - s) : cl;
                out_mem(o, s + run, i - run);
                if (link_dropped(s, i + 2, tend, pipe != NULL)) {
                    i = run = cl + 2;
                    continue;
                }
                size_t from = i + 2;
                if (pipe && (size_t)(pipe - s) + 1 < cl) from = (size_t)(pipe - s) + 1;
                else if (pipe) cl = tend; /* pipe trick: show the target */
                while (from < cl && (s[from] == ':' || is_blank((unsigned char)s[from]))) from++;
                if (grow((void **)&pend, &pendcap, npend + 1, sizeof *pend) != 0) goto oom;
                pend[npend++] = (struct wt_pending){cl, pipe && cl == tend ? links[li].close + 2 - cl : 2};
                i = run = from;
                continue;
            }
        } else if (c == '[' && url_scheme(s + i + 1, n - i - 1)) {
            size_t rb = next_byte(s, n, i, ']', &rb_cache);
            size_t nl = next_byte(s, n, i, '\n', &nl_cache);
            if (rb < n && rb < nl) {
                out_mem(o, s + run, i - run);
                size_t sp = i + 1;
                while (sp < rb && s[sp] != ' ' && s[sp] != '\t') sp++;
                if (sp < rb) {
                    if (grow((void **)&pend, &pendcap, npend + 1, sizeof *pend) != 0) goto oom;
                    pend[npend++] = (struct wt_pending){rb, 1};
                    i = run = sp + 1;
                } else {
                    i = run = rb + 1;
                }
                continue;
            }
        } else if (c == '<') {
            int closing;
            size_t name, nlen;
            if (tag_at(s, n, i, &closing, &name, &nlen)) {
                int blk = find_name(wt_block_tags, s + name, nlen) >= 0;
                if (blk || find_name(wt_inline_tags, s + name, nlen) >= 0) {
                    size_t gt = next_byte(s, n, i, '>', &gt_cache);
                    if (gt < n) {
                        out_mem(o, s + run, i - run);
                        if (blk) out_ch(o, '\n');
                        i = run = gt + 1;
                        continue;
                    }
                }
            }
        } else if (c == '\'' && i + 1 < n && s[i + 1] == '\'') {
            size_t k = 0;
            while (i + k < n && s[i + k] == '\'') k++;
            out_mem(o, s + run, i - run);
            if (k == 4) out_ch(o, '\'');
            for (size_t x = 5; x < k; x++) out_ch(o, '\'');
            i = run = i + k;
            continue;
        } else if (c == '&') {
            out_mem(o, s + run, i - run);
            run = i;
            size_t skip = entity(s, n, i, o);
            if (skip) {
                i = run = i + skip;
                continue;
            }
        } else if (c == '_' && i + 4 < n && s[i + 1] == '_' && s[i + 2] >= 'A' && s[i + 2] <= 'Z') {
            size_t j = i + 2;
            while (j < n && j - i < 40 && s[j] >= 'A' && s[j] <= 'Z') j++;
            if (j + 1 < n && s[j] == '_' && s[j + 1] == '_') {
                out_mem(o, s + run, i - run);
                i = run = j + 2;
                continue;
            }
        }
        i++;
    }
    out_mem(o, s + run, n - run);
    free(links);
    free(pend);
    return;
oom:
    o->oom = 1;
    free(links);
    free(pend);
}

/* ---------------------------------------------------------------- pass 5: tidy */

static void pass_tidy(const char *s, size_t n, struct wt_out *o)
{
    size_t start = o->b->len;
    int space = 0, nls = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            space = 1;
        } else if (c == '\n') {
            nls++;
            space = 0;
        } else {
            if (o->b->len > start) {
                if (nls) out_mem(o, "\n\n", nls > 1 ? 2 : 1);
                else if (space) out_ch(o, ' ');
            }
            nls = space = 0;
            out_ch(o, c);
        }
    }
}

/* Some exports carry wikitext escaped once more ("&lt;ref&gt;"): with no '<' at all but an
 * "&lt;", decode the four XML entities first. Returns 1 when `o` holds the decoded text. */
static int unescape_export(const char *s, size_t n, struct wt_out *o)
{
    if (memchr(s, '<', n) || !memmem(s, n, "&lt;", 4)) return 0;
    static const char *const ents[] = {"&lt;", "<", "&gt;", ">", "&quot;", "\"", "&amp;", "&", NULL};
    size_t run = 0, i = 0;
    while (i < n) {
        const char *p = memchr(s + i, '&', n - i);
        if (!p) break;
        i = (size_t)(p - s);
        int k = 0;
        for (; ents[k]; k += 2)
            if (n - i >= strlen(ents[k]) && memcmp(s + i, ents[k], strlen(ents[k])) == 0) break;
        if (!ents[k]) {
            i++;
            continue;
        }
        out_mem(o, s + run, i - run);
        out_str(o, ents[k + 1]);
        i = run = i + strlen(ents[k]);
    }
    out_mem(o, s + run, n - run);
    return 1;
}

int corpus_wikitext_text(const char *wt, size_t len, struct buf *text, struct err *err)
{
    struct buf a = {0}, b = {0}, u = {0};
    struct wt_out oa = {&a, 0}, ob = {&b, 0}, ot = {text, 0}, ou = {&u, 0};
    int rc = ERR_OK;
    if (!wt || len == 0) return ERR_OK;
    if (unescape_export(wt, len, &ou)) {
        if (ou.oom) goto oom;
        wt = u.data;
        len = u.len;
        if (len == 0) goto done;
    }
    pass_strip(wt, len, &oa);
    if (oa.oom) goto oom;
    if (a.len == 0) goto done;
    pass_blocks(a.data, a.len, &ob);
    if (ob.oom) goto oom;
    if (b.len == 0) goto done;
    buf_reset(&a);
    pass_lines(b.data, b.len, &oa);
    if (oa.oom) goto oom;
    if (a.len == 0) goto done;
    buf_reset(&b);
    pass_inline(a.data, a.len, &ob);
    if (ob.oom) goto oom;
    if (b.len == 0) goto done;
    pass_tidy(b.data, b.len, &ot);
    if (ot.oom) goto oom;
    goto done;
oom:
    rc = err_set(err, ERR_NOMEM, "wikitext: out of memory (%zu bytes of input)", len);
done:
    buf_cleanup(&a);
    buf_cleanup(&b);
    buf_cleanup(&u);
    return rc;
}
