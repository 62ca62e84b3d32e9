/* ver_sent.c - sentence splitting of plain text, aware of abbreviations, initials and numbers. */
#include "ver.h"

#include <stdint.h>
#include <string.h>

#include "ascii.h"
#include "corpus/corpus.h"

/* Words that take a period but rarely end a sentence (compared without case, period excluded). */
static const char *const ver_abbrevs[] = {
    "mr",   "mrs",  "ms",   "dr",    "prof", "sr",   "jr",   "st",   "mt",    "ft",   "gen",
    "col",  "lt",   "maj",  "sgt",   "capt", "cmdr", "adm",  "gov",  "sen",   "rep",  "rev",
    "hon",  "pres", "inc",  "ltd",   "co",   "corp", "bros", "jan",  "feb",   "mar",  "apr",
    "jun",  "jul",  "aug",  "sep",   "sept", "oct",  "nov",  "dec",  "no",    "nos",  "vol",
    "vols", "pp",   "ed",   "eds",   "fig",  "figs", "ca",   "cf",   "al",    "approx", "dept",
    "est",  "vs",   "op",   "ch",    "sec",  "art",  "univ", "assn", "ave",   "blvd", "mssrs",
    "messrs", "fl", "nr",   "viz",   "esp",  "incl", "govt", "rs",   "rt",    "cap",
};

/* Length of a closing quote/bracket at s[i] (0 if none). */
static size_t closer_len(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\'' || c == ')' || c == ']') return 1;
    if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
        ((unsigned char)s[i + 2] == 0x9D || (unsigned char)s[i + 2] == 0x99))
        return 3; /* ” ’ */
    if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0xBB) return 2; /* » */
    return 0;
}

/* Length of a terminator at s[i]: . ! ? or … (0 if none). */
static size_t stop_len(const char *s, size_t len, size_t i)
{
    char c = s[i];
    if (c == '.' || c == '!' || c == '?') return 1;
    if ((unsigned char)c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
        (unsigned char)s[i + 2] == 0xA6)
        return 3;
    return 0;
}

/* Is the word ending just before the period at `dot` an abbreviation or initial? */
static int is_abbrev(const char *s, size_t dot)
{
    size_t b = dot;
    while (b > 0 && !ascii_isspace((unsigned char)s[b - 1])) b--;
    /* drop opening punctuation */
    while (b < dot && (s[b] == '(' || s[b] == '"' || s[b] == '\'' || s[b] == '[')) b++;
    size_t n = dot - b;
    if (n == 0) return 0;
    if (memchr(s + b, '.', n)) {
        /* "U.S", "e.g", "Ph.D": dotted, but not "...word" from an ellipsis */
        int letters = 0;
        for (size_t i = b; i < dot; i++)
            if (s[i] != '.') letters++;
        return letters > 0 && s[b] != '.';
    }
    unsigned char c0 = (unsigned char)s[b];
    if (n == 1 && ascii_isalpha(c0)) return 1;
    if (n > 8) return 0;
    for (size_t i = 0; i < sizeof ver_abbrevs / sizeof ver_abbrevs[0]; i++)
        if (ascii_eq_word(s + b, n, ver_abbrevs[i])) return 1;
    return 0;
}

/* A double quotation mark at s[i]: its length, and *opens set to 1 for an opening one (“, or a
 * straight " with no quote open), 0 for a closing one (”, or " closing `open`). 0 if none. */
static size_t dquote_len(const char *s, size_t len, size_t i, int open, int *opens)
{
    if (s[i] == '"') {
        *opens = !open;
        return 1;
    }
    if ((unsigned char)s[i] == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
        ((unsigned char)s[i + 2] == 0x9C || (unsigned char)s[i + 2] == 0x9D)) {
        *opens = (unsigned char)s[i + 2] == 0x9C;
        return 3;
    }
    return 0;
}

/* Does a quotation opened at `from` close by from + VER_SENT_QUOTE_MAX, on the same line, after
 * s[j]? Then a stop inside it ends no sentence ("He said, "We won. It was great." Then ...").
 * A quote that stays open (a stray mark, a block quotation) splits as plain text. */
