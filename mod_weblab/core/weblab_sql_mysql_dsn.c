/* MySQL/MariaDB backend, part 1: the DSN and the SQL dialect.
 *
 * DSN: mysql://[user[:password]@]host[:port]/[dbname][?unix_socket=PATH]
 * with %XX escapes in every part. The schemas in conf/ are written in the
 * SQLite dialect; weblab_sql_mysql_script_split() turns them into
 * statements MariaDB accepts (docs/INTERNALS.md, "SQL dialects"). */
#include "weblab_sql_mysql.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

/* Decode %XX in s[0..n); NULL on a bad escape. */
static char *pct_decode(const char *s, apr_size_t n, apr_pool_t *p)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        if (i + 2 >= n || !apr_isxdigit(s[i + 1])
            || !apr_isxdigit(s[i + 2])) {
            return NULL;
        }
        {
            char hex[3] = {s[i + 1], s[i + 2], 0};

            *o++ = (char)strtol(hex, NULL, 16);
        }
        i += 2;
    }
    *o = 0;
    return out;
}

apr_status_t weblab_sql_mysql_parse_dsn(weblab_mysql_dsn_t *d,
                                        const char *target, apr_pool_t *p)
{
    const char *auth, *end, *at, *colon, *host, *q;
    apr_size_t alen;

    memset(d, 0, sizeof(*d));
    d->port = 3306;
    if (strncmp(target, "//", 2) != 0) {
        return APR_EINVAL;
    }
    auth = target + 2;
    alen = strcspn(auth, "/?");
    end = auth + alen;
    /* userinfo ends at the last '@' of the authority */
    at = NULL;
    for (q = auth; q < end; q++) {
        if (*q == '@') {
            at = q;
        }
    }
    host = auth;
    if (at) {
        colon = memchr(auth, ':', at - auth);
        d->user = pct_decode(auth, (colon ? colon : at) - auth, p);
        if (colon) {
            d->password = pct_decode(colon + 1, at - colon - 1, p);
            if (!d->password) {
                return APR_EINVAL;
            }
        }
        if (!d->user) {
            return APR_EINVAL;
        }
        host = at + 1;
    }
    if (*host == '[') {                         /* [ipv6]:port */
        const char *rb = memchr(host, ']', end - host);

        if (!rb) {
            return APR_EINVAL;
        }
        d->host = apr_pstrmemdup(p, host + 1, rb - host - 1);
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
    }
    else {
        colon = memchr(host, ':', end - host);
        d->host = pct_decode(host, (colon ? colon : end) - host, p);
    }
    if (colon) {
        char *e;
        long port = strtol(colon + 1, &e, 10);

        if (e != end || port < 1 || port > 65535) {
            return APR_EINVAL;
        }
        d->port = (unsigned int)port;
    }
    if (!d->host) {
        return APR_EINVAL;
    }
    if (*end == '/') {
        apr_size_t n = strcspn(end + 1, "?");

        d->dbname = pct_decode(end + 1, n, p);
        end += 1 + n;
    }
    if (!d->dbname || strlen(d->dbname) > 64) {
        return APR_EINVAL;
    }
    while (*end == '?' || *end == '&') {
        const char *kv = end + 1;
        apr_size_t n = strcspn(kv, "&");
        const char *eq = memchr(kv, '=', n);

        if (!eq || (apr_size_t)(eq - kv) != 11
            || strncmp(kv, "unix_socket", 11) != 0) {
            return APR_EINVAL;              /* the only option we know */
        }
        d->unix_socket = pct_decode(eq + 1, kv + n - eq - 1, p);
        if (!d->unix_socket) {
            return APR_EINVAL;
        }
        end = kv + n;
    }
    if (*end) {
        return APR_EINVAL;
    }
    if (!*d->host) {
        d->host = d->unix_socket ? "localhost" : "127.0.0.1";
    }
    return APR_SUCCESS;
}

/* ---- dialect ---- */

static int word_at(const char *s, const char *w)
{
    apr_size_t n = strlen(w);

    return !strncasecmp(s, w, n) && !apr_isalnum(s[n]) && s[n] != '_';
}

/* One CREATE TABLE of the SQLite dialect, as MariaDB wants it: AUTOINCREMENT
 * is AUTO_INCREMENT; TEXT is LONGTEXT (SQLite's TEXT has no 64 KiB limit);
 * InnoDB, utf8mb4 and a binary collation (SQLite compares bytes: 'Ana' and
 * 'ana' are two logins). */
