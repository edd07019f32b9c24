#!/usr/bin/env python3
"""Run uvloop's own test suite, from its sdist downloaded at test time,
against corio's event loop (or asyncio's, uvloop's, rloop's: $CORIO_PY_LOOP
or --target), and print pass/fail/skip counts per test file.

Nothing of uvloop's suite is kept in this repository: the sdist (pinned
version and sha256) is fetched with pip into the cache folder, its tests/
and uvloop/_testbase.py are unpacked there, and the shim in
tests/uvloop/shim (a stand-in `uvloop` package) points the suite's
`UVTestCase` at the loop under test. tests/uvloop/not_applicable.txt says
which tests cannot apply to a loop other than uvloop, and why;
tests/uvloop/known_failures.txt lists the gaps of corio's loop.

Each test file runs in its own pytest process with a per-test timeout
(pytest-timeout, signal method) and a per-file wall-clock limit; a file
whose process hangs anyway is killed, the test it was in is recorded as
hung, and the file resumes after it. Exit status: 0 when every test passed,
was skipped by the suite itself, or is a listed known failure.

Run it through scripts/uvloop_tests.sh, which makes the virtualenv and
builds corio; this script expects pytest, pytest-timeout and the target
loop importable by the running interpreter.
"""

import argparse
import collections
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(CRATE))
SHIM_DIR = os.path.join(CRATE, "tests", "uvloop")

UVLOOP_VERSION = "0.23.0"
SHA256 = {
    "0.23.0": "28d160f51ab4da3b187063652e643dea6831072add4adc1e6d62afbe73b6be27",
    "0.21.0": "3bf12b0fda68447806a7ad847bfa591613177275d35b6724b1ee573faa3704e3",
}
OUTCOMES = ("passed", "failed", "error", "hung", "skipped", "xfailed",
            "xpassed", "not_applicable")


def default_cache():
    return os.environ.get("CORIO_PY_HARNESS_DIR") or os.path.join(
        REPO, "target", "corio-py-harness")


def fetch_sdist(version, cache):
    """The unpacked sdist folder, downloading it with pip if needed."""
    dest = os.path.join(cache, f"uvloop-{version}")
    marker = os.path.join(dest, ".complete")
    if os.path.exists(marker):
        return dest
    dl = os.path.join(cache, "downloads")
    os.makedirs(dl, exist_ok=True)
    archive = os.path.join(dl, f"uvloop-{version}.tar.gz")
    if not os.path.exists(archive):
        # The ordinary client, from the configured index; --no-binary for
        # uvloop only (its build dependencies come as wheels: seconds, not
        # minutes to build Cython).
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet",
                        "--no-deps", "--no-binary", "uvloop",
                        f"uvloop=={version}", "-d", dl], check=True)
    digest = hashlib.sha256(open(archive, "rb").read()).hexdigest()
    want = SHA256.get(version)
    if want and digest != want:
        os.unlink(archive)
        sys.exit(f"uvloop-{version}.tar.gz: sha256 {digest}, want {want}")
    if not want:
        print(f"note: no pinned sha256 for uvloop {version} ({digest})")
    shutil.rmtree(dest, ignore_errors=True)
    prefix = f"uvloop-{version}/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers()
                   if m.name.startswith(prefix + "tests/")
                   or m.name == prefix + "uvloop/_testbase.py"]
        for m in members:
            if not (m.isfile() or m.isdir()):
                continue
            m.name = m.name[len(prefix):]
            tar.extract(m, dest)
    open(marker, "w").close()
    return dest


def whole_files_not_applicable(target):
    """{file: reason} of the files not_applicable.txt lists whole."""
    if target == "uvloop":
        return {}
    out = {}
    with open(os.path.join(SHIM_DIR, "not_applicable.txt")) as f:
        for line in f:
            test_id, _, reason = line.partition("#")
            test_id = test_id.strip()
            if test_id.endswith(".py") and "::" not in test_id:
                out[test_id] = reason.strip()
    return out


def read_results(path):
    """Final outcome per test id, and the id of a test started, not ended."""
    final, started = {}, None
    if not os.path.exists(path):
        return final, None
    rank = {o: i for i, o in enumerate(
        ("passed", "xpassed", "skipped", "xfailed", "not_applicable",
         "failed", "error", "hung"))}
    for line in open(path, encoding="utf-8"):
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill
        if rec["outcome"] == "start":
            started = rec["id"]
            continue
        if rec["id"] == started:
            started = None
        old = final.get(rec["id"])
        if old is None or rank[rec["outcome"]] >= rank[old["outcome"]]:
            final[rec["id"]] = rec
    return final, started


