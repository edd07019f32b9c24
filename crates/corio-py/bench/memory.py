#!/usr/bin/env python3
"""Memory per pending timer and per idle connection, per loop (issue 18:
"1M pending call_later handles and 100k idle sockets cost no more than on
uvloop"): asyncio's default loop, uvloop, rloop and corio, each in a fresh
interpreter per measurement, samples interleaved, medians reported.

  handles N   N x loop.call_later(3600 + i us, f) left pending; the RSS
              growth of the process over N.
  conns N     a Protocol server (loop.create_server, the protocol keeps its
              transport, as servers do) holding N idle connected TCP
              sockets; the clients are other processes, so the RSS growth
              of the server process alone, over N. The server listens on
              one port per 20,000 connections (the ephemeral port range
              bounds the connections to one address).

RSS is VmRSS from /proc/self/status, after gc.collect(), taken before the
timers/connections and after. --breakdown also runs each loop under
tracemalloc and splits the growth into the Python heap (by file) and the
rest (native: the loop's own C/Rust structures, malloc overhead).

  python bench/memory.py                    # 1M handles, 100k conns
  python bench/memory.py --conns 19000 --samples 3 --out mem.md
  python bench/memory.py --breakdown --loops uvloop,corio
  CORIO_MEMORY_BY=lineno python bench/memory.py --breakdown ...  # by line

The connection count needs RLIMIT_NOFILE above it in the server process
(it raises its soft limit to the hard one); with a lower hard limit the
run says so and uses what fits.
"""

import argparse
import asyncio
import gc
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "scripts"))
import looptarget  # noqa: E402

sys.path.pop(0)

LOOPS = ("asyncio", "uvloop", "rloop", "corio")
PER_PORT = 20_000
FD_SPARE = 200  # fds the server needs besides its connections
STALL = 10.0  # seconds without a new connection: the server is full


# Descriptors held back so that a server that ran out of them (EMFILE) can
# still read /proc: given back just before, taken again just after (nothing
# runs the loop's accept in between).
_spare = []


def _with_spare_fds(read):
    while _spare:
        os.close(_spare.pop())
    try:
        return read()
    finally:
        _spare.extend(os.open("/dev/null", os.O_RDONLY) for _ in range(2))


def _rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def settle():
    gc.collect()
    return _with_spare_fds(_rss)


