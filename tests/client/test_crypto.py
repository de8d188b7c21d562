"""Protocol v2 primitives in Python (crypto.py, epoch.py, envelope.py): encodings, low-s signatures,
padding, announcements, epochs, safety codes and envelopes."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from burnchat.client import crypto, envelope, epoch
from burnchat.client.crypto import P256_ORDER
from burnchat.client.ratchet import Chain
from tests.client.helpers import code_of


# --- encodings ---------------------------------------------------------------


@given(st.binary(max_size=200))
def test_b64u_round_trip(data):
    """Every byte string encodes to unpadded base64url and back."""
    text = crypto.b64u_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert crypto.b64u_decode(text) == data


@pytest.mark.parametrize("text", ["AA==", "AA=", "A+/B", "AB", "A", "AA AA", "AA\n", "Zh", "é", None, 5])
def test_b64u_strict(text):
    """Padding, the standard alphabet, stray characters and non-canonical bits are refused."""
    assert code_of(lambda: crypto.b64u_decode(text)) == "bad_encoding"


def test_b64u_length_check():
    """A field of fixed size must have exactly that many bytes."""
    assert code_of(lambda: crypto.b64u_decode(crypto.b64u_encode(bytes(15)), 16)) == "bad_encoding"


def test_random_id_shape():
    """Link secrets and member IDs are 16 random bytes, 22 characters."""
    ids = {crypto.random_id() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 22 and len(crypto.b64u_decode(i)) == 16 for i in ids)


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=64))
def test_padding_round_trip(data, extra):
    """pad(x, L) is exactly L bytes and unpad gives x back, whatever x ends with."""
    padded = crypto.pad(data, len(data) + extra)
    assert len(padded) == len(data) + extra
    assert crypto.unpad(padded) == data


@pytest.mark.parametrize("padded", [b"", b"\x00\x00", b"abc", b"abc\x80\x01", b"\x00" * 16])
def test_unpad_needs_the_marker(padded):
    """Without a 0x80 after the trailing zeros, unpad fails."""
    assert code_of(lambda: crypto.unpad(padded)) == "bad_body"


def test_pad_refuses_what_does_not_fit():
    """The marker needs one byte: x of length L does not pad to L."""
    assert code_of(lambda: crypto.pad(b"x" * 8, 8)) == "too_long"


# --- names -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, name",
    [(" Ann ", "Ann"), ("\ufeffAnn\u3000", "Ann"), ("\u00a0Zoë\u2028", "Zoë"), ("🔥" * 32, "🔥" * 32)],
)
def test_names_trim_like_javascript(raw, name):
    """Trimming removes exactly what String.prototype.trim removes."""
    assert crypto.validate_name(raw) == name


@pytest.mark.parametrize("raw", ["", " \t ", "x" * 33, "a\x00b", "a\x1cb", "\x1cAnn", "a\x85b", "a\x7fb", "a\ud800b", 7])
def test_bad_names(raw):
    """Empty, too long or with control characters (even those Python's strip would remove)."""
    assert code_of(lambda: crypto.validate_name(raw)) == "bad_name"


# --- keys and signatures -----------------------------------------------------


def point(public_key, fmt):
    """A public key's X9.62 point in the given format, b64u."""
    return crypto.b64u_encode(public_key.public_bytes(Encoding.X962, fmt))


def test_public_keys_must_be_uncompressed_points_on_p256():
    """Compressed points, off-curve points and wrong sizes are bad keys or bad encodings."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert crypto.decode_public_key(point(key, PublicFormat.UncompressedPoint)) == key
    assert code_of(lambda: crypto.decode_public_key(point(key, PublicFormat.CompressedPoint))) == "bad_encoding"
    raw = bytearray(crypto.b64u_decode(point(key, PublicFormat.UncompressedPoint)))
    raw[-1] ^= 1
    assert code_of(lambda: crypto.decode_public_key(crypto.b64u_encode(bytes(raw)))) == "bad_key"
    raw[0] = 0x05
    assert code_of(lambda: crypto.decode_public_key(crypto.b64u_encode(bytes(raw)))) == "bad_key"


def high_s_twin(signature):
    """(r, n - s): the other encoding ECDSA would also accept."""
    s = int.from_bytes(signature[32:], "big")
    return signature[:32] + (P256_ORDER - s).to_bytes(32, "big")


def test_signatures_are_low_s_and_the_twin_is_refused():
    """Every signature we make has s <= n/2; its high-s twin, valid in plain ECDSA, is bad_sig."""
    identity = crypto.generate_identity()
    public = identity.sig.public_key()
    for i in range(40):  # about half of raw ECDSA signatures are high-s, so normalization is exercised
        data = f"statement {i}".encode()
        sig = crypto.sign(identity.sig, data)
        assert len(sig) == 64 and int.from_bytes(sig[32:], "big") <= P256_ORDER // 2
        crypto.verify(public, crypto.b64u_encode(sig), data)
        assert code_of(lambda: crypto.verify(public, crypto.b64u_encode(high_s_twin(sig)), data)) == "bad_sig"


def test_signature_checks():
    """Other keys, other data, wrong sizes and out-of-range values fail."""
    identity, other = crypto.generate_identity(), crypto.generate_identity()
    sig = crypto.sign(identity.sig, b"data")
    public = identity.sig.public_key()
    assert code_of(lambda: crypto.verify(other.sig.public_key(), crypto.b64u_encode(sig), b"data")) == "bad_sig"
    assert code_of(lambda: crypto.verify(public, crypto.b64u_encode(sig), b"datA")) == "bad_sig"
    assert code_of(lambda: crypto.verify(public, crypto.b64u_encode(sig[:63]), b"data")) == "bad_sig"
    assert code_of(lambda: crypto.verify(public, "not b64u!", b"data")) == "bad_encoding"
    for r, s in ((0, 1), (1, 0), (P256_ORDER, 1), (1, P256_ORDER)):
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        assert code_of(lambda raw=raw: crypto.verify(public, crypto.b64u_encode(raw), b"data")) == "bad_sig"


# --- announcements -----------------------------------------------------------


@pytest.fixture
def room():
    """A room ID, its link keys, and three members' identities, IDs and accepted Members."""
    room_id, secret = crypto.random_id(), crypto.random_id()
    keys = crypto.derive_link_keys(secret, room_id)
    identities = [crypto.generate_identity() for _ in range(3)]
    ids = [crypto.random_id() for _ in range(3)]
    members = [
        crypto.open_announcement(keys, room_id, crypto.seal_announcement(keys, room_id, mid, ident, name))
        for mid, ident, name in zip(ids, identities, ("Ann", "Ben", "Cy"))
    ]
    return room_id, keys, identities, ids, members


def test_announcement_round_trip_with_fresh_iv(room):
    """The same member announced twice gives different ciphertexts that both open."""
    room_id, keys, identities, ids, members = room
    assert [m.name for m in members] == ["Ann", "Ben", "Cy"]
    one, two = (crypto.seal_announcement(keys, room_id, ids[0], identities[0], "Ann") for _ in range(2))
    assert one["enc_name"] != two["enc_name"]


def test_encrypted_names_all_have_one_length(room):
    """A name's length is not on the wire: every enc_name is 160 bytes (214 chars)."""
    room_id, keys, identities, ids, _ = room
    lengths = {
        len(crypto.seal_announcement(keys, room_id, ids[0], identities[0], name)["enc_name"])
        for name in ("A", "Bo", "x" * 32, "🔥" * 32)
    }
    assert lengths == {214}


def test_fingerprint_format(room):
    """Fingerprints are four groups of four hex digits."""
    assert all([len(g) for g in m.fingerprint.split(" ")] == [4, 4, 4, 4] for m in room[4])


# --- epochs (§5) ----------------------------------------------------------------


def self_of(identities, ids, members, index):
    """Member `index` as its own roster entry."""
    return crypto.self_member(ids[index], members[index].name, identities[index])


def room_key_event(delivery, creator_id, to_id):
    """The `room_key` event the server builds for one recipient."""
    blob = next(b for b in delivery["blobs"] if b["to"] == to_id)
    shared = {k: delivery[k] for k in ("epoch", "roster", "line_macs", "commit_sig")}
    return {**shared, "from": creator_id, **blob}


def test_epoch_round_trip_agrees_on_code_and_chains(room):
    """Ann makes epoch 4 for all three; Ben opens it; both derive the same code, QR and chains."""
    room_id, _keys, identities, ids, members = room
    roster = [self_of(identities, ids, members, 0), members[1], members[2]]
    delivery, made = epoch.create_epoch(room_id, 4, identities[0], ids[0], roster)
    assert delivery["roster"] == sorted(ids) and len(delivery["blobs"]) == 2
    assert all(len(mac) == 22 for mac in delivery["line_macs"])
    assert all(len(crypto.b64u_decode(b["wrapped"])) == 40 for b in delivery["blobs"])
    ben_roster = [members[0], self_of(identities, ids, members, 1), members[2]]
    opened = epoch.open_epoch(room_id, room_key_event(delivery, ids[0], ids[1]), identities[1], ids[1], ben_roster)
    assert (opened.safety_code, opened.safety_qr, opened.roster_ids) == (made.safety_code, made.safety_qr, made.roster_ids)
    digits = opened.safety_code.split(" ")
    assert [len(g) for g in digits] == [5] * 8 and "".join(digits).isdigit()
    assert opened.safety_qr == f"burnchat-safety:2:{room_id}:4:{crypto.b64u_encode(opened.authenticator)}"
    assert epoch.compare_safety(opened.safety_qr, made.safety_qr)
    for member_id in ids:
        assert opened.chains[member_id].seal_key() == made.chains[member_id].seal_key()


def test_key_blob_signature_covers_the_commitment(room):
    """Swapping commit_sig (or any signed field) breaks the blob signature before the roster is looked at."""
    room_id, _keys, identities, ids, members = room
    roster = [self_of(identities, ids, members, 0), members[1]]
    delivery, _ = epoch.create_epoch(room_id, 2, identities[0], ids[0], roster)
    other, _ = epoch.create_epoch(room_id, 2, identities[0], ids[0], roster)
    event = {**room_key_event(delivery, ids[0], ids[1]), "commit_sig": other["commit_sig"]}
    ben_roster = [members[0], self_of(identities, ids, members, 1)]
    assert code_of(lambda: epoch.open_epoch(room_id, event, identities[1], ids[1], ben_roster)) == "bad_sig"
    moved = {**room_key_event(delivery, ids[0], ids[1]), "epoch": 3}
    assert code_of(lambda: epoch.open_epoch(room_id, moved, identities[1], ids[1], ben_roster)) == "bad_sig"


def test_safety_code_input_covers_roster_names_keys_and_the_key(room):
    """Changing the epoch secret, a member ID, a public key or a name changes the code (issue scenario 1)."""
    room_id, _keys, identities, ids, members = room
    secret = bytes(range(32))

    def code(roster, e_secret=secret):
        return epoch.derive_epoch_keys(bytearray(e_secret), room_id, 5, ids[0], epoch.sorted_roster(roster)).safety_code

    base = code(members)
    replace = lambda index, **changes: [
        crypto.Member(**{**vars(m), **changes}) if i == index else m for i, m in enumerate(members)
    ]
    variants = {
        "key commitment": code(members, bytes(range(1, 33))),
        "roster (one fewer)": code(members[:2]),
        "member ID": code(replace(1, member_id=crypto.random_id())),
        "ECDH key": code(replace(1, ecdh_pub=identities[2].ecdh_pub)),
        "signing key": code(replace(1, sig_pub=identities[2].sig_pub)),
        "name": code(replace(1, name="Bem")),
    }
    assert len(base.replace(" ", "")) == 40
    for what, changed in variants.items():
        assert changed != base, what
    assert code(members[::-1]) == base  # order is the sorted roster's, not the caller's


def test_compare_safety_is_exact():
    """The QR comparison takes the whole value; anything else is a mismatch."""
    qr = "burnchat-safety:2:ROOM:3:" + crypto.b64u_encode(bytes(32))
    assert epoch.compare_safety(qr, qr)
    assert not epoch.compare_safety(qr, qr[:-1] + "B")
    assert not epoch.compare_safety(qr, None)


# --- envelopes (§6) ------------------------------------------------------------


def sender_and_chains():
    """A room, a sender identity and Member, and two copies of one fresh chain (sender, receiver)."""
    room_id, identity, sender_id = crypto.random_id(), crypto.generate_identity(), crypto.random_id()
    member = crypto.self_member(sender_id, "S", identity)
    ck = bytes(range(32))
    return room_id, identity, member, Chain(ck), Chain(ck)


@settings(max_examples=25, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=1024))
def test_message_round_trip(text):
    """Any text (up to 1024 code points, so at most 4096 bytes) survives seal and open, with its hash."""
    room_id, identity, member, sending, receiving = sender_and_chains()
    body = envelope.text_body(text)
    sealed, digest = envelope.seal_message(room_id, 1, sending, identity, member.member_id, envelope.FIRST_PREV, body)
    opened, opened_digest, late = envelope.open_message(room_id, sealed, receiving, member)
    assert opened == body and opened_digest == digest and not late
    assert digest == envelope.envelope_hash(room_id, sealed)


