"""The asyncio documentation's examples, read at test time from the Python
documentation's reStructuredText sources (Debian's python3.X-doc package,
fetched with `apt-get download` into the cache folder and unpacked there),
so they run verbatim and none of them is copied into this repository.

`EXAMPLES` names each example: which page, which literal block (found by a
line it contains, not by position, so a later doc release still matches),
and, for the fragments the docs print after a first example ("let's modify
the above example"), which definitions it takes from that earlier block.
The only code of ours is the glue this file shows: an `import` line the
fragment leaves out, or the `asyncio.run(main())` it leaves to the reader.
"""

import ast
import glob
import os
import re
import subprocess

DOCS_PKG = "python3.11-doc"
DOCS_URL = "https://docs.python.org/3.11/library/{page}.html"


class Part:
    """One literal block of a docs page, found by a line it contains."""

    def __init__(self, page, contains, names=None):
        self.page, self.contains, self.names = page, contains, names


class Example:
    def __init__(self, name, parts, *, glue_before="", glue_after="",
                 server=None, masks=(), signal_after=None, timeout=30):
        self.name = name
        self.parts = parts
        self.glue_before = glue_before
        self.glue_after = glue_after
        self.server = server  # an Example run first, in the background
        self.masks = masks  # extra (regex, replacement) for this example
        self.signal_after = signal_after  # (stdout regex, signal name)
        self.timeout = timeout


IMPORT = "import asyncio\n"
RUN_MAIN = "\nasyncio.run(main())\n"
SAY_AFTER = Part("asyncio-task", "await say_after(2, 'world')",
                 names=["asyncio", "time", "say_after"])

EXAMPLES = [
    Example("task_hello_world", [Part("asyncio-task", ">>> asyncio.run(main())")]),
    Example("task_say_after_sequential", [Part("asyncio-task", "await say_after(2, 'world')")]),
    Example("task_say_after_create_task", [
        SAY_AFTER, Part("asyncio-task", "task2 = asyncio.create_task(")],
        glue_after=RUN_MAIN),
    Example("task_say_after_taskgroup", [
        SAY_AFTER, Part("asyncio-task", "task1 = tg.create_task(\n")],
        glue_after=RUN_MAIN),
    Example("task_awaitable_coroutine", [Part("asyncio-task", "print(await nested())")]),
    Example("task_awaitable_task", [Part("asyncio-task", "task = asyncio.create_task(nested())")]),
    Example("task_sleep_display_date", [Part("asyncio-task", "async def display_date():")],
            timeout=40),
    Example("task_gather_factorial", [Part("asyncio-task", 'factorial("C", 4)')]),
    Example("task_wait_for_timeout", [Part("asyncio-task", "await asyncio.wait_for(eternity(), timeout=1.0)")],
            glue_before=IMPORT),
    Example("task_to_thread", [Part("asyncio-task", "asyncio.to_thread(blocking_io)")],
            glue_before=IMPORT + "import time\n"),
    Example("task_cancel", [Part("asyncio-task", "async def cancel_me():")],
            glue_before=IMPORT),
    Example("runner_run", [Part("asyncio-runner", "    print('hello')\n\nasyncio.run(main())")],
            glue_before=IMPORT),
    Example("sync_event", [Part("asyncio-sync", "waiter_task = asyncio.create_task(waiter(event))")],
            glue_before=IMPORT),
    Example("sync_barrier", [Part("asyncio-sync", "b = asyncio.Barrier(3)")],
            glue_before=IMPORT),
    Example("queue_workers", [Part("asyncio-queue", "async def worker(name, queue):")],
            masks=[(r"\d", "#")]),
    Example("streams_echo_client_server", [Part("asyncio-stream", "asyncio.run(tcp_echo_client('Hello World!'))")],
            server=Example("streams_echo_server", [Part("asyncio-stream", "async def handle_echo(reader, writer):")])),
    Example("streams_wait_for_data", [Part("asyncio-stream", "await asyncio.open_connection(sock=rsock)")]),
    Example("subprocess_shell", [Part("asyncio-subprocess", "asyncio.run(run('ls /zzz'))")]),
    Example("subprocess_shell_gather", [
        Part("asyncio-subprocess", "asyncio.run(run('ls /zzz'))", names=["asyncio", "run"]),
        Part("asyncio-subprocess", "run('sleep 1; echo \"hello\"'))")]),
    Example("subprocess_exec_date", [Part("asyncio-subprocess", "async def get_date():")]),
    Example("protocol_tcp_echo_client_server", [Part("asyncio-protocol", "lambda: EchoClientProtocol(message, on_con_lost),\n        '127.0.0.1', 8888)")],
            server=Example("protocol_tcp_echo_server", [Part("asyncio-protocol", "lambda: EchoServerProtocol(),\n        '127.0.0.1', 8888)")])),
    Example("protocol_udp_echo_client_server", [Part("asyncio-protocol", "remote_addr=('127.0.0.1', 9999)")],
            server=Example("protocol_udp_echo_server", [Part("asyncio-protocol", "local_addr=('127.0.0.1', 9999)")])),
    Example("protocol_wait_for_data", [Part("asyncio-protocol", "lambda: MyProtocol(on_con_lost), sock=rsock)")]),
    Example("protocol_subprocess_date", [Part("asyncio-protocol", "class DateProtocol(asyncio.SubprocessProtocol):")]),
    Example("eventloop_call_soon_hello", [Part("asyncio-eventloop", "loop.call_soon(hello_world, loop)")]),
    Example("eventloop_call_later_date", [Part("asyncio-eventloop", "loop.call_later(1, display_date, end_time, loop)")],
            timeout=40),
    Example("eventloop_add_reader", [Part("asyncio-eventloop", "loop.add_reader(rsock, reader)")]),
    Example("eventloop_run_in_executor", [Part("asyncio-eventloop", "def cpu_bound():")],
            masks=[(r"pool b(['\"]).*\1$", "pool b'<random>'")]),
    Example("eventloop_signal_handlers", [Part("asyncio-eventloop", "loop.add_signal_handler(")],
            signal_after=(r"^pid \d+:", "SIGTERM")),
]

