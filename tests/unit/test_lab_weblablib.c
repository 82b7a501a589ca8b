/* The lab client's "http" transport (weblablib labs, spec 4.5 and 10.3)
 * against a real peer: tests/integration/fake_weblablib_lab.py, started
 * once for the suite on a free loopback port. It records every request
 * (method, path, Authorization, Accept, Content-Type, body) and keeps the
 * sessions it started; every test reads that back over /_debug/log. */
#include <check.h>
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
#include <jansson.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "weblab_lab.h"
#define CHECK_MAIN_CURL
#include "check_main.h"

#ifndef FAKE_LAB_SCRIPT
#error "FAKE_LAB_SCRIPT must name tests/integration/fake_weblablib_lab.py"
#endif
#define PYTHON "/usr/bin/python3"

#define USER "weblabdeusto"
#define PASSWORD "secret"
#define BASIC_AUTH "Basic d2VibGFiZGV1c3RvOnNlY3JldA=="   /* USER:PASSWORD */
#define ACCEPT "application/json,text/html"
#define NO_COMMANDS \
    "this lab does not take commands through WebLab (unmanaged lab)"
#define BACK "http://localhost/weblab/labs/Dummy%20experiments/dummy/" \
             "?finished=true"
#define CLIENT_DATA "{\"back\": \"" BACK "\", \"level\": 3}"
/* What the core sends (spec 10.2); weblablib needs most of it. */
#define SERVER_DATA \
    "{\"priority.queue.slot.length\": \"200\"," \
    " \"priority.queue.slot.start\": \"2026-11-23 10:00:00.000000\"," \
    " \"priority.queue.slot.start.utc\": \"2026-11-23 10:00:00.000000\"," \
    " \"priority.queue.slot.start.timestamp\": \"1795428000.00\"," \
    " \"priority.queue.slot.start.timezone\": \"0\"," \
    " \"priority.queue.slot.initialization_in_accounting\": false," \
    " \"request.username\": \"student1\"," \
    " \"request.username.unique\": \"student1\"," \
    " \"request.full_name\": \"Student One\"," \
    " \"request.locale\": \"\"," \
    " \"request.experiment_id.experiment_name\": \"ud-lab\"," \
    " \"request.experiment_id.category_name\": \"HTTP experiments\"," \
    " \"weblab_reservation_id\": \"5b3e1f0a-0000-4000-8000-000000000001\"}"
#define DISPOSED "{\"finished\": true, \"data\": \"\"}"

/* The fake lab, shared by all tests (started in the runner process). */
static pid_t server_pid;
static int server_port;
static int server_stdin = -1;

/* Per test. */
static apr_pool_t *pool;
static weblab_lab_client_t *client;
static weblab_lab_target_t target;

/* ---- the fake lab ---- */

