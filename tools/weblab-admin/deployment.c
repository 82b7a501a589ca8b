/* The deployment description DIR/weblab.conf and where the programs are.
 *
 * weblab.conf is "key = value" lines ('#' starts a comment line), read only
 * by weblab-admin. It holds what start/stop/status and
 * httpd-config-generate need, so a sysadmin may edit it (add an experiment
 * server, move a port) and regenerate:
 *
 *   httpd = /usr/sbin/apache2             core.1.port = 10000
 *   module = /.../mod_weblab.so           front.port = 8000
 *   database = sqlite:/srv/wl/db/WebLab.db
 *   lab.exp1.port = 10001
 *   lab.exp1.command = /.../experiment_server --bind 127.0.0.1 --port 10001 ...
 *   mpm.threads_per_child = 64            (httpd sizing, see mpm.c)
 */
#include "admin.h"
#include "weblab_schema.h"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_lib.h>

#ifndef WEBLAB_ABS_BUILDDIR
#define WEBLAB_ABS_BUILDDIR "."
#endif
#ifndef WEBLAB_ABS_SRCDIR
#define WEBLAB_ABS_SRCDIR "."
#endif
#ifndef WEBLAB_PKGDATADIR
#define WEBLAB_PKGDATADIR "/usr/local/share/mod_weblab"
#endif
#ifndef WEBLAB_BINDIR
#define WEBLAB_BINDIR "/usr/local/bin"
#endif

#define CONF_VERSION 1

/* Non-zero when this executable lives inside the build tree it was
 * compiled in (so "make" without "make install" is enough). */
static int in_build_tree(apr_pool_t *p)
{
    char exe[4096], build[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    size_t bl;

    (void)p;
    if (n <= 0 || !realpath(WEBLAB_ABS_BUILDDIR, build)) {
        return 0;
    }
    exe[n] = '\0';
    bl = strlen(build);
    return !strncmp(exe, build, bl) && exe[bl] == '/';
}

void admin_paths_find(admin_paths_t *paths, apr_pool_t *p)
{
    paths->build_tree = in_build_tree(p);
    paths->httpd_bin = WEBLAB_HTTPD_BIN;
    paths->httpd_moduledir = WEBLAB_HTTPD_MODULEDIR;
    if (paths->build_tree) {
        paths->templates = WEBLAB_ABS_SRCDIR "/conf";
        paths->module = WEBLAB_ABS_BUILDDIR "/mod_weblab/.libs/mod_weblab.so";
        paths->experiment_server =
            WEBLAB_ABS_BUILDDIR "/experiment_server/experiment_server";
        paths->htdocs = WEBLAB_ABS_SRCDIR "/htdocs";
    }
    else {
        paths->templates = WEBLAB_PKGDATADIR "/conf";
        paths->module = WEBLAB_HTTPD_MODULEDIR "/mod_weblab.so";
        paths->experiment_server = WEBLAB_BINDIR "/experiment_server";
        paths->htdocs = WEBLAB_PKGDATADIR "/htdocs";
    }
    /* the httpd templates elsewhere: create reads them as the deployment's
     * user, which may not reach a build tree (tools/demo stages a copy) */
    if (getenv("WEBLAB_TEMPLATES_DIR") && *getenv("WEBLAB_TEMPLATES_DIR")) {
        paths->templates = getenv("WEBLAB_TEMPLATES_DIR");
    }
}

const char *admin_abspath(const char *dir, apr_pool_t *p)
{
    char real[4096];
    char *cwd, *merged;
    size_t n;

    if (realpath(dir, real)) {
        return apr_pstrdup(p, real);
    }
    if (apr_filepath_get(&cwd, 0, p) != APR_SUCCESS
        || apr_filepath_merge(&merged, cwd, dir, 0, p) != APR_SUCCESS) {
        merged = apr_pstrdup(p, dir);
    }
    n = strlen(merged);
    while (n > 1 && merged[n - 1] == '/') {
        merged[--n] = '\0';
    }
    return merged;
}

int admin_safe_path(const char *s)
{
    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("._/+@,=-", *s)) {
            return 0;
        }
    }
    return 1;
}

const char *admin_path(const admin_deploy_t *dep, const char *rel,
                       apr_pool_t *p)
{
    return apr_pstrcat(p, dep->dir, "/", rel, NULL);
}

/* ---- reading ---- */

