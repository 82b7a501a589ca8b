/* The lab client: a pool of keep-alive libcurl handles shared by the
 * threads of a process, the HTTP exchange every transport uses, and the
 * public calls, which look the transport up by name and make sure that
 * whatever a transport reports goes out as one clean line. */
#include "weblab_lab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <apr_strings.h>
#include <apr_reslist.h>

struct weblab_lab_client_t {
    apr_pool_t *pool;
    apr_reslist_t *handles;     /* of CURL * */
    int max_handles;
    long connect_ms;
    long total_ms;              /* connect + I/O: the whole call */
};

static const weblab_lab_transport_t *const transports[] = {
    &weblab_lab_xmlrpc_transport,
    &weblab_lab_weblablib_transport,
    NULL
};

/* Longest *errmsg we hand out; fault strings can be whole tracebacks. */
#define ERRMSG_MAX 400

/* ---- the handle pool ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton);

static apr_status_t handle_construct(void **res, void *params, apr_pool_t *p)
{
    weblab_lab_client_t *client = params;
    CURL *h = curl_easy_init();

    (void)p;
    if (!h) {
        return APR_ENOMEM;
    }
    /* Threaded httpd: no SIGALRM for DNS timeouts. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* Small requests and answers: do not let Nagle hold them (spec 10.2). */
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, client->connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, client->total_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)WEBLAB_LAB_MAX_RESPONSE);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_weblab");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS,
                     (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    *res = h;
    return APR_SUCCESS;
}

static apr_status_t handle_destruct(void *res, void *params, apr_pool_t *p)
{
    (void)params;
    (void)p;
    curl_easy_cleanup(res);
    return APR_SUCCESS;
}

static long seconds_to_ms(double s)
{
    return s > 0 ? (long)(s * 1000.0 + 0.5) : 0;
}

apr_status_t weblab_lab_client_create(weblab_lab_client_t **out,
                                      int max_handles,
                                      double connect_timeout,
                                      double io_timeout, apr_pool_t *p)
{
    weblab_lab_client_t *client;
    apr_status_t rv;
    int i;

    *out = NULL;
    if (max_handles < 1 || connect_timeout <= 0 || io_timeout <= 0) {
        return APR_EINVAL;
    }
    client = apr_pcalloc(p, sizeof(*client));
    client->pool = p;
    client->max_handles = max_handles;
    client->connect_ms = seconds_to_ms(connect_timeout);
    client->total_ms = seconds_to_ms(connect_timeout + io_timeout);
    /* No handle made in advance, none expires: an idle handle only keeps
     * its connections, which curl drops itself when they get old. The
     * reslist destroys the idle handles when p goes. */
    rv = apr_reslist_create(&client->handles, 0, max_handles, max_handles, 0,
                            handle_construct, handle_destruct, client, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_reslist_timeout_set(client->handles,
                            (apr_interval_time_t)client->total_ms * 1000);
    for (i = 0; transports[i]; i++) {
        if (transports[i]->init) {
            rv = transports[i]->init(client, p);
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
    }
    *out = client;
    return APR_SUCCESS;
}

/* ---- one HTTP exchange ---- */

typedef struct {
    char *data;                 /* malloc'ed, freed by weblab_lab_http */
    size_t len;
    size_t cap;
    int too_big;
} body_buf_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    body_buf_t *b = baton;
    size_t n = size * nmemb;

    if (n > WEBLAB_LAB_MAX_RESPONSE - b->len) {
        b->too_big = 1;
        return 0;                       /* curl aborts: CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *grown;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        grown = realloc(b->data, cap);
        if (!grown) {
            return 0;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    return n;
}

/* Append line to *list; 0 when out of memory (*list is then freed). */
static int add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *more = curl_slist_append(*list, line);

    if (!more) {
        curl_slist_free_all(*list);
        *list = NULL;
        return 0;
    }
    *list = more;
    return 1;
}

static apr_status_t curl_status(CURL *h, CURLcode cc)
{
    long os_errno = 0;

    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return APR_TIMEUP;
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno == ECONNREFUSED) {
            return APR_ECONNREFUSED;
        }
        return os_errno == ETIMEDOUT ? APR_TIMEUP : APR_EGENERAL;
    default:
        return APR_EGENERAL;
    }
}

