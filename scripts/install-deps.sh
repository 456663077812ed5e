#!/usr/bin/env bash
# Installs the Debian packages the connector needs to build, test and run locally, if missing.
# Used by `make run`, `make test` setups and CI (.ci/run).
set -euo pipefail

packages=(libhiredis-dev libcurl4-openssl-dev redis-server curl python3 pkg-config)
# pip, unless the python3 on PATH already has it (a pyenv or venv python, say).
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
install_python_client() {
    # The MCP server's integration test drives it with the official Python MCP client (PyPI).
    python3 -c 'import mcp' 2>/dev/null && return 0
    echo "installing the Python MCP client (pip install mcp) for the MCP server's tests"
    # Debian's own python3 refuses user installs without --break-system-packages (PEP 668).
    python3 -m pip install --quiet --disable-pip-version-check mcp 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages mcp || {
        echo "error: pip install mcp failed; the MCP server test needs it" >&2
        return 1
    }
}

if [ ${#missing[@]} -eq 0 ]; then
    install_python_client
    exit $?
fi

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
install_python_client
