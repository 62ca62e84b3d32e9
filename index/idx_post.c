/* idx_post.c - term postings: buffering while indexing, flushing into segments, reading them
 * back for BM25 (without the tombstoned passages: idx_tomb.c), and rewriting them when
 * tombstones are merged away (idx_optimize).
 *
 * A posting is four LEB128 varints: pid delta (from the previous posting in the segment; the
 * first is absolute), term frequency in the passage body, in the document title, and the passage
 * length in tokens. A term's postings live in rows postings(term, seg) in pid order.
 *
 * Postings format 2 adds the column bounds to each row: varints n, length(data), then per block of
 * IDX_POST_BLOCK postings (the last one may be shorter) count, bytes, last pid minus the previous
 * block's last pid (0 before the first), max tf_body, max tf_title, max tf_body + tf_title, min
 * length. Written with every segment (seg_bounds); a reader that finds them missing or not matching
 * the row's n and data length computes them from the data instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx_int.h"
#include "vec.h"

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

static int seg_bounds(const unsigned char *d, size_t len, int64_t n, struct buf *out);

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
    if (vec_grow((void **)arr, cap, *n + 1, sizeof **arr)) return -1;
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
static int flush_term(struct idx *ix, struct idx_pterm *t, struct buf *scratch, struct buf *bounds,
                      struct err *err)
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
                                  "UPDATE postings SET n=?, last=?, data=?, bounds=? WHERE term=? AND seg=?",
                                  err)))
                return rc;
            if ((rc = seg_bounds((const unsigned char *)scratch->data, scratch->len, n + t->n, bounds)))
                return err_set(err, rc, "postings bounds");
            sqlite3_bind_int64(ix->st_seg_upd, 1, n + t->n);
            sqlite3_bind_int64(ix->st_seg_upd, 2, t->last_pid);
            sqlite3_bind_blob(ix->st_seg_upd, 3, scratch->data, (int)scratch->len, SQLITE_STATIC);
            sqlite3_bind_blob(ix->st_seg_upd, 4, bounds->data, (int)bounds->len, SQLITE_STATIC);
            sqlite3_bind_text(ix->st_seg_upd, 5, t->term, (int)t->tlen, SQLITE_STATIC);
            sqlite3_bind_int64(ix->st_seg_upd, 6, seg);
            rc = sqlite3_step(ix->st_seg_upd) != SQLITE_DONE ? idx_sql_err(ix, err, "update postings") : ERR_OK;
            sqlite3_reset(ix->st_seg_upd);
            return rc;
        }
        seg++;
    } else if (s != SQLITE_DONE) {
        sqlite3_reset(st);
        return idx_sql_err(ix, err, "read postings");
    }
    sqlite3_reset(st);
    if ((rc = idx_prepare(ix, &ix->st_seg_ins,
                          "INSERT INTO postings(term, seg, n, last, data, bounds) VALUES(?,?,?,?,?,?)", err)))
        return rc;
    if ((rc = seg_bounds((const unsigned char *)t->data.data, t->data.len, t->n, bounds)))
        return err_set(err, rc, "postings bounds");
    sqlite3_bind_text(ix->st_seg_ins, 1, t->term, (int)t->tlen, SQLITE_STATIC);
    sqlite3_bind_int64(ix->st_seg_ins, 2, seg);
    sqlite3_bind_int64(ix->st_seg_ins, 3, t->n);
    sqlite3_bind_int64(ix->st_seg_ins, 4, t->last_pid);
    sqlite3_bind_blob(ix->st_seg_ins, 5, t->data.data, (int)t->data.len, SQLITE_STATIC);
    sqlite3_bind_blob(ix->st_seg_ins, 6, bounds->data, (int)bounds->len, SQLITE_STATIC);
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
    struct buf scratch = {0}, bounds = {0};
    int rc = ERR_OK;
    for (size_t i = 0; i < n && !rc; i++) rc = flush_term(ix, terms[i], &scratch, &bounds, err);
    buf_cleanup(&scratch);
    buf_cleanup(&bounds);
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
        if (vec_grow((void **)&ix->it_segs, &ix->it_segcap, ix->it_nsegs + 1, sizeof *ix->it_segs)) {
            sqlite3_reset(st);
            return err_set(err, ERR_NOMEM, "postings");
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

/* ---------------------------------------------------------------- block bounds */

