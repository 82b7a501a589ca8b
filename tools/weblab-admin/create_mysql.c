/* weblab-admin create with MySQL/MariaDB databases: the DSN from the
 * --db-* / --coordination-db-* options, and a database ready to receive the
 * tables: an existing empty one (or, with --force, one whose tables are
 * dropped, as the original does), or one created together with its user
 * when MySQL administrator credentials are given (--mysql-admin-username
 * and --mysql-admin-password, or asked for on a terminal). Without them and
 * without a terminal (or with --not-interactive) create exits with -5, as
 * the original. */
#include "admin.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_sha1.h>

/* Names that go into DDL (which takes no parameters) are checked first. */
static int plain_name(const char *s, const char *extra, apr_size_t max)
{
    const char *c;

    for (c = s; *c; c++) {
        if (!apr_isalnum(*c) && !strchr(extra, *c)) {
            return 0;
        }
    }
    return *s && strlen(s) <= max;
}

int admin_mysql_dsn(const char **dsn, const char *what, const char *host,
                    const char *port_s, const char *user, const char *passwd,
                    const char *name, apr_pool_t *p)
{
    int port = 0;

    if (port_s) {
        char *end;
        long v = strtol(port_s, &end, 10);

        if (*end || v < 1 || v > 65535) {
            return admin_error("--%s-port must be between 1 and 65535", what);
        }
        port = (int)v;
    }
    if (!plain_name(user, "_.-", 80)) {
        return admin_error("--%s-user '%s': use letters, digits, '_', '.' "
                           "and '-'", what, user);
    }
    if (!plain_name(host, "_.-:", 255)) {
        return admin_error("--%s-host '%s' is not a host name", what, host);
    }
    *dsn = weblab_sql_dsn_mysql(user, passwd, host, port, name, NULL, p);
    return ADMIN_EXIT_OK;
}

/* MySQL's stored form of a password: '*' and the hex SHA1 of its SHA1, so
 * that the password itself never appears in a statement. */
static const char *native_hash(const char *pw, apr_pool_t *p)
{
    unsigned char d1[APR_SHA1_DIGESTSIZE], d2[APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t ctx;
    char *out = apr_palloc(p, 2 * APR_SHA1_DIGESTSIZE + 2);
    int i;

    apr_sha1_init(&ctx);
    apr_sha1_update(&ctx, pw, (unsigned int)strlen(pw));
    apr_sha1_final(d1, &ctx);
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, d1, sizeof(d1));
    apr_sha1_final(d2, &ctx);
    out[0] = '*';
    for (i = 0; i < APR_SHA1_DIGESTSIZE; i++) {
        snprintf(out + 1 + 2 * i, 3, "%02X", d2[i]);
    }
    return out;
}

