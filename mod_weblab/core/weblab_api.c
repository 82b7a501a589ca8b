/* The JSON-RPC envelope (spec 1.2-1.4): parse, resolve the session and the
 * reservation, dispatch through the method table, render the answer. */
#include "weblab_api_private.h"
#include "weblab_ids.h"

#include <string.h>
#include <apr_strings.h>

typedef enum { NEEDS_NONE, NEEDS_SESSION, NEEDS_RESERVATION } needs_e;

typedef struct {
    const char *name;
    weblab_method_fn fn;
    needs_e needs;
} method_t;

static const method_t methods[] = {
    {"login", weblab_m_login, NEEDS_NONE},
    {"logout", weblab_m_logout, NEEDS_SESSION},
    {"check_user_session", weblab_m_check_user_session, NEEDS_SESSION},
    {"get_user_information", weblab_m_get_user_information, NEEDS_SESSION},
    {"list_experiments", weblab_m_list_experiments, NEEDS_SESSION},
    {"is_admin", weblab_m_is_admin, NEEDS_SESSION},
    {"is_instructor", weblab_m_is_instructor, NEEDS_SESSION},
    {"get_reservation_id_by_session_id",
     weblab_m_get_reservation_id_by_session_id, NEEDS_SESSION},
    {"reserve_experiment", weblab_m_reserve_experiment, NEEDS_SESSION},
    {"get_reservation_status", weblab_m_get_reservation_status,
     NEEDS_RESERVATION},
    {"poll", weblab_m_poll, NEEDS_RESERVATION},
    {"send_command", weblab_m_send_command, NEEDS_RESERVATION},
    {"send_file", weblab_m_send_file, NEEDS_RESERVATION},
    {"finished_experiment", weblab_m_finished_experiment, NEEDS_RESERVATION},
    {"get_reservation_info", weblab_m_get_reservation_info,
     NEEDS_RESERVATION},
    {"check_reservation_session", weblab_m_check_reservation_session,
     NEEDS_RESERVATION},
    {"send_async_command", weblab_m_send_async_command, NEEDS_RESERVATION},
    {"send_async_file", weblab_m_send_async_file, NEEDS_RESERVATION},
    {"check_async_command_status", weblab_m_check_async_command_status,
     NEEDS_RESERVATION},
    /* the web administration (weblab_api_admin.c, docs/admin-api.md) */
    {"admin_whoami", weblab_m_admin_whoami, NEEDS_SESSION},
    {"admin_list_users", weblab_m_admin_list_users, NEEDS_SESSION},
    {"admin_add_user", weblab_m_admin_add_user, NEEDS_SESSION},
    {"admin_add_users_csv", weblab_m_admin_add_users_csv, NEEDS_SESSION},
    {"admin_edit_user", weblab_m_admin_edit_user, NEEDS_SESSION},
    {"admin_set_password", weblab_m_admin_set_password, NEEDS_SESSION},
    {"admin_set_disabled", weblab_m_admin_set_disabled, NEEDS_SESSION},
    {"admin_remove_user", weblab_m_admin_remove_user, NEEDS_SESSION},
    {"admin_list_groups", weblab_m_admin_list_groups, NEEDS_SESSION},
    {"admin_add_group", weblab_m_admin_add_group, NEEDS_SESSION},
    {"admin_remove_group", weblab_m_admin_remove_group, NEEDS_SESSION},
    {"admin_add_group_member", weblab_m_admin_add_group_member, NEEDS_SESSION},
    {"admin_remove_group_member", weblab_m_admin_remove_group_member, NEEDS_SESSION},
    {"admin_list_permissions", weblab_m_admin_list_permissions, NEEDS_SESSION},
    {"admin_grant", weblab_m_admin_grant, NEEDS_SESSION},
    {"admin_revoke", weblab_m_admin_revoke, NEEDS_SESSION},
    {"admin_grant_instructor", weblab_m_admin_grant_instructor, NEEDS_SESSION},
    {"admin_revoke_instructor", weblab_m_admin_revoke_instructor, NEEDS_SESSION},
    {"admin_list_experiments", weblab_m_admin_list_experiments, NEEDS_SESSION},
    {"admin_add_experiment", weblab_m_admin_add_experiment, NEEDS_SESSION},
    {"admin_remove_experiment", weblab_m_admin_remove_experiment, NEEDS_SESSION},
    {"admin_list_instances", weblab_m_admin_list_instances, NEEDS_SESSION},
    {"admin_add_instance", weblab_m_admin_add_instance, NEEDS_SESSION},
    {"admin_remove_instance", weblab_m_admin_remove_instance, NEEDS_SESSION},
    {"admin_set_instance_checkers", weblab_m_admin_set_instance_checkers,
     NEEDS_SESSION},
    {"admin_list_uses", weblab_m_admin_list_uses, NEEDS_SESSION},
    {"admin_get_use", weblab_m_admin_get_use, NEEDS_SESSION},
    {"admin_export_uses", weblab_m_admin_export_uses, NEEDS_SESSION},
    {"admin_live_status", weblab_m_admin_live_status, NEEDS_SESSION},
    {NULL, NULL, NEEDS_NONE}
};

