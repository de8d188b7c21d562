"""Relaying file chunks (PROTOCOL.md §6.7): in order, a few at a time, never a whole file.

A file's metadata travels as an ordinary message; its chunks come as `file_chunk`
events, each AES-GCM under a key the server never sees. The server relays a chunk
to every receiver of the transfer and acknowledges it to the sender only once each
receiver has taken it (or been left out for taking too long), so what it holds per
transfer is at most FILE_WINDOW chunks in the receivers' send queues.

`TransferBook` is the pure bookkeeping (who sends which file, which chunk comes
next, who still owes an acknowledgement); `FileRelay` is the thin part that emits.
"""

from dataclasses import dataclass, field
from functools import partial

from .config import FILE_WINDOW, file_chunk_count
from .limits import TokenBucket
from .rooms import RoomError


@dataclass
class Transfer:
    """One member's file on its way: its receivers and the chunks they still owe."""

    transfer_id: str
    room_id: str
    sender_sid: str
    member_id: str
    total: int
    receivers: dict            # member ID -> sid, fixed at the first chunk (late joiners get none)
    next_index: int = 0
    done: int = 0
    waiting: dict = field(default_factory=dict)  # index -> [set of member IDs owing, waker]

    @property
    def in_flight(self):
        """Chunks relayed whose acknowledgements are not all in."""
        return self.next_index - self.done


class TransferBook:
    """Every transfer of one process, by sender socket. Pure: no Flask, no clock."""

    def __init__(self, max_file_bytes, window=FILE_WINDOW):
        self.max_chunks = file_chunk_count(max_file_bytes)
        self.window = window
        self._by_sid = {}

    def __len__(self):
        return len(self._by_sid)

    def check(self, sid, transfer_id, index, total):
        """The transfer this chunk belongs to (None for a first chunk), or the refusal."""
        if total > self.max_chunks:
            raise RoomError("too_big", "That file is over this server's size limit.")
        transfer = self._by_sid.get(sid)
        if transfer is None or transfer.transfer_id != transfer_id:
            if transfer is not None:
                raise RoomError("file_busy", "Send one file at a time: wait for the last one.")
            if index != 0:
                raise RoomError("invalid", "A file starts with its chunk 0.")
            return None
        if total != transfer.total or index != transfer.next_index:
            raise RoomError("invalid", "Chunks must come in order, with the same total.")
        if transfer.in_flight >= self.window:
            raise RoomError("busy", "Wait for the chunks on their way before sending more.")
        return transfer

    def start(self, sid, room_id, member_id, transfer_id, total, receivers):
        """Open the transfer of a first chunk; `receivers` maps member ID -> sid."""
        transfer = Transfer(transfer_id, room_id, sid, member_id, total, dict(receivers))
        self._by_sid[sid] = transfer
        return transfer

    def relay(self, transfer, index, waker):
        """Chunk `index` goes out now -> the member IDs that must acknowledge it."""
        transfer.next_index = index + 1
        owing = set(transfer.receivers)
        transfer.waiting[index] = [owing, waker]
        if not owing:
            waker.set()
        return owing

    def acked(self, transfer, index, member_id):
        """`member_id` took chunk `index`."""
        entry = transfer.waiting.get(index)
        if entry is not None:
            entry[0].discard(member_id)
            if not entry[0]:
                entry[1].set()

    def settle(self, transfer, index):
        """The wait for chunk `index` is over -> (member IDs that never took it, whether the file is done).

        Those members are left out of the rest of the file; a finished file is forgotten.
        """
        owing, _ = transfer.waiting.pop(index, (set(), None))
        for member_id in owing:
            transfer.receivers.pop(member_id, None)
        transfer.done += 1
        finished = transfer.done >= transfer.total
        if finished and self._by_sid.get(transfer.sender_sid) is transfer:
            del self._by_sid[transfer.sender_sid]
        return owing, finished

    def cancel(self, sid, transfer_id=None):
        """The sender's transfer (of `transfer_id`, if given) ends now -> it, or None."""
        transfer = self._by_sid.get(sid)
        if transfer is None or transfer_id not in (None, transfer.transfer_id):
            return None
        del self._by_sid[sid]
        self._release(transfer)
        return transfer

    def leave_out(self, room_id, member_id):
        """A member left the room: it owes nothing and gets nothing more of anyone's file."""
        for transfer in self._by_sid.values():
            if transfer.room_id == room_id and transfer.receivers.pop(member_id, None) is not None:
                for index in list(transfer.waiting):
                    self.acked(transfer, index, member_id)

    def of_member(self, room_id, member_id):
        """The sid of the member's transfer in `room_id`, or None."""
        return next((sid for sid, t in self._by_sid.items()
                     if t.room_id == room_id and t.member_id == member_id), None)

    def end_room(self, room_id):
        """The room burned -> its transfers, forgotten."""
        ended = [t for t in self._by_sid.values() if t.room_id == room_id]
        for transfer in ended:
            del self._by_sid[transfer.sender_sid]
            self._release(transfer)
        return ended

    @staticmethod
    def _release(transfer):
        """Nobody waits on an ended transfer's chunks any more."""
        for owing, waker in transfer.waiting.values():
            owing.clear()
            waker.set()


