"""Where corio's loop follows uvloop rather than the asyncio code it
inherits (python/corio/_compat.py): sockets held while a sock_* call waits
on them, UDP sendto's rules, create_unix_server(cleanup_socket=). Each is
checked on corio's loop; where asyncio's own loop behaves the same, on both."""

import asyncio
import logging
import os
import socket
import sys
import tempfile

import pytest

import corio


def run(loop, coro, timeout=5.0):
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


def nonblocking_pair(family=socket.AF_UNIX, type=socket.SOCK_STREAM):
    a, b = socket.socketpair(family, type)
    a.setblocking(False)
    b.setblocking(False)
    return a, b


# ---- a socket closed while a sock_* call waits on it ----------------------


@pytest.mark.parametrize('method', ['sock_recv', 'sock_recv_into'])
def test_close_during_recv_completes_the_recv_then_closes(loop, method):
    a, b = nonblocking_pair()

    async def main():
        if method == 'sock_recv':
            fut = asyncio.ensure_future(loop.sock_recv(a, 10))
        else:
            buf = bytearray(10)
            fut = asyncio.ensure_future(loop.sock_recv_into(a, buf))
        await asyncio.sleep(0.01)
        fd = a.fileno()
        a.close()
        # Held by the waiting call: closed for Python, the fd still open.
        assert a.fileno() == fd
        assert not fut.done()
        loop.call_later(0.05, b.send, b'helo')
        res = await fut
        if method == 'sock_recv_into':
            res = bytes(buf[:res])
        assert res == b'helo'
        assert a.fileno() == -1
        # The reader went before the fd: nothing left watched.
        assert fd not in loop._watched_fds()

    run(loop, main())
    b.close()


def test_close_during_sendall_finishes_the_send_then_closes(loop):
    a, b = nonblocking_pair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    data = os.urandom(1 << 20)

    async def main():
        fut = asyncio.ensure_future(loop.sock_sendall(a, data))
        await asyncio.sleep(0)
        assert not fut.done(), 'the send should wait for the reader'
        a.close()
        assert a.fileno() != -1
        got = bytearray()
        while len(got) < len(data):
            got += await loop.sock_recv(b, 65536)
        await fut
        assert bytes(got) == data
        assert a.fileno() == -1

    run(loop, main())
    b.close()


def test_close_during_accept_completes_the_accept(loop):
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen()
    lsock.setblocking(False)
    addr = lsock.getsockname()

    async def main():
        fut = asyncio.ensure_future(loop.sock_accept(lsock))
        await asyncio.sleep(0.01)
        lsock.close()
        assert lsock.fileno() != -1
        client = socket.create_connection(addr)
        conn, peer = await fut
        assert peer == client.getsockname()
        assert conn.gettimeout() == 0
        assert lsock.fileno() == -1
        conn.close()
        client.close()

    run(loop, main())


def test_close_during_connect_completes_the_connect(loop):
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen()
    sock = socket.socket()
    sock.setblocking(False)

    async def main():
        fut = asyncio.ensure_future(
            loop.sock_connect(sock, lsock.getsockname()))
        loop.call_soon(sock.close)
        assert await fut is None
        assert sock.fileno() == -1

    run(loop, main())
    lsock.close()


def test_a_cancelled_wait_lets_go_of_a_closed_socket(loop):
    a, b = nonblocking_pair()

    async def main():
        fut = asyncio.ensure_future(loop.sock_recv(a, 10))
        await asyncio.sleep(0.01)
        fd = a.fileno()
        a.close()
        assert a.fileno() == fd
        fut.cancel()
        with pytest.raises(asyncio.CancelledError):
            await fut
        assert a.fileno() == -1
        assert fd not in loop._watched_fds()

    run(loop, main())
    b.close()


def test_loop_close_closes_the_sockets_it_still_holds(loop):
    a, b = nonblocking_pair()
    waiting = []

    async def main():
        waiting.append(asyncio.ensure_future(loop.sock_recv(a, 10)))
        await asyncio.sleep(0.01)

    run(loop, main())
    a.close()
    assert a.fileno() != -1, 'the loop still holds it'
    loop.close()
    assert a.fileno() == -1
    # A socket the loop was not waiting on is left alone.
    assert b.fileno() != -1
    b.close()


def test_a_call_that_does_not_wait_holds_nothing(any_loop):
    a, b = nonblocking_pair()

    async def main():
        b.send(b'x')
        assert await any_loop.sock_recv(a, 10) == b'x'
        await any_loop.sock_sendall(a, b'y')
        assert b.recv(10) == b'y'
        # A call that waited gives its reference back.
        loop_task = asyncio.ensure_future(any_loop.sock_recv(a, 10))
        await asyncio.sleep(0.01)
        b.send(b'z')
        assert await loop_task == b'z'
        assert a._io_refs == 0

    run(any_loop, main())
    a.close()
    assert a.fileno() == -1
    b.close()


