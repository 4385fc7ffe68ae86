#!/usr/bin/env bash
# Make .venv/ at the repository root and install the project into it; re-install only when
# pyproject.toml has changed since the last install. Sourced by scripts/run and scripts/test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

python_bin() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "需要 Python 3.11（未找到 python3.11）" >&2; return 1
}

if [ ! -x .venv/bin/python ]; then
  PY="$(python_bin)"
  if ! "$PY" -m venv .venv 2>/dev/null; then
    # Debian splits venv out of the interpreter package.
    echo "正在安装 python3-venv …" >&2
    as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv python3.11-venv >/dev/null || true
    rm -rf .venv
    "$PY" -m venv .venv
  fi
fi

stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "正在安装依赖到 .venv/ …" >&2
  if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e ".[dev]"; } \
       >.venv/install.log 2>&1; then
    cat .venv/install.log >&2; echo "依赖安装失败（见上）" >&2; exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
