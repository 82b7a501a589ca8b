/* SQL coordination backend: SQLite or MySQL/MariaDB through the same
 * statements (docs/INTERNALS.md, "SQL dialects"). Every multi-row step is
 * one write transaction; the UNIQUE constraint on Reservation.slot_id is the
 * last guard against two holders of one slot. */
#include "weblab_coord_sql_private.h"
#include "weblab_schema.h"

#include <stdio.h>
#include <apr_strings.h>

apr_status_t weblab_coord_sql_create(void **ctx, const char *dsn,
                                     int pool_max,
                                     const weblab_sql_lock_t *lock,
                                     apr_pool_t *p)
{
    coord_sql_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv = weblab_sql_pool_create(&c->pool, dsn, 0, pool_max, lock,
                                             p);

    if (rv == APR_SUCCESS) {
        rv = weblab_coord_sql_batch_init(c, p);
    }
    if (rv == APR_SUCCESS) {
        *ctx = c;
    }
    return rv;
}

/* ---- the write steps' frame ---- */

/* One step of the scheduler that writes: it runs inside a write
 * transaction (writers serialized) with a scratch pool. */
typedef apr_status_t (*write_step_t)(weblab_sql_t *conn, void *baton,
                                     apr_pool_t *p);

/* Acquire, begin (mode: WEBLAB_SQL_WRITE, or WEBLAB_SQL_WRITE_ROWS for a
 * step that writes only rows of its own, such as a session), run the step,
 * commit (or roll back on failure), hand the connection back. */
static apr_status_t in_write_tx(coord_sql_t *c, int mode, write_step_t step,
                                void *baton)
{
    weblab_sql_t *conn;
    apr_pool_t *p;
    apr_status_t rv = weblab_sql_acquire(c->pool, &conn);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_create(&p, NULL);
    rv = weblab_sql_begin(conn, mode);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_end(conn, step(conn, baton, p));
    }
    apr_pool_destroy(p);
    return done(c, conn, rv);
}

/* Run one write statement in its own transaction (mode as in_write_tx). */
#define WRITE1_AS(mode, c, changes, sql, types, ...) \
    do { \
        weblab_sql_t *conn_; \
        apr_status_t rv_ = weblab_sql_acquire((c)->pool, &conn_); \
        if (rv_ != APR_SUCCESS) { \
            return rv_; \
        } \
        rv_ = weblab_sql_begin(conn_, (mode)); \
        if (rv_ == APR_SUCCESS) { \
            rv_ = weblab_sql_end(conn_, weblab_sql_exec(conn_, changes, sql, types, \
                                                __VA_ARGS__)); \
        } \
        return done((c), conn_, rv_); \
    } while (0)
#define WRITE1(...) WRITE1_AS(WEBLAB_SQL_WRITE, __VA_ARGS__)

/* ---- sessions ---- */

static apr_status_t session_create_step(weblab_sql_t *conn, void *baton,
                                        apr_pool_t *p)
{
    const weblab_session_t *s = baton;

    (void)p;
    return weblab_sql_exec(conn, NULL,
        "INSERT INTO WebSession (id, user_id, login, full_name, role,"
        " created, latest_access) VALUES (?, ?, ?, ?, ?, ?, ?)",
        "sisssdd", s->id, s->user_id, s->login, s->full_name, s->role,
        s->created, s->latest_access);
}

static apr_status_t session_create(void *ctx, const weblab_session_t *s)
{
    return in_write_tx(ctx, WEBLAB_SQL_WRITE_ROWS, session_create_step,
                       (void *)s);
}

