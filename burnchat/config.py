"""Configuration and limits in one place: environment settings with safe defaults.

Every limit the server enforces lives here so that the client-side limits
(docs/PROTOCOL.md) and the server's schemas come from one set of numbers.
"""

import math
import os
from dataclasses import dataclass, field, fields

PROTOCOL_VERSION = 2
MAX_PLAINTEXT_BYTES = 4096  # of a text message; its JSON body is padded (below)
GCM_TAG_BYTES = 16
IV_BYTES = 12
MAX_NAME_BYTES = 32 * 4  # 32 code points of at most 4 UTF-8 bytes each
PADDED_NAME_BYTES = 132  # every name is padded to this, so its length is not on the wire
# A message body is padded to the smallest of these (PROTOCOL.md §6.1): only the class shows.
BODY_SIZE_CLASSES = (256, 512, 1024, 2048, 4096, 8192)
MAX_MEMBERS_PER_ROOM = 50
HARD_MAX_TTL_SECONDS = 72 * 3600
EXTEND_CHOICES = (300, 1800)
PIN_MAX_FAILURES = 3
PIN_ROOM_MAX_FAILURES = 30  # from any addresses together: with cheap checks, the bound on guessing
PIN_WINDOW_SECONDS = 600
KEY_REQUEST_TIMEOUT_SECONDS = 2.0
MAX_RESUME_SECONDS = 300  # the longest a dropped member's seat may be kept
# Stack-level speed-ups (docs/BENCHMARKS.md), all on by default; BURNCHAT_STACK_TUNING
# names the ones to keep ("none" for none), so the benchmark can measure each against
# the stack's defaults in one invocation. None changes what a client can do (no_deflate only
# declines an optional WebSocket extension).
STACK_TUNINGS = ("unmask", "inline_events", "bare_events", "gc", "fast_json", "no_deflate",
                 "untimed_writer", "nodelay")


def b64u_length(byte_count):
    """Length of unpadded base64url text for `byte_count` bytes."""
    return math.ceil(byte_count * 4 / 3)


ID_CHARS = b64u_length(16)                       # room and member IDs, link secret
PUBLIC_KEY_CHARS = b64u_length(65)               # uncompressed P-256 point
SIGNATURE_CHARS = b64u_length(64)                # P-256 r||s
MAC_CHARS = b64u_length(32)                      # HMAC-SHA256
HASH_CHARS = b64u_length(32)                     # join key, SHA-256 of it, envelope hashes
LINE_MAC_CHARS = b64u_length(16)                 # a roster line's truncated HMAC
IV_CHARS = b64u_length(IV_BYTES)
WRAPPED_KEY_CHARS = b64u_length(40)              # AES-KW of a 32-byte epoch secret
CIPHERTEXT_CHARS = tuple(b64u_length(size + GCM_TAG_BYTES) for size in BODY_SIZE_CLASSES)
ENC_NAME_CHARS = b64u_length(IV_BYTES + PADDED_NAME_BYTES + GCM_TAG_BYTES)

# The biggest legal frames but a file chunk are a key delivery to a full room and a
# message of the largest size class; anything larger that is not a `file_chunk` closes
# its connection before it is parsed (transport.small_frames_only; the default 1 MB
# would let one client make the server buffer far more than any legal event needs).
_KEY_BLOB_BYTES = ID_CHARS + WRAPPED_KEY_CHARS + SIGNATURE_CHARS + 40
_KEY_DELIVERY_BYTES = (MAX_MEMBERS_PER_ROOM * (ID_CHARS + LINE_MAC_CHARS + 6)
                       + MAX_MEMBERS_PER_ROOM * _KEY_BLOB_BYTES + SIGNATURE_CHARS + 200)
_ENVELOPE_BYTES = CIPHERTEXT_CHARS[-1] + ID_CHARS + HASH_CHARS + IV_CHARS + SIGNATURE_CHARS + 200
MAX_FRAME_BYTES = 1024 * math.ceil((max(_KEY_DELIVERY_BYTES, _ENVELOPE_BYTES) + 1024) / 1024)

# Files (PROTOCOL.md §6.7): fixed-size chunks, the last one padded to one of these classes, so
# the server learns a file's size only to within a class.
FILE_CHUNK_BYTES = 64 * 1024
FILE_LAST_CHUNK_CLASSES = (1024, 4096, 16384, FILE_CHUNK_BYTES)
FILE_CHUNK_CT_CHARS = tuple(b64u_length(size + GCM_TAG_BYTES) for size in FILE_LAST_CHUNK_CLASSES)
DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024
HARD_MAX_FILE_BYTES = 256 * 1024 * 1024
FILE_WINDOW = 4  # chunks a sender may have in flight (relayed, not yet taken by every receiver)


