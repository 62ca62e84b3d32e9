/* fuzz_nn_st.c - libFuzzer target for the two model-file readers of index/nn/: byte 0 picks the
 * safetensors reader (even) or the .vcnn reader (odd), the rest is written to a scratch file and
 * opened. Any bytes: no crash, no leak, no read outside the file: every tensor the safetensors
 * reader accepts is read whole, and so is every weight of an accepted .vcnn file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "index/nn/nn_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz-nn-st-%ld.in", (long)getpid());
    if (size < 1) return 0;
    FILE *f = fopen(path, "wb");
    if (!f) abort();
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
