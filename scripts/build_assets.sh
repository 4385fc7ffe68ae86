#!/usr/bin/env bash
# Install the npm packages pinned in package-lock.json and copy the prebuilt browser bundles that the
# pages use into app/static/vendor/ (gitignored): everything is served from /static, never from a CDN.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v npm >/dev/null; then
  echo "需要 Node.js 与 npm 来构建前端资源（bpmn-js）" >&2; exit 1
fi
npm ci --no-audit --no-fund --loglevel=error

# The navigated viewer (ticket pages, version pages, diff) and the modeler (the managers' editor) with the
# style sheets they need; bpmn-font draws the modeler's palette and context pad icons.
src=node_modules/bpmn-js/dist
dest=app/static/vendor/bpmn-js
rm -rf "$dest"
mkdir -p "$dest/bpmn-font/css"
cp "$src/bpmn-navigated-viewer.production.min.js" "$src/bpmn-modeler.production.min.js" \
   "$src/assets/diagram-js.css" "$src/assets/bpmn-js.css" "$dest/"
cp "$src/assets/bpmn-font/css/bpmn-embedded.css" "$dest/bpmn-font/css/"
cp node_modules/bpmn-js/LICENSE "$dest/LICENSE"
echo "bpmn-js $(node -p 'require("./node_modules/bpmn-js/package.json").version') → $dest" >&2

# JsSIP (the browser softphone's SIP over WebSocket) ships CommonJS only: esbuild bundles it, with its
# three small dependencies, into one script that defines the global JsSIP.
dest=app/static/vendor/jssip
rm -rf "$dest"
mkdir -p "$dest"
node_modules/.bin/esbuild node_modules/jssip/lib/JsSIP.js --bundle --minify --format=iife --global-name=JsSIP \
  --platform=browser --target=es2019 --log-level=warning --outfile="$dest/jssip.min.js"
cp node_modules/jssip/LICENSE.md "$dest/LICENSE.md"
echo "JsSIP $(node -p 'require("./node_modules/jssip/package.json").version') → $dest" >&2
