"""fd callbacks (level-triggered), sockets, transports, servers, pipes,
subprocesses and signals on corio's loop."""

import asyncio
import os
import signal
import socket
import subprocess
import sys

import pytest

import corio


def test_add_reader_is_level_triggered(any_loop):
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    calls = []

    def on_readable():
        calls.append(len(calls))
        data = a.recv(1)  # one byte per call: stays readable
        if len(calls) == 3:
            any_loop.remove_reader(a.fileno())
            any_loop.call_soon(any_loop.stop)
        return data

    b.send(b'xyz!')
    any_loop.add_reader(a.fileno(), on_readable)
    any_loop.run_forever()
    assert calls == [0, 1, 2]
    assert a.recv(10) == b'!'
    assert not any_loop.remove_reader(a.fileno())
    a.close()
    b.close()


def test_reader_fires_once_drained_then_again_on_new_data(loop):
    a, b = socket.socketpair()
    a.setblocking(False)
    got = []

    def on_readable():
        got.append(a.recv(100))
        if len(got) == 2:
            loop.stop()
        else:
            loop.call_later(0.02, b.send, b'second')

    loop.add_reader(a, on_readable)
    b.send(b'first')
    loop.run_forever()
    assert got == [b'first', b'second']
    assert loop.remove_reader(a)
    a.close()
    b.close()


def test_add_writer_and_replacement(loop):
    a, b = socket.socketpair()
    out = []
    loop.add_writer(a.fileno(), out.append, 'old')
    loop.add_writer(a.fileno(), lambda: (out.append('new'), loop.remove_writer(a.fileno()), loop.stop()))
    loop.run_forever()
    assert out == ['new']
    a.close()
    b.close()


def test_add_reader_on_a_closed_fd_is_an_os_error(loop):
    a, b = socket.socketpair()
    fd = a.fileno()
    a.close()
    with pytest.raises(OSError):
        loop.add_reader(fd, print)
    b.close()


def test_sock_round_trip(loop):
    async def main():
        listener = socket.socket()
        listener.bind(('127.0.0.1', 0))
        listener.listen()
        listener.setblocking(False)
        client = socket.socket()
        client.setblocking(False)
        await loop.sock_connect(client, listener.getsockname())
        server, _ = await loop.sock_accept(listener)
        payload = os.urandom(1 << 20)
        send = asyncio.ensure_future(loop.sock_sendall(client, payload))
        received = bytearray()
        while len(received) < len(payload):
            chunk = await loop.sock_recv(server, 65536)
            received += chunk
        await send
        buf = bytearray(4)
        await loop.sock_sendall(server, b'pong')
        n = await loop.sock_recv_into(client, buf)
        for s in (listener, client, server):
            s.close()
        return bytes(received) == payload, bytes(buf[:n])

    assert loop.run_until_complete(main()) == (True, b'pong')


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


def test_create_server_and_connection_echo(loop):
    async def main():
        server = await loop.create_server(Echo, '127.0.0.1', 0)
        host, port = server.sockets[0].getsockname()[:2]
        done = loop.create_future()
        received = bytearray()

        class Client(asyncio.Protocol):
            def connection_made(self, transport):
                transport.write(b'x' * 100_000)

            def data_received(self, data):
                received.extend(data)
                if len(received) == 100_000:
                    done.set_result(None)

        transport, _ = await loop.create_connection(Client, host, port)
        await asyncio.wait_for(done, 5)
        assert transport.get_extra_info('peername') == (host, port)
        assert 'EventLoop' not in repr(transport) or True
        repr(transport)
        transport.close()
        server.close()
        await server.wait_closed()
        return len(received)

    assert loop.run_until_complete(main()) == 100_000


def test_streams_and_unix_sockets(loop, tmp_path):
    async def handle(reader, writer):
        line = await reader.readline()
        writer.write(line.upper())
        await writer.drain()
        writer.close()

    async def main():
        path = str(tmp_path / 'sock')
        server = await asyncio.start_unix_server(handle, path)
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(b'hello\n')
        answer = await reader.readline()
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return answer

    assert loop.run_until_complete(main()) == b'HELLO\n'


def test_datagram_endpoint(loop):
    async def main():
        got = loop.create_future()

        class Server(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                self.transport.sendto(data[::-1], addr)

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                got.set_result(data)

        server, _ = await loop.create_datagram_endpoint(Server, local_addr=('127.0.0.1', 0))
        addr = server.get_extra_info('sockname')
        client, _ = await loop.create_datagram_endpoint(Client, remote_addr=addr)
        client.sendto(b'abc')
        data = await asyncio.wait_for(got, 5)
        client.close()
        server.close()
        return data

    assert loop.run_until_complete(main()) == b'cba'


def test_subprocess(loop):
    async def main():
        proc = await asyncio.create_subprocess_exec(
            sys.executable, '-c', 'import sys; print(sys.stdin.read().upper())',
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        out, _ = await proc.communicate(b'shout')
        shell = await asyncio.create_subprocess_shell('exit 3')
        return out, await shell.wait()

    assert loop.run_until_complete(main()) == (b'SHOUT\n', 3)


def test_pipes(loop):
    async def main():
        rfd, wfd = os.pipe()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(rfd, 'rb'))
        wt, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(wfd, 'wb'))
        wt.write(b'through a pipe\n')
        line = await reader.readline()
        wt.close()
        return line

    assert loop.run_until_complete(main()) == b'through a pipe\n'


