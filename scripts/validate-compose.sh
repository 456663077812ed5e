#!/usr/bin/env bash
# Validates a Compose file (default: compose.yaml at the repository root) with two real tools
# and exits non-zero when either rejects it:
#
#   1. docker-compose config -q   Debian 12's docker-compose 1.29: parses the YAML, interpolates
#                                 variables, checks its bundled Compose schema and references
#                                 (volumes, depends_on, env files, build context).
#   2. check-jsonschema           the current official compose-spec JSON schema, vendored in the
#      --builtin-schema           PyPI package check-jsonschema (installed into a private venv
#      vendor.compose-spec        under ~/.cache on first use).
#
# Usage: scripts/validate-compose.sh [path/to/compose.yaml]
#
# Neither step needs a Docker engine or the user's .env: docker-compose runs on a copy of the
# file in a temporary directory holding an empty .env (for `env_file: .env` and interpolation).
#
# Environment:
#   SKIP_SCHEMA=1                 skip step 2 (e.g. offline without the venv)
#   CHECK_JSONSCHEMA_VERSION=x.y  version of check-jsonschema to install (default below)
set -euo pipefail

CHECK_JSONSCHEMA_VERSION="${CHECK_JSONSCHEMA_VERSION:-0.39.0}"
VENV_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/discord-connector/validate-compose-venv"

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
compose_file="${1:-$script_dir/../compose.yaml}"

log() { printf '%s\n' "validate-compose: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ -f "$compose_file" ] || die "no such file: $compose_file"
compose_dir="$(cd "$(dirname "$compose_file")" && pwd)"
compose_file="$compose_dir/$(basename "$compose_file")"

# --- 1. docker-compose --------------------------------------------------------------------------

if ! command -v docker-compose >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "docker-compose not found; installing Debian's docker-compose package"
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null; then
            apt-get update -q >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null
        fi
    else
        die "docker-compose not found; install it (Debian: apt-get install docker-compose)"
    fi
fi

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
cp "$compose_file" "$work_dir/compose.yaml"
: >"$work_dir/.env"
# The build context `.` must exist for docker-compose; give the copy the real Dockerfile.
if [ -f "$compose_dir/Dockerfile" ]; then
    cp "$compose_dir/Dockerfile" "$work_dir/Dockerfile"
fi

log "docker-compose $(docker-compose version --short 2>/dev/null || echo '?'): config -q $compose_file"
if ! (cd "$work_dir" && docker-compose --project-name validate -f compose.yaml config -q); then
    die "docker-compose rejected $compose_file"
fi
log "docker-compose: OK"

# --- 2. compose-spec JSON schema ----------------------------------------------------------------

if [ "${SKIP_SCHEMA:-0}" = "1" ]; then
    log "SKIP_SCHEMA=1: compose-spec JSON schema check skipped"
    exit 0
fi

check_jsonschema="$VENV_DIR/bin/check-jsonschema"
installed_version="$("$VENV_DIR/bin/python" -c \
    'import importlib.metadata as m; print(m.version("check-jsonschema"))' 2>/dev/null || true)"
if [ "$installed_version" != "$CHECK_JSONSCHEMA_VERSION" ]; then
    command -v python3 >/dev/null 2>&1 || die "python3 is needed for the schema check (or set SKIP_SCHEMA=1)"
    log "installing check-jsonschema==$CHECK_JSONSCHEMA_VERSION into $VENV_DIR"
    rm -rf "$VENV_DIR"
    python3 -m venv "$VENV_DIR" \
        || die "python3 -m venv failed (Debian: apt-get install python3-venv), or set SKIP_SCHEMA=1"
    "$VENV_DIR/bin/pip" install -q --disable-pip-version-check \
        "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" \
        || die "could not install check-jsonschema from PyPI (or set SKIP_SCHEMA=1)"
fi

log "check-jsonschema $CHECK_JSONSCHEMA_VERSION: vendor.compose-spec $compose_file"
if ! "$check_jsonschema" --builtin-schema vendor.compose-spec "$compose_file"; then
    die "$compose_file does not match the compose-spec JSON schema"
fi
log "compose-spec schema: OK"
log "$compose_file is valid"
