"""corio's event loop: the Rust core (``_corio.Loop``) under asyncio's own
selector event loop classes.

``_corio.Loop`` comes first in the MRO, so its methods (``call_soon``,
``call_later``, ``call_at``, ``call_soon_threadsafe``, ``time``,
``_run_once``, ``_add_reader``/``_remove_reader``/``_add_writer``/
``_remove_writer``, ``_write_to_self``, ``_add_callback``,
``_timer_handle_cancelled``) replace asyncio's; everything else
(transports, servers, sockets, pipes, subprocesses, signals, executors,
TLS, sendfile, the exception handler) is asyncio's
``unix_events.SelectorEventLoop``, whose selector-facing calls all go
through those primitives.
"""

import selectors
import socket
import sys
import threading

from asyncio import base_events, events, unix_events

from . import _corio, _sslproto, _transport
from ._compat import CompatMixin

__all__ = ('EventLoop',)


class _Selector:
    """What asyncio's transports read of ``loop._selector`` (``get_key``
    in their ``__repr__``), answered from the Rust fd table."""

    def __init__(self, loop):
        self._loop = loop

    def _key(self, fileobj):
        try:
            key = self._loop._fd_key(fileobj)
        except ValueError:
            key = None
        if key is None:
            raise KeyError(f'{fileobj!r} is not registered')
        events_, reader, writer = key
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        return selectors.SelectorKey(fileobj, fd, events_, (reader, writer))

    def get_key(self, fileobj):
        return self._key(fileobj)

    def get_map(self):
        return {fd: self._key(fd) for fd in self._loop._watched_fds()}

    def select(self, timeout=None):
        raise NotImplementedError('the corio loop polls in Rust')

    def close(self):
        self._loop = None


_READ_SIZE = 64 * 1024


def _set_nodelay(sock):
    """TCP_NODELAY on every TCP socket a transport gets, as uvloop does
    (asyncio's own ``_set_nodelay`` skips sockets created with proto 0)."""
    if (sock.family in (socket.AF_INET, socket.AF_INET6)
            and sock.type == socket.SOCK_STREAM):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class EventLoop(CompatMixin, _corio.Loop, unix_events.SelectorEventLoop):
    """An asyncio event loop whose core runs on corio (Rust)."""

    def __init__(self):
        super().__init__(selector=_Selector(self))

    def close(self):
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self.is_closed():
            return
        super().close()
        self._clear_core()

    def _make_socket_transport(self, sock, protocol, waiter=None, *,
                               extra=None, server=None):
        """A stream socket's transport: corio's Rust one (``_transport``)
        for TCP and Unix stream sockets, unless ``self._rust_transport`` is
        false (``CORIO_PY_TRANSPORT=asyncio``); else asyncio's."""
        _set_nodelay(sock)
        if self._use_rust_transport(sock):
            return _transport.make_socket_transport(
                self, sock, protocol, waiter, extra=extra, server=server)
        transport = super()._make_socket_transport(
            sock, protocol, waiter, extra=extra, server=server)
        # asyncio reads up to 256 KiB per callback: a bytes object above
        # glibc's mmap threshold, so every read costs mmap + mremap +
        # munmap besides the recv. 64 KiB (libuv's read size) stays on the
        # heap: one syscall per read.
        transport.max_size = _READ_SIZE
        return transport

    def _make_ssl_transport(self, rawsock, protocol, sslcontext, waiter=None,
                            *, server_side=False, server_hostname=None,
                            extra=None, server=None, **timeouts):
        """TLS over the loop's socket transport (``_make_socket_transport``:
        corio's Rust one, or asyncio's): corio's ``SSLProtocol``
        (``_sslproto``: asyncio's, with uvloop's behaviour where they
        differ), whose application transport is returned."""
        ssl_protocol = _sslproto.SSLProtocol(
            self, protocol, sslcontext, waiter, server_side, server_hostname,
            **timeouts)
        self._make_socket_transport(rawsock, ssl_protocol, extra=extra,
                                    server=server)
        return ssl_protocol._app_transport

    def _use_rust_transport(self, sock):
        rust = getattr(self, '_rust_transport', None)
        if rust is None:
            rust = self._rust_transport = _transport.use_rust_transport()
        # The Rust transport holds the socket open through its
        # io-reference count, which only ``socket.socket`` has.
        return (rust and isinstance(sock, socket.socket)
                and sock.type == socket.SOCK_STREAM)

    def _process_events(self, event_list):
        raise NotImplementedError('the corio loop polls in Rust')

    if hasattr(base_events.BaseEventLoop, '_run_forever_setup'):  # 3.12.x+
        def run_forever(self):
            """Run until stop() is called."""
            try:
                self._run_forever_setup()
                self._run_forever_loop()
            finally:
                self._run_forever_cleanup()
    else:
        def run_forever(self):
            """Run until stop() is called."""
            self._check_closed()
            self._check_running()
            self._set_coroutine_origin_tracking(self._debug)

            old_agen_hooks = sys.get_asyncgen_hooks()
            try:
                self._thread_id = threading.get_ident()
                sys.set_asyncgen_hooks(
                    firstiter=self._asyncgen_firstiter_hook,
                    finalizer=self._asyncgen_finalizer_hook)

                events._set_running_loop(self)
                self._run_forever_loop()
            finally:
                self._stopping = False
                self._thread_id = None
                events._set_running_loop(None)
                self._set_coroutine_origin_tracking(False)
                sys.set_asyncgen_hooks(*old_agen_hooks)