# Masks for what differs from run to run whatever the loop: clock times,
# dates, ports, pids. Applied to every example's output before comparing.
MASKS = [
    (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", "<datetime>"),
    (r"\b\d\d:\d\d:\d\d\b", "<time>"),
    (r"\('127\.0\.0\.1', \d+\)", "('127.0.0.1', <port>)"),
    (r"\bpid \d+", "pid <pid>"),
    (r"\b\d+\.\d+ seconds", "<n> seconds"),
    (r" at 0x[0-9a-f]+", " at 0x<addr>"),
]


def mask(text, extra=()):
    out = []
    for line in text.splitlines():
        for pattern, repl in list(MASKS) + list(extra):
            line = re.sub(pattern, repl, line)
        out.append(line)
    return "\n".join(out)


def sources_dir(cache):
    """html/_sources/library of the docs package, fetched if needed."""
    env = os.environ.get("CORIO_PY_DOCS_DIR")
    if env:
        return env
    for d in glob.glob("/usr/share/doc/python3.1[1-3]/html/_sources/library"):
        if os.path.exists(os.path.join(d, "asyncio-task.rst.txt")):
            return d
    dest = os.path.join(cache, "python-docs")
    lib = glob.glob(os.path.join(dest, "usr/share/doc/python3.*/html/_sources/library"))
    if lib:
        return lib[0]
    os.makedirs(dest, exist_ok=True)
    subprocess.run(["apt-get", "download", DOCS_PKG], cwd=dest, check=True,
                   stdout=subprocess.DEVNULL)
    deb = glob.glob(os.path.join(dest, f"{DOCS_PKG}_*.deb"))[0]
    subprocess.run(["dpkg-deb", "-x", deb, dest], check=True)
    os.unlink(deb)
    return glob.glob(os.path.join(dest, "usr/share/doc/python3.*/html/_sources/library"))[0]


def literal_blocks(text):
    """The literal blocks (`::` paragraphs, code-block directives) of a
    reStructuredText page, dedented, in order."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        directive = re.match(r"\s*\.\. (code-block|sourcecode)::", line)
        if (line.rstrip().endswith("::") and not line.lstrip().startswith(".. ")) or directive:
            base = len(line) - len(line.lstrip())
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or (
                    directive and re.match(r"\s*:[\w-]+:", lines[j]))):
                j += 1
            if j < len(lines) and len(lines[j]) - len(lines[j].lstrip()) > base:
                indent = len(lines[j]) - len(lines[j].lstrip())
                body = []
                while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) >= indent):
                    body.append(lines[j][indent:])
                    j += 1
                while body and not body[-1].strip():
                    body.pop()
                out.append("\n".join(body))
                i = j
                continue
        i += 1
    return out


def from_doctest(block):
    """The code of a `>>>` session, without prompts and printed output."""
    code = []
    for line in block.split("\n"):
        if line.startswith(">>> ") or line.startswith("... ") or line in (">>>", "..."):
            code.append(line[4:])
    return "\n".join(code)


def pick(code, names):
    """Only the imports and top-level definitions of `names` from `code`."""
    tree = ast.parse(code)
    lines = code.split("\n")
    keep = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            defined = [a.asname or a.name for a in node.names]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined = [node.name]
        else:
            continue
        if any(n in names for n in defined):
            keep.append("\n".join(lines[node.lineno - 1:node.end_lineno]))
    return "\n".join(keep) + "\n"


def block(src_dir, part):
    path = os.path.join(src_dir, part.page + ".rst.txt")
    with open(path, encoding="utf-8") as f:
        found = [b for b in literal_blocks(f.read()) if part.contains in b]
    if not found:
        raise LookupError(f"{part.page}: no literal block contains {part.contains!r}")
    code = found[0]
    if code.lstrip().startswith(">>>"):
        code = from_doctest(code)
    return pick(code, part.names) if part.names else code + "\n"


def source(src_dir, example):
    """The example's program: the docs' blocks, verbatim, and our glue."""
    pages = sorted({p.page for p in example.parts})
    head = "".join(f"# {DOCS_URL.format(page=p)}\n" for p in pages)
    head += f"# read from {DOCS_PKG}; only lines marked 'glue' are not the docs'\n"
    body = ""
    if example.glue_before:
        body += "".join(l + "  # glue\n" for l in example.glue_before.strip("\n").split("\n"))
    body += "\n".join(block(src_dir, p) for p in example.parts)
    if example.glue_after:
        body += "\n" + "".join(l + ("  # glue\n" if l else "\n") for l in example.glue_after.strip("\n").split("\n"))
    return head + body
