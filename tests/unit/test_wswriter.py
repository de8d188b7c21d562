"""burnchat/wswriter.py: Engine.IO's writer poll, minus its timer, gives the same packets."""

import queue

import pytest
from engineio import socket as eio_socket

from burnchat.wswriter import untimed_poll


class RecordingQueue(queue.Queue):
    """queue.Queue that notes the arguments of every get()."""

    def __init__(self):
        super().__init__()
        self.gets = []

    def get(self, block=True, timeout=None):
        self.gets.append((block, timeout))
        return super().get(block, timeout)


class FakeServer:
    ping_interval, ping_timeout = 25, 20

    @staticmethod
    def get_queue_empty_exception():
        return queue.Empty


def engineio_poll(items):
    """What python-engineio's own Socket.poll returns for queued `items` (and what it leaves)."""
    sock = eio_socket.Socket.__new__(eio_socket.Socket)
    sock.server, sock.queue = FakeServer(), queue.Queue()
    for item in items:
        sock.queue.put(item)
    return sock.poll(), list(sock.queue.queue)


@pytest.mark.parametrize("items", [["a"], ["a", "b", "c"], [None], ["a", None], ["a", "b", None, "c"]])
def test_the_same_packets_as_engineios_poll_and_the_close_stays_queued(items):
    ours = RecordingQueue()
    for item in items:
        ours.put(item)
    assert (untimed_poll(ours, queue.Empty), list(ours.queue)) == engineio_poll(items)


def test_the_first_wait_has_no_timeout_and_the_rest_do_not_block():
    ours = RecordingQueue()
    for item in ("a", "b"):
        ours.put(item)
    untimed_poll(ours, queue.Empty)
    assert ours.gets[0] == (True, None) and all(block is False for block, _ in ours.gets[1:])
