/* Users and groups of the data database (spec 5.1): User, UserAuth with the
 * "WebLab DB" credential, Group, UserIsMemberOf. */
#include "weblab_db_admin_private.h"
#include "weblab_password.h"

#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_lib.h>

/* The Auth row of the DB auth type with the best priority ("WebLab DB"). */
static apr_status_t db_auth_id(weblab_db_admin_t *adm, apr_int64_t *id)
{
    weblab_sql_rows_t *rows;
    apr_pool_t *tmp;
    apr_status_t rv;

    apr_pool_create(&tmp, adm->pool);
    rv = weblab_sql_select(adm->c, &rows, tmp,
                           "SELECT a.id FROM Auth a"
                           " JOIN AuthType t ON t.id = a.auth_type_id"
                           " WHERE t.name = 'DB' ORDER BY a.priority", NULL);
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "looking up the DB auth");
    }
    else if (weblab_sql_next(rows)) {
        *id = weblab_sql_int(rows, 0);
    }
    else {
        rv = weblab_dbadm_fail(adm, APR_ENOENT, "the database has no auth "
                               "of type DB (\"WebLab DB\")");
    }
    apr_pool_destroy(tmp);
    return rv;
}

/* "<salt>{alg}<hex>" as the original's regex reads it, or a bcrypt/APR hash
 * ("$2y$..", "$apr1$.."). */
static int is_stored_hash(const char *h)
{
    const char *open = strchr(h, '{'), *close, *s;

    if (h[0] == '$') {
        for (s = h; *s; s++) {
            if (!apr_isalnum(*s) && !strchr("$./", *s)) {
                return 0;
            }
        }
        return strlen(h) >= 20;
    }
    if (!open || !(close = strchr(open, '}')) || close == open + 1
        || !close[1]) {
        return 0;
    }
    for (s = h; s < open; s++) {
        if (!apr_isalnum(*s)) {
            return 0;
        }
    }
    for (s = open + 1; s < close; s++) {
        if (!apr_isalnum(*s) && *s != '_' && *s != '-') {
            return 0;
        }
    }
    for (s = close + 1; *s; s++) {
        if (!apr_isxdigit(*s)) {
            return 0;
        }
    }
    return 1;
}

/* The value stored in UserAuth.configuration, or NULL with the message. */
static const char *credential(weblab_db_admin_t *adm, const char *password,
                              const char *hash)
{
    if (password) {
        char *h;

        if (!*password) {
            weblab_dbadm_fail(adm, APR_EINVAL, "the password must not be "
                              "empty");
            return NULL;
        }
        h = weblab_password_hash(password, adm->pool);
        if (!h) {
            weblab_dbadm_fail(adm, APR_EGENERAL, "could not hash the "
                              "password (no randomness?)");
        }
        return h;
    }
    if (hash && is_stored_hash(hash)) {
        return hash;
    }
    weblab_dbadm_fail(adm, APR_EINVAL, "a stored password must look like "
                      "<salt>{sha}<hex digits> (the original's form) or a "
                      "bcrypt hash");
    return NULL;
}