static char *trim(char *s)
{
    char *e;

    while (apr_isspace(*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && apr_isspace(e[-1])) {
        *--e = '\0';
    }
    return s;
}

static int parse_port(int *port, const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);

    if (!*v || *end || n < 1 || n > 65535) {
        return 0;
    }
    *port = (int)n;
    return 1;
}

static int lab_name_ok(const char *s)
{
    if (!*s || strlen(s) > 64 || !strcmp(s, "front")
        || (!strncmp(s, "core", 4) && apr_isdigit(s[4]))) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && *s != '_' && *s != '-') {
            return 0;
        }
    }
    return 1;
}

static admin_lab_t *lab_get(admin_deploy_t *dep, const char *name,
                            apr_pool_t *p)
{
    admin_lab_t *lab;
    int i;

    for (i = 0; i < dep->labs->nelts; i++) {
        lab = &APR_ARRAY_IDX(dep->labs, i, admin_lab_t);
        if (!strcmp(lab->name, name)) {
            return lab;
        }
    }
    lab = apr_array_push(dep->labs);
    lab->name = apr_pstrdup(p, name);
    lab->port = 0;
    lab->command = NULL;
    return lab;
}

/* An mpm.* value: an integer, or empty for "compute it". */
static const char *conf_mpm(admin_mpm_t *m, const char *key, const char *v,
                            apr_pool_t *p)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        { "mpm.threads_per_child",
          APR_OFFSETOF(admin_mpm_t, threads_per_child) },
        { "mpm.max_request_workers",
          APR_OFFSETOF(admin_mpm_t, max_request_workers) },
        { "mpm.front_max_request_workers",
          APR_OFFSETOF(admin_mpm_t, front_max_request_workers) },
        { "mpm.keepalive_timeout",
          APR_OFFSETOF(admin_mpm_t, keepalive_timeout) },
    };
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!strcmp(key, keys[i].key)) {
            int *field = (int *)((char *)m + keys[i].off);
            char *end;
            long n = strtol(v, &end, 10);

            if (!*v) {
                *field = ADMIN_MPM_UNSET;
                return NULL;
            }
            if (*end || n < -1000000000L || n > 1000000000L) {
                return apr_psprintf(p, "%s must be a whole number, not '%s'",
                                    key, v);
            }
            *field = (int)n;
            return NULL;
        }
    }
    return apr_psprintf(p, "unknown key '%s' (mpm.threads_per_child, "
                        "mpm.max_request_workers, "
                        "mpm.front_max_request_workers, "
                        "mpm.keepalive_timeout)", key);
}

