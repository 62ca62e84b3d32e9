/* testhttp.h - a tiny loopback HTTP/1.1 server for network tests (tests/testhttp.c).
 *
 * It listens on 127.0.0.1 at an ephemeral port, runs one thread per connection, reads one request
 * (head up to 64 KB, body by Content-Length up to 64 MB), calls the test's handler and answers
 * with "Connection: close". The handler runs on several threads at once: it locks its own state.
 * The server counts requests and how many were being handled at the same time. */
#ifndef VC_TESTHTTP_H
#define VC_TESTHTTP_H

#include <stddef.h>

#include "buf.h"

struct th_request {
    const char *method; /* "GET", "POST", ... */
    const char *target; /* "/v1/embeddings" */
    const char *head;   /* the whole request head (request line and headers) */
    const char *body;   /* NUL-terminated; body_len bytes */
    size_t body_len;
    int seq; /* 0 for the first request this server received, then 1, 2, ... */
};

/* Filled in by the handler; starts as 200, "application/json", no extra headers, empty body. */
struct th_response {
    int status;
    char ctype[64];
    char headers[512]; /* extra header lines, each ending in "\r\n" */
    struct buf body;
    int delay_ms; /* wait this long before answering */
    int hang;     /* never answer: hold the connection until the client leaves or th_stop() */
    int drop;     /* close the connection without answering */
};

typedef void (*th_handler)(void *ud, const struct th_request *rq, struct th_response *rs);

struct th_server;

/* Start a server calling `h(ud, ...)` for every request. Returns 0, or -1 (no socket or thread). */
int th_start(struct th_server **out, th_handler h, void *ud);
/* Stop accepting, end hanging and delayed answers, wait for every connection thread, free.
 * NULL is allowed. */
void th_stop(struct th_server *s);
int th_port(const struct th_server *s);
/* Write "http://127.0.0.1:<port><path>" into out. */
void th_url(const struct th_server *s, const char *path, char *out, size_t cap);
/* Requests received so far (fully read, handler called or about to be). */
int th_requests(struct th_server *s);
/* Most requests being handled at the same moment so far (from fully read to answer ready, so a
 * client's next request on the heels of an answer is not counted twice). */
int th_max_inflight(struct th_server *s);
/* Copy the value of header `name` (case-insensitive) of rq into out. Returns 1, or 0 when absent.
 */
int th_header(const struct th_request *rq, const char *name, char *out, size_t cap);
/* A loopback port nothing listens on (bound, then closed), or -1. */
int th_free_port(void);

#endif
