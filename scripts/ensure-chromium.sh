#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is on this machine for the browser
# test of the /docs reference page (make test-browser). Prints its path.
set -euo pipefail
find_chromium() {
  for c in "${CHROMIUM:-}" chromium chromium-browser google-chrome-stable google-chrome; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { command -v "$c"; return 0; }
  done
  return 1
}
if find_chromium; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Chromium (apt-get install chromium; takes a few minutes)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
  find_chromium && exit 0
fi
echo "Chromium not found: install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM=/path/to/chrome" >&2
exit 1
