/* idx_int.h - internals shared by the files of the index module (not a public header). */
#ifndef VC_IDX_INT_H
#define VC_IDX_INT_H

#include <sqlite3.h>

#include "buf.h"
#include "idx.h"

struct idx_pterm; /* one buffered term (idx_post.c) */
struct idx_bk_state; /* the retrieval backend (idx_bk.c) */

struct idx {
    sqlite3 *db;
    char *dir, *dbpath;
    int readonly, in_tx, passage_words;
    int cache_guard; /* fetch_cache has its private_addrs column */
    int lock_fd;     /* the writer lock file (idx_lock.c), -1 when not held */
    struct corpus_tok *tok;
    int64_t n_passages, total_tokens; /* live totals, written to settings at commit */

    /* cached statements (prepared once, finalized in idx_close) */
    sqlite3_stmt *st_get_setting, *st_set_setting, *st_doc_find, *st_doc_ins, *st_pas_ins,
        *st_fts_ins, *st_seg_last, *st_seg_ins, *st_seg_upd, *st_post_read, *st_passage,
        *st_passage_doc, *st_fts_search, *st_doc_pas, *st_fts_del, *st_pas_del, *st_doc_del,
        *st_seg_all, *st_seg_del, *st_find_url, *st_doc_row, *st_doc_text, *st_cache_get,
        *st_cache_put, *st_find_title;

    /* buffered postings of this transaction (idx_post.c) */
    struct idx_pterm **pb_slots; /* open-addressing table, pb_cap slots */
    size_t pb_cap, pb_count;
    size_t pbuf_bytes;
    struct idx_pterm **pb_touched; /* terms seen in the current passage */
    size_t pb_ntouched, pb_touched_cap;
    struct idx_pterm **pb_title; /* terms of the current document's title */
    size_t pb_ntitle, pb_title_cap;
    uint64_t pb_passage_serial, pb_title_serial;

    /* postings iterator (idx_post_open/next) */
    struct buf it_data;
    size_t *it_segs; /* end offset of each segment in it_data */
    size_t it_nsegs, it_segcap, it_seg, it_pos;
    int64_t it_last;
    sqlite3_stmt *st_plist; /* idx_plist_load */
    int post_bounds;        /* postings carry the bounds column (format 2) */

    /* dense vectors (idx_vec.c) */
    struct emb *emb;  /* the index's embedder, loaded on demand */
    struct idx_faiss *faiss;   /* vectors.faiss, shared per process, loaded by the first search */
    int vec_dim, vec_opened;   /* vec_opened: embedder loaded, vectors.faiss checked (not loaded) */
    double vec_nprobe, vec_efsearch; /* idx_vec_set_param() values, 0: the defaults */
    int vec_rerank;            /* PQ codes: re-score candidates with the stored vectors */
    int64_t *rr_ids;           /* (rr_cap) re-rank scratch: candidates */
    float *rr_sc, *rr_vec;     /* (rr_cap), (vec_dim) */
    size_t rr_cap;
    int64_t *vec_added, *vec_removed; /* pids whose vectors changed in this transaction */
    size_t n_vec_added, cap_vec_added, n_vec_removed, cap_vec_removed;
    int vec_rebuild; /* vectors.faiss must be rebuilt from the table */
    int vec_full_scan; /* the next idx_vec_sync looks at every passage, not only the new ones */
    sqlite3_stmt *st_vec_get, *st_vec_ins, *st_vec_del;
    char faiss_desc[160];

    struct buf pas_strings; /* strings of the last idx_passage() */
    struct buf nurl;        /* scratch: a normalised URL */
    struct buf doc_strings; /* strings of the last idx_find_url/idx_doc/idx_cache_get */

    /* stored audit results (idx_audit.c) */
    sqlite3_stmt *st_aud_done, *st_aud_ins_art, *st_aud_ins_res, *st_aud_res;

    struct idx_bk_state *bk; /* the retrieval backend (idx_bk.c), made on first use */

    /* Tokenising once (idx.c): the tokens of the title and of the passage being added, recorded
     * while building postings and replayed to FTS5's tokenizer when it is handed the same text
     * (the same bytes) during that passage's FTS5 insert. text NULL: nothing cached. */
    struct idx_tokcache {
        const char *text; /* borrowed from the caller of idx_add, cleared before it returns */
        size_t len;
        struct buf rec; /* per token: uint32 length, start, end, then the term's bytes */
    } tc_title, tc_body;
    int64_t fts_replayed, fts_tokenized; /* FTS5 document tokenizations from the cache, and not */

