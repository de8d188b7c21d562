"""Protocol v1 primitives in Python (burnchat/client/crypto.py): encodings, keys, round trips."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from burnchat.client import crypto
from burnchat.client.crypto import ProtocolError


def code_of(action):
    """The ProtocolError code `action` raises."""
    with pytest.raises(ProtocolError) as err:
        action()
    return err.value.code


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


def test_signatures_are_64_byte_r_s():
    """Signatures travel as r||s and verify; other sizes or keys fail."""
    identity, other = crypto.generate_identity(), crypto.generate_identity()
    sig = crypto.sign(identity.sig, b"data")
    assert len(sig) == 64
    crypto.verify(identity.sig.public_key(), crypto.b64u_encode(sig), b"data")
    assert code_of(lambda: crypto.verify(other.sig.public_key(), crypto.b64u_encode(sig), b"data")) == "bad_sig"
    assert code_of(lambda: crypto.verify(identity.sig.public_key(), crypto.b64u_encode(sig), b"datA")) == "bad_sig"
    assert code_of(lambda: crypto.verify(identity.sig.public_key(), crypto.b64u_encode(sig[:63]), b"data")) == "bad_encoding"


def test_zero_signature_is_refused():
    """r = s = 0 is not a signature."""
    identity = crypto.generate_identity()
    assert code_of(lambda: crypto.verify(identity.sig.public_key(), crypto.b64u_encode(bytes(64)), b"x")) == "bad_sig"


@pytest.fixture
def pair():
    """A room with two members' identities, IDs and accepted Member objects."""
    room, secret = crypto.random_id(), crypto.random_id()
    keys = crypto.derive_link_keys(secret, room)
    ids = [crypto.generate_identity() for _ in range(2)]
    member_ids = [crypto.random_id() for _ in range(2)]
    members = [
        crypto.open_announcement(keys, room, crypto.seal_announcement(keys, room, mid, ident, name))
        for mid, ident, name in zip(member_ids, ids, ("Ann", "Ben"))
    ]
    return room, ids, member_ids, members


def test_announcement_round_trip_uses_a_fresh_iv(pair):
    """The same member announced twice gives different ciphertexts that both open."""
    room, ids, member_ids, members = pair
    assert [m.name for m in members] == ["Ann", "Ben"]
    keys = crypto.derive_link_keys(crypto.random_id(), room)
    one, two = (crypto.seal_announcement(keys, room, member_ids[0], ids[0], "Ann") for _ in range(2))
    assert one["enc_name"] != two["enc_name"]


def test_room_key_round_trip_and_direction(pair):
    """A wrapped key opens for its recipient only, and only in the direction it was made."""
    room, ids, member_ids, members = pair
    room_key = crypto.new_room_key()
    blob = crypto.wrap_room_key(room, 4, room_key, ids[0], member_ids[0], members[1])
    assert len(crypto.b64u_decode(blob["wrapped"])) == 40
    assert crypto.open_room_key(room, blob, ids[1], member_ids[1], members[0]) == room_key
    assert code_of(lambda: crypto.open_room_key(room, {**blob, "epoch": 5}, ids[1], member_ids[1], members[0])) == "bad_sig"


@settings(max_examples=25, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=1024))
def test_message_round_trip(text):
    """Any text (up to 1024 code points, so at most 4096 bytes) survives seal and open."""
    room, ident, sender = crypto.random_id(), crypto.generate_identity(), crypto.random_id()
    member = crypto.Member(sender, "S", ident.ecdh_pub, ident.sig_pub, None, ident.sig.public_key(), "")
    key = crypto.new_room_key()
    envelope = crypto.seal_message(room, 1, key, ident, sender, 1, text)
    assert crypto.open_message(room, envelope, key, member) == text


def test_messages_use_fresh_ivs(pair):
    """Two seals of one text never share an IV."""
    room, ids, member_ids, _ = pair
    key = crypto.new_room_key()
    ivs = {crypto.seal_message(room, 1, key, ids[0], member_ids[0], seq, "same")["iv"] for seq in range(1, 20)}
    assert len(ivs) == 19


def test_plaintext_limits():
    """1 to 4096 UTF-8 bytes; over the limit is refused, not truncated."""
    assert crypto.check_plaintext("€" * 1365) == ("€" * 1365).encode()
    assert code_of(lambda: crypto.check_plaintext("")) == "empty"
    assert code_of(lambda: crypto.check_plaintext("€" * 1366)) == "too_long"


def test_fingerprint_and_safety_code_format(pair):
    """Fingerprints are four hex groups; safety codes four 5-digit groups, order independent."""
    room, _ids, _mids, members = pair
    assert all(len(m.fingerprint.split(" ")) == 4 for m in members)
    code = crypto.safety_code(room, members)
    assert code == crypto.safety_code(room, members[::-1])
    assert [len(g) for g in code.split(" ")] == [5, 5, 5, 5] and code.replace(" ", "").isdigit()
    assert code != crypto.safety_code(room, members[:1])
