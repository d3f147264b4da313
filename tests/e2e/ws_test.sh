#!/bin/bash
# WebSockets end to end: serve tests/e2e/apps/ws.q on 127.0.0.1 with two
# workers and drive it with a real client (Debian's python3-websockets, via
# tests/e2e/ws_checks.py): echo, fragments, raw frames (batched, split,
# control frames among fragments, protocol errors), limits and close codes
# both ways, subprotocols and origins, route patterns, async.select,
# pub/sub across workers, slow handlers and slow readers (with the
# server's RSS watched), clients that vanish, pings, the idle timeout, and
# 1001 on SIGTERM.  Run by tests/e2e/run.sh; under an ASan build it checks
# the server's stderr.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"
app=tests/e2e/apps/ws.q
py=/usr/bin/python3 # Debian's, where python3-websockets is
cpid=
e2e_on_exit() {
    [ -n "$cpid" ] && kill -9 "$cpid" 2>/dev/null
}

if ! "$py" -c 'import websockets' 2>/dev/null; then
    echo "ws_test: needs python3-websockets (scripts/bootstrap installs it)" >&2
    exit 1
fi

checks() {
    "$py" tests/e2e/ws_checks.py "$port" "$@" || fail "checks $*"
}

rss_kib() {
    awk '/^VmRSS/ {print $2}' "/proc/$pid/status"
}

export QUEST_WS_MAX_MESSAGE_SIZE=100000 QUEST_WS_MAX_RECV_QUEUE=16 QUEST_WS_MAX_SEND_QUEUE=1000000
export QUEST_WS_PING_INTERVAL=0.3
serve_start --workers 2 "$app"

checks echo last_chars fragmented raw_frames oversize close_codes handshake patterns select pubsub slow_handler slow_reader
grep -q "echo closed with 4001" "$tmp/out" || fail "the handler did not see the client's close code 4001"
grep -q "bye: recv after close gave nil: true" "$tmp/out" || fail "recv() after the close handshake is not nil"
grep -q "ValueErr: handler failed on purpose" "$tmp/err" || fail "a failing handler was not logged"
grep -q "flood stopped after .* open: false" "$tmp/out" || fail "the flood handler did not see its reader cut off"

# Slow readers must not grow the server: rounds of 20.  The baseline is
# taken after two rounds: the first rounds raise the allocator's high-water
# mark (each slow reader may hold up to the send-queue bound), later rounds
# must stay under it.
checks slow_readers
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
serve_stop || fail "server exited non-zero after SIGTERM"
wait "$cpid"
cpid=
grep -q "closed 1001 server shutting down" "$tmp/client" || fail "shutdown close: $(cat "$tmp/client")"

# The idle timeout (pings do not count as messages).
QUEST_WS_IDLE_TIMEOUT=0.5 serve_start --workers 2 "$app"
checks idle
serve_stop || fail "idle server exited non-zero"
echo "ok (RSS with slow readers: ${first} KiB -> ${last} KiB)"
