/* The "dummy" lab: the worked example to copy when writing a lab.
 *
 * It behaves like the original WebLab-Deusto DummyExperiment: commands are
 * echoed as "Received command: <cmd>", files are acknowledged as "Received
 * file with len: <n> and file_info: <info>" (n = length of the base64 text),
 * should_finish answers 0 (an interactive lab: never ask again) and dispose
 * answers {"finished": true} (no data: end_data "null", as the original
 * dummy, whose dispose returns nothing). As in the original, the command
 * "server_info" is answered with a description of the server instead; here
 * it also shows the per-session counters, which is how the tests see that
 * 2_concurrent sessions are kept apart.
 *
 * To write your own lab: copy this file to lab_<name>.c, rename the
 * functions and the struct at the bottom, and list the struct in
 * lab_registry.c and Makefile.am (or build it as a shared object and run
 * experiment_server --lab-module; see docs/experiment-server.md).
 */
#include "weblab_lab_plugin.h"

#include <apr_strings.h>
#include <string.h>

/* Per-session state: a real lab keeps its device handles here. */
typedef struct dummy_session_t {
    unsigned commands;      /* commands received in this session */
    unsigned files;         /* files received in this session */
} dummy_session_t;

/* The state of the session; made on first use so that a command that
 * arrives without a start (allowed in API 1 and 2) works too. */
static dummy_session_t *dummy_state(weblab_lab_plugin_session_t *session)
{
    if (!session->data) {
        session->data = apr_pcalloc(session->pool, sizeof(dummy_session_t));
    }
    return session->data;
}

static apr_status_t dummy_start(const char **response,
                                weblab_lab_plugin_session_t *session,
                                const char *client_initial_data,
                                const char *server_initial_data,
                                apr_pool_t *p)
{
    /* A real lab would parse the two JSON strings here (the user's name is
     * in server_initial_data["request.username"]) and power its device. */
    dummy_state(session);
    *response = "{}";
    return APR_SUCCESS;
}

static apr_status_t dummy_command(const char **response,
                                  weblab_lab_plugin_session_t *session,
                                  const char *command, apr_pool_t *p)
{
    dummy_session_t *st = dummy_state(session);

    st->commands++;
    if (strcmp(command, "server_info") == 0) {
        *response = apr_psprintf(p, "mod_weblab experiment_server, lab "
                                 "dummy; this session: %u commands, %u files",
                                 st->commands, st->files);
        return APR_SUCCESS;
    }
    *response = apr_pstrcat(p, "Received command: ", command, NULL);
    return APR_SUCCESS;
}

static apr_status_t dummy_file(const char **response,
                               weblab_lab_plugin_session_t *session,
                               const char *content_b64, apr_size_t content_len,
                               const char *file_info, apr_pool_t *p)
{
    dummy_state(session)->files++;
    *response = apr_psprintf(p, "Received file with len: %" APR_SIZE_T_FMT
                             " and file_info: %s", content_len, file_info);
    return APR_SUCCESS;
}

static apr_status_t dummy_should_finish(int *seconds,
                                        weblab_lab_plugin_session_t *session,
                                        apr_pool_t *p)
{
    *seconds = 0;       /* interactive: the user decides when to finish */
    return APR_SUCCESS;
}

static apr_status_t dummy_dispose(const char **response, int *finished,
                                  weblab_lab_plugin_session_t *session,
                                  apr_pool_t *p)
{
    /* Nothing to release: session->pool (and the state in it) is destroyed
     * by the daemon after this returns. */
    *response = "{\"finished\": true}";
    return APR_SUCCESS;
}

static apr_status_t dummy_is_up_and_running(int *seconds,
                                            const char **message,
                                            void *lab_ctx, apr_pool_t *p)
{
    *seconds = 600;     /* fine; check again in 10 minutes */
    *message = "";
    return APR_SUCCESS;
}

const weblab_lab_plugin_t weblab_lab_dummy = {
    .abi_version = WEBLAB_LAB_PLUGIN_ABI,
    .name = "dummy",
    .description = "echoes commands and files, like the original "
                   "DummyExperiment",
    .init = NULL,       /* no global state */
    .start = dummy_start,
    .command = dummy_command,
    .file = dummy_file,
    .should_finish = dummy_should_finish,
    .dispose = dummy_dispose,
    .is_up_and_running = dummy_is_up_and_running,
};
