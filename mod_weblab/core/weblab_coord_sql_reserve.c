/* reserve_experiment on the SQL scheduler, with group commit.
 *
 * Writers are serialized (one writer lock for SQLite, GET_LOCK on MySQL), so
 * when many students press Reserve at once, one transaction each means one
 * lock hand-over, one commit and one queue pass per student, one after the
 * other. Instead the reserves that arrive while a batch is being written
 * wait together; the next thread to find no batch running writes all of
 * them in one transaction (one SAVEPOINT each, so that one failing insert
 * does not fail the others), runs each touched queue once, commits, and
 * wakes them. Arrival order is kept, so FIFO within a priority holds.
 *
 * Each waiter sleeps on a condition of its own, so that a written batch
 * wakes exactly its items and the next writer: with one shared condition
 * every batch woke every waiter, and in a burst of 150 reserves those
 * wake-ups (and the mutex hand-overs after them) cost more CPU than the
 * inserts. */
#include "weblab_coord_sql_private.h"

#include <apr_strings.h>

/* Bound on one transaction, so that the writer lock is never held long. */
#define BATCH_MAX 256

/* A condition to sleep on, kept for reuse: at most one per thread that
 * ever waited at once, allocated once. */
struct coord_sql_waiter_t {
#if APR_HAS_THREADS
    apr_thread_cond_t *cond;
#endif
    coord_sql_waiter_t *next;
};

struct coord_sql_batch_item_t {
    const weblab_reservation_t *r;
    double now;
    apr_status_t rv;
    int done;
    coord_sql_waiter_t *waiter;
    coord_sql_batch_item_t *next;
};

#if APR_HAS_THREADS
static apr_status_t destroy_waiters(void *pool)
{
    apr_pool_destroy(pool);
    return APR_SUCCESS;
}
#endif

apr_status_t weblab_coord_sql_batch_init(coord_sql_t *c, apr_pool_t *p)
{
#if APR_HAS_THREADS
    apr_status_t rv = apr_thread_mutex_create(&c->batch_mutex,
                                              APR_THREAD_MUTEX_DEFAULT, p);

    /* The waiters' conditions are made while requests run: from a pool
     * with an allocator of its own, used under batch_mutex only (p's is
     * shared with the connection pools, and pools are not thread-safe). */
    if (rv == APR_SUCCESS) {
        rv = apr_pool_create_unmanaged_ex(&c->batch_pool, NULL, NULL);
    }
    if (rv == APR_SUCCESS) {
        apr_pool_cleanup_register(p, c->batch_pool, destroy_waiters,
                                  apr_pool_cleanup_null);
    }
    c->batch_tail = &c->batch_head;
    return rv;
#else
    c->batch_tail = &c->batch_head;
    return APR_SUCCESS;
#endif
}

/* Insert one reservation as waiting; *rt is its resource type. */
static apr_status_t insert_one(weblab_sql_t *conn, const weblab_reservation_t *r,
                               double now, const char **rt, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_status_t rv = weblab_sql_select(conn, &rows, p,
        "SELECT ri.resource_type FROM LabInstance li JOIN ResourceInstance ri"
        " ON ri.id = li.resource_instance_id"
        " WHERE li.exp_name = ? AND li.cat_name = ? AND li.retired = 0"
        " ORDER BY li.id LIMIT 1",
        "ss", r->exp_name, r->cat_name);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!weblab_sql_next(rows)) {
        return APR_NOTFOUND;            /* no instance of that type deployed */
    }
    *rt = apr_pstrdup(p, weblab_sql_str(rows, 0));
    rv = weblab_sql_exec(conn, NULL,
        "INSERT INTO Reservation (id, session_id, user_id, login,"
        " full_name, exp_name, cat_name, resource_type, priority,"
        " time_allowed, init_in_accounting, permanent_id, state, created,"
        " latest_poll, client_initial_data, request_info, route, origin)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?,"
        " ?, ?, ?)",
        "ssisssssidisddssss", r->id, r->session_id, r->user_id, r->login,
        r->full_name, r->exp_name, r->cat_name, *rt,
        (apr_int64_t)r->priority, r->time_allowed,
        (apr_int64_t)r->init_in_accounting, nz(r->permanent_id), now, now,
        r->client_initial_data, r->request_info, r->route, nz(r->origin));
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(conn, NULL,
            "UPDATE WebSession SET reservation_id = ? WHERE id = ?",
            "ss", r->id, r->session_id);
    }
    return rv;
}

