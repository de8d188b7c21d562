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

from .config import PIN_MAX_FAILURES, PIN_WINDOW_SECONDS


def proof_matches(proof, verifier):
    """True when SHA-256(proof) is the room's verifier (constant-time compare)."""
    return hmac.compare_digest(hashlib.sha256(proof).digest(), verifier)


class PinGuard:
    """Counts wrong PINs per client address: 3 within 10 minutes lock that address out.

    The failure records live in `failures` (address -> list of times), a plain
    dict owned by the room, so a shared store can keep them with the room.
    """

    def __init__(self, now, failures, max_failures=PIN_MAX_FAILURES, window=PIN_WINDOW_SECONDS):
        self._now = now
        self._failures = failures
        self._max_failures = max_failures
        self._window = window

    def _recent(self, address):
        """The address's failures still inside the window (older ones are forgotten)."""
        cutoff = self._now() - self._window
        recent = [t for t in self._failures.get(address, ()) if t > cutoff]
        if recent:
            self._failures[address] = recent
        else:
            self._failures.pop(address, None)
        return recent

    def retry_after(self, address):
        """Seconds until `address` may try again, or 0 when it is not locked out."""
        failures = self._recent(address)
        if len(failures) < self._max_failures:
            return 0
        return max(1, math.ceil(failures[-self._max_failures] + self._window - self._now()))

    def attempts_left(self, address):
        """Wrong PINs `address` may still type before it is locked out."""
        return max(0, self._max_failures - len(self._recent(address)))

    def record_failure(self, address):
        """Remember one wrong PIN from `address`."""
        self._failures[address] = [*self._recent(address), self._now()]