def test_ciphertexts_come_in_size_classes():
    """Texts of 1 and 200 bytes look the same on the wire; the classes step 256, 512, ... 8192 (scenario 7)."""
    room_id, identity, member, sending, _ = sender_and_chains()

    def ct_length(text):
        sealed, _ = envelope.seal_message(
            room_id, 1, sending, identity, member.member_id, envelope.FIRST_PREV, envelope.text_body(text)
        )
        return len(crypto.b64u_decode(sealed["ct"])) - crypto.TAG_BYTES

    assert ct_length("a") == ct_length("b" * 200) == 256
    assert ct_length("c" * 300) == 512
    assert ct_length("d" * 4096) == 8192


def test_body_of_8192_bytes_cannot_be_sent():
    """JSON escaping can push a 4096-byte text past the last class: too_long, never truncated."""
    room_id, identity, member, sending, _ = sender_and_chains()
    body = envelope.text_body("\x01" * 4096)  # each escapes to \u0001
    assert code_of(lambda: envelope.seal_message(room_id, 1, sending, identity, member.member_id,
                                                envelope.FIRST_PREV, body)) == "too_long"
    assert sending.next_seq == 1  # nothing was used up


def test_text_limits():
    """1 to 4096 UTF-8 bytes; over the limit is refused, not truncated."""
    assert envelope.check_text("€" * 1365) == ("€" * 1365).encode()
    assert code_of(lambda: envelope.check_text("")) == "empty"
    assert code_of(lambda: envelope.check_text("€" * 1366)) == "too_long"


