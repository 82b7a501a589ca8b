/* Redis coordination backend, what the periodic upkeep and the status
 * pages read: the due lists, every instance with its holder, the queues.
 * One script call each (mod_weblab/core/redis/upkeep.lua, status.lua). */
#include "weblab_coord.h"
#include "weblab_coord_redis.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

static const char *nz(const char *s)
{
    return s ? s : "";
}

typedef struct {
    weblab_coord_due_t *d;
    apr_pool_t *p;
} due_baton_t;

static apr_array_header_t *ids_of(const redisReply *list, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, (int)list->elements + 1,
                                           sizeof(const char *));
    size_t i;

    for (i = 0; i < list->elements; i++) {
        const redisReply *e = list->element[i];

        if (weblab_redis_is_str(e)) {
            APR_ARRAY_PUSH(a, const char *) = apr_pstrmemdup(p, e->str,
                                                             e->len);
        }
    }
    return a;
}

static apr_status_t due_reply(const redisReply *reply, void *baton)
{
    due_baton_t *b = baton;
    const redisReply *broken;
    apr_pool_t *p = b->p;
    size_t i;
    int k;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5) {
        return APR_EGENERAL;
    }
    for (k = 0; k < 5; k++) {
        if (reply->element[k]->type != REDIS_REPLY_ARRAY) {
            return APR_EGENERAL;
        }
    }
    b->d->expired = ids_of(reply->element[0], p);
    b->d->to_start = ids_of(reply->element[1], p);
    b->d->to_dispose = ids_of(reply->element[2], p);
    b->d->should_finish = ids_of(reply->element[3], p);
    broken = reply->element[4];
    b->d->broken = apr_array_make(p, (int)broken->elements + 1,
                                  sizeof(weblab_coord_broken_t));
    for (i = 0; i < broken->elements; i++) {
        const redisReply *row = broken->element[i];
        const char *v[12];
        weblab_coord_broken_t *x;

        if (row->type != REDIS_REPLY_ARRAY || row->elements != 12) {
            return APR_EGENERAL;
        }
        for (k = 0; k < 12; k++) {
            v[k] = weblab_redis_is_str(row->element[k])
                ? apr_pstrmemdup(p, row->element[k]->str,
                                 row->element[k]->len) : "";
        }
        x = apr_array_push(b->d->broken);
        x->resource_id = apr_atoi64(v[0]);
        x->lab.resource_instance = v[1];
        x->lab.resource_type = v[2];
        x->lab.exp_name = v[3];
        x->lab.cat_name = v[4];
        x->lab.instance_name = v[5];
        x->lab.transport = v[6];
        x->lab.url = v[7];
        x->lab.api = v[8];
        x->lab.auth_user = v[9];
        x->lab.auth_password = v[10];
        x->lab.manages_polling = atoi(v[11]);
    }
    return APR_SUCCESS;
}

apr_status_t weblab_coord_redis_due(void *ctx, weblab_coord_due_t *d,
                                    double now, double poll_time,
                                    apr_pool_t *p)
{
    weblab_redis_args_t a;
    due_baton_t b = {d, p};

    memset(d, 0, sizeof(*d));
    weblab_redis_args_init(&a);
    weblab_redis_arg_num(&a, now);
    weblab_redis_arg_num(&a, now - poll_time);
    return weblab_redis_run(ctx, "due", &a, due_reply, &b);
}

/* ---- read-only views ---- */

/* A cell of a row: NULL for "\0" (the script's NULL). */
static const char *cell(const redisReply *row, size_t i, apr_pool_t *p)
{
    const redisReply *e = row->element[i];

    if (!weblab_redis_is_str(e) || (e->len == 1 && e->str[0] == '\0')) {
        return NULL;
    }
    return apr_pstrmemdup(p, e->str, e->len);
}

typedef struct {
    apr_array_header_t **out;
    apr_pool_t *p;
} rows_baton_t;

/* Check that reply is an array of arrays of ncols. */
static int rows_ok(const redisReply *reply, size_t ncols)
{
    size_t i;

    if (reply->type != REDIS_REPLY_ARRAY) {
        return 0;
    }
    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_ARRAY
            || reply->element[i]->elements != ncols) {
            return 0;
        }
    }
    return 1;
}

static apr_status_t instances_reply(const redisReply *reply, void *baton)
{
    rows_baton_t *b = baton;
    apr_pool_t *p = b->p;
    size_t i;

    if (!rows_ok(reply, 16)) {
        return APR_EGENERAL;
    }
    *b->out = apr_array_make(p, (int)reply->elements + 1,
                             sizeof(weblab_coord_instance_t));
    for (i = 0; i < reply->elements; i++) {
        const redisReply *row = reply->element[i];
        weblab_coord_instance_t *in = apr_array_push(*b->out);

        memset(in, 0, sizeof(*in));
        in->resource_id = apr_atoi64(nz(cell(row, 0, p)));
        in->lab.resource_instance = cell(row, 1, p);
        in->lab.resource_type = cell(row, 2, p);
        in->working = atoi(nz(cell(row, 3, p)));
        in->error = cell(row, 4, p);
        in->lab.exp_name = cell(row, 5, p);
        in->lab.cat_name = cell(row, 6, p);
        in->lab.instance_name = cell(row, 7, p);
        in->lab.transport = cell(row, 8, p);
        in->lab.url = cell(row, 9, p);
        in->lab.api = cell(row, 10, p);
        in->lab.manages_polling = atoi(nz(cell(row, 11, p)));
        in->holder = cell(row, 12, p);
        in->holder_login = cell(row, 13, p);
        in->holder_state = cell(row, 14, p);
        in->queue_length = atoi(nz(cell(row, 15, p)));
    }
    return APR_SUCCESS;
}

apr_status_t weblab_coord_redis_instances(void *ctx,
                                          apr_array_header_t **out,
                                          apr_pool_t *p)
{
    rows_baton_t b = {out, p};

    *out = NULL;
    return weblab_redis_run(ctx, "instances", NULL, instances_reply, &b);
}

static apr_status_t queue_reply(const redisReply *reply, void *baton)
{
    rows_baton_t *b = baton;
    apr_pool_t *p = b->p;
    size_t i;

    if (!rows_ok(reply, 8)) {
        return APR_EGENERAL;
    }
    *b->out = apr_array_make(p, (int)reply->elements + 1,
                             sizeof(weblab_coord_waiting_t));
    for (i = 0; i < reply->elements; i++) {
        const redisReply *row = reply->element[i];
        weblab_coord_waiting_t *w = apr_array_push(*b->out);

        w->resource_type = cell(row, 0, p);
        w->position = atoi(nz(cell(row, 1, p)));
        w->login = cell(row, 2, p);
        w->full_name = cell(row, 3, p);
        w->exp_name = cell(row, 4, p);
        w->cat_name = cell(row, 5, p);
        w->priority = atoi(nz(cell(row, 6, p)));
        w->created = strtod(nz(cell(row, 7, p)), NULL);
    }
    return APR_SUCCESS;
}

apr_status_t weblab_coord_redis_queue(void *ctx, apr_array_header_t **out,
                                      apr_pool_t *p)
{
    rows_baton_t b = {out, p};

    *out = NULL;
    return weblab_redis_run(ctx, "queue", NULL, queue_reply, &b);
}
