/* API methods about a reservation: reserve, status, poll, commands, files,
 * finish (spec 1.5, 2.1). Lab steps that are due run inline, in the
 * student's own request, through weblab_lifecycle. */
#include "weblab_api_private.h"
#include "weblab_ids.h"
#include "weblab_lifecycle.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

/* Percent-encode a path segment as Python's urllib.quote does. */
static const char *quote(const char *s, apr_pool_t *p)
{
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (apr_isalnum(c) || strchr("_.-~/", c)) {
            *o++ = c;
        }
        else {
            o += sprintf(o, "%%%02X", c);
        }
    }
    *o = '\0';
    return out;
}

static weblab_error_t *res_not_found(weblab_call_t *call)
{
    return weblab_error_make(call->p, WEBLAB_ERR_SESSION_NOT_FOUND,
                             APR_SUCCESS,
                             "Core Reservations session not found");
}

static weblab_error_t *no_current(weblab_call_t *call, const char *why)
{
    return weblab_error_make(call->p, WEBLAB_ERR_NO_CURRENT_RESERVATION,
                             APR_SUCCESS,
                             "Current user (identified by reservation %s)"
                             " does not have any experiment assigned%s%s",
                             call->reservation_id, why ? ": " : "",
                             why ? why : "");
}

/* Load the call's reservation. A reservation presented together with a valid
 * session of another user is treated as unknown: ids are bearer tokens, but
 * not across accounts. */
weblab_error_t *weblab_api_load_reservation(weblab_reservation_t **r,
                                            weblab_call_t *call)
{
    apr_status_t rv;

    *r = NULL;
    if (!weblab_ids_is_uuid(call->reservation_id)) {
        return res_not_found(call);
    }
    rv = weblab_coord_get(call->core->coord, r, call->reservation_id,
                          call->p);
    if (rv != APR_SUCCESS) {
        return weblab_backend_error(call, rv, "coordination");
    }
    if (!*r) {
        return res_not_found(call);
    }
    if (call->session_id && weblab_ids_is_session_id(call->session_id)
        && strcmp(call->session_id, (*r)->session_id)) {
        weblab_session_t *s = NULL;

        rv = weblab_coord_session_get(call->core->coord, &s, call->session_id,
                                      call->now,
                                      call->core->cfg.session_timeout,
                                      call->p);
        if (rv != APR_SUCCESS) {
            return weblab_backend_error(call, rv, "coordination");
        }
        if (s && s->user_id != (*r)->user_id) {
            *r = NULL;
            return res_not_found(call);
        }
    }
    return NULL;
}

static int is_active(const weblab_reservation_t *r)
{
    return !strcmp(r->state, "waiting") || !strcmp(r->state, "assigned")
           || !strcmp(r->state, "confirmed");
}

/* Expire, record the poll and run the lab step that is due, then reload.
 * expire_fails: the caller wants NoCurrentReservation when it expired. */
static weblab_error_t *refresh(weblab_reservation_t **r, weblab_call_t *call,
                               int *expired)
{
    weblab_core_t *core = call->core;
    apr_status_t rv = APR_SUCCESS;
    double slack = core->cfg.poll_time / 10.0;

    *expired = 0;
    if (is_active(*r)) {
        rv = weblab_lifecycle_expire(expired, core, *r, call->now, call->p);
        if (rv == APR_SUCCESS && !*expired
            && call->now - (*r)->latest_poll > (slack < 5.0 ? slack : 5.0)) {
            rv = weblab_coord_touch(core->coord, (*r)->id, call->now);
        }
    }
    if (rv == APR_SUCCESS && !strcmp((*r)->state, "assigned")
        && (*r)->claim_until < call->now) {
        rv = weblab_lifecycle_start(core, *r, call->p);
    }
    else if (rv == APR_SUCCESS && !strcmp((*r)->state, "finishing")
             && (*r)->next_dispose <= call->now
             && (*r)->claim_until < call->now) {
        rv = weblab_lifecycle_dispose(core, *r, call->p);
    }
    if (rv != APR_SUCCESS) {
        return weblab_backend_error(call, rv, "coordination");
    }
    return weblab_api_load_reservation(r, call);
}

