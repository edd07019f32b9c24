"""The echo benchmarks' client, kept out of the server's process (and
pinned to the other CPU by bench.py): `python echo_client.py PORT SIZE
CONNS SECONDS`. Each of CONNS connections sends one SIZE-byte message,
reads the whole echo back, and sends the next; one thread multiplexes
them with plain non-blocking sockets and epoll, so the client costs the
same whatever loop the server runs. Prints `msgs N seconds S`."""

import select
import socket
import sys
import time


def main():
    port, size, conns, seconds = (int(sys.argv[1]), int(sys.argv[2]),
                                  int(sys.argv[3]), float(sys.argv[4]))
    msg = b"x" * size
    ep = select.epoll()
    socks, pending = {}, {}
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        socks[s.fileno()] = s
        ep.register(s.fileno(), select.EPOLLIN)
    recv_buf = bytearray(max(size, 65536))
    view = memoryview(recv_buf)
    out = {}
    def send(fd):
        s = socks[fd]
        try:
            n = s.send(msg)
        except BlockingIOError:
            n = 0
        if n < size:
            out[fd] = memoryview(msg)[n:]
            ep.modify(fd, select.EPOLLIN | select.EPOLLOUT)
        pending[fd] = size
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    for fd in socks:
        send(fd)
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        for fd, ev in ep.poll(deadline - now):
            s = socks[fd]
            if ev & select.EPOLLOUT and fd in out:
                rest = out[fd]
                try:
                    n = s.send(rest)
                except BlockingIOError:
                    n = 0
                if n < len(rest):
                    out[fd] = rest[n:]
                else:
                    del out[fd]
                    ep.modify(fd, select.EPOLLIN)
            if ev & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                try:
                    n = s.recv_into(view)
                except BlockingIOError:
                    continue
                if n == 0:
                    raise SystemExit("server closed a connection")
                pending[fd] -= n
                if pending[fd] == 0:
                    done += 1
                    if fd not in out:
                        send(fd)
    elapsed = time.perf_counter() - start
    for s in socks.values():
        s.close()
    print("msgs", done, "seconds", elapsed, flush=True)


if __name__ == "__main__":
    main()