/* One "key = value" line; returns an error message or NULL. */
static const char *conf_set(admin_deploy_t *dep, apr_hash_t *cores,
                            const char *key, const char *v, apr_pool_t *p)
{
    static const struct {
        const char *key;
        size_t off;
    } strings[] = {
        { "httpd", APR_OFFSETOF(admin_deploy_t, httpd_bin) },
        { "httpd_moduledir", APR_OFFSETOF(admin_deploy_t, httpd_moduledir) },
        { "module", APR_OFFSETOF(admin_deploy_t, module_path) },
        { "htdocs", APR_OFFSETOF(admin_deploy_t, htdocs) },
        { "database", APR_OFFSETOF(admin_deploy_t, database) },
        { "coordination_engine",
          APR_OFFSETOF(admin_deploy_t, coordination_engine) },
        { "coordination_database",
          APR_OFFSETOF(admin_deploy_t, coordination_database) },
        { "server_host", APR_OFFSETOF(admin_deploy_t, server_host) },
        { "base_url", APR_OFFSETOF(admin_deploy_t, base_url) },
        { "server_admin", APR_OFFSETOF(admin_deploy_t, server_admin) },
        { "system_identifier",
          APR_OFFSETOF(admin_deploy_t, system_identifier) },
    };
    size_t i;

    for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        if (!strcmp(key, strings[i].key)) {
            *(const char **)((char *)dep + strings[i].off) = apr_pstrdup(p, v);
            return NULL;
        }
    }
    if (!strcmp(key, "version")) {
        return atoi(v) == CONF_VERSION ? NULL
            : apr_psprintf(p, "version %s is not %d", v, CONF_VERSION);
    }
    if (!strcmp(key, "https")) {
        dep->https = !strcmp(v, "yes");
        return dep->https || !strcmp(v, "no") ? NULL : "https is yes or no";
    }
    if (!strcmp(key, "poll_time")) {
        dep->poll_time = atoi(v);
        return dep->poll_time > 0 ? NULL : "poll_time must be positive";
    }
    if (!strcmp(key, "front.port")) {
        return !*v || parse_port(&dep->front_port, v) ? NULL
            : "front.port is not a port number";
    }
    if (!strncmp(key, "mpm.", 4)) {
        return conf_mpm(&dep->mpm, key, v, p);
    }
    if (!strncmp(key, "core.", 5)) {
        char *end;
        long n = strtol(key + 5, &end, 10);
        int *port = apr_palloc(p, sizeof(int));

        if (n < 1 || n > 64 || strcmp(end, ".port")) {
            return apr_psprintf(p, "unknown key '%s' (core.N.port)", key);
        }
        if (!parse_port(port, v)) {
            return apr_psprintf(p, "%s is not a port number", key);
        }
        apr_hash_set(cores, apr_psprintf(p, "%ld", n), APR_HASH_KEY_STRING,
                     port);
        return NULL;
    }
    if (!strncmp(key, "lab.", 4)) {
        const char *dot = strrchr(key, '.');
        const char *name = dot > key + 4
            ? apr_pstrmemdup(p, key + 4, dot - (key + 4)) : "";
        admin_lab_t *lab;

        if (!lab_name_ok(name)) {
            return apr_psprintf(p, "bad experiment server name in '%s' "
                                "(letters, digits, '_' and '-'; not core<N> "
                                "or front)", key);
        }
        lab = lab_get(dep, name, p);
        if (!strcmp(dot, ".port")) {
            return parse_port(&lab->port, v) ? NULL
                : apr_psprintf(p, "%s is not a port number", key);
        }
        if (!strcmp(dot, ".command")) {
            lab->command = apr_pstrdup(p, v);
            return NULL;
        }
    }
    return apr_psprintf(p, "unknown key '%s'", key);
}

int admin_deploy_read(admin_deploy_t **out, const char *dir, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, dir, "/weblab.conf", NULL);
    admin_deploy_t *dep = apr_pcalloc(p, sizeof(*dep));
    apr_hash_t *cores = apr_hash_make(p);
    char line[8192];
    int lineno = 0, i;
    const char *why;
    FILE *f = fopen(path, "r");

    if (!f) {
        return admin_error("cannot read %s: %s", path, strerror(errno));
    }
    dep->dir = apr_pstrdup(p, dir);
    dep->coordination_engine = "sql";
    dep->server_host = "localhost";
    dep->base_url = "";
    dep->server_admin = "";
    dep->system_identifier = "";
    dep->poll_time = 350;
    dep->labs = apr_array_make(p, 4, sizeof(admin_lab_t));
    admin_mpm_init(&dep->mpm);
    while (fgets(line, sizeof(line), f)) {
        char *s = trim(line), *eq;

        lineno++;
        if (!*s || *s == '#') {
            continue;
        }
        eq = strchr(s, '=');
        if (!eq) {
            fclose(f);
            return admin_error("%s line %d: expected key = value", path,
                               lineno);
        }
        *eq = '\0';
        why = conf_set(dep, cores, trim(s), trim(eq + 1), p);
        if (why) {
            fclose(f);
            return admin_error("%s line %d: %s", path, lineno, why);
        }
    }
    fclose(f);
    dep->cores = apr_array_make(p, 4, sizeof(int));
    for (i = 1; i <= (int)apr_hash_count(cores); i++) {
        int *port = apr_hash_get(cores, apr_psprintf(p, "%d", i),
                                 APR_HASH_KEY_STRING);

        if (!port) {
            return admin_error("%s: core.%d.port is missing (cores are "
                               "numbered from 1 without gaps)", path, i);
        }
        APR_ARRAY_PUSH(dep->cores, int) = *port;
    }
    if (!dep->httpd_bin || !dep->module_path || !dep->database
        || dep->cores->nelts == 0) {
        return admin_error("%s: httpd, module, database and core.1.port are "
                           "required", path);
    }
    for (i = 0; i < dep->labs->nelts; i++) {
        admin_lab_t *lab = &APR_ARRAY_IDX(dep->labs, i, admin_lab_t);

        if (!lab->port || !lab->command) {
            return admin_error("%s: experiment server %s needs lab.%s.port "
                               "and lab.%s.command", path, lab->name,
                               lab->name, lab->name);
        }
    }
    /* a weblab.conf older than the mpm.* keys: this machine's defaults */
    admin_mpm_complete(&dep->mpm, dep->cores->nelts, p);
    if ((why = admin_mpm_check(&dep->mpm, 0, p))) {
        return admin_error("%s: %s", path, why);
    }
    if (!dep->httpd_moduledir) {
        dep->httpd_moduledir = WEBLAB_HTTPD_MODULEDIR;
    }
    if (!dep->htdocs) {
        admin_paths_t paths;

        admin_paths_find(&paths, p);
        dep->htdocs = paths.htdocs;
    }
    *out = dep;
    return ADMIN_EXIT_OK;
}

