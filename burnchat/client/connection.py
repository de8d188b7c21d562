"""The Socket.IO link to a Burn Chat server, delivering every server event to one queue in order."""

import engineio
import requests
import socketio
from engineio import packet as eio_packet
from socketio.exceptions import SocketIOError

SERVER_EVENTS = (
    "file_chunk",
    "file_cancel",
    "member_joined",
    "member_left",
    "member_away",
    "member_back",
    "rekey",
    "key_request",
    "room_key",
    "message",
    "room_state",
    "countdown",
    "kicked",
    "destroyed",
    "admin_joined",
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
    """One Socket.IO connection at a time whose server events land in `events` as (name, data).

    After a drop, reconnect() opens a new socket on the same queue (the chat then resumes, §7.4);
    a `disconnect` event says whether we closed it ourselves ({"closed": True}).
    """

    def __init__(self, base_url, events):
        """Prepare the client and its handlers; nothing is sent until connect()."""
        self.base_url = base_url
        self.events = events
        self.closed = False
        self._sio = self._client()

    def _client(self):
        """A fresh Socket.IO client wired to the queue (each socket gets its own, so a dead one stays quiet)."""
        # The server checks Origin; websocket-client sends the `origin` option as it.
        sio = _InOrderClient(reconnection=False, websocket_extra_options={"origin": self.base_url})
        for name in SERVER_EVENTS:
            sio.on(name, self._enqueuer(name, sio))
        sio.on("disconnect", lambda *_reason: self._on_disconnect(sio))
        return sio

    def _enqueuer(self, name, sio):
        """A handler that queues one server event of socket `sio` for the main loop."""

        def enqueue(data=None, *_rest):
            if sio is self._sio:
                self.events.put((name, data))

        return enqueue

    def _on_disconnect(self, sio):
        """The connection ended (burn, kick, network or server gone, or our own close)."""
        if sio is self._sio:
            self.events.put(("disconnect", {"closed": self.closed}))

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

    def room_status(self, room_id):
        """GET /api/rooms/ROOM: {locked, count, expires_at, now, pin_salt}, or a failed ack."""
        try:
            response = requests.get(f"{self.base_url}/api/rooms/{room_id}", timeout=CALL_TIMEOUT_SECONDS)
            status = response.json()
        except (requests.RequestException, ValueError):
            return {"ok": False, "code": "no_answer", "error": "the server did not answer"}
        if response.status_code != 200 or not isinstance(status, dict):
            said = status.get("error") if isinstance(status, dict) else None
            return {"ok": False, "code": "no_room" if response.status_code == 404 else "no_answer",
                    "error": said or f"the server answered HTTP {response.status_code}"}
        return {"ok": True, **status}

    def reconnect(self):
        """Drop what is left of the old socket and open a new one; raises ConnectionError."""
        old, self._sio = self._sio, self._client()
        try:
            old.disconnect()  # events of the old socket no longer reach the queue
        except Exception:  # noqa: BLE001 - it is gone either way
            pass
        self.connect()

    def close(self):
        """Disconnect if still connected; nothing reconnects after this."""
        self.closed = True
        if self._sio.connected:
            self._sio.disconnect()
