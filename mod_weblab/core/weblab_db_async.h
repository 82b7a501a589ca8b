/* Asynchronous commands and files (send_async_command, send_async_file,
 * check_async_command_status, spec 1.5) in the data database, which every
 * child of every core shares: a request is 'running' from the moment it is
 * accepted until the worker that calls the lab records 'ok' or 'error';
 * each outcome is reported once and then deleted. A request still running
 * past its deadline lost its process (a restart or a crash) and is
 * reported as an error instead. Its command or file is in the uses log from
 * the start, like a synchronous one; the lab's response is added when it
 * arrives. */
#ifndef WEBLAB_DB_ASYNC_H
#define WEBLAB_DB_ASYNC_H

#include <apr_hash.h>
#include "weblab_sql.h"

typedef struct weblab_async_result_t {
    const char *status;         /* "running", "ok" or "error" */
    const char *response;       /* the lab's answer or the error message;
                                 * NULL while running */
} weblab_async_result_t;

/* Where the uses log keeps a request (for weblab_db_async_finish). */
typedef struct weblab_async_log_t {
    int is_file;                /* UserFile, else UserCommand */
    apr_int64_t row_id;
} weblab_async_log_t;

/* What a client sees for a request whose process ended before the lab
 * answered (it is also what the test suite looks for). */
#define WEBLAB_ASYNC_LOST "The request was lost: the server process running" \
    " it stopped (for example in a restart) before the laboratory answered"

/* Accept request request_id of use use_id: its command (or, command NULL,
 * its file: hash and file_info, as weblab_db_use_file) goes into the uses
 * log without a response, timestamped now, and the request is running
 * until deadline. Requests left unreported for a day past their deadline
 * are dropped here. One write transaction; *log says where the log row is.
 * p: scratch (the file hash). */
apr_status_t weblab_db_async_begin(weblab_async_log_t *log, weblab_sql_t *c,
                                   const char *request_id, apr_int64_t use_id,
                                   const char *command, const char *file_b64,
                                   const char *file_info, double now,
                                   double deadline, apr_pool_t *p);

/* The lab call of a running request starts only now (it waited in the
 * queue): its deadline moves to deadline. */
apr_status_t weblab_db_async_extend(weblab_sql_t *c, const char *request_id,
                                    double deadline);

/* The outcome of request_id at time at: ok with the lab's response, or an
 * error and its message. The uses-log row gets the response (NULL for an
 * error, as synchronous failures), even when the request itself was
 * already reported lost. One write transaction. */
apr_status_t weblab_db_async_finish(weblab_sql_t *c, const char *request_id,
                                    const weblab_async_log_t *log, int ok,
                                    const char *text, double at);

/* The requests of use use_id among wanted (a set: request id -> anything),
 * as request id -> weblab_async_result_t in *out (from p): running ones,
 * and finished ones, which are deleted (reported once: of two concurrent
 * collects only one gets each). Running requests past their deadline at
 * now are deleted and reported as errors (WEBLAB_ASYNC_LOST). Ids of
 * other uses, unknown or already reported are left out. Reads first;
 * writes (one transaction) only when something is to be deleted. */
apr_status_t weblab_db_async_collect(apr_hash_t **out, weblab_sql_t *c,
                                     apr_int64_t use_id, apr_hash_t *wanted,
                                     double now, apr_pool_t *p);

#endif