    /* tombstones (idx_tomb.c): passages removed whose postings stay until idx_optimize */
    unsigned char *dead; /* bitmap by pid, dead_cap bytes; owned */
    size_t dead_cap;
    int64_t n_dead;       /* bits set */
    int dead_loaded;      /* the bitmap reflects the database as of dead_version */
    int64_t dead_version; /* PRAGMA data_version when loaded */
    sqlite3_stmt *st_tomb_df, *st_tomb_add, *st_tomb_ins, *st_data_version;
};

/* Forget the cached tokens (before any FTS5 write that is not idx_add's own). */
void idx_tokcache_clear(struct idx *ix);

/* On a read-write handle: add the audit columns that indexes made before them lack (idx_audit.c). */
int idx_audit_upgrade(struct idx *ix, struct err *err);

/* Document lookups by normalised URL and by title (idx_doc.c). Each repeats its partial index's
 * WHERE term (nurl <> '', title <> ''): SQLite uses a partial index only when the query's WHERE
 * implies the index's, and "nurl = ?" alone does not (the bound value could be ''), so without
 * it the lookup scans every document. Tests check the plan (EXPLAIN QUERY PLAN). */
#define IDX_SQL_FIND_URL                                                                          \
    "SELECT row, id, title, url, passages FROM docs WHERE nurl = ? AND nurl <> ''"                \
    " ORDER BY row LIMIT 1"
#define IDX_SQL_FIND_TITLE                                                                        \
    "SELECT row, id, title, url, passages FROM docs"                                              \
    " WHERE title = ? COLLATE NOCASE AND title <> '' ORDER BY row LIMIT 1"

int idx_sql_err(struct idx *ix, struct err *err, const char *what);
int idx_prepare(struct idx *ix, sqlite3_stmt **st, const char *sql, struct err *err);
sqlite3 *idx_sqlite(struct idx *ix);

/* postings buffer (idx_post.c) */
int idx_pbuf_title_begin(struct idx *ix, struct err *err);
int idx_pbuf_title_term(struct idx *ix, const char *term, size_t len);
int idx_pbuf_passage_begin(struct idx *ix, struct err *err);
int idx_pbuf_replay_title(struct idx *ix, struct err *err);
int idx_pbuf_body_term(struct idx *ix, const char *term, size_t len);
int idx_pbuf_passage_end(struct idx *ix, int64_t pid, uint32_t len, struct err *err);
int idx_pbuf_flush(struct idx *ix, struct err *err);
/* On open: note whether the postings carry block bounds; on a read-write handle over an older
 * index, add them (postings format 2) in one transaction. */
int idx_post_upgrade(struct idx *ix, struct err *err);

/* Drop the postings of the pids in `gone` (sorted) from every segment of `term` (idx_post.c). */
int idx_post_drop(struct idx *ix, const char *term, const int64_t *gone, size_t ngone, struct err *err);

/* tombstones (idx_tomb.c) */
int idx_tomb_schema(struct idx *ix, struct err *err);   /* tables, on a read-write open */
int idx_tomb_refresh(struct idx *ix, struct err *err);  /* reload when another process committed */
int idx_tomb_df(struct idx *ix, const char *term, size_t len, int64_t *n, struct err *err);
void idx_tomb_reset(struct idx *ix);                    /* after a rollback */
void idx_tomb_cleanup(struct idx *ix);                  /* free in idx_close */
int idx_reload_totals(struct idx *ix, struct err *err); /* settings passages/total_tokens (idx.c) */

/* dense vectors (idx_vec.c) */
int idx_vec_forget(struct idx *ix, int64_t pid, struct err *err); /* passage removed */
void idx_vec_cleanup(struct idx *ix);                             /* free in idx_close */
void idx_vec_reset_tx(struct idx *ix);                            /* after commit/rollback */
void idx_pbuf_free(struct idx *ix);

/* retrieval backend (idx_bk.c): its connections and statements, freed in idx_close */
void idx_bk_cleanup(struct idx *ix);

#endif
