"""corio: an asyncio event loop built on corio, a Rust asyncio runtime.

    import asyncio, corio
    corio.run(main())                                      # or
    asyncio.run(main(), loop_factory=corio.new_event_loop)  # 3.12+
    with corio.Runner() as runner: runner.run(main())
    corio.install()                                        # the policy
"""

import asyncio

from ._loop import EventLoop
from ._debug import dump_tasks, install_dump_on_signal

__all__ = (
    'EventLoop', 'EventLoopPolicy', 'Runner', 'new_event_loop', 'install',
    'run', 'dump_tasks', 'install_dump_on_signal',
)


def new_event_loop():
    """A new corio event loop."""
    return EventLoop()


class EventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """asyncio's default policy, making corio loops."""

    def new_event_loop(self):
        return new_event_loop()


def install():
    """Make corio the loop of ``asyncio.new_event_loop()`` and
    ``asyncio.run()`` (sets the event loop policy)."""
    asyncio.set_event_loop_policy(EventLoopPolicy())


class Runner(asyncio.Runner):
    """``asyncio.Runner`` on a corio loop."""

    def __init__(self, *, debug=None, loop_factory=None):
        super().__init__(debug=debug,
                         loop_factory=loop_factory or new_event_loop)


def run(main, *, debug=None):
    """``asyncio.run(main)`` on a corio loop."""
    if asyncio._get_running_loop() is not None:
        raise RuntimeError(
            "corio.run() cannot be called from a running event loop")
    with Runner(debug=debug) as runner:
        return runner.run(main)
