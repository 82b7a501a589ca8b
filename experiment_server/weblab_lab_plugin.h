/* The lab plug-in interface of experiment_server.
 *
 * A lab is a struct of function pointers (weblab_lab_plugin_t). The daemon
 * speaks the WebLab-Deusto experiment-server protocol (XML-RPC Util.*, API
 * "1", "2" or "2_concurrent") and calls the lab through this struct; the lab
 * never sees XML, HTTP or API versions. lab_dummy.c is the worked example to
 * copy; docs/experiment-server.md explains how to write and register a lab.
 *
 * Sessions. Every start_experiment opens a session and dispose closes it.
 * In API "1" and "2" there is at most one session at a time (its id is "");
 * in API "2_concurrent" each lab session id of the laboratory server is a
 * session of its own, so one lab may serve several users at once. A lab
 * keeps its per-session state in session->data (allocated from
 * session->pool, which lives exactly as long as the session).
 *
 * Threads. All calls happen on the daemon's single event-loop thread, one at
 * a time: a lab needs no locking, but a call that blocks delays every other
 * client, so keep calls short (seconds, not minutes).
 *
 * Memory. Strings a lab returns (responses, messages) are allocated from the
 * pool p passed to the call, which is cleared after the answer is sent; or
 * they may be static. Arguments are owned by the daemon and valid only
 * during the call: copy what must outlive it into session->pool.
 *
 * Errors. Every slot returns APR_SUCCESS or an error status. On an error the
 * slot may set its string out-parameter (*response / *message) to a message;
 * the laboratory server receives it as an XML-RPC fault. APR_ENOTIMPL (or a
 * NULL slot) means "use the default", listed with each slot below; the
 * defaults are those of the original's Python Experiment base class.
 */
#ifndef WEBLAB_LAB_PLUGIN_H
#define WEBLAB_LAB_PLUGIN_H

#include <apr_pools.h>
#include <apr_errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever weblab_lab_plugin_t changes incompatibly. A loadable lab
 * sets abi_version to the value it was compiled with; the daemon refuses a
 * lab built against another version. */
#define WEBLAB_LAB_PLUGIN_ABI 1

/* Name of the symbol a loadable lab (--lab-module FILE.so) exports: a
 * const weblab_lab_plugin_t. */
#define WEBLAB_LAB_PLUGIN_SYMBOL "weblab_lab_plugin_module"

/* One user's use of the lab, from start_experiment to dispose. Created and
 * destroyed by the daemon; the lab owns only ->data. */
typedef struct weblab_lab_plugin_session_t {
    const char *id;         /* lab session id in "2_concurrent", else "".
                             * Never log it: it identifies a user's use. */
    apr_pool_t *pool;       /* destroyed when the session ends */
    void *data;             /* the lab's per-session state; NULL at start */
    void *lab_ctx;          /* what init() returned (NULL without init) */
} weblab_lab_plugin_session_t;

typedef struct weblab_lab_plugin_t {
    int abi_version;            /* WEBLAB_LAB_PLUGIN_ABI */
    const char *name;           /* what --lab selects, e.g. "dummy" */
    const char *description;    /* one line, shown by --help */

    /* Optional. Called once at start-up, before the port is opened; an error
     * stops the daemon (with *message on stderr). *lab_ctx is handed to
     * every session (session->lab_ctx) and to is_up_and_running. Allocate
     * from pool, which lives until exit; register a pool cleanup to close
     * devices at exit. */
    apr_status_t (*init)(void **lab_ctx, const char **message,
                         apr_pool_t *pool);

    /* start_experiment. client_initial_data and server_initial_data are the
     * JSON strings the laboratory server sent ("{}" when API 1 sends none).
     * *response is the JSON string answered: "{}" or e.g.
     * {"initial_configuration": "...", "batch": false}.
     * Default: "{}". */
    apr_status_t (*start)(const char **response,
                          weblab_lab_plugin_session_t *session,
                          const char *client_initial_data,
                          const char *server_initial_data, apr_pool_t *p);

    /* send_command_to_device: *response is the string answered to the
     * student. Default: a fault "send_command_to_device has not been
     * implemented in this experiment". */
    apr_status_t (*command)(const char **response,
                            weblab_lab_plugin_session_t *session,
                            const char *command, apr_pool_t *p);

    /* send_file_to_device: content_b64 is the file as base64 text (length
     * content_len, NUL-terminated), file_info the client's description.
     * Default: a fault, as for command. */
    apr_status_t (*file)(const char **response,
                         weblab_lab_plugin_session_t *session,
                         const char *content_b64, apr_size_t content_len,
                         const char *file_info, apr_pool_t *p);

    /* should_finish: *seconds > 0: ask again in that many seconds; 0: never
     * ask again (interactive lab); < 0: the use is over, dispose now.
     * Default: 0. */
    apr_status_t (*should_finish)(int *seconds,
                                  weblab_lab_plugin_session_t *session,
                                  apr_pool_t *p);

    /* dispose: release the equipment. *response is a JSON string such as
     * {"finished": true, "data": "..."} (data reaches the client as
     * end_data). To ask the laboratory server to call dispose again later,
     * answer {"finished": false, "ask_again": S} AND set *finished = 0: the
     * session then survives until a later dispose sets it to 1 (its
     * initial value). Default: {"finished": true, "data": ""}. The session
     * (and its pool) is destroyed after a finished dispose, whatever the
     * return status. */
    apr_status_t (*dispose)(const char **response, int *finished,
                            weblab_lab_plugin_session_t *session,
                            apr_pool_t *p);

    /* is_up_and_running: *seconds >= 0: fine, check again in that many
     * seconds (0: no estimate); -1: broken, *message says why.
     * Default: (600, ""). */
    apr_status_t (*is_up_and_running)(int *seconds, const char **message,
                                      void *lab_ctx, apr_pool_t *p);
} weblab_lab_plugin_t;

/* The built-in labs, in lab_<name>.c. */
extern const weblab_lab_plugin_t weblab_lab_dummy;
extern const weblab_lab_plugin_t weblab_lab_dummy_batch;

/* Look up a built-in lab by name; NULL if there is none. */
const weblab_lab_plugin_t *weblab_lab_plugin_find(const char *name);

/* The built-in labs as a NULL-terminated array (static storage). */
const weblab_lab_plugin_t *const *weblab_lab_plugin_builtins(void);

/* Load a lab from a shared object exporting WEBLAB_LAB_PLUGIN_SYMBOL. The
 * object stays loaded until pool is destroyed. On failure returns an error
 * and sets *message (from pool). */
apr_status_t weblab_lab_plugin_load(const weblab_lab_plugin_t **plugin,
                                    const char **message, const char *path,
                                    apr_pool_t *pool);

#ifdef __cplusplus
}
#endif

#endif
