"""A seconds-long run of the file scenario (bench/scenarios/files.py) with tiny numbers, so it never
rots: every figure present for every receiver count, every chunk delivered. It times nothing."""

import json
import subprocess
import sys

from tests.server import ROOT

FIELDS = {"receivers", "file_mib", "throughput_mib_per_s", "chat_p99_ms_idle", "chat_p99_ms_file",
          "chat_p99_ratio", "rss_kib_idle", "rss_kib_peak_with_file", "rss_growth_kib"}


def test_the_file_scenario_runs_and_reports_every_figure(tmp_path):
    out = tmp_path / "files.json"
    run = subprocess.run([sys.executable, "-m", "bench.scenarios.files", "--smoke", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(out.read_text())["results"]
    assert [r["receivers"] for r in results] == [1, 2]
    for result in results:
        assert set(result) == FIELDS
        assert result["throughput_mib_per_s"] > 0
    assert "| receivers |" in run.stdout
