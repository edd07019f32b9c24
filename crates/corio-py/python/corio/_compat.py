"""Where corio's loop follows uvloop rather than the asyncio code it
inherits: the behaviours uvloop's test suite checks and asyncio's selector
loop lacks. A mixin placed before ``_corio.Loop`` in ``EventLoop``'s bases.

- **``sock_*`` in Rust** (``src/sock/``): ``sock_recv``, ``sock_recv_into``,
  ``sock_sendall``, ``sock_accept``, ``sock_recvfrom``,
  ``sock_recvfrom_into`` and ``sock_sendto`` try their syscall at once and
  return the result, or a ``_SockFuture`` resolved from the loop's
  iteration; the socket keeps one edge-triggered registration across calls
  (no ``add_reader``/``remove_reader`` per call). Calls of one direction on
  one socket are served in order; cancelling one takes it out before it
  consumed anything. Objects that are not ``socket.socket``, closed
  sockets and descriptors a transport owns go through asyncio's Python
  (``_sock_*_py``).
- **Sockets held while a ``sock_*`` call waits on them.** uvloop holds a
  socket's io-reference (``socket._io_refs``, the count ``socket.makefile``
  uses) while it watches the socket for a ``sock_*`` call: ``sock.close()``
  during the wait only marks the socket closed, the call completes, and the
  fd is closed when the wait ends (its registration removed first). On
  asyncio's loop the fd is closed under the poller and the waiter hangs
  forever. ``loop.close()`` gives back the references still held, closing
  the sockets that were closed meanwhile. A call that does not wait holds
  nothing.
- **UDP ``sendto``** (``_DatagramTransport``): after ``close()`` every
  ``sendto`` is dropped and counted (asyncio's "socket.send() raised
  exception." warning from the fifth on), whether or not the transport has
  a fixed peer; ``sendto(data)`` with no address uses ``send()``, so a
  connected socket whose peer has no name (an ``AF_UNIX`` socketpair)
  works; an address that is not a numeric IP of the socket's family raises
  ``ValueError('... socket family mismatch or a DNS lookup is required')``,
  where ``socket.sendto`` would block the loop in a DNS lookup. A stream
  socket given to ``create_datagram_endpoint(sock=)`` gets uvloop's (and
  asyncio 3.11/3.12's) "A UDP Socket was expected" on 3.13 too.
- **UDP contexts**: every datagram protocol callback runs in (a copy of)
  the context the transport was made in, as on uvloop: ``connection_lost``
  too (asyncio: the closer's context), and ``error_received`` and the
  writer's callbacks too (asyncio: the ``sendto()`` caller's).
- **Subprocess callbacks** on 3.11 run in the context
  ``subprocess_exec``/``subprocess_shell`` ran in, as on 3.12+ and uvloop
  (3.11's threaded child watcher ran ``process_exited`` and
  ``connection_lost`` in its thread's empty context).
- **``start_tls``** makes corio's ``SSLProtocol`` (``_sslproto``: uvloop's
  TLS behaviour where asyncio's differs), whose transport keeps the
  context of the transport it upgrades, as on uvloop.
- **``create_unix_server(cleanup_socket=...)``** on 3.11 and 3.12, with
  3.13's meaning (remove the socket file when the server closes, unless it
  was replaced); the default is False there, as on uvloop, and 3.13's own
  code is used on 3.13.
"""

import contextvars
import functools
import os
import socket
import sys
import weakref

try:
    import ssl
except ImportError:  # pragma: no cover
    ssl = None

from asyncio import constants, events, futures, selector_events, unix_events
from asyncio.base_events import _check_ssl_socket
from asyncio.log import logger

from . import _corio, _sslproto

__all__ = ('CompatMixin',)

_sock_recv = _corio._sock_recv
_sock_recv_into = _corio._sock_recv_into
_sock_recvfrom = _corio._sock_recvfrom
_sock_recvfrom_into = _corio._sock_recvfrom_into
_sock_sendall = _corio._sock_sendall
_sock_sendto = _corio._sock_sendto
_sock_accept = _corio._sock_accept


def _hold(sock):
    """Takes an io-reference on ``sock`` (a ``socket.socket``); False for
    objects that have no such count."""
    if isinstance(sock, socket.socket):
        sock._io_refs += 1
        return True
    return False


def _release(sock):
    """Gives back an io-reference: ``socket._decref_socketios``, inlined
    (the socket is really closed if ``close()`` came meanwhile)."""
    if sock._io_refs > 0:
        sock._io_refs -= 1
        if sock._closed:
            sock.close()


