"""The room store: the one seam between the app and where rooms live.

`MemoryRoomStore` keeps rooms in this process's RAM (the default, one dyno).
`burnchat.redis_store.RedisRoomStore` keeps them in a Redis shared by several
processes. The courier only ever uses the interface below, so the backend is a
setting, not a rewrite.
"""

from abc import ABC, abstractmethod
from contextlib import contextmanager


class RoomStore(ABC):
    """Where rooms live. Implementations must never write to disk."""

    #: True when several processes share the rooms (countdowns then need leases).
    shared = False

    @abstractmethod
    def add(self, room):
        """Store a new room."""

    @abstractmethod
    def get(self, room_id):
        """The room with this ID for reading, or None (unknown and burned look the same)."""

    @abstractmethod
    def edit(self, room_id):
        """Context manager: the room (or None) for changing; changes are kept on exit.

        Changes are kept even when the body raises (a wrong PIN is counted, then
        refused), so bodies check before they change anything else. No other edit
        of the same room runs in between, in any process, and an edit never brings
        back a room that burned meanwhile.
        """

    @abstractmethod
    def pop(self, room_id):
        """Remove and return the room (None if already gone): one step, so a room burns once."""

    @abstractmethod
    def room_ids(self):
        """A snapshot of the IDs of every live room."""

    @abstractmethod
    def __len__(self):
        """How many rooms are live."""


class MemoryRoomStore(RoomStore):
    """Rooms in a dict owned by the app: RAM only, gone with the process.

    Green threads only switch when one blocks, and no edit blocks, so the live
    object can be handed out for editing without a lock.
    """

    def __init__(self):
        self._rooms = {}

    def add(self, room):
        self._rooms[room.room_id] = room

    def get(self, room_id):
        return self._rooms.get(room_id)

    @contextmanager
    def edit(self, room_id):
        yield self._rooms.get(room_id)

    def pop(self, room_id):
        return self._rooms.pop(room_id, None)

    def room_ids(self):
        return list(self._rooms)

    def __len__(self):
        return len(self._rooms)
