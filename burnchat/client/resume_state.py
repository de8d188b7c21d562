"""Resuming on a new socket (docs/PROTOCOL.md §7.4), mirroring static/js/resume-state.js.

The resume secret and its hash for `join`, the heads the server replays from, and the reading
of a `resume` ack: which missed events to feed, which listed members no missed event explains.
session.py applies it under the normal floor rules.
"""

from . import crypto

MAX_RESUME_HEADS = 50  # `resume.heads` entries at most (§7.4)


def new_resume_secret():
    """A fresh resume secret R (b64u) and the resume_hash the `join` carries."""
    secret = crypto.random_id()
    return secret, crypto.b64u_encode(crypto.sha256(crypto.b64u_decode(secret)))


def resume_heads(last_accepted, self_id, members):
    """[sender, epoch, seq] of the last envelope accepted from each other member still here, at most MAX_RESUME_HEADS."""
    return [head for head in last_accepted if head[0] != self_id and head[0] in members][:MAX_RESUME_HEADS]


def read_resume_ack(ack):
    """Read a `resume` ack (its members list already checked): (missed, listing, joined_later, left_later).

    `missed` keeps the well-formed [event, data] pairs, `listing` the well-formed announcements;
    joined_later / left_later are the member IDs a missed member_joined / member_left explains,
    so reconciliation leaves them to it.
    """
    missed = [list(item) for item in ack.get("missed") or []
              if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)]

    def named(event):
        return {data.get("member_id") for name, data in missed
                if name == event and isinstance(data, dict) and isinstance(data.get("member_id"), str)}

    listing = [a for a in ack["members"] if isinstance(a, dict) and isinstance(a.get("member_id"), str)]
    return missed, listing, named("member_joined"), named("member_left")


def missed_events(missed, ack_epoch, epoch):
    """The events to feed in order: `missed`, then a rekey to ack.epoch when no missed rekey (nor `epoch`) reached it."""
    rekeyed = max([epoch] + [data["epoch"] for name, data in missed if name == "rekey"
                             and isinstance(data, dict) and type(data.get("epoch")) is int])
    events = list(missed)
    if type(ack_epoch) is int and ack_epoch > rekeyed:
        events.append(["rekey", {"epoch": ack_epoch, "creator": None, "passed_over": None}])
    return events
