"""Fixtures of the attack tests: `evil_server` (a compromised server per scenario in
tests/attacks/scenarios.py) lives in tests/conftest.py, so the browser suite can use it too."""
