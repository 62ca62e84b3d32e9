/* corpus_wikitext_tables.c - the wikitext engine's three tables, each sorted by name (bytes) for
 * binary search: tags (what a tag does to its content), HTML entities, and templates (how each
 * known template renders, or what it is when it does not). One table of each for indexing and
 * for the citation audit; a template not listed is a CORPUS_WT_BOX. */
#include "corpus_wikitext_int.h"

#include <stdlib.h>
#include <string.h>

#include "ascii.h"

struct wt_tag {
    const char *name;
    enum wt_tag_kind kind;
};

static const struct wt_tag wt_tags[] = {
    {"a", WT_TAG_INLINE}, {"abbr", WT_TAG_INLINE}, {"audio", WT_TAG_BLOCK}, {"b", WT_TAG_INLINE},
    {"bdi", WT_TAG_INLINE}, {"bdo", WT_TAG_INLINE}, {"big", WT_TAG_INLINE},
    {"blockquote", WT_TAG_BLOCK}, {"br", WT_TAG_BR}, {"canvas", WT_TAG_BLOCK},
    {"caption", WT_TAG_BLOCK}, {"categorytree", WT_TAG_DROP}, {"ce", WT_TAG_DROP},
    {"center", WT_TAG_BLOCK}, {"charinsert", WT_TAG_DROP}, {"chem", WT_TAG_DROP},
    {"cite", WT_TAG_INLINE}, {"code", WT_TAG_INLINE}, {"data", WT_TAG_INLINE}, {"dd", WT_TAG_BLOCK},
    {"del", WT_TAG_INLINE}, {"dfn", WT_TAG_INLINE}, {"div", WT_TAG_BLOCK}, {"dl", WT_TAG_BLOCK},
    {"dt", WT_TAG_BLOCK}, {"em", WT_TAG_INLINE}, {"figcaption", WT_TAG_BLOCK},
    {"figure", WT_TAG_BLOCK}, {"font", WT_TAG_INLINE}, {"gallery", WT_TAG_DROP},
    {"graph", WT_TAG_DROP}, {"h1", WT_TAG_BLOCK}, {"h2", WT_TAG_BLOCK}, {"h3", WT_TAG_BLOCK},
    {"h4", WT_TAG_BLOCK}, {"h5", WT_TAG_BLOCK}, {"h6", WT_TAG_BLOCK}, {"hiero", WT_TAG_DROP},
    {"hr", WT_TAG_BLOCK}, {"i", WT_TAG_INLINE}, {"imagemap", WT_TAG_DROP},
    {"includeonly", WT_TAG_DROP}, {"indicator", WT_TAG_DROP}, {"inputbox", WT_TAG_DROP},
    {"ins", WT_TAG_INLINE}, {"kbd", WT_TAG_INLINE}, {"li", WT_TAG_BLOCK}, {"mapframe", WT_TAG_DROP},
    {"maplink", WT_TAG_DROP}, {"mark", WT_TAG_INLINE}, {"math", WT_TAG_DROP},
    {"noinclude", WT_TAG_INLINE}, {"nowiki", WT_TAG_LITERAL}, {"ol", WT_TAG_BLOCK},
    {"onlyinclude", WT_TAG_INLINE}, {"p", WT_TAG_BLOCK}, {"poem", WT_TAG_BLOCK},
    {"pre", WT_TAG_PRE}, {"q", WT_TAG_INLINE}, {"rb", WT_TAG_INLINE}, {"ref", WT_TAG_REF},
    {"references", WT_TAG_REFS}, {"rp", WT_TAG_INLINE}, {"rt", WT_TAG_INLINE},
    {"ruby", WT_TAG_INLINE}, {"s", WT_TAG_INLINE}, {"samp", WT_TAG_INLINE}, {"score", WT_TAG_DROP},
    {"script", WT_TAG_DROP}, {"section", WT_TAG_INLINE}, {"small", WT_TAG_INLINE},
    {"source", WT_TAG_DROP}, {"span", WT_TAG_INLINE}, {"strike", WT_TAG_INLINE},
    {"strong", WT_TAG_INLINE}, {"style", WT_TAG_DROP}, {"sub", WT_TAG_INLINE},
    {"sup", WT_TAG_INLINE}, {"syntaxhighlight", WT_TAG_DROP}, {"table", WT_TAG_BLOCK},
    {"td", WT_TAG_BLOCK}, {"templatedata", WT_TAG_DROP}, {"templatestyles", WT_TAG_DROP},
    {"th", WT_TAG_BLOCK}, {"time", WT_TAG_INLINE}, {"timeline", WT_TAG_DROP}, {"tr", WT_TAG_BLOCK},
    {"tt", WT_TAG_INLINE}, {"u", WT_TAG_INLINE}, {"ul", WT_TAG_BLOCK}, {"var", WT_TAG_INLINE},
    {"video", WT_TAG_BLOCK}, {"wbr", WT_TAG_INLINE},
};

