/* Client side of the experiment-server protocols: how mod_weblab talks to a
 * lab. Transports are looked up by name ("xmlrpc": the WebLab-Deusto
 * experiment-server protocol, spec 4.4 and 10.2; "http": weblablib labs,
 * spec 4.5 and 10.3). Every call has a connect and an I/O timeout, so a
 * dead or slow lab never holds a thread longer than that.
 *
 * Thread safety: a weblab_lab_client_t is shared by all threads of a process;
 * it keeps a pool of keep-alive HTTP handles (libcurl easy handles in an
 * apr_reslist), never one handle in two threads. */
#ifndef WEBLAB_LAB_H
#define WEBLAB_LAB_H

#include <apr_pools.h>
#include <apr_errno.h>

/* Where a lab instance is and how to talk to it. */
typedef struct weblab_lab_target_t {
    const char *transport;      /* "xmlrpc" | "http" (weblablib) */
    const char *url;            /* e.g. "http://127.0.0.1:10039/weblab";
                                 * xmlrpc without a path: POST /RPC2 (as
                                 * the original); http: the lab's base,
                                 * requests go to <url>/weblab/sessions/ */
    const char *api;            /* "1", "2", "2_concurrent"; "" = ask get_api */
    const char *auth;           /* xmlrpc: token sent as ?auth=; may be NULL */
    const char *auth_user;      /* http: Basic auth; may be NULL */
    const char *auth_password;
} weblab_lab_target_t;

typedef struct weblab_lab_client_t weblab_lab_client_t;

/* Create a client with at most max_handles pooled connections, timeouts in
 * seconds. Allocated from p (pchild in httpd); its handles are freed when p
 * is destroyed. curl_global_init must have been called by the process.
 * A call takes at most connect_timeout + io_timeout in all (connecting,
 * sending, waiting, reading); a thread waiting for a free handle waits at
 * most as long. Call it while the process is still single-threaded
 * (child_init): it also raises xmlrpc-c's process-wide response size limit
 * (512 KiB by default) to WEBLAB_LAB_MAX_RESPONSE. */
apr_status_t weblab_lab_client_create(weblab_lab_client_t **client,
                                      int max_handles,
                                      double connect_timeout,
                                      double io_timeout, apr_pool_t *p);

/* Result of a call. On failure the function returns non-APR_SUCCESS:
 * APR_TIMEUP (timeout), APR_ECONNREFUSED (nobody listening), APR_EGENERAL
 * (HTTP error, XML-RPC fault, unparsable answer); *errmsg then says what,
 * for logs and for the instance's error list. All strings from p. */

/* get_api(): "1", "2" or "2_concurrent". Per spec 10.2 a fault is retried
 * once and then "1" is assumed (returns APR_SUCCESS with "1"); only a
 * transport failure is an error. */
apr_status_t weblab_lab_get_api(const char **api, const char **errmsg,
                                weblab_lab_client_t *client,
                                const weblab_lab_target_t *t, apr_pool_t *p);

/* test_me(msg): *echo gets the answer. */
apr_status_t weblab_lab_test_me(const char **echo, const char **errmsg,
                                weblab_lab_client_t *client,
                                const weblab_lab_target_t *t, const char *msg,
                                apr_pool_t *p);

/* The calls below take the resolved api (never ""), and lab_session_id
 * (used only by "2_concurrent", sent as the struct {"id": ...}, spec 10.2). */

/* start_experiment: API 1 sends no arguments and answers "ok"; API 2 sends
 * (client_initial_data, server_initial_data); *response is the server's
 * answer as a string ("" for nil).
 * Some labs choose the session id themselves (weblablib, "http"): then
 * *remote_session_id gets it (from p), and the caller must keep it as the
 * lab session id of the reservation and pass it, instead of the one it
 * proposed, to every later call; with labs that take the caller's id
 * (xmlrpc) *remote_session_id is NULL. remote_session_id itself may be NULL
 * only for the latter: an "http" target then fails with APR_EINVAL before
 * anything is sent, as a started session would be lost. */
apr_status_t weblab_lab_start_session(const char **response,
                                      const char **remote_session_id,
                                      const char **errmsg,
                                      weblab_lab_client_t *client,
                                      const weblab_lab_target_t *t,
                                      const char *api,
                                      const char *lab_session_id,
                                      const char *client_initial_data,
                                      const char *server_initial_data,
                                      apr_pool_t *p);

/* weblab_lab_start_session without remote_session_id: for labs that take
 * the caller's lab_session_id (xmlrpc) only. */
apr_status_t weblab_lab_start(const char **response, const char **errmsg,
                              weblab_lab_client_t *client,
                              const weblab_lab_target_t *t, const char *api,
                              const char *lab_session_id,
                              const char *client_initial_data,
                              const char *server_initial_data, apr_pool_t *p);

/* send_command_to_device(command): *response as a string. Labs that take
 * no commands through WebLab ("http") answer APR_ENOTIMPL and an *errmsg
 * meant for the student; the reservation goes on. */
