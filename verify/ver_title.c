/* ver_title.c - does a citation's stated title name the page it points at? Compares the two
 * titles' words as the index tokenizes them (folded, stemmed, no stop words). */
#include <string.h>

#include "corpus/corpus.h"
#include "verify/ver.h"
#include "ascii.h"

#define TITLE_MAX_TERMS 64

struct title_terms {
    char t[TITLE_MAX_TERMS][CORPUS_TOK_MAX + 1];
    int n;
};

static int title_has(const struct title_terms *s, const char *term, size_t len)
{
    for (int i = 0; i < s->n; i++)
        if (strlen(s->t[i]) == len && !memcmp(s->t[i], term, len)) return 1;
    return 0;
}

static int title_add(void *ctx, const char *term, size_t len, int pos, size_t start, size_t end)
{
    (void)pos, (void)start, (void)end;
    struct title_terms *s = ctx;
    if (s->n >= TITLE_MAX_TERMS || len > CORPUS_TOK_MAX || title_has(s, term, len)) return 0;
    memcpy(s->t[s->n], term, len);
    s->t[s->n++][len] = '\0';
    return 0;
}

/* Titles that name no page in particular ("Official website"): never a mismatch. */
static int generic(const char *t)
{
    static const char *const names[] = {"official website", "official site", "website", "web site", "homepage",
                                        "home page", "home", "official homepage", "official web site"};
    while (*t == ' ') t++;
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '.')) n--;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && !ascii_ncasecmp(t, names[i], n)) return 1;
    return 0;
}

int ver_title_mismatch(const char *stated, const char *real)
{
    if (!stated || !real || !*stated || !*real) return 0;
    struct corpus_tok *tok = NULL;
    if (corpus_tok_new(&tok, 0, NULL) != ERR_OK) return 0;
    struct title_terms a = {.n = 0}, b = {.n = 0};
    corpus_tok_run(tok, stated, strlen(stated), title_add, &a);
    corpus_tok_run(tok, real, strlen(real), title_add, &b);
    corpus_tok_free(tok);
    if (a.n == 0 || b.n == 0 || generic(stated)) return 0;
    int common = 0;
    for (int i = 0; i < a.n; i++) common += title_has(&b, a.t[i], strlen(a.t[i]));
    return 2 * common < a.n;
}
