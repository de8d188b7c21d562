#!/usr/bin/env bash
# The README's run command: serve Burn Chat from the project-local .venv (made on first use).
# Needs only Python 3.11+ as python3; PORT, HOST and every BURNCHAT_* setting come from the
# environment (README, Configuration).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

requirements=(requirements.txt)
[ -z "${BURNCHAT_REDIS_URL:-}" ] || requirements+=(requirements-redis.txt)
ensure_venv "${requirements[@]}"
exec "$venv_python" app.py
