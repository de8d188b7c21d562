# Sourced by scripts/run.sh and scripts/test.sh: the project-local virtual environment.
#
# `ensure_venv REQUIREMENTS...` makes .venv with python3 when it is missing or broken,
# reuses it otherwise, and pip-installs the given requirements files into it when they
# changed since the last install. Never pip into the system Python: Debian 12 and
# Ubuntu 24.04 refuse that (PEP 668), and it works the same with pyenv or python.org builds.
# Sets $venv_python. PYTHON picks another interpreter (default python3).

apt_install() {
  local sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "$@"
}

ensure_venv() {
  local python="${PYTHON:-python3}"
  venv_python="$PWD/.venv/bin/python"
  if ! command -v "$python" >/dev/null; then
    echo "Burn Chat needs Python 3.11+ as '$python' (Debian/Ubuntu: apt install python3)." >&2
    exit 1
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Burn Chat needs Python 3.11 or newer; '$python' is $("$python" -V 2>&1)." >&2
    exit 1
  fi
  if ! "$venv_python" -m pip --version >/dev/null 2>&1; then
    echo "== Making .venv with $("$python" -V 2>&1) (first run only)" >&2
    rm -rf .venv
    if ! "$python" -m venv .venv >/dev/null 2>&1; then
      # Debian and Ubuntu ship venv's pip bootstrap (ensurepip) as a separate package.
      rm -rf .venv
      command -v apt-get >/dev/null || { echo "'$python -m venv' fails: install Python's venv module." >&2; exit 1; }
      apt_install python3-venv
      "$python" -m venv .venv
    fi
  fi
  # One stamp per requirements file (its text and the venv's Python): pip runs only when one changed.
  local file stamp wanted changed=() args=()
  mkdir -p .venv/.installed
  for file in "$@"; do
    stamp=".venv/.installed/$(basename "$file").sha256"
    wanted="$( { "$venv_python" -V; cat "$file"; } | sha256sum | cut -d' ' -f1)"
    [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ] || { changed+=("$file"); args+=(-r "$file"); }
  done
  [ ${#changed[@]} -gt 0 ] || return 0
  echo "== Installing ${changed[*]} into .venv" >&2
  "$venv_python" -m pip install --quiet --disable-pip-version-check "${args[@]}"
  for file in "${changed[@]}"; do
    { "$venv_python" -V; cat "$file"; } | sha256sum | cut -d' ' -f1 > ".venv/.installed/$(basename "$file").sha256"
  done
}
