"""The bare relay: the cost floor of Burn Chat's stack, run by the harness as `python bench/baseline.py`.

A Flask-SocketIO app on the same async mode, patched and served like `app.py`
(same monkey-patching, logging, ping settings, eventlet.wsgi with the same
connection cap, socketio.run on gevent), but with none of our rules: `join`
enters a room, `message` re-emits to the room but the sender, both ack
`{"ok": true}` like ours. No schema, no key epochs, no rate limits.

So that the burn and timers scenarios have a floor too, `POST /api/rooms`
starts one plain `socketio.sleep` loop per room on the same tick schedule as
ours (`countdown` every 10 s, every 1 s in the last minute), which at zero
emits `destroyed` and disconnects the room's sockets. `GET /r/ROOM` answers
200 while the room lives and 404 after, as ours does.
"""

import os
import sys

# Run as a script from bench/: make the project importable for the shared patching.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from burnchat.patching import monkey_patch  # noqa: E402

ASYNC_MODE = monkey_patch()

import logging  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402

from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

# The settings app.py and burnchat/factory.py use, so the floor is the same stack
# (the frame cap only refuses oversized frames; ours is about 14 KiB).
MAX_FRAME_BYTES = 16 * 1024
PING_SECONDS = 20
MAX_CONNECTIONS = int(os.environ.get("BURNCHAT_MAX_CONNECTIONS", "12000"))

app = Flask(__name__)
socketio = SocketIO(app, async_mode=ASYNC_MODE, cors_allowed_origins=None,
                    max_http_buffer_size=MAX_FRAME_BYTES, logger=False, engineio_logger=False,
                    ping_interval=PING_SECONDS, ping_timeout=PING_SECONDS)
expiry_by_room = {}   # room -> expires_at (seconds)
sids_by_room = {}     # room -> set of sids
room_by_sid = {}      # sid -> room


def _ms(seconds):
    """Seconds to integer milliseconds, as on our wire."""
    return int(seconds * 1000)


def next_wait(remaining):
    """The same tick schedule as burnchat/countdown.py: 10 s, 1 s in the last minute, 0 at the end."""
    if remaining > 60.0:
        return min(10.0, remaining - 60.0)
    return max(0.0, min(1.0, remaining))


def run_timer(room):
    """One room's plain sleep loop: tick, sleep, and at zero tell the room and close it."""
    while True:
        remaining = expiry_by_room[room] - time.time()
        if remaining <= 0:
            burn(room)
            return
        socketio.emit("countdown", {"expires_at": _ms(expiry_by_room[room]), "now": _ms(time.time())},
                      to=room)
        socketio.sleep(next_wait(remaining))


def burn(room):
    """Forget the room, emit `destroyed` to it and disconnect its sockets."""
    del expiry_by_room[room]
    socketio.emit("destroyed", {"reason": "expired"}, to=room)
    for sid in sids_by_room.pop(room, ()):
        room_by_sid.pop(sid, None)
        socketio.server.disconnect(sid, namespace="/")


@app.get("/")
def ready():
    """Readiness probe for the harness."""
    return "bare relay\n"


@app.post("/api/rooms")
def create_room():
    """A room with a timer: JSON {ttl_seconds} -> 201 {room}."""
    room = secrets.token_urlsafe(16)
    expiry_by_room[room] = time.time() + int(request.get_json()["ttl_seconds"])
    sids_by_room[room] = set()
    socketio.start_background_task(run_timer, room)
    return jsonify(room=room), 201


@app.get("/r/<room>")
def room_page(room):
    """200 while the room lives, 404 once it has burned."""
    return ("live\n", 200) if room in expiry_by_room else ("gone\n", 404)


@socketio.on("join")
def join(data):
    """Enter the room named in the payload."""
    room = data.get("room")
    if room not in expiry_by_room:
        return {"ok": False, "code": "no_room", "error": "no such room"}
    socketio.server.enter_room(request.sid, room, namespace="/")
    sids_by_room[room].add(request.sid)
    room_by_sid[request.sid] = room
    return {"ok": True, "epoch": 1, "expires_at": _ms(expiry_by_room[room]), "now": _ms(time.time())}


@socketio.on("message")
def message(data):
    """Re-emit the payload to the sender's room, skipping the sender."""
    room = room_by_sid.get(request.sid)
    if room is None:
        return {"ok": False, "code": "not_member", "error": "join first"}
    socketio.emit("message", data, to=room, skip_sid=request.sid)
    return {"ok": True}


@socketio.on("disconnect")
def disconnect(reason=None):
    """Forget the socket."""
    room = room_by_sid.pop(request.sid, None)
    if room is not None:
        sids_by_room.get(room, set()).discard(request.sid)


def main():
    """Serve like app.py: quiet logs, every file descriptor, eventlet's connection cap lifted."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("werkzeug", "socketio", "socketio.server", "engineio", "engineio.server",
                 "geventwebsocket"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    sys.stderr.write(f"bare relay listening on port {port}\n")
    if ASYNC_MODE == "eventlet":
        import eventlet.wsgi

        eventlet.wsgi.server(eventlet.listen((host, port)), app, log_output=False, debug=False,
                             max_size=MAX_CONNECTIONS + 100)
    else:
        socketio.run(app, host=host, port=port, log_output=False)


if __name__ == "__main__":
    main()
