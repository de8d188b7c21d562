"""File chunks over real sockets: relayed in order, acknowledged by the receivers, bounded."""

import threading
import time

import pytest

from burnchat.config import FILE_CHUNK_BYTES, FILE_WINDOW, MAX_FRAME_BYTES, file_chunk_count
from tests.abuse.rawsocket import RawSocket
from tests.integration.test_rooms_live import close_all, peers_in_room
from tests.server import wait_for
from tests.wire import Peer, b64u


def chunk(transfer, index, total, size=FILE_CHUNK_BYTES):
    """A well-formed (meaningless) file chunk: `size` padded plaintext bytes plus the GCM tag."""
    return {"transfer": transfer, "index": index, "total": total, "ct": b64u(size + 16)}


def last_size(index, total):
    return FILE_CHUNK_BYTES if index < total - 1 else 1024


def receiving(peer, hold=None):
    """Make `peer` record its file chunks; with `hold` (an Event) it acknowledges only once set."""
    peer.chunks = []

    def on_chunk(data):
        if hold is not None:
            hold.wait(10)
        peer.chunks.append(data)
        return {"ok": True}

    peer.client.on("file_chunk", on_chunk)
    return peer


def send_file(sender, transfer, total):
    """Send every chunk, a window at a time, as a client would; returns the acks in order."""
    acks = [None] * total
    threads = []
    for index in range(total):
        def one(index=index):
            acks[index] = sender.call("file_chunk", chunk(transfer, index, total,
                                                          last_size(index, total)), timeout=20)
        wait_for(lambda: sum(t.is_alive() for t in threads) < FILE_WINDOW, timeout=20)
        thread = threading.Thread(target=one)
        thread.start()
        threads.append(thread)
        time.sleep(0.01)  # emits leave in order
    for thread in threads:
        thread.join(25)
    return acks


def test_a_file_reaches_every_receiver_in_order_and_only_them(live_server):
    room, (alice, bob, carol) = peers_in_room(live_server, 3)
    receiving(bob), receiving(carol)
    transfer, total = b64u(16), 5
    acks = send_file(alice, transfer, total)
    assert acks == [{"ok": True}] * total
    for peer in (bob, carol):
        wait_for(lambda peer=peer: len(peer.chunks) == total, message="every chunk")
        assert [c["index"] for c in peer.chunks] == list(range(total))
        assert {c["sender"] for c in peer.chunks} == {alice.member_id}
        assert {c["transfer"] for c in peer.chunks} == {transfer}
    assert alice.named("file_chunk") == []
    # Done: a new file may start.
    assert alice.call("file_chunk", chunk(b64u(16), 0, 1, 1024)) == {"ok": True}
    close_all(alice, bob, carol)


def test_one_file_at_a_time_in_order_and_within_the_limit(live_server):
    room, (alice, bob) = peers_in_room(live_server, 2)
    receiving(bob)
    transfer = b64u(16)
    assert alice.call("file_chunk", chunk(transfer, 0, 3)) == {"ok": True}
    assert alice.call("file_chunk", chunk(b64u(16), 0, 2))["code"] == "file_busy"
    assert alice.call("file_chunk", chunk(transfer, 2, 3, 1024))["code"] == "invalid"  # skips 1
    assert alice.call("file_chunk", chunk(transfer, 1, 4))["code"] == "invalid"  # another total
    too_many = file_chunk_count(16 * 1024 * 1024) + 1
    assert bob.call("file_chunk", chunk(b64u(16), 0, too_many))["code"] == "too_big"
    assert alice.call("file_cancel", {"transfer": transfer}) == {"ok": True}
    cancel = bob.wait_event("file_cancel")
    assert cancel == {"sender": alice.member_id, "transfer": transfer, "reason": "cancelled"}
    assert alice.call("file_chunk", chunk(b64u(16), 0, 1, 4096)) == {"ok": True}  # free again
    close_all(alice, bob)


def test_the_window_holds_chunks_until_the_receivers_take_them(live_server):
    room, (alice, bob) = peers_in_room(live_server, 2)
    hold = threading.Event()
    receiving(bob, hold)
    transfer, total = b64u(16), 8
    results = {}

    def send(index):
        results[index] = alice.call("file_chunk", chunk(transfer, index, total), timeout=20)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(FILE_WINDOW)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    time.sleep(0.3)
    assert results == {}, "no chunk is acknowledged before its receiver took it"
    assert alice.call("file_chunk", chunk(transfer, FILE_WINDOW, total))["code"] == "busy"
    hold.set()
    for thread in threads:
        thread.join(15)
    assert list(results.values()) == [{"ok": True}] * FILE_WINDOW
    assert alice.call("file_chunk", chunk(transfer, FILE_WINDOW, total)) == {"ok": True}
    close_all(alice, bob)


