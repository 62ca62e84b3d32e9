/* ascii.h - locale-independent ASCII character classes and case mapping. Bytes >= 0x80 are never
 * letters, digits or space here (UTF-8 text is classified by corpus/'s tokenizer, not by these). */
#ifndef VC_ASCII_H
#define VC_ASCII_H

#include <stddef.h>

static inline int ascii_isupper(int c) { return c >= 'A' && c <= 'Z'; }
static inline int ascii_islower(int c) { return c >= 'a' && c <= 'z'; }
static inline int ascii_isalpha(int c) { return ascii_isupper(c) || ascii_islower(c); }
static inline int ascii_isdigit(int c) { return c >= '0' && c <= '9'; }
static inline int ascii_isalnum(int c) { return ascii_isalpha(c) || ascii_isdigit(c); }
static inline int ascii_isxdigit(int c)
{
    return ascii_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/* Space, tab, newline, carriage return, form feed, vertical tab (as C's isspace in the C locale). */
static inline int ascii_isspace(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static inline int ascii_ispunct(int c)
{
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
           (c >= '{' && c <= '~');
}
static inline int ascii_iscntrl(int c) { return (c >= 0 && c < 0x20) || c == 0x7f; }
static inline int ascii_tolower(int c) { return ascii_isupper(c) ? c + ('a' - 'A') : c; }
static inline int ascii_toupper(int c) { return ascii_islower(c) ? c - ('a' - 'A') : c; }
/* Value of a hex digit, or -1. */
static inline int ascii_hexval(int c)
{
    if (ascii_isdigit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* ASCII case-insensitive comparisons (strcasecmp without the locale). */
int ascii_casecmp(const char *a, const char *b);
int ascii_ncasecmp(const char *a, const char *b, size_t n);
/* 1 when the first n bytes of s equal the NUL-terminated `word` ignoring ASCII case. */
int ascii_eq_word(const char *s, size_t n, const char *word);
/* Pointer past leading ASCII space of s[0..*n), with *n reduced; trailing space is cut from *n. */
const char *ascii_trim(const char *s, size_t *n);
/* Rewrite s[0..n) in place with each run of ASCII space as one ' ' and none at either end; returns
 * the new length (a NUL is written there when it is below n). */
size_t ascii_squash(char *s, size_t n);

#endif
