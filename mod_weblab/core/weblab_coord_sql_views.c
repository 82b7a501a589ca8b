/* The SQL coordination backend's reads: one reservation with its queue
 * position, the upkeep's due lists, the instances and the queues. */
#include "weblab_coord_sql_private.h"

#include <apr_strings.h>

apr_status_t weblab_coord_sql_get(void *ctx, weblab_reservation_t **out, const char *id,
                        apr_pool_t *p)
{
    coord_sql_t *c = ctx;
    weblab_sql_rows_t *rows;
    weblab_reservation_t *r;
    weblab_sql_t *conn;
    apr_status_t rv = weblab_sql_acquire(c->pool, &conn);

    *out = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_select(conn, &rows, p,
        "SELECT r.*, li.instance_name, li.transport, li.url, li.api AS li_api,"
        " li.discovered_api, li.auth_user, li.auth_password,"
        " li.manages_polling, ri.name AS ri_name"
        " FROM Reservation r"
        " LEFT JOIN LabInstance li ON li.id = r.lab_instance_id"
        " LEFT JOIN ResourceInstance ri ON ri.id = r.slot_id"
        " WHERE r.id = ?", "s", id);
    if (rv != APR_SUCCESS || !weblab_sql_next(rows)) {
        return done(c, conn, rv);
    }
    r = apr_pcalloc(p, sizeof(*r));
    r->id = fs(rows, "id");
    r->session_id = fs(rows, "session_id");
    r->user_id = fi(rows, "user_id");
    r->login = fs(rows, "login");
    r->full_name = fs(rows, "full_name");
    r->exp_name = fs(rows, "exp_name");
    r->cat_name = fs(rows, "cat_name");
    r->resource_type = fs(rows, "resource_type");
    r->priority = (int)fi(rows, "priority");
    r->time_allowed = fd(rows, "time_allowed");
    r->init_in_accounting = (int)fi(rows, "init_in_accounting");
    r->permanent_id = fs(rows, "permanent_id");
    r->state = fs(rows, "state");
    r->created = fd(rows, "created");
    r->latest_poll = fd(rows, "latest_poll");
    r->client_initial_data = fs(rows, "client_initial_data");
    r->request_info = fs(rows, "request_info");
    r->route = fs(rows, "route");
    r->origin = fs(rows, "origin");
    r->instance_name = fs(rows, "instance_name");
    r->resource_instance = fs(rows, "ri_name");
    r->slot_id = fi(rows, "slot_id");
    r->lab.exp_name = r->exp_name;
    r->lab.cat_name = r->cat_name;
    r->lab.instance_name = r->instance_name;
    r->lab.resource_type = r->resource_type;
    r->lab.resource_instance = r->resource_instance;
    r->lab.transport = fs(rows, "transport");
    r->lab.url = fs(rows, "url");
    r->lab.api = fs(rows, "li_api");
    if ((!r->lab.api || !*r->lab.api) && fs(rows, "discovered_api")) {
        r->lab.api = fs(rows, "discovered_api");
    }
    r->lab.auth_user = fs(rows, "auth_user");
    r->lab.auth_password = fs(rows, "auth_password");
    r->lab.manages_polling = (int)fi(rows, "manages_polling");
    r->api = fs(rows, "api");
    r->claim_until = fd(rows, "claim_until");
    r->timestamp_before = fd(rows, "timestamp_before");
    r->timestamp_after = fd(rows, "timestamp_after");
    r->lab_session_id = fs(rows, "lab_session_id");
    r->initial_configuration = fs(rows, "initial_configuration");
    r->next_should_finish = fd(rows, "next_should_finish");
    r->next_dispose = fd(rows, "next_dispose");
    r->finish_reason = (int)fi(rows, "finish_reason");
    r->finished = (int)fi(rows, "finished");
    r->initial_data = fs(rows, "initial_data");
    r->end_data = fs(rows, "end_data");
    r->post_expires = fd(rows, "post_expires");
    r->use_id = fi(rows, "use_id");
    if (!strcmp(r->state, "waiting")) {
        apr_int64_t seq = fi(rows, "seq");

        rv = weblab_sql_select(conn, &rows, p,
            "SELECT (SELECT COUNT(*) FROM Reservation WHERE state = 'waiting'"
            "   AND resource_type = ? AND (priority < ? OR"
            "   (priority = ? AND seq < ?))),"
            " (SELECT COUNT(*) FROM ResourceInstance WHERE resource_type = ?"
            "   AND working = 1)",
            "siiis", r->resource_type, (apr_int64_t)r->priority,
            (apr_int64_t)r->priority, seq, r->resource_type);
        if (rv == APR_SUCCESS && weblab_sql_next(rows)) {
            r->position = (int)weblab_sql_int(rows, 0);
            r->working_instances = (int)weblab_sql_int(rows, 1);
        }
    }
    if (rv == APR_SUCCESS) {
        *out = r;
    }
    return done(c, conn, rv);
}



