/* Data database administration: the handle, transactions, input checks,
 * dates and the rows every deployment starts with. Users and groups are in
 * weblab_db_admin_users.c, permissions in weblab_db_admin_perms.c,
 * experiments, instances and uses in weblab_db_admin_labs.c. */
#include "weblab_db_admin_private.h"
#include "weblab_schema.h"

#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_time.h>

apr_status_t weblab_db_admin_make(weblab_db_admin_t **adm, weblab_sql_t *c,
                                  apr_pool_t *p)
{
    weblab_db_admin_t *a = apr_pcalloc(p, sizeof(*a));

    a->c = c;
    a->pool = p;
    a->error = "";
    *adm = a;
    return APR_SUCCESS;
}

const char *weblab_db_admin_error(const weblab_db_admin_t *adm)
{
    return adm->error ? adm->error : "";
}

apr_status_t weblab_dbadm_fail(weblab_db_admin_t *adm, apr_status_t rv,
                               const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    adm->error = apr_pvsprintf(adm->pool, fmt, ap);
    va_end(ap);
    return rv;
}

apr_status_t weblab_dbadm_sql_fail(weblab_db_admin_t *adm, apr_status_t rv,
                                   const char *what)
{
    adm->error = apr_psprintf(adm->pool, "database error while %s: %s", what,
                              weblab_sql_error(adm->c));
    return rv != APR_SUCCESS ? rv : APR_EGENERAL;
}

/* ---- transactions ---- */

apr_status_t weblab_dbadm_txn_begin(weblab_db_admin_t *adm)
{
    if (adm->depth == 0) {
        apr_status_t rv = weblab_sql_begin(adm->c, 1);

        if (rv != APR_SUCCESS) {
            return weblab_dbadm_sql_fail(adm, rv, "starting a transaction");
        }
        adm->failed = 0;
    }
    adm->depth++;
    return APR_SUCCESS;
}

apr_status_t weblab_dbadm_txn_end(weblab_db_admin_t *adm, apr_status_t rv)
{
    if (rv != APR_SUCCESS) {
        adm->failed = 1;
    }
    if (--adm->depth > 0) {
        return rv;
    }
    if (adm->failed) {
        weblab_sql_rollback(adm->c);
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    rv = weblab_sql_commit(adm->c);
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "committing");
    }
    return APR_SUCCESS;
}

apr_status_t weblab_db_admin_begin(weblab_db_admin_t *adm)
{
    return weblab_dbadm_txn_begin(adm);
}

apr_status_t weblab_db_admin_end(weblab_db_admin_t *adm, int ok)
{
    if (adm->depth <= 0) {
        return weblab_dbadm_fail(adm, APR_EINVAL, "no transaction to end");
    }
    if (!ok && !adm->failed) {
        adm->failed = 1;
        if (!adm->error || !*adm->error) {
            adm->error = "rolled back";
        }
    }
    return weblab_dbadm_txn_end(adm, ok ? APR_SUCCESS : APR_EGENERAL);
}

/* ---- look-ups ---- */

static apr_status_t id_by(weblab_db_admin_t *adm, apr_int64_t *id,
                          const char *sql, const char *types,
                          const char *a, const char *b)
{
    weblab_sql_rows_t *rows;
    apr_pool_t *tmp;
    apr_status_t rv;

    apr_pool_create(&tmp, adm->pool);
    rv = weblab_sql_select(adm->c, &rows, tmp, sql, types, a, b);
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "looking up a name");
    }
    else if (weblab_sql_next(rows)) {
        *id = weblab_sql_int(rows, 0);
    }
    else {
        rv = APR_ENOENT;
    }
    apr_pool_destroy(tmp);
    return rv;
}

apr_status_t weblab_dbadm_user_id(weblab_db_admin_t *adm, apr_int64_t *id,
                                  const char *login)
{
    apr_status_t rv = id_by(adm, id, "SELECT id FROM \"User\" WHERE login = ?",
                            "s", login, NULL);

    if (rv == APR_ENOENT) {
        return weblab_dbadm_fail(adm, rv, "unknown user '%s'", login);
    }
    return rv;
}

apr_status_t weblab_dbadm_group_id(weblab_db_admin_t *adm, apr_int64_t *id,
                                   const char *name)
{
    apr_status_t rv = id_by(adm, id,
                            "SELECT id FROM \"Group\" WHERE name = ?"
                            " ORDER BY id", "s", name, NULL);

    if (rv == APR_ENOENT) {
        return weblab_dbadm_fail(adm, rv, "unknown group '%s'", name);
    }
    return rv;
}

