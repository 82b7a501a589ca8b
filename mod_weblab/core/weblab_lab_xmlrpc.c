/* The "xmlrpc" lab transport: the WebLab-Deusto experiment-server protocol
 * as the original's laboratory server really sends it (spec 4.4, 10.2).
 *
 * - Methods are "Util.<name>"; the body is built and the answer parsed by
 *   xmlrpc-c, never by hand; Content-Type text/xml.
 * - A URL without a path (or with just "/") is POSTed to /RPC2, otherwise
 *   to its path as given; an auth token travels as "?auth=<token>" only.
 * - API "1": start_experiment() and dispose() without arguments, results
 *   ignored ("ok"); should_finish is never called.
 * - API "2": the arguments of the original's table (spec 4.4).
 * - API "2_concurrent": the lab session id goes first, as the struct
 *   {"id": "<id>"}, to start, send_command, send_file, should_finish and
 *   dispose.
 * - get_api: a fault is retried once, then API "1" is assumed. */
#include "weblab_lab.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <apr_escape.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/json.h>

enum { API_UNKNOWN, API_1, API_2, API_2_CONCURRENT };

/* An answer, converted before its xmlrpc_value is freed. */
typedef struct {
    const char *text;       /* strings as sent, nil as "", numbers and
                             * booleans as Python's str() writes them,
                             * structs and arrays as JSON */
    int is_number;          /* int, i8 or double */
    double number;
    int fault;              /* the call ended in an XML-RPC fault */
} call_result_t;

static int api_level(const char *api)
{
    if (!api) {
        return API_UNKNOWN;
    }
    if (!strcmp(api, "1")) {
        return API_1;
    }
    if (!strcmp(api, "2")) {
        return API_2;
    }
    return strcmp(api, "2_concurrent") ? API_UNKNOWN : API_2_CONCURRENT;
}

/* The URL a call is POSTed to, from p; NULL when t->url does not parse. */
static const char *call_url(const weblab_lab_target_t *t, apr_pool_t *p)
{
    apr_uri_t uri;

    if (apr_uri_parse(p, t->url, &uri) != APR_SUCCESS || !uri.hostname) {
        return NULL;
    }
    if (!uri.path || !*uri.path || !strcmp(uri.path, "/")) {
        uri.path = "/RPC2";             /* what Python's ServerProxy does */
    }
    if (t->auth && *t->auth) {
        const char *token = apr_pescape_urlencoded(p, t->auth);

        uri.query = uri.query && *uri.query
                        ? apr_pstrcat(p, uri.query, "&auth=", token, NULL)
                        : apr_pstrcat(p, "auth=", token, NULL);
    }
    return apr_uri_unparse(p, &uri, APR_URI_UNP_REVEALPASSWORD);
}

/* Shortest "%g" form that reads back as d, like Python's repr(float). */
static const char *double_text(double d, apr_pool_t *p)
{
    const char *s = apr_psprintf(p, "%.15g", d);

    if (strtod(s, NULL) != d) {
        s = apr_psprintf(p, "%.17g", d);
    }
    return s;
}

/* Fill r from v. Returns APR_EGENERAL (and *errmsg) for types that have no
 * sensible string form (base64, dateTime, C pointers). */
