"""Fuzzing: thousands of random and malformed frames at every event of a live server.

Over real WebSocket connections, hypothesis generates event frames (protocol
event names and junk, random JSON, valid payloads with one field broken, binary
attachments, JSON cut short), stray Engine.IO and Socket.IO packets, oversize
frames, and connections dropped mid-handshake. Meanwhile a normal room of two
keyed members exchanges numbered messages. Afterwards the server still serves,
the room lost no message and kept their order, every acknowledgement was a
success or a refusal with a known code, and the server printed nothing (no
traceback, no "internal error"). The number of frames is reported in the
pytest summary.
"""

import base64
import os
import json
import socket
import threading
from collections import Counter

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from burnchat.config import MAX_FRAME_BYTES
from tests.abuse.conftest import FUZZ_REPORT
from tests.abuse.helpers import KNOWN_CODES, PROTOCOL_EVENTS, keyed_room
from tests.abuse.rawsocket import Closed, RawSocket
from tests.server import wait_for
from tests.wire import envelope
from tests.pins import proof

EXAMPLES = 550
CONNECTIONS = 3
SERVER_ENV = {
    # The normal room chats as fast as it can; the fuzz must not starve it.
    "BURNCHAT_MESSAGE_RATE": "100000", "BURNCHAT_MESSAGE_BURST": "100000",
    "BURNCHAT_PIN_ATTEMPTS_PER_MINUTE": "100000",
    # The fuzz's raw sockets never acknowledge the chunks they are sent: leave them out fast,
    # or a fuzzed chunk's ack would come after the fuzz stops waiting for it.
    "BURNCHAT_FILE_ACK_SECONDS": "0.2",
}
RESERVED = ["connect", "disconnect", "connect_error", "*", "", "message ", "__introspect"]
# Packets that ask for no answer: Engine.IO level, and Socket.IO level (after the "4").
STRAY_PACKETS = ["", "0", "2", "3", "5", "6", "9", "x", "4", "40", "40{}", "40[1]", "40/nowhere,",
                 "41/nowhere,", '42["join",{}]', '42/nowhere,1["join"]', "43[]", '431["x"]',
                 "44{}", "49", "4x"]
# Frames that legitimately end the session or leave it waiting for attachments.
CLOSING_PREFIXES = ("1", "41", "45", "46")
HANDSHAKE_ABUSE = ["tcp-partial-upgrade", "tcp-garbage", "ws-before-connect",
                   "ws-connect-then-close", "ws-join-then-close", "polling-open",
                   "polling-garbage-post"]


# ---- strategies --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=8)
ids = st.binary(min_size=16, max_size=16).map(
    lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode())


def b64_of(size):
    """Well-formed base64url text of `size` random bytes."""
    return st.binary(min_size=size, max_size=size).map(
        lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode())


