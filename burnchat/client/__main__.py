"""Terminal chat: `burnchat 'https://HOST/r/ROOM#SECRET' --name NAME` (or `python -m burnchat.client ...`).

On a terminal it is full screen (screen.py): message pane, status bar, input line,
and nothing left on the screen when it ends. With stdin or stdout not a terminal
(or TERM=dumb) it is pipe mode: messages from others go to stdout as `name: text`,
status lines to stderr as `* ...`; `--json` prints both as JSON lines. Lines read
are sent once the room key is held (`/me ...` as an action; other `/` lines are
commands, never sent). Exit codes: 0 left or burned, 1 connection or server error,
2 bad link / unknown room / bad name, 3 kicked by the admin, 130 interrupted.
"""

import argparse
import os
import sys

from . import crypto
from .link import BadLink, parse_link
from .terminal import EXIT_BAD_LINK, EXIT_ERROR, JsonChat, TerminalChat


def parse_args(argv):
    """Command line: the room link, a display name, and how to show the chat."""
    parser = argparse.ArgumentParser(
        prog="burnchat", description="Burn Chat in the terminal (end-to-end encrypted). "
        "`burnchat verify URL` checks a server against this copy's release manifest.",
    )
    parser.add_argument("link", help="the room link, including its #secret (quote it in the shell)")
    parser.add_argument("--name", required=True, help="your display name (1-32 characters)")
    parser.add_argument("--json", action="store_true", help="pipe mode with one JSON object per line on stdout")
    parser.add_argument("--no-animation", action="store_true", help="no fire when the room burns")
    return parser.parse_args(argv)


def full_screen_wanted(args, environ=os.environ):
    """Full screen on a real terminal; pipe mode for pipes, --json and dumb terminals."""
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    return interactive and not args.json and environ.get("TERM", "dumb") not in ("dumb", "")


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
    if full_screen_wanted(args):
        from . import burn
        from .screen import FullScreenChat
        return FullScreenChat(link, name, animation=burn.animation_wanted(args.no_animation)).run()
    chat_class = JsonChat if args.json else TerminalChat
    chat = chat_class(link, name, out=sys.stdout, err=sys.stderr, stdin_fd=sys.stdin.fileno())
    try:
        return chat.run()
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`); run() already disconnected.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
