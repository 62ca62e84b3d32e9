/* fuzz_judge.c - libFuzzer target for the LLM judge's answer reader (ver_judge_parse): byte 0
 * even, the input is the whole answer body; odd, the rest is put as the content string of a
 * well-formed chat completion, so the fuzzer works on the strict verdict object itself. Any bytes:
 * no crash, no leak; an accepted answer has a known verdict and NUL-terminated evidence, a
 * refused one a failure class. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/ver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    struct ver_judge_answer a;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char *wrapped = NULL;
    if (data[0] & 1) {
        json_t *c = json_stringn_nocheck(body, len);
        json_t *o = c ? json_pack("{s:[{s:{s:o}}]}", "choices", "message", "content", c) : NULL;
        wrapped = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!wrapped) return 0;
        body = wrapped;
        len = strlen(wrapped);
    }
    ver_judge_parse(body, len, &a);
    if (a.ok && (a.verdict < 0 || a.verdict > VER_JUDGE_CONTRADICTED ||
                 strlen(a.evidence) > VER_JUDGE_EVIDENCE_MAX))
        abort();
    if (!a.ok && !a.fail[0]) abort();
    free(wrapped);
    return 0;
}
