"""TLS on corio's loop (python/corio/_sslproto.py: asyncio's SSLProtocol
with uvloop's behaviour where the two differ): data the peer sends after
our close_notify is discarded, the first data after the handshake reaches
a start_tls() caller's new transport, closing with reading paused
completes, data received after close() is dropped, a TCP EOF without
close_notify ends the connection, and the shutdown's flush and timeout.

Each test runs on corio's loop and on asyncio's own (``any_loop``); where
asyncio's behaves differently, the test says so and checks that it does
(the corio-only behaviour is uvloop's, checked by uvloop's own suite too:
scripts/uvloop_tests.sh). The far end is a thread driving ``ssl.SSLObject``
over a blocking socket by hand, so that each record goes out exactly when
the test wants it."""

import asyncio
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import types

import pytest

import corio


def run(loop, coro, timeout=10.0):
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


def is_corio(loop):
    return isinstance(loop, corio.EventLoop)


async def tls_layer_has_data(transport):
    """Until records the protocol has not read yet wait in the TLS layer
    (its incoming buffer; reading is paused)."""
    while not transport.get_read_buffer_size():
        await asyncio.sleep(0.005)


def make_tls_contexts(directory):
    """(server context, client context) with a fresh self-signed
    certificate; the client does not verify it, the server sends no
    session tickets."""
    if shutil.which('openssl') is None:
        pytest.skip('no openssl command to make a certificate')
    cert, key = os.path.join(directory, 'cert.pem'), os.path.join(
        directory, 'key.pem')
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
         '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
        check=True, capture_output=True)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    # No TLS 1.3 session tickets: after the handshake, only the records a
    # test sends arrive (tls_layer_has_data waits for them).
    server.num_tickets = 0
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    return server, client


@pytest.fixture(scope='module')
def tls(tmp_path_factory):
    server, client = make_tls_contexts(str(tmp_path_factory.mktemp('certs')))
    return types.SimpleNamespace(server=server, client=client)


class BioPeer:
    """The far end: an ``ssl.SSLObject`` over a blocking socket, each
    step explicit."""

    def __init__(self, sock, ctx, server_side):
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing,
                                server_side=server_side)

    def flush(self):
        if self.outgoing.pending:
            self.sock.sendall(self.outgoing.read())

    def do(self, func, *args):
        """``func(*args)``, feeding the socket's bytes in until it needs no
        more; what it wrote is sent."""
        while True:
            try:
                result = func(*args)
                break
            except ssl.SSLWantReadError:
                self.flush()
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError('EOF from the loop side')
                self.incoming.write(data)
        self.flush()
        return result

    def handshake(self):
        self.do(self.obj.do_handshake)

    def write(self, data):
        self.do(self.obj.write, data)

    def read(self, n=65536):
        """Application data, or b'' for the loop side's close_notify."""
        return self.do(self.obj.read, n)

    def unwrap(self):
        self.do(self.obj.unwrap)


class Peer:
    """``target(sock)`` in a thread on the accepted end of a listener."""

    def __init__(self, target):
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.addr = self.listener.getsockname()
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(target,),
                                       daemon=True)
        self.thread.start()

    def _run(self, target):
        try:
            sock, _ = self.listener.accept()
            with sock:
                target(sock)
        except BaseException as exc:  # reported by join()
            self.error = exc
        finally:
            self.listener.close()

    def join(self, timeout=10):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), 'peer thread hung'
        if self.error is not None:
            raise self.error


class Recorder(asyncio.Protocol):
    """Records data and the protocol calls; ``lost`` resolves on
    connection_lost with its argument."""

    def __init__(self, loop):
        self.transport = None
        self.data = bytearray()
        self.calls = []
        self.made = loop.create_future()
        self.first_data = loop.create_future()
        self.lost = loop.create_future()

    def connection_made(self, transport):
        self.transport = transport
        self.calls.append('made')
        self.made.set_result(None)

    def data_received(self, data):
        self.calls.append(('data', bytes(data)))
        self.data += data
        if not self.first_data.done():
            self.first_data.set_result(None)

    def eof_received(self):
        self.calls.append('eof')

    def connection_lost(self, exc):
        self.calls.append('lost')
        self.lost.set_result(exc)


# ---- closing ----------------------------------------------------------------


