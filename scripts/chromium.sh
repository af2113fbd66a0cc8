#!/usr/bin/env bash
# Debian's headless Chromium, for the tests that screenshot the HTML views (and the
# figures in docs/). Installed with apt as root (or with sudo when it asks no password).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  run=()
elif sudo -n true 2>/dev/null; then
  run=(sudo -n)
else
  echo "scripts/chromium.sh: chromium is missing and this user cannot install it;" \
       "install Debian's 'chromium' package (the screenshot tests need it)" >&2
  exit 1
fi
echo "installing chromium (Debian package) for the screenshot tests..."
"${run[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${run[@]}" apt-get install -y -qq --no-install-recommends \
  chromium fonts-dejavu-core >/dev/null