static void server_start(void)
{
    int in[2], out[2];
    char line[64] = "";
    FILE *f;

    if (pipe(in) || pipe(out)) {
        perror("pipe");
        exit(1);
    }
    server_pid = fork();
    if (server_pid < 0) {
        perror("fork");
        exit(1);
    }
    if (server_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execl(PYTHON, "python3", FAKE_LAB_SCRIPT, "--user", USER,
              "--password", PASSWORD, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    server_stdin = in[1];               /* the lab exits when it closes */
    f = fdopen(out[0], "r");
    if (!f || !fgets(line, sizeof(line), f)
        || sscanf(line, "PORT %d", &server_port) != 1) {
        fprintf(stderr, "fake lab did not start (%s)\n", line);
        exit(1);
    }
    fclose(f);
}

static void server_stop(void)
{
    close(server_stdin);
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
}

typedef struct {
    char *data;
    size_t len;
} grow_t;

static size_t grow_write(char *d, size_t size, size_t n, void *baton)
{
    grow_t *g = baton;
    char *more = realloc(g->data, g->len + size * n + 1);

    if (!more) {
        return 0;
    }
    g->data = more;
    memcpy(g->data + g->len, d, size * n);
    g->len += size * n;
    g->data[g->len] = '\0';
    return size * n;
}

/* GET a debug URL of the fake lab; the body, from pool. */
static const char *debug_get(const char *path_query)
{
    CURL *h = curl_easy_init();
    grow_t g = { NULL, 0 };
    char *url = apr_psprintf(pool, "http://127.0.0.1:%d%s", server_port,
                             path_query);
    long code = 0;
    const char *body;

    ck_assert_ptr_nonnull(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grow_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &g);
    ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    ck_assert_int_eq(code, 200);
    body = apr_pstrdup(pool, g.data ? g.data : "");
    free(g.data);
    return body;
}

static void configure(const char *query)
{
    debug_get(apr_pstrcat(pool, "/_debug/config?", query, NULL));
}

/* The lab's record: a JSON object owned by the caller (json_decref). */
static json_t *lab_log(void)
{
    json_error_t err;
    json_t *log = json_loads(debug_get("/_debug/log"), 0, &err);

    ck_assert_msg(log != NULL, "bad /_debug/log: %s", err.text);
    return log;
}

static size_t nrequests(json_t *log)
{
    return json_array_size(json_object_get(log, "requests"));
}

static json_t *request_at(json_t *log, size_t i)
{
    json_t *req = json_array_get(json_object_get(log, "requests"), i);

    ck_assert_msg(req != NULL, "no request %zu recorded", i);
    return req;
}

static const char *field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Request i was method path, with our credentials and Accept header. */
static json_t *assert_request(json_t *log, size_t i, const char *method,
                              const char *path)
{
    json_t *req = request_at(log, i);

    ck_assert_str_eq(field(req, "method"), method);
    ck_assert_str_eq(field(req, "path"), path);
    ck_assert_str_eq(field(req, "query"), "");
    ck_assert_str_eq(field(req, "authorization"), BASIC_AUTH);
    ck_assert(json_is_true(json_object_get(req, "auth_ok")));
    ck_assert_str_eq(field(req, "accept"), ACCEPT);
    if (!strcmp(method, "POST")) {
        ck_assert_str_eq(field(req, "content_type"), "application/json");
    }
    return req;
}

/* A loopback port where nobody listens (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    ck_assert_int_eq(weblab_lab_client_create(&client, 4, 2.0, 5.0, pool),
                     APR_SUCCESS);
    debug_get("/_debug/reset");
    memset(&target, 0, sizeof(target));
    target.transport = "http";
    target.url = apr_psprintf(pool, "http://127.0.0.1:%d", server_port);
    target.api = "";
    target.auth_user = USER;
    target.auth_password = PASSWORD;
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* Start a session the way the core does; its weblablib id. */
static const char *start_ok(void)
{
    const char *resp = NULL, *sid = NULL, *err = "";

    ck_assert_msg(weblab_lab_start_session(&resp, &sid, &err, client,
                                           &target, "2", "proposed-id",
                                           CLIENT_DATA, SERVER_DATA, pool)
                  == APR_SUCCESS, "start: %s", err);
    ck_assert_ptr_nonnull(sid);
    return sid;
}

/* ---- api probe and test ---- */

START_TEST(test_get_api_probe)
{
    const char *api = NULL, *err = NULL;
    json_t *log;

    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(api, "2");      /* the lab said api_version "1" */
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 1);
    assert_request(log, 0, "GET", "/weblab/sessions/api");
    json_decref(log);
}
END_TEST

START_TEST(test_get_api_bad_answers)
{
    const char *api = NULL, *err = NULL;

    configure("not_json=api");
    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_EGENERAL);
    ck_assert_ptr_null(api);
    ck_assert_msg(strstr(err, "weblablib GET /weblab/sessions/api")
                  && strstr(err, "not a JSON object")
                  && strstr(err, "surprise"), "errmsg: %s", err);
    configure("not_json=&fail=api");
    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_EGENERAL);
    ck_assert_msg(strstr(err, "HTTP 500"), "errmsg: %s", err);
}
END_TEST

START_TEST(test_test_valid_echoes)
{
    const char *echo = NULL, *err = NULL;
    json_t *log;

    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target,
                                        "0.123456", pool), APR_SUCCESS);
    ck_assert_str_eq(echo, "0.123456");
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 1);
    assert_request(log, 0, "GET", "/weblab/sessions/test");
    json_decref(log);
}
END_TEST

START_TEST(test_test_refused_credentials)
{
    const char *echo = NULL, *err = NULL;
    json_t *log;

    target.auth_password = "wrong-pass";
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "x",
                                        pool), APR_EGENERAL);
    ck_assert_ptr_null(echo);
    /* The lab's own error_messages, and never the password we sent. */
    ck_assert_msg(strstr(err, "HTTP 401") && strstr(err, "credentials")
                  && strstr(err, "Invalid credentials: wrong username"
                                 " provided"), "errmsg: %s", err);
    ck_assert_msg(!strstr(err, "wrong-pass"), "errmsg: %s", err);

    target.auth_user = NULL;        /* no credentials at all */
    target.auth_password = NULL;
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "x",
                                        pool), APR_EGENERAL);
    ck_assert_msg(strstr(err, "Invalid credentials: no username provided"),
                  "errmsg: %s", err);
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 2);
    ck_assert_str_eq(field(request_at(log, 0), "authorization"),
                     "Basic d2VibGFiZGV1c3RvOndyb25nLXBhc3M=");
    ck_assert_ptr_null(field(request_at(log, 1), "authorization"));
    ck_assert_str_eq(field(request_at(log, 1), "accept"), ACCEPT);
    json_decref(log);
}
END_TEST

