"""The load generator: one asyncio process driving many python-socketio clients ("members").

The harness starts a few of these processes (bench/workers.py) and sends each
commands over a pipe; every command is a `do_*` coroutine of `Agent`. Members
behave like real clients on the wire: `transports=["websocket"]`, rooms that
register a join-key hash and joins that carry the key, an announcement of real
sizes, the key protocol answered with well-formed opaque blobs (as
tests/wire.py does), and message envelopes of real sizes: a body padded to
its size class (PROTOCOL.md §6.1).

The server is blind and never checks a signature, and no receiver here
decrypts, so each member makes one opaque envelope when it joins and every
message re-stamps its `seq`, `epoch` and `iv`. The `iv` carries the send time
(8 bytes of CLOCK_MONOTONIC, shared by every process on the machine) and the
step number, so a receiver can time each delivery.
"""

import asyncio
import base64
import hashlib
import logging
import os
import resource
import secrets
import time
from array import array
from collections import Counter

import aiohttp
import engineio
import socketio
from engineio import packet as eio_packet

from burnchat.config import BODY_SIZE_CLASSES

CONNECT_TIMEOUT_SECONDS = 15
JOIN_TIMEOUT_SECONDS = 15
BODY_OVERHEAD_BYTES = 48   # {"t":"text","text":"…","after":null,"me":false} around the text
INLINE_SOCKETIO_TYPES = ("2", "3")   # Socket.IO EVENT and ACK packets


