#!/usr/bin/env bash
# Installs etcd (Debian's etcd-server package: etcd 3.4 on bookworm) when `etcd` is not on PATH.
# Used by `npm run bench` (src/bench/server-vs-etcd.ts). Needs root, or passwordless sudo.
# The package's service is not started: the bench runs its own members on free loopback ports.
set -euo pipefail

if command -v etcd >/dev/null 2>&1; then
  echo "etcd already installed: $(etcd --version | head -n 1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-etcd.sh: apt-get not found; install etcd 3.4 (etcd-server) by hand and put it on PATH" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "install-etcd.sh: run as root (or with passwordless sudo) to apt-get install etcd-server" >&2
    exit 1
  fi
fi

# Keep the package's postinst from starting an etcd service (it would take ports 2379/2380).
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  ADDED_POLICY=1
fi
cleanup() {
  if [ "$ADDED_POLICY" -eq 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends etcd-server

etcd --version | head -n 1
