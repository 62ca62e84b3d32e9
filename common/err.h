/* err.h - the shared error record: an int code plus a message with context. */
#ifndef VC_ERR_H
#define VC_ERR_H

#include <stddef.h>

enum err_code {
    ERR_OK = 0,
    ERR_NOMEM,    /* allocation failed */
    ERR_IO,       /* file or directory could not be read or written */
    ERR_PARSE,    /* malformed input (JSON, XML, wikitext, TSV) */
    ERR_LIMIT,    /* a size, count or time limit was hit */
    ERR_SQLITE,   /* SQLite returned an error */
    ERR_FAISS,    /* FAISS returned an error */
    ERR_NET,      /* network error, refused URL */
    ERR_ARG,      /* bad argument from the caller or the user */
    ERR_NOTFOUND, /* a named thing does not exist */
    ERR_MISMATCH, /* index built with other settings (embedder, schema) */
    ERR_CORRUPT,  /* a file is truncated or not ours */
    ERR_UTF8,     /* invalid UTF-8 */
    ERR_INTERNAL, /* a bug: an invariant did not hold */
    ERR_BUSY      /* another process holds a lock (the index writer lock) */
};

#define ERR_MSG_MAX 1024

struct err {
    int code;
    char msg[ERR_MSG_MAX];
};

/* Record `code` and a printf-style message in `err` (which may be NULL) and return `code`.
 * Usage: return err_set(err, ERR_IO, "%s: %s", path, strerror(errno)); */
int err_set(struct err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Put printf-style context in front of the message already in `err`: "context: old message".
 * Returns err->code (ERR_OK when err is NULL). */
int err_prefix(struct err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset `err` to ERR_OK with an empty message. NULL is allowed. */
void err_clear(struct err *err);

/* A short name for an error code ("sqlite", "io", ...). Never NULL. */
const char *err_name(int code);

#endif
