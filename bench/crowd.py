"""Filling a server with rooms and members through the worker pool (the harness side of loadgen)."""

import time

ROOM_CREATION_CONCURRENCY = 4   # per worker; the server creates one room at a time anyway
READY_POLL_SECONDS = 0.1


def create_rooms(pool, count, ttl_seconds=None, expire_at=None, align_seconds=None, first_worker=0):
    """Create `count` rooms, dealt over the workers from `first_worker` on; returns each worker's IDs.

    Either a `ttl_seconds` for every room, or `expire_at` (a whole wall-clock second)
    for rooms that must all expire within that second (within its first
    `align_seconds` if given; see loadgen.Agent.do_create_rooms).
    """
    workers = len(pool)
    shares = [0] * workers
    for index in range(count):
        shares[(first_worker + index) % workers] += 1
    return pool.scatter("create_rooms", [
        {"count": share, "ttl_seconds": ttl_seconds, "expire_at": expire_at,
         "align_seconds": align_seconds, "concurrency": ROOM_CREATION_CONCURRENCY}
        for share in shares])


def open_members(pool, rooms_per_worker, per_room, concurrency, stop_on_error=False, seal=False):
    """Have each worker open `per_room` members in each of its rooms; merge what they report."""
    answers = pool.scatter("open_members", [
        {"rooms": rooms, "per_room": per_room, "concurrency": concurrency,
         "stop_on_error": stop_on_error, "seal": seal} for rooms in rooms_per_worker])
    merged = {"opened": 0, "connect_ms": [], "join_ms": [], "errors": [], "error_count": 0}
    for answer in answers:
        merged["opened"] += answer["opened"]
        merged["connect_ms"] += answer["connect_ms"]
        merged["join_ms"] += answer["join_ms"]
        merged["errors"] += answer["errors"]
        merged["error_count"] += answer["error_count"]
    return merged


def status(pool):
    """Members open, connected and keyed, summed over the workers."""
    total = {"members": 0, "connected": 0, "ready": 0}
    for answer in pool.broadcast("status"):
        for key in total:
            total[key] += answer[key]
    return total


def wait_ready(pool, timeout):
    """Wait until every open member holds its room's key; returns the last status."""
    deadline = time.monotonic() + timeout
    while True:
        now = status(pool)
        if now["ready"] == now["members"]:
            return now
        if time.monotonic() > deadline:
            raise RuntimeError(f"members not keyed after {timeout} s: {now}")
        time.sleep(READY_POLL_SECONDS)
