/* Redis coordination backend: the weblab_coord.h steps, each one call of
 * the Lua script (the .lua files of mod_weblab/core/redis, keys described in
 * common.lua), so each is atomic on the server: the slot assignment and
 * its release happen inside the script, and no two reservations ever hold
 * one slot. Same semantics as the SQL backend (weblab_coord_sql.c); the
 * same behavioural tests run on both (tests/unit/test_coord*.c). */
#include "weblab_coord.h"
#include "weblab_coord_redis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <jansson.h>

/* Until its first access a session keeps this TTL: the session timeout is
 * only known from then on (session_get and cleanup carry it), and cleanup
 * removes an unused session on time anyway. */
#define SESSION_CREATE_TTL (7 * 86400)

apr_status_t weblab_coord_redis_create(void **ctx, const char *target,
                                       int pool_max, apr_pool_t *p)
{
    weblab_redis_target_t t;
    weblab_redis_t *r;
    const char *err;
    apr_status_t rv = weblab_redis_target_parse(&t, &err, target, p);

    if (rv == APR_SUCCESS) {
        rv = weblab_redis_create(&r, &t, pool_max, p);
    }
    if (rv == APR_SUCCESS) {
        *ctx = r;
    }
    return rv;
}

/* ---- replies ---- */

/* "ok", "exists" or "notfound". */
static apr_status_t status_reply(const redisReply *reply, void *baton)
{
    if (!weblab_redis_is_str(reply)) {
        return APR_EGENERAL;
    }
    if (!strcmp(reply->str, "ok")) {
        return APR_SUCCESS;
    }
    if (!strcmp(reply->str, "exists")) {
        return APR_EEXIST;
    }
    return !strcmp(reply->str, "notfound") ? APR_NOTFOUND : APR_EGENERAL;
}

static apr_status_t int_reply(const redisReply *reply, void *baton)
{
    if (reply->type != REDIS_REPLY_INTEGER) {
        return APR_EGENERAL;
    }
    *(int *)baton = (int)reply->integer;
    return APR_SUCCESS;
}

typedef struct {
    apr_hash_t *h;              /* NULL: nothing (unknown) */
    apr_pool_t *p;
} fields_t;

/* A flat array name, value, name, value... into a hash of copies. */
static apr_status_t fields_reply(const redisReply *reply, void *baton)
{
    fields_t *f = baton;
    size_t i;

    f->h = NULL;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        return APR_EGENERAL;
    }
    if (reply->elements == 0) {
        return APR_SUCCESS;
    }
    f->h = apr_hash_make(f->p);
    for (i = 0; i < reply->elements; i += 2) {
        const redisReply *k = reply->element[i], *v = reply->element[i + 1];

        if (!weblab_redis_is_str(k) || !weblab_redis_is_str(v)) {
            return APR_EGENERAL;
        }
        apr_hash_set(f->h, apr_pstrmemdup(f->p, k->str, k->len), k->len,
                     apr_pstrmemdup(f->p, v->str, v->len));
    }
    return APR_SUCCESS;
}

static const char *fs(apr_hash_t *h, const char *name)
{
    return apr_hash_get(h, name, APR_HASH_KEY_STRING);
}

static double fd(apr_hash_t *h, const char *name)
{
    const char *s = fs(h, name);

    return s ? strtod(s, NULL) : 0.0;
}

static apr_int64_t fi(apr_hash_t *h, const char *name)
{
    const char *s = fs(h, name);

    return s ? apr_atoi64(s) : 0;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static double clock_now(void)
{
    return (double)apr_time_now() / APR_USEC_PER_SEC;
}

/* Run a step whose answer is "ok" (or "exists"/"notfound"). */
static apr_status_t run_status(void *ctx, const char *step,
                               const weblab_redis_args_t *a)
{
    return weblab_redis_run(ctx, step, a, status_reply, NULL);
}

/* ---- sessions ---- */

static apr_status_t session_create(void *ctx, const weblab_session_t *s)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, s->id);
    weblab_redis_arg_int(&a, s->user_id);
    weblab_redis_arg_str(&a, s->login);
    weblab_redis_arg_str(&a, s->full_name);
    weblab_redis_arg_str(&a, s->role);
    weblab_redis_arg_num(&a, s->created);
    weblab_redis_arg_num(&a, s->latest_access);
    weblab_redis_arg_int(&a, SESSION_CREATE_TTL);
    return run_status(ctx, "session_create", &a);
}

