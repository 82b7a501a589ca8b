/* Administration of the data database: the initial rows a deployment needs,
 * users, groups, permissions, experiments, lab instances and the uses log.
 * Used by weblab-admin today and meant for a future web admin panel, so it
 * is httpd-free and never prints: every failure leaves a one-line message in
 * the handle (weblab_db_admin_error) and changes nothing, because each call
 * validates its input first and then writes inside one transaction.
 *
 * Names given by people (logins, group, experiment, category, instance and
 * resource names) are checked against shell and SQL metacharacters even
 * though every statement is prepared: they end up in Apache configurations,
 * shell commands typed by sysadmins and permanent ids.
 *
 * Memory: results are allocated from the pool passed to each call; the
 * handle and its error messages live in the pool given to
 * weblab_db_admin_make. */
#ifndef WEBLAB_DB_ADMIN_H
#define WEBLAB_DB_ADMIN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "weblab_sql.h"
#include "weblab_db.h"

typedef struct weblab_db_admin_t weblab_db_admin_t;

/* Scope of a permission: who holds it. */
typedef enum {
    WEBLAB_DB_ADMIN_USER,
    WEBLAB_DB_ADMIN_GROUP,
    WEBLAB_DB_ADMIN_ROLE
} weblab_db_admin_scope_e;

/* A user to create. password is hashed with bcrypt; password_hash (used when
 * password is NULL) is stored verbatim, for hashes imported from the
 * original ("<salt>{sha}<hex>") or bcrypt hashes made elsewhere. groups is an
 * array of const char * (may be NULL); every group must exist. */
typedef struct weblab_db_admin_user_spec_t {
    const char *login;
    const char *full_name;      /* NULL: the login */
    const char *email;          /* NULL: "" */
    const char *role;           /* NULL: "student" */
    const char *password;
    const char *password_hash;
    apr_array_header_t *groups;
} weblab_db_admin_user_spec_t;

/* A user as listed. */
typedef struct weblab_db_admin_user_t {
    weblab_user_t user;
    apr_array_header_t *groups; /* of const char *, sorted */
    apr_array_header_t *auths;  /* of const char *: auth names ("WebLab DB") */
    const char *password_hash;  /* the "WebLab DB" credential, NULL if none */
} weblab_db_admin_user_t;

typedef struct weblab_db_admin_group_t {
    apr_int64_t id;
    const char *name;
    const char *parent;         /* NULL for a top-level group */
    apr_array_header_t *members; /* of const char * logins, sorted */
} weblab_db_admin_group_t;

/* An experiment_allowed permission to grant. who is a login, a group name or
 * a role name according to scope. priority < 0 and init_in_accounting < 0
 * mean "not stored" (the defaults 5 and True apply, as in the original). */
typedef struct weblab_db_admin_grant_t {
    weblab_db_admin_scope_e scope;
    const char *who;
    const char *exp_name;
    const char *cat_name;
    double time_allowed;
    int priority;
    int init_in_accounting;
} weblab_db_admin_grant_t;

/* One permission parameter. */
typedef struct weblab_db_admin_param_t {
    const char *name;
    const char *value;
} weblab_db_admin_param_t;

/* A permission as listed (any type). */
typedef struct weblab_db_admin_perm_t {
    apr_int64_t id;
    weblab_db_admin_scope_e scope;
    const char *who;            /* login, group or role name */
    const char *type;           /* "experiment_allowed", "admin_panel_access" */
    const char *permanent_id;
    const char *date;
    const char *comments;
    apr_array_header_t *params; /* of weblab_db_admin_param_t */
} weblab_db_admin_perm_t;

/* An experiment to create; params is an array of weblab_client_param_t (may
 * be NULL). start_date/end_date NULL: now and now + 12 years. */
typedef struct weblab_db_admin_experiment_spec_t {
    const char *exp_name;
    const char *cat_name;
    const char *client;         /* NULL: "js" */
    const char *start_date;
    const char *end_date;
    apr_array_header_t *params;
} weblab_db_admin_experiment_spec_t;

/* An experiment as listed: the run-time view plus its instance count. */
typedef struct weblab_db_admin_experiment_t {
    weblab_experiment_t exp;
    int instances;
} weblab_db_admin_experiment_t;

/* One use (UserUsedExperiment) with its number of commands, not counting the
 * synthetic "@@@...@@@" ones. */
typedef struct weblab_db_admin_use_t {
    apr_int64_t id;
    const char *login;
    const char *exp_name;
    const char *cat_name;
    const char *start_date;
    const char *end_date;       /* NULL while the use is running */
    const char *origin;
    const char *coord_address;
    const char *reservation_id;
    const char *finish_reason;  /* NULL when unknown */
    apr_int64_t commands;
    apr_int64_t files;
} weblab_db_admin_use_t;

