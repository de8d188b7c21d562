"""Python reproduces every deterministic value of the JS-made worked example (JS -> Python)."""

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from burnchat.client import crypto
from burnchat.client.crypto import ProtocolError

MEMBERS = ("alice", "bob")


@pytest.fixture
def inputs(vectors):
    """The fixed inputs of the worked example."""
    return vectors["inputs"]


@pytest.fixture
def link_keys(inputs):
    """Link keys derived by Python from the fixed secret and room."""
    return crypto.derive_link_keys(inputs["link_secret"], inputs["room_id"])


def test_vector_is_protocol_v1(vectors):
    """The file describes the version this client speaks."""
    assert vectors["version"] == crypto.PROTOCOL_VERSION == 1


def test_link_keys(vectors, link_keys):
    """HKDF of the announcement MAC key and names key match byte for byte."""
    assert crypto.b64u_encode(link_keys.mac_key) == vectors["link_keys"]["announce_mac_key"]
    assert crypto.b64u_encode(link_keys.names_key) == vectors["link_keys"]["names_key"]


@pytest.mark.parametrize("who", MEMBERS)
def test_public_keys_from_private_keys(vectors, who, vector_identity):
    """The PKCS8 private keys give the recorded uncompressed public points."""
    identity = vector_identity(who)
    fixed = vectors["inputs"]["members"][who]
    assert identity.ecdh_pub == fixed["ecdh"]["pub"]
    assert identity.sig_pub == fixed["sig"]["pub"]


@pytest.mark.parametrize("who", MEMBERS)
def test_announcement_reproduced(vectors, inputs, link_keys, who, vector_identity):
    """Sealing with the fixed IV gives the exact JS announcement, labels included."""
    fixed = inputs["members"][who]
    expected = vectors["announcements"][who]
    ann = crypto.seal_announcement(
        link_keys, inputs["room_id"], fixed["member_id"], vector_identity(who), fixed["name"],
        iv=crypto.b64u_decode(fixed["name_iv"]),
    )
    assert ann == expected["announcement"]
    assert crypto.name_aad(inputs["room_id"], fixed["member_id"]) == expected["name_aad_label"].encode()
    mac_input = crypto.announce_mac_input(
        inputs["room_id"], ann["member_id"], ann["ecdh_pub"], ann["sig_pub"], ann["enc_name"]
    )
    assert mac_input == expected["mac_input_label"].encode()


@pytest.mark.parametrize("who", MEMBERS)
def test_announcement_accepted(vectors, who, vector_member):
    """Python accepts the JS announcement and reads the name and fingerprint."""
    member = vector_member(who)
    assert member.name == vectors["accepted_names"][who]
    assert member.fingerprint == vectors["fingerprints"][who]["fingerprint"]


@pytest.mark.parametrize("who", MEMBERS)
def test_fingerprint(vectors, inputs, who):
    """Fingerprints hash the recorded label and display the same groups."""
    fixed = inputs["members"][who]
    expected = vectors["fingerprints"][who]
    assert expected["label"] == f"burnchat/v1/fpr|{fixed['ecdh']['pub']}|{fixed['sig']['pub']}"
    assert crypto.fingerprint(fixed["ecdh"]["pub"], fixed["sig"]["pub"]) == expected["fingerprint"]


def test_safety_code(vectors, inputs, vector_member):
    """The safety code of {alice, bob} matches, whatever order members are given in."""
    members = [vector_member(who) for who in MEMBERS]
    expected = vectors["safety_code"]
    assert hashlib.sha256(expected["input_label"].encode()).hexdigest() == expected["sha256_hex"]
    assert crypto.safety_code(inputs["room_id"], members) == expected["code"]
    assert crypto.safety_code(inputs["room_id"], members[::-1]) == expected["code"]


