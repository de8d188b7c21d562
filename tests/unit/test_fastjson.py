"""The `fast_json` tuning reads and writes every packet as the stdlib (engineio.json) would.

Compared with the stdlib on our real payloads (the protocol's test vectors, the
test peer's events, the server's acks) and on hostile text: the same values out,
and the same error class wherever the stdlib raises one.
"""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from engineio import json as stdlib_json

from burnchat import fastjson
from burnchat.config import BODY_SIZE_CLASSES
from tests.server import ROOT
from tests.wire import announcement, b64u, envelope, key_delivery

COMPACT = {"separators": (",", ":")}
VECTORS = Path(ROOT) / "tests" / "vectors"


def _subtrees(value):
    """Every object and array inside a JSON value, the value first."""
    if isinstance(value, (dict, list)):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from _subtrees(item)


def _corpus():
    """Client events and server emits as Socket.IO hands them to `dumps`."""
    members = [b64u(16) for _ in range(50)]
    yield ["join", {"v": 2, "room_id": b64u(16), "join_key": b64u(32), "announcement": announcement()}]
    for size in BODY_SIZE_CLASSES:
        yield ["message", envelope(members[0], 7, 123, size)]
    yield ["key_deliver", key_delivery(3, members[0], members[1:])]
    yield ["file_chunk", {"file_id": b64u(16), "index": 0, "iv": b64u(12), "ct": b64u(65536 + 16)}]
    yield {"ok": True}
    yield {"ok": False, "code": "invalid", "error": "Invalid join payload: Expected `str`, got `int` - at `$.v`"}
    yield {"ok": False, "code": "invalid", "error": "Object contains unknown field `nämé\u2028\U0001f525`"}
    yield ["countdown", {"expires_at": 1_764_600_000_000, "now": 1_764_599_990_123}]
    yield ["member_joined", {"member": announcement(), "members": [announcement() for _ in range(9)]}]
    yield {"sid": b64u(16), "upgrades": [], "pingTimeout": 20000, "pingInterval": 20000, "maxPayload": 93184}
    for name in ("protocol_v2.json", "files_v2.json"):
        yield from _subtrees(json.loads((VECTORS / name).read_text()))


CORPUS = list(_corpus())


def outcome(function, *args, **kwargs):
    """What a call gave: its value (by repr, so NaN equals NaN) or its error's class."""
    try:
        return "value", repr(function(*args, **kwargs))
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return "error", type(error)


def test_the_corpus_is_written_byte_for_byte_as_the_stdlib_writes_it():
    assert len(CORPUS) > 150
    for value in CORPUS:
        assert fastjson.dumps(value, **COMPACT) == stdlib_json.dumps(value, **COMPACT)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_the_corpus_is_read_as_the_stdlib_reads_it(ensure_ascii):
    for value in CORPUS:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii)
        assert outcome(fastjson.loads, text) == outcome(stdlib_json.loads, text)
        assert fastjson.loads(text) == value


HOSTILE_TEXT = [
    "", " ", "[", "]", "[1,]", "[1] x", "01", "1.", ".5", "+1", "0x1", "1_000", "'a'", "True", "nul",
    "NaN", "[NaN]", "Infinity", "-Infinity", '{"a":Infinity}', "1e400", "-1e400", "[1e999]", "0.1e-400",
    '"\\ud800"', '"\\udc00\\ud800"', '["lone\\udc00"]', '"\\uD834\\uDD1E"', '"\\x"', '"\x01"', '"\x7f"',
    "\ufeff[]", "\x0b[1]", "\xa0[1]", "[1]\x00", '{"a":1,"a":2}', '{1:1}', '{"a" 1}', "[-]", "-0", "-0.0",
    "1" * 100, "1" * 101, "-" + "9" * 99, "-" + "9" * 100, "[" + "7" * 101 + "]", "[" + "7" * 5000 + "]",
    "[" + "1" * 150 + ".5]", "[0." + "3" * 200 + "]", '["' + "1" * 200 + '"]',
    "18446744073709551616", "-9223372036854775809", "1" * 40,
    "[" * 500 + "]" * 500, "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000,
    '["message",{"v":2,"ct":"' + "A" * 20000 + '"}]',
    "\ud800", '"\ud800"', '["\udfff"]',  # raw lone surrogates in the text itself
]


@pytest.mark.parametrize("text", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_hostile_text_gets_the_stdlibs_answer(text):
    assert outcome(fastjson.loads, text) == outcome(stdlib_json.loads, text)


def test_a_refusal_is_a_value_error_where_the_stdlib_gives_one():
    # engineio's reader and frames.StrictPacket catch ValueError (and RecursionError).
    for text in ("[1,]", "[" + "7" * 101 + "]", "\ufeff[]", '"\x01"', "1e"):
        with pytest.raises(ValueError):
            fastjson.loads(text)


@pytest.mark.parametrize("length", [100, 101, 102, 121])
def test_a_long_integer_is_found_at_every_offset(length):
    # fastjson reads every 10th byte first: a run must be seen wherever it starts.
    payload = json.dumps(envelope(b64u(16), 7, 123), separators=(",", ":"))[1:]
    for key in range(1, 25):
        for number in ("7" * length, "-" + "7" * (length - 1)):
            text = '["message",{"' + "k" * key + '":' + number + "," + payload + "]"
            assert outcome(fastjson.loads, text) == outcome(stdlib_json.loads, text), (key, number)
            assert (outcome(fastjson.loads, text)[0] == "error") == (length > 100)


def test_mutated_payloads_get_the_stdlibs_answer():
    rng = random.Random(17)
    pieces = list('{}[],:"\\-+.0123456789eEtrufalsn ') + ["\\u", "\\ud800", "NaN", "Infinity", "é", "\x00"]
    texts = [json.dumps(value, separators=(",", ":")) for value in CORPUS[:60]]
    for _ in range(4000):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text) + 1)
            cut = rng.choice((0, 0, 1, rng.randint(1, 40)))
            text = text[:at] + rng.choice(pieces) * rng.choice((1, 1, 2, 120)) + text[at + cut:]
        assert outcome(fastjson.loads, text) == outcome(stdlib_json.loads, text), text[:200]


