/* How many threads the httpds of a deployment get: the worker MPM of the
 * cores and the event MPM of the own front (docs/operators-guide.md).
 *
 * create computes the defaults from the machine and stores them in
 * weblab.conf (mpm.* keys), so the httpd files are generated from what the
 * operator can read and change; a weblab.conf without them (written by an
 * older weblab-admin) gets the defaults of the machine it is read on.
 *
 * Under the worker MPM a connection holds its thread as long as it stays
 * open, keep-alive included, so a core needs about one thread per student
 * connected at once. A child of 50 threads measured about 30 MB after
 * load and up to 74 MB after 10 000 students (docs/BENCHMARKS.md), under
 * 1.5 MB a thread: one worker per 4 MiB of RAM leaves about two thirds of
 * the machine to the databases and the experiment servers. */
#include "admin.h"

#include <stdio.h>
#include <unistd.h>

#include <apr_strings.h>

#define DFLT_THREADS_PER_CHILD 64
#define DFLT_WORKERS_PER_CPU 256
#define DFLT_MAX_WORKERS 1024
#define DFLT_RAM_PER_WORKER_MB 4
#define DFLT_KEEPALIVE_TIMEOUT 5        /* httpd's own default */

/* httpd's compile-time limits (MAX_THREAD_LIMIT, MAX_SERVER_LIMIT of the
 * worker MPM; the event MPM allows as many or more) */
#define HTTPD_MAX_THREAD_LIMIT 20000
#define HTTPD_MAX_SERVER_LIMIT 20000
#define MAX_KEEPALIVE_TIMEOUT 3600

void admin_mpm_init(admin_mpm_t *m)
{
    m->threads_per_child = ADMIN_MPM_UNSET;
    m->max_request_workers = ADMIN_MPM_UNSET;
    m->front_max_request_workers = ADMIN_MPM_UNSET;
    m->keepalive_timeout = ADMIN_MPM_UNSET;
    m->computed = NULL;
    m->origin = NULL;
}

typedef struct {
    long ncpu;                  /* online CPUs, at least 1 */
    long ram_mb;                /* physical RAM in MiB, 0 if unknown */
} machine_t;

static void machine(machine_t *mc)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);

    mc->ncpu = ncpu < 1 ? 1 : ncpu;
    /* unknown RAM (-1) must not shrink the sizing to nothing */
    mc->ram_mb = pages > 0 && page > 0
        ? (long)((double)pages * page / (1024 * 1024)) : 0;
}

/* The default MaxRequestWorkers of each of `cores` cores on mc: 256 per
 * CPU, at most 1024 and one per 4 MiB of RAM (the cores share the machine),
 * then a multiple of ThreadsPerChild (httpd lowers any other value to one,
 * with a warning), at least one child. */
static int default_workers(const machine_t *mc, int cores, int tpc)
{
    long n = DFLT_WORKERS_PER_CPU * mc->ncpu;
    long by_ram = mc->ram_mb / DFLT_RAM_PER_WORKER_MB;

    by_ram /= cores < 1 ? 1 : cores;
    n = n > DFLT_MAX_WORKERS ? DFLT_MAX_WORKERS : n;
    if (mc->ram_mb > 0 && n > by_ram) {
        n = by_ram;
    }
    n -= n % tpc;
    return n < tpc ? tpc : (int)n;
}

void admin_mpm_complete(admin_mpm_t *m, int cores, apr_pool_t *p)
{
    apr_array_header_t *what = apr_array_make(p, 4, sizeof(const char *));
    machine_t mc;
    int i;

    machine(&mc);
    if (m->threads_per_child == ADMIN_MPM_UNSET) {
        m->threads_per_child = DFLT_THREADS_PER_CHILD;
        APR_ARRAY_PUSH(what, const char *) = "ThreadsPerChild the default";
    }
    if (m->max_request_workers == ADMIN_MPM_UNSET) {
        /* a bad ThreadsPerChild is reported by admin_mpm_check */
        m->max_request_workers = m->threads_per_child > 0
            ? default_workers(&mc, cores, m->threads_per_child)
            : DFLT_MAX_WORKERS;
        APR_ARRAY_PUSH(what, const char *) = apr_psprintf(p,
            "MaxRequestWorkers computed for this machine (%ld CPU%s, %ld MiB "
            "of RAM, %d core%s)", mc.ncpu, mc.ncpu > 1 ? "s" : "", mc.ram_mb,
            cores, cores > 1 ? "s" : "");
    }
    if (m->front_max_request_workers == ADMIN_MPM_UNSET) {
        /* the front's pooled connections to a core then never outnumber
         * the core's threads, even when every student sticks to one core */
        m->front_max_request_workers = m->max_request_workers;
        APR_ARRAY_PUSH(what, const char *) =
            "the front's MaxRequestWorkers as a core's";
    }
    if (m->keepalive_timeout == ADMIN_MPM_UNSET) {
        m->keepalive_timeout = DFLT_KEEPALIVE_TIMEOUT;
        APR_ARRAY_PUSH(what, const char *) = "KeepAliveTimeout the default";
    }
    m->computed = NULL;
    for (i = 0; i < what->nelts; i++) {
        const char *w = APR_ARRAY_IDX(what, i, const char *);

        m->computed = m->computed ? apr_pstrcat(p, m->computed, "; ", w, NULL)
                                  : w;
    }
}

int admin_mpm_server_limit(const admin_mpm_t *m, int front)
{
    int mrw = front ? m->front_max_request_workers : m->max_request_workers;

    return (mrw + m->threads_per_child - 1) / m->threads_per_child;
}

