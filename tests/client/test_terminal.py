"""The terminal chat's event handling, driven directly with a scripted connection (no server)."""

import io
import subprocess
import sys
from pathlib import Path

import pytest

from burnchat.client import crypto
from burnchat.client.session import RoomSession
from burnchat.client.link import BadLink, Link, parse_link
from burnchat.client.terminal import EXIT_KICKED, EXIT_OK, Exit, JsonChat, TerminalChat, countdown_mark, printable
from tests.client.roomsim import Clock, Room, announcement_of, room_key_events
from tests.pins import TEST_SALT, pin_auth

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

    def reconnect(self):
        self.calls.append(("reconnect", None))

    def call(self, event, data):
        self.calls.append((event, data))
        queued = self.acks.get(event)
        return queued.pop(0) if queued else {"ok": True}

    def close(self):
        self.closed = True

    def room_status(self, room_id):
        self.calls.append(("room_status", room_id))
        return {"ok": True, "locked": False, "count": 2, "pin_salt": TEST_SALT}

    def sent(self, event):
        """Payloads of every call of `event`."""
        return [data for name, data in self.calls if name == event]


@pytest.fixture
def setup():
    """Alice (a session holding epoch 1) and Bob (the terminal chat) joined after her: the room is at epoch 2.

    Alice, the creator, has made epoch 2 for Bob; key_bob() delivers its room_key event.
    """
    clock = Clock()
    room = Room(["Alice"], now=clock)
    room.rekey("Alice")
    alice = room["Alice"]
    link = Link(base_url="http://127.0.0.1:1", room_id=room.room_id, secret=room.secret)
    out, err = io.StringIO(), io.StringIO()
    chat = TerminalChat(link, "Bob", out=out, err=err, stdin_fd=0, connection_factory=ScriptedConnection, now=clock)
    conn = chat.connection
    conn.acks["join"] = [{
        "ok": True, "v": 2, "epoch": 2, "locked": False, "expires_at": 600_000, "now": 0, "max_expires_at": 0,
        "members": [{**room.announcements["Alice"], "held": 1}],
    }]
    chat.join()
    spy_confirms(chat)
    alice.add_member(announcement_of(conn.sent("join")[0]))
    alice.on_rekey({"epoch": 2, "creator": alice.member_id, "passed_over": None})
    chat.pending_key = make_key(alice, chat, 2)
    chat.clock = clock
    chat.alice_announcement = room.announcements["Alice"]
    return alice, chat, conn, out, err


def spy_confirms(chat):
    """Keep the confirms (§5.5) Bob's session makes, so tests can tell them from his texts."""
    real, chat.confirms = chat.session.make_confirm, []

    def make_confirm():
        sealed = real()
        if sealed is not None:
            chat.confirms.append(sealed)
        return sealed

    chat.session.make_confirm = make_confirm


def texts_out(chat, conn):
    """What Bob sent as `message`, his confirms left out."""
    return [e for e in conn.sent("message") if not any(e is c for c in chat.confirms)]


def make_key(alice, chat, epoch):
    """Alice makes `epoch` for her roster; the room_key event for Bob."""
    delivery = alice.answer_key_request({"epoch": epoch, "for": [chat.session.member_id]})
    confirm = alice.make_confirm()  # her first message of the epoch (§5.5): Bob holds it back until keyed
    if confirm is not None:
        chat.on_message(confirm)
    return room_key_events(delivery, alice.member_id)[chat.session.member_id]


def key_bob(alice, chat):
    """The server forwards Alice's epoch-2 blob to Bob's room_key handler."""
    chat.on_room_key(chat.pending_key)


def test_join_prints_who_is_here_and_the_countdown(setup):
    """Joining shows who is here and the time left; the safety code waits for the key."""
    _alice, _chat, _conn, _out, err = setup
    assert "* Already here: Alice [" in err.getvalue()
    assert "* Burns in 10 min" in err.getvalue()
    assert "Safety code" not in err.getvalue()


