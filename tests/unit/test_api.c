/* Unit tests of the JSON API entry point (weblab_api_handle) on a real core
 * made with weblab_core_create over two SQLite files in a temporary
 * directory: the envelope and every error code (spec 1.2, 1.3), where the
 * session and the reservation come from (1.4), the answers' shapes (1.6,
 * 1.7) and reservation statuses (2.1). The lab instance points to a closed
 * loopback port: reserve_experiment never calls the lab; the one test that
 * lets a start run expects it to fail. Answers are parsed with jansson and
 * compared field by field. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <jansson.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "weblab_api.h"
#include "weblab_core.h"
#include "weblab_ids.h"
#include "weblab_schema.h"
#include "weblab_sql.h"
#define CHECK_MAIN_CURL
#include "check_main.h"

/* "password" in the original's legacy format */
#define LEGACY_PW "aaaa{sha}a776159c8c7ff8b73e43aa54d081979e72511474"
#define EXP_DATES "'2026-11-23T11:40:31.255515', '2038-11-23T11:40:31.255515'"
#define UNKNOWN_SID "ZZZZZZZZZZZZZZZZ"
#define UNKNOWN_UUID "0b8e2c6f-1f7a-4c1e-9d3a-c2f0b3f69a11"
#define ADMIN "admin@example.com"
#define HIDDEN "Unexpected error ocurred in WebLab-Deusto. Please contact" \
               " the administrator at " ADMIN

/* Users 1 student1 and 2 student2 (role student, group Students, password
 * "password"). Students may use dummy@Dummy experiments (200 s, deployed on
 * exp1/dummy1) and robot@Physics (100 s, not deployed); secret@Physics
 * exists without any permission. %d: the lab's (closed) port. */
static const char FIXTURE[] =
    "INSERT INTO Role (id, name) VALUES (1, 'administrator'),"
    " (2, 'student');"
    "INSERT INTO \"User\" (id, login, full_name, email, role_id) VALUES"
    " (1, 'student1', 'Student One', 's1@example.com', 2),"
    " (2, 'student2', 'Student Two', 's2@example.com', 2);"
    "INSERT INTO \"Group\" (id, name, parent_id) VALUES (1, 'Students', NULL);"
    "INSERT INTO UserIsMemberOf (user_id, group_id) VALUES (1, 1), (2, 1);"
    "INSERT INTO AuthType (id, name) VALUES (1, 'DB');"
    "INSERT INTO Auth (id, auth_type_id, name, priority, configuration)"
    " VALUES (1, 1, 'WebLab DB', 1, NULL);"
    "INSERT INTO UserAuth (user_id, auth_id, configuration) VALUES"
    " (1, 1, '" LEGACY_PW "'), (2, 1, '" LEGACY_PW "');"
    "INSERT INTO ExperimentCategory (id, name) VALUES"
    " (1, 'Dummy experiments'), (2, 'Physics');"
    "INSERT INTO Experiment (id, name, category_id, start_date, end_date,"
    " client) VALUES (1, 'dummy', 1, " EXP_DATES ", 'js'),"
    " (2, 'robot', 2, " EXP_DATES ", 'js'),"
    " (3, 'secret', 2, " EXP_DATES ", 'js');"
    "INSERT INTO ExperimentClientParameter (experiment_id, parameter_name,"
    " parameter_type, value) VALUES"
    " (1, 'html.file', 'string', 'nativelabs/dummy.html'),"
    " (1, 'builtin', 'bool', 'true');"
    "INSERT INTO ExperimentInstance (experiment_id, instance_name,"
    " resource_type, resource_instance, transport, url) VALUES"
    " (1, 'exp1', 'dummy_queue', 'dummy1', 'xmlrpc',"
    " 'http://127.0.0.1:%d/weblab/');"
    "INSERT INTO GroupPermission (id, group_id, permission_type, permanent_id,"
    " date) VALUES"
    " (1, 1, 'experiment_allowed', 'Students::dummy', '2026-01-01'),"
    " (2, 1, 'experiment_allowed', 'Students::robot', '2026-01-01');"
    "INSERT INTO GroupPermissionParameter (permission_id,"
    " permission_type_parameter, value) VALUES"
    " (1, 'experiment_permanent_id', 'dummy'),"
    " (1, 'experiment_category_id', 'Dummy experiments'),"
    " (1, 'time_allowed', '200'),"
    " (2, 'experiment_permanent_id', 'robot'),"
    " (2, 'experiment_category_id', 'Physics'),"
    " (2, 'time_allowed', '100');";

static apr_pool_t *pool;
static char dir[64];
static weblab_core_config_t cfg;
static weblab_core_t *core;
static weblab_sql_t *peek;          /* the coordination file, for checks */
static weblab_req_out_t out;        /* of the latest call */

