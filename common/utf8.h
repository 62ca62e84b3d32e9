/* utf8.h - the one UTF-8 decoder and encoder of vericite (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
#ifndef VC_UTF8_H
#define VC_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define UTF8_REPLACEMENT 0xfffdu

/* Decode one code point from s[0..n) (n >= 1) into *cp. Returns the bytes it took (1-4), or 0
 * when s does not start with a valid sequence (*cp untouched). */
size_t utf8_dec(const unsigned char *s, size_t n, uint32_t *cp);

/* Encode cp (<= U+10FFFF, not a surrogate: else U+FFFD is written) into out. Returns 1-4. */
size_t utf8_enc(uint32_t cp, char out[4]);

/* 1 when s[0..n) is valid UTF-8, else 0; *bad (may be NULL) gets the offset of the first bad
 * byte (n when valid). */
int utf8_valid(const char *s, size_t n, size_t *bad);

/* Append s[0..n) to out with every invalid sequence replaced by U+FFFD (one per maximal bad
 * subpart, as the WHATWG decoder does). *replaced (may be NULL) gets how many were replaced.
 * Returns 0, or -1 when out of memory. */
int utf8_repair(struct buf *out, const char *s, size_t n, size_t *replaced);

/* Where s may be cut at or before byte n without splitting a character: n moved back over
 * continuation bytes (s[n] is read when n > 0, so s holds more than n bytes or a NUL at n). */
size_t utf8_cut(const char *s, size_t n);

/* Append cp as UTF-8 to b. Returns 0 or -1 (out of memory). */
int utf8_put(struct buf *b, uint32_t cp);

#endif