class _SockFuture(futures.Future):
    """The future of a waiting ``sock_*`` call: cancelling it takes the
    operation out of its queue (nothing was read or sent for it) and lets
    go of the socket."""

    __slots__ = ('_sock_fd',)

    def cancel(self, msg=None):
        if not super().cancel(msg=msg):
            return False
        _corio._sock_cancelled(self._loop, self)
        return True


class _Transports(weakref.WeakValueDictionary):
    """``loop._transports``: a transport registered for a descriptor first
    takes it from the loop's idle ``sock_*`` registration."""

    def __init__(self, loop, other=()):
        super().__init__(other)
        self._sock_loop = weakref.ref(loop)

    def __setitem__(self, fd, transport):
        loop = self._sock_loop()
        if loop is not None and not loop.is_closed():
            _corio._sock_forget(loop, fd)
        super().__setitem__(fd, transport)


class CompatMixin:
    """uvloop's behaviour where asyncio's selector loop differs (see the
    module doc)."""

    # fut (or token) -> socket whose io-reference this loop holds.
    _sock_holds = None

    # ---- sockets held while a sock_* call waits ------------------------

    def _hold_sock(self, token, sock):
        if _hold(sock):
            holds = self._sock_holds
            if holds is None:
                holds = self._sock_holds = {}
            holds[token] = sock

    def _release_sock(self, token):
        holds = self._sock_holds
        if holds:
            sock = holds.pop(token, None)
            if sock is not None:
                _release(sock)

    # ---- sock_* in Rust (src/sock/) ---------------------------------------
    # Each Rust function returns the result, a pending _SockFuture, or
    # NotImplemented: asyncio's Python (_sock_*_py) takes the call.

    async def sock_recv(self, sock, n):
        """Receive up to ``n`` bytes from ``sock``."""
        r = _sock_recv(self, sock, n)
        if r.__class__ is _SockFuture:
            return await r
        if r is NotImplemented:
            return await self._sock_recv_py(sock, n)
        return r

    async def sock_recv_into(self, sock, buf):
        """Receive into ``buf``; returns the number of bytes written."""
        r = _sock_recv_into(self, sock, buf)
        if r.__class__ is _SockFuture:
            return await r
        if r is NotImplemented:
            return await self._sock_recv_into_py(sock, buf)
        return r

    async def sock_recvfrom(self, sock, bufsize):
        """Receive a datagram: ``(bytes, address)``."""
        r = _sock_recvfrom(self, sock, bufsize)
        if r.__class__ is _SockFuture:
            return await r
        if r is NotImplemented:
            return await self._sock_recvfrom_py(sock, bufsize)
        return r

    async def sock_recvfrom_into(self, sock, buf, nbytes=0):
        """Receive a datagram into ``buf``: ``(nbytes, address)``."""
        if not nbytes:
            nbytes = len(buf)
        r = _sock_recvfrom_into(self, sock, buf, nbytes)
        if r.__class__ is _SockFuture:
            return await r
        if r is NotImplemented:
            return await self._sock_recvfrom_into_py(sock, buf, nbytes)
        return r

    async def sock_sendall(self, sock, data):
        """Send all of ``data``."""
        r = _sock_sendall(self, sock, data)
        if r.__class__ is _SockFuture:
            return await r
        if r is NotImplemented:
            return await self._sock_sendall_py(sock, data)
        return r

    async def sock_sendto(self, sock, data, address):
        """Send a datagram to ``address``."""
        r = _sock_sendto(self, sock, data, address)
        if r.__class__ is _SockFuture:
            return await r
        if r is NotImplemented:
            return await self._sock_sendto_py(sock, data, address)
        return r

    async def sock_accept(self, sock):
        """Accept a connection: ``(conn, address)``, ``conn`` non-blocking."""
        r = _sock_accept(self, sock)
        if r.__class__ is _SockFuture:
            return await r
        if r is NotImplemented:
            return await self._sock_accept_py(sock)
        return r

    # asyncio's fd -> transport map: a transport made for a descriptor
    # takes it from an idle sock_* registration first (_Transports).
    @property
    def _transports(self):
        return self._sock_transports

    @_transports.setter
    def _transports(self, value):
        self._sock_transports = _Transports(self, value)

    # ---- asyncio's Python for the other cases, holding the socket -------

    def _sock_wait(self, read, sock, callback, *args):
        """The slow path of a ``sock_*`` call: ``callback(fut, sock,
        *args)`` on each readiness until it resolves ``fut``, the socket
        held until then."""
        fut = self.create_future()
        fd = sock.fileno()
        self._ensure_fd_no_transport(fd)
        if read:
            handle = self._add_reader(fd, callback, fut, sock, *args)
        else:
            handle = self._add_writer(fd, callback, fut, sock, *args)
        self._hold_sock(fut, sock)
        fut.add_done_callback(
            functools.partial(self._sock_wait_done, read, fd, handle))
        return fut

    def _sock_wait_done(self, read, fd, handle, fut):
        # Remove the reader/writer while the fd is still open, then let go.
        if not handle.cancelled():
            if read:
                self.remove_reader(fd)
            else:
                self.remove_writer(fd)
        holds = self._sock_holds
        if holds:
            sock = holds.pop(fut, None)
            if sock is not None:
                _release(sock)

    async def _sock_recv_py(self, sock, n):
        """Receive up to ``n`` bytes from ``sock``."""
        _check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        try:
            return sock.recv(n)
        except (BlockingIOError, InterruptedError):
            pass
        return await self._sock_wait(True, sock, self._sock_recv, n)

    async def _sock_recv_into_py(self, sock, buf):
        """Receive into ``buf``; returns the number of bytes written."""
        _check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        try:
            return sock.recv_into(buf)
        except (BlockingIOError, InterruptedError):
            pass
        return await self._sock_wait(True, sock, self._sock_recv_into, buf)

    async def _sock_recvfrom_py(self, sock, bufsize):
        """Receive a datagram: ``(bytes, address)``."""
        _check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        try:
            return sock.recvfrom(bufsize)
        except (BlockingIOError, InterruptedError):
            pass
        return await self._sock_wait(True, sock, self._sock_recvfrom, bufsize)

    async def _sock_recvfrom_into_py(self, sock, buf, nbytes=0):
        """Receive a datagram into ``buf``: ``(nbytes, address)``."""
        _check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        if not nbytes:
            nbytes = len(buf)
        try:
            return sock.recvfrom_into(buf, nbytes)
        except (BlockingIOError, InterruptedError):
            pass
        return await self._sock_wait(True, sock, self._sock_recvfrom_into,
                                     buf, nbytes)

    async def _sock_sendall_py(self, sock, data):
        """Send all of ``data``."""
        _check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        try:
            n = sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        if n == len(data):
            return
        # asyncio's trick: the position lives in a one-item list.
        return await self._sock_wait(False, sock, self._sock_sendall,
                                     memoryview(data), [n])

    async def _sock_sendto_py(self, sock, data, address):
        """Send a datagram to ``address``."""
        _check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        try:
            return sock.sendto(data, address)
        except (BlockingIOError, InterruptedError):
            pass
        return await self._sock_wait(False, sock, self._sock_sendto, data,
                                     address)

    async def _sock_accept_py(self, sock):
        """Accept a connection: ``(conn, address)``, ``conn`` non-blocking."""
        _check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        try:
            conn, address = sock.accept()
        except (BlockingIOError, InterruptedError):
            return await self._sock_wait(True, sock, self._sock_accept_ready)
        conn.setblocking(False)
        return conn, address

    def _sock_accept_ready(self, fut, sock):
        if fut.done():
            return
        try:
            conn, address = sock.accept()
            conn.setblocking(False)
        except (BlockingIOError, InterruptedError):
            return  # stays registered
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            fut.set_result((conn, address))

    async def sock_connect(self, sock, address):
        """Connect ``sock`` to ``address`` (resolved first for IP
        families). The socket is held for the whole call, the resolution
        included, as on uvloop."""
        token = object()
        self._hold_sock(token, sock)
        try:
            return await super().sock_connect(sock, address)
        finally:
            self._release_sock(token)

    def close(self):
        super().close()
        _corio._sock_close_all(self)
        holds = self._sock_holds
        if holds:
            self._sock_holds = None
            for sock in holds.values():
                _release(sock)

    # ---- start_tls ------------------------------------------------------

    async def start_tls(self, transport, protocol, sslcontext, *,
                        server_side=False, server_hostname=None,
                        ssl_handshake_timeout=None,
                        ssl_shutdown_timeout=None):
        """Upgrade ``transport`` to TLS; returns the transport ``protocol``
        should use from now on. asyncio's (the same on 3.11-3.13), with
        corio's ``SSLProtocol`` (``_sslproto``), whose application transport
        and ``connection_made`` run in the context of the transport that is
        upgraded, as on uvloop."""
        if ssl is None:
            raise RuntimeError('Python ssl module is not available')
        if not isinstance(sslcontext, ssl.SSLContext):
            raise TypeError(
                f'sslcontext is expected to be an instance of ssl.SSLContext, '
                f'got {sslcontext!r}')
        if not getattr(transport, '_start_tls_compatible', False):
            raise TypeError(
                f'transport {transport!r} is not supported by start_tls()')

        waiter = self.create_future()
        ssl_protocol = _sslproto.SSLProtocol(
            self, protocol, sslcontext, waiter, server_side, server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
            call_connection_made=False)
        # corio's socket transport and TLS transport keep their context
        # (asyncio's socket transport has none: the caller's is used).
        context = getattr(transport, '_context', None)
        if context is not None:
            ssl_protocol._app_transport._context = context

        # Pause early so that "ssl_protocol.data_received()" doesn't
        # have a chance to get called before "ssl_protocol.connection_made()".
        transport.pause_reading()

        transport.set_protocol(ssl_protocol)
        conmade_cb = self.call_soon(ssl_protocol.connection_made, transport,
                                    context=context)
        resume_cb = self.call_soon(transport.resume_reading)

        try:
            await waiter
        except BaseException:
            transport.close()
            conmade_cb.cancel()
            resume_cb.cancel()
            raise

        return ssl_protocol._app_transport

    # ---- UDP ------------------------------------------------------------

    if sys.version_info >= (3, 13):
        async def create_datagram_endpoint(self, protocol_factory,
                                           *args, sock=None, **kwargs):
            """asyncio's, with the wrong-socket message of uvloop and of
            asyncio before 3.13 ("A UDP Socket was expected")."""
            if sock is not None and sock.type == socket.SOCK_STREAM:
                raise ValueError(f'A UDP Socket was expected, got {sock!r}')
            return await super().create_datagram_endpoint(
                protocol_factory, *args, sock=sock, **kwargs)

    def _make_datagram_transport(self, sock, protocol, address=None,
                                 waiter=None, extra=None):
        self._ensure_fd_no_transport(sock)
        return _DatagramTransport(self, sock, protocol, address, waiter,
                                  extra)

    # ---- subprocess callbacks' context before 3.12 ----------------------

    if sys.version_info < (3, 12):
        async def _make_subprocess_transport(self, protocol, args, shell,
                                             stdin, stdout, stderr, bufsize,
                                             extra=None, **kwargs):
            """asyncio 3.11's, with the child watcher's callback scheduled
            in the caller's context, as on 3.12+ (the pidfd watcher's
            reader) and uvloop: 3.11's threaded watcher called it from its
            thread, so ``process_exited`` and ``connection_lost`` ran in an
            empty context (uvloop's test_context.py:
            test_subprocess_protocol)."""
            context = contextvars.copy_context()
            with events.get_child_watcher() as watcher:
                if not watcher.is_active():
                    raise RuntimeError(
                        "asyncio.get_child_watcher() is not activated, "
                        "subprocess support is not installed.")
                waiter = self.create_future()
                transp = unix_events._UnixSubprocessTransport(
                    self, protocol, args, shell, stdin, stdout, stderr,
                    bufsize, waiter=waiter, extra=extra, **kwargs)
                watcher.add_child_handler(transp.get_pid(),
                                          self._child_watcher_callback,
                                          transp, context)
                try:
                    await waiter
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException:
                    transp.close()
                    await transp._wait()
                    raise
            return transp

        def _child_watcher_callback(self, pid, returncode, transp,
                                    context=None):
            # Skip one iteration for callbacks to be executed (asyncio's).
            self.call_soon_threadsafe(functools.partial(
                self.call_soon, transp._process_exited, returncode,
                context=context))

    # ---- create_unix_server(cleanup_socket=) before 3.13 -----------------

    if sys.version_info < (3, 13):
        async def create_unix_server(self, protocol_factory, path=None, *,
                                     cleanup_socket=False, **kwargs):
            """asyncio's ``create_unix_server``, with 3.13's
            ``cleanup_socket`` (default False before 3.13, as on uvloop)."""
            server = await super().create_unix_server(
                protocol_factory, path, **kwargs)
            if cleanup_socket:
                for sock in server._sockets:
                    name = sock.getsockname()
                    # Abstract sockets (a leading NUL) have no file.
                    if not name or name[0] in (0, '\x00'):
                        continue
                    try:
                        ino = os.stat(name).st_ino
                    except FileNotFoundError:
                        continue
                    self._cleanup_paths()[sock] = ino
            return server

        def _cleanup_paths(self):
            paths = getattr(self, '_unix_server_sockets', None)
            if paths is None:
                paths = self._unix_server_sockets = {}
            return paths

        def _stop_serving(self, sock):
            paths = getattr(self, '_unix_server_sockets', None)
            path = sock.getsockname() if paths and sock in paths else None
            super()._stop_serving(sock)
            if path is None:
                return
            prev_ino = paths.pop(sock)
            try:
                if os.stat(path).st_ino == prev_ino:
                    os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as err:
                logger.error('Unable to clean up listening UNIX socket '
                             '%r: %r', path, err)


