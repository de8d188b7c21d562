"""Scenario `relay`: R rooms x M members sending; offered load stepped up until delivery falls behind.

The offered load is counted in deliveries/s (each message owes M-1 deliveries).
It starts at `relay_start` and grows by `relay_factor` per step. Members send at
up to `relay_member_rate` msg/s, the server's sustained per-member limit; when a
step needs more, the harness adds rooms of the same size, so the room shape
stays R x M or more.

A step has "fallen behind" when its deliveries/s (all deliveries of the step
over the time from its first send to its last delivery) stay under
`relay_behind_ratio` of the offered load, or a message is refused. Such a step
is run once more (a shared machine has noisy moments) and counts as behind
only if the retry is too. The stepping ends at the first load where both
servers fall behind. The best deliveries/s of any step is the saturation figure.
A message is lost when it was accepted (ok ack) but some member had not
received it when the drain after its step timed out.

Both servers run at once, each with its own load-generator pool, and every
step runs on the bare relay and then on Burn Chat, back to back, so the two
meet the same moments of a shared machine. Last, `relay_half_tries` steps per
server at 50% of the bare relay's saturation (alternating) give the latency
both show at the same moderate load; the better try counts.

Saturation measured by the clock depends on how much of the machine the
server gets; deliveries per server CPU-second (from /proc) does not, so both
are reported.
"""

import math
import time

from .. import crowd, stats

ROOM_TTL_SECONDS = 3600
START_DELAY_SECONDS = 0.2
DRAIN_POLL_SECONDS = 0.05
HALF_STEP_CODE = 200
KINDS = ("baseline", "burnchat")
PYTHON_KINDS = KINDS   # the stepping ends once these have fallen behind
PAIRED = True   # the runner starts both servers and calls run_pair
WITH_NODE = True   # ... and the Node socket.io relay too, where node is installed


def cases(preset):
    """One case per room shape, e.g. "20x5"."""
    return [f"{rooms}x{size}" for rooms, size in preset.relay_shapes]


def run_pair(case, servers, pools, preset, logs):
    """Step the servers up together until both Python servers have fallen behind; results by kind.

    Each load step runs on the Node relay (when there is one), the bare relay
    and then on Burn Chat, back to back, so all meet the same moments of a
    shared machine, and all get the same steps: one that falls behind keeps
    stepping while another still keeps up. The Node relay usually keeps up with
    every step the Python servers get: its saturation is then a lower bound.
    """
    kinds = [kind for kind in ("node", *KINDS) if kind in servers]
    min_rooms, size = (int(part) for part in case.split("x"))
    crowds = {kind: RelayCrowd(servers[kind], pools[kind], preset, min_rooms, size) for kind in kinds}
    steps = {kind: [] for kind in kinds}
    notes = {kind: f"did not fall behind within {preset.relay_max_steps} steps" for kind in kinds}
    offered = preset.relay_start
    for index in range(preset.relay_max_steps):
        if not all(crowds[kind].ensure(offered) for kind in kinds):
            for kind in kinds:
                notes[kind] = notes[kind] if "behind at" in notes[kind] else \
                    f"reached the {preset.relay_max_members}-member cap"
            break
        behind = {kind: _confirmed_step(crowds[kind], offered, index, steps[kind], logs[kind])["behind"]
                  for kind in kinds}
        for kind, fell in behind.items():
            if fell and "behind at" not in notes[kind]:
                notes[kind] = f"fell behind at {round(offered):,}/s offered"
        if all(behind[kind] for kind in PYTHON_KINDS):
            for kind in set(kinds) - set(PYTHON_KINDS):
                if not behind[kind] and "behind at" not in notes[kind]:
                    notes[kind] = f"kept up with every step (to {round(offered):,}/s offered)"
            break
        offered *= preset.relay_factor
    if not all(steps.values()):
        raise RuntimeError(f"the first step already needs more than {preset.relay_max_members} members")
    half_of = _best(steps["baseline"])["delivered_per_s"]
    tries = _half_steps({kind: crowds[kind] for kind in kinds}, half_of / 2, preset.relay_half_tries, logs)
    return {kind: _result(steps[kind], tries[kind], notes[kind], half_of) for kind in kinds}


