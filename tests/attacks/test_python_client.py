"""Issue #10's attacks against the real Python client, over real sockets.

Each test runs the server as a child process - compromised one behaviour at a time
(tests/attacks/scenarios.py) or the real one - and the terminal client as a person
runs it (`python -m burnchat.client LINK --name X` in pipe mode, read from its pipes;
the admin types `/admin PIN` and `/kick NAME`). What the terminal cannot be told to
do runs in-process as the same TerminalChat with a small hook on its own loop thread:
a malicious member built from the client's primitives (a colluding sender, a creator
that starves one member), a v1 client, and - on a checkout whose terminal has no
admin commands - the admin, printing the session's own kick_status (§5.5) in the
same words. Every test ends in a visible warning or a refusal, and waits on
conditions, never on fixed sleeps.
"""

import importlib.util
import os
import queue
import threading
import time
from pathlib import Path

import pytest

from burnchat.client import crypto, envelope
from burnchat.client import session as client_session
from burnchat.client.connection import RoomConnection
from burnchat.client.epoch import key_sig_input
from burnchat.client.link import parse_link
from burnchat.client.ratchet import Chain
from burnchat.client.terminal import EXIT_ERROR, EXIT_KICKED, TerminalChat
from burnchat.client.wording import MISMATCH
from tests.chat_process import ChatProcess
from tests.server import ServerProcess, wait_for
from tests.pins import pin_auth

EVIL_APP = Path(__file__).resolve().parent / "evil_app.py"
WAIT = 10  # seconds for anything that needs no protocol timer
CONFIRM_SECONDS = 5  # PROTOCOL.md §5.5: not heard from a roster member this long after holding the key
UNSEEN = "member(s) you don't see"  # the terminal's wording of `unseen` (the page says "someone you don't see")
NOT_CONFIRMED = "The server didn't confirm the removal"
# The terminal's own `/admin PIN` and `/kick NAME` (commands.py); without them the admin's part
# runs in-process (AdminChat) with the same words.
HAS_ADMIN_COMMANDS = importlib.util.find_spec("burnchat.client.commands") is not None


# --- clients -----------------------------------------------------------------------


def room_link(server):
    """A fresh room on `server` and its share link with a random secret: (room JSON, link)."""
    room = server.create_room(ttl_seconds=120)
    return room, f"{server.url}{room['url']}#{crypto.random_id()}"


def find(chat, text, stream="err", timeout=WAIT):
    """The first line of `stream` containing `text`, waiting up to `timeout` s for it."""
    def first():
        return next((line for line in chat.lines[stream] if text in line), None)

    with chat.changed:
        found = chat.changed.wait_for(first, timeout=timeout)
    assert found, f"{chat.name}: no {stream} line with {text!r} in {timeout} s; got {chat.lines}"
    return found


def count(chat, text, stream="err"):
    """How many lines of `stream` contain `text` so far."""
    with chat.changed:
        return sum(text in line for line in chat.lines[stream])


def printed(chat):
    """Everything `chat` printed so far, both streams."""
    with chat.changed:
        return "\n".join(chat.lines["out"] + chat.lines["err"])


def safety_code(chat, epoch, timeout=WAIT):
    """The 40 digits `chat` printed for `epoch`."""
    line = find(chat, f"(epoch {epoch})", timeout=timeout)
    assert line.startswith("* Safety code: "), line
    return line.removeprefix("* Safety code: ").split(" (epoch")[0]


def secured_epoch(chat, timeout=WAIT):
    """The epoch of the last "Secured" line, once there is one."""
    find(chat, "* Secured (key epoch ", timeout=timeout)
    with chat.changed:
        last = [line for line in chat.lines["err"] if line.startswith("* Secured (key epoch ")][-1]
    return int(last.removeprefix("* Secured (key epoch ").rstrip(")"))


class _Sink:
    """A text stream for TerminalChat whose complete lines land in the chat's `lines`."""

    def __init__(self, chat, stream):
        self.chat, self.stream, self.pending = chat, stream, ""

    def write(self, text):
        self.pending += text
        *done, self.pending = self.pending.split("\n")
        with self.chat.changed:
            self.chat.lines[self.stream].extend(done)
            self.chat.changed.notify_all()

    def flush(self):
        pass


