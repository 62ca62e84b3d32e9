/* ver_json.c - the record of an audited citation: a ver_result as the JSON object that
 * `vericite audit --json` prints, the service answers and the audit store keeps, and back. The one
 * encoder and decoder of that format (see ver_batch.h for its members). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ver.h"

int ver_status_from_name(const char *name)
{
    for (int s = 0; name && s < VER_ST_COUNT; s++)
        if (!strcmp(name, ver_status_name(s))) return s;
    return -1;
}

json_t *ver_result_json(const struct ver_result *r)
{
    json_t *sugg = json_array(), *matched = json_array(), *missing = json_array();
    for (int i = 0; sugg && i < r->nsugg; i++) {
        json_t *so = json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:s}", "doc_id", r->sugg[i].doc_id,
                               "url", r->sugg[i].url, "title", r->sugg[i].title, "score",
                               r->sugg[i].score, "support", r->sugg[i].support, "evidence",
                               r->sugg[i].evidence, "cite", r->sugg[i].cite, "from",
                               r->sugg[i].from && *r->sugg[i].from ? r->sugg[i].from : "corpus");
        if (so && r->sugg[i].reranked) json_object_set_new(so, "rerank", json_real(r->sugg[i].rerank));
        json_array_append_new(sugg, so);
    }
    for (int i = 0; matched && i < r->nmatch; i++)
        json_array_append_new(matched, json_stringn(r->evidence + r->match[i].start,
                                                    r->match[i].end - r->match[i].start));
    /* the parts of the claim the source does not cover, as spans of the claim */
    size_t cl = r->claim ? strlen(r->claim) : 0;
    int nmiss = 0;
    for (int i = 0; missing && i < r->nmissing; i++)
        if (r->missing[i].end <= cl && r->missing[i].start < r->missing[i].end) {
            nmiss++;
            json_array_append_new(missing, json_pack("{s:I, s:I, s:s%}", "start", (json_int_t)r->missing[i].start,
                                                     "end", (json_int_t)r->missing[i].end, "text",
                                                     r->claim + r->missing[i].start,
                                                     r->missing[i].end - r->missing[i].start));
        }
    if (!sugg || !matched || !missing || json_array_size(sugg) != (size_t)r->nsugg ||
        json_array_size(matched) != (size_t)r->nmatch || json_array_size(missing) != (size_t)nmiss) {
        json_decref(sugg);
        json_decref(matched);
        json_decref(missing);
        return NULL;
    }
    json_t *rev = r->revision > 0 ? json_integer((json_int_t)r->revision) : json_null();
    json_t *contra = r->contradiction >= 0 ? json_real(r->contradiction) : json_null();
    json_t *judge = !r->judge || !*r->judge ? json_null()
                    : strcmp(r->judge, "failed")
                        ? json_pack("{s:s, s:s}", "verdict", r->judge, "evidence", r->judge_evidence ? r->judge_evidence : "")
                        : json_pack("{s:s, s:s, s:s}", "verdict", "failed", "failure", r->judge_fail ? r->judge_fail : "",
                                    "message", r->judge_message ? r->judge_message : "");
    /* "o" steals the arrays, also when the pack fails */
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:i, s:s, s:i, s:b, s:s, s:s, s:s, s:b, s:s, s:f, s:o, s:s, s:o, "
                     "s:s, s:s, s:o, s:o, s:o}",
                     "article", r->article, "article_title", r->article_title, "article_url",
                     r->article_url ? r->article_url : "", "revision", rev, "revision_time",
                     r->revision_time ? r->revision_time : "", "section", r->section, "ref", r->ref, "claim",
                     r->claim, "claim_id", r->claim_id, "claim_cut", r->claim_cut, "url", r->url, "title", r->title, "source_title",
                     r->source_title ? r->source_title : "", "title_mismatch", r->title_mismatch, "verdict",
                     ver_status_name(r->status), "score", r->score, "contradiction", contra, "evidence", r->evidence,
                     "matched", matched, "source", r->source, "detail", r->detail, "missing", missing, "judge", judge,
                     "suggestions", sugg);
}

void ver_claim_run_next(struct ver_claim_run *cr, json_t *o)
{
    if (!json_is_object(o)) return;
    const char *art = json_string_value(json_object_get(o, "article"));
    uint64_t h = hash_fnv1a64_str(art ? art : "");
    long long id = (long long)json_integer_value(json_object_get(o, "claim_id"));
    if (cr->any && cr->article == h && cr->claim_id == id) json_object_del(o, "claim");
    cr->article = h;
    cr->claim_id = id;
    cr->any = 1;
}

static int dump_cb(const char *s, size_t n, void *ctx)
{
    return buf_append(ctx, s, n);
}

int ver_result_encode(const struct ver_result *r, struct buf *out, struct err *err)
{
    json_t *o = ver_result_json(r);
    size_t len = out->len;
    int bad = !o || json_dump_callback(o, dump_cb, out, JSON_COMPACT) != 0;
    json_decref(o);
    if (bad) {
        out->len = len; /* nothing half-written stays */
        if (out->data) out->data[len] = '\0';
        return err_set(err, ERR_NOMEM, "encoding an audit record");
    }
    return ERR_OK;
}