def valid_payload(event, rooms):
    """A strategy for a payload of `event` that passes its schema."""
    live = st.sampled_from([r["room"] for r in rooms])
    room_ids = st.one_of(live, live, live, ids)
    epochs = st.integers(min_value=1, max_value=4)
    blob = st.fixed_dictionaries({"to": ids, "wrapped": b64_of(40), "sig": b64_of(64)})
    roster = st.lists(ids, min_size=1, max_size=3, unique=True).map(sorted)
    return {
        "join": st.fixed_dictionaries({
            "v": st.sampled_from([2, 2, 1]), "room": room_ids, "member_id": ids,
            "ecdh_pub": b64_of(65), "sig_pub": b64_of(65), "enc_name": b64_of(160),
            "mac": b64_of(32)}),
        "key_held": st.fixed_dictionaries({"epoch": epochs}),
        "key_missing": st.fixed_dictionaries({"epoch": epochs}),
        "resume": st.fixed_dictionaries({"room": room_ids, "member_id": ids, "proof": b64_of(16)}),
        "key_deliver": roster.flatmap(lambda ids_: st.fixed_dictionaries({
            "epoch": epochs, "roster": st.just(ids_),
            "line_macs": st.lists(b64_of(16), min_size=len(ids_), max_size=len(ids_)),
            "commit_sig": b64_of(64), "blobs": st.lists(blob, max_size=3)})),
        "message": st.fixed_dictionaries({
            "v": st.just(2), "epoch": epochs, "sender": ids,
            "seq": st.integers(min_value=1, max_value=99), "prev": b64_of(32), "iv": b64_of(12),
            "ct": st.sampled_from([256, 512]).flatmap(lambda size: b64_of(size + 16)),
            "sig": b64_of(64)}),
        "leave": st.just({}),
        "admin_auth": st.fixed_dictionaries({
            "room": room_ids,
            "proof": st.sampled_from([proof(r["pin"], r["pin_salt"]) for r in rooms]
                                     + [proof("2222-2222")]) | b64_of(32)}),
        "admin_kick": st.fixed_dictionaries({"member_id": ids}),
        "admin_lock": st.fixed_dictionaries({"locked": st.booleans()}),
        "admin_extend": st.fixed_dictionaries({"seconds": st.sampled_from([300, 1800])}),
        "admin_burn": st.just({}),
        # A few transfer IDs, so chunks continue, skip, repeat and collide between members.
        "file_chunk": st.fixed_dictionaries({
            "transfer": st.sampled_from(TRANSFERS), "index": st.integers(min_value=0, max_value=3),
            "total": st.integers(min_value=1, max_value=4), "ct": st.sampled_from(CHUNK_CTS)}),
        "file_cancel": st.fixed_dictionaries({"transfer": st.sampled_from(TRANSFERS)}),
    }[event]


def _random_b64u(size):
    """Fixed random base64url text (hypothesis drawing 64 KiB of bytes per chunk is too slow)."""
    return base64.urlsafe_b64encode(os.urandom(size)).rstrip(b"=").decode()


TRANSFERS = [_random_b64u(16) for _ in range(3)]
CHUNK_CTS = [_random_b64u(1024 + 16), _random_b64u(65536 + 16), _random_b64u(100)]


@st.composite
def near_valid(draw, rooms):
    """(event, [payload]): a valid payload, or one with a single field broken, added or removed."""
    event = draw(st.sampled_from(PROTOCOL_EVENTS))
    payload = dict(draw(valid_payload(event, rooms)))
    change = draw(st.sampled_from(["none", "none", "replace", "remove", "add"]))
    if change == "replace" and payload:
        payload[draw(st.sampled_from(sorted(payload)))] = draw(json_values)
    elif change == "remove" and payload:
        del payload[draw(st.sampled_from(sorted(payload)))]
    elif change == "add":
        payload[draw(st.text(max_size=8))] = draw(json_values)
    return event, [payload]


def weighted(*choices):
    """one_of with integer weights: (weight, function making the strategy) pairs.

    Each slot gets its own strategy object, so one_of picks among them uniformly.
    """
    return st.one_of([make() for weight, make in choices for _ in range(weight)])


def actions(rooms):
    """One fuzz action: (kind, connection index, data); rarer kinds end the connection."""
    conn = st.integers(min_value=0, max_value=CONNECTIONS - 1)
    names = st.sampled_from(list(PROTOCOL_EVENTS) + RESERVED) | st.text(max_size=20)
    # Not starting with a digit (any script's) or "-": that would change the ack id itself.
    junk_json = st.text(max_size=60).filter(lambda t: not t[:1].isdigit() and t[:1] != "-")
    socketio_junk = st.text(max_size=30).map(lambda t: "4" + t).filter(
        lambda t: not t.startswith(CLOSING_PREFIXES))
    engineio_junk = st.text(max_size=10).filter(lambda t: not t[:1].isdigit())
    return weighted(
        (6, lambda: st.tuples(st.just("event"), conn, near_valid(rooms))),
        (3, lambda: st.tuples(st.just("event"), conn,
                              st.tuples(names, st.lists(json_values, max_size=3)))),
        (2, lambda: st.tuples(st.just("raw"), conn, junk_json)),
        (2, lambda: st.tuples(st.just("binary"), conn, st.tuples(names, st.binary(max_size=64)))),
        (2, lambda: st.tuples(st.just("stray"), conn,
                              st.sampled_from(STRAY_PACKETS) | socketio_junk)),
        # Text that is no Engine.IO packet at all, and oversize frames: these end the connection.
        (1, lambda: st.tuples(st.just("stray"), conn, engineio_junk)),
        (1, lambda: st.tuples(st.just("oversize"), conn, st.integers(min_value=1, max_value=5000))),
        (1, lambda: st.tuples(st.just("handshake"), st.just(None),
                              st.sampled_from(HANDSHAKE_ABUSE))),
    )


