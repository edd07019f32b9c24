"""corio's Rust socket transport (``corio._transport.SocketTransport``):
the order of protocol calls, half-close, closing and aborting, flow
control, pause_reading, errors, large writes, BufferedProtocol, streams on
top, contextvars, re-entrant callbacks and collection. Most tests also run
on asyncio's own loop (``tloop`` fixture), the reference behaviour."""

import asyncio
import contextvars
import gc
import hashlib
import os
import socket
import struct
import sys
import weakref

import pytest

import corio
from corio import _transport


@pytest.fixture(params=['corio', 'asyncio'])
def tloop(request):
    loop = (corio.new_event_loop() if request.param == 'corio'
            else asyncio.new_event_loop())
    yield loop
    if not loop.is_closed():
        loop.close()


def run(loop, coro, timeout=10):
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


class Recorder(asyncio.Protocol):
    """Records every protocol call; `done` resolves on connection_lost."""

    def __init__(self, loop, keep_open=None):
        self.calls = []
        self.data = bytearray()
        self.keep_open = keep_open
        self.transport = None
        self.done = loop.create_future()

    def connection_made(self, transport):
        self.transport = transport
        self.calls.append('made')

    def data_received(self, data):
        assert isinstance(data, bytes)
        if not self.calls or self.calls[-1] != 'data':
            self.calls.append('data')
        self.data += data

    def eof_received(self):
        self.calls.append('eof')
        return self.keep_open

    def connection_lost(self, exc):
        self.calls.append(('lost', type(exc).__name__ if exc else None))
        if not self.done.done():
            self.done.set_result(exc)


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


def pair(loop, protocol):
    """A transport over one end of a Unix socketpair; the other end is a
    plain non-blocking socket for the test to drive."""
    a, b = socket.socketpair()
    b.setblocking(False)

    async def make():
        return await loop.connect_accepted_socket(lambda: protocol, a)

    transport, _ = run(loop, make())
    return transport, b


def spin(loop, n=5):
    for _ in range(n):
        run(loop, asyncio.sleep(0))


def test_uses_the_rust_transport_for_tcp_and_unix(loop):
    async def main():
        server = await loop.create_server(asyncio.Protocol, '127.0.0.1', 0)
        port = server.sockets[0].getsockname()[1]
        tr, _ = await loop.create_connection(asyncio.Protocol, '127.0.0.1', port)
        assert type(tr) is _transport.SocketTransport
        assert tr.get_extra_info('socket').getsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert tr.get_extra_info('peername')[1] == port
        assert tr.get_extra_info('sockname') == tr.get_extra_info('socket').getsockname()
        assert tr.get_extra_info('nope', 7) == 7
        assert tr.can_write_eof()
        assert 'fd=' in repr(tr)
        tr.close()
        server.close()
        await server.wait_closed()

    run(loop, main())
    tr, peer = pair(loop, asyncio.Protocol())
    assert type(tr) is _transport.SocketTransport
    tr.close()
    spin(loop)
    peer.close()


def test_asyncio_transport_on_request(loop):
    from asyncio import selector_events
    loop._rust_transport = False
    tr, peer = pair(loop, asyncio.Protocol())
    assert isinstance(tr, selector_events._SelectorSocketTransport)
    tr.close()
    spin(loop)
    peer.close()


def test_call_order_data_eof_lost(tloop):
    proto = Recorder(tloop)
    tr, peer = pair(tloop, proto)
    peer.send(b'hello ')
    peer.send(b'world')
    peer.shutdown(socket.SHUT_WR)
    assert run(tloop, proto.done) is None
    assert proto.calls == ['made', 'data', 'eof', ('lost', None)]
    assert bytes(proto.data) == b'hello world'
    assert tr.is_closing()
    assert peer.recv(10) == b''  # closed: EOF for the peer
    peer.close()


def test_half_close_when_eof_received_returns_true(tloop):
    proto = Recorder(tloop, keep_open=True)
    tr, peer = pair(tloop, proto)
    peer.send(b'ping')
    peer.shutdown(socket.SHUT_WR)
    spin(tloop, 10)
    assert proto.calls == ['made', 'data', 'eof']
    assert not tr.is_closing()
    tr.write(b'pong')
    tr.write_eof()
    tr.write_eof()  # twice: no-op
    with pytest.raises(RuntimeError):
        tr.write(b'more')
    spin(tloop, 3)
    peer.setblocking(True)
    assert peer.recv(10) == b'pong'
    assert peer.recv(10) == b''
    tr.close()
    assert run(tloop, proto.done) is None
    peer.close()


