/* ver_judge.c - the LLM judge: one question per (claim, source) to an OpenAI-compatible
 * /v1/chat/completions endpoint through the HTTP client, and the strict reading of its answer
 * (see ver_nli.h). What is ours is the meaning: the prompt, the excerpt, the answer's shape. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common/http/http.h"
#include "utf8.h"
#include "ver.h"

#define JUDGE_BACKOFF_BASE_MS 300L

struct ver_judge {
    struct http_client *client;
    char *endpoint, *model, *auth, *sig;
    const char *headers[4];
    long timeout_ms;
    int retries;
};

static const char *const verdict_names[] = {"supported", "partial", "unsupported", "contradicted"};

const char *ver_judge_verdict_name(int v)
{
    return v >= 0 && v <= VER_JUDGE_CONTRADICTED ? verdict_names[v] : "?";
}

static const char system_prompt[] =
    "You check citations. You are given a CLAIM from an article and an excerpt of the SOURCE it "
    "cites. Decide whether the source supports the claim. Answer with one JSON object and nothing "
    "else: {\"verdict\": V, \"evidence\": E} where V is \"supported\" (the source states "
    "everything "
    "the claim says), \"partial\" (it supports part of the claim), \"unsupported\" (it does not "
    "say "
    "what the claim says) or \"contradicted\" (it says something incompatible with the claim), and "
    "E is the sentence of the source your verdict rests on, quoted exactly (\"\" when there is "
    "none). Do not use Markdown.";

static int ends_with(const char *s, const char *t)
{
    size_t n = strlen(s), m = strlen(t);
    return n >= m && !strcmp(s + n - m, t);
}

/* The endpoint of `url` (see ver_judge_opts.url) into *out. */
static int make_endpoint(const char *url, char **out)
{
    struct buf b = {0};
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    int bad = buf_append(&b, url, n);
    if (!bad && !ends_with(b.data, "/chat/completions"))
        bad = buf_puts(&b, ends_with(b.data, "/v1") ? "/chat/completions" : "/v1/chat/completions");
    *out = bad ? NULL : buf_steal(&b);
    buf_cleanup(&b);
    return *out ? 0 : -1;
}

void ver_judge_free(struct ver_judge *j)
{
    if (!j) return;
    http_client_free(j->client);
    if (j->auth) memset(j->auth, 0, strlen(j->auth)); /* the key does not linger in freed memory */
    free(j->auth);
    free(j->endpoint);
    free(j->model);
    free(j->sig);
    free(j);
}

int ver_judge_new(struct ver_judge **out, const struct ver_judge_opts *o, struct err *err)
{
    *out = NULL;
    if (!o || !o->url || !*o->url) return err_set(err, ERR_ARG, "judge: no endpoint URL");
    int credentials = 0;
    char why[200];
    int uc = http_url_check(o->url, &credentials, why, sizeof why);
    if (uc < 0) return err_set(err, ERR_NOMEM, "judge");
    if (credentials)
        return err_set(err, ERR_ARG,
                       "judge: credentials in the endpoint URL; put the key in $%s instead",
                       VER_JUDGE_KEY_ENV);
    if (uc != HTTP_OK) return err_set(err, ERR_ARG, "judge: %s: %s", o->url, why);
    if (o->retries < -1 || o->retries > 10)
        return err_set(err, ERR_ARG, "judge: retries %d (-1..10)", o->retries);
    if (o->timeout_ms < 0) return err_set(err, ERR_ARG, "judge: negative timeout");
    if (o->api_key)
        for (const char *p = o->api_key; *p; p++)
            if ((unsigned char)*p < ' ' || *p == 0x7f)
                return err_set(err, ERR_ARG, "judge: the API key has control characters");
    struct ver_judge *j = calloc(1, sizeof *j);
    if (!j) return err_set(err, ERR_NOMEM, "judge");
    j->timeout_ms = o->timeout_ms ? o->timeout_ms : VER_JUDGE_DEFAULT_TIMEOUT_MS;
    j->retries = o->retries == 0 ? VER_JUDGE_DEFAULT_RETRIES : o->retries < 0 ? 0 : o->retries;
    int rc = ERR_OK;
    struct buf b = {0};
    if (make_endpoint(o->url, &j->endpoint) || !(j->model = strdup(o->model ? o->model : "")) ||
        buf_printf(&b, "judge:%s:%s", j->endpoint, j->model) || !(j->sig = buf_steal(&b))) {
        rc = err_set(err, ERR_NOMEM, "judge");
        goto fail;
    }
    size_t k = 0;
    j->headers[k++] = "Content-Type: application/json";
    j->headers[k++] = "Accept: application/json";
    if (o->api_key && *o->api_key) {
        if (buf_printf(&b, "Authorization: Bearer %s", o->api_key) || !(j->auth = buf_steal(&b))) {
            rc = err_set(err, ERR_NOMEM, "judge");
            goto fail;
        }
        j->headers[k++] = j->auth;
    }
    j->headers[k] = NULL;
    struct http_opts ho = {.max_parallel = 1,
                           .max_per_host = 1,
                           .allow_private = o->allow_private,
                           .allow_hosts = o->allow_hosts,
                           .backoff_base_ms =
                               o->backoff_base_ms ? o->backoff_base_ms : JUDGE_BACKOFF_BASE_MS};
    if ((rc = http_client_new(&j->client, &ho, err))) {
        err_prefix(err, "judge");
        goto fail;
    }
    *out = j;
    return ERR_OK;
fail:
    buf_cleanup(&b);
    ver_judge_free(j);
    return rc;
}

