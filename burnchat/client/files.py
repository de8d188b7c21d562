"""Files (docs/PROTOCOL.md §6.7), mirroring static/js/files.js, and the terminal's file desk.

The pure part: the metadata body with a fresh file key, chunking with the last chunk padded
to a size class, AES-GCM per chunk (IV from the index, AAD binding room/transfer/index/total),
and the in-order assembly with the whole-file SHA-256 check. `FileDesk` is what a terminal
chat does with files: `/send PATH` uploads, received files stay in memory, and only `/save N
PATH` writes one to disk, at the person's request.
"""

import hashlib
import mimetypes
import os
import re
import secrets
import time
import unicodedata
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import crypto
from .crypto import ProtocolError
from .wording import printable

CHUNK_BYTES = 64 * 1024
LAST_CHUNK_CLASSES = (1024, 4096, 16384, CHUNK_BYTES)
DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_FILE_NAME_BYTES = 255
MAX_FILE_TYPE_CHARS = 127
_TYPE_SHAPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*\Z")
_BODY_KEYS = {"t", "transfer", "name", "type", "size", "chunks", "sha256", "key"}


def chunk_count(size):
    """Chunks of a file of `size` bytes once padded (the padding needs one byte at least)."""
    return -(-(size + 1) // CHUNK_BYTES)


def padded_length(size):
    """Bytes of the padded file: every chunk full but the last, padded to its class."""
    total = chunk_count(size)
    rest = size + 1 - (total - 1) * CHUNK_BYTES
    return (total - 1) * CHUNK_BYTES + next(c for c in LAST_CHUNK_CLASSES if c >= rest)


def chunk_plaintext(data, index):
    """Plaintext of chunk `index` of `data`, padded as pad() of §1 on the whole file."""
    start = index * CHUNK_BYTES
    end = min(start + CHUNK_BYTES, padded_length(len(data)))
    out = bytearray(data[start:min(end, len(data))])
    if start <= len(data) < end:
        out.append(0x80)
    out.extend(b"\x00" * (end - start - len(out)))
    return bytes(out)


def chunk_iv(index):
    """4 zero bytes, then the index as 8 bytes big-endian (one key per file, one IV per chunk)."""
    return b"\x00" * 4 + index.to_bytes(8, "big")


def chunk_aad(room_id, transfer, index, total):
    """The AAD of a chunk: its room, file, position and the file's chunk count."""
    return crypto.label("burnchat/v2/file", room_id, transfer, index, total)


def _is_control(ch):
    return unicodedata.category(ch) in ("Cc", "Cf") or ch in "\u2028\u2029"


def clean_name(raw):
    """The last path part, no control or format characters, at most 255 UTF-8 bytes ("file" if empty)."""
    name = re.split(r"[\\/]", str(raw or ""))[-1]
    name = "".join(ch for ch in name if not _is_control(ch)).strip() or "file"
    while len(name.encode()) > MAX_FILE_NAME_BYTES:
        name = name[:-1]
    return name


def clean_type(raw):
    """A declared type in its plain lower-case form, or "" when it isn't one."""
    kind = str(raw or "").lower().split(";")[0].strip()
    return kind if len(kind) <= MAX_FILE_TYPE_CHARS and _TYPE_SHAPE.match(kind) else ""


class PreparedFile:
    """A file to send: its metadata body (with a fresh key) and a sealer for its chunks."""

    def __init__(self, room_id, data, name, kind, key=None, transfer=None):
        raw = key if key is not None else secrets.token_bytes(32)
        self.transfer = transfer or crypto.random_id()
        self.total = chunk_count(len(data))
        self._room_id, self._data, self._aead = room_id, data, AESGCM(raw)
        self.body = {"t": "file", "transfer": self.transfer, "name": clean_name(name),
                     "type": clean_type(kind), "size": len(data), "chunks": self.total,
                     "sha256": crypto.b64u_encode(hashlib.sha256(data).digest()),
                     "key": crypto.b64u_encode(raw)}

    def seal(self, index):
        """The `file_chunk` payload of chunk `index`."""
        ct = self._aead.encrypt(chunk_iv(index), chunk_plaintext(self._data, index),
                                chunk_aad(self._room_id, self.transfer, index, self.total))
        return {"transfer": self.transfer, "index": index, "total": self.total,
                "ct": crypto.b64u_encode(ct)}


def check_file_body(body, max_bytes=DEFAULT_MAX_FILE_BYTES):
    """A received file body, checked (ProtocolError bad_file otherwise)."""
    bad = ProtocolError("bad_file", "the file's description is malformed")
    if not isinstance(body, dict) or set(body) != _BODY_KEYS:
        raise bad
    try:
        crypto.check_id(body["transfer"], "transfer")
        crypto.b64u_decode(body["sha256"], 32)
        crypto.b64u_decode(body["key"], 32)
    except (ProtocolError, TypeError, ValueError):
        raise bad from None
    name, kind, size = body["name"], body["type"], body["size"]
    if not isinstance(name, str) or name != clean_name(name) or not isinstance(kind, str) \
            or kind != clean_type(kind):
        raise bad
    if type(size) is not int or not 0 <= size <= max_bytes or body["chunks"] != chunk_count(size):
        raise bad
    return dict(body)


class Assembly:
    """One file arriving: chunks opened in order; finish() checks padding, size and hash."""

    def __init__(self, room_id, meta):
        self.meta = meta
        self._room_id = room_id
        self._aead = AESGCM(crypto.b64u_decode(meta["key"]))
        self._parts = []

    @property
    def complete(self):
        return len(self._parts) == self.meta["chunks"]

    @property
    def received_bytes(self):
        return min(len(self._parts) * CHUNK_BYTES, self.meta["size"])

    def add(self, chunk):
        """Open the next chunk ({index, total, ct}); anything else is bad_chunk."""
        index, total = chunk.get("index"), chunk.get("total")
        if index != len(self._parts) or total != self.meta["chunks"]:
            raise ProtocolError("bad_chunk", "a chunk is missing, repeated or out of order")
        last = index == total - 1
        expected = padded_length(self.meta["size"]) - index * CHUNK_BYTES if last else CHUNK_BYTES
        try:
            ct = crypto.b64u_decode(chunk.get("ct"), expected + 16)
            plain = self._aead.decrypt(chunk_iv(index), ct,
                                       chunk_aad(self._room_id, self.meta["transfer"], index, total))
        except Exception:
            raise ProtocolError("bad_chunk", "a chunk was changed on the way") from None
        self._parts.append(plain)

    def finish(self):
        """The whole file, padding and SHA-256 checked (bad_hash otherwise)."""
        size = self.meta["size"]
        padded = b"".join(self._parts)
        self._parts = []
        tail = padded[size:]
        data = padded[:size]
        if not tail or tail[0] != 0x80 or tail.strip(b"\x00") != b"\x80" or \
                crypto.b64u_encode(hashlib.sha256(data).digest()) != self.meta["sha256"]:
            raise ProtocolError("bad_hash", "the file doesn't match its fingerprint")
        return data

    def drop(self):
        self._parts = []


def format_size(size):
    """"3.1 MB", "512 KB", "12 bytes" (the browser says the same)."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


class FileDesk:
    """A terminal chat's files: uploads, arrivals (in memory only) and saving on request."""

    def __init__(self, chat, max_bytes=DEFAULT_MAX_FILE_BYTES):
        self.chat = chat
        self.max_bytes = max_bytes
        self.incoming = {}   # (sender, transfer) -> Assembly
        self.received = []   # [{"name", "type", "size", "from", "data"}], numbered from 1 by /files
        self.outgoing = {}   # local_id -> PreparedFile whose metadata is on its way

    def send(self, path):
        """`/send PATH`: read the file (refused over the limit before a byte is sent), queue its metadata."""
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            self.chat.status(f"Can't read {path}: {exc.strerror}", tone="warn")
            return
        if size > self.max_bytes:
            self.chat.status(f"Not sent: {format_size(size)}, files are limited to "
                             f"{format_size(self.max_bytes)}", tone="warn")
            return
        data = Path(path).read_bytes()
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        prepared = PreparedFile(self.chat.session.room_id, data, Path(path).name, kind)
        local_id = self.chat.session.queue_file(prepared.body)
        self.outgoing[local_id] = prepared
        self.chat.status(f"Sending {prepared.body['name']} ({format_size(size)})...")
        self.chat.flush_outbox()

    def metadata_sent(self, local_id):
        """The server took the metadata: the chunks follow, one acknowledged call at a time."""
        prepared = self.outgoing.pop(local_id, None)
        if prepared is None:
            return
        for index in range(prepared.total):
            ack = self._send_chunk(prepared, index)
            if not ack.get("ok"):
                self.chat.connection.call("file_cancel", {"transfer": prepared.transfer})
                self.chat.status(f"{prepared.body['name']} couldn't be sent: "
                                 f"{ack.get('error', ack.get('code'))}", tone="warn")
                return
        self.chat.status(f"Sent {prepared.body['name']}", tone="ok")

    def _send_chunk(self, prepared, index, tries=10):
        """One chunk, sent again after a passing refusal (the room's byte budget, the window)."""
        chunk = prepared.seal(index)
        for _ in range(tries):
            ack = self.chat.connection.call("file_chunk", chunk)
            if ack.get("ok") or ack.get("code") not in ("rate_limited", "busy"):
                return ack
            time.sleep(1.0)  # the room's budget refills; the chat loop waits with us
        return ack

    def announced(self, result):
        """A file's metadata arrived: its chunks are expected."""
        key = (result["member_id"], result["file"]["transfer"])
        if len(self.incoming) < 50:
            self.incoming[key] = Assembly(self.chat.session.room_id, result["file"])
        meta = result["file"]
        self.chat.status(f"{printable(result['name'])} is sending {printable(meta['name'])} "
                         f"({format_size(meta['size'])}{', ' + meta['type'] if meta['type'] else ''})...")

    def on_chunk(self, data):
        """One chunk from the relay: opened in order; the last one checks the whole file."""
        if not isinstance(data, dict):
            return
        key = (data.get("sender"), data.get("transfer"))
        assembly = self.incoming.get(key)
        if assembly is None:
            return
        try:
            assembly.add(data)
            if not assembly.complete:
                return
            del self.incoming[key]
            content = assembly.finish()
        except ProtocolError as exc:
            self.incoming.pop(key, None)
            assembly.drop()
            self.chat.status(f"Rejected {printable(assembly.meta['name'])}: {exc.message}", tone="warn")
            return
        meta = assembly.meta
        self.received.append({"name": meta["name"], "type": meta["type"], "size": meta["size"],
                              "from": key[0], "data": content})
        number = len(self.received)
        self.chat.status(f"File {number}: {printable(meta['name'])} ({format_size(meta['size'])}) from "
                         f"{self.chat.name_of(key[0])} - kept in memory; /save {number} PATH writes it",
                         tone="ok")

    def on_cancel(self, data):
        """The sender cancelled or left, or we were too slow."""
        key = (data.get("sender"), data.get("transfer")) if isinstance(data, dict) else None
        assembly = self.incoming.pop(key, None)
        if assembly is not None:
            assembly.drop()
            why = {"cancelled": "cancelled by the sender", "slow": "your connection was too slow"}
            self.chat.status(f"{printable(assembly.meta['name'])} didn't arrive: "
                             f"{why.get(data.get('reason'), 'the sender left')}", tone="warn")

    def member_left(self, member_id):
        """A member left: its unfinished files won't come."""
        for key in [k for k in self.incoming if k[0] == member_id]:
            self.on_cancel({"sender": key[0], "transfer": key[1], "reason": "gone"})

    def list(self):
        """`/files`: what arrived, numbered."""
        if not self.received:
            self.chat.status("No files yet")
        for number, entry in enumerate(self.received, 1):
            self.chat.status(f"  {number}. {printable(entry['name'])} ({format_size(entry['size'])}) "
                             f"from {self.chat.name_of(entry['from'])}")

    def save(self, argument):
        """`/save N PATH`: write file N to PATH (never over an existing file)."""
        number, _, path = argument.partition(" ")
        if not number.isdigit() or not path.strip() or not 1 <= int(number) <= len(self.received):
            self.chat.status("Usage: /save N PATH (see /files for the numbers)", tone="warn")
            return
        entry = self.received[int(number) - 1]
        try:
            with open(os.path.expanduser(path.strip()), "xb") as out:
                out.write(entry["data"])
        except OSError as exc:
            self.chat.status(f"Not saved: {exc.strerror}", tone="warn")
            return
        self.chat.status(f"Saved {printable(entry['name'])} to {path.strip()}", tone="ok")

    def wipe(self):
        """The burn (or a kick, or exit): every file and chunk dropped."""
        for assembly in self.incoming.values():
            assembly.drop()
        self.incoming.clear()
        self.received.clear()
        self.outgoing.clear()