def test_a_receiver_too_slow_is_left_out_and_the_file_goes_on(fresh_server):
    server = fresh_server({"BURNCHAT_FILE_ACK_SECONDS": "0.5"})
    room, (alice, bob, carol) = peers_in_room(server, 3)
    hold = threading.Event()
    receiving(bob, hold), receiving(carol)
    transfer = b64u(16)
    started = time.monotonic()
    assert alice.call("file_chunk", chunk(transfer, 0, 3)) == {"ok": True}
    assert 0.4 < time.monotonic() - started < 5
    assert alice.call("file_chunk", chunk(transfer, 1, 3)) == {"ok": True}
    hold.set()
    assert bob.wait_event("file_cancel")["reason"] == "slow"
    wait_for(lambda: len(carol.chunks) == 2 and len(bob.chunks) == 1)
    assert [c["index"] for c in bob.chunks] == [0]
    close_all(alice, bob, carol)


def test_a_sender_leaving_cancels_its_file_and_a_late_joiner_gets_none(live_server):
    room, (alice, bob) = peers_in_room(live_server, 2)
    receiving(bob)
    transfer = b64u(16)
    assert alice.call("file_chunk", chunk(transfer, 0, 3)) == {"ok": True}
    late = receiving(Peer(live_server.url))
    assert late.join(room["room"])["ok"]
    assert alice.call("file_chunk", chunk(transfer, 1, 3)) == {"ok": True}
    alice.close()
    assert bob.wait_event("file_cancel")["reason"] == "gone"
    assert late.chunks == [] and late.named("file_cancel") == []
    close_all(bob, late)


def test_the_room_byte_budget(fresh_server):
    server = fresh_server({"BURNCHAT_FILE_BYTES_PER_MINUTE": str(3 * 88000)})
    room, (alice, bob) = peers_in_room(server, 2)
    receiving(bob)
    transfer = b64u(16)
    for index in range(3):
        assert alice.call("file_chunk", chunk(transfer, index, 6)) == {"ok": True}
    refused = alice.call("file_chunk", chunk(transfer, 3, 6))
    assert refused["code"] == "rate_limited"
    close_all(alice, bob)


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
@pytest.mark.parametrize("event", ["file_chunk", "message"])
def test_only_a_chunk_frame_may_be_bigger_than_the_old_cap(fresh_server, event, async_mode):
    server = fresh_server({"BURNCHAT_ASYNC_MODE": async_mode})
    room, (alice,) = peers_in_room(server, 1)
    raw = RawSocket(server.url)
    assert raw.handshake["maxPayload"] > MAX_FRAME_BYTES
    ack_id = raw.next_id()
    head = f'42{ack_id}["{event}",{{"pad":"'
    raw.send_text(head + "A" * (MAX_FRAME_BYTES + 10 - len(head) - 3) + '"}]')
    if event == "file_chunk":
        assert raw.read_ack(ack_id)["code"] == "invalid"  # parsed, refused, still open
    else:
        assert raw.wait_closed(), "a big frame of any other event closes the connection"
    raw.close()
    close_all(alice)


def test_a_receiver_dropping_mid_chunk_does_not_stall_the_sender(live_server):
    room = live_server.create_room(60)
    alice, bob = Peer(live_server.url), Peer(live_server.url)
    assert alice.join(room["room"])["ok"]
    assert bob.join(room["room"], resumable=True)["ok"]  # its seat is kept: away, not gone
    alice.wait_keyed(epoch=2), bob.wait_keyed(epoch=2)
    hold = threading.Event()
    receiving(bob, hold)
    answers = []
    sender = threading.Thread(target=lambda: answers.append(
        alice.call("file_chunk", chunk(b64u(16), 0, 2), timeout=20)))
    sender.start()
    time.sleep(0.3)
    started = time.monotonic()
    bob.client.eio.disconnect(abort=True)   # its socket dies without a leave
    sender.join(10)
    hold.set()
    assert answers == [{"ok": True}]
    assert time.monotonic() - started < 5, "the sender waited out the ack timeout"
    alice.wait_event("member_away")
    close_all(alice, bob)


def test_a_file_moves_with_gevent_too(fresh_server):
    server = fresh_server({"BURNCHAT_ASYNC_MODE": "gevent"})
    room, (alice, bob) = peers_in_room(server, 2)
    receiving(bob)
    transfer, total = b64u(16), 6
    assert send_file(alice, transfer, total) == [{"ok": True}] * total
    wait_for(lambda: [c["index"] for c in bob.chunks] == list(range(total)), message="every chunk")
    close_all(alice, bob)
