"""contextvars in protocol callbacks under TLS, UDP and subprocesses: on
corio's loop every callback runs in the context the transport was made
in, whichever call triggered it (uvloop's rule; python/corio/_sslproto.py
for TLS, python/corio/_compat.py for UDP and 3.11's subprocesses). The
plain TCP transport's contexts are tests/test_transport.py's.

Each test runs on corio's loop and on asyncio's own (``any_loop``): on
asyncio's, the callbacks a user call triggers run in the caller's context,
and the test checks that it does (the corio-only behaviour is uvloop's,
checked by uvloop's test_context.py too: scripts/uvloop_tests.sh)."""

import asyncio
import contextvars
import errno
import socket
import sys
import types

import pytest

import corio
from test_ssl import make_tls_contexts, tls_layer_has_data

cvar = contextvars.ContextVar('cvar', default='outer')


def run(loop, coro, timeout=10.0):
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


def is_corio(loop):
    return isinstance(loop, corio.EventLoop)


def call_in(name, func, *args):
    """``func(*args)`` in a new context where cvar is ``name``: a user
    call made from somewhere else than the protocol."""
    def call():
        cvar.set(name)
        return func(*args)
    return contextvars.copy_context().run(call)


@pytest.fixture(scope='module')
def tls(tmp_path_factory):
    server, client = make_tls_contexts(str(tmp_path_factory.mktemp('certs')))
    return types.SimpleNamespace(server=server, client=client)


class Seen:
    """The value of cvar seen by each protocol callback, by name (the
    first call of each), and a future per callback."""

    def __init__(self, loop):
        self.loop = loop
        self.seen = {}
        self.futures = {}
        self.transport = None

    def saw(self, name):
        self.seen.setdefault(name, cvar.get())
        self.future(name)
        if not self.futures[name].done():
            self.futures[name].set_result(cvar.get())

    def future(self, name):
        if name not in self.futures:
            self.futures[name] = self.loop.create_future()
        return self.futures[name]

    def connection_made(self, transport):
        self.transport = transport
        self.saw('connection_made')

    def eof_received(self):
        self.saw('eof_received')

    def pause_writing(self):
        self.saw('pause_writing')

    def resume_writing(self):
        self.saw('resume_writing')

    def connection_lost(self, exc):
        self.saw('connection_lost')


class SeenProtocol(Seen, asyncio.Protocol):
    def data_received(self, data):
        self.saw('data_received')
        if data == b'second':
            self.saw('data_received after resume_reading')


class SeenBufferedProtocol(Seen, asyncio.BufferedProtocol):
    def get_buffer(self, sizehint):
        self.saw('get_buffer')
        self.buf = bytearray(65536)
        return self.buf

    def buffer_updated(self, nbytes):
        self.saw('data_received')
        if bytes(self.buf[:nbytes]) == b'second':
            self.saw('data_received after resume_reading')


# ---- TLS --------------------------------------------------------------------


@pytest.mark.parametrize('factory', [SeenProtocol, SeenBufferedProtocol])
def test_tls_protocol_callbacks_run_in_the_transports_context(any_loop, tls,
                                                              factory):
    """A TLS client: connection_made, data_received (also after
    resume_reading() from elsewhere), pause_writing (after write() from
    elsewhere), resume_writing, eof_received (the peer's close_notify)
    and connection_lost (after close() from elsewhere) all see the
    context create_connection() ran in."""
    loop = any_loop
    listener = socket.create_server(('127.0.0.1', 0))
    addr = listener.getsockname()

    def accept():
        sock, _ = listener.accept()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        return tls.server.wrap_socket(sock, server_side=True)

    def recv_exactly(ssock, n):
        while n > 0:
            n -= len(ssock.recv(min(n, 1 << 20)))

    async def main():
        cvar.set('inner')
        proto = factory(loop)
        accepted = loop.run_in_executor(None, accept)
        tr, _ = await loop.create_connection(lambda: proto, *addr,
                                             ssl=tls.client)
        peer = await accepted
        try:
            await loop.run_in_executor(None, peer.sendall, b'first')
            await proto.future('data_received')

            tr.pause_reading()
            await loop.run_in_executor(None, peer.sendall, b'second')
            await tls_layer_has_data(tr)
            call_in('resume_reading', tr.resume_reading)
            await proto.future('data_received after resume_reading')

            def write_over():
                tr.set_write_buffer_limits(high=256, low=128)
                written = 0
                while not tr.get_write_buffer_size():
                    tr.write(b'q' * 65536)
                    written += 65536
                return written
            written = call_in('write', write_over)
            await proto.future('pause_writing')
            await loop.run_in_executor(None, recv_exactly, peer, written)
            await proto.future('resume_writing')

            call_in('close', tr.close)
            await loop.run_in_executor(None, peer.unwrap)
            await proto.future('connection_lost')
        finally:
            peer.close()
            listener.close()
            tr.abort()
        return proto.seen

    seen = run(loop, main())
    if is_corio(loop):
        assert set(seen.values()) == {'inner'}, seen
        assert 'eof_received' in seen
    else:
        assert seen['data_received after resume_reading'] == 'resume_reading'
        assert seen['pause_writing'] == 'write'


