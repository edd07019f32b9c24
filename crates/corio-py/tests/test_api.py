"""The package API: run, Runner, install, asyncio.run(loop_factory=...),
dump_tasks and its signal."""

import asyncio
import os
import signal
import sys

import pytest

import corio


async def which_loop():
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


def test_run():
    assert corio.run(which_loop()) is corio.EventLoop


def test_run_debug():
    async def main():
        return asyncio.get_running_loop().get_debug()
    assert corio.run(main(), debug=True) is True


@pytest.mark.skipif(sys.version_info < (3, 12), reason='loop_factory is new in 3.12')
def test_asyncio_run_with_loop_factory():
    assert asyncio.run(which_loop(), loop_factory=corio.new_event_loop) is corio.EventLoop


def test_runner():
    with corio.Runner() as runner:
        assert runner.run(which_loop()) is corio.EventLoop
        assert isinstance(runner.get_loop(), corio.EventLoop)
        assert runner.run(which_loop()) is corio.EventLoop


def test_install():
    old = asyncio.get_event_loop_policy()
    try:
        corio.install()
        assert asyncio.run(which_loop()) is corio.EventLoop
        loop = asyncio.new_event_loop()
        assert isinstance(loop, corio.EventLoop)
        loop.close()
    finally:
        asyncio.set_event_loop_policy(old)


def test_is_an_abstract_event_loop():
    loop = corio.new_event_loop()
    assert isinstance(loop, asyncio.AbstractEventLoop)
    assert not loop.is_running() and not loop.is_closed()
    loop.close()


def test_task_factory_and_eager_tasks(loop):
    made = []

    def factory(loop, coro, **kwargs):
        task = asyncio.Task(coro, loop=loop, **kwargs)
        made.append(task)
        return task

    loop.set_task_factory(factory)
    assert loop.run_until_complete(which_loop()) is corio.EventLoop
    assert made
    if hasattr(asyncio, 'eager_task_factory'):
        loop.set_task_factory(asyncio.eager_task_factory)
        order = []

        async def child():
            order.append('child ran')

        async def main():
            asyncio.get_running_loop().create_task(child())
            order.append('after create_task')
        loop.run_until_complete(main())
        assert order == ['child ran', 'after create_task']


def test_dump_tasks_shows_the_tree():
    async def leaf():
        await asyncio.sleep(10)

    async def parent():
        await asyncio.create_task(leaf(), name='leaf')

    async def main():
        t = asyncio.create_task(parent(), name='parent')
        await asyncio.sleep(0.01)
        text = corio.dump_tasks()
        t.cancel()
        return text

    text = corio.run(main())
    lines = text.splitlines()
    assert lines[0].startswith('3 task(s)')
    parent_line = next(i for i, l in enumerate(lines) if l.strip().startswith("- task 'parent'"))
    leaf_line = next(i for i, l in enumerate(lines) if l.strip().startswith("- task 'leaf'"))
    assert leaf_line > parent_line
    assert lines[leaf_line].startswith('  ')  # nested under parent
    assert "awaits task 'leaf'" in lines[parent_line]
    assert 'test_api.py' in text and '<locals>.leaf' in text and 'in sleep' in text


def test_dump_on_signal(capsys):
    async def main():
        corio.install_dump_on_signal(signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR1)
        await asyncio.sleep(0.05)
        asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR1)

    corio.run(main())
    err = capsys.readouterr().err
    assert 'task(s) on <EventLoop' in err and 'main' in err
