/* idx_post.c - term postings: buffering while indexing, flushing into segments, reading them
 * back for BM25 (without the tombstoned passages: idx_tomb.c), and rewriting them when
 * tombstones are merged away (idx_optimize).
 *
 * A posting is four LEB128 varints: pid delta (from the previous posting in the segment; the
 * first is absolute), term frequency in the passage body, in the document title, and the passage
 * length in tokens. A term's postings live in rows postings(term, seg) in pid order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx_int.h"

/* A flush appends to a term's last segment while it is smaller than this, else starts a new
 * one, so a segment is rewritten only until it reaches this size. */
#define IDX_SEG_APPEND_MAX (64 * 1024)

struct idx_pterm {
    char *term;
    uint32_t tlen, hash;
    struct buf data;
    int64_t first_pid, last_pid, n;
    uint64_t passage_serial, title_serial;
    uint32_t tf_body, tf_title, title_tf;
};

/* ---------------------------------------------------------------- varints */

static int put_varint(struct buf *b, uint64_t v)
{
    char tmp[10];
    int n = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        if (v) c |= 0x80;
        tmp[n++] = (char)c;
    } while (v);
    return buf_append(b, tmp, (size_t)n);
}

/* Decode one varint at *pos (< end). Returns 0, or -1 on truncated/overlong data. */
static int get_varint(const unsigned char *p, size_t end, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    int shift = 0;
    while (*pos < end) {
        unsigned char c = p[(*pos)++];
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
        shift += 7;
        if (shift > 63) return -1;
    }
    return -1;
}

/* ---------------------------------------------------------------- the hash table */

static uint32_t hash_term(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static int pb_grow(struct idx *ix)
{
    size_t cap = ix->pb_cap ? ix->pb_cap * 2 : 4096;
    struct idx_pterm **slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < ix->pb_cap; i++) {
        struct idx_pterm *t = ix->pb_slots[i];
        if (!t) continue;
        size_t j = t->hash & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = t;
    }
    ix->pbuf_bytes += (cap - ix->pb_cap) * sizeof *slots;
    free(ix->pb_slots);
    ix->pb_slots = slots;
    ix->pb_cap = cap;
    return 0;
}

static struct idx_pterm *pb_get(struct idx *ix, const char *term, size_t len)
{
    if ((ix->pb_count + 1) * 10 >= ix->pb_cap * 7 && pb_grow(ix) != 0) return NULL;
    uint32_t h = hash_term(term, len);
    size_t j = h & (ix->pb_cap - 1);
    for (;;) {
        struct idx_pterm *t = ix->pb_slots[j];
        if (!t) break;
        if (t->hash == h && t->tlen == len && memcmp(t->term, term, len) == 0) return t;
        j = (j + 1) & (ix->pb_cap - 1);
    }
    struct idx_pterm *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->term = malloc(len + 1);
    if (!t->term) {
        free(t);
        return NULL;
    }
    memcpy(t->term, term, len);
    t->term[len] = '\0';
    t->tlen = (uint32_t)len;
    t->hash = h;
    ix->pb_slots[j] = t;
    ix->pb_count++;
    ix->pbuf_bytes += sizeof *t + len + 1 + 32;
    return t;
}

static int push_ptr(struct idx_pterm ***arr, size_t *n, size_t *cap, struct idx_pterm *t)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        struct idx_pterm **p = realloc(*arr, c * sizeof *p);
        if (!p) return -1;
        *arr = p;
        *cap = c;
    }
    (*arr)[(*n)++] = t;
    return 0;
}

void idx_pbuf_free(struct idx *ix)
{
    for (size_t i = 0; i < ix->pb_cap; i++) {
        struct idx_pterm *t = ix->pb_slots[i];
        if (!t) continue;
        buf_cleanup(&t->data);
        free(t->term);
        free(t);
    }
    free(ix->pb_slots);
    free(ix->pb_touched);
    free(ix->pb_title);
    ix->pb_slots = NULL;
    ix->pb_touched = ix->pb_title = NULL;
    ix->pb_cap = ix->pb_count = ix->pbuf_bytes = 0;
    ix->pb_ntouched = ix->pb_touched_cap = ix->pb_ntitle = ix->pb_title_cap = 0;
}

/* ---------------------------------------------------------------- building postings */

int idx_pbuf_title_begin(struct idx *ix, struct err *err)
{
    (void)err;
    ix->pb_title_serial++;
    ix->pb_ntitle = 0;
    return ERR_OK;
}

int idx_pbuf_title_term(struct idx *ix, const char *term, size_t len)
{
    struct idx_pterm *t = pb_get(ix, term, len);
    if (!t) return -1;
    if (t->title_serial != ix->pb_title_serial) {
        t->title_serial = ix->pb_title_serial;
        t->title_tf = 0;
        if (push_ptr(&ix->pb_title, &ix->pb_ntitle, &ix->pb_title_cap, t)) return -1;
    }
    t->title_tf++;
    return 0;
}