/* ---- start ---- */

START_TEST(test_start_body_and_answer)
{
    const char *resp = NULL, *sid = NULL, *err = NULL, *url, *expected;
    json_t *log, *req, *body, *cdata, *sdata, *expected_sdata, *session;

    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", "proposed-id",
                                              CLIENT_DATA, SERVER_DATA, pool),
                     APR_SUCCESS);
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 1);
    req = assert_request(log, 0, "POST", "/weblab/sessions/");

    /* The lab's session id flows back, not the one we proposed. */
    ck_assert_ptr_nonnull(sid);
    ck_assert_uint_eq(strlen(sid), 43);
    session = json_object_get(json_object_get(log, "sessions"), sid);
    ck_assert_msg(session != NULL, "the lab has no session %s", sid);
    url = apr_psprintf(pool, "http://127.0.0.1:%d/callback/%s", server_port,
                       sid);
    expected = apr_psprintf(pool, "{\"initial_configuration\": "
                            "\"{\\\"url\\\": \\\"%s\\\"}\", "
                            "\"batch\": false}", url);
    ck_assert_str_eq(resp, expected);

    /* Objects, not strings; back at the top and inside the client data. */
    body = json_object_get(req, "json");
    ck_assert(json_is_object(body));
    ck_assert_uint_eq(json_object_size(body), 3);
    ck_assert_str_eq(field(body, "back"), BACK);
    cdata = json_object_get(body, "client_initial_data");
    sdata = json_object_get(body, "server_initial_data");
    ck_assert(json_is_object(cdata));
    ck_assert(json_is_object(sdata));
    ck_assert_str_eq(field(cdata, "back"), BACK);
    ck_assert_int_eq(json_integer_value(json_object_get(cdata, "level")), 3);
    expected_sdata = json_loads(SERVER_DATA, 0, NULL);
    ck_assert(json_equal(sdata, expected_sdata));
    json_decref(expected_sdata);
    ck_assert_str_eq(field(session, "username"), "student1");
    json_decref(log);
}
END_TEST

START_TEST(test_start_without_back)
{
    const char *resp, *sid, *err;
    json_t *log, *body;

    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", NULL, "{}",
                                              SERVER_DATA, pool),
                     APR_SUCCESS);
    log = lab_log();
    body = json_object_get(request_at(log, 0), "json");
    ck_assert_str_eq(field(body, "back"), "");
    ck_assert_uint_eq(json_object_size(json_object_get(body,
                                                       "client_initial_data")),
                      0);
    json_decref(log);
}
END_TEST

/* A caller that cannot take the lab's session id would lose the session:
 * refused before anything is sent. */
START_TEST(test_start_needs_remote_session_id)
{
    const char *resp = "unset", *err = NULL;
    json_t *log;

    ck_assert_int_eq(weblab_lab_start(&resp, &err, client, &target, "2",
                                      "proposed-id", CLIENT_DATA, SERVER_DATA,
                                      pool), APR_EINVAL);
    ck_assert_ptr_null(resp);
    ck_assert_msg(err && strstr(err, "session id"), "errmsg: %s", err);
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 0);
    json_decref(log);
}
END_TEST

START_TEST(test_start_bad_initial_data)
{
    const char *resp, *sid = "unset", *err;
    json_t *log;

    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", NULL, "not json",
                                              SERVER_DATA, pool),
                     APR_EINVAL);
    ck_assert_ptr_null(sid);
    ck_assert_msg(strstr(err, "client_initial_data"), "errmsg: %s", err);
    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", NULL, "{}",
                                              "[1, 2]", pool), APR_EINVAL);
    ck_assert_msg(strstr(err, "server_initial_data"), "errmsg: %s", err);
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 0);
    json_decref(log);
}
END_TEST