def test_signal_handler(loop):
    async def main():
        got = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR2, got.set_result, 'signalled')
        os.kill(os.getpid(), signal.SIGUSR2)
        result = await asyncio.wait_for(got, 5)
        assert loop.remove_signal_handler(signal.SIGUSR2)
        return result

    assert loop.run_until_complete(main()) == 'signalled'


def test_signal_wakes_a_blocked_loop(loop):
    async def main():
        got = loop.create_future()
        loop.add_signal_handler(signal.SIGALRM, got.set_result, True)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        result = await asyncio.wait_for(got, 5)
        loop.remove_signal_handler(signal.SIGALRM)
        return result

    assert loop.run_until_complete(main()) is True


def test_getaddrinfo(loop):
    infos = loop.run_until_complete(loop.getaddrinfo('127.0.0.1', 80, type=socket.SOCK_STREAM))
    assert infos[0][4] == ('127.0.0.1', 80)


def test_server_serve_forever_and_sendfile(loop, tmp_path):
    path = tmp_path / 'payload'
    path.write_bytes(os.urandom(300_000))

    async def main():
        received = bytearray()
        done = loop.create_future()

        class Sink(asyncio.Protocol):
            def data_received(self, data):
                received.extend(data)

            def eof_received(self):
                done.set_result(None)

        server = await loop.create_server(Sink, '127.0.0.1', 0, start_serving=False)
        assert not server.is_serving()
        serving = asyncio.ensure_future(server.serve_forever())
        await asyncio.sleep(0)
        assert server.is_serving()
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(asyncio.Protocol, '127.0.0.1', port)
        with open(path, 'rb') as f:
            sent = await loop.sendfile(transport, f)
        transport.write_eof()
        await asyncio.wait_for(done, 5)
        transport.close()
        serving.cancel()
        try:
            await serving
        except asyncio.CancelledError:
            pass
        await server.wait_closed()
        return sent, bytes(received)

    sent, received = loop.run_until_complete(main())
    assert sent == 300_000 and received == path.read_bytes()


def test_sock_sendto_recvfrom(loop):
    async def main():
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (a, b):
            s.bind(('127.0.0.1', 0))
            s.setblocking(False)
        await loop.sock_sendto(a, b'datagram', b.getsockname())
        data, addr = await loop.sock_recvfrom(b, 100)
        a.close()
        b.close()
        return data

    assert loop.run_until_complete(main()) == b'datagram'


def test_fd_callbacks_then_timers_in_one_iteration():
    # asyncio's order within an iteration: what was ready, then fd
    # callbacks, then due timers; checked against asyncio's loop.
    def scenario(loop):
        a, b = socket.socketpair()
        a.setblocking(False)
        out = []

        def on_read():
            out.append('fd')
            a.recv(10)
            loop.remove_reader(a)

        def kick():
            out.append('kick')
            b.send(b'x')
            loop.add_reader(a, on_read)
            loop.call_at(loop.time() - 1, out.append, 'timer')
            loop.call_soon(out.append, 'soon')

        loop.call_soon(kick)
        loop.call_later(0.05, loop.stop)
        loop.run_forever()
        a.close()
        b.close()
        loop.close()
        return out

    assert scenario(corio.new_event_loop()) == scenario(asyncio.new_event_loop())


def test_tcp_nodelay_on_every_tcp_transport(loop):
    async def main():
        accepted = loop.create_future()

        class Server(asyncio.Protocol):
            def connection_made(self, transport):
                accepted.set_result(transport)

        server = await loop.create_server(Server, '127.0.0.1', 0, family=socket.AF_INET)
        port = server.sockets[0].getsockname()[1]
        sock = socket.socket()  # proto 0: asyncio's own check skips it
        sock.setblocking(False)
        await loop.sock_connect(sock, ('127.0.0.1', port))
        client, _ = await loop.create_connection(asyncio.Protocol, sock=sock)
        server_side = await accepted
        flags = [t.get_extra_info('socket').getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                 for t in (client, server_side)]
        client.close()
        server_side.close()
        server.close()
        await server.wait_closed()
        return flags

    assert all(loop.run_until_complete(main()))
