/* JSON methods of the web administration (htdocs/admin/): users, groups,
 * permissions, experiments and lab instances, the uses log and a live view
 * of the queues. The original served its admin panel as HTML pages outside
 * the JSON API; these methods are ours, named admin_*, and documented in
 * docs/admin-api.md.
 *
 * Every method checks on the server who calls it: a session is required
 * (else Client.SessionNotFound, as for any method that needs one), and the
 * session's user must be an administrator (role administrator or an
 * admin_panel_access permission), except for the uses log, which
 * instructors may read for the members of the groups they are
 * instructor_of_group of. Anybody else gets Server.WebLab "Permission
 * denied: ...", the code the original gives to a failure that is not the
 * client's. Bad input gets the administration layer's one-line message;
 * both are sent even without debug mode (they hold nothing internal). */
#include "weblab_api_admin_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

weblab_error_t *weblab_adm_shown(weblab_error_t *err)
{
    err->always_shown = 1;
    return err;
}

weblab_error_t *weblab_adm_bad_param(weblab_call_t *call, const char *fmt,
                                     const char *name)
{
    return weblab_adm_shown(
        weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, APR_EINVAL, fmt, name));
}

/* Release the connection; a failure of the connection itself drops it. */
weblab_error_t *weblab_adm_leave(weblab_adm_t *a, weblab_error_t *err)
{
    if (a->conn) {
        if (err && err->rv != APR_SUCCESS && err->rv != APR_EINVAL
            && err->rv != APR_ENOENT && err->rv != APR_EEXIST
            && err->rv != APR_EBUSY && err->rv != APR_EACCES) {
            weblab_sql_invalidate(a->call->core->data, a->conn);
        }
        else {
            weblab_sql_release(a->call->core->data, a->conn);
        }
        a->conn = NULL;
    }
    return err;
}

/* The session's user, its flags and a connection; refuses a caller below
 * need. On error nothing is held. */
weblab_error_t *weblab_adm_enter(weblab_adm_t *a, weblab_call_t *call,
                                 weblab_adm_level_e need)
{
    weblab_session_t *s;
    weblab_error_t *err;
    apr_status_t rv;

    memset(a, 0, sizeof(*a));
    a->call = call;
    if ((err = weblab_call_session(&s, call))
        || (err = weblab_call_data(&a->conn, call))) {
        return err;
    }
    rv = weblab_db_user_by_login(&a->user, a->conn, s->login, call->p);
    if (rv == APR_SUCCESS && a->user) {
        rv = weblab_db_user_flags(&a->is_admin, &a->is_instructor, a->conn,
                                  a->user, call->p);
    }
    if (rv != APR_SUCCESS) {
        weblab_sql_invalidate(call->core->data, a->conn);
        a->conn = NULL;
        return weblab_backend_error(call, rv, "data database");
    }
    if (!a->user || a->user->disabled) {
        weblab_adm_leave(a, NULL);
        return weblab_error_make(call->p, WEBLAB_ERR_SESSION_NOT_FOUND,
                                 APR_SUCCESS, "Core Users session not found");
    }
    weblab_db_admin_make(&a->adm, a->conn, call->p);
    if (need == WEBLAB_ADM_ADMIN && !a->is_admin) {
        return weblab_adm_leave(a, weblab_adm_shown(weblab_error_make(
                                       call->p, WEBLAB_ERR_WEBLAB, APR_EACCES,
                                       "Permission denied: %s is"
                                       " for administrators only",
                                       call->out->method)));
    }
    if (need == WEBLAB_ADM_INSTRUCTOR && !a->is_admin) {
        if (a->is_instructor) {
            rv = weblab_db_admin_instructor_groups(a->adm, &a->only_groups,
                                                   a->user->login, call->p);
            if (rv != APR_SUCCESS) {
                return weblab_adm_leave(
                    a, weblab_backend_error(call, rv, "data database"));
            }
        }
        if (!a->is_instructor || a->only_groups->nelts == 0) {
            return weblab_adm_leave(
                a,
                weblab_adm_shown(weblab_error_make(
                    call->p, WEBLAB_ERR_WEBLAB, APR_EACCES,
                    "Permission denied:"
                    " %s is for administrators and the instructors of a group",
                    call->out->method)));
        }
    }
    return NULL;
}

