"""corio's TLS protocol: asyncio's ``SSLProtocol`` (which CPython ported
from uvloop 0.16) with the places where uvloop's current ``sslproto.pyx``
behaves differently brought back, each one below with the uvloop test that
checks it. The behaviour is ported from uvloop (MagicStack, MIT or
Apache-2.0); the code is written for asyncio's class, not copied.

- **Contexts** (``_SSLProtocolTransport``): the application's transport
  keeps the ``contextvars.Context`` it was made in, and the calls a user
  makes on it (``write``, ``writelines``, ``close``, ``resume_reading``,
  ``set_write_buffer_limits``) run in a copy of it, so the protocol
  callbacks they trigger (``pause_writing``, ``data_received`` after
  ``resume_reading``, ``eof_received`` while closing) see the protocol's
  context, not the caller's. The callbacks the socket transport triggers
  run in its own context already. ``start_tls`` gives the new transport
  the context of the transport it wraps.
- **The first data after the handshake** is read one callback later, so
  that the handshake's waiter (``start_tls``'s caller) runs first and can
  swap in the TLS transport before ``data_received``. What the handshake
  wrote last is sent at once (not from that read, which a protocol that
  paused reading in ``connection_made`` would skip: asyncio's and
  uvloop's peer then waits for our Finished).
- **Closing** (``FLUSHING`` and ``SHUTDOWN``): data received after
  ``close()`` is read and dropped, never handed to the protocol (asyncio
  delivers it from ``close()`` when reading is not paused, and unread data
  fails its ``unwrap()``), and ``eof_received`` is called when the peer's
  close_notify arrives; application data arriving after our close_notify
  (bpo-39951) is dropped too, where asyncio's ``unwrap()`` fails with
  APPLICATION_DATA_AFTER_CLOSE_NOTIFY. The connection is closed once
  close_notify and the write buffer are out.
- **A TCP EOF without close_notify** ends the connection at once with
  ``connection_lost(None)``, without ``eof_received`` (uvloop's reading: a
  truncated stream is not a graceful end); data the protocol had not read
  yet (reading paused) is dropped. asyncio called ``eof_received``, and
  kept a connection whose reading was paused open until
  ``resume_reading()``.
"""

import contextvars

from asyncio import sslproto
from asyncio.log import logger
from asyncio.sslproto import SSLProtocolState

try:
    import ssl
except ImportError:  # pragma: no cover
    ssl = None
    SSLAgainErrors = ()
else:
    from asyncio.sslproto import SSLAgainErrors

__all__ = ('SSLProtocol',)

_UNWRAPPED = SSLProtocolState.UNWRAPPED
_DO_HANDSHAKE = SSLProtocolState.DO_HANDSHAKE
_WRAPPED = SSLProtocolState.WRAPPED
_FLUSHING = SSLProtocolState.FLUSHING
_SHUTDOWN = SSLProtocolState.SHUTDOWN


class _SSLProtocolTransport(sslproto._SSLProtocolTransport):
    """asyncio's TLS transport whose user calls run in (a copy of) the
    context it was made in, as uvloop's ``_SSLProtocolTransport`` does.
    uvloop's test_context.py: test_create_connection_protocol
    (``pause_writing`` after a ``write`` from another context),
    test_create_ssl_server_connection_protocol (``data_received`` after
    ``resume_reading`` from another context),
    test_create_ssl_server_manual_connection_lost (``close`` from another
    context)."""

    def __init__(self, loop, ssl_protocol):
        super().__init__(loop, ssl_protocol)
        # A copy per call: a callback may call back into the transport
        # (data_received -> write), and a Context cannot be entered twice.
        self._context = contextvars.copy_context()

    def close(self):
        self._context.copy().run(super().close)

    def resume_reading(self):
        self._context.copy().run(super().resume_reading)

    def set_write_buffer_limits(self, high=None, low=None):
        self._context.copy().run(super().set_write_buffer_limits, high, low)

    def write(self, data):
        self._context.copy().run(super().write, data)

    def writelines(self, list_of_data):
        self._context.copy().run(super().writelines, list_of_data)


