"""A dropped network on the full-screen client: it reconnects and resumes its seat (docs/PROTOCOL.md §7.4),
or, once the seat is gone, says so plainly and joins again as someone new."""

import re

from burnchat.client import crypto
from burnchat.client.resume import AWAY_TOO_LONG
from tests.terminal.test_fullscreen import SECURED, token


def through(proxy, link):
    """The same room link, reached through `proxy`."""
    return re.sub(r"^http://[^/]+", proxy.url, link)


def alice_behind_a_proxy_and_bob(server, screens, chats, proxies):
    """A room where Alice (full screen, through a proxy the test can cut) and Bob (pipe) are secured."""
    created = server.create_room(ttl_seconds=120)
    link = f"{server.url}{created['url']}#{crypto.random_id()}"
    proxy = proxies(server)
    alice = screens(through(proxy, link), "Alice", "--no-animation")
    alice.wait(lambda screen: SECURED.search(screen))
    bob = chats(link, "Bob")
    bob.status("Secured")
    alice.wait("2 people")
    return alice, bob, proxy


def test_drop_then_resume_delivers_both_ways(live_server, screens, chats, proxies):
    """Cut the network: the screen says it reconnects, the others see "lost connection" then "back";
    what Bob said meanwhile arrives, and what Alice typed offline goes out once back."""
    alice, bob, proxy = alice_behind_a_proxy_and_bob(live_server, screens, chats, proxies)

    proxy.cut()
    alice.wait("Connection lost - reconnecting...")
    bob.status("Alice lost connection")
    while_away, offline = token("while-away"), token("typed-offline")
    bob.say(while_away)
    alice.line(offline)
    alice.wait("Reconnecting... (what you write waits)")
    proxy.allow()
    alice.wait("Reconnected: back in the room")
    bob.status("Alice is back")
    alice.wait(f"Bob: {while_away}")
    assert bob.wait_line("out", lambda line: True) == f"Alice: {offline}"
    alice.wait(f"Alice (you): {offline}")
    assert "didn't reach you" not in alice.capture() and "didn't reach you" not in bob.all_lines()


def test_away_too_long_says_so_and_rejoins_as_new(fresh_server, screens, chats, proxies):
    """Past the server's resume window the seat is gone: the screen says what was lost and joins again."""
    server = fresh_server({"BURNCHAT_RESUME_SECONDS": "1"})
    alice, bob, proxy = alice_behind_a_proxy_and_bob(server, screens, chats, proxies)

    proxy.cut()
    alice.wait("Connection lost - reconnecting...")
    bob.status("Alice disconnected")  # the 1 s window passed: the seat was let go
    gone = token("gone")
    bob.say(gone)
    proxy.allow()
    alice.wait(AWAY_TOO_LONG)
    bob.status("Alice joined")
    alice.wait(lambda screen: len(SECURED.findall(screen)) >= 3)
    back = token("back")
    alice.line(back)
    assert bob.wait_line("out", lambda line: back in line) == f"Alice: {back}"
    assert gone not in alice.capture(history=True)
