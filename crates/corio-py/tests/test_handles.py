"""Handles made by the loop's fast path (a free list of its own, a
replaced ``tp_dealloc``) and loop objects allocated through
``object.__new__`` (inline attribute values): what a user can observe of
either must be what asyncio shows."""

import asyncio
import dis
import gc
import sys
import weakref

import pytest

import corio
from corio import _corio


def drain(loop, n=3):
    """Runs a few iterations."""
    for _ in range(n):
        loop.call_soon(loop.stop)
        loop.run_forever()


def test_a_handle_kept_after_it_ran_stays_intact_while_others_reuse_memory(loop):
    out = []
    ran = loop.call_soon(out.append, 'ran')
    cancelled = loop.call_soon(out.append, 'cancelled')
    cancelled.cancel()
    drain(loop)
    # Many handles made and released since: the free list recycles theirs.
    for i in range(2000):
        loop.call_soon(out.append, i)
    drain(loop)
    assert out[0] == 'ran' and 'cancelled' not in out and len(out) == 2001
    assert not ran.cancelled() and ran._callback is None
    assert cancelled.cancelled() and cancelled._callback is None
    assert cancelled._args is None
    assert repr(ran) == '<Handle>' and repr(cancelled) == '<Handle cancelled>'
    assert type(ran) is _corio.Handle and ran.get_context() is not None


def test_live_handles_are_distinct_objects(loop):
    handles = [loop.call_soon(len, ()) for _ in range(300)]
    assert len({id(h) for h in handles}) == 300
    first = handles[0]
    handles[0].cancel()
    del handles[1:]
    drain(loop)
    again = [loop.call_soon(len, ()) for _ in range(300)]
    assert all(h is not first for h in again)
    assert first.cancelled() and not any(h.cancelled() for h in again)
    drain(loop)


def test_weak_references_to_a_handle_die_with_it(loop):
    dead = []
    h = loop.call_soon(len, ())
    ref = weakref.ref(h, lambda r: dead.append(r))
    del h
    assert ref() is not None  # the ready queue holds it
    drain(loop)
    assert ref() is None and len(dead) == 1
    # The memory, reused by the next handles, carries no stale weakref.
    hs = [loop.call_soon(len, ()) for _ in range(10)]
    refs = [weakref.ref(x) for x in hs]
    del hs
    drain(loop)
    assert all(r() is None for r in refs)


def test_cycles_through_handle_arguments_are_collected(loop):
    class Obj:
        pass

    def cb(obj):
        pass

    obj = Obj()
    obj.handle = loop.call_soon(cb, obj)  # obj -> handle -> args -> obj
    pending = Obj()
    pending.handle = loop.call_later(3600, cb, pending)
    pending.handle.cancel()  # a cancelled handle drops its arguments
    refs = weakref.ref(obj), weakref.ref(pending)
    del obj, pending
    drain(loop)  # a handle that ran gives up its callback and arguments
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_handle_arguments_and_repr_as_asyncio():
    seen = []
    for loop in (asyncio.new_event_loop(), corio.new_event_loop()):
        h0 = loop.call_soon(len)
        h1 = loop.call_soon(max, 1, 2)
        before = (h0._args, h1._args, h0._callback, h1._callback, repr(h1))
        h0.cancel()
        h1.cancel()
        after = (h0._args, h1._args, h0._callback, repr(h1))
        seen.append((before, after))
        drain(loop)
        loop.close()
    assert seen[0] == seen[1]
    assert seen[1][0][:4] == ((), (1, 2), len, max)


def test_python_subclasses_of_handle_live_and_die_normally(loop):
    class MyHandle(_corio.Handle):
        pass

    out = []
    h = MyHandle(out.append, ('x',), loop)
    h.extra = 1
    ref = weakref.ref(h)
    h._run()
    assert out == ['x'] and h.extra == 1 and type(h) is MyHandle
    del h
    gc.collect()
    assert ref() is None
    t = _corio.TimerHandle(loop.time(), out.append, ('y',), loop)
    t._run()
    assert out == ['x', 'y'] and t.when() > 0
    del t


def _specialised(f, *args):
    """The specialised attribute instructions of `f` after a warm-up."""
    for _ in range(64):
        f(*args)
    return [i.opname for i in dis.get_instructions(f, adaptive=True)
            if 'ATTR' in i.opname or 'METHOD' in i.opname]


@pytest.mark.skipif(
    sys.version_info >= (3, 13),
    reason="3.13 keeps inline values for classes without C fields only")
@pytest.mark.skipif(
    _corio.__file__.endswith('.abi3.so'),
    reason="the stable ABI hides tp_alloc: loops keep PyO3's allocation")
def test_loop_method_lookups_are_specialised_as_on_asyncios_loop():
    def call(loop):
        loop.get_debug()

    loops = [asyncio.new_event_loop(), corio.new_event_loop()]
    try:
        for loop in loops:
            code = call.__code__
            call.__code__ = code.replace()  # a fresh, unspecialised copy
            ops = _specialised(call, loop)
            assert any('WITH_VALUES' in op for op in ops), (type(loop), ops)
    finally:
        for loop in loops:
            loop.close()


def test_subclasses_of_event_loop_keep_their_attributes_and_dict():
    class MyLoop(corio.EventLoop):
        def __init__(self):
            super().__init__()
            self.mine = 'x'

        def call_soon(self, callback, *args, context=None):
            self.calls += 1
            return super().call_soon(callback, *args, context=context)

    loop = MyLoop()
    try:
        loop.calls = 0
        out = []
        loop.call_soon(out.append, 1)
        drain(loop, 1)
        assert out == [1] and loop.calls >= 2
        assert loop.mine == 'x' and vars(loop)['mine'] == 'x'
        assert '_ready' in loop.__dict__ and not loop.get_debug()
        loop.set_debug(True)
        assert loop.get_debug() and loop._debug
        loop.__dict__['late'] = 2
        assert loop.late == 2
        del loop.mine
        assert not hasattr(loop, 'mine')

        class Deeper(MyLoop):
            __slots__ = ()

        deeper = Deeper()
        deeper.calls = 0
        deeper.call_soon(out.append, 2)
        drain(deeper, 1)
        assert out == [1, 2]
        deeper.close()
    finally:
        loop.close()
    ref = weakref.ref(loop)
    del loop
    gc.collect()
    assert ref() is None


def test_loop_objects_are_not_picklable_as_on_asyncio():
    import pickle
    for factory in (asyncio.new_event_loop, corio.new_event_loop):
        loop = factory()
        try:
            # asyncio's fails on a local function of its WeakSet
            # (AttributeError), corio's on the Rust core (TypeError).
            with pytest.raises((TypeError, AttributeError)):
                pickle.dumps(loop)
        finally:
            loop.close()


def test_a_handle_cancelled_in_debug_mode_keeps_asyncios_repr():
    seen = []
    for factory in (asyncio.new_event_loop, corio.new_event_loop):
        loop = factory()
        loop.set_debug(True)
        h = loop.call_soon(print, 1)
        h.cancel()
        seen.append(repr(h).split(' created at ')[0])
        drain(loop, 1)
        loop.close()
    assert seen[0] == seen[1] == '<Handle cancelled print(1)'
