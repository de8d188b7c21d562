"""Acknowledged sending (docs/PROTOCOL.md §6.6), mirroring static/js/sending.js.

The outbox of texts not sealed yet, the envelopes in flight whose outcome the server has not
given, and our chain head `acked`. Plain bookkeeping, no keys: session.py seals and tells this
module what it sealed and what the server answered. `acked` moves only on an acknowledgement,
so a refused envelope never leaves a hole in the chain receivers check.
"""

from . import crypto, envelope

# Refusals after which the very same envelope is sent again (§6.6); stale_epoch re-seals, any other code fails.
TRANSIENT_REFUSALS = frozenset({"rate_limited", "busy", "internal", "timeout", "offline", "no_answer"})


def _info(item, state, **extra):
    """The UI's view of a pending text."""
    return {"local_id": item["local_id"], "text": item["text"], "me": item["me"], "state": state, **extra}


class Sending:
    """Our texts and envelopes from queue() to the server's acknowledgement."""

    def __init__(self, acks):
        """`acks`: the caller reports every outcome; without it every envelope counts as sent when sealed."""
        self.acks = bool(acks)
        self._flight = []  # [{"envelope", "hash", "kind", "item", "again"}]: sealed, outcome not known
        self._outbox = []  # [{"local_id", "text", "me"}]: texts not sealed yet, in order
        self._local_ids = 0
        self._stale_epoch = 0  # the newest epoch the server refused as stale: nothing more is sealed under it
        self.acked = envelope.FIRST_PREV  # hash of our last acknowledged envelope: the next one's prev
        self.sent_count = 0  # our texts the server acknowledged

    @property
    def queued(self):
        """Texts waiting to be sealed."""
        return len(self._outbox)

    def can_seal_under(self, epoch):
        """True when a new envelope may be sealed under `epoch`: nothing pending, the epoch not refused as stale."""
        return not self._flight and epoch > self._stale_epoch

    def item(self, text, me):
        """A text to send: checked (empty, too_long) and given a local ID."""
        envelope.check_text(text)
        self._local_ids += 1
        return {"local_id": f"p{self._local_ids}", "text": text, "me": bool(me)}

    def file_item(self, body):
        """A file's metadata body to send (§6.7), queued and resent like a text."""
        self._local_ids += 1
        return {"local_id": f"p{self._local_ids}", "text": "", "me": False, "file": body}

    def enqueue(self, item, first=False):
        """Put `item` at the end of the outbox (or back at its front, `first`)."""
        if first:
            self._outbox.insert(0, item)
        else:
            self._outbox.append(item)

    def next_queued(self):
        """The next queued text, taken off the outbox, or None."""
        return self._outbox.pop(0) if self._outbox else None

    def track(self, sealed, digest, kind, item=None):
        """A sealed envelope: the entry, in flight with acks; without acks the caller acknowledges it at once."""
        entry = {"envelope": sealed, "hash": digest, "kind": kind, "item": item, "again": False}
        if self.acks:
            self._flight.append(entry)
        return entry

    def acknowledge(self, entry):
        """The server took `entry`: it is our chain head; True for a text (counted as sent)."""
        self.acked = crypto.b64u_encode(entry["hash"])
        if entry["kind"] not in ("text", "file") or entry["item"] is None:
            return False
        self.sent_count += 1
        return True

    def resend_all(self):
        """Everything in flight went out on a dropped socket: all of it is to be sent again, unchanged."""
        for entry in self._flight:
            entry["again"] = True

    def resendable(self, held_epoch):
        """With acks, before sealing anything new (§6.6).

        {"wait": True} while an outcome is awaited or the first envelope's epoch was refused as
        stale; {"envelope"} to send again unchanged; else {} (and the envelopes of an epoch older
        than `held_epoch` are requeued: "digest_dropped" says a digest was among them).
        """
        if any(not entry["again"] for entry in self._flight):
            return {"wait": True}
        if not self._flight:
            return {}
        first = self._flight[0]
        if held_epoch > first["envelope"]["epoch"]:
            return {"digest_dropped": self.requeue_stale(first["envelope"]["epoch"])}  # the room moved on
        if first["envelope"]["epoch"] <= self._stale_epoch:
            return {"wait": True}
        first["again"] = False
        return {"envelope": first["envelope"]}

    def _find(self, sealed):
        """The index of one of our pending envelopes, or -1."""
        if not isinstance(sealed, dict):
            return -1
        for index, entry in enumerate(self._flight):
            e = entry["envelope"]
            if (e["epoch"], e["seq"], e["sig"]) == (sealed.get("epoch"), sealed.get("seq"), sealed.get("sig")):
                return index
        return -1

    def take_sent(self, sealed):
        """The server acknowledged `sealed`: its entry taken out of flight, or None when not pending."""
        index = self._find(sealed)
        return None if index < 0 else self._flight.pop(index)

    def refused(self, sealed, code):
        """The server refused `sealed` with `code`: (the text's view with its state, or None; a digest dropped)."""
        index = self._find(sealed)
        if index < 0:
            return None, False
        entry = self._flight[index]
        state, extra, digest_dropped = "retry", {}, False
        if code == "stale_epoch":
            digest_dropped = self.requeue_stale(entry["envelope"]["epoch"])
            state = "queued"
        elif code in TRANSIENT_REFUSALS:
            entry["again"] = True
        else:
            self._flight.pop(index)
            state, extra = "failed", {"code": code}
        return (_info(entry["item"], state, **extra) if entry["item"] else None), digest_dropped

    def requeue_stale(self, epoch):
        """The server is past `epoch`: what we sealed under it never went out; its texts are queued again, first.

        True when a digest was among them (a fresh digest replaces it).
        """
        self._stale_epoch = max(self._stale_epoch, epoch)
        stale = [entry for entry in self._flight if entry["envelope"]["epoch"] <= epoch]
        self._flight = [entry for entry in self._flight if entry["envelope"]["epoch"] > epoch]
        self._outbox[:0] = [entry["item"] for entry in stale if entry["item"]]
        return any(entry["kind"] == "digest" for entry in stale)

    def pending(self):
        """Our texts not acknowledged yet, in send order: [{local_id, text, me, state}]."""
        flying = [_info(e["item"], "retry" if e["again"] else "sending") for e in self._flight if e["item"]]
        return flying + [_info(item, "queued") for item in self._outbox]