def test_safety_code_of_the_epoch_is_printed_when_secured(setup):
    """Once keyed, Bob prints the 40-digit code (with its epoch) Alice also shows, before 'Secured'."""
    alice, chat, _conn, _out, err = setup
    key_bob(alice, chat)
    code = alice.safety_code()
    lines = err.getvalue().splitlines()
    assert f"* Safety code: {code['digits']} (epoch 2)" in lines
    assert f"* Safety QR text: {code['qr']}" in lines
    assert lines.index(f"* Safety code: {code['digits']} (epoch 2)") < lines.index("* Secured (key epoch 2)")


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
    assert texts_out(chat, conn) == []
    conn.acks["message"] = [{"ok": True},  # our confirm
                           {"ok": False, "code": "stale_epoch", "error": "moved on"}]
    key_bob(alice, chat)
    assert [env["epoch"] for env in texts_out(chat, conn)] == [2]
    alice.on_rekey({"epoch": 3, "creator": alice.member_id, "passed_over": None})
    chat.on_rekey({"epoch": 3, "creator": alice.member_id, "passed_over": None})
    chat.on_room_key(make_key(alice, chat, 3))
    resent = texts_out(chat, conn)[-1]
    assert resent["epoch"] == 3 and alice.open(resent)["text"] == "first"


def test_me_lines_are_actions(setup):
    """`/me waves` travels as an action and is shown the same way."""
    alice, chat, conn, out, _err = setup
    key_bob(alice, chat)
    chat.on_line("/me waves")
    assert alice.open(texts_out(chat, conn)[-1])["me"] is True
    chat.on_message(alice.seal("nods", me=True))
    assert out.getvalue() == "Alice: /me nods\n"


def test_over_long_line_is_refused_not_truncated(setup):
    """A line over 4096 UTF-8 bytes is reported and never sent."""
    alice, chat, conn, _out, err = setup
    key_bob(alice, chat)
    chat.on_line("ü" * 2049)
    assert texts_out(chat, conn) == []
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


def test_gap_is_reported(setup):
    """Messages the relay dropped are named on stderr where they happened."""
    alice, chat, _conn, out, err = setup
    key_bob(alice, chat)
    alice.seal("dropped 1")
    alice.seal("dropped 2")
    chat.on_message(alice.seal("third"))
    assert out.getvalue() == "Alice: third\n"
    assert "* 2 messages from Alice didn't reach you" in err.getvalue()


def test_key_request_is_answered_delivered_and_held(setup):
    """Asked to create epoch 3, the terminal makes it for its roster, delivers it and reports key_held."""
    alice, chat, conn, _out, err = setup
    key_bob(alice, chat)
    chat.on_rekey({"epoch": 3, "creator": chat.session.member_id, "passed_over": None})
    chat.on_key_request({"epoch": 3, "for": [alice.member_id]})
    delivered = conn.sent("key_deliver")[0]
    assert conn.sent("key_held")[-1] == {"epoch": 3}
    alice.on_rekey({"epoch": 3, "creator": chat.session.member_id, "passed_over": None})
    assert alice.accept_room_key(room_key_events(delivered, chat.session.member_id)[alice.member_id]) == 3
    assert "* Secured (key epoch 3)" in err.getvalue()


def test_refused_delivery_is_not_held_as_secured(setup):
    """When the server refuses our key_deliver, we do not report key_held."""
    alice, chat, conn, _out, err = setup
    conn.acks["key_deliver"] = [{"ok": False, "code": "invalid", "error": "no"}]
    chat.on_rekey({"epoch": 3, "creator": chat.session.member_id, "passed_over": None})
    chat.on_key_request({"epoch": 3, "for": [alice.member_id]})
    assert conn.sent("key_held") == [] and not chat.session.ready
    chat.on_line("not under a key nobody has")
    assert texts_out(chat, conn) == []
    assert "* The server refused our room key (invalid)" in err.getvalue()


def test_roster_mismatch_is_printed_with_who_differs(setup):
    """A key whose roster includes someone Bob does not see is refused with the warning line."""
    alice, chat, conn, _out, err = setup
    ghost = announcement_of(RoomSession(chat.link.room_id, chat.link.secret).start("Ghost"))
    alice.add_member(ghost)
    alice.on_rekey({"epoch": 3, "creator": alice.member_id, "passed_over": None})
    chat.on_rekey({"epoch": 3, "creator": alice.member_id, "passed_over": None})
    chat.on_room_key(make_key(alice, chat, 3))
    assert ("* The members you see don't match what others see - someone may be in the middle "
            "(1 member(s) you don't see)") in err.getvalue()
    assert conn.sent("key_held") == [] and not chat.session.ready


def test_stale_key_is_dropped_quietly(setup):
    """A key below the floor (a later change made it obsolete) says nothing."""
    alice, chat, _conn, _out, err = setup
    chat.on_rekey({"epoch": 3, "creator": alice.member_id, "passed_over": None})
    before = err.getvalue()
    key_bob(alice, chat)
    assert err.getvalue() == before


