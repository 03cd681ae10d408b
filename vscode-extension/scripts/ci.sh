#!/usr/bin/env bash
# Builds and checks the VS Code extension from a clean checkout: install, type-check, lint,
# bundle, unit tests, package. Everything comes from the npm registry; nothing downloads VS Code.
# Usage: bash vscode-extension/scripts/ci.sh   (VICTOR_PYTHON: a python with the project installed,
# default ../.venv/bin/python, used only to export the adapter's launch arguments for a test).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

step "npm ci"
# --ignore-scripts: no install script is needed (esbuild's binary comes as an npm package), and
# vsce's optional keytar would otherwise try to download or compile a native module.
npm ci --ignore-scripts --prefer-offline --no-progress

step "tsc --noEmit (strict)"
npx --no-install tsc --noEmit -p .

step "eslint"
npx --no-install eslint --max-warnings 0 .

step "esbuild bundle (and schema copy)"
npm run --silent bundle

step "unit tests"
rm -rf out
mkdir -p out
python="${VICTOR_PYTHON:-../.venv/bin/python}"
if [ -x "$python" ] && "$python" -c 'import victor_dap.launch_args' 2>/dev/null; then
  "$python" -c 'import json; from victor_dap.launch_args import LAUNCH_ARGUMENT_DOCS as d; print(json.dumps(dict(d)))' > out/launch-args.json
else
  echo "(no python with victor_dap at $python: the launch-args cross-check is skipped here; tests/extension checks it too)"
fi
node esbuild.mjs --tests
node --test --test-reporter=spec out/test/

step "vsce package"
rm -f ./*.vsix
# The package step re-runs the bundle (vscode:prepublish), so a bare `vsce package` is complete too.
npx --no-install vsce package --no-dependencies --allow-missing-repository --out "victor-workflow-$(node -p 'require("./package.json").version').vsix"
ls -l ./*.vsix