apr_status_t weblab_lab_http(int *status, const char **resp,
                             apr_size_t *resp_len, const char **errmsg,
                             weblab_lab_client_t *client, const char *method,
                             const char *url, const char *const *extra,
                             const char *content_type, const char *body,
                             apr_size_t body_len, const char *user,
                             const char *password, apr_pool_t *p)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    body_buf_t buf = { NULL, 0, 0, 0 };
    struct curl_slist *headers = NULL;
    int post = !strcmp(method, "POST");
    int ok = 1;
    void *res;
    CURL *h;
    CURLcode cc;
    long code = 0;
    apr_status_t rv;
    int i;

    *status = 0;
    *resp = NULL;
    *resp_len = 0;
    *errmsg = NULL;
    rv = apr_reslist_acquire(client->handles, &res);
    if (rv != APR_SUCCESS) {
        *errmsg = apr_psprintf(p, "no free connection to labs (%d in use)",
                               client->max_handles);
        return rv == APR_TIMEUP ? APR_TIMEUP : APR_EGENERAL;
    }
    h = res;
    if (post) {
        /* No "Expect: 100-continue" pause before large bodies: many lab
         * servers never answer it. */
        ok = add_header(&headers, apr_pstrcat(p, "Content-Type: ",
                                              content_type
                                                  ? content_type
                                                  : "application/octet-stream",
                                              NULL))
             && add_header(&headers, "Expect:");
    }
    for (i = 0; ok && extra && extra[i]; i++) {
        ok = add_header(&headers, extra[i]);
    }
    if (!ok) {
        apr_reslist_release(client->handles, h);
        *errmsg = "out of memory";
        return APR_ENOMEM;
    }
    if (post) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH,
                     user ? CURLAUTH_BASIC : CURLAUTH_NONE);
    curl_easy_setopt(h, CURLOPT_USERNAME, user);
    curl_easy_setopt(h, CURLOPT_PASSWORD, user ? password : NULL);

    cc = curl_easy_perform(h);

    /* Nothing on the handle may point into this frame or this call. */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_USERNAME, NULL);
    curl_easy_setopt(h, CURLOPT_PASSWORD, NULL);
    curl_slist_free_all(headers);

    if (cc != CURLE_OK) {
        rv = curl_status(h, cc);
        if (buf.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            *errmsg = apr_psprintf(p, "answer larger than %d MiB, aborted",
                                   WEBLAB_LAB_MAX_RESPONSE / (1024 * 1024));
        }
        else {
            *errmsg = apr_pstrcat(p, curl_easy_strerror(cc),
                                  *errbuf ? ": " : "", errbuf, NULL);
        }
        /* The connection is in an unknown state: drop handle and all. */
        apr_reslist_invalidate(client->handles, h);
        free(buf.data);
        return rv;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    apr_reslist_release(client->handles, h);
    *status = (int)code;
    *resp = buf.data ? apr_pstrmemdup(p, buf.data, buf.len) : "";
    *resp_len = buf.len;
    free(buf.data);
    return APR_SUCCESS;
}

/* ---- dispatch ---- */

/* Fault strings may echo a file's content or the request URL with its
 * token; weblablib error pages may echo a session id. */
const char *weblab_lab_redact(const char *msg, const char *secret,
                              const char *label, apr_pool_t *p)
{
    size_t slen = secret ? strlen(secret) : 0;
    size_t key = slen < 16 ? slen : 16;
    const char *needle, *hit;
    char *out = "";

    if (!key || !msg) {
        return msg;
    }
    needle = apr_pstrmemdup(p, secret, key);
    while ((hit = strstr(msg, needle)) != NULL) {
        size_t n = key;

        while (n < slen && hit[n] == secret[n]) {
            n++;
        }
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, msg, hit - msg), label,
                          NULL);
        msg = hit + n;
    }
    return apr_pstrcat(p, out, msg, NULL);
}

