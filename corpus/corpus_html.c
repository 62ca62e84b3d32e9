/* corpus_html.c - HTML pages reduced to readable text with libxml2's forgiving HTML parser, under
 * one parse budget (size, attributes per element, time) for every caller: fetched pages, folder
 * files, request bodies.
 *
 * libxml2 is never given the page as it came. A linear tokenizer here rewrites it first: every
 * start tag re-serialised with at most max_attrs attributes, each value double-quoted and escaped;
 * every end tag as </name>; comments, doctypes and processing instructions dropped; every other
 * '<' escaped, in script and style too. So each '<' libxml2 sees opens a tag we wrote, whatever
 * its own tokenizer does with odd markup, and its quadratic duplicate-attribute check runs over at
 * most max_attrs names. The charset is decided here too (UTF-8 when the bytes are, else an
 * ASCII-compatible declared one, else windows-1252), so no declared UTF-7 or UTF-16 can turn
 * other bytes into markup. A deadline is checked in the SAX callbacks and in the tree walk. */
#include "ascii.h"
#include "utf8.h"
#include "corpus.h"

#include <limits.h>
#include <string.h>
#include <time.h>

#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

/* Elements whose whole subtree is not page text. */
static const char *const html_skip[] = {
    "script", "style", "noscript", "nav",    "header", "footer", "aside",  "form",   "svg",
    "template", "iframe", "head",  "object", "embed",  "select", "button", "canvas", "map",
    "video",  "audio",  "math",     NULL};

/* Elements that end a paragraph (2) or a line (1). Anything else is inline. */
struct html_block {
    const char *name;
    int level;
};
static const struct html_block html_blocks[] = {
    {"p", 2},       {"h1", 2},     {"h2", 2},      {"h3", 2},       {"h4", 2},        {"h5", 2},
    {"h6", 2},      {"pre", 2},    {"blockquote", 2}, {"table", 2}, {"ul", 2},        {"ol", 2},
    {"dl", 2},      {"section", 2}, {"article", 2}, {"main", 2},    {"figure", 2},    {"hr", 2},
    {"div", 1},     {"br", 1},     {"li", 1},      {"tr", 1},       {"dt", 1},        {"dd", 1},
    {"caption", 1}, {"figcaption", 1}, {"address", 1}, {"details", 1}, {"summary", 1}, {"body", 2},
    {"td", 0},      {"th", 0},     {NULL, 0}};

static int html_in(const char *const *list, const char *name)
{
    for (int k = 0; list[k]; k++)
        if (strcmp(list[k], name) == 0) return 1;
    return 0;
}

/* -1 inline, else the break level of a block element (0: a cell, separated by a space). */
static int html_level(const char *name)
{
    for (int k = 0; html_blocks[k].name; k++)
        if (strcmp(html_blocks[k].name, name) == 0) return html_blocks[k].level;
    return -1;
}

/* ---------------------------------------------------------------- the rewrite before libxml2 */

#define HTML_NAME_MAX 100 /* libxml2 cuts tag and attribute names here */

struct canon {
    const char *s;
    size_t n, i;
    struct buf *out;
    int max_attrs;
    size_t stripped;  /* attributes dropped over max_attrs */
    char charset[48]; /* the first <meta> charset, "" when none */
    int oom;
};

