/* The small HTTP/1.1 layer of experiment_server: parsing a request head and
 * building a response, with no I/O (es_server.c does the I/O). Only what an
 * XML-RPC server needs: POST with a Content-Length (no chunked bodies), any
 * path, keep-alive, Expect: 100-continue, and the auth token as ?auth= or
 * X-WebLab-Auth. Size limits are checked here, before any body is read. */
#ifndef WEBLAB_ES_HTTP_H
#define WEBLAB_ES_HTTP_H

#include <apr_pools.h>

typedef struct weblab_es_http_req_t {
    int status;                 /* 0: fine; else the HTTP status to answer
                                 * (400, 405, 411, 413, 417, 431, 505) and
                                 * close the connection */
    const char *error;          /* why, for the error answer (static) */
    apr_size_t head_len;        /* bytes of request line and headers */
    apr_size_t content_length;  /* body bytes that follow the head */
    int http10;                 /* request was HTTP/1.0 */
    int keep_alive;             /* connection may serve another request */
    int expect_continue;        /* client waits for "100 Continue" */
    int authorized;             /* token matched, or no token configured */
} weblab_es_http_req_t;

/* Parse the request head at the start of buf (len bytes so far). Returns 0
 * when the head is not complete yet (and len is under the header limit);
 * 1 when req is filled in (req->status says whether it is acceptable).
 * auth is the configured token or NULL. Nothing is allocated. */
int weblab_es_http_parse_head(weblab_es_http_req_t *req, const char *buf,
                              apr_size_t len, const char *auth);

/* A whole response, status line, headers and body in one buffer from p, so
 * that it goes out in one write (spec 10.2: two writes cost ~44 ms against
 * a client with delayed ACKs). extra_headers is "" or CRLF-terminated
 * lines; keep_alive and http10 decide the Connection header. */
char *weblab_es_http_response(apr_size_t *len, int status,
                              const char *content_type,
                              const char *extra_headers, const char *body,
                              apr_size_t body_len, int keep_alive, int http10,
                              apr_pool_t *p);

/* Reason phrase of a status code, "Unknown" for others. */
const char *weblab_es_http_reason(int status);

#endif
