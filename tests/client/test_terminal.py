"""The terminal chat's event handling, driven directly with a scripted connection (no server)."""

import io
import subprocess
import sys
from pathlib import Path

import pytest

from burnchat.client import crypto
from burnchat.client.session import RoomSession
from burnchat.client.link import BadLink, Link, parse_link
from burnchat.client.terminal import EXIT_KICKED, EXIT_OK, Exit, TerminalChat, countdown_mark, printable
from tests.client.roomsim import Room, announcement_of

ROOT = Path(__file__).resolve().parents[2]


class ScriptedConnection:
    """Stands in for RoomConnection: records calls, answers from a script."""

    def __init__(self, base_url, events):
        self.events = events
        self.calls = []
        self.acks = {}  # event -> list of acks to give, in order (default ok)
        self.closed = False

    def connect(self):
        pass

    def call(self, event, data):
        self.calls.append((event, data))
        queued = self.acks.get(event)
        return queued.pop(0) if queued else {"ok": True}

    def close(self):
        self.closed = True

    def sent(self, event):
        """Payloads of every call of `event`."""
        return [data for name, data in self.calls if name == event]


@pytest.fixture
def setup():
    """Alice (a session holding epoch 1) and Bob (the terminal chat) joined after her: the room is at epoch 2.

    Alice has made epoch 2's key for Bob (as the server asked); key_bob() delivers it.
    """
    room = Room(["Alice"])
    room.rekey("Alice")
    alice = room["Alice"]
    link = Link(base_url="http://127.0.0.1:1", room_id=room.room_id, secret=room.secret)
    out, err = io.StringIO(), io.StringIO()
    chat = TerminalChat(link, "Bob", out=out, err=err, stdin_fd=0, connection_factory=ScriptedConnection)
    conn = chat.connection
    conn.acks["join"] = [{
        "ok": True, "epoch": 2, "locked": False, "expires_at": 600_000, "now": 0, "max_expires_at": 0,
        "members": [{**room.announcements["Alice"], "held": 1}],
    }]
    chat.join()
    alice.add_member(announcement_of(conn.sent("join")[0]))
    alice.set_epoch(2)
    alice.answer_key_request({"epoch": 2, "create": True, "for": [chat.session.member_id]})
    return alice, chat, conn, out, err


def key_bob(alice, chat):
    """Alice serves epoch 2 (made for him) to Bob through his room_key handler."""
    delivery = alice.answer_key_request({"epoch": alice.epoch, "create": False, "for": [chat.session.member_id]})
    chat.on_room_key(delivery["blobs"][0])


def test_join_prints_safety_code_and_countdown(setup):
    """Joining shows who is here, the safety code Alice also sees, and the time left."""
    alice, chat, _conn, _out, err = setup
    assert f"* Safety code: {alice.safety_code()}" in err.getvalue()
    assert "* Already here: Alice [" in err.getvalue()
    assert "* Burns in 10 min" in err.getvalue()


def test_message_arriving_before_the_key_is_shown_once_keyed(setup):
    """A message of the current epoch that beats our key waits for it instead of being rejected."""
    alice, chat, conn, out, _err = setup
    chat.on_message(alice.seal("early bird"))
    assert out.getvalue() == ""
    key_bob(alice, chat)
    assert conn.sent("key_held") == [{"epoch": 2}]
    assert out.getvalue() == "Alice: early bird\n"
    assert chat.session.rejected_count == 0


def test_lines_wait_for_the_key_and_are_resent_after_a_stale_epoch(setup):
    """Nothing is sent before the key; a line refused as stale goes out again under the new key."""
    alice, chat, conn, _out, _err = setup
    chat.on_line("first")
    assert conn.sent("message") == []
    conn.acks["message"] = [{"ok": False, "code": "stale_epoch", "error": "moved on"}]
    key_bob(alice, chat)
    assert [env["epoch"] for env in conn.sent("message")] == [2]
    alice.set_epoch(3)
    chat.on_rekey({"epoch": 3})
    delivery = alice.answer_key_request({"epoch": 3, "create": True, "for": [chat.session.member_id]})
    chat.on_room_key(delivery["blobs"][0])
    resent = conn.sent("message")[-1]
    assert resent["epoch"] == 3 and alice.open(resent)["text"] == "first"


def test_over_long_line_is_refused_not_truncated(setup):
    """A line over 4096 UTF-8 bytes is reported and never sent."""
    alice, chat, conn, _out, err = setup
    key_bob(alice, chat)
    chat.on_line("ü" * 2049)
    assert conn.sent("message") == []
    assert "* Not sent: 4098 bytes is over the 4096-byte limit" in err.getvalue()


def test_control_characters_cannot_forge_lines(setup):
    """A message with a newline or escape sequence stays one line on stdout."""
    alice, chat, _conn, out, _err = setup
    key_bob(alice, chat)
    chat.on_message(alice.seal("ok\nMallory: fake\x1b[2J"))
    assert out.getvalue() == "Alice: ok\\x0aMallory: fake\\x1b[2J\n"


def test_rejected_message_is_reported_on_stderr(setup):
    """A tampered message is counted and reported, not shown."""
    alice, chat, _conn, out, err = setup
    key_bob(alice, chat)
    chat.on_message({**alice.seal("tampered"), "seq": 50})
    assert out.getvalue() == ""
    assert "* Rejected a message (bad_sig); 1 rejected so far" in err.getvalue()


