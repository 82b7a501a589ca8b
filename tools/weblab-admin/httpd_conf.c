/* The httpd configurations of a deployment, filled from the templates in
 * conf/ (installed in $(pkgdatadir)/conf): @NAME@ is replaced by its value;
 * a name the generator does not know is an error, so a template and this
 * file cannot drift apart silently. */
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_time.h>

typedef struct {
    apr_hash_t *vars;
    apr_pool_t *pool;
    int limits_changed;         /* ServerLimit or ThreadLimit of a file */
} vars_t;

static void set(vars_t *v, const char *name, const char *value)
{
    apr_hash_set(v->vars, name, APR_HASH_KEY_STRING,
                 apr_pstrdup(v->pool, value));
}

static void set_int(vars_t *v, const char *name, int value)
{
    set(v, name, apr_itoa(v->pool, value));
}

/* The template text with every @NAME@ replaced, or NULL (error printed). */
static char *fill(const char *path, const vars_t *v, apr_pool_t *p)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *text, *s;
    apr_array_header_t *out = apr_array_make(p, 8192, 1);

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        admin_error("cannot read the template %s", path);
        return NULL;
    }
    n = (apr_size_t)fi.size;
    text = apr_palloc(p, n + 1);
    if (apr_file_read_full(f, text, n, &n) != APR_SUCCESS) {
        apr_file_close(f);
        admin_error("cannot read the template %s", path);
        return NULL;
    }
    apr_file_close(f);
    text[n] = '\0';
    for (s = text; *s;) {
        char *end;
        size_t len;

        if (*s != '@' || !(end = strchr(s + 1, '@'))
            || end == s + 1 || strspn(s + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_") != (size_t)(end - s - 1)) {
            APR_ARRAY_PUSH(out, char) = *s++;
            continue;
        }
        {
            const char *name = apr_pstrmemdup(p, s + 1, end - s - 1);
            const char *val = apr_hash_get(v->vars, name,
                                           APR_HASH_KEY_STRING);

            if (!val) {
                admin_error("the template %s uses @%s@, which weblab-admin "
                            "does not know", path, name);
                return NULL;
            }
            len = strlen(val);
            while (len--) {
                APR_ARRAY_PUSH(out, char) = *val++;
            }
        }
        s = end + 1;
    }
    APR_ARRAY_PUSH(out, char) = '\0';
    return out->elts;
}

static int same_content(const char *path, const char *text, apr_pool_t *p)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n = strlen(text), got;
    char *old;
    int same;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
        return 0;
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || (apr_size_t)fi.size != n) {
        apr_file_close(f);
        return 0;
    }
    old = apr_palloc(p, n + 1);
    same = apr_file_read_full(f, old, n, &got) == APR_SUCCESS && got == n
        && !memcmp(old, text, n);
    apr_file_close(f);
    return same;
}

/* Write text to path through a temporary file; a changed old file is kept
 * as <path>-backup-<timestamp> when backup is set. */
static int write_file(const char *path, const char *text, int backup,
                      apr_pool_t *p)
{
    const char *tmp = apr_pstrcat(p, path, ".new", NULL);
    FILE *f;

    if (backup && access(path, F_OK) == 0 && !same_content(path, text, p)) {
        char stamp[32];
        apr_size_t len;
        apr_time_exp_t tm;
        const char *bak;

        apr_time_exp_lt(&tm, apr_time_now());
        apr_strftime(stamp, &len, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
        bak = apr_pstrcat(p, path, "-backup-", stamp, NULL);
        if (rename(path, bak)) {
            return admin_error("cannot back up %s: %s", path,
                               strerror(errno));
        }
        printf("kept the previous %s as %s\n", path, bak);
    }
    f = fopen(tmp, "w");
    /* a core's configuration may hold a database password (mysql DSN) */
    if (f && strstr(text, "WeblabDatabase")) {
        fchmod(fileno(f), 0640);
    }
    if (!f || fputs(text, f) == EOF || fclose(f) || rename(tmp, path)) {
        return admin_error("cannot write %s: %s", path, strerror(errno));
    }
    return ADMIN_EXIT_OK;
}

/* The value of the first "Name value" line of text, or "". */
static const char *directive(const char *text, const char *name,
                             apr_pool_t *p)
{
    size_t n = strlen(name);
    const char *s = text;

    while (s) {
        if (!strncmp(s, name, n) && s[n] == ' ') {
            return apr_pstrndup(p, s + n + 1, strcspn(s + n + 1, "\n"));
        }
        s = strchr(s, '\n');
        s = s ? s + 1 : NULL;
    }
    return "";
}

/* httpd keeps ServerLimit and ThreadLimit across a graceful restart (it
 * says so in its error log and lowers MaxRequestWorkers to fit), so a
 * change of either needs a stop and a start. */
static int limits_differ(const char *path, const char *text, apr_pool_t *p)
{
    static const char *const names[] = { "ServerLimit", "ThreadLimit" };
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *old;
    size_t i;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
        return 0;                       /* nothing ran from it */
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        apr_file_close(f);
        return 0;
    }
    n = (apr_size_t)fi.size;
    old = apr_pcalloc(p, n + 1);
    if (apr_file_read_full(f, old, n, &n) != APR_SUCCESS) {
        n = 0;
    }
    apr_file_close(f);
    old[n] = '\0';
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(directive(old, names[i], p),
                   directive(text, names[i], p))) {
            return 1;
        }
    }
    return 0;
}

