"""corio's socket transport: the Rust core (``_corio.SocketTransport``:
reads, writes, flow control, closing) under the one-off parts asyncio's
``_SelectorSocketTransport`` does in Python (extra info, the server's
attach/detach, ``connection_made`` and the waiter, ``__repr__``,
``__del__``, the fatal-error logging rules, sendfile's hooks).

Every protocol callback runs in the ``contextvars.Context`` the transport
was made in (uvloop's rule), copied for those triggered by a user call
(``pause_writing`` from ``write()``).

``CORIO_PY_TRANSPORT=asyncio`` in the environment (read when the loop is
created) or ``loop._rust_transport = False`` makes the loop use asyncio's
own ``_SelectorSocketTransport`` instead.
"""

import os
import warnings

from asyncio import constants, futures, trsock
from asyncio.log import logger

from . import _corio

__all__ = ('SocketTransport', 'use_rust_transport')


def use_rust_transport():
    """Whether new loops use this transport (``CORIO_PY_TRANSPORT``)."""
    return os.environ.get('CORIO_PY_TRANSPORT', 'rust') != 'asyncio'


def _attach_takes_transport():
    import inspect
    from asyncio import base_events
    params = inspect.signature(base_events.Server._attach).parameters
    return len(params) > 1


_TAKES_TRANSPORT = _attach_takes_transport()
_SOCKET_INFO = frozenset(('socket', 'sockname', 'peername'))


class SocketTransport(_corio.SocketTransport):
    """A TCP or Unix stream socket transport (asyncio's ``Transport`` API)."""

    # No per-instance __dict__ (uvloop's transports have none either): an
    # idle connection's transport costs its Rust state, ``_extra`` (None
    # until some extra info is asked for) and a weak-reference slot
    # (``loop._transports`` holds transports weakly).
    __slots__ = ('_extra', '__weakref__')

    _start_tls_compatible = True
    _sendfile_compatible = constants._SendfileMode.TRY_NATIVE
    _detach_takes_transport = _TAKES_TRANSPORT

    def __init__(self, loop, sock, protocol, waiter=None, extra=None,
                 server=None):
        # The socket's extra info ('socket', 'sockname', 'peername') is
        # read from it on the first get_extra_info() (as uvloop), not built
        # per connection: asyncio's accept passes {'peername': addr}, which
        # the socket answers too, so that dict and its address are dropped
        # (about 320 B per idle connection; 'sockname' and 'socket' another
        # 200).
        if extra and (len(extra) > 1 or 'peername' not in extra):
            self._extra = extra
        else:
            self._extra = None
        if server is not None:
            if _TAKES_TRANSPORT:
                server._attach(self)
            else:
                server._attach()
        loop._transports[self._sock_fd] = self
        context = self._context
        loop.call_soon(protocol.connection_made, self, context=context)
        self._start()
        if waiter is not None:
            loop.call_soon(futures._set_result_unless_cancelled, waiter, None,
                           context=context)

    def get_extra_info(self, name, default=None):
        extra = self._extra
        if extra is not None and name in extra:
            return extra[name]
        if name in _SOCKET_INFO:
            return self._socket_info(name)
        return default

    def _socket_info(self, name):
        """'socket', 'sockname' or 'peername', from the socket, kept once
        known (asyncio's values stay readable after the transport closed;
        ``_keep_extra`` reads the addresses before the socket closes)."""
        sock = self._sock
        if sock is None:
            return None
        if name == 'socket':
            value = trsock.TransportSocket(sock)
        else:
            try:
                value = (sock.getsockname() if name == 'sockname'
                         else sock.getpeername())
            except OSError:
                return None
        if self._extra is None:
            self._extra = {}
        self._extra[name] = value
        return value

    def _keep_extra(self):
        """The socket is about to close: keep its addresses for
        get_extra_info() (called by ``_call_connection_lost``)."""
        extra = self._extra
        for name in ('sockname', 'peername'):
            if extra is None or name not in extra:
                self._socket_info(name)
                extra = self._extra

    def __repr__(self):
        info = [self.__class__.__name__]
        if self._sock is None:
            info.append('closed')
        elif self._closing:
            info.append('closing')
        info.append(f'fd={self._sock_fd}')
        loop = self._loop
        if loop is not None and not loop.is_closed():
            reading = self._polling and self.is_reading()
            info.append('read=polling' if reading else 'read=idle')
            bufsize = self.get_write_buffer_size()
            state = 'polling' if bufsize else 'idle'
            info.append(f'write=<{state}, bufsize={bufsize}>')
        return '<{}>'.format(' '.join(info))

    def __del__(self, _warn=warnings.warn):
        sock = self._sock
        if sock is not None:
            _warn(f"unclosed transport {self!r}", ResourceWarning,
                  source=self)
            self._release_fd()
            sock.close()
            server = self._server
            if server is not None:
                if _TAKES_TRANSPORT:
                    server._detach(self)
                else:
                    server._detach()

    def _fatal_error(self, exc, message='Fatal error on transport'):
        loop = self._loop
        if isinstance(exc, OSError):
            if loop is not None and loop.get_debug():
                logger.debug("%r: %s", self, message, exc_info=True)
        elif loop is not None:
            loop.call_exception_handler({
                'message': message,
                'exception': exc,
                'transport': self,
                'protocol': self._protocol,
            })
        self._force_close(exc)

    def _reset_empty_waiter(self):
        # sendfile is over: the socket, which left the reactor once the
        # buffer was flushed (so that sock_sendfile could add its own
        # writer), is registered again.
        super()._reset_empty_waiter()
        self._start()


def make_socket_transport(loop, sock, protocol, waiter=None, *, extra=None,
                          server=None):
    """``loop._make_socket_transport`` for stream sockets."""
    return SocketTransport(loop, sock, protocol, waiter, extra, server)