def nfds():
    # Less the spare ones, which are closed while listing.
    return _with_spare_fds(lambda: len(os.listdir("/proc/self/fd")) - 1)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def max_conns():
    """The most connections a server process can hold here."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(hard - FD_SPARE, 0)


# ---- the measured process ------------------------------------------------


def noop():
    pass


def child_handles(target, n, breakdown):
    loop = target.new_event_loop()
    call_later = loop.call_later
    call_later(3600, noop).cancel()  # warm the loop's paths
    if breakdown:
        import tracemalloc
        tracemalloc.start()
        snap0 = tracemalloc.take_snapshot()
    before = settle()
    for i in range(n):
        call_later(3600 + i * 1e-6, noop)
    after = settle()
    out = {"before": before, "after": after, "n": n}
    if breakdown:
        out["python"] = python_breakdown(snap0, tracemalloc.take_snapshot())
    loop.close()
    return out


class Idle(asyncio.Protocol):
    """Keeps its transport, counts the connections made."""

    made = 0
    done = None
    want = 0

    def connection_made(self, transport):
        self.transport = transport
        cls = Idle
        cls.made += 1
        if cls.made == cls.want and not cls.done.done():
            cls.done.set_result(None)

    def data_received(self, data):
        pass


def child_conns(target, n, breakdown):
    raise_nofile()
    loop = target.new_event_loop()
    asyncio.set_event_loop(loop)
    ports = (n + PER_PORT - 1) // PER_PORT
    out = {}

    async def main():
        Idle.want = n
        Idle.done = loop.create_future()
        servers = []
        for _ in range(ports):
            servers.append(await loop.create_server(
                Idle, "127.0.0.1", 0, backlog=4096))
        addrs = [s.sockets[0].getsockname()[1] for s in servers]
        await asyncio.sleep(0.05)
        if breakdown:
            import tracemalloc
            tracemalloc.start()
            out["snap0"] = tracemalloc.take_snapshot()
        out["fds_before"] = nfds()
        out["before"] = settle()
        print(json.dumps({"ports": addrs}), flush=True)
        # All n, or as many as the server takes: it stops when no new
        # connection came for STALL seconds (EMFILE, for one).
        last = -1
        while not Idle.done.done():
            if Idle.made == last:
                out["stalled"] = True
                break
            last = Idle.made
            try:
                await asyncio.wait_for(asyncio.shield(Idle.done), STALL)
            except asyncio.TimeoutError:
                pass
        await asyncio.sleep(0.5)  # connection_made callbacks all run
        out["after"] = settle()
        out["fds_after"] = nfds()
        if breakdown:
            import tracemalloc
            out["python"] = python_breakdown(out.pop("snap0"),
                                             tracemalloc.take_snapshot())
            tracemalloc.stop()
        out["n"] = Idle.made
        print(json.dumps({"ready": True}), flush=True)
        # Wait for the clients to go (stdin closes), then stop.
        sys.stdin.read()  # the loop needs not run meanwhile
        for s in servers:
            s.close()

    loop.run_until_complete(main())
    return out


def python_breakdown(snap0, snap1):
    """Python-heap growth: total and the top files."""
    by = os.environ.get("CORIO_MEMORY_BY", "filename")
    stats = snap1.compare_to(snap0, by)
    total = sum(s.size_diff for s in stats)
    top = [(os.path.basename(s.traceback[0].filename)
            + (f":{s.traceback[0].lineno}" if by == "lineno" else ""),
            s.size_diff)
           for s in stats[:12 if by == "lineno" else 6] if s.size_diff > 0]
    return {"total": total, "top": top}


def child_main(argv):
    target_name, kind, n, breakdown = argv[0], argv[1], int(argv[2]), \
        argv[3] == "1"
    target = looptarget.load(target_name)
    if kind == "handles":
        out = child_handles(target, n, breakdown)
    else:
        out = child_conns(target, n, breakdown)
    print(json.dumps({"result": out}), flush=True)


# ---- the clients (another process) ----------------------------------------


def client_main(argv):
    """Opens `count` connections over the given ports (round robin),
    holds them until stdin closes."""
    count, ports = int(argv[0]), [int(p) for p in argv[1].split(",")]
    raise_nofile()
    socks = []
    for i in range(count):
        s = socket.socket()
        s.connect(("127.0.0.1", ports[i % len(ports)]))
        socks.append(s)
        if i % 256 == 255:
            time.sleep(0.005)  # let the server drain its accept queues
    print("connected", flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


# ---- the driver -------------------------------------------------------------


def run_child(loop, kind, n, breakdown):
    cmd = [sys.executable, __file__, "--child", loop, kind, str(n),
           "1" if breakdown else "0"]
    if kind == "handles":
        proc = subprocess.run(cmd, capture_output=True, text=True)
        return parse(proc.stdout, proc.stderr)
    errlog = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=errlog,
                              text=True)
    clients = []
    try:
        line = server.stdout.readline()
        if not line:
            errlog.seek(0)
            raise RuntimeError(errlog.read()[-2000:])
        ports = ",".join(str(p) for p in json.loads(line)["ports"])
        per_client = 9_000  # under any client's fd limit
        left = n
        while left > 0:
            k = min(left, per_client)
            clients.append(subprocess.Popen(
                [sys.executable, __file__, "--client", str(k), ports],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
            left -= k
        server.stdout.readline()  # measured (or the server failed)
    finally:
        # Clients still blocked in connect() (a full server) are killed.
        for c in clients:
            c.stdin.close()
            c.kill()
            c.wait(timeout=60)
        out, _ = server.communicate(timeout=120)
        errlog.seek(0)
        err = errlog.read()
    return parse(out, err)


def parse(out, err):
    for line in out.splitlines():
        if line.startswith('{"result"'):
            return json.loads(line)["result"]
    raise RuntimeError(f"no result: {err[-2000:]}")


def per_item(r):
    return (r["after"] - r["before"]) / r["n"]


def fds_per(r):
    return (r["fds_after"] - r["fds_before"]) / r["n"]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        return client_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--handles", type=int, default=1_000_000)
    ap.add_argument("--conns", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--loops", default=",".join(LOOPS))
    ap.add_argument("--rows", default="handles,conns")
    ap.add_argument("--breakdown", action="store_true",
                    help="one tracemalloc run per loop and row: Python "
                         "heap by file vs the rest")
    ap.add_argument("--out", help="also write the markdown here")
    args = ap.parse_args()

    loops = []
    for name in args.loops.split(","):
        try:
            looptarget.load(name)
            loops.append(name)
        except ImportError as exc:
            print(f"note: {name} left out ({exc})", file=sys.stderr)
    raise_nofile()
    notes = []
    conns = args.conns
    limit = max_conns()
    if conns > limit:
        notes.append(f"{args.conns:,} connections asked, but RLIMIT_NOFILE's "
                     f"hard limit here is {limit + FD_SPARE:,} "
                     f"(fs.file-max {open('/proc/sys/fs/file-max').read().strip()}); "
                     f"measured with {limit:,}")
        conns = limit
    rows = [r for r in args.rows.split(",") if r]
    counts = {"handles": args.handles, "conns": conns}
    results = {(row, loop): [] for row in rows for loop in loops}
    for sample in range(args.samples):
        for i, row in enumerate(rows):
            k = (sample + i) % len(loops)
            for loop in loops[k:] + loops[:k]:
                r = run_child(loop, row, counts[row], False)
                results[row, loop].append(r)
                print(f"  {row:8} {loop:8} {per_item(r):8.0f} B each "
                      f"(n={r['n']:,})", file=sys.stderr, flush=True)

    for (row, lp), rs in results.items():
        short = [r for r in rs if r.get("stalled")]
        if short:
            notes.append(
                f"{lp}'s server stopped accepting at "
                f"{min(r['n'] for r in short):,} of {counts[row]:,} "
                f"connections ({fds_per(short[0]):.2f} fds per connection, "
                f"RLIMIT_NOFILE {limit + FD_SPARE:,}); its rows use the "
                f"connections it holds")
    lines = [f"Memory per item, RSS growth / count, median of {args.samples} "
             f"(fresh interpreter each; Python "
             f"{sys.version.split()[0]}):", ""]
    for note in notes:
        lines.append(f"- {note}")
    if notes:
        lines.append("")
    head = "| row | " + " | ".join(loops) + " | corio/uvloop |"
    lines += [head, "|---|" + "--:|" * (len(loops) + 1)]
    label = {"handles": f"pending call_later, {args.handles:,} (B/handle)",
             "conns": f"idle TCP conn, Protocol server, {conns:,} (B/conn)"}
    for row in rows:
        med = {lp: statistics.median(per_item(r) for r in results[row, lp])
               for lp in loops}
        ratio = (f"{med['corio'] / med['uvloop']:.2f}x"
                 if "corio" in med and "uvloop" in med else "-")
        lines.append(f"| {label[row]} | " +
                     " | ".join(f"{med[lp]:,.0f}" for lp in loops) +
                     f" | {ratio} |")
        if row == "conns":
            fds = {lp: fds_per(results[row, lp][0]) for lp in loops}
            lines.append("| fds per idle conn, server side | " +
                         " | ".join(f"{fds[lp]:.2f}" for lp in loops) +
                         " | |")
    if args.breakdown:
        lines += ["", "Breakdown (one tracemalloc run each; tracemalloc's "
                  "own cost is in the RSS, not in the Python column):", "",
                  "| row | loop | RSS B/item | Python heap B/item | "
                  "rest B/item | top Python files (B/item) |",
                  "|---|---|--:|--:|--:|---|"]
        for row in rows:
            for lp in loops:
                r = run_child(lp, row, counts[row], True)
                n = r["n"]
                py = r["python"]["total"] / n
                plain = statistics.median(
                    per_item(x) for x in results[row, lp])
                top = ", ".join(f"{f} {b / n:,.0f}"
                                for f, b in r["python"]["top"])
                lines.append(f"| {row} | {lp} | {plain:,.0f} | {py:,.0f} | "
                             f"{plain - py:,.0f} | {top} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
