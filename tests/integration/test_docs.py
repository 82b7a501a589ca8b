"""The documentation keeps up with the code: every module directive is in
docs/INTERNALS.md's table, and every JSON method is listed there or in the
admin API document (as OpenIDC's check_directives.sh does for its module)."""
import re
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def directives():
    src = (TOP / "mod_weblab" / "httpd" / "weblab_config.c").read_text()
    names = set(re.findall(r'(?:AP_INIT_\w+|SECONDS)\(\s*"(Weblab\w+)"', src))
    assert len(names) >= 15        # the parser finds the table
    return names


def test_every_directive_is_documented():
    doc = (TOP / "docs" / "INTERNALS.md").read_text()
    documented = set(re.findall(r"^\| `(Weblab\w+)", doc, flags=re.M))
    assert directives() - documented == set()
    assert documented - directives() == set()     # no stale rows


def test_every_json_method_is_documented():
    src = (TOP / "mod_weblab" / "core" / "weblab_api.c").read_text()
    table = src[src.index("static const method_t methods[]"):]
    methods = set(re.findall(r'\{"(\w+)",', table[:table.index("};")]))
    assert {"login", "reserve_experiment", "get_reservation_status"} <= \
        methods
    docs = (TOP / "docs" / "INTERNALS.md").read_text() + \
        (TOP / "docs" / "admin-api.md").read_text()
    missing = {m for m in methods if "`%s`" % m not in docs}
    assert missing == set()
