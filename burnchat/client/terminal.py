"""The terminal chat: one room session driven by server events and typed lines.

`TerminalChat` is pipe mode: verified messages go to stdout as `name: text`;
everything else goes to stderr as `* ...` so stdout stays clean for pipes: the
safety code of each epoch, roster mismatches, gaps, forks, equivocation and
members passed over. `JsonChat` prints both as JSON lines; the full-screen
client (screen.py) subclasses it too, replacing only the output hooks (status,
show_text, show_own, room_changed...). All protocol work happens on one thread,
fed by one queue (socket events from the connection, lines from stdin or the
input line). Lines starting with `/` are commands (commands.py), never sent.
"""

import codecs
import dataclasses
import json
import math
import os
import queue
import threading
import time

from . import crypto, envelope
from .commands import Commands, parse_line
from .connection import RoomConnection
from .files import FileDesk
from .resume import Reconnect
from .crypto import ProtocolError
from .session import KEY_MISSING_SECONDS as KEY_MISSING_WAIT
from .session import TRANSIENT_REFUSALS, RoomSession
from .wording import countdown_mark, describe_remaining, mismatch_sentence, notice_sentence, printable

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_LINK = 2
EXIT_KICKED = 3
EXIT_INTERRUPTED = 130

EOF_FLUSH_SECONDS = 15  # how long unsent lines may wait for the key after stdin ends
LEFT_REASONS = {"left": "left", "disconnected": "disconnected", "kicked": "was removed by the admin"}
ME_PREFIX = "/me "  # a typed `/me waves` is sent as an action, and shown the same way


class Exit(Exception):
    """Stop the chat loop with an exit code."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def read_lines(fd, events):
    """Queue each stdin line as ("line", text), then ("eof", None); raw reads, no shared buffer."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        pending += decoder.decode(chunk, final=not chunk)
        *lines, pending = pending.split("\n")
        for line in lines:
            events.put(("line", line.removesuffix("\r")))
        if not chunk:
            if pending:
                events.put(("line", pending.removesuffix("\r")))
            events.put(("eof", None))
            return


