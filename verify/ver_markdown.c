/* ver_markdown.c - the Markdown reader: footnotes [^n] with `[^n]: definition`, inline links
 * [text](http...) and reference links [text][label] with `[label]: http...`, which cite the sentence
 * they sit in (labels compared without case). Headings give sections; list items, block
 * quotes and paragraphs give blocks; a table row holding a citation becomes its own claim; fenced
 * code and images are dropped; `inline code` is text, never a citation. */
#include "ver_int.h"

#include <stdlib.h>
#include <string.h>

struct span {
    size_t a, b;
};

struct defs {
    struct span *s; /* (n) footnote definition lines to skip, in order */
    size_t n, cap;
};

static size_t line_end(const char *s, size_t i, size_t len)
{
    const char *e = memchr(s + i, '\n', len - i);
    return e ? (size_t)(e - s) : len;
}

size_t ver_md_code_end(const char *s, size_t i, size_t len)
{
    size_t k = 0;
    while (i + k < len && s[i + k] == '`') k++;
    size_t lim = len - (i + k) > VER_MD_CODE_MAX ? i + k + VER_MD_CODE_MAX : len;
    for (size_t j = i + k; j < lim && s[j] != '\n';) {
        if (s[j] != '`') {
            j++;
            continue;
        }
        size_t m = 0;
        while (j + m < len && s[j + m] == '`') m++;
        if (m == k) return j + m;
        j += m;
    }
    return 0;
}

int ver_md_fence(const char *s, size_t a, size_t e)
{
    while (a < e && (s[a] == ' ' || s[a] == '\t')) a++;
    return e - a >= 3 && (memcmp(s + a, "```", 3) == 0 || memcmp(s + a, "~~~", 3) == 0);
}

static int is_blank(const char *s, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* Match re at exactly offset i of [0, b). Returns 1 and the ovector. */
static int match_at(struct vx *v, pcre2_code *re, size_t i, size_t b, PCRE2_SIZE **ov)
{
    int m = pcre2_match(re, (PCRE2_SPTR)v->src, b, i, PCRE2_ANCHORED, v->x->md, NULL);
    if (m <= 0) return 0;
    *ov = pcre2_get_ovector_pointer(v->x->md);
    return 1;
}

/* Reference-style link definitions live in this private group (the citation's group stays NULL). */
#define MD_LINK_GROUP "\x1c"

/* Lower-case copy of the label s[a..b) into out (cap bytes); returns its length (0: too long). */
static size_t lower_label(const char *s, size_t a, size_t b, char *out, size_t cap)
{
    if (b - a >= cap) return 0;
    for (size_t i = a; i < b; i++) out[i - a] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    return b - a;
}

static int span_cmp(const void *x, const void *y)
{
    const struct span *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}

static int add_span(struct vx *v, struct defs *d, size_t a, size_t b)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        struct span *q = realloc(d->s, nc * sizeof *q);
        if (!q) return ver_vx_fail(v, ERR_NOMEM, "extract: out of memory");
        d->s = q;
        d->cap = nc;
    }
    d->s[d->n++] = (struct span){a, b};
    return 0;
}

static void inline_text(struct vx *v, size_t a, size_t b, int depth);

static void inline_scratch(struct vx *v, size_t a, size_t b) { inline_text(v, a, b, 1); }

/* Plain text of inline Markdown [a,b) (NULL when empty). */
static char *md_plain(struct vx *v, size_t a, size_t b) { return ver_vx_scratch(v, inline_scratch, a, b); }

