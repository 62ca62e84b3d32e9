/* corpus_mwxml.c - MediaWiki XML exports and dumps (plain or .bz2, multistream too), streamed page
 * by page with libxml2's xmlTextReader: only article pages (namespace 0), redirects skipped, the
 * last revision's wikitext reduced to plain text. Memory holds one page at a time. */
#include "corpus_read_int.h"
#include "utf8.h"

#include <bzlib.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

#define MW_TITLE_MAX 1024 /* bytes kept of a page title (MediaWiki allows 255) */
#define MW_NS_MAX 32

enum mw_capture { MW_NONE, MW_TITLE, MW_NS, MW_TEXT };

struct corpus_mw {
    FILE *f;
    BZFILE *bz; /* NULL for plain XML */
    int is_bz, bz_eof;
    char unused[BZ_MAX_UNUSED];
    xmlTextReaderPtr xr;

    int io_failed;
    struct err io_err;
    int have_xml_err, xml_err_line;
    char xml_err[256];

    int root_checked;
    long pages; /* <page> elements seen */
    int in_page, redirect, over;
    enum mw_capture capture;
    struct buf title, ns, text;
    struct buf fix; /* a text node with its invalid UTF-8 replaced */
};

static void mw_xml_error(void *arg, xmlErrorPtr e)
{
    struct corpus_mw *m = arg;
    if (!e || e->level < XML_ERR_ERROR || m->have_xml_err) return;
    m->have_xml_err = 1;
    m->xml_err_line = e->line;
    snprintf(m->xml_err, sizeof m->xml_err, "%s", e->message ? e->message : "error");
    size_t n = strlen(m->xml_err);
    while (n && (m->xml_err[n - 1] == '\n' || m->xml_err[n - 1] == ' ')) m->xml_err[--n] = '\0';
}

/* Move to the next bzip2 stream of a multistream file, or mark the end. Returns 0 or -1. */
static int mw_next_stream(struct corpus_reader *r)
{
    struct corpus_mw *m = r->mw;
    void *un = NULL;
    int nun = 0, e;
    BZ2_bzReadGetUnused(&e, m->bz, &un, &nun);
    if (e != BZ_OK) nun = 0;
    if (nun > 0) memcpy(m->unused, un, (size_t)nun);
    BZ2_bzReadClose(&e, m->bz);
    m->bz = NULL;
    if (nun == 0) {
        int c = getc(m->f);
        if (c == EOF) {
            m->bz_eof = 1;
            return 0;
        }
        ungetc(c, m->f);
    }
    m->bz = BZ2_bzReadOpen(&e, m->f, 0, 0, nun ? m->unused : NULL, nun);
    if (!m->bz || e != BZ_OK) {
        err_set(&m->io_err, ERR_IO, "%s: bzip2: cannot open the next stream (%d)", r->path, e);
        return -1;
    }
    return 0;
}

static int mw_read(void *ctx, char *out, int len)
{
    struct corpus_reader *r = ctx;
    struct corpus_mw *m = r->mw;
    if (m->io_failed) return -1;
    if (!m->is_bz) {
        size_t n = fread(out, 1, (size_t)len, m->f);
        if (n == 0 && ferror(m->f)) {
            m->io_failed = 1;
            err_set(&m->io_err, ERR_IO, "%s: read error: %s", r->path, strerror(errno));
            return -1;
        }
        r->done += n;
        return (int)n;
    }
    while (!m->bz_eof) {
        int e;
        int n = BZ2_bzRead(&e, m->bz, out, len);
        long pos = ftell(m->f);
        if (pos >= 0) r->done = (uint64_t)pos;
        if (e == BZ_STREAM_END) {
            if (mw_next_stream(r) != 0) {
                m->io_failed = 1;
                return -1;
            }
        } else if (e != BZ_OK) {
            m->io_failed = 1;
            err_set(&m->io_err, ERR_IO, "%s: bzip2 data error (%d) after %ld compressed bytes",
                    r->path, e, pos);
            return -1;
        }
        if (n > 0) return n;
    }
    return 0;
}

static int mw_close_cb(void *ctx)
{
    (void)ctx; /* the files are closed by corpus_mwxml_close() */
    return 0;
}