static apr_array_header_t *ids_of(weblab_sql_rows_t *rows, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, rows->nrows + 1,
                                           sizeof(const char *));

    while (weblab_sql_next(rows)) {
        APR_ARRAY_PUSH(a, const char *) = weblab_sql_str(rows, 0);
    }
    return a;
}


apr_status_t weblab_coord_sql_due(void *ctx, weblab_coord_due_t *d, double now,
                        double poll_time, apr_pool_t *p)
{
    coord_sql_t *c = ctx;
    weblab_sql_rows_t *rows;
    weblab_sql_t *conn;
    apr_status_t rv = weblab_sql_acquire(c->pool, &conn);

    memset(d, 0, sizeof(*d));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* Poll timeout (labs that manage polling themselves excepted) and
     * time over; T0 is the slot start or the lab's confirmation. */
    rv = weblab_sql_select(conn, &rows, p,
        "SELECT r.id FROM Reservation r"
        " LEFT JOIN LabInstance li ON li.id = r.lab_instance_id"
        " WHERE (r.state IN ('waiting', 'assigned', 'confirmed')"
        "        AND r.latest_poll < ? AND COALESCE(li.manages_polling, 0) = 0"
        "        AND COALESCE(li.transport, '') <> 'http')"
        "    OR (r.state = 'confirmed' AND ? >= r.time_allowed +"
        "        CASE WHEN r.init_in_accounting <> 0 THEN r.timestamp_before"
        "             ELSE r.timestamp_after END)",
        "dd", now - poll_time, now);
    if (rv == APR_SUCCESS) {
        d->expired = ids_of(rows, p);
        rv = weblab_sql_select(conn, &rows, p,
            "SELECT id FROM Reservation WHERE state = 'assigned'"
            " AND (claim_until IS NULL OR claim_until < ?)", "d", now);
    }
    if (rv == APR_SUCCESS) {
        d->to_start = ids_of(rows, p);
        /* and the cancelled ones still holding a slot once their
         * starter's claim is over: it failed to dispose (backend error) */
        rv = weblab_sql_select(conn, &rows, p,
            "SELECT id FROM Reservation WHERE (state = 'finishing'"
            " AND (next_dispose IS NULL OR next_dispose <= ?)"
            " AND (claim_until IS NULL OR claim_until < ?))"
            " OR (state = 'cancelled' AND slot_id IS NOT NULL"
            " AND (claim_until IS NULL OR claim_until < ?))",
            "ddd", now, now, now);
    }
    if (rv == APR_SUCCESS) {
        d->to_dispose = ids_of(rows, p);
        rv = weblab_sql_select(conn, &rows, p,
            "SELECT id FROM Reservation WHERE state = 'confirmed'"
            " AND next_should_finish IS NOT NULL AND next_should_finish <= ?",
            "d", now);
    }
    if (rv == APR_SUCCESS) {
        d->should_finish = ids_of(rows, p);
        rv = weblab_sql_select(conn, &rows, p,
            "SELECT ri.id AS ri_id, ri.name, ri.resource_type, li.exp_name,"
            " li.cat_name, li.instance_name, li.transport, li.url, li.api,"
            " li.auth_user, li.auth_password, li.manages_polling"
            " FROM ResourceInstance ri JOIN LabInstance li"
            "   ON li.resource_instance_id = ri.id"
            " WHERE ri.working = 0 AND (ri.next_check IS NULL"
            "   OR ri.next_check <= ?)", "d", now);
    }
    if (rv == APR_SUCCESS) {
        d->broken = apr_array_make(p, rows->nrows + 1,
                                   sizeof(weblab_coord_broken_t));
        while (weblab_sql_next(rows)) {
            weblab_coord_broken_t *b = apr_array_push(d->broken);

            b->resource_id = fi(rows, "ri_id");
            b->lab.exp_name = fs(rows, "exp_name");
            b->lab.cat_name = fs(rows, "cat_name");
            b->lab.instance_name = fs(rows, "instance_name");
            b->lab.resource_type = fs(rows, "resource_type");
            b->lab.resource_instance = fs(rows, "name");
            b->lab.transport = fs(rows, "transport");
            b->lab.url = fs(rows, "url");
            b->lab.api = fs(rows, "api");
            b->lab.auth_user = fs(rows, "auth_user");
            b->lab.auth_password = fs(rows, "auth_password");
            b->lab.manages_polling = (int)fi(rows, "manages_polling");
        }
    }
    return done(c, conn, rv);
}

