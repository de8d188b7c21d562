"""One sender's chain in one epoch (docs/PROTOCOL.md §6.2): forward secrecy inside a room.

ck_1 comes from the epoch secret; mk_n = HMAC(ck_n, 0x01) is the AES-256-GCM key
of message n and ck_{n+1} = HMAC(ck_n, 0x02). A chain key is dropped once the
next one exists and a message key once its message is sealed or opened, so a
memory read later holds nothing that opens an earlier message.
"""

from collections import OrderedDict

from .crypto import ProtocolError, hmac_sha256

MAX_SKIP = 256  # a receiver ratchets at most this many steps past the next expected message
MAX_SKIPPED_KEYS = 64  # and keeps at most this many keys of skipped messages per sender

_MESSAGE_KEY = b"\x01"
_NEXT_CHAIN_KEY = b"\x02"


class Chain:
    """A sending chain: the sender seals with it, every receiver opens with its own copy."""

    def __init__(self, chain_key):
        """Start at ck_1 of this sender and epoch (§3)."""
        self._chain_key = bytes(chain_key)
        self._next = 1  # the message number whose key the chain key gives next
        self._skipped = OrderedDict()  # seq -> message key of a message not seen yet, oldest first
        self._dropped_up_to = 0  # skipped keys of seqs at or below this were evicted: too_old

    @property
    def next_seq(self):
        """The seq the chain gives a key for next (the sender's next message)."""
        return self._next

    @property
    def skipped(self):
        """The seqs whose message keys are held for late messages, oldest first."""
        return tuple(self._skipped)

    def seal_key(self):
        """(seq, message key) of the sender's next message; the chain moves past it at once."""
        seq = self._next
        message_key, self._chain_key = _step(self._chain_key)
        self._next += 1
        return seq, message_key

    def open(self, seq, use):
        """`use(message key of seq)`; the chain moves (and the key is dropped) only if `use` returns.

        Raises replay (opened before), too_old (its key was dropped from the window)
        or too_far (more than MAX_SKIP steps ahead). Returns (result, late) where
        late says the key came from the skipped keys.
        """
        if seq in self._skipped:
            result = use(self._skipped[seq])
            del self._skipped[seq]
            return result, True
        if seq < self._next:
            if seq <= self._dropped_up_to:
                raise ProtocolError("too_old", "the key of this message was dropped from the window")
            raise ProtocolError("replay", "this message was opened before")
        if seq - self._next > MAX_SKIP:
            raise ProtocolError("too_far", "the message is too far ahead of the chain")
        chain_key, skipped = self._chain_key, []
        for skipped_seq in range(self._next, seq):
            message_key, chain_key = _step(chain_key)
            skipped.append((skipped_seq, message_key))
        message_key, chain_key = _step(chain_key)
        result = use(message_key)  # a failure here leaves the chain as it was
        self._chain_key, self._next = chain_key, seq + 1
        for skipped_seq, key in skipped:
            self._skipped[skipped_seq] = key
        while len(self._skipped) > MAX_SKIPPED_KEYS:
            oldest, _key = self._skipped.popitem(last=False)
            self._dropped_up_to = max(self._dropped_up_to, oldest)
        return result, False

    def held_keys(self):
        """Every key this chain still holds (the chain key and the skipped message keys), for tests."""
        return [self._chain_key, *self._skipped.values()]

    def wipe(self):
        """Drop every key (when a newer epoch is held, or at the end)."""
        self._chain_key = None
        self._skipped.clear()


def _step(chain_key):
    """(mk_n, ck_{n+1}) from ck_n."""
    return hmac_sha256(chain_key, _MESSAGE_KEY), hmac_sha256(chain_key, _NEXT_CHAIN_KEY)