/* ---- handle and transactions ---- */

/* A handle on an open data-database connection c, from p. No I/O. */
apr_status_t weblab_db_admin_make(weblab_db_admin_t **adm, weblab_sql_t *c,
                                  apr_pool_t *p);

/* The message of the last failure ("unknown user 'x'"), or "" if none.
 * Lives in the handle's pool; never contains a password. */
const char *weblab_db_admin_error(const weblab_db_admin_t *adm);

/* Group several calls into one write transaction: calls made between begin
 * and end do not commit on their own. end commits when ok is non-zero and
 * rolls back otherwise. */
apr_status_t weblab_db_admin_begin(weblab_db_admin_t *adm);
apr_status_t weblab_db_admin_end(weblab_db_admin_t *adm, int ok);

/* ---- set-up ---- */

/* Create the data schema and the rows every deployment has (spec 5.1, 6.3):
 * roles federated/administrator/instructor/student, auth types DB, LDAP,
 * TRUSTED-IP-ADDRESSES, FACEBOOK, OPENID, auths "WebLab DB" (priority 1) and
 * "OPENID" (7), the role permissions federated_role::access_forward,
 * administrator_role::admin_panel_access (full_privileges) and
 * administrator_role::access_all_labs. Fails on a database that already
 * has them. */
apr_status_t weblab_db_admin_bootstrap(weblab_db_admin_t *adm);

/* Set a client property (ClientProperties), replacing any old value. */
apr_status_t weblab_db_admin_property_set(weblab_db_admin_t *adm,
                                          const char *name,
                                          const char *value);

/* ---- users ---- */

/* Add a user with role, credential and groups; a login in use is APR_EEXIST,
 * an unknown role or group APR_ENOENT. */
apr_status_t weblab_db_admin_user_add(weblab_db_admin_t *adm,
                                      const weblab_db_admin_user_spec_t *u);

/* All users sorted by login (array of weblab_db_admin_user_t), from p. */
apr_status_t weblab_db_admin_user_list(weblab_db_admin_t *adm,
                                       apr_array_header_t **users,
                                       apr_pool_t *p);

/* Remove a user with its credentials, memberships and permissions. Refused
 * while the uses log refers to the user (the log is kept): disable the user
 * instead. */
apr_status_t weblab_db_admin_user_remove(weblab_db_admin_t *adm,
                                         const char *login);

/* Set disabled (1) or enabled (0). */
apr_status_t weblab_db_admin_user_disable(weblab_db_admin_t *adm,
                                          const char *login, int disabled);

/* Replace the "WebLab DB" credential: password (bcrypt) or, when password is
 * NULL, password_hash verbatim. */
apr_status_t weblab_db_admin_user_passwd(weblab_db_admin_t *adm,
                                         const char *login,
                                         const char *password,
                                         const char *password_hash);

/* Change a user's full name, email and role; NULL leaves a field as it is.
 * An unknown user or role is APR_ENOENT. */
apr_status_t weblab_db_admin_user_edit(weblab_db_admin_t *adm,
                                       const char *login,
                                       const char *full_name,
                                       const char *email, const char *role);

/* Add the users of a CSV text, one per line "login,full name,email,password"
 * (the original's "add multiple users" rows; fields may be quoted with ",
 * blank lines and lines starting with # are skipped, a header line starting
 * with "login" too), each with role and in group (both may be NULL: student,
 * no group). All or nothing: on the first bad line nothing is added and the
 * message says which line. *added (may be NULL) gets the number added. */
apr_status_t weblab_db_admin_users_csv(weblab_db_admin_t *adm, int *added,
                                       const char *csv, const char *role,
                                       const char *group);

/* Non-zero in *ok when password matches one of the user's DB credentials. */
apr_status_t weblab_db_admin_user_verify(weblab_db_admin_t *adm, int *ok,
                                         const char *login,
                                         const char *password);

/* ---- groups ---- */

/* Group names are unique in a deployment (the schema allows the same name
 * under different parents; weblab-admin refers to groups by name). */
apr_status_t weblab_db_admin_group_add(weblab_db_admin_t *adm,
                                       const char *name, const char *parent);
/* Remove a group with its memberships and permissions; refused while it has
 * subgroups. */
apr_status_t weblab_db_admin_group_remove(weblab_db_admin_t *adm,
                                          const char *name);
/* Sorted by name (array of weblab_db_admin_group_t), from p. */
apr_status_t weblab_db_admin_group_list(weblab_db_admin_t *adm,
                                        apr_array_header_t **groups,
                                        apr_pool_t *p);
/* Put a user in a group (an existing membership is APR_EEXIST) or take it
 * out (a missing one is APR_ENOENT). */
apr_status_t weblab_db_admin_group_add_user(weblab_db_admin_t *adm,
                                            const char *group,
                                            const char *login);
