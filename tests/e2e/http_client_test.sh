#!/bin/bash
# std/http/client inside quest serve: handlers of tests/e2e/apps/http_client.q
# await calls back into the same one-worker server — a proxied request,
# twenty concurrent 200 ms calls that must overlap, and a sync call that
# must fail with a clear message instead of blocking the loop.  Run by
# tests/e2e/run.sh.
set -u
quest=$1
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    sed 's/^/  server stderr: /' "$tmp/err" >&2
    exit 1
}

for attempt in 1 2 3 4 5; do
    export PORT=$((20000 + RANDOM % 20000))
    "$quest" serve tests/e2e/apps/http_client.q --port "$PORT" --workers 1 >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/hello" && break 2
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
done
[ -n "$pid" ] || fail "server did not start"
url=http://127.0.0.1:$PORT

body=$(curl -s "$url/proxy")
[ "$body" = '{"body":"hello via proxy","status":200}' ] || fail "proxy: $body"

body=$(curl -s "$url/fanout")
ok=$(python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["ok"], d["ms"])' "$body") ||
    fail "fanout: $body"
set -- $ok
[ "$1" = 20 ] || fail "fanout: $body"
# Serially it would take 4 s; sanitizer builds are slower, hence the margin.
[ "$2" -lt 1500 ] || fail "fanout did not overlap: $body"

code=$(curl -s -o /dev/null -w '%{http_code}' "$url/sync")
[ "$code" = 500 ] || fail "sync call: status $code"
grep -q "sync code cannot wait for a response inside the event loop; call it from an async fun and await it" \
    "$tmp/err" || fail "sync call: no clear error in the log"

# The worker still serves after all that.
body=$(curl -s "$url/hello")
[ "$body" = "hello via nobody" ] || fail "after: $body"

kill -TERM "$pid"
wait "$pid"
status=$?
pid=
grep -q Sanitizer "$tmp/err" && fail "sanitizer report"
[ "$status" = 0 ] || fail "exit status $status"
exit 0