apr_status_t weblab_db_admin_user_add(weblab_db_admin_t *adm,
                                      const weblab_db_admin_user_spec_t *u)
{
    const char *full_name = u->full_name ? u->full_name : u->login;
    const char *email = u->email ? u->email : "";
    const char *role = u->role ? u->role : "student";
    const char *cred = NULL;
    apr_int64_t role_id, user_id, auth_id = 0, dummy;
    apr_int64_t *group_ids = NULL;
    apr_status_t rv;
    int i, ngroups = u->groups ? u->groups->nelts : 0;

    if ((rv = weblab_dbadm_check(adm, "login", u->login)) != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "full name", full_name))
           != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "email", email)) != APR_SUCCESS
        || (rv = weblab_dbadm_check(adm, "role", role)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < ngroups; i++) {
        rv = weblab_dbadm_check(adm, "group",
                                APR_ARRAY_IDX(u->groups, i, const char *));
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (u->password || u->password_hash) {
        cred = credential(adm, u->password, u->password_hash);
        if (!cred) {
            return APR_EINVAL;
        }
    }
    rv = weblab_dbadm_txn_begin(adm);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (weblab_dbadm_user_id(adm, &dummy, u->login) == APR_SUCCESS) {
        rv = weblab_dbadm_fail(adm, APR_EEXIST, "user '%s' already exists",
                               u->login);
        goto end;
    }
    if ((rv = weblab_dbadm_role_id(adm, &role_id, role)) != APR_SUCCESS
        || (cred && (rv = db_auth_id(adm, &auth_id)) != APR_SUCCESS)) {
        goto end;
    }
    group_ids = apr_pcalloc(adm->pool, sizeof(*group_ids) * (ngroups + 1));
    for (i = 0; i < ngroups; i++) {
        rv = weblab_dbadm_group_id(adm, &group_ids[i],
                                   APR_ARRAY_IDX(u->groups, i, const char *));
        if (rv != APR_SUCCESS) {
            goto end;
        }
    }
    rv = weblab_sql_exec(adm->c, NULL,
                         "INSERT INTO \"User\" (login, full_name, email,"
                         " role_id) VALUES (?, ?, ?, ?)", "sssi", u->login,
                         full_name, email, role_id);
    if (rv != APR_SUCCESS) {
        rv = weblab_sql_is_constraint(adm->c)
            ? weblab_dbadm_fail(adm, APR_EEXIST, "user '%s' already exists",
                                u->login)
            : weblab_dbadm_sql_fail(adm, rv, "adding the user");
        goto end;
    }
    user_id = weblab_sql_last_id(adm->c);
    if (cred) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO UserAuth (user_id, auth_id,"
                             " configuration) VALUES (?, ?, ?)", "iis",
                             user_id, auth_id, cred);
        if (rv != APR_SUCCESS) {
            rv = weblab_dbadm_sql_fail(adm, rv, "storing the password");
            goto end;
        }
    }
    for (i = 0; i < ngroups; i++) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO UserIsMemberOf (user_id, group_id)"
                             " VALUES (?, ?)", "ii", user_id, group_ids[i]);
        if (rv != APR_SUCCESS && weblab_sql_is_constraint(adm->c)) {
            rv = APR_SUCCESS;           /* the same group given twice */
        }
        else if (rv != APR_SUCCESS) {
            rv = weblab_dbadm_sql_fail(adm, rv, "adding the user to a group");
            goto end;
        }
    }
end:
    return weblab_dbadm_txn_end(adm, rv);
}

/* Push value to the const char * array stored in h under key (made here). */
static void push_to(apr_hash_t *h, const char *key, const char *value,
                    apr_pool_t *p)
{
    apr_array_header_t *a = apr_hash_get(h, key, APR_HASH_KEY_STRING);

    if (!a) {
        a = apr_array_make(p, 2, sizeof(const char *));
        apr_hash_set(h, key, APR_HASH_KEY_STRING, a);
    }
    APR_ARRAY_PUSH(a, const char *) = value;
}

apr_status_t weblab_db_admin_user_list(weblab_db_admin_t *adm,
                                       apr_array_header_t **users,
                                       apr_pool_t *p)
{
    weblab_sql_rows_t *rows, *grows, *arows;
    apr_hash_t *groups = apr_hash_make(p), *auths = apr_hash_make(p);
    apr_hash_t *hashes = apr_hash_make(p);
    apr_status_t rv;

    rv = weblab_sql_select(adm->c, &rows, p,
                           "SELECT u.id, u.login, u.full_name, u.email,"
                           " r.name, u.disabled FROM \"User\" u"
                           " LEFT JOIN Role r ON r.id = u.role_id"
                           " ORDER BY u.login", NULL);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(adm->c, &grows, p,
                               "SELECT m.user_id, g.name FROM UserIsMemberOf m"
                               " JOIN \"Group\" g ON g.id = m.group_id"
                               " ORDER BY g.name", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(adm->c, &arows, p,
                               "SELECT ua.user_id, a.name, t.name,"
                               " ua.configuration FROM UserAuth ua"
                               " JOIN Auth a ON a.id = ua.auth_id"
                               " JOIN AuthType t ON t.id = a.auth_type_id"
                               " ORDER BY a.priority DESC", NULL);
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "listing users");
    }
    while (weblab_sql_next(grows)) {
        push_to(groups, weblab_sql_str(grows, 0), weblab_sql_str(grows, 1), p);
    }
    while (weblab_sql_next(arows)) {
        const char *uid = weblab_sql_str(arows, 0);

        push_to(auths, uid, weblab_sql_str(arows, 1), p);
        if (!strcmp(weblab_sql_str(arows, 2), "DB")) {
            /* descending priority: the best one is written last */
            apr_hash_set(hashes, uid, APR_HASH_KEY_STRING,
                         weblab_sql_str(arows, 3));
        }
    }
    *users = apr_array_make(p, rows->nrows, sizeof(weblab_db_admin_user_t));
    while (weblab_sql_next(rows)) {
        weblab_db_admin_user_t *u = apr_array_push(*users);
        const char *uid = weblab_sql_str(rows, 0);

        u->user.id = weblab_sql_int(rows, 0);
        u->user.login = weblab_sql_str(rows, 1);
        u->user.full_name = weblab_sql_str(rows, 2);
        u->user.email = weblab_sql_str(rows, 3);
        u->user.role = weblab_sql_str(rows, 4) ? weblab_sql_str(rows, 4) : "";
        u->user.disabled = (int)weblab_sql_int(rows, 5);
        u->groups = apr_hash_get(groups, uid, APR_HASH_KEY_STRING);
        if (!u->groups) {
            u->groups = apr_array_make(p, 1, sizeof(const char *));
        }
        u->auths = apr_hash_get(auths, uid, APR_HASH_KEY_STRING);
        if (!u->auths) {
            u->auths = apr_array_make(p, 1, sizeof(const char *));
        }
        u->password_hash = apr_hash_get(hashes, uid, APR_HASH_KEY_STRING);
    }
    return APR_SUCCESS;
}

