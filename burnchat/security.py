"""HTTP hardening and client addresses: response headers, and who is really asking.

The client address is only used for rate limits and PIN lockouts, in memory.
"""

import functools
import ipaddress
import re

_DENIED_FEATURES = (
    "accelerometer", "autoplay", "display-capture", "encrypted-media", "fullscreen",
    "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment",
    "picture-in-picture", "publickey-credentials-get", "screen-wake-lock", "usb",
    "xr-spatial-tracking", "interest-cohort", "browsing-topics")
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in ("camera", *_DENIED_FEATURES))
# The room page alone may ask for the camera: "Compare with another phone" scans a safety QR.
ROOM_PERMISSIONS_POLICY = ", ".join(("camera=(self)", *(f"{f}=()" for f in _DENIED_FEATURES)))
_ROOM_PAGE = re.compile(r"^/r/[A-Za-z0-9_-]{22}$")


def client_address(environ, trusted_proxies):
    """The client's address: the socket peer, or X-Forwarded-For when proxies are trusted.

    With N trusted proxies the address is the N-th entry from the right, the one
    our outermost proxy saw; anything further left is client-supplied and may lie.
    A header shorter than N entries did not come through all our proxies, so the
    peer address is used and a spoofed header can neither reset nor dodge a count.
    """
    peer = environ.get("REMOTE_ADDR", "")
    if trusted_proxies <= 0:
        return limit_key(peer)
    forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < trusted_proxies:
        return limit_key(peer)
    return limit_key(forwarded[-trusted_proxies])


def limit_key(address):
    """What limits count by: an IPv4 address, or the /64 network of an IPv6 one.

    One IPv6 subscriber usually holds a whole /64, so counting single addresses
    would let it rotate past every per-address limit and the PIN lockout.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def is_https(environ, trusted_proxies):
    """True when the browser talks to us over https (directly or via a trusted proxy)."""
    if environ.get("wsgi.url_scheme") == "https":
        return True
    if trusted_proxies > 0:
        proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


# Link-preview and crawler agents: they get a generic card, never a room's page.
_PREVIEW_AGENTS = re.compile(
    r"facebookexternalhit|facebot|twitterbot|slackbot|slack-imgproxy|discordbot|telegrambot|"
    r"whatsapp|linkedinbot|skypeuripreview|iframely|embedly|redditbot|pinterestbot|mastodon|"
    r"googlebot|bingbot|applebot|yandexbot|duckduckbot|vkshare|crawler|spider",
    re.IGNORECASE)


def is_link_preview(user_agent):
    """True for link-preview bots and crawlers, judged by their User-Agent."""
    return bool(_PREVIEW_AGENTS.search(user_agent or ""))


# A Host header is client-supplied: only a plain host[:port] may go into the CSP.
_PLAIN_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


STATIC_PREFIX = "/static/"


class SecurityHeaders:
    """WSGI middleware: the security headers on every response, Engine.IO's included."""

    def __init__(self, app, trusted_proxies):
        self._app = app
        self._trusted_proxies = trusted_proxies

    def __call__(self, environ, start_response):
        """Serve the request, replacing any header of the same name with ours.

        Static files alone keep the Cache-Control they were answered with
        (burnchat/assets.py); every page, API and Engine.IO answer is no-store.
        """
        path = environ.get("PATH_INFO", "")
        static = path.startswith(STATIC_PREFIX)
        ours, names = _response_headers(environ.get("HTTP_HOST", ""),
                                        is_https(environ, self._trusted_proxies),
                                        bool(_ROOM_PAGE.match(path)), static)

        def start(status, headers, exc_info=None):
            kept = [(name, value) for name, value in headers if name.lower() not in names]
            if static and not any(name.lower() == "cache-control" for name, _ in kept):
                kept.append(("Cache-Control", "no-store"))  # e.g. a 404 under /static/
            return start_response(status, kept + [(name, value) for name, value in ours
                                                  if name.lower() in names], exc_info)

        return self._app(environ, start)


# A WebSocket's request lives as long as the socket and its `start` holds these: shared
# immutable copies cost nothing per idle member, fresh ones ~2 KiB (bench/memory.py). The
# Host header is the client's, hence a small bounded cache.
@functools.lru_cache(maxsize=64)
def _response_headers(host, https, room_page, static):
    """Our headers as (name, value) pairs, and the lower-cased names they replace."""
    ours = security_headers(host, https)
    if room_page:
        ours["Permissions-Policy"] = ROOM_PERMISSIONS_POLICY
    names = frozenset(name.lower() for name in ours) - ({"cache-control"} if static else set())
    return tuple(ours.items()), names


def security_headers(host, https):
    """Headers for every response: strict CSP, no referrer, no sniffing, no caching."""
    socket_origin = f" {'wss' if https else 'ws'}://{host}" if _PLAIN_HOST.match(host) else ""
    csp = "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        f"connect-src 'self'{socket_origin}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))
    headers = {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex, nofollow, noarchive",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers
