/* fuzz_audit.c - libFuzzer target for one whole audit: the first byte picks the format (auto,
 * wikitext, Markdown, claims JSONL), the rest is the article; it is repaired to valid UTF-8 as
 * the readers do, extracted, every citation is resolved offline against a small corpus made once
 * (three pages whose URLs seeds cite), scored, given corpus suggestions, and written as JSON. Any bytes: no crash, no leak, one JSON object per
 * result that jansson can write (so every string in it is valid UTF-8) and read back. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"
#include "corpus/corpus.h"
#include "index/idx.h"
#include "verify/ver.h"
#include "verify/ver_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    char dir[80];
    struct idx *ix;
    struct ver_extractor *x;
    struct ver_auditor *au;
};

/* The corpus: made once per process (building it per input would dominate the run). */
static int fz_init(struct fz *f)
{
    static const struct {
        const char *id, *title, *url, *text;
    } docs[] = {
        {"g", "Glaciers", "https://example.org/glaciers",
         "The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020. Rising summer "
         "temperatures drove the retreat."},
        {"b", "Bees", "https://example.org/bees",
         "Neonicotinoid pesticides impair the navigation of honey bees returning to the hive."},
        {"s", "SQLite", "https://example.org/sqlite",
         "In SQLite, write-ahead logging lets readers and writers run concurrently."},
    };
    struct err e = {0};
    const char *tmp = getenv("TMPDIR"); /* tests/fuzz/run.sh points it at its own folder */
    snprintf(f->dir, sizeof f->dir, "%.40s/fuzz-audit-%ld", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    struct idx_opts io = {.create = 1};
    if (idx_open(&f->ix, f->dir, &io, &e) || idx_begin(f->ix, &e)) return -1;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct corpus_doc d = {.id = docs[i].id, .title = docs[i].title, .url = docs[i].url,
                               .text = docs[i].text, .text_len = strlen(docs[i].text), .source = "fuzz"};
        int res;
        if (idx_add(f->ix, &d, &res, &e)) return -1;
    }
    if (idx_commit(f->ix, &e)) return -1;
    struct ver_audit_opts o = {.offline = 1, .suggest = VER_SUGGEST_FAILING};
    if (ver_extractor_new(&f->x, &e) || ver_auditor_new(&f->au, f->ix, &o, &e)) return -1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz f;
    static int ready;
    if (!ready) {
        if (fz_init(&f) != 0) abort();
        ready = 1;
    }
    if (size < 1) return 0;
    struct ver_article *art = NULL;
    struct ver_result *res = NULL;
    int n = 0;
    struct err e = {0};
    enum ver_format fmt = (enum ver_format)(data[0] % 4);
    struct buf text = {0}; /* repaired as the readers do (ver_extract refuses invalid UTF-8) */
    if (utf8_repair(&text, (const char *)data + 1, size - 1, NULL) != 0) return 0;
    if (ver_extractor_run(f.x, &art, text.data ? text.data : "", text.len, fmt, "Fuzz", &e) == 0 &&
        ver_audit(f.au, art, "fuzz", &res, &n, &e) == 0) {
        for (int i = 0; i < n; i++) {
            json_t *o = ver_result_json(&res[i]);
            if (!o) abort(); /* a string that is not valid UTF-8 makes jansson refuse it */
            char *s = json_dumps(o, JSON_COMPACT);
            if (!s) abort();
            json_t *back = json_loads(s, 0, NULL);
            if (!back || !json_equal(back, o)) abort();
            json_decref(back);
            free(s);
            json_decref(o);
        }
        ver_results_free(res, n);
        free(res);
    } else if (!e.msg[0]) {
        abort(); /* every error says why */
    }
    ver_article_free(art);
    buf_cleanup(&text);
    return 0;
}
