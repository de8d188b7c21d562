"""`python -m burnchat.client verify URL`: does this server send exactly the published code?

The browser runs whatever JavaScript the server sends, so a compromised server
could send different crypto. This fetches a live server's pages, every script
and stylesheet they reference and every static file of the release, and
compares them with the release manifest shipped with *this* install
(release/manifest.json, built by `python -m burnchat.manifest --write`). The
copy the server publishes at /.well-known/burnchat-manifest.json is only read
to say which version the server claims; it is never trusted.

It proves what *you* were served, *now*: a server can tell this client from a
browser, and can serve other code to someone else or later (README, "Is this
server running the real code?").
"""

import argparse
import hashlib
import json
import secrets
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "release" / "manifest.json"
if not MANIFEST_PATH.exists():  # installed with pip: pyproject.toml packs it as burnchat/release/
    MANIFEST_PATH = Path(__file__).resolve().parents[1] / "release" / "manifest.json"
WELL_KNOWN_PATH = "/.well-known/burnchat-manifest.json"
SOCKET_ORIGIN = "{socket_origin}"  # the CSP names the socket's origin, which depends on the host
ROOM_TTL_SECONDS = 30
TIMEOUT_SECONDS = 15
EXIT_SAME, EXIT_DIFFERENT, EXIT_UNREACHABLE = 0, 1, 2
# A server could answer a script differently from a browser, so look like one (it still can tell).
AGENTS = {
    "browser": ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/126.0.0.0 Safari/537.36"),
    "preview": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
}
# Elements that load or run something other than plain markup.
_EMBEDS = ("iframe", "frame", "object", "embed", "base", "portal", "applet")
_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "srcdoc")


def sha256(data):
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def local_url(url, base_url):
    """`url` as the page means it: a path (and query) on the page's origin, else the full URL."""
    absolute = urljoin(base_url, url)
    parts, base = urlsplit(absolute), urlsplit(base_url)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return absolute
    return parts.path + (f"?{parts.query}" if parts.query else "")


class _ActiveContent(HTMLParser):
    """Collects everything in a page that loads or runs code (see `page_references`)."""

    def __init__(self, base_url):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.found = []
        self._inline = None  # (tag, text parts) while inside an inline <script> or <style>

    def handle_starttag(self, tag, attrs):
        attrs = {name.lower(): (value or "") for name, value in attrs}
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append({"tag": "event handler", "element": tag, "attribute": name})
            elif name in _URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.found.append({"tag": "javascript: URL", "element": tag, "attribute": name})
        if tag == "script":
            if "src" in attrs:
                self._add("script", attrs, attrs["src"], ("type", "integrity"))
            else:
                self._inline = ("inline script", [])
        elif tag == "style":
            self._inline = ("inline style", [])
        elif tag == "link" and "href" in attrs:
            self._add("link", attrs, attrs["href"], ("rel", "integrity"))
        elif tag in _EMBEDS:
            url = attrs.get("src") or attrs.get("data") or attrs.get("href") or ""
            self.found.append({"tag": tag, "url": local_url(url, self.base_url)})
        elif tag == "meta" and "http-equiv" in attrs:
            self.found.append({"tag": "meta", "http-equiv": attrs["http-equiv"].lower(),
                               "content": attrs.get("content", "")})

    def _add(self, tag, attrs, url, kept):
        """One reference: its tag, the URL it loads and the attributes that change how."""
        reference = {"tag": tag, "url": local_url(url, self.base_url)}
        reference.update({name: " ".join(attrs[name].lower().split())
                          if name == "rel" else attrs[name]
                          for name in kept if name in attrs})
        self.found.append(reference)

    def handle_data(self, data):
        if self._inline:
            self._inline[1].append(data)

    def handle_endtag(self, tag):
        if self._inline and tag in ("script", "style"):
            kind, parts = self._inline
            text = "".join(parts).encode()
            self.found.append({"tag": kind, "bytes": len(text), "sha256": sha256(text)})
            self._inline = None


