"""One full Burn Chat session against a real server, remembering every secret it showed the server.

The no-trace tests replay it and then look for those secrets in the server's
output, its files and its memory.
"""

from dataclasses import dataclass, field

import requests

from tests.abuse.helpers import keyed_room
from tests.wire import Peer, b64u, envelope
from tests.pins import pin_auth


@dataclass
class Session:
    """What a session revealed to the server: identifiers, PIN, blobs."""

    room: dict
    member_ids: list = field(default_factory=list)
    blobs: list = field(default_factory=list)  # enc_names and ciphertexts

    def secrets(self):
        """Every string that must leave no trace once the room has burned."""
        pin = self.room["pin"]
        return [self.room["room"], pin, pin.replace("-", ""), *self.member_ids, *self.blobs]


def run_session(server, burn=True):
    """Create, join three, chat, fumble the PIN, kick, lock, extend, then (optionally) burn.

    Returns (Session, peers still connected, the admin Peer).
    """
    room, peers = keyed_room(server, 3)
    session = Session(room)
    requests.get(f"{server.url}/r/{room['room']}", timeout=5)  # the pages see the ID too
    requests.get(f"{server.url}/r/{room['room']}/admin", timeout=5)
    for peer in peers:
        session.member_ids.append(peer.member_id)
    alice, bob, carol = peers
    for seq, (sender, receiver) in enumerate([(alice, bob), (bob, alice), (carol, alice)], 1):
        sent = envelope(sender.member_id, sender.epoch_held, seq, padded_bytes=512)
        assert sender.call("message", sent) == {"ok": True}
        receiver.wait_event("message", lambda env, sent=sent: env["ct"] == sent["ct"])
        session.blobs += [sent["ct"], sent["sig"]]

    admin = Peer(server.url)
    assert admin.call("admin_auth", pin_auth(room["room"], "2222-2222"))["code"] == "bad_pin"
    assert admin.call("admin_auth", pin_auth(room["room"], "3333-3333"))["code"] == "bad_pin"
    auth = admin.call("admin_auth", pin_auth(room["room"], room["pin"]))
    for member in auth["members"]:
        session.blobs += [member["enc_name"], member["mac"], member["ecdh_pub"], member["sig_pub"]]
    before = alice.epoch_held
    assert admin.call("admin_kick", {"member_id": carol.member_id})["ok"]
    assert carol.disconnected.wait(5)
    alice.wait_keyed(epoch=before + 1), bob.wait_keyed(epoch=before + 1)
    assert admin.call("admin_lock", {"locked": True}) == {"ok": True}
    assert admin.call("admin_extend", {"seconds": 300})["ok"]
    late = envelope(alice.member_id, alice.epoch_held, 4, padded_bytes=256)
    assert alice.call("message", late) == {"ok": True}
    bob.wait_event("message", lambda env: env["ct"] == late["ct"])
    session.blobs += [late["ct"], late["sig"]]
    # A file on its way when the room burns: its chunks must leave no trace either.
    transfer = b64u(16)
    for index in range(2):
        chunk = {"transfer": transfer, "index": index, "total": 3, "ct": b64u(64 * 1024 + 16)}
        assert alice.call("file_chunk", chunk) == {"ok": True}
        bob.wait_event("file_chunk", lambda c, ct=chunk["ct"]: c["ct"] == ct)
        session.blobs += [chunk["ct"][:64]]  # a prefix: the probe's own frame must stay small
    session.member_ids.append(transfer)
    if burn:
        assert admin.call("admin_burn") == {"ok": True}
        for peer in (alice, bob, admin):
            assert peer.wait_event("destroyed") == {"reason": "burned"}
            assert peer.disconnected.wait(5)
    return session, [alice, bob], admin