static apr_status_t session_get(void *ctx, weblab_session_t **out,
                                const char *id, double now, double timeout,
                                apr_pool_t *p)
{
    coord_sql_t *c = ctx;
    weblab_sql_rows_t *rows;
    weblab_session_t *s;
    weblab_sql_t *conn;
    apr_status_t rv = weblab_sql_acquire(c->pool, &conn);

    *out = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_select(conn, &rows, p,
        "SELECT id, user_id, login, full_name, role, created, latest_access,"
        " reservation_id FROM WebSession WHERE id = ?", "s", id);
    if (rv != APR_SUCCESS || !weblab_sql_next(rows)) {
        return done(c, conn, rv);
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->id = fs(rows, "id");
    s->user_id = fi(rows, "user_id");
    s->login = fs(rows, "login");
    s->full_name = fs(rows, "full_name");
    s->role = fs(rows, "role");
    s->created = fd(rows, "created");
    s->latest_access = fd(rows, "latest_access");
    s->reservation_id = fs(rows, "reservation_id");
    if (s->latest_access < now - timeout) {
        rv = weblab_sql_begin(conn, WEBLAB_SQL_WRITE_ROWS);
        if (rv == APR_SUCCESS) {
            rv = weblab_sql_end(conn, weblab_sql_exec(conn, NULL,
                        "DELETE FROM WebSession WHERE id = ?", "s", id));
        }
        return done(c, conn, rv);
    }
    if (s->latest_access < now - SESSION_TOUCH_SLACK) {
        rv = weblab_sql_begin(conn, WEBLAB_SQL_WRITE_ROWS);
        if (rv == APR_SUCCESS) {
            rv = weblab_sql_end(conn, weblab_sql_exec(conn, NULL,
                        "UPDATE WebSession SET latest_access = ? WHERE id = ?",
                        "ds", now, id));
        }
    }
    if (rv == APR_SUCCESS) {
        *out = s;
    }
    return done(c, conn, rv);
}

static apr_status_t session_delete(void *ctx, const char *id)
{
    WRITE1_AS(WEBLAB_SQL_WRITE_ROWS, (coord_sql_t *)ctx, NULL,
              "DELETE FROM WebSession WHERE id = ?",
           "s", id);
}

/* ---- the queue ---- */

/* Give free working slots of resource type rt to waiting reservations in
 * queue order (priority, then arrival). Inside a write transaction. */
apr_status_t weblab_coord_sql_run_queue(weblab_sql_t *conn, const char *rt,
                                        double now, apr_pool_t *p)
{
    weblab_sql_rows_t *free_rows, *waiting;
    apr_status_t rv;
    int nfree, *used, i;

    rv = weblab_sql_select(conn, &free_rows, p,
        "SELECT li.id AS li_id, li.exp_name, li.cat_name, ri.id AS ri_id"
        " FROM LabInstance li JOIN ResourceInstance ri"
        "   ON ri.id = li.resource_instance_id"
        " WHERE ri.resource_type = ? AND ri.working = 1 AND li.retired = 0"
        "   AND NOT EXISTS (SELECT 1 FROM Reservation x WHERE x.slot_id = ri.id)"
        " ORDER BY ri.id, li.id", "s", rt);
    if (rv != APR_SUCCESS || free_rows->nrows == 0) {
        return rv;
    }
    rv = weblab_sql_select(conn, &waiting, p,
        "SELECT id, exp_name, cat_name FROM Reservation"
        " WHERE state = 'waiting' AND resource_type = ?"
        " ORDER BY priority, seq LIMIT 256", "s", rt);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    nfree = free_rows->nrows;
    used = apr_pcalloc(p, sizeof(int) * nfree);
    while (nfree > 0 && weblab_sql_next(waiting)) {
        const char *exp = fs(waiting, "exp_name");
        const char *cat = fs(waiting, "cat_name");
        apr_int64_t slot = -1;

        for (i = 0; i < free_rows->nrows; i++) {
            free_rows->cursor = i;
            if (used[i] || strcmp(fs(free_rows, "exp_name"), exp)
                || strcmp(fs(free_rows, "cat_name"), cat)) {
                continue;
            }
            slot = fi(free_rows, "ri_id");
            break;
        }
        if (slot < 0) {
            continue;       /* nothing free for this type; try the next one */
        }
        rv = weblab_sql_exec(conn, NULL,
            "UPDATE Reservation SET state = 'assigned', slot_id = ?,"
            " lab_instance_id = ?, timestamp_before = ?, claim_until = NULL"
            " WHERE id = ? AND state = 'waiting'",
            "iids", slot, fi(free_rows, "li_id"), now, fs(waiting, "id"));
        if (rv != APR_SUCCESS) {
            return rv;
        }
        /* one resource instance may serve several types: mark them all */
        for (i = 0; i < free_rows->nrows; i++) {
            free_rows->cursor = i;
            if (!used[i] && fi(free_rows, "ri_id") == slot) {
                used[i] = 1;
                nfree--;
            }
        }
    }
    return APR_SUCCESS;
}

/* Run the queue of the resource type of reservation id. */
static apr_status_t run_queue_of_reservation(weblab_sql_t *conn,
                                             const char *id, double now,
                                             apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_status_t rv = weblab_sql_select(conn, &rows, p,
        "SELECT resource_type FROM Reservation WHERE id = ?", "s", id);

    if (rv == APR_SUCCESS && weblab_sql_next(rows)) {
        rv = weblab_coord_sql_run_queue(conn, weblab_sql_str(rows, 0), now, p);
    }
    return rv;
}

/* Run the queue of the resource type of resource instance resource_id. */
static apr_status_t run_queue_of_resource(weblab_sql_t *conn,
                                          apr_int64_t resource_id, double now,
                                          apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_status_t rv = weblab_sql_select(conn, &rows, p,
        "SELECT resource_type FROM ResourceInstance WHERE id = ?", "i",
        resource_id);

    if (rv == APR_SUCCESS && weblab_sql_next(rows)) {
        rv = weblab_coord_sql_run_queue(conn, weblab_sql_str(rows, 0), now, p);
    }
    return rv;
}

static apr_status_t touch(void *ctx, const char *id, double now)
{
    /* only the poll time: no queue step reads it in a way a race harms */
    WRITE1_AS(WEBLAB_SQL_WRITE_ROWS, (coord_sql_t *)ctx, NULL,
              "UPDATE Reservation SET latest_poll = ? WHERE id = ?", "ds",
              now, id);
}

static apr_status_t claim(void *ctx, int *claimed, const char *id,
                          const char *state, double now, double until)
{
    *claimed = 0;
    WRITE1((coord_sql_t *)ctx, claimed,
           "UPDATE Reservation SET claim_until = ? WHERE id = ? AND state = ?"
           " AND (claim_until IS NULL OR claim_until < ?)"
           " AND (state <> 'cancelled' OR slot_id IS NOT NULL)"
           " AND (state <> 'finishing' OR next_dispose IS NULL"
           "      OR next_dispose <= ?)",
           "dssdd", until, id, state, now, now);
}

static apr_status_t set_api(void *ctx, const char *id, const char *api)
{
    WRITE1((coord_sql_t *)ctx, NULL,
           "UPDATE LabInstance SET discovered_api = ? WHERE id ="
           " (SELECT lab_instance_id FROM Reservation WHERE id = ?)",
           "ss", api, id);
}

static apr_status_t confirm(void *ctx, int *confirmed, const char *id,
                            const char *lab_session_id, const char *api,
                            const char *initial_configuration,
                            const char *initial_data, apr_int64_t use_id,
                            double now, double next_should_finish)
{
    char at[40];

    *confirmed = 0;
    /* next_should_finish 0 means "never ask": stored as NULL. Bound as text
     * (both engines store it in the REAL column as a number): NULLIF(?, 0.0)
     * would give the parameter a DECIMAL type on MySQL. */
    snprintf(at, sizeof(at), "%.17g", next_should_finish);
    WRITE1((coord_sql_t *)ctx, confirmed,
           "UPDATE Reservation SET state = 'confirmed', lab_session_id = ?,"
           " api = ?, initial_configuration = ?, initial_data = ?,"
           " use_id = ?, timestamp_after = ?, latest_poll = ?,"
           " next_should_finish = ?, claim_until = NULL"
           " WHERE id = ? AND state = 'assigned'",
           "ssssiddss", lab_session_id, api, initial_configuration,
           initial_data, use_id, now, now,
           next_should_finish > 0 ? at : NULL, id);
}

/* Mark the resource instance held by reservation id broken. */
static apr_status_t break_slot(weblab_sql_t *conn, const char *id,
                               const char *error, double now)
{
    return weblab_sql_exec(conn, NULL,
        "UPDATE ResourceInstance SET working = 0, error = ?, next_check = ?"
        " WHERE id = (SELECT slot_id FROM Reservation WHERE id = ?)",
        "sds", error, now + 5.0, id);
}

/* Arguments of the steps below that name a reservation or a resource. */
typedef struct {
    const char *id;
    apr_int64_t resource_id;
    const char *error;
    const char *end_data;
    int reason;
    int flag;                   /* disposed: broken; checked: ok */
    double now;
    double at;                  /* post expiry, next check */
} step_args_t;

static apr_status_t start_failed_step(weblab_sql_t *conn, void *baton,
                                      apr_pool_t *p)
{
    const step_args_t *a = baton;
    apr_status_t rv = break_slot(conn, a->id, a->error, a->now);

    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(conn, NULL,
            "UPDATE Reservation SET state = 'waiting', slot_id = NULL,"
            " lab_instance_id = NULL, priority = -1, claim_until = NULL,"
            " timestamp_before = NULL WHERE id = ? AND state = 'assigned'",
            "s", a->id);
    }
    if (rv == APR_SUCCESS) {
        /* finished while its start was failing: just let the slot go */
        rv = weblab_sql_exec(conn, NULL,
            "UPDATE Reservation SET slot_id = NULL, claim_until = NULL"
            " WHERE id = ? AND state = 'cancelled'", "s", a->id);
    }
    if (rv == APR_SUCCESS) {
        rv = run_queue_of_reservation(conn, a->id, a->now, p);
    }
    return rv;
}

