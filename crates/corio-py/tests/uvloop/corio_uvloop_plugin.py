"""pytest plugin for running uvloop's test suite against another loop
(loaded with ``-p corio_uvloop_plugin`` by scripts/uvloop_suite.py).

- Runs only the tests of the loop under test: the ``Test_UV_*`` side of each
  pair (every class whose name has no ``AIO``; the ``AIO`` classes test
  asyncio's own loop and stay as uvloop wrote them).
- Deselects the tests listed in not_applicable.txt (never for the uvloop
  target: uvloop's own suite applies to uvloop whole).
- Marks the tests in known_failures.txt (for corio; known_failures.<target>.txt
  for the other targets) as non-strict xfail, with the listed reason, so a
  known gap does not fail the run and a fixed one shows as XPASS.
- Appends one JSON line per test event to $CORIO_UVLOOP_RESULTS (flushed at
  once), so a run killed on a hang still says what passed and what hung.

List format, one test per line: ``<id>  # <reason>``, where <id> is a pytest
node id relative to uvloop's tests/ folder (``test_tcp.py::Test_UV_TCP::test_x``)
or a prefix of one (``test_tcp.py::Test_UV_TCP``, ``test_libuv_api.py``).
A reason is required: an entry without one is an error.
"""

import json
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_list(path):
    """{id: reason} from a not_applicable / known_failures file."""
    entries = {}
    if not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            test_id, sep, reason = line.partition("#")
            test_id, reason = test_id.strip(), reason.strip()
            if not sep or not reason or " " in test_id:
                raise pytest.UsageError(
                    f"{path}:{lineno}: want '<test id>  # <reason>': {raw!r}")
            if test_id in entries:
                raise pytest.UsageError(f"{path}:{lineno}: {test_id} twice")
            entries[test_id] = reason
    return entries


def match(nodeid, entries):
    """The entry that names this test or a file/class prefix of it."""
    parts = nodeid.split("::")
    for i in range(len(parts), 0, -1):
        key = "::".join(parts[:i])
        if key in entries:
            return key
    return None


def target():
    return os.environ.get("CORIO_PY_LOOP") or "corio"


def not_applicable():
    if target() == "uvloop":
        return {}
    return parse_list(os.path.join(HERE, "not_applicable.txt"))


def known_failures():
    name = "known_failures.txt" if target() == "corio" else \
        f"known_failures.{target()}.txt"
    return parse_list(os.path.join(HERE, name))


class _Results:
    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8") if path else None

    def write(self, **rec):
        if self.f:
            self.f.write(json.dumps(rec) + "\n")
            self.f.flush()


_results = _Results(os.environ.get("CORIO_UVLOOP_RESULTS"))


def pytest_ignore_collect(collection_path, config):
    # Whole files listed as not applicable are not even imported (some import
    # uvloop's Cython internals at module level).
    na = not_applicable()
    if collection_path.suffix == ".py" and collection_path.name in na:
        return True
    return None


def pytest_collection_modifyitems(session, config, items):
    na, known = not_applicable(), known_failures()
    keep, drop = [], []
    for item in items:
        cls = getattr(item, "cls", None)
        if cls is not None and "AIO" in cls.__name__:
            drop.append(item)
            continue
        key = match(item.nodeid, na)
        if key is not None:
            _results.write(id=item.nodeid, outcome="not_applicable",
                           reason=na[key])
            drop.append(item)
            continue
        key = match(item.nodeid, known)
        if key is not None:
            item.add_marker(pytest.mark.xfail(reason=known[key], strict=False))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


def pytest_runtest_logstart(nodeid, location):
    _results.write(id=nodeid, outcome="start")


def _message(report):
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.splitlines()[0][:300] if crash.message else ""
    if isinstance(report.longrepr, tuple):  # skip: (file, line, reason)
        return str(report.longrepr[2])[:300]
    return str(report.longrepr or "").strip().splitlines()[-1:][0][:300] \
        if report.longrepr else ""


def pytest_runtest_logreport(report):
    xfail = hasattr(report, "wasxfail")
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            outcome = "xpassed" if xfail else "passed"
        elif report.skipped:
            outcome = "xfailed" if xfail else "skipped"
        else:
            outcome = "failed" if report.when == "call" else "error"
        _results.write(id=report.nodeid, outcome=outcome,
                       duration=round(report.duration, 3),
                       message=_message(report) if outcome != "passed" else "")
    elif report.when == "teardown" and report.failed:
        _results.write(id=report.nodeid, outcome="error",
                       message="teardown: " + _message(report))
