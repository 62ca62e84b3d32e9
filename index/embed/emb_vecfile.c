/* clang-format off */
/* emb_vecfile.c - the binary word-vectors file: import from word2vec/GloVe/fastText/wink JSON,
 * memory-mapped read-only lookup.
 *
 * File format, version 1. All integers little-endian; every section starts at a multiple of 64.
 *
 *   offset  size  field
 *        0     8  magic "VCVEC1\0\0"
 *        8     4  u32 dim            1 .. EMB_MAX_DIM
 *       12     4  u32 header size    128
 *       16     8  u64 count          words (= rows) 1 .. EMB_MAX_WORDS
 *       24     8  u64 vec_off        float32 (count, dim); row r is the r-th word kept from the
 *                                    source, so for frequency-sorted sources r is the frequency rank
 *       32     8  u64 woff_off       u64 (count + 1): word r is bytes[woff[r] .. woff[r+1])
 *       40     8  u64 bytes_off      the folded UTF-8 words, concatenated, no separators
 *       48     8  u64 bytes_len
 *       56     8  u64 slot_off       u32 (nslots) hash table: slot value row + 1, 0 = empty;
 *                                    start at fnv1a64(word) & (nslots - 1), linear probing
 *       64     8  u64 nslots         a power of two >= 2 * count
 *       72     8  u64 file_size      the whole file
 *       80     8  u64 hash           FNV-1a 64 of bytes [128, file_size)
 *       88     4  u32 source format  1 word2vec binary, 2 text with header, 3 GloVe text, 4 JSON
 *       92    36  zero
 *
 * Sections follow in the order vectors, word offsets, word bytes, slots (zero padding between).
 * The vectors come first so the import can stream them to disk as it reads; only the words are
 * kept in memory. Opening checks the header and the word offsets against the file size, so a
 * truncated or foreign file is ERR_CORRUPT and lookups never read outside the mapping. */
/* clang-format on */
#include "index/embed/emb.h"
#include "ascii.h"
#include "file.h"
#include "hash.h"
#include "utf8.h"
#include "vec.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define VF_MAGIC "VCVEC1\0\0"
#define VF_HDR 128
#define VF_ALIGN 64
#define VF_RDBUF (4u << 20)    /* read buffer; also the longest text line accepted */
#define VF_NUM_MAX 64          /* longest number token */
#define VF_JSON_DEPTH 64       /* deepest JSON nesting skipped */
#define VF_JSON_STR (1u << 20) /* longest JSON string read (skipped strings are not stored) */

enum vf_format { VF_W2V_BIN = 1, VF_TEXT_HDR = 2, VF_GLOVE = 3, VF_JSON = 4 };

struct emb_vecfile {
    const unsigned char *map;
    size_t size;
    uint32_t dim;
    uint64_t count, nslots, bytes_len;
    const float *vec;          /* (count, dim) */
    const unsigned char *woff; /* u64 (count + 1), read with memcpy */
    const char *bytes;
    const unsigned char *slots; /* u32 (nslots) */
    char hash[17];
};

/* ---------------------------------------------------------------- small helpers */


static uint64_t rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void wr32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}


/* Simple lower-case mapping for the scripts GloVe-like vocabularies use; keeps the UTF-8 length. */
static uint32_t fold_cp(uint32_t c)
{
    if (c < 0x80) return (uint32_t)ascii_tolower((int)c);
    if (c < 0xc0) return c;
    if (c <= 0xde) return c == 0xd7 ? c : c + 32; /* Latin-1 À..Þ except × */
    if (c >= 0x100 && c <= 0x17f) {               /* Latin Extended-A */
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17f) return c;
        if (c == 0x178) return 0xff; /* Ÿ -> ÿ */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return (c & 1) ? c + 1 : c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32; /* Greek capitals */
    if (c >= 0x410 && c <= 0x42f) return c + 32;               /* Cyrillic А..Я */
    if (c >= 0x400 && c <= 0x40f) return c + 80;               /* Cyrillic Ѐ..Џ */
    if (c == 0x2019) return '\'';
    return c;
}

size_t emb_word_fold(const char *s, size_t len, char *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        if (u[i] < 0x80) {
            unsigned char c = u[i++];
            out[o++] = (char)ascii_tolower(c);
            continue;
        }
        uint32_t cp;
        size_t k = utf8_dec(u + i, len - i, &cp);
        if (k == 0) { /* invalid byte: copied as is */
            out[o++] = (char)u[i++];
            continue;
        }
        char tmp[4];
        size_t m = utf8_enc(fold_cp(cp), tmp);
        i += k;
        for (size_t j = 0; j < m; j++)
            out[o++] = tmp[j]; /* m <= k, so o never passes i */
    }
    return o;
}

static int utf8_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_dec(u + i, n - i, &cp);
        if (k == 0 || cp < 0x20 || cp == 0x7f) return 0;
        i += k;
    }
    return 1;
}

/* ---------------------------------------------------------------- buffered reader */

struct vf_rd {
    FILE *f;
    const char *path;
    unsigned char *buf; /* VF_RDBUF + 1 */
    size_t pos, len;
    uint64_t off; /* file offset of buf[0] */
    int eof;
    long line; /* text formats: current line number */
};

static int rd_fill(struct vf_rd *r, struct err *err)
{
    if (r->eof) return 0;
    if (r->pos == 0 && r->len == VF_RDBUF) return 0; /* full: the caller reports the limit */
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->off += r->pos;
        r->len -= r->pos;
        r->pos = 0;
    }
    size_t got = fread(r->buf + r->len, 1, VF_RDBUF - r->len, r->f);
    if (got == 0) {
        if (ferror(r->f)) return err_set(err, ERR_IO, "%s: read: %s", r->path, strerror(errno));
        r->eof = 1;
    }
    r->len += got;
    return 0;
}

