"""loop.sock_* (corio's in Rust, src/sock/): results, errors, ordering,
cancellation without data loss, big sends, descriptor reuse after close,
coexistence with add_reader/add_writer and transports. Most run on corio's
loop and on asyncio's (the `any_loop` fixture); the ones asyncio's loop
does not support (several waiting calls on one socket) run on corio's."""

import asyncio
import os
import socket
import ssl
import struct

import pytest


def run(loop, coro, timeout=10.0):
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


def pair(family=socket.AF_UNIX, type=socket.SOCK_STREAM):
    a, b = socket.socketpair(family, type)
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def tcp_pair():
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen()
    c = socket.create_connection(lsock.getsockname())
    s, _ = lsock.accept()
    lsock.close()
    c.setblocking(False)
    s.setblocking(False)
    return c, s


def test_recv_waits_then_returns_the_data(any_loop):
    a, b = pair()

    async def main():
        fut = asyncio.ensure_future(any_loop.sock_recv(a, 100))
        await asyncio.sleep(0.01)
        assert not fut.done()
        b.send(b'hello')
        assert await fut == b'hello'
        b.send(b'there')
        assert await any_loop.sock_recv(a, 100) == b'there'
        b.close()
        assert await any_loop.sock_recv(a, 100) == b''

    run(any_loop, main())
    a.close()


def test_recv_into_and_bytearray_sendall(any_loop):
    a, b = pair()

    async def main():
        buf = bytearray(10)
        fut = asyncio.ensure_future(any_loop.sock_recv_into(a, buf))
        await asyncio.sleep(0.01)
        await any_loop.sock_sendall(b, bytearray(b'abc'))
        assert await fut == 3
        assert buf[:3] == b'abc'
        view = memoryview(bytearray(b'0123456789'))[2:6]
        await any_loop.sock_sendall(b, view)
        assert await any_loop.sock_recv_into(a, memoryview(buf)[5:]) == 4
        assert buf[5:9] == b'2345'

    run(any_loop, main())
    a.close()
    b.close()


def test_concurrent_recvs_are_served_in_order(loop):
    a, b = pair()

    async def main():
        futs = [asyncio.ensure_future(loop.sock_recv(a, 1)) for _ in range(5)]
        await asyncio.sleep(0.01)
        b.send(b'abc')
        await asyncio.sleep(0.01)
        b.send(b'de')
        assert await asyncio.gather(*futs) == [b'a', b'b', b'c', b'd', b'e']
        assert a._io_refs == 0

    run(loop, main())
    a.close()
    b.close()


def test_a_cancelled_recv_consumes_nothing(any_loop):
    a, b = pair()

    async def main():
        fut = asyncio.ensure_future(any_loop.sock_recv(a, 100))
        await asyncio.sleep(0.01)
        fut.cancel()
        b.send(b'kept')
        with pytest.raises(asyncio.CancelledError):
            await fut
        assert await any_loop.sock_recv(a, 100) == b'kept'
        # A timed-out recv (wait_for cancels it) loses nothing either.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(any_loop.sock_recv(a, 100), 0.01)
        b.send(b'again')
        assert await any_loop.sock_recv(a, 100) == b'again'
        assert a._io_refs == 0

    run(any_loop, main())
    a.close()
    b.close()


def test_cancelling_a_queued_recv_keeps_the_order(loop):
    a, b = pair()

    async def main():
        first = asyncio.ensure_future(loop.sock_recv(a, 2))
        second = asyncio.ensure_future(loop.sock_recv(a, 2))
        third = asyncio.ensure_future(loop.sock_recv(a, 2))
        await asyncio.sleep(0.01)
        second.cancel()
        # Data and the cancellation in the same iteration: the cancelled
        # call must not take its share.
        b.send(b'12')
        await asyncio.sleep(0.01)
        b.send(b'34')
        assert await first == b'12'
        assert await third == b'34'
        assert second.cancelled()

    run(loop, main())
    a.close()
    b.close()


