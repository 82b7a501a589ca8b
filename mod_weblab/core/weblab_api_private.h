/* Shared between the API files only. */
#ifndef WEBLAB_API_PRIVATE_H
#define WEBLAB_API_PRIVATE_H

#include <jansson.h>
#include "weblab_api.h"
#include "weblab_error.h"
#include "weblab_db.h"

typedef struct weblab_call_t {
    weblab_core_t *core;
    apr_pool_t *p;
    json_t *params;                 /* what is left after session/reservation */
    const char *session_id;         /* resolved, route stripped */
    const char *reservation_public; /* as received */
    const char *reservation_id;     /* uuid part */
    const weblab_req_in_t *in;
    weblab_req_out_t *out;
    double now;
} weblab_call_t;

typedef weblab_error_t *(*weblab_method_fn)(json_t **result,
                                            weblab_call_t *call);

/* Methods (weblab_api_user.c, weblab_api_reservation.c). */
weblab_error_t *weblab_m_login(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_logout(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_check_user_session(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_get_user_information(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_list_experiments(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_is_admin(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_is_instructor(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_get_reservation_id_by_session_id(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_reserve_experiment(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_get_reservation_status(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_poll(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_send_command(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_send_file(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_finished_experiment(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_get_reservation_info(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_check_reservation_session(json_t **result, weblab_call_t *call);

weblab_error_t *weblab_m_send_async_command(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_send_async_file(json_t **result, weblab_call_t *call);
weblab_error_t *weblab_m_check_async_command_status(json_t **result, weblab_call_t *call);

/* Send a command (or, command NULL, a file) to the lab of the call's
 * confirmed reservation and log it in the uses log; *use_id is the use.
 * A lab failure ends the reservation when end_on_failure, else returns no
 * error with *response NULL and *errmsg set (weblab_api_reservation.c). */
weblab_error_t *weblab_api_to_lab(const char **response, const char **errmsg,
                                  apr_int64_t *use_id, weblab_call_t *call,
                                  const char *command, const char *file_b64,
                                  const char *file_info, int end_on_failure);
/* The call's reservation, or SessionNotFound (unknown, or presented with a
 * valid session of another user). */
weblab_error_t *weblab_api_load_reservation(weblab_reservation_t **r,
                                            weblab_call_t *call);
/* The "command" parameter: {"commandstring": str} (or a plain string). */
const char *weblab_api_command_param(weblab_call_t *call,
                                     weblab_error_t **err);

/* The web administration's methods (weblab_api_admin.c). */
weblab_error_t *weblab_m_admin_whoami(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_list_users(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_add_user(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_add_users_csv(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_edit_user(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_set_password(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_set_disabled(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_remove_user(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_list_groups(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_add_group(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_remove_group(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_add_group_member(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_remove_group_member(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_list_permissions(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_grant(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_revoke(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_grant_instructor(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_revoke_instructor(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_list_experiments(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_add_experiment(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_remove_experiment(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_list_instances(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_add_instance(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_remove_instance(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_set_instance_checkers(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_list_uses(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_get_use(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_export_uses(json_t **result,
        weblab_call_t *call);
weblab_error_t *weblab_m_admin_live_status(json_t **result,
        weblab_call_t *call);

/* Helpers (weblab_api.c). */

/* Tie a jansson value to the pool: decref'd when p is destroyed. */
json_t *weblab_json_own(json_t *v, apr_pool_t *p);
/* None as the original serializes it: {} */
json_t *weblab_json_none(void);
/* A string parameter; NULL with *err set when absent or not a string
 * (optional: absent gives NULL without error). */
const char *weblab_param_str(weblab_call_t *call, const char *name,
                             int optional, weblab_error_t **err);
/* The user session of the call, or a SessionNotFound error. */
weblab_error_t *weblab_call_session(weblab_session_t **s, weblab_call_t *call);
/* A temporary backend failure as an error answer (logged by the glue). */
weblab_error_t *weblab_backend_error(weblab_call_t *call, apr_status_t rv,
                                     const char *what);
/* Acquire a data-database connection or fail with a backend error. */
weblab_error_t *weblab_call_data(weblab_sql_t **conn, weblab_call_t *call);

#endif
