/* The hosted lab: plug-in defaults and the session table; see es_lab.h. */
#include "es_lab.h"
#include "es_conf.h"

#include <apr_hash.h>
#include <apr_strings.h>

#define DEFAULT_START_RESPONSE      "{}"
#define DEFAULT_DISPOSE_RESPONSE    "{\"finished\": true, \"data\": \"\"}"
#define DEFAULT_UP_SECONDS          600

struct weblab_es_lab_t {
    const weblab_lab_plugin_t *plugin;
    void *ctx;                  /* from plugin->init */
    apr_pool_t *pool;           /* parent of every session pool */
    apr_hash_t *sessions;       /* id -> weblab_es_session_t */
};

/* The fault message for a failed slot: the lab's own message if it gave
 * one, else the status text. */
static const char *failure(const weblab_es_lab_t *lab, const char *call,
                           const char *labmsg, apr_status_t rv,
                           apr_pool_t *p)
{
    char buf[256];

    if (labmsg && *labmsg) {
        return labmsg;
    }
    return apr_psprintf(p, "lab %s: %s failed: %s", lab->plugin->name, call,
                        apr_strerror(rv, buf, sizeof(buf)));
}

apr_status_t weblab_es_lab_create(weblab_es_lab_t **labp, const char **errmsg,
                                  const weblab_lab_plugin_t *plugin,
                                  apr_pool_t *pool)
{
    weblab_es_lab_t *lab = apr_pcalloc(pool, sizeof(*lab));

    lab->plugin = plugin;
    lab->pool = pool;
    lab->sessions = apr_hash_make(pool);
    if (plugin->init) {
        const char *msg = NULL;
        apr_status_t rv = plugin->init(&lab->ctx, &msg, pool);
        if (rv != APR_SUCCESS && rv != APR_ENOTIMPL) {
            *errmsg = failure(lab, "init", msg, rv, pool);
            return rv;
        }
    }
    *labp = lab;
    return APR_SUCCESS;
}

const weblab_lab_plugin_t *weblab_es_lab_plugin(const weblab_es_lab_t *lab)
{
    return lab->plugin;
}

unsigned weblab_es_lab_session_count(const weblab_es_lab_t *lab)
{
    return apr_hash_count(lab->sessions);
}

static weblab_es_session_t *session_open(weblab_es_lab_t *lab, const char *id)
{
    apr_pool_t *sp;
    weblab_es_session_t *s;

    if (apr_hash_count(lab->sessions) >= WEBLAB_ES_MAX_SESSIONS
        || apr_pool_create(&sp, lab->pool) != APR_SUCCESS) {
        return NULL;
    }
    s = apr_pcalloc(sp, sizeof(*s));
    s->id = apr_pstrdup(sp, id);
    s->pool = sp;
    s->lab_ctx = lab->ctx;
    apr_hash_set(lab->sessions, s->id, APR_HASH_KEY_STRING, s);
    return s;
}

static void session_close(weblab_es_lab_t *lab, weblab_es_session_t *s)
{
    /* Unlink first: the key lives in the pool being destroyed. */
    apr_hash_set(lab->sessions, s->id, APR_HASH_KEY_STRING, NULL);
    apr_pool_destroy(s->pool);
}

weblab_es_session_t *weblab_es_lab_session(weblab_es_lab_t *lab,
                                           const char *id, int create)
{
    weblab_es_session_t *s = apr_hash_get(lab->sessions, id,
                                          APR_HASH_KEY_STRING);
    if (!s && create) {
        s = session_open(lab, id);
    }
    return s;
}

apr_status_t weblab_es_lab_start(const char **response, const char **errmsg,
                                 weblab_es_lab_t *lab, const char *id,
                                 const char *client_initial_data,
                                 const char *server_initial_data,
                                 apr_pool_t *p)
{
    weblab_es_session_t *s = weblab_es_lab_session(lab, id, 0);
    apr_status_t rv;

    if (s) {
        /* The laboratory server reuses the slot: end the old use first, as
         * the original laboratory server does before a new reservation. */
        const char *ignored, *ignored_err;
        weblab_es_lab_dispose(&ignored, &ignored_err, lab, s, p);
        s = weblab_es_lab_session(lab, id, 0);
        if (s) {
            session_close(lab, s);  /* it asked to be disposed again */
        }
    }
    s = session_open(lab, id);
    if (!s) {
        *errmsg = apr_psprintf(p, "too many open sessions (%u)",
                               weblab_es_lab_session_count(lab));
        return APR_ENOSPC;
    }
    *response = NULL;
    rv = lab->plugin->start
         ? lab->plugin->start(response, s, client_initial_data,
                              server_initial_data, p)
         : APR_ENOTIMPL;
    if (rv == APR_ENOTIMPL || (rv == APR_SUCCESS && !*response)) {
        *response = DEFAULT_START_RESPONSE;
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        *errmsg = failure(lab, "start_experiment", *response, rv, p);
        session_close(lab, s);
    }
    return rv;
}

