/* XML-RPC dispatch: the method table and its handlers; see es_rpc.h. */
#include "es_rpc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <xmlrpc-c/base.h>

/* One call being served. Handlers set a fault in env and return NULL, or
 * return a new reference to the result. */
typedef struct call_t {
    weblab_es_rpc_t *rpc;
    xmlrpc_env *env;
    const char *name;           /* as received, made printable */
    xmlrpc_value *params;
    int argc;
    int first;                  /* index of the first argument after the
                                 * session id (1 in 2_concurrent) */
    const char *session_id;     /* "" outside 2_concurrent */
    apr_pool_t *p;
} call_t;

typedef xmlrpc_value *(*handler_fn)(call_t *c);

/* Arity of a method in one API: min..max arguments, session id included. */
typedef struct arity_t {
    int min, max;
} arity_t;

typedef struct method_t {
    const char *name;
    arity_t arity[WEBLAB_ES_API_COUNT];     /* API 1, 2, 2_concurrent */
    int takes_session;          /* 2_concurrent: session id comes first */
    handler_fn handler;
} method_t;

/* ---- argument helpers ---- */

static xmlrpc_value *arg(call_t *c, int i)
{
    xmlrpc_value *v = NULL;

    xmlrpc_array_read_item(c->env, c->params, i, &v);
    return v;       /* a new reference, or NULL with a fault set */
}

/* Argument i as a string copied into c->p. */
static const char *arg_string(call_t *c, int i, apr_size_t *len)
{
    xmlrpc_value *v = arg(c, i);
    const char *s = NULL, *copy = NULL;
    size_t n = 0;

    if (!v) {
        return NULL;
    }
    if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRING) {
        xmlrpc_env_set_fault_formatted(c->env, WEBLAB_ES_FAULT_PARAMS,
                                       "argument %d of %s must be a string",
                                       i + 1, c->name);
    }
    else {
        xmlrpc_read_string_lp(c->env, v, &n, &s);
        if (!c->env->fault_occurred) {
            copy = apr_pstrmemdup(c->p, s, n);
            free((void *)s);
            if (len) {
                *len = n;
            }
        }
    }
    xmlrpc_DECREF(v);
    return copy;
}

/* A file's content: base64 text as the original sends it; an XML-RPC
 * <base64> value (what Python sends for bytes) is turned into base64 text,
 * so that the lab always sees the same form. */
static const char *arg_file_content(call_t *c, int i, apr_size_t *len)
{
    xmlrpc_value *v = arg(c, i);
    const unsigned char *bytes = NULL;
    char *b64 = NULL;
    size_t n = 0;

    if (!v) {
        return NULL;
    }
    if (xmlrpc_value_type(v) != XMLRPC_TYPE_BASE64) {
        xmlrpc_DECREF(v);
        return arg_string(c, i, len);
    }
    xmlrpc_read_base64(c->env, v, &n, &bytes);
    if (!c->env->fault_occurred) {
        b64 = apr_palloc(c->p, apr_base64_encode_len((int)n));
        *len = (apr_size_t)apr_base64_encode(b64, (const char *)bytes,
                                             (int)n) - 1;
        free((void *)bytes);
    }
    xmlrpc_DECREF(v);
    return b64;
}

/* client/server_initial_data of start_experiment: a JSON string; "{}" when
 * absent (API 1) or nil. */
static const char *arg_initial_data(call_t *c, int i)
{
    if (i >= c->argc) {
        return "{}";
    }
    xmlrpc_value *v = arg(c, i);
    if (!v) {
        return NULL;
    }
    int nil = xmlrpc_value_type(v) == XMLRPC_TYPE_NIL;
    xmlrpc_DECREF(v);
    return nil ? "{}" : arg_string(c, i, NULL);
}

/* The lab session id of 2_concurrent: the original's laboratory server
 * sends the struct {"id": "..."} (spec 10.2); a plain string is accepted
 * too. */
