"""Socket.IO handlers: each parses its payload against its schema, calls the courier, acks.

Every client->server event answers through its acknowledgement with
`{"ok": true, ...}` or `{"ok": false, "code", "error"}`; a bad payload never
closes the connection or touches the room. See docs/PROTOCOL.md §7.
"""

import functools
import logging

from flask import current_app, request
from flask_socketio import ConnectionRefusedError

from . import frames, schemas
from .factory import socketio
from .rooms import RoomError
from .security import client_address

log = logging.getLogger("burnchat")


def _courier():
    """The app's courier."""
    return current_app.extensions["burnchat"]


def error_ack(code, message, **extra):
    """A refusal: a stable code for programs and a sentence for people."""
    return {"ok": False, "code": code, "error": message, **extra}


def handler(event, schema):
    """Register `fn` for `event`, validating its one payload against `schema`."""
    def decorator(fn):
        def run(courier, sid, args):
            if len(args) > 1:
                return error_ack("invalid", "Send exactly one payload object.")
            try:
                payload = schemas.parse(schema, args[0] if args else None)
                result = fn(courier, sid, payload)
            except schemas.InvalidPayload as error:
                return error_ack("invalid", f"Invalid {event} payload: {error}")
            except schemas.OtherVersion:
                return error_ack("bad_version", "This page is out of date. Reload it to continue.")
            except RoomError as error:
                return error_ack(error.code, error.message, **error.extra)
            except Exception as error:  # one bad event must never hurt the room or process
                log.error("internal error in %s handler: %s", event, type(error).__name__)
                return error_ack("internal", "Something went wrong on the server.")
            return {"ok": True, **(result or {})}

        @functools.wraps(fn)
        def wrapped(*args):
            return run(_courier(), request.sid, args)

        # Without Flask's request context (factory.CourierSocketIO, BURNCHAT_STACK_TUNING).
        wrapped.bare = lambda app, sid, *args: run(app.extensions["burnchat"], sid, args)
        socketio.on_event(event, wrapped)
        return fn
    return decorator


@socketio.on("connect")
def on_connect(auth=None):
    """A browser or client opens a socket; refused when the server or its address is over limit."""
    courier = _courier()
    address = client_address(request.environ, courier.config.trusted_proxies)
    try:
        courier.connect(request.sid, address)
    except RoomError as error:
        # The client's connect_error then carries message = the sentence, data = {code, error}.
        raise ConnectionRefusedError(error.message,
                                     {"code": error.code, "error": error.message}) from None


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """A socket closed: its member leaves its room (and the room rekeys)."""
    _courier().disconnect(request.sid)


@socketio.on("*")
def on_unknown(event, *args):
    """Any event not in the protocol gets the same kind of refusal as a bad payload."""
    if event == frames.MALFORMED_EVENT:
        return error_ack("invalid", "That frame is not a well-formed Socket.IO event.")
    return error_ack("unknown_event", "That event is not part of the Burn Chat protocol.")


@handler("join", schemas.Join)
def join(courier, sid, payload):
    """A client joins a room with its announcement; members and admins hear `member_joined`."""
    return courier.join(sid, payload)


@handler("resume", schemas.Resume)
def resume(courier, sid, payload):
    """A client whose socket dropped takes its seat back; the others hear `member_back`.

    The ack carries what the room said meanwhile (`missed`), in order.
    """
    return courier.presence.resume(sid, payload)


@handler("leave", schemas.Empty)
def leave(courier, sid, payload):
    """A member leaves; the others hear `member_left` and `rekey`."""
    courier.leave(sid)


@handler("key_held", schemas.KeyHeld)
def key_held(courier, sid, payload):
    """A member reports the key epoch it now holds, so the server knows the epoch is settled."""
    courier.keys.held(sid, payload.epoch)


@handler("key_missing", schemas.KeyMissing)
def key_missing(courier, sid, payload):
    """A member still lacks the current epoch's key; the server passes that epoch's creator over."""
    courier.keys.missing(sid, payload.epoch)


@handler("key_deliver", schemas.KeyDeliver)
def key_deliver(courier, sid, payload):
    """The epoch's creator answers its `key_request`; each blob goes to its recipient only as `room_key`."""
    courier.keys.deliver(sid, payload)


@handler("message", schemas.Envelope)
def message(courier, sid, payload):
    """A member sends an encrypted envelope; every other member receives it as `message`."""
    courier.relay.send(sid, payload)


@handler("file_chunk", schemas.FileChunk)
def file_chunk(courier, sid, payload):
    """A member sends the next chunk of its file; the file's receivers get `file_chunk`.

    The ack comes once every receiver acknowledged the chunk (or was left out as too slow).
    """
    courier.files.chunk(sid, payload)


@handler("file_cancel", schemas.FileCancel)
def file_cancel(courier, sid, payload):
    """A member gives its file up; the file's receivers get `file_cancel`."""
    courier.files.cancel(sid, payload.transfer)


@handler("admin_auth", schemas.AdminAuth)
def admin_auth(courier, sid, payload):
    """The creator (room page, admin page, terminal) claims admin rights for this connection
    with the PIN's proof: PBKDF2 of the PIN, made by that client (§8.1)."""
    return courier.admin.auth(sid, payload.room, payload.proof)


@handler("admin_kick", schemas.AdminKick)
def admin_kick(courier, sid, payload):
    """An admin removes a member: it gets `kicked`, the others `member_left` and `rekey`.

    The ack says which epoch leaves the member out and whether this connection's own
    member is asked to make it (so the admin's page can verify the removal itself).
    With `join_key_hash` the link changes too ("Kick and change the link", §5.6).
    """
    return courier.admin.kick(sid, payload.member_id, payload.join_key_hash)


@handler("admin_relink", schemas.AdminRelink)
def admin_relink(courier, sid, payload):
    """An admin in the room changes its link: the others hear `rekey` naming the admin's member,
    whose client sends them the new secret inside the new epoch (§5.6)."""
    return courier.admin.relink(sid, payload.join_key_hash)


@handler("announce", schemas.Announce)
def announce(courier, sid, payload):
    """A member announces itself again under the new link; the others hear `member_announced`."""
    courier.reannounce(sid, payload.enc_name, payload.mac)


@handler("admin_lock", schemas.AdminLock)
def admin_lock(courier, sid, payload):
    """An admin locks or unlocks the room; everyone hears `room_state`."""
    courier.admin.lock(sid, payload.locked)


@handler("admin_extend", schemas.AdminExtend)
def admin_extend(courier, sid, payload):
    """An admin adds 5 or 30 minutes; everyone hears `room_state` at once."""
    return courier.admin.extend(sid, payload.seconds)


@handler("admin_burn", schemas.Empty)
def admin_burn(courier, sid, payload):
    """An admin burns the room now; everyone hears `destroyed`."""
    courier.admin.burn(sid)
