/* Unit tests of weblab_db (users, credentials, permission resolution,
 * instances, uses log) on an in-memory SQLite data database. The fixture is
 * plain SQL so that these tests depend on nothing but the schema. */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "weblab_db.h"
#include "weblab_db_admin.h"
#include "weblab_schema.h"
#include "weblab_password.h"
#include "test_mysql_env.h"
#include "check_main.h"

static apr_pool_t *pool;
static weblab_sql_t *db;
static const char *mysql_db;        /* set when running on MariaDB */

/* Values with SQL metacharacters, stored through bound parameters (the
 * login fits "User".login VARCHAR(32), which MariaDB enforces). */
#define META_LOGIN    "o'brien\";DROP TABLE \"User\";--\\%_"
#define META_NAME     "Robert'); DROP TABLE Students;--"
#define META_CAT      "Zeta'\"; --%"
#define META_EXP      "ex'p\"; DELETE FROM Experiment;--"

#define LEGACY_PW     "aaaa{sha}a776159c8c7ff8b73e43aa54d081979e72511474"
#define BCRYPT_PW     "$2y$04$uu353bvpVl5UFoeMuPRVc.JYyCt5M5/S1TfxLWpK0PplOzIVFA1fq"

#define EXP_DATES     "'2026-11-23T11:40:31.255515', '2038-11-23T11:40:31.255515'"

/* Users: 1 admin (administrator), 2 student1, 3 instr (instructor),
 * 4 teacher (instructor_of_group), 5 paneluser (admin_panel_access through
 * a parent group), 6 cyclic (groups whose parents form a cycle), 7 the
 * metacharacter login, 8 nobody (no role, no permission).
 * Groups: Root <- Parent <- Child (student1); G1 <-> G2 (cyclic);
 * Staff <- StaffSub (paneluser). */
