/* The lab client's XML-RPC transport against a real peer:
 * tests/unit/fake_xmlrpc_lab.py, started once for the suite on a free
 * loopback port, records what arrives (connection, path, query, method,
 * argument types and values) and answers like an experiment server of the
 * configured API. Every test reads that record back over /_log. */
#include <check.h>
#include <errno.h>
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
#error "FAKE_LAB_SCRIPT must name tests/unit/fake_xmlrpc_lab.py"
#endif
#define PYTHON "/usr/bin/python3"

#define START_JSON "{\"initial_configuration\": \"cfg\", \"batch\": false}"
#define DISPOSE_JSON "{\"finished\": true, \"data\": \"bye\"}"
#define SESSION "abcdefgh-_ABCDEF"

/* The fake server, shared by all tests (started in the runner process). */
static pid_t server_pid;
static int server_port;
static int server_stdin = -1;

/* Per test. */
static apr_pool_t *pool;
static weblab_lab_client_t *client;
static weblab_lab_target_t target;

/* ---- the fake server ---- */

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
        execl(PYTHON, "python3", FAKE_LAB_SCRIPT, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    server_stdin = in[1];               /* the server exits when it closes */
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

/* GET a control URL of the fake server; the body, from pool. */
static const char *control(const char *path_query)
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
    control(apr_pstrcat(pool, "/_config?", query, NULL));
}

/* The server's record: a JSON object owned by the caller (json_decref). */
static json_t *server_log(void)
{
    json_error_t err;
    json_t *log = json_loads(control("/_log"), 0, &err);

    ck_assert_msg(log != NULL, "bad /_log: %s", err.text);
    return log;
}

static size_t ncalls(json_t *log)
{
    return json_array_size(json_object_get(log, "calls"));
}

static json_t *call_at(json_t *log, size_t i)
{
    json_t *call = json_array_get(json_object_get(log, "calls"), i);

    ck_assert_msg(call != NULL, "no call %zu recorded", i);
    return call;
}

static const char *field(json_t *call, const char *key)
{
    json_t *v = json_object_get(call, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The argument types of a call, comma-joined ("struct,string"). */
static const char *types_of(json_t *call)
{
    json_t *types = json_object_get(call, "types");
    const char *joined = "";
    size_t i;

    for (i = 0; i < json_array_size(types); i++) {
        joined = apr_pstrcat(pool, joined, i ? "," : "",
                             json_string_value(json_array_get(types, i)),
                             NULL);
    }
    return joined;
}

static const char *arg_str(json_t *call, size_t i)
{
    return json_string_value(json_array_get(json_object_get(call, "args"), i));
}

static void assert_call(json_t *log, size_t i, const char *method,
                        const char *path, const char *types)
{
    json_t *call = call_at(log, i);

    ck_assert_str_eq(field(call, "method"), method);
    ck_assert_str_eq(field(call, "path"), path);
    ck_assert_str_eq(types_of(call), types);
}

/* A loopback port where nobody listens (bound, then closed) or, with
 * keep_listening, where the kernel accepts but nobody ever answers. */
static int loopback_port(int *fd_out)
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
    if (fd_out) {
        ck_assert_int_eq(listen(fd, 8), 0);
        *fd_out = fd;
    }
    else {
        close(fd);
    }
    return ntohs(a.sin_port);
}

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    ck_assert_int_eq(weblab_lab_client_create(&client, 4, 2.0, 5.0, pool),
                     APR_SUCCESS);
    control("/_reset");
    memset(&target, 0, sizeof(target));
    target.transport = "xmlrpc";
    target.url = apr_psprintf(pool, "http://127.0.0.1:%d/weblab",
                              server_port);
    target.api = "";
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* ---- every call, per API ---- */

START_TEST(test_api2_calls)
{
    const char *resp, *err;
    double secs = 0;
    json_t *log, *call;

    configure("api=2");
    ck_assert_int_eq(weblab_lab_start(&resp, &err, client, &target, "2",
                                      SESSION, "{\"back\": \"b\"}",
                                      "{\"s\": 1}", pool), APR_SUCCESS);
    ck_assert_str_eq(resp, START_JSON);
    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "2", SESSION, "press 1", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(resp, "echo:press 1");
    ck_assert_int_eq(weblab_lab_send_file(&resp, &err, client, &target, "2",
                                          SESSION, "aGVsbG8=", "bitstream",
                                          pool), APR_SUCCESS);
    ck_assert_str_eq(resp, "file:8:bitstream");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", SESSION, pool),
                     APR_SUCCESS);
    ck_assert(secs == 5.0);
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "2",
                                        SESSION, pool), APR_SUCCESS);
    ck_assert_str_eq(resp, DISPOSE_JSON);

    log = server_log();
    ck_assert_uint_eq(ncalls(log), 5);
    assert_call(log, 0, "Util.start_experiment", "/weblab", "string,string");
    assert_call(log, 1, "Util.send_command_to_device", "/weblab", "string");
    assert_call(log, 2, "Util.send_file_to_device", "/weblab",
                "string,string");
    assert_call(log, 3, "Util.should_finish", "/weblab", "");
    assert_call(log, 4, "Util.dispose", "/weblab", "");
    call = call_at(log, 0);
    ck_assert_str_eq(arg_str(call, 0), "{\"back\": \"b\"}");
    ck_assert_str_eq(arg_str(call, 1), "{\"s\": 1}");
    ck_assert_str_eq(field(call, "content_type"), "text/xml");
    ck_assert_str_eq(field(call, "query"), "");
    ck_assert_ptr_null(field(call, "x_weblab_auth"));
    ck_assert_str_eq(arg_str(call_at(log, 2), 0), "aGVsbG8=");
    ck_assert_str_eq(arg_str(call_at(log, 2), 1), "bitstream");
    json_decref(log);
}
END_TEST