apr_status_t weblab_db_admin_group_remove_user(weblab_db_admin_t *adm,
                                               const char *group,
                                               const char *login);

/* ---- permissions ---- */

/* Grant experiment_allowed. Permanent ids: "<group> users::<exp>@<cat>" (as
 * the original's create), "<login>::<exp>@<cat>", "<role>_role::<exp>@<cat>".
 * Granting again to the same holder updates time, priority and
 * initialization in place (*updated = 1; may be NULL). */
apr_status_t weblab_db_admin_grant(weblab_db_admin_t *adm, int *updated,
                                   const weblab_db_admin_grant_t *g);

/* Remove the holder's experiment_allowed permission(s) for exp@cat. */
apr_status_t weblab_db_admin_revoke(weblab_db_admin_t *adm,
                                    weblab_db_admin_scope_e scope,
                                    const char *who, const char *exp_name,
                                    const char *cat_name);

/* Give a group admin_panel_access with full_privileges (permanent id
 * "<group>:admin-panel", as the original's create). */
apr_status_t weblab_db_admin_grant_admin_panel(weblab_db_admin_t *adm,
                                               const char *group);

/* Make a user instructor of a group (instructor_of_group with target_group
 * = the group's id; permanent id "<login>::instructor_of_group::<group>"):
 * the user then sees the uses of that group and its subgroups. Granting
 * twice is APR_EEXIST; revoking a missing one APR_ENOENT. */
apr_status_t weblab_db_admin_grant_instructor(weblab_db_admin_t *adm,
                                              const char *login,
                                              const char *group);
apr_status_t weblab_db_admin_revoke_instructor(weblab_db_admin_t *adm,
                                               const char *login,
                                               const char *group);

/* Every permission of every scope (array of weblab_db_admin_perm_t), roles
 * first, then groups, then users, from p. */
apr_status_t weblab_db_admin_perm_list(weblab_db_admin_t *adm,
                                       apr_array_header_t **perms,
                                       apr_pool_t *p);

/* ---- experiments and lab instances ---- */

/* Add an experiment type (its category is made when new) with its client
 * parameters; an existing exp@cat is APR_EEXIST. */
apr_status_t weblab_db_admin_experiment_add(
    weblab_db_admin_t *adm, const weblab_db_admin_experiment_spec_t *e);
/* Remove an experiment with its parameters, instances and experiment_allowed
 * permissions; refused while the uses log refers to it. */
apr_status_t weblab_db_admin_experiment_remove(weblab_db_admin_t *adm,
                                               const char *exp_name,
                                               const char *cat_name);
/* Sorted by category then name (array of weblab_db_admin_experiment_t). */
apr_status_t weblab_db_admin_experiment_list(weblab_db_admin_t *adm,
                                             apr_array_header_t **exps,
                                             apr_pool_t *p);

/* Add a lab instance (ExperimentInstance) of an existing experiment. NULL
 * or empty fields take defaults: transport "xmlrpc", api "" (discover),
 * resource_instance the instance name, resource_type "<exp_name>_queue";
 * the (experiment, instance_name) pair must be new. */
apr_status_t weblab_db_admin_instance_add(weblab_db_admin_t *adm,
                                          const weblab_instance_def_t *d);
/* Remove one lab instance; an unknown one is APR_ENOENT. */
apr_status_t weblab_db_admin_instance_remove(weblab_db_admin_t *adm,
                                             const char *exp_name,
                                             const char *cat_name,
                                             const char *instance_name);
/* All instances (array of weblab_instance_def_t), sorted. */
apr_status_t weblab_db_admin_instance_list(weblab_db_admin_t *adm,
                                           apr_array_header_t **defs,
                                           apr_pool_t *p);
/* Replace the health checkers of one lab instance with checkers (array of
 * weblab_checker_t; NULL or empty: none left). Each must pass
 * weblab_checker_problem, none may be given twice (same type and target)
 * and an instance has at most WEBLAB_DB_ADMIN_CHECKERS_MAX; an unknown
 * instance is APR_ENOENT. */
#define WEBLAB_DB_ADMIN_CHECKERS_MAX 16
apr_status_t weblab_db_admin_instance_set_checkers(
    weblab_db_admin_t *adm, const char *exp_name, const char *cat_name,
    const char *instance_name, const apr_array_header_t *checkers);
/* Every instance's checkers (array of weblab_instance_checker_t), sorted
 * by category, experiment, instance and then as given. */
apr_status_t weblab_db_admin_instance_checkers(weblab_db_admin_t *adm,
                                               apr_array_header_t **checkers,
                                               apr_pool_t *p);

/* ---- uses log ---- */

/* The latest uses first (array of weblab_db_admin_use_t); login NULL for
 * every user; limit <= 0 for no limit. An unknown login is an error. */
