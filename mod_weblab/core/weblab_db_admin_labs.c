/* Experiments (types), their client parameters, lab instances and the uses
 * log, as the sysadmin sees them. */
#include "weblab_db_admin_private.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>

static apr_status_t check_param(weblab_db_admin_t *adm,
                                const weblab_client_param_t *cp)
{
    static const char *const types[] = {
        "string", "integer", "floating", "bool", NULL
    };
    int i;

    if (!cp->name || !*cp->name || strlen(cp->name) > 255 || !cp->value
        || strlen(cp->value) > 600) {
        return weblab_dbadm_fail(adm, APR_EINVAL, "a client parameter needs "
                                 "a name (up to 255 characters) and a value "
                                 "(up to 600)");
    }
    for (i = 0; types[i]; i++) {
        if (cp->type && !strcmp(cp->type, types[i])) {
            return APR_SUCCESS;
        }
    }
    return weblab_dbadm_fail(adm, APR_EINVAL, "client parameter '%s': the "
                             "type must be string, integer, floating or bool",
                             cp->name);
}

apr_status_t weblab_db_admin_experiment_add(
    weblab_db_admin_t *adm, const weblab_db_admin_experiment_spec_t *e)
{
    const char *client = e->client ? e->client : "js";
    apr_time_t now = apr_time_now();
    const char *start = e->start_date ? e->start_date
                                      : weblab_db_admin_date(now, 0, adm->pool);
    const char *end = e->end_date ? e->end_date
                                  : weblab_db_admin_date(now, 12, adm->pool);
    weblab_sql_rows_t *rows;
    apr_int64_t cat_id, exp_id, dummy;
    apr_status_t rv;
    int i, nparams = e->params ? e->params->nelts : 0;

    if ((rv = weblab_dbadm_check(adm, "experiment", e->exp_name))
        != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "category", e->cat_name))
           != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "client", client)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < nparams; i++) {
        rv = check_param(adm, &APR_ARRAY_IDX(e->params, i,
                                             weblab_client_param_t));
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if ((rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    if (weblab_dbadm_experiment_id(adm, &dummy, e->exp_name, e->cat_name)
        == APR_SUCCESS) {
        rv = weblab_dbadm_fail(adm, APR_EEXIST, "experiment '%s@%s' already "
                               "exists", e->exp_name, e->cat_name);
        goto end;
    }
    rv = weblab_sql_select(adm->c, &rows, adm->pool,
                           "SELECT id FROM ExperimentCategory WHERE name = ?",
                           "s", e->cat_name);
    if (rv == APR_SUCCESS && weblab_sql_next(rows)) {
        cat_id = weblab_sql_int(rows, 0);
    }
    else if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO ExperimentCategory (name)"
                             " VALUES (?)", "s", e->cat_name);
        cat_id = weblab_sql_last_id(adm->c);
    }
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO Experiment (name, category_id,"
                             " start_date, end_date, client)"
                             " VALUES (?, ?, ?, ?, ?)", "sisss", e->exp_name,
                             cat_id, start, end, client);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "adding the experiment");
        goto end;
    }
    exp_id = weblab_sql_last_id(adm->c);
    for (i = 0; i < nparams && rv == APR_SUCCESS; i++) {
        const weblab_client_param_t *cp =
            &APR_ARRAY_IDX(e->params, i, weblab_client_param_t);

        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO ExperimentClientParameter"
                             " (experiment_id, parameter_name, parameter_type,"
                             " value) VALUES (?, ?, ?, ?)", "isss", exp_id,
                             cp->name, cp->type, cp->value);
        if (rv != APR_SUCCESS) {
            rv = weblab_sql_is_constraint(adm->c)
                ? weblab_dbadm_fail(adm, APR_EEXIST, "client parameter '%s' "
                                    "given twice", cp->name)
                : weblab_dbadm_sql_fail(adm, rv, "adding a client "
                                        "parameter");
        }
    }