def test_big_sendall_with_partial_sends(any_loop):
    a, b = pair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    data = os.urandom(8 << 20)

    async def reader():
        got = bytearray()
        while len(got) < len(data):
            chunk = await any_loop.sock_recv(b, 65536)
            assert chunk
            got += chunk
        return bytes(got)

    async def main():
        r = asyncio.ensure_future(reader())
        await any_loop.sock_sendall(a, data)
        assert await r == data

    run(any_loop, main())
    a.close()
    b.close()


def test_reset_and_broken_pipe_raise_the_os_error(any_loop):
    c, s = tcp_pair()

    async def main():
        fut = asyncio.ensure_future(any_loop.sock_recv(c, 100))
        await asyncio.sleep(0.01)
        # An abortive close: RST.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
        s.close()
        with pytest.raises(ConnectionResetError):
            await fut
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for _ in range(100):
                await any_loop.sock_sendall(c, b'x' * 65536)

    run(any_loop, main())
    c.close()


def test_descriptor_reused_after_close(any_loop):
    """A registration left by a closed socket never answers for the socket
    that gets its descriptor number next (sock_*, add_reader, transports)."""

    async def main():
        for round_ in range(3):
            a, b = pair()
            fut = asyncio.ensure_future(any_loop.sock_recv(a, 10))
            await asyncio.sleep(0)
            b.send(b'1')
            assert await fut == b'1'
            fd = a.fileno()
            a.close()
            b.close()
            # The same number, another socket: sock_recv waits on it.
            a, b = pair()
            assert fd in (a.fileno(), b.fileno())
            x, y = (a, b) if a.fileno() == fd else (b, a)
            fut = asyncio.ensure_future(any_loop.sock_recv(x, 10))
            await asyncio.sleep(0.01)
            y.send(b'2')
            assert await fut == b'2'
            x.close()
            y.close()
            # The number again, now under add_reader.
            a, b = pair()
            x, y = (a, b) if a.fileno() == fd else (b, a)
            got = any_loop.create_future()
            any_loop.add_reader(x, lambda: got.done() or got.set_result(x.recv(10)))
            y.send(b'3')
            assert await got == b'3'
            assert any_loop.remove_reader(x)
            x.close()
            y.close()

    run(any_loop, main())


def test_add_reader_after_sock_recv_on_the_same_socket(any_loop):
    a, b = pair()

    async def main():
        fut = asyncio.ensure_future(any_loop.sock_recv(a, 10))
        await asyncio.sleep(0)
        b.send(b'x')
        assert await fut == b'x'
        # At once, while the registration is still kept.
        got = any_loop.create_future()
        any_loop.add_reader(a, lambda: got.done() or got.set_result(a.recv(10)))
        b.send(b'y')
        assert await got == b'y'
        assert any_loop.remove_reader(a)
        # And sock_recv again afterwards.
        fut = asyncio.ensure_future(any_loop.sock_recv(a, 10))
        await asyncio.sleep(0.01)
        b.send(b'z')
        assert await fut == b'z'

    run(any_loop, main())
    a.close()
    b.close()


def test_add_writer_while_a_recv_waits(any_loop):
    a, b = pair()

    async def main():
        fut = asyncio.ensure_future(any_loop.sock_recv(a, 10))
        await asyncio.sleep(0.01)
        writable = any_loop.create_future()
        any_loop.add_writer(a, lambda: writable.done() or writable.set_result(1))
        assert await writable == 1
        assert any_loop.remove_writer(a)
        assert not fut.done()
        b.send(b'both')
        assert await fut == b'both'
        # The reader the waiting recv used is gone with it.
        await asyncio.sleep(0.01)
        assert a.fileno() not in any_loop._selector.get_map()

    run(any_loop, main())
    a.close()
    b.close()


def test_sock_recv_while_add_writer_is_set(any_loop):
    a, b = pair()

    async def main():
        ticks = []
        any_loop.add_writer(a, lambda: ticks.append(1))
        fut = asyncio.ensure_future(any_loop.sock_recv(a, 10))
        await asyncio.sleep(0.01)
        b.send(b'hi')
        assert await fut == b'hi'
        assert ticks, 'the writer kept firing'
        assert any_loop.remove_writer(a)

    run(any_loop, main())
    a.close()
    b.close()


