/* SQLite backend of weblab_sql: WAL, synchronous=NORMAL, prepared statements
 * cached per connection, BEGIN IMMEDIATE for writers. */
#include "weblab_sql_private.h"

#include <string.h>
#include <sqlite3.h>
#include <apr_strings.h>
#include <apr_hash.h>

typedef struct {
    sqlite3 *db;
    apr_pool_t *pool;
    apr_hash_t *stmts;          /* sql text -> sqlite3_stmt*, this connection */
    int last_rc;
} sqlite_conn_t;

#define BUSY_TIMEOUT_MS 10000

static apr_status_t sqlite_open(void **handle, const char *target,
                                apr_pool_t *p)
{
    sqlite_conn_t *c = apr_pcalloc(p, sizeof(*c));
    int rc = sqlite3_open_v2(target, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                             | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        if (c->db) {
            sqlite3_close(c->db);
        }
        return APR_EGENERAL;
    }
    c->pool = p;
    c->stmts = apr_hash_make(p);
    /* The writer lock makes busy waits rare; this covers weblab-admin and
     * other processes that write without it. */
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    rc = sqlite3_exec(c->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                      " PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(c->db);
        return APR_EGENERAL;
    }
    *handle = c;
    return APR_SUCCESS;
}

static void sqlite_close(void *handle)
{
    sqlite_conn_t *c = handle;
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, c->stmts); hi; hi = apr_hash_next(hi)) {
        void *v;

        apr_hash_this(hi, NULL, NULL, &v);
        sqlite3_finalize(v);
    }
    apr_hash_clear(c->stmts);
    sqlite3_close(c->db);
    c->db = NULL;
}

static sqlite3_stmt *prepare(sqlite_conn_t *c, const char *sql)
{
    sqlite3_stmt *st = apr_hash_get(c->stmts, sql, APR_HASH_KEY_STRING);

    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    c->last_rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (c->last_rc != SQLITE_OK) {
        return NULL;
    }
    apr_hash_set(c->stmts, apr_pstrdup(c->pool, sql), APR_HASH_KEY_STRING, st);
    return st;
}

static int bind_args(sqlite3_stmt *st, const char *types, va_list ap)
{
    int i, rc = SQLITE_OK;

    for (i = 0; types && types[i] && rc == SQLITE_OK; i++) {
        switch (types[i]) {
        case 's': {
            const char *s = va_arg(ap, const char *);

            rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, i + 1);
            break;
        }
        case 'i':
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, apr_int64_t));
            break;
        case 'd':
            rc = sqlite3_bind_double(st, i + 1, va_arg(ap, double));
            break;
        default:
            return SQLITE_MISUSE;
        }
    }
    return rc;
}

static apr_status_t sqlite_run(void *handle, const char *sql,
                               const char *types, va_list ap,
                               weblab_sql_rows_t **rows_out, int *changes,
                               apr_pool_t *p)
{
    sqlite_conn_t *c = handle;
    sqlite3_stmt *st = prepare(c, sql);
    apr_array_header_t *cells = NULL;
    weblab_sql_rows_t *rows = NULL;
    int rc, col;

    if (!st) {
        return APR_EGENERAL;
    }
    rc = bind_args(st, types, ap);
    if (rc != SQLITE_OK) {
        c->last_rc = rc;
        sqlite3_reset(st);
        return APR_EINVAL;
    }
    if (rows_out) {
        rows = apr_pcalloc(p, sizeof(*rows));
        rows->cursor = -1;
        rows->ncols = sqlite3_column_count(st);
        rows->names = apr_palloc(p, sizeof(char *) * (rows->ncols + 1));
        for (col = 0; col < rows->ncols; col++) {
            rows->names[col] = apr_pstrdup(p, sqlite3_column_name(st, col));
        }
        cells = apr_array_make(p, 16 * (rows->ncols ? rows->ncols : 1),
                               sizeof(const char *));
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!rows) {
            continue;
        }
        for (col = 0; col < rows->ncols; col++) {
            const unsigned char *t;

            /* sqlite's own text form of a REAL keeps 15 digits (10 us at
             * today's epoch); ours keeps them all */
            if (sqlite3_column_type(st, col) == SQLITE_FLOAT) {
                APR_ARRAY_PUSH(cells, const char *) =
                    apr_psprintf(p, "%.17g", sqlite3_column_double(st, col));
                continue;
            }
            t = sqlite3_column_text(st, col);
            APR_ARRAY_PUSH(cells, const char *) =
                t ? apr_pstrmemdup(p, (const char *)t,
                                   sqlite3_column_bytes(st, col))
                  : NULL;
        }
        rows->nrows++;
    }
    c->last_rc = rc;
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        return rc == SQLITE_BUSY ? APR_EAGAIN : APR_EGENERAL;
    }
    if (changes) {
        *changes = sqlite3_changes(c->db);
    }
    if (rows_out) {
        rows->cells = (const char **)cells->elts;
        *rows_out = rows;
    }
    return APR_SUCCESS;
}

static apr_status_t sqlite_script(void *handle, const char *script)
{
    sqlite_conn_t *c = handle;

    c->last_rc = sqlite3_exec(c->db, script, NULL, NULL, NULL);
    return c->last_rc == SQLITE_OK ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t simple(sqlite_conn_t *c, const char *sql)
{
    sqlite3_stmt *st = prepare(c, sql);

    if (!st) {
        return APR_EGENERAL;
    }
    c->last_rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (c->last_rc == SQLITE_BUSY) {
        return APR_EAGAIN;
    }
    return c->last_rc == SQLITE_DONE ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t sqlite_begin(void *handle, int write)
{
    return simple(handle, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

static apr_status_t sqlite_commit(void *handle)
{
    return simple(handle, "COMMIT");
}

static apr_status_t sqlite_rollback(void *handle)
{
    sqlite_conn_t *c = handle;

    if (sqlite3_get_autocommit(c->db)) {
        return APR_SUCCESS;             /* nothing open */
    }
    return simple(handle, "ROLLBACK");
}

static apr_int64_t sqlite_last_id(void *handle)
{
    return sqlite3_last_insert_rowid(((sqlite_conn_t *)handle)->db);
}

static const char *sqlite_error(void *handle)
{
    return sqlite3_errmsg(((sqlite_conn_t *)handle)->db);
}

static int sqlite_is_constraint(void *handle)
{
    return (((sqlite_conn_t *)handle)->last_rc & 0xff) == SQLITE_CONSTRAINT;
}

const weblab_sql_backend_t weblab_sql_sqlite_backend = {
    "sqlite",
    sqlite_open,
    sqlite_close,
    sqlite_run,
    sqlite_script,
    sqlite_begin,
    sqlite_commit,
    sqlite_rollback,
    sqlite_last_id,
    sqlite_error,
    sqlite_is_constraint,
    1,                                  /* pooled_reads */
};
