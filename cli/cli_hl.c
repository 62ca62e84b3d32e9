/* cli_hl.c - which words of a text match a claim or query, for highlighting them (bold on a
 * terminal, <mark> in HTML), and the part of a text worth showing: the sentence with the most
 * matches, or a window of a given width centred on them. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "corpus/corpus.h"
#include "index/idx.h"

#define HL_MAX_TERMS 128
/* A term found in more than this share of an index's passages is a common word there: not marked
 * (in SQLite's documentation "sqlite" is in most passages). Only judged on indexes with at least
 * HL_MIN_PASSAGES passages. */
#define HL_COMMON_SHARE 0.2
#define HL_MIN_PASSAGES 200

struct cli_hl {
    struct corpus_tok *tok;
    char terms[HL_MAX_TERMS][CORPUS_TOK_MAX + 1];
    int nterms;
    /* cli_hl_find's scratch */
    struct ver_span *out;
    int n, max;
};

int cli_hl_new(struct cli_hl **out, struct err *err)
{
    *out = NULL;
    struct cli_hl *h = calloc(1, sizeof *h);
    if (!h) return err_set(err, ERR_NOMEM, "highlighter");
    int rc = corpus_tok_new(&h->tok, 0, err);
    if (rc) {
        free(h);
        return rc;
    }
    *out = h;
    return ERR_OK;
}

void cli_hl_free(struct cli_hl *h)
{
    if (!h) return;
    corpus_tok_free(h->tok);
    free(h);
}

static int hl_has(const struct cli_hl *h, const char *term, size_t len)
{
    for (int i = 0; i < h->nterms; i++)
        if (strlen(h->terms[i]) == len && !memcmp(h->terms[i], term, len)) return 1;
    return 0;
}

struct hl_set {
    struct cli_hl *h;
    struct idx *ix;
    int64_t passages;
};

static int hl_add(void *ctx, const char *term, size_t len, int pos, size_t start, size_t end)
{
    (void)pos, (void)start, (void)end;
    struct hl_set *s = ctx;
    struct cli_hl *h = s->h;
    if (h->nterms >= HL_MAX_TERMS || len > CORPUS_TOK_MAX || hl_has(h, term, len)) return 0;
    /* negations are scored, but marking every "not" shows nothing; nor do initials ("D.") */
    if ((len == 3 && !memcmp(term, "not", 3)) || (len == 2 && !memcmp(term, "no", 2))) return 0;
    if (len == 1 && !(term[0] >= '0' && term[0] <= '9')) return 0;
    if (s->ix && s->passages >= HL_MIN_PASSAGES) {
        int64_t df = 0;
        if (idx_term_df(s->ix, term, len, &df, NULL) == ERR_OK && df > HL_COMMON_SHARE * (double)s->passages)
            return 0;
    }
    memcpy(h->terms[h->nterms], term, len);
    h->terms[h->nterms++][len] = '\0';
    return 0;
}

int cli_hl_set(struct cli_hl *h, const char *query, struct idx *ix, struct err *err)
{
    (void)err;
    h->nterms = 0;
    struct hl_set s = {h, ix, 0};
    if (ix) {
        int64_t tokens = 0;
        if (idx_corpus_totals(ix, &s.passages, &tokens, NULL) != ERR_OK) s.passages = 0;
    }
    corpus_tok_run(h->tok, query, strlen(query), hl_add, &s);
    return ERR_OK;
}

static int hl_match(void *ctx, const char *term, size_t len, int pos, size_t start, size_t end)
{
    (void)pos;
    struct cli_hl *h = ctx;
    if (h->n >= h->max) return 1;
    if (hl_has(h, term, len)) h->out[h->n++] = (struct ver_span){start, end};
    return 0;
}

int cli_hl_find(struct cli_hl *h, const char *text, size_t len, struct ver_span *spans, int max)
{
    if (!h || !text || max <= 0 || h->nterms == 0) return 0;
    h->out = spans;
    h->n = 0;
    h->max = max;
    corpus_tok_run(h->tok, text, len, hl_match, h);
    return h->n;
}

/* ---------------------------------------------------------------- what to show */

struct hl_best {
    const struct ver_span *sp;
    int n;
    size_t start, end;
    int best;
};

static int best_sent(void *ctx, size_t start, size_t end)
{
    struct hl_best *b = ctx;
    int k = 0;
    for (int i = 0; i < b->n; i++) k += b->sp[i].start >= start && b->sp[i].end <= end;
    if (k > b->best) {
        b->best = k;
        b->start = start;
        b->end = end;
    }
    return 0;
}

