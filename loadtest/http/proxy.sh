#!/bin/bash
# `quest serve` behind nginx on the same cores, with each listener mode.
#
#   loadtest/http/proxy.sh [QUEST_BIN]        (default: build/quest)
#
# quest (json.q, two workers) and nginx (upstream keep-alive) both run on
# CPUs 0-1; wrk -t1 -c64 on CPU 1 talks to nginx.  For each nginx worker
# count in BENCH_PROXY_WORKERS ("1 2") and each of BENCH_PROXY_RUNS (3)
# rounds, both listener modes (`reuseport`, `shared`) run in turn: start
# quest and nginx, warm up 2 s, wrk for BENCH_SECONDS (8), stop both by PID.
# Prints req/s and p99 per run.  The deployment docs/deploy.md describes
# ("Workers and the listening socket"); docs/performance.md has figures.
set -u
here=$(cd "$(dirname "$0")" && pwd)
quest=$(realpath "${1:-$here/../../build/quest}")
seconds=${BENCH_SECONDS:-8}
runs=${BENCH_PROXY_RUNS:-3}
proxy_workers=${BENCH_PROXY_WORKERS:-"1 2"}
port=9321 upstream=9322

for tool in wrk nginx taskset curl; do
    if ! command -v "$tool" >/dev/null; then
        echo "proxy benchmark: no $tool (scripts/bootstrap bench); nothing ran"
        exit 0
    fi
done

work=$(mktemp -d /tmp/quest-proxy-bench.XXXXXX)
quest_pid='' nginx_pid=''
stop_all() {
    local p
    for p in $nginx_pid $quest_pid; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    quest_pid='' nginx_pid=''
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# wait_for URL PID: until URL answers; false if PID died or 10 s passed.
wait_for() {
    local i
    for ((i = 0; i < 100; i++)); do
        curl -sf -o /dev/null "$1" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

echo "proxy benchmark: raw output in $work" >&2
status=0
for nw in $proxy_workers; do
    conf=$work/nginx-$nw.conf
    sed -e "s|@PORT@|$port|g" -e "s|@UPSTREAM@|$upstream|g" -e "s|@WORKERS@|$nw|g" \
        -e "s|@DIR@|$work|g" "$here/peers/nginx-proxy.conf" >"$conf"
    for ((r = 1; r <= runs; r++)); do
        for mode in reuseport shared; do
            QUEST_ACCESS_LOG=false QUEST_LISTENER=$mode taskset -c 0-1 "$quest" serve \
                "$here/json.q" --port "$upstream" --workers 2 >"$work/quest.log" 2>&1 &
            quest_pid=$!
            taskset -c 0-1 nginx -p "$work" -e "$work/nginx.err" -c "$conf" &
            nginx_pid=$!
            if ! wait_for "http://127.0.0.1:$upstream/" "$quest_pid" ||
                ! wait_for "http://127.0.0.1:$port/" "$nginx_pid"; then
                echo "proxy benchmark: a server did not start; see $work" >&2
                status=1
                break 3
            fi
            taskset -c 1 wrk -t1 -c64 -d2s "http://127.0.0.1:$port/" >/dev/null 2>&1
            out=$work/wrk-$nw-$r-$mode.txt
            taskset -c 1 wrk -t1 -c64 -d"${seconds}s" --latency "http://127.0.0.1:$port/" >"$out" 2>&1
            printf 'nginx workers %s  round %s  %-9s  %8.0f req/s  p99 %s  %s\n' "$nw" "$r" "$mode" \
                "$(awk '/^Requests\/sec/ { print $2 }' "$out")" "$(awk '$1 == "99%" { print $2 }' "$out")" \
                "$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | tr '\n' ' ')"
            stop_all
        done
    done
done
exit $status
