/* The "dummy_batch" lab: a batch lab, after the original's
 * DummyBatchExperiment. start_experiment answers {"initial_configuration":
 * "this will be batch", "batch": true}, so the laboratory server disposes
 * the session right away; dispose answers {"finished": true, "data": "This
 * is the final data"}. Commands and files are acknowledged as the dummy lab
 * does. (The original also sleeps 10 s in dispose; this one does not.)
 * Only the slots that differ from the defaults are set. */
#include "weblab_lab_plugin.h"

#include <apr_strings.h>

static apr_status_t batch_start(const char **response,
                                weblab_lab_plugin_session_t *session,
                                const char *client_initial_data,
                                const char *server_initial_data,
                                apr_pool_t *p)
{
    *response = "{\"initial_configuration\": \"this will be batch\", "
                "\"batch\": true}";
    return APR_SUCCESS;
}

static apr_status_t batch_command(const char **response,
                                  weblab_lab_plugin_session_t *session,
                                  const char *command, apr_pool_t *p)
{
    *response = apr_pstrcat(p, "Received command: ", command, NULL);
    return APR_SUCCESS;
}

static apr_status_t batch_file(const char **response,
                               weblab_lab_plugin_session_t *session,
                               const char *content_b64, apr_size_t content_len,
                               const char *file_info, apr_pool_t *p)
{
    *response = apr_psprintf(p, "Received file with len: %" APR_SIZE_T_FMT
                             " and file_info: %s", content_len, file_info);
    return APR_SUCCESS;
}

static apr_status_t batch_dispose(const char **response, int *finished,
                                  weblab_lab_plugin_session_t *session,
                                  apr_pool_t *p)
{
    *response = "{\"finished\": true, \"data\": \"This is the final data\"}";
    return APR_SUCCESS;
}

const weblab_lab_plugin_t weblab_lab_dummy_batch = {
    .abi_version = WEBLAB_LAB_PLUGIN_ABI,
    .name = "dummy_batch",
    .description = "a batch lab: start answers \"batch\": true, like the "
                   "original DummyBatchExperiment",
    .start = batch_start,
    .command = batch_command,
    .file = batch_file,
    .dispose = batch_dispose,
    /* should_finish and is_up_and_running: the defaults (0 and (600, "")) */
};