apr_status_t weblab_db_admin_uses(weblab_db_admin_t *adm,
                                  apr_array_header_t **uses,
                                  const char *login, int limit,
                                  apr_pool_t *p);

/* Which uses weblab_db_admin_uses_find returns; NULL or 0 fields do not
 * filter. from and to are ISO dates or date-times ("2026-11-23" or
 * "2026-11-23T10:00"); to includes the whole of a day given alone.
 * only_groups (array of apr_int64_t group ids, NULL: no restriction) keeps
 * the uses of members of those groups: an instructor's scope. */
typedef struct weblab_db_admin_use_filter_t {
    const char *login;
    const char *group;          /* members of the group or its subgroups */
    const char *exp_name;
    const char *cat_name;
    const char *from;
    const char *to;
    int limit;                  /* <= 0: no limit */
    int offset;
    const apr_array_header_t *only_groups;
} weblab_db_admin_use_filter_t;

/* A command or file of a use, in the order they were sent. */
typedef struct weblab_db_admin_interaction_t {
    int is_file;
    const char *command;        /* the command, or the file's file_info */
    const char *file_hash;      /* files: "{sha}<hex>" */
    const char *response;       /* NULL when the lab call failed */
    double before;
    double after;
} weblab_db_admin_interaction_t;

/* One use with everything the log has about it. */
typedef struct weblab_db_admin_use_detail_t {
    weblab_db_admin_use_t use;
    const char *full_name;
    const char *permanent_id;   /* the permission that allowed it */
    const char *request_info;   /* JSON text */
    double session_seconds;     /* < 0 while running */
    apr_array_header_t *interactions; /* of weblab_db_admin_interaction_t */
} weblab_db_admin_use_detail_t;

/* Uses matching f, latest first (array of weblab_db_admin_use_t) and, in
 * *total (may be NULL), how many match without limit and offset. An unknown
 * login or group is APR_ENOENT. From p. */
apr_status_t weblab_db_admin_uses_find(weblab_db_admin_t *adm,
                                       apr_array_header_t **uses, int *total,
                                       const weblab_db_admin_use_filter_t *f,
                                       apr_pool_t *p);

/* One use by id with its commands (the synthetic "@@@...@@@" ones included,
 * as the log keeps them) and files; *use = NULL when there is none, or when
 * only_groups (may be NULL) is given and the user is in none of them. */
apr_status_t weblab_db_admin_use_get(weblab_db_admin_t *adm,
                                     weblab_db_admin_use_detail_t **use,
                                     apr_int64_t id,
                                     const apr_array_header_t *only_groups,
                                     apr_pool_t *p);

/* How a use ended, in words: "finished", "client timeout", "kicked",
 * "batch", "unknown"; NULL while it runs (static strings). */
const char *weblab_db_admin_finish_reason(const weblab_db_admin_use_t *u);

/* The uses as CSV text (RFC 4180, header line first; a cell starting with
 * =, +, - or @ is prefixed with ' so that spreadsheets do not run it). */
const char *weblab_db_admin_uses_csv(const apr_array_header_t *uses,
                                     apr_pool_t *p);

/* The ids (array of apr_int64_t) of the groups a user is instructor of
 * through instructor_of_group permissions of the user, of its groups (and
 * their parents) or of its role, with all their subgroups; empty when none.
 * From p. */
apr_status_t weblab_db_admin_instructor_groups(weblab_db_admin_t *adm,
                                               apr_array_header_t **ids,
                                               const char *login,
                                               apr_pool_t *p);

/* The names (array of const char *) of the groups with those ids. */
apr_status_t weblab_db_admin_group_names(weblab_db_admin_t *adm,
                                         apr_array_header_t **names,
                                         const apr_array_header_t *ids,
                                         apr_pool_t *p);

/* ---- validation helpers (also used by weblab-admin before any I/O) ---- */

/* NULL when s is acceptable for that kind of name, otherwise a message from
 * p saying why. Kinds: "login", "full name", "email", "group",
 * "experiment", "category", "instance", "resource", "role", "client", "url",
 * "transport", "api". */
const char *weblab_db_admin_check(const char *kind, const char *s,
                                  apr_pool_t *p);

/* Split "exp@cat" at the first '@' into *exp and *cat (from p); NULL
 * message on success, otherwise why not. */
const char *weblab_db_admin_split_exp(const char **exp, const char **cat,
                                      const char *id, apr_pool_t *p);

/* The scope's name: "user", "group", "role". */
const char *weblab_db_admin_scope_name(weblab_db_admin_scope_e scope);

/* "YYYY-MM-DDTHH:MM:SS.uuuuuu" (UTC) of t, from p; years_ahead added to the
 * year (0 for t itself). */
const char *weblab_db_admin_date(apr_time_t t, int years_ahead,
                                 apr_pool_t *p);

#endif