START_TEST(test_api1_calls)
{
    const char *resp, *err;
    double secs = 99;
    json_t *log;

    configure("api=1");
    ck_assert_int_eq(weblab_lab_start(&resp, &err, client, &target, "1",
                                      NULL, "{}", "{}", pool), APR_SUCCESS);
    ck_assert_str_eq(resp, "ok");       /* the server said something else */
    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "1", NULL, "on", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(resp, "echo:on");
    ck_assert_int_eq(weblab_lab_send_file(&resp, &err, client, &target, "1",
                                          NULL, "QUJD", "info", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(resp, "file:4:info");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "1", NULL, pool), APR_SUCCESS);
    ck_assert(secs == 0.0);
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "1",
                                        NULL, pool), APR_SUCCESS);
    ck_assert_str_eq(resp, "ok");

    log = server_log();
    ck_assert_uint_eq(ncalls(log), 4);  /* no should_finish */
    assert_call(log, 0, "Util.start_experiment", "/weblab", "");
    assert_call(log, 1, "Util.send_command_to_device", "/weblab", "string");
    assert_call(log, 2, "Util.send_file_to_device", "/weblab",
                "string,string");
    assert_call(log, 3, "Util.dispose", "/weblab", "");
    json_decref(log);
}
END_TEST

START_TEST(test_api2_concurrent_calls)
{
    const char *resp, *err;
    double secs = 0;
    const char *api = "2_concurrent";
    json_t *log;
    size_t i;

    configure("api=2_concurrent");
    ck_assert_int_eq(weblab_lab_start(&resp, &err, client, &target, api,
                                      SESSION, "{}", "{}", pool), APR_SUCCESS);
    ck_assert_str_eq(resp, START_JSON);
    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             api, SESSION, "c", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(resp, "echo:c");
    ck_assert_int_eq(weblab_lab_send_file(&resp, &err, client, &target, api,
                                          SESSION, "QQ==", "i", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(resp, "file:4:i");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              api, SESSION, pool),
                     APR_SUCCESS);
    ck_assert(secs == 5.0);
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, api,
                                        SESSION, pool), APR_SUCCESS);
    ck_assert_str_eq(resp, DISPOSE_JSON);

    log = server_log();
    ck_assert_uint_eq(ncalls(log), 5);
    assert_call(log, 0, "Util.start_experiment", "/weblab",
                "struct,string,string");
    assert_call(log, 1, "Util.send_command_to_device", "/weblab",
                "struct,string");
    assert_call(log, 2, "Util.send_file_to_device", "/weblab",
                "struct,string,string");
    assert_call(log, 3, "Util.should_finish", "/weblab", "struct");
    assert_call(log, 4, "Util.dispose", "/weblab", "struct");
    for (i = 0; i < 5; i++) {
        json_t *id = json_array_get(json_object_get(call_at(log, i), "args"),
                                    0);

        ck_assert_uint_eq(json_object_size(id), 1);
        ck_assert_str_eq(json_string_value(json_object_get(id, "id")),
                         SESSION);
    }
    json_decref(log);
}
END_TEST

START_TEST(test_concurrent_needs_session)
{
    const char *resp, *err;
    json_t *log;

    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "2_concurrent", NULL, "c", pool),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "session"));
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "3",
                                        SESSION, pool), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "'3'"));
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 0);
    json_decref(log);
}
END_TEST