# ---- the fuzzer ----------------------------------------------------------------------------

class Fuzzer:
    """Plays actions against the server over a few raw connections, checking every answer."""

    def __init__(self, server):
        self.server = server
        self.host, self.port = "127.0.0.1", server.port
        self.connections = [RawSocket(server.url) for _ in range(CONNECTIONS)]
        self.frames = 0
        self.outcomes = Counter()

    def play(self, action):
        """Run one action and check its outcome."""
        kind, index, data = action
        if kind == "handshake":
            self.abuse_handshake(data)
            return
        sock = self.connection(index)
        try:
            getattr(self, f"send_{kind}")(sock, data)
        except Closed:
            self.outcomes[f"closed by server after {kind}"] += 1
            self.replace(index)
        except TimeoutError:
            # `destroyed` comes "just before every connection is closed" (PROTOCOL.md §7.2): an
            # event racing that close belongs to no member any more and may go unanswered.
            if not sock.named("destroyed"):
                raise
            self.outcomes["closed by server after its room burned"] += 1
            self.replace(index)

    def connection(self, index):
        """The index-th fuzz connection, reopened if the server closed it."""
        if not self.connections[index].connected:
            self.replace(index)
        return self.connections[index]

    def replace(self, index):
        """Open a fresh connection in place of a dead one."""
        self.connections[index].close()
        self.connections[index] = RawSocket(self.server.url)
        self.outcomes["reconnected"] += 1

    def check_ack(self, ack):
        """A success, or a refusal with a known code and a sentence."""
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if not ack["ok"]:
            assert ack["code"] in KNOWN_CODES, ack
            assert isinstance(ack["error"], str) and ack["error"], ack
        self.outcomes["ok" if ack["ok"] else ack["code"]] += 1

    def send_event(self, sock, data):
        """A well-formed Socket.IO event with an ack id: it must be answered."""
        name, args = data
        ack_id = sock.next_id()
        sock.send_text(f"42{ack_id}" + json.dumps([name, *args]))
        self.frames += 1
        self.check_ack(sock.read_ack(ack_id))

    def send_raw(self, sock, junk):
        """An event frame with an ack id and arbitrary text for its JSON: it must be answered."""
        ack_id = sock.next_id()
        sock.send_text(f"42{ack_id}{junk}")
        self.frames += 1
        self.check_ack(sock.read_ack(ack_id))

    def send_binary(self, sock, data):
        """A binary event whose payload is an attachment: refused like any bad payload."""
        name, blob = data
        ack_id = sock.next_id()
        sock.send_text(f"451-{ack_id}" + json.dumps([name, {"_placeholder": True, "num": 0}]))
        sock.send_binary(blob)
        self.frames += 2
        self.check_ack(sock.read_ack(ack_id))

    def send_stray(self, sock, text):
        """A packet that asks for no answer; the connection must still answer afterwards."""
        sock.send_text(text)
        self.frames += 1
        self.probe(sock)

    def send_oversize(self, sock, extra):
        """A frame over the Engine.IO limit: the server closes that connection."""
        ack_id = sock.next_id()
        head = f'42{ack_id}["message",{{"pad":"'
        sock.send_text(head + "A" * (MAX_FRAME_BYTES + extra - len(head) - 3) + '"}]')
        self.frames += 1
        assert sock.wait_closed(), "an oversize frame must close its connection"
        raise Closed()

    def probe(self, sock):
        """Ask the connection for an answer; a dropped connection is reopened by `play`."""
        try:
            ack_id = sock.next_id()
            sock.send_text(f'42{ack_id}["__probe"]')
            self.frames += 1
            ack = sock.read_ack(ack_id, timeout=2)
        except (TimeoutError, OSError):
            raise Closed() from None
        self.check_ack(ack)

    def abuse_handshake(self, variant):
        """Open a connection and drop it part-way through the handshake."""
        self.frames += 1
        self.outcomes[variant] += 1
        if variant.startswith("tcp"):
            with socket.create_connection((self.host, self.port), timeout=5) as raw:
                raw.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                            b"Upgrade: websocket\r\nConnection: Up" if variant.endswith("upgrade")
                            else b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 20)
        elif variant.startswith("ws"):
            sock = RawSocket(self.server.url, connect=False)
            if variant != "ws-before-connect":
                sock.send_text("40")
            if variant == "ws-join-then-close":
                sock.send_text('421["join",{"v":1}]')
            sock.close()
        else:
            base = self.server.url + "/socket.io/?EIO=4&transport=polling"
            opened = requests.get(base, timeout=5)
            if variant == "polling-garbage-post" and opened.status_code == 200:
                sid = json.loads(opened.text[1:])["sid"]
                requests.post(f"{base}&sid={sid}", data=b"\xff\x00garbage", timeout=5)

    def close(self):
        """Close every fuzz connection."""
        for sock in self.connections:
            sock.close()


