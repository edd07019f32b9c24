#!/usr/bin/env python3
"""Python event-loop benchmarks: asyncio's default loop vs uvloop vs rloop
vs corio, in the same run, interleaved (each sample runs every loop once,
in a rotated order), medians and ratios vs uvloop as a markdown table.

Rows (issue 18, "Speed"): uvloop's classic echo server through streams,
protocols and raw sock_* calls, at 64 B, 1 KiB and 100 KiB messages with
several concurrent clients (the client in its own process); call_soon
throughput; create_task + await throughput; a minimal HTTP/1.1 protocol
server measured with wrk.

Pinning (2-core machine): the loop under test runs on CPU 0 and the load
generator (echo_client.py, wrk) on CPU 1, with taskset; with one CPU, or
without taskset, nothing is pinned and the table says so.

A loop that cannot be imported (rloop not installed, corio not built) is
left out with a note, not an error. `--quick` (one sample, short runs, fewer
rows) finishes in under a minute, for CI smoke use.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOOPS = ("asyncio", "uvloop", "rloop", "corio-aio", "corio")
SIZES = {"64B": 64, "1KiB": 1024, "100KiB": 102400}


def pin_prefix(cpu):
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu)]
    return []


def available(loop):
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.path.insert(0, sys.argv[1]); import looptarget; "
         "t = looptarget.load(sys.argv[2]); print(t.version())",
         os.path.join(HERE, os.pardir, "scripts"), loop],
        capture_output=True, text=True)
    if probe.returncode != 0:
        return None, probe.stderr.strip().splitlines()[-1:]
    return probe.stdout.strip(), None


def start_server(loop, kind):
    proc = subprocess.Popen(
        pin_prefix(0) + [sys.executable, os.path.join(HERE, "servers.py"),
                         loop, kind],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("port "):
        proc.kill()
        raise RuntimeError(f"{loop} {kind} server: {line!r} "
                           f"{proc.stderr.read()[-500:]}")
    port = int(line.split()[1])
    # Some loops (rloop 0.5) listen a moment after create_server returns:
    # wait until a connection is accepted before the load starts.
    deadline = time.monotonic() + 5
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"{loop} {kind} server: nothing listens "
                                   f"on {port}: {proc.stderr.read()[-300:]}")
            time.sleep(0.05)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def echo(loop, kind, size, conns, seconds):
    proc, port = start_server(loop, kind)
    try:
        out = subprocess.run(
            pin_prefix(1) + [sys.executable, os.path.join(HERE,
                                                          "echo_client.py"),
                             str(port), str(size), str(conns), str(seconds)],
            capture_output=True, text=True, timeout=seconds + 30)
        m = re.search(r"msgs (\d+) seconds ([\d.]+)", out.stdout)
        if not m:
            raise RuntimeError(f"echo client: {out.stdout} {out.stderr}")
        return int(m.group(1)) / float(m.group(2))
    finally:
        stop(proc)


def http(loop, conns, seconds):
    proc, port = start_server(loop, "http")
    try:
        out = subprocess.run(
            pin_prefix(1) + ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s",
                             f"http://127.0.0.1:{port}/"],
            capture_output=True, text=True, timeout=seconds + 30)
        m = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
        if not m:
            raise RuntimeError(f"wrk: {out.stdout} {out.stderr}")
        if "Non-2xx" in out.stdout or "Socket errors" in out.stdout:
            raise RuntimeError(f"wrk saw errors: {out.stdout}")
        return float(m.group(1))
    finally:
        stop(proc)


def micro(loop, kind, n):
    out = subprocess.run(
        pin_prefix(0) + [sys.executable, os.path.join(HERE, "servers.py"),
                         loop, kind, str(n)],
        capture_output=True, text=True, timeout=300)
    m = re.search(r"ops (\d+) seconds ([\d.e-]+)", out.stdout)
    if not m:
        raise RuntimeError(f"{loop} {kind}: {out.stdout} {out.stderr[-800:]}")
    return int(m.group(1)) / float(m.group(2))


def rows(args):
    """(row name, unit, function(loop) -> ops per second)."""
    sizes = args.sizes.split(",")
    out = []
    for kind in ("streams", "protocol", "sock"):
        for size in sizes:
            out.append((f"echo {kind} {size}", "msg/s",
                        lambda loop, k=kind, s=size: echo(
                            loop, "echo-" + k, SIZES[s], args.conns,
                            args.seconds)))
    if shutil.which("wrk"):
        out.append((f"http wrk c={args.http_conns}", "req/s",
                    lambda loop: http(loop, args.http_conns,
                                      max(1, round(args.seconds)))))
    out.append(("call_soon", "calls/s",
                lambda loop: micro(loop, "call-soon", args.calls)))
    out.append(("create_task+await", "tasks/s",
                lambda loop: micro(loop, "tasks", args.tasks)))
    if args.filter:
        out = [r for r in out if re.search(args.filter, r[0])]
    return out


def fmt(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="1 sample, short runs, 64B and 100KiB only (<60 s)")
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="duration of one echo / wrk run")
    ap.add_argument("--conns", type=int, default=8,
                    help="concurrent echo clients (connections)")
    ap.add_argument("--http-conns", type=int, default=32)
    ap.add_argument("--sizes", default="64B,1KiB,100KiB")
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--tasks", type=int, default=200_000)
    ap.add_argument("--loops", default=",".join(LOOPS))
    ap.add_argument("--filter", help="regex: only rows whose name matches")
    ap.add_argument("--out", help="also write the markdown table here")
    args = ap.parse_args()
    if args.quick:
        args.samples, args.seconds = 1, 0.5
        args.sizes, args.calls, args.tasks = "64B,100KiB", 200_000, 50_000

    loops, notes = [], []
    for loop in args.loops.split(","):
        version, why = available(loop)
        if version is None:
            notes.append(f"{loop} left out: {' '.join(why)}")
        else:
            loops.append((loop, version))
    if shutil.which("wrk") is None:
        notes.append("wrk not found: the http row is left out")
    table = rows(args)
    results = {(r[0], l): [] for r in table for l, _ in loops}
    t0 = time.monotonic()
    for sample in range(args.samples):
        for i, (name, _unit, fn) in enumerate(table):
            order = loops[(sample + i) % len(loops):] + \
                loops[:(sample + i) % len(loops)]
            for loop, _v in order:
                try:
                    results[(name, loop)].append(fn(loop))
                except Exception as e:  # a failed row is reported, not fatal
                    notes.append(f"{name} on {loop}: {e}"[:300])
        print(f"sample {sample + 1}/{args.samples} done "
              f"({time.monotonic() - t0:.0f}s)", file=sys.stderr, flush=True)

    pinned = "server/loop on CPU 0, load generator on CPU 1 (taskset)" \
        if pin_prefix(0) else "not pinned"
    names = [l for l, _ in loops]
    lines = [
        f"Medians of {args.samples} interleaved sample(s); "
        f"{args.conns} echo connections, wrk -t1 -c{args.http_conns}, "
        f"{args.seconds:g} s per run; {pinned}; Python "
        f"{sys.version.split()[0]}; " + ", ".join(
            f"{l} {v}" for l, v in loops) + ".", "",
        "| row | " + " | ".join(names) + " | " + " | ".join(
            f"{l}/uvloop" for l in names if l != "uvloop") + " |",
        "|---|" + "---:|" * (2 * len(names) - ("uvloop" in names)),
    ]
    for name, unit, _fn in table:
        med = {l: statistics.median(results[(name, l)])
               if results[(name, l)] else None for l in names}
        cells = [fmt(med[l]) + f" {unit}" if med[l] else "—" for l in names]
        base = med.get("uvloop")
        ratios = [f"{med[l] / base:.2f}x" if base and med[l] else "—"
                  for l in names if l != "uvloop"]
        lines.append(f"| {name} | " + " | ".join(cells + ratios) + " |")
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")


if __name__ == "__main__":
    main()
