/* Shared by the httpd glue files only (the one place that includes httpd
 * headers). */
#ifndef WEBLAB_GLUE_H
#define WEBLAB_GLUE_H

#include <httpd.h>
#include <http_config.h>
#include <apr_global_mutex.h>
#include "weblab_core.h"

/* Name of the writer mutexes in the Mutex directive (one per SQLite
 * database: instance "data" and "coordination"). */
#define WEBLAB_MUTEX_TYPE "weblab-sql-writer"
#define WEBLAB_HANDLER "weblab-json"

typedef struct weblab_server_conf_t {
    weblab_core_config_t core_cfg;
    int database_set;           /* WeblabDatabase given for this server */
    apr_off_t max_body;         /* WeblabMaxRequestBody */
    apr_interval_time_t upkeep_interval; /* WeblabUpkeepInterval */
    /* Per child, written once in child_init before any request. */
    weblab_core_t *core;
    /* made in post_config, re-attached per child; NULL when that database
     * is not SQLite */
    apr_global_mutex_t *data_mutex, *coord_mutex;
    server_rec *server;
} weblab_server_conf_t;

extern module AP_MODULE_DECLARE_DATA weblab_module;

/* weblab_config.c */
extern const command_rec weblab_cmds[];
void *weblab_create_server_conf(apr_pool_t *p, server_rec *s);
void *weblab_merge_server_conf(apr_pool_t *p, void *base, void *add);

/* weblab_child.c: pre_config, post_config and child_init hooks. */
void weblab_child_register_hooks(apr_pool_t *p);

/* weblab_handler.c */
void weblab_handler_register_hooks(apr_pool_t *p);

/* weblab_status.c: the instances table in server-status. */
void weblab_status_register_hooks(apr_pool_t *p);

/* weblab_async_child.c: the async commands' threads, per child. */
void weblab_async_register_hooks(apr_pool_t *p);

/* weblab_watchdog.c: registers the upkeep in post_config. */
int weblab_watchdog_post_config(apr_pool_t *pconf, server_rec *s);

#endif