/* Append the bounds of the segment d[0..len) (format above) to out (reset first). */
static int seg_bounds(const unsigned char *d, size_t len, int64_t n, struct buf *out)
{
    buf_reset(out);
    if (put_varint(out, (uint64_t)n) || put_varint(out, len)) return ERR_NOMEM;
    size_t pos = 0, bstart = 0;
    int64_t pid = 0, prev_last = 0;
    uint32_t cnt = 0;
    uint64_t mb = 0, mt = 0, ms = 0, ml = UINT32_MAX;
    while (pos < len) {
        uint64_t delta, tb, tt, pl;
        if (get_varint(d, len, &pos, &delta) || get_varint(d, len, &pos, &tb) ||
            get_varint(d, len, &pos, &tt) || get_varint(d, len, &pos, &pl))
            return ERR_CORRUPT;
        pid += (int64_t)delta;
        if (tb > mb) mb = tb;
        if (tt > mt) mt = tt;
        if (tb + tt > ms) ms = tb + tt;
        if (pl < ml) ml = pl;
        if (++cnt == IDX_POST_BLOCK || pos == len) {
            if (put_varint(out, cnt) || put_varint(out, pos - bstart) ||
                put_varint(out, (uint64_t)(pid - prev_last)) || put_varint(out, mb) ||
                put_varint(out, mt) || put_varint(out, ms) || put_varint(out, ml))
                return ERR_NOMEM;
            prev_last = pid;
            bstart = pos;
            cnt = 0;
            mb = mt = ms = 0;
            ml = UINT32_MAX;
        }
    }
    return ERR_OK;
}

/* Parse bounds b[0..blen) of a segment whose data starts at `off` in pl->data, holds n postings
 * and dlen bytes, into pl->blocks. Returns 0, or -1 when they do not describe that segment (the
 * caller then computes them), or ERR_NOMEM. Blocks added before a failure are dropped. */
static int parse_bounds(struct idx_plist *pl, const unsigned char *b, size_t blen, size_t off,
                        int64_t n, size_t dlen)
{
    size_t pos = 0, first = pl->nblocks, at = off;
    uint64_t hn, hlen;
    if (!b || get_varint(b, blen, &pos, &hn) || get_varint(b, blen, &pos, &hlen) ||
        hn != (uint64_t)n || hlen != dlen)
        return -1;
    int64_t last = 0;
    uint64_t total = 0;
    while (pos < blen) {
        uint64_t v[7];
        for (int i = 0; i < 7; i++)
            if (get_varint(b, blen, &pos, &v[i])) goto bad;
        if (v[0] == 0 || v[0] > IDX_POST_BLOCK || v[1] == 0 || v[1] > off + dlen - at) goto bad;
        if (vec_grow((void **)&pl->blocks, &pl->cap, pl->nblocks + 1, sizeof *pl->blocks))
            return ERR_NOMEM;
        struct idx_pblock *k = &pl->blocks[pl->nblocks++];
        k->base = last;
        last += (int64_t)v[2];
        *k = (struct idx_pblock){k->base, last, at, at + (size_t)v[1], (uint32_t)v[0],
                                 (uint32_t)v[3], (uint32_t)v[4], (uint32_t)v[5], (uint32_t)v[6]};
        at += (size_t)v[1];
        total += v[0];
    }
    if (total == (uint64_t)n && at == off + dlen) return 0;
bad:
    pl->nblocks = first;
    return -1;
}