def _b64u_of(raw):
    """Bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64u(byte_count):
    """Random bytes as unpadded base64url text."""
    return _b64u_of(secrets.token_bytes(byte_count))


# A room's PIN as its creator sends it (PROTOCOL.md §8.1): the load never claims admin, so a
# random salt and verifier stand for a PIN nobody holds (no PBKDF2 in the load generator).
UNCLAIMABLE_PIN = {"pin_salt": b64u(16), "pin_verifier": b64u(32)}


def announcement(member_id):
    """A well-formed announcement of real sizes (the server cannot tell it from a real one)."""
    return {"member_id": member_id, "ecdh_pub": b64u(65), "sig_pub": b64u(65),
            "enc_name": b64u(12 + 132 + 16), "mac": b64u(32)}


def stamp_iv(step_code):
    """A 12-byte IV carrying the send time and the step: 8 bytes of monotonic ns, 1 step, 3 random."""
    raw = time.monotonic_ns().to_bytes(8, "big") + bytes([step_code]) + os.urandom(3)
    return base64.urlsafe_b64encode(raw).decode()


class _InlineEngineIOClient(engineio.AsyncClient):
    """Engine.IO client that runs event handlers on its read loop instead of one task each.

    The stock client starts an asyncio task per message; at tens of thousands of
    deliveries a second that is the load generator's biggest cost. Our handlers
    never block, so running them inline is safe, cheaper and keeps arrival order.
    Other Socket.IO packets (a server-side disconnect awaits the read loop itself)
    keep the stock path.
    """

    async def _receive_packet(self, pkt):
        """Dispatch Socket.IO EVENT and ACK packets inline; leave the rest to the stock client."""
        if pkt.packet_type == eio_packet.MESSAGE and isinstance(pkt.data, str) \
                and pkt.data[:1] in INLINE_SOCKETIO_TYPES:
            await self._trigger_event("message", pkt.data, run_async=False)
        else:
            await super()._receive_packet(pkt)


class BenchClient(socketio.AsyncClient):
    """socketio.AsyncClient on the inline Engine.IO client."""

    def _engineio_client_class(self):
        """Use the inline Engine.IO client (see its docstring)."""
        return _InlineEngineIOClient


# Like a browser, every WebSocket offers permessage-deflate (Chromium and Firefox always do);
# each server decides. BENCH_OFFER_DEFLATE=0 measures clients that offer nothing.
CLIENT_OPTIONS = {} if os.environ.get("BENCH_OFFER_DEFLATE", "1") == "0" else \
    {"websocket_extra_options": {"compress": 15}}


class JoinRefused(Exception):
    """The server answered `join` with an error ack."""


class StepStats:
    """What one worker saw during one relay step: sends, acks, deliveries and their latency."""

    def __init__(self, code=0):
        self.code = code
        self.sent = 0
        self.skipped = 0   # sends due from members whose socket had closed
        self.acked_ok = 0
        self.refused = Counter()
        self.expected = 0
        self.delivered = 0
        self.stray = 0
        self.last_delivery_ns = 0
        self.latency_ms = array("f")

    def ack(self, reply, room_size):
        """Count one message ack; an accepted message is owed to everyone else in its room."""
        if isinstance(reply, dict) and reply.get("ok"):
            self.acked_ok += 1
            self.expected += room_size - 1
        else:
            self.refused[reply.get("code", "?") if isinstance(reply, dict) else "?"] += 1

    def receive(self, iv):
        """Count one delivery of this step and time it from the stamp in its IV."""
        raw = base64.urlsafe_b64decode(iv)
        if raw[8] != self.code:
            self.stray += 1
            return
        now = time.monotonic_ns()
        self.latency_ms.append((now - int.from_bytes(raw[:8], "big")) / 1e6)
        self.delivered += 1
        self.last_delivery_ns = now

    def counts(self):
        """The counters, without the latency samples."""
        return {"sent": self.sent, "skipped": self.skipped, "acked_ok": self.acked_ok, "refused": dict(self.refused),
                "expected": self.expected, "delivered": self.delivered, "stray": self.stray,
                "pending": self.sent - self.acked_ok - sum(self.refused.values()),
                "last_delivery_ns": self.last_delivery_ns}


class Member:
    """One client socket that joins a room and behaves like a member on the wire."""

    def __init__(self, agent, room, room_size):
        self.agent = agent
        self.room = room
        self.room_size = room_size
        self.member_id = b64u(16)
        self.epoch = 0
        self.held = 0
        self.seq = 0
        self.template = None
        self.expires_at_ms = None
        self.destroyed_at = None
        self.disconnected_at = None
        self.ticks = []   # (wall clock at receipt, server `now` ms, `expires_at` ms)
        self.client = BenchClient(reconnection=False, handle_sigint=False,
                                  http_session=agent.http, **CLIENT_OPTIONS)
        for event in ("message", "countdown", "destroyed", "rekey", "key_request", "room_key",
                      "disconnect"):
            self.client.on(event, getattr(self, "on_" + event))

    @property
    def ready(self):
        """True once the member holds the room's current key (always, on the bare relay)."""
        return self.held >= 1 and self.held == self.epoch

    async def open(self, url, seal):
        """Connect and join; returns (connect ms, join ms)."""
        started = time.monotonic()
        await self.client.connect(url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT_SECONDS)
        connected = time.monotonic()
        ack = await self.client.call("join", {"v": 2, "room": self.room,
                                              **announcement(self.member_id),
                                              "join_key": self.agent.join_key},
                                     timeout=JOIN_TIMEOUT_SECONDS)
        joined = time.monotonic()
        if not ack.get("ok"):
            raise JoinRefused(ack.get("code"))
        self.epoch = max(self.epoch, ack["epoch"])
        self.expires_at_ms = ack["expires_at"]
        if not self.agent.keyed:
            self.held = self.epoch
        if seal:
            self.template = self.agent.seal(self.room, self.member_id)
        return (connected - started) * 1000, (joined - connected) * 1000

    async def send(self, stats):
        """Send the next message of this member, stamped for timing (counted as skipped if its
        socket has closed: the step reports it instead of failing)."""
        if not self.client.connected:
            stats.skipped += 1
            return
        self.seq += 1
        envelope = dict(self.template, seq=self.seq, epoch=self.held, iv=stamp_iv(stats.code))
        stats.sent += 1
        await self.client.emit("message", envelope,
                               callback=lambda reply: stats.ack(reply, self.room_size))

    async def close(self):
        """Disconnect if still connected."""
        if self.client.connected:
            await self.client.disconnect()

    # ---- server events ---------------------------------------------------------------

    def on_message(self, envelope):
        """A relayed message: count and time it."""
        self.agent.stats.receive(envelope["iv"])

    def on_countdown(self, data):
        """A countdown tick: note when it arrived against the server's `now`."""
        self.ticks.append((time.time(), data["now"], data["expires_at"]))

    def on_destroyed(self, data):
        """The room burned: note when we heard it."""
        if self.destroyed_at is None:
            self.destroyed_at = time.time()

    def on_rekey(self, data):
        """The room moved to a new key epoch."""
        self.epoch = max(self.epoch, data["epoch"])

    async def on_key_request(self, data):
        """Create the epoch's key with opaque blobs of real sizes, like a real member would."""
        epoch = data["epoch"]
        roster = sorted([self.member_id, *data["for"]])
        blobs = [{"to": to, "wrapped": b64u(40), "sig": b64u(64)} for to in data["for"]]
        self.epoch = max(self.epoch, epoch)
        self.held = epoch
        await self.client.emit("key_deliver", {
            "epoch": epoch, "roster": roster, "line_macs": [b64u(16) for _ in roster],
            "commit_sig": b64u(64), "blobs": blobs})

    async def on_room_key(self, blob):
        """A key for us: hold it and tell the server."""
        self.held = blob["epoch"]
        self.epoch = max(self.epoch, blob["epoch"])
        await self.client.emit("key_held", {"epoch": blob["epoch"]})

    def on_disconnect(self, *reason):
        """The socket closed."""
        if self.disconnected_at is None:
            self.disconnected_at = time.time()


