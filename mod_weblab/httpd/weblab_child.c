/* Start-up: validate the configuration (post_config fails the start with a
 * clear message), create the writer mutexes, and make the per-child core in
 * child_init (pools and connections are per child, never from pconf at
 * request time). */
#include "weblab_glue.h"

#include <http_log.h>
#include <http_main.h>
#include <http_core.h>
#include <util_mutex.h>
#include <ap_mpm.h>
#include <curl/curl.h>
#include <apr_strings.h>
#include <string.h>

APLOG_USE_MODULE(weblab);

static int weblab_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp)
{
    return ap_mutex_register(pconf, WEBLAB_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT,
                             0) == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* Defaults for what the directives left unset. */
static void finalize(weblab_server_conf_t *c)
{
    weblab_core_config_t d;

    weblab_core_config_defaults(&d);
#define DEF_PTR(f) if (!c->core_cfg.f) c->core_cfg.f = d.f
#define DEF_D(f) if (c->core_cfg.f < 0) c->core_cfg.f = d.f
    DEF_PTR(coord_engine);
    DEF_PTR(route);
    DEF_PTR(server_url);
    DEF_PTR(server_admin);
    DEF_D(poll_time);
    DEF_D(session_timeout);
    DEF_D(post_reservation_expiry);
    DEF_D(lab_connect_timeout);
    DEF_D(lab_timeout);
    DEF_D(login_failed_delay);
    DEF_D(check_interval);
#undef DEF_PTR
#undef DEF_D
    if (c->core_cfg.debug_mode < 0) {
        c->core_cfg.debug_mode = d.debug_mode;
    }
    if (c->max_body < 0) {
        c->max_body = 8 * 1024 * 1024;
    }
    if (c->upkeep_interval < 0) {
        c->upkeep_interval = apr_time_from_sec(1);
    }
}

/* The writers' mutex of one SQLite database (*m stays NULL for MySQL),
 * made once and shared by the virtual hosts. One per database, so that the
 * uses log written to the data database does not wait for the scheduler's
 * writes to the coordination database, nor these for it. */
static apr_status_t writer_mutex(apr_global_mutex_t **m, const char *dsn,
                                 const char *instance, server_rec *base,
                                 apr_pool_t *pconf)
{
    apr_status_t rv;

    if (*m || !weblab_sql_dsn_needs_lock(dsn)) {
        return APR_SUCCESS;
    }
    rv = ap_global_mutex_create(m, NULL, WEBLAB_MUTEX_TYPE, instance, base,
                                pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, base,
                     "weblab: could not create the writer mutex of the %s"
                     " database", instance);
    }
    return rv;
}

/* When one writer mutex exists and the other is still to be made, make the
 * other the same one if two would be wrong: fcntl locks belong to the
 * process, and two of them, each held by a thread of one child and wanted
 * by a thread of another, look like a deadlock to the kernel (EDEADLK);
 * "Mutex file:DIR default" selects fcntl. With fcntl every virtual host
 * and database therefore shares one mutex, as all did before there were
 * two. Likewise when both databases are one file. */
static void share_if_needed(apr_global_mutex_t **data,
                            apr_global_mutex_t **coord,
                            const weblab_server_conf_t *c)
{
    apr_global_mutex_t *made = *data ? *data : *coord;

    if ((*data && *coord) || !made) {
        return;
    }
    if (apr_global_mutex_mech(made) == APR_LOCK_FCNTL
        || !strcmp(c->core_cfg.data_dsn, c->core_cfg.coord_dsn)) {
        *data = *coord = made;
    }
}

