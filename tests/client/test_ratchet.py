"""Sending chains (ratchet.py, docs/PROTOCOL.md §6.2): properties over arbitrary delivery orders."""

from hypothesis import given, settings
from hypothesis import strategies as st

from burnchat.client import crypto
from burnchat.client.crypto import ProtocolError
from burnchat.client.ratchet import MAX_SKIP, MAX_SKIPPED_KEYS, Chain
from tests.client.helpers import code_of

CK1 = bytes(range(32))


def message_keys(count):
    """mk_1..mk_count computed straight from the spec's formulas (independent of Chain)."""
    keys, ck = [], CK1
    for _ in range(count):
        keys.append(crypto.hmac_sha256(ck, b"\x01"))
        ck = crypto.hmac_sha256(ck, b"\x02")
    return keys


def opener(seq):
    """A `use` callback that returns the key it was given, tagged with the seq."""
    return lambda key: (seq, key)


def test_sender_keys_follow_the_spec():
    """The sender's seal_key gives mk_1, mk_2, ... with seq 1, 2, ..."""
    chain, expected = Chain(CK1), message_keys(5)
    assert [chain.seal_key() for _ in range(5)] == list(enumerate(expected, start=1))


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(1, 41)))
def test_every_message_opens_exactly_once_in_any_order(order):
    """Within the window, any delivery order opens each message once with its own key; replays fail."""
    chain, expected = Chain(CK1), message_keys(40)
    for seq in order:
        (got_seq, key), late = chain.open(seq, opener(seq))
        assert (got_seq, key) == (seq, expected[seq - 1])
        assert late == (seq < max(order[: order.index(seq) + 1]))
        assert code_of(lambda seq=seq: chain.open(seq, opener(seq))) == "replay"
    assert chain.skipped == ()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=60, unique=True))
def test_used_keys_are_gone(seqs):
    """After opening, no message key used and no earlier chain key is held; skipped keys stay bounded."""
    chain, expected = Chain(CK1), message_keys(121)
    used = set()
    for seq in seqs:
        try:
            chain.open(seq, opener(seq))
            used.add(expected[seq - 1])
        except ProtocolError as exc:
            assert exc.code == "too_old"
        held = set(chain.held_keys())
        assert not held & used
        assert CK1 not in held or chain.next_seq == 1
        assert len(chain.skipped) <= MAX_SKIPPED_KEYS


def test_a_failed_open_changes_nothing():
    """When decryption fails the chain does not move: the genuine message still opens."""
    chain = Chain(CK1)

    def fail(_key):
        raise ProtocolError("decrypt_failed")

    assert code_of(lambda: chain.open(5, fail)) == "decrypt_failed"
    assert chain.next_seq == 1 and chain.skipped == ()
    assert chain.open(5, opener(5))[0] == (5, message_keys(5)[4])


def test_too_far_ahead_fails_cleanly():
    """More than 256 steps ahead is too_far and leaves the chain as it was."""
    chain = Chain(CK1)
    assert code_of(lambda: chain.open(MAX_SKIP + 2, opener(0))) == "too_far"
    assert chain.next_seq == 1
    assert chain.open(MAX_SKIP + 1, opener(0))[0][1] == message_keys(MAX_SKIP + 1)[-1]


def test_only_the_newest_64_skipped_keys_stay():
    """Skipping 100 keeps keys 37..100; 36 is too_old, 37 still opens (late), once."""
    chain = Chain(CK1)
    chain.open(101, opener(101))
    assert chain.skipped == tuple(range(37, 101))
    assert code_of(lambda: chain.open(36, opener(36))) == "too_old"
    assert code_of(lambda: chain.open(1, opener(1))) == "too_old"
    assert chain.open(37, opener(37)) == ((37, message_keys(37)[-1]), True)
    assert code_of(lambda: chain.open(37, opener(37))) == "replay"


def test_wipe_drops_everything():
    """A wiped chain holds no key."""
    chain = Chain(CK1)
    chain.open(3, opener(3))
    chain.wipe()
    assert chain.held_keys() == [None]
