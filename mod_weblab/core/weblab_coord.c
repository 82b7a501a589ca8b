/* Coordination wrappers and the backend registry. */
#include "weblab_coord.h"
#include "weblab_coord_redis.h"

#include <string.h>
#include <apr_strings.h>

extern const weblab_coord_backend_t weblab_coord_sql_backend;
apr_status_t weblab_coord_sql_create(void **ctx, const char *dsn,
                                     int pool_max,
                                     const weblab_sql_lock_t *lock,
                                     apr_pool_t *p);

extern const weblab_coord_backend_t weblab_coord_redis_backend;
apr_status_t weblab_coord_redis_create(void **ctx, const char *target,
                                       int pool_max, apr_pool_t *p);

apr_status_t weblab_coord_open(weblab_coord_t **coord, const char *engine,
                               const char *target, int pool_max,
                               const weblab_sql_lock_t *lock, apr_pool_t *p)
{
    weblab_coord_t *c;
    apr_status_t rv;

    *coord = NULL;
    c = apr_pcalloc(p, sizeof(*c));
    if (!strcmp(engine, "sql")) {
        c->be = &weblab_coord_sql_backend;
        rv = weblab_coord_sql_create(&c->ctx, target, pool_max, lock, p);
    }
    else if (!strcmp(engine, "redis")) {
        /* lock: Redis scripts are atomic on the server */
        c->be = &weblab_coord_redis_backend;
        rv = weblab_coord_redis_create(&c->ctx, target, pool_max, p);
    }
    else {
        return APR_ENOTIMPL;
    }
    if (rv == APR_SUCCESS) {
        *coord = c;
    }
    return rv;
}

#define CALL(c, fn, ...) \
    ((c)->be->fn ? (c)->be->fn((c)->ctx, __VA_ARGS__) : APR_ENOTIMPL)

apr_status_t weblab_coord_session_create(weblab_coord_t *c,
                                         const weblab_session_t *s)
{
    return CALL(c, session_create, s);
}

apr_status_t weblab_coord_session_get(weblab_coord_t *c, weblab_session_t **s,
                                      const char *id, double now,
                                      double timeout, apr_pool_t *p)
{
    return CALL(c, session_get, s, id, now, timeout, p);
}

apr_status_t weblab_coord_session_delete(weblab_coord_t *c, const char *id)
{
    return CALL(c, session_delete, id);
}

apr_status_t weblab_coord_reserve(weblab_coord_t *c,
                                  const weblab_reservation_t *r, double now)
{
    return CALL(c, reserve, r, now);
}

apr_status_t weblab_coord_get(weblab_coord_t *c, weblab_reservation_t **r,
                              const char *id, apr_pool_t *p)
{
    return CALL(c, get, r, id, p);
}

apr_status_t weblab_coord_touch(weblab_coord_t *c, const char *id, double now)
{
    return CALL(c, touch, id, now);
}

apr_status_t weblab_coord_claim(weblab_coord_t *c, int *claimed,
                                const char *id, const char *state, double now,
                                double until)
{
    return CALL(c, claim, claimed, id, state, now, until);
}

apr_status_t weblab_coord_set_api(weblab_coord_t *c, const char *id,
                                  const char *api)
{
    return CALL(c, set_api, id, api);
}

apr_status_t weblab_coord_confirm(weblab_coord_t *c, int *confirmed,
                                  const char *id, const char *lab_session_id,
                                  const char *api,
                                  const char *initial_configuration,
                                  const char *initial_data,
                                  apr_int64_t use_id, double now,
                                  double next_should_finish)
{
    return CALL(c, confirm, confirmed, id, lab_session_id, api,
                initial_configuration, initial_data, use_id, now,
                next_should_finish);
}

apr_status_t weblab_coord_start_failed(weblab_coord_t *c, const char *id,
                                       const char *error, double now)
{
    return CALL(c, start_failed, id, error, now);
}

apr_status_t weblab_coord_finish(weblab_coord_t *c, const char *id,
                                 int reason, double now)
{
    return CALL(c, finish, id, reason, now);
}

apr_status_t weblab_coord_dispose_later(weblab_coord_t *c, const char *id,
                                        double at)
{
    return CALL(c, dispose_later, id, at);
}

apr_status_t weblab_coord_disposed(weblab_coord_t *c, const char *id,
                                   const char *end_data, double now,
                                   double post_expiry, int broken,
                                   const char *error)
{
    return CALL(c, disposed, id, end_data, now, post_expiry, broken, error);
}

apr_status_t weblab_coord_set_should_finish(weblab_coord_t *c, const char *id,
                                            double at)
{
    return CALL(c, set_should_finish, id, at);
}

apr_status_t weblab_coord_due(weblab_coord_t *c, weblab_coord_due_t *due,
                              double now, double poll_time, apr_pool_t *p)
{
    return CALL(c, due, due, now, poll_time, p);
}

apr_status_t weblab_coord_sync_instances(weblab_coord_t *c,
                                         const apr_array_header_t *defs,
                                         apr_pool_t *p)
{
    return CALL(c, sync_instances, defs, p);
}

apr_status_t weblab_coord_instance_checked(weblab_coord_t *c,
                                           apr_int64_t resource_id, int ok,
                                           const char *error, double next)
{
    return CALL(c, instance_checked, resource_id, ok, error, next);
}

apr_status_t weblab_coord_cleanup(weblab_coord_t *c, double now,
                                  double session_timeout)
{
    return CALL(c, cleanup, now, session_timeout);
}

apr_status_t weblab_coord_instances(weblab_coord_t *c,
                                    apr_array_header_t **out, apr_pool_t *p)
{
    return CALL(c, instances, out, p);
}

apr_status_t weblab_coord_instance_failed(weblab_coord_t *c,
                                          apr_int64_t resource_id,
                                          const char *error, double now,
                                          double next_check)
{
    return CALL(c, instance_failed, resource_id, error, now, next_check);
}

apr_status_t weblab_coord_queue(weblab_coord_t *c, apr_array_header_t **out,
                                apr_pool_t *p)
{
    return CALL(c, queue, out, p);
}

const char *weblab_coord_check_target(const char *engine, const char *target,
                                      apr_pool_t *p)
{
    weblab_redis_target_t t;
    const char *err = NULL;
    int redis_form = target && (!strncmp(target, "redis://", 8)
                                || !strncmp(target, "unix:", 5));

    if (!strcmp(engine, "redis")) {
        if (!target) {
            return "no Redis target (WeblabCoordinationRedis)";
        }
        if (weblab_redis_target_parse(&t, &err, target, p) != APR_SUCCESS) {
            return apr_pstrcat(p, "Redis target: ", err, NULL);
        }
        return NULL;
    }
    if (!strcmp(engine, "sql")) {
        if (!target) {
            return "no coordination database (WeblabCoordinationDatabase)";
        }
        return redis_form ? "a Redis target needs the redis engine" : NULL;
    }
    return apr_pstrcat(p, "unknown coordination engine '", engine,
                       "' (sql, redis)", NULL);
}

const char *weblab_coord_target_redacted(const char *engine,
                                         const char *target, apr_pool_t *p)
{
    if (!target) {
        return "(none)";
    }
    return strcmp(engine, "redis") ? weblab_sql_dsn_redact(target, p)
                                   : weblab_redis_target_redacted(target, p);
}
