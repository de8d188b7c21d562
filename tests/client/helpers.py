"""Small helpers shared by the Python client's tests."""

import pytest

from burnchat.client.crypto import ProtocolError


def code_of(action):
    """The ProtocolError code `action` raises."""
    with pytest.raises(ProtocolError) as err:
        action()
    return err.value.code
