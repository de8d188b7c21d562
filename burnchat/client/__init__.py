"""Burn Chat reference client: protocol v2 in Python, and a terminal chat.

`crypto` holds the primitives, `epoch` the epoch secret, roster commitment and
safety code, `ratchet` the sending chains, `envelope` message bodies and
envelopes, `transcript` hash chains and digests, `session` one room's state,
`connection` the Socket.IO link, and `python -m burnchat.client URL --name NAME`
the terminal chat.
Depends only on requirements-client.txt (no Flask).
"""
