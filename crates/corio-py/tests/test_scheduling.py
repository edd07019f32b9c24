"""call_soon / call_later / call_at / call_soon_threadsafe: order,
cancellation, threads, and the iteration rule, against asyncio's loop."""

import asyncio
import sys
import threading
import time

import pytest

import corio


def run_order(loop, schedule):
    out = []
    schedule(loop, out)
    loop.call_later(0.05, loop.stop)
    loop.run_forever()
    return out


def both(schedule):
    a = asyncio.new_event_loop()
    c = corio.new_event_loop()
    try:
        return run_order(a, schedule), run_order(c, schedule)
    finally:
        a.close()
        c.close()


def test_call_soon_fifo_then_timers_in_deadline_order():
    def schedule(loop, out):
        now = loop.time()
        loop.call_at(now + 0.02, out.append, 'at+20ms')
        loop.call_later(0, out.append, 'later0')
        loop.call_at(now - 1, out.append, 'past')
        loop.call_soon(out.append, 'soon1')
        loop.call_later(0.01, out.append, 'later10ms')
        loop.call_soon(out.append, 'soon2')
    expected, got = both(schedule)
    assert got == expected
    assert got[:2] == ['soon1', 'soon2']


def test_callbacks_scheduled_by_callbacks_run_next_iteration():
    def schedule(loop, out):
        def first():
            out.append('first')
            loop.call_soon(out.append, 'nested')
            loop.call_later(0, out.append, 'nested-later0')
        loop.call_soon(first)
        loop.call_soon(out.append, 'second')
    expected, got = both(schedule)
    assert got == expected == ['first', 'second', 'nested', 'nested-later0']


def test_equal_deadlines_run_in_scheduling_order(loop):
    out = []
    when = loop.time() + 0.01
    for i in range(50):
        loop.call_at(when, out.append, i)
    loop.call_at(when + 0.01, loop.stop)
    loop.run_forever()
    assert out == list(range(50))


def test_handle_cancel(any_loop):
    out = []
    h = any_loop.call_soon(out.append, 1)
    any_loop.call_soon(out.append, 2)
    assert not h.cancelled()
    h.cancel()
    assert h.cancelled()
    h.cancel()  # idempotent
    t = any_loop.call_later(0.001, out.append, 3)
    t.cancel()
    assert t.cancelled()
    any_loop.call_later(0.02, any_loop.stop)
    any_loop.run_forever()
    assert out == [2]


def test_cancel_inside_the_same_iteration(any_loop):
    out = []
    handles = []
    any_loop.call_soon(lambda: handles[0].cancel())
    handles.append(any_loop.call_soon(out.append, 'cancelled'))
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert out == []


def test_timer_handle_api(loop):
    when = loop.time() + 10
    t = loop.call_at(when, print)
    assert t.when() == when
    assert t._scheduled
    assert 'when=' in repr(t) and 'print' in repr(t)
    h = loop.call_soon(print, 1)
    assert repr(h) == repr(asyncio.Handle(print, (1,), loop))
    assert h.get_context() is not None
    t.cancel()
    assert 'cancelled' in repr(t)


def test_many_cancelled_timers_are_purged(loop):
    timers = [loop.call_later(100, print) for _ in range(300)]
    for t in timers[:200]:
        t.cancel()
    assert loop._timer_count() == 300
    loop.call_soon(loop.stop)
    loop.run_forever()
    # asyncio's rule: > 100 timers, > 50% cancelled: the heap is rebuilt.
    assert loop._timer_count() == 100
    assert not timers[0]._scheduled and timers[250]._scheduled


def test_cancelled_timers_at_head_are_popped(loop):
    timers = [loop.call_later(100 + i, print) for i in range(10)]
    for t in timers[:3]:
        t.cancel()
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert loop._timer_count() == 7


