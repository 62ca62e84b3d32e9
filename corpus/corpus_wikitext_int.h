/* corpus_wikitext_int.h - internal to the wikitext engine (corpus_wikitext*.c): the parsed
 * article, its lookups and the three tables (tags, entities, templates).
 *
 *   corpus_wikitext_parse.c   corpus_wt_parse: one scan for regions, spans and citation points
 *   corpus_wikitext_tables.c  the tables and their lookups
 *   corpus_wikitext.c         the walk (lines, inline markup, links, tags) and the plain-text sink
 *   corpus_wikitext_blocks.c  templates (rendered or reported), their fields, tables, captions */
#ifndef VC_CORPUS_WIKITEXT_INT_H
#define VC_CORPUS_WIKITEXT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"

#define WT_MAX_DEPTH 40   /* nesting followed by a walk; deeper markup renders as nothing */
#define WT_TAG_MAX 2000   /* a tag's '>' must come within this many bytes of its '<' */
#define WT_NAME_MAX 24    /* tag names longer than this are no tags */

/* ---------------------------------------------------------------- tables */

enum wt_tag_kind {
    WT_TAG_INLINE,  /* the tag goes, its content stays (<b>, <span>, ...) */
    WT_TAG_BLOCK,   /* the same, and a line break (<div>, <p>, <li>, ...) */
    WT_TAG_BR,      /* a line break */
    WT_TAG_DROP,    /* the element goes with its content (<math>, <gallery>, ...) */
    WT_TAG_LITERAL, /* the content is text, its markup not read (<nowiki>) */
    WT_TAG_PRE,     /* the same, as a block of its own (<pre>) */
    WT_TAG_REF,     /* <ref> */
    WT_TAG_REFS     /* <references> */
};

/* How a template renders. */
enum wt_render {
    WT_R_REPORT = 0, /* not rendered: reported to the sink (its role says what it is) */
    WT_R_FIXED,      /* a fixed text (arg: the text) */
    WT_R_FIRST,      /* its first positional parameter */
    WT_R_LAST,       /* its last positional parameter */
    WT_R_SECOND,     /* its second positional parameter ({{lang|fr|mot}}) */
    WT_R_JOIN,       /* positional parameters joined by arg (at most n of them, 0: all) */
    WT_R_PREFIX,     /* arg then the first parameter ({{US$|5}}, {{circa|1900}}) */
    WT_R_CONVERT,    /* {{convert|120|km|mi}} -> "120 km", {{convert|1|to|3|m}} -> "1 to 3 m" */
    WT_R_DATE,       /* {{birth date|1950|1|2}} -> "2 January 1950" (mf=y: "January 2, 1950") */
    WT_R_ASOF,       /* {{as of|2010|5}} -> "As of May 2010" (lc=y, alt=) */
    WT_R_FRAC,       /* {{frac|1|2}} -> "1/2", {{frac|1|1|2}} -> "1 1/2" */
    WT_R_MEASURE     /* named units: {{height|ft=5|in=3}} -> "5 ft 3 in", {{height|m=1.8}} -> "1.8 m" */
};

struct wt_template {
    const char *name; /* normalised (see corpus_wt_tpl.name) */
    unsigned char render; /* enum wt_render */
    unsigned char role;   /* enum corpus_wt_role, for WT_R_REPORT */
    unsigned char n;      /* WT_R_JOIN: how many parameters at most (0: all) */
    const char *arg;
};

/* The tag named s[0..n) (any case) or -1. */
int wt_tag_find(const char *s, size_t n);
enum wt_tag_kind wt_tag_kind(int tag);
size_t wt_tag_count(void);
const char *wt_tag_name(int tag);
/* The text of entity name s[0..n) (case-sensitive, without '&' and ';'), NULL when unknown. */
const char *wt_entity(const char *s, size_t n);
/* The template entry index for a normalised name, -1 when unknown (then it is a CORPUS_WT_BOX). */
int wt_template_lookup(const char *name);
/* The entry of an index from wt_template_lookup() (NULL for -1). */
const struct wt_template *wt_template_entry(int idx);
/* Nonzero when a role's template makes a field it sits in a cited one. */
int wt_role_cites(int role);
/* Namespaces: 1 file/image, 2 category, 0 other; s[0..n) is the prefix before ':'. */
int wt_namespace(const char *s, size_t n);
/* 0 when every table entry is found by its own lookup (the tables are sorted), else -1. */
int wt_tables_check(void);

/* ---------------------------------------------------------------- the parsed article */