apr_status_t weblab_dbadm_role_id(weblab_db_admin_t *adm, apr_int64_t *id,
                                  const char *name)
{
    apr_status_t rv = id_by(adm, id, "SELECT id FROM Role WHERE name = ?",
                            "s", name, NULL);

    if (rv == APR_ENOENT) {
        return weblab_dbadm_fail(adm, rv, "unknown role '%s' (federated, "
                                 "administrator, instructor or student)",
                                 name);
    }
    return rv;
}

apr_status_t weblab_dbadm_experiment_id(weblab_db_admin_t *adm,
                                        apr_int64_t *id, const char *exp,
                                        const char *cat)
{
    apr_status_t rv = id_by(adm, id,
                            "SELECT e.id FROM Experiment e"
                            " JOIN ExperimentCategory c ON c.id = e.category_id"
                            " WHERE e.name = ? AND c.name = ?",
                            "ss", exp, cat);

    if (rv == APR_ENOENT) {
        return weblab_dbadm_fail(adm, rv, "unknown experiment '%s@%s'", exp,
                                 cat);
    }
    return rv;
}

apr_status_t weblab_dbadm_count(weblab_db_admin_t *adm, apr_int64_t *n,
                                const char *sql, apr_int64_t arg)
{
    weblab_sql_rows_t *rows;
    apr_pool_t *tmp;
    apr_status_t rv;

    apr_pool_create(&tmp, adm->pool);
    rv = weblab_sql_select(adm->c, &rows, tmp, sql, "i", arg);
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "counting rows");
    }
    else {
        *n = weblab_sql_next(rows) ? weblab_sql_int(rows, 0) : 0;
    }
    apr_pool_destroy(tmp);
    return rv;
}

/* ---- input checks ---- */

/* Characters a name may hold besides letters, digits and UTF-8 bytes: none
 * of them means anything to a shell, to SQL or inside an Apache directive. */
#define NAME_EXTRA " ._-+/,"

static int utf8_or_alnum(unsigned char ch)
{
    return ch >= 0x80 || apr_isalnum(ch);
}

static const char *check_name(const char *kind, const char *s, size_t max,
                              const char *extra, apr_pool_t *p)
{
    size_t n = strlen(s), i;

    if (n == 0) {
        return apr_psprintf(p, "the %s must not be empty", kind);
    }
    if (n > max) {
        return apr_psprintf(p, "the %s is longer than %lu characters", kind,
                            (unsigned long)max);
    }
    if (s[0] == ' ' || s[n - 1] == ' ') {
        return apr_psprintf(p, "the %s '%s' starts or ends with a space",
                            kind, s);
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (!utf8_or_alnum(ch) && !strchr(extra, ch)) {
            if (ch < 0x20 || ch == 0x7f) {
                return apr_psprintf(p, "the %s contains a control character",
                                    kind);
            }
            return apr_psprintf(p, "the %s '%s' contains '%c': use letters, "
                                "digits and any of \"%s\"", kind, s, ch,
                                extra);
        }
    }
    return NULL;
}

static const char *check_full_name(const char *s, apr_pool_t *p)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 200) {
        return "the full name must have 1 to 200 characters";
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch < 0x20 || ch == 0x7f) {
            return "the full name contains a control character";
        }
        if (strchr("\"`$\\;|&<>{}[]*?#%!~^", ch)) {
            return apr_psprintf(p, "the full name '%s' contains '%c'", s, ch);
        }
    }
    return NULL;
}

static const char *check_email(const char *s, apr_pool_t *p)
{
    const char *at = strchr(s, '@');
    size_t i;

    if (!*s) {
        return NULL;
    }
    if (strlen(s) > 255 || !at || at == s || !at[1] || strchr(at + 1, '@')) {
        return apr_psprintf(p, "'%s' is not an email address", s);
    }
    for (i = 0; s[i]; i++) {
        if (!apr_isalnum(s[i]) && !strchr("._+-@", s[i])) {
            return apr_psprintf(p, "the email address '%s' contains '%c'", s,
                                s[i]);
        }
    }
    return NULL;
}

