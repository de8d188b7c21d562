"""Commands typed in the terminal chat (`/help`, `/who`, the admin's `/kick`...): handled here, never sent.

A line starting with `/` is a command; `//` sends the rest with one slash; `/me` is an action.
`Commands` works on the chat it belongs to (its session, connection and status lines).
"""

from . import crypto
from .display import one_line

ADMIN_COMMANDS = ("kick", "ban", "newlink", "lock", "unlock", "extend", "burn")
EXTEND_MINUTES = {"5": 300, "30": 1800}
UNANSWERED = ("no_answer", "timeout")  # not a refusal: the server may have changed the link, and only we can hand it out
BURN_CONFIRM = ("yes", "y")

HELP = (
    "Commands (a line starting with / is never sent; // sends a line that starts with a slash):",
    "  /me TEXT        an action: * you TEXT",
    "  /who            people in the room with their key fingerprints",
    "  /safety         this key's safety code: compare it with everyone, out loud or elsewhere",
    "  /clear          clear the messages on your screen",
    "  /link           the room's link, to share (it changes when the admin bans someone)",
    "  /send PATH      send a file (up to 16 MB); it burns with the room",
    "  /files          the files that arrived (kept in memory only)",
    "  /save N PATH    write file N to PATH (only ever on your request)",
    "  /quit           leave the room (Ctrl-C too)",
    "  /admin PIN      claim the admin controls with the room's PIN",
    "  /kick NAME      remove someone (admin); they can come back with the link",
    "  /ban NAME       remove someone and change the link, so the old one lets nobody in (admin)",
    "  /newlink        change the room's link; everyone here gets the new one (admin)",
    "  /lock, /unlock  stop or allow newcomers (admin)",
    "  /extend 5|30    add 5 or 30 minutes (admin)",
    "  /burn           burn the room for everyone, now (admin; asks first)",
    "Keys: Enter sends, Alt-Enter or Ctrl-J starts a new line, Up/Down for history, PageUp/PageDown scroll.",
)


def parse_line(line):
    """('say', text, me) for a message, ('command', name, argument) for a command, None for a blank line."""
    if not line.strip():
        return None
    if line.startswith("//"):
        return ("say", line[1:], False)
    if line.startswith("/me ") and line[4:].strip():
        return ("say", line[4:], True)
    if line.startswith("/"):
        name, _, argument = line[1:].partition(" ")
        return ("command", name.strip().lower(), argument.strip())
    return ("say", line, False)


