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
    int64_t *vec_added, *vec_removed; /* pids whose vectors changed in this transaction */
    size_t n_vec_added, cap_vec_added, n_vec_removed, cap_vec_removed;
    int vec_rebuild; /* vectors.faiss must be rebuilt from the table */
    sqlite3_stmt *st_vec_get, *st_vec_ins, *st_vec_del;
    char faiss_desc[160];

    struct buf pas_strings; /* strings of the last idx_passage() */
    struct buf nurl;        /* scratch: a normalised URL */
    struct buf doc_strings; /* strings of the last idx_find_url/idx_doc/idx_cache_get */

    /* stored audit results (idx_audit.c) */
    sqlite3_stmt *st_aud_done, *st_aud_ins_art, *st_aud_ins_res, *st_aud_res;

    struct idx_bk_state *bk; /* the retrieval backend (idx_bk.c), made on first use */
};

/* On a read-write handle: add the audit columns that indexes made before them lack (idx_audit.c). */
int idx_audit_upgrade(struct idx *ix, struct err *err);

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

/* dense vectors (idx_vec.c) */
int idx_vec_forget(struct idx *ix, int64_t pid, struct err *err); /* passage removed */
void idx_vec_cleanup(struct idx *ix);                             /* free in idx_close */
void idx_vec_reset_tx(struct idx *ix);                            /* after commit/rollback */
void idx_pbuf_free(struct idx *ix);

/* retrieval backend (idx_bk.c): its connections and statements, freed in idx_close */
void idx_bk_cleanup(struct idx *ix);

#endif
