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
#define FIX(name, text) {name, WT_R_FIXED, CORPUS_WT_BOX, 0, text}
#define TXT(name, how) {name, WT_R_##how, CORPUS_WT_BOX, 0, NULL}
#define ARG(name, how, n, arg) {name, WT_R_##how, CORPUS_WT_BOX, n, arg}
#define REP(name, role) {name, WT_R_REPORT, CORPUS_WT_##role, 0, NULL}
static const struct wt_template wt_templates[] = {
    FIX("!", "|"), REP("#tag:ref", REFN), FIX("'", "'"), FIX("-", ""), FIX("=", "="), FIX("`", "'"),
    TXT("abbr", FIRST), TXT("as of", ASOF), TXT("baseball year", FIRST), TXT("big", LAST),
    TXT("birth date", DATE), TXT("birth date and age", DATE), TXT("birth year and age", DATE),
    TXT("birth-date", DATE), ARG("bulleted", JOIN, 0, ", "), ARG("bulleted list", JOIN, 0, ", "),
    ARG("bulletedlist", JOIN, 0, ", "), ARG("c.", PREFIX, 0, "c. "), ARG("circa", PREFIX, 0, "c. "),
    REP("citation", CITE), REP("citation needed", NEEDED), REP("citation needed span", NEEDED_SPAN),
    REP("citation-needed", NEEDED), REP("citationneeded", NEEDED), REP("cite needed", NEEDED),
    REP("citeneeded", NEEDED), REP("cn", NEEDED), REP("cns", NEEDED_SPAN),
    ARG("collapsible list", JOIN, 0, ", "), TXT("convert", CONVERT), ARG("cslist", JOIN, 0, ", "),
    TXT("cvt", CONVERT), FIX("dash", "\xe2\x80\x93"), TXT("date", DATE), TXT("death date", DATE),
    TXT("death date and age", DATE), TXT("death year and age", DATE), TXT("death-date", DATE),
    TXT("dob", DATE), TXT("dts", DATE), REP("efn", EFN), REP("efn-gr", EFN), REP("efn-la", EFN),
    REP("efn-lg", EFN), REP("efn-ll", EFN), REP("efn-lr", EFN), REP("efn-ua", EFN),
    REP("efn-ur", EFN), TXT("em", LAST), FIX("em dash", "\xe2\x80\x94"),
    FIX("en dash", "\xe2\x80\x93"), TXT("end date", DATE), TXT("end date and age", DATE),
    ARG("enum", JOIN, 0, ", "), ARG("eur", PREFIX, 0, "\xe2\x82\xac"), REP("fact", NEEDED),
    REP("failed verification", NEEDED), REP("failed verification span", NEEDED_SPAN),
    TXT("film date", DATE), TXT("flag", FIRST), TXT("flagcountry", FIRST), TXT("flagu", FIRST),
    ARG("flat list", JOIN, 0, ", "), ARG("flatlist", JOIN, 0, ", "), TXT("formatdate", FIRST),
    TXT("frac", FRAC), TXT("fraction", FRAC), REP("fv", NEEDED), ARG("gbp", PREFIX, 0, "\xc2\xa3"),
    REP("harv", HARV), REP("harvard citation", HARV), REP("harvard citation no brackets", HARV),
    REP("harvard citation text", HARV), REP("harvcolnb", HARV), REP("harvnb", HARV),
    REP("harvp", HARV), REP("harvtxt", HARV), TXT("height", MEASURE), ARG("hlist", JOIN, 0, ", "),
    ARG("hlist-comma", JOIN, 0, ", "), TXT("huge", LAST), TXT("ill", FIRST),
    TXT("interlanguage link", FIRST), TXT("ipa", FIRST), ARG("isbn", PREFIX, 0, "ISBN "),
    TXT("keypress", FIRST), TXT("lang", SECOND), TXT("lang-en", FIRST), TXT("langx", SECOND),
    TXT("large", LAST), TXT("larger", LAST), TXT("linktext", LAST), TXT("math", FIRST),
    FIX("mdash", "\xe2\x80\x94"), FIX("mdashb", "\xe2\x80\x94"), TXT("mvar", LAST),
    FIX("nbsp", " "), FIX("ndash", "\xe2\x80\x93"), REP("needs citation", NEEDED),
    TXT("nihongo", FIRST), TXT("nobold", LAST), TXT("nobr", LAST), TXT("noitalic", LAST),
    TXT("not a typo", LAST), REP("notetag", EFN), TXT("nowiki", FIRST), TXT("nowrap", LAST),
    TXT("nowrap begin", LAST), ARG("nowrap list", JOIN, 0, ", "),
    ARG("ordered list", JOIN, 0, ", "), ARG("plain list", JOIN, 0, ", "),
    ARG("plainlist", JOIN, 0, ", "), REP("r", R), REP("ref label", R),
    REP("reference list", REFLIST), REP("references", REFLIST), REP("reflist", REFLIST),
    REP("refn", REFN), REP("refs", REFLIST), TXT("resize", LAST), TXT("sans-serif", LAST),
    TXT("sclass", FIRST), TXT("serif", LAST), REP("sfn", SFN), REP("sfnm", SFN), REP("sfnp", SFN),
    TXT("sfrac", FRAC), ARG("ship", JOIN, 2, " "), TXT("sic", LAST), TXT("small", LAST),
    TXT("smallcaps", LAST), TXT("smaller", LAST), FIX("snd", " \xe2\x80\x93 "),
    ARG("sortname", JOIN, 2, " "), FIX("sp", " "), FIX("spaced mdash", " \xe2\x80\x94 "),
    FIX("spaced ndash", " \xe2\x80\x93 "), FIX("spmdash", " \xe2\x80\x94 "),
    FIX("spnd", " \xe2\x80\x93 "), TXT("start date", DATE), TXT("start date and age", DATE),
    ARG("startflatlist", JOIN, 0, ", "), TXT("strong", LAST), FIX("thinsp", " "),
    TXT("tooltip", FIRST), TXT("transl", LAST), ARG("ubl", JOIN, 0, ", "),
    ARG("ublist", JOIN, 0, ", "), ARG("ulist", JOIN, 0, ", "),
    ARG("unbulleted list", JOIN, 0, ", "), TXT("underline", LAST), ARG("us$", PREFIX, 0, "US$"),
    ARG("usd", PREFIX, 0, "US$"), TXT("vanchor", FIRST), TXT("var", LAST),
    REP("verification failed", NEEDED), TXT("visible anchor", FIRST), REP("wayback", ARCHIVE),
    FIX("wbr", ""), REP("webarchive", ARCHIVE), TXT("wikt-lang", LAST), TXT("year", FIRST),
    FIX("zwsp", ""), ARG("\xc2\xa3", PREFIX, 0, "\xc2\xa3"),
    ARG("\xe2\x82\xac", PREFIX, 0, "\xe2\x82\xac"),
};
#undef FIX
#undef ARG

/* Families known by their first letters; looked at when no exact name matches. */
static const struct wt_template wt_prefixes[] = {
    REP("cite", CITE), REP("vcite", CITE), TXT("lang-", FIRST), TXT("ipa-", FIRST),
};
#undef REP
#undef TXT

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
