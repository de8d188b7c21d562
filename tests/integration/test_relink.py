"""Kick and change the link (PROTOCOL.md §5.6) against a real server: the old link admits nobody."""

import base64
import hashlib

import pytest

from tests.integration.test_rooms_live import close_all, peers_in_room
from tests.wire import Peer, announcement, b64u
from tests.pins import pin_auth


def join_key_and_hash():
    """A join key as a link would give it, and the hash the server keeps."""
    key = b64u(32)
    raw = base64.urlsafe_b64decode(key + "=")
    return key, base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).rstrip(b"=").decode()


def test_kick_and_change_the_link_bans_the_old_link(live_server):
    room, (alice, bob, carol) = peers_in_room(live_server, 3)
    assert bob.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    new_key, new_hash = join_key_and_hash()
    kicked = bob.call("admin_kick", {"member_id": carol.member_id, "join_key_hash": new_hash})
    assert kicked["ok"] and kicked["creator"] is True
    rekey = alice.wait_event("rekey", lambda d: d["epoch"] == kicked["epoch"])
    assert rekey["relink"] == bob.member_id and rekey["creator"] == bob.member_id
    assert carol.wait_event("kicked") == {}

    # The old link (no join key here, any other key alike) no longer admits; the new one does.
    stale, wrong = Peer(live_server.url), Peer(live_server.url)
    assert stale.join(room["room"])["code"] == "bad_link"
    assert wrong.join(room["room"], join_key=join_key_and_hash()[0])["code"] == "bad_link"
    alice.wait_keyed(epoch=kicked["epoch"])

    # Members announce themselves again under the new link, once; joiners get that announcement.
    fresh = announcement(alice.member_id)
    again = {"enc_name": fresh["enc_name"], "mac": fresh["mac"]}
    assert alice.call("announce", again) == {"ok": True}
    heard = bob.wait_event("member_announced")
    assert heard["member_id"] == alice.member_id and heard["mac"] == fresh["mac"]
    assert alice.call("announce", again)["code"] == "invalid"
    newcomer = Peer(live_server.url)
    ack = newcomer.join(room["room"], join_key=new_key)
    assert ack["ok"]
    listed = {m["member_id"]: m for m in ack["members"]}
    assert listed[alice.member_id]["enc_name"] == fresh["enc_name"]
    assert carol.member_id not in listed
    close_all(alice, bob, carol, stale, wrong, newcomer)


def test_change_the_link_alone_starts_an_epoch_the_admin_makes(live_server):
    room, (alice, bob) = peers_in_room(live_server, 2)
    assert alice.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    before = alice.epoch_held
    _, new_hash = join_key_and_hash()
    ack = alice.call("admin_relink", {"join_key_hash": new_hash})
    assert ack == {"ok": True, "epoch": before + 1, "creator": True}
    assert bob.wait_event("rekey", lambda d: d["epoch"] == ack["epoch"])["relink"] == alice.member_id
    bob.wait_keyed(epoch=ack["epoch"])
    assert Peer(live_server.url).join(room["room"])["code"] == "bad_link"
    close_all(alice, bob)


@pytest.mark.parametrize("payload", [{}, {"join_key_hash": "short"}, {"join_key_hash": b64u(32), "x": 1}])
def test_relink_payloads_are_checked(live_server, payload):
    room, (alice,) = peers_in_room(live_server, 1)
    assert alice.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    assert alice.call("admin_relink", payload)["code"] == "invalid"
    close_all(alice)


def test_only_an_admin_inside_the_room_can_change_the_link(live_server):
    room, (alice, bob) = peers_in_room(live_server, 2)
    _, new_hash = join_key_and_hash()
    assert alice.call("admin_relink", {"join_key_hash": new_hash})["code"] == "not_admin"
    watcher = Peer(live_server.url)  # the /admin page: admin rights, no member, no key
    assert watcher.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    assert watcher.call("admin_relink", {"join_key_hash": new_hash})["code"] == "not_member"
    refused = watcher.call("admin_kick", {"member_id": bob.member_id, "join_key_hash": new_hash})
    assert refused["code"] == "not_member"
    assert not bob.named("kicked")  # a refused relink kicks nobody
    assert alice.call("announce", {"enc_name": b64u(160), "mac": b64u(32)})["code"] == "invalid"
    assert alice.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    self_ban = alice.call("admin_kick", {"member_id": alice.member_id, "join_key_hash": new_hash})
    assert self_ban["code"] == "invalid" and "yourself" in self_ban["error"]
    close_all(alice, bob, watcher)