static json_t *status_json(weblab_call_t *call, const weblab_reservation_t *r)
{
    const char *pub = weblab_ids_reservation_public(call->p, r->id, r->route);
    const char *url = call->core->cfg.server_url;

    if (!strcmp(r->state, "waiting")) {
        return json_pack("{s:s, s:{s:s}, s:i}", "status",
                         r->working_instances > 0
                             ? "Reservation::waiting"
                             : "Reservation::waiting_instances",
                         "reservation_id", "id", pub, "position", r->position);
    }
    if (!strcmp(r->state, "assigned")) {
        return json_pack("{s:s, s:{s:s}, s:s}",
                         "status", "Reservation::waiting_confirmation",
                         "reservation_id", "id", pub, "url", url);
    }
    if (!strcmp(r->state, "confirmed")) {
        return json_pack("{s:s, s:{s:s}, s:f, s:s, s:s, s:{s:s}}",
                         "status", "Reservation::confirmed",
                         "reservation_id", "id", pub,
                         "time", weblab_lifecycle_remaining(r, call->now),
                         "initial_configuration",
                         r->initial_configuration ? r->initial_configuration
                                                  : "{}",
                         "url", url, "remote_reservation_id", "id", "");
    }
    /* finishing / done: the post-reservation record, id without route */
    return json_pack("{s:s, s:{s:s}, s:b, s:s, s:o}",
                     "status", "Reservation::post_reservation",
                     "reservation_id", "id", r->id,
                     "finished", !strcmp(r->state, "done"),
                     "initial_data", r->initial_data ? r->initial_data
                                                     : "\"{}\"",
                     "end_data", !strcmp(r->state, "done") && r->end_data
                                     ? json_string(r->end_data)
                                     : weblab_json_none());
}

weblab_error_t *weblab_m_reserve_experiment(json_t **result,
                                            weblab_call_t *call)
{
    weblab_core_t *core = call->core;
    weblab_session_t *s;
    weblab_error_t *err = weblab_call_session(&s, call);
    json_t *eid = json_object_get(call->params, "experiment_id");
    const char *exp, *cat, *cid_text;
    const weblab_allowed_t *perm = NULL;
    weblab_reservation_t res, *r;
    weblab_user_t user;
    weblab_sql_t *conn;
    json_t *cid, *info;
    apr_status_t rv;
    char *d;

    if (err) {
        return err;
    }
    if (!json_is_object(eid)
        || !json_is_string(json_object_get(eid, "exp_name"))
        || !json_is_string(json_object_get(eid, "cat_name"))) {
        return weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                 "Parameter 'experiment_id' must be"
                                 " {\"exp_name\": str, \"cat_name\": str}");
    }
    exp = json_string_value(json_object_get(eid, "exp_name"));
    cat = json_string_value(json_object_get(eid, "cat_name"));
    cid_text = weblab_param_str(call, "client_initial_data", 1, &err);
    if (err) {
        return err;
    }
    weblab_param_str(call, "consumer_data", 1, &err);
    if (err) {
        return err;
    }
    cid = weblab_json_own(json_loads(cid_text ? cid_text : "{}",
                                     JSON_DECODE_ANY, NULL), call->p);
    if (!cid) {
        return weblab_error_make(call->p, WEBLAB_ERR_USER_PROCESSING,
                                 APR_EINVAL,
                                 "Invalid client_initial_data provided: a"
                                 " json-serialized object expected");
    }
    if (json_is_object(cid) && !json_object_get(cid, "back")) {
        json_object_set_new(cid, "back", json_string(apr_pstrcat(call->p,
            core->cfg.server_url, "labs/", quote(cat, call->p), "/",
            quote(exp, call->p), "/?finished=true", NULL)));
    }
    /* the best permission of the user for that experiment */
    if ((err = weblab_call_data(&conn, call))) {
        return err;
    }
    memset(&user, 0, sizeof(user));
    user.id = s->user_id;
    user.login = s->login;
    user.role = s->role;
    rv = weblab_db_allowed_one(&perm, conn, &user, exp, cat, call->p);
    if (rv != APR_SUCCESS) {
        weblab_sql_invalidate(core->data, conn);
        return weblab_backend_error(call, rv, "data database");
    }
    weblab_sql_release(core->data, conn);
    if (!perm) {
        return weblab_error_make(call->p, WEBLAB_ERR_UNKNOWN_EXPERIMENT_ID,
                                 APR_SUCCESS,
                                 "User can't access that experiment (or that"
                                 " experiment type does not exist)");
    }
    memset(&res, 0, sizeof(res));
    res.id = weblab_ids_uuid_new(call->p);
    res.session_id = s->id;
    res.user_id = s->user_id;
    res.login = s->login;
    res.full_name = s->full_name;
    res.exp_name = exp;
    res.cat_name = cat;
    res.priority = perm->priority;
    res.time_allowed = perm->time_allowed;
    res.init_in_accounting = perm->init_in_accounting;
    res.permanent_id = perm->permanent_id;
    d = json_dumps(cid, JSON_ENCODE_ANY);
    res.client_initial_data = apr_pstrdup(call->p, d ? d : "{}");
    free(d);
    info = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                     "username", s->login, "role", s->role,
                     "from_ip", call->in->client_ip ? call->in->client_ip : "",
                     "user_agent", call->in->user_agent
                                       ? call->in->user_agent : "",
                     "route", core->cfg.route,
                     "locale", call->in->locale ? call->in->locale : "");
    d = info ? json_dumps(info, 0) : NULL;
    res.request_info = apr_pstrdup(call->p, d ? d : "{}");
    free(d);
    json_decref(info);
    res.route = core->cfg.route;
    res.origin = call->in->client_ip;
    rv = weblab_coord_reserve(core->coord, &res, call->now);
    if (rv == APR_NOTFOUND) {
        /* maybe configured since the last sync: sync once and retry */
        if (weblab_lifecycle_sync(core, call->p) == APR_SUCCESS) {
            rv = weblab_coord_reserve(core->coord, &res, call->now);
        }
    }
    if (rv == APR_NOTFOUND) {
        return weblab_error_make(call->p, WEBLAB_ERR_USER_PROCESSING,
                                 APR_NOTFOUND,
                                 "No experiment of type <%s,%s> is currently"
                                 " deployed", exp, cat);
    }
    if (rv != APR_SUCCESS) {
        return weblab_backend_error(call, rv, "coordination");
    }
    rv = weblab_coord_get(core->coord, &r, res.id, call->p);
    if (rv != APR_SUCCESS || !r) {
        return weblab_backend_error(call, rv, "coordination");
    }
    call->reservation_id = r->id;
    call->reservation_public = weblab_ids_reservation_public(call->p, r->id,
                                                             r->route);
    *result = status_json(call, r);
    return NULL;
}

