/* utf8.c - UTF-8 decoding, encoding, validation and repair. */
#include "utf8.h"

size_t utf8_dec(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t k;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2, v = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3, v = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return k;
}

size_t utf8_enc(uint32_t cp, char out[4])
{
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = UTF8_REPLACEMENT;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Offset of the first byte at or after u[i] that does not start a valid sequence, or n. */
static size_t first_bad(const unsigned char *u, size_t i, size_t n)
{
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = utf8_dec(u + i, n - i, &cp);
        if (!k) return i;
        i += k;
    }
    return n;
}

int utf8_valid(const char *s, size_t n, size_t *bad)
{
    size_t i = first_bad((const unsigned char *)s, 0, n);
    if (bad) *bad = i;
    return i == n;
}

/* Length of the maximal subpart of an ill-formed sequence at u[0..n) (at least 1): the lead byte
 * and the continuation bytes that could still have completed it. */
static size_t bad_subpart(const unsigned char *u, size_t n)
{
    unsigned c = u[0];
    size_t k;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else
        return 1;
    size_t i = 1;
    for (; i < k && i < n; i++) {
        unsigned b = u[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80) break;
    }
    return i;
}

int utf8_repair(struct buf *out, const char *s, size_t n, size_t *replaced)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = 0, count = 0, i;
    while ((i = first_bad(u, start, n)) < n) {
        if (buf_append(out, s + start, i - start) || utf8_put(out, UTF8_REPLACEMENT)) return -1;
        start = i + bad_subpart(u + i, n - i);
        count++;
    }
    if (buf_append(out, s + start, n - start)) return -1;
    if (replaced) *replaced = count;
    return 0;
}

size_t utf8_cut(const char *s, size_t n)
{
    while (n && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
    return n;
}

int utf8_put(struct buf *b, uint32_t cp)
{
    char tmp[4];
    size_t k = utf8_enc(cp, tmp);
    return buf_append(b, tmp, k);
}
