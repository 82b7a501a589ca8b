/* user, group, grant, revoke and permissions: thin wrappers over
 * weblab_db_admin.h that parse options, print and set the exit status. */
#include "admin.h"

#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

enum {
    OPT_NAME = OPT_FIRST_FREE, OPT_EMAIL, OPT_ROLE, OPT_PASSWORD,
    OPT_LEGACY_HASH, OPT_GROUP, OPT_PARENT, OPT_USER, OPT_TIME,
    OPT_PRIORITY, OPT_NO_INIT
};

const apr_getopt_option_t admin_user_add_options[] = {
    { "name", OPT_NAME, 1, "=NAME full name (the login)" },
    { "email", OPT_EMAIL, 1, "=EMAIL email address" },
    { "role", OPT_ROLE, 1, "=ROLE student, instructor, administrator or "
      "federated (student)" },
    { "password", OPT_PASSWORD, 1, "=PASSWORD password, stored as a bcrypt "
      "hash; \"-\" reads it from the first line of stdin" },
    { "legacy-hash", OPT_LEGACY_HASH, 1, "=HASH store the original's "
      "<salt>{sha}<hex> form verbatim (imported users)" },
    { "group", OPT_GROUP, 1, "=GROUP put the user in this group (repeat for "
      "several)" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_user_passwd_options[] = {
    { "password", OPT_PASSWORD, 1, "=PASSWORD the new password; \"-\" reads "
      "it from stdin" },
    { "legacy-hash", OPT_LEGACY_HASH, 1, "=HASH store this <salt>{sha}<hex> "
      "verbatim instead" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_user_verify_options[] = {
    { "password", OPT_PASSWORD, 1, "=PASSWORD the password to check; \"-\" "
      "reads it from stdin" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_group_add_options[] = {
    { "parent", OPT_PARENT, 1, "=GROUP the new group is a subgroup of this "
      "one (its members get the parent's permissions too)" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_grant_options[] = {
    { "user", OPT_USER, 1, "=LOGIN grant to this user" },
    { "group", OPT_GROUP, 1, "=GROUP grant to this group" },
    { "role", OPT_ROLE, 1, "=ROLE grant to every user with this role" },
    { "time", OPT_TIME, 1, "=SECONDS how long one use may last (required)" },
    { "priority", OPT_PRIORITY, 1, "=N queue priority, lower goes first (5)" },
    { "no-initialization-in-accounting", OPT_NO_INIT, 0, "the lab's "
      "initialization time does not count in the time allowed" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_revoke_options[] = {
    { "user", OPT_USER, 1, "=LOGIN revoke from this user" },
    { "group", OPT_GROUP, 1, "=GROUP revoke from this group" },
    { "role", OPT_ROLE, 1, "=ROLE revoke from this role" },
    { NULL, 0, 0, NULL }
};

static const char *pos(const admin_args_t *a, int i)
{
    return APR_ARRAY_IDX(a->pos, i, const char *);
}

static int db_error(weblab_db_admin_t *adm)
{
    return admin_error("%s", weblab_db_admin_error(adm));
}

/* --password value; "-" reads one line from stdin. NULL if absent or
 * unreadable (*bad set then). */
static const char *password_opt(const admin_args_t *a, int *bad,
                                apr_pool_t *p)
{
    const char *v = admin_opt(a, OPT_PASSWORD);
    char line[1024];
    size_t n;

    *bad = 0;
    if (!v || strcmp(v, "-")) {
        return v;
    }
    if (!fgets(line, sizeof(line), stdin)) {
        *bad = 1;
        admin_error("--password -: no password on stdin");
        return NULL;
    }
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    return apr_pstrdup(p, line);
}

/* ---- user ---- */

int admin_cmd_user_add(const admin_cmd_t *cmd, admin_args_t *args,
                       apr_pool_t *p)
{
    weblab_db_admin_user_spec_t u = { 0 };
    weblab_db_admin_t *adm;
    int bad, rc;

    (void)cmd;
    u.login = pos(args, 1);
    u.full_name = admin_opt(args, OPT_NAME);
    u.email = admin_opt(args, OPT_EMAIL);
    u.role = admin_opt(args, OPT_ROLE);
    u.password = password_opt(args, &bad, p);
    u.password_hash = admin_opt(args, OPT_LEGACY_HASH);
    u.groups = admin_opt_all(args, OPT_GROUP, p);
    if (bad) {
        return ADMIN_EXIT_ERROR;
    }
    if (u.password && u.password_hash) {
        return admin_error("give --password or --legacy-hash, not both");
    }
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_user_add(adm, &u) != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("added user %s\n", u.login);
    if (!u.password && !u.password_hash) {
        admin_warn("user %s has no password and cannot log in with one yet "
                   "(weblab-admin user passwd)", u.login);
    }
    return ADMIN_EXIT_OK;
}

static const char *password_scheme(const char *hash)
{
    if (!hash) {
        return NULL;
    }
    if (!strncmp(hash, "$2", 2)) {
        return "bcrypt";
    }
    if (strchr(hash, '{')) {
        return "legacy-sha";
    }
    return "other";
}

static json_t *string_list(const apr_array_header_t *a)
{
    json_t *l = json_array();
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        json_array_append_new(l, json_string(APR_ARRAY_IDX(a, i,
                                                           const char *)));
    }
    return l;
}

int admin_cmd_user_list(const admin_cmd_t *cmd, admin_args_t *args,
                        apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    apr_array_header_t *users;
    admin_table_t *t;
    json_t *list;
    int rc, i;

    (void)cmd;
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_user_list(adm, &users, p) != APR_SUCCESS) {
        return db_error(adm);
    }
    t = admin_table_make(p, 6, "LOGIN", "ROLE", "NAME", "EMAIL", "GROUPS",
                         "STATE");
    list = json_array();
    for (i = 0; i < users->nelts; i++) {
        const weblab_db_admin_user_t *u =
            &APR_ARRAY_IDX(users, i, weblab_db_admin_user_t);
        json_t *o = json_object();

        json_object_set_new(o, "login", json_string(u->user.login));
        json_object_set_new(o, "full_name", json_string(u->user.full_name));
        json_object_set_new(o, "email", json_string(u->user.email));
        json_object_set_new(o, "role", json_string(u->user.role));
        json_object_set_new(o, "disabled", json_boolean(u->user.disabled));
        json_object_set_new(o, "groups", string_list(u->groups));
        json_object_set_new(o, "auths", string_list(u->auths));
        json_object_set_new(o, "password",
                            admin_json_str(password_scheme(u->password_hash)));
        json_array_append_new(list, o);
        admin_table_row(t, u->user.login, u->user.role, u->user.full_name,
                        u->user.email,
                        apr_array_pstrcat(p, u->groups, ','),
                        u->user.disabled ? "disabled" : "enabled");
    }
    if (admin_flag(args, OPT_JSON)) {
        return admin_json_print(list);
    }
    json_decref(list);
    admin_table_print(t);
    return ADMIN_EXIT_OK;
}

int admin_cmd_user_remove(const admin_cmd_t *cmd, admin_args_t *args,
                          apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    int rc;

    (void)cmd;
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_user_remove(adm, pos(args, 1)) != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("removed user %s\n", pos(args, 1));
    return ADMIN_EXIT_OK;
}

static int set_disabled(admin_args_t *args, int disabled, apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    int rc;

    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_user_disable(adm, pos(args, 1), disabled)
        != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("%s user %s\n", disabled ? "disabled" : "enabled", pos(args, 1));
    return ADMIN_EXIT_OK;
}

int admin_cmd_user_disable(const admin_cmd_t *cmd, admin_args_t *args,
                           apr_pool_t *p)
{
    (void)cmd;
    return set_disabled(args, 1, p);
}

int admin_cmd_user_enable(const admin_cmd_t *cmd, admin_args_t *args,
                          apr_pool_t *p)
{
    (void)cmd;
    return set_disabled(args, 0, p);
}

int admin_cmd_user_passwd(const admin_cmd_t *cmd, admin_args_t *args,
                          apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    const char *password, *hash = admin_opt(args, OPT_LEGACY_HASH);
    int bad, rc;

    (void)cmd;
    password = password_opt(args, &bad, p);
    if (bad) {
        return ADMIN_EXIT_ERROR;
    }
    if (!password == !hash) {
        return admin_error("give either --password or --legacy-hash");
    }
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_user_passwd(adm, pos(args, 1), password, hash)
        != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("changed the password of %s\n", pos(args, 1));
    return ADMIN_EXIT_OK;
}

int admin_cmd_user_verify(const admin_cmd_t *cmd, admin_args_t *args,
                          apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    const char *password;
    int bad, ok, rc;

    (void)cmd;
    password = password_opt(args, &bad, p);
    if (bad) {
        return ADMIN_EXIT_ERROR;
    }
    if (!password) {
        return admin_error("--password is required");
    }
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_user_verify(adm, &ok, pos(args, 1), password)
        != APR_SUCCESS) {
        return db_error(adm);
    }
    if (!ok) {
        return admin_error("the password of %s does not match",
                           pos(args, 1));
    }
    printf("the password of %s matches\n", pos(args, 1));
    return ADMIN_EXIT_OK;
}

/* ---- group ---- */

int admin_cmd_group_add(const admin_cmd_t *cmd, admin_args_t *args,
                        apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    int rc;

    (void)cmd;
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_group_add(adm, pos(args, 1),
                                  admin_opt(args, OPT_PARENT))
        != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("added group %s\n", pos(args, 1));
    return ADMIN_EXIT_OK;
}

int admin_cmd_group_remove(const admin_cmd_t *cmd, admin_args_t *args,
                           apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    int rc;

    (void)cmd;
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_group_remove(adm, pos(args, 1)) != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("removed group %s\n", pos(args, 1));
    return ADMIN_EXIT_OK;
}

int admin_cmd_group_list(const admin_cmd_t *cmd, admin_args_t *args,
                         apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    apr_array_header_t *groups;
    admin_table_t *t;
    json_t *list;
    int rc, i;

    (void)cmd;
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_group_list(adm, &groups, p) != APR_SUCCESS) {
        return db_error(adm);
    }
    t = admin_table_make(p, 3, "GROUP", "PARENT", "MEMBERS");
    list = json_array();
    for (i = 0; i < groups->nelts; i++) {
        const weblab_db_admin_group_t *g =
            &APR_ARRAY_IDX(groups, i, weblab_db_admin_group_t);
        json_t *o = json_object();

        json_object_set_new(o, "name", json_string(g->name));
        json_object_set_new(o, "parent", admin_json_str(g->parent));
        json_object_set_new(o, "members", string_list(g->members));
        json_array_append_new(list, o);
        admin_table_row(t, g->name, g->parent,
                        apr_array_pstrcat(p, g->members, ','));
    }
    if (admin_flag(args, OPT_JSON)) {
        return admin_json_print(list);
    }
    json_decref(list);
    admin_table_print(t);
    return ADMIN_EXIT_OK;
}

static int membership(admin_args_t *args, int add, apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    apr_status_t rv;
    int rc;

    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    rv = add ? weblab_db_admin_group_add_user(adm, pos(args, 1), pos(args, 2))
             : weblab_db_admin_group_remove_user(adm, pos(args, 1),
                                                 pos(args, 2));
    if (rv != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("%s %s %s group %s\n", add ? "added" : "removed", pos(args, 2),
           add ? "to" : "from", pos(args, 1));
    return ADMIN_EXIT_OK;
}

int admin_cmd_group_add_user(const admin_cmd_t *cmd, admin_args_t *args,
                             apr_pool_t *p)
{
    (void)cmd;
    return membership(args, 1, p);
}

int admin_cmd_group_remove_user(const admin_cmd_t *cmd, admin_args_t *args,
                                apr_pool_t *p)
{
    (void)cmd;
    return membership(args, 0, p);
}

/* ---- permissions ---- */

/* The one holder given with --user, --group or --role. */
static int holder(weblab_db_admin_scope_e *scope, const char **who,
                  const admin_args_t *a)
{
    const char *u = admin_opt(a, OPT_USER), *g = admin_opt(a, OPT_GROUP);
    const char *r = admin_opt(a, OPT_ROLE);

    if ((u != NULL) + (g != NULL) + (r != NULL) != 1) {
        return admin_error("give exactly one of --user, --group and --role");
    }
    *scope = u ? WEBLAB_DB_ADMIN_USER : g ? WEBLAB_DB_ADMIN_GROUP
                                          : WEBLAB_DB_ADMIN_ROLE;
    *who = u ? u : g ? g : r;
    return ADMIN_EXIT_OK;
}

int admin_cmd_grant(const admin_cmd_t *cmd, admin_args_t *args,
                    apr_pool_t *p)
{
    weblab_db_admin_grant_t g = { 0 };
    weblab_db_admin_t *adm;
    const char *why;
    int rc, updated;

    (void)cmd;
    if ((rc = holder(&g.scope, &g.who, args)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (!admin_opt(args, OPT_TIME)) {
        return admin_error("--time SECONDS is required");
    }
    if ((rc = admin_opt_double(&g.time_allowed, args, OPT_TIME, "--time", 0))
        || (rc = admin_opt_int(&g.priority, args, OPT_PRIORITY, "--priority",
                               -1))) {
        return rc;
    }
    if (admin_opt(args, OPT_PRIORITY) && g.priority < 0) {
        return admin_error("--priority must be 0 or more");
    }
    g.init_in_accounting = admin_flag(args, OPT_NO_INIT) ? 0 : -1;
    why = weblab_db_admin_split_exp(&g.exp_name, &g.cat_name, pos(args, 1),
                                    p);
    if (why) {
        return admin_error("%s", why);
    }
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_grant(adm, &updated, &g) != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("%s %s %s: %s for %g s\n", updated ? "updated" : "granted",
           weblab_db_admin_scope_name(g.scope), g.who, pos(args, 1),
           g.time_allowed);
    return ADMIN_EXIT_OK;
}

int admin_cmd_revoke(const admin_cmd_t *cmd, admin_args_t *args,
                     apr_pool_t *p)
{
    weblab_db_admin_scope_e scope;
    weblab_db_admin_t *adm;
    const char *who, *exp, *cat, *why;
    int rc;

    (void)cmd;
    if ((rc = holder(&scope, &who, args)) != ADMIN_EXIT_OK) {
        return rc;
    }
    why = weblab_db_admin_split_exp(&exp, &cat, pos(args, 1), p);
    if (why) {
        return admin_error("%s", why);
    }
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_revoke(adm, scope, who, exp, cat) != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("revoked %s from %s %s\n", pos(args, 1),
           weblab_db_admin_scope_name(scope), who);
    return ADMIN_EXIT_OK;
}

int admin_cmd_permissions(const admin_cmd_t *cmd, admin_args_t *args,
                          apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    apr_array_header_t *perms;
    admin_table_t *t;
    json_t *list;
    int rc, i, j;

    (void)cmd;
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_perm_list(adm, &perms, p) != APR_SUCCESS) {
        return db_error(adm);
    }
    t = admin_table_make(p, 5, "SCOPE", "HOLDER", "TYPE", "PERMANENT ID",
                         "PARAMETERS");
    list = json_array();
    for (i = 0; i < perms->nelts; i++) {
        const weblab_db_admin_perm_t *pm =
            &APR_ARRAY_IDX(perms, i, weblab_db_admin_perm_t);
        json_t *o = json_object(), *params = json_object();
        const char *text = "";

        for (j = 0; j < pm->params->nelts; j++) {
            const weblab_db_admin_param_t *pp =
                &APR_ARRAY_IDX(pm->params, j, weblab_db_admin_param_t);

            json_object_set_new(params, pp->name, admin_json_str(pp->value));
            text = apr_psprintf(p, "%s%s%s=%s", text, j ? ", " : "",
                                pp->name, pp->value ? pp->value : "");
        }
        json_object_set_new(o, "scope", json_string(
                                weblab_db_admin_scope_name(pm->scope)));
        json_object_set_new(o, "holder", json_string(pm->who));
        json_object_set_new(o, "type", json_string(pm->type));
        json_object_set_new(o, "permanent_id", json_string(pm->permanent_id));
        json_object_set_new(o, "date", admin_json_str(pm->date));
        json_object_set_new(o, "comments", admin_json_str(pm->comments));
        json_object_set_new(o, "parameters", params);
        json_array_append_new(list, o);
        admin_table_row(t, weblab_db_admin_scope_name(pm->scope), pm->who,
                        pm->type, pm->permanent_id, text);
    }
    if (admin_flag(args, OPT_JSON)) {
        return admin_json_print(list);
    }
    json_decref(list);
    admin_table_print(t);
    return ADMIN_EXIT_OK;
}
