/* The data database at run time: who a user is, how they log in, which labs
 * they may use (permissions resolved as the original does, spec 5.2), the
 * lab instances configured, and the uses log (spec 5.4). Portable SQL on a
 * weblab_sql_t; administration (adding users, granting...) is in
 * weblab_db_admin.h. All results are allocated from the caller's pool. */
#ifndef WEBLAB_DB_H
#define WEBLAB_DB_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "weblab_sql.h"
#include "weblab_checkers.h"

typedef struct weblab_user_t {
    apr_int64_t id;
    const char *login;
    const char *full_name;
    const char *email;
    const char *role;           /* "administrator", "student"...; "" if none */
    int disabled;
} weblab_user_t;

/* A client parameter of an experiment (ExperimentClientParameter). */
typedef struct weblab_client_param_t {
    const char *name;
    const char *type;           /* string | integer | floating | bool */
    const char *value;
} weblab_client_param_t;

typedef struct weblab_experiment_t {
    apr_int64_t id;
    const char *name;
    const char *category;
    const char *start_date;     /* ISO "2026-11-23T11:40:31.255515" */
    const char *end_date;
    const char *client;         /* client id, e.g. "js" */
    apr_array_header_t *params; /* of weblab_client_param_t */
} weblab_experiment_t;

/* One experiment a user may use, after resolution (spec 1.6). */
typedef struct weblab_allowed_t {
    weblab_experiment_t *experiment;
    double time_allowed;
    int priority;
    int init_in_accounting;
    const char *permanent_id;   /* e.g. "Administrators users::dummy@Dummy experiments" */
    apr_int64_t permission_id;
    const char *scope;          /* "user", "group" or "role" */
    apr_int64_t total_uses;
    const char *latest_use;     /* ISO date or NULL when never used */
} weblab_allowed_t;

/* A lab instance as configured (ExperimentInstance joined to its experiment). */
typedef struct weblab_instance_def_t {
    const char *exp_name;
    const char *cat_name;
    const char *instance_name;  /* "exp1" */
    const char *resource_type;  /* "dummy_queue" */
    const char *resource_instance; /* "dummy1" */
    const char *transport;      /* "xmlrpc" | "http" */
    const char *url;
    const char *api;            /* "" = discover */
    const char *auth_user;
    const char *auth_password;
    int manages_polling;
} weblab_instance_def_t;

/* The user with that login, *user = NULL when none (APR_SUCCESS). */
apr_status_t weblab_db_user_by_login(weblab_user_t **user, weblab_sql_t *c,
                                     const char *login, apr_pool_t *p);

/* The stored credentials of the user for the "DB" auth type, in Auth
 * priority order (array of const char *: "<salt>{sha}<hex>" or bcrypt). */
apr_status_t weblab_db_user_passwords(apr_array_header_t **passwords,
                                      weblab_sql_t *c, apr_int64_t user_id,
                                      apr_pool_t *p);

/* Everything the user may use (array of weblab_allowed_t), from role, groups
 * (walking up parents) and user permissions; for the same experiment the
 * largest time_allowed wins; access_all_labs gives every experiment
 * (180 s, priority 100); total_uses/latest_use filled; sorted by category
 * then name. A grant naming no existing experiment, or whose time_allowed
 * or priority does not parse, is skipped. */
apr_status_t weblab_db_allowed(apr_array_header_t **allowed, weblab_sql_t *c,
                               const weblab_user_t *user, apr_pool_t *p);

/* The same choice for the one experiment name@cat, without the uses and
 * client parameters (reserve_experiment's hot path): *allowed is NULL when
 * the user may not use it or it does not exist. */
apr_status_t weblab_db_allowed_one(const weblab_allowed_t **allowed,
                                   weblab_sql_t *c, const weblab_user_t *user,
                                   const char *name, const char *cat,
                                   apr_pool_t *p);

/* Non-zero flags from permissions: admin_panel_access (or role
 * administrator), instructor (role instructor, admin or instructor_of_group). */
apr_status_t weblab_db_user_flags(int *is_admin, int *is_instructor,
                                  weblab_sql_t *c, const weblab_user_t *user,
                                  apr_pool_t *p);

/* All configured lab instances (array of weblab_instance_def_t). */
apr_status_t weblab_db_instances(apr_array_header_t **defs, weblab_sql_t *c,
                                 apr_pool_t *p);

/* A health checker of a lab instance (ExperimentInstanceChecker). */
typedef struct weblab_instance_checker_t {
    const char *exp_name;
    const char *cat_name;
    const char *instance_name;
    weblab_checker_t check;
} weblab_instance_checker_t;

/* Every configured checker (array of weblab_instance_checker_t), by
 * category, experiment and instance, then in the order they were given.
 * Fails on a database made before checkers existed (the table is created
 * by weblab_schema_upgrade_data). */
apr_status_t weblab_db_instance_checkers(apr_array_header_t **checkers,
                                         weblab_sql_t *c, apr_pool_t *p);

/* ---- uses log ---- */

/* Start a use when a lab confirms (UserUsedExperiment) with the two synthetic
 * commands "@@@initial::request@@@" (response = client_initial_data) and
 * "@@@initial::response@@@" (response = initial_configuration). Idempotent
 * per reservation_id (returns the existing id). Times are epoch seconds.
 * Opens its own write transaction (not to be called inside one);
 * APR_NOTFOUND when the experiment does not exist. */
apr_status_t weblab_db_use_start(apr_int64_t *use_id, weblab_sql_t *c,
                                 apr_int64_t user_id, const char *exp_name,
                                 const char *cat_name,
                                 const char *reservation_id, double start,
                                 const char *origin, const char *coord_address,
                                 const char *permanent_id,
                                 const char *request_info,
                                 const char *client_initial_data,
                                 const char *initial_configuration,
                                 apr_pool_t *p);

/* Record a command and the lab's response (response NULL on failure). */
apr_status_t weblab_db_use_command(weblab_sql_t *c, apr_int64_t use_id,
                                   const char *command, const char *response,
                                   double before, double after);

/* Record a file: its "{sha}<hex>" hash of the decoded content, file_info and
 * the response; the content itself is not stored ("<file not stored>"). */
apr_status_t weblab_db_use_file(weblab_sql_t *c, apr_int64_t use_id,
                                const char *content_b64,
                                const char *file_info, const char *response,
                                double before, double after, apr_pool_t *p);

/* Close a use: end date, finish_reason (0 finished, 1 client timeout,
 * 2 kicked, 3 batch), and the "@@@finish@@@" command holding end_data.
 * Idempotent (a closed use stays as it was). Opens its own write
 * transaction; APR_NOTFOUND for an unknown use_id. */
apr_status_t weblab_db_use_finish(weblab_sql_t *c, apr_int64_t use_id,
                                  double end, int finish_reason,
                                  const char *end_data);

/* ISO-8601 local-free UTC form of an epoch time: "2026-11-23T11:40:31.255515". */
const char *weblab_db_iso_date(double epoch, apr_pool_t *p);

#endif