int corpus_mwxml_open(struct corpus_reader *r, struct err *err)
{
    struct corpus_mw *m = calloc(1, sizeof *m);
    if (!m) return err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
    r->mw = m;
    if (!(m->f = fopen(r->path, "rb"))) return err_set(err, ERR_IO, "%s: %s", r->path, strerror(errno));
    unsigned char magic[3] = {0};
    size_t got = fread(magic, 1, 3, m->f);
    if (fseek(m->f, 0, SEEK_SET) != 0) return err_set(err, ERR_IO, "%s: %s", r->path, strerror(errno));
    if (got == 3 && memcmp(magic, "BZh", 3) == 0) {
        int e;
        m->is_bz = 1;
        m->bz = BZ2_bzReadOpen(&e, m->f, 0, 0, NULL, 0);
        if (!m->bz || e != BZ_OK) return err_set(err, ERR_IO, "%s: bzip2: cannot open (%d)", r->path, e);
    }
    /* XML_PARSE_HUGE lifts libxml2's 10 MB cap on one text node, whose error is fatal and would end
     * the whole dump: our own cap (max_record, checked in mw_capture) rejects the one page instead,
     * which skip_bad skips. No entities are substituted (no XML_PARSE_NOENT), so HUGE does not open
     * entity expansion; libxml2's hard cap of 1 GB on one node still holds. */
    int opts = XML_PARSE_NONET | XML_PARSE_COMPACT | XML_PARSE_HUGE;
    m->xr = xmlReaderForIO(mw_read, mw_close_cb, r, r->path, NULL, opts);
    if (!m->xr) return err_set(err, ERR_NOMEM, "%s: cannot create the XML reader", r->path);
    xmlTextReaderSetStructuredErrorHandler(m->xr, mw_xml_error, m);
    if (r->source.len == 0 && buf_puts(&r->source, r->path) != 0)
        return err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
    return ERR_OK;
}

void corpus_mwxml_close(struct corpus_reader *r)
{
    struct corpus_mw *m = r->mw;
    if (!m) return;
    if (m->xr) xmlFreeTextReader(m->xr);
    if (m->bz) {
        int e;
        BZ2_bzReadClose(&e, m->bz);
    }
    if (m->f) fclose(m->f);
    buf_cleanup(&m->title);
    buf_cleanup(&m->ns);
    buf_cleanup(&m->text);
    buf_cleanup(&m->fix);
    free(m);
    r->mw = NULL;
}

/* Append text to the field being captured, within its cap. Returns 0 or -1 (out of memory). */
static int mw_capture(struct corpus_reader *r, const char *s)
{
    struct corpus_mw *m = r->mw;
    struct buf *b = m->capture == MW_TITLE ? &m->title : m->capture == MW_NS ? &m->ns : &m->text;
    size_t cap = m->capture == MW_TITLE ? MW_TITLE_MAX : m->capture == MW_NS ? MW_NS_MAX : r->max_record;
    size_t n = strlen(s);
    if (!utf8_valid(s, n, NULL)) { /* libxml2 passes some malformed bytes (in CDATA) through */
        buf_reset(&m->fix);
        if (utf8_repair(&m->fix, s, n, NULL) != 0) return -1;
        s = m->fix.data;
        n = m->fix.len;
    }
    if (b->len + n > cap) {
        if (m->capture == MW_TEXT) m->over = 1;
        n = cap - b->len;
        n = utf8_cut(s, n); /* at a character */
    }
    if (m->capture == MW_TEXT && m->over) return 0;
    return buf_append(b, s, n);
}

static long mw_ns(const struct buf *b)
{
    if (b->len == 0) return 0; /* old exports have no <ns>: titles are articles */
    char *end;
    long v = strtol(b->data, &end, 10);
    return end == b->data ? -1 : v;
}

/* A finished <page>: *is_doc is 1 when it is a document (then filled in r), 0 when it is not
 * one (another namespace, a redirect, no text). */
