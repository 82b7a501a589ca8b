/* Shared by weblab_api_admin*.c only: who calls an administration method,
 * and the parameter and answer helpers every such method uses. */
#ifndef WEBLAB_API_ADMIN_PRIVATE_H
#define WEBLAB_API_ADMIN_PRIVATE_H

#include "weblab_api_private.h"
#include "weblab_db_admin.h"

/* What a method needs of its caller. */
typedef enum {
    WEBLAB_ADM_USER,            /* any logged-in user */
    WEBLAB_ADM_INSTRUCTOR,      /* administrators, and instructors (scoped) */
    WEBLAB_ADM_ADMIN            /* administrators only */
} weblab_adm_level_e;

/* One admin call: who calls, a data-database connection and the
 * administration handle on it. */
typedef struct {
    weblab_call_t *call;
    weblab_user_t *user;
    int is_admin;
    int is_instructor;
    weblab_sql_t *conn;
    weblab_db_admin_t *adm;
    /* instructors: the groups they may see (apr_int64_t); NULL: all */
    apr_array_header_t *only_groups;
} weblab_adm_t;

/* The session's user, its flags and a data connection in *a; refuses a
 * caller below need (SessionNotFound, or Server.WebLab "Permission
 * denied"). On error nothing is held. */
weblab_error_t *weblab_adm_enter(weblab_adm_t *a, weblab_call_t *call,
                                 weblab_adm_level_e need);
/* Give the connection back (dropped after a connection failure); returns
 * err. */
weblab_error_t *weblab_adm_leave(weblab_adm_t *a, weblab_error_t *err);
/* End a method: *result = value (None when NULL) when rv is APR_SUCCESS,
 * else the administration layer's message as the error; always leaves.
 * value is a new reference, released on error. */
weblab_error_t *weblab_adm_finish(weblab_adm_t *a, json_t **result,
                                  json_t *value, apr_status_t rv);
/* Mark err's message as safe to show without debug mode; returns err. */
weblab_error_t *weblab_adm_shown(weblab_error_t *err);
/* A bad-parameter error (fmt has one %s for name), always shown. */
weblab_error_t *weblab_adm_bad_param(weblab_call_t *call, const char *fmt,
                                     const char *name);

/* Parameters (from the call's pool). Each sets *err (always shown) when
 * the parameter has the wrong type or a required one is missing. */
/* A string; optional and empty both give NULL. */
const char *weblab_adm_str(weblab_adm_t *a, const char *name, int optional,
                           weblab_error_t **err);
/* An integer (number or digits); *given = 0 when absent. */
apr_int64_t weblab_adm_int(weblab_adm_t *a, const char *name, int *given,
                           weblab_error_t **err);
/* -1 when absent, else 0 or 1 (true/false, 1/0, "true"/"false"). */
int weblab_adm_bool(weblab_adm_t *a, const char *name, weblab_error_t **err);
/* "experiment": "exp@cat", or exp_name + cat_name; 0 with *err if bad. */
int weblab_adm_experiment(weblab_adm_t *a, const char **exp,
                          const char **cat, weblab_error_t **err);

/* json_string(s), or null for NULL. */
json_t *weblab_adm_js(const char *s);

#endif
