"""Key epochs: who creates the room key, timeouts, starvation, removals (PROTOCOL.md §5.1)."""

from dataclasses import dataclass

from burnchat.keyplan import KeyState, plan_key_request
from tests.unit.fakes import FakeClock


@dataclass
class M:
    member_id: str
    held_epoch: int = 0
    away: bool = False


def deliver(keys, creator, *confirming):
    """The asked creator delivers; `confirming` members then hold the epoch."""
    keys.request.delivered = True
    creator.held_epoch = keys.request.epoch
    for member in confirming:
        member.held_epoch = keys.request.epoch


def test_first_member_creates_epoch_one():
    keys, clock = KeyState(), FakeClock()
    plan = plan_key_request(keys, [M("a")], clock())
    assert keys.epoch == 1
    assert (plan.request.server, plan.request.recipients) == ("a", ())


def test_creation_settles_when_every_recipient_holds_the_key():
    keys, clock = KeyState(), FakeClock()
    a, b, c = M("a"), M("b"), M("c")
    members = [a, b, c]
    plan = plan_key_request(keys, members, clock())
    assert plan.request.server == "a" and plan.request.recipients == ("b", "c")
    assert plan_key_request(keys, members, clock()).request is None  # waiting
    deliver(keys, a, b, c)
    assert plan_key_request(keys, members, clock()).request is None
    assert keys.request is None and keys.epoch == 1


def test_nobody_serves_an_old_key_a_newcomer_gets_a_new_epoch():
    keys, clock = KeyState(epoch=1, create_asked=True), FakeClock()
    a, newcomer = M("a", 1), M("n")
    keys.new_epoch()  # the courier does this on every join
    plan = plan_key_request(keys, [a, newcomer], clock())
    assert keys.epoch == 2 and plan.request.server == "a" and plan.request.recipients == ("n",)


def test_silent_creator_is_passed_over_in_a_new_epoch():
    keys, clock = KeyState(), FakeClock()
    a, b = M("a"), M("b")
    plan_key_request(keys, [a, b], clock())
    clock.advance(1.9)
    assert plan_key_request(keys, [a, b], clock()).request is None
    clock.advance(0.2)
    plan = plan_key_request(keys, [a, b], clock())
    assert plan.passed_over == "a" and keys.epoch == 2
    assert plan.request.server == "b" and plan.request.recipients == ("a",)


def test_key_starvation_a_creator_that_keys_only_a_friend_is_passed_over():
    keys, clock = KeyState(), FakeClock()
    liar, friend, victim = M("liar"), M("friend"), M("victim")
    members = [liar, friend, victim]
    plan_key_request(keys, members, clock())
    deliver(keys, liar, friend)  # the victim's blob could not be opened
    assert keys.report_missing("victim")
    plan = plan_key_request(keys, members, clock())  # at once, no timeout needed
    assert plan.passed_over == "liar" and keys.epoch == 2
    assert plan.request.server == "friend" and "victim" in plan.request.recipients


def test_key_missing_before_delivery_or_from_a_non_recipient_changes_nothing():
    keys, clock = KeyState(), FakeClock()
    a, b = M("a"), M("b")
    plan_key_request(keys, [a, b], clock())
    assert not keys.report_missing("b")      # not delivered yet
    keys.request.delivered = True
    assert not keys.report_missing("a")      # the creator is no recipient
    assert keys.report_missing("b") and not keys.report_missing("b")  # once


def test_recipient_failing_under_two_creators_is_given_up_not_the_room():
    keys, clock = KeyState(), FakeClock()
    a, b, broken = M("a"), M("b"), M("x")
    members = [a, b, broken]
    plan_key_request(keys, members, clock())
    deliver(keys, a, b)
    clock.advance(2.1)
    plan = plan_key_request(keys, members, clock())
    assert plan.passed_over == "a" and plan.request.server == "b"
    deliver(keys, b, a)
    clock.advance(2.1)
    plan = plan_key_request(keys, members, clock())
    assert plan.request is None and plan.passed_over is None
    assert "x" in keys.given_up and keys.epoch == 2


def test_membership_change_gives_a_broken_client_a_fresh_chance():
    keys = KeyState(epoch=2, given_up={"x"}, failed={"x": {"a", "b"}})
    keys.new_epoch()
    assert not keys.given_up and not keys.failed


def test_kicking_admin_creates_the_next_epoch():
    keys, clock = KeyState(epoch=3, create_asked=True), FakeClock()
    a, admin = M("a", 3), M("admin", 3)
    keys.new_epoch()
    keys.preferred = "admin"
    plan = plan_key_request(keys, [a, admin], clock())
    assert plan.request.server == "admin" and keys.preferred is None


def test_creator_is_a_member_holding_the_newest_key():
    keys, clock = KeyState(epoch=3), FakeClock()
    newcomer, old_hand = M("n", 0), M("o", 3)
    keys.new_epoch()
    plan = plan_key_request(keys, [newcomer, old_hand], clock())
    assert plan.request.server == "o" and plan.request.recipients == ("n",)


def test_everyone_passed_over_starts_the_round_again():
    keys, clock = KeyState(passed_over={"a", "b"}), FakeClock()
    plan = plan_key_request(keys, [M("a"), M("b")], clock())
    assert plan.request.server == "a"


def test_state_round_trips_through_plain_data():
    keys, clock = KeyState(), FakeClock()
    plan_key_request(keys, [M("a"), M("b")], clock())
    keys.request.delivered = True
    keys.report_missing("b")
    keys.failed["b"] = {"a"}
    assert KeyState.from_dict(keys.to_dict()) == keys


def test_away_members_are_keyed_but_never_waited_on_nor_asked_to_create():
    keys, clock = KeyState(), FakeClock()
    away, a, b = M("away", away=True), M("a"), M("b")
    plan = plan_key_request(keys, [away, a, b], clock())
    assert plan.request.server == "a" and plan.request.recipients == ("away", "b")
    deliver(keys, a, b)
    assert plan_key_request(keys, [away, a, b], clock()).request is None
    assert keys.request is None and not keys.passed_over  # settled without the away member


def test_a_room_of_away_members_asks_nobody():
    keys, clock = KeyState(epoch=2, create_asked=True), FakeClock()
    keys.new_epoch()
    assert plan_key_request(keys, [M("x", 2, away=True)], clock()).request is None