class Commands:
    """The local commands of one chat, with the admin state they need (PIN, pending kicks, burn confirmation)."""

    def __init__(self, chat):
        """Belong to `chat` (a TerminalChat): its session, connection, status() and leave()."""
        self.chat = chat
        self.admin = False
        self.proof = None  # the PIN's proof (§8.1), kept in memory to claim admin again on a resume
        self.kicks = {}  # member_id -> name, while "Removing..."
        self.burn_asked = False

    def run(self, name, argument):
        """Carry out one command; unknown ones are explained, never sent."""
        handler = getattr(self, f"do_{name}", None) if name.isidentifier() else None
        if handler is None:
            self.chat.status(f"Unknown command /{one_line(name)}: /help lists them; // sends a line starting with /",
                             tone="warn")
            return
        if name in ADMIN_COMMANDS and not self.admin:
            self.chat.status("Only the room's admin can do that: claim the controls with /admin PIN", tone="warn")
            return
        handler(argument)

    def intercept(self, line):
        """True when a typed line answers a pending question (the burn confirmation) instead of being sent."""
        if not self.burn_asked:
            return False
        self.confirm_burn(line)
        return True

    # --- everyone ------------------------------------------------------------

    def do_help(self, _argument):
        """List the commands and keys."""
        for line in HELP:
            self.chat.status(line)

    def do_who(self, _argument):
        """People in the room, in join order, with their key fingerprints."""
        members = self.chat.session.members()
        self.chat.status(f"{len(members)} in the room:")
        for member in members:
            you = " (you)" if member["is_self"] else " (away)" if member.get("away") else ""
            self.chat.status(f"  {one_line(member['name'])}{you}  [{member['fingerprint']}]")

    def do_safety(self, _argument):
        """The held key's safety code and QR text."""
        code = self.chat.session.safety_code()
        if code is None:
            self.chat.status("No safety code yet: the room key is not here (Securing...)")
            return
        self.chat.status(f"Safety code (epoch {code['epoch']}): {code['digits']}", tone="key")
        self.chat.status(f"Safety QR text: {code['qr']}")
        self.chat.status("Everyone in the room sees the same digits unless someone is in the middle: compare them.")

    def do_send(self, argument):
        """Send the file at PATH."""
        if not argument:
            self.chat.status("Usage: /send PATH", tone="warn")
            return
        self.chat.files.send(argument)

    def do_files(self, _argument):
        """The files that arrived, numbered for /save."""
        self.chat.files.list()

    def do_save(self, argument):
        """Write an arrived file to disk."""
        self.chat.files.save(argument)

    def do_clear(self, _argument):
        """Clear the message pane (pipe mode has nothing to clear)."""
        self.chat.clear_screen()

    def do_quit(self, _argument):
        """Leave the room cleanly: the others see "left"."""
        self.chat.quit()

    def do_me(self, _argument):
        """`/me` with nothing after it."""
        self.chat.status("Usage: /me TEXT")

    # --- admin ---------------------------------------------------------------

    def do_admin(self, pin):
        """Claim admin rights for this connection with the room's PIN."""
        if not pin:
            self.chat.status("Usage: /admin PIN (the PIN the room was created with)")
            return
        if not crypto.pin_shaped(pin):  # a typo that can't be a PIN costs none of the attempts
            self.chat.status("A PIN has 8 letters and digits, like ABCD-2345 (no 0, 1, I or O).", tone="warn")
            return
        self.chat.status("Checking the PIN...")
        proof = self._proof(pin)
        ack = self._claim(proof) if isinstance(proof, str) else proof
        if not ack.get("ok"):
            detail = ""
            if ack.get("code") == "bad_pin" and ack.get("attempts_left") is not None:
                detail = f" ({ack['attempts_left']} attempts left)"
            self.chat.status(f"Admin controls unavailable: {ack.get('error', ack.get('code'))}{detail}", tone="warn")
            return
        self.admin, self.proof = True, proof
        self.chat.status("You hold the admin controls: /kick, /lock, /unlock, /extend, /burn", tone="ok")
        self.chat.room_changed()

    def reclaim(self):
        """Claim admin rights again on a new connection (after a resume), quietly."""
        if self.proof is not None:
            self.admin = bool(self._claim(self.proof).get("ok"))

    def _proof(self, pin):
        """The PIN's proof under the room's salt (from GET /api/rooms/ROOM), or a failed ack."""
        status = self.chat.connection.room_status(self.chat.link.room_id)
        if not status.get("ok"):
            return status
        try:
            return crypto.pin_proof(pin, status.get("pin_salt"))
        except crypto.ProtocolError:
            return {"ok": False, "code": "invalid", "error": "the server sent an unusable PIN salt"}

    def _claim(self, proof):
        """`admin_auth` with a PIN's proof -> its ack."""
        return self.chat.connection.call("admin_auth", {"room": self.chat.link.room_id, "proof": proof})

    def do_link(self, _argument):
        """The room's current link (after a ban, the new one)."""
        link = self.chat.link
        self.chat.status(f"{link.base_url}/r/{link.room_id}#{link.secret}")

    def do_ban(self, name):
        """Kick and change the link (§5.6): the kicked person's copy of the link admits nobody."""
        self.do_kick(name, relink=True)

    def do_newlink(self, _argument):
        """Change the link: our client hands the new one to the members inside the next epoch."""
        join_key_hash = self.new_link_hash()
        if join_key_hash is None:
            return
        ack = self.chat.connection.call("admin_relink", {"join_key_hash": join_key_hash})
        if not ack.get("ok"):
            if ack.get("code") not in UNANSWERED:
                self.chat.session.cancel_relink()
            self.chat.status(f"The link didn't change: {ack.get('error', ack.get('code'))}", tone="warn")
            return
        self.chat.status("Changing the link...")

    def new_link_hash(self):
        """The join-key hash of a fresh link, or None (said) when the session can't change the link now."""
        try:
            return self.chat.session.prepare_relink()[1]
        except crypto.ProtocolError as exc:
            self.chat.status("The link is already changing - wait for it to finish" if exc.code == "busy"
                             else "The link can't change before you hold the room key", tone="warn")
            return None

    def do_kick(self, name, relink=False):
        """Remove a member by (disambiguated) name: "Removing...", then "Removed" only with proof."""
        wanted = crypto.name_for_comparison(name).casefold()
        matches = [m for m in self.chat.session.members()
                   if not m["is_self"] and crypto.name_for_comparison(m["name"]).casefold() == wanted]
        if not name or len(matches) != 1:
            self.chat.status(f"No one called {one_line(name)!r} here: /who lists the names" if name else
                             "Usage: /kick NAME (as /who shows it)", tone="warn")
            return
        member = matches[0]
        payload = {"member_id": member["member_id"]}
        if relink:
            payload["join_key_hash"] = self.new_link_hash()
            if payload["join_key_hash"] is None:
                return
        self.chat.status(f"Removing {one_line(member['name'])}...")
        ack = self.chat.connection.call("admin_kick", payload)
        if not ack.get("ok"):
            if relink and ack.get("code") not in UNANSWERED:
                self.chat.session.cancel_relink()
            self.chat.status(f"Not removed: {ack.get('error', ack.get('code'))}", tone="warn")
            return
        self.chat.session.kick_started(member["member_id"])
        self.kicks[member["member_id"]] = member["name"]

    def kicking(self, member_id):
        """True while our kick of `member_id` waits for its proof."""
        return member_id in self.kicks

    def check_kicks(self):
        """"Removed" once our own key leaves the member out, a warning after 5 s without (§5.5)."""
        for member_id, name in list(self.kicks.items()):
            status = self.chat.session.kick_status(member_id)
            if status == "removing":
                continue
            del self.kicks[member_id]
            if status == "removed":
                self.chat.status(f"Removed {one_line(name)}. The room switched to a new key without them.", tone="ok")
            else:
                self.chat.status(f"The server didn't confirm the removal of {one_line(name)} - don't trust this room",
                                 tone="warn")

    def do_lock(self, _argument, locked=True):
        """Stop newcomers (or, unlocked, let them in again)."""
        ack = self.chat.connection.call("admin_lock", {"locked": locked})
        if not ack.get("ok"):
            self.chat.status(f"Not changed: {ack.get('error', ack.get('code'))}", tone="warn")
            return
        self.chat.set_locked(locked)

    def do_unlock(self, argument):
        """Let people with the link join again."""
        self.do_lock(argument, locked=False)

    def do_extend(self, minutes):
        """Add 5 or 30 minutes (the server caps a room at 72 h)."""
        seconds = EXTEND_MINUTES.get(minutes.removesuffix("m").strip())
        if seconds is None:
            self.chat.status("Usage: /extend 5 or /extend 30 (minutes)")
            return
        ack = self.chat.connection.call("admin_extend", {"seconds": seconds})
        if not ack.get("ok"):
            self.chat.status(f"Not extended: {ack.get('error', ack.get('code'))}", tone="warn")
            return
        self.chat.status(f"Added {seconds // 60} min", tone="ok")
        if isinstance(ack.get("expires_at"), int) and isinstance(ack.get("now"), int):
            self.chat.show_countdown(ack["expires_at"], ack["now"], force=True)

    def do_burn(self, _argument):
        """Ask first: the burn is for everyone and cannot be undone."""
        self.burn_asked = True
        self.chat.status("Burn the room for everyone, now? Nothing of it can be brought back. Type yes to burn, "
                         "anything else to keep it.", tone="warn")

    def confirm_burn(self, answer):
        """The answer to do_burn's question."""
        self.burn_asked = False
        if answer.strip().lower() not in BURN_CONFIRM:
            self.chat.status("Not burned")
            return
        ack = self.chat.connection.call("admin_burn", {})
        if ack.get("ok"):
            self.chat.status("Burning...")
        else:
            self.chat.status(f"Not burned: {ack.get('error', ack.get('code'))}", tone="warn")