apr_status_t weblab_es_lab_command(const char **response,
                                   const char **errmsg, weblab_es_lab_t *lab,
                                   weblab_es_session_t *s,
                                   const char *command, apr_pool_t *p)
{
    apr_status_t rv;

    *response = NULL;
    rv = lab->plugin->command ? lab->plugin->command(response, s, command, p)
                              : APR_ENOTIMPL;
    if (rv == APR_ENOTIMPL) {
        *errmsg = "send_command_to_device has not been implemented in this "
                  "experiment";
        return rv;
    }
    if (rv != APR_SUCCESS) {
        *errmsg = failure(lab, "send_command_to_device", *response, rv, p);
    }
    else if (!*response) {
        *response = "";
    }
    return rv;
}

apr_status_t weblab_es_lab_file(const char **response, const char **errmsg,
                                weblab_es_lab_t *lab, weblab_es_session_t *s,
                                const char *content_b64, apr_size_t len,
                                const char *file_info, apr_pool_t *p)
{
    apr_status_t rv;

    *response = NULL;
    rv = lab->plugin->file
         ? lab->plugin->file(response, s, content_b64, len, file_info, p)
         : APR_ENOTIMPL;
    if (rv == APR_ENOTIMPL) {
        *errmsg = "send_file_to_device has not been implemented in this "
                  "experiment";
        return rv;
    }
    if (rv != APR_SUCCESS) {
        *errmsg = failure(lab, "send_file_to_device", *response, rv, p);
    }
    else if (!*response) {
        *response = "";
    }
    return rv;
}

apr_status_t weblab_es_lab_should_finish(int *seconds, const char **errmsg,
                                         weblab_es_lab_t *lab,
                                         weblab_es_session_t *s,
                                         apr_pool_t *p)
{
    apr_status_t rv;

    *seconds = 0;
    rv = lab->plugin->should_finish
         ? lab->plugin->should_finish(seconds, s, p) : APR_ENOTIMPL;
    if (rv == APR_ENOTIMPL) {
        *seconds = 0;
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        *errmsg = failure(lab, "should_finish", NULL, rv, p);
    }
    return rv;
}

apr_status_t weblab_es_lab_dispose(const char **response, const char **errmsg,
                                   weblab_es_lab_t *lab,
                                   weblab_es_session_t *s, apr_pool_t *p)
{
    int finished = 1;
    apr_status_t rv;

    if (!s) {
        *response = DEFAULT_DISPOSE_RESPONSE;
        return APR_SUCCESS;
    }
    *response = NULL;
    rv = lab->plugin->dispose
         ? lab->plugin->dispose(response, &finished, s, p) : APR_ENOTIMPL;
    if (rv == APR_ENOTIMPL || (rv == APR_SUCCESS && !*response)) {
        *response = DEFAULT_DISPOSE_RESPONSE;
        finished = 1;
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        *errmsg = failure(lab, "dispose", *response, rv, p);
        finished = 1;   /* a failed dispose still ends the session */
    }
    if (finished) {
        session_close(lab, s);
    }
    return rv;
}

apr_status_t weblab_es_lab_is_up(int *seconds, const char **message,
                                 const char **errmsg, weblab_es_lab_t *lab,
                                 apr_pool_t *p)
{
    apr_status_t rv;

    *seconds = DEFAULT_UP_SECONDS;
    *message = NULL;
    rv = lab->plugin->is_up_and_running
         ? lab->plugin->is_up_and_running(seconds, message, lab->ctx, p)
         : APR_ENOTIMPL;
    if (rv == APR_ENOTIMPL) {
        *seconds = DEFAULT_UP_SECONDS;
        *message = "";
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        *errmsg = failure(lab, "is_up_and_running", *message, rv, p);
        return rv;
    }
    if (!*message) {
        *message = "";
    }
    return APR_SUCCESS;
}

void weblab_es_lab_close_all(weblab_es_lab_t *lab, apr_pool_t *p)
{
    apr_hash_index_t *hi;

    while ((hi = apr_hash_first(p, lab->sessions)) != NULL) {
        weblab_es_session_t *s = apr_hash_this_val(hi);
        const char *id = apr_pstrdup(p, s->id);   /* s may be freed below */
        const char *response, *errmsg;

        weblab_es_lab_dispose(&response, &errmsg, lab, s, p);
        s = weblab_es_lab_session(lab, id, 0);
        if (s) {
            session_close(lab, s);  /* wanted another dispose: not now */
        }
    }
}
