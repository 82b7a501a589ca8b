/* Private to the Redis coordination backend: the connection side
 * (weblab_coord_redis_conn.c: target, per-process pool of hiredis
 * contexts, running a step of the script) used by the steps
 * (weblab_coord_redis.c, weblab_coord_redis_views.c). The script is the
 * .lua files of mod_weblab/core/redis, compiled in as
 * weblab_coord_redis_lua. */
#ifndef WEBLAB_COORD_REDIS_H
#define WEBLAB_COORD_REDIS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <hiredis.h>

typedef struct weblab_redis_t weblab_redis_t;

/* A parsed target: redis://[[user]:password@]host[:port][/db][?opts] or
 * unix:/path/to/socket[?db=N&user=U&password=P&opts]; opts: prefix (key
 * prefix, default "weblab:"), connect_timeout and timeout (seconds,
 * default 2 and 5). */
typedef struct weblab_redis_target_t {
    const char *host;           /* NULL for a unix socket */
    int port;
    const char *socket_path;
    int db;
    const char *user;           /* NULL: AUTH password only */
    const char *password;       /* NULL: no AUTH */
    const char *prefix;
    double connect_timeout;
    double timeout;
} weblab_redis_target_t;

/* Parse target into t (strings from p); on failure *err says why (never
 * quoting the password). */
apr_status_t weblab_redis_target_parse(weblab_redis_target_t *t,
                                       const char **err, const char *target,
                                       apr_pool_t *p);

/* The target with its password replaced by "***" (for logs). */
const char *weblab_redis_target_redacted(const char *target, apr_pool_t *p);

/* A pool of at most pool_max connections, made when needed (none at
 * creation, so a child starts while Redis is down). Lives as long as p.
 * The process must ignore SIGPIPE (httpd does): hiredis writes with
 * write(2), and a server gone away must be an error, not a signal. */
apr_status_t weblab_redis_create(weblab_redis_t **r,
                                 const weblab_redis_target_t *t,
                                 int pool_max, apr_pool_t *p);

/* Arguments of a step; strings are not copied. */
#define WEBLAB_REDIS_MAX_ARGS 24
typedef struct weblab_redis_args_t {
    int n;
    const char *v[WEBLAB_REDIS_MAX_ARGS];
    size_t len[WEBLAB_REDIS_MAX_ARGS];
    char num[WEBLAB_REDIS_MAX_ARGS][32];    /* storage for numbers */
} weblab_redis_args_t;

void weblab_redis_args_init(weblab_redis_args_t *a);
/* A string; NULL is sent as "\0", which the script reads as NULL. */
void weblab_redis_arg_str(weblab_redis_args_t *a, const char *s);
/* A double as "%.17g" (exact both ways). */
void weblab_redis_arg_num(weblab_redis_args_t *a, double d);
void weblab_redis_arg_int(weblab_redis_args_t *a, apr_int64_t i);

/* Reads the reply of a step; the reply is freed by weblab_redis_run after
 * this returns, so anything kept must be copied (into the caller's pool). */
typedef apr_status_t (*weblab_redis_reply_fn)(const redisReply *reply,
                                              void *baton);

/* Run one step of the script (EVALSHA, or EVAL when the server does not
 * have it yet). After an I/O error on a connection that had worked, the
 * step is retried once on a new connection with "replay" set; connections
 * older than the failure are dropped. Errors: APR_ECONNREFUSED and the
 * like when Redis cannot be reached, APR_TIMEUP, APR_EOF, APR_EAGAIN
 * (Redis loading or busy), APR_EGENERAL (an error answer). */
apr_status_t weblab_redis_run(weblab_redis_t *r, const char *step,
                              const weblab_redis_args_t *a,
                              weblab_redis_reply_fn fn, void *baton);

/* A string or status answer. */
static inline int weblab_redis_is_str(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS;
}

/* Steps of weblab_coord_redis_views.c (ctx: a weblab_redis_t); same
 * meaning as the weblab_coord_backend_t entries. */
struct weblab_coord_due_t;
apr_status_t weblab_coord_redis_due(void *ctx, struct weblab_coord_due_t *d,
                                    double now, double poll_time,
                                    apr_pool_t *p);
apr_status_t weblab_coord_redis_instances(void *ctx,
                                          apr_array_header_t **out,
                                          apr_pool_t *p);
apr_status_t weblab_coord_redis_queue(void *ctx, apr_array_header_t **out,
                                      apr_pool_t *p);

#endif