end:
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_experiment_remove(weblab_db_admin_t *adm,
                                               const char *exp_name,
                                               const char *cat_name)
{
    static const char *const deletes[] = {
        "DELETE FROM ExperimentClientParameter WHERE experiment_id = ?",
        "DELETE FROM ExperimentInstanceChecker WHERE instance_id IN"
        " (SELECT id FROM ExperimentInstance WHERE experiment_id = ?)",
        "DELETE FROM ExperimentInstance WHERE experiment_id = ?",
        "DELETE FROM Experiment WHERE id = ?",
        NULL
    };
    static const char *const perm_tables[][2] = {
        { "UserPermission", "UserPermissionParameter" },
        { "GroupPermission", "GroupPermissionParameter" },
        { "RolePermission", "RolePermissionParameter" },
    };
    apr_int64_t id, uses;
    apr_status_t rv;
    int i;

    if ((rv = weblab_dbadm_check(adm, "experiment", exp_name)) != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "category", cat_name))
           != APR_SUCCESS
        || (rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_experiment_id(adm, &id, exp_name, cat_name))
        != APR_SUCCESS
        || (rv = weblab_dbadm_count(adm, &uses,
                                    "SELECT COUNT(*) FROM UserUsedExperiment"
                                    " WHERE experiment_id = ?", id))
           != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    if (uses > 0) {
        rv = weblab_dbadm_fail(adm, APR_EBUSY, "experiment '%s@%s' has %ld "
                               "uses in the log, which are kept", exp_name,
                               cat_name, (long)uses);
        return weblab_dbadm_txn_end(adm, rv);
    }
    /* experiment_allowed permissions that name it */
    for (i = 0; i < 3 && rv == APR_SUCCESS; i++) {
        const char *ids = apr_psprintf(
            adm->pool,
            "SELECT a.permission_id FROM %s a JOIN %s b"
            " ON b.permission_id = a.permission_id"
            " AND b.permission_type_parameter = 'experiment_category_id'"
            " WHERE a.permission_type_parameter = 'experiment_permanent_id'"
            " AND a.value = ? AND b.value = ?",
            perm_tables[i][1], perm_tables[i][1]);

        rv = weblab_sql_exec(adm->c, NULL,
                             apr_psprintf(adm->pool, "DELETE FROM %s WHERE"
                                          " permission_type ="
                                          " 'experiment_allowed' AND id IN"
                                          " (%s)", perm_tables[i][0], ids),
                             "ss", exp_name, cat_name);
        if (rv == APR_SUCCESS) {
            rv = weblab_sql_exec(adm->c, NULL,
                                 apr_psprintf(adm->pool, "DELETE FROM %s"
                                              " WHERE permission_id NOT IN"
                                              " (SELECT id FROM %s)",
                                              perm_tables[i][1],
                                              perm_tables[i][0]), NULL);
        }
    }
    for (i = 0; deletes[i] && rv == APR_SUCCESS; i++) {
        rv = weblab_sql_exec(adm->c, NULL, deletes[i], "i", id);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "removing the experiment");
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_experiment_list(weblab_db_admin_t *adm,
                                             apr_array_header_t **exps,
                                             apr_pool_t *p)
{
    weblab_sql_rows_t *rows, *prows;
    apr_hash_t *by_id = apr_hash_make(p);
    apr_status_t rv;

    rv = weblab_sql_select(adm->c, &rows, p,
                           "SELECT e.id, e.name, c.name, e.start_date,"
                           " e.end_date, e.client,"
                           " (SELECT COUNT(*) FROM ExperimentInstance i"
                           "  WHERE i.experiment_id = e.id)"
                           " FROM Experiment e"
                           " JOIN ExperimentCategory c ON c.id = e.category_id"
                           " ORDER BY c.name, e.name", NULL);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(adm->c, &prows, p,
                               "SELECT experiment_id, parameter_name,"
                               " parameter_type, value"
                               " FROM ExperimentClientParameter"
                               " ORDER BY experiment_id, parameter_name",
                               NULL);
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "listing experiments");
    }
    *exps = apr_array_make(p, rows->nrows + 1,
                           sizeof(weblab_db_admin_experiment_t));
    while (weblab_sql_next(rows)) {
        weblab_db_admin_experiment_t *x = apr_array_push(*exps);

        x->exp.id = weblab_sql_int(rows, 0);
        x->exp.name = weblab_sql_str(rows, 1);
        x->exp.category = weblab_sql_str(rows, 2);
        x->exp.start_date = weblab_sql_str(rows, 3);
        x->exp.end_date = weblab_sql_str(rows, 4);
        x->exp.client = weblab_sql_str(rows, 5);
        x->instances = (int)weblab_sql_int(rows, 6);
        x->exp.params = apr_array_make(p, 2, sizeof(weblab_client_param_t));
        apr_hash_set(by_id, weblab_sql_str(rows, 0), APR_HASH_KEY_STRING,
                     x->exp.params);
    }
    while (weblab_sql_next(prows)) {
        apr_array_header_t *params = apr_hash_get(by_id,
                                                  weblab_sql_str(prows, 0),
                                                  APR_HASH_KEY_STRING);

        if (params) {
            weblab_client_param_t *cp = apr_array_push(params);

            cp->name = weblab_sql_str(prows, 1);
            cp->type = weblab_sql_str(prows, 2);
            cp->value = weblab_sql_str(prows, 3);
        }
    }
    return APR_SUCCESS;
}

