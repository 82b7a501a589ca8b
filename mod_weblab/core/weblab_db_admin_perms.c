/* Permissions (spec 5.2): <Scope>Permission rows with their parameters, for
 * users, groups and roles. weblab-admin grants experiment_allowed; listing
 * shows every type. */
#include "weblab_db_admin_private.h"

#include <math.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>

/* Table and column names per scope: constants, never user input. */
typedef struct {
    const char *perm;           /* UserPermission */
    const char *param;          /* UserPermissionParameter */
    const char *holder_col;     /* user_id */
    const char *holder_table;   /* "User" */
    const char *holder_name;    /* login */
} scope_sql_t;

static const scope_sql_t scopes[] = {
    { "UserPermission", "UserPermissionParameter", "user_id", "\"User\"",
      "login" },
    { "GroupPermission", "GroupPermissionParameter", "group_id", "\"Group\"",
      "name" },
    { "RolePermission", "RolePermissionParameter", "role_id", "Role",
      "name" },
};

static apr_status_t holder_id(weblab_db_admin_t *adm, apr_int64_t *id,
                              weblab_db_admin_scope_e scope, const char *who)
{
    switch (scope) {
    case WEBLAB_DB_ADMIN_USER:
        return weblab_dbadm_user_id(adm, id, who);
    case WEBLAB_DB_ADMIN_GROUP:
        return weblab_dbadm_group_id(adm, id, who);
    default:
        return weblab_dbadm_role_id(adm, id, who);
    }
}

/* Ids of the holder's experiment_allowed permissions for exp@cat. */
static apr_status_t find_allowed(weblab_db_admin_t *adm,
                                 apr_array_header_t **ids,
                                 weblab_db_admin_scope_e scope,
                                 apr_int64_t holder, const char *exp,
                                 const char *cat)
{
    const scope_sql_t *s = &scopes[scope];
    weblab_sql_rows_t *rows;
    apr_status_t rv;
    const char *sql = apr_psprintf(
        adm->pool,
        "SELECT p.id FROM %s p"
        " JOIN %s a ON a.permission_id = p.id"
        "  AND a.permission_type_parameter = 'experiment_permanent_id'"
        " JOIN %s b ON b.permission_id = p.id"
        "  AND b.permission_type_parameter = 'experiment_category_id'"
        " WHERE p.%s = ? AND p.permission_type = 'experiment_allowed'"
        "  AND a.value = ? AND b.value = ? ORDER BY p.id",
        s->perm, s->param, s->param, s->holder_col);

    rv = weblab_sql_select(adm->c, &rows, adm->pool, sql, "iss", holder, exp,
                           cat);
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "looking up permissions");
    }
    *ids = apr_array_make(adm->pool, rows->nrows + 1, sizeof(apr_int64_t));
    while (weblab_sql_next(rows)) {
        APR_ARRAY_PUSH(*ids, apr_int64_t) = weblab_sql_int(rows, 0);
    }
    return APR_SUCCESS;
}

static apr_status_t set_param(weblab_db_admin_t *adm,
                              weblab_db_admin_scope_e scope, apr_int64_t id,
                              const char *name, const char *value)
{
    const scope_sql_t *s = &scopes[scope];
    apr_status_t rv;

    rv = weblab_sql_exec(adm->c, NULL,
                         apr_psprintf(adm->pool, "DELETE FROM %s WHERE"
                                      " permission_id = ? AND"
                                      " permission_type_parameter = ?",
                                      s->param),
                         "is", id, name);
    if (rv == APR_SUCCESS && value) {
        rv = weblab_sql_exec(adm->c, NULL,
                             apr_psprintf(adm->pool, "INSERT INTO %s"
                                          " (permission_id,"
                                          " permission_type_parameter, value)"
                                          " VALUES (?, ?, ?)", s->param),
                             "iss", id, name, value);
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "storing a permission "
                                     "parameter");
    }
    return APR_SUCCESS;
}

static const char *permanent_id(weblab_db_admin_t *adm,
                                const weblab_db_admin_grant_t *g)
{
    switch (g->scope) {
    case WEBLAB_DB_ADMIN_USER:
        return apr_psprintf(adm->pool, "%s::%s@%s", g->who, g->exp_name,
                            g->cat_name);
    case WEBLAB_DB_ADMIN_GROUP:
        return apr_psprintf(adm->pool, "%s users::%s@%s", g->who,
                            g->exp_name, g->cat_name);
    default:
        return apr_psprintf(adm->pool, "%s_role::%s@%s", g->who, g->exp_name,
                            g->cat_name);
    }
}

