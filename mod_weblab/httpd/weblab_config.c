/* Directives (docs/INTERNALS.md lists them with their defaults). Server
 * scope; a virtual host inherits what it does not set. */
#include "weblab_glue.h"

#include <http_log.h>
#include <apr_strings.h>

#define UNSET_D (-1.0)

void *weblab_create_server_conf(apr_pool_t *p, server_rec *s)
{
    weblab_server_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->core_cfg.coord_engine = NULL;
    c->core_cfg.poll_time = UNSET_D;
    c->core_cfg.session_timeout = UNSET_D;
    c->core_cfg.post_reservation_expiry = UNSET_D;
    c->core_cfg.lab_connect_timeout = UNSET_D;
    c->core_cfg.lab_timeout = UNSET_D;
    c->core_cfg.login_failed_delay = UNSET_D;
    c->core_cfg.check_interval = UNSET_D;
    c->core_cfg.debug_mode = -1;
    c->max_body = -1;
    c->upkeep_interval = -1;
    c->server = s;
    return c;
}

#define MERGE_PTR(f) n->core_cfg.f = a->core_cfg.f ? a->core_cfg.f : b->core_cfg.f
#define MERGE_D(f) n->core_cfg.f = a->core_cfg.f != UNSET_D ? a->core_cfg.f : b->core_cfg.f

void *weblab_merge_server_conf(apr_pool_t *p, void *base, void *add)
{
    weblab_server_conf_t *b = base, *a = add;
    weblab_server_conf_t *n = apr_pcalloc(p, sizeof(*n));

    MERGE_PTR(data_dsn);
    MERGE_PTR(coord_engine);
    MERGE_PTR(coord_dsn);
    MERGE_PTR(route);
    MERGE_PTR(server_url);
    MERGE_PTR(server_admin);
    MERGE_D(poll_time);
    MERGE_D(session_timeout);
    MERGE_D(post_reservation_expiry);
    MERGE_D(lab_connect_timeout);
    MERGE_D(lab_timeout);
    MERGE_D(login_failed_delay);
    MERGE_D(check_interval);
    n->core_cfg.debug_mode = a->core_cfg.debug_mode != -1
                             ? a->core_cfg.debug_mode : b->core_cfg.debug_mode;
    n->database_set = a->database_set || b->database_set;
    n->max_body = a->max_body != -1 ? a->max_body : b->max_body;
    n->upkeep_interval = a->upkeep_interval != -1 ? a->upkeep_interval
                                                  : b->upkeep_interval;
    n->server = a->server;
    return n;
}

static weblab_server_conf_t *conf_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &weblab_module);
}

static const char *set_database(cmd_parms *cmd, void *d, const char *arg)
{
    weblab_server_conf_t *c = conf_of(cmd);
    const char *why = weblab_sql_dsn_problem(arg, cmd->temp_pool);

    if (why) {
        return apr_pstrcat(cmd->pool, "WeblabDatabase: ", why, NULL);
    }
    c->core_cfg.data_dsn = arg;
    c->database_set = 1;
    return NULL;
}

static const char *set_coord_engine(cmd_parms *cmd, void *d, const char *arg)
{
    if (strcmp(arg, "sql") != 0 && strcmp(arg, "redis") != 0) {
        return "WeblabCoordinationEngine: sql or redis";
    }
    conf_of(cmd)->core_cfg.coord_engine = arg;
    return NULL;
}

/* The Redis target is kept in coord_dsn, the coordination backend's one
 * target: the engine says how to read it. */
static const char *set_coord_redis(cmd_parms *cmd, void *d, const char *arg)
{
    const char *why = weblab_coord_check_target("redis", arg, cmd->temp_pool);

    if (why) {
        return apr_pstrcat(cmd->pool, "WeblabCoordinationRedis: ", why, NULL);
    }
    conf_of(cmd)->core_cfg.coord_dsn = arg;
    return NULL;
}

static const char *set_coord_db(cmd_parms *cmd, void *d, const char *arg)
{
    const char *why = weblab_sql_dsn_problem(arg, cmd->temp_pool);

    if (why) {
        return apr_pstrcat(cmd->pool, "WeblabCoordinationDatabase: ", why,
                           NULL);
    }
    conf_of(cmd)->core_cfg.coord_dsn = arg;
    return NULL;
}

static const char *set_route(cmd_parms *cmd, void *d, const char *arg)
{
    if (strpbrk(arg, ".;, ")) {
        return "WeblabRoute must not contain '.', ';', ',' or spaces";
    }
    conf_of(cmd)->core_cfg.route = arg;
    return NULL;
}

