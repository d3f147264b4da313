#!/bin/bash
# make bench: run the benchmarks in loadtest/ and print what ran.
#
#   loadtest/run.sh [QUEST_BIN [PART...]]   (default: build/quest, every part)
#
# Parts: interp, templates, async, http_client, http, ws, db (e.g. `loadtest/run.sh
# build/quest http` runs only the inbound HTTP benchmark, loadtest/http/).
#
# Interpreter benchmarks: every loadtest/interp/NAME.q is run with quest;
# a NAME.lua or NAME.py next to it is run with lua5.4 / python3 for
# comparison.  Each program runs BENCH_RUNS times (default 3) and the best
# wall-clock time is reported.  A program that exits non-zero fails the run.
set -u
cd "$(dirname "$0")/.." || exit 1

quest=${1:-build/quest}
parts=${*:2}
parts=${parts:-interp templates async http_client http ws db}
runs=${BENCH_RUNS:-3}
failures=0
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

# best_time CMD...: the best CPU seconds (user + system) of $runs runs, or
# FAIL (with the program's stderr shown).  CPU time, not wall time: this
# machine is shared, and a busy neighbour stretches wall time but hardly
# the CPU a program itself uses.
best_time() {
    local best='' t i
    for ((i = 0; i < runs; i++)); do
        if ! /usr/bin/time -f '%U %S' -o "$errors.time" "$@" >/dev/null 2>"$errors"; then
            echo FAIL
            sed 's/^/    /' "$errors" >&2
            return
        fi
        t=$(awk '{ printf "%.3f", $1 + $2 }' "$errors.time")
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
    done
    rm -f "$errors.time"
    echo "$best"
}

# peer_time FILE INTERPRETER: time FILE if it exists, "-" if it does not.
peer_time() {
    if [ ! -e "$1" ]; then
        echo "-"
    elif ! command -v "$2" >/dev/null; then
        echo "no $2"
    else
        best_time "$2" "$1"
    fi
}

interp_benchmarks() {
    local files=(loadtest/interp/*.q) f base q lua py t
    if [ ! -e "${files[0]}" ]; then
        echo "interpreter benchmarks: none yet (loadtest/interp/*.q); nothing ran"
        return
    fi
    echo "interpreter benchmarks: $quest, best of $runs runs, CPU seconds"
    printf '%-24s %10s %10s %10s\n' benchmark quest lua5.4 python3
    for f in "${files[@]}"; do
        base=${f%.q}
        q=$(best_time "$quest" "$f")
        lua=$(peer_time "$base.lua" lua5.4)
        py=$(peer_time "$base.py" python3)
        printf '%-24s %10s %10s %10s\n' "$(basename "$base")" "$q" "$lua" "$py"
        for t in "$q" "$lua" "$py"; do
            [ "$t" != FAIL ] || failures=$((failures + 1))
        done
    done
}

# Template benchmarks: every loadtest/templates/NAME.q is run with quest and
# NAME.py, its peer, with Debian's python3 and Jinja2 (python3-jinja2).
template_benchmarks() {
    local files=(loadtest/templates/*.q) f base q py t
    [ -e "${files[0]}" ] || return
    echo "template benchmarks: best of $runs runs, seconds"
    printf '%-24s %10s %10s\n' benchmark quest jinja2
    for f in "${files[@]}"; do
        base=${f%.q}
        q=$(best_time "$quest" "$f")
        if /usr/bin/python3 -c 'import jinja2' 2>/dev/null; then
            py=$(best_time /usr/bin/python3 "$base.py")
        else
            py="no jinja2"
        fi
        printf '%-24s %10s %10s\n' "$(basename "$base")" "$q" "$py"
        for t in "$q" "$py"; do
            [ "$t" != FAIL ] || failures=$((failures + 1))
        done
    done
}

# wanted PART: true when PART is to run.
wanted() { [[ " $parts " == *" $1 "* ]]; }

wanted interp && interp_benchmarks
wanted templates && template_benchmarks
# Outbound HTTP (std/http/client) under wrk, against Node.js fetch.
if wanted http_client; then
    loadtest/http_client/run.sh "$quest" || failures=$((failures + 1))
fi
# The async runtime against Python asyncio and Node.js.
if wanted async; then
    loadtest/async/run.sh "$quest" || failures=$((failures + 1))
fi
# Inbound HTTP (quest serve) under wrk and ab, against h2o, nginx, Node, aiohttp.
if wanted http; then
    loadtest/http/run.sh "$quest" || failures=$((failures + 1))
fi
# WebSockets (quest serve) against Node ws, aiohttp and a C epoll echo.
if wanted ws; then
    loadtest/ws/run.sh "$quest" || failures=$((failures + 1))
fi
# Databases (std/db pools under quest serve) against Node.js and aiohttp.
if wanted db; then
    loadtest/db/run.sh "$quest" || failures=$((failures + 1))
fi
if [ "$failures" -gt 0 ]; then
    echo "loadtest: $failures program(s) failed"
    exit 1
fi