static const char *check_url(const char *s, apr_pool_t *p)
{
    size_t i;

    if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
        return apr_psprintf(p, "the url '%s' must start with http:// or "
                            "https://", s);
    }
    if (strlen(s) > 600) {
        return "the url is longer than 600 characters";
    }
    for (i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch <= 0x20 || ch >= 0x7f || strchr("\"'`\\<>{}|^", ch)) {
            return apr_psprintf(p, "the url '%s' contains a character that "
                                "is not allowed in a URL", s);
        }
    }
    return NULL;
}

const char *weblab_db_admin_check(const char *kind, const char *s,
                                  apr_pool_t *p)
{
    if (!s) {
        return apr_psprintf(p, "the %s is missing", kind);
    }
    if (!strcmp(kind, "login")) {
        const char *why = check_name(kind, s, 32, "._-@+", p);

        if (!why && !apr_isalnum(s[0])) {
            why = apr_psprintf(p, "the login '%s' must start with a letter "
                               "or a digit", s);
        }
        return why;
    }
    if (!strcmp(kind, "full name")) {
        return check_full_name(s, p);
    }
    if (!strcmp(kind, "email")) {
        return check_email(s, p);
    }
    if (!strcmp(kind, "group")) {
        return check_name(kind, s, 250, NAME_EXTRA, p);
    }
    if (!strcmp(kind, "experiment") || !strcmp(kind, "instance")) {
        return check_name(kind, s, 255, "._-+", p);
    }
    if (!strcmp(kind, "category")) {
        return check_name(kind, s, 255, NAME_EXTRA, p);
    }
    if (!strcmp(kind, "resource")) {
        const char *at = strchr(s, '@');
        const char *why;

        if (!at) {
            return apr_psprintf(p, "the resource '%s' must look like "
                                "NAME@TYPE (dummy1@dummy_queue)", s);
        }
        why = check_name("resource name", apr_pstrmemdup(p, s, at - s), 255,
                         "._-+", p);
        return why ? why : check_name("resource type", at + 1, 255, "._-+",
                                      p);
    }
    if (!strcmp(kind, "role") || !strcmp(kind, "client")) {
        return check_name(kind, s, 20, "_-.", p);
    }
    if (!strcmp(kind, "url")) {
        return check_url(s, p);
    }
    if (!strcmp(kind, "transport")) {
        return !strcmp(s, "xmlrpc") || !strcmp(s, "http") ? NULL
            : apr_psprintf(p, "unknown transport '%s' (xmlrpc or http)", s);
    }
    if (!strcmp(kind, "api")) {
        return !*s || !strcmp(s, "1") || !strcmp(s, "2")
            || !strcmp(s, "2_concurrent") ? NULL
            : apr_psprintf(p, "unknown api '%s' (1, 2 or 2_concurrent)", s);
    }
    return apr_psprintf(p, "unknown kind of name '%s'", kind);
}

apr_status_t weblab_dbadm_check(weblab_db_admin_t *adm, const char *kind,
                                const char *s)
{
    const char *why = weblab_db_admin_check(kind, s, adm->pool);

    return why ? weblab_dbadm_fail(adm, APR_EINVAL, "%s", why) : APR_SUCCESS;
}

const char *weblab_db_admin_split_exp(const char **exp, const char **cat,
                                      const char *id, apr_pool_t *p)
{
    const char *at = id ? strchr(id, '@') : NULL;
    const char *why;

    if (!at) {
        return apr_psprintf(p, "'%s' is not an experiment id: use "
                            "NAME@CATEGORY (dummy@Dummy experiments)",
                            id ? id : "");
    }
    *exp = apr_pstrmemdup(p, id, at - id);
    *cat = apr_pstrdup(p, at + 1);
    why = weblab_db_admin_check("experiment", *exp, p);
    return why ? why : weblab_db_admin_check("category", *cat, p);
}

const char *weblab_db_admin_scope_name(weblab_db_admin_scope_e scope)
{
    switch (scope) {
    case WEBLAB_DB_ADMIN_USER:
        return "user";
    case WEBLAB_DB_ADMIN_GROUP:
        return "group";
    default:
        return "role";
    }
}