enum wt_region_kind {
    WT_REG_COMMENT, /* <!-- ... --> */
    WT_REG_TAG,     /* a tag alone: tag = its table entry (inline, block, br); else dropped */
    WT_REG_ELEMENT  /* a tag with its content and closing tag (drop, literal, pre, ref, refs) */
};

/* A comment or a tag, in source order (nested ones, inside <ref> and <references>, too). */
struct wt_region {
    uint32_t start, end;   /* the whole comment, tag or element (start first: lookups read it) */
    uint32_t in_a, in_b;   /* an element's content */
    uint32_t na, nb, ga, gb; /* <ref>: name= and group= values */
    int16_t tag;           /* wt_tag_find() index, -1 for comments */
    unsigned char kind;    /* enum wt_region_kind */
    unsigned char selfclose;
};

enum wt_span_kind { WT_SP_TPL, WT_SP_PARAM, WT_SP_TABLE, WT_SP_LINK };

/* A matched bracket pair: {{template}}, {{{parameter}}}, {| table |} or [[link]]. */
struct wt_span {
    uint32_t start, end; /* from the opener to after the closer (start first: lookups read it) */
    unsigned char kind;  /* enum wt_span_kind */
    unsigned char role;  /* templates: enum corpus_wt_role */
    int16_t entry;       /* templates: index in the template table, -1 when unknown */
};

struct corpus_wt {
    const char *s; /* the source (borrowed, or `own`) */
    size_t n;
    char *own;       /* the unescaped copy, when there is one */
    uint32_t *omap;  /* (n + 1) input offset of each byte of `own` */
    struct wt_region *reg; /* (nreg) sorted by start */
    size_t nreg;
    struct wt_span *sp; /* (nsp) sorted by start */
    size_t nsp;
    uint32_t *cites; /* (ncites) citation points, sorted */
    size_t ncites;
    /* the walk in progress */
    const struct corpus_wt_sink *sink;
    int depth, rc;
    const char *sep;   /* a separator owed before the next text ("; ", ", "), or NULL */
    size_t sep_off;
    size_t produced;   /* non-blank text bytes emitted so far */
    size_t rb_from, rb_at, nl_from, nl_at; /* cached searches for ']' and '\n' */
};

/* The region / span starting exactly at `i`, or NULL. */
const struct wt_region *wt_region_at(const struct corpus_wt *w, size_t i);
const struct wt_span *wt_span_at(const struct corpus_wt *w, size_t i);
/* Nonzero when a citation point lies in [a, b). */
int wt_has_cite(const struct corpus_wt *w, size_t a, size_t b);
/* The offset after the construct (span, comment, tag, element) starting at i when it ends by b,
 * else i + 1. */
size_t wt_skip(const struct corpus_wt *w, size_t i, size_t b);
/* Normalised template name of the inner text [a, b) into out[64] ("" when too long). */
void wt_template_name(const char *s, size_t a, size_t b, char out[64]);
/* Split [a, b) at top-level '|': fn gets the fields after the first (the name or target). */
int wt_split(const struct corpus_wt *w, size_t a, size_t b, corpus_wt_param_fn fn, void *ctx);
/* Fill a corpus_wt_tpl for template span t. */
void wt_tpl_of(const struct corpus_wt *w, const struct wt_span *t, struct corpus_wt_tpl *out);

/* ---------------------------------------------------------------- the walk (corpus_wikitext.c) */

void wt_walk(struct corpus_wt *w, size_t a, size_t b);
/* Text through the pending separator; off as in corpus_wt_sink.text. */
void wt_text(struct corpus_wt *w, const char *s, size_t n, size_t off, int verbatim);
void wt_lit(struct corpus_wt *w, const char *lit, size_t off);
void wt_brk(struct corpus_wt *w, enum corpus_wt_break kind);
void wt_field(struct corpus_wt *w, enum corpus_wt_field kind, int end);
/* A space after a footnote marker ending at e when a word follows (before b). */
void wt_space_after(struct corpus_wt *w, size_t e, size_t b);
/* Walk [a, b) trimmed of white space. */
void wt_walk_trim(struct corpus_wt *w, size_t a, size_t b);

/* ---------------------------------------------------------------- blocks (corpus_wikitext_blocks.c) */

void wt_template(struct corpus_wt *w, const struct wt_span *t, size_t b);
void wt_table(struct corpus_wt *w, const struct wt_span *t);
/* [[File:...]]: its caption as a field when it is cited. */
void wt_file_caption(struct corpus_wt *w, const struct wt_span *t);

#endif