def run_file(args, sdist, test_file, env, results):
    """Run one test file to the end, resuming after tests that hang."""
    hung = []
    env = dict(env, CORIO_UVLOOP_RESULTS=results)
    for _attempt in range(20):
        final, _ = read_results(results)
        cmd = [sys.executable, "-m", "pytest", "-p", "corio_uvloop_plugin",
               "-p", "no:cacheprovider", "-q", "-s", "--no-header", "-rN",
               f"--timeout={args.timeout}", "--timeout-method=signal",
               "--rootdir", os.path.join(sdist, "tests"), test_file]
        for test_id in list(final) + hung:
            cmd += ["--deselect", test_id]
        if args.k:
            cmd += ["-k", args.k]
        with open(results + ".log", "a") as log:
            proc = subprocess.Popen(cmd, cwd=os.path.join(sdist, "tests"),
                                    env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            rc = watch(proc, results, args)
            kill_group(proc)  # what the tests left running
            if rc is not None:
                return rc
        final, started = read_results(results)
        if started is None:
            print(f"  {test_file}: killed, not inside a test")
            return -1
        print(f"  {test_file}: {started} hung; resuming after it")
        with open(results, "a", encoding="utf-8") as f:
            f.write(json.dumps({"id": started, "outcome": "hung",
                                "message": "no result in "
                                f"{args.hang}s (killed)"}) + "\n")
        hung.append(started)
    return -1


def watch(proc, results, args):
    """Wait for pytest; None if it was killed for hanging: no new result
    line for --hang seconds (a test that pytest-timeout could not stop), or
    over --file-timeout in all."""
    start = time.monotonic()
    while True:
        try:
            return proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        try:
            idle = time.time() - os.path.getmtime(results)
        except OSError:
            idle = now - start
        if idle > args.hang or now - start > args.file_timeout:
            kill_group(proc)
            proc.wait()
            return None


def kill_group(proc):
    try:
        os.killpg(proc.pid, 9)
    except OSError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default=os.environ.get("CORIO_PY_LOOP",
                                                       "corio"),
                    choices=("corio", "asyncio", "uvloop", "rloop"))
    ap.add_argument("--uvloop-version", default=UVLOOP_VERSION)
    ap.add_argument("--cache", default=default_cache())
    ap.add_argument("--timeout", type=int, default=60,
                    help="seconds per test (pytest-timeout)")
    ap.add_argument("--hang", type=int, default=90,
                    help="seconds without a test result before the file's "
                    "process is killed and the test in flight recorded hung")
    ap.add_argument("--file-timeout", type=int, default=1800,
                    help="wall-clock seconds per test file process")
    ap.add_argument("-k", help="pytest -k expression")
    ap.add_argument("--out", help="write the markdown summary here too")
    ap.add_argument("files", nargs="*",
                    help="test files (test_tcp.py ...); default all")
    args = ap.parse_args()
    # A shell's background job starts with SIGINT ignored, and an ignored
    # signal stays ignored across exec: the tests that send SIGINT to a
    # child Python would see no KeyboardInterrupt. A handler (not SIG_IGN)
    # is reset to the default on exec.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Likewise SIGHUP under nohup: test_send_signal's child must die of it.
    for name in ("SIGHUP", "SIGTERM", "SIGQUIT", "SIGUSR1", "SIGUSR2"):
        if signal.getsignal(getattr(signal, name)) == signal.SIG_IGN:
            signal.signal(getattr(signal, name), signal.SIG_DFL)

    sdist = fetch_sdist(args.uvloop_version, args.cache)
    tests_dir = os.path.join(sdist, "tests")
    files = args.files or sorted(
        f for f in os.listdir(tests_dir)
        if f.startswith("test_") and f.endswith(".py"))

    env = dict(os.environ)
    env["CORIO_PY_LOOP"] = args.target
    env["CORIO_UVLOOP_TESTBASE"] = os.path.join(sdist, "uvloop",
                                                "_testbase.py")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    path = [SHIM_DIR]
    if args.target != "uvloop":
        path.insert(0, os.path.join(SHIM_DIR, "shim"))
    env["PYTHONPATH"] = os.pathsep.join(
        path + [p for p in [os.environ.get("PYTHONPATH")] if p])

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = os.path.join(args.cache, "runs", f"{args.target}-{stamp}")
    os.makedirs(out_dir, exist_ok=True)
    print(f"uvloop {args.uvloop_version} suite against {args.target}, "
          f"Python {sys.version.split()[0]}; logs in {out_dir}")

    table = collections.OrderedDict()
    problems = []
    t_all = time.monotonic()
    skip_files = whole_files_not_applicable(args.target)
    for test_file in files:
        results = os.path.join(out_dir, test_file + ".jsonl")
        if test_file in skip_files:
            # Not even imported (some import uvloop's Cython internals).
            table[test_file] = collections.Counter(not_applicable=1)
            print(f"  {test_file:28s} not applicable (whole file): "
                  f"{skip_files[test_file]}")
            continue
        t0 = time.monotonic()
        rc = run_file(args, sdist, test_file, env, results)
        final, _ = read_results(results)
        counts = collections.Counter(r["outcome"] for r in final.values())
        if rc not in (0, 1, 5) and not final:
            counts["error"] += 1
            problems.append((f"{test_file}", "error",
                             f"pytest exit {rc}; see {results}.log"))
        table[test_file] = counts
        for rec in final.values():
            if rec["outcome"] in ("failed", "error", "hung", "xpassed"):
                problems.append((rec["id"], rec["outcome"],
                                 rec.get("message", "")))
        print(f"  {test_file:28s} " + " ".join(
            f"{o}={counts[o]}" for o in OUTCOMES if counts[o]) +
              f"  ({time.monotonic() - t0:.0f}s)", flush=True)

    lines = [f"uvloop {args.uvloop_version} test suite, `Test_UV_*` side, "
             f"against **{args.target}** (Python {sys.version.split()[0]}, "
             f"{time.monotonic() - t_all:.0f}s)", "",
             "| file | " + " | ".join(OUTCOMES) + " |",
             "|---|" + "---:|" * len(OUTCOMES)]
    total = collections.Counter()
    for test_file, counts in table.items():
        total.update(counts)
        lines.append(f"| {test_file} | " + " | ".join(
            str(counts[o] or "") for o in OUTCOMES) + " |")
    lines.append("| **total** | " + " | ".join(
        f"**{total[o]}**" for o in OUTCOMES) + " |")
    if problems:
        lines += ["", "Failures, errors, hangs, and known failures that now "
                  "pass (XPASS: remove them from the list):", ""]
        lines += [f"- `{i}` **{o}**: {m}" for i, o, m in problems]
    report = "\n".join(lines)
    print("\n" + report)
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(report + "\n")
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
    bad = total["failed"] + total["error"] + total["hung"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
