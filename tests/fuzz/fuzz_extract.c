/* fuzz_extract.c - libFuzzer target over ver_extract(): the first byte picks the format (auto,
 * wikitext, Markdown, JSONL), the rest is the article. Every claim and citation is walked so that
 * ASan sees any bad pointer. */
#include <stdint.h>
#include <string.h>

#include "verify/ver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    enum ver_format fmt = (enum ver_format)(data[0] % 4);
    struct ver_article *a = NULL;
    struct err e = {0};
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
        ver_article_free(a);
    } else if (a) {
        __builtin_trap();
    }
    return 0;
}
