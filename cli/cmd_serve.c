/* cmd_serve.c - `vericite serve`: the HTTP JSON API on libmicrohttpd (a thread pool of workers,
 * each answering with its own context from serve_api.c), with body limits, an access log on
 * stderr and a clean shutdown on SIGTERM/SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "retrieve/ret.h"
#include "serve.h"
#include "common/http/http.h"
#include "ascii.h"

#define SERVE_MAX_THREADS 256
#define SERVE_MAX_HOSTS 16
#define SERVE_DEFAULT_BODY (1u << 20)
#define SERVE_MAX_BODY (64u << 20)
#define SERVE_DEFAULT_JOB_BODY (16u << 20)
#define SERVE_MAX_JOB_BODY (256u << 20)
#define SERVE_DEFAULT_CONNECTIONS 4096
#define SERVE_MAX_CONNECTIONS 65536
#define SERVE_DEFAULT_PER_IP 64
#define SERVE_DEFAULT_HEADER_S 10
#define SERVE_DEFAULT_BODY_S 60
#define SERVE_FD_RESERVE 512 /* descriptors kept for the index handles, fetches and logs */
/* How much of a body the service reads and throws away so that an answer given before the body
 * (404, 405, 415, 413) reaches the client; see answer_early. */
#define SERVE_DRAIN_MAX (16u << 20)