/* A loopback port nobody listens on (bound then released). */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    ck_assert_int_ge(fd, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void setup(void)
{
    weblab_sql_t *data;

    apr_pool_create(&pool, NULL);
    strcpy(dir, "/tmp/weblab-api-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));

    ck_assert_int_eq(weblab_sql_open(&data, apr_psprintf(pool,
                                     "sqlite:%s/data.db", dir), pool),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_create_data(data), APR_SUCCESS);
    ck_assert_msg(weblab_sql_exec_script(data, apr_psprintf(pool, FIXTURE,
                                         closed_port())) == APR_SUCCESS,
                  "fixture: %s", weblab_sql_error(data));
    weblab_sql_close(data);

    ck_assert_int_eq(weblab_sql_open(&peek, apr_psprintf(pool,
                                     "sqlite:%s/coord.db", dir), pool),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_create_coordination(peek), APR_SUCCESS);

    weblab_core_config_defaults(&cfg);
    cfg.data_dsn = apr_psprintf(pool, "sqlite:%s/data.db", dir);
    cfg.coord_dsn = apr_psprintf(pool, "sqlite:%s/coord.db", dir);
    cfg.login_failed_delay = 0.01;
    /* a lab start attempt must fail fast even on a filtering host */
    cfg.lab_connect_timeout = 2;
    cfg.lab_timeout = 2;
    ck_assert_int_eq(weblab_core_create(&core, &cfg, NULL, NULL, pool),
                     APR_SUCCESS);
}

static void teardown(void)
{
    static const char *const files[] = {
        "data.db", "data.db-wal", "data.db-shm", "data.db-journal",
        "coord.db", "coord.db-wal", "coord.db-shm", "coord.db-journal", NULL
    };
    int i;

    apr_pool_destroy(pool);
    for (i = 0; files[i]; i++) {
        char path[160];

        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- helpers ---- */

static apr_status_t decref_cleanup(void *v)
{
    json_decref(v);
    return APR_SUCCESS;
}

/* Tie a json value to the test pool. */
static json_t *own(json_t *v)
{
    if (v) {
        apr_pool_cleanup_register(pool, v, decref_cleanup,
                                  apr_pool_cleanup_null);
    }
    return v;
}

static const weblab_req_in_t no_context;

/* Send a raw body through core c; the parsed answer (owned by the pool). */
static json_t *raw_on(weblab_core_t *c, const char *body,
                      const weblab_req_in_t *in)
{
    json_error_t e;
    json_t *doc;

    weblab_api_handle(c, body, strlen(body), in ? in : &no_context, &out,
                      pool);
    ck_assert_ptr_nonnull(out.body);
    doc = own(json_loads(out.body, 0, &e));
    ck_assert_msg(doc != NULL, "answer is not JSON (%s): %s", e.text,
                  out.body);
    ck_assert_msg(json_is_object(doc), "answer is not an object: %s",
                  out.body);
    return doc;
}

static json_t *raw(const char *body, const weblab_req_in_t *in)
{
    return raw_on(core, body, in);
}

/* Call method with params (stolen; NULL: none). */
static json_t *rpc_on(weblab_core_t *c, const char *method, json_t *params,
                      const weblab_req_in_t *in)
{
    json_t *req = json_pack("{s:s}", "method", method);
    char *body;
    json_t *doc;

    if (params) {
        json_object_set_new(req, "params", params);
    }
    body = json_dumps(req, 0);
    json_decref(req);
    doc = raw_on(c, body, in);
    free(body);
    return doc;
}

static json_t *rpc(const char *method, json_t *params,
                   const weblab_req_in_t *in)
{
    return rpc_on(core, method, params, in);
}

static void assert_keys(const json_t *obj, const char *const *keys)
{
    size_t n = 0;

    ck_assert_msg(json_is_object(obj), "not an object");
    for (; keys[n]; n++) {
        ck_assert_msg(json_object_get(obj, keys[n]) != NULL,
                      "key %s missing", keys[n]);
    }
    ck_assert_int_eq(json_object_size(obj), n);
}

/* An error answer with that code and (if not NULL) that message. */
static void assert_error(const json_t *doc, const char *code,
                         const char *message)
{
    static const char *const keys[] = {"is_exception", "code", "message",
                                       NULL};
    const char *got = json_string_value(json_object_get(doc, "code"));

    assert_keys(doc, keys);
    ck_assert(json_is_true(json_object_get(doc, "is_exception")));
    ck_assert_msg(got && !strcmp(got, code), "code %s, expected %s (%s)",
                  got ? got : "-", code, out.body);
    ck_assert(json_is_string(json_object_get(doc, "message")));
    if (message) {
        ck_assert_str_eq(json_string_value(json_object_get(doc, "message")),
                         message);
    }
    ck_assert_ptr_nonnull(out.error);
}

/* A success answer; its result. */
static json_t *assert_ok(const json_t *doc)
{
    static const char *const keys[] = {"result", "is_exception", NULL};

    ck_assert_msg(json_is_false(json_object_get(doc, "is_exception")),
                  "error answer: %s", out.body);
    assert_keys(doc, keys);
    ck_assert_ptr_null(out.error);
    return json_object_get(doc, "result");
}

static const char *str_of(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    ck_assert_msg(s != NULL, "%s is not a string", key);
    return s;
}

static int is_empty_object(const json_t *v)
{
    return json_is_object(v) && json_object_size(v) == 0;
}

static const char *login(const char *user)
{
    json_t *r = assert_ok(rpc("login", json_pack("{s:s, s:s}", "username",
                                                 user, "password",
                                                 "password"), NULL));

    return apr_pstrdup(pool, str_of(r, "id"));
}

/* reserve_experiment as weblab.v1.js sends it; the result. */
static json_t *reserve(const char *sid, const char *exp, const char *cat)
{
    return assert_ok(rpc("reserve_experiment", json_pack(
        "{s:{s:s}, s:{s:s, s:s}, s:s, s:s}", "session_id", "id", sid,
        "experiment_id", "exp_name", exp, "cat_name", cat,
        "client_initial_data", "{}", "consumer_data", "{}"), NULL));
}

static const char *reserve_id(const char *sid)
{
    json_t *r = reserve(sid, "dummy", "Dummy experiments");

    return apr_pstrdup(pool, str_of(json_object_get(r, "reservation_id"),
                                    "id"));
}

static apr_int64_t coord_count(const char *sql, const char *arg)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(peek, &rows, pool, sql,
                                       arg ? "s" : NULL, arg), APR_SUCCESS);
    return weblab_sql_next(rows) ? weblab_sql_int(rows, 0) : -1;
}

static const char *coord_str(const char *sql, const char *arg)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(peek, &rows, pool, sql, "s", arg),
                     APR_SUCCESS);
    return weblab_sql_next(rows) ? weblab_sql_str(rows, 0) : NULL;
}