def test_call_later_waits(loop):
    t0 = time.monotonic()
    fired = []
    loop.call_later(0.05, lambda: (fired.append(loop.time()), loop.stop()))
    loop.run_forever()
    assert fired and fired[0] - t0 >= 0.05
    assert time.monotonic() - t0 < 1


def test_time_is_monotonic_clock(loop):
    a = time.monotonic()
    b = loop.time()
    c = time.monotonic()
    assert a <= b <= c


def test_call_soon_threadsafe_from_threads(loop):
    got = []
    n_threads, per_thread = 4, 250

    def worker(k):
        for i in range(per_thread):
            loop.call_soon_threadsafe(got.append, (k, i))

    def check():
        if len(got) == n_threads * per_thread:
            loop.stop()
        else:
            loop.call_later(0.001, check)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    loop.call_soon(lambda: [t.start() for t in threads])
    loop.call_soon(check)
    loop.run_forever()
    for t in threads:
        t.join()
    assert len(got) == n_threads * per_thread
    for k in range(n_threads):
        assert [i for (kk, i) in got if kk == k] == list(range(per_thread))


def test_call_soon_threadsafe_wakes_a_sleeping_loop(loop):
    def later():
        time.sleep(0.05)
        loop.call_soon_threadsafe(loop.stop)

    t0 = time.monotonic()
    threading.Thread(target=later).start()
    loop.run_forever()  # nothing scheduled: waits in the reactor
    assert time.monotonic() - t0 < 2


def test_run_in_executor_and_to_thread(loop):
    async def main():
        a = await loop.run_in_executor(None, sum, [1, 2, 3])
        b = await asyncio.to_thread(lambda: threading.current_thread().name)
        return a, b
    a, b = loop.run_until_complete(main())
    assert a == 6 and b != threading.current_thread().name


def test_contextvars_follow_the_handle(loop):
    import contextvars
    var = contextvars.ContextVar('var', default='unset')
    seen = []
    ctx = contextvars.copy_context()
    ctx.run(var.set, 'in-ctx')
    loop.call_soon(lambda: seen.append(var.get()), context=ctx)
    loop.call_soon(lambda: seen.append(var.get()))
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert seen == ['in-ctx', 'unset']


def test_objects_holding_their_own_handles_are_collected(loop):
    # Handles are outside the garbage collector; a handle that ran or was
    # cancelled drops its callback, so these cycles still go away.
    import gc
    import weakref

    class Owner:
        def __init__(self, delay):
            self.fired = False
            self.handle = loop.call_later(delay, self.fire)

        def fire(self):
            self.fired = True

    ran, cancelled = Owner(0.001), Owner(100)
    cancelled.handle.cancel()
    refs = [weakref.ref(ran), weakref.ref(cancelled)]
    del ran, cancelled
    loop.call_later(0.02, loop.stop)
    loop.run_forever()
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_pending_handles_cost_no_gc_tracking(loop):
    import gc
    handles = [loop.call_later(100, print) for _ in range(1000)]
    assert not any(gc.is_tracked(h) for h in handles)
    for h in handles:
        h.cancel()


# The run path: arguments, contexts and re-entrancy, against asyncio's loop.

def test_arguments_reach_the_callback():
    def schedule(loop, out):
        loop.call_soon(lambda: out.append(()))
        for n in (1, 2, 3, 5):
            loop.call_soon(lambda *a: out.append(a), *range(n))
        loop.call_later(0, lambda *a: out.append(('later',) + a), 'x', 'y')
    expected, got = both(schedule)
    assert got == expected
    assert got[:5] == [(), (0,), (0, 1), (0, 1, 2), (0, 1, 2, 3, 4)]