static const char serve_help[] =
    "usage: vericite serve --db DIR [--listen HOST:PORT] [options]\n"
    "\n"
    "Answer search, verify and audit requests over HTTP with JSON, from one read-only view of the\n"
    "index. Responses are the very objects the command line prints with --json.\n"
    "\n"
    "endpoints:\n"
    "  GET  /healthz      {\"status\":\"ok\"}\n"
    "  GET  /v1/stats     what `vericite stats --json` prints\n"
    "  POST /v1/search    {\"query\": TEXT, \"k\": 1..1000 (10), \"mode\": auto|bm25|dense|hybrid|fts5}\n"
    "                     -> {\"id\":null, \"query\", \"hits\":[{\"rank\",\"doc_id\",\"passage_id\",\"title\",\n"
    "                        \"url\",\"score\",\"text\"}]}, as `vericite search --json`; with\n"
    "                     a server reranker (--rerank, --rerank-url) the top \"rerank_depth\" (its\n"
    "                     --rerank-depth) hits are re-scored unless \"rerank\": false\n"
    "  POST /v1/verify    {\"claim\": TEXT, \"source\": an http(s) URL, or the source's plain/HTML text}\n"
    "                     -> one citation object, as `vericite verify --json`\n"
    "  POST /v1/audit     {\"text\": ARTICLE, \"format\": auto|wikitext|markdown|claims, \"title\": T}\n"
    "                     -> {\"results\": [citation objects as `vericite audit --json`, in order]}\n"
    "                     (a claim's text once: a citation of the claim before it has only its\n"
    "                     \"claim_id\"; the same in each page of job results)\n"
    "  POST /v1/jobs      {\"articles\": [{\"text\": ARTICLE, \"title\": T, \"format\": F, \"name\": N}, ...]}\n"
    "                     a batch audit, as `vericite audit --jobs N`: 202 {\"id\", \"state\", \"location\"}\n"
    "                     and a Location header; results are stored in the index under each NAME\n"
    "                     (default job/ID/N), so posting the same named articles again skips them\n"
    "  GET  /v1/jobs/ID[?offset=N&limit=M]\n"
    "                     {\"id\", \"state\": queued|running|done|failed, \"progress\": {\"articles\",\n"
    "                     \"done\", \"audited\", \"already_stored\", \"failed\", \"citations\", \"fetched\",\n"
    "                     \"verdicts\"}, \"problems\": [{\"article\", \"error\"}], \"error\" (failed); when\n"
    "                     done \"results\": the stored citation objects in input order, M (500,\n"
    "                     at most 5000) from N, with \"offset\", \"limit\", \"total\", \"next\" (a URL or null)}\n"
    "POST bodies must be Content-Type: application/json. Errors are {\"error\": \"...\"} with 400 (bad\n"
    "JSON, missing field, wrong type, k out of range), 404 (no such path or job), 405 (wrong method;\n"
    "see the Allow header), 413 (body over --max-body or --max-job-body, a job over 10000 articles),\n"
    "415 (not JSON), 503 (16 jobs already waiting; see Retry-After); 500 when the index fails.\n"
    "An error known from the header (404, 405, 415, 413) waits for a body declared at most 16M\n"
    "(past the limit) and keeps the connection, so the client surely reads it; with Expect:\n"
    "100-continue it comes at once; a chunked or longer body gets it at once (a chunked one at the\n"
    "limit), and what follows is read, up to 16M, before the close.\n"
    "\n"
    "options:\n"
    "  --db DIR           the index (opened read-only; required)\n"
    "  --listen HOST:PORT address to listen on (default 127.0.0.1:8080; PORT or :PORT alone mean\n"
    "                     127.0.0.1:PORT, 0.0.0.0:PORT is every interface; port 0 picks a free\n"
    "                     one; [::1]:8080 for IPv6). The address is printed on stderr:\n"
    "                     \"listening on http://HOST:PORT\"\n"
    "  --threads N        worker threads, each with its own index handle (default 2 x cores)\n"
    "  --timeout S        close connections idle for S seconds (default 30; a unit may be\n"
    "                     given: 30s, 2m)\n"
    "  --header-timeout S a request's whole header must arrive within S seconds of the connection\n"
    "                     (or of the previous response on a kept-alive one), however it trickles\n"
    "                     in; else the connection is closed (default 10; 0: no limit)\n"
    "  --body-timeout S   a request's whole body must arrive within S seconds of its header\n"
    "                     (default 60; 0: no limit)\n"
    "  --max-connections N  connections open at once (default 4096, lowered to what the open-file\n"
    "                     limit allows); more are accepted and closed at once\n"
    "  --max-per-ip N     connections open at once from one client address (default 64)\n"
    "  --max-body N       largest request body in bytes, K or M suffix allowed (default 1M)\n"
    "  --max-output N     the budget of one audit's results (default 128M; K, M, G): an article\n"
    "                     over it gets 413 naming the limit\n"
    "  --offline          never fetch cited URLs: corpus documents only\n"
    "  --allow-private    allow fetching loopback/private addresses (refused by default)\n"
    "  --allow-host IP:PORT  allow just this address with the guard on (a local mirror)\n"
    "  --suggest MODE     failing (default), all, none: corpus suggestions in verify/audit\n"
    "  --fetch-timeout S  per-page fetch time limit in seconds (default 20; 500ms, 20s, 2m; a\n"
    "                     number above 1000 without unit is still read as milliseconds)\n"
    "  --model FILE       a verifier model from train-verifier (default: the built-in one)\n"
    "  --rerank NAME      a cross-encoder (imported model) that re-scores /v1/search hits and\n"
    "                     orders suggestions of /v1/verify, /v1/audit and /v1/jobs, as for audit\n"
    "  --rerank-url URL   the same with a /rerank endpoint (--rerank-model M is sent)\n"
    "  --rerank-depth N   hits or documents re-scored (default 50)\n"
    "  --rerank-threads N the cross-encoder's threads per worker (default 1)\n"
    "  --verifier NAME    score verify/audit/jobs with an NLI model (as `vericite audit --verifier`:\n"
    "                     a name or .vcnn path; every request thread runs its own copy over the\n"
    "                     one mapped file); the results then carry \"contradiction\"\n"
    "  --verifier-windows N  windows per source the model reads (default 16, 1..256)\n"
    "  --judge-url URL    ask an LLM judge (OpenAI-compatible chat completions) about every cited\n"
    "                     source read, as `vericite audit --judge-url`; key from $VERICITE_JUDGE_KEY\n"
    "  --judge-model NAME the judge's \"model\"\n"
    "  --max-jobs N       batch jobs running at once (default 1, at most 16; 0 turns /v1/jobs off)\n"
    "  --job-workers N    audit threads per job (default 2, at most 64)\n"
    "  --max-job-body N   largest POST /v1/jobs body, K or M suffix allowed (default 16M, at most 256M)\n"
    "\n"
    "Requests read the index through read-only handles, so their fetched pages are not cached; run\n"
    "`vericite audit` once to fill the cache, which the server then reads. Batch jobs are the one\n"
    "writer: each opens its own read-write connections to store its results (and cache its\n"
    "fetches) beside the readers (SQLite WAL); the index folder must then be writable, else the job\n"
    "fails with the reason. Jobs are kept in memory (the last 100 finished ones); a stopped server\n"
    "cancels running jobs after the articles being audited are stored. One access-log line per request goes to\n"
    "stderr: time, client, method, path, status, bytes, milliseconds. SIGTERM or Ctrl-C stops\n"
    "accepting, lets the requests in flight finish, and exits 0; a second signal stops at once.\n"
    "\n"
    "examples:\n"
    "  vericite serve --db scifact-idx --listen 127.0.0.1:8080 &\n"
    "  curl -s localhost:8080/healthz\n"
    "  curl -s localhost:8080/v1/stats\n"
    "  curl -s localhost:8080/v1/search -H 'Content-Type: application/json' \\\n"
    "       -d '{\"query\": \"Vitamin D deficiency increases the risk of MS\", \"k\": 5}'\n"
    "  curl -s localhost:8080/v1/verify -H 'Content-Type: application/json' \\\n"
    "       -d '{\"claim\": \"WAL lets readers and writers run at once\", \"source\": \"https://www.sqlite.org/wal.html\"}'\n"
    "  jq -Rs '{text: ., title: \"SQLite\"}' article.wiki | curl -s localhost:8080/v1/audit \\\n"
    "       -H 'Content-Type: application/json' --data-binary @- | jq '.results[] | .verdict'\n";

/* libmicrohttpd's closure: everything a request needs. */
struct serve {
    struct serve_pool pool;
    struct serve_jobs jobs;
    size_t max_body, max_job_body;
    struct serve_conns *conns; /* the connection deadlines */
};