static json_t *with_session(const char *sid)
{
    return json_pack("{s:s}", "session_id", sid);
}

static json_t *with_reservation(const char *rid)
{
    return json_pack("{s:{s:s}}", "reservation_id", "id", rid);
}

/* ---- envelope ---- */

START_TEST(test_malformed_json)
{
    static const char *const bodies[] = {"{not json", "", "[1, 2]", "\"x\"",
                                         "{\"method\": \"login\"} trailing",
                                         NULL};
    int i;

    for (i = 0; bodies[i]; i++) {
        json_t *doc = raw(bodies[i], NULL);

        assert_error(doc, "JSON:Server.WebLab",
                     "Couldn't deserialize message");
        ck_assert_ptr_null(out.session_id);
    }
}
END_TEST

START_TEST(test_missing_method)
{
    assert_error(raw("{\"params\": {}}", NULL), "JSON:Server.WebLab",
                 "Missing 'method' attr");
    assert_error(raw("{}", NULL), "JSON:Server.WebLab",
                 "Missing 'method' attr");
}
END_TEST

START_TEST(test_unknown_method)
{
    assert_error(raw("{\"method\": \"nope\", \"params\": {}}", NULL),
                 "JSON:Server.WebLab", "Method not recognized");
    assert_error(raw("{\"method\": 5}", NULL), "JSON:Server.WebLab",
                 "Method not recognized");
    /* a name that only prefixes a real method */
    assert_error(raw("{\"method\": \"log\"}", NULL), "JSON:Server.WebLab",
                 "Method not recognized");
}
END_TEST

START_TEST(test_wrong_param_types)
{
    const char *sid, *rid;
    double poll_before;

    /* username as a number: no session made */
    assert_error(rpc("login", json_pack("{s:i, s:s}", "username", 5,
                                        "password", "password"), NULL),
                 "JSON:Server.WebLab", NULL);
    ck_assert_ptr_null(out.session_id);
    assert_error(rpc("login", json_pack("{s:s}", "username", "student1"),
                     NULL), "JSON:Server.WebLab", NULL);
    ck_assert_int_eq(coord_count("SELECT COUNT(*) FROM WebSession", NULL), 0);

    /* experiment_id as a string: no reservation */
    sid = login("student1");
    assert_error(rpc("reserve_experiment", json_pack(
                     "{s:s, s:s, s:s}", "session_id", sid, "experiment_id",
                     "dummy@Dummy experiments", "client_initial_data", "{}"),
                     NULL), "JSON:Server.WebLab", NULL);
    assert_error(rpc("reserve_experiment", json_pack(
                     "{s:s, s:{s:s, s:i}}", "session_id", sid,
                     "experiment_id", "exp_name", "dummy", "cat_name", 1),
                     NULL), "JSON:Server.WebLab", NULL);
    ck_assert_int_eq(coord_count("SELECT COUNT(*) FROM Reservation", NULL),
                     0);

    /* command without commandstring: the reservation is left as it was */
    rid = reserve_id(sid);
    poll_before = (double)coord_count("SELECT CAST(latest_poll * 1000 AS"
                                      " INTEGER) FROM Reservation", NULL);
    assert_error(rpc("send_command", json_pack("{s:s, s:{}}",
                                               "reservation_id", rid,
                                               "command"), NULL),
                 "JSON:Server.WebLab", NULL);
    assert_error(rpc("send_command", json_pack("{s:s, s:i}",
                                               "reservation_id", rid,
                                               "command", 7), NULL),
                 "JSON:Server.WebLab", NULL);
    assert_error(rpc("send_command", json_pack("{s:s}", "reservation_id",
                                               rid), NULL),
                 "JSON:Server.WebLab", NULL);
    ck_assert_str_eq(coord_str("SELECT state FROM Reservation WHERE id = ?",
                               weblab_ids_reservation_uuid(pool, rid)),
                     "assigned");
    ck_assert_int_eq(coord_count("SELECT CAST(latest_poll * 1000 AS"
                                 " INTEGER) FROM Reservation", NULL),
                     (apr_int64_t)poll_before);
    ck_assert_int_eq(coord_count("SELECT COUNT(*) FROM Reservation WHERE"
                                 " claim_until IS NOT NULL", NULL), 0);
}
END_TEST

/* ---- login and sessions ---- */

START_TEST(test_login_ok)
{
    json_t *res = assert_ok(rpc("login", json_pack("{s:s, s:s}", "username",
                                                   "student1", "password",
                                                   "password"), NULL));
    static const char *const keys[] = {"id", NULL};
    const char *id;

    assert_keys(res, keys);
    id = str_of(res, "id");
    ck_assert_int_eq(strlen(id), 16);
    ck_assert(weblab_ids_is_session_id(id));
    ck_assert_ptr_nonnull(out.session_id);
    ck_assert_str_eq(out.session_id, id);
    ck_assert_str_eq(out.route, "route1");
    ck_assert_ptr_null(out.reservation_id);
    ck_assert_str_eq(out.method, "login");
    ck_assert_str_eq(coord_str("SELECT login FROM WebSession WHERE id = ?",
                               id), "student1");
    /* the session works */
    ck_assert(json_is_true(assert_ok(rpc("check_user_session",
                                         with_session(id), NULL))));
}
END_TEST