/* The administration layer's failure as an answer. Its message is for
 * people (never holds a password); a database failure is logged by the
 * glue like any backend error. */
static weblab_error_t *adm_error(weblab_adm_t *a, apr_status_t rv)
{
    const char *msg = weblab_db_admin_error(a->adm);
    weblab_error_t *err = weblab_error_make(a->call->p, WEBLAB_ERR_WEBLAB, rv,
                                            "%s", *msg ? msg : "failed");

    if (rv == APR_EINVAL || rv == APR_ENOENT || rv == APR_EEXIST
        || rv == APR_EBUSY) {
        err->always_shown = 1;
    }
    return err;
}

/* Finish a method: the result on success, else the error; always leaves. */
weblab_error_t *weblab_adm_finish(weblab_adm_t *a, json_t **result,
                                  json_t *value, apr_status_t rv)
{
    if (rv != APR_SUCCESS) {
        if (value) {
            json_decref(value);
        }
        return weblab_adm_leave(a, adm_error(a, rv));
    }
    *result = value ? value : weblab_json_none();
    return weblab_adm_leave(a, NULL);
}

/* ---- parameters ---- */

const char *weblab_adm_str(weblab_adm_t *a, const char *name, int optional,
                           weblab_error_t **err)
{
    const char *v = weblab_param_str(a->call, name, optional, err);

    if (*err) {
        (*err)->always_shown = 1;
    }
    else if (v && !*v && optional) {
        v = NULL; /* an empty optional field means "not given" */
    }
    return v;
}

/* An integer given as a number or a string of digits; *given = 0 when
 * absent. */
apr_int64_t weblab_adm_int(weblab_adm_t *a, const char *name, int *given,
                           weblab_error_t **err)
{
    json_t *v = json_object_get(a->call->params, name);

    *err = NULL;
    *given = 0;
    if (!v || json_is_null(v)
        || (json_is_string(v) && !*json_string_value(v))) {
        return 0;
    }
    *given = 1;
    if (json_is_integer(v)) {
        return json_integer_value(v);
    }
    if (json_is_string(v)) {
        char *end;
        apr_int64_t n = apr_strtoi64(json_string_value(v), &end, 10);

        if (!*end) {
            return n;
        }
    }
    *err = weblab_adm_bad_param(a->call, "Parameter '%s' must be an integer",
                                name);
    return 0;
}

static double p_num(weblab_adm_t *a, const char *name, int *given,
                    weblab_error_t **err)
{
    json_t *v = json_object_get(a->call->params, name);

    *err = NULL;
    *given = 0;
    if (!v || json_is_null(v)
        || (json_is_string(v) && !*json_string_value(v))) {
        return 0;
    }
    *given = 1;
    if (json_is_number(v)) {
        return json_number_value(v);
    }
    if (json_is_string(v)) {
        char *end;
        double d = strtod(json_string_value(v), &end);

        if (!*end && isfinite(d)) {
            return d;
        }
    }
    *err =
        weblab_adm_bad_param(a->call, "Parameter '%s' must be a number", name);
    return 0;
}

/* -1 when absent, else 0 or 1 (true/false, 1/0, "true"/"false"). */
int weblab_adm_bool(weblab_adm_t *a, const char *name, weblab_error_t **err)
{
    json_t *v = json_object_get(a->call->params, name);

    *err = NULL;
    if (!v || json_is_null(v)) {
        return -1;
    }
    if (json_is_boolean(v)) {
        return json_is_true(v);
    }
    if (json_is_integer(v)) {
        return json_integer_value(v) != 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);

        if (!strcasecmp(s, "true") || !strcmp(s, "1")) {
            return 1;
        }
        if (!strcasecmp(s, "false") || !strcmp(s, "0")) {
            return 0;
        }
    }
    *err = weblab_adm_bad_param(a->call,
                                "Parameter '%s' must be true or false", name);
    return -1;
}