typedef int (*serve_fn)(struct serve_pool *p, json_t *body, json_t **out);

enum route_kind { ROUTE_API = 0, ROUTE_JOB_NEW, ROUTE_JOB_GET };

static const struct serve_route {
    const char *path; /* exact, or a prefix followed by an id (ROUTE_JOB_GET) */
    int post;         /* 1: POST with a JSON body; 0: GET (and HEAD) */
    serve_fn fn;      /* ROUTE_API */
    enum route_kind kind;
} serve_routes[] = {{"/healthz", 0, serve_api_health, ROUTE_API},
                    {"/v1/stats", 0, serve_api_stats, ROUTE_API},
                    {"/v1/search", 1, serve_api_search, ROUTE_API},
                    {"/v1/verify", 1, serve_api_verify, ROUTE_API},
                    {"/v1/audit", 1, serve_api_audit, ROUTE_API},
                    {"/v1/jobs", 1, NULL, ROUTE_JOB_NEW},
                    {"/v1/jobs/", 0, NULL, ROUTE_JOB_GET}};

/* One request, from its first callback to its completion. */
struct serve_req {
    double t0;
    const struct serve_route *route;
    char method[16], path[200], client[64];
    struct buf body;
    size_t limit;  /* the route's body limit */
    const char *limit_flag; /* the option that sets it */
    json_t *pending;          /* an answer decided at the header, given when the body has been read */
    int pending_status;
    const char *pending_allow; /* its Allow header, or NULL */
    int written;   /* an answer went straight to the socket (write_answer): read on a little, then close */
    size_t drained; /* bytes read and thrown away while an answer waits or after it was written */
    int responded; /* a response is queued */
    int status;
    size_t bytes;
};

/* Copy `s` for the log: at most n-1 bytes, controls, spaces and non-ASCII as '?'. */
static void log_copy(char *out, size_t n, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < n; i++)
        out[i] = (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
    out[i] = '\0';
}

static void client_name(struct MHD_Connection *conn, char *out, size_t n)
{
    snprintf(out, n, "-");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (getnameinfo(sa, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST) != 0) snprintf(out, n, "-");
}

static int dump_cb(const char *s, size_t n, void *ctx)
{
    return buf_append(ctx, s, n);
}

/* Queue `o` (consumed; NULL means out of memory) as the response with `status`, and the header
 * `hname: hval` when hname is not NULL. */
static enum MHD_Result reply_with(struct serve *s, struct MHD_Connection *conn, struct serve_req *q, int status,
                                  json_t *o, const char *hname, const char *hval)
{
    static const char oom[] = "{\"error\":\"out of memory\"}\n";
    struct buf b = {0};
    struct MHD_Response *r = NULL;
    if (o && json_dump_callback(o, dump_cb, &b, JSON_COMPACT) == 0 && buf_putc(&b, '\n') == 0) {
        size_t len = b.len;
        char *data = buf_steal(&b);
        r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!r) free(data);
        q->bytes = len;
    } else {
        status = 500;
        r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        q->bytes = sizeof oom - 1;
    }
    buf_cleanup(&b);
    json_decref(o);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (hname && hval) MHD_add_response_header(r, hname, hval);
    pthread_mutex_lock(&s->pool.mu);
    int draining = s->pool.draining;
    pthread_mutex_unlock(&s->pool.mu);
    if (draining) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    if (ok == MHD_YES) {
        q->status = status;
        q->responded = 1;
    }
    return ok;
}

static enum MHD_Result reply(struct serve *s, struct MHD_Connection *conn, struct serve_req *q, int status,
                             json_t *o, const char *allow)
{
    return reply_with(s, conn, q, status, o, allow ? MHD_HTTP_HEADER_ALLOW : NULL, allow);
}

/* "application/json", with parameters (charset) allowed, any case. */
static int is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    if (!ct || ascii_ncasecmp(ct, want, sizeof want - 1)) return 0;
    char c = ct[sizeof want - 1];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

/* The connection record of `conn` (serve_conn.c), NULL when it has none. */
static struct serve_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Write the answer `status` with `o` (consumed) and `allow` to the socket and shut its writing
 * side; the caller reads what the client still sends (up to SERVE_DRAIN_MAX) and then closes. For
 * a body that may never end (chunked, or declared far past what is worth reading): libmicrohttpd
 * sends a queued response only once the whole body is read. Nothing else writes to the socket at
 * this point: no response is queued while the body is read. */