static void inline_text(struct vx *v, size_t a, size_t b, int depth)
{
    const char *s = v->src;
    size_t i = a;
    while (i < b && !v->rc) {
        char c = s[i];
        PCRE2_SIZE *ov;
        if (c == '\\' && i + 1 < b) {
            ver_vx_emit(v, s + i + 1, 1, i + 1, 1);
            i += 2;
            continue;
        }
        if (c == '[' && i + 1 < b && s[i + 1] == '^') { /* footnote reference */
            size_t e = i + 2;
            while (e < b && e - i < 200 && s[e] != ']' && s[e] != ' ' && s[e] != '\n') e++;
            if (e < b && s[e] == ']' && e > i + 2) {
                int ri = ver_vx_ref(v, "", 0, s + i + 2, e - i - 2);
                if (ri >= 0) ver_vx_anchor(v, ri, NULL, 0);
                i = e + 1;
                if (i < b && s[i] != ' ' && s[i] != '\n' && s[i] != '.' && s[i] != ',') ver_vx_emit(v, " ", 1, i, 0);
                continue;
            }
        }
        if (c == '[' && depth < 4 && match_at(v, v->x->re_md_reflink, i, b, &ov)) { /* [text][label] */
            size_t end = ov[1], ta = ov[2], tb = ov[3], la = ov[4], lb = ov[5];
            if (lb == la) { /* [text][]: the text is the label */
                la = ta;
                lb = tb;
            }
            char label[256];
            size_t ll = lower_label(s, la, lb, label, sizeof label);
            int ri = ll ? ver_vx_ref_find(v, MD_LINK_GROUP, 1, label, ll) : -1;
            if (ri >= 0) {
                inline_text(v, ta, tb, depth + 1);
                if (!v->defonly) {
                    if (!v->refs[ri].cit.title) v->refs[ri].cit.title = md_plain(v, ta, tb);
                    ver_vx_anchor(v, ri, NULL, 0);
                }
                i = end;
                continue;
            }
        }
        if ((c == '[' || (c == '!' && i + 1 < b && s[i + 1] == '[')) && depth < 4 &&
            match_at(v, v->x->re_md_link, i, b, &ov)) {
            size_t end = ov[1], ta = ov[4], tb = ov[5], ua = ov[6], ub = ov[7];
            int image = ov[3] > ov[2];
            if (!image) {
                inline_text(v, ta, tb, depth + 1);
                if (!v->defonly) {
                    int ri = ver_vx_ref(v, "", 0, NULL, 0);
                    if (ri < 0) return;
                    v->refs[ri].defined = 1;
                    v->refs[ri].cit.url = ver_vx_strndup(v, s + ua, ub - ua);
                    v->refs[ri].cit.raw = ver_vx_strndup(v, s + i, end - i);
                    v->refs[ri].cit.title = md_plain(v, ta, tb);
                    ver_vx_anchor(v, ri, NULL, 0);
                }
            }
            i = end;
            continue;
        }
        if (c == '<' && i + 3 < b && memcmp(s + i, "<!--", 4) == 0) {
            const char *e = memmem(s + i + 4, b - i - 4, "-->", 3);
            i = e ? (size_t)(e - s) + 3 : b;
            continue;
        }
        if (c == '`') { /* inline code: its text as written, nothing in it cites */
            size_t e = ver_md_code_end(s, i, b), k = 0;
            while (i + k < b && s[i + k] == '`') k++;
            if (e) {
                size_t ca = i + k, cb = e - k;
                if (cb - ca >= 2 && s[ca] == ' ' && s[cb - 1] == ' ') ca++, cb--;
                ver_vx_emit(v, s + ca, cb - ca, ca, 1);
            }
            i = e ? e : i + k;
            continue;
        }
        if (c == '*' || (c == '_' && i + 1 < b && s[i + 1] == '_')) {
            i += c == '_' ? 2 : 1;
            continue;
        }
        ver_vx_emit(v, s + i, 1, i, 1);
        i++;
    }
}

/* Collect footnote definitions: entries defined from `[^label]: text` (plus indented
 * continuation lines); their spans go to d so the body pass skips them. */