static int weblab_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *base)
{
    apr_global_mutex_t *data_mutex = NULL, *coord_mutex = NULL;
    server_rec *s;
    const char *why;
    int threads = 0;
    apr_status_t rv;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;                  /* the dry run before the real one */
    }
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    for (s = base; s; s = s->next) {
        weblab_server_conf_t *c = ap_get_module_config(s->module_config,
                                                       &weblab_module);

        c->server = s;
        if (!c->database_set) {
            continue;
        }
        finalize(c);
        c->core_cfg.pool_max = threads > 0 ? threads + 2 : 8;
        why = weblab_coord_check_target(c->core_cfg.coord_engine,
                                        c->core_cfg.coord_dsn, ptemp);
        if (why) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         "weblab: WeblabCoordinationEngine %s: %s",
                         c->core_cfg.coord_engine, why);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        /* only SQLite needs them: MySQL serializes writers with GET_LOCK */
        share_if_needed(&data_mutex, &coord_mutex, c);
        rv = writer_mutex(&data_mutex, c->core_cfg.data_dsn, "data", base,
                          pconf);
        share_if_needed(&data_mutex, &coord_mutex, c);
        if (rv == APR_SUCCESS) {
            rv = writer_mutex(&coord_mutex, c->core_cfg.coord_dsn,
                              "coordination", base, pconf);
        }
        if (rv != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        c->data_mutex = weblab_sql_dsn_needs_lock(c->core_cfg.data_dsn)
                        ? data_mutex : NULL;
        c->coord_mutex = weblab_sql_dsn_needs_lock(c->core_cfg.coord_dsn)
                         ? coord_mutex : NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, base,
                     "weblab: libcurl could not be initialized");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return weblab_watchdog_post_config(pconf, base);
}

static apr_status_t lock_mutex(void *baton)
{
    return apr_global_mutex_lock(baton);
}

static apr_status_t unlock_mutex(void *baton)
{
    return apr_global_mutex_unlock(baton);
}

/* Re-attach a writer mutex in a new child. */
static apr_status_t attach_mutex(apr_global_mutex_t **m, apr_pool_t *pchild,
                                 server_rec *s)
{
    apr_status_t rv;

    if (!*m) {
        return APR_SUCCESS;
    }
    rv = apr_global_mutex_child_init(m, apr_global_mutex_lockfile(*m), pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "weblab: could not attach a writer mutex");
    }
    return rv;
}

static void log_to_server(void *baton, int level, apr_status_t rv,
                          const char *msg)
{
    static const int levels[] = {APLOG_ERR, APLOG_WARNING, APLOG_INFO,
                                 APLOG_DEBUG};

    ap_log_error(APLOG_MARK, levels[level & 3], rv, (server_rec *)baton,
                 "%s", msg);
}

static void weblab_child_init(apr_pool_t *pchild, server_rec *base)
{
    server_rec *s;

    for (s = base; s; s = s->next) {
        weblab_server_conf_t *c = ap_get_module_config(s->module_config,
                                                       &weblab_module);
        weblab_sql_lock_t data_lock = {lock_mutex, unlock_mutex, NULL};
        weblab_sql_lock_t coord_lock = {lock_mutex, unlock_mutex, NULL};
        apr_status_t rv;
        int shared;

        if (!c->database_set) {
            continue;
        }
        shared = c->coord_mutex == c->data_mutex;
        if (attach_mutex(&c->data_mutex, pchild, s) != APR_SUCCESS
            || (!shared
                && attach_mutex(&c->coord_mutex, pchild, s) != APR_SUCCESS)) {
            continue;
        }
        if (shared) {
            c->coord_mutex = c->data_mutex;     /* one lock, one object */
        }
        data_lock.baton = c->data_mutex;
        coord_lock.baton = c->coord_mutex;
        rv = weblab_core_create(&c->core, &c->core_cfg,
                                c->data_mutex ? &data_lock : NULL,
                                c->coord_mutex ? &coord_lock : NULL, pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "weblab: could not open the databases (%s, %s)",
                         weblab_sql_dsn_redact(c->core_cfg.data_dsn, pchild),
                         weblab_coord_target_redacted(
                             c->core_cfg.coord_engine, c->core_cfg.coord_dsn,
                             pchild));
            c->core = NULL;
            continue;
        }
        c->core->log = log_to_server;
        c->core->log_baton = s;
    }
}

void weblab_child_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(weblab_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(weblab_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(weblab_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