static void write_answer(struct MHD_Connection *conn, struct serve_req *q, int status, json_t *o, const char *allow)
{
    struct buf body = {0}, msg = {0};
    int ok = o && json_dump_callback(o, dump_cb, &body, JSON_COMPACT) == 0 && buf_putc(&body, '\n') == 0;
    json_decref(o);
    const char *why = MHD_get_reason_phrase_for((unsigned)status);
    ok = ok && buf_printf(&msg, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/json\r\n", status,
                          why && *why ? why : "Error") == 0;
    if (ok && allow) ok = buf_printf(&msg, "Allow: %s\r\n", allow) == 0;
    ok = ok && buf_printf(&msg, "Content-Length: %zu\r\n\r\n", body.len) == 0 && buf_append(&msg, body.data, body.len) == 0;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    q->status = status;
    q->bytes = body.len;
    q->written = 1;
    for (size_t at = 0, tries = 0; ok && ci && at < msg.len && tries < 100; tries++) { /* one send, as a rule */
        ssize_t w = send(ci->connect_fd, msg.data + at, msg.len - at, MSG_NOSIGNAL);
        if (w > 0) at += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR) break;
    }
    if (ci) shutdown(ci->connect_fd, SHUT_WR);
    buf_cleanup(&body);
    buf_cleanup(&msg);
}

/* An answer decided from the header alone (404, 405, 415, a declared length over the limit).
 * libmicrohttpd stops reading a request answered before its body and closes with the body
 * unread; the kernel then resets the connection, and a client still sending (curl reads only
 * between writes) can lose the answer. So: with no body coming (none declared, or the client
 * waits on Expect: 100-continue) it is answered at once; a body declared at most `drain` bytes
 * long is read, thrown away and answered at its end (the connection is kept); any other (chunked,
 * or longer) gets the answer written at once, and what follows is read up to SERVE_DRAIN_MAX
 * before the close. `o` is consumed. */
static enum MHD_Result answer_early(struct serve *s, struct MHD_Connection *conn, struct serve_req *q, int status,
                                    json_t *o, const char *allow, unsigned long long drain)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *ex = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    char *end = NULL;
    errno = 0;
    unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
    int known = cl && !errno && end != cl;
    if ((!te && (!known || n == 0)) || (ex && !ascii_ncasecmp(ex, "100-continue", 12)))
        return reply(s, conn, q, status, o, allow);
    if (!te && n <= drain) {
        q->pending = o;
        q->pending_status = status;
        q->pending_allow = allow;
        return MHD_YES;
    }
    write_answer(conn, q, status, o, allow);
    return MHD_YES;
}

/* The first callback of a request: route, method, content type and declared length. */
static enum MHD_Result on_headers(struct serve *s, struct MHD_Connection *conn, struct serve_req *q,
                                  const char *url, const char *method)
{
    for (size_t i = 0; i < sizeof serve_routes / sizeof serve_routes[0]; i++) {
        const struct serve_route *rt = &serve_routes[i];
        size_t n = strlen(rt->path);
        if (rt->kind == ROUTE_JOB_GET ? !strncmp(url, rt->path, n) && url[n] : !strcmp(url, rt->path)) q->route = rt;
    }
    if (!q->route) return answer_early(s, conn, q, 404, serve_error("no such endpoint: %s", q->path), NULL, SERVE_DRAIN_MAX);
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (q->route->post ? !post : !get)
        return answer_early(s, conn, q, 405,
                            serve_error("%s takes %s, not %s", q->path, q->route->post ? "POST" : "GET", q->method),
                            q->route->post ? "POST" : "GET, HEAD", SERVE_DRAIN_MAX);
    if (!q->route->post) return MHD_YES;
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!is_json_type(ct))
        return answer_early(s, conn, q, 415,
                            serve_error("the body must be Content-Type: application/json, not %s", ct ? ct : "none"),
                            NULL, SERVE_DRAIN_MAX);
    int job = q->route->kind == ROUTE_JOB_NEW;
    q->limit = job ? s->max_job_body : s->max_body;
    q->limit_flag = job ? "--max-job-body" : "--max-body";
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (!errno && end != cl && n > q->limit)
            return answer_early(s, conn, q, 413,
                                serve_error("the body is %llu bytes; the limit is %zu (%s)", n, q->limit, q->limit_flag),
                                NULL, (unsigned long long)q->limit + SERVE_DRAIN_MAX);
    }
    return MHD_YES;
}