static void read_defs(struct vx *v, struct defs *d)
{
    const char *s = v->src;
    size_t off = 0;
    while (off < v->len && !v->rc) {
        int m = pcre2_match(v->x->re_md_def, (PCRE2_SPTR)s, v->len, off, 0, v->x->md, NULL);
        if (m <= 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(v->x->md);
        size_t start = ov[0], la = ov[2], lb = ov[3], ca = ov[1];
        size_t e = line_end(s, ca, v->len);
        while (e < v->len) { /* continuation lines are indented */
            size_t n = e + 1;
            if (n < v->len && (s[n] == '\t' || (n + 1 < v->len && s[n] == ' ' && s[n + 1] == ' ')) &&
                !is_blank(s, n, line_end(s, n, v->len)))
                e = line_end(s, n, v->len);
            else
                break;
        }
        if (add_span(v, d, start, e)) return;
        int ri = ver_vx_ref(v, "", 0, s + la, lb - la);
        if (ri < 0) return;
        if (!v->refs[ri].defined) {
            v->refs[ri].defined = 1;
            v->refs[ri].cit.raw = ver_vx_strndup(v, s + ca, e - ca);
            PCRE2_SIZE *lo;
            size_t ua, ub;
            /* the URL: of the first link, else the first bare URL */
            for (size_t k = ca; k < e; k++) {
                if (s[k] == '[' && match_at(v, v->x->re_md_link, k, e, &lo)) {
                    v->refs[ri].cit.url = ver_vx_strndup(v, s + lo[6], lo[7] - lo[6]);
                    break;
                }
            }
            if (!v->refs[ri].cit.url && ver_vx_find_url(v, s, ca, e, &ua, &ub))
                v->refs[ri].cit.url = ver_vx_strndup(v, s + ua, ub - ua);
            v->refs[ri].cit.title = md_plain(v, ca, e);
        }
        off = e > off ? e : off + 1;
    }
    /* reference-style link definitions: [label]: http://url "title" */
    off = 0;
    while (off < v->len && !v->rc) {
        int m = pcre2_match(v->x->re_md_refdef, (PCRE2_SPTR)s, v->len, off, 0, v->x->md, NULL);
        if (m <= 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(v->x->md);
        size_t start = ov[0], end = ov[1], la = ov[2], lb = ov[3], ua = ov[4], ub = ov[5];
        size_t ta = m > 3 ? ov[6] : (size_t)-1, tb = m > 3 ? ov[7] : (size_t)-1;
        if (add_span(v, d, start, end)) return;
        char label[256];
        size_t ll = lower_label(s, la, lb, label, sizeof label);
        int ri = ll ? ver_vx_ref(v, MD_LINK_GROUP, 1, label, ll) : -1;
        if (ri >= 0 && !v->refs[ri].defined) {
            struct vx_ref *r = &v->refs[ri];
            r->defined = 1;
            free(r->cit.group);
            r->cit.group = NULL;
            r->cit.url = ver_vx_strndup(v, s + ua, ub - ua);
            r->cit.raw = ver_vx_strndup(v, s + start, end - start);
            if (ta != (size_t)-1 && tb > ta) r->cit.title = ver_vx_strndup(v, s + ta, tb - ta);
        }
        off = end > off ? end : off + 1;
    }
    if (d->n > 1) qsort(d->s, d->n, sizeof *d->s, span_cmp);
}

int ver_md_read(struct vx *v)
{
    const char *s = v->src;
    struct defs d = {0};
    read_defs(v, &d);
    size_t di = 0;
    int fence = 0;
    for (size_t i = 0; i < v->len && !v->rc;) {
        size_t e = line_end(s, i, v->len), next = e + 1;
        while (di < d.n && d.s[di].b < i) di++;
        if (di < d.n && i >= d.s[di].a && i < d.s[di].b) { /* a definition */
            i = d.s[di].b + 1;
            continue;
        }
        size_t a = i;
        while (a < e && (s[a] == ' ' || s[a] == '\t')) a++;
        if (ver_md_fence(s, a, e)) {
            fence = !fence;
            ver_vx_break(v, 0);
            i = next;
            continue;
        }
        if (fence) {
            i = next;
            continue;
        }
        if (is_blank(s, a, e)) {
            ver_vx_break(v, 0);
            i = next;
            continue;
        }
        if (s[a] == '#') {
            size_t h = a;
            while (h < e && s[h] == '#') h++;
            if (h - a <= 6 && (h == e || s[h] == ' ' || s[h] == '\t')) {
                size_t te = e;
                while (te > h && (s[te - 1] == '#' || s[te - 1] == ' ' || s[te - 1] == '\t' || s[te - 1] == '\r')) te--;
                char *name = md_plain(v, h, te);
                ver_vx_section(v, name ? name : "", name ? strlen(name) : 0);
                free(name);
                i = next;
                continue;
            }
        }
        if (s[a] == '|') { /* a table row: a claim of its own when it cites */
            int sep = 1;
            for (size_t k = a; k < e; k++)
                if (!strchr("|-: \t\r", s[k])) sep = 0;
            if (!sep) {
                struct vx_mark m;
                ver_vx_save(v, &m);
                ver_vx_break(v, 1);
                size_t cs = a + 1;
                int cells = 0;
                for (size_t k = a + 1; k <= e; k++) {
                    if (k == e || (s[k] == '|' && s[k - 1] != '\\')) {
                        if (k > cs && !is_blank(s, cs, k)) {
                            if (cells++) ver_vx_emit(v, "; ", 2, cs, 0);
                            inline_text(v, cs, k, 0);
                        }
                        cs = k + 1;
                    }
                }
                ver_vx_break(v, m.cur_field);
                if (v->nanchors == m.nanchors) ver_vx_restore(v, &m);
            }
            i = next;
            continue;
        }
        /* block quotes, list items, rules */
        size_t t = a;
        while (t < e && s[t] == '>') {
            t++;
            while (t < e && s[t] == ' ') t++;
        }
        int item = 0;
        if (t + 1 < e && (s[t] == '-' || s[t] == '*' || s[t] == '+') && s[t + 1] == ' ') {
            t += 2;
            item = 1;
        } else {
            size_t k = t;
            while (k < e && k - t < 9 && s[k] >= '0' && s[k] <= '9') k++;
            if (k > t && k + 1 < e && (s[k] == '.' || s[k] == ')') && s[k + 1] == ' ') {
                t = k + 2;
                item = 1;
            }
        }
        if (!item && e - t >= 3) {
            int rule = 1;
            for (size_t k = t; k < e; k++)
                if (!strchr("-*_= \t\r", s[k])) rule = 0;
            if (rule) {
                ver_vx_break(v, 0);
                i = next;
                continue;
            }
        }
        if (item) ver_vx_break(v, 0);
        inline_text(v, t, e, 0);
        ver_vx_emit(v, " ", 1, e, 0);
        i = next;
    }
    free(d.s);
    return v->rc;
}
