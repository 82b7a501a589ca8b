#include "weblab_core.h"

#include <apr_time.h>
#include <apr_atomic.h>
#include <apr_strings.h>

void weblab_core_config_defaults(weblab_core_config_t *cfg)
{
    cfg->data_dsn = NULL;
    cfg->coord_engine = "sql";
    cfg->coord_dsn = NULL;
    cfg->route = "route1";
    cfg->server_url = "http://localhost/weblab/";
    cfg->server_admin = "<server_admin not set>";
    cfg->poll_time = 350;
    cfg->session_timeout = 7200;
    cfg->post_reservation_expiry = 86400;
    cfg->lab_connect_timeout = 5;
    cfg->lab_timeout = 30;
    cfg->login_failed_delay = 2;
    cfg->check_interval = 30;
    cfg->debug_mode = 1;
    cfg->pool_max = 32;
}

apr_status_t weblab_core_create(weblab_core_t **out,
                                const weblab_core_config_t *cfg,
                                const weblab_sql_lock_t *data_lock,
                                const weblab_sql_lock_t *coord_lock,
                                apr_pool_t *p)
{
    weblab_core_t *core = apr_pcalloc(p, sizeof(*core));
    apr_status_t rv;

    *out = NULL;
    core->cfg = *cfg;
    if (!cfg->data_dsn || !cfg->coord_dsn) {
        return APR_EINVAL;
    }
    /* the writer lock is for SQLite; MySQL takes a named lock itself */
    rv = weblab_sql_pool_create(&core->data, cfg->data_dsn, 0, cfg->pool_max,
                                weblab_sql_dsn_needs_lock(cfg->data_dsn)
                                ? data_lock : NULL, p);
    if (rv == APR_SUCCESS) {
        rv = weblab_coord_open(&core->coord, cfg->coord_engine, cfg->coord_dsn,
                               cfg->pool_max,
                               weblab_sql_dsn_needs_lock(cfg->coord_dsn)
                               ? coord_lock : NULL, p);
    }
    if (rv == APR_SUCCESS) {
        rv = weblab_lab_client_create(&core->labs, cfg->pool_max,
                                      cfg->lab_connect_timeout,
                                      cfg->lab_timeout, p);
    }
    if (rv == APR_SUCCESS) {
        *out = core;
    }
    return rv;
}

int weblab_core_log_due(weblab_core_t *core, apr_uint32_t *suppressed)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t next = apr_atomic_read32(&core->log_next);

    if (now >= next && apr_atomic_cas32(&core->log_next,
                                        now + WEBLAB_LOG_EVERY, next) == next) {
        *suppressed = apr_atomic_xchg32(&core->log_suppressed, 0);
        return 1;
    }
    apr_atomic_inc32(&core->log_suppressed);
    return 0;
}

double weblab_now(void)
{
    return (double)apr_time_now() / APR_USEC_PER_SEC;
}

void weblab_core_log(weblab_core_t *core, int level, apr_status_t rv,
                     const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (!core->log) {
        return;
    }
    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    core->log(core->log_baton, level, rv, buf);
}