const char *ver_judge_signature(const struct ver_judge *j)
{
    return j->sig;
}
const char *ver_judge_endpoint(const struct ver_judge *j)
{
    return j->endpoint;
}

/* ---------------------------------------------------------------- the answer */

static void fail_with(struct ver_judge_answer *a, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_with(struct ver_judge_answer *a, const char *cls, const char *fmt, ...)
{
    a->ok = 0;
    snprintf(a->fail, sizeof a->fail, "%s", cls);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
}

/* The content as the strict verdict object. */
static void parse_content(const char *s, size_t len, struct ver_judge_answer *a)
{
    json_error_t je;
    json_t *o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        char shown[120];
        size_t n = len < 100 ? len : 100;
        n = utf8_cut(s, n);
        snprintf(shown, sizeof shown, "%.*s%s", (int)n, s, n < len ? "..." : "");
        for (char *p = shown; *p; p++)
            if ((unsigned char)*p < ' ') *p = ' ';
        fail_with(a, "malformed", "the answer is not one JSON object: \"%s\"", shown);
        json_decref(o);
        return;
    }
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val)
    {
        if (strcmp(key, "verdict") && strcmp(key, "evidence")) {
            fail_with(a, "malformed", "unexpected member \"%.60s\" in the verdict", key);
            json_decref(o);
            return;
        }
    }
    const char *v = json_string_value(json_object_get(o, "verdict"));
    json_t *ev = json_object_get(o, "evidence");
    if (!v || !json_is_string(ev)) {
        fail_with(a, "malformed", "%s",
                  !v ? "no string \"verdict\" in the answer"
                     : "no string \"evidence\" in the answer");
        json_decref(o);
        return;
    }
    a->verdict = -1;
    for (int i = 0; i <= VER_JUDGE_CONTRADICTED; i++)
        if (!strcmp(v, verdict_names[i])) a->verdict = i;
    if (a->verdict < 0) {
        fail_with(a, "malformed",
                  "verdict \"%.60s\" is not one of supported, partial, unsupported, contradicted",
                  v);
        json_decref(o);
        return;
    }
    size_t n = json_string_length(ev);
    if (n > VER_JUDGE_EVIDENCE_MAX) n = utf8_cut(json_string_value(ev), VER_JUDGE_EVIDENCE_MAX);
    memcpy(a->evidence, json_string_value(ev), n);
    a->evidence[n] = '\0';
    a->ok = 1;
    json_decref(o);
}

