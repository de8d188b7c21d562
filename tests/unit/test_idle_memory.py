"""What a held request keeps alive in our WSGI middleware (bench/memory.py found ~2.7 KiB per idle
member here). A WebSocket's request lasts as long as the socket, so whatever the middleware's frames
hold is paid once per idle member: the security headers and the gate's parsed query must be shared
or gone while the app behind them runs. Measured with tracemalloc over real middleware calls held
open in greenlets, as eventlet holds one per WebSocket."""

import tracemalloc

import greenlet

from burnchat.config import Config
from burnchat.gate import Gate
from burnchat.security import SecurityHeaders

HELD = 200
BUDGET_BYTES_PER_REQUEST = 400   # the `start` closure and its cells (~0.25 KiB) fit; a copy of the headers does not
MIDDLEWARE = ("/burnchat/security.py", "/burnchat/gate.py")


def _innermost_of_ours(traceback):
    """The file of the innermost frame in burnchat/ or tests/ (the stdlib's are charged to it)."""
    ours = [f.filename for f in traceback if "/burnchat/" in f.filename or "/tests/" in f.filename]
    return ours[-1] if ours else ""


def _websocket_environ(index):
    return {"REQUEST_METHOD": "GET", "PATH_INFO": "/socket.io/", "HTTP_HOST": "127.0.0.1:5000",
            "QUERY_STRING": f"EIO=4&transport=websocket&t=abc{index}", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http"}


def test_a_held_websocket_request_keeps_almost_nothing_in_the_middleware():
    main = greenlet.getcurrent()

    def app(environ, start_response):
        start_response("101 Switching Protocols", [])
        main.switch()   # the WebSocket lives here until the socket closes
        return []

    stack = SecurityHeaders(Gate(app, Config(sessions_per_address=10 ** 6)), 0)
    answers = []
    stack(_websocket_environ(-1), lambda *args: answers.append(args[0]))   # warm caches up
    held = [greenlet.greenlet(lambda i=i: stack(_websocket_environ(i), lambda *a: answers.append(a[0])))
            for i in range(HELD)]
    tracemalloc.start(8)   # frames enough to charge the stdlib's allocations to the line of ours
    try:
        before = tracemalloc.take_snapshot()
        for g in held:
            g.switch()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert answers == ["101 Switching Protocols"] * (HELD + 1)
    kept = sum(stat.size_diff for stat in after.compare_to(before, "traceback")
               if _innermost_of_ours(stat.traceback).endswith(MIDDLEWARE))
    assert kept / HELD <= BUDGET_BYTES_PER_REQUEST, f"{kept / HELD:.0f} bytes per held request"
    for g in held:
        g.switch()