struct wt_entity {
    const char *name, *text;
};

static const struct wt_entity wt_entities[] = {
    {"Dagger", "\xe2\x80\xa1"}, {"NewLine", " "}, {"Prime", "\xe2\x80\xb3"}, {"Tab", " "},
    {"amp", "&"}, {"apos", "'"}, {"asymp", "\xe2\x89\x88"}, {"bdquo", "\xe2\x80\x9e"},
    {"bull", "\xe2\x80\xa2"}, {"cent", "\xc2\xa2"}, {"copy", "\xc2\xa9"},
    {"dagger", "\xe2\x80\xa0"}, {"deg", "\xc2\xb0"}, {"divide", "\xc3\xb7"}, {"emsp", " "},
    {"ensp", " "}, {"euro", "\xe2\x82\xac"}, {"frac12", "\xc2\xbd"}, {"frac14", "\xc2\xbc"},
    {"frac34", "\xc2\xbe"}, {"ge", "\xe2\x89\xa5"}, {"gt", ">"}, {"hairsp", " "},
    {"harr", "\xe2\x86\x94"}, {"hellip", "\xe2\x80\xa6"}, {"iexcl", "\xc2\xa1"},
    {"infin", "\xe2\x88\x9e"}, {"iquest", "\xc2\xbf"}, {"laquo", "\xc2\xab"},
    {"larr", "\xe2\x86\x90"}, {"ldquo", "\xe2\x80\x9c"}, {"le", "\xe2\x89\xa4"}, {"lrm", ""},
    {"lsaquo", "\xe2\x80\xb9"}, {"lsquo", "\xe2\x80\x98"}, {"lt", "<"}, {"mdash", "\xe2\x80\x94"},
    {"micro", "\xc2\xb5"}, {"middot", "\xc2\xb7"}, {"minus", "\xe2\x88\x92"}, {"nbsp", " "},
    {"ndash", "\xe2\x80\x93"}, {"ne", "\xe2\x89\xa0"}, {"numsp", " "}, {"ordf", "\xc2\xaa"},
    {"ordm", "\xc2\xba"}, {"para", "\xc2\xb6"}, {"plusmn", "\xc2\xb1"}, {"pound", "\xc2\xa3"},
    {"prime", "\xe2\x80\xb2"}, {"puncsp", " "}, {"quot", "\""}, {"raquo", "\xc2\xbb"},
    {"rarr", "\xe2\x86\x92"}, {"rdquo", "\xe2\x80\x9d"}, {"reg", "\xc2\xae"}, {"rlm", ""},
    {"rsaquo", "\xe2\x80\xba"}, {"rsquo", "\xe2\x80\x99"}, {"sbquo", "\xe2\x80\x9a"},
    {"sect", "\xc2\xa7"}, {"shy", ""}, {"sup1", "\xc2\xb9"}, {"sup2", "\xc2\xb2"},
    {"sup3", "\xc2\xb3"}, {"thinsp", " "}, {"times", "\xc3\x97"}, {"trade", "\xe2\x84\xa2"},
    {"yen", "\xc2\xa5"}, {"zwj", ""}, {"zwnj", ""},
};

/* Rendered templates take their text from the parameters as described in enum wt_render;
 * reported ones (WT_R_REPORT) go to the sink with their role. */