/* Next byte or -1 at the end (read errors go to err and also give -1; check err->code). */
static int rd_peek(struct vf_rd *r, struct err *err)
{
    if (r->pos >= r->len) {
        if (rd_fill(r, err) != 0) return -1;
        if (r->pos >= r->len) return -1;
    }
    return r->buf[r->pos];
}

static uint64_t rd_offset(const struct vf_rd *r)
{
    return r->off + r->pos;
}

/* The next line without its '\n' (and '\r'); *line points into the buffer until the next read.
 * Returns 1 with a line, 0 at the end, or an error code < 0 via err (ERR_LIMIT for an overlong
 * line). */
static int rd_line(struct vf_rd *r, char **line, size_t *len, struct err *err)
{
    size_t scan = r->pos;
    for (;;) {
        unsigned char *nl = memchr(r->buf + scan, '\n', r->len - scan);
        if (nl) {
            size_t n = (size_t)(nl - (r->buf + r->pos));
            *line = (char *)r->buf + r->pos;
            r->pos += n + 1;
            if (n && (*line)[n - 1] == '\r') n--;
            *len = n;
            r->line++;
            return 1;
        }
        if (r->eof) {
            if (r->pos >= r->len) return 0;
            *line = (char *)r->buf + r->pos;
            *len = r->len - r->pos;
            r->pos = r->len;
            if (*len && (*line)[*len - 1] == '\r') (*len)--;
            r->line++;
            return 1;
        }
        if (r->pos == 0 && r->len >= VF_RDBUF) {
            err_set(err, ERR_LIMIT, "%s:%ld: line longer than %u bytes", r->path, r->line + 1,
                    VF_RDBUF);
            return -1;
        }
        scan = r->len - r->pos;
        if (rd_fill(r, err) != 0) return -1;
        /* after the move, the unscanned part starts at the old length */
    }
}

/* Read exactly n bytes (n < VF_RDBUF). Returns 0, or ERR_PARSE at the end of the file. */
static int rd_bytes(struct vf_rd *r, void *dst, size_t n, struct err *err)
{
    if (r->len - r->pos < n) {
        if (rd_fill(r, err) != 0) return err->code;
        if (r->len - r->pos < n)
            return err_set(err, ERR_PARSE, "%s: truncated at byte %llu", r->path,
                           (unsigned long long)r->off + r->len);
    }
    memcpy(dst, r->buf + r->pos, n);
    r->pos += n;
    return 0;
}

/* ---------------------------------------------------------------- writer */

struct vf_word_set {
    uint32_t *slots; /* row + 1, 0 empty */
    uint64_t nslots;
};

struct vf_wr {
    struct file_atomic fa; /* the new file, written beside dst and renamed over it */
    const char *dst;
    uint64_t off;  /* bytes written so far */
    uint64_t hash; /* over bytes [VF_HDR, off) */
    uint32_t dim;
    uint64_t count;
    struct buf words; /* folded words concatenated */
    uint64_t *woff;   /* (count + 1) */
    size_t woff_cap;
    struct vf_word_set set;
    char *fold; /* EMB_MAX_WORD scratch */
    uint64_t skipped;
};

static int wr_raw(struct vf_wr *w, const void *p, size_t n, struct err *err)
{
    if (n && fwrite(p, 1, n, w->fa.f) != n)
        return err_set(err, ERR_IO, "%s: write: %s", w->fa.tmp, strerror(errno));
    if (w->off >= VF_HDR) w->hash = hash_fnv1a64_update(w->hash, p, n);
    w->off += n;
    return 0;
}

static int wr_pad(struct vf_wr *w, struct err *err)
{
    static const unsigned char zero[VF_ALIGN];
    size_t pad = (size_t)((VF_ALIGN - w->off % VF_ALIGN) % VF_ALIGN);
    return wr_raw(w, zero, pad, err);
}

static uint64_t word_slot(const char *s, size_t n, uint64_t nslots)
{
    return hash_fnv1a64(s, n) & (nslots - 1);
}

/* Find `s` in the set: returns the slot index holding it or the empty slot where it would go. */
static uint64_t set_probe(const struct vf_word_set *st, const char *words, const uint64_t *woff,
                          const char *s, size_t n, int *found)
{
    uint64_t i = word_slot(s, n, st->nslots);
    for (;;) {
        uint32_t v = st->slots[i];
        if (v == 0) {
            *found = 0;
            return i;
        }
        uint64_t a = woff[v - 1], b = woff[v];
        if (b - a == n && memcmp(words + a, s, n) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & (st->nslots - 1);
    }
}

static int set_grow(struct vf_wr *w, struct err *err)
{
    uint64_t ns = w->set.nslots ? w->set.nslots * 2 : 1024;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s)
        return err_set(err, ERR_NOMEM, "vectors word table (%llu slots)", (unsigned long long)ns);
    struct vf_word_set nw = {s, ns};
    for (uint64_t r = 0; r < w->count; r++) {
        int found;
        uint64_t i = set_probe(&nw, w->words.data, w->woff, w->words.data + w->woff[r],
                               w->woff[r + 1] - w->woff[r], &found);
        s[i] = (uint32_t)(r + 1);
    }
    free(w->set.slots);
    w->set = nw;
    return 0;
}

