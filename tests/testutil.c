/* testutil.c - helpers for the test cases: temp folders, fixture files, running the CLI. */
#include "test.h"

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"

#define T_MAX_PATHS 64

static char tmp_root[PATH_MAX];
static char paths[T_MAX_PATHS][PATH_MAX];
static int npaths;

void t_cleanup_case(void);
void t_cleanup_case(void)
{
    if (tmp_root[0] && !getenv("VC_TEST_KEEP")) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
        if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", tmp_root);
    }
    tmp_root[0] = '\0';
    npaths = 0;
}

const char *t_tmpdir(struct test_ctx *t_)
{
    (void)t_;
    if (tmp_root[0]) return tmp_root;
    const char *base = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/vctest-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp_root)) {
        tmp_root[0] = '\0';
        return NULL;
    }
    return tmp_root;
}

const char *t_write(struct test_ctx *t_, const char *dir, const char *name, const char *data, size_t len)
{
    (void)t_;
    if (npaths >= T_MAX_PATHS) return NULL;
    char *p = paths[npaths];
    snprintf(p, PATH_MAX, "%s/%s", dir, name);
    if (file_mkparents(p, NULL) != ERR_OK) return NULL;
    FILE *f = fopen(p, "wb");
    if (!f) return NULL;
    size_t w = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || w != len) return NULL;
    npaths++;
    return p;
}

char *t_read(const char *path, size_t *len)
{
    struct buf b = {0};
    if (file_read_all(path, 0, &b, NULL) != ERR_OK) {
        buf_cleanup(&b);
        return NULL;
    }
    if (len) *len = b.len;
    return buf_steal(&b);
}

const char *t_shared(struct test_ctx *t_, const char *rel)
{
    (void)t_;
    if (npaths >= T_MAX_PATHS) return NULL;
    const char *root = getenv("VC_SHARED");
    char *p = paths[npaths];
    snprintf(p, PATH_MAX, "%s/data/%s", root && *root ? root : "../shared", rel);
    if (access(p, R_OK) != 0) return NULL;
    npaths++;
    return p;
}

static char *slurp_fd_file(const char *path)
{
    char *s = t_read(path, NULL);
    unlink(path);
    return s;
}

/* Run `cmd` through the shell with output captured into *out / *errout (see t_sh). */
static int run_captured(struct test_ctx *t_, char **out, char **errout, const char *cmdline)
{
    if (out) *out = NULL;
    if (errout) *errout = NULL;
    const char *dir = t_tmpdir(t_);
    if (!dir) return -1;
    char ofile[PATH_MAX], efile[PATH_MAX];
    snprintf(ofile, sizeof ofile, "%s/.run.out", dir);
    snprintf(efile, sizeof efile, "%s/.run.err", dir);
    size_t cmdlen = strlen(cmdline) + 2 * PATH_MAX + 64;
    char *cmd = malloc(cmdlen);
    if (!cmd) return -1;
    snprintf(cmd, cmdlen, "%s >'%s' 2>'%s' </dev/null", cmdline, ofile, efile);
    int st = system(cmd);
    free(cmd);
    char *o = slurp_fd_file(ofile), *e = slurp_fd_file(efile);
    if (out) *out = o; else free(o);
    if (errout) *errout = e; else free(e);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

int t_run(struct test_ctx *t_, char **out, char **errout, const char *fmt, ...)
{
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *bin = getenv("VERICITE_BIN");
    if (!bin || !*bin) bin = "./vericite";
    size_t n = strlen(bin) + strlen(args) + 2;
    char *cmd = malloc(n);
    if (!cmd) return -1;
    snprintf(cmd, n, "%s %s", bin, args);
    int rc = run_captured(t_, out, errout, cmd);
    free(cmd);
    return rc;
}

int t_sh(struct test_ctx *t_, char **out, char **errout, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    /* in a subshell, so that the redirections apply to the whole command line */
    char wrapped[8192 + 8];
    snprintf(wrapped, sizeof wrapped, "( %s )", cmd);
    return run_captured(t_, out, errout, wrapped);
}

int t_contains(const char *hay, const char *needle)
{
    return hay && needle && strstr(hay, needle) != NULL;
}

json_t *t_json_lines(const char *s)
{
    json_t *arr = json_array();
    while (arr && s && *s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len > 0) {
            json_t *o = json_loadb(s, len, 0, NULL);
            if (o) json_array_append_new(arr, o);
        }
        s = nl ? nl + 1 : s + len;
    }
    return arr;
}

const char *t_json_str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}