/* ---- lab instances ---- */

static const char *or_default(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

apr_status_t weblab_db_admin_instance_add(weblab_db_admin_t *adm,
                                          const weblab_instance_def_t *d)
{
    const char *transport = or_default(d->transport, "xmlrpc");
    const char *api = d->api ? d->api : "";
    const char *rinst = or_default(d->resource_instance, d->instance_name);
    const char *rtype = or_default(d->resource_type,
                                   apr_pstrcat(adm->pool,
                                               d->exp_name ? d->exp_name : "",
                                               "_queue", NULL));
    apr_int64_t exp_id;
    apr_status_t rv;

    if ((rv = weblab_dbadm_check(adm, "experiment", d->exp_name))
        != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "category", d->cat_name))
           != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "instance", d->instance_name))
           != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "resource",
                                    apr_pstrcat(adm->pool, rinst, "@", rtype,
                                                NULL))) != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "transport", transport))
           != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "api", api)) != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "url", d->url)) != APR_SUCCESS) {
        return rv;
    }
    if ((d->auth_user && strlen(d->auth_user) > 255)
        || (d->auth_password && strlen(d->auth_password) > 255)) {
        return weblab_dbadm_fail(adm, APR_EINVAL, "the lab credentials are "
                                 "longer than 255 characters");
    }
    if ((rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_dbadm_experiment_id(adm, &exp_id, d->exp_name, d->cat_name);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO ExperimentInstance (experiment_id,"
                             " instance_name, resource_type,"
                             " resource_instance, transport, url, api,"
                             " auth_user, auth_password, manages_polling)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             "issssssssi", exp_id, d->instance_name, rtype,
                             rinst, transport, d->url, api,
                             d->auth_user ? d->auth_user : "",
                             d->auth_password ? d->auth_password : "",
                             (apr_int64_t)(d->manages_polling ? 1 : 0));
        if (rv != APR_SUCCESS) {
            rv = weblab_sql_is_constraint(adm->c)
                ? weblab_dbadm_fail(adm, APR_EEXIST, "instance '%s' of "
                                    "%s@%s already exists", d->instance_name,
                                    d->exp_name, d->cat_name)
                : weblab_dbadm_sql_fail(adm, rv, "adding the instance");
        }
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_instance_remove(weblab_db_admin_t *adm,
                                             const char *exp_name,
                                             const char *cat_name,
                                             const char *instance_name)
{
    apr_int64_t exp_id;
    apr_status_t rv;
    int changes = 0;

    if ((rv = weblab_dbadm_check(adm, "experiment", exp_name)) != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "category", cat_name))
           != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "instance", instance_name))
           != APR_SUCCESS
        || (rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_dbadm_experiment_id(adm, &exp_id, exp_name, cat_name);
    if (rv == APR_SUCCESS) {
        /* MySQL may not cascade a column's REFERENCES: delete them here */
        rv = weblab_sql_exec(adm->c, NULL,
                             "DELETE FROM ExperimentInstanceChecker WHERE"
                             " instance_id IN (SELECT id FROM"
                             " ExperimentInstance WHERE experiment_id = ?"
                             " AND instance_name = ?)",
                             "is", exp_id, instance_name);
    }
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(adm->c, &changes,
                             "DELETE FROM ExperimentInstance WHERE"
                             " experiment_id = ? AND instance_name = ?",
                             "is", exp_id, instance_name);
        if (rv != APR_SUCCESS) {
            rv = weblab_dbadm_sql_fail(adm, rv, "removing the instance");
        }
        else if (changes == 0) {
            rv = weblab_dbadm_fail(adm, APR_ENOENT, "unknown instance '%s' "
                                   "of %s@%s", instance_name, exp_name,
                                   cat_name);
        }
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_instance_list(weblab_db_admin_t *adm,
                                           apr_array_header_t **defs,
                                           apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_status_t rv;

    rv = weblab_sql_select(adm->c, &rows, p,
                           "SELECT e.name, c.name, i.instance_name,"
                           " i.resource_type, i.resource_instance,"
                           " i.transport, i.url, i.api, i.auth_user,"
                           " i.auth_password, i.manages_polling"
                           " FROM ExperimentInstance i"
                           " JOIN Experiment e ON e.id = i.experiment_id"
                           " JOIN ExperimentCategory c ON c.id = e.category_id"
                           " ORDER BY c.name, e.name, i.instance_name", NULL);
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "listing instances");
    }
    *defs = apr_array_make(p, rows->nrows + 1, sizeof(weblab_instance_def_t));
    while (weblab_sql_next(rows)) {
        weblab_instance_def_t *d = apr_array_push(*defs);

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
        d->manages_polling = (int)weblab_sql_int(rows, 10);
    }
    return APR_SUCCESS;
}

