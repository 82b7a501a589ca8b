"""The administration's JSON methods (admin_*, docs/admin-api.md) through a
real front and core: every one refuses an anonymous caller
(Client.SessionNotFound) and a student (Server.WebLab "Permission denied",
changing nothing), and works for an administrator; instructors see the uses
of their groups' members only.

Run with Debian's python: /usr/bin/python3 -m pytest -q tests/integration/test_admin_api.py
"""
import csv
import io
import re
import urllib.request

import pytest

from deploy import Deployment, have_experiment_server, have_module
from wlclient import Student, WebLabError

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server()),
    reason="mod_weblab.so or experiment_server is not built yet")

EXP = "dummy@Dummy experiments"

# Every admin method with parameters that work for an administrator, in an
# order where each call's preconditions hold; check(result) must be true.
ADMIN_CALLS = [
    ("admin_whoami", {}, lambda r: r["login"] == "admin" and r["is_admin"]),
    ("admin_list_users", {},
     lambda r: any(u["login"] == "student1" and u["groups"] == ["Students"]
                   and u["password"] == "bcrypt" for u in r)),
    ("admin_add_group", {"name": "Course A", "parent": "Students"},
     lambda r: r == {}),
    ("admin_list_groups", {},
     lambda r: {"name": "Course A", "parent": "Students", "members": []}
     in r),
    ("admin_add_user", {"login": "ana", "full_name": "Ana Pérez",
                        "email": "ana@example.org", "password": "s3cret",
                        "groups": ["Course A"]}, lambda r: r == {}),
    ("admin_add_users_csv",
     {"csv": "login,full name,email,password\r\nbea,\"Bea, B.\",,pw1\r\n"
             "# a comment\r\ncarl,Carl C,carl@example.org,pw2\r\n",
      "group": "Course A"}, lambda r: r == {"added": 2}),
    ("admin_edit_user", {"login": "bea", "full_name": "Bea Bravo",
                         "role": "instructor"}, lambda r: r == {}),
    ("admin_set_password", {"login": "carl", "password": "newpw"},
     lambda r: r == {}),
    ("admin_set_disabled", {"login": "carl", "disabled": True},
     lambda r: r == {}),
    ("admin_add_group_member", {"group": "Students", "login": "carl"},
     lambda r: r == {}),
    ("admin_remove_group_member", {"group": "Students", "login": "carl"},
     lambda r: r == {}),
    ("admin_grant", {"scope": "user", "who": "ana", "experiment": EXP,
                     "time_allowed": 150, "priority": 2},
     lambda r: r == {"updated": False}),
    ("admin_revoke", {"scope": "user", "who": "ana", "exp_name": "dummy",
                      "cat_name": "Dummy experiments"}, lambda r: r == {}),
    ("admin_grant_instructor", {"login": "bea", "group": "Course A"},
     lambda r: r == {}),
    ("admin_revoke_instructor", {"login": "bea", "group": "Course A"},
     lambda r: r == {}),
    ("admin_list_permissions", {},
     lambda r: any(p["type"] == "experiment_allowed" and p["who"] == "Students"
                   and p["params"]["time_allowed"] == "200" for p in r)),
    ("admin_add_experiment", {"exp_name": "robot", "cat_name": "Robots",
                              "client": "js",
                              "params": {"html.file": "robot.html",
                                         "builtin": False, "height": 600}},
     lambda r: r == {}),
    ("admin_list_experiments", {},
     lambda r: any(e["name"] == "robot" and e["params"]["height"]
                   == {"type": "integer", "value": "600"} for e in r)),
    ("admin_add_instance", {"experiment": "robot@Robots", "instance": "robot1",
                            "url": "http://127.0.0.1:9/",
                            "resource": "robot1@robot_queue",
                            "checkers": [{"type": "host",
                                          "target": "127.0.0.1:9"}]},
     lambda r: r == {}),
    ("admin_set_instance_checkers",
     {"experiment": "robot@Robots", "instance": "robot1",
      "checkers": [{"type": "webcam", "timeout": 2,
                    "target": "http://cam:pw@127.0.0.1:9/x.jpg"},
                   {"type": "host", "target": "127.0.0.1:9"}]},
     lambda r: r == {}),
    ("admin_list_instances", {},
     lambda r: any(i["instance"] == "robot1"
                   and i["resource_type"] == "robot_queue"
                   # a password in a checker's URL is not sent
                   and i["checkers"] == [
                       {"type": "webcam", "timeout": 2.0,
                        "target": "http://cam:***@127.0.0.1:9/x.jpg"},
                       {"type": "host", "target": "127.0.0.1:9",
                        "timeout": 10.0}] for i in r)
     and any(i["instance"] == "exp1" and i["checkers"] == [] for i in r)),
    ("admin_remove_instance", {"experiment": "robot@Robots",
                               "instance": "robot1"}, lambda r: r == {}),
    ("admin_remove_experiment", {"experiment": "robot@Robots"},
     lambda r: r == {}),
    ("admin_list_uses", {}, lambda r: r["total"] >= 1
     and r["uses"][0]["login"] == "student1"),
    ("admin_get_use", {"id": 1},
     lambda r: any(i["command"] == "hello" and
                   i["response"] == "Received command: hello"
                   for i in r["interactions"])),
    ("admin_export_uses", {"login": "student1"},
     lambda r: r["csv"].startswith("id,login,experiment") and r["count"] >= 1),
    ("admin_live_status", {},
     lambda r: isinstance(r["instances"], list) and r["waiting"] == []),
    ("admin_remove_user", {"login": "bea"}, lambda r: r == {}),
    ("admin_remove_group", {"name": "Course A"}, lambda r: r == {}),
]


