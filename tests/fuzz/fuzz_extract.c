/* fuzz_extract.c - libFuzzer target over ver_extract(): the first byte picks the format (auto,
 * wikitext, Markdown, JSONL), the rest is the article. Every claim and citation is walked so that
 * ASan sees any bad pointer. For wikitext, claims and indexing read through one engine: the text
 * of every claim must appear (white space collapsed) in corpus_wikitext_text() of the article. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "utf8.h"
#include "corpus/corpus.h"
#include "verify/ver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every claim's text is in the corpus rendering (abort otherwise). */
static void check_same_text(const struct ver_article *a, const char *text, size_t len)
{
    struct buf plain = {0};
    struct err e = {0};
    if (corpus_wikitext_text(text, len, &plain, &e) != 0) return;
    size_t pl = plain.data ? ascii_squash(plain.data, plain.len) : 0;
    for (int i = 0; i < a->nclaims; i++) {
        char *c = strdup(a->claims[i].text);
        if (!c) break;
        size_t cl = ascii_squash(c, strlen(c));
        if (cl && (!plain.data || !memmem(plain.data, pl, c, cl))) abort();
        free(c);
    }
    buf_cleanup(&plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t insize)
{
    if (insize < 1) return 0;
    enum ver_format fmt = (enum ver_format)(in[0] % 4);
    struct ver_article *a = NULL;
    struct err e = {0};
    /* ver_extract refuses invalid UTF-8 (ERR_UTF8): odd bytes are repaired first, as the readers
     * do, so that mutations keep reaching the extractor */
    if (ver_extract(&a, (const char *)in + 1, insize - 1, fmt, "Fuzz", &e) == 0) {
        if (!utf8_valid((const char *)in + 1, insize - 1, NULL)) __builtin_trap();
        ver_article_free(a);
        a = NULL;
    }
    struct buf fixed = {0};
    if (utf8_repair(&fixed, (const char *)in + 1, insize - 1, NULL) != 0) return 0;
    const uint8_t *data = (const uint8_t *)(fixed.data ? fixed.data : "") - 1; /* data[1..size) */
    size_t size = fixed.len + 1;
    int rc = ver_extract(&a, (const char *)data + 1, size - 1, fmt, "Fuzz", &e);
    if (rc == 0) {
        size_t sum = 0;
        for (int i = 0; i < a->nclaims; i++) {
            const struct ver_claim *c = &a->claims[i];
            if (!c->text || !c->section || c->offset > size) __builtin_trap();
            sum += strlen(c->text) + strlen(c->section);
            for (int k = 0; k < c->ncit; k++) {
                const struct ver_citation *t = &c->cits[k];
                if (t->url) sum += strlen(t->url);
                if (t->title) sum += strlen(t->title);
                if (t->raw) sum += strlen(t->raw);
                if (t->needs_source && t->url) __builtin_trap();
            }
        }
        (void)sum;
        if (fmt == VER_FMT_WIKITEXT) check_same_text(a, (const char *)data + 1, size - 1);
        ver_article_free(a);
    } else if (a) {
        __builtin_trap();
    }
    buf_cleanup(&fixed);
    return 0;
}
