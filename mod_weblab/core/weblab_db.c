/* The data database at run time: users, their stored credentials, the lab
 * instances and the date format every table uses. Permissions are in
 * weblab_db_permissions.c, the uses log in weblab_db_uses.c. */
#include "weblab_db.h"

#include <apr_strings.h>
#include <apr_time.h>

apr_status_t weblab_db_user_by_login(weblab_user_t **user, weblab_sql_t *c,
                                     const char *login, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    weblab_user_t *u;
    apr_status_t rv;

    *user = NULL;
    if (!login) {
        return APR_SUCCESS;
    }
    rv = weblab_sql_select(c, &rows, p,
                           "SELECT u.id, u.login, u.full_name, u.email,"
                           " r.name, u.disabled"
                           " FROM \"User\" u LEFT JOIN Role r"
                           " ON r.id = u.role_id WHERE u.login = ?",
                           "s", login);
    if (rv != APR_SUCCESS || !weblab_sql_next(rows)) {
        return rv;
    }
    u = apr_pcalloc(p, sizeof(*u));
    u->id = weblab_sql_int(rows, 0);
    u->login = weblab_sql_str(rows, 1);
    u->full_name = weblab_sql_str(rows, 2);
    u->email = weblab_sql_str(rows, 3);
    u->role = weblab_sql_str(rows, 4);
    if (!u->full_name) {
        u->full_name = "";
    }
    if (!u->email) {
        u->email = "";
    }
    if (!u->role) {             /* no role: compares equal to none */
        u->role = "";
    }
    u->disabled = weblab_sql_int(rows, 5) != 0;
    *user = u;
    return APR_SUCCESS;
}

apr_status_t weblab_db_user_passwords(apr_array_header_t **passwords,
                                      weblab_sql_t *c, apr_int64_t user_id,
                                      apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_array_header_t *out;
    apr_status_t rv;

    *passwords = NULL;
    rv = weblab_sql_select(c, &rows, p,
                           "SELECT ua.configuration FROM UserAuth ua"
                           " JOIN Auth a ON a.id = ua.auth_id"
                           " JOIN AuthType t ON t.id = a.auth_type_id"
                           " WHERE ua.user_id = ? AND t.name = 'DB'"
                           " ORDER BY a.priority, ua.id",
                           "i", user_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    out = apr_array_make(p, rows->nrows ? rows->nrows : 1,
                         sizeof(const char *));
    while (weblab_sql_next(rows)) {
        const char *conf = weblab_sql_str(rows, 0);

        if (conf && *conf) {
            APR_ARRAY_PUSH(out, const char *) = conf;
        }
    }
    *passwords = out;
    return APR_SUCCESS;
}

apr_status_t weblab_db_instances(apr_array_header_t **defs, weblab_sql_t *c,
                                 apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_array_header_t *out;
    apr_status_t rv;

    *defs = NULL;
    rv = weblab_sql_select(c, &rows, p,
                           "SELECT e.name, cat.name, i.instance_name,"
                           " i.resource_type, i.resource_instance,"
                           " i.transport, i.url, i.api, i.auth_user,"
                           " i.auth_password, i.manages_polling"
                           " FROM ExperimentInstance i"
                           " JOIN Experiment e ON e.id = i.experiment_id"
                           " JOIN ExperimentCategory cat"
                           " ON cat.id = e.category_id"
                           " ORDER BY cat.name, e.name, i.instance_name",
                           "");
    if (rv != APR_SUCCESS) {
        return rv;
    }
    out = apr_array_make(p, rows->nrows ? rows->nrows : 1,
                         sizeof(weblab_instance_def_t));
    while (weblab_sql_next(rows)) {
        weblab_instance_def_t *d = apr_array_push(out);

        d->exp_name = weblab_sql_str(rows, 0);
        d->cat_name = weblab_sql_str(rows, 1);
        d->instance_name = weblab_sql_str(rows, 2);
        d->resource_type = weblab_sql_str(rows, 3);
        d->resource_instance = weblab_sql_str(rows, 4);
        d->transport = weblab_sql_str(rows, 5);
        d->url = weblab_sql_str(rows, 6);
        d->api = weblab_sql_str(rows, 7);
        d->auth_user = weblab_sql_str(rows, 8);
        d->auth_password = weblab_sql_str(rows, 9);
        d->manages_polling = weblab_sql_int(rows, 10) != 0;
    }
    *defs = out;
    return APR_SUCCESS;
}

apr_status_t weblab_db_instance_checkers(apr_array_header_t **checkers,
                                         weblab_sql_t *c, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_array_header_t *out;
    apr_status_t rv;

    *checkers = NULL;
    rv = weblab_sql_select(c, &rows, p,
                           "SELECT e.name, cat.name, i.instance_name,"
                           " k.checker_type, k.target, k.timeout"
                           " FROM ExperimentInstanceChecker k"
                           " JOIN ExperimentInstance i ON i.id = k.instance_id"
                           " JOIN Experiment e ON e.id = i.experiment_id"
                           " JOIN ExperimentCategory cat"
                           " ON cat.id = e.category_id"
                           " ORDER BY cat.name, e.name, i.instance_name, k.id",
                           NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    out = apr_array_make(p, rows->nrows ? rows->nrows : 1,
                         sizeof(weblab_instance_checker_t));
    while (weblab_sql_next(rows)) {
        weblab_instance_checker_t *k = apr_array_push(out);

        k->exp_name = weblab_sql_str(rows, 0);
        k->cat_name = weblab_sql_str(rows, 1);
        k->instance_name = weblab_sql_str(rows, 2);
        k->check.type = weblab_sql_str(rows, 3);
        k->check.target = weblab_sql_str(rows, 4);
        k->check.timeout = weblab_sql_double(rows, 5);
    }
    *checkers = out;
    return APR_SUCCESS;
}

const char *weblab_db_iso_date(double epoch, apr_pool_t *p)
{
    apr_time_exp_t tm;
    /* Round to the microsecond: an epoch double carries ~0.2 us of noise. */
    apr_time_t t = (apr_time_t)(epoch * APR_USEC_PER_SEC
                                + (epoch < 0 ? -0.5 : 0.5));

    apr_time_exp_gmt(&tm, t);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%06d",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec, (int)tm.tm_usec);
}
