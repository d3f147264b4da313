#!/bin/bash
# Databases under load: quest serve endpoints that run one indexed SELECT of
# a random row and answer it as JSON, against Node.js and Python aiohttp
# doing the same, in one run.
#
#   loadtest/db/run.sh [QUEST_BIN]          (default: build/quest)
#
#   endpoint   quest                      node                        aiohttp
#   postgres   postgres.q: pool of 10          pg (npm): Pool of 10        asyncpg: pool of 10
#   sqlite     sqlite.q: thread pool (4)  node:sqlite / better-sqlite3  aiosqlite
#   hello      ../http/hello.q            (the rate postgres is measured against)
#
# Each server is one process with one worker, on 127.0.0.1:$port; after a
# 2 s warm-up, `wrk -t1 -c64 -d${BENCH_SECONDS}s` measures it.  PostgreSQL is
# the test cluster (scripts/pg-test-cluster, started and stopped here when
# not already up); seed.q fills both databases with 10,000 rows.  Node's
# modules are installed with npm into a cache directory (BENCH_NPM_CACHE);
# Python's come from Debian (python3-aiohttp, python3-asyncpg,
# python3-aiosqlite: scripts/bootstrap bench).  Peers that are missing are
# skipped.  BENCH_SECONDS (10) sets the length of a run, BENCH_DB_ENDPOINTS
# ("hello postgres sqlite") what runs.  Exits non-zero when a quest endpoint
# fails or answers errors.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
quest=$(realpath "${1:-$root/build/quest}")
seconds=${BENCH_SECONDS:-10}
endpoints=${BENCH_DB_ENDPOINTS:-"hello postgres sqlite"}
port=9341
python=/usr/bin/python3 # Debian's, where the aiohttp and database modules are
npm_cache=${BENCH_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quest-bench/node-db}
pg_url=postgresql://quest:quest_password@127.0.0.1:6432/quest_test

if ! command -v wrk >/dev/null || ! command -v curl >/dev/null; then
    echo "database benchmark: no wrk or curl (scripts/bootstrap bench); nothing ran"
    exit 0
fi

work=$(mktemp -d /tmp/quest-db-bench.XXXXXX)
server_pid=
started_pg=0
failed=0

# stop_server: TERM the server's process group; KILL it after 5 s.
stop_server() {
    local i
    [ -n "$server_pid" ] || return 0
    kill -TERM -- "-$server_pid" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
}

cleanup() {
    stop_server
    [ "$started_pg" = 1 ] && "$root/scripts/pg-test-cluster" stop
    rm -rf "$work"
}
trap cleanup EXIT

if ! "$root/scripts/pg-test-cluster" status; then
    "$root/scripts/pg-test-cluster" start >/dev/null || {
        echo "database benchmark: no PostgreSQL (scripts/pg-test-cluster); nothing ran"
        exit 0
    }
    started_pg=1
fi
"$quest" "$here/seed.q" "$work/bench.db" "$pg_url" || exit 1

# Node's drivers, once per cache directory.
node_ok=0 node_sqlite=0
if command -v node >/dev/null && command -v npm >/dev/null; then
    mkdir -p "$npm_cache"
    [ -d "$npm_cache/node_modules/pg" ] ||
        npm install --prefix "$npm_cache" --no-audit --no-fund --silent pg@8 >/dev/null 2>&1
    [ -d "$npm_cache/node_modules/pg" ] && node_ok=1
    if node -e 'require("node:sqlite")' 2>/dev/null; then
        node_sqlite=1
    else
        [ -d "$npm_cache/node_modules/better-sqlite3" ] ||
            npm install --prefix "$npm_cache" --no-audit --no-fund --silent better-sqlite3@11 >/dev/null 2>&1
        NODE_PATH=$npm_cache/node_modules node -e 'require("better-sqlite3")' 2>/dev/null && node_sqlite=1
    fi
fi
has_py() { "$python" -c "import aiohttp, $1" 2>/dev/null; }

