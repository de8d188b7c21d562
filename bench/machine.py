"""What the figures were measured on: CPU, memory, Python, package versions, load."""

import os
import platform
from importlib import metadata

PACKAGES = ("Flask", "Flask-SocketIO", "python-socketio", "python-engineio", "eventlet", "gevent",
            "greenlet", "simple-websocket", "msgspec", "aiohttp", "cryptography")


def describe():
    """A dict describing this machine and software, for the results file."""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gib": round(_mem_total_kb() / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
    }


def load_average():
    """The 1-minute load average: how busy the machine was besides us."""
    return round(os.getloadavg()[0], 2)


def _cpu_model():
    """The CPU's model name from /proc/cpuinfo."""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_kb():
    """MemTotal from /proc/meminfo."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    return 0


def _version(name):
    """The installed version of a distribution, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
