"""HTTP routes: the pages and the room-creation API. Thin: parse, call the courier, render."""

import re
from datetime import datetime, timezone
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, jsonify, render_template, request,
                   send_file)

from . import assets
from .rooms import RoomError
from .schemas import CreateRoom, InvalidPayload, LeaveBeacon, parse
from .security import client_address, is_link_preview

pages = Blueprint("pages", __name__)

ROOM_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
PRESETS = ((300, "5 min"), (900, "15 min"), (3600, "1 h"), (86400, "24 h"))
STATUS_BY_CODE = {"rate_limited": 429, "busy": 503}
RELEASE_MANIFEST = Path(__file__).resolve().parent.parent / "release" / "manifest.json"


def _courier():
    """The app's courier (its rooms and rules)."""
    return current_app.extensions["burnchat"]


def _live_room(room_id):
    """The room for a page, or None for a malformed, unknown, expired or burned ID alike."""
    room = _courier().store.get(room_id) if ROOM_ID.match(room_id) else None
    # Past its expiry a room is gone for pages even if its burn is still on the way.
    return room if room is not None and room.expires_at > _courier().now() else None


def not_found():
    """The one 404 page: it never tells whether a room ever existed."""
    return render_template("not_found.html"), 404


@pages.get("/")
def home():
    """The create-a-room page, or the friendly busy page while no room can be made."""
    courier = _courier()
    if len(courier.store) >= courier.config.max_rooms:
        return render_template("busy.html"), 503
    return _home_page()


def _home_page():
    """The create-a-room page itself (also the generic card link-preview bots get)."""
    config = _courier().config
    return render_template("home.html", min_ttl=config.min_ttl_seconds,
                           max_ttl=config.max_ttl_seconds, presets=PRESETS)


@pages.post("/api/rooms")
def create_room():
    """Create a room: JSON {ttl_seconds, pin_salt, pin_verifier, join_key_hash} ->
    201 {room, url, expires_at}. The creator's client made the PIN (§8.1)."""
    courier = _courier()
    try:
        payload = parse(CreateRoom, request.get_json(silent=True))
        room = courier.create_room(payload.ttl_seconds, _address(), payload.pin_salt,
                                   payload.pin_verifier, payload.join_key_hash)
    except InvalidPayload as error:
        return jsonify(error=f"Send JSON {{\"ttl_seconds\": N, \"pin_salt\": S, "
                             f"\"pin_verifier\": V}}: {error}"), 400
    except RoomError as error:
        return jsonify(error=error.message), STATUS_BY_CODE.get(error.code, 400)
    expires = datetime.fromtimestamp(room.expires_at, timezone.utc)
    return jsonify(room=room.room_id, url=f"/r/{room.room_id}",
                   expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ")), 201


@pages.get("/api/rooms/<room_id>")
def room_status(room_id):
    """The join page's look before joining: {locked, count, expires_at, now, pin_salt} - what
    the page itself was rendered with, nothing naming anyone - or the one 404 for any room not
    live. The terminal reads `pin_salt` to make a PIN's proof (§8.1)."""
    room = _live_room(room_id)
    if room is None:
        return jsonify(error="This room doesn't exist or has burned."), 404
    return jsonify(locked=room.locked, count=len(room.members), pin_salt=room.pin_salt_text,
                   expires_at=int(room.expires_at * 1000), now=int(_courier().now() * 1000))


@pages.post("/api/leave")
def leave_beacon():
    """A closing room page gives its seat up (navigator.sendBeacon): JSON {room, member_id,
    proof} -> 204 whatever happened, so the answer tells nothing about a room (§7.4)."""
    try:
        payload = parse(LeaveBeacon, request.get_json(silent=True, force=True))
    except InvalidPayload as error:
        return jsonify(error=f"Send JSON {{\"room\", \"member_id\", \"proof\"}}: {error}"), 400
    _courier().presence.leave_by_proof(payload.room, payload.member_id, payload.proof)
    return "", 204


@pages.get("/r/<room_id>")
def room_page(room_id):
    """The join page of a live room (the link secret stays in the fragment)."""
    if is_link_preview(request.user_agent.string):
        return _home_page()  # a preview shows nothing of the room, not even whether it lives
    room = _live_room(room_id)
    if room is None:
        return not_found()
    courier = _courier()
    return render_template("room.html", room_id=room.room_id,
                           expires_at_ms=int(room.expires_at * 1000),
                           now_ms=int(courier.now() * 1000), count=len(room.members),
                           locked=room.locked, max_ttl=courier.config.max_ttl_seconds,
                           max_file_bytes=courier.config.max_file_bytes,
                           pin_salt=room.pin_salt_text)


@pages.get("/r/<room_id>/admin")
def admin_page(room_id):
    """The admin PIN page of a live room."""
    if is_link_preview(request.user_agent.string):
        return _home_page()
    room = _live_room(room_id)
    if room is None:
        return not_found()
    return render_template("admin.html", room_id=room.room_id, pin_salt=room.pin_salt_text)


@pages.get("/.well-known/burnchat-manifest.json")
def release_manifest():
    """The release manifest shipped with this server; `verify` reads its version, never trusts it."""
    if not RELEASE_MANIFEST.is_file():
        return not_found()
    return send_file(RELEASE_MANIFEST, mimetype="application/json", etag=False, conditional=False)


@pages.get("/healthz")
def healthz():
    """Liveness for a container or platform probe: 200 "ok", and nothing about the rooms."""
    return Response("ok\n", mimetype="text/plain")


def static_file(filename):
    """A file of static/ from memory: ETag and 304, gzip when accepted, cached per `?v=`."""
    asset = current_app.extensions["burnchat_assets"].get(filename)
    if asset is None:
        abort(404)
    served = assets.answer(asset, request.args.get("v"), request.headers.get("If-None-Match"),
                           request.headers.get("Accept-Encoding"))
    return Response(served.body, served.status, served.headers)


def _address():
    """The requesting client's address (for rate limits only)."""
    return client_address(request.environ, _courier().config.trusted_proxies)
