"""Small pure rules: token bucket, address limits, client address, schemas, store, room caps."""

import hashlib

import pytest

from burnchat import config, schemas
from burnchat.limits import AddressLimiter, TokenBucket
from burnchat.rooms import Member, Room, RoomError, b64u_bytes
from burnchat.security import client_address, security_headers
from burnchat.store import MemoryRoomStore
from tests.pins import TEST_SALT, proof
from tests.unit.fakes import FakeClock
from tests.wire import announcement, b64u, envelope


def test_token_bucket_lets_a_fast_typist_through_and_stops_a_flood():
    clock = FakeClock()
    bucket = TokenBucket(clock, rate=2, burst=10)
    assert all(bucket.take() for _ in range(10))
    assert not bucket.take()
    clock.advance(0.5)
    assert bucket.take() and not bucket.take()
    clock.advance(60)
    assert sum(bucket.take() for _ in range(20)) == 10  # never more than the burst


def test_address_limiter_counts_per_address_in_a_sliding_window():
    clock = FakeClock()
    limiter = AddressLimiter(clock, limit=3, window=60)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    clock.advance(60.1)
    assert limiter.allow("a")


@pytest.mark.parametrize("trusted, header, expected", [
    (0, "6.6.6.6", "10.0.0.1"),                   # header ignored without trusted proxies
    (1, "6.6.6.6", "6.6.6.6"),
    (1, "1.1.1.1, 9.9.9.9", "9.9.9.9"),            # prepended fake entries do not count
    (2, "1.1.1.1, 9.9.9.9, 8.8.8.8", "9.9.9.9"),
    (2, "8.8.8.8", "10.0.0.1"),                    # too short: did not pass all our proxies
    (1, "", "10.0.0.1"),
])
def test_client_address(trusted, header, expected):
    environ = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": header}
    assert client_address(environ, trusted) == expected


def test_csp_is_strict_and_hsts_only_over_https():
    headers = security_headers("example.org", https=False)
    csp = headers["Content-Security-Policy"]
    assert "unsafe" not in csp and "frame-ancestors 'none'" in csp and "ws://example.org" in csp
    assert "Strict-Transport-Security" not in headers
    assert "wss://example.org" in security_headers("example.org", https=True)["Content-Security-Policy"]


def test_schemas_accept_the_protocol_shapes():
    join = schemas.parse(schemas.Join, {"v": 2, "room": b64u(16), **announcement()})
    assert set(join.announcement()) == {"member_id", "ecdh_pub", "sig_pub", "enc_name", "mac"}
    for size in config.BODY_SIZE_CLASSES:
        env = envelope(b64u(16), 1, 1, padded_bytes=size)
        assert schemas.parse(schemas.Envelope, env).wire() == env


@pytest.mark.parametrize("change", [
    {"ct": b64u(config.BODY_SIZE_CLASSES[-1] * 2 + 16)},  # above the largest size class
    {"ct": b64u(300 + 16)},                            # not padded to a size class
    {"ct": "A" * 25},                                  # a length no byte string encodes to
    {"iv": b64u(12)[:-1] + "+"},                       # not base64url
    {"prev": b64u(31)}, {"prev": None},                # the hash chain link is 32 bytes
    {"seq": "1"}, {"seq": 0}, {"epoch": True}, {"v": "2"},
    {"sender": "short"}, {"extra": 1}, {"sig": b"x" * 86},
])
def test_schemas_refuse_bad_envelopes(change):
    env = {**envelope(b64u(16), 1, 1), **change}
    with pytest.raises(schemas.InvalidPayload):
        schemas.parse(schemas.Envelope, env)


def test_room_refuses_when_locked_or_full_and_duplicate_member_ids():
    clock = FakeClock()
    room = Room(b64u(16), b"", b"", clock(), clock() + 60)

    def member(member_id=None):
        return Member(member_id or b64u(16), "sid", announcement())
    first = member()
    room.add_member(first, max_members=2)
    with pytest.raises(RoomError, match="already"):
        room.add_member(member(first.member_id), max_members=2)
    room.add_member(member(), max_members=2)
    with pytest.raises(RoomError) as full:
        room.add_member(member(), max_members=2)
    assert full.value.code == "room_full"
    room.locked = True
    with pytest.raises(RoomError) as locked:
        room.add_member(member(), max_members=50)
    assert locked.value.code == "locked"


def test_store_pops_a_room_once():
    clock = FakeClock()
    store = MemoryRoomStore()
    room = Room(b64u(16), b"", b"", clock(), clock() + 60)
    store.add(room)
    assert store.get(room.room_id) is room and len(store) == 1
    assert store.pop(room.room_id) is room and store.pop(room.room_id) is None
    assert store.get(room.room_id) is None and store.room_ids() == []


def test_room_round_trips_through_plain_data_for_shared_stores():
    clock = FakeClock()
    room = Room(b64u(16), b64u_bytes(TEST_SALT), hashlib.sha256(b64u_bytes(proof("ABCD-EFGH"))).digest(),
                clock(), clock() + 60, owner="p1")
    room.add_member(Member(b64u(16), "sid1", announcement(), held_epoch=2), max_members=50)
    room.admin_sids.add("sid9")
    room.keys.epoch = 2
    room.keys.passed_over.add("x")
    with pytest.raises(RoomError):
        room.check_pin(b64u_bytes(proof("2222-2222")), "1.1.1.1", clock)
    import json
    copy = Room.from_dict(json.loads(json.dumps(room.to_dict())))
    assert copy == room
    copy.check_pin(b64u_bytes(proof("ABCD-EFGH")), "2.2.2.2", clock)


@pytest.mark.parametrize("address, key", [
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:10.0.0.7", "10.0.0.7"),
    ("10.0.0.7", "10.0.0.7"),
])
def test_ipv6_clients_are_counted_by_their_64_network(address, key):
    assert client_address({"REMOTE_ADDR": address}, 0) == key
