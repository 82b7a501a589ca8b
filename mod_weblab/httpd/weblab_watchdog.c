/* Periodic work (expiry, pending lab starts and disposals, should_finish,
 * broken-instance re-tests, cleanup) on mod_watchdog, as a singleton: one
 * child of a core runs it at a time; several cores may run it at once, which
 * the coordination claims make safe. */
#include "weblab_glue.h"
#include "weblab_lifecycle.h"

#include <http_log.h>
#include <mod_watchdog.h>

APLOG_USE_MODULE(weblab);

#define WEBLAB_WATCHDOG_NAME "weblab-upkeep"

static apr_status_t upkeep(int state, void *data, apr_pool_t *pool)
{
    weblab_server_conf_t *c = data;
    apr_pool_t *p;
    apr_status_t rv;

    if (state != AP_WATCHDOG_STATE_RUNNING || !c->core) {
        return APR_SUCCESS;     /* starting, stopping, or core not ready */
    }
    apr_pool_create(&p, pool);
    rv = weblab_lifecycle_upkeep(c->core, p);
    if (rv != APR_SUCCESS) {
        apr_uint32_t more;

        if (weblab_core_log_due(c->core, &more)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, c->server,
                         "weblab: upkeep pass failed; will retry (%u similar"
                         " failures not logged in the last %d s)", more,
                         WEBLAB_LOG_EVERY);
        }
    }
    apr_pool_destroy(p);
    return APR_SUCCESS;         /* keep being called */
}

int weblab_watchdog_post_config(apr_pool_t *pconf, server_rec *base)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_cb;
    server_rec *s;

    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_cb = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    for (s = base; s; s = s->next) {
        weblab_server_conf_t *c = ap_get_module_config(s->module_config,
                                                       &weblab_module);
        ap_watchdog_t *wd;
        apr_status_t rv;

        if (!c->database_set) {
            continue;
        }
        if (!get_instance || !register_cb) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         "weblab: mod_watchdog is required (it runs expiry"
                         " and lab disposal)");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        rv = get_instance(&wd, WEBLAB_WATCHDOG_NAME, 0, 1, pconf);
        if (rv == APR_SUCCESS) {
            rv = register_cb(wd, c->upkeep_interval, c, upkeep);
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "weblab: could not register the upkeep watchdog");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}