@pytest.fixture(scope="module")
def dep():
    d = Deployment.create(front=True, extra=["--add-test-data"])
    try:
        d.start()
        # one use in the log for the uses methods
        s = Student(d.base(0))
        s.login("student1", "password")
        s.reserve()
        s.wait_status("Reservation::confirmed")
        s.command("hello")
        s.finish()
        s.wait_status("Reservation::post_reservation")
        yield d
    finally:
        d.remove()


def login(d, user, password="password"):
    s = Student(d.base(0))
    s.login(user, password)
    return s


def refused(client, method, params):
    with pytest.raises(WebLabError) as e:
        client.call(method, params)
    return e.value


def test_every_admin_method_is_tested(dep):
    """The method page lists exactly the admin methods tested here."""
    with urllib.request.urlopen(dep.base(0) + "/weblab/json/") as r:
        page = r.read().decode()
    served = set(re.findall(r"<code>(admin_\w+)</code>", page))
    assert served == {m for m, _, _ in ADMIN_CALLS}


@pytest.mark.parametrize("method,params", [(m, p) for m, p, _ in ADMIN_CALLS])
def test_anonymous_caller_is_refused(dep, method, params):
    e = refused(Student(dep.base(0)), method, params)
    assert (e.code, e.message) == ("JSON:Client.SessionNotFound",
                                   "Core Users session not found")


@pytest.mark.parametrize("method,params",
                         [(m, p) for m, p, _ in ADMIN_CALLS
                          if m != "admin_whoami"])
def test_student_is_refused(dep, method, params):
    e = refused(login(dep, "student2"), method, params)
    assert e.code == "JSON:Server.WebLab"
    assert e.message.startswith("Permission denied: %s is for " % method)