static apr_status_t start_failed(void *ctx, const char *id, const char *error,
                                 double now)
{
    step_args_t a = {0};

    a.id = id;
    a.error = error;
    a.now = now;
    return in_write_tx(ctx, WEBLAB_SQL_WRITE, start_failed_step, &a);
}

static apr_status_t finish_step(weblab_sql_t *conn, void *baton,
                                apr_pool_t *p)
{
    const step_args_t *a = baton;
    weblab_sql_rows_t *rows;
    const char *state, *rt;
    apr_status_t rv = weblab_sql_select(conn, &rows, p,
        "SELECT state, resource_type, claim_until FROM Reservation"
        " WHERE id = ?", "s", a->id);

    if (rv != APR_SUCCESS || !weblab_sql_next(rows)) {
        return rv;
    }
    state = weblab_sql_str(rows, 0);
    rt = weblab_sql_str(rows, 1);
    if (!strcmp(state, "confirmed")) {
        return weblab_sql_exec(conn, NULL,
            "UPDATE Reservation SET state = 'finishing', finish_reason = ?,"
            " next_dispose = ?, next_should_finish = NULL,"
            " claim_until = NULL WHERE id = ?",
            "ids", (apr_int64_t)a->reason, a->now, a->id);
    }
    if (!strcmp(state, "waiting") || !strcmp(state, "assigned")) {
        /* An assigned reservation whose start is under way keeps its
         * slot: the starter sees the cancel in confirm() and disposes. */
        int starting = !strcmp(state, "assigned")
                       && weblab_sql_double(rows, 2) > a->now;

        rv = weblab_sql_exec(conn, NULL, starting
            ? "UPDATE Reservation SET state = 'cancelled',"
              " finish_reason = ?, post_expires = ? WHERE id = ?"
            : "UPDATE Reservation SET state = 'cancelled',"
              " finish_reason = ?, post_expires = ?, slot_id = NULL"
              " WHERE id = ?",
            "ids", (apr_int64_t)a->reason, a->now + CANCELLED_KEEP, a->id);
        if (rv == APR_SUCCESS && !starting) {
            rv = weblab_coord_sql_run_queue(conn, rt, a->now, p);
        }
    }
    return rv;
}

