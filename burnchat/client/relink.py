"""Changing the room's link (PROTOCOL.md §5.6), as bookkeeping: the admin's new secret until the server
acknowledges the `link` message carrying it, and the one member a `rekey` named as the sender of the
link message we accept. No keys, no network: session.py seals, opens and adopts (relink.js's twin)."""

from . import crypto
from .crypto import ProtocolError

MAX_DEFERRED = 64  # announcements kept unchecked while a link change is under way (more are refused)


def is_secret(value):
    """True for a 16-byte b64u link secret."""
    try:
        crypto.b64u_decode(value, crypto.ID_BYTES)
    except (ProtocolError, TypeError, ValueError):
        return False
    return isinstance(value, str)


class LinkChange:
    """A link change we make (as the admin) or await (as a member)."""

    def __init__(self):
        self._awaited = None  # (epoch, by): a `rekey` said `by` changes the link from `epoch` on
        self._ours = None  # {"secret", "epoch", "sealed_under", "roster"} until the server takes our link message
        self._deferred = []  # announcements that arrived meanwhile: checked under the new link once we hold it

    @property
    def changing(self):
        """True from our prepare() or a relink `rekey` until the new link is ours.

        Meanwhile no announcement is accepted under the old link: the banned member holds it, and a
        lying server could seat them again under a new ID before the new secret goes out.
        """
        return self._awaited is not None or self._ours is not None

    def defer(self, announcement):
        """Keep `announcement` to check under the new link; False when too many wait already."""
        if len(self._deferred) >= MAX_DEFERRED:
            return False
        self._deferred.append(announcement)
        return True

    def take_deferred(self):
        """The announcements kept meanwhile, in arrival order."""
        taken, self._deferred = self._deferred, []
        return taken

    def note_rekey(self, epoch, by, self_id, is_member):
        """A `rekey` of a newer `epoch` naming `by`: ours to seal, or someone's to await."""
        if not isinstance(by, str):
            return
        if by == self_id:
            if self._ours is not None and self._ours["epoch"] is None:
                self._ours["epoch"] = epoch
        elif is_member(by):
            self._awaited = (epoch, by)

    def prepare(self, roster_ids):
        """A fresh link secret S' -> (secret, join_key_hash); S' is only ever sealed for `roster_ids`.

        busy while a change is under way: one at a time, or an acknowledgement could adopt a
        secret other than the one the others got.
        """
        if self.changing:
            raise ProtocolError("busy")
        secret = crypto.random_id()
        _, join_key_hash = crypto.derive_join_key(secret)
        self._ours = {"secret": secret, "epoch": None, "sealed_under": 0, "roster": set(roster_ids)}
        return secret, join_key_hash

    def cancel(self):
        """The server refused the admin request: nothing changes."""
        self._ours = None

    def body_for(self, held_epoch, roster_ids):
        """Our link body to seal under `held_epoch` (roster `roster_ids`), or None: once per epoch, from the
        epoch the rekey named, and only for members we accepted before the change began."""
        ours = self._ours
        if ours is None or ours["epoch"] is None or held_epoch < ours["epoch"] or held_epoch <= ours["sealed_under"]:
            return None
        if not set(roster_ids) <= ours["roster"]:
            return None
        ours["sealed_under"] = held_epoch  # refused as stale, it is sealed again under the next epoch
        return {"t": "link", "secret": ours["secret"]}

    def take_ours(self):
        """The server acknowledged our link message -> our secret (to adopt), or None."""
        secret = self._ours["secret"] if self._ours else None
        self._ours = None
        return secret

    def accept(self, member_id, epoch, body):
        """The secret of a `link` body from `member_id` under `epoch`, if the awaited sender sent it; else None."""
        awaited = self._awaited
        if awaited is None or member_id != awaited[1] or epoch < awaited[0] or not is_secret(body.get("secret")):
            return None
        self._awaited = None
        return body["secret"]
