"""The asyncio documentation's examples, verbatim, on asyncio's default loop
and on the loop under test ($CORIO_PY_LOOP, default corio): each must print
the same story on both (after masking clock times, dates, ports, pids), end
the same way, and really run on the loop it was given.

The examples are read from the Python docs' sources at test time
(docs_source.py); run_example.py runs one of them (with its server, for the
client/server pairs) on one loop, in a network namespace of its own when
this process may make one (root: `unshare -n`).
"""

import functools
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import docs_source  # noqa: E402

sys.path.pop(0)

TARGET = os.environ.get("CORIO_PY_LOOP") or "corio"
REPO = os.path.abspath(os.path.join(HERE, *[os.pardir] * 4))
CACHE = os.environ.get("CORIO_PY_HARNESS_DIR") or os.path.join(
    REPO, "target", "corio-py-harness")
SERVER_PORTS = {"streams_echo_server": "tcp:8888",
                "protocol_tcp_echo_server": "tcp:8888",
                "protocol_udp_echo_server": "udp:9999"}


@functools.lru_cache(maxsize=None)
def examples_dir():
    """The examples written out as programs, once per session."""
    src = docs_source.sources_dir(CACHE)
    out = os.path.join(CACHE, "docs-examples")
    os.makedirs(out, exist_ok=True)
    for ex in docs_source.EXAMPLES:
        for e in [ex] + ([ex.server] if ex.server else []):
            with open(os.path.join(out, e.name + ".py"), "w") as f:
                f.write(docs_source.source(src, e))
    return out


@functools.lru_cache(maxsize=None)
def netns_prefix():
    """`unshare -n` plus bringing up lo, if this process may do it."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return []
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        return []
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


def run(example, target):
    cmd = [sys.executable, os.path.join(HERE, "run_example.py"), target,
           examples_dir(), example.name, "--timeout", str(example.timeout)]
    if example.server:
        cmd += ["--server", example.server.name,
                "--wait", SERVER_PORTS[example.server.name]]
    if example.signal_after:
        cmd += ["--signal-after", *example.signal_after]
    proc = subprocess.run(netns_prefix() + cmd, capture_output=True,
                          text=True, timeout=example.timeout * 2 + 30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def story(result, example):
    """What is compared: masked stdout (the server's too), how it ended,
    and the last line of stderr (the exception an example ends with)."""
    masks = example.masks
    err = [l for l in result["stderr"].strip().splitlines() if l.strip()]
    return {
        "stdout": docs_source.mask(result["stdout"], masks),
        "server_stdout": docs_source.mask(result.get("server_stdout", ""),
                                          masks),
        "returncode": result["returncode"],
        "timed_out": result["timed_out"],
        "stderr_last": docs_source.mask(err[-1], masks) if err else "",
    }


@pytest.mark.parametrize("example", docs_source.EXAMPLES,
                         ids=[e.name for e in docs_source.EXAMPLES])
def test_docs_example(example):
    expected = run(example, "asyncio")
    assert not expected["timed_out"], expected
    assert expected["loops"], "asyncio's loop was never made"
    got = run(example, TARGET)
    want_loop = {"corio": "corio", "uvloop": "uvloop", "rloop": "rloop",
                 "asyncio": "asyncio"}[TARGET]
    assert got["loops"], (f"the example made no loop through the policy on "
                          f"{TARGET}; stderr:\n{got['stderr']}")
    assert all(l.split(".")[0].startswith(want_loop) for l in got["loops"]), \
        got["loops"]
    assert story(got, example) == story(expected, example), \
        f"{TARGET} stderr:\n{got['stderr']}"