/* One line, bounded, without the target's credentials or the secret. */
static const char *clean_errmsg(const char *msg, const weblab_lab_target_t *t,
                                const char *secret, apr_pool_t *p)
{
    char *line;
    char *c;

    if (!msg || !*msg) {
        return "unknown error";
    }
    msg = weblab_lab_redact(msg, t->auth, "<auth>", p);
    msg = weblab_lab_redact(msg, t->auth_password, "<password>", p);
    msg = weblab_lab_redact(msg, secret, "<file content>", p);
    line = apr_pstrdup(p, msg);
    for (c = line; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = ' ';
        }
    }
    if (strlen(line) > ERRMSG_MAX) {
        strcpy(line + ERRMSG_MAX - 3, "...");
    }
    return line;
}

static apr_status_t lookup(const weblab_lab_transport_t **tr,
                           const char **errmsg, const weblab_lab_target_t *t,
                           apr_pool_t *p)
{
    const char *known = "";
    int i;

    *tr = NULL;
    if (!t || !t->url || !*t->url) {
        *errmsg = "lab target without a URL";
        return APR_EINVAL;
    }
    for (i = 0; transports[i]; i++) {
        if (t->transport && !strcmp(transports[i]->name, t->transport)) {
            *tr = transports[i];
            return APR_SUCCESS;
        }
        known = apr_pstrcat(p, known, i ? ", " : "", transports[i]->name,
                            NULL);
    }
    *errmsg = apr_psprintf(p, "lab transport '%s' is not implemented "
                           "(known: %s)",
                           t->transport ? t->transport : "(none)", known);
    return APR_ENOTIMPL;
}

static apr_status_t not_impl(const char **errmsg,
                             const weblab_lab_transport_t *tr,
                             const char *call, apr_pool_t *p)
{
    *errmsg = apr_psprintf(p, "lab transport '%s' has no %s", tr->name, call);
    return APR_ENOTIMPL;
}

/* What every public call returns: rv, with *errmsg cleaned on failure. */
static apr_status_t done(apr_status_t rv, const char **errmsg,
                         const weblab_lab_target_t *t, const char *secret,
                         apr_pool_t *p)
{
    if (rv != APR_SUCCESS) {
        *errmsg = clean_errmsg(*errmsg, t, secret, p);
    }
    return rv;
}

apr_status_t weblab_lab_get_api(const char **api, const char **errmsg,
                                weblab_lab_client_t *client,
                                const weblab_lab_target_t *t, apr_pool_t *p)
{
    const weblab_lab_transport_t *tr;
    apr_status_t rv;

    *api = NULL;
    *errmsg = NULL;
    rv = lookup(&tr, errmsg, t, p);
    if (rv == APR_SUCCESS) {
        rv = tr->get_api ? tr->get_api(api, errmsg, client, t, p)
                         : not_impl(errmsg, tr, "get_api", p);
    }
    return done(rv, errmsg, t, NULL, p);
}

apr_status_t weblab_lab_test_me(const char **echo, const char **errmsg,
                                weblab_lab_client_t *client,
                                const weblab_lab_target_t *t, const char *msg,
                                apr_pool_t *p)
{
    const weblab_lab_transport_t *tr;
    apr_status_t rv;

    *echo = NULL;
    *errmsg = NULL;
    rv = lookup(&tr, errmsg, t, p);
    if (rv == APR_SUCCESS) {
        rv = tr->test_me ? tr->test_me(echo, errmsg, client, t, msg, p)
                         : not_impl(errmsg, tr, "test_me", p);
    }
    return done(rv, errmsg, t, NULL, p);
}

apr_status_t weblab_lab_start_session(const char **response,
                                      const char **remote_session_id,
                                      const char **errmsg,
                                      weblab_lab_client_t *client,
                                      const weblab_lab_target_t *t,
                                      const char *api,
                                      const char *lab_session_id,
                                      const char *client_initial_data,
                                      const char *server_initial_data,
                                      apr_pool_t *p)
{
    const weblab_lab_transport_t *tr;
    apr_status_t rv;

    *response = NULL;
    *errmsg = NULL;
    if (remote_session_id) {
        *remote_session_id = NULL;
    }
    rv = lookup(&tr, errmsg, t, p);
    if (rv == APR_SUCCESS) {
        rv = tr->start ? tr->start(response, remote_session_id, errmsg,
                                   client, t, api, lab_session_id,
                                   client_initial_data, server_initial_data,
                                   p)
                       : not_impl(errmsg, tr, "start_experiment", p);
    }
    if (rv != APR_SUCCESS && remote_session_id) {
        *remote_session_id = NULL;
    }
    return done(rv, errmsg, t, NULL, p);
}