def test_sock_recv_errors_and_eof_are_unchanged(any_loop):
    a, b = nonblocking_pair()

    async def main():
        fut = asyncio.ensure_future(any_loop.sock_recv(a, 10))
        await asyncio.sleep(0.01)
        b.close()
        assert await fut == b''
        s = socket.socket()
        s.setblocking(False)
        with pytest.raises(OSError):
            await any_loop.sock_recv(s, 10)
        s.close()

    run(any_loop, main())
    a.close()


# ---- UDP sendto ------------------------------------------------------------


class Recorder(asyncio.DatagramProtocol):
    def __init__(self):
        self.received = []
        self.errors = []
        # Made inside create_datagram_endpoint, on the running loop.
        self.lost = asyncio.get_running_loop().create_future()

    def datagram_received(self, data, addr):
        self.received.append((data, addr))

    def error_received(self, exc):
        self.errors.append(exc)

    def connection_lost(self, exc):
        self.lost.set_result(exc)


def endpoint(loop, **kwargs):
    return loop.run_until_complete(
        loop.create_datagram_endpoint(Recorder, **kwargs))


def warnings_logged(caplog):
    return sum(1 for r in caplog.records
               if r.getMessage() == 'socket.send() raised exception.')


def test_sendto_after_close_is_dropped_and_counted(loop, caplog):
    tr, pr = endpoint(loop, local_addr=('127.0.0.1', 0),
                      family=socket.AF_INET)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(('127.0.0.1', 0))
    peer.setblocking(False)
    tr.close()
    caplog.set_level(logging.WARNING, logger='asyncio')
    tr.sendto(b'before connection_lost', peer.getsockname())
    run(loop, pr.lost)
    for _ in range(6):
        tr.sendto(b'after', peer.getsockname())
    # close() counts 1, each sendto 1 more; from a count of 5 on, each
    # dropped sendto logs the warning: 7 calls, counts 1..7, 3 warnings.
    assert tr._conn_lost == 8
    assert warnings_logged(caplog) == 3
    with pytest.raises(BlockingIOError):
        peer.recv(100)
    peer.close()


def test_sendto_after_close_on_a_connected_transport(any_loop, caplog):
    # asyncio drops these too (only for a transport with a fixed peer).
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(('127.0.0.1', 0))
    tr, pr = endpoint(any_loop, remote_addr=peer.getsockname())
    tr.close()
    run(any_loop, pr.lost)
    caplog.set_level(logging.WARNING, logger='asyncio')
    for _ in range(6):
        tr.sendto(b'after')
    # Counts 1..6 at the calls: warnings at 5 and 6.
    assert tr._conn_lost == 7
    assert warnings_logged(caplog) == 2
    peer.close()


def test_sendto_without_address_on_a_connected_unix_socketpair(loop):
    s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    s2.settimeout(1)
    tr, pr = endpoint(loop, sock=s1)
    assert tr.get_extra_info('peername') in (None, '')
    tr.sendto(b'from corio')
    assert s2.recv(100) == b'from corio'
    s2.send(b'back')
    run(loop, asyncio.sleep(0.05))
    assert pr.received == [(b'back', None)]
    assert pr.errors == []
    tr.close()
    run(loop, pr.lost)
    s2.close()


def test_buffered_sendto_without_address_drains_in_order(loop):
    s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    s2.setblocking(False)
    tr, pr = endpoint(loop, sock=s1)
    msgs = [b'%04d' % i for i in range(300)]
    for m in msgs:
        tr.sendto(m)
    # The peer's queue filled up: the rest waits in the transport.
    assert tr.get_write_buffer_size() > 0

    async def drain():
        got = []
        while len(got) < len(msgs):
            got.append(await loop.sock_recv(s2, 100))
        return got

    assert run(loop, drain()) == msgs
    run(loop, asyncio.sleep(0.01))
    assert tr.get_write_buffer_size() == 0
    assert pr.errors == []
    tr.close()
    run(loop, pr.lost)
    s2.close()


def test_sendto_without_address_on_an_unconnected_socket(loop):
    tr, pr = endpoint(loop, local_addr=('127.0.0.1', 0),
                      family=socket.AF_INET)
    tr.sendto(b'nowhere')
    # send() on an unconnected UDP socket: EDESTADDRREQ, to error_received;
    # the transport stays open.
    assert [type(e) for e in pr.errors] == [OSError]
    assert not tr.is_closing()
    tr.close()
    run(loop, pr.lost)


