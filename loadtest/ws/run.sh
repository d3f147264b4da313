#!/bin/bash
# WebSockets under load: `quest serve` against its peers, in one run.
#
#   loadtest/ws/run.sh [QUEST_BIN]        (default: build/quest)
#
# Servers, each one process / one worker pinned to CPU 0:
#   quest    echo.q: handle_websocket, one handler task per connection
#   node     the `ws` package (8.x, installed with npm into a cache directory)
#   aiohttp  aiohttp.web WebSocketResponse on asyncio (Debian's python3-aiohttp)
#   c-epoll  peers/ws-echo-ref.c: a minimal single-threaded epoll echo, the ceiling
#
# Echo: ws-bench-client.mjs (Node, raw RFC 6455, on CPU 1) with 64
# connections, each sending a 32-byte text message and waiting for its echo,
# for BENCH_SECONDS (10) after a separate 3 s warm-up that verifies the
# echoes.  The client is the bottleneck here (about 100k messages/s on one
# core): compare servers by their CPU time per message, the utime+stime of
# the server over the measured run divided by the messages echoed.  Before
# the run the script waits (up to BENCH_QUIET_WAIT s) for the machine to be
# idle and afterwards reports the CPU other processes used ("foreign",
# loadtest/http/guard.sh); a run with more than 5% is repeated once.
#
# Idle: a fresh server, IDLE_CONNS (10000) connections opened by
# idle-client.mjs and held; the server's RSS before and after they are open
# (2 s after, so timers have run) gives the bytes per idle connection.
#
# After each table a line sets quest against its targets: messages/s
# at least the C echo's, CPU per message under 0.6x Node's, under 16 KiB
# per idle connection.
#
# Settings: BENCH_SECONDS (10), BENCH_QUIET_WAIT (10), BENCH_WS_SERVERS (all),
# IDLE_CONNS (10000; 0 skips the idle part).  Peers that cannot run are
# skipped.  Raw output stays in a /tmp/quest-ws-bench.* directory, named at
# the end.  Exits non-zero
# when quest fails to start or the client reports errors against it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
quest=$(realpath "${1:-$here/../../build/quest}")
seconds=${BENCH_SECONDS:-10}
quiet_wait=${BENCH_QUIET_WAIT:-10}
servers=${BENCH_WS_SERVERS:-"quest node aiohttp c-epoll"}
idle_conns=${IDLE_CONNS:-10000}
port=9321
url=ws://127.0.0.1:$port/
python=/usr/bin/python3 # Debian's, where python3-aiohttp is installed
source "$here/../http/guard.sh"

for tool in node taskset curl; do
    if ! command -v "$tool" >/dev/null; then
        echo "WebSocket benchmark: no $tool; nothing ran"
        exit 0
    fi
done

work=$(mktemp -d /tmp/quest-ws-bench.XXXXXX)
declare -A echo_rate echo_cpu idle_bytes # per server, for the summary lines
server_pid=
failed=0
trap 'stop_server' EXIT

# The `ws` package for the Node peer, once per machine.
node_modules=${XDG_CACHE_HOME:-$HOME/.cache}/quest-bench/node_modules
ensure_node_ws() {
    [ -d "$node_modules/ws" ] && return 0
    mkdir -p "$(dirname "$node_modules")"
    npm install --prefix "$(dirname "$node_modules")" --no-audit --no-fund --silent ws@8 >"$work/npm.log" 2>&1
}

# available SERVER: true when SERVER can run here (building or fetching what it needs).
available() {
    case $1 in
    quest) [ -x "$quest" ] ;;
    node) ensure_node_ws ;;
    aiohttp) "$python" -c 'import aiohttp' 2>/dev/null ;;
    c-epoll) gcc -O2 -o "$work/ws-echo-ref" "$here/peers/ws-echo-ref.c" -lcrypto 2>"$work/cc.log" ;;
    esac
}

# server_command SERVER: its command line in cmd.
server_command() {
    case $1 in
    quest) cmd=(env QUEST_ACCESS_LOG=false QUEST_DRAIN_TIMEOUT=1 QUEST_MAX_CONNECTIONS=$((idle_conns + 1000))
        "$quest" serve "$here/echo.q" --host 127.0.0.1 --port "$port" --workers 1) ;;
    node) cmd=(env NODE_PATH="$node_modules" PORT="$port" node "$here/peers/ws-echo-server.js") ;;
    aiohttp) cmd=("$python" "$here/peers/aiohttp_ws_echo.py" "$port") ;;
    c-epoll) cmd=("$work/ws-echo-ref" "$port") ;;
    esac
}

# start_server LOG COMMAND...: start it on CPU 0 and wait until it accepts.
start_server() {
    local log=$1 i
    shift
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "WebSocket benchmark: port $port is already in use" >&2
        return 1
    fi
    taskset -c 0 "$@" >"$log" 2>&1 &
    server_pid=$!
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "WebSocket benchmark: $* did not start:" >&2
    sed 's/^/    /' "$log" >&2
    stop_server
    return 1
}

stop_server() {
    local i
    [ -n "$server_pid" ] || return 0
    kill -TERM "$server_pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
}

client=(taskset -c 1 node "$here/ws-bench-client.mjs" --url "$url" --conns 64 --size 32)

json_field() { # json_field FILE NAME
    grep -o "\"$2\":[0-9.]*" "$1" | head -1 | cut -d: -f2
}

