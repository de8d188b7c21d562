"""Burn Chat reference client: protocol v2 in Python, and a terminal chat.

`crypto` holds the primitives, `epoch` the epoch secret, roster commitment and
safety code, `ratchet` the sending chains, `envelope` message bodies and
envelopes, `transcript` hash chains and digests, `session` one room's state,
`connection` the Socket.IO link; the terminal chat (`burnchat URL --name NAME`, or
`python -m burnchat.client ...`) is `terminal` (events, pipe mode, --json), `commands`
(what a `/` line does), `resume` (back after a drop), `screen` with `display` (the
full screen: pane, bar, input line) and `burn` (how the screen ends).
Depends only on requirements-client.txt (no Flask).
"""
