"""A protocol-speaking test peer: a real python-socketio client that records what it hears.

The server is blind, so server tests use well-formed opaque blobs (random bytes of
the right sizes) instead of real crypto; the reference client and the browser
suite cover the crypto end to end.
"""

import base64
import hashlib
import secrets
import threading

import socketio

from tests.server import wait_for


def b64u(byte_count):
    """Random bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(secrets.token_bytes(byte_count)).rstrip(b"=").decode()


def announcement(member_id=None):
    """A well-formed (cryptographically meaningless) member announcement."""
    return {"member_id": member_id or b64u(16), "ecdh_pub": b64u(65), "sig_pub": b64u(65),
            "enc_name": b64u(12 + 132 + 16), "mac": b64u(32)}


def envelope(sender, epoch, seq, padded_bytes=256):
    """A well-formed message envelope with random ciphertext of one body size class."""
    return {"v": 2, "epoch": epoch, "sender": sender, "seq": seq, "prev": b64u(32),
            "iv": b64u(12), "ct": b64u(padded_bytes + 16), "sig": b64u(64)}


def key_delivery(epoch, creator, recipients):
    """A well-formed (meaningless) key_deliver: the creator's roster and one blob per recipient."""
    roster = sorted({creator, *recipients})
    return {"epoch": epoch, "roster": roster, "line_macs": [b64u(16) for _ in roster],
            "commit_sig": b64u(64),
            "blobs": [{"to": to, "wrapped": b64u(40), "sig": b64u(64)} for to in recipients]}


class Peer:
    """One socket to the server; answers key requests like a real member when `keyed`."""

    def __init__(self, url, headers=None, keyed=True, connect=True):
        self.url = url
        self.keyed = keyed
        self.member_id = None
        self.epoch_held = 0
        self.events = []
        self.disconnected = threading.Event()
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.on("disconnect", self._on_disconnect)
        if connect:
            self.client.connect(url, transports=["websocket"],
                                headers=headers or {}, wait_timeout=5)

    def _record(self, event, *args):
        """Keep every event; act on key traffic like a real client would."""
        data = args[0] if args else None
        with self._lock:
            self.events.append((event, data))
        if not self.keyed:
            return
        try:
            self._answer_keys(event, data)
        except socketio.exceptions.BadNamespaceError:
            pass  # we disconnected meanwhile: nobody to answer for

    def _answer_keys(self, event, data):
        """Play a keyed member: create the epoch's key on request, confirm keys received."""
        if event == "key_request":
            self.epoch_held = data["epoch"]
            self.client.emit("key_deliver", key_delivery(data["epoch"], self.member_id, data["for"]))
        elif event == "room_key":
            self.epoch_held = data["epoch"]
            self.client.emit("key_held", {"epoch": data["epoch"]})

    def _on_disconnect(self, *args):
        self.disconnected.set()

    def call(self, event, data=None, timeout=5):
        """Emit and return the acknowledgement."""
        if data is None:
            return self.client.call(event, timeout=timeout)
        return self.client.call(event, data, timeout=timeout)

    def join(self, room, member_id=None, resumable=False, join_key=None):
        """Join `room` with a fresh announcement (and a resume secret if `resumable`); the ack."""
        ann = announcement(member_id)
        self.member_id = ann["member_id"]  # key requests may arrive before the ack
        extra = {} if join_key is None else {"join_key": join_key}
        if resumable:
            self.resume_secret = b64u(16)
            raw = base64.urlsafe_b64decode(self.resume_secret + "==")
            extra["resume_hash"] = base64.urlsafe_b64encode(
                hashlib.sha256(raw).digest()).rstrip(b"=").decode()
        ack = self.call("join", {"v": 2, "room": room, **ann, **extra})
        if not ack.get("ok"):
            self.member_id = None
        return ack

    def named(self, event):
        """Payloads of every `event` heard so far."""
        with self._lock:
            return [data for name, data in self.events if name == event]

    def wait_event(self, event, predicate=lambda data: True, timeout=5):
        """Wait until an `event` matching `predicate` has been heard; return its payload."""
        def found():
            return next(((d,) for d in self.named(event) if predicate(d)), None)
        return wait_for(found, timeout=timeout, message=f"{event} event")[0]

    def wait_keyed(self, epoch=None, timeout=5):
        """Wait until this peer holds the key of `epoch` (default: any)."""
        return wait_for(lambda: self.epoch_held >= (epoch or 1), timeout=timeout,
                        message="room key")

    def send(self, epoch=None, seq=1):
        """Send one message envelope under the held epoch; returns (ack, envelope)."""
        env = envelope(self.member_id, epoch or self.epoch_held, seq)
        return self.call("message", env), env

    def close(self):
        """Disconnect if still connected."""
        if self.client.connected:
            self.client.disconnect()
