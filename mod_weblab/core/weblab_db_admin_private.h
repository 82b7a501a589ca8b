/* Shared by the weblab_db_admin*.c files only: the handle, the transaction
 * nesting and the id look-ups. */
#ifndef WEBLAB_DB_ADMIN_PRIVATE_H
#define WEBLAB_DB_ADMIN_PRIVATE_H

#include "weblab_db_admin.h"

struct weblab_db_admin_t {
    weblab_sql_t *c;
    apr_pool_t *pool;           /* the handle's pool: error messages */
    const char *error;
    int depth;                  /* nested transaction level */
    int failed;                 /* a nested call failed: roll back at the end */
};

/* Record a message (printf format) and return rv. */
apr_status_t weblab_dbadm_fail(weblab_db_admin_t *adm, apr_status_t rv,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "database error while <what>: <sql error>", returns APR_EGENERAL or rv. */
apr_status_t weblab_dbadm_sql_fail(weblab_db_admin_t *adm, apr_status_t rv,
                                   const char *what);

/* Open (depth 0) or join a write transaction; txn_end commits or rolls back
 * at depth 0 according to rv and returns rv (or the commit failure). */
apr_status_t weblab_dbadm_txn_begin(weblab_db_admin_t *adm);
apr_status_t weblab_dbadm_txn_end(weblab_db_admin_t *adm, apr_status_t rv);

/* Ids by name; APR_ENOENT with a message "unknown user 'x'" when missing. */
apr_status_t weblab_dbadm_user_id(weblab_db_admin_t *adm, apr_int64_t *id,
                                  const char *login);
apr_status_t weblab_dbadm_group_id(weblab_db_admin_t *adm, apr_int64_t *id,
                                   const char *name);
apr_status_t weblab_dbadm_role_id(weblab_db_admin_t *adm, apr_int64_t *id,
                                  const char *name);
apr_status_t weblab_dbadm_experiment_id(weblab_db_admin_t *adm,
                                        apr_int64_t *id, const char *exp,
                                        const char *cat);

/* Check s with weblab_db_admin_check; APR_EINVAL and the message if bad. */
apr_status_t weblab_dbadm_check(weblab_db_admin_t *adm, const char *kind,
                                const char *s);

/* A count from "SELECT COUNT(*) ... WHERE x = ?" with one integer. */
apr_status_t weblab_dbadm_count(weblab_db_admin_t *adm, apr_int64_t *n,
                                const char *sql, apr_int64_t arg);

#endif