/* TTL of a session refreshed now: it is valid for timeout more seconds. */
static apr_int64_t session_ttl(double timeout)
{
    return timeout < 1 ? 2 : (apr_int64_t)ceil(timeout) + 1;
}

static apr_status_t session_get(void *ctx, weblab_session_t **out,
                                const char *id, double now, double timeout,
                                apr_pool_t *p)
{
    weblab_redis_args_t a;
    fields_t f = {NULL, p};
    weblab_session_t *s;
    apr_status_t rv;

    *out = NULL;
    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    weblab_redis_arg_num(&a, now);
    weblab_redis_arg_num(&a, timeout);
    weblab_redis_arg_int(&a, session_ttl(timeout));
    rv = weblab_redis_run(ctx, "session_get", &a, fields_reply, &f);
    if (rv != APR_SUCCESS || !f.h) {
        return rv;
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->id = apr_pstrdup(p, id);
    s->user_id = fi(f.h, "user_id");
    s->login = fs(f.h, "login");
    s->full_name = fs(f.h, "full_name");
    s->role = fs(f.h, "role");
    s->created = fd(f.h, "created");
    s->latest_access = fd(f.h, "latest_access");
    s->reservation_id = fs(f.h, "reservation_id");
    *out = s;
    return APR_SUCCESS;
}

static apr_status_t session_delete(void *ctx, const char *id)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    return run_status(ctx, "session_delete", &a);
}

/* ---- reservations ---- */

static apr_status_t reserve(void *ctx, const weblab_reservation_t *r,
                            double now)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, r->id);
    weblab_redis_arg_str(&a, r->session_id);
    weblab_redis_arg_int(&a, r->user_id);
    weblab_redis_arg_str(&a, r->login);
    weblab_redis_arg_str(&a, r->full_name);
    weblab_redis_arg_str(&a, r->exp_name);
    weblab_redis_arg_str(&a, r->cat_name);
    weblab_redis_arg_int(&a, r->priority);
    weblab_redis_arg_num(&a, r->time_allowed);
    weblab_redis_arg_int(&a, r->init_in_accounting);
    weblab_redis_arg_str(&a, nz(r->permanent_id));
    weblab_redis_arg_str(&a, r->client_initial_data);
    weblab_redis_arg_str(&a, r->request_info);
    weblab_redis_arg_str(&a, r->route);
    weblab_redis_arg_str(&a, nz(r->origin));
    weblab_redis_arg_num(&a, now);
    return run_status(ctx, "reserve", &a);
}

