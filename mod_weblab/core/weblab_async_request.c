#include "weblab_async_request.h"
#include "weblab_async_worker.h"
#include "weblab_db_async.h"
#include "weblab_ids.h"
#include "weblab_lifecycle.h"

#include <string.h>
#include <apr_strings.h>

/* A job that waited in the queue longer than this gets a new deadline
 * when its lab call starts (one more write; most jobs start at once). */
#define QUEUE_GRACE 1.0

/* One accepted request. Everything lives in its own pool, which the job
 * destroys when done: the request that made it is long gone by then. */
typedef struct async_job_t {
    weblab_core_t *core;
    apr_pool_t *pool;
    const char *request_id;
    const char *reservation_id;
    const char *lab_session_id;     /* the lab session it was sent for */
    const char *command;            /* NULL for a file */
    const char *file_b64;
    const char *file_info;
    weblab_async_log_t log;
    double accepted;
} async_job_t;

double weblab_async_request_span(const weblab_core_t *core)
{
    return 2 * (core->cfg.lab_connect_timeout + core->cfg.lab_timeout) + 5.0;
}

/* Write through a pooled data connection; failures are logged (the job
 * has nobody else to tell). */
static void record(async_job_t *job, int ok, const char *text,
                   double extend_to)
{
    weblab_core_t *core = job->core;
    weblab_sql_t *conn;
    apr_status_t rv = weblab_sql_acquire(core->data, &conn);

    if (rv == APR_SUCCESS) {
        rv = extend_to > 0
            ? weblab_db_async_extend(conn, job->request_id, extend_to)
            : weblab_db_async_finish(conn, job->request_id, &job->log, ok,
                                     text, weblab_now());
        weblab_sql_done(core->data, conn, rv);
    }
    if (rv != APR_SUCCESS) {
        weblab_core_log(core, WEBLAB_LOG_ERR, rv,
                        "weblab: could not record the %s of an async %s",
                        extend_to > 0 ? "start" : "outcome",
                        job->command ? "command" : "file");
    }
}

/* The reservation must still hold the lab session the request was sent
 * for: after a finish the lab may already serve someone else. */
static int still_ours(const weblab_reservation_t *r, const async_job_t *job)
{
    return r && !strcmp(r->state, "confirmed") && r->lab_session_id
           && !strcmp(r->lab_session_id, job->lab_session_id);
}

static void run_job(void *baton)
{
    async_job_t *job = baton;
    weblab_core_t *core = job->core;
    apr_pool_t *p = job->pool;
    const char *what = job->command ? "command" : "file";
    const char *resp = NULL, *errmsg = NULL, *text;
    weblab_reservation_t *r = NULL;
    double now = weblab_now();
    int called = 0;
    apr_status_t rv;

    if (now - job->accepted > QUEUE_GRACE) {
        record(job, 0, NULL, now + weblab_async_request_span(core));
    }
    rv = weblab_coord_get(core->coord, &r, job->reservation_id, p);
    if (rv != APR_SUCCESS) {
        errmsg = "the coordination backend did not answer";
    }
    else if (!still_ours(r, job)) {
        rv = APR_NOTFOUND;
        errmsg = "the reservation had ended before it could be sent";
    }
    else {
        weblab_lab_target_t t;

        called = 1;
        weblab_lifecycle_lab_target(&t, &r->lab, r->api);
        rv = job->command
            ? weblab_lab_send_command(&resp, &errmsg, core->labs, &t, r->api,
                                      r->lab_session_id, job->command, p)
            : weblab_lab_send_file(&resp, &errmsg, core->labs, &t, r->api,
                                   r->lab_session_id, job->file_b64,
                                   job->file_info, p);
    }
    if (rv == APR_SUCCESS) {
        record(job, 1, resp ? resp : "", 0);
    }
    else {
        /* As the original's laboratory server: "Couldn't send async
         * command: <the error>" in the status and nothing else, even when
         * the lab timed out; the student, who expects a long command, is
         * not moved, and a lab that is really gone is found by the health
         * checks or the next send_command. */
        text = apr_psprintf(p, "Couldn't send async %s: %s", what,
                            errmsg ? errmsg : "no answer");
        record(job, 0, text, 0);
        if (called && rv != APR_ENOTIMPL) {
            weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                            "weblab: lab %s failed an async %s: %s",
                            r->instance_name, what, errmsg ? errmsg : "");
        }
        else if (!called && rv != APR_NOTFOUND) {
            weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                            "weblab: an async %s could not be sent: %s",
                            what, errmsg);
        }
    }
    apr_pool_destroy(p);
}

apr_status_t weblab_async_request_submit(const char **request_id,
                                         weblab_core_t *core,
                                         const weblab_reservation_t *r,
                                         const char *command,
                                         const char *file_b64,
                                         const char *file_info,
                                         apr_pool_t *p)
{
    weblab_sql_t *conn;
    async_job_t *job;
    apr_pool_t *jp;
    apr_status_t rv;

    *request_id = NULL;
    if (!core->async) {
        return APR_ENOTIMPL;
    }
    if (!r->use_id || !r->lab_session_id) {
        return APR_EINVAL;
    }
    rv = weblab_async_worker_reserve(core->async);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* unmanaged: no parent shared with other threads, and it outlives
     * the request; the job destroys it */
    rv = apr_pool_create_unmanaged_ex(&jp, NULL, NULL);
    if (rv != APR_SUCCESS) {
        weblab_async_worker_unreserve(core->async);
        return rv;
    }
    job = apr_pcalloc(jp, sizeof(*job));
    job->core = core;
    job->pool = jp;
    job->request_id = weblab_ids_session_new(jp);
    job->reservation_id = apr_pstrdup(jp, r->id);
    job->lab_session_id = apr_pstrdup(jp, r->lab_session_id);
    job->command = apr_pstrdup(jp, command);
    job->file_b64 = apr_pstrdup(jp, file_b64);
    job->file_info = apr_pstrdup(jp, file_info);
    job->accepted = weblab_now();
    rv = job->request_id ? weblab_sql_acquire(core->data, &conn)
                         : APR_EGENERAL;
    if (rv == APR_SUCCESS) {
        rv = weblab_db_async_begin(&job->log, conn, job->request_id,
                                   r->use_id, command, file_b64, file_info,
                                   job->accepted, job->accepted + QUEUE_GRACE
                                   + weblab_async_request_span(core), p);
        weblab_sql_done(core->data, conn, rv);
    }
    if (rv != APR_SUCCESS) {
        weblab_async_worker_unreserve(core->async);
        apr_pool_destroy(jp);
        return rv;
    }
    *request_id = apr_pstrdup(p, job->request_id);
    rv = weblab_async_worker_run(core->async, run_job, job, jp);
    if (rv != APR_SUCCESS) {
        /* accepted but never run (out of memory): its status says so */
        weblab_core_log(core, WEBLAB_LOG_ERR, rv,
                        "weblab: could not queue an async %s",
                        command ? "command" : "file");
        record(job, 0, apr_psprintf(p, "Couldn't send async %s: the server"
                                    " could not start it",
                                    command ? "command" : "file"), 0);
        apr_pool_destroy(jp);
    }
    return APR_SUCCESS;
}