/* Add one word with its vector (dim floats). Skips (and counts) unusable and duplicate words. */
static int wr_word(struct vf_wr *w, const char *word, size_t n, const float *vec, struct err *err)
{
    while (n && (word[n - 1] == ' ' || word[n - 1] == '\t'))
        n--;
    while (n && (word[0] == ' ' || word[0] == '\t'))
        word++, n--;
    if (n == 0 || n > EMB_MAX_WORD || !utf8_ok(word, n)) {
        w->skipped++;
        return 0;
    }
    for (uint32_t i = 0; i < w->dim; i++)
        if (!isfinite(vec[i])) {
            w->skipped++;
            return 0;
        }
    n = emb_word_fold(word, n, w->fold);
    if (w->count >= EMB_MAX_WORDS)
        return err_set(err, ERR_LIMIT, "%s: more than %llu words", w->dst,
                       (unsigned long long)EMB_MAX_WORDS);
    if ((w->count + 1) * 2 > w->set.nslots && set_grow(w, err) != 0) return err->code;
    int found;
    uint64_t slot = set_probe(&w->set, w->words.data, w->woff, w->fold, n, &found);
    if (found) {
        w->skipped++;
        return 0;
    }
    if (vec_grow((void **)&w->woff, &w->woff_cap, w->count + 2, sizeof *w->woff))
        return err_set(err, ERR_NOMEM, "vectors word offsets");
    if (buf_append(&w->words, w->fold, n) != 0) return err_set(err, ERR_NOMEM, "vectors words");
    if (wr_raw(w, vec, (size_t)w->dim * sizeof(float), err) != 0) return err->code;
    w->count++;
    w->woff[w->count] = w->words.len;
    w->set.slots[slot] = (uint32_t)w->count;
    return 0;
}

/* Is the folder that would hold `path` missing? */
static int folder_missing(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    struct buf dir = {0};
    struct stat st;
    int missing = buf_append(&dir, path, (size_t)(slash - path)) == 0 && stat(dir.data, &st) != 0 &&
                  (errno == ENOENT || errno == ENOTDIR);
    buf_cleanup(&dir);
    return missing;
}

static int wr_begin(struct vf_wr *w, const char *dst, struct err *err)
{
    w->dst = dst;
    w->fold = malloc(EMB_MAX_WORD + 1);
    w->woff = malloc(4096 * sizeof *w->woff);
    if (!w->fold || !w->woff) return err_set(err, ERR_NOMEM, "vectors import");
    w->woff_cap = 4096;
    w->woff[0] = 0;
    int rc = file_atomic_open(&w->fa, dst, err);
    if (rc == ERR_IO && folder_missing(dst)) /* as a missing source is */
        return err_set(err, ERR_NOTFOUND, "%s: %s", dst, strerror(ENOENT));
    if (rc) return rc;
    static const unsigned char zero[VF_HDR];
    w->hash = HASH_FNV_INIT;
    return wr_raw(w, zero, VF_HDR, err);
}

/* Write the word sections and the header, then rename over dst (with fsync, file.h). */
static int wr_finish(struct vf_wr *w, int format, struct err *err)
{
    if (w->count == 0) return err_set(err, ERR_PARSE, "%s: no usable word vectors", w->dst);
    uint64_t vec_off = VF_HDR;
    if (wr_pad(w, err) != 0) return err->code;
    uint64_t woff_off = w->off;
    for (uint64_t r = 0; r <= w->count; r++) {
        unsigned char b[8];
        wr64(b, w->woff[r]);
        if (wr_raw(w, b, 8, err) != 0) return err->code;
    }
    if (wr_pad(w, err) != 0) return err->code;
    uint64_t bytes_off = w->off;
    if (wr_raw(w, w->words.data, w->words.len, err) != 0 || wr_pad(w, err) != 0) return err->code;
    uint64_t slot_off = w->off;
    /* final table: the smallest power of two >= 2 * count */
    uint64_t ns = 1024;
    while (ns < 2 * w->count)
        ns *= 2;
    if (ns != w->set.nslots) {
        free(w->set.slots);
        w->set.slots = NULL;
        w->set.nslots = ns / 2;
        if (set_grow(w, err) != 0) return err->code;
    }
    for (uint64_t i = 0; i < ns; i++) {
        unsigned char b[4];
        wr32(b, w->set.slots[i]);
        if (wr_raw(w, b, 4, err) != 0) return err->code;
    }
    unsigned char h[VF_HDR] = {0};
    memcpy(h, VF_MAGIC, 8);
    wr32(h + 8, w->dim);
    wr32(h + 12, VF_HDR);
    wr64(h + 16, w->count);
    wr64(h + 24, vec_off);
    wr64(h + 32, woff_off);
    wr64(h + 40, bytes_off);
    wr64(h + 48, w->words.len);
    wr64(h + 56, slot_off);
    wr64(h + 64, ns);
    wr64(h + 72, w->off);
    wr64(h + 80, w->hash);
    wr32(h + 88, (uint32_t)format);
    if (fflush(w->fa.f) != 0 || fseek(w->fa.f, 0, SEEK_SET) != 0 ||
        fwrite(h, 1, VF_HDR, w->fa.f) != VF_HDR)
        return err_set(err, ERR_IO, "%s: write: %s", w->fa.tmp, strerror(errno));
    return file_atomic_commit(&w->fa, err);
}

static void wr_cleanup(struct vf_wr *w)
{
    file_atomic_abort(&w->fa);
    free(w->fold);
    free(w->woff);
    free(w->set.slots);
    buf_cleanup(&w->words);
}

/* ---------------------------------------------------------------- text formats */

