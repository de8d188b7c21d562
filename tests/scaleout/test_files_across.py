"""A file from a member on one process to members on both, through the shared message queue:
chunks in order, each acknowledged to the sender only once every receiver took it."""

import threading

from burnchat.config import FILE_CHUNK_BYTES
from tests.integration.test_files_live import chunk, receiving
from tests.server import wait_for
from tests.wire import Peer


def test_a_file_crosses_processes_with_flow_control(two_processes):
    a, b = two_processes
    room = a.create_room(60)
    alice, bob, carol = Peer(a.url), Peer(b.url), Peer(a.url)
    for peer in (alice, bob, carol):
        assert peer.join(room["room"])["ok"]
    for peer in (alice, bob, carol):
        wait_for(lambda peer=peer: peer.epoch_held >= 3, message="the last epoch")
    hold = threading.Event()
    receiving(bob, hold), receiving(carol)
    transfer, total = "dHJhbnNmZXItMDAwMDAwMQ", 3
    answers = []
    sender = threading.Thread(target=lambda: answers.append(
        alice.call("file_chunk", chunk(transfer, 0, total), timeout=20)))
    sender.start()
    wait_for(lambda: len(carol.chunks) == 1, message="carol's chunk (same process)")
    sender.join(0.5)
    assert answers == [], "bob on the other process has not taken chunk 0 yet"
    hold.set()
    sender.join(15)
    assert answers == [{"ok": True}]
    for index in (1, 2):
        size = FILE_CHUNK_BYTES if index < total - 1 else 1024
        assert alice.call("file_chunk", chunk(transfer, index, total, size), timeout=20) == {"ok": True}
    for peer in (bob, carol):
        wait_for(lambda peer=peer: len(peer.chunks) == total, message="every chunk")
        assert [c["index"] for c in peer.chunks] == [0, 1, 2]
        assert {c["sender"] for c in peer.chunks} == {alice.member_id}
    for peer in (alice, bob, carol):
        peer.close()