static apr_status_t get(void *ctx, weblab_reservation_t **out, const char *id,
                        apr_pool_t *p)
{
    weblab_redis_args_t a;
    fields_t f = {NULL, p};
    weblab_reservation_t *r;
    apr_hash_t *h;
    apr_status_t rv;

    *out = NULL;
    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    rv = weblab_redis_run(ctx, "get", &a, fields_reply, &f);
    if (rv != APR_SUCCESS || !f.h) {
        return rv;
    }
    h = f.h;
    r = apr_pcalloc(p, sizeof(*r));
    r->id = apr_pstrdup(p, id);
    r->session_id = fs(h, "session_id");
    r->user_id = fi(h, "user_id");
    r->login = fs(h, "login");
    r->full_name = fs(h, "full_name");
    r->exp_name = fs(h, "exp_name");
    r->cat_name = fs(h, "cat_name");
    r->resource_type = fs(h, "resource_type");
    r->priority = (int)fi(h, "priority");
    r->time_allowed = fd(h, "time_allowed");
    r->init_in_accounting = (int)fi(h, "init_in_accounting");
    r->permanent_id = fs(h, "permanent_id");
    r->state = fs(h, "state");
    r->created = fd(h, "created");
    r->latest_poll = fd(h, "latest_poll");
    r->client_initial_data = fs(h, "client_initial_data");
    r->request_info = fs(h, "request_info");
    r->route = fs(h, "route");
    r->origin = fs(h, "origin");
    r->position = (int)fi(h, "position");
    r->working_instances = (int)fi(h, "working_instances");
    r->instance_name = fs(h, "li.instance_name");
    r->resource_instance = fs(h, "ri.name");
    r->slot_id = fi(h, "slot");
    r->lab.exp_name = r->exp_name;
    r->lab.cat_name = r->cat_name;
    r->lab.instance_name = r->instance_name;
    r->lab.resource_type = r->resource_type;
    r->lab.resource_instance = r->resource_instance;
    r->lab.transport = fs(h, "li.transport");
    r->lab.url = fs(h, "li.url");
    r->lab.api = fs(h, "li.api");
    if ((!r->lab.api || !*r->lab.api) && fs(h, "li.discovered_api")) {
        r->lab.api = fs(h, "li.discovered_api");
    }
    r->lab.auth_user = fs(h, "li.auth_user");
    r->lab.auth_password = fs(h, "li.auth_password");
    r->lab.manages_polling = (int)fi(h, "li.manages_polling");
    r->api = fs(h, "api");
    r->claim_until = fd(h, "claim_until");
    r->timestamp_before = fd(h, "timestamp_before");
    r->timestamp_after = fd(h, "timestamp_after");
    r->lab_session_id = fs(h, "lab_session_id");
    r->initial_configuration = fs(h, "initial_configuration");
    r->next_should_finish = fd(h, "next_should_finish");
    r->next_dispose = fd(h, "next_dispose");
    r->finish_reason = (int)fi(h, "finish_reason");
    r->finished = (int)fi(h, "finished");
    r->initial_data = fs(h, "initial_data");
    r->end_data = fs(h, "end_data");
    r->post_expires = fd(h, "post_expires");
    r->use_id = fi(h, "use_id");
    if (!r->state) {
        return APR_EGENERAL;
    }
    *out = r;
    return APR_SUCCESS;
}

/* A step on one reservation with a time: id, when. */
static apr_status_t id_time(void *ctx, const char *step, const char *id,
                            double t)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    weblab_redis_arg_num(&a, t);
    return run_status(ctx, step, &a);
}

static apr_status_t touch(void *ctx, const char *id, double now)
{
    return id_time(ctx, "touch", id, now);
}

static apr_status_t claim(void *ctx, int *claimed, const char *id,
                          const char *state, double now, double until)
{
    weblab_redis_args_t a;

    *claimed = 0;
    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    weblab_redis_arg_str(&a, state);
    weblab_redis_arg_num(&a, now);
    weblab_redis_arg_num(&a, until);
    return weblab_redis_run(ctx, "claim", &a, int_reply, claimed);
}

static apr_status_t set_api(void *ctx, const char *id, const char *api)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    weblab_redis_arg_str(&a, api);
    return run_status(ctx, "set_api", &a);
}

static apr_status_t confirm(void *ctx, int *confirmed, const char *id,
                            const char *lab_session_id, const char *api,
                            const char *initial_configuration,
                            const char *initial_data, apr_int64_t use_id,
                            double now, double next_should_finish)
{
    weblab_redis_args_t a;

    *confirmed = 0;
    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    weblab_redis_arg_str(&a, lab_session_id);
    weblab_redis_arg_str(&a, api);
    weblab_redis_arg_str(&a, initial_configuration);
    weblab_redis_arg_str(&a, initial_data);
    weblab_redis_arg_int(&a, use_id);
    weblab_redis_arg_num(&a, now);
    /* 0 means "never ask" */
    weblab_redis_arg_num(&a, next_should_finish > 0 ? next_should_finish : 0);
    return weblab_redis_run(ctx, "confirm", &a, int_reply, confirmed);
}

static apr_status_t start_failed(void *ctx, const char *id, const char *error,
                                 double now)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    weblab_redis_arg_str(&a, error);
    weblab_redis_arg_num(&a, now);
    return run_status(ctx, "start_failed", &a);
}