static const char *arg_session_id(call_t *c)
{
    xmlrpc_value *v = arg(c, 0), *idv = NULL;
    const char *id = NULL;

    if (!v) {
        return NULL;
    }
    if (xmlrpc_value_type(v) == XMLRPC_TYPE_STRUCT) {
        xmlrpc_struct_find_value(c->env, v, "id", &idv);
        if (!c->env->fault_occurred && idv
            && xmlrpc_value_type(idv) == XMLRPC_TYPE_STRING) {
            const char *s;
            size_t n;
            xmlrpc_read_string_lp(c->env, idv, &n, &s);
            if (!c->env->fault_occurred) {
                id = apr_pstrmemdup(c->p, s, n);
                free((void *)s);
            }
        }
        if (idv) {
            xmlrpc_DECREF(idv);
        }
    }
    else if (xmlrpc_value_type(v) == XMLRPC_TYPE_STRING) {
        id = arg_string(c, 0, NULL);
    }
    xmlrpc_DECREF(v);
    if (c->env->fault_occurred) {
        return NULL;
    }
    if (!id || !*id || strlen(id) > WEBLAB_ES_MAX_SESSION_ID) {
        xmlrpc_env_set_fault_formatted(c->env, WEBLAB_ES_FAULT_PARAMS,
            "argument 1 of %s must be the lab session id: a non-empty "
            "string or a struct {\"id\": string}", c->name);
        return NULL;
    }
    return id;
}

static xmlrpc_value *string_result(call_t *c, const char *s)
{
    return xmlrpc_string_new_lp(c->env, strlen(s), s);
}

static xmlrpc_value *lab_fault(call_t *c, int code, const char *errmsg)
{
    xmlrpc_env_set_fault(c->env, code, errmsg);
    return NULL;
}

/* The session the call is about. In API 1 and 2 there is one, made on
 * demand; in 2_concurrent NULL means the laboratory server named a session
 * we do not have (e.g. after a restart of this daemon). */
static weblab_es_session_t *call_session(call_t *c)
{
    return weblab_es_lab_session(c->rpc->lab, c->session_id,
                                 c->rpc->api != WEBLAB_ES_API_2_CONCURRENT);
}

static xmlrpc_value *no_session(call_t *c)
{
    xmlrpc_env_set_fault_formatted(c->env, WEBLAB_ES_FAULT_SESSION,
        "%s: unknown lab session (never started, or already disposed)",
        c->name);
    return NULL;
}

/* ---- handlers ---- */

static xmlrpc_value *m_test_me(call_t *c)
{
    return arg(c, 0);       /* echo whatever was sent */
}

static xmlrpc_value *m_get_api(call_t *c)
{
    return string_result(c, weblab_es_api_name(c->rpc->api));
}

static xmlrpc_value *m_is_up_and_running(call_t *c)
{
    const char *message, *errmsg;
    int seconds;

    if (weblab_es_lab_is_up(&seconds, &message, &errmsg, c->rpc->lab, c->p)
        != APR_SUCCESS) {
        return lab_fault(c, WEBLAB_ES_FAULT_LAB, errmsg);
    }
    return xmlrpc_build_value(c->env, "(is)", seconds, message);
}

static xmlrpc_value *m_start_experiment(call_t *c)
{
    const char *cid, *sid, *response, *errmsg;

    /* API 1 sends nothing; an API 1 server that is sent the API 2
     * arguments uses them, as the original's *args servers did. */
    cid = arg_initial_data(c, c->first);
    sid = cid ? arg_initial_data(c, c->first + 1) : NULL;
    if (!sid) {
        return NULL;
    }
    if (weblab_es_lab_start(&response, &errmsg, c->rpc->lab, c->session_id,
                            cid, sid, c->p) != APR_SUCCESS) {
        return lab_fault(c, WEBLAB_ES_FAULT_LAB, errmsg);
    }
    return string_result(c, response);
}

static xmlrpc_value *m_send_command(call_t *c)
{
    const char *command, *response, *errmsg;
    weblab_es_session_t *s;

    if (!(command = arg_string(c, c->first, NULL))) {
        return NULL;
    }
    if (!(s = call_session(c))) {
        return no_session(c);
    }
    if (weblab_es_lab_command(&response, &errmsg, c->rpc->lab, s, command,
                              c->p) != APR_SUCCESS) {
        return lab_fault(c, WEBLAB_ES_FAULT_LAB, errmsg);
    }
    return string_result(c, response);
}

static xmlrpc_value *m_send_file(call_t *c)
{
    const char *content, *info, *response, *errmsg;
    apr_size_t len = 0;
    weblab_es_session_t *s;

    if (!(content = arg_file_content(c, c->first, &len))
        || !(info = arg_string(c, c->first + 1, NULL))) {
        return NULL;
    }
    if (!(s = call_session(c))) {
        return no_session(c);
    }
    if (weblab_es_lab_file(&response, &errmsg, c->rpc->lab, s, content, len,
                           info, c->p) != APR_SUCCESS) {
        return lab_fault(c, WEBLAB_ES_FAULT_LAB, errmsg);
    }
    return string_result(c, response);
}

