/* The per-process core: configuration plus the backends (data database,
 * coordination, lab client). Made once per httpd child in child_init (or
 * once by a tool or a test) and shared by its threads; nothing in it is
 * mutated by requests. */
#ifndef WEBLAB_CORE_H
#define WEBLAB_CORE_H

#include <apr_pools.h>
#include "weblab_sql.h"
#include "weblab_coord.h"
#include "weblab_lab.h"

typedef struct weblab_core_config_t {
    const char *data_dsn;           /* WeblabDatabase */
    const char *coord_engine;       /* WeblabCoordinationEngine: "sql" */
    const char *coord_dsn;          /* WeblabCoordinationDatabase */
    const char *route;              /* WeblabRoute */
    const char *server_url;         /* WeblabServerURL, ends with '/' */
    const char *server_admin;       /* WeblabServerAdmin */
    double poll_time;               /* WeblabPollTime */
    double session_timeout;         /* WeblabSessionTimeout */
    double post_reservation_expiry; /* WeblabPostReservationExpiry */
    double lab_connect_timeout;     /* WeblabLabConnectTimeout */
    double lab_timeout;             /* WeblabLabTimeout */
    double login_failed_delay;      /* WeblabLoginFailedDelay */
    double check_interval;          /* WeblabCheckInterval: health checks */
    int debug_mode;                 /* WeblabDebugMode */
    int pool_max;                   /* connections per pool (threads) */
} weblab_core_config_t;

/* Log levels of weblab_core_log (mapped to APLOG_* by the glue). */
#define WEBLAB_LOG_ERR 0
#define WEBLAB_LOG_WARN 1
#define WEBLAB_LOG_INFO 2
#define WEBLAB_LOG_DEBUG 3

typedef void (*weblab_log_fn)(void *baton, int level, apr_status_t rv,
                              const char *msg);

typedef struct weblab_core_t {
    weblab_core_config_t cfg;
    weblab_log_fn log;              /* may be NULL: no logging */
    void *log_baton;
    weblab_sql_pool_t *data;
    weblab_coord_t *coord;
    weblab_lab_client_t *labs;
    /* background threads for async commands (weblab_async_worker.h), set
     * by the glue in child_init; NULL in tools and tests without them */
    struct weblab_async_worker_t *async;
    /* failure log limiter (weblab_core_log_due), shared by the threads */
    volatile apr_uint32_t log_next;
    volatile apr_uint32_t log_suppressed;
    /* upkeep bookkeeping: touched only by the one upkeep thread */
    double last_sync;
    double last_cleanup;
    double last_check;
} weblab_core_t;

/* Fill cfg with the documented defaults (docs/INTERNALS.md). */
void weblab_core_config_defaults(weblab_core_config_t *cfg);

/* Open the backends for cfg (copied). data_lock and coord_lock serialize
 * the SQLite writers of each database across processes (either may be NULL
 * in single-process tools). Allocated from p, which must outlive the
 * core. */
apr_status_t weblab_core_create(weblab_core_t **core,
                                const weblab_core_config_t *cfg,
                                const weblab_sql_lock_t *data_lock,
                                const weblab_sql_lock_t *coord_lock,
                                apr_pool_t *p);

/* Log through the installed function (messages never carry secrets). */
void weblab_core_log(weblab_core_t *core, int level, apr_status_t rv,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Whether to log a failure now: while a backend is down every request
 * fails, so one line per WEBLAB_LOG_EVERY seconds per process is written;
 * *suppressed gets how many were left out since the previous one. */
#define WEBLAB_LOG_EVERY 30
int weblab_core_log_due(weblab_core_t *core, apr_uint32_t *suppressed);

/* Seconds since the epoch, as a double. */
double weblab_now(void);

#endif