START_TEST(test_nil_results)
{
    const char *resp = NULL, *err;

    configure("api=2&start_result=nil&dispose_result=nil");
    ck_assert_int_eq(weblab_lab_start(&resp, &err, client, &target, "2",
                                      NULL, "{}", "{}", pool), APR_SUCCESS);
    ck_assert_str_eq(resp, "");
    resp = NULL;
    ck_assert_int_eq(weblab_lab_dispose(&resp, &err, client, &target, "2",
                                        NULL, pool), APR_SUCCESS);
    ck_assert_str_eq(resp, "");
}
END_TEST

START_TEST(test_should_finish_numbers)
{
    const char *err;
    double secs = 0;

    configure("should_finish=double");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", NULL, pool), APR_SUCCESS);
    ck_assert(secs == 2.5);
    configure("should_finish=negative");
    ck_assert_int_eq(weblab_lab_should_finish(&secs, &err, client, &target,
                                              "2", NULL, pool), APR_SUCCESS);
    ck_assert(secs == -1.0);
}
END_TEST

START_TEST(test_test_me_echo)
{
    const char *echo, *err;
    const char *msg = "0.51 <&> \"quotes\" 'single' \xc3\xbcnicode";
    json_t *log;

    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, msg,
                                        pool), APR_SUCCESS);
    ck_assert_str_eq(echo, msg);
    log = server_log();
    assert_call(log, 0, "Util.test_me", "/weblab", "string");
    ck_assert_str_eq(arg_str(call_at(log, 0), 0), msg);
    json_decref(log);
}
END_TEST

/* ---- URL, path and auth ---- */

START_TEST(test_default_path_rpc2)
{
    const char *echo, *err;
    json_t *log;

    target.url = apr_psprintf(pool, "http://127.0.0.1:%d", server_port);
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "a",
                                        pool), APR_SUCCESS);
    target.url = apr_psprintf(pool, "http://127.0.0.1:%d/", server_port);
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "b",
                                        pool), APR_SUCCESS);
    target.url = apr_psprintf(pool, "http://127.0.0.1:%d/weblab/xmlrpc/",
                              server_port);
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "c",
                                        pool), APR_SUCCESS);
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 3);
    assert_call(log, 0, "Util.test_me", "/RPC2", "string");
    assert_call(log, 1, "Util.test_me", "/RPC2", "string");
    assert_call(log, 2, "Util.test_me", "/weblab/xmlrpc/", "string");
    json_decref(log);
}
END_TEST

START_TEST(test_auth_in_query)
{
    const char *echo, *err;
    json_t *log;
    const char *q;

    target.auth = "s3cr&t=+";
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "a",
                                        pool), APR_SUCCESS);
    target.url = apr_psprintf(pool, "http://127.0.0.1:%d", server_port);
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "b",
                                        pool), APR_SUCCESS);
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 2);
    assert_call(log, 0, "Util.test_me", "/weblab", "string");
    assert_call(log, 1, "Util.test_me", "/RPC2", "string");
    q = field(call_at(log, 0), "query");
    ck_assert_msg(!strcasecmp(q, "auth=s3cr%26t%3D%2B"), "query %s", q);
    ck_assert_str_eq(field(call_at(log, 1), "query"), q);
    /* Only the query string carries it (spec 10.2). */
    ck_assert_ptr_null(field(call_at(log, 0), "x_weblab_auth"));
    json_decref(log);
}
END_TEST

/* ---- get_api ---- */

START_TEST(test_get_api_answers)
{
    const char *api = NULL, *err;
    json_t *log;

    configure("api=2_concurrent");
    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(api, "2_concurrent");
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 1);
    assert_call(log, 0, "Util.get_api", "/weblab", "");
    json_decref(log);
}
END_TEST

START_TEST(test_get_api_fault_twice_is_api1)
{
    const char *api = NULL, *err;
    json_t *log;

    configure("api=2&get_api=fault");
    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(api, "1");
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 2);
    assert_call(log, 0, "Util.get_api", "/weblab", "");
    assert_call(log, 1, "Util.get_api", "/weblab", "");
    json_decref(log);
}
END_TEST

START_TEST(test_get_api_fault_once_retried)
{
    const char *api = NULL, *err;
    json_t *log;

    configure("api=2&get_api=fault_once");
    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(api, "2");
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 2);
    json_decref(log);
}
END_TEST

/* voodoo.gen servers send the exception's name as faultCode. */
START_TEST(test_string_fault_code)
{
    const char *api = NULL, *resp, *err;
    json_t *log;

    configure("api=2&get_api=fault&fault_code=str");
    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(api, "1");
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 2);
    json_decref(log);

    configure("fault_method=Util.send_command_to_device");
    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "2", NULL, "x", pool),
                     APR_EGENERAL);
    ck_assert_msg(strstr(err, "NotImplementedError")
                  && strstr(err, "lab exploded"), "errmsg: %s", err);
}
END_TEST