START_TEST(test_login_bad_password)
{
    double t = weblab_now();

    assert_error(rpc("login", json_pack("{s:s, s:s}", "username", "student1",
                                        "password", "wrong"), NULL),
                 "JSON:Client.InvalidCredentials",
                 "Invalid username or password!");
    ck_assert_ptr_null(out.session_id);
    ck_assert(weblab_now() - t >= 0.009);   /* login_failed_delay */
    assert_error(rpc("login", json_pack("{s:s, s:s}", "username", "nobody",
                                        "password", "password"), NULL),
                 "JSON:Client.InvalidCredentials",
                 "Invalid username or password!");
    assert_error(rpc("login", json_pack("{s:s, s:s}", "username", "student1",
                                        "password", ""), NULL),
                 "JSON:Client.InvalidCredentials",
                 "Invalid username or password!");
    ck_assert_int_eq(coord_count("SELECT COUNT(*) FROM WebSession", NULL), 0);
}
END_TEST

START_TEST(test_unknown_session)
{
    assert_error(rpc("check_user_session", with_session(UNKNOWN_SID), NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Users session not found");
    assert_error(rpc("get_user_information", NULL, NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Users session not found");
    assert_error(rpc("list_experiments", with_session("short"), NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Users session not found");
    assert_error(rpc("reserve_experiment", json_pack(
                     "{s:s, s:{s:s, s:s}}", "session_id", UNKNOWN_SID,
                     "experiment_id", "exp_name", "dummy", "cat_name",
                     "Dummy experiments"), NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Users session not found");
    assert_error(rpc("logout", with_session(UNKNOWN_SID), NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Users session not found");
}
END_TEST

/* Is the session the call resolved sid (check_user_session answers)? */
static int session_ok(json_t *params, const weblab_req_in_t *in)
{
    json_t *doc = rpc("check_user_session", params, in);

    if (json_is_false(json_object_get(doc, "is_exception"))) {
        ck_assert(json_is_true(assert_ok(doc)));
        return 1;
    }
    assert_error(doc, "JSON:Client.SessionNotFound",
                 "Core Users session not found");
    return 0;
}

START_TEST(test_session_sources)
{
    const char *sid = login("student1");
    const char *cookie = apr_pstrcat(pool, sid, ".route1", NULL);
    const char *bad_cookie = UNKNOWN_SID ".route1";
    weblab_req_in_t in;

    /* each source alone */
    ck_assert(session_ok(with_session(sid), NULL));
    ck_assert_str_eq(out.session_id, sid);
    ck_assert(session_ok(json_pack("{s:{s:s}}", "session_id", "id", sid),
                         NULL));
    memset(&in, 0, sizeof(in));
    in.header_session_id = sid;
    ck_assert(session_ok(NULL, &in));
    ck_assert_str_eq(out.session_id, sid);
    memset(&in, 0, sizeof(in));
    in.cookie_session_id = cookie;          /* route stripped */
    ck_assert(session_ok(NULL, &in));
    ck_assert_str_eq(out.session_id, sid);
    in.cookie_session_id = sid;             /* no route at all */
    ck_assert(session_ok(NULL, &in));
    memset(&in, 0, sizeof(in));
    in.query_session_id = sid;
    ck_assert(session_ok(NULL, &in));

    /* params before header */
    memset(&in, 0, sizeof(in));
    in.header_session_id = UNKNOWN_SID;
    ck_assert(session_ok(with_session(sid), &in));
    in.header_session_id = sid;
    ck_assert(!session_ok(with_session(UNKNOWN_SID), &in));

    /* header before cookie */
    memset(&in, 0, sizeof(in));
    in.header_session_id = sid;
    in.cookie_session_id = bad_cookie;
    ck_assert(session_ok(NULL, &in));
    in.header_session_id = UNKNOWN_SID;
    in.cookie_session_id = cookie;
    ck_assert(!session_ok(NULL, &in));

    /* cookie before query */
    memset(&in, 0, sizeof(in));
    in.cookie_session_id = cookie;
    in.query_session_id = UNKNOWN_SID;
    ck_assert(session_ok(NULL, &in));
    in.cookie_session_id = bad_cookie;
    in.query_session_id = sid;
    ck_assert(!session_ok(NULL, &in));
}
END_TEST

/* ---- reservations ---- */

START_TEST(test_reservation_not_found)
{
    const char *pub = UNKNOWN_UUID ";" UNKNOWN_UUID ".route1";

    assert_error(rpc("get_reservation_status", with_reservation(pub), NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
    assert_error(rpc("poll", json_pack("{s:s}", "reservation_id",
                                       UNKNOWN_UUID), NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
    assert_error(rpc("finished_experiment", with_reservation("garbage;x"),
                     NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
    /* no reservation at all */
    assert_error(rpc("get_reservation_status", NULL, NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
    assert_error(rpc("send_command", json_pack("{s:{s:s}}", "command",
                                               "commandstring", "x"), NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
}
END_TEST

START_TEST(test_reserve_without_permission)
{
    const char *sid = login("student1");

    assert_error(rpc("reserve_experiment", json_pack(
                     "{s:s, s:{s:s, s:s}, s:s}", "session_id", sid,
                     "experiment_id", "exp_name", "secret", "cat_name",
                     "Physics", "client_initial_data", "{}"), NULL),
                 "JSON:Client.UnknownExperimentId",
                 "User can't access that experiment (or that experiment"
                 " type does not exist)");
    assert_error(rpc("reserve_experiment", json_pack(
                     "{s:s, s:{s:s, s:s}}", "session_id", sid,
                     "experiment_id", "exp_name", "ghost", "cat_name",
                     "Nowhere"), NULL),
                 "JSON:Client.UnknownExperimentId", NULL);
    /* the name of an allowed experiment in another category */
    assert_error(rpc("reserve_experiment", json_pack(
                     "{s:s, s:{s:s, s:s}}", "session_id", sid,
                     "experiment_id", "exp_name", "dummy", "cat_name",
                     "Physics"), NULL),
                 "JSON:Client.UnknownExperimentId", NULL);
    ck_assert_int_eq(coord_count("SELECT COUNT(*) FROM Reservation", NULL),
                     0);
}
END_TEST

START_TEST(test_reserve_not_deployed)
{
    const char *sid = login("student1");

    assert_error(rpc("reserve_experiment", json_pack(
                     "{s:s, s:{s:s, s:s}, s:s}", "session_id", sid,
                     "experiment_id", "exp_name", "robot", "cat_name",
                     "Physics", "client_initial_data", "{}"), NULL),
                 "JSON:Server.UserProcessing",
                 "No experiment of type <robot,Physics> is currently"
                 " deployed");
    ck_assert_int_eq(coord_count("SELECT COUNT(*) FROM Reservation", NULL),
                     0);
}
END_TEST

START_TEST(test_reserve_invalid_client_initial_data)
{
    const char *sid = login("student1");
    json_t *doc = rpc("reserve_experiment", json_pack(
        "{s:s, s:{s:s, s:s}, s:s}", "session_id", sid, "experiment_id",
        "exp_name", "dummy", "cat_name", "Dummy experiments",
        "client_initial_data", "{not json"), NULL);

    assert_error(doc, "JSON:Server.UserProcessing", NULL);
    ck_assert_ptr_nonnull(strstr(str_of(doc, "message"),
                                 "Invalid client_initial_data"));
    ck_assert_int_eq(coord_count("SELECT COUNT(*) FROM Reservation", NULL),
                     0);
}
END_TEST

START_TEST(test_reserve_and_queue)
{
    static const char *const confirm_keys[] = {"status", "reservation_id",
                                               "url", NULL};
    static const char *const wait_keys[] = {"status", "reservation_id",
                                            "position", NULL};
    static const char *const id_keys[] = {"id", NULL};
    const char *sid1 = login("student1"), *sid2 = login("student2");
    const char *pub, *uuid, *pub2;
    json_t *r, *cid;

    /* nothing reserved yet: None */
    ck_assert(is_empty_object(assert_ok(rpc(
        "get_reservation_id_by_session_id", with_session(sid1), NULL))));

    r = reserve(sid1, "dummy", "Dummy experiments");
    assert_keys(r, confirm_keys);
    ck_assert_str_eq(str_of(r, "status"),
                     "Reservation::waiting_confirmation");
    ck_assert_str_eq(str_of(r, "url"), "http://localhost/weblab/");
    assert_keys(json_object_get(r, "reservation_id"), id_keys);
    pub = str_of(json_object_get(r, "reservation_id"), "id");
    /* "<uuid>;<uuid>.route1" */
    ck_assert_int_eq(strlen(pub), 36 + 1 + 36 + 7);
    uuid = apr_pstrndup(pool, pub, 36);
    ck_assert(weblab_ids_is_uuid(uuid));
    ck_assert_str_eq(pub, apr_pstrcat(pool, uuid, ";", uuid, ".route1",
                                      NULL));
    ck_assert_str_eq(out.reservation_id, pub);      /* the cookie */
    ck_assert_str_eq(coord_str("SELECT state FROM Reservation WHERE id = ?",
                               uuid), "assigned");
    /* the server added "back" to client_initial_data */
    cid = own(json_loads(coord_str("SELECT client_initial_data FROM"
                                   " Reservation WHERE id = ?", uuid), 0,
                         NULL));
    ck_assert_ptr_nonnull(cid);
    ck_assert_str_eq(str_of(cid, "back"), "http://localhost/weblab/labs/"
                     "Dummy%20experiments/dummy/?finished=true");
    ck_assert_str_eq(json_string_value(assert_ok(rpc(
        "get_reservation_id_by_session_id", with_session(sid1), NULL))),
        uuid);

    /* the one slot is taken: the second user waits first in line */
    r = reserve(sid2, "dummy", "Dummy experiments");
    assert_keys(r, wait_keys);
    ck_assert_str_eq(str_of(r, "status"), "Reservation::waiting");
    ck_assert(json_is_integer(json_object_get(r, "position")));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "position")), 0);
    pub2 = apr_pstrdup(pool, str_of(json_object_get(r, "reservation_id"),
                                    "id"));
    ck_assert_str_ne(pub2, pub);

    /* status polling (no lab involved while waiting) */
    r = assert_ok(rpc("get_reservation_status", with_reservation(pub2),
                      NULL));
    assert_keys(r, wait_keys);
    ck_assert_str_eq(str_of(r, "status"), "Reservation::waiting");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "position")), 0);
    ck_assert_str_eq(str_of(json_object_get(r, "reservation_id"), "id"),
                     pub2);
    ck_assert_str_eq(out.reservation_id, pub2);

    /* poll answers None, rendered {} */
    ck_assert(is_empty_object(assert_ok(rpc("poll", with_reservation(pub2),
                                            NULL))));
    ck_assert(strstr(out.body, "\"result\": {}")
              || strstr(out.body, "\"result\":{}"));
    /* a bare uuid is accepted too */
    ck_assert(is_empty_object(assert_ok(rpc("poll", json_pack(
        "{s:s}", "reservation_id", weblab_ids_reservation_uuid(pool, pub2)),
        NULL))));
    ck_assert(json_is_true(assert_ok(rpc("check_reservation_session",
                                         with_reservation(pub2), NULL))));
}
END_TEST

START_TEST(test_reservation_sources)
{
    const char *sid = login("student1");
    const char *pub = reserve_id(sid);
    const char *bad = UNKNOWN_UUID ";" UNKNOWN_UUID ".route1";
    weblab_req_in_t in;
    json_t *r;

    memset(&in, 0, sizeof(in));
    in.header_reservation_id = pub;
    r = assert_ok(rpc("get_reservation_info", NULL, &in));
    ck_assert_str_eq(str_of(r, "exp_name"), "dummy");
    ck_assert_str_eq(str_of(r, "cat_name"), "Dummy experiments");
    memset(&in, 0, sizeof(in));
    in.query_reservation_id = pub;
    assert_ok(rpc("get_reservation_info", NULL, &in));
    memset(&in, 0, sizeof(in));
    in.cookie_reservation_id = pub;
    assert_ok(rpc("get_reservation_info", NULL, &in));

    /* params, then header, then query, then cookie */
    memset(&in, 0, sizeof(in));
    in.header_reservation_id = bad;
    assert_ok(rpc("get_reservation_info", with_reservation(pub), &in));
    in.header_reservation_id = pub;
    in.query_reservation_id = bad;
    assert_ok(rpc("get_reservation_info", NULL, &in));
    in.header_reservation_id = bad;
    in.query_reservation_id = pub;
    assert_error(rpc("get_reservation_info", NULL, &in),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
    memset(&in, 0, sizeof(in));
    in.query_reservation_id = bad;
    in.cookie_reservation_id = pub;
    assert_error(rpc("get_reservation_info", NULL, &in),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
}
END_TEST

START_TEST(test_reservation_of_another_user)
{
    const char *sid1 = login("student1"), *sid2 = login("student2");
    const char *pub = reserve_id(sid1);
    weblab_req_in_t in;
    json_t *r;

    /* the owner's session, or none (the id is a bearer token) */
    memset(&in, 0, sizeof(in));
    in.header_session_id = sid1;
    r = assert_ok(rpc("get_reservation_info", with_reservation(pub), &in));
    ck_assert_str_eq(str_of(r, "exp_name"), "dummy");
    assert_ok(rpc("get_reservation_info", with_reservation(pub), NULL));

    /* another user's valid session: as if unknown */
    in.header_session_id = sid2;
    assert_error(rpc("get_reservation_info", with_reservation(pub), &in),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
    assert_error(rpc("get_reservation_status", with_reservation(pub), &in),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
    assert_error(rpc("finished_experiment", with_reservation(pub), &in),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
    memset(&in, 0, sizeof(in));
    in.cookie_session_id = apr_pstrcat(pool, sid2, ".route1", NULL);
    assert_error(rpc("poll", with_reservation(pub), &in),
                 "JSON:Client.SessionNotFound",
                 "Core Reservations session not found");
    /* and nothing happened to it */
    ck_assert_str_eq(coord_str("SELECT state FROM Reservation WHERE id = ?",
                               weblab_ids_reservation_uuid(pool, pub)),
                     "assigned");
}
END_TEST

START_TEST(test_send_command_before_confirmation)
{
    const char *sid1 = login("student1"), *sid2 = login("student2");
    const char *pub1 = reserve_id(sid1), *pub2 = reserve_id(sid2);
    json_t *cmd, *r;
    const char *msg;

    /* waiting */
    cmd = json_pack("{s:s, s:{s:s}}", "reservation_id", pub2, "command",
                    "commandstring", "ChangeSwitch on 0");
    r = rpc("send_command", cmd, NULL);
    assert_error(r, "JSON:Client.NoCurrentReservation", NULL);
    msg = str_of(r, "message");
    ck_assert_ptr_nonnull(strstr(msg, weblab_ids_reservation_uuid(pool,
                                                                  pub2)));
    ck_assert_ptr_nonnull(strstr(msg, "does not have any experiment"
                                      " assigned"));

    /* assigned: the start it triggers cannot reach the lab (closed port),
     * so the reservation is still not confirmed */
    cmd = json_pack("{s:s, s:{s:s}}", "reservation_id", pub1, "command",
                    "commandstring", "ChangeSwitch on 0");
    assert_error(rpc("send_command", cmd, NULL),
                 "JSON:Client.NoCurrentReservation", NULL);
    /* the failed start broke the only instance and re-queued the first
     * reservation at the head: the second now waits for instances */
    r = assert_ok(rpc("get_reservation_status", with_reservation(pub2),
                      NULL));
    ck_assert_str_eq(str_of(r, "status"), "Reservation::waiting_instances");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "position")), 1);
    r = assert_ok(rpc("get_reservation_status", with_reservation(pub1),
                      NULL));
    ck_assert_str_eq(str_of(r, "status"), "Reservation::waiting_instances");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "position")), 0);
}
END_TEST

/* ---- shapes ---- */

START_TEST(test_get_user_information_shape)
{
    static const char *const keys[] = {"login", "full_name", "email", "role",
                                       "admin_url", "instructor_url", NULL};
    static const char *const role_keys[] = {"name", NULL};
    const char *sid = login("student1");
    json_t *r = assert_ok(rpc("get_user_information", with_session(sid),
                              NULL));

    assert_keys(r, keys);
    ck_assert_str_eq(str_of(r, "login"), "student1");
    ck_assert_str_eq(str_of(r, "full_name"), "Student One");
    ck_assert_str_eq(str_of(r, "email"), "s1@example.com");
    assert_keys(json_object_get(r, "role"), role_keys);
    ck_assert_str_eq(str_of(json_object_get(r, "role"), "name"), "student");
    ck_assert_str_eq(str_of(r, "admin_url"), "");
    ck_assert_str_eq(str_of(r, "instructor_url"), "");
    ck_assert(json_is_false(assert_ok(rpc("is_admin", with_session(sid),
                                          NULL))));
}
END_TEST

START_TEST(test_list_experiments_shape)
{
    static const char *const keys[] = {
        "experiment", "time_allowed", "priority",
        "initialization_in_accounting", "permanent_id", "permission_id",
        "permission_scope", "total_uses", "latest_use", NULL};
    static const char *const exp_keys[] = {"name", "category", "start_date",
                                           "end_date", "client", "id", NULL};
    static const char *const client_keys[] = {"client_id", "configuration",
                                              NULL};
    const char *sid = login("student1");
    json_t *list = assert_ok(rpc("list_experiments", with_session(sid),
                                 NULL));
    json_t *a, *e, *conf;

    ck_assert(json_is_array(list));
    ck_assert_int_eq(json_array_size(list), 2);

    /* sorted by category: Dummy experiments, then Physics */
    a = json_array_get(list, 0);
    assert_keys(a, keys);
    e = json_object_get(a, "experiment");
    assert_keys(e, exp_keys);
    ck_assert_str_eq(str_of(e, "name"), "dummy");
    ck_assert_str_eq(str_of(json_object_get(e, "category"), "name"),
                     "Dummy experiments");
    ck_assert_int_eq(json_object_size(json_object_get(e, "category")), 1);
    ck_assert_str_eq(str_of(e, "start_date"), "2026-11-23T11:40:31.255515");
    ck_assert_str_eq(str_of(e, "end_date"), "2038-11-23T11:40:31.255515");
    ck_assert(json_is_integer(json_object_get(e, "id")));
    ck_assert_int_eq(json_integer_value(json_object_get(e, "id")), 1);
    assert_keys(json_object_get(e, "client"), client_keys);
    ck_assert_str_eq(str_of(json_object_get(e, "client"), "client_id"), "js");
    conf = json_object_get(json_object_get(e, "client"), "configuration");
    ck_assert_int_eq(json_object_size(conf), 2);
    ck_assert_str_eq(str_of(conf, "html.file"), "nativelabs/dummy.html");
    ck_assert(json_is_true(json_object_get(conf, "builtin")));

    ck_assert(json_is_real(json_object_get(a, "time_allowed")));
    ck_assert_double_eq(json_real_value(json_object_get(a, "time_allowed")),
                        200.0);
    ck_assert(json_is_integer(json_object_get(a, "priority")));
    ck_assert_int_eq(json_integer_value(json_object_get(a, "priority")), 5);
    ck_assert(json_is_true(json_object_get(a,
                                           "initialization_in_accounting")));
    ck_assert_str_eq(str_of(a, "permanent_id"), "Students::dummy");
    ck_assert(json_is_integer(json_object_get(a, "permission_id")));
    ck_assert_int_eq(json_integer_value(json_object_get(a, "permission_id")),
                     1);
    ck_assert_str_eq(str_of(a, "permission_scope"), "group");
    ck_assert(json_is_integer(json_object_get(a, "total_uses")));
    ck_assert_int_eq(json_integer_value(json_object_get(a, "total_uses")), 0);
    ck_assert(is_empty_object(json_object_get(a, "latest_use")));

    a = json_array_get(list, 1);
    assert_keys(a, keys);
    ck_assert_str_eq(str_of(json_object_get(a, "experiment"), "name"),
                     "robot");
    ck_assert_double_eq(json_real_value(json_object_get(a, "time_allowed")),
                        100.0);
    ck_assert_int_eq(json_object_size(json_object_get(json_object_get(
        json_object_get(a, "experiment"), "client"), "configuration")), 0);

    /* filters */
    list = assert_ok(rpc("list_experiments", json_pack(
        "{s:s, s:s}", "session_id", sid, "exp_name", "robot"), NULL));
    ck_assert_int_eq(json_array_size(list), 1);
    ck_assert_str_eq(str_of(json_object_get(json_array_get(list, 0),
                                            "experiment"), "name"), "robot");
    list = assert_ok(rpc("list_experiments", json_pack(
        "{s:s, s:s}", "session_id", sid, "cat_name", "Nowhere"), NULL));
    ck_assert_int_eq(json_array_size(list), 0);
}
END_TEST

START_TEST(test_logout_none_and_reservation_end)
{
    const char *sid1 = login("student1"), *sid2 = login("student2");
    const char *pub2;

    reserve_id(sid1);
    pub2 = reserve_id(sid2);                /* waiting */

    /* logout answers None as {} and ends the current reservation */
    ck_assert(is_empty_object(assert_ok(rpc("logout", with_session(sid2),
                                            NULL))));
    assert_error(rpc("check_user_session", with_session(sid2), NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Users session not found");
    ck_assert_str_eq(coord_str("SELECT state FROM Reservation WHERE id = ?",
                               weblab_ids_reservation_uuid(pool, pub2)),
                     "cancelled");
    assert_error(rpc("get_reservation_status", with_reservation(pub2), NULL),
                 "JSON:Client.NoCurrentReservation", NULL);
    assert_error(rpc("poll", with_reservation(pub2), NULL),
                 "JSON:Client.NoCurrentReservation", NULL);
    /* the other user is untouched */
    ck_assert(json_is_true(assert_ok(rpc("check_user_session",
                                         with_session(sid1), NULL))));
}
END_TEST

/* ---- debug mode, indent ---- */

START_TEST(test_debug_mode_off)
{
    weblab_core_config_t c2 = cfg;
    weblab_core_t *quiet;
    const char *sid;

    c2.debug_mode = 0;
    c2.server_admin = ADMIN;
    ck_assert_int_eq(weblab_core_create(&quiet, &c2, NULL, NULL, pool),
                     APR_SUCCESS);

    /* Server.* codes and messages are hidden */
    assert_error(raw_on(quiet, "{not json", NULL), "JSON:Server.WebLab",
                 HIDDEN);
    assert_error(raw_on(quiet, "{\"method\": \"nope\"}", NULL),
                 "JSON:Server.WebLab", HIDDEN);
    sid = apr_pstrdup(pool, str_of(assert_ok(rpc_on(quiet, "login", json_pack(
        "{s:s, s:s}", "username", "student1", "password", "password"),
        NULL)), "id"));
    assert_error(rpc_on(quiet, "reserve_experiment", json_pack(
                     "{s:s, s:{s:s, s:s}}", "session_id", sid,
                     "experiment_id", "exp_name", "robot", "cat_name",
                     "Physics"), NULL),
                 "JSON:Server.WebLab", HIDDEN);
    ck_assert_int_eq(out.error->code, WEBLAB_ERR_USER_PROCESSING);

    /* Client.* stay as they are */
    assert_error(rpc_on(quiet, "login", json_pack(
                     "{s:s, s:s}", "username", "student1", "password", "x"),
                     NULL),
                 "JSON:Client.InvalidCredentials",
                 "Invalid username or password!");
    assert_error(rpc_on(quiet, "check_user_session",
                        with_session(UNKNOWN_SID), NULL),
                 "JSON:Client.SessionNotFound",
                 "Core Users session not found");
    assert_error(rpc_on(quiet, "reserve_experiment", json_pack(
                     "{s:s, s:{s:s, s:s}}", "session_id", sid,
                     "experiment_id", "exp_name", "secret", "cat_name",
                     "Physics"), NULL),
                 "JSON:Client.UnknownExperimentId",
                 "User can't access that experiment (or that experiment"
                 " type does not exist)");

    /* debug mode on (the default) shows them */
    assert_error(raw("{not json", NULL), "JSON:Server.WebLab",
                 "Couldn't deserialize message");
}
END_TEST

START_TEST(test_debug_mode_off_default_admin)
{
    weblab_core_config_t c2 = cfg;
    weblab_core_t *quiet;

    c2.debug_mode = 0;                      /* server_admin left unset */
    ck_assert_int_eq(weblab_core_create(&quiet, &c2, NULL, NULL, pool),
                     APR_SUCCESS);
    assert_error(raw_on(quiet, "{}", NULL), "JSON:Server.WebLab",
                 "Unexpected error ocurred in WebLab-Deusto. Please contact"
                 " the administrator at <server_admin not set>");
}
END_TEST

START_TEST(test_indent)
{
    weblab_req_in_t in;
    json_t *doc;

    memset(&in, 0, sizeof(in));
    in.indent = 1;
    doc = rpc("login", json_pack("{s:s, s:s}", "username", "student1",
                                 "password", "password"), &in);
    ck_assert_ptr_nonnull(strchr(out.body, '\n'));
    ck_assert_int_eq(strlen(str_of(assert_ok(doc), "id")), 16);

    doc = raw("{\"method\": \"nope\"}", &in);
    ck_assert_ptr_nonnull(strchr(out.body, '\n'));
    assert_error(doc, "JSON:Server.WebLab", "Method not recognized");

    /* without ?indent, one line */
    raw("{\"method\": \"nope\"}", NULL);
    ck_assert_ptr_null(strchr(out.body, '\n'));
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("weblab_api");
    TCase *tc = tcase_create("envelope");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_malformed_json);
    tcase_add_test(tc, test_missing_method);
    tcase_add_test(tc, test_unknown_method);
    tcase_add_test(tc, test_wrong_param_types);
    tcase_add_test(tc, test_debug_mode_off);
    tcase_add_test(tc, test_debug_mode_off_default_admin);
    tcase_add_test(tc, test_indent);
    suite_add_tcase(s, tc);

    tc = tcase_create("sessions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_login_ok);
    tcase_add_test(tc, test_login_bad_password);
    tcase_add_test(tc, test_unknown_session);
    tcase_add_test(tc, test_session_sources);
    tcase_add_test(tc, test_get_user_information_shape);
    tcase_add_test(tc, test_list_experiments_shape);
    suite_add_tcase(s, tc);

    tc = tcase_create("reservations");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_reservation_not_found);
    tcase_add_test(tc, test_reserve_without_permission);
    tcase_add_test(tc, test_reserve_not_deployed);
    tcase_add_test(tc, test_reserve_invalid_client_initial_data);
    tcase_add_test(tc, test_reserve_and_queue);
    tcase_add_test(tc, test_reservation_sources);
    tcase_add_test(tc, test_reservation_of_another_user);
    tcase_add_test(tc, test_send_command_before_confirmation);
    tcase_add_test(tc, test_logout_none_and_reservation_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(api_suite);
}
