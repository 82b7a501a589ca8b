/* weblab-admin create DIR: a new deployment (spec 6.2, 6.3). Every option is
 * validated, with the original's messages where it had one, before anything
 * is created; then DIR gets db/ (data and coordination databases), httpd/
 * (one config per core, the front Include, the standalone front), logs/,
 * run/, pub/ and weblab.conf, and the final message says how to plug it into
 * Apache and start it. */
#include "admin.h"
#include "weblab_schema.h"

#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_lib.h>

enum {
    OPT_CORES = OPT_FIRST_FREE, OPT_START_PORT, OPT_HTTP_SERVER_PORT,
    OPT_BASE_URL, OPT_SERVER_HOST, OPT_ENABLE_HTTPS, OPT_POLL_TIME,
    OPT_ENTITY_LINK, OPT_NO_LAB, OPT_ADMIN_USER, OPT_ADMIN_NAME,
    OPT_ADMIN_PASSWORD, OPT_ADMIN_MAIL, OPT_DUMMY_NAME, OPT_DUMMY_CATEGORY,
    OPT_DUMMY_COPIES, OPT_DB_ENGINE, OPT_DB_NAME, OPT_DB_HOST, OPT_DB_PORT,
    OPT_DB_USER, OPT_DB_PASSWD, OPT_COORD_ENGINE, OPT_COORD_DB_ENGINE,
    OPT_COORD_DB_NAME, OPT_COORD_DB_USER, OPT_COORD_DB_PASSWD,
    OPT_COORD_DB_HOST, OPT_COORD_DB_PORT, OPT_COORD_REDIS_DB,
    OPT_COORD_REDIS_PASSWD, OPT_COORD_REDIS_HOST, OPT_COORD_REDIS_PORT,
    OPT_NOT_INTERACTIVE, OPT_ADD_TEST_DATA, OPT_MODULE_PATH,
    OPT_EXPSRV_PATH, OPT_HTDOCS_PATH, OPT_HTTPD_BIN, OPT_RUN_AS,
    OPT_MYSQL_ADMIN_USER, OPT_MYSQL_ADMIN_PASSWD, OPT_THREADS_PER_CHILD,
    OPT_MAX_REQUEST_WORKERS, OPT_FRONT_MAX_REQUEST_WORKERS,
    OPT_KEEPALIVE_TIMEOUT
};

