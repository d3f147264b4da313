#!/bin/bash
# The async runtime against Python asyncio and Node.js, in one run: every
# row is the same program in Quest (NAME.q), Python (NAME.py, the python3
# on PATH) and Node.js (NAME.mjs).
#
#   loadtest/async/run.sh [QUEST_BIN]        (default: build/quest)
#
# Rows and how each is measured (BENCH_RUNS, default 3, runs each and the
# best counts).  The machine is shared, so work is measured in CPU time
# (user + system, /usr/bin/time) of the whole process, with the CPU time of
# the same program doing nothing (N = 0: start-up and exit) subtracted:
#   spawn+await        µs per task: 1M trivial tasks, one at a time (seq) and
#                      all started first, then awaited (batch)
#   ping-pong          messages per second between two tasks over two
#                      channels of capacity 1, 1M messages
#   async overhead     200k awaited calls of an async function doing real work
#                      against the same calls made synchronously: percent more
#   N × sleep(1 s)     peak RSS (/usr/bin/time %M), wall time and CPU time,
#                      100k and 1M tasks sleeping at once; one run each
#                      (Python needs ~20 s and 1.6 GB for 1M)
# A program that fails prints FAIL and makes the script exit non-zero.
set -u
# The binary is named relative to where the script was started.
quest=$(realpath "${1:-$(dirname "$0")/../../build/quest}")
cd "$(dirname "$0")" || exit 1

runs=${BENCH_RUNS:-3}
failed=0
errors=$(mktemp)
trap 'rm -f "$errors" "$errors.time"' EXIT

# The three commands for a program NAME.
cmd_quest() { echo "$quest $1.q"; }
cmd_python() { echo "python3 $1.py"; }
cmd_node() { echo "node $1.mjs"; }

# cpu CMD...: the best CPU seconds (user + system) of $runs runs.
cpu() {
    local b='' t i
    for ((i = 0; i < runs; i++)); do
        if ! /usr/bin/time -f '%U %S' -o "$errors.time" "$@" >/dev/null 2>"$errors"; then
            echo FAIL
            sed 's/^/    /' "$errors" >&2
            return
        fi
        t=$(awk '{ print $1 + $2 }' "$errors.time")
        if [ -z "$b" ] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then b=$t; fi
    done
    echo "$b"
}

# rss_wall CMD...: "peak-RSS-MiB wall-seconds CPU-seconds" of one run.
rss_wall() {
    if ! /usr/bin/time -f '%M %e %U %S' -o "$errors.time" "$@" >/dev/null 2>"$errors"; then
        echo "FAIL FAIL FAIL"
        sed 's/^/    /' "$errors" >&2
        return
    fi
    awk '{ printf "%.0f %.2f %.2f\n", $1 / 1024, $2, $3 + $4 }' "$errors.time"
}

# net CMD... N: CPU seconds of CMD N less those of CMD 0.
net() {
    local n=${*: -1} base full
    base=$(cpu "${@:1:$#-1}" 0)
    full=$(cpu "$@")
    case "$base $full" in *FAIL*) echo FAIL; return ;; esac
    awk -v z="$base" -v f="$full" 'BEGIN { print f - z }'
}

# per_task CMD...: µs of CPU per task for 1M tasks.
per_task() {
    local t
    t=$(net "$@" 1000000)
    [ "$t" = FAIL ] && { echo FAIL; return; }
    awk -v t="$t" 'BEGIN { printf "%.3f\n", t * 1e6 / 1000000 }'
}

# rate CMD...: messages per CPU second for 1M messages.
rate() {
    local t
    t=$(net "$@" 1000000)
    [ "$t" = FAIL ] && { echo FAIL; return; }
    awk -v t="$t" 'BEGIN { printf "%.0f\n", 1e6 / t }'
}

# overhead CMD...: percent more CPU for the async calls than the sync ones.
overhead() {
    local sync async
    sync=$(net "$@" sync 200000)
    async=$(net "$@" async 200000)
    case "$sync $async" in *FAIL*) echo FAIL; return ;; esac
    awk -v s="$sync" -v a="$async" 'BEGIN { printf "%.1f\n", (a - s) * 100 / s }'
}

row() {
    printf '%-36s %12s %12s %12s\n' "$@"
    case "$*" in *FAIL*) failed=1 ;; esac
}

for tool in python3 node; do
    if ! command -v "$tool" >/dev/null; then
        echo "async benchmarks: no $tool; nothing ran"
        exit 0
    fi
done

echo "async benchmarks: $quest vs python3 $(python3 -c 'import sys; print(sys.version.split()[0])') asyncio vs node $(node --version)"
row benchmark quest python3 node
for mode in seq batch; do
    cells=()
    for lang in quest python node; do
        cells+=("$(per_task $(cmd_$lang spawn_await) $mode)")
    done
    row "spawn+await 1M, $mode (µs/task)" "${cells[@]}"
done
cells=()
for lang in quest python node; do
    cells+=("$(rate $(cmd_$lang pingpong))")
done
row "ping-pong 1M messages (msg/s)" "${cells[@]}"
cells=()
for lang in quest python node; do
    cells+=("$(overhead $(cmd_$lang overhead))")
done
row "async overhead vs sync calls (%)" "${cells[@]}"
for n in 100000 1000000; do
    rss=() wall=() cpus=()
    for lang in quest python node; do
        read -r r w c < <(rss_wall $(cmd_$lang sleep) $n)
        rss+=("$r") wall+=("$w") cpus+=("$c")
    done
    row "$((n / 1000))k × sleep 1 s: peak RSS (MiB)" "${rss[@]}"
    row "$((n / 1000))k × sleep 1 s: wall (s)" "${wall[@]}"
    row "$((n / 1000))k × sleep 1 s: CPU (s)" "${cpus[@]}"
done
exit $failed
