/* fuzz_ver_score.c - libFuzzer target for the verifier: the input's first line is a claim, the rest
 * a source text, scored with the built-in model; the whole input is also parsed as a model file.
 * Any bytes: no crash, no leak, the score in [0, 1] and every span inside its text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "verify/ver_score_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ver_scorer *s; /* made once: building it per input would dominate the run */
    struct err e = {0};
    if (!s && ver_scorer_new(&s, NULL, NULL, &e) != 0) abort();
    const char *text = (const char *)data;
    struct ver_model m;
    (void)ver_model_parse(&m, text, size, "fuzz", &e);

    const char *nl = memchr(text, '\n', size);
    size_t cl = nl ? (size_t)(nl - text) : size;
    char *claim = malloc(cl + 1);
    if (!claim) return 0;
    memcpy(claim, text, cl);
    claim[cl] = '\0'; /* a NUL inside just ends the claim early */
    const char *src = nl ? nl + 1 : text + size;
    size_t len = (size_t)(text + size - src);
    struct ver_score_result r;
    if (ver_score_source(s, claim, src, len, &r, &e) == 0) {
        if (!(r.score >= 0 && r.score <= 1)) abort();
        if (r.win_start > r.win_end || r.win_end > len) abort();
        for (int i = 0; i < r.nmatch; i++)
            if (r.match[i].start >= r.match[i].end || r.match[i].end > r.win_end - r.win_start)
                abort();
    }
    free(claim);
    return 0;
}
