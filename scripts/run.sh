#!/usr/bin/env bash
# `make run`: builds the connector and runs it on this machine.
#
# - Redis: uses MUMEGA_BUS_URL when set (environment or .env); otherwise starts redis-server on
#   127.0.0.1:${REDIS_PORT:-6379} with its data in run/redis (or reuses one already answering there).
# - Discord: with DISCORD_BOT_TOKEN set, the real Discord. Without it, the project's Discord
#   simulator plus an echo agent, and a prompt (scripts/sim-prompt.py) where what you type is
#   posted to #general as a human's @mention of the bot, `/ask <text>` runs the slash command and
#   `/click <label>` clicks a button; the connector's answer is printed when the bot posts it.
# Everything started here is stopped on exit (Ctrl-C, or the end of piped input).
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIGURATION=${CONFIGURATION:-debug}
SIM_PORT=${SIM_PORT:-8787}
REDIS_PORT=${REDIS_PORT:-6379}
mkdir -p run/logs run/redis
pids=()

say() { printf '\033[1m%s\033[0m\n' "$*"; }
cleanup() {
    trap - EXIT INT TERM
    # Newest first: the services stop before the simulator and redis-server they depend on.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    say "stopped."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A variable from the environment, else from .env (the services read .env the same way).
setting() {
    local name=$1
    if [ -n "${!name:-}" ]; then printf '%s' "${!name}"; return; fi
    [ -f .env ] || return 0
    sed -n -E "s/^(export[[:space:]]+)?${name}[[:space:]]*=[[:space:]]*//p" .env | tail -n 1 | sed -E "s/^['\"](.*)['\"]$/\1/"
}

say "building ($CONFIGURATION; the first build takes a few minutes)..."
for product in Ingest Dispatcher Replier DiscordSimulator EchoAgent; do
    swift build -c "$CONFIGURATION" --product "$product" >run/logs/build.log 2>&1 || { cat run/logs/build.log; exit 1; }
done
bin=.build/$CONFIGURATION

start() {  # start NAME [ENV=VALUE...] : runs a service in the background, logging to run/logs/NAME.log
    local name=$1; shift
    env "$@" "$bin/$name" >>"run/logs/$name.log" 2>&1 &
    pids+=($!)
}

bus_url=$(setting MUMEGA_BUS_URL)
if [ -z "$bus_url" ]; then
    bus_url="redis://127.0.0.1:$REDIS_PORT"
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
        say "using the redis-server already running on port $REDIS_PORT"
    else
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$PWD/run/redis" --appendonly yes >run/logs/redis.log 2>&1 &
        pids+=($!)
        for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
        say "started redis-server on port $REDIS_PORT (data in run/redis)"
    fi
fi
export MUMEGA_BUS_URL=$bus_url

simulated=0
if [ -z "$(setting DISCORD_BOT_TOKEN)" ]; then
    simulated=1
    say "SIMULATOR MODE: DISCORD_BOT_TOKEN is not set, so the connector talks to the project's own"
    say "Discord simulator on http://127.0.0.1:$SIM_PORT, and an echo agent answers every message."
    say "Set DISCORD_BOT_TOKEN (in the environment or .env) to connect to the real Discord."
    "$bin/DiscordSimulator" --port "$SIM_PORT" --token sim-token >>run/logs/DiscordSimulator.log 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$SIM_PORT/_sim/stats" >/dev/null 2>&1 && break; sleep 0.1; done
    export DISCORD_BOT_TOKEN=sim-token
    export DISCORD_API_BASE="http://127.0.0.1:$SIM_PORT/api/v10"
    unset DISCORD_GATEWAY_URL
    start EchoAgent
fi

"$bin/Ingest" --check >/dev/null || { "$bin/Ingest" --check; exit 2; }
start Ingest
start Dispatcher
start Replier
say "Ingest, Dispatcher and Replier are running; logs in run/logs/. Bus: $MUMEGA_BUS_URL"

if [ "$simulated" -eq 0 ]; then
    say "mention the bot in Discord; Ctrl-C stops everything."
    wait
    exit 0
fi

for _ in $(seq 100); do grep -q "guild available" run/logs/Ingest.log 2>/dev/null && break; sleep 0.1; done
general=300000000000000001
python3 scripts/sim-prompt.py "$SIM_PORT" "$general"
