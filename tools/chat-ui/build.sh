#!/usr/bin/env bash
# Builds LangChain's Agent Chat UI (the Vite template of the create-agent-chat-app npm
# package, with this folder's package.json and lock) into the user's cache directory and
# prints the directory of the static site. The same streaming protocol as LangGraph
# Studio's chat (useStream: threads, runs, messages-tuple), which is a hosted web app and
# cannot be reached offline. Rebuilt only when this folder changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
template="create-agent-chat-app@0.1.6"
key="$(cat "$here/package.json" "$here/package-lock.json" "$here/drive.mjs" "$0" | sha256sum | cut -c1-16)"
cache="${PERSONAVLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/personavlm}/chat-ui/$key"
if [ -f "$cache/dist/index.html" ]; then
  echo "$cache"
  exit 0
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/personavlm-chat-ui.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "$template" --silent >/dev/null && tar xzf ./*.tgz)
mkdir -p "$work/app"
cp -r "$work/package/templates/vite/." "$work/app/"
cp "$here/package.json" "$here/package-lock.json" "$here/drive.mjs" "$work/app/"
(cd "$work/app" && npm ci --no-audit --no-fund --loglevel=error >&2 && npx vite build --logLevel error >&2)
mkdir -p "$(dirname "$cache")"
rm -rf "$cache.tmp" && mv "$work/app" "$cache.tmp" && mv "$cache.tmp" "$cache"
echo "$cache"