def _best(steps):
    """The step with the most deliveries/s."""
    return max(steps, key=lambda s: s["delivered_per_s"])


def _half_steps(crowds, offered, count, logs):
    """`count` steps per server at `offered`, alternating servers; tries by kind."""
    for kind in crowds:
        if not crowds[kind].ensure(offered):
            raise RuntimeError("the 50% step needs more members than the cap")
    tries = {kind: [] for kind in crowds}
    for attempt in range(count):
        for kind in crowds:
            tries[kind].append(crowds[kind].step(offered, code=HALF_STEP_CODE + attempt))
            logs[kind]("50% step: " + _describe(tries[kind][-1]))
    return tries


def _result(steps, tries, note, half_of):
    """One server's relay figures from its steps and its 50% tries."""
    best = _best(steps)
    # Noise on a shared machine only ever adds latency: the better 50% try counts.
    half = min(tries, key=lambda s: s["latency_ms"]["p99"])
    return {
        "saturation_per_s": best["delivered_per_s"],
        "saturated": note.startswith("fell behind"),
        "note": note,
        "cpu_ms_per_1k_at_saturation": best["cpu_ms_per_1k"],
        "deliveries_per_cpu_second": round(1e6 / best["cpu_ms_per_1k"]) if best["cpu_ms_per_1k"] else None,
        "lost_below_saturation": sum(s["lost"] for s in [*steps, *tries]
                                     if s["offered_per_s"] < 0.95 * best["delivered_per_s"]),
        "lost_total": sum(s["lost"] for s in [*steps, *tries]),
        "half_offered_per_s": round(half_of / 2),
        "p99_ms_at_half": half["latency_ms"]["p99"],
        "p99_ms_at_half_tries": [t["latency_ms"]["p99"] for t in tries],
        "half_step": half,
        "steps": steps,
    }


def compare(ours, baseline):
    """The ratios the issue's targets are about, and CPU per delivery at equal loads."""
    return {"saturation": stats.ratio(ours["saturation_per_s"], baseline["saturation_per_s"]),
            "cpu_per_1k_same_load": _cpu_ratio_at_same_loads(ours["steps"], baseline["steps"]),
            "deliveries_per_cpu_second": stats.ratio(ours["deliveries_per_cpu_second"],
                                                     baseline["deliveries_per_cpu_second"]),
            "p99_at_half": stats.ratio(ours["p99_ms_at_half"], baseline["p99_ms_at_half"]),
            "cpu_per_1k": stats.ratio(ours["cpu_ms_per_1k_at_saturation"],
                                      baseline["cpu_ms_per_1k_at_saturation"])}


def _cpu_ratio_at_same_loads(ours, baseline):
    """Median of ours/bare server CPU per 1,000 deliveries over the loads both kept up with.

    Paired steps ran back to back at the same offered load, so this ratio leaves
    out how much of the machine each server happened to get.
    """
    kept_up = {s["target_per_s"]: s for s in baseline if not s["behind"] and s["cpu_ms_per_1k"]}
    ratios = [s["cpu_ms_per_1k"] / kept_up[s["target_per_s"]]["cpu_ms_per_1k"]
              for s in ours if not s["behind"] and s["cpu_ms_per_1k"] and s["target_per_s"] in kept_up]
    return round(stats.percentile(ratios, 0.5), 2) if ratios else None


def _confirmed_step(crowd_, offered, index, steps, log):
    """Run a step; if it falls behind, run it once more so one noisy moment cannot end the stepping."""
    step = crowd_.step(offered, code=2 * index + 1)
    steps.append(step)
    log(_describe(step))
    if step["behind"]:
        step = crowd_.step(offered, code=2 * index + 2)
        step["retry"] = True
        steps.append(step)
        log("retry: " + _describe(step))
    return step