/* The name of a setting as the operator gave it: a create option or a
 * weblab.conf key. */
static const char *setting(int which, int as_options)
{
    static const char *const options[] = {
        "--threads-per-child", "--max-request-workers",
        "--front-max-request-workers", "--keepalive-timeout"
    };
    static const char *const keys[] = {
        "mpm.threads_per_child", "mpm.max_request_workers",
        "mpm.front_max_request_workers", "mpm.keepalive_timeout"
    };

    return as_options ? options[which] : keys[which];
}

/* MaxRequestWorkers (core or front) against ThreadsPerChild. */
static const char *check_workers(int mrw, int tpc, int which, int as_options,
                                 apr_pool_t *p)
{
    const char *name = setting(which, as_options);
    const char *tpc_name = setting(0, as_options);

    if (mrw < 1) {
        return apr_psprintf(p, "%s must be at least 1, not %d", name, mrw);
    }
    if (mrw < tpc) {
        return apr_psprintf(p, "%s %d is less than %s %d: an httpd needs at "
                            "least one full child process", name, mrw,
                            tpc_name, tpc);
    }
    if (mrw % tpc) {
        return apr_psprintf(p, "%s %d is not a multiple of %s %d (httpd "
                            "would lower it to %d): use %d or %d", name, mrw,
                            tpc_name, tpc, mrw - mrw % tpc, mrw - mrw % tpc,
                            mrw - mrw % tpc + tpc);
    }
    if (mrw / tpc > HTTPD_MAX_SERVER_LIMIT) {
        return apr_psprintf(p, "%s %d needs %d processes of %d thread%s, "
                            "more than httpd's ServerLimit maximum of %d: "
                            "raise %s", name, mrw, mrw / tpc, tpc,
                            tpc > 1 ? "s" : "", HTTPD_MAX_SERVER_LIMIT,
                            tpc_name);
    }
    return NULL;
}

const char *admin_mpm_check(const admin_mpm_t *m, int as_options,
                            apr_pool_t *p)
{
    const char *why;
    int tpc = m->threads_per_child;

    if (tpc < 1 || tpc > HTTPD_MAX_THREAD_LIMIT) {
        return apr_psprintf(p, "%s must be between 1 and %d (httpd's "
                            "ThreadLimit maximum), not %d",
                            setting(0, as_options), HTTPD_MAX_THREAD_LIMIT,
                            tpc);
    }
    if ((why = check_workers(m->max_request_workers, tpc, 1, as_options, p))
        || (why = check_workers(m->front_max_request_workers, tpc, 2,
                                as_options, p))) {
        return why;
    }
    if (m->keepalive_timeout < 0
        || m->keepalive_timeout > MAX_KEEPALIVE_TIMEOUT) {
        return apr_psprintf(p, "%s must be between 0 (KeepAlive Off) and %d "
                            "seconds, not %d", setting(3, as_options),
                            MAX_KEEPALIVE_TIMEOUT, m->keepalive_timeout);
    }
    return NULL;
}

/* ---- weblab-admin status ---- */

static json_t *httpd_json(const admin_mpm_t *m, int front)
{
    json_t *o = json_object();

    json_object_set_new(o, "mpm", json_string(front ? "event" : "worker"));
    json_object_set_new(o, "threads_per_child",
                        json_integer(m->threads_per_child));
    json_object_set_new(o, "server_limit",
                        json_integer(admin_mpm_server_limit(m, front)));
    json_object_set_new(o, "max_request_workers",
                        json_integer(front ? m->front_max_request_workers
                                           : m->max_request_workers));
    /* the front keeps httpd's own keep-alive: idle connections hold no
     * thread under the event MPM */
    json_object_set_new(o, "keepalive_timeout",
                        front ? json_null()
                              : json_integer(m->keepalive_timeout));
    return o;
}

json_t *admin_mpm_json(const admin_deploy_t *dep)
{
    json_t *o = json_object();

    /* null when every value comes from weblab.conf */
    json_object_set_new(o, "computed", admin_json_str(dep->mpm.computed));
    json_object_set_new(o, "core", httpd_json(&dep->mpm, 0));
    json_object_set_new(o, "front", dep->front_port
                                    ? httpd_json(&dep->mpm, 1) : json_null());
    return o;
}

void admin_mpm_print(const admin_deploy_t *dep, apr_pool_t *p)
{
    const admin_mpm_t *m = &dep->mpm;
    admin_table_t *t = admin_table_make(p, 6, "HTTPD", "MPM",
                                        "THREADSPERCHILD", "SERVERLIMIT",
                                        "MAXREQUESTWORKERS",
                                        "KEEPALIVETIMEOUT");
    const char *ka = m->keepalive_timeout
        ? apr_psprintf(p, "%d s", m->keepalive_timeout) : "off";

    /* the values are each core's */
    admin_table_row(t, dep->cores->nelts > 1
                       ? apr_psprintf(p, "core1..%d", dep->cores->nelts)
                       : "core1", "worker", apr_itoa(p, m->threads_per_child),
                    apr_itoa(p, admin_mpm_server_limit(m, 0)),
                    apr_itoa(p, m->max_request_workers), ka);
    if (dep->front_port) {
        admin_table_row(t, "front", "event",
                        apr_itoa(p, m->threads_per_child),
                        apr_itoa(p, admin_mpm_server_limit(m, 1)),
                        apr_itoa(p, m->front_max_request_workers),
                        "httpd's default");
    }
    admin_table_print(t);
    if (m->computed) {
        printf("(not in weblab.conf: %s)\n", m->computed);
    }
}