static const char FIXTURE[] =
    "INSERT INTO Role (id, name) VALUES (1, 'administrator'),"
    " (2, 'instructor'), (3, 'student'), (4, 'federated');"
    "INSERT INTO \"User\" (id, login, full_name, email, role_id) VALUES"
    " (1, 'admin', 'Administrator', 'admin@example.com', 1),"
    " (2, 'student1', 'Student One', 's1@example.com', 3),"
    " (3, 'instr', 'Instructor', '', 2),"
    " (4, 'teacher', 'Teacher', '', 3),"
    " (5, 'paneluser', 'Panel User', '', 3),"
    " (6, 'cyclic', 'Cyclic', '', 4);"
    "INSERT INTO \"User\" (id, login, full_name, role_id, disabled)"
    " VALUES (8, 'nobody', 'Nobody', NULL, 1);"
    "INSERT INTO \"Group\" (id, name, parent_id) VALUES"
    " (1, 'Root', NULL), (2, 'Parent', 1), (3, 'Child', 2),"
    " (4, 'G1', NULL), (5, 'G2', 4), (6, 'Staff', NULL), (7, 'StaffSub', 6);"
    "UPDATE \"Group\" SET parent_id = 5 WHERE id = 4;"
    "INSERT INTO UserIsMemberOf (user_id, group_id) VALUES"
    " (2, 3), (6, 4), (5, 7);"
    "INSERT INTO AuthType (id, name) VALUES (1, 'DB'), (2, 'LDAP');"
    "INSERT INTO Auth (id, auth_type_id, name, priority, configuration) VALUES"
    " (1, 1, 'WebLab DB', 3, NULL), (2, 1, 'Legacy DB', 1, NULL),"
    " (3, 2, 'Campus LDAP', 2, 'ldap_uri=ldap://ldap.example.com');"
    "INSERT INTO UserAuth (user_id, auth_id, configuration) VALUES"
    " (2, 1, '" BCRYPT_PW "'), (2, 3, NULL), (2, 2, '" LEGACY_PW "'),"
    " (1, 1, 'bbbb{sha}0000000000000000000000000000000000000000');"
    "INSERT INTO ExperimentCategory (id, name) VALUES"
    " (1, 'Dummy experiments'), (2, 'Physics');"
    "INSERT INTO Experiment (id, name, category_id, start_date, end_date,"
    " client) VALUES (1, 'dummy', 1, " EXP_DATES ", 'js'),"
    " (2, 'pendulum', 2, " EXP_DATES ", 'redirect'),"
    " (3, 'robot', 2, " EXP_DATES ", 'js');"
    "INSERT INTO ExperimentClientParameter (experiment_id, parameter_name,"
    " parameter_type, value) VALUES"
    " (1, 'html.file', 'string', 'nativelabs/dummy.html'),"
    " (1, 'builtin', 'bool', 'true');"
    "INSERT INTO ExperimentInstance (experiment_id, instance_name,"
    " resource_type, resource_instance, transport, url, api, auth_user,"
    " auth_password, manages_polling) VALUES"
    " (3, 'exp1', 'robot_queue', 'robot1', 'http', 'http://127.0.0.1:5000/',"
    " '2', 'weblab', 'secret', 1),"
    " (1, 'exp1', 'dummy_queue', 'dummy1', 'xmlrpc',"
    " 'http://127.0.0.1:10039/weblab/', '', '', '', 0);"
    /* role grants: students dummy 100 s; administrators every lab;
     * federated robot 77 s (ties with the G2 grant: the role, first, wins) */
    "INSERT INTO RolePermission (id, role_id, permission_type, permanent_id,"
    " date) VALUES"
    " (1, 3, 'experiment_allowed', 'Students::dummy', '2026-01-01'),"
    " (2, 1, 'access_all_labs', 'Administrators::all', '2026-01-01'),"
    " (3, 4, 'experiment_allowed', 'Federated::robot', '2026-01-01');"
    "INSERT INTO RolePermissionParameter (permission_id,"
    " permission_type_parameter, value) VALUES"
    " (1, 'experiment_permanent_id', 'dummy'),"
    " (1, 'experiment_category_id', 'Dummy experiments'),"
    " (1, 'time_allowed', '100'),"
    " (3, 'experiment_permanent_id', 'robot'),"
    " (3, 'experiment_category_id', 'Physics'),"
    " (3, 'time_allowed', '77.0');"
    "INSERT INTO GroupPermission (id, group_id, permission_type, permanent_id,"
    " date) VALUES"
    " (1, 3, 'experiment_allowed', 'Child::dummy', '2026-01-01'),"
    " (2, 1, 'experiment_allowed', 'Root::pendulum', '2026-01-01'),"
    " (3, 5, 'experiment_allowed', 'G2::robot', '2026-01-01'),"
    " (4, 6, 'admin_panel_access', 'Staff::admin', '2026-01-01'),"
    " (5, 2, 'experiment_allowed', 'Parent::robot', '2026-01-01');"
    "INSERT INTO GroupPermissionParameter (permission_id,"
    " permission_type_parameter, value) VALUES"
    " (1, 'experiment_permanent_id', 'dummy'),"
    " (1, 'experiment_category_id', 'Dummy experiments'),"
    " (1, 'time_allowed', '200'),"
    " (2, 'experiment_permanent_id', 'pendulum'),"
    " (2, 'experiment_category_id', 'Physics'),"
    " (2, 'time_allowed', '300.5'),"
    " (2, 'priority', '3'),"
    " (2, 'initialization_in_accounting', '0'),"
    " (3, 'experiment_permanent_id', 'robot'),"
    " (3, 'experiment_category_id', 'Physics'),"
    " (3, 'time_allowed', '77'),"
    " (4, 'full_privileges', '1'),"
    " (5, 'experiment_permanent_id', 'robot'),"
    " (5, 'experiment_category_id', 'Physics'),"
    " (5, 'time_allowed', '60'),"
    " (5, 'initialization_in_accounting', 'false');"
    "INSERT INTO UserPermission (id, user_id, permission_type, permanent_id,"
    " date) VALUES"
    " (1, 2, 'experiment_allowed', 'student1::dummy', '2026-01-01'),"
    " (2, 2, 'experiment_allowed', 'student1::ghost', '2026-01-01'),"
    " (3, 2, 'experiment_allowed', 'student1::robot', '2026-01-01'),"
    " (4, 1, 'experiment_allowed', 'admin::dummy', '2026-01-01'),"
    " (5, 1, 'experiment_allowed', 'admin::pendulum', '2026-01-01'),"
    " (6, 4, 'instructor_of_group', 'teacher::child', '2026-01-01'),"
    " (8, 2, 'experiment_allowed', 'student1::wrongcat', '2026-01-01');"
    "INSERT INTO UserPermissionParameter (permission_id,"
    " permission_type_parameter, value) VALUES"
    " (1, 'experiment_permanent_id', 'dummy'),"
    " (1, 'experiment_category_id', 'Dummy experiments'),"
    " (1, 'time_allowed', '150'),"
    " (2, 'experiment_permanent_id', 'ghost'),"
    " (2, 'experiment_category_id', 'Physics'),"
    " (2, 'time_allowed', '999'),"
    " (3, 'experiment_permanent_id', 'robot'),"
    " (3, 'experiment_category_id', 'Physics'),"
    " (3, 'time_allowed', '90'),"
    " (3, 'priority', '1'),"
    " (3, 'initialization_in_accounting', 'True'),"
    " (4, 'experiment_permanent_id', 'dummy'),"
    " (4, 'experiment_category_id', 'Dummy experiments'),"
    " (4, 'time_allowed', '500'),"
    " (5, 'experiment_permanent_id', 'pendulum'),"
    " (5, 'experiment_category_id', 'Physics'),"
    " (5, 'time_allowed', '100'),"
    " (6, 'target_group', '3'),"
    " (8, 'experiment_permanent_id', 'dummy'),"
    " (8, 'experiment_category_id', 'Physics'),"
    " (8, 'time_allowed', '999');";

static void exec_p(const char *sql, const char *types, ...);

static void setup(void)
{
    const char *dsn = "sqlite::memory:";

    apr_pool_create(&pool, NULL);
    if (test_mysql_server()) {
        ck_assert_int_eq(test_mysql_create(&dsn, &mysql_db, "db", pool),
                         APR_SUCCESS);
    }
    ck_assert_int_eq(weblab_sql_open(&db, dsn, pool), APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_create_data(db), APR_SUCCESS);
    ck_assert_msg(weblab_sql_exec_script(db, FIXTURE) == APR_SUCCESS,
                  "fixture: %s", weblab_sql_error(db));
    /* The metacharacter user, category, experiment and grant (user 7,
     * category 3, experiment 4, user permission 7). */
    ck_assert_int_eq(weblab_sql_exec(db, NULL,
                                     "INSERT INTO \"User\" (id, login,"
                                     " full_name, role_id)"
                                     " VALUES (7, ?, ?, 3)",
                                     "ss", META_LOGIN, META_NAME),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(db, NULL,
                                     "INSERT INTO ExperimentCategory"
                                     " (id, name) VALUES (3, ?)",
                                     "s", META_CAT), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(db, NULL,
                                     "INSERT INTO Experiment (id, name,"
                                     " category_id, start_date, end_date)"
                                     " VALUES (4, ?, 3, " EXP_DATES ")",
                                     "s", META_EXP), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(db, NULL,
                                     "INSERT INTO UserPermission (id,"
                                     " user_id, permission_type,"
                                     " permanent_id, date) VALUES (7, 7,"
                                     " 'experiment_allowed', ?,"
                                     " '2026-01-01')",
                                     "s", META_LOGIN "::" META_EXP),
                     APR_SUCCESS);
    exec_p("INSERT INTO UserPermissionParameter (permission_id,"
           " permission_type_parameter, value) VALUES (7, ?, ?), (7, ?, ?),"
           " (7, ?, ?), (7, ?, ?)", "ssssssss",
           "experiment_permanent_id", META_EXP,
           "experiment_category_id", META_CAT,
           "time_allowed", "42", "initialization_in_accounting", "1");
}

