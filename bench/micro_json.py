"""`python -m bench.micro_json`: CPU per packet of the stdlib's JSON and of `fast_json`.

No server: `engineio.json` (what Socket.IO uses without the tuning) against
`burnchat.fastjson` on the packets of a room, each timed with `timeit` on process
CPU time (best of 5), a few seconds in all. Prints a Markdown table.
"""

import time
import timeit

from engineio import json as stdlib_json

from burnchat import fastjson
from tests.wire import announcement, b64u, envelope, key_delivery

COMPACT = {"separators": (",", ":")}  # what python-socketio passes


def packets():
    """A room's frequent packets, as Socket.IO hands them to `dumps`."""
    members = [b64u(16) for _ in range(50)]
    return {
        "ack `{ok: true}`": {"ok": True},
        "`message`, 256-byte class": ["message", envelope(members[0], 7, 123, 256)],
        "`message`, 4,096-byte class": ["message", envelope(members[0], 7, 123, 4096)],
        "`member_joined`": ["member_joined", {"member": announcement()}],
        "`key_deliver` to 49": ["key_deliver", key_delivery(3, members[0], members[1:])],
    }


def cpu_us(call, number):
    """Microseconds of CPU per call."""
    return min(timeit.repeat(call, number=number, repeat=5, timer=time.process_time)) / number * 1e6


def main():
    print("| packet | bytes | dumps stdlib / fast_json, us | ratio | loads stdlib / fast_json, us | ratio |")
    print("|---|---|---|---|---|---|")
    for name, value in packets().items():
        text = stdlib_json.dumps(value, **COMPACT)
        number = 20_000 if len(text) < 2_000 else 3_000
        dumps = [cpu_us(lambda m=m: m.dumps(value, **COMPACT), number) for m in (stdlib_json, fastjson)]
        loads = [cpu_us(lambda m=m: m.loads(text), number) for m in (stdlib_json, fastjson)]
        print(f"| {name} | {len(text):,} | {dumps[0]:.2f} / {dumps[1]:.2f} | {dumps[1] / dumps[0]:.2f} "
              f"| {loads[0]:.2f} / {loads[1]:.2f} | {loads[1] / loads[0]:.2f} |")


if __name__ == "__main__":
    main()