static int touch(struct idx *ix, struct idx_pterm *t)
{
    if (t->passage_serial == ix->pb_passage_serial) return 0;
    t->passage_serial = ix->pb_passage_serial;
    t->tf_body = t->tf_title = 0;
    return push_ptr(&ix->pb_touched, &ix->pb_ntouched, &ix->pb_touched_cap, t);
}

int idx_pbuf_passage_begin(struct idx *ix, struct err *err)
{
    (void)err;
    ix->pb_passage_serial++;
    ix->pb_ntouched = 0;
    return ERR_OK;
}

int idx_pbuf_replay_title(struct idx *ix, struct err *err)
{
    for (size_t i = 0; i < ix->pb_ntitle; i++) {
        struct idx_pterm *t = ix->pb_title[i];
        if (touch(ix, t)) return err_set(err, ERR_NOMEM, "postings");
        t->tf_title = t->title_tf;
    }
    return ERR_OK;
}

int idx_pbuf_body_term(struct idx *ix, const char *term, size_t len)
{
    struct idx_pterm *t = pb_get(ix, term, len);
    if (!t || touch(ix, t)) return -1;
    t->tf_body++;
    return 0;
}

int idx_pbuf_passage_end(struct idx *ix, int64_t pid, uint32_t len, struct err *err)
{
    for (size_t i = 0; i < ix->pb_ntouched; i++) {
        struct idx_pterm *t = ix->pb_touched[i];
        size_t before = t->data.cap;
        int64_t delta = t->n ? pid - t->last_pid : pid;
        if (t->n == 0) t->first_pid = pid;
        if (put_varint(&t->data, (uint64_t)delta) || put_varint(&t->data, t->tf_body) ||
            put_varint(&t->data, t->tf_title) || put_varint(&t->data, len))
            return err_set(err, ERR_NOMEM, "postings");
        t->last_pid = pid;
        t->n++;
        ix->pbuf_bytes += t->data.cap - before;
    }
    ix->pb_ntouched = 0;
    return ERR_OK;
}

static int cmp_pterm(const void *a, const void *b)
{
    const struct idx_pterm *x = *(const struct idx_pterm *const *)a;
    const struct idx_pterm *y = *(const struct idx_pterm *const *)b;
    return strcmp(x->term, y->term);
}

/* Write one buffered term: append to its last segment while that is small, else a new segment. */
static int flush_term(struct idx *ix, struct idx_pterm *t, struct buf *scratch, struct err *err)
{
    int rc = idx_prepare(ix, &ix->st_seg_last,
                         "SELECT seg, n, last, data FROM postings WHERE term=?"
                         " ORDER BY seg DESC LIMIT 1",
                         err);
    if (rc) return rc;
    sqlite3_stmt *st = ix->st_seg_last;
    sqlite3_bind_text(st, 1, t->term, (int)t->tlen, SQLITE_STATIC);
    int s = sqlite3_step(st);
    int64_t seg = 0;
    if (s == SQLITE_ROW) {
        seg = sqlite3_column_int64(st, 0);
        int64_t n = sqlite3_column_int64(st, 1), last = sqlite3_column_int64(st, 2);
        int dlen = sqlite3_column_bytes(st, 3);
        if (dlen < IDX_SEG_APPEND_MAX && last < t->first_pid) {
            buf_reset(scratch);
            const void *old = sqlite3_column_blob(st, 3);
            if (buf_append(scratch, old, (size_t)dlen)) {
                sqlite3_reset(st);
                return err_set(err, ERR_NOMEM, "postings");
            }
            sqlite3_reset(st);
            /* re-base the first posting on the segment's last pid */
            size_t pos = 0;
            uint64_t first;
            if (get_varint((const unsigned char *)t->data.data, t->data.len, &pos, &first))
                return err_set(err, ERR_INTERNAL, "postings buffer");
            if (put_varint(scratch, (uint64_t)(t->first_pid - last)) ||
                buf_append(scratch, t->data.data + pos, t->data.len - pos))
                return err_set(err, ERR_NOMEM, "postings");
            if ((rc = idx_prepare(ix, &ix->st_seg_upd,
                                  "UPDATE postings SET n=?, last=?, data=? WHERE term=? AND seg=?",
                                  err)))
                return rc;
            sqlite3_bind_int64(ix->st_seg_upd, 1, n + t->n);
            sqlite3_bind_int64(ix->st_seg_upd, 2, t->last_pid);
            sqlite3_bind_blob(ix->st_seg_upd, 3, scratch->data, (int)scratch->len, SQLITE_STATIC);
            sqlite3_bind_text(ix->st_seg_upd, 4, t->term, (int)t->tlen, SQLITE_STATIC);
            sqlite3_bind_int64(ix->st_seg_upd, 5, seg);
            if (sqlite3_step(ix->st_seg_upd) != SQLITE_DONE)
                return idx_sql_err(ix, err, "update postings");
            return ERR_OK;
        }
        seg++;
    } else if (s != SQLITE_DONE) {
        sqlite3_reset(st);
        return idx_sql_err(ix, err, "read postings");
    }
    sqlite3_reset(st);
    if ((rc = idx_prepare(ix, &ix->st_seg_ins,
                          "INSERT INTO postings(term, seg, n, last, data) VALUES(?,?,?,?,?)", err)))
        return rc;
    sqlite3_bind_text(ix->st_seg_ins, 1, t->term, (int)t->tlen, SQLITE_STATIC);
    sqlite3_bind_int64(ix->st_seg_ins, 2, seg);
    sqlite3_bind_int64(ix->st_seg_ins, 3, t->n);
    sqlite3_bind_int64(ix->st_seg_ins, 4, t->last_pid);
    sqlite3_bind_blob(ix->st_seg_ins, 5, t->data.data, (int)t->data.len, SQLITE_STATIC);
    if (sqlite3_step(ix->st_seg_ins) != SQLITE_DONE) return idx_sql_err(ix, err, "insert postings");
    return ERR_OK;
}