/* Parse a number token; 0 or ERR_PARSE. */
static int parse_float(const char *s, size_t n, float *out)
{
    char tmp[VF_NUM_MAX + 1];
    if (n == 0 || n > VF_NUM_MAX) return ERR_PARSE;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    float v = strtof(tmp, &end);
    if (end != tmp + n || (errno == ERANGE && !isfinite(v))) return ERR_PARSE;
    *out = v;
    return 0;
}

/* Parse "count dim" (the whole line). Returns 1 when it is such a header. */
static int parse_header(const char *s, size_t n, uint64_t *count, uint64_t *dim)
{
    uint64_t v[2] = {0, 0};
    size_t i = 0;
    for (int k = 0; k < 2; k++) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        size_t st = i;
        while (i < n && ascii_isdigit((unsigned char)s[i]) && i - st < 12)
            v[k] = v[k] * 10 + (uint64_t)(s[i++] - '0');
        if (i == st || (i < n && ascii_isdigit((unsigned char)s[i]))) return 0;
    }
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i != n) return 0;
    *count = v[0];
    *dim = v[1];
    return 1;
}

struct tok {
    size_t start, len;
};

/* Split a text line into tokens on spaces/tabs, at most `cap`. Returns the count or cap + 1. */
static size_t split_line(const char *s, size_t n, struct tok *t, size_t cap)
{
    size_t k = 0, i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i >= n) break;
        size_t st = i;
        while (i < n && s[i] != ' ' && s[i] != '\t')
            i++;
        if (k == cap) return cap + 1;
        t[k].start = st;
        t[k].len = i - st;
        k++;
    }
    return k;
}

/* One text line "word v1 .. vdim": the last dim tokens are the numbers, the rest is the word
 * (GloVe 840B has a few words with spaces). */
static int text_line(struct vf_wr *w, struct vf_rd *r, const char *s, size_t n, struct tok *tk,
                     size_t cap, float *vec, struct err *err)
{
    size_t nt = split_line(s, n, tk, cap);
    if (nt == 0) return 0; /* blank line */
    if (nt > cap || nt < w->dim + 1)
        return err_set(err, ERR_PARSE, "%s:%ld: expected a word and %u numbers", r->path, r->line,
                       w->dim);
    size_t first = nt - w->dim;
    /* a word with spaces (GloVe 840B has a few) must not end in numbers: then a number is missing
     */
    float dummy;
    if (first > 1 && parse_float(s + tk[first - 1].start, tk[first - 1].len, &dummy) == 0)
        return err_set(err, ERR_PARSE, "%s:%ld: expected a word and %u numbers, got %zu numbers",
                       r->path, r->line, w->dim, nt - 1);
    for (size_t i = 0; i < w->dim; i++)
        if (parse_float(s + tk[first + i].start, tk[first + i].len, &vec[i]) != 0)
            return err_set(err, ERR_PARSE, "%s:%ld: bad number \"%.*s\"", r->path, r->line,
                           (int)(tk[first + i].len > 40 ? 40 : tk[first + i].len),
                           s + tk[first + i].start);
    return wr_word(w, s, tk[first].start, vec, err);
}

/* Does the line look like "word n1 .. ndim" (a text record)? */
static int looks_text(const char *s, size_t n, uint64_t dim)
{
    size_t i = 0, k = 0;
    while (i < n && s[i] != ' ')
        i++;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i >= n) break;
        size_t st = i;
        while (i < n && s[i] != ' ' && s[i] != '\t') {
            if (!strchr("0123456789+-.eE", s[i])) return 0;
            i++;
        }
        if (i == st) return 0;
        k++;
    }
    return k == dim;
}

static int import_text(struct vf_wr *w, struct vf_rd *r, int has_header, struct err *err)
{
    struct tok *tk = NULL;
    float *vec = NULL;
    char *s;
    size_t n;
    int rc = 0;
    if (has_header) {
        if (rd_line(r, &s, &n, err) != 1) return err->code ? err->code : ERR_PARSE;
    }
    size_t cap = EMB_MAX_DIM + 64;
    tk = malloc(cap * sizeof *tk);
    vec = malloc((EMB_MAX_DIM + 1) * sizeof *vec);
    if (!tk || !vec) {
        rc = err_set(err, ERR_NOMEM, "vectors import");
        goto fail;
    }
    for (;;) {
        int got = rd_line(r, &s, &n, err);
        if (got < 0) {
            rc = err->code;
            goto fail;
        }
        if (got == 0) break;
        if (w->dim == 0) { /* GloVe: the first line says the size */
            size_t nt = split_line(s, n, tk, cap);
            if (nt == 0) continue;
            if (nt > cap || nt - 1 > EMB_MAX_DIM) {
                rc = err_set(err, ERR_LIMIT, "%s:%ld: more than %d numbers", r->path, r->line,
                             EMB_MAX_DIM);
                goto fail;
            }
            if (nt < 2) {
                rc = err_set(err, ERR_PARSE, "%s:%ld: expected a word and numbers", r->path,
                             r->line);
                goto fail;
            }
            w->dim = (uint32_t)(nt - 1);
        }
        if ((rc = text_line(w, r, s, n, tk, cap, vec, err)) != 0) goto fail;
    }
fail:
    free(tk);
    free(vec);
    return rc;
}

