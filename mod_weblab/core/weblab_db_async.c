#include "weblab_db_async.h"
#include "weblab_db.h"

#include <string.h>
#include <apr_strings.h>

/* Unreported outcomes are kept this long past their deadline: a client
 * that never asks does not make the table grow. */
#define KEEP_UNREPORTED 86400.0

apr_status_t weblab_db_async_begin(weblab_async_log_t *log, weblab_sql_t *c,
                                   const char *request_id, apr_int64_t use_id,
                                   const char *command, const char *file_b64,
                                   const char *file_info, double now,
                                   double deadline, apr_pool_t *p)
{
    apr_status_t rv = weblab_sql_begin(c, 1);

    memset(log, 0, sizeof(*log));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_exec(c, NULL,
                         "DELETE FROM AsyncCommandStatus WHERE deadline < ?", "d",
                         now - KEEP_UNREPORTED);
    if (rv == APR_SUCCESS) {
        log->is_file = command == NULL;
        rv = command
            ? weblab_db_use_command(c, use_id, command, NULL, now, 0)
            : weblab_db_use_file(c, use_id, file_b64, file_info, NULL, now,
                                 0, p);
        log->row_id = weblab_sql_last_id(c);
    }
    if (rv == APR_SUCCESS) {
        /* no response yet: timestamp_after stays NULL until finish */
        rv = weblab_sql_exec(c, NULL, log->is_file
                             ? "UPDATE UserFile SET timestamp_after = NULL"
                               " WHERE id = ?"
                             : "UPDATE UserCommand SET timestamp_after = NULL"
                               " WHERE id = ?", "i", log->row_id);
    }
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(c, NULL,
                             "INSERT INTO AsyncCommandStatus (id, experiment_use_id,"
                             " status, response, deadline)"
                             " VALUES (?, ?, 'running', NULL, ?)",
                             "sid", request_id, use_id, deadline);
    }
    return weblab_sql_end(c, rv);
}

apr_status_t weblab_db_async_extend(weblab_sql_t *c, const char *request_id,
                                    double deadline)
{
    return weblab_sql_exec(c, NULL,
                           "UPDATE AsyncCommandStatus SET deadline = ?"
                           " WHERE id = ? AND status = 'running'",
                           "ds", deadline, request_id);
}

apr_status_t weblab_db_async_finish(weblab_sql_t *c, const char *request_id,
                                    const weblab_async_log_t *log, int ok,
                                    const char *text, double at)
{
    apr_status_t rv = weblab_sql_begin(c, 1);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_exec(c, NULL,
                         "UPDATE AsyncCommandStatus SET status = ?, response = ?"
                         " WHERE id = ? AND status = 'running'",
                         "sss", ok ? "ok" : "error", text ? text : "",
                         request_id);
    if (rv == APR_SUCCESS && log->row_id) {
        rv = weblab_sql_exec(c, NULL, log->is_file
                             ? "UPDATE UserFile SET response = ?,"
                               " timestamp_after = ? WHERE id = ?"
                             : "UPDATE UserCommand SET response = ?,"
                               " timestamp_after = ? WHERE id = ?",
                             "sdi", ok ? text : NULL, at, log->row_id);
    }
    return weblab_sql_end(c, rv);
}

typedef struct found_t {
    const char *id;
    weblab_async_result_t res;
    int lost;                   /* running past its deadline */
} found_t;

/* Delete what is to be reported, each row only if it is still as read:
 * the collect that deletes a row is the one that reports it. */
static apr_status_t take(apr_hash_t *out, weblab_sql_t *c,
                         apr_array_header_t *done, double now)
{
    apr_status_t rv = weblab_sql_begin(c, 1);
    int i;

    for (i = 0; rv == APR_SUCCESS && i < done->nelts; i++) {
        found_t *f = &APR_ARRAY_IDX(done, i, found_t);
        int changes = 0;

        rv = f->lost
            ? weblab_sql_exec(c, &changes,
                              "DELETE FROM AsyncCommandStatus WHERE id = ?"
                              " AND status = 'running' AND deadline < ?",
                              "sd", f->id, now)
            : weblab_sql_exec(c, &changes,
                              "DELETE FROM AsyncCommandStatus WHERE id = ?"
                              " AND status = ?", "ss", f->id, f->res.status);
        if (rv == APR_SUCCESS && changes == 1) {
            apr_hash_set(out, f->id, APR_HASH_KEY_STRING, &f->res);
        }
        else if (rv == APR_SUCCESS && f->lost) {
            /* it finished meanwhile: reported by the next collect */
            f->res.status = "running";
            f->res.response = NULL;
            apr_hash_set(out, f->id, APR_HASH_KEY_STRING, &f->res);
        }
    }
    return weblab_sql_end(c, rv);
}

apr_status_t weblab_db_async_collect(apr_hash_t **out, weblab_sql_t *c,
                                     apr_int64_t use_id, apr_hash_t *wanted,
                                     double now, apr_pool_t *p)
{
    apr_array_header_t *done = apr_array_make(p, 4, sizeof(found_t));
    weblab_sql_rows_t *rows;
    apr_status_t rv;

    *out = apr_hash_make(p);
    /* a use has few pending requests: read them all, match in memory (the
     * client's list may be long) */
    rv = weblab_sql_select(c, &rows, p,
                           "SELECT id, status, response, deadline FROM"
                           " AsyncCommandStatus WHERE experiment_use_id = ?",
                           "i", use_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (weblab_sql_next(rows)) {
        const char *id = weblab_sql_str(rows, 0);
        const char *status = weblab_sql_str(rows, 1);
        found_t *f;

        if (!id || !status || !apr_hash_get(wanted, id, APR_HASH_KEY_STRING)) {
            continue;
        }
        if (!strcmp(status, "running")
            && weblab_sql_double(rows, 3) >= now) {
            weblab_async_result_t *res = apr_pcalloc(p, sizeof(*res));

            res->status = "running";
            apr_hash_set(*out, id, APR_HASH_KEY_STRING, res);
            continue;
        }
        f = apr_array_push(done);
        f->id = id;
        f->lost = !strcmp(status, "running");
        f->res.status = f->lost ? "error" : status;
        f->res.response = f->lost ? WEBLAB_ASYNC_LOST
                                  : weblab_sql_str(rows, 2);
        if (!f->res.response) {
            f->res.response = "";
        }
    }
    return done->nelts ? take(*out, c, done, now) : APR_SUCCESS;
}
