#!/bin/bash
# examples/chat in a real browser: serve it with two workers, open two pages
# in headless Chromium (tests/e2e/chat_browser.py drives them over the
# DevTools protocol), type a line in one and see it appear in the other.
# Needs chromium and python3-websockets (scripts/bootstrap installs both).
# CHAT_SCREENSHOT=FILE.png keeps a screenshot of the second page.
set -u
quest=$1
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
py=/usr/bin/python3
tmp=$(mktemp -d)
pid=
bpid=
# stop PID: SIGTERM (Chromium then ends its own helper processes), SIGKILL
# after 5 s.
stop() {
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
cleanup() {
    [ -n "$bpid" ] && stop "$bpid"
    [ -n "$pid" ] && stop "$pid"
    rm -rf "$tmp" 2>/dev/null || { sleep 1; rm -rf "$tmp"; }
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -f "$tmp/err" ] && sed 's/^/  server stderr: /' "$tmp/err" | tail -20 >&2
    exit 1
}

command -v chromium >/dev/null || fail "chromium is not installed (scripts/bootstrap)"
"$py" -c 'import websockets' 2>/dev/null || fail "python3-websockets is not installed (scripts/bootstrap)"

for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    # (the drain would wait for the browser's idle keep-alive connections)
    QUEST_DRAIN_TIMEOUT=1 "$quest" serve --port "$port" --workers 2 examples/chat/app.q >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break 2
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
done
[ -n "$pid" ] || fail "the chat server did not start"

# Chromium as the environment docs run it: no sandbox (root), no network
# chatter, a fresh profile; DevTools on a port it picks and writes down.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/profile" --remote-debugging-port=0 about:blank >"$tmp/chromium.log" 2>&1 &
bpid=$!
for _ in $(seq 100); do
    [ -s "$tmp/profile/DevToolsActivePort" ] && break
    sleep 0.1
done
devtools=$(head -1 "$tmp/profile/DevToolsActivePort" 2>/dev/null)
[ -n "$devtools" ] || fail "Chromium did not start: $(tail -5 "$tmp/chromium.log")"

"$py" tests/e2e/chat_browser.py "$devtools" "http://127.0.0.1:$port" "${CHAT_SCREENSHOT:-}" ||
    fail "the message did not travel between the pages"
grep -q "Sanitizer" "$tmp/err" && fail "sanitizer report"
kill -TERM "$pid"
wait "$pid" || fail "the chat server exited non-zero"
pid=
echo ok