apr_status_t weblab_db_admin_user_remove(weblab_db_admin_t *adm,
                                         const char *login)
{
    static const char *const deletes[] = {
        "DELETE FROM UserPermissionParameter WHERE permission_id IN"
        " (SELECT id FROM UserPermission WHERE user_id = ?)",
        "DELETE FROM UserPermission WHERE user_id = ?",
        "DELETE FROM UserIsMemberOf WHERE user_id = ?",
        "DELETE FROM UserAuth WHERE user_id = ?",
        "DELETE FROM \"User\" WHERE id = ?",
        NULL
    };
    apr_int64_t id, uses;
    apr_status_t rv = weblab_dbadm_txn_begin(adm);
    int i;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_user_id(adm, &id, login)) != APR_SUCCESS
        || (rv = weblab_dbadm_count(adm, &uses,
                                    "SELECT COUNT(*) FROM UserUsedExperiment"
                                    " WHERE user_id = ?", id))
           != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    if (uses > 0) {
        rv = weblab_dbadm_fail(adm, APR_EBUSY, "user '%s' has %ld uses in "
                               "the log, which are kept: disable the user "
                               "instead", login, (long)uses);
        return weblab_dbadm_txn_end(adm, rv);
    }
    for (i = 0; deletes[i] && rv == APR_SUCCESS; i++) {
        rv = weblab_sql_exec(adm->c, NULL, deletes[i], "i", id);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "removing the user");
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_user_disable(weblab_db_admin_t *adm,
                                          const char *login, int disabled)
{
    apr_int64_t id;
    apr_status_t rv = weblab_dbadm_txn_begin(adm);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_dbadm_user_id(adm, &id, login);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "UPDATE \"User\" SET disabled = ? WHERE id = ?",
                             "ii", (apr_int64_t)(disabled ? 1 : 0), id);
        if (rv != APR_SUCCESS) {
            rv = weblab_dbadm_sql_fail(adm, rv, "updating the user");
        }
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_user_passwd(weblab_db_admin_t *adm,
                                         const char *login,
                                         const char *password,
                                         const char *password_hash)
{
    const char *cred = credential(adm, password, password_hash);
    apr_int64_t id, auth_id;
    apr_status_t rv;

    if (!cred) {
        return APR_EINVAL;
    }
    rv = weblab_dbadm_txn_begin(adm);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_user_id(adm, &id, login)) != APR_SUCCESS
        || (rv = db_auth_id(adm, &auth_id)) != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    rv = weblab_sql_exec(adm->c, NULL,
                         "DELETE FROM UserAuth WHERE user_id = ? AND auth_id"
                         " IN (SELECT a.id FROM Auth a JOIN AuthType t"
                         " ON t.id = a.auth_type_id WHERE t.name = 'DB')",
                         "i", id);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO UserAuth (user_id, auth_id,"
                             " configuration) VALUES (?, ?, ?)", "iis", id,
                             auth_id, cred);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "storing the password");
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_user_verify(weblab_db_admin_t *adm, int *ok,
                                         const char *login,
                                         const char *password)
{
    weblab_sql_rows_t *rows;
    apr_int64_t id;
    apr_pool_t *tmp;
    apr_status_t rv = weblab_dbadm_user_id(adm, &id, login);

    *ok = 0;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_create(&tmp, adm->pool);
    rv = weblab_sql_select(adm->c, &rows, tmp,
                           "SELECT ua.configuration FROM UserAuth ua"
                           " JOIN Auth a ON a.id = ua.auth_id"
                           " JOIN AuthType t ON t.id = a.auth_type_id"
                           " WHERE ua.user_id = ? AND t.name = 'DB'"
                           " ORDER BY a.priority", "i", id);
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "reading the credentials");
    }
    else {
        while (!*ok && weblab_sql_next(rows)) {
            *ok = weblab_password_verify(weblab_sql_str(rows, 0), password,
                                         tmp);
        }
    }
    apr_pool_destroy(tmp);
    return rv;
}

