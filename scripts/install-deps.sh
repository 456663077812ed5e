#!/usr/bin/env bash
# Installs the Debian packages the connector needs to build, test and run locally, if missing.
# Used by `make run`, `make test` setups and CI (.ci/run).
set -euo pipefail

packages=(libhiredis-dev libcurl4-openssl-dev redis-server curl python3 pkg-config)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "error: please install: ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 1
fi
