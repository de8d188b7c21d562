#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run every test.
# This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
command -v strace >/dev/null || apt_packages+=(strace)
command -v redis-server >/dev/null || apt_packages+=(redis-server)
command -v tmux >/dev/null || apt_packages+=(tmux)  # the terminal client's tests
command -v npm >/dev/null || apt_packages+=(npm)  # Debian's npm brings nodejs
if [ ${#apt_packages[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

# The pinned Python packages go into the project-local .venv (scripts/venv.sh), never the
# system Python; the tests run on its interpreter, and start servers with it (sys.executable).
source scripts/venv.sh
ensure_venv requirements*.txt

# The vendored Socket.IO protocol suite's pinned dev-dependencies (tests/conformance).
protocol_suite=tests/conformance/socket.io-protocol/test-suite
if [ "$protocol_suite/package-lock.json" -nt "$protocol_suite/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$protocol_suite" --no-audit --no-fund --loglevel=error
fi

echo "== JavaScript crypto and protocol (node --test)"
node --test tests/js/

echo "== Python: unit, integration, client, abuse, browser, bench smoke (pytest)"
if [ $# -gt 0 ]; then
  exec "$venv_python" -m pytest "$@"  # just what was asked for
fi
# Most tests wait (browsers, timers, sockets): they run on several workers.
# The tiers that measure timing or load (tests/conftest.py SERIAL) then run alone.
"$venv_python" -m pytest -m "not serial" -n "${BURNCHAT_TEST_WORKERS:-3}" --dist load
"$venv_python" -m pytest -m serial
