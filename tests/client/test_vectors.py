"""Python reproduces every deterministic value of the JS-made worked example (tests/vectors/protocol_v2.json).

Python derives each value itself from the fixed inputs and compares it byte for
byte; the recorded randomized signatures must verify and their high-s twins must not.
"""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

from burnchat.client import crypto, envelope, epoch, ratchet
from burnchat.client.crypto import ProtocolError
from burnchat.client.ratchet import Chain
from tests.client.helpers import code_of

MEMBERS = ("alice", "bob")


@pytest.fixture
def inputs(vectors):
    """The fixed inputs of the worked example."""
    return vectors["inputs"]


@pytest.fixture
def room_id(inputs):
    """The fixed room ID."""
    return inputs["room_id"]


@pytest.fixture
def link_keys(inputs):
    """Link keys derived by Python from the fixed secret and room."""
    return crypto.derive_link_keys(inputs["link_secret"], inputs["room_id"])


@pytest.fixture
def secret(inputs):
    """The fixed epoch secret E."""
    return crypto.b64u_decode(inputs["epoch_secret"])


def member_id(inputs, who):
    """A vector member's ID."""
    return inputs["members"][who]["member_id"]


# --- link, identities, announcements ------------------------------------------


def test_vector_is_protocol_v2(vectors):
    """The file describes the version this client speaks."""
    assert vectors["version"] == crypto.PROTOCOL_VERSION == 2


def test_admin_pin_proof_and_verifier(vectors):
    """§8.1: the PIN's proof and verifier match node:crypto's; every spelling gives the proof; a
    string that can't be a PIN is refused before any hashing."""
    expected = vectors["admin_pin"]
    assert crypto.PIN_ITERATIONS == expected["iterations"]
    assert crypto.pin_proof(expected["pin"], expected["salt"]) == expected["proof"]
    assert crypto.pin_verifier(expected["proof"]) == expected["verifier"]
    for typed in expected["typed"]:
        assert crypto.pin_proof(typed, expected["salt"]) == expected["proof"], typed
    for bad in expected["invalid"]:
        with pytest.raises(crypto.ProtocolError):
            crypto.pin_proof(bad, expected["salt"])


def test_link_keys_and_join_key(vectors, inputs, link_keys):
    """HKDF of the announcement MAC key, names key and join key (empty salt) match byte for byte."""
    expected = vectors["link_keys"]
    assert crypto.b64u_encode(link_keys.mac_key) == expected["announce_mac_key"]
    assert crypto.b64u_encode(link_keys.names_key) == expected["names_key"]
    assert crypto.derive_join_key(inputs["link_secret"]) == (expected["join_key"], expected["join_key_hash"])


@pytest.mark.parametrize("who", MEMBERS)
def test_public_keys_from_private_keys(inputs, who, vector_identity):
    """The PKCS8 private keys give the recorded uncompressed public points."""
    identity = vector_identity(who)
    assert (identity.ecdh_pub, identity.sig_pub) == (inputs["members"][who]["ecdh"]["pub"], inputs["members"][who]["sig"]["pub"])


@pytest.mark.parametrize("who", MEMBERS)
def test_announcement_reproduced(vectors, inputs, room_id, link_keys, who, vector_identity):
    """Padded name, labels and the whole announcement (fixed IV) match; enc_name is 160 bytes."""
    fixed, expected = inputs["members"][who], vectors["announcements"][who]
    assert crypto.pad(crypto.utf8(fixed["name"]), crypto.NAME_PAD_BYTES).hex() == expected["name_padded_hex"]
    ann = crypto.seal_announcement(link_keys, room_id, fixed["member_id"], vector_identity(who), fixed["name"],
                                   iv=crypto.b64u_decode(fixed["name_iv"]))
    assert ann == expected["announcement"]
    assert len(crypto.b64u_decode(ann["enc_name"])) == 160
    assert crypto.name_aad(room_id, fixed["member_id"]) == expected["name_aad_label"].encode()
    mac_input = crypto.announce_mac_input(room_id, ann["member_id"], ann["ecdh_pub"], ann["sig_pub"], ann["enc_name"])
    assert mac_input == expected["mac_input_label"].encode()


@pytest.mark.parametrize("who", MEMBERS)
def test_announcement_accepted_with_fingerprint(vectors, inputs, who, vector_member):
    """Python accepts the JS announcement, reads the name and shows the same fingerprint."""
    member = vector_member(who)
    fixed, expected = inputs["members"][who], vectors["fingerprints"][who]
    assert member.name == vectors["accepted_names"][who]
    assert expected["label"] == f"burnchat/v2/fpr|{fixed['ecdh']['pub']}|{fixed['sig']['pub']}"
    assert member.fingerprint == expected["fingerprint"] == crypto.fingerprint(fixed["ecdh"]["pub"], fixed["sig"]["pub"])


