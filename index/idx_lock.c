/* idx_lock.c - the index writer lock: one process at a time writes an index (index run, remove,
 * optimize, backend sync), so two runs never interleave their totals, postings or vectors.faiss.
 *
 * The lock is flock(LOCK_EX) on DIR/index.lock, a file that holds the owner's PID (for the
 * message of a waiting or refused writer). flock locks belong to the open file: the kernel drops
 * the lock when the process ends, however it ends, so a crashed writer never leaves the index
 * locked. The file itself stays (it is empty of meaning without the lock). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "idx_int.h"

/* The PID written in the lock file (0 when none or unreadable). */
static long lock_owner(int fd)
{
    char b[32];
    ssize_t n = pread(fd, b, sizeof b - 1, 0);
    if (n <= 0) return 0;
    b[n] = '\0';
    char *end = NULL;
    long pid = strtol(b, &end, 10);
    return end != b && pid > 0 ? pid : 0;
}

int idx_lock_writer(struct idx *ix, int wait, idx_lock_wait_cb cb, void *ctx, struct err *err)
{
    if (ix->readonly) return err_set(err, ERR_ARG, "%s: index opened read-only", ix->dir);
    if (ix->lock_fd >= 0) return ERR_OK; /* already held by this handle */
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", ix->dir, IDX_LOCK_NAME) >= (int)sizeof path)
        return err_set(err, ERR_ARG, "%s: path too long", ix->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
    int r;
    while ((r = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
    }
    if (r != 0 && errno == EWOULDBLOCK) {
        long pid = lock_owner(fd);
        if (!wait) {
            close(fd);
            if (pid)
                return err_set(err, ERR_BUSY, "%s: the writer PID %ld holds the index (lock %s); not waiting",
                               ix->dir, pid, path);
            return err_set(err, ERR_BUSY, "%s: another writer holds the index (lock %s); not waiting",
                           ix->dir, path);
        }
        if (cb) cb(ctx, pid, path);
        while ((r = flock(fd, LOCK_EX)) != 0 && errno == EINTR) {
        }
    }
    if (r != 0) {
        int e = errno;
        close(fd);
        return err_set(err, ERR_IO, "%s: lock: %s", path, strerror(e));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(fd); /* releases the lock */
        return err_set(err, ERR_IO, "%s: write: %s", path, strerror(e));
    }
    ix->lock_fd = fd;
    return ERR_OK;
}

void idx_unlock_writer(struct idx *ix)
{
    if (!ix || ix->lock_fd < 0) return;
    close(ix->lock_fd); /* drops the flock; the PID left in the file means nothing without it */
    ix->lock_fd = -1;
}