weblab_error_t *weblab_m_get_reservation_status(json_t **result,
                                                weblab_call_t *call)
{
    weblab_reservation_t *r;
    weblab_error_t *err = weblab_api_load_reservation(&r, call);
    int expired;

    if (!err) {
        err = refresh(&r, call, &expired);
    }
    if (err) {
        return err;
    }
    if (!strcmp(r->state, "cancelled")) {
        return no_current(call, NULL);
    }
    *result = status_json(call, r);
    return NULL;
}

/* check-not-expired-and-poll (spec 1.5): the reservation must be active. */
static weblab_error_t *active(weblab_reservation_t **r, weblab_call_t *call)
{
    weblab_error_t *err = weblab_api_load_reservation(r, call);
    int expired;

    if (!err) {
        err = refresh(r, call, &expired);
    }
    if (err) {
        return err;
    }
    if (expired || !is_active(*r)) {
        return no_current(call, NULL);
    }
    return NULL;
}

weblab_error_t *weblab_m_poll(json_t **result, weblab_call_t *call)
{
    weblab_reservation_t *r;
    weblab_error_t *err = active(&r, call);

    if (!err) {
        *result = weblab_json_none();
    }
    return err;
}

weblab_error_t *weblab_m_check_reservation_session(json_t **result,
                                                   weblab_call_t *call)
{
    weblab_reservation_t *r;
    weblab_error_t *err = weblab_api_load_reservation(&r, call);

    if (!err) {
        *result = json_true();
    }
    return err;
}

weblab_error_t *weblab_m_get_reservation_info(json_t **result,
                                              weblab_call_t *call)
{
    weblab_reservation_t *r;
    weblab_error_t *err = weblab_api_load_reservation(&r, call);

    if (!err) {
        *result = json_pack("{s:s, s:s}", "exp_name", r->exp_name,
                            "cat_name", r->cat_name);
    }
    return err;
}

weblab_error_t *weblab_m_finished_experiment(json_t **result,
                                             weblab_call_t *call)
{
    weblab_reservation_t *r;
    weblab_error_t *err = weblab_api_load_reservation(&r, call);
    apr_status_t rv;

    if (err) {
        return err;
    }
    rv = weblab_lifecycle_finish(call->core, r->id, WEBLAB_FINISH_USER,
                                 call->p);
    if (rv != APR_SUCCESS) {
        return weblab_backend_error(call, rv, "coordination");
    }
    *result = weblab_json_none();
    return NULL;
}

/* Send a command or a file to the lab of a confirmed reservation and log
 * it. A lab failure ends the reservation, as in the original, unless the
 * caller reports failures another way (async) or the lab does not take
 * commands at all (unmanaged labs). */
