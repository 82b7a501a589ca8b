#include "weblab_async_worker.h"

#include <apr_atomic.h>
#include <apr_thread_pool.h>

struct weblab_async_worker_t {
    apr_thread_pool_t *threads;
    apr_uint32_t places;            /* threads + queue */
    volatile apr_uint32_t taken;    /* reserved, queued or running */
};

typedef struct job_t {
    weblab_async_worker_t *w;
    weblab_async_fn fn;
    void *baton;
} job_t;

apr_status_t weblab_async_worker_create(weblab_async_worker_t **out,
                                        int threads, int queue,
                                        apr_pool_t *p)
{
    weblab_async_worker_t *w;
    apr_status_t rv;

    *out = NULL;
    if (threads < 1 || queue < 0) {
        return APR_EINVAL;
    }
    w = apr_pcalloc(p, sizeof(*w));
    w->places = (apr_uint32_t)(threads + queue);
    /* Every thread is started now and kept (idle_max = threads): then a
     * push never creates a thread, and apr_thread_pool_push fails only
     * before queueing the job (ENOMEM), never after, when the job might
     * still run although the caller was told it would not. */
    rv = apr_thread_pool_create(&w->threads, (apr_size_t)threads,
                                (apr_size_t)threads, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = w;
    return APR_SUCCESS;
}

apr_status_t weblab_async_worker_reserve(weblab_async_worker_t *w)
{
    if (apr_atomic_inc32(&w->taken) >= w->places) {
        apr_atomic_dec32(&w->taken);
        return APR_EAGAIN;
    }
    return APR_SUCCESS;
}

void weblab_async_worker_unreserve(weblab_async_worker_t *w)
{
    apr_atomic_dec32(&w->taken);
}

static void *APR_THREAD_FUNC run_job(apr_thread_t *thread, void *data)
{
    job_t job = *(job_t *)data;     /* fn may free the record's pool */

    job.fn(job.baton);
    apr_atomic_dec32(&job.w->taken);
    return NULL;
}

apr_status_t weblab_async_worker_run(weblab_async_worker_t *w,
                                     weblab_async_fn fn, void *baton,
                                     apr_pool_t *job_pool)
{
    job_t *job = apr_palloc(job_pool, sizeof(*job));
    apr_status_t rv;

    job->w = w;
    job->fn = fn;
    job->baton = baton;
    rv = apr_thread_pool_push(w->threads, run_job, job,
                              APR_THREAD_TASK_PRIORITY_NORMAL, NULL);
    if (rv != APR_SUCCESS) {
        weblab_async_worker_unreserve(w);
    }
    return rv;
}

int weblab_async_worker_taken(weblab_async_worker_t *w)
{
    return (int)apr_atomic_read32(&w->taken);
}
