/* A small bounded pool of background threads, one per process (an httpd
 * child), for work a request starts but must not wait for: the lab calls
 * of send_async_command and send_async_file. Built on apr-util's
 * apr_thread_pool. Bounded twice: at most `threads` jobs run at once and at
 * most `queue` more wait; a caller that finds every place taken is refused
 * at once, never blocked, so a flood of jobs can neither grow memory
 * without end nor hold httpd's own request threads. */
#ifndef WEBLAB_ASYNC_WORKER_H
#define WEBLAB_ASYNC_WORKER_H

#include <apr_pools.h>
#include <apr_errno.h>

typedef struct weblab_async_worker_t weblab_async_worker_t;

/* A job. It owns its baton (and whatever pool holds it). */
typedef void (*weblab_async_fn)(void *baton);

/* Create a worker from p (pchild in httpd; call it while the process is
 * single-threaded): its threads start now and wait, idle, for jobs. When
 * p is destroyed, running jobs are waited for (so a job may use anything
 * made from p before the worker) and queued ones are dropped without
 * running. */
apr_status_t weblab_async_worker_create(weblab_async_worker_t **w,
                                        int threads, int queue,
                                        apr_pool_t *p);

/* Take a place (running or queued) for a job about to be run:
 * APR_EAGAIN, at once, when all threads + queue places are taken. Reserve
 * first, then prepare the job, then weblab_async_worker_run, so that a full
 * worker is found before anything was written anywhere. */
apr_status_t weblab_async_worker_reserve(weblab_async_worker_t *w);

/* Give back a reserved place that will not be used. */
void weblab_async_worker_unreserve(weblab_async_worker_t *w);

/* Run fn(baton) on a worker thread in a place reserved before. A small
 * record is allocated from job_pool (which fn may destroy: it is not used
 * once fn has started). On failure fn never runs and the place is given
 * back. */
apr_status_t weblab_async_worker_run(weblab_async_worker_t *w,
                                     weblab_async_fn fn, void *baton,
                                     apr_pool_t *job_pool);

/* Places taken now (running + queued + reserved), for status and tests. */
int weblab_async_worker_taken(weblab_async_worker_t *w);

#endif
