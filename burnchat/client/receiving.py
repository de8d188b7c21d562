"""What arrives before it is opened (docs/PROTOCOL.md §5.5, §6.4), mirroring static/js/receiving.js.

The cheap envelope checks that need no crypto, and the bounded buffer of messages held back
until their epoch's key arrives. session.py opens what passes and keeps the transcript.
"""

from . import crypto, envelope
from .crypto import ProtocolError

MAX_HELD_MESSAGES = 64  # messages that may wait for their epoch's key (§5.5)
HOLD_BACK_SECONDS = 10  # and for how long


def should_hold(sealed, members, held_epoch, floor):
    """True for a message from a member (`members`: members.py) under an epoch above `held_epoch`, not below `floor`."""
    if not isinstance(sealed, dict) or not isinstance(sealed.get("sender"), str) or sealed.get("sender") not in members:
        return False
    epoch = sealed.get("epoch")
    return type(epoch) is int and held_epoch < epoch <= crypto.MAX_SAFE_INTEGER and epoch >= floor


def check_envelope(sealed, members, keys, floor):
    """§6.4 checks before any crypto, against the key held (or None); (envelope, sender, chain)."""
    env = envelope.check_envelope(sealed)
    sender = members.get(env["sender"])
    if sender is None:  # never ourselves: add_member refuses our own ID
        raise ProtocolError("not_member", "message from someone not accepted in the room")
    if env["epoch"] < floor or (keys and env["epoch"] != keys.epoch):
        raise ProtocolError("bad_epoch", "message not under the current key")
    if not keys:
        raise ProtocolError("not_ready", "the current room key is not held yet")
    chain = keys.chains.get(sender.member_id)
    if chain is None:
        raise ProtocolError("not_member", "the sender is not in this epoch's roster")
    return env, sender, chain


class HeldBack:
    """Messages under an epoch whose key is on its way, in arrival order, each until its deadline."""

    def __init__(self, now):
        """`now`: the clock (seconds)."""
        self._now = now
        self._held = []  # [(envelope, deadline)]

    def __len__(self):
        """Messages held."""
        return len(self._held)

    def hold(self, sealed):
        """Keep a message until its key arrives (bounded); a full buffer rejects it. None: nothing to show yet."""
        if len(self._held) >= MAX_HELD_MESSAGES:
            raise ProtocolError("not_ready", "too many messages waiting for their key")
        self._held.append((sealed, self._now() + HOLD_BACK_SECONDS))
        return None

    def take_all(self):
        """Take every held message out, in arrival order: [(envelope, deadline)]; keep() puts back what still waits."""
        waiting, self._held = self._held, []
        return waiting

    def keep(self, entry):
        """Put back a message taken by take_all() that still waits for its key, with its deadline."""
        self._held.append(entry)

    def clear(self):
        """Forget every held message (wipe)."""
        self._held.clear()