def test_data_after_our_close_notify_is_discarded(any_loop, tls):
    """bpo-39951: the peer's application data that arrives after we sent
    close_notify is read and dropped, and the close completes with the
    peer's close_notify. asyncio's unwrap() fails on it with
    APPLICATION_DATA_AFTER_CLOSE_NOTIFY."""
    loop = any_loop
    closed = threading.Event()

    def server(sock):
        peer = BioPeer(sock, tls.server, server_side=True)
        peer.handshake()
        assert peer.read(4) == b'ping'
        peer.write(b'pong')
        assert closed.wait(5)  # the client has sent its close_notify
        peer.write(b'trailing')
        time.sleep(0.2)  # read by the client before our close_notify
        peer.unwrap()

    async def main():
        peer = Peer(server)
        reader, writer = await asyncio.open_connection(*peer.addr,
                                                       ssl=tls.client)
        writer.write(b'ping')
        assert await reader.readexactly(4) == b'pong'
        writer.close()
        closed.set()
        try:
            await writer.wait_closed()
        except ssl.SSLError as exc:
            outcome = exc
        else:
            outcome = await reader.read()
        await loop.run_in_executor(None, peer.join)
        return outcome

    outcome = run(loop, main())
    if is_corio(loop):
        assert outcome == b''  # the trailing data never reached the reader
    else:
        assert isinstance(outcome, ssl.SSLError)
        assert 'APPLICATION_DATA_AFTER_CLOSE_NOTIFY' in str(outcome)


def test_close_with_reading_paused_completes(any_loop, tls):
    """close() while reading is paused: the data still coming in is
    dropped, the peer's close_notify calls eof_received(), and
    connection_lost(None) follows. On asyncio's loop the unread data fails
    the shutdown (APPLICATION_DATA_AFTER_CLOSE_NOTIFY)."""
    loop = any_loop
    paused = threading.Event()

    def server(sock):
        peer = BioPeer(sock, tls.server, server_side=True)
        peer.handshake()
        assert paused.wait(5)
        peer.write(b'trailing data')
        assert peer.read() == b''  # the client's close_notify
        peer.unwrap()
        assert sock.recv(1024) == b''  # then the client closed the socket

    async def main():
        peer = Peer(server)
        tr, proto = await loop.create_connection(
            lambda: Recorder(loop), *peer.addr, ssl=tls.client)
        tr.pause_reading()
        paused.set()
        await tls_layer_has_data(tr)  # 'trailing data', undecrypted
        tr.close()
        try:
            exc = await asyncio.wait_for(asyncio.shield(proto.lost), 5)
        finally:
            if not proto.lost.done():
                tr.abort()
        try:
            await loop.run_in_executor(None, peer.join)
        except ConnectionError as err:  # asyncio: no close_notify came
            return exc, proto.calls, err
        return exc, proto.calls, None

    exc, calls, peer_error = run(loop, main())
    if is_corio(loop):
        assert (exc, calls, peer_error) == (None, ['made', 'eof', 'lost'],
                                            None)
    else:
        # The unread data fails asyncio's unwrap(): the connection is
        # aborted, without eof_received() and our last close_notify.
        assert isinstance(exc, ssl.SSLError)
        assert 'APPLICATION_DATA_AFTER_CLOSE_NOTIFY' in str(exc)
        assert calls == ['made', 'lost']


def test_data_received_after_close_is_dropped(any_loop, tls):
    """Data that came in while reading was paused and was still unread
    when close() was called never reaches the protocol, even if reading
    was resumed just before (uvloop's FLUSHING phase). asyncio's loop
    delivers it from close()."""
    loop = any_loop
    paused = threading.Event()

    def server(sock):
        peer = BioPeer(sock, tls.server, server_side=True)
        peer.handshake()
        assert paused.wait(5)
        peer.write(b'hello')
        assert peer.read() == b''  # the client's close_notify
        peer.unwrap()

    async def main():
        peer = Peer(server)
        tr, proto = await loop.create_connection(
            lambda: Recorder(loop), *peer.addr, ssl=tls.client)
        tr.pause_reading()
        paused.set()
        await tls_layer_has_data(tr)  # 'hello', undecrypted
        tr.resume_reading()  # schedules a read...
        tr.close()  # ...that close() comes before
        exc = await proto.lost
        await loop.run_in_executor(None, peer.join)
        return exc, proto.calls

    exc, calls = run(loop, main())
    assert exc is None
    if is_corio(loop):
        assert calls == ['made', 'eof', 'lost']
    else:
        assert ('data', b'hello') in calls


