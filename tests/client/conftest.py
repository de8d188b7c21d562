"""Shared fixtures for the Python reference client tests."""

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_der_private_key

from burnchat.client import crypto

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTOR_FILE = REPO_ROOT / "tests" / "vectors" / "protocol_v2.json"


@pytest.fixture(scope="session")
def vectors():
    """The cross-implementation worked example made by crypto.js."""
    if not VECTOR_FILE.exists():
        pytest.skip(f"{VECTOR_FILE.relative_to(REPO_ROOT)} not written yet (made by the JS side)")
    return json.loads(VECTOR_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def vector_identity(vectors):
    """Function: a vector member's fixed identity, rebuilt from its PKCS8 private keys."""

    def identity(who):
        fixed = vectors["inputs"]["members"][who]
        load = lambda part: load_der_private_key(crypto.b64u_decode(fixed[part]["pkcs8"]), password=None)
        return crypto.identity_from_private_keys(load("ecdh"), load("sig"))

    return identity


@pytest.fixture
def vector_member(vectors):
    """Function: a vector member as an accepted crypto.Member (opened from its announcement)."""
    inputs = vectors["inputs"]
    link_keys = crypto.derive_link_keys(inputs["link_secret"], inputs["room_id"])

    def member(who):
        return crypto.open_announcement(link_keys, inputs["room_id"], vectors["announcements"][who]["announcement"])

    return member
