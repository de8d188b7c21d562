"""The admin PIN as tests send it (PROTOCOL.md §8.1): a creating client's salt and verifier, a
claim's proof.

Rooms made with `room_request` share one PIN and salt, so PBKDF2's 600,000 iterations run
once per process for them (the server cannot tell); a room made by a browser has its own salt,
read from GET /api/rooms/ROOM.
"""

import functools

import requests

from burnchat.client import crypto

TEST_PIN = "ABCD-EFGH"
TEST_SALT = crypto.b64u_encode(b"burnchat-tests16")


@functools.cache
def proof(pin, salt=TEST_SALT):
    """The proof `admin_auth` sends for `pin` (any PIN-shaped text, right or wrong)."""
    return crypto.pin_proof(pin, salt)


def room_request(ttl_seconds=60, **extra):
    """POST /api/rooms JSON for a room whose PIN is TEST_PIN."""
    return {"ttl_seconds": ttl_seconds, "pin_salt": TEST_SALT,
            "pin_verifier": crypto.pin_verifier(proof(TEST_PIN)), **extra}


def pin_auth(room_id, pin, salt=TEST_SALT):
    """An `admin_auth` payload claiming `room_id` with `pin`."""
    return {"room": room_id, "proof": proof(pin, salt)}


def room_salt(base_url, room_id):
    """The PIN salt of a live room (one a browser made), as every client reads it."""
    response = requests.get(f"{base_url}/api/rooms/{room_id}", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["pin_salt"]