def test_body_json_is_compact_like_json_stringify():
    """No spaces, raw non-ASCII, JSON.stringify's escapes: both clients pad the same bytes."""
    body = envelope.text_body("é \"q\" \n\u2028", after=["A" * 22, 1, 2])
    assert envelope.encode_body(body) == (
        '{"t":"text","text":"é \\"q\\" \\n\u2028","after":["' + "A" * 22 + '",1,2],"me":false}'
    ).encode()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"t":1}', b'{"t":"text","text":"","after":null,"me":false}',
     b'{"t":"text","text":"x","after":null,"me":1}', b'{"t":"text","text":"x","after":null}',
     b'{"t":"text","text":"x","me":false}', b'{"t":"text","text":"\\ud800","after":null,"me":false}',
     b'{"t":"text","text":"x","after":["A",1,1]}', b'{"t":"digest","heads":[["A",1,1,"x"]]}',
     b'{"t":"text","text":NaN}', b"\xff"],
)
def test_bad_bodies_are_refused(body):
    """Bodies that are not valid JSON of a known shape fail with bad_body."""
    assert code_of(lambda: envelope.decode_body(crypto.pad(body, 256))) == "bad_body"


def test_unknown_body_types_pass():
    """A body of a type we do not know is not an error (it still counts in the chain)."""
    assert envelope.decode_body(crypto.pad(b'{"t":"typing","x":1}', 256)) == {"t": "typing", "x": 1}


