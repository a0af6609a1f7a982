"""Daphne specifics: the RFC 6455 close codes the contract uses (1008, 1013),
permessage-deflate for clients that offer it, and broadcast writes that frame a message
once for all its subscribers (see below).

Daphne closes through autobahn's `sendClose`, which accepts only 1000 and 3000-4999 and
raises on anything else (so `{"type": "websocket.close", "code": 1013}` is silently lost
and the socket stays open). RFC 6455 section 7.4.1 lets an endpoint send 1001, 1008,
1011, 1012, 1013 and 1014; for those we write the close frame through autobahn's
lower-level `sendCloseFrame`, which `sendClose` itself ends in. Checked against Daphne
4.2 / autobahn 26.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

RFC6455_SENDABLE = frozenset({1001, 1008, 1011, 1012, 1013, 1014})


def install() -> None:
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # another ASGI server: nothing to fix
        return
    if getattr(WebSocketProtocol.serverClose, "_wedsync", False):
        return
    original = WebSocketProtocol.serverClose

    def server_close(self, code=None):
        if code in RFC6455_SENDABLE:
            self.sendCloseFrame(code=code, isReply=False)
            return
        original(self, code)

    server_close._wedsync = True
    WebSocketProtocol.serverClose = server_close
    _offer_deflate()


# --- permessage-deflate ----------------------------------------------------------------
#
# Daphne builds its autobahn factory without `perMessageCompressionAccept`, so a client's
# permessage-deflate offer (browsers and most libraries make one) was always declined.
# We accept it on every factory Daphne makes, sized for ~10,000 connections a process:
# autobahn keeps a connection's zlib objects once made, and the defaults (15-bit windows,
# memLevel 8) would cost ~300 KB per connection against a 30 KB budget. So: 512-byte
# windows both ways (the smallest RFC 7692 allows), memLevel 1, and no context takeover
# from the server (each message compressed on its own; JSON frames still shrink, their
# keys repeat within a message). Inflating a client frame is capped at Daphne's message
# size limit (no zip bombs). A client that does not offer deflate is unaffected.

DEFLATE_WINDOW_BITS = 9
DEFLATE_MEM_LEVEL = 1


def _offer_deflate() -> None:
    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:
        return
    if getattr(WebSocketFactory.__init__, "_wedsync", False):
        return
    original = WebSocketFactory.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.setProtocolOptions(
            perMessageCompressionAccept=lambda offers: accept_deflate(self, offers)
        )

    init._wedsync = True
    WebSocketFactory.__init__ = init
    _drop_zlib_between_messages()


def _drop_zlib_between_messages() -> None:
    """Without context takeover a zlib object is made afresh for every message anyway
    (autobahn's start_*_message), yet autobahn keeps the last one alive on the connection:
    ~18 KB per idle connection. Drop it once the message is done."""
    from autobahn.websocket.compress_deflate import PerMessageDeflate

    if getattr(PerMessageDeflate.end_compress_message, "_wedsync", False):
        return
    end_compress = PerMessageDeflate.end_compress_message
    end_decompress = PerMessageDeflate.end_decompress_message

    def end_compress_message(self):
        data = end_compress(self)
        if self._is_server and self.server_no_context_takeover:
            self._compressor = None
        return data

    def end_decompress_message(self):
        end_decompress(self)
        if self._is_server and self.client_no_context_takeover:
            self._decompressor = None

    end_compress_message._wedsync = True
    PerMessageDeflate.end_compress_message = end_compress_message
    PerMessageDeflate.end_decompress_message = end_decompress_message


def accept_deflate(factory, offers: list) -> object | None:
    """autobahn's perMessageCompressionAccept: take the first permessage-deflate offer."""
    from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept

    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(
                offer,
                request_no_context_takeover=offer.accept_no_context_takeover,
                request_max_window_bits=DEFLATE_WINDOW_BITS if offer.accept_max_window_bits else 0,
                no_context_takeover=True,
                window_bits=DEFLATE_WINDOW_BITS,
                mem_level=DEFLATE_MEM_LEVEL,
                max_message_size=getattr(factory, "maxMessagePayloadSize", None) or 2**20,
            )
    return None


# --- broadcast writes ------------------------------------------------------------------
#
# Daphne's ASGI `send` for a WebSocket is `partial(server.handle_reply, protocol)`: per
# message a coroutine, header checks, `str.encode` and autobahn framing, for every
# subscriber of a publish. For fan-out the hub instead frames a message once
# (autobahn's PreparedMessage, made for broadcast) and hands the same bytes to each
# subscriber's protocol synchronously; with permessage-deflate negotiated autobahn
# compresses per connection itself. Other ASGI servers get None and the plain `send`.


def wire_of(send: Callable) -> object | None:
    """The autobahn protocol behind Daphne's ASGI `send`, or None (another server)."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return None
    if (
        isinstance(send, functools.partial)
        and send.args
        and isinstance(send.args[0], WebSocketProtocol)
    ):
        return send.args[0]
    return None


def close_with_reason(wire, code: int, reason: str) -> bool:
    """Close with a reason (Daphne's ASGI close drops it); False if not open."""
    if wire.state != _STATE_OPEN:
        return False
    wire.sendCloseFrame(code=code, reasonUtf8=reason.encode()[:123], isReply=False)
    return True


def prepare(text: str) -> object:
    """A text frame, framed once for any number of connections (server frames: no mask)."""
    from autobahn.websocket.protocol import PreparedMessage

    return PreparedMessage(text.encode(), False, False, False)


def send_prepared(wire, prepared) -> bool:
    """Write a prepared frame now; False if the socket is no longer open."""
    if wire.state != _STATE_OPEN:
        return False
    if wire._perMessageCompress is not None or wire.send_queue:
        wire.sendPreparedMessage(prepared)  # compressed per connection, or queued behind
        return True
    _write_now(wire.transport, prepared.payloadHybi)
    return True


def _write_now(transport, data: bytes) -> None:
    """transport.write, but try the socket first.

    Twisted's TCP transport only buffers on write and registers the socket with the
    reactor; the send happens on a later loop turn, with two epoll_ctl calls per socket
    around it. For a fan-out to 1,000 sockets that is 1,000 callbacks after the loop that
    queued them. When nothing is buffered (the usual case) one non-blocking send() does
    the job now; whatever the kernel does not take is handed to the transport as before,
    so ordering and back-pressure are Twisted's. TLS or other transports: plain write."""
    sock = getattr(transport, "socket", None)
    if (
        type(transport) is not _TcpServer
        or sock is None
        or getattr(transport, "TLS", False)
        or not transport.connected
        or transport._writeDisconnected
        or transport._tempDataLen
        or transport.offset < len(transport.dataBuffer)
    ):
        transport.write(data)
        return
    try:
        sent = sock.send(data)
    except (BlockingIOError, InterruptedError):
        sent = 0
    except OSError:
        transport.write(data)  # let Twisted notice the broken connection its own way
        return
    if sent < len(data):
        transport.write(data[sent:])


try:
    from autobahn.websocket.protocol import WebSocketProtocol as _AutobahnProtocol

    _STATE_OPEN = _AutobahnProtocol.STATE_OPEN
except ImportError:  # pragma: no cover - autobahn comes with Daphne
    _STATE_OPEN = None
try:
    from twisted.internet.tcp import Server as _TcpServer
except ImportError:  # pragma: no cover - Twisted comes with Daphne
    _TcpServer = None