class RelayCrowd:
    """The rooms and members of one relay run, grown as the offered load needs."""

    def __init__(self, server, pool, preset, min_rooms, size):
        self.server = server
        self.pool = pool
        self.preset = preset
        self.min_rooms = min_rooms
        self.size = size
        self.rooms = 0

    def rooms_for(self, offered):
        """Rooms needed so no member sends faster than the per-member rate."""
        messages_per_s = offered / (self.size - 1)
        return max(self.min_rooms,
                   math.ceil(messages_per_s / (self.size * self.preset.relay_member_rate)))

    def ensure(self, offered):
        """Open enough rooms for `offered` deliveries/s; False if that passes the member cap."""
        needed = self.rooms_for(offered)
        if needed * self.size > self.preset.relay_max_members:
            return False
        if needed > self.rooms:
            rooms = crowd.create_rooms(self.pool, needed - self.rooms, ROOM_TTL_SECONDS,
                                       first_worker=self.rooms)
            opened = crowd.open_members(self.pool, rooms, self.size,
                                        self.preset.relay_connect_concurrency, seal=True)
            if opened["error_count"]:
                raise RuntimeError(f"could not open relay members: {opened['errors']}")
            self.rooms = needed
            crowd.wait_ready(self.pool, self.preset.ready_timeout_seconds)
        return True

    def step(self, offered, code):
        """Offer `offered` deliveries/s for one step, drain, and measure."""
        members = self.rooms * self.size
        member_rate = offered / (self.size - 1) / members
        duration = self.preset.relay_step_seconds
        server_cpu, loadgen_cpu = self.server.cpu_seconds(), self.pool.cpu_seconds()
        start_at = time.monotonic() + START_DELAY_SECONDS
        sends = self.pool.broadcast("relay_step", code=code, rate=member_rate, duration=duration,
                                    start_at=start_at)
        counts = self._drain(sum(s["sent"] for s in sends))
        ended = time.monotonic()
        server_cpu = self.server.cpu_seconds() - server_cpu
        loadgen_cpu = self.pool.cpu_seconds() - loadgen_cpu
        latencies = [value for part in self.pool.broadcast("step_latencies") for value in part]
        last_delivery = max(c["last_delivery_ns"] for c in counts) / 1e9
        sent = sum(c["sent"] for c in counts)
        delivered = sum(c["delivered"] for c in counts)
        expected = sum(c["expected"] for c in counts)
        refused = sum(sum(c["refused"].values()) for c in counts)
        elapsed = max(duration, last_delivery - start_at)
        offered_actual = sent * (self.size - 1) / duration
        delivered_per_s = delivered / elapsed
        lost = expected - delivered
        return {
            "target_per_s": round(offered),
            "offered_per_s": round(offered_actual),
            "delivered_per_s": round(delivered_per_s),
            "rooms": self.rooms, "members": members, "member_rate": round(member_rate, 3),
            "sent": sent, "expected": expected, "delivered": delivered, "lost": lost,
            "refused": refused, "unacked": sum(c["pending"] for c in counts),
            "skipped": sum(c.get("skipped", 0) for c in counts),
            "latency_ms": stats.summary(latencies),
            "server_cpu_pct": round(100 * server_cpu / (ended - start_at), 1),
            "loadgen_cpu_pct": round(100 * loadgen_cpu / (ended - start_at), 1),
            "cpu_ms_per_1k": round(1000 * server_cpu / delivered * 1000, 2) if delivered else None,
            "behind": delivered_per_s < self.preset.relay_behind_ratio * offered_actual or refused > 0,
        }

    def _drain(self, sent):
        """Wait until every accepted message reached every recipient, or the drain timeout."""
        deadline = time.monotonic() + self.preset.drain_timeout_seconds
        while True:
            counts = self.pool.broadcast("step_counts")
            pending = sum(c["pending"] for c in counts)
            missing = sum(c["expected"] - c["delivered"] for c in counts)
            if (pending == 0 and missing <= 0) or time.monotonic() > deadline:
                return counts
            time.sleep(DRAIN_POLL_SECONDS)


def _describe(step):
    """One progress line for a step."""
    latency = step["latency_ms"]
    return (f"offered {step['offered_per_s']}/s delivered {step['delivered_per_s']}/s "
            f"p50 {latency['p50']} p99 {latency['p99']} max {latency['max']} ms, "
            f"lost {step['lost']}, server CPU {step['server_cpu_pct']}%, "
            f"loadgen CPU {step['loadgen_cpu_pct']}%{' BEHIND' if step['behind'] else ''}")
