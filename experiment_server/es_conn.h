/* Client connections of experiment_server: non-blocking sockets with an
 * input buffer and at most one pending answer each, HTTP/1.1 keep-alive,
 * pipelining, lingering close and idle timeouts. es_server.c accepts them
 * and hands their epoll events here. */
#ifndef WEBLAB_ES_CONN_H
#define WEBLAB_ES_CONN_H

#include <stdint.h>
#include <apr_pools.h>
#include "es_log.h"
#include "es_rpc.h"

typedef struct weblab_es_conn_t weblab_es_conn_t;

/* The open connections and what serving them needs. Owned by the server;
 * the fields above the line are set by it. */
typedef struct weblab_es_conns_t {
    int epoll_fd;               /* connections register here, data.ptr =
                                 * the weblab_es_conn_t */
    apr_pool_t *req_pool;       /* cleared before every request */
    weblab_es_rpc_t *rpc;
    weblab_es_log_t *log;
    const char *auth;           /* --auth token or NULL */
    int stopping;               /* answer with Connection: close */
    /* ---- */
    weblab_es_conn_t *head;     /* every open connection */
    unsigned count;
} weblab_es_conns_t;

/* Monotonic clock in milliseconds. */
long long weblab_es_now_ms(void);

/* Adopt an accepted non-blocking socket: TCP_NODELAY, registered for
 * reading. Closes fd and returns -1 if that fails (or memory is out). */
int weblab_es_conn_open(weblab_es_conns_t *cs, int fd);

/* Handle the epoll events of c; c may be closed (and freed) on return. */
void weblab_es_conn_on_event(weblab_es_conns_t *cs, weblab_es_conn_t *c,
                             uint32_t events);

/* Close connections idle (or lingering) past their deadline. */
void weblab_es_conns_sweep(weblab_es_conns_t *cs, long long now);

/* Close every connection. */
void weblab_es_conns_close_all(weblab_es_conns_t *cs);

#endif