const apr_getopt_option_t admin_create_options[] = {
    { "force", 'f', 0, "overwrite an existing directory" },
    { "quiet", 'q', 0, "print nothing but errors" },
    { "verbose", 'v', 0, "accepted for compatibility" },
    { "not-interactive", OPT_NOT_INTERACTIVE, 0, "never prompt (only a "
      "missing MySQL database prompts, for administrator credentials)" },
    { "cores", OPT_CORES, 1, "=N number of core httpd instances (1)" },
    { "start-port", OPT_START_PORT, 1, "=P first port: cores, then "
      "experiment servers (10000)" },
    { "http-server-port", OPT_HTTP_SERVER_PORT, 1, "=P run a front httpd of "
      "the deployment on P instead of using the system's Apache" },
    { "base-url", OPT_BASE_URL, 1, "=URL prefix before /weblab/, e.g. /labs "
      "(\"\")" },
    { "server-host", OPT_SERVER_HOST, 1, "=HOST host name students use "
      "(localhost)" },
    { "enable-https", OPT_ENABLE_HTTPS, 0, "students use https" },
    { "poll-time", OPT_POLL_TIME, 1, "=SECONDS a reservation expires after "
      "this long without polling (350)" },
    { "system-identifier", 'i', 1, "=TEXT human name of this system" },
    { "entity-link", OPT_ENTITY_LINK, 1, "=URL link of the institution "
      "(http://www.yourentity.edu)" },
    { "add-test-data", OPT_ADD_TEST_DATA, 0, "add students student1..4 "
      "(password \"password\") in group Students, allowed to use the dummy "
      "lab" },
    { "admin-user", OPT_ADMIN_USER, 1, "=LOGIN first administrator (admin)" },
    { "admin-name", OPT_ADMIN_NAME, 1, "=NAME its full name (Administrator)" },
    { "admin-password", OPT_ADMIN_PASSWORD, 1, "=PASSWORD its password "
      "(password)" },
    { "admin-mail", OPT_ADMIN_MAIL, 1, "=EMAIL its email address, also the "
      "contact shown on errors (\"\")" },
    { "no-lab", OPT_NO_LAB, 0, "no dummy experiment and no experiment "
      "servers" },
    { "dummy-experiment-name", OPT_DUMMY_NAME, 1, "=NAME dummy experiment "
      "name (dummy)" },
    { "dummy-category-name", OPT_DUMMY_CATEGORY, 1, "=NAME its category "
      "(Dummy experiments)" },
    { "dummy-copies", OPT_DUMMY_COPIES, 1, "=N dummy lab instances, one "
      "experiment server each (1)" },
    { "db-engine", OPT_DB_ENGINE, 1, "=ENGINE data database: sqlite or "
      "mysql (sqlite)" },
    { "db-name", OPT_DB_NAME, 1, "=NAME data database name; with sqlite "
      "the file db/NAME.db (WebLab)" },
    { "db-host", OPT_DB_HOST, 1, "=HOST data database host (mysql; "
      "localhost)" },
    { "db-port", OPT_DB_PORT, 1, "=PORT data database port (mysql; 3306)" },
    { "db-user", OPT_DB_USER, 1, "=USER data database user (mysql; weblab)" },
    { "db-passwd", OPT_DB_PASSWD, 1, "=PASSWORD data database password "
      "(mysql; weblab)" },
    { "coordination-engine", OPT_COORD_ENGINE, 1, "=ENGINE scheduler: sql "
      "" },
    { "coordination-db-engine", OPT_COORD_DB_ENGINE, 1, "=ENGINE coordination "
      "database: sqlite or mysql (sqlite)" },
    { "coordination-db-name", OPT_COORD_DB_NAME, 1, "=NAME coordination "
      "database name (WebLabCoordination)" },
    { "coordination-db-user", OPT_COORD_DB_USER, 1, "=USER (mysql; weblab)" },
    { "coordination-db-passwd", OPT_COORD_DB_PASSWD, 1, "=PASSWORD (mysql; "
      "weblab)" },
    { "coordination-db-host", OPT_COORD_DB_HOST, 1, "=HOST (mysql; "
      "localhost)" },
    { "coordination-db-port", OPT_COORD_DB_PORT, 1, "=PORT (mysql; 3306)" },
    { "mysql-admin-username", OPT_MYSQL_ADMIN_USER, 1, "=USER a MySQL "
      "administrator: creates missing databases and their users" },
    { "mysql-admin-password", OPT_MYSQL_ADMIN_PASSWD, 1, "=PASSWORD its "
      "password" },
    { "coordination-redis-db", OPT_COORD_REDIS_DB, 1, "=N (redis)" },
    { "coordination-redis-passwd", OPT_COORD_REDIS_PASSWD, 1, "=PASSWORD "
      "(redis)" },
    { "coordination-redis-host", OPT_COORD_REDIS_HOST, 1, "=HOST (redis)" },
    { "coordination-redis-port", OPT_COORD_REDIS_PORT, 1, "=PORT (redis)" },
    { "module-path", OPT_MODULE_PATH, 1, "=FILE mod_weblab.so to load (the "
      "build tree's, else the installed one)" },
    { "experiment-server-path", OPT_EXPSRV_PATH, 1, "=FILE experiment_server "
      "program (the build tree's, else the installed one)" },
    { "htdocs-path", OPT_HTDOCS_PATH, 1, "=DIR the web client's files" },
    { "httpd-bin", OPT_HTTPD_BIN, 1, "=FILE the httpd program (the one "
      "configure found)" },
    { "run-as", OPT_RUN_AS, 1, "=USER when run as root: owner of DIR and "
      "user of every process (www-data)" },
    { "threads-per-child", OPT_THREADS_PER_CHILD, 1, "=N ThreadsPerChild of "
      "every httpd (64)" },
    { "max-request-workers", OPT_MAX_REQUEST_WORKERS, 1, "=N "
      "MaxRequestWorkers of each core, a multiple of ThreadsPerChild: about "
      "the students connected at once (256 per CPU, at most 1024 and one per "
      "4 MiB of RAM)" },
    { "front-max-request-workers", OPT_FRONT_MAX_REQUEST_WORKERS, 1, "=N "
      "MaxRequestWorkers of the front of --http-server-port (as a core's)" },
    { "keepalive-timeout", OPT_KEEPALIVE_TIMEOUT, 1, "=SECONDS "
      "KeepAliveTimeout of the cores, 0 for KeepAlive Off (5)" },
    { NULL, 0, 0, NULL }
};

/* Everything create needs, validated. */
typedef struct {
    const char *dir;            /* absolute */
    const char *dir_arg;        /* as typed */
    int force, quiet, no_lab, test_data, https;
    int cores, start_port, front_port, poll_time, copies;
    const char *base_url, *server_host, *identifier, *entity_link;
    const char *admin_user, *admin_name, *admin_password, *admin_mail;
    const char *dummy_name, *dummy_category;
    const char *db_name, *coord_db_name;
    const char *db_dsn, *coord_dsn;     /* sqlite:... or mysql://...;
                                         * coord_dsn: redis://... for redis */
    const char *coord_engine;           /* "sql" or "redis" */
    const char *mysql_admin_user, *mysql_admin_passwd;
    int interactive;
    const char *module, *expsrv, *htdocs, *httpd_bin, *run_as;
    admin_paths_t paths;
    admin_mpm_t mpm;
} create_t;

/* ---- validation ---- */

static const char *opt_or(const admin_args_t *a, int id, const char *dflt)
{
    const char *v = admin_opt(a, id);

    return v ? v : dflt;
}

static int engine_check(const char *option, const char *value,
                        const char *supported, const char *later)
{
    if (!strcmp(value, supported)) {
        return ADMIN_EXIT_OK;
    }
    if (!strcmp(value, later)) {
        return admin_error("%s %s is not supported yet (use %s)", option,
                           value, supported);
    }
    return admin_error("unknown %s '%s' (%s or %s)", option, value, later,
                       supported);
}

