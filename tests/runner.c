/* runner.c - runs every TEST() case (or those whose name starts with one of the arguments, e.g.
 * `vericite-tests serve_ batch_`) and ends with "N passed, N failed, N skipped". Exits 1 on any
 * failure or when nothing ran. */
#include "test.h"

#include <stdlib.h>
#include <time.h>

#define X(name) void test_##name(struct test_ctx *t_);
#include "tests.def"
#undef X

struct test_entry {
    const char *name;
    void (*fn)(struct test_ctx *);
};

static const struct test_entry all_tests[] = {
#define X(name) {#name, test_##name},
#include "tests.def"
#undef X
};

void t_cleanup_case(void);

/* 1 when `name` starts with one of the prefixes (or none was given). */
static int selected(const char *name, int argc, char **argv)
{
    if (argc < 2) return 1;
    for (int i = 1; i < argc; i++)
        if (strncmp(name, argv[i], strlen(argv[i])) == 0) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < sizeof all_tests / sizeof all_tests[0]; i++) {
        if (!selected(all_tests[i].name, argc, argv)) continue;
        struct test_ctx ctx = {.name = all_tests[i].name};
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        all_tests[i].fn(&ctx);
        t_cleanup_case();
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
        if (ctx.skipped && !ctx.failed) {
            skipped++;
            printf("SKIP %s: %s\n", ctx.name, ctx.skip_reason);
        } else if (ctx.failed) {
            failed++;
            printf("FAIL %s (%.0f ms)\n", ctx.name, ms);
        } else {
            passed++;
            printf("ok   %s (%.0f ms)\n", ctx.name, ms);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return (failed || passed == 0) ? 1 : 0;
}
