/* weblab-admin: creates, starts, stops and administers a mod_weblab
 * deployment (spec section 6). Shared declarations of the tool's files:
 *   main.c        subcommand table, option parsing, --help, privileges
 *   deployment.c  DIR/weblab.conf, program locations, ports
 *   httpd_conf.c  the httpd configurations from the conf/ templates
 *   mpm.c         how many threads the httpds get (mpm.* in weblab.conf)
 *   create.c      create
 *   create_mysql.c  create's MySQL/MariaDB databases
 *   run.c         start, stop, status, restart
 *   users.c       user, group, grant, revoke, permissions
 *   labs.c        experiment, instance, uses
 * Every handler returns the exit status; failures print one "ERROR: " line
 * on stderr. */
#ifndef WEBLAB_ADMIN_H
#define WEBLAB_ADMIN_H

#include <limits.h>

#include <apr_pools.h>
#include <apr_getopt.h>
#include <apr_tables.h>
#include <jansson.h>

#include "weblab_db_admin.h"

#define ADMIN_EXIT_OK 0
#define ADMIN_EXIT_ERROR 1
#define ADMIN_EXIT_USAGE 2
#define ADMIN_EXIT_DOWN 3       /* status: something is not running */
#define ADMIN_EXIT_NO_DB 251    /* create: -5, MySQL database missing */

/* ---- command table (main.c) ---- */

/* Options parsed for one subcommand: each (id, value) in order given, and
 * the positional arguments. */
typedef struct admin_args_t {
    apr_array_header_t *opts;   /* of admin_opt_t */
    apr_array_header_t *pos;    /* of const char * */
    const char *prog;           /* basename of argv[0] */
} admin_args_t;

typedef struct admin_opt_t {
    int id;
    const char *value;          /* NULL for flags */
} admin_opt_t;

typedef struct admin_cmd_t admin_cmd_t;
typedef int admin_handler_fn(const admin_cmd_t *cmd, admin_args_t *args,
                             apr_pool_t *p);

struct admin_cmd_t {
    const char *name;           /* "create", "user add" */
    admin_handler_fn *handler;
    const char *synopsis;       /* arguments after the name */
    const char *summary;        /* one line */
    const apr_getopt_option_t *options; /* ends with a NULL name */
    int min_pos, max_pos;       /* positional arguments accepted */
};

/* Option ids above 255 for long-only options. */
enum {
    OPT_JSON = 256,
    OPT_FIRST_FREE = 300        /* first id free for the files' own enums */
};

extern const apr_getopt_option_t admin_json_option[];

/* Last value of option id, or NULL. */
const char *admin_opt(const admin_args_t *a, int id);
/* Non-zero when option id was given. */
int admin_flag(const admin_args_t *a, int id);
/* Every value of option id (array of const char *). */
apr_array_header_t *admin_opt_all(const admin_args_t *a, int id,
                                  apr_pool_t *p);
/* The integer value of option id, dflt if absent; on a malformed value
 * prints the error and returns non-zero. */
int admin_opt_int(int *out, const admin_args_t *a, int id, const char *name,
                  int dflt);
int admin_opt_double(double *out, const admin_args_t *a, int id,
                     const char *name, double dflt);

/* Print "ERROR: <fmt>" on stderr; returns ADMIN_EXIT_ERROR. */
int admin_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "WARNING: <fmt>" on stderr. */
void admin_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a JSON value on stdout (indented, newline) and free it. */
int admin_json_print(json_t *v);
/* json_string that accepts NULL (JSON null). */
json_t *admin_json_str(const char *s);

/* Aligned text table on stdout: columns separated by two spaces. */
typedef struct admin_table_t admin_table_t;
admin_table_t *admin_table_make(apr_pool_t *p, int ncols, ...);
void admin_table_row(admin_table_t *t, ...);
void admin_table_print(const admin_table_t *t);

/* Drop root privileges for good to the owner of path when euid is 0 and the
 * owner is not root. 0 on success, else prints the error. */
int admin_drop_privileges_to_owner(const char *path);
/* Drop to the named user. */
int admin_drop_privileges_to_user(const char *user);

/* ---- deployment (deployment.c) ---- */

/* An experiment server the deployment runs. */
typedef struct admin_lab_t {
    const char *name;           /* "exp1" */
    int port;
    const char *command;        /* full command line */
} admin_lab_t;