/* A terminal prompt (echo off for the password); NULL without one. */
static const char *ask(const char *prompt, int secret, apr_pool_t *p)
{
    char buf[256];
    apr_size_t n = sizeof(buf);

    if (secret) {
        return apr_password_get(prompt, buf, &n) == APR_SUCCESS
            ? apr_pstrdup(p, buf) : NULL;
    }
    fputs(prompt, stderr);
    if (!fgets(buf, sizeof(buf), stdin)) {
        return NULL;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return apr_pstrdup(p, buf);
}

/* Drop the tables of the database c is connected to (--force). */
static int drop_tables(weblab_sql_t *c, const char *name, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    const char *script = "SET FOREIGN_KEY_CHECKS = 0;";

    if (weblab_sql_select(c, &rows, p, "SELECT table_name FROM"
                          " information_schema.tables WHERE table_schema ="
                          " DATABASE()", NULL) != APR_SUCCESS) {
        return admin_error("cannot list the tables of %s: %s", name,
                           weblab_sql_error(c));
    }
    while (weblab_sql_next(rows)) {
        const char *t = weblab_sql_str(rows, 0);

        if (!plain_name(t, "_-$", 64)) {
            return admin_error("the database %s has a table '%s' that "
                               "weblab-admin will not drop: use an empty "
                               "database", name, t);
        }
        script = apr_pstrcat(p, script, "DROP TABLE \"", t, "\";", NULL);
    }
    script = apr_pstrcat(p, script, "SET FOREIGN_KEY_CHECKS = 1", NULL);
    if (weblab_sql_exec_script(c, script) != APR_SUCCESS) {
        return admin_error("cannot drop the tables of %s: %s", name,
                           weblab_sql_error(c));
    }
    return ADMIN_EXIT_OK;
}

/* The database is reachable as its user: it must be empty (--force: made
 * so). */
static int check_empty(weblab_sql_t *c, const char *name, int force,
                       apr_pool_t *p)
{
    weblab_sql_rows_t *rows;

    if (weblab_sql_select(c, &rows, p, "SELECT COUNT(*) FROM"
                          " information_schema.tables WHERE table_schema ="
                          " DATABASE()", NULL) != APR_SUCCESS
        || !weblab_sql_next(rows)) {
        return admin_error("cannot list the tables of %s: %s", name,
                           weblab_sql_error(c));
    }
    if (weblab_sql_int(rows, 0) == 0) {
        return ADMIN_EXIT_OK;
    }
    if (!force) {
        return admin_error("the MySQL database %s is not empty: use --force "
                           "to replace its tables, or an empty database",
                           name);
    }
    return drop_tables(c, name, p);
}

/* As the MySQL administrator: the database (utf8mb4, binary collation)
 * and its user, allowed everything on it from anywhere. */
static int create_db(const char *server_dsn, const char *name,
                     const char *user, const char *passwd, apr_pool_t *p)
{
    weblab_sql_t *c;
    const char *ident = passwd && *passwd
        ? apr_pstrcat(p, " IDENTIFIED BY PASSWORD '", native_hash(passwd, p),
                      "'", NULL) : "";
    const char *script;

    if (weblab_sql_open(&c, server_dsn, p) != APR_SUCCESS) {
        return admin_error("cannot connect to MySQL as its administrator "
                           "(%s)", weblab_sql_dsn_redact(server_dsn, p));
    }
    script = apr_psprintf(p,
        "CREATE DATABASE IF NOT EXISTS \"%s\" CHARACTER SET utf8mb4"
        " COLLATE utf8mb4_bin;"
        "CREATE USER IF NOT EXISTS '%s'@'%%'%s;"
        "CREATE USER IF NOT EXISTS '%s'@'localhost'%s;"
        "GRANT ALL PRIVILEGES ON \"%s\".* TO '%s'@'%%';"
        "GRANT ALL PRIVILEGES ON \"%s\".* TO '%s'@'localhost'",
        name, user, ident, user, ident, name, user, name, user);
    if (weblab_sql_exec_script(c, script) != APR_SUCCESS) {
        const char *e = apr_pstrdup(p, weblab_sql_error(c));

        weblab_sql_close(c);
        return admin_error("creating the MySQL database %s and user %s: %s",
                           name, user, e);
    }
    weblab_sql_close(c);
    return ADMIN_EXIT_OK;
}

int admin_mysql_prepare(const char *dsn, const char *admin_user,
                        const char *admin_passwd, int force, int interactive,
                        apr_pool_t *p)
{
    const char *user, *passwd, *host, *name, *server;
    weblab_sql_t *c;
    int rc;

    if (weblab_sql_dsn_mysql_parts(dsn, &user, &passwd, &host, &name, &server,
                                   admin_user ? admin_user : "",
                                   admin_passwd, p) != APR_SUCCESS) {
        return admin_error("malformed database DSN");
    }
    if (weblab_sql_open(&c, dsn, p) == APR_SUCCESS) {
        rc = check_empty(c, name, force, p);
        weblab_sql_close(c);
        return rc;
    }
    if (!admin_user && interactive && isatty(STDIN_FILENO)) {
        fprintf(stderr, "The MySQL database %s on %s cannot be opened as %s."
                " weblab-admin can create it with the credentials of a MySQL"
                " administrator.\n", name, host, user);
        admin_user = ask("MySQL administrator username: ", 0, p);
        admin_passwd = ask("MySQL administrator password: ", 1, p);
        weblab_sql_dsn_mysql_parts(dsn, &user, &passwd, &host, &name,
                                   &server, admin_user ? admin_user : "",
                                   admin_passwd, p);
    }
    if (!admin_user || !*admin_user) {
        admin_error("the MySQL database %s on %s cannot be opened as %s; "
                    "give --mysql-admin-username and --mysql-admin-password "
                    "to create it", name, host, user);
        return ADMIN_EXIT_NO_DB;
    }
    if ((rc = create_db(server, name, user, passwd, p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_sql_open(&c, dsn, p) != APR_SUCCESS) {
        return admin_error("the MySQL database %s was created but cannot be "
                           "opened as %s (does that user exist with another "
                           "password?)", name, user);
    }
    rc = check_empty(c, name, force, p);
    weblab_sql_close(c);
    return rc;
}