apr_status_t weblab_lab_send_command(const char **response,
                                     const char **errmsg,
                                     weblab_lab_client_t *client,
                                     const weblab_lab_target_t *t,
                                     const char *api,
                                     const char *lab_session_id,
                                     const char *command, apr_pool_t *p);

/* send_file_to_device(base64 content, file_info): *response as a string. */
apr_status_t weblab_lab_send_file(const char **response, const char **errmsg,
                                  weblab_lab_client_t *client,
                                  const weblab_lab_target_t *t,
                                  const char *api, const char *lab_session_id,
                                  const char *content_b64,
                                  const char *file_info, apr_pool_t *p);

/* should_finish(): seconds (>0 ask again, 0 stop asking, <0 finish now).
 * API 1 is never asked: *seconds = 0 without a call. Int or double answers
 * are both accepted. */
apr_status_t weblab_lab_should_finish(double *seconds, const char **errmsg,
                                      weblab_lab_client_t *client,
                                      const weblab_lab_target_t *t,
                                      const char *api,
                                      const char *lab_session_id,
                                      apr_pool_t *p);

/* dispose(): API 1 answers "ok" (result ignored); else the server's string. */
apr_status_t weblab_lab_dispose(const char **response, const char **errmsg,
                                weblab_lab_client_t *client,
                                const weblab_lab_target_t *t, const char *api,
                                const char *lab_session_id, apr_pool_t *p);

/* ---- for transports (weblab_lab_<name>.c) and nobody else ---- */

/* Largest answer accepted from a lab; a longer one aborts the call. */
#define WEBLAB_LAB_MAX_RESPONSE (16 * 1024 * 1024)

/* A transport: the public calls above with the same signatures, looked up
 * by target->transport in weblab_lab.c. A NULL slot answers APR_ENOTIMPL.
 * init (may be NULL) runs once per weblab_lab_client_create. start is
 * weblab_lab_start_session (*remote_session_id is NULL on entry). */
typedef struct weblab_lab_transport_t {
    const char *name;
    apr_status_t (*init)(weblab_lab_client_t *client, apr_pool_t *p);
    apr_status_t (*get_api)(const char **api, const char **errmsg,
                            weblab_lab_client_t *client,
                            const weblab_lab_target_t *t, apr_pool_t *p);
    apr_status_t (*test_me)(const char **echo, const char **errmsg,
                            weblab_lab_client_t *client,
                            const weblab_lab_target_t *t, const char *msg,
                            apr_pool_t *p);
    apr_status_t (*start)(const char **response,
                          const char **remote_session_id,
                          const char **errmsg, weblab_lab_client_t *client,
                          const weblab_lab_target_t *t, const char *api,
                          const char *lab_session_id,
                          const char *client_initial_data,
                          const char *server_initial_data, apr_pool_t *p);
    apr_status_t (*send_command)(const char **response, const char **errmsg,
                                 weblab_lab_client_t *client,
                                 const weblab_lab_target_t *t,
                                 const char *api, const char *lab_session_id,
                                 const char *command, apr_pool_t *p);
    apr_status_t (*send_file)(const char **response, const char **errmsg,
                              weblab_lab_client_t *client,
                              const weblab_lab_target_t *t, const char *api,
                              const char *lab_session_id,
                              const char *content_b64, const char *file_info,
                              apr_pool_t *p);
    apr_status_t (*should_finish)(double *seconds, const char **errmsg,
                                  weblab_lab_client_t *client,
                                  const weblab_lab_target_t *t,
                                  const char *api, const char *lab_session_id,
                                  apr_pool_t *p);
    apr_status_t (*dispose)(const char **response, const char **errmsg,
                            weblab_lab_client_t *client,
                            const weblab_lab_target_t *t, const char *api,
                            const char *lab_session_id, apr_pool_t *p);
} weblab_lab_transport_t;

extern const weblab_lab_transport_t weblab_lab_xmlrpc_transport;
extern const weblab_lab_transport_t weblab_lab_weblablib_transport;

/* One HTTP exchange on a pooled keep-alive handle, for transports.
 * method "GET" or "POST" (body/body_len/content_type used by POST only);
 * headers (may be NULL): more request lines ("Accept: ..."), NULL-ended;
 * user/password (may be NULL) for Basic auth, sent with the first request
 * (no challenge round trip). On APR_SUCCESS a complete
 * HTTP answer arrived, whatever its status: *status, and *resp and *resp_len
 * (NUL-terminated, from p). Otherwise APR_TIMEUP, APR_ECONNREFUSED or
 * APR_EGENERAL, and *errmsg (from p) names the curl error; the handle is
 * then discarded, not reused. */
apr_status_t weblab_lab_http(int *status, const char **resp,
                             apr_size_t *resp_len, const char **errmsg,
                             weblab_lab_client_t *client, const char *method,
                             const char *url, const char *const *headers,
                             const char *content_type, const char *body,
                             apr_size_t body_len, const char *user,
                             const char *password, apr_pool_t *p);

/* msg with every copy of secret (at least its first 16 characters, or all
 * of it when shorter) replaced by label; from p. For transports whose
 * errors may quote a session id or other bearer token. */
const char *weblab_lab_redact(const char *msg, const char *secret,
                              const char *label, apr_pool_t *p);

#endif
