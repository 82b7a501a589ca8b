/* The health checkers (weblab_checkers.h) against real loopback peers: a
 * small HTTP server forked for the suite (one thread per connection, each
 * path a behaviour: an image, a page, a 404, silence, a stream that never
 * ends...), a closed port, and a listener whose accept queue is full so
 * that connecting hangs as it does to a dead host. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <curl/curl.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "weblab_checkers.h"
#define CHECK_MAIN_CURL
#include "check_main.h"

static pid_t server_pid;
static int server_port;
static apr_pool_t *pool;

/* ---- the HTTP server (in its own process) ---- */

static volatile int flaky_hits;         /* the server process's own */

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

        if (w <= 0) {
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void answer(int fd, const char *status, const char *type,
                   const char *body)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, type, strlen(body));

    send_all(fd, head, (size_t)n);
    send_all(fd, body, strlen(body));
}

static void *serve(void *arg)
{
    int fd = (int)(long)arg;
    char req[4096], path[256] = "";
    size_t len = 0;

    while (len < sizeof(req) - 1) {
        ssize_t r = recv(fd, req + len, sizeof(req) - 1 - len, 0);

        if (r <= 0) {
            break;
        }
        len += (size_t)r;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n")) {
            break;
        }
    }
    req[len] = '\0';
    sscanf(req, "GET %255s", path);
    if (!strcmp(path, "/jpeg")) {
        answer(fd, "200 OK", "image/jpeg", "\xff\xd8\xff\xe0 not really");
    }
    else if (!strcmp(path, "/png")) {
        answer(fd, "200 OK", "Image/PNG; charset=binary", "\x89PNG");
    }
    else if (!strcmp(path, "/jpg")) {
        answer(fd, "200 OK", "image/jpg", "x");
    }
    else if (!strcmp(path, "/html")) {
        answer(fd, "200 OK", "text/html", "<html>camera offline</html>");
    }
    else if (!strcmp(path, "/404")) {
        answer(fd, "404 Not Found", "image/jpeg", "gone");
    }
    else if (!strcmp(path, "/redirect")) {
        const char *moved = "HTTP/1.1 302 Found\r\nLocation: /jpeg\r\n"
                            "Content-Length: 0\r\nConnection: close\r\n\r\n";

        send_all(fd, moved, strlen(moved));
    }
    else if (!strcmp(path, "/stream")) {
        /* an MJPEG-like answer that never ends */
        const char *head = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
                           "Connection: close\r\n\r\n";
        char chunk[1024];
        int i;

        memset(chunk, 'j', sizeof(chunk));
        send_all(fd, head, strlen(head));
        for (i = 0; i < 60 * 100; i++) {
            if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) <= 0) {
                break;
            }
            usleep(10000);
        }
    }
    else if (!strcmp(path, "/flaky")) {
        /* fails twice, then answers an image */
        if (__sync_add_and_fetch(&flaky_hits, 1) <= 2) {
            answer(fd, "503 Service Unavailable", "text/plain", "warming");
        }
        else {
            answer(fd, "200 OK", "image/jpeg", "x");
        }
    }
    else if (!strcmp(path, "/json-ok")) {
        answer(fd, "200 OK", "application/json",
               "{\"success\": true, \"message\": \"all fine\"}");
    }
    else if (!strcmp(path, "/json-false")) {
        answer(fd, "200 OK", "application/json",
               "{\"success\": false, \"message\": \"motor driver off\"}");
    }
    else if (!strcmp(path, "/json-bad")) {
        answer(fd, "200 OK", "text/html", "<html>not json</html>");
    }
    else if (!strcmp(path, "/json-big")) {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Type: "
                           "application/json\r\nConnection: close\r\n\r\n"
                           "{\"success\": true, \"pad\": \"";
        char chunk[4096];
        int i;

        memset(chunk, 'p', sizeof(chunk));
        send_all(fd, head, strlen(head));
        for (i = 0; i < 64; i++) {
            send_all(fd, chunk, sizeof(chunk));
        }
        send_all(fd, "\"}", 2);
    }
    else if (!strcmp(path, "/hang")) {
        sleep(60);                      /* never answers */
    }
    else {
        answer(fd, "404 Not Found", "text/plain", "no such path");
    }
    close(fd);
    return NULL;
}

