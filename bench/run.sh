#!/usr/bin/env bash
# npm run bench: installs curl, aria2c, nginx (the HTTPS rows), openssl and
# GNU time (CPU seconds) when missing, builds, runs the table.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v curl >/dev/null || need+=(curl)
command -v aria2c >/dev/null || need+=(aria2)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
[ -x /usr/bin/time ] || need+=(time)
command -v chromium >/dev/null || true
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -f out/main/cli.js ] || npm run build
# nginx lives in /usr/sbin, which a non-login PATH may lack.
PATH="$PATH:/usr/sbin" npx vitest run --project bench "$@"
# The dashboard's timing budgets (render and update figures in Chromium) are
# bench numbers too: asserted here, only recorded in the test run.
if [ $# -eq 0 ]; then
  PODPULL_PERF_BUDGETS=1 npx playwright test test/e2e/perf.spec.ts
fi