def test_key_request_answers_with_blobs_for_accepted_members(setup):
    """Asked to create, the terminal makes a key, delivers it and is secured."""
    alice, chat, conn, _out, err = setup
    chat.session.set_epoch(3)
    chat.on_key_request({"epoch": 3, "create": True, "for": [alice.member_id]})
    delivered = conn.sent("key_deliver")[0]
    alice.set_epoch(3)
    assert alice.accept_room_key(delivered["blobs"][0]) == 3
    assert "* Secured (key epoch 3)" in err.getvalue()


def test_members_joining_and_leaving_update_the_safety_code(setup):
    """Joins and leaves are reported with the new safety code; forged joins are flagged."""
    alice, chat, _conn, _out, err = setup
    carol_ann = announcement_of(RoomSession(chat.link.room_id, chat.link.secret).start("Carol"))
    chat.on_member_joined(carol_ann)
    assert "* Carol joined" in err.getvalue()
    chat.on_member_joined({**carol_ann, "member_id": crypto.random_id()})
    assert "* Ignored 1 member(s) whose announcement failed verification" in err.getvalue()
    chat.on_member_left({"member_id": carol_ann["member_id"], "reason": "kicked"})
    assert "* Carol was removed by the admin" in err.getvalue()
    assert err.getvalue().count("* Safety code:") == 3


def test_burn_and_kick_end_the_chat(setup):
    """`destroyed` exits 0 after wiping; `kicked` exits 3."""
    _alice, chat, _conn, _out, err = setup
    with pytest.raises(Exit) as stop:
        chat.on_kicked({})
    assert stop.value.code == EXIT_KICKED
    with pytest.raises(Exit) as stop:
        chat.on_destroyed({"reason": "burned"})
    assert stop.value.code == EXIT_OK and "* Session burned" in err.getvalue()
    assert chat.session.members() == []


@pytest.mark.parametrize(
    "seconds, mark",
    [(7200, ("quarter", 8)), (3599, ("minute", 60)), (61, ("minute", 2)), (60, ("final", 60)),
     (31, ("final", 60)), (30, ("final", 30)), (6, ("final", 10)), (1, ("final", 1)), (0, ("final", 0))],
)
def test_countdown_marks(seconds, mark):
    """Quarter hours above an hour, minutes above a minute, then 60/30/10/5..1 s."""
    assert countdown_mark(seconds) == mark


def test_printable_keeps_ordinary_unicode():
    """Emoji and accents pass through; only control and line separators are escaped."""
    assert printable("Björn 🔥\u2028x\t") == "Björn 🔥\\u2028x\\x09"


def test_parse_link():
    """A share link splits into server, room and secret; anything else is refused."""
    room, secret = crypto.random_id(), crypto.random_id()
    link = parse_link(f"HTTPS://Chat.Example:8443/r/{room}#{secret}")
    assert (link.base_url, link.room_id, link.secret) == ("https://chat.example:8443", room, secret)
    assert secret not in repr(link)
    for bad in (f"ftp://x/r/{room}#{secret}", f"https://x/r/{room}", f"https://x/r/{room}?a=1#{secret}",
                f"https://x/r/{room}/admin#{secret}", f"https://x/r/{room}#{secret}=", "not a link"):
        with pytest.raises(BadLink):
            parse_link(bad)


def test_client_imports_without_flask():
    """The client's dependencies are requirements-client.txt only: no Flask, eventlet or gevent."""
    check = (
        "import sys, burnchat.client.__main__, burnchat.client.terminal; "
        "loaded = {'flask', 'flask_socketio', 'eventlet', 'gevent'} & set(sys.modules); "
        "sys.exit(f'server modules loaded: {loaded}' if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_bad_link_join_exits_2_with_a_clear_sentence():
    """A join refused for a wrong join key (bad_link) says what to do and exits 2."""
    room = Room(["Alice"])
    link = Link(base_url="http://127.0.0.1:1", room_id=room.room_id, secret=crypto.random_id())
    err = io.StringIO()
    chat = TerminalChat(link, "Bob", out=io.StringIO(), err=err, stdin_fd=0, connection_factory=ScriptedConnection)
    chat.connection.acks["join"] = [{"ok": False, "code": "bad_link", "error": "This link is incomplete."}]
    with pytest.raises(Exit) as stop:
        chat.join()
    assert stop.value.code == 2
    assert "* This link is incomplete or wrong - ask for the full link." in err.getvalue()
    assert chat.connection.sent("join")[0]["join_key"] == crypto.derive_join_key(link.secret)[0]


def test_member_left_rejects_messages_held_under_the_old_member_set(setup):
    """A message held for a key of the old member set is rejected once someone leaves."""
    alice, chat, _conn, _out, err = setup
    carol_ann = announcement_of(RoomSession(chat.link.room_id, chat.link.secret).start("Carol"))
    chat.on_member_joined(carol_ann)
    alice.add_member(carol_ann)
    alice.set_epoch(3)
    chat.on_rekey({"epoch": 3})
    alice.answer_key_request({"epoch": 3, "create": True, "for": []})
    chat.on_message(alice.seal("for the old set"))
    assert chat.session.held_count == 1
    chat.on_member_left({"member_id": carol_ann["member_id"], "reason": "kicked"})
    assert chat.session.held_count == 0 and chat.session.rejected_count == 1
    assert "* Rejected a message (held back, then its key never came or was refused); 1 rejected so far" in err.getvalue()