static int html_blank(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
static int html_name_start(int c) { return ascii_isalpha(c) || c == '_' || c == ':' || c == '.'; }
static int html_name_char(int c) { return ascii_isalnum(c) || c == '_' || c == ':' || c == '.' || c == '-'; }

static void c_put(struct canon *c, const char *s, size_t n)
{
    if (!c->oom && buf_append(c->out, s, n) != 0) c->oom = 1;
}

/* s[0..n) with '<', '>' and (in attribute values, quote != 0) '"' as entities. */
static void c_escaped(struct canon *c, const char *s, size_t n, int quote)
{
    size_t from = 0;
    for (size_t k = 0; k < n; k++) {
        const char *ent = s[k] == '<' ? "&lt;" : s[k] == '>' && quote ? "&gt;" : s[k] == '"' && quote ? "&quot;" : NULL;
        if (!ent) continue;
        c_put(c, s + from, k - from);
        c_put(c, ent, strlen(ent));
        from = k + 1;
    }
    c_put(c, s + from, n - from);
}

/* A name at c->i (lower-cased, cut at HTML_NAME_MAX) appended; returns its length in the input. */
static size_t c_name(struct canon *c)
{
    size_t a = c->i;
    while (c->i < c->n && html_name_char((unsigned char)c->s[c->i])) c->i++;
    for (size_t k = a; k < c->i && k < a + HTML_NAME_MAX && !c->oom; k++)
        if (buf_putc(c->out, (char)ascii_tolower((unsigned char)c->s[k])) != 0) c->oom = 1;
    return c->i - a;
}

/* Remember <meta charset=X> or <meta content="...; charset=X">. */
static void c_meta(struct canon *c, const char *name, size_t nl, const char *v, size_t vl)
{
    if (c->charset[0]) return;
    if (nl == 7 && ascii_eq_word(name, nl, "content")) {
        size_t k = 0;
        while (k + 8 <= vl && !ascii_eq_word(v + k, 8, "charset=")) k++;
        if (k + 8 > vl) return;
        v += k + 8, vl -= k + 8;
    } else if (!(nl == 7 && ascii_eq_word(name, nl, "charset"))) {
        return;
    }
    size_t e = 0;
    while (e < vl && e + 1 < sizeof c->charset && (html_name_char((unsigned char)v[e]))) e++;
    memcpy(c->charset, v, e);
    c->charset[e] = '\0';
}

/* The attributes of a start tag, up to and past its '>' (c->i after it). Returns 1 for "/>". */
static int c_attrs(struct canon *c, int is_meta)
{
    int kept = 0;
    for (;;) {
        while (c->i < c->n && html_blank((unsigned char)c->s[c->i])) c->i++;
        if (c->i >= c->n) return 0;
        char ch = c->s[c->i];
        if (ch == '>') {
            c->i++;
            return 0;
        }
        if (ch == '/' && c->i + 1 < c->n && c->s[c->i + 1] == '>') {
            c->i += 2;
            return 1;
        }
        if (!html_name_start((unsigned char)ch)) { /* bogus: to a blank or the end of the tag */
            while (c->i < c->n && !html_blank((unsigned char)c->s[c->i]) && c->s[c->i] != '>' &&
                   !(c->s[c->i] == '/' && c->i + 1 < c->n && c->s[c->i + 1] == '>'))
                c->i++;
            continue;
        }
        int keep = kept < c->max_attrs;
        size_t at = c->out->len;
        if (keep) c_put(c, " ", 1);
        size_t nl = keep ? c_name(c) : 0;
        if (!keep)
            while (c->i < c->n && html_name_char((unsigned char)c->s[c->i])) c->i++;
        size_t j = c->i;
        while (j < c->n && html_blank((unsigned char)c->s[j])) j++;
        const char *v = NULL;
        size_t vl = 0;
        if (j < c->n && c->s[j] == '=') {
            j++;
            while (j < c->n && html_blank((unsigned char)c->s[j])) j++;
            if (j < c->n && (c->s[j] == '"' || c->s[j] == '\'')) {
                const char *q = memchr(c->s + j + 1, c->s[j], c->n - j - 1);
                v = c->s + j + 1;
                vl = q ? (size_t)(q - v) : c->n - j - 1;
                j = q ? (size_t)(q - c->s) + 1 : c->n;
            } else {
                v = c->s + j;
                while (j < c->n && !html_blank((unsigned char)c->s[j]) && c->s[j] != '>') j++;
                vl = (size_t)(c->s + j - v);
            }
            c->i = j;
        }
        if (!keep) {
            c->stripped++;
            continue;
        }
        kept++;
        if (v) {
            c_put(c, "=\"", 2);
            c_escaped(c, v, vl, 1);
            c_put(c, "\"", 1);
        }
        if (is_meta && !c->oom) c_meta(c, c->out->data + at + 1, nl < HTML_NAME_MAX ? nl : HTML_NAME_MAX, v ? v : "", vl);
    }
}

/* A start tag at c->i ('<' and a letter), then for script and style their raw text up to the
 * "</name" that ends it, escaped. */
static void c_start_tag(struct canon *c)
{
    c->i++;
    c_put(c, "<", 1);
    size_t at = c->out->len;
    c_name(c);
    size_t nl = c->oom ? 0 : c->out->len - at;
    char name[8] = "";
    if (nl < sizeof name) memcpy(name, c->out->data + at, nl), name[nl] = '\0';
    int self = c_attrs(c, strcmp(name, "meta") == 0);
    c_put(c, self ? "/>" : ">", self ? 2 : 1);
    if (self || (strcmp(name, "script") != 0 && strcmp(name, "style") != 0)) return;
    size_t j = c->i;
    for (;;) {
        const char *lt = memchr(c->s + j, '<', c->n - j);
        if (!lt) {
            j = c->n;
            break;
        }
        j = (size_t)(lt - c->s);
        if (j + 2 + nl <= c->n && c->s[j + 1] == '/' && ascii_eq_word(c->s + j + 2, nl, name)) break;
        j++;
    }
    c_escaped(c, c->s + c->i, j - c->i, 0);
    c->i = j;
}

/* Skip to just past the first `end` at or after c->i (or to the end of the input). */
static void c_skip_past(struct canon *c, const char *end)
{
    size_t el = strlen(end);
    const char *p = c->i < c->n ? memmem(c->s + c->i, c->n - c->i, end, el) : NULL;
    c->i = p ? (size_t)(p - c->s) + el : c->n;
}

/* Rewrite html[0..n) into c->out (see the file comment). */
static void html_canon(struct canon *c)
{
    while (c->i < c->n && !c->oom) {
        const char *lt = memchr(c->s + c->i, '<', c->n - c->i);
        size_t j = lt ? (size_t)(lt - c->s) : c->n;
        c_put(c, c->s + c->i, j - c->i);
        c->i = j;
        if (j >= c->n) break;
        unsigned char nx = j + 1 < c->n ? (unsigned char)c->s[j + 1] : 0;
        if (nx == '!' && j + 3 < c->n && c->s[j + 2] == '-' && c->s[j + 3] == '-') {
            c->i = j + 4;
            c_skip_past(c, "-->");
        } else if (nx == '!' || nx == '?') {
            c_skip_past(c, ">");
        } else if (nx == '/' && j + 2 < c->n && ascii_isalpha((unsigned char)c->s[j + 2])) {
            c->i = j + 2;
            c_put(c, "</", 2);
            c_name(c);
            c_put(c, ">", 1);
            c_skip_past(c, ">");
        } else if (ascii_isalpha(nx)) {
            c_start_tag(c);
        } else {
            c_put(c, "&lt;", 4);
            c->i = j + 1;
        }
    }
}

/* The charset libxml2 is told to use: UTF-8 when the page is valid UTF-8; else the declared one
 * when it keeps ASCII bytes as they are; else windows-1252 (what browsers assume). */
static const char *html_charset(const struct canon *c)
{
    static const char *const ok[] = {"iso-8859-", "iso8859-", "iso_8859-", "latin", "windows-", "cp125",
                                     "us-ascii", "ascii", "koi8", "shift_jis", "sjis", "x-sjis", "euc-",
                                     "gb2312", "gbk", "gb18030", "big5", "tis-620", "macintosh", NULL};
    if (utf8_valid(c->out->data, c->out->len, NULL)) return "UTF-8";
    for (int k = 0; c->charset[0] && ok[k]; k++)
        if (ascii_ncasecmp(c->charset, ok[k], strlen(ok[k])) == 0) return c->charset;
    return "windows-1252";
}

/* ---------------------------------------------------------------- the deadline */

struct html_clock {
    struct timespec end;
    unsigned tick;
    int late;
    startElementSAXFunc start;
    endElementSAXFunc stop;
    charactersSAXFunc chars;
};

/* Nonzero once the deadline has passed (the clock is read every 64th call). */
static int html_late(struct html_clock *k)
{
    if (k->late || (k->tick++ & 63) != 0) return k->late;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    k->late = now.tv_sec > k->end.tv_sec || (now.tv_sec == k->end.tv_sec && now.tv_nsec >= k->end.tv_nsec);
    return k->late;
}

static void sax_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    xmlParserCtxtPtr p = ctx;
    struct html_clock *k = p->_private;
    if (html_late(k)) xmlStopParser(p);
    else k->start(ctx, name, atts);
}