weblab_error_t *weblab_api_to_lab(const char **response, const char **errmsg,
                                  apr_int64_t *use_id, weblab_call_t *call,
                                  const char *command, const char *file_b64,
                                  const char *file_info, int end_on_failure)
{
    weblab_core_t *core = call->core;
    weblab_reservation_t *r;
    weblab_error_t *err = active(&r, call);
    weblab_lab_target_t t;
    weblab_sql_t *conn;
    double before;
    apr_status_t rv;

    *response = *errmsg = NULL;
    if (err) {
        return err;
    }
    if (strcmp(r->state, "confirmed") || !r->lab_session_id) {
        return no_current(call, "the reservation is not enabled");
    }
    *use_id = r->use_id;
    weblab_lifecycle_lab_target(&t, &r->lab, r->api);
    before = weblab_now();
    rv = command
        ? weblab_lab_send_command(response, errmsg, core->labs, &t, r->api,
                                  r->lab_session_id, command, call->p)
        : weblab_lab_send_file(response, errmsg, core->labs, &t, r->api,
                               r->lab_session_id, file_b64, file_info,
                               call->p);
    if (weblab_sql_acquire(core->data, &conn) == APR_SUCCESS) {
        apr_status_t lrv = command
            ? weblab_db_use_command(conn, r->use_id, command,
                                    rv == APR_SUCCESS ? *response : NULL,
                                    before, weblab_now())
            : weblab_db_use_file(conn, r->use_id, file_b64, file_info,
                                 rv == APR_SUCCESS ? *response : NULL, before,
                                 weblab_now(), call->p);

        if (weblab_sql_done(core->data, conn, lrv) != APR_SUCCESS) {
            weblab_core_log(core, WEBLAB_LOG_ERR, lrv,
                            "weblab: could not log a %s of use %"
                            APR_INT64_T_FMT, command ? "command" : "file",
                            r->use_id);
        }
    }
    if (rv == APR_ENOTIMPL) {
        return weblab_error_make(call->p, WEBLAB_ERR_USER_PROCESSING, rv,
                                 "%s", *errmsg ? *errmsg
                                 : "This laboratory does not take commands"
                                   " through WebLab");
    }
    if (weblab_lifecycle_is_transport_failure(rv)) {
        /* the lab is gone: another instance will take the student */
        weblab_lifecycle_lab_failed(core, r, rv, *errmsg, call->p);
        return weblab_error_make(call->p, WEBLAB_ERR_USER_PROCESSING, rv,
                                 "The laboratory stopped answering (%s);"
                                 " your reservation is back at the head of"
                                 " the queue", *errmsg ? *errmsg
                                                       : "no answer");
    }
    if (rv != APR_SUCCESS) {
        weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                        "weblab: lab %s failed a %s: %s", r->instance_name,
                        command ? "command" : "file",
                        *errmsg ? *errmsg : "");
        if (!end_on_failure) {
            return NULL;        /* *response NULL, *errmsg says why */
        }
        weblab_lifecycle_finish(core, r->id, WEBLAB_FINISH_KICKED, call->p);
        return weblab_error_make(call->p, WEBLAB_ERR_USER_PROCESSING, rv,
                                 "Failed to interact with the experiment: %s",
                                 *errmsg ? *errmsg : "no answer");
    }
    if (!*response) {
        *response = "";
    }
    return NULL;
}

static weblab_error_t *to_lab(json_t **result, weblab_call_t *call,
                              const char *command, const char *file_b64,
                              const char *file_info)
{
    const char *resp, *errmsg;
    apr_int64_t use_id;
    weblab_error_t *err = weblab_api_to_lab(&resp, &errmsg, &use_id, call,
                                            command, file_b64, file_info, 1);

    if (!err) {
        *result = json_pack("{s:s}", "commandstring", resp);
    }
    return err;
}

const char *weblab_api_command_param(weblab_call_t *call,
                                     weblab_error_t **err)
{
    json_t *cmd = json_object_get(call->params, "command");

    *err = NULL;
    if (json_is_object(cmd)) {
        cmd = json_object_get(cmd, "commandstring");
    }
    if (!json_is_string(cmd)) {
        *err = weblab_error_make(call->p, WEBLAB_ERR_WEBLAB, APR_EINVAL,
                                 "Parameter 'command' must be"
                                 " {\"commandstring\": str}");
        return NULL;
    }
    return json_string_value(cmd);
}

weblab_error_t *weblab_m_send_command(json_t **result, weblab_call_t *call)
{
    weblab_error_t *err;
    const char *cmd = weblab_api_command_param(call, &err);

    return err ? err : to_lab(result, call, cmd, NULL, NULL);
}

weblab_error_t *weblab_m_send_file(json_t **result, weblab_call_t *call)
{
    weblab_error_t *err;
    const char *content = weblab_param_str(call, "file_content", 0, &err);
    const char *info;

    if (err) {
        return err;
    }
    info = weblab_param_str(call, "file_info", 0, &err);
    if (err) {
        return err;
    }
    return to_lab(result, call, NULL, content, info);
}
