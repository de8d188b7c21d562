"""The README's two commands, as a newcomer copies them: a fresh copy of the project, the
system python3 (no `python`, no pyenv, no .venv yet), and the server answering."""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import requests

from tests.server import ROOT, free_port

# A stock Debian/Ubuntu PATH: the system python3, none of this machine's pyenv shims.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Kept from our environment: how pip reaches the package registry here, and where it caches.
PASSED_ON = re.compile(r"^(HOME|PIP_\w+|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY)$")
START_DEADLINE_SECONDS = 90


def readme_command(heading):
    """The one command in the ```sh block right under `## heading` of the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## )", text, re.M | re.S)
    assert section, f"README has no '## {heading}' section"
    block = re.search(r"^```(\w*)\n(.*?)^```", section[1], re.M | re.S)
    assert block and block[1] == "sh", f"'{heading}' must be followed by a ```sh block"
    lines = block[2].strip().splitlines()
    assert len(lines) == 1, f"'{heading}' must show exactly one command, not {lines}"
    return lines[0]


def fresh_copy(target):
    """The project as a clone of it would be: tracked files and new ones, nothing ignored."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    assert not (target / ".venv").exists()
    return target


def start(command, cwd, port):
    """Run `command` with bash in its own process group, as a newcomer's shell would."""
    env = {name: value for name, value in os.environ.items() if PASSED_ON.match(name)}
    env.update(PATH=SYSTEM_PATH, PORT=str(port), LANG="C.UTF-8")
    return subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_answering(process, url, deadline_seconds):
    """Seconds until `url` answers 200; fails if the command exits or the deadline passes."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_seconds:
        if process.poll() is not None:
            pytest.fail(f"the run command exited ({process.returncode}):\n{process.stdout.read()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.ConnectionError:
            pass
        time.sleep(0.25)
    pytest.fail(f"nothing answered {url} within {deadline_seconds} s")


def stop(process):
    """End the command's process group (the server it exec'd into) and return its output."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    return output


def test_readme_shows_one_run_and_one_test_command_and_ci_runs_the_test_one():
    assert readme_command("Run it") == "bash scripts/run.sh"
    assert readme_command("Test it") == "bash scripts/test.sh"
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="needs a system python3")
def test_run_command_builds_its_environment_from_scratch_and_serves(tmp_path):
    project = fresh_copy(tmp_path / "burnchat")
    command = readme_command("Run it")

    port = free_port()
    first = start(command, project, port)
    try:
        seconds = wait_answering(first, f"http://127.0.0.1:{port}/", START_DEADLINE_SECONDS)
    finally:
        output = stop(first)
    print(f"\nfirst run (new .venv, pip install): answering after {seconds:.1f} s")
    assert (project / ".venv" / "bin" / "python").exists()
    assert f"Burn Chat on http://127.0.0.1:{port}\n" in output, output

    # Run again: the same .venv, nothing to install.
    port = free_port()
    again = start(command, project, port)
    try:
        seconds = wait_answering(again, f"http://127.0.0.1:{port}/healthz", 30)
    finally:
        output = stop(again)
    print(f"second run (.venv reused): answering after {seconds:.1f} s")
    assert "Making .venv" not in output and "Installing" not in output, output
    assert output.splitlines()[-1] == f"Burn Chat on http://127.0.0.1:{port}", output
