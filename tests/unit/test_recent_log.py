"""The relay's memory of recent envelopes (burnchat/relay.py RecentLog): bounded per room by
count and bytes, in total, by time, and forgotten with the room - on an injected clock."""

from burnchat import relay
from burnchat.relay import RecentLog
from tests.unit.fakes import FakeClock


def envelope(sender, seq, ct_chars=100, epoch=1):
    return {"sender": sender, "epoch": epoch, "seq": seq, "ct": "A" * ct_chars}


def test_a_room_keeps_its_newest_envelopes_within_count_and_bytes():
    log = RecentLog(FakeClock(), window=60)
    for seq in range(1, relay.RECENT_PER_ROOM + 11):
        log.add("room", envelope("a", seq))
    kept = log.since("room", {}, exclude_sender=None)
    assert [e["seq"] for e in kept] == list(range(11, relay.RECENT_PER_ROOM + 11))
    big = (relay.RECENT_BYTES_PER_ROOM // 3) - 200
    for seq in range(1, 5):
        log.add("big", envelope("b", seq, ct_chars=big))
    assert [e["seq"] for e in log.since("big", {}, None)] == [2, 3, 4]  # 4 would pass the byte cap
    assert log._bytes == 64 * 300 + 3 * (big + 200)


def test_heads_exclude_what_a_member_has_and_its_own_envelopes():
    log = RecentLog(FakeClock(), window=60)
    for sender, seq in [("a", 1), ("b", 1), ("a", 2), ("b", 2)]:
        log.add("room", envelope(sender, seq))
    assert [(e["sender"], e["seq"]) for e in log.since("room", {"a": (1, 1)}, "b")] == [("a", 2)]


def test_rooms_expire_after_the_window_and_burned_rooms_are_forgotten():
    clock = FakeClock()
    log = RecentLog(clock, window=60)
    log.add("old", envelope("a", 1))
    clock.advance(30)
    log.add("new", envelope("a", 1))
    clock.advance(31)
    assert log.since("old", {}, None) == [] and len(log.since("new", {}, None)) == 1
    log.forget("new")
    assert log.since("new", {}, None) == [] and log._bytes == 0
