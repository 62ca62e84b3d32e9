/* cli_json.c - the JSON shapes shared by the command line (--json) and the HTTP service, so both
 * print exactly the same objects. */
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "index/idx.h"
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
    return *out ? ERR_OK : err_set(err, ERR_NOMEM, "json");
}

json_t *cli_result_json(const struct ver_result *r)
{
    json_t *sugg = json_array();
    for (int i = 0; i < r->nsugg; i++)
        json_array_append_new(sugg, json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:s}", "doc_id", r->sugg[i].doc_id,
                                              "url", r->sugg[i].url, "title", r->sugg[i].title, "score",
                                              r->sugg[i].score, "support", r->sugg[i].support, "evidence",
                                              r->sugg[i].evidence, "cite", r->sugg[i].cite));
    json_t *matched = json_array();
    for (int i = 0; i < r->nmatch; i++)
        json_array_append_new(matched, json_stringn(r->evidence + r->match[i].start,
                                                    r->match[i].end - r->match[i].start));
    json_t *missing = json_array(); /* the parts of the claim the source does not cover */
    size_t cl = strlen(r->claim);
    for (int i = 0; i < r->nmissing; i++)
        if (r->missing[i].end <= cl && r->missing[i].start < r->missing[i].end)
            json_array_append_new(missing, json_pack("{s:I, s:I, s:s%}", "start", (json_int_t)r->missing[i].start,
                                                     "end", (json_int_t)r->missing[i].end, "text",
                                                     r->claim + r->missing[i].start,
                                                     r->missing[i].end - r->missing[i].start));
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:f, s:s, s:o, s:s, s:s, s:o, s:o}", "article",
                     r->article, "article_title", r->article_title, "section", r->section, "ref", r->ref,
                     "claim", r->claim, "url", r->url, "title", r->title, "verdict",
                     ver_status_name(r->status), "score", r->score, "evidence", r->evidence,
                     "matched", matched, "source", r->source, "detail", r->detail, "missing", missing,
                     "suggestions", sugg);
}