class TerminalChat:
    """One run of the terminal client in one room."""

    @staticmethod
    def exit_error():
        """The Exit of a connection that is gone for good."""
        return Exit(EXIT_ERROR)

    def __init__(self, link, name, out, err, stdin_fd, connection_factory=RoomConnection, now=time.monotonic):
        """Keep the streams and build the session; nothing touches the network yet."""
        self.link = link
        self.announce_pending = None  # our announcement under a new link, until the server has it (§5.6)
        self.out = out
        self.err = err
        self.stdin_fd = stdin_fd
        self.events = queue.Queue()
        self.now = now
        self.session = RoomSession(link.room_id, link.secret, now=now, acks=True)
        self.name = name
        self.connection = connection_factory(link.base_url, self.events)
        self.eof_deadline = None
        self.shown_code = None
        self.last_mark = None
        self.expires_at = None
        self.locked = None
        self.secured_epoch = None
        self.commands = Commands(self)
        self.files = FileDesk(self)
        self.reconnect = Reconnect(self)

    # --- output ------------------------------------------------------------

    def status(self, text, tone=""):
        """One status line on stderr; `tone` (ok, join, leave, key, warn) is for screens with colour."""
        print(f"* {text}", file=self.err, flush=True)

    def show_message(self, name, text):
        """One verified message on stdout."""
        print(f"{printable(name)}: {printable(text)}", file=self.out, flush=True)

    def show_text(self, result):
        """A verified text from someone else ({member_id, name, text, me, ...} from session.open)."""
        self.show_message(result["name"], f"{ME_PREFIX}{result['text']}" if result.get("me") else result["text"])

    def show_own(self, text, me):
        """Our own message, accepted by the server (pipe mode does not echo what it was given)."""

    def room_changed(self):
        """People, lock, countdown, key or admin state changed (for a status bar; pipe mode has none)."""

    def clear_screen(self):
        """`/clear`: pipe mode has no screen of its own."""
        self.status("Nothing to clear: this is pipe mode")

    def set_locked(self, locked):
        """Record the lock state and say when it changes."""
        if locked != self.locked:
            self.locked = locked
            self.status("The room is locked: no one new can join" if locked else "The room is unlocked")
            self.room_changed()

    def show_safety_code(self):
        """Print the held epoch's safety code (and its QR text) when it is new."""
        code = self.session.safety_code()
        if code is not None and code != self.shown_code:
            self.shown_code = code
            self.status(f"Safety code: {code['digits']} (epoch {code['epoch']})", tone="key")
            self.status(f"Safety QR text: {code['qr']}")

    def name_of(self, member_id):
        """A member's display name for a status line (IDs we do not know stay anonymous)."""
        name = self.session.display_name(member_id)
        return printable(name) if name is not None else "someone you don't see"

    def show_notice(self, notice):
        """One transcript notice (§6.4-6.5) as a status line."""
        other = self.name_of(notice["other_id"]) if notice.get("other_id") else None
        self.status(notice_sentence(notice, self.name_of(notice["member_id"]), other), tone="warn")

    def show_result(self, result):
        """A message (to stdout) with its notices and order marks (to stderr)."""
        if result is None:
            return
        if result.get("relink"):
            self.relinked(result["relink"], result["name"])
        if result.get("file") is not None:
            self.files.announced(result)
        if result.get("text") is not None:
            self.show_text(result)
            if result.get("out_of_order"):
                self.status(f"The message from {printable(result['name'])} above is shown out of order", tone="warn")
        for notice in result.get("notices", []):
            self.show_notice(notice)

    def show_countdown(self, expires_at, now, force=False):
        """Print the time left when it crosses a mark (or when forced)."""
        self.expires_at = expires_at
        seconds = max(0, math.ceil((expires_at - now) / 1000))
        mark = countdown_mark(seconds)
        if force or mark != self.last_mark:
            self.last_mark = mark
            self.status(f"Burns in {describe_remaining(seconds)}")
        self.room_changed()

    # --- running -----------------------------------------------------------

    def run(self):
        """Connect, join, chat until burn, kick or end of input; the exit code."""
        try:
            try:
                self.connection.connect()
            except ConnectionError as exc:
                self.status(f"Cannot connect: {exc}")
                return EXIT_ERROR
            self.join()
            self.start_input()
            self.loop()
        except Exit as stop:
            return stop.code
        except KeyboardInterrupt:
            self.leave()
            return EXIT_INTERRUPTED
        finally:
            self.session.wipe()
            self.connection.close()
        return EXIT_OK

    def start_input(self):
        """Read stdin lines into the event queue."""
        threading.Thread(target=read_lines, args=(self.stdin_fd, self.events), daemon=True).start()

    def join(self):
        """Send our announcement and take the room's state from the ack."""
        ack = self.connection.call("join", self.session.start(self.name))
        if not ack.get("ok") and ack.get("code") == "bad_version":
            self.status("The server speaks another protocol version: update this client (bad_version)")
            raise Exit(EXIT_ERROR)
        if not ack.get("ok"):
            if ack.get("code") == "no_room":
                self.status("This room doesn't exist or has burned.")
                raise Exit(EXIT_BAD_LINK)
            if ack.get("code") == "bad_link":
                self.status("This link is incomplete or wrong - ask for the full link.")
                raise Exit(EXIT_BAD_LINK)
            self.status(f"Cannot join: {ack.get('error', ack.get('code', 'refused'))}")
            raise Exit(EXIT_ERROR)
        self.session.joined(ack)
        me = self.session.members()[-1]
        self.status(f"Joined as {printable(me['name'])} (your key fingerprint {me['fingerprint']})")
        others = [m for m in self.session.members() if not m["is_self"]]
        if others:
            listing = ", ".join(f"{printable(m['name'])} [{m['fingerprint']}]" for m in others)
            self.status(f"Already here: {listing}")
        self.report_flagged(0, self.session.flagged_count)
        if ack.get("locked"):
            self.status("The room is locked: no one new can join")
        self.locked = bool(ack.get("locked"))
        self.room_changed()
        if isinstance(ack.get("expires_at"), int) and isinstance(ack.get("now"), int):
            self.show_countdown(ack["expires_at"], ack["now"], force=True)
        self.status("Securing... (waiting for the room key)")

    def loop(self):
        """Handle events one by one until something ends the chat."""
        handlers = self.handlers()
        while True:
            try:
                name, data = self.events.get(timeout=0.5)
            except queue.Empty:
                self.check_deadlines()
                continue
            handlers[name](data)
            self.check_deadlines()

    def handlers(self):
        """Event name -> handler, for the queue and for the events a resume brings back."""
        return {
            "line": self.on_line,
            "eof": self.on_eof,
            "member_joined": self.on_member_joined,
            "member_left": self.on_member_left,
            "rekey": self.on_rekey,
            "key_request": self.on_key_request,
            "room_key": self.on_room_key,
            "message": self.on_message,
            "room_state": self.on_room_state,
            "countdown": self.on_countdown,
            "kicked": self.on_kicked,
            "destroyed": self.on_destroyed,
            "admin_joined": self.on_admin_joined,
            "disconnect": self.on_disconnect,
            "interrupt": self.on_interrupt,
            "member_away": self.on_member_away,
            "member_back": self.on_member_back,
            "member_announced": self.on_member_announced,
            "file_chunk": self.files.on_chunk,
            "file_cancel": self.files.on_cancel,
        }

    def check_deadlines(self):
        """Time-based work between events: late keys, key_missing, digests, pending gaps, EOF, a pending announce."""
        self.send_announce()
        if self.session.held_count:
            self.release_held()  # cheap while nothing is due; expires what waited too long
        missing = self.session.key_missing()
        if missing is not None:
            self.status(f"Still no room key after {KEY_MISSING_WAIT} s; asking the server for another creator")
            self.connection.call("key_missing", {"epoch": missing})
        self.reconnect.check()
        if self.reconnect.offline:
            return
        digest = self.session.make_digest()
        if digest is not None:
            self.send_envelope(digest)
        self.flush_outbox()  # what was refused for a passing reason goes again
        for notice in self.session.pending_notices():
            self.show_notice(notice)
        self.commands.check_kicks()
        self.check_eof_deadline()

    def leave(self):
        """Tell the server we are leaving (it rekeys the others), then disconnect."""
        self.connection.call("leave", {})
        self.connection.close()

    def quit(self):
        """`/quit`: leave cleanly, so the others see "left" rather than a lost connection."""
        self.leave()
        self.status("Left the room")
        raise Exit(EXIT_OK)

    def on_interrupt(self, _data):
        """Ctrl-C on the full screen (pipe mode gets KeyboardInterrupt instead): leave, exit 130."""
        self.leave()
        raise Exit(EXIT_INTERRUPTED)

    # --- stdin -------------------------------------------------------------

    def on_line(self, line):
        """A typed line: a command runs here; a message is queued, or refused (never truncated) when too long."""
        if self.commands.intercept(line):
            return
        parsed = parse_line(line)
        if parsed is None:
            return
        if parsed[0] == "command":
            self.commands.run(parsed[1], parsed[2])
            return
        _say, text, me = parsed
        try:
            envelope.check_text(text)
        except ProtocolError as exc:
            self.status(f"Not sent: {exc.message} (nothing was truncated)", tone="warn")
            return
        self.session.queue(text, me)
        self.flush_outbox()

    def on_eof(self, _data):
        """End of input: leave once every queued line is sent (or after a grace period)."""
        self.eof_deadline = self.now() + EOF_FLUSH_SECONDS
        self.check_eof_deadline()

    def check_eof_deadline(self):
        """After EOF, leave when the outbox is empty or the grace period is over."""
        if self.eof_deadline is None:
            return
        unsent = len(self.session.pending())
        if unsent and self.now() < self.eof_deadline:
            return
        if unsent:
            self.status(f"{unsent} line(s) not sent: the room key never arrived")
        self.leave()
        self.status("Left the room")
        raise Exit(EXIT_OK)

    def flush_outbox(self):
        """Send what the session lets go now, one envelope at a time, each acknowledged before the next (§6.6)."""
        while not self.reconnect.offline:
            envelopes = self.session.take_resendable()
            if not envelopes:
                return
            for sealed in envelopes:
                if not self.send_envelope(sealed):
                    return

    def send_envelope(self, sealed):
        """Emit one envelope and report its outcome to the session; False when sending must pause."""
        ack = self.connection.call("message", sealed)
        if ack.get("ok"):
            shown = self.session.sent(sealed)
            if shown is not None and "relink" in shown:
                self.relinked(shown["relink"], None)
            elif shown is not None and shown.get("file"):
                self.files.metadata_sent(shown["local_id"])
            elif shown is not None:
                self.show_own(shown["text"], shown["me"])
            return True
        code = ack.get("code") or "invalid"
        outcome = self.session.refused(sealed, code)
        if outcome is not None and outcome["state"] == "failed":
            self.status(f"Not sent: {ack.get('error', code)}", tone="warn")
        return code not in TRANSIENT_REFUSALS and code != "stale_epoch"  # retried later, or after the rekey

    # --- members -----------------------------------------------------------

    def on_member_joined(self, announcement):
        """A newcomer: accept or flag it, and show the new safety code."""
        known = self.session.member(announcement.get("member_id")) if isinstance(announcement, dict) else None
        if known and (known.ecdh_pub, known.sig_pub) == (announcement.get("ecdh_pub"), announcement.get("sig_pub")):
            return  # the same announcement twice (it was already in the join ack)
        before = self.session.flagged_count
        member = self.session.add_member(announcement)
        if member is None:
            self.report_flagged(before, self.session.flagged_count)
            return
        name = self.session.display_name(member.member_id)
        self.status(f"{printable(name)} joined (key fingerprint {member.fingerprint})", tone="join")
        self.room_changed()

    def on_member_announced(self, announcement):
        """A member's announcement under the new link (§5.6): checked against the one we know."""
        before = self.session.flagged_count
        known = self.session.member(announcement.get("member_id")) if isinstance(announcement, dict) else None
        member = self.session.member_announced(announcement)
        if member is None:
            self.report_flagged(before, self.session.flagged_count)
        elif known is None:
            name = self.session.display_name(member.member_id)
            self.status(f"{printable(name)} joined (key fingerprint {member.fingerprint})", tone="join")
            self.room_changed()

    def relinked(self, relink, by):
        """The room's link changed (§5.6): a rejoin uses the new one; our announcement under it goes out."""
        self.link = dataclasses.replace(self.link, secret=relink["secret"])
        who = "You" if by is None else printable(by)
        self.status(f"{who} changed the room's link: the old one no longer lets anyone in. /link shows the new one.",
                    tone="key")
        for member in relink.get("joined", []):
            name = self.session.display_name(member.member_id)
            self.status(f"{printable(name)} joined (key fingerprint {member.fingerprint})", tone="join")
        self.room_changed()
        self.announce_pending = relink["announce"]
        self.send_announce()

    def send_announce(self):
        """Our announcement under the new link, until the server has it (retried while offline)."""
        if self.announce_pending is None or self.reconnect.offline:
            return
        ack = self.connection.call("announce", self.announce_pending)
        if ack.get("ok") or ack.get("code") not in ("no_answer", "timeout", "offline"):
            if not ack.get("ok"):
                self.status(f"Couldn't announce you under the new link: {ack.get('error', ack.get('code'))}",
                            tone="warn")
            self.announce_pending = None

    def report_flagged(self, before, after):
        """Say so when announcements were dropped for failing verification."""
        if after > before:
            self.status(
                f"Ignored {after - before} member(s) whose announcement failed verification "
                f"({after} so far): not from someone with this link, or tampered with", tone="warn"
            )

    def on_member_left(self, data):
        """Someone left, disconnected or was kicked: no message goes out under the old key."""
        member_id = data.get("member_id") if isinstance(data, dict) else None
        name = self.session.display_name(member_id)
        if self.session.remove_member(member_id) is None:
            return
        self.files.member_left(member_id)
        if not self.commands.kicking(member_id):  # our own kick is said once our key proves it
            reason = data.get("reason")
            self.status(f"{printable(name)} {LEFT_REASONS.get(reason, 'left')}",
                        tone="warn" if reason == "kicked" else "leave")
        self.room_changed()
        self.release_held()  # what waited under an epoch now below the floor is rejected

    # --- keys --------------------------------------------------------------

    def on_rekey(self, data):
        """The room moves to a new epoch: stop sending until we hold its key; name a creator passed over twice."""
        was_ready = self.session.ready
        result = self.session.on_rekey(data if isinstance(data, dict) else {})
        if result["passed_over_twice"] is not None:
            name = self.name_of(result["passed_over_twice"].member_id)
            self.status(f"The server says {name}'s device didn't hand out the room key; the room moved on without it.",
                        tone="warn")
        if was_ready and not self.session.ready:
            self.status("Securing... (the room is changing its key)")
            self.room_changed()

    def on_key_request(self, request):
        """We are the epoch's creator: make its key for every member we accepted and deliver it."""
        try:
            payload = self.session.answer_key_request(request if isinstance(request, dict) else {})
        except ProtocolError as exc:
            self.status(f"Could not answer a key request ({exc.code})", tone="warn")
            return
        ack = self.connection.call("key_deliver", payload)
        if not ack.get("ok"):
            self.session.drop_epoch(payload["epoch"])  # never send under a key nobody else got
            self.status(f"The server refused our room key ({ack.get('code')}); it will pick another creator",
                        tone="warn")
            return
        self.connection.call("key_held", {"epoch": payload["epoch"]})
        if self.session.ready:
            self.secured()

    def on_room_key(self, event):
        """A room key for us: check it and its roster, hold it, tell the server, send what waited."""
        try:
            epoch = self.session.accept_room_key(event)
        except ProtocolError as exc:
            self.report_refused_key(event, exc)
            return
        self.connection.call("key_held", {"epoch": epoch})
        if self.session.ready:
            self.secured()

    def report_refused_key(self, event, exc):
        """Say why a key was refused: a roster mismatch names who differs; a stale key is quiet."""
        if exc.code == "bad_epoch":
            return  # a later membership change made it obsolete (§5.3)
        if exc.code != "roster_mismatch":
            self.status(f"Refused a room key ({exc.code})", tone="warn")
            return
        self.status(mismatch_sentence(exc.detail or {}, self.name_of), tone="warn")

    def secured(self):
        """We hold the current key: say so, open messages that waited, send queued lines."""
        if self.secured_epoch != self.session.held_epoch:
            self.secured_epoch = self.session.held_epoch
            self.show_safety_code()
            self.status(f"Secured (key epoch {self.session.held_epoch})", tone="ok")
            self.room_changed()
        self.release_held()
        self.flush_outbox()

    # --- messages ----------------------------------------------------------

    def on_message(self, sealed):
        """Show a message that passes every check, hold one whose key is on its way; report the others."""
        try:
            message = self.session.open(sealed)
        except ProtocolError as exc:
            self.report_rejected(exc.code)
            return
        self.show_result(message)  # None: held back, its key is on the way

    def release_held(self):
        """Show held messages whose key is here; report those given up on (stale or too late)."""
        before = self.session.rejected_count
        for message in self.session.release_held():
            self.show_result(message)
        if self.session.rejected_count > before:
            self.report_rejected("held back, then its key never came or was refused")

    def report_rejected(self, reason):
        """One status line per rejection event, with the running count."""
        self.status(f"Rejected a message ({reason}); {self.session.rejected_count} rejected so far", tone="warn")

    # --- room --------------------------------------------------------------

    def on_room_state(self, state):
        """Lock changes and extensions."""
        if not isinstance(state, dict):
            return
        self.set_locked(bool(state.get("locked")))
        expires_at, now = state.get("expires_at"), state.get("now")
        if isinstance(expires_at, int) and isinstance(now, int) and expires_at != self.expires_at:
            extended = self.expires_at is not None and expires_at > self.expires_at
            if extended:
                self.status("The admin extended the room")
            self.show_countdown(expires_at, now, force=extended)

    def on_countdown(self, data):
        """The server's clock tick: print the time left at each mark."""
        if isinstance(data, dict) and isinstance(data.get("expires_at"), int) and isinstance(data.get("now"), int):
            self.show_countdown(data["expires_at"], data["now"])

    def on_admin_joined(self, _data):
        """Someone opened the admin controls with the room's PIN (who, the server doesn't say)."""
        self.status("An admin joined (with the room's PIN)")

    def on_kicked(self, _data):
        """The admin removed us."""
        self.files.wipe()
        self.status("You were removed from the room by its admin", tone="warn")
        raise Exit(EXIT_KICKED)

    def on_destroyed(self, _data):
        """The room burned: forget everything and stop."""
        self.files.wipe()
        self.session.wipe()
        self.status("Room burned")
        raise Exit(EXIT_OK)

    def on_disconnect(self, data):
        """The connection ended without a burn or a kick: reconnect and resume our seat (resume.py)."""
        self.reconnect.lost(data)

    def take_room_state(self, ack):
        """Lock and countdown from a join or resume ack."""
        self.set_locked(bool(ack.get("locked")))
        if isinstance(ack.get("expires_at"), int) and isinstance(ack.get("now"), int):
            self.show_countdown(ack["expires_at"], ack["now"])

    def new_session(self):
        """A fresh session (a new member, after our seat was lost); its join follows."""
        self.session = RoomSession(self.link.room_id, self.link.secret, now=self.now, acks=True)
        self.shown_code = self.secured_epoch = None
        self.commands.kicks.clear()

    def on_member_away(self, data):
        """A member's socket dropped; its seat is kept for a while."""
        member_id = data.get("member_id") if isinstance(data, dict) else None
        if self.session.mark_away(member_id):
            self.status(f"{self.name_of(member_id)} lost connection (their seat is kept for a while)", tone="leave")
            self.room_changed()

    def on_member_back(self, data):
        """An away member resumed."""
        member_id = data.get("member_id") if isinstance(data, dict) else None
        if self.session.mark_back(member_id):
            self.status(f"{self.name_of(member_id)} is back", tone="join")
            self.room_changed()


class JsonChat(TerminalChat):
    """Pipe mode for machines (`--json`): one JSON object per line on stdout, messages and status alike."""

    def emit(self, record):
        """One JSON line."""
        print(json.dumps(record, ensure_ascii=False), file=self.out, flush=True)

    def status(self, text, tone=""):
        """{"type": "status", "text", "tone"}."""
        self.emit({"type": "status", "text": text, "tone": tone})

    def show_text(self, result):
        """{"type": "message", "member_id", "name", "text", "me", "own": false, "time"}."""
        self.emit({"type": "message", "member_id": result["member_id"], "name": result["name"],
                   "text": result["text"], "me": bool(result.get("me")), "own": False, "time": time.time()})

    def show_own(self, text, me):
        """Our own message once the server took it: {"type": "message", "own": true, ...}."""
        self.emit({"type": "message", "member_id": self.session.member_id, "name": self.session.name,
                   "text": text, "me": me, "own": True, "time": time.time()})
