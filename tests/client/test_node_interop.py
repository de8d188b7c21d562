"""Python <-> JS through node: crypto.js / epoch.js / ratchet.js open an epoch and messages made
here, and answer with a message Python opens (the vectors cover the fixed-input direction)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from burnchat.client import crypto, envelope, epoch

JS = Path(__file__).resolve().parents[2] / "static" / "js"

# Bob's side, in JS: accept both announcements, open alice's epoch, read her messages, answer one.
NODE_SCRIPT = """
import { readFileSync } from "node:fs";
const bc = await import(process.env.BURNCHAT_JS + "/crypto.js");
const ep = await import(process.env.BURNCHAT_JS + "/epoch.js");
const rt = await import(process.env.BURNCHAT_JS + "/ratchet.js");
const input = JSON.parse(readFileSync(0, "utf8"));
const subtle = globalThis.crypto.subtle;
const linkKeys = await bc.deriveLinkKeys(input.secret, input.room);
const alice = await bc.openAnnouncement({ linkKeys, roomId: input.room, announcement: input.alice });
const bob = await bc.openAnnouncement({ linkKeys, roomId: input.room, announcement: input.bob });
const p256 = (name) => ({ name, namedCurve: "P-256" });
const ecdhKey = await subtle.importKey("pkcs8", bc.b64uDecode(input.bob_ecdh_pkcs8), p256("ECDH"), false, ["deriveKey", "deriveBits"]);
const sigKey = await subtle.importKey("pkcs8", bc.b64uDecode(input.bob_sig_pkcs8), p256("ECDSA"), false, ["sign"]);
const identity = { ecdh: { privateKey: ecdhKey }, sig: { privateKey: sigKey }, ecdhPub: bob.ecdhPub, sigPub: bob.sigPub };
const keys = await ep.openEpoch({ roomId: input.room, roomKeyEvent: input.room_key, identity, myId: bob.memberId,
  roster: [alice, bob] });
const opened = [];
for (const envelope of input.envelopes) {
  opened.push(await rt.openMessage({ roomId: input.room, envelope, chain: keys.chains.get(alice.memberId), sender: alice }));
}
let mismatch = null;
try {
  await ep.openEpoch({ roomId: input.room, roomKeyEvent: input.room_key, identity, myId: bob.memberId,
    roster: [{ ...alice, name: "Alicia" }, bob] });
} catch (error) {
  mismatch = { code: error.code, detail: error.detail };
}
const reply = await rt.sealMessage({ roomId: input.room, epoch: keys.epoch, chain: keys.chains.get(bob.memberId),
  identity, sender: bob.memberId, prev: rt.ZERO_HASH,
  body: { t: "text", text: input.reply, after: [alice.memberId, keys.epoch, 1], me: false } });
process.stdout.write(JSON.stringify({
  names: [alice.name, bob.name], fingerprints: [alice.fingerprint, bob.fingerprint],
  epoch: keys.epoch, safetyCode: keys.safetyCode, safetyQr: keys.safetyQr,
  bodies: opened.map((o) => o.body), hashes: opened.map((o) => o.hash), mismatch, reply,
}));
"""


def pkcs8(private_key):
    """A private key as b64u PKCS8 DER, for node to import."""
    return crypto.b64u_encode(private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))


def python_room():
    """What Python makes as alice in a fresh room (epoch 7 for {alice, bob}, two envelopes), and what JS needs."""
    secret, room = crypto.random_id(), crypto.random_id()
    link_keys = crypto.derive_link_keys(secret, room)
    ids = {who: crypto.generate_identity() for who in ("alice", "bob")}
    member_ids = {who: crypto.random_id() for who in ids}
    names = {"alice": "Ålice 🔥", "bob": "Bob"}
    anns = {who: crypto.seal_announcement(link_keys, room, member_ids[who], ids[who], names[who]) for who in ids}
    alice = crypto.self_member(member_ids["alice"], names["alice"], ids["alice"])
    bob = crypto.open_announcement(link_keys, room, anns["bob"])
    delivery, keys = epoch.create_epoch(room, 7, ids["alice"], alice.member_id, [alice, bob])
    room_key = {**{k: delivery[k] for k in ("epoch", "roster", "line_macs", "commit_sig")},
                "from": alice.member_id, **delivery["blobs"][0]}
    chain, prev, envelopes, hashes = keys.chains[alice.member_id], envelope.FIRST_PREV, [], []
    text = "From Python, with ünïcödé and 🔥 — 5 > 4 | pipes \"quoted\" \n new line"
    bodies = [envelope.text_body(text), envelope.text_body("/me-style", me=True)]
    for body in bodies:
        sealed, digest = envelope.seal_message(room, 7, chain, ids["alice"], alice.member_id, prev, body)
        envelopes.append(sealed)
        prev = crypto.b64u_encode(digest)
        hashes.append(prev)
    bodies.append(envelope.digest_body([[alice.member_id, 7, 2, prev]]))
    sealed, digest = envelope.seal_message(room, 7, chain, ids["alice"], alice.member_id, prev, bodies[-1])
    envelopes.append(sealed)
    hashes.append(crypto.b64u_encode(digest))
    node_input = {
        "secret": secret, "room": room, "alice": anns["alice"], "bob": anns["bob"], "room_key": room_key,
        "envelopes": envelopes, "bob_ecdh_pkcs8": pkcs8(ids["bob"].ecdh), "bob_sig_pkcs8": pkcs8(ids["bob"].sig),
        "reply": "Réponse de JS 🔥",
    }
    expected = {
        "names": [names["alice"], names["bob"]],
        "fingerprints": [alice.fingerprint, bob.fingerprint],
        "epoch": 7, "safetyCode": keys.safety_code, "safetyQr": keys.safety_qr,
        "bodies": bodies, "hashes": hashes,
        "mismatch": {"code": "roster_mismatch", "detail": {"unseen": [], "left_out": [], "differs": [alice.member_id]}},
    }
    return node_input, expected, keys, crypto.open_announcement(link_keys, room, anns["bob"])


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.skipif(not (JS / "epoch.js").exists(), reason="static/js/epoch.js (protocol v2) not written yet")
def test_js_and_python_share_an_epoch_and_messages():
    """JS opens Python's epoch and envelopes with the same code and hashes, refuses a renamed roster,
    and its reply opens in Python."""
    node_input, expected, keys, bob = python_room()
    result = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_SCRIPT],
        input=json.dumps(node_input), capture_output=True, text=True, timeout=30,
        env={**os.environ, "BURNCHAT_JS": JS.as_uri()},
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    reply = answer.pop("reply")
    assert answer == expected
    body, digest, late = envelope.open_message(node_input["room"], reply["envelope"], keys.chains[bob.member_id], bob)
    assert body["text"] == node_input["reply"] and crypto.b64u_encode(digest) == reply["hash"] and not late