static int import_w2v_bin(struct vf_wr *w, struct vf_rd *r, uint64_t count, struct err *err)
{
    char *s;
    size_t n;
    int rc = 0;
    if (rd_line(r, &s, &n, err) != 1) return err->code ? err->code : ERR_PARSE;
    float *vec = malloc((size_t)w->dim * sizeof *vec);
    char *word = malloc(EMB_MAX_WORD * 4 + 1);
    if (!vec || !word) {
        rc = err_set(err, ERR_NOMEM, "vectors import");
        goto fail;
    }
    for (uint64_t k = 0; k < count; k++) {
        int c;
        while ((c = rd_peek(r, err)) == '\n' || c == '\r' || c == ' ')
            r->pos++;
        if (err->code) {
            rc = err->code;
            goto fail;
        }
        size_t len = 0;
        uint64_t at = rd_offset(r);
        for (;;) {
            c = rd_peek(r, err);
            if (c < 0) {
                rc = err->code
                         ? err->code
                         : err_set(err, ERR_PARSE, "%s: truncated at word %llu of %llu", r->path,
                                   (unsigned long long)k + 1, (unsigned long long)count);
                goto fail;
            }
            r->pos++;
            if (c == ' ') break;
            if (len >= EMB_MAX_WORD * 4) {
                rc = err_set(err, ERR_PARSE,
                             "%s: byte %llu: word longer than %d bytes (not word2vec binary?)",
                             r->path, (unsigned long long)at, EMB_MAX_WORD * 4);
                goto fail;
            }
            word[len++] = (char)c;
        }
        if ((rc = rd_bytes(r, vec, (size_t)w->dim * sizeof *vec, err)) != 0) goto fail;
        /* stored little-endian: swap on a big-endian host */
        const uint16_t one = 1;
        if (*(const unsigned char *)&one == 0)
            for (uint32_t i = 0; i < w->dim; i++) {
                uint32_t u;
                memcpy(&u, &vec[i], 4);
                u = rd32((const unsigned char *)&u);
                memcpy(&vec[i], &u, 4);
            }
        if ((rc = wr_word(w, word, len, vec, err)) != 0) goto fail;
    }
fail:
    free(vec);
    free(word);
    return rc;
}

/* ---------------------------------------------------------------- JSON (wink) */

static int js_ws(struct vf_rd *r, struct err *err)
{
    int c;
    while ((c = rd_peek(r, err)) == ' ' || c == '\n' || c == '\r' || c == '\t')
        r->pos++;
    return c;
}

static int js_fail(struct vf_rd *r, const char *what, struct err *err)
{
    if (err->code) return err->code;
    return err_set(err, ERR_PARSE, "%s: byte %llu: %s", r->path, (unsigned long long)rd_offset(r),
                   what);
}

static int js_expect(struct vf_rd *r, int ch, struct err *err)
{
    if (js_ws(r, err) != ch) {
        char what[32];
        snprintf(what, sizeof what, "expected '%c'", ch);
        return js_fail(r, what, err);
    }
    r->pos++;
    return 0;
}

static int hex4(struct vf_rd *r, uint32_t *v, struct err *err)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int c = rd_peek(r, err);
        int d = ascii_hexval(c);
        if (d < 0) return js_fail(r, "bad \\u escape", err);
        r->pos++;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

/* Read a string into out (NULL: skip it). */
static int js_string(struct vf_rd *r, struct buf *out, struct err *err)
{
    if (js_expect(r, '"', err) != 0) return err->code;
    if (out) buf_reset(out);
    for (;;) {
        int c = rd_peek(r, err);
        if (c < 0) return js_fail(r, "unterminated string", err);
        r->pos++;
        if (c == '"') return 0;
        char tmp[4];
        size_t m = 1;
        tmp[0] = (char)c;
        if (c == '\\') {
            c = rd_peek(r, err);
            if (c < 0) return js_fail(r, "unterminated string", err);
            r->pos++;
            static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
            const char *e = c > 0 ? strchr(esc_in, c) : NULL;
            if (e) {
                tmp[0] = esc_out[e - esc_in];
            } else if (c == 'u') {
                uint32_t v;
                if (hex4(r, &v, err) != 0) return err->code;
                if (v >= 0xd800 && v <= 0xdbff) {
                    uint32_t lo;
                    if (rd_peek(r, err) != '\\') return js_fail(r, "lone surrogate", err);
                    r->pos++;
                    if (rd_peek(r, err) != 'u') return js_fail(r, "lone surrogate", err);
                    r->pos++;
                    if (hex4(r, &lo, err) != 0) return err->code;
                    if (lo < 0xdc00 || lo > 0xdfff) return js_fail(r, "bad surrogate pair", err);
                    v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
                } else if (v >= 0xdc00 && v <= 0xdfff) {
                    return js_fail(r, "lone surrogate", err);
                }
                m = utf8_enc(v, tmp);
            } else {
                return js_fail(r, "bad escape", err);
            }
        } else if (c < 0x20) {
            return js_fail(r, "control character in string", err);
        }
        if (out) {
            if (out->len + m > VF_JSON_STR) return js_fail(r, "string too long", err);
            if (buf_append(out, tmp, m) != 0) return err_set(err, ERR_NOMEM, "vectors import");
        }
    }
}

static int js_number(struct vf_rd *r, float *out, struct err *err)
{
    char tmp[VF_NUM_MAX];
    size_t n = 0;
    int c;
    js_ws(r, err);
    while ((c = rd_peek(r, err)) >= 0 && strchr("0123456789+-.eE", c)) {
        if (n == VF_NUM_MAX) return js_fail(r, "number too long", err);
        tmp[n++] = (char)c;
        r->pos++;
    }
    if (parse_float(tmp, n, out) != 0) return js_fail(r, "expected a number", err);
    return 0;
}