def page_references(html, base_url):
    """Every script, stylesheet, link, inline code, handler attribute and embed of a page, in order."""
    scanner = _ActiveContent(base_url)
    scanner.feed(html)
    scanner.close()
    return scanner.found


def identity(reference):
    """What makes two references the same one (a URL reference's hash is checked separately)."""
    return tuple(sorted((key, value) for key, value in reference.items()
                        if not (key == "sha256" and "url" in reference)))


def describe(reference):
    """A reference as a person reads it, e.g. `<script src="/static/js/room.js" type="module">`."""
    if "url" not in reference:
        details = ", ".join(f"{key} {value}" for key, value in reference.items() if key != "tag")
        return f"{reference['tag']} ({details})"
    attribute = "href" if reference["tag"] in ("link", "base") else "src"
    rest = "".join(f' {key}="{value}"' for key, value in reference.items()
                   if key not in ("tag", "url", "sha256"))
    return f'<{reference["tag"]} {attribute}="{reference["url"]}"{rest}>'


def load_manifest(path=MANIFEST_PATH):
    """The published manifest this client was installed with."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


class Verifier:
    """One check of one server against one manifest; `problems` and `notes` are its findings."""

    def __init__(self, base_url, manifest, session=None):
        self.base_url = base_url.rstrip("/")
        self.manifest = manifest
        self.session = session or requests.Session()
        self.problems = []
        self.notes = []
        self._bodies = {}  # url -> (status, bytes), so each file is fetched once

    def get(self, path, agent="browser"):
        """GET a path of the server as a browser would ask for it, without following redirects."""
        return self.session.get(self.base_url + path, timeout=TIMEOUT_SECONDS, allow_redirects=False,
                                headers={"User-Agent": AGENTS[agent]})

    def run(self):
        """Check the claimed version, every page and every file; True when all match."""
        self._claimed_version()
        values = {"room": self._throwaway_room(), "unknown": secrets.token_urlsafe(16)}
        expected = {f"{self.manifest['static_url_path']}/{path}": digest
                    for path, digest in self.manifest["static"].items()}
        users = {}
        for name, page in self.manifest["pages"].items():
            for reference in page["assets"]:
                if "url" in reference:
                    expected.setdefault(reference["url"], reference["sha256"])
                    users.setdefault(reference["url"], []).append(name)
            self._check_page(name, page, values)
        for url, digest in expected.items():
            self._check_file(url, digest, users.get(url, []))
        return not self.problems

    def _claimed_version(self):
        """Note what the server's own manifest claims (information only: it is never trusted)."""
        try:
            served = self.get(WELL_KNOWN_PATH).json()
        except (requests.RequestException, ValueError):
            self.notes.append(f"The server publishes no manifest at {WELL_KNOWN_PATH} (not needed).")
            return
        version = served.get("version") if isinstance(served, dict) else None
        if version != self.manifest["version"]:
            self.notes.append(f"The server says it runs Burn Chat {version}; your install's manifest "
                              f"is for {self.manifest['version']}, so that is what is checked.")
        elif served != self.manifest:
            self.notes.append("The server's own manifest differs from the published one; it is "
                              "ignored, the files below are what counts.")

    def _throwaway_room(self):
        """Create a 30-second room nobody joins, for the pages only a live room has; None if refused."""
        try:
            response = self.session.post(self.base_url + "/api/rooms", timeout=TIMEOUT_SECONDS,
                                         # Nobody ever claims it: a random verifier stands for a PIN nobody holds.
                                         json={"ttl_seconds": ROOM_TTL_SECONDS, "pin_salt": secrets.token_urlsafe(16),
                                               "pin_verifier": secrets.token_urlsafe(32)},
                                         headers={"User-Agent": AGENTS["browser"]})
            room = response.json()["room"] if response.status_code == 201 else None
        except (ValueError, KeyError, TypeError):
            room = None
        if room is None:
            self.notes.append(f"The server refused a throwaway room (HTTP {response.status_code}).")
        else:
            self.notes.append(f"Created a throwaway room to fetch the room pages; nobody joins it "
                              f"and it burns by itself in {ROOM_TTL_SECONDS} seconds.")
        return room

    def _check_page(self, name, page, values):
        """One page: its status, its CSP, and exactly the references the manifest lists."""
        label = f"{name} page ({page['path']})"
        if not page.get("fetched_by_verify", True):
            self.notes.append(f"Not fetched: the {label}, {page['note']}.")
            return
        if "{room}" in page["path"] and values["room"] is None:
            self.problems.append(f"UNCHECKED {label}: no room to fetch it with")
            return
        response = self.get(page["path"].format(**values), page["agent"])
        if response.status_code != page["status"]:
            self.problems.append(f"DIFFERS  {label}: HTTP {response.status_code}, "
                                 f"published {page['status']}")
            return
        self._check_csp(label, page["csp"], response.headers.get("Content-Security-Policy"))
        live = page_references(response.text, response.url)
        published = {identity(reference) for reference in page["assets"]}
        seen = {identity(reference) for reference in live}
        for reference in live:
            if identity(reference) not in published:
                self.problems.append(f"EXTRA    {label}: {describe(reference)} is not in the manifest")
        for reference in page["assets"]:
            if identity(reference) not in seen:
                self.problems.append(f"MISSING  {label}: {describe(reference)} is not on the page")

    def _check_csp(self, label, published, live):
        """The page's Content-Security-Policy, with this server's own socket origin filled in."""
        parts = urlsplit(self.base_url)
        socket_scheme = "wss" if parts.scheme == "https" else "ws"
        expected = published.replace(SOCKET_ORIGIN, f"{socket_scheme}://{parts.netloc}")
        if live != expected:
            self.problems.append(f"DIFFERS  {label}: Content-Security-Policy is {live!r}, "
                                 f"published {expected!r}")

    def _check_file(self, url, digest, pages):
        """One file: served, and byte for byte the published one."""
        used = f" (used by the {', '.join(pages)} pages)" if pages else ""
        response = self.get(url)
        if response.status_code != 200:
            self.problems.append(f"MISSING  {url}{used}: HTTP {response.status_code}")
        elif sha256(response.content) != digest:
            self.problems.append(f"DIFFERS  {url}{used}: sha256 {sha256(response.content)}, "
                                 f"published {digest}")