static int generate(const char *templates, const char *name,
                    const char *dest, vars_t *v, int backup, apr_pool_t *p)
{
    const char *tpl = apr_pstrcat(p, templates, "/", name, NULL);
    char *text;

    set(v, "TEMPLATE", tpl);
    text = fill(tpl, v, p);
    if (!text) {
        return ADMIN_EXIT_ERROR;
    }
    v->limits_changed |= limits_differ(dest, text, p);
    return write_file(dest, text, backup, p);
}

const char *admin_server_url(const admin_deploy_t *dep, apr_pool_t *p)
{
    const char *port = "";

    if (dep->front_port && dep->front_port != (dep->https ? 443 : 80)) {
        port = apr_psprintf(p, ":%d", dep->front_port);
    }
    return apr_psprintf(p, "%s://%s%s%s/weblab/",
                        dep->https ? "https" : "http", dep->server_host, port,
                        dep->base_url);
}

/* "_weblab_cluster", "foo_bar_weblab_cluster" for /foo/bar (spec 6.5). */
static const char *balancer_name(const char *root, apr_pool_t *p)
{
    char *rns = apr_pstrdup(p, root[0] == '/' ? root + 1 : root), *s;

    for (s = rns; *s; s++) {
        if (*s == '/') {
            *s = '_';
        }
    }
    return apr_pstrcat(p, rns, "_weblab_cluster", NULL);
}

/* mime.types for mod_mime: the system's, or an empty one in DIR/httpd. */
static const char *types_config(const admin_deploy_t *dep, apr_pool_t *p)
{
    const char *own = admin_path(dep, "httpd/mime.types", p);
    FILE *f;

    if (access("/etc/mime.types", R_OK) == 0) {
        return "/etc/mime.types";
    }
    if (access(own, F_OK) && (f = fopen(own, "w"))) {
        fputs("# no /etc/mime.types on this machine (Debian: media-types)\n",
              f);
        fclose(f);
    }
    return own;
}

/* The MPM directives of a core (front 0) or of the front (1); weblab.conf
 * was checked (admin_mpm_check), so httpd takes them without adjusting. */
static void mpm_vars(vars_t *v, const admin_mpm_t *m, int front)
{
    int limit = admin_mpm_server_limit(m, front);

    set(v, "MPM_SOURCE", m->computed
        ? "weblab-admin's defaults for this machine (weblab.conf lacks "
          "mpm.* keys)"
        : "the mpm.* values of weblab.conf");
    set_int(v, "THREADS_PER_CHILD", m->threads_per_child);
    set_int(v, "SERVER_LIMIT", limit);
    set_int(v, "MAX_REQUEST_WORKERS", front ? m->front_max_request_workers
                                            : m->max_request_workers);
    /* every child from the start: a cold core hit by a burst of new
     * connections otherwise waits for forks, which httpd makes at one a
     * second at first (1 000 logins at once took up to 3.8 s with 2); idle
     * children are never stopped, so this is the memory the core keeps
     * after its first busy hour anyway (about 10 MB a child idle) */
    set_int(v, "START_SERVERS", limit);
}

static int check_paths(const admin_deploy_t *dep)
{
    const char *paths[] = {
        dep->dir, dep->httpd_moduledir, dep->module_path, dep->htdocs, NULL
    };
    int i;

    for (i = 0; paths[i]; i++) {
        if (!admin_safe_path(paths[i])) {
            return admin_error("the path '%s' cannot be written into an "
                               "httpd configuration: use letters, digits "
                               "and any of ._/+@,=-", paths[i]);
        }
    }
    return ADMIN_EXIT_OK;
}

