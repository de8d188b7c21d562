"""HTTP hardening and client addresses: response headers, and who is really asking.

The client address is only used for rate limits and PIN lockouts, in memory.
"""

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "fullscreen",
    "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment",
    "picture-in-picture", "publickey-credentials-get", "screen-wake-lock", "usb",
    "xr-spatial-tracking", "interest-cohort", "browsing-topics"))


def client_address(environ, trusted_proxies):
    """The client's address: the socket peer, or X-Forwarded-For when proxies are trusted.

    With N trusted proxies the address is the N-th entry from the right, the one
    our outermost proxy saw; anything further left is client-supplied and may lie.
    A header shorter than N entries did not come through all our proxies, so the
    peer address is used and a spoofed header can neither reset nor dodge a count.
    """
    peer = environ.get("REMOTE_ADDR", "")
    if trusted_proxies <= 0:
        return peer
    forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < trusted_proxies:
        return peer
    return forwarded[-trusted_proxies]


def is_https(environ, trusted_proxies):
    """True when the browser talks to us over https (directly or via a trusted proxy)."""
    if environ.get("wsgi.url_scheme") == "https":
        return True
    if trusted_proxies > 0:
        proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


def security_headers(host, https):
    """Headers for every response: strict CSP, no referrer, no sniffing, no caching."""
    socket_origin = f"{'wss' if https else 'ws'}://{host}"
    csp = "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        f"connect-src 'self' {socket_origin}",
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
