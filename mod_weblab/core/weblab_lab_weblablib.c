/* The "http" lab transport: unmanaged labs written with weblablib, spoken
 * to as the original's HttpExperiment does (spec 4.5, 10.3).
 *
 * - Every request goes to <url>/weblab/sessions/<path> (a '/' at the end of
 *   the base URL is tolerated), with "Accept: application/json,text/html"
 *   and, when the target has a user, "Authorization: Basic ..." (even on
 *   the api probe, which weblablib leaves open). POST bodies are JSON
 *   (Content-Type: application/json).
 * - get_api probes GET api ({"api_version": "1"}); from the core's point of
 *   view the lab is then an API "2" experiment server, as HttpExperiment
 *   is. The api the core passes to the other calls is not used: the lab's
 *   session id says everything.
 * - test_me is GET test ({"valid": true}); a refusal (401) becomes an error
 *   carrying the lab's error_messages. On success the message is echoed,
 *   so that the core's echo check holds.
 * - start POSTs {"back", "client_initial_data", "server_initial_data"},
 *   the data as JSON objects (not strings), and answers the core the
 *   original's {"initial_configuration": "{\"url\": ...}", "batch": false}.
 *   The lab chooses the session id: it comes back as *remote_session_id.
 * - should_finish is GET <sid>/status ({"should_finish": n}); dispose is
 *   POST <sid> {"action": "delete"}, answered to the core as
 *   {"finished": true, "data": ""} unless the lab says otherwise.
 * - Commands and files do not go through WebLab: APR_ENOTIMPL and a
 *   message for the student (the original failed the reservation).
 * - Answers "ok", "" and "deleted" read as {} (spec 4.5). Anything else
 *   that is not a JSON object, and any status other than 2xx, is an error.
 *
 * Not supported (HttpExperiment options): the "form" request format,
 * API "0" (no api/test, data as strings) and extension URLs (".php").
 * The weblablib session id is a bearer token (the student's browser enters
 * the lab with it): errors never carry it. */
#include "weblab_lab.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <apr_strings.h>
#include <apr_escape.h>

#define NO_COMMANDS \
    "this lab does not take commands through WebLab (unmanaged lab)"
#define SNIPPET_MAX 200         /* of a lab's error page, in errors */
#define SESSION_ID_MAX 64     /* Reservation.lab_session_id VARCHAR(64);
                                 * weblablib's are 43 characters */

static const char *const json_headers[] = {
    "Accept: application/json,text/html",
    NULL
};

/* ---- JSON owned by a pool (as mod_md's md_json does) ---- */

