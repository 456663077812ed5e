#!/usr/bin/env bash
# Builds the parser fuzz harness with `swiftc -sanitize=fuzzer,address` (no SwiftPM) and runs
# libFuzzer over it. See docs/FUZZING.md.
#
#   Fuzz/run.sh [runs] [extra libFuzzer flags...]     default: 1000000 runs
#
# Replay one saved input (after a build):
#   SWIFT_BACKTRACE=enable=no Fuzz/build/fuzz-parsers Fuzz/build/artifacts/crash-...
#
# Environment: SWIFTC (default: swiftc on PATH, else /opt/swift/usr/bin/swiftc),
# SANITIZERS (default fuzzer,address), FUZZ_TIMEOUT (seconds per input, default 25),
# FUZZ_MAX_LEN (default 4096), FUZZ_KNOWN_ISSUES (comma-separated names of known, reported
# bugs the harness steps around so a run can look for others; see docs/FUZZING.md).
#
# Exits 0 when libFuzzer finished every run without a crash, timeout, out-of-memory or broken
# invariant; else non-zero (libFuzzer's code), with the input in Fuzz/build/artifacts/ and the
# stack in Fuzz/build/last-run.log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$here/build"
runs="${1:-1000000}"
shift || true

swiftc="${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}"
sanitizers="${SANITIZERS:-fuzzer,address}"
timeout="${FUZZ_TIMEOUT:-25}"
max_len="${FUZZ_MAX_LEN:-4096}"

# The pure parsers of Sources/Shared, compiled as they are. Files importing Logging, NIO,
# CHiredis or CCurl stay out; Crypto and RedisClient are replaced by the shims in Fuzz/Shims.
shared="$root/Sources/Shared"
sources=(
    "$shared/Discord/Gateway/GatewayFrame.swift"
    "$shared/Discord/Gateway/GatewayOpcode.swift"
    "$shared/Discord/Gateway/GatewaySession.swift"
    "$shared/Discord/Gateway/GatewayCloseCode.swift"
    "$shared/Discord/Models/DiscordMessage.swift"
    "$shared/Discord/Models/DiscordUser.swift"
    "$shared/Discord/Models/DiscordChannel.swift"
    "$shared/Discord/Models/ChannelCatalog.swift"
    "$shared/Discord/REST/RateLimitInfo.swift"
    "$shared/Bus/StreamRecord.swift"
    "$shared/Bus/InboundMessage.swift"
    "$shared/Bus/ReplyRecord.swift"
    "$shared/Bus/AgentInboxRecord.swift"
    "$shared/Bus/PendingContext.swift"
    "$shared/Bus/BusKeys.swift"
    "$shared/Reply/ReplyTokens.swift"
    "$shared/Reply/ReplySplitter.swift"
    "$shared/Reply/ReplyResolution.swift"
    "$shared/Reply/CtxSigner.swift"
    "$shared/Support/Hex.swift"
    "$shared/Support/JSON.swift"
    "$shared/Support/Redaction.swift"
    "$shared/Config/DotEnv.swift"
    "$shared/Config/ConfigError.swift"
    "$shared/Redis/RedisURL.swift"
    "$shared/Redis/RedisValue.swift"
    "$shared/Redis/StreamEntry.swift"
    "$shared/Routing/AgentRouter.swift"
    "$here/Shims/RedisClient.swift"
    "$here/Harness/Entry.swift"
    "$here/Harness/Targets.swift"
)
# The package's language settings (Package.swift).
flags=(-swift-version 6 -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility -parse-as-library -O -g)

mkdir -p "$build/shim" "$build/corpus" "$build/artifacts"
echo "== building $build/fuzz-parsers with $("$swiftc" --version 2>&1 | head -1)"
# The Crypto shim is its own module (the sources say `import Crypto`); it is not instrumented.
"$swiftc" "${flags[@]}" -module-name Crypto -emit-library -static \
    -emit-module -emit-module-path "$build/shim/Crypto.swiftmodule" \
    -o "$build/shim/libCrypto.a" "$here/Shims/Crypto.swift"
# ld.gold warns "Cannot export local symbol '__asan_...'" for every ASan helper: harmless, hidden.
"$swiftc" "${flags[@]}" -module-name FuzzShared -sanitize="$sanitizers" \
    -I "$build/shim" -L "$build/shim" -lCrypto \
    -o "$build/fuzz-parsers" "${sources[@]}" 2>&1 | { grep -v "Cannot export local symbol '__asan" || true; }
test -x "$build/fuzz-parsers"

# Swift's own crash reporter would sit on libFuzzer's deadly-signal handling: off.
export SWIFT_BACKTRACE=enable=no
# Swift's runtime and Foundation keep caches alive for the process: not leaks per input.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"

log="$build/last-run.log"
echo "== running: fuzz-parsers -runs=$runs -max_len=$max_len -timeout=$timeout (log: $log)"
status=0
# New inputs go to build/corpus (the first directory); Fuzz/corpus holds the seeds.
(cd "$build" && ./fuzz-parsers -runs="$runs" -max_len="$max_len" -timeout="$timeout" -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/" "$@" \
    "$build/corpus" "$here/corpus") > "$log" 2>&1 || status=$?

grep -E "^(INFO: (Seed|Running with|Loaded|-max_len)|#[0-9]+[[:space:]]+(INITED|DONE)|Done [0-9]+ runs|stat::)" "$log" | tail -40 || true
if [ "$status" -ne 0 ]; then
    echo "== FAILED (libFuzzer exit $status): stack and input below, full log in $log"
    grep -B2 -A60 -E "(ERROR: libFuzzer|ERROR: AddressSanitizer|Fatal error|fuzz invariant broken|ALARM)" "$log" | head -120 || tail -80 "$log"
    exit "$status"
fi
echo "== OK: no crash, timeout or broken invariant"