def file_chunk_count(size):
    """Chunks of a file of `size` bytes once padded (the padding needs at least one byte)."""
    return -(-(size + 1) // FILE_CHUNK_BYTES)


# Only the `file_chunk` event may be bigger than MAX_FRAME_BYTES (transport.py): one chunk
# frame is the WebSocket message cap, and nothing else grows with it.
MAX_CHUNK_FRAME_BYTES = 1024 * math.ceil((FILE_CHUNK_CT_CHARS[-1] + ID_CHARS + 200 + 1024) / 1024)


def _env_int(name, default):
    """Read an integer setting from the environment."""
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _env_float(name, default):
    """Read a decimal setting from the environment."""
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def _tunings(raw):
    """BURNCHAT_STACK_TUNING: unset = every tuning; "none" = none; else a comma list of them."""
    if raw is None:
        return frozenset(STACK_TUNINGS)
    chosen = frozenset(_origins(raw)) - {"none"}
    unknown = chosen - set(STACK_TUNINGS)
    if unknown:
        raise ValueError(f"BURNCHAT_STACK_TUNING: unknown {sorted(unknown)}; known {list(STACK_TUNINGS)}.")
    return chosen


def _origins(raw):
    """Extra origins allowed to open a socket, from a comma-separated list."""
    return tuple(o.strip() for o in raw.split(",") if o.strip())


def _env_list(name):
    """A comma-separated setting as a tuple of its non-empty items."""
    return _origins(os.environ.get(name, ""))


@dataclass
class Config:
    """Settings for one app; `from_env` reads them, tests override fields."""

    host: str = "127.0.0.1"
    port: int = 5000
    async_mode: str = "eventlet"
    min_ttl_seconds: int = 30
    max_ttl_seconds: int = HARD_MAX_TTL_SECONDS
    trusted_proxies: int = 0
    max_rooms: int = 20000
    max_connections: int = 12000
    max_members_per_room: int = MAX_MEMBERS_PER_ROOM
    # Per-member message bucket: a fast typist passes, a flood does not.
    message_rate_per_second: float = 2.0
    message_burst: int = 10
    # Per client address, per minute.
    room_creations_per_minute: int = 10
    connections_per_minute: int = 60
    pin_attempts_per_minute: int = 10
    # Live at once, per client address (see burnchat/transport.py and burnchat/gate.py).
    rooms_per_address: int = 20
    sockets_per_address: int = 256   # open TCP connections (not behind a trusted proxy)
    sessions_per_address: int = 64   # open Engine.IO (WebSocket) sessions
    # Per socket, per minute: every join starts a key epoch, so a join/leave loop must not rekey a room
    # hundreds of times.
    joins_per_minute: int = 6
    # A member whose socket drops keeps its seat this long (presence.py); bounded so
    # nobody can hold a seat for ever.
    resume_seconds: float = 60.0
    resume_max_envelopes: int = 200
    resume_max_bytes: int = 1024 * 1024
    # Transport deadlines, in seconds.
    header_timeout_seconds: float = 10.0    # request line + headers, from the first byte we wait for
    read_timeout_seconds: float = 20.0      # any single read or write on an HTTP connection
    connect_timeout_seconds: float = 10.0   # Engine.IO handshake -> Socket.IO namespace connect
    allowed_origins: tuple = field(default_factory=tuple)
    # Host header allow-list; empty = HOST (unless a wildcard), the allowed origins, and loopback.
    allowed_hosts: tuple = field(default_factory=tuple)
    # Test-only hooks (burnchat/introspect.py); never on in a deployment.
    test_hooks: bool = False
    # Several processes share rooms through this Redis; empty = one process, rooms in RAM.
    redis_url: str = ""
    redis_allow_persistence: bool = False
    # Each process renews a heartbeat in Redis this often; a survivor treats a process
    # whose heartbeat is older than the TTL as dead (adopts its countdowns, removes its members).
    heartbeat_seconds: float = 0.2
    heartbeat_ttl_seconds: float = 0.8
    # Files (filerelay.py): the largest file, the bytes of files a room may move per minute,
    # and how long a receiver may take to take one chunk before it is left out of that file.
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    file_bytes_per_minute: int = 64 * 1024 * 1024
    file_ack_seconds: float = 15.0
    stack_tuning: frozenset = frozenset(STACK_TUNINGS)

    def __post_init__(self):
        """Refuse settings that would open a hole rather than fail closed."""
        if "*" in self.allowed_origins:
            # Any site could then open sockets in a visitor's name (cross-site WebSocket hijacking).
            raise ValueError("BURNCHAT_ALLOWED_ORIGINS must list origins, never '*'.")
        if "*" in self.allowed_hosts:
            # A DNS-rebinding page would then reach the app under its own name.
            raise ValueError("BURNCHAT_ALLOWED_HOSTS must list host names, never '*'.")
        if not 0 < self.max_file_bytes <= HARD_MAX_FILE_BYTES:
            raise ValueError(f"BURNCHAT_MAX_FILE_BYTES must be from 1 to {HARD_MAX_FILE_BYTES}.")
        if not 0 <= self.resume_seconds <= MAX_RESUME_SECONDS:
            raise ValueError(f"BURNCHAT_RESUME_SECONDS must be from 0 to {MAX_RESUME_SECONDS}.")

    @classmethod
    def from_env(cls):
        """Build a Config from BURNCHAT_* / PORT / HOST environment variables."""
        origins = os.environ.get("BURNCHAT_ALLOWED_ORIGINS", "")
        return cls(
            host=os.environ.get("HOST", cls.host),
            port=_env_int("PORT", cls.port),
            async_mode=os.environ.get("BURNCHAT_ASYNC_MODE", cls.async_mode),
            min_ttl_seconds=_env_int("BURNCHAT_MIN_TTL_SECONDS", cls.min_ttl_seconds),
            trusted_proxies=_env_int("BURNCHAT_TRUSTED_PROXIES", cls.trusted_proxies),
            max_rooms=_env_int("BURNCHAT_MAX_ROOMS", cls.max_rooms),
            max_connections=_env_int("BURNCHAT_MAX_CONNECTIONS", cls.max_connections),
            room_creations_per_minute=_env_int(
                "BURNCHAT_ROOMS_PER_MINUTE", cls.room_creations_per_minute),
            connections_per_minute=_env_int(
                "BURNCHAT_CONNECTIONS_PER_MINUTE", cls.connections_per_minute),
            pin_attempts_per_minute=_env_int(
                "BURNCHAT_PIN_ATTEMPTS_PER_MINUTE", cls.pin_attempts_per_minute),
            message_rate_per_second=_env_float(
                "BURNCHAT_MESSAGE_RATE", cls.message_rate_per_second),
            message_burst=_env_int("BURNCHAT_MESSAGE_BURST", cls.message_burst),
            rooms_per_address=_env_int("BURNCHAT_ROOMS_PER_ADDRESS", cls.rooms_per_address),
            sockets_per_address=_env_int("BURNCHAT_SOCKETS_PER_ADDRESS", cls.sockets_per_address),
            sessions_per_address=_env_int(
                "BURNCHAT_SESSIONS_PER_ADDRESS", cls.sessions_per_address),
            joins_per_minute=_env_int("BURNCHAT_JOINS_PER_MINUTE", cls.joins_per_minute),
            resume_seconds=_env_float("BURNCHAT_RESUME_SECONDS", cls.resume_seconds),
            header_timeout_seconds=_env_float(
                "BURNCHAT_HEADER_TIMEOUT_SECONDS", cls.header_timeout_seconds),
            read_timeout_seconds=_env_float(
                "BURNCHAT_READ_TIMEOUT_SECONDS", cls.read_timeout_seconds),
            connect_timeout_seconds=_env_float(
                "BURNCHAT_CONNECT_TIMEOUT_SECONDS", cls.connect_timeout_seconds),
            allowed_origins=_origins(origins),
            # Heroku names the app's own domain here (dyno metadata): it is the site's name.
            allowed_hosts=_env_list("BURNCHAT_ALLOWED_HOSTS")
            + _env_list("HEROKU_APP_DEFAULT_DOMAIN_NAME"),
            test_hooks=os.environ.get("BURNCHAT_TEST_HOOKS") == "1",
            redis_url=os.environ.get("BURNCHAT_REDIS_URL", ""),
            redis_allow_persistence=os.environ.get("BURNCHAT_REDIS_ALLOW_PERSISTENCE") == "1",
            heartbeat_seconds=_env_float("BURNCHAT_HEARTBEAT_SECONDS", cls.heartbeat_seconds),
            heartbeat_ttl_seconds=_env_float(
                "BURNCHAT_HEARTBEAT_TTL_SECONDS", cls.heartbeat_ttl_seconds),
            max_file_bytes=_env_int("BURNCHAT_MAX_FILE_BYTES", cls.max_file_bytes),
            file_bytes_per_minute=_env_int(
                "BURNCHAT_FILE_BYTES_PER_MINUTE", cls.file_bytes_per_minute),
            file_ack_seconds=_env_float("BURNCHAT_FILE_ACK_SECONDS", cls.file_ack_seconds),
            stack_tuning=_tunings(os.environ.get("BURNCHAT_STACK_TUNING")),
        )

    def replace(self, **changes):
        """A copy with some fields changed (unknown names are an error)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown config fields: {sorted(unknown)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Config(**values)
