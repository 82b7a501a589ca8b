/* Shared by the SQL coordination backend's files only (weblab_coord_sql.c:
 * the steps that write; weblab_coord_sql_views.c: the reads). */
#ifndef WEBLAB_COORD_SQL_PRIVATE_H
#define WEBLAB_COORD_SQL_PRIVATE_H

#include <string.h>
#include "weblab_coord.h"
#include "weblab_sql.h"

#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>

typedef struct coord_sql_batch_item_t coord_sql_batch_item_t;
typedef struct coord_sql_waiter_t coord_sql_waiter_t;

typedef struct {
    weblab_sql_pool_t *pool;
#if APR_HAS_THREADS
    /* group commit of reserves (weblab_coord_sql_reserve.c) */
    apr_thread_mutex_t *batch_mutex;
    apr_pool_t *batch_pool;             /* the waiters' conditions */
    coord_sql_waiter_t *idle_waiters;   /* conditions free for reuse */
#endif
    coord_sql_batch_item_t *batch_head, **batch_tail;
    int batch_writing;
} coord_sql_t;

/* Only refresh a session's latest_access when it is older than this, so
 * that most requests do not write. */
#define SESSION_TOUCH_SLACK 60.0
/* Cancelled reservations are kept this long so that clients get
 * NoCurrentReservation rather than SessionNotFound. */
#define CANCELLED_KEEP 3600.0
/* How many waiting reservations one queue pass looks at. */
#define QUEUE_SCAN_MAX 256

/* ---- small helpers ---- */

static inline int col_index(const weblab_sql_rows_t *rows, const char *name)
{
    int i;

    for (i = 0; i < rows->ncols; i++) {
        if (!strcmp(rows->names[i], name)) {
            return i;
        }
    }
    return -1;
}

static inline const char *fs(const weblab_sql_rows_t *r, const char *name)
{
    return weblab_sql_str(r, col_index(r, name));
}

static inline double fd(const weblab_sql_rows_t *r, const char *name)
{
    return weblab_sql_double(r, col_index(r, name));
}

static inline apr_int64_t fi(const weblab_sql_rows_t *r, const char *name)
{
    return weblab_sql_int(r, col_index(r, name));
}

static inline const char *nz(const char *s)
{
    return s ? s : "";
}

/* Finish using a connection: keep it when the work succeeded or failed for a
 * logical reason, drop it after a failure of the connection itself. */
static inline apr_status_t done(coord_sql_t *c, weblab_sql_t *conn, apr_status_t rv)
{
    return weblab_sql_done(c->pool, conn, rv);
}

/* The queue pass every write step ends with (weblab_coord_sql.c). */
apr_status_t weblab_coord_sql_run_queue(weblab_sql_t *conn, const char *rt,
                                        double now, apr_pool_t *p);

/* Reserve with group commit (weblab_coord_sql_reserve.c). */
apr_status_t weblab_coord_sql_batch_init(coord_sql_t *c, apr_pool_t *p);
apr_status_t weblab_coord_sql_reserve(void *ctx, const weblab_reservation_t *r,
                                      double now);

/* The reads (weblab_coord_sql_views.c). */
apr_status_t weblab_coord_sql_get(void *ctx, weblab_reservation_t **out,
                                  const char *id, apr_pool_t *p);
apr_status_t weblab_coord_sql_due(void *ctx, weblab_coord_due_t *d,
                                  double now, double poll_time,
                                  apr_pool_t *p);
apr_status_t weblab_coord_sql_instances(void *ctx, apr_array_header_t **out,
                                        apr_pool_t *p);
apr_status_t weblab_coord_sql_queue(void *ctx, apr_array_header_t **out,
                                    apr_pool_t *p);

#endif
