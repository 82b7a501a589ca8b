/* API methods about the user: login, logout, session checks, user
 * information and the experiments the user may use (spec 1.5, 1.6). */
#include "weblab_api_private.h"
#include "weblab_ids.h"
#include "weblab_password.h"
#include "weblab_lifecycle.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

static weblab_error_t *invalid_credentials(weblab_call_t *call)
{
    /* the original sleeps before answering, to slow down guessing */
    apr_sleep((apr_interval_time_t)(call->core->cfg.login_failed_delay
                                    * APR_USEC_PER_SEC));
    return weblab_error_make(call->p, WEBLAB_ERR_INVALID_CREDENTIALS,
                             APR_SUCCESS, "Invalid username or password!");
}

weblab_error_t *weblab_m_login(json_t **result, weblab_call_t *call)
{
    weblab_error_t *err;
    const char *login = weblab_param_str(call, "username", 0, &err);
    const char *password;
    apr_array_header_t *stored;
    weblab_session_t s;
    weblab_user_t *user;
    weblab_sql_t *conn;
    apr_status_t rv;
    int i, ok = 0;

    if (err) {
        return err;
    }
    password = weblab_param_str(call, "password", 0, &err);
    if (err) {
        return err;
    }
    if ((err = weblab_call_data(&conn, call))) {
        return err;
    }
    rv = weblab_db_user_by_login(&user, conn, login, call->p);
    if (rv == APR_SUCCESS && user && !user->disabled) {
        rv = weblab_db_user_passwords(&stored, conn, user->id, call->p);
    }
    if (rv != APR_SUCCESS) {
        weblab_sql_invalidate(call->core->data, conn);
        return weblab_error_make(call->p, WEBLAB_ERR_LOGIN, rv,
                                 "Error checking credentials."
                                 " Contact administrators!");
    }
    weblab_sql_release(call->core->data, conn);
    if (!user || user->disabled) {
        return invalid_credentials(call);
    }
    for (i = 0; i < stored->nelts && !ok; i++) {
        ok = weblab_password_verify(APR_ARRAY_IDX(stored, i, const char *),
                                    password, call->p);
    }
    if (!ok) {
        return invalid_credentials(call);
    }
    memset(&s, 0, sizeof(s));
    s.id = weblab_ids_session_new(call->p);
    s.user_id = user->id;
    s.login = user->login;
    s.full_name = user->full_name;
    s.role = user->role ? user->role : "student";
    s.created = s.latest_access = call->now;
    if (!s.id) {
        return weblab_backend_error(call, APR_EGENERAL, "randomness");
    }
    rv = weblab_coord_session_create(call->core->coord, &s);
    if (rv != APR_SUCCESS) {
        return weblab_backend_error(call, rv, "coordination");
    }
    call->session_id = s.id;
    *result = json_pack("{s:s}", "id", s.id);
    return NULL;
}

weblab_error_t *weblab_m_logout(json_t **result, weblab_call_t *call)
{
    weblab_session_t *s;
    weblab_error_t *err = weblab_call_session(&s, call);
    apr_status_t rv;

    if (err) {
        return err;
    }
    if (s->reservation_id) {
        /* logging out ends the user's current reservation (spec 1.5) */
        rv = weblab_lifecycle_finish(call->core, s->reservation_id,
                                     WEBLAB_FINISH_USER, call->p);
        if (rv != APR_SUCCESS) {
            return weblab_backend_error(call, rv, "coordination");
        }
    }
    rv = weblab_coord_session_delete(call->core->coord, s->id);
    if (rv != APR_SUCCESS) {
        return weblab_backend_error(call, rv, "coordination");
    }
    *result = weblab_json_none();
    return NULL;
}

weblab_error_t *weblab_m_check_user_session(json_t **result,
                                            weblab_call_t *call)
{
    weblab_session_t *s;
    weblab_error_t *err = weblab_call_session(&s, call);

    if (!err) {
        *result = json_true();
    }
    return err;
}

/* The session's user and permission flags. */
static weblab_error_t *user_flags(weblab_user_t **user, int *is_admin,
                                  int *is_instructor, weblab_call_t *call)
{
    weblab_session_t *s;
    weblab_error_t *err = weblab_call_session(&s, call);
    weblab_sql_t *conn;
    apr_status_t rv;

    if (err || (err = weblab_call_data(&conn, call))) {
        return err;
    }
    rv = weblab_db_user_by_login(user, conn, s->login, call->p);
    if (rv == APR_SUCCESS && *user) {
        rv = weblab_db_user_flags(is_admin, is_instructor, conn, *user,
                                  call->p);
    }
    if (rv != APR_SUCCESS) {
        weblab_sql_invalidate(call->core->data, conn);
        return weblab_backend_error(call, rv, "data database");
    }
    weblab_sql_release(call->core->data, conn);
    if (!*user) {       /* removed while logged in */
        return weblab_error_make(call->p, WEBLAB_ERR_SESSION_NOT_FOUND,
                                 APR_SUCCESS, "Core Users session not found");
    }
    return NULL;
}

