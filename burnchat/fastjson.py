"""The `fast_json` stack tuning: Socket.IO packets encoded and decoded by msgspec.

python-socketio and python-engineio take a module-like `json` with `dumps` and
`loads`; by default that is the stdlib (`engineio.json`, which also refuses
integers of more than 100 characters). This one is msgspec where msgspec gives
the stdlib's answer, and the stdlib itself everywhere else, so what a client
can send and what it is refused is unchanged:

- `loads` hands msgspec only text that cannot hold an integer of more than 100
  characters; anything msgspec refuses (NaN/Infinity, numbers out of float
  range, lone surrogates, depth, malformed text) is parsed again by the stdlib,
  which accepts it or raises exactly as it does without the tuning (a
  `ValueError`, or `RecursionError`, which frames.StrictPacket refuses).
- `dumps` uses msgspec only for the compact separators Socket.IO asks for and
  only when the result is ASCII; then its text is the stdlib's but for float
  spelling (`1e16` for `1e+16`) and DEL left unescaped, the same JSON values.
  Any other call, any non-ASCII text (the stdlib escapes it), any object msgspec
  refuses (lone surrogates, bool or None keys) goes to the stdlib.
- Left different on purpose, unreachable from the server's emits: NaN and
  infinities encode as `null` (the stdlib writes `NaN`, which no browser's
  JSON.parse accepts; the server emits no floats), and bytes, sets and structs
  encode (the stdlib raises TypeError; Socket.IO moves bytes to binary
  attachments before it encodes, and no handler returns a set or a struct).

engineio sets the chosen module on its `Packet` class, i.e. for the whole
process; the factory therefore always passes one (this or `engineio.json`).
"""

from engineio import json as stdlib_json
import msgspec

_COMPACT = {"separators": (",", ":")}
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
# A digit or minus becomes "0", any other byte "x": an integer token of more than 100
# characters (engineio's limit) is then a run of 101 zeros. Digits inside strings may match
# too; those frames simply take the stdlib's path.
_NUMBER_BYTES = bytes(48 if chr(i) in "0123456789-" else 120 for i in range(256))
_LONG_INTEGER = b"0" * 101
# Such a run covers at least 10 consecutive multiples of 10: every 10th byte is checked first.
_STRIDE = 10
_SAMPLED_RUN = b"0" * 10


def dumps(obj, **kwargs):
    """JSON text of `obj`, as the stdlib's `json.dumps(obj, **kwargs)` would write it."""
    if kwargs == _COMPACT:
        try:
            text = _encode(obj).decode()
        except Exception:  # the stdlib's answer, or its error
            return stdlib_json.dumps(obj, **kwargs)
        if text.isascii():
            return text
    return stdlib_json.dumps(obj, **kwargs)


def loads(s, **kwargs):
    """The value of JSON text `s`, or the `ValueError` the stdlib (engineio.json) raises."""
    if kwargs or not isinstance(s, str):
        return stdlib_json.loads(s, **kwargs)
    try:
        data = s.encode()
        if not _may_hold_long_integer(data):
            return _decode(data)
    except Exception:  # the stdlib accepts it, or raises its own error
        pass
    return stdlib_json.loads(s)


def _may_hold_long_integer(data):
    """Whether the UTF-8 text `data` has 101 digits or minus signs in a row (a tenth of it
    is read first: each such run puts 10 of them in a row into `data[::10]`)."""
    return (len(data) > 100
            and data[::_STRIDE].translate(_NUMBER_BYTES).find(_SAMPLED_RUN) >= 0
            and data.translate(_NUMBER_BYTES).find(_LONG_INTEGER) >= 0)