START_TEST(test_start_lab_errors)
{
    const char *resp, *sid = "unset", *err;

    configure("start=error");           /* weblablib's on_start raised */
    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", NULL, CLIENT_DATA,
                                              SERVER_DATA, pool),
                     APR_EGENERAL);
    ck_assert_ptr_null(sid);
    ck_assert_ptr_null(resp);
    ck_assert_msg(strstr(err, "Error initializing laboratory"), "errmsg: %s",
                  err);
    configure("start=no_session_id");
    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", NULL, CLIENT_DATA,
                                              SERVER_DATA, pool),
                     APR_EGENERAL);
    ck_assert_msg(strstr(err, "session_id"), "errmsg: %s", err);
    configure("start=long_session_id");     /* would not fit in the DB */
    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", NULL, CLIENT_DATA,
                                              SERVER_DATA, pool),
                     APR_EGENERAL);
    ck_assert_msg(strstr(err, "no usable session_id"), "errmsg: %s", err);
    configure("start=no_url");
    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", NULL, CLIENT_DATA,
                                              SERVER_DATA, pool),
                     APR_EGENERAL);
    ck_assert_msg(strstr(err, "no url"), "errmsg: %s", err);
    configure("start=not_json");
    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", NULL, CLIENT_DATA,
                                              SERVER_DATA, pool),
                     APR_EGENERAL);
    ck_assert_msg(strstr(err, "not a JSON object"), "errmsg: %s", err);
    ck_assert_ptr_null(sid);
    /* weblablib fails (500) without the keys it needs. */
    configure("start=ok");
    ck_assert_int_eq(weblab_lab_start_session(&resp, &sid, &err, client,
                                              &target, "2", NULL, CLIENT_DATA,
                                              "{}", pool), APR_EGENERAL);
    ck_assert_msg(strstr(err, "weblablib POST /weblab/sessions/: HTTP 500"),
                  "errmsg: %s", err);
}
END_TEST

/* ---- status, dispose ---- */

START_TEST(test_should_finish_status)
{
    const char *sid, *err = NULL, *path, *resp;
    double secs = 0;
    json_t *log;

    sid = start_ok();
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", sid, pool), APR_SUCCESS);
    ck_assert(secs == 5.0);
    configure("should_finish=2.5");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", sid, pool), APR_SUCCESS);
    ck_assert(secs == 2.5);
    configure("should_finish=0");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", sid, pool), APR_SUCCESS);
    ck_assert(secs == 0.0);
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "2",
                                        sid, pool), APR_SUCCESS);
    /* Gone (user left, time over): weblablib answers -1. */
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", sid, pool), APR_SUCCESS);
    ck_assert(secs == -1.0);

    path = apr_pstrcat(pool, "/weblab/sessions/", sid, "/status", NULL);
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 6);
    assert_request(log, 1, "GET", path);
    assert_request(log, 2, "GET", path);
    assert_request(log, 3, "GET", path);
    assert_request(log, 5, "GET", path);
    json_decref(log);
}
END_TEST

START_TEST(test_dispose_deletes_once)
{
    const char *sid, *resp = NULL, *err = NULL;
    json_t *log, *req, *session;
    size_t i, posts = 0;

    sid = start_ok();
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "2",
                                        sid, pool), APR_SUCCESS);
    ck_assert_str_eq(resp, DISPOSED);
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 2);
    req = assert_request(log, 1, "POST",
                         apr_pstrcat(pool, "/weblab/sessions/", sid, NULL));
    ck_assert_str_eq(field(req, "body"), "{\"action\": \"delete\"}");
    for (i = 0; i < nrequests(log); i++) {
        posts += !strcmp(field(request_at(log, i), "method"), "POST");
    }
    ck_assert_uint_eq(posts, 2);        /* one start, one delete */
    session = json_object_get(json_object_get(log, "sessions"), sid);
    ck_assert_int_eq(json_integer_value(json_object_get(session, "deletes")),
                     1);
    ck_assert(json_is_true(json_object_get(session, "deleted")));
    json_decref(log);
}
END_TEST

