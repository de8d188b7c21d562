"""The pure bookkeeping of file transfers (burnchat/filerelay.py TransferBook): order, window,
one file per member, acknowledgements, slow receivers, cancel and the burn."""

import pytest

from burnchat.config import FILE_WINDOW, file_chunk_count
from burnchat.filerelay import TransferBook
from burnchat.rooms import RoomError


class Waker:
    def __init__(self):
        self.is_set = False

    def set(self):
        self.is_set = True


def started(book, receivers=("bob", "carol"), total=8, sid="s-alice", transfer="T1"):
    assert book.check(sid, transfer, 0, total) is None
    return book.start(sid, "room", "alice", transfer, total, {r: f"s-{r}" for r in receivers})


def refused(code, call, *args):
    with pytest.raises(RoomError) as error:
        call(*args)
    assert error.value.code == code


def test_chunks_in_order_within_the_window():
    book = TransferBook(16 * 1024 * 1024)
    transfer = started(book)
    wakers = []
    for index in range(FILE_WINDOW):
        if index:
            assert book.check("s-alice", "T1", index, 8) is transfer
        wakers.append(Waker())
        assert book.relay(transfer, index, wakers[-1]) == {"bob", "carol"}
    refused("busy", book.check, "s-alice", "T1", FILE_WINDOW, 8)
    refused("invalid", book.check, "s-alice", "T1", FILE_WINDOW + 1, 8)   # skips one
    refused("invalid", book.check, "s-alice", "T1", FILE_WINDOW, 9)       # another total
    refused("file_busy", book.check, "s-alice", "T2", 0, 1)               # a second file
    book.acked(transfer, 0, "bob")
    assert not wakers[0].is_set
    book.acked(transfer, 0, "carol")
    assert wakers[0].is_set
    assert book.settle(transfer, 0) == (set(), False)
    assert book.check("s-alice", "T1", FILE_WINDOW, 8) is transfer


def test_first_chunk_rules_and_the_size_limit():
    book = TransferBook(1024 * 1024)
    refused("invalid", book.check, "s", "T", 1, 3)
    refused("too_big", book.check, "s", "T", 0, file_chunk_count(1024 * 1024) + 1)
    assert book.check("s", "T", 0, file_chunk_count(1024 * 1024)) is None


def test_a_slow_receiver_is_left_out_and_a_finished_file_forgotten():
    book = TransferBook(16 * 1024 * 1024)
    transfer = started(book, total=2)
    book.relay(transfer, 0, Waker())
    book.acked(transfer, 0, "carol")
    assert book.settle(transfer, 0) == ({"bob"}, False)
    assert book.relay(transfer, 1, Waker()) == {"carol"}
    book.acked(transfer, 1, "carol")
    assert book.settle(transfer, 1) == (set(), True)
    assert len(book) == 0
    assert book.check("s-alice", "T2", 0, 1) is None   # free for the next file


def test_a_receiver_leaving_owes_nothing_and_the_burn_wakes_every_wait():
    book = TransferBook(16 * 1024 * 1024)
    transfer = started(book)
    waker = Waker()
    book.relay(transfer, 0, waker)
    book.acked(transfer, 0, "carol")
    book.leave_out("room", "bob")
    assert waker.is_set and transfer.receivers == {"carol": "s-carol"}
    second = Waker()
    book.relay(transfer, 1, second)
    assert book.end_room("room") == [transfer]
    assert second.is_set and len(book) == 0


def test_cancel_only_the_senders_own_file():
    book = TransferBook(16 * 1024 * 1024)
    started(book)
    assert book.cancel("s-alice", "other") is None
    assert book.cancel("s-bob") is None
    assert book.cancel("s-alice", "T1").transfer_id == "T1"
    assert len(book) == 0