static int mw_page(struct corpus_reader *r, int *is_doc, struct err *err)
{
    struct corpus_mw *m = r->mw;
    size_t a = 0, b = m->title.len;
    const char *t = m->title.data ? m->title.data : "";
    while (a < b && (t[a] == ' ' || t[a] == '\n' || t[a] == '\t' || t[a] == '\r')) a++;
    while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\n' || t[b - 1] == '\t' || t[b - 1] == '\r')) b--;
    *is_doc = 0;
    if (mw_ns(&m->ns) != 0 || m->redirect || a == b) return ERR_OK;
    if (m->over)
        return err_set(err, ERR_LIMIT, "%s: page %ld \"%.*s\": text longer than %zu bytes", r->path,
                       m->pages, (int)(b - a), t + a, r->max_record);
    buf_reset(&r->id);
    buf_reset(&r->title);
    buf_reset(&r->url);
    buf_reset(&r->text);
    if (buf_append(&r->id, t + a, b - a) != 0 || buf_append(&r->title, t + a, b - a) != 0)
        return err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
    if (r->raw_wikitext) {
        if (m->text.len && buf_append(&r->text, m->text.data, m->text.len) != 0)
            return err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
        *is_doc = r->text.len > 0;
        return ERR_OK;
    }
    int rc = corpus_wikitext_text(m->text.data, m->text.len, &r->text, err);
    if (rc != ERR_OK) return err_prefix(err, "%s: page %ld", r->path, m->pages);
    *is_doc = r->text.len > 0;
    return ERR_OK;
}

int corpus_mwxml_next(struct corpus_reader *r, struct corpus_doc *doc, int *has, struct err *err)
{
    struct corpus_mw *m = r->mw;
    *has = 0;
    for (;;) {
        int ret = xmlTextReaderRead(m->xr);
        if (ret == 0) {
            if (!m->root_checked) {
                r->fatal = 1;
                return err_set(err, ERR_PARSE, "%s: no XML element found", r->path);
            }
            return ERR_OK;
        }
        if (ret < 0) {
            r->fatal = 1;
            if (m->io_failed) {
                if (err) *err = m->io_err;
                return m->io_err.code;
            }
            int line = m->have_xml_err ? m->xml_err_line : xmlTextReaderGetParserLineNumber(m->xr);
            return err_set(err, ERR_PARSE, "%s:%d: malformed XML: %s", r->path, line,
                           m->have_xml_err ? m->xml_err : "parse error");
        }
        int type = xmlTextReaderNodeType(m->xr);
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *name = (const char *)xmlTextReaderConstLocalName(m->xr);
            if (!name) name = "";
            int empty = xmlTextReaderIsEmptyElement(m->xr) == 1;
            if (!m->root_checked) {
                m->root_checked = 1;
                if (strcmp(name, "mediawiki") != 0) {
                    r->fatal = 1;
                    return err_set(err, ERR_PARSE, "%s: not a MediaWiki export (root element <%.100s>)",
                                   r->path, name);
                }
            }
            m->capture = MW_NONE;
            if (strcmp(name, "page") == 0) {
                m->in_page = !empty;
                m->pages++;
                m->redirect = m->over = 0;
                buf_reset(&m->title);
                buf_reset(&m->ns);
                buf_reset(&m->text);
            } else if (m->in_page && strcmp(name, "redirect") == 0) {
                m->redirect = 1;
            } else if (m->in_page && !empty) {
                if (strcmp(name, "title") == 0) m->capture = MW_TITLE;
                else if (strcmp(name, "ns") == 0) m->capture = MW_NS;
                else if (strcmp(name, "text") == 0) {
                    m->capture = MW_TEXT; /* a later revision replaces an earlier one */
                    m->over = 0;
                    buf_reset(&m->text);
                }
            } else if (m->in_page && strcmp(name, "text") == 0) {
                m->over = 0;
                buf_reset(&m->text);
            }
        } else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
                   type == XML_READER_TYPE_WHITESPACE ||
                   type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
            const char *v = (const char *)xmlTextReaderConstValue(m->xr);
            if (m->capture != MW_NONE && v && mw_capture(r, v) != 0)
                return err_set(err, ERR_NOMEM, "%s: out of memory", r->path);
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            m->capture = MW_NONE;
            const char *name = (const char *)xmlTextReaderConstLocalName(m->xr);
            if (m->in_page && name && strcmp(name, "page") == 0) {
                m->in_page = 0;
                int is_doc, rc = mw_page(r, &is_doc, err);
                if (rc != ERR_OK) return rc;
                if (is_doc) {
                    corpus_doc_fill(r, doc, m->pages);
                    *has = 1;
                    return ERR_OK;
                }
            }
        }
    }
}
