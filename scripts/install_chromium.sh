#!/usr/bin/env bash
# Debian's Chromium for the real-browser tests (pytest marker browser: the Dagster UI and the publication's pages,
# driven by Playwright at /usr/bin/chromium), when it is missing. Used by `make test` and .ci/run; a failed
# install fails the command, so the browser tests never skip unnoticed.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing chromium (the browser tests' headless browser) with apt ..." >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