/* "ok", "" and "deleted" read as {}; a lab's own finished/data pass. */
START_TEST(test_dispose_answers)
{
    static const char *const plain[] = { "ok", "empty", "deleted" };
    const char *resp, *err = NULL;
    size_t i;

    for (i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
        const char *sid = start_ok();

        configure(apr_pstrcat(pool, "dispose=", plain[i], NULL));
        resp = NULL;
        ck_assert_msg(weblab_lab_dispose(&resp, &err, client, &target, "2",
                                         sid, pool) == APR_SUCCESS,
                      "%s: %s", plain[i], err);
        ck_assert_str_eq(resp, DISPOSED);
        configure("dispose=json");
    }
    /* A second delete of the same session: weblablib says "Not found". */
    {
        const char *sid = start_ok();

        ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target,
                                            "2", sid, pool), APR_SUCCESS);
        ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target,
                                            "2", sid, pool), APR_SUCCESS);
        ck_assert_str_eq(resp, DISPOSED);
        configure("dispose=finished_data");
        ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target,
                                            "2", sid, pool), APR_SUCCESS);
        ck_assert_str_eq(resp, "{\"finished\": true, \"data\": "
                               "{\"score\": 7}}");
    }
}
END_TEST

START_TEST(test_commands_refused)
{
    const char *resp = "unset", *err = NULL;
    json_t *log;

    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "2", "some-session", "press 1",
                                             pool), APR_ENOTIMPL);
    ck_assert_ptr_null(resp);
    ck_assert_str_eq(err, NO_COMMANDS);
    resp = "unset";
    ck_assert_int_eq(weblab_lab_send_file(&resp, &err, client, &target, "2",
                                          "some-session", "aGVsbG8=", "info",
                                          pool), APR_ENOTIMPL);
    ck_assert_ptr_null(resp);
    ck_assert_str_eq(err, NO_COMMANDS);
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 0);
    json_decref(log);
}
END_TEST

START_TEST(test_session_id_checked_and_escaped)
{
    const char *resp, *err = NULL;
    double secs = 7;
    json_t *log;

    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", "", pool), APR_EINVAL);
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "2",
                                        NULL, pool), APR_EINVAL);
    ck_assert_msg(strstr(err, "no lab session id"), "errmsg: %s", err);
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", "a/b c?d", pool),
                     APR_SUCCESS);
    ck_assert(secs == -1.0);            /* unknown to the lab */
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 1);
    /* apr_pescape_path_segment writes lowercase hex; both are valid. */
    assert_request(log, 0, "GET", "/weblab/sessions/a%2fb%20c%3fd/status");
    json_decref(log);
}
END_TEST

START_TEST(test_base_url_trailing_slash)
{
    const char *api, *err = NULL;
    json_t *log;

    target.url = apr_psprintf(pool, "http://127.0.0.1:%d/", server_port);
    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_SUCCESS);
    log = lab_log();
    assert_request(log, 0, "GET", "/weblab/sessions/api");
    json_decref(log);
}
END_TEST

/* ---- failures ---- */

START_TEST(test_connection_refused)
{
    const char *api = NULL, *err = NULL;
    double secs;

    target.url = apr_psprintf(pool, "http://127.0.0.1:%d", closed_port());
    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_ECONNREFUSED);
    ck_assert_ptr_null(api);
    ck_assert_msg(strstr(err, "weblablib GET /weblab/sessions/api"),
                  "errmsg: %s", err);
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", "sid-123456789", pool),
                     APR_ECONNREFUSED);
    ck_assert_msg(strstr(err, "/weblab/sessions/<session>/status")
                  && !strstr(err, "sid-123456789"), "errmsg: %s", err);
}
END_TEST

START_TEST(test_timeout_then_recover)
{
    weblab_lab_client_t *quick;
    const char *echo, *err;
    apr_time_t t0;
    double elapsed;
    json_t *log;

    /* 0.2 s to connect + 0.3 s for the rest; the lab sleeps 2 s. */
    ck_assert_int_eq(weblab_lab_client_create(&quick, 1, 0.2, 0.3, pool),
                     APR_SUCCESS);
    configure("delay=2");
    t0 = apr_time_now();
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, quick, &target, "x",
                                        pool), APR_TIMEUP);
    elapsed = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    ck_assert_msg(elapsed >= 0.4 && elapsed < 1.5, "took %.3f s", elapsed);
    ck_assert_msg(strstr(err, "weblablib GET /weblab/sessions/test")
                  && (strstr(err, "Timeout") || strstr(err, "timed out")),
                  "errmsg: %s", err);
    configure("delay=0");
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, quick, &target, "y",
                                        pool), APR_SUCCESS);
    ck_assert_str_eq(echo, "y");
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 2);
    json_decref(log);
}
END_TEST

