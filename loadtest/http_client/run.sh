#!/bin/bash
# Outbound HTTP under load: a handler that awaits one upstream call per
# request, in `quest serve` (app.q) and in Node.js with fetch (proxy.js),
# both against the same upstream (upstream.js), measured by wrk in one run.
#
#   loadtest/http_client/run.sh [QUEST_BIN]     (default: build/quest)
#
# Both servers get one thread of JavaScript / one quest worker.  Settings:
# BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 50).  Prints one
# row per server: requests/s, mean and 99th-percentile latency, errors.
# Exits non-zero when a server fails to start or answers with errors.
set -u
# The binary is named relative to where the script was started.
quest=$(realpath "${1:-$(dirname "$0")/../../build/quest}")
cd "$(dirname "$0")" || exit 1

seconds=${BENCH_SECONDS:-5}
conns=${BENCH_CONNECTIONS:-50}
upstream_port=9101 quest_port=9102 node_port=9103
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT

for tool in wrk node; do
    if ! command -v "$tool" >/dev/null; then
        echo "outbound HTTP benchmark: no $tool (scripts/bootstrap bench); nothing ran"
        exit 0
    fi
done

# start PORT COMMAND...: run it in the background until PORT answers.
start() {
    local port=$1 i
    shift
    "$@" >/dev/null 2>&1 &
    pids+=($!)
    for ((i = 0; i < 100; i++)); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
        sleep 0.1
    done
    echo "outbound HTTP benchmark: $* did not start on port $port" >&2
    return 1
}

# measure NAME PORT: one wrk run, one table row; false on errors.
measure() {
    local out rps mean p99 errors
    curl -s -o /dev/null "http://127.0.0.1:$2/" # warm the connection pools
    out=$(wrk -t1 -c"$conns" -d"${seconds}s" --latency "http://127.0.0.1:$2/")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    mean=$(awk '/^ +Latency/ {print $2; exit}' <<<"$out")
    p99=$(awk '/^ +99%/ {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/ {sub(/^ +/, ""); printf "%s; ", $0}' <<<"$out")
    printf '%-28s %12s %10s %10s   %s\n' "$1" "$rps" "$mean" "$p99" "${errors:-none}"
    [ -z "$errors" ]
}

start $upstream_port node upstream.js $upstream_port || exit 1
export UPSTREAM=http://127.0.0.1:$upstream_port/
start $quest_port \
    "$quest" serve app.q --port $quest_port --workers 1 || exit 1
start $node_port node proxy.js $node_port "http://127.0.0.1:$upstream_port/" || exit 1

echo "outbound HTTP: one upstream call per request; wrk -c$conns for ${seconds}s"
printf '%-28s %12s %10s %10s   %s\n' server requests/s mean p99 errors
failed=0
measure "quest serve (1 worker)" $quest_port || failed=1
measure "node $(node --version) fetch" $node_port || failed=1
exit $failed
