"""The terminal client (`python -m burnchat.client`) against the real server, over pipes."""

import secrets

import pytest

from burnchat.client import crypto
from tests.wire import Peer
from tests.pins import pin_auth


def room_link(server, ttl_seconds=60):
    """A fresh room and its share link with a random secret: (room JSON, link, secret)."""
    room = server.create_room(ttl_seconds=ttl_seconds)
    secret = crypto.random_id()
    return room, f"{server.url}{room['url']}#{secret}", secret


def admin(server, room):
    """An admin connection to `room`, authenticated with its PIN; returns (peer, auth ack)."""
    peer = Peer(server.url)
    ack = peer.call("admin_auth", pin_auth(room["room"], room["pin"]))
    assert ack["ok"], ack
    return peer, ack


def safety_code_after(chat, prefix):
    """The safety code line printed after a status line starting with `prefix`."""
    chat.status(prefix)
    return chat.status("Safety code:")


def test_two_terminals_chat_then_burn(live_server, chats):
    """Same safety code, messages both ways, over-long lines refused, burn exits 0, server blind."""
    room, link, secret = room_link(live_server)
    alice = chats(link, "Alice")
    alice.status("Secured")
    bob = chats(link, "Bob")
    bob_code = bob.status("Safety code:")
    bob.status("Secured")
    assert bob_code == safety_code_after(alice, "Bob joined")
    assert len(bob_code.split(":", 1)[1].split("(")[0].replace(" ", "")) == 40  # the v2 code, of this epoch

    from_alice, from_bob = f"hello Bob ü🔥 {secrets.token_hex(4)}", f"hi Alice | {secrets.token_hex(4)}"
    alice.say("x" * (crypto.MAX_TEXT_BYTES + 1))
    alice.status("Not sent:")
    alice.say(from_alice)
    assert bob.wait_line("out", lambda line: True) == f"Alice: {from_alice}"  # the long line never came
    bob.say(from_bob)
    assert alice.wait_line("out", lambda line: True) == f"Bob: {from_bob}"

    for warning in ("didn't reach you", "changed on the way", "saw different messages", "don't match"):
        assert warning not in alice.all_lines() + bob.all_lines()  # honest relay, digests included: no notices

    burner, _ = admin(live_server, room)
    assert burner.call("admin_burn", {})["ok"]
    for chat in (alice, bob):
        assert chat.exit_code() == 0
        chat.status("Room burned")
    burner.close()

    server_output = live_server.output()
    for secret_text in ("Alice", "Bob", from_alice, from_bob, secret, "hello Bob", "hi Alice"):
        assert secret_text not in server_output


def test_room_expiry_burns_the_terminal(live_server, chats):
    """At zero the room burns by itself and the client says so and exits 0."""
    _room, link, _secret = room_link(live_server, ttl_seconds=3)
    alone = chats(link, "Solo")
    alone.status("Burns in")
    alone.status("Burns in 1 s")
    alone.status("Room burned")
    assert alone.exit_code() == 0


def test_piped_lines_wait_for_the_key_then_the_client_leaves(live_server, chats):
    """`echo text | client`: the line is sent once keyed, then EOF leaves the room cleanly."""
    _room, link, _secret = room_link(live_server)
    host = chats(link, "Host")
    host.status("Secured")
    piper = chats(link, "Piper", stdin_data="queued before the key\nsecond line\n")
    assert host.wait_line("out", lambda line: True) == "Piper: queued before the key"
    assert host.wait_line("out", lambda line: True) == "Piper: second line"
    assert piper.exit_code() == 0
    piper.status("Left the room")
    host.status("Piper left")
    host.proc.stdin.close()
    assert host.exit_code() == 0


def test_kicked_terminal_exits_3(live_server, chats):
    """The admin's kick ends the client with exit code 3."""
    room, link, _secret = room_link(live_server)
    guest = chats(link, "Guest")
    guest.status("Secured")
    kicker, ack = admin(live_server, room)
    assert kicker.call("admin_kick", {"member_id": ack["members"][0]["member_id"]})["ok"]
    assert guest.exit_code() == 3
    guest.status("You were removed")
    kicker.close()


def test_unknown_room_exits_2(live_server, chats):
    """A well-formed link to a room the server does not know ends with exit code 2."""
    link = f"{live_server.url}/r/{crypto.random_id()}#{crypto.random_id()}"
    chat = chats(link, "Lost")
    assert chat.exit_code() == 2
    chat.status("This room doesn't exist or has burned")


@pytest.mark.parametrize("link", ["http://127.0.0.1:1/r/short#x", "http://127.0.0.1:1/r/" + "A" * 22])
def test_bad_link_exits_2_without_connecting(chats, link):
    """A damaged link (or one without its #secret) is refused before any connection."""
    chat = chats(link, "Anyone")
    assert chat.exit_code() == 2
    chat.status("Bad link")


def test_ban_from_the_terminal_changes_the_link(live_server, chats):
    """/ban: the banned terminal exits 3, the others move to the new link, the old one admits nobody."""
    room, link, secret = room_link(live_server)
    ann = chats(link, "Ann")
    ann.status("Secured")
    bob = chats(link, "Bob")
    bob.status("Secured")
    cat = chats(link, "Cat")
    cat.status("Secured")
    ann.say(f"/admin {room['pin']}")
    ann.status("You hold the admin controls")
    ann.say("/ban Cat")
    assert cat.exit_code() == 3
    ann.status("You changed the room's link")
    bob.status("Ann changed the room's link")
    ann.say("/link")
    prefix = f"{live_server.url}/r/{room['room']}#"
    new_link = prefix + ann.status(prefix).split(prefix, 1)[1].strip()
    bob.say("/link")
    assert bob.status(prefix).endswith(new_link)
    assert new_link != link and secret not in new_link
    late = chats(link, "Late")
    assert late.exit_code() == 2
    late.status("This link is incomplete or wrong")
    dee = chats(new_link, "Dee")
    dee.status("Secured")
    assert "failed verification" not in dee.all_lines()
    dee.say("hi from the new link")
    assert bob.wait_line("out", lambda line: "new link" in line) == "Dee: hi from the new link"
