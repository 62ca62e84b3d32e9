/* corpus_read_int.h - the reader handle shared by corpus_read.c and the per-format readers
 * (corpus_jsonl.c, corpus_dir.c, corpus_mwxml.c). Private to the corpus module. */
#ifndef VC_CORPUS_READ_INT_H
#define VC_CORPUS_READ_INT_H

#include <stdio.h>

#include "corpus.h"

struct corpus_mw; /* MediaWiki XML state (corpus_mwxml.c) */

struct corpus_reader {
    enum corpus_format format;
    char *path;       /* as given to corpus_open() */
    char *url_prefix; /* DIR only; "" when none */
    int skip_bad;
    size_t max_record;
    int raw_wikitext; /* MWXML: the page's wikitext instead of plain text */

    long skipped;      /* records skipped so far */
    char *first_skip;  /* the first skip's reason, or NULL */
    int skippable;     /* set by a format reader: its last error may be skipped with skip_bad */
    int fatal;         /* set by a format reader: the input cannot be read any further */
    struct err fatal_err;

    uint64_t done, total; /* progress in input bytes */

    /* the current document's strings, owned here */
    struct buf id, title, url, text, source;
    struct buf scratch; /* raw record bytes (a JSONL line, a file) */
    struct buf fix;     /* a field with its invalid UTF-8 replaced (corpus_next's last check) */
    struct corpus_html_budget html; /* DIR: for corpus_html_text_budget() */

    /* JSONL */
    FILE *f;
    int is_stdin; /* path "-": f is stdin, not closed here */
    long line;
    char *chunk;              /* read-ahead buffer, CORPUS_CHUNK bytes */
    size_t chunk_pos, chunk_len;
    int eof;

    /* DIR */
    char **files; /* relative paths, sorted */
    size_t nfiles, next_file;

    /* MWXML */
    struct corpus_mw *mw;
};

#define CORPUS_CHUNK (64u << 10)

int corpus_jsonl_next(struct corpus_reader *r, struct corpus_doc *doc, int *has, struct err *err);

/* Walk the folder at open time (sorted relative paths, total size). */
int corpus_dir_open(struct corpus_reader *r, struct err *err);
int corpus_dir_next(struct corpus_reader *r, struct corpus_doc *doc, int *has, struct err *err);
void corpus_dir_close(struct corpus_reader *r);

int corpus_mwxml_open(struct corpus_reader *r, struct err *err);
int corpus_mwxml_next(struct corpus_reader *r, struct corpus_doc *doc, int *has, struct err *err);
void corpus_mwxml_close(struct corpus_reader *r);

/* Fill *doc from the reader's buffers (id, title, url, text, source). */
void corpus_doc_fill(struct corpus_reader *r, struct corpus_doc *doc, long line);

#endif