static apr_status_t check_checkers(weblab_db_admin_t *adm,
                                   const apr_array_header_t *checkers)
{
    int n = checkers ? checkers->nelts : 0;
    int i, j;

    if (n > WEBLAB_DB_ADMIN_CHECKERS_MAX) {
        return weblab_dbadm_fail(adm, APR_EINVAL, "an instance has at most "
                                 "%d checkers", WEBLAB_DB_ADMIN_CHECKERS_MAX);
    }
    for (i = 0; i < n; i++) {
        const weblab_checker_t *c =
            &APR_ARRAY_IDX(checkers, i, weblab_checker_t);
        const char *why = weblab_checker_problem(c, adm->pool);

        if (why) {
            return weblab_dbadm_fail(adm, APR_EINVAL, "%s", why);
        }
        for (j = 0; j < i; j++) {
            const weblab_checker_t *o =
                &APR_ARRAY_IDX(checkers, j, weblab_checker_t);

            if (!strcmp(o->type, c->type) && !strcmp(o->target, c->target)) {
                return weblab_dbadm_fail(adm, APR_EEXIST, "the %s check '%s' "
                                         "is given twice", c->type,
                                         c->target);
            }
        }
    }
    return APR_SUCCESS;
}

apr_status_t weblab_db_admin_instance_set_checkers(
    weblab_db_admin_t *adm, const char *exp_name, const char *cat_name,
    const char *instance_name, const apr_array_header_t *checkers)
{
    weblab_sql_rows_t *rows;
    apr_int64_t exp_id, inst_id = 0;
    apr_status_t rv;
    int i;

    if ((rv = weblab_dbadm_check(adm, "experiment", exp_name)) != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "category", cat_name))
           != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "instance", instance_name))
           != APR_SUCCESS
        || (rv = check_checkers(adm, checkers)) != APR_SUCCESS
        || (rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_dbadm_experiment_id(adm, &exp_id, exp_name, cat_name);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(adm->c, &rows, adm->pool,
                               "SELECT id FROM ExperimentInstance WHERE"
                               " experiment_id = ? AND instance_name = ?",
                               "is", exp_id, instance_name);
        if (rv != APR_SUCCESS) {
            rv = weblab_dbadm_sql_fail(adm, rv, "finding the instance");
        }
        else if (weblab_sql_next(rows)) {
            inst_id = weblab_sql_int(rows, 0);
        }
        else {
            rv = weblab_dbadm_fail(adm, APR_ENOENT, "unknown instance '%s' "
                                   "of %s@%s", instance_name, exp_name,
                                   cat_name);
        }
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    rv = weblab_sql_exec(adm->c, NULL,
                         "DELETE FROM ExperimentInstanceChecker"
                         " WHERE instance_id = ?", "i", inst_id);
    for (i = 0; rv == APR_SUCCESS && checkers && i < checkers->nelts; i++) {
        const weblab_checker_t *c =
            &APR_ARRAY_IDX(checkers, i, weblab_checker_t);

        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO ExperimentInstanceChecker"
                             " (instance_id, checker_type, target, timeout)"
                             " VALUES (?, ?, ?, ?)", "issd", inst_id,
                             c->type, c->target, c->timeout);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "setting the checkers");
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_instance_checkers(weblab_db_admin_t *adm,
                                               apr_array_header_t **checkers,
                                               apr_pool_t *p)
{
    apr_status_t rv = weblab_db_instance_checkers(checkers, adm->c, p);

    return rv == APR_SUCCESS
        ? rv : weblab_dbadm_sql_fail(adm, rv, "listing the checkers");
}

