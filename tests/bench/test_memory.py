"""A seconds-long run of the per-member memory breakdown (`python -m bench.memory`) with a handful
of members, so it never rots: both servers traced, every grouping present, and our own package
showing up only on our server. It times nothing and judges no figure."""

import json
import subprocess
import sys

from tests.server import ROOT


def test_the_memory_breakdown_runs_on_both_servers(tmp_path):
    out = tmp_path / "memory.json"
    run = subprocess.run([sys.executable, "-m", "bench.memory", "--members", "6", "--room-size", "3",
                          "--top", "5", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    kinds = json.loads(out.read_text())["kinds"]
    assert set(kinds) == {"baseline", "burnchat"}
    for kind in kinds.values():
        assert kind["members"] == 6 and kind["traced_bytes_per_member"] > 0
        assert kind["by_line"] and kind["by_package"] and kind["by_project_line"]
    assert dict(kinds["burnchat"]["by_package"]).get("burnchat", 0) > 0
    assert "burnchat" not in dict(kinds["baseline"]["by_package"])
    assert "By package of the allocating line" in run.stdout