static xmlrpc_value *m_should_finish(call_t *c)
{
    weblab_es_session_t *s = call_session(c);
    const char *errmsg;
    int seconds;

    if (!s) {
        return xmlrpc_int_new(c->env, -1);  /* nothing to wait for: end */
    }
    if (weblab_es_lab_should_finish(&seconds, &errmsg, c->rpc->lab, s, c->p)
        != APR_SUCCESS) {
        return lab_fault(c, WEBLAB_ES_FAULT_LAB, errmsg);
    }
    return xmlrpc_int_new(c->env, seconds);
}

static xmlrpc_value *m_dispose(call_t *c)
{
    const char *response, *errmsg;

    /* An unknown session is already disposed: say so, it is not an error
     * (the laboratory server may retry a dispose). */
    if (weblab_es_lab_dispose(&response, &errmsg, c->rpc->lab,
                              call_session(c), c->p) != APR_SUCCESS) {
        return lab_fault(c, WEBLAB_ES_FAULT_LAB, errmsg);
    }
    return string_result(c, response);
}

/* The methods. Arity per API as in spec 4.4, lenient where the original
 * was: start_experiment on API 1 takes the API 2 arguments too; on API 2
 * missing initial data count as "{}". */
static const method_t methods[] = {
    /* name                       API 1   API 2   2_conc  session */
    { "test_me",                { {1, 1}, {1, 1}, {1, 1} }, 0, m_test_me },
    { "get_api",                { {0, 0}, {0, 0}, {0, 0} }, 0, m_get_api },
    { "is_up_and_running",      { {0, 0}, {0, 0}, {0, 0} }, 0,
      m_is_up_and_running },
    { "start_experiment",       { {0, 2}, {0, 2}, {1, 3} }, 1,
      m_start_experiment },
    { "send_command_to_device", { {1, 1}, {1, 1}, {2, 2} }, 1,
      m_send_command },
    { "send_file_to_device",    { {2, 2}, {2, 2}, {3, 3} }, 1, m_send_file },
    { "should_finish",          { {0, 0}, {0, 0}, {1, 1} }, 1,
      m_should_finish },
    { "dispose",                { {0, 0}, {0, 0}, {1, 1} }, 1, m_dispose },
};

#define METHOD_COUNT (sizeof(methods) / sizeof(methods[0]))

const char *weblab_es_rpc_method_name(unsigned i)
{
    return i < METHOD_COUNT ? methods[i].name : NULL;
}

static const method_t *find_method(const char *name)
{
    if (strncmp(name, "Util.", 5) == 0) {
        name += 5;
    }
    for (apr_size_t i = 0; i < METHOD_COUNT; i++) {
        if (strcmp(methods[i].name, name) == 0) {
            return &methods[i];
        }
    }
    return NULL;
}

/* A client-supplied name made safe for a log line or a fault string. */
static const char *printable(const char *s, apr_pool_t *p)
{
    char *out = apr_pstrndup(p, s ? s : "", 64);

    for (char *q = out; *q; q++) {
        if (!isprint((unsigned char)*q)) {
            *q = '?';
        }
    }
    return out;
}

static const char *arity_text(arity_t a, apr_pool_t *p)
{
    if (a.min == a.max) {
        return apr_psprintf(p, "%d argument%s", a.min, a.min == 1 ? "" : "s");
    }
    return apr_psprintf(p, "%d to %d arguments", a.min, a.max);
}

/* Parse, check and run one call. Returns the result or NULL with a fault
 * in env. *name is set for the log as soon as it is known. */
