/* The lab as the daemon sees it: a plug-in, its context and its sessions,
 * with the defaults of the original's Experiment base class applied where a
 * plug-in leaves a slot empty (NULL or APR_ENOTIMPL).
 *
 * Every call returns APR_SUCCESS with its result, or an error status with
 * *errmsg set (from p) for the XML-RPC fault. Strings come from p. */
#ifndef WEBLAB_ES_LAB_H
#define WEBLAB_ES_LAB_H

#include <apr_pools.h>
#include "weblab_lab_plugin.h"

typedef struct weblab_es_lab_t weblab_es_lab_t;
typedef weblab_lab_plugin_session_t weblab_es_session_t;

/* Host plugin: run its init, make an empty session table. Allocated from
 * pool, which must outlive every call. On failure *errmsg says why. */
apr_status_t weblab_es_lab_create(weblab_es_lab_t **lab, const char **errmsg,
                                  const weblab_lab_plugin_t *plugin,
                                  apr_pool_t *pool);

/* The plug-in being hosted. */
const weblab_lab_plugin_t *weblab_es_lab_plugin(const weblab_es_lab_t *lab);

/* The session with this id. When missing: NULL, or with create a new
 * session on which start was never called (API 1 and 2 accept calls
 * without a start, as the original did); NULL also when the table is full.*/
weblab_es_session_t *weblab_es_lab_session(weblab_es_lab_t *lab,
                                           const char *id, int create);

/* Number of open sessions. */
unsigned weblab_es_lab_session_count(const weblab_es_lab_t *lab);

/* start_experiment: opens the session id (a session already open under that
 * id is disposed first) and calls the lab's start. If start fails the
 * session is closed again. APR_ENOSPC when too many sessions are open. */
apr_status_t weblab_es_lab_start(const char **response, const char **errmsg,
                                 weblab_es_lab_t *lab, const char *id,
                                 const char *client_initial_data,
                                 const char *server_initial_data,
                                 apr_pool_t *p);

/* send_command_to_device on session s: the lab's answer; without a
 * command slot, the original's "not implemented" fault. */
apr_status_t weblab_es_lab_command(const char **response,
                                   const char **errmsg, weblab_es_lab_t *lab,
                                   weblab_es_session_t *s,
                                   const char *command, apr_pool_t *p);

/* send_file_to_device on session s (content as base64 text of len bytes);
 * without a file slot, the "not implemented" fault. */
apr_status_t weblab_es_lab_file(const char **response, const char **errmsg,
                                weblab_es_lab_t *lab, weblab_es_session_t *s,
                                const char *content_b64, apr_size_t len,
                                const char *file_info, apr_pool_t *p);

/* should_finish on session s; 0 without a should_finish slot. */
apr_status_t weblab_es_lab_should_finish(int *seconds, const char **errmsg,
                                         weblab_es_lab_t *lab,
                                         weblab_es_session_t *s,
                                         apr_pool_t *p);

/* dispose: calls the lab's dispose and closes the session unless the lab
 * asked to be disposed again (finished = 0). s == NULL (an unknown
 * 2_concurrent session) answers {"finished": true, "data": ""}. */
apr_status_t weblab_es_lab_dispose(const char **response, const char **errmsg,
                                   weblab_es_lab_t *lab,
                                   weblab_es_session_t *s, apr_pool_t *p);

/* is_up_and_running: (seconds, message); (600, "") without the slot. */
apr_status_t weblab_es_lab_is_up(int *seconds, const char **message,
                                 const char **errmsg, weblab_es_lab_t *lab,
                                 apr_pool_t *p);

/* Dispose every open session (at shut-down), ignoring what the lab says. */
void weblab_es_lab_close_all(weblab_es_lab_t *lab, apr_pool_t *p);

#endif
