/* fuzz_wikitext_text.c - libFuzzer target for corpus_wikitext_text(): any bytes, no crash, no
 * leak, bounded time; the output never grows past a small multiple of the input. */
#include <stdint.h>
#include <stdlib.h>

#include "corpus/corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out = {0};
    struct err e = {0};
    if (corpus_wikitext_text((const char *)data, size, &out, &e) == 0 && out.len > 4 * size + 16)
        abort(); /* cleanup only removes markup; entities shrink or keep their size */
    buf_cleanup(&out);
    return 0;
}
