/* MySQL/MariaDB backend of weblab_sql, on libmariadb (Connector/C).
 *
 * Why libmariadb and not apr_dbd's mysql driver: we need server-side
 * prepared statements cached per connection, connect/read/write timeouts,
 * the error numbers (lost connection, deadlock, duplicate key) and a named
 * lock around write transactions; apr_dbd hides all of these.
 *
 * Writers: SQLite serializes writers with an APR mutex inside one core.
 * Here the cores may be on several hosts, so begin(write) takes the
 * server-side named lock GET_LOCK('weblab:<db>') first and commit/rollback
 * release it: every write transaction on one database runs alone, as the
 * queue logic (run_queue in weblab_coord_sql.c) expects. Readers never
 * wait (InnoDB consistent reads).
 *
 * Failures: a lost connection outside a transaction is reconnected and the
 * statement retried once when that is safe (a read, or the start of a
 * transaction); otherwise APR_ECONNRESET tells the pool's user to
 * invalidate the connection. Deadlocks and lock wait timeouts of
 * statements outside a transaction are retried. */
#include "weblab_sql_mysql.h"

#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_time.h>

#define CONNECT_TIMEOUT 5           /* seconds */
#define IO_TIMEOUT 60               /* longer than LOCK_TIMEOUT */
#define LOCK_TIMEOUT 30             /* GET_LOCK wait, seconds */
#define STMT_CACHE_MAX 96           /* per connection (server-wide limit) */
#define RETRIES 5                   /* deadlock / lock wait, autocommit */

typedef struct {
    MYSQL *db;
    apr_pool_t *pool;               /* the weblab_sql connection's pool */
    apr_hash_t *stmts;              /* sql text (malloc) -> MYSQL_STMT * */
    weblab_mysql_dsn_t dsn;
    char lock_name[72];
    int in_tx;
    int locked;                     /* holds the named lock */
    unsigned int last_errno;
    char error[256];
    apr_int64_t last_id;
} my_conn_t;

static int is_conn_error(unsigned int e)
{
    return (e >= 2000 && e < 3000) || e == ER_CONNECTION_KILLED
           || e == ER_SERVER_SHUTDOWN || e == 1152 /* aborted */
           || e == 4031 /* idle timeout */;
}

static int is_constraint(unsigned int e)
{
    return e == ER_DUP_ENTRY || e == ER_DUP_ENTRY_WITH_KEY_NAME
           || e == ER_NO_REFERENCED_ROW || e == ER_ROW_IS_REFERENCED
           || e == ER_NO_REFERENCED_ROW_2 || e == ER_ROW_IS_REFERENCED_2
           || e == 1048 /* column cannot be null */ || e == 4025 /* check */;
}

/* Remember the error; messages that quote values are replaced, because
 * weblab_sql_error() must never return parameter values. */
static apr_status_t fail(my_conn_t *c, unsigned int e, const char *msg)
{
    c->last_errno = e;
    if (e == ER_DUP_ENTRY || e == ER_DUP_ENTRY_WITH_KEY_NAME) {
        msg = "UNIQUE constraint failed";
    }
    else if (e == 1366 || e == 1292 || e == 1264) {
        msg = "incorrect value for a column";
    }
    apr_snprintf(c->error, sizeof(c->error), "%s (MySQL error %u)",
                 msg && *msg ? msg : "error", e);
    if (is_conn_error(e)) {
        return APR_ECONNRESET;
    }
    if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT) {
        return APR_EAGAIN;
    }
    return APR_EGENERAL;
}

static apr_status_t fail_db(my_conn_t *c)
{
    return fail(c, mysql_errno(c->db), mysql_error(c->db));
}

static void cache_clear(my_conn_t *c)
{
    unsigned int n = apr_hash_count(c->stmts), i = 0;
    void **keys = malloc(sizeof(void *) * (n + 1));
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, c->stmts); hi && keys;
         hi = apr_hash_next(hi)) {
        const void *k;
        void *v;

        apr_hash_this(hi, &k, NULL, &v);
        mysql_stmt_close(v);
        keys[i++] = (void *)k;
    }
    apr_hash_clear(c->stmts);           /* reads the keys: free them after */
    while (i > 0) {
        free(keys[--i]);
    }
    free(keys);
}