static apr_status_t finish(void *ctx, const char *id, int reason, double now)
{
    step_args_t a = {0};

    a.id = id;
    a.reason = reason;
    a.now = now;
    return in_write_tx(ctx, WEBLAB_SQL_WRITE, finish_step, &a);
}

static apr_status_t dispose_later(void *ctx, const char *id, double at)
{
    WRITE1((coord_sql_t *)ctx, NULL,
           "UPDATE Reservation SET next_dispose = ?, claim_until = NULL"
           " WHERE id = ?", "ds", at, id);
}

static apr_status_t disposed_step(weblab_sql_t *conn, void *baton,
                                  apr_pool_t *p)
{
    const step_args_t *a = baton;
    apr_status_t rv = a->flag ? break_slot(conn, a->id, a->error, a->now)
                              : APR_SUCCESS;

    if (rv == APR_SUCCESS) {
        /* A cancelled reservation reaches here when its start raced a
         * finish: it stays cancelled, only its slot is released. */
        rv = weblab_sql_exec(conn, NULL,
            "UPDATE Reservation SET"
            " state = CASE WHEN state = 'cancelled' THEN state ELSE 'done' END,"
            " finished = 1, end_data = ?, slot_id = NULL,"
            " claim_until = NULL, next_dispose = NULL,"
            " post_expires = ? WHERE id = ?",
            "sds", a->end_data, a->now + a->at, a->id);
    }
    if (rv == APR_SUCCESS) {
        rv = run_queue_of_reservation(conn, a->id, a->now, p);
    }
    return rv;
}