def test_refused_calls_change_nothing(dep):
    student = login(dep, "student3")
    refused(student, "admin_add_user", {"login": "mallory", "password": "x"})
    refused(student, "admin_grant", {"scope": "user", "who": "student3",
                                     "experiment": EXP, "time_allowed": 9999})
    refused(student, "admin_set_disabled", {"login": "admin",
                                            "disabled": True})
    assert dep.db_query('SELECT COUNT(*) FROM "User" WHERE login = ?',
                        ["mallory"]) == [[0]]
    assert dep.db_query("SELECT COUNT(*) FROM UserPermission") == [[0]]
    assert dep.db_query('SELECT disabled FROM "User" WHERE login = ?',
                        ["admin"]) == [[0]]
    assert student.call("admin_whoami") == {
        "login": "student3", "full_name": "Name of student 3",
        "is_admin": False, "is_instructor": False, "instructor_of": []}


def test_admin_methods_work_for_an_administrator(dep):
    admin = login(dep, "admin")
    for method, params, check in ADMIN_CALLS:
        result = admin.call(method, params)
        assert check(result), (method, result)
    # what the calls did, seen by the people concerned
    ana = login(dep, "ana", "s3cret")
    assert ana.call("list_experiments") == []       # granted, then revoked
    with pytest.raises(WebLabError) as e:
        login(dep, "carl", "newpw")                 # disabled
    assert e.value.code == "JSON:Client.InvalidCredentials"
    rows = dep.db_query('SELECT full_name FROM "User" WHERE login = ?',
                        ["bea"])
    assert rows == []                               # removed


def test_admin_input_errors_are_explained(dep):
    admin = login(dep, "admin")
    cases = [
        ("admin_add_user", {"login": "admin", "password": "x"},
         "user 'admin' already exists"),
        ("admin_add_user", {"login": "bad;login", "password": "x"}, "';'"),
        ("admin_grant", {"scope": "team", "who": "x", "experiment": EXP,
                         "time_allowed": 1}, "must be user, group or role"),
        ("admin_grant", {"scope": "user", "who": "nobody", "experiment": EXP,
                         "time_allowed": 10}, "unknown user 'nobody'"),
        ("admin_grant", {"scope": "user", "who": "student1",
                         "experiment": EXP}, "time_allowed"),
        ("admin_add_users_csv", {"csv": "zed,Zed,,pw\nzed2,only two\n"},
         "line 2"),
        ("admin_list_uses", {"from": "yesterday"}, "is not a date"),
        ("admin_get_use", {"id": 999999}, "There is no use 999999"),
        ("admin_set_disabled", {"login": "admin", "disabled": True},
         "cannot disable yourself"),
        ("admin_set_instance_checkers",
         {"experiment": EXP, "instance": "exp1",
          "checkers": [{"type": "ping", "target": "127.0.0.1:9"}]},
         "unknown checker type 'ping' (host, webcam or web)"),
        ("admin_set_instance_checkers",
         {"experiment": EXP, "instance": "exp1",
          "checkers": [{"type": "host", "target": "127.0.0.1"}]},
         "must look like HOST:PORT"),
        ("admin_set_instance_checkers",
         {"experiment": EXP, "instance": "exp1", "checkers": "host"},
         "must be a list of"),
        ("admin_set_instance_checkers", {"experiment": EXP,
                                         "instance": "exp1"},
         "'checkers' is required"),
        ("admin_set_instance_checkers",
         {"experiment": EXP, "instance": "exp9", "checkers": []},
         "unknown instance 'exp9'"),
        ("admin_add_instance",
         {"experiment": EXP, "instance": "exp9", "url": "http://127.0.0.1:9/",
          "checkers": [{"type": "web", "target": "ftp://x/"}]},
         "must start with http:// or https://"),
    ]
    for method, params, words in cases:
        e = refused(admin, method, params)
        assert e.code == "JSON:Server.WebLab", (method, e)
        assert words in e.message, (method, e.message)
    # the bad CSV added nobody (all or nothing)
    assert dep.db_query('SELECT COUNT(*) FROM "User" WHERE login = ?',
                        ["zed"]) == [[0]]
    # an instance with a bad checker is not added either
    assert dep.db_query("SELECT COUNT(*) FROM ExperimentInstance WHERE"
                        " instance_name = 'exp9'") == [[0]]
    assert dep.db_query("SELECT COUNT(*) FROM ExperimentInstanceChecker"
                        " k JOIN ExperimentInstance i ON i.id ="
                        " k.instance_id WHERE i.instance_name = 'exp1'") \
        == [[0]]


