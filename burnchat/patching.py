"""Monkey-patching for the async library, shared by `app.py` and the benchmark's bare relay.

Must run before anything else is imported (eventlet and gevent require it), so
this module imports nothing but the standard library.
"""

import os
import warnings


def monkey_patch():
    """Patch for BURNCHAT_ASYNC_MODE (eventlet, the default, or gevent); returns the mode."""
    mode = os.environ.get("BURNCHAT_ASYNC_MODE", "eventlet")
    if mode == "eventlet":
        # Eventlet warns on import that it is in maintenance mode; we know, see README.
        warnings.filterwarnings("ignore", message=r"[\s\S]*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    return mode
