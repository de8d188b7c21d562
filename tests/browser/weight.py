"""Page weight as Chromium sees it: requests and bytes on the wire for one visit.

Counted from the DevTools protocol, so the figures are what the browser really did:
every HTTP request the page made until the network went quiet, and the bytes each one
took (`encodedDataLength`: headers plus the body as sent, compressed or not; 0 for an
answer from the browser's own cache). WebSocket frames are not counted.

`python -m tests.browser.weight URL [PATH...]` prints the figures for a server already
running (how the "before" column of docs/BENCHMARKS.md "Page weight" was taken).
"""

import json
import sys
import time
from dataclasses import dataclass, field

QUIET_SECONDS = 0.5
VISIT_TIMEOUT_SECONDS = 15


@dataclass
class Visit:
    """One page load: each request's URL, whether the network answered it, and its bytes."""

    requests: list = field(default_factory=list)

    @property
    def network_requests(self):
        """Requests that reached the server (a 304 does; a cache hit does not)."""
        return [r for r in self.requests if not r["cached"]]

    @property
    def bytes(self):
        """Bytes received over the network for the whole visit."""
        return sum(r["bytes"] for r in self.requests)

    def summary(self):
        """A dict for the benchmark table."""
        return {"requests": len(self.requests), "network_requests": len(self.network_requests),
                "bytes": self.bytes}


def visit(context, url):
    """Load `url` in a new page of `context` and return what went over the network."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    seen, started, done = {}, {}, set()

    def on_sent(event):
        if event.get("type") == "WebSocket" or event["request"]["url"].startswith(("ws:", "wss:")):
            return
        started[event["requestId"]] = True
        seen.setdefault(event["requestId"], {"url": event["request"]["url"], "cached": False,
                                             "bytes": 0})

    def on_response(event):
        if event["requestId"] in seen:
            response = event["response"]
            seen[event["requestId"]].setdefault("status", response["status"])
            if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
                seen[event["requestId"]]["cached"] = True

    def on_extra(event):  # the status on the wire: a revalidated answer shows as 200 elsewhere
        if event["requestId"] in seen and event.get("statusCode"):
            seen[event["requestId"]]["status"] = event["statusCode"]

    def on_cache(event):
        if event["requestId"] in seen:
            seen[event["requestId"]]["cached"] = True

    def on_finished(event):
        if event["requestId"] in seen:
            entry = seen[event["requestId"]]
            entry["bytes"] = 0 if entry["cached"] else int(event["encodedDataLength"])
            done.add(event["requestId"])

    def on_failed(event):
        done.add(event["requestId"])

    cdp.on("Network.requestWillBeSent", on_sent)
    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.responseReceivedExtraInfo", on_extra)
    cdp.on("Network.requestServedFromCache", on_cache)
    cdp.on("Network.loadingFinished", on_finished)
    cdp.on("Network.loadingFailed", on_failed)
    cdp.send("Network.enable")
    page.goto(url, wait_until="load")
    deadline = time.monotonic() + VISIT_TIMEOUT_SECONDS
    last_change, last_count = time.monotonic(), -1
    while time.monotonic() < deadline:  # until every request finished and none started for a while
        page.wait_for_timeout(50)
        count = (len(started), len(done))
        if count != last_count:
            last_change, last_count = time.monotonic(), count
        elif len(done) >= len(started) and time.monotonic() - last_change >= QUIET_SECONDS:
            break
    cdp.detach()
    page.close()
    return Visit([seen[key] for key in started if key in done])


def cold_and_warm(browser, url):
    """A first visit in a fresh profile, then a returning one in the same profile."""
    context = browser.new_context()
    try:
        return visit(context, url), visit(context, url)
    finally:
        context.close()


def main(argv):
    """Print cold and warm figures for each path of a running server as JSON."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    base, *paths = argv
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        figures = {}
        for path in paths or ["/"]:
            cold, warm = cold_and_warm(browser, base + path)
            figures[path.split("#")[0]] = {"cold": cold.summary(), "warm": warm.summary(),
                                           "cold_urls": [r["url"] for r in cold.requests]}
        browser.close()
    json.dump(figures, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
