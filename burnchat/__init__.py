"""Burn Chat: ephemeral, end-to-end-encrypted chat rooms that burn on a timer.

The package stays light on import so the reference client (`burnchat.client`)
runs without Flask; the server pieces load on first use.
"""

# The release version, written here only: the release manifest (burnchat/manifest.py) and
# `verify` name it.
__version__ = "2.0.0"
__all__ = ["create_app", "socketio"]


def __getattr__(name):
    """Expose `create_app` and `socketio` lazily, importing Flask only when asked."""
    if name in __all__:
        from . import factory

        return getattr(factory, name)
    raise AttributeError(name)