class FileRelay:
    """Relays chunks with flow control and a per-room byte budget; the handlers call this."""

    def __init__(self, courier):
        self.courier = courier
        config = courier.config
        self.book = TransferBook(config.max_file_bytes)
        self._budgets = {}  # room ID -> TokenBucket of chunk bytes (per process)

    def chunk(self, sid, chunk):
        """Relay one chunk to the transfer's receivers; returns once each took it or timed out."""
        courier = self.courier
        connection = courier.member_connection(sid)
        room = courier.room_or_error(connection.room_id)
        if connection.member_id not in room.members:
            raise RoomError("not_member", "Join the room first.")
        transfer = self.book.check(sid, chunk.transfer, chunk.index, chunk.total)
        if not self._budget(room.room_id).take(len(chunk.ct)):
            raise RoomError("rate_limited", "This room is moving a lot of files. Wait a moment.")
        if transfer is None:
            receivers = {m.member_id: m.sid for m in room.members.values()
                         if m.member_id != connection.member_id and m.sid is not None and not m.away}
            transfer = self.book.start(sid, room.room_id, connection.member_id, chunk.transfer,
                                       chunk.total, receivers)
        waker = courier.socketio.server.eio.create_event()
        wire = {"sender": connection.member_id, "transfer": chunk.transfer, "index": chunk.index,
                "total": chunk.total, "ct": chunk.ct}
        sid_of = dict(transfer.receivers)
        self.book.relay(transfer, chunk.index, waker)
        for member_id, receiver_sid in sid_of.items():
            courier.socketio.emit("file_chunk", wire, to=receiver_sid, callback=partial(
                self._acked, transfer, chunk.index, member_id))
        waker.wait(courier.config.file_ack_seconds)
        slow, _ = self.book.settle(transfer, chunk.index)
        if slow:  # told once; their copy of this file is over
            self._tell_cancelled(transfer, {m: sid_of.get(m) for m in slow}, "slow")

    def _acked(self, transfer, index, member_id, *answer):
        """A receiver's acknowledgement of a chunk (whatever it says: it has the chunk)."""
        self.book.acked(transfer, index, member_id)

    def cancel(self, sid, transfer_id):
        """The sender gives its file up: every receiver hears `file_cancel`."""
        self.courier.member_connection(sid)
        transfer = self.book.cancel(sid, transfer_id)
        if transfer is not None:
            self._tell_cancelled(transfer, None, "cancelled")

    def close(self, sid, connection=None):
        """A socket went away: its file ends for everyone, and (an away member too) nobody waits
        for its acknowledgements."""
        transfer = self.book.cancel(sid)
        if transfer is not None:
            self._tell_cancelled(transfer, None, "gone")
        if connection is not None and connection.member_id:
            self.book.leave_out(connection.room_id, connection.member_id)

    def member_gone(self, room_id, member_id):
        """A member left, was kicked or let go: its file ends, and it is left out of the others'."""
        sid = self.book.of_member(room_id, member_id)
        if sid is not None:
            self.close(sid)
        self.book.leave_out(room_id, member_id)

    def forget_room(self, room_id):
        """The burn: every transfer of the room and its budget are dropped."""
        self.book.end_room(room_id)
        self._budgets.pop(room_id, None)

    def _budget(self, room_id):
        """The room's byte budget in this process: file_bytes_per_minute, spent by ciphertext size."""
        bucket = self._budgets.get(room_id)
        if bucket is None:
            per_minute = self.courier.config.file_bytes_per_minute
            bucket = self._budgets[room_id] = TokenBucket(self.courier.now, per_minute / 60, per_minute)
        return bucket

    def _tell_cancelled(self, transfer, receivers, reason):
        """`file_cancel` to the transfer's receivers (or to `receivers`, member ID -> sid)."""
        targets = receivers if receivers is not None else dict(transfer.receivers)
        data = {"sender": transfer.member_id, "transfer": transfer.transfer_id, "reason": reason}
        for receiver_sid in targets.values():
            if receiver_sid is not None:
                self.courier.socketio.emit("file_cancel", data, to=receiver_sid)

