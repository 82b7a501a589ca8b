/* The listening socket, the signals and the event loop of
 * experiment_server; see es_server.h. Connections are in es_conn.c. */
#include "es_server.h"
#include "es_conn.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <apr_strings.h>

#define MAX_EVENTS      64

struct weblab_es_server_t {
    const weblab_es_conf_t *conf;
    weblab_es_log_t *log;
    weblab_es_conns_t conns;
    const char *address;
    int listen_fd, signal_fd, epoll_fd;
    int accept_paused;          /* out of fds: listener off for a while */
    long long accept_resume;
    int stop;
};

static void on_accept(weblab_es_server_t *srv)
{
    for (;;) {
        int fd = accept4(srv->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM
                || errno == ENOBUFS) {
                /* Out of descriptors: a level-triggered listener would spin;
                 * stop accepting for a second. */
                weblab_es_log(srv->log, WEBLAB_ES_LOG_ERROR,
                              APR_FROM_OS_ERROR(errno),
                              "accept failed; pausing accepts for 1 s");
                epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
                srv->accept_paused = 1;
                srv->accept_resume = weblab_es_now_ms() + 1000;
            }
            return;     /* EAGAIN, or a client gone before we took it */
        }
        if (srv->conns.count >= WEBLAB_ES_MAX_CONNECTIONS) {
            weblab_es_log(srv->log, WEBLAB_ES_LOG_WARN, APR_SUCCESS,
                          "%u connections open: refusing another",
                          srv->conns.count);
            close(fd);
            continue;
        }
        weblab_es_conn_open(&srv->conns, fd);
    }
}

static void on_signal(weblab_es_server_t *srv)
{
    struct signalfd_siginfo si;

    while (read(srv->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            apr_status_t rv = weblab_es_log_reopen(srv->log);
            weblab_es_log(srv->log, rv ? WEBLAB_ES_LOG_ERROR
                                       : WEBLAB_ES_LOG_NOTICE,
                          rv, "SIGHUP: log file reopened");
        }
        else {
            weblab_es_log(srv->log, WEBLAB_ES_LOG_NOTICE, APR_SUCCESS,
                          "signal %d: shutting down", (int)si.ssi_signo);
            srv->stop = 1;
            srv->conns.stopping = 1;
        }
    }
}

/* Close connections past their deadline; resume accepting after a pause. */
static void sweep(weblab_es_server_t *srv, long long now)
{
    weblab_es_conns_sweep(&srv->conns, now);
    if (srv->accept_paused && now >= srv->accept_resume) {
        struct epoll_event ev = { .events = EPOLLIN,
                                  .data.ptr = &srv->listen_fd };
        if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &ev)
            == 0) {
            srv->accept_paused = 0;
        }
    }
}

static apr_status_t open_listener(weblab_es_server_t *srv,
                                  const char **errmsg, apr_pool_t *pool)
{
    const weblab_es_conf_t *conf = srv->conf;
    struct addrinfo hints, *res = NULL;
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    int err, one = 1, fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    err = getaddrinfo(conf->bind_addr, conf->port, &hints, &res);
    if (err) {
        *errmsg = apr_psprintf(pool, "cannot listen on %s:%s: %s",
                               conf->bind_addr, conf->port,
                               gai_strerror(err));
        return APR_EINVAL;
    }
    /* The first address that binds; a port in use is final. */
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK
                    | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0
            && listen(fd, 511) == 0) {
            getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host),
                        serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
            srv->address = apr_psprintf(pool, ai->ai_family == AF_INET6
                                        ? "[%s]:%s" : "%s:%s", host, serv);
            break;
        }
        err = errno;
        close(fd);
        fd = -1;
        if (err == EADDRINUSE || err == EACCES) {
            break;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        *errmsg = apr_psprintf(pool, "cannot listen on %s:%s: %s",
                               conf->bind_addr, conf->port, strerror(err));
        return APR_FROM_OS_ERROR(err);
    }
    srv->listen_fd = fd;
    return APR_SUCCESS;
}

apr_status_t weblab_es_server_create(weblab_es_server_t **srvp,
                                     const char **errmsg,
                                     const weblab_es_conf_t *conf,
                                     weblab_es_rpc_t *rpc,
                                     weblab_es_log_t *log, apr_pool_t *pool)
{
    weblab_es_server_t *srv = apr_pcalloc(pool, sizeof(*srv));
    struct epoll_event ev;
    sigset_t mask;
    apr_status_t rv;

    srv->conf = conf;
    srv->log = log;
    srv->conns.rpc = rpc;
    srv->conns.log = log;
    srv->conns.auth = conf->auth;
    srv->listen_fd = srv->signal_fd = srv->epoll_fd = -1;
    if ((rv = apr_pool_create(&srv->conns.req_pool, pool)) != APR_SUCCESS) {
        *errmsg = "out of memory";
        return rv;
    }
    /* Signals arrive as events of the loop, so there is nothing to do in
     * a signal handler. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    srv->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    srv->conns.epoll_fd = srv->epoll_fd;
    if (srv->signal_fd < 0 || srv->epoll_fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        *errmsg = apr_psprintf(pool, "cannot set up the event loop: %s",
                               strerror(errno));
        weblab_es_server_close(srv);
        return rv;
    }
    if ((rv = open_listener(srv, errmsg, pool)) != APR_SUCCESS) {
        weblab_es_server_close(srv);
        return rv;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = &srv->listen_fd;
    epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &ev);
    ev.data.ptr = &srv->signal_fd;
    epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->signal_fd, &ev);
    *srvp = srv;
    return APR_SUCCESS;
}

const char *weblab_es_server_address(const weblab_es_server_t *srv)
{
    return srv->address;
}

apr_status_t weblab_es_server_run(weblab_es_server_t *srv)
{
    struct epoll_event events[MAX_EVENTS];
    long long last_sweep = weblab_es_now_ms();

    while (!srv->stop) {
        int n = epoll_wait(srv->epoll_fd, events, MAX_EVENTS, 1000);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            weblab_es_log(srv->log, WEBLAB_ES_LOG_ERROR,
                          APR_FROM_OS_ERROR(errno), "epoll_wait failed");
            return APR_FROM_OS_ERROR(errno);
        }
        for (int i = 0; i < n && !srv->stop; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &srv->listen_fd) {
                on_accept(srv);
                continue;
            }
            if (tag == &srv->signal_fd) {
                on_signal(srv);
                continue;
            }
            /* tag is a live connection: a handler only ever closes its
             * own connection, an fd shows up at most once per batch, and
             * the sweep that closes idle ones runs after the batch. */
            weblab_es_conn_on_event(&srv->conns, tag, events[i].events);
        }
        long long now = weblab_es_now_ms();
        if (now - last_sweep >= 1000) {
            sweep(srv, now);
            last_sweep = now;
        }
    }
    return APR_SUCCESS;
}

void weblab_es_server_close(weblab_es_server_t *srv)
{
    weblab_es_conns_close_all(&srv->conns);
    if (srv->listen_fd >= 0) {
        close(srv->listen_fd);
        srv->listen_fd = -1;
    }
    if (srv->signal_fd >= 0) {
        close(srv->signal_fd);
        srv->signal_fd = -1;
    }
    if (srv->epoll_fd >= 0) {
        close(srv->epoll_fd);
        srv->epoll_fd = -1;
    }
}
