"""Scenario `files`: file throughput to 1, 5 and 20 receivers, server RSS while files move, and
chat latency in the same room while a file moves - each against the same room without files.

Standalone for now (`python -m bench.scenarios.files`), not yet in the runner's table: it
starts one fresh Burn Chat process per receiver count and, in that room, measures

* `idle`: chat round trips (a pinger sends envelopes at `ping_rate`, a listener notes each
  arrival; latency = arrival - send on the same clock) and the server's RSS, with no file;
* `file`: the same pings while a sender moves `file_mib` MiB of chunks (random ciphertext
  of the right sizes: the server is blind, so real crypto would only time the client) to
  every receiver, window 4, each receiver acknowledging each chunk as a browser does.

The load generators are Python clients in this one process: on a shared machine they, not the
server, set the pace (a first run had the server at ~5% of a core while a file moved), so the
figures say little until the clients run in worker processes like the other scenarios'.

Figures are ratios within the same invocation and room (file vs idle), never a timed test:
`chat_p99_ratio` (the issue asks for <= 2), `rss_growth_kib`, and the throughput in MiB/s of
file content delivered to each receiver. Printed as JSON and a Markdown table.
"""

import argparse
import base64
import json
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

import socketio

from .. import stats
from ..servers import Server

CHUNK_BYTES = 64 * 1024
WINDOW = 4
FULL = {"receivers": [1, 5, 20], "file_mib": 16, "ping_rate": 20, "pings": 200}
SMOKE = {"receivers": [1, 2], "file_mib": 1, "ping_rate": 20, "pings": 20}
ENV = {"BURNCHAT_MESSAGE_RATE": "1000", "BURNCHAT_MESSAGE_BURST": "1000",
       "BURNCHAT_FILE_BYTES_PER_MINUTE": str(64 * 1024 * 1024 * 1024)}


def _b64u(count):
    return base64.urlsafe_b64encode(secrets.token_bytes(count)).rstrip(b"=").decode()


class Member:
    """A keyed member (answers key requests with well-formed meaningless blobs), recording arrivals."""

    def __init__(self, url):
        self.member_id = _b64u(16)
        self.epoch = 0
        self.arrivals = {}   # ping ct -> arrival time
        self.chunks = 0
        self.client = socketio.Client(reconnection=False)
        self.client.on("key_request", self._key_request)
        self.client.on("room_key", self._room_key)
        self.client.on("message", self._message)
        self.client.on("file_chunk", self._chunk)
        self.client.connect(url, transports=["websocket"], wait_timeout=10)

    def _key_request(self, data):
        roster = sorted({self.member_id, *data["for"]})
        self.epoch = data["epoch"]
        if not self.client.connected:
            return
        self.client.emit("key_deliver", {
            "epoch": data["epoch"], "roster": roster, "line_macs": [_b64u(16) for _ in roster],
            "commit_sig": _b64u(64),
            "blobs": [{"to": to, "wrapped": _b64u(40), "sig": _b64u(64)} for to in data["for"]]})

    def _room_key(self, data):
        self.epoch = data["epoch"]
        try:
            self.client.emit("key_held", {"epoch": data["epoch"]})
        except socketio.exceptions.BadNamespaceError:
            pass  # closed meanwhile (the case is over)

    def _message(self, data):
        self.arrivals[data["ct"]] = time.monotonic()

    def _chunk(self, _data):
        self.chunks += 1
        return {"ok": True}

    def join(self, room):
        ack = self.client.call("join", {"v": 2, "room": room, "member_id": self.member_id,
                                        "ecdh_pub": _b64u(65), "sig_pub": _b64u(65),
                                        "enc_name": _b64u(160), "mac": _b64u(32)}, timeout=10)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")

    def close(self):
        self.client.disconnect()


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _pings(pinger, listener, count, rate):
    """Round trips of `count` chat envelopes sent at `rate`/s -> latencies in ms."""
    sent = {}
    for seq in range(1, count + 1):
        ct = _b64u(256 + 16)
        envelope = {"v": 2, "epoch": pinger.epoch, "sender": pinger.member_id, "seq": seq,
                    "prev": _b64u(32), "iv": _b64u(12), "ct": ct, "sig": _b64u(64)}
        sent[ct] = time.monotonic()
        ack = pinger.client.call("message", envelope, timeout=10)
        if not ack.get("ok"):
            raise RuntimeError(f"ping refused: {ack}")
        time.sleep(1 / rate)
    _wait(lambda: all(ct in listener.arrivals for ct in sent), 10, "every ping")
    return [(listener.arrivals[ct] - at) * 1000 for ct, at in sent.items()]


