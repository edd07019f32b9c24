"""Which event loop the harness tests and benchmarks: one place that maps a
target name to a loop factory, shared by the uvloop-suite shim, the docs
examples runner and the benchmarks.

The target comes from ``CORIO_PY_LOOP`` (``asyncio``, ``uvloop``, ``rloop``,
``corio``, or ``corio-aio``: corio's loop with asyncio's Python socket
transport; default ``corio``) unless a caller names one.
"""

import asyncio
import os
import sys

TARGETS = ("asyncio", "uvloop", "rloop", "corio", "corio-aio")
DEFAULT = "corio"


def target_name(name=None):
    """The target to use: `name`, else $CORIO_PY_LOOP, else corio."""
    name = name or os.environ.get("CORIO_PY_LOOP") or DEFAULT
    if name not in TARGETS:
        raise ValueError(f"unknown loop target {name!r}; one of {TARGETS}")
    return name


class Target:
    """A loop implementation: its factory, loop class, policy class."""

    def __init__(self, name, new_event_loop, loop_class, policy_class, module):
        self.name = name
        self.new_event_loop = new_event_loop
        self.loop_class = loop_class
        self.policy_class = policy_class
        self.module = module

    def run(self, main, *, debug=None):
        """asyncio.run(main) on this loop (3.11 has no run(loop_factory=))."""
        with asyncio.Runner(loop_factory=self.new_event_loop, debug=debug) as r:
            return r.run(main)

    def version(self):
        if self.name == "asyncio":
            return "Python " + sys.version.split()[0]
        try:
            from importlib.metadata import version

            return version(self.name)
        except Exception:
            return getattr(self.module, "__version__", "?")

    def __repr__(self):
        return f"<Target {self.name}>"


def _policy_for(loop_factory):
    class Policy(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self):
            return loop_factory()

    return Policy


def load(name=None):
    """Import the named (or configured) target. ImportError if missing."""
    name = target_name(name)
    if name == "asyncio":
        probe = asyncio.new_event_loop()
        loop_class = type(probe)
        probe.close()
        return Target(name, asyncio.new_event_loop, loop_class,
                      asyncio.DefaultEventLoopPolicy, asyncio)
    if name == "uvloop":
        import uvloop

        return Target(name, uvloop.new_event_loop, uvloop.Loop,
                      getattr(uvloop, "EventLoopPolicy", None) or
                      _policy_for(uvloop.new_event_loop), uvloop)
    if name == "rloop":
        import rloop

        loop_class = getattr(rloop, "RLoop", None)
        if loop_class is None:
            probe = rloop.new_event_loop()
            loop_class = type(probe)
            probe.close()
        policy = getattr(rloop, "EventLoopPolicy", None) or _policy_for(
            rloop.new_event_loop)
        return Target(name, rloop.new_event_loop, loop_class, policy, rloop)
    if name == "corio-aio":
        # corio's loop with asyncio's own Python socket transport instead of
        # the Rust one (read when a loop makes its first transport).
        os.environ["CORIO_PY_TRANSPORT"] = "asyncio"
    import corio

    policy = getattr(corio, "EventLoopPolicy", None) or _policy_for(
        corio.new_event_loop)
    return Target(name, corio.new_event_loop, corio.EventLoop, policy, corio)