def parse_args(argv):
    """Command line: the server's URL and, optionally, another published manifest."""
    parser = argparse.ArgumentParser(
        prog="python -m burnchat.client verify",
        description="Check that a Burn Chat server sends you exactly the published code.")
    parser.add_argument("url", help="the server, e.g. https://burnchat.example (a room link works too)")
    parser.add_argument("--manifest", default=str(MANIFEST_PATH),
                        help="the published release manifest to compare with (default: your install's)")
    return parser.parse_args(argv)


def server_root(url):
    """scheme://host[:port] of a URL (a room link's path and #secret are dropped, never sent)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("give the server's address, starting with http:// or https://")
    return f"{parts.scheme}://{parts.netloc}"


def main(argv=None):
    """Verify one server; the exit code (0 same, 1 different, 2 unreachable or bad input)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        base_url = server_root(args.url)
        manifest = load_manifest(args.manifest)
    except (ValueError, OSError) as error:
        print(f"verify: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE
    version = manifest["version"]
    print(f"Checking {base_url} against the published manifest of Burn Chat {version} "
          f"({len(manifest['static'])} files, {len(manifest['pages'])} pages).")
    verifier = Verifier(base_url, manifest)
    try:
        same = verifier.run()
    except requests.RequestException as error:
        print(f"verify: could not fetch from {base_url}: {type(error).__name__}", file=sys.stderr)
        return EXIT_UNREACHABLE
    for line in verifier.notes + verifier.problems:
        print(line)
    if not same:
        print(f"{base_url} does NOT serve exactly Burn Chat {version}: "
              f"{len(verifier.problems)} difference(s) above.")
        return EXIT_DIFFERENT
    print(f"{base_url} serves exactly Burn Chat {version}.")
    print("This is what you were served just now; it cannot prove what others are served, or later.")
    return EXIT_SAME


if __name__ == "__main__":
    sys.exit(main())
