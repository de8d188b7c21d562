"""No trace in memory: once a room burns, nothing of it is reachable in the server process.

The server runs with BURNCHAT_TEST_HOOKS=1, which adds one event,
`__introspect` (burnchat/introspect.py): given strings (sent reversed, so the
question never holds them), it runs the garbage collector and counts live
objects that reference a string containing one of them, and green threads
(countdown, key watchdog) whose frames still hold one.
"""

from tests.abuse.session import run_session
from tests.server import wait_for
from tests.wire import Peer


def introspect(sock, texts):
    """Ask the server what still holds any of `texts`."""
    answer = sock.call("__introspect", {"reversed": [t[::-1] for t in texts]}, timeout=20)
    assert answer["ok"], answer
    return answer


def test_the_introspection_hook_is_off_by_default(abuse_server, sockets):
    probe = sockets.raw(abuse_server.url)
    assert probe.call("__introspect", {"reversed": ["x" * 22]})["code"] == "unknown_event"


def test_nothing_of_a_burned_room_stays_in_memory(fresh_server, sockets):
    server = fresh_server({"BURNCHAT_TEST_HOOKS": "1"})
    probe = sockets.raw(server.url)
    session, peers, admin = run_session(server, burn=False)
    # One more member whose connection drops: away, with a kept message and a window timer.
    assert admin.call("admin_lock", {"locked": False}) == {"ok": True}
    dropped = Peer(server.url)
    joined = dropped.join(session.room["room"], resumable=True)
    assert joined["ok"], joined
    peers[0].wait_keyed(epoch=joined["epoch"])
    dropped.close()
    peers[0].wait_event("member_away")
    ack, sent = peers[0].send(seq=9)
    assert ack == {"ok": True}
    session.blobs += [sent["ct"], sent["sig"], dropped.member_id]
    alive = introspect(probe, session.secrets())
    # The hook does see a live room (so a zero below means something).
    assert alive["objects"] > 0 and alive["tasks"] >= 1, alive
    assert alive["holders"].get("Room") == 1 and alive["holders"].get("Member", 0) >= 2, alive

    assert admin.call("admin_burn") == {"ok": True}
    for peer in (*peers, admin):
        assert peer.disconnected.wait(5)

    last = {}

    def forgotten():
        last.update(introspect(probe, session.secrets()))
        return last["objects"] == 0 and last["tasks"] == 0

    try:
        wait_for(forgotten, timeout=8, interval=0.2, message="the room to be forgotten")
    except AssertionError:
        raise AssertionError(f"still reachable after the burn: {last}") from None