# --- the epoch (§5) -------------------------------------------------------------


@pytest.fixture
def roster(vector_member):
    """The accepted roster {alice, bob}, sorted by member ID."""
    return epoch.sorted_roster([vector_member(who) for who in MEMBERS])


def test_roster_commitment(vectors, inputs, room_id, secret, roster):
    """Commit key, lines, line MACs, C, and the labels around them."""
    ev, e = vectors["epoch"], inputs["epoch"]
    assert [m.member_id for m in roster] == [member_id(inputs, who) for who in ev["roster_order"]]
    assert epoch.label(epoch.LABEL_COMMIT_KEY, e) == ev["commit_key_info_label"].encode()
    key = epoch.commit_key(secret, room_id, e)
    assert crypto.b64u_encode(key) == ev["commit_key"]
    lines = [epoch.roster_line(m) for m in roster]
    assert lines == ev["lines"]
    assert [epoch.line_mac_input(room_id, e, line) for line in lines] == [x.encode() for x in ev["line_labels"]]
    assert [crypto.b64u_encode(epoch.line_mac(key, room_id, e, line)) for line in lines] == ev["line_macs"]
    creator = member_id(inputs, ev["creator"])
    assert epoch.roster_input(room_id, e, creator, lines) == ev["roster_label"].encode()
    commitment = epoch.roster_commitment(key, room_id, e, creator, lines)
    assert crypto.b64u_encode(commitment) == ev["c"]
    ids = [m.member_id for m in roster]
    assert "|".join(f"{i},{mac}" for i, mac in zip(ids, ev["line_macs"])) == ev["commit_entries"]
    assert crypto.b64u_encode(crypto.sha256(ev["commit_entries"].encode())) == ev["commit_digest"]
    assert epoch.commit_sig_input(room_id, e, creator, ids, ev["line_macs"]) == ev["commit_sig_label"].encode()


def test_commit_sig_low_s_accepted_high_s_refused(vectors, vector_member):
    """The recorded commit_sig verifies; its (r, n-s) twin is bad_sig."""
    ev, alice = vectors["epoch"], vector_member("alice")
    data = ev["commit_sig_label"].encode()
    crypto.verify(alice.sig_key, ev["commit_sig"], data)
    assert code_of(lambda: crypto.verify(alice.sig_key, ev["commit_sig_high_s"], data)) == "bad_sig"


def test_authenticator_and_safety_code(vectors, inputs, room_id, secret, roster):
    """A, the 40 digits and the QR text match."""
    ev, e = vectors["epoch"], inputs["epoch"]
    commitment = crypto.b64u_decode(ev["c"])
    assert epoch.label(epoch.LABEL_AUTHENTICATOR, e, ev["c"]) == ev["authenticator_info_label"].encode()
    auth = epoch.authenticator(secret, room_id, e, commitment)
    assert crypto.b64u_encode(auth) == ev["authenticator"]
    assert epoch.safety_digits(auth) == ev["safety_digits"]
    assert epoch.safety_qr(room_id, e, auth) == ev["safety_qr"]
    keys = epoch.derive_epoch_keys(bytearray(secret), room_id, e, member_id(inputs, "alice"), roster)
    assert (keys.safety_code, keys.safety_qr) == (ev["safety_digits"], ev["safety_qr"])


def test_key_delivery_intermediates(vectors, inputs, room_id, secret, vector_identity, vector_member):
    """ECDH secret, wrap label, wrapping key, wrapped E and the blob's signature input."""
    kd, e = vectors["key_delivery"], inputs["epoch"]
    alice, bob = vector_identity("alice"), vector_member("bob")
    alice_id, bob_id = member_id(inputs, "alice"), member_id(inputs, "bob")
    assert crypto.b64u_encode(alice.ecdh.exchange(ec.ECDH(), bob.ecdh_key)) == kd["ecdh_shared_secret"]
    assert epoch.wrap_info(e, alice_id, bob_id) == kd["wrap_info_label"].encode()
    kek = epoch.wrapping_key(room_id, e, alice.ecdh, bob.ecdh_key, alice_id, bob_id)
    assert crypto.b64u_encode(kek) == kd["wrapping_key"]
    assert crypto.b64u_encode(aes_key_wrap(kek, secret)) == kd["wrapped"] == kd["blob"]["wrapped"]
    sig_input = epoch.key_sig_input(room_id, e, alice_id, bob_id, kd["wrapped"], vectors["epoch"]["commit_sig"])
    assert sig_input == kd["sig_input_label"].encode()
    alice_member = vector_member("alice")
    crypto.verify(alice_member.sig_key, kd["blob"]["sig"], sig_input)
    assert code_of(lambda: crypto.verify(alice_member.sig_key, kd["sig_high_s"], sig_input)) == "bad_sig"


