/* file.c - atomic file replacement, mkdir -p, whole-file reads. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* The folder part of path ("." when none) into a new string. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return dup_str(".");
    if (slash == path) return dup_str("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

int file_sync_dir(const char *path, struct err *err)
{
    char *dir = dir_of(path);
    if (!dir) return err_set(err, ERR_NOMEM, "%s", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = ERR_OK;
    if (fd < 0)
        rc = err_set(err, ERR_IO, "%s: %s", dir, strerror(errno));
    else {
        /* Some file systems refuse fsync on folders (EINVAL); that is not a failure of ours. */
        if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
            rc = err_set(err, ERR_IO, "%s: fsync: %s", dir, strerror(errno));
        close(fd);
    }
    free(dir);
    return rc;
}

int file_atomic_open(struct file_atomic *fa, const char *path, struct err *err)
{
    memset(fa, 0, sizeof *fa);
    struct buf tmp = {0};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* pid + time + the struct's address: unique across processes and threads; retried on EEXIST. */
    uint64_t salt = (uint64_t)ts.tv_nsec ^ ((uint64_t)(uintptr_t)fa << 7);
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        buf_reset(&tmp);
        if (buf_printf(&tmp, "%s.tmp.%ld.%llx", path, (long)getpid(),
                       (unsigned long long)(salt + (uint64_t)attempt * 0x9e3779b97f4a7c15ull) & 0xffffffffull)) {
            buf_cleanup(&tmp);
            return err_set(err, ERR_NOMEM, "%s", path);
        }
        fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        int e = errno;
        char *dir = dir_of(path);
        err_set(err, ERR_IO, "%s: cannot create a file in %s: %s", path, dir ? dir : ".", strerror(e));
        free(dir);
        buf_cleanup(&tmp);
        return ERR_IO;
    }
    fa->f = fdopen(fd, "wb");
    fa->tmp = buf_steal(&tmp);
    fa->path = dup_str(path);
    if (!fa->f || !fa->tmp || !fa->path) {
        if (!fa->f) close(fd);
        file_atomic_abort(fa);
        return err_set(err, ERR_NOMEM, "%s", path);
    }
    return ERR_OK;
}

static void release(struct file_atomic *fa)
{
    free(fa->tmp);
    free(fa->path);
    memset(fa, 0, sizeof *fa);
}

void file_atomic_abort(struct file_atomic *fa)
{
    if (!fa) return;
    if (fa->f) fclose(fa->f);
    if (fa->tmp) unlink(fa->tmp);
    release(fa);
}

int file_atomic_commit(struct file_atomic *fa, struct err *err)
{
    int rc = ERR_OK;
    if (fa->f) {
        int bad = ferror(fa->f) || fflush(fa->f) != 0;
        int e = errno;
        if (!bad && fsync(fileno(fa->f)) != 0) bad = 1, e = errno;
        if (fclose(fa->f) != 0 && !bad) bad = 1, e = errno;
        fa->f = NULL;
        if (bad) rc = err_set(err, ERR_IO, "%s: write: %s", fa->path, strerror(e ? e : EIO));
    } else {
        /* Written by name (a library that takes a file name): sync it through a new descriptor. */
        int fd = open(fa->tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) rc = err_set(err, ERR_IO, "%s: %s", fa->tmp, strerror(errno));
        if (fd >= 0) close(fd);
    }
    if (rc == ERR_OK && rename(fa->tmp, fa->path) != 0)
        rc = err_set(err, ERR_IO, "%s: rename: %s", fa->path, strerror(errno));
    if (rc != ERR_OK) {
        unlink(fa->tmp);
        release(fa);
        return rc;
    }
    rc = file_sync_dir(fa->path, err);
    release(fa);
    return rc;
}

int file_write_atomic(const char *path, const void *data, size_t n, struct err *err)
{
    struct file_atomic fa;
    int rc = file_atomic_open(&fa, path, err);
    if (rc) return rc;
    if (n && fwrite(data, 1, n, fa.f) != n) {
        int e = errno;
        file_atomic_abort(&fa);
        return err_set(err, ERR_IO, "%s: write: %s", path, strerror(e));
    }
    return file_atomic_commit(&fa, err);
}

int file_mkdirs(const char *dir, mode_t mode, struct err *err)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p) return err_set(err, ERR_NOMEM, "%s", dir);
    memcpy(p, dir, n + 1);
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    int rc = ERR_OK;
    for (size_t i = 1; i <= n && rc == ERR_OK; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            rc = err_set(err, ERR_IO, "%s: %s", p, strerror(errno));
        else {
            struct stat st;
            if (stat(p, &st) != 0)
                rc = err_set(err, ERR_IO, "%s: %s", p, strerror(errno));
            else if (!S_ISDIR(st.st_mode))
                rc = err_set(err, ERR_IO, "%s: exists and is not a folder", p);
        }
        p[i] = c;
    }
    free(p);
    return rc;
}

int file_mkparents(const char *path, struct err *err)
{
    if (!strchr(path, '/')) return ERR_OK;
    char *dir = dir_of(path);
    if (!dir) return err_set(err, ERR_NOMEM, "%s", path);
    int rc = file_mkdirs(dir, 0777, err);
    free(dir);
    return rc;
}

int file_map(const char *path, const void **map, size_t *size, struct err *err)
{
    *map = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    int rc = ERR_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = err_set(err, ERR_IO, "%s: not a regular file", path);
    else if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            rc = err_set(err, ERR_IO, "%s: mmap: %s", path, strerror(errno));
        else
            *map = p, *size = (size_t)st.st_size;
    }
    close(fd);
    return rc;
}

void file_unmap(const void *map, size_t size)
{
    if (map) munmap((void *)map, size);
}

int file_read_all(const char *path, size_t max, struct buf *out, struct err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path, strerror(errno));
    char chunk[65536];
    size_t got, total = 0;
    int rc = ERR_OK;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        total += got;
        if (max && total > max) {
            rc = err_set(err, ERR_LIMIT, "%s: larger than %zu bytes", path, max);
            break;
        }
        if (buf_append(out, chunk, got)) {
            rc = err_set(err, ERR_NOMEM, "%s", path);
            break;
        }
    }
    if (rc == ERR_OK && ferror(f)) rc = err_set(err, ERR_IO, "%s: read: %s", path, strerror(errno));
    fclose(f);
    return rc;
}