class Agent:
    """The state of one load-generator process and the commands the harness sends it."""

    def __init__(self):
        self.url = None
        self.urls = []
        self.keyed = True
        self.http = None
        self.members = []
        self.stats = StepStats()
        self.join_key = self.join_key_hash = None
        self._padded_bytes = BODY_SIZE_CLASSES[0]

    async def do_configure(self, url, keyed, text_bytes, urls=None):
        """Point at a server; `keyed` says whether it runs the key protocol.

        `urls` lists every process of a scale-out server: the members of each room
        alternate over them, so deliveries cross processes (rooms are created at `url`).
        """
        if self.http is None:
            self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.url = url
        self.urls = list(urls or [url])
        self.keyed = keyed
        # The body a browser would pad: the text plus its JSON wrapping (PROTOCOL.md §6.1).
        body_bytes = text_bytes + BODY_OVERHEAD_BYTES
        self._padded_bytes = next(size for size in BODY_SIZE_CLASSES if size > body_bytes)
        # Like a browser: rooms register the hash of the link's join key, joins carry the key.
        raw = secrets.token_bytes(32)
        self.join_key = _b64u_of(raw)
        self.join_key_hash = _b64u_of(hashlib.sha256(raw).digest())
        return True

    def seal(self, room, member_id):
        """An envelope of real sizes, the template for a member's messages (the server is blind,
        so opaque bytes of the right lengths cost it exactly what a real message does)."""
        return {"v": 2, "epoch": 1, "sender": member_id, "seq": 1, "prev": b64u(32),
                "iv": b64u(12), "ct": b64u(self._padded_bytes + 16), "sig": b64u(64)}

    async def do_create_rooms(self, count, ttl_seconds, concurrency, expire_at=None,
                              align_seconds=None):
        """POST /api/rooms `count` times; returns the room IDs in creation order.

        With `expire_at` (a whole wall-clock second) each room's TTL is chosen so that
        it expires within that second, however long creating them all takes; with
        `align_seconds` too, rooms are only created in the first `align_seconds` of a
        second, so that every room expires within that much of `expire_at`.
        """
        gate = asyncio.Semaphore(concurrency)

        async def create():
            """One POST, when the gate lets it through; the TTL is computed at that moment."""
            async with gate:
                if align_seconds is not None:
                    await _start_of_second(align_seconds)
                ttl = ttl_seconds if expire_at is None else expire_at - int(time.time())
                async with self.http.post(self.url + "/api/rooms", json={
                        "ttl_seconds": ttl, "join_key_hash": self.join_key_hash,
                        **UNCLAIMABLE_PIN}) as response:
                    body = await response.json()
                    if response.status != 201:
                        raise RuntimeError(f"room creation answered {response.status}: {body}")
                    return body["room"]

        return list(await asyncio.gather(*(create() for _ in range(count))))

    async def do_open_members(self, rooms, per_room, concurrency, stop_on_error, seal):
        """Open `per_room` members in each room, `concurrency` at a time, in room order."""
        gate = asyncio.Semaphore(concurrency)
        connect_ms, join_ms, errors = [], [], []

        async def open_one(member, url):
            """Open one member at `url`, unless an earlier error stopped the ramp."""
            async with gate:
                if errors and stop_on_error:
                    return
                try:
                    times = await member.open(url, seal)
                except Exception as error:  # noqa: BLE001 - the error is the result
                    errors.append(f"{type(error).__name__}: {error}".strip())
                    await member.close()
                    return
                connect_ms.append(times[0])
                join_ms.append(times[1])
                self.members.append(member)

        # The n-th member of every room goes to process n mod len(urls).
        batch = [(Member(self, room, per_room), self.urls[index % len(self.urls)])
                 for room in rooms for index in range(per_room)]
        await asyncio.gather(*(open_one(member, url) for member, url in batch))
        return {"opened": len(connect_ms), "connect_ms": connect_ms, "join_ms": join_ms,
                "errors": errors[:5], "error_count": len(errors)}

    async def do_status(self):
        """How many members are open, connected, and holding their room's key."""
        return {"members": len(self.members),
                "connected": sum(m.client.connected for m in self.members),
                "ready": sum(m.ready for m in self.members)}

    async def do_relay_step(self, code, rate, duration, start_at):
        """Every member sends `rate` messages/s for `duration` s from monotonic time `start_at`.

        Sends go round-robin over the members, evenly spaced, so each member keeps
        exactly its rate; if this process falls behind, it catches up in a burst
        that never exceeds any member's average.
        """
        self.stats = stats = StepStats(code)
        senders = _interleave_rooms(self.members)
        total_rate = rate * len(senders)
        total = int(round(duration * total_rate))
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        sent = 0
        while sent < total:
            due = min(total, int((time.monotonic() - start_at) * total_rate) + 1)
            while sent < due:
                await senders[sent % len(senders)].send(stats)
                sent += 1
            await asyncio.sleep(max(0.0, start_at + sent / total_rate - time.monotonic()))
        return stats.counts()

    async def do_step_counts(self):
        """The current step's counters (the harness polls these while deliveries drain)."""
        return self.stats.counts()

    async def do_step_latencies(self):
        """The current step's delivery latencies in ms."""
        return self.stats.latency_ms

    async def do_burn_report(self):
        """Per member: its room, when the room was due to burn, and when it heard `destroyed`."""
        return [{"room": m.room, "expires_at_ms": m.expires_at_ms, "destroyed_at": m.destroyed_at,
                 "disconnected_at": m.disconnected_at} for m in self.members]

    async def do_ticks(self, since):
        """Per member, the countdown ticks heard at or after wall-clock time `since`."""
        return [[tick for tick in m.ticks if tick[0] >= since] for m in self.members]

    async def do_close_all(self):
        """Disconnect and forget every member."""
        members, self.members = self.members, []
        await asyncio.gather(*(m.close() for m in members), return_exceptions=True)
        self.stats = StepStats()
        return len(members)

    async def shutdown(self):
        """Close everything before the process exits."""
        await self.do_close_all()
        if self.http is not None:
            await self.http.close()


