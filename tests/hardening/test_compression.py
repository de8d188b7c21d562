"""WebSocket compression is declined (tuning `no_deflate`, burnchat/transport.py).

Every browser offers permessage-deflate and both stacks accept it by default; a socket
then keeps a zlib compressor and decompressor for its life and each frame is compressed
once per receiver, for ciphertext deflate barely shrinks. The handshake here is the one
Chromium sends; the stack's default (BURNCHAT_STACK_TUNING=none) shows the test would see
an accepted offer.
"""

import socket

import pytest

BROWSER_OFFER = "permessage-deflate; client_max_window_bits"


def handshake(server):
    """A Chromium-like WebSocket upgrade to Engine.IO; returns (status, response headers)."""
    request = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
               f"Host: 127.0.0.1:{server.port}\r\nOrigin: {server.url}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               f"Sec-WebSocket-Extensions: {BROWSER_OFFER}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, head
            head += chunk
    lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in
               (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_the_browsers_compression_offer_is_declined(fresh_server, mode):
    server = fresh_server({"BURNCHAT_ASYNC_MODE": mode})
    status, headers = handshake(server)
    assert status == 101 and "sec-websocket-extensions" not in headers, headers


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_the_stacks_default_would_have_accepted_it(fresh_server, mode):
    server = fresh_server({"BURNCHAT_ASYNC_MODE": mode, "BURNCHAT_STACK_TUNING": "none"})
    status, headers = handshake(server)
    assert status == 101 and headers["sec-websocket-extensions"].startswith("permessage-deflate")