static xmlrpc_value *dispatch(xmlrpc_env *env, const char **name,
                              int *argc, weblab_es_rpc_t *rpc,
                              const char *body, apr_size_t len,
                              apr_pool_t *p)
{
    const char *method_name = NULL;
    xmlrpc_value *params = NULL, *result = NULL;
    const method_t *m;
    arity_t a;
    call_t c;

    xmlrpc_parse_call(env, body, len, &method_name, &params);
    if (env->fault_occurred) {
        char *why = apr_pstrdup(p, env->fault_string);
        xmlrpc_env_clean(env);
        xmlrpc_env_init(env);
        xmlrpc_env_set_fault_formatted(env, WEBLAB_ES_FAULT_PARSE,
                                       "not a valid XML-RPC call: %s", why);
        return NULL;
    }
    m = find_method(method_name);
    *name = printable(method_name, p);
    free((void *)method_name);
    *argc = xmlrpc_array_size(env, params);
    if (!m) {
        xmlrpc_env_set_fault_formatted(env, WEBLAB_ES_FAULT_NO_METHOD,
                                       "method %s is not supported", *name);
        goto done;
    }
    a = m->arity[rpc->api];
    if (*argc < a.min || *argc > a.max) {
        xmlrpc_env_set_fault_formatted(env, WEBLAB_ES_FAULT_PARAMS,
            "%s takes %s on API %s (got %d)", *name, arity_text(a, p),
            weblab_es_api_name(rpc->api), *argc);
        goto done;
    }
    memset(&c, 0, sizeof(c));
    c.rpc = rpc;
    c.env = env;
    c.name = *name;
    c.params = params;
    c.argc = *argc;
    c.session_id = "";
    c.p = p;
    if (m->takes_session && rpc->api == WEBLAB_ES_API_2_CONCURRENT) {
        if (!(c.session_id = arg_session_id(&c))) {
            goto done;
        }
        c.first = 1;
    }
    result = m->handler(&c);
    if (!result && !env->fault_occurred) {
        xmlrpc_env_set_fault(env, WEBLAB_ES_FAULT_INTERNAL,
                             "internal error: no result");
    }
done:
    xmlrpc_DECREF(params);
    return result;
}

/* Serialize a response or a fault into a copy from p. If the result cannot
 * be serialized (e.g. a lab answered invalid UTF-8) the caller gets an
 * internal-error fault instead. */
static const char *serialize(apr_size_t *out_len, xmlrpc_value *result,
                             xmlrpc_env *fault, apr_pool_t *p)
{
    static const char oom[] =
        "<?xml version=\"1.0\"?>\r\n<methodResponse>\r\n<fault>\r\n"
        "<value><struct>\r\n<member><name>faultCode</name>\r\n"
        "<value><i4>-32603</i4></value></member>\r\n"
        "<member><name>faultString</name>\r\n<value><string>internal "
        "error: cannot serialize the answer</string></value></member>\r\n"
        "</struct></value>\r\n</fault>\r\n</methodResponse>\r\n";
    xmlrpc_env env;
    xmlrpc_mem_block *mb;
    const char *out = NULL;

    xmlrpc_env_init(&env);
    mb = xmlrpc_mem_block_new(&env, 0);
    if (!env.fault_occurred) {
        if (result) {
            xmlrpc_serialize_response(&env, mb, result);
        }
        else {
            xmlrpc_serialize_fault(&env, mb, fault);
        }
        if (!env.fault_occurred) {
            *out_len = xmlrpc_mem_block_size(mb);
            out = apr_pmemdup(p, xmlrpc_mem_block_contents(mb), *out_len);
        }
        xmlrpc_mem_block_free(mb);
    }
    xmlrpc_env_clean(&env);
    if (!out) {
        *out_len = sizeof(oom) - 1;
        out = oom;
    }
    return out;
}

void weblab_es_rpc_handle(const char **out, apr_size_t *out_len,
                          weblab_es_rpc_t *rpc, const char *body,
                          apr_size_t body_len, int authorized,
                          apr_pool_t *p)
{
    const char *name = "-";
    xmlrpc_value *result = NULL;
    apr_time_t t0 = apr_time_now();
    xmlrpc_env env;
    int argc = 0;

    xmlrpc_env_init(&env);
    if (!authorized) {
        xmlrpc_env_set_fault(&env, WEBLAB_ES_FAULT_AUTH,
            "authentication required: the auth token must be given as "
            "?auth=TOKEN in the URL or in the X-WebLab-Auth header");
    }
    else {
        result = dispatch(&env, &name, &argc, rpc, body, body_len, p);
    }
    *out = serialize(out_len, result, &env, p);
    if (result) {
        xmlrpc_DECREF(result);
        weblab_es_log(rpc->log, WEBLAB_ES_LOG_INFO, APR_SUCCESS,
                      "call %s args=%d -> %" APR_SIZE_T_FMT " bytes "
                      "(%.2f ms)", name, argc, *out_len,
                      (apr_time_now() - t0) / 1000.0);
    }
    else {
        weblab_es_log(rpc->log, WEBLAB_ES_LOG_INFO, APR_SUCCESS,
                      "call %s args=%d -> fault %d (%.2f ms)", name, argc,
                      env.fault_code, (apr_time_now() - t0) / 1000.0);
    }
    xmlrpc_env_clean(&env);
}
