/* file.h - files written whole or not at all, folders made with their parents, files read whole
 * with a cap or mapped read-only. The one place vericite does tmp + fsync + rename + directory fsync. */
#ifndef VC_FILE_H
#define VC_FILE_H

#include <stdio.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/* An atomic replacement of `path` under way. Zero-initialise or fill with file_atomic_open().
 * Write through `f` (or, for libraries that write by name, to the file named `tmp`), then
 * file_atomic_commit() or file_atomic_abort(). Until the commit `path` is untouched; after a
 * crash at any point it holds either the old or the new content, never a mix. The temporary
 * name is unique (path.tmp.PID.N...), so two processes replacing the same file never share it. */
struct file_atomic {
    FILE *f;    /* open for writing ("wb") on the temporary file; owned */
    char *tmp;  /* the temporary file's name; owned */
    char *path; /* the destination; owned */
};

/* Create a new temporary file beside `path` (mode 0666 less the umask, as fopen would).
 * Errors: ERR_IO (naming the folder and the reason), ERR_NOMEM. On failure *fa is zeroed. */
int file_atomic_open(struct file_atomic *fa, const char *path, struct err *err);
/* Flush, fsync, close, rename over `path`, fsync the folder. Releases *fa in every case; on
 * failure the temporary file is removed and `path` is as before. Errors: ERR_IO (a write error
 * seen now, such as a full disk, names the file). */
int file_atomic_commit(struct file_atomic *fa, struct err *err);
/* Close and remove the temporary file; release *fa. Safe on a zeroed or released struct. */
void file_atomic_abort(struct file_atomic *fa);

/* Replace `path` with n bytes of data, atomically (the above in one call). Errors: ERR_IO. */
int file_write_atomic(const char *path, const void *data, size_t n, struct err *err);

/* Make folder `dir` and any missing parents (mkdir -p) with `mode` (less the umask). An existing
 * folder is fine; an existing non-folder is ERR_IO naming it. */
int file_mkdirs(const char *dir, mode_t mode, struct err *err);

/* Make the parent folders of file `path` (file_mkdirs of its dirname); nothing when it has none. */
int file_mkparents(const char *path, struct err *err);

/* fsync the folder holding `path` (after a rename or create in it). Errors: ERR_IO. */
int file_sync_dir(const char *path, struct err *err);

/* Map the regular file `path` read-only: *map (NULL for an empty file) and *size, released with
 * file_unmap(). Errors name the file: ERR_NOTFOUND (no such file), ERR_IO (not a regular file,
 * open or mmap failing); then *map is NULL and *size 0. */
int file_map(const char *path, const void **map, size_t *size, struct err *err);
/* Unmap `size` bytes at `map` from file_map(); NULL is allowed. */
void file_unmap(const void *map, size_t size);

/* Append the whole content of `path` to `out`. Errors: ERR_NOTFOUND (no such file), ERR_IO,
 * ERR_LIMIT (larger than `max` bytes; 0 means no cap), ERR_NOMEM. The message names the file. */
int file_read_all(const char *path, size_t max, struct buf *out, struct err *err);

#endif