static void sax_end(void *ctx, const xmlChar *name)
{
    xmlParserCtxtPtr p = ctx;
    struct html_clock *k = p->_private;
    if (html_late(k)) xmlStopParser(p);
    else k->stop(ctx, name);
}

static void sax_chars(void *ctx, const xmlChar *s, int n)
{
    xmlParserCtxtPtr p = ctx;
    struct html_clock *k = p->_private;
    if (html_late(k)) xmlStopParser(p);
    else k->chars(ctx, s, n);
}

/* htmlReadMemory() with the deadline in the SAX callbacks. NULL when nothing was parsed (or out of
 * memory); k->late says whether the deadline stopped it. */
static htmlDocPtr html_parse(const char *s, size_t n, const char *enc, struct html_clock *k)
{
    htmlParserCtxtPtr p = htmlCreateMemoryParserCtxt(s, (int)n);
    if (!p) return NULL;
    if (!p->sax || !p->sax->startElement || !p->sax->endElement || !p->sax->characters) {
        htmlFreeParserCtxt(p);
        return NULL;
    }
    k->start = p->sax->startElement;
    k->stop = p->sax->endElement;
    k->chars = p->sax->characters;
    p->sax->startElement = sax_start;
    p->sax->endElement = sax_end;
    p->sax->characters = sax_chars;
    p->_private = k;
    htmlCtxtUseOptions(p, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                              HTML_PARSE_COMPACT);
    xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(enc);
    if (h) {
        xmlSwitchToEncoding(p, h);
        if (p->input->encoding) xmlFree((xmlChar *)p->input->encoding);
        p->input->encoding = xmlStrdup((const xmlChar *)enc); /* a <meta> charset no longer switches */
    }
    htmlParseDocument(p);
    htmlDocPtr doc = p->myDoc;
    p->myDoc = NULL;
    if (p->dictNames && doc && doc->dict == p->dict) p->dict = NULL; /* the document keeps it */
    htmlFreeParserCtxt(p);
    return doc;
}

