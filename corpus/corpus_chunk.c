/* corpus_chunk.c - splits a document's text into passages of about N words (Sphere-style),
 * never inside a word, preferring sentence ends near the target length. */
#include "corpus.h"

#include "ascii.h"

int corpus_word_count(const char *text, size_t len)
{
    int n = 0, in = 0;
    for (size_t i = 0; i < len; i++) {
        int sp = ascii_isspace((unsigned char)text[i]);
        if (!sp && !in) n++;
        in = !sp;
    }
    return n;
}

/* Does the word text[s, e) end a sentence? ("end." "end?" "end!" "end.)" "end.\"") */
static int ends_sentence(const char *text, size_t s, size_t e)
{
    while (e > s && (text[e - 1] == '"' || text[e - 1] == '\'' || text[e - 1] == ')' ||
                     text[e - 1] == ']'))
        e--;
    if (e <= s) return 0;
    char c = text[e - 1];
    if (c != '.' && c != '!' && c != '?') return 0;
    /* a single capital letter plus period is an initial ("J."), not a sentence end */
    if (c == '.' && e - s == 2 && ascii_isupper((unsigned char)text[s])) return 0;
    return 1;
}

int corpus_chunk(const char *text, size_t len, int words, corpus_chunk_cb cb, void *ctx)
{
    if (words < 1) words = 1;
    int total = corpus_word_count(text, len);
    if (total == 0) return 0;
    int soft = words - words / 4; /* from here on, a sentence end closes the passage */
    int left = total;             /* words not yet placed in a passage */
    size_t i = 0;
    while (left > 0) {
        struct corpus_span sp = {0, 0, 0};
        /* the tail joins this passage when what would remain is short */
        int take_all = left <= words + words / 2;
        while (i < len && ascii_isspace((unsigned char)text[i])) i++;
        sp.start = i;
        while (i < len) {
            size_t ws = i;
            while (i < len && !ascii_isspace((unsigned char)text[i])) i++;
            sp.end = i;
            sp.words++;
            left--;
            if (left == 0) break;
            if (!take_all) {
                if (sp.words >= words) break;
                if (sp.words >= soft && ends_sentence(text, ws, i)) break;
            }
            while (i < len && ascii_isspace((unsigned char)text[i])) i++;
        }
        int rc = cb(ctx, &sp);
        if (rc) return rc;
    }
    return 0;
}