weblab_error_t *weblab_m_get_user_information(json_t **result,
                                              weblab_call_t *call)
{
    weblab_user_t *u;
    int admin = 0, instructor = 0;
    weblab_error_t *err = user_flags(&u, &admin, &instructor, call);
    const char *base = call->core->cfg.server_url;

    if (err) {
        return err;
    }
    *result = json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:s}",
                        "login", u->login, "full_name", u->full_name,
                        "email", u->email ? u->email : "",
                        "role", "name", u->role ? u->role : "student",
                        "admin_url",
                        admin ? apr_pstrcat(call->p, base, "admin/", NULL)
                              : "",
                        "instructor_url",
                        instructor ? apr_pstrcat(call->p, base, "instructor/",
                                                 NULL)
                                   : "");
    return NULL;
}

weblab_error_t *weblab_m_is_admin(json_t **result, weblab_call_t *call)
{
    weblab_user_t *u;
    int admin = 0, instructor = 0;
    weblab_error_t *err = user_flags(&u, &admin, &instructor, call);

    if (!err) {
        *result = json_boolean(admin);
    }
    return err;
}

weblab_error_t *weblab_m_is_instructor(json_t **result, weblab_call_t *call)
{
    weblab_user_t *u;
    int admin = 0, instructor = 0;
    weblab_error_t *err = user_flags(&u, &admin, &instructor, call);

    if (!err) {
        *result = json_boolean(instructor);
    }
    return err;
}

static json_t *client_param_value(const weblab_client_param_t *cp)
{
    if (!strcmp(cp->type, "bool")) {
        return json_boolean(!strcasecmp(cp->value, "true")
                            || !strcmp(cp->value, "1"));
    }
    if (!strcmp(cp->type, "integer")) {
        return json_integer(apr_atoi64(cp->value));
    }
    if (!strcmp(cp->type, "floating")) {
        return json_real(strtod(cp->value, NULL));
    }
    return json_string(cp->value);
}

static json_t *experiment_json(const weblab_experiment_t *e)
{
    json_t *conf = json_object();
    int i;

    for (i = 0; e->params && i < e->params->nelts; i++) {
        const weblab_client_param_t *cp =
            &APR_ARRAY_IDX(e->params, i, weblab_client_param_t);

        json_object_set_new(conf, cp->name, client_param_value(cp));
    }
    return json_pack("{s:s, s:{s:s}, s:s, s:s, s:{s:s, s:o}, s:I}",
                     "name", e->name, "category", "name", e->category,
                     "start_date", e->start_date, "end_date", e->end_date,
                     "client", "client_id", e->client,
                     "configuration", conf, "id", (json_int_t)e->id);
}

weblab_error_t *weblab_m_list_experiments(json_t **result,
                                          weblab_call_t *call)
{
    weblab_session_t *s;
    weblab_error_t *err = weblab_call_session(&s, call);
    const char *exp_filter, *cat_filter;
    apr_array_header_t *allowed;
    weblab_user_t user;
    weblab_sql_t *conn;
    apr_status_t rv;
    json_t *list;
    int i;

    if (err) {
        return err;
    }
    exp_filter = weblab_param_str(call, "exp_name", 1, &err);
    if (!err) {
        cat_filter = weblab_param_str(call, "cat_name", 1, &err);
    }
    if (err || (err = weblab_call_data(&conn, call))) {
        return err;
    }
    memset(&user, 0, sizeof(user));
    user.id = s->user_id;
    user.login = s->login;
    user.role = s->role;
    rv = weblab_db_allowed(&allowed, conn, &user, call->p);
    if (rv != APR_SUCCESS) {
        weblab_sql_invalidate(call->core->data, conn);
        return weblab_backend_error(call, rv, "data database");
    }
    weblab_sql_release(call->core->data, conn);
    list = json_array();
    for (i = 0; i < allowed->nelts; i++) {
        const weblab_allowed_t *a = &APR_ARRAY_IDX(allowed, i,
                                                   weblab_allowed_t);

        if ((exp_filter && strcmp(exp_filter, a->experiment->name))
            || (cat_filter && strcmp(cat_filter, a->experiment->category))) {
            continue;
        }
        json_array_append_new(list, json_pack(
            "{s:o, s:f, s:i, s:b, s:s, s:I, s:s, s:I, s:o}",
            "experiment", experiment_json(a->experiment),
            "time_allowed", a->time_allowed, "priority", a->priority,
            "initialization_in_accounting", a->init_in_accounting,
            "permanent_id", a->permanent_id ? a->permanent_id : "",
            "permission_id", (json_int_t)a->permission_id,
            "permission_scope", a->scope ? a->scope : "",
            "total_uses", (json_int_t)a->total_uses,
            "latest_use", a->latest_use ? json_string(a->latest_use)
                                        : weblab_json_none()));
    }
    *result = list;
    return NULL;
}

weblab_error_t *weblab_m_get_reservation_id_by_session_id(json_t **result,
                                                          weblab_call_t *call)
{
    weblab_session_t *s;
    weblab_error_t *err = weblab_call_session(&s, call);

    if (!err) {
        *result = s->reservation_id ? json_string(s->reservation_id)
                                    : weblab_json_none();
    }
    return err;
}
