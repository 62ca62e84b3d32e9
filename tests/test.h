/* test.h - the test harness: TEST(name) defines a case, CHECK records and goes on, REQUIRE ends the case.
 *
 * Every TEST(name) in tests/test_*.c is collected by the Makefile into build/tests.def, so adding a
 * case never touches the runner. Run one module with `make test T=idx_` (a name prefix). */
#ifndef VC_TEST_H
#define VC_TEST_H

#include <stdio.h>
#include <string.h>

struct test_ctx {
    const char *name;
    int failed;
    int skipped;
    char skip_reason[256];
};

#define TEST(name) void test_##name(struct test_ctx *t_)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);            \
            t_->failed = 1;                                                                        \
        }                                                                                          \
    } while (0)

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);          \
            t_->failed = 1;                                                                        \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Like CHECK/REQUIRE for an int error code, printing the struct err message on failure. */
#define REQUIRE_OK(rc, e)                                                                          \
    do {                                                                                           \
        int rc_ = (rc);                                                                            \
        if (rc_ != 0) {                                                                            \
            fprintf(stderr, "  %s:%d: REQUIRE_OK failed: %s -> %d (%s)\n", __FILE__, __LINE__, #rc, \
                    rc_, (e).msg);                                                                 \
            t_->failed = 1;                                                                        \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Mark the case skipped (it neither passes nor fails) and end it. */
#define SKIP(...)                                                                                  \
    do {                                                                                           \
        snprintf(t_->skip_reason, sizeof t_->skip_reason, __VA_ARGS__);                            \
        t_->skipped = 1;                                                                           \
        return;                                                                                    \
    } while (0)

/* ---- helpers (tests/testutil.c) ---- */

/* A fresh empty directory under $TMPDIR for this case; removed by the runner afterwards.
 * The returned string lives until the case ends. */
const char *t_tmpdir(struct test_ctx *t_);
/* Write `data` to `dir/name` (creating parent folders). Returns the full path (static per call
 * slot, valid until the case ends) or NULL on failure. */
const char *t_write(struct test_ctx *t_, const char *dir, const char *name, const char *data, size_t len);
/* Read a whole file into a malloc'ed NUL-terminated string (caller frees); NULL on failure. */
char *t_read(const char *path, size_t *len);
/* Path to ../shared/data/<rel> when it exists, else NULL. */
const char *t_shared(struct test_ctx *t_, const char *rel);
/* Run the vericite binary ($VERICITE_BIN or ./vericite) with a shell-quoted argument string.
 * stdout and stderr are captured into malloc'ed strings (caller frees; either pointer may be NULL).
 * Returns the exit status (0-255), or -1 when it could not run or died from a signal. */
int t_run(struct test_ctx *t_, char **out, char **errout, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Run a shell command line (printf-style, through /bin/sh -c) with stdin from /dev/null; stdout and
 * stderr captured like t_run. Returns the exit status (0-255), or -1 when it could not run or died
 * from a signal. */
int t_sh(struct test_ctx *t_, char **out, char **errout, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
struct json_t;
/* Parse JSON Lines (one object per line; blank or unparsable lines are left out) into a new
 * array the caller releases with json_decref(). */
struct json_t *t_json_lines(const char *s);
/* The string member `k` of object `o`, or "" when missing or not a string. */
const char *t_json_str(struct json_t *o, const char *k);
/* true when `hay` contains `needle` (NULL-safe). */
int t_contains(const char *hay, const char *needle);

#endif