/* Text written with whitespace collapsed: `brk` is the pending separator (0 none, 1 space,
 * 2 line break, 3 blank line), emitted only between two pieces of text. */
struct html_out {
    struct buf *b;
    size_t start;
    int brk;
    int oom;
};

static void html_sep(struct html_out *o, int brk)
{
    if (brk > o->brk) o->brk = brk;
}

static void html_text(struct html_out *o, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && !o->oom) {
        unsigned char c = (unsigned char)s[i];
        int ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        size_t w = 1;
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) ws = 1, w = 2; /* nbsp */
        if (ws) {
            html_sep(o, 1);
            i += w;
            continue;
        }
        size_t j = i;
        while (j < n) {
            unsigned char d = (unsigned char)s[j];
            if (d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '\f' || d == '\v') break;
            if (d == 0xC2 && j + 1 < n && (unsigned char)s[j + 1] == 0xA0) break;
            j++;
        }
        if (o->b->len > o->start && o->brk) {
            static const char *const seps[] = {"", " ", "\n", "\n\n"};
            if (buf_puts(o->b, seps[o->brk]) != 0) o->oom = 1;
        }
        o->brk = 0;
        if (utf8_repair(o->b, s + i, j - i, NULL) != 0) o->oom = 1; /* libxml2 passes some bad bytes */
        i = j;
    }
}

