"""Run one docs example (and the server it talks to, if any) on one loop
and print what it did as JSON: `python run_example.py TARGET DIR NAME
[--server NAME --wait tcp:PORT|udp:PORT] [--signal-after REGEX SIGNAME]
[--timeout S]`. test_docs_examples.py runs it once per loop, inside a
network namespace of its own when it can (so the examples' fixed ports,
8888 and 9999, never meet another program's)."""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def start(target, path, report):
    env = dict(os.environ, PYTHONUNBUFFERED="1", LOOPBOOT_REPORT=report)
    return subprocess.Popen(
        [sys.executable, os.path.join(HERE, "loopboot.py"), target, path],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env, text=True, cwd=os.path.dirname(path))


def listening(kind, port):
    if kind == "tcp":
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        return False  # free: the server has not bound it yet
    except OSError:
        return True
    finally:
        s.close()


def loops(report):
    try:
        with open(report) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("dir")
    ap.add_argument("name")
    ap.add_argument("--server")
    ap.add_argument("--wait")
    ap.add_argument("--signal-after", nargs=2)
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="loopboot-")
    result = {}
    server = None
    if args.server:
        server = start(args.target, os.path.join(args.dir, args.server + ".py"),
                       os.path.join(tmp, "server.json"))
        kind, port = args.wait.split(":")
        deadline = time.monotonic() + 10
        while not listening(kind, int(port)):
            if server.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    client = start(args.target, os.path.join(args.dir, args.name + ".py"),
                   os.path.join(tmp, "client.json"))
    timed_out = False
    try:
        if args.signal_after:
            pattern, signame = args.signal_after
            lines = []
            deadline = time.monotonic() + args.timeout
            for line in client.stdout:  # until the line that says it is ready
                lines.append(line)
                if re.search(pattern, line) or time.monotonic() > deadline:
                    break
            time.sleep(0.2)
            client.send_signal(getattr(signal, signame))
            out, err = client.communicate(timeout=args.timeout)
            out = "".join(lines) + out
        else:
            out, err = client.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        client.kill()
        out, err = client.communicate()
    result.update(stdout=out, stderr=err, returncode=client.returncode,
                  timed_out=timed_out, loops=loops(os.path.join(tmp, "client.json")))
    if server is not None:
        time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        try:
            sout, serr = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            sout, serr = server.communicate()
        result.update(server_stdout=sout, server_stderr=serr)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