/* ---- uses ---- */

#define USES_SELECT \
    "SELECT u.id, us.login, e.name, c.name, u.start_date, u.end_date," \
    " u.origin, u.coord_address, u.reservation_id, u.finish_reason," \
    " (SELECT COUNT(*) FROM UserCommand uc WHERE uc.experiment_use_id = u.id" \
    "  AND uc.command NOT LIKE '@@@%'), " \
    " (SELECT COUNT(*) FROM UserFile uf WHERE uf.experiment_use_id = u.id)" \
    " FROM UserUsedExperiment u" \
    " JOIN \"User\" us ON us.id = u.user_id" \
    " JOIN Experiment e ON e.id = u.experiment_id" \
    " JOIN ExperimentCategory c ON c.id = e.category_id"

apr_status_t weblab_db_admin_uses(weblab_db_admin_t *adm,
                                  apr_array_header_t **uses,
                                  const char *login, int limit,
                                  apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_int64_t uid = 0;
    apr_status_t rv;

    if (login && (rv = weblab_dbadm_user_id(adm, &uid, login))
                 != APR_SUCCESS) {
        return rv;
    }
    if (login && limit > 0) {
        rv = weblab_sql_select(adm->c, &rows, p,
                               USES_SELECT " WHERE u.user_id = ?"
                               " ORDER BY u.id DESC LIMIT ?", "ii", uid,
                               (apr_int64_t)limit);
    }
    else if (login) {
        rv = weblab_sql_select(adm->c, &rows, p,
                               USES_SELECT " WHERE u.user_id = ?"
                               " ORDER BY u.id DESC", "i", uid);
    }
    else if (limit > 0) {
        rv = weblab_sql_select(adm->c, &rows, p,
                               USES_SELECT " ORDER BY u.id DESC LIMIT ?", "i",
                               (apr_int64_t)limit);
    }
    else {
        rv = weblab_sql_select(adm->c, &rows, p,
                               USES_SELECT " ORDER BY u.id DESC", NULL);
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "reading the uses log");
    }
    *uses = apr_array_make(p, rows->nrows + 1, sizeof(weblab_db_admin_use_t));
    while (weblab_sql_next(rows)) {
        weblab_db_admin_use_t *u = apr_array_push(*uses);

        u->id = weblab_sql_int(rows, 0);
        u->login = weblab_sql_str(rows, 1);
        u->exp_name = weblab_sql_str(rows, 2);
        u->cat_name = weblab_sql_str(rows, 3);
        u->start_date = weblab_sql_str(rows, 4);
        u->end_date = weblab_sql_str(rows, 5);
        u->origin = weblab_sql_str(rows, 6);
        u->coord_address = weblab_sql_str(rows, 7);
        u->reservation_id = weblab_sql_str(rows, 8);
        u->finish_reason = weblab_sql_str(rows, 9);
        u->commands = weblab_sql_int(rows, 10);
        u->files = weblab_sql_int(rows, 11);
    }
    return APR_SUCCESS;
}
