/* corpus_html.c - HTML pages reduced to readable text with libxml2's forgiving HTML parser, and
 * the UTF-8 validator the readers share. */
#include "utf8.h"
#include "corpus.h"

#include <limits.h>
#include <string.h>

#include <libxml/HTMLparser.h>
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

int corpus_html_text(const char *html, size_t len, struct buf *title, struct buf *text,
                     struct err *err)
{
    struct buf dummy = {0};
    struct buf h1 = {0};
    htmlDocPtr doc = NULL;
    int rc = ERR_OK, have_title = 0;
    if (!html || len == 0) return ERR_OK;
    if (len > INT_MAX) return err_set(err, ERR_LIMIT, "html: page of %zu bytes is too large", len);
    /* Declared charsets win only when the bytes are not UTF-8 already. */
    const char *enc = utf8_valid(html, len, NULL) ? "UTF-8" : NULL;
    doc = htmlReadMemory(html, (int)len, NULL, enc,
                         HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                             HTML_PARSE_NONET | HTML_PARSE_COMPACT);
    if (!doc) return err_set(err, ERR_PARSE, "html: nothing parseable in %zu bytes", len);
    struct html_out o = {text ? text : &dummy, text ? text->len : 0, 0, 0};
    xmlNode *cur = doc->children;
    while (cur && !o.oom) {
        int descend = 0;
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
    rc = err_set(err, ERR_NOMEM, "html: out of memory");
done:
    xmlFreeDoc(doc);
    buf_cleanup(&h1);
    buf_cleanup(&dummy);
    return rc;
}
