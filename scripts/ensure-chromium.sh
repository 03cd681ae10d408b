#!/usr/bin/env bash
# Make sure Debian's headless Chromium is installed (used by the HTML trace report tests and
# benchmarks). Idempotent; needs root only when chromium is missing. Installing chromium and
# postgresql together (one apt-get update) is scripts/ensure-system-deps.sh without arguments.
set -euo pipefail
bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ensure-system-deps.sh" chromium
echo "chromium: $(command -v chromium)"