def test_passed_over_twice_is_named(setup):
    """From the second pass-over of one member the chat says who did not hand out the key."""
    alice, chat, _conn, _out, err = setup
    for epoch in (3, 4):
        chat.on_rekey({"epoch": epoch, "creator": chat.session.member_id, "passed_over": alice.member_id})
    assert err.getvalue().count("* The server says Alice's device didn't hand out the room key; the room moved on without it.") == 1


def test_key_missing_is_sent_after_three_seconds(setup):
    """Without a key for 3 s the terminal tells the server once for the epoch."""
    _alice, chat, conn, _out, _err = setup
    chat.clock.advance(2.9)
    chat.check_deadlines()
    assert conn.sent("key_missing") == []
    chat.clock.advance(0.1)
    chat.check_deadlines()
    chat.check_deadlines()
    assert conn.sent("key_missing") == [{"epoch": 2}]


def test_digest_follows_a_shown_message(setup):
    """After showing a text the terminal sends a digest, which Alice checks without notices."""
    alice, chat, conn, _out, _err = setup
    key_bob(alice, chat)
    chat.on_message(alice.seal("hello"))
    chat.check_deadlines()
    alice.open(chat.confirms[-1])  # Bob's first message of the epoch
    digest = texts_out(chat, conn)[-1]
    assert alice.open(digest) == {"digest": True, "notices": []}


def test_bad_version_join_says_to_update(setup):
    """A server that refuses our protocol version gets a clear line and exit 1."""
    room = Room(["Alice"])
    link = Link(base_url="http://127.0.0.1:1", room_id=room.room_id, secret=room.secret)
    err = io.StringIO()
    chat = TerminalChat(link, "Bob", out=io.StringIO(), err=err, stdin_fd=0, connection_factory=ScriptedConnection)
    chat.connection.acks["join"] = [{"ok": False, "code": "bad_version", "error": "This page is out of date."}]
    with pytest.raises(Exit) as stop:
        chat.join()
    assert stop.value.code == 1 and "bad_version" in err.getvalue()


def test_members_joining_and_leaving_are_reported(setup):
    """Joins and leaves are reported; forged joins are flagged."""
    alice, chat, _conn, _out, err = setup
    carol_ann = announcement_of(RoomSession(chat.link.room_id, chat.link.secret).start("Carol"))
    chat.on_member_joined(carol_ann)
    assert "* Carol joined" in err.getvalue()
    chat.on_member_joined({**carol_ann, "member_id": crypto.random_id()})
    assert "* Ignored 1 member(s) whose announcement failed verification" in err.getvalue()
    chat.on_member_left({"member_id": carol_ann["member_id"], "reason": "kicked"})
    assert "* Carol was removed by the admin" in err.getvalue()


def test_burn_and_kick_end_the_chat(setup):
    """`destroyed` exits 0 after wiping; `kicked` exits 3."""
    _alice, chat, _conn, _out, err = setup
    with pytest.raises(Exit) as stop:
        chat.on_kicked({})
    assert stop.value.code == EXIT_KICKED
    with pytest.raises(Exit) as stop:
        chat.on_destroyed({"reason": "burned"})
    assert stop.value.code == EXIT_OK and "* Room burned" in err.getvalue()
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
    alice.on_rekey({"epoch": 3, "creator": alice.member_id, "passed_over": None})
    chat.on_rekey({"epoch": 3, "creator": alice.member_id, "passed_over": None})
    alice.answer_key_request({"epoch": 3, "for": []})
    chat.on_message(alice.make_confirm())
    chat.on_message(alice.seal("for the old set"))
    held = chat.session.held_count  # with Alice's confirms of epochs 2 and 3
    assert held == 3
    chat.on_member_left({"member_id": carol_ann["member_id"], "reason": "kicked"})
    assert chat.session.held_count == 0 and chat.session.rejected_count == held
    assert f"* Rejected a message (held back, then its key never came or was refused); {held} rejected so far" in err.getvalue()


def test_rate_limited_message_goes_again_unchanged(setup):
    """A transient refusal sends the very same envelope again (§6.6), and only the acknowledged one counts."""
    alice, chat, conn, _out, _err = setup
    key_bob(alice, chat)
    conn.acks["message"] = [{"ok": False, "code": "rate_limited", "error": "slow down"}]
    chat.on_line("once")
    chat.check_deadlines()
    first, again = texts_out(chat, conn)[:2]
    assert first == again and alice.open(again)["text"] == "once"
    assert chat.session.pending() == [] and chat.session.sent_count == 1