static const char *const method_names[] = {
    "login", "logout", "check_user_session", "get_user_information",
    "list_experiments", "is_admin", "is_instructor",
    "get_reservation_id_by_session_id", "reserve_experiment",
    "get_reservation_status", "poll", "send_command", "send_file",
    "finished_experiment", "get_reservation_info",
    "check_reservation_session", "send_async_command", "send_async_file",
    "check_async_command_status",
    "admin_whoami", "admin_list_users", "admin_add_user",
    "admin_add_users_csv", "admin_edit_user", "admin_set_password",
    "admin_set_disabled", "admin_remove_user", "admin_list_groups",
    "admin_add_group", "admin_remove_group", "admin_add_group_member",
    "admin_remove_group_member", "admin_list_permissions", "admin_grant",
    "admin_revoke", "admin_grant_instructor", "admin_revoke_instructor",
    "admin_list_experiments", "admin_add_experiment",
    "admin_remove_experiment", "admin_list_instances", "admin_add_instance",
    "admin_remove_instance", "admin_set_instance_checkers",
    "admin_list_uses", "admin_get_use",
    "admin_export_uses", "admin_live_status", NULL
};

const char *const *weblab_api_method_names(void)
{
    return method_names;
}

static apr_status_t json_decref_cleanup(void *v)
{
    json_decref(v);
    return APR_SUCCESS;
}

json_t *weblab_json_own(json_t *v, apr_pool_t *p)
{
    if (v) {
        apr_pool_cleanup_register(p, v, json_decref_cleanup,
                                  apr_pool_cleanup_null);
    }
    return v;
}

json_t *weblab_json_none(void)
{
    return json_object();
}

const char *weblab_param_str(weblab_call_t *call, const char *name,
                             int optional, weblab_error_t **err)
{
    json_t *v = json_object_get(call->params, name);

    *err = NULL;
    if (!v || json_is_null(v)) {
        if (!optional) {
            *err = weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                     "Missing parameter '%s'", name);
        }
        return NULL;
    }
    if (!json_is_string(v)) {
        *err = weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                 "Parameter '%s' must be a string", name);
        return NULL;
    }
    return apr_pstrdup(call->p, json_string_value(v));
}

weblab_error_t *weblab_backend_error(weblab_call_t *call, apr_status_t rv,
                                     const char *what)
{
    return weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, rv,
                             "Temporary server error (%s); please try again",
                             what);
}

weblab_error_t *weblab_call_data(weblab_sql_t **conn, weblab_call_t *call)
{
    apr_status_t rv = weblab_sql_acquire(call->core->data, conn);

    return rv == APR_SUCCESS ? NULL
                             : weblab_backend_error(call, rv, "data database");
}

weblab_error_t *weblab_call_session(weblab_session_t **s, weblab_call_t *call)
{
    apr_status_t rv;

    *s = NULL;
    if (call->session_id && weblab_ids_is_session_id(call->session_id)) {
        rv = weblab_coord_session_get(call->core->coord, s, call->session_id,
                                      call->now,
                                      call->core->cfg.session_timeout,
                                      call->p);
        if (rv != APR_SUCCESS) {
            return weblab_backend_error(call, rv, "coordination");
        }
    }
    if (!*s) {
        return weblab_error_make(call->p, WEBLAB_ERR_SESSION_NOT_FOUND,
                                 APR_SUCCESS, "Core Users session not found");
    }
    return NULL;
}

/* A session or reservation id given as a string or as {"id": "..."}. */
static const char *id_value(json_t *v, apr_pool_t *p)
{
    if (json_is_object(v)) {
        v = json_object_get(v, "id");
    }
    return json_is_string(v) ? apr_pstrdup(p, json_string_value(v)) : NULL;
}

static const char *first(const char *a, const char *b, const char *c)
{
    if (a && *a) {
        return a;
    }
    if (b && *b) {
        return b;
    }
    return c && *c ? c : NULL;
}

static const char *render(json_t *doc, int indent, apr_pool_t *p)
{
    char *s = json_dumps(doc, indent ? JSON_INDENT(4) : 0);
    const char *out = s ? apr_pstrdup(p, s) : NULL;

    free(s);
    json_decref(doc);
    return out ? out : "{\"is_exception\": true, \"code\": \"JSON:Server.WebLab\","
                       " \"message\": \"Could not serialize the answer\"}";
}

