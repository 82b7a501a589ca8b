/* start, stop, status and restart of a deployment's processes: the
 * experiment servers (started first, stopped last), the core httpds and the
 * front httpd. Each has a pid file in DIR/run; a pid counts as ours only
 * while /proc/<pid>/cmdline still names the process's config or program,
 * so a stale pid file never gets an unrelated process killed.
 *
 * httpd is started with "-k start" (it checks the configuration and binds
 * its port before detaching, so those failures come back as its exit
 * status) and stopped with SIGTERM to the pid in its PidFile, which is what
 * "-k stop" does; we then wait until the process is gone. */
#include "admin.h"
#include "weblab_coord.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_time.h>

enum { OPT_TIMEOUT = OPT_FIRST_FREE };

const apr_getopt_option_t admin_start_options[] = {
    { "timeout", OPT_TIMEOUT, 1, "=SECONDS wait at most this long for each "
      "port to answer (15)" },
    { "quiet", 'q', 0, "print nothing but errors" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_stop_options[] = {
    { "timeout", OPT_TIMEOUT, 1, "=SECONDS wait at most this long for each "
      "process to end before killing it (20)" },
    { "quiet", 'q', 0, "print nothing but errors" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_status_options[] = {
    { "json", OPT_JSON, 0, "print JSON instead of a table" },
    { NULL, 0, 0, NULL }
};

typedef enum { KIND_LAB, KIND_CORE, KIND_FRONT } kind_e;

static const char *const kind_names[] = {
    "experiment_server", "core", "front"
};

typedef struct {
    const char *name;           /* exp1, core1, front */
    kind_e kind;
    int port;
    int any_addr;               /* front: listens on every address */
    const char *pid_file;
    const char *conf;           /* httpd configuration */
    const char *command;        /* experiment server command line */
    const char *log;            /* the log to show when it fails */
    const char *console;        /* stdout/stderr of the process */
    const char *needle;         /* what its cmdline contains */
    pid_t pid;                  /* running: its pid */
    pid_t child;                /* forked by us (experiment servers) */
    int started;                /* started by this invocation */
    int restarted;              /* gracefully restarted by this invocation */
} proc_t;

typedef struct {
    admin_deploy_t *dep;
    apr_array_header_t *procs;  /* of proc_t, start order */
    int quiet;
    int timeout;                /* seconds */
    apr_pool_t *pool;
} run_t;

static apr_array_header_t *make_procs(const admin_deploy_t *dep,
                                      apr_pool_t *p)
{
    apr_array_header_t *procs = apr_array_make(p, 8, sizeof(proc_t));
    int i;

    for (i = 0; i < dep->labs->nelts; i++) {
        const admin_lab_t *lab = &APR_ARRAY_IDX(dep->labs, i, admin_lab_t);
        proc_t *pr = apr_array_push(procs);
        char **argv;

        memset(pr, 0, sizeof(*pr));
        pr->name = lab->name;
        pr->kind = KIND_LAB;
        pr->port = lab->port;
        pr->command = lab->command;
        pr->pid_file = admin_path(dep, apr_psprintf(p, "run/%s.pid",
                                                    lab->name), p);
        pr->log = admin_path(dep, apr_psprintf(p, "logs/%s.log", lab->name),
                             p);
        pr->console = admin_path(dep, apr_psprintf(p, "logs/%s_console.log",
                                                   lab->name), p);
        apr_tokenize_to_argv(lab->command, &argv, p);
        pr->needle = argv && argv[0] ? argv[0] : lab->command;
    }
    for (i = 0; i < dep->cores->nelts; i++) {
        proc_t *pr = apr_array_push(procs);

        memset(pr, 0, sizeof(*pr));
        pr->name = apr_psprintf(p, "core%d", i + 1);
        pr->kind = KIND_CORE;
        pr->port = APR_ARRAY_IDX(dep->cores, i, int);
        pr->conf = admin_path(dep, apr_psprintf(p, "httpd/core%d.conf", i + 1),
                              p);
        pr->pid_file = admin_path(dep, apr_psprintf(p, "run/core%d.pid",
                                                    i + 1), p);
        pr->log = admin_path(dep, apr_psprintf(p, "logs/core%d_error.log",
                                               i + 1), p);
        pr->console = admin_path(dep, apr_psprintf(p, "logs/core%d_start.log",
                                                   i + 1), p);
        pr->needle = pr->conf;
    }
    if (dep->front_port) {
        proc_t *pr = apr_array_push(procs);

        memset(pr, 0, sizeof(*pr));
        pr->name = "front";
        pr->kind = KIND_FRONT;
        pr->port = dep->front_port;
        pr->any_addr = 1;
        pr->conf = admin_path(dep, "httpd/front.conf", p);
        pr->pid_file = admin_path(dep, "run/front.pid", p);
        pr->log = admin_path(dep, "logs/front_error.log", p);
        pr->console = admin_path(dep, "logs/front_start.log", p);
        pr->needle = pr->conf;
    }
    return procs;
}

/* ---- process facts ---- */

static pid_t read_pid(const char *file)
{
    char buf[32] = "";
    FILE *f = fopen(file, "r");
    long pid;

    if (!f) {
        return 0;
    }
    if (!fgets(buf, sizeof(buf), f)) {
        buf[0] = '\0';
    }
    fclose(f);
    pid = strtol(buf, NULL, 10);
    return pid > 1 ? (pid_t)pid : 0;
}

/* Non-zero when pid runs and its command line contains needle. */
static int is_ours(pid_t pid, const char *needle)
{
    char path[64], buf[8192];
    size_t n, i;
    FILE *f;

    if (pid <= 1 || (kill(pid, 0) && errno != EPERM)) {
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
    f = fopen(path, "r");
    if (!f) {
        return access("/proc/self", F_OK) != 0;    /* no /proc: trust it */
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    for (i = 0; i < n; i++) {
        if (buf[i] == '\0') {
            buf[i] = ' ';
        }
    }
    buf[n] = '\0';
    return n > 0 && strstr(buf, needle) != NULL;
}

/* Reap pid if it is our child and has ended; non-zero when it is gone. */
static int gone(pid_t pid, const char *needle)
{
    int status;

    if (waitpid(pid, &status, WNOHANG) == pid) {
        return 1;
    }
    return !is_ours(pid, needle);
}

/* 0 when nothing listens on the port (bind test with SO_REUSEADDR, as httpd
 * binds), else the errno. */
static int port_busy(int port, int any_addr)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, err = 0;

    if (fd < 0) {
        return errno;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = any_addr ? htonl(INADDR_ANY)
                                  : htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        err = errno;
    }
    close(fd);
    return err;
}

static int port_answers(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    if (fd < 0) {
        return 0;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

/* Print the last lines of a file, indented, on stderr. */
static void tail(const char *path, int lines)
{
    char buf[6144];
    long size;
    size_t n;
    char *s;
    int seen = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        return;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0,
          SEEK_SET);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && buf[n - 1] == '\n') {
        buf[--n] = '\0';
    }
    if (n == 0) {
        return;
    }
    for (s = buf + n; s > buf; s--) {
        if (s[-1] == '\n' && ++seen == lines) {
            break;
        }
    }
    fprintf(stderr, "last lines of %s:\n", path);
    while (*s) {
        char *nl = strchr(s, '\n');

        fprintf(stderr, "  %.*s\n", nl ? (int)(nl - s) : (int)strlen(s), s);
        s = nl ? nl + 1 : s + strlen(s);
    }
}

static void show_logs(const proc_t *pr)
{
    tail(pr->console, 10);
    tail(pr->log, 15);
}

/* ---- starting ---- */

static int start_lab(proc_t *pr, apr_pool_t *p)
{
    char **argv;
    pid_t pid;
    int fd;

    apr_tokenize_to_argv(pr->command, &argv, p);
    if (!argv || !argv[0] || access(argv[0], X_OK)) {
        return admin_error("%s: the experiment server program %s cannot be "
                           "run (build it, or give create "
                           "--experiment-server-path)", pr->name,
                           argv && argv[0] ? argv[0] : "(none)");
    }
    fd = open(pr->console, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return admin_error("cannot write %s: %s", pr->console,
                           strerror(errno));
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        close(fd);
        return admin_error("cannot start %s: %s", pr->name, strerror(errno));
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        FILE *f;

        setsid();
        dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        f = fopen(pr->pid_file, "w");
        if (f) {
            fprintf(f, "%ld\n", (long)getpid());
            fclose(f);
        }
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    pr->child = pr->pid = pid;
    pr->started = 1;
    return ADMIN_EXIT_OK;
}

/* Run argv with stdout/stderr into file; its exit status (-1 if none). */
static int run_to_file(const char *const *argv, const char *file)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644), status;
    pid_t pid;

    if (fd < 0) {
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);

        dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int start_httpd(run_t *r, proc_t *pr)
{
    const char *argv[] = { r->dep->httpd_bin, "-f", pr->conf, "-k", "start",
                           NULL };
    int st;

    if (access(r->dep->httpd_bin, X_OK)) {
        return admin_error("the httpd program %s cannot be run",
                           r->dep->httpd_bin);
    }
    if (pr->kind == KIND_CORE && access(r->dep->module_path, R_OK)) {
        return admin_error("the module %s does not exist (build it with "
                           "make, or give create --module-path)",
                           r->dep->module_path);
    }
    unlink(pr->pid_file);
    st = run_to_file(argv, pr->console);
    if (st != 0) {
        admin_error("%s (port %d) did not start: %s exited with status %d",
                    pr->name, pr->port, r->dep->httpd_bin, st);
        show_logs(pr);
        return ADMIN_EXIT_ERROR;
    }
    pr->started = 1;
    return ADMIN_EXIT_OK;
}

/* Wait until pr's port answers and its pid is known. */
static int wait_up(run_t *r, proc_t *pr)
{
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(r->timeout);

    while (apr_time_now() < deadline) {
        int status;

        if (pr->child && waitpid(pr->child, &status, WNOHANG) == pr->child) {
            pr->child = 0;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                pr->pid = 0;
                admin_error("%s (port %d) exited while starting (%s %d)",
                            pr->name, pr->port,
                            WIFEXITED(status) ? "status" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status)
                                              : WTERMSIG(status));
                show_logs(pr);
                return ADMIN_EXIT_ERROR;
            }
            pr->pid = 0;                /* it went to the background */
        }
        if (!pr->pid || pr->kind != KIND_LAB) {
            pid_t pid = read_pid(pr->pid_file);

            if (pid && is_ours(pid, pr->needle)) {
                pr->pid = pid;
            }
        }
        if (pr->pid && port_answers(pr->port)) {
            return ADMIN_EXIT_OK;
        }
        apr_sleep(apr_time_from_msec(50));
    }
    admin_error("%s did not answer on port %d within %d s", pr->name,
                pr->port, r->timeout);
    show_logs(pr);
    return ADMIN_EXIT_ERROR;
}

/* ---- stopping ---- */

/* Signal the processes of one kind (those with pid set) and wait until
 * they are gone; after the timeout they are killed. */
static int stop_kind(run_t *r, apr_array_header_t *procs, kind_e kind)
{
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(r->timeout);
    int i, left, rc = ADMIN_EXIT_OK;

    for (i = procs->nelts - 1; i >= 0; i--) {
        proc_t *pr = &APR_ARRAY_IDX(procs, i, proc_t);

        if (pr->kind == kind && pr->pid && kill(pr->pid, SIGTERM)
            && errno != ESRCH) {
            rc = admin_error("cannot stop %s (pid %ld): %s", pr->name,
                             (long)pr->pid, strerror(errno));
            pr->pid = 0;
        }
    }
    do {
        left = 0;
        for (i = 0; i < procs->nelts; i++) {
            proc_t *pr = &APR_ARRAY_IDX(procs, i, proc_t);

            if (pr->kind != kind || !pr->pid) {
                continue;
            }
            if (gone(pr->pid, pr->needle)) {
                if (!r->quiet) {
                    printf("stopped %s (pid %ld)\n", pr->name, (long)pr->pid);
                }
                unlink(pr->pid_file);
                pr->pid = 0;
                continue;
            }
            left++;
        }
        if (left) {
            apr_sleep(apr_time_from_msec(50));
        }
    } while (left && apr_time_now() < deadline);
    for (i = 0; i < procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(procs, i, proc_t);

        if (pr->kind == kind && pr->pid) {
            kill(pr->pid, SIGKILL);
            unlink(pr->pid_file);
            rc = admin_error("%s (pid %ld) did not stop within %d s and was "
                             "killed", pr->name, (long)pr->pid, r->timeout);
        }
    }
    fflush(stdout);
    return rc;
}

/* Stop the given processes (those with pid set): the front, then the cores
 * (which may still talk to the labs while they finish), then the
 * experiment servers. */
static int stop_procs(run_t *r, apr_array_header_t *procs)
{
    int rc = stop_kind(r, procs, KIND_FRONT);
    int rc2 = stop_kind(r, procs, KIND_CORE);
    int rc3 = stop_kind(r, procs, KIND_LAB);

    return rc ? rc : rc2 ? rc2 : rc3;
}

/* Stop what this invocation started (after a failure). */
static void roll_back(run_t *r)
{
    apr_array_header_t *started = apr_array_make(r->pool, 4, sizeof(proc_t));
    int i, quiet = r->quiet;

    for (i = 0; i < r->procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(r->procs, i, proc_t);

        if (pr->started) {
            if (!pr->pid) {
                pr->pid = read_pid(pr->pid_file);
                if (!is_ours(pr->pid, pr->needle)) {
                    pr->pid = pr->child;
                }
            }
            APR_ARRAY_PUSH(started, proc_t) = *pr;
        }
    }
    r->quiet = 1;
    stop_procs(r, started);
    r->quiet = quiet;
}

/* ---- shared ---- */

/* Fill pid of every running process of r (stale pid files removed). */
static void find_running(run_t *r)
{
    int i;

    for (i = 0; i < r->procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(r->procs, i, proc_t);
        pid_t pid = read_pid(pr->pid_file);

        pr->pid = pid && is_ours(pid, pr->needle) ? pid : 0;
        if (pid && !pr->pid && access(pr->pid_file, W_OK) == 0) {
            unlink(pr->pid_file);
        }
    }
}

int admin_deploy_running(const admin_deploy_t *dep, const char **who,
                         apr_pool_t *p)
{
    apr_array_header_t *procs = make_procs(dep, p);
    int i;

    for (i = 0; i < procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(procs, i, proc_t);
        pid_t pid = read_pid(pr->pid_file);

        if (pid && is_ours(pid, pr->needle)) {
            *who = apr_psprintf(p, "%s, pid %ld", pr->name, (long)pid);
            return 1;
        }
    }
    return 0;
}

static int open_run(run_t *r, admin_args_t *args, int dflt_timeout,
                    int must_not_be_root, apr_pool_t *p)
{
    int rc;

    memset(r, 0, sizeof(*r));
    r->pool = p;
    rc = admin_deploy_open(&r->dep, APR_ARRAY_IDX(args->pos, 0, const char *),
                           p);
    if (rc != ADMIN_EXIT_OK) {
        return rc;
    }
    if (must_not_be_root && geteuid() == 0) {
        return admin_error("%s belongs to root, and Apache refuses to run as "
                           "root: give it to an unprivileged user (chown -R "
                           "www-data: %s) or create it again as root, which "
                           "does that", r->dep->dir, r->dep->dir);
    }
    r->quiet = admin_flag(args, 'q');
    if ((rc = admin_opt_int(&r->timeout, args, OPT_TIMEOUT, "--timeout",
                            dflt_timeout)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (r->timeout < 1) {
        return admin_error("--timeout must be at least 1 second");
    }
    r->procs = make_procs(r->dep, p);
    find_running(r);
    return ADMIN_EXIT_OK;
}

/* Start every process of r that is not running. */
static int start_missing(run_t *r)
{
    int i, rc;

    for (i = 0; i < r->procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(r->procs, i, proc_t);
        int err;

        if (pr->pid) {
            continue;
        }
        err = port_busy(pr->port, pr->any_addr);
        if (err) {
            return admin_error("port %d (%s) is already in use%s; nothing "
                               "was started", pr->port, pr->name,
                               err == EADDRINUSE ? ""
                               : apr_psprintf(r->pool, " (%s)",
                                              strerror(err)));
        }
    }
    for (i = 0; i < r->procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(r->procs, i, proc_t);

        if (pr->pid) {
            if (!r->quiet && !pr->restarted) {
                printf("%s is already running (pid %ld)\n", pr->name,
                       (long)pr->pid);
            }
            continue;
        }
        rc = pr->kind == KIND_LAB ? start_lab(pr, r->pool)
                                  : start_httpd(r, pr);
        if (rc == ADMIN_EXIT_OK) {
            rc = wait_up(r, pr);
        }
        if (rc != ADMIN_EXIT_OK) {
            roll_back(r);
            return rc;
        }
        if (!r->quiet) {
            printf("started %s (pid %ld, port %d)\n", pr->name,
                   (long)pr->pid, pr->port);
        }
    }
    return ADMIN_EXIT_OK;
}

/* ---- commands ---- */

int admin_cmd_start(const admin_cmd_t *cmd, admin_args_t *args,
                    apr_pool_t *p)
{
    run_t r;
    int rc = open_run(&r, args, 15, 1, p);

    (void)cmd;
    if (rc != ADMIN_EXIT_OK) {
        return rc;
    }
    admin_db_upgrade(r.dep, r.quiet, p);
    rc = start_missing(&r);
    if (rc == ADMIN_EXIT_OK && !r.quiet) {
        printf("WebLab-Deusto is running: %s\n",
               admin_server_url(r.dep, p));
    }
    return rc;
}

int admin_cmd_stop(const admin_cmd_t *cmd, admin_args_t *args,
                   apr_pool_t *p)
{
    run_t r;
    int rc = open_run(&r, args, 20, 0, p), i, any = 0;

    (void)cmd;
    if (rc != ADMIN_EXIT_OK) {
        return rc;
    }
    for (i = 0; i < r.procs->nelts; i++) {
        any |= APR_ARRAY_IDX(r.procs, i, proc_t).pid != 0;
    }
    if (!any) {
        if (!r.quiet) {
            printf("nothing of %s is running\n", r.dep->dir);
        }
        return ADMIN_EXIT_OK;
    }
    return stop_procs(&r, r.procs);
}

int admin_cmd_restart(const admin_cmd_t *cmd, admin_args_t *args,
                      apr_pool_t *p)
{
    run_t r;
    int rc = open_run(&r, args, 15, 1, p), i;

    (void)cmd;
    if (rc != ADMIN_EXIT_OK) {
        return rc;
    }
    admin_db_upgrade(r.dep, r.quiet, p);
    /* check every configuration first: a graceful restart with a broken
     * one would stop the server */
    for (i = 0; i < r.procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(r.procs, i, proc_t);
        const char *argv[] = { r.dep->httpd_bin, "-t", "-f", pr->conf, NULL };

        if (pr->kind != KIND_LAB && pr->pid
            && run_to_file(argv, pr->console) != 0) {
            admin_error("the configuration %s is not valid; nothing was "
                        "restarted", pr->conf);
            tail(pr->console, 10);
            return ADMIN_EXIT_ERROR;
        }
    }
    for (i = 0; i < r.procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(r.procs, i, proc_t);

        if (pr->kind != KIND_LAB && pr->pid) {
            if (kill(pr->pid, SIGUSR1)) {
                return admin_error("cannot restart %s (pid %ld): %s",
                                   pr->name, (long)pr->pid, strerror(errno));
            }
            if (!r.quiet) {
                printf("graceful restart of %s (pid %ld)\n", pr->name,
                       (long)pr->pid);
            }
        }
    }
    for (i = 0; i < r.procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(r.procs, i, proc_t);

        if (pr->kind != KIND_LAB && pr->pid) {
            if ((rc = wait_up(&r, pr)) != ADMIN_EXIT_OK) {
                return rc;
            }
            pr->restarted = 1;
        }
    }
    return start_missing(&r);
}

/* The lab instances as the scheduler sees them (working or broken and why,
 * who holds each, the queue), read from the coordination backend; NULL
 * when it cannot be read (the processes table is still printed). */
static json_t *instances_status(const admin_deploy_t *dep,
                                admin_table_t **table, apr_pool_t *p)
{
    weblab_coord_t *coord;
    apr_array_header_t *all;
    json_t *list;
    int i;

    signal(SIGPIPE, SIG_IGN);           /* a Redis server may hang up */
    if (weblab_coord_open(&coord, dep->coordination_engine,
                          dep->coordination_database, 1, NULL, p)
        != APR_SUCCESS
        || weblab_coord_instances(coord, &all, p) != APR_SUCCESS) {
        return NULL;
    }
    *table = admin_table_make(p, 5, "INSTANCE", "EXPERIMENT", "STATE",
                              "HELD BY", "QUEUE");
    list = json_array();
    for (i = 0; i < all->nelts; i++) {
        const weblab_coord_instance_t *in =
            &APR_ARRAY_IDX(all, i, weblab_coord_instance_t);
        const char *exp = apr_pstrcat(p, in->lab.exp_name, "@",
                                      in->lab.cat_name, NULL);
        const char *state = in->working ? "working"
            : apr_pstrcat(p, "broken: ", in->error ? in->error : "", NULL);

        json_array_append_new(list, json_pack(
            "{s:s, s:s, s:s, s:s, s:b, s:s?, s:s?, s:s?, s:i}",
            "instance", in->lab.instance_name, "experiment", exp,
            "resource", apr_pstrcat(p, in->lab.resource_instance, "@",
                                    in->lab.resource_type, NULL),
            "url", in->lab.url, "working", in->working, "error", in->error,
            "held_by", in->holder_login, "holder_state", in->holder_state,
            "queue_length", in->queue_length));
        admin_table_row(*table, in->lab.instance_name, exp, state,
                        in->holder_login
                            ? apr_pstrcat(p, in->holder_login, " (",
                                          in->holder_state, ")", NULL)
                            : "-",
                        apr_itoa(p, in->queue_length));
    }
    return list;
}

int admin_cmd_status(const admin_cmd_t *cmd, admin_args_t *args,
                     apr_pool_t *p)
{
    admin_table_t *inst_table = NULL;
    json_t *instances;
    admin_table_t *t;
    json_t *list;
    run_t r;
    int rc = open_run(&r, args, 15, 0, p), i, all_up = 1;

    (void)cmd;
    if (rc != ADMIN_EXIT_OK) {
        return rc;
    }
    t = admin_table_make(p, 5, "NAME", "KIND", "PID", "PORT", "STATE");
    list = json_array();
    for (i = 0; i < r.procs->nelts; i++) {
        proc_t *pr = &APR_ARRAY_IDX(r.procs, i, proc_t);
        int answering = port_answers(pr->port);
        const char *state = !pr->pid ? "down"
                          : answering ? "up" : "not answering";
        json_t *o = json_object();

        all_up &= pr->pid && answering;
        json_object_set_new(o, "name", json_string(pr->name));
        json_object_set_new(o, "kind", json_string(kind_names[pr->kind]));
        json_object_set_new(o, "pid", pr->pid ? json_integer(pr->pid)
                                              : json_null());
        json_object_set_new(o, "port", json_integer(pr->port));
        json_object_set_new(o, "running", json_boolean(pr->pid != 0));
        json_object_set_new(o, "answering", json_boolean(answering));
        json_object_set_new(o, "state", json_string(state));
        json_array_append_new(list, o);
        admin_table_row(t, pr->name, kind_names[pr->kind],
                        pr->pid ? apr_ltoa(p, pr->pid) : "-",
                        apr_itoa(p, pr->port), state);
    }
    instances = instances_status(r.dep, &inst_table, p);
    if (admin_flag(args, OPT_JSON)) {
        json_t *o = json_object();

        json_object_set_new(o, "instances",
                            instances ? instances : json_null());
        json_object_set_new(o, "dir", json_string(r.dep->dir));
        json_object_set_new(o, "url",
                            json_string(admin_server_url(r.dep, p)));
        json_object_set_new(o, "up", json_boolean(all_up));
        json_object_set_new(o, "processes", list);
        json_object_set_new(o, "httpd_sizing", admin_mpm_json(r.dep));
        admin_json_print(o);
    }
    else {
        json_decref(list);
        admin_table_print(t);
        printf("\n");
        admin_mpm_print(r.dep, p);
        if (instances) {
            printf("\n");
            admin_table_print(inst_table);
            json_decref(instances);
        }
        else {
            printf("\nlab instances: the coordination backend cannot be"
                   " read\n");
        }
    }
    return all_up ? ADMIN_EXIT_OK : ADMIN_EXIT_DOWN;
}
