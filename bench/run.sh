#!/usr/bin/env bash
# npm run bench: installs curl and aria2c when missing, builds, runs the table.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v curl >/dev/null || need+=(curl)
command -v aria2c >/dev/null || need+=(aria2)
command -v chromium >/dev/null || true
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -f out/main/cli.js ] || npm run build
npx vitest run --project bench
