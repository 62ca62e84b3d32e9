/* ver_int.h - internal to verify/: the extraction intermediate shared by the format readers.
 *
 * A reader (wikitext, Markdown) turns the input into plain text `pt` (a byte map gives each plain
 * byte's input offset), split into blocks (paragraphs, list items, infobox fields, table rows),
 * plus anchors: positions in `pt` where a reference is cited. ver_extract.c then splits blocks into
 * sentences and attaches each anchor to the sentence it closes. The wikitext reader takes its text
 * from corpus/'s wikitext engine (the same rendering as indexing) and adds citation meaning. */
#ifndef VC_VER_INT_H
#define VC_VER_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>

#include "buf.h"
#include "corpus/corpus.h"
#include "ver.h"

#define VER_MAX_ANCHORS 100000 /* citations in one article (ERR_LIMIT beyond) */
#define VER_MAX_BIBLIO 2000    /* bibliography entries kept for {{sfn}} matching (more are ignored) */
#define VER_TITLE_MAX 300      /* free-text ref titles are cut to this many bytes */
#define VER_RAW_MAX 16384      /* a citation's raw wikitext is cut to this many bytes */
#define VER_FIELD_MAX 4096     /* other citation fields are cut to this many bytes */
#define VER_MAX_OUTPUT (256u << 20) /* bytes of claims and citations from one article (ERR_LIMIT) */

struct ver_extractor {
    pcre2_code *re_url;     /* a bare http(s)/ftp URL */
    pcre2_code *re_year;    /* a year (1000-2099) with an optional letter suffix */
    pcre2_code *re_md_def;  /* ^[^label]: a Markdown footnote definition */
    pcre2_code *re_md_link; /* [text](http...) or ![alt](...) */
    pcre2_code *re_md_refdef; /* ^[label]: http... "title" : a reference-style link definition */
    pcre2_code *re_md_reflink; /* [text][label] (run anchored) */
    pcre2_code *re_jsonl;   /* `{` then `"` or `}`: a JSON Lines input */
    pcre2_match_data *md;   /* scratch match data, reused */
};

/* One reference-list entry. */
struct vx_ref {
    char *key;               /* group \x1f name (or "\x1esfn..." for sfn), owned; NULL if unnamed */
    struct ver_citation cit; /* parsed citation; strings owned */
    int defined;             /* content seen */
    int number;              /* 1-based number in its group, 0 until first cited */
    char *sfn_last, *sfn_year; /* {{sfn}}/{{harvnb}}: to match against the bibliography, owned */
};

struct vx_anchor {
    size_t pt;  /* position in pt */
    int ref;    /* index in refs, or -1 for a needs-source marker */
    char *raw;  /* needs-source: the marker's wikitext, owned */
};

struct vx_block {
    size_t start, end; /* span in pt */
    int field;         /* infobox field / table row / caption: never merged with the sentence before */
    int section;       /* index in sections, -1 before any heading */
};

struct vx_bib {
    struct ver_citation cit;
    char *last; /* lower-case last name of the first author, owned */
    char *year; /* four digits, owned */
};

/* State saved before emitting text that may be rolled back. */
struct vx_mark {
    size_t ptlen, nblocks, block_start, nanchors;
    int cur_field;
};

#define VX_MAX_MARKS 64 /* fields and headings open at once (the engine nests 40 deep at most) */