/* Answer a request whose body (consumed; NULL for GET) has been read. */
static enum MHD_Result dispatch(struct serve *s, struct MHD_Connection *conn, struct serve_req *q, const char *url,
                                json_t *body)
{
    json_t *out = NULL;
    int status;
    if (q->route->kind == ROUTE_JOB_NEW) {
        char location[64] = "";
        int retry = 0;
        status = serve_jobs_create(&s->jobs, body, &out, location, sizeof location, &retry);
        json_decref(body);
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry);
        return status == 202 ? reply_with(s, conn, q, status, out, MHD_HTTP_HEADER_LOCATION, location)
               : retry       ? reply_with(s, conn, q, status, out, MHD_HTTP_HEADER_RETRY_AFTER, ra)
                             : reply(s, conn, q, status, out, NULL);
    }
    if (q->route->kind == ROUTE_JOB_GET) {
        const char *off = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "offset");
        const char *lim = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
        status = s->jobs.max_running
                     ? serve_jobs_get(&s->jobs, &s->pool, url + strlen(q->route->path), off, lim, &out)
                     : (out = serve_error("batch jobs are off (serve --max-jobs 0)"), 404);
        return reply(s, conn, q, status, out, NULL);
    }
    status = q->route->fn(&s->pool, body, &out);
    json_decref(body);
    return reply(s, conn, q, status, out, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct serve *s = cls;
    struct serve_req *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        q->t0 = cli_now();
        log_copy(q->method, sizeof q->method, method);
        log_copy(q->path, sizeof q->path, url);
        client_name(conn, q->client, sizeof q->client);
        *con_cls = q;
        pthread_mutex_lock(&s->pool.mu);
        s->pool.active++;
        pthread_mutex_unlock(&s->pool.mu);
        serve_conns_phase(s->conns, conn_of(conn), SERVE_PH_BODY);
        return on_headers(s, conn, q, url, method);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->responded || q->pending || q->written) { /* discard */
            q->drained += n;
            return q->written && q->drained > SERVE_DRAIN_MAX ? MHD_NO : MHD_YES;
        }
        if (q->body.len + n > q->limit) { /* chunked (a declared length was checked): answer at the limit */
            buf_cleanup(&q->body);
            write_answer(conn, q, 413,
                         serve_error("the body is over the limit of %zu bytes (%s)", q->limit, q->limit_flag), NULL);
            return MHD_YES;
        }
        if (buf_append(&q->body, upload_data, n)) return MHD_NO;
        return MHD_YES;
    }
    serve_conns_phase(s->conns, conn_of(conn), SERVE_PH_WORK);
    if (q->written) return MHD_NO; /* answered by write_answer: close */
    if (q->responded) return MHD_YES;
    if (q->pending) {
        json_t *o = q->pending;
        q->pending = NULL;
        return reply(s, conn, q, q->pending_status, o, q->pending_allow);
    }
    json_t *body = NULL;
    if (q->route->post) {
        json_error_t je;
        body = json_loadb(q->body.data ? q->body.data : "", q->body.len, JSON_REJECT_DUPLICATES, &je);
        buf_cleanup(&q->body);
        if (!body)
            return reply(s, conn, q, 400, serve_error("malformed JSON at line %d, column %d: %s", je.line, je.column, je.text),
                         NULL);
        if (!json_is_object(body)) {
            json_decref(body);
            return reply(s, conn, q, 400, serve_error("the body must be a JSON object"), NULL);
        }
    }
    return dispatch(s, conn, q, url, body);
}

/* The access log line, then the request's end. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct serve *s = cls;
    struct serve_req *q = *con_cls;
    serve_conns_phase(s->conns, conn_of(conn), SERVE_PH_HEADER); /* a kept-alive one waits for its next header */
    if (!q) return;
    *con_cls = NULL;
    static const char *const why[] = {"", " (failed)", " (timed out)", " (server stopped)", " (read error)",
                                      " (client closed)"};
    char when[32] = "-";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s %s %s %d %zu %.1fms%s\n", when, q->client, q->method, q->path, q->status,
            q->status ? q->bytes : 0, (cli_now() - q->t0) * 1e3,
            (unsigned)toe < sizeof why / sizeof why[0] ? why[toe] : " (aborted)");
    buf_cleanup(&q->body);
    json_decref(q->pending);
    free(q);
    pthread_mutex_lock(&s->pool.mu);
    s->pool.active--;
    pthread_mutex_unlock(&s->pool.mu);
}

/* libmicrohttpd's connection notifications: register each connection for its deadlines. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct serve *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        char client[64];
        client_name(conn, client, sizeof client);
        *socket_context = ci ? serve_conns_open(s->conns, ci->connect_fd, client) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        serve_conns_close(s->conns, *socket_context);
        *socket_context = NULL;
    }
}

/* ---------------------------------------------------------------- listening socket */

/* Bind and listen on "HOST:PORT" ("[v6]:PORT" too): *out gets the socket and `shown` (n bytes)
 * the bound address with the real port. Errors: ERR_ARG (malformed spec), ERR_NET. */
static int listen_on(const char *spec, int *out, char *shown, size_t n, struct err *err)
{
    *out = -1;
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof host)
        return err_set(err, ERR_ARG, "--listen '%s': expected HOST:PORT, e.g. 127.0.0.1:8080", spec);
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    if (host[0] == '[') {
        size_t l = strlen(host);
        if (l < 3 || host[l - 1] != ']') return err_set(err, ERR_ARG, "--listen '%s': unclosed [", spec);
        memmove(host, host + 1, l - 2);
        host[l - 2] = '\0';
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) return err_set(err, ERR_ARG, "--listen '%s': bad port", spec);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, colon + 1, &hints, &ai);
    if (g != 0) return err_set(err, ERR_NET, "--listen '%s': %s", spec, gai_strerror(g));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 511) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return err_set(err, ERR_NET, "cannot listen on %s: %s", spec, strerror(e));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char addr[INET6_ADDRSTRLEN + 2] = "", portstr[16] = "";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, addr, sizeof addr, portstr, sizeof portstr,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        close(fd);
        return err_set(err, ERR_NET, "%s: cannot read the bound address", spec);
    }
    snprintf(shown, n, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", addr, portstr);
    *out = fd;
    return ERR_OK;
}