static const struct wt_template wt_templates[] = {
    {"!", WT_R_FIXED, CORPUS_WT_BOX, 0, "|"},
    {"#tag:ref", WT_R_REPORT, CORPUS_WT_REFN, 0, NULL},
    {"'", WT_R_FIXED, CORPUS_WT_BOX, 0, "'"},
    {"-", WT_R_FIXED, CORPUS_WT_BOX, 0, ""},
    {"=", WT_R_FIXED, CORPUS_WT_BOX, 0, "="},
    {"`", WT_R_FIXED, CORPUS_WT_BOX, 0, "'"},
    {"abbr", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"as of", WT_R_ASOF, CORPUS_WT_BOX, 0, NULL},
    {"baseball year", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"big", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"birth date", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"birth date and age", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"birth year and age", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"birth-date", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"bulleted", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"bulleted list", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"bulletedlist", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"c.", WT_R_PREFIX, CORPUS_WT_BOX, 0, "c. "},
    {"circa", WT_R_PREFIX, CORPUS_WT_BOX, 0, "c. "},
    {"citation", WT_R_REPORT, CORPUS_WT_CITE, 0, NULL},
    {"citation needed", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"citation needed span", WT_R_REPORT, CORPUS_WT_NEEDED_SPAN, 0, NULL},
    {"citation-needed", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"citationneeded", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"cite needed", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"citeneeded", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"cn", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"cns", WT_R_REPORT, CORPUS_WT_NEEDED_SPAN, 0, NULL},
    {"collapsible list", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"convert", WT_R_CONVERT, CORPUS_WT_BOX, 0, NULL},
    {"cslist", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"cvt", WT_R_CONVERT, CORPUS_WT_BOX, 0, NULL},
    {"dash", WT_R_FIXED, CORPUS_WT_BOX, 0, "\xe2\x80\x93"},
    {"date", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"death date", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"death date and age", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"death year and age", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"death-date", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"dob", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"dts", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"efn", WT_R_REPORT, CORPUS_WT_EFN, 0, NULL},
    {"efn-gr", WT_R_REPORT, CORPUS_WT_EFN, 0, NULL},
    {"efn-la", WT_R_REPORT, CORPUS_WT_EFN, 0, NULL},
    {"efn-lg", WT_R_REPORT, CORPUS_WT_EFN, 0, NULL},
    {"efn-ll", WT_R_REPORT, CORPUS_WT_EFN, 0, NULL},
    {"efn-lr", WT_R_REPORT, CORPUS_WT_EFN, 0, NULL},
    {"efn-ua", WT_R_REPORT, CORPUS_WT_EFN, 0, NULL},
    {"efn-ur", WT_R_REPORT, CORPUS_WT_EFN, 0, NULL},
    {"em", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"em dash", WT_R_FIXED, CORPUS_WT_BOX, 0, "\xe2\x80\x94"},
    {"en dash", WT_R_FIXED, CORPUS_WT_BOX, 0, "\xe2\x80\x93"},
    {"end date", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"end date and age", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"enum", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"eur", WT_R_PREFIX, CORPUS_WT_BOX, 0, "\xe2\x82\xac"},
    {"fact", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"failed verification", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"failed verification span", WT_R_REPORT, CORPUS_WT_NEEDED_SPAN, 0, NULL},
    {"film date", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"flag", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"flagcountry", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"flagu", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"flat list", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"flatlist", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"formatdate", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"frac", WT_R_FRAC, CORPUS_WT_BOX, 0, NULL},
    {"fraction", WT_R_FRAC, CORPUS_WT_BOX, 0, NULL},
    {"fv", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"gbp", WT_R_PREFIX, CORPUS_WT_BOX, 0, "\xc2\xa3"},
    {"harv", WT_R_REPORT, CORPUS_WT_HARV, 0, NULL},
    {"harvard citation", WT_R_REPORT, CORPUS_WT_HARV, 0, NULL},
    {"harvard citation no brackets", WT_R_REPORT, CORPUS_WT_HARV, 0, NULL},
    {"harvard citation text", WT_R_REPORT, CORPUS_WT_HARV, 0, NULL},
    {"harvcolnb", WT_R_REPORT, CORPUS_WT_HARV, 0, NULL},
    {"harvnb", WT_R_REPORT, CORPUS_WT_HARV, 0, NULL},
    {"harvp", WT_R_REPORT, CORPUS_WT_HARV, 0, NULL},
    {"harvtxt", WT_R_REPORT, CORPUS_WT_HARV, 0, NULL},
    {"hlist", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"hlist-comma", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"huge", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"ill", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"interlanguage link", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"ipa", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"isbn", WT_R_PREFIX, CORPUS_WT_BOX, 0, "ISBN "},
    {"keypress", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"lang", WT_R_SECOND, CORPUS_WT_BOX, 0, NULL},
    {"lang-en", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"langx", WT_R_SECOND, CORPUS_WT_BOX, 0, NULL},
    {"large", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"larger", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"linktext", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"math", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"mdash", WT_R_FIXED, CORPUS_WT_BOX, 0, "\xe2\x80\x94"},
    {"mdashb", WT_R_FIXED, CORPUS_WT_BOX, 0, "\xe2\x80\x94"},
    {"mvar", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"nbsp", WT_R_FIXED, CORPUS_WT_BOX, 0, " "},
    {"ndash", WT_R_FIXED, CORPUS_WT_BOX, 0, "\xe2\x80\x93"},
    {"needs citation", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"nihongo", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"nobold", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"nobr", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"noitalic", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"not a typo", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"notetag", WT_R_REPORT, CORPUS_WT_EFN, 0, NULL},
    {"nowiki", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"nowrap", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"nowrap begin", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"nowrap list", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"ordered list", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"plain list", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"plainlist", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"r", WT_R_REPORT, CORPUS_WT_R, 0, NULL},
    {"ref label", WT_R_REPORT, CORPUS_WT_R, 0, NULL},
    {"reference list", WT_R_REPORT, CORPUS_WT_REFLIST, 0, NULL},
    {"references", WT_R_REPORT, CORPUS_WT_REFLIST, 0, NULL},
    {"reflist", WT_R_REPORT, CORPUS_WT_REFLIST, 0, NULL},
    {"refn", WT_R_REPORT, CORPUS_WT_REFN, 0, NULL},
    {"refs", WT_R_REPORT, CORPUS_WT_REFLIST, 0, NULL},
    {"resize", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"sans-serif", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"sclass", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"serif", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"sfn", WT_R_REPORT, CORPUS_WT_SFN, 0, NULL},
    {"sfnm", WT_R_REPORT, CORPUS_WT_SFN, 0, NULL},
    {"sfnp", WT_R_REPORT, CORPUS_WT_SFN, 0, NULL},
    {"sfrac", WT_R_FRAC, CORPUS_WT_BOX, 0, NULL},
    {"ship", WT_R_JOIN, CORPUS_WT_BOX, 2, " "},
    {"sic", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"small", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"smallcaps", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"smaller", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"snd", WT_R_FIXED, CORPUS_WT_BOX, 0, " \xe2\x80\x93 "},
    {"sortname", WT_R_JOIN, CORPUS_WT_BOX, 2, " "},
    {"sp", WT_R_FIXED, CORPUS_WT_BOX, 0, " "},
    {"spaced mdash", WT_R_FIXED, CORPUS_WT_BOX, 0, " \xe2\x80\x94 "},
    {"spaced ndash", WT_R_FIXED, CORPUS_WT_BOX, 0, " \xe2\x80\x93 "},
    {"spmdash", WT_R_FIXED, CORPUS_WT_BOX, 0, " \xe2\x80\x94 "},
    {"spnd", WT_R_FIXED, CORPUS_WT_BOX, 0, " \xe2\x80\x93 "},
    {"start date", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"start date and age", WT_R_DATE, CORPUS_WT_BOX, 0, NULL},
    {"startflatlist", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"strong", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"thinsp", WT_R_FIXED, CORPUS_WT_BOX, 0, " "},
    {"tooltip", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"transl", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"ubl", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"ublist", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"ulist", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"unbulleted list", WT_R_JOIN, CORPUS_WT_BOX, 0, ", "},
    {"underline", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"us$", WT_R_PREFIX, CORPUS_WT_BOX, 0, "US$"},
    {"usd", WT_R_PREFIX, CORPUS_WT_BOX, 0, "US$"},
    {"vanchor", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"var", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"verification failed", WT_R_REPORT, CORPUS_WT_NEEDED, 0, NULL},
    {"visible anchor", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"wayback", WT_R_REPORT, CORPUS_WT_ARCHIVE, 0, NULL},
    {"wbr", WT_R_FIXED, CORPUS_WT_BOX, 0, ""},
    {"webarchive", WT_R_REPORT, CORPUS_WT_ARCHIVE, 0, NULL},
    {"wikt-lang", WT_R_LAST, CORPUS_WT_BOX, 0, NULL},
    {"year", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"zwsp", WT_R_FIXED, CORPUS_WT_BOX, 0, ""},
    {"\xc2\xa3", WT_R_PREFIX, CORPUS_WT_BOX, 0, "\xc2\xa3"},
    {"\xe2\x82\xac", WT_R_PREFIX, CORPUS_WT_BOX, 0, "\xe2\x82\xac"},
};

