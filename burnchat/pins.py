"""Admin PINs: generation, salted hashing, constant-time checks and the lockout rule.

Pure code: no Flask, time comes in as a `now()` function so tests need no sleeps.
"""

import hashlib
import math
import hmac
import secrets

from .config import PIN_MAX_FAILURES, PIN_WINDOW_SECONDS

# 32 symbols without 0/O and 1/I: 8 of them carry exactly 40 bits.
PIN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PIN_LENGTH = 8


def new_pin():
    """A fresh random PIN, formatted XXXX-XXXX for people to read."""
    raw = "".join(secrets.choice(PIN_ALPHABET) for _ in range(PIN_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_pin(text):
    """Accept a PIN typed with or without the dash, in any case."""
    return "".join(ch for ch in text.upper() if ch not in "- ")


def hash_pin(pin, salt=None):
    """Salted hash of a PIN; the PIN itself is never stored."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(normalize_pin(pin).encode(), salt=salt, n=2**12, r=8, p=1, dklen=32)
    return salt, digest


def pin_digest(pin, salt):
    """The hash of a typed PIN under a room's salt (slow on purpose: run it off the event loop)."""
    return hash_pin(pin, salt)[1]


def pin_matches(pin, salt, digest, candidate=None):
    """Compare a typed PIN against the stored hash in constant time.

    `candidate` is `pin_digest(pin, salt)` when the caller already computed it elsewhere.
    """
    if candidate is None:
        candidate = pin_digest(pin, salt)
    return hmac.compare_digest(candidate, digest)


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