class Chatter(threading.Thread):
    """Two members of a normal room trade numbered messages until told to stop."""

    def __init__(self, alice, bob):
        super().__init__(daemon=True)
        self.pair = (alice, bob)
        self.sent = {alice.member_id: [], bob.member_id: []}
        self.failures = []
        self.stop = threading.Event()

    def run(self):
        """Alternate senders; each message must be acknowledged and delivered before the next."""
        seq = 0
        try:
            while not self.stop.is_set():
                seq += 1
                for sender, receiver in (self.pair, self.pair[::-1]):
                    sent = envelope(sender.member_id, sender.epoch_held, seq)
                    ack = sender.call("message", sent)
                    if ack != {"ok": True}:
                        self.failures.append(ack)
                        return
                    self.sent[sender.member_id].append(sent)
                    receiver.wait_event("message", lambda env, s=sent: env == s, timeout=10)
        except Exception as error:  # a lost message or ack: reported by the test, not the thread
            self.failures.append(repr(error))

    def received_in_order(self):
        """True once each member has received every message of the other, in order."""
        alice, bob = self.pair
        return all([env for env in receiver.named("message")] == self.sent[sender.member_id]
                   for sender, receiver in ((alice, bob), (bob, alice)))


def test_fuzzing_every_event_keeps_the_server_and_a_room_working(fresh_server):
    server = fresh_server(SERVER_ENV)
    _, (alice, bob) = keyed_room(server, 2)
    rooms = [server.create_room() for _ in range(3)]
    chatter = Chatter(alice, bob)
    fuzzer = Fuzzer(server)
    chatter.start()

    # No shrinking: the server keeps state between examples, so a failure is reported as
    # generated (with the action that failed) instead of minutes of unreliable shrinking.
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(st.lists(actions(rooms), min_size=2, max_size=20))
    def fuzz(batch):
        for action in batch:
            fuzzer.play(action)

    try:
        fuzz()
    finally:
        chatter.stop.set()
        chatter.join(timeout=15)
        fuzzer.close()
    report = (f"fuzz: {fuzzer.frames} frames over {EXAMPLES} hypothesis examples; "
              f"normal room relayed {sum(map(len, chatter.sent.values()))} messages; "
              f"outcomes {dict(fuzzer.outcomes.most_common())}")
    FUZZ_REPORT.append(report)
    print(report)

    assert not chatter.failures, chatter.failures
    wait_for(chatter.received_in_order, timeout=10, message="every normal-room message")
    assert requests.get(server.url + "/", timeout=5).status_code == 200
    assert fuzzer.frames >= 3000
    output = server.output()
    assert "Traceback" not in output and "internal error" not in output and "Error" not in output
    assert output.splitlines() == [f"Burn Chat on http://127.0.0.1:{server.port}"], output
    alice.close(), bob.close()