/* Upsert one configured instance; returns its resource type in *rt. */

apr_status_t weblab_coord_sql_instances(void *ctx, apr_array_header_t **out,
                              apr_pool_t *p)
{
    coord_sql_t *c = ctx;
    weblab_sql_rows_t *rows;
    weblab_sql_t *conn;
    apr_status_t rv = weblab_sql_acquire(c->pool, &conn);

    *out = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_select(conn, &rows, p,
        "SELECT ri.id AS ri_id, ri.name, ri.resource_type, ri.working,"
        " ri.error, li.exp_name, li.cat_name, li.instance_name, li.transport,"
        " li.url, li.api, li.manages_polling,"
        " (SELECT x.id FROM Reservation x WHERE x.slot_id = ri.id) AS holder,"
        " (SELECT x.login FROM Reservation x WHERE x.slot_id = ri.id)"
        "   AS holder_login,"
        " (SELECT x.state FROM Reservation x WHERE x.slot_id = ri.id)"
        "   AS holder_state,"
        " (SELECT COUNT(*) FROM Reservation w WHERE w.state = 'waiting'"
        "   AND w.resource_type = ri.resource_type) AS queue_length"
        " FROM ResourceInstance ri JOIN LabInstance li"
        "   ON li.resource_instance_id = ri.id AND li.retired = 0"
        " ORDER BY ri.resource_type, ri.name, li.id", NULL);
    if (rv == APR_SUCCESS) {
        *out = apr_array_make(p, rows->nrows + 1,
                              sizeof(weblab_coord_instance_t));
        while (weblab_sql_next(rows)) {
            weblab_coord_instance_t *in = apr_array_push(*out);

            memset(in, 0, sizeof(*in));
            in->resource_id = fi(rows, "ri_id");
            in->lab.exp_name = fs(rows, "exp_name");
            in->lab.cat_name = fs(rows, "cat_name");
            in->lab.instance_name = fs(rows, "instance_name");
            in->lab.resource_type = fs(rows, "resource_type");
            in->lab.resource_instance = fs(rows, "name");
            in->lab.transport = fs(rows, "transport");
            in->lab.url = fs(rows, "url");
            in->lab.api = fs(rows, "api");
            in->lab.manages_polling = (int)fi(rows, "manages_polling");
            in->working = (int)fi(rows, "working");
            in->error = fs(rows, "error");
            in->holder = fs(rows, "holder");
            in->holder_login = fs(rows, "holder_login");
            in->holder_state = fs(rows, "holder_state");
            in->queue_length = (int)fi(rows, "queue_length");
        }
    }
    return done(c, conn, rv);
}


apr_status_t weblab_coord_sql_queue(void *ctx, apr_array_header_t **out, apr_pool_t *p)
{
    coord_sql_t *c = ctx;
    weblab_sql_rows_t *rows;
    weblab_sql_t *conn;
    const char *type = NULL;
    int position = 0;
    apr_status_t rv = weblab_sql_acquire(c->pool, &conn);

    *out = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_select(conn, &rows, p,
        "SELECT resource_type, login, full_name, exp_name, cat_name,"
        " priority, created FROM Reservation WHERE state = 'waiting'"
        " ORDER BY resource_type, priority, seq", NULL);
    if (rv == APR_SUCCESS) {
        *out = apr_array_make(p, rows->nrows + 1,
                              sizeof(weblab_coord_waiting_t));
        while (weblab_sql_next(rows)) {
            weblab_coord_waiting_t *w = apr_array_push(*out);

            w->resource_type = fs(rows, "resource_type");
            if (!type || strcmp(type, w->resource_type)) {
                type = w->resource_type;
                position = 0;
            }
            w->position = position++;
            w->login = fs(rows, "login");
            w->full_name = fs(rows, "full_name");
            w->exp_name = fs(rows, "exp_name");
            w->cat_name = fs(rows, "cat_name");
            w->priority = (int)fi(rows, "priority");
            w->created = fd(rows, "created");
        }
    }
    return done(c, conn, rv);
}

