/* Internals shared by the two files of the MySQL/MariaDB backend
 * (weblab_sql_mysql.c, weblab_sql_mysql_dsn.c). Nothing else includes it. */
#ifndef WEBLAB_SQL_MYSQL_H
#define WEBLAB_SQL_MYSQL_H

#include "weblab_sql_private.h"

/* Binary, so that comparisons and UNIQUE keys behave as on SQLite. */
#define WEBLAB_MYSQL_COLLATION "utf8mb4_bin"

/* A parsed mysql:// DSN; strings from the parse pool, password may be
 * NULL, unix_socket NULL unless given. */
typedef struct weblab_mysql_dsn_t {
    const char *user;
    const char *password;
    const char *host;
    unsigned int port;
    const char *dbname;         /* "" when the DSN names none */
    const char *unix_socket;
} weblab_mysql_dsn_t;

/* Parse target (the DSN after "mysql:"). APR_EINVAL when malformed. */
apr_status_t weblab_sql_mysql_parse_dsn(weblab_mysql_dsn_t *d,
                                        const char *target, apr_pool_t *p);

/* Split a ';'-separated script of the SQLite dialect into MariaDB
 * statements (array of const char *, from p); comments are dropped. */
apr_array_header_t *weblab_sql_mysql_script_split(const char *script,
                                                  apr_pool_t *p);

#endif
