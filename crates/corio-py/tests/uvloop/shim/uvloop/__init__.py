"""A stand-in for the `uvloop` package, so that uvloop's own test suite
(downloaded from its sdist by scripts/uvloop_suite.py) runs against another
loop: corio's by default, or asyncio's / rloop's to validate the shim.

uvloop's tests reach the loop under test only through this module
(`uvloop.new_event_loop()`, `uvloop.Loop`, `uvloop.EventLoopPolicy`,
`uvloop.run()`, `uvloop.install()`) and through `uvloop._testbase`, whose
`UVTestCase.new_loop()` calls `uvloop.new_event_loop()`. Subprocesses the
tests spawn inherit PYTHONPATH and CORIO_PY_LOOP, so they see this module too.
Tests of uvloop's Cython internals (`uvloop.loop`) are listed in
../../not_applicable.txt and never imported.
"""

import asyncio as _asyncio
import os as _os
import sys as _sys

_scripts = _os.path.join(_os.path.dirname(__file__), *[_os.pardir] * 4,
                         "scripts")
_sys.path.insert(0, _os.path.abspath(_scripts))
import looptarget as _looptarget  # noqa: E402

_sys.path.pop(0)

_target = _looptarget.load()
if _target.name == "uvloop":
    raise ImportError("the uvloop shim stands in for uvloop: run the real "
                      "uvloop without tests/uvloop/shim on sys.path")

__version__ = "0.23.0+shim-" + _target.name
__all__ = ("new_event_loop", "run", "install", "EventLoopPolicy", "Loop")

Loop = _target.loop_class
EventLoopPolicy = _target.policy_class
target = _target.name


def new_event_loop():
    """A new loop of the target implementation."""
    return _target.new_event_loop()


def install():
    """Set the target's policy (uvloop.install() semantics)."""
    _asyncio.set_event_loop_policy(EventLoopPolicy())


def run(main, *, loop_factory=new_event_loop, debug=None, **run_kwargs):
    """uvloop.run(): asyncio.run() on the target's loop, checking the loop."""

    async def wrapper():
        loop = _asyncio._get_running_loop()
        if not isinstance(loop, Loop):
            raise TypeError("uvloop.run() uses a non-uvloop event loop")
        return await main

    if _asyncio._get_running_loop() is not None:
        raise RuntimeError(
            "asyncio.run() cannot be called from a running event loop")
    with _asyncio.Runner(loop_factory=loop_factory, debug=debug,
                         **run_kwargs) as runner:
        return runner.run(wrapper())
