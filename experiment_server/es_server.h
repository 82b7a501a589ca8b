/* The network side of experiment_server: one listening socket, one
 * epoll event loop on one thread, non-blocking connections with HTTP/1.1
 * keep-alive. Each complete request body goes to weblab_es_rpc_handle and
 * its answer goes back in one write with TCP_NODELAY. SIGTERM and SIGINT
 * stop the loop; SIGHUP reopens the log file. */
#ifndef WEBLAB_ES_SERVER_H
#define WEBLAB_ES_SERVER_H

#include <apr_pools.h>
#include "es_conf.h"
#include "es_log.h"
#include "es_rpc.h"

typedef struct weblab_es_server_t weblab_es_server_t;

/* Block the signals the loop handles, then open the listening socket on
 * conf->bind_addr:conf->port. On failure returns the error and sets
 * *errmsg to one line such as "cannot listen on 127.0.0.1:10039: Address
 * already in use". Allocated from pool. */
apr_status_t weblab_es_server_create(weblab_es_server_t **srv,
                                     const char **errmsg,
                                     const weblab_es_conf_t *conf,
                                     weblab_es_rpc_t *rpc,
                                     weblab_es_log_t *log, apr_pool_t *pool);

/* The address actually listened on, e.g. "127.0.0.1:10039". */
const char *weblab_es_server_address(const weblab_es_server_t *srv);

/* Serve until SIGTERM or SIGINT. Returns APR_SUCCESS on such a stop, an
 * error if the loop itself fails. */
apr_status_t weblab_es_server_run(weblab_es_server_t *srv);

/* Close every connection and the listening socket. */
void weblab_es_server_close(weblab_es_server_t *srv);

#endif
