#!/usr/bin/env bash
# Installs the Debian packages given as arguments when they are missing (as root):
# `apt-get update` once, only when needed, then `apt-get install -y --no-install-recommends`.
# Serialized with a lock, so test files and scripts that need packages never race on dpkg.
#   scripts/ensure-debian-packages.sh prometheus            (promtool and the server, for the tests)
#   scripts/ensure-debian-packages.sh chromium fonts-dejavu-core   (docs screenshots)
# The Debian package's own service is not started: the tests run their own server.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { printf '[ensure-debian-packages] %s\n' "$*" >&2; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing() { local p out=(); for p in "$@"; do installed "$p" || out+=("$p"); done; printf '%s\n' "${out[@]}"; }

[ "$#" -gt 0 ] || { log "usage: $0 PACKAGE..."; exit 2; }
mapfile -t need < <(missing "$@" | sed '/^$/d')
[ "${#need[@]}" -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { log "missing packages (${need[*]}); run as root or install them"; exit 1; }

exec 9>/var/lock/sealed-secrets-ts-apt.lock
flock 9
mapfile -t need < <(missing "$@" | sed '/^$/d')
[ "${#need[@]}" -eq 0 ] && exit 0
# No service started by the package scripts (there may be no init system anyway).
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; made_policy=1; fi
trap 'if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
updated=0
for p in "${need[@]}"; do
  if ! apt-cache show "$p" >/dev/null 2>&1; then log "apt-get update"; apt-get update >&2; updated=1; break; fi
done
log "apt-get install ${need[*]}"
if ! apt-get install -y --no-install-recommends "${need[@]}" >&2; then
  [ "$updated" = 1 ] && exit 1
  log "apt-get update"; apt-get update >&2
  apt-get install -y --no-install-recommends "${need[@]}" >&2
fi