class SSLProtocol(sslproto.SSLProtocol):
    """asyncio's ``SSLProtocol`` with uvloop's behaviour (module doc)."""

    # True while _on_handshake_complete runs: its closing _do_read() is
    # deferred by one callback.
    _completing_handshake = False

    def _get_app_transport(self):
        # asyncio's, making corio's transport class.
        if self._app_transport is None:
            if self._app_transport_created:
                raise RuntimeError('Creating _SSLProtocolTransport twice')
            self._app_transport = _SSLProtocolTransport(self._loop, self)
            self._app_transport_created = True
        return self._app_transport

    # ---- the first read after the handshake -------------------------------

    def _on_handshake_complete(self, handshake_exc):
        # asyncio ends this with self._do_read(): application data that came
        # with the handshake's last flight reaches data_received before the
        # waiter's callbacks ran, so a start_tls() caller still writes to
        # the plain transport. uvloop schedules that read instead (uvloop's
        # test_tcp.py: test_first_data_after_wakeup).
        self._completing_handshake = True
        try:
            super()._on_handshake_complete(handshake_exc)
        finally:
            self._completing_handshake = False

    def _do_read(self):
        # Only while WRAPPED: once close() started (FLUSHING), incoming data
        # goes to _do_read_into_void instead of the protocol (asyncio reads
        # for the protocol in FLUSHING too; uvloop's test_context.py:
        # test_create_ssl_server_manual_connection_lost).
        if self._state is not _WRAPPED:
            return
        if self._completing_handshake:
            # What the handshake wrote last (TLS 1.3: the client's Finished,
            # the server's session tickets) goes out now: the read it came
            # with in asyncio and uvloop sends it only if reading is not
            # paused, and a peer waiting for it would wait forever.
            try:
                self._process_outgoing()
            except Exception as exc:
                self._fatal_error(exc, 'Fatal error on SSL protocol')
                return
            self._loop.call_soon(self._do_read)
            return
        super()._do_read()

    def _resume_reading(self):
        # uvloop's: reading resumes only while WRAPPED (in FLUSHING and
        # SHUTDOWN every incoming record is drained by _do_flush or
        # _do_shutdown already, paused or not).
        if self._app_reading_paused:
            self._app_reading_paused = False
            self._loop.call_soon(self._do_read)

    # ---- the TCP stream's EOF ----------------------------------------------

    def eof_received(self):
        # A TCP EOF without the peer's close_notify: uvloop treats it as a
        # broken connection: the connection is closed now and the protocol's
        # eof_received() is not called (it would pass a truncated stream
        # for a graceful end); data not read yet (reading paused) is lost.
        # asyncio called eof_received() and, with reading paused, kept the
        # connection open until resume_reading(): a protocol waiting for
        # eof_received() to resume waited forever (uvloop's test_tcp.py:
        # test_shutdown_timeout_handler_not_set).
        self._eof_received = True
        try:
            if self._loop.get_debug():
                logger.debug("%r received EOF", self)
            if self._state is _DO_HANDSHAKE:
                self._on_handshake_complete(ConnectionResetError)
            elif self._state in (_WRAPPED, _FLUSHING):
                if self._state is _WRAPPED:
                    self._set_state(_FLUSHING)
                self._set_state(_SHUTDOWN)
                self._on_shutdown_complete(None)
            elif self._state is _SHUTDOWN:
                self._on_shutdown_complete(None)
        except Exception:
            self._transport.close()
            raise

    # ---- closing: FLUSHING, then SHUTDOWN -----------------------------------

    def _do_read_into_void(self):
        """Reads and drops what the peer sent after close() (uvloop's
        ``_do_read_into_void``); the peer's close_notify calls the
        protocol's ``eof_received()``."""
        close_notify = False
        read = self._sslobj.read
        try:
            while True:
                if not read(self.max_size):
                    close_notify = True
                    break
        except SSLAgainErrors:
            pass
        except ssl.SSLZeroReturnError:
            close_notify = True
        if close_notify:
            self._call_eof_received()

    def _do_flush(self):
        # asyncio's _do_flush hands incoming data to the protocol and moves
        # to SHUTDOWN at once, before the write backlog is out. uvloop's
        # drops incoming data and stays in FLUSHING until the backlog is
        # written (resume_writing and buffer_updated call this again)
        # (uvloop's test_tcp.py: test_shutdown_while_pause_reading).
        try:
            self._do_read_into_void()
            self._do_write()
            self._control_ssl_reading()
        except Exception as exc:
            self._on_shutdown_complete(exc)
        else:
            if not self._get_write_buffer_size():
                self._set_state(_SHUTDOWN)
                self._do_shutdown()

    def _do_shutdown(self):
        # Application data still arriving after our close_notify is
        # discarded before unwrap(), which would fail on it with
        # APPLICATION_DATA_AFTER_CLOSE_NOTIFY (bpo-39951; uvloop's
        # test_tcp.py: test_bpo_39951_discard_trailing_data). The peer's
        # close_notify, seen by _do_read_into_void, calls eof_received();
        # the connection closes when ours is written out.
        try:
            self._do_read_into_void()
            try:
                self._sslobj.unwrap()
            except SSLAgainErrors:
                self._process_outgoing()
            else:
                self._process_outgoing()
                if not self._get_write_buffer_size():
                    self._on_shutdown_complete(None)
        except Exception as exc:
            self._on_shutdown_complete(exc)

    def resume_writing(self):
        # The socket transport drained: while closing, that may be what
        # FLUSHING or SHUTDOWN waits for (asyncio only sent the rest).
        assert self._ssl_writing_paused
        self._ssl_writing_paused = False
        if self._state is _WRAPPED or self._state is _DO_HANDSHAKE:
            self._process_outgoing()
        elif self._state is _FLUSHING:
            self._do_flush()
        elif self._state is _SHUTDOWN:
            self._do_shutdown()