/* ---- groups ---- */

apr_status_t weblab_db_admin_group_add(weblab_db_admin_t *adm,
                                       const char *name, const char *parent)
{
    apr_int64_t parent_id = 0, dummy;
    apr_status_t rv;

    if ((rv = weblab_dbadm_check(adm, "group", name)) != APR_SUCCESS
        || (parent && (rv = weblab_dbadm_check(adm, "group", parent))
                      != APR_SUCCESS)) {
        return rv;
    }
    rv = weblab_dbadm_txn_begin(adm);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (weblab_dbadm_group_id(adm, &dummy, name) == APR_SUCCESS) {
        rv = weblab_dbadm_fail(adm, APR_EEXIST, "group '%s' already exists",
                               name);
        return weblab_dbadm_txn_end(adm, rv);
    }
    if (parent && (rv = weblab_dbadm_group_id(adm, &parent_id, parent))
                  != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    if (parent) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO \"Group\" (name, parent_id)"
                             " VALUES (?, ?)", "si", name, parent_id);
    }
    else {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO \"Group\" (name) VALUES (?)", "s",
                             name);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "adding the group");
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_group_remove(weblab_db_admin_t *adm,
                                          const char *name)
{
    static const char *const deletes[] = {
        "DELETE FROM GroupPermissionParameter WHERE permission_id IN"
        " (SELECT id FROM GroupPermission WHERE group_id = ?)",
        "DELETE FROM GroupPermission WHERE group_id = ?",
        "DELETE FROM UserIsMemberOf WHERE group_id = ?",
        "DELETE FROM \"Group\" WHERE id = ?",
        NULL
    };
    apr_int64_t id, children;
    apr_status_t rv = weblab_dbadm_txn_begin(adm);
    int i;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_group_id(adm, &id, name)) != APR_SUCCESS
        || (rv = weblab_dbadm_count(adm, &children,
                                    "SELECT COUNT(*) FROM \"Group\""
                                    " WHERE parent_id = ?", id))
           != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    if (children > 0) {
        rv = weblab_dbadm_fail(adm, APR_EBUSY, "group '%s' has %ld "
                               "subgroups: remove them first", name,
                               (long)children);
        return weblab_dbadm_txn_end(adm, rv);
    }
    for (i = 0; deletes[i] && rv == APR_SUCCESS; i++) {
        rv = weblab_sql_exec(adm->c, NULL, deletes[i], "i", id);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "removing the group");
    }
    return weblab_dbadm_txn_end(adm, rv);
}

apr_status_t weblab_db_admin_group_list(weblab_db_admin_t *adm,
                                        apr_array_header_t **groups,
                                        apr_pool_t *p)
{
    weblab_sql_rows_t *rows, *mrows;
    apr_hash_t *members = apr_hash_make(p);
    apr_status_t rv;

    rv = weblab_sql_select(adm->c, &rows, p,
                           "SELECT g.id, g.name, pg.name FROM \"Group\" g"
                           " LEFT JOIN \"Group\" pg ON pg.id = g.parent_id"
                           " ORDER BY g.name, g.id", NULL);
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(adm->c, &mrows, p,
                               "SELECT m.group_id, u.login"
                               " FROM UserIsMemberOf m"
                               " JOIN \"User\" u ON u.id = m.user_id"
                               " ORDER BY u.login", NULL);
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "listing groups");
    }
    while (weblab_sql_next(mrows)) {
        push_to(members, weblab_sql_str(mrows, 0), weblab_sql_str(mrows, 1),
                p);
    }
    *groups = apr_array_make(p, rows->nrows, sizeof(weblab_db_admin_group_t));
    while (weblab_sql_next(rows)) {
        weblab_db_admin_group_t *g = apr_array_push(*groups);

        g->id = weblab_sql_int(rows, 0);
        g->name = weblab_sql_str(rows, 1);
        g->parent = weblab_sql_str(rows, 2);
        g->members = apr_hash_get(members, weblab_sql_str(rows, 0),
                                  APR_HASH_KEY_STRING);
        if (!g->members) {
            g->members = apr_array_make(p, 1, sizeof(const char *));
        }
    }
    return APR_SUCCESS;
}