def _send_file(sender, size, done):
    """Every chunk of a `size`-byte file, WINDOW awaiting their ack -> seconds taken."""
    total = -(-(size + 1) // CHUNK_BYTES)
    transfer = _b64u(16)
    full = _b64u(CHUNK_BYTES + 16)
    started = time.monotonic()
    flight = threading.Semaphore(WINDOW)
    errors = []

    def acked(*answer):
        if not (answer and answer[0].get("ok")):
            errors.append(answer)
        flight.release()

    for index in range(total):
        flight.acquire()
        ct = full if index < total - 1 else _b64u(1024 + 16)
        sender.client.emit("file_chunk", {"transfer": transfer, "index": index, "total": total, "ct": ct},
                           callback=acked)
    for _ in range(WINDOW):
        flight.acquire()
    done["seconds"] = time.monotonic() - started
    done["errors"] = errors


def run_case(server, receivers, file_mib, ping_rate, pings, log=print):
    """One room: a sender, a pinger, `receivers` receivers (the listener among them)."""
    room = server_room(server)
    sender, pinger = Member(server.url), Member(server.url)
    crowd = [Member(server.url) for _ in range(receivers)]
    everyone = [sender, pinger, *crowd]
    try:
        for member in everyone:
            member.join(room)
        _wait(lambda: len({m.epoch for m in everyone}) == 1 and everyone[0].epoch >= len(everyone), 20, "keys")
        idle_rss = server.rss_kb()
        idle = _pings(pinger, crowd[0], pings, ping_rate)
        done = {}
        moving = threading.Thread(target=_send_file, args=(sender, file_mib * 1024 * 1024, done))
        moving.start()
        peak = [server.rss_kb()]
        busy = _pings(pinger, crowd[0], pings, ping_rate)
        while moving.is_alive():
            peak.append(server.rss_kb())
            moving.join(0.1)
        if done["errors"]:
            raise RuntimeError(f"chunks refused: {done['errors'][:3]}")
        _wait(lambda: all(m.chunks >= -(-(file_mib * 1024 * 1024 + 1) // CHUNK_BYTES) for m in crowd), 30, "chunks")
        idle_p99, busy_p99 = stats.percentile(idle, 0.99), stats.percentile(busy, 0.99)
        result = {
            "receivers": receivers, "file_mib": file_mib,
            "throughput_mib_per_s": round(file_mib / done["seconds"], 2),
            "chat_p99_ms_idle": round(idle_p99, 2), "chat_p99_ms_file": round(busy_p99, 2),
            "chat_p99_ratio": round(busy_p99 / idle_p99, 2) if idle_p99 else None,
            "rss_kib_idle": idle_rss, "rss_kib_peak_with_file": max(peak),
            "rss_growth_kib": max(peak) - idle_rss,
        }
        log(json.dumps(result))
        return result
    finally:
        for member in everyone:
            member.close()


def server_room(server):
    """A room on `server` through its API."""
    import requests
    from bench.loadgen import UNCLAIMABLE_PIN
    created = requests.post(f"{server.url}/api/rooms", json={"ttl_seconds": 3600, **UNCLAIMABLE_PIN},
                            timeout=10)
    created.raise_for_status()
    return created.json()["room"]


def table(results):
    """The figures as a Markdown table."""
    lines = ["| receivers | MiB/s per receiver | chat p99 idle / with file, ms (ratio) | RSS idle -> peak, MiB |",
             "|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['receivers']} | {r['throughput_mib_per_s']} | {r['chat_p99_ms_idle']} / "
                     f"{r['chat_p99_ms_file']} ({r['chat_p99_ratio']}) | "
                     f"{r['rss_kib_idle'] / 1024:.0f} -> {r['rss_kib_peak_with_file'] / 1024:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny numbers (the test suite's)")
    parser.add_argument("--mode", default="eventlet", choices=["eventlet", "gevent"])
    parser.add_argument("--out", help="write the results JSON here")
    args = parser.parse_args(argv)
    preset = SMOKE if args.smoke else FULL
    results = []
    logs = Path(tempfile.mkdtemp(prefix="bench-files-"))
    for receivers in preset["receivers"]:
        server = Server("burnchat", args.mode, logs / f"server-{receivers}.log", env=ENV).start()
        try:
            results.append(run_case(server, receivers, preset["file_mib"], preset["ping_rate"],
                                    preset["pings"], log=lambda line: print(line, file=sys.stderr)))
        finally:
            server.stop()
    document = {"scenario": "files", "mode": args.mode, "preset": "smoke" if args.smoke else "full",
                "results": results}
    if args.out:
        Path(args.out).write_text(json.dumps(document, indent=2))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
