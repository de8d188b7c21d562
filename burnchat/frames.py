"""The Socket.IO frames the server accepts: only well-formed events reach a handler.

python-socketio hands any packet it can decode to its dispatcher. Left alone, an
event named by a list or an object crashes the handler lookup, an event named
`connect` or `disconnect` re-runs those handlers on a live socket, one named `*`
crashes Flask-SocketIO's catch-all, undecodable JSON is dropped without an
answer, and a binary event may announce billions of attachments to buffer.
`StrictPacket` turns each of those into an event that no handler claims, so the
catch-all in events.py refuses it with an acknowledgement like any other bad
input (the connection and the room keep working).
"""

from socketio import packet

# Event names no client can send as a well-formed event (they start with NUL).
MALFORMED_EVENT = "\x00malformed"
RESERVED_EVENT = "\x00reserved"

# The protocol sends no binary at all; a few attachments are let through so that
# binary where text is expected gets the usual "invalid" answer from its schema.
MAX_ATTACHMENTS = 4
# "*" is the catch-all's own key: sent as a name, Flask-SocketIO would take the next
# argument for the sender's session ID.
RESERVED_NAMES = frozenset({"connect", "connect_error", "disconnect", "__disconnect_final", "*"})
_EVENT_TYPES = (packet.EVENT, packet.BINARY_EVENT)


class StrictPacket(packet.Packet):
    """A Socket.IO packet whose events always have a plain string name and JSON data."""

    def decode(self, encoded_packet):
        """Decode a text frame; a broken event becomes MALFORMED_EVENT (keeping its ack id)."""
        if not isinstance(encoded_packet, str):
            raise ValueError("binary frame outside a binary event")
        try:
            attachments = super().decode(encoded_packet)
        except (ValueError, TypeError, RecursionError):
            if self.packet_type not in _EVENT_TYPES:
                raise
            attachments, self.data = 0, [MALFORMED_EVENT]
        if self.packet_type not in _EVENT_TYPES:
            return attachments
        if attachments > MAX_ATTACHMENTS:
            attachments, self.data = 0, [MALFORMED_EVENT]
        if attachments == 0:
            # A binary event without attachments would wait forever for them.
            self.packet_type = packet.EVENT
        self.data = _well_formed(self.data)
        return attachments

    def add_attachment(self, attachment):
        """Collect one attachment; placeholders that point nowhere make the event malformed."""
        try:
            complete = super().add_attachment(attachment)
        except (ValueError, TypeError, IndexError, KeyError, RecursionError):
            self.data, complete = [MALFORMED_EVENT], True
        if complete:
            self.data = _well_formed(self.data)
        return complete


def _well_formed(data):
    """The event as sent, or a stand-in event that the catch-all refuses."""
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        return [MALFORMED_EVENT]
    if data[0] in RESERVED_NAMES:
        return [RESERVED_EVENT, *data[1:]]
    return data