def test_numbers_are_read_as_the_stdlib_reads_them():
    rng = random.Random(5)
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 110))).lstrip("0") or "0"
        number = rng.choice(("", "-")) + digits
        number += rng.choice(("", "", "." + str(rng.randint(0, 10 ** 20)), "e" + str(rng.randint(-330, 330))))
        text = f"[{number}]"
        assert outcome(fastjson.loads, text) == outcome(stdlib_json.loads, text), text
        value = rng.uniform(-1e300, 1e300) * rng.choice((1, 1e-300, 1e-10))
        assert fastjson.loads(fastjson.dumps([value], **COMPACT)) == [value]


@pytest.mark.parametrize("value", [
    "nämé", "\u2028", "\U0001f525", "\ud800", {"\udc00": 1},  # non-ASCII and lone surrogates
    {True: 1, None: 2, 1: 3, 1.5: 4}, 2 ** 200, -(2 ** 70), [[[]]], {"a": [1, "b", None, False]},
    {(1, 2): 3}, object(),  # the stdlib's TypeError: keys and types it cannot write
], ids=lambda value: "object()" if type(value) is object else repr(value))  # no address: xdist
def test_what_msgspec_would_write_differently_is_left_to_the_stdlib(value):
    assert outcome(fastjson.dumps, value, **COMPACT) == outcome(stdlib_json.dumps, value, **COMPACT)


def test_calls_with_other_options_are_the_stdlibs():
    # engineio writes its HTTP error bodies with the default separators.
    message = {"message": "Unauthorized", "nested": ["é", 1.0]}
    for options in ({}, {"separators": (", ", ": ")}, {"sort_keys": True}, {"indent": 2}):
        assert fastjson.dumps(message, **options) == stdlib_json.dumps(message, **options)
    assert fastjson.loads('{"a":1}', parse_int=str) == {"a": "1"}
    assert fastjson.loads(b'{"a":1}') == {"a": 1}


def test_what_is_written_differently_on_purpose():
    # Documented in fastjson.py: floats keep their values but not their spelling; NaN, which the
    # stdlib writes as a token no JSON parser accepts, becomes null (the server emits integers
    # only); bytes become base64 (Socket.IO sends bytes as binary attachments, never as JSON).
    for value in (1e16, 1.5e-7, 0.1, -0.0, 5e-324, 1.2345678901234568e17):
        assert json.loads(fastjson.dumps([value], **COMPACT)) == [value]
    assert fastjson.dumps([float("nan"), float("inf")], **COMPACT) == "[null,null]"
    assert fastjson.dumps([b"ab"], **COMPACT) == '["YWI="]'


PROBE = r"""
import json, sys
import engineio.json, engineio.packet
from burnchat import create_app, socketio
from burnchat.config import STACK_TUNINGS, Config
from burnchat.frames import MALFORMED_EVENT, StrictPacket

TUNINGS = {"fast": STACK_TUNINGS, "none": ()}
for name in sys.argv[1:]:  # earlier apps of the same process, then the one asked
    app = create_app(Config(async_mode="threading", stack_tuning=frozenset(TUNINGS[name])))
client = socketio.test_client(app)
print(json.dumps({
    "engineio": engineio.packet.Packet.json.__name__,
    "socketio": StrictPacket.json.__name__,
    "nan": StrictPacket(encoded_packet='2["message",{"v":NaN}]').data[0] == "message",
    "broken": StrictPacket(encoded_packet='2["message",{"v":2]').data == [MALFORMED_EVENT],
    "ack": client.emit("message", {"v": 2, "x": "\u00e9"}, callback=True),
}))
"""


@pytest.mark.parametrize("apps, module", [
    (["fast"], "burnchat.fastjson"), (["none"], "engineio.json"),
    (["fast", "none"], "engineio.json"), (["none", "fast"], "burnchat.fastjson"),
])
def test_the_tuning_is_process_wide_and_none_puts_the_stdlib_back(apps, module):
    # A fresh interpreter: the Socket.IO server is a module global (see test_bare_events.py).
    run = subprocess.run([sys.executable, "-c", PROBE, *apps], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    ack = seen.pop("ack")
    assert seen == {"engineio": module, "socketio": module, "nan": True, "broken": True}
    if len(apps) == 1:  # a second app in one process answers no test-client acks (as before)
        assert ack == {"ok": False, "code": "invalid",
                       "error": "Invalid message payload: Object contains unknown field `x`"}