def test_key_blob_intermediates(vectors, inputs, vector_identity, vector_member):
    """ECDH secret, HKDF info, wrapping key, wrapped bytes and signature input all match."""
    kb = vectors["key_blob"]
    alice, bob = vector_identity("alice"), vector_member("bob")
    room, epoch = inputs["room_id"], inputs["epoch"]
    alice_id, bob_id = inputs["members"]["alice"]["member_id"], inputs["members"]["bob"]["member_id"]
    assert crypto.b64u_encode(alice.ecdh.exchange(ec.ECDH(), bob.ecdh_key)) == kb["ecdh_shared_secret"]
    assert crypto.wrap_info(epoch, alice_id, bob_id) == kb["wrap_info_label"].encode()
    kek = crypto.wrapping_key(room, epoch, alice.ecdh, bob.ecdh_key, alice_id, bob_id)
    assert crypto.b64u_encode(kek) == kb["wrapping_key"]
    blob = crypto.wrap_room_key(room, epoch, crypto.b64u_decode(inputs["room_key"]), alice, alice_id, bob)
    assert {k: blob[k] for k in ("epoch", "from", "to", "wrapped")} == {
        k: kb["blob"][k] for k in ("epoch", "from", "to", "wrapped")
    }
    assert crypto.key_sig_input(room, epoch, alice_id, bob_id, blob["wrapped"]) == kb["sig_input_label"].encode()


def test_key_blob_accepted(vectors, inputs, vector_identity, vector_member):
    """Bob (Python) verifies alice's JS signature and unwraps the fixed room key."""
    bob = vector_identity("bob")
    room_key = crypto.open_room_key(
        inputs["room_id"], vectors["key_blob"]["blob"], bob, inputs["members"]["bob"]["member_id"],
        vector_member("alice"),
    )
    assert crypto.b64u_encode(room_key) == inputs["room_key"]


def test_message_reproduced(vectors, inputs, vector_identity):
    """Sealing the text with the fixed IV gives the JS ciphertext and labels."""
    msg = vectors["message"]
    room, epoch, seq = inputs["room_id"], inputs["epoch"], msg["seq"]
    sender = inputs["members"]["alice"]["member_id"]
    env = crypto.seal_message(
        room, epoch, crypto.b64u_decode(inputs["room_key"]), vector_identity("alice"), sender, seq,
        msg["text"], iv=crypto.b64u_decode(inputs["message_iv"]),
    )
    assert {k: v for k, v in env.items() if k != "sig"} == {k: v for k, v in msg["envelope"].items() if k != "sig"}
    assert crypto.message_aad(room, epoch, sender, seq) == msg["aad_label"].encode()
    assert crypto.message_sig_input(room, epoch, sender, seq, env["iv"], env["ct"]) == msg["sig_input_label"].encode()


def test_message_accepted(vectors, inputs, vector_member):
    """Python verifies the JS signature and decrypts the JS message."""
    text = crypto.open_message(
        inputs["room_id"], vectors["message"]["envelope"], crypto.b64u_decode(inputs["room_key"]),
        vector_member("alice"),
    )
    assert text == vectors["message"]["text"]


def test_python_signatures_verify_like_js_ones(vectors, inputs, vector_identity, vector_member):
    """A Python re-signature differs (ECDSA is randomized) yet is as valid as the JS one."""
    msg = vectors["message"]
    env = crypto.seal_message(
        inputs["room_id"], inputs["epoch"], crypto.b64u_decode(inputs["room_key"]),
        vector_identity("alice"), msg["envelope"]["sender"], msg["seq"], msg["text"],
        iv=crypto.b64u_decode(inputs["message_iv"]),
    )
    assert env["sig"] != msg["envelope"]["sig"]
    alice = vector_member("alice")
    assert crypto.open_message(inputs["room_id"], env, crypto.b64u_decode(inputs["room_key"]), alice) == msg["text"]


def test_negative_b64u(vectors):
    """Every string the strict decoder must refuse is refused."""
    for text in vectors["negative"]["b64u_invalid"]:
        with pytest.raises(ProtocolError) as err:
            crypto.b64u_decode(text)
        assert err.value.code == "bad_encoding", text


def test_negative_names(vectors):
    """Invalid names are refused and padded ones trim the same way as in JS."""
    for raw in vectors["negative"]["names_invalid"]:
        with pytest.raises(ProtocolError) as err:
            crypto.validate_name(raw)
        assert err.value.code == "bad_name", repr(raw)
    for raw, trimmed in vectors["negative"]["names_accepted"]:
        assert crypto.validate_name(raw) == trimmed


def test_join_key(vectors, inputs):
    """The join key (HKDF, empty salt) and its SHA-256 match the JS-made vector (§3)."""
    assert crypto.derive_join_key(inputs["link_secret"]) == (
        vectors["link_keys"]["join_key"], vectors["link_keys"]["join_key_hash"]
    )
