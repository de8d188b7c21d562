"""Burn Chat reference client: protocol v1 in Python, and a terminal chat.

`crypto` holds the primitives, `session` one room's state, `connection` the
Socket.IO link, and `python -m burnchat.client URL --name NAME` the terminal chat.
Depends only on requirements-client.txt (no Flask).
"""