/* An array of strings (array of const char *), NULL when absent. */
static apr_array_header_t *p_strings(weblab_adm_t *a, const char *name,
                                     weblab_error_t **err)
{
    json_t *v = json_object_get(a->call->params, name), *item;
    apr_array_header_t *out;
    size_t i;

    *err = NULL;
    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_array(v)) {
        *err = weblab_adm_bad_param(
            a->call, "Parameter '%s' must be a list of strings", name);
        return NULL;
    }
    out = apr_array_make(a->call->p, (int)json_array_size(v) + 1,
                         sizeof(const char *));
    json_array_foreach (v, i, item) {
        if (!json_is_string(item)) {
            *err = weblab_adm_bad_param(a->call,
                                        "Parameter '%s' must be a list of "
                                        "strings",
                                        name);
            return NULL;
        }
        if (*json_string_value(item)) {
            APR_ARRAY_PUSH(out, const char *) =
                apr_pstrdup(a->call->p, json_string_value(item));
        }
    }
    return out;
}

/* "user", "group" or "role" */
static int p_scope(weblab_adm_t *a, weblab_db_admin_scope_e *scope,
                   weblab_error_t **err)
{
    const char *s = weblab_adm_str(a, "scope", 0, err);

    if (*err) {
        return 0;
    }
    if (!strcmp(s, "user")) {
        *scope = WEBLAB_DB_ADMIN_USER;
    }
    else if (!strcmp(s, "group")) {
        *scope = WEBLAB_DB_ADMIN_GROUP;
    }
    else if (!strcmp(s, "role")) {
        *scope = WEBLAB_DB_ADMIN_ROLE;
    }
    else {
        *err = weblab_adm_bad_param(a->call,
                                    "Parameter 'scope' must be user, group or "
                                    "role, not '%s'",
                                    s);
        return 0;
    }
    return 1;
}

/* The experiment as exp_name + cat_name, or "experiment": "exp@cat". */
int weblab_adm_experiment(weblab_adm_t *a, const char **exp, const char **cat,
                          weblab_error_t **err)
{
    const char *id = weblab_adm_str(a, "experiment", 1, err);

    if (*err) {
        return 0;
    }
    if (id) {
        const char *why = weblab_db_admin_split_exp(exp, cat, id, a->call->p);

        if (why) {
            *err = weblab_adm_bad_param(a->call, "%s", why);
            return 0;
        }
        return 1;
    }
    *exp = weblab_adm_str(a, "exp_name", 0, err);
    if (!*err) {
        *cat = weblab_adm_str(a, "cat_name", 0, err);
    }
    return *err == NULL;
}

/* ---- JSON helpers ---- */

json_t *weblab_adm_js(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *strings_json(const apr_array_header_t *a)
{
    json_t *out = json_array();
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        json_array_append_new(out,
                              json_string(APR_ARRAY_IDX(a, i, const char *)));
    }
    return out;
}

/* ---- who am I ---- */

weblab_error_t *weblab_m_admin_whoami(json_t **result, weblab_call_t *call)
{
    apr_array_header_t *ids = NULL, *names = NULL;
    apr_status_t rv = APR_SUCCESS;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_USER);

    if (err) {
        return err;
    }
    if (a.is_instructor && !a.is_admin) {
        rv = weblab_db_admin_instructor_groups(a.adm, &ids, a.user->login,
                                               call->p);
        if (rv == APR_SUCCESS) {
            rv = weblab_db_admin_group_names(a.adm, &names, ids, call->p);
        }
    }
    return weblab_adm_finish(
        &a, result,
        rv != APR_SUCCESS
            ? NULL
            : json_pack("{s:s, s:s, s:b, s:b, s:o}", "login", a.user->login,
                        "full_name", a.user->full_name, "is_admin", a.is_admin,
                        "is_instructor", a.is_instructor, "instructor_of",
                        strings_json(names)),
        rv);
}

