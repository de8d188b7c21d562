"""Who is in the room as this member accepts it (docs/PROTOCOL.md §4, §7.4), mirroring static/js/members.js.

Accepted members in join order (self included), the IDs never accepted again, who is away,
and the names shown with look-alike duplicates numbered. Plain bookkeeping: session.py opens
announcements and raises the floor.
"""

from . import crypto


class Members:
    """The accepted members; `in` and iteration cover the others (never self)."""

    def __init__(self):
        """An empty room: nobody accepted, nobody removed, self not in yet."""
        self.self_member = None  # this client as a roster entry (crypto.Member)
        self._others = {}  # member_id -> crypto.Member, accepted, not self
        self._order = []  # member IDs in the server's join order, self included
        self._removed = set()  # member IDs that left or were removed: never accepted again
        self._away = set()  # members whose socket dropped and who may resume

    def __contains__(self, member_id):
        """True for an accepted member other than self."""
        return member_id in self._others

    def __iter__(self):
        """IDs of the accepted members other than self."""
        return iter(self._others)

    def get(self, member_id):
        """An accepted member other than self, or None."""
        return self._others.get(member_id)

    def roster(self):
        """Self and every accepted member: what a key made or accepted now must commit to."""
        return [self.self_member, *self._others.values()]

    def was_removed(self, member_id):
        """True for an ID that left or was removed."""
        return member_id in self._removed

    def is_known(self, member_id):
        """True for self, an accepted member or a removed one: a second announcement for it is refused."""
        return member_id == self.self_member.member_id or member_id in self._others or member_id in self._removed

    def add_self(self):
        """The join ack is in: self comes last in join order."""
        self._order.append(self.self_member.member_id)

    def add(self, member):
        """Accept an opened announcement."""
        self._others[member.member_id] = member
        self._order.append(member.member_id)

    def remove(self, member_id):
        """Forget a member; its ID is never accepted again. The Member, or None if it was not accepted."""
        self._removed.add(member_id)
        self._away.discard(member_id)
        member = self._others.pop(member_id, None)
        if member is not None:
            self._order.remove(member_id)
        return member

    def note_away(self, announcement):
        """A member listing (join or resume ack) says whether that member is away."""
        member_id = announcement.get("member_id")
        if announcement.get("away") is True:
            self.mark_away(member_id)
        else:
            self._away.discard(member_id)

    def mark_away(self, member_id):
        """`member_away`: its socket dropped; it keeps its seat and keys. False if unknown (or self)."""
        if not isinstance(member_id, str) or member_id not in self._others:
            return False
        self._away.add(member_id)
        return True

    def mark_back(self, member_id):
        """`member_back`: it resumed. False if it was not away."""
        if not isinstance(member_id, str) or member_id not in self._away:
            return False
        self._away.discard(member_id)
        return True

    def member(self, member_id):
        """An accepted member (or self) by ID, or None."""
        if not isinstance(member_id, str):
            return None
        own = self.self_member
        return own if own is not None and member_id == own.member_id and member_id else self._others.get(member_id)

    def listing(self):
        """Accepted members and self in join order.

        Look-alike duplicate names are numbered by member ID order (the lowest ID plain, then
        (2), (3), ...), so every member numbers them alike whatever order the server lists them
        in; "duplicate" is True for each of them (show the fingerprint then).
        """
        own_id = self.self_member.member_id if self.self_member else None
        groups = {}
        for member_id in self._order:
            groups.setdefault(crypto.name_for_comparison(self.member(member_id).name), []).append(member_id)
        listing = []
        for member_id in self._order:
            member = self.member(member_id)
            ids = sorted(groups[crypto.name_for_comparison(member.name)])
            rank = ids.index(member_id) + 1
            shown = member.name if rank == 1 else f"{member.name} ({rank})"
            listing.append({"member_id": member_id, "name": shown, "fingerprint": member.fingerprint,
                            "is_self": member_id == own_id, "away": member_id in self._away,
                            "duplicate": len(ids) > 1})
        return listing

    def clear(self):
        """Forget every member (wipe)."""
        self._others.clear()