void cli_hl_sentence(const char *text, size_t len, const struct ver_span *sp, int n, size_t *start, size_t *end)
{
    struct hl_best b = {sp, n, 0, len, 0};
    if (n > 0) ver_sentences(text, len, best_sent, &b);
    *start = b.start;
    *end = b.end;
}

/* Display columns of text[a, b) (one per character, as cli_put_cell counts). */
static size_t cols_of(const char *text, size_t a, size_t b)
{
    size_t c = 0;
    for (size_t i = a; i < b; i++) c += ((unsigned char)text[i] & 0xC0) != 0x80;
    return c;
}

/* Move i back to the start of the UTF-8 character holding byte i. */
static size_t char_start(const char *text, size_t i)
{
    while (i > 0 && ((unsigned char)text[i] & 0xC0) == 0x80) i--;
    return i;
}

/* Move a forward to the start of a word when one begins within 12 characters (and before
 * `limit`), so that a cut part does not begin inside a word. */
static size_t word_start(const char *text, size_t len, size_t a, size_t limit)
{
    size_t b = a;
    for (size_t k = 0; b > 0 && k < 12 && b < limit && b < len; k++) {
        if (text[b - 1] == ' ') return b;
        b++;
        while (b < len && ((unsigned char)text[b] & 0xC0) == 0x80) b++;
    }
    return b > 0 && b <= len && text[b - 1] == ' ' ? b : a;
}

void cli_hl_window(const char *text, size_t len, const struct ver_span *sp, int n, int cols, size_t *start,
                   size_t *end)
{
    *start = 0;
    *end = len;
    if (cols <= 0 || cols_of(text, 0, len) <= (size_t)cols) return;
    /* the densest run: the most spans whose first and last fit in `cols` columns */
    int bi = 0, bk = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        for (int j = i; j < n && cols_of(text, sp[i].start, sp[j].end) <= (size_t)cols; j++) k++;
        if (k > bk) {
            bk = k;
            bi = i;
        }
    }
    size_t a = 0;
    if (bk > 0) { /* centre the run: as much room before its first span as after its last */
        size_t used = cols_of(text, sp[bi].start, sp[bi + bk - 1].end);
        size_t before = ((size_t)cols - used) / 2, c = 0;
        a = sp[bi].start;
        while (a > 0 && c < before) {
            a = char_start(text, a - 1);
            c++;
        }
        a = word_start(text, len, a, sp[bi].start);
    }
    size_t b = a, c = 0;
    while (b < len && c < (size_t)cols) {
        b++;
        while (b < len && ((unsigned char)text[b] & 0xC0) == 0x80) b++;
        c++;
    }
    if (b >= len && a > 0) { /* ran out at the end: use the room before */
        b = len;
        c = cols_of(text, a, b);
        while (a > 0 && c < (size_t)cols) {
            a = char_start(text, a - 1);
            c++;
        }
        a = word_start(text, len, a, n > 0 ? sp[0].start : len);
    }
    *start = a;
    *end = b;
}

void cli_hl_print(FILE *f, const char *text, size_t len, size_t start, size_t end, const struct ver_span *sp, int n,
                  int bold)
{
    if (start > 0) fputs("\xE2\x80\xA6", f);
    size_t at = start;
    for (int i = 0; i < n; i++) {
        if (sp[i].start < at || sp[i].end > end) continue;
        for (size_t k = at; k < sp[i].start; k++) fputc(text[k] == '\n' || text[k] == '\t' ? ' ' : text[k], f);
        if (bold) fputs("\033[1m", f);
        fwrite(text + sp[i].start, 1, sp[i].end - sp[i].start, f);
        if (bold) fputs("\033[22m", f);
        at = sp[i].end;
    }
    for (size_t k = at; k < end; k++) fputc(text[k] == '\n' || text[k] == '\t' ? ' ' : text[k], f);
    if (end < len) fputs("\xE2\x80\xA6", f);
}

int cli_hl_html(struct buf *b, const char *text, size_t start, size_t end, const struct ver_span *sp, int n)
{
    size_t at = start;
    int bad = 0;
    for (int i = 0; i < n && !bad; i++) {
        if (sp[i].start < at || sp[i].end > end) continue;
        bad |= buf_put_html(b, text + at, sp[i].start - at) || buf_puts(b, "<mark>") ||
               buf_put_html(b, text + sp[i].start, sp[i].end - sp[i].start) || buf_puts(b, "</mark>");
        at = sp[i].end;
    }
    return bad || buf_put_html(b, text + at, end - at);
}