static apr_status_t read_value(call_result_t *r, const char **errmsg,
                               xmlrpc_env *env, xmlrpc_value *v,
                               apr_pool_t *p)
{
    xmlrpc_type type = xmlrpc_value_type(v);

    switch (type) {
    case XMLRPC_TYPE_STRING: {
        const char *s = NULL;
        size_t len = 0;

        xmlrpc_read_string_lp(env, v, &len, &s);
        if (!env->fault_occurred) {
            r->text = apr_pstrmemdup(p, s, len);
            free((void *)s);
        }
        break;
    }
    case XMLRPC_TYPE_NIL:
        r->text = "";
        break;
    case XMLRPC_TYPE_INT: {
        int i = 0;

        xmlrpc_read_int(env, v, &i);
        r->is_number = 1;
        r->number = i;
        r->text = apr_itoa(p, i);
        break;
    }
    case XMLRPC_TYPE_I8: {
        xmlrpc_int64 i = 0;

        xmlrpc_read_i8(env, v, &i);
        r->is_number = 1;
        r->number = (double)i;
        r->text = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)i);
        break;
    }
    case XMLRPC_TYPE_DOUBLE: {
        double d = 0;

        xmlrpc_read_double(env, v, &d);
        r->is_number = 1;
        r->number = d;
        r->text = double_text(d, p);
        break;
    }
    case XMLRPC_TYPE_BOOL: {
        xmlrpc_bool b = 0;

        xmlrpc_read_bool(env, v, &b);
        r->text = b ? "True" : "False";
        break;
    }
    case XMLRPC_TYPE_STRUCT:
    case XMLRPC_TYPE_ARRAY: {
        xmlrpc_mem_block *json = XMLRPC_MEMBLOCK_NEW(char, env, 0);

        if (!env->fault_occurred) {
            xmlrpc_serialize_json(env, v, json);
            if (!env->fault_occurred) {
                r->text = apr_pstrmemdup(p,
                                         XMLRPC_MEMBLOCK_CONTENTS(char, json),
                                         XMLRPC_MEMBLOCK_SIZE(char, json));
            }
            XMLRPC_MEMBLOCK_FREE(char, json);
        }
        break;
    }
    default:
        *errmsg = apr_psprintf(p, "unexpected %s in the answer",
                               xmlrpc_type_name(type));
        return APR_EGENERAL;
    }
    if (env->fault_occurred) {
        *errmsg = apr_pstrcat(p, "unreadable answer: ", env->fault_string,
                              NULL);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The text of member key of a fault struct, or "?" if missing/odd. */
static const char *fault_member(xmlrpc_value *fault, const char *key,
                                apr_pool_t *p)
{
    xmlrpc_env env;
    xmlrpc_value *v = NULL;
    call_result_t r = { "?", 0, 0, 0 };
    const char *ignored;

    xmlrpc_env_init(&env);
    xmlrpc_struct_find_value(&env, fault, key, &v);
    if (!env.fault_occurred && v) {
        read_value(&r, &ignored, &env, v, p);
        xmlrpc_DECREF(v);
    }
    xmlrpc_env_clean(&env);
    return r.text ? r.text : "?";
}

/* xmlrpc-c only takes an int faultCode, but servers built on the
 * original's voodoo.gen send the exception's type name there (spec 4.1).
 * When the strict parse failed, hand the <value> inside <fault> to
 * xmlrpc-c's value parser. Returns 1 and sets *msg if it was a fault. */
static int read_loose_fault(const char **msg, const char *resp,
                            apr_pool_t *p)
{
    static const char open_tag[] = "<fault>", close_tag[] = "</fault>";
    const char *start = strstr(resp, open_tag);
    const char *end = NULL, *hit;
    xmlrpc_env env;
    xmlrpc_value *fault = NULL;
    int found = 0;

    if (!start) {
        return 0;
    }
    start += sizeof(open_tag) - 1;
    for (hit = strstr(start, close_tag); hit;
         hit = strstr(hit + 1, close_tag)) {
        end = hit;
    }
    if (!end) {
        return 0;
    }
    while (start < end && strchr(" \t\r\n", *start)) {
        start++;
    }
    xmlrpc_env_init(&env);
    xmlrpc_parse_value_xml(&env, start, end - start, &fault);
    if (!env.fault_occurred
        && xmlrpc_value_type(fault) == XMLRPC_TYPE_STRUCT) {
        *msg = apr_psprintf(p, "fault %s: %s",
                            fault_member(fault, "faultCode", p),
                            fault_member(fault, "faultString", p));
        found = 1;
    }
    if (fault) {
        xmlrpc_DECREF(fault);
    }
    xmlrpc_env_clean(&env);
    return found;
}

/* Append the lab session struct (when session_id) and the strings to
 * params. */
static void add_params(xmlrpc_env *env, xmlrpc_value *params,
                       const char *session_id, int nargs,
                       const char *const *args)
{
    int i;

    if (session_id) {
        xmlrpc_value *id = xmlrpc_build_value(env, "{s:s}", "id", session_id);

        if (!env->fault_occurred) {
            xmlrpc_array_append_item(env, params, id);
            xmlrpc_DECREF(id);
        }
    }
    for (i = 0; i < nargs && !env->fault_occurred; i++) {
        xmlrpc_value *s = xmlrpc_string_new(env, args[i] ? args[i] : "");

        if (!env->fault_occurred) {
            xmlrpc_array_append_item(env, params, s);
            xmlrpc_DECREF(s);
        }
    }
}

/* One XML-RPC call of Util.<method>(args...), with {"id": session_id}
 * first when session_id is not NULL. *r gets the converted answer. */
static apr_status_t do_call(call_result_t *r, const char **errmsg,
                            weblab_lab_client_t *client,
                            const weblab_lab_target_t *t, const char *method,
                            const char *session_id, int nargs,
                            const char *const *args, apr_pool_t *p)
{
    const char *name = apr_pstrcat(p, "Util.", method, NULL);
    const char *url = call_url(t, p);
    const char *resp = NULL, *fault_string = NULL, *why = NULL;
    apr_size_t resp_len = 0;
    xmlrpc_value *params = NULL, *result = NULL;
    xmlrpc_mem_block *body = NULL;
    xmlrpc_env env;
    int status = 0, fault_code = 0;
    apr_status_t rv = APR_EGENERAL;

    memset(r, 0, sizeof(*r));
    if (!url) {
        *errmsg = apr_pstrcat(p, name, ": the lab URL does not parse", NULL);
        return APR_EINVAL;
    }
    xmlrpc_env_init(&env);
    params = xmlrpc_array_new(&env);
    if (!env.fault_occurred) {
        add_params(&env, params, session_id, nargs, args);
    }
    if (!env.fault_occurred) {
        body = XMLRPC_MEMBLOCK_NEW(char, &env, 0);
    }
    if (!env.fault_occurred) {
        xmlrpc_serialize_call2(&env, body, name, params, xmlrpc_dialect_i8);
    }
    if (env.fault_occurred) {
        why = apr_pstrcat(p, "cannot encode the call: ", env.fault_string,
                          NULL);
        goto out;
    }
    rv = weblab_lab_http(&status, &resp, &resp_len, &why, client, "POST", url,
                         NULL, "text/xml",
                         XMLRPC_MEMBLOCK_CONTENTS(char, body),
                         XMLRPC_MEMBLOCK_SIZE(char, body), NULL, NULL, p);
    if (rv != APR_SUCCESS) {
        goto out;
    }
    rv = APR_EGENERAL;
    if (status != 200) {
        why = apr_psprintf(p, "HTTP %d from the lab", status);
        goto out;
    }
    xmlrpc_parse_response2(&env, resp, resp_len, &result, &fault_code,
                           &fault_string);
    if (env.fault_occurred) {
        r->fault = read_loose_fault(&why, resp, p);
        if (!r->fault) {
            why = apr_pstrcat(p, "unparsable answer: ", env.fault_string,
                              NULL);
        }
    }
    else if (fault_string) {
        r->fault = 1;
        why = apr_psprintf(p, "fault %d: %s", fault_code, fault_string);
    }
    else {
        rv = read_value(r, &why, &env, result, p);
    }
out:
    if (rv != APR_SUCCESS) {
        *errmsg = apr_pstrcat(p, name, ": ", why ? why : "failed", NULL);
    }
    free((void *)fault_string);
    if (result) {
        xmlrpc_DECREF(result);
    }
    if (body) {
        XMLRPC_MEMBLOCK_FREE(char, body);
    }
    if (params) {
        xmlrpc_DECREF(params);
    }
    xmlrpc_env_clean(&env);
    return rv;
}

/* A call that depends on the API: checks api, sends the session struct
 * first under 2_concurrent. *level gets the API level. */
static apr_status_t api_call(call_result_t *r, int *level,
                             const char **errmsg, weblab_lab_client_t *client,
                             const weblab_lab_target_t *t, const char *api,
                             const char *lab_session_id, const char *method,
                             int nargs, const char *const *args,
                             apr_pool_t *p)
{
    *level = api_level(api);
    memset(r, 0, sizeof(*r));
    if (*level == API_UNKNOWN) {
        *errmsg = apr_psprintf(p, "Util.%s: unknown experiment server API "
                               "'%.32s'", method, api ? api : "(null)");
        return APR_EINVAL;
    }
    if (*level == API_2_CONCURRENT && (!lab_session_id || !*lab_session_id)) {
        *errmsg = apr_psprintf(p, "Util.%s: API 2_concurrent needs a lab "
                               "session id", method);
        return APR_EINVAL;
    }
    return do_call(r, errmsg, client, t, method,
                   *level == API_2_CONCURRENT ? lab_session_id : NULL, nargs,
                   args, p);
}

/* ---- the transport ---- */

static apr_status_t xr_init(weblab_lab_client_t *client, apr_pool_t *p)
{
    (void)client;
    (void)p;
    /* xmlrpc-c refuses answers over 512 KiB by default, a process-wide
     * setting; ours is WEBLAB_LAB_MAX_RESPONSE, enforced while reading. */
    if (xmlrpc_limit_get(XMLRPC_XML_SIZE_LIMIT_ID) < WEBLAB_LAB_MAX_RESPONSE) {
        xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, WEBLAB_LAB_MAX_RESPONSE);
    }
    return APR_SUCCESS;
}

