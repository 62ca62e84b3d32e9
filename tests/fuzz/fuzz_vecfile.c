/* fuzz_vecfile.c - libFuzzer target for the word-vectors importer and the vectors-file reader.
 * The first input byte picks the mode: even -> the rest is a source file for emb_vecfile_import()
 * (then the result is opened and queried); odd -> the rest is opened as a .vcvec file directly.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. -Icommon \
 *          tests/fuzz/fuzz_vecfile.c index/embed/emb_vecfile.c index/embed/emb_static.c common/[a-z]*.c -lm \
 *          -o build-fuzz/fuzz_vecfile */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/idx.h"

static char dir[64];

static void poke(const char *path)
{
    struct err e = {0};
    struct emb_vecfile *v = NULL;
    if (emb_vecfile_open(&v, path, &e) != 0) return;
    static const char *const words[] = {"the", "a", "", "heart", "x"};
    volatile float sink = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        const float *x = emb_vecfile_lookup(v, words[i], strlen(words[i]));
        if (x) sink += x[emb_vecfile_dim(v) - 1];
    }
    size_t n;
    const char *w = emb_vecfile_word(v, emb_vecfile_count(v) - 1, &n);
    if (w && n) sink += (float)w[n - 1];
    (void)emb_vecfile_verify(v, &e);
    emb_vecfile_close(v);
    struct emb *em = NULL;
    if (emb_static_new(&em, path, NULL, &e) != 0) return;
    const char *t[] = {"The heart, a word; don't U.S. e-mail 1,000"};
    float *out = malloc((size_t)emb_dim(em) * sizeof *out);
    if (out) emb_embed(em, t, 1, out, &e);
    free(out);
    emb_free(em);
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz-vecfile-XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    char src[128], dst[128];
    snprintf(src, sizeof src, "%s/in", dir);
    snprintf(dst, sizeof dst, "%s/out.vcvec", dir);
    FILE *f = fopen(src, "wb");
    if (!f) abort();
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    if (data[0] % 2 == 0) {
        struct err e = {0};
        unlink(dst);
        if (emb_vecfile_import(src, dst, &e) == 0) poke(dst);
    } else {
        poke(src);
    }
    return 0;
}
