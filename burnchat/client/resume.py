"""After a dropped socket (docs/PROTOCOL.md §7.4): reconnect with backoff, resume the seat with
what was missed, or - once the server let the seat go - say so plainly and join again as new.

`Reconnect` works on the chat it belongs to (a TerminalChat): its session, connection,
status lines and event handlers. Time comes from the chat's `now`.
"""

from .wording import printable

RECONNECT_SECONDS = (1, 2, 4, 8, 15)  # between attempts (then every 15 s), as the browser's room-connection.js
RESUME_GIVE_UP_SECONDS = 300  # no server keeps a dropped seat longer (BURNCHAT_RESUME_SECONDS at most)
AWAY_TOO_LONG = "You were away too long: messages sent while you were away are gone."
NOT_REPLAYED = ("line", "eof", "interrupt", "disconnect")  # local events, never in a resume ack


class Reconnect:
    """Whether the chat's socket is down, and the way back."""

    def __init__(self, chat):
        """Belong to `chat`; online until lost() is called."""
        self.chat = chat
        self.lost_at = None  # since when the socket is down
        self.attempts = 0
        self.retry_at = None

    @property
    def offline(self):
        """True from a drop until the seat is resumed or taken anew."""
        return self.lost_at is not None

    def lost(self, data):
        """The socket closed: our own close (or one before joining) ends the chat, a drop starts reconnecting."""
        chat = self.chat
        if (isinstance(data, dict) and data.get("closed")) or chat.session.member_id is None:
            chat.status("Lost the connection to the server", tone="warn")
            raise chat.exit_error()
        if self.lost_at is None:
            self.lost_at, self.attempts = chat.now(), 0
            self.retry_at = chat.now() + RECONNECT_SECONDS[0]
            chat.status("Connection lost - reconnecting...", tone="warn")
            chat.room_changed()

    def check(self):
        """While offline: the next attempt when due; give up once no seat can still be waiting."""
        chat = self.chat
        if self.lost_at is None or chat.now() < self.retry_at:
            return
        if chat.now() - self.lost_at > RESUME_GIVE_UP_SECONDS:
            chat.status("Lost the connection to the server", tone="warn")
            raise chat.exit_error()
        try:
            chat.connection.reconnect()
        except ConnectionError:
            self.retry_later()
            return
        self.resume()

    def retry_later(self):
        """Back off before the next attempt."""
        self.attempts += 1
        self.retry_at = self.chat.now() + RECONNECT_SECONDS[min(self.attempts, len(RECONNECT_SECONDS) - 1)]

    def resume(self):
        """A new socket: take the seat back and handle what was missed in order, or rejoin as someone new."""
        chat = self.chat
        ack = chat.connection.call("resume", chat.session.resume_payload())
        if ack.get("code") == "no_answer":
            self.retry_later()  # the new socket dropped too
            return
        self.lost_at = None
        if not ack.get("ok"):
            self.rejoin(ack)
            return
        names = {m["member_id"]: m["name"] for m in chat.session.members()}
        result = chat.session.resumed(ack)
        for member in result["joined"]:
            chat.status(f"{printable(chat.session.display_name(member.member_id))} joined while you were away "
                        f"(key fingerprint {member.fingerprint})", tone="join")
        for member_id in result["left"]:
            chat.status(f"{printable(names.get(member_id, 'Someone'))} left while you were away", tone="leave")
        chat.status("Reconnected: back in the room", tone="ok")
        chat.commands.reclaim()
        chat.take_room_state(ack)
        handlers = chat.handlers()
        for name, data in result["missed"]:
            if name in handlers and name not in NOT_REPLAYED:
                handlers[name](data)
        chat.room_changed()
        if chat.session.ready:
            chat.secured()
        chat.flush_outbox()

    def rejoin(self, ack):
        """The seat is gone (bad_resume): say so plainly, name what never went out, join again as new."""
        chat = self.chat
        if ack.get("code") != "bad_resume":
            chat.status(f"Cannot resume: {ack.get('error', ack.get('code'))}", tone="warn")
        chat.status(AWAY_TOO_LONG, tone="warn")
        for item in chat.session.wipe():
            chat.status(f"Not sent: {printable(item['text'])}", tone="warn")
        chat.new_session()
        chat.join()
        chat.commands.reclaim()
