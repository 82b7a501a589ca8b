/* experiment_server: a WebLab-Deusto experiment server (XML-RPC Util.*,
 * API "1", "2" or "2_concurrent") hosting one lab plug-in. This file: the
 * command line, start-up, the pid file and shut-down. Runs in the
 * foreground; exit status 0 after SIGTERM/SIGINT, 1 when it cannot start,
 * 2 on a usage error. See docs/experiment-server.md. */
#include "config.h"
#include "es_conf.h"
#include "es_lab.h"
#include "es_log.h"
#include "es_rpc.h"
#include "es_server.h"
#include "weblab_lab_plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <xmlrpc-c/base.h>

#define PROG "experiment_server"

const char *weblab_es_api_name(weblab_es_api_e api)
{
    switch (api) {
    case WEBLAB_ES_API_1: return "1";
    case WEBLAB_ES_API_2: return "2";
    default:              return "2_concurrent";
    }
}

static void usage(FILE *out)
{
    fprintf(out,
"Usage: " PROG " --port N [options]\n"
"A WebLab-Deusto experiment server: serves one lab over the original\n"
"experiment-server protocol (XML-RPC Util.* over HTTP/1.1, any URL path).\n"
"\n"
"Options:\n"
"  -b, --bind ADDR        address or host name to listen on (127.0.0.1)\n"
"  -p, --port N           TCP port to listen on (required)\n"
"  -l, --lab NAME         built-in lab to serve (dummy)\n"
"  -m, --lab-module FILE  load the lab from a shared object instead\n"
"  -a, --api API          experiment-server API: 1, 2 or 2_concurrent (2)\n"
"      --auth TOKEN       require ?auth=TOKEN or an X-WebLab-Auth header\n"
"      --pid-file FILE    write the process id there; removed at exit\n"
"      --log-file FILE    append the log there (default: stderr);\n"
"                         SIGHUP reopens it\n"
"  -v, --verbose          log each call: method, arguments, answer size\n"
"  -V, --version          print the version and exit\n"
"  -h, --help             print this help and exit\n"
"\n"
"Built-in labs:\n");
    for (const weblab_lab_plugin_t *const *l = weblab_lab_plugin_builtins();
         *l; l++) {
        fprintf(out, "  %-14s %s\n", (*l)->name, (*l)->description);
    }
    fprintf(out, "\nMethods (with or without the Util. prefix):\n ");
    for (unsigned i = 0; weblab_es_rpc_method_name(i); i++) {
        fprintf(out, " %s", weblab_es_rpc_method_name(i));
    }
    fprintf(out, "\n\nSIGTERM or SIGINT stops the server (exit status 0).\n");
}

