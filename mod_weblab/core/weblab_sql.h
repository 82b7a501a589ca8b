/* A thin SQL layer: one connection type, statements with typed parameters,
 * results fetched whole into a pool, transactions, and a per-process pool of
 * connections. Backends are a struct of function pointers looked up by the
 * DSN scheme: "sqlite:/path/file.db" or
 * "mysql://user:password@host:port/dbname[?unix_socket=PATH]" (MariaDB or
 * MySQL; weblab_sql_mysql.c). Everything above this file writes SQL that
 * both accept (docs/INTERNALS.md, "SQL dialects").
 *
 * Why not apr_dbd: its SQLite driver answers SQLITE_BUSY by sleeping and
 * retrying, it cannot open a write transaction with BEGIN IMMEDIATE, and
 * mod_dbd serves one database per server while we use two (data and
 * coordination). Writers are serialized instead by a lock the caller installs
 * (an APR global mutex inside httpd), which DESIGN.md section 3 measured at
 * mean 10 ms against 150-190 ms for busy-handler arbitration.
 *
 * A connection is never used by two threads at once. */
#ifndef WEBLAB_SQL_H
#define WEBLAB_SQL_H

#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_tables.h>

typedef struct weblab_sql_t weblab_sql_t;
typedef struct weblab_sql_pool_t weblab_sql_pool_t;

/* Result of a SELECT, fully materialized in the caller's pool. */
typedef struct weblab_sql_rows_t {
    int nrows;
    int ncols;
    const char **names;     /* ncols column names */
    const char **cells;     /* nrows * ncols values, NULL for SQL NULL */
    int cursor;             /* -1 before the first weblab_sql_next() */
} weblab_sql_rows_t;

/* Serializes writers across threads and processes; installed by the owner of
 * the pool (httpd glue: an apr_global_mutex). NULL functions: no lock. */
typedef struct weblab_sql_lock_t {
    apr_status_t (*lock)(void *baton);
    apr_status_t (*unlock)(void *baton);
    void *baton;
} weblab_sql_lock_t;

/* Parameter type letters for the "types" strings below:
 *   's' const char *  (NULL binds SQL NULL)
 *   'i' apr_int64_t
 *   'd' double
 * e.g. weblab_sql_exec(c, &n, "UPDATE t SET a=? WHERE id=?", "si", a, id). */

/* Open one connection for dsn. The connection lives until weblab_sql_close
 * or until pool p is destroyed (p may be NULL: then only close ends it). */
apr_status_t weblab_sql_open(weblab_sql_t **conn, const char *dsn,
                             apr_pool_t *p);
void weblab_sql_close(weblab_sql_t *conn);

/* Run a statement that returns no rows; *changes (may be NULL) gets the
 * number of rows changed. */
apr_status_t weblab_sql_exec(weblab_sql_t *c, int *changes, const char *sql,
                             const char *types, ...);

/* Run a SELECT; rows are allocated from p. */
apr_status_t weblab_sql_select(weblab_sql_t *c, weblab_sql_rows_t **rows,
                               apr_pool_t *p, const char *sql,
                               const char *types, ...);

/* Several ';'-separated statements without parameters (schemas). */
apr_status_t weblab_sql_exec_script(weblab_sql_t *c, const char *script);

/* Transactions. write=WEBLAB_SQL_WRITE takes the installed writer lock
 * first and opens a write transaction (BEGIN IMMEDIATE on SQLite); on MySQL
 * the server-side named lock serializes it with every other such writer of
 * the database, on every host. WEBLAB_SQL_WRITE_ROWS is for a transaction
 * that only writes rows of its own (a session, a poll time) and need not
 * wait for those writers: on MySQL it skips the named lock (InnoDB's row
 * locks suffice); SQLite has one writer at a time anyway, so there it is
 * WEBLAB_SQL_WRITE. commit/rollback release what begin took. */
#define WEBLAB_SQL_READ 0
#define WEBLAB_SQL_WRITE 1
#define WEBLAB_SQL_WRITE_ROWS 2
apr_status_t weblab_sql_begin(weblab_sql_t *c, int write);
apr_status_t weblab_sql_commit(weblab_sql_t *c);
apr_status_t weblab_sql_rollback(weblab_sql_t *c);
/* End the transaction begun on c by the work whose outcome is rv: commit
 * when rv is APR_SUCCESS (the commit's status is returned), else roll back
 * and return rv. */
