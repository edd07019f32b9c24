"""The benchmark programs that run ON the loop under test, one per process:
`python servers.py TARGET WORKLOAD [ARGS]`.

Servers (print `port N` once listening on 127.0.0.1, serve until killed):
  echo-streams   asyncio.start_server; read(100 KiB) / write, as uvloop's
  echo-protocol  a Protocol whose data_received writes the data back
  echo-sock      loop.sock_accept / sock_recv / sock_sendall on raw sockets
  http           a minimal HTTP/1.1 keep-alive protocol: one fixed response
                 per request (requests found by their blank line)
Micro benchmarks (print `ops N seconds S`):
  call-soon N    N callbacks through call_soon, 100 chains re-scheduling
                 themselves (the ready queue, not the timer path)
  tasks N        N x `await loop.create_task(coro())` on a trivial coroutine
These follow uvloop's own benchmarks (examples/bench in its repository).
"""

import asyncio
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "scripts"))
import looptarget  # noqa: E402

sys.path.pop(0)

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 12\r\n\r\nHello World!")


def nodelay(transport):
    # rloop 0.5 gives no "socket" extra info (asyncio already sets
    # TCP_NODELAY on its stream sockets; so does uvloop).
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def echo_streams(reader, writer):
    nodelay(writer)
    while True:
        data = await reader.read(102400)
        if not data:
            break
        writer.write(data)
    writer.close()


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        nodelay(transport)
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def connection_lost(self, exc):
        self.transport = None


class HttpProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buf = b""

    def data_received(self, data):
        buf = self.buf + data
        n = buf.count(b"\r\n\r\n")
        if n:
            self.transport.write(RESPONSE * n)
            buf = buf[buf.rindex(b"\r\n\r\n") + 4:]
        self.buf = buf

    def connection_lost(self, exc):
        self.transport = None


async def sock_client(loop, client):
    with client:
        while True:
            data = await loop.sock_recv(client, 102400)
            if not data:
                break
            await loop.sock_sendall(client, data)


async def serve(kind):
    loop = asyncio.get_running_loop()
    if kind == "echo-sock":
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        print("port", sock.getsockname()[1], flush=True)
        while True:
            client, _ = await loop.sock_accept(sock)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.setblocking(False)
            loop.create_task(sock_client(loop, client))
    if kind == "echo-streams":
        server = await asyncio.start_server(echo_streams, "127.0.0.1", 0)
    else:
        factory = EchoProtocol if kind == "echo-protocol" else HttpProtocol
        server = await loop.create_server(factory, "127.0.0.1", 0)
    print("port", server.sockets[0].getsockname()[1], flush=True)
    # Serving started with create_server (start_serving=True); wait for the
    # kill. (rloop 0.5 stops listening under `await server.serve_forever()`.)
    await loop.create_future()


async def call_soon(n):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    left = [n]

    def cb():
        left[0] -= 1
        if left[0] > 0:
            loop.call_soon(cb)
        elif not done.done():
            done.set_result(None)

    t0 = time.perf_counter()
    for _ in range(100):
        loop.call_soon(cb)
    await done
    return time.perf_counter() - t0


async def tasks(n):
    loop = asyncio.get_running_loop()

    async def work():
        return 1

    t0 = time.perf_counter()
    for _ in range(n):
        await loop.create_task(work())
    return time.perf_counter() - t0


def main():
    target = looptarget.load(sys.argv[1])
    kind = sys.argv[2]
    if kind in ("call-soon", "tasks"):
        n = int(sys.argv[3])
        fn = call_soon if kind == "call-soon" else tasks
        seconds = target.run(fn(n))
        print("ops", n, "seconds", seconds, flush=True)
        return
    try:
        target.run(serve(kind))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