struct vx {
    struct ver_extractor *x;
    const char *src; /* the (possibly unescaped) input */
    size_t len;
    struct buf pt;   /* plain text */
    uint32_t *map;   /* (pt.len) input offset of each plain byte */
    size_t map_cap;
    struct vx_block *blocks;
    size_t nblocks, cap_blocks;
    size_t block_start;
    int cur_field;
    char **sections;
    size_t nsections, cap_sections;
    int cur_section;
    struct vx_anchor *anchors;
    size_t nanchors, cap_anchors;
    struct vx_ref *refs;
    size_t nrefs, cap_refs;
    size_t *slots; /* hash of ref keys: index+1, 0 empty; (nslots), a power of two */
    size_t nslots;
    struct vx_bib *bib;
    size_t nbib, cap_bib;
    struct corpus_wt *wt;                /* wikitext: the parsed article (owned), else NULL */
    const struct corpus_wt_sink *sink;   /* wikitext: the reader's sink over it */
    struct vx_mark marks[VX_MAX_MARKS];  /* open fields and headings */
    int nmarks, marks_over;              /* marks_over: opened past VX_MAX_MARKS, not recorded */
    int mute;    /* >0: emit no text (anchors still recorded) */
    int defonly; /* >0: refs define entries but are not cited (list-defined refs, scratch text) */
    int plain;   /* >0: scratch text: no bibliography, fields or sections */
    int rc;      /* sticky error code */
    struct err *err;
};

/* ---- core (ver_extract.c) ---- */
int ver_vx_fail(struct vx *v, int code, const char *what);
/* Append n bytes of text; verbatim: map byte k to off+k, else every byte to off. Collapses runs
 * of white space into one space (none at a block start). */
void ver_vx_emit(struct vx *v, const char *s, size_t n, size_t off, int verbatim);
/* End the current block (if it holds text) and start a new one whose field flag is `field`. */
void ver_vx_break(struct vx *v, int field);
/* End the current block and start a new section named `name` (copied). */
void ver_vx_section(struct vx *v, const char *name, size_t n);
/* The same without ending the block (the block open now belongs to the new section). */
void ver_vx_section_name(struct vx *v, const char *name, size_t n);
/* Find or create the entry for (group, name); name NULL/empty makes a new unnamed entry.
 * Returns its index or -1 (v->rc set). */
int ver_vx_ref(struct vx *v, const char *group, size_t glen, const char *name, size_t nlen);
/* The entry for (group, name) when it exists, else -1 (nothing is created). */
int ver_vx_ref_find(const struct vx *v, const char *group, size_t glen, const char *name, size_t nlen);
/* Cite entry `ref` (-1: a needs-source marker with wikitext raw[0..rawn)) at the current position. */
void ver_vx_anchor(struct vx *v, int ref, const char *raw, size_t rawn);
/* strndup that records ERR_NOMEM in v. */
char *ver_vx_strndup(struct vx *v, const char *s, size_t n);
/* Copy s[0..n) with white space collapsed and trimmed (NULL when empty or on OOM). */
char *ver_vx_clean(struct vx *v, const char *s, size_t n);
/* The first URL in s[a..b) via re_url: sets *ua,*ub; returns 1 when found. */
int ver_vx_find_url(struct vx *v, const char *s, size_t a, size_t b, size_t *ua, size_t *ub);

void ver_vx_save(const struct vx *v, struct vx_mark *m);
void ver_vx_restore(struct vx *v, const struct vx_mark *m);
/* The plain text fn(v, a, b) emits as scratch text (mute off, refs define but cite nothing, no
 * fields or bibliography), white space collapsed; NULL when empty. Everything it emitted is
 * rolled back. */
char *ver_vx_scratch(struct vx *v, void (*fn)(struct vx *v, size_t a, size_t b), size_t a, size_t b);

/* ---- readers ---- */
/* Wikitext (ver_wikitext.c): parses v->src with corpus_wt_parse() (v->wt, and v->src/len become
 * its source, unescaped when the input was HTML-escaped), fills pt, blocks, anchors, refs and
 * bibliography. */
int ver_wt_read(struct vx *v);
/* Markdown (ver_markdown.c). */
int ver_md_read(struct vx *v);
#define VER_MD_CODE_MAX 4096 /* an inline code span closes within this many bytes, on its line */
/* The end (after the closing backticks) of the inline code span whose opening backticks are at
 * s[i], or 0 when it does not close on the line. */
size_t ver_md_code_end(const char *s, size_t i, size_t len);
/* Nonzero when line s[a, e) opens or closes a fenced code block (``` or ~~~). */
int ver_md_fence(const char *s, size_t a, size_t e);

#endif