static void teardown(void)
{
    weblab_sql_close(db);
    apr_pool_destroy(pool);
    db = NULL;
    pool = NULL;
    if (mysql_db) {
        test_mysql_drop(mysql_db);
        mysql_db = NULL;
    }
}

/* Only for the one statement with eight text parameters above. */
static void exec_p(const char *sql, const char *types, ...)
{
    const char *v[8];
    va_list ap;
    int i;

    va_start(ap, types);
    for (i = 0; i < 8; i++) {
        v[i] = va_arg(ap, const char *);
    }
    va_end(ap);
    ck_assert_int_eq(weblab_sql_exec(db, NULL, sql, types, v[0], v[1], v[2],
                                     v[3], v[4], v[5], v[6], v[7]),
                     APR_SUCCESS);
}

static weblab_user_t *user(const char *login)
{
    weblab_user_t *u;

    ck_assert_int_eq(weblab_db_user_by_login(&u, db, login, pool),
                     APR_SUCCESS);
    ck_assert_msg(u != NULL, "user %s", login);
    return u;
}

static apr_array_header_t *allowed_of(const char *login)
{
    apr_array_header_t *a;

    ck_assert_int_eq(weblab_db_allowed(&a, db, user(login), pool),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(a);
    return a;
}

static const weblab_allowed_t *entry(const apr_array_header_t *a, int i)
{
    ck_assert_int_lt(i, a->nelts);
    return &APR_ARRAY_IDX(a, i, weblab_allowed_t);
}

static const weblab_allowed_t *find(const apr_array_header_t *a,
                                    const char *exp)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        if (!strcmp(entry(a, i)->experiment->name, exp)) {
            return entry(a, i);
        }
    }
    return NULL;
}

static apr_int64_t count(const char *sql, const char *types,
                         apr_int64_t id)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(db, &rows, pool, sql, types, id),
                     APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    return weblab_sql_int(rows, 0);
}

/* Rows of use id whose two timestamps equal t exactly. */
static apr_int64_t count2(const char *sql, apr_int64_t id, double t)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(db, &rows, pool, sql, "idd", id, t, t),
                     APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    return weblab_sql_int(rows, 0);
}

/* ---- users and credentials ---- */