static apr_status_t xr_get_api(const char **api, const char **errmsg,
                               weblab_lab_client_t *client,
                               const weblab_lab_target_t *t, apr_pool_t *p)
{
    static const char *const names[] = { NULL, "1", "2", "2_concurrent" };
    call_result_t r;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        apr_status_t rv = do_call(&r, errmsg, client, t, "get_api", NULL, 0,
                                  NULL, p);
        int level;

        if (rv == APR_SUCCESS) {
            level = api_level(r.text);
            if (level == API_UNKNOWN) {
                *errmsg = apr_psprintf(p, "Util.get_api: unknown API "
                                       "'%.32s'", r.text);
                return APR_EGENERAL;
            }
            *api = names[level];
            return APR_SUCCESS;
        }
        if (!r.fault) {
            return rv;                  /* transport failure: an error */
        }
    }
    /* Faulted twice: an API 1 server, which may lack get_api (spec 4.4). */
    *errmsg = NULL;
    *api = "1";
    return APR_SUCCESS;
}

static apr_status_t xr_test_me(const char **echo, const char **errmsg,
                               weblab_lab_client_t *client,
                               const weblab_lab_target_t *t, const char *msg,
                               apr_pool_t *p)
{
    call_result_t r;
    apr_status_t rv = do_call(&r, errmsg, client, t, "test_me", NULL, 1, &msg,
                              p);

    if (rv == APR_SUCCESS) {
        *echo = r.text;
    }
    return rv;
}

