"""With `bare_events`, our event handlers run without a Flask request context, and work the same.

In a fresh interpreter: the Socket.IO server is a module global, and an app built
earlier in the same process (another test's) would keep its handlers' state.
"""

import json
import subprocess
import sys

from tests.server import ROOT

PROBE = r"""
import json
from burnchat import create_app, socketio
from burnchat.config import STACK_TUNINGS, Config

app = create_app(Config(async_mode="threading", stack_tuning=frozenset(STACK_TUNINGS)))
assert socketio.bare_events
contexts = []
real = app.request_context
app.request_context = lambda environ: contexts.append(1) or real(environ)
client = socketio.test_client(app)
acks = {}
for bare in (True, False):
    socketio.bare_events = bare   # what create_app sets from BURNCHAT_STACK_TUNING
    before = len(contexts)
    ack = client.emit("message", {"v": 2}, callback=True)
    acks[str(bare)] = [ack, len(contexts) - before]
client.disconnect()
print(json.dumps(acks))
"""


def test_the_same_ack_with_or_without_the_request_context():
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    acks = json.loads(run.stdout.strip().splitlines()[-1])
    assert acks["True"][0] == acks["False"][0] and acks["True"][0]["code"] == "invalid"
    assert acks["True"][1] == 0 and acks["False"][1] == 1