/* ---------------------------------------------------------------- the command */

static int parse_size(const char *val, size_t max, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || end == val || val[0] == '-') return -1;
    if (*end == 'k' || *end == 'K') v <<= 10, end++;
    else if (*end == 'm' || *end == 'M') v <<= 20, end++;
    if (*end || v < 1024 || v > max) return -1;
    *out = (size_t)v;
    return 0;
}

enum { S_DB = 3000, S_LISTEN, S_THREADS, S_TIMEOUT, S_MAXBODY, S_OFFLINE, S_PRIVATE, S_HOST, S_SUGGEST,
       S_FETCH_TIMEOUT, S_MODEL, S_MAXJOBS, S_JOBWORKERS, S_MAXJOBBODY, S_RERANK, S_RERANK_URL,
       S_RERANK_MODEL, S_RERANK_DEPTH, S_RERANK_THREADS, S_VERIFIER, S_VER_WINDOWS, S_JUDGE_URL, S_JUDGE_MODEL,
       S_MAXCONN, S_PERIP, S_HDRTIMEOUT, S_BODYTIMEOUT, S_MAXOUT };

struct serve_args {
    const char *db, *listen_spec;
    char listen_buf[300]; /* --listen as bound: "8080" -> "127.0.0.1:8080" */
    const char *hosts[SERVE_MAX_HOSTS + 1]; /* --allow-host, NULL-terminated */
    int nhosts, threads, timeout, max_jobs, job_workers;
    int max_conns, max_conns_set, per_ip; /* --max-connections (given or not), --max-per-ip */
    double header_s, body_s;              /* --header-timeout, --body-timeout (0: none) */
    struct ver_audit_opts vo;
};

static const struct option serve_longopts[] = {
    {"db", required_argument, 0, S_DB},           {"listen", required_argument, 0, S_LISTEN},
    {"threads", required_argument, 0, S_THREADS}, {"timeout", required_argument, 0, S_TIMEOUT},
    {"max-body", required_argument, 0, S_MAXBODY}, {"offline", no_argument, 0, S_OFFLINE},
    {"allow-private", no_argument, 0, S_PRIVATE}, {"allow-host", required_argument, 0, S_HOST},
    {"suggest", required_argument, 0, S_SUGGEST}, {"fetch-timeout", required_argument, 0, S_FETCH_TIMEOUT},
    {"model", required_argument, 0, S_MODEL},     {"max-jobs", required_argument, 0, S_MAXJOBS},
    {"job-workers", required_argument, 0, S_JOBWORKERS}, {"max-job-body", required_argument, 0, S_MAXJOBBODY},
    {"rerank", required_argument, 0, S_RERANK},   {"rerank-url", required_argument, 0, S_RERANK_URL},
    {"rerank-model", required_argument, 0, S_RERANK_MODEL},
    {"rerank-depth", required_argument, 0, S_RERANK_DEPTH},
    {"rerank-threads", required_argument, 0, S_RERANK_THREADS},
    {"verifier", required_argument, 0, S_VERIFIER}, {"verifier-windows", required_argument, 0, S_VER_WINDOWS},
    {"judge-url", required_argument, 0, S_JUDGE_URL}, {"judge-model", required_argument, 0, S_JUDGE_MODEL},
    {"max-connections", required_argument, 0, S_MAXCONN}, {"max-per-ip", required_argument, 0, S_PERIP},
    {"header-timeout", required_argument, 0, S_HDRTIMEOUT}, {"body-timeout", required_argument, 0, S_BODYTIMEOUT},
    {"max-output", required_argument, 0, S_MAXOUT},
    {"help", no_argument, 0, 'h'},                {0, 0, 0, 0}};