START_TEST(test_user_by_login)
{
    weblab_user_t *u = user("student1");
    weblab_user_t *none;

    ck_assert_int_eq(u->id, 2);
    ck_assert_str_eq(u->login, "student1");
    ck_assert_str_eq(u->full_name, "Student One");
    ck_assert_str_eq(u->email, "s1@example.com");
    ck_assert_str_eq(u->role, "student");
    ck_assert_int_eq(u->disabled, 0);

    u = user("nobody");
    ck_assert_str_eq(u->role, "");
    ck_assert_int_eq(u->disabled, 1);

    ck_assert_int_eq(weblab_db_user_by_login(&none, db, "ghost", pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(none);
    /* exact match, not LIKE, not case-folded */
    ck_assert_int_eq(weblab_db_user_by_login(&none, db, "student%", pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(none);
    ck_assert_int_eq(weblab_db_user_by_login(&none, db, "STUDENT1", pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(none);
}
END_TEST

START_TEST(test_metachar_login)
{
    weblab_user_t *u = user(META_LOGIN);
    weblab_user_t *none;
    apr_array_header_t *a;

    ck_assert_int_eq(u->id, 7);
    ck_assert_str_eq(u->login, META_LOGIN);
    ck_assert_str_eq(u->full_name, META_NAME);
    ck_assert_int_eq(weblab_db_user_by_login(&none, db, "o'brien", pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(none);
    ck_assert_int_eq(weblab_db_user_by_login(&none, db, "o'brien%", pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(none);

    /* the grant naming the metacharacter experiment resolves */
    a = allowed_of(META_LOGIN);
    ck_assert_int_eq(a->nelts, 2);
    ck_assert_str_eq(entry(a, 0)->experiment->name, "dummy");
    ck_assert_str_eq(entry(a, 1)->experiment->name, META_EXP);
    ck_assert_str_eq(entry(a, 1)->experiment->category, META_CAT);
    ck_assert_str_eq(entry(a, 1)->permanent_id, META_LOGIN "::" META_EXP);
    ck_assert_double_eq(entry(a, 1)->time_allowed, 42.0);
    ck_assert_int_eq(entry(a, 1)->init_in_accounting, 1);
    ck_assert_str_eq(entry(a, 1)->scope, "user");
    /* nothing was dropped */
    ck_assert_int_eq(count("SELECT COUNT(*) FROM \"User\" WHERE id > ?", "i",
                           0), 8);
    ck_assert_int_eq(count("SELECT COUNT(*) FROM Experiment WHERE id > ?",
                           "i", 0), 4);
}
END_TEST

START_TEST(test_passwords_priority)
{
    apr_array_header_t *pw;

    ck_assert_int_eq(weblab_db_user_passwords(&pw, db, 2, pool), APR_SUCCESS);
    /* DB auths only (not LDAP), in Auth.priority order: Legacy DB (1)
     * before WebLab DB (3), though inserted after it */
    ck_assert_int_eq(pw->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(pw, 0, const char *), LEGACY_PW);
    ck_assert_str_eq(APR_ARRAY_IDX(pw, 1, const char *), BCRYPT_PW);
    ck_assert(weblab_password_verify(APR_ARRAY_IDX(pw, 0, const char *),
                                     "password", pool));
    ck_assert(weblab_password_verify(APR_ARRAY_IDX(pw, 1, const char *),
                                     "password", pool));
    ck_assert(!weblab_password_verify(APR_ARRAY_IDX(pw, 1, const char *),
                                      "Password", pool));

    ck_assert_int_eq(weblab_db_user_passwords(&pw, db, 8, pool), APR_SUCCESS);
    ck_assert_int_eq(pw->nelts, 0);
}
END_TEST

/* ---- permissions ---- */

START_TEST(test_allowed_resolution)
{
    apr_array_header_t *a = allowed_of("student1");
    const weblab_allowed_t *e;

    /* dummy (role 100, Child 200, user 150), pendulum (Root, two levels
     * up), robot (Parent 60, user 90); ghost and dummy@Physics do not
     * exist: skipped */
    ck_assert_int_eq(a->nelts, 3);
    e = entry(a, 0);
    ck_assert_str_eq(e->experiment->name, "dummy");
    ck_assert_str_eq(e->experiment->category, "Dummy experiments");
    ck_assert_int_eq(e->experiment->id, 1);
    ck_assert_double_eq(e->time_allowed, 200.0);
    ck_assert_str_eq(e->scope, "group");
    ck_assert_int_eq(e->permission_id, 1);
    ck_assert_str_eq(e->permanent_id, "Child::dummy");
    ck_assert_int_eq(e->priority, 5);
    ck_assert_int_eq(e->init_in_accounting, 1);

    e = entry(a, 1);
    ck_assert_str_eq(e->experiment->name, "pendulum");
    ck_assert_double_eq(e->time_allowed, 300.5);
    ck_assert_str_eq(e->scope, "group");
    ck_assert_int_eq(e->permission_id, 2);
    ck_assert_str_eq(e->permanent_id, "Root::pendulum");
    ck_assert_int_eq(e->priority, 3);
    ck_assert_int_eq(e->init_in_accounting, 0);
    ck_assert_str_eq(e->experiment->client, "redirect");

    e = entry(a, 2);
    ck_assert_str_eq(e->experiment->name, "robot");
    ck_assert_double_eq(e->time_allowed, 90.0);
    ck_assert_str_eq(e->scope, "user");
    ck_assert_int_eq(e->permission_id, 3);
    ck_assert_int_eq(e->priority, 1);
    ck_assert_int_eq(e->init_in_accounting, 1);     /* "True" */
    ck_assert_ptr_null(find(a, "ghost"));
}
END_TEST

START_TEST(test_allowed_experiment_shape)
{
    apr_array_header_t *a = allowed_of("student1");
    const weblab_experiment_t *x = entry(a, 0)->experiment;
    const weblab_client_param_t *cp;

    ck_assert_str_eq(x->start_date, "2026-11-23T11:40:31.255515");
    ck_assert_str_eq(x->end_date, "2038-11-23T11:40:31.255515");
    ck_assert_str_eq(x->client, "js");
    ck_assert_ptr_nonnull(x->params);
    ck_assert_int_eq(x->params->nelts, 2);
    cp = &APR_ARRAY_IDX(x->params, 0, weblab_client_param_t);
    ck_assert_str_eq(cp->name, "builtin");
    ck_assert_str_eq(cp->type, "bool");
    ck_assert_str_eq(cp->value, "true");
    cp = &APR_ARRAY_IDX(x->params, 1, weblab_client_param_t);
    ck_assert_str_eq(cp->name, "html.file");
    ck_assert_str_eq(cp->value, "nativelabs/dummy.html");
    /* robot has no client parameters: an empty array, not NULL */
    ck_assert_ptr_nonnull(entry(a, 2)->experiment->params);
    ck_assert_int_eq(entry(a, 2)->experiment->params->nelts, 0);
    /* never used */
    ck_assert_int_eq(entry(a, 0)->total_uses, 0);
    ck_assert_ptr_null(entry(a, 0)->latest_use);
}
END_TEST

START_TEST(test_allowed_access_all_labs)
{
    apr_array_header_t *a = allowed_of("admin");
    const weblab_allowed_t *e;

    /* every experiment, sorted by category then name */
    ck_assert_int_eq(a->nelts, 4);
    ck_assert_str_eq(entry(a, 0)->experiment->name, "dummy");
    ck_assert_str_eq(entry(a, 1)->experiment->name, "pendulum");
    ck_assert_str_eq(entry(a, 2)->experiment->name, "robot");
    ck_assert_str_eq(entry(a, 3)->experiment->name, META_EXP);

    /* an explicit grant longer than 180 s wins */
    e = entry(a, 0);
    ck_assert_double_eq(e->time_allowed, 500.0);
    ck_assert_str_eq(e->scope, "user");
    ck_assert_int_eq(e->permission_id, 4);
    ck_assert_int_eq(e->priority, 5);

    /* a shorter one (100 s) loses to access_all_labs */
    e = entry(a, 1);
    ck_assert_double_eq(e->time_allowed, 180.0);
    ck_assert_int_eq(e->priority, 100);
    ck_assert_int_eq(e->init_in_accounting, 1);
    ck_assert_str_eq(e->scope, "role");
    ck_assert_int_eq(e->permission_id, 2);
    ck_assert_str_eq(e->permanent_id, "Administrators::all");

    e = entry(a, 3);
    ck_assert_double_eq(e->time_allowed, 180.0);
    ck_assert_str_eq(e->scope, "role");
}
END_TEST

START_TEST(test_allowed_group_cycle_and_tie)
{
    /* cyclic is in G1, whose parent G2 has G1 as parent: must terminate.
     * The federated role grant and G2's grant give robot 77 s each: the
     * first gathered (role) wins the tie. */
    apr_array_header_t *a = allowed_of("cyclic");
    const weblab_allowed_t *e;

    ck_assert_int_eq(a->nelts, 1);
    e = entry(a, 0);
    ck_assert_str_eq(e->experiment->name, "robot");
    ck_assert_double_eq(e->time_allowed, 77.0);
    ck_assert_str_eq(e->scope, "role");
    ck_assert_int_eq(e->permission_id, 3);

    /* Without the role grant the group grant, found through the cycle,
     * is what remains. */
    ck_assert_int_eq(weblab_sql_exec(db, NULL, "DELETE FROM RolePermission"
                                     " WHERE id = ?", "i", (apr_int64_t)3),
                     APR_SUCCESS);
    a = allowed_of("cyclic");
    ck_assert_int_eq(a->nelts, 1);
    e = entry(a, 0);
    ck_assert_str_eq(e->scope, "group");
    ck_assert_str_eq(e->permanent_id, "G2::robot");
}
END_TEST

START_TEST(test_allowed_nobody)
{
    ck_assert_int_eq(allowed_of("nobody")->nelts, 0);
}
END_TEST

START_TEST(test_user_flags)
{
    static const struct {
        const char *login;
        int admin, instructor;
    } cases[] = {
        {"admin", 1, 1},        /* role administrator */
        {"instr", 0, 1},        /* role instructor */
        {"student1", 0, 0},
        {"teacher", 0, 1},      /* instructor_of_group (user) */
        {"paneluser", 1, 1},    /* admin_panel_access (parent group) */
        {"nobody", 0, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int admin = -1, instructor = -1;

        ck_assert_int_eq(weblab_db_user_flags(&admin, &instructor, db,
                                              user(cases[i].login), pool),
                         APR_SUCCESS);
        ck_assert_msg(admin == cases[i].admin
                      && instructor == cases[i].instructor,
                      "%s: admin %d instructor %d", cases[i].login, admin,
                      instructor);
    }
}
END_TEST

START_TEST(test_instances)
{
    apr_array_header_t *defs;
    const weblab_instance_def_t *d;

    ck_assert_int_eq(weblab_db_instances(&defs, db, pool), APR_SUCCESS);
    ck_assert_int_eq(defs->nelts, 2);
    d = &APR_ARRAY_IDX(defs, 0, weblab_instance_def_t);
    ck_assert_str_eq(d->exp_name, "dummy");
    ck_assert_str_eq(d->cat_name, "Dummy experiments");
    ck_assert_str_eq(d->instance_name, "exp1");
    ck_assert_str_eq(d->resource_type, "dummy_queue");
    ck_assert_str_eq(d->resource_instance, "dummy1");
    ck_assert_str_eq(d->transport, "xmlrpc");
    ck_assert_str_eq(d->url, "http://127.0.0.1:10039/weblab/");
    ck_assert_str_eq(d->api, "");
    ck_assert_int_eq(d->manages_polling, 0);
    d = &APR_ARRAY_IDX(defs, 1, weblab_instance_def_t);
    ck_assert_str_eq(d->exp_name, "robot");
    ck_assert_str_eq(d->transport, "http");
    ck_assert_str_eq(d->api, "2");
    ck_assert_str_eq(d->auth_user, "weblab");
    ck_assert_str_eq(d->auth_password, "secret");
    ck_assert_int_eq(d->manages_polling, 1);
}
END_TEST

/* ---- health checkers ---- */

static int checker_rows(void)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(db, &rows, pool, "SELECT COUNT(*)"
                                       " FROM ExperimentInstanceChecker",
                                       NULL), APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    return (int)weblab_sql_int(rows, 0);
}

START_TEST(test_instance_checkers)
{
    apr_array_header_t *set = apr_array_make(pool, 4,
                                             sizeof(weblab_checker_t));
    apr_array_header_t *got;
    const weblab_instance_checker_t *k;
    weblab_db_admin_t *adm;

    weblab_db_admin_make(&adm, db, pool);
    APR_ARRAY_PUSH(set, weblab_checker_t) =
        (weblab_checker_t){ "webcam", "http://cam1/image.jpg", 10 };
    APR_ARRAY_PUSH(set, weblab_checker_t) =
        (weblab_checker_t){ "host", "192.0.2.7:8080", 2.5 };
    ck_assert_int_eq(weblab_db_admin_instance_set_checkers(
                         adm, "dummy", "Dummy experiments", "exp1", set),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_db_instance_checkers(&got, db, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(got->nelts, 2);
    k = &APR_ARRAY_IDX(got, 0, weblab_instance_checker_t);
    ck_assert_str_eq(k->exp_name, "dummy");
    ck_assert_str_eq(k->cat_name, "Dummy experiments");
    ck_assert_str_eq(k->instance_name, "exp1");
    ck_assert_str_eq(k->check.type, "webcam");
    ck_assert_str_eq(k->check.target, "http://cam1/image.jpg");
    ck_assert(k->check.timeout == 10);
    k = &APR_ARRAY_IDX(got, 1, weblab_instance_checker_t);
    ck_assert_str_eq(k->check.type, "host");
    ck_assert(k->check.timeout == 2.5);

    /* bad input: a clear message and nothing changed */
    APR_ARRAY_PUSH(set, weblab_checker_t) =
        (weblab_checker_t){ "ping", "192.0.2.7", 10 };
    ck_assert_int_eq(weblab_db_admin_instance_set_checkers(
                         adm, "dummy", "Dummy experiments", "exp1", set),
                     APR_EINVAL);
    ck_assert_str_eq(weblab_db_admin_error(adm),
                     "unknown checker type 'ping' (host, webcam or web)");
    APR_ARRAY_IDX(set, 2, weblab_checker_t) =
        (weblab_checker_t){ "host", "192.0.2.7:8080", 5 };
    ck_assert_int_eq(weblab_db_admin_instance_set_checkers(
                         adm, "dummy", "Dummy experiments", "exp1", set),
                     APR_EEXIST);
    ck_assert_str_eq(weblab_db_admin_error(adm), "the host check "
                     "'192.0.2.7:8080' is given twice");
    ck_assert_int_eq(weblab_db_admin_instance_set_checkers(
                         adm, "dummy", "Dummy experiments", "exp9", NULL),
                     APR_ENOENT);
    ck_assert_int_eq(checker_rows(), 2);

    /* replaced, then removed with their instance */
    set->nelts = 1;
    ck_assert_int_eq(weblab_db_admin_instance_set_checkers(
                         adm, "dummy", "Dummy experiments", "exp1", set),
                     APR_SUCCESS);
    ck_assert_int_eq(checker_rows(), 1);
    ck_assert_int_eq(weblab_db_admin_instance_remove(
                         adm, "dummy", "Dummy experiments", "exp1"),
                     APR_SUCCESS);
    ck_assert_int_eq(checker_rows(), 0);
}
END_TEST

/* A database made before checkers existed gets their table. */
START_TEST(test_schema_upgrade)
{
    apr_array_header_t *got;
    int upgraded = -1;

    ck_assert_int_eq(weblab_sql_exec(db, NULL, "DROP TABLE"
                                     " ExperimentInstanceChecker", NULL),
                     APR_SUCCESS);
    ck_assert_int_ne(weblab_db_instance_checkers(&got, db, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_upgrade_data(&upgraded, db, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(upgraded, 1);
    ck_assert_int_eq(weblab_db_instance_checkers(&got, db, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(got->nelts, 0);
    ck_assert_int_eq(weblab_schema_upgrade_data(&upgraded, db, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(upgraded, 0);
    /* the rest of the data is untouched */
    ck_assert_int_eq(weblab_db_instances(&got, db, pool), APR_SUCCESS);
    ck_assert_int_eq(got->nelts, 2);
}
END_TEST

/* ---- dates ---- */

START_TEST(test_iso_date)
{
    ck_assert_str_eq(weblab_db_iso_date(1795434031.255515, pool),
                     "2026-11-23T11:40:31.255515");
    ck_assert_str_eq(weblab_db_iso_date(0, pool),
                     "1970-01-01T00:00:00.000000");
    ck_assert_str_eq(weblab_db_iso_date(1795434031.9999996, pool),
                     "2026-11-23T11:40:32.000000");
}
END_TEST

/* ---- uses log ---- */

#define T0 1795434031.255515
#define T1 1795434631.5
/* A REAL read back as text has 15 significant digits: ~10 us today. */
#define TEXT_TOL 1e-4

static apr_int64_t start_use(const char *reservation, double start)
{
    apr_int64_t id = -1;

    ck_assert_int_eq(weblab_db_use_start(&id, db, 2, "dummy",
                                         "Dummy experiments", reservation,
                                         start, "127.0.0.1",
                                         "exp1:dummy1@dummy_queue",
                                         "Child::dummy",
                                         "{\"user_agent\": \"curl\"}",
                                         "{\"client\": 1}", "{}", pool),
                     APR_SUCCESS);
    ck_assert_int_gt(id, 0);
    return id;
}

START_TEST(test_use_start_idempotent)
{
    apr_int64_t id = start_use("res-1;res-1.route1", T0);
    apr_int64_t again = start_use("res-1;res-1.route1", T0 + 5);
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(again, id);
    ck_assert_int_eq(count("SELECT COUNT(*) FROM UserUsedExperiment"
                           " WHERE id > ?", "i", 0), 1);
    ck_assert_int_eq(count("SELECT COUNT(*) FROM UserCommand"
                           " WHERE experiment_use_id = ?", "i", id), 2);

    ck_assert_int_eq(weblab_sql_select(db, &rows, pool,
                                       "SELECT user_id, experiment_id,"
                                       " start_date, start_date_micro,"
                                       " end_date, origin, coord_address,"
                                       " reservation_id,"
                                       " permission_permanent_id,"
                                       " request_info"
                                       " FROM UserUsedExperiment WHERE id = ?",
                                       "i", id), APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    ck_assert_int_eq(weblab_sql_int(rows, 0), 2);
    ck_assert_int_eq(weblab_sql_int(rows, 1), 1);
    ck_assert_str_eq(weblab_sql_str(rows, 2), "2026-11-23T11:40:31.255515");
    ck_assert_int_eq(weblab_sql_int(rows, 3), 255515);
    ck_assert_ptr_null(weblab_sql_str(rows, 4));
    ck_assert_str_eq(weblab_sql_str(rows, 5), "127.0.0.1");
    ck_assert_str_eq(weblab_sql_str(rows, 6), "exp1:dummy1@dummy_queue");
    ck_assert_str_eq(weblab_sql_str(rows, 7), "res-1;res-1.route1");
    ck_assert_str_eq(weblab_sql_str(rows, 8), "Child::dummy");
    ck_assert_str_eq(weblab_sql_str(rows, 9), "{\"user_agent\": \"curl\"}");

    ck_assert_int_eq(weblab_sql_select(db, &rows, pool,
                                       "SELECT command, response,"
                                       " timestamp_before, timestamp_after"
                                       " FROM UserCommand"
                                       " WHERE experiment_use_id = ?"
                                       " ORDER BY id", "i", id), APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    ck_assert_str_eq(weblab_sql_str(rows, 0), "@@@initial::request@@@");
    ck_assert_str_eq(weblab_sql_str(rows, 1), "{\"client\": 1}");
    ck_assert(weblab_sql_next(rows));
    ck_assert_str_eq(weblab_sql_str(rows, 0), "@@@initial::response@@@");
    ck_assert_str_eq(weblab_sql_str(rows, 1), "{}");

    /* Timestamps are stored exactly (compared in SQL: reading a REAL back
     * as text keeps only 15 digits, ~10 us at today's epochs). */
    ck_assert_int_eq(count2("SELECT COUNT(*) FROM UserCommand"
                            " WHERE experiment_use_id = ?"
                            " AND timestamp_before = ? AND timestamp_after = ?",
                            id, T0), 2);

    /* another reservation is another use */
    ck_assert_int_ne(start_use("res-2", T1), id);
}
END_TEST

START_TEST(test_use_start_unknown_experiment)
{
    apr_int64_t id = -1;

    ck_assert_int_eq(weblab_db_use_start(&id, db, 2, "dummy", "Physics",
                                         "res-x", T0, "", "", NULL, NULL,
                                         NULL, NULL, pool), APR_NOTFOUND);
    ck_assert_int_eq(id, 0);
    ck_assert_int_eq(count("SELECT COUNT(*) FROM UserUsedExperiment"
                           " WHERE id > ?", "i", 0), 0);
    ck_assert_int_eq(count("SELECT COUNT(*) FROM UserCommand"
                           " WHERE id > ?", "i", 0), 0);
}
END_TEST

/* Counts the writer lock's takes and releases. */
static int lock_takes, lock_releases;

static apr_status_t count_lock(void *baton)
{
    (void)baton;
    lock_takes++;
    return APR_SUCCESS;
}

static apr_status_t count_unlock(void *baton)
{
    (void)baton;
    lock_releases++;
    return APR_SUCCESS;
}

/* A logged command or file is a write transaction of its own, so that on
 * SQLite it waits for the writers' lock rather than in SQLite's sleeping
 * busy handler; inside the caller's transaction it joins that one. */
START_TEST(test_use_rows_take_the_writer_lock)
{
    weblab_sql_lock_t counting = {count_lock, count_unlock, NULL};
    weblab_sql_lock_t none = {NULL, NULL, NULL};
    apr_int64_t id = start_use("res-rows-lock", T0);
    const char *rows_of_use = "SELECT COUNT(*) FROM UserCommand c"
                              " JOIN UserUsedExperiment u"
                              " ON u.id = c.experiment_use_id"
                              " WHERE u.id = ?";
    const char *files_of_use = "SELECT COUNT(*) FROM UserFile"
                               " WHERE experiment_use_id = ?";
    apr_int64_t before = count(rows_of_use, "i", id);

    lock_takes = lock_releases = 0;
    weblab_sql_set_lock(db, &counting);
    ck_assert_int_eq(weblab_db_use_command(db, id, "alone", "ok", T0 + 1,
                                           T0 + 2), APR_SUCCESS);
    ck_assert_int_eq(weblab_db_use_file(db, id, "aGk=", "alone", "ok",
                                        T0 + 3, T0 + 4, pool), APR_SUCCESS);
    ck_assert_int_eq(lock_takes, 2);
    ck_assert_int_eq(lock_releases, 2);
    ck_assert(!weblab_sql_in_tx(db));
    ck_assert_int_eq(count(rows_of_use, "i", id), before + 1);
    ck_assert_int_eq(count(files_of_use, "i", id), 1);

    /* in the caller's transaction: no second take; its rollback undoes them */
    ck_assert_int_eq(weblab_sql_begin(db, WEBLAB_SQL_WRITE), APR_SUCCESS);
    ck_assert_int_eq(weblab_db_use_command(db, id, "joined", "ok", T0 + 5,
                                           T0 + 6), APR_SUCCESS);
    ck_assert_int_eq(weblab_db_use_file(db, id, "aGk=", "joined", "ok",
                                        T0 + 7, T0 + 8, pool), APR_SUCCESS);
    ck_assert(weblab_sql_in_tx(db));
    ck_assert_int_eq(lock_takes, 3);
    ck_assert_int_eq(weblab_sql_rollback(db), APR_SUCCESS);
    ck_assert_int_eq(lock_releases, 3);
    weblab_sql_set_lock(db, &none);
    ck_assert_int_eq(count(rows_of_use, "i", id), before + 1);
    ck_assert_int_eq(count(files_of_use, "i", id), 1);
}
END_TEST

START_TEST(test_use_commands_and_files)
{
    apr_int64_t id = start_use("res-cmd", T0);
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_db_use_command(db, id, "hello from curl",
                                           "Received command: hello",
                                           T0 + 1, T0 + 1.25), APR_SUCCESS);
    ck_assert_int_eq(weblab_db_use_command(db, id, META_NAME, NULL,
                                           T0 + 2, T0 + 3), APR_SUCCESS);
    /* "hello world" and binary content with a NUL byte */
    ck_assert_int_eq(weblab_db_use_file(db, id, "aGVsbG8gd29ybGQ=",
                                        "program", "ok", T0 + 4, T0 + 5,
                                        pool), APR_SUCCESS);
    ck_assert_int_eq(weblab_db_use_file(db, id, "AAECAwQFBgcICQD/",
                                        META_NAME, NULL, T0 + 6, T0 + 7,
                                        pool), APR_SUCCESS);

    ck_assert_int_eq(weblab_sql_select(db, &rows, pool,
                                       "SELECT command, response,"
                                       " timestamp_before, timestamp_after"
                                       " FROM UserCommand"
                                       " WHERE experiment_use_id = ?"
                                       " ORDER BY id", "i", id), APR_SUCCESS);
    ck_assert_int_eq(rows->nrows, 4);
    rows->cursor = 2;               /* after the two @@@initial commands */
    ck_assert_str_eq(weblab_sql_str(rows, 0), "hello from curl");
    ck_assert_str_eq(weblab_sql_str(rows, 1), "Received command: hello");
    ck_assert_double_eq_tol(weblab_sql_double(rows, 2), T0 + 1, TEXT_TOL);
    ck_assert_double_eq_tol(weblab_sql_double(rows, 3), T0 + 1.25, TEXT_TOL);
    ck_assert(weblab_sql_next(rows));
    ck_assert_str_eq(weblab_sql_str(rows, 0), META_NAME);
    ck_assert_ptr_null(weblab_sql_str(rows, 1));

    ck_assert_int_eq(weblab_sql_select(db, &rows, pool,
                                       "SELECT file_sent, file_hash,"
                                       " file_info, response,"
                                       " timestamp_before, timestamp_after"
                                       " FROM UserFile"
                                       " WHERE experiment_use_id = ?"
                                       " ORDER BY id", "i", id), APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    ck_assert_str_eq(weblab_sql_str(rows, 0), "<file not stored>");
    ck_assert_str_eq(weblab_sql_str(rows, 1),
                     "{sha}2aae6c35c94fcfb415dbe95f408b9ce91ee846ed");
    ck_assert_str_eq(weblab_sql_str(rows, 2), "program");
    ck_assert_str_eq(weblab_sql_str(rows, 3), "ok");
    ck_assert_double_eq_tol(weblab_sql_double(rows, 4), T0 + 4, TEXT_TOL);
    ck_assert_double_eq_tol(weblab_sql_double(rows, 5), T0 + 5, TEXT_TOL);
    ck_assert(weblab_sql_next(rows));
    ck_assert_str_eq(weblab_sql_str(rows, 1),
                     "{sha}16ad28a4896827483926e5369a7eca183d36cba6");
    ck_assert_str_eq(weblab_sql_str(rows, 2), META_NAME);
    ck_assert_ptr_null(weblab_sql_str(rows, 3));
}
END_TEST

START_TEST(test_use_finish_idempotent)
{
    apr_int64_t id = start_use("res-fin", T0);
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_db_use_finish(db, id, T1, 2, "{\"end\": 1}"),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_db_use_finish(db, id, T1 + 100, 0, "again"),
                     APR_SUCCESS);

    ck_assert_int_eq(weblab_sql_select(db, &rows, pool,
                                       "SELECT end_date, end_date_micro,"
                                       " finish_reason, session_time_seconds"
                                       " FROM UserUsedExperiment WHERE id = ?",
                                       "i", id), APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    ck_assert_str_eq(weblab_sql_str(rows, 0), "2026-11-23T11:50:31.500000");
    ck_assert_int_eq(weblab_sql_int(rows, 1), 500000);
    ck_assert_int_eq(weblab_sql_int(rows, 2), 2);
    ck_assert_double_eq_tol(weblab_sql_double(rows, 3), T1 - T0, 1e-5);

    ck_assert_int_eq(count("SELECT COUNT(*) FROM UserCommand"
                           " WHERE experiment_use_id = ?"
                           " AND command = '@@@finish@@@'", "i", id), 1);
    ck_assert_int_eq(weblab_sql_select(db, &rows, pool,
                                       "SELECT response, timestamp_before"
                                       " FROM UserCommand"
                                       " WHERE experiment_use_id = ?"
                                       " AND command = '@@@finish@@@'",
                                       "i", id), APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    ck_assert_str_eq(weblab_sql_str(rows, 0), "{\"end\": 1}");
    ck_assert_double_eq_tol(weblab_sql_double(rows, 1), T1, TEXT_TOL);

    ck_assert_int_eq(weblab_db_use_finish(db, id + 1000, T1, 0, NULL),
                     APR_NOTFOUND);
}
END_TEST

START_TEST(test_uses_in_allowed)
{
    apr_array_header_t *a;
    const weblab_allowed_t *e;

    start_use("res-a", T0);
    start_use("res-b", T1);
    start_use("res-b", T1 + 50);        /* same reservation: not a use */

    a = allowed_of("student1");
    e = find(a, "dummy");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->total_uses, 2);
    ck_assert_str_eq(e->latest_use, "2026-11-23T11:50:31.500000");
    e = find(a, "pendulum");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->total_uses, 0);
    ck_assert_ptr_null(e->latest_use);
    /* uses are per user: admin has dummy too, never used by admin */
    e = find(allowed_of("admin"), "dummy");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->total_uses, 0);
    ck_assert_ptr_null(e->latest_use);
}
END_TEST

static Suite *db_suite(void)
{
    Suite *s = suite_create("weblab_db");
    TCase *tc = tcase_create("users");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_user_by_login);
    tcase_add_test(tc, test_metachar_login);
    tcase_add_test(tc, test_passwords_priority);
    tcase_add_test(tc, test_instances);
    tcase_add_test(tc, test_instance_checkers);
    tcase_add_test(tc, test_schema_upgrade);
    tcase_add_test(tc, test_iso_date);
    suite_add_tcase(s, tc);

    tc = tcase_create("permissions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_allowed_resolution);
    tcase_add_test(tc, test_allowed_experiment_shape);
    tcase_add_test(tc, test_allowed_access_all_labs);
    tcase_add_test(tc, test_allowed_group_cycle_and_tie);
    tcase_add_test(tc, test_allowed_nobody);
    tcase_add_test(tc, test_user_flags);
    suite_add_tcase(s, tc);

    tc = tcase_create("uses");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_use_start_idempotent);
    tcase_add_test(tc, test_use_start_unknown_experiment);
    tcase_add_test(tc, test_use_commands_and_files);
    tcase_add_test(tc, test_use_rows_take_the_writer_lock);
    tcase_add_test(tc, test_use_finish_idempotent);
    tcase_add_test(tc, test_uses_in_allowed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(db_suite);
}