static apr_status_t membership(weblab_db_admin_t *adm, const char *group,
                               const char *login, int add)
{
    apr_int64_t gid, uid;
    apr_status_t rv = weblab_dbadm_txn_begin(adm);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = weblab_dbadm_group_id(adm, &gid, group)) != APR_SUCCESS
        || (rv = weblab_dbadm_user_id(adm, &uid, login)) != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    rv = weblab_sql_exec(adm->c, NULL,
                         "DELETE FROM UserIsMemberOf WHERE user_id = ?"
                         " AND group_id = ?", "ii", uid, gid);
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, weblab_dbadm_sql_fail(
                                        adm, rv, "changing a membership"));
    }
    if (add) {
        rv = weblab_sql_exec(adm->c, NULL,
                             "INSERT INTO UserIsMemberOf (user_id, group_id)"
                             " VALUES (?, ?)", "ii", uid, gid);
        if (rv != APR_SUCCESS) {
            rv = weblab_dbadm_sql_fail(adm, rv, "changing a membership");
        }
    }
    return weblab_dbadm_txn_end(adm, rv);
}

static int is_member(weblab_db_admin_t *adm, const char *group,
                     const char *login)
{
    weblab_sql_rows_t *rows;
    apr_pool_t *tmp;
    int found = 0;

    apr_pool_create(&tmp, adm->pool);
    if (weblab_sql_select(adm->c, &rows, tmp,
                          "SELECT 1 FROM UserIsMemberOf m"
                          " JOIN \"User\" u ON u.id = m.user_id"
                          " JOIN \"Group\" g ON g.id = m.group_id"
                          " WHERE u.login = ? AND g.name = ?", "ss", login,
                          group) == APR_SUCCESS) {
        found = weblab_sql_next(rows);
    }
    apr_pool_destroy(tmp);
    return found;
}

apr_status_t weblab_db_admin_group_add_user(weblab_db_admin_t *adm,
                                            const char *group,
                                            const char *login)
{
    if (is_member(adm, group, login)) {
        return weblab_dbadm_fail(adm, APR_EEXIST, "user '%s' is already in "
                                 "group '%s'", login, group);
    }
    return membership(adm, group, login, 1);
}

apr_status_t weblab_db_admin_group_remove_user(weblab_db_admin_t *adm,
                                               const char *group,
                                               const char *login)
{
    apr_int64_t id;
    apr_status_t rv;

    if (!is_member(adm, group, login)) {
        if ((rv = weblab_dbadm_group_id(adm, &id, group)) != APR_SUCCESS
            || (rv = weblab_dbadm_user_id(adm, &id, login)) != APR_SUCCESS) {
            return rv;
        }
        return weblab_dbadm_fail(adm, APR_ENOENT, "user '%s' is not in group "
                                 "'%s'", login, group);
    }
    return membership(adm, group, login, 0);
}

/* ---- editing and bulk import (the web administration) ---- */