void ver_judge_parse(const char *body, size_t len, struct ver_judge_answer *a)
{
    memset(a, 0, sizeof *a);
    json_error_t je;
    json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, &je);
    json_t *msg = json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
    json_t *content = json_object_get(msg, "content");
    if (!root)
        fail_with(a, "bad-answer", "the endpoint's answer is not JSON (%s)", je.text);
    else if (!json_is_string(content))
        fail_with(a, "bad-answer", "%s",
                  "the endpoint's answer has no choices[0].message.content string");
    else
        parse_content(json_string_value(content), json_string_length(content), a);
    json_decref(root);
}

/* ---------------------------------------------------------------- the question */

/* The excerpt of the source sent: all of it when short, else VER_JUDGE_EXCERPT bytes centred on
 * the evidence window, cut at character boundaries. */
static void excerpt(const char *src, size_t len, size_t ev_start, size_t ev_end, size_t *a,
                    size_t *b)
{
    *a = 0;
    *b = len;
    if (len <= VER_JUDGE_EXCERPT) return;
    size_t mid = ev_start + (ev_end > ev_start ? (ev_end - ev_start) / 2 : 0);
    size_t start = mid > VER_JUDGE_EXCERPT / 2 ? mid - VER_JUDGE_EXCERPT / 2 : 0;
    if (start + VER_JUDGE_EXCERPT > len) start = len - VER_JUDGE_EXCERPT;
    while (start > 0 && ((unsigned char)src[start] & 0xC0) == 0x80)
        start--;
    size_t n = utf8_cut(src + start, VER_JUDGE_EXCERPT);
    *a = start;
    *b = start + n;
}

static char *question_body(const struct ver_judge *j, const char *claim, const char *src, size_t a,
                           size_t b)
{
    struct buf user = {0};
    char *out = NULL;
    if (buf_puts(&user, "CLAIM: ") || buf_puts(&user, claim) ||
        buf_puts(&user, "\n\nSOURCE (excerpt):\n") || buf_append(&user, src + a, b - a)) {
        buf_cleanup(&user);
        return NULL;
    }
    json_t *o = json_pack("{s:f, s:[{s:s, s:s}, {s:s, s:s%}], s:{s:s}}", "temperature", 0.0,
                          "messages", "role", "system", "content", system_prompt, "role", "user",
                          "content", user.data, user.len, "response_format", "type", "json_object");
    if (o && j->model[0]) json_object_set_new(o, "model", json_string(j->model));
    if (o) out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    buf_cleanup(&user);
    return out;
}

int ver_judge_ask(struct ver_judge *j, const char *claim, const char *source, size_t len,
                  size_t ev_start, size_t ev_end, struct ver_judge_answer *out, struct err *err)
{
    memset(out, 0, sizeof *out);
    size_t a, b;
    excerpt(source, len, ev_start, ev_end, &a, &b);
    char *body = question_body(j, claim, source, a, b);
    if (!body) return err_set(err, ERR_NOMEM, "judge");
    struct http_request rq = {.url = j->endpoint,
                              .method = "POST",
                              .headers = j->headers,
                              .body = body,
                              .body_len = strlen(body),
                              .lim = {.total_ms = j->timeout_ms,
                                      .max_bytes = VER_JUDGE_MAX_ANSWER,
                                      .retries = j->retries,
                                      .retry_on = HTTP_RETRY_TRANSIENT}};
    struct http_result res;
    int rc = http_run(j->client, &rq, 1, &res, err);
    free(body);
    if (rc) return err_prefix(err, "judge %s", j->endpoint);
    out->attempts = res.attempts;
    if (res.fail == HTTP_OK) {
        ver_judge_parse(res.body.data, res.body.len, out);
        out->attempts = res.attempts;
    } else {
        snprintf(out->fail, sizeof out->fail, "%s", http_fail_name(res.fail));
        const char *hint =
            res.fail == HTTP_FAIL_BLOCKED ? " (--allow-private allows a judge on a private address)"
            : res.status == 401 || res.status == 403 ? " (is $" VER_JUDGE_KEY_ENV " set?)"
                                                     : "";
        snprintf(out->message, sizeof out->message, "%s%s", res.why, hint);
        if (res.attempts > 1) {
            size_t n = strlen(out->message);
            snprintf(out->message + n, sizeof out->message - n, " after %d attempts", res.attempts);
        }
    }
    http_result_cleanup(&res);
    return ERR_OK;
}