/* ---- users ---- */

weblab_error_t *weblab_m_admin_list_users(json_t **result, weblab_call_t *call)
{
    apr_array_header_t *users;
    json_t *list;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);
    apr_status_t rv;
    int i;

    if (err) {
        return err;
    }
    rv = weblab_db_admin_user_list(a.adm, &users, call->p);
    if (rv != APR_SUCCESS) {
        return weblab_adm_finish(&a, result, NULL, rv);
    }
    list = json_array();
    for (i = 0; i < users->nelts; i++) {
        const weblab_db_admin_user_t *u =
            &APR_ARRAY_IDX(users, i, weblab_db_admin_user_t);
        const char *scheme = !u->password_hash            ? NULL
                             : u->password_hash[0] == '$' ? "bcrypt"
                                                          : "legacy-sha";

        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o}", "login",
                      u->user.login, "full_name", u->user.full_name, "email",
                      u->user.email ? u->user.email : "", "role",
                      u->user.role ? u->user.role : "", "disabled",
                      u->user.disabled, "groups", strings_json(u->groups),
                      "auths", strings_json(u->auths), "password",
                      weblab_adm_js(scheme)));
    }
    return weblab_adm_finish(&a, result, list, APR_SUCCESS);
}

weblab_error_t *weblab_m_admin_add_user(json_t **result, weblab_call_t *call)
{
    weblab_db_admin_user_spec_t u;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    memset(&u, 0, sizeof(u));
    if (!(u.login = weblab_adm_str(&a, "login", 0, &err), err)
        && !(u.full_name = weblab_adm_str(&a, "full_name", 1, &err), err)
        && !(u.email = weblab_adm_str(&a, "email", 1, &err), err)
        && !(u.role = weblab_adm_str(&a, "role", 1, &err), err)
        && !(u.password = weblab_adm_str(&a, "password", 1, &err), err)) {
        u.groups = p_strings(&a, "groups", &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(&a, result, NULL,
                             weblab_db_admin_user_add(a.adm, &u));
}

weblab_error_t *weblab_m_admin_add_users_csv(json_t **result,
                                             weblab_call_t *call)
{
    const char *csv, *role = NULL, *group = NULL;
    int added = 0;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);
    apr_status_t rv;

    if (err) {
        return err;
    }
    if (!(csv = weblab_adm_str(&a, "csv", 0, &err), err)
        && !(role = weblab_adm_str(&a, "role", 1, &err), err)) {
        group = weblab_adm_str(&a, "group", 1, &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    rv = weblab_db_admin_users_csv(a.adm, &added, csv, role, group);
    return weblab_adm_finish(
        &a, result, rv ? NULL : json_pack("{s:i}", "added", added), rv);
}

weblab_error_t *weblab_m_admin_edit_user(json_t **result, weblab_call_t *call)
{
    const char *login, *full_name = NULL, *email = NULL, *role = NULL;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (!(login = weblab_adm_str(&a, "login", 0, &err), err)
        && !(full_name = weblab_adm_str(&a, "full_name", 1, &err), err)
        && !(role = weblab_adm_str(&a, "role", 1, &err), err)) {
        /* an empty email is a value (no address), not "unchanged" */
        email = weblab_param_str(call, "email", 1, &err);
    }
    if (err) {
        return weblab_adm_leave(&a, weblab_adm_shown(err));
    }
    return weblab_adm_finish(
        &a, result, NULL,
        weblab_db_admin_user_edit(a.adm, login, full_name, email, role));
}

weblab_error_t *weblab_m_admin_set_password(json_t **result,
                                            weblab_call_t *call)
{
    const char *login, *password = NULL;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (!(login = weblab_adm_str(&a, "login", 0, &err), err)) {
        password = weblab_adm_str(&a, "password", 0, &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(
        &a, result, NULL,
        weblab_db_admin_user_passwd(a.adm, login, password, NULL));
}

weblab_error_t *weblab_m_admin_set_disabled(json_t **result,
                                            weblab_call_t *call)
{
    const char *login;
    int disabled = -1;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (!(login = weblab_adm_str(&a, "login", 0, &err), err)) {
        disabled = weblab_adm_bool(&a, "disabled", &err);
    }
    if (!err && disabled < 0) {
        err = weblab_adm_bad_param(call, "Missing parameter '%s'", "disabled");
    }
    if (!err && disabled && !strcmp(login, a.user->login)) {
        err = weblab_adm_shown(
            weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                              "You cannot disable yourself"));
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(
        &a, result, NULL,
        weblab_db_admin_user_disable(a.adm, login, disabled));
}

weblab_error_t *weblab_m_admin_remove_user(json_t **result,
                                           weblab_call_t *call)
{
    const char *login;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    login = weblab_adm_str(&a, "login", 0, &err);
    if (!err && !strcmp(login, a.user->login)) {
        err = weblab_adm_shown(
            weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                              "You cannot remove yourself"));
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(&a, result, NULL,
                             weblab_db_admin_user_remove(a.adm, login));
}

/* ---- groups ---- */

weblab_error_t *weblab_m_admin_list_groups(json_t **result,
                                           weblab_call_t *call)
{
    apr_array_header_t *groups;
    json_t *list;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);
    apr_status_t rv;
    int i;

    if (err) {
        return err;
    }
    rv = weblab_db_admin_group_list(a.adm, &groups, call->p);
    if (rv != APR_SUCCESS) {
        return weblab_adm_finish(&a, result, NULL, rv);
    }
    list = json_array();
    for (i = 0; i < groups->nelts; i++) {
        const weblab_db_admin_group_t *g =
            &APR_ARRAY_IDX(groups, i, weblab_db_admin_group_t);

        json_array_append_new(list,
                              json_pack("{s:s, s:o, s:o}", "name", g->name,
                                        "parent", weblab_adm_js(g->parent),
                                        "members", strings_json(g->members)));
    }
    return weblab_adm_finish(&a, result, list, APR_SUCCESS);
}

weblab_error_t *weblab_m_admin_add_group(json_t **result, weblab_call_t *call)
{
    const char *name, *parent = NULL;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (!(name = weblab_adm_str(&a, "name", 0, &err), err)) {
        parent = weblab_adm_str(&a, "parent", 1, &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(&a, result, NULL,
                             weblab_db_admin_group_add(a.adm, name, parent));
}

weblab_error_t *weblab_m_admin_remove_group(json_t **result,
                                            weblab_call_t *call)
{
    const char *name;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    name = weblab_adm_str(&a, "name", 0, &err);
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(&a, result, NULL,
                             weblab_db_admin_group_remove(a.adm, name));
}

static weblab_error_t *member(json_t **result, weblab_call_t *call, int add)
{
    const char *group, *login = NULL;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (!(group = weblab_adm_str(&a, "group", 0, &err), err)) {
        login = weblab_adm_str(&a, "login", 0, &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(
        &a, result, NULL,
        add ? weblab_db_admin_group_add_user(a.adm, group, login)
            : weblab_db_admin_group_remove_user(a.adm, group, login));
}

weblab_error_t *weblab_m_admin_add_group_member(json_t **result,
                                                weblab_call_t *call)
{
    return member(result, call, 1);
}

weblab_error_t *weblab_m_admin_remove_group_member(json_t **result,
                                                   weblab_call_t *call)
{
    return member(result, call, 0);
}

/* ---- permissions ---- */

weblab_error_t *weblab_m_admin_list_permissions(json_t **result,
                                                weblab_call_t *call)
{
    apr_array_header_t *perms;
    json_t *list;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);
    apr_status_t rv;
    int i, j;

    if (err) {
        return err;
    }
    rv = weblab_db_admin_perm_list(a.adm, &perms, call->p);
    if (rv != APR_SUCCESS) {
        return weblab_adm_finish(&a, result, NULL, rv);
    }
    list = json_array();
    for (i = 0; i < perms->nelts; i++) {
        const weblab_db_admin_perm_t *pm =
            &APR_ARRAY_IDX(perms, i, weblab_db_admin_perm_t);
        json_t *params = json_object();

        for (j = 0; pm->params && j < pm->params->nelts; j++) {
            const weblab_db_admin_param_t *pp =
                &APR_ARRAY_IDX(pm->params, j, weblab_db_admin_param_t);

            json_object_set_new(params, pp->name, weblab_adm_js(pp->value));
        }
        json_array_append_new(
            list,
            json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o}", "id",
                      (json_int_t)pm->id, "scope",
                      weblab_db_admin_scope_name(pm->scope), "who",
                      weblab_adm_js(pm->who), "type", weblab_adm_js(pm->type),
                      "permanent_id", weblab_adm_js(pm->permanent_id), "date",
                      weblab_adm_js(pm->date), "params", params));
    }
    return weblab_adm_finish(&a, result, list, APR_SUCCESS);
}

weblab_error_t *weblab_m_admin_grant(json_t **result, weblab_call_t *call)
{
    weblab_db_admin_grant_t g;
    int updated = 0, given = 0;
    apr_int64_t priority = 0;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);
    apr_status_t rv;

    if (err) {
        return err;
    }
    memset(&g, 0, sizeof(g));
    g.priority = -1;
    g.init_in_accounting = -1;
    if (p_scope(&a, &g.scope, &err)
        && !(g.who = weblab_adm_str(&a, "who", 0, &err), err)
        && weblab_adm_experiment(&a, &g.exp_name, &g.cat_name, &err)) {
        g.time_allowed = p_num(&a, "time_allowed", &given, &err);
        if (!err && !given) {
            err = weblab_adm_bad_param(call, "Missing parameter '%s'",
                                       "time_allowed");
        }
    }
    if (!err) {
        priority = weblab_adm_int(&a, "priority", &given, &err);
        if (!err && given) {
            if (priority < 0 || priority > 1000000) {
                err = weblab_adm_bad_param(
                    call,
                    "Parameter '%s' must be between 0 and "
                    "1000000",
                    "priority");
            }
            g.priority = (int)priority;
        }
    }
    if (!err) {
        g.init_in_accounting =
            weblab_adm_bool(&a, "initialization_in_accounting", &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    rv = weblab_db_admin_grant(a.adm, &updated, &g);
    return weblab_adm_finish(
        &a, result, rv ? NULL : json_pack("{s:b}", "updated", updated), rv);
}

weblab_error_t *weblab_m_admin_revoke(json_t **result, weblab_call_t *call)
{
    weblab_db_admin_scope_e scope;
    const char *who = NULL, *exp = NULL, *cat = NULL;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (p_scope(&a, &scope, &err)
        && !(who = weblab_adm_str(&a, "who", 0, &err), err)) {
        weblab_adm_experiment(&a, &exp, &cat, &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(
        &a, result, NULL, weblab_db_admin_revoke(a.adm, scope, who, exp, cat));
}

static weblab_error_t *instructor(json_t **result, weblab_call_t *call,
                                  int grant)
{
    const char *login, *group = NULL;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (!(login = weblab_adm_str(&a, "login", 0, &err), err)) {
        group = weblab_adm_str(&a, "group", 0, &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(
        &a, result, NULL,
        grant ? weblab_db_admin_grant_instructor(a.adm, login, group)
              : weblab_db_admin_revoke_instructor(a.adm, login, group));
}

weblab_error_t *weblab_m_admin_grant_instructor(json_t **result,
                                                weblab_call_t *call)
{
    return instructor(result, call, 1);
}

weblab_error_t *weblab_m_admin_revoke_instructor(json_t **result,
                                                 weblab_call_t *call)
{
    return instructor(result, call, 0);
}