def test_drop_resumes_with_missed_events_and_a_closed_socket_exits(setup):
    """A dropped socket reconnects after the backoff and resumes; what was missed is handled in order."""
    alice, chat, conn, out, err = setup
    key_bob(alice, chat)
    chat.on_disconnect({"closed": False})
    assert "* Connection lost - reconnecting..." in err.getvalue()
    chat.on_line("typed offline")
    assert texts_out(chat, conn) == []
    chat.clock.advance(1)
    missed = alice.seal("while you were away")
    conn.acks["resume"] = [{"ok": True, "epoch": 2, "held": 2, "members": [{**chat.alice_announcement, "held": 2}],
                            "missed": [["message", missed]], "locked": False, "expires_at": 600_000, "now": 1000}]
    chat.check_deadlines()
    assert conn.sent("reconnect") == [None] and conn.sent("resume")[0]["member_id"] == chat.session.member_id
    assert "* Reconnected: back in the room" in err.getvalue()
    assert out.getvalue() == "Alice: while you were away\n"
    assert alice.open(texts_out(chat, conn)[0])["text"] == "typed offline"
    with pytest.raises(Exit) as stop:
        chat.on_disconnect({"closed": True})
    assert stop.value.code == 1


def test_bad_resume_says_so_and_joins_as_someone_new(setup):
    """A seat that can't be taken back: the plain sentence, then a join with a new member ID."""
    _alice, chat, conn, _out, err = setup
    before = chat.session.member_id
    chat.on_disconnect({"closed": False})
    chat.clock.advance(1)
    conn.acks["resume"] = [{"ok": False, "code": "bad_resume", "error": "This seat can't be taken back"}]
    conn.acks["join"] = [{"ok": True, "v": 2, "epoch": 3, "locked": False, "expires_at": 600_000, "now": 0,
                          "members": []}]
    chat.check_deadlines()
    assert "* You were away too long: messages sent while you were away are gone." in err.getvalue()
    assert conn.sent("join")[-1]["member_id"] == chat.session.member_id != before



def test_commands_are_not_sent_and_quit_leaves(setup):
    """Pipe mode too: /help, /who and unknown commands print locally; // sends one slash; /quit says leave."""
    alice, chat, conn, _out, err = setup
    key_bob(alice, chat)
    for line in ("/help", "/who", "/nope", "/kick Alice", "/send x"):
        chat.on_line(line)
    assert texts_out(chat, conn) == [] and conn.sent("admin_kick") == []
    assert "* Unknown command /nope" in err.getvalue() and "* Only the room's admin can do that" in err.getvalue()
    assert "* Can't read x" in err.getvalue() and "*   Alice  [" in err.getvalue()  # /send x: no such file
    chat.on_line("//etc")
    assert alice.open(texts_out(chat, conn)[-1])["text"] == "/etc"
    with pytest.raises(Exit) as stop:
        chat.on_line("/quit")
    assert stop.value.code == EXIT_OK and conn.sent("leave") == [{}] and conn.closed


def test_admin_burn_asks_first(setup):
    """/burn after /admin needs a yes; anything else keeps the room."""
    _alice, chat, conn, _out, err = setup
    chat.on_line("/admin abcd-2345")
    assert conn.sent("admin_auth") == [pin_auth(chat.link.room_id, "ABCD2345")]
    chat.on_line("/burn")
    chat.on_line("not sure")
    assert conn.sent("admin_burn") == [] and "* Not burned" in err.getvalue()
    chat.on_line("/burn")
    chat.on_line("yes")
    assert conn.sent("admin_burn") == [{}]


def test_json_lines(setup):
    """--json: messages and status lines as one JSON object per line on stdout."""
    import json
    alice, _chat, _conn, _out, _err = setup
    out = io.StringIO()
    chat = JsonChat(_chat.link, "Bob", out=out, err=io.StringIO(), stdin_fd=0, connection_factory=ScriptedConnection)
    chat.status("hello", tone="ok")
    chat.show_text({"member_id": alice.member_id, "name": "Alice", "text": "a\nb", "me": False})
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {"type": "status", "text": "hello", "tone": "ok"}
    assert second["type"] == "message" and second["text"] == "a\nb" and second["own"] is False
