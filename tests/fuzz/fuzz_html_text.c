/* fuzz_html_text.c - libFuzzer target for corpus_html_text(): any bytes, no crash, no leak, and
 * whatever comes out is valid UTF-8. */
#include <stdint.h>
#include <stdlib.h>

#include "utf8.h"
#include "corpus/corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf title = {0}, text = {0};
    struct err e = {0};
    if (corpus_html_text((const char *)data, size, &title, &text, &e) == 0) {
        if (!utf8_valid(text.data ? text.data : "", text.len, NULL)) abort();
        if (!utf8_valid(title.data ? title.data : "", title.len, NULL)) abort();
    }
    buf_cleanup(&title);
    buf_cleanup(&text);
    return 0;
}
