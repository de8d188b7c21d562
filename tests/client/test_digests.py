"""Transcript digests (PROTOCOL.md §6.5), mirroring tests/js/digests.test.mjs: a made-up head never
moves the chain we check, gaps name the digest sender, and a newcomer is not told of a gap from
before it held a key."""

from burnchat.client import envelope
from burnchat.client.session import DIGEST_GRACE_SECONDS, DIGEST_INTERVAL_SECONDS

from .roomsim import Clock, Room


def gaps(notices):
    """(member_id, count, other_id) of each gap notice."""
    return [(n["member_id"], n["count"], n["other_id"]) for n in notices if n["kind"] == "gap"]


def forged_digest(session, heads):
    """A digest from `session` carrying exactly `heads` (a lying member's own code can send one)."""
    return session._seal(envelope.digest_body(heads), "digest")


def test_a_fake_head_never_switches_off_gap_detection():
    """Mallory names Xavier far in the future: ignored; later drops are still gaps; an honest digest finds more."""
    clock = Clock()
    room = Room(["Mallory", "Bob", "Xavier", "Carol"], now=clock)
    room.rekey("Mallory")
    mallory, bob, xavier, carol = (room[k] for k in ("Mallory", "Bob", "Xavier", "Carol"))
    epoch = bob.held_epoch

    def send(text, to):
        sealed = xavier.seal(text)
        return [s.open(sealed) for s in to]

    send("x1", [bob, mallory, carol])
    bob.open(forged_digest(mallory, [[xavier.member_id, epoch + 1000, 1, "A" * 43]]))
    clock.advance(DIGEST_GRACE_SECONDS)
    assert gaps(bob.pending_notices()) == []
    for i in range(2, 5):
        send(f"x{i}", [mallory, carol])  # dropped for Bob
    [at_bob, *_] = send("x5", [bob, mallory, carol])
    assert [n["count"] for n in at_bob["notices"] if n["kind"] == "gap"] == [3]
    assert not any(n["kind"] == "late" for n in at_bob["notices"])
    for i in range(6, 8):
        send(f"x{i}", [mallory, carol])
    clock.advance(DIGEST_INTERVAL_SECONDS)
    bob.open(carol.make_digest())
    clock.advance(DIGEST_GRACE_SECONDS)
    assert gaps(bob.pending_notices()) == [(xavier.member_id, 2, carol.member_id)]


def test_a_reported_gap_is_not_counted_again_and_the_head_stays_real():
    """A gap a digest revealed is reported once; the resume head is what was really accepted."""
    clock = Clock()
    room = Room(["Ada", "Bob", "Cy"], now=clock)
    room.rekey("Ada")
    ada, bob, cy = room["Ada"], room["Bob"], room["Cy"]
    first = ada.seal("a1")
    bob.open(first)
    cy.open(first)
    bob.open(ada.seal("a2"))  # only Bob gets it
    clock.advance(DIGEST_INTERVAL_SECONDS)
    cy.open(bob.make_digest())
    clock.advance(DIGEST_GRACE_SECONDS)
    assert gaps(cy.pending_notices()) == [(ada.member_id, 1, bob.member_id)]
    third = ada.seal("a3")
    assert cy.open(third)["notices"] == []
    assert [ada.member_id, third["epoch"], third["seq"]] in cy.resume_payload()["heads"]


def test_a_newcomer_is_not_told_of_gaps_from_before_it_came():
    """An honest digest names X's messages of an epoch before N held any key: no gap for N."""
    clock = Clock()
    room = Room(["A", "X"], now=clock)
    room.rekey("A")
    room.send("X", "x1")
    room.send("X", "x2")
    room.send("A", "a1")
    room.join("N")
    room.rekey("A")
    clock.advance(DIGEST_INTERVAL_SECONDS + 1)
    room.send("A", "welcome N")
    result = room["N"].open(room["A"].make_digest())
    clock.advance(DIGEST_GRACE_SECONDS + 1)
    assert gaps(result["notices"]) == [] and gaps(room["N"].pending_notices()) == []