class InProcessChat(TerminalChat):
    """The terminal chat on a thread of this process: same code, same lines, plus a hook.

    `do(fn)` runs `fn(chat)` on the chat's own loop thread (between events, where the
    terminal does its timed work), so a test can act as the admin or as a malicious
    member without racing the session. Refused keys and rekeys are also recorded.
    """

    def __init__(self, link, name):
        self.lines, self.changed = {"out": [], "err": []}, threading.Condition()
        self._stdin, self._typing = os.pipe()
        super().__init__(parse_link(link), name, out=_Sink(self, "out"), err=_Sink(self, "err"),
                         stdin_fd=self._stdin)
        self.hooks = queue.Queue()
        self.refused = []  # (code, detail) of every refused room key
        self.rekeys = []  # (monotonic time, rekey event)
        self.exit_code = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self):
        self.exit_code = self.run()

    def check_deadlines(self):
        """Run queued commands, then the terminal's own timed work."""
        while True:
            try:
                fn, box = self.hooks.get_nowait()
            except queue.Empty:
                break
            try:
                box["result"] = fn(self)
            except Exception as exc:  # handed back to the test thread
                box["error"] = exc
            box["done"].set()
        self.tick()
        super().check_deadlines()

    def tick(self):
        """Timed work of a subclass."""

    def do(self, fn, timeout=WAIT):
        """`fn(self)` on the loop thread; its result."""
        box = {"done": threading.Event()}
        self.hooks.put((fn, box))
        self.events.put(("countdown", None))  # a no-op event: the loop wakes at once
        assert box["done"].wait(timeout), f"{self.name}: the chat loop did not run the command"
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def report_refused_key(self, event, exc):
        self.refused.append((exc.code, exc.detail))
        super().report_refused_key(event, exc)

    def on_rekey(self, data):
        self.rekeys.append((time.monotonic(), data))
        super().on_rekey(data)

    def member_id_of(self, name):
        """The member ID of the accepted member shown as `name`."""
        return next(m["member_id"] for m in self.session.members() if m["name"] == name)

    def say(self, text):
        os.write(self._typing, f"{text}\n".encode())

    def kill(self):
        """End of input (the chat leaves), or a forced disconnect if it is stuck."""
        if self._typing is not None:
            os.close(self._typing)
            self._typing = None
        self.thread.join(5)
        if self.thread.is_alive():
            self.connection.close()
            self.thread.join(5)
        os.close(self._stdin)


class AdminChat(InProcessChat):
    """The room's creator in the terminal, with the admin part the terminal lacks.

    It claims admin rights with the PIN on its own member connection and kicks; the
    status of each kick is the session's own `kick_status` (§5.5), printed in the page's
    words: "Removing X...", "Removed X..." only once this client holds a key whose
    roster leaves X out, and the warning after 5 s without one.
    """

    def __init__(self, link, name):
        self.kicks = {}  # member ID -> [name, statuses seen in order]
        super().__init__(link, name)

    def claim(self, room):
        ack = self.do(lambda chat: chat.connection.call("admin_auth", pin_auth(room["room"], room["pin"])))
        assert ack["ok"], ack

    def kick(self, name):
        """Kick the member shown as `name`; (ack, member ID)."""
        def kick(chat):
            member_id = chat.member_id_of(name)
            ack = chat.connection.call("admin_kick", {"member_id": member_id})
            if ack.get("ok"):
                chat.session.kick_started(member_id)
                chat.kicks[member_id] = [name, []]
                chat.tick()
            return ack, member_id

        return self.do(kick)

    def tick(self):
        for member_id, (name, seen) in self.kicks.items():
            state = self.session.kick_status(member_id)
            if seen and seen[-1] == state:
                continue
            seen.append(state)
            self.status({
                "removing": f"Removing {name}...",
                "removed": f"Removed {name}. The room switched to a new key without them.",
                "unconfirmed": f"{NOT_CONFIRMED} of {name} - don't trust this room",
            }[state])


def claim(admin, room):
    """The admin claims its rights with the room's PIN on its own member connection."""
    if isinstance(admin, AdminChat):
        admin.claim(room)
    else:
        admin.say(f"/admin {room['pin']}")
        find(admin, "You hold the admin controls")


def kick(admin, name):
    """The admin kicks `name`."""
    if isinstance(admin, AdminChat):
        ack, _ = admin.kick(name)
        assert ack["ok"], ack
    else:
        admin.say(f"/kick {name}")
    find(admin, f"Removing {name}...")