static int js_literal(struct vf_rd *r, const char *lit, struct err *err)
{
    for (const char *p = lit; *p; p++) {
        if (rd_peek(r, err) != *p) return js_fail(r, "bad literal", err);
        r->pos++;
    }
    return 0;
}

static int js_skip(struct vf_rd *r, int depth, struct err *err);

/* Skip the rest of an array or object whose opening bracket was just consumed. */
static int js_skip_body(struct vf_rd *r, int close, int depth, struct err *err)
{
    if (js_ws(r, err) == close) {
        r->pos++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (js_string(r, NULL, err) != 0 || js_expect(r, ':', err) != 0) return err->code;
        }
        if (js_skip(r, depth + 1, err) != 0) return err->code;
        int c = js_ws(r, err);
        if (c == close) {
            r->pos++;
            return 0;
        }
        if (c != ',') return js_fail(r, "expected ',' or a closing bracket", err);
        r->pos++;
    }
}

static int js_skip(struct vf_rd *r, int depth, struct err *err)
{
    if (depth > VF_JSON_DEPTH) return js_fail(r, "nested too deeply", err);
    int c = js_ws(r, err);
    float f;
    switch (c) {
    case '"':
        return js_string(r, NULL, err);
    case 't':
        return js_literal(r, "true", err);
    case 'f':
        return js_literal(r, "false", err);
    case 'n':
        return js_literal(r, "null", err);
    case '[':
    case '{':
        r->pos++;
        return js_skip_body(r, c == '[' ? ']' : '}', depth, err);
    default:
        return js_number(r, &f, err);
    }
}

/* Read the rest of an array of numbers whose '[' was just consumed: the first `keep` go to vec,
 * *n gets how many there were. */
static int js_vector_body(struct vf_rd *r, float *vec, size_t keep, size_t *n, struct err *err)
{
    *n = 0;
    if (js_ws(r, err) == ']') {
        r->pos++;
        return 0;
    }
    for (;;) {
        float f;
        if (js_number(r, &f, err) != 0) return err->code;
        if (*n < keep) vec[*n] = f;
        if (++*n > EMB_MAX_DIM + 16) return js_fail(r, "vector too long", err);
        int c = js_ws(r, err);
        if (c == ']') {
            r->pos++;
            return 0;
        }
        if (c != ',') return js_fail(r, "expected ',' or ']'", err);
        r->pos++;
    }
}

/* One word vector from JSON, its '[' just consumed: dim from "dimensions" (or "l2NormIndex") when
 * seen, else the length of the first vector. Extra numbers after dim are dropped. */
static int js_word(struct vf_wr *w, struct vf_rd *r, const struct buf *key, float *vec,
                   struct err *err)
{
    size_t n;
    uint64_t at = rd_offset(r);
    if (js_vector_body(r, vec, w->dim ? w->dim : EMB_MAX_DIM, &n, err) != 0) return err->code;
    if (w->dim == 0) {
        if (n == 0 || n > EMB_MAX_DIM)
            return err_set(err, ERR_PARSE, "%s: byte %llu: vector of %zu numbers", r->path,
                           (unsigned long long)at, n);
        w->dim = (uint32_t)n;
    }
    if (n < w->dim)
        return err_set(err, ERR_PARSE, "%s: byte %llu: \"%.40s\" has %zu numbers, expected %u",
                       r->path, (unsigned long long)at, key->data, n, w->dim);
    return wr_word(w, key->data, key->len, vec, err);
}

/* After an object member: consume ',' or the closing '}' (*closed = 1); anything else fails. */
static int js_member_end(struct vf_rd *r, int *closed, struct err *err)
{
    int c = js_ws(r, err);
    if (c != ',' && c != '}') return js_fail(r, "expected ',' or '}'", err);
    r->pos++;
    *closed = c == '}';
    return 0;
}

static int import_json(struct vf_wr *w, struct vf_rd *r, struct err *err)
{
    struct buf key = {0};
    float *vec = malloc((EMB_MAX_DIM + 1) * sizeof *vec);
    int rc = 0;
    if (!vec) return err_set(err, ERR_NOMEM, "vectors import");
    if ((rc = js_expect(r, '{', err)) != 0) goto fail;
    if (js_ws(r, err) == '}') {
        r->pos++;
        goto done;
    }
    for (;;) {
        if ((rc = js_string(r, &key, err)) != 0 || (rc = js_expect(r, ':', err)) != 0) goto fail;
        int c = js_ws(r, err);
        int meta_dim = strcmp(key.data ? key.data : "", "dimensions") == 0 ||
                       strcmp(key.data ? key.data : "", "l2NormIndex") == 0;
        if (meta_dim && c != '"' && c != '{' && c != '[') {
            float f;
            if ((rc = js_number(r, &f, err)) != 0) goto fail;
            if (!(f >= 1 && f <= EMB_MAX_DIM) || f != (float)(int)f) {
                rc = err_set(err, ERR_LIMIT, "%s: \"%s\" is %g (1..%d)", r->path, key.data, f,
                             EMB_MAX_DIM);
                goto fail;
            }
            if (w->count == 0) w->dim = (uint32_t)f;
        } else if (key.data && strcmp(key.data, "vectors") == 0 && c == '{') {
            r->pos++;
            if (js_ws(r, err) == '}') {
                r->pos++;
            } else {
                for (;;) {
                    if ((rc = js_string(r, &key, err)) != 0 || (rc = js_expect(r, ':', err)) != 0 ||
                        (rc = js_expect(r, '[', err)) != 0 ||
                        (rc = js_word(w, r, &key, vec, err)) != 0)
                        goto fail;
                    int closed;
                    if ((rc = js_member_end(r, &closed, err)) != 0) goto fail;
                    if (closed) break;
                }
            }
        } else if (c == '[' && key.data && strcmp(key.data, "unkVector") != 0) {
            /* a plain {"word": [numbers]} map, or a non-numeric array to skip */
            r->pos++;
            int d = js_ws(r, err);
            if (d == '-' || ascii_isdigit(d))
                rc = js_word(w, r, &key, vec, err);
            else
                rc = js_skip_body(r, ']', 0, err);
            if (rc != 0) goto fail;
        } else if ((rc = js_skip(r, 0, err)) != 0) {
            goto fail;
        }
        int closed;
        if ((rc = js_member_end(r, &closed, err)) != 0) goto fail;
        if (closed) break;
    }
done:
    if (js_ws(r, err) >= 0) rc = js_fail(r, "data after the JSON object", err);
fail:
    buf_cleanup(&key);
    free(vec);
    return rc;
}

