"""burnchat/wsmask.py is byte-identical to eventlet's own unmasking, which it replaces."""

import warnings

import pytest
from hypothesis import given, settings, strategies as st

from burnchat.wsmask import unmask

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's deprecation notice
    from eventlet.websocket import RFC6455WebSocket

original = RFC6455WebSocket._apply_mask   # the class attribute: we only replace it per socket

frames = st.binary(max_size=2048)
masks = st.one_of(st.binary(min_size=4, max_size=4),
                  st.lists(st.integers(0, 255), min_size=4, max_size=4))  # eventlet masks by list too


@settings(max_examples=3000, deadline=None)
@given(frames, masks, st.integers(0, 7))
def test_same_bytes_as_eventlet_for_any_frame_mask_and_offset(data, mask, offset):
    assert unmask(data, mask, offset=offset) == original(data, mask, offset=offset)


@settings(max_examples=1000, deadline=None)
@given(frames, masks, st.data())
def test_same_bytes_as_eventlet_for_a_length_shorter_than_the_data(data, mask, draw):
    length = draw.draw(st.integers(0, len(data)))
    assert unmask(data, mask, length=length) == original(data, mask, length=length)


def test_a_frame_read_in_pieces_unmasks_like_one_piece():
    # eventlet's _recv_frame unmasks each recv() with the offset it has reached.
    data, mask = bytes(range(256)) * 3, b"\x01\x82\x43\xf4"
    pieces = [data[:5], data[5:300], data[300:]]
    joined, offset = b"", 0
    for piece in pieces:
        joined += unmask(piece, mask, length=len(piece), offset=offset)
        offset += len(piece)
    assert joined == original(data, mask) == unmask(data, mask)


@pytest.mark.parametrize("data", [b"", b"a", b"\x00" * 1000])
def test_edges(data):
    assert unmask(data, b"abcd") == original(data, b"abcd")
