"""With `bare_events`, our event handlers run without a Flask request context, and work the same."""

from burnchat import create_app, socketio
from burnchat.config import STACK_TUNINGS, Config


def test_the_same_ack_with_or_without_the_request_context(monkeypatch):
    app = create_app(Config(async_mode="threading", stack_tuning=frozenset(STACK_TUNINGS)))
    assert socketio.bare_events
    contexts = []
    real = app.request_context
    monkeypatch.setattr(app, "request_context", lambda environ: contexts.append(1) or real(environ))
    client = socketio.test_client(app)
    acks = {}
    for bare in (True, False):
        socketio.bare_events = bare   # what create_app sets from BURNCHAT_STACK_TUNING
        before = len(contexts)
        ack = client.emit("message", {"v": 2}, callback=True)
        acks[bare] = (ack, len(contexts) - before)
    client.disconnect()
    assert acks[True][0] == acks[False][0] and acks[True][0]["code"] == "invalid"
    assert acks[True][1] == 0 and acks[False][1] == 1