/* ---- writing ---- */

/* text as "# " comment lines of at most about 72 columns */
static void write_comment(FILE *f, const char *text)
{
    const char *s = text;

    while (*s) {
        const char *end = s + strlen(s), *cut = end;

        if (end - s > 70) {
            for (cut = s + 70; cut > s && *cut != ' '; cut--) {
            }
            cut = cut > s ? cut : end;
        }
        fprintf(f, "# %.*s\n", (int)(cut - s), s);
        s = *cut ? cut + 1 : cut;
    }
}

static void write_mpm(FILE *f, const admin_mpm_t *m, apr_pool_t *p)
{
    fputs("\n", f);
    write_comment(f, "httpd sizing (docs/operators-guide.md). Each core "
                  "httpd (worker MPM) has max_request_workers threads in "
                  "children of threads_per_child (ServerLimit is the "
                  "quotient: use a multiple, or httpd lowers it) and holds "
                  "one thread per open connection, keep-alive included, for "
                  "up to keepalive_timeout seconds (0: KeepAlive Off). The "
                  "own front (event MPM) has front_max_request_workers. "
                  "Defaults: 64 threads per child; 256 workers per CPU, at "
                  "most 1024 and one per 4 MiB of RAM shared by the cores; "
                  "the front as many as a core.");
    write_comment(f, apr_psprintf(p, "Here: %s.", m->origin ? m->origin
                                  : m->computed ? m->computed : "as given"));
    write_comment(f, "\"weblab-admin httpd-config-generate DIR\" rewrites "
                  "the httpd files from these values, \"weblab-admin "
                  "restart DIR\" applies them.");
    fprintf(f, "mpm.threads_per_child = %d\n"
            "mpm.max_request_workers = %d\n"
            "mpm.front_max_request_workers = %d\n"
            "mpm.keepalive_timeout = %d\n", m->threads_per_child,
            m->max_request_workers, m->front_max_request_workers,
            m->keepalive_timeout);
}

int admin_deploy_write(const admin_deploy_t *dep, apr_pool_t *p)
{
    const char *path = admin_path(dep, "weblab.conf", p);
    const char *tmp = apr_pstrcat(p, path, ".new", NULL);
    FILE *f = fopen(tmp, "w");
    int i;

    if (!f) {
        return admin_error("cannot write %s: %s", tmp, strerror(errno));
    }
    fchmod(fileno(f), 0640);            /* a mysql DSN holds a password */
    fprintf(f,
            "# mod_weblab deployment, written by weblab-admin create.\n"
            "# Read by weblab-admin start/stop/status/restart and\n"
            "# httpd-config-generate (run it after editing this file).\n"
            "# \"key = value\" lines; '#' starts a comment line.\n"
            "version = %d\n\n"
            "# programs\n"
            "httpd = %s\n"
            "httpd_moduledir = %s\n"
            "module = %s\n"
            "htdocs = %s\n\n"
            "# databases\n"
            "database = %s\n"
            "coordination_engine = %s\n"
            "coordination_database = %s\n\n"
            "# what the cores announce\n"
            "server_host = %s\n"
            "base_url = %s\n"
            "https = %s\n"
            "poll_time = %d\n"
            "server_admin = %s\n"
            "system_identifier = %s\n\n"
            "# processes: core httpds (core.N.port, route routeN), the\n"
            "# front httpd (front.port, empty: none), experiment servers\n"
            "# (lab.NAME.port and lab.NAME.command)\n"
            "front.port = %s\n",
            CONF_VERSION, dep->httpd_bin, dep->httpd_moduledir,
            dep->module_path, dep->htdocs, dep->database,
            dep->coordination_engine,
            dep->coordination_database ? dep->coordination_database : "",
            dep->server_host, dep->base_url, dep->https ? "yes" : "no",
            dep->poll_time, dep->server_admin, dep->system_identifier,
            dep->front_port ? apr_itoa(p, dep->front_port) : "");
    for (i = 0; i < dep->cores->nelts; i++) {
        fprintf(f, "core.%d.port = %d\n", i + 1,
                APR_ARRAY_IDX(dep->cores, i, int));
    }
    for (i = 0; i < dep->labs->nelts; i++) {
        const admin_lab_t *lab = &APR_ARRAY_IDX(dep->labs, i, admin_lab_t);

        fprintf(f, "lab.%s.port = %d\nlab.%s.command = %s\n", lab->name,
                lab->port, lab->name, lab->command);
    }
    write_mpm(f, &dep->mpm, p);
    if (fclose(f) || rename(tmp, path)) {
        return admin_error("cannot write %s: %s", path, strerror(errno));
    }
    return ADMIN_EXIT_OK;
}

