"""The experiment servers' own view of a run: weblab-admin can start them
with -v (every call logged), and their logs show whether a lab was ever
started twice without a dispose in between (two holders at once)."""
import re
import subprocess


def verbose_labs(d):
    """Make weblab-admin start d's experiment servers with -v, by editing
    DIR/weblab.conf as its owner (before start)."""
    subprocess.run(["/usr/bin/python3", "-c",
                    "import re, sys; p = sys.argv[1]; t = open(p).read();"
                    " open(p, 'w').write(re.sub(r'(lab\\.\\w+\\.command = .*)',"
                    " r'\\1 -v', t))", str(d.path / "weblab.conf")],
                   check=True, user=d.owner()[0], group=d.owner()[1],
                   extra_groups=[])


def assert_one_holder_at_a_time(d, labs, starts):
    """After d.stop() (the logs are flushed on exit): every lab's calls
    alternate start_experiment, dispose, ...; `starts` starts in all."""
    logs = [f for f in d.path.glob("logs/exp*.log")
            if re.match(r"^exp\d+\.log$", f.name)]
    assert len(logs) == labs
    total = 0
    for log in logs:
        calls = re.findall(r"call Util\.(start_experiment|dispose)",
                           log.read_text())
        for a, b in zip(calls, calls[1:]):
            assert a != b, "%s: two %s in a row" % (log.name, a)
        assert calls and calls[0] == "start_experiment"
        assert calls.count("start_experiment") == len(calls) / 2
        total += len(calls) // 2
    assert total == starts