START_TEST(test_get_api_transport_error)
{
    const char *api = NULL, *err;

    target.url = apr_psprintf(pool, "http://127.0.0.1:%d/weblab",
                              loopback_port(NULL));
    ck_assert_int_eq(weblab_lab_get_api(&api, &err, client, &target, pool),
                     APR_ECONNREFUSED);
    ck_assert_ptr_null(api);
}
END_TEST

/* ---- failures ---- */

START_TEST(test_fault_is_egeneral)
{
    const char *resp = NULL, *err = NULL;

    configure("fault_method=Util.send_command_to_device");
    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "2", NULL, "x", pool),
                     APR_EGENERAL);
    ck_assert_ptr_null(resp);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "Util.send_command_to_device")
                  && strstr(err, "fault 42") && strstr(err, "lab exploded"),
                  "errmsg: %s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(test_errmsg_hides_secrets)
{
    char content[201];
    const char *resp, *err;

    memset(content, 'Q', 200);
    memcpy(content, "U0VDUkVURklMRUNPTlRFTlQ", 23);  /* a distinct start */
    content[200] = '\0';
    target.auth = "topsecret-token";
    configure("fault_method=Util.send_file_to_device");
    ck_assert_int_eq(weblab_lab_send_file(&resp, &err, client, &target, "2",
                                          NULL, content, "info", pool),
                     APR_EGENERAL);
    /* The fault string quoted the URL (with ?auth=) and the arguments. */
    ck_assert_msg(strstr(err, "lab exploded"), "errmsg: %s", err);
    ck_assert_msg(!strstr(err, "topsecret-token"), "errmsg: %s", err);
    ck_assert_msg(!strstr(err, "U0VDUkVURklMRUNP"), "errmsg: %s", err);
    ck_assert_msg(!strstr(err, "QQQQQQQQ"), "errmsg: %s", err);
}
END_TEST

START_TEST(test_http_error)
{
    const char *echo, *err;

    target.url = apr_psprintf(pool, "http://127.0.0.1:%d/nowhere",
                              server_port);
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "x",
                                        pool), APR_EGENERAL);
    ck_assert_msg(strstr(err, "HTTP 404"), "errmsg: %s", err);
}
END_TEST

START_TEST(test_connection_refused)
{
    const char *echo, *err = NULL;

    target.url = apr_psprintf(pool, "http://127.0.0.1:%d/weblab",
                              loopback_port(NULL));
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "x",
                                        pool), APR_ECONNREFUSED);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "Util.test_me"));
}
END_TEST

START_TEST(test_timeout_no_answer)
{
    weblab_lab_client_t *quick;
    const char *echo, *err;
    apr_time_t t0;
    double elapsed;
    int fd;

    /* 0.2 s to connect + 0.3 s for the rest: at most 0.5 s in all. */
    ck_assert_int_eq(weblab_lab_client_create(&quick, 2, 0.2, 0.3, pool),
                     APR_SUCCESS);
    target.url = apr_psprintf(pool, "http://127.0.0.1:%d/weblab",
                              loopback_port(&fd));
    t0 = apr_time_now();
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, quick, &target, "x",
                                        pool), APR_TIMEUP);
    elapsed = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    close(fd);
    ck_assert_msg(elapsed >= 0.4 && elapsed < 1.5, "took %.3f s", elapsed);
    ck_assert_msg(strstr(err, "Timeout") || strstr(err, "timed out"),
                  "errmsg: %s", err);
}
END_TEST

START_TEST(test_timeout_slow_lab_then_recover)
{
    weblab_lab_client_t *quick;
    const char *echo, *err;
    apr_time_t t0;
    double elapsed;
    json_t *log;

    ck_assert_int_eq(weblab_lab_client_create(&quick, 1, 0.2, 0.3, pool),
                     APR_SUCCESS);
    configure("delay=2");
    t0 = apr_time_now();
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, quick, &target, "x",
                                        pool), APR_TIMEUP);
    elapsed = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    ck_assert_msg(elapsed < 1.5, "took %.3f s", elapsed);
    /* The timed-out handle was dropped: the next call, on the one handle
     * this client may have, gets a fresh connection and works. */
    configure("delay=0");
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, quick, &target, "y",
                                        pool), APR_SUCCESS);
    ck_assert_str_eq(echo, "y");
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 2);
    ck_assert_int_ne(json_integer_value(json_object_get(call_at(log, 0),
                                                        "conn")),
                     json_integer_value(json_object_get(call_at(log, 1),
                                                        "conn")));
    json_decref(log);
}
END_TEST

