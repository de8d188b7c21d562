"""Key epochs: who creates or serves the room key, timeouts, removals (PROTOCOL.md §5)."""

from dataclasses import dataclass

from burnchat.keyplan import KeyState, plan_key_request
from tests.unit.fakes import FakeClock


@dataclass
class M:
    member_id: str
    held_epoch: int = 0


def test_first_member_creates_epoch_one():
    keys, clock = KeyState(), FakeClock()
    alice = M("a")
    plan = plan_key_request(keys, [alice], clock())
    assert plan.rekey and keys.epoch == 1
    assert (plan.request.server, plan.request.create, plan.request.recipients) == ("a", True, ())


def test_earliest_holder_serves_newcomers_and_request_settles():
    keys, clock = KeyState(), FakeClock()
    alice, bob, carol = M("a"), M("b"), M("c")
    plan_key_request(keys, [alice], clock())
    keys.request.delivered = True
    alice.held_epoch = 1
    members = [alice, bob, carol]
    plan = plan_key_request(keys, members, clock())
    assert plan.request.server == "a" and not plan.request.create
    assert plan.request.recipients == ("b", "c") and not plan.rekey
    # While waiting, nothing new is asked.
    assert plan_key_request(keys, members, clock()).request is None
    keys.request.delivered = True
    bob.held_epoch = carol.held_epoch = 1
    assert plan_key_request(keys, members, clock()).request is None
    assert keys.request is None


def test_silent_holder_is_skipped_after_the_timeout():
    keys, clock = KeyState(epoch=1), FakeClock()
    a, b, c = M("a", 1), M("b", 1), M("c")
    plan = plan_key_request(keys, [a, b, c], clock())
    assert plan.request.server == "a"
    clock.advance(1.9)
    assert plan_key_request(keys, [a, b, c], clock()).request is None
    clock.advance(0.2)
    plan = plan_key_request(keys, [a, b, c], clock())
    assert plan.request.server == "b" and plan.request.recipients == ("c",)


def test_failed_create_moves_to_a_new_epoch_before_asking_someone_else():
    keys, clock = KeyState(), FakeClock()
    a, b = M("a"), M("b")
    plan_key_request(keys, [a, b], clock())
    assert keys.epoch == 1 and keys.request.server == "a"
    clock.advance(2.1)
    plan = plan_key_request(keys, [a, b], clock())
    assert plan.rekey and keys.epoch == 2
    assert plan.request.server == "b" and plan.request.create and plan.request.recipients == ("a",)


def test_removal_epoch_is_created_by_earliest_remaining_member_without_double_bump():
    keys, clock = KeyState(epoch=3), FakeClock()
    b, c = M("b", 3), M("c", 3)
    keys.new_epoch()  # the courier does this when a member leaves
    plan = plan_key_request(keys, [b, c], clock())
    assert keys.epoch == 4 and not plan.rekey
    assert plan.request.server == "b" and plan.request.create and plan.request.recipients == ("c",)


def test_recipient_that_never_confirms_is_given_up_when_others_could():
    keys, clock = KeyState(epoch=1), FakeClock()
    a, good, bad = M("a", 1), M("g"), M("x")
    plan_key_request(keys, [a, good, bad], clock())
    keys.request.delivered = True
    good.held_epoch = 1
    clock.advance(2.1)
    plan = plan_key_request(keys, [a, good, bad], clock())
    assert plan.request is None and "x" in keys.given_up and "a" not in keys.skipped


def test_creator_whose_key_nobody_can_open_is_passed_over_in_a_new_epoch():
    keys, clock = KeyState(), FakeClock()
    liar, b, c = M("liar"), M("b"), M("c")
    plan_key_request(keys, [liar, b, c], clock())
    assert keys.request.server == "liar"
    keys.request.delivered = True       # it delivered blobs...
    liar.held_epoch = 1
    clock.advance(2.1)                  # ...that nobody could open
    plan = plan_key_request(keys, [liar, b, c], clock())
    assert plan.rekey and keys.epoch == 2 and "liar" in keys.skipped
    assert plan.request.server == "b" and plan.request.create


def test_creator_is_a_member_holding_the_newest_key():
    keys, clock = KeyState(epoch=3), FakeClock()
    newcomer, old_hand = M("n", 0), M("o", 3)
    keys.new_epoch()
    plan = plan_key_request(keys, [newcomer, old_hand], clock())
    assert plan.request.server == "o" and plan.request.recipients == ("n",)