def test_write_after_close_is_dropped(tloop):
    proto = Recorder(tloop)
    tr, peer = pair(tloop, proto)
    tr.write(b'before')
    tr.close()
    tr.close()
    assert tr.is_closing() and not tr.is_reading()
    tr.write(b'after')  # dropped, as asyncio does
    run(tloop, proto.done)
    peer.setblocking(True)
    assert peer.recv(100) == b'before'
    assert peer.recv(100) == b''
    assert proto.calls == ['made', ('lost', None)]
    peer.close()


def test_close_flushes_then_connection_lost(tloop):
    proto = Recorder(tloop)
    tr, peer = pair(tloop, proto)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    blob = os.urandom(4 << 20)
    tr.write(blob)
    assert tr.get_write_buffer_size() > 0
    tr.close()
    got = bytearray()

    async def drain():
        while True:
            chunk = await tloop.sock_recv(peer, 1 << 16)
            if not chunk:
                return
            got.extend(chunk)

    run(tloop, drain())
    run(tloop, proto.done)
    assert bytes(got) == blob
    assert proto.calls == ['made', ('lost', None)]
    peer.close()


def test_abort_drops_the_buffer(tloop):
    proto = Recorder(tloop)
    tr, peer = pair(tloop, proto)
    tr.write(os.urandom(4 << 20))
    assert tr.get_write_buffer_size() > 0
    tr.abort()
    assert tr.is_closing()
    assert tr.get_write_buffer_size() == 0
    assert proto.calls == ['made']  # connection_lost comes next iteration
    assert run(tloop, proto.done) is None
    assert proto.calls == ['made', ('lost', None)]
    peer.close()


class FlowProto(Recorder):
    def pause_writing(self):
        self.calls.append(('pause', self.transport.get_write_buffer_size()))

    def resume_writing(self):
        self.calls.append(('resume', self.transport.get_write_buffer_size()))


def test_flow_control_thresholds(tloop):
    proto = FlowProto(tloop)
    tr, peer = pair(tloop, proto)
    assert tr.get_write_buffer_limits() == (16 * 1024, 64 * 1024)
    with pytest.raises(ValueError):
        tr.set_write_buffer_limits(high=1, low=2)
    tr.set_write_buffer_limits(high=200_000, low=50_000)
    assert tr.get_write_buffer_limits() == (50_000, 200_000)
    tr.set_write_buffer_limits(high=100)  # low = high // 4
    assert tr.get_write_buffer_limits() == (25, 100)
    tr.set_write_buffer_limits(high=200_000, low=50_000)
    chunk = b'x' * 10_000
    while not any(c[0] == 'pause' for c in proto.calls if isinstance(c, tuple)):
        tr.write(chunk)
    pause = [c for c in proto.calls if isinstance(c, tuple)]
    assert len(pause) == 1 and pause[0][1] > 200_000
    tr.write(chunk)  # paused already: no second call
    assert len([c for c in proto.calls if isinstance(c, tuple)]) == 1

    async def read_until_resumed():
        while not any(c[0] == 'resume' for c in proto.calls if isinstance(c, tuple)):
            await tloop.sock_recv(peer, 1 << 16)

    run(tloop, read_until_resumed())
    resume = [c for c in proto.calls if isinstance(c, tuple) and c[0] == 'resume']
    assert len(resume) == 1 and resume[0][1] <= 50_000
    tr.close()
    peer.close()
    run(tloop, proto.done)


def test_pause_writing_error_goes_to_the_exception_handler(tloop):
    class Bad(Recorder):
        def pause_writing(self):
            raise ZeroDivisionError('boom')

    errors = []
    tloop.set_exception_handler(lambda loop, ctx: errors.append(ctx))
    proto = Bad(tloop)
    tr, peer = pair(tloop, proto)
    tr.set_write_buffer_limits(high=1000)
    tr.write(b'y' * (4 << 20))
    assert errors and errors[0]['message'] == 'protocol.pause_writing() failed'
    assert isinstance(errors[0]['exception'], ZeroDivisionError)
    assert errors[0]['transport'] is tr
    tr.abort()
    run(tloop, proto.done)
    peer.close()