#define VER_SENT_QUOTE_MAX 500
static int quote_closes(const char *s, size_t len, size_t from, size_t j)
{
    size_t lim = from + VER_SENT_QUOTE_MAX < len ? from + VER_SENT_QUOTE_MAX : len;
    for (int opens; j < lim && s[j] != '\n'; j++)
        if (dquote_len(s, len, j, 1, &opens) && !opens) return 1;
    return 0;
}

/* Could the byte at s[i] start a new sentence? Lower-case ASCII letters cannot. */
static int can_start(unsigned char c) { return !ascii_islower(c); }

/* A blank line at s[i] (a newline, optional spaces, another newline)? */
static int blank_line(const char *s, size_t len, size_t i)
{
    if (s[i] != '\n') return 0;
    for (size_t j = i + 1; j < len; j++) {
        if (s[j] == '\n') return 1;
        if (s[j] != ' ' && s[j] != '\t' && s[j] != '\r') return 0;
    }
    return 0;
}

int ver_sentences(const char *text, size_t len, ver_sent_cb cb, void *ctx)
{
    size_t i = 0;
    /* where the open double quotation began (SIZE_MAX: none); one begun in an earlier sentence
     * (too long to hold its sentences together) is still closed by its mark */
    size_t qopen = SIZE_MAX;
    while (i < len) {
        for (; i < len && ascii_isspace((unsigned char)text[i]); i++)
            if (text[i] == '\n') qopen = SIZE_MAX;
        if (i >= len) break;
        size_t start = i, end = len, next = len;
        while (i < len) {
            if (blank_line(text, len, i)) {
                end = i;
                next = i + 1;
                break;
            }
            size_t sl = stop_len(text, len, i);
            if (!sl) {
                int opens;
                size_t ql = dquote_len(text, len, i, qopen != SIZE_MAX, &opens);
                if (ql) qopen = opens ? i : SIZE_MAX;
                if (text[i] == '\n') qopen = SIZE_MAX; /* quotations do not span lines */
                i += ql ? ql : 1;
                continue;
            }
            size_t j = i + sl, k;
            int period = text[i] == '.';
            while (j < len && (k = stop_len(text, len, j)) != 0) { /* "?!", "..." */
                if (text[j] != '.') period = 0;
                j += k;
            }
            while (j < len && (k = closer_len(text, len, j)) != 0) {
                int opens;
                if (dquote_len(text, len, j, qopen != SIZE_MAX, &opens) && !opens) qopen = SIZE_MAX;
                j += k;
            }
            if (j >= len) { /* end of text */
                end = len;
                next = len;
                i = len;
                break;
            }
            if (!ascii_isspace((unsigned char)text[j])) { /* 3.14, U.S.A, example.com */
                i = j;
                continue;
            }
            size_t w = j;
            while (w < len && ascii_isspace((unsigned char)text[w]) && !blank_line(text, len, w)) w++;
            if (w < len && blank_line(text, len, w)) {
                end = j;
                next = w;
                break;
            }
            if (w >= len) {
                end = j;
                next = len;
                break;
            }
            int boundary = can_start((unsigned char)text[w]);
            /* "Dr. Who", "Inc.)", "J. R. R. Tolkien", "U.S. Army": no boundary */
            if (boundary && period && sl == 1 && is_abbrev(text, i)) boundary = 0;
            if (boundary && qopen != SIZE_MAX && quote_closes(text, len, qopen, j)) boundary = 0;
            if (boundary) {
                end = j;
                next = w;
                break;
            }
            i = j;
        }
        /* trim trailing white space */
        while (end > start && ascii_isspace((unsigned char)text[end - 1])) end--;
        if (end > start) {
            int rc = cb(ctx, start, end);
            if (rc) return rc;
        }
        i = next > start ? next : start + 1;
    }
    return 0;
}

int ver_word_count(const char *text, size_t len) { return corpus_word_count(text, len); }
