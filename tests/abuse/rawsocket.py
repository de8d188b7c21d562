"""A bare Socket.IO 4 client over one WebSocket: it sends any frame at all, well-formed or not.

The python-socketio client (tests/wire.py) only speaks correct Socket.IO; hostile
input needs raw frames. No threads: replies are read on demand, and the server's
pings are answered while reading, so a socket can be kept for a whole test.
"""

import itertools
import json
import time

import websocket


class Closed(Exception):
    """The server closed the connection."""


class RawSocket:
    """One Engine.IO WebSocket connection; `call` sends an event with an ack id, reads the ack."""

    def __init__(self, url, origin=None, suppress_origin=False, headers=None, connect=True,
                 timeout=5.0):
        ws_url = url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(
            ws_url, timeout=timeout, origin=origin, suppress_origin=suppress_origin,
            header=headers or {})
        self.timeout = timeout
        self.events = []
        self._ids = itertools.count(1)
        kind, data = self._next_frame()
        assert kind == "0", f"expected the Engine.IO open packet, got {kind!r}"
        self.handshake = json.loads(data)
        self.connect_reply = self.connect_namespace() if connect else None

    def connect_namespace(self, auth=None):
        """Join the default namespace; returns ("40", data) or ("44", error data)."""
        self.send_text("40" + (json.dumps(auth) if auth is not None else ""))
        packet = self.read_until(lambda p: p.startswith(("0", "4")))
        return "4" + packet[:1], json.loads(packet[1:] or "null")

    @property
    def connected(self):
        """True while the WebSocket is open."""
        return self.ws.connected

    def send_text(self, text):
        """Send one text frame exactly as given."""
        self._send(self.ws.send, text)

    def send_binary(self, data):
        """Send one binary frame."""
        self._send(self.ws.send_binary, data)

    def _send(self, send, data):
        """Send, turning a connection the server already closed into Closed."""
        try:
            send(data)
        except (websocket.WebSocketConnectionClosedException, OSError):
            raise Closed() from None

    def next_id(self):
        """A fresh acknowledgement id."""
        return next(self._ids)

    def call(self, event, *args, timeout=None):
        """Emit a well-formed event with an ack id and return the ack's first argument."""
        ack_id = self.next_id()
        self.send_text(f"42{ack_id}" + json.dumps([event, *args], separators=(",", ":")))
        return self.read_ack(ack_id, timeout)

    def read_ack(self, ack_id, timeout=None):
        """Read frames until the ack for `ack_id` arrives; returns its first argument."""
        prefix = f"3{ack_id}"
        packet = self.read_until(
            lambda p: p.startswith(prefix) and p[len(prefix):len(prefix) + 1] == "[", timeout)
        data = json.loads(packet[len(prefix):])
        return data[0] if data else None

    def read_until(self, predicate, timeout=None):
        """Read Socket.IO packets (recording events) until one matches `predicate`.

        A packet is an Engine.IO message without its leading "4": "0{sid}", "2[event,...]",
        "3<id>[ack]", "4{error}".
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("no matching frame")
            kind, data = self._next_frame(deadline)
            if kind != "4":
                continue
            if data.startswith("2["):
                self.events.append(json.loads(data[1:]))
            if predicate(data):
                return data

    def named(self, event):
        """Payloads of every server event `event` read so far."""
        return [e[1] if len(e) > 1 else None for e in self.events if e[0] == event]

    def wait_closed(self, timeout=None):
        """Read until the server closes the connection or disconnects us; True if it did in time.

        Like a real client, a Socket.IO DISCONNECT from the server makes us close our end.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while time.monotonic() < deadline:
                kind, data = self._next_frame(deadline)
                if kind == "4" and data.startswith("1"):
                    self.close()
                    return True
        except Closed:
            return True
        except TimeoutError:
            return False
        return False

    def _next_frame(self, deadline=None):
        """One Engine.IO packet as (type, data); answers pings; raises Closed at the end."""
        while True:
            remaining = (deadline - time.monotonic()) if deadline else self.timeout
            if remaining <= 0:
                raise TimeoutError("no frame in time")
            self.ws.settimeout(remaining)
            try:
                frame = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                raise TimeoutError("no frame in time") from None
            except (websocket.WebSocketException, ConnectionError, OSError):
                # Closed, or the server gave up on the socket (Engine.IO refuses frames that
                # are not packets by ending the connection with an HTTP error).
                raise Closed() from None
            if frame in ("", b""):
                raise Closed()
            if isinstance(frame, bytes):
                continue
            if frame == "2":
                self.send_text("3")
                continue
            if frame.startswith("1"):
                raise Closed()
            return frame[:1], frame[1:]

    def close(self):
        """Close the WebSocket if it is open."""
        try:
            self.ws.close()
        except (websocket.WebSocketException, OSError):
            pass