def test_pause_reading_stops_data_received(tloop):
    proto = Recorder(tloop)
    tr, peer = pair(tloop, proto)
    assert tr.is_reading()
    tr.pause_reading()
    tr.pause_reading()
    assert not tr.is_reading()
    peer.send(b'while paused')
    spin(tloop, 10)
    assert proto.data == b''
    tr.resume_reading()
    assert tr.is_reading()
    spin(tloop, 10)
    assert proto.data == b'while paused'
    tr.close()
    run(tloop, proto.done)
    peer.close()


def test_reset_by_peer_is_connection_reset_error(tloop):
    async def main():
        proto = Recorder(tloop)
        server = await tloop.create_server(lambda: proto, '127.0.0.1', 0)
        port = server.sockets[0].getsockname()[1]
        client = socket.create_connection(('127.0.0.1', port))
        while proto.transport is None:
            await asyncio.sleep(0.001)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack('ii', 1, 0))
        client.send(b'x')
        client.close()  # RST
        exc = await proto.done
        server.close()
        await server.wait_closed()
        return exc, proto.calls

    exc, calls = run(tloop, main())
    assert isinstance(exc, ConnectionResetError)
    assert calls[-1] == ('lost', 'ConnectionResetError')


def test_data_received_error_is_fatal(tloop):
    class Bad(Recorder):
        def data_received(self, data):
            raise ValueError('bad data')

    errors = []
    tloop.set_exception_handler(lambda loop, ctx: errors.append(ctx))
    proto = Bad(tloop)
    tr, peer = pair(tloop, proto)
    peer.send(b'x')
    exc = run(tloop, proto.done)
    assert isinstance(exc, ValueError)
    assert errors[0]['message'] == 'Fatal error: protocol.data_received() call failed.'
    assert errors[0]['protocol'] is proto
    peer.close()


def test_write_rejects_str_and_accepts_buffers(tloop):
    proto = Recorder(tloop)
    tr, peer = pair(tloop, proto)
    with pytest.raises(TypeError):
        tr.write('text')
    tr.write(bytearray(b'ab'))
    tr.write(memoryview(b'cd'))
    tr.writelines([b'ef', bytearray(b'gh'), memoryview(b'ij')])
    tr.write(b'')
    spin(tloop)
    assert peer.recv(100) == b'abcdefghij'
    tr.close()
    run(tloop, proto.done)
    peer.close()