def test_close_flushes_a_large_write_then_sends_close_notify(any_loop, tls):
    """close() while the TLS layer still holds data because the socket
    transport paused it: the close waits in its flushing phase until the
    transport resumes it (uvloop's resume_writing drives FLUSHING and
    SHUTDOWN), and the peer gets every byte, then close_notify."""
    loop = any_loop
    payload = os.urandom(2 * 1024 * 1024)
    go = threading.Event()
    got = []

    def server(sock):
        ssock = tls.server.wrap_socket(sock, server_side=True)
        assert go.wait(5)  # not reading until the client closed
        h = hashlib.sha256()
        n = 0
        while True:
            data = ssock.recv(1 << 20)
            if not data:  # close_notify
                break
            h.update(data)
            n += len(data)
        got.append((n, h.digest()))
        ssock.unwrap()

    async def main():
        peer = Peer(server)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
        sock.connect(peer.addr)
        sock.setblocking(False)
        tr, proto = await loop.create_connection(
            lambda: Recorder(loop), sock=sock, ssl=tls.client,
            server_hostname='')
        half = len(payload) // 2
        tr.write(payload[:half])  # more than the socket takes: paused
        tr.write(payload[half:])  # so this stays in the TLS layer
        assert tr.get_write_buffer_size() >= len(payload) - half
        tr.close()
        go.set()
        exc = await proto.lost
        await loop.run_in_executor(None, peer.join)
        return exc

    assert run(loop, main(), timeout=30) is None
    assert got == [(len(payload), hashlib.sha256(payload).digest())]


def test_shutdown_times_out_when_the_peer_never_answers(any_loop, tls):
    """ssl_shutdown_timeout: a peer that never sends its close_notify gets
    the connection aborted with TimeoutError (asyncio's and uvloop's)."""
    loop = any_loop
    release = threading.Event()

    def server(sock):
        peer = BioPeer(sock, tls.server, server_side=True)
        peer.handshake()
        release.wait(10)

    async def main():
        peer = Peer(server)
        tr, proto = await loop.create_connection(
            lambda: Recorder(loop), *peer.addr, ssl=tls.client,
            ssl_shutdown_timeout=0.2)
        t0 = loop.time()
        tr.close()
        exc = await proto.lost
        elapsed = loop.time() - t0
        release.set()
        await loop.run_in_executor(None, peer.join)
        return exc, elapsed

    exc, elapsed = run(loop, main())
    assert isinstance(exc, TimeoutError)
    assert 0.15 < elapsed < 3


def test_handshake_completes_with_reading_paused_in_connection_made(
        any_loop, tls):
    """The protocol pauses reading in connection_made(): what our side of
    the handshake wrote last (TLS 1.3: the client's Finished) still goes
    out, so the peer's handshake completes, and its data comes on
    resume_reading(). asyncio's loop sends it from the read that paused
    reading skips: the peer waits for it until a write."""
    loop = any_loop
    outcome = []
    handshaken = threading.Event()
    received = threading.Event()

    def server(sock):
        peer = BioPeer(sock, tls.server, server_side=True)
        sock.settimeout(1)
        try:
            peer.handshake()
        except socket.timeout:
            outcome.append('handshake timed out')
            return
        outcome.append('handshake done')
        peer.write(b'hello')
        handshaken.set()
        received.wait(5)  # (an EOF now would drop the unread data)

    class Proto(Recorder):
        def connection_made(self, transport):
            super().connection_made(transport)
            transport.pause_reading()

    async def main():
        peer = Peer(server)
        tr, proto = await loop.create_connection(
            lambda: Proto(loop), *peer.addr, ssl=tls.client)
        try:
            if await loop.run_in_executor(None, handshaken.wait, 2):
                await tls_layer_has_data(tr)
                assert not proto.data
                tr.resume_reading()
                await proto.first_data
        finally:
            received.set()
            await loop.run_in_executor(None, peer.join)
            tr.abort()
        return outcome, bytes(proto.data)

    if is_corio(loop):
        assert run(loop, main()) == (['handshake done'], b'hello')
    else:
        assert run(loop, main()) == (['handshake timed out'], b'')