int idx_plist_load(struct idx *ix, const char *term, size_t term_len, struct idx_plist *pl,
                   struct err *err)
{
    buf_reset(&pl->data);
    pl->nblocks = 0;
    pl->df = 0;
    int rc = idx_tomb_refresh(ix, err); /* another process may have removed passages */
    if (rc) return rc;
    rc = idx_prepare(ix, &ix->st_plist,
                         ix->post_bounds
                             ? "SELECT n, data, bounds FROM postings WHERE term=? ORDER BY seg"
                             : "SELECT n, data, NULL FROM postings WHERE term=? ORDER BY seg",
                         err);
    if (rc) return rc;
    sqlite3_stmt *st = ix->st_plist;
    sqlite3_bind_text(st, 1, term, (int)term_len, SQLITE_STATIC);
    struct buf tmp = {0};
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 0);
        const void *d = sqlite3_column_blob(st, 1);
        size_t dl = (size_t)sqlite3_column_bytes(st, 1), off = pl->data.len;
        const unsigned char *b = sqlite3_column_blob(st, 2);
        size_t bl = (size_t)sqlite3_column_bytes(st, 2);
        pl->df += n;
        if (buf_append(&pl->data, d, dl)) { rc = err_set(err, ERR_NOMEM, "postings"); break; }
        int p = parse_bounds(pl, b, bl, off, n, dl);
        if (p < 0) { /* none stored, or stale: compute them */
            const unsigned char *seg = (const unsigned char *)pl->data.data + off;
            if ((rc = seg_bounds(seg, dl, n, &tmp))) {
                rc = rc == ERR_NOMEM ? err_set(err, ERR_NOMEM, "postings")
                                     : err_set(err, ERR_CORRUPT, "%s: corrupt postings data", ix->dbpath);
                break;
            }
            p = parse_bounds(pl, (const unsigned char *)tmp.data, tmp.len, off, n, dl);
            if (p < 0) { rc = err_set(err, ERR_CORRUPT, "%s: corrupt postings data", ix->dbpath); break; }
        }
        if (p) { rc = err_set(err, ERR_NOMEM, "postings"); break; }
    }
    sqlite3_reset(st);
    buf_cleanup(&tmp);
    if (!rc && s != SQLITE_DONE) rc = idx_sql_err(ix, err, "read postings");
    /* as idx_post_open: tombstoned passages still have postings (and bounds) here; the bounds
     * stay upper bounds, the scorer skips them (idx_pid_live), and df counts the live ones */
    if (!rc && ix->n_dead > 0 && pl->df > 0) {
        int64_t dead = 0;
        if (!(rc = idx_tomb_df(ix, term, term_len, &dead, err))) pl->df -= dead;
    }
    return rc;
}

/* One varint at d[*pos] (< end): the one-byte case inline, else get_varint. */
#define PL_VARINT(v)                                                                               \
    do {                                                                                           \
        if (pos < end && d[pos] < 0x80) (v) = d[pos++];                                            \
        else if (get_varint(d, end, &pos, &(v))) goto bad;                                         \
    } while (0)

int idx_plist_block(const struct idx_plist *pl, size_t b, struct idx_post *out, struct err *err)
{
    const struct idx_pblock *k = &pl->blocks[b];
    const unsigned char *d = (const unsigned char *)pl->data.data;
    size_t pos = k->start, end = k->end;
    int64_t pid = k->base;
    for (uint32_t i = 0; i < k->n; i++) {
        uint64_t delta, tb, tt, len;
        PL_VARINT(delta);
        PL_VARINT(tb);
        PL_VARINT(tt);
        PL_VARINT(len);
        pid += (int64_t)delta;
        out[i] = (struct idx_post){pid, (uint32_t)tb, (uint32_t)tt, (uint32_t)len};
    }
    return ERR_OK;
bad:
    return err_set(err, ERR_CORRUPT, "corrupt postings block");
}

void idx_plist_cleanup(struct idx_plist *pl)
{
    if (!pl) return;
    buf_cleanup(&pl->data);
    free(pl->blocks);
    memset(pl, 0, sizeof *pl);
}

int idx_post_bounds(struct idx *ix)
{
    return ix->post_bounds;
}

/* Add the bounds column to an index made before postings format 2 and fill it in one
 * transaction: batches of rows in key order, read first, then updated (no statement reads the
 * table while it changes). */