/* ---- opening ---- */

int admin_deploy_open(admin_deploy_t **dep, const char *dir, apr_pool_t *p)
{
    const char *abs = admin_abspath(dir, p);
    const char *conf = apr_pstrcat(p, abs, "/weblab.conf", NULL);
    struct stat st;
    int rc;

    if (stat(abs, &st) || !S_ISDIR(st.st_mode)) {
        return admin_error("%s is not a directory", dir);
    }
    if (access(conf, F_OK)) {
        return admin_error("%s is not a deployment made by weblab-admin "
                           "create (no %s)", dir, conf);
    }
    if ((rc = admin_drop_privileges_to_owner(abs)) != ADMIN_EXIT_OK) {
        return rc;
    }
    return admin_deploy_read(dep, abs, p);
}

void admin_db_upgrade(const admin_deploy_t *dep, int quiet, apr_pool_t *p)
{
    weblab_sql_t *c;
    int upgraded = 0;
    apr_status_t rv;

    if (!strncmp(dep->database, "sqlite:", 7)
        && access(dep->database + 7, R_OK | W_OK)) {
        return;                 /* never create it here; the cores say so */
    }
    rv = weblab_sql_open(&c, dep->database, p);
    if (rv == APR_SUCCESS) {
        rv = weblab_schema_upgrade_data(&upgraded, c, p);
        if (rv != APR_SUCCESS) {
            admin_warn("the database %s could not be brought up to date "
                       "(new tables): %s",
                       weblab_sql_dsn_redact(dep->database, p),
                       weblab_sql_error(c));
        }
        weblab_sql_close(c);
    }
    if (upgraded && !quiet) {
        printf("the database %s has the tables of this version now\n",
               weblab_sql_dsn_redact(dep->database, p));
    }
}

int admin_db_open(weblab_db_admin_t **adm, admin_deploy_t **depp,
                  const char *dir, apr_pool_t *p)
{
    admin_deploy_t *dep;
    weblab_sql_t *c;
    apr_status_t rv;
    int rc = admin_deploy_open(&dep, dir, p);

    if (rc != ADMIN_EXIT_OK) {
        return rc;
    }
    if (!strncmp(dep->database, "sqlite:", 7)
        && access(dep->database + 7, R_OK | W_OK)) {
        return admin_error("the database %s cannot be opened: %s",
                           dep->database + 7, strerror(errno));
    }
    rv = weblab_sql_open(&c, dep->database, p);
    if (rv != APR_SUCCESS) {
        return admin_error("the database %s cannot be opened%s",
                           weblab_sql_dsn_redact(dep->database, p),
                           rv == APR_ENOTIMPL ? " (engine not supported yet)"
                                              : "");
    }
    /* a database made by an older version gets the tables added since */
    rv = weblab_schema_upgrade_data(NULL, c, p);
    if (rv != APR_SUCCESS) {
        return admin_error("the database %s could not be brought up to date "
                           "(new tables): %s",
                           weblab_sql_dsn_redact(dep->database, p),
                           weblab_sql_error(c));
    }
    weblab_db_admin_make(adm, c, p);
    if (depp) {
        *depp = dep;
    }
    return ADMIN_EXIT_OK;
}