apr_status_t weblab_db_admin_user_edit(weblab_db_admin_t *adm,
                                       const char *login,
                                       const char *full_name,
                                       const char *email, const char *role)
{
    apr_int64_t id, role_id = 0;
    apr_status_t rv;

    if ((rv = weblab_dbadm_check(adm, "login", login)) != APR_SUCCESS
        || (full_name && (rv = weblab_dbadm_check(adm, "full name",
                                                  full_name)) != APR_SUCCESS)
        || (email && (rv = weblab_dbadm_check(adm, "email", email))
                     != APR_SUCCESS)
        || (role && (rv = weblab_dbadm_check(adm, "role", role))
                    != APR_SUCCESS)
        || (rv = weblab_dbadm_txn_begin(adm)) != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_dbadm_user_id(adm, &id, login);
    if (rv == APR_SUCCESS && role) {
        rv = weblab_dbadm_role_id(adm, &role_id, role);
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_txn_end(adm, rv);
    }
    if (full_name) {
        rv = weblab_sql_exec(adm->c, NULL, "UPDATE \"User\" SET full_name = ?"
                             " WHERE id = ?", "si", full_name, id);
    }
    if (rv == APR_SUCCESS && email) {
        rv = weblab_sql_exec(adm->c, NULL, "UPDATE \"User\" SET email = ?"
                             " WHERE id = ?", "si", email, id);
    }
    if (rv == APR_SUCCESS && role) {
        rv = weblab_sql_exec(adm->c, NULL, "UPDATE \"User\" SET role_id = ?"
                             " WHERE id = ?", "ii", role_id, id);
    }
    if (rv != APR_SUCCESS) {
        rv = weblab_dbadm_sql_fail(adm, rv, "updating the user");
    }
    return weblab_dbadm_txn_end(adm, rv);
}

/* Split one CSV line into fields (array of char *, from p); NULL with *why
 * on an unterminated quote. */
static apr_array_header_t *csv_fields(const char *line, const char **why,
                                      apr_pool_t *p)
{
    apr_array_header_t *fields = apr_array_make(p, 4, sizeof(char *));
    char *buf = apr_palloc(p, strlen(line) + 1);
    const char *s = line;

    *why = NULL;
    for (;;) {
        char *o = buf;
        char *start = buf;

        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (*s == '"') {
            for (s++; *s && !(*s == '"' && s[1] != '"'); s++) {
                if (*s == '"') {
                    s++;                /* "" inside quotes */
                }
                *o++ = *s;
            }
            if (*s != '"') {
                *why = "a quoted field is not closed";
                return NULL;
            }
            s++;
            while (*s == ' ' || *s == '\t') {
                s++;
            }
        }
        else {
            while (*s && *s != ',') {
                *o++ = *s++;
            }
            while (o > start && (o[-1] == ' ' || o[-1] == '\t')) {
                o--;
            }
        }
        *o++ = '\0';
        APR_ARRAY_PUSH(fields, char *) = start;
        buf = o;
        if (*s != ',') {
            break;
        }
        s++;
    }
    if (*s) {
        *why = "unexpected text after a quoted field";
        return NULL;
    }
    return fields;
}

apr_status_t weblab_db_admin_users_csv(weblab_db_admin_t *adm, int *added,
                                       const char *csv, const char *role,
                                       const char *group)
{
    apr_array_header_t *groups = NULL;
    char *text = apr_pstrdup(adm->pool, csv ? csv : ""), *line, *last;
    apr_status_t rv;
    int lineno = 0, count = 0;

    if (added) {
        *added = 0;
    }
    if (group) {
        groups = apr_array_make(adm->pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(groups, const char *) = group;
    }
    rv = weblab_dbadm_txn_begin(adm);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* strtok would merge blank lines and shift the line numbers */
    for (line = text; line && rv == APR_SUCCESS; line = last) {
        weblab_db_admin_user_spec_t u;
        apr_array_header_t *f;
        const char *why;
        size_t n;

        last = strchr(line, '\n');
        if (last) {
            *last++ = '\0';
        }
        lineno++;
        n = strlen(line);
        if (n && line[n - 1] == '\r') {
            line[--n] = '\0';
        }
        while (*line == ' ' || *line == '\t') {
            line++;
        }
        if (!*line || *line == '#'
            || (lineno == 1 && !strncasecmp(line, "login", 5)
                && (line[5] == ',' || line[5] == ';'))) {
            continue;
        }
        f = csv_fields(line, &why, adm->pool);
        if (!f || f->nelts != 4) {
            rv = weblab_dbadm_fail(adm, APR_EINVAL, "line %d: %s", lineno,
                                   f ? "expected 4 fields: login, full name, "
                                       "email, password" : why);
            break;
        }
        memset(&u, 0, sizeof(u));
        u.login = APR_ARRAY_IDX(f, 0, char *);
        u.full_name = *APR_ARRAY_IDX(f, 1, char *)
            ? APR_ARRAY_IDX(f, 1, char *) : NULL;
        u.email = APR_ARRAY_IDX(f, 2, char *);
        u.password = APR_ARRAY_IDX(f, 3, char *);
        u.role = role;
        u.groups = groups;
        rv = weblab_db_admin_user_add(adm, &u);
        if (rv != APR_SUCCESS) {
            adm->error = apr_psprintf(adm->pool, "line %d: %s", lineno,
                                      weblab_db_admin_error(adm));
        }
        else {
            count++;
        }
    }
    if (rv == APR_SUCCESS && count == 0) {
        rv = weblab_dbadm_fail(adm, APR_EINVAL, "no users in the text (one "
                               "per line: login, full name, email, "
                               "password)");
    }
    rv = weblab_dbadm_txn_end(adm, rv);
    if (rv == APR_SUCCESS && added) {
        *added = count;
    }
    return rv;
}
