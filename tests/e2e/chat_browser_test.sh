#!/bin/bash
# examples/chat in a real browser: serve it with two workers, open two pages
# in headless Chromium (tests/e2e/chat_browser.py drives them over the
# DevTools protocol), type a line in one and see it appear in the other.
# Needs chromium and python3-websockets (scripts/bootstrap installs both).
# CHAT_SCREENSHOT=FILE.png keeps a screenshot of the second page.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
bpid=
# Chromium: SIGTERM (it then ends its own helper processes), SIGKILL after
# 5 s; its profile may still be written to just after.
e2e_on_exit() {
    [ -n "$bpid" ] || return 0
    kill -TERM "$bpid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$bpid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$bpid" 2>/dev/null
    wait "$bpid" 2>/dev/null
    rm -rf "$tmp/profile" 2>/dev/null || { sleep 1; rm -rf "$tmp/profile"; }
}

command -v chromium >/dev/null || fail "chromium is not installed (scripts/bootstrap)"
"$py" -c 'import websockets' 2>/dev/null || fail "python3-websockets is not installed (scripts/bootstrap)"

# (the drain would wait for the browser's idle keep-alive connections)
QUEST_DRAIN_TIMEOUT=1 serve_start --workers 2 examples/chat/app.q

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
serve_stop || fail "the chat server exited with $?"
echo ok