def test_uses_filters_and_csv(dep):
    admin = login(dep, "admin")
    every = admin.call("admin_list_uses")
    assert every["total"] == len(every["uses"]) >= 1
    use = every["uses"][-1]
    assert set(use) == {"id", "login", "experiment", "category", "start_date",
                        "end_date", "origin", "lab", "commands", "files",
                        "finish_reason"}
    day = use["start_date"][:10]
    for params, expect in [
            ({"login": "student1"}, True), ({"login": "admin"}, False),
            ({"group": "Students"}, True), ({"group": "Administrators"}, False),
            ({"exp_name": "dummy", "cat_name": "Dummy experiments"}, True),
            ({"from": day, "to": day}, True), ({"to": "2000-01-01"}, False),
            ({"from": "2999-01-01"}, False)]:
        ids = [u["id"] for u in admin.call("admin_list_uses", params)["uses"]]
        assert (use["id"] in ids) == expect, params
    page = admin.call("admin_list_uses", {"limit": 1, "offset": 0})
    assert len(page["uses"]) == 1 and page["total"] == every["total"]
    doc = admin.call("admin_export_uses", {"login": "student1"})
    rows = list(csv.reader(io.StringIO(doc["csv"])))
    assert rows[0] == ["id", "login", "experiment", "category", "start_date",
                       "end_date", "origin", "lab", "commands", "files",
                       "finish_reason"]
    assert rows[-1][1:4] == ["student1", "dummy", "Dummy experiments"]
    assert rows[-1][10] == "finished"


def test_instructor_sees_the_uses_of_its_groups_only(dep):
    admin = login(dep, "admin")
    admin.call("admin_add_group", {"name": "Lab B"})
    admin.call("admin_add_user", {"login": "teacher", "password": "tpw",
                                  "role": "student"})
    admin.call("admin_add_user", {"login": "pupil", "password": "ppw",
                                  "groups": ["Lab B"]})
    admin.call("admin_grant", {"scope": "group", "who": "Lab B",
                               "experiment": EXP, "time_allowed": 60})
    teacher = login(dep, "teacher", "tpw")
    # not an instructor yet: refused
    assert refused(teacher, "admin_list_uses", {}).message.startswith(
        "Permission denied")
    admin.call("admin_grant_instructor", {"login": "teacher",
                                          "group": "Lab B"})
    me = teacher.call("admin_whoami")
    assert me["is_instructor"] and not me["is_admin"]
    assert me["instructor_of"] == ["Lab B"]
    assert teacher.call("admin_list_uses") == {"uses": [], "total": 0,
                                               "offset": 0, "limit": 1000}
    pupil = login(dep, "pupil", "ppw")
    pupil.reserve()
    pupil.wait_status("Reservation::confirmed")
    pupil.finish()
    pupil.wait_status("Reservation::post_reservation")
    seen = teacher.call("admin_list_uses")
    assert [u["login"] for u in seen["uses"]] == ["pupil"]
    assert teacher.call("admin_get_use", {"id": seen["uses"][0]["id"]})[
        "login"] == "pupil"
    other = admin.call("admin_list_uses", {"login": "student1"})["uses"][0]
    e = refused(teacher, "admin_get_use", {"id": other["id"]})
    assert "no use" in e.message
    # another group's filter gives nothing, the export too
    assert teacher.call("admin_list_uses", {"group": "Students"})["total"] == 0
    assert teacher.call("admin_export_uses")["count"] == 1
    # the rest stays for administrators
    for method in ("admin_list_users", "admin_live_status", "admin_grant"):
        assert refused(teacher, method, {}).message.startswith(
            "Permission denied")
