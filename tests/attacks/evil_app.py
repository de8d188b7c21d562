"""`python tests/attacks/evil_app.py`: the real server, compromised as BURNCHAT_EVIL names (test-only)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import app  # noqa: E402  (monkey-patches the async library first, as app.py must)
from tests.attacks import scenarios  # noqa: E402

if __name__ == "__main__":
    scenarios.install(os.environ["BURNCHAT_EVIL"])
    app.main()