static apr_status_t query(my_conn_t *c, const char *sql)
{
    if (mysql_real_query(c->db, sql, strlen(sql))) {
        return fail_db(c);
    }
    /* a statement with a result (SELECT GET_LOCK...) is not used here */
    return APR_SUCCESS;
}

/* (Re)connect c->db with the session settings every statement relies on. */
static apr_status_t connect_db(my_conn_t *c)
{
    unsigned int ct = CONNECT_TIMEOUT, io = IO_TIMEOUT;
    my_bool off = 0;
    const weblab_mysql_dsn_t *d = &c->dsn;
    apr_status_t rv;

    if (c->db) {
        /* close first: statements of a dead connection are only freed once
         * mysql_close has detached them (closing them first may crash) */
        mysql_close(c->db);
        cache_clear(c);
    }
    c->in_tx = c->locked = 0;
    c->db = mysql_init(NULL);
    if (!c->db) {
        return fail(c, CR_OUT_OF_MEMORY, "out of memory");
    }
    mysql_options(c->db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(c->db, MYSQL_OPT_READ_TIMEOUT, &io);
    mysql_options(c->db, MYSQL_OPT_WRITE_TIMEOUT, &io);
    mysql_options(c->db, MYSQL_OPT_RECONNECT, &off);   /* we do it, above */
    mysql_options(c->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* CLIENT_FOUND_ROWS: UPDATE reports matched rows, as SQLite does */
    if (!mysql_real_connect(c->db, d->host, d->user, d->password,
                            *d->dbname ? d->dbname : NULL, d->port,
                            d->unix_socket, CLIENT_FOUND_ROWS)) {
        rv = fail_db(c);
        mysql_close(c->db);
        c->db = NULL;
        return rv;
    }
    /* ANSI_QUOTES: our SQL quotes "User" and "Group"; PIPES_AS_CONCAT:
     * || concatenates as in SQLite; strict: errors, not silent truncation */
    rv = query(c, "SET SESSION sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT,"
                  "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION',"
                  " time_zone = '+00:00', collation_connection = '"
                  WEBLAB_MYSQL_COLLATION "', autocommit = 1");
    if (rv != APR_SUCCESS) {
        mysql_close(c->db);
        c->db = NULL;
    }
    return rv;
}

static apr_status_t my_open(void **handle, const char *target, apr_pool_t *p)
{
    my_conn_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv = weblab_sql_mysql_parse_dsn(&c->dsn, target, p);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    mysql_library_init(0, NULL, NULL);      /* once; thread-safe */
    c->pool = p;
    c->stmts = apr_hash_make(p);
    /* server lock names are at most 64 characters */
    apr_snprintf(c->lock_name, 65, "weblab:%s", c->dsn.dbname);
    rv = connect_db(c);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *handle = c;
    return APR_SUCCESS;
}

static void my_close(void *handle)
{
    my_conn_t *c = handle;

    if (c->db) {
        mysql_close(c->db);             /* first: see connect_db */
        cache_clear(c);
        c->db = NULL;
    }
}

static MYSQL_STMT *prepare(my_conn_t *c, const char *sql, apr_status_t *rv)
{
    MYSQL_STMT *st = apr_hash_get(c->stmts, sql, APR_HASH_KEY_STRING);

    if (st) {
        return st;
    }
    if (apr_hash_count(c->stmts) >= STMT_CACHE_MAX) {
        cache_clear(c);
    }
    st = mysql_stmt_init(c->db);
    if (!st) {
        *rv = fail(c, CR_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, strlen(sql))) {
        unsigned int e = mysql_stmt_errno(st);

        *rv = fail(c, e, mysql_stmt_error(st));
        mysql_stmt_close(st);
        if (e == ER_MAX_PREPARED_STMT_COUNT_REACHED) {
            cache_clear(c);             /* give ours back; caller retries */
        }
        return NULL;
    }
    /* keys are malloc'd: the cache is emptied many times per connection */
    apr_hash_set(c->stmts, strdup(sql), APR_HASH_KEY_STRING, st);
    return st;
}

/* Bind the parameters of types from ap into binds (from p). */
static int bind_args(MYSQL_BIND *b, const char *types, va_list ap,
                     apr_pool_t *p)
{
    int i;

    for (i = 0; types && types[i]; i++) {
        memset(&b[i], 0, sizeof(b[i]));
        switch (types[i]) {
        case 's': {
            const char *s = va_arg(ap, const char *);

            b[i].buffer_type = s ? MYSQL_TYPE_STRING : MYSQL_TYPE_NULL;
            b[i].buffer = (void *)s;
            b[i].buffer_length = s ? strlen(s) : 0;
            break;
        }
        case 'i': {
            long long *v = apr_palloc(p, sizeof(*v));

            *v = va_arg(ap, apr_int64_t);
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = v;
            break;
        }
        case 'd': {
            double *v = apr_palloc(p, sizeof(*v));

            *v = va_arg(ap, double);
            b[i].buffer_type = MYSQL_TYPE_DOUBLE;
            b[i].buffer = v;
            break;
        }
        default:
            return -1;
        }
    }
    return i;
}

/* Fetch every row of an executed statement into a weblab_sql_rows_t. */
static apr_status_t fetch_all(my_conn_t *c, MYSQL_STMT *st,
                              weblab_sql_rows_t **out, apr_pool_t *p)
{
    weblab_sql_rows_t *rows = apr_pcalloc(p, sizeof(*rows));
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    apr_array_header_t *cells;
    MYSQL_FIELD *f;
    MYSQL_BIND *b;
    unsigned long *len;
    my_bool *null, *err;
    double *dbl;
    int i, rc;

    rows->cursor = -1;
    if (!meta) {
        rows->names = apr_pcalloc(p, sizeof(char *));
        rows->cells = apr_pcalloc(p, sizeof(char *));
        *out = rows;
        return APR_SUCCESS;
    }
    rows->ncols = (int)mysql_num_fields(meta);
    f = mysql_fetch_fields(meta);
    rows->names = apr_palloc(p, sizeof(char *) * (rows->ncols + 1));
    b = apr_pcalloc(p, sizeof(*b) * (rows->ncols + 1));
    len = apr_pcalloc(p, sizeof(*len) * (rows->ncols + 1));
    null = apr_pcalloc(p, sizeof(*null) * (rows->ncols + 1));
    err = apr_pcalloc(p, sizeof(*err) * (rows->ncols + 1));
    dbl = apr_pcalloc(p, sizeof(*dbl) * (rows->ncols + 1));
    for (i = 0; i < rows->ncols; i++) {
        rows->names[i] = apr_pstrdup(p, f[i].name);
        b[i].length = &len[i];
        b[i].is_null = &null[i];
        b[i].error = &err[i];
        if (f[i].type == MYSQL_TYPE_DOUBLE || f[i].type == MYSQL_TYPE_FLOAT) {
            /* formatted here with all 17 digits, as the SQLite backend */
            b[i].buffer_type = MYSQL_TYPE_DOUBLE;
            b[i].buffer = &dbl[i];
        }
        else {
            b[i].buffer_type = MYSQL_TYPE_STRING;
            b[i].buffer_length = 256;
            b[i].buffer = apr_palloc(p, 256);
        }
    }
    mysql_free_result(meta);
    if (mysql_stmt_bind_result(st, b) || mysql_stmt_store_result(st)) {
        apr_status_t rv = fail(c, mysql_stmt_errno(st), mysql_stmt_error(st));

        mysql_stmt_free_result(st);     /* the cached statement stays usable */
        mysql_stmt_reset(st);
        return rv;
    }
    cells = apr_array_make(p, 16 * (rows->ncols ? rows->ncols : 1),
                           sizeof(const char *));
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        for (i = 0; i < rows->ncols; i++) {
            const char *v = NULL;

            if (null[i]) {
                v = NULL;
            }
            else if (b[i].buffer_type == MYSQL_TYPE_DOUBLE) {
                v = apr_psprintf(p, "%.17g", dbl[i]);
            }
            else if (len[i] < b[i].buffer_length) {
                v = apr_pstrmemdup(p, b[i].buffer, len[i]);
            }
            else {                  /* longer than the buffer: fetch it */
                MYSQL_BIND one = b[i];
                char *big = apr_palloc(p, len[i] + 1);

                one.buffer = big;
                one.buffer_length = len[i] + 1;
                if (mysql_stmt_fetch_column(st, &one, i, 0)) {
                    mysql_stmt_free_result(st);
                    return fail(c, mysql_stmt_errno(st),
                                mysql_stmt_error(st));
                }
                big[len[i]] = 0;
                v = big;
            }
            APR_ARRAY_PUSH(cells, const char *) = v;
        }
        rows->nrows++;
    }
    mysql_stmt_free_result(st);
    if (rc != MYSQL_NO_DATA) {
        return fail(c, mysql_stmt_errno(st), mysql_stmt_error(st));
    }
    rows->cells = (const char **)cells->elts;
    *out = rows;
    return APR_SUCCESS;
}

/* One attempt: prepare (cached), bind, execute, fetch. */
static apr_status_t run_once(my_conn_t *c, const char *sql, const char *types,
                             va_list ap, weblab_sql_rows_t **rows_out,
                             int *changes, apr_pool_t *p, apr_pool_t *tmp)
{
    apr_status_t rv = APR_EGENERAL;
    MYSQL_STMT *st = prepare(c, sql, &rv);
    int n = types ? (int)strlen(types) : 0;
    MYSQL_BIND *b = apr_pcalloc(tmp, sizeof(*b) * (n + 1));

    if (!st) {
        return rv;
    }
    if (bind_args(b, types, ap, tmp) < 0
        || mysql_stmt_param_count(st) != (unsigned long)n) {
        return fail(c, CR_INVALID_PARAMETER_NO, "bad parameter types");
    }
    if ((n && mysql_stmt_bind_param(st, b)) || mysql_stmt_execute(st)) {
        rv = fail(c, mysql_stmt_errno(st), mysql_stmt_error(st));
        mysql_stmt_reset(st);
        return rv;
    }
    c->last_id = (apr_int64_t)mysql_stmt_insert_id(st);
    if (changes) {
        *changes = (int)mysql_stmt_affected_rows(st);
    }
    if (rows_out) {
        return fetch_all(c, st, rows_out, p);
    }
    mysql_stmt_free_result(st);
    return APR_SUCCESS;
}

static apr_status_t my_run(void *handle, const char *sql, const char *types,
                           va_list ap, weblab_sql_rows_t **rows_out,
                           int *changes, apr_pool_t *p)
{
    my_conn_t *c = handle;
    apr_pool_t *tmp;
    apr_status_t rv;
    int attempt;

    apr_pool_create(&tmp, c->pool);
    for (attempt = 0;; attempt++) {
        va_list aq;

        if (!c->db && (rv = connect_db(c)) != APR_SUCCESS) {
            break;
        }
        va_copy(aq, ap);
        rv = run_once(c, sql, types, aq, rows_out, changes, p, tmp);
        va_end(aq);
        apr_pool_clear(tmp);
        if (rv == APR_SUCCESS || c->in_tx || attempt >= RETRIES) {
            break;
        }
        if (c->last_errno == ER_MAX_PREPARED_STMT_COUNT_REACHED
            && attempt == 0) {
            continue;
        }
        if (rv == APR_EAGAIN) {         /* deadlock, lock wait: again */
            apr_sleep(apr_time_from_msec(10 << attempt));
            continue;
        }
        /* a read may be repeated on a fresh connection; a write may have
         * been applied before the connection broke, so it is not */
        if (rv == APR_ECONNRESET && rows_out && attempt == 0) {
            rv = connect_db(c);
            if (rv == APR_SUCCESS) {
                continue;
            }
        }
        break;
    }
    apr_pool_destroy(tmp);
    return rv;
}

static apr_status_t my_script(void *handle, const char *script)
{
    my_conn_t *c = handle;
    apr_array_header_t *stmts;
    apr_pool_t *tmp;
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (!c->db && (rv = connect_db(c)) != APR_SUCCESS) {
        return rv;
    }
    apr_pool_create(&tmp, c->pool);
    stmts = weblab_sql_mysql_script_split(script, tmp);
    for (i = 0; i < stmts->nelts && rv == APR_SUCCESS; i++) {
        rv = query(c, APR_ARRAY_IDX(stmts, i, const char *));
        if (rv == APR_SUCCESS) {
            c->last_id = (apr_int64_t)mysql_insert_id(c->db);
        }
    }
    apr_pool_destroy(tmp);
    return rv;
}

static apr_status_t select1(my_conn_t *c, weblab_sql_rows_t **rows,
                            apr_pool_t *p, const char *sql,
                            const char *types, ...)
{
    apr_status_t rv;
    va_list ap;

    va_start(ap, types);
    rv = run_once(c, sql, types, ap, rows, NULL, p, p);
    va_end(ap);
    return rv;
}

/* Take (GET_LOCK, waiting at most LOCK_TIMEOUT) or release the writers'
 * named lock of this database. */
static apr_status_t named_lock(my_conn_t *c, int take)
{
    weblab_sql_rows_t *rows;
    apr_pool_t *tmp;
    apr_status_t rv;

    apr_pool_create(&tmp, c->pool);
    rv = take ? select1(c, &rows, tmp, "SELECT GET_LOCK(?, ?)", "si",
                        c->lock_name, (apr_int64_t)LOCK_TIMEOUT)
              : select1(c, &rows, tmp, "SELECT RELEASE_LOCK(?)", "s",
                        c->lock_name);
    if (rv == APR_SUCCESS && take) {
        const char *v = weblab_sql_next(rows) ? weblab_sql_str(rows, 0)
                                              : NULL;

        if (!v || strcmp(v, "1")) {
            fail(c, ER_LOCK_WAIT_TIMEOUT, "GET_LOCK timed out");
            rv = APR_TIMEUP;
        }
    }
    apr_pool_destroy(tmp);
    return rv;
}

static apr_status_t my_begin(void *handle, int write)
{
    my_conn_t *c = handle;
    apr_status_t rv = APR_SUCCESS;
    int attempt;

    /* nothing has happened yet: a broken connection is simply replaced */
    for (attempt = 0; attempt < 2; attempt++) {
        if (!c->db && (rv = connect_db(c)) != APR_SUCCESS) {
            return rv;
        }
        /* WRITE_ROWS (2): own rows only, InnoDB's row locks suffice */
        rv = write == 1 ? named_lock(c, 1) : APR_SUCCESS;
        if (rv == APR_SUCCESS) {
            c->locked = write == 1;
            rv = query(c, "START TRANSACTION");
        }
        if (rv == APR_SUCCESS) {
            c->in_tx = 1;
            return APR_SUCCESS;
        }
        if (rv != APR_ECONNRESET) {
            break;
        }
        connect_db(c);
    }
    if (c->locked && c->db) {
        named_lock(c, 0);
    }
    c->locked = 0;
    return rv;
}

static apr_status_t end_tx(my_conn_t *c, const char *sql)
{
    apr_status_t rv = APR_SUCCESS;

    if (c->in_tx && c->db) {
        rv = query(c, sql);
    }
    c->in_tx = 0;
    if (c->locked && c->db) {
        unsigned int e = c->last_errno;
        char saved[sizeof(c->error)];

        memcpy(saved, c->error, sizeof(saved));
        if (named_lock(c, 0) != APR_SUCCESS && rv == APR_SUCCESS) {
            rv = APR_ECONNRESET;        /* the server dropped us: lock gone */
        }
        else {
            c->last_errno = e;          /* keep the error being handled */
            memcpy(c->error, saved, sizeof(saved));
        }
    }
    c->locked = 0;
    return rv;
}

static apr_status_t my_commit(void *handle)
{
    return end_tx(handle, "COMMIT");
}

static apr_status_t my_rollback(void *handle)
{
    return end_tx(handle, "ROLLBACK");
}

static apr_int64_t my_last_id(void *handle)
{
    return ((my_conn_t *)handle)->last_id;
}

static const char *my_error(void *handle)
{
    my_conn_t *c = handle;

    return c->last_errno ? c->error : "not an error";
}

static int my_is_constraint(void *handle)
{
    return is_constraint(((my_conn_t *)handle)->last_errno);
}

const weblab_sql_backend_t weblab_sql_mysql_backend = {
    "mysql",
    my_open,
    my_close,
    my_run,
    my_script,
    my_begin,
    my_commit,
    my_rollback,
    my_last_id,
    my_error,
    my_is_constraint,
    0,                  /* pooled_reads: InnoDB autocommit reads are cheap */
};
