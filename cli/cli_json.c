/* cli_json.c - the JSON shapes shared by the command line (--json) and the HTTP service, so both
 * print exactly the same objects: search hits (with "backend" when the answer was partial) and
 * index stats. (An audited citation's record is
 * verify/'s: ver_result_json.) */
#include <jansson.h>

#include "cli.h"
#include "index/idx.h"
#include "index/idx_bk.h"
#include "retrieve/ret.h"
#include "verify/ver.h"

int cli_hits_json(struct idx *ix, const char *id, const char *query, const struct ret_hit *hits, int n,
                  json_t **out, struct err *err)
{
    *out = NULL;
    json_t *arr = json_array();
    if (!arr) return err_set(err, ERR_NOMEM, "json");
    for (int i = 0; i < n; i++) {
        struct idx_passage p;
        int rc = idx_passage(ix, hits[i].pid, &p, err);
        if (rc) {
            json_decref(arr);
            return rc;
        }
        json_array_append_new(arr, json_pack("{s:i, s:s, s:I, s:s, s:s, s:f, s:s}", "rank", i + 1, "doc_id",
                                             p.doc_id, "passage_id", (json_int_t)p.pid, "title", p.title,
                                             "url", p.url, "score", hits[i].score, "text", p.text));
    }
    *out = json_pack("{s:s?, s:s, s:o}", "id", id, "query", query, "hits", arr);
    if (!*out) return err_set(err, ERR_NOMEM, "json");
    json_t *bk = NULL;
    int rc = cli_backend_json(ix, &bk, err);
    if (!rc && bk) json_object_set_new(*out, "backend", bk);
    return rc;
}

int cli_backend_json(struct idx *ix, json_t **out, struct err *err)
{
    *out = NULL;
    const char *w = idx_bk_warning(ix);
    if (!w) return ERR_OK;
    struct idx_bk_info bi;
    int rc = idx_bk_info(ix, &bi, err);
    if (rc) return rc;
    json_t *dead = json_array();
    for (int i = 0; dead && i < bi.nshards; i++) {
        struct idx_bk_shard sh;
        if (idx_bk_shard_info(ix, i, &sh) && !sh.live)
            json_array_append_new(dead, json_pack("{s:i, s:s, s:s}", "shard", i + 1, "address",
                                                  sh.name, "error", sh.why));
    }
    *out = json_pack("{s:s, s:i, s:i, s:o, s:I, s:s}", "spec", bi.spec, "shards", bi.nshards,
                     "live", bi.live, "dead", dead, "pending", (json_int_t)bi.pending, "warning",
                     w);
    return *out ? ERR_OK : err_set(err, ERR_NOMEM, "json");
}

int cli_stats_json(struct idx *ix, const char *db, json_t **out, struct err *err)
{
    *out = NULL;
    struct idx_stats st;
    int64_t vdb = 0, vfaiss = -1;
    const char *vdesc = "";
    int rc = idx_stats(ix, &st, err);
    if (!rc) rc = idx_vec_status(ix, &vdb, &vfaiss, &vdesc, err);
    if (rc) return rc;
    int in_step = st.embedder[0] ? vfaiss == vdb : vfaiss <= 0;
    *out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:s, s:s, s:I, s:I, s:b}", "db", db,
                     "documents", (json_int_t)st.docs, "passages", (json_int_t)st.passages, "terms",
                     (json_int_t)st.terms, "tokens", (json_int_t)st.total_tokens, "postings_bytes",
                     (json_int_t)st.postings_bytes, "db_bytes", (json_int_t)st.db_bytes, "schema_version",
                     st.schema_version, "passage_words", st.passage_words, "tokenizer", st.tokenizer,
                     "embedder", st.embedder, "vectors", (json_int_t)vdb, "faiss_vectors",
                     (json_int_t)vfaiss, "vectors_in_step", in_step);
    if (!*out) return err_set(err, ERR_NOMEM, "json");
    json_object_set_new(*out, "tombstones", json_integer((json_int_t)st.tombstones));
    json_object_set_new(*out, "bytes_per_passage",
                        json_real(st.passages > 0 ? (double)st.db_bytes / (double)st.passages : 0.0));
    struct idx_bk_info bi;
    if ((rc = idx_bk_info(ix, &bi, err))) return rc;
    if (bi.spec[0])
        json_object_set_new(*out, "backend",
                            json_pack("{s:s, s:i, s:I}", "spec", bi.spec, "shards", bi.nshards,
                                      "pending", (json_int_t)bi.pending));
    return ERR_OK;
}