ADMIN = ChatProcess if HAS_ADMIN_COMMANDS else AdminChat


@pytest.fixture
def clients():
    """Start terminal clients (child processes or in-process); stop them all at the end."""
    started = []

    def start(link, name, kind=ChatProcess):
        chat = kind(link, name)
        started.append(chat)
        return chat

    yield start
    for chat in started:
        chat.kill()


def room_of(server, clients, names, kinds=None):
    """A room on `server` joined by `names` in order, each secured before the next joins."""
    room, link = room_link(server)
    kinds = kinds or {}
    chats = []
    for name in names:
        chat = clients(link, name, kinds.get(name, ChatProcess))
        secured_epoch(chat)
        chats.append(chat)
    return room, link, chats


def all_hold(chats, epoch, timeout=WAIT):
    """Wait until every chat printed the safety code of `epoch`; their codes."""
    return [safety_code(chat, epoch, timeout) for chat in chats]


# --- (2) phantom kick ------------------------------------------------------------


def test_honest_kick_says_removed(live_server, clients):
    """The control: on the real server the admin's client makes a key without Cy, so "Removed"."""
    room, _, (ana, ben, cy) = room_of(live_server, clients, ["Ana", "Ben", "Cy"], {"Ana": ADMIN})
    before = secured_epoch(ana)
    claim(ana, room)
    kick(ana, "Cy")
    find(ana, "Removed Cy. The room switched to a new key without them.")
    assert secured_epoch(ana) > before
    assert cy.exit_code() == EXIT_KICKED
    assert NOT_CONFIRMED not in printed(ana) and MISMATCH not in printed(ana) + printed(ben)


def test_phantom_kick_is_a_roster_mismatch_never_removed(evil_server, clients):
    """The server acks the kick, tells only Ana, keeps Cy and has Ben key a roster with Cy in it.

    Ana's client refuses Ben's key as a roster mismatch with one member she doesn't see
    (Cy, whom she dropped), stays at "Removing Cy..." and after 5 s says the server didn't
    confirm it; it never says "Removed".
    """
    server = evil_server("phantom_kick")
    room, _, (ana, ben, cy) = room_of(server, clients, ["Ana", "Ben", "Cy"], {"Ana": ADMIN})
    before = secured_epoch(ana)
    cy_id = ana.member_id_of("Cy") if isinstance(ana, AdminChat) else None
    claim(ana, room)
    kick(ana, "Cy")

    warning = find(ana, MISMATCH)
    assert f"1 {UNSEEN}" in warning and "left out" not in warning
    if cy_id is not None:  # in-process: the unseen member is exactly Cy
        assert ("roster_mismatch", {"unseen": [cy_id], "left_out": [], "differs": []}) in ana.refused
    find(ana, f"{NOT_CONFIRMED} of Cy - don't trust this room", timeout=client_session.KICK_CONFIRM_SECONDS + WAIT)
    assert count(ana, "Removed") == 0 and secured_epoch(ana) == before  # Ana holds no key Cy was left out of
    # What the warning is about: Cy is still in, holds Ben's new key and reads him.
    assert secured_epoch(cy) > before and cy.proc.poll() is None
    ben.say("Cy is gone, right?")
    find(cy, "Ben: Cy is gone, right?", stream="out")
    assert MISMATCH not in printed(ben)


def test_phantom_kick_silent_is_not_confirmed(evil_server, clients):
    """The server acks the kick, tells Ana the member left, and then does nothing: after 5 s, a warning."""
    server = evil_server("phantom_kick_silent")
    room, _, (ana, _ben, cy) = room_of(server, clients, ["Ana", "Ben", "Cy"], {"Ana": ADMIN})
    claim(ana, room)
    kick(ana, "Cy")
    started = time.monotonic()
    find(ana, f"{NOT_CONFIRMED} of Cy - don't trust this room", timeout=client_session.KICK_CONFIRM_SECONDS + WAIT)
    assert time.monotonic() - started >= client_session.KICK_CONFIRM_SECONDS - 1  # not before the bound
    assert count(ana, "Removed") == 0
    assert cy.proc.poll() is None  # the server kept Cy in the room


