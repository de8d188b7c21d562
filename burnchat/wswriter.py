"""Engine.IO's WebSocket writer without a timer per wait (stack tuning `untimed_writer`).

Each socket's writer task waits for its next packet with `queue.get(timeout=ping
interval + ping timeout)`. On eventlet and gevent that is a Timeout scheduled on the
hub and cancelled again for every packet the socket is sent: every delivery pays for a
timer it never needs, since the wait always ends with a packet - at the latest the
server's own PING every ping interval - or with the None that `Socket.close()` queues.
Dead peers are found by Engine.IO's ping check, not by this timeout. So the wait here
blocks without one; the rest is python-engineio 4.x's `Socket.poll`, line for line.
Only WebSocket sessions exist here (gate.py refuses long-polling, whose GET would wait
on this too).
"""


def install(eio):
    """Give every new Engine.IO socket of `eio` the untimed `poll` (before its writer starts)."""
    on_connect = eio.handlers["connect"]
    empty = eio.get_queue_empty_exception()

    def connect(eio_sid, environ):
        sock = eio.sockets.get(eio_sid)
        if sock is not None:
            sock.poll = lambda: untimed_poll(sock.queue, empty)
        return on_connect(eio_sid, environ)

    eio.on("connect", connect)


def untimed_poll(queue, empty):
    """The packets to send next: wait for one, then take what else is queued (None = closed)."""
    packets = [queue.get()]
    queue.task_done()
    if packets == [None]:
        return []
    while True:
        try:
            pkt = queue.get(block=False)
        except empty:
            break
        queue.task_done()
        if pkt is None:
            queue.put(None)  # the writer stops after sending these
            break
        packets.append(pkt)
    return packets