# command_for SERVER ENDPOINT: sets cmd (empty when the peer is missing).
command_for() {
    cmd=()
    case $1/$2 in
    quest/hello) cmd=("$quest" serve "$root/loadtest/http/hello.q") ;;
    quest/*) cmd=("$quest" serve "$here/$2.q") ;;
    node/postgres) [ $node_ok = 1 ] && cmd=(node "$here/peers/node_db.js" "$port" pg "$pg_url") ;;
    node/sqlite) [ $node_sqlite = 1 ] && cmd=(node "$here/peers/node_db.js" "$port" sqlite "$work/bench.db") ;;
    aiohttp/postgres) has_py asyncpg && cmd=("$python" "$here/peers/aiohttp_db.py" "$port" pg "$pg_url") ;;
    aiohttp/sqlite) has_py aiosqlite && cmd=("$python" "$here/peers/aiohttp_db.py" "$port" sqlite "$work/bench.db") ;;
    esac
    if [ "$1" = quest ]; then
        cmd=(env QUEST_ACCESS_LOG=false QUEST_DRAIN_TIMEOUT=1 BENCH_PG_URL="$pg_url"
            BENCH_SQLITE_PATH="$work/bench.db" "${cmd[@]}" --host 127.0.0.1 --port "$port" --workers 1)
    fi
    return 0
}

# measure SERVER ENDPOINT: requests per second, "-" (peer missing) or FAIL.
measure() {
    local log=$work/$1-$2 i rate
    command_for "$1" "$2"
    if [ ${#cmd[@]} -eq 0 ]; then
        echo "-"
        return
    fi
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        echo "database benchmark: port $port is already in use" >&2
        echo FAIL
        return
    fi
    NODE_PATH=$npm_cache/node_modules setsid "${cmd[@]}" >"$log.out" 2>&1 &
    server_pid=$!
    for i in $(seq 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
    if ! curl -sf -o "$log.sample" "http://127.0.0.1:$port/"; then
        stop_server
        echo FAIL
        sed 's/^/    /' "$log.out" >&2
        return
    fi
    wrk -t1 -c64 -d2s "http://127.0.0.1:$port/" >/dev/null 2>&1
    wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$port/" >"$log.wrk" 2>&1
    stop_server
    if grep -q 'Non-2xx\|Socket errors' "$log.wrk"; then
        echo FAIL
        sed 's/^/    /' "$log.wrk" >&2
        return
    fi
    rate=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$log.wrk")
    echo "${rate:-FAIL}"
}

echo "database benchmark: wrk -t1 -c64 -d${seconds}s, one worker each, requests/s"
printf '%-10s %10s %10s %10s\n' endpoint quest node aiohttp
declare -A rate
for endpoint in $endpoints; do
    servers="quest node aiohttp"
    [ "$endpoint" = hello ] && servers=quest
    row=()
    for server in quest node aiohttp; do
        r="-"
        [[ " $servers " == *" $server "* ]] && r=$(measure "$server" "$endpoint")
        rate[$server/$endpoint]=$r
        row+=("$r")
        if [ "$server" = quest ] && [ "$r" = FAIL ]; then failed=1; fi
    done
    printf '%-10s %10s %10s %10s\n' "$endpoint" "${row[@]}"
done

q_pg=${rate[quest/postgres]:-} q_hello=${rate[quest/hello]:-}
if [[ $q_pg =~ ^[0-9]+$ && $q_hello =~ ^[0-9]+$ ]]; then
    echo "postgres endpoint: $((100 * q_pg / q_hello))% of quest's hello-world rate (target: at least 50%)"
fi
for endpoint in postgres sqlite; do
    q=${rate[quest/$endpoint]:-}
    for peer in node aiohttp; do
        p=${rate[$peer/$endpoint]:-}
        if [[ $q =~ ^[0-9]+$ && $p =~ ^[0-9]+$ ]]; then
            echo "$endpoint: quest / $peer = $(awk -v a="$q" -v b="$p" 'BEGIN { printf "%.2f", a / b }')"
        fi
    done
done
exit $failed