# echo_run NAME: one guarded measured run; prints a result row.
echo_run() {
    local name=$1 out=$work/$1.echo try b0 b1 j0 j1 cj foreign
    local limit=$((2 * hz * (seconds + 1) * 5 / 100))
    "${client[@]}" --duration 3 --warmup 0.5 --verify >"$work/$name.warmup" 2>&1 || {
        echo "    $name: warm-up failed: $(tail -1 "$work/$name.warmup")" >&2
        return 1
    }
    for try in 1 2; do
        guard_wait_quiet "$quiet_wait" >/dev/null
        b0=$(guard_busy) j0=$(guard_jiffies "$server_pid")
        /usr/bin/time -f '%U %S' -o "$out.time" "${client[@]}" --duration "$seconds" --warmup 0.2 >"$out" 2>&1
        b1=$(guard_busy) j1=$(guard_jiffies "$server_pid")
        cj=$(awk -v hz="$hz" '{ printf "%d", ($1 + $2) * hz }' "$out.time")
        foreign=$(((b1 - b0) - (j1 - j0) - cj))
        [ "$foreign" -le "$limit" ] && break
        echo "    (try $try: other processes used $foreign jiffies; repeating)" >&2
    done
    local rate p50 p99 ccpu errors per_msg
    rate=$(json_field "$out" msgs_per_s)
    p50=$(json_field "$out" rtt_us_p50)
    p99=$(json_field "$out" rtt_us_p99)
    ccpu=$(json_field "$out" client_cpu_pct)
    errors=$(json_field "$out" errors)
    # the server also echoed during the client's 0.2 s start
    per_msg=$(awk -v j=$((j1 - j0)) -v r="${rate:-0}" -v s="$seconds" -v hz="$hz" \
        'BEGIN { if (r > 0) printf "%.2f", j * 1e6 / hz / (r * (s + 0.2)); else printf "-" }')
    echo_rate[$name]=${rate:--} echo_cpu[$name]=$per_msg
    printf '%-9s %10s %8s %8s %12s %8s%% %8s%% %8s%% %7s\n' "$name" "${rate:--}" "${p50:--}" "${p99:--}" "$per_msg" \
        "$(awk -v j=$((j1 - j0)) -v s="$seconds" -v hz="$hz" 'BEGIN { printf "%.0f", 100 * j / hz / (s + 0.2) }')" \
        "${ccpu:--}" \
        "$(awk -v f="$foreign" -v all=$((2 * hz * (seconds + 1))) 'BEGIN { printf "%.0f", 100 * f / all }')" \
        "${errors:--}"
    [ "${errors:-1}" = 0 ]
}

rss_kib() {
    awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status"
}

# idle_run NAME: RSS per idle connection; prints a result row.
idle_run() {
    local name=$1 out=$work/$1.idle r0 r1 cpid i
    "${client[@]}" --duration 1 --warmup 0.2 >/dev/null 2>&1 # every code path once
    sleep 1
    r0=$(rss_kib)
    : >"$out" # (before the client writes it: the wait below reads it)
    taskset -c 1 node "$here/idle-client.mjs" --url "$url" --conns "$idle_conns" --hold 4 >"$out" 2>&1 &
    cpid=$!
    for ((i = 0; i < 600; i++)); do
        grep -q opened "$out" && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.1
    done
    sleep 2
    r1=$(rss_kib)
    wait "$cpid"
    idle_bytes[$name]=$(awk -v a="$r0" -v b="$r1" -v n="$idle_conns" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')
    printf '%-9s %10s %10s %12s   %s\n' "$name" "$r0" "$r1" "${idle_bytes[$name]}" "$(head -1 "$out")"
}

# ratio A B: A / B to two places, or "-" when either is missing.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'
}

echo "WebSocket echo: 64 connections, 32-byte messages, 1 in flight each, ${seconds}s; server on CPU 0, client on CPU 1"
printf '%-9s %10s %8s %8s %12s %9s %9s %9s %7s\n' server msgs/s p50_us p99_us cpu_us/msg server client foreign errors
for s in $servers; do
    if ! available "$s"; then
        echo "$s: not available here, skipped"
        continue
    fi
    server_command "$s"
    if ! start_server "$work/$s.echo.log" "${cmd[@]}"; then
        [ "$s" = quest ] && failed=1
        continue
    fi
    echo_run "$s" || { [ "$s" = quest ] && failed=1; }
    stop_server
done
echo "quest against the targets: messages/s $(ratio "${echo_rate[quest]:-}" "${echo_rate[c-epoll]:-}")x the C" \
    "echo's (at least 1), CPU per message $(ratio "${echo_cpu[quest]:-}" "${echo_cpu[node]:-}")x Node's (under 0.6)"

if [ "$idle_conns" -gt 0 ]; then
    echo
    echo "Idle connections: $idle_conns held open, server RSS in KiB"
    printf '%-9s %10s %10s %12s\n' server before with_them bytes/conn
    for s in $servers; do
        available "$s" || continue
        server_command "$s"
        start_server "$work/$s.idle.log" "${cmd[@]}" || continue
        idle_run "$s"
        stop_server
    done
    echo "quest against the target: $(awk -v b="${idle_bytes[quest]:-}" 'BEGIN { if (b != "") printf "%.1f", b / 1024; else printf "-" }')" \
        "KiB per idle connection (under 16)"
fi
echo "raw output: $work"
exit "$failed"