async def _start_of_second(window):
    """Return at once within the first `window` seconds of a wall-clock second, else wait for the next."""
    fraction = time.time() % 1
    if fraction > window:
        await asyncio.sleep(1 - fraction)


def _interleave_rooms(members):
    """Members ordered first of each room, second of each room, ..., so sends spread over rooms."""
    by_room = {}
    for member in members:
        by_room.setdefault(member.room, []).append(member)
    ordered = []
    for position in range(max((len(group) for group in by_room.values()), default=0)):
        ordered.extend(group[position] for group in by_room.values() if position < len(group))
    return ordered


def raise_open_file_limit():
    """Thousands of sockets need thousands of file descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve(conn):
    """Run commands from the harness until it says `quit` or goes away."""
    agent = Agent()
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                command, kwargs = await loop.run_in_executor(None, conn.recv)
            except EOFError:
                return
            if command == "quit":
                conn.send(("ok", None))
                return
            try:
                reply = ("ok", await getattr(agent, "do_" + command)(**kwargs))
            except Exception as error:  # noqa: BLE001 - reported to the harness
                reply = ("error", f"{type(error).__name__}: {error}")
            conn.send(reply)
    finally:
        await agent.shutdown()


def worker_main(conn):
    """Entry point of a load-generator process."""
    raise_open_file_limit()
    # The clients log an error for every socket a killed server leaves behind: expected here.
    for name in ("engineio.client", "socketio.client"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    asyncio.run(serve(conn))
