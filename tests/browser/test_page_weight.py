"""Page weight in real Chromium: a first visit and a returning one to the home and room pages.

The returning visit must come from the cache: the stylesheet and Socket.IO from memory
(their ?v= URLs are immutable), every module revalidated with a 304 and no body. The
figures are printed (`-s`) for docs/BENCHMARKS.md, "Page weight".
"""

import pytest

from tests.browser.weight import cold_and_warm

pytestmark = pytest.mark.browser
SECRET = "A" * 22  # a well-formed link secret: the page shows its join form
# A 304 carries our headers only (the CSP and Permissions-Policy make most of its ~1 kB);
# any file with a body is bigger. (Chromium does not always report a 304 as one.)
HEADERS_ONLY_BYTES = 1200


def figures(browser, url, name):
    """Cold and warm visits of `url`, printed as one FIGURE line each."""
    cold, warm = cold_and_warm(browser, url)
    for label, visit in (("cold", cold), ("warm", warm)):
        print(f"\nFIGURE page weight {name} {label}: {len(visit.requests)} requests, "
              f"{len(visit.network_requests)} to the server, {visit.bytes} bytes")
    return cold, warm


def path(url):
    """A request URL without the origin."""
    return "/" + url.split("/", 3)[3]


def bodies(visit):
    """What came with a body in a visit (the rest came from the cache, or as a 304)."""
    return [path(r["url"]) for r in visit.network_requests
            if r["status"] != 304 and r["bytes"] > HEADERS_ONLY_BYTES]


def test_returning_visitors_load_the_home_page_from_cache(browser, app_server):
    cold, warm = figures(browser, app_server.url + "/", "home")
    loaded = [path(r["url"]) for r in cold.requests]
    assert not [url for url in loaded if "room" in url or "admin" in url or "socket.io" in url], loaded
    fetched = [path(r["url"]) for r in cold.network_requests]
    assert fetched.count("/static/img/flame.svg") == 1, f"the icon is not fetched once: {fetched}"
    assert warm.bytes * 3 < cold.bytes, (cold.summary(), warm.summary())
    assert bodies(warm) == ["/"]  # only the page itself comes anew
    assert cold.bytes < 100_000, cold.summary()  # gzip and no room code: was 347 kB


def test_returning_visitors_load_the_room_page_from_cache(browser, app_server):
    room = app_server.create_room()["room"]
    cold, warm = figures(browser, f"{app_server.url}/r/{room}#{SECRET}", "room")
    assert warm.bytes * 3 < cold.bytes, (cold.summary(), warm.summary())
    assert len(warm.network_requests) < len(cold.network_requests)
    assert bodies(warm) == [f"/r/{room}"]
