#include "weblab_db_async.h"

#include <apr_strings.h>

apr_status_t weblab_db_async_store(weblab_sql_t *c, apr_int64_t use_id,
                                   const char *request_id, int ok,
                                   const char *response)
{
    apr_status_t rv = weblab_sql_begin(c, 1);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_exec(c, NULL,
        "INSERT INTO AsyncRequest (id, experiment_use_id, status, response)"
        " VALUES (?, ?, ?, ?)",
        "siss", request_id, use_id, ok ? "ok" : "error",
        response ? response : "");
    if (rv != APR_SUCCESS) {
        weblab_sql_rollback(c);
        return rv;
    }
    return weblab_sql_commit(c);
}

apr_status_t weblab_db_async_collect(apr_hash_t **out, weblab_sql_t *c,
                                     apr_int64_t use_id,
                                     const apr_array_header_t *ids,
                                     apr_pool_t *p)
{
    apr_status_t rv;
    int i;

    *out = apr_hash_make(p);
    rv = weblab_sql_begin(c, 1);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < ids->nelts && rv == APR_SUCCESS; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        weblab_sql_rows_t *rows;

        rv = weblab_sql_select(c, &rows, p,
            "SELECT status, response FROM AsyncRequest WHERE id = ?"
            " AND experiment_use_id = ? AND reported = 0", "si", id, use_id);
        if (rv == APR_SUCCESS && weblab_sql_next(rows)) {
            weblab_async_result_t *res = apr_pcalloc(p, sizeof(*res));

            res->status = weblab_sql_str(rows, 0);
            res->response = weblab_sql_str(rows, 1);
            apr_hash_set(*out, id, APR_HASH_KEY_STRING, res);
            rv = weblab_sql_exec(c, NULL,
                "UPDATE AsyncRequest SET reported = 1 WHERE id = ?", "s", id);
        }
    }
    if (rv != APR_SUCCESS) {
        weblab_sql_rollback(c);
        return rv;
    }
    return weblab_sql_commit(c);
}