int idx_pbuf_flush(struct idx *ix, struct err *err)
{
    if (ix->pb_count == 0) return ERR_OK;
    struct idx_pterm **terms = malloc(ix->pb_count * sizeof *terms);
    if (!terms) return err_set(err, ERR_NOMEM, "flush postings");
    size_t n = 0;
    for (size_t i = 0; i < ix->pb_cap; i++)
        if (ix->pb_slots[i] && ix->pb_slots[i]->n > 0) terms[n++] = ix->pb_slots[i];
    if (n > 1) qsort(terms, n, sizeof *terms, cmp_pterm); /* B-tree friendly order */
    struct buf scratch = {0};
    int rc = ERR_OK;
    for (size_t i = 0; i < n && !rc; i++) rc = flush_term(ix, terms[i], &scratch, err);
    buf_cleanup(&scratch);
    free(terms);
    idx_pbuf_free(ix);
    return rc;
}

/* ---------------------------------------------------------------- reading postings */

int idx_post_open(struct idx *ix, const char *term, size_t term_len, int64_t *df, struct err *err)
{
    *df = 0;
    buf_reset(&ix->it_data);
    ix->it_nsegs = ix->it_seg = ix->it_pos = 0;
    ix->it_last = 0;
    int rc = idx_tomb_refresh(ix, err); /* another process may have removed passages */
    if (rc) return rc;
    rc = idx_prepare(ix, &ix->st_post_read,
                         "SELECT n, data FROM postings WHERE term=? ORDER BY seg", err);
    if (rc) return rc;
    sqlite3_stmt *st = ix->st_post_read;
    sqlite3_bind_text(st, 1, term, (int)term_len, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        *df += sqlite3_column_int64(st, 0);
        const void *d = sqlite3_column_blob(st, 1);
        int dl = sqlite3_column_bytes(st, 1);
        if (ix->it_nsegs == ix->it_segcap) {
            size_t c = ix->it_segcap ? ix->it_segcap * 2 : 16;
            size_t *p = realloc(ix->it_segs, c * sizeof *p);
            if (!p) {
                sqlite3_reset(st);
                return err_set(err, ERR_NOMEM, "postings");
            }
            ix->it_segs = p;
            ix->it_segcap = c;
        }
        if (buf_append(&ix->it_data, d, (size_t)dl)) {
            sqlite3_reset(st);
            return err_set(err, ERR_NOMEM, "postings");
        }
        ix->it_segs[ix->it_nsegs++] = ix->it_data.len;
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) return idx_sql_err(ix, err, "read postings");
    /* the passages tombstoned since the last merge still have postings here: not counted */
    if (ix->n_dead > 0 && *df > 0) {
        int64_t dead = 0;
        if ((rc = idx_tomb_df(ix, term, term_len, &dead, err))) return rc;
        *df -= dead;
    }
    return ERR_OK;
}

int idx_post_next(struct idx *ix, struct idx_post *p, struct err *err)
{
    for (;;) {
        while (ix->it_seg < ix->it_nsegs && ix->it_pos >= ix->it_segs[ix->it_seg]) {
            ix->it_seg++;
            ix->it_last = 0;
        }
        if (ix->it_seg >= ix->it_nsegs) return 0;
        const unsigned char *d = (const unsigned char *)ix->it_data.data;
        size_t end = ix->it_segs[ix->it_seg];
        uint64_t delta, tb, tt, len;
        if (get_varint(d, end, &ix->it_pos, &delta) || get_varint(d, end, &ix->it_pos, &tb) ||
            get_varint(d, end, &ix->it_pos, &tt) || get_varint(d, end, &ix->it_pos, &len)) {
            err_set(err, ERR_CORRUPT, "%s: corrupt postings data", ix->dbpath);
            return -1;
        }
        ix->it_last += (int64_t)delta;
        if (!idx_pid_live(ix, ix->it_last)) continue; /* tombstoned (idx_tomb.c) */
        p->pid = ix->it_last;
        p->tf_body = (uint32_t)tb;
        p->tf_title = (uint32_t)tt;
        p->len = (uint32_t)len;
        return 1;
    }
}