/* The original's multi-core check, then the engines we have. */
static int check_engines(const admin_args_t *a, int cores)
{
    const char *db = opt_or(a, OPT_DB_ENGINE, "sqlite");
    const char *coord = opt_or(a, OPT_COORD_ENGINE, "sql");
    const char *coord_db = opt_or(a, OPT_COORD_DB_ENGINE, "sqlite");
    int rc;

    if (cores > 1) {
        int sql_coord = !strcmp(coord, "sql") && !strcmp(coord_db, "sqlite");
        int sql_db = !strcmp(db, "sqlite");

        if (sql_coord || sql_db) {
            return admin_error("sqlite engine selected for %s%s%s is "
                               "incompatible with multiple cores",
                               sql_coord ? "coordination" : "",
                               sql_coord && sql_db ? ", " : "",
                               sql_db ? "general database" : "");
        }
    }
    if (cores <= 0) {
        return admin_error("There must be at least one core server.");
    }
    if ((strcmp(db, "mysql")
         && (rc = engine_check("--db-engine", db, "sqlite", "mysql")))
        || (strcmp(coord, "redis")
            && (rc = engine_check("--coordination-engine", coord, "sql",
                                  "redis")) != ADMIN_EXIT_OK)) {
        return rc;
    }
    if (!strcmp(coord, "sql") && strcmp(coord_db, "mysql")) {
        return engine_check("--coordination-db-engine", coord_db, "sqlite",
                            "mysql");
    }
    return ADMIN_EXIT_OK;
}

static int check_text(const char *option, const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || strchr("\"\\`$", *s)) {
            return admin_error("%s must not contain control characters, "
                               "quotes, '\\', '`' or '$'", option);
        }
    }
    return ADMIN_EXIT_OK;
}

static int check_base_url(const char **out, const char *in, apr_pool_t *p)
{
    char *s = apr_pstrdup(p, in);
    size_t n;
    const char *c;

    for (c = s; *c; c++) {
        if (!apr_isalnum(*c) && !strchr("._~/-", *c)) {
            return admin_error("--base-url '%s' contains '%c': use letters, "
                               "digits and ._~/-", in, *c);
        }
    }
    if (*s && *s != '/') {
        s = apr_pstrcat(p, "/", s, NULL);
    }
    n = strlen(s);
    while (n > 0 && s[n - 1] == '/') {
        s[--n] = '\0';
    }
    if (strstr(s, "//") || strstr(s, "/../") || strstr(s, "/./")) {
        return admin_error("--base-url '%s' is not a plain path", in);
    }
    *out = s;
    return ADMIN_EXIT_OK;
}

static int check_db_name(const char *option, const char *s)
{
    const char *c;

    for (c = s; *c; c++) {
        if (!apr_isalnum(*c) && *c != '_' && *c != '-') {
            break;
        }
    }
    if (!*s || *c || strlen(s) > 64) {
        return admin_error("%s '%s': use letters, digits, '_' and '-'",
                           option, s);
    }
    return ADMIN_EXIT_OK;
}

/* The path exists and is executable/readable, else a warning. */
static void note_missing(const create_t *cr, const char *what,
                         const char *path, int mode)
{
    if (!cr->quiet && access(path, mode)) {
        admin_warn("%s %s does not exist yet; start needs it", what, path);
    }
}

