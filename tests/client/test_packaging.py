"""pyproject.toml: the `burnchat` command, the client's pins as in requirements-client.txt, the manifest packed."""

import importlib
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pins(path):
    """`name==version` lines of a requirements file, names lower-cased."""
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line.split("==")[0].split("[")[0].lower().replace("_", "-"): line.split("==")[1]
            for line in lines if "==" in line}


def test_pyproject_matches_the_requirements_files():
    """`pip install .` installs exactly what requirements-client.txt pins; `.[server]` what requirements.txt pins."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {req.split("==")[0].split("[")[0].lower().replace("_", "-"): req.split("==")[1]
                for req in project["dependencies"]}
    assert declared == pins(ROOT / "requirements-client.txt")
    server = {req.split("==")[0].lower(): req.split("==")[1] for req in project["optional-dependencies"]["server"]}
    assert server == pins(ROOT / "requirements.txt")


def test_the_burnchat_command_and_the_packed_manifest():
    """The console script points at the CLI's main; the manifest file it packs exists."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    module, _, function = config["project"]["scripts"]["burnchat"].partition(":")
    assert callable(getattr(importlib.import_module(module), function))
    source = config["tool"]["setuptools"]["package-dir"]["burnchat.release"]
    for name in config["tool"]["setuptools"]["package-data"]["burnchat.release"]:
        assert (ROOT / source / name).is_file()