static const char *render_error(const weblab_error_t *err, int debug,
                                const char *admin, int indent, apr_pool_t *p)
{
    json_t *doc = json_object();
    const char *code = weblab_error_code_str(err->code);
    const char *msg = err->message;

    /* Without debug mode only the client errors keep their code (spec 1.3),
     * and the messages marked as safe to show (administration input). */
    if (!debug && strncmp(code, "Client.", 7) != 0 && !err->always_shown) {
        code = "Server.WebLab";
        msg = apr_psprintf(p, "Unexpected error ocurred in WebLab-Deusto."
                              " Please contact the administrator at %s",
                           admin);
    }
    json_object_set_new(doc, "is_exception", json_true());
    json_object_set_new(doc, "code",
                        json_string(apr_pstrcat(p, "JSON:", code, NULL)));
    json_object_set_new(doc, "message", json_string(msg ? msg : ""));
    return render(doc, indent, p);
}

const char *weblab_api_error_body(const weblab_error_t *err, apr_pool_t *p)
{
    return render_error(err, 1, "", 0, p);
}

void weblab_api_handle(weblab_core_t *core, const char *body, apr_size_t len,
                       const weblab_req_in_t *in, weblab_req_out_t *out,
                       apr_pool_t *p)
{
    weblab_call_t call;
    weblab_error_t *err = NULL;
    json_t *req, *result = NULL, *v;
    const method_t *m;
    json_error_t jerr;

    memset(&call, 0, sizeof(call));
    memset(out, 0, sizeof(*out));
    call.core = core;
    call.p = p;
    call.in = in;
    call.out = out;
    call.now = weblab_now();
    out->route = core->cfg.route;

    req = weblab_json_own(json_loadb(body, len, JSON_REJECT_DUPLICATES,
                                     &jerr), p);
    if (!req || !json_is_object(req)) {
        err = weblab_error_make(p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                "Couldn't deserialize message");
        goto answer;
    }
    v = json_object_get(req, "method");
    if (!v) {
        err = weblab_error_make(p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                "Missing 'method' attr");
        goto answer;
    }
    for (m = methods; m->name; m++) {
        if (json_is_string(v) && !strcmp(m->name, json_string_value(v))) {
            break;
        }
    }
    if (!m->name) {
        err = weblab_error_make(p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                "Method not recognized");
        goto answer;
    }
    out->method = m->name;
    call.params = json_object_get(req, "params");
    if (!call.params || json_is_null(call.params)) {
        call.params = weblab_json_own(json_object(), p);
    }
    else if (!json_is_object(call.params)) {
        err = weblab_error_make(p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                "'params' must be an object");
        goto answer;
    }
    /* session_id, else reservation_id, leave the parameters (spec 1.2) */
    if ((v = json_object_get(call.params, "session_id"))) {
        call.session_id = id_value(v, p);
        json_object_del(call.params, "session_id");
        if (!call.session_id) {
            err = weblab_error_make(p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                    "Parameter 'session_id' must be a string"
                                    " or {\"id\": str}");
            goto answer;
        }
    }
    else if ((v = json_object_get(call.params, "reservation_id"))) {
        call.reservation_public = id_value(v, p);
        json_object_del(call.params, "reservation_id");
        if (!call.reservation_public) {
            err = weblab_error_make(p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                    "Parameter 'reservation_id' must be a"
                                    " string or {\"id\": str}");
            goto answer;
        }
    }
    if (!call.session_id) {
        const char *cookie = in->cookie_session_id
            ? weblab_ids_strip_route(p, in->cookie_session_id) : NULL;

        call.session_id = first(in->header_session_id, cookie,
                                in->query_session_id);
    }
    if (!call.reservation_public) {
        call.reservation_public = first(in->header_reservation_id,
                                        in->query_reservation_id,
                                        in->cookie_reservation_id);
    }
    if (call.reservation_public) {
        call.reservation_id = weblab_ids_reservation_uuid(
            p, call.reservation_public);
    }
    if (m->needs == NEEDS_RESERVATION && !call.reservation_id) {
        err = weblab_error_make(p, WEBLAB_ERR_SESSION_NOT_FOUND, APR_SUCCESS,
                                "Core Reservations session not found");
        goto answer;
    }
    err = m->fn(&result, &call);

answer:
    if (call.session_id && weblab_ids_is_session_id(call.session_id)) {
        out->session_id = call.session_id;
    }
    out->reservation_id = call.reservation_public;
    out->error = err;
    if (err && result) {
        json_decref(result);
    }
    if (err) {
        out->body = render_error(err, core->cfg.debug_mode,
                                 core->cfg.server_admin, in->indent, p);
    }
    else {
        json_t *doc = json_object();

        /* methods return a new reference; None is rendered as {} */
        json_object_set_new(doc, "result", result ? result : json_object());
        json_object_set_new(doc, "is_exception", json_false());
        out->body = render(doc, in->indent, p);
    }
}