def test_start_tls_transport_keeps_the_upgraded_transports_context(
        any_loop, tls):
    """start_tls() called from another context: the TLS transport's
    callbacks still see the context of the transport it upgraded
    (data_received after resume_reading(), eof_received and
    connection_lost after close())."""
    loop = any_loop
    listener = socket.create_server(('127.0.0.1', 0))
    addr = listener.getsockname()

    def accept():
        sock, _ = listener.accept()
        return tls.server.wrap_socket(sock, server_side=True)

    async def main():
        cvar.set('inner')
        proto = SeenProtocol(loop)
        accepted = loop.run_in_executor(None, accept)
        await loop.create_connection(lambda: proto, *addr)
        await proto.future('connection_made')

        async def upgrade():
            cvar.set('start_tls')
            return await loop.start_tls(proto.transport, proto, tls.client,
                                        server_hostname='')
        tr = await loop.create_task(upgrade())
        peer = await accepted
        try:
            tr.pause_reading()
            await loop.run_in_executor(None, peer.sendall, b'second')
            await tls_layer_has_data(tr)
            call_in('resume_reading', tr.resume_reading)
            await proto.future('data_received after resume_reading')
            call_in('close', tr.close)
            await loop.run_in_executor(None, peer.unwrap)
            await proto.future('connection_lost')
        finally:
            peer.close()
            listener.close()
            tr.abort()
        return proto.seen

    seen = run(loop, main())
    if is_corio(loop):
        assert set(seen.values()) == {'inner'}, seen
    else:
        assert seen['data_received after resume_reading'] == 'resume_reading'


# ---- UDP --------------------------------------------------------------------


class SeenDatagram(Seen, asyncio.DatagramProtocol):
    def datagram_received(self, data, addr):
        self.saw('datagram_received')
        if data == b'second':
            self.saw('datagram_received after resume_reading')

    def error_received(self, exc):
        self.saw('error_received')
        self.error = exc


def test_datagram_protocol_callbacks_run_in_the_transports_context(any_loop):
    """UDP: connection_made, datagram_received (also after
    resume_reading() from elsewhere), error_received (a sendto() from
    elsewhere failing) and connection_lost (close() from elsewhere) all
    see the context create_datagram_endpoint() ran in. asyncio's loop runs
    the last two in the caller's context."""
    loop = any_loop
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(('127.0.0.1', 0))

    async def main():
        cvar.set('inner')
        proto = SeenDatagram(loop)
        tr, _ = await loop.create_datagram_endpoint(
            lambda: proto, local_addr=('127.0.0.1', 0))
        addr = tr.get_extra_info('sockname')
        try:
            await proto.future('connection_made')
            peer.sendto(b'first', addr)
            await proto.future('datagram_received')

            tr.pause_reading()
            peer.sendto(b'second', addr)
            await asyncio.sleep(0.05)
            call_in('resume_reading', tr.resume_reading)
            await proto.future('datagram_received after resume_reading')

            # Larger than any UDP datagram: sendto fails at once (EMSGSIZE).
            call_in('sendto', tr.sendto, b'x' * 70000, peer.getsockname())
            await proto.future('error_received')
            assert proto.error.errno == errno.EMSGSIZE

            call_in('close', tr.close)
            await proto.future('connection_lost')
        finally:
            tr.close()
            peer.close()
        return proto.seen

    seen = run(loop, main())
    if is_corio(loop):
        assert set(seen.values()) == {'inner'}, seen
    else:
        assert seen['error_received'] == 'sendto'
        assert seen['connection_lost'] == 'close'


# ---- subprocesses -----------------------------------------------------------


class SeenSubprocess(Seen, asyncio.SubprocessProtocol):
    def pipe_data_received(self, fd, data):
        self.saw('pipe_data_received')

    def pipe_connection_lost(self, fd, exc):
        self.saw('pipe_connection_lost')

    def process_exited(self):
        self.saw('process_exited')


def test_subprocess_protocol_callbacks_run_in_the_callers_context(any_loop):
    """subprocess_exec: connection_made, pipe_data_received,
    pipe_connection_lost, process_exited and connection_lost all see the
    context it ran in. On 3.11, asyncio's loop runs process_exited and
    connection_lost in its child watcher thread's empty context."""
    loop = any_loop

    async def main():
        cvar.set('inner')
        proto = SeenSubprocess(loop)
        tr, _ = await loop.subprocess_exec(
            lambda: proto, sys.executable, '-c', 'print("hi")',
            stdin=None)
        try:
            await proto.future('process_exited')
            await proto.future('connection_lost')
        finally:
            tr.close()
        return proto.seen

    if sys.version_info < (3, 12) and not is_corio(loop):
        asyncio.get_child_watcher().attach_loop(loop)
    seen = run(loop, main())
    assert set(seen) >= {'connection_made', 'pipe_data_received',
                         'pipe_connection_lost', 'process_exited',
                         'connection_lost'}
    if is_corio(loop) or sys.version_info >= (3, 12):
        assert set(seen.values()) == {'inner'}, seen
    else:
        assert seen['process_exited'] == 'outer'