def test_each_handle_runs_in_its_own_context():
    import contextvars
    var = contextvars.ContextVar('var', default=0)

    def schedule(loop, out):
        ctx = contextvars.copy_context()

        def bump(tag):
            var.set(var.get() + 1)
            out.append((tag, var.get()))
        # The same context twice: the second sees the first's set();
        # copies made by call_soon do not share it.
        loop.call_soon(bump, 'ctx', context=ctx)
        loop.call_soon(bump, 'ctx', context=ctx)
        loop.call_soon(bump, 'copy')
        loop.call_soon(bump, 'copy')
        loop.call_soon(lambda: out.append(('outer', var.get())))
    expected, got = both(schedule)
    assert got == expected
    assert got == [('ctx', 1), ('ctx', 2), ('copy', 1), ('copy', 1), ('outer', 0)]


def test_a_context_already_entered_is_reported_not_raised(any_loop, caplog):
    import contextvars
    ctx = contextvars.copy_context()
    ran = []
    h = any_loop.call_soon(ran.append, 1, context=ctx)
    h.cancel()
    h = type(h)(ran.append, (1,), any_loop, context=ctx)
    # Running the handle while its context is entered: Context.run's
    # RuntimeError goes to the exception handling (which itself runs in
    # the handle's context, so it is logged as unhandled, as asyncio does).
    ctx.run(h._run)
    assert ran == []
    assert 'is already entered' in caplog.text


def test_stop_from_a_callback_finishes_the_iteration():
    def schedule(loop, out):
        def stopper():
            out.append('stop')
            loop.stop()
            loop.call_soon(out.append, 'next-run')
        loop.call_soon(stopper)
        loop.call_soon(out.append, 'same-iteration')

    def run(loop):
        out = []
        schedule(loop, out)
        loop.run_forever()
        out.append('|')
        loop.call_soon(loop.stop)
        loop.run_forever()
        return out

    a, c = asyncio.new_event_loop(), corio.new_event_loop()
    try:
        expected, got = run(a), run(c)
    finally:
        a.close()
        c.close()
    assert got == expected == ['stop', 'same-iteration', '|', 'next-run']


def test_a_callback_cancels_itself_and_later_handles(any_loop):
    out = []
    handles = {}

    def first():
        handles['first'].cancel()  # already running: no effect on this run
        handles['third'].cancel()
        out.append('first')
    handles['first'] = any_loop.call_soon(first)
    handles['second'] = any_loop.call_soon(out.append, 'second')
    handles['third'] = any_loop.call_soon(out.append, 'third')
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert out == ['first', 'second']
    assert handles['first'].cancelled() and handles['third'].cancelled()


def test_raising_callback_with_arguments_reports_them(any_loop):
    contexts = []
    any_loop.set_exception_handler(lambda loop, c: contexts.append(c))
    out = []

    def boom(a, b):
        raise ValueError(a + b)
    h = any_loop.call_soon(boom, 1, 2)
    any_loop.call_soon(out.append, 'after')
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert out == ['after']
    [c] = contexts
    assert c['handle'] is h
    assert c['exception'].args == (3,)
    # The callback's repr, as asyncio formats it (3.13 leaves the
    # arguments out of it outside debug mode).
    assert c['message'].startswith('Exception in callback ')
    assert 'boom(' in c['message']


def test_loop_dropped_by_its_last_callback_is_collected():
    import gc
    import weakref
    loop = corio.new_event_loop()
    ref = weakref.ref(loop)
    holder = [loop]
    out = []

    def last():
        out.append('ran')
        holder.clear()  # the handle and run_forever still hold the loop
    loop.call_soon(last)
    loop.call_soon(loop.stop)
    loop.run_forever()
    loop.close()
    del loop
    gc.collect()
    assert out == ['ran'] and ref() is None


def test_many_callbacks_in_one_iteration_keep_fifo_order(loop):
    # Chains re-scheduling themselves, as the call_soon benchmark: each
    # iteration runs every chain once, in the order they were queued.
    out = []

    def step(chain, left):
        out.append(chain)
        if left:
            loop.call_soon(step, chain, left - 1)
    for chain in range(100):
        loop.call_soon(step, chain, 9)
    loop.call_later(0.05, loop.stop)
    loop.run_forever()
    assert out == list(range(100)) * 10


