"""The room store: the one seam between the app and where rooms live.

Today rooms live in this process's memory. A Redis backend (for running
several processes) implements the same small interface; nothing else changes.
"""

from abc import ABC, abstractmethod


class RoomStore(ABC):
    """Where rooms live. Implementations must never write to disk."""

    @abstractmethod
    def add(self, room):
        """Store a new room."""

    @abstractmethod
    def get(self, room_id):
        """The room with this ID, or None (unknown and burned look the same)."""

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
    """Rooms in a dict owned by the app: RAM only, gone with the process."""

    def __init__(self):
        self._rooms = {}

    def add(self, room):
        self._rooms[room.room_id] = room

    def get(self, room_id):
        return self._rooms.get(room_id)

    def pop(self, room_id):
        return self._rooms.pop(room_id, None)

    def room_ids(self):
        return list(self._rooms)

    def __len__(self):
        return len(self._rooms)