int admin_httpd_generate(const admin_deploy_t *dep, const char *templates,
                         int backup, int *limits_changed, apr_pool_t *p)
{
    const char *httpd_dir = admin_path(dep, "httpd", p);
    const admin_mpm_t *m = &dep->mpm;
    int rc, i;
    vars_t v;
    char *members = "";

    if ((rc = check_paths(dep)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (apr_dir_make_recursive(httpd_dir, APR_OS_DEFAULT, p) != APR_SUCCESS) {
        return admin_error("cannot create %s", httpd_dir);
    }
    v.pool = p;
    v.vars = apr_hash_make(p);
    v.limits_changed = 0;
    set(&v, "DIR", dep->dir);
    set(&v, "ROOT", dep->base_url);
    set(&v, "HTTPD_MODULEDIR", dep->httpd_moduledir);
    set(&v, "MODULE_PATH", dep->module_path);
    set(&v, "HTDOCS", dep->htdocs);
    set(&v, "TYPES_CONFIG", types_config(dep, p));
    mpm_vars(&v, m, 0);
    set(&v, "KEEPALIVE_DIRECTIVES", m->keepalive_timeout
        ? apr_psprintf(p, "KeepAlive On\nKeepAliveTimeout %d",
                       m->keepalive_timeout)
        : "KeepAlive Off");
    set(&v, "DATABASE", dep->database);
    set(&v, "COORDINATION_ENGINE", dep->coordination_engine);
    /* one target, read by the directive of its engine */
    set(&v, "COORDINATION_TARGET", apr_psprintf(p, "%s \"%s\"",
        strcmp(dep->coordination_engine, "redis")
            ? "WeblabCoordinationDatabase" : "WeblabCoordinationRedis",
        dep->coordination_database ? dep->coordination_database : ""));
    set(&v, "SERVER_URL", admin_server_url(dep, p));
    set_int(&v, "POLL_TIME", dep->poll_time);
    set(&v, "SERVER_ADMIN_DIRECTIVE",
        *dep->server_admin
        ? apr_psprintf(p, "WeblabServerAdmin \"%s\"", dep->server_admin)
        : "# WeblabServerAdmin: create --admin-mail sets it");
    set(&v, "BALANCER", balancer_name(dep->base_url, p));
    set_int(&v, "FRONT_PORT", dep->front_port);
    set(&v, "ROOT_REDIRECT",
        *dep->base_url
        ? apr_psprintf(p, "RedirectMatch ^%s/?$ %s/weblab/", dep->base_url,
                       dep->base_url)
        : "");

    for (i = 0; i < dep->cores->nelts; i++) {
        int port = APR_ARRAY_IDX(dep->cores, i, int);

        members = apr_psprintf(p, "%s%s    BalancerMember "
                               "http://127.0.0.1:%d/weblab route=route%d",
                               members, i ? "\n" : "", port, i + 1);
        set_int(&v, "CORE", i + 1);
        set_int(&v, "PORT", port);
        set(&v, "ROUTE", apr_psprintf(p, "route%d", i + 1));
        rc = generate(templates, "core-httpd.conf.in",
                      apr_psprintf(p, "%s/core%d.conf", httpd_dir, i + 1),
                      &v, backup, p);
        if (rc != ADMIN_EXIT_OK) {
            return rc;
        }
    }
    set(&v, "BALANCER_MEMBERS", members);
    rc = generate(templates, "apache_weblab_generic.conf.in",
                  apr_pstrcat(p, httpd_dir, "/apache_weblab_generic.conf",
                              NULL), &v, backup, p);
    if (rc == ADMIN_EXIT_OK && dep->front_port) {
        mpm_vars(&v, m, 1);
        rc = generate(templates, "front-httpd.conf.in",
                      apr_pstrcat(p, httpd_dir, "/front.conf", NULL), &v,
                      backup, p);
    }
    if (limits_changed) {
        *limits_changed = v.limits_changed;
    }
    return rc;
}

/* httpd-config-generate DIR */
int admin_cmd_httpd_config_generate(const admin_cmd_t *cmd,
                                    admin_args_t *args, apr_pool_t *p)
{
    admin_deploy_t *dep;
    admin_paths_t paths;
    int limits_changed;
    int rc = admin_deploy_open(&dep, APR_ARRAY_IDX(args->pos, 0,
                                                   const char *), p);

    (void)cmd;
    if (rc != ADMIN_EXIT_OK) {
        return rc;
    }
    admin_paths_find(&paths, p);
    rc = admin_httpd_generate(dep, paths.templates, 1, &limits_changed, p);
    if (rc != ADMIN_EXIT_OK) {
        return rc;
    }
    printf("wrote the httpd configurations of %s (%d core%s%s); ", dep->dir,
           dep->cores->nelts, dep->cores->nelts > 1 ? "s" : "",
           dep->front_port ? " and the front" : "");
    if (limits_changed) {
        printf("ServerLimit or ThreadLimit changed, which a graceful "
               "restart cannot apply: \"weblab-admin stop %s\" and then "
               "\"weblab-admin start %s\" apply them\n", dep->dir, dep->dir);
    }
    else {
        printf("\"weblab-admin restart %s\" applies them\n", dep->dir);
    }
    return rc;
}