def test_ban_holds_when_the_server_keeps_admitting_the_old_link(evil_server, clients):
    """old_link_lives: Ana bans Cy, the server lets Cy back in with the old link. Ana and Ben moved to
    the new link, so Cy's announcement fails for both and nobody keys Cy again."""
    server = evil_server("old_link_lives")
    room, link, (ana, ben, cy) = room_of(server, clients, ["Ana", "Ben", "Cy"])
    claim(ana, room)
    ana.say("/ban Cy")
    assert cy.exit_code() == EXIT_KICKED
    find(ben, "Ana changed the room's link")
    again = clients(link, "Cy")
    find(again, "Joined as Cy")  # the server let the old link in
    find(again, "whose announcement failed verification")  # Ana and Ben speak the new link only
    for member in (ana, ben):
        find(member, "whose announcement failed verification")
    assert "Secured" not in printed(again)


# --- (3) ghost and split ----------------------------------------------------------


def test_ghost_is_refused_by_the_members_who_do_not_see_it(evil_server, clients):
    """Gus is announced to Ana only, who keys him in: Ben refuses the key naming an unseen member."""
    server = evil_server("ghost")
    _, link, (ana, ben) = room_of(server, clients, ["Ana", "Ben"])
    gus = clients(link, "Gus")
    warning = find(ben, MISMATCH)
    assert f"1 {UNSEEN}" in warning
    secured_epoch(gus)  # the ghost itself holds Ana's key
    assert "Gus" not in printed(ben)  # Ben is never shown the ghost's name
    assert MISMATCH not in printed(ana) + printed(gus)  # their rosters are the one the key commits to


@pytest.fixture(scope="module")
def split_room():
    """Four terminals on a server that splits the room from the fourth member on."""
    server = ServerProcess({"BURNCHAT_EVIL": "split"}, script=EVIL_APP)
    _, link = room_link(server)
    chats = []
    try:
        for name in ("Ana", "Ben", "Cy", "Dee"):
            chats.append(ChatProcess(link, name))
            secured_epoch(chats[-1])
        epoch = max(secured_epoch(chat) for chat in chats)
        yield chats, epoch
    finally:
        for chat in chats:
            chat.kill()
        server.stop()


def printed_epochs(chat):
    """The epochs `chat` printed a safety code for, so far."""
    with chat.changed:
        lines = list(chat.lines["err"])
    return {int(line.rsplit("(epoch ", 1)[1].rstrip(")")) for line in lines
            if line.startswith("* Safety code: ")}


def common_epoch(chats, since, timeout=WAIT):
    """The newest epoch from `since` on that every chat printed a code for.

    On a starved machine a client can be passed over as a creator (its key came later
    than the server's key-request timeout) and the room moves on, so one chat may skip
    the epoch the others stopped at; the room's next epoch is then every chat's again.
    """
    deadline = time.monotonic() + timeout
    while True:
        shared = set.intersection(*(printed_epochs(chat) for chat in chats))
        shared = {epoch for epoch in shared if epoch >= since}
        if shared:
            return max(shared)
        assert time.monotonic() < deadline, [sorted(printed_epochs(chat)) for chat in chats]
        with chats[0].changed:
            chats[0].changed.wait(0.2)


def test_split_halves_show_different_safety_codes(split_room):
    """Ana and Ben hold Ana's key, Cy and Dee Cy's key, of one epoch: the halves' codes differ."""
    (ana, ben, cy, dee), epoch = split_room
    codes = all_hold([ana, ben, cy, dee], common_epoch([ana, ben, cy, dee], epoch))
    assert codes[0] == codes[1] and codes[2] == codes[3] and codes[0] != codes[2]
    assert len(codes[0].replace(" ", "")) == 40


def test_split_halves_each_warn_about_the_other(split_room):
    """Within 5 s of holding the key, each half says it has not heard from the other under it."""
    (ana, ben, cy, dee), _ = split_room
    for chat, others in ((ana, ("Cy", "Dee")), (ben, ("Cy", "Dee")), (cy, ("Ana", "Ben")), (dee, ("Ana", "Ben"))):
        # One line per change in who is silent: the two may cross the 5 s mark in separate lines.
        def named_all():
            lines = [line for line in chat.lines["err"] if "Not heard from" in line]
            return all(any(name in line for line in lines) for name in others)

        with chat.changed:
            assert chat.changed.wait_for(named_all, timeout=CONFIRM_SECONDS + 3), printed(chat)


