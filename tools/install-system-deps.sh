#!/usr/bin/env bash
# Installs the Debian packages the integration tests drive (kcat, PostgreSQL
# for the streams sink's tests, librdkafka's header for the C load generator
# of `pystream bench`), when missing
# and when we may (root or passwordless sudo). Never fails the build: the
# tests that need a missing tool say so when they run.
set -u
need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -f /usr/include/librdkafka/rdkafka.h ] || need+=(librdkafka-dev)
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "install-system-deps: not root; please install: ${need[*]}" >&2; exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
  || echo "install-system-deps: could not install ${need[*]}" >&2
exit 0
