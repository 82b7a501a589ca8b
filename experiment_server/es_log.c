/* Logging of experiment_server; see es_log.h. */
#include "es_log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>
#include <unistd.h>
#include <apr_general.h>

static FILE *open_append(const char *path)
{
    FILE *fp = fopen(path, "ae");   /* O_APPEND | O_CLOEXEC */
    if (fp) {
        setvbuf(fp, NULL, _IOLBF, 0);
    }
    return fp;
}

apr_status_t weblab_es_log_open(weblab_es_log_t *log, const char *path,
                                int verbose)
{
    log->fp = stderr;
    log->path = NULL;
    log->verbose = verbose;
    if (path) {
        FILE *fp = open_append(path);
        if (!fp) {
            return APR_FROM_OS_ERROR(errno);
        }
        log->fp = fp;
        log->path = path;
    }
    return APR_SUCCESS;
}

apr_status_t weblab_es_log_reopen(weblab_es_log_t *log)
{
    if (!log->path) {
        return APR_SUCCESS;
    }
    FILE *fp = open_append(log->path);
    if (!fp) {
        return APR_FROM_OS_ERROR(errno);
    }
    fclose(log->fp);
    log->fp = fp;
    return APR_SUCCESS;
}

void weblab_es_log_close(weblab_es_log_t *log)
{
    if (log->path && log->fp) {
        fclose(log->fp);
    }
    log->fp = stderr;
    log->path = NULL;
}

void weblab_es_log(weblab_es_log_t *log, weblab_es_log_level_e level,
                   apr_status_t rv, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warn", "notice", "info" };
    char when[32], msg[1024], err[256];
    struct timeval tv;
    struct tm tm;
    va_list ap;

    if (level == WEBLAB_ES_LOG_INFO && !log->verbose) {
        return;
    }
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (rv != APR_SUCCESS) {
        fprintf(log->fp, "[%s.%03ld] [%s] [pid %ld] %s: (%d) %s\n", when,
                (long)tv.tv_usec / 1000, names[level], (long)getpid(), msg,
                rv, apr_strerror(rv, err, sizeof(err)));
    }
    else {
        fprintf(log->fp, "[%s.%03ld] [%s] [pid %ld] %s\n", when,
                (long)tv.tv_usec / 1000, names[level], (long)getpid(), msg);
    }
}