static apr_status_t json_cleanup(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

/* j, released when p is destroyed; NULL stays NULL. */
static json_t *pool_json(json_t *j, apr_pool_t *p)
{
    if (j) {
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

/* json_dumps as Python's json.dumps writes it (", ", ": ", ASCII), from
 * p; NULL when out of memory. */
static const char *json_text(const json_t *j, apr_pool_t *p)
{
    char *d = json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    const char *out = d ? apr_pstrdup(p, d) : NULL;

    free(d);
    return out;
}

/* ---- one request ---- */

/* The start of a lab's answer, for errors. */
static const char *snippet(const char *resp, apr_pool_t *p)
{
    if (!resp || !*resp) {
        return "(empty answer)";
    }
    if (strlen(resp) <= SNIPPET_MAX) {
        return resp;
    }
    return apr_pstrcat(p, apr_pstrndup(p, resp, SNIPPET_MAX), "...", NULL);
}

/* The answer as a JSON object owned by p; "ok", "" and "deleted" (spaces
 * around ignored) read as {}. NULL when it is not a JSON object. */
static json_t *read_object(const char *resp, apr_size_t len, apr_pool_t *p)
{
    const char *s = resp, *e = resp + len;
    json_t *o;

    while (s < e && strchr(" \t\r\n", *s)) {
        s++;
    }
    while (e > s && strchr(" \t\r\n", e[-1])) {
        e--;
    }
    if (s == e || (e - s == 2 && !memcmp(s, "ok", 2))
        || (e - s == 7 && !memcmp(s, "deleted", 7))) {
        return pool_json(json_object(), p);
    }
    o = pool_json(json_loadb(s, e - s, 0, NULL), p);
    return json_is_object(o) ? o : NULL;
}

/* "a; b; c" from the strings of the array v (weblablib's error_messages),
 * or NULL when there are none. */
static const char *joined_messages(json_t *v, apr_pool_t *p)
{
    const char *out = NULL;
    size_t i;

    for (i = 0; i < json_array_size(v); i++) {
        json_t *m = json_array_get(v, i);

        if (json_is_string(m)) {
            out = out ? apr_pstrcat(p, out, "; ", json_string_value(m), NULL)
                      : json_string_value(m);
        }
    }
    return out;
}

/* Why a lab answered status: its error_messages, its message, or the
 * start of its page. */
static const char *http_error(const char *what, int status, json_t *o,
                              const char *resp, apr_pool_t *p)
{
    const char *why = joined_messages(json_object_get(o, "error_messages"),
                                      p);

    if (!why && json_is_string(json_object_get(o, "message"))) {
        why = json_string_value(json_object_get(o, "message"));
    }
    return apr_psprintf(p, "%s: HTTP %d from the lab%s: %s", what, status,
                        status == 401 ? " (credentials refused)" : "",
                        why ? why : snippet(resp, p));
}

/* One request to <t->url>/weblab/sessions/<path>: GET, or POST of body
 * when body is not NULL. what names it in errors ("weblablib GET ...").
 * On APR_SUCCESS the lab answered 2xx with a JSON object: *answer, owned
 * by p. Else APR_TIMEUP, APR_ECONNREFUSED, APR_EGENERAL and *errmsg. */
static apr_status_t call(json_t **answer, const char **errmsg,
                         weblab_lab_client_t *client,
                         const weblab_lab_target_t *t, const char *what,
                         const char *path, const json_t *body, apr_pool_t *p)
{
    size_t n = strlen(t->url);
    const char *url, *sent = NULL, *resp = NULL, *why = NULL;
    apr_size_t resp_len = 0;
    int status = 0;
    json_t *o;
    apr_status_t rv;

    *answer = NULL;
    while (n > 0 && t->url[n - 1] == '/') {
        n--;
    }
    url = apr_pstrcat(p, apr_pstrmemdup(p, t->url, n), "/weblab/sessions/",
                      path, NULL);
    if (body && !(sent = json_text(body, p))) {
        *errmsg = apr_pstrcat(p, what, ": out of memory", NULL);
        return APR_ENOMEM;
    }
    rv = weblab_lab_http(&status, &resp, &resp_len, &why, client,
                         body ? "POST" : "GET", url, json_headers,
                         "application/json", sent, sent ? strlen(sent) : 0,
                         t->auth_user, t->auth_password, p);
    if (rv != APR_SUCCESS) {
        *errmsg = apr_pstrcat(p, what, ": ", why ? why : "failed", NULL);
        return rv;
    }
    o = read_object(resp, resp_len, p);
    if (status < 200 || status > 299) {
        *errmsg = http_error(what, status, o, resp, p);
        return APR_EGENERAL;
    }
    if (!o) {
        *errmsg = apr_psprintf(p, "%s: the answer is not a JSON object: %s",
                               what, snippet(resp, p));
        return APR_EGENERAL;
    }
    *answer = o;
    return APR_SUCCESS;
}

/* The path of a session ("<sid><suffix>", the id escaped), or APR_EINVAL
 * without one. */
static apr_status_t session_path(const char **path, const char **errmsg,
                                 const char *sid, const char *suffix,
                                 const char *what, apr_pool_t *p)
{
    if (!sid || !*sid) {
        *errmsg = apr_pstrcat(p, what, ": no lab session id", NULL);
        return APR_EINVAL;
    }
    *path = apr_pstrcat(p, apr_pescape_path_segment(p, sid), suffix, NULL);
    return APR_SUCCESS;
}

/* msg without the session id. Ids under 8 characters are no secret worth
 * mangling every message for (each copy of "1" would go). */
static const char *hide_session(const char *msg, const char *sid,
                                apr_pool_t *p)
{
    if (!msg || !sid || strlen(sid) < 8) {
        return msg;
    }
    return weblab_lab_redact(msg, sid, "<session>", p);
}

/* Parse a JSON object handed over as a string (client or server initial
 * data); NULL when it is not one. */
static json_t *object_arg(const char *s, apr_pool_t *p)
{
    json_t *o = pool_json(json_loads(s && *s ? s : "{}", 0, NULL), p);

    return json_is_object(o) ? o : NULL;
}

/* A session id we can store and put in a URL: printable, bounded. */
static int usable_session_id(const json_t *v)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t n = s ? strlen(s) : 0;
    size_t i;

    if (!n || n > SESSION_ID_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* ---- the transport ---- */

static apr_status_t wl_get_api(const char **api, const char **errmsg,
                               weblab_lab_client_t *client,
                               const weblab_lab_target_t *t, apr_pool_t *p)
{
    static const char what[] = "weblablib GET /weblab/sessions/api";
    json_t *o, *v;
    apr_status_t rv = call(&o, errmsg, client, t, what, "api", NULL, p);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    v = json_object_get(o, "api_version");
    if (!(json_is_string(v) && *json_string_value(v))
        && !(json_is_integer(v) && json_integer_value(v))) {
        *errmsg = apr_pstrcat(p, what, ": no api_version in the answer",
                              NULL);
        return APR_EGENERAL;
    }
    *api = "2";                 /* what HttpExperiment is (spec 4.5) */
    return APR_SUCCESS;
}

static apr_status_t wl_test_me(const char **echo, const char **errmsg,
                               weblab_lab_client_t *client,
                               const weblab_lab_target_t *t, const char *msg,
                               apr_pool_t *p)
{
    static const char what[] = "weblablib GET /weblab/sessions/test";
    json_t *o;
    apr_status_t rv = call(&o, errmsg, client, t, what, "test", NULL, p);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!json_is_true(json_object_get(o, "valid"))) {
        const char *why = joined_messages(json_object_get(o,
                                                          "error_messages"),
                                          p);

        *errmsg = apr_pstrcat(p, what, ": the lab says it is not valid: ",
                              why ? why : "no reason given", NULL);
        return APR_EGENERAL;
    }
    *echo = apr_pstrdup(p, msg ? msg : "");
    return APR_SUCCESS;
}

static apr_status_t wl_start(const char **response,
                             const char **remote_session_id,
                             const char **errmsg, weblab_lab_client_t *client,
                             const weblab_lab_target_t *t, const char *api,
                             const char *lab_session_id,
                             const char *client_initial_data,
                             const char *server_initial_data, apr_pool_t *p)
{
    static const char what[] = "weblablib POST /weblab/sessions/";
    json_t *cdata, *sdata, *back, *body, *o, *url, *sid, *answer;
    const char *config;
    apr_status_t rv;

    if (!remote_session_id) {
        *errmsg = apr_pstrcat(p, what, ": the lab chooses the session id and"
                              " this caller cannot take it", NULL);
        return APR_EINVAL;
    }
    cdata = object_arg(client_initial_data, p);
    sdata = object_arg(server_initial_data, p);
    if (!cdata || !sdata) {
        *errmsg = apr_pstrcat(p, what, ": ",
                              cdata ? "server" : "client",
                              "_initial_data is not a JSON object", NULL);
        return APR_EINVAL;
    }
    /* back twice: top level (what weblablib reads) and inside
     * client_initial_data (as the core built it). */
    back = json_object_get(cdata, "back");
    body = pool_json(json_object(), p);
    if (!body
        || json_object_set_new(body, "back",
                               back ? json_incref(back) : json_string(""))
        || json_object_set(body, "client_initial_data", cdata)
        || json_object_set(body, "server_initial_data", sdata)) {
        *errmsg = apr_pstrcat(p, what, ": out of memory", NULL);
        return APR_ENOMEM;
    }
    rv = call(&o, errmsg, client, t, what, "", body, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (json_is_true(json_object_get(o, "error"))) {
        json_t *m = json_object_get(o, "message");

        *errmsg = apr_pstrcat(p, what, ": the lab could not start: ",
                              json_is_string(m) ? json_string_value(m)
                                                : "no reason given", NULL);
        return APR_EGENERAL;
    }
    url = json_object_get(o, "url");
    sid = json_object_get(o, "session_id");
    if (!json_is_string(url) || !*json_string_value(url)) {
        *errmsg = apr_pstrcat(p, what, ": no url in the answer", NULL);
        return APR_EGENERAL;
    }
    if (!usable_session_id(sid)) {
        *errmsg = apr_pstrcat(p, what, ": no usable session_id in the answer",
                              NULL);
        return APR_EGENERAL;
    }
    /* initial_configuration is a string holding JSON (spec 10.3). */
    answer = pool_json(json_pack("{s:O}", "url", url), p);
    config = answer ? json_text(answer, p) : NULL;
    answer = config ? pool_json(json_pack("{s:s,s:b}",
                                          "initial_configuration", config,
                                          "batch", 0), p)
                    : NULL;
    *response = answer ? json_text(answer, p) : NULL;
    if (!*response) {
        *errmsg = apr_pstrcat(p, what, ": out of memory", NULL);
        return APR_ENOMEM;
    }
    *remote_session_id = apr_pstrdup(p, json_string_value(sid));
    return APR_SUCCESS;
}

static apr_status_t wl_send_command(const char **response,
                                    const char **errmsg,
                                    weblab_lab_client_t *client,
                                    const weblab_lab_target_t *t,
                                    const char *api,
                                    const char *lab_session_id,
                                    const char *command, apr_pool_t *p)
{
    *errmsg = NO_COMMANDS;
    return APR_ENOTIMPL;
}

static apr_status_t wl_send_file(const char **response, const char **errmsg,
                                 weblab_lab_client_t *client,
                                 const weblab_lab_target_t *t,
                                 const char *api, const char *lab_session_id,
                                 const char *content_b64,
                                 const char *file_info, apr_pool_t *p)
{
    *errmsg = NO_COMMANDS;
    return APR_ENOTIMPL;
}

static apr_status_t wl_should_finish(double *seconds, const char **errmsg,
                                     weblab_lab_client_t *client,
                                     const weblab_lab_target_t *t,
                                     const char *api,
                                     const char *lab_session_id,
                                     apr_pool_t *p)
{
    static const char what[] =
        "weblablib GET /weblab/sessions/<session>/status";
    const char *path;
    json_t *o, *n;
    apr_status_t rv = session_path(&path, errmsg, lab_session_id, "/status",
                                   what, p);

    if (rv == APR_SUCCESS) {
        rv = call(&o, errmsg, client, t, what, path, NULL, p);
    }
    if (rv == APR_SUCCESS) {
        n = json_object_get(o, "should_finish");
        if (json_is_number(n)) {
            *seconds = json_number_value(n);
        }
        else {
            *errmsg = apr_pstrcat(p, what, ": no should_finish number in the"
                                  " answer", NULL);
            rv = APR_EGENERAL;
        }
    }
    if (rv != APR_SUCCESS) {
        *errmsg = hide_session(*errmsg, lab_session_id, p);
    }
    return rv;
}

static apr_status_t wl_dispose(const char **response, const char **errmsg,
                               weblab_lab_client_t *client,
                               const weblab_lab_target_t *t, const char *api,
                               const char *lab_session_id, apr_pool_t *p)
{
    static const char what[] = "weblablib POST /weblab/sessions/<session>";
    const char *path;
    json_t *body, *o, *wrapped, *v;
    apr_status_t rv = session_path(&path, errmsg, lab_session_id, "", what,
                                   p);

    if (rv == APR_SUCCESS) {
        body = pool_json(json_pack("{s:s}", "action", "delete"), p);
        rv = body ? call(&o, errmsg, client, t, what, path, body, p)
                  : APR_ENOMEM;
    }
    if (rv != APR_SUCCESS) {
        *errmsg = *errmsg ? hide_session(*errmsg, lab_session_id, p)
                          : "out of memory";
        return rv;
    }
    /* weblablib answers {"message": "Deleted"} (or "Not found"): finished.
     * Another HTTP lab may say finished, data or ask_again itself, which
     * HttpExperiment passed on. */
    wrapped = pool_json(json_pack("{s:b,s:s}", "finished", 1, "data", ""),
                        p);
    if (!wrapped) {
        *errmsg = apr_pstrcat(p, what, ": out of memory", NULL);
        return APR_ENOMEM;
    }
    if (json_is_boolean(v = json_object_get(o, "finished"))) {
        json_object_set(wrapped, "finished", v);
    }
    if ((v = json_object_get(o, "data")) && !json_is_null(v)) {
        json_object_set(wrapped, "data", v);
    }
    if (json_is_number(v = json_object_get(o, "ask_again"))) {
        json_object_set(wrapped, "ask_again", v);
    }
    *response = json_text(wrapped, p);
    if (!*response) {
        *errmsg = apr_pstrcat(p, what, ": out of memory", NULL);
        return APR_ENOMEM;
    }
    return APR_SUCCESS;
}

const weblab_lab_transport_t weblab_lab_weblablib_transport = {
    "http",
    NULL,
    wl_get_api,
    wl_test_me,
    wl_start,
    wl_send_command,
    wl_send_file,
    wl_should_finish,
    wl_dispose,
};