START_TEST(test_keepalive_reuses_connection)
{
    const char *echo, *err, *resp;
    json_t *log;

    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "1",
                                        pool), APR_SUCCESS);
    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "2", NULL, "c", pool),
                     APR_SUCCESS);
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(log, "connections")),
                     1);
    ck_assert_int_eq(json_integer_value(json_object_get(call_at(log, 0),
                                                        "conn")),
                     json_integer_value(json_object_get(call_at(log, 1),
                                                        "conn")));
    json_decref(log);
}
END_TEST

START_TEST(test_unknown_transport)
{
    const char *echo = "unset", *err = NULL;
    json_t *log;

    target.transport = "carrier-pigeon";
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "x",
                                        pool), APR_ENOTIMPL);
    ck_assert_ptr_null(echo);
    ck_assert_msg(err && strstr(err, "carrier-pigeon"), "errmsg: %s", err);
    log = server_log();
    ck_assert_uint_eq(ncalls(log), 0);
    json_decref(log);
}
END_TEST

START_TEST(test_large_answer_accepted)
{
    const char *resp, *err = "";

    /* Over xmlrpc-c's default 512 KiB limit, under ours. */
    configure("big_result=1048576");
    ck_assert_msg(weblab_lab_send_command(&resp, &err, client, &target, "2",
                                          NULL, "c", pool) == APR_SUCCESS,
                  "errmsg: %s", err);
    ck_assert_uint_eq(strlen(resp), 1048576);
}
END_TEST

START_TEST(test_answer_size_cap)
{
    const char *resp = NULL, *err = "";
    const char *echo;

    configure("big_result=17825792");   /* 17 MiB */
    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "2", NULL, "c", pool),
                     APR_EGENERAL);
    ck_assert_ptr_null(resp);
    ck_assert_msg(strstr(err, "16 MiB"), "errmsg: %s", err);
    configure("big_result=0");
    ck_assert_int_eq(weblab_lab_test_me(&echo, &err, client, &target, "ok",
                                        pool), APR_SUCCESS);
}
END_TEST

/* Without a Content-Length the cap is enforced while reading. */
START_TEST(test_answer_size_cap_streamed)
{
    const char *resp = NULL, *err = "";

    configure("big_result=17825792&no_length=1");
    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "2", NULL, "c", pool),
                     APR_EGENERAL);
    ck_assert_ptr_null(resp);
    ck_assert_msg(strstr(err, "16 MiB"), "errmsg: %s", err);
    configure("big_result=1000");
    ck_assert_int_eq(weblab_lab_send_command(&resp, &err, client, &target,
                                             "2", NULL, "c", pool),
                     APR_SUCCESS);
    ck_assert_uint_eq(strlen(resp), 1000);
}
END_TEST

static Suite *lab_suite(void)
{
    Suite *s = suite_create("lab_xmlrpc");
    TCase *tc = tcase_create("xmlrpc");

    tcase_add_unchecked_fixture(tc, server_start, server_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_api2_calls);
    tcase_add_test(tc, test_api1_calls);
    tcase_add_test(tc, test_api2_concurrent_calls);
    tcase_add_test(tc, test_concurrent_needs_session);
    tcase_add_test(tc, test_nil_results);
    tcase_add_test(tc, test_should_finish_numbers);
    tcase_add_test(tc, test_test_me_echo);
    tcase_add_test(tc, test_default_path_rpc2);
    tcase_add_test(tc, test_auth_in_query);
    tcase_add_test(tc, test_get_api_answers);
    tcase_add_test(tc, test_get_api_fault_twice_is_api1);
    tcase_add_test(tc, test_get_api_fault_once_retried);
    tcase_add_test(tc, test_string_fault_code);
    tcase_add_test(tc, test_get_api_transport_error);
    tcase_add_test(tc, test_fault_is_egeneral);
    tcase_add_test(tc, test_errmsg_hides_secrets);
    tcase_add_test(tc, test_http_error);
    tcase_add_test(tc, test_connection_refused);
    tcase_add_test(tc, test_timeout_no_answer);
    tcase_add_test(tc, test_timeout_slow_lab_then_recover);
    tcase_add_test(tc, test_keepalive_reuses_connection);
    tcase_add_test(tc, test_unknown_transport);
    tcase_add_test(tc, test_large_answer_accepted);
    tcase_add_test(tc, test_answer_size_cap);
    tcase_add_test(tc, test_answer_size_cap_streamed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(lab_suite);
}