static char *member(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return strdup(v ? v : "");
}

/* The matched words of the record, found again in order in the evidence. */
static void find_matches(const json_t *o, struct ver_result *r)
{
    size_t at = 0, i;
    json_t *it;
    json_array_foreach(json_object_get(o, "matched"), i, it) {
        const char *w = json_string_value(it);
        const char *hit = w && r->evidence ? strstr(r->evidence + at, w) : NULL;
        if (!hit || r->nmatch >= VER_SCORE_MAX_MATCH) continue;
        r->match[r->nmatch].start = (size_t)(hit - r->evidence);
        r->match[r->nmatch].end = r->match[r->nmatch].start + strlen(w);
        at = r->match[r->nmatch++].end;
    }
}

static int complete(const struct ver_result *r)
{
    int ok = r->article && r->article_title && r->section && r->claim && r->url && r->title && r->evidence &&
             r->source && r->detail && r->source_title && r->article_url && r->revision_time;
    for (int k = 0; k < r->nsugg; k++)
        ok = ok && r->sugg[k].doc_id && r->sugg[k].url && r->sugg[k].title && r->sugg[k].evidence &&
             r->sugg[k].cite;
    return ok;
}

int ver_result_from_json(const json_t *o, struct ver_result *r, struct err *err)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(o)) return err_set(err, ERR_CORRUPT, "an audit record is not a JSON object");
    const char *verdict = json_string_value(json_object_get(o, "verdict"));
    r->status = ver_status_from_name(verdict);
    r->article = member(o, "article");
    r->article_title = member(o, "article_title");
    r->section = member(o, "section");
    r->claim = member(o, "claim");
    r->claim_id = (int)json_integer_value(json_object_get(o, "claim_id"));
    r->claim_cut = json_is_true(json_object_get(o, "claim_cut"));
    r->ref = (int)json_integer_value(json_object_get(o, "ref"));
    r->url = member(o, "url");
    r->title = member(o, "title");
    r->score = json_number_value(json_object_get(o, "score"));
    json_t *contra = json_object_get(o, "contradiction");
    r->contradiction = json_is_number(contra) ? json_number_value(contra) : -1;
    json_t *judge = json_object_get(o, "judge");
    if (json_is_object(judge)) {
        r->judge = member(judge, "verdict");
        r->judge_evidence = member(judge, "evidence");
        r->judge_fail = member(judge, "failure");
        r->judge_message = member(judge, "message");
    }
    r->evidence = member(o, "evidence");
    r->source = member(o, "source");
    r->detail = member(o, "detail");
    r->source_title = member(o, "source_title");
    r->title_mismatch = json_is_true(json_object_get(o, "title_mismatch"));
    r->article_url = member(o, "article_url");
    r->revision_time = member(o, "revision_time");
    r->revision = (long long)json_integer_value(json_object_get(o, "revision"));
    find_matches(o, r);
    size_t i;
    json_t *it;
    size_t cl = strlen(r->claim);
    json_array_foreach(json_object_get(o, "missing"), i, it) {
        if (r->nmissing >= VER_SCORE_MAX_MISSING) break;
        size_t st = (size_t)json_integer_value(json_object_get(it, "start"));
        size_t en = (size_t)json_integer_value(json_object_get(it, "end"));
        if (st >= en || en > cl) continue; /* a span outside the claim: not ours */
        r->missing[r->nmissing].start = st;
        r->missing[r->nmissing].end = en;
        r->nmissing++;
    }
    json_array_foreach(json_object_get(o, "suggestions"), i, it) {
        if (r->nsugg >= VER_MAX_SUGGEST) break;
        struct ver_suggestion *s = &r->sugg[r->nsugg++];
        s->doc_id = member(it, "doc_id");
        s->url = member(it, "url");
        s->title = member(it, "title");
        s->score = json_number_value(json_object_get(it, "score"));
        s->support = json_number_value(json_object_get(it, "support"));
        s->evidence = member(it, "evidence");
        s->cite = member(it, "cite");
        s->from = member(it, "from");
        json_t *rk = json_object_get(it, "rerank");
        s->reranked = json_is_number(rk);
        s->rerank = s->reranked ? json_number_value(rk) : 0;
    }
    if (!complete(r)) return err_set(err, ERR_NOMEM, "decoding an audit record");
    if (r->status < 0) {
        r->status = VER_ST_UNREACHABLE; /* something a caller can still print */
        return err_set(err, ERR_CORRUPT, "an audit record has the verdict \"%s\", which this vericite does not know",
                       verdict ? verdict : "(none)");
    }
    return ERR_OK;
}

int ver_result_decode(const char *json, size_t len, struct ver_result *r, struct err *err)
{
    json_error_t je;
    json_t *o = json_loadb(json, len, 0, &je);
    if (!o) {
        memset(r, 0, sizeof *r);
        return err_set(err, ERR_CORRUPT, "an audit record is not JSON (line %d, column %d: %s)", je.line,
                       je.column, je.text);
    }
    int rc = ver_result_from_json(o, r, err);
    json_decref(o);
    return rc;
}