/* One option of `serve`. Returns -1 to go on, else the exit code. */
static int serve_option(int c, struct serve_args *a, struct serve *s)
{
    long ms;
    switch (c) {
    case S_DB: a->db = optarg; break;
    case S_LISTEN:
        if (cli_listen_spec(optarg, a->listen_buf, sizeof a->listen_buf))
            return cli_usage("serve", "--listen expects HOST:PORT, :PORT or PORT (e.g. 8080), not '%s'", optarg);
        a->listen_spec = a->listen_buf;
        break;
    case S_THREADS: return cli_int("serve", "--threads", optarg, 1, SERVE_MAX_THREADS, &a->threads) ? CLI_USAGE : -1;
    case S_TIMEOUT:
        if (cli_duration("serve", "--timeout", optarg, 1, 3600, 0, &ms)) return CLI_USAGE;
        a->timeout = (int)((ms + 999) / 1000);
        break;
    case S_MAXBODY:
        if (parse_size(optarg, SERVE_MAX_BODY, &s->max_body))
            return cli_usage("serve", "--max-body expects 1K to 64M bytes (e.g. 1048576, 512K, 4M), not '%s'", optarg);
        break;
    case S_MAXJOBBODY:
        if (parse_size(optarg, SERVE_MAX_JOB_BODY, &s->max_job_body))
            return cli_usage("serve", "--max-job-body expects 1K to 256M bytes (e.g. 512K, 64M), not '%s'", optarg);
        break;
    case S_MAXJOBS: return cli_int("serve", "--max-jobs", optarg, 0, SERVE_JOBS_MAX_RUNNING, &a->max_jobs) ? CLI_USAGE : -1;
    case S_JOBWORKERS:
        return cli_int("serve", "--job-workers", optarg, 1, VER_BATCH_MAX_JOBS, &a->job_workers) ? CLI_USAGE : -1;
    case S_OFFLINE: a->vo.offline = 1; break;
    case S_PRIVATE: a->vo.allow_private = 1; break;
    case S_HOST:
        if (a->nhosts >= SERVE_MAX_HOSTS) return cli_usage("serve", "at most %d --allow-host", SERVE_MAX_HOSTS);
        a->hosts[a->nhosts++] = optarg;
        a->vo.allow_hosts = a->hosts;
        break;
    case S_SUGGEST:
        if (!strcmp(optarg, "failing")) a->vo.suggest = VER_SUGGEST_FAILING;
        else if (!strcmp(optarg, "all")) a->vo.suggest = VER_SUGGEST_ALL;
        else if (!strcmp(optarg, "none")) a->vo.suggest = VER_SUGGEST_NONE;
        else return cli_usage("serve", "unknown --suggest '%s' (failing, all, none)", optarg);
        break;
    case S_FETCH_TIMEOUT:
        if (cli_duration("serve", "--fetch-timeout", optarg, 0.1, 600, 1, &ms)) return CLI_USAGE;
        a->vo.fetch_timeout_ms = ms;
        break;
    case S_MODEL: a->vo.model_path = optarg; break;
    case S_RERANK: a->vo.rerank = optarg; break;
    case S_RERANK_URL: a->vo.rerank_url = optarg; break;
    case S_RERANK_MODEL: a->vo.rerank_model = optarg; break;
    case S_RERANK_DEPTH:
        return cli_int("serve", "--rerank-depth", optarg, 1, RET_RERANK_MAX_DEPTH, &a->vo.rerank_depth) ? CLI_USAGE
                                                                                                       : -1;
    case S_RERANK_THREADS:
        return cli_int("serve", "--rerank-threads", optarg, 1, 64, &a->vo.rerank_threads) ? CLI_USAGE : -1;
    case S_VERIFIER: a->vo.verifier = optarg; break;
    case S_VER_WINDOWS:
        return cli_int("serve", "--verifier-windows", optarg, 1, VER_NLI_WINDOWS_CAP, &a->vo.verifier_windows)
                   ? CLI_USAGE
                   : -1;
    case S_JUDGE_URL:
        if (!http_is_web_url(optarg))
            return cli_usage("serve", "--judge-url expects an http(s) URL, not '%s'", optarg);
        a->vo.judge_url = optarg;
        a->vo.judge_key = getenv(VER_JUDGE_KEY_ENV);
        break;
    case S_JUDGE_MODEL: a->vo.judge_model = optarg; break;
    case S_MAXOUT:
        return cli_size("serve", "--max-output", optarg, 64u << 10, (size_t)16 << 30, &a->vo.max_output) ? CLI_USAGE
                                                                                                         : -1;
    case S_MAXCONN:
        a->max_conns_set = 1;
        return cli_int("serve", "--max-connections", optarg, 1, SERVE_MAX_CONNECTIONS, &a->max_conns) ? CLI_USAGE : -1;
    case S_PERIP: return cli_int("serve", "--max-per-ip", optarg, 1, SERVE_MAX_CONNECTIONS, &a->per_ip) ? CLI_USAGE : -1;
    case S_HDRTIMEOUT:
    case S_BODYTIMEOUT:
        if (!strcmp(optarg, "0")) ms = 0;
        else if (cli_duration("serve", c == S_HDRTIMEOUT ? "--header-timeout" : "--body-timeout", optarg, 0.1, 3600, 0, &ms))
            return CLI_USAGE;
        *(c == S_HDRTIMEOUT ? &a->header_s : &a->body_s) = ms / 1000.0;
        break;
    case 'h': fputs(serve_help, stdout); return CLI_OK;
    default: return cli_usage("serve", "unknown option");
    }
    return -1;
}

static int serve_parse(int argc, char **argv, struct serve_args *a, struct serve *s)
{
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", serve_longopts, NULL)) != -1) {
        if (c == '?') return cli_bad_option("serve", argv, "h", serve_longopts);
        if ((rc = serve_option(c, a, s)) >= 0) return rc;
    }
    if (!a->db) return cli_usage("serve", "--db DIR is required");
    if (a->vo.rerank && a->vo.rerank_url) return cli_usage("serve", "give --rerank NAME or --rerank-url URL, not both");
    if (optind < argc) return cli_usage("serve", "unexpected argument '%s'", argv[optind]);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!a->threads) a->threads = cores > 0 ? (int)(cores * 2 > SERVE_MAX_THREADS ? SERVE_MAX_THREADS : cores * 2) : 2;
    return -1;
}

