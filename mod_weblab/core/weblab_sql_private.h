/* Backend interface behind weblab_sql.h. Only weblab_sql.c and the backend
 * files include this. */
#ifndef WEBLAB_SQL_PRIVATE_H
#define WEBLAB_SQL_PRIVATE_H

#include <stdarg.h>
#include "weblab_sql.h"

typedef struct weblab_sql_backend_t {
    const char *scheme;                 /* "sqlite" */
    apr_status_t (*open)(void **handle, const char *target, apr_pool_t *p);
    void (*close)(void *handle);
    /* rows == NULL: no result expected; *changes filled when not NULL */
    apr_status_t (*run)(void *handle, const char *sql, const char *types,
                        va_list ap, weblab_sql_rows_t **rows, int *changes,
                        apr_pool_t *p);
    apr_status_t (*script)(void *handle, const char *script);
    apr_status_t (*begin)(void *handle, int write);
    apr_status_t (*commit)(void *handle);
    apr_status_t (*rollback)(void *handle);
    apr_int64_t (*last_id)(void *handle);
    const char *(*error)(void *handle);
    int (*is_constraint)(void *handle);
    /* pooled connections group their selects in one read transaction
     * (weblab_sql.c, end_read) */
    int pooled_reads;
} weblab_sql_backend_t;

extern const weblab_sql_backend_t weblab_sql_sqlite_backend;
extern const weblab_sql_backend_t weblab_sql_mysql_backend;

#endif