def test_key_deliver_reproduced(vectors, inputs, room_id, secret, vector_identity, vector_member):
    """create_epoch with the fixed E gives the JS payload but for the (randomized, valid) signatures."""
    expected = vectors["key_delivery"]["key_deliver"]
    alice_id = member_id(inputs, "alice")
    own = crypto.self_member(alice_id, inputs["members"]["alice"]["name"], vector_identity("alice"))
    delivery, keys = epoch.create_epoch(room_id, inputs["epoch"], vector_identity("alice"), alice_id,
                                        [vector_member("bob"), own], epoch_secret=secret)
    same = lambda d: {**d, "commit_sig": None, "blobs": [{**b, "sig": None} for b in d["blobs"]]}
    assert same(delivery) == same(expected)
    assert keys.safety_code == vectors["epoch"]["safety_digits"]
    alice = vector_member("alice")
    crypto.verify(alice.sig_key, delivery["commit_sig"], vectors["epoch"]["commit_sig_label"].encode())


def test_room_key_opened_by_bob(vectors, inputs, room_id, vector_identity, vector_member):
    """Bob (Python) accepts the JS room_key for his roster and derives the code and alice's chain."""
    bob_id = member_id(inputs, "bob")
    own = crypto.self_member(bob_id, inputs["members"]["bob"]["name"], vector_identity("bob"))
    keys = epoch.open_epoch(room_id, vectors["key_delivery"]["room_key"], vector_identity("bob"), bob_id,
                            [vector_member("alice"), own])
    assert keys.safety_code == vectors["epoch"]["safety_digits"]
    assert keys.authenticator == crypto.b64u_decode(vectors["epoch"]["authenticator"])
    assert keys.chains[member_id(inputs, "alice")].held_keys()[0] == crypto.b64u_decode(vectors["chains"]["alice"]["ck_1"])


def test_chain_keys(vectors, inputs, room_id, secret):
    """ck_1 from E, then mk_n / ck_{n+1} by HMAC with 0x01 / 0x02."""
    expected, alice_id = vectors["chains"]["alice"], member_id(inputs, "alice")
    assert epoch.label(epoch.LABEL_CHAIN, inputs["epoch"], alice_id) == expected["chain_info_label"].encode()
    ck = epoch.chain_key(secret, room_id, inputs["epoch"], alice_id)
    assert crypto.b64u_encode(ck) == expected["ck_1"]
    chain = Chain(ck)
    for n in (1, 2, 3):
        assert crypto.b64u_encode(crypto.hmac_sha256(ck, b"\x01")) == expected[f"mk_{n}"]
        assert chain.seal_key() == (n, crypto.b64u_decode(expected[f"mk_{n}"]))
        ck = crypto.hmac_sha256(ck, b"\x02")
        assert crypto.b64u_encode(ck) == expected[f"ck_{n + 1}"]


# --- messages (§6) ----------------------------------------------------------------


def test_messages_reproduced_from_body_and_iv(vectors, inputs, room_id, secret, vector_identity):
    """Body JSON, padding, labels, ciphertext and hash chain of alice's three envelopes match."""
    alice_id = member_id(inputs, "alice")
    chain = Chain(epoch.chain_key(secret, room_id, inputs["epoch"], alice_id))
    prev = envelope.FIRST_PREV
    for msg, iv in zip(vectors["messages"], inputs["message_ivs"]):
        body_bytes = msg["body_utf8"].encode()
        assert envelope.encode_body(msg["body"]) == body_bytes
        padded = envelope.pad_body(body_bytes)
        assert (len(padded), padded.hex()) == (msg["padded_length"], msg["padded_hex"])
        assert msg["prev"] == prev
        sealed, digest = envelope.seal_message(room_id, inputs["epoch"], chain, vector_identity("alice"), alice_id,
                                               prev, body_bytes, iv=crypto.b64u_decode(iv))
        assert {k: v for k, v in sealed.items() if k != "sig"} == {k: v for k, v in msg["envelope"].items() if k != "sig"}
        e = sealed
        assert envelope.message_aad(room_id, e["epoch"], alice_id, e["seq"], prev) == msg["aad_label"].encode()
        sig_input = envelope.message_sig_input(room_id, e["epoch"], alice_id, e["seq"], prev, e["iv"], e["ct"])
        assert sig_input == msg["sig_input_label"].encode()
        assert crypto.b64u_encode(digest) == msg["hash"] == crypto.b64u_encode(crypto.sha256(sig_input))
        body = msg["body"]
        rebuilt = (envelope.text_body(body["text"], body["after"], body["me"]) if body["t"] == "text"
                   else envelope.digest_body(body["heads"]))
        assert envelope.encode_body(rebuilt) == body_bytes  # our own body builders write the same JSON
        prev = msg["hash"]