/* Print one line on stderr and return the exit status. */
static int die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int die(int status, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

/* Returns -1 when the command line is fine, else the exit status. */
static int parse_args(weblab_es_conf_t *conf, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "bind",       required_argument, NULL, 'b' },
        { "port",       required_argument, NULL, 'p' },
        { "lab",        required_argument, NULL, 'l' },
        { "lab-module", required_argument, NULL, 'm' },
        { "api",        required_argument, NULL, 'a' },
        { "auth",       required_argument, NULL, 'A' },
        { "pid-file",   required_argument, NULL, 'P' },
        { "log-file",   required_argument, NULL, 'L' },
        { "verbose",    no_argument,       NULL, 'v' },
        { "version",    no_argument,       NULL, 'V' },
        { "help",       no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;

    memset(conf, 0, sizeof(*conf));
    conf->bind_addr = "127.0.0.1";
    conf->api = WEBLAB_ES_API_2;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":b:p:l:m:a:vVh", longopts, NULL))
           != -1) {
        switch (opt) {
        case 'b': conf->bind_addr = optarg; break;
        case 'p': conf->port = optarg; break;
        case 'l': conf->lab_name = optarg; break;
        case 'm': conf->lab_module = optarg; break;
        case 'A': conf->auth = optarg; break;
        case 'P': conf->pid_file = optarg; break;
        case 'L': conf->log_file = optarg; break;
        case 'v': conf->verbose = 1; break;
        case 'V':
            printf(PROG " (mod_weblab) %s\n", PACKAGE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        case 'a':
            if (strcmp(optarg, "1") == 0) {
                conf->api = WEBLAB_ES_API_1;
            }
            else if (strcmp(optarg, "2") == 0) {
                conf->api = WEBLAB_ES_API_2;
            }
            else if (strcmp(optarg, "2_concurrent") == 0) {
                conf->api = WEBLAB_ES_API_2_CONCURRENT;
            }
            else {
                return die(2, "--api must be 1, 2 or 2_concurrent, not "
                           "'%s'", optarg);
            }
            break;
        case ':':
            return die(2, "option %s needs a value (try --help)",
                       argv[optind - 1]);
        default:
            return die(2, "unknown option %s (try --help)",
                       argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return die(2, "unexpected argument '%s' (try --help)", argv[optind]);
    }
    if (!conf->port) {
        return die(2, "--port is required (try --help)");
    }
    char *end;
    long port = strtol(conf->port, &end, 10);
    if (*end || end == conf->port || port < 1 || port > 65535) {
        return die(2, "--port must be a number from 1 to 65535, not '%s'",
                   conf->port);
    }
    if (conf->auth && !*conf->auth) {
        return die(2, "--auth needs a non-empty token");
    }
    return -1;
}

static apr_status_t write_pid_file(const char *path)
{
    char buf[32];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

    if (fd < 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    if (write(fd, buf, (size_t)n) != n) {
        apr_status_t rv = APR_FROM_OS_ERROR(errno ? errno : EIO);
        close(fd);
        unlink(path);
        return rv;
    }
    close(fd);
    return APR_SUCCESS;
}

/* The lab named on the command line: a loadable module or a built-in. */
static int find_lab(const weblab_lab_plugin_t **plugin,
                    const weblab_es_conf_t *conf, apr_pool_t *pool)
{
    const char *msg;

    if (conf->lab_module) {
        if (weblab_lab_plugin_load(plugin, &msg, conf->lab_module, pool)
            != APR_SUCCESS) {
            return die(1, "%s", msg);
        }
        if (conf->lab_name && strcmp(conf->lab_name, (*plugin)->name) != 0) {
            return die(1, "--lab %s does not match the lab in the module "
                       "(%s)", conf->lab_name, (*plugin)->name);
        }
        return -1;
    }
    *plugin = weblab_lab_plugin_find(conf->lab_name ? conf->lab_name
                                                    : "dummy");
    if (!*plugin) {
        return die(1, "unknown lab '%s' (--help lists them)",
                   conf->lab_name);
    }
    return -1;
}

static int serve(const weblab_es_conf_t *conf, apr_pool_t *pool)
{
    const weblab_lab_plugin_t *plugin;
    weblab_es_log_t log;
    weblab_es_lab_t *lab = NULL;
    weblab_es_server_t *srv;
    weblab_es_rpc_t rpc;
    const char *msg;
    char err[256];
    apr_status_t rv;
    int status;

    if ((rv = weblab_es_log_open(&log, conf->log_file, conf->verbose))
        != APR_SUCCESS) {
        return die(1, "cannot open log file %s: %s", conf->log_file,
                   apr_strerror(rv, err, sizeof(err)));
    }
    if ((status = find_lab(&plugin, conf, pool)) >= 0) {
        goto out;
    }
    if (weblab_es_lab_create(&lab, &msg, plugin, pool) != APR_SUCCESS) {
        status = die(1, "lab %s failed to start: %s", plugin->name, msg);
        goto out;
    }
    /* xmlrpc-c refuses documents over 512 KiB by default; our own limit,
     * checked before the body is read, is the Content-Length cap. */
    xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, WEBLAB_ES_MAX_BODY);
    rpc.api = conf->api;
    rpc.lab = lab;
    rpc.log = &log;
    if (weblab_es_server_create(&srv, &msg, conf, &rpc, &log, pool)
        != APR_SUCCESS) {
        status = die(1, "%s", msg);
        goto out_lab;
    }
    if (conf->pid_file
        && (rv = write_pid_file(conf->pid_file)) != APR_SUCCESS) {
        status = die(1, "cannot write pid file %s: %s", conf->pid_file,
                     apr_strerror(rv, err, sizeof(err)));
        weblab_es_server_close(srv);
        goto out_lab;
    }
    weblab_es_log(&log, WEBLAB_ES_LOG_NOTICE, APR_SUCCESS,
                  PROG " %s listening on %s: lab %s, API %s, auth %s",
                  PACKAGE_VERSION, weblab_es_server_address(srv),
                  plugin->name, weblab_es_api_name(conf->api),
                  conf->auth ? "required" : "off");
    rv = weblab_es_server_run(srv);
    weblab_es_server_close(srv);
    status = rv == APR_SUCCESS ? 0 : 1;
    if (conf->pid_file) {
        unlink(conf->pid_file);
    }
out_lab:
    /* Let the lab release its equipment for any use still open. */
    if (lab && weblab_es_lab_session_count(lab)) {
        weblab_es_log(&log, WEBLAB_ES_LOG_NOTICE, APR_SUCCESS,
                      "disposing %u open session(s)",
                      weblab_es_lab_session_count(lab));
        weblab_es_lab_close_all(lab, pool);
    }
    if (status == 0) {
        weblab_es_log(&log, WEBLAB_ES_LOG_NOTICE, APR_SUCCESS, "stopped");
    }
out:
    weblab_es_log_close(&log);
    return status;
}

int main(int argc, char **argv)
{
    weblab_es_conf_t conf;
    apr_pool_t *pool;
    int status = parse_args(&conf, argc, argv);

    if (status >= 0) {
        return status;
    }
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return die(1, "cannot initialise APR");
    }
    status = serve(&conf, pool);
    apr_pool_destroy(pool);     /* unloads a --lab-module, runs cleanups */
    apr_terminate();
    return status;
}
