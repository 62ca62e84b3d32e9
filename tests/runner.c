/* runner.c - runs every TEST() case (or those whose name starts with argv[1]) and ends with
 * "N passed, N failed". Exits 1 on any failure or when nothing ran. */
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

int main(int argc, char **argv)
{
    const char *prefix = argc > 1 ? argv[1] : "";
    int passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < sizeof all_tests / sizeof all_tests[0]; i++) {
        if (strncmp(all_tests[i].name, prefix, strlen(prefix)) != 0) continue;
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