# 3.13 counts 8 bytes of header per buffered datagram and sends empty ones.
_HEADER = 8 if sys.version_info >= (3, 13) else 0
_DROP_EMPTY = sys.version_info < (3, 13)

# Addresses already found numeric, per family (bounded).
_numeric = {}


def _check_address(family, addr):
    """Raises ValueError where ``socket.sendto(addr)`` would resolve a host
    name (a blocking DNS lookup inside the loop) or the address is not of
    the socket's family, as uvloop does."""
    if family not in (socket.AF_INET, socket.AF_INET6):
        return
    if not isinstance(addr, tuple):
        raise TypeError('AF_INET address must be tuple'
                        if family == socket.AF_INET
                        else 'AF_INET6 address must be tuple')
    key = (family, addr)
    try:
        if key in _numeric:
            return
    except TypeError:  # unhashable parts: socket.sendto says what is wrong
        return
    host = addr[0] if addr else None
    if isinstance(host, (bytes, bytearray)):
        host = host.decode('latin-1')
    if isinstance(host, str) and host not in ('', '<broadcast>'):
        if family == socket.AF_INET6:
            host = host.split('%', 1)[0]  # a zone index: fe80::1%eth0
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            raise ValueError(f'{addr!r}: socket family mismatch or '
                             f'a DNS lookup is required') from None
    if len(_numeric) >= 1024:
        _numeric.clear()
    _numeric[key] = True


