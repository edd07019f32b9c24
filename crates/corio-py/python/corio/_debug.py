"""corio's debugging for Python: the task tree and its dump on a signal.

``dump_tasks()`` prints every task of a loop as a tree: a task awaiting
another task (directly, or through ``gather``/``shield``/``wait_for``
futures) is printed under it, with the file:line where each coroutine is
suspended and what it awaits.
"""

import asyncio
import signal
import sys

__all__ = ('dump_tasks', 'install_dump_on_signal')


def _locations(coro):
    """file:line of each suspended frame of a coroutine's await chain,
    outermost first."""
    where = []
    while coro is not None:
        frame = getattr(coro, 'cr_frame', None) or getattr(coro, 'gi_frame', None)
        if frame is None:
            break
        code = frame.f_code
        where.append(f'{code.co_filename}:{frame.f_lineno} in {code.co_qualname}')
        coro = getattr(coro, 'cr_await', None) or getattr(coro, 'gi_yieldfrom', None)
    return where


def _awaited_futures(task):
    """The futures a task waits on, children of gather/shield unwrapped."""
    waiter = getattr(task, '_fut_waiter', None)
    if waiter is None:
        return []
    out, todo, seen = [], [waiter], set()
    while todo:
        fut = todo.pop()
        if id(fut) in seen:
            continue
        seen.add(id(fut))
        out.append(fut)
        todo.extend(getattr(fut, '_children', ()) or ())
        inner = getattr(fut, '_inner', None)  # shield's inner future (3.11)
        if inner is not None:
            todo.append(inner)
    return out


def _describe_wait(task):
    waiter = getattr(task, '_fut_waiter', None)
    if waiter is None:
        return 'ready' if not task.done() else 'done'
    if isinstance(waiter, asyncio.Task):
        return f'awaits task {waiter.get_name()!r}'
    return f'awaits {waiter!r}'


def dump_tasks(loop=None):
    """The task tree of ``loop`` (the running loop by default) as text."""
    if loop is None:
        loop = asyncio.get_running_loop()
    tasks = list(asyncio.all_tasks(loop))
    children = {id(t): [] for t in tasks}
    has_parent = set()
    for task in tasks:
        for fut in _awaited_futures(task):
            if isinstance(fut, asyncio.Task) and id(fut) in children and fut is not task:
                children[id(task)].append(fut)
                has_parent.add(id(fut))
    lines = [f'{len(tasks)} task(s) on {loop!r}']

    def walk(task, depth, seen):
        if id(task) in seen:
            return
        seen.add(id(task))
        coro = task.get_coro()
        name = getattr(coro, '__qualname__', repr(coro))
        pad = '  ' * depth
        lines.append(f'{pad}- task {task.get_name()!r} {name}: {_describe_wait(task)}')
        for where in _locations(coro):
            lines.append(f'{pad}    at {where}')
        for child in sorted(children[id(task)], key=lambda t: t.get_name()):
            walk(child, depth + 1, seen)

    seen = set()
    roots = [t for t in tasks if id(t) not in has_parent]
    for task in sorted(roots, key=lambda t: t.get_name()):
        walk(task, 0, seen)
    for task in tasks:  # cycles: print what is left
        walk(task, 0, seen)
    return '\n'.join(lines)


def install_dump_on_signal(signum=signal.SIGUSR1, loop=None, file=None):
    """Print the task tree to ``file`` (stderr) whenever ``signum`` arrives.

    With a loop (given or running) the handler is the loop's
    ``add_signal_handler``; otherwise a plain ``signal.signal`` handler dumps
    whichever loop is running when the signal arrives.
    """
    def emit(target):
        out = file if file is not None else sys.stderr
        print(dump_tasks(target), file=out, flush=True)

    if loop is None:
        loop = asyncio._get_running_loop()
    if loop is not None:
        loop.add_signal_handler(signum, emit, loop)
        return

    def handler(signum, frame):
        running = asyncio._get_running_loop()
        if running is not None:
            emit(running)

    signal.signal(signum, handler)
