"""asyncio's exceptions and the exception handler, on corio's loop (and,
where the behaviour is asyncio's own, checked on both loops)."""

import asyncio
import logging
import threading
import time

import pytest

import corio


def test_closed_loop_raises(any_loop):
    any_loop.close()
    coro = asyncio.sleep(0)
    assert any_loop.is_closed()
    for call in (lambda: any_loop.call_soon(print),
                 lambda: any_loop.call_later(1, print),
                 lambda: any_loop.call_at(1, print),
                 lambda: any_loop.call_soon_threadsafe(print),
                 lambda: any_loop.run_forever(),
                 lambda: any_loop.create_task(coro)):
        with pytest.raises(RuntimeError, match='Event loop is closed'):
            call()
    coro.close()
    any_loop.close()  # twice is fine


def test_non_callable_is_a_type_error(loop):
    # asyncio checks only in debug mode; corio always does (it is cheap).
    any_loop = loop
    with pytest.raises(TypeError, match='a callable object was expected by call_soon'):
        any_loop.call_soon(42)
    with pytest.raises(TypeError, match='a callable object was expected by call_later'):
        any_loop.call_later(0, 'nope')
    with pytest.raises(TypeError, match='delay must not be None'):
        any_loop.call_later(None, print)


def test_coroutines_are_rejected(loop):
    any_loop = loop
    async def coro_fn():
        pass

    class Obj:
        async def method(self):
            pass

    for cb in (coro_fn, Obj().method):
        with pytest.raises(TypeError, match='coroutines cannot be used with call_soon'):
            any_loop.call_soon(cb)
    coro = coro_fn()
    with pytest.raises(TypeError, match='coroutines cannot be used with call_at'):
        any_loop.call_at(1, coro)
    coro.close()
    # A plain function called before is still accepted after (the cache).
    any_loop.call_soon(print)
    any_loop.call_soon(test_coroutines_are_rejected)


def test_debug_mode_call_soon_from_another_thread(loop):
    loop.set_debug(True)
    errors = []

    def other_thread():
        try:
            loop.call_soon(print)
        except RuntimeError as e:
            errors.append(e)
        loop.call_soon_threadsafe(loop.stop)

    loop.call_soon(lambda: threading.Thread(target=other_thread).start())
    loop.run_forever()
    assert errors and 'Non-thread-safe operation' in str(errors[0])


def test_raising_callback_goes_to_the_handler_and_the_loop_goes_on(any_loop):
    contexts = []
    out = []
    any_loop.set_exception_handler(lambda loop, ctx: contexts.append(ctx))

    def boom():
        raise ValueError('boom')

    h = any_loop.call_soon(boom)
    any_loop.call_soon(out.append, 'after')
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert out == ['after']
    [ctx] = contexts
    assert isinstance(ctx['exception'], ValueError)
    assert ctx['message'].startswith('Exception in callback ')
    assert 'boom' in ctx['message']
    assert ctx['handle'] is h


def test_default_exception_handler_logs(loop, caplog):
    def boom():
        raise ValueError('logged')
    loop.call_soon(boom)
    loop.call_soon(loop.stop)
    with caplog.at_level(logging.ERROR, logger='asyncio'):
        loop.run_forever()
    assert 'Exception in callback' in caplog.text and 'logged' in caplog.text


def test_keyboard_interrupt_propagates_and_keeps_the_rest(loop):
    out = []

    def interrupt():
        raise KeyboardInterrupt

    loop.call_soon(interrupt)
    loop.call_soon(out.append, 'kept')
    with pytest.raises(KeyboardInterrupt):
        loop.run_forever()
    assert out == []
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert out == ['kept']


def test_run_until_complete_with_a_failing_coroutine(any_loop):
    async def fail():
        await asyncio.sleep(0)
        raise ZeroDivisionError('nope')

    with pytest.raises(ZeroDivisionError, match='nope'):
        any_loop.run_until_complete(fail())
    assert not any_loop.is_running()
    assert any_loop.run_until_complete(asyncio.sleep(0, 'ok')) == 'ok'


def test_close_while_running_is_an_error(loop):
    errors = []

    def try_close():
        try:
            loop.close()
        except RuntimeError as e:
            errors.append(e)
        loop.stop()

    loop.call_soon(try_close)
    loop.run_forever()
    assert 'Cannot close a running event loop' in str(errors[0])


def test_slow_callback_warning_names_the_task(loop, caplog):
    loop.set_debug(True)
    loop.slow_callback_duration = 0.01

    async def sleepy():
        time.sleep(0.03)

    with caplog.at_level(logging.WARNING, logger='asyncio'):
        loop.run_until_complete(sleepy())
    assert 'Executing <Task' in caplog.text
    assert 'sleepy()' in caplog.text and 'took' in caplog.text
    assert 'test_errors.py' in caplog.text


def test_debug_handle_has_a_source_traceback(loop):
    loop.set_debug(True)
    h = loop.call_soon(print)
    assert h._source_traceback
    assert 'created at' in repr(h) and 'test_errors.py' in repr(h)
    h.cancel()