static apr_status_t disposed(void *ctx, const char *id, const char *end_data,
                             double now, double post_expiry, int broken,
                             const char *error)
{
    step_args_t a = {0};

    a.id = id;
    a.end_data = end_data;
    a.now = now;
    a.at = post_expiry;
    a.flag = broken;
    a.error = error;
    return in_write_tx(ctx, WEBLAB_SQL_WRITE, disposed_step, &a);
}

static apr_status_t set_should_finish(void *ctx, const char *id, double at)
{
    if (at <= 0) {
        WRITE1((coord_sql_t *)ctx, NULL,
               "UPDATE Reservation SET next_should_finish = NULL WHERE id = ?",
               "s", id);
    }
    WRITE1((coord_sql_t *)ctx, NULL,
           "UPDATE Reservation SET next_should_finish = ? WHERE id = ?"
           " AND state = 'confirmed'", "ds", at, id);
}

static apr_status_t sync_one(weblab_sql_t *conn,
                             const weblab_instance_def_t *d, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_int64_t ri_id;
    apr_status_t rv;

    /* "FROM (SELECT 1) one": a SELECT with WHERE needs a FROM on MySQL */
    rv = weblab_sql_exec(conn, NULL,
        "INSERT INTO ResourceInstance (resource_type, name, working)"
        " SELECT ?, ?, 1 FROM (SELECT 1) one"
        " WHERE NOT EXISTS (SELECT 1 FROM ResourceInstance"
        "   WHERE resource_type = ? AND name = ?)",
        "ssss", d->resource_type, d->resource_instance, d->resource_type,
        d->resource_instance);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(conn, &rows, p,
            "SELECT id FROM ResourceInstance WHERE resource_type = ?"
            " AND name = ?", "ss", d->resource_type, d->resource_instance);
    }
    if (rv != APR_SUCCESS || !weblab_sql_next(rows)) {
        return rv == APR_SUCCESS ? APR_EGENERAL : rv;
    }
    ri_id = weblab_sql_int(rows, 0);
    rv = weblab_sql_exec(conn, NULL,
        "INSERT INTO LabInstance (exp_name, cat_name, instance_name,"
        " resource_instance_id, transport, url, api, auth_user, auth_password,"
        " manages_polling) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
        " FROM (SELECT 1) one WHERE NOT EXISTS (SELECT 1 FROM LabInstance WHERE exp_name = ?"
        "   AND cat_name = ? AND instance_name = ?)",
        "sssisssssisss", d->exp_name, d->cat_name, d->instance_name, ri_id,
        d->transport, d->url, nz(d->api), nz(d->auth_user),
        nz(d->auth_password), (apr_int64_t)d->manages_polling, d->exp_name,
        d->cat_name, d->instance_name);
    if (rv == APR_SUCCESS) {
        /* a changed url or api forgets the discovered api */
        rv = weblab_sql_exec(conn, NULL,
            "UPDATE LabInstance SET discovered_api = NULL WHERE exp_name = ?"
            " AND cat_name = ? AND instance_name = ? AND (url <> ? OR api <> ?)",
            "sssss", d->exp_name, d->cat_name, d->instance_name, d->url,
            nz(d->api));
    }
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(conn, NULL,
            "UPDATE LabInstance SET resource_instance_id = ?, transport = ?,"
            " url = ?, api = ?, auth_user = ?, auth_password = ?,"
            " manages_polling = ?, retired = 0 WHERE exp_name = ?"
            " AND cat_name = ?"
            " AND instance_name = ?",
            "isssssisss", ri_id, d->transport, d->url, nz(d->api),
            nz(d->auth_user), nz(d->auth_password),
            (apr_int64_t)d->manages_polling, d->exp_name, d->cat_name,
            d->instance_name);
    }
    return rv;
}

