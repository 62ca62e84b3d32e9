/* fuzz_corpus_read.c - libFuzzer target for the JSON Lines and MediaWiki XML readers: the first
 * byte picks the format and skip_bad, the rest is written to a scratch file and read to the end.
 * Every document must keep the corpus_doc promises (valid UTF-8, text_len == strlen(text)). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"
#include "corpus/corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid(const char *s) { return s && utf8_valid(s, strlen(s), NULL); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz-corpus-%ld.in", (long)getpid());
    if (size < 1) return 0;
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
    fclose(f);
    struct corpus_opts o = {0};
    o.format = (data[0] & 1) ? CORPUS_MWXML : CORPUS_JSONL;
    o.skip_bad = (data[0] & 2) != 0;
    o.max_record = (data[0] & 4) ? 64 : 0;
    struct corpus_reader *r = NULL;
    struct err e = {0};
    if (corpus_open(&r, path, &o, &e) != 0) {
        unlink(path);
        return 0;
    }
    for (int guard = 0; guard < 100000; guard++) {
        struct corpus_doc d;
        int has = 0;
        int rc = corpus_next(r, &d, &has, &e);
        if (rc != 0) {
            if (!e.msg[0]) abort(); /* every error says why */
            if (o.format == CORPUS_MWXML) break;
            continue; /* JSONL goes on after a bad line */
        }
        if (!has) break;
        if (!valid(d.id) || !valid(d.title) || !valid(d.url) || !valid(d.text)) abort();
        if (strlen(d.text) != d.text_len || !d.id[0]) abort();
    }
    corpus_close(r);
    unlink(path);
    return 0;
}
