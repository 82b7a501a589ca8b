/* The per-child worker threads of async commands (weblab_async_worker.h).
 * A child_init hook of its own, run after weblab_child.c's (APR_HOOK_LAST)
 * has made the child's core: the threads are made from pchild, after the
 * core's connection pools, so that when the child exits the threads are
 * stopped, waiting for the lab calls in progress, before those pools go. */
#include "weblab_glue.h"
#include "weblab_async_worker.h"
#include "weblab_async_request.h"

#include <http_log.h>
#include <ap_mpm.h>
#include <pthread.h>
#include <signal.h>

APLOG_USE_MODULE(weblab);

/* The MPM blocks signals in the child's threads only after child_init;
 * threads made here would inherit an open mask and could be the ones a
 * signal meant for the child is delivered to. They get every signal
 * blocked, like the MPM's own threads. */
static apr_status_t create_worker(weblab_async_worker_t **w, int threads,
                                  apr_pool_t *pchild)
{
    sigset_t all, old;
    apr_status_t rv;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rv = weblab_async_worker_create(w, threads, WEBLAB_ASYNC_QUEUE, pchild);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rv;
}

static void weblab_async_child_init(apr_pool_t *pchild, server_rec *base)
{
    server_rec *s;
    int threaded = 0, threads = WEBLAB_ASYNC_THREADS;

    /* prefork runs many one-request children: one thread each is enough */
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) == APR_SUCCESS
        && threaded == AP_MPMQ_NOT_SUPPORTED) {
        threads = 1;
    }

    for (s = base; s; s = s->next) {
        weblab_server_conf_t *c = ap_get_module_config(s->module_config,
                                                       &weblab_module);
        apr_status_t rv;

        if (!c->database_set || !c->core || c->core->async) {
            continue;               /* no core, or shared and done */
        }
        rv = create_worker(&c->core->async, threads, pchild);
        if (rv != APR_SUCCESS) {
            /* async commands then answer a clear error; the rest works */
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "weblab: could not start the threads of async"
                         " commands");
            c->core->async = NULL;
        }
    }
}

void weblab_async_register_hooks(apr_pool_t *p)
{
    ap_hook_child_init(weblab_async_child_init, NULL, NULL, APR_HOOK_LAST);
}
