/* Logging of experiment_server: one line per event, to --log-file (appended)
 * or stderr, as "[time] [level] [pid N] message". Error lines carry the
 * APR status (rv) behind them. Never log file contents, session ids or the
 * auth token. */
#ifndef WEBLAB_ES_LOG_H
#define WEBLAB_ES_LOG_H

#include <stdio.h>
#include <apr_errno.h>

typedef enum {
    WEBLAB_ES_LOG_ERROR,
    WEBLAB_ES_LOG_WARN,
    WEBLAB_ES_LOG_NOTICE,   /* start-up and shut-down; always written */
    WEBLAB_ES_LOG_INFO      /* one line per call; only with --verbose */
} weblab_es_log_level_e;

typedef struct weblab_es_log_t {
    FILE *fp;               /* stderr or the opened file */
    const char *path;       /* NULL for stderr */
    int verbose;            /* write WEBLAB_ES_LOG_INFO lines */
} weblab_es_log_t;

/* Open path for appending (NULL: stderr). On failure returns the errno as an
 * apr_status_t and leaves log on stderr. */
apr_status_t weblab_es_log_open(weblab_es_log_t *log, const char *path,
                                int verbose);

/* Reopen the file (after log rotation, on SIGHUP); no-op on stderr. */
apr_status_t weblab_es_log_reopen(weblab_es_log_t *log);

/* Close the file if it is not stderr. */
void weblab_es_log_close(weblab_es_log_t *log);

/* Write one line; rv != APR_SUCCESS appends ": (rv) <text>". */
void weblab_es_log(weblab_es_log_t *log, weblab_es_log_level_e level,
                   apr_status_t rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