apr_status_t weblab_lab_start(const char **response, const char **errmsg,
                              weblab_lab_client_t *client,
                              const weblab_lab_target_t *t, const char *api,
                              const char *lab_session_id,
                              const char *client_initial_data,
                              const char *server_initial_data, apr_pool_t *p)
{
    return weblab_lab_start_session(response, NULL, errmsg, client, t, api,
                                    lab_session_id, client_initial_data,
                                    server_initial_data, p);
}

apr_status_t weblab_lab_send_command(const char **response,
                                     const char **errmsg,
                                     weblab_lab_client_t *client,
                                     const weblab_lab_target_t *t,
                                     const char *api,
                                     const char *lab_session_id,
                                     const char *command, apr_pool_t *p)
{
    const weblab_lab_transport_t *tr;
    apr_status_t rv;

    *response = NULL;
    *errmsg = NULL;
    rv = lookup(&tr, errmsg, t, p);
    if (rv == APR_SUCCESS) {
        rv = tr->send_command
                 ? tr->send_command(response, errmsg, client, t, api,
                                    lab_session_id, command, p)
                 : not_impl(errmsg, tr, "send_command", p);
    }
    return done(rv, errmsg, t, NULL, p);
}

apr_status_t weblab_lab_send_file(const char **response, const char **errmsg,
                                  weblab_lab_client_t *client,
                                  const weblab_lab_target_t *t,
                                  const char *api, const char *lab_session_id,
                                  const char *content_b64,
                                  const char *file_info, apr_pool_t *p)
{
    const weblab_lab_transport_t *tr;
    apr_status_t rv;

    *response = NULL;
    *errmsg = NULL;
    rv = lookup(&tr, errmsg, t, p);
    if (rv == APR_SUCCESS) {
        rv = tr->send_file
                 ? tr->send_file(response, errmsg, client, t, api,
                                 lab_session_id, content_b64, file_info, p)
                 : not_impl(errmsg, tr, "send_file", p);
    }
    /* A fault string may quote the arguments (voodoo's repr(args)). */
    return done(rv, errmsg, t, content_b64, p);
}

apr_status_t weblab_lab_should_finish(double *seconds, const char **errmsg,
                                      weblab_lab_client_t *client,
                                      const weblab_lab_target_t *t,
                                      const char *api,
                                      const char *lab_session_id,
                                      apr_pool_t *p)
{
    const weblab_lab_transport_t *tr;
    apr_status_t rv;

    *seconds = 0;
    *errmsg = NULL;
    rv = lookup(&tr, errmsg, t, p);
    if (rv == APR_SUCCESS) {
        rv = tr->should_finish
                 ? tr->should_finish(seconds, errmsg, client, t, api,
                                     lab_session_id, p)
                 : not_impl(errmsg, tr, "should_finish", p);
    }
    return done(rv, errmsg, t, NULL, p);
}

apr_status_t weblab_lab_dispose(const char **response, const char **errmsg,
                                weblab_lab_client_t *client,
                                const weblab_lab_target_t *t, const char *api,
                                const char *lab_session_id, apr_pool_t *p)
{
    const weblab_lab_transport_t *tr;
    apr_status_t rv;

    *response = NULL;
    *errmsg = NULL;
    rv = lookup(&tr, errmsg, t, p);
    if (rv == APR_SUCCESS) {
        rv = tr->dispose ? tr->dispose(response, errmsg, client, t, api,
                                       lab_session_id, p)
                         : not_impl(errmsg, tr, "dispose", p);
    }
    return done(rv, errmsg, t, NULL, p);
}