/* Can user reach (search) path? Answered by a child that becomes user. */
static int user_can_reach(const char *user, const char *path)
{
    struct passwd *pw = getpwnam(user);
    pid_t pid;
    int status;

    if (!pw) {
        return 0;
    }
    pid = fork();
    if (pid == 0) {
        if (setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
            _exit(2);
        }
        _exit(access(path, X_OK) ? 1 : 0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        return 0;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int check_root(create_t *cr, apr_pool_t *p)
{
    struct passwd *pw;
    char *parent;

    if (geteuid() != 0) {
        if (cr->run_as) {
            return admin_error("--run-as needs root privileges");
        }
        return ADMIN_EXIT_OK;
    }
    if (!cr->run_as) {
        cr->run_as = "www-data";
    }
    pw = getpwnam(cr->run_as);
    if (!pw) {
        return admin_error("user '%s' does not exist (--run-as names the "
                           "user the deployment runs as)", cr->run_as);
    }
    if (pw->pw_uid == 0) {
        return admin_error("Apache refuses to run as root: --run-as must "
                           "name an unprivileged user");
    }
    parent = apr_pstrdup(p, cr->dir);
    *strrchr(parent, '/') = '\0';
    if (!*parent) {
        parent = "/";
    }
    if (!user_can_reach(cr->run_as, parent)) {
        return admin_error("user %s cannot reach %s (a directory on the way "
                           "is not searchable by it); create the deployment "
                           "elsewhere, e.g. under /srv, or use --run-as",
                           cr->run_as, parent);
    }
    return ADMIN_EXIT_OK;
}

static int check_dir(create_t *cr, apr_pool_t *p)
{
    struct stat st;

    if (!admin_safe_path(cr->dir)) {
        return admin_error("the directory '%s' has characters that cannot "
                           "be written into an httpd configuration: use "
                           "letters, digits and any of ._/+@,=-", cr->dir);
    }
    if (stat(cr->dir, &st) == 0) {
        if (!cr->force) {
            return admin_error("Directory %s already exists. Use --force if "
                               "you want to overwrite the contents.",
                               cr->dir_arg);
        }
        if (!S_ISDIR(st.st_mode)) {
            return admin_error("%s is not a directory. Delete it before "
                               "proceeding.", cr->dir_arg);
        }
        if (access(apr_pstrcat(p, cr->dir, "/weblab.conf", NULL), F_OK)
            == 0) {
            admin_deploy_t *old;
            const char *who;

            if (admin_deploy_read(&old, cr->dir, p) == ADMIN_EXIT_OK
                && admin_deploy_running(old, &who, p)) {
                return admin_error("the deployment in %s is running (%s): "
                                   "stop it first", cr->dir, who);
            }
        }
    }
    return ADMIN_EXIT_OK;
}

/* The two DSNs: SQLite files in DIR/db, or MySQL databases from the
 * --db-* and --coordination-db-* options (the original's defaults). */
static int database_dsns(create_t *cr, const admin_args_t *a, apr_pool_t *p)
{
    int rc;

    cr->mysql_admin_user = admin_opt(a, OPT_MYSQL_ADMIN_USER);
    cr->mysql_admin_passwd = opt_or(a, OPT_MYSQL_ADMIN_PASSWD, "");
    cr->interactive = !admin_flag(a, OPT_NOT_INTERACTIVE);
    if (strcmp(opt_or(a, OPT_DB_ENGINE, "sqlite"), "mysql")) {
        cr->db_dsn = apr_psprintf(p, "sqlite:%s/db/%s.db", cr->dir,
                                  cr->db_name);
    }
    else if ((rc = admin_mysql_dsn(&cr->db_dsn, "db",
                                   opt_or(a, OPT_DB_HOST, "localhost"),
                                   admin_opt(a, OPT_DB_PORT),
                                   opt_or(a, OPT_DB_USER, "weblab"),
                                   opt_or(a, OPT_DB_PASSWD, "weblab"),
                                   cr->db_name, p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (!strcmp(opt_or(a, OPT_COORD_ENGINE, "sql"), "redis")) {
        /* the --coordination-redis-* options, as the original's */
        const char *pw = admin_opt(a, OPT_COORD_REDIS_PASSWD);

        cr->coord_engine = "redis";
        cr->coord_dsn = apr_psprintf(p, "redis://%s%s%s%s:%s/%s",
            pw ? ":" : "", pw ? weblab_pct_encode(pw, p) : "", pw ? "@" : "",
            opt_or(a, OPT_COORD_REDIS_HOST, "localhost"),
            opt_or(a, OPT_COORD_REDIS_PORT, "6379"),
            opt_or(a, OPT_COORD_REDIS_DB, "0"));
        return ADMIN_EXIT_OK;
    }
    cr->coord_engine = "sql";
    if (strcmp(opt_or(a, OPT_COORD_DB_ENGINE, "sqlite"), "mysql")) {
        cr->coord_dsn = apr_psprintf(p, "sqlite:%s/db/%s.db", cr->dir,
                                     cr->coord_db_name);
        return ADMIN_EXIT_OK;
    }
    return admin_mysql_dsn(&cr->coord_dsn, "coordination-db",
                           opt_or(a, OPT_COORD_DB_HOST, "localhost"),
                           admin_opt(a, OPT_COORD_DB_PORT),
                           opt_or(a, OPT_COORD_DB_USER, "weblab"),
                           opt_or(a, OPT_COORD_DB_PASSWD, "weblab"),
                           cr->coord_db_name, p);
}

/* The httpd sizing: the options given, the machine's defaults for the
 * rest, checked as httpd would (it lowers a bad value with a warning). */
static int mpm_options(create_t *cr, const admin_args_t *a, apr_pool_t *p)
{
    const struct {
        int id;
        const char *name;
        int *value;
    } opts[] = {
        { OPT_THREADS_PER_CHILD, "--threads-per-child",
          &cr->mpm.threads_per_child },
        { OPT_MAX_REQUEST_WORKERS, "--max-request-workers",
          &cr->mpm.max_request_workers },
        { OPT_FRONT_MAX_REQUEST_WORKERS, "--front-max-request-workers",
          &cr->mpm.front_max_request_workers },
        { OPT_KEEPALIVE_TIMEOUT, "--keepalive-timeout",
          &cr->mpm.keepalive_timeout },
    };
    const char *why;
    size_t i;
    int rc, given = 0;

    admin_mpm_init(&cr->mpm);
    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        if (!admin_opt(a, opts[i].id)) {
            continue;
        }
        if ((rc = admin_opt_int(opts[i].value, a, opts[i].id, opts[i].name,
                                0)) != ADMIN_EXIT_OK) {
            return rc;
        }
        given = 1;
    }
    if (admin_opt(a, OPT_FRONT_MAX_REQUEST_WORKERS) && !cr->front_port) {
        return admin_error("--front-max-request-workers sizes the front of "
                           "--http-server-port; without it the deployment "
                           "has no front of its own");
    }
    admin_mpm_complete(&cr->mpm, cr->cores, p);
    if ((why = admin_mpm_check(&cr->mpm, 1, p))) {
        return admin_error("%s", why);
    }
    /* weblab.conf's comment says where they come from; once written there
     * they count as the operator's */
    cr->mpm.origin = !cr->mpm.computed ? "as given to create"
        : given ? apr_pstrcat(p, cr->mpm.computed, "; the others as given "
                              "to create", NULL)
        : cr->mpm.computed;
    cr->mpm.computed = NULL;
    return ADMIN_EXIT_OK;
}

static int parse_options(create_t *cr, const admin_args_t *a, apr_pool_t *p)
{
    int rc, needed, redis_port, db_port;

    memset(cr, 0, sizeof(*cr));
    cr->dir_arg = APR_ARRAY_IDX(a->pos, 0, const char *);
    cr->dir = admin_abspath(cr->dir_arg, p);
    cr->force = admin_flag(a, 'f');
    cr->quiet = admin_flag(a, 'q');
    cr->no_lab = admin_flag(a, OPT_NO_LAB);
    cr->test_data = admin_flag(a, OPT_ADD_TEST_DATA);
    cr->https = admin_flag(a, OPT_ENABLE_HTTPS);
    if ((rc = admin_opt_int(&cr->cores, a, OPT_CORES, "--cores", 1))
        || (rc = admin_opt_int(&cr->start_port, a, OPT_START_PORT,
                               "--start-port", 10000))
        || (rc = admin_opt_int(&cr->front_port, a, OPT_HTTP_SERVER_PORT,
                               "--http-server-port", 0))
        || (rc = admin_opt_int(&cr->poll_time, a, OPT_POLL_TIME,
                               "--poll-time", 350))
        || (rc = admin_opt_int(&cr->copies, a, OPT_DUMMY_COPIES,
                               "--dummy-copies", 1))
        || (rc = admin_opt_int(&db_port, a, OPT_DB_PORT, "--db-port", 0))
        || (rc = admin_opt_int(&db_port, a, OPT_COORD_DB_PORT,
                               "--coordination-db-port", 0))
        || (rc = admin_opt_int(&redis_port, a, OPT_COORD_REDIS_PORT,
                               "--coordination-redis-port", 0))
        || (rc = admin_opt_int(&redis_port, a, OPT_COORD_REDIS_DB,
                               "--coordination-redis-db", 0))) {
        return rc;
    }
    if ((rc = check_engines(a, cr->cores)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (cr->start_port < 1 || cr->start_port >= 65535) {
        return admin_error("starting port number must be at least 1");
    }
    if (cr->cores > 64) {
        return admin_error("at most 64 core servers");
    }
    if (!cr->no_lab && (cr->copies < 1 || cr->copies > 1000)) {
        return admin_error("--dummy-copies must be between 1 and 1000");
    }
    needed = cr->cores + (cr->no_lab ? 0 : cr->copies);
    if (cr->start_port + needed - 1 > 65535) {
        return admin_error("--start-port %d leaves no room for %d ports "
                           "(cores and experiment servers)", cr->start_port,
                           needed);
    }
    if (admin_opt(a, OPT_HTTP_SERVER_PORT)
        && (cr->front_port < 1 || cr->front_port > 65535)) {
        return admin_error("--http-server-port must be between 1 and 65535");
    }
    if (cr->front_port >= cr->start_port
        && cr->front_port < cr->start_port + needed) {
        return admin_error("--http-server-port %d is one of the ports from "
                           "--start-port (%d-%d)", cr->front_port,
                           cr->start_port, cr->start_port + needed - 1);
    }
    if (cr->poll_time < 1) {
        return admin_error("--poll-time must be at least 1 second");
    }
    if ((rc = mpm_options(cr, a, p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if ((rc = check_base_url(&cr->base_url, opt_or(a, OPT_BASE_URL, ""), p))
        != ADMIN_EXIT_OK) {
        return rc;
    }
    cr->server_host = opt_or(a, OPT_SERVER_HOST, "localhost");
    {
        const char *c;

        for (c = cr->server_host; *c; c++) {
            if (!apr_isalnum(*c) && !strchr(".-:[]", *c)) {
                break;
            }
        }
        if (!*cr->server_host || *c) {
            return admin_error("--server-host '%s' is not a host name",
                               cr->server_host);
        }
    }
    cr->identifier = opt_or(a, 'i', "");
    cr->entity_link = opt_or(a, OPT_ENTITY_LINK, "http://www.yourentity.edu");
    cr->admin_user = opt_or(a, OPT_ADMIN_USER, "admin");
    cr->admin_name = opt_or(a, OPT_ADMIN_NAME, "Administrator");
    cr->admin_password = opt_or(a, OPT_ADMIN_PASSWORD, "password");
    cr->admin_mail = opt_or(a, OPT_ADMIN_MAIL, "");
    cr->dummy_name = opt_or(a, OPT_DUMMY_NAME, "dummy");
    cr->dummy_category = opt_or(a, OPT_DUMMY_CATEGORY, "Dummy experiments");
    cr->db_name = opt_or(a, OPT_DB_NAME, "WebLab");
    cr->coord_db_name = opt_or(a, OPT_COORD_DB_NAME, "WebLabCoordination");
    {
        const struct {
            const char *kind, *option, *value;
        } names[] = {
            { "login", "--admin-user", cr->admin_user },
            { "full name", "--admin-name", cr->admin_name },
            { "email", "--admin-mail", cr->admin_mail },
            { "experiment", "--dummy-experiment-name", cr->dummy_name },
            { "category", "--dummy-category-name", cr->dummy_category },
        };
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            const char *why = weblab_db_admin_check(names[i].kind,
                                                    names[i].value, p);

            if (why) {
                return admin_error("%s: %s", names[i].option, why);
            }
        }
    }
    if (!*cr->admin_password) {
        return admin_error("--admin-password must not be empty");
    }
    if ((rc = check_text("--system-identifier", cr->identifier))
        || (rc = check_text("--entity-link", cr->entity_link))
        || (rc = check_db_name("--db-name", cr->db_name))
        || (rc = check_db_name("--coordination-db-name", cr->coord_db_name))
        || (!strcmp(cr->db_name, cr->coord_db_name)
            && (rc = admin_error("--db-name and --coordination-db-name must "
                                 "differ")))) {
        return rc;
    }
    if ((rc = database_dsns(cr, a, p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    admin_paths_find(&cr->paths, p);
    cr->module = admin_abspath(opt_or(a, OPT_MODULE_PATH, cr->paths.module),
                               p);
    cr->expsrv = admin_abspath(opt_or(a, OPT_EXPSRV_PATH,
                                      cr->paths.experiment_server), p);
    cr->htdocs = admin_abspath(opt_or(a, OPT_HTDOCS_PATH, cr->paths.htdocs),
                               p);
    cr->httpd_bin = opt_or(a, OPT_HTTPD_BIN, cr->paths.httpd_bin);
    cr->run_as = admin_opt(a, OPT_RUN_AS);
    {
        const char *paths[] = { cr->module, cr->expsrv, cr->htdocs,
                                cr->httpd_bin, NULL };
        int i;

        for (i = 0; paths[i]; i++) {
            if (!admin_safe_path(paths[i])) {
                return admin_error("the path '%s' cannot be written into an "
                                   "httpd configuration: use letters, digits "
                                   "and any of ._/+@,=-", paths[i]);
            }
        }
    }
    if ((rc = check_dir(cr, p)) != ADMIN_EXIT_OK
        || (rc = check_root(cr, p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (access(cr->httpd_bin, X_OK)) {
        return admin_error("the httpd program %s cannot be run (install the "
                           "Debian package apache2, or give --httpd-bin)",
                           cr->httpd_bin);
    }
    return ADMIN_EXIT_OK;
}

/* ---- building ---- */

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag,
                     struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return lchown(path, chown_uid, chown_gid) ? -1 : 0;
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Make DIR (as root: owned by the run-as user, then become that user). */
static int make_dir(create_t *cr, int *made)
{
    *made = 0;
    if (mkdir(cr->dir, 0755) == 0) {
        *made = 1;
    }
    else if (errno != EEXIST) {
        return admin_error("Could not create directory %s: %s", cr->dir_arg,
                           strerror(errno));
    }
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam(cr->run_as);

        chown_uid = pw->pw_uid;
        chown_gid = pw->pw_gid;
        if (nftw(cr->dir, chown_one, 16, FTW_PHYS)) {
            return admin_error("could not give %s to %s: %s", cr->dir,
                               cr->run_as, strerror(errno));
        }
        return admin_drop_privileges_to_user(cr->run_as);
    }
    return ADMIN_EXIT_OK;
}

static int make_subdirs(const create_t *cr, apr_pool_t *p)
{
    static const char *const subdirs[] = {
        "db", "httpd", "logs", "run", "pub", NULL
    };
    int i;

    for (i = 0; subdirs[i]; i++) {
        const char *d = apr_pstrcat(p, cr->dir, "/", subdirs[i], NULL);

        if (mkdir(d, !strcmp(subdirs[i], "db") ? 0750 : 0755)
            && errno != EEXIST) {
            return admin_error("Could not create directory %s: %s", d,
                               strerror(errno));
        }
    }
    return ADMIN_EXIT_OK;
}

/* With --force: the old databases and pid files go. */
static void clean_old(const create_t *cr, apr_pool_t *p)
{
    static const char *const suffixes[] = { ".db", ".db-wal", ".db-shm",
                                            ".db-journal", NULL };
    const char *names[] = { cr->db_name, cr->coord_db_name, NULL };
    apr_dir_t *d;
    apr_finfo_t fi;
    int i, j;

    for (i = 0; names[i]; i++) {
        for (j = 0; suffixes[j]; j++) {
            unlink(apr_pstrcat(p, cr->dir, "/db/", names[i], suffixes[j],
                               NULL));
        }
    }
    if (apr_dir_open(&d, apr_pstrcat(p, cr->dir, "/run", NULL), p)
        == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
            size_t n = strlen(fi.name);

            if (n > 4 && !strcmp(fi.name + n - 4, ".pid")) {
                unlink(apr_pstrcat(p, cr->dir, "/run/", fi.name, NULL));
            }
        }
        apr_dir_close(d);
    }
}

static int db_fail(weblab_db_admin_t *adm, const char *what)
{
    return admin_error("%s: %s", what, weblab_db_admin_error(adm));
}

static void add_param(apr_array_header_t *a, const char *name,
                      const char *type, const char *value)
{
    weblab_client_param_t *cp = apr_array_push(a);

    cp->name = name;
    cp->type = type;
    cp->value = value;
}

static int fill_data(weblab_db_admin_t *adm, const create_t *cr,
                     const admin_deploy_t *dep, apr_pool_t *p)
{
    apr_array_header_t *groups = apr_array_make(p, 1, sizeof(const char *));
    weblab_db_admin_user_spec_t admin = { 0 };
    int i;

    if (weblab_db_admin_bootstrap(adm)) {
        return db_fail(adm, "creating the data database");
    }
    if (weblab_db_admin_group_add(adm, "Administrators", NULL)
        || weblab_db_admin_grant_admin_panel(adm, "Administrators")) {
        return db_fail(adm, "adding group Administrators");
    }
    APR_ARRAY_PUSH(groups, const char *) = "Administrators";
    admin.login = cr->admin_user;
    admin.full_name = cr->admin_name;
    admin.email = cr->admin_mail;
    admin.role = "administrator";
    admin.password = cr->admin_password;
    admin.groups = groups;
    if (weblab_db_admin_user_add(adm, &admin)) {
        return db_fail(adm, "adding the administrator");
    }
    if (!cr->no_lab) {
        weblab_db_admin_experiment_spec_t e = { 0 };
        weblab_db_admin_grant_t g = { 0 };

        e.exp_name = cr->dummy_name;
        e.cat_name = cr->dummy_category;
        e.client = "js";
        e.params = apr_array_make(p, 2, sizeof(weblab_client_param_t));
        add_param(e.params, "html.file", "string", "nativelabs/dummy.html");
        add_param(e.params, "builtin", "bool", "True");
        g.scope = WEBLAB_DB_ADMIN_GROUP;
        g.who = "Administrators";
        g.exp_name = cr->dummy_name;
        g.cat_name = cr->dummy_category;
        g.time_allowed = 200;
        g.priority = -1;
        g.init_in_accounting = -1;
        if (weblab_db_admin_experiment_add(adm, &e)
            || weblab_db_admin_grant(adm, NULL, &g)) {
            return db_fail(adm, "adding the dummy experiment");
        }
        for (i = 0; i < dep->labs->nelts; i++) {
            const admin_lab_t *lab = &APR_ARRAY_IDX(dep->labs, i,
                                                    admin_lab_t);
            weblab_instance_def_t d = { 0 };

            d.exp_name = cr->dummy_name;
            d.cat_name = cr->dummy_category;
            d.instance_name = lab->name;
            d.resource_instance = apr_psprintf(p, "dummy%d", i + 1);
            d.resource_type = "dummy_queue";
            d.transport = "xmlrpc";
            d.url = apr_psprintf(p, "http://127.0.0.1:%d/", lab->port);
            if (weblab_db_admin_instance_add(adm, &d)) {
                return db_fail(adm, "adding the dummy lab instances");
            }
        }
    }
    if (cr->test_data) {
        weblab_db_admin_grant_t g = { 0 };

        if (weblab_db_admin_group_add(adm, "Students", NULL)) {
            return db_fail(adm, "adding the test data");
        }
        for (i = 1; i <= 4; i++) {
            weblab_db_admin_user_spec_t u = { 0 };
            apr_array_header_t *sg = apr_array_make(p, 1,
                                                    sizeof(const char *));

            APR_ARRAY_PUSH(sg, const char *) = "Students";
            u.login = apr_psprintf(p, "student%d", i);
            u.full_name = apr_psprintf(p, "Name of student %d", i);
            u.role = "student";
            u.password = "password";
            u.groups = sg;
            if (weblab_db_admin_user_add(adm, &u)) {
                return db_fail(adm, "adding the test data");
            }
        }
        g.scope = WEBLAB_DB_ADMIN_GROUP;
        g.who = "Students";
        g.exp_name = cr->dummy_name;
        g.cat_name = cr->dummy_category;
        g.time_allowed = 200;
        g.priority = -1;
        g.init_in_accounting = -1;
        if (!cr->no_lab && weblab_db_admin_grant(adm, NULL, &g)) {
            return db_fail(adm, "adding the test data");
        }
    }
    if (weblab_db_admin_property_set(adm, "demo.available", "False")
        || weblab_db_admin_property_set(adm, "admin.email", cr->admin_mail)
        || weblab_db_admin_property_set(adm, "host.entity.link",
                                        cr->entity_link)) {
        return db_fail(adm, "setting the client properties");
    }
    return ADMIN_EXIT_OK;
}

static int make_databases(const create_t *cr, const admin_deploy_t *dep,
                          apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    weblab_sql_t *c;
    int rc;

    if (weblab_sql_open(&c, dep->database, p) != APR_SUCCESS) {
        return admin_error("cannot create the database %s",
                           weblab_sql_dsn_redact(dep->database, p));
    }
    weblab_db_admin_make(&adm, c, p);
    weblab_db_admin_begin(adm);
    rc = fill_data(adm, cr, dep, p);
    if (weblab_db_admin_end(adm, rc == ADMIN_EXIT_OK) != APR_SUCCESS
        && rc == ADMIN_EXIT_OK) {
        rc = db_fail(adm, "writing the data database");
    }
    weblab_sql_close(c);
    if (rc != ADMIN_EXIT_OK) {
        return rc;
    }
    if (!strcmp(dep->coordination_engine, "redis")) {
        /* Redis keys are made by the cores (instance sync) */
        if (weblab_sql_dsn_needs_lock(dep->database)) {
            chmod(dep->database + 7, 0640);
        }
        return ADMIN_EXIT_OK;
    }
    if (weblab_sql_open(&c, dep->coordination_database, p) != APR_SUCCESS) {
        return admin_error("cannot create the database %s",
                           weblab_sql_dsn_redact(dep->coordination_database,
                                                 p));
    }
    if (weblab_schema_create_coordination(c) != APR_SUCCESS) {
        rc = admin_error("creating the coordination database: %s",
                         weblab_sql_error(c));
    }
    weblab_sql_close(c);
    if (weblab_sql_dsn_needs_lock(dep->database)) {        /* sqlite: */
        chmod(dep->database + 7, 0640);
    }
    if (weblab_sql_dsn_needs_lock(dep->coordination_database)) {
        chmod(dep->coordination_database + 7, 0640);
    }
    return rc;
}

/* MySQL databases are made ready (created, emptied) before DIR exists, so
 * that a missing one leaves nothing behind. */
static int prepare_mysql(const create_t *cr, const admin_deploy_t *dep,
                         apr_pool_t *p)
{
    const char *dsns[] = { dep->database, dep->coordination_database };
    int i, rc;

    for (i = 0; i < 2; i++) {
        if (dsns[i] && !strncmp(dsns[i], "mysql:", 6)
            && (rc = admin_mysql_prepare(dsns[i], cr->mysql_admin_user,
                                         cr->mysql_admin_passwd, cr->force,
                                         cr->interactive, p))) {
            return rc;
        }
    }
    return ADMIN_EXIT_OK;
}

static admin_deploy_t *describe(const create_t *cr, apr_pool_t *p)
{
    admin_deploy_t *dep = apr_pcalloc(p, sizeof(*dep));
    int i, port = cr->start_port;

    dep->dir = cr->dir;
    dep->httpd_bin = cr->httpd_bin;
    dep->httpd_moduledir = cr->paths.httpd_moduledir;
    dep->module_path = cr->module;
    dep->htdocs = cr->htdocs;
    dep->database = cr->db_dsn;
    dep->coordination_engine = cr->coord_engine;
    dep->coordination_database = cr->coord_dsn;
    dep->server_host = cr->server_host;
    dep->base_url = cr->base_url;
    dep->https = cr->https;
    dep->poll_time = cr->poll_time;
    dep->server_admin = cr->admin_mail;
    dep->system_identifier = cr->identifier;
    dep->front_port = cr->front_port;
    dep->mpm = cr->mpm;
    dep->cores = apr_array_make(p, cr->cores, sizeof(int));
    for (i = 0; i < cr->cores; i++) {
        APR_ARRAY_PUSH(dep->cores, int) = port++;
    }
    dep->labs = apr_array_make(p, cr->copies, sizeof(admin_lab_t));
    for (i = 0; !cr->no_lab && i < cr->copies; i++, port++) {
        admin_lab_t *lab = apr_array_push(dep->labs);

        lab->name = apr_psprintf(p, "exp%d", i + 1);
        lab->port = port;
        lab->command = apr_psprintf(p, "%s --bind 127.0.0.1 --port %d --lab "
                                    "dummy --pid-file %s/run/%s.pid "
                                    "--log-file %s/logs/%s.log", cr->expsrv,
                                    port, cr->dir, lab->name, cr->dir,
                                    lab->name);
    }
    return dep;
}

static void final_message(const create_t *cr, const admin_deploy_t *dep,
                          const char *prog, apr_pool_t *p)
{
    const char *include = apr_psprintf(p, "Include \"%s/httpd/"
                                       "apache_weblab_generic.conf\"",
                                       cr->dir);
    const char *url = admin_server_url(dep, p);

    printf("\nCongratulations! WebLab-Deusto system created\n\n");
    if (!dep->front_port) {
        printf("Append the following line to your Apache configuration:\n\n"
               "    %s\n\n"
               "On Debian or Ubuntu, write it into a new file called\n"
               "/etc/apache2/conf-available/weblab.conf and enable it:\n\n"
               "    $ sudo a2enconf weblab\n\n"
               "And enable the modules proxy proxy_balancer proxy_http "
               "headers lbmethod_bybusyness.\nFor instance, in Debian or "
               "Ubuntu you can run:\n\n"
               "    $ sudo a2enmod proxy proxy_balancer proxy_http headers "
               "lbmethod_bybusyness\n\n"
               "Then restart apache. If you don't have apache don't worry, "
               "delete %s and\nrun the creation script again but passing "
               "--http-server-port=8000 (or any free port).\n\n"
               "Then run:\n\n", include, cr->dir_arg);
    }
    else {
        printf("Run:\n\n");
    }
    printf("     %s start %s\n\n"
           "to start the WebLab-Deusto system. From that point, you'll be "
           "able to access:\n\n", prog, cr->dir_arg);
    if (dep->front_port) {
        admin_deploy_t apache = *dep;

        apache.front_port = 0;
        printf("     http://localhost:%d%s/weblab/\n\n"
               "Or in production if you later want to deploy it in your "
               "Apache (%s):\n\n", dep->front_port, cr->base_url, include);
        url = admin_server_url(&apache, p);
    }
    printf("     %s\n\n"
           "And log in as '%s' using '%s' as password.\n\n"
           "You can also add users, groups and permissions with \"%s user "
           "add\", \"%s group add\"\nand \"%s grant\" (%s --help lists "
           "every command).\n\nEnjoy!\n\n", url, cr->admin_user,
           cr->admin_password, prog, prog, prog, prog);
}

int admin_cmd_create(const admin_cmd_t *cmd, admin_args_t *args,
                     apr_pool_t *p)
{
    admin_deploy_t *dep;
    create_t cr;
    int rc, made = 0;

    (void)cmd;
    if ((rc = parse_options(&cr, args, p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    dep = describe(&cr, p);
    note_missing(&cr, "the module", cr.module, R_OK);
    if (dep->labs->nelts) {
        note_missing(&cr, "the experiment server", cr.expsrv, X_OK);
    }
    if ((rc = prepare_mysql(&cr, dep, p)) != ADMIN_EXIT_OK
        || (rc = make_dir(&cr, &made)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (cr.force) {
        clean_old(&cr, p);
    }
    if ((rc = make_subdirs(&cr, p)) == ADMIN_EXIT_OK
        && (rc = make_databases(&cr, dep, p)) == ADMIN_EXIT_OK
        && (rc = admin_deploy_write(dep, p)) == ADMIN_EXIT_OK) {
        rc = admin_httpd_generate(dep, cr.paths.templates, 0, NULL, p);
    }
    if (rc != ADMIN_EXIT_OK) {
        if (made) {
            nftw(cr.dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        }
        return rc;
    }
    if (!cr.quiet) {
        final_message(&cr, dep, args->prog, p);
    }
    return ADMIN_EXIT_OK;
}