START_TEST(test_http_500_and_not_json)
{
    const char *sid, *err = NULL, *resp = NULL;
    double secs = 9;

    sid = start_ok();
    configure("fail=status");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", sid, pool), APR_EGENERAL);
    ck_assert_msg(strstr(err, "HTTP 500") && strstr(err, "Internal Server"),
                  "errmsg: %s", err);
    configure("fail=&not_json=status");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", sid, pool), APR_EGENERAL);
    ck_assert_msg(strstr(err, "not a JSON object"), "errmsg: %s", err);
    configure(apr_pstrcat(pool, "not_json=&fail=", sid, NULL));
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "2",
                                        sid, pool), APR_EGENERAL);
    ck_assert_ptr_null(resp);
    ck_assert_msg(strstr(err, "weblablib POST /weblab/sessions/<session>: "
                              "HTTP 500"), "errmsg: %s", err);
    configure("fail=test");
    ck_assert_int_eq(weblab_lab_test_me(&resp, &err, client, &target, "x",
                                        pool), APR_EGENERAL);
    ck_assert_msg(strstr(err, "HTTP 500"), "errmsg: %s", err);
}
END_TEST

/* An error page quoting the password and the session id (a bearer token:
 * it lets anyone into the lab) reaches no log. */
START_TEST(test_errmsg_hides_secrets)
{
    const char *token = "Zm9vYmFyYmF6cXV4LXNlc3Npb24";
    const char *sid, *err = NULL, *resp;
    double secs;

    target.auth_password = "topsecret-password";
    configure("echo_secrets=1&fail=status");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", token, pool),
                     APR_EGENERAL);
    ck_assert_msg(strstr(err, "boom at"), "errmsg: %s", err);
    ck_assert_msg(!strstr(err, "topsecret-password"), "errmsg: %s", err);
    ck_assert_msg(!strstr(err, "Zm9vYmFyYmF6cXV4"), "errmsg: %s", err);

    target.auth_password = PASSWORD;
    configure("echo_secrets=1&fail=");
    sid = start_ok();
    configure(apr_pstrcat(pool, "fail=", sid, NULL));
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "2",
                                        sid, pool), APR_EGENERAL);
    ck_assert_msg(strstr(err, "boom at"), "errmsg: %s", err);
    ck_assert_msg(!strstr(err, sid), "errmsg: %s", err);
    ck_assert_msg(!strstr(err, ":" PASSWORD), "errmsg: %s", err);
}
END_TEST

START_TEST(test_keepalive_one_connection)
{
    const char *api, *echo, *err, *sid, *resp;
    double secs;
    json_t *log;

    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "e",
                                        pool), APR_SUCCESS);
    sid = start_ok();
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", sid, pool), APR_SUCCESS);
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "2",
                                        sid, pool), APR_SUCCESS);
    log = lab_log();
    ck_assert_uint_eq(nrequests(log), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(log, "connections")),
                     1);
    json_decref(log);
}
END_TEST

START_TEST(test_unknown_transport_lists_http)
{
    const char *echo, *err = NULL;

    target.transport = "carrier-pigeon";
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "x",
                                        pool), APR_ENOTIMPL);
    ck_assert_msg(strstr(err, "known: xmlrpc, http"), "errmsg: %s", err);
}
END_TEST

static Suite *lab_suite(void)
{
    Suite *s = suite_create("lab_weblablib");
    TCase *tc = tcase_create("weblablib");

    tcase_add_unchecked_fixture(tc, server_start, server_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_get_api_probe);
    tcase_add_test(tc, test_get_api_bad_answers);
    tcase_add_test(tc, test_test_valid_echoes);
    tcase_add_test(tc, test_test_refused_credentials);
    tcase_add_test(tc, test_start_body_and_answer);
    tcase_add_test(tc, test_start_without_back);
    tcase_add_test(tc, test_start_needs_remote_session_id);
    tcase_add_test(tc, test_start_bad_initial_data);
    tcase_add_test(tc, test_start_lab_errors);
    tcase_add_test(tc, test_should_finish_status);
    tcase_add_test(tc, test_dispose_deletes_once);
    tcase_add_test(tc, test_dispose_answers);
    tcase_add_test(tc, test_commands_refused);
    tcase_add_test(tc, test_session_id_checked_and_escaped);
    tcase_add_test(tc, test_base_url_trailing_slash);
    tcase_add_test(tc, test_connection_refused);
    tcase_add_test(tc, test_timeout_then_recover);
    tcase_add_test(tc, test_http_500_and_not_json);
    tcase_add_test(tc, test_errmsg_hides_secrets);
    tcase_add_test(tc, test_keepalive_one_connection);
    tcase_add_test(tc, test_unknown_transport_lists_http);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(lab_suite);
}