/* The lab takes our lab_session_id: *remote_session_id stays NULL. */
static apr_status_t xr_start(const char **response,
                             const char **remote_session_id,
                             const char **errmsg, weblab_lab_client_t *client,
                             const weblab_lab_target_t *t, const char *api,
                             const char *lab_session_id,
                             const char *client_initial_data,
                             const char *server_initial_data, apr_pool_t *p)
{
    const char *args[2];
    call_result_t r;
    apr_status_t rv;
    int level = api_level(api);

    args[0] = client_initial_data ? client_initial_data : "{}";
    args[1] = server_initial_data ? server_initial_data : "{}";
    rv = api_call(&r, &level, errmsg, client, t, api, lab_session_id,
                  "start_experiment", level == API_1 ? 0 : 2, args, p);
    if (rv == APR_SUCCESS) {
        *response = level == API_1 ? "ok" : r.text;
    }
    return rv;
}

static apr_status_t xr_send_command(const char **response,
                                    const char **errmsg,
                                    weblab_lab_client_t *client,
                                    const weblab_lab_target_t *t,
                                    const char *api,
                                    const char *lab_session_id,
                                    const char *command, apr_pool_t *p)
{
    call_result_t r;
    int level;
    apr_status_t rv = api_call(&r, &level, errmsg, client, t, api,
                               lab_session_id, "send_command_to_device", 1,
                               &command, p);

    if (rv == APR_SUCCESS) {
        *response = r.text;
    }
    return rv;
}

static apr_status_t xr_send_file(const char **response, const char **errmsg,
                                 weblab_lab_client_t *client,
                                 const weblab_lab_target_t *t,
                                 const char *api, const char *lab_session_id,
                                 const char *content_b64,
                                 const char *file_info, apr_pool_t *p)
{
    const char *args[2];
    call_result_t r;
    int level;
    apr_status_t rv;

    args[0] = content_b64;
    args[1] = file_info;
    rv = api_call(&r, &level, errmsg, client, t, api, lab_session_id,
                  "send_file_to_device", 2, args, p);
    if (rv == APR_SUCCESS) {
        *response = r.text;
    }
    return rv;
}

static apr_status_t xr_should_finish(double *seconds, const char **errmsg,
                                     weblab_lab_client_t *client,
                                     const weblab_lab_target_t *t,
                                     const char *api,
                                     const char *lab_session_id,
                                     apr_pool_t *p)
{
    call_result_t r;
    int level;
    apr_status_t rv;

    if (api_level(api) == API_1) {
        *seconds = 0;                   /* never asked (spec 4.3) */
        return APR_SUCCESS;
    }
    rv = api_call(&r, &level, errmsg, client, t, api, lab_session_id,
                  "should_finish", 0, NULL, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!r.is_number) {
        *errmsg = "Util.should_finish: the answer is not a number";
        return APR_EGENERAL;
    }
    *seconds = r.number;
    return APR_SUCCESS;
}

static apr_status_t xr_dispose(const char **response, const char **errmsg,
                               weblab_lab_client_t *client,
                               const weblab_lab_target_t *t, const char *api,
                               const char *lab_session_id, apr_pool_t *p)
{
    call_result_t r;
    int level;
    apr_status_t rv = api_call(&r, &level, errmsg, client, t, api,
                               lab_session_id, "dispose", 0, NULL, p);

    if (rv == APR_SUCCESS) {
        *response = level == API_1 ? "ok" : r.text;
    }
    return rv;
}

const weblab_lab_transport_t weblab_lab_xmlrpc_transport = {
    "xmlrpc",
    xr_init,
    xr_get_api,
    xr_test_me,
    xr_start,
    xr_send_command,
    xr_send_file,
    xr_should_finish,
    xr_dispose,
};
