"""The Python client's files (burnchat/client/files.py): the committed vectors, the round trip,
and one attack per receiver check."""

import base64
import hashlib
import json
from pathlib import Path

import pytest

from burnchat.client import crypto, files
from burnchat.client.crypto import ProtocolError

VECTORS = json.loads((Path(__file__).resolve().parent.parent / "vectors" / "files_v2.json").read_text())
ROOM, TRANSFER = VECTORS["inputs"]["room_id"], VECTORS["inputs"]["transfer"]
KEY = crypto.b64u_decode(VECTORS["inputs"]["key"])


def content_of(spec):
    if spec["content"].startswith("utf8:"):
        return spec["content"][5:].encode()
    return bytes((i * 7) % 251 for i in range(spec["size"]))


@pytest.mark.parametrize("number", range(len(VECTORS["files"])))
def test_python_reproduces_the_vectors(number):
    spec, expected = VECTORS["inputs"]["files"][number], VECTORS["files"][number]
    data = content_of(spec)
    prepared = files.PreparedFile(ROOM, data, spec["name"], spec["type"], key=KEY, transfer=TRANSFER)
    assert prepared.body == expected["body"]
    assert files.padded_length(len(data)) == expected["padded_length"]
    assembly = files.Assembly(ROOM, files.check_file_body(expected["body"]))
    for chunk in expected["chunks"]:
        assert files.chunk_iv(chunk["index"]).hex() == chunk["iv_hex"]
        assert files.chunk_aad(ROOM, TRANSFER, chunk["index"], chunk["total"]).decode() == chunk["aad_label"]
        sealed = prepared.seal(chunk["index"])
        if "ct" in chunk:
            assert sealed["ct"] == chunk["ct"]
        else:
            digest = base64.urlsafe_b64encode(hashlib.sha256(sealed["ct"].encode()).digest()).rstrip(b"=")
            assert digest.decode() == chunk["ct_sha256"]
        assembly.add(sealed)
    assert assembly.finish() == data


def sealed_chunks(data):
    prepared = files.PreparedFile(ROOM, data, "a.bin", "application/octet-stream")
    return prepared, [prepared.seal(i) for i in range(prepared.total)]


def receive(prepared, chunks, room=ROOM):
    assembly = files.Assembly(room, files.check_file_body(prepared.body))
    for chunk in chunks:
        assembly.add(chunk)
    return assembly.finish()


DATA = bytes(range(256)) * 700  # three chunks


@pytest.mark.parametrize("alter,code", [
    (lambda c: [c[1], c[0], c[2]], "bad_chunk"),                          # reordered
    (lambda c: [c[0], c[2]], "bad_chunk"),                                # dropped
    (lambda c: [c[0], {**c[2], "index": 1}, c[2]], "bad_chunk"),          # relabelled
    (lambda c: [c[0], {**c[1], "ct": c[1]["ct"][:50] + ("A" if c[1]["ct"][50] != "A" else "B")
                       + c[1]["ct"][51:]}, c[2]], "bad_chunk"),          # tampered
])
def test_a_receiver_notices_tampering(alter, code):
    prepared, chunks = sealed_chunks(DATA)
    assert receive(prepared, chunks) == DATA
    with pytest.raises(ProtocolError) as refused:
        receive(prepared, alter(chunks))
    assert refused.value.code == code


def test_a_chunk_from_another_room_and_a_wrong_hash_are_refused():
    prepared, chunks = sealed_chunks(DATA)
    with pytest.raises(ProtocolError):
        receive(prepared, chunks, room=crypto.random_id())
    prepared.body["sha256"] = crypto.b64u_encode(b"\x00" * 32)
    with pytest.raises(ProtocolError) as refused:
        receive(prepared, chunks)
    assert refused.value.code == "bad_hash"


def test_metadata_that_lies_is_refused():
    prepared, _ = sealed_chunks(DATA)
    body = prepared.body
    for bad in ({**body, "chunks": body["chunks"] + 1}, {**body, "size": -1}, {**body, "name": "../x"},
                {**body, "name": ""}, {**body, "type": "Text/HTML"}, {**body, "key": "short"},
                {**body, "extra": 1}, {**body, "size": True}):
        with pytest.raises(ProtocolError):
            files.check_file_body(bad)
    with pytest.raises(ProtocolError):
        files.check_file_body(body, max_bytes=100)
