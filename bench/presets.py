"""The numbers each scenario runs with: `full` (the published run) and `smoke` (the test suite's)."""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Preset:
    """Every knob of one invocation. Rates are per second; sizes in members."""

    name: str
    workers: int = 2                       # load-generator processes
    text_bytes: int = 160                  # plaintext per message, sealed by the reference client
    # relay: offered deliveries/s start at relay_start and grow by relay_factor per step
    relay_shapes: tuple = ((20, 5), (5, 50))
    relay_start: float = 1000.0
    relay_factor: float = 1.6
    relay_max_steps: int = 9
    relay_step_seconds: float = 3.0
    relay_member_rate: float = 2.0         # the server's sustained per-member limit
    relay_max_members: int = 4000
    relay_behind_ratio: float = 0.95       # achieved/offered below this: delivery fell behind
    relay_connect_concurrency: int = 50    # per worker
    relay_half_tries: int = 3              # steps at 50% of the bare saturation; the best counts
    # members
    members_target: int = 5000
    members_room_size: int = 10
    members_concurrency: int = 50          # per worker
    members_settle_seconds: float = 2.0
    # burn
    burn_rooms: int = 100
    burn_room_size: int = 10
    burn_ttl_seconds: int = 30             # time to create the rooms (0.1 s per second) and open members
    burn_grace_seconds: float = 10.0       # how long after expiry to wait for every `destroyed`
    # timers
    timers_rooms: int = 10000
    timers_observers: int = 300            # rooms with one member listening to `countdown`
    timers_ttl_seconds: int = 3600         # > 1 min left: coarse 10 s ticks, as most idle rooms
    timers_settle_seconds: float = 3.0
    timers_window_seconds: float = 20.0
    # soak: soak_rooms x soak_room_size members sending at soak_member_rate msg/s for
    # soak_minutes windows of soak_minute_seconds each (a figure per window)
    soak_rooms: int = 100
    soak_room_size: int = 10
    soak_member_rate: float = 0.2          # 1,000 members: 200 msg/s, 1,800 deliveries/s
    soak_minutes: int = 10
    soak_minute_seconds: float = 60.0
    # leak: leak_rooms rooms in batches of leak_batch, each used by leak_room_size members
    # sending leak_messages each, then left and burned (TTL leak_ttl_seconds)
    leak_rooms: int = 2000
    leak_batch: int = 200
    leak_room_size: int = 3
    leak_messages: int = 3
    leak_ttl_seconds: int = 12
    # how long to wait for keys, connections and drains before calling it a failure
    ready_timeout_seconds: float = 60.0
    drain_timeout_seconds: float = 10.0


FULL = Preset(name="full")

SMOKE = replace(
    FULL, name="smoke",
    relay_shapes=((2, 3),), relay_start=20.0, relay_factor=2.0, relay_max_steps=2,
    relay_step_seconds=0.5, relay_half_tries=1, relay_max_members=30, relay_connect_concurrency=10,
    members_target=20, members_concurrency=10, members_settle_seconds=0.2,
    burn_rooms=2, burn_room_size=3, burn_ttl_seconds=2, burn_grace_seconds=5.0,
    timers_rooms=10, timers_observers=3, timers_ttl_seconds=30, timers_settle_seconds=0.2,
    timers_window_seconds=2.2, ready_timeout_seconds=20.0, drain_timeout_seconds=5.0,
    soak_rooms=2, soak_room_size=3, soak_member_rate=2.0, soak_minutes=2, soak_minute_seconds=1.0,
    leak_rooms=9, leak_batch=3, leak_room_size=2, leak_messages=2, leak_ttl_seconds=3,
)

# The scale-out comparison (--topology redis2): relay 20x5 only, on a shorter, coarser ladder,
# so relay and burn on eventlet finish in about five minutes.
SCALEOUT = replace(
    FULL, name="scaleout",
    relay_shapes=((20, 5),), relay_start=1000.0, relay_factor=2.0, relay_max_steps=5,
    relay_half_tries=2,
)

# A shorter ladder for comparing changes (--topology tuning) and for a busy machine:
# both relay shapes, x2 per step from 1,000 deliveries/s, 3 tries at 50%; smaller crowds.
QUICK = replace(
    FULL, name="quick",
    relay_factor=2.0, relay_max_steps=6, members_target=2000, timers_rooms=5000,
)

# One change against another (--topology tuning): relay 20x5 only, 1,000 -> 8,000 deliveries/s.
PAIR = replace(QUICK, name="pair", relay_shapes=((20, 5),), relay_max_steps=4, relay_half_tries=2)

# The same for the big rooms: relay 5x50 only.
PAIR50 = replace(PAIR, name="pair50", relay_shapes=((5, 50),), relay_half_tries=3)

PRESETS = {"full": FULL, "smoke": SMOKE, "scaleout": SCALEOUT, "quick": QUICK, "pair": PAIR,
           "pair50": PAIR50}
