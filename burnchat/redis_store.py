"""Rooms in Redis, shared by several app processes (set BURNCHAT_REDIS_URL).

Only imported when that variable is set. Every key carries a TTL that ends
shortly after its room's expiry, so even if every app process dies, nothing of
a room outlives its burn by more than `GRACE_SECONDS`; and the app refuses a
Redis that would write rooms to disk.

Keys (ROOM = the room ID):
  burnchat:room:ROOM   the room as JSON (members, key epochs, PIN hash and lockouts)
  burnchat:lock:ROOM   short exclusive lock held while one process edits the room
  burnchat:rooms       sorted set ROOM -> expires_at, to list live rooms
  burnchat:owners      hash ROOM -> process ID running the room's countdown
  burnchat:proc:PID    a process's heartbeat (lease); gone `heartbeat_ttl` after it stops renewing
  burnchat:procs       hash PID -> 1 for every process named by a room (owner or member's socket)
  burnchat:procrooms:PID  set of the rooms where PID holds members' sockets

A survivor that finds a process's heartbeat gone adopts its countdowns and
removes its members (see burnchat/heartbeat.py).
"""

import json
import secrets
import time
from contextlib import contextmanager

import redis

from .rooms import Room, RoomError
from .store import RoomStore

GRACE_SECONDS = 30
LOCK_MS = 5000
PREFIX = "burnchat:"
INDEX = PREFIX + "rooms"
OWNERS = PREFIX + "owners"
PROCS = PREFIX + "procs"

# Take the room, its index entries and its lock away in one step: exactly one caller burns it.
_POP = """
local value = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if value then
  for _, member in ipairs(cjson.decode(value)['members']) do
    if type(member['process']) == 'string' then
      redis.call('SREM', ARGV[2] .. member['process'], ARGV[1])
    end
  end
end
return value
"""
# Store a room and its index entries, each expiring after the room; an edit never
# brings back a room that burned meanwhile (ARGV[6] = "1"). KEYS[5..] are the
# room sets of the processes holding its members (ARGV[7..]).
_WRITE = """
if ARGV[6] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
  redis.call('HSET', KEYS[4], ARGV[5], '1')
end
for i = 5, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
  redis.call('HSET', KEYS[4], ARGV[i + 2], '1')
end
for i = 2, #KEYS do
  local key = KEYS[i]
  if redis.call('EXISTS', key) == 1 then
    redis.call('PEXPIREAT', key, ARGV[2], 'NX')
    redis.call('PEXPIREAT', key, ARGV[2], 'GT')
  end
end
return 1
"""
# Release a lock only if we still hold it.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class PersistenceError(RuntimeError):
    """The Redis server would write rooms to disk."""


def room_key(room_id):
    """The key holding a room."""
    return f"{PREFIX}room:{room_id}"


def lock_key(room_id):
    """The key of a room's edit lock."""
    return f"{PREFIX}lock:{room_id}"


def lease_key(process_id):
    """The key of a process's lease (its heartbeat)."""
    return f"{PREFIX}proc:{process_id}"


def process_rooms_key(process_id):
    """The set of rooms where a process holds members' sockets."""
    return f"{PREFIX}procrooms:{process_id}"


def check_no_persistence(client):
    """Refuse a Redis that saves snapshots or keeps an append-only file."""
    save = client.config_get("save").get("save", "")
    appendonly = client.config_get("appendonly").get("appendonly", "no")
    if save.strip() or appendonly == "yes":
        raise PersistenceError(
            "Refusing to run: this Redis writes data to disk "
            f"(save={save!r}, appendonly={appendonly!r}), and Burn Chat promises nothing "
            "of a room reaches a disk. Run Redis with `save \"\"` and `appendonly no`, or set "
            "BURNCHAT_REDIS_ALLOW_PERSISTENCE=1 to take that on yourself.")