static void server_loop(int lfd)
{
    for (;;) {
        pthread_t t;
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR) {
                continue;
            }
            _exit(1);
        }
        if (pthread_create(&t, NULL, serve, (void *)(long)fd) == 0) {
            pthread_detach(t);
        }
        else {
            close(fd);
        }
    }
}

static int listen_loopback(int backlog, int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))
        || listen(fd, backlog)
        || getsockname(fd, (struct sockaddr *)&a, &alen)) {
        perror("listen");
        exit(1);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void server_start(void)
{
    int lfd = listen_loopback(64, &server_port);

    server_pid = fork();
    if (server_pid < 0) {
        perror("fork");
        exit(1);
    }
    if (server_pid == 0) {
        server_loop(lfd);
        _exit(0);
    }
    close(lfd);
}

static void server_stop(void)
{
    kill(server_pid, SIGKILL);
    waitpid(server_pid, NULL, 0);
}

/* ---- helpers ---- */

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *url(const char *path)
{
    return apr_psprintf(pool, "http://127.0.0.1:%d%s", server_port, path);
}

/* Run one check; its error (NULL: passed) and how long it took. */
static const char *check1(const char *type, const char *target,
                          double timeout, double *secs)
{
    apr_array_header_t *a = apr_array_make(pool, 1,
                                           sizeof(weblab_checker_t));
    weblab_checker_t *c = apr_array_push(a);
    const char **errors = NULL;
    apr_time_t t0 = apr_time_now();

    c->type = type;
    c->target = target;
    c->timeout = timeout;
    ck_assert_int_eq(weblab_checkers_run(&errors, a, 5.0, pool),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(errors);
    if (secs) {
        *secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    }
    return errors[0];
}

/* A port where nobody listens (bound, then closed: refused). */
static int closed_port(void)
{
    int port;
    int fd = listen_loopback(1, &port);

    close(fd);
    return port;
}

#define assert_has(err, s) \
    ck_assert_msg((err) && strstr((err), (s)), "error: %s (wanted: %s)", \
                  (err) ? (err) : "(passed)", (s))

/* ---- validation ---- */

START_TEST(test_problem)
{
    weblab_checker_t c = { "host", "127.0.0.1:80", 10 };

    ck_assert_ptr_null(weblab_checker_problem(&c, pool));
    c.target = "lab-cam.example.org:8080";
    ck_assert_ptr_null(weblab_checker_problem(&c, pool));
    c.target = "[2001:db8::7]:80";
    ck_assert_ptr_null(weblab_checker_problem(&c, pool));
    c.target = "127.0.0.1";
    assert_has(weblab_checker_problem(&c, pool), "must look like HOST:PORT");
    c.target = "127.0.0.1:0";
    assert_has(weblab_checker_problem(&c, pool), "must be 1 to 65535");
    c.target = "127.0.0.1:65536";
    assert_has(weblab_checker_problem(&c, pool), "must be 1 to 65535");
    c.target = "127.0.0.1:8x";
    assert_has(weblab_checker_problem(&c, pool), "is not a number");
    c.target = "a;rm -rf /:80";
    assert_has(weblab_checker_problem(&c, pool), "not allowed in a host");
    c.target = "[::1;]:80";
    assert_has(weblab_checker_problem(&c, pool), "IPv6");
    c.target = "";
    assert_has(weblab_checker_problem(&c, pool), "no target");

    c.type = "webcam";
    c.target = "http://cam/image.jpg";
    ck_assert_ptr_null(weblab_checker_problem(&c, pool));
    c.target = "ftp://cam/image.jpg";
    assert_has(weblab_checker_problem(&c, pool), "http:// or https://");
    c.target = "http://cam/a b.jpg";
    assert_has(weblab_checker_problem(&c, pool), "not allowed in a URL");
    c.type = "web";
    c.target = apr_pstrcat(pool, "http://x/",
                           apr_psprintf(pool, "%0600d", 0), NULL);
    assert_has(weblab_checker_problem(&c, pool), "longer than 600");
    c.target = "https://lab/health";
    c.timeout = 0;
    assert_has(weblab_checker_problem(&c, pool), "timeout");
    c.timeout = 61;
    assert_has(weblab_checker_problem(&c, pool), "timeout");
    c.timeout = 60;
    ck_assert_ptr_null(weblab_checker_problem(&c, pool));
    c.type = "ping";
    assert_has(weblab_checker_problem(&c, pool),
               "unknown checker type 'ping'");
    c.type = NULL;
    assert_has(weblab_checker_problem(&c, pool), "unknown checker type");
    ck_assert_int_eq(weblab_checker_tries("host"), 2);
    ck_assert_int_eq(weblab_checker_tries("webcam"), 3);
    ck_assert_int_eq(weblab_checker_tries("web"), 3);
    ck_assert_int_eq(weblab_checker_tries("ping"), 0);
}
END_TEST

START_TEST(test_password_hidden)
{
    weblab_checker_t c = { "webcam", "http://cam:s3cr3t@10.0.0.9/img.jpg",
                           10 };
    const char *err;

    ck_assert_str_eq(weblab_checker_describe(&c, pool),
                     "webcam http://cam:***@10.0.0.9/img.jpg");
    c.target = "http://cam@10.0.0.9/x";
    ck_assert_str_eq(weblab_checker_shown_target(&c, pool), c.target);
    c.target = "http://10.0.0.9/x?user=a:b@c";
    ck_assert_str_eq(weblab_checker_shown_target(&c, pool), c.target);
    /* an error never quotes it either */
    err = check1("webcam",
                 apr_psprintf(pool, "http://u:hunter2@127.0.0.1:%d/html",
                              server_port), 5, NULL);
    assert_has(err, "u:***@");
    ck_assert_msg(!strstr(err, "hunter2"), "error: %s", err);
}
END_TEST

START_TEST(test_bad_checker_fails_untried)
{
    double secs;
    const char *err = check1("ping", "127.0.0.1:1", 5, &secs);

    assert_has(err, "unknown checker type 'ping'");
    err = check1("host", "nohost", 5, &secs);
    assert_has(err, "must look like HOST:PORT");
    ck_assert(secs < 1.0);
}
END_TEST

/* ---- host ---- */

START_TEST(test_host_accepting_and_closed)
{
    double secs;
    const char *err;
    int port = closed_port();

    ck_assert_ptr_null(check1("host", apr_psprintf(pool, "127.0.0.1:%d",
                                                   server_port), 5, NULL));
    ck_assert_ptr_null(check1("host", apr_psprintf(pool, "localhost:%d",
                                                   server_port), 5, NULL));
    err = check1("host", apr_psprintf(pool, "127.0.0.1:%d", port), 5, &secs);
    assert_has(err, apr_psprintf(pool, "host 127.0.0.1:%d: ", port));
    assert_has(err, "(2 tries)");
    assert_has(err, "refused");
    ck_assert(secs < 2.0);
}
END_TEST

/* A listener whose accept queue is full drops new SYNs, as a dead host
 * does: the connect timeout must end each try. */
START_TEST(test_host_connect_timeout_bounded)
{
    int port, i, fds[8];
    int lfd = listen_loopback(0, &port);
    struct sockaddr_in a;
    double secs;
    const char *err;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    for (i = 0; i < 8; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
        connect(fds[i], (struct sockaddr *)&a, sizeof(a));
    }
    usleep(200000);
    err = check1("host", apr_psprintf(pool, "127.0.0.1:%d", port), 1.0,
                 &secs);
    assert_has(err, "(2 tries)");
    assert_has(err, "imed out");
    ck_assert_msg(secs >= 1.5 && secs < 4.0, "took %.2f s", secs);
    for (i = 0; i < 8; i++) {
        close(fds[i]);
    }
    close(lfd);
}
END_TEST

/* ---- webcam ---- */

START_TEST(test_webcam_image_types)
{
    ck_assert_ptr_null(check1("webcam", url("/jpeg"), 5, NULL));
    ck_assert_ptr_null(check1("webcam", url("/jpg"), 5, NULL));
    /* case and parameters do not matter */
    ck_assert_ptr_null(check1("webcam", url("/png"), 5, NULL));
    /* the original's urlopen follows redirects */
    ck_assert_ptr_null(check1("webcam", url("/redirect"), 5, NULL));
}
END_TEST

START_TEST(test_webcam_html_and_404_fail)
{
    const char *err = check1("webcam", url("/html"), 5, NULL);

    assert_has(err, apr_psprintf(pool, "webcam %s: Content-Type text/html,"
                                 " not image/jpeg", url("/html")));
    assert_has(err, "(3 tries)");
    err = check1("webcam", url("/404"), 5, NULL);
    assert_has(err, "HTTP status 404");
    err = check1("webcam", apr_psprintf(pool, "http://127.0.0.1:%d/x.jpg",
                                        closed_port()), 5, NULL);
    assert_has(err, "(3 tries)");
    assert_has(err, "refused");
}
END_TEST

START_TEST(test_webcam_silent_server_times_out)
{
    double secs;
    const char *err = check1("webcam", url("/hang"), 1.0, &secs);

    assert_has(err, "(3 tries)");
    assert_has(err, "imed out");
    /* three tries of one second, not curl's or the server's patience */
    ck_assert_msg(secs >= 2.5 && secs < 5.0, "took %.2f s", secs);
}
END_TEST

START_TEST(test_webcam_stream_stops_at_headers)
{
    double secs;

    ck_assert_ptr_null(check1("webcam", url("/stream"), 5.0, &secs));
    ck_assert_msg(secs < 2.0, "took %.2f s", secs);
}
END_TEST

START_TEST(test_webcam_retries_until_it_answers)
{
    /* 503 twice, then the image: the third try passes */
    ck_assert_ptr_null(check1("webcam", url("/flaky"), 5, NULL));
}
END_TEST

/* ---- web ---- */

START_TEST(test_web_success_field)
{
    const char *err;

    ck_assert_ptr_null(check1("web", url("/json-ok"), 5, NULL));
    err = check1("web", url("/json-false"), 5, NULL);
    assert_has(err, "\"success\" is not true: motor driver off (3 tries)");
    err = check1("web", url("/json-bad"), 5, NULL);
    assert_has(err, "not a JSON object");
    err = check1("web", url("/json-big"), 5, NULL);
    assert_has(err, "larger than 64 KiB");
    err = check1("web", url("/404"), 5, NULL);
    assert_has(err, "HTTP status 404");
}
END_TEST

/* ---- many at once ---- */

START_TEST(test_checks_run_at_once)
{
    apr_array_header_t *a = apr_array_make(pool, 8,
                                           sizeof(weblab_checker_t));
    const char **errors;
    apr_time_t t0 = apr_time_now();
    double secs;
    int i;

    for (i = 0; i < 6; i++) {
        weblab_checker_t *c = apr_array_push(a);

        c->type = i % 2 ? "web" : "webcam";
        c->target = url("/hang");
        c->timeout = 1.0;
    }
    APR_ARRAY_PUSH(a, weblab_checker_t) =
        (weblab_checker_t){ "webcam", url("/jpeg"), 5.0 };
    APR_ARRAY_PUSH(a, weblab_checker_t) =
        (weblab_checker_t){ "host", "127.0.0.1", 5.0 };
    ck_assert_int_eq(weblab_checkers_run(&errors, a, 5.0, pool),
                     APR_SUCCESS);
    secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    /* six silent servers, three tries each: 3 s, not 18 */
    ck_assert_msg(secs < 6.0, "took %.2f s", secs);
    for (i = 0; i < 6; i++) {
        assert_has(errors[i], "(3 tries)");
    }
    ck_assert_ptr_null(errors[6]);
    assert_has(errors[7], "must look like HOST:PORT");
}
END_TEST

START_TEST(test_no_checks)
{
    const char **errors = NULL;

    ck_assert_int_eq(weblab_checkers_run(&errors, NULL, 5.0, pool),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(errors);
}
END_TEST

static Suite *checkers_suite(void)
{
    Suite *s = suite_create("checkers");
    TCase *tc = tcase_create("checkers");

    tcase_add_unchecked_fixture(tc, server_start, server_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_problem);
    tcase_add_test(tc, test_password_hidden);
    tcase_add_test(tc, test_bad_checker_fails_untried);
    tcase_add_test(tc, test_host_accepting_and_closed);
    tcase_add_test(tc, test_host_connect_timeout_bounded);
    tcase_add_test(tc, test_webcam_image_types);
    tcase_add_test(tc, test_webcam_html_and_404_fail);
    tcase_add_test(tc, test_webcam_silent_server_times_out);
    tcase_add_test(tc, test_webcam_stream_stops_at_headers);
    tcase_add_test(tc, test_webcam_retries_until_it_answers);
    tcase_add_test(tc, test_web_success_field);
    tcase_add_test(tc, test_checks_run_at_once);
    tcase_add_test(tc, test_no_checks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(checkers_suite);
}