apr_status_t weblab_sql_end(weblab_sql_t *c, apr_status_t rv);
/* Non-zero between weblab_sql_begin and its commit or rollback. */
int weblab_sql_in_tx(const weblab_sql_t *c);
/* Non-zero when write transactions on c take a writer lock (SQLite). */
int weblab_sql_has_writer_lock(const weblab_sql_t *c);

/* Row id of the last INSERT on this connection. */
apr_int64_t weblab_sql_last_id(weblab_sql_t *c);

/* Last error text of this connection (static or connection-owned). Never
 * contains parameter values. */
const char *weblab_sql_error(weblab_sql_t *c);

/* Non-zero when the last error was a unique-constraint violation. */
int weblab_sql_is_constraint(weblab_sql_t *c);

/* Install the writer lock (copied). */
void weblab_sql_set_lock(weblab_sql_t *c, const weblab_sql_lock_t *lock);

/* Row access: advance to the next row (1) or end (0); cell by column index. */
int weblab_sql_next(weblab_sql_rows_t *rows);
const char *weblab_sql_str(const weblab_sql_rows_t *rows, int col);
apr_int64_t weblab_sql_int(const weblab_sql_rows_t *rows, int col);
double weblab_sql_double(const weblab_sql_rows_t *rows, int col);

/* Pool of connections for one dsn (apr_reslist): min/max/ttl like mod_dbd.
 * lock (may be NULL) is installed on every connection. Allocated from p,
 * which must outlive it (pchild inside httpd). */
apr_status_t weblab_sql_pool_create(weblab_sql_pool_t **pool, const char *dsn,
                                    int min, int max,
                                    const weblab_sql_lock_t *lock,
                                    apr_pool_t *p);
/* Take a connection; give it back with release, or invalidate it after an
 * I/O error so a fresh one is opened next time. */
apr_status_t weblab_sql_acquire(weblab_sql_pool_t *pool, weblab_sql_t **conn);
void weblab_sql_release(weblab_sql_pool_t *pool, weblab_sql_t *conn);
void weblab_sql_invalidate(weblab_sql_pool_t *pool, weblab_sql_t *conn);
/* Give it back after work that ended with rv: kept when rv is success or a
 * logical outcome (APR_EINVAL, APR_NOTFOUND), dropped after any other
 * failure, which may have been the connection's. Returns rv. */
apr_status_t weblab_sql_done(weblab_sql_pool_t *pool, weblab_sql_t *conn,
                             apr_status_t rv);
const char *weblab_sql_pool_dsn(const weblab_sql_pool_t *pool);

/* Non-zero when dsn's engine needs the caller's writer lock (SQLite); the
 * MySQL backend serializes writers itself with a server-side named lock. */
int weblab_sql_dsn_needs_lock(const char *dsn);

/* NULL when dsn names a database we can open (sqlite:PATH or a well-formed
 * mysql:// DSN), else why not (from p). Does not connect. */
const char *weblab_sql_dsn_problem(const char *dsn, apr_pool_t *p);

/* dsn with its password replaced by "***", for logs (from p). */
const char *weblab_sql_dsn_redact(const char *dsn, apr_pool_t *p);

/* A mysql:// DSN with every part %-escaped (from p). password may be NULL
 * or ""; port 0 leaves the default (3306); socket may be NULL. */
/* s %XX-encoded for the user, password, host or path part of a URL-style
 * target (DSNs, Redis targets), from p. */
const char *weblab_pct_encode(const char *s, apr_pool_t *p);

const char *weblab_sql_dsn_mysql(const char *user, const char *password,
                                 const char *host, int port,
                                 const char *dbname, const char *socket,
                                 apr_pool_t *p);

/* The parts of a mysql:// DSN (from p; password may be NULL) and in
 * *server the DSN of the same server, without a database, for another
 * user (admin_user, admin_password). APR_EINVAL when malformed. */
apr_status_t weblab_sql_dsn_mysql_parts(const char *dsn, const char **user,
                                        const char **password,
                                        const char **host,
                                        const char **dbname,
                                        const char **server,
                                        const char *admin_user,
                                        const char *admin_password,
                                        apr_pool_t *p);

#endif