/* Raise the open-file limit to what --max-connections needs (up to the hard limit); a default
 * that does not fit is lowered with a note, a given one that does not fit is an error. */
static int fit_connections(struct serve_args *a, struct err *err)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return ERR_OK;
    rlim_t need = (rlim_t)a->max_conns + SERVE_FD_RESERVE + 8 * (rlim_t)a->threads;
    if (rl.rlim_cur < need && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        struct rlimit nl = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nl) == 0) rl.rlim_cur = want;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need) return ERR_OK;
    long fit = (long)rl.rlim_cur - SERVE_FD_RESERVE - 8L * a->threads;
    if (a->max_conns_set || fit < 16)
        return err_set(err, ERR_LIMIT, "--max-connections %d needs %llu open files; the limit is %llu (ulimit -n)",
                       a->max_conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
    fprintf(stderr, "serve: at most %ld connections (the open-file limit is %llu; ulimit -n raises it)\n", fit,
            (unsigned long long)rl.rlim_cur);
    a->max_conns = (int)fit;
    return ERR_OK;
}

/* After the first signal: stop accepting, let the requests in flight finish (bounded, or until a
 * second signal), then stop the daemon. */
static void serve_drain(struct serve *s, struct MHD_Daemon *d, const struct serve_args *a, const sigset_t *sigs,
                        int sig)
{
    MHD_socket ls = MHD_quiesce_daemon(d);
    if (ls != MHD_INVALID_SOCKET) close(ls);
    fprintf(stderr, "%s: stopping (waiting for requests in flight)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    pthread_mutex_lock(&s->pool.mu);
    s->pool.draining = 1;
    pthread_mutex_unlock(&s->pool.mu);
    double until = cli_now() + a->timeout + (a->vo.fetch_timeout_ms ? a->vo.fetch_timeout_ms / 1000.0 : 20) + 5;
    const struct timespec tick = {0, 50 * 1000000L};
    int left = 0, again = 0;
    for (;;) {
        pthread_mutex_lock(&s->pool.mu);
        left = s->pool.active;
        pthread_mutex_unlock(&s->pool.mu);
        if (!left || cli_now() >= until) break;
        if (sigtimedwait(sigs, NULL, &tick) > 0) { /* a second signal: stop now */
            again = 1;
            break;
        }
    }
    MHD_stop_daemon(d);
    fprintf(stderr, "stopped%s\n", !left ? "" : again ? " (second signal: requests in flight cut off)"
                                                     : " (some requests did not finish in time)");
}

int cmd_serve(int argc, char **argv)
{
    struct serve_args a = {.listen_spec = "127.0.0.1:8080", .timeout = 30, .max_jobs = 1, .job_workers = 2,
                           .max_conns = SERVE_DEFAULT_CONNECTIONS, .per_ip = SERVE_DEFAULT_PER_IP,
                           .header_s = SERVE_DEFAULT_HEADER_S, .body_s = SERVE_DEFAULT_BODY_S};
    struct serve s = {.max_body = SERVE_DEFAULT_BODY, .max_job_body = SERVE_DEFAULT_JOB_BODY};
    int rc = serve_parse(argc, argv, &a, &s);
    if (rc >= 0) return rc;
    struct err err = {0};
    struct MHD_Daemon *d = NULL;
    int fd = -1;
    char shown[300];
    /* SIGTERM/SIGINT are blocked in every thread (libmicrohttpd's and the job runners inherit this
     * mask) and taken with sigwait() below: no handler, no global flag. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((rc = serve_pool_init(&s.pool, a.db, a.threads, &a.vo, &err))) goto out;
    if ((rc = serve_jobs_init(&s.jobs, a.db, a.max_jobs, a.job_workers, &a.vo, &err))) goto out;
    if ((rc = fit_connections(&a, &err))) goto out;
    if ((rc = serve_conns_new(&s.conns, a.header_s, a.body_s, &err))) goto out;
    if ((rc = listen_on(a.listen_spec, &fd, shown, sizeof shown, &err))) goto out;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC;
    d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)a.timeout, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, &s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, &s,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)a.max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                         (unsigned)a.per_ip, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)a.threads, MHD_OPTION_END);
    if (!d) {
        rc = err_set(&err, ERR_INTERNAL, "serve: libmicrohttpd could not start (%s)", strerror(errno));
        goto out;
    }
    fprintf(stderr, "listening on http://%s (%d thread%s, index %s)\n", shown, a.threads, cli_s(a.threads), a.db);
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    serve_drain(&s, d, &a, &sigs, sig);
    d = NULL;
    fd = -1; /* closed by serve_drain */
    rc = ERR_OK;
out:
    if (d) MHD_stop_daemon(d);
    if (fd >= 0) close(fd);
    serve_jobs_cleanup(&s.jobs); /* running jobs are cancelled once their current articles are stored */
    serve_pool_cleanup(&s.pool);
    serve_conns_free(s.conns); /* after the daemon: no more notifications */
    return rc ? cli_fail(&err) : CLI_OK;
}