static apr_status_t sync_step(weblab_sql_t *conn, void *baton, apr_pool_t *p)
{
    const apr_array_header_t *defs = baton;
    weblab_sql_rows_t *rows;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < defs->nelts && rv == APR_SUCCESS; i++) {
        rv = sync_one(conn, &APR_ARRAY_IDX(defs, i, weblab_instance_def_t), p);
    }
    /* Instances no longer configured: unlink those nobody holds. */
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(conn, &rows, p,
            "SELECT id, exp_name, cat_name, instance_name FROM LabInstance",
            NULL);
    }
    while (rv == APR_SUCCESS && weblab_sql_next(rows)) {
        int found = 0;

        for (i = 0; i < defs->nelts && !found; i++) {
            const weblab_instance_def_t *d =
                &APR_ARRAY_IDX(defs, i, weblab_instance_def_t);

            found = !strcmp(d->exp_name, fs(rows, "exp_name"))
                    && !strcmp(d->cat_name, fs(rows, "cat_name"))
                    && !strcmp(d->instance_name, fs(rows, "instance_name"));
        }
        if (!found) {
            /* retire it: never assigned again; gone once nobody holds it */
            rv = weblab_sql_exec(conn, NULL,
                "UPDATE LabInstance SET retired = 1 WHERE id = ?", "i",
                fi(rows, "id"));
            if (rv == APR_SUCCESS) {
                rv = weblab_sql_exec(conn, NULL,
                    "DELETE FROM LabInstance WHERE id = ? AND NOT EXISTS"
                    " (SELECT 1 FROM Reservation WHERE lab_instance_id = ?"
                    "  AND slot_id IS NOT NULL)",
                    "ii", fi(rows, "id"), fi(rows, "id"));
            }
        }
    }
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(conn, NULL,
            "UPDATE Reservation SET lab_instance_id = NULL WHERE"
            " lab_instance_id IS NOT NULL AND lab_instance_id NOT IN"
            " (SELECT id FROM LabInstance)", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(conn, NULL,
            "DELETE FROM ResourceInstance WHERE id NOT IN"
            " (SELECT resource_instance_id FROM LabInstance)"
            " AND id NOT IN (SELECT slot_id FROM Reservation"
            "   WHERE slot_id IS NOT NULL)", NULL);
    }
    /* new instances may serve waiting reservations at once */
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(conn, &rows, p,
            "SELECT DISTINCT resource_type FROM ResourceInstance", NULL);
    }
    while (rv == APR_SUCCESS && weblab_sql_next(rows)) {
        rv = weblab_coord_sql_run_queue(conn, weblab_sql_str(rows, 0),
                       (double)apr_time_now() / APR_USEC_PER_SEC, p);
    }
    return rv;
}

static apr_status_t sync_instances(void *ctx, const apr_array_header_t *defs,
                                   apr_pool_t *p)
{
    (void)p;
    return in_write_tx(ctx, WEBLAB_SQL_WRITE, sync_step, (void *)defs);
}

