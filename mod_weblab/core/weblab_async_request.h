/* Asynchronous commands and files as the original runs them (its
 * laboratory server, spec 4.3): the experiment server only has the
 * synchronous send_command_to_device and send_file_to_device, so the core
 * accepts the request, answers its id at once and makes that call on a
 * background thread of its process (weblab_async_worker), keeping the state
 * in the data database for any child of any core to report
 * (weblab_db_async). */
#ifndef WEBLAB_ASYNC_REQUEST_H
#define WEBLAB_ASYNC_REQUEST_H

#include "weblab_core.h"
#include "weblab_coord.h"

/* Per process: at most this many lab calls of async requests at once (one
 * in a process of a non-threaded MPM, where httpd runs many processes),
 * and this many more waiting; beyond that, requests are refused
 * (APR_EAGAIN) until some finish. */
#define WEBLAB_ASYNC_THREADS 4
#define WEBLAB_ASYNC_QUEUE 64

/* Accept a command (or, command NULL, a file) for the lab of confirmed
 * reservation r and start it in the background: *request_id (16
 * characters, from p) names it for check_async_command_status. Returns
 * APR_EAGAIN when this process has too many pending, APR_ENOTIMPL when it
 * runs no worker (core->async NULL), APR_EINVAL when r has no use in the
 * uses log to keep it under, else the data database's status. The
 * lab call is bounded by the lab timeouts and logged in the uses log as
 * for send_command; a failure, even a timeout, is only reported in the
 * request's status, as in the original: the reservation goes on. */
apr_status_t weblab_async_request_submit(const char **request_id,
                                         weblab_core_t *core,
                                         const weblab_reservation_t *r,
                                         const char *command,
                                         const char *file_b64,
                                         const char *file_info,
                                         apr_pool_t *p);

/* Seconds a request may stay running before it is considered lost: a
 * wait for a free connection plus the call, each bounded by the lab
 * timeouts, and some slack for the databases. */
double weblab_async_request_span(const weblab_core_t *core);

#endif