/* ---------------------------------------------------------------- import */

static int vecfile_import(const char *src, const char *dst, struct err *err);

int emb_vecfile_import(const char *src, const char *dst, struct err *err)
{
    /* internally err->code doubles as "a read failed" flag, so start from a clean record */
    struct err local = {0};
    int rc = vecfile_import(src, dst, &local);
    if (rc != 0) {
        if (err) *err = local;
        return rc;
    }
    err_clear(err);
    return 0;
}

static int vecfile_import(const char *src, const char *dst, struct err *err)
{
    struct vf_rd r = {.path = src};
    struct vf_wr w = {0};
    int rc = 0;
    r.f = fopen(src, "rb");
    if (!r.f)
        return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", src,
                       strerror(errno));
    r.buf = malloc(VF_RDBUF + 1);
    if (!r.buf) {
        rc = err_set(err, ERR_NOMEM, "vectors import");
        goto fail;
    }
    if ((rc = rd_fill(&r, err)) != 0) goto fail;
    if (r.len >= 3 && memcmp(r.buf, "\xef\xbb\xbf", 3) == 0) r.pos = 3;
    if ((rc = wr_begin(&w, dst, err)) != 0) goto fail;

    int c = js_ws(&r, err);
    if (err->code) {
        rc = err->code;
        goto fail;
    }
    int format;
    if (c == '{') {
        format = VF_JSON;
        rc = import_json(&w, &r, err);
    } else {
        /* the first line: "count dim" header or a GloVe record */
        unsigned char *nl = memchr(r.buf + r.pos, '\n', r.len - r.pos);
        size_t n1 = nl ? (size_t)(nl - (r.buf + r.pos)) : r.len - r.pos;
        uint64_t count, dim;
        if (parse_header((const char *)r.buf + r.pos,
                         n1 && r.buf[r.pos + n1 - 1] == '\r' ? n1 - 1 : n1, &count, &dim)) {
            if (dim < 1 || dim > EMB_MAX_DIM || count > EMB_MAX_WORDS) {
                rc = err_set(err, ERR_LIMIT, "%s:1: %llu words of %llu numbers (caps %llu, %d)",
                             src, (unsigned long long)count, (unsigned long long)dim,
                             (unsigned long long)EMB_MAX_WORDS, EMB_MAX_DIM);
                goto fail;
            }
            w.dim = (uint32_t)dim;
            /* text records after the header, or raw floats? */
            const char *s2 = nl ? (const char *)nl + 1 : "";
            size_t avail = nl ? r.len - (size_t)((const unsigned char *)s2 - r.buf) : 0;
            const char *nl2 = memchr(s2, '\n', avail);
            size_t n2 = nl2 ? (size_t)(nl2 - s2) : avail;
            if (n2 && s2[n2 - 1] == '\r') n2--;
            if (count == 0 || looks_text(s2, n2, dim)) {
                format = VF_TEXT_HDR;
                rc = import_text(&w, &r, 1, err);
            } else {
                format = VF_W2V_BIN;
                rc = import_w2v_bin(&w, &r, count, err);
            }
        } else {
            format = VF_GLOVE;
            rc = import_text(&w, &r, 0, err);
        }
    }
    if (rc != 0) goto fail;
    rc = wr_finish(&w, format, err);
fail:
    wr_cleanup(&w);
    if (r.f) fclose(r.f);
    free(r.buf);
    return rc;
}

/* ---------------------------------------------------------------- open and lookup */

static int corrupt(const char *path, const char *what, struct err *err)
{
    return err_set(err, ERR_CORRUPT, "%s: not a valid vectors file (%s)", path, what);
}

/* [off, off + len) inside size, off aligned */
static int sect_ok(uint64_t off, uint64_t len, uint64_t size)
{
    return off % VF_ALIGN == 0 && off >= VF_HDR && off <= size && len <= size - off;
}

