/* send_async_command, send_async_file, check_async_command_status (spec
 * 1.5). The lab is called within the send request (bounded by the lab
 * timeouts) and the outcome kept in the data database under a request id,
 * so that any child of any core can answer the later status check: the
 * client sees the original's protocol; it never sees "running", because the
 * answer is there by the time it asks. */
#include "weblab_api_private.h"
#include "weblab_db_async.h"
#include "weblab_ids.h"

static weblab_error_t *send_async(json_t **result, weblab_call_t *call,
                                  const char *command, const char *b64,
                                  const char *info)
{
    const char *resp, *errmsg, *request_id;
    apr_int64_t use_id = 0;
    weblab_sql_t *conn;
    weblab_error_t *err = weblab_api_to_lab(&resp, &errmsg, &use_id, call,
                                            command, b64, info, 0);
    apr_status_t rv;

    if (err) {
        return err;
    }
    request_id = weblab_ids_session_new(call->p);
    if ((err = weblab_call_data(&conn, call))) {
        return err;
    }
    rv = weblab_db_async_store(conn, use_id, request_id, resp != NULL,
                               resp ? resp : errmsg);
    if (rv != APR_SUCCESS) {
        weblab_sql_invalidate(call->core->data, conn);
        return weblab_backend_error(call, rv, "data database");
    }
    weblab_sql_release(call->core->data, conn);
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

weblab_error_t *weblab_m_check_async_command_status(json_t **result,
                                                    weblab_call_t *call)
{
    json_t *ids = json_object_get(call->params, "request_identifiers");
    weblab_reservation_t *r;
    apr_array_header_t *list;
    apr_hash_t *found;
    apr_hash_index_t *hi;
    weblab_sql_t *conn;
    weblab_error_t *err;
    apr_status_t rv;
    json_t *out;
    size_t i;

    if (!json_is_array(ids)) {
        return weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                 "Parameter 'request_identifiers' must be a"
                                 " list of strings");
    }
    list = apr_array_make(call->p, (int)json_array_size(ids) + 1,
                          sizeof(const char *));
    for (i = 0; i < json_array_size(ids); i++) {
        json_t *v = json_array_get(ids, i);

        if (json_is_string(v)) {
            APR_ARRAY_PUSH(list, const char *) = json_string_value(v);
        }
    }
    if ((err = weblab_api_load_reservation(&r, call))) {
        return err;
    }
    if ((err = weblab_call_data(&conn, call))) {
        return err;
    }
    rv = weblab_db_async_collect(&found, conn, r->use_id, list, call->p);
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
        json_object_set_new(out, key, json_pack("[ss]", res->status,
                                                res->response
                                                ? res->response : ""));
    }
    *result = out;
    return NULL;
}