static const char *translate(const char *stmt, apr_pool_t *p)
{
    char *out = apr_palloc(p, strlen(stmt) * 2 + 128), *o = out;
    const char *s = stmt;
    int create_table;
    char quote = 0;

    while (apr_isspace(*s)) {
        s++;
    }
    create_table = word_at(s, "CREATE")
                   && word_at(s + 6 + strspn(s + 6, " \t\r\n"), "TABLE");
    for (; *s; s++) {
        if (quote) {
            *o++ = *s;
            if (*s == quote) {
                quote = 0;
            }
            continue;
        }
        if (*s == '\'' || *s == '"' || *s == '`') {
            quote = *s;
            *o++ = *s;
            continue;
        }
        if (create_table && (s == stmt || !(apr_isalnum(s[-1])
                                            || s[-1] == '_'))) {
            if (word_at(s, "AUTOINCREMENT")) {
                memcpy(o, "AUTO_INCREMENT", 14);
                o += 14;
                s += 12;
                continue;
            }
            if (word_at(s, "TEXT")) {
                memcpy(o, "LONGTEXT", 8);
                o += 8;
                s += 3;
                continue;
            }
        }
        *o++ = *s;
    }
    *o = 0;
    if (create_table) {
        return apr_pstrcat(p, out, " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
                           " COLLATE=", WEBLAB_MYSQL_COLLATION, NULL);
    }
    return out;
}

apr_array_header_t *weblab_sql_mysql_script_split(const char *script,
                                                  apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 32, sizeof(const char *));
    char *buf = apr_palloc(p, strlen(script) + 1), *b = buf;
    const char *s;
    char quote = 0;

    for (s = script; *s; s++) {
        if (quote) {
            *b++ = *s;
            if (*s == quote) {
                quote = 0;
            }
            continue;
        }
        if (s[0] == '-' && s[1] == '-') {       /* comment to end of line */
            s += strcspn(s, "\n");
            if (!*s) {
                break;
            }
            *b++ = '\n';
            continue;
        }
        if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");

            if (!e) {
                break;
            }
            s = e + 1;
            *b++ = ' ';
            continue;
        }
        if (*s == '\'' || *s == '"' || *s == '`') {
            quote = *s;
        }
        if (*s == ';') {
            *b = 0;
            if (buf[strspn(buf, " \t\r\n")]) {
                APR_ARRAY_PUSH(out, const char *) = translate(buf, p);
            }
            buf = b = apr_palloc(p, strlen(s) + 1);
            continue;
        }
        *b++ = *s;
    }
    *b = 0;
    if (buf[strspn(buf, " \t\r\n")]) {
        APR_ARRAY_PUSH(out, const char *) = translate(buf, p);
    }
    return out;
}

/* %-escape everything but unreserved characters. */
const char *weblab_pct_encode(const char *s, apr_pool_t *p)
{
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (apr_isalnum(ch) || strchr("-._~", ch)) {
            *o++ = (char)ch;
        }
        else {
            o += apr_snprintf(o, 4, "%%%02X", ch);
        }
    }
    *o = 0;
    return out;
}

const char *weblab_sql_dsn_mysql(const char *user, const char *password,
                                 const char *host, int port,
                                 const char *dbname, const char *socket,
                                 apr_pool_t *p)
{
    const char *auth = "";

    if (user && *user) {
        auth = apr_pstrcat(p, weblab_pct_encode(user, p),
                           password && *password ? ":" : "",
                           password && *password ? weblab_pct_encode(password, p)
                                                 : "", "@", NULL);
    }
    return apr_pstrcat(p, "mysql://", auth,
                       host && strchr(host, ':') ? "[" : "",
                       host && *host ? (strchr(host, ':') ? host
                                        : weblab_pct_encode(host, p)) : "",
                       host && strchr(host, ':') ? "]" : "",
                       port > 0 ? apr_psprintf(p, ":%d", port) : "", "/",
                       weblab_pct_encode(dbname ? dbname : "", p),
                       socket ? "?unix_socket=" : "",
                       socket ? weblab_pct_encode(socket, p) : "", NULL);
}

apr_status_t weblab_sql_dsn_mysql_parts(const char *dsn, const char **user,
                                        const char **password,
                                        const char **host,
                                        const char **dbname,
                                        const char **server,
                                        const char *admin_user,
                                        const char *admin_password,
                                        apr_pool_t *p)
{
    weblab_mysql_dsn_t d;

    if (strncmp(dsn, "mysql:", 6)
        || weblab_sql_mysql_parse_dsn(&d, dsn + 6, p) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    *user = d.user ? d.user : "";
    *password = d.password;
    *host = d.host;
    *dbname = d.dbname;
    *server = weblab_sql_dsn_mysql(admin_user, admin_password,
                                   d.unix_socket ? "" : d.host,
                                   d.unix_socket ? 0 : (int)d.port, "",
                                   d.unix_socket, p);
    return APR_SUCCESS;
}
