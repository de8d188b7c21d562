"""Scenario `burn`: 100 rooms x 10 members, all expiring within the same wall-clock second.

TTLs are whole seconds and creating 100 rooms takes a while (it took about
10 ms a room when the server hashed PINs), so rooms are created only in the
first tenth of each second, each with the TTL that makes it expire in the same whole second: every
`expires_at` then falls within about 0.1 s of the others (the spread is
printed). Every member notes, on its wall clock, when `destroyed` arrives; the
delay is that time minus the `expires_at` its join ack gave (server and load
generator share the machine's clock). Afterwards every room's page must answer
404. The baseline is the bare relay's plain `socketio.sleep` timer that emits
`destroyed` and disconnects the room.
"""

import math
import time

from .. import crowd, stats

POLL_SECONDS = 0.2
# Rooms are created only in the first tenth of each second, so all expire within
# ~0.1 s of each other however slowly the server creates them (TTLs are whole seconds).
ALIGN_SECONDS = 0.1


PAIRED = False   # the runner runs the baseline, then Burn Chat


def cases(preset):
    """A single case."""
    return ["burn"]


def run(case, server, pool, preset, log):
    """Fill the rooms, wait for them to burn, and time every `destroyed`."""
    expire_at = math.ceil(time.time()) + preset.burn_ttl_seconds
    rooms = crowd.create_rooms(pool, preset.burn_rooms, expire_at=expire_at,
                               align_seconds=ALIGN_SECONDS)
    log(f"{preset.burn_rooms} rooms created, {expire_at - time.time():.1f} s before the burn")
    opened = crowd.open_members(pool, rooms, preset.burn_room_size, preset.members_concurrency)
    if opened["error_count"]:
        raise RuntimeError(f"could not open burn members: {opened['errors']}")
    if time.time() >= expire_at:
        raise RuntimeError("the rooms expired before every member was in; raise burn_ttl_seconds")
    try:
        crowd.wait_ready(pool, max(0.0, expire_at - time.time() - 0.5))
    except RuntimeError:
        pass   # keys still settling: the burn does not wait for them, nor do we
    keyed = crowd.status(pool)["ready"]
    log(f"{opened['opened']} members open, {keyed} keyed, {expire_at - time.time():.1f} s before the burn")
    time.sleep(max(0.0, expire_at - time.time()))   # no polling while the rooms burn
    reports = _wait_for_destroyed(pool, expire_at + preset.burn_grace_seconds)
    heard = [r for r in reports if r["destroyed_at"] is not None]
    delays = [r["destroyed_at"] * 1000 - r["expires_at_ms"] for r in heard]
    expiries = {r["room"]: r["expires_at_ms"] for r in reports}
    all_rooms = [room for part in rooms for room in part]
    gone = sum(server.room_is_gone(room) for room in all_rooms)
    return {
        "rooms": len(all_rooms),
        "members": len(reports),
        "keyed_before_burn": keyed,
        "expiry_spread_ms": max(expiries.values()) - min(expiries.values()),
        "destroyed_ms": stats.summary(delays),
        "missed": len(reports) - len(heard),
        "disconnected": sum(r["disconnected_at"] is not None for r in reports),
        "rooms_gone": gone,
        "all_gone": gone == len(all_rooms),
    }


def compare(ours, baseline):
    """Delay ratios."""
    return {"p50": stats.ratio(ours["destroyed_ms"]["p50"], baseline["destroyed_ms"]["p50"]),
            "p99": stats.ratio(ours["destroyed_ms"]["p99"], baseline["destroyed_ms"]["p99"])}


def _wait_for_destroyed(pool, deadline):
    """Poll the members until each heard `destroyed` or `deadline` (wall clock) passed."""
    while True:
        reports = [r for part in pool.broadcast("burn_report") for r in part]
        if all(r["destroyed_at"] is not None for r in reports) or time.time() > deadline:
            return reports
        time.sleep(POLL_SECONDS)