def test_a_transport_on_a_socket_used_by_sock_recv(any_loop):
    a, b = pair()

    class Proto(asyncio.Protocol):
        def __init__(self):
            self.got = any_loop.create_future()

        def data_received(self, data):
            if not self.got.done():
                self.got.set_result(data)

    async def main():
        fut = asyncio.ensure_future(any_loop.sock_recv(a, 5))
        await asyncio.sleep(0)
        b.send(b'hello')
        assert await fut == b'hello'
        # The same step: the socket goes to a transport.
        tr, proto = await any_loop.connect_accepted_socket(Proto, a)
        b.send(b'world')
        assert await proto.got == b'world'
        tr.close()

    run(any_loop, main())
    b.close()


def test_sock_recv_on_a_transports_socket_raises(any_loop):
    a, b = pair()

    async def main():
        tr, _ = await any_loop.connect_accepted_socket(asyncio.Protocol, a)
        with pytest.raises(RuntimeError, match='is used by transport'):
            await any_loop.sock_recv(a, 10)
        tr.close()

    run(any_loop, main())
    b.close()


def test_blocking_and_ssl_sockets_are_refused(any_loop):
    a, b = socket.socketpair()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    s = ctx.wrap_socket(socket.socket(), do_handshake_on_connect=False)

    async def main():
        with pytest.raises(TypeError, match='SSLSocket'):
            await any_loop.sock_recv(s, 10)
        any_loop.set_debug(True)
        try:
            with pytest.raises(ValueError, match='non-blocking'):
                await any_loop.sock_recv(a, 10)
            with pytest.raises(ValueError, match='non-blocking'):
                await any_loop.sock_sendall(a, b'x')
        finally:
            any_loop.set_debug(False)

    run(any_loop, main())
    for x in (a, b, s):
        x.close()


def test_accept_gives_a_non_blocking_socket(any_loop):
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen()
    lsock.setblocking(False)

    async def main():
        fut = asyncio.ensure_future(any_loop.sock_accept(lsock))
        await asyncio.sleep(0.01)
        c = socket.create_connection(lsock.getsockname())
        conn, addr = await fut
        assert addr == c.getsockname()
        assert conn.gettimeout() == 0
        await any_loop.sock_sendall(conn, b'hi')
        assert c.recv(2) == b'hi'
        conn.close()
        c.close()

    run(any_loop, main())
    lsock.close()


def test_udp_recvfrom_and_sendto(any_loop):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (a, b):
        s.bind(('127.0.0.1', 0))
        s.setblocking(False)

    async def main():
        fut = asyncio.ensure_future(any_loop.sock_recvfrom(a, 100))
        await asyncio.sleep(0.01)
        await any_loop.sock_sendto(b, b'dgram', a.getsockname())
        assert await fut == (b'dgram', b.getsockname())
        buf = bytearray(100)
        fut = asyncio.ensure_future(any_loop.sock_recvfrom_into(a, buf))
        await asyncio.sleep(0.01)
        await any_loop.sock_sendto(b, b'into', a.getsockname())
        assert await fut == (4, b.getsockname())
        assert buf[:4] == b'into'
        # One datagram per recv, never merged.
        b.sendto(b'one', a.getsockname())
        b.sendto(b'two', a.getsockname())
        await asyncio.sleep(0.01)
        assert await any_loop.sock_recv(a, 100) == b'one'
        assert await any_loop.sock_recv(a, 100) == b'two'

    run(any_loop, main())
    a.close()
    b.close()


def test_many_sockets_leave_no_descriptor_behind(any_loop):
    before = len(os.listdir('/proc/self/fd'))

    async def main():
        for _ in range(200):
            a, b = pair()
            fut = asyncio.ensure_future(any_loop.sock_recv(a, 10))
            await asyncio.sleep(0)
            await any_loop.sock_sendall(b, b'x')
            assert await fut == b'x'
            a.close()
            b.close()
        for _ in range(3):
            await asyncio.sleep(0)

    run(any_loop, main())
    assert len(os.listdir('/proc/self/fd')) <= before


def test_sock_recv_is_a_coroutine(any_loop):
    a, b = pair()

    async def main():
        b.send(b'now')
        task = any_loop.create_task(any_loop.sock_recv(a, 10))
        assert await task == b'now'

    run(any_loop, main())
    a.close()
    b.close()