static apr_status_t check_grant(weblab_db_admin_t *adm,
                                const weblab_db_admin_grant_t *g)
{
    static const char *const kinds[] = { "login", "group", "role" };
    apr_status_t rv;

    if ((rv = weblab_dbadm_check(adm, kinds[g->scope], g->who))
        != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "experiment", g->exp_name))
           != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "category", g->cat_name))
           != APR_SUCCESS) {
        return rv;
    }
    if (!(g->time_allowed > 0) || !isfinite(g->time_allowed)) {
        return weblab_dbadm_fail(adm, APR_EINVAL, "the time allowed must be "
                                 "a positive number of seconds");
    }
    return APR_SUCCESS;
}

apr_status_t weblab_db_admin_grant(weblab_db_admin_t *adm, int *updated,
                                   const weblab_db_admin_grant_t *g)
{
    const scope_sql_t *s = &scopes[g->scope];
    const char *time_s = apr_psprintf(adm->pool, "%.15g", g->time_allowed);
    apr_array_header_t *ids;
    apr_int64_t holder, exp_id, id;
    apr_status_t rv;

    if (updated) {
        *updated = 0;
    }
    if ((rv = check_grant(adm, g)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = holder_id(adm, &holder, g->scope, g->who)) != APR_SUCCESS
        || (rv = weblab_dbadm_experiment_id(adm, &exp_id, g->exp_name,
                                            g->cat_name)) != APR_SUCCESS
        || (rv = find_allowed(adm, &ids, g->scope, holder, g->exp_name,
                              g->cat_name)) != APR_SUCCESS) {
        goto end;
    }
    if (ids->nelts > 0) {
        id = APR_ARRAY_IDX(ids, 0, apr_int64_t);
        if (updated) {
            *updated = 1;
        }
    }
    else {
        const char *pid = permanent_id(adm, g);
        const char *comments = apr_psprintf(
            adm->pool, "Permission for %s %s%s to use %s@%s",
            weblab_db_admin_scope_name(g->scope), g->who,
            g->scope == WEBLAB_DB_ADMIN_GROUP ? " users" : "", g->exp_name,
            g->cat_name);

        rv = weblab_sql_exec(adm->c, NULL,
                             apr_psprintf(adm->pool, "INSERT INTO %s (%s,"
                                          " permission_type, permanent_id,"
                                          " date, comments)"
                                          " VALUES (?, 'experiment_allowed',"
                                          " ?, ?, ?)", s->perm,
                                          s->holder_col),
                             "isss", holder, pid,
                             weblab_db_admin_date(apr_time_now(), 0,
                                                  adm->pool), comments);
        if (rv != APR_SUCCESS) {
            rv = weblab_sql_is_constraint(adm->c)
                ? weblab_dbadm_fail(adm, APR_EEXIST, "the permanent id '%s' "
                                    "is already used by another permission",
                                    pid)
                : weblab_dbadm_sql_fail(adm, rv, "adding the permission");
            goto end;
        }
        id = weblab_sql_last_id(adm->c);
        if ((rv = set_param(adm, g->scope, id, "experiment_permanent_id",
                            g->exp_name)) != APR_SUCCESS
            || (rv = set_param(adm, g->scope, id, "experiment_category_id",
                               g->cat_name)) != APR_SUCCESS) {
            goto end;
        }
    }
    rv = set_param(adm, g->scope, id, "time_allowed", time_s);
    if (rv == APR_SUCCESS && g->priority >= 0) {
        rv = set_param(adm, g->scope, id, "priority",
                       apr_psprintf(adm->pool, "%d", g->priority));
    }
    if (rv == APR_SUCCESS && g->init_in_accounting >= 0) {
        rv = set_param(adm, g->scope, id, "initialization_in_accounting",
                       g->init_in_accounting ? "True" : "False");
    }
end:
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_revoke(weblab_db_admin_t *adm,
                                    weblab_db_admin_scope_e scope,
                                    const char *who, const char *exp_name,
                                    const char *cat_name)
{
    const scope_sql_t *s = &scopes[scope];
    weblab_db_admin_grant_t g = { scope, who, exp_name, cat_name, 1, -1, -1 };
    apr_array_header_t *ids;
    apr_int64_t holder;
    apr_status_t rv;
    int i;

    if ((rv = check_grant(adm, &g)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = holder_id(adm, &holder, scope, who)) != APR_SUCCESS
        || (rv = find_allowed(adm, &ids, scope, holder, exp_name, cat_name))
           != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    if (ids->nelts == 0) {
        rv = weblab_dbadm_fail(adm, APR_ENOENT, "%s '%s' has no permission "
                               "on %s@%s", weblab_db_admin_scope_name(scope),
                               who, exp_name, cat_name);
        return weblab_dbadm_txn_end(adm, rv);
    }
    for (i = 0; i < ids->nelts && rv == APR_SUCCESS; i++) {
        apr_int64_t id = APR_ARRAY_IDX(ids, i, apr_int64_t);

        rv = weblab_sql_exec(adm->c, NULL,
                             apr_psprintf(adm->pool, "DELETE FROM %s WHERE"
                                          " permission_id = ?", s->param),
                             "i", id);
        if (rv == APR_SUCCESS) {
            rv = weblab_sql_exec(adm->c, NULL,
                                 apr_psprintf(adm->pool, "DELETE FROM %s"
                                              " WHERE id = ?", s->perm),
                                 "i", id);
        }
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "removing the permission");
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_grant_admin_panel(weblab_db_admin_t *adm,
                                               const char *group)
{
    apr_int64_t gid, id;
    apr_status_t rv;

    if ((rv = weblab_dbadm_check(adm, "group", group)) != APR_SUCCESS
        || (rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_group_id(adm, &gid, group)) != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    rv = weblab_sql_exec(adm->c, NULL,
                         "INSERT INTO GroupPermission (group_id,"
                         " permission_type, permanent_id, date, comments)"
                         " VALUES (?, 'admin_panel_access', ?, ?, '')",
                         "iss", gid,
                         apr_psprintf(adm->pool, "%s:admin-panel", group),
                         weblab_db_admin_date(apr_time_now(), 0, adm->pool));
    if (rv != APR_SUCCESS) {
        rv = weblab_sql_is_constraint(adm->c)
            ? weblab_dbadm_fail(adm, APR_EEXIST, "group '%s' already has "
                                "admin panel access", group)
            : weblab_dbadm_sql_fail(adm, rv, "adding the permission");
        return weblab_dbadm_txn_end(adm, rv);
    }
    id = weblab_sql_last_id(adm->c);
    rv = set_param(adm, WEBLAB_DB_ADMIN_GROUP, id, "full_privileges", "True");
    return weblab_dbadm_txn_end(adm, rv);
}

static apr_status_t list_scope(weblab_db_admin_t *adm,
                               apr_array_header_t *out,
                               weblab_db_admin_scope_e scope, apr_pool_t *p)
{
    const scope_sql_t *s = &scopes[scope];
    weblab_sql_rows_t *rows, *prows;
    apr_hash_t *by_id = apr_hash_make(p);
    apr_status_t rv;

    rv = weblab_sql_select(adm->c, &rows, p,
                           apr_psprintf(p, "SELECT p.id, h.%s,"
                                        " p.permission_type, p.permanent_id,"
                                        " p.date, p.comments FROM %s p"
                                        " JOIN %s h ON h.id = p.%s"
                                        " ORDER BY h.%s, p.permanent_id",
                                        s->holder_name, s->perm,
                                        s->holder_table, s->holder_col,
                                        s->holder_name), NULL);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(adm->c, &prows, p,
                               apr_psprintf(p, "SELECT permission_id,"
                                            " permission_type_parameter,"
                                            " value FROM %s ORDER BY"
                                            " permission_id,"
                                            " permission_type_parameter",
                                            s->param), NULL);
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "listing permissions");
    }
    while (weblab_sql_next(rows)) {
        weblab_db_admin_perm_t *perm = apr_array_push(out);

        perm->id = weblab_sql_int(rows, 0);
        perm->scope = scope;
        perm->who = weblab_sql_str(rows, 1);
        perm->type = weblab_sql_str(rows, 2);
        perm->permanent_id = weblab_sql_str(rows, 3);
        perm->date = weblab_sql_str(rows, 4);
        perm->comments = weblab_sql_str(rows, 5);
        perm->params = apr_array_make(p, 4, sizeof(weblab_db_admin_param_t));
        apr_hash_set(by_id, weblab_sql_str(rows, 0), APR_HASH_KEY_STRING,
                     perm->params);
    }
    while (weblab_sql_next(prows)) {
        apr_array_header_t *params = apr_hash_get(by_id,
                                                  weblab_sql_str(prows, 0),
                                                  APR_HASH_KEY_STRING);

        if (params) {
            weblab_db_admin_param_t *pp = apr_array_push(params);

            pp->name = weblab_sql_str(prows, 1);
            pp->value = weblab_sql_str(prows, 2);
        }
    }
    return APR_SUCCESS;
}

apr_status_t weblab_db_admin_perm_list(weblab_db_admin_t *adm,
                                       apr_array_header_t **perms,
                                       apr_pool_t *p)
{
    apr_status_t rv;

    *perms = apr_array_make(p, 16, sizeof(weblab_db_admin_perm_t));
    rv = list_scope(adm, *perms, WEBLAB_DB_ADMIN_ROLE, p);
    if (rv == APR_SUCCESS) {
        rv = list_scope(adm, *perms, WEBLAB_DB_ADMIN_GROUP, p);
    }
    if (rv == APR_SUCCESS) {
        rv = list_scope(adm, *perms, WEBLAB_DB_ADMIN_USER, p);
    }
    return rv;
}

/* ---- instructors ---- */

#define INSTRUCTOR_PERM "instructor_of_group"

apr_status_t weblab_db_admin_grant_instructor(weblab_db_admin_t *adm,
                                              const char *login,
                                              const char *group)
{
    apr_int64_t uid, gid, id;
    apr_status_t rv;

    if ((rv = weblab_dbadm_check(adm, "login", login)) != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "group", group)) != APR_SUCCESS
        || (rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_user_id(adm, &uid, login)) != APR_SUCCESS
        || (rv = weblab_dbadm_group_id(adm, &gid, group)) != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    rv = weblab_sql_exec(adm->c, NULL,
                         "INSERT INTO UserPermission (user_id,"
                         " permission_type, permanent_id, date, comments)"
                         " VALUES (?, '" INSTRUCTOR_PERM "', ?, ?, '')",
                         "iss", uid,
                         apr_psprintf(adm->pool, "%s::" INSTRUCTOR_PERM
                                      "::%s", login, group),
                         weblab_db_admin_date(apr_time_now(), 0, adm->pool));
    if (rv != APR_SUCCESS) {
        rv = weblab_sql_is_constraint(adm->c)
            ? weblab_dbadm_fail(adm, APR_EEXIST, "user '%s' is already "
                                "instructor of group '%s'", login, group)
            : weblab_dbadm_sql_fail(adm, rv, "adding the permission");
        return weblab_dbadm_txn_end(adm, rv);
    }
    id = weblab_sql_last_id(adm->c);
    rv = set_param(adm, WEBLAB_DB_ADMIN_USER, id, "target_group",
                   apr_psprintf(adm->pool, "%" APR_INT64_T_FMT, gid));
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_revoke_instructor(weblab_db_admin_t *adm,
                                               const char *login,
                                               const char *group)
{
    apr_int64_t uid, gid;
    apr_status_t rv;
    int changes = 0;
    const char *pid;

    if ((rv = weblab_dbadm_check(adm, "login", login)) != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "group", group)) != APR_SUCCESS
        || (rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_user_id(adm, &uid, login)) != APR_SUCCESS
        || (rv = weblab_dbadm_group_id(adm, &gid, group)) != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    pid = apr_psprintf(adm->pool, "%s::" INSTRUCTOR_PERM "::%s", login, group);
    rv = weblab_sql_exec(adm->c, NULL,
                         "DELETE FROM UserPermissionParameter WHERE"
                         " permission_id IN (SELECT id FROM UserPermission"
                         " WHERE user_id = ? AND permanent_id = ?)",
                         "is", uid, pid);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(adm->c, &changes,
                             "DELETE FROM UserPermission WHERE user_id = ?"
                             " AND permanent_id = ?", "is", uid, pid);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "removing the permission");
    }
    else if (changes == 0) {
        rv = weblab_dbadm_fail(adm, APR_ENOENT, "user '%s' is not instructor "
                               "of group '%s'", login, group);
    }
    return weblab_dbadm_txn_end(adm, rv);
}
