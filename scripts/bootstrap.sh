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

# Browser assets (bpmn-js: the process diagrams and the editor; JsSIP: the browser softphone): build them into app/static/vendor/ when the bundle
# is missing or package-lock.json changed since the last build.
asset_stamp="app/static/vendor/.built-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f app/static/vendor/bpmn-js/bpmn-modeler.production.min.js ] || [ ! -f app/static/vendor/jssip/jssip.min.js ] ||
   [ ! -f "$asset_stamp" ]; then
  if ! command -v npm >/dev/null; then
    echo "正在安装 Node.js 与 npm（构建流程图查看器需要）…" >&2
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; } \
      >/dev/null 2>&1 || true
  fi
  if ! command -v npm >/dev/null; then
    # The platform runs without them; the ticket page then says that the diagram viewer is not installed.
    echo "未找到 npm：跳过前端资源构建，工单页将无法显示流程图" >&2
  else
    echo "正在构建前端资源（bpmn-js）…" >&2
    if ! scripts/build_assets.sh >.venv/build-assets.log 2>&1; then
      cat .venv/build-assets.log >&2; echo "前端资源构建失败（见上）" >&2; exit 1
    fi
    rm -f app/static/vendor/.built-*
    touch "$asset_stamp"
  fi
fi

# PDF reports (WeasyPrint) need Pango and a Chinese font; a fresh Debian has neither.
if ! ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  echo "正在安装 Pango 与中文字体（PDF 报表需要）…" >&2
  { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-noto-cjk; } >/dev/null 2>&1 ||
    echo "未能安装 Pango 或中文字体：PDF 报表将无法生成" >&2
fi
