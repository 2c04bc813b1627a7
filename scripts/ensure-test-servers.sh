#!/usr/bin/env bash
# npm test's pretest (and .ci/run): the programs the tests start, from Debian's packages — chromium (the console's
# browser test; puppeteer-core downloads no browser), nats-server (cluster mode) and haproxy (PROXY protocol).
# Idempotent: installs only what is missing, with apt-get when it can; otherwise says how and fails, so that no test
# is skipped for want of a program.
set -euo pipefail
missing=()
for pair in chromium:chromium nats-server:nats-server haproxy:haproxy; do
  command="${pair%%:*}" package="${pair##*:}"
  PATH="$PATH:/usr/sbin:/sbin" command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "missing for the tests: ${missing[*]}; installing with apt-get" >&2
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; then exit 0; fi
fi
echo "could not install ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}' (Debian/Ubuntu), then npm test again" >&2
exit 1
