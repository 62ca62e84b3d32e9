/* buf.h - a growable byte buffer, always NUL-terminated. */
#ifndef VC_BUF_H
#define VC_BUF_H

#include <stddef.h>

/* Zero-initialise (struct buf b = {0};), release with buf_cleanup(). data is NULL or NUL-terminated. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

/* Ensure room for `extra` more bytes plus the NUL. Returns 0, or -1 when out of memory. */
int buf_reserve(struct buf *b, size_t extra);
/* Append `n` bytes. Returns 0, or -1 when out of memory (b is unchanged). */
int buf_append(struct buf *b, const char *s, size_t n);
/* Append a NUL-terminated string. Returns 0 or -1. */
int buf_puts(struct buf *b, const char *s);
/* Append one byte. Returns 0 or -1. */
int buf_putc(struct buf *b, char c);
/* Append printf-style text. Returns 0 or -1. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s[0..n) with & < > " ' escaped for HTML text and attribute values (a NUL ends it early).
 * Returns 0 or -1. */
int buf_put_html(struct buf *b, const char *s, size_t n);
/* Set the length to 0, keeping the memory. */
void buf_reset(struct buf *b);
/* Free the memory; b becomes {0}. NULL is allowed. */
void buf_cleanup(struct buf *b);
/* Hand the data to the caller (who frees it with free()); b becomes {0}. Never NULL unless OOM. */
char *buf_steal(struct buf *b);

#endif