static const char *set_server_url(cmd_parms *cmd, void *d, const char *arg)
{
    size_t n = strlen(arg);

    if (strncmp(arg, "http://", 7) && strncmp(arg, "https://", 8)) {
        return "WeblabServerURL must start with http:// or https://";
    }
    conf_of(cmd)->core_cfg.server_url =
        n && arg[n - 1] == '/' ? arg : apr_pstrcat(cmd->pool, arg, "/", NULL);
    return NULL;
}

static const char *set_admin(cmd_parms *cmd, void *d, const char *arg)
{
    conf_of(cmd)->core_cfg.server_admin = arg;
    return NULL;
}

/* Seconds as a non-negative number, stored at the offset in core_cfg. */
static const char *set_seconds(cmd_parms *cmd, void *d, const char *arg)
{
    weblab_server_conf_t *c = conf_of(cmd);
    char *end;
    double v = strtod(arg, &end);

    if (*end || v < 0) {
        return apr_psprintf(cmd->pool, "%s takes a number of seconds >= 0",
                            cmd->cmd->name);
    }
    *(double *)((char *)&c->core_cfg + (apr_size_t)cmd->info) = v;
    return NULL;
}

static const char *set_debug(cmd_parms *cmd, void *d, int flag)
{
    conf_of(cmd)->core_cfg.debug_mode = flag;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *d, const char *arg)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);

    if (*end || v < 1024) {
        return "WeblabMaxRequestBody takes a number of bytes >= 1024";
    }
    conf_of(cmd)->max_body = (apr_off_t)v;
    return NULL;
}

static const char *set_upkeep(cmd_parms *cmd, void *d, const char *arg)
{
    char *end;
    double v = strtod(arg, &end);

    if (*end || v < 0.1 || v > 3600) {
        return "WeblabUpkeepInterval takes seconds between 0.1 and 3600";
    }
    conf_of(cmd)->upkeep_interval = (apr_interval_time_t)(v * APR_USEC_PER_SEC);
    return NULL;
}

#define SECONDS(name, field, help) \
    AP_INIT_TAKE1(name, set_seconds, \
                  (void *)APR_OFFSETOF(weblab_core_config_t, field), \
                  RSRC_CONF, help)

const command_rec weblab_cmds[] = {
    AP_INIT_TAKE1("WeblabDatabase", set_database, NULL, RSRC_CONF,
                  "data database DSN: sqlite:/srv/weblab/db/WebLab.db or"
                  " mysql://user:password@host:port/dbname"),
    AP_INIT_TAKE1("WeblabCoordinationEngine", set_coord_engine, NULL,
                  RSRC_CONF, "scheduler backend: sql or redis"),
    AP_INIT_TAKE1("WeblabCoordinationRedis", set_coord_redis, NULL,
                  RSRC_CONF, "Redis target (redis engine):"
                  " redis://[:password@]host:port/db or unix:/path?db=N"),
    AP_INIT_TAKE1("WeblabCoordinationDatabase", set_coord_db, NULL,
                  RSRC_CONF, "coordination database DSN (sql engine)"),
    AP_INIT_TAKE1("WeblabRoute", set_route, NULL, RSRC_CONF,
                  "route name of this core (cookies, reservation ids)"),
    AP_INIT_TAKE1("WeblabServerURL", set_server_url, NULL, RSRC_CONF,
                  "public URL of /weblab/ (url field of reservations)"),
    AP_INIT_TAKE1("WeblabServerAdmin", set_admin, NULL, RSRC_CONF,
                  "contact shown when internal errors are hidden"),
    SECONDS("WeblabPollTime", poll_time, "poll timeout of a reservation"),
    SECONDS("WeblabSessionTimeout", session_timeout,
            "user session timeout since last access"),
    SECONDS("WeblabPostReservationExpiry", post_reservation_expiry,
            "how long post_reservation data is kept"),
    SECONDS("WeblabLabConnectTimeout", lab_connect_timeout,
            "connect timeout to experiment servers"),
    SECONDS("WeblabLabTimeout", lab_timeout,
            "I/O timeout of one experiment-server call"),
    SECONDS("WeblabLoginFailedDelay", login_failed_delay,
            "delay before answering a failed login"),
    SECONDS("WeblabCheckInterval", check_interval,
            "seconds between two health checks of every lab instance"),
    AP_INIT_FLAG("WeblabDebugMode", set_debug, NULL, RSRC_CONF,
                 "On: internal error messages reach clients"),
    AP_INIT_TAKE1("WeblabMaxRequestBody", set_max_body, NULL, RSRC_CONF,
                  "largest JSON request body in bytes"),
    AP_INIT_TAKE1("WeblabUpkeepInterval", set_upkeep, NULL, RSRC_CONF,
                  "seconds between two passes of the periodic work"),
    {NULL}
};