class _DatagramTransport(selector_events._SelectorDatagramTransport):
    """asyncio's datagram transport, with uvloop's ``sendto`` rules and
    contexts (see the module doc)."""

    def __init__(self, loop, sock, protocol, address=None, waiter=None,
                 extra=None):
        # The context every protocol callback runs in (a copy of it each
        # time: a callback may re-enter the transport), as uvloop's
        # UDPTransport: asyncio ran connection_lost in the context of
        # whoever closed the transport, and error_received and the writer's
        # callbacks in that of the sendto() caller (uvloop's
        # test_context.py: test_datagram_protocol).
        self._context = contextvars.copy_context()
        super().__init__(loop, sock, protocol, address, waiter, extra)

    def _add_reader(self, fd, callback, *args):
        # The reader's handle copies the context current here: the
        # transport's, also when resume_reading() comes from elsewhere.
        self._context.copy().run(super()._add_reader, fd, callback, *args)

    def _call_connection_lost(self, exc):
        self._context.copy().run(super()._call_connection_lost, exc)

    def _error_received(self, exc):
        self._context.copy().run(self._protocol.error_received, exc)

    def sendto(self, data, addr=None):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f'data argument must be a bytes-like object, '
                            f'not {type(data).__name__!r}')
        if _DROP_EMPTY and not data:
            return
        if self._address:
            if addr not in (None, self._address):
                raise ValueError(
                    f'Invalid address: must be None or {self._address}')
            addr = None  # connected: send()
        if self._conn_lost:
            if self._conn_lost >= constants.LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                logger.warning('socket.send() raised exception.')
            self._conn_lost += 1
            return
        if addr is not None:
            _check_address(self._sock.family, addr)

        if not self._buffer:
            try:
                if addr is None:
                    self._sock.send(data)
                else:
                    self._sock.sendto(data, addr)
                return
            except (BlockingIOError, InterruptedError):
                self._context.copy().run(self._loop._add_writer,
                                         self._sock_fd, self._sendto_ready)
            except OSError as exc:
                self._error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(
                    exc, 'Fatal write error on datagram transport')
                return

        # Buffer an immutable copy.
        self._buffer.append((bytes(data), addr))
        self._buffer_size += len(data) + _HEADER
        self._maybe_pause_protocol()

    def _sendto_ready(self):
        while self._buffer:
            data, addr = self._buffer.popleft()
            self._buffer_size -= len(data) + _HEADER
            try:
                if addr is None:
                    self._sock.send(data)
                else:
                    self._sock.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                self._buffer.appendleft((data, addr))  # Try again later.
                self._buffer_size += len(data) + _HEADER
                break
            except OSError as exc:
                self._protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(
                    exc, 'Fatal write error on datagram transport')
                return

        self._maybe_resume_protocol()  # May append to buffer.
        if not self._buffer:
            self._loop._remove_writer(self._sock_fd)
            if self._closing:
                self._call_connection_lost(None)