class RedisRoomStore(RoomStore):
    """The RoomStore interface over one Redis shared by every app process."""

    shared = True

    def __init__(self, url, sleep, allow_persistence=False, heartbeat_seconds=0.2,
                 heartbeat_ttl_seconds=0.8):
        self.redis = redis.Redis.from_url(url, decode_responses=True)
        if not allow_persistence:
            check_no_persistence(self.redis)
        self._sleep = sleep
        self.heartbeat_seconds = heartbeat_seconds
        self._heartbeat_ttl_ms = int(heartbeat_ttl_seconds * 1000)
        # Set by the app: a member is only ever added by the process holding its
        # socket, so a member first written without a process is one of ours.
        self.process_id = None
        self._pop = self.redis.register_script(_POP)
        self._write_script = self.redis.register_script(_WRITE)
        self._unlock = self.redis.register_script(_UNLOCK)

    def add(self, room):
        self._write(room, only_if_exists=False)

    def get(self, room_id):
        data = self.redis.get(room_key(room_id))
        return None if data is None else Room.from_dict(json.loads(data))

    @contextmanager
    def edit(self, room_id):
        token = self._lock(room_id)
        try:
            room = self.get(room_id)
            try:
                yield room
            finally:
                if room is not None:
                    self._write(room, only_if_exists=True)
        finally:
            self._unlock(keys=[lock_key(room_id)], args=[token])

    def pop(self, room_id):
        data = self._pop(keys=[room_key(room_id), lock_key(room_id), INDEX, OWNERS],
                         args=[room_id, process_rooms_key("")])
        return None if data is None else Room.from_dict(json.loads(data))

    def room_ids(self):
        self.redis.zremrangebyscore(INDEX, "-inf", time.time() - GRACE_SECONDS)
        return self.redis.zrange(INDEX, 0, -1)

    def __len__(self):
        return self.redis.zcard(INDEX)

    def heartbeat(self, process_id):
        """Renew this process's heartbeat; False when it had lapsed meanwhile.

        A lapse means Redis lost its data or stalled, or this process did: then
        nobody else's missing heartbeat proves anything yet.
        """
        return self.redis.set(lease_key(process_id), "1", px=self._heartbeat_ttl_ms,
                              get=True) is not None

    def dead_processes(self, process_id):
        """Processes some room still names whose heartbeat is gone."""
        others = [p for p in self.redis.hkeys(PROCS) if p != process_id]
        pipe = self.redis.pipeline(transaction=False)
        for other in others:
            pipe.exists(lease_key(other))
        return [p for p, alive in zip(others, pipe.execute() if others else []) if not alive]

    def claim_rooms_of(self, dead, process_id):
        """Take over the countdowns of rooms whose owner is in `dead`; returns their IDs."""
        owners = self.redis.hgetall(OWNERS)
        return [room_id for room_id, owner in owners.items()
                if owner in dead and self._claim(room_id, owner, process_id)]

    def rooms_with_members_of(self, process_id):
        """IDs of rooms where a process held members' sockets (some may have burned since)."""
        return list(self.redis.smembers(process_rooms_key(process_id)))

    def forget_process(self, process_id):
        """A dead process has been handled: drop its entries."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hdel(PROCS, process_id)
        pipe.delete(process_rooms_key(process_id))
        pipe.execute()

    def missing_rooms(self, room_ids):
        """Those of `room_ids` that Redis no longer holds."""
        room_ids = list(room_ids)
        pipe = self.redis.pipeline(transaction=False)
        for room_id in room_ids:
            pipe.exists(room_key(room_id))
        return {r for r, exists in zip(room_ids, pipe.execute() if room_ids else []) if not exists}

    def _claim(self, room_id, dead_owner, process_id):
        """Make this process a room's countdown owner if the dead one still holds it."""
        with self.edit(room_id) as room:
            if room is None or room.owner != dead_owner:
                return False
            room.owner = process_id
            return True

    def _write(self, room, only_if_exists):
        """Store a room; every key it touches expires shortly after the room does."""
        expire_ms = int((room.expires_at + GRACE_SECONDS) * 1000)
        for member in room.members.values():
            member.process = member.process or self.process_id
        processes = sorted({m.process for m in room.members.values() if m.process})
        self._write_script(
            keys=[room_key(room.room_id), INDEX, OWNERS, PROCS,
                  *(process_rooms_key(p) for p in processes)],
            args=[json.dumps(room.to_dict()), expire_ms, room.room_id, room.expires_at,
                  room.owner or "", "1" if only_if_exists else "0", *processes])

    def _lock(self, room_id):
        """Take a room's edit lock, waiting (cooperatively) while another process holds it."""
        token = secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_MS / 1000
        while not self.redis.set(lock_key(room_id), token, nx=True, px=LOCK_MS):
            if time.monotonic() > deadline:
                raise RoomError("busy", "Burn Chat is busy. Try again in a moment.")
            self._sleep(0.002)
        return token