/* The MPM sizing of the httpds (weblab.conf mpm.* keys); see mpm.c. */
#define ADMIN_MPM_UNSET INT_MIN   /* so that a negative value is refused */
typedef struct admin_mpm_t {
    int threads_per_child;      /* ThreadsPerChild = ThreadLimit, all httpds */
    int max_request_workers;    /* of each core */
    int front_max_request_workers; /* of the own front */
    int keepalive_timeout;      /* of the cores, seconds; 0: KeepAlive Off */
    const char *computed;       /* which values admin_mpm_complete computed
                                 * and from what; NULL: none */
    const char *origin;         /* for weblab.conf's comment (create) */
} admin_mpm_t;

/* DIR/weblab.conf, plus derived paths. */
typedef struct admin_deploy_t {
    const char *dir;            /* absolute, no trailing '/' */
    const char *httpd_bin;
    const char *httpd_moduledir;
    const char *module_path;
    const char *htdocs;
    const char *database;       /* DSN */
    const char *coordination_engine;
    const char *coordination_database;
    const char *server_host;
    const char *base_url;       /* "" or "/x" */
    int https;
    int poll_time;
    const char *server_admin;   /* "" if unset */
    const char *system_identifier;
    int front_port;             /* 0: no front */
    apr_array_header_t *cores;  /* of int ports, core i+1 at index i */
    apr_array_header_t *labs;   /* of admin_lab_t */
    admin_mpm_t mpm;
} admin_deploy_t;

/* Program and data locations: the build tree this binary was built in when
 * it runs from there, else the installed paths. */
typedef struct admin_paths_t {
    int build_tree;
    const char *templates;      /* directory holding core-httpd.conf.in ... */
    const char *module;
    const char *experiment_server;
    const char *htdocs;
    const char *httpd_bin;
    const char *httpd_moduledir;
} admin_paths_t;

void admin_paths_find(admin_paths_t *paths, apr_pool_t *p);

/* Absolute form of dir (need not exist; its parent must), from p. */
const char *admin_abspath(const char *dir, apr_pool_t *p);

/* Read DIR/weblab.conf; prints the error and returns non-zero on failure. */
int admin_deploy_read(admin_deploy_t **dep, const char *dir, apr_pool_t *p);
/* Write DIR/weblab.conf. */
int admin_deploy_write(const admin_deploy_t *dep, apr_pool_t *p);

/* Open a deployment for a subcommand: checks DIR, drops privileges to its
 * owner when root, reads weblab.conf. */
int admin_deploy_open(admin_deploy_t **dep, const char *dir, apr_pool_t *p);
/* Bring its data database up to date (weblab_schema_upgrade_data) before
 * the cores start: says so unless quiet; a failure is only a warning (the
 * cores report an unreachable database themselves). */
void admin_db_upgrade(const admin_deploy_t *dep, int quiet, apr_pool_t *p);
/* ...and open its data database as an admin handle, brought up to date. */
int admin_db_open(weblab_db_admin_t **adm, admin_deploy_t **dep,
                  const char *dir, apr_pool_t *p);

/* Path of a file inside the deployment, from p. */
const char *admin_path(const admin_deploy_t *dep, const char *rel,
                       apr_pool_t *p);

/* Non-zero when s may be written into an Apache directive or a command line
 * unquoted (letters, digits and "._/+@,=-"). */
int admin_safe_path(const char *s);

/* ---- httpd configurations (httpd_conf.c) ---- */

/* Write DIR/httpd/core<N>.conf for every core, apache_weblab_generic.conf
 * and, with a front port, front.conf. backup: keep a changed old file as
 * <file>-backup-<timestamp>. *limits_changed (may be NULL): ServerLimit or
 * ThreadLimit differ from the old files' (a graceful restart keeps them). */
int admin_httpd_generate(const admin_deploy_t *dep, const char *templates,
                         int backup, int *limits_changed, apr_pool_t *p);

/* The URL students use: http[s]://host[:front port]<base>/weblab/. */
const char *admin_server_url(const admin_deploy_t *dep, apr_pool_t *p);

/* ---- httpd sizing (mpm.c) ---- */