def test_callback_dropping_its_own_handle_keeps_its_context(any_loop):
    # The handle (and the context only it holds) must outlive the run even
    # if the callback cancels it and drops every other reference to it.
    import contextvars
    import gc
    var = contextvars.ContextVar('var', default='outer')
    ctx = contextvars.copy_context()
    ctx.run(var.set, 'inner')
    box = []
    seen = []

    def cb():
        box.pop().cancel()
        gc.collect()
        [object() for _ in range(1000)]
        seen.append(var.get())
        var.set('changed')
        seen.append(var.get())
    box.append(any_loop.call_soon(cb, context=ctx))
    del ctx
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert seen == ['inner', 'changed'] and var.get() == 'outer'


def test_call_soon_arguments_as_asyncio(any_loop):
    import contextvars
    var = contextvars.ContextVar('var', default='outer')
    ctx = contextvars.copy_context()
    ctx.run(var.set, 'inner')
    seen = []
    # `context` by a keyword name that is not the interned string.
    name = ''.join(['con', 'text'])
    any_loop.call_soon(lambda: seen.append(var.get()), **{name: ctx})
    any_loop.call_soon(lambda *a: seen.append(a), 1, 2, context=None)
    # The method unbound, from the class.
    type(any_loop).call_soon(any_loop, seen.append, 'unbound')
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert seen == ['inner', (1, 2), 'unbound']
    with pytest.raises(TypeError):
        any_loop.call_soon()
    with pytest.raises(TypeError, match="unexpected keyword argument 'ctx'"):
        any_loop.call_soon(print, ctx=ctx)
    if isinstance(any_loop, corio.EventLoop):
        # A C method: `self` must be a loop (asyncio's Python method fails
        # later, on a missing attribute).
        with pytest.raises(TypeError):
            type(any_loop).call_soon(object(), print)


def test_task_factory_set_get_and_collected():
    import gc
    import weakref
    loop = corio.new_event_loop()
    made = []

    def factory(loop_, coro, **kwargs):
        made.append(kwargs)
        return asyncio.Task(coro, loop=loop_, **kwargs)
    assert loop.get_task_factory() is None
    loop.set_task_factory(factory)
    assert loop.get_task_factory() is factory

    async def one():
        return 1
    assert loop.run_until_complete(loop.create_task(one(), name='n')) == 1
    assert len(made) == 1
    loop.set_task_factory(None)
    assert loop.get_task_factory() is None
    assert loop.run_until_complete(loop.create_task(one())) == 1
    assert len(made) == 1
    # A factory that holds the loop: the cycle goes through the Rust field.
    loop.set_task_factory(lambda l, c, **k: (loop, factory(l, c, **k))[1])
    ref = weakref.ref(loop)
    loop.close()
    del loop
    gc.collect()
    assert ref() is None


@pytest.mark.skipif(sys.version_info < (3, 12),
                    reason="asyncio.Task(eager_start=) is 3.12+")
def test_create_task_eager_start_runs_the_first_step_at_once(loop):
    # uvloop's extension: create_task's other keywords go to the Task.
    steps = []

    async def child(tag):
        steps.append(f'{tag} started')
        await asyncio.sleep(0)
        steps.append(f'{tag} done')

    async def main():
        eager = loop.create_task(child('eager'), eager_start=True)
        steps.append('created eager')
        await eager
        lazy = loop.create_task(child('lazy'))
        steps.append('created lazy')
        await lazy

    loop.run_until_complete(main())
    assert steps == ['eager started', 'created eager', 'eager done',
                     'created lazy', 'lazy started', 'lazy done']


def test_create_task_rejects_unknown_keywords(loop):
    async def child():
        pass

    coro = child()
    with pytest.raises(TypeError):
        loop.create_task(coro, no_such_option=1)
    coro.close()