int emb_vecfile_open(struct emb_vecfile **out, const char *path, struct err *err)
{
    *out = NULL;
    int rc = 0;
    struct emb_vecfile *v = calloc(1, sizeof *v);
    if (!v) return err_set(err, ERR_NOMEM, "emb_vecfile_open");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = corrupt(path, "not a regular file", err);
        goto fail;
    }
    if (st.st_size < VF_HDR) {
        rc = corrupt(path, "shorter than the header", err);
        goto fail;
    }
    v->size = (size_t)st.st_size;
    void *m = mmap(NULL, v->size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        rc = err_set(err, ERR_IO, "%s: mmap: %s", path, strerror(errno));
        goto fail;
    }
    v->map = m;
    const unsigned char *h = v->map;
    if (memcmp(h, VF_MAGIC, 8) != 0) {
        rc = corrupt(path, "bad magic", err);
        goto fail;
    }
    v->dim = rd32(h + 8);
    v->count = rd64(h + 16);
    uint64_t vec_off = rd64(h + 24), woff_off = rd64(h + 32), bytes_off = rd64(h + 40);
    uint64_t slot_off = rd64(h + 56), fsize = rd64(h + 72);
    v->bytes_len = rd64(h + 48);
    v->nslots = rd64(h + 64);
    if (rd32(h + 12) != VF_HDR || v->dim < 1 || v->dim > EMB_MAX_DIM || v->count < 1 ||
        v->count > EMB_MAX_WORDS) {
        rc = corrupt(path, "bad header", err);
        goto fail;
    }
    if (fsize != v->size) {
        rc = corrupt(path, fsize > v->size ? "truncated" : "size differs from header", err);
        goto fail;
    }
    /* count <= 5e7 and dim <= 4096: the products below cannot overflow 64 bits */
    if (v->nslots < 2 * v->count || (v->nslots & (v->nslots - 1)) != 0 ||
        v->nslots > (1ull << 40) || !sect_ok(vec_off, v->count * v->dim * 4, v->size) ||
        !sect_ok(woff_off, (v->count + 1) * 8, v->size) ||
        !sect_ok(bytes_off, v->bytes_len, v->size) || !sect_ok(slot_off, v->nslots * 4, v->size)) {
        rc = corrupt(path, "section outside the file", err);
        goto fail;
    }
    v->vec = (const void *)(v->map + vec_off); /* 64-byte aligned float32 (count, dim) */
    v->woff = v->map + woff_off;
    v->bytes = (const char *)v->map + bytes_off;
    v->slots = v->map + slot_off;
    uint64_t prev = 0;
    for (uint64_t r = 0; r <= v->count; r++) {
        uint64_t o = rd64(v->woff + 8 * r);
        if ((r == 0 && o != 0) || o < prev || o > v->bytes_len) {
            rc = corrupt(path, "bad word offsets", err);
            goto fail;
        }
        prev = o;
    }
    if (prev != v->bytes_len) {
        rc = corrupt(path, "bad word offsets", err);
        goto fail;
    }
    snprintf(v->hash, sizeof v->hash, "%016llx", (unsigned long long)rd64(h + 80));
    close(fd);
    *out = v;
    return 0;
fail:
    if (fd >= 0) close(fd);
    emb_vecfile_close(v);
    return rc;
}

void emb_vecfile_close(struct emb_vecfile *v)
{
    if (!v) return;
    if (v->map) munmap((void *)v->map, v->size);
    free(v);
}

int64_t emb_vecfile_find(const struct emb_vecfile *v, const char *word, size_t len)
{
    uint64_t mask = v->nslots - 1, i = word_slot(word, len, v->nslots);
    for (uint64_t probes = 0; probes < v->nslots; probes++, i = (i + 1) & mask) {
        uint32_t s = rd32(v->slots + 4 * i);
        if (s == 0) return -1;
        if (s > v->count) return -1; /* corrupt slot: treat as absent */
        uint64_t a = rd64(v->woff + 8 * (s - 1)), b = rd64(v->woff + 8 * s);
        if (b - a == len && memcmp(v->bytes + a, word, len) == 0) return (int64_t)s - 1;
    }
    return -1;
}

const float *emb_vecfile_lookup(const struct emb_vecfile *v, const char *word, size_t len)
{
    return emb_vecfile_row(v, emb_vecfile_find(v, word, len));
}

const float *emb_vecfile_row(const struct emb_vecfile *v, int64_t row)
{
    if (row < 0 || (uint64_t)row >= v->count) return NULL;
    return v->vec + (size_t)row * v->dim;
}

const char *emb_vecfile_word(const struct emb_vecfile *v, int64_t row, size_t *len)
{
    if (row < 0 || (uint64_t)row >= v->count) return NULL;
    uint64_t a = rd64(v->woff + 8 * (uint64_t)row), b = rd64(v->woff + 8 * ((uint64_t)row + 1));
    *len = (size_t)(b - a);
    return v->bytes + a;
}

int emb_vecfile_dim(const struct emb_vecfile *v)
{
    return (int)v->dim;
}
int64_t emb_vecfile_count(const struct emb_vecfile *v)
{
    return (int64_t)v->count;
}
const char *emb_vecfile_hash(const struct emb_vecfile *v)
{
    return v->hash;
}

int emb_vecfile_verify(const struct emb_vecfile *v, struct err *err)
{
    uint64_t h = hash_fnv1a64(v->map + VF_HDR, v->size - VF_HDR);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    if (strcmp(hex, v->hash) != 0)
        return err_set(err, ERR_CORRUPT, "vectors file content hash %s, header says %s", hex,
                       v->hash);
    return 0;
}

int emb_vecfile_default_path(struct buf *out, struct err *err)
{
    const char *dir = getenv("VERICITE_MODEL_DIR");
    int rc;
    if (dir && *dir)
        rc = buf_printf(out, "%s/%s", dir, EMB_VEC_DEFAULT_NAME);
    else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return err_set(err, ERR_NOTFOUND, "neither VERICITE_MODEL_DIR nor HOME is set");
        rc = buf_printf(out, "%s/.cache/vericite/%s", home, EMB_VEC_DEFAULT_NAME);
    }
    return rc == 0 ? 0 : err_set(err, ERR_NOMEM, "emb_vecfile_default_path");
}