static apr_status_t finish(void *ctx, const char *id, int reason, double now)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    weblab_redis_arg_int(&a, reason);
    weblab_redis_arg_num(&a, now);
    return run_status(ctx, "finish", &a);
}

static apr_status_t dispose_later(void *ctx, const char *id, double at)
{
    return id_time(ctx, "dispose_later", id, at);
}

static apr_status_t disposed(void *ctx, const char *id, const char *end_data,
                             double now, double post_expiry, int broken,
                             const char *error)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, id);
    weblab_redis_arg_str(&a, end_data);
    weblab_redis_arg_num(&a, now);
    weblab_redis_arg_num(&a, post_expiry);
    weblab_redis_arg_int(&a, broken ? 1 : 0);
    weblab_redis_arg_str(&a, error);
    return run_status(ctx, "disposed", &a);
}

static apr_status_t set_should_finish(void *ctx, const char *id, double at)
{
    return id_time(ctx, "set_should_finish", id, at);
}

/* ---- instances and cleanup ---- */

/* The instances as the JSON array sync_instances reads. */
static char *defs_json(const apr_array_header_t *defs)
{
    json_t *list = json_array();
    char *s;
    int i;

    for (i = 0; i < defs->nelts; i++) {
        const weblab_instance_def_t *d =
            &APR_ARRAY_IDX(defs, i, weblab_instance_def_t);

        json_array_append_new(list, json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
            "exp", nz(d->exp_name), "cat", nz(d->cat_name),
            "inst", nz(d->instance_name), "rt", nz(d->resource_type),
            "ri", nz(d->resource_instance), "transport", nz(d->transport),
            "url", nz(d->url), "api", nz(d->api),
            "auth_user", nz(d->auth_user),
            "auth_password", nz(d->auth_password),
            "manages_polling", d->manages_polling ? "1" : "0"));
    }
    s = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    return s;
}

static apr_status_t sync_instances(void *ctx, const apr_array_header_t *defs,
                                   apr_pool_t *p)
{
    weblab_redis_args_t a;
    apr_status_t rv;
    char *json = defs_json(defs);

    if (!json) {
        return APR_ENOMEM;
    }
    weblab_redis_args_init(&a);
    weblab_redis_arg_str(&a, json);
    weblab_redis_arg_num(&a, clock_now());
    rv = run_status(ctx, "sync_instances", &a);
    free(json);
    return rv;
}

static apr_status_t instance_checked(void *ctx, apr_int64_t resource_id,
                                     int ok, const char *error, double next)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_int(&a, resource_id);
    weblab_redis_arg_int(&a, ok ? 1 : 0);
    weblab_redis_arg_str(&a, ok ? NULL : error);
    weblab_redis_arg_num(&a, next);
    weblab_redis_arg_num(&a, clock_now());
    return run_status(ctx, "instance_checked", &a);
}

static apr_status_t cleanup(void *ctx, double now, double session_timeout)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_num(&a, now);
    weblab_redis_arg_num(&a, now - session_timeout);
    return run_status(ctx, "cleanup", &a);
}

static apr_status_t instance_failed(void *ctx, apr_int64_t resource_id,
                                    const char *error, double now,
                                    double next_check)
{
    weblab_redis_args_t a;

    weblab_redis_args_init(&a);
    weblab_redis_arg_int(&a, resource_id);
    weblab_redis_arg_str(&a, error);
    weblab_redis_arg_num(&a, now);
    weblab_redis_arg_num(&a, next_check);
    return run_status(ctx, "instance_failed", &a);
}

const weblab_coord_backend_t weblab_coord_redis_backend = {
    "redis",
    session_create,
    session_get,
    session_delete,
    reserve,
    get,
    touch,
    claim,
    set_api,
    confirm,
    start_failed,
    finish,
    dispose_later,
    disposed,
    set_should_finish,
    weblab_coord_redis_due,
    sync_instances,
    instance_checked,
    cleanup,
    weblab_coord_redis_instances,
    instance_failed,
    weblab_coord_redis_queue,
};