/* Families known by their first letters; looked at when no exact name matches. */
static const struct wt_template wt_prefixes[] = {
    {"cite", WT_R_REPORT, CORPUS_WT_CITE, 0, NULL},
    {"vcite", WT_R_REPORT, CORPUS_WT_CITE, 0, NULL},
    {"lang-", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
    {"ipa-", WT_R_FIRST, CORPUS_WT_BOX, 0, NULL},
};

#define NTAGS (sizeof wt_tags / sizeof wt_tags[0])
#define NENTITIES (sizeof wt_entities / sizeof wt_entities[0])
#define NTEMPLATES (sizeof wt_templates / sizeof wt_templates[0])
#define NPREFIXES (sizeof wt_prefixes / sizeof wt_prefixes[0])

static int cmp_tag(const void *key, const void *el) { return strcmp(key, ((const struct wt_tag *)el)->name); }

int wt_tag_find(const char *s, size_t n)
{
    char name[WT_NAME_MAX + 1];
    if (n == 0 || n > WT_NAME_MAX) return -1;
    for (size_t i = 0; i < n; i++) name[i] = (char)ascii_tolower((unsigned char)s[i]);
    name[n] = '\0';
    const struct wt_tag *t = bsearch(name, wt_tags, NTAGS, sizeof *wt_tags, cmp_tag);
    return t ? (int)(t - wt_tags) : -1;
}

enum wt_tag_kind wt_tag_kind(int tag) { return wt_tags[tag].kind; }

size_t wt_tag_count(void) { return NTAGS; }

const char *wt_tag_name(int tag) { return wt_tags[tag].name; }

struct span_key {
    const char *s;
    size_t n;
};

static int cmp_entity(const void *key, const void *el)
{
    const struct span_key *k = key;
    const char *name = ((const struct wt_entity *)el)->name;
    size_t l = strlen(name);
    int c = memcmp(k->s, name, k->n < l ? k->n : l);
    if (c) return c;
    return k->n < l ? -1 : k->n > l;
}

const char *wt_entity(const char *s, size_t n)
{
    struct span_key k = {s, n};
    const struct wt_entity *e = bsearch(&k, wt_entities, NENTITIES, sizeof *wt_entities, cmp_entity);
    return e ? e->text : NULL;
}

static int cmp_template(const void *key, const void *el)
{
    return strcmp(key, ((const struct wt_template *)el)->name);
}

int wt_template_lookup(const char *name)
{
    if (!name[0]) return -1;
    const struct wt_template *t = bsearch(name, wt_templates, NTEMPLATES, sizeof *wt_templates, cmp_template);
    if (t) return (int)(t - wt_templates);
    for (size_t k = 0; k < NPREFIXES; k++)
        if (strncmp(name, wt_prefixes[k].name, strlen(wt_prefixes[k].name)) == 0) return (int)(NTEMPLATES + k);
    return -1;
}

const struct wt_template *wt_template_entry(int idx)
{
    if (idx < 0) return NULL;
    return (size_t)idx < NTEMPLATES ? &wt_templates[idx] : &wt_prefixes[(size_t)idx - NTEMPLATES];
}

int wt_role_cites(int role)
{
    return role == CORPUS_WT_NEEDED || role == CORPUS_WT_NEEDED_SPAN || role == CORPUS_WT_R ||
           role == CORPUS_WT_SFN || role == CORPUS_WT_REFN;
}

/* Link namespaces whose links are not text: files (their captions may be) and categories, in
 * English and a few other wikis. */
static const char *const wt_file_ns[] = {"file",    "image",     "media",   "datei",    "bild",
                                         "fichier", "archivo",   "imagen",  "ficheiro", "immagine",
                                         "bestand", "plik",      "afbeelding", NULL};
static const char *const wt_cat_ns[] = {"category",  "kategorie", "cat\xc3\xa9" "gorie", "categor\xc3\xad" "a",
                                        "categoria", "categorie", "kategoria", NULL};

int wt_namespace(const char *s, size_t n)
{
    for (int k = 0; wt_file_ns[k]; k++)
        if (ascii_eq_word(s, n, wt_file_ns[k])) return 1;
    for (int k = 0; wt_cat_ns[k]; k++)
        if (ascii_eq_word(s, n, wt_cat_ns[k])) return 2;
    return 0;
}

int wt_tables_check(void)
{
    for (size_t i = 0; i < NTAGS; i++)
        if (wt_tag_find(wt_tags[i].name, strlen(wt_tags[i].name)) != (int)i) return -1;
    for (size_t i = 0; i < NENTITIES; i++)
        if (wt_entity(wt_entities[i].name, strlen(wt_entities[i].name)) != wt_entities[i].text) return -1;
    for (size_t i = 0; i < NTEMPLATES; i++)
        if (wt_template_lookup(wt_templates[i].name) != (int)i) return -1;
    return 0;
}