/* Write every item of the list in one transaction; set each item's rv. */
static void write_batch(coord_sql_t *c, coord_sql_batch_item_t *list)
{
    apr_array_header_t *types;
    coord_sql_batch_item_t *it;
    weblab_sql_t *conn;
    apr_status_t rv;
    double now = 0;
    apr_pool_t *p;
    int i, single = list->next == NULL;

    rv = weblab_sql_acquire(c->pool, &conn);
    if (rv != APR_SUCCESS) {
        for (it = list; it; it = it->next) {
            it->rv = rv;
        }
        return;
    }
    apr_pool_create(&p, NULL);
    types = apr_array_make(p, 2, sizeof(const char *));
    rv = weblab_sql_begin(conn, 1);
    for (it = list; it && rv == APR_SUCCESS; it = it->next) {
        const char *rt = NULL;

        /* a lone reserve needs no savepoint: its failure is the batch's */
        if (!single) {
            rv = weblab_sql_exec(conn, NULL, "SAVEPOINT reserve_one", NULL);
            if (rv != APR_SUCCESS) {
                break;
            }
        }
        it->rv = insert_one(conn, it->r, it->now, &rt, p);
        if (!single) {
            rv = weblab_sql_exec(conn, NULL, it->rv == APR_SUCCESS
                                 ? "RELEASE SAVEPOINT reserve_one"
                                 : "ROLLBACK TO SAVEPOINT reserve_one", NULL);
        }
        else if (it->rv != APR_SUCCESS) {
            rv = it->rv;
        }
        if (it->rv == APR_SUCCESS) {
            for (i = 0; i < types->nelts; i++) {
                if (!strcmp(APR_ARRAY_IDX(types, i, const char *), rt)) {
                    break;
                }
            }
            if (i == types->nelts) {
                APR_ARRAY_PUSH(types, const char *) = rt;
            }
        }
        if (it->now > now) {
            now = it->now;
        }
    }
    for (i = 0; rv == APR_SUCCESS && i < types->nelts; i++) {
        rv = weblab_coord_sql_run_queue(conn, APR_ARRAY_IDX(types, i,
                                                            const char *),
                                        now, p);
    }
    rv = weblab_sql_end(conn, rv);
    if (single) {
        list->rv = rv;                  /* its own failure, or the commit's */
    }
    /* a failure of the transaction itself fails every item in it */
    for (it = list; it && rv != APR_SUCCESS; it = it->next) {
        if (it->rv == APR_SUCCESS || it->rv == APR_EINCOMPLETE) {
            it->rv = rv;
        }
    }
    apr_pool_destroy(p);
    done(c, conn, rv);
}

#if APR_HAS_THREADS
/* A free condition for the calling thread (batch_mutex held). */
static coord_sql_waiter_t *waiter_get(coord_sql_t *c)
{
    coord_sql_waiter_t *w = c->idle_waiters;

    if (w) {
        c->idle_waiters = w->next;
        return w;
    }
    w = apr_pcalloc(c->batch_pool, sizeof(*w));
    if (apr_thread_cond_create(&w->cond, c->batch_pool) != APR_SUCCESS) {
        return NULL;
    }
    return w;
}

/* Take up to BATCH_MAX items from the head of the waiting list. */
static coord_sql_batch_item_t *take_batch(coord_sql_t *c)
{
    coord_sql_batch_item_t *list = c->batch_head, *last = list;
    int n = 1;

    while (last->next && n < BATCH_MAX) {
        last = last->next;
        n++;
    }
    c->batch_head = last->next;
    if (!c->batch_head) {
        c->batch_tail = &c->batch_head;
    }
    last->next = NULL;
    return list;
}
#endif

apr_status_t weblab_coord_sql_reserve(void *ctx, const weblab_reservation_t *r,
                                      double now)
{
    coord_sql_t *c = ctx;
    coord_sql_batch_item_t item;

    memset(&item, 0, sizeof(item));
    item.r = r;
    item.now = now;
    item.rv = APR_EINCOMPLETE;
#if APR_HAS_THREADS
    if (c->batch_mutex) {
        apr_thread_mutex_lock(c->batch_mutex);
        if (!(item.waiter = waiter_get(c))) {
            apr_thread_mutex_unlock(c->batch_mutex);
            return APR_ENOMEM;
        }
        *c->batch_tail = &item;
        c->batch_tail = &item.next;
        while (!item.done) {
            if (!c->batch_writing) {
                coord_sql_batch_item_t *list = take_batch(c), *it, *next;

                /* this thread writes the batch: its own item is in it,
                 * since items are taken oldest first and it waited */
                c->batch_writing = 1;
                apr_thread_mutex_unlock(c->batch_mutex);
                write_batch(c, list);
                apr_thread_mutex_lock(c->batch_mutex);
                for (it = list; it; it = next) {
                    next = it->next;
                    it->done = 1;
                    if (it != &item) {
                        apr_thread_cond_signal(it->waiter->cond);
                    }
                }
                c->batch_writing = 0;
                /* those that came meanwhile: the oldest writes them */
                if (c->batch_head) {
                    apr_thread_cond_signal(c->batch_head->waiter->cond);
                }
            }
            else {
                apr_thread_cond_wait(item.waiter->cond, c->batch_mutex);
            }
        }
        item.waiter->next = c->idle_waiters;
        c->idle_waiters = item.waiter;
        apr_thread_mutex_unlock(c->batch_mutex);
        return item.rv;
    }
#endif
    write_batch(c, &item);
    return item.rv;
}