def test_messages_opened(vectors, inputs, room_id, secret, vector_member):
    """Python verifies the JS signatures, decrypts each body and refuses each high-s twin."""
    alice = vector_member("alice")
    chain = Chain(epoch.chain_key(secret, room_id, inputs["epoch"], alice.member_id))
    for msg in vectors["messages"]:
        twin = {**msg["envelope"], "sig": msg["sig_high_s"]}
        assert code_of(lambda twin=twin: envelope.open_message(room_id, twin, chain, alice)) == "bad_sig"
        body, digest, late = envelope.open_message(room_id, msg["envelope"], chain, alice)
        assert body == msg["body"] and crypto.b64u_encode(digest) == msg["hash"] and not late


# --- what must be refused -----------------------------------------------------------


def test_negative_b64u(vectors):
    """Every string the strict decoder must refuse is refused."""
    for text in vectors["negative"]["b64u_invalid"]:
        assert code_of(lambda text=text: crypto.b64u_decode(text)) == "bad_encoding", text


def test_negative_names(vectors):
    """Invalid names are refused and padded ones trim the same way as in JS."""
    for raw in vectors["negative"]["names_invalid"]:
        assert code_of(lambda raw=raw: crypto.validate_name(raw)) == "bad_name", repr(raw)
    for raw, trimmed in vectors["negative"]["names_accepted"]:
        assert crypto.validate_name(raw) == trimmed


def test_unpad(vectors):
    """unpad refuses what JS refuses and strips what JS strips."""
    for hex_text in vectors["negative"]["unpad_invalid_hex"]:
        assert code_of(lambda h=hex_text: crypto.unpad(bytes.fromhex(h))) == "bad_body", hex_text
    for padded, plain in vectors["negative"]["unpad_valid_hex"]:
        assert crypto.unpad(bytes.fromhex(padded)).hex() == plain


def test_signatures_invalid(vectors, vector_member):
    """High s, r = 0, s = 0 and r = n are all bad_sig."""
    case = vectors["negative"]["signatures_invalid"]
    signer = vector_member(case["signer"])
    for what, sig in case["sigs"]:
        assert code_of(lambda sig=sig: crypto.verify(signer.sig_key, sig, case["label"].encode())) == "bad_sig", what


def test_version_1_envelope(vectors):
    """A v1 envelope is bad_version."""
    assert code_of(lambda: envelope.check_envelope(vectors["negative"]["envelope_v1"])) == "bad_version"


def test_roster_mismatches(vectors, inputs, room_id, vector_identity, vector_member):
    """Bob refuses alice's room_key for each roster he sees instead, with the expected detail."""
    bob_id = member_id(inputs, "bob")
    own = crypto.self_member(bob_id, inputs["members"]["bob"]["name"], vector_identity("bob"))

    def seen(entry):
        if entry == "bob":
            return own
        if isinstance(entry, str):
            return vector_member(entry)
        return crypto.Member(entry["member_id"], entry["name"], entry["ecdh_pub"], entry["sig_pub"],
                             crypto.decode_public_key(entry["ecdh_pub"]), crypto.decode_public_key(entry["sig_pub"]), "")

    for case in vectors["negative"]["roster_mismatch"]:
        with pytest.raises(ProtocolError) as err:
            epoch.open_epoch(room_id, vectors["key_delivery"]["room_key"], vector_identity("bob"), bob_id,
                             [seen(entry) for entry in case["bob_sees"]])
        assert err.value.code == "roster_mismatch", case["what"]
        assert err.value.detail == case["detail"], case["what"]


def test_altered_room_keys_refused(vectors, inputs, room_id, vector_identity, vector_member):
    """A relay's rewritten line MAC is bad_sig (nobody is blamed); a roster out of order is bad_encoding."""
    bob_id = member_id(inputs, "bob")
    own = crypto.self_member(bob_id, inputs["members"]["bob"]["name"], vector_identity("bob"))
    for case in vectors["negative"]["room_key_refused"]:
        with pytest.raises(ProtocolError) as err:
            epoch.open_epoch(room_id, case["room_key"], vector_identity("bob"), bob_id, [vector_member("alice"), own])
        assert err.value.code == case["code"], case["what"]


def test_ratchet_window(vectors):
    """Each case opens its seqs in order on one fresh chain and gets exactly the recorded outcomes."""
    window = vectors["negative"]["ratchet_window"]
    assert (window["max_skip"], window["max_skipped_keys"]) == (ratchet.MAX_SKIP, ratchet.MAX_SKIPPED_KEYS)
    for case in window["cases"]:
        chain, got = Chain(bytes(32)), []
        for seq in case["opens"]:
            try:
                chain.open(seq, lambda key: key)
                got.append("ok")
            except ProtocolError as exc:
                got.append(exc.code)
        assert got == case["expect"], case["opens"]