# ---- a TCP EOF without close_notify -----------------------------------------


def test_tcp_eof_without_close_notify_with_reading_paused(any_loop, tls):
    """The peer shuts its TCP side down without close_notify while our
    reading is paused: the connection ends at once with
    connection_lost(None), eof_received() is not called, and the data
    still unread is dropped (uvloop: a truncated stream is not a graceful
    end). asyncio's loop keeps such a connection open until
    resume_reading()."""
    loop = any_loop

    def server(sock):
        peer = BioPeer(sock, tls.server, server_side=True)
        peer.handshake()
        peer.write(b'hello')
        assert peer.read(5) == b'world'
        peer.write(b'extra bytes')
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(5)
        assert sock.recv(1024) == b''  # the client closed

    class Proto(Recorder):
        def data_received(self, data):
            super().data_received(data)
            if data == b'hello':
                self.transport.write(b'world')
                self.transport.pause_reading()

    async def main():
        peer = Peer(server)
        tr, proto = await loop.create_connection(
            lambda: Proto(loop), *peer.addr, ssl=tls.client)
        try:
            exc = await asyncio.wait_for(asyncio.shield(proto.lost), 2)
        except asyncio.TimeoutError:
            exc = 'still open'
            tr.abort()
            await proto.lost
        await loop.run_in_executor(None, peer.join)
        return exc, proto.calls

    exc, calls = run(loop, main())
    if is_corio(loop):
        assert exc is None
        assert calls == ['made', ('data', b'hello'), 'lost']
    else:
        assert exc == 'still open'


def test_tcp_eof_without_close_notify_is_not_eof_received(any_loop, tls):
    """A TCP EOF without close_notify, reading not paused: the data
    before it is delivered, then connection_lost(None) without
    eof_received() (uvloop's); asyncio's loop calls eof_received()."""
    loop = any_loop

    def server(sock):
        peer = BioPeer(sock, tls.server, server_side=True)
        peer.handshake()
        peer.write(b'hello')
        time.sleep(0.1)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(5)
        assert sock.recv(1024) == b''

    async def main():
        peer = Peer(server)
        tr, proto = await loop.create_connection(
            lambda: Recorder(loop), *peer.addr, ssl=tls.client)
        exc = await proto.lost
        await loop.run_in_executor(None, peer.join)
        return exc, proto.calls

    exc, calls = run(loop, main())
    assert exc is None
    if is_corio(loop):
        assert calls == ['made', ('data', b'hello'), 'lost']
    else:
        assert calls == ['made', ('data', b'hello'), 'eof', 'lost']


# ---- the first data after the handshake -------------------------------------


def test_first_data_after_the_handshake_reaches_the_new_transport(any_loop,
                                                                  tls):
    """Server-side start_tls() where the client's first data comes with
    its last handshake flight: the read is deferred by one callback, so
    the start_tls() caller has its TLS transport before data_received().
    On asyncio's loop data_received() comes first, the echo goes out on
    the plain transport, and the client sees garbage."""
    loop = any_loop
    started = threading.Event()

    def client(addr):
        sock = socket.create_connection(addr)
        with sock:
            assert started.wait(5)
            peer = BioPeer(sock, tls.client, server_side=False)
            while True:  # the handshake, up to the client's last flight
                try:
                    peer.obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    peer.flush()
                    peer.incoming.write(sock.recv(65536))
            peer.obj.write(b'hello')
            peer.flush()  # Finished and 'hello' in one send
            try:
                return peer.read(1024)
            except ssl.SSLError as exc:
                return exc

    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            self.tr = transport
            self.task = loop.create_task(self.upgrade(transport))

        async def upgrade(self, transport):
            started.set()  # start_tls pauses reading before it yields
            self.tr = await loop.start_tls(transport, self, tls.server,
                                           server_side=True)

        def data_received(self, data):
            self.tr.write(data)

    async def main():
        proto = Echo()
        server = await loop.create_server(lambda: proto, '127.0.0.1', 0)
        addr = server.sockets[0].getsockname()
        try:
            reply = await loop.run_in_executor(None, client, addr)
        finally:
            proto.tr.close()
            server.close()
            await server.wait_closed()
        return reply

    reply = run(loop, main())
    if is_corio(loop):
        assert reply == b'hello'
    else:
        assert isinstance(reply, ssl.SSLError)
