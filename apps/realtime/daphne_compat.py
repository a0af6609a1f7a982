"""Let Daphne send the RFC 6455 close codes the contract uses (1008, 1013).

Daphne closes through autobahn's `sendClose`, which accepts only 1000 and 3000-4999 and
raises on anything else (so `{"type": "websocket.close", "code": 1013}` is silently lost
and the socket stays open). RFC 6455 section 7.4.1 lets an endpoint send 1001, 1008,
1011, 1012, 1013 and 1014; for those we write the close frame through autobahn's
lower-level `sendCloseFrame`, which `sendClose` itself ends in. Checked against Daphne
4.2 / autobahn 26.
"""

from __future__ import annotations

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