#define UPGRADE_BATCH 256
static int add_bounds(struct idx *ix, struct err *err)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    struct buf keys = {0}, bnds = {0}, one = {0};
    size_t kend[UPGRADE_BATCH], bend[UPGRADE_BATCH];
    int64_t segs[UPGRADE_BATCH], seg = -1;
    int rc = ERR_OK, s = SQLITE_DONE;
    if (sqlite3_exec(ix->db, "BEGIN IMMEDIATE; ALTER TABLE postings ADD COLUMN bounds BLOB", NULL,
                     NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ix->db, "SELECT term, seg, n, data FROM postings WHERE (term, seg) > (?, ?)"
                           " ORDER BY term, seg LIMIT 256", -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ix->db, "UPDATE postings SET bounds=? WHERE term=? AND seg=?", -1, &upd,
                           NULL) != SQLITE_OK) {
        rc = idx_sql_err(ix, err, "upgrade postings");
        goto out;
    }
    char *last = NULL; /* the batch's last term, in keys */
    size_t lastlen = 0;
    for (;;) {
        size_t nb = 0;
        sqlite3_bind_text(sel, 1, last ? last : "", (int)lastlen, SQLITE_TRANSIENT);
        sqlite3_bind_int64(sel, 2, seg);
        buf_reset(&keys);
        buf_reset(&bnds);
        while (!rc && (s = sqlite3_step(sel)) == SQLITE_ROW) {
            int r = seg_bounds(sqlite3_column_blob(sel, 3), (size_t)sqlite3_column_bytes(sel, 3),
                               sqlite3_column_int64(sel, 2), &one);
            if (r == ERR_CORRUPT)
                rc = err_set(err, ERR_CORRUPT, "%s: corrupt postings for '%s'", ix->dbpath,
                             (const char *)sqlite3_column_text(sel, 0));
            else if (r || buf_append(&keys, (const char *)sqlite3_column_text(sel, 0), (size_t)sqlite3_column_bytes(sel, 0)) ||
                     buf_append(&bnds, one.data, one.len))
                rc = err_set(err, ERR_NOMEM, "upgrade postings");
            segs[nb] = sqlite3_column_int64(sel, 1);
            kend[nb] = keys.len;
            bend[nb++] = bnds.len;
        }
        if (!rc && s != SQLITE_DONE) rc = idx_sql_err(ix, err, "upgrade postings");
        sqlite3_reset(sel);
        if (rc || nb == 0) break;
        for (size_t i = 0; i < nb && !rc; i++) {
            size_t k0 = i ? kend[i - 1] : 0, b0 = i ? bend[i - 1] : 0;
            sqlite3_bind_blob(upd, 1, bnds.data + b0, (int)(bend[i] - b0), SQLITE_STATIC);
            sqlite3_bind_text(upd, 2, keys.data + k0, (int)(kend[i] - k0), SQLITE_STATIC);
            sqlite3_bind_int64(upd, 3, segs[i]);
            if (sqlite3_step(upd) != SQLITE_DONE) rc = idx_sql_err(ix, err, "upgrade postings");
            sqlite3_reset(upd);
        }
        last = keys.data + (nb > 1 ? kend[nb - 2] : 0);
        lastlen = kend[nb - 1] - (nb > 1 ? kend[nb - 2] : 0);
        seg = segs[nb - 1];
        if (rc || nb < UPGRADE_BATCH) break;
    }
    if (!rc && (rc = idx_setting_set(ix, "postings_format", "2", err)) == ERR_OK &&
        sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = idx_sql_err(ix, err, "upgrade postings");
out:
    if (rc) sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    buf_cleanup(&keys);
    buf_cleanup(&bnds);
    buf_cleanup(&one);
    return rc;
}

int idx_post_upgrade(struct idx *ix, struct err *err)
{
    sqlite3_stmt *st = NULL;
    ix->post_bounds = sqlite3_prepare_v2(ix->db, "SELECT bounds FROM postings LIMIT 0", -1, &st,
                                         NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    if (ix->post_bounds || ix->readonly) return ERR_OK;
    int rc = add_bounds(ix, err);
    if (rc) return err_prefix(err, "%s: adding block bounds to the postings", ix->dbpath);
    ix->post_bounds = 1;
    return ERR_OK;
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
    struct buf out = {0}, bnd = {0};
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
                                  "UPDATE postings SET n=?, last=?, data=?, bounds=? WHERE term=? AND seg=?", err)))
                break;
            w = ix->st_seg_upd;
            sqlite3_bind_int64(w, 1, kept);
            sqlite3_bind_int64(w, 2, newlast);
            if ((rc = seg_bounds((const unsigned char *)out.data, out.len, kept, &bnd))) {
                rc = err_set(err, rc, "postings bounds");
                break;
            }
            sqlite3_bind_blob(w, 3, out.data, (int)out.len, SQLITE_STATIC);
            sqlite3_bind_blob(w, 4, bnd.data, (int)bnd.len, SQLITE_STATIC);
            sqlite3_bind_text(w, 5, term, -1, SQLITE_STATIC);
            sqlite3_bind_int64(w, 6, segs[i]);
        }
        if (sqlite3_step(w) != SQLITE_DONE) rc = idx_sql_err(ix, err, "rewrite postings");
        sqlite3_reset(w);
    }
    buf_cleanup(&out);
    buf_cleanup(&bnd);
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