static apr_status_t checked_step(weblab_sql_t *conn, void *baton,
                                 apr_pool_t *p)
{
    const step_args_t *a = baton;
    apr_status_t rv = weblab_sql_exec(conn, NULL,
        "UPDATE ResourceInstance SET working = ?, error = ?,"
        " next_check = ? WHERE id = ?",
        "isdi", (apr_int64_t)(a->flag ? 1 : 0), a->flag ? NULL : a->error,
        a->at, a->resource_id);

    if (rv == APR_SUCCESS && a->flag) {
        rv = run_queue_of_resource(conn, a->resource_id,
                                   (double)apr_time_now() / APR_USEC_PER_SEC,
                                   p);
    }
    return rv;
}

static apr_status_t instance_checked(void *ctx, apr_int64_t resource_id,
                                     int ok, const char *error, double next)
{
    step_args_t a = {0};

    a.resource_id = resource_id;
    a.flag = ok;
    a.error = error;
    a.at = next;
    return in_write_tx(ctx, WEBLAB_SQL_WRITE, checked_step, &a);
}

static apr_status_t cleanup_step(weblab_sql_t *conn, void *baton,
                                 apr_pool_t *p)
{
    const step_args_t *a = baton;
    apr_status_t rv = weblab_sql_exec(conn, NULL,
        "DELETE FROM WebSession WHERE latest_access < ?", "d", a->at);

    (void)p;
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(conn, NULL,
            "DELETE FROM Reservation WHERE state IN ('done', 'cancelled')"
            " AND post_expires < ? AND slot_id IS NULL", "d", a->now);
    }
    return rv;
}

static apr_status_t cleanup(void *ctx, double now, double session_timeout)
{
    step_args_t a = {0};

    a.now = now;
    a.at = now - session_timeout;
    return in_write_tx(ctx, WEBLAB_SQL_WRITE, cleanup_step, &a);
}

static apr_status_t failed_step(weblab_sql_t *conn, void *baton,
                                apr_pool_t *p)
{
    const step_args_t *a = baton;
    apr_status_t rv = weblab_sql_exec(conn, NULL,
        "UPDATE ResourceInstance SET working = 0, error = ?,"
        " next_check = ? WHERE id = ?", "sdi", a->error, a->at,
        a->resource_id);

    if (rv == APR_SUCCESS) {
        /* the holder keeps its use and goes back to the head of the queue */
        rv = weblab_sql_exec(conn, NULL,
            "UPDATE Reservation SET state = 'waiting', slot_id = NULL,"
            " lab_instance_id = NULL, priority = -1, claim_until = NULL,"
            " timestamp_before = NULL, timestamp_after = NULL,"
            " lab_session_id = NULL, api = NULL, next_should_finish = NULL,"
            " latest_poll = ? WHERE slot_id = ?"
            " AND state IN ('assigned', 'confirmed')", "di", a->now,
            a->resource_id);
    }
    if (rv == APR_SUCCESS) {
        rv = run_queue_of_resource(conn, a->resource_id, a->now, p);
    }
    return rv;
}

static apr_status_t instance_failed(void *ctx, apr_int64_t resource_id,
                                    const char *error, double now,
                                    double next_check)
{
    step_args_t a = {0};

    a.resource_id = resource_id;
    a.error = error;
    a.now = now;
    a.at = next_check;
    return in_write_tx(ctx, WEBLAB_SQL_WRITE, failed_step, &a);
}

/* The waiting reservations in queue order, positions counted per resource
 * type as get() counts them (priority, then seq). */
const weblab_coord_backend_t weblab_coord_sql_backend = {
    "sql",
    session_create,
    session_get,
    session_delete,
    weblab_coord_sql_reserve,
    weblab_coord_sql_get,
    touch,
    claim,
    set_api,
    confirm,
    start_failed,
    finish,
    dispose_later,
    disposed,
    set_should_finish,
    weblab_coord_sql_due,
    sync_instances,
    instance_checked,
    cleanup,
    weblab_coord_sql_instances,
    instance_failed,
    weblab_coord_sql_queue,
};
