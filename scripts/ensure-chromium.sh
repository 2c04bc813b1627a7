#!/usr/bin/env bash
# npm test's pretest: the console's browser test drives Debian's chromium (puppeteer-core downloads no browser).
# Idempotent: does nothing when chromium is there; installs it with apt-get when it can; otherwise says how and fails,
# so that no test is skipped for want of a browser.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
echo "chromium is missing (the operator console's browser test needs it): installing it with apt-get" >&2
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null && command -v chromium >/dev/null && exit 0
fi
echo "could not install chromium: run 'sudo apt-get install -y chromium' (Debian/Ubuntu), then npm test again" >&2
exit 1
