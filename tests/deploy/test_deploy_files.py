"""The deploy files, checked statically (no container runtime is needed): the Dockerfile is
slim, pinned, non-root, volume-free and health-checked; compose.yaml is the README's
scale-out set-up; app.json asks for what a fresh deploy cannot run without."""

import json
import re

import yaml

from burnchat import gate
from burnchat.config import Config
from tests.server import ROOT

SECRET_WORDS = re.compile(r"(password|passwd|secret|token|api[_-]?key|private[_-]?key)\s*[=:]",
                          re.IGNORECASE)


def instructions():
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.replace("\\\n", " ").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in lines]


def compose():
    """compose.yaml, parsed (anchors resolved)."""
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_dockerfile_base_image_is_slim_and_pinned_to_an_exact_tag():
    images = [args for name, args in instructions() if name == "FROM"]
    assert len(images) == 1
    image = images[0].split()[0]
    assert re.fullmatch(r"python:3\.1[1-9]\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", image), image


def test_dockerfile_runs_as_a_non_root_user_with_no_volume_and_a_healthcheck():
    steps = instructions()
    names = [name for name, _ in steps]
    users = [args for name, args in steps if name == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert names.index("USER") > max(i for i, name in enumerate(names) if name in ("RUN", "COPY"))
    assert "VOLUME" not in names  # nothing is kept: the root filesystem may be read-only
    assert "ADD" not in names     # COPY only: no remote fetches, no auto-extraction
    (health,) = [args for name, args in steps if name == "HEALTHCHECK"]
    assert "/healthz" in health and "--interval" in health
    (command,) = [args for name, args in steps if name == "CMD"]
    assert json.loads(command) == ["python", "app.py"]  # exec form: SIGTERM reaches the app
    env = " ".join(args for name, args in steps if name == "ENV")
    assert "HOST=0.0.0.0" in env


def test_dockerfile_copies_what_the_app_serves_and_installs_pinned_requirements():
    steps = instructions()
    copied = " ".join(args for name, args in steps if name == "COPY")
    for part in ("app.py", "burnchat/", "templates/", "static/", "release/", "requirements.txt"):
        assert part in copied, part
    installs = " ".join(args for name, args in steps if name == "RUN" and "pip install" in args)
    assert "-r requirements.txt" in installs
    assert all("==" in line for line in (ROOT / "requirements.txt").read_text().splitlines()
               if line.strip() and not line.startswith("#"))


def test_deploy_files_hold_no_secrets():
    for name in ("Dockerfile", "compose.yaml", "app.json", "deploy/nginx.conf", "Procfile"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert not SECRET_WORDS.search(text), name
        assert "BEGIN" not in text and "PRIVATE KEY" not in text, name
    assert "BURNCHAT_TEST_HOOKS" not in (ROOT / "compose.yaml").read_text()


def test_compose_runs_two_app_processes_on_a_redis_that_never_persists():
    services = compose()["services"]
    redis = services["redis"]
    command = redis["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"
    assert "volumes" not in redis
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+-\w+", redis["image"])
    apps = {name: service for name, service in services.items() if service.get("build")}
    assert len(apps) == 2, sorted(services)
    for name, app in apps.items():
        assert app["environment"]["BURNCHAT_REDIS_URL"] == "redis://redis:6379/0", name
        assert app["environment"]["BURNCHAT_TRUSTED_PROXIES"] == "1", name
        assert "BURNCHAT_ALLOWED_HOSTS" in app["environment"], name
        assert app["read_only"] is True and "volumes" not in app, name


def test_compose_puts_the_readme_nginx_in_front_of_both_processes():
    services = compose()["services"]
    nginx = services["nginx"]
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-\w+", nginx["image"])
    (mount,) = nginx["volumes"]
    source = mount.split(":")[0]
    conf = (ROOT / source).read_text(encoding="utf-8")
    apps = [name for name, service in services.items() if service.get("build")]
    for name in apps:
        assert re.search(rf"server {name}:8000;", conf), name
    for line in ("access_log off;", "proxy_set_header Upgrade $http_upgrade;",
                 'proxy_set_header Connection "upgrade";',
                 "proxy_set_header X-Forwarded-For $remote_addr;",
                 "proxy_set_header X-Forwarded-Proto $scheme;"):
        assert line in conf, line


def test_app_json_requires_the_host_allow_list_and_trusts_the_router():
    env = json.loads((ROOT / "app.json").read_text(encoding="utf-8"))["env"]
    assert env["BURNCHAT_ALLOWED_HOSTS"]["required"] is True
    assert "400" in env["BURNCHAT_ALLOWED_HOSTS"]["description"]
    assert env["BURNCHAT_TRUSTED_PROXIES"]["value"] == "1"
    assert all(setting["description"] for setting in env.values())
    assert (ROOT / "Procfile").read_text().startswith("web: HOST=0.0.0.0 ")
    assert re.fullmatch(r"3\.1[1-9]\n", (ROOT / ".python-version").read_text())


def test_the_platform_domain_is_served_without_configuration(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.delenv("BURNCHAT_ALLOWED_HOSTS", raising=False)
    monkeypatch.delenv("BURNCHAT_ALLOWED_ORIGINS", raising=False)
    monkeypatch.delenv("HEROKU_APP_DEFAULT_DOMAIN_NAME", raising=False)
    assert gate.loopback_only(Config.from_env())  # and app.py says so at start-up
    monkeypatch.setenv("HEROKU_APP_DEFAULT_DOMAIN_NAME", "my-chat-0123.herokuapp.com")
    hosts = gate.allowed_hosts(Config.from_env())
    assert gate.host_allowed("my-chat-0123.herokuapp.com", hosts)
    assert not gate.host_allowed("evil.example", hosts)
    monkeypatch.setenv("BURNCHAT_ALLOWED_HOSTS", "chat.example.org")
    hosts = gate.allowed_hosts(Config.from_env())
    assert gate.host_allowed("chat.example.org", hosts)
    assert gate.host_allowed("my-chat-0123.herokuapp.com", hosts)
