/* fuzz_ver_score.c - libFuzzer target for the verifier: the input's first line is a claim, the rest
 * a source text, scored with the built-in model; the whole input is also parsed as a model file.
 * Any bytes: no crash, no leak, the score in [0, 1] and every span inside its text; scored again
 * with the claim's text up to ": " as context, the missing spans stay after it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "verify/ver_score_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Missing spans lie in the claim after its context, non-empty, in order and disjoint. */
static void check_missing(const struct ver_score_result *r, size_t claim_len, size_t ctx)
{
    size_t prev = ctx;
    for (int i = 0; i < r->nmissing; i++) {
        if (r->missing[i].start < prev || r->missing[i].start >= r->missing[i].end ||
            r->missing[i].end > claim_len)
            abort();
        prev = r->missing[i].end;
    }
}

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
        check_missing(&r, strlen(claim), 0);
    }
    /* the same with the claim's text up to its first ": " as context (the audit's title) */
    const char *colon = strstr(claim, ": ");
    size_t ctx = colon ? (size_t)(colon - claim) + 2 : 0;
    if (ver_score_source_ctx(s, claim, ctx, src, len, &r, &e) == 0)
        check_missing(&r, strlen(claim), ctx);
    free(claim);
    return 0;
}