/* Every field ADMIN_MPM_UNSET. */
void admin_mpm_init(admin_mpm_t *m);
/* Fill the unset fields with the defaults for `cores` cores on this
 * machine and say so in m->computed. */
void admin_mpm_complete(admin_mpm_t *m, int cores, apr_pool_t *p);
/* NULL when httpd accepts m as it is, else why, naming the settings as
 * create options (as_options) or as weblab.conf keys. */
const char *admin_mpm_check(const admin_mpm_t *m, int as_options,
                            apr_pool_t *p);
/* ServerLimit of each core (front == 0) or of the front (front == 1). */
int admin_mpm_server_limit(const admin_mpm_t *m, int front);
/* For weblab-admin status: a table, or a JSON object. */
void admin_mpm_print(const admin_deploy_t *dep, apr_pool_t *p);
json_t *admin_mpm_json(const admin_deploy_t *dep);

/* ---- MySQL databases for create (create_mysql.c) ---- */

/* The mysql:// DSN of the create options --WHAT-host/-port/-user/-passwd
 * and the database name; prints the error and returns non-zero. */
int admin_mysql_dsn(const char **dsn, const char *what, const char *host,
                    const char *port_s, const char *user, const char *passwd,
                    const char *name, apr_pool_t *p);
/* Make the database of dsn ready for create: exists (created with its user
 * given administrator credentials, or asked for when interactive) and is
 * empty (force: its tables dropped). ADMIN_EXIT_NO_DB when it cannot be
 * opened and no credentials were given. */
int admin_mysql_prepare(const char *dsn, const char *admin_user,
                        const char *admin_passwd, int force, int interactive,
                        apr_pool_t *p);

/* ---- processes (run.c) ---- */

/* Non-zero, with *who set, when a process of the deployment is running. */
int admin_deploy_running(const admin_deploy_t *dep, const char **who,
                         apr_pool_t *p);

/* ---- handlers ---- */

admin_handler_fn admin_cmd_create;
admin_handler_fn admin_cmd_httpd_config_generate;
admin_handler_fn admin_cmd_start;
admin_handler_fn admin_cmd_stop;
admin_handler_fn admin_cmd_status;
admin_handler_fn admin_cmd_restart;
admin_handler_fn admin_cmd_user_add;
admin_handler_fn admin_cmd_user_list;
admin_handler_fn admin_cmd_user_remove;
admin_handler_fn admin_cmd_user_passwd;
admin_handler_fn admin_cmd_user_verify;
admin_handler_fn admin_cmd_user_disable;
admin_handler_fn admin_cmd_user_enable;
admin_handler_fn admin_cmd_group_add;
admin_handler_fn admin_cmd_group_list;
admin_handler_fn admin_cmd_group_remove;
admin_handler_fn admin_cmd_group_add_user;
admin_handler_fn admin_cmd_group_remove_user;
admin_handler_fn admin_cmd_grant;
admin_handler_fn admin_cmd_revoke;
admin_handler_fn admin_cmd_permissions;
admin_handler_fn admin_cmd_experiment_add;
admin_handler_fn admin_cmd_experiment_list;
admin_handler_fn admin_cmd_experiment_remove;
admin_handler_fn admin_cmd_instance_add;
admin_handler_fn admin_cmd_instance_list;
admin_handler_fn admin_cmd_instance_checkers;
admin_handler_fn admin_cmd_instance_remove;
admin_handler_fn admin_cmd_uses;

/* Option tables of the handlers (defined next to them). */
extern const apr_getopt_option_t admin_create_options[];
extern const apr_getopt_option_t admin_start_options[];
extern const apr_getopt_option_t admin_stop_options[];
extern const apr_getopt_option_t admin_status_options[];
extern const apr_getopt_option_t admin_user_add_options[];
extern const apr_getopt_option_t admin_user_passwd_options[];
extern const apr_getopt_option_t admin_user_verify_options[];
extern const apr_getopt_option_t admin_group_add_options[];
extern const apr_getopt_option_t admin_grant_options[];
extern const apr_getopt_option_t admin_revoke_options[];
extern const apr_getopt_option_t admin_experiment_add_options[];
extern const apr_getopt_option_t admin_instance_add_options[];
extern const apr_getopt_option_t admin_instance_checkers_options[];
extern const apr_getopt_option_t admin_uses_options[];
extern const apr_getopt_option_t admin_no_options[];

#endif
