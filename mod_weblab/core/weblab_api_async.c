/* send_async_command, send_async_file, check_async_command_status (spec
 * 1.5): the request is accepted and its id answered at once; the lab call
 * runs in the background (weblab_async_request.c) and its outcome is kept
 * in the data database, so that any child of any core answers the status
 * check: "running" until the lab answered, then "ok" or "error", once. */
#include "weblab_api_private.h"
#include "weblab_async_request.h"
#include "weblab_db_async.h"

#include <string.h>

/* check-not-expired-and-poll (spec 1.5), then the reservation must hold a
 * started lab, as for send_command. */
static weblab_error_t *enabled(weblab_reservation_t **r, weblab_call_t *call)
{
    json_t *polled = NULL;
    weblab_error_t *err = weblab_m_poll(&polled, call);

    json_decref(polled);
    if (!err) {
        err = weblab_api_load_reservation(r, call);
    }
    if (!err && (strcmp((*r)->state, "confirmed")
                 || !(*r)->lab_session_id)) {
        err = weblab_error_make(call->p, WEBLAB_ERR_NO_CURRENT_RESERVATION,
                                APR_SUCCESS,
                                "Current user (identified by reservation %s)"
                                " does not have any experiment assigned: the"
                                " reservation is not enabled",
                                call->reservation_id);
    }
    return err;
}

static weblab_error_t *send_async(json_t **result, weblab_call_t *call,
                                  const char *command, const char *b64,
                                  const char *info)
{
    const char *request_id;
    weblab_reservation_t *r;
    weblab_error_t *err = enabled(&r, call);
    apr_status_t rv;

    if (err) {
        return err;
    }
    rv = weblab_async_request_submit(&request_id, call->core, r, command, b64,
                                     info, call->p);
    if (rv == APR_EAGAIN) {
        return weblab_error_make(call->p, WEBLAB_ERR_USER_PROCESSING, rv,
                                 "Too many asynchronous commands are waiting"
                                 " for their laboratories on this server;"
                                 " try again in a few seconds");
    }
    if (rv == APR_EINVAL) {
        /* the start of its use could not be logged: nowhere to keep it */
        return weblab_backend_error(call, rv, "data database");
    }
    if (rv == APR_ENOTIMPL) {
        return weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, rv,
                                 "Asynchronous commands are not available:"
                                 " this server process has no worker"
                                 " threads for them");
    }
    if (rv != APR_SUCCESS) {
        return weblab_backend_error(call, rv, "data database");
    }
    *result = json_string(request_id);
    return NULL;
}

weblab_error_t *weblab_m_send_async_command(json_t **result,
                                            weblab_call_t *call)
{
    weblab_error_t *err;
    const char *cmd = weblab_api_command_param(call, &err);

    return err ? err : send_async(result, call, cmd, NULL, NULL);
}

weblab_error_t *weblab_m_send_async_file(json_t **result, weblab_call_t *call)
{
    weblab_error_t *err;
    const char *content = weblab_param_str(call, "file_content", 0, &err);
    const char *info = err ? NULL : weblab_param_str(call, "file_info", 0,
                                                     &err);

    return err ? err : send_async(result, call, NULL, content, info);
}

/* The ids asked for, as a set; NULL when the parameter is not a list of
 * strings. */
static apr_hash_t *wanted_ids(weblab_call_t *call)
{
    json_t *ids = json_object_get(call->params, "request_identifiers");
    apr_hash_t *set = apr_hash_make(call->p);
    size_t i;

    if (!json_is_array(ids)) {
        return NULL;
    }
    for (i = 0; i < json_array_size(ids); i++) {
        json_t *v = json_array_get(ids, i);

        if (!json_is_string(v)) {
            return NULL;
        }
        apr_hash_set(set, json_string_value(v), APR_HASH_KEY_STRING, "");
    }
    return set;
}

/* A request's contents for JSON: None ({}) while running; a lab answer
 * that is not UTF-8 cannot be sent as a JSON string, so it is described. */
static json_t *contents(const char *response)
{
    json_t *s;

    if (!response) {
        return weblab_json_none();
    }
    s = json_string(response);
    return s ? s : json_string("<the laboratory's answer is not UTF-8 text>");
}

weblab_error_t *weblab_m_check_async_command_status(json_t **result,
                                                    weblab_call_t *call)
{
    apr_hash_t *wanted = wanted_ids(call), *found;
    apr_hash_index_t *hi;
    weblab_reservation_t *r;
    weblab_sql_t *conn;
    weblab_error_t *err;
    apr_status_t rv;
    json_t *out;

    if (!wanted) {
        return weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                 "Parameter 'request_identifiers' must be a"
                                 " list of strings");
    }
    if ((err = enabled(&r, call)) || (err = weblab_call_data(&conn, call))) {
        return err;
    }
    rv = weblab_db_async_collect(&found, conn, r->use_id, wanted,
                                 weblab_now(), call->p);
    if (rv != APR_SUCCESS) {
        weblab_sql_invalidate(call->core->data, conn);
        return weblab_backend_error(call, rv, "data database");
    }
    weblab_sql_release(call->core->data, conn);
    out = json_object();
    for (hi = apr_hash_first(call->p, found); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        const weblab_async_result_t *res;

        apr_hash_this(hi, &key, NULL, &val);
        res = val;
        /* (status, contents); a running request's contents are None,
         * which the original serializes as {} (spec 1.2) */
        json_object_set_new(out, key, json_pack("[so]", res->status,
                                                contents(res->response)));
    }
    *result = out;
    return NULL;
}