# --- (4) transcript: drop and equivocation ----------------------------------------


def test_dropped_message_is_a_gap_for_the_victim(evil_server, clients):
    """The relay keeps the 2nd message meant for its newest member, Ben: Ana's "one". When her
    next one comes, Ben is told 1 message from her didn't reach him; "one" is never shown."""
    server = evil_server("drop")
    _, _, (ana, ben) = room_of(server, clients, ["Ana", "Ben"])
    all_hold([ana, ben], secured_epoch(ben))
    # Ana's confirm of the epoch (§5.5) is the 1st message relayed to Ben; she has shown no text,
    # so no digest comes between.
    ana.say("one")  # the 2nd, dropped
    ana.say("two")
    find(ben, "Ana: two", stream="out")
    find(ben, "1 message from Ana didn't reach you")
    assert "Ana: one" not in printed(ben)
    assert "didn't reach you" not in printed(ana)


def copy_chain(chain):
    """A colluding sender's second copy of its own sending chain, to seal two messages under one seq."""
    twin = Chain(chain.held_keys()[0])
    twin._next = chain.next_seq
    return twin


def equivocate(chat, first, second):
    """Seal `first` and `second` under one seq with the sender's real key, and send both."""
    s = chat.session
    epoch, me = s.held_epoch, s.member_id
    chain = s._keys.chains[me]
    twin, prev = copy_chain(chain), s._transcript.prev(me)
    one, digest = envelope.seal_message(s.room_id, epoch, chain, s.identity, me, prev, envelope.text_body(first))
    two, _ = envelope.seal_message(s.room_id, epoch, twin, s.identity, me, prev, envelope.text_body(second))
    assert one["seq"] == two["seq"]
    s._transcript.sent(epoch, one["seq"], digest)  # its own later digests stay consistent
    return [chat.connection.call("message", sealed) for sealed in (one, two)]


def test_equivocation_is_seen_by_both_receivers(evil_server, clients):
    """Mal (colluding) shows Ana YES and Ben NO under one seq: each learns it from the other's digest."""
    server = evil_server("equivocate")
    _, _, (ana, ben, mal) = room_of(server, clients, ["Ana", "Ben", "Mal"], {"Mal": InProcessChat})
    all_hold([ana, ben], mal.session.held_epoch)
    acks = mal.do(lambda chat: equivocate(chat, "YES", "NO"))
    assert all(ack["ok"] for ack in acks), acks
    find(ana, "Mal: YES", stream="out")
    find(ben, "Mal: NO", stream="out")
    find(ana, "You and Ben saw different messages from Mal", timeout=WAIT)
    find(ben, "You and Ana saw different messages from Mal", timeout=WAIT)
    assert "Mal: NO" not in printed(ana) and "Mal: YES" not in printed(ben)


# --- (6) key starvation, on the real server -----------------------------------------


class StarvingChat(InProcessChat):
    """A link holder that makes the epochs it is asked for, but wraps junk for one member.

    The blob for `victim` is 40 random bytes, properly signed (so it passes every check
    up to the unwrap): the server, which sees no key, cannot tell it from a real one.
    """

    victim = "Vic"

    def on_key_request(self, request):
        payload = self.session.answer_key_request(request)
        victim = next((m["member_id"] for m in self.session.members() if m["name"] == self.victim), None)
        for blob in payload["blobs"]:
            if blob["to"] == victim:
                blob["wrapped"] = crypto.b64u_encode(os.urandom(40))
                sig_input = key_sig_input(self.session.room_id, payload["epoch"], self.session.member_id,
                                          victim, blob["wrapped"], payload["commit_sig"])
                blob["sig"] = crypto.b64u_encode(crypto.sign(self.session.identity.sig, sig_input))
        ack = self.connection.call("key_deliver", payload)
        assert ack["ok"], ack
        self.connection.call("key_held", {"epoch": payload["epoch"]})
        self.secured()


def passed_over(chat, member_id):
    """Epochs whose rekey named `member_id` as passed over."""
    return [data["epoch"] for _, data in chat.rekeys if data.get("passed_over") == member_id]