/* ---------------------------------------------------------------- removing */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Rewrite every segment of `term`, dropping the postings of the pids in `gone` (sorted). */
static int rewrite_term(struct idx *ix, const char *term, const int64_t *gone, size_t ngone,
                        struct err *err)
{
    int rc = idx_prepare(ix, &ix->st_seg_all,
                         "SELECT seg, data FROM postings WHERE term=? ORDER BY seg", err);
    if (rc) return rc;
    /* copy the segments first: the statement cannot stay open while we update the table */
    struct buf all = {0};
    int64_t *segs = NULL;
    size_t *ends = NULL, nseg = 0, segcap = 0;
    sqlite3_stmt *st = ix->st_seg_all;
    sqlite3_bind_text(st, 1, term, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (nseg == segcap) {
            segcap = segcap ? segcap * 2 : 8;
            int64_t *a = realloc(segs, segcap * sizeof *a);
            if (a) segs = a;
            size_t *b = realloc(ends, segcap * sizeof *b);
            if (b) ends = b;
            if (!a || !b) {
                s = SQLITE_NOMEM;
                break;
            }
        }
        segs[nseg] = sqlite3_column_int64(st, 0);
        if (buf_append(&all, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1))) {
            s = SQLITE_NOMEM;
            break;
        }
        ends[nseg++] = all.len;
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        rc = s == SQLITE_NOMEM ? err_set(err, ERR_NOMEM, "postings") : idx_sql_err(ix, err, "read postings");
        goto out;
    }
    struct buf out = {0};
    size_t pos = 0;
    for (size_t i = 0; i < nseg && !rc; i++) {
        buf_reset(&out);
        int64_t last = 0, newlast = 0, kept = 0, dropped = 0;
        const unsigned char *d = (const unsigned char *)all.data;
        while (pos < ends[i]) {
            uint64_t delta, tb, tt, len;
            if (get_varint(d, ends[i], &pos, &delta) || get_varint(d, ends[i], &pos, &tb) ||
                get_varint(d, ends[i], &pos, &tt) || get_varint(d, ends[i], &pos, &len)) {
                rc = err_set(err, ERR_CORRUPT, "%s: corrupt postings for '%s'", ix->dbpath, term);
                break;
            }
            last += (int64_t)delta;
            if (bsearch(&last, gone, ngone, sizeof *gone, cmp_i64)) {
                dropped++;
                continue;
            }
            if (put_varint(&out, (uint64_t)(last - newlast)) || put_varint(&out, tb) ||
                put_varint(&out, tt) || put_varint(&out, len)) {
                rc = err_set(err, ERR_NOMEM, "postings");
                break;
            }
            newlast = last;
            kept++;
        }
        pos = ends[i];
        if (rc || dropped == 0) continue;
        sqlite3_stmt *w;
        if (kept == 0) {
            if ((rc = idx_prepare(ix, &ix->st_seg_del, "DELETE FROM postings WHERE term=? AND seg=?", err))) break;
            w = ix->st_seg_del;
            sqlite3_bind_text(w, 1, term, -1, SQLITE_STATIC);
            sqlite3_bind_int64(w, 2, segs[i]);
        } else {
            if ((rc = idx_prepare(ix, &ix->st_seg_upd,
                                  "UPDATE postings SET n=?, last=?, data=? WHERE term=? AND seg=?", err)))
                break;
            w = ix->st_seg_upd;
            sqlite3_bind_int64(w, 1, kept);
            sqlite3_bind_int64(w, 2, newlast);
            sqlite3_bind_blob(w, 3, out.data, (int)out.len, SQLITE_STATIC);
            sqlite3_bind_text(w, 4, term, -1, SQLITE_STATIC);
            sqlite3_bind_int64(w, 5, segs[i]);
        }
        if (sqlite3_step(w) != SQLITE_DONE) rc = idx_sql_err(ix, err, "rewrite postings");
        sqlite3_reset(w);
    }
    buf_cleanup(&out);
out:
    buf_cleanup(&all);
    free(segs);
    free(ends);
    return rc;
}

int idx_post_drop(struct idx *ix, const char *term, const int64_t *gone, size_t ngone, struct err *err)
{
    return rewrite_term(ix, term, gone, ngone, err);
}
