/* fuzz_nn_st.c - libFuzzer target for the two model-file readers of index/nn/: byte 0 picks the
 * safetensors reader (even) or the .vcnn reader (odd), the rest is written to a scratch file and
 * opened. With bit 1 set the safetensors file gets an 8-byte header length in front that covers
 * all but the last 4 * (byte 0 >> 2) bytes, so the fuzzer works on the JSON header itself; with
 * bits 0-1 both clear and bit 2 set, the input describes entries (7 bytes each: name, dtype, three
 * dimensions, begin, end) that are written as a well-formed header over 64 bytes of data, which
 * reaches the per-tensor checks. Any
 * bytes: no crash, no leak, no read outside the file: every tensor the safetensors reader accepts
 * is read whole, and so is every weight of an accepted .vcnn file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "index/nn/nn_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A well-formed JSON header from 7-byte entry descriptions, then 64 data bytes. */
static void structured(FILE *f, const uint8_t *d, size_t n)
{
    static const char *names[] = {"embeddings.word_embeddings.weight", "a", "__metadata__", "b",
                                  "c"};
    static const char *dtypes[] = {"F32", "F16", "BF16", "I64", "Q4", "BOOL"};
    char hdr[4096];
    size_t o = (size_t)snprintf(hdr, sizeof hdr, "{");
    for (size_t i = 0; i + 7 <= n && i < 7 * 24 && o < sizeof hdr - 256; i += 7) {
        const uint8_t *e = d + i;
        o += (size_t)snprintf(hdr + o, sizeof hdr - o,
                              "%s\"%s%zu\": {\"dtype\": \"%s\", \"shape\": [%d, %d], "
                              "\"data_offsets\": [%d, %d]}",
                              o > 1 ? ", " : "", names[e[0] % 5], e[0] % 5 == 2 ? 0 : i,
                              dtypes[e[1] % 6], e[2] % 9, e[3] % 9, e[5] % 80, e[6] % 80);
    }
    o += (size_t)snprintf(hdr + o, sizeof hdr - o, "}");
    unsigned char le[8], blob[64] = {0};
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)((uint64_t)o >> (8 * i));
    if (fwrite(le, 1, 8, f) != 8 || fwrite(hdr, 1, o, f) != o || fwrite(blob, 1, 64, f) != 64)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz-nn-st-%ld.in", (long)getpid());
    if (size < 1) return 0;
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if ((data[0] & 7) == 4) {
        structured(f, data + 1, size - 1);
        size = 1; /* nothing more to write */
    } else if ((data[0] & 3) == 2) {
        size_t tail = (size_t)(data[0] >> 2) * 4, body = size - 1;
        uint64_t hlen = body > tail ? body - tail : 0;
        unsigned char le[8];
        for (int i = 0; i < 8; i++)
            le[i] = (unsigned char)(hlen >> (8 * i));
        if (fwrite(le, 1, 8, f) != 8) abort();
    }
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
    fclose(f);
    struct err e = {0};
    volatile float sink = 0;
    if (data[0] & 1) {
        struct nn_model *m = NULL;
        if (nn_model_open(&m, path, &e) == 0) {
            const struct nn_info *in = nn_model_info(m);
            for (int i = 0; i < in->vocab * in->hidden; i++)
                sink += m->word[i];
            for (int i = 0; i < in->ntokens; i++)
                sink += (float)in->tokens[i][0];
            (void)nn_model_verify(m, &e);
            nn_model_close(m);
        }
    } else {
        struct nn_st *s = NULL;
        if (nn_st_open(&s, path, &e) == 0) {
            for (size_t i = 0; i < s->n; i++) {
                size_t es = nn_dtype_size(s->t[i].dtype);
                for (uint64_t k = 0; es && k < s->t[i].numel; k++)
                    sink += nn_st_elem(s->t[i].dtype, s->t[i].data + k * es);
            }
            nn_st_close(s);
        }
    }
    (void)sink;
    unlink(path);
    return 0;
}
