"""Python -> JS: crypto.js (run by node) opens an announcement, key blob and message made here."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from burnchat.client import crypto

CRYPTO_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "crypto.js"

# Bob's side, in JS: accept both announcements, unwrap alice's key, read her message.
NODE_SCRIPT = """
import { readFileSync } from "node:fs";
const bc = await import(process.env.BURNCHAT_CRYPTO_URL);
const input = JSON.parse(readFileSync(0, "utf8"));
const subtle = globalThis.crypto.subtle;
const linkKeys = await bc.deriveLinkKeys(input.secret, input.room);
const alice = await bc.openAnnouncement({ linkKeys, roomId: input.room, announcement: input.alice });
const bob = await bc.openAnnouncement({ linkKeys, roomId: input.room, announcement: input.bob });
const privateKey = await subtle.importKey("pkcs8", bc.b64uDecode(input.bob_ecdh_pkcs8),
  { name: "ECDH", namedCurve: "P-256" }, false, ["deriveKey", "deriveBits"]);
const identity = { ecdh: { privateKey } };
const { epoch, roomKey } = await bc.openRoomKey({ roomId: input.room, blob: input.blob, identity,
  myId: bob.memberId, sender: alice });
const text = await bc.openMessage({ roomId: input.room, envelope: input.envelope, roomKey, sender: alice });
const safetyCode = await bc.safetyCode(input.room, [alice, bob]);
process.stdout.write(JSON.stringify({ names: [alice.name, bob.name], fingerprints: [alice.fingerprint, bob.fingerprint],
  epoch, text, safetyCode }));
"""


def python_room():
    """Everything Python makes for alice and bob in a fresh room, plus what JS needs as bob."""
    secret, room = crypto.random_id(), crypto.random_id()
    link_keys = crypto.derive_link_keys(secret, room)
    ids = {who: crypto.generate_identity() for who in ("alice", "bob")}
    member_ids = {who: crypto.random_id() for who in ids}
    names = {"alice": "Ålice 🔥", "bob": "Bob"}
    anns = {
        who: crypto.seal_announcement(link_keys, room, member_ids[who], ids[who], names[who]) for who in ids
    }
    bob = crypto.open_announcement(link_keys, room, anns["bob"])
    alice = crypto.open_announcement(link_keys, room, anns["alice"])
    room_key = crypto.new_room_key()
    blob = crypto.wrap_room_key(room, 7, room_key, ids["alice"], member_ids["alice"], bob)
    text = "From Python, with ünïcödé and 🔥 — 5 > 4 | pipes"
    envelope = crypto.seal_message(room, 7, room_key, ids["alice"], member_ids["alice"], 3, text)
    pkcs8 = ids["bob"].ecdh.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    node_input = {
        "secret": secret, "room": room, "alice": anns["alice"], "bob": anns["bob"], "blob": blob,
        "envelope": envelope, "bob_ecdh_pkcs8": crypto.b64u_encode(pkcs8),
    }
    expected = {
        "names": [names["alice"], names["bob"]],
        "fingerprints": [alice.fingerprint, bob.fingerprint],
        "epoch": 7,
        "text": text,
        "safetyCode": crypto.safety_code(room, [alice, bob]),
    }
    return node_input, expected


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.skipif(not CRYPTO_JS.exists(), reason="static/js/crypto.js not written yet")
def test_crypto_js_opens_python_made_room():
    """JS accepts Python's announcements, key blob and message and agrees on every display value."""
    node_input, expected = python_room()
    result = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_SCRIPT],
        input=json.dumps(node_input), capture_output=True, text=True, timeout=30,
        env={**os.environ, "BURNCHAT_CRYPTO_URL": CRYPTO_JS.as_uri()},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
