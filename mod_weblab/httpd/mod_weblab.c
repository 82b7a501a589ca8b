/* mod_weblab: WebLab-Deusto in Apache httpd. register_hooks only delegates;
 * each glue file registers its own hooks. */
#include "weblab_glue.h"

static void weblab_register_hooks(apr_pool_t *p)
{
    weblab_child_register_hooks(p);
    weblab_handler_register_hooks(p);
    weblab_status_register_hooks(p);
    weblab_async_register_hooks(p);
}

AP_DECLARE_MODULE(weblab) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config */
    NULL,
    weblab_create_server_conf,
    weblab_merge_server_conf,
    weblab_cmds,
    weblab_register_hooks
};
