"""The Socket.IO link to a Burn Chat server, delivering every server event to one queue in order."""

import engineio
import socketio
from engineio import packet as eio_packet
from socketio.exceptions import SocketIOError

SERVER_EVENTS = (
    "member_joined",
    "member_left",
    "rekey",
    "key_request",
    "room_key",
    "message",
    "room_state",
    "countdown",
    "kicked",
    "destroyed",
)
CALL_TIMEOUT_SECONDS = 10


class _InOrderEngineIOClient(engineio.Client):
    """Engine.IO client that dispatches messages on its reader thread, in arrival order.

    The stock client starts one thread per message, so `rekey`, `key_request` and
    `room_key` could reach our queue out of order. Our handlers only enqueue, so
    running them on the reader thread costs nothing.
    """

    def _receive_packet(self, pkt):
        """Handle MESSAGE packets synchronously; leave the rest to the stock client."""
        if pkt.packet_type == eio_packet.MESSAGE:
            self._trigger_event("message", pkt.data, run_async=False)
        else:
            super()._receive_packet(pkt)


class _InOrderClient(socketio.Client):
    """socketio.Client on top of the in-order Engine.IO client."""

    def _engineio_client_class(self):
        """Use the in-order Engine.IO client (see its docstring)."""
        return _InOrderEngineIOClient


class RoomConnection:
    """One Socket.IO connection whose server events land in `events` as (name, data)."""

    def __init__(self, base_url, events):
        """Prepare the client and its handlers; nothing is sent until connect()."""
        self.base_url = base_url
        self.events = events
        # The server checks Origin; websocket-client sends the `origin` option as it.
        self._sio = _InOrderClient(reconnection=False, websocket_extra_options={"origin": base_url})
        for name in SERVER_EVENTS:
            self._sio.on(name, self._enqueuer(name))
        self._sio.on("disconnect", self._on_disconnect)

    def _enqueuer(self, name):
        """A handler that queues one server event for the main loop."""

        def enqueue(data=None, *_rest):
            self.events.put((name, data))

        return enqueue

    def _on_disconnect(self, *_reason):
        """The connection ended (burn, kick, network or server gone)."""
        self.events.put(("disconnect", None))

    def connect(self):
        """Open the websocket; raises ConnectionError with a short reason."""
        try:
            self._sio.connect(self.base_url, transports=["websocket"], wait_timeout=CALL_TIMEOUT_SECONDS)
        except SocketIOError as exc:
            raise ConnectionError(f"cannot reach {self.base_url} ({exc})") from exc

    def call(self, event, data):
        """Emit with an acknowledgement and wait for it; failures become a failed ack."""
        try:
            ack = self._sio.call(event, data, timeout=CALL_TIMEOUT_SECONDS)
        except SocketIOError as exc:
            return {"ok": False, "code": "no_answer", "error": f"the server did not answer ({type(exc).__name__})"}
        if not isinstance(ack, dict):
            return {"ok": False, "code": "invalid", "error": "the server sent an unexpected answer"}
        return ack

    def close(self):
        """Disconnect if still connected."""
        if self._sio.connected:
            self._sio.disconnect()
