"""Scenario `members`: open idle members in rooms of 10 until the target (5,000) or the first failure.

Members join (and, on our server, get their room key) and then stay idle. RSS
per member is the server's resident memory after they are all in and keyed,
minus the memory with the same rooms and no members, divided by the members
open. Connect time is the Socket.IO handshake over WebSocket; join time is the
`join` call until its ack, measured by the client.
"""

import math
import time

from .. import crowd, stats

ROOM_TTL_SECONDS = 3600


PAIRED = False   # the runner runs the baseline, then Burn Chat


def cases(preset):
    """A single case."""
    return ["members"]


def run(case, server, pool, preset, log):
    """Open members until the target or an error; measure memory and connect times."""
    size = preset.members_room_size
    rss_fresh = server.rss_kb()
    rooms = crowd.create_rooms(pool, math.ceil(preset.members_target / size), ROOM_TTL_SECONDS)
    rss_rooms = server.rss_kb()
    started = time.monotonic()
    opened = crowd.open_members(pool, rooms, size, preset.members_concurrency, stop_on_error=True)
    open_seconds = time.monotonic() - started
    log(f"{opened['opened']} members open in {open_seconds:.1f} s, {opened['error_count']} errors")
    keyed_note = None
    try:
        crowd.wait_ready(pool, preset.ready_timeout_seconds)
    except RuntimeError as error:
        keyed_note = str(error)
    time.sleep(preset.members_settle_seconds)
    rss_members = server.rss_kb()
    count = opened["opened"]
    return {
        "target": preset.members_target,
        "opened": count,
        "reached_target": count >= preset.members_target,
        "stopped_by": opened["errors"][0] if opened["errors"] else None,
        "error_count": opened["error_count"],
        "keyed_note": keyed_note,
        "connected_after": crowd.status(pool)["connected"],
        "open_seconds": round(open_seconds, 1),
        "rss_fresh_kb": rss_fresh,
        "rss_rooms_kb": rss_rooms,
        "rss_members_kb": rss_members,
        "rss_per_member_kb": round((rss_members - rss_rooms) / count, 1) if count else None,
        "connect_ms": stats.summary(opened["connect_ms"]),
        "join_ms": stats.summary(opened["join_ms"]),
    }


def compare(ours, baseline):
    """Memory and connect-time ratios."""
    return {"rss_per_member": stats.ratio(ours["rss_per_member_kb"], baseline["rss_per_member_kb"]),
            "connect_p99": stats.ratio(ours["connect_ms"]["p99"], baseline["connect_ms"]["p99"]),
            "join_p99": stats.ratio(ours["join_ms"]["p99"], baseline["join_ms"]["p99"])}