def test_messages_use_fresh_ivs():
    """Two seals of one text never share an IV."""
    room_id, identity, member, sending, _ = sender_and_chains()
    ivs = {
        envelope.seal_message(room_id, 1, sending, identity, member.member_id, envelope.FIRST_PREV,
                              envelope.text_body("same"))[0]["iv"]
        for _ in range(19)
    }
    assert len(ivs) == 19


# --- the admin PIN (§8.1) ------------------------------------------------------


def test_new_pin_format_alphabet_and_freshness():
    """XXXX-XXXX from 32 symbols (40 bits), each reachable, never the same twice in 300."""
    made = [crypto.new_pin() for _ in range(300)]
    assert len(set(made)) == 300
    for pin in made:
        assert crypto.pin_shaped(pin) and pin[4] == "-"
    assert set("".join(made).replace("-", "")) == set(crypto.PIN_ALPHABET)
    assert len(crypto.PIN_ALPHABET) == 32


def test_new_pin_record_verifier_matches_only_its_proof():
    """The salt and verifier the server gets; the proof of the PIN, not the verifier, claims."""
    record = crypto.new_pin_record()
    assert crypto.pin_verifier(record["proof"]) == record["verifier"] != record["proof"]
    assert crypto.pin_proof(record["pin"].lower().replace("-", " "), record["salt"]) == record["proof"]
    assert crypto.pin_proof(record["pin"], crypto.random_id()) != record["proof"]  # salted per room
