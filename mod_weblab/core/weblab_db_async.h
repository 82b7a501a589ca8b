/* Asynchronous commands and files (send_async_command, send_async_file,
 * check_async_command_status, spec 1.5): their answers are kept in the data
 * database until the client has read them once. */
#ifndef WEBLAB_DB_ASYNC_H
#define WEBLAB_DB_ASYNC_H

#include <apr_hash.h>
#include "weblab_sql.h"

typedef struct weblab_async_result_t {
    const char *status;         /* "ok" or "error" ("running" is never
                                 * stored: see weblab_api_async.c) */
    const char *response;       /* the lab's answer or the error message */
} weblab_async_result_t;

/* Record the outcome of request request_id of use use_id. */
apr_status_t weblab_db_async_store(weblab_sql_t *c, apr_int64_t use_id,
                                   const char *request_id, int ok,
                                   const char *response);

/* The unreported outcomes among ids (array of const char *) of use use_id,
 * as request id -> weblab_async_result_t in *out (from p); those returned
 * are marked reported. Unknown or already reported ids are left out. */
apr_status_t weblab_db_async_collect(apr_hash_t **out, weblab_sql_t *c,
                                     apr_int64_t use_id,
                                     const apr_array_header_t *ids,
                                     apr_pool_t *p);

#endif