def test_ten_megabytes_arrive_intact(tloop):
    blob = os.urandom(10 << 20)

    async def main():
        async def handle(reader, writer):
            data = await reader.read()
            writer.write(hashlib.sha256(data).digest())
            writer.write(len(data).to_bytes(8, 'big'))
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(handle, '127.0.0.1', 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        writer.write(blob)
        await writer.drain()
        writer.write_eof()
        reply = await reader.read()
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return reply

    reply = run(tloop, main(), timeout=60)
    assert reply[:32] == hashlib.sha256(blob).digest()
    assert int.from_bytes(reply[32:], 'big') == len(blob)


def test_buffered_protocol(tloop):
    class Buffered(asyncio.BufferedProtocol):
        def __init__(self):
            self.buf = bytearray(100)
            self.got = bytearray()
            self.calls = []
            self.done = tloop.create_future()

        def connection_made(self, transport):
            self.calls.append('made')

        def get_buffer(self, sizehint):
            assert sizehint == -1
            return self.buf

        def buffer_updated(self, nbytes):
            assert 0 < nbytes <= 100
            self.got += self.buf[:nbytes]

        def eof_received(self):
            self.calls.append('eof')

        def connection_lost(self, exc):
            self.calls.append('lost')
            self.done.set_result(exc)

    proto = Buffered()
    tr, peer = pair(tloop, proto)
    blob = os.urandom(10_000)
    peer.send(blob)
    peer.shutdown(socket.SHUT_WR)
    assert run(tloop, proto.done) is None
    assert bytes(proto.got) == blob
    assert proto.calls == ['made', 'eof', 'lost']
    peer.close()


def test_set_protocol_switches_to_a_buffered_protocol(tloop):
    first = Recorder(tloop)
    tr, peer = pair(tloop, first)

    class Second(asyncio.BufferedProtocol):
        def __init__(self):
            self.buf = bytearray(8)
            self.got = bytearray()

        def get_buffer(self, n):
            return self.buf

        def buffer_updated(self, n):
            self.got += self.buf[:n]

    second = Second()
    tr.set_protocol(second)
    assert tr.get_protocol() is second
    peer.send(b'0123456789abcdef')
    spin(tloop, 10)
    assert second.got == b'0123456789abcdef'
    assert first.data == b''
    tr.abort()
    spin(tloop)
    peer.close()


def test_streams_echo_tcp_and_unix(tloop, tmp_path):
    async def handle(reader, writer):
        while line := await reader.readline():
            writer.write(line.upper())
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def talk(reader, writer):
        out = []
        for word in (b'alpha\n', b'beta\n', b'gamma\n'):
            writer.write(word)
            out.append(await reader.readline())
        writer.close()
        await writer.wait_closed()
        return out

    async def main():
        server = await asyncio.start_server(handle, '127.0.0.1', 0)
        port = server.sockets[0].getsockname()[1]
        tcp = await talk(*await asyncio.open_connection('127.0.0.1', port))
        server.close()
        await server.wait_closed()
        path = str(tmp_path / 's.sock')
        server = await asyncio.start_unix_server(handle, path)
        unix = await talk(*await asyncio.open_unix_connection(path))
        server.close()
        await server.wait_closed()
        return tcp, unix

    tcp, unix = run(tloop, main())
    assert tcp == unix == [b'ALPHA\n', b'BETA\n', b'GAMMA\n']


def test_protocol_callbacks_run_in_the_transports_context(loop):
    var = contextvars.ContextVar('var', default='unset')
    seen = []

    class Proto(asyncio.Protocol):
        def connection_made(self, transport):
            seen.append(('made', var.get()))
            self.transport = transport

        def data_received(self, data):
            seen.append(('data', var.get()))

        def pause_writing(self):
            seen.append(('pause', var.get()))

        def resume_writing(self):
            seen.append(('resume', var.get()))

        def eof_received(self):
            seen.append(('eof', var.get()))

        def connection_lost(self, exc):
            seen.append(('lost', var.get()))

    a, b = socket.socketpair()
    b.setblocking(False)

    async def make():
        var.set('inner')
        return await loop.connect_accepted_socket(Proto, a)

    tr, proto = run(loop, make())

    async def elsewhere():
        var.set('outer')
        tr.set_write_buffer_limits(high=10)
        tr.write(b'z' * (1 << 20))  # pause_writing, from a user call
        while tr.get_write_buffer_size():
            try:
                await loop.sock_recv(b, 1 << 16)
            except BlockingIOError:
                pass
        b.send(b'hi')
        b.shutdown(socket.SHUT_WR)
        while not any(s[0] == 'eof' for s in seen):
            await asyncio.sleep(0.001)
        tr.close()  # connection_lost, from a user call
        await asyncio.sleep(0.01)

    run(loop, elsewhere())
    assert {s[0] for s in seen} == {'made', 'data', 'pause', 'resume', 'eof', 'lost'}
    assert all(value == 'inner' for _, value in seen), seen
    b.close()


def test_reentrant_callbacks(tloop):
    """data_received aborts, writes and swaps the protocol; connection_lost
    drops the last reference to the transport."""

    class Reentrant(Recorder):
        def data_received(self, data):
            super().data_received(data)
            self.transport.write(b'reply')
            self.transport.pause_reading()
            self.transport.resume_reading()
            self.transport.set_protocol(self)
            self.transport.abort()
            self.transport.write(b'dropped')
            self.transport.close()

        def connection_lost(self, exc):
            super().connection_lost(exc)
            self.transport = None

    proto = Reentrant(tloop)
    tr, peer = pair(tloop, proto)
    ref = weakref.ref(tr)
    del tr
    peer.send(b'go')
    assert run(tloop, proto.done) is None
    assert proto.calls == ['made', 'data', ('lost', None)]
    gc.collect()
    assert ref() is None
    peer.close()


def _open_fds():
    return len(os.listdir('/proc/self/fd'))


def test_many_connections_leak_neither_fds_nor_objects(loop):
    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport  # a cycle with the transport

        def data_received(self, data):
            self.transport.write(data)
            self.transport.close()

    refs = []

    async def main():
        server = await loop.create_server(Echo, '127.0.0.1', 0)
        port = server.sockets[0].getsockname()[1]
        for _ in range(200):
            reader, writer = await asyncio.open_connection('127.0.0.1', port)
            refs.append(weakref.ref(writer.transport))
            writer.write(b'ping')
            assert await reader.read() == b'ping'
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()

    run(loop, main())  # warm up imports and caches
    refs.clear()
    gc.collect()
    before = _open_fds()
    run(loop, main(), timeout=60)
    run(loop, asyncio.sleep(0.05))
    gc.collect()
    assert _open_fds() == before
    assert all(r() is None for r in refs)


def test_one_descriptor_per_connection_as_asyncio(tloop):
    # The transport holds its socket open (an io-reference) rather than
    # using a dup: 20 accepted connections cost 20 server-side fds, as on
    # asyncio's loop, never 40.
    async def main():
        server = await tloop.create_server(asyncio.Protocol, '127.0.0.1', 0)
        port = server.sockets[0].getsockname()[1]
        before = _open_fds()
        clients = []
        for _ in range(20):
            c = socket.create_connection(('127.0.0.1', port))
            clients.append(c)
        await asyncio.sleep(0.1)
        grown = _open_fds() - before
        for c in clients:
            c.close()
        server.close()
        await server.wait_closed()
        return grown

    assert run(tloop, main()) == 40  # 20 clients + 20 accepted


def test_closing_the_original_socket_waits_for_the_transport(loop):
    # create_connection(sock=s) then s.close(): the transport keeps
    # working, and the descriptor closes with the transport (the
    # transport's io-reference defers the real close; uvloop behaves the
    # same, asyncio's transport breaks).
    tloop = loop
    async def main():
        server = await tloop.create_server(EchoProtocol, '127.0.0.1', 0)
        port = server.sockets[0].getsockname()[1]
        s = socket.create_connection(('127.0.0.1', port))
        fd = s.fileno()
        proto = Recorder(tloop)
        tr, _ = await tloop.create_connection(lambda: proto, sock=s)
        s.close()
        tr.write(b'still here')
        while bytes(proto.data) != b'still here':
            await asyncio.sleep(0.01)
        os.fstat(fd)  # still open
        tr.close()
        await proto.done
        server.close()
        await server.wait_closed()
        return fd

    fd = run(tloop, main())
    with pytest.raises(OSError):
        os.fstat(fd)


def test_transport_has_no_instance_dict_but_takes_weak_references(loop):
    # __slots__, as uvloop's transports: no per-connection __dict__, and
    # loop._transports (a WeakValueDictionary) still holds it weakly.
    tr, peer = pair(loop, asyncio.Protocol())
    assert not hasattr(tr, '__dict__')
    with pytest.raises(AttributeError):
        tr.some_attribute = 1
    assert weakref.ref(tr)() is tr
    assert loop._transports[tr._sock_fd] is tr
    tr.close()
    spin(loop)
    peer.close()


def test_unclosed_transport_warns_and_closes_its_socket(loop):
    tr, peer = pair(loop, asyncio.Protocol())
    fd = tr._sock_fd
    loop.close()
    with pytest.warns(ResourceWarning, match='unclosed transport'):
        del tr
        gc.collect()
    with pytest.raises(OSError):
        os.fstat(fd)
    peer.close()


@pytest.fixture(scope='module')
def certs(tmp_path_factory):
    import shutil
    import subprocess
    if shutil.which('openssl') is None:
        pytest.skip('no openssl command to make a certificate')
    d = tmp_path_factory.mktemp('certs')
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
         '-keyout', str(d / 'key.pem'), '-out', str(d / 'cert.pem'),
         '-days', '1', '-subj', '/CN=localhost'],
        check=True, capture_output=True)
    return str(d / 'cert.pem'), str(d / 'key.pem')


