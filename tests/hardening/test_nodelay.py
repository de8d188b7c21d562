"""No answer waits on Nagle's algorithm (stack tuning `nodelay`, burnchat/transport.py).

gevent's pywsgi writes an answer's headers and body apart; with Nagle the body waits
for the ACK of the headers, which the client delays by 40 ms (Linux's minimum delayed
ACK): every answer on a kept-alive connection took 40 ms. The stall is the kernel's
timer, not load, so it shows as a median of 40 ms or more on any machine; without it an
answer here takes a few milliseconds.
"""

import http.client
import json
import statistics
import time

import pytest

from tests.pins import room_request

DELAYED_ACK_MS = 40


def answer_ms(server, count=20):
    """Milliseconds of each of `count` room creations on one kept-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("POST", "/api/rooms", body=json.dumps(room_request(60)),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 201 and response.read()
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return times


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_answers_on_a_kept_alive_connection_never_wait_for_a_delayed_ack(fresh_server, mode):
    server = fresh_server({"BURNCHAT_ASYNC_MODE": mode})
    assert statistics.median(answer_ms(server)) < DELAYED_ACK_MS / 2


def test_without_it_gevent_answers_wait_for_the_delayed_ack(fresh_server):
    """The stack's default, for the record: the test above would see the stall."""
    server = fresh_server({"BURNCHAT_ASYNC_MODE": "gevent", "BURNCHAT_STACK_TUNING": "none"})
    assert statistics.median(answer_ms(server)) >= DELAYED_ACK_MS * 0.9
