/* ascii.c - ASCII comparisons and white space. */
#include "ascii.h"

#include <string.h>

int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = ascii_tolower((unsigned char)*a), y = ascii_tolower((unsigned char)*b);
        if (x != y || !x) return x - y;
    }
}

int ascii_ncasecmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int x = ascii_tolower((unsigned char)a[i]), y = ascii_tolower((unsigned char)b[i]);
        if (x != y || !x) return x - y;
    }
    return 0;
}

int ascii_eq_word(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && ascii_ncasecmp(s, word, n) == 0;
}

const char *ascii_trim(const char *s, size_t *n)
{
    size_t len = *n;
    while (len && ascii_isspace((unsigned char)*s)) s++, len--;
    while (len && ascii_isspace((unsigned char)s[len - 1])) len--;
    *n = len;
    return s;
}

size_t ascii_squash(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ascii_isspace((unsigned char)s[i])) s[o++] = s[i];
        else if (o && s[o - 1] != ' ') s[o++] = ' ';
    }
    if (o && s[o - 1] == ' ') o--;
    if (o < n) s[o] = '\0';
    return o;
}
