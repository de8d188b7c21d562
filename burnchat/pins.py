"""Admin PINs as the server sees them: a verifier, a constant-time check and the lockout rule.

The server never sees a PIN (PROTOCOL.md §8.1). The creator's client makes it and sends
`pin_salt` and `pin_verifier` = SHA-256(proof), where proof = PBKDF2-HMAC-SHA256(PIN,
pin_salt, 600,000 iterations); a claim sends the proof. So the slow half of the hash is
paid by the client that types the PIN, and checking a claim costs the server one SHA-256:
room creation and PIN guesses take no hashing time here, yet a memory dump still needs
600,000 iterations per guessed PIN to find one.

Pure code: no Flask, time comes in as a `now()` function so tests need no sleeps.
"""

import hashlib
import hmac
import math

from .config import PIN_MAX_FAILURES, PIN_ROOM_MAX_FAILURES, PIN_WINDOW_SECONDS


def proof_matches(proof, verifier):
    """True when SHA-256(proof) is the room's verifier (constant-time compare)."""
    return hmac.compare_digest(hashlib.sha256(proof).digest(), verifier)


ROOM_WIDE = "*"  # the failures of every address together (no address is spelt "*")


class PinGuard:
    """Counts wrong PINs per client address: 3 within 10 minutes lock that address out, and
    30 within 10 minutes from any addresses lock the room's PIN for everyone.

    Checking a proof costs the server one SHA-256 (§8.1), so nothing but these counts
    bounds guessing: an attacker with many addresses (an IPv6 /32 is 2^32 /64s) could
    otherwise try thousands of PINs a second. Room-wide, a room's 72 hours allow about
    13,000 wrong guesses of its 2^40 PINs. The price: someone who has the room's ID (a
    link holder) can keep its PIN locked, and the admin's claims with it, 10 minutes at a
    time; an admin already in holds its rights.

    The failure records live in `failures` (address -> list of times), a plain
    dict owned by the room, so a shared store can keep them with the room.
    """

    def __init__(self, now, failures, max_failures=PIN_MAX_FAILURES, window=PIN_WINDOW_SECONDS,
                 room_max_failures=PIN_ROOM_MAX_FAILURES):
        self._now = now
        self._failures = failures
        self._limits = {ROOM_WIDE: room_max_failures}
        self._max_failures = max_failures
        self._window = window

    def _recent(self, key):
        """The key's failures still inside the window (older ones are forgotten)."""
        cutoff = self._now() - self._window
        recent = [t for t in self._failures.get(key, ()) if t > cutoff]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return recent

    def _wait(self, key):
        """Seconds until `key` is under its limit again (0: it is)."""
        limit = self._limits.get(key, self._max_failures)
        failures = self._recent(key)
        if len(failures) < limit:
            return 0
        return max(1, math.ceil(failures[-limit] + self._window - self._now()))

    def retry_after(self, address):
        """Seconds until `address` may try again, or 0 when neither it nor the room is locked out."""
        return max(self._wait(address), self._wait(ROOM_WIDE))

    def attempts_left(self, address):
        """Wrong PINs `address` may still type before it (or the room) is locked out."""
        return max(0, min(self._max_failures - len(self._recent(address)),
                          self._limits[ROOM_WIDE] - len(self._recent(ROOM_WIDE))))

    def record_failure(self, address):
        """Remember one wrong PIN from `address` (and for the room)."""
        for key in (address, ROOM_WIDE):
            self._failures[key] = [*self._recent(key), self._now()]
