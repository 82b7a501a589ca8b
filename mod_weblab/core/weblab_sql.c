#include "weblab_sql_private.h"
#include "weblab_sql_mysql.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_reslist.h>

struct weblab_sql_t {
    const weblab_sql_backend_t *be;
    void *handle;
    apr_pool_t *pool;           /* the connection's own pool */
    weblab_sql_lock_t lock;
    int locked;                 /* writer lock held by this connection */
    int in_tx;                  /* inside weblab_sql_begin .. commit */
    int pooled_reads;           /* selects share one read transaction */
    int reading;                /* that read transaction is open */
};

struct weblab_sql_pool_t {
    const char *dsn;
    weblab_sql_lock_t lock;
    apr_reslist_t *list;
};

static const weblab_sql_backend_t *const backends[] = {
    &weblab_sql_sqlite_backend,
    &weblab_sql_mysql_backend,
    NULL
};

static apr_status_t conn_cleanup(void *data)
{
    weblab_sql_t *c = data;

    if (c->handle) {
        c->be->close(c->handle);
        c->handle = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t weblab_sql_open(weblab_sql_t **conn, const char *dsn,
                             apr_pool_t *p)
{
    const char *colon = strchr(dsn, ':');
    apr_pool_t *cp;
    weblab_sql_t *c;
    apr_status_t rv;
    int i;

    *conn = NULL;
    if (!colon) {
        return APR_EINVAL;
    }
    for (i = 0; backends[i]; i++) {
        if (strlen(backends[i]->scheme) == (size_t)(colon - dsn)
            && !strncmp(backends[i]->scheme, dsn, colon - dsn)) {
            break;
        }
    }
    if (!backends[i]) {
        return APR_ENOTIMPL;
    }
    if (p) {
        apr_pool_create(&cp, p);
    }
    else {
        /* owned by whoever closes it (the connection pool's destructor):
         * not a child of the global pool, which apr_terminate would
         * destroy first, making that close a double free */
        apr_pool_create_unmanaged_ex(&cp, NULL, NULL);
    }
    c = apr_pcalloc(cp, sizeof(*c));
    c->be = backends[i];
    c->pool = cp;
    rv = c->be->open(&c->handle, colon + 1, cp);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(cp);
        return rv;
    }
    apr_pool_cleanup_register(cp, c, conn_cleanup, apr_pool_cleanup_null);
    *conn = c;
    return APR_SUCCESS;
}

void weblab_sql_close(weblab_sql_t *c)
{
    if (c) {
        if (c->locked && c->lock.unlock) {
            c->lock.unlock(c->lock.baton);
        }
        apr_pool_destroy(c->pool);
    }
}

/* On a pooled SQLite connection the selects from acquire to release share
 * one read transaction: each transaction start costs locks on the WAL index
 * and, after any other connection wrote, a cold page cache, which dominate
 * a request that makes ten small reads. Writes end it first. */
static void end_read(weblab_sql_t *c)
{
    if (c->reading) {
        c->reading = 0;
        c->be->commit(c->handle);
    }
}

static void start_read(weblab_sql_t *c)
{
    if (c->pooled_reads && !c->in_tx && !c->reading
        && c->be->begin(c->handle, 0) == APR_SUCCESS) {
        c->reading = 1;
    }
}

apr_status_t weblab_sql_exec(weblab_sql_t *c, int *changes, const char *sql,
                             const char *types, ...)
{
    apr_status_t rv;
    va_list ap;

    if (!c->in_tx) {
        end_read(c);                    /* an autocommit write */
    }
    va_start(ap, types);
    rv = c->be->run(c->handle, sql, types, ap, NULL, changes, NULL);
    va_end(ap);
    return rv;
}

apr_status_t weblab_sql_select(weblab_sql_t *c, weblab_sql_rows_t **rows,
                               apr_pool_t *p, const char *sql,
                               const char *types, ...)
{
    apr_status_t rv;
    va_list ap;

    start_read(c);
    va_start(ap, types);
    rv = c->be->run(c->handle, sql, types, ap, rows, NULL, p);
    va_end(ap);
    return rv;
}

apr_status_t weblab_sql_exec_script(weblab_sql_t *c, const char *script)
{
    return c->be->script(c->handle, script);
}

apr_status_t weblab_sql_begin(weblab_sql_t *c, int write)
{
    apr_status_t rv;

    end_read(c);
    if (write && c->lock.lock) {
        rv = c->lock.lock(c->lock.baton);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        c->locked = 1;
    }
    rv = c->be->begin(c->handle, write);
    if (rv != APR_SUCCESS && c->locked) {
        c->lock.unlock(c->lock.baton);
        c->locked = 0;
    }
    c->in_tx = rv == APR_SUCCESS;
    return rv;
}

apr_status_t weblab_sql_end(weblab_sql_t *c, apr_status_t rv)
{
    if (rv == APR_SUCCESS) {
        return weblab_sql_commit(c);
    }
    weblab_sql_rollback(c);
    return rv;
}

int weblab_sql_in_tx(const weblab_sql_t *c)
{
    return c->in_tx;
}

int weblab_sql_has_writer_lock(const weblab_sql_t *c)
{
    return c->lock.lock != NULL;
}

static void unlock_writer(weblab_sql_t *c)
{
    if (c->locked) {
        c->lock.unlock(c->lock.baton);
        c->locked = 0;
    }
}

apr_status_t weblab_sql_commit(weblab_sql_t *c)
{
    apr_status_t rv = c->be->commit(c->handle);

    if (rv != APR_SUCCESS) {
        c->be->rollback(c->handle);
    }
    c->in_tx = 0;
    unlock_writer(c);
    return rv;
}

apr_status_t weblab_sql_rollback(weblab_sql_t *c)
{
    apr_status_t rv = c->be->rollback(c->handle);

    c->in_tx = 0;
    unlock_writer(c);
    return rv;
}

apr_int64_t weblab_sql_last_id(weblab_sql_t *c)
{
    return c->be->last_id(c->handle);
}

const char *weblab_sql_error(weblab_sql_t *c)
{
    return c->be->error(c->handle);
}

int weblab_sql_is_constraint(weblab_sql_t *c)
{
    return c->be->is_constraint(c->handle);
}

void weblab_sql_set_lock(weblab_sql_t *c, const weblab_sql_lock_t *lock)
{
    if (lock) {
        c->lock = *lock;
    }
}

int weblab_sql_next(weblab_sql_rows_t *rows)
{
    if (rows->cursor + 1 >= rows->nrows) {
        rows->cursor = rows->nrows;
        return 0;
    }
    rows->cursor++;
    return 1;
}

const char *weblab_sql_str(const weblab_sql_rows_t *rows, int col)
{
    if (rows->cursor < 0 || rows->cursor >= rows->nrows || col < 0
        || col >= rows->ncols) {
        return NULL;
    }
    return rows->cells[rows->cursor * rows->ncols + col];
}

apr_int64_t weblab_sql_int(const weblab_sql_rows_t *rows, int col)
{
    const char *s = weblab_sql_str(rows, col);

    return s ? apr_atoi64(s) : 0;
}

double weblab_sql_double(const weblab_sql_rows_t *rows, int col)
{
    const char *s = weblab_sql_str(rows, col);

    return s ? strtod(s, NULL) : 0.0;
}

/* ---- pool ---- */

static apr_status_t pool_construct(void **res, void *params, apr_pool_t *p)
{
    weblab_sql_pool_t *pool = params;
    weblab_sql_t *c;
    /* Not a subpool of the reslist's pool: APR destroys subpools before
     * running the reslist's cleanup, which then closes every connection. */
    apr_status_t rv = weblab_sql_open(&c, pool->dsn, NULL);

    if (rv == APR_SUCCESS) {
        weblab_sql_set_lock(c, &pool->lock);
        c->pooled_reads = c->be->pooled_reads;
        *res = c;
    }
    return rv;
}

static apr_status_t pool_destruct(void *res, void *params, apr_pool_t *p)
{
    (void)params;
    (void)p;
    weblab_sql_close(res);
    return APR_SUCCESS;
}

apr_status_t weblab_sql_pool_create(weblab_sql_pool_t **out, const char *dsn,
                                    int min, int max,
                                    const weblab_sql_lock_t *lock,
                                    apr_pool_t *p)
{
    weblab_sql_pool_t *pool = apr_pcalloc(p, sizeof(*pool));
    apr_status_t rv;

    pool->dsn = apr_pstrdup(p, dsn);
    if (lock) {
        pool->lock = *lock;
    }
    rv = apr_reslist_create(&pool->list, min, max, max, 0, pool_construct,
                            pool_destruct, pool, p);
    if (rv == APR_SUCCESS) {            /* reslist cleans up with p */
        *out = pool;
    }
    return rv;
}

apr_status_t weblab_sql_acquire(weblab_sql_pool_t *pool, weblab_sql_t **conn)
{
    void *res;
    apr_status_t rv = apr_reslist_acquire(pool->list, &res);

    *conn = rv == APR_SUCCESS ? res : NULL;
    return rv;
}

void weblab_sql_release(weblab_sql_pool_t *pool, weblab_sql_t *conn)
{
    if (conn->in_tx) {                  /* a forgotten transaction */
        weblab_sql_rollback(conn);
    }
    end_read(conn);
    apr_reslist_release(pool->list, conn);
}

void weblab_sql_invalidate(weblab_sql_pool_t *pool, weblab_sql_t *conn)
{
    if (conn->in_tx) {
        weblab_sql_rollback(conn);
    }
    end_read(conn);
    apr_reslist_invalidate(pool->list, conn);
}

apr_status_t weblab_sql_done(weblab_sql_pool_t *pool, weblab_sql_t *conn,
                             apr_status_t rv)
{
    if (rv == APR_SUCCESS || rv == APR_EINVAL || rv == APR_NOTFOUND) {
        weblab_sql_release(pool, conn);
    }
    else {
        weblab_sql_invalidate(pool, conn);
    }
    return rv;
}

const char *weblab_sql_pool_dsn(const weblab_sql_pool_t *pool)
{
    return pool->dsn;
}

int weblab_sql_dsn_needs_lock(const char *dsn)
{
    return dsn && !strncmp(dsn, "sqlite:", 7);
}

const char *weblab_sql_dsn_redact(const char *dsn, apr_pool_t *p)
{
    const char *auth, *at, *colon;
    apr_size_t alen;

    if (!dsn || strncmp(dsn, "mysql://", 8) != 0) {
        return dsn;
    }
    auth = dsn + 8;
    alen = strcspn(auth, "/?");
    for (at = auth + alen; at > auth && at[-1] != '@'; at--) {
    }
    if (at == auth) {
        return dsn;                     /* no user info */
    }
    colon = memchr(auth, ':', at - 1 - auth);
    if (!colon) {
        return dsn;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, dsn, colon + 1 - dsn), "***",
                       at - 1, NULL);
}

const char *weblab_sql_dsn_problem(const char *dsn, apr_pool_t *p)
{
    weblab_mysql_dsn_t d;

    if (!strncmp(dsn, "sqlite:", 7)) {
        return dsn[7] ? NULL : "sqlite: needs a file name";
    }
    if (!strncmp(dsn, "mysql:", 6)) {
        return weblab_sql_mysql_parse_dsn(&d, dsn + 6, p) == APR_SUCCESS
            ? NULL
            : "malformed mysql DSN; expected mysql://user:password@host:port"
              "/dbname (with %XX escapes) or ...?unix_socket=/path";
    }
    return "unknown database; use sqlite:/path/to/file.db or"
           " mysql://user:password@host:port/dbname";
}