def test_start_tls_over_the_transport(tloop, certs):
    """Plain text, then TLS on the same connection (asyncio's SSLProtocol,
    a BufferedProtocol, over the transport: pause_reading, set_protocol,
    resume_reading)."""
    import ssl
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(*certs)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    hello = os.urandom(300_000)

    async def handle(reader, writer):
        writer.write(hello)
        await writer.drain()
        assert await reader.readexactly(5) == b'start'
        writer.write(b'ok')  # the client starts TLS once we switched
        await writer.start_tls(server_ctx)
        data = await reader.readexactly(len(hello))
        writer.write(hashlib.sha256(data).digest())
        await writer.drain()
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, '127.0.0.1', 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        assert await reader.readexactly(len(hello)) == hello
        writer.write(b'start')
        assert await reader.readexactly(2) == b'ok'
        await writer.start_tls(client_ctx, server_hostname='localhost')
        assert writer.get_extra_info('ssl_object') is not None
        writer.write(hello)
        digest = await reader.readexactly(32)
        writer.close()
        server.close()
        await server.wait_closed()
        return digest

    if sys.version_info < (3, 11):
        pytest.skip('StreamWriter.start_tls is 3.11+')
    assert run(tloop, main(), timeout=30) == hashlib.sha256(hello).digest()
