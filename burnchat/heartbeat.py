"""Faults of a shared store: process heartbeats, dead processes, rooms Redis lost.

Every process renews a heartbeat in Redis every `heartbeat_seconds`. A survivor
that finds another process's heartbeat gone adopts its countdowns (so its rooms
still burn on time) and removes its members from every room, one rekey per
room, so nobody waits for a key from a ghost.

Each process knows which rooms its own sockets are in. A room that vanished
from Redis (a restart, a FLUSHALL) is reported to those sockets as `destroyed`
with reason "lost" and they are closed: never a silent room.
"""

from .supervise import retrying

ROOM_CHECK_SECONDS = 1.0  # with no sign of trouble, look for vanished rooms this often


class Absences:
    """What was missing on two checks in a row.

    A room missing once may be one that just burned on another process, whose
    goodbye and disconnects are still on their way through the message queue.
    """

    def __init__(self):
        self._once = set()

    @property
    def pending(self):
        """True while something was missing on the last check only."""
        return bool(self._once)

    def confirm(self, missing):
        """Record this check's `missing`; returns those missing last time too."""
        missing = set(missing)
        confirmed = self._once & missing
        self._once = missing - confirmed
        return confirmed


class Heartbeat:
    """The per-process fault loop of a shared store (runs as one background task)."""

    def __init__(self, courier):
        self.courier = courier
        self.store = courier.store
        self._vanished = Absences()
        self._rounds = 0

    def run(self):
        """Forever: one round per heartbeat interval; a failing round is retried, never fatal."""
        sleep = self.courier.socketio.sleep
        while True:
            retrying(sleep, self.round)
            sleep(self.store.heartbeat_seconds)

    def round(self):
        """Renew our heartbeat, handle dead processes, then look for rooms Redis lost."""
        process_id = self.courier.process_id
        steady = self.store.heartbeat(process_id)
        # A lapse of our own means Redis (or we) stalled or Redis lost everything:
        # nobody's missing heartbeat proves a death this round.
        if steady:
            dead = self.store.dead_processes(process_id)
            if dead:
                self.bury(dead)
        self._rounds += 1
        every = max(1, round(ROOM_CHECK_SECONDS / self.store.heartbeat_seconds))
        if not steady or self._vanished.pending or self._rounds % every == 0:
            self.check_rooms()

    def bury(self, dead):
        """Adopt the countdowns of dead processes and remove their members from every room."""
        courier = self.courier
        for room_id in self.store.claim_rooms_of(set(dead), courier.process_id):
            courier.adopt(room_id)
        for process_id in dead:
            for room_id in self.store.rooms_with_members_of(process_id):
                courier.remove_process(room_id, process_id)
            self.store.forget_process(process_id)

    def check_rooms(self):
        """Tell our sockets in rooms that vanished from Redis, then close them."""
        local = {room_id for connection in list(self.courier.connections.values())
                 for room_id in (connection.room_id, connection.admin_of) if room_id}
        for room_id in self._vanished.confirm(self.store.missing_rooms(local)):
            self.courier.lose_room(room_id)