def test_sendto_a_host_name_raises_instead_of_resolving(loop):
    tr, pr = endpoint(loop, local_addr=('127.0.0.1', 0),
                      family=socket.AF_INET)
    with pytest.raises(ValueError, match='DNS lookup'):
        tr.sendto(b'x', ('localhost', 80))
    with pytest.raises(ValueError, match='socket family mismatch'):
        tr.sendto(b'x', ('::1', 80))
    with pytest.raises(TypeError, match='must be tuple'):
        tr.sendto(b'x', '127.0.0.1')
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(('127.0.0.1', 0))
    peer.settimeout(1)
    tr.sendto(b'numeric', peer.getsockname())
    tr.sendto(b'bytes host', (b'127.0.0.1', peer.getsockname()[1]))
    assert peer.recv(100) == b'numeric'
    assert peer.recv(100) == b'bytes host'
    assert not tr.is_closing()
    tr.close()
    run(loop, pr.lost)
    peer.close()


@pytest.mark.skipif(not socket.has_ipv6, reason='no IPv6')
def test_sendto_ipv6_checks_the_family(loop):
    try:
        tr, pr = endpoint(loop, local_addr=('::1', 0),
                          family=socket.AF_INET6)
    except OSError:
        pytest.skip('no IPv6 loopback')
    with pytest.raises(ValueError, match='socket family mismatch'):
        tr.sendto(b'x', ('127.0.0.1', 80))
    with pytest.raises(ValueError, match='DNS lookup'):
        tr.sendto(b'x', ('localhost', 80))
    tr.sendto(b'x', ('fe80::1%lo', 9))  # a zone index is numeric
    tr.close()
    run(loop, pr.lost)


def test_sendto_with_a_fixed_peer_rejects_another_address(any_loop):
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(('127.0.0.1', 0))
    peer.settimeout(1)
    tr, pr = endpoint(any_loop, remote_addr=peer.getsockname())
    with pytest.raises(ValueError, match='Invalid address'):
        tr.sendto(b'x', ('127.0.0.1', 1))
    tr.sendto(b'same', peer.getsockname())
    tr.sendto(b'none')
    assert peer.recv(100) == b'same'
    assert peer.recv(100) == b'none'
    tr.close()
    run(any_loop, pr.lost)
    peer.close()


def test_create_datagram_endpoint_rejects_a_stream_socket(any_loop):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(ValueError) as info:
        any_loop.run_until_complete(any_loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, sock=sock))
    sock.close()
    # asyncio 3.13 says "A datagram socket was expected"; corio keeps
    # uvloop's (and asyncio 3.11/3.12's) message on every version.
    if isinstance(any_loop, corio.EventLoop) or sys.version_info < (3, 13):
        assert str(info.value).startswith('A UDP Socket was expected, got ')


# ---- create_unix_server(cleanup_socket=) ---------------------------------


def unix_path():
    with tempfile.NamedTemporaryFile(prefix='corio-') as f:
        return f.name


def serve_and_close(loop, path, file=None, **kwargs):
    async def main():
        srv = await loop.create_unix_server(asyncio.Protocol, path, **kwargs)
        assert os.path.exists(file or path)
        srv.close()
        await srv.wait_closed()

    run(loop, main())


@pytest.mark.parametrize('cleanup', [True, False])
def test_create_unix_server_cleanup_socket(loop, cleanup):
    path = unix_path()
    serve_and_close(loop, path, cleanup_socket=cleanup)
    assert os.path.exists(path) == (not cleanup)
    if not cleanup:
        os.unlink(path)


def test_create_unix_server_cleanup_socket_default_follows_python(any_loop):
    path = unix_path()
    serve_and_close(any_loop, path)
    # 3.13 removes the file by default; before, asyncio and uvloop leave it.
    assert os.path.exists(path) == (sys.version_info < (3, 13))
    if os.path.exists(path):
        os.unlink(path)


def test_create_unix_server_cleanup_socket_with_a_bound_sock(loop):
    path = unix_path()
    sock = socket.socket(socket.AF_UNIX,
                         socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    sock.bind(path)
    serve_and_close(loop, None, path, sock=sock, cleanup_socket=True)
    assert not os.path.exists(path)


def test_create_unix_server_cleanup_leaves_a_replaced_file(loop):
    path = unix_path()

    async def main():
        srv = await loop.create_unix_server(asyncio.Protocol, path,
                                            cleanup_socket=True)
        os.unlink(path)
        with open(path, 'w') as f:
            f.write('someone else')
        srv.close()
        await srv.wait_closed()

    run(loop, main())
    with open(path) as f:
        assert f.read() == 'someone else'
    os.unlink(path)


def test_create_unix_server_cleanup_ignores_abstract_sockets(loop):
    name = '\0corio-abstract-%d' % os.getpid()

    async def main():
        srv = await loop.create_unix_server(asyncio.Protocol, name,
                                            cleanup_socket=True)
        srv.close()
        await srv.wait_closed()

    run(loop, main())