/* Append the collapsed text content of `node` to `b` (nothing when b is NULL). */
static int html_node_text(xmlNode *node, struct buf *b)
{
    if (!b) return 0;
    xmlChar *s = xmlNodeGetContent(node);
    if (!s) return 0;
    struct html_out o = {b, b->len, 0, 0};
    html_text(&o, (const char *)s, strlen((const char *)s));
    xmlFree(s);
    return o.oom ? -1 : 0;
}

/* Nonzero for an element that is hidden or is page furniture by its attributes: hidden,
 * aria-hidden="true", style="display:none", role="navigation" (and banner, contentinfo,
 * complementary, search). */
static int html_hidden(xmlNode *n)
{
    static const char *const roles[] = {"navigation", "banner", "contentinfo", "complementary",
                                        "search", NULL};
    int hide = 0;
    if (!n->properties) return 0;
    if (xmlHasProp(n, (const xmlChar *)"hidden")) return 1;
    xmlChar *v = xmlGetProp(n, (const xmlChar *)"aria-hidden");
    if (v) hide = strcmp((const char *)v, "true") == 0;
    xmlFree(v);
    if (!hide && (v = xmlGetProp(n, (const xmlChar *)"role")) != NULL) {
        hide = html_in(roles, (const char *)v);
        xmlFree(v);
    }
    if (!hide && (v = xmlGetProp(n, (const xmlChar *)"style")) != NULL) {
        char flat[64];
        size_t k = 0;
        for (const xmlChar *c = v; *c && k + 1 < sizeof flat; c++)
            if (*c != ' ' && *c != '\t') flat[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        flat[k] = '\0';
        hide = strstr(flat, "display:none") != NULL || strstr(flat, "visibility:hidden") != NULL;
        xmlFree(v);
    }
    return hide;
}

/* The page's text from the parsed tree; ERR_LIMIT when the deadline passes during the walk. */
static int html_walk(htmlDocPtr doc, struct html_clock *k, struct buf *title, struct buf *text)
{
    struct buf dummy = {0};
    struct buf h1 = {0};
    int rc = ERR_OK, have_title = 0;
    struct html_out o = {text ? text : &dummy, text ? text->len : 0, 0, 0};
    xmlNode *cur = doc->children;
    while (cur && !o.oom) {
        int descend = 0;
        if (html_late(k)) {
            rc = ERR_LIMIT;
            goto done;
        }
        if (cur->type == XML_ELEMENT_NODE && cur->name) {
            const char *name = (const char *)cur->name;
            int lv = html_level(name);
            if (strcmp(name, "title") == 0) {
                if (!have_title && title) {
                    size_t before = title->len;
                    if (html_node_text(cur, title) != 0) goto oom;
                    have_title = title->len > before;
                }
                if (!title) have_title = 1;
            } else if (strcmp(name, "head") == 0) {
                descend = 1; /* only for <title> */
            } else if (html_in(html_skip, name) || html_hidden(cur)) {
                html_sep(&o, 1);
            } else {
                if (strcmp(name, "h1") == 0 && h1.len == 0 && html_node_text(cur, &h1) != 0)
                    goto oom;
                if (lv >= 0) html_sep(&o, lv + 1);
                descend = 1;
            }
        } else if ((cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE) &&
                   cur->content && !(cur->parent && cur->parent->name &&
                                     strcmp((const char *)cur->parent->name, "head") == 0)) {
            html_text(&o, (const char *)cur->content, strlen((const char *)cur->content));
        }
        if (descend && cur->children) {
            cur = cur->children;
            continue;
        }
        /* leave cur and every ancestor that has no next sibling */
        for (;;) {
            if (cur->type == XML_ELEMENT_NODE && cur->name) {
                int lv = html_level((const char *)cur->name);
                if (lv >= 0) html_sep(&o, lv + 1);
            }
            if (cur->next) {
                cur = cur->next;
                break;
            }
            cur = cur->parent;
            if (!cur || cur->type == XML_DOCUMENT_NODE || cur->type == XML_HTML_DOCUMENT_NODE) {
                cur = NULL;
                break;
            }
        }
    }
    if (o.oom) goto oom;
    if (title && !have_title && h1.len && buf_append(title, h1.data, h1.len) != 0) goto oom;
    goto done;
oom:
    rc = ERR_NOMEM;
done:
    buf_cleanup(&h1);
    buf_cleanup(&dummy);
    return rc;
}

int corpus_html_text_budget(const char *html, size_t len, const struct corpus_html_budget *budget,
                            struct buf *title, struct buf *text, struct err *err)
{
    static const struct corpus_html_budget none = {0};
    const struct corpus_html_budget *b = budget ? budget : &none;
    size_t max_bytes = b->max_bytes ? b->max_bytes : CORPUS_HTML_MAX_BYTES;
    int max_attrs = b->max_attrs > 0 ? b->max_attrs : CORPUS_HTML_MAX_ATTRS;
    long max_ms = b->max_ms > 0 ? b->max_ms : CORPUS_HTML_MAX_MS;
    struct buf page = {0};
    htmlDocPtr doc = NULL;
    int rc = ERR_OK;
    if (!html || len == 0) return ERR_OK;
    if (len > max_bytes || len > INT_MAX / 2)
        return err_set(err, ERR_LIMIT, "html: page of %zu bytes is over the HTML size budget of %zu bytes",
                       len, max_bytes);
    struct html_clock k = {0};
    clock_gettime(CLOCK_MONOTONIC, &k.end);
    k.end.tv_sec += max_ms / 1000;
    k.end.tv_nsec += (max_ms % 1000) * 1000000L;
    if (k.end.tv_nsec >= 1000000000L) k.end.tv_sec++, k.end.tv_nsec -= 1000000000L;
    k.tick = 1; /* the first html_late() call skips the clock; the walk's first node reads it */
    if (len >= 3 && memcmp(html, "\xEF\xBB\xBF", 3) == 0) html += 3, len -= 3; /* UTF-8 byte order mark */
    struct canon c = {.s = html, .n = len, .out = &page, .max_attrs = max_attrs};
    if (buf_reserve(&page, len + len / 8 + 64) != 0) goto oom;
    html_canon(&c);
    if (c.oom || page.len > INT_MAX) goto oom;
    if (page.len == 0) goto done; /* only comments, a doctype, ... */
    doc = html_parse(page.data, page.len, html_charset(&c), &k);
    if (k.late) goto late;
    if (!doc) {
        rc = err_set(err, ERR_PARSE, "html: nothing parseable in %zu bytes", len);
        goto done;
    }
    rc = html_walk(doc, &k, title, text);
    if (rc == ERR_LIMIT) goto late;
    if (rc == ERR_NOMEM) goto oom;
    goto done;
late:
    rc = err_set(err, ERR_LIMIT, "html: page of %zu bytes took over the HTML time budget of %ld ms", len, max_ms);
    goto done;
oom:
    rc = err_set(err, ERR_NOMEM, "html: out of memory");
done:
    xmlFreeDoc(doc);
    buf_cleanup(&page);
    return rc;
}

int corpus_html_text(const char *html, size_t len, struct buf *title, struct buf *text, struct err *err)
{
    return corpus_html_text_budget(html, len, NULL, title, text, err);
}
