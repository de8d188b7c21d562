"""Terminal chat: `python -m burnchat.client 'https://HOST/r/ROOM#SECRET' --name NAME`.

Messages from others go to stdout as `name: text`; status lines go to stderr as
`* ...`. Lines read from stdin are sent once the room key is held (`/me ...` as
an action). Exit codes:
0 left or burned, 1 connection or server error, 2 bad link / unknown room / bad
name, 3 kicked by the admin.
"""

import argparse
import os
import sys

from . import crypto
from .link import BadLink, parse_link
from .terminal import EXIT_BAD_LINK, EXIT_ERROR, TerminalChat


def parse_args(argv):
    """Command line: the room link and a display name."""
    parser = argparse.ArgumentParser(
        prog="python -m burnchat.client", description="Burn Chat in the terminal (end-to-end encrypted)."
    )
    parser.add_argument("link", help="the room link, including its #secret (quote it in the shell)")
    parser.add_argument("--name", required=True, help="your display name (1-32 characters)")
    return parser.parse_args(argv)


def main(argv=None):
    """Run one chat; the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["verify"]:  # `verify URL`: is the server sending the published code?
        from . import verify
        return verify.main(argv[1:])
    args = parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        # One line per message even in a pipe, and never a crash on an unencodable character.
        stream.reconfigure(line_buffering=True, errors="backslashreplace")
    try:
        link = parse_link(args.link)
        name = crypto.validate_name(args.name)
    except BadLink as exc:
        print(f"* Bad link: {exc}", file=sys.stderr)
        return EXIT_BAD_LINK
    except crypto.ProtocolError:
        print(f"* Bad name: use 1 to {crypto.MAX_NAME_CHARS} characters, no control characters", file=sys.stderr)
        return EXIT_BAD_LINK
    chat = TerminalChat(link, name, out=sys.stdout, err=sys.stderr, stdin_fd=sys.stdin.fileno())
    try:
        return chat.run()
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`); run() already disconnected.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
