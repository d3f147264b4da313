#!/bin/bash
# WebSockets end to end: serve tests/e2e/apps/ws.q on 127.0.0.1 with two
# workers and drive it with a real client (Debian's python3-websockets, via
# tests/e2e/ws_checks.py): echo, fragments, limits and close codes both
# ways, subprotocols and origins, async.select, pub/sub across workers,
# slow handlers and slow readers (with the server's RSS watched), clients
# that vanish, pings, the idle timeout, and 1001 on SIGTERM.  Run by
# tests/e2e/run.sh; under an ASan build it checks the server's stderr.
set -u
quest=$1
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
app=tests/e2e/apps/ws.q
py=/usr/bin/python3 # Debian's, where python3-websockets is
tmp=$(mktemp -d)
pid=
cpid=
cleanup() {
    [ -n "$cpid" ] && kill -9 "$cpid" 2>/dev/null
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -f "$tmp/err" ] && sed 's/^/  server stderr: /' "$tmp/err" | tail -40 >&2
    exit 1
}

if ! "$py" -c 'import websockets' 2>/dev/null; then
    echo "ws_test: needs python3-websockets (scripts/bootstrap installs it)" >&2
    exit 1
fi

# start ARGS...: serve $app on a free port; sets $pid and $port.
start() {
    for attempt in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        "$quest" serve --port "$port" --workers 2 "$@" "$app" >"$tmp/out" 2>"$tmp/err" &
        pid=$!
        for _ in $(seq 100); do
            if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    fail "server did not start"
}

# stop: SIGTERM, then the exit status (99: a sanitizer complained).
stop() {
    kill -TERM "$pid"
    wait "$pid"
    local status=$?
    pid=
    if grep -q "Sanitizer" "$tmp/err"; then
        sed 's/^/  server stderr: /' "$tmp/err" >&2
        return 99
    fi
    return $status
}

checks() {
    "$py" tests/e2e/ws_checks.py "$port" "$@" || fail "checks $*"
}

rss_kib() {
    awk '/^VmRSS/ {print $2}' "/proc/$pid/status"
}

export QUEST_WS_MAX_MESSAGE_SIZE=100000 QUEST_WS_MAX_RECV_QUEUE=16 QUEST_WS_MAX_SEND_QUEUE=1000000
export QUEST_WS_PING_INTERVAL=0.3
start

checks echo fragmented oversize close_codes handshake select pubsub slow_handler slow_reader
grep -q "echo closed with 4001" "$tmp/out" || fail "the handler did not see the client's close code 4001"
grep -q "bye: recv after close gave nil: true" "$tmp/out" || fail "recv() after the close handshake is not nil"
grep -q "ValueErr: handler failed on purpose" "$tmp/err" || fail "a failing handler was not logged"
grep -q "flood stopped after .* open: false" "$tmp/out" || fail "the flood handler did not see its reader cut off"

# Slow readers must not grow the server: three rounds of 20, RSS after each.
checks slow_readers
first=$(rss_kib)
checks slow_readers
checks slow_readers
last=$(rss_kib)
# (ASan's quarantine holds freed memory on purpose: no RSS check there.)
if ! ldd "$quest" 2>/dev/null | grep -q libasan; then
    [ "$last" -le $((first + 16384)) ] || fail "RSS grew with slow readers: ${first} KiB -> ${last} KiB"
fi

checks abrupt no_pong pong
kill -0 "$pid" 2>/dev/null || fail "the server died"

# SIGTERM: open WebSockets are closed with 1001, then the server exits 0.
"$py" tests/e2e/ws_checks.py "$port" shutdown >"$tmp/client" 2>&1 &
cpid=$!
for _ in $(seq 50); do
    grep -q connected "$tmp/client" && break
    sleep 0.1
done
stop || fail "server exited non-zero after SIGTERM"
wait "$cpid"
cpid=
grep -q "closed 1001 server shutting down" "$tmp/client" || fail "shutdown close: $(cat "$tmp/client")"

# The idle timeout (pings do not count as messages).
QUEST_WS_IDLE_TIMEOUT=0.5 start
checks idle
stop || fail "idle server exited non-zero"
echo "ok (RSS with slow readers: ${first} KiB -> ${last} KiB)"