const char *weblab_db_admin_date(apr_time_t t, int years_ahead, apr_pool_t *p)
{
    apr_time_exp_t tm;

    apr_time_exp_gmt(&tm, t);
    tm.tm_year += years_ahead;
    if (years_ahead && tm.tm_mon == 1 && tm.tm_mday == 29) {
        int y = tm.tm_year + 1900;

        if (!((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
            tm.tm_mday = 28;
        }
    }
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%06d",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_usec);
}

/* ---- set-up ---- */

static apr_status_t role_permission(weblab_db_admin_t *adm, const char *role,
                                    const char *type, const char *permanent_id,
                                    const char *comments, const char *pname,
                                    const char *pvalue)
{
    const char *now = weblab_db_admin_date(apr_time_now(), 0, adm->pool);
    apr_int64_t role_id, perm_id;
    apr_status_t rv = weblab_dbadm_role_id(adm, &role_id, role);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_exec(adm->c, NULL,
                         "INSERT INTO RolePermission (role_id,"
                         " permission_type, permanent_id, date, comments)"
                         " VALUES (?, ?, ?, ?, ?)",
                         "issss", role_id, type, permanent_id, now, comments);
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "adding a role permission");
    }
    perm_id = weblab_sql_last_id(adm->c);
    if (pname) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO RolePermissionParameter"
                             " (permission_id, permission_type_parameter,"
                             " value) VALUES (?, ?, ?)",
                             "iss", perm_id, pname, pvalue);
        if (rv != APR_SUCCESS) {
            return weblab_dbadm_sql_fail(adm, rv, "adding a role permission");
        }
    }
    return APR_SUCCESS;
}

static apr_status_t bootstrap_rows(weblab_db_admin_t *adm)
{
    static const char *const roles[] = {
        "federated", "administrator", "instructor", "student", NULL
    };
    static const char *const auth_types[] = {
        "DB", "LDAP", "TRUSTED-IP-ADDRESSES", "FACEBOOK", "OPENID", NULL
    };
    apr_status_t rv;
    int i;

    for (i = 0; roles[i]; i++) {
        rv = weblab_sql_exec(adm->c, NULL, "INSERT INTO Role (name) VALUES (?)",
                             "s", roles[i]);
        if (rv != APR_SUCCESS) {
            if (weblab_sql_is_constraint(adm->c)) {
                return weblab_dbadm_fail(adm, APR_EEXIST, "the database "
                                         "already holds a deployment");
            }
            return weblab_dbadm_sql_fail(adm, rv, "adding the roles");
        }
    }
    for (i = 0; auth_types[i]; i++) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO AuthType (name) VALUES (?)", "s",
                             auth_types[i]);
        if (rv != APR_SUCCESS) {
            return weblab_dbadm_sql_fail(adm, rv, "adding the auth types");
        }
    }
    rv = weblab_sql_exec(adm->c, NULL,
                         "INSERT INTO Auth (auth_type_id, name, priority)"
                         " SELECT id, 'WebLab DB', 1 FROM AuthType"
                         " WHERE name = 'DB'", NULL);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO Auth (auth_type_id, name, priority)"
                             " SELECT id, 'OPENID', 7 FROM AuthType"
                             " WHERE name = 'OPENID'", NULL);
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "adding the auths");
    }
    rv = role_permission(adm, "federated", "access_forward",
                         "federated_role::access_forward",
                         "Access to forward external accesses to all users "
                         "with role 'federated'", NULL, NULL);
    if (rv == APR_SUCCESS) {
        rv = role_permission(adm, "administrator", "admin_panel_access",
                             "administrator_role::admin_panel_access",
                             "Access to the admin panel for administrator "
                             "role with full_privileges",
                             "full_privileges", "True");
    }
    if (rv == APR_SUCCESS) {
        rv = role_permission(adm, "administrator", "access_all_labs",
                             "administrator_role::access_all_labs",
                             "Access all the laboratories", NULL, NULL);
    }
    return rv;
}

apr_status_t weblab_db_admin_bootstrap(weblab_db_admin_t *adm)
{
    apr_status_t rv = weblab_dbadm_txn_begin(adm);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_schema_create_data(adm->c);
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "creating the tables");
    }
    else {
        rv = bootstrap_rows(adm);
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_property_set(weblab_db_admin_t *adm,
                                          const char *name, const char *value)
{
    apr_status_t rv;

    if (!name || !*name || strlen(name) > 50) {
        return weblab_dbadm_fail(adm, APR_EINVAL, "a client property name "
                                 "must have 1 to 50 characters");
    }
    rv = weblab_dbadm_txn_begin(adm);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_exec(adm->c, NULL,
                         "DELETE FROM ClientProperties WHERE name = ?", "s",
                         name);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO ClientProperties (name, value)"
                             " VALUES (?, ?)", "ss", name, value);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "setting a client property");
    }
    return weblab_dbadm_txn_end(adm, rv);
}