def test_key_starvation_moves_on_and_names_the_creator_the_second_time(live_server, clients):
    """Mal keys everyone but Vic, twice: Vic refuses the junk, is keyed by another creator each
    time, and the second time the room says Mal's device didn't hand out the key.

    With the terminal's 3 s key_missing bound the real server's own 2 s deadline passes Mal
    over first; the next test makes Vic's key_missing the trigger.
    """
    _, link = room_link(live_server)
    mal = clients(link, "Mal", StarvingChat)
    secured_epoch(mal)
    vic = clients(link, "Vic")
    find(vic, "Refused a room key (bad_key)")
    first = secured_epoch(vic)  # Vic made this one itself once Mal was passed over
    wait_for(lambda: mal.session.held_epoch == first, timeout=WAIT, message="Mal keyed by Vic")
    assert len(passed_over(mal, mal.session.member_id)) == 1
    assert "didn't hand out the room key" not in printed(vic)  # once is not yet a pattern

    wes = clients(link, "Wes")
    find(wes, "Secured")
    wait_for(lambda: count(vic, "Refused a room key (bad_key)") == 2, timeout=WAIT, message="the second refusal")
    find(vic, "Mal's device didn't hand out the room key; the room moved on without it.")
    assert count(vic, "didn't hand out") == 1
    wait_for(lambda: secured_epoch(vic) > first, timeout=WAIT, message="Vic keyed again")
    assert vic.proc.poll() is None
    assert "didn't hand out" not in printed(wes)  # Wes saw Mal passed over once


def test_key_missing_passes_the_starving_creator_over_at_once(live_server, clients, monkeypatch):
    """With a key_missing bound shorter than the server's 2 s deadline, Vic's own report is what
    moves the room on: the server passes Mal over on it, before its watchdog would."""
    monkeypatch.setattr(client_session, "KEY_MISSING_SECONDS", 0.5)
    _, link = room_link(live_server)
    mal = clients(link, "Mal", StarvingChat)
    secured_epoch(mal)
    vic = clients(link, "Vic", InProcessChat)
    find(vic, "Refused a room key (bad_key)")
    refused_at = time.monotonic()
    find(vic, "Still no room key after")  # key_missing sent
    wait_for(lambda: passed_over(vic, mal.session.member_id), timeout=WAIT, message="Mal passed over")
    at, _ = next(item for item in vic.rekeys if item[1].get("passed_over") == mal.session.member_id)
    assert at - refused_at < 1.9  # the server's own deadline is 2 s after the request
    assert secured_epoch(vic) > 0 and vic.session.ready


# --- versions -------------------------------------------------------------------------


def v1_join(room_id, name="Ana", enc_name_bytes=None):
    """A join as a v1 page sent it: v 1 and an unpadded encrypted name (12 + len + 16 bytes)."""
    identity = crypto.generate_identity()
    size = enc_name_bytes or 12 + len(name.encode()) + 16
    return {"v": 1, "room": room_id, "member_id": crypto.random_id(), "ecdh_pub": identity.ecdh_pub,
            "sig_pub": identity.sig_pub, "enc_name": crypto.b64u_encode(os.urandom(size)),
            "mac": crypto.b64u_encode(os.urandom(32))}


def raw_join(server, payload):
    """Send one join over a real socket; its ack."""
    connection = RoomConnection(server.url, queue.Queue())
    connection.connect()
    try:
        return connection.call("join", payload)
    finally:
        connection.close()


def test_old_version_client_is_refused_and_told_to_update(live_server, clients, monkeypatch):
    """A client speaking v1 is refused with bad_version, and the terminal says to update (exit 1)."""
    room, link = room_link(live_server)
    ack = raw_join(live_server, v1_join(room["room"], enc_name_bytes=12 + 132 + 16))
    assert ack["ok"] is False and ack["code"] == "bad_version"
    assert "Reload" in ack["error"]
    monkeypatch.setattr(crypto, "PROTOCOL_VERSION", 1)  # this run of the terminal is a v1 client
    old = clients(link, "Old", InProcessChat)
    find(old, "update this client (bad_version)")
    wait_for(lambda: not old.thread.is_alive(), timeout=WAIT, message="the old client's exit")
    assert old.exit_code == EXIT_ERROR


def test_v1_shaped_join_gets_bad_version(live_server):
    """A join exactly as a v1 page sends it is refused with bad_version, not a generic error."""
    room, _ = room_link(live_server)
    ack = raw_join(live_server, v1_join(room["room"]))
    assert ack["ok"] is False and ack["code"] == "bad_version", ack
